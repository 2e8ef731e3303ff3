#!/usr/bin/env bash
# opencim's FUSE mount beside squashfuse and the kernel's squashfs and erofs, on the same data.
#
#   bench/mount_bench.sh path/to/opencim [SOURCE_DIR] [LARGE_MIB]
#
# Data: a copy of SOURCE_DIR (default /usr/include; names that differ only in case are dropped,
# since a CIM directory is case-insensitive) plus one LARGE_MIB (default 1024) file of random
# bytes. Images are uncompressed everywhere (squashfs -noI -noD -noF -noX, erofs default), so the
# numbers compare filesystem paths, not codecs. Needs root (mount, losetup, drop_caches) and the
# packages squashfuse, squashfs-tools, erofs-utils.
#
# Each test runs with cold caches (sync; echo 3 > /proc/sys/vm/drop_caches), 3 times; the median
# is reported:
#   walk   find DIR -printf '%s %m %n\n'     (lookup + stat of every entry)
#   read   every regular file read in full    (find -type f | xargs cat)
#   large  dd of the large file, bs=1M        (one sequential read)
# Ratios are opencim's time divided by the other's: below 1 means opencim is faster.
set -euo pipefail
OPENCIM=${1:?usage: mount_bench.sh path/to/opencim [SOURCE_DIR] [LARGE_MIB]}
SRC=${2:-/usr/include}
LARGE_MIB=${3:-1024}
RUNS=${RUNS:-3}
[ "$(id -u)" -eq 0 ] || { echo "mount_bench: needs root"; exit 1; }
for t in squashfuse mksquashfs mkfs.erofs losetup python3; do
  command -v $t >/dev/null || { echo "mount_bench: $t is missing (apt-get install squashfuse squashfs-tools erofs-utils)"; exit 1; }
done

W=$(mktemp -d /tmp/opencim-mount-bench-XXXXXX)
export OPENCIM_MOUNT_ROOT=$W/volumes
cleanup() {
  set +e
  for m in "$W"/mnt/*; do mountpoint -q "$m" && umount "$m"; done
  [ -n "${CIM_MNT:-}" ] && "$OPENCIM" unmount "$CIM_MNT" >/dev/null 2>&1
  rm -rf "$W"
}
trap cleanup EXIT

echo "== preparing data from $SRC + ${LARGE_MIB} MiB file in $W"
mkdir -p "$W/data" "$W/mnt"/{squashfuse,squashfs,erofs}
cp -a "$SRC/." "$W/data/"
# Drop entries whose names collide case-insensitively with an earlier sibling (and their subtrees).
python3 - "$W/data" <<'EOF'
import os, shutil, sys
for root, dirs, files in os.walk(sys.argv[1], topdown=True):
    seen = set()
    for name in sorted(dirs + files):
        if name.lower() in seen:
            p = os.path.join(root, name)
            shutil.rmtree(p) if os.path.isdir(p) and not os.path.islink(p) else os.remove(p)
            if name in dirs: dirs.remove(name)
        seen.add(name.lower())
EOF
head -c $((LARGE_MIB << 20)) /dev/urandom > "$W/data/large.bin"
echo "   $(find "$W/data" | wc -l) entries, $(du -sh "$W/data" | cut -f1)"

echo "== building images"
"$OPENCIM" create "$W/img.cim" "$W/data" >/dev/null
mksquashfs "$W/data" "$W/img.sqfs" -noI -noD -noF -noX -no-progress -quiet >/dev/null
mkfs.erofs --quiet "$W/img.erofs" "$W/data" >/dev/null
echo "   opencim (.cim + region/objectid files): $(cat "$W"/img.cim "$W"/region_* "$W"/objectid_* | wc -c) bytes"
echo "   squashfs: $(stat -c %s "$W/img.sqfs") bytes, erofs: $(stat -c %s "$W/img.erofs") bytes"
echo "   load average: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores"

echo "== mounting"
CIM_MNT=$("$OPENCIM" mount -d "$W/img.cim")
squashfuse "$W/img.sqfs" "$W/mnt/squashfuse"
mount -t squashfs -o loop,ro "$W/img.sqfs" "$W/mnt/squashfs"
mount -t erofs -o loop,ro "$W/img.erofs" "$W/mnt/erofs"
declare -A MNT=([opencim]=$CIM_MNT [squashfuse]=$W/mnt/squashfuse [squashfs]=$W/mnt/squashfs [erofs]=$W/mnt/erofs)
FSES=(opencim squashfuse squashfs erofs)
for fs in "${FSES[@]}"; do
  diff -rq --no-dereference "$W/data" "${MNT[$fs]}" >/dev/null || { echo "mount_bench: $fs content differs from the source"; exit 1; }
done

cold() { sync; echo 3 > /proc/sys/vm/drop_caches; }
timeit() {  # prints seconds of "$@" with cold caches
  cold
  local t0 t1
  t0=$(date +%s.%N)
  "$@" >/dev/null 2>&1
  t1=$(date +%s.%N)
  echo "$t1 - $t0" | bc -l
}
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
walk() { find "$1" -printf '%s %m %n\n'; }
readall() { find "$1" -type f -print0 | xargs -0 -n 256 cat; }
large() { dd if="$1/large.bin" of=/dev/null bs=1M; }

declare -A RES
for test in walk read large; do
  for fs in "${FSES[@]}"; do
    times=()
    for _ in $(seq "$RUNS"); do
      case $test in
        walk) times+=("$(timeit walk "${MNT[$fs]}")") ;;
        read) times+=("$(timeit readall "${MNT[$fs]}")") ;;
        large) times+=("$(timeit large "${MNT[$fs]}")") ;;
      esac
    done
    RES[$test,$fs]=$(median "${times[@]}")
  done
done

echo
echo "== results (median of $RUNS cold-cache runs, seconds; ratio = opencim / other)"
printf '%-7s' test; for fs in "${FSES[@]}"; do printf '%12s' "$fs"; done
printf '%14s%14s%14s\n' "/squashfuse" "/squashfs" "/erofs"
for test in walk read large; do
  printf '%-7s' $test
  for fs in "${FSES[@]}"; do printf '%12.3f' "${RES[$test,$fs]}"; done
  for fs in squashfuse squashfs erofs; do printf '%14.2f' "$(echo "${RES[$test,opencim]} / ${RES[$test,$fs]}" | bc -l)"; done
  echo
done
if [ "$LARGE_MIB" -gt 0 ]; then
  printf 'large-file throughput MiB/s:'
  for fs in "${FSES[@]}"; do printf ' %s %.0f' "$fs" "$(echo "$LARGE_MIB / ${RES[large,$fs]}" | bc -l)"; done
  echo
fi
