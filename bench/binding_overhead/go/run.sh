#!/usr/bin/env bash
# Runs the Go benchmark of bench/binding_overhead.sh: prints "go <ns_per_call>" (best of 3).
# Usage: run.sh [--iterations N] [--raw] [--image BLOCKFILE CIMNAME PATH]
#   --raw: BenchmarkStatRaw (bare cgo call) instead of BenchmarkStat (Reader.Stat).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
build=$(cd "${OPENCIM_BUILD_DIR:-$root/build}" && pwd)
iterations=1000000 bench=BenchmarkStat
while [ $# -gt 0 ]; do
  case $1 in
    --iterations) iterations=$2; shift 2 ;;
    --raw) bench=BenchmarkStatRaw; shift ;;
    --image) export OPENCIM_BENCH_BLOCK=$2 OPENCIM_BENCH_CIM=$3 OPENCIM_BENCH_PATH=$4; shift 4 ;;
    *) echo "usage: run.sh [--iterations N] [--raw] [--image BLOCKFILE CIMNAME PATH]" >&2; exit 2 ;;
  esac
done
export CGO_ENABLED=1 GOPROXY=off GOFLAGS= GOTOOLCHAIN=local
export CGO_LDFLAGS="-L$build -Wl,-rpath,$build"
[ -w "$(dirname "$(go env GOCACHE)")" ] || export GOCACHE="$build/go-cache"
out=$build/bench-binding-overhead
mkdir -p "$out"
(cd "$here" && go test -c -o "$out/go-statbench.test" .)
# Under bench/binding_overhead.sh's real-time mode this script runs SCHED_FIFO with
# reset-on-fork; the benchmark goroutine may run on any thread, so give the whole test binary
# the policy explicitly (the build above ran at normal priority).
rt=()
if chrt -p $$ 2>/dev/null | grep -q SCHED_FIFO; then rt=(chrt -f 10); fi
res=$("${rt[@]}" "$out/go-statbench.test" -test.run '^$' -test.bench "^$bench\$" -test.benchtime "${iterations}x" -test.count 3)
echo "$res" >&2
echo "$res" | awk -v b="$bench" '$1 ~ "^"b"(-[0-9]+)?$" { if (best == "" || $3 < best) best = $3 }
  END { if (best == "") exit 1; printf "go %.1f\n", best }'
