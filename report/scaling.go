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
func scalingRatioFigure(secs []*section) *figure {
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
	return &figure{Name: slug(secs[0].Task, "scaling-ratio"), Title: title, Plot: p, W: figWidth, H: 340, Legend: leg,
		Caption: fmt.Sprintf("Median %s time of each implementation divided by %s's at the same %s (no interval: "+
			"see each variant's section for it and the significance test); the dotted line is parity with the reference. "+
			"Failed results and variants without an ok reference have no point.", phase, ref, key)}
}
