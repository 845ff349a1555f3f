#!/usr/bin/env bash
# Installs a `nextflow` launcher at $1 that runs Nextflow 24.10.0 from its
# Maven Central jars (third_party/nextflow/pom.xml), fetched once with mvn
# into $MLBENCH_CACHE/nextflow-<hash of the pom>/lib. Only the pipeline
# (main.nf) needs it. On failure it prints one line and exits 1.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
pom="$here/nextflow/pom.xml"
dest=${1:?usage: nextflow.sh DEST}
cache=${MLBENCH_CACHE:-$HOME/.cache/mlbench}

fail() { printf 'nextflow: %s\n' "$*" >&2; exit 1; }

command -v java >/dev/null 2>&1 || fail "java not found: install Java 17 or newer (Debian: openjdk-17-jre-headless)"
ver=$(java -XshowSettings:properties -version 2>&1 | awk -F'= ' '/java.specification.version/ {print $2}')
[ "${ver%%.*}" -ge 17 ] 2>/dev/null || fail "java ${ver:-of unknown version} found, Nextflow 24.10 needs Java 17 or newer"

dir="$cache/nextflow-$(sha256sum "$pom" | cut -c1-16)"
if [ ! -f "$dir/.complete" ]; then
  command -v mvn >/dev/null 2>&1 || fail "mvn not found: install Maven (Debian: maven) to fetch Nextflow from Maven Central"
  printf '==> Nextflow 24.10.0: fetching its jars with mvn into %s\n' "$dir" >&2
  rm -rf "$dir"
  mkdir -p "$dir"
  cp "$pom" "$dir/pom.xml"
  if ! (cd "$dir" && mvn -q -B dependency:copy-dependencies -DoutputDirectory=lib >mvn.log 2>&1); then
    msg=$(grep -m1 -E 'ERROR' "$dir/mvn.log" | cut -c1-200)
    rm -rf "$dir"
    fail "mvn could not fetch io.nextflow:nextflow:24.10.0: ${msg:-see mvn output}"
  fi
  touch "$dir/.complete"
fi

mkdir -p "$(dirname "$dest")"
tmp="$dest.tmp.$$"
cat >"$tmp" <<EOF
#!/bin/sh
# Nextflow 24.10.0 from Maven Central, installed by third_party/nextflow.sh.
# Offline by default: its local and slurm executors need no plugin.
NXF_OFFLINE=\${NXF_OFFLINE:-true}
export NXF_OFFLINE
# The JVM options of Nextflow's own launcher script: without the --add-opens
# its task cache (Kryo) cannot serialise, silently, and -resume finds nothing.
# C1 only (TieredStopAtLevel=1): Nextflow mostly waits for its jobs, and
# this halves its start-up CPU (measured on 2 cores: 12-14 s -> 5.5-6 s of
# user time for a two-task pipeline). NXF_OPTS comes last and may override.
exec java -Dfile.encoding=UTF-8 -Djava.awt.headless=true -XX:+TieredCompilation -XX:TieredStopAtLevel=1 \\
  $(for p in java.lang java.io java.nio java.net java.util java.util.concurrent.locks java.util.concurrent.atomic \
    java.nio.file.spi sun.nio.ch sun.nio.fs sun.net.www.protocol.http sun.net.www.protocol.https \
    sun.net.www.protocol.ftp sun.net.www.protocol.file jdk.internal.misc jdk.internal.vm java.util.regex; do
    printf -- '--add-opens=java.base/%s=ALL-UNNAMED ' "$p"; done) \\
  \${NXF_OPTS:-} -cp '$dir/lib/*' nextflow.cli.Launcher "\$@"
EOF
chmod 0755 "$tmp"
mv "$tmp" "$dest"
