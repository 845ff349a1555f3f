package report

import (
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/mlbench/mlbench/bench"
	"github.com/mlbench/mlbench/stats"
)

// ComparePage says what an HTML comparison is about.
type ComparePage struct {
	Title    string
	Old, New string // where the two runs came from, shown as is
}

// WriteCompareHTML writes the comparison of two runs (WriteCompare) as one
// self-contained HTML page: per (task, variant) the table with benchstat's
// verdict and a plot of new/old per (implementation, phase).
func WriteCompareHTML(w io.Writer, old, new []*bench.Result, page ComparePage) error {
	if len(old) == 0 || len(new) == 0 {
		return fmt.Errorf("compare needs results on both sides (old %d, new %d)", len(old), len(new))
	}
	secs, err := buildCompare(old, new)
	if err != nil {
		return err
	}
	return compareHTML(w, secs, page)
}

func compareHTML(w io.Writer, secs []*compareSection, page ComparePage) error {
	d := pageData{FontCSS: fontFaceCSS(), Page: Page{Title: page.Title}}
	if d.Title == "" {
		d.Title = "mlbench compare: old vs new"
	}
	if page.Old != "" || page.New != "" {
		d.Source = "old: " + or(page.Old, "?") + "; new: " + or(page.New, "?")
	}
	for _, s := range secs {
		title := strings.TrimSpace(s.Task + " " + s.Variant)
		h := &htmlSection{ID: slug(s.Task, s.Variant), Title: title}
		for _, r := range s.Rows {
			h.Table.Rows = append(h.Table.Rows, []string{r.Impl, or(r.Phase, "-"),
				compareCell(r.OldStatus, r.Old), compareCell(r.NewStatus, r.New), vsBase(r)})
		}
		h.Table.Header = []string{"impl", "phase", "old", "new", "vs base"}
		for _, n := range s.Notes {
			if !strings.HasPrefix(n, "warning: ") {
				n = "note: " + n
			}
			h.Lines = append(h.Lines, n)
		}
		if f := compareFigure(s, title); f != nil {
			h.Figures = append(h.Figures, inlineSVG(f))
		}
		d.Compare = append(d.Compare, h)
	}
	return pageTmpl.Execute(w, d)
}

// compareFigure: new median / old median per (implementation, phase), with
// the U test's verdict; failed sides are shown as such.
func compareFigure(s *compareSection, title string) *figure {
	var bars []bar
	groups := map[string]int{}
	any := false
	for _, r := range s.Rows {
		if r.Only != "" || r.Phase == "" {
			continue
		}
		g, ok := groups[r.Phase]
		if !ok {
			g = len(groups)
			groups[r.Phase] = g
		}
		b := bar{Label: r.Impl + " · " + r.Phase, Color: langColor(language(r.Impl, "")), Group: g}
		switch {
		case r.OldStatus == "failed" && r.NewStatus == "failed":
			b.Failed = "old and new: " + r.NewReason
		case r.OldStatus == "failed":
			b.Failed = "old: " + r.OldReason
		case r.NewStatus == "failed":
			b.Failed = "new: " + r.NewReason
		case r.Cmp == nil || r.Cmp.Ratio <= 0:
			continue
		default:
			b.Value, any = r.Cmp.Ratio, true
			b.Text = fmt.Sprintf("%s (p=%.2g)", strings.TrimSuffix(fmtRatio(stats.Ratio{Ratio: r.Cmp.Ratio})+" "+verdict(*r.Cmp), " "), r.Cmp.P)
		}
		bars = append(bars, b)
	}
	if !any {
		return nil
	}
	// Rows of one phase together, as in the run report.
	sorted := make([]bar, 0, len(bars))
	for g := range len(groups) {
		for _, b := range bars {
			if b.Group == g {
				sorted = append(sorted, b)
			}
		}
	}
	var leg []legendEntry
	var langs []string
	for _, b := range sorted {
		if l := language(strings.Fields(b.Label)[0], ""); b.Failed == "" && !slices.Contains(langs, l) {
			langs = append(langs, l)
		}
	}
	slices.Sort(langs)
	for _, l := range langs {
		leg = append(leg, legendEntry{Label: l, Thumb: swatch{langColor(l)}})
	}
	ft := title + ": new / old (median)"
	p := barPlot(ft, "new median / old median (log scale; left of 1: new is faster)", sorted, true)
	return &figure{Name: slug(s.Task, s.Variant, "compare"), Title: ft, Plot: p, W: figWidth, H: barHeight(len(sorted)), Legend: leg,
		Caption: "Median of the new run divided by that of the old, per implementation and phase, with the Mann-Whitney U p-value; " +
			"~ marks a change that is not significant. Failed sides are listed with their reason."}
}

// verdict is "~" when a change is not significant, else "".
func verdict(c stats.Comparison) string {
	if !c.Significant {
		return "~"
	}
	return ""
}
