#!/usr/bin/env bash
# The main job: installs what is missing, builds, then compiles the default
# model (the Jamba-style preset, no input file needed) for this CPU and runs
# it with hybrid-run: seeded random weights and input, the reference-model
# check, and timing. Extra arguments go to hybrid-run (e.g. --set
# backbone=gru, --batch 4, --seq-len 1024, or a spec file).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${HYBRID_BUILD_DIR:-$root/build}"

"$root/scripts/setup.sh"
"$root/scripts/build.sh" --target hybrid-compile hybrid-run

model=(--preset=jamba --set embed_dim=256)
echo "== the model"
"$build/bin/hybrid-compile" "${model[@]}" --describe | head -9
echo "== compile for this CPU, run, check against the reference, time"
"$build/bin/hybrid-run" "${model[@]}" --batch 1 --seq-len 256 --check --bench 5 "$@"
