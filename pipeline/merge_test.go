package pipeline

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mlbench/mlbench/bench"
	"github.com/mlbench/mlbench/report"
)

var now = time.Date(2026, 11, 29, 20, 0, 0, 0, time.UTC)

// runDir writes a results directory as `mlbench run` leaves it: one result
// per (variant, impl) of task, made on host, and a run.json.
func runDir(t *testing.T, host, task string, settings map[string]any, skipped map[string]string, variants []string, impls ...string) string {
	t.Helper()
	dir := t.TempDir()
	h := &bench.HostInfo{Name: host, CPU: "test cpu", Cores: 2, MemGiB: 4, OS: "test os"}
	for _, v := range variants {
		for _, i := range impls {
			r := &bench.Result{SchemaVersion: bench.SchemaVersion, Task: task, Variant: v, Impl: i, Language: "go", Framework: "gonum",
				Threads: 2, Device: "cpu", Size: bench.SizeQuick, Status: bench.StatusOK, Host: h,
				Phases: map[string][]float64{"fit": {0.1, 0.2}}}
			require.NoError(t, bench.WriteJSONAtomic(filepath.Join(dir, bench.ResultFileName(r)), r))
		}
	}
	run := map[string]any{"size": "quick", "threads": 2, "device": "cpu", "reps": 2, "warmup": 0, "host": h, "skipped": skipped}
	for k, v := range settings {
		run[k] = v
	}
	require.NoError(t, bench.WriteJSONAtomic(filepath.Join(dir, "run.json"), run))
	return dir
}

func readMerged(t *testing.T, dir string) Merged {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "run.json"))
	require.NoError(t, err)
	var m Merged
	require.NoError(t, json.Unmarshal(b, &m))
	return m
}

func TestMergeTwoNodes(t *testing.T) {
	a := runDir(t, "node1", "classical/linreg", nil, nil, []string{"replicate=1"}, "python-sklearn", "go-gonum")
	b := runDir(t, "node2", "classical/svm", nil, map[string]string{"classical/svm rust-linfa": "not built here"}, []string{""}, "python-sklearn", "go-gonum")
	out := filepath.Join(t.TempDir(), "merged")
	m, rs, err := Merge(MergeOptions{Out: out, Dirs: []string{a, b}, Command: []string{"mlbench", "merge"}, Now: now})
	require.NoError(t, err)
	require.Len(t, rs, 4)
	assert.Len(t, m.Jobs, 4)

	disk, err := report.Load(out)
	require.NoError(t, err)
	assert.Len(t, disk, 4)
	got := readMerged(t, out)
	assert.Equal(t, "2026-11-29T20:00:00Z", got.MergedAt)
	assert.Equal(t, "quick", got.Size)
	assert.Equal(t, 2, got.Threads)
	assert.Equal(t, 2, got.Reps)
	assert.Equal(t, 0, got.Warmup)
	require.Len(t, got.Parts, 2)
	assert.Equal(t, a, got.Parts[0].Dir)
	assert.Equal(t, map[string]string{"classical/svm rust-linfa": "not built here"}, got.Skipped)
	hosts := map[string]string{}
	for _, j := range got.Jobs {
		require.NotNil(t, j.Host, j.File)
		hosts[j.Task] = j.Host.Name
		assert.FileExists(t, filepath.Join(out, j.File))
		assert.Equal(t, bench.StatusOK, j.Status)
	}
	assert.Equal(t, map[string]string{"classical/linreg": "node1", "classical/svm": "node2"}, hosts)
}

func TestMergeRefusesMismatches(t *testing.T) {
	a := runDir(t, "node1", "classical/linreg", nil, nil, []string{"replicate=1"}, "python-sklearn")
	dup := runDir(t, "node2", "classical/linreg", nil, nil, []string{"replicate=1"}, "python-sklearn")
	other := runDir(t, "node2", "classical/svm", map[string]any{"threads": 4}, nil, []string{""}, "python-sklearn")
	out := filepath.Join(t.TempDir(), "merged")

	_, _, err := Merge(MergeOptions{Out: out, Dirs: []string{a, dup}, Now: now})
	assert.ErrorContains(t, err, "has a result in both")
	_, _, err = Merge(MergeOptions{Out: out, Dirs: []string{a, other}, Now: now})
	assert.ErrorContains(t, err, "--threads 4")
	_, _, err = Merge(MergeOptions{Out: out, Dirs: []string{a, t.TempDir()}, Now: now})
	assert.ErrorContains(t, err, "not the results directory of a finished `mlbench run`")
	_, _, err = Merge(MergeOptions{Out: out, Now: now})
	assert.ErrorContains(t, err, "no results directories")
	assert.NoDirExists(t, out, "a refused merge writes nothing")
}

func TestMergeRecordsFailedJobs(t *testing.T) {
	plan, err := MakePlan(bench.Tasks, bench.Selection{Task: "classical/*", Impl: "rust-linfa"}, bench.SizeQuick)
	require.NoError(t, err)
	// linreg ran; svm's job failed twice and left a record; kmeans's job
	// was lost without one. rust-linfa was not built on linreg's node.
	a := runDir(t, "node1", "classical/linreg", nil, map[string]string{"classical/linreg rust-linfa": "not built"},
		[]string{"replicate=1"}, "python-sklearn")
	fails := t.TempDir()
	rec := Failure{Job: "classical_svm", Task: "classical/svm", Attempt: 2, Exit: 1, Host: "node2",
		Message: "mlbench: dataset digits is not\nprepared"}
	require.NoError(t, bench.WriteJSONAtomic(filepath.Join(fails, "classical_svm"+FailureSuffix), rec))
	require.NoError(t, os.WriteFile(filepath.Join(fails, "notes.txt"), []byte("ignored"), 0o644))

	out := filepath.Join(t.TempDir(), "merged")
	_, rs, err := Merge(MergeOptions{Out: out, Dirs: []string{a}, Plan: plan, Failures: fails, Now: now})
	require.NoError(t, err)
	byKey := map[string]*bench.Result{}
	for _, r := range rs {
		byKey[r.Task+" "+r.Impl] = r
	}
	assert.Len(t, rs, 5, "linreg's reference, and svm and kmeans with both implementations")
	assert.NotContains(t, byKey, "classical/linreg rust-linfa", "skipped as not runnable: not a failure")
	assert.Equal(t, bench.StatusOK, byKey["classical/linreg python-sklearn"].Status)
	svm := byKey["classical/svm rust-linfa"]
	require.NotNil(t, svm)
	assert.Equal(t, bench.StatusFailed, svm.Status)
	assert.Equal(t, "no result: pipeline job classical_svm failed on attempt 2 on node2 (exit status 1): mlbench: dataset digits is not prepared", svm.Reason)
	assert.Equal(t, "rust", svm.Language)
	assert.Equal(t, "python-sklearn", svm.Reference)
	km := byKey["classical/kmeans python-sklearn"]
	require.NotNil(t, km)
	assert.Equal(t, "n=10000", km.Variant)
	assert.Equal(t, bench.StatusFailed, km.Status)
	assert.Contains(t, km.Reason, "pipeline job classical_kmeans ended without results on every attempt")
	m := readMerged(t, out)
	failed := 0
	for _, j := range m.Jobs {
		if j.Status == bench.StatusFailed {
			failed++
			assert.Equal(t, -1, j.Part)
		}
	}
	assert.Equal(t, 4, failed)

	// Every job lost: the plan alone still makes a merged directory that says so.
	out2 := filepath.Join(t.TempDir(), "merged")
	_, rs, err = Merge(MergeOptions{Out: out2, Plan: plan, Now: now})
	require.NoError(t, err)
	assert.Len(t, rs, 6)
}

func TestMergeReplacesOnlyAMergedDirectory(t *testing.T) {
	a := runDir(t, "node1", "classical/linreg", nil, nil, []string{"replicate=1"}, "python-sklearn", "go-gonum")
	b := runDir(t, "node1", "classical/svm", nil, nil, []string{""}, "python-sklearn")
	out := filepath.Join(t.TempDir(), "merged")
	_, _, err := Merge(MergeOptions{Out: out, Dirs: []string{a}, Now: now})
	require.NoError(t, err)
	_, rs, err := Merge(MergeOptions{Out: out, Dirs: []string{b}, Now: now})
	require.NoError(t, err)
	require.Len(t, rs, 1, "the earlier merge's results are gone")
	assert.Equal(t, "classical/svm", rs[0].Task)
	ents, err := os.ReadDir(filepath.Dir(out))
	require.NoError(t, err)
	assert.Len(t, ents, 1, "no temporary directory is left")

	// A directory that is not a merge (here: a run) is never replaced.
	_, _, err = Merge(MergeOptions{Out: a, Dirs: []string{b}, Now: now})
	assert.ErrorContains(t, err, "not a merged results directory")
	assert.FileExists(t, filepath.Join(a, "run.json"))
}
