#!/usr/bin/env bash
# Runs `attest sim pccs` on 127.0.0.1 with a port the kernel picks
# (--port-file), fetches every route with curl, checks status codes, headers
# and bodies, rebuilds PCS-style collateral files from the responses and
# verifies a simulated quote with them. Also checks --fail-after (503), the
# refusal of a non-loopback address, and the stop on SIGTERM.
#
# Usage: tests/cli/sim_pccs.sh PATH_TO_ATTEST
# Prints `ok - NAME` or `not ok - NAME: WHY` per check and a final
# `N passed, N failed` line; exits 1 when a check failed.
set -euo pipefail

attest=${1:?usage: sim_pccs.sh PATH_TO_ATTEST}

work=$(mktemp -d)
server_pid=""
stop_server() {
    if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
        kill "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
    fi
    server_pid=""
}
trap 'stop_server; rm -rf "$work"' EXIT

# Collateral issue and verification time: 2025-10-09T08:53:20Z.
at=1760000000
platform=$work/platform

passed=0
failed=0

pass() {
    passed=$((passed + 1))
    echo "ok - $1"
}

fail() {
    failed=$((failed + 1))
    echo "not ok - $1: $2"
}

# Starts the server with the extra options given and sets $base; returns 1 when it does not start.
start_server() {
    rm -f "$work/port"
    "$attest" sim pccs --dir "$platform" --listen 127.0.0.1:0 --at "$at" \
        --port-file "$work/port" "$@" >"$work/server.out" 2>"$work/server.err" &
    server_pid=$!
    for _ in $(seq 1 100); do
        if [ -s "$work/port" ]; then
            base="http://127.0.0.1:$(cat "$work/port")"
            return 0
        fi
        if ! kill -0 "$server_pid" 2>/dev/null; then
            break
        fi
        sleep 0.05
    done
    return 1
}

# GETs ROUTE into $work/NAME.body and $work/NAME.headers and prints the status code.
get() {
    local name=$1 route=$2
    curl --noproxy '*' -s --max-time 5 -D "$work/$name.headers" -o "$work/$name.body" \
        -w '%{http_code}' "$base$route" || echo "000"
}

# Checks that GET ROUTE returns STATUS.
# Usage: check_status NAME STATUS ROUTE
check_status() {
    local name=$1 expected=$2 route=$3
    local status
    status=$(get "$name" "$route")
    if [ "$status" = "$expected" ]; then
        pass "$name: status $expected"
    else
        fail "$name: status $expected" "got $status for $route"
    fi
}

# Prints the URL-decoded value of header NAME in FILE.
header_decoded() {
    local value
    value=$(grep -i "^$2:" "$1" | awk 'NR == 1' | cut -d: -f2- | tr -d '\r' | sed 's/^ *//')
    printf '%b' "${value//%/\\x}"
}

if ! "$attest" sim init --dir "$platform" >/dev/null 2>&1; then
    fail "sim init" "attest sim init failed"
    echo "$passed passed, $failed failed"
    exit 1
fi
"$attest" sim collateral --dir "$platform" --tee sgx --pcs-dir "$work/expected-sgx" --at "$at" \
    >/dev/null
"$attest" sim quote --dir "$platform" --tee sgx --out "$work/sgx.quote" >/dev/null
"$attest" sim quote --dir "$platform" --tee tdx --out "$work/tdx.quote" >/dev/null

if start_server; then
    pass "server starts and writes its port file"
else
    fail "server starts and writes its port file" "$(head -c 300 "$work/server.err")"
    echo "$passed passed, $failed failed"
    exit 1
fi
if grep -qx "$base" "$work/server.out"; then
    pass "server prints its URL"
else
    fail "server prints its URL" "stdout: $(head -c 200 "$work/server.out")"
fi

# Status codes of every route, good and bad requests.
check_status sgx-tcb 200 "/sgx/certification/v4/tcb?fmspc=53494D000000"
check_status tdx-tcb 200 "/tdx/certification/v4/tcb?fmspc=53494D000000&update=early"
check_status sgx-qe 200 "/sgx/certification/v4/qe/identity"
check_status tdx-qe 200 "/tdx/certification/v4/qe/identity?update=standard"
check_status pckcrl-processor 200 "/sgx/certification/v4/pckcrl?ca=processor&encoding=der"
check_status pckcrl-platform 200 "/sgx/certification/v4/pckcrl?ca=platform&encoding=der"
check_status pckcrl-pem 200 "/sgx/certification/v4/pckcrl?ca=processor"
check_status rootcacrl 200 "/sgx/certification/v4/rootcacrl"
check_status unknown-fmspc 404 "/sgx/certification/v4/tcb?fmspc=00906EA10000"
check_status short-fmspc 400 "/sgx/certification/v4/tcb?fmspc=53494D"
check_status bad-ca 400 "/sgx/certification/v4/pckcrl?ca=root"
check_status bad-update 400 "/tdx/certification/v4/qe/identity?update=sometimes"
check_status unknown-route 404 "/sgx/certification/v3/tcb?fmspc=53494D000000"

# Headers: each issuer chain, URL-decoded, equals the PEM of `attest sim collateral`.
check_chain() {
    local name=$1 header=$2 expected=$3
    if [ "$(header_decoded "$work/$name.headers" "$header")" = "$(cat "$expected")" ]; then
        pass "$name: $header decodes to the expected chain"
    else
        fail "$name: $header decodes to the expected chain" \
            "$(grep -i "^$header:" "$work/$name.headers" | cut -c 1-120)"
    fi
}
check_chain sgx-tcb TCB-Info-Issuer-Chain "$work/expected-sgx/tcb-info-issuer-chain.pem"
check_chain sgx-qe SGX-Enclave-Identity-Issuer-Chain \
    "$work/expected-sgx/qe-identity-issuer-chain.pem"
check_chain pckcrl-processor SGX-PCK-CRL-Issuer-Chain \
    "$work/expected-sgx/pck-crl-issuer-chain.pem"

if grep -qi '^Content-Type: application/json' "$work/sgx-tcb.headers" &&
    jq -e '.tcbInfo.fmspc == "53494D000000" and (.signature | length) == 128' \
        "$work/sgx-tcb.body" >/dev/null; then
    pass "sgx-tcb: body is {tcbInfo, signature} for FMSPC 53494D000000"
else
    fail "sgx-tcb: body is {tcbInfo, signature} for FMSPC 53494D000000" \
        "$(head -c 200 "$work/sgx-tcb.body")"
fi
if jq -e '.enclaveIdentity.id == "TD_QE"' "$work/tdx-qe.body" >/dev/null; then
    pass "tdx-qe: body is the TD_QE identity"
else
    fail "tdx-qe: body is the TD_QE identity" "$(head -c 200 "$work/tdx-qe.body")"
fi
if head -n 1 "$work/pckcrl-pem.body" | grep -q -- '-----BEGIN X509 CRL-----'; then
    pass "pckcrl-pem: default encoding is PEM"
else
    fail "pckcrl-pem: default encoding is PEM" "$(head -c 80 "$work/pckcrl-pem.body")"
fi
if grep -Eq '^[0-9a-f]+$' "$work/rootcacrl.body"; then
    pass "rootcacrl: body is hex text"
else
    fail "rootcacrl: body is hex text" "$(head -c 80 "$work/rootcacrl.body")"
fi

# Collateral rebuilt from the responses verifies a simulated quote of each TEE.
rebuild_and_verify() {
    local tee=$1 tcb=$2 qe=$3 crl=$4
    local dir=$work/fetched-$tee
    mkdir -p "$dir"
    cp "$work/$tcb.body" "$dir/tcb-info.json"
    cp "$work/$qe.body" "$dir/qe-identity.json"
    cp "$work/$crl.body" "$dir/pck-crl.der"
    local hex
    hex=$(cat "$work/rootcacrl.body")
    # shellcheck disable=SC2001
    printf '%b' "$(sed 's/../\\x&/g' <<<"$hex")" >"$dir/root-ca-crl.der"
    header_decoded "$work/$tcb.headers" TCB-Info-Issuer-Chain >"$dir/tcb-info-issuer-chain.pem"
    header_decoded "$work/$qe.headers" SGX-Enclave-Identity-Issuer-Chain \
        >"$dir/qe-identity-issuer-chain.pem"
    header_decoded "$work/$crl.headers" SGX-PCK-CRL-Issuer-Chain >"$dir/pck-crl-issuer-chain.pem"

    local status=0
    "$attest" verify --quote "$work/$tee.quote" --collateral "$dir" --at "$at" \
        --trust-root "$platform/root-ca.der" --json >"$work/verify-$tee.json" 2>&1 || status=$?
    if [ "$status" -eq 0 ] &&
        jq -e '.valid == true and .tcb_status == "UpToDate"' "$work/verify-$tee.json" >/dev/null; then
        pass "$tee quote verifies with collateral fetched from the simulated PCCS"
    else
        fail "$tee quote verifies with collateral fetched from the simulated PCCS" \
            "exit $status: $(head -c 300 "$work/verify-$tee.json")"
    fi
}
rebuild_and_verify sgx sgx-tcb sgx-qe pckcrl-processor
rebuild_and_verify tdx tdx-tcb tdx-qe pckcrl-platform

# SIGTERM stops the server with exit status 0.
kill -TERM "$server_pid"
stop_status=0
wait "$server_pid" || stop_status=$?
server_pid=""
if [ "$stop_status" -eq 0 ] && grep -q 'stopping on signal' "$work/server.err"; then
    pass "server stops on SIGTERM with exit status 0"
else
    fail "server stops on SIGTERM with exit status 0" "exit $stop_status"
fi

# --fail-after 2: two responses, then 503.
if start_server --fail-after 2; then
    check_status fail-after-1 200 "/sgx/certification/v4/rootcacrl"
    check_status fail-after-2 200 "/sgx/certification/v4/qe/identity"
    check_status fail-after-3 503 "/sgx/certification/v4/rootcacrl"
    stop_server
else
    fail "server starts with --fail-after" "$(head -c 300 "$work/server.err")"
fi

# Bad start-up arguments exit with 2 and name the value.
check_refused() {
    local name=$1 expected=$2
    shift 2
    local status=0
    "$attest" sim pccs "$@" >"$work/$name.out" 2>"$work/$name.err" || status=$?
    if [ "$status" -eq 2 ] && grep -q -- "$expected" "$work/$name.err"; then
        pass "$name: exit status 2"
    else
        fail "$name: exit status 2" "got $status: $(head -c 200 "$work/$name.err")"
    fi
}
check_refused non-loopback "not a loopback address" --dir "$platform" --listen 192.0.2.1:0
check_refused bad-port "is not a number" --dir "$platform" --listen 127.0.0.1:70000
check_refused missing-dir "required" --listen 127.0.0.1:0
check_refused no-platform "root-ca\|cannot\|missing\|No such" --dir "$work/none" \
    --listen 127.0.0.1:0

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
