package report

import (
	_ "embed"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io"
	"os"
	"path/filepath"
	"strings"

	"codeberg.org/go-fonts/liberation/liberationsansregular"

	"github.com/mlbench/mlbench/bench"
)

// HTML is the format of the one-file HTML report (WriteHTML).
const HTML Format = "html"

// RunInfo is the part of a run's run.json (written by `mlbench run`) that
// the HTML report shows as provenance.
type RunInfo struct {
	Command    []string          `json:"command"`
	FinishedAt string            `json:"finished_at"`
	Size       string            `json:"size"`
	Threads    int               `json:"threads"`
	Device     string            `json:"device"`
	Reps       int               `json:"reps"`
	Warmup     int               `json:"warmup"`
	Timeout    string            `json:"timeout"`
	Jobs       JobCount          `json:"jobs"`
	Skipped    map[string]string `json:"skipped"`
	ThreadEnv  []string          `json:"thread_env"`
	Parts      []RunInfo         `json:"parts"`
	// Order, Rounds and Seed: how the processes were ordered (run --order).
	Order  string `json:"order"`
	Rounds int    `json:"rounds"`
	Seed   int64  `json:"seed"`
}

// JobCount is run.json's "jobs": a count in a run's run.json, the list of
// jobs (each with its host) in a merged one (mlbench merge).
type JobCount int

// UnmarshalJSON takes a number or an array (its length).
func (n *JobCount) UnmarshalJSON(b []byte) error {
	var list []json.RawMessage
	if err := json.Unmarshal(b, &list); err == nil {
		*n = JobCount(len(list))
		return nil
	}
	var i int
	if err := json.Unmarshal(b, &i); err != nil {
		return fmt.Errorf("jobs: want a number or a list: %v", err)
	}
	*n = JobCount(i)
	return nil
}

// LoadRunInfo reads dir/run.json; it returns nil and no error when the
// directory has none (a run interrupted before its end writes none).
func LoadRunInfo(dir string) (*RunInfo, error) {
	b, err := os.ReadFile(filepath.Join(dir, "run.json"))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var ri RunInfo
	if err := json.Unmarshal(b, &ri); err != nil {
		return nil, fmt.Errorf("%s: %v", filepath.Join(dir, "run.json"), err)
	}
	return &ri, nil
}

// Page says what an HTML page is about.
type Page struct {
	Title  string   // the page's heading
	Source string   // where the results came from (a directory), shown as is
	Run    *RunInfo // nil when unknown
}

//go:embed page.html.tmpl
var pageTemplate string

var pageTmpl = template.Must(template.New("page").Funcs(template.FuncMap{
	"cls": cellClass,
}).Parse(pageTemplate))

// fontFaceCSS declares the font every SVG of the page is measured with,
// embedded, so that labels look the same in every browser, offline.
func fontFaceCSS() template.CSS {
	return template.CSS(`@font-face{font-family:"Liberation Sans";font-style:normal;font-weight:normal;` +
		`src:url(data:font/ttf;base64,` + base64.StdEncoding.EncodeToString(liberationsansregular.TTF) + `) format("truetype");}`)
}

// htmlFigure is a figure as the page shows it.
type htmlFigure struct {
	ID, Title, Caption string
	SVG                template.HTML
	Err                string // the figure could not be drawn
}

// inlineSVG renders f for the page: no XML prolog, the page's font.
func inlineSVG(f *figure) htmlFigure {
	h := htmlFigure{ID: "fig-" + f.Name, Title: f.Title, Caption: f.Caption}
	b, err := f.svg(false)
	if err != nil {
		h.Err = err.Error()
		return h
	}
	s := string(b)
	if i := strings.Index(s, "<svg "); i >= 0 {
		s = s[i:]
	}
	s = strings.Replace(s, "<svg ", `<svg class="plot" role="img" aria-label="`+template.HTMLEscapeString(f.Title)+`" `, 1)
	h.SVG = template.HTML(s)
	return h
}

type htmlTable struct {
	Header []string
	Rows   [][]string
}

type htmlSection struct {
	ID, Title, Setup string
	Table            htmlTable
	Lines            []string
	Figures          []htmlFigure
}

type htmlScaling struct {
	ID, Title string
	Table     htmlTable
	Figure    *htmlFigure
	Ratio     *htmlFigure // scalingRatioFigure
}

// htmlBlock is a section, or a task's scaling table after its last section.
type htmlBlock struct {
	Section *htmlSection
	Scaling *htmlScaling
}

type pageData struct {
	Page
	FontCSS    template.CSS
	Headline   *headline
	Provenance *provenance
	Blocks     []htmlBlock
	Compare    []*htmlSection
	Limits     *htmlSection // the fraction of the machine's limits; nil when not measured
}

// WriteHTML writes one self-contained HTML page for one run: the headline
// matrix, the provenance, and per (task, variant) the table, its notes and
// its plots. It needs no network, no other file and no JavaScript.
func WriteHTML(w io.Writer, results []*bench.Result, page Page) error {
	if len(results) == 0 {
		return fmt.Errorf("no results to report")
	}
	secs, err := build(results)
	if err != nil {
		return err
	}
	d := pageData{Page: page, FontCSS: fontFaceCSS(), Provenance: buildProvenance(results, page.Run),
		Limits: limitsSection(results)}
	if len(secs) > 0 { // not for null implementations alone
		d.Headline = buildHeadline(secs)
	}
	if d.Title == "" {
		d.Title = "mlbench report"
	}
	for i, s := range secs {
		d.Blocks = append(d.Blocks, htmlBlock{Section: pageSection(s)})
		for _, g := range taskScalings(secs, i) {
			phase, header, rows := scalingTable(g.Secs)
			sc := &htmlScaling{ID: g.slug("scaling"), Title: g.title(phase), Table: htmlTable{header, rows}}
			if f := scalingFigure(g); f != nil {
				h := inlineSVG(f)
				sc.Figure = &h
			}
			if f := scalingRatioFigure(g); f != nil {
				h := inlineSVG(f)
				sc.Ratio = &h
			}
			d.Blocks = append(d.Blocks, htmlBlock{Scaling: sc})
		}
	}
	if _, nulls := splitNull(results); len(nulls) > 0 {
		h := fixedCostSection(nulls)
		d.Blocks = append(d.Blocks, htmlBlock{Section: h})
	}
	return pageTmpl.Execute(w, d)
}

func pageSection(s *section) *htmlSection {
	header, rows := sectionTable(s)
	h := &htmlSection{ID: slug(s.Task, s.Variant), Title: s.Title(), Setup: setupLine(s),
		Table: htmlTable{header, rows}, Lines: sectionLines(s)}
	for _, f := range sectionFigures(s) {
		h.Figures = append(h.Figures, inlineSVG(f))
	}
	return h
}

// cellClass styles a table cell by what it says.
func cellClass(text string) string {
	switch {
	case strings.HasPrefix(text, "FAILED"):
		return "failed"
	case strings.HasSuffix(text, " faster"):
		return "faster"
	case strings.HasSuffix(text, " slower"):
		return "slower"
	case strings.HasSuffix(text, " ~"):
		return "same"
	case text == "ref":
		return "ref"
	case strings.HasPrefix(text, "~ (p="):
		return "same"
	case strings.HasPrefix(text, "-") && strings.Contains(text, "% (p="):
		return "faster"
	case strings.HasPrefix(text, "+") && strings.Contains(text, "% (p="):
		return "slower"
	}
	return ""
}
