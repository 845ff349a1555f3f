#!/usr/bin/env bash
# Builds libtokenizers.a (the Rust half of github.com/daulet/tokenizers) for
# the version of that module go.mod requires, and prints the directory that
# holds it, for CGO_LDFLAGS="-L<dir>":
#
#   export CGO_LDFLAGS="-L$(bash third_party/libtokenizers.sh)"
#   go build -tags tokenizers ./...
#
# The library is cached in $MLBENCH_CACHE (default ~/.cache/mlbench)/
# libtokenizers-<module version>/; with the library there the script returns
# at once. The build copies the module's own Rust sources out of the Go module
# cache (read-only there) and replaces its one git dependency, tiktoken-rs
# (a fork on GitHub), by the crates.io release below, so it needs crates.io
# but no GitHub. Progress goes to stderr; only the directory goes to stdout.
set -euo pipefail

# tiktoken-rs 0.9.1 keeps the API the fork had: CoreBPE::new over FxHashMap
# (rustc-hash 1.1) and encode() returning (Vec<Rank>, usize).
TIKTOKEN_VERSION=0.9.1
MODULE=github.com/daulet/tokenizers

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export PATH="$HOME/.cargo/bin:/usr/local/go/bin:$PATH"
die() { printf 'libtokenizers.sh: %s\n' "$*" >&2; exit 1; }

version=${TOKENIZERS_VERSION:-$(cd "$ROOT" && go list -m -f '{{.Version}}' "$MODULE" 2>/dev/null)} ||
  die "cannot find $MODULE in go.mod"
[ -n "$version" ] || die "cannot find $MODULE in go.mod"
out="${MLBENCH_CACHE:-$HOME/.cache/mlbench}/libtokenizers-$version"
if [ -f "$out/libtokenizers.a" ]; then
  echo "$out"
  exit 0
fi

command -v cargo >/dev/null || die "cargo not found: install Rust (rustup)"
src=$(cd "$ROOT" && go mod download -json "$MODULE@$version" |
  sed -n 's/^[[:space:]]*"Dir": "\(.*\)",*$/\1/p')
[ -n "$src" ] && [ -f "$src/Cargo.toml" ] || die "no Cargo.toml in the module source of $MODULE@$version"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cp -r "$src/Cargo.toml" "$src/Cargo.lock" "$src/src" "$tmp/"
chmod -R u+w "$tmp"
# Drop the benches (their dev-dependencies are not needed for the library)
# and swap the git dependency for crates.io.
sed -i -e '/^\[\[bench\]\]/,$d' \
  -e "s|^tiktoken-rs *=.*|tiktoken-rs = \"=$TIKTOKEN_VERSION\"|" "$tmp/Cargo.toml"
grep -q "^tiktoken-rs = \"=$TIKTOKEN_VERSION\"" "$tmp/Cargo.toml" ||
  die "could not rewrite the tiktoken-rs dependency in Cargo.toml"

printf '==> libtokenizers %s: cargo build --release (first time: several minutes)\n' "$version" >&2
(cd "$tmp" && CARGO_TARGET_DIR="$tmp/target" cargo build --release --lib -j "${JOBS:-2}" --quiet >&2) ||
  die "cargo build failed"
mkdir -p "$out"
cp "$tmp/target/release/libtokenizers.a" "$out/libtokenizers.a.tmp"
mv "$out/libtokenizers.a.tmp" "$out/libtokenizers.a"
echo "$out"
