#!/usr/bin/env bash
# Installs everything opencim needs to build and test on a fresh Debian 12 machine.
# Idempotent: packages already present are skipped quickly.
set -euo pipefail

PACKAGES=(
  build-essential cmake pkg-config git
  libmsgsl-dev libfmt-dev libgtest-dev libgmock-dev libcli11-dev nlohmann-json3-dev
  libssl-dev libarchive-dev libfuse3-dev fuse3
  clang llvm libclang-rt-14-dev libclang-dev
  cryptsetup-bin qemu-utils util-linux
  golang-go librust-bindgen-dev abigail-tools
  squashfuse squashfs-tools squashfs-tools-ng erofs-utils
  python3 zstd xz-utils gzip
)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  echo "setup: installing ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  echo "setup: all packages present"
fi
