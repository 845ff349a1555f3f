package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

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
	t.Impls = append(t.Impls, ImplRef{"ok", Launch{"go", ""}})
	for _, id := range impls {
		t.Impls = append(t.Impls, ImplRef{id, Launch{"go", ""}})
	}
	return t
}

func testConfig(t *testing.T) Config {
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	require.NoError(t, os.MkdirAll(filepath.Join(data, "d"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(data, "d", "X.npy"), []byte("x"), 0o644))
	_, sum, err := HashFile(filepath.Join(data, "d", "X.npy"))
	require.NoError(t, err)
	require.NoError(t, WriteJSONAtomic(filepath.Join(data, "d", "meta.json"),
		DatasetRef{Name: "d", SHA256: "abc", Official: false, Source: "mirror:d",
			Files: []FileHash{{Path: "X.npy", Size: 1, SHA256: sum}}}))
	return Config{DataDir: data, OutDir: filepath.Join(dir, "out"), Size: SizeQuick, Warmup: -1,
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
	task.Impls[len(task.Impls)-1] = ImplRef{"ok2", Launch{"go", ""}}
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
		if f.Name() != LockFile {
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
		return fakeLauncher{}.Command(task, ImplRef{"ok", impl.Launch})
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
	task.Impls = append(task.Impls, ImplRef{"crash", Launch{"go", ""}})
	cfg.Launcher = aliasLauncher{fakeLauncher{}, map[string]string{"ok2": "ok"}}
	jobs := Plan([]*Task{task}, map[string][]ImplRef{task.ID: {{"ok2", Launch{"go", ""}}}}, SizeQuick)
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
		require.Len(t, impls[tk.ID], 1)
		assert.Equal(t, "go-gonum", impls[tk.ID][0].ID)
	}
	_, _, err = Select(Tasks, Selection{Task: "nope/*"})
	assert.ErrorContains(t, err, "no task matches")
	_, _, err = Select(Tasks, Selection{Task: "[", Impl: ""})
	assert.ErrorContains(t, err, "bad pattern")
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
}

func TestPathsLaunchers(t *testing.T) {
	root := t.TempDir()
	p := Paths{Root: root, Python: filepath.Join(root, "py"), RustBin: filepath.Join(root, "bin"), Self: []string{"/self", "worker"},
		GoLookup: func(task, impl string) error { return nil }}
	argv, err := p.Command("t", ImplRef{"go-gonum", Launch{"go", ""}})
	require.NoError(t, err)
	assert.Equal(t, []string{"/self", "worker"}, argv)

	torch := ImplRef{"go-libtorch", Launch{"go", TorchWorker}}
	_, err = p.Command("t", torch)
	assert.ErrorContains(t, err, "bin/mlbench-torch not built")
	require.NoError(t, os.MkdirAll(p.RustBin, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(p.RustBin, TorchWorker), []byte("#!/bin/sh\n"), 0o755))
	argv, err = p.Command("t", torch)
	require.NoError(t, err)
	assert.Equal(t, []string{filepath.Join(p.RustBin, TorchWorker), "worker"}, argv)

	_, err = p.Command("t", ImplRef{"rust-x", Launch{"rust", "x"}})
	assert.ErrorContains(t, err, "bin/x not built")
	_, err = p.Command("t", ImplRef{"python-x", Launch{"python", "x.py"}})
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

func TestRunRefusesASecondRunIntoTheSameDirectory(t *testing.T) {
	cfg := testConfig(t)
	task := fakeTask()
	jobs := Plan([]*Task{task}, map[string][]ImplRef{task.ID: task.Impls}, SizeQuick)
	held, err := LockDir(cfg.OutDir)
	require.NoError(t, err)
	_, err = Run(context.Background(), cfg, jobs)
	require.Error(t, err)
	assert.Contains(t, err.Error(), fmt.Sprintf("in use by another mlbench process (pid %d)", os.Getpid()))
	_, err = LockDir(cfg.OutDir)
	assert.ErrorContains(t, err, "in use", "a second lock from elsewhere is refused too")

	held.Unlock()
	held.Unlock()
	rs, err := Run(context.Background(), cfg, jobs)
	require.NoError(t, err, "free once the holder let go")
	assert.Equal(t, StatusOK, rs[0].Status, rs[0].Reason)
}

func TestRunResumeReusesOnlyTheSameRepsAndWarmup(t *testing.T) {
	cfg := testConfig(t)
	task := fakeTask()
	jobs := Plan([]*Task{task}, map[string][]ImplRef{task.ID: task.Impls}, SizeQuick)
	first, err := Run(context.Background(), cfg, jobs)
	require.NoError(t, err)
	require.Equal(t, StatusOK, first[0].Status)
	assert.Equal(t, 3, first[0].Reps, "the task's default")
	assert.Equal(t, 1, first[0].Warmup)

	stored := filepath.Join(cfg.OutDir, ResultFileName(first[0]))
	b, err := os.ReadFile(stored)
	require.NoError(t, err)
	cfg.Resume = true
	cfg.Launcher = fakeLauncher{missing: map[string]bool{"ok": true}} // only reuse can pass
	for _, c := range []struct{ reps, warmup int }{{2, -1}, {0, 0}, {20, 5}} {
		require.NoError(t, os.WriteFile(stored, b, 0o644))
		cfg.Reps, cfg.Warmup = c.reps, c.warmup
		rs, err := Run(context.Background(), cfg, jobs)
		require.NoError(t, err)
		assert.Equal(t, StatusFailed, rs[0].Status, "reps %d warmup %d: not reused", c.reps, c.warmup)
	}
	require.NoError(t, os.WriteFile(stored, b, 0o644))
	cfg.Reps, cfg.Warmup = 3, 1
	rs, err := Run(context.Background(), cfg, jobs)
	require.NoError(t, err)
	assert.Equal(t, StatusOK, rs[0].Status, "the same repetitions, given explicitly: reused")
}

func TestRunRefusesPreparedFilesChangedSince(t *testing.T) {
	cfg := testConfig(t)
	task := fakeTask()
	jobs := Plan([]*Task{task}, map[string][]ImplRef{task.ID: task.Impls}, SizeQuick)
	rs, err := Run(context.Background(), cfg, jobs)
	require.NoError(t, err)
	require.Equal(t, StatusOK, rs[0].Status)
	require.Len(t, rs[0].Datasets, 1)
	assert.Len(t, rs[0].Datasets[0].Files, 1, "the result carries the prepared files' hashes")

	x := filepath.Join(cfg.DataDir, "d", "X.npy")
	require.NoError(t, os.WriteFile(x, []byte("y"), 0o644)) // same size, other bytes
	_, err = Run(context.Background(), cfg, jobs)
	require.Error(t, err)
	assert.Contains(t, err.Error(), x+" has sha256")
	assert.Contains(t, err.Error(), "changed since")

	require.NoError(t, os.WriteFile(x, []byte("xx"), 0o644))
	_, err = Run(context.Background(), cfg, jobs)
	assert.ErrorContains(t, err, "has 2 bytes, 1 when it was prepared")

	require.NoError(t, WriteJSONAtomic(filepath.Join(cfg.DataDir, "d", "meta.json"), DatasetRef{Name: "d", SHA256: "abc"}))
	_, err = Run(context.Background(), cfg, jobs)
	assert.ErrorContains(t, err, "records no file hashes")
}

func TestVerifyFilesCachesByMtime(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "a")
	require.NoError(t, os.WriteFile(p, []byte("abc"), 0o644))
	n, sum, err := HashFile(p)
	require.NoError(t, err)
	want := []FileHash{{Path: "a", Size: n, SHA256: sum}}
	require.NoError(t, VerifyFiles(dir, want))
	_, err = os.Stat(filepath.Join(dir, verifiedCache))
	require.NoError(t, err, "the hash is remembered")
	// A change that keeps size and mtime is not seen (the documented limit
	// of the cache); one that moves the mtime is.
	st, _ := os.Stat(p)
	require.NoError(t, os.WriteFile(p, []byte("abd"), 0o644))
	require.NoError(t, os.Chtimes(p, st.ModTime(), st.ModTime()))
	assert.NoError(t, VerifyFiles(dir, want))
	require.NoError(t, os.Chtimes(p, st.ModTime(), st.ModTime().Add(time.Second)))
	assert.ErrorContains(t, VerifyFiles(dir, want), "changed since")
}

func TestRunRefusesAChangedModel(t *testing.T) {
	cfg := testConfig(t)
	cfg.ModelsDir = filepath.Join(filepath.Dir(cfg.DataDir), "models")
	m := filepath.Join(cfg.ModelsDir, "m")
	require.NoError(t, os.MkdirAll(m, 0o755))
	meta := map[string]any{"trained": false}
	for key, name := range map[string]string{"sha256": "model.safetensors", "onnx_sha256": "model.onnx", "tokenizer_sha256": "tokenizer.json"} {
		require.NoError(t, os.WriteFile(filepath.Join(m, name), []byte(name), 0o644))
		_, meta[key], _ = HashFile(filepath.Join(m, name))
	}
	require.NoError(t, WriteJSONAtomic(filepath.Join(m, "meta.json"), meta))
	task := fakeTask()
	task.ModelMeta = "m/meta.json"
	jobs := Plan([]*Task{task}, map[string][]ImplRef{task.ID: task.Impls}, SizeQuick)
	rs, err := Run(context.Background(), cfg, jobs)
	require.NoError(t, err)
	require.Equal(t, StatusOK, rs[0].Status, rs[0].Reason)

	require.NoError(t, os.WriteFile(filepath.Join(m, "model.onnx"), []byte("altered"), 0o644))
	_, err = Run(context.Background(), cfg, jobs)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "model.onnx has sha256")
}

func TestErrorLineNamesTheError(t *testing.T) {
	for _, c := range []struct{ stderr, want string }{
		{"some library noise\nfatal: boom\n", "fatal: boom"},
		{"fatal error: thread exhaustion\n\nruntime stack:\nruntime.throw()\n\truntime/panic.go:1101 +0x48\nruntime/mgc.go:1695 +0x105\n",
			"fatal error: thread exhaustion"},
		{"panic: runtime error: makeslice: len out of range\n\ngoroutine 1 [running]:\nmain.main()\n\t/x/main.go:5 +0x1d\nexit status 2\n",
			"panic: runtime error: makeslice: len out of range"},
		{"Traceback (most recent call last):\n  File \"x.py\", line 3, in <module>\n    f()\n  File \"x.py\", line 2, in f\n    raise ValueError('bad idx')\nValueError: bad idx\n",
			"ValueError: bad idx"},
		{"thread 'main' panicked at src/lib.rs:281:37:\ncapacity overflow\nnote: run with `RUST_BACKTRACE=1` environment variable to display a backtrace\n",
			"thread 'main' panicked at src/lib.rs:281:37: capacity overflow"},
		{"loading...\nerror: spec /x: unknown field `bogus`\n", "error: spec /x: unknown field `bogus`"},
		{"W0101 warming up\nterminate called after throwing an instance of 'c10::Error'\n  what():  CUDA out of memory\nframe #0\nframe #1\n",
			"terminate called after throwing an instance of 'c10::Error'"},
		{"just a line\nthe last one\n", "the last one"},
		{"", "(nothing on stderr)"},
	} {
		assert.Equal(t, c.want, errorLine([]byte(c.stderr)), c.stderr)
	}
}

func TestRunBoundsThreads(t *testing.T) {
	cfg := testConfig(t)
	cfg.Threads = MaxThreads() + 1
	_, err := Run(context.Background(), cfg, Plan([]*Task{fakeTask()}, nil, SizeQuick))
	assert.ErrorContains(t, err, "4 per logical CPU")
}

func alive(pid int) bool {
	_, ok := procStartTime(pid)
	return ok && !zombie(pid)
}

func TestKilledOrchestratorTakesItsImplementationAlong(t *testing.T) {
	cfg := testConfig(t)
	cfgPath := filepath.Join(t.TempDir(), "cfg.json")
	require.NoError(t, WriteJSONAtomic(cfgPath, [2]string{cfg.DataDir, cfg.OutDir}))
	orch := exec.Command(os.Args[0])
	orch.Env = append(os.Environ(), "MLBENCH_FAKE_ORCHESTRATOR="+cfgPath)
	require.NoError(t, orch.Start())
	t.Cleanup(func() { _ = orch.Process.Kill(); _ = orch.Wait() })

	var r running
	for i := 0; i < 400; i++ {
		if err := readJSON(filepath.Join(cfg.OutDir, RunningFile), &r); err == nil {
			if b, _ := os.ReadFile(filepath.Join("/proc", fmt.Sprint(r.PID), "cmdline")); strings.Contains(string(b), "--spec") &&
				strings.Contains(string(b), ".work/001") {
				break // the "hang" job (the second) is running
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	require.NotZero(t, r.PID, "the run records its running implementation")
	require.Equal(t, orch.Process.Pid, r.Parent)
	require.True(t, alive(r.PID))
	t.Cleanup(func() { _ = syscall.Kill(-r.PID, syscall.SIGKILL) })

	require.NoError(t, orch.Process.Signal(syscall.SIGKILL))
	_ = orch.Wait()
	gone := false
	for i := 0; i < 200 && !gone; i++ {
		gone = !alive(r.PID)
		time.Sleep(50 * time.Millisecond)
	}
	assert.True(t, gone, "the implementation (pid %d) outlived its killed orchestrator", r.PID)
}

func TestRunEndsASurvivorOfAKilledRun(t *testing.T) {
	cfg := testConfig(t)
	require.NoError(t, os.MkdirAll(cfg.OutDir, 0o755))
	start := func() *exec.Cmd {
		c := exec.Command("sleep", fakeSleep)
		c.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
		require.NoError(t, c.Start())
		t.Cleanup(func() { _ = c.Process.Kill(); _ = c.Wait() })
		return c
	}
	waited := func(c *exec.Cmd) chan struct{} {
		ch := make(chan struct{})
		go func() { _ = c.Wait(); close(ch) }()
		return ch
	}
	// Left by a killed run: ended by the next run into the directory.
	survivor := start()
	recordRunning(cfg.OutDir, survivor.Process.Pid)
	ended := waited(survivor)
	ran := false
	cfg.OnSurvivor = func() { ran = true }
	task := fakeTask()
	_, err := Run(context.Background(), cfg, Plan([]*Task{task}, map[string][]ImplRef{task.ID: task.Impls}, SizeQuick))
	require.NoError(t, err)
	select {
	case <-ended:
	case <-time.After(10 * time.Second):
		t.Fatal("the survivor still runs")
	}
	assert.True(t, ran)
	_, err = os.Stat(filepath.Join(cfg.OutDir, RunningFile))
	assert.True(t, os.IsNotExist(err))

	// A record whose start time does not match is another process that got
	// the pid: left alone.
	other := start()
	st, ok := procStartTime(other.Process.Pid)
	require.True(t, ok)
	require.NoError(t, WriteJSONAtomic(filepath.Join(cfg.OutDir, RunningFile), running{PID: other.Process.Pid, StartTime: st + 1}))
	ran = false
	_, err = Run(context.Background(), cfg, Plan([]*Task{task}, map[string][]ImplRef{task.ID: task.Impls}, SizeQuick))
	require.NoError(t, err)
	assert.False(t, ran)
	assert.True(t, alive(other.Process.Pid), "not ours: not killed")
}

func TestRunUnverifiableParityIsNotAFailure(t *testing.T) {
	cfg := testConfig(t)
	task := fakeTask("unverifiable", "wrongprobe")
	jobs := Plan([]*Task{task}, map[string][]ImplRef{task.ID: task.Impls}, SizeQuick)
	rs, err := Run(context.Background(), cfg, jobs)
	require.NoError(t, err)
	got := byImpl(rs)
	u := got["unverifiable"]
	assert.Equal(t, StatusUnverified, u.Status, u.Reason)
	assert.Contains(t, u.Reason, "parity not verifiable: metric_abs:acc: metric acc not applicable in this result: this framework cannot")
	require.NotNil(t, u.Parity)
	assert.True(t, u.Parity.Unverified)
	assert.Equal(t, StatusFailed, got["wrongprobe"].Status, "a wrong answer stays a failure")

	// A wrong probe and a missing metric: failed, not unverified.
	p := JudgeParity(task, SizeQuick, &Result{Probes: map[string][]float64{"p": {9, 9, 9}},
		NotApplicable: map[string]string{"acc": "x"}}, got["ok"])
	assert.False(t, p.OK)
	assert.False(t, p.Unverified)

	// --resume keeps an unverified result (it ran well) and judges it again.
	cfg.Resume = true
	cfg.Launcher = fakeLauncher{missing: map[string]bool{"unverifiable": true}}
	rs, err = Run(context.Background(), cfg, jobs)
	require.NoError(t, err)
	assert.Equal(t, StatusUnverified, byImpl(rs)["unverifiable"].Status, byImpl(rs)["unverifiable"].Reason)
}

func TestParseBusyTicks(t *testing.T) {
	// user nice system idle iowait irq softirq steal guest guest_nice
	n, ok := parseBusyTicks("cpu  100 5 50 1000 40 3 2 1 7 0\ncpu0 1 2 3 4 5 6 7 8 9 10\n")
	require.True(t, ok)
	assert.Equal(t, int64(100+5+50+3+2+1), n, "idle, iowait and guest (inside user) left out")
	_, ok = parseBusyTicks("intr 1 2 3\n")
	assert.False(t, ok)
}

func TestRunFlagsAJobDisturbedByABusyNeighbour(t *testing.T) {
	cfg := testConfig(t)
	task := fakeTask("slow")
	task.Reference = "slow"
	jobs := Plan([]*Task{task}, map[string][]ImplRef{task.ID: {{"slow", Launch{"go", ""}}}}, SizeQuick)
	hog := exec.Command("sh", "-c", "while :; do :; done")
	require.NoError(t, hog.Start())
	t.Cleanup(func() { _ = hog.Process.Kill(); _ = hog.Wait() })
	rs, err := Run(context.Background(), cfg, jobs)
	require.NoError(t, err)
	r := byImpl(rs)["slow"]
	require.NotNil(t, r.Machine)
	// The busy loop had the job's whole 1.5 s; on a loaded machine it may get
	// less than a core, but far more than the threshold.
	assert.Greater(t, r.Machine.OtherCPUSeconds, 0.5)
	disturbed, why := r.Disturbed()
	assert.True(t, disturbed, "%+v", r.Machine)
	assert.Contains(t, why, "cores busy on average")

	short := &Result{WallSeconds: 0.1, Machine: &Machine{OtherCores: 3}}
	d, _ := short.Disturbed()
	assert.False(t, d, "too short to judge at 10 ms ticks")
}

func TestRunWaitsForAQuietMachineUpToALimit(t *testing.T) {
	cfg := testConfig(t)
	cfg.WaitQuiet = 2 * time.Second
	hog := exec.Command("sh", "-c", "while :; do :; done")
	require.NoError(t, hog.Start())
	t.Cleanup(func() { _ = hog.Process.Kill(); _ = hog.Wait() })
	task := fakeTask()
	rs, err := Run(context.Background(), cfg, Plan([]*Task{task}, map[string][]ImplRef{task.ID: task.Impls}, SizeQuick))
	require.NoError(t, err)
	require.NotNil(t, rs[0].Machine)
	assert.Contains(t, rs[0].Machine.Waited, "not quiet after", "a busy loop never lets the machine be quiet")
	assert.Equal(t, StatusOK, rs[0].Status, "the job runs anyway once the limit is reached")
}
