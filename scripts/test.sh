#!/usr/bin/env bash
# The whole test suite from a fresh clone: installs what is missing, builds,
# then runs ctest: every GoogleTest case, and the lit suite (FileCheck tests)
# as one test. Exits non-zero if anything fails; the last line is ctest's
# summary. (`cmake --build build --target check-hybrid` runs everything
# through lit instead.)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${HYBRID_BUILD_DIR:-$root/build}"

"$root/scripts/setup.sh"
"$root/scripts/build.sh"

cd "$build"
ctest --output-on-failure -j2
