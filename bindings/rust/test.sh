#!/usr/bin/env bash
# Runs the Rust bindings' tests (cargo test for the workspace) against a CMake build of
# libopencim. Usage: bindings/rust/test.sh [build dir]   (default: $OPENCIM_BUILD_DIR or build/)
# Extra arguments after the build dir go to cargo test (e.g. -- --nocapture).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=${1:-${OPENCIM_BUILD_DIR:-$root/build}}
[ $# -gt 0 ] && shift
build=$(cd "$build" && pwd)
if [ ! -e "$build/libopencim.so" ]; then
  echo "test.sh: $build/libopencim.so missing; build it: make -C $build opencim" >&2
  exit 1
fi
export OPENCIM_BUILD_DIR=$build
export LD_LIBRARY_PATH=$build${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
# bindgen loads libclang at build time; Debian puts it here.
if [ -z "${LIBCLANG_PATH:-}" ] && [ -e /usr/lib/llvm-14/lib/libclang.so ]; then
  export LIBCLANG_PATH=/usr/lib/llvm-14/lib
fi
cd "$here"
cargo test --offline --workspace "$@"
