#!/usr/bin/env bash
# Differential test: verifies each unmodified real SGX/TDX quote that has a
# collateral bundle with both the independent verifier in
# ../shared/tools/dcap-oracle (the npm package @phala/dcap-qvl) and `attest`,
# and compares the outcomes: valid or not, TCB status, and advisory IDs as
# sets. Which check failed is not compared, because the two verifiers run
# their checks in different orders.
#
# Usage: scripts/oracle.sh [PATH_TO_ATTEST]   (default build-ci/src/cli/attest)
# Installs the verifier into $HOME/.cache/dcap-oracle (npm reaches the npm
# registry) and prints a final `N passed, N failed` line.
set -euo pipefail

# shellcheck source=scripts/lib.sh disable=SC1091
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ATTEST_ROOT"

attest=${1:-$ATTEST_ROOT/build-ci/src/cli/attest}
oracle_tool=$ATTEST_SHARED/tools/dcap-oracle
export DCAP_ORACLE_DIR=$HOME/.cache/dcap-oracle

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

section "Installing the independent verifier"
if [ -f "$DCAP_ORACLE_DIR/node_modules/@phala/dcap-qvl/package.json" ]; then
    echo "already installed in $DCAP_ORACLE_DIR"
else
    bash "$oracle_tool/setup" "$DCAP_ORACLE_DIR"
fi

passed=0
failed=0
skipped=0

# Prints the outcome of one verifier as {valid, status, advisories}, with
# status null and advisories [] when not valid.
normalize_oracle() {
    jq -c '{valid: .ok, status: (if .ok then .status else null end),
            advisories: (if .ok then (.advisory_ids | sort) else [] end)}' "$1"
}

normalize_attest() {
    jq -c '{valid: .valid, status: (if .valid then .tcb_status else null end),
            advisories: (if .valid then (.advisory_ids | sort) else [] end)}' "$1"
}

section "Comparing outcomes"
# name, quote, collateral bundle, verification time, and the reason to skip
# (empty when the row is compared). A row is skipped only where a known gap
# of the oracle (listed at the top of its verify.js) decides the outcome.
# NOTE: no row needs a skip today. Among the gaps, only debug enclaves,
# TD 1.5 quotes with a non-zero MR_SERVICETD, SGX TCB info version 2 and the
# Revoked status could change these rows, and none of them carries any.
while IFS='|' read -r name quote collateral at skip_reason; do
    if [ -n "$skip_reason" ]; then
        skipped=$((skipped + 1))
        echo "skip - $name: $skip_reason"
        continue
    fi

    oracle_status=0
    node "$oracle_tool/verify.js" "$ATTEST_REAL/$quote" "$ATTEST_REAL/$collateral" "$at" \
        </dev/null >"$work/$name.oracle.json" 2>"$work/$name.oracle.stderr" || oracle_status=$?
    attest_status=0
    "$attest" verify --quote "$ATTEST_REAL/$quote" --collateral "$ATTEST_REAL/$collateral" \
        --at "$at" --json </dev/null >"$work/$name.attest.json" 2>"$work/$name.attest.stderr" ||
        attest_status=$?

    echo "$name at $at:"
    echo "  oracle: $(head -c 300 "$work/$name.oracle.json") (exit $oracle_status)"
    echo "  attest: $(jq -c '{valid, tcb_status, advisory_ids, error: .error.code}' \
        "$work/$name.attest.json" 2>/dev/null || head -c 300 "$work/$name.attest.stderr") (exit $attest_status)"

    expected=$(normalize_oracle "$work/$name.oracle.json" 2>/dev/null) || expected=""
    actual=$(normalize_attest "$work/$name.attest.json" 2>/dev/null) || actual=""
    if [ -z "$expected" ]; then
        failed=$((failed + 1))
        echo "not ok - $name: the oracle printed no outcome"
    elif [ -z "$actual" ] || [ "$attest_status" -ge 2 ]; then
        failed=$((failed + 1))
        echo "not ok - $name: attest printed no outcome (exit $attest_status)"
    elif [ "$expected" = "$actual" ]; then
        passed=$((passed + 1))
        echo "ok - $name: both $actual"
    else
        failed=$((failed + 1))
        echo "not ok - $name: oracle $expected, attest $actual"
    fi
done <<'ROWS'
phala-sgx-v3|sgx/phala-sgx-v3.quote|sgx/phala-sgx-v3.collateral.json|1752919277|
phala-tdx-v4|tdx/phala-tdx-v4.quote|tdx/phala-tdx-v4.collateral.json|1752919234|
phala-tdx-v5-td15|tdx/phala-tdx-v5-td15.quote|tdx/phala-tdx-v5-td15.collateral.json|1774003274|
google-spr-e4-v4|tdx/google-spr-e4-v4.quote|tdx/google-spr-e4-v4.collateral.json|1688173200|
google-v5-td15-sample|tdx/google-v5-td15-sample.quote|tdx/phala-tdx-v5-td15.collateral.json|1774003274|
ROWS

echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
