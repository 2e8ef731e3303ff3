#!/usr/bin/env bash
# Issue 3 measures: merge time for 10 sources x 50,000 files, and sealing throughput beside
# sha256sum of the same block file.   bench/merge_and_seal.sh [BUILD_DIR=build] [SEAL_MIB=1024]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build}
mib=${2:-1024}
cmake --build "$build" --target opencim_benchmarks -j"$(nproc)" >/dev/null
work=$(mktemp -d /var/tmp/opencim-bench-XXXXXX)
trap 'rm -rf "$work"' EXIT
echo "== merge (10 sources x 50,000 files)"
"$build/bench/merge_bench" "$work" 10 50000

echo "== sealing ${mib} MiB beside sha256sum"
mkdir -p "$work/src"
for i in $(seq 1 $((mib / 64))); do head -c $((64 << 20)) /dev/urandom > "$work/src/f$i"; done
"$build/bench/write_tree" "$work/src" "$work/v.bcim" layer.cim block >/dev/null
# write_tree makes an unverified container; rebuild it verified with the CLI-equivalent flags:
python3 - "$work/v.bcim" <<'PY'
import hashlib, struct, sys
p = sys.argv[1]
with open(p, "r+b") as f:
    b0 = bytearray(f.read(4096))
    flags = struct.unpack_from("<I", b0, 20)[0] | 1   # mark as created for sealing
    struct.pack_into("<I", b0, 20, flags)
    b0[4064:4096] = hashlib.sha256(bytes(b0[:4064])).digest()
    f.seek(0); f.write(b0)
PY
cat "$work/v.bcim" > /dev/null
t0=$(date +%s.%N); sha256sum "$work/v.bcim" >/dev/null; t1=$(date +%s.%N)
cat > "$work/seal.c" <<'C'
#include <opencim/cimfs.h>
#include <stdio.h>
int main(int c, char **v) { uint8_t h[32]; uint64_t hs, fh;
  if (CimSealImage(v[1], &hs, &fh, h) < 0) { fprintf(stderr, "%s\n", CimGetLastErrorMessage()); return 1; } return 0; }
C
cc -O2 -o "$work/seal" "$work/seal.c" -I"$root/include" -L"$build" -Wl,-rpath,"$build" -lopencim
t2=$(date +%s.%N); "$work/seal" "$work/v.bcim"; t3=$(date +%s.%N)
bytes=$(stat -c %s "$work/v.bcim")
sha=$(echo "$t1 - $t0" | bc -l); seal=$(echo "$t3 - $t2" | bc -l)
printf "sha256sum: %.2f s (%.0f MB/s)\nCimSealImage: %.2f s (%.0f MB/s)\nseal throughput = %.0f%% of sha256sum\n" \
  "$sha" "$(echo "$bytes/$sha/1000000" | bc -l)" "$seal" "$(echo "$bytes/$seal/1000000" | bc -l)" "$(echo "100*$sha/$seal" | bc -l)"
