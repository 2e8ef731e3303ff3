#!/bin/sh
# Creates two tiny layer directories for the quickstart: OUTDIR/base and OUTDIR/app (app sits on
# top of base: it replaces etc/motd and adds its own files). Contents, modes and modification
# times are fixed; ownership and change times (ctime, which `opencim create` records) come from
# the machine that runs the script. Nothing here is large: the layers total a few KiB.
#
#   samples/data/make-sample-layers.sh /tmp/layers
#   opencim create --consistent --verified /tmp/base.bcim:base.cim /tmp/layers/base
#   opencim create --consistent --verified /tmp/app.bcim:app.cim  /tmp/layers/app
#   opencim merge --verified --out /tmp/merged.bcim /tmp/app.bcim:app.cim /tmp/base.bcim:base.cim
#   opencim ls -l -R --merged /tmp/merged.bcim:merged.cim --source /tmp/app.bcim:app.cim --source /tmp/base.bcim:base.cim
set -eu

out=${1:?usage: make-sample-layers.sh OUTDIR}
if [ -e "$out/base" ] || [ -e "$out/app" ]; then
    echo "make-sample-layers.sh: $out/base or $out/app already exists" >&2
    exit 1
fi
umask 022

# ---- base layer ----
b=$out/base
mkdir -p "$b/etc" "$b/bin" "$b/usr/share/doc/sample" "$b/var/empty"
printf 'NAME="opencim sample"\nID=opencim-sample\nVERSION_ID=1\n' >"$b/etc/os-release"
printf 'Welcome to the base layer.\n' >"$b/etc/motd"
printf '#!/bin/sh\necho "hello from a CIM"\n' >"$b/bin/hello"
chmod 0755 "$b/bin/hello"
ln -s hello "$b/bin/hi"
ln "$b/etc/os-release" "$b/usr/share/doc/sample/os-release.copy"
printf 'A file whose name has spaces and non-ASCII characters.\n' >"$b/usr/share/doc/sample/read me – é.txt"
# 8 KiB of deterministic, non-repeating-looking text (bigger than one 4 KiB block).
i=0
while [ $i -lt 128 ]; do
    printf 'line %03d of the sample data file, padded to 64 bytes.........\n' "$i"
    i=$((i + 1))
done >"$b/usr/share/doc/sample/data.txt"
: >"$b/var/empty/.keep"

# ---- app layer ----
a=$out/app
mkdir -p "$a/etc" "$a/opt/app"
printf 'Welcome to the app layer (this replaces the base motd).\n' >"$a/etc/motd"
printf '{"name": "sample-app", "port": 8080}\n' >"$a/opt/app/config.json"
printf '#!/bin/sh\ncat /opt/app/config.json\n' >"$a/opt/app/run"
chmod 0755 "$a/opt/app/run"
ln -s ../../etc/motd "$a/opt/app/motd"

# Fixed timestamps (files first, then directories, deepest first, so children do not bump parents).
find "$out/base" "$out/app" -depth -exec touch -h -d '2024-01-01 00:00:00 UTC' {} +
echo "created $out/base and $out/app"
