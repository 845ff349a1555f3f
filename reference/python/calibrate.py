"""fp32 GEMM throughput of this machine with torch (MKL on x86 CPUs), for the report's
fraction of the machine's limits. `mlbench run --calibrate` and `mlbench env --measure` call it:

    python calibrate.py --threads T [--size N] [--repeats R]

Prints one JSON object: flop_per_s (the best of R products of two N x N fp32 matrices,
2 N^3 FLOP each, after one untimed product), repeats, and kernel (what ran).
"""

import argparse
import json
import re
import time

import torch


def blas():
    m = re.search(r"BLAS_INFO=(\w+)", torch.__config__.show())
    return m.group(1) if m else "unknown BLAS"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", type=int, required=True)
    ap.add_argument("--size", type=int, default=2048)
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args()
    if args.threads < 1 or args.size < 1 or args.repeats < 1:
        ap.error("--threads, --size and --repeats must be positive")
    torch.set_num_threads(args.threads)
    gen = torch.Generator().manual_seed(0)
    n = args.size
    a, b, c = torch.randn(n, n, generator=gen), torch.randn(n, n, generator=gen), torch.empty(n, n)
    torch.mm(a, b, out=c)  # untimed: the BLAS sets up its buffers and threads on the first call
    best = float("inf")
    for _ in range(args.repeats):
        t0 = time.perf_counter()
        torch.mm(a, b, out=c)
        best = min(best, time.perf_counter() - t0)
    kernel = f"torch {torch.__version__} mm {n}x{n} fp32, {args.threads} threads ({blas()})"
    print(json.dumps({"flop_per_s": 2 * n**3 / best, "repeats": args.repeats, "kernel": kernel}))


if __name__ == "__main__":
    main()
