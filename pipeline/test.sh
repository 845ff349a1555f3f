#!/usr/bin/env bash
# End-to-end test of the pipeline (main.nf), in ./build.sh test:
#
#  1. a plain `mlbench run` of the selection: the shape the pipeline must give;
#  2. -profile local, with one job made to fail: it is retried once, then
#     recorded as failed in the merged results; then -resume: the finished
#     jobs are not run again, the failed one is, and the merged results have
#     the plain run's shape;
#  3. a one-node SLURM cluster (munge, slurmctld, slurmd; the Debian packages
#     are installed when missing, as root), -profile slurm: every job went
#     through sbatch (its SLURM job id is in slurmctld's log), and the merged
#     results have the plain run's shape.
#
# Each time the reference and go-gonum must pass parity. Every daemon this
# script starts is stopped by its PID, also on failure. When SLURM cannot be
# installed or started the test fails and says why: it never skips.
#
# Environment: NEXTFLOW (default: nextflow on PATH, else bin/nextflow),
# MLBENCH_MIRROR (data), KEEP=1 keeps the scratch directory.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
MLBENCH="$ROOT/bin/mlbench"
TASK='classical/*'
IMPL='go-gonum'
ARGS=(--task "$TASK" --impl "$IMPL" --reps 2 --warmup 0)

say() { printf '==> pipeline test [%ss]: %s\n' "$SECONDS" "$*" >&2; }
fail() {
  printf 'pipeline test: FAILED: %s\n' "$*" >&2
  exit 1
}

NEXTFLOW=${NEXTFLOW:-$(command -v nextflow || echo "$ROOT/bin/nextflow")}
[ -x "$NEXTFLOW" ] || fail "nextflow not found ($NEXTFLOW): ./build.sh installs it (needs java >= 17 and mvn)"
[ -x "$MLBENCH" ] || fail "$MLBENCH not found: run ./build.sh first"

T=$(mktemp -d /tmp/mlbench-pipeline.XXXXXX)
DAEMONS=() # "name pid", in start order
NF_PID=    # the running nextflow (nf), if any
MUNGE_OURS=0

stop_daemons() {
  local i name pid n
  if [ "${#DAEMONS[@]}" -gt 0 ] && [ -n "${SLURM_CONF:-}" ]; then
    # Jobs first, so that no job step outlives its slurmd.
    scancel --user "$(id -un)" >/dev/null 2>&1 || true
    for n in 1 2 3 4 5 6 7 8 9 10; do
      [ -z "$(squeue -h -o %i 2>/dev/null)" ] && break
      sleep 1
    done
  fi
  for ((i = ${#DAEMONS[@]} - 1; i >= 0; i--)); do
    read -r name pid <<<"${DAEMONS[$i]}"
    kill -TERM "$pid" 2>/dev/null || continue
    for n in $(seq 1 50); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.2
    done
    if kill -0 "$pid" 2>/dev/null; then
      say "$name (pid $pid) did not stop on TERM: KILL"
      kill -KILL "$pid" 2>/dev/null || true
    fi
  done
  DAEMONS=()
}

cleanup() {
  local rc=$? n
  if [ -n "$NF_PID" ] && kill -TERM "$NF_PID" 2>/dev/null; then
    for n in $(seq 1 100); do
      kill -0 "$NF_PID" 2>/dev/null || break
      sleep 0.2
    done
    kill -KILL "$NF_PID" 2>/dev/null || true
  fi
  stop_daemons
  if [ "${KEEP:-0}" = 1 ] || [ "$rc" -ne 0 ]; then
    say "scratch kept in $T"
  else
    rm -rf "$T"
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# shape DIR: one line per (task, variant, impl, phase, timings, status).
shape() {
  "$MLBENCH" --root "$ROOT" report --format csv "$1" | cut -d, -f1-4,8,13 | sort
}

# passed DIR WHAT: the reference and go-gonum passed parity on every case.
passed() {
  local csv bad
  csv=$("$MLBENCH" --root "$ROOT" report --format csv "$1")
  bad=$(grep -E '^[^,]*,[^,]*,(python-sklearn|go-gonum),' <<<"$csv" | grep -v ',ok,' || true)
  [ -z "$bad" ] || fail "$2: a reference or go-gonum result failed: $(printf '%s' "$bad" | head -n 1)"
  grep -qE '^[^,]*,[^,]*,go-gonum,.*,ok,' <<<"$csv" || fail "$2: no go-gonum result"
}

# same_shape DIR WHAT: DIR has the plain run's results, one for one.
same_shape() {
  shape "$1" >"$T/shape.got" || fail "$2: mlbench report $1 failed"
  diff -u "$T/plain.shape" "$T/shape.got" >&2 || fail "$2: the merged results differ in shape from a plain \`mlbench run\` (diff above)"
  [ "$(ls "$1"/*.result.json | wc -l)" -eq "$(ls "$T/plain"/*.result.json | wc -l)" ] || fail "$2: not as many result files as the plain run"
}

# trace DIR PROCESS TAG: the status column of each trace line of that task.
trace() {
  awk -F'\t' -v p="$2" -v t="$3" 'NR > 1 && $4 == p && $5 == t {print $7}' "$1.trace.txt" | tr '\n' ' '
}

# nf NAME ARGS...: run the pipeline from its own launch directory.
# It runs in the background so that a signal stops the test at once (bash
# runs traps only between foreground commands); cleanup stops it.
nf() {
  local name=$1 rc=0
  shift
  mkdir -p "$T/$name"
  (cd "$T/$name" && exec timeout 600 "$NEXTFLOW" -q run "$ROOT/main.nf" -ansi-log false -w "$T/$name/work" \
    "${ARGS[@]}" "$@") >"$T/$name.log" 2>&1 &
  NF_PID=$!
  wait "$NF_PID" || rc=$?
  NF_PID=
  [ "$rc" -eq 0 ] || {
    tail -n 30 "$T/$name.log" >&2
    tail -n 30 "$T/$name/.nextflow.log" >&2 2>/dev/null || true
    fail "nextflow run ($name) failed (log: $T/$name.log)"
  }
}

say "data for $TASK"
"$MLBENCH" --root "$ROOT" data prepare --dataset california_housing --dataset digits --dataset blobs/n10000 >/dev/null ||
  fail "mlbench data prepare failed (offline? set MLBENCH_MIRROR)"

say "plain mlbench run ${ARGS[*]}"
rc=0
"$MLBENCH" --root "$ROOT" run "${ARGS[@]}" --out "$T/plain" >"$T/plain.log" 2>&1 || rc=$?
[ "$rc" -eq 0 ] || [ "$rc" -eq 3 ] || { tail -n 5 "$T/plain.log" >&2; fail "mlbench run exited $rc"; }
passed "$T/plain" "plain run"
shape "$T/plain" >"$T/plain.shape"

# ---- local profile: a job that fails twice is recorded; -resume ----
say "-profile local, classical_svm made to fail"
touch "$T/break-svm"
cat >"$T/mlbench-flaky" <<EOF
#!/bin/sh
# bin/mlbench, except that \`run\` of classical/svm fails while $T/break-svm exists.
if [ -e "$T/break-svm" ]; then
  run=0 svm=0
  for a in "\$@"; do
    [ "\$a" = run ] && run=1
    [ "\$a" = classical/svm ] && svm=1
  done
  if [ \$run = 1 ] && [ \$svm = 1 ]; then
    echo "mlbench: injected failure for the pipeline test" >&2
    exit 1
  fi
fi
exec "$MLBENCH" "\$@"
EOF
chmod +x "$T/mlbench-flaky"
# A relative --outdir: the merge, which runs in its own task directory, must
# still write it in the launch directory.
nf local -profile local --mlbench "$T/mlbench-flaky" --outdir out
st=$(trace "$T/local/out" RUN classical_svm)
[ "$st" = "FAILED FAILED " ] || fail "local: classical_svm should have failed twice (retried once), trace says: $st"
grep -q '"classical/svm"' "$T/local/out/run.json" || fail "local: run.json does not list classical/svm"
for f in "$T/local/out"/classical_svm.*.result.json; do
  grep -q '"status": "failed"' "$f" &&
    grep -q '"reason": "no result: pipeline job classical_svm failed on attempt 2 on .*injected failure for the pipeline test"' "$f" ||
    fail "local: $(basename "$f") is not recorded as failed with the job's reason"
done
[ -e "$T/local/out/classical_svm.go-gonum.result.json" ] || fail "local: no failed result for classical_svm go-gonum"

say "-profile local -resume"
rm "$T/break-svm"
nf local -profile local --mlbench "$T/mlbench-flaky" --outdir out -resume
for job in classical_linreg classical_kmeans; do
  st=$(trace "$T/local/out" RUN "$job")
  [ "$st" = "CACHED " ] || fail "local -resume: $job finished before and should not run again, trace says: $st"
done
st=$(trace "$T/local/out" RUN classical_svm)
[ "$st" = "COMPLETED " ] || fail "local -resume: classical_svm should run again and complete, trace says: $st"
same_shape "$T/local/out" "local"
passed "$T/local/out" "local"

# ---- a one-node SLURM cluster ----
need_pkgs=0
for b in slurmctld slurmd sbatch squeue munged; do
  command -v "$b" >/dev/null 2>&1 || [ -x "/usr/sbin/$b" ] || need_pkgs=1
done
if [ "$need_pkgs" = 1 ]; then
  [ "$(id -u)" = 0 ] || fail "SLURM is not installed and this is not root: apt-get install slurmctld slurmd slurm-client munge"
  say "installing slurmctld slurmd slurm-client munge"
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y --no-install-recommends slurmctld slurmd slurm-client munge >"$T/apt.log" 2>&1 ||
    { apt-get update >>"$T/apt.log" 2>&1 && apt-get install -y --no-install-recommends slurmctld slurmd slurm-client munge >>"$T/apt.log" 2>&1; } ||
    fail "apt-get install of the SLURM packages failed: $(tail -n 1 "$T/apt.log")"
fi
export PATH="/usr/sbin:$PATH"
[ "$(id -u)" = 0 ] || fail "starting slurmctld and slurmd needs root"
if pgrep -x slurmctld >/dev/null || pgrep -x slurmd >/dev/null; then
  fail "a slurmctld or slurmd is already running on this machine: the test needs its own cluster"
fi

S="$T/slurm"
mkdir -p "$S/state" "$S/spool"
say "munge"
if munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then
  say "munged already runs: using it"
else
  [ -s /etc/munge/munge.key ] || mungekey --create --keyfile=/etc/munge/munge.key >/dev/null 2>&1 ||
    fail "no munge key and mungekey could not make one"
  chown munge:munge /etc/munge/munge.key && chmod 0400 /etc/munge/munge.key
  install -d -o munge -g munge -m 0755 /run/munge
  setpriv --reuid=munge --regid=munge --init-groups /usr/sbin/munged --foreground >"$S/munged.log" 2>&1 &
  DAEMONS+=("munged $!")
  for n in $(seq 1 50); do
    munge -n 2>/dev/null | unmunge >/dev/null 2>&1 && break
    kill -0 "${DAEMONS[-1]#* }" 2>/dev/null || fail "munged did not start: $(tail -n 1 "$S/munged.log")"
    sleep 0.2
  done
  munge -n | unmunge >/dev/null 2>&1 || fail "munged does not answer: $(tail -n 1 "$S/munged.log")"
fi

say "slurmctld, slurmd"
node=$(slurmd -C) || fail "slurmd -C could not read this machine's configuration"
node=${node%%$'\n'*} # NodeName=... CPUs=... RealMemory=...
host=$(hostname -s)
export SLURM_CONF="$S/slurm.conf"
cat >"$SLURM_CONF" <<EOF
ClusterName=mlbench-test
SlurmctldHost=$host
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
MpiDefault=none
ReturnToService=2
StateSaveLocation=$S/state
SlurmdSpoolDir=$S/spool
SlurmctldPidFile=$S/slurmctld.pid
SlurmdPidFile=$S/slurmd.pid
SlurmctldLogFile=$S/slurmctld.log
SlurmdLogFile=$S/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
$node State=UNKNOWN
PartitionName=main Nodes=ALL Default=YES MaxTime=INFINITE State=UP
EOF
slurmctld -D -i -f "$SLURM_CONF" >"$S/slurmctld.out" 2>&1 &
DAEMONS+=("slurmctld $!")
slurmd -D -f "$SLURM_CONF" >"$S/slurmd.out" 2>&1 &
DAEMONS+=("slurmd $!")
state=
for n in $(seq 1 60); do
  state=$(sinfo -h -N -o '%T' 2>/dev/null | head -n 1 || true)
  [ "$state" = idle ] && break
  for d in "${DAEMONS[@]}"; do
    kill -0 "${d#* }" 2>/dev/null || fail "${d% *} exited: $(tail -n 1 "$S/${d% *}.log" "$S/${d% *}.out" 2>/dev/null | grep -v '^==>' | grep . | tail -n 1)"
  done
  sleep 0.5
done
[ "$state" = idle ] || fail "the SLURM node is not idle after 30 s (state: ${state:-none}; $(sinfo -h -R 2>/dev/null | head -n 1))"

say "-profile slurm, each job preparing its own data"
mirror=()
if [ -n "${MLBENCH_MIRROR:-}" ]; then mirror=(--mirror "$MLBENCH_MIRROR"); fi
nf slurm -profile slurm --outdir "$T/slurm-out" --prepare true "${mirror[@]}"
for job in classical_linreg:california_housing classical_svm:digits classical_kmeans:blobs/n10000; do
  dirs=$(grep -l "JOB='${job%%:*}'" "$T"/slurm/work/*/*/.command.sh | xargs -r -n1 dirname)
  [ -n "$dirs" ] && grep -q "^${job#*:}: " $(printf '%s/.command.err ' $dirs) ||
    fail "slurm: job ${job%%:*} did not prepare its dataset ${job#*:} (--prepare true)"
done
ids=$(awk -F'\t' 'NR > 1 && $4 == "RUN" {print $3}' "$T/slurm-out.trace.txt")
[ "$(printf '%s\n' "$ids" | grep -c .)" -eq 3 ] || fail "slurm: the trace should list 3 RUN jobs, it has: $ids"
for id in $ids; do
  grep -q "_slurm_rpc_submit_batch_job: JobId=$id " "$S/slurmctld.log" ||
    fail "slurm: job $id of the trace was not submitted through sbatch (not in slurmctld's log)"
done
for job in classical_linreg classical_svm classical_kmeans; do
  st=$(trace "$T/slurm-out" RUN "$job")
  [ "$st" = "COMPLETED " ] || fail "slurm: $job: trace says $st"
done
same_shape "$T/slurm-out" "slurm"
passed "$T/slurm-out" "slurm"
say "ok: local (retry, failure record, -resume) and slurm (every job through sbatch) give the plain run's results"
