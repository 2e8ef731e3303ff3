#!/usr/bin/env bash
# Bounded libFuzzer runs under ASan+UBSan: builds the targets with clang, refreshes the generated
# seeds, then fuzzes each target for $1 seconds (default 60). New crashes fail the run; copy the
# crash file into tests/fuzz/corpus/<target>/ to make it a regression input.
set -euo pipefail
secs=${1:-60}
root=$(cd "$(dirname "$0")/../.." && pwd)
b=$root/build-fuzz
CC=clang CXX=clang++ cmake -S "$root" -B "$b" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DOPENCIM_FUZZ=ON -DOPENCIM_TESTS=OFF \
  -DOPENCIM_SANITIZE=address >/dev/null
cmake --build "$b" -j"$(nproc)" --target fuzz_image make_fuzz_seeds >/dev/null
for t in fuzz_image; do
  corpus=$root/tests/fuzz/corpus/$t
  work=$(mktemp -d)
  "$b/tests/fuzz/make_fuzz_seeds" "$work/seeds" >/dev/null
  mkdir -p "$work/corpus"
  echo "fuzzing $t for ${secs}s"
  "$b/tests/fuzz/$t" -max_total_time="$secs" -max_len=262144 -rss_limit_mb=2048 -print_final_stats=1 \
    -artifact_prefix="$work/" "$work/corpus" "$corpus" "$work/seeds" 2>&1 | grep -E "stat::|Done|ERROR|SUMMARY" || true
  if ls "$work"/crash-* "$work"/leak-* "$work"/oom-* >/dev/null 2>&1; then
    echo "fuzz target $t found a failure: $(ls "$work"/crash-* "$work"/leak-* "$work"/oom-* 2>/dev/null)"; exit 1
  fi
  rm -rf "$work"
done
