//go:build !libtorch

package torch

// The native layer of a build without libtorch: every entry point fails with
// ErrNotBuilt, so that importers of package torch still compile and report a
// clear error at run time. Keep in step with native_libtorch.go.

import "unsafe"

const built = false

func notBuilt(op string) error { return &Error{Op: op, Err: ErrNotBuilt} }

func nVersion() string         { return "" }
func nCUDADeviceCount() int    { return 0 }
func nCUDALoadError() error    { return notBuilt("load_cuda") }
func nNumThreads() int         { return 0 }
func nManualSeed(uint64) error { return notBuilt("manual_seed") }
func nSetNumThreads(int) error { return notBuilt("set_num_threads") }
func nSetCuDNN(bool, bool) (bool, bool, error) {
	return false, false, notBuilt("set_cudnn")
}
func nCUDAMath() (CUDAMath, error)       { return CUDAMath{}, notBuilt("cuda_math") }
func nSynchronize(int) error             { return notBuilt("synchronize") }
func nSetGradEnabled(bool) (bool, error) { return true, notBuilt("set_grad_enabled") }
func nFree(handle)                       {}

func nFromData(unsafe.Pointer, int, []int64, DType) (handle, error) {
	return nil, notBuilt("from_data")
}
func nCopyData(handle, unsafe.Pointer, int) error { return notBuilt("copy_data") }
func nInfo(handle, *[maxDims]int64) (int, DType, int, bool, error) {
	return 0, 0, 0, false, notBuilt("info")
}
func nItem(handle) (float64, error)                      { return 0, notBuilt("item") }
func nFull([]int64, float64, DType, int) (handle, error) { return nil, notBuilt("full") }
func nRand([]int64, bool, DType, int) (handle, error)    { return nil, notBuilt("rand") }
func nTo(handle, int, DType) (handle, error)             { return nil, notBuilt("to") }
func nCopyInto(handle, handle) error                     { return notBuilt("copy_") }
func nClone(handle) (handle, error)                      { return nil, notBuilt("clone") }
func nDetach(handle) (handle, error)                     { return nil, notBuilt("detach") }
func nShallowClone(handle) (handle, error)               { return nil, notBuilt("shallow_clone") }

func nConv2d(handle, handle, handle, [2]int64, [2]int64, [2]int64, int64) (handle, error) {
	return nil, notBuilt("conv2d")
}
func nMaxPool2d(handle, [2]int64, [2]int64, [2]int64) (handle, error) {
	return nil, notBuilt("max_pool2d")
}
func nCat([]handle, int64) (handle, error) { return nil, notBuilt("cat") }
func nSDPA(handle, handle, handle, handle, bool, float64) (handle, error) {
	return nil, notBuilt("scaled_dot_product_attention")
}

func nSetRequiresGrad(handle, bool) error { return notBuilt("set_requires_grad") }
func nBackward(handle) error              { return notBuilt("backward") }
func nGrad(handle) (handle, error)        { return nil, notBuilt("grad") }
func nZeroGrad(handle) error              { return notBuilt("zero_grad") }

func nAdam([]handle, float64, float64, float64, float64, float64) (handle, error) {
	return nil, notBuilt("adam")
}
func nOptStep(handle) error           { return notBuilt("step") }
func nOptZeroGrad(handle) error       { return notBuilt("zero_grad") }
func nOptSetLR(handle, float64) error { return notBuilt("set_lr") }
func nOptFree(handle)                 {}
