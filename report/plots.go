package report

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/mlbench/mlbench/stats"
)

// sectionFigures are the plots of one (task, variant), in page order.
func sectionFigures(s *section) []*figure {
	var out []*figure
	add := func(f *figure) {
		if f != nil {
			out = append(out, f)
		}
	}
	add(ratioFigure(s))
	for _, m := range plottedMetrics(s) {
		add(metricFigure(s, m))
	}
	for _, k := range plottedSeries(s) {
		add(seriesFigure(s, k))
	}
	for _, p := range ecdfPhases(s) {
		add(ecdfFigure(s, p))
	}
	add(memoryFigure(s))
	return out
}

// slug makes a file name part: "llm/bert-qa n=1000" -> "llm-bert-qa-n1000".
func slug(parts ...string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(strings.Join(parts, "-")) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '.':
			b.WriteRune(r)
		case r == '=':
		default:
			b.WriteByte('-')
		}
	}
	return strings.Trim(strings.ReplaceAll(b.String(), "--", "-"), "-")
}

func figName(s *section, kind string) string { return slug(s.Task, s.Variant, kind) }

// ratioFigure: every phase of every implementation against the reference,
// failed implementations shown as such.
func ratioFigure(s *section) *figure {
	if s.Ref == nil {
		return nil
	}
	var bars []bar
	for gi, p := range s.Phases {
		for _, w := range s.Rows {
			if w.IsRef {
				continue
			}
			b := bar{Label: w.R.Impl + " · " + p, Color: langColor(language(w.R.Impl, w.R.Language)), Group: gi}
			r, ok := w.Ratios[p]
			switch {
			case w.Failed:
				b.Failed = w.Reason
			case !ok:
				continue // this implementation has no such phase
			default:
				b.Value, b.Lo, b.Hi, b.HasCI = r.Ratio, r.Lo, r.Hi, r.HasCI
				b.Text = strings.TrimSuffix(fmtRatio(stats.Ratio{Ratio: r.Ratio})+" "+qualifier(w.VsRef[p]), " faster")
				b.Text = strings.TrimSuffix(b.Text, " slower")
			}
			bars = append(bars, b)
		}
	}
	if len(bars) == 0 {
		return nil
	}
	title := fmt.Sprintf("%s: time relative to %s (median, 95%% CI)", s.Title(), s.Reference)
	p := barPlot(title, "ratio to the reference (log scale; left of 1 is faster)", bars, true)
	return &figure{
		Name: figName(s, "ratio"), Title: title, Plot: p, W: figWidth, H: barHeight(len(bars)),
		Legend: languageLegend(s, false),
		Caption: "Median time of each phase divided by the reference's, with its 95% bootstrap interval; " +
			"~ marks a difference the Mann-Whitney U test does not find significant. " +
			"Failed implementations (run or parity) are listed with their reason and have no bar.",
	}
}

// languageLegend has one swatch per language present in the section
// (leaving out the reference, unless withRef).
func languageLegend(s *section, withRef bool) []legendEntry {
	var langs []string
	for _, w := range s.Rows {
		if w.IsRef && !withRef {
			continue
		}
		langs = appendNew(langs, language(w.R.Impl, w.R.Language))
	}
	slices.Sort(langs)
	var out []legendEntry
	for _, l := range langs {
		out = append(out, legendEntry{Label: l, Thumb: swatch{langColor(l)}})
	}
	return out
}

// swatch is a filled legend thumbnail.
type swatch struct {
	c interface{ RGBA() (r, g, b, a uint32) }
}

func (s swatch) Thumbnail(c *draw.Canvas) {
	pts := []vg.Point{{X: c.Min.X, Y: c.Min.Y}, {X: c.Min.X, Y: c.Max.Y}, {X: c.Max.X, Y: c.Max.Y}, {X: c.Max.X, Y: c.Min.Y}}
	c.FillPolygon(s.c, c.ClipPolygonY(pts))
}

// plottedMetrics are the metrics drawn as bars: throughputs ("*_per_s") and
// test accuracy.
func plottedMetrics(s *section) []string {
	var out []string
	for _, m := range s.Metrics {
		if strings.HasSuffix(m, "_per_s") || m == "test_accuracy" {
			out = append(out, m)
		}
	}
	return out
}

func metricFigure(s *section, m string) *figure {
	var bars []bar
	any := false
	for _, w := range s.Rows {
		b := bar{Label: w.R.Impl, Color: langColor(language(w.R.Impl, w.R.Language))}
		v, ok := w.R.Metrics[m]
		switch {
		case w.Failed:
			b.Failed = w.Reason
		case !ok || math.IsNaN(v) || math.IsInf(v, 0):
			if why, na := w.R.NotApplicable[m]; na {
				b.Failed = "n/a: " + oneLine(why)
				break
			}
			continue
		default:
			b.Value, b.Text, any = v, fmtNum(v), true
		}
		bars = append(bars, b)
	}
	if !any {
		return nil
	}
	title := fmt.Sprintf("%s: %s", s.Title(), m)
	p := barPlot(title, m, bars, false)
	return &figure{Name: figName(s, m), Title: title, Plot: p, W: figWidth, H: barHeight(len(bars)),
		Legend:  languageLegend(s, true),
		Caption: fmt.Sprintf("The metric %s as each implementation reported it (higher is better).", m)}
}

// plottedSeries are the per-epoch series ("epoch_loss", "epoch_test_accuracy").
func plottedSeries(s *section) []string {
	var keys []string
	for _, w := range s.Rows {
		for _, k := range sortedKeys(w.R.Series) {
			if strings.HasPrefix(k, "epoch_") {
				keys = appendNew(keys, k)
			}
		}
	}
	slices.Sort(keys)
	return keys
}

func seriesFigure(s *section, key string) *figure {
	title := fmt.Sprintf("%s: %s per epoch", s.Title(), strings.TrimPrefix(key, "epoch_"))
	p := newPlot(title, "epoch (repetitions one after another)", strings.TrimPrefix(key, "epoch_"))
	var leg []legendEntry
	for i, w := range s.Rows {
		v := w.R.Series[key]
		if len(v) == 0 {
			continue
		}
		pts := make(plotter.XYs, 0, len(v))
		for j, y := range v {
			if !math.IsNaN(y) && !math.IsInf(y, 0) {
				pts = append(pts, plotter.XY{X: float64(j + 1), Y: y})
			}
		}
		if len(pts) == 0 {
			continue
		}
		l, sc, err := plotter.NewLinePoints(pts)
		if err != nil {
			continue
		}
		l.LineStyle = lineStyle(i, language(w.R.Impl, w.R.Language))
		sc.GlyphStyle = draw.GlyphStyle{Color: l.LineStyle.Color, Radius: vg.Points(2), Shape: draw.CircleGlyph{}}
		p.Add(l, sc)
		leg = append(leg, legendEntry{Label: implLabel(w), Thumb: l})
	}
	if len(leg) == 0 {
		return nil
	}
	p.X.Tick.Marker = integerTicks{}
	widenNarrowRange(&p.Y.Min, &p.Y.Max)
	p.Add(plotter.NewGrid())
	return &figure{Name: figName(s, key), Title: title, Plot: p, W: figWidth, H: 300, Legend: leg,
		Caption: fmt.Sprintf("The series %s of each implementation, one point per epoch.", key)}
}

// widenNarrowRange widens an axis range narrower than 1% of its magnitude
// (one epoch of five implementations that agree to 1e-3) to that 1%, so
// that the default ticks, which show three significant digits, differ.
func widenNarrowRange(lo, hi *float64) {
	mid := (*lo + *hi) / 2
	if w := 0.01 * math.Abs(mid); *hi-*lo < w {
		*lo, *hi = mid-w/2, mid+w/2
	}
}

// implLabel is the implementation id, marked when its result failed.
func implLabel(w *row) string {
	if w.Failed {
		return w.R.Impl + " (FAILED)"
	}
	return w.R.Impl
}

// integerTicks labels whole numbers only, at most about ten of them.
type integerTicks struct{}

func (integerTicks) Ticks(min, max float64) []plot.Tick {
	step := math.Max(1, math.Ceil((max-min)/10))
	var out []plot.Tick
	for v := math.Ceil(min); v <= max; v += step {
		out = append(out, plot.Tick{Value: v, Label: strconv.FormatFloat(v, 'f', 0, 64)})
	}
	return out
}

// scalingFigure: the main-phase median of each implementation against the
// size of the variant ("n=1000" -> 1000), log-log, for a task run at
// several sizes. Failed points are named in the legend, not drawn.
func scalingFigure(g scalingGroup) *figure {
	secs := g.Secs
	key := scalingKey(secs)
	if key == "" {
		return nil
	}
	phase := secs[0].Main
	type pt struct{ x, y, lo, hi float64 }
	pts := map[string][]pt{}
	failed := map[string][]string{}
	var impls []string
	langs := map[string]string{}
	for _, s := range secs {
		_, v, _ := strings.Cut(s.Variant, "=")
		x, _ := strconv.ParseFloat(v, 64)
		for _, w := range s.Rows {
			id := w.R.Impl
			impls = appendNew(impls, id)
			langs[id] = language(id, w.R.Language)
			sum, ok := w.Sums[phase]
			switch {
			case w.Failed:
				failed[id] = append(failed[id], s.Variant)
			case ok && sum.Median > 0 && x > 0:
				pts[id] = append(pts[id], pt{x, sum.Median, sum.Lo, sum.Hi})
			}
		}
	}
	slices.Sort(impls)
	title := fmt.Sprintf("%s: %s time against %s (median, log-log)", secs[0].Task, phase, key)
	p := newPlot(title, key+" (log scale)", phase+" median (log scale)")
	var leg []legendEntry
	any := false
	for i, id := range impls {
		xy := make(plotter.XYs, len(pts[id]))
		errs := make(plotter.YErrors, len(pts[id]))
		for j, q := range pts[id] {
			xy[j] = plotter.XY{X: q.x, Y: q.y}
			errs[j] = struct{ Low, High float64 }{q.y - q.lo, q.hi - q.y}
		}
		label := id
		if f := failed[id]; len(f) > 0 {
			label += " (FAILED at " + strings.Join(f, ", ") + ")"
		}
		ls := lineStyle(i, langs[id])
		if len(xy) == 0 {
			leg = append(leg, legendEntry{Label: label, Thumb: swatch{failColor}})
			continue
		}
		any = true
		l, sc, err := plotter.NewLinePoints(xy)
		if err != nil {
			continue
		}
		l.LineStyle = ls
		sc.GlyphStyle = draw.GlyphStyle{Color: ls.Color, Radius: vg.Points(2.5), Shape: draw.CircleGlyph{}}
		eb := &plotter.YErrorBars{XYs: xy, YErrors: errs, LineStyle: draw.LineStyle{Color: ls.Color, Width: vg.Points(1)}, CapWidth: vg.Points(5)}
		p.Add(l, sc, eb)
		leg = append(leg, legendEntry{Label: label, Thumb: l})
	}
	if !any {
		return nil
	}
	useLog(&p.X, "")
	useLog(&p.Y, "s")
	p.Y.Tick.Marker = durTicks{}
	padLog(&p.X)
	padLog(&p.Y)
	p.Add(plotter.NewGrid())
	return &figure{Name: g.slug("scaling"), Title: title, Plot: p, W: figWidth, H: 340, Legend: leg,
		Caption: fmt.Sprintf("Median %s time of each implementation at each %s, with its 95%% interval; "+
			"failed results are named in the legend and not drawn.", phase, key)}
}

// scalingKey is the key of the sections' variants ("n" of "n=1000") when
// every variant is key=number with one key and all share a main phase;
// else "".
func scalingKey(secs []*section) string {
	key := ""
	for _, s := range secs {
		k, v, ok := strings.Cut(s.Variant, "=")
		if _, err := strconv.ParseFloat(v, 64); !ok || err != nil || (key != "" && k != key) || s.Main == "" || s.Main != secs[0].Main {
			return ""
		}
		key = k
	}
	return key
}
