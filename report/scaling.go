package report

import (
	"fmt"
	"image/color"
	"slices"
	"strconv"
	"strings"

	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// scalingRatioFigure: each implementation's main-phase median over the
// reference's against the variant's size (the sweeps: batch size, sequence
// length, prompt length), log x, with a line at 1. It shows where an
// implementation's distance from the reference grows or shrinks with the
// size of the work, which the log-log time plot hides. nil when the
// variants are not one numeric key, or no variant has a ratio.
func scalingRatioFigure(g scalingGroup) *figure {
	secs := g.Secs
	key := scalingKey(secs)
	if key == "" {
		return nil
	}
	phase, ref := secs[0].Main, secs[0].Reference
	pts := map[string]plotter.XYs{}
	var impls []string
	langs := map[string]string{}
	lo, hi := 1.0, 1.0
	for _, s := range secs {
		_, v, _ := strings.Cut(s.Variant, "=")
		x, _ := strconv.ParseFloat(v, 64)
		for _, w := range s.Rows {
			r, ok := w.Ratios[phase]
			if w.IsRef || w.Failed || !ok || x <= 0 || !finite(r.Ratio) || r.Ratio <= 0 {
				continue
			}
			id := w.R.Impl
			impls = appendNew(impls, id)
			langs[id] = language(id, w.R.Language)
			pts[id] = append(pts[id], plotter.XY{X: x, Y: r.Ratio})
			lo, hi = min(lo, r.Ratio), max(hi, r.Ratio)
		}
	}
	if len(impls) == 0 {
		return nil
	}
	slices.Sort(impls)
	title := fmt.Sprintf("%s: %s time relative to %s against %s (median)", secs[0].Task, phase, ref, key)
	p := newPlot(title, key+" (log scale)", "ratio to "+ref+" (below 1 is faster)")
	var leg []legendEntry
	for i, id := range impls {
		l, sc, err := plotter.NewLinePoints(pts[id])
		if err != nil {
			continue
		}
		l.LineStyle = lineStyle(i, langs[id])
		sc.GlyphStyle = draw.GlyphStyle{Color: l.LineStyle.Color, Radius: vg.Points(2.5), Shape: draw.CircleGlyph{}}
		p.Add(l, sc)
		leg = append(leg, legendEntry{Label: id, Thumb: l})
	}
	one := plotter.NewFunction(func(float64) float64 { return 1 })
	one.LineStyle = draw.LineStyle{Color: color.Gray{Y: 0x60}, Width: vg.Points(1), Dashes: []vg.Length{vg.Points(1), vg.Points(3)}}
	p.Add(one)
	useLog(&p.X, "")
	padLog(&p.X)
	pad := 0.05 * (hi - lo + 0.1)
	p.Y.Min, p.Y.Max = lo-pad, hi+pad
	p.Add(plotter.NewGrid())
	return &figure{Name: g.slug("scaling-ratio"), Title: title, Plot: p, W: figWidth, H: 340, Legend: leg,
		Caption: fmt.Sprintf("Median %s time of each implementation divided by %s's at the same %s (no interval: "+
			"see each variant's section for it and the significance test); the dotted line is parity with the reference. "+
			"Failed results and variants without an ok reference have no point.", phase, ref, key)}
}

// scalingGroup is a group of one task's sections that gets a scaling table
// and plots: those whose variants share a key ("batch" of "batch=8"), when
// there are several. A task whose sweep varies two things (llm/gpt2: prompt
// length and batch) has one group per key.
type scalingGroup struct {
	Secs []*section
	Key  string // the variants' key when the task has several groups, else ""
}

// slug is the id of the group's table or figure kind ("scaling"): the
// task's, with the key when the task has several groups.
func (g scalingGroup) slug(kind string) string {
	if g.Key == "" {
		return slug(g.Secs[0].Task, kind)
	}
	return slug(g.Secs[0].Task, g.Key, kind)
}

// title is the heading of the group's scaling table.
func (g scalingGroup) title(phase string) string {
	task := g.Secs[0].Task
	if g.Key != "" {
		task += " by " + g.Key
	}
	return scalingTitle(task, phase)
}

// taskScalings are the scaling groups to show after section i of secs (in
// page order): none unless i is its task's last section.
func taskScalings(secs []*section, i int) []scalingGroup {
	task := secs[i].Task
	if i+1 < len(secs) && secs[i+1].Task == task {
		return nil
	}
	var keys []string
	byKey := map[string][]*section{}
	for _, s := range secs[:i+1] {
		if s.Task != task {
			continue
		}
		k, _, _ := strings.Cut(s.Variant, "=")
		if _, ok := byKey[k]; !ok {
			keys = append(keys, k)
		}
		byKey[k] = append(byKey[k], s)
	}
	var out []scalingGroup
	for _, k := range keys {
		if len(byKey[k]) < 2 {
			continue
		}
		g := scalingGroup{Secs: byKey[k]}
		if len(keys) > 1 {
			g.Key = k
		}
		out = append(out, g)
	}
	return out
}
