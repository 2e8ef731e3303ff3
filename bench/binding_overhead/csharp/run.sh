#!/usr/bin/env bash
# Builds (Release, offline restore) and runs the C# per-call benchmark. Prints one line on
# stdout, "csharp <ns_per_call>"; everything else goes to stderr. Arguments are passed on
# (see Program.cs: --iterations N, --raw, --image BLOCKFILE CIMNAME PATH).
# OPENCIM_BUILD_DIR: the CMake build directory holding libopencim.so (default: <repo>/build).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
export OPENCIM_BUILD_DIR=$(cd "${OPENCIM_BUILD_DIR:-$root/build}" && pwd)
source "$root/bindings/csharp/dotnet-env.sh"
dll=$here/bin/Release/net10.0/StatBench.dll
# The benchmark script calls this hook once per round and mode: build only when a source
# (of the benchmark or of the binding) is newer than the built program.
if [ ! -f "$dll" ] || [ -n "$(find "$here" "$root/bindings/csharp/OpenCim" \( -name '*.cs' -o -name '*.csproj' \) \
      -not -path '*/obj/*' -not -path '*/bin/*' -newer "$dll" -print -quit)" ]; then
  dotnet build "$here" -c Release $OPENCIM_RESTORE_ARGS -v quiet -nologo >&2
fi
exec dotnet "$dll" "$@"
