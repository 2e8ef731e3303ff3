#!/usr/bin/env bash
# Builds (release, offline) and runs the Rust per-call benchmark. Prints one line on stdout,
# "rust <ns_per_call>"; everything else goes to stderr. Arguments are passed on (--iterations N,
# --raw, --image BLOCKFILE CIMNAME PATH). OPENCIM_BUILD_DIR: the CMake build directory.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
export OPENCIM_BUILD_DIR=$(cd "${OPENCIM_BUILD_DIR:-$root/build}" && pwd)
export LIBCLANG_PATH=${LIBCLANG_PATH:-/usr/lib/llvm-14/lib}
cd "$here"
cargo build --release --offline -q >&2
exec cargo run --release --offline -q -- "$@"
