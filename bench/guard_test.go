package bench

// Tests of what keeps a run from being silently wrong: locks, integrity of
// inputs, resumed settings, orphans, error lines, statuses, disturbances.

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mlbench/mlbench/data"
	"github.com/mlbench/mlbench/internal/dirlock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRunRefusesASecondRunIntoTheSameDirectory(t *testing.T) {
	cfg := testConfig(t)
	task := fakeTask()
	jobs := Plan([]*Task{task}, map[string][]ImplRef{task.ID: task.Impls}, SizeQuick)
	held, err := dirlock.Take(cfg.OutDir)
	require.NoError(t, err)
	_, err = Run(context.Background(), cfg, jobs)
	require.Error(t, err)
	assert.Contains(t, err.Error(), fmt.Sprintf("in use by another mlbench process (pid %d)", os.Getpid()))
	_, err = dirlock.Take(cfg.OutDir)
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

func TestRunRefusesAChangedModel(t *testing.T) {
	cfg := testConfig(t)
	cfg.ModelsDir = filepath.Join(filepath.Dir(cfg.DataDir), "models")
	m := filepath.Join(cfg.ModelsDir, "m")
	require.NoError(t, os.MkdirAll(m, 0o755))
	meta := map[string]any{"trained": false}
	for key, name := range map[string]string{"sha256": "model.safetensors", "onnx_sha256": "model.onnx", "tokenizer_sha256": "tokenizer.json"} {
		require.NoError(t, os.WriteFile(filepath.Join(m, name), []byte(name), 0o644))
		_, meta[key], _ = data.HashFile(filepath.Join(m, name))
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
	jobs := Plan([]*Task{task}, map[string][]ImplRef{task.ID: {{ID: "slow", Launch: Launch{"go", ""}}}}, SizeQuick)
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
