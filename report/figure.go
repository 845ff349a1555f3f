package report

import (
	"bytes"
	"fmt"
	"image/color"
	"math"
	"strconv"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
	"gonum.org/v1/plot/vg/vgsvg"
)

// figure is one plot of a report: a gonum plot and, beside it, a legend
// drawn in a strip of its own so that it never covers the data.
type figure struct {
	Name    string // file name without extension: "classical-kmeans-n1000-ratio"
	Title   string
	Caption string // what the figure shows and what it leaves out
	Plot    *plot.Plot
	Legend  []legendEntry
	W, H    vg.Length
}

type legendEntry struct {
	Label string
	Thumb plot.Thumbnailer
}

// sans is the font of every label: Liberation Sans, which gonum/plot ships
// and measures text with, and which the HTML page and SVG files embed, so
// that what is drawn is what was measured in every browser.
var sans = font.Font{Typeface: "Liberation", Variant: "Sans"}

const (
	figWidth   = 620 // points
	legendFont = 10
)

// newPlot is a plot with the report's fonts and style.
func newPlot(title, xlabel, ylabel string) *plot.Plot {
	p := plot.New()
	p.Title.Text = title
	p.Title.TextStyle.Font = font.From(sans, 12)
	p.Title.Padding = vg.Points(6)
	for _, a := range []*plot.Axis{&p.X, &p.Y} {
		a.Label.TextStyle.Font = font.From(sans, 10)
		a.Tick.Label.Font = font.From(sans, 9)
		a.Padding = vg.Points(2)
	}
	p.X.Label.Text, p.Y.Label.Text = xlabel, ylabel
	p.Legend.TextStyle.Font = font.From(sans, legendFont)
	return p
}

// draw renders the figure on c: the legend in a strip on the right, the
// plot in the rest.
func (f *figure) draw(c draw.Canvas) {
	if len(f.Legend) == 0 {
		f.Plot.Draw(c)
		return
	}
	l := plot.NewLegend()
	l.TextStyle.Font = font.From(sans, legendFont)
	l.Top, l.Left = true, true
	l.ThumbnailWidth = vg.Points(22)
	l.Padding = vg.Points(4)
	for _, e := range f.Legend {
		l.Add(e.Label, e.Thumb)
	}
	w := l.Rectangle(c).Size().X + vg.Points(12)
	plotArea := draw.Crop(c, 0, -w, 0, 0)
	f.Plot.Draw(plotArea)
	legArea := draw.Crop(c, c.Max.X-c.Min.X-w+vg.Points(8), 0, 0, -vg.Points(30))
	l.Draw(legArea)
}

// svg renders the figure as an SVG document. With embed the font is
// embedded in it (a file of its own); without, the page that holds the SVG
// provides the font (fontFaceCSS).
func (f *figure) svg(embed bool) (b []byte, err error) {
	defer recoverDraw(f, &err)
	c := vgsvg.NewWith(vgsvg.UseWH(f.W, f.H), vgsvg.EmbedFonts(embed))
	f.draw(draw.New(c))
	var buf bytes.Buffer
	if _, err := c.WriteTo(&buf); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// png renders the figure as a PNG image at 2x (144 dpi).
func (f *figure) png() (b []byte, err error) {
	defer recoverDraw(f, &err)
	c := vgimg.NewWith(vgimg.UseWH(f.W, f.H), vgimg.UseDPI(144), vgimg.UseBackgroundColor(color.White))
	f.draw(draw.New(c))
	var buf bytes.Buffer
	if _, err := (vgimg.PngCanvas{Canvas: c}).WriteTo(&buf); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// recoverDraw turns a panic of the plotting library (it panics on data it
// cannot scale) into an error naming the figure: the report then says the
// figure could not be drawn instead of crashing.
func recoverDraw(f *figure, err *error) {
	if r := recover(); r != nil {
		*err = fmt.Errorf("figure %s: %v", f.Name, r)
	}
}

// Colours: one per language for bars; a palette (Tableau 10) for lines.
var (
	langColors = map[string]color.Color{
		"go":     rgb(0x00, 0xad, 0xd8),
		"python": rgb(0x35, 0x72, 0xa5),
		"rust":   rgb(0xde, 0x8f, 0x5a),
	}
	otherColor = rgb(0x88, 0x88, 0x88)
	palette    = []color.Color{
		rgb(0x1f, 0x77, 0xb4), rgb(0xff, 0x7f, 0x0e), rgb(0x2c, 0xa0, 0x2c), rgb(0xd6, 0x27, 0x28),
		rgb(0x94, 0x67, 0xbd), rgb(0x8c, 0x56, 0x4b), rgb(0xe3, 0x77, 0xc2), rgb(0x7f, 0x7f, 0x7f),
		rgb(0xbc, 0xbd, 0x22), rgb(0x17, 0xbe, 0xcf),
	}
	failColor = rgb(0xc0, 0x00, 0x00)
)

func rgb(r, g, b uint8) color.Color { return color.RGBA{R: r, G: g, B: b, A: 0xff} }

// language of an implementation id: its prefix ("go-gonum" -> "go"), else
// what the result says.
func language(impl, lang string) string {
	if p, _, ok := strings.Cut(impl, "-"); ok {
		if _, known := langColors[p]; known {
			return p
		}
	}
	return lang
}

func langColor(lang string) color.Color {
	if c, ok := langColors[lang]; ok {
		return c
	}
	return otherColor
}

// lineStyle of the i-th implementation of a figure: a palette colour and a
// dash pattern per language, so lines differ without colour too.
func lineStyle(i int, lang string) draw.LineStyle {
	s := draw.LineStyle{Color: palette[i%len(palette)], Width: vg.Points(1.5)}
	switch lang {
	case "python":
		s.Dashes = []vg.Length{vg.Points(6), vg.Points(3)}
	case "rust":
		s.Dashes = []vg.Length{vg.Points(2), vg.Points(2)}
	}
	return s
}

// logTicks labels a log axis at 1, 2 and 5 times powers of ten (every
// integer multiple within one decade, only powers of ten beyond three
// decades), with the other integer multiples as unlabelled minor ticks.
type logTicks struct{ unit string }

func (t logTicks) Ticks(min, max float64) []plot.Tick {
	if min <= 0 || max <= 0 || math.IsInf(min, 0) || math.IsInf(max, 0) || min > max {
		return nil
	}
	lo, hi := math.Floor(math.Log10(min)), math.Ceil(math.Log10(max))
	span := math.Log10(max / min)
	var ticks []plot.Tick
	for e := lo; e <= hi; e++ {
		p := math.Pow(10, e)
		for m := 1.0; m < 10; m++ {
			v := m * p
			if v < min*(1-1e-9) || v > max*(1+1e-9) {
				continue
			}
			label := ""
			if m == 1 || span < 1 || (span <= 3 && (m == 2 || m == 5)) {
				label = fmtTick(v) + t.unit
			}
			ticks = append(ticks, plot.Tick{Value: v, Label: label})
		}
	}
	return ticks
}

// fmtTick formats a tick value with at most 6 significant digits and no
// trailing zeros: 0.6 (not 0.6000000000000001), 2, 1e+06.
func fmtTick(v float64) string {
	if a := math.Abs(v); a >= 1e5 || (a < 1e-3 && a != 0) {
		return strconv.FormatFloat(v, 'g', 3, 64)
	}
	r, _ := strconv.ParseFloat(strconv.FormatFloat(v, 'g', 6, 64), 64)
	return strconv.FormatFloat(r, 'f', -1, 64)
}

// useLog sets a log scale with readable ticks on axis a.
func useLog(a *plot.Axis, unit string) {
	a.Scale = plot.LogScale{}
	a.Tick.Marker = logTicks{unit: unit}
}

// padLog widens [min, max] of a log axis by a little on both sides, and to
// at least one factor of 2 overall, so that points are not on the frame.
func padLog(a *plot.Axis) {
	if a.Min <= 0 || a.Max <= 0 {
		return
	}
	lo, hi := math.Log10(a.Min), math.Log10(a.Max)
	if hi-lo < math.Log10(2) {
		mid := (hi + lo) / 2
		lo, hi = mid-math.Log10(2)/2, mid+math.Log10(2)/2
	}
	pad := (hi - lo) * 0.05
	a.Min, a.Max = math.Pow(10, lo-pad), math.Pow(10, hi+pad)
}
