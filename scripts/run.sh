#!/usr/bin/env bash
# The main job: installs what is missing, builds, then compiles the default
# model (the Jamba-style preset, no input file needed) to hybrid IR, checks
# that hybrid-opt verifies it, and describes it. Extra arguments go to
# hybrid-compile (e.g. --set backbone=gru, or a spec file).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${HYBRID_BUILD_DIR:-$root/build}"

"$root/scripts/setup.sh"
"$root/scripts/build.sh" --target hybrid-compile hybrid-opt

model=(--preset=jamba --set embed_dim=256 "$@")
out="$build/jamba.mlir"
"$build/bin/hybrid-compile" "${model[@]}" -o "$out"
"$build/bin/hybrid-opt" "$out" -o /dev/null
echo "== hybrid IR: $out ($(grep -c '' "$out") lines, verified by hybrid-opt)"
grep -oE '(= |^ +)hybrid\.[a-z_0-9]+' "$out" | sed 's/.*hybrid/hybrid/' | sort | uniq -c
echo "== model"
"$build/bin/hybrid-compile" "${model[@]}" --describe
