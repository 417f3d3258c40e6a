#!/usr/bin/env bash
# Runs the simulated platform end to end through the attest command. It
# creates a platform and verifies the evidence of every scenario of both TEEs
# with `attest verify --trust-root`. jq checks the exact outcome of each:
# valid, tcb_status, advisory_ids, or error stage and code. It also checks
# `attest sim quote` and `attest sim collateral` (bundle and PCS-style
# files), the trust boundary between simulated and real evidence, and the
# errors for bad input.
#
# Usage: tests/cli/sim_scenarios.sh PATH_TO_ATTEST
# Prints `ok - NAME` or `not ok - NAME: WHY` per check and a final
# `N passed, N failed` line; exits 1 when a check failed.
set -euo pipefail

attest=${1:?usage: sim_scenarios.sh PATH_TO_ATTEST}
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
real=${ATTEST_REAL_DATA:-$root/../shared/data/real}

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
platform=$work/platform
# Verification time of every scenario: 2025-10-09T08:53:20Z.
at=1760000000

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

# Runs COMMAND... and checks that it exits with EXPECTED_STATUS; its stdout
# and stderr are kept in $work/NAME.out and $work/NAME.err.
# Usage: run_status NAME EXPECTED_STATUS COMMAND...
run_status() {
    local name=$1 expected=$2
    shift 2
    local status=0
    "$@" >"$work/$name.out" 2>"$work/$name.err" || status=$?
    if [ "$status" -eq "$expected" ]; then
        pass "$name: exit status $expected"
    else
        fail "$name: exit status $expected" \
            "got $status; stderr: $(head -c 300 "$work/$name.err" | tr '\n' ' ')"
    fi
}

# Checks that the jq FILTER is true on the single JSON value in $work/NAME.out.
# Usage: expect NAME DESCRIPTION FILTER
expect() {
    local name=$1 description=$2 filter=$3
    if jq -e -s "length == 1 and (.[0] | ($filter))" "$work/$name.out" >/dev/null 2>&1; then
        pass "$name: $description"
    else
        local summary
        summary=$(jq -c '{valid, tcb_status, advisory_ids, error}' "$work/$name.out" 2>/dev/null |
            head -c 400) || true
        fail "$name: $description" "output ${summary:-is not a JSON object}"
    fi
}

# Checks that $work/NAME.err contains TEXT.
# Usage: expect_stderr NAME TEXT
expect_stderr() {
    local name=$1 text=$2
    if grep -qF -- "$text" "$work/$name.err"; then
        pass "$name: error names \"$text\""
    else
        fail "$name: error names \"$text\"" "stderr: $(head -c 300 "$work/$name.err" | tr '\n' ' ')"
    fi
}

run_status init 0 "$attest" sim init --dir "$platform"
run_status init-again 0 "$attest" sim init --dir "$platform"
if grep -q "reusing" "$work/init-again.out"; then
    pass "init-again: reuses the existing platform"
else
    fail "init-again: reuses the existing platform" "output: $(cat "$work/init-again.out")"
fi
if [ -s "$platform/root-ca.der" ] && [ "$(stat -c %a "$platform/root-ca-key.pem")" = 600 ]; then
    pass "init: root-ca.der written, keys mode 0600"
else
    fail "init: root-ca.der written, keys mode 0600" "$(ls -l "$platform" | tr '\n' ' ')"
fi

# ---- The scenario matrix ----

# NAME TEES STATUS ADVISORIES STAGE CODE DEBUG, with "-" for an empty field.
# TEES is sgx,tdx or tdx; STATUS "-" means not valid with STAGE and CODE.
matrix=$(
    cat <<'ROWS'
up-to-date sgx,tdx UpToDate - - - false
sw-hardening-needed sgx,tdx SWHardeningNeeded INTEL-SA-00615 - - false
configuration-needed sgx,tdx ConfigurationNeeded INTEL-SA-00289 - - false
configuration-and-sw-hardening-needed sgx,tdx ConfigurationAndSWHardeningNeeded INTEL-SA-00289,INTEL-SA-00615 - - false
out-of-date sgx,tdx OutOfDate INTEL-SA-00828 - - false
out-of-date-configuration-needed sgx,tdx OutOfDateConfigurationNeeded INTEL-SA-00289,INTEL-SA-00828 - - false
tcb-revoked sgx,tdx Revoked INTEL-SA-00828 - - false
qe-out-of-date sgx,tdx OutOfDate INTEL-SA-00477 - - false
qe-revoked sgx,tdx Revoked INTEL-SA-00477 - - false
tdx-module-out-of-date tdx OutOfDate INTEL-SA-00837 - - false
pck-revoked sgx,tdx - - pck_chain certificate_revoked false
intermediate-revoked sgx,tdx - - pck_chain certificate_revoked false
crl-expired sgx,tdx - - pck_chain crl_expired false
tcb-info-expired sgx,tdx - - collateral collateral_expired false
wrong-fmspc sgx,tdx - - collateral fmspc_mismatch false
debug sgx,tdx UpToDate - - - true
tampered-body sgx,tdx - - quote_signature quote_signature_invalid false
tampered-qe-report sgx,tdx - - qe_report qe_report_signature_invalid false
wrong-qe-report-data sgx,tdx - - qe_report qe_report_data_mismatch false
td-relaunch-advised tdx TDRelaunchAdvised INTEL-SA-00837 - - false
ROWS
)

expected_names=$(echo "$matrix" | cut -d' ' -f1)
run_status list 0 "$attest" sim scenario --list
if [ "$(cat "$work/list.out")" = "$expected_names" ]; then
    pass "list: names every scenario in order"
else
    fail "list: names every scenario in order" "got: $(tr '\n' ' ' <"$work/list.out")"
fi

while read -r name tees status advisories stage code debug; do
    for tee in sgx tdx; do
        row=$tee-$name
        out=$work/$row
        if [[ ",$tees," != *",$tee,"* ]]; then
            run_status "$row-rejected" 2 "$attest" sim scenario --dir "$platform" --tee "$tee" \
                --name "$name" --out "$out" --at "$at"
            expect_stderr "$row-rejected" "$name"
            continue
        fi
        run_status "$row-make" 0 "$attest" sim scenario --dir "$platform" --tee "$tee" \
            --name "$name" --out "$out" --at "$at"
        if [ "$(cat "$out/at" 2>/dev/null)" != "$at" ]; then
            fail "$row: at file holds $at" "got $(cat "$out/at" 2>/dev/null)"
        fi
        verify=("$attest" verify --quote "$out/quote.bin" --collateral "$out/collateral.json"
            --at "$(cat "$out/at")" --trust-root "$platform/root-ca.der" --json)
        if [ "$advisories" = - ]; then
            advisory_json='[]'
        else
            advisory_json=$(jq -c -n --arg ids "$advisories" '$ids | split(",")')
        fi
        if [ "$status" != - ]; then
            run_status "$row" 0 "${verify[@]}"
            expect "$row" "valid, $status" ".valid == true and .tcb_status == \"$status\""
            expect "$row" "advisories $advisory_json" ".advisory_ids == $advisory_json"
        else
            run_status "$row" 1 "${verify[@]}"
            expect "$row" "$stage $code" \
                ".valid == false and .error.stage == \"$stage\" and .error.code == \"$code\""
        fi
        expect "$row" "debug $debug" ".claims.debug == $debug"
    done
done <<<"$matrix"

# ---- attest sim quote and attest sim collateral ----

printf 'simulated enclave program' >"$work/program"
sha256=$(sha256sum "$work/program" | cut -d' ' -f1)
sha384=$(sha384sum "$work/program" | cut -d' ' -f1)
report_data=000102030405060708090a0b0c0d0e0f

run_status quote-sgx 0 "$attest" sim quote --dir "$platform" --tee sgx --program "$work/program" \
    --report-data "$report_data" --isv-prod-id 3 --isv-svn 4 --out "$work/sgx.quote"
# The contract form has no --tee: it writes SGX collateral.
run_status collateral-sgx 0 "$attest" sim collateral --dir "$platform" --at "$at" \
    --out "$work/sgx.collateral.json"
run_status verify-sgx 0 "$attest" verify --quote "$work/sgx.quote" \
    --collateral "$work/sgx.collateral.json" --at "$at" --trust-root "$platform/root-ca.der" --json
expect verify-sgx "valid UpToDate" '.valid == true and .tcb_status == "UpToDate"'
expect verify-sgx "MRENCLAVE is SHA-256 of --program" ".claims.body.mr_enclave == \"$sha256\""
expect verify-sgx "report data padded with zeros" \
    ".claims.body.report_data == \"$report_data$(printf '0%.0s' {1..96})\""
expect verify-sgx "version 3, ISVPRODID 3, ISVSVN 4 (little-endian hex), processor CA" \
    '.claims.header.version == 3 and .claims.body.isv_prod_id == "0300" and .claims.body.isv_svn == "0400" and .claims.pck.ca == "processor"'

run_status quote-tdx 0 "$attest" sim quote --dir "$platform" --tee tdx --version 5 --body td15 \
    --program "$work/program" --rtmr3 "$(printf 'ab%.0s' {1..48})" --debug --out "$work/tdx.quote"
run_status collateral-tdx-pcs 0 "$attest" sim collateral --dir "$platform" --tee tdx --at "$at" \
    --pcs-dir "$work/tdx-pcs"
run_status verify-tdx-pcs 0 "$attest" verify --quote "$work/tdx.quote" \
    --collateral "$work/tdx-pcs" --at "$at" --trust-root "$platform/root-ca.der" --json
expect verify-tdx-pcs "valid UpToDate, debug TD" \
    '.valid == true and .tcb_status == "UpToDate" and .claims.debug == true'
expect verify-tdx-pcs "MRTD is SHA-384 of --program" ".claims.body.mr_td == \"$sha384\""
expect verify-tdx-pcs "version 5 TD 1.5 body with RTMR3" \
    ".claims.header.version == 5 and (.claims.body | has(\"tee_tcb_svn2\")) and .claims.body.rtmr3 == \"$(printf 'ab%.0s' {1..48})\""

run_status collateral-tdx-status 0 "$attest" sim collateral --dir "$platform" --tee tdx \
    --at "$at" --tcb-status OutOfDate --revoke-pck --out "$work/tdx-revoked.json"
run_status verify-tdx-revoked 1 "$attest" verify --quote "$work/tdx.quote" \
    --collateral "$work/tdx-revoked.json" --at "$at" --trust-root "$platform/root-ca.der" --json
expect verify-tdx-revoked "pck_chain certificate_revoked" \
    '.error.stage == "pck_chain" and .error.code == "certificate_revoked"'

# ---- Trust boundary ----

run_status untrusted-root 1 "$attest" verify --quote "$work/sgx.quote" \
    --collateral "$work/sgx.collateral.json" --at "$at" --json
expect untrusted-root "pck_chain root_untrusted without --trust-root" \
    '.valid == false and .error.stage == "pck_chain" and .error.code == "root_untrusted"'

run_status collateral-tdx-real-time 0 "$attest" sim collateral --dir "$platform" --tee tdx \
    --at 1752919234 --out "$work/tdx-2025.json"
run_status real-quote-sim-collateral 1 "$attest" verify --quote "$real/tdx/phala-tdx-v4.quote" \
    --collateral "$work/tdx-2025.json" --at 1752919234 --trust-root "$platform/root-ca.der" --json
expect real-quote-sim-collateral "real quote not valid with simulated collateral" \
    '.valid == false and .error.code == "root_mixed"'

run_status sim-quote-real-collateral 1 "$attest" verify --quote "$work/sgx.quote" \
    --collateral "$real/sgx/phala-sgx-v3.collateral.json" --at 1752919277 \
    --trust-root "$platform/root-ca.der" --json
expect sim-quote-real-collateral "simulated quote not valid with real collateral" \
    '.valid == false and .error.code == "root_mixed"'

# ---- Bad input: exit status 2 and an error naming the value ----

run_status bad-tee 2 "$attest" sim quote --dir "$platform" --tee sev --out "$work/x"
expect_stderr bad-tee '"sev"'
run_status bad-mrenclave 2 "$attest" sim quote --dir "$platform" --tee sgx --mrenclave abcd \
    --out "$work/x"
expect_stderr bad-mrenclave '--mrenclave "abcd"'
run_status bad-report-data 2 "$attest" sim quote --dir "$platform" --tee tdx --report-data abc \
    --out "$work/x"
expect_stderr bad-report-data '--report-data "abc"'
run_status sgx-option-on-tdx 2 "$attest" sim quote --dir "$platform" --tee tdx \
    --mrsigner "$(printf '00%.0s' {1..32})" --out "$work/x"
expect_stderr sgx-option-on-tdx "--mrsigner applies to SGX quotes only"
run_status bad-version 2 "$attest" sim quote --dir "$platform" --tee tdx --version 3 --out "$work/x"
expect_stderr bad-version '--version "3"'
run_status unknown-scenario 2 "$attest" sim scenario --dir "$platform" --tee sgx \
    --name no-such-scenario --out "$work/x"
expect_stderr unknown-scenario '"no-such-scenario"'
run_status missing-platform 2 "$attest" sim quote --dir "$work/none" --tee sgx --out "$work/x"
expect_stderr missing-platform "attest sim init --dir"
run_status bad-status 2 "$attest" sim collateral --dir "$platform" --tee sgx --tcb-status Fine \
    --out "$work/x"
expect_stderr bad-status '"Fine"'

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
