#!/usr/bin/env bash
# Runs the Go binding's checks against an existing build: go vet, then go test with strict cgo
# pointer checking. Builds nothing in C: OPENCIM_BUILD_DIR must hold libopencim.so.
#   OPENCIM_BUILD_DIR=/path/to/build bindings/go/test.sh [go test args...]
# Standard library only: no module downloads (GOPROXY=off, GOFLAGS=-mod=mod is not needed).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=${OPENCIM_BUILD_DIR:-$root/build}
build=$(cd "$build" && pwd)
if [ ! -e "$build/libopencim.so" ]; then
  echo "bindings/go/test.sh: no libopencim.so in $build (set OPENCIM_BUILD_DIR)" >&2
  exit 1
fi
command -v go >/dev/null || { echo "bindings/go/test.sh: go is not installed (apt-get install golang-go)" >&2; exit 1; }

export CGO_ENABLED=1
export CGO_LDFLAGS="-L$build -Wl,-rpath,$build"
export GOPROXY=off GOFLAGS= GOTOOLCHAIN=local
# Strict cgo pointer checks (a GODEBUG setting in Go 1.19; GOEXPERIMENT=cgocheck2 in 1.21+).
export GODEBUG=cgocheck=2
# Keep the Go caches out of $HOME when it is not writable (CI).
export GOCACHE=${GOCACHE:-$(go env GOCACHE)}
[ -w "$(dirname "$GOCACHE")" ] || export GOCACHE="$build/go-cache"

cd "$here"
echo "go: $(go version)"
go vet ./...
go test -count=1 "$@" ./...
# The concurrency tests again under the race detector (the binding's own state: atomic reader
# handles, writer and file locks).
if go env GOROOT >/dev/null && [ -d "$(go env GOROOT)/src/runtime/race" ]; then
  go test -race -count=1 -run 'Concurrent|CloseWhileReading|MessageIsRead|Finalizers|HandleMisuse' ./...
fi
# The installed layout: the module copied out of the repository (so ${SRCDIR}/../../include does
# not exist), the header and opencim.pc in a prefix, linked through pkg-config
# (-tags opencim_pkgconfig), no CGO_LDFLAGS. The prefix mimics `cmake --install` from this build.
if command -v pkg-config >/dev/null && [ -e "$build/opencim.pc" ]; then
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  mkdir -p "$tmp/prefix/include/opencim" "$tmp/prefix/lib/pkgconfig" "$tmp/module"
  cp "$root/include/opencim/cimfs.h" "$tmp/prefix/include/opencim/"
  cp -P "$build"/libopencim.so* "$tmp/prefix/lib/"
  sed "s|^prefix=.*|prefix=$tmp/prefix|" "$build/opencim.pc" > "$tmp/prefix/lib/pkgconfig/opencim.pc"
  cp -r "$here"/. "$tmp/module/"
  echo "installed layout: go test -tags opencim_pkgconfig (module outside the repository)"
  (cd "$tmp/module" && unset CGO_LDFLAGS &&
    PKG_CONFIG_PATH="$tmp/prefix/lib/pkgconfig" LD_LIBRARY_PATH="$tmp/prefix/lib" \
      go test -count=1 -tags opencim_pkgconfig -run 'TestStructLayoutMatchesC|TestStandardCIMReadWrite|TestVerifiedBlockCIM' ./...)
else
  echo "installed layout check skipped: no pkg-config or no opencim.pc in $build"
fi
