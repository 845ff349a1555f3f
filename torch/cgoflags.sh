#!/usr/bin/env bash
# cgoflags.sh PYTHON: print the cgo flags that build package torch against the
# libtorch inside PYTHON's torch wheel, as shell exports for eval:
#
#   eval "$(bash torch/cgoflags.sh .venv/bin/python)"
#   go build -tags libtorch ./...
#
# Prints CGO_CXXFLAGS, CGO_LDFLAGS and LIBTORCH_LIB (the torch/lib folder; a
# binary built here finds libtorch there through its rpath; on another machine
# point LD_LIBRARY_PATH at that machine's torch/lib). Fails unless the wheel is
# torch 2.11.0 (the version pinned in docs/DESIGN "Native pieces"), so Go, Rust
# and Python run the very same kernels.
#
# CGO_CXXFLAGS replaces cgo's default "-g -O2", hence the -O2 here.
#
# Linking: -Wl,--no-as-needed around the torch libraries so that
# libtorch_cuda.so is really loaded (nothing references it by symbol; it
# registers the CUDA backend from its static initialisers). The CUDA libraries
# are linked only when the wheel has them (CPU-only wheels do not).
set -euo pipefail

want=2.11.0
py=${1:?usage: cgoflags.sh PYTHON}
case "$py" in
  */*) [ -x "$py" ] || { echo "cgoflags.sh: $py: not found" >&2; exit 1; }
       py=$(cd "$(dirname "$py")" && pwd)/$(basename "$py") ;;
  *)   py=$(command -v "$py") || { echo "cgoflags.sh: $1: not found" >&2; exit 1; } ;;
esac

# Run from / so that this repository's own torch/ folder cannot shadow the wheel.
out=$(cd / && "$py" - <<'PY'
import os, torch
d = os.path.dirname(torch.__file__)
print(torch.__version__)
print(int(bool(torch._C._GLIBCXX_USE_CXX11_ABI)))
print(d)
PY
) || { echo "cgoflags.sh: $py cannot import torch" >&2; exit 1; }

version=$(sed -n 1p <<<"$out")
abi=$(sed -n 2p <<<"$out")
dir=$(sed -n 3p <<<"$out")
case "$version" in
  "$want"|"$want"+*) ;;
  *) echo "cgoflags.sh: torch $version at $dir, want $want" >&2; exit 1 ;;
esac
lib="$dir/lib"
inc="$dir/include"
for f in "$inc/torch/csrc/api/include/torch/torch.h" "$lib/libtorch.so" "$lib/libtorch_cpu.so" "$lib/libc10.so"; do
  [ -e "$f" ] || { echo "cgoflags.sh: $f missing: is this a full torch wheel?" >&2; exit 1; }
done

libs="-ltorch -ltorch_cpu -lc10"
if [ -e "$lib/libtorch_cuda.so" ] && [ -e "$lib/libc10_cuda.so" ]; then
  libs="$libs -ltorch_cuda -lc10_cuda"
fi

cxx="-O2 -std=c++17 -D_GLIBCXX_USE_CXX11_ABI=$abi -I$inc -I$inc/torch/csrc/api/include -Wno-deprecated-declarations"
ld="-L$lib -Wl,-rpath,$lib -Wl,--no-as-needed $libs -Wl,--as-needed"

q() { printf '%q' "$1"; }
echo "export CGO_CXXFLAGS=$(q "$cxx")"
echo "export CGO_LDFLAGS=$(q "$ld")"
echo "export LIBTORCH_LIB=$(q "$lib")"
