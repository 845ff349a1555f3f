package cli

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mlbench/mlbench/bench"
)

func run(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var o, e bytes.Buffer
	code = Main(append([]string{"mlbench"}, args...), &o, &e)
	return code, o.String(), e.String()
}

// oneLineError checks the contract for bad input: a non-zero exit and one
// error line on stderr that says what is wrong (informational "skip" lines
// may come before it).
func oneLineError(t *testing.T, code int, stderr, want string) {
	t.Helper()
	assert.Equal(t, ExitError, code)
	var errs []string
	for _, l := range strings.Split(strings.TrimSpace(stderr), "\n") {
		if !strings.HasPrefix(l, "skip ") {
			errs = append(errs, l)
		}
	}
	require.Len(t, errs, 1, "one error line: %q", stderr)
	assert.True(t, strings.HasPrefix(errs[0], "mlbench: "), errs[0])
	assert.Contains(t, errs[0], want)
}

func TestHelpListsCommands(t *testing.T) {
	code, out, _ := run(t, "--help")
	require.Equal(t, 0, code)
	for _, c := range []string{"env", "data", "list", "run", "report", "compare"} {
		assert.Contains(t, out, c)
	}
	assert.NotContains(t, out, "worker", "the worker mode is hidden")
	for _, c := range []string{"run", "report", "compare", "list", "env"} {
		code, out, _ := run(t, c, "--help")
		assert.Equal(t, 0, code, c)
		assert.Contains(t, out, "USAGE", c)
	}
}

func TestRunBadInput(t *testing.T) {
	root := t.TempDir()
	code, _, errOut := run(t, "--root", root, "run", "--task", "nope/*")
	oneLineError(t, code, errOut, "no task matches")
	code, _, errOut = run(t, "--root", root, "run", "--impl", "go-nothing")
	oneLineError(t, code, errOut, "no task matches")
	code, _, errOut = run(t, "--root", root, "run", "--size", "huge")
	oneLineError(t, code, errOut, `--size "huge"`)
	code, _, errOut = run(t, "--root", root, "run", "--threads", "0")
	oneLineError(t, code, errOut, "--threads 0")
	code, _, errOut = run(t, "--root", root, "run", "--threads", "100000")
	oneLineError(t, code, errOut, "--threads 100000: want 1 to")
	code, _, errOut = run(t, "--root", root, "run", "--device", "tpu")
	oneLineError(t, code, errOut, `--device "tpu"`)
	code, _, errOut = run(t, "--root", root, "run", "--bogus")
	oneLineError(t, code, errOut, "flag provided but not defined")
	// Nothing runnable: no venv, no Rust binaries and (in this test binary) no Go implementations.
	code, _, errOut = run(t, "--root", root, "run", "--task", "classical/*")
	oneLineError(t, code, errOut, "nothing runnable")
	_, err := os.Stat(filepath.Join(root, "results"))
	assert.True(t, os.IsNotExist(err), "no results directory for a run that could not start")
}

func TestListSaysWhyNotRunnable(t *testing.T) {
	root := t.TempDir()
	code, out, _ := run(t, "--root", root, "list")
	require.Equal(t, 0, code)
	for _, task := range bench.Tasks {
		assert.Contains(t, out, task.ID)
	}
	assert.Contains(t, out, "python-sklearn (reference)")
	assert.Contains(t, out, "no: not implemented yet: reference/python/cnn.py does not exist")
	assert.Contains(t, out, "no: Rust binary bin/classical-linfa not built")
	assert.Contains(t, out, "no: bin/mlbench-torch not built (run ./build.sh)")
}

func TestReportAndCompareBadInput(t *testing.T) {
	empty := t.TempDir()
	code, _, errOut := run(t, "report", empty)
	oneLineError(t, code, errOut, "no results in")
	code, _, errOut = run(t, "report", filepath.Join(empty, "missing"))
	oneLineError(t, code, errOut, "no such file")
	code, _, errOut = run(t, "compare", empty)
	oneLineError(t, code, errOut, "two results directories")
	code, _, errOut = run(t, "report", "--format", "xml", empty)
	oneLineError(t, code, errOut, `unknown format "xml"`)
	corrupt := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(corrupt, "a.result.json"), []byte("{truncated"), 0o644))
	code, _, errOut = run(t, "report", corrupt)
	oneLineError(t, code, errOut, "invalid result JSON")
	code, _, errOut = run(t, "--root", empty, "report")
	oneLineError(t, code, errOut, "no results yet")
}

func TestReportOfAStoredRun(t *testing.T) {
	dir := t.TempDir()
	for _, r := range []*bench.Result{
		{SchemaVersion: 1, Task: "classical/svm", Impl: "python-sklearn", Language: "python", Framework: "scikit-learn",
			Status: bench.StatusOK, Phases: map[string][]float64{"fit": {0.030, 0.031, 0.029, 0.030, 0.032}},
			Metrics: map[string]float64{"accuracy": 0.98}},
		{SchemaVersion: 1, Task: "classical/svm", Impl: "go-gonum", Language: "go", Framework: "gonum",
			Status: bench.StatusOK, Reference: "python-sklearn", Phases: map[string][]float64{"fit": {0.015, 0.016, 0.015, 0.014, 0.015}},
			Metrics: map[string]float64{"accuracy": 0.98}},
		{SchemaVersion: 1, Task: "classical/svm", Impl: "rust-linfa", Language: "rust", Status: bench.StatusFailed,
			Reason: "timeout: no exit after 1s (killed)"},
	} {
		require.NoError(t, bench.WriteJSONAtomic(filepath.Join(dir, bench.ResultFileName(r)), r))
	}
	code, out, errOut := run(t, "report", dir)
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, out, "classical/svm")
	assert.Contains(t, out, "go-gonum")
	assert.Contains(t, out, "FAILED")
	code, out, _ = run(t, "report", "--format", "csv", dir)
	require.Equal(t, 0, code)
	assert.Contains(t, out, "go-gonum")
	code, out, errOut = run(t, "compare", dir, dir)
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, out, "~")
}

func TestWorkerNeedsSpec(t *testing.T) {
	code, _, errOut := run(t, "worker")
	assert.Equal(t, ExitError, code)
	assert.Contains(t, errOut, "spec")
	code, _, errOut = run(t, "worker", "--spec", filepath.Join(t.TempDir(), "none.json"))
	oneLineError(t, code, errOut, "read spec")
}

func TestCheckResume(t *testing.T) {
	out := t.TempDir()
	cfg := bench.Config{Size: bench.SizeFull, Threads: 2, Device: "cpu", Reps: 0, Warmup: -1}
	parts, err := checkResume(out, &cfg, false)
	require.NoError(t, err, "a first part that wrote no run.json")
	assert.Empty(t, parts)

	require.NoError(t, writeRunInfo(out, cfg, nil, nil, nil, time.Now(), stateFinished))
	parts, err = checkResume(out, &cfg, false)
	require.NoError(t, err)
	require.Len(t, parts, 1)
	require.NoError(t, writeRunInfo(out, cfg, nil, nil, parts, time.Now(), stateRunning))
	parts, err = checkResume(out, &cfg, false)
	require.NoError(t, err)
	assert.Len(t, parts, 2, "every earlier part is kept")

	other := cfg
	other.Threads = 1
	_, err = checkResume(out, &other, false)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "that run used --size full --threads 2")

	other = cfg
	other.Order = bench.OrderAlternate
	_, err = checkResume(out, &other, false)
	assert.ErrorContains(t, err, "that run used --order sequential --rounds 0 --seed 0; this one asks for --order alternate --rounds 3")

	require.NoError(t, os.WriteFile(filepath.Join(out, "run.json"), []byte("{"), 0o644))
	_, err = checkResume(out, &cfg, false)
	assert.ErrorContains(t, err, "run.json")
}

// models prepare before data prepare: one line saying what to run, not a
// Python traceback.
func TestModelsPrepareNeedsTokenizers(t *testing.T) {
	root := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(root, "reference", "python"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(root, "reference", "python", "models.py"), []byte("raise SystemExit(9)\n"), 0o644))
	code, _, errOut := run(t, "--root", root, "models", "prepare", "--model", "gpt2")
	oneLineError(t, code, errOut, "the gpt2 tokenizer is not prepared: run `mlbench data prepare` first")
	code, _, errOut = run(t, "--root", root, "models", "prepare", "--model", "bert")
	oneLineError(t, code, errOut, `unknown model "bert"`)
}

// A shuffled run records its seed and schedule; --resume goes on with the
// seed, and refuses another.
func TestRunInfoRecordsTheOrder(t *testing.T) {
	out := t.TempDir()
	task := &bench.Task{ID: "x/t", Reference: "a", Impls: []bench.ImplRef{{ID: "a"}, {ID: "b"}},
		Cases: func(string) []bench.Case { return []bench.Case{{}} }, Quick: bench.Defaults{Reps: 4}}
	jobs := bench.Plan([]*bench.Task{task}, map[string][]bench.ImplRef{task.ID: task.Impls}, bench.SizeQuick)
	cfg := bench.Config{Size: bench.SizeQuick, Threads: 1, Device: "cpu", Warmup: -1, Order: bench.OrderShuffle, Rounds: 2, Seed: 42}
	require.NoError(t, writeRunInfo(out, cfg, jobs, nil, nil, time.Now(), stateRunning))
	var ri runInfo
	b, err := os.ReadFile(filepath.Join(out, "run.json"))
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(b, &ri))
	assert.Equal(t, bench.OrderShuffle, ri.Order)
	assert.Equal(t, 2, ri.Rounds)
	assert.Equal(t, int64(42), ri.Seed)
	assert.Len(t, ri.Schedule, 4, "two jobs in two rounds each")
	assert.Contains(t, ri.Schedule[0], "(round 1 of 2, 2 reps)")

	again := cfg
	again.Seed = 7 // drawn anew: --seed was not given
	_, err = checkResume(out, &again, false)
	require.NoError(t, err)
	assert.Equal(t, int64(42), again.Seed, "the run's own seed")
	_, err = checkResume(out, &again, true)
	require.NoError(t, err, "--seed 42 given again")
	again.Seed = 7
	_, err = checkResume(out, &again, true)
	assert.ErrorContains(t, err, "--seed 42; this one asks for --order shuffle --rounds 2 --seed 7")
}

func TestRunRefusesUnknownOrder(t *testing.T) {
	code, _, errOut := run(t, "run", "--order", "random")
	oneLineError(t, code, errOut, `--order "random": want sequential, alternate, shuffle`)
}
