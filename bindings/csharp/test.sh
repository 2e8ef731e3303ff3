#!/usr/bin/env bash
# Checks the C# binding against the freshly built library:
#   1. OpenCim/Native.g.cs is what the generator makes from include/opencim/cimfs.h now;
#   2. the C compiler's struct layouts, for the layout test;
#   3. the xunit suite (dotnet test), restored offline from /opt/nuget/packages when present.
# OPENCIM_BUILD_DIR is the CMake build directory holding libopencim.so (default: <repo>/build).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=${OPENCIM_BUILD_DIR:-$root/build}
build=$(cd "$build" && pwd)
command -v dotnet >/dev/null || { echo "csharp: dotnet is not installed"; exit 1; }
[ -e "$build/libopencim.so" ] || { echo "csharp: no libopencim.so in $build (build the opencim target first)"; exit 1; }
source "$here/dotnet-env.sh"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

echo "csharp: checking that OpenCim/Native.g.cs is up to date"
"$here/regen.sh" "$tmp/Native.g.cs" "$tmp/layout.c"
if ! diff -u "$here/OpenCim/Native.g.cs" "$tmp/Native.g.cs" > "$tmp/stale.diff"; then
  head -50 "$tmp/stale.diff"
  echo "csharp: OpenCim/Native.g.cs is stale: run bindings/csharp/regen.sh and commit the result"
  echo "csharp: 0 passed, 1 failed"
  exit 1
fi

echo "csharp: measuring the C struct layouts"
${CC:-cc} -std=c99 -Wall -Wextra -Werror -I "$root/include" "$tmp/layout.c" -o "$tmp/layout"
"$tmp/layout" > "$tmp/layout.txt"

export OPENCIM_BUILD_DIR="$build" OPENCIM_C_LAYOUT="$tmp/layout.txt"
dotnet restore "$here/OpenCim.Tests" $OPENCIM_RESTORE_ARGS -v quiet
t0=$SECONDS
set +e
dotnet test "$here/OpenCim.Tests" -c Release --no-restore --logger "console;verbosity=normal" \
  --logger "trx;LogFileName=$tmp/results.trx" 2>&1 | tee "$tmp/test.log"
rc=${PIPESTATUS[0]}
set -e
echo "csharp: dotnet test took $((SECONDS - t0)) s"
# One plain summary line for CI logs, from the TRX counters.
if [ -f "$tmp/results.trx" ]; then
  passed=$(grep -o 'passed="[0-9]*"' "$tmp/results.trx" | head -1 | tr -dc 0-9)
  failed=$(grep -o 'failed="[0-9]*"' "$tmp/results.trx" | head -1 | tr -dc 0-9)
  echo "csharp: ${passed:-0} passed, ${failed:-0} failed"
  [ "${passed:-0}" -gt 0 ] || { echo "csharp: no test ran"; exit 1; }
else
  echo "csharp: 0 passed, 1 failed (no test results)"
  rc=1
fi
exit $rc
