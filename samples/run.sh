#!/usr/bin/env bash
# Builds and runs every sample (samples/<language>/run.sh) against the freshly built library and
# checks its output. OPENCIM_BUILD_DIR points at the CMake build directory.
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
export OPENCIM_BUILD_DIR=${OPENCIM_BUILD_DIR:-$root/build}
ok=0 bad=0
for s in "$root"/samples/*/run.sh; do
  name=$(basename "$(dirname "$s")")
  echo "--- sample $name"
  if bash "$s"; then ok=$((ok + 1)); else bad=$((bad + 1)); echo "sample $name FAILED"; fi
done
echo "samples: $ok passed, $bad failed"
[ $bad -eq 0 ]
