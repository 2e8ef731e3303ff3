#!/usr/bin/env bash
# Builds and runs the C# sample against the built library and checks its output.
# OPENCIM_BUILD_DIR: the CMake build directory holding libopencim.so (default: <repo>/build).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
export OPENCIM_BUILD_DIR=$(cd "${OPENCIM_BUILD_DIR:-$root/build}" && pwd)
command -v dotnet >/dev/null || { echo "csharp sample: dotnet is not installed"; exit 1; }
source "$root/bindings/csharp/dotnet-env.sh"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

dotnet restore "$here" $OPENCIM_RESTORE_ARGS -v quiet
dotnet run --project "$here" -c Release --no-restore -- "$tmp/work" | tee "$tmp/out.txt"

fail=0
expect() {
  grep -qxF -- "$1" "$tmp/out.txt" || { echo "csharp sample: missing output line: $1"; fail=1; }
}
expect "wrote 2 layers"
expect "merged: app/config (10 bytes)"
expect "merged: app/new.txt (23 bytes)"
expect "merged: app/config = version=2"
expect "merged: app/obsolete.txt exists = False"
expect "merged: etc/os-release written 2024-01-01"
expect "merged: NAME=opencim-sample"
expect "verified: secret.txt = integrity-checked data"
expect "verified: wrong hash rejected (HRESULT 0x80070143)"
expect "sample: ok"
grep -qE '^sealed: root hash [0-9a-f]{64}$' "$tmp/out.txt" || { echo "csharp sample: no root hash line"; fail=1; }
if grep -q "obsolete" <(grep '^merged: app/' "$tmp/out.txt" | grep -v exists); then
  echo "csharp sample: the tombstoned file is listed"; fail=1
fi
[ $fail -eq 0 ] && echo "csharp sample: output ok"
exit $fail
