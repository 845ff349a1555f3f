package report

import (
	"bytes"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mlbench/mlbench/bench"
	"github.com/mlbench/mlbench/stats"
)

var testLimits = &bench.Limits{Threads: 2, MeasuredAt: "2026-11-29T22:00:00Z",
	Bandwidth: bench.Measure{Value: 20e9, Repeats: 5, Kernel: "STREAM triad in Go"},
	GEMM:      bench.Measure{Value: 100e9, Repeats: 5, Kernel: "torch mm 2048x2048"}}

// run3's results (dl/cnn, llm/gpt2) with limits on their host.
func withLimits(t *testing.T) []*bench.Result {
	rs, err := Load(filepath.Join("testdata", "run3"))
	require.NoError(t, err)
	for _, r := range rs {
		require.NotNil(t, r.Host)
		h := *r.Host
		h.Limits = testLimits
		r.Host = &h
	}
	return rs
}

func find(t *testing.T, rs []*bench.Result, task, impl string) *bench.Result {
	for _, r := range rs {
		if r.Task == task && r.Impl == impl {
			return r
		}
	}
	t.Fatalf("no %s %s", task, impl)
	return nil
}

func TestLimitRowsDivideTheRateByTheLimit(t *testing.T) {
	rs := withLimits(t)
	g := find(t, rs, "llm/gpt2", "go-ort")
	row, ok := limitRowOf(g)
	require.True(t, ok)
	assert.InDelta(t, 494_613_504/stats.Summarize(g.Phases["per_token"]).Median, row.Rate, 1e-6*row.Rate)
	assert.Equal(t, 20e9, row.Limit)
	assert.False(t, row.UpperBound)

	c := find(t, rs, "dl/cnn", "python-pytorch")
	row, ok = limitRowOf(c)
	require.True(t, ok)
	assert.InDelta(t, c.Metrics["images_per_s"]*44_464_128, row.Rate, 1e-6*row.Rate)
	assert.Equal(t, 100e9, row.Limit)

	bert := &bench.Result{Task: "llm/bert-qa", Impl: "go-ort", Status: bench.StatusOK, Device: "cpu", Threads: 2,
		Host: &bench.HostInfo{CPU: "x", Limits: testLimits}, Params: map[string]any{"max_length": 384.0},
		Metrics: map[string]float64{"windows_per_request": 1.5}, Phases: map[string][]float64{"model": {1, 2, 3}}}
	row, ok = limitRowOf(bert)
	require.True(t, ok)
	assert.InDelta(t, 70_666_813_440*1.5/2, row.Rate, 1)
	assert.True(t, row.UpperBound)
	assert.Equal(t, []string{"llm/bert-qa", "go-ort", "≤ 53 GFLOP/s", "100 GFLOP/s GEMM", "≤ 53%"},
		limitCells(row, testLimits, false, ""))
}

func TestLimitRowsLeaveOutWhatTheyCannotJudge(t *testing.T) {
	g := *find(t, withLimits(t), "llm/gpt2", "go-ort")
	for name, r := range map[string]func(r *bench.Result){
		"no limits": func(r *bench.Result) { h := *r.Host; h.Limits = nil; r.Host = &h },
		"no host":   func(r *bench.Result) { r.Host = nil },
		"failed":    func(r *bench.Result) { r.Status = bench.StatusFailed },
		"on a GPU":  func(r *bench.Result) { r.Device = "cuda" },
		"no phase":  func(r *bench.Result) { r.Phases = nil },
		"no task":   func(r *bench.Result) { r.Task = "classical/svm" },
		"null":      func(r *bench.Result) { r.Impl = "go-null" },
	} {
		c := g
		r(&c)
		_, ok := limitRowOf(&c)
		assert.False(t, ok, name)
	}
}

func TestReportsShowTheLimitsSection(t *testing.T) {
	rs := withLimits(t)
	rs[0].Threads = 1
	var md bytes.Buffer
	require.NoError(t, Write(&md, rs, Markdown))
	out := md.String()
	assert.Contains(t, out, "## Fraction of the machine's limits")
	assert.Contains(t, out, "memory bandwidth 20 GB/s (STREAM triad in Go, best of 5); fp32 GEMM 100 GFLOP/s")
	assert.Contains(t, out, "| llm/gpt2 | go-ort | ")
	assert.Contains(t, out, "(1 threads; limits at 2)")
	assert.Contains(t, out, "494.6 MB per token")
	assert.NotContains(t, out, "llm/bert-qa:", "no note for a task without a result")

	var html bytes.Buffer
	require.NoError(t, WriteHTML(&html, rs, Page{}))
	assert.Contains(t, html.String(), `<h2 id="limits">Fraction of the machine&#39;s limits</h2>`)

	md.Reset()
	rs, err := Load(filepath.Join("testdata", "run3"))
	require.NoError(t, err)
	require.NoError(t, Write(&md, rs, Markdown))
	assert.NotContains(t, md.String(), "machine's limits", "no section without measured limits")
}

func TestFmtRate(t *testing.T) {
	assert.Equal(t, "41.23 GB/s", fmtRate(41.23e9, "B/s"))
	assert.Equal(t, "494.6 MB", fmtBytes(494_613_504))
	assert.Equal(t, "70.7 GFLOP", fmtRate(70.67e9, "FLOP"))
	assert.Equal(t, "44.5 MFLOP", fmtRate(44.46e6, "FLOP"))
	assert.Equal(t, "12 B", fmtBytes(12))
}

func TestHostLabelNamesTheISAAndBLAS(t *testing.T) {
	h := &bench.HostInfo{CPU: "AMD EPYC 9R14", Cores: 2, MemGiB: 8, OS: "linux", ISA: []string{"avx2", "avx512f"},
		BLAS: []string{"numpy 2.4.6: scipy-openblas 0.3.31", "torch 2.11.0: BLAS mkl, MKL 2024.2"}}
	assert.Equal(t, "AMD EPYC 9R14 (2 cores, 8.000 GiB, linux); ISA avx2 avx512f; "+
		"BLAS: numpy 2.4.6: scipy-openblas 0.3.31; torch 2.11.0: BLAS mkl, MKL 2024.2", hostLabel(h))
	h.ISA, h.BLAS = nil, nil
	assert.Equal(t, "AMD EPYC 9R14 (2 cores, 8.000 GiB, linux)", hostLabel(h))
}
