#!/usr/bin/env bash
# Runs Microsoft's JavaScript SDK, the npm package @azure/attestation, against
# attestd's Azure-compatible API (tests/node/azure_attest.mjs): a real attestd
# on 127.0.0.1 with a simulated SGX platform, an application with an active
# policy, and quotes that bind runtime data as Azure requires.
#
# Usage: tests/cli/azure_compat.sh BUILD/src/cli/attest
# attestd is taken from the same build folder. `npm ci` installs the pinned
# packages into tests/node/node_modules when that folder is missing.
# Prints `ok - ...`/`not ok - ...` per check, then `N passed, N failed`.
set -euo pipefail

attest=$(realpath "${1:?usage: azure_compat.sh PATH_TO_ATTEST}")
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
build=$(cd "$(dirname "$attest")/../.." && pwd)
attestd=$build/src/attestd/attestd
python=/usr/bin/python3

passed=0
failed=0
server_pid=

work=$(mktemp -d)
cleanup() {
    if [ -n "$server_pid" ]; then
        kill "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT

ok() {
    echo "ok - $*"
    passed=$((passed + 1))
}

not_ok() {
    echo "not ok - $*"
    failed=$((failed + 1))
}

finish() {
    echo "$passed passed, $failed failed"
    [ "$failed" -eq 0 ]
    exit
}

if [ ! -x "$attestd" ]; then
    not_ok "attestd is not built at $attestd"
    finish
fi
if [ ! -d "$root/tests/node/node_modules/@azure/attestation" ]; then
    if ! (cd "$root/tests/node" && npm ci --no-audit --no-fund >"$work/npm.log" 2>&1); then
        not_ok "npm ci in tests/node failed: $(tail -c 500 "$work/npm.log")"
        finish
    fi
fi

# A simulated platform whose root attestd trusts, with its SGX collateral.
now=$(date +%s)
"$attest" sim init --dir "$work/platform" >/dev/null
"$attest" sim collateral --dir "$work/platform" --tee sgx --pcs-dir "$work/pcs" --at "$now" \
    >/dev/null

# The Azure binding: the first 32 bytes of report data are SHA-256 of the runtime data.
mrenclave=$(printf '33%.0s' $(seq 32))
printf 'runtime data of the azure_compat test' >"$work/runtime.bin"
printf '{"purpose":"azure-compat","version":1}' >"$work/runtime.json"
for name in runtime.bin runtime.json; do
    digest=$(sha256sum "$work/$name" | cut -d' ' -f1)
    "$attest" sim quote --dir "$work/platform" --tee sgx --mrenclave "$mrenclave" \
        --report-data "$digest" --out "$work/quote-$name"
done

# The SDK refuses plain HTTP, so attestd serves HTTPS with a self-signed
# certificate for 127.0.0.1 that Node trusts through NODE_EXTRA_CA_CERTS.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 \
    -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 \
    -keyout "$work/tls-key.pem" -out "$work/tls-cert.pem" 2>"$work/openssl.log"
port=$("$python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
endpoint_base="https://127.0.0.1:$port"
admin_key=$("$attestd" init --data-dir "$work/data" 2>"$work/init.log")
# The issuer is the address the SDK uses, so its issuer check compares real values.
cat >"$work/attestd.json" <<EOF
{"listen_address": "127.0.0.1", "listen_port": $port,
 "tls_cert_file": "$work/tls-cert.pem", "tls_key_file": "$work/tls-key.pem",
 "data_dir": "$work/data", "trust_root": "$work/platform/root-ca.der",
 "collateral_path": "$work/pcs", "issuer": "$endpoint_base"}
EOF
"$attestd" serve --config "$work/attestd.json" 2>"$work/attestd.log" &
server_pid=$!
for _ in $(seq 100); do
    if curl -sf --cacert "$work/tls-cert.pem" "$endpoint_base/healthz" >/dev/null 2>&1; then
        break
    fi
    sleep 0.1
done

# Sends an admin request and records whether the status is the expected one.
admin() {
    local expected=$1 method=$2 path=$3 body=${4:-}
    local status
    status=$(curl -s --cacert "$work/tls-cert.pem" -o "$work/reply" -w '%{http_code}' -X "$method" \
        -H "Authorization: Bearer $admin_key" -H 'Content-Type: application/json' \
        ${body:+--data "$body"} "$endpoint_base$path")
    if [ "$status" = "$expected" ]; then
        ok "$method $path returns $expected"
    else
        not_ok "$method $path returns $status, expected $expected: $(head -c 300 "$work/reply")"
    fi
}

admin 201 POST /v1/applications '{"name": "enclave-app"}'
admin 201 PUT /v1/applications/enclave-app/policies \
    "{\"evidence_types\": [\"sgx\"], \"sgx\": {\"mrenclave\": [\"$mrenclave\"]}, \"simulated_allowed\": true}"
admin 200 POST /v1/applications/enclave-app/policies/1/activate

status=0
AZURE_ENDPOINT="$endpoint_base/compat/azure/enclave-app" SGX_QUOTE="$work/quote-runtime.bin" \
    RUNTIME_DATA="$work/runtime.bin" SGX_QUOTE_JSON="$work/quote-runtime.json" \
    RUNTIME_JSON="$work/runtime.json" MRENCLAVE="$mrenclave" \
    NODE_EXTRA_CA_CERTS="$work/tls-cert.pem" \
    node "$root/tests/node/azure_attest.mjs" >"$work/node.out" 2>&1 || status=$?
grep -E '^(not )?ok - ' "$work/node.out" || true
summary=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$work/node.out" || true)
if [ -z "$summary" ]; then
    not_ok "azure_attest.mjs printed no summary (exit status $status): $(tail -c 800 "$work/node.out")"
else
    passed=$((passed + ${summary%% passed*}))
    node_failed=${summary#*, }
    failed=$((failed + ${node_failed%% failed}))
fi
if [ "$status" -ne 0 ] && [ -n "$summary" ] && [ "${node_failed%% failed}" -eq 0 ]; then
    not_ok "azure_attest.mjs exited with $status"
fi

# Every attestation is audited: two accepted and two rejected by the binding.
records=$(curl -s --cacert "$work/tls-cert.pem" -H "Authorization: Bearer $admin_key" \
    "$endpoint_base/v1/audit?application=enclave-app" |
    "$python" -c 'import json, sys; print(len(json.load(sys.stdin)["records"]))')
if [ "$records" = 4 ]; then
    ok "the audit log has a record of each of the 4 attestations"
else
    not_ok "the audit log has $records records, expected 4"
fi

# The npm package jose, given only the /certs URL, verifies a token of the Azure-compatible API.
b64url() { base64 -w0 "$1" | tr '+/' '-_' | tr -d '='; }
printf '{"quote": "%s", "runtimeData": {"data": "%s", "dataType": "Binary"}}' \
    "$(b64url "$work/quote-runtime.bin")" "$(b64url "$work/runtime.bin")" >"$work/azure-request.json"
curl -s --cacert "$work/tls-cert.pem" -H 'Content-Type: application/json' \
    --data @"$work/azure-request.json" -o "$work/azure-reply.json" \
    "$endpoint_base/compat/azure/enclave-app/attest/SgxEnclave?api-version=2022-08-01"
jq -r '.token // empty' "$work/azure-reply.json" >"$work/azure-token"
jose_verify() {
    NODE_EXTRA_CA_CERTS="$work/tls-cert.pem" node "$root/tests/node/verify_token.mjs" \
        --jwks "$endpoint_base/compat/azure/enclave-app/certs" \
        --issuer "$endpoint_base/compat/azure/enclave-app" --subject enclave-app "$1"
}
jose_status=0
jose_verify "$work/azure-token" >"$work/jose.json" 2>&1 || jose_status=$?
if [ "$jose_status" -eq 0 ] &&
    jq -e --arg m "$mrenclave" '.valid and .claims["x-ms-sgx-mrenclave"] == $m' \
        "$work/jose.json" >/dev/null; then
    ok "jose verifies the Azure-compatible token with the /certs URL only"
else
    not_ok "jose on the Azure-compatible token: exit $jose_status: $(head -c 600 "$work/jose.json")"
fi
# The same token with its payload swapped for another base64url text must fail.
awk -F. '{ printf "%s.%s.%s", $1, "eyJzdWIiOiJlbmNsYXZlLWFwcCJ9", $3 }' "$work/azure-token" \
    >"$work/azure-token-tampered"
jose_status=0
jose_verify "$work/azure-token-tampered" >"$work/jose-tampered.json" 2>&1 || jose_status=$?
if [ "$jose_status" -eq 1 ] && jq -e '.valid == false' "$work/jose-tampered.json" >/dev/null; then
    ok "jose rejects the Azure-compatible token with a swapped payload"
else
    not_ok "jose on a tampered token: exit $jose_status: $(head -c 600 "$work/jose-tampered.json")"
fi

kill "$server_pid"
server_status=0
wait "$server_pid" || server_status=$?
server_pid=
if [ "$server_status" -eq 0 ]; then
    ok "attestd stopped cleanly"
else
    not_ok "attestd exited with $server_status: $(tail -c 1000 "$work/attestd.log")"
fi
finish
