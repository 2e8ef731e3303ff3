#!/usr/bin/env bash
# Write throughput of a tree through the C ABI beside `cat` (a plain copy of the same bytes) and
# `tar -x` of the same data. Reports seconds, MB/s, ratios and peak RSS. Not a pass/fail test.
#   bench/write_throughput.sh [SIZE_MIB=1024] [BUILD_DIR=build]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
size=${1:-1024}
build=${2:-$root/build}
work=$(mktemp -d /var/tmp/opencim-bench-XXXXXX)
trap 'rm -rf "$work"' EXIT
cc -O2 -o "$work/write_tree" "$root/bench/write_tree.c" -I"$root/include" -L"$build" -Wl,-rpath,"$build" -lopencim

# Corpus: 8 files of size/16 MiB, 512 files of 1 MiB-ish, 20000 small files; roughly SIZE MiB.
src=$work/src; mkdir -p "$src/big" "$src/mid" "$src/small"
big=$((size / 2 / 8))
for i in $(seq 1 8); do head -c $((big << 20)) /dev/urandom > "$src/big/f$i"; done
mid=$((size / 2 - 20))
for i in $(seq 1 "$mid"); do head -c 1000000 /dev/urandom > "$src/mid/m$i"; done
python3 - "$src/small" <<'PY'
import os, sys, random
r = random.Random(1)
d = sys.argv[1]
for i in range(20000):
    sub = os.path.join(d, "d%03d" % (i % 200)); os.makedirs(sub, exist_ok=True)
    with open(os.path.join(sub, "s%d" % i), "wb") as f: f.write(os.urandom(r.randint(0, 2000)))
PY
bytes=$(du -sb "$src" | cut -f1)
tar -cf "$work/src.tar" -C "$src" .
sync; echo 3 > /proc/sys/vm/drop_caches 2>/dev/null || true
cat "$src"/big/* "$src"/mid/* > /dev/null  # warm the page cache: we measure writing, not reading

measure() {  # name command...  -> prints "name seconds rss_kb"
  local name=$1; shift
  local t0 t1
  t0=$(date +%s.%N)
  /usr/bin/time -f "%M" -o "$work/rss" "$@"
  sync
  t1=$(date +%s.%N)
  echo "$name $(echo "$t1 - $t0" | bc) $(cat "$work/rss")"
}
rm -rf "$work/out"; mkdir -p "$work/out"
r_cat=$(measure cat sh -c "find '$src' -type f -exec cat {} + > '$work/out/copy'")
rm -rf "$work/out"; mkdir -p "$work/out"
r_tar=$(measure tar tar -xf "$work/src.tar" -C "$work/out")
rm -rf "$work/out"; mkdir -p "$work/out"
r_cim=$(measure opencim "$work/write_tree" "$src" "$work/out" bench.cim)
rm -rf "$work/out"; mkdir -p "$work/out"
r_blk=$(measure opencim-block "$work/write_tree" "$src" "$work/out/bench.bcim" layer.cim block)

printf "corpus: %d bytes, %d files\n" "$bytes" "$(find "$src" -type f | wc -l)"
printf "%-14s %8s %10s %10s %12s\n" tool seconds MB/s "vs cat" "peak RSS MiB"
tcat=$(echo "$r_cat" | cut -d' ' -f2)
for r in "$r_cat" "$r_tar" "$r_cim" "$r_blk"; do
  read -r n t rss <<<"$r"
  printf "%-14s %8.2f %10.1f %9.0f%% %12.1f\n" "$n" "$t" "$(echo "$bytes / $t / 1000000" | bc -l)" \
    "$(echo "100 * $tcat / $t" | bc -l)" "$(echo "$rss / 1024" | bc -l)"
done
