#!/usr/bin/env bash
# The whole test suite under AddressSanitizer + UndefinedBehaviorSanitizer:
# builds ./build-sanitize (scripts/build.sh --sanitize) and runs ctest there.
# The pipeline-variant re-runs of the op and model tests (the same cases
# through other tilings, already run by ./scripts/test.sh) are skipped:
# instrumented, they double the time and add no new surface. The
# scalar-loops variant stays: it is the memref forms' own code path. Extra
# arguments go to ctest. docs/Testing.md, "Sanitizers".
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${HYBRID_SANITIZE_BUILD_DIR:-$root/build-sanitize}"

"$root/scripts/setup.sh"
"$root/scripts/build.sh" --sanitize

cd "$build"
ctest --output-on-failure -j2 \
  -E '^Hybrid(Lowering|Model)Tests\.(untiled|unfused-untiled|ragged-tiles-chunked|unit-tiles-chunked|scalar-loops-tiled-chunked)$' \
  "$@"
