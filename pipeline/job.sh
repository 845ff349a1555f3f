#!/usr/bin/env bash
# One job of main.nf, on its node: prepare the job's data when asked, then
# one `mlbench run` into ./$JOB. Called by the RUN process as
#
#   MLBENCH=bin ROOT=dir JOB=name TASK=id ATTEMPT=n LAST=n FAILURES=dir \
#   PREPARE="dataset ..." MIRROR=dir bash job.sh RUN_ARGS...
#
# A run that ends with results (exit 0, or 3 when some of them failed: the
# merged report says which) is done. Any other end exits 75, so that
# Nextflow retries the job; on the last attempt it first leaves a failure
# record, $FAILURES/$JOB.failure.json (with mlbench's own exit status), that
# `mlbench merge` reports. 75, never 1: main.nf takes exit status 1 for
# sbatch refusing the job, which no retry mends.
set -uo pipefail

mlbench=("$MLBENCH" --root "$ROOT")
rc=0
rm -rf "$JOB" # what an earlier process left in this task directory
if [ -n "${PREPARE:-}" ]; then
  args=()
  for d in $PREPARE; do args+=(--dataset "$d"); done
  if [ -n "${MIRROR:-}" ]; then args+=(--mirror "$MIRROR"); fi
  "${mlbench[@]}" data prepare "${args[@]}" >&2 2>run.err || rc=$?
fi
if [ "$rc" -eq 0 ]; then
  "${mlbench[@]}" run "$@" --out "$JOB" 2>>run.err || rc=$?
fi
cat run.err >&2
if [ "$rc" -eq 0 ] || [ "$rc" -eq 3 ]; then
  exit 0
fi
if [ "$ATTEMPT" -ge "$LAST" ]; then
  # JSON by hand: the message loses control characters, quotes and
  # backslashes are escaped.
  json() { printf '%s' "$1" | tr '\n\t\r' '   ' | sed 's/\\/\\\\/g; s/"/\\"/g' | tr -d '\000-\037'; }
  msg=$(grep -v '^skip ' run.err | tail -n 3)
  mkdir -p "$FAILURES"
  tmp="$FAILURES/.$JOB.failure.json.tmp"
  printf '{"job": "%s", "task": "%s", "attempt": %d, "exit_status": %d, "host": "%s", "at": "%s", "message": "%s"}\n' \
    "$(json "$JOB")" "$(json "$TASK")" "$ATTEMPT" "$rc" "$(json "$(hostname)")" "$(date -u +%Y-%m-%dT%H:%M:%SZ)" \
    "$(json "$msg")" >"$tmp" && mv "$tmp" "$FAILURES/$JOB.failure.json"
fi
exit 75
