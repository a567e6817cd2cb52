#!/usr/bin/env bash
# Configures (once) and builds Hybrid in ./build with clang-22, lld and Ninja
# (ccache when present). Extra arguments are passed to `cmake --build`.
#
#   scripts/build.sh             ./build (Release), what README's test uses
#   scripts/build.sh --sanitize  ./build-sanitize: ASan + UBSan (fatal) and
#                                libFuzzer coverage, plus the fuzz targets
#                                (test/Fuzz; docs/Testing.md, "Sanitizers")
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${HYBRID_BUILD_DIR:-$root/build}"
extra=()
if [ "${1:-}" = "--sanitize" ]; then
  shift
  build="${HYBRID_SANITIZE_BUILD_DIR:-$root/build-sanitize}"
  # -O1 with line tables: readable sanitizer stacks, half the compile time
  # of -O2 -g.
  extra=(-DCMAKE_BUILD_TYPE=RelWithDebInfo
         "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O1 -gline-tables-only -DNDEBUG"
         "-DCMAKE_C_FLAGS_RELWITHDEBINFO=-O1 -gline-tables-only -DNDEBUG"
         "-DHYBRID_SANITIZE=address;undefined" -DHYBRID_FUZZERS=ON)
fi

if [ ! -f "$build/build.ninja" ]; then
  launcher=()
  if command -v ccache >/dev/null; then
    launcher=(-DCMAKE_C_COMPILER_LAUNCHER=ccache -DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
  fi
  cmake -G Ninja -S "$root" -B "$build" \
    -DCMAKE_BUILD_TYPE=Release \
    -DMLIR_DIR=/usr/lib/llvm-22/lib/cmake/mlir \
    -DCMAKE_C_COMPILER=clang-22 -DCMAKE_CXX_COMPILER=clang++-22 \
    -DCMAKE_EXE_LINKER_FLAGS=-fuse-ld=lld \
    -DCMAKE_SHARED_LINKER_FLAGS=-fuse-ld=lld \
    -DCMAKE_MODULE_LINKER_FLAGS=-fuse-ld=lld \
    "${launcher[@]}" "${extra[@]}" >/dev/null
fi
cmake --build "$build" "$@"
