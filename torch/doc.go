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
// The ops come from one table, ops.def: `go generate ./torch/` writes each
// op's shim declaration and body (shim_ops.h, shim_ops_impl.h), its cgo call
// and stub (native_ops_*.go), the package function (ops_gen.go) and the
// Scope method (scope_gen.go). Adding an op is one line there plus its test;
// a test fails when the generated files are stale.
//
// # Building
//
// The cgo files carry the build tag libtorch. Without it the package still
// compiles: every call fails with ErrNotBuilt and Available says so, so
// importers build and test everywhere. With it, the package needs libtorch
// 2.11 (the C++ library inside the torch==2.11.0 wheel, or the libtorch 2.11
// zip from pytorch.org; CPU-only or CUDA) and a C++17 compiler, and takes the
// libtorch folder from the standard cgo environment variables, as Go users
// set them for any C library (cgo cannot read the folder from elsewhere; the
// package's #cgo directives hold no paths, so it builds from the module
// cache). Set LIBTORCH to the folder holding include/ and lib/:
//
//	export LIBTORCH=$(python3 -c 'import torch, os; print(os.path.dirname(torch.__file__))')
//	export CGO_CPPFLAGS="-I$LIBTORCH/include -I$LIBTORCH/include/torch/csrc/api/include"
//	export CGO_LDFLAGS="-L$LIBTORCH/lib -Wl,-rpath,$LIBTORCH/lib"
//	go build -tags libtorch ./...
//
// (or, from a checkout of this repository, eval "$(bash torch/libtorch.sh
// env python3)", which also checks the version and the C++ ABI; ./build.sh
// does that for the repository's own binaries). The rpath lets the binary
// find libtorch at run time; on another machine set LD_LIBRARY_PATH to that
// machine's torch/lib instead.
//
// The build checks the setup at compile time: without libtorch's headers it
// stops with an #error that prints the lines above, and a libtorch other
// than 2.11 (by its torch/version.h) is a compile error naming both
// versions. The package links only libtorch_cpu and libc10, which every
// libtorch has; when the libtorch in use also has libtorch_cuda.so, the
// package loads it as the program starts, so one binary uses CUDA where the
// libtorch and the machine have it (CUDAAvailable) and runs on the CPU
// elsewhere (CUDALoadError says why a present CUDA library did not load).
//
// Only binaries that import this package link libtorch; the variables above
// are harmless for other cgo packages.
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
// error check (see Scope). Scope.Nested gives each layer of a deep model a
// Scope of its own, so that a layer's temporaries are freed as it ends and
// the next layer reuses their memory.
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

//go:generate go run ./internal/opgen
