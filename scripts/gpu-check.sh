#!/usr/bin/env bash
# gpu-check.sh: the quick suite on an NVIDIA GPU, every CUDA-capable
# implementation, then the report. For a machine with a GPU and the
# binaries built by `./build.sh --cuda` (here or in the CUDA image).
#
#   scripts/gpu-check.sh [OUT]        (default OUT: results/gpu-<UTC timestamp>)
#
# It needs, in the checkout:
#   bin/mlbench, bin/mlbench-torch and the Rust binaries (./build.sh --cuda);
#   .venv: the project's venv with the CUDA torch 2.11.0 wheel and
#     onnxruntime-gpu 1.30.0 (./build.sh --cuda makes it); on a machine that
#     already has such a venv, MLBENCH_VENV=DIR links .venv to it (bin/mlbench-torch
#     and tch find libtorch through .venv, as DESIGN.md says);
#   MLBENCH_MIRROR: the offline mirror, when the data is not prepared yet.
# Environment:
#   GPU_MEM_BW_GBS  the GPU's memory bandwidth in GB/s, for the GPT-2 ceiling
#                   (known here: H100 SXM 3350, H100 PCIe 2000, H200 4800,
#                   A100 80GB SXM 2039, A100 40GB 1555, L4 300);
#   TIMEOUT         per job (default 30m).
# Writes OUT/ (the results, run.json), OUT/report.md, OUT/report.json,
# OUT/env.json and OUT/summary.txt (the two figures to state: go-libtorch's
# CNN epoch time against python-pytorch's, and GPT-2 fp32 tokens/s as a
# fraction of the memory-bandwidth ceiling, 494.6 MB read per token).
# Exit status: 0 when every result passed, 3 when some failed, 1 otherwise.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
OUT=${1:-results/gpu-$(date -u +%Y%m%dT%H%M%SZ)}
TIMEOUT=${TIMEOUT:-30m}
say() { printf '==> [%s] %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }
die() { printf 'gpu-check: %s\n' "$*" >&2; exit 1; }

[ -x bin/mlbench ] || die "bin/mlbench not built: run ./build.sh --cuda first"
if [ -n "${MLBENCH_VENV:-}" ]; then
  [ -x "$MLBENCH_VENV/bin/python" ] || die "MLBENCH_VENV=$MLBENCH_VENV: no bin/python there"
  ln -sfn "$MLBENCH_VENV" .venv
  bash torch/libtorch.sh "$ROOT/.venv/bin/python" "$ROOT" >/dev/null || die "torch/libtorch.sh: the venv's torch does not fit"
fi
[ -x .venv/bin/python ] || die ".venv missing: run ./build.sh --cuda, or set MLBENCH_VENV"
mkdir -p "$OUT"

say "mlbench env"
bin/mlbench env >"$OUT/env.json"
gpu=$(python3 - "$OUT/env.json" 2>&1 <<'EOF'
import json, sys
g = json.load(open(sys.argv[1]))["gpu"]
if not g["devices"]:
    sys.exit(f"no GPU seen: {g.get('not_seen', '?')}")
d = g["devices"][0]
print(f"{d['name']} ({d['memory_bytes'] / 2**30:.0f} GiB), driver {g.get('driver_version')}, "
      f"CUDA driver {g.get('cuda_driver_version')}, CUDA runtime {g.get('cuda_runtime')}, cuDNN {g.get('cudnn')}")
EOF
) || die "$gpu"
say "GPU: $gpu"

say "mlbench list (the CUDA column says why a job cannot run here)"
bin/mlbench list >"$OUT/list.txt"
grep -E '^(dl|llm)/' "$OUT/list.txt" >&2

if [ -n "${MLBENCH_MIRROR:-}" ]; then
  say "data prepare (cifar10, squad_v2_dev, prompts, tokenizers) from $MLBENCH_MIRROR"
  bin/mlbench data prepare --dataset cifar10 --dataset squad_v2_dev --dataset prompts \
    --dataset bert_tokenizer --dataset gpt2_tokenizer >&2
fi
say "models prepare (random weights without --from; several minutes the first time)"
bin/mlbench models prepare >&2

# Every task with a CUDA implementation; the classical ones are CPU
# libraries (mlbench list says so) and are skipped by a cuda run.
rc=0
for task in dl/cnn llm/bert-qa llm/gpt2; do
  say "run --device cuda --size quick --task $task"
  r=0
  bin/mlbench run --device cuda --size quick --task "$task" --timeout "$TIMEOUT" \
    --out "$OUT" --resume >>"$OUT/run.log" 2>&1 || r=$?
  tail -3 "$OUT/run.log" >&2
  if [ "$r" -eq 3 ]; then rc=3; elif [ "$r" -ne 0 ]; then die "mlbench run --task $task exited $r (log: $OUT/run.log)"; fi
done

say "report"
bin/mlbench report "$OUT" >"$OUT/report.md"
bin/mlbench report --format json "$OUT" >"$OUT/report.json"

python3 - "$OUT" "$gpu" "${GPU_MEM_BW_GBS:-}" >"$OUT/summary.txt" <<'EOF'
import glob, json, os, statistics, sys
out, gpu, bw = sys.argv[1], sys.argv[2], sys.argv[3]
res = {}
for p in glob.glob(os.path.join(out, "*.result.json")):
    r = json.load(open(p))
    res[(r["task"], r["impl"])] = r
print(f"GPU: {gpu}")
def epoch(impl):
    r = res.get(("dl/cnn", impl))
    if not r or r.get("status") != "ok" or not r["phases"].get("train_epoch"):
        return None
    return statistics.median(r["phases"]["train_epoch"])
g, p = epoch("go-libtorch"), epoch("python-pytorch")
if g and p:
    print(f"dl/cnn train epoch (median): go-libtorch {g:.3f} s, python-pytorch {p:.3f} s, ratio {g / p:.3f} "
          f"({'<=' if g <= p else '>'} python-pytorch's)")
else:
    print("dl/cnn: go-libtorch or python-pytorch has no passed result (see report.md)")
known = {"H100 80GB HBM3": 3350, "H100 SXM": 3350, "H100 PCIe": 2000, "H200": 4800,
         "A100-SXM4-80GB": 2039, "A100 80GB": 2039, "A100-SXM4-40GB": 1555, "A100-PCIE-40GB": 1555, "L4": 300}
if not bw:
    bw = next((v for k, v in known.items() if k in gpu), None)
ceiling = float(bw) * 1e9 / 494.6e6 if bw else None
print("llm/gpt2 fp32 tokens/s, 494.6 MB read per token: ceiling "
      + (f"{ceiling:,.0f} tok/s at {float(bw):,.0f} GB/s" if ceiling else "unknown (set GPU_MEM_BW_GBS)"))
for (task, impl), r in sorted(res.items()):
    if task != "llm/gpt2":
        continue
    t = r.get("metrics", {}).get("tokens_per_s")
    if r.get("status") != "ok" or t is None:
        print(f"  {impl}: {r.get('status')} {r.get('reason', '')}")
        continue
    frac = f", {t / ceiling:.1%} of the ceiling" if ceiling else ""
    print(f"  {impl}: {t:,.1f} tok/s{frac}, peak GPU memory {r.get('peak_gpu_mem_bytes', 0) / 2**20:,.0f} MiB")
EOF
cat "$OUT/summary.txt" >&2
say "done: $OUT (report.md, summary.txt); exit $rc"
exit "$rc"
