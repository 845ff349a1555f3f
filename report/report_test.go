package report

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mlbench/mlbench/bench"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		require.NoError(t, os.WriteFile(path, got, 0o644))
		return
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "run go test ./report -update to create it")
	assert.Equal(t, string(want), string(got), "output differs from %s (go test ./report -update rewrites it)", path)
}

func load(t *testing.T, dir string) []*bench.Result {
	t.Helper()
	rs, err := Load(filepath.Join("testdata", dir))
	require.NoError(t, err)
	return rs
}

func TestLoad(t *testing.T) {
	rs := load(t, "run1")
	// 12 result files; the dot-file (a partial write) and spec.json are ignored.
	require.Len(t, rs, 12)
	var ids []string
	for _, r := range rs {
		ids = append(ids, r.Task+" "+r.Variant+" "+r.Impl)
	}
	assert.Equal(t, []string{
		"classical/kmeans n=1000 go-gonum",
		"classical/kmeans n=1000 python-sklearn",
		"classical/kmeans n=1000 rust-linfa",
		"classical/kmeans n=1000 rust-smartcore",
		"classical/kmeans n=10000 go-gonum",
		"classical/kmeans n=10000 python-sklearn",
		"classical/kmeans n=10000 rust-linfa",
		"classical/kmeans n=10000 rust-smartcore",
		"classical/svm  go-gonum",
		"classical/svm  python-sklearn",
		"llm/bert-qa  go-ort",
		"llm/bert-qa  python-transformers",
	}, ids)
	// A failed result without phases is kept.
	assert.Equal(t, bench.StatusFailed, rs[7].Status)
	assert.Empty(t, rs[7].Phases)
}

func TestLoadErrors(t *testing.T) {
	dir := t.TempDir()
	_, err := Load(dir)
	require.EqualError(t, err, "no results in "+dir)

	bad := filepath.Join(dir, "x.result.json")
	require.NoError(t, os.WriteFile(bad, []byte(`{"schema_version": 1, "task": `), 0o644))
	_, err = Load(dir)
	require.Error(t, err)
	assert.Contains(t, err.Error(), bad)
	assert.Contains(t, err.Error(), "invalid result JSON")

	require.NoError(t, os.WriteFile(bad, []byte(`{"schema_version": 99, "task": "classical/svm", "impl": "go-gonum"}`), 0o644))
	_, err = Load(dir)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "schema_version 99")

	_, err = Load(filepath.Join(dir, "missing"))
	assert.Error(t, err)
}

func TestGolden(t *testing.T) {
	for _, run := range []string{"run1", "run2"} {
		rs := load(t, run)
		for _, f := range Formats {
			t.Run(run+"/"+string(f), func(t *testing.T) {
				var b bytes.Buffer
				require.NoError(t, Write(&b, rs, f))
				golden(t, run+"."+ext(f)+".golden", b.Bytes())
			})
		}
	}
	old, new := load(t, "run1"), load(t, "run2")
	for _, f := range Formats {
		t.Run("compare/"+string(f), func(t *testing.T) {
			var b bytes.Buffer
			require.NoError(t, WriteCompare(&b, old, new, f))
			golden(t, "compare."+ext(f)+".golden", b.Bytes())
		})
	}
}

func ext(f Format) string {
	if f == Markdown {
		return "md"
	}
	return string(f)
}

// mdRow returns the markdown table row of impl in the section titled title.
func mdRow(t *testing.T, md, title, impl string) string {
	t.Helper()
	_, sec, ok := strings.Cut(md, "\n## "+title+"\n")
	require.True(t, ok, "no section %q", title)
	sec, _, _ = strings.Cut(sec, "\n## ")
	for _, l := range strings.Split(sec, "\n") {
		if strings.HasPrefix(l, "| "+impl+" |") {
			return l
		}
	}
	t.Fatalf("no row %s in section %s", impl, title)
	return ""
}

func mdRows(t *testing.T, md, title string) []string {
	t.Helper()
	_, sec, ok := strings.Cut(md, "\n## "+title+"\n")
	require.True(t, ok, "no section %q", title)
	sec, _, _ = strings.Cut(sec, "\n## ")
	var impls []string
	for _, l := range strings.Split(sec, "\n") {
		if strings.HasPrefix(l, "| ") {
			f := strings.Split(l, " | ")
			impls = append(impls, strings.TrimPrefix(f[0], "| "))
		}
	}
	require.NotEmpty(t, impls)
	return impls[1:] // past the column header
}

func jsonRows(t *testing.T, rs []*bench.Result) map[string]jsonRow {
	t.Helper()
	var b bytes.Buffer
	require.NoError(t, Write(&b, rs, JSON))
	var rows []jsonRow
	require.NoError(t, json.Unmarshal(b.Bytes(), &rows))
	m := map[string]jsonRow{}
	for _, r := range rows {
		m[r.Task+" "+r.Variant+" "+r.Impl] = r
	}
	return m
}

func TestFailedNeverRanked(t *testing.T) {
	rs := load(t, "run1")
	var b bytes.Buffer
	require.NoError(t, Write(&b, rs, Markdown))
	md := b.String()

	// rust-smartcore crashed on n=10000: FAILED with the first line of the
	// reason, no timings, no ratio, listed last.
	row := mdRow(t, md, "classical/kmeans n=10000", "rust-smartcore")
	assert.Contains(t, row, "| FAILED: exit status 101: thread 'main' panicked at src/main.rs:88: index out of bounds |")
	assert.NotContains(t, row, "x [")
	assert.NotContains(t, row, "RUST_BACKTRACE")
	assert.Equal(t, []string{"python-sklearn", "go-gonum", "rust-linfa", "rust-smartcore"},
		mdRows(t, md, "classical/kmeans n=10000"))

	j := jsonRows(t, rs)["classical/kmeans n=10000 rust-smartcore"]
	assert.Equal(t, "failed", j.Status)
	assert.Zero(t, j.Rank)
	assert.Nil(t, j.Ratio)
	assert.Empty(t, j.Ratios)
}

func TestParityFailureNeverRanked(t *testing.T) {
	rs := load(t, "run1")
	var b bytes.Buffer
	require.NoError(t, Write(&b, rs, Markdown))
	md := b.String()

	// rust-smartcore is the fastest on n=1000 but its inertia is 7% off.
	row := mdRow(t, md, "classical/kmeans n=1000", "rust-smartcore")
	assert.Contains(t, row, "FAILED: parity: metric_rel:inertia 0.0734 vs limit 0.01")
	assert.NotContains(t, row, "x [")
	assert.NotContains(t, row, " ms ")
	assert.True(t, strings.HasSuffix(row, "| FAILED: metric_rel:inertia 0.0734 vs limit 0.01 |"), row)
	assert.Equal(t, []string{"python-sklearn", "go-gonum", "rust-linfa", "rust-smartcore"},
		mdRows(t, md, "classical/kmeans n=1000"))

	js := jsonRows(t, rs)
	j := js["classical/kmeans n=1000 rust-smartcore"]
	assert.Equal(t, "failed", j.Status)
	assert.Zero(t, j.Rank)
	assert.Nil(t, j.Ratio)
	assert.Equal(t, 1, js["classical/kmeans n=1000 go-gonum"].Rank)
	assert.Equal(t, 2, js["classical/kmeans n=1000 rust-linfa"].Rank)
	assert.Equal(t, 3, js["classical/kmeans n=1000 python-sklearn"].Rank)

	// The CSV gives no ratio either.
	b.Reset()
	require.NoError(t, Write(&b, rs, CSV))
	for _, l := range strings.Split(b.String(), "\n") {
		if strings.HasPrefix(l, "classical/kmeans,n=1000,rust-smartcore,") {
			assert.Contains(t, l, ",,,,,failed,parity:", l)
		}
	}
}

func TestReportRatiosAndSignificance(t *testing.T) {
	rs := load(t, "run1")
	var b bytes.Buffer
	require.NoError(t, Write(&b, rs, Markdown))
	md := b.String()
	// go-gonum is twice as fast as scikit-learn: a significant ratio.
	assert.Contains(t, mdRow(t, md, "classical/kmeans n=10000", "go-gonum"), "| 0.50x [")
	assert.Contains(t, mdRow(t, md, "classical/kmeans n=10000", "go-gonum"), "] faster |")
	// rust-linfa is within noise of scikit-learn: "~".
	assert.Regexp(t, `\| 1\.0\dx \[[0-9., ]+\] ~ \|`, mdRow(t, md, "classical/kmeans n=10000", "rust-linfa"))
	assert.Contains(t, mdRow(t, md, "classical/kmeans n=10000", "python-sklearn"), "| ref |")
	// Headers, dataset provenance, n/a metrics and warnings.
	assert.Contains(t, md, "dataset: digits (NOT official: Copied from scikit-learn's bundled digits.csv.gz)")
	assert.Contains(t, md, "dataset: blobs (official)")
	assert.Contains(t, md, "go-ort load: need >= 6 samples for confidence interval at level 0.95")
	assert.Contains(t, md, "go-ort tokenize: too short")
	assert.Contains(t, mdRow(t, md, "llm/bert-qa", "go-ort"), "| n/a | n/a |")
	assert.Contains(t, md, "## classical/kmeans scaling (fit median, ratio to the reference)")
	assert.Contains(t, md, "| go-gonum | 1.90 ms (0.37x) | 10.1 ms (0.50x) |", "each cell: median and ratio to the reference")
}

func TestCompare(t *testing.T) {
	old, new := load(t, "run1"), load(t, "run2")
	var b bytes.Buffer
	require.NoError(t, WriteCompare(&b, old, new, Markdown))
	md := b.String()
	line := func(sec, impl, phase string) string {
		_, s, ok := strings.Cut(md, "\n## "+sec+"\n")
		require.True(t, ok, sec)
		s, _, _ = strings.Cut(s, "\n## ")
		for _, l := range strings.Split(s, "\n") {
			if strings.HasPrefix(l, "| "+impl+" | "+phase+" |") {
				return l
			}
		}
		t.Fatalf("no row %s %s in %s", impl, phase, sec)
		return ""
	}
	// go-gonum's fit doubled: a clear, significant +100%.
	assert.Regexp(t, `\| \+\d+\.\d% \(p=0\.\d+\) \|$`, line("classical/kmeans n=10000", "go-gonum", "fit"))
	assert.Contains(t, line("classical/kmeans n=10000", "go-gonum", "fit"), "| +100.0% (p=")
	// scikit-learn's timings were only reshuffled: not significant.
	assert.Contains(t, line("classical/kmeans n=10000", "python-sklearn", "fit"), "| ~ (p=")
	// The old crash is FAILED and not compared.
	assert.Contains(t, line("classical/kmeans n=10000", "rust-smartcore", "fit"), "| FAILED | 12.2 ms")
	assert.True(t, strings.HasSuffix(line("classical/kmeans n=10000", "rust-smartcore", "fit"), "| FAILED |"))
	assert.Contains(t, md, "- note: rust-smartcore old FAILED: exit status 101")
	assert.Contains(t, md, "- note: go-gonum: framework changed: gonum 0.17.0 -> gonum 0.17.1")
	// What one side lacks.
	assert.Contains(t, line("classical/svm", "go-gonum", "fit"), "(only in old)")
	assert.Contains(t, line("classical/svm", "rust-linfa", "fit"), "(only in new)")
	assert.Contains(t, line("llm/bert-qa", "go-ort", "model"), "(only in old)")
}

func TestParseFormat(t *testing.T) {
	for in, want := range map[string]Format{"markdown": Markdown, "md": Markdown, "JSON": JSON, "csv": CSV, "html": HTML} {
		f, err := ParseFormat(in)
		require.NoError(t, err)
		assert.Equal(t, want, f)
	}
	_, err := ParseFormat("xml")
	assert.EqualError(t, err, `unknown format "xml" (want markdown, json, csv or html)`)
	assert.Error(t, Write(&bytes.Buffer{}, load(t, "run1"), "xml"))
	assert.Error(t, Write(&bytes.Buffer{}, nil, Markdown))
}

func TestFormatting(t *testing.T) {
	assert.Equal(t, "123 ns", fmtDur(123e-9))
	assert.Equal(t, "1.23 µs", fmtDur(1.234e-6))
	assert.Equal(t, "20.3 ms", fmtDur(0.0203))
	assert.Equal(t, "1.00 s", fmtDur(1))
	assert.Equal(t, "1234 s", fmtDur(1234.4))
	assert.Equal(t, "99712", fmtNum(99712.46))
	assert.Equal(t, "0.9871", fmtNum(0.98712))
	assert.Equal(t, "2e-05", fmtNum(2e-5))
	assert.Equal(t, "a sentence", firstSentence("a sentence. Another one."))
	assert.Equal(t, -1, compareVariants("n=1000", "n=10000"))
	assert.Equal(t, 1, compareVariants("n=100000", "n=10000"))
}

func TestFailedReferenceGivesNoRatios(t *testing.T) {
	var rs []*bench.Result
	for _, r := range load(t, "run1") {
		if r.Task == "classical/kmeans" && r.Variant == "n=1000" {
			if r.Impl == "python-sklearn" {
				r.Status, r.Reason = bench.StatusFailed, "timed out after 600s"
			}
			rs = append(rs, r)
		}
	}
	var b bytes.Buffer
	require.NoError(t, Write(&b, rs, Markdown))
	md := b.String()
	assert.Contains(t, mdRow(t, md, "classical/kmeans n=1000", "python-sklearn"), "| FAILED: timed out after 600s |")
	assert.NotContains(t, md, "x [")
	assert.Contains(t, md, "- note: no ratios: reference python-sklearn FAILED")
	// The reference still leads the table; the ok rows follow, fastest first.
	assert.Equal(t, []string{"python-sklearn", "go-gonum", "rust-linfa", "rust-smartcore"}, mdRows(t, md, "classical/kmeans n=1000"))

	// Two results for one implementation of one case are an error, not a guess.
	assert.ErrorContains(t, Write(&b, append(rs, rs[0]), Markdown), "two results for classical/kmeans n=1000")
	assert.ErrorContains(t, WriteCompare(&b, append(rs, rs[0]), rs, Markdown), "old: two results")
}

func TestResultMadeInPartsIsNoted(t *testing.T) {
	var rs []*bench.Result
	for _, r := range load(t, "run1") {
		if r.Task == "classical/kmeans" && r.Variant == "n=1000" {
			if r.Impl == "rust-linfa" {
				r.ResumedFrom = "rep 1 of 1, epoch 4 of 10"
				r.EarlierParts = []bench.Part{
					{StartedAt: "2026-11-25T10:00:00Z", WallSeconds: 3600.4, Reason: "timeout: no exit after 1h0m0s (killed)"},
					{StartedAt: "2026-11-25T12:00:00Z", WallSeconds: 90, Reason: "exit status 137: killed"},
				}
			}
			rs = append(rs, r)
		}
	}
	var b bytes.Buffer
	require.NoError(t, Write(&b, rs, Markdown))
	assert.Contains(t, b.String(), "- note: rust-linfa: made in 3 processes, the last going on from a checkpoint at rep 1 of 1, epoch 4 of 10; "+
		"earlier processes: started 2026-11-25T10:00:00Z, ran 1h0m0s, ended timeout: no exit after 1h0m0s (killed); started 2026-11-25T12:00:00Z, ran 1m30s, ended exit status 137: killed\n")
	assert.NotContains(t, b.String(), "go-gonum: made in")
}

func TestParityTextSaysWhyNothingWasCompared(t *testing.T) {
	p := &bench.Parity{Checks: []bench.ParityCheck{{Name: "metric_rel:inertia_shared_init", Limit: 0.01,
		Detail: "metric inertia_shared_init not applicable in this result: cannot start from given centres"}}}
	assert.Contains(t, parityText(p), "metric_rel:inertia_shared_init: metric inertia_shared_init not applicable in this result")
	p.Checks[0] = bench.ParityCheck{Name: "metric_rel:inertia", Value: 0.07, Limit: 0.01, Measured: true}
	assert.Equal(t, "metric_rel:inertia 0.07 vs limit 0.01", parityText(p))
}

func TestLoadFailsResultsThatDoNotValidate(t *testing.T) {
	dir := t.TempDir()
	ok := func(impl string, fit ...float64) *bench.Result {
		return &bench.Result{SchemaVersion: 1, Task: "classical/linreg", Impl: impl, Language: "x", Framework: "x",
			Status: bench.StatusOK, Reference: "python-sklearn", Phases: map[string][]float64{"fit": fit},
			Metrics: map[string]float64{"r2": 0.6}}
	}
	for _, r := range []*bench.Result{
		ok("python-sklearn", 0.002, 0.002, 0.002),
		ok("rust-linfa", -1.5, -1.5, -1.5), // edited by hand
		ok("rust-smartcore", 1e308, 1e308, 1e308),
		ok("go-gonum", 0.001, 0.001, 0.001),
	} {
		require.NoError(t, bench.WriteJSONAtomic(filepath.Join(dir, bench.ResultFileName(r)), r))
	}
	rs, err := Load(dir)
	require.NoError(t, err)
	got := map[string]*bench.Result{}
	for _, r := range rs {
		got[r.Impl] = r
	}
	for _, id := range []string{"rust-linfa", "rust-smartcore"} {
		assert.Equal(t, bench.StatusFailed, got[id].Status, id)
		assert.Contains(t, got[id].Reason, "invalid result file: invalid result: phase fit[0]", id)
	}
	assert.Equal(t, bench.StatusOK, got["go-gonum"].Status)
	for _, f := range []Format{Markdown, JSON, CSV} {
		var b bytes.Buffer
		require.NoError(t, Write(&b, rs, f), f)
		assert.NotContains(t, b.String(), "-1.50", f)
		assert.NotContains(t, b.String(), "-106", f)
	}
	var b bytes.Buffer
	require.NoError(t, Write(&b, rs, Markdown))
	assert.Contains(t, b.String(), "0.50", "go-gonum against the reference")
}

func TestRatiosNeverOverflow(t *testing.T) {
	rs := []*bench.Result{
		{SchemaVersion: 1, Task: "classical/linreg", Impl: "python-sklearn", Language: "x", Framework: "x",
			Status: bench.StatusOK, Phases: map[string][]float64{"fit": {5e-324, 5e-324, 5e-324}}},
		{SchemaVersion: 1, Task: "classical/linreg", Impl: "go-gonum", Language: "x", Framework: "x",
			Status: bench.StatusOK, Reference: "python-sklearn", Phases: map[string][]float64{"fit": {1e6, 1e6, 1e6}}},
	}
	var b bytes.Buffer
	require.NoError(t, Write(&b, rs, JSON), "no +Inf for encoding/json to refuse")
	assert.NotContains(t, b.String(), "Inf")
	b.Reset()
	require.NoError(t, Write(&b, rs, Markdown))
	assert.NotContains(t, b.String(), "Inf")
}

func TestUnverifiedIsShownNeverRankedNorFailed(t *testing.T) {
	mk := func(impl string, st bench.Status, reason string, fit float64) *bench.Result {
		return &bench.Result{SchemaVersion: 1, Task: "classical/kmeans", Variant: "n=1000", Impl: impl, Language: "x", Framework: "x",
			Status: st, Reason: reason, Reference: "python-sklearn", Phases: map[string][]float64{"fit": {fit, fit, fit}}}
	}
	rs := []*bench.Result{
		mk("python-sklearn", bench.StatusOK, "", 0.01),
		mk("rust-smartcore", bench.StatusUnverified, "parity not verifiable: smartcore cannot start from given centres", 0.001),
		mk("go-gonum", bench.StatusOK, "", 0.02),
	}
	var md, js, csvOut bytes.Buffer
	require.NoError(t, Write(&md, rs, Markdown))
	require.NoError(t, Write(&js, rs, JSON))
	require.NoError(t, Write(&csvOut, rs, CSV))
	assert.Contains(t, md.String(), "UNVERIFIED: parity not verifiable: smartcore cannot start")
	assert.NotContains(t, md.String(), "FAILED")
	assert.Contains(t, csvOut.String(), "unverified,parity not verifiable")
	var rows []map[string]any
	require.NoError(t, json.Unmarshal(js.Bytes(), &rows))
	for _, r := range rows {
		if r["impl"] == "rust-smartcore" {
			assert.Equal(t, "unverified", r["status"])
			assert.Nil(t, r["rank"], "never ranked")
			assert.Nil(t, r["ratio"], "never faster or slower")
		}
	}
}

func TestDisturbedResultsAreFlagged(t *testing.T) {
	mk := func(impl string, other float64) *bench.Result {
		return &bench.Result{SchemaVersion: 1, Task: "classical/linreg", Impl: impl, Language: "x", Framework: "x",
			Status: bench.StatusOK, Reference: "python-sklearn", Phases: map[string][]float64{"fit": {0.002, 0.002, 0.002}},
			WallSeconds: 2, Machine: &bench.Machine{OtherCPUSeconds: 2 * other, OtherCores: other, Load1Before: 1, Load1After: 2}}
	}
	rs := []*bench.Result{mk("python-sklearn", 0.9), mk("go-gonum", 0.01)}
	var md, js bytes.Buffer
	require.NoError(t, Write(&md, rs, Markdown))
	assert.Contains(t, md.String(), "ref (disturbed)")
	assert.Contains(t, md.String(), "~ (disturbed)", "a ratio against a disturbed reference says so")
	assert.Contains(t, md.String(), "warning: python-sklearn was disturbed: other processes kept 0.90 cores busy")
	assert.NotContains(t, md.String(), "go-gonum was disturbed")
	require.NoError(t, Write(&js, rs, JSON))
	assert.Contains(t, js.String(), `"disturbed": "other processes kept 0.90 cores`)
}

func TestCompareKeepsUnverifiedStatus(t *testing.T) {
	r := &bench.Result{SchemaVersion: 1, Task: "classical/kmeans", Variant: "n=1000", Impl: "rust-smartcore", Language: "x",
		Framework: "x", Status: bench.StatusUnverified, Reason: "parity not verifiable: no init",
		Phases: map[string][]float64{"fit": {0.01, 0.01, 0.01, 0.01, 0.01}}}
	var b bytes.Buffer
	require.NoError(t, WriteCompare(&b, []*bench.Result{r}, []*bench.Result{r}, JSON))
	assert.Contains(t, b.String(), `"old_status": "unverified"`)
	assert.NotContains(t, b.String(), "FAILED")
}

// TestPeakGPUMemColumn: the column appears only in a section where a result
// has a GPU memory figure (a CPU run's report is unchanged: see the goldens).
func TestPeakGPUMemColumn(t *testing.T) {
	rs := load(t, "run1")
	var withGPU *bench.Result
	for _, r := range rs {
		if r.Task == "llm/bert-qa" && r.Impl == "go-ort" {
			withGPU = r
		}
	}
	require.NotNil(t, withGPU, "run1 has an llm/bert-qa go-ort result")
	withGPU.PeakGPUMemBytes = 3 << 29 // 1536 MiB
	host := &bench.HostInfo{CPU: "AMD EPYC", Cores: 2, MemGiB: 23.5, OS: "Debian GNU/Linux 12",
		GPUs: []string{"NVIDIA H100 80GB HBM3, driver 580.95.05"}}
	for _, r := range rs {
		r.Host = host
	}
	var b bytes.Buffer
	require.NoError(t, Write(&b, rs, Markdown))
	md := b.String()
	assert.Contains(t, mdRow(t, md, "llm/bert-qa", "go-ort"), "| 1536 MiB |")
	assert.Contains(t, mdRow(t, md, "llm/bert-qa", "python-transformers"), "| - |")
	assert.Equal(t, 1, strings.Count(md, "| peak GPU mem |"), "only in the section with a GPU figure")
	assert.Contains(t, md, "; GPU: NVIDIA H100 80GB HBM3, driver 580.95.05\n")
	assert.NotContains(t, md, "different hosts")
	assert.Equal(t, int64(3<<29), jsonRows(t, rs)["llm/bert-qa  go-ort"].PeakGPUMemBytes)
}

// A merged directory's run.json (mlbench merge) lists its jobs; a run's
// counts them. Both load.
func TestLoadRunInfoOfARunAndOfAMerge(t *testing.T) {
	for body, want := range map[string]JobCount{
		`{"size": "quick", "jobs": 7}`: 7,
		`{"size": "quick", "jobs": [{"task": "a", "impl": "x"}, {"task": "b", "impl": "y"}], "parts": [{"dir": "d", "run": {}}]}`: 2,
	} {
		dir := t.TempDir()
		require.NoError(t, os.WriteFile(filepath.Join(dir, "run.json"), []byte(body), 0o644))
		ri, err := LoadRunInfo(dir)
		require.NoError(t, err, body)
		assert.Equal(t, want, ri.Jobs)
	}
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "run.json"), []byte(`{"jobs": "many"}`), 0o644))
	_, err := LoadRunInfo(dir)
	assert.ErrorContains(t, err, "jobs: want a number or a list")
}

// An epoch series whose values agree to 1e-3 (a one-epoch quick run) gets
// an axis wide enough for tick labels that differ.
func TestWidenNarrowRange(t *testing.T) {
	lo, hi := 1.8297, 1.8304
	widenNarrowRange(&lo, &hi)
	assert.InDelta(t, 0.0183005, hi-lo, 1e-9)
	assert.InDelta(t, 1.83005, (lo+hi)/2, 1e-9)
	lo, hi = 0.2, 0.7
	widenNarrowRange(&lo, &hi)
	assert.Equal(t, []float64{0.2, 0.7}, []float64{lo, hi}, "a wide range is kept")
	lo, hi = 0, 0
	widenNarrowRange(&lo, &hi)
	assert.Equal(t, []float64{0, 0}, []float64{lo, hi}, "zero stays zero (gonum pads it)")
}

// A task whose sweep varies two things (llm/gpt2: prompt_len and batch)
// gets one scaling table and one pair of figures per key, each named by it.
func TestScalingPerVariantKey(t *testing.T) {
	var rs []*bench.Result
	for _, r := range load(t, "run1") {
		if r.Task != "classical/kmeans" {
			continue
		}
		c := *r
		_, n, _ := strings.Cut(r.Variant, "=")
		c.Variant = "batch=" + n
		rs = append(rs, r, &c)
	}
	require.NotEmpty(t, rs)
	var b bytes.Buffer
	require.NoError(t, Write(&b, rs, Markdown))
	md := b.String()
	assert.Contains(t, md, "## classical/kmeans by n scaling (fit median, ratio to the reference)")
	assert.Contains(t, md, "## classical/kmeans by batch scaling (fit median, ratio to the reference)")
	assert.NotContains(t, md, "## classical/kmeans scaling")
	secs, err := build(rs)
	require.NoError(t, err)
	var names []string
	for _, f := range figures(secs) {
		names = append(names, f.Name)
	}
	for _, want := range []string{"classical-kmeans-n-scaling", "classical-kmeans-n-scaling-ratio",
		"classical-kmeans-batch-scaling", "classical-kmeans-batch-scaling-ratio"} {
		assert.Contains(t, names, want)
	}
	// Each table holds only its key's variants.
	i := strings.Index(md, "## classical/kmeans by batch scaling")
	table, _, _ := strings.Cut(md[i:], "\n\n## ")
	assert.Contains(t, table, "batch=1000")
	assert.NotContains(t, table, "| n=1000")
}
