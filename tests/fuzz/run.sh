#!/usr/bin/env bash
# Bounded libFuzzer runs under ASan+UBSan: builds the targets with clang, generates fresh seeds
# (make_fuzz_seeds), then fuzzes each target for SECONDS (default 60), FUZZ_JOBS targets at a time
# (default: the number of CPUs), so `run.sh 60` costs 6 targets x 60 s / 2 cores = 3 minutes of
# fuzzing plus the build. Usage: run.sh [SECONDS] [TARGET...]
# Prints one line per target ("<target>: <execs> execs in <s> s, ...") and fails on any crash,
# leak, timeout or OOM; the offending input is kept in $FUZZ_ARTIFACTS (default build-fuzz/artifacts)
# — copy it into tests/fuzz/corpus/<target>/ to make it a regression input once fixed.
# Environment: FUZZ_BUILD_DIR (default <repo>/build-fuzz), FUZZ_JOBS, FUZZ_KEEP_CORPUS=1 keeps the
# grown corpus in $FUZZ_BUILD_DIR/corpus/<target> across runs.
set -euo pipefail
secs=${1:-60}
shift || true
root=$(cd "$(dirname "$0")/../.." && pwd)
b=${FUZZ_BUILD_DIR:-$root/build-fuzz}
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(fuzz_image fuzz_names fuzz_ea fuzz_posix fuzz_block fuzz_tar)
jobs=${FUZZ_JOBS:-$(nproc)}
artifacts=${FUZZ_ARTIFACTS:-$b/artifacts}

CC=clang CXX=clang++ cmake -S "$root" -B "$b" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DOPENCIM_FUZZ=ON -DOPENCIM_TESTS=OFF \
  -DOPENCIM_SANITIZE=address >/dev/null
cmake --build "$b" -j"$(nproc)" --target make_fuzz_seeds "${targets[@]}" >/dev/null
seeds=$b/seeds
rm -rf "$seeds"
"$b/tests/fuzz/make_fuzz_seeds" "$seeds"
mkdir -p "$artifacts"

fuzz_one() {  # fuzz_one TARGET -> writes $b/logs/TARGET.log and a summary line
  local t=$1 work corpus log
  log=$b/logs/$t.log
  if [ "${FUZZ_KEEP_CORPUS:-0}" = 1 ]; then corpus=$b/corpus/$t; mkdir -p "$corpus"; else corpus=$(mktemp -d); fi
  mkdir -p "$root/tests/fuzz/corpus/$t" "$seeds/$t"
  local maxlen=262144
  [ "$t" != fuzz_block ] || maxlen=600000  # merged seeds hold three containers
  # -timeout: one input may take at most 25 s (imports of 64 MiB bombs under ASan stay well below).
  ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
    "$b/tests/fuzz/$t" -max_total_time="$secs" -max_len=$maxlen -rss_limit_mb=2048 -timeout=25 -print_final_stats=1 \
    -artifact_prefix="$artifacts/$t-" "$corpus" "$root/tests/fuzz/corpus/$t" "$seeds/$t" >"$log" 2>&1 || true
  local execs runs_s cov
  execs=$(grep -E '^stat::number_of_executed_units' "$log" | awk '{print $2}' | tail -1)
  runs_s=$(grep -E '^stat::average_exec_per_sec' "$log" | awk '{print $2}' | tail -1)
  cov=$(grep -oE 'cov: [0-9]+' "$log" | tail -1 | awk '{print $2}')
  echo "$t: ${execs:-0} execs in ${secs} s (${runs_s:-0}/s), coverage ${cov:-0} edges, corpus $(ls "$corpus" | wc -l) inputs"
  [ "${FUZZ_KEEP_CORPUS:-0}" = 1 ] || rm -rf "$corpus"
}
mkdir -p "$b/logs"
rm -f "$artifacts"/{crash,leak,oom,timeout}-* 2>/dev/null || true
for ((i = 0; i < ${#targets[@]}; i += jobs)); do
  for t in "${targets[@]:i:jobs}"; do
    echo "fuzzing $t for ${secs}s" >&2
    fuzz_one "$t" &
  done
  wait
done
failed=0
for t in "${targets[@]}"; do
  found=$(ls "$artifacts/$t-"{crash,leak,oom,timeout}-* 2>/dev/null || true)
  if [ -n "$found" ]; then
    failed=1
    echo "fuzz target $t found a failure: $found"
    grep -E "ERROR|SUMMARY|invariant|property" "$b/logs/$t.log" | head -5
  fi
done
exit $failed
