// libtorch_check.h: compile-time checks that cgo was pointed at a libtorch
// 2.11 (see doc.go, "Building"). Included first by shim.h, so that both the
// cgo preamble (C) and shim.cpp (C++) stop here with the fix in the message
// instead of failing deep inside libtorch's headers.
#ifndef MLBENCH_TORCH_LIBTORCH_CHECK_H
#define MLBENCH_TORCH_LIBTORCH_CHECK_H

#if defined(__has_include)
#if !__has_include(<torch/version.h>)
#error package torch (build tag libtorch): libtorch headers not found (no torch/version.h on the include path). Point cgo at a libtorch 2.11 folder (the torch folder of the torch==2.11.0 wheel, or an unzipped libtorch 2.11) with these two lines, then build again:
#error export LIBTORCH="$(python3 -c 'import torch, os; print(os.path.dirname(torch.__file__))')"
#error export CGO_CPPFLAGS="-I$LIBTORCH/include -I$LIBTORCH/include/torch/csrc/api/include" CGO_LDFLAGS="-L$LIBTORCH/lib -Wl,-rpath,$LIBTORCH/lib"
#error (see go doc github.com/mlbench/mlbench/torch; in the mlbench repository ./build.sh sets these)
#define MLBENCH_TORCH_NO_HEADERS 1
#endif
#endif

#ifndef MLBENCH_TORCH_NO_HEADERS
#include <torch/version.h>

// The version is named in the message through _Pragma, which (unlike
// #error) expands macros.
#define MLBENCH_STR2(...) #__VA_ARGS__
#define MLBENCH_STR(...) MLBENCH_STR2(__VA_ARGS__)
#define MLBENCH_ERROR(...) _Pragma(MLBENCH_STR(GCC error MLBENCH_STR(__VA_ARGS__)))

#if !defined(TORCH_VERSION_MAJOR) || !defined(TORCH_VERSION_MINOR)
#error "package torch (build tag libtorch): torch/version.h defines no TORCH_VERSION_MAJOR/MINOR: CGO_CPPFLAGS does not point at a libtorch 2.11"
#elif TORCH_VERSION_MAJOR != 2 || TORCH_VERSION_MINOR != 11
MLBENCH_ERROR(package torch (build tag libtorch) needs libtorch 2.11 but torch/version.h of the libtorch on the include path says TORCH_VERSION_MAJOR.TORCH_VERSION_MINOR.TORCH_VERSION_PATCH: point CGO_CPPFLAGS and CGO_LDFLAGS at a libtorch 2.11 (see go doc github.com/mlbench/mlbench/torch))
#endif
#endif

#endif
