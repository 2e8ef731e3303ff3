#!/usr/bin/env bash
# The one command that sets up a fresh machine and runs every test suite:
#   library + CLI + ABI checks (ctest), bindings (go test, cargo test, dotnet test), samples,
#   an ASan+UBSan build of the C++ suites and bounded fuzz runs.
# Prints a summary line "N passed, M failed" (suites) at the end; exits non-zero on any failure.
# Environment: OPENCIM_SKIP_SANITIZERS=1 skips the sanitizer/fuzz stage (for quick local runs).
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

bash tools/setup.sh || { echo "setup failed"; exit 1; }

jobs=$(nproc)
build=${OPENCIM_BUILD_DIR:-$root/build}
passed=0 failed=0 failedNames=()
stage() {  # stage NAME COMMAND...
  local name=$1; shift
  echo; echo "=== $name ==="
  local t0=$SECONDS
  if "$@"; then
    passed=$((passed + 1)); echo "=== $name: ok ($((SECONDS - t0)) s) ==="
  else
    failed=$((failed + 1)); failedNames+=("$name"); echo "=== $name: FAILED ($((SECONDS - t0)) s) ==="
  fi
}

build_main() {
  cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DOPENCIM_WERROR=ON >/dev/null &&
    cmake --build "$build" -j"$jobs"
}
stage "build" build_main || true
[ $failed -eq 0 ] || { echo "0 passed, 1 failed"; exit 1; }

stage "ctest (unit, integration, ABI, CLI)" ctest --test-dir "$build" --output-on-failure -j"$jobs" --timeout 900

for runner in "$root"/bindings/*/test.sh "$root"/samples/run.sh "$root"/tests/abi/abidiff.sh; do
  [ -x "$runner" ] || continue
  stage "$(realpath --relative-to="$root" "$runner")" env OPENCIM_BUILD_DIR="$build" "$runner"
done

if [ "${OPENCIM_SKIP_SANITIZERS:-0}" != 1 ]; then
  sanitize() {
    local b="$root/build-asan"
    cmake -S "$root" -B "$b" -DCMAKE_BUILD_TYPE=Debug -DOPENCIM_SANITIZE=address >/dev/null &&
      cmake --build "$b" -j"$jobs" --target opencim_unit_tests opencim_integration_tests make_fuzz_seeds \
        fuzz_image fuzz_names fuzz_ea fuzz_posix fuzz_block fuzz_tar &&
      ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
        ctest --test-dir "$b" --output-on-failure -j"$jobs" -L 'unit|integration' --timeout 1800
  }
  stage "ASan+UBSan suite" sanitize
  # ThreadSanitizer over the tests that run threads: concurrent readers/writers on one handle,
  # verification from many threads, mounts (FUSE serving threads) and dismount under load.
  # Suppressions (each with its reason) live in tools/tsan.supp.
  tsan() {
    local b="$root/build-tsan" filter='*Concurren*:*Thread*:*Mount*:*Stress*:*Hammer*'
    cmake -S "$root" -B "$b" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DOPENCIM_SANITIZE=thread >/dev/null &&
      cmake --build "$b" -j"$jobs" --target opencim_unit_tests opencim_integration_tests &&
      TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1:suppressions=$root/tools/tsan.supp" \
        "$b/tests/opencim_unit_tests" --gtest_filter="$filter" &&
      TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1:suppressions=$root/tools/tsan.supp" \
        "$b/tests/opencim_integration_tests" --gtest_filter="$filter"
  }
  stage "TSan (threads, mounts)" tsan
  [ -x "$root/tests/fuzz/run.sh" ] && stage "fuzz (bounded)" "$root/tests/fuzz/run.sh" 60
fi

echo
[ ${#failedNames[@]} -eq 0 ] || echo "failed suites: ${failedNames[*]}"
echo "$passed passed, $failed failed"
[ $failed -eq 0 ]
