package cli

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mlbench/mlbench/bench"
	"github.com/mlbench/mlbench/data"
)

// The test binary doubles as a fake Python (MLBENCH_PYTHON points at it) and
// as the mlbench command itself, so that whole runs are tested without any
// framework installed.
func TestMain(m *testing.M) {
	switch {
	case os.Getenv("MLBENCH_CLI_FAKE") != "" && len(os.Args) > 1 && strings.HasSuffix(os.Args[1], ".py"):
		os.Exit(fakePython(os.Getenv("MLBENCH_CLI_FAKE"), os.Args))
	case os.Getenv("MLBENCH_CLI_MAIN") == "1":
		os.Exit(Main(append([]string{"mlbench"}, os.Args[1:]...), os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

// fakePython is the implementation started as "python SCRIPT --spec PATH":
// it writes a passing result ("ok"), or says it started and hangs ("hang").
func fakePython(mode string, args []string) int {
	spec, err := bench.ReadSpec(args[len(args)-1])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	if mode == "hang" {
		_ = os.WriteFile(filepath.Join(filepath.Dir(spec.ResultPath), "..", "..", "started"), nil, 0o644)
		time.Sleep(time.Hour)
	}
	b, _ := json.Marshal(map[string]any{
		"schema_version": bench.SchemaVersion, "task": spec.Task, "variant": spec.Variant, "impl": spec.Impl,
		"language": "python", "framework": "fake", "params": spec.Params, "datasets": spec.Datasets,
		"threads": spec.Threads, "device": spec.Device,
		"phases": map[string][]float64{"fit": {0.01, 0.011, 0.012}}, "metrics": map[string]float64{"r2": 0.6},
		"probes": map[string][]float64{"coef": {1, 2}},
	})
	if err := os.WriteFile(spec.ResultPath, b, 0o644); err != nil {
		return 1
	}
	return 0
}

// fakeCheckout is a checkout whose only runnable implementation is the
// reference of classical/linreg (python-sklearn, played by this binary),
// with its inputs in place.
func fakeCheckout(t *testing.T, mode string) string {
	root := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(root, "reference", "python"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(root, "reference", "python", "classical.py"), nil, 0o644))
	ds := filepath.Join(root, "data", "processed", "california_housing")
	require.NoError(t, os.MkdirAll(ds, 0o755))
	ref := bench.DatasetRef{Name: "california_housing", SHA256: "abc", Source: "test"}
	for _, n := range []string{"X.npy", "y.npy", "train_idx.npy", "test_idx.npy"} {
		require.NoError(t, os.WriteFile(filepath.Join(ds, n), []byte(n), 0o644))
		size, sum, err := data.HashFile(filepath.Join(ds, n))
		require.NoError(t, err)
		ref.Files = append(ref.Files, bench.FileHash{Path: n, Size: size, SHA256: sum})
	}
	require.NoError(t, bench.WriteJSONAtomic(filepath.Join(ds, "meta.json"), ref))
	self, err := os.Executable()
	require.NoError(t, err)
	t.Setenv("MLBENCH_PYTHON", self)
	t.Setenv("MLBENCH_CLI_FAKE", mode)
	return root
}

func readRunInfo(t *testing.T, out string) runInfo {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(out, "run.json"))
	require.NoError(t, err)
	var ri runInfo
	require.NoError(t, json.Unmarshal(b, &ri))
	return ri
}

func TestRunWritesRunJSONAtStartAndEnd(t *testing.T) {
	root := fakeCheckout(t, "ok")
	out := filepath.Join(root, "results", "r")
	code, _, errOut := run(t, "--root", root, "run", "--task", "classical/linreg", "--impl", "python-sklearn", "--out", out, "--threads", "1")
	require.Equal(t, 0, code, errOut)
	ri := readRunInfo(t, out)
	assert.Equal(t, stateFinished, ri.State)
	assert.NotEmpty(t, ri.Started)
	assert.NotEmpty(t, ri.Finished)
}

// startCLI runs `mlbench ARGS` as a child process (this test binary).
func startCLI(t *testing.T, args ...string) (*exec.Cmd, *strings.Builder) {
	self, err := os.Executable()
	require.NoError(t, err)
	cmd := exec.Command(self, args...)
	cmd.Env = append(os.Environ(), "MLBENCH_CLI_MAIN=1")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	return cmd, &stderr
}

func waitFor(t *testing.T, path string) {
	t.Helper()
	for i := 0; i < 600; i++ {
		if _, err := os.Stat(path); err == nil {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("%s never appeared", path)
}

func TestRunInterruptedDuringTheLastJob(t *testing.T) {
	root := fakeCheckout(t, "hang")
	out := filepath.Join(root, "results", "r")
	cmd, stderr := startCLI(t, "--root", root, "run", "--task", "classical/linreg", "--impl", "python-sklearn", "--out", out, "--threads", "1")
	waitFor(t, filepath.Join(out, "started"))
	ri := readRunInfo(t, out)
	assert.Equal(t, stateRunning, ri.State, "run.json is written before the first job")
	assert.Equal(t, 1, ri.Threads)

	// A second run into the same directory is refused while this one runs.
	code, _, errOut := run(t, "--root", root, "run", "--task", "classical/linreg", "--impl", "python-sklearn", "--out", out, "--threads", "1", "--resume")
	oneLineError(t, code, errOut, fmt.Sprintf("in use by another mlbench process (pid %d)", cmd.Process.Pid))

	require.NoError(t, cmd.Process.Signal(syscall.SIGINT))
	err := cmd.Wait()
	var ee *exec.ExitError
	require.ErrorAs(t, err, &ee, stderr.String())
	assert.Equal(t, ExitInterrupted, ee.ExitCode(), stderr.String())
	assert.Contains(t, stderr.String(), "interrupted")
	assert.Equal(t, stateInterrupted, readRunInfo(t, out).State)
	var r bench.Result
	b, err := os.ReadFile(filepath.Join(out, "classical_linreg.replicate=1.python-sklearn.result.json"))
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(b, &r))
	assert.Equal(t, bench.StatusFailed, r.Status)
	assert.Contains(t, r.Reason, "interrupted")

	// --resume runs the interrupted job again.
	t.Setenv("MLBENCH_CLI_FAKE", "ok")
	code, _, errOut = run(t, "--root", root, "run", "--task", "classical/linreg", "--impl", "python-sklearn", "--out", out, "--threads", "1", "--resume")
	require.Equal(t, 0, code, errOut)
	ri = readRunInfo(t, out)
	assert.Equal(t, stateFinished, ri.State)
	require.Len(t, ri.Parts, 1)
	assert.Equal(t, stateInterrupted, ri.Parts[0].State)
}

func TestRunWarnsAboveTheCPUCount(t *testing.T) {
	root := fakeCheckout(t, "ok")
	n := runtime.NumCPU() + 1
	code, _, errOut := run(t, "--root", root, "run", "--task", "classical/linreg", "--impl", "python-sklearn",
		"--out", filepath.Join(root, "r"), "--threads", fmt.Sprint(n))
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, errOut, fmt.Sprintf("warning: --threads %d is more than the %d logical CPUs", n, runtime.NumCPU()))
}

func TestRunRefusesAlteredDataAndLeavesNothing(t *testing.T) {
	root := fakeCheckout(t, "ok")
	x := filepath.Join(root, "data", "processed", "california_housing", "X.npy")
	require.NoError(t, os.WriteFile(x, []byte("X.npz"), 0o644)) // same size, one byte changed
	out := filepath.Join(root, "results", "r")
	args := []string{"--root", root, "run", "--task", "classical/linreg", "--impl", "python-sklearn", "--out", out, "--threads", "1"}
	code, _, errOut := run(t, args...)
	oneLineError(t, code, errOut, x+" has sha256")
	_, err := os.Stat(filepath.Join(out, "run.json"))
	assert.True(t, os.IsNotExist(err), "a refused run writes no run.json")

	require.NoError(t, os.WriteFile(x, []byte("X.npy"), 0o644))
	code, _, errOut = run(t, args...)
	assert.Equal(t, 0, code, "the same directory is usable once the data is right: %s", errOut)
}
