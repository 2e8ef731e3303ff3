#!/usr/bin/env bash
# Builds the C sample against include/ and $OPENCIM_BUILD_DIR/libopencim.so, runs it in a
# scratch directory and checks its output.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=$(cd "${OPENCIM_BUILD_DIR:-$root/build}" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

${CC:-cc} -std=c99 -Wall -Wextra -Werror -pedantic -o "$work/layers" "$here/layers.c" \
  -I"$root/include" -L"$build" -Wl,-rpath,"$build" -lopencim
mkdir "$work/images"
"$work/layers" "$work/images" | tee "$work/out"

expect() {  # expect REGEX: the output must contain a line matching it
  grep -Eq -- "$1" "$work/out" || { echo "samples/c: missing output line /$1/" >&2; exit 1; }
}
expect '^listing /: etc/ hello\.txt new\.txt$'
expect '^merged hello\.txt \(25 bytes\): hello from the base layer$'
expect '^merged etc/config \(11 bytes\): setting=top$'
expect '^merged new\.txt .*: added by the top layer$'
expect '^merged old\.txt: 0x80070002 '
expect '^sealed verified\.bcim, root hash [0-9a-f]{64}$'
expect '^verified app\.bin .*: integrity-protected content$'
expect '^wrong root hash: 0x80070143 \(.*integrity violation'
echo "samples/c: ok"
