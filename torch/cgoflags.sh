#!/usr/bin/env bash
# Deprecated: package torch's #cgo directives now carry the flags; this only
# makes the .libtorch link (see libtorch.sh) and prints no exports.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
bash "$here/libtorch.sh" "${1:?usage: cgoflags.sh PYTHON}" "$here/.." >/dev/null
