package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mlbench/mlbench/data"
	"github.com/mlbench/mlbench/internal/dirlock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The test binary doubles as the fake implementations: when
// MLBENCH_FAKE_IMPL is set it behaves as the implementation named there.
func TestMain(m *testing.M) {
	if mode := os.Getenv("MLBENCH_FAKE_IMPL"); mode != "" {
		os.Exit(fakeImpl(mode, os.Args))
	}
	if cfg := os.Getenv("MLBENCH_FAKE_ORCHESTRATOR"); cfg != "" {
		os.Exit(fakeOrchestrator(cfg))
	}
	os.Exit(m.Run())
}

// fakeOrchestrator runs the reference "ok" and then "hang" with the data and
// results directories in the JSON file cfgPath (what a killed `mlbench run`
// would be doing).
func fakeOrchestrator(cfgPath string) int {
	var dirs [2]string // data, out
	if err := readJSON(cfgPath, &dirs); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	cfg := Config{DataDir: dirs[0], OutDir: dirs[1], Size: SizeQuick, Warmup: -1, Threads: 1, Device: "cpu",
		Timeout: time.Hour, Launcher: fakeLauncher{}}
	task := fakeTask("hang")
	if _, err := Run(context.Background(), cfg, Plan([]*Task{task}, map[string][]ImplRef{task.ID: task.Impls}, SizeQuick)); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

func fakeImpl(mode string, args []string) int {
	var specPath string
	for i, a := range args {
		if a == "--spec" && i+1 < len(args) {
			specPath = args[i+1]
		}
	}
	spec, err := ReadSpec(specPath)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	res := map[string]any{
		"schema_version": SchemaVersion, "task": spec.Task, "variant": spec.Variant, "impl": spec.Impl,
		"language": "fake", "framework": "fake", "framework_version": "0",
		"params": spec.Params, "datasets": spec.Datasets, "threads": spec.Threads, "device": spec.Device,
		"phases":  map[string][]float64{"load": {0.001}, "fit": {0.01, 0.011, 0.012}},
		"metrics": map[string]float64{"acc": 0.9},
		"probes":  map[string][]float64{"p": {1, 2, 3}},
	}
	write := func(v any) int {
		b, _ := json.Marshal(v)
		if err := os.WriteFile(spec.ResultPath, b, 0o644); err != nil {
			return 1
		}
		return 0
	}
	switch mode {
	case "ok":
		res["env_threads"] = os.Getenv("OMP_NUM_THREADS") // unknown field: ignored by readers
		return write(res)
	case "gpu": // lives long enough to be sampled (TestRunRecordsGPUMemory)
		time.Sleep(400 * time.Millisecond)
		return write(res)
	case "wrongprobe":
		res["probes"] = map[string][]float64{"p": {1, 2, 3.5}}
		return write(res)
	case "crash":
		fmt.Fprintln(os.Stderr, "some library noise\nfatal: boom")
		return 3
	case "hang":
		time.Sleep(time.Hour)
	case "hangchild": // the child hangs after the parent exits: the tree is killed
		cmd := exec.Command("sleep", os.Getenv("MLBENCH_FAKE_SLEEP"))
		_ = cmd.Start()
		time.Sleep(time.Hour)
	case "invalidjson":
		_ = os.WriteFile(spec.ResultPath, []byte(`{"schema_version": 1, "task": `), 0o644)
		return 0
	case "negative":
		res["phases"] = map[string][]float64{"fit": {-1}}
		return write(res)
	case "noresult":
		return 0
	case "othertask":
		res["task"] = "x/other"
		return write(res)
	case "checkpoint": // the first process leaves state and hangs; the next goes on from it
		state := filepath.Join(spec.CheckpointDir, "state.json")
		if b, err := os.ReadFile(state); err == nil {
			res["resumed_from"] = "epoch " + strings.TrimSpace(string(b))
			return write(res)
		}
		if err := os.WriteFile(state, []byte("1"), 0o644); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		time.Sleep(time.Hour)
	case "slow": // idle for a while, then ok
		time.Sleep(1500 * time.Millisecond)
		return write(res)
	case "unverifiable": // cannot produce the metric a parity rule needs
		delete(res, "metrics")
		res["not_applicable"] = map[string]string{"acc": "this framework cannot start from given centres"}
		return write(res)
	case "null": // what a null implementation writes: phases only
		delete(res, "metrics")
		delete(res, "probes")
		return write(res)
	case "selferror":
		res["errors"] = []string{"could not converge"}
		return write(res)
	}
	return 9
}

// fakeSleep is how long the child of "hangchild" sleeps: unique to this
// test process, so the check for left-over children finds only its own.
var fakeSleep = fmt.Sprint(100000 + os.Getpid())

// fakeLauncher starts the test binary as the implementation whose id is
// the mode; ids in missing are not runnable.
type fakeLauncher struct{ missing map[string]bool }

func (f fakeLauncher) Command(task string, impl ImplRef) ([]string, error) {
	if f.missing[impl.ID] {
		return nil, fmt.Errorf("%s not built", impl.ID)
	}
	return []string{"env", "MLBENCH_FAKE_IMPL=" + impl.ID, "MLBENCH_FAKE_SLEEP=" + fakeSleep, os.Args[0]}, nil
}

func fakeTask(impls ...string) *Task {
	t := &Task{
		ID: "fake/task", Reference: "ok",
		Cases: func(string) []Case {
			return []Case{{Variant: "n=3", Inputs: map[string]string{"X": "data:d/X.npy"}, Datasets: []string{"d"},
				Params: map[string]any{"k": 8}}}
		},
		Parity: []Rule{{Kind: ProbeMaxAbs, Key: "p", Limit: 1e-6}, {Kind: MetricAbs, Key: "acc", Limit: 0.01}},
		Quick:  Defaults{Warmup: 1, Reps: 3},
	}
	t.Impls = append(t.Impls, ImplRef{ID: "ok", Launch: Launch{"go", ""}})
	for _, id := range impls {
		t.Impls = append(t.Impls, ImplRef{ID: id, Launch: Launch{"go", ""}})
	}
	return t
}

func testConfig(t *testing.T) Config {
	dir := t.TempDir()
	dataDir := filepath.Join(dir, "data")
	require.NoError(t, os.MkdirAll(filepath.Join(dataDir, "d"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dataDir, "d", "X.npy"), []byte("x"), 0o644))
	_, sum, err := data.HashFile(filepath.Join(dataDir, "d", "X.npy"))
	require.NoError(t, err)
	require.NoError(t, WriteJSONAtomic(filepath.Join(dataDir, "d", "meta.json"),
		DatasetRef{Name: "d", SHA256: "abc", Official: false, Source: "mirror:d",
			Files: []FileHash{{Path: "X.npy", Size: 1, SHA256: sum}}}))
	return Config{DataDir: dataDir, OutDir: filepath.Join(dir, "out"), Size: SizeQuick, Warmup: -1,
		Threads: 2, Device: "cpu", Timeout: 20 * time.Second, Launcher: fakeLauncher{}}
}

func byImpl(rs []*Result) map[string]*Result {
	m := map[string]*Result{}
	for _, r := range rs {
		m[r.Impl] = r
	}
	return m
}

func TestRunRecordsFailuresAndGoesOn(t *testing.T) {
	cfg := testConfig(t)
	cfg.Timeout = 3 * time.Second
	task := fakeTask("crash", "hang", "hangchild", "invalidjson", "negative", "noresult", "othertask", "selferror", "wrongprobe", "ok2")
	task.Impls[len(task.Impls)-1] = ImplRef{ID: "ok2", Launch: Launch{"go", ""}}
	// ok2 behaves as "ok" through the launcher below.
	cfg.Launcher = aliasLauncher{fakeLauncher{}, map[string]string{"ok2": "ok"}}
	jobs := Plan([]*Task{task}, map[string][]ImplRef{task.ID: task.Impls}, SizeQuick)
	require.Len(t, jobs, len(task.Impls))
	assert.Equal(t, "ok", jobs[0].Impl.ID, "the reference runs first")

	start := time.Now()
	rs, err := Run(context.Background(), cfg, jobs)
	require.NoError(t, err)
	require.Len(t, rs, len(jobs))
	assert.Less(t, time.Since(start), 30*time.Second, "hanging implementations are killed at the timeout")

	got := byImpl(rs)
	want := map[string]string{
		"crash":       "exit status 3: fatal: boom",
		"hang":        "timeout",
		"hangchild":   "timeout",
		"invalidjson": "invalid output: invalid result JSON",
		"negative":    "invalid output: invalid result: phase fit[0] = -1",
		"noresult":    "invalid output: exited 0 but wrote no result file",
		"othertask":   "invalid output: result is for x/other",
		"selferror":   "implementation error: could not converge",
		"wrongprobe":  "parity: probe_max_abs:p = 0.5 (limit 1e-06)",
	}
	for id, reason := range want {
		r := got[id]
		require.NotNil(t, r, id)
		assert.Equal(t, StatusFailed, r.Status, id)
		assert.Contains(t, r.Reason, reason, id)
	}
	for _, id := range []string{"ok", "ok2"} {
		assert.Equal(t, StatusOK, got[id].Status, "%s: %s", id, got[id].Reason)
		require.NotNil(t, got[id].Parity)
		assert.True(t, got[id].Parity.OK)
		assert.Len(t, got[id].Phases["fit"], 3)
		assert.Greater(t, got[id].PeakRSSBytes, int64(0))
		assert.Contains(t, got[id].Env, "OMP_NUM_THREADS=2")
	}
	assert.Equal(t, "ok", got["ok2"].Reference)

	// Every job left exactly one complete result file, and nothing else.
	files, err := os.ReadDir(cfg.OutDir)
	require.NoError(t, err)
	var names []string
	for _, f := range files {
		if f.Name() != dirlock.File {
			names = append(names, f.Name())
		}
	}
	assert.Len(t, names, len(jobs), "%v", names)
	for _, n := range names {
		require.True(t, strings.HasSuffix(n, ".result.json"), n)
		b, err := os.ReadFile(filepath.Join(cfg.OutDir, n))
		require.NoError(t, err)
		var r Result
		require.NoError(t, json.Unmarshal(b, &r), n)
	}
	// The hanging child was killed with its group.
	out, _ := exec.Command("pgrep", "-f", "sleep "+fakeSleep).Output()
	assert.Empty(t, strings.TrimSpace(string(out)), "left-over child processes")
}

type aliasLauncher struct {
	l     fakeLauncher
	alias map[string]string
}

func (a aliasLauncher) Command(task string, impl ImplRef) ([]string, error) {
	if to, ok := a.alias[impl.ID]; ok {
		impl.ID = to
	}
	return a.l.Command(task, impl)
}

func TestRunResumeKeepsPassedResultsAndRunsTheRest(t *testing.T) {
	cfg := testConfig(t)
	task := fakeTask("crash", "ok2")
	cfg.Launcher = aliasLauncher{fakeLauncher{}, map[string]string{"ok2": "ok"}}
	jobs := Plan([]*Task{task}, map[string][]ImplRef{task.ID: task.Impls}, SizeQuick)
	first, err := Run(context.Background(), cfg, jobs)
	require.NoError(t, err)
	before := byImpl(first)
	require.Equal(t, StatusFailed, before["crash"].Status)
	require.Equal(t, StatusOK, before["ok2"].Status)

	// The second part: "ok" and "ok2" cannot start any more, so they can only
	// pass by being reused; "crash" is fixed and must run again.
	cfg.Resume = true
	cfg.Launcher = launcherFunc(func(task string, impl ImplRef) ([]string, error) {
		if impl.ID != "crash" {
			return nil, fmt.Errorf("%s not built", impl.ID)
		}
		return fakeLauncher{}.Command(task, ImplRef{ID: "ok", Launch: impl.Launch})
	})
	second, err := Run(context.Background(), cfg, jobs)
	require.NoError(t, err)
	after := byImpl(second)
	for _, id := range []string{"ok", "ok2"} {
		assert.Equal(t, StatusOK, after[id].Status, "%s: %s", id, after[id].Reason)
		assert.Equal(t, before[id].StartedAt, after[id].StartedAt, "%s reused, not run", id)
		require.NotNil(t, after[id].Parity)
		assert.True(t, after[id].Parity.OK)
	}
	assert.Equal(t, StatusOK, after["crash"].Status, after["crash"].Reason)
	assert.Equal(t, "ok", after["crash"].Reference)

	// Other threads: nothing is reused (and "ok" cannot start).
	cfg.Threads = 1
	third, err := Run(context.Background(), cfg, jobs)
	require.NoError(t, err)
	assert.Equal(t, StatusFailed, byImpl(third)["ok"].Status)
	assert.Contains(t, byImpl(third)["ok"].Reason, "not runnable")
}

type launcherFunc func(task string, impl ImplRef) ([]string, error)

func (f launcherFunc) Command(task string, impl ImplRef) ([]string, error) { return f(task, impl) }

func TestRunWithRelativeDirectories(t *testing.T) {
	cfg := testConfig(t)
	t.Chdir(filepath.Dir(cfg.DataDir))
	cfg.DataDir, cfg.OutDir = "data", filepath.Join("results", "run")
	task := fakeTask()
	rs, err := Run(context.Background(), cfg, Plan([]*Task{task}, map[string][]ImplRef{task.ID: task.Impls}, SizeQuick))
	require.NoError(t, err)
	require.Len(t, rs, 1)
	assert.Equal(t, StatusOK, rs[0].Status, rs[0].Reason)
	_, err = os.Stat(filepath.Join("results", "run", ResultFileName(rs[0])))
	assert.NoError(t, err)
}

func TestRunWithoutReferenceFailsParity(t *testing.T) {
	cfg := testConfig(t)
	task := fakeTask("ok2")
	task.Reference = "crash"
	task.Impls = append(task.Impls, ImplRef{ID: "crash", Launch: Launch{"go", ""}})
	cfg.Launcher = aliasLauncher{fakeLauncher{}, map[string]string{"ok2": "ok"}}
	jobs := Plan([]*Task{task}, map[string][]ImplRef{task.ID: {{ID: "ok2", Launch: Launch{"go", ""}}}}, SizeQuick)
	require.Len(t, jobs, 2, "the reference is added to the selection")
	rs, err := Run(context.Background(), cfg, jobs)
	require.NoError(t, err)
	got := byImpl(rs)
	assert.Equal(t, StatusFailed, got["crash"].Status)
	assert.Equal(t, StatusFailed, got["ok2"].Status)
	assert.Contains(t, got["ok2"].Reason, "no valid result from the reference crash")
}

func TestRunStopsOnMissingData(t *testing.T) {
	cfg := testConfig(t)
	require.NoError(t, os.Remove(filepath.Join(cfg.DataDir, "d", "meta.json")))
	task := fakeTask()
	_, err := Run(context.Background(), cfg, Plan([]*Task{task}, map[string][]ImplRef{task.ID: task.Impls}, SizeQuick))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "dataset d is not prepared")
	assert.NotContains(t, err.Error(), "\n")
	_, statErr := os.Stat(cfg.OutDir)
	assert.True(t, os.IsNotExist(statErr), "no results directory for a run that could not start")
}

func TestRunSpecCarriesKnobsAndDefaults(t *testing.T) {
	cfg := testConfig(t)
	cfg.Reps, cfg.Warmup, cfg.Threads = 5, 0, 1
	task := fakeTask()
	j := Plan([]*Task{task}, map[string][]ImplRef{task.ID: task.Impls}, SizeQuick)[0]
	dir := t.TempDir()
	s, err := makeSpec(cfg, j, dir)
	require.NoError(t, err)
	assert.Equal(t, 5, s.Reps)
	assert.Equal(t, 0, s.Warmup)
	assert.Equal(t, 1, s.Threads)
	assert.Equal(t, float64(8), s.Params["k"], "params are JSON numbers for every language")
	assert.True(t, filepath.IsAbs(s.Inputs["X"]))
	assert.Equal(t, "abc", s.Datasets[0].SHA256)
	require.NoError(t, s.Validate())

	cfg.Reps, cfg.Warmup = 0, -1
	s, err = makeSpec(cfg, j, dir)
	require.NoError(t, err)
	assert.Equal(t, 3, s.Reps, "task default")
	assert.Equal(t, 1, s.Warmup, "task default")
}

func TestRunnableSplitsSkipped(t *testing.T) {
	task := fakeTask("a", "b")
	jobs := Plan([]*Task{task}, map[string][]ImplRef{task.ID: task.Impls}, SizeQuick)
	ok, skipped := Runnable(jobs, fakeLauncher{missing: map[string]bool{"b": true}})
	assert.Len(t, ok, 2)
	require.Len(t, skipped, 1)
	assert.Equal(t, "b", skipped[0].Job.Impl.ID)
	assert.Contains(t, skipped[0].Reason, "not built")
}

func TestResultFileName(t *testing.T) {
	assert.Equal(t, "classical_kmeans.n=10000.go-gonum.result.json",
		ResultFileName(&Result{Task: "classical/kmeans", Variant: "n=10000", Impl: "go-gonum"}))
	assert.Equal(t, "classical_svm.python-sklearn.result.json",
		ResultFileName(&Result{Task: "classical/svm", Impl: "python-sklearn"}))
	assert.Equal(t, "a_b.x_y.z.result.json", ResultFileName(&Result{Task: "a/b", Variant: "x y", Impl: "z"}))
}

func TestSelect(t *testing.T) {
	ts, impls, err := Select(Tasks, Selection{Task: "classical/*", Impl: "go-*"})
	require.NoError(t, err)
	assert.Len(t, ts, 3)
	for _, tk := range ts {
		var ids []string
		for _, i := range impls[tk.ID] {
			ids = append(ids, i.ID)
		}
		assert.Equal(t, []string{"go-gonum", "go-null"}, ids, "go-* is every Go implementation, the null one too")
	}
	_, _, err = Select(Tasks, Selection{Task: "nope/*"})
	assert.ErrorContains(t, err, "no task matches")
	_, _, err = Select(Tasks, Selection{Task: "[", Impl: ""})
	assert.ErrorContains(t, err, "bad pattern")
	_, _, err = Select(Tasks, Selection{Task: "classical/*,", Impl: ""})
	assert.ErrorContains(t, err, "empty element")
}

// The default selection ("*" for both) is every task and every
// implementation: `*` crosses the "/" of task ids.
func TestSelectDefaultIsEverything(t *testing.T) {
	for _, sel := range []Selection{{}, {Task: "*", Impl: "*"}} {
		ts, impls, err := Select(Tasks, sel)
		require.NoError(t, err)
		require.Len(t, ts, len(Tasks))
		for _, tk := range Tasks {
			assert.Len(t, impls[tk.ID], len(tk.Impls), tk.ID)
		}
	}
}

func TestSelectCommaListsAndGlobs(t *testing.T) {
	ts, impls, err := Select(Tasks, Selection{Task: "llm/*", Impl: "go-ort, python-ort"})
	require.NoError(t, err)
	require.Len(t, ts, 2)
	for _, tk := range ts {
		var ids []string
		for _, i := range impls[tk.ID] {
			ids = append(ids, i.ID)
		}
		assert.ElementsMatch(t, []string{"go-ort", "python-ort"}, ids)
	}
	ts, _, err = Select(Tasks, Selection{Task: "classical/linreg,dl/cnn"})
	require.NoError(t, err)
	require.Len(t, ts, 2)
	assert.Equal(t, "classical/linreg", ts[0].ID)
	assert.Equal(t, "dl/cnn", ts[1].ID)
	ts, _, err = Select(Tasks, Selection{Task: "*kmeans", Impl: "rust-[ls]*"})
	require.NoError(t, err)
	require.Len(t, ts, 1)
	for _, c := range []struct {
		glob, id string
		want     bool
	}{
		{"classical/?vm", "classical/svm", true},
		{"classical/[!s]*", "classical/svm", false},
		{"classical/[!s]*", "classical/linreg", true},
		{"go-*", "python-go-x", false},
		{`a\*`, "a*", true},
		{`a\*`, "ab", false},
	} {
		p, err := ParsePattern(c.glob)
		require.NoError(t, err, c.glob)
		assert.Equal(t, c.want, p.Match(c.id), "%s ~ %s", c.glob, c.id)
	}
}

func TestParityRules(t *testing.T) {
	ref := &Result{Status: StatusOK, Probes: map[string][]float64{"p": {1, 0, -2}}, Metrics: map[string]float64{"m": 10}}
	got := &Result{Probes: map[string][]float64{"p": {1.0000001, 0, -2}}, Metrics: map[string]float64{"m": 10.05}}
	c := Rule{Kind: ProbeMaxRel, Key: "p", Limit: 1e-6}.Check(got, ref)
	assert.True(t, c.OK, c.Detail)
	assert.InDelta(t, 1e-7, c.Value, 1e-12)
	c = Rule{Kind: MetricRel, Key: "m", Limit: 0.01}.Check(got, ref)
	assert.True(t, c.OK)
	c = Rule{Kind: MetricAbs, Key: "m", Limit: 0.01}.Check(got, ref)
	assert.False(t, c.OK)
	c = Rule{Kind: ProbeAgree, Key: "p", Limit: 0.6}.Check(got, ref)
	assert.InDelta(t, 2.0/3, c.Value, 1e-12)
	assert.True(t, c.OK)
	c = Rule{Kind: ProbeMaxAbs, Key: "p", Index: []int{1, 2}, Limit: 0}.Check(got, ref)
	assert.True(t, c.OK, "index restricts the comparison")
	got.NotApplicable = map[string]string{"z": "cannot start from given centres"}
	c = Rule{Kind: MetricRel, Key: "z", Limit: 1}.Check(got, ref)
	assert.False(t, c.OK)
	assert.Equal(t, "metric z not applicable in this result: cannot start from given centres", c.Detail)
	c = Rule{Kind: ProbeMaxAbs, Key: "q", Limit: 1}.Check(got, ref)
	assert.False(t, c.OK)
	assert.Contains(t, c.Detail, "missing from both")
	short := &Result{Probes: map[string][]float64{"p": {1}}}
	assert.False(t, Rule{Kind: ProbeMaxAbs, Key: "p", Limit: 1}.Check(short, ref).OK)
	assert.False(t, Rule{Kind: ProbeMaxAbs, Key: "p", Index: []int{7}, Limit: 1}.Check(got, ref).OK)

	r := Rule{Kind: MetricAbs, Key: "x", OnlySize: SizeFull}
	assert.False(t, r.Applies(SizeQuick, nil))
	assert.True(t, r.Applies(SizeFull, nil))
	r = Rule{Kind: ProbeAgree, Key: "tokens", OnlyIfParam: "trained"}
	assert.False(t, r.Applies(SizeQuick, map[string]any{"trained": false}))
	assert.True(t, r.Applies(SizeQuick, map[string]any{"trained": true}))
	// The sweeps run on fixed token ids: no answers, so no answer parity.
	r.NotSize = SizeSweep
	assert.True(t, r.Applies(SizeFull, map[string]any{"trained": true}))
	assert.False(t, r.Applies(SizeSweep, map[string]any{"trained": true}))
	for _, id := range []string{"llm/bert-qa", "llm/gpt2"} {
		task, err := LookupTask(id)
		require.NoError(t, err)
		for _, rule := range task.Parity {
			if rule.OnlyIfParam == "trained" {
				assert.False(t, rule.Applies(SizeSweep, map[string]any{"trained": true}), "%s %s", id, rule.Key)
			}
		}
	}
}

func TestPathsLaunchers(t *testing.T) {
	root := t.TempDir()
	p := Paths{Root: root, Python: filepath.Join(root, "py"), RustBin: filepath.Join(root, "bin"), Self: []string{"/self", "worker"},
		GoLookup: func(task, impl string) error { return nil }}
	argv, err := p.Command("t", ImplRef{ID: "go-gonum", Launch: Launch{"go", ""}})
	require.NoError(t, err)
	assert.Equal(t, []string{"/self", "worker"}, argv)

	torch := ImplRef{ID: "go-libtorch", Launch: Launch{"go", TorchWorker}}
	_, err = p.Command("t", torch)
	assert.ErrorContains(t, err, "bin/mlbench-torch not built")
	require.NoError(t, os.MkdirAll(p.RustBin, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(p.RustBin, TorchWorker), []byte("#!/bin/sh\n"), 0o755))
	argv, err = p.Command("t", torch)
	require.NoError(t, err)
	assert.Equal(t, []string{filepath.Join(p.RustBin, TorchWorker), "worker"}, argv)

	_, err = p.Command("t", ImplRef{ID: "rust-x", Launch: Launch{"rust", "x"}})
	assert.ErrorContains(t, err, "bin/x not built")
	_, err = p.Command("t", ImplRef{ID: "python-x", Launch: Launch{"python", "x.py"}})
	assert.ErrorContains(t, err, "reference/python/x.py does not exist")
}

func TestRunGoesOnFromACheckpointWithResume(t *testing.T) {
	cfg := testConfig(t)
	cfg.Timeout = 2 * time.Second
	task := fakeTask("checkpoint")
	jobs := Plan([]*Task{task}, map[string][]ImplRef{task.ID: task.Impls}, SizeQuick)
	ckpt := filepath.Join(cfg.OutDir, CheckpointsDir, "fake_task.n=3.checkpoint")
	parts := func() []Part {
		var p []Part
		require.NoError(t, readJSON(filepath.Join(ckpt, partsFile), &p))
		return p
	}

	// A new run never goes on from state found in the directory.
	require.NoError(t, os.MkdirAll(ckpt, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(ckpt, "state.json"), []byte("7"), 0o644))
	rs, err := Run(context.Background(), cfg, jobs)
	require.NoError(t, err)
	r := byImpl(rs)["checkpoint"]
	assert.Equal(t, StatusFailed, r.Status)
	assert.Contains(t, r.Reason, "timeout")
	assert.Contains(t, r.Reason, "checkpoint is kept for --resume")
	b, err := os.ReadFile(filepath.Join(ckpt, "state.json"))
	require.NoError(t, err)
	assert.Equal(t, "1", string(b), "the stale state was removed before the job started")
	require.Len(t, parts(), 1)
	assert.Contains(t, parts()[0].Reason, "timeout")
	assert.Greater(t, parts()[0].PeakRSSBytes, int64(0))
	assert.Greater(t, parts()[0].WallSeconds, 1.0)
	_, err = os.Stat(filepath.Join(cfg.OutDir, CheckpointsDir, "fake_task.n=3.ok"))
	assert.True(t, os.IsNotExist(err), "a job that kept no state leaves no checkpoint directory")

	// --resume goes on from it, and the result lists the earlier part.
	cfg.Resume = true
	rs, err = Run(context.Background(), cfg, jobs)
	require.NoError(t, err)
	r = byImpl(rs)["checkpoint"]
	require.Equal(t, StatusOK, r.Status, r.Reason)
	assert.Equal(t, "epoch 1", r.ResumedFrom)
	require.Len(t, r.EarlierParts, 1)
	assert.Contains(t, r.EarlierParts[0].Reason, "timeout")
	assert.GreaterOrEqual(t, r.PeakRSSBytes, r.EarlierParts[0].PeakRSSBytes)
	_, err = os.Stat(filepath.Join(cfg.OutDir, CheckpointsDir))
	assert.True(t, os.IsNotExist(err), "a passed job's checkpoint is removed")
	var stored Result
	require.NoError(t, readJSON(filepath.Join(cfg.OutDir, ResultFileName(r)), &stored))
	assert.Len(t, stored.EarlierParts, 1)
}
