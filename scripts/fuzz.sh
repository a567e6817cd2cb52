#!/usr/bin/env bash
# Runs every libFuzzer target of test/Fuzz for a bounded time (default 60 s
# each), under ASan + UBSan, from the seed corpora in test/Fuzz/corpus
# (copied: the repository's corpora are not written). Builds
# ./build-sanitize first (scripts/build.sh --sanitize). Exits non-zero when a
# target finds anything; the reproducer is left in $HYBRID_FUZZ_DIR
# (default build-sanitize/fuzz/<target>/) as crash-*, leak-* or timeout-*:
# add it to the target's corpus (and a regression test) once fixed.
#
#   scripts/fuzz.sh [seconds] [target...]
#   targets: spec ir safetensors runtime (default: all)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${HYBRID_SANITIZE_BUILD_DIR:-$root/build-sanitize}"
seconds="${1:-60}"
shift || true
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=(spec ir safetensors runtime)

"$root/scripts/setup.sh"
"$root/scripts/build.sh" --sanitize --target hybrid-fuzzers

# Debian's LLVM is uninstrumented: its allocators poison memory ASan would
# then report (docs/Testing.md, "Sanitizers").
# Allocation failure is part of what is tested: malloc returns null, as
# without ASan.
export ASAN_OPTIONS="allow_user_poisoning=0:allocator_may_return_null=1:detect_leaks=1:${ASAN_OPTIONS:-}"
export UBSAN_OPTIONS="print_stacktrace=1:${UBSAN_OPTIONS:-}"
work="${HYBRID_FUZZ_DIR:-$build/fuzz}"
status=0
for t in "${targets[@]}"; do
  dir="$work/$t"
  rm -rf "$dir" && mkdir -p "$dir/corpus"
  cp "$root/test/Fuzz/corpus/$t/"* "$dir/corpus/"
  # Per-input limits: 20 s (the IR target runs the whole CPU pipeline) and
  # 2 GiB; inputs up to 8 KiB. Text targets get a dictionary of their
  # syntax (test/Fuzz/<target>.dict).
  dict=()
  [ -f "$root/test/Fuzz/$t.dict" ] && dict=(-dict="$root/test/Fuzz/$t.dict")
  if (cd "$dir" && "$build/bin/hybrid-fuzz-$t" corpus "${dict[@]}" \
        -max_total_time="$seconds" -timeout=20 -rss_limit_mb=2048 \
        -max_len=8192 -print_final_stats=1 >"$dir/log.txt" 2>&1); then
    echo "fuzz $t: $(grep -m1 -o 'stat::number_of_executed_units: *[0-9]*' "$dir/log.txt" | grep -o '[0-9]*$') runs in ${seconds} s, no finding"
  else
    echo "fuzz $t: FINDING (log and reproducer in $dir)"
    tail -n 40 "$dir/log.txt"
    status=1
  fi
done
exit $status
