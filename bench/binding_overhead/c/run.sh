#!/usr/bin/env bash
# Builds and runs the C baseline of bench/binding_overhead.sh: prints "c <ns_per_call>".
# Arguments are passed on (see stat_bench.c). OPENCIM_BUILD_DIR: the build with libopencim.so.
# The program is exec'ed, so it keeps the scheduling policy the caller gave this script.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
build=$(cd "${OPENCIM_BUILD_DIR:-$root/build}" && pwd)
out=$build/bench-binding-overhead
mkdir -p "$out"
${CC:-cc} -std=c99 -O2 -Wall -Wextra -Werror -o "$out/stat_bench" "$here/stat_bench.c" \
  -I"$root/include" -L"$build" -Wl,-rpath,"$build" -lopencim
exec "$out/stat_bench" "$@"
