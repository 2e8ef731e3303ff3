#!/usr/bin/env bash
# Time from `rootfs mount` to the first file read, 10 layers x 100,000 entries, merge included and
# cached.   bench/rootfs_bench.sh [BUILD_DIR=build]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build}
cmake --build "$build" --target rootfs_bench -j"$(nproc)" >/dev/null
work=$(mktemp -d /var/tmp/opencim-rootfs-bench-XXXXXX)
trap 'rm -rf "$work"' EXIT
"$build/bench/rootfs_bench" "$work" 10 100000
