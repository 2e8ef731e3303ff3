#!/usr/bin/env bash
# Builds and runs the Rust sample against the library in $OPENCIM_BUILD_DIR and checks its output.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
export OPENCIM_BUILD_DIR=$(cd "${OPENCIM_BUILD_DIR:-$root/build}" && pwd)
export LD_LIBRARY_PATH=$OPENCIM_BUILD_DIR${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
if [ -z "${LIBCLANG_PATH:-}" ] && [ -e /usr/lib/llvm-14/lib/libclang.so ]; then
  export LIBCLANG_PATH=/usr/lib/llvm-14/lib
fi
cd "$here"
cargo build --offline --quiet
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
out=$(./target/debug/opencim-sample "$work")
echo "$out"
check() {
  if ! grep -qE -- "$1" <<<"$out"; then
    echo "samples/rust: expected output matching: $1" >&2
    exit 1
  fi
}
check '^merged Files/config.ini \(9 bytes\): version=2$'
check '^merged Files/hello.txt \(25 bytes\): hello from the base layer$'
check '^merged Files/new.txt \(19 bytes\): added by the update$'
check '^obsolete.txt visible: false$'
check '^sealed .*verified.bcim root hash [0-9a-f]{64}$'
check '^verified read: integrity-protected data$'
check '^wrong hash rejected: InvalidData 0x80070143: .*integrity violation'
if grep -q 'obsolete.txt (' <<<"$out"; then
  echo "samples/rust: the tombstoned file is listed" >&2
  exit 1
fi
echo "samples/rust: ok"
