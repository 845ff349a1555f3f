package bench

// What each implementation needs to run with --device cuda. The runtime
// check (is there a driver, a CUDA libtorch, onnxruntime-gpu) is made by
// the caller (internal/gpu.Probe); this table only says which.
const (
	CUDANeedsLibtorch = "libtorch" // the torch wheel's libtorch_cuda (Go, Python and Rust on libtorch)
	CUDANeedsORT      = "onnxruntime-gpu"
	// CUDANeedsNothing: a null implementation uses no device, so a cuda
	// run has its fixed cost too (only the driver is checked).
	CUDANeedsNothing = "nothing"
)

// cudaNeeds maps an implementation id to what it needs on CUDA; an
// implementation that is not here cannot run on CUDA, for the reason in
// noCUDA.
var cudaNeeds = map[string]string{
	"python-pytorch":      CUDANeedsLibtorch,
	"python-transformers": CUDANeedsLibtorch,
	"go-libtorch":         CUDANeedsLibtorch,
	"rust-tch":            CUDANeedsLibtorch,
	"python-ort":          CUDANeedsORT,
	"go-ort":              CUDANeedsORT,
	"rust-ort":            CUDANeedsORT,
}

var noCUDA = map[string]string{
	"rust-candle": "CPU only: built without candle's cuda feature",
	"rust-burn":   "CPU only: burn's ndarray backend",
}

// CUDANeeds says what impl needs to run with --device cuda
// (CUDANeedsLibtorch or CUDANeedsORT), or why it cannot (ok false).
func CUDANeeds(impl string) (need string, ok bool) {
	if IsNull(impl) {
		return CUDANeedsNothing, true
	}
	if n, ok := cudaNeeds[impl]; ok {
		return n, true
	}
	if why, ok := noCUDA[impl]; ok {
		return why, false
	}
	return "CPU only: a CPU library", false
}
