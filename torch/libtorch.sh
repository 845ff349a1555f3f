#!/usr/bin/env bash
# libtorch.sh: find and check a libtorch 2.11 for package torch's cgo build,
# which takes its flags from the environment (see torch/doc.go, "Building").
#
#   bash torch/libtorch.sh env SOURCE         print the export lines of
#                                              LIBTORCH, CGO_CPPFLAGS, CGO_LDFLAGS
#   bash torch/libtorch.sh link SOURCE ROOT   make ROOT/.libtorch point at it;
#                                              print that folder
#   bash torch/libtorch.sh PYTHON ROOT        the same as link (older form)
#
# SOURCE is a Python whose torch wheel to use (e.g. .venv/bin/python), or a
# libtorch folder holding include/ and lib/ (an unzipped libtorch, or a
# wheel's torch/ folder). So:
#
#   eval "$(bash torch/libtorch.sh env .venv/bin/python)"
#   go build -tags libtorch ./...
#
# Fails unless it is libtorch 2.11 (the version pinned in DESIGN.md "Native
# pieces", so that Go, Rust and Python run the very same kernels) built with
# the C++11 ABI (package torch compiles with _GLIBCXX_USE_CXX11_ABI=1). The
# CUDA libraries are optional: package torch loads libtorch_cuda.so at start
# when it is next to libtorch_cpu.so. On another machine, point
# LD_LIBRARY_PATH at that machine's torch/lib.
set -euo pipefail

want_major=2 want_minor=11
die() { echo "libtorch.sh: $*" >&2; exit 1; }

mode=link
case "${1:-}" in
  env|link) mode=$1; shift ;;
esac
src=${1:?usage: libtorch.sh env|link PYTHON_OR_LIBTORCH_DIR [ROOT]}

# dir_of SOURCE: the libtorch folder of a Python's torch wheel, or SOURCE
# itself when it is a folder.
if [ -d "$src" ]; then
  dir=$(cd "$src" && pwd)
else
  case "$src" in
    */*) [ -x "$src" ] || die "$src: not found"
         src=$(cd "$(dirname "$src")" && pwd)/$(basename "$src") ;;
    *) src=$(command -v "$src") || die "$1: not found" ;;
  esac
  # Run from / so that this repository's own torch/ folder cannot shadow the wheel.
  dir=$(cd / && "$src" -c 'import os, torch; print(os.path.dirname(torch.__file__))') ||
    die "$src cannot import torch"
fi

for f in include/torch/csrc/api/include/torch/torch.h include/torch/csrc/api/include/torch/version.h lib/libtorch_cpu.so lib/libc10.so; do
  [ -e "$dir/$f" ] || die "$dir/$f missing: not a libtorch folder (want include/ and lib/ of libtorch 2.11)"
done
vh="$dir/include/torch/headeronly/version.h"
[ -e "$vh" ] || vh="$dir/include/torch/csrc/api/include/torch/version.h"
major=$(sed -n 's/^#define TORCH_VERSION_MAJOR \([0-9]*\).*/\1/p' "$vh")
minor=$(sed -n 's/^#define TORCH_VERSION_MINOR \([0-9]*\).*/\1/p' "$vh")
[ "$major.$minor" = "$want_major.$want_minor" ] ||
  die "libtorch at $dir is ${major:-?}.${minor:-?} ($vh), want $want_major.$want_minor"
# The C++11 ABI shows in the mangled names libc10 exports.
cxx11=$(nm -D --defined-only "$dir/lib/libc10.so" 2>/dev/null | grep -c '__cxx11' || true)
if [ "${cxx11:-0}" -eq 0 ]; then
  die "libtorch at $dir uses the pre-C++11 ABI; package torch is built with _GLIBCXX_USE_CXX11_ABI=1"
fi

case "$mode" in
  env)
    printf 'export LIBTORCH=%q\n' "$dir"
    printf 'export CGO_CPPFLAGS=%q\n' "-I$dir/include -I$dir/include/torch/csrc/api/include${CGO_CPPFLAGS:+ $CGO_CPPFLAGS}"
    printf 'export CGO_LDFLAGS=%q\n' "-L$dir/lib -Wl,-rpath,$dir/lib${CGO_LDFLAGS:+ $CGO_LDFLAGS}"
    ;;
  link)
    root=${2:?usage: libtorch.sh link PYTHON_OR_LIBTORCH_DIR ROOT}
    ln -sfn "$dir" "$root/.libtorch"
    echo "$dir"
    ;;
esac
