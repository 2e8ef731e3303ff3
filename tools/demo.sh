#!/usr/bin/env bash
# The main job on bundled sample data, end to end:
#   two layer directories (samples/data) -> OCI layer tars -> `opencim import` (verified block CIMs)
#   -> `opencim merge` -> list and read the merged view -> verify every byte -> mount it as a
#   container rootfs with FUSE (when /dev/fuse is usable) -> clean up.
# Sets up and builds first. Work files go to a temporary directory that is removed at the end
# (set OPENCIM_DEMO_DIR to keep them).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bash "$root/tools/setup.sh"
build=${OPENCIM_BUILD_DIR:-$root/build}
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" -j"$(nproc)" --target opencim_cli >/dev/null
opencim() { "$build/src/cli/opencim" "$@"; }

work=${OPENCIM_DEMO_DIR:-$(mktemp -d /tmp/opencim-demo-XXXXXX)}
[ -n "${OPENCIM_DEMO_DIR:-}" ] || trap 'opencim rootfs cleanup opencim-demo >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
mkdir -p "$work"
step() { printf '\n== %s\n' "$*"; }

step "sample layers (samples/data/make-sample-layers.sh) packed as OCI layer tars"
sh "$root/samples/data/make-sample-layers.sh" "$work/layers"
for l in base app; do
  tar --sort=name --owner=0 --group=0 --numeric-owner --format=pax -C "$work/layers/$l" -cf "$work/$l.tar" .
  printf '%s.tar: %s bytes\n' "$l" "$(stat -c %s "$work/$l.tar")"
done

step "import each layer into a verified single-file block CIM"
opencim import --format linux --verified "$work/base.tar" "$work/base.bcim:layer.cim"
opencim import --format linux --verified "$work/app.tar" "$work/app.bcim:layer.cim"
echo "base root hash: $(cat "$work/integrity_checksum" 2>/dev/null || opencim seal "$work/base.bcim")"

step "merge (topmost first) into a verified merged CIM"
opencim merge --verified --out "$work/merged.bcim" "$work/app.bcim:layer.cim" "$work/base.bcim:layer.cim"
merged=(--merged "$work/merged.bcim:merged.cim" --source "$work/app.bcim:layer.cim" --source "$work/base.bcim:layer.cim")

step "list the merged view"
opencim ls -l -R "${merged[@]}"

step "read files through the merged view"
opencim cat "${merged[@]}" etc/motd

step "verify every byte of the merged CIM and its sources against the root hash"
opencim verify "${merged[@]}" "$(opencim seal "$work/merged.bcim")"

if [ -w /dev/fuse ] && [ "$(id -u)" = 0 ]; then
  step "mount the layers as a container rootfs (FUSE) and look inside"
  export OPENCIM_MOUNT_ROOT="$work/volumes" OPENCIM_STATE_DIR="$work/state"
  cat > "$work/layers.json" <<JSON
{"layers": [{"blockPath": "$work/app.bcim", "cimName": "layer.cim", "rootHash": "$(opencim seal "$work/app.bcim")"},
            {"blockPath": "$work/base.bcim", "cimName": "layer.cim", "rootHash": "$(opencim seal "$work/base.bcim")"}],
 "mergedCacheDir": "$work/cache"}
JSON
  mnt=$(opencim rootfs mount --id opencim-demo -d "$work/layers.json")
  echo "mounted at $mnt"
  ls -la "$mnt" "$mnt/etc"
  cat "$mnt/etc/motd"
  opencim rootfs cleanup opencim-demo
  echo "unmounted"
else
  step "FUSE is not usable here (/dev/fuse missing or not root): skipping the mount step"
fi
step "done"
