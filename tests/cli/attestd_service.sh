#!/usr/bin/env bash
# Service tests of attestd (tests/service/test_attestd.py): real attestd
# processes on 127.0.0.1 with temporary data folders.
#
# Usage: tests/cli/attestd_service.sh BUILD/src/cli/attest
# attestd is taken from the same build folder. When a sanitizer build of the
# same name with an -asan suffix exists beside it (build-ci-asan beside
# build-ci), the tests run against its attestd as well.
# Prints `ok - ...`/`not ok - ...` per test, then `N passed, N failed`.
set -uo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
build=$(cd "$(dirname "$1")/../.." && pwd)
attestd=$build/src/attestd/attestd
asan_attestd=${build}-asan/src/attestd/attestd
export ATTEST_POLICY_EXAMPLE=$root/docs/examples/policy-sgx.json
export ATTEST=$build/src/cli/attest
# Debian's interpreter, which has python3-jwt; another python3 may come first on PATH.
python=/usr/bin/python3
[ -x "$python" ] || python=python3

passed=0
failed=0

# Runs the Python tests against one attestd binary and adds their counts.
run_tests() {
    local binary=$1
    local label=$2
    if [ ! -x "$binary" ]; then
        echo "not ok - $label: attestd not built at $binary"
        failed=$((failed + 1))
        return
    fi
    local output
    output=$(for test in "$root"/tests/service/test_*.py; do
        ATTESTD=$binary "$python" -W ignore "$test" --tap 2>&1
    done)
    printf '%s\n' "$output" | grep -E '^(not )?ok - ' | sed "s/^\(\(not \)\?ok - \)/\1$label: /"
    local counts
    counts=$(printf '%s\n' "$output" | grep -E '^[0-9]+ passed, [0-9]+ failed$' |
        awk '{ passed += $1; failed += $3 } END { if (NR > 0) print passed " passed, " failed " failed" }')
    if [ -z "$counts" ]; then
        printf '%s\n' "$output" | tail -n 30
        echo "not ok - $label: the test run printed no summary"
        failed=$((failed + 1))
        return
    fi
    if printf '%s\n' "$output" | grep -q '^not ok - '; then
        printf '%s\n' "$output" | grep -vE '^(not )?ok - ' | tail -n 60
    fi
    passed=$((passed + ${counts%% passed*}))
    local failures=${counts#*, }
    failed=$((failed + ${failures%% failed}))
}

run_tests "$attestd" "attestd"
if [ -x "$asan_attestd" ]; then
    ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
        run_tests "$asan_attestd" "attestd (ASan, UBSan)"
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
