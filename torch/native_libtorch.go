//go:build libtorch

package torch

// The native layer: one Go function per shim.h entry point, one cgo crossing
// each. Handles travel as unsafe.Pointer (type handle) so that the portable
// files (ops.go, tensor.go, ...) compile without cgo; native_stub.go has the
// same functions for builds without the libtorch tag.

/*
#cgo CXXFLAGS: -O2 -std=c++17 -D_GLIBCXX_USE_CXX11_ABI=1 -Wno-deprecated-declarations
#cgo LDFLAGS: -ltorch_cpu -lc10 -ldl
#cgo noescape at_manual_seed
#cgo nocallback at_manual_seed
#cgo noescape at_set_grad_enabled
#cgo nocallback at_set_grad_enabled
#cgo noescape at_from_data
#cgo nocallback at_from_data
#cgo noescape at_copy_data
#cgo nocallback at_copy_data
#cgo noescape at_info
#cgo nocallback at_info
#cgo noescape at_item
#cgo nocallback at_item
#cgo noescape at_full
#cgo nocallback at_full
#cgo noescape at_rand
#cgo nocallback at_rand
#cgo noescape at_to
#cgo nocallback at_to
#cgo noescape at_clone
#cgo nocallback at_clone
#cgo noescape at_detach
#cgo nocallback at_detach
#cgo noescape at_shallow_clone
#cgo nocallback at_shallow_clone
#cgo noescape at_conv2d
#cgo nocallback at_conv2d
#cgo noescape at_max_pool2d
#cgo nocallback at_max_pool2d
#cgo noescape at_cat
#cgo nocallback at_cat
#cgo noescape at_sdpa
#cgo nocallback at_sdpa
#cgo noescape at_grad
#cgo nocallback at_grad
#cgo noescape ato_adam
#cgo nocallback ato_adam
#include <stdlib.h>
#include "shim.h"
*/
import "C"

import "unsafe"

const built = true

// cudaLoadErr is why libtorch_cuda.so, present, could not be loaded.
var cudaLoadErr error

// init loads libtorch's CUDA half when the libtorch in use has one, before
// any other call can ask ATen for CUDA (see at_load_cuda). The binary links
// only the libraries every libtorch has (libtorch_cpu, libc10), so one build
// runs with a CPU-only libtorch and with a CUDA one.
func init() {
	var loaded C.int
	cudaLoadErr = cErr("load_cuda", C.at_load_cuda(&loaded))
}

func nCUDALoadError() error { return cudaLoadErr }

// cErr turns a shim error (NULL or a malloc'd message) into a Go error and
// frees the message: the one place where C error strings are released.
func cErr(op string, e *C.char) error {
	if e == nil {
		return nil
	}
	msg := C.GoString(e)
	C.free(unsafe.Pointer(e))
	return &Error{Op: op, Msg: msg}
}

func ct(h handle) C.tensor { return C.tensor(h) }

func out1(op string, out C.tensor, e *C.char) (handle, error) {
	if e != nil {
		return nil, cErr(op, e)
	}
	return handle(out), nil
}

// i64s returns a C view of s for the duration of one call (nil when empty).
func i64s(s []int64) *C.int64_t {
	if len(s) == 0 {
		return nil
	}
	return (*C.int64_t)(unsafe.Pointer(&s[0]))
}

func cbool(b bool) C.int {
	if b {
		return 1
	}
	return 0
}

// ---- library ----

func nVersion() string      { return C.GoString(C.at_version()) }
func nCUDADeviceCount() int { return int(C.at_cuda_device_count()) }
func nNumThreads() int      { return int(C.at_get_num_threads()) }

func nManualSeed(seed uint64) error {
	return cErr("manual_seed", C.at_manual_seed(C.uint64_t(seed)))
}

func nSetCuDNN(benchmark, deterministic bool) (bool, bool, error) {
	var pb, pd C.int
	err := cErr("set_cudnn", C.at_set_cudnn(cbool(benchmark), cbool(deterministic), &pb, &pd))
	return pb != 0, pd != 0, err
}

func nCUDAMath() (CUDAMath, error) {
	var b, d, tm, tc C.int
	err := cErr("cuda_math", C.at_cuda_math(&b, &d, &tm, &tc))
	return CUDAMath{CuDNNBenchmark: b != 0, CuDNNDeterministic: d != 0, TF32Matmul: tm != 0, TF32CuDNN: tc != 0}, err
}

func nSetNumThreads(n int) error {
	return cErr("set_num_threads", C.at_set_num_threads(C.int(n)))
}

func nSynchronize(dev int) error { return cErr("synchronize", C.at_synchronize(C.int(dev))) }

func nSetGradEnabled(on bool) (bool, error) {
	var prev C.int
	e := C.at_set_grad_enabled(cbool(on), &prev)
	return prev != 0, cErr("set_grad_enabled", e)
}

// ---- tensors ----

func nFree(h handle) { C.at_free(ct(h)) }

func nFromData(data unsafe.Pointer, nbytes int, shape []int64, dt DType) (handle, error) {
	var out C.tensor
	e := C.at_from_data(data, C.size_t(nbytes), i64s(shape), C.int(len(shape)), C.int(dt), &out)
	return out1("from_data", out, e)
}

func nCopyData(h handle, dst unsafe.Pointer, nbytes int) error {
	return cErr("copy_data", C.at_copy_data(ct(h), dst, C.size_t(nbytes)))
}

func nInfo(h handle, dims *[maxDims]int64) (ndim int, dt DType, dev int, reqGrad bool, err error) {
	var n, d, v, r C.int
	e := C.at_info(ct(h), (*C.int64_t)(unsafe.Pointer(&dims[0])), maxDims, &n, &d, &v, &r)
	return int(n), DType(d), int(v), r != 0, cErr("info", e)
}

func nItem(h handle) (float64, error) {
	var v C.double
	e := C.at_item(ct(h), &v)
	return float64(v), cErr("item", e)
}

func nFull(shape []int64, value float64, dt DType, dev int) (handle, error) {
	var out C.tensor
	e := C.at_full(i64s(shape), C.int(len(shape)), C.double(value), C.int(dt), C.int(dev), &out)
	return out1("full", out, e)
}

func nRand(shape []int64, normal bool, dt DType, dev int) (handle, error) {
	var out C.tensor
	e := C.at_rand(i64s(shape), C.int(len(shape)), cbool(normal), C.int(dt), C.int(dev), &out)
	return out1("rand", out, e)
}

func nTo(h handle, dev int, dt DType) (handle, error) {
	var out C.tensor
	e := C.at_to(ct(h), C.int(dev), C.int(dt), &out)
	return out1("to", out, e)
}

func nCopyInto(dst, src handle) error { return cErr("copy_", C.at_copy_(ct(dst), ct(src))) }

func nClone(h handle) (handle, error) {
	var out C.tensor
	e := C.at_clone(ct(h), &out)
	return out1("clone", out, e)
}

func nDetach(h handle) (handle, error) {
	var out C.tensor
	e := C.at_detach(ct(h), &out)
	return out1("detach", out, e)
}

func nShallowClone(h handle) (handle, error) {
	var out C.tensor
	e := C.at_shallow_clone(ct(h), &out)
	return out1("shallow_clone", out, e)
}

// ---- ops ----

func nConv2d(x, w, b handle, stride, padding, dilation [2]int64, groups int64) (handle, error) {
	var out C.tensor
	e := C.at_conv2d(ct(x), ct(w), ct(b), i64s(stride[:]), i64s(padding[:]), i64s(dilation[:]),
		C.int64_t(groups), &out)
	return out1("conv2d", out, e)
}

func nMaxPool2d(x handle, kernel, stride, padding [2]int64) (handle, error) {
	var out C.tensor
	e := C.at_max_pool2d(ct(x), i64s(kernel[:]), i64s(stride[:]), i64s(padding[:]), &out)
	return out1("max_pool2d", out, e)
}

func nCat(hs []handle, dim int64) (handle, error) {
	var out C.tensor
	var p *C.tensor
	if len(hs) > 0 {
		p = (*C.tensor)(unsafe.Pointer(&hs[0]))
	}
	e := C.at_cat(p, C.int(len(hs)), C.int64_t(dim), &out)
	return out1("cat", out, e)
}

func nSDPA(q, k, v, mask handle, causal bool, scale float64) (handle, error) {
	var out C.tensor
	e := C.at_sdpa(ct(q), ct(k), ct(v), ct(mask), cbool(causal), C.double(scale), &out)
	return out1("scaled_dot_product_attention", out, e)
}

// ---- autograd ----

func nSetRequiresGrad(h handle, b bool) error {
	return cErr("set_requires_grad", C.at_set_requires_grad(ct(h), cbool(b)))
}

func nBackward(h handle) error { return cErr("backward", C.at_backward(ct(h))) }

func nGrad(h handle) (handle, error) {
	var out C.tensor
	e := C.at_grad(ct(h), &out)
	return out1("grad", out, e)
}

func nZeroGrad(h handle) error { return cErr("zero_grad", C.at_zero_grad(ct(h))) }

// ---- optimizers ----

func nAdam(params []handle, lr, beta1, beta2, eps, wd float64) (handle, error) {
	var out C.optimizer
	var p *C.tensor
	if len(params) > 0 {
		p = (*C.tensor)(unsafe.Pointer(&params[0]))
	}
	e := C.ato_adam(p, C.int(len(params)), C.double(lr), C.double(beta1), C.double(beta2),
		C.double(eps), C.double(wd), &out)
	if e != nil {
		return nil, cErr("adam", e)
	}
	return handle(out), nil
}

func nOptStep(h handle) error     { return cErr("step", C.ato_step(C.optimizer(h))) }
func nOptZeroGrad(h handle) error { return cErr("zero_grad", C.ato_zero_grad(C.optimizer(h))) }
func nOptSetLR(h handle, lr float64) error {
	return cErr("set_lr", C.ato_set_lr(C.optimizer(h), C.double(lr)))
}
func nOptFree(h handle) { C.ato_free(C.optimizer(h)) }
