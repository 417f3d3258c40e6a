#!/usr/bin/env bash
# The main job: installs what is missing, builds attest in build-demo and
# verifies each real SGX and TDX quote with its collateral at the time at
# which that collateral was current, printing one outcome per quote.
# Run as root from the repository root of a Debian 12 machine, with the
# shared data folder at ../shared.
# Then it runs the attester-to-verifier path on the simulated platform:
# evidence bound to a nonce, its collateral, and verification with the
# simulated root trusted explicitly. Last, scripts/job.sh runs a small
# distributed job on 127.0.0.1: attestd over HTTPS, a server and two workers
# started through attest exec that exchange data only after verifying each
# other's tokens, and a modified worker that attestd rejects. It exits with
# 0 only if all of that happened.
set -euo pipefail

# shellcheck source=scripts/lib.sh disable=SC1091
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ATTEST_ROOT"

section "Packages"
install_packages

section "Build: build-demo"
meson_build build-demo -Dfuzz=false -Dtests=false
attest=$ATTEST_ROOT/build-demo/src/cli/attest

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

section "attestd and a distributed job on the simulated platform"
bash "$ATTEST_ROOT/scripts/job.sh" "$ATTEST_ROOT/build-demo"
