#!/usr/bin/env bash
# mlbench: one command that sets up everything on a fresh machine.
#
#   ./build.sh         build the Go tool, the Python venv and the Rust binaries
#   ./build.sh test    build, then run every test (Go, Python, Rust, end to end)
#   ./build.sh run     build, prepare the data and models, run the quick suite, print the table
#   ./build.sh fmt     format the Python and Rust code (ruff, cargo fmt), as ./build.sh test checks
#
# Builds are cached outside the checkout, keyed by their inputs, so a second
# run (or a fresh clone on the same machine) takes seconds:
#   $MLBENCH_CACHE (default ~/.cache/mlbench)/venv-<hash of requirements.lock + python>
#   $MLBENCH_CACHE/cargo-target   (cargo's own fingerprints decide what to rebuild)
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
# libtorch from the pinned torch wheel in .venv (tag libtorch; headers,
# libraries through the .libtorch link that torch/libtorch.sh makes), and libtokenizers.a
# (daulet/tokenizers' Rust half, built once and cached; tag tokenizers).
# ONNX Runtime needs nothing at build time: ort/ loads the pinned wheel's
# libonnxruntime.so.1.30.0 from .venv at run time.
go_native() {
  local dir
  bash "$ROOT/torch/libtorch.sh" "$ROOT/.venv/bin/python" "$ROOT" >/dev/null || die "libtorch from .venv: torch/libtorch.sh failed"
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
  (cd "$ROOT" && go build -tags tokenizers -trimpath -o bin/mlbench ./cmd/mlbench &&
    go build -tags "$GO_TAGS" -trimpath -o bin/mlbench-torch ./cmd/mlbench)
}

build_python() {
  need python3 "Python 3.11"
  local py lock key venv
  py=$(command -v python3)
  lock="$ROOT/reference/python/requirements.lock"
  key=$( (python3 -c 'import sys; print(sys.version)'; cat "$lock") | sha256sum | cut -c1-16)
  venv="$CACHE/venv-$key"
  if [ ! -f "$venv/.complete" ]; then
    say "Python: creating $venv from requirements.lock (first time: a few minutes, torch is large)"
    rm -rf "$venv"
    mkdir -p "$CACHE"
    "$py" -m venv "$venv"
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-input -r "$lock" \
      || { rm -rf "$venv"; die "pip install -r reference/python/requirements.lock failed"; }
    touch "$venv/.complete"
  else
    say "Python: $venv (cached)"
  fi
  ln -sfn "$venv" "$ROOT/.venv"
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

build_all() {
  build_python
  build_go
  build_rust
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
# the reference and our Go implementations must pass.
e2e_classical() {
  local out rc=0 csv
  out=$(mktemp -d)
  "$ROOT/bin/mlbench" --root "$ROOT" run --task 'classical/*' --reps 3 --warmup 0 --out "$out/run" || rc=$?
  if [ "$rc" -ne 0 ] && [ "$rc" -ne 3 ]; then
    echo "e2e: mlbench run exited $rc" >&2
    rm -rf "$out"
    return 1
  fi
  csv=$("$ROOT/bin/mlbench" --root "$ROOT" report --format csv "$out/run") || { rm -rf "$out"; return 1; }
  rm -rf "$out"
  if printf '%s\n' "$csv" | grep -E '^[^,]*,[^,]*,(python-sklearn|go-gonum),' | grep -q ',failed,'; then
    echo "e2e: a reference or Go result failed:" >&2
    printf '%s\n' "$csv" | grep -E '^[^,]*,[^,]*,(python-sklearn|go-gonum),' | grep ',failed,' >&2
    return 1
  fi
  local n
  n=$(printf '%s\n' "$csv" | grep -cE '^[^,]*,[^,]*,go-gonum,.*,ok,' || true)
  [ "$n" -gt 0 ] || { echo "e2e: no go-gonum result in the report" >&2; return 1; }
  echo "e2e: ok (reference and go-gonum passed parity on every classical case)" >&2
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
  # No silent skips: a test that cannot run (no prepared data, no ONNX
  # Runtime library...) fails with its reason under MLBENCH_REQUIRE_ALL=1,
  # in pytest (reference/python/conftest.py) and in the Rust test kit
  # (llm-common's testkit::skip). Only a missing GPU may skip.
  export MLBENCH_REQUIRE_ALL=1
  lint_rust_python || { failed=1; lint=failed; }
  # The data first: tests of the tokenizers and LLM pieces use the prepared
  # tokenizer files and SQuAD.
  prepare_data || { failed=1; prepared=0; }
  say "test: go vet + go test ./..."
  (cd "$ROOT" && go vet -tags "$GO_TAGS" ./... && go test -count=1 -tags "$GO_TAGS" ./...) || failed=1
  say "test: go test without native pieces (the stubs must build and say what is missing)"
  (cd "$ROOT" && env -u CGO_LDFLAGS go vet ./... &&
    env -u CGO_LDFLAGS go test -count=1 ./cli/ ./tokenize/ ./ort/ ./torch/) || failed=1
  say "test: pytest reference/python"
  (cd "$ROOT" && .venv/bin/python -m pytest reference/python -q -p no:cacheprovider) || failed=1
  rust_env
  local ws
  for ws in $RUST_WORKSPACES; do
    say "test: cargo test --release ($ws)"
    (cd "$ROOT/$ws" && cargo test --release --locked -j "$JOBS" --quiet) || failed=1
  done
  say "test: end to end (a short classical run with parity)"
  if [ "$prepared" = 1 ]; then
    e2e_classical || failed=1
  fi
  if [ "$failed" -ne 0 ]; then
    [ "$lint" = ok ] || say "lint failed: ruff, cargo fmt or cargo clippy (see 'lint:' above; ./build.sh fmt fixes formatting)"
    die "some tests failed (see above)"
  fi
  say "all tests passed"
}

case "${1:-build}" in
  build) build_all ;;
  test) build_all; run_tests ;;
  run)
    build_all
    prepare_data
    say "models: mlbench models prepare (first time: several minutes; random weights without --from)"
    "$ROOT/bin/mlbench" --root "$ROOT" models prepare
    shift
    exec "$ROOT/bin/mlbench" --root "$ROOT" run --size quick "$@"
    ;;
  fmt) need cargo "Rust (rustup)"; need python3 "Python 3.11"; fmt_rust_python ;;
  -h|--help|help) sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//' ;;
  *) die "unknown command '$1' (want: build, test, run, fmt)" ;;
esac
