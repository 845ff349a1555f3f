//go:build libtorch

package golibtorch

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mlbench/mlbench/bench"
	"github.com/mlbench/mlbench/bench/worker"
	"github.com/mlbench/mlbench/data"
	"github.com/mlbench/mlbench/internal/testenv"
	"github.com/mlbench/mlbench/models"
	"github.com/mlbench/mlbench/torch"
)

func writeNPY(t *testing.T, path, dtype string, shape []int, v []float64) string {
	t.Helper()
	require.NoError(t, data.WriteNPYFile(path, dtype, shape, v))
	return path
}

// cnnToySet writes a learnable toy CIFAR-like set, like
// reference/python/tests/test_cnn.py's but fainter, so that the loss stays
// well above 0 for a few epochs: one channel of each image is a little
// brighter (+30 on 0..239), and that channel is its label. 640 train images
// (10 steps of 64), 64 test images, `epochs` stored permutations; init drawn
// as PyTorch's default (uniform ±1/sqrt(fan_in)).
func cnnToySet(t *testing.T, dir string, epochs int) map[string]string {
	t.Helper()
	rnd := rand.New(rand.NewPCG(7, 7))
	images := func(n int) ([]float64, []float64) {
		x := make([]float64, n*cnnImageBytes)
		y := make([]float64, n)
		for i := range y {
			y[i] = float64(rnd.IntN(3))
			for j := 0; j < cnnImageBytes; j++ {
				v := rnd.IntN(240)
				if j/1024 == int(y[i]) {
					v += 30
				}
				x[i*cnnImageBytes+j] = float64(v)
			}
		}
		return x, y
	}
	const nTrain, nTest = 640, 64
	trX, trY := images(nTrain)
	teX, teY := images(nTest)
	order := make([]float64, 0, epochs*nTrain)
	for range epochs {
		for _, v := range rnd.Perm(nTrain) {
			order = append(order, float64(v))
		}
	}
	in := map[string]string{
		"train_x": writeNPY(t, filepath.Join(dir, "train_x.npy"), "|u1", []int{nTrain, 3, 32, 32}, trX),
		"train_y": writeNPY(t, filepath.Join(dir, "train_y.npy"), "<i8", []int{nTrain}, trY),
		"test_x":  writeNPY(t, filepath.Join(dir, "test_x.npy"), "|u1", []int{nTest, 3, 32, 32}, teX),
		"test_y":  writeNPY(t, filepath.Join(dir, "test_y.npy"), "<i8", []int{nTest}, teY),
		"order":   writeNPY(t, filepath.Join(dir, "order.npy"), "<i8", []int{epochs, nTrain}, order),
		"init":    filepath.Join(dir, "init.safetensors"),
	}
	require.NoError(t, torch.ManualSeed(42))
	init := map[string]*torch.Tensor{}
	defer torch.CloseAll(init)
	fanIn := map[string]float64{"conv1": 27, "conv2": 288, "fc1": 4096, "fc2": 512}
	for _, p := range models.CNNParams {
		u, err := torch.Rand(p.Shape, torch.Float32, torch.CPU)
		require.NoError(t, err)
		b := 1 / math.Sqrt(fanIn[p.Name[:len(p.Name)-len(filepath.Ext(p.Name))]])
		s, err := torch.Scale(u, 2*b) // uniform in [-b, b)
		u.Close()
		require.NoError(t, err)
		init[p.Name], err = torch.AddScalar(s, -b)
		s.Close()
		require.NoError(t, err)
	}
	require.NoError(t, torch.SaveSafetensors(in["init"], init))
	return in
}

func cnnSpec(dir, impl string, inputs map[string]string, epochs int) bench.Spec {
	return bench.Spec{
		SchemaVersion: bench.SchemaVersion, Task: "dl/cnn", Impl: impl, Size: bench.SizeQuick,
		Inputs: inputs, Params: map[string]any{"epochs": epochs, "batch_size": 64, "lr": 1e-3,
			"mean": []any{0.5, 0.5, 0.5}, "std": []any{0.25, 0.25, 0.25}, "seed": 0},
		Warmup: 0, Reps: 1, Threads: 1, Device: "cpu",
		Datasets:   []bench.DatasetRef{{Name: "synthetic", Source: "test"}},
		ResultPath: filepath.Join(dir, impl+".result.json"), WorkDir: dir,
	}
}

func writeSpec(t *testing.T, spec bench.Spec) string {
	t.Helper()
	b, err := json.Marshal(spec)
	require.NoError(t, err)
	p := filepath.Join(spec.WorkDir, spec.Impl+".spec.json")
	require.NoError(t, os.WriteFile(p, b, 0o644))
	return p
}

func readResult(t *testing.T, path string) *bench.Result {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	r, err := bench.DecodeResult(b)
	require.NoError(t, err)
	return r
}

// runGoCNN runs the spec through worker.Main, as `mlbench worker` does.
func runGoCNN(t *testing.T, spec bench.Spec) *bench.Result {
	t.Helper()
	n := torch.NumThreads()
	defer torch.SetNumThreads(n) //nolint:errcheck
	require.NoError(t, worker.Main(writeSpec(t, spec)))
	return readResult(t, spec.ResultPath)
}

// runPythonCNN runs reference/python/cnn.py on the spec, or skips.
func runPythonCNN(t *testing.T, spec bench.Spec) *bench.Result {
	t.Helper()
	py := testenv.Python(t)
	spec.Impl = "python-pytorch"
	spec.ResultPath = filepath.Join(spec.WorkDir, "python-pytorch.result.json")
	out, err := exec.Command(py, filepath.Join(testenv.Root(t), "reference", "python", "cnn.py"),
		"--spec", writeSpec(t, spec)).CombinedOutput()
	require.NoError(t, err, "%s", out)
	return readResult(t, spec.ResultPath)
}

func TestCNNRegistered(t *testing.T) {
	assert.NoError(t, worker.Lookup("dl/cnn", "go-libtorch"))
}

func TestCNNWorker(t *testing.T) {
	dir := t.TempDir()
	const epochs = 3
	r := runGoCNN(t, cnnSpec(dir, "go-libtorch", cnnToySet(t, dir, epochs), epochs))
	assert.Empty(t, r.Errors)
	assert.Equal(t, "libtorch", r.Framework)
	assert.Equal(t, torch.Version(), r.FrameworkVersion)
	assert.Equal(t, map[string]int{"load": 1, "train_epoch": epochs, "eval": epochs},
		map[string]int{"load": len(r.Phases["load"]), "train_epoch": len(r.Phases["train_epoch"]), "eval": len(r.Phases["eval"])})
	require.Len(t, r.Probes["loss_steps"], 10)
	for _, v := range r.Probes["loss_steps"] {
		assert.True(t, v > 0 && !math.IsInf(v, 0) && !math.IsNaN(v))
	}
	assert.Len(t, r.Metrics, 3)
	for k, v := range r.Metrics {
		assert.False(t, math.IsInf(v, 0) || math.IsNaN(v), k)
	}
	loss := r.Series["epoch_loss"]
	require.Len(t, loss, epochs)
	require.Len(t, r.Series["epoch_test_accuracy"], epochs)
	assert.Greater(t, loss[0], loss[1])
	assert.Greater(t, loss[1], loss[2])
	assert.Less(t, r.Probes["loss_steps"][9], r.Probes["loss_steps"][0])
	assert.Greater(t, r.Metrics["test_accuracy"], 0.9, "the toy set is easy")
	assert.Equal(t, loss[epochs-1], r.Metrics["final_loss"])
	assert.InDelta(t, 640*epochs/cnnSum(r.Phases["train_epoch"]), r.Metrics["images_per_s"], 1e-6)
	assert.EqualValues(t, 640, r.Params["samples_per_epoch"])
	assert.Zero(t, torch.LiveTensors(), "every tensor closed")
}

// The Go and Python runs of one spec: same kernels, same weights, same
// batches, so the losses agree far inside the protocol's rel 1e-3.
func TestCNNParityWithPyTorch(t *testing.T) {
	dir := t.TempDir()
	const epochs = 2
	spec := cnnSpec(dir, "go-libtorch", cnnToySet(t, dir, epochs), epochs)
	py := runPythonCNN(t, spec)
	g := runGoCNN(t, spec)
	assertCNNParity(t, py, g)
	assert.Equal(t, py.Metrics["test_accuracy"], g.Metrics["test_accuracy"])
}

// The same on the prepared CIFAR-10 (when present): the real init and the
// first 640 samples of order_quick, for one epoch.
func TestCNNParityOnCIFAR(t *testing.T) {
	src := filepath.Join(testenv.Root(t), "data", "processed", "cifar10")
	if _, err := os.Stat(filepath.Join(src, "init.safetensors")); err != nil {
		testenv.Skip(t, "no prepared cifar10 (mlbench data prepare)")
	}
	if testing.Short() {
		t.Skip("loads all of CIFAR-10")
	}
	dir := t.TempDir()
	in := map[string]string{"order": filepath.Join(dir, "order.npy")}
	for _, k := range []string{"train_x", "train_y", "test_x", "test_y"} {
		in[k] = filepath.Join(src, k+".npy")
	}
	in["init"] = filepath.Join(src, "init.safetensors")
	order, err := data.ReadNPY(filepath.Join(src, "order_quick.npy"))
	require.NoError(t, err)
	writeNPY(t, in["order"], "<i8", []int{1, 640}, order.Data[:640])
	spec := cnnSpec(dir, "go-libtorch", in, 1)
	spec.Params["mean"] = []any{0.4914, 0.4822, 0.4465}
	spec.Params["std"] = []any{0.2470, 0.2435, 0.2616}
	py := runPythonCNN(t, spec)
	g := runGoCNN(t, spec)
	assertCNNParity(t, py, g)
	assert.InDelta(t, py.Metrics["test_accuracy"], g.Metrics["test_accuracy"], 0.005)
}

func assertCNNParity(t *testing.T, py, g *bench.Result) {
	t.Helper()
	require.Len(t, g.Probes["loss_steps"], 10)
	require.Len(t, py.Probes["loss_steps"], 10)
	rel := func(a, b float64) float64 { return math.Abs(a-b) / math.Abs(b) }
	for _, k := range []int{0, 9} {
		assert.Less(t, rel(g.Probes["loss_steps"][k], py.Probes["loss_steps"][k]), 1e-3, "loss_steps[%d]", k)
	}
	// Step 1 is before any update: the same forward pass, the same value.
	assert.InDelta(t, py.Probes["loss_steps"][0], g.Probes["loss_steps"][0], 1e-6)
	require.Len(t, g.Series["epoch_loss"], len(py.Series["epoch_loss"]))
	for i, v := range py.Series["epoch_loss"] {
		assert.Less(t, rel(g.Series["epoch_loss"][i], v), 1e-3, "epoch_loss[%d]", i)
	}
	t.Logf("loss_steps go %v\n           py %v\nepoch_loss go %v py %v", g.Probes["loss_steps"], py.Probes["loss_steps"],
		g.Series["epoch_loss"], py.Series["epoch_loss"])
}

func cnnSum(v []float64) float64 {
	s := 0.0
	for _, x := range v {
		s += x
	}
	return s
}

// A batch order that is not a row of the training set (here -1, which
// numpy and torch would wrap to the last image) fails the job with one line
// naming the file, before any training.
func TestCNNRefusesOrderOutOfRange(t *testing.T) {
	dir := t.TempDir()
	in := cnnToySet(t, dir, 1)
	for _, bad := range []float64{-1, 640} {
		order := make([]float64, 640)
		for i := range order {
			order[i] = float64(i)
		}
		order[5] = bad
		writeNPY(t, in["order"], "<i8", []int{1, 640}, order)
		spec := cnnSpec(dir, "go-libtorch", in, 1)
		err := worker.Main(writeSpec(t, spec))
		require.Error(t, err)
		assert.Contains(t, err.Error(), fmt.Sprintf("order.npy: index %d out of range [0, 640)", int(bad)))
		assert.Zero(t, torch.LiveTensors(), "every tensor closed")
	}
}

// The sweeps' steps parameter: each epoch trains on its order's first steps
// batches, in Go as in cnn.py (the same losses), and a steps beyond the order
// is refused.
func TestCNNStepsAsPyTorch(t *testing.T) {
	dir := t.TempDir()
	spec := cnnSpec(dir, "go-libtorch", cnnToySet(t, dir, 1), 1)
	spec.Params["batch_size"], spec.Params["steps"] = 16, 3
	py := runPythonCNN(t, spec)
	g := runGoCNN(t, spec)
	require.Len(t, g.Probes["loss_steps"], 3)
	assert.EqualValues(t, 48, g.Params["samples_per_epoch"])
	assert.EqualValues(t, 3, g.Params["steps"])
	assert.InDelta(t, 48/cnnSum(g.Phases["train_epoch"]), g.Metrics["images_per_s"], 1e-6)
	rel := func(a, b float64) float64 { return math.Abs(a-b) / math.Abs(b) }
	for k := range 3 {
		assert.Less(t, rel(g.Probes["loss_steps"][k], py.Probes["loss_steps"][k]), 1e-3, "loss_steps[%d]", k)
	}
	spec.Params["steps"] = 41 // 41 * 16 > 640
	require.ErrorContains(t, worker.Main(writeSpec(t, spec)), "steps 41 of batch 16: want 1 to 640 samples per epoch")
}
