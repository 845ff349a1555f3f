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

// ecdfTaskPhases are the per-request and per-token phases whose whole
// distribution matters ("request" is the sum of a request's phases, see
// requestPhases); in the other tasks a phase gets an ECDF when it has at
// least ecdfMinN samples.
var ecdfTaskPhases = map[string][]string{
	"llm/bert-qa": {"request", "model"},
	"llm/gpt2":    {"ttft", "per_token"},
}

// requestPhases make up one request of llm/bert-qa, one value each per
// request in the same order (what its latency_p50/p90/p99 metrics sum).
var requestPhases = []string{"tokenize", "model", "postprocess"}

// phaseValues are the durations of phase p of w; "request" is the sum of
// requestPhases per request, nil unless each has one value per request.
func phaseValues(w *row, p string) []float64 {
	if p != "request" {
		return w.R.Phases[p]
	}
	n := len(w.R.Phases[requestPhases[0]])
	for _, q := range requestPhases {
		if len(w.R.Phases[q]) != n {
			return nil
		}
	}
	out := make([]float64, n)
	for _, q := range requestPhases {
		for i, v := range w.R.Phases[q] {
			out[i] += v
		}
	}
	return out
}

const (
	ecdfMinN      = 50
	ecdfMaxPoints = 400 // quantiles drawn per line: the size does not grow with the run
	memPoints     = 400 // memory samples drawn per line (bucket maxima: the peak stays)
)

func ecdfPhases(s *section) []string {
	listed, ok := ecdfTaskPhases[s.Task]
	var out []string
	for _, p := range append(slices.Clone(listed), s.Phases...) {
		n := 0
		for _, w := range s.Rows {
			n = max(n, len(phaseValues(w, p)))
		}
		if n >= 2 && (slices.Contains(listed, p) || (!ok && n >= ecdfMinN)) {
			out = appendNew(out, p)
		}
	}
	return out
}

// percentileMarks are the quantiles marked on every ECDF line.
var percentileMarks = []struct {
	q     float64
	name  string
	shape draw.GlyphDrawer
}{{0.5, "p50", draw.CircleGlyph{}}, {0.9, "p90", draw.TriangleGlyph{}}, {0.99, "p99", draw.SquareGlyph{}}}

// ecdfFigure: the distribution of one phase's durations per implementation,
// drawn from at most ecdfMaxPoints quantiles, with p50/p90/p99 marked.
// Failed implementations are drawn too (their timings exist) and marked.
func ecdfFigure(s *section, phase string) *figure {
	what := phase
	if phase == "request" {
		what = "request (" + strings.Join(requestPhases, "+") + ")"
	}
	title := fmt.Sprintf("%s: %s latency distribution (ECDF)", s.Title(), what)
	p := newPlot(title, what+" duration (log scale)", "fraction of samples ≤ x")
	var leg []legendEntry
	var lines []string
	lo, hi := math.Inf(1), math.Inf(-1)
	for i, w := range s.Rows {
		v := positive(phaseValues(w, phase))
		if len(v) == 0 {
			continue
		}
		slices.Sort(v)
		lo, hi = math.Min(lo, v[0]), math.Max(hi, v[len(v)-1])
		l, err := plotter.NewLine(ecdfPoints(v))
		if err != nil {
			continue
		}
		l.LineStyle = lineStyle(i, language(w.R.Impl, w.R.Language))
		p.Add(l)
		var marks []string
		for _, m := range percentileMarks {
			x := stats.Quantile(v, m.q)
			sc, err := plotter.NewScatter(plotter.XYs{{X: x, Y: m.q}})
			if err != nil {
				continue
			}
			sc.GlyphStyle = draw.GlyphStyle{Color: l.LineStyle.Color, Radius: vg.Points(3), Shape: m.shape}
			p.Add(sc)
			marks = append(marks, m.name+" "+fmtDur(x))
		}
		leg = append(leg, legendEntry{Label: implLabel(w), Thumb: l})
		lines = append(lines, fmt.Sprintf("%s (n=%d): %s", w.R.Impl, len(v), strings.Join(marks, ", ")))
	}
	if len(leg) == 0 {
		return nil
	}
	for _, m := range percentileMarks {
		sc, _ := plotter.NewScatter(plotter.XYs{{}})
		sc.GlyphStyle = draw.GlyphStyle{Radius: vg.Points(3), Shape: m.shape}
		leg = append(leg, legendEntry{Label: m.name, Thumb: sc})
	}
	useLog(&p.X, "s")
	p.X.Tick.Marker = durTicks{}
	p.X.Min, p.X.Max = lo, hi
	padLog(&p.X)
	p.Y.Min, p.Y.Max = 0, 1
	p.Add(plotter.NewGrid())
	return &figure{Name: figName(s, phase+"-ecdf"), Title: title, Plot: p, W: figWidth, H: 320, Legend: leg,
		Caption: fmt.Sprintf("Share of %s samples at most x long, per implementation (at most %d quantiles drawn per line). %s.",
			what, ecdfMaxPoints, strings.Join(lines, "; "))}
}

// positive keeps the finite values > 0 (a log axis cannot show others).
func positive(v []float64) []float64 {
	out := make([]float64, 0, len(v))
	for _, x := range v {
		if x > 0 && !math.IsInf(x, 0) && !math.IsNaN(x) {
			out = append(out, x)
		}
	}
	return out
}

// ecdfPoints is the step ECDF of sorted v, or, for more than ecdfMaxPoints
// values, the quantile function sampled at ecdfMaxPoints probabilities.
func ecdfPoints(v []float64) plotter.XYs {
	n := len(v)
	if n <= ecdfMaxPoints {
		pts := make(plotter.XYs, 0, 2*n)
		for i, x := range v {
			pts = append(pts, plotter.XY{X: x, Y: float64(i) / float64(n)}, plotter.XY{X: x, Y: float64(i+1) / float64(n)})
		}
		return pts
	}
	pts := make(plotter.XYs, ecdfMaxPoints+1)
	for i := range pts {
		q := float64(i) / ecdfMaxPoints
		pts[i] = plotter.XY{X: stats.Quantile(v, q), Y: q}
	}
	return pts
}

// durTicks are logTicks labelled as durations (ms, µs...).
type durTicks struct{}

func (durTicks) Ticks(min, max float64) []plot.Tick {
	ts := logTicks{}.Ticks(min, max)
	for i := range ts {
		if ts[i].Label != "" {
			ts[i].Label = fmtDurShort(ts[i].Value)
		}
	}
	return ts
}

// fmtDurShort formats a tick: "2 ms", "500 µs", "1.5 s".
func fmtDurShort(sec float64) string {
	u, scale := durUnit(sec)
	return strconv.FormatFloat(sec/scale, 'g', 3, 64) + " " + u
}

// memoryFigure: the resident memory of each implementation's process tree
// over its run, as the orchestrator sampled it, peak marked.
func memoryFigure(s *section) *figure {
	title := fmt.Sprintf("%s: resident memory over time", s.Title())
	p := newPlot(title, "time since start (s)", "RSS (MiB)")
	var leg []legendEntry
	for i, w := range s.Rows {
		sm := w.R.Samples
		if len(sm) == 0 {
			continue
		}
		pts, peak := memPointsOf(w)
		l, err := plotter.NewLine(pts)
		if err != nil {
			continue
		}
		l.LineStyle = lineStyle(i, language(w.R.Impl, w.R.Language))
		sc, err := plotter.NewScatter(plotter.XYs{peak})
		if err != nil {
			continue
		}
		sc.GlyphStyle = draw.GlyphStyle{Color: l.LineStyle.Color, Radius: vg.Points(3.5), Shape: draw.CircleGlyph{}}
		p.Add(l, sc)
		label := fmt.Sprintf("%s (peak %s)", implLabel(w), fmtMiB(peakRSS(w.R)))
		leg = append(leg, legendEntry{Label: label, Thumb: l})
	}
	if len(leg) == 0 {
		return nil
	}
	p.Y.Min = 0
	p.Add(plotter.NewGrid())
	return &figure{Name: figName(s, "memory"), Title: title, Plot: p, W: figWidth, H: 300, Legend: leg,
		Caption: fmt.Sprintf("Resident set size of each implementation's process tree as the orchestrator sampled it "+
			"(at most %d points per line, each the largest sample of its interval); the dot is the highest sample. "+
			"The peak in the legend is the larger of the sampled peak and the process's own VmHWM.", memPoints)}
}

// memPointsOf downsamples the samples of w to at most memPoints (the
// largest RSS of each time bucket) and returns the highest sample.
func memPointsOf(w *row) (plotter.XYs, plotter.XY) {
	sm := w.R.Samples
	const mib = 1 << 20
	var peak plotter.XY
	for _, x := range sm {
		if y := float64(x.RSS) / mib; y > peak.Y {
			peak = plotter.XY{X: x.T, Y: y}
		}
	}
	step := max(1, (len(sm)+memPoints-1)/memPoints)
	pts := make(plotter.XYs, 0, len(sm)/step+1)
	for i := 0; i < len(sm); i += step {
		best := sm[i]
		for _, x := range sm[i:min(i+step, len(sm))] {
			if x.RSS > best.RSS {
				best = x
			}
		}
		pts = append(pts, plotter.XY{X: best.T, Y: float64(best.RSS) / mib})
	}
	return pts, peak
}
