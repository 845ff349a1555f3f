package gogonum

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mlbench/mlbench/bench"
	"github.com/mlbench/mlbench/bench/worker"
	"github.com/mlbench/mlbench/data"
)

func writeNPY(t *testing.T, path, dtype string, shape []int, v []float64) string {
	t.Helper()
	require.NoError(t, data.WriteNPYFile(path, dtype, shape, v))
	return path
}

// runSpec writes a spec for task with inputs and params, runs it through
// worker.Main as `mlbench worker` would, and returns the validated result.
func runSpec(t *testing.T, dir, task string, inputs map[string]string, params map[string]any) *bench.Result {
	t.Helper()
	spec := bench.Spec{
		SchemaVersion: bench.SchemaVersion, Task: task, Impl: "go-gonum", Size: bench.SizeQuick,
		Inputs: inputs, Params: params, Warmup: 1, Reps: 2, Threads: 2, Device: "cpu",
		Datasets:   []bench.DatasetRef{{Name: "synthetic", Source: "test"}},
		ResultPath: filepath.Join(dir, "result.json"), WorkDir: dir,
	}
	b, err := json.Marshal(spec)
	require.NoError(t, err)
	specPath := filepath.Join(dir, "spec.json")
	require.NoError(t, os.WriteFile(specPath, b, 0o644))
	require.NoError(t, worker.Main(specPath))
	out, err := os.ReadFile(spec.ResultPath)
	require.NoError(t, err)
	res, err := bench.DecodeResult(out)
	require.NoError(t, err)
	assert.Empty(t, res.Errors)
	assert.Equal(t, "go", res.Language)
	assert.Equal(t, "gonum", res.Framework)
	// FrameworkVersion comes from the binary's build information, which a
	// test binary does not carry; `mlbench worker` fills it.
	for _, ph := range []string{"load", "fit", "predict"} {
		assert.Len(t, res.Phases[ph], 2, "phase %s: one value per timed repetition", ph)
	}
	assert.NotNil(t, res.Probes)
	assert.NotEmpty(t, res.Notes)
	return res
}

// splitFiles writes X, y and an 80/20 train/test split.
func splitFiles(t *testing.T, dir string, X []float64, n, p int, y []float64, yType string) map[string]string {
	var tr, te []float64
	for i := 0; i < n; i++ {
		if i%5 == 4 {
			te = append(te, float64(i))
		} else {
			tr = append(tr, float64(i))
		}
	}
	return map[string]string{
		"X":         writeNPY(t, filepath.Join(dir, "X.npy"), "<f8", []int{n, p}, X),
		"y":         writeNPY(t, filepath.Join(dir, "y.npy"), yType, []int{n}, y),
		"train_idx": writeNPY(t, filepath.Join(dir, "train_idx.npy"), "<i8", []int{len(tr)}, tr),
		"test_idx":  writeNPY(t, filepath.Join(dir, "test_idx.npy"), "<i8", []int{len(te)}, te),
	}
}

func TestRegistered(t *testing.T) {
	for _, task := range []string{"classical/linreg", "classical/svm", "classical/kmeans"} {
		assert.NoError(t, worker.Lookup(task, "go-gonum"))
	}
}

func TestLinregWorker(t *testing.T) {
	// y = 1 + Σ (j+1)·xⱼ exactly, so the probes are known.
	dir := t.TempDir()
	rnd := rand.New(rand.NewPCG(1, 1))
	n, p := 100, 8
	X := make([]float64, n*p)
	y := make([]float64, n)
	for i := 0; i < n; i++ {
		y[i] = 1
		for j := 0; j < p; j++ {
			X[i*p+j] = rnd.NormFloat64()
			y[i] += float64(j+1) * X[i*p+j]
		}
	}
	in := splitFiles(t, dir, X, n, p, y, "<f8")
	for _, rep := range []int{1, 3} {
		res := runSpec(t, dir, "classical/linreg", in, map[string]any{"replicate": rep})
		require.Len(t, res.Probes["coef"], 9)
		for j := 0; j < p; j++ {
			assert.InDelta(t, float64(j+1), res.Probes["coef"][j], 1e-10)
		}
		assert.InDelta(t, 1, res.Probes["coef"][8], 1e-10)
		require.Len(t, res.Probes["pred_first20"], 20)
		assert.InDelta(t, y[4], res.Probes["pred_first20"][0], 1e-9, "first test row is row 4")
		assert.InDelta(t, 1, res.Metrics["r2"], 1e-12)
		assert.InDelta(t, 0, res.Metrics["rmse"], 1e-9)
	}
	_, err := os.Stat(filepath.Join(dir, "result.json"))
	require.NoError(t, err)
}

func TestSVMWorker(t *testing.T) {
	// Three separated classes in 4-D with integer labels stored as i8.
	dir := t.TempDir()
	rnd := rand.New(rand.NewPCG(2, 2))
	n, p := 150, 4
	X := make([]float64, n*p)
	y := make([]float64, n)
	for i := 0; i < n; i++ {
		y[i] = float64(i % 3)
		for j := 0; j < p; j++ {
			X[i*p+j] = rnd.NormFloat64()*0.5 + 4*y[i]*float64(j%2)
		}
	}
	in := splitFiles(t, dir, X, n, p, y, "<i8")
	res := runSpec(t, dir, "classical/svm", in, map[string]any{"C": 1.0, "tol": 1e-3, "kernel": "linear"})
	assert.Len(t, res.Probes["test_pred"], n/5)
	assert.Equal(t, 1.0, res.Metrics["accuracy"])
	for _, v := range res.Probes["test_pred"] {
		assert.Contains(t, []float64{0, 1, 2}, v)
	}
}

func TestKMeansWorker(t *testing.T) {
	dir := t.TempDir()
	rnd := rand.New(rand.NewPCG(3, 3))
	n, p, k := 2000, 8, 8
	X := make([]float64, n*p)
	y := make([]float64, n)
	for i := 0; i < n; i++ {
		y[i] = float64(rnd.IntN(k))
		for j := 0; j < p; j++ {
			X[i*p+j] = rnd.NormFloat64() + 20*y[i]*float64((j+int(y[i]))%2)
		}
	}
	in := map[string]string{
		"X": writeNPY(t, filepath.Join(dir, "X.npy"), "<f8", []int{n, p}, X),
		"y": writeNPY(t, filepath.Join(dir, "y.npy"), "<i8", []int{n}, y),
	}
	// The shared initial centres: one row of each true cluster.
	init := make([]float64, 0, k*p)
	for c := 0; c < k; c++ {
		for i := range y {
			if int(y[i]) == c {
				init = append(init, X[i*p:(i+1)*p]...)
				break
			}
		}
	}
	in["init"] = writeNPY(t, filepath.Join(dir, "init.npy"), "<f8", []int{k, p}, init)
	params := map[string]any{"k": 8, "seed": 42, "max_iter": 300, "tol": 1e-4, "n_init": 1}
	res := runSpec(t, dir, "classical/kmeans", in, params)
	assert.Equal(t, 1.0, res.Metrics["ari"])
	// From one point of each cluster Lloyd finds the true clusters too.
	assert.InDelta(t, res.Metrics["inertia"], res.Metrics["inertia_shared_init"], 1e-6*res.Metrics["inertia"])
	assert.Greater(t, res.Metrics["inertia"], 0.0)
	assert.False(t, math.IsNaN(res.Metrics["inertia"]))
	assert.Len(t, res.Probes["centers_sorted_norms"], k)
	assert.EqualValues(t, 1, res.Params["n_init"])

	// n_init other than 1 is refused, with the reason in the result.
	params["n_init"] = 3
	b, _ := json.Marshal(bench.Spec{SchemaVersion: 1, Task: "classical/kmeans", Impl: "go-gonum", Inputs: in,
		Params: params, Reps: 1, Threads: 1, Device: "cpu", ResultPath: filepath.Join(dir, "bad.json")})
	require.NoError(t, os.WriteFile(filepath.Join(dir, "bad-spec.json"), b, 0o644))
	err := worker.Main(filepath.Join(dir, "bad-spec.json"))
	require.ErrorContains(t, err, "n_init")
	out, rerr := os.ReadFile(filepath.Join(dir, "bad.json"))
	require.NoError(t, rerr)
	var r bench.Result
	require.NoError(t, json.Unmarshal(out, &r))
	assert.NotEmpty(t, r.Errors)
}
