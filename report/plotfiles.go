package report

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/mlbench/mlbench/bench"
)

// PlotFormat is the file format of WritePlots.
type PlotFormat string

// Plot formats.
const (
	SVG PlotFormat = "svg" // fonts embedded: the file renders alike everywhere
	PNG PlotFormat = "png" // 144 dpi
)

// ParsePlotFormat checks a plot format name given by a user.
func ParsePlotFormat(s string) (PlotFormat, error) {
	switch f := PlotFormat(strings.ToLower(s)); f {
	case SVG, PNG:
		return f, nil
	}
	return "", fmt.Errorf("unknown plot format %q (want svg or png)", s)
}

// figures are all plots of a run, in page order: each section's, and after
// a task's last section its scaling plot.
func figures(secs []*section) []*figure {
	var out []*figure
	for i, s := range secs {
		out = append(out, sectionFigures(s)...)
		for _, g := range taskScalings(secs, i) {
			if f := scalingFigure(g); f != nil {
				out = append(out, f)
			}
			if f := scalingRatioFigure(g); f != nil {
				out = append(out, f)
			}
		}
	}
	return out
}

// WritePlots writes every plot of a run as a file in dir (created if
// needed), each atomically, and returns their paths. A figure that cannot be
// drawn is an error; the files written before it stay.
func WritePlots(dir string, results []*bench.Result, f PlotFormat) ([]string, error) {
	if _, err := ParsePlotFormat(string(f)); err != nil {
		return nil, err
	}
	if len(results) == 0 {
		return nil, fmt.Errorf("no results to plot")
	}
	secs, err := build(results)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	var paths []string
	for _, fig := range figures(secs) {
		var b []byte
		if f == SVG {
			b, err = fig.svg(true)
		} else {
			b, err = fig.png()
		}
		if err != nil {
			return paths, err
		}
		path := filepath.Join(dir, fig.Name+"."+string(f))
		if err := WriteFile(path, b); err != nil {
			return paths, err
		}
		paths = append(paths, path)
	}
	return paths, nil
}

// WriteFile writes b to path atomically (a temporary file, then a rename),
// readable by all like any other document.
func WriteFile(path string, b []byte) error {
	if err := bench.WriteFileAtomic(path, b); err != nil {
		return err
	}
	return os.Chmod(path, 0o644)
}
