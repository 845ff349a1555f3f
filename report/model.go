package report

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/mlbench/mlbench/bench"
	"github.com/mlbench/mlbench/stats"
)

// section is one (task, variant) of one run.
type section struct {
	Task, Variant string
	Reference     string // implementation id of the task's reference
	Phases        []string
	Main          string // main phase, "" when no result has phases
	Metrics       []string
	Rows          []*row
	Ref           *row // the reference's row if present and ok, else nil
	Device        string
	Threads       string
	Size          string
	Datasets      string
	Warnings      []string // section-level warnings (mixed settings...)
	Notes         []string
}

// Title is "task variant".
func (s *section) Title() string { return strings.TrimSpace(s.Task + " " + s.Variant) }

// row is one implementation's result in a section.
type row struct {
	R      *bench.Result
	IsRef  bool
	Failed bool
	// Unverified rows (bench.StatusUnverified) show their timings and
	// Reason but, like failed ones, get no ratio and no rank.
	Unverified bool
	Reason     string
	Sums       map[string]stats.Summary
	// Ratios and VsRef hold, per phase, this row against the reference (ok
	// rows other than the reference, when the reference is ok).
	Ratios map[string]stats.Ratio
	VsRef  map[string]stats.Comparison
	Rank   int // 1-based speed rank by main-phase median among ok rows; 0 if not ranked
}

func (r *row) mainMedian(main string) (float64, bool) {
	s, ok := r.Sums[main]
	return s.Median, ok
}

func finite(vs ...float64) bool {
	for _, v := range vs {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return false
		}
	}
	return true
}

// failure says whether a result counts as failed, and why.
func failure(r *bench.Result) (bool, string) {
	switch {
	case r.Status == bench.StatusUnverified:
		return false, ""
	case r.Status != "" && r.Status != bench.StatusOK:
		reason := r.Reason
		if reason == "" && len(r.Errors) > 0 {
			reason = r.Errors[0]
		}
		if reason == "" {
			reason = string(r.Status)
		}
		return true, oneLine(reason)
	case r.Parity != nil && !r.Parity.OK:
		return true, "parity: " + parityText(r.Parity)
	case len(r.Errors) > 0:
		return true, oneLine(r.Errors[0])
	case len(r.Phases) == 0:
		return true, "no phases timed"
	}
	return false, ""
}

// parityText names the first failing check: "probe_max_rel:coef 0.0213 vs limit 1e-06".
func parityText(p *bench.Parity) string {
	for _, c := range p.Checks {
		if c.OK {
			continue
		}
		if c.Value == 0 && (c.Limit == 0 || !c.Measured) {
			return oneLine(c.Name + ": " + c.Detail)
		}
		return fmt.Sprintf("%s %.3g vs limit %g", c.Name, c.Value, c.Limit)
	}
	return "failed"
}

// taskIndex orders tasks as the registry does; unknown tasks come last.
func taskIndex(id string) int {
	for i, t := range bench.Tasks {
		if t.ID == id {
			return i
		}
	}
	return len(bench.Tasks)
}

func compareTasks(a, b string) int {
	if c := cmp.Compare(taskIndex(a), taskIndex(b)); c != 0 {
		return c
	}
	return strings.Compare(a, b)
}

type caseKey struct{ Task, Variant string }

// groupCases groups results by (task, variant) in display order.
func groupCases(results []*bench.Result) ([]caseKey, map[caseKey][]*bench.Result) {
	m := map[caseKey][]*bench.Result{}
	var keys []caseKey
	for _, r := range results {
		k := caseKey{r.Task, r.Variant}
		if _, ok := m[k]; !ok {
			keys = append(keys, k)
		}
		m[k] = append(m[k], r)
	}
	slices.SortFunc(keys, func(a, b caseKey) int {
		if c := compareTasks(a.Task, b.Task); c != 0 {
			return c
		}
		return compareVariants(a.Variant, b.Variant)
	})
	return keys, m
}

// referenceOf is the task's reference implementation: the registry's, else
// the one the orchestrator recorded in the results.
func referenceOf(task string, rs []*bench.Result) string {
	if t, err := bench.LookupTask(task); err == nil {
		return t.Reference
	}
	for _, r := range rs {
		if r.Reference != "" {
			return r.Reference
		}
	}
	return ""
}

// build makes the sections of one run.
func build(results []*bench.Result) ([]*section, error) {
	results, _ = splitNull(results) // a baseline, not a row: see fixedcost.go
	keys, byCase := groupCases(results)
	var out []*section
	for _, k := range keys {
		s, err := buildSection(k, byCase[k])
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

func buildSection(k caseKey, rs []*bench.Result) (*section, error) {
	s := &section{Task: k.Task, Variant: k.Variant, Reference: referenceOf(k.Task, rs)}
	seen := map[string]bool{}
	phaseSet, metricSet := map[string]bool{}, map[string]bool{}
	for _, r := range rs {
		if seen[r.Impl] {
			return nil, fmt.Errorf("two results for %s %s", s.Title(), r.Impl)
		}
		seen[r.Impl] = true
		w := &row{R: r, IsRef: r.Impl == s.Reference, Sums: map[string]stats.Summary{}}
		w.Failed, w.Reason = failure(r)
		if r.Status == bench.StatusUnverified {
			w.Unverified, w.Reason = true, oneLine(r.Reason)
		}
		for p, v := range r.Phases {
			if len(v) == 0 {
				continue
			}
			phaseSet[p] = true
			w.Sums[p] = stats.Summarize(v)
		}
		for m := range r.Metrics {
			metricSet[m] = true
		}
		for m := range r.NotApplicable {
			metricSet[m] = true
		}
		s.Rows = append(s.Rows, w)
		if w.IsRef && !w.Failed {
			s.Ref = w
		}
	}
	for p := range phaseSet {
		s.Phases = append(s.Phases, p)
	}
	bench.SortPhases(s.Phases)
	s.Main = mainPhase(s.Phases)
	for m := range metricSet {
		s.Metrics = append(s.Metrics, m)
	}
	slices.Sort(s.Metrics)

	s.ratios()
	s.order()
	s.describeSetup()
	return s, nil
}

// hostLabel names a host: its name, when recorded, and what it is.
func hostLabel(h *bench.HostInfo) string {
	l := fmt.Sprintf("%s (%d cores, %s GiB, %s)", h.CPU, h.Cores, fmtNum(h.MemGiB), h.OS)
	if h.Name != "" {
		l = h.Name + ": " + l
	}
	if len(h.GPUs) > 0 {
		l += "; GPU: " + strings.Join(h.GPUs, "; ")
	}
	return l + hostBuild(h)
}

// describeSetup fills the header fields and warns when results of one
// section were made under different settings or from different data.
func (s *section) describeSetup() {
	var devs, threads, sizes, hosts []string
	for _, w := range s.Rows {
		if w.R.Host != nil {
			hosts = appendNew(hosts, hostLabel(w.R.Host))
		}
		devs = appendNew(devs, w.R.Device)
		if w.R.Threads > 0 {
			threads = appendNew(threads, fmt.Sprint(w.R.Threads))
		}
		sizes = appendNew(sizes, w.R.Size)
	}
	s.Device, s.Threads, s.Size = joinOr(devs), joinOr(threads), joinOr(sizes)
	for _, d := range []struct {
		what string
		vs   []string
	}{{"devices", devs}, {"thread counts", threads}, {"sizes", sizes}, {"hosts (ratios compare different machines)", hosts}} {
		if len(d.vs) > 1 {
			s.Warnings = append(s.Warnings, fmt.Sprintf("results differ in %s: %s", d.what, strings.Join(d.vs, ", ")))
		}
	}

	s.describeDatasets()
	s.describeNotes()
}

// describeDatasets names each dataset with its official flag, and warns
// when the results used different copies.
func (s *section) describeDatasets() {
	type ds struct {
		official bool
		note     string
		shas     []string
	}
	var names []string
	sets := map[string]*ds{}
	for _, w := range s.Rows { // the reference's copy first
		for _, d := range w.R.Datasets {
			x, ok := sets[d.Name]
			if !ok {
				x = &ds{official: true}
				sets[d.Name] = x
				names = append(names, d.Name)
			}
			x.shas = appendNew(x.shas, d.SHA256)
			if !d.Official {
				x.official = false
				if x.note == "" {
					x.note = firstSentence(d.Note)
				}
			}
		}
	}
	var parts []string
	for _, n := range names {
		x := sets[n]
		switch {
		case x.official:
			parts = append(parts, n+" (official)")
		case x.note != "":
			parts = append(parts, n+" (NOT official: "+x.note+")")
		default:
			parts = append(parts, n+" (NOT official)")
		}
		if len(x.shas) > 1 {
			s.Warnings = append(s.Warnings, fmt.Sprintf("dataset %s: results used different copies (sha256 %s)", n, strings.Join(shortSHAs(x.shas), ", ")))
		}
	}
	s.Datasets = "none recorded"
	if len(parts) > 0 {
		s.Datasets = strings.Join(parts, "; ")
	}

}

// describeNotes says why there are no ratios, which metrics are not
// applicable for whom, and which results were made in several processes.
func (s *section) describeNotes() {
	if s.Ref == nil {
		what := "has no result"
		for _, w := range s.Rows {
			if w.IsRef {
				what = "FAILED"
			}
		}
		if s.Reference == "" {
			s.Notes = append(s.Notes, "no ratios: the task has no known reference implementation")
		} else {
			s.Notes = append(s.Notes, fmt.Sprintf("no ratios: reference %s %s", s.Reference, what))
		}
	}
	// Metrics that are not applicable, with why and for whom.
	type na struct{ metric, why string }
	var nas []na
	who := map[na][]string{}
	for _, w := range s.Rows {
		for _, m := range sortedKeys(w.R.NotApplicable) {
			k := na{m, oneLine(w.R.NotApplicable[m])}
			if _, ok := who[k]; !ok {
				nas = append(nas, k)
			}
			who[k] = append(who[k], w.R.Impl)
		}
	}
	for _, k := range nas {
		s.Notes = append(s.Notes, fmt.Sprintf("n/a %s (%s): %s", k.metric, k.why, strings.Join(who[k], ", ")))
	}
	// Results made in several processes, each going on from the last one's checkpoint.
	for _, w := range s.Rows {
		if w.R.ResumedFrom == "" {
			continue
		}
		var ends []string
		for _, p := range w.R.EarlierParts {
			ends = append(ends, fmt.Sprintf("started %s, ran %s, ended %s", p.StartedAt, time.Duration(p.WallSeconds*float64(time.Second)).Round(time.Second), oneLine(p.Reason)))
		}
		s.Notes = append(s.Notes, fmt.Sprintf("%s: made in %d processes, the last going on from a checkpoint at %s; earlier processes: %s",
			w.R.Impl, len(w.R.EarlierParts)+1, oneLine(w.R.ResumedFrom), strings.Join(ends, "; ")))
	}
}

func shortSHAs(shas []string) []string {
	out := make([]string, len(shas))
	for i, s := range shas {
		if len(s) > 12 {
			s = s[:12]
		}
		if s == "" {
			s = "none"
		}
		out[i] = s
	}
	return out
}

func appendNew(vs []string, v string) []string {
	if v == "" || slices.Contains(vs, v) {
		return vs
	}
	return append(vs, v)
}

func joinOr(vs []string) string {
	if len(vs) == 0 {
		return "?"
	}
	return strings.Join(vs, "/")
}

func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

// peakRSS is the orchestrator's measurement, else the implementation's own.
func peakRSS(r *bench.Result) int64 {
	if r.PeakRSSBytes > 0 {
		return r.PeakRSSBytes
	}
	return r.SelfPeakRSSBytes
}

// mainPhase is the phase a section ranks and compares by (see bench.MainPhase).
func mainPhase(phases []string) string {
	m := make(map[string]bool, len(phases))
	for _, p := range phases {
		m[p] = true
	}
	return bench.MainPhase(m)
}

// ratios sets each judged row's ratios to the reference and significance
// tests, for every phase both have.
func (s *section) ratios() {
	for _, w := range s.Rows {
		if w.Failed || w.Unverified || w.IsRef || s.Ref == nil {
			continue
		}
		w.Ratios, w.VsRef = map[string]stats.Ratio{}, map[string]stats.Comparison{}
		for p := range w.Sums {
			ref, ok := s.Ref.Sums[p]
			if !ok || ref.Median <= 0 {
				continue
			}
			rt := stats.MedianRatio(w.R.Phases[p], s.Ref.R.Phases[p])
			if !finite(rt.Ratio, rt.Lo, rt.Hi) {
				continue // a reference phase too small to divide by
			}
			w.Ratios[p] = rt
			w.VsRef[p] = stats.Compare(s.Ref.R.Phases[p], w.R.Phases[p])
		}
	}
}

// order sorts the rows: reference, ok rows by main-phase median, then
// unverified and failed rows; and ranks the ok ones (1 the fastest).
func (s *section) order() {
	class := func(w *row) int {
		switch {
		case w.IsRef:
			return 0
		case w.Failed:
			return 3
		case w.Unverified:
			return 2
		}
		if _, ok := w.mainMedian(s.Main); ok {
			return 1
		}
		return 2
	}
	slices.SortStableFunc(s.Rows, func(a, b *row) int {
		if c := cmp.Compare(class(a), class(b)); c != 0 {
			return c
		}
		ma, _ := a.mainMedian(s.Main)
		mb, _ := b.mainMedian(s.Main)
		if c := cmp.Compare(ma, mb); c != 0 {
			return c
		}
		return strings.Compare(a.R.Impl, b.R.Impl)
	})
	var ranked []*row
	for _, w := range s.Rows {
		if _, ok := w.mainMedian(s.Main); ok && !w.Failed && !w.Unverified {
			ranked = append(ranked, w)
		}
	}
	slices.SortStableFunc(ranked, func(a, b *row) int {
		ma, _ := a.mainMedian(s.Main)
		mb, _ := b.mainMedian(s.Main)
		return cmp.Compare(ma, mb)
	})
	for i, w := range ranked {
		w.Rank = i + 1
	}
}
