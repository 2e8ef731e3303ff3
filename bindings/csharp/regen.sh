#!/usr/bin/env bash
# Regenerates OpenCim/Native.g.cs from include/opencim/cimfs.h.
#   regen.sh                 rewrite the committed file
#   regen.sh OUT [LAYOUT_C]  write to OUT instead (test.sh uses this to detect a stale file),
#                            and optionally the C layout program to LAYOUT_C
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
out=${1:-$here/OpenCim/Native.g.cs}
extra=()
[ $# -ge 2 ] && extra=(--layout-c "$2")
source "$here/dotnet-env.sh"
dotnet build "$here/generator" -c Release -v quiet -nologo $OPENCIM_RESTORE_ARGS >/dev/null ||
  { dotnet build "$here/generator" -c Release -nologo $OPENCIM_RESTORE_ARGS; exit 1; }
dotnet "$here/generator/bin/Release/net10.0/OpenCim.Generator.dll" "$root/include/opencim/cimfs.h" "$out" "${extra[@]}"
