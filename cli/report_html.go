package cli

import (
	"bytes"
	"fmt"
	"path/filepath"

	"github.com/urfave/cli/v2"

	"github.com/mlbench/mlbench/bench"
	"github.com/mlbench/mlbench/report"
)

// writeReport prints the table of a run in format f, or, for html, writes
// the page (DIR/report.html unless --output) and prints its path; with
// --plots it writes the plots as files first.
func writeReport(c *cli.Context, dir string, rs []*bench.Result, f report.Format) error {
	if out := c.String("plots"); out != "" {
		pf, err := report.ParsePlotFormat(c.String("plot-format"))
		if err != nil {
			return err
		}
		paths, err := report.WritePlots(out, rs, pf)
		for _, p := range paths {
			fmt.Fprintln(c.App.Writer, p)
		}
		if err != nil {
			return err
		}
		if !c.IsSet("format") {
			return nil
		}
	}
	if f != report.HTML {
		if c.IsSet("output") {
			return fmt.Errorf("--output is for --format html; other formats go to standard output")
		}
		return report.Write(c.App.Writer, rs, f)
	}
	out, err := writeHTMLPage(dir, rs, c.String("output"))
	if err != nil {
		return err
	}
	fmt.Fprintln(c.App.Writer, out)
	return nil
}

// writeHTMLPage writes the HTML report of the results rs of the run in dir
// to out (DIR/report.html when empty) atomically, and returns its path.
func writeHTMLPage(dir string, rs []*bench.Result, out string) (string, error) {
	run, err := report.LoadRunInfo(dir)
	if err != nil {
		return "", err
	}
	var b bytes.Buffer
	if err := report.WriteHTML(&b, rs, report.Page{Source: dir, Run: run}); err != nil {
		return "", err
	}
	if out == "" {
		out = filepath.Join(dir, "report.html")
	}
	return out, report.WriteFile(out, b.Bytes())
}

// writeCompareHTML writes the HTML comparison of two runs to --output
// (atomically, then prints the path) or to standard output.
func writeCompareHTML(c *cli.Context, old, cur []*bench.Result) error {
	var b bytes.Buffer
	page := report.ComparePage{Old: c.Args().Get(0), New: c.Args().Get(1)}
	if err := report.WriteCompareHTML(&b, old, cur, page); err != nil {
		return err
	}
	out := c.String("output")
	if out == "" {
		_, err := c.App.Writer.Write(b.Bytes())
		return err
	}
	if err := report.WriteFile(out, b.Bytes()); err != nil {
		return err
	}
	fmt.Fprintln(c.App.Writer, out)
	return nil
}
