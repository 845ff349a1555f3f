package report

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/mlbench/mlbench/stats"
)

// Format of a report.
type Format string

// Formats.
const (
	Markdown Format = "markdown"
	JSON     Format = "json"
	CSV      Format = "csv"
)

// Formats lists the table formats; HTML (a page with plots) comes besides.
var Formats = []Format{Markdown, JSON, CSV}

// ParseFormat checks a format name given by a user ("md" is markdown).
func ParseFormat(s string) (Format, error) {
	switch f := Format(strings.ToLower(s)); f {
	case Markdown, JSON, CSV, HTML:
		return f, nil
	case "md":
		return Markdown, nil
	}
	return "", fmt.Errorf("unknown format %q (want markdown, json, csv or html)", s)
}

// durUnit picks the unit for a duration in seconds.
func durUnit(sec float64) (string, float64) {
	a := math.Abs(sec)
	switch {
	case a == 0:
		return "s", 1
	case a < 1e-6:
		return "ns", 1e-9
	case a < 1e-3:
		return "µs", 1e-6
	case a < 1:
		return "ms", 1e-3
	}
	return "s", 1
}

// sigDecimals is the number of decimals that shows x with n significant
// digits (0 for large x: digits left of the point are never dropped).
func sigDecimals(x float64, n int) int {
	if x == 0 {
		return n - 1
	}
	d := n - 1 - int(math.Floor(math.Log10(math.Abs(x))))
	return max(d, 0)
}

// fmtDur formats seconds with 3 significant digits in an adaptive unit.
func fmtDur(sec float64) string {
	u, scale := durUnit(sec)
	v := sec / scale
	return strconv.FormatFloat(v, 'f', sigDecimals(v, 3), 64) + " " + u
}

// fmtSummary formats a summary as "1.23 ms [1.20, 1.25] n=7": the interval in
// the median's unit and precision, left out when there is none.
func fmtSummary(s stats.Summary) string {
	u, scale := durUnit(s.Median)
	m := s.Median / scale
	d := sigDecimals(m, 3)
	f := func(x float64) string { return strconv.FormatFloat(x/scale, 'f', d, 64) }
	if !s.HasCI {
		return fmt.Sprintf("%s %s n=%d", f(s.Median), u, s.N)
	}
	return fmt.Sprintf("%s %s [%s, %s] n=%d", f(s.Median), u, f(s.Lo), f(s.Hi), s.N)
}

// fmtNum formats a metric with 4 significant digits, in plain notation
// unless the number is very large or very small.
func fmtNum(x float64) string {
	a := math.Abs(x)
	if a != 0 && (a < 1e-3 || a >= 1e9) {
		return strconv.FormatFloat(x, 'g', 4, 64)
	}
	return strconv.FormatFloat(x, 'f', sigDecimals(x, 4), 64)
}

// fmtRatio formats a ratio and its interval: "0.52x [0.49, 0.55]".
func fmtRatio(r stats.Ratio) string {
	d := 2
	if r.Ratio < 0.1 && r.Ratio > 0 {
		d = sigDecimals(r.Ratio, 2)
	}
	f := func(x float64) string { return strconv.FormatFloat(x, 'f', d, 64) }
	if !r.HasCI {
		return f(r.Ratio) + "x"
	}
	return fmt.Sprintf("%sx [%s, %s]", f(r.Ratio), f(r.Lo), f(r.Hi))
}

// fmtMiB formats bytes in MiB, 3 significant digits.
func fmtMiB(b int64) string {
	m := float64(b) / (1 << 20)
	return strconv.FormatFloat(m, 'f', sigDecimals(m, 3), 64) + " MiB"
}

// cell makes text safe inside a markdown table cell: one line, pipes escaped.
func cell(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	return strings.ReplaceAll(s, "|", `\|`)
}

// oneLine shortens a reason to its first line and at most 100 characters.
func oneLine(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	s = strings.TrimSpace(s)
	if r := []rune(s); len(r) > 100 {
		s = string(r[:99]) + "…"
	}
	return s
}

// firstSentence of a note: up to the first ". " (or the whole note).
func firstSentence(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	if i := strings.Index(s, ". "); i >= 0 {
		s = s[:i]
	}
	return strings.TrimSuffix(s, ".")
}
