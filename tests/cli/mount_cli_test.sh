#!/usr/bin/env bash
# `opencim mount` / `opencim unmount` end to end: detached and foreground mounts, diff -r against
# the source tree, unmount by path and GUID, errors, crash cleanup (SIGKILL), signals.
# Usage: mount_cli_test.sh path/to/opencim. Skips (exit 0) when /dev/fuse is missing.
set -uo pipefail
O=$1
if [ ! -e /dev/fuse ]; then echo "skipped: /dev/fuse does not exist (no FUSE on this machine)"; echo "0 passed, 0 failed"; exit 0; fi
T=$(mktemp -d /tmp/opencim-mount-cli-XXXXXX)
export OPENCIM_MOUNT_ROOT=$T/volumes
passed=0 failed=0
check() {  # check NAME COMMAND...
  if "${@:2}"; then passed=$((passed + 1)); else failed=$((failed + 1)); echo "FAIL: $1"; fi
}
cleanup() {
  for m in $(awk -v r="$T/" 'index($5, r) == 1 {print $5}' /proc/self/mountinfo); do umount -l "$m" 2>/dev/null; done
  pkill -KILL -f "opencim mount .*$T" 2>/dev/null
  rm -rf "$T"
}
trap cleanup EXIT
mounted() { awk -v p="$1" '$5 == p {f=1} END {exit !f}' /proc/self/mountinfo; }

mkdir -p "$T/src/sub/deeper"
printf 'hello\n' > "$T/src/a.txt"
head -c 300000 /dev/urandom > "$T/src/sub/big.bin"
ln -s ../a.txt "$T/src/sub/link"
ln "$T/src/a.txt" "$T/src/hard"
chmod 750 "$T/src/sub"
"$O" create "$T/img.cim" "$T/src" > /dev/null || { echo "create failed"; exit 1; }

# Detached mount: returns once ready and prints the mount path.
mnt=$(timeout 30 "$O" mount -d "$T/img.cim")
check "mount -d exit status" test $? -eq 0
check "mount path under OPENCIM_MOUNT_ROOT" test "${mnt%/*}" = "$T/volumes"
check "mounted right away" mounted "$mnt"
check "diff -r with the source" diff -r --no-dereference "$T/src" "$mnt"
check "modes kept" test "$(stat -c %a "$mnt/sub")" = 750
check "hard links share the inode" test "$(stat -c %i "$mnt/a.txt")" = "$(stat -c %i "$mnt/hard")"
check "symlink target" test "$(readlink "$mnt/sub/link")" = ../a.txt
check "unmount by path" timeout 30 "$O" unmount "$mnt"
check "unmounted" bash -c "! awk -v p='$mnt' '\$5 == p {f=1} END {exit !f}' /proc/self/mountinfo"
sleep 0.3
check "mount directory removed" test ! -e "$mnt"

# Fixed GUID: a second mount of the same GUID fails; unmount by GUID.
g=0a1b2c3d-0000-4000-8000-000000000001
mnt=$(timeout 30 "$O" mount -d --guid "$g" "$T/img.cim")
check "mount --guid path" test "$mnt" = "$T/volumes/$g"
err=$(timeout 30 "$O" mount -d --guid "$g" "$T/img.cim" 2>&1); rc=$?
check "same GUID twice fails" test $rc -eq 1
check "same GUID twice message" grep -q "already mounted" <<< "$err"
check "unmount by GUID" timeout 30 "$O" unmount "$g"
err=$(timeout 30 "$O" unmount "$g" 2>&1); rc=$?
check "unmount of an unknown GUID fails" test $rc -eq 1
check "unknown GUID message" grep -q "no volume" <<< "$err"
err=$(timeout 30 "$O" mount -d "$T/missing.cim" 2>&1); rc=$?
check "missing image fails" test $rc -ne 0

# A killed server leaves a dead mount; --dead removes it, and a new mount of the GUID works.
mnt=$(timeout 30 "$O" mount -d --guid "$g" "$T/img.cim")
check "mount again after unmount" mounted "$mnt"
pkill -KILL -f "opencim mount -d --guid $g"
sleep 0.5
check "dead mount is left" mounted "$mnt"
check "dead mount: not connected" bash -c "stat '$mnt/a.txt' 2>&1 | grep -q 'not connected'"
check "unmount --dead" bash -c "timeout 30 '$O' unmount --dead | grep -q 'removed 1 dead mount'"
check "dead mount removed" bash -c "! awk -v p='$mnt' '\$5 == p {f=1} END {exit !f}' /proc/self/mountinfo"
# With --auto-unmount a killed server's mount disappears by itself.
mnt=$(timeout 30 "$O" mount -d --auto-unmount --guid "$g" "$T/img.cim")
check "mount --auto-unmount" mounted "$mnt"
pkill -KILL -f "opencim mount -d --auto-unmount --guid $g"
for _ in $(seq 50); do mounted "$mnt" || break; sleep 0.1; done
check "auto-unmount after SIGKILL" bash -c "! awk -v p='$mnt' '\$5 == p {f=1} END {exit !f}' /proc/self/mountinfo"

# Foreground: serves until SIGTERM, then unmounts and exits 0.
"$O" mount --guid "$g" "$T/img.cim" > "$T/fg.out" 2> "$T/fg.err" &
pid=$!
for _ in $(seq 100); do mounted "$T/volumes/$g" && break; sleep 0.1; done
check "foreground mount serves" test "$(cat "$T/volumes/$g/a.txt" 2>/dev/null)" = hello
kill -TERM $pid
wait $pid; rc=$?
check "foreground exits 0 on SIGTERM" test $rc -eq 0
check "foreground unmounted" bash -c "! awk -v p='$T/volumes/$g' '\$5 == p {f=1} END {exit !f}' /proc/self/mountinfo"

echo "$passed passed, $failed failed"
[ $failed -eq 0 ]
