#!/usr/bin/env bash
# libtorch.sh PYTHON ROOT: make ROOT/.libtorch point at the libtorch inside
# PYTHON's torch wheel, which package torch's #cgo directives build and link
# against (headers in .libtorch/include, libraries and an rpath to
# .libtorch/lib), and print that folder:
#
#   bash torch/libtorch.sh .venv/bin/python .
#   go build -tags libtorch ./...
#
# Fails unless the wheel is torch 2.11.0 (the version pinned in DESIGN.md
# "Native pieces", so that Go, Rust and Python run the very same kernels),
# built with the C++11 ABI (which the directives assume) and with the CUDA
# libraries (linked with --no-as-needed so CUDA is available where the
# machine has it; the PyPI wheel for Linux x86-64 always ships them). On
# another machine, point LD_LIBRARY_PATH at that machine's torch/lib.
set -euo pipefail

want=2.11.0
py=${1:?usage: libtorch.sh PYTHON ROOT}
root=${2:?usage: libtorch.sh PYTHON ROOT}
case "$py" in
  */*) [ -x "$py" ] || { echo "libtorch.sh: $py: not found" >&2; exit 1; }
       py=$(cd "$(dirname "$py")" && pwd)/$(basename "$py") ;;
  *)   py=$(command -v "$py") || { echo "libtorch.sh: $1: not found" >&2; exit 1; } ;;
esac

# Run from / so that this repository's own torch/ folder cannot shadow the wheel.
out=$(cd / && "$py" - <<'PY'
import os, torch
d = os.path.dirname(torch.__file__)
print(torch.__version__)
print(int(bool(torch._C._GLIBCXX_USE_CXX11_ABI)))
print(d)
PY
) || { echo "libtorch.sh: $py cannot import torch" >&2; exit 1; }

version=$(sed -n 1p <<<"$out")
abi=$(sed -n 2p <<<"$out")
dir=$(sed -n 3p <<<"$out")
case "$version" in
  "$want"|"$want"+*) ;;
  *) echo "libtorch.sh: torch $version at $dir, want $want" >&2; exit 1 ;;
esac
[ "$abi" = 1 ] || { echo "libtorch.sh: torch at $dir uses the pre-C++11 ABI; package torch is built with _GLIBCXX_USE_CXX11_ABI=1" >&2; exit 1; }
for f in include/torch/csrc/api/include/torch/torch.h lib/libtorch.so lib/libtorch_cpu.so lib/libc10.so lib/libtorch_cuda.so lib/libc10_cuda.so; do
  [ -e "$dir/$f" ] || { echo "libtorch.sh: $dir/$f missing: package torch needs the full torch wheel from PyPI" >&2; exit 1; }
done
ln -sfn "$dir" "$root/.libtorch"
echo "$dir"
