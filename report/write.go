package report

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/mlbench/mlbench/bench"
	"github.com/mlbench/mlbench/stats"
)

// Write renders the comparison of the implementations of one run, one
// section per (task, variant), in format f.
func Write(w io.Writer, results []*bench.Result, f Format) error {
	if len(results) == 0 {
		return fmt.Errorf("no results to report")
	}
	secs, err := build(results)
	if err != nil {
		return err
	}
	switch f {
	case Markdown:
		return writeMarkdown(w, results, secs)
	case JSON:
		return writeJSON(w, secs)
	case CSV:
		return writeCSV(w, secs)
	case HTML:
		return WriteHTML(w, results, Page{})
	}
	_, err = ParseFormat(string(f))
	return err
}

// errWriter keeps the first write error so rendering code stays readable.
type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) printf(format string, args ...any) {
	if e.err == nil {
		_, e.err = fmt.Fprintf(e.w, format, args...)
	}
}

func (e *errWriter) tableRow(cells ...string) {
	for i := range cells {
		cells[i] = cell(cells[i])
	}
	e.printf("| %s |\n", strings.Join(cells, " | "))
}

func (e *errWriter) table(header []string, rows [][]string) {
	e.tableRow(header...)
	sep := make([]string, len(header))
	for i := range sep {
		sep[i] = "---"
	}
	e.printf("|%s|\n", strings.Join(sep, "|"))
	for _, r := range rows {
		e.tableRow(r...)
	}
}

func writeMarkdown(w io.Writer, results []*bench.Result, secs []*section) error {
	e := &errWriter{w: w}
	e.printf("# mlbench report\n")
	var hosts []string
	for _, r := range results {
		if r.Host != nil {
			hosts = appendNew(hosts, hostLabel(r.Host))
		}
	}
	for _, h := range hosts {
		e.printf("\nhost: %s\n", h)
	}
	if len(hosts) > 1 {
		e.printf("\n- warning: results come from %d different hosts\n", len(hosts))
	}
	if len(secs) > 0 { // not for null implementations alone
		writeHeadline(e, buildHeadline(secs))
	}
	for i, s := range secs {
		writeSection(e, s)
		for _, g := range taskScalings(secs, i) {
			writeScaling(e, g)
		}
	}
	writeLimits(e, results)
	_, nulls := splitNull(results)
	writeFixedCost(e, fixedCostSection(nulls))
	return e.err
}

// sectionUsedGPU reports whether a result of s has a GPU memory figure:
// the "peak GPU mem" column is shown only then.
func sectionUsedGPU(s *section) bool {
	for _, w := range s.Rows {
		if w.R.PeakGPUMemBytes > 0 {
			return true
		}
	}
	return false
}

func writeSection(e *errWriter, s *section) {
	e.printf("\n## %s\n\n", s.Title())
	e.printf("%s\n\n", setupLine(s))
	header, rows := sectionTable(s)
	e.table(header, rows)
	if lines := sectionLines(s); len(lines) > 0 {
		e.printf("\n- %s\n", strings.Join(lines, "\n- "))
	}
}

// writeHeadline prints the implementation x task matrix of the HTML
// page's headline: per task (its largest variant) the main phase against
// the reference, FAILED with its reason, and the peak RSS.
func writeHeadline(e *errWriter, h *headline) {
	e.printf("\n## Headline\n\n")
	e.printf("Main phase vs the reference per task (largest size): median ratio [95%% CI], `~` when not significant; peak RSS.\n\n")
	header := []string{"implementation"}
	for _, c := range h.Columns {
		header = append(header, c.Title+" ("+c.Sub+")")
	}
	var rows [][]string
	for _, r := range h.Rows {
		c := []string{r.Impl}
		for _, x := range r.Cells {
			t := x.Text
			if x.Sub != "" {
				t += "; " + x.Sub
			}
			c = append(c, t)
		}
		rows = append(rows, c)
	}
	e.table(header, rows)
}

// setupLine says under which settings and on which data a section ran.
func setupLine(s *section) string {
	ref := s.Reference
	if ref == "" {
		ref = "unknown"
	}
	return fmt.Sprintf("reference: %s; device: %s; threads: %s; size: %s; dataset: %s",
		ref, s.Device, s.Threads, s.Size, s.Datasets)
}

// sectionTable is the table of a section: one row per implementation.
func sectionTable(s *section) (header []string, rows [][]string) {
	header = []string{"impl", "language", "framework", "status"}
	header = append(header, s.Phases...)
	if s.Main != "" {
		header = append(header, s.Main+" vs ref")
	}
	header = append(header, s.Metrics...)
	header = append(header, "peak RSS")
	gpu := sectionUsedGPU(s)
	if gpu {
		header = append(header, "peak GPU mem")
	}
	header = append(header, "parity")

	for _, w := range s.Rows {
		r := w.R
		status := "ok"
		if w.Failed {
			status = "FAILED: " + w.Reason
		} else if w.Unverified {
			status = "UNVERIFIED: " + w.Reason
		}
		c := []string{r.Impl, join(r.Language, r.LanguageVersion), join(r.Framework, r.FrameworkVersion), status}
		for _, p := range s.Phases {
			sum, ok := w.Sums[p]
			if w.Failed || !ok {
				c = append(c, "-")
				continue
			}
			c = append(c, fmtSummary(sum))
		}
		if s.Main != "" {
			c = append(c, ratioCell(s, w))
		}
		for _, m := range s.Metrics {
			if v, ok := r.Metrics[m]; ok {
				c = append(c, fmtNum(v))
			} else if _, ok := r.NotApplicable[m]; ok {
				c = append(c, "n/a")
			} else {
				c = append(c, "-")
			}
		}
		if b := peakRSS(r); b > 0 {
			c = append(c, fmtMiB(b))
		} else {
			c = append(c, "-")
		}
		if gpu {
			if b := r.PeakGPUMemBytes; b > 0 {
				c = append(c, fmtMiB(b))
			} else {
				c = append(c, "-")
			}
		}
		c = append(c, parityCell(w))
		rows = append(rows, c)
	}
	return header, rows
}

// sectionLines are the warnings and notes under a section's table, each
// starting with "warning: " or "note: ".
func sectionLines(s *section) []string {
	var lines []string
	for _, t := range s.Warnings {
		lines = append(lines, "warning: "+t)
	}
	// The same warning for several (implementation, phase) pairs is one
	// line that names them all.
	var texts []string
	where := map[string][]string{}
	for _, w := range s.Rows {
		if w.Failed {
			continue
		}
		for _, p := range s.Phases {
			for _, t := range w.Sums[p].Warnings {
				if where[t] == nil {
					texts = append(texts, t)
				}
				where[t] = append(where[t], w.R.Impl+" "+p)
			}
		}
	}
	for _, t := range texts {
		lines = append(lines, fmt.Sprintf("warning: %s: %s", strings.Join(where[t], ", "), t))
	}
	for _, w := range s.Rows {
		if d, why := w.R.Disturbed(); d && !w.Failed {
			lines = append(lines, fmt.Sprintf("- warning: %s was disturbed: %s", w.R.Impl, why))
		}
	}
	for _, t := range s.Notes {
		lines = append(lines, "note: "+t)
	}
	return lines
}

// ratioCell is "0.52x [0.49, 0.55] faster", "1.02x [0.98, 1.05] ~" when the
// U test finds no significant difference, "ref" for the reference and "-"
// where no ratio is honest (failed rows, no reference).
//
// A ratio involving a disturbed result (bench.Result.Disturbed) says so.
func ratioCell(s *section, w *row) string {
	if w.IsRef {
		if w.Failed {
			return "-"
		}
		return "ref" + disturbedMark(w)
	}
	r, ok := w.Ratios[s.Main]
	if w.Failed || !ok {
		return "-"
	}
	mark := disturbedMark(w)
	if mark == "" && s.Ref != nil {
		mark = disturbedMark(s.Ref)
	}
	return fmtRatio(r) + " " + qualifier(w.VsRef[s.Main]) + mark
}

func disturbedMark(w *row) string {
	if d, _ := w.R.Disturbed(); d {
		return " (disturbed)"
	}
	return ""
}

func qualifier(c stats.Comparison) string {
	switch {
	case !c.Significant:
		return "~"
	case c.Ratio < 1:
		return "faster"
	}
	return "slower"
}

func parityCell(w *row) string {
	switch {
	case w.IsRef:
		return "ref"
	case w.R.Parity == nil:
		return "-"
	case w.R.Parity.OK:
		return "ok"
	case w.R.Parity.Unverified:
		return "UNVERIFIED: " + parityText(w.R.Parity)
	}
	return "FAILED: " + parityText(w.R.Parity)
}

// join is "name version", or the version alone when it already starts with
// the name (Go reports its version as "go1.26.8").
func join(name, version string) string {
	if name != "" && strings.HasPrefix(version, name) {
		return version
	}
	return strings.TrimSpace(name + " " + version)
}

// writeScaling prints the main-phase median of each implementation (rows)
// for each variant (columns) of one task, with its ratio to the reference.
func writeScaling(e *errWriter, g scalingGroup) {
	phase, header, rows := scalingTable(g.Secs)
	e.printf("\n## %s\n\n", g.title(phase))
	e.table(header, rows)
}

// scalingTitle is the heading of a task's scaling table.
func scalingTitle(task, phase string) string {
	return fmt.Sprintf("%s scaling (%s median, ratio to the reference)", task, phase)
}

// scalingTable is the table of writeScaling and the phase it shows.
func scalingTable(secs []*section) (phase string, header []string, rows [][]string) {
	phase = secs[0].Main
	for _, s := range secs {
		if s.Main != phase {
			phase = "main phase"
		}
	}
	ref := secs[0].Reference
	var impls []string
	for _, s := range secs {
		for _, w := range s.Rows {
			impls = appendNew(impls, w.R.Impl)
		}
	}
	slices.SortFunc(impls, func(a, b string) int {
		switch {
		case a == b:
			return 0
		case a == ref:
			return -1
		case b == ref:
			return 1
		}
		return strings.Compare(a, b)
	})
	header = []string{"impl"}
	for _, s := range secs {
		header = append(header, s.Variant)
	}
	for _, id := range impls {
		c := []string{id}
		for _, s := range secs {
			v := "-"
			for _, w := range s.Rows {
				if w.R.Impl != id {
					continue
				}
				if w.Failed {
					v = "FAILED"
				} else if m, ok := w.mainMedian(s.Main); ok {
					v = fmtDur(m) + scalingRatio(s, w)
				}
			}
			c = append(c, v)
		}
		rows = append(rows, c)
	}
	return phase, header, rows
}

// scalingRatio is a scaling cell's ratio to the reference, " (0.93x)", or
// " (ref)"; "" where there is none (no ok reference in the variant, or an
// unverified row).
func scalingRatio(s *section, w *row) string {
	if w.IsRef {
		return " (ref)"
	}
	r, ok := w.Ratios[s.Main]
	if !ok {
		return ""
	}
	mark := ""
	if disturbedMark(w) != "" {
		mark = ", disturbed"
	}
	return " (" + fmtRatio(stats.Ratio{Ratio: r.Ratio}) + mark + ")"
}

// jsonRow is one (task, variant, impl) of the JSON report.
type jsonRow struct {
	Task             string                   `json:"task"`
	Variant          string                   `json:"variant"`
	Impl             string                   `json:"impl"`
	Language         string                   `json:"language"`
	LanguageVersion  string                   `json:"language_version"`
	Framework        string                   `json:"framework"`
	FrameworkVersion string                   `json:"framework_version"`
	Reference        string                   `json:"reference"`
	IsReference      bool                     `json:"is_reference"`
	Device           string                   `json:"device"`
	Threads          int                      `json:"threads"`
	Size             string                   `json:"size,omitempty"`
	Datasets         []bench.DatasetRef       `json:"datasets"`
	Status           string                   `json:"status"` // "ok" or "failed"
	Reason           string                   `json:"reason,omitempty"`
	Disturbed        string                   `json:"disturbed,omitempty"` // why its timings are suspect (bench.Result.Disturbed)
	Rank             int                      `json:"rank,omitempty"`      // by main-phase median among ok results; absent if not ranked
	MainPhase        string                   `json:"main_phase"`
	Phases           map[string]stats.Summary `json:"phases"`
	Ratio            *stats.Ratio             `json:"ratio,omitempty"`        // main phase / reference's
	VsReference      *stats.Comparison        `json:"vs_reference,omitempty"` // U test, main phase, old = reference
	Ratios           map[string]stats.Ratio   `json:"ratios,omitempty"`       // every phase / reference's
	Metrics          map[string]float64       `json:"metrics"`
	NotApplicable    map[string]string        `json:"not_applicable,omitempty"`
	PeakRSSBytes     int64                    `json:"peak_rss_bytes,omitempty"`
	PeakGPUMemBytes  int64                    `json:"peak_gpu_mem_bytes,omitempty"`
	Parity           *bench.Parity            `json:"parity,omitempty"`
}

func writeJSON(w io.Writer, secs []*section) error {
	out := []jsonRow{}
	for _, s := range secs {
		for _, x := range s.Rows {
			r := x.R
			j := jsonRow{
				Task: r.Task, Variant: r.Variant, Impl: r.Impl,
				Language: r.Language, LanguageVersion: r.LanguageVersion,
				Framework: r.Framework, FrameworkVersion: r.FrameworkVersion,
				Reference: s.Reference, IsReference: x.IsRef,
				Device: r.Device, Threads: r.Threads, Size: r.Size, Datasets: r.Datasets,
				Status: "ok", Rank: x.Rank, MainPhase: s.Main, Phases: x.Sums,
				Metrics: r.Metrics, NotApplicable: r.NotApplicable,
				PeakRSSBytes: peakRSS(r), PeakGPUMemBytes: r.PeakGPUMemBytes, Parity: r.Parity,
			}
			if j.Metrics == nil {
				j.Metrics = map[string]float64{}
			}
			_, j.Disturbed = r.Disturbed()
			if x.Failed {
				j.Status, j.Reason = "failed", x.Reason
			} else if x.Unverified {
				j.Status, j.Reason = string(bench.StatusUnverified), x.Reason
			} else {
				if rt, ok := x.Ratios[s.Main]; ok {
					c := x.VsRef[s.Main]
					j.Ratio, j.VsReference = &rt, &c
				}
				if len(x.Ratios) > 0 {
					j.Ratios = x.Ratios
				}
			}
			out = append(out, j)
		}
	}
	b, err := json.MarshalIndent(out, "", "  ")
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}

// writeCSV writes one row per (task, variant, impl, phase); a result with no
// phases gets one row with an empty phase. Durations are in seconds; ratio
// columns are empty where there is no honest ratio.
func writeCSV(w io.Writer, secs []*section) error {
	cw := csv.NewWriter(w)
	cw.Write([]string{"task", "variant", "impl", "phase", "median_s", "ci_lo_s", "ci_hi_s", "n",
		"ratio", "ratio_ci_lo", "ratio_ci_hi", "significant", "status", "reason"})
	for _, s := range secs {
		for _, x := range s.Rows {
			status := "ok"
			if x.Failed {
				status = "failed"
			} else if x.Unverified {
				status = string(bench.StatusUnverified)
			}
			var phases []string
			for _, p := range s.Phases {
				if _, ok := x.Sums[p]; ok {
					phases = append(phases, p)
				}
			}
			if len(phases) == 0 {
				cw.Write([]string{s.Task, s.Variant, x.R.Impl, "", "", "", "", "", "", "", "", "", status, x.Reason})
				continue
			}
			for _, p := range phases {
				sum := x.Sums[p]
				rec := []string{s.Task, s.Variant, x.R.Impl, p, num(sum.Median), "", "", strconv.Itoa(sum.N), "", "", "", "", status, x.Reason}
				if sum.HasCI {
					rec[5], rec[6] = num(sum.Lo), num(sum.Hi)
				}
				if rt, ok := x.Ratios[p]; ok && !x.Failed {
					rec[8] = num(rt.Ratio)
					if rt.HasCI {
						rec[9], rec[10] = num(rt.Lo), num(rt.Hi)
					}
					rec[11] = strconv.FormatBool(x.VsRef[p].Significant)
				}
				cw.Write(rec)
			}
		}
	}
	cw.Flush()
	return cw.Error()
}

func num(x float64) string { return strconv.FormatFloat(x, 'g', -1, 64) }
