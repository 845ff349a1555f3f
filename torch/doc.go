// Package torch is a thin Go layer over libtorch, the C++ library inside the
// pinned torch==2.11.0 wheel, so Go runs the very same kernels as PyTorch.
//
// # Layers
//
// shim.h / shim.cpp are a flat C interface, one function per op, shaped
// after tch-rs torch-sys: opaque handles, every body inside try/catch, inputs
// copied into memory libtorch owns. Errors come back by value (a malloc'd
// message, not a thread-local "last error": consecutive cgo calls may run on
// different OS threads); native_libtorch.go turns them into *Error and frees
// them in one place. Every op is one cgo crossing and no extra copies.
//
// # Building
//
// The cgo files carry the build tag libtorch. Without it the package still
// compiles (native_stub.go): every call fails with ErrNotBuilt and Available
// says so, so importers build and test everywhere. With it, the #cgo
// directives build against <repo>/.libtorch, a link to the torch folder of
// the pinned wheel that libtorch.sh makes (and checks: torch 2.11.0, C++11
// ABI, CUDA libraries present):
//
//	bash torch/libtorch.sh .venv/bin/python .
//	go test -tags libtorch ./torch/
//
// Only binaries that import this package link libtorch. They find it through
// an rpath to .libtorch/lib (elsewhere set LD_LIBRARY_PATH to that machine's
// torch/lib);
// libtorch_cuda.so is linked with --no-as-needed so CUDA is available when
// the wheel and the machine have it.
//
// # Ownership
//
// Every *Tensor an op or constructor returns is new and belongs to the
// caller, who Closes it (Close is idempotent). Inputs are never consumed.
// The garbage collector never frees libtorch memory (GPU memory must not wait
// for a GC): a Tensor dropped without Close is a leak. LiveTensors counts
// open handles; SetLeakCheck (or MLBENCH_TORCH_LEAKCHECK=1) adds a GC cleanup
// per Tensor that counts dropped ones (Leaked) and reports the first on stderr. A Scope closes
// the temporaries of a step at once, and offers every op as a method with a
// sticky first error, so that model code reads straight through with one
// error check (see Scope).
//
// # Errors
//
// Package functions return (*Tensor, error). libtorch's exceptions (shape
// mismatches and the like) come back as *Error whose Msg is libtorch's own
// message; nil, closed and not-built inputs wrap ErrNil, ErrClosed and
// ErrNotBuilt.
//
// # Threads and global state
//
// ManualSeed and the cuDNN flags are process-wide libtorch state.
// SetNumThreads (OpenMP's thread count) and autograd's grad mode are per OS
// thread: NoGrad locks the goroutine to its thread for the duration of its
// function, and SetNumThreads must be called on the locked thread that runs
// the work.
//
// libtorch's CPU kernels parallelise with OpenMP, whose thread team belongs
// to the OS thread that calls in. A goroutine that Go moves between OS
// threads therefore gets one team per thread it lands on, and the idle
// teams spin-wait against the busy one: on 2 cores a CNN training epoch ran
// with 6 busy threads and measurably slower. A goroutine that drives
// libtorch for long should call runtime.LockOSThread first (the mlbench
// worker does, in bench/worker.Main).
package torch
