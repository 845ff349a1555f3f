//go:build cgo

package ort

/*
#cgo LDFLAGS: -ldl
#include <dlfcn.h>
#include <stdlib.h>

static const char *mlbench_dlopen(const char *path) {
	if (dlopen(path, RTLD_NOW | RTLD_LOCAL) == NULL) {
		const char *e = dlerror();
		return e ? e : "dlopen failed";
	}
	return NULL;
}
*/
import "C"

import (
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"unsafe"
)

// cudaLibs are the CUDA 13 and cuDNN 9 libraries that ONNX Runtime's CUDA
// execution provider (libonnxruntime_providers_cuda.so, which has no
// RUNPATH) needs, in load order, each relative to the wheel's site-packages:
// the list onnxruntime.preload_dlls() loads on Linux (onnxruntime-gpu
// 1.30.0, reference/python/llm_ort.py calls it; Rust's llm-ort has the same
// list).
var cudaLibs = [][2]string{
	{"nvidia/cu13/lib", "libcublasLt.so.13"}, // before libcublas, which needs it
	{"nvidia/cu13/lib", "libcublas.so.13"},
	{"nvidia/cu13/lib", "libnvrtc.so.13"},
	{"nvidia/cu13/lib", "libcurand.so.10"},
	{"nvidia/cu13/lib", "libcufft.so.12"},
	{"nvidia/cu13/lib", "libcudart.so.13"},
	{"nvidia/cudnn/lib", "libcudnn.so.9"},
}

var (
	preloadOnce sync.Once
	preloadErr  error
)

// preloadCUDA loads, once, the CUDA libraries of the nvidia-* wheels next to
// the ONNX Runtime library at ortLib (…/site-packages/onnxruntime/capi/),
// so that the CUDA provider finds them by soname without LD_LIBRARY_PATH
// (glibc reads that only at process start). A library the wheels do not
// have is left to the system's loader path (the CUDA image has them in
// /usr/local/cuda); one that is there but fails to load is an error.
func preloadCUDA(ortLib string) error {
	preloadOnce.Do(func() {
		preloadErr = preloadFrom(filepath.Dir(filepath.Dir(filepath.Dir(ortLib))))
	})
	return preloadErr
}

// preloadFrom loads the cudaLibs found under site, in order.
func preloadFrom(site string) error {
	for _, l := range cudaLibs {
		p := filepath.Join(site, filepath.FromSlash(l[0]), l[1])
		if _, err := os.Stat(p); err != nil {
			continue
		}
		cp := C.CString(p)
		e := C.mlbench_dlopen(cp)
		C.free(unsafe.Pointer(cp))
		if e != nil {
			return fmt.Errorf("ort: loading %s for the CUDA provider: %s", p, C.GoString(e))
		}
	}
	return nil
}
