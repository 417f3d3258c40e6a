#!/usr/bin/env bash
# The test command. Run as root from the repository root of a Debian 12
# machine, with the shared data folder at ../shared (read-only).
#
# 1. Installs the missing Debian packages.
# 2. Builds build-ci and runs the unit tests.
# 3. Builds build-ci-asan with AddressSanitizer and UBSan and runs them again.
# 4. Runs tests/cli/*.sh against build-ci's attest binary.
# 5. Runs scripts/fuzz.sh (every fuzz target, a fixed number of inputs).
# 6. Runs scripts/oracle.sh (outcomes compared with an independent verifier).
#
# Every step runs even when an earlier one failed. The last line is
# `N passed, N failed`, summing test executables, CLI checks, fuzz runs and
# oracle comparisons, with a build that fails counted as one failure. The
# exit status is non-zero when anything failed.
set -euo pipefail

# shellcheck source=scripts/lib.sh disable=SC1091
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ATTEST_ROOT"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

passed=0
failed=0
run_count=0

add_counts() {
    passed=$((passed + $1))
    failed=$((failed + $2))
}

# Adds the results of the last `meson test` in build folder DIR from its
# test log: OK counts as passed, SKIP is left out, anything else failed.
add_meson_counts() {
    local log=$1/meson-logs/testlog.json
    if [ ! -s "$log" ]; then
        add_counts 0 1
        return
    fi
    add_counts "$(jq -s '[.[] | select(.result == "OK")] | length' "$log")" \
        "$(jq -s '[.[] | select(.result != "OK" and .result != "SKIP")] | length' "$log")"
}

# Runs the command (which prints its own `N passed, N failed` line) with its
# output shown and adds its counts. A failing run that reports no failure
# counts as one failure more.
run_counted() {
    run_count=$((run_count + 1))
    local log=$work/run-$run_count.log
    local status=0
    "$@" </dev/null 2>&1 | tee "$log" || status=$?

    local counts
    counts=$(read_counts "$log")
    if [ -z "$counts" ]; then
        counts="0 0"
    fi
    # shellcheck disable=SC2086
    add_counts $counts
    if [ "$status" -ne 0 ] && [ "${counts#* }" -eq 0 ]; then
        echo "failed with exit status $status"
        add_counts 0 1
    fi
}

# Runs `meson test` in DIR, with any environment given as NAME=VALUE first.
run_meson_tests() {
    local dir=$1
    shift
    rm -f "$dir/meson-logs/testlog.json"
    env "$@" meson test -C "$dir" --print-errorlogs --num-processes 2 </dev/null || true
    add_meson_counts "$dir"
}

section "Packages"
install_packages

section "Build: build-ci"
normal_built=false
if meson_build build-ci -Dfuzz=false -Dtests=true; then
    normal_built=true
else
    echo "build-ci failed to build"
    add_counts 0 1
fi

section "Unit tests: build-ci"
if $normal_built; then
    run_meson_tests build-ci
else
    echo "skipped: build-ci did not build"
fi

section "Build: build-ci-asan (AddressSanitizer, UBSan)"
asan_built=false
if meson_build build-ci-asan -Dfuzz=false -Dtests=true -Db_sanitize=address,undefined \
    -Db_lundef=false; then
    asan_built=true
else
    echo "build-ci-asan failed to build"
    add_counts 0 1
fi

section "Unit tests: build-ci-asan"
if $asan_built; then
    run_meson_tests build-ci-asan UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
        ASAN_OPTIONS=detect_leaks=1
else
    echo "skipped: build-ci-asan did not build"
fi

for script in tests/cli/*.sh; do
    section "CLI: $script"
    run_counted bash "$script" "$ATTEST_ROOT/build-ci/src/cli/attest"
done

section "Fuzzing: scripts/fuzz.sh"
run_counted bash scripts/fuzz.sh

section "Independent verifier: scripts/oracle.sh"
run_counted bash scripts/oracle.sh "$ATTEST_ROOT/build-ci/src/cli/attest"

section "Summary"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
