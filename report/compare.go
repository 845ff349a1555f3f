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

// compareRow is one (task, variant, impl, phase) of a comparison of two runs.
type compareRow struct {
	Task    string `json:"task"`
	Variant string `json:"variant"`
	Impl    string `json:"impl"`
	Phase   string `json:"phase"` // "" for a result with no phases
	// OldStatus and NewStatus are "ok", "unverified", "failed", or "" when that run has
	// no result for this implementation.
	OldStatus string            `json:"old_status"`
	NewStatus string            `json:"new_status"`
	OldReason string            `json:"old_reason,omitempty"`
	NewReason string            `json:"new_reason,omitempty"`
	Old       *stats.Summary    `json:"old,omitempty"` // nil when absent or failed
	New       *stats.Summary    `json:"new,omitempty"`
	Cmp       *stats.Comparison `json:"comparison,omitempty"` // both sides ok
	Delta     string            `json:"delta,omitempty"`      // benchstat's "vs base"
	Only      string            `json:"only,omitempty"`       // "old" or "new" when the other side lacks it
}

type compareSection struct {
	caseKey
	Rows  []*compareRow
	Notes []string
}

// WriteCompare renders the results of run old against those of run new,
// like benchstat: for every (task, variant, impl, phase) in both, the two
// medians and the change with its Mann-Whitney U p-value, "~" when the change
// is not significant. Failed results are shown as FAILED and left out of the
// statistics; what only one run has is listed as such.
func WriteCompare(w io.Writer, old, new []*bench.Result, f Format) error {
	if len(old) == 0 || len(new) == 0 {
		return fmt.Errorf("compare needs results on both sides (old %d, new %d)", len(old), len(new))
	}
	secs, err := buildCompare(old, new)
	if err != nil {
		return err
	}
	switch f {
	case Markdown:
		return compareMarkdown(w, secs)
	case JSON:
		rows := []*compareRow{}
		for _, s := range secs {
			rows = append(rows, s.Rows...)
		}
		b, err := json.MarshalIndent(rows, "", "  ")
		if err != nil {
			return err
		}
		_, err = w.Write(append(b, '\n'))
		return err
	case CSV:
		return compareCSV(w, secs)
	case HTML:
		return compareHTML(w, secs, ComparePage{})
	}
	_, err = ParseFormat(string(f))
	return err
}

func indexResults(rs []*bench.Result) (map[caseKey]map[string]*bench.Result, error) {
	m := map[caseKey]map[string]*bench.Result{}
	for _, r := range rs {
		k := caseKey{r.Task, r.Variant}
		if m[k] == nil {
			m[k] = map[string]*bench.Result{}
		}
		if m[k][r.Impl] != nil {
			return nil, fmt.Errorf("two results for %s %s %s", r.Task, r.Variant, r.Impl)
		}
		m[k][r.Impl] = r
	}
	return m, nil
}

func buildCompare(old, new []*bench.Result) ([]*compareSection, error) {
	om, err := indexResults(old)
	if err != nil {
		return nil, fmt.Errorf("old: %w", err)
	}
	nm, err := indexResults(new)
	if err != nil {
		return nil, fmt.Errorf("new: %w", err)
	}
	keys, byCase := groupCases(slices.Concat(old, new))
	var secs []*compareSection
	for _, k := range keys {
		s := &compareSection{caseKey: k}
		ref := referenceOf(k.Task, byCase[k])
		var impls []string
		for _, r := range byCase[k] {
			impls = appendNew(impls, r.Impl)
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
		for _, id := range impls {
			s.add(id, om[k][id], nm[k][id])
		}
		secs = append(secs, s)
	}
	return secs, nil
}

// add appends the rows of one implementation.
func (s *compareSection) add(impl string, o, n *bench.Result) {
	side := func(r *bench.Result) (status, reason string, failed bool) {
		if r == nil {
			return "", "", false
		}
		if f, why := failure(r); f {
			return "failed", why, true
		}
		if r.Status == bench.StatusUnverified { // its own timings still compare
			return string(bench.StatusUnverified), oneLine(r.Reason), false
		}
		return "ok", "", false
	}
	ost, oreason, ofailed := side(o)
	ns, nreason, nfailed := side(n)
	var phases []string
	for _, r := range []*bench.Result{o, n} {
		if r == nil {
			continue
		}
		for p, v := range r.Phases {
			if len(v) > 0 {
				phases = appendNew(phases, p)
			}
		}
	}
	bench.SortPhases(phases)
	if len(phases) == 0 {
		phases = []string{""}
	}
	for _, p := range phases {
		row := &compareRow{Task: s.Task, Variant: s.Variant, Impl: impl, Phase: p,
			OldStatus: ost, NewStatus: ns, OldReason: oreason, NewReason: nreason}
		var ov, nv []float64
		if o != nil {
			ov = o.Phases[p]
		}
		if n != nil {
			nv = n.Phases[p]
		}
		switch {
		case o == nil || (len(ov) == 0 && !ofailed && len(nv) > 0):
			row.Only = "new"
		case n == nil || (len(nv) == 0 && !nfailed && len(ov) > 0):
			row.Only = "old"
		}
		if len(ov) > 0 && !ofailed {
			x := stats.Summarize(ov)
			row.Old = &x
		}
		if len(nv) > 0 && !nfailed {
			x := stats.Summarize(nv)
			row.New = &x
		}
		if row.Old != nil && row.New != nil {
			c := stats.Compare(ov, nv)
			row.Cmp, row.Delta = &c, c.Delta()
			for _, t := range c.Warnings {
				s.Notes = append(s.Notes, fmt.Sprintf("warning: %s %s: %s", impl, p, t))
			}
		}
		s.Rows = append(s.Rows, row)
	}
	if ofailed {
		s.Notes = append(s.Notes, fmt.Sprintf("%s old FAILED: %s", impl, oreason))
	}
	if nfailed {
		s.Notes = append(s.Notes, fmt.Sprintf("%s new FAILED: %s", impl, nreason))
	}
	if o != nil && n != nil {
		s.Notes = append(s.Notes, setupChanges(impl, o, n)...)
	}
}

// setupChanges names what differs between two results of one implementation
// besides the timings: a change there may explain a change in speed.
func setupChanges(impl string, o, n *bench.Result) []string {
	var out []string
	diff := func(what, a, b string) {
		if a != b {
			out = append(out, fmt.Sprintf("%s: %s changed: %s -> %s", impl, what, or(a, "?"), or(b, "?")))
		}
	}
	diff("language version", o.LanguageVersion, n.LanguageVersion)
	diff("framework", join(o.Framework, o.FrameworkVersion), join(n.Framework, n.FrameworkVersion))
	diff("device", o.Device, n.Device)
	diff("threads", strconv.Itoa(o.Threads), strconv.Itoa(n.Threads))
	diff("size", o.Size, n.Size)
	shas := func(r *bench.Result) string {
		var s []string
		for _, d := range r.Datasets {
			s = append(s, d.Name+"@"+shortSHAs([]string{d.SHA256})[0])
		}
		return strings.Join(s, ",")
	}
	diff("datasets", shas(o), shas(n))
	return out
}

func or(s, d string) string {
	if s == "" {
		return d
	}
	return s
}

func compareMarkdown(w io.Writer, secs []*compareSection) error {
	e := &errWriter{w: w}
	e.printf("# mlbench compare: old vs new\n")
	for _, s := range secs {
		e.printf("\n## %s\n\n", strings.TrimSpace(s.Task+" "+s.Variant))
		var rows [][]string
		for _, r := range s.Rows {
			rows = append(rows, []string{r.Impl, or(r.Phase, "-"),
				compareCell(r.OldStatus, r.Old), compareCell(r.NewStatus, r.New), vsBase(r)})
		}
		e.table([]string{"impl", "phase", "old", "new", "vs base"}, rows)
		if len(s.Notes) > 0 {
			e.printf("\n")
			for _, n := range s.Notes {
				if !strings.HasPrefix(n, "warning: ") {
					n = "note: " + n
				}
				e.printf("- %s\n", n)
			}
		}
	}
	return e.err
}

func compareCell(status string, s *stats.Summary) string {
	switch {
	case status == "failed":
		return "FAILED"
	case s == nil:
		return "-"
	}
	return fmtSummary(*s)
}

func vsBase(r *compareRow) string {
	switch {
	case r.Only != "":
		return "(only in " + r.Only + ")"
	case r.OldStatus == "failed" || r.NewStatus == "failed":
		return "FAILED"
	case r.Cmp == nil:
		return "-"
	}
	return r.Delta
}

func compareCSV(w io.Writer, secs []*compareSection) error {
	cw := csv.NewWriter(w)
	cw.Write([]string{"task", "variant", "impl", "phase", "old_median_s", "old_n", "new_median_s", "new_n",
		"ratio", "p", "significant", "delta", "old_status", "new_status", "only"})
	for _, s := range secs {
		for _, r := range s.Rows {
			rec := []string{r.Task, r.Variant, r.Impl, r.Phase, "", "", "", "", "", "", "", "", r.OldStatus, r.NewStatus, r.Only}
			if r.Old != nil {
				rec[4], rec[5] = num(r.Old.Median), strconv.Itoa(r.Old.N)
			}
			if r.New != nil {
				rec[6], rec[7] = num(r.New.Median), strconv.Itoa(r.New.N)
			}
			if c := r.Cmp; c != nil {
				rec[8], rec[9], rec[10], rec[11] = num(c.Ratio), num(c.P), strconv.FormatBool(c.Significant), r.Delta
			}
			cw.Write(rec)
		}
	}
	cw.Flush()
	return cw.Error()
}
