#!/usr/bin/env bash
# Every exported symbol is in the version script and declared in the header, and vice versa;
# nothing without the Cim prefix leaks out.
set -euo pipefail
lib=$1 map=$2 header=$3
exported=$(nm -D --defined-only "$lib" | awk '$2 ~ /[TDB]/ {print $3}' | sed 's/@.*//' | grep -v '^OPENCIM_' | sort -u)
mapped=$(grep -oE '^\s+Cim[A-Za-z0-9]+;' "$map" | tr -d ' ;' | sort -u)
declared=$(grep -oE 'CIMFS_API [A-Za-z_ *]+\b(Cim[A-Za-z0-9]+)\(' "$header" | grep -oE 'Cim[A-Za-z0-9]+\($' | tr -d '(' | sort -u)
bad=$(echo "$exported" | grep -v '^Cim' || true)
[ -z "$bad" ] || { echo "exports without the Cim prefix: $bad"; exit 1; }
diff <(echo "$exported") <(echo "$mapped") || { echo "exports differ from $map"; exit 1; }
diff <(echo "$exported") <(echo "$declared") || { echo "exports differ from the header"; exit 1; }
soname=$(objdump -p "$lib" | awk '/SONAME/ {print $2}')
[ "$soname" = "libopencim.so.1" ] || { echo "SONAME is $soname"; exit 1; }
echo "exports: $(echo "$exported" | wc -l) symbols match the map and the header"
