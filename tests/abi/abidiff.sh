#!/usr/bin/env bash
# Fails when libopencim.so changed its ABI incompatibly against the baseline abi/libopencim.abi
# (abidw output of the last release). Added functions are fine; removed or changed ones are not,
# unless the baseline is regenerated together with a SONAME/version bump:
#   abidw --headers-dir include/opencim --drop-private-types --exported-interfaces-only \
#         --no-show-locs --no-corpus-path --no-comp-dir-path build/libopencim.so > abi/libopencim.abi
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${OPENCIM_BUILD_DIR:-$root/build}
lib=$(readlink -f "$build/libopencim.so")
baseline=$root/abi/libopencim.abi
command -v abidiff >/dev/null || { echo "abidiff (abigail-tools) is not installed"; exit 1; }
[ -f "$baseline" ] || { echo "no baseline $baseline"; exit 1; }
set +e
abidiff --no-added-syms --headers-dir2 "$root/include/opencim" \
  --suppressions "$root/abi/suppressions.abignore" "$baseline" "$lib"
rc=$?
set -e
# abidiff exit bits: 1 error, 2 usage, 4 ABI change, 8 incompatible change.
if (( rc & 8 )); then echo "incompatible ABI change against $baseline"; exit 1; fi
if (( rc & 3 )); then echo "abidiff failed ($rc)"; exit 1; fi
echo "ABI compatible with $(basename "$baseline")"
