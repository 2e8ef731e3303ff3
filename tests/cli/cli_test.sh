#!/usr/bin/env bash
# End-to-end test of the opencim CLI: builds a small tree, turns it into standard and block CIMs
# and checks ls/stat/cat/info/merge/seal/verify against the source.
# Usage: cli_test.sh /path/to/opencim      (prints "N passed, M failed"; exit 1 on any failure)
set -u

OPENCIM=${1:?usage: cli_test.sh /path/to/opencim}
OPENCIM=$(cd "$(dirname "$OPENCIM")" && pwd)/$(basename "$OPENCIM")
SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SCRATCH=$(mktemp -d "${TMPDIR:-/tmp}/opencim-cli-test.XXXXXX")
trap 'rm -rf "$SCRATCH"' EXIT
cd "$SCRATCH" || exit 1

passed=0
failed=0
ok() { passed=$((passed + 1)); echo "ok   $1"; }
bad() { failed=$((failed + 1)); echo "FAIL $1"; [ -n "${2:-}" ] && sed 's/^/     | /' <<<"$2"; }

# expect NAME CMD...: the command succeeds.
expect() {
    local name=$1 out
    shift
    if out=$("$@" 2>&1); then ok "$name"; else bad "$name" "$out"; fi
}
# expect_fail NAME CODE CMD...: the command exits with CODE and prints "opencim: ..." on stderr.
expect_fail() {
    local name=$1 code=$2 err rc
    shift 2
    err=$("$@" 2>&1 >/dev/null)
    rc=$?
    if [ "$rc" -eq "$code" ] && grep -q '^opencim: ' <<<"$err"; then ok "$name"; else bad "$name" "exit $rc (want $code): $err"; fi
}
# expect_eq NAME WANT GOT
expect_eq() {
    if [ "$2" == "$3" ]; then ok "$1"; else bad "$1" "want: $2"$'\n'"got:  $3"; fi
}
json_ok() { python3 -c 'import json,sys; json.load(sys.stdin)' 2>/dev/null; }
jq_py() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)" 2>/dev/null; }

# ---- source tree ----
mkdir -p src/dir/nested/deeper src/emptydir
printf 'hello\n' >src/hello.txt
: >src/empty
head -c 5000 /dev/urandom >src/dir/five-k.bin           # > 4 KiB
head -c 1500000 /dev/urandom >src/dir/nested/big.bin    # > 1 MiB (several write chunks)
printf 'deep\n' >src/dir/nested/deeper/leaf.txt
printf 'spaces and unicode\n' >"src/dir/with space ü €.txt"
ln -s hello.txt src/link
ln -s ../../hello.txt src/dir/nested/uplink
ln src/hello.txt src/dir/hardlink
chmod 0640 src/dir/five-k.bin

cat_cmp() {  # cat_cmp NAME IMAGE PATH SOURCE
    if "$OPENCIM" cat "$2" "$3" | cmp -s - "$4"; then ok "$1"; else bad "$1" "cat $2 $3 differs from $4"; fi
}

# ---- create ----
mkdir std
expect "create standard CIM" "$OPENCIM" create std/layer.cim src
expect "create block CIM" "$OPENCIM" create --consistent layer.bcim:layer.cim src
expect "create block CIM with --block/--name" "$OPENCIM" create --block layer2.bcim --name l2.cim src
expect_fail "create refuses an existing image" 1 "$OPENCIM" create std/layer.cim src
expect_fail "create with a missing source fails" 1 "$OPENCIM" create std/other.cim nosuchdir
[ ! -e std/other.cim ] && ok "failed create leaves no image" || bad "failed create leaves no image"
expect_fail "create without arguments is a usage error" 2 "$OPENCIM" create
expect_fail "--verified on a standard CIM is a usage error" 2 "$OPENCIM" create --verified std/v.cim src

"$OPENCIM" create -q --consistent c1.bcim:x.cim src && "$OPENCIM" create -q --consistent c2.bcim:x.cim src
cmp -s c1.bcim c2.bcim && ok "--consistent output is byte-identical" || bad "--consistent output is byte-identical"

mkdir case && touch case/Makefile case/makefile
expect_fail "case-colliding names are refused" 1 "$OPENCIM" create case.bcim:c.cim case

# ---- ls ----
want_root=$(printf '%s\n' dir empty emptydir hello.txt link)
for img in std/layer.cim layer.bcim:layer.cim layer.bcim "--block layer2.bcim --name l2.cim"; do
    # shellcheck disable=SC2086
    expect_eq "ls root of $img" "$want_root" "$("$OPENCIM" ls $img 2>&1)"
done
want_tree=$(cd src && find . -mindepth 1 | sed 's|^\./||' | LC_ALL=C sort)
got_tree=$("$OPENCIM" ls -R std/layer.cim | LC_ALL=C sort)
expect_eq "ls -R lists the whole tree" "$want_tree" "$got_tree"
expect_eq "ls of a subdirectory" "$(printf '%s\n' deeper big.bin uplink | LC_ALL=C sort)" \
    "$("$OPENCIM" ls layer.bcim dir/nested | LC_ALL=C sort)"
line=$("$OPENCIM" ls -l std/layer.cim link)
[[ $line == *"link -> hello.txt" ]] && ok "ls -l shows the symlink target" || bad "ls -l shows the symlink target" "$line"
line=$("$OPENCIM" ls -l std/layer.cim dir/nested/big.bin)
if [[ $line =~ ^----a-\ +1\ +1500000\ .*\ dir/nested/big\.bin$ ]]; then ok "ls -l shows attributes, links and size"; else
    bad "ls -l shows attributes, links and size" "$line"; fi
"$OPENCIM" ls --json -R layer.bcim | json_ok && ok "ls --json parses" || bad "ls --json parses"
n=$("$OPENCIM" ls --json -R layer.bcim | jq_py 'len(d)')
expect_eq "ls --json -R has every entry" "$(echo "$want_tree" | wc -l)" "$n"
expect_fail "ls of a missing path fails" 1 "$OPENCIM" ls std/layer.cim no/such/dir
expect_fail "ls of a missing image fails" 1 "$OPENCIM" ls nosuch.cim
expect_fail "ls without an image is a usage error" 2 "$OPENCIM" ls

# ---- stat ----
st=$("$OPENCIM" stat --json std/layer.cim dir/hardlink)
echo "$st" | json_ok && ok "stat --json parses" || bad "stat --json parses"
expect_eq "hard link has link count 2" 2 "$(echo "$st" | jq_py 'd["linkCount"]')"
id1=$(echo "$st" | jq_py 'd["fileId"]')
id2=$("$OPENCIM" stat --json std/layer.cim hello.txt | jq_py 'd["fileId"]')
expect_eq "hard links share the file ID" "$id1" "$id2"
mode=$("$OPENCIM" stat --json layer.bcim dir/five-k.bin | jq_py '[e["decoded"] for e in d["extendedAttributes"]["entries"] if e["name"]=="$LXMOD"][0]')
expect_eq "\$LXMOD carries type and permission bits" "mode 0100640" "$mode"
st=$("$OPENCIM" stat --json layer.bcim dir/nested/uplink)
expect_eq "symlink reparse tag is LX_SYMLINK" "LX_SYMLINK ../../hello.txt" "$(echo "$st" | jq_py 'd["reparseTagName"] + " " + d["target"]')"
expect_eq "symlink reparse buffer (version 2, no NUL)" "1d0000a01300000002000000" \
    "$(echo "$st" | jq_py 'd["reparseData"]["hex"][:24]')"
expect_eq "directory attributes" "DIRECTORY" "$("$OPENCIM" stat --json std/layer.cim dir | jq_py 'd["attributeNames"]')"
expect_eq "security descriptor is the 20-byte null DACL" "0100048000000000000000000000000000000000" \
    "$("$OPENCIM" stat --json std/layer.cim hello.txt | jq_py 'd["securityDescriptor"]["hex"]')"
text=$("$OPENCIM" stat std/layer.cim "dir/with space ü €.txt")
grep -q '^Size: *19$' <<<"$text" && ok "stat of a unicode name with spaces" || bad "stat of a unicode name with spaces" "$text"

# ---- cat ----
cat_cmp "cat of an empty file" std/layer.cim empty src/empty
cat_cmp "cat of a small file" std/layer.cim hello.txt src/hello.txt
cat_cmp "cat of a >4 KiB file" std/layer.cim dir/five-k.bin src/dir/five-k.bin
cat_cmp "cat of a >1 MiB file (standard)" std/layer.cim dir/nested/big.bin src/dir/nested/big.bin
cat_cmp "cat of a >1 MiB file (block)" layer.bcim:layer.cim dir/nested/big.bin src/dir/nested/big.bin
cat_cmp "cat of a unicode name" layer.bcim "dir/with space ü €.txt" "src/dir/with space ü €.txt"
cat_cmp "cat through a hard link" layer.bcim dir/hardlink src/hello.txt
expect_fail "cat of a directory fails" 1 "$OPENCIM" cat std/layer.cim dir

# ---- info ----
"$OPENCIM" info --json std/layer.cim | json_ok && ok "info --json (standard) parses" || bad "info --json (standard) parses"
"$OPENCIM" info --json layer.bcim | json_ok && ok "info --json (block) parses" || bad "info --json (block) parses"
expect_eq "info counts the bytes of files" "$((6 + 5000 + 1500000 + 5 + 19))" \
    "$("$OPENCIM" info --json std/layer.cim | jq_py 'd["contents"]["bytes"]')"
expect_eq "info lists the block file's CIM" "layer.cim False" \
    "$("$OPENCIM" info --json layer.bcim | jq_py 'd["cims"][0]["name"] + " " + str(d["sealed"])')"
expect "info (text) works" "$OPENCIM" info std/layer.cim

# ---- merge ----
mkdir -p upper/d lower/d
printf 'upper\n' >upper/d/both
printf 'only upper\n' >upper/up
printf 'lower\n' >lower/d/both
printf 'only lower\n' >lower/low
expect "create upper layer" "$OPENCIM" create --verified up.bcim:up.cim upper
expect "create lower layer" "$OPENCIM" create --verified low.bcim:low.cim lower
expect "merge two block CIMs" "$OPENCIM" merge --out merged.bcim up.bcim:up.cim low.bcim:low.cim
M=(--merged merged.bcim:merged.cim --source up.bcim:up.cim --source low.bcim:low.cim)
expect_eq "merged view is the union" "$(printf '%s\n' d d/both low up)" "$("$OPENCIM" ls -R "${M[@]}" | LC_ALL=C sort)"
expect_eq "upper file wins in the merge" "upper" "$("$OPENCIM" cat "${M[@]}" d/both)"
expect_eq "lower-only file is visible" "only lower" "$("$OPENCIM" cat "${M[@]}" low)"
expect_fail "merge needs two sources" 2 "$OPENCIM" merge --out m2.bcim up.bcim:up.cim

# ---- seal and verify ----
uphash=$("$OPENCIM" seal up.bcim)
[[ $uphash =~ ^[0-9a-f]{64}$ ]] && ok "seal prints a root hash" || bad "seal prints a root hash" "$uphash"
created=$("$OPENCIM" create -q --verified sealed.bcim:s.cim src | sed -n 's/^root hash: //p')
expect_eq "create --verified prints the same hash as seal" "$created" "$("$OPENCIM" seal sealed.bcim)"
out=$("$OPENCIM" verify sealed.bcim:s.cim "$created" 2>&1)
[[ $? -eq 0 && $out == OK* ]] && ok "verify succeeds with the right hash" || bad "verify succeeds with the right hash" "$out"
expect "verify of a whole block file" "$OPENCIM" verify sealed.bcim "$created"
expect "verified ls" "$OPENCIM" ls --verify "$created" sealed.bcim
wrong=$(printf '%064d' 0)
err=$("$OPENCIM" verify sealed.bcim:s.cim "$wrong" 2>&1)
[[ $? -eq 1 && $err == *"integrity violation"* ]] && ok "verify fails with a wrong hash" || bad "verify fails with a wrong hash" "$err"
expect_fail "verify with a malformed hash is a usage error" 2 "$OPENCIM" verify sealed.bcim:s.cim abc

cp sealed.bcim tampered.bcim
size=$(stat -c %s src/dir/nested/big.bin)
# Flip one byte in the middle of the data area (the big file's data is most of the file).
off=$((4096 + size / 2))
printf '\x5a' | dd of=tampered.bcim bs=1 seek="$off" conv=notrunc status=none
err=$("$OPENCIM" verify tampered.bcim "$created" 2>&1)
[[ $? -eq 1 && $err == *"integrity violation"* ]] && ok "verify detects a tampered byte" || bad "verify detects a tampered byte" "$err"

lowhash=$("$OPENCIM" seal low.bcim)
mh=$("$OPENCIM" merge -q --verified --out vmerged.bcim:vm.cim up.bcim:up.cim low.bcim:low.cim | sed -n 's/^root hash: //p')
[[ $mh =~ ^[0-9a-f]{64}$ ]] && ok "verified merge prints a root hash" || bad "verified merge prints a root hash" "$mh"
expect "verify a merged CIM and its sources" "$OPENCIM" verify --merged vmerged.bcim:vm.cim \
    --source up.bcim:up.cim --source low.bcim:low.cim "$mh"
expect_eq "verified merged read" "upper" "$("$OPENCIM" cat --verify "$mh" --merged vmerged.bcim:vm.cim \
    --source up.bcim:up.cim --source low.bcim:low.cim d/both)"
[ -n "$lowhash" ] || bad "seal of the lower layer"

# ---- the quickstart sample layers ----
SAMPLES=$(cd "$SCRIPT_DIR/../../samples/data" 2>/dev/null && pwd)
if [ -n "$SAMPLES" ] && [ -x "$SAMPLES/make-sample-layers.sh" ]; then
    expect "sample layers are generated" "$SAMPLES/make-sample-layers.sh" layers
    expect "sample base layer" "$OPENCIM" create --consistent --verified base.bcim:base.cim layers/base
    expect "sample app layer" "$OPENCIM" create --consistent --verified app.bcim:app.cim layers/app
    expect "sample merge" "$OPENCIM" merge --verified --out sample.bcim app.bcim:app.cim base.bcim:base.cim
    S=(--merged sample.bcim:merged.cim --source app.bcim:app.cim --source base.bcim:base.cim)
    expect_eq "sample: app layer's motd wins" "$(cat layers/app/etc/motd)" "$("$OPENCIM" cat "${S[@]}" etc/motd)"
    expect_eq "sample: base files show through" "$(cat layers/base/bin/hello)" "$("$OPENCIM" cat "${S[@]}" bin/hello)"
else
    bad "samples/data/make-sample-layers.sh not found next to this script"
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
