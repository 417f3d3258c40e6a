#!/usr/bin/env bash
# The main job: installs what is missing, builds attest in build-demo and
# verifies each real SGX and TDX quote with its collateral at the time at
# which that collateral was current, printing one outcome per quote.
# Run as root from the repository root of a Debian 12 machine, with the
# shared data folder at ../shared.
# Then it runs the attester-to-verifier path on the simulated platform:
# evidence bound to a nonce, its collateral, and verification with the
# simulated root trusted explicitly. Last, it starts attestd over HTTPS on
# 127.0.0.1 with its defaults (a generated signing key, a fresh SQLite
# database), registers an application and its policy, attests a simulated
# enclave through the API, shows the token's claims, and stops the service.
set -euo pipefail

# shellcheck source=scripts/lib.sh disable=SC1091
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ATTEST_ROOT"

section "Packages"
install_packages

section "Build: build-demo"
meson_build build-demo -Dfuzz=false -Dtests=false
attest=$ATTEST_ROOT/build-demo/src/cli/attest
attestd=$ATTEST_ROOT/build-demo/src/attestd/attestd

section "attest verify on the real quotes"
# Quote, collateral (bundle, PCS folder or "-" for none), verification time
# (Unix seconds) and what that row shows.
while IFS='|' read -r quote collateral at what; do
    args=(verify --quote "$ATTEST_REAL/$quote" --at "$at" --json)
    if [ "$collateral" != "-" ]; then
        args+=(--collateral "$ATTEST_REAL/$collateral")
    fi

    status=0
    output=$("$attest" "${args[@]}" </dev/null) || status=$?
    if [ "$status" -ge 2 ]; then
        echo "attest failed on $quote with exit status $status" >&2
        exit 1
    fi

    printf '\n%s, collateral %s, at %s (%s)\n  %s\n' "$quote" "$collateral" \
        "$(date -u -d "@$at" +%Y-%m-%dT%H:%M:%SZ)" "$what" \
        "$(jq -r 'if .valid
                  then "valid: \(.tcb_status), advisories [\(.advisory_ids | join(", "))]"
                  else "not valid: stage \(.error.stage), \(.error.code): \(.error.message)"
                  end' <<<"$output")"
done <<'ROWS'
sgx/phala-sgx-v3.quote|sgx/phala-sgx-v3.collateral.json|1752919277|SGX quote v3
sgx/phala-sgx-v3.quote|sgx/phala-sgx-v3.collateral.json|1752920000|after the QE identity's nextUpdate
sgx/trustee-occlum-debug-v3.quote|-|1704067200|debug enclave, no collateral
tdx/phala-tdx-v4.quote|tdx/phala-tdx-v4.collateral.json|1752919234|TDX quote v4
tdx/phala-tdx-v5-td15.quote|tdx/phala-tdx-v5-td15.collateral.json|1774003274|TDX quote v5, TD 1.5 body
tdx/google-spr-e4-v4.quote|tdx/google-spr-e4-pcs|1688173200|TDX quote v4, collateral as PCS files
tdx/google-spr-e4-v4.quote|tdx/google-spr-e4-v4.collateral.json|1688173200|the same collateral as a bundle
tdx/google-v5-td15-sample.quote|-|1770080400|TDX quote v5, no collateral
tdx/google-v5-td15-sample.quote|tdx/phala-tdx-v5-td15.collateral.json|1774003274|TDX quote v5 with collateral of the same FMSPC
tdx/trustee-debug-v4.quote|-|1704067200|debug TD, no collateral
ROWS

section "Simulated platform: evidence, collateral and verification"
sim=$(mktemp -d)
trap 'rm -rf "$sim"' EXIT
"$attest" sim init --dir "$sim/platform"
nonce=$(head -c 32 /dev/urandom | xxd -p -c 64)
printf 'worker-1 public key' >"$sim/runtime-data"
for tee in sgx tdx; do
    "$attest" evidence --backend sim --sim-dir "$sim/platform" --tee "$tee" \
        --nonce "$nonce" --runtime-data "$sim/runtime-data" --out "$sim/$tee.quote"
    "$attest" sim collateral --dir "$sim/platform" --tee "$tee" --out "$sim/$tee.json"
    status=0
    output=$("$attest" verify --quote "$sim/$tee.quote" --collateral "$sim/$tee.json" \
        --trust-root "$sim/platform/root-ca.der" --json </dev/null) || status=$?
    if [ "$status" -ne 0 ]; then
        echo "the simulated $tee quote did not verify (exit status $status)" >&2
        exit 1
    fi
    printf '\nsimulated %s quote: %s\n' "$tee" \
        "$(jq -r '"valid: \(.tcb_status), simulated: \(.simulated), report data \(.claims.body.report_data[0:16])..."' <<<"$output")"
done

section "attestd: the attestation service, end to end over HTTPS"
service=$sim/service
mkdir -p "$service"
port=$((20000 + RANDOM % 20000))
url=https://127.0.0.1:$port
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 \
    -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 \
    -keyout "$service/tls-key.pem" -out "$service/tls-cert.pem" 2>/dev/null
"$attest" sim collateral --dir "$sim/platform" --tee sgx --out "$service/collateral.json"
admin_key=$("$attestd" init --data-dir "$service/data")
cat >"$service/attestd.json" <<CONFIG
{"listen_port": $port, "data_dir": "$service/data",
 "tls_cert_file": "$service/tls-cert.pem", "tls_key_file": "$service/tls-key.pem",
 "collateral_path": "$service/collateral.json",
 "trust_root": "$sim/platform/root-ca.der", "issuer": "$url"}
CONFIG
"$attestd" serve --config "$service/attestd.json" 2>"$service/attestd.log" &
attestd_pid=$!
trap 'kill "$attestd_pid" 2>/dev/null; wait "$attestd_pid" 2>/dev/null; rm -rf "$sim"' EXIT
api() {
    curl -s --cacert "$service/tls-cert.pem" -H "Authorization: Bearer $admin_key" \
        -H 'Content-Type: application/json' "$@"
}
for _ in $(seq 100); do
    api -o /dev/null "$url/healthz" && break
    sleep 0.1
done

# The policy names the simulated enclave's MRENCLAVE, read from its quote.
# (attest verify exits 1 here, because no collateral is given: the claims are still printed.)
mrenclave=$({ "$attest" verify --quote "$sim/sgx.quote" --json || true; } | jq -r .claims.body.mr_enclave)
api -X POST "$url/v1/applications" -d '{"name": "trainer"}' >/dev/null
version=$(api -X PUT "$url/v1/applications/trainer/policies" -d "{
    \"evidence_types\": [\"sgx\"], \"sgx\": {\"mrenclave\": [\"$mrenclave\"]},
    \"simulated_allowed\": true}" | jq -r .version)
api -X POST "$url/v1/applications/trainer/policies/$version/activate" >/dev/null

# The attester: a nonce from the service, evidence bound to it, then attest.
nonce=$(api -X POST "$url/v1/nonce")
"$attest" evidence --backend sim --sim-dir "$sim/platform" --tee sgx \
    --nonce "$(jq -r .value <<<"$nonce")" --out "$service/quote.bin" 2>/dev/null
result=$(api -X POST "$url/v1/attest" -d "{\"application\": \"trainer\",
    \"evidence\": \"$(base64 -w0 "$service/quote.bin")\", \"nonce\": $(jq .nonce <<<"$nonce")}")
printf '\nattestd verdict: %s\n' "$(jq -r '.verdict + (if .failure then ": " + .failure.code else "" end)' <<<"$result")"
token=$(jq -r .token <<<"$result")
if [ "$token" = null ]; then
    echo "attestd issued no token" >&2
    exit 1
fi
payload=$(cut -d. -f2 <<<"$token" | tr '_-' '/+')
while [ $((${#payload} % 4)) -ne 0 ]; do payload=$payload=; done
echo "token claims:"
base64 -d <<<"$payload" | jq '{iss, sub, exp, attester_type, tcb_status, simulated, sgx_mrenclave, policy_version, ear_status: .submods.sgx["ear.status"]}'
echo "published keys: $(api "$url/.well-known/jwks.json" | jq -r '[.keys[].kid] | join(", ")')"
