package report

import (
	"fmt"
	"slices"
	"strings"

	"github.com/mlbench/mlbench/bench"
	"github.com/mlbench/mlbench/models/arch"
	"github.com/mlbench/mlbench/stats"
)

// Work counted from the model configurations (models/arch): GPT-2 small's
// fp32 weights read per decoded token, BERT-base's FLOPs per window of
// max_length tokens, the seed CNN's per image forward and backward.
var (
	gpt2BytesPerToken = arch.GPT2Small.WeightBytesPerToken(4)
	cnnFLOPPerImage   = arch.TrainFLOPPerImage(arch.SeedCNN)
)

// limitRow is one implementation's achieved rate against the limit it is
// bound by.
type limitRow struct {
	Task, Variant, Impl string
	Rate, Limit         float64 // per second
	Unit                string  // "B/s" of weights, or "FLOP/s"
	UpperBound          bool    // the work is counted at its most (bert-qa)
	Threads             int     // the result's
}

// limitRowOf says how close r came to the limits measured on its host;
// ok is false when r has none (not measured, failed, not on the CPU, or a
// task without a counted workload).
func limitRowOf(r *bench.Result) (row limitRow, ok bool) {
	// A null implementation does no work: it has no fraction of anything.
	if r.Status != bench.StatusOK || bench.IsNull(r.Impl) || r.Host == nil || r.Host.Limits == nil || (r.Device != "" && r.Device != "cpu") {
		return row, false
	}
	l := r.Host.Limits
	row = limitRow{Task: r.Task, Variant: r.Variant, Impl: r.Impl, Threads: r.Threads}
	switch r.Task {
	case "llm/gpt2":
		if len(r.Phases["per_token"]) == 0 {
			return row, false
		}
		row.Rate, row.Limit, row.Unit = gpt2BytesPerToken/stats.Summarize(r.Phases["per_token"]).Median, l.Bandwidth.Value, "B/s"
	case "llm/bert-qa":
		seq, _ := r.Params["max_length"].(float64)
		wpr, ok := r.Metrics["windows_per_request"]
		if seq <= 0 || !ok || len(r.Phases["model"]) == 0 {
			return row, false
		}
		perRequest := arch.BertBase.QAForwardFLOP(int(seq)) * wpr
		row.Rate, row.Limit, row.Unit, row.UpperBound = perRequest/stats.Summarize(r.Phases["model"]).Mean, l.GEMM.Value, "FLOP/s", true
	case "dl/cnn":
		ips, ok := r.Metrics["images_per_s"]
		if !ok {
			return row, false
		}
		row.Rate, row.Limit, row.Unit = ips*cnnFLOPPerImage, l.GEMM.Value, "FLOP/s"
	default:
		return row, false
	}
	return row, row.Rate > 0 && row.Limit > 0
}

// limitsSection is the report's "fraction of the machine's limits": per
// host that measured them, its limits and, per result with a counted
// workload, the achieved rate over the limit. Nil when no result has both.
func limitsSection(results []*bench.Result) *htmlSection {
	type hostRows struct {
		host   string
		limits *bench.Limits
		rows   []limitRow
	}
	var hosts []*hostRows
	for _, r := range results {
		row, ok := limitRowOf(r)
		if !ok {
			continue
		}
		label := hostLabel(r.Host)
		i := slices.IndexFunc(hosts, func(h *hostRows) bool { return h.host == label && *h.limits == *r.Host.Limits })
		if i < 0 {
			hosts, i = append(hosts, &hostRows{host: label, limits: r.Host.Limits}), len(hosts)
		}
		hosts[i].rows = append(hosts[i].rows, row)
	}
	if len(hosts) == 0 {
		return nil
	}
	s := &htmlSection{ID: "limits", Title: "Fraction of the machine's limits",
		Table: htmlTable{Header: []string{"task", "implementation", "achieved", "limit", "fraction"}}}
	var setup []string
	for _, h := range hosts {
		l := h.limits
		setup = append(setup, fmt.Sprintf("%s, measured %s with %d threads: memory bandwidth %s (%s, best of %d); fp32 GEMM %s (%s, best of %d)",
			h.host, l.MeasuredAt, l.Threads, fmtRate(l.Bandwidth.Value, "B/s"), l.Bandwidth.Kernel, l.Bandwidth.Repeats,
			fmtRate(l.GEMM.Value, "FLOP/s"), l.GEMM.Kernel, l.GEMM.Repeats))
		slices.SortStableFunc(h.rows, func(a, b limitRow) int {
			return strings.Compare(a.Task+" "+a.Variant+" "+a.Impl, b.Task+" "+b.Variant+" "+b.Impl)
		})
		for _, w := range h.rows {
			s.Table.Rows = append(s.Table.Rows, limitCells(w, l, len(hosts) > 1, h.host))
		}
	}
	s.Setup = strings.Join(setup, ". ")
	tasks := map[string]bool{}
	for _, h := range hosts {
		for _, w := range h.rows {
			tasks[w.Task] = true
		}
	}
	for _, n := range limitNotes() {
		if tasks[n[0]] {
			s.Lines = append(s.Lines, n[0]+": "+n[1])
		}
	}
	s.Lines = append(s.Lines, "the limits are measured once per run, on the CPU, as noisy as any figure of a shared machine; "+
		"above 100%: the limit was measured low, or the work was served from a cache; "+
		"models are counted at their full sizes (a --tiny model is not told apart)")
	return s
}

func limitCells(w limitRow, l *bench.Limits, manyHosts bool, host string) []string {
	bound := ""
	if w.UpperBound {
		bound = "≤ "
	}
	impl := w.Impl
	if w.Threads != l.Threads {
		impl += fmt.Sprintf(" (%d threads; limits at %d)", w.Threads, l.Threads)
	}
	if manyHosts {
		impl += " on " + host
	}
	task := w.Task
	if w.Variant != "" {
		task += " " + w.Variant
	}
	limit := "bandwidth"
	if w.Unit == "FLOP/s" {
		limit = "GEMM"
	}
	return []string{task, impl, bound + fmtRate(w.Rate, w.Unit), fmtRate(w.Limit, w.Unit) + " " + limit,
		fmt.Sprintf("%s%.0f%%", bound, 100*w.Rate/w.Limit)}
}

// limitNotes say, per task, how its work is counted.
func limitNotes() [][2]string {
	g := arch.GPT2Small
	return [][2]string{
		{"dl/cnn", fmt.Sprintf("images/s times %s per image forward and backward (the seed CNN's matrix products); limit: fp32 GEMM",
			fmtRate(cnnFLOPPerImage, "FLOP"))},
		{"llm/bert-qa", fmt.Sprintf("FLOP/s of BERT-base's matrix products, %s per %d-token window, over the mean model time per request; "+
			"windows are not padded, so one shorter than max_length does less work: rate and fraction are upper bounds (≤)",
			fmtRate(arch.BertBase.QAForwardFLOP(384), "FLOP"), 384)},
		{"llm/gpt2", fmt.Sprintf("weights read per second, %s per token (GPT-2 small's %.2f M parameters in fp32, all but the position "+
			"embedding, counted from its configuration; the KV cache left out), over the median per-token time (at batch B, one step gives a token "+
			"to each of the B sequences and reads the weights once); limit: memory bandwidth",
			fmtBytes(gpt2BytesPerToken), float64(g.Params()-int64(g.NPositions*g.NEmbd))/1e6)},
	}
}

// fmtRate writes x with an SI prefix: "41.2 GB/s", "95.3 GFLOP/s".
func fmtRate(x float64, unit string) string {
	if strings.HasPrefix(unit, "B") {
		return fmtBytes(x) + strings.TrimPrefix(unit, "B")
	}
	for _, p := range []struct {
		f float64
		s string
	}{{1e12, "T"}, {1e9, "G"}, {1e6, "M"}, {1e3, "k"}} {
		if x >= p.f {
			return fmt.Sprintf("%.3g %s%s", x/p.f, p.s, unit)
		}
	}
	return fmt.Sprintf("%.3g %s", x, unit)
}

// fmtBytes writes a byte count in decimal units, as bandwidths are quoted.
func fmtBytes(x float64) string {
	for _, p := range []struct {
		f float64
		s string
	}{{1e12, "TB"}, {1e9, "GB"}, {1e6, "MB"}, {1e3, "kB"}} {
		if x >= p.f {
			return fmt.Sprintf("%.4g %s", x/p.f, p.s)
		}
	}
	return fmt.Sprintf("%.4g B", x)
}

// hostBuild is what decides a host's kernels: its vector extensions and
// the frameworks' BLAS builds ("" when neither was recorded).
func hostBuild(h *bench.HostInfo) string {
	var s string
	if len(h.ISA) > 0 {
		s += "; ISA " + strings.Join(h.ISA, " ")
	}
	if len(h.BLAS) > 0 {
		s += "; BLAS: " + strings.Join(h.BLAS, "; ")
	}
	return s
}

// writeLimits prints limitsSection in markdown, if there is one.
func writeLimits(e *errWriter, results []*bench.Result) {
	s := limitsSection(results)
	if s == nil {
		return
	}
	e.printf("\n## %s\n\n%s.\n\n", s.Title, s.Setup)
	e.table(s.Table.Header, s.Table.Rows)
	e.printf("\n- %s\n", strings.Join(s.Lines, "\n- "))
}
