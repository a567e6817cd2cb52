#!/usr/bin/env bash
# The whole test suite from a fresh clone: installs what is missing, builds,
# runs lit (FileCheck tests and the GoogleTest binaries) and then ctest. Exits
# non-zero if anything fails; the last line is ctest's summary.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${HYBRID_BUILD_DIR:-$root/build}"

"$root/scripts/setup.sh"
"$root/scripts/build.sh"

status=0
echo "== lit =="
/usr/lib/llvm-22/bin/lit -sv "$build/test" || status=1
echo "== ctest =="
(cd "$build" && ctest --output-on-failure -j2) || status=1
exit $status
