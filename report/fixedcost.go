package report

import (
	"cmp"
	"fmt"
	"slices"

	"github.com/mlbench/mlbench/bench"
	"github.com/mlbench/mlbench/stats"
)

// The results of null implementations (bench/null.go) are no section's
// rows: they did no work, so they get no parity, rank, ratio or headline
// cell. They make the "fixed cost per language" section instead.

// splitNull separates the null implementations' results from the others.
func splitNull(results []*bench.Result) (others, nulls []*bench.Result) {
	for _, r := range results {
		if bench.IsNull(r.Impl) {
			nulls = append(nulls, r)
		} else {
			others = append(others, r)
		}
	}
	return others, nulls
}

// nullCost is what one null result says of its language.
type nullCost struct {
	r *bench.Result
	// perRep is the median over timed repetitions of the sum of their
	// phases; load the median of the load phase (reading the inputs).
	perRep, load float64
	// wall is the wall time of one process (a result merged from rounds
	// has their sum); outside the part of it not in a timed phase: process
	// start, imports, spec and result I/O, and the warm-up repetitions.
	wall, outside float64
	failed        string
}

func nullCostOf(r *bench.Result) nullCost {
	c := nullCost{r: r}
	if bad, why := failure(r); bad {
		c.failed = why
		return c
	}
	var reps []float64
	timed := 0.0
	for _, vs := range r.Phases {
		for i, v := range vs {
			for len(reps) <= i {
				reps = append(reps, 0)
			}
			reps[i] += v
			timed += v
		}
	}
	if len(reps) > 0 {
		c.perRep = stats.Summarize(reps).Median
	}
	if vs := r.Phases["load"]; len(vs) > 0 {
		c.load = stats.Summarize(vs).Median
	}
	n := float64(max(1, r.Rounds))
	c.wall = r.WallSeconds / n
	c.outside = max(0, r.WallSeconds-timed) / n
	return c
}

// fixedCostSection is the "Fixed cost per language" section of the null
// results: per language the median over its null jobs, then every job.
// Nil when there are none.
func fixedCostSection(nulls []*bench.Result) *htmlSection {
	if len(nulls) == 0 {
		return nil
	}
	costs := make([]nullCost, len(nulls))
	for i, r := range nulls {
		costs[i] = nullCostOf(r)
	}
	slices.SortStableFunc(costs, func(a, b nullCost) int {
		if c := compareTasks(a.r.Task, b.r.Task); c != 0 {
			return c
		}
		if c := compareVariants(a.r.Variant, b.r.Variant); c != 0 {
			return c
		}
		return cmp.Compare(a.r.Language, b.r.Language)
	})
	h := &htmlSection{ID: "fixed-cost", Title: "Fixed cost per language",
		Setup: "The null implementations (go-null, python-null, rust-null) start as every implementation of their language does, " +
			"read the spec and every input through its protocol code (a file whole, a directory listed: no model is loaded), " +
			"time each of the task's phases around nothing and write a result. A job's wall time (per process, when --order " +
			"split it into rounds) is its language's fixed cost per job; 'outside phases' is the part spent before, between and after the timed phases (process start, imports, " +
			"spec and result I/O, warm-ups); 'per rep' is the median over timed repetitions of their phases' sum, 'load' of " +
			"reading the inputs. They do no work: no parity, ratio or rank applies to them."}
	byLang := map[string][]nullCost{}
	var langs []string
	for _, c := range costs {
		if c.failed != "" {
			continue
		}
		if _, ok := byLang[c.r.Language]; !ok {
			langs = append(langs, c.r.Language)
		}
		byLang[c.r.Language] = append(byLang[c.r.Language], c)
	}
	slices.Sort(langs)
	h.Table.Header = []string{"task", "impl", "language", "job wall", "outside phases", "per rep", "load", "peak RSS"}
	for _, l := range langs {
		cs := byLang[l]
		med := func(f func(nullCost) float64) string { return fmtDur(medianOf(cs, f)) }
		h.Table.Rows = append(h.Table.Rows, []string{fmt.Sprintf("median of %d jobs", len(cs)), cs[0].r.Impl, l,
			med(func(c nullCost) float64 { return c.wall }), med(func(c nullCost) float64 { return c.outside }),
			med(func(c nullCost) float64 { return c.perRep }), med(func(c nullCost) float64 { return c.load }),
			fmtMiB(int64(medianOf(cs, func(c nullCost) float64 { return float64(peakRSS(c.r)) })))})
	}
	for _, c := range costs {
		r := c.r
		task := r.Task
		if r.Variant != "" {
			task += " " + r.Variant
		}
		if c.failed != "" {
			h.Table.Rows = append(h.Table.Rows, []string{task, r.Impl, r.Language, "FAILED: " + c.failed, "-", "-", "-", "-"})
			continue
		}
		rss := "-"
		if b := peakRSS(r); b > 0 {
			rss = fmtMiB(b)
		}
		h.Table.Rows = append(h.Table.Rows, []string{task, r.Impl, join(r.Language, r.LanguageVersion),
			fmtDur(c.wall), fmtDur(c.outside), fmtDur(c.perRep), fmtDur(c.load), rss})
	}
	return h
}

// writeFixedCost prints the fixed-cost section in markdown.
func writeFixedCost(e *errWriter, h *htmlSection) {
	if h == nil {
		return
	}
	e.printf("\n## %s\n\n%s\n\n", h.Title, h.Setup)
	e.table(h.Table.Header, h.Table.Rows)
}

// medianOf is the median of f over cs.
func medianOf(cs []nullCost, f func(nullCost) float64) float64 {
	vs := make([]float64, len(cs))
	for i, c := range cs {
		vs[i] = f(c)
	}
	return stats.Summarize(vs).Median
}
