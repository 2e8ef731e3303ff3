#!/usr/bin/env bash
# Per-call overhead of one small operation, CimStatPath on one path, from C and through each
# language binding. Prints ns/call and the ratio to C. Not a pass/fail test.
#   bench/binding_overhead.sh [ITERATIONS=1000000] [ROUNDS=3]
# OPENCIM_BUILD_DIR: the CMake build with libopencim.so (default <repo>/build).
#
# Every language is a hook, bench/binding_overhead/<lang>/run.sh, taking
#   --iterations N [--raw] --image BLOCKFILE CIMNAME PATH
# and printing "<lang> <ns_per_call>" on stdout (diagnostics on stderr). "binding" is the call
# an application makes (Reader.Stat, reader.stat, CimReader.Stat); --raw is the bare FFI call
# with the path prepared once. A language whose run.sh is missing or fails is reported as
# unavailable. All languages stat the same image; the rounds are interleaved and the best of
# each is kept, which damps the noise of a shared machine.
#
# Real-time mode (default when running as root and chrt works; OPENCIM_BENCH_RT=0 turns it off):
# each hook runs under `chrt -R -f 10` (SCHED_FIFO, reset on fork). Builds, which the hooks fork,
# run at normal priority; the measurement program, which a hook execs, keeps SCHED_FIFO and is
# not preempted by other work on a busy machine (the kernel still reserves 5% of each CPU).
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
export OPENCIM_BUILD_DIR=$(cd "${OPENCIM_BUILD_DIR:-$root/build}" && pwd)
iterations=${1:-1000000}
rounds=${2:-3}
here=$root/bench/binding_overhead
langs=(c go rust csharp)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

cc -std=c99 -O2 -o "$work/stat_bench" "$here/c/stat_bench.c" -I"$root/include" \
  -L"$OPENCIM_BUILD_DIR" -Wl,-rpath,"$OPENCIM_BUILD_DIR" -lopencim || exit 1
"$work/stat_bench" --create "$work/bench.bcim" || exit 1
image=(--image "$work/bench.bcim" layer.cim dir/file)

rt=()
if [ "${OPENCIM_BENCH_RT:-1}" != 0 ] && chrt -R -f 10 true 2>/dev/null; then rt=(chrt -R -f 10); fi

declare -A best
record() {  # record KEY OUTPUT: keep the smallest "<lang> <ns>" value
  local ns
  ns=$(awk 'NF == 2 && $2 ~ /^[0-9.]+$/ { v = $2 } END { print v }' <<<"$2")
  [ -n "$ns" ] || return 1
  if [ -z "${best[$1]:-}" ] || awk -v a="$ns" -v b="${best[$1]}" 'BEGIN { exit !(a < b) }'; then best[$1]=$ns; fi
}
for round in $(seq 1 "$rounds"); do
  for lang in "${langs[@]}"; do
    hook=$here/$lang/run.sh
    [ -f "$hook" ] || continue
    for mode in binding raw; do
      [ "$lang" = c ] && [ "$mode" = raw ] && continue
      args=(--iterations "$iterations" "${image[@]}")
      [ "$mode" = raw ] && args+=(--raw)
      if out=$("${rt[@]}" bash "$hook" "${args[@]}" 2>"$work/$lang.$mode.err"); then
        record "$lang.$mode" "$out" || echo "$lang $mode: no result line in: $out" >&2
      else
        echo "$lang $mode (round $round) failed: $(tail -3 "$work/$lang.$mode.err")" >&2
      fi
    done
  done
done

c=${best[c.binding]:-}
[ -n "$c" ] || { echo "the C baseline failed" >&2; exit 1; }
echo "CimStatPath(\"dir/file\") per call, best of $rounds rounds of $iterations calls; $(nproc) CPUs, $(uname -m);" \
  "$([ ${#rt[@]} -gt 0 ] && echo "SCHED_FIFO" || echo "normal priority"), load $(cut -d' ' -f1 /proc/loadavg)"
printf '%-8s %14s %9s %14s %9s\n' language "binding ns" "x C" "raw FFI ns" "x C"
for lang in "${langs[@]}"; do
  b=${best[$lang.binding]:-} r=${best[$lang.raw]:-}
  if [ -z "$b" ] && [ -z "$r" ]; then
    printf '%-8s %s\n' "$lang" "unavailable (no $lang/run.sh or it failed)"
    continue
  fi
  ratio() { [ -n "$1" ] && awk -v x="$1" -v c="$c" 'BEGIN { printf "%.2f", x / c }' || echo -; }
  [ "$lang" = c ] && r=$b
  printf '%-8s %14s %9s %14s %9s\n' "$lang" "${b:--}" "$(ratio "$b")" "${r:--}" "$(ratio "$r")"
done
