#!/usr/bin/env bash
# Real-data test: a tar of real system files (this machine's /etc, /usr/bin, /usr/share/doc,
# /usr/lib/x86_64-linux-gnu subsets: regular files, symlinks, hard links, modes, owners, xattrs)
# is imported as a Linux layer, mounted with FUSE and compared with `tar -x` of the same tar:
# content (diff -r), and per-path type, mode, uid, gid, size, symlink target, link count and
# xattrs. Usage: real_layer_test.sh <opencim binary>. Skips (exit 0, says why) without FUSE.
set -euo pipefail
opencim=$(readlink -f "$1")
if [ ! -w /dev/fuse ] || [ "$(id -u)" != 0 ]; then echo "SKIP: needs root and /dev/fuse"; exit 0; fi
work=$(mktemp -d /tmp/opencim-real-XXXXXX)
export OPENCIM_MOUNT_ROOT=$work/volumes
mnt=""
cleanup() { [ -n "$mnt" ] && "$opencim" unmount "$mnt" >/dev/null 2>&1 || true; rm -rf "$work"; }
trap cleanup EXIT

# A layer tar of real files; a setuid binary and a file with a capability xattr when present.
mkdir -p "$work/src"
tar -C / --xattrs --xattrs-include='*' --format=pax -cf "$work/layer.tar" \
  etc usr/share/doc/bash usr/share/doc/coreutils usr/bin/su usr/bin/passwd usr/bin/ping \
  usr/lib/x86_64-linux-gnu/libz.so.1 usr/lib/x86_64-linux-gnu/libz.so.1.2.13 2>/dev/null || true
[ -s "$work/layer.tar" ] || { echo "FAIL: could not build the layer tar"; exit 1; }
mkdir -p "$work/ref"
tar -C "$work/ref" --xattrs --xattrs-include='*' --numeric-owner -xpf "$work/layer.tar"

"$opencim" import --format linux "$work/layer.tar" "$work/layer.bcim:layer.cim" >/dev/null
mnt=$("$opencim" mount -d "$work/layer.bcim:layer.cim" | tail -1)
[ -d "$mnt" ] || { echo "FAIL: mount did not return a directory ($mnt)"; exit 1; }

fails=0
if ! diff -r --no-dereference "$work/ref" "$mnt" > "$work/diff.txt" 2>&1; then
  echo "FAIL: content differs:"; head -20 "$work/diff.txt"; fails=$((fails + 1))
else
  echo "ok: diff -r finds no difference"
fi
python3 - "$work/ref" "$mnt" <<'PY' || fails=$((fails + 1))
import os, stat, sys
ref, mnt = sys.argv[1], sys.argv[2]
bad = checked = 0
def xattrs(p):
    try:
        return {n: os.getxattr(p, n, follow_symlinks=False) for n in os.listxattr(p, follow_symlinks=False)
                if not n.startswith("system.ntfs_")}
    except OSError:
        return {}
for d, dirs, files in os.walk(ref):
    for name in dirs + files:
        a = os.path.join(d, name)
        b = os.path.join(mnt, os.path.relpath(a, ref))
        sa, sb = os.lstat(a), os.lstat(b)
        checked += 1
        problems = []
        for f in ("st_mode", "st_uid", "st_gid"):
            if getattr(sa, f) != getattr(sb, f): problems.append(f"{f} {getattr(sa, f):o} != {getattr(sb, f):o}")
        if stat.S_ISREG(sa.st_mode):
            if sa.st_size != sb.st_size: problems.append("size")
            if sa.st_nlink != sb.st_nlink: problems.append(f"nlink {sa.st_nlink} != {sb.st_nlink}")
        if stat.S_ISLNK(sa.st_mode) and os.readlink(a) != os.readlink(b): problems.append("link target")
        if xattrs(a) != xattrs(b): problems.append(f"xattrs {sorted(xattrs(a))} != {sorted(xattrs(b))}")
        if problems:
            bad += 1
            if bad <= 10: print("FAIL:", os.path.relpath(a, ref), "; ".join(problems))
print(f"ok: metadata of {checked} paths compared, {bad} differ" if not bad else f"FAIL: {bad} of {checked} paths differ")
sys.exit(1 if bad else 0)
PY
echo "$((2 - fails)) passed, $fails failed"
[ $fails -eq 0 ]
