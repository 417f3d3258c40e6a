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

# --url: an attestd started here, quoted by the simulated platform it trusts.
attestd=$(cd "$(dirname "$attest")/../.." && pwd)/src/attestd/attestd
work=$(mktemp -d)
server_pid=
cleanup() {
    if [ -n "$server_pid" ]; then
        kill "$server_pid" 2>/dev/null
        wait "$server_pid" 2>/dev/null
    fi
    rm -rf "$work"
}
trap cleanup EXIT
"$attest" sim init --dir "$work/platform" >/dev/null
"$attest" sim collateral --dir "$work/platform" --tee sgx --pcs-dir "$work/pcs" >/dev/null
port=$(/usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
admin_key=$("$attestd" init --data-dir "$work/data" 2>/dev/null)
printf '{"insecure_http": true, "listen_address": "127.0.0.1", "listen_port": %s, "data_dir": "%s", "trust_root": "%s", "collateral_path": "%s", "rate_limit_per_second": 100000, "rate_limit_burst": 100000}\n' \
    "$port" "$work/data" "$work/platform/root-ca.der" "$work/pcs" >"$work/attestd.json"
"$attestd" serve --config "$work/attestd.json" 2>"$work/attestd.log" &
server_pid=$!
url="http://127.0.0.1:$port"
for _ in $(seq 100); do
    curl -sf "$url/healthz" >/dev/null 2>&1 && break
    sleep 0.1
done
admin() {
    curl -s -o /dev/null -w '%{http_code}' -X "$1" -H "Authorization: Bearer $admin_key" \
        -H 'Content-Type: application/json' ${3:+--data "$3"} "$url$2"
}
mrenclave=$(printf '42%.0s' $(seq 32))
policy=$(printf '{"evidence_types": ["sgx"], "sgx": {"mrenclave": ["%s"]}, "simulated_allowed": true}' \
    "$mrenclave")
check "--url: application created" test "$(admin POST /v1/applications '{"name": "bench"}')" = 201
check "--url: policy stored" test "$(admin PUT /v1/applications/bench/policies "$policy")" = 201
check "--url: policy activated" test "$(admin POST /v1/applications/bench/policies/1/activate)" = 200

url_output=$("$attest" bench service --url "$url" --sim-dir "$work/platform" --connections 2 \
    --seconds 1 --json 2>&1)
url_status=$?
check "--url: exits 0" test "$url_status" -eq 0
check "--url: no errors" jq -s -e '.[0].errors == 0' <<<"$url_output" >/dev/null
check "--url: attestations completed" jq -s -e '.[0].attestations > 0' <<<"$url_output" >/dev/null
[ "$url_status" -eq 0 ] || printf '%s\n' "$url_output"
no_dir_status=0
ATTEST_SIM_DIR='' "$attest" bench service --url "$url" --seconds 1 >/dev/null 2>"$work/no-dir.err" ||
    no_dir_status=$?
check "--url without --sim-dir is a usage error" test "$no_dir_status" -eq 2
check "--url without --sim-dir says why" grep -q -- "--sim-dir" "$work/no-dir.err"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
