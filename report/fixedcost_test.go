package report

import (
	"bytes"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mlbench/mlbench/bench"
)

func nullResult(impl, lang string, wall float64, load []float64) *bench.Result {
	return &bench.Result{SchemaVersion: bench.SchemaVersion, Task: "classical/svm", Impl: impl, Language: lang,
		Framework: "null", Status: bench.StatusOK, WallSeconds: wall, PeakRSSBytes: 8 << 20,
		Phases: map[string][]float64{"load": load, "fit": {0.001, 0.001, 0.001}, "predict": {0, 0, 0}},
		Parity: &bench.Parity{OK: true, Checks: []bench.ParityCheck{{Name: "null", OK: true}}}}
}

// Null results change nothing of the comparison (no row, rank, ratio or
// headline cell); they add the fixed-cost section, with figures computed
// from their phases and wall time.
func TestNullResultsMakeTheFixedCostSection(t *testing.T) {
	rs := load(t, "run1")
	var without bytes.Buffer
	require.NoError(t, Write(&without, rs, Markdown))
	nulls := []*bench.Result{
		nullResult("go-null", "go", 0.2, []float64{0.010, 0.030, 0.020}),
		nullResult("python-null", "python", 1.0, []float64{0.040, 0.050, 0.060}),
	}
	nulls[1].Rounds = 2 // two processes (--order alternate): 0.5 s each
	failed := nullResult("rust-null", "rust", 0.1, nil)
	failed.Status, failed.Reason = bench.StatusFailed, "exit status 1: error: input X: gone"
	all := append(append(append([]*bench.Result{}, rs...), nulls...), failed)

	var with bytes.Buffer
	require.NoError(t, Write(&with, all, Markdown))
	got := with.String()
	require.True(t, strings.HasPrefix(got, without.String()), "the comparison is the same with null results:\n%s", got)
	extra := strings.TrimPrefix(got, without.String())
	assert.Contains(t, extra, "## Fixed cost per language")
	// go-null: repetitions sum to 0.011, 0.031, 0.021 s (median 0.021);
	// 0.063 s of 0.2 s is in the phases.
	assert.Contains(t, extra, "| median of 1 jobs | go-null | go | "+fmtDur(0.2)+" | "+fmtDur(0.2-0.063)+" | "+fmtDur(0.021)+" | "+fmtDur(0.020)+" | "+fmtMiB(8<<20)+" |")
	assert.Contains(t, extra, "| median of 1 jobs | python-null | python | "+fmtDur(0.5))
	assert.Contains(t, extra, "| classical/svm | rust-null | rust | FAILED: exit status 1: error: input X: gone |")
	assert.NotContains(t, extra, "median of 1 jobs | rust-null", "a failed null result is no language's cost")

	var page bytes.Buffer
	require.NoError(t, WriteHTML(&page, all, Page{}))
	html := page.String()
	assert.Contains(t, html, `<h2 id="fixed-cost">Fixed cost per language</h2>`)
	assert.False(t, strings.Contains(html, "<tr><th>go-null</th>"), "no headline row for a null implementation")
	at := strings.Index(html, `id="fixed-cost"`)
	assert.Equal(t, 1, strings.Count(html[:at], ">python-null</td>"), "before its section only in the provenance's list of what ran")
	assert.Equal(t, 2, strings.Count(html[at:], ">python-null</td>"), "its language's median and its job")

	var js bytes.Buffer
	require.NoError(t, Write(&js, all, JSON))
	assert.NotContains(t, js.String(), "python-null", "the JSON rows are the comparison's")
}

// A run of null implementations alone has no comparison: no headline.
func TestNullResultsAloneHaveNoHeadline(t *testing.T) {
	rs := []*bench.Result{nullResult("go-null", "go", 0.2, []float64{0.01, 0.01, 0.01})}
	var b bytes.Buffer
	require.NoError(t, Write(&b, rs, Markdown))
	assert.NotContains(t, b.String(), "## Headline")
	assert.Contains(t, b.String(), "## Fixed cost per language")
	b.Reset()
	require.NoError(t, WriteHTML(&b, rs, Page{}))
	assert.NotContains(t, b.String(), `id="headline"`)
	assert.Contains(t, b.String(), `id="fixed-cost"`)
}
