#!/usr/bin/env bash
# Layer import benchmark: `opencim import` side by side with `tar -x`, `tar2sqfs`, `mkfs.erofs`
# and `cat` (the copy limit) on three corpora (tar2sqfs with its fastest compressor, lz4: it
# cannot store data uncompressed; an erofs-utils without --tar builds from a `tar -x` tree):
#   debian  a tar of installed Debian files (/usr/share/doc, /usr/lib/x86_64-linux-gnu, /usr/bin, /etc)
#   large   ~2 GB of large generated files (16 x 128 MiB of incompressible data)
#   small   200,000 small generated files (1-4 KiB each, 1,000 directories)
# Each tool reads the same uncompressed tar from the page cache and writes into WORK (same file
# system). Reports wall time, user/sys CPU, peak RSS (/usr/bin/time -v) and output size as a
# Markdown table on stdout.
#
# Usage: bench/import_bench.sh [OPENCIM_BINARY] [WORK_DIR] [CORPORA...]
#   defaults: build/src/cli/opencim, /tmp/opencim-import-bench, "debian large small"
#   env: ROUNDS (default 1: best of N), LARGE_FILES (16), SMALL_FILES (200000)
set -euo pipefail
OPENCIM=${1:-build/src/cli/opencim}
WORK=${2:-/tmp/opencim-import-bench}
shift $(( $# > 2 ? 2 : $# )) || true
CORPORA=${*:-debian large small}
ROUNDS=${ROUNDS:-1}
LARGE_FILES=${LARGE_FILES:-16}
SMALL_FILES=${SMALL_FILES:-200000}
OPENCIM=$(readlink -f "$OPENCIM")
mkdir -p "$WORK"
cd "$WORK"

make_corpus() {
    case $1 in
    debian)
        [ -f debian.tar ] || tar --xattrs --format=pax -cf debian.tar -C / usr/share/doc usr/lib/x86_64-linux-gnu usr/bin etc 2>/dev/null || true ;;
    large)
        if [ ! -f large.tar ]; then
            rm -rf large && mkdir large
            for i in $(seq 1 "$LARGE_FILES"); do head -c $((128 << 20)) /dev/urandom > "large/f$i"; done
            tar --format=pax -cf large.tar large && rm -rf large
        fi ;;
    small)
        if [ ! -f small.tar ]; then
            python3 - "$SMALL_FILES" <<'PY'
import io, random, sys, tarfile
n = int(sys.argv[1]); rnd = random.Random(1)
with tarfile.open('small.tar', 'w', format=tarfile.PAX_FORMAT) as t:
    for d in range(1000):
        ti = tarfile.TarInfo(f'small/d{d:04}'); ti.type = tarfile.DIRTYPE; ti.mode = 0o755; ti.mtime = 1700000000
        t.addfile(ti)
    for i in range(n):
        data = rnd.randbytes(rnd.randint(1024, 4096))
        ti = tarfile.TarInfo(f'small/d{i % 1000:04}/f{i:06}'); ti.size = len(data); ti.mtime = 1700000000
        t.addfile(ti, io.BytesIO(data))
PY
        fi ;;
    esac
}

# run NAME OUTPUT COMMAND...: best wall time of ROUNDS; prints "wall user sys rss_kb out_bytes".
run() {
    local out=$1; shift
    local best=""
    for _ in $(seq 1 "$ROUNDS"); do
        rm -rf "$out" "$out".* 2>/dev/null || true
        sync
        /usr/bin/time -v -o time.txt "$@" > /dev/null 2> err.txt || { echo "FAILED: $* ($(tail -1 err.txt))" >&2; echo "- - - - -"; return; }
        local wall user sys rss size
        wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {split($2, a, ":"); if (length(a) == 3) print a[1]*3600 + a[2]*60 + a[3]; else print a[1]*60 + a[2]}' time.txt)
        user=$(awk -F': ' '/User time/ {print $2}' time.txt)
        sys=$(awk -F': ' '/System time/ {print $2}' time.txt)
        rss=$(awk -F': ' '/Maximum resident/ {print $2}' time.txt)
        size=$(du -sb "$out" 2>/dev/null | cut -f1 || echo 0)
        if [ -z "$best" ] || awk "BEGIN {exit !($wall < ${best%% *})}"; then best="$wall $user $sys $rss ${size:-0}"; fi
    done
    echo "$best"
}

echo "| corpus | tool | wall s | user s | sys s | peak RSS MiB | output MiB | × opencim wall |"
echo "|---|---|---:|---:|---:|---:|---:|---:|"
for c in $CORPORA; do
    make_corpus "$c"
    tar=$c.tar
    cat "$tar" > /dev/null  # warm the page cache
    declare -A res=()
    res[opencim]=$(run "$c.bcim" "$OPENCIM" import --threads 2 "$tar" "$c.bcim")
    res["opencim 1 thread"]=$(run "$c.bcim" "$OPENCIM" import --threads 1 "$tar" "$c.bcim")
    res["tar -x"]=$(run "$c.x" sh -c "mkdir $c.x && tar -xf $tar -C $c.x")
    res["tar2sqfs -c lz4"]=$(run "$c.sqfs" sh -c "tar2sqfs -q -f -j 2 -c lz4 $c.sqfs < $tar")
    if mkfs.erofs --help 2>&1 | grep -q -- '--tar'; then
        res["mkfs.erofs --tar"]=$(run "$c.erofs" mkfs.erofs --tar=f "$c.erofs" "$tar")
    else
        # This erofs-utils has no --tar: build from the tar -x tree (extraction time not included).
        rm -rf "$c.tree" && mkdir "$c.tree" && tar -xf "$tar" -C "$c.tree"
        res["mkfs.erofs DIR (no --tar)"]=$(run "$c.erofs" mkfs.erofs "$c.erofs" "$c.tree")
        rm -rf "$c.tree"
    fi
    res[cat]=$(run "$c.copy" sh -c "cat $tar > $c.copy")
    base=$(echo "${res[opencim]}" | cut -d' ' -f1)
    for tool in opencim "opencim 1 thread" "tar -x" "tar2sqfs -c lz4" "mkfs.erofs --tar" "mkfs.erofs DIR (no --tar)" cat; do
        [ -n "${res[$tool]+x}" ] || continue
        read -r wall user sys rss size <<< "${res[$tool]}"
        [ "$wall" = "-" ] && { echo "| $c | $tool | failed | | | | | |"; continue; }
        printf '| %s | %s | %.2f | %.2f | %.2f | %.0f | %.0f | %.2f |\n' "$c" "$tool" "$wall" "$user" "$sys" \
            "$(echo "$rss / 1024" | bc -l)" "$(echo "$size / 1048576" | bc -l)" "$(echo "$wall / $base" | bc -l)"
    done
    rm -rf "$c.bcim" "$c.x" "$c.sqfs" "$c.erofs" "$c.copy"
    unset res
done
echo
echo "tar sizes: $(for c in $CORPORA; do printf '%s %s MiB; ' "$c" "$(( $(stat -c %s "$c.tar") >> 20 ))"; done)"
echo "machine: $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg), $(uname -r)"
