//go:build libtorch

package torch

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/mlbench/mlbench/internal/testenv"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Expected values marked "PyTorch" were printed by torch 2.11.0 (CPU) with
// the Python snippet quoted next to them.

// must(t)(op(...)) fails t on error and closes the result when t ends.
func must(t testing.TB) func(*Tensor, error) *Tensor {
	return func(x *Tensor, err error) *Tensor {
		t.Helper()
		require.NoError(t, err)
		t.Cleanup(func() { x.Close() })
		return x
	}
}

func f64s(t testing.TB, x *Tensor) []float64 {
	t.Helper()
	v, err := x.Float64s()
	require.NoError(t, err)
	return v
}

func TestLibrary(t *testing.T) {
	require.NoError(t, Available())
	assert.Equal(t, "2.11.0", Version()) // the pinned wheel
	// The OpenMP thread count belongs to the calling OS thread: stay on one.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	require.NoError(t, SetNumThreads(1))
	assert.Equal(t, 1, NumThreads())
	require.NoError(t, Synchronize(CPU))
	t.Logf("CUDA available: %v (%d devices)", CUDAAvailable(), CUDADeviceCount())
	d, err := ParseDevice("cuda:1")
	require.NoError(t, err)
	assert.Equal(t, "cuda:1", d.String())
	assert.Equal(t, "cpu", Device(0).String()) // zero value is the CPU
}

func TestDataInOut(t *testing.T) {
	x := must(t)(FromFloat32s([]float32{1, 2, 3, 4, 5, 6}, 2, 3))
	i, err := x.Info()
	require.NoError(t, err)
	assert.Equal(t, Info{Shape: []int64{2, 3}, DType: Float32, Device: CPU}, i)
	v, err := x.Float32s()
	require.NoError(t, err)
	assert.Equal(t, []float32{1, 2, 3, 4, 5, 6}, v)
	_, err = x.Float64s()
	require.ErrorContains(t, err, "tensor is float32, not float64")

	d := must(t)(x.ToDType(Float64))
	assert.Equal(t, []float64{1, 2, 3, 4, 5, 6}, f64s(t, d))

	n := must(t)(FromInt64s([]int64{7, -8}))
	assert.Equal(t, []int64{2}, n.Shape()) // no shape: 1-D
	iv, err := n.Int64s()
	require.NoError(t, err)
	assert.Equal(t, []int64{7, -8}, iv)

	u := must(t)(FromUint8s([]uint8{0, 255}, 2, 1))
	uv, err := u.Uint8s()
	require.NoError(t, err)
	assert.Equal(t, []uint8{0, 255}, uv)

	s := must(t)(Scalar(2.5, Float64, CPU))
	assert.Equal(t, []int64{}, s.Shape())
	it, err := s.Item()
	require.NoError(t, err)
	assert.Equal(t, 2.5, it)

	e := must(t)(FromFloat32s(nil, 0, 3))
	assert.Equal(t, int64(0), e.Numel())

	_, err = FromFloat32s([]float32{1, 2, 3}, 2, 2)
	require.ErrorContains(t, err, "needs 16 bytes, got 12")

	z := must(t)(Zeros([]int64{2}, Float64, CPU))
	o := must(t)(Ones([]int64{2}, Float64, CPU))
	f := must(t)(Full([]int64{2}, -3, Float64, CPU))
	assert.Equal(t, []float64{0, 0}, f64s(t, z))
	assert.Equal(t, []float64{1, 1}, f64s(t, o))
	assert.Equal(t, []float64{-3, -3}, f64s(t, f))

	c := must(t)(x.To(CPU))
	assert.Equal(t, CPU, c.Device())
}

// TestSetCuDNN: the flags round-trip and the previous values come back (they
// are global state even on a CPU-only machine).
func TestSetCuDNN(t *testing.T) {
	b0, d0, err := SetCuDNN(false, true)
	require.NoError(t, err)
	t.Cleanup(func() { _, _, _ = SetCuDNN(b0, d0) })
	b, d, err := SetCuDNN(true, false)
	require.NoError(t, err)
	assert.False(t, b)
	assert.True(t, d)
	b, d, err = SetCuDNN(false, true)
	require.NoError(t, err)
	assert.True(t, b)
	assert.False(t, d)
}

// TestReadCUDAMath: libtorch's defaults (checked against PyTorch 2.11.0's
// torch.backends.cudnn.benchmark/.deterministic False,
// torch.backends.cuda.matmul.allow_tf32 False, torch.backends.cudnn.allow_tf32
// True), and the cuDNN flags SetCuDNN sets read back.
func TestReadCUDAMath(t *testing.T) {
	if os.Getenv("TORCH_ALLOW_TF32_CUBLAS_OVERRIDE") != "" {
		t.Fatal("TORCH_ALLOW_TF32_CUBLAS_OVERRIDE is set: libtorch's defaults are not in effect")
	}
	b0, d0, err := SetCuDNN(false, false)
	require.NoError(t, err)
	t.Cleanup(func() { _, _, _ = SetCuDNN(b0, d0) })
	m, err := ReadCUDAMath()
	require.NoError(t, err)
	assert.Equal(t, CUDAMath{TF32CuDNN: true}, m)
	_, _, err = SetCuDNN(true, true)
	require.NoError(t, err)
	m, err = ReadCUDAMath()
	require.NoError(t, err)
	assert.Equal(t, CUDAMath{CuDNNBenchmark: true, CuDNNDeterministic: true, TF32CuDNN: true}, m)
	assert.Equal(t, map[string]any{"cudnn_benchmark": true, "cudnn_deterministic": true,
		"cuda_matmul_allow_tf32": false, "cudnn_allow_tf32": true}, m.Params())
	params := map[string]any{"seed": 42}
	require.NoError(t, AddCUDAMath(params))
	assert.Equal(t, map[string]any{"seed": 42, "cudnn_benchmark": true, "cudnn_deterministic": true,
		"cuda_matmul_allow_tf32": false, "cudnn_allow_tf32": true}, params)
}

func TestManualSeed(t *testing.T) {
	require.NoError(t, ManualSeed(0))
	r := must(t)(Rand([]int64{4}, Float32, CPU))
	v, err := r.Float32s()
	require.NoError(t, err)
	// PyTorch: torch.manual_seed(0); torch.rand(4)
	assert.Equal(t, []float32{0.49625658988952637, 0.7682217955589294, 0.08847743272781372, 0.13203048706054688}, v)

	require.NoError(t, ManualSeed(0))
	rn := must(t)(Randn([]int64{4}, Float64, CPU))
	// PyTorch: torch.manual_seed(0); torch.randn(4, dtype=torch.float64)
	assert.InDeltaSlice(t, []float64{1.5409961082440433, -0.2934289057609464, -2.1787893820745574, 0.5684312772806678}, f64s(t, rn), 1e-15)
}

func TestElementwiseAndReductions(t *testing.T) {
	a := must(t)(FromFloat64s([]float64{1, 2, 3, 4}, 2, 2))
	b := must(t)(FromFloat64s([]float64{10, 20}, 2)) // broadcast over rows
	// by hand
	assert.Equal(t, []float64{11, 22, 13, 24}, f64s(t, must(t)(Add(a, b))))
	assert.Equal(t, []float64{-9, -18, -7, -16}, f64s(t, must(t)(Sub(a, b))))
	assert.Equal(t, []float64{10, 40, 30, 80}, f64s(t, must(t)(Mul(a, b))))
	assert.Equal(t, []float64{0.1, 0.1, 0.3, 0.2}, f64s(t, must(t)(Div(a, b))))
	assert.Equal(t, []float64{0.5, 1, 1.5, 2}, f64s(t, must(t)(DivScalar(a, 2))))
	assert.Equal(t, []float64{3, 6, 9, 12}, f64s(t, must(t)(Scale(a, 3))))
	assert.Equal(t, []float64{2, 3, 4, 5}, f64s(t, must(t)(AddScalar(a, 1))))
	// [[1,2],[3,4]] @ [[1,2],[3,4]] = [[7,10],[15,22]]
	assert.Equal(t, []float64{7, 10, 15, 22}, f64s(t, must(t)(MatMul(a, a))))
	// x Wᵀ + b with W = a: row [1,2] -> [1*1+2*2, 1*3+2*4] + [10,20]
	assert.Equal(t, []float64{15, 31, 21, 45}, f64s(t, must(t)(Linear(a, a, b))))
	assert.Equal(t, []float64{5, 11, 11, 25}, f64s(t, must(t)(Linear(a, a, nil))))

	it, err := must(t)(Sum(a)).Item()
	require.NoError(t, err)
	assert.Equal(t, 10.0, it)
	it, err = must(t)(Mean(a)).Item()
	require.NoError(t, err)
	assert.Equal(t, 2.5, it)
	assert.Equal(t, []float64{4, 6}, f64s(t, must(t)(SumDims(a, []int64{0}, false))))
	md := must(t)(MeanDims(a, []int64{1}, true))
	assert.Equal(t, []int64{2, 1}, md.Shape())
	assert.Equal(t, []float64{1.5, 3.5}, f64s(t, md))

	m := must(t)(FromFloat64s([]float64{0.1, 0.9, 0.3, 7, -1, 2}, 2, 3))
	am, err := must(t)(ArgMax(m, 1, false)).Int64s()
	require.NoError(t, err)
	assert.Equal(t, []int64{1, 0}, am)

	// accuracy the usual way: sum(argmax == labels)
	labels := must(t)(FromInt64s([]int64{1, 2}))
	eq := must(t)(Eq(must(t)(ArgMax(m, 1, false)), labels))
	assert.Equal(t, Bool, eq.DType())
	n, err := must(t)(Sum(eq)).Item()
	require.NoError(t, err)
	assert.Equal(t, 1.0, n)
}

func TestActivations(t *testing.T) {
	x := must(t)(FromFloat64s([]float64{-1.0, 0.5, 2.0, 3.0, -2.0, 0.25}, 2, 3))
	assert.Equal(t, []float64{0, 0.5, 2, 3, 0, 0.25}, f64s(t, must(t)(ReLU(x))))
	cases := []struct {
		name string
		got  *Tensor
		want []float64
	}{
		// PyTorch: x = torch.tensor([[-1.0, 0.5, 2.0],[3.0, -2.0, 0.25]], dtype=torch.float64)
		{"softmax", must(t)(Softmax(x, 1)), // F.softmax(x, 1)
			[]float64{0.039112573270687456, 0.1752903921400367, 0.7855970345892759, 0.9339982582200754, 0.006293230761125011, 0.0597085110187996}},
		{"log_softmax", must(t)(LogSoftmax(x, -1)), // F.log_softmax(x, 1)
			[]float64{-3.241311296657157, -1.7413112966571571, -0.24131129665715703, -0.06828070561576617, -5.068280705615766, -2.8182807056157664}},
		{"gelu", must(t)(GELU(x)), // F.gelu(x)
			[]float64{-0.15865525393145702, 0.34573123063700656, 1.9544997361036416, 2.99595030590511, -0.04550026389635842, 0.14967658142073093}},
		{"gelu_tanh", must(t)(GELUTanh(x)), // F.gelu(x, approximate='tanh')
			[]float64{-0.15880800939172324, 0.34571400982514394, 1.954597694087775, 2.996362607918227, -0.04540230591222494, 0.149675350701685}},
		{"tanh", must(t)(Tanh(x)), // torch.tanh(x)
			[]float64{-0.7615941559557649, 0.46211715726000974, 0.9640275800758169, 0.9950547536867305, -0.9640275800758169, 0.24491866240370913}},
	}
	w := must(t)(FromFloat64s([]float64{1.5, -0.5, 2.0}))
	b := must(t)(FromFloat64s([]float64{0.1, 0.2, -0.3}))
	cases = append(cases, struct {
		name string
		got  *Tensor
		want []float64
	}{"layer_norm", must(t)(LayerNorm(x, []int64{3}, w, b, 1e-5)), // F.layer_norm(x, [3], w, b, 1e-5), w, b as above
		[]float64{-1.737111183393645, 0.2, 2.1494815778581935, 1.9951962476301504, 0.7909751739921973, -0.46302763420474413}})
	for _, c := range cases {
		assert.InDeltaSlice(t, c.want, f64s(t, c.got), 1e-12, c.name)
	}

	y := must(t)(FromInt64s([]int64{2, 0}))
	ce, err := must(t)(CrossEntropy(x, y)).Item()
	require.NoError(t, err)
	assert.InDelta(t, 0.1547960011364616, ce, 1e-12) // PyTorch: F.cross_entropy(x, torch.tensor([2, 0]))
}

func TestConvPool(t *testing.T) {
	in := make([]float32, 2*4*4)
	for i := range in {
		in[i] = float32(i) / 10
	}
	x := must(t)(FromFloat32s(in, 1, 2, 4, 4))
	w := must(t)(FromFloat32s([]float32{1, 0, -1, 2, 0, -2, 1, 0, -1, 0, 1, 0, 1, -4, 1, 0, 1, 0}, 1, 2, 3, 3))
	b := must(t)(FromFloat32s([]float32{0.5}))
	y := must(t)(Conv2d(x, w, b, 1, 1))
	assert.Equal(t, []int64{1, 1, 4, 4}, y.Shape())
	got, err := y.Float32s()
	require.NoError(t, err)
	// PyTorch: inp = torch.arange(32.).reshape(1,2,4,4)/10; cw = (Sobel-x, Laplacian) as above;
	// F.conv2d(inp, cw, torch.tensor([0.5]), padding=1)
	want := []float32{-2.8999996185302734, -1.4000003337860107, -1.499999761581421, -2.000000238418579, -3.4000000953674316, -0.299999475479126, -0.3000004291534424, 0.5000002384185791, -5.40000057220459, -0.3000001907348633, -0.2999999523162842, 1.6999993324279785, -8.899999618530273, -3.40000057220459, -3.500000476837158, -2.3999996185302734}
	assert.InDeltaSlice(t, want, got, 1e-5)
	p := must(t)(MaxPool2d(y, 2, 0))
	pv, err := p.Float32s()
	require.NoError(t, err)
	// PyTorch: F.max_pool2d(y, 2)
	assert.InDeltaSlice(t, []float32{-0.299999475479126, 0.5000002384185791, -0.3000001907348633, 1.6999993324279785}, pv, 1e-5)
	f := must(t)(Flatten(p))
	assert.Equal(t, []int64{1, 4}, f.Shape())
}

func TestShapeOps(t *testing.T) {
	a := must(t)(FromFloat64s([]float64{0, 1, 2, 3, 4, 5}, 2, 3))
	tr := must(t)(Transpose(a, 0, 1))
	assert.Equal(t, []int64{3, 2}, tr.Shape())
	assert.Equal(t, []float64{0, 3, 1, 4, 2, 5}, f64s(t, tr)) // copy-out is row-major of the view
	_, err := View(tr, 6)
	require.Error(t, err) // non-contiguous: view is impossible
	assert.Equal(t, []float64{0, 3, 1, 4, 2, 5}, f64s(t, must(t)(View(must(t)(Contiguous(tr)), 6))))
	assert.Equal(t, []int64{3, 1, 2}, must(t)(Reshape(a, 3, 1, -1)).Shape())
	p := must(t)(Permute(must(t)(Reshape(a, 1, 2, 3)), 2, 0, 1))
	assert.Equal(t, []int64{3, 1, 2}, p.Shape())
	assert.Equal(t, []float64{1, 2, 4, 5}, f64s(t, must(t)(Narrow(a, 1, 1, 2))))
	c := must(t)(Cat([]*Tensor{a, a}, 0))
	assert.Equal(t, []int64{4, 3}, c.Shape())
	c1 := must(t)(Cat([]*Tensor{a, must(t)(Narrow(a, 1, 0, 1))}, 1))
	assert.Equal(t, []float64{0, 1, 2, 0, 3, 4, 5, 3}, f64s(t, c1))

	idx := must(t)(FromInt64s([]int64{1, 1, 0}))
	assert.Equal(t, []float64{3, 4, 5, 3, 4, 5, 0, 1, 2}, f64s(t, must(t)(IndexSelect(a, 0, idx))))
	ids := must(t)(FromInt64s([]int64{1, 0, 1, 1}, 2, 2))
	em := must(t)(Embedding(a, ids))
	assert.Equal(t, []int64{2, 2, 3}, em.Shape())
	assert.Equal(t, []float64{3, 4, 5, 0, 1, 2, 3, 4, 5, 3, 4, 5}, f64s(t, em))

	mask := must(t)(FromUint8s([]uint8{0, 1, 1, 0, 0, 1}, 2, 3))
	bm := must(t)(mask.ToDType(Bool))
	assert.Equal(t, []float64{0, -1, -1, 3, 4, -1}, f64s(t, must(t)(MaskedFill(a, bm, -1))))
}

// A shape mismatch must come back as a Go error carrying libtorch's message.
func TestShapeMismatchIsAnError(t *testing.T) {
	a := must(t)(Ones([]int64{2, 3}, Float32, CPU))
	_, err := MatMul(a, a)
	require.Error(t, err)
	var te *Error
	require.True(t, errors.As(err, &te))
	assert.Equal(t, "matmul", te.Op)
	// PyTorch: torch.matmul(torch.ones(2,3), torch.ones(2,3)) raises this message
	assert.Contains(t, err.Error(), "mat1 and mat2 shapes cannot be multiplied (2x3 and 2x3)")
	assert.NotContains(t, err.Error(), "frame #") // no C++ backtrace

	_, err = Add(a, must(t)(Ones([]int64{4}, Float32, CPU)))
	require.ErrorContains(t, err, "must match the size")
	_, err = Narrow(a, 5, 0, 1)
	require.ErrorContains(t, err, "Dimension out of range")
}

func TestCloseAndUseAfterClose(t *testing.T) {
	before := LiveTensors()
	x, err := FromFloat32s([]float32{1})
	require.NoError(t, err)
	assert.Equal(t, before+1, LiveTensors())
	require.NoError(t, x.Close())
	require.NoError(t, x.Close()) // twice is fine
	assert.Equal(t, before, LiveTensors())

	_, err = ReLU(x)
	require.ErrorIs(t, err, ErrClosed)
	assert.EqualError(t, err, "torch: relu: tensor used after Close")
	_, err = x.Float32s()
	require.ErrorIs(t, err, ErrClosed)
	_, err = x.Item()
	require.ErrorIs(t, err, ErrClosed)
	assert.Nil(t, x.Shape())
	_, err = Add(nil, x)
	require.ErrorIs(t, err, ErrNil)
	var nilT *Tensor
	require.NoError(t, nilT.Close())

	o, err := NewAdam(nil, DefaultAdam(0.1))
	require.NoError(t, err)
	require.NoError(t, o.Close())
	require.NoError(t, o.Close())
	require.ErrorIs(t, o.Step(), ErrClosed)
}

func TestScope(t *testing.T) {
	before := LiveTensors()
	x := must(t)(FromFloat32s([]float32{-1, 2}))
	s := NewScope()
	y := s.ReLU(s.Scale(x, 2))
	kept := s.Release(s.AddScalar(y, 1))
	require.NoError(t, s.Err())
	assert.Equal(t, 2, s.Len()) // Scale and ReLU; the AddScalar result was released
	// an error sticks, later ops are skipped
	assert.NotNil(t, s.MatMul(x, x)) // 1-D @ 1-D is a dot product: fine ...
	require.NoError(t, s.Err())
	bad := s.MatMul(s.Reshape(x, 2, 1), s.Reshape(x, 2, 1)) // ... [2,1]@[2,1] is not
	assert.Nil(t, bad)
	require.ErrorContains(t, s.Err(), "cannot be multiplied")
	assert.Nil(t, s.ReLU(x))
	require.NoError(t, s.Close())
	require.NoError(t, s.Close())
	assert.Equal(t, 0, s.Len())
	_, err := y.Float32s()
	require.ErrorIs(t, err, ErrClosed)
	v, err := kept.Float32s()
	require.NoError(t, err)
	assert.Equal(t, []float32{1, 5}, v)
	kept.Close()
	assert.Equal(t, before+1, LiveTensors()) // only x, closed by t.Cleanup
}

// mlp is the loss of a small Linear+ReLU+Linear+CrossEntropy graph in
// float64: the function whose gradients TestGradientsFiniteDifferences checks.
func mlp(t testing.TB, s *Scope, x, y, w1, b1, w2 *Tensor) *Tensor {
	t.Helper()
	h := s.ReLU(s.Linear(x, w1, b1))
	loss := s.CrossEntropy(s.Linear(h, w2, nil), y)
	require.NoError(t, s.Err())
	return loss
}

func TestGradientsFiniteDifferences(t *testing.T) {
	require.NoError(t, ManualSeed(1))
	x := must(t)(Randn([]int64{4, 3}, Float64, CPU))
	y := must(t)(FromInt64s([]int64{0, 2, 1, 2}))
	shapes := [][]int64{{5, 3}, {5}, {3, 5}}
	params := make([]*Tensor, len(shapes))
	for i, sh := range shapes {
		params[i] = must(t)(Randn(sh, Float64, CPU))
		require.NoError(t, params[i].SetRequiresGrad(true))
	}
	s := NewScope()
	defer s.Close()
	loss := mlp(t, s, x, y, params[0], params[1], params[2])
	require.NoError(t, loss.Backward())

	const h = 1e-6
	for i, p := range params {
		g := must(t)(p.Grad())
		require.NotNil(t, g)
		grad := f64s(t, g)
		vals := f64s(t, must(t)(p.Detach()))
		numeric := make([]float64, len(vals))
		for j := range vals {
			eval := func(delta float64) float64 {
				v := append([]float64(nil), vals...)
				v[j] += delta
				q := must(t)(FromFloat64s(v, shapes[i]...))
				ps := append([]*Tensor(nil), params...)
				ps[i] = q
				var out float64
				NoGrad(func() {
					es := NewScope()
					defer es.Close()
					var err error
					out, err = mlp(t, es, x, y, ps[0], ps[1], ps[2]).Item()
					require.NoError(t, err)
				})
				return out
			}
			numeric[j] = (eval(h) - eval(-h)) / (2 * h) // central difference
		}
		assert.InDeltaSlice(t, numeric, grad, 1e-6, "param %d", i)
	}
	require.NoError(t, params[0].ZeroGrad())
	g, err := params[0].Grad()
	require.NoError(t, err)
	assert.Nil(t, g) // set_to_none
}

func TestNoGrad(t *testing.T) {
	w := must(t)(FromFloat64s([]float64{1, 2}))
	require.NoError(t, w.SetRequiresGrad(true))
	var y *Tensor
	NoGrad(func() { y = must(t)(Scale(w, 2)) })
	i, err := y.Info()
	require.NoError(t, err)
	assert.False(t, i.RequiresGrad)
	z := must(t)(Scale(w, 2)) // grad mode is back on after NoGrad
	i, err = z.Info()
	require.NoError(t, err)
	assert.True(t, i.RequiresGrad)
}

// One Adam step vs PyTorch's update, computed by hand:
// m = b1 m + (1-b1) g; v = b2 v + (1-b2) g²;
// p -= lr · (m / (1-b1^t)) / (sqrt(v / (1-b2^t)) + eps).
func TestAdamStep(t *testing.T) {
	p0 := []float64{1, -2, 0.5}
	p := must(t)(FromFloat64s(p0))
	require.NoError(t, p.SetRequiresGrad(true))
	o := DefaultAdam(0.1)
	opt, err := NewAdam([]*Tensor{p}, o)
	require.NoError(t, err)
	defer opt.Close()

	want := append([]float64(nil), p0...)
	m := make([]float64, 3)
	v := make([]float64, 3)
	for step := 1; step <= 2; step++ {
		// loss = sum(p³) → g = 3p² (step 1: [3, 12, 0.75]); two steps so that
		// the moments and both bias corrections matter.
		require.NoError(t, opt.ZeroGrad())
		s := NewScope()
		loss := s.Sum(s.Mul(s.Mul(p, p), p))
		require.NoError(t, s.Err())
		require.NoError(t, loss.Backward())
		s.Close()
		require.NoError(t, opt.Step())
		for i := range want {
			g := 3 * want[i] * want[i]
			m[i] = o.Beta1*m[i] + (1-o.Beta1)*g
			v[i] = o.Beta2*v[i] + (1-o.Beta2)*g*g
			mh := m[i] / (1 - math.Pow(o.Beta1, float64(step)))
			vh := v[i] / (1 - math.Pow(o.Beta2, float64(step)))
			want[i] -= o.LR * mh / (math.Sqrt(vh) + o.Eps)
		}
		assert.InDeltaSlice(t, want, f64s(t, must(t)(p.Detach())), 1e-12, "step %d", step)
	}
	// step 1 moves every coordinate by lr against its gradient's sign
	assert.InDelta(t, 1-0.1-0.1, want[0], 0.02)
	require.NoError(t, opt.SetLR(0))
}

func TestCopyFrom(t *testing.T) {
	p := must(t)(Zeros([]int64{2}, Float32, CPU))
	require.NoError(t, p.SetRequiresGrad(true))
	src := must(t)(FromFloat64s([]float64{1.5, 2.5}))
	require.NoError(t, p.CopyFrom(src)) // no grad, converts dtype
	v, err := p.Float32s()
	require.NoError(t, err)
	assert.Equal(t, []float32{1.5, 2.5}, v)
}

func TestSafetensorsRoundTrip(t *testing.T) {
	m := map[string]*Tensor{
		"w":      must(t)(FromFloat32s([]float32{1, -2, 3.5, 4, 5, 6}, 2, 3)),
		"b.bias": must(t)(FromFloat64s([]float64{math.Pi})),
		"ids":    must(t)(FromInt64s([]int64{1 << 40, -3}, 2, 1)),
		"img":    must(t)(FromUint8s([]uint8{0, 7, 255})),
		"scalar": must(t)(Scalar(-1, Float32, CPU)),
	}
	p := filepath.Join(t.TempDir(), "x.safetensors")
	require.NoError(t, SaveSafetensors(p, m))
	raw, err := os.ReadFile(p)
	require.NoError(t, err)
	assert.Zero(t, binary.LittleEndian.Uint64(raw)%8) // header padded to 8

	got, err := LoadSafetensors(p)
	require.NoError(t, err)
	defer CloseAll(got)
	require.Len(t, got, len(m))
	for k, want := range m {
		wi, err := want.Info()
		require.NoError(t, err)
		gi, err := got[k].Info()
		require.NoError(t, err)
		assert.Equal(t, wi, gi, k)
		wb, err := want.Bytes()
		require.NoError(t, err)
		gb, err := got[k].Bytes()
		require.NoError(t, err)
		assert.Equal(t, wb, gb, k)
	}

	// corrupt: offsets past the end
	bad := append([]byte(nil), raw[:len(raw)-4]...)
	require.NoError(t, os.WriteFile(p, bad, 0o644))
	before := LiveTensors()
	_, err = LoadSafetensors(p)
	require.ErrorContains(t, err, "offsets")
	assert.Equal(t, before, LiveTensors()) // nothing leaked on the error path

	for _, c := range []struct {
		bytes []byte
		want  string
	}{
		{raw[:3], "file too short"},
		{append(binary.LittleEndian.AppendUint64(nil, uint64(len(raw))), raw[8:]...), "does not fit"},
		{append(binary.LittleEndian.AppendUint64(nil, 4), []byte("{no json")...), "header"},
	} {
		require.NoError(t, os.WriteFile(p, c.bytes, 0o644))
		_, err = LoadSafetensors(p)
		assert.ErrorContains(t, err, c.want)
	}
	_, err = LoadSafetensors(filepath.Join(t.TempDir(), "missing.safetensors"))
	assert.Error(t, err)
}

// pythonWithSafetensors is MLBENCH_PYTHON or the repository's .venv python,
// when it can import torch and safetensors.
func pythonWithSafetensors(t *testing.T) string {
	return testenv.Python(t, "torch", "safetensors")
}

func TestSafetensorsWithPython(t *testing.T) {
	py := pythonWithSafetensors(t)
	dir := t.TempDir()
	fromPy := filepath.Join(dir, "py.safetensors")
	script := `
import sys, torch
from safetensors.torch import save_file
save_file({
  "a": torch.arange(6, dtype=torch.float32).reshape(2, 3) / 4,
  "b": torch.tensor([1e-300, -2.0], dtype=torch.float64),
  "c": torch.tensor([[-5], [1 << 50]], dtype=torch.int64),
  "d": torch.tensor([3, 200], dtype=torch.uint8),
}, sys.argv[1], metadata={"format": "pt"})
`
	out, err := exec.Command(py, "-c", script, fromPy).CombinedOutput()
	require.NoError(t, err, string(out))
	m, err := LoadSafetensors(fromPy)
	require.NoError(t, err)
	defer CloseAll(m)
	a, err := m["a"].Float32s()
	require.NoError(t, err)
	assert.Equal(t, []int64{2, 3}, m["a"].Shape())
	assert.Equal(t, []float32{0, 0.25, 0.5, 0.75, 1, 1.25}, a)
	assert.Equal(t, []float64{1e-300, -2}, f64s(t, m["b"]))
	c, err := m["c"].Int64s()
	require.NoError(t, err)
	assert.Equal(t, []int64{-5, 1 << 50}, c)
	d, err := m["d"].Uint8s()
	require.NoError(t, err)
	assert.Equal(t, []uint8{3, 200}, d)

	// and Python reads what Go writes
	fromGo := filepath.Join(dir, "go.safetensors")
	require.NoError(t, SaveSafetensors(fromGo, m))
	check := `
import sys, torch
from safetensors.torch import load_file
m = load_file(sys.argv[1])
print(sorted(m), m["a"].sum().item(), m["c"].tolist(), m["d"].dtype)
`
	out, err = exec.Command(py, "-c", check, fromGo).CombinedOutput()
	require.NoError(t, err, string(out))
	assert.Equal(t, "['a', 'b', 'c', 'd'] 3.75 [[-5], [1125899906842624]] torch.uint8\n", string(out))
}

// rss is the resident set size in bytes, from /proc/self/statm.
func rss(t testing.TB) int64 {
	b, err := os.ReadFile("/proc/self/statm")
	require.NoError(t, err)
	f := bytes.Fields(b)
	pages, err := strconv.ParseInt(string(f[1]), 10, 64)
	require.NoError(t, err)
	return pages * int64(os.Getpagesize())
}

func TestNoLeak(t *testing.T) {
	if testing.Short() {
		t.Skip("short")
	}
	data := []float32{1, -2, 3, -4, 5, -6, 7, -8}
	iter := func() {
		a, err := FromFloat32s(data, 2, 4)
		require.NoError(t, err)
		b, err := Add(a, a)
		require.NoError(t, err)
		c, err := ReLU(b)
		require.NoError(t, err)
		s := NewScope()
		s.Sum(s.Scale(c, 0.5))
		require.NoError(t, s.Err())
		s.Close()
		c.Close()
		b.Close()
		a.Close()
	}
	defer SetLeakCheck(SetLeakCheck(true)) // also: no Tensor reaches the GC unclosed
	live, leaked := LiveTensors(), Leaked()
	for i := 0; i < 10_000; i++ { // warm-up: allocator pools, Go heap
		iter()
	}
	runtime.GC()
	start := rss(t)
	for i := 0; i < 100_000; i++ {
		iter()
	}
	runtime.GC()
	end := rss(t)
	t.Logf("RSS %.1f MiB -> %.1f MiB over 100k iterations (5 tensors each)", float64(start)/(1<<20), float64(end)/(1<<20))
	assert.Less(t, end-start, int64(20<<20))
	assert.Equal(t, live, LiveTensors())
	assert.Equal(t, leaked, Leaked())
}

// A Tensor dropped without Close is reported (never freed) by the GC.
func TestLeakReporter(t *testing.T) {
	defer SetLeakCheck(SetLeakCheck(true))
	before := Leaked()
	func() {
		x, err := FromFloat32s([]float32{1}) // deliberately leaked: 4 bytes
		require.NoError(t, err)
		_ = x
	}()
	require.Eventually(t, func() bool {
		runtime.GC()
		return Leaked() > before
	}, 5*time.Second, 10*time.Millisecond)
}

// CUDA round trip; runs only where libtorch sees a GPU.
func TestCUDA(t *testing.T) {
	if !CUDAAvailable() {
		testenv.SkipNoGPU(t, "no CUDA device")
	}
	x := must(t)(FromFloat32s([]float32{1, 2, 3, 4}, 2, 2))
	g := must(t)(x.To(CUDA))
	assert.Equal(t, CUDA, g.Device())
	y := must(t)(MatMul(g, g))
	require.NoError(t, Synchronize(CUDA))
	v, err := y.Float32s() // copies back to the CPU
	require.NoError(t, err)
	assert.Equal(t, []float32{7, 10, 15, 22}, v)
	r := must(t)(Rand([]int64{3}, Float32, CUDA))
	assert.Equal(t, CUDA, r.Device())
}

// BenchmarkAddSmall measures the cost of one op through the cgo layer: Add of
// two 1-element tensors plus the Close of the result (compare with Python's
// timeit of torch.add(a, b)). With -leakcheck: the same with SetLeakCheck on.
func BenchmarkAddSmall(b *testing.B) {
	b.Run("default", benchAddSmall)
	b.Run("leakcheck", func(b *testing.B) {
		defer SetLeakCheck(SetLeakCheck(true))
		benchAddSmall(b)
	})
}

func benchAddSmall(b *testing.B) {
	x := must(b)(FromFloat32s([]float32{1}))
	y := must(b)(FromFloat32s([]float32{2}))
	b.ReportAllocs()
	for b.Loop() {
		z, err := Add(x, y)
		if err != nil {
			b.Fatal(err)
		}
		z.Close()
	}
}

// BenchmarkCrossing is the bare cgo round trip: one call of a trivial shim
// function (at::get_num_threads), the floor under every op.
func BenchmarkCrossing(b *testing.B) {
	for b.Loop() {
		NumThreads()
	}
}
