package report

import (
	"image/color"
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// bar is one row of a horizontal bar chart: a value with an optional
// interval, or a failure that is shown, never dropped.
type bar struct {
	Label  string // y tick label
	Color  color.Color
	Value  float64
	Lo, Hi float64 // the interval; used when HasCI
	HasCI  bool
	Text   string // printed right of the bar ("0.52x ~")
	Failed string // non-empty: no bar, this text in red instead
	Group  int    // rows of one group are drawn together; a rule separates groups
}

// hbars draws bars from Base (1 for ratios on a log axis, 0 for values) to
// each value, top row first.
type hbars struct {
	Bars []bar
	Base float64
}

const barHalf = 5 // points: half the height of a bar

func (b *hbars) y(i int) float64 { return float64(len(b.Bars) - 1 - i) }

func (b *hbars) Plot(c draw.Canvas, p *plot.Plot) {
	trX, trY := p.Transforms(&c)
	small := draw.TextStyle{Color: color.Black, Font: font.From(sans, 8), Handler: plot.DefaultTextHandler,
		YAlign: draw.YCenter}
	failed := small
	failed.Color = failColor
	x0 := trX(b.Base)
	for i, it := range b.Bars {
		y := trY(b.y(i))
		if i > 0 && it.Group != b.Bars[i-1].Group {
			ry := y + (trY(b.y(i-1))-y)/2
			c.StrokeLine2(draw.LineStyle{Color: color.Gray{Y: 0xcc}, Width: vg.Points(0.5)}, c.Min.X, ry, c.Max.X, ry)
		}
		if it.Failed != "" {
			c.FillText(failed, vg.Point{X: c.Min.X + vg.Points(4), Y: y}, "FAILED: "+it.Failed)
			continue
		}
		x := trX(it.Value)
		lo, hi := min(x0, x), max(x0, x)
		var rect vg.Path
		rect.Move(vg.Point{X: lo, Y: y - barHalf})
		rect.Line(vg.Point{X: hi, Y: y - barHalf})
		rect.Line(vg.Point{X: hi, Y: y + barHalf})
		rect.Line(vg.Point{X: lo, Y: y + barHalf})
		rect.Close()
		c.SetColor(it.Color)
		c.Fill(rect)
		right := x
		if it.HasCI {
			el, eh := trX(it.Lo), trX(it.Hi)
			ls := draw.LineStyle{Color: color.Black, Width: vg.Points(1)}
			c.StrokeLine2(ls, el, y, eh, y)
			c.StrokeLine2(ls, el, y-3, el, y+3)
			c.StrokeLine2(ls, eh, y-3, eh, y+3)
			right = max(right, eh)
		}
		if it.Text != "" {
			c.FillText(small, vg.Point{X: max(right, x0) + vg.Points(3), Y: y}, it.Text)
		}
	}
	ls := draw.LineStyle{Color: color.Gray{Y: 0x40}, Width: vg.Points(0.8), Dashes: []vg.Length{vg.Points(3), vg.Points(2)}}
	c.StrokeLine2(ls, x0, c.Min.Y, x0, c.Max.Y)
}

func (b *hbars) DataRange() (xmin, xmax, ymin, ymax float64) {
	xmin, xmax = b.Base, b.Base
	for _, it := range b.Bars {
		if it.Failed != "" {
			continue
		}
		xmin, xmax = math.Min(xmin, it.Value), math.Max(xmax, it.Value)
		if it.HasCI {
			xmin, xmax = math.Min(xmin, it.Lo), math.Max(xmax, it.Hi)
		}
	}
	return xmin, xmax, -0.6, float64(len(b.Bars)) - 0.4
}

// ticks labels each row.
func (b *hbars) Ticks(min, max float64) []plot.Tick {
	out := make([]plot.Tick, len(b.Bars))
	for i, it := range b.Bars {
		out[i] = plot.Tick{Value: b.y(i), Label: it.Label}
	}
	return out
}

// barPlot makes the plot of bars: a log x axis around 1 for ratios, a
// linear one from 0 for values. Room is left right of the longest bar for
// its text.
func barPlot(title, xlabel string, bars []bar, logX bool) *plot.Plot {
	p := newPlot(title, xlabel, "")
	hb := &hbars{Bars: bars}
	if logX {
		hb.Base = 1
	}
	p.Add(hb)
	p.Y.Tick.Marker = plot.TickerFunc(hb.Ticks)
	p.Y.Tick.Length = 0
	p.Y.Padding = 0
	xmin, xmax, _, _ := hb.DataRange()
	if logX {
		useLog(&p.X, "x")
		p.X.Min, p.X.Max = xmin, xmax
		padLog(&p.X)
		p.X.Max *= math.Pow(p.X.Max/p.X.Min, 0.18) // room for the text
	} else {
		p.X.Min, p.X.Max = 0, xmax*1.22
		if xmax <= 0 {
			p.X.Max = 1
		}
	}
	return p
}

// barHeight is the height of a bar chart with n rows.
func barHeight(n int) vg.Length { return vg.Points(float64(70 + 17*n)) }
