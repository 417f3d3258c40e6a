#!/usr/bin/env bash
# Checks that `attest bench service` runs end to end: it starts its own
# attestd on 127.0.0.1, completes nonce + attest round trips without an
# error, and stops the service. Rates are not asserted: they are measured
# by the benchmark and recorded in docs/benchmarks.md.
#
# Usage: tests/cli/bench_service.sh BUILD/src/cli/attest
set -uo pipefail

attest=$1
passed=0
failed=0

check() {
    local name=$1
    shift
    if "$@"; then
        echo "ok - $name"
        passed=$((passed + 1))
    else
        echo "not ok - $name"
        failed=$((failed + 1))
    fi
}

output=$("$attest" bench service --connections 4 --seconds 1 --json 2>&1)
status=$?
check "bench service exits 0" test "$status" -eq 0
check "bench service prints JSON" jq -e . <<<"$output" >/dev/null
check "no errors" jq -s -e '.[0].errors == 0' <<<"$output" >/dev/null
check "attestations completed" jq -s -e '.[0].attestations > 0' <<<"$output" >/dev/null
check "library rate measured" jq -s -e '.[0].library_cached_per_second > 0' <<<"$output" >/dev/null
check "attestd memory read" jq -s -e '.[0].attestd_peak_rss_kib > 0' <<<"$output" >/dev/null
check "no attestd left running" bash -c '! pgrep -f "[a]ttest-bench-.*/attestd.json" >/dev/null'
[ "$failed" -eq 0 ] || printf '%s\n' "$output"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
