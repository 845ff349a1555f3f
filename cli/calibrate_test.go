package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/urfave/cli/v2"

	"github.com/mlbench/mlbench/bench"
	"github.com/mlbench/mlbench/internal/testenv"
)

// fakeCalibratingPython is a fake checkout (fakeCheckout) whose Python also
// answers envinfo.py --blas and calibrate.py (failing when gemmFails), and
// plays the implementations as before.
func fakeCalibratingPython(t *testing.T, gemmFails bool) string {
	root := fakeCheckout(t, "ok")
	self, err := os.Executable()
	require.NoError(t, err)
	gemm := `echo '{"flop_per_s": 1e9, "repeats": 5, "kernel": "fake mm"}'`
	if gemmFails {
		gemm = `echo "ModuleNotFoundError: No module named 'torch'" >&2; exit 1`
	}
	script := "#!/bin/sh\ncase \"$1\" in\n" +
		"*envinfo.py) echo '{\"blas\": [\"numpy 0: fake BLAS\"]}';;\n" +
		"*calibrate.py) " + gemm + ";;\n" +
		"*) exec '" + self + "' \"$@\";;\nesac\n"
	py := filepath.Join(t.TempDir(), "python")
	require.NoError(t, os.WriteFile(py, []byte(script), 0o755))
	t.Setenv("MLBENCH_PYTHON", py)
	return root
}

func readResultHost(t *testing.T, out string) *bench.HostInfo {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(out, "*.result.json"))
	require.NoError(t, err)
	require.Len(t, paths, 1)
	b, err := os.ReadFile(paths[0])
	require.NoError(t, err)
	var r bench.Result
	require.NoError(t, json.Unmarshal(b, &r))
	return r.Host
}

func TestRunCalibrateStoresTheLimitsInRunJSONAndEveryHost(t *testing.T) {
	root := fakeCalibratingPython(t, false)
	out := filepath.Join(root, "results", "r")
	code, _, errOut := run(t, "--root", root, "run", "--task", "classical/linreg", "--impl", "python-sklearn", "--out", out,
		"--threads", "1", "--calibrate")
	require.Equal(t, 0, code, errOut)
	ri := readRunInfo(t, out)
	require.NotNil(t, ri.Host.Limits, errOut)
	l := ri.Host.Limits
	assert.Equal(t, bench.Measure{Value: 1e9, Repeats: 5, Kernel: "fake mm"}, l.GEMM)
	assert.Greater(t, l.Bandwidth.Value, 0.0, "the triad ran for real")
	assert.Contains(t, l.Bandwidth.Kernel, "1 goroutines")
	assert.Equal(t, 1, l.Threads)
	assert.Equal(t, []string{"numpy 0: fake BLAS"}, ri.Host.BLAS)
	assert.Equal(t, ri.Host, readResultHost(t, out))
}

func TestQuickRunDoesNotCalibrateButRecordsTheBLAS(t *testing.T) {
	root := fakeCalibratingPython(t, false)
	out := filepath.Join(root, "results", "r")
	code, _, errOut := run(t, "--root", root, "run", "--task", "classical/linreg", "--impl", "python-sklearn", "--out", out, "--threads", "1")
	require.Equal(t, 0, code, errOut)
	h := readResultHost(t, out)
	assert.Nil(t, h.Limits)
	assert.Equal(t, []string{"numpy 0: fake BLAS"}, h.BLAS)
	assert.NotContains(t, errOut, "calibrating")
}

func TestRunCalibrateFailureEndsTheRunBeforeAnyJob(t *testing.T) {
	root := fakeCalibratingPython(t, true)
	out := filepath.Join(root, "results", "r")
	code, _, errOut := run(t, "--root", root, "run", "--task", "classical/linreg", "--impl", "python-sklearn", "--out", out,
		"--threads", "1", "--calibrate")
	assert.NotEqual(t, 0, code)
	assert.Contains(t, errOut, "calibrate: GEMM")
	assert.Contains(t, errOut, "No module named 'torch'")
	_, err := os.Stat(filepath.Join(out, "run.json"))
	assert.ErrorIs(t, err, os.ErrNotExist, "a refused run leaves no run.json")
}

func TestCalibrateIsOnForFullRunsUnlessTurnedOff(t *testing.T) {
	for args, want := range map[string][2]bool{
		"":                          {false, false},
		"--size full":               {true, false},
		"--calibrate":               {true, true},
		"--size full --calibrate=0": {false, false},
	} {
		var got [2]bool
		app := &cli.App{Flags: []cli.Flag{&cli.StringFlag{Name: "size", Value: bench.SizeQuick}, calibrateFlag()},
			Action: func(c *cli.Context) error {
				got[0], got[1] = wantCalibrate(c)
				return nil
			}}
		require.NoError(t, app.Run(append([]string{"x"}, strings.Fields(args)...)))
		assert.Equal(t, want, got, args)
	}
}

// env --measure with the project's Python and torch: about ten seconds.
func TestEnvMeasure(t *testing.T) {
	t.Setenv("MLBENCH_PYTHON", testenv.Python(t, "torch", "numpy"))
	root := testenv.Root(t)
	code, out, errOut := run(t, "--root", root, "env", "--measure", "--threads", "1")
	require.Equal(t, 0, code, errOut)
	var e struct {
		Host bench.HostInfo `json:"host"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &e))
	require.NotNil(t, e.Host.Limits)
	assert.Greater(t, e.Host.Limits.Bandwidth.Value, 0.0)
	assert.Greater(t, e.Host.Limits.GEMM.Value, 0.0)
	assert.Contains(t, e.Host.Limits.GEMM.Kernel, "1 threads")
	assert.Len(t, e.Host.BLAS, 2)
	assert.NotEmpty(t, e.Host.ISA)

	code, _, errOut = run(t, "--root", root, "env", "--threads", "2")
	oneLineError(t, code, errOut, "--threads is for --measure")
}
