#!/usr/bin/env bash
# The main job: installs what is missing, builds, then runs hybrid-opt over
# the example Jamba-style layer stack in examples/ (parse, verify, print).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${HYBRID_BUILD_DIR:-$root/build}"

"$root/scripts/setup.sh"
"$root/scripts/build.sh" --target hybrid-opt
"$build/bin/hybrid-opt" "$root/examples/jamba_layers.mlir" "$@"
