#!/usr/bin/env bash
# Builds the Go sample (its go.mod replaces the binding with ../../bindings/go) against
# $OPENCIM_BUILD_DIR/libopencim.so, runs it in a scratch directory and checks its output.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=$(cd "${OPENCIM_BUILD_DIR:-$root/build}" && pwd)
command -v go >/dev/null || { echo "samples/go: go is not installed (apt-get install golang-go)" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

export CGO_ENABLED=1 GOPROXY=off GOFLAGS= GOTOOLCHAIN=local
export CGO_LDFLAGS="-L$build -Wl,-rpath,$build"
[ -w "$(dirname "$(go env GOCACHE)")" ] || export GOCACHE="$build/go-cache"
(cd "$here" && go vet ./... && go build -o "$work/layers" .)
mkdir "$work/images"
"$work/layers" "$work/images" | tee "$work/out"

expect() {  # expect REGEX: the output must contain a line matching it
  grep -Eq -- "$1" "$work/out" || { echo "samples/go: missing output line /$1/" >&2; exit 1; }
}
expect '^listing /: etc/ hello\.txt new\.txt$'
expect '^merged hello\.txt \(25 bytes\): hello from the base layer$'
expect '^merged etc/config \(11 bytes\): setting=top$'
expect '^merged new\.txt .*: added by the top layer$'
expect '^merged old\.txt: not exist=true, .*0x80070002'
expect '^sealed verified\.bcim, root hash [0-9a-f]{64}$'
expect '^verified app\.bin .*: integrity-protected content$'
expect '^wrong root hash: integrity violation=true, .*integrity violation'
echo "samples/go: ok"
