#!/usr/bin/env bash
# e2e_trained.sh ROOT: the trained-weights path end to end (docs/LLM.md,
# "Trained weights"), run by `./build.sh test`:
#   1. the tiny trained test checkpoints of reference/python/make_fixtures.py,
#      cached in $MLBENCH_CACHE/fixtures-<hash of the script, its inputs and
#      requirements.lock> (made once, a few minutes on 2 cores);
#   2. `mlbench models prepare --from DIR` for each, into a temporary models
#      directory (MLBENCH_MODELS), not data/models;
#   3. `mlbench run --task 'llm/*' --size quick` on them: every implementation
#      of llm/bert-qa and llm/gpt2 must pass parity (same answers, EM/F1
#      within 0.1, same generated ids), and every bert-qa result must report
#      EM and F1 and say that its model is a test fixture.
# Needs bin/ built and the data prepared (SQuAD, prompts, tokenizers).
set -euo pipefail

ROOT=$1
CACHE=${MLBENCH_CACHE:-$HOME/.cache/mlbench}
PY=$ROOT/.venv/bin/python
DATA=$ROOT/data/processed
MLBENCH=("$ROOT/bin/mlbench" --root "$ROOT")

# fixtures prints the directory of the cached fixtures, making them first.
fixtures() {
  local key dir
  key=$(cat "$ROOT"/reference/python/{make_fixtures,llm_common,common}.py "$ROOT/reference/python/requirements.lock" \
    "$DATA/squad_v2_dev/dev-v2.0.json" "$DATA/prompts/prompts.json" \
    "$DATA/tokenizers/bert-base-uncased/tokenizer.json" "$DATA/tokenizers/gpt2/tokenizer.json" | sha256sum | cut -c1-16)
  dir=$CACHE/fixtures-$key
  mkdir -p "$CACHE"
  if [ ! -f "$dir/fixtures.json" ]; then
    echo "e2e-trained: making the test fixtures into $dir (first time: a few minutes)" >&2
    (cd "$ROOT/reference/python" && flock "$dir.lock" sh -c '[ -f "$1/fixtures.json" ] || "$2" make_fixtures.py --squad "$3" \
      --prompts "$4" --tokenizers "$5" --out "$1"' sh "$dir" "$PY" "$DATA/squad_v2_dev/dev-v2.0.json" \
      "$DATA/prompts/prompts.json" "$DATA/tokenizers") >&2
  fi
  echo "$dir"
}

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

main() {
  local fx work=$WORK rc=0
  fx=$(fixtures)
  export MLBENCH_MODELS=$work/models
  for m in bert-qa gpt2; do
    "${MLBENCH[@]}" models prepare --model "$m" --from "$fx/$m" >&2
  done
  "${MLBENCH[@]}" run --task 'llm/*' --size quick --out "$work/run" >&2 || rc=$?
  if [ "$rc" -ne 0 ] && [ "$rc" -ne 3 ]; then
    echo "e2e-trained: mlbench run exited $rc" >&2
    return 1
  fi
  "$PY" - "$work/run" <<'PY'
import glob, json, sys
rows = [json.load(open(p)) for p in sorted(glob.glob(sys.argv[1] + "/*.json"))]
# The null implementations (no work, never judged) are not among the seven.
rows = [r for r in rows if str(r.get("task", "")).startswith("llm/") and not str(r.get("impl", "")).endswith("-null")]
bad = []
for r in rows:
    who = f'{r["task"]} {r["impl"]}'
    if r["status"] != "ok":
        bad.append(f'{who}: {r["status"]}: {r.get("reason", "")}')
    if not r.get("params", {}).get("trained"):
        bad.append(f"{who}: not run with trained weights")
    if not any("test fixture" in n for n in r.get("notes") or []):
        bad.append(f"{who}: no note that the model is a test fixture")
    if r["task"] == "llm/bert-qa" and not {"em", "f1"} <= set(r.get("metrics", {})):
        bad.append(f"{who}: no EM/F1")
for task in ("llm/bert-qa", "llm/gpt2"):
    n = sum(r["task"] == task for r in rows)
    if n != 7:
        bad.append(f"{task}: {n} results, want 7")
if bad:
    sys.exit("e2e-trained:\n  " + "\n  ".join(bad))
for r in rows:
    if r["task"] == "llm/bert-qa":
        print(f'e2e-trained: {r["impl"]}: EM {r["metrics"]["em"]:.2f}, F1 {r["metrics"]["f1"]:.2f}', file=sys.stderr)
print(f"e2e-trained: ok ({len(rows)} results, all passed parity on the trained fixtures)", file=sys.stderr)
PY
}

main
