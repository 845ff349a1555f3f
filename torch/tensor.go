package torch

import (
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"unsafe"
)

// handle is a pointer to an object libtorch owns (a heap torch::Tensor or
// torch::optim::Optimizer). It is never a Go pointer.
type handle = unsafe.Pointer

// maxDims bounds the rank Shape can report in one call.
const maxDims = 16

// ErrNotBuilt is the error of every call in a build without the libtorch tag.
var ErrNotBuilt = errors.New("built without libtorch: build with -tags libtorch and CGO_CPPFLAGS/CGO_LDFLAGS pointing at libtorch 2.11 (go doc github.com/mlbench/mlbench/torch; in the mlbench repository, ./build.sh)")

// ErrClosed is wrapped by the error of an op given a Tensor (or Optimizer)
// after its Close.
var ErrClosed = errors.New("tensor used after Close")

// ErrNil is wrapped by the error of an op given a nil *Tensor.
var ErrNil = errors.New("nil tensor")

// Error is an error from libtorch (Msg: the C++ exception's message, without
// its C++ backtrace) or from this package's checks (Err).
type Error struct {
	Op  string // the shim function, e.g. "matmul"
	Msg string // libtorch's message, when libtorch raised
	Err error  // ErrClosed, ErrNil, ErrNotBuilt or another cause
}

// Error is "torch: <op>: <message>".
func (e *Error) Error() string {
	if e.Err != nil {
		return "torch: " + e.Op + ": " + e.Err.Error()
	}
	return "torch: " + e.Op + ": " + e.Msg
}

// Unwrap returns the cause (ErrClosed, ErrNil, ErrNotBuilt...) or nil.
func (e *Error) Unwrap() error { return e.Err }

// Available reports whether libtorch is linked in: nil in a libtorch build,
// ErrNotBuilt otherwise.
func Available() error {
	if !built {
		return ErrNotBuilt
	}
	return nil
}

// Version is the libtorch version the package was compiled against
// ("2.11.0"), or "" without libtorch.
func Version() string { return nVersion() }

// ---- dtypes ----

// DType is an element type. The values are c10::ScalarType's.
type DType int32

// The element types. Constructors from Go slices exist for Float32, Float64,
// Int64 and Uint8; FromBytes takes any of them.
const (
	Uint8    DType = 0
	Int8     DType = 1
	Int16    DType = 2
	Int32    DType = 3
	Int64    DType = 4
	Float16  DType = 5
	Float32  DType = 6
	Float64  DType = 7
	Bool     DType = 11
	BFloat16 DType = 15
)

var dtypeInfo = map[DType]struct {
	name string
	size int
	st   string // safetensors name
}{
	Uint8: {"uint8", 1, "U8"}, Int8: {"int8", 1, "I8"}, Int16: {"int16", 2, "I16"},
	Int32: {"int32", 4, "I32"}, Int64: {"int64", 8, "I64"}, Float16: {"float16", 2, "F16"},
	Float32: {"float32", 4, "F32"}, Float64: {"float64", 8, "F64"}, Bool: {"bool", 1, "BOOL"},
	BFloat16: {"bfloat16", 2, "BF16"},
}

// Size is the size of one element in bytes (0 for an unknown dtype).
func (d DType) Size() int { return dtypeInfo[d].size }

// String is the dtype's PyTorch name ("float32"), or "dtype(N)".
func (d DType) String() string {
	if i, ok := dtypeInfo[d]; ok {
		return i.name
	}
	return "dtype(" + strconv.Itoa(int(d)) + ")"
}

// ---- devices ----

// Device is where a tensor lives. The zero value is the CPU.
type Device int32

const (
	CPU  Device = 0 // the CPU
	CUDA Device = 1 // cuda:0; CUDADevice(i) for others
)

// CUDADevice is cuda:i.
func CUDADevice(i int) Device { return Device(i + 1) }

// ParseDevice accepts "cpu", "cuda" and "cuda:N".
func ParseDevice(s string) (Device, error) {
	switch {
	case s == "cpu":
		return CPU, nil
	case s == "cuda":
		return CUDA, nil
	case strings.HasPrefix(s, "cuda:"):
		i, err := strconv.Atoi(s[5:])
		if err == nil && i >= 0 {
			return CUDADevice(i), nil
		}
	}
	return CPU, fmt.Errorf("torch: device %q: want cpu, cuda or cuda:N", s)
}

// IsCUDA reports whether d is a CUDA device.
func (d Device) IsCUDA() bool { return d > 0 }

// String is "cpu" or "cuda:N", as PyTorch writes devices.
func (d Device) String() string {
	switch {
	case d == CPU:
		return "cpu"
	case d > 0:
		return "cuda:" + strconv.Itoa(int(d)-1)
	}
	return "unknown-device"
}

// keepDevice asks the shim's at_to to leave the device as it is.
const keepDevice = -100

// code is the shim's device encoding: -1 the CPU, n cuda:n.
func (d Device) code() int { return int(d) - 1 }

// CUDAAvailable reports whether libtorch sees at least one CUDA device.
func CUDAAvailable() bool { return nCUDADeviceCount() > 0 }

// CUDADeviceCount is the number of CUDA devices libtorch sees.
func CUDADeviceCount() int { return nCUDADeviceCount() }

// CUDALoadError says why CUDA is off although the libtorch in use has its
// CUDA library (libtorch_cuda.so), which package torch loads when the
// program starts: nil when it loaded or when the libtorch is CPU-only (then
// CUDAAvailable is simply false), the loader's message otherwise (e.g. a
// missing CUDA runtime library). In a build without the libtorch tag it
// wraps ErrNotBuilt.
func CUDALoadError() error { return nCUDALoadError() }

// Synchronize waits for all queued work on d (a CUDA device) to finish; for
// the CPU it returns at once. Call it before reading a clock.
func Synchronize(d Device) error { return nSynchronize(d.code()) }

// ManualSeed seeds libtorch's default generators (CPU and every CUDA device),
// as torch.manual_seed does. Rand and Randn draw from them.
func ManualSeed(seed uint64) error { return nManualSeed(seed) }

// SetNumThreads sets libtorch's intra-op thread count (at::set_num_threads).
// With libtorch's OpenMP backend the count belongs to the calling OS thread:
// call it from the goroutine that runs the work, locked with
// runtime.LockOSThread (other OS threads start from OMP_NUM_THREADS, or the
// core count). Record it with the results: it changes timings.
func SetNumThreads(n int) error { return nSetNumThreads(n) }

// SetCuDNN sets libtorch's process-wide cuDNN flags, as
// torch.backends.cudnn.benchmark and .deterministic do in Python, and returns
// the previous values. Benchmark mode times several convolution algorithms
// and keeps the fastest (faster, not reproducible); deterministic mode allows
// only deterministic algorithms. libtorch's defaults are both off. The flags
// only matter on CUDA; setting them on a CPU-only build is harmless.
func SetCuDNN(benchmark, deterministic bool) (prevBenchmark, prevDeterministic bool, err error) {
	return nSetCuDNN(benchmark, deterministic)
}

// CUDAMath are libtorch's process-wide CUDA math settings, as Python's
// torch.backends.cudnn.benchmark, .deterministic,
// torch.backends.cuda.matmul.allow_tf32 and torch.backends.cudnn.allow_tf32.
// libtorch's defaults: benchmark and deterministic off, TF32 off for
// matmuls and on for cuDNN convolutions.
type CUDAMath struct {
	CuDNNBenchmark     bool `json:"cudnn_benchmark"`
	CuDNNDeterministic bool `json:"cudnn_deterministic"`
	TF32Matmul         bool `json:"cuda_matmul_allow_tf32"`
	TF32CuDNN          bool `json:"cudnn_allow_tf32"`
}

// ReadCUDAMath returns the CUDA math settings in effect.
func ReadCUDAMath() (CUDAMath, error) { return nCUDAMath() }

// Params are the settings as result parameters, named as in CUDAMath's JSON.
func (m CUDAMath) Params() map[string]any {
	return map[string]any{"cudnn_benchmark": m.CuDNNBenchmark, "cudnn_deterministic": m.CuDNNDeterministic,
		"cuda_matmul_allow_tf32": m.TF32Matmul, "cudnn_allow_tf32": m.TF32CuDNN}
}

// AddCUDAMath reads the CUDA math settings in effect into params (a
// result's parameters), under the names of Params.
func AddCUDAMath(params map[string]any) error {
	m, err := ReadCUDAMath()
	if err != nil {
		return err
	}
	maps.Copy(params, m.Params())
	return nil
}

// NumThreads is libtorch's intra-op thread count on the calling OS thread.
func NumThreads() int { return nNumThreads() }

// ---- tensors ----

// Tensor is a handle to a libtorch tensor (a heap torch::Tensor).
//
// Ownership: every *Tensor an op or constructor returns is new and owned by
// the caller, who must Close it exactly once it is no longer needed (Close is
// idempotent, so twice is harmless); a Scope can do this for the temporaries
// of a step. Closing a handle frees the handle: the data is freed when no
// other handle, autograd graph or optimizer still refers to it (libtorch
// reference counts). Views (Reshape, Narrow, Transpose, ...) share data with
// their input but are separate handles, closed separately.
//
// The garbage collector never frees a Tensor: a Tensor that becomes
// unreachable without Close is a leak. LiveTensors always counts open
// handles (a step loop that leaks shows as growth); with SetLeakCheck(true)
// each dropped Tensor is also counted by Leaked and, once, reported on
// stderr. Use after Close returns an error wrapping ErrClosed.
//
// A Tensor may be used from any goroutine, but not concurrently with its own
// Close.
type Tensor struct {
	h       handle
	cleanup runtime.Cleanup
}

var _ io.Closer = (*Tensor)(nil)

var (
	liveTensors   atomic.Int64
	leakedTensors atomic.Int64
	leakReported  atomic.Bool
	leakCheck     atomic.Bool
)

func init() { leakCheck.Store(os.Getenv("MLBENCH_TORCH_LEAKCHECK") == "1") }

// SetLeakCheck turns the leak reporter on or off for Tensors created from
// now on and returns the previous setting. It starts on when the environment
// has MLBENCH_TORCH_LEAKCHECK=1. Off by default because it costs a GC cleanup
// record per Tensor (about a quarter of a small op's time: see
// BenchmarkAddSmall); LiveTensors counts open handles either way.
func SetLeakCheck(on bool) bool { return leakCheck.Swap(on) }

// LiveTensors is the number of Tensor handles created and not yet closed.
func LiveTensors() int64 { return liveTensors.Load() }

// Leaked is the number of Tensors, created while SetLeakCheck was on, that
// the garbage collector found unreachable before their Close (their libtorch
// memory is still held: a leak).
func Leaked() int64 { return leakedTensors.Load() }

func reportLeak(struct{}) {
	leakedTensors.Add(1)
	if leakReported.CompareAndSwap(false, true) {
		fmt.Fprintln(os.Stderr, "torch: a Tensor was garbage collected without Close (its memory leaks); see torch.Leaked")
	}
}

func newTensor(h handle) *Tensor {
	t := &Tensor{h: h}
	liveTensors.Add(1)
	if leakCheck.Load() {
		t.cleanup = runtime.AddCleanup(t, reportLeak, struct{}{})
	}
	return t
}

func wrap(h handle, err error) (*Tensor, error) {
	if err != nil {
		return nil, err
	}
	return newTensor(h), nil
}

// Close frees the handle. It is idempotent and always returns nil.
func (t *Tensor) Close() error {
	if t == nil || t.h == nil {
		return nil
	}
	h := t.h
	t.h = nil
	t.cleanup.Stop() // a no-op for the zero Cleanup (leak check off)
	nFree(h)
	liveTensors.Add(-1)
	return nil
}

// ptr is t's handle, or an error for a nil or closed Tensor.
func (t *Tensor) ptr(op string) (handle, error) {
	if t == nil {
		return nil, &Error{Op: op, Err: ErrNil}
	}
	if t.h == nil {
		return nil, &Error{Op: op, Err: ErrClosed}
	}
	return t.h, nil
}

// optPtr is like ptr but maps a nil Tensor to a NULL handle (optional inputs).
func (t *Tensor) optPtr(op string) (handle, error) {
	if t == nil {
		return nil, nil
	}
	return t.ptr(op)
}

// Info describes a tensor.
type Info struct {
	Shape        []int64
	DType        DType
	Device       Device
	RequiresGrad bool
}

// Numel is the number of elements.
func (i Info) Numel() int64 {
	n := int64(1)
	for _, d := range i.Shape {
		n *= d
	}
	return n
}

// Info returns t's shape, dtype, device and requires_grad in one call.
func (t *Tensor) Info() (Info, error) {
	h, err := t.ptr("info")
	if err != nil {
		return Info{}, err
	}
	var dims [maxDims]int64
	n, dt, dev, rg, err := nInfo(h, &dims)
	if err != nil {
		return Info{}, err
	}
	if n > maxDims {
		return Info{}, &Error{Op: "info", Msg: fmt.Sprintf("rank %d exceeds %d", n, maxDims)}
	}
	shape := make([]int64, n) // empty, not nil, for a 0-dim tensor
	copy(shape, dims[:n])
	return Info{Shape: shape, DType: dt, Device: Device(dev + 1), RequiresGrad: rg}, nil
}

// Shape is t's shape; nil for a closed tensor (use Info for the error).
func (t *Tensor) Shape() []int64 {
	i, err := t.Info()
	if err != nil {
		return nil
	}
	return i.Shape
}

// DType is t's element type; -1 for a closed tensor (use Info for the error).
func (t *Tensor) DType() DType {
	i, err := t.Info()
	if err != nil {
		return -1
	}
	return i.DType
}

// Device is where t lives; CPU for a closed tensor (use Info for the error).
func (t *Tensor) Device() Device {
	i, _ := t.Info()
	return i.Device
}

// Numel is t's element count; 0 for a closed tensor.
func (t *Tensor) Numel() int64 {
	i, err := t.Info()
	if err != nil {
		return 0
	}
	return i.Numel()
}

// String describes t as "Tensor([shape] dtype device)", for logs and errors.
func (t *Tensor) String() string {
	i, err := t.Info()
	if err != nil {
		return "Tensor(" + err.Error() + ")"
	}
	return fmt.Sprintf("Tensor(%v %v %v)", i.Shape, i.DType, i.Device)
}

// ---- constructors ----

func shapeOr1D(shape []int64, n int) []int64 {
	if len(shape) == 0 {
		return []int64{int64(n)}
	}
	return shape
}

func fromData(data unsafe.Pointer, nbytes int, shape []int64, dt DType) (*Tensor, error) {
	return wrap(nFromData(data, nbytes, shape, dt))
}

// FromFloat32s copies data into a new float32 tensor of the given shape (no
// shape: 1-D). The tensor does not refer to data after the call.
func FromFloat32s(data []float32, shape ...int64) (*Tensor, error) {
	return fromData(unsafe.Pointer(unsafe.SliceData(data)), 4*len(data), shapeOr1D(shape, len(data)), Float32)
}

// FromFloat64s copies data into a new float64 tensor (see FromFloat32s).
func FromFloat64s(data []float64, shape ...int64) (*Tensor, error) {
	return fromData(unsafe.Pointer(unsafe.SliceData(data)), 8*len(data), shapeOr1D(shape, len(data)), Float64)
}

// FromInt64s copies data into a new int64 tensor (see FromFloat32s).
func FromInt64s(data []int64, shape ...int64) (*Tensor, error) {
	return fromData(unsafe.Pointer(unsafe.SliceData(data)), 8*len(data), shapeOr1D(shape, len(data)), Int64)
}

// FromUint8s copies data into a new uint8 tensor (see FromFloat32s).
func FromUint8s(data []uint8, shape ...int64) (*Tensor, error) {
	return fromData(unsafe.Pointer(unsafe.SliceData(data)), len(data), shapeOr1D(shape, len(data)), Uint8)
}

// FromBytes copies raw little-endian element bytes into a new tensor of any
// dtype; len(data) must be the shape's element count times dt.Size(). An
// empty shape means a 0-dimensional (scalar) tensor.
func FromBytes(data []byte, dt DType, shape []int64) (*Tensor, error) {
	return fromData(unsafe.Pointer(unsafe.SliceData(data)), len(data), shape, dt)
}

// Scalar is a 0-dimensional tensor holding v.
func Scalar(v float64, dt DType, dev Device) (*Tensor, error) {
	return wrap(nFull(nil, v, dt, dev.code()))
}

// Full is a tensor of the given shape filled with v.
func Full(shape []int64, v float64, dt DType, dev Device) (*Tensor, error) {
	return wrap(nFull(shape, v, dt, dev.code()))
}

// Zeros is a tensor of zeros.
func Zeros(shape []int64, dt DType, dev Device) (*Tensor, error) {
	return wrap(nFull(shape, 0, dt, dev.code()))
}

// Ones is a tensor of ones.
func Ones(shape []int64, dt DType, dev Device) (*Tensor, error) {
	return wrap(nFull(shape, 1, dt, dev.code()))
}

// Rand draws uniformly from [0, 1) with the default generator (ManualSeed).
func Rand(shape []int64, dt DType, dev Device) (*Tensor, error) {
	return wrap(nRand(shape, false, dt, dev.code()))
}

// Randn draws from N(0, 1) with the default generator (ManualSeed).
func Randn(shape []int64, dt DType, dev Device) (*Tensor, error) {
	return wrap(nRand(shape, true, dt, dev.code()))
}

// ---- data out ----

func copyOut[T any](t *Tensor, want DType) ([]T, error) {
	i, err := t.Info()
	if err != nil {
		return nil, err
	}
	if i.DType != want {
		return nil, &Error{Op: "copy_data", Msg: fmt.Sprintf("tensor is %v, not %v (convert with ToDType)", i.DType, want)}
	}
	out := make([]T, i.Numel())
	if err := nCopyData(t.h, unsafe.Pointer(unsafe.SliceData(out)), int(i.Numel())*want.Size()); err != nil {
		return nil, err
	}
	return out, nil
}

// Float32s copies a float32 tensor's elements (row-major, from any device)
// into a new slice. Other dtypes are an error: convert with ToDType first.
func (t *Tensor) Float32s() ([]float32, error) { return copyOut[float32](t, Float32) }

// Float64s copies a float64 tensor's elements (see Float32s).
func (t *Tensor) Float64s() ([]float64, error) { return copyOut[float64](t, Float64) }

// Int64s copies an int64 tensor's elements (see Float32s).
func (t *Tensor) Int64s() ([]int64, error) { return copyOut[int64](t, Int64) }

// Uint8s copies a uint8 tensor's elements (see Float32s).
func (t *Tensor) Uint8s() ([]uint8, error) { return copyOut[uint8](t, Uint8) }

// Bytes copies the raw little-endian bytes of t's elements (any dtype).
func (t *Tensor) Bytes() ([]byte, error) {
	i, err := t.Info()
	if err != nil {
		return nil, err
	}
	out := make([]byte, int(i.Numel())*i.DType.Size())
	if err := nCopyData(t.h, unsafe.Pointer(unsafe.SliceData(out)), len(out)); err != nil {
		return nil, err
	}
	return out, nil
}

// Item is the value of a one-element tensor, as float64.
func (t *Tensor) Item() (float64, error) {
	h, err := t.ptr("item")
	if err != nil {
		return 0, err
	}
	return nItem(h)
}

// ---- conversions (each returns a new handle the caller owns) ----

// To returns t on device d. When t already lives there the result is a new
// handle to the same tensor (no copy), as in PyTorch.
func (t *Tensor) To(d Device) (*Tensor, error) {
	h, err := t.ptr("to")
	if err != nil {
		return nil, err
	}
	return wrap(nTo(h, d.code(), -1))
}

// ToDType returns t converted to dt (a new handle to t when already dt).
func (t *Tensor) ToDType(dt DType) (*Tensor, error) {
	h, err := t.ptr("to")
	if err != nil {
		return nil, err
	}
	return wrap(nTo(h, keepDevice, dt))
}

// Clone is a copy of t's data (differentiable, like torch.clone).
func (t *Tensor) Clone() (*Tensor, error) { return unaryOp("clone", t, nClone) }

// Detach is a new handle to t's data, cut from the autograd graph.
func (t *Tensor) Detach() (*Tensor, error) { return unaryOp("detach", t, nDetach) }

// ShallowClone is a new handle to the very same tensor (same data, same
// autograd identity); closing either handle leaves the other valid.
func (t *Tensor) ShallowClone() (*Tensor, error) { return unaryOp("shallow_clone", t, nShallowClone) }

// CopyFrom copies src's values into t in place (broadcasting, converting
// dtype and device), outside autograd: how weights are loaded into
// parameters.
func (t *Tensor) CopyFrom(src *Tensor) error {
	hd, err := t.ptr("copy_")
	if err != nil {
		return err
	}
	hs, err := src.ptr("copy_")
	if err != nil {
		return err
	}
	return nCopyInto(hd, hs)
}

// ---- autograd ----

// SetRequiresGrad marks a leaf tensor as a parameter (or not).
func (t *Tensor) SetRequiresGrad(b bool) error {
	h, err := t.ptr("set_requires_grad")
	if err != nil {
		return err
	}
	return nSetRequiresGrad(h, b)
}

// Backward computes the gradients of a scalar t with respect to the leaves
// that require grad, accumulating them into their Grad.
func (t *Tensor) Backward() error {
	h, err := t.ptr("backward")
	if err != nil {
		return err
	}
	return nBackward(h)
}

// Grad is a new handle to t's accumulated gradient (the caller closes it),
// or nil, nil when t has none (before a Backward, or after ZeroGrad).
func (t *Tensor) Grad() (*Tensor, error) {
	h, err := t.ptr("grad")
	if err != nil {
		return nil, err
	}
	g, err := nGrad(h)
	if err != nil || g == nil {
		return nil, err
	}
	return newTensor(g), nil
}

// ZeroGrad drops t's gradient (PyTorch's default set_to_none=True): Grad
// returns nil until the next Backward writes a fresh one.
func (t *Tensor) ZeroGrad() error {
	h, err := t.ptr("zero_grad")
	if err != nil {
		return err
	}
	return nZeroGrad(h)
}

// NoGrad runs f with autograd recording off, as torch.no_grad() does.
//
// Grad mode is libtorch thread-local state, and Go moves goroutines between
// OS threads, so NoGrad locks the calling goroutine to its thread while f
// runs. Only ops on this goroutine are covered: goroutines f starts record
// gradients as usual.
func NoGrad(f func()) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	prev, err := nSetGradEnabled(false)
	if err == nil {
		defer nSetGradEnabled(prev) //nolint:errcheck // restoring a flag cannot fail
	}
	f()
}
