#!/usr/bin/env bash
# container-check.sh: build Dockerfile.cuda for real on a machine without
# Docker Hub and without the toolchain download sites, then check the image.
#
#   scripts/container-check.sh            (root; installs docker.io and debootstrap when missing)
#
# What it does, and what it stands in for:
#   - starts its own dockerd (vfs storage, no iptables, no bridge) with its
#     data and socket in a temporary folder, and stops it by PID at the end;
#   - makes a stand-in base image (BASE_IMAGE): `debootstrap --variant=minbase
#     bookworm` from Debian's apt mirror, `docker import`ed. It has no CUDA:
#     the real base is nvidia/cuda (see Dockerfile.cuda), which cannot be
#     pulled here; Debian 12's apt has python3.11 as Ubuntu 22.04's does;
#   - serves this machine's own Go and Rust toolchains as tarballs on
#     127.0.0.1 (GO_URL, RUST_URL, with their sha256) in place of go.dev and
#     static.rust-lang.org;
#   - builds with the legacy builder (DOCKER_BUILDKIT=0) and --network host,
#     so apt, PyPI, crates.io and the Go module proxy answer as they do here
#     (the certificates added to this machine's trust store, in
#     /usr/local/share/ca-certificates, go in as EXTRA_CA_CERTS: where a
#     TLS-inspecting proxy answers for the registries, the image trusts it too);
#   - runs the image with --network none: `mlbench env`, `mlbench list`, then
#     `data prepare` of the classical datasets from $MLBENCH_MIRROR (mounted
#     read-only) and a short classical run; the reference (python-sklearn)
#     and go-gonum must pass parity, as in ./build.sh test.
# Re-runnable: the base rootfs and the toolchain tarballs are cached in
# $MLBENCH_CACHE/container-check (keyed by suite and toolchain version), and
# so is dockerd's data folder (docker-data: its layer cache spares a re-run
# the steps before the build; `rm -rf` it to start clean). The image is
# removed at the end (KEEP_IMAGE=1 keeps it).
# The log of each step goes to stderr; the exit status is 0 when all passed.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CACHE=${MLBENCH_CACHE:-$HOME/.cache/mlbench}/container-check
SUITE=${STANDIN_SUITE:-bookworm}
APT_MIRROR=${APT_MIRROR:-http://deb.debian.org/debian}
IMAGE=${IMAGE:-mlbench:cuda-standin}
MIRROR=${MLBENCH_MIRROR:-}
export PATH="$HOME/.cargo/bin:/usr/local/go/bin:$PATH"

say() { printf '==> [%s] %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }
die() { printf 'container-check: %s\n' "$*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || die "needs root (dockerd, debootstrap)"
[ -n "$MIRROR" ] || die "set MLBENCH_MIRROR to the offline mirror (the classical datasets come from it)"
MIRROR=$(cd "$MIRROR" && pwd)
for tool in dockerd debootstrap; do
  if ! command -v "$tool" >/dev/null; then
    say "installing docker.io and debootstrap (apt)"
    apt-get install -y --no-install-recommends docker.io debootstrap >&2 || die "apt-get install docker.io debootstrap failed"
    break
  fi
done
# The docker.io client that matches its daemon (another docker may be first on PATH).
DOCKER=/usr/bin/docker
[ -x "$DOCKER" ] || DOCKER=$(command -v docker) || die "no docker client"

mkdir -p "$CACHE"
TMP=$(mktemp -d /tmp/mlbench-container-check.XXXXXX)
DOCKERD_PID=
HTTP_PID=
cleanup() {
  local rc=$?
  if [ -n "$HTTP_PID" ]; then kill "$HTTP_PID" 2>/dev/null || true; fi
  if [ -n "$DOCKERD_PID" ]; then
    if [ "${KEEP_IMAGE:-0}" != 1 ]; then "$DOCKER" rmi -f "$IMAGE" >/dev/null 2>&1 || true; fi
    kill "$DOCKERD_PID" 2>/dev/null || true
    for _ in $(seq 60); do kill -0 "$DOCKERD_PID" 2>/dev/null || break; sleep 1; done
  fi
  # dockerd may leave its network namespace mounted under its exec root.
  awk -v t="$TMP/" 'index($2, t) == 1 { print $2 }' /proc/mounts | sort -r | xargs -r umount 2>/dev/null || true
  rm -rf "$TMP"
  exit "$rc"
}
trap cleanup EXIT

# ---- the daemon ----
say "dockerd: data in $CACHE/docker-data, socket in $TMP/docker"
mkdir -p "$CACHE/docker-data" "$TMP/docker/exec"
dockerd --storage-driver vfs --iptables=false --bridge=none \
  --data-root "$CACHE/docker-data" --exec-root "$TMP/docker/exec" \
  --pidfile "$TMP/docker/dockerd.pid" --host "unix://$TMP/docker/docker.sock" \
  >"$TMP/dockerd.log" 2>&1 &
DOCKERD_PID=$!
export DOCKER_HOST="unix://$TMP/docker/docker.sock" DOCKER_BUILDKIT=0
for _ in $(seq 60); do
  "$DOCKER" version >/dev/null 2>&1 && break
  kill -0 "$DOCKERD_PID" 2>/dev/null || { cat "$TMP/dockerd.log" >&2; die "dockerd exited"; }
  sleep 1
done
"$DOCKER" version --format 'docker {{.Server.Version}}' >&2 || die "dockerd did not answer (log: $TMP/dockerd.log)"

# ---- the stand-in base ----
base_tar="$CACHE/base-$SUITE-minbase.tar"
if [ ! -f "$base_tar" ]; then
  say "stand-in base: debootstrap --variant=minbase $SUITE from $APT_MIRROR (once; cached in $base_tar)"
  debootstrap --variant=minbase "$SUITE" "$TMP/rootfs" "$APT_MIRROR" >"$TMP/debootstrap.log" 2>&1 \
    || { tail -20 "$TMP/debootstrap.log" >&2; die "debootstrap failed"; }
  rm -rf "$TMP/rootfs/var/cache/apt/archives/"*.deb
  tar -C "$TMP/rootfs" -cf "$base_tar.tmp" . && mv "$base_tar.tmp" "$base_tar"
  rm -rf "$TMP/rootfs"
fi
# Imported once per rootfs: a new import is a new image id, and the layer
# cache of every later step would miss.
BASE="mlbench-standin-base:$SUITE-$(sha256sum "$base_tar" | cut -c1-12)"
if "$DOCKER" image inspect "$BASE" >/dev/null 2>&1; then
  say "stand-in base: $BASE (imported before)"
else
  "$DOCKER" import "$base_tar" "$BASE" >/dev/null
  say "stand-in base: $BASE imported"
fi

# ---- the toolchains, served locally ----
gover=$(go env GOVERSION)
goroot=$(go env GOROOT)
go_tar="$CACHE/$gover.linux-amd64.tar"
if [ ! -f "$go_tar" ]; then
  say "toolchain: $go_tar from $goroot"
  tar -C "$(dirname "$goroot")" --transform "s,^$(basename "$goroot"),go," -cf "$go_tar.tmp" "$(basename "$goroot")"
  mv "$go_tar.tmp" "$go_tar"
fi
sysroot=$(rustc --print sysroot)
rustver=$(rustc --version | awk '{print $2}')
rust_tar="$CACHE/rust-$rustver-x86_64-unknown-linux-gnu.tar"
if [ ! -f "$rust_tar" ]; then
  say "toolchain: $rust_tar from $sysroot (bin and lib: an installed toolchain)"
  sysroot=$(readlink -f "$sysroot")
  tar -C "$(dirname "$sysroot")" --transform "s,^$(basename "$sysroot"),rust-$rustver," \
    -cf "$rust_tar.tmp" "$(basename "$sysroot")/bin" "$(basename "$sysroot")/lib"
  mv "$rust_tar.tmp" "$rust_tar"
fi
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
python3 -m http.server --bind 127.0.0.1 --directory "$CACHE" "$port" >"$TMP/http.log" 2>&1 &
HTTP_PID=$!
sleep 1

# ---- the build ----
extra_ca=
for f in /usr/local/share/ca-certificates/*.crt; do
  [ -f "$f" ] && extra_ca+="$(cat "$f")"$'\n'
done
say "docker build -f Dockerfile.cuda (legacy builder, --network host; long: the whole ./build.sh --cuda)"
start=$(date +%s)
if ! "$DOCKER" build --network host -f "$ROOT/Dockerfile.cuda" -t "$IMAGE" \
  --build-arg "BASE_IMAGE=$BASE" \
  --build-arg "GO_URL=http://127.0.0.1:$port/$(basename "$go_tar")" \
  --build-arg "GO_SHA256=$(sha256sum "$go_tar" | cut -d' ' -f1)" \
  --build-arg "RUST_URL=http://127.0.0.1:$port/$(basename "$rust_tar")" \
  --build-arg "RUST_SHA256=$(sha256sum "$rust_tar" | cut -d' ' -f1)" \
  --build-arg "EXTRA_CA_CERTS=$extra_ca" \
  "$ROOT" >"$TMP/build.log" 2>&1; then
  tail -40 "$TMP/build.log" >&2
  die "docker build failed after $(($(date +%s) - start)) s"
fi
say "docker build: ok in $(($(date +%s) - start)) s; image $("$DOCKER" image inspect -f '{{.Size}}' "$IMAGE") bytes"

# ---- inside the image, without network ----
run() {
  "$DOCKER" run --rm --network none -e MLBENCH_MIRROR=/mirror -v "$MIRROR:/mirror:ro" \
    -v "$TMP/data:/data" -v "$TMP/results:/results" "$IMAGE" "$@"
}
mkdir -p "$TMP/data/processed" "$TMP/data/models" "$TMP/results"
say "mlbench env"
run env >"$TMP/env.json"
python3 - "$TMP/env.json" <<'EOF' || die "mlbench env: unexpected output"
import json, sys
e = json.load(open(sys.argv[1]))
for k in ("host", "go", "python", "rust", "gpu"):
    assert k in e, f"no {k!r} in mlbench env"
print(f"env: go {e['go']}, rust {e['rust']}, python {e['python'].get('python')}, gpu {e['gpu']}", file=sys.stderr)
EOF
say "mlbench list"
run list >&2
say "mlbench data prepare (classical datasets, from the mirror)"
run data prepare --dataset california_housing --dataset digits --dataset blobs >&2
say "mlbench run --task 'classical/*' --reps 2 --warmup 0"
rc=0
run run --task 'classical/*' --reps 2 --warmup 0 --out /results/check >&2 || rc=$?
[ "$rc" = 0 ] || [ "$rc" = 3 ] || die "mlbench run exited $rc"
csv=$(run report --format csv /results/check)
if printf '%s\n' "$csv" | grep -E '^[^,]*,[^,]*,(python-sklearn|go-gonum),' | grep -q ',failed,'; then
  printf '%s\n' "$csv" >&2
  die "a reference or go-gonum result failed inside the image"
fi
n=$(printf '%s\n' "$csv" | grep -cE '^[^,]*,[^,]*,go-gonum,.*,ok,' || true)
[ "$n" -gt 0 ] || die "no go-gonum result in the report"
printf '%s\n' "$csv" >&2
say "container check passed: build, env, list, data prepare, classical run (reference and go-gonum passed parity)"
