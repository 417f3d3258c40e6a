#!/usr/bin/env bash
# Runs `attest verify` on every real SGX and TDX quote of the shared real data,
# and on copies with one byte changed. For each, jq checks the exact outcome:
# exit status, valid, tcb_status, advisory_ids, error stage and code, and the
# claims decoded from the quote.
#
# Usage: tests/cli/verify_real.sh PATH_TO_ATTEST
# Prints `ok - NAME` or `not ok - NAME: WHY` per check and a final
# `N passed, N failed` line; exits 1 when a check failed.
set -euo pipefail

attest=${1:?usage: verify_real.sh PATH_TO_ATTEST}
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
real=${ATTEST_REAL_DATA:-$root/../shared/data/real}

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

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

# Runs `attest verify ARGS... --json` as row NAME, keeping its output in
# $work/NAME.json, and checks the exit status against EXPECTED_STATUS.
# Usage: run_row NAME EXPECTED_STATUS ARGS...
run_row() {
    local name=$1 expected=$2
    shift 2
    local status=0
    "$attest" verify "$@" --json >"$work/$name.json" 2>"$work/$name.stderr" || status=$?
    if [ "$status" -eq "$expected" ]; then
        pass "$name: exit status $expected"
    else
        fail "$name: exit status $expected" \
            "got $status; stderr: $(head -c 300 "$work/$name.stderr" | tr '\n' ' ')"
    fi
}

# Checks that the jq FILTER evaluates to true on row NAME's JSON output,
# which must be exactly one JSON value. The filter runs inside `jq -s`
# because `jq -e` of jq 1.6 exits with 0 on empty input.
# Usage: expect NAME DESCRIPTION FILTER
expect() {
    local name=$1 description=$2 filter=$3
    if jq -e -s "length == 1 and (.[0] | ($filter))" "$work/$name.json" >/dev/null 2>&1; then
        pass "$name: $description"
    else
        local summary
        summary=$(jq -c '{valid, tcb_status, advisory_ids, error}' "$work/$name.json" 2>/dev/null |
            head -c 400) || true
        fail "$name: $description" "output ${summary:-is not a JSON object}"
    fi
}

# Checks the outcome of a row that verification rejected: valid false, the
# error stage and code.
expect_rejected() {
    local name=$1 stage=$2 code=$3
    expect "$name" "not valid" '.valid == false'
    expect "$name" "error stage $stage" ".error.stage == \"$stage\""
    expect "$name" "error code $code" ".error.code == \"$code\""
}

# Checks the outcome of a valid row: no error, the TCB status and the set of advisories.
expect_valid() {
    local name=$1 status=$2 advisories=$3
    expect "$name" "valid" '.valid == true'
    expect "$name" "no error" '.error == null'
    expect "$name" "tcb_status $status" ".tcb_status == \"$status\""
    expect "$name" "advisory_ids $advisories" "(.advisory_ids | sort) == ($advisories | sort)"
}

# Copies the real file SOURCE to $work/NAME with the byte at OFFSET set to VALUE (hex).
changed_copy() {
    local source=$1 name=$2 offset=$3 value=$4
    cp "$real/$source" "$work/$name"
    chmod u+w "$work/$name"
    printf '%b' "\\x$value" | dd of="$work/$name" bs=1 seek="$((offset))" conv=notrunc status=none
}

# ---- SGX ----

sgx_quote=$real/sgx/phala-sgx-v3.quote
sgx_collateral=$real/sgx/phala-sgx-v3.collateral.json

run_row phala-sgx-v3 0 --quote "$sgx_quote" --collateral "$sgx_collateral" --at 1752919277
expect_valid phala-sgx-v3 ConfigurationAndSWHardeningNeeded '["INTEL-SA-00289","INTEL-SA-00615"]'
expect phala-sgx-v3 "collateral not expired" '.collateral_expired == false'
expect phala-sgx-v3 "earliest_expiry is a UTC time" \
    '.earliest_expiry | test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$")'
expect phala-sgx-v3 "tee SGX" '.claims.tee == "SGX"'
expect phala-sgx-v3 "not debug" '.claims.debug == false'
expect phala-sgx-v3 "mr_enclave" \
    '.claims.body.mr_enclave == "33d8736db756ed4997e04ba358d27833188f1932ff7b1d156904d3f560452fbb"'
expect phala-sgx-v3 "mr_signer" \
    '.claims.body.mr_signer == "815f42f11cf64430c30bab7816ba596a1da0130c3b028b673133a66cf9a3e0e6"'
expect phala-sgx-v3 "report_data is Hello, world! then zeros" \
    '.claims.body.report_data == ("48656c6c6f2c20776f726c6421" + ("0" * 102))'
expect phala-sgx-v3 "PCK FMSPC" '.claims.pck.fmspc == "00a067110000"'
expect phala-sgx-v3 "PCK Processor CA" '.claims.pck.ca == "processor"'
expect phala-sgx-v3 "every check passed" '[.checks[] | select(.outcome == "fail")] == []'

# Hex text: the same quote as `xxd -p` prints it.
xxd -p "$sgx_quote" >"$work/phala-sgx-v3.hex"
run_row phala-sgx-v3-hex 0 --quote "$work/phala-sgx-v3.hex" --collateral "$sgx_collateral" \
    --at 1752919277
expect_valid phala-sgx-v3-hex ConfigurationAndSWHardeningNeeded \
    '["INTEL-SA-00289","INTEL-SA-00615"]'

# MRENCLAVE starts at offset 0x70 (48-byte header, then 64 bytes of the report body).
changed_copy sgx/phala-sgx-v3.quote phala-sgx-v3-mrenclave.quote 0x70 34
run_row phala-sgx-v3-mrenclave 1 --quote "$work/phala-sgx-v3-mrenclave.quote" \
    --collateral "$sgx_collateral" --at 1752919277
expect_rejected phala-sgx-v3-mrenclave quote_signature quote_signature_invalid

# 2025-07-19T10:13:20Z: after the QE identity's nextUpdate, before the PCK CRL's and TCB info's.
run_row phala-sgx-v3-qe-identity-expired 1 --quote "$sgx_quote" --collateral "$sgx_collateral" \
    --at 1752920000
expect_rejected phala-sgx-v3-qe-identity-expired collateral collateral_expired
expect phala-sgx-v3-qe-identity-expired "collateral_expired" '.collateral_expired == true'

# No collateral ships with this quote. 2024-01-01 lies inside its PCK certificate's validity.
run_row trustee-occlum-debug-v3 1 --quote "$real/sgx/trustee-occlum-debug-v3.quote" \
    --at 1704067200
expect_rejected trustee-occlum-debug-v3 collateral collateral_missing
expect trustee-occlum-debug-v3 "debug" '.claims.debug == true'
expect trustee-occlum-debug-v3 "tee SGX" '.claims.tee == "SGX"'
expect trustee-occlum-debug-v3 "mr_enclave" \
    '.claims.body.mr_enclave == "8f173e4613ff05c52aaf04162d234edae8c9977eae47eb2299ae16a553011c68"'
expect trustee-occlum-debug-v3 "mr_signer" \
    '.claims.body.mr_signer == "83d719e77deaca1470f6baf62a4d774303c899db69020f9c70ee1dfc08c7ce9e"'
expect trustee-occlum-debug-v3 "attributes flags 0x07" '.claims.body.attributes | startswith("07")'
expect trustee-occlum-debug-v3 "report_data is test then zeros" \
    '.claims.body.report_data == ("74657374" + ("0" * 120))'
expect trustee-occlum-debug-v3 "PCK Platform CA" '.claims.pck.ca == "platform"'
expect trustee-occlum-debug-v3 "PCK FMSPC" '.claims.pck.fmspc == "00606a000000"'

# ---- TDX ----

run_row phala-tdx-v4 0 --quote "$real/tdx/phala-tdx-v4.quote" \
    --collateral "$real/tdx/phala-tdx-v4.collateral.json" --at 1752919234
expect_valid phala-tdx-v4 UpToDate '[]'
expect phala-tdx-v4 "tee TDX" '.claims.tee == "TDX"'
expect phala-tdx-v4 "mr_td" \
    '.claims.body.mr_td == "91eb2b44d141d4ece09f0c75c2c53d247a3c68edd7fafe8a3520c942a604a407de03ae6dc5f87f27428b2538873118b7"'
expect phala-tdx-v4 "tee_tcb_svn" '.claims.body.tee_tcb_svn | startswith("0601030000")'
expect phala-tdx-v4 "td_attributes" '.claims.body.td_attributes == "0000001000000000"'
expect phala-tdx-v4 "70 trailing bytes" '.claims.trailing_size == 70'
expect phala-tdx-v4 "PCK FMSPC" '.claims.pck.fmspc == "b0c06f000000"'

run_row phala-tdx-v5-td15 1 --quote "$real/tdx/phala-tdx-v5-td15.quote" \
    --collateral "$real/tdx/phala-tdx-v5-td15.collateral.json" --at 1774003274
expect_rejected phala-tdx-v5-td15 tcb tcb_level_not_found
expect phala-tdx-v5-td15 "no tcb_status" '.tcb_status == null'
expect phala-tdx-v5-td15 "signature stages passed" \
    '[.checks[] | select(.stage == "quote_signature" or .stage == "qe_report" or .stage == "pck_chain") | .outcome] | (length > 0 and all(. == "pass"))'
expect phala-tdx-v5-td15 "mr_td" \
    '.claims.body.mr_td == "273828c46252fcbdd8ad2dd907130222b03466d52a2911d70c1a5950895d6bd1ae451d382d5a9b1b4c0ed0e5ae9a3dbd"'
expect phala-tdx-v5-td15 "tee_tcb_svn" '.claims.body.tee_tcb_svn | startswith("0701030000")'
expect phala-tdx-v5-td15 "tee_tcb_svn2" '.claims.body.tee_tcb_svn2 | startswith("0d0103")'
expect phala-tdx-v5-td15 "mr_service_td zero" '.claims.body.mr_service_td == ("0" * 96)'
expect phala-tdx-v5-td15 "PCK FMSPC" '.claims.pck.fmspc == "90c06f000000"'

spr_quote=$real/tdx/google-spr-e4-v4.quote
spr_pcs=$real/tdx/google-spr-e4-pcs
spr_at=1688173200

run_row google-spr-e4-v4-pcs 1 --quote "$spr_quote" --collateral "$spr_pcs" --at "$spr_at"
expect_rejected google-spr-e4-v4-pcs tcb tcb_level_not_found
expect google-spr-e4-v4-pcs "signature, chain and CRL stages passed" \
    '[.checks[] | select(.stage == "quote_signature" or .stage == "qe_report" or .stage == "pck_chain" or .stage == "collateral") | .outcome] | (length > 0 and all(. == "pass"))'
expect google-spr-e4-v4-pcs "PCK FMSPC" '.claims.pck.fmspc == "50806f000000"'
expect google-spr-e4-v4-pcs "tee_tcb_svn" '.claims.body.tee_tcb_svn | startswith("0300040000")'
expect google-spr-e4-v4-pcs "mr_seam" \
    '.claims.body.mr_seam == "2fd279c16164a93dd5bf373d834328d46008c2b693af9ebb865b08b2ced320c9a89b4869a9fab60fbe9d0c5a5363c656"'
expect google-spr-e4-v4-pcs "mr_td" \
    '.claims.body.mr_td == "6363b8043668a3ad953278e10389574d326c6749fb78aa810ecd9336923db86f22fc00b8dcd404bc10d5e119d7215cbb"'
expect google-spr-e4-v4-pcs "rtmr0" \
    '.claims.body.rtmr0 == "2927da70461cd63266f43230cc1849c03ef25ebe490062a801d8fcc80af42976823adf08f833c1e50b51779c6593f32a"'
expect google-spr-e4-v4-pcs "rtmr1" \
    '.claims.body.rtmr1 == "2c700b8ba9b85783f8be9fb9443647bdc0bb3c50747f06297cc6538c25a5f589c4b56d035c59107c6bc5800db2cacb61"'
expect google-spr-e4-v4-pcs "rtmr2" \
    '.claims.body.rtmr2 == "8652f0caaba7e215ea442dc36a4499d8fec3362f3a0b2ca151cbe4b3e6466fe59c7368b3c2287fc7c3bf5c924eb4424e"'
expect google-spr-e4-v4-pcs "rtmr3 zero" '.claims.body.rtmr3 == ("0" * 96)'
expect google-spr-e4-v4-pcs "report_data" \
    '.claims.body.report_data == "6c62dec1b8191749a31dab490be532a35944dea47caef1f980863993d9899545eb7406a38d1eed313b987a467dacead6f0c87a6d766c66f6f29f8acb281f1113"'
expect google-spr-e4-v4-pcs "td_attributes" '.claims.body.td_attributes == "0000004000000000"'
expect google-spr-e4-v4-pcs "xfam" '.claims.body.xfam == "e71a060000000000"'
expect google-spr-e4-v4-pcs "39 trailing bytes" '.claims.trailing_size == 39'

run_row google-spr-e4-v4-bundle 1 --quote "$spr_quote" \
    --collateral "$real/tdx/google-spr-e4-v4.collateral.json" --at "$spr_at"
expect_rejected google-spr-e4-v4-bundle tcb tcb_level_not_found

# One byte set in a copy of the quote: name, offset, new value (hex), stage, code.
while read -r name offset value stage code; do
    changed_copy tdx/google-spr-e4-v4.quote "$name.quote" "$offset" "$value"
    run_row "$name" 1 --quote "$work/$name.quote" --collateral "$spr_pcs" --at "$spr_at"
    expect_rejected "$name" "$stage" "$code"
done <<'ROWS'
google-spr-version-3-tdx 0x00 03 parse quote_tee_type_invalid
google-spr-cert-data-size 0x278 10 parse quote_cert_data_size_mismatch
google-spr-chain-garbled 0x1343 32 pck_chain certificate_invalid
google-spr-root-changed 0x1329 32 pck_chain root_untrusted
google-spr-intermediate-signature 0xF5F 32 pck_chain certificate_signature_invalid
google-spr-pck-signature 0xB77 32 pck_chain certificate_signature_invalid
google-spr-header-byte-0x1e 0x1E 32 quote_signature quote_signature_invalid
google-spr-body-byte-0x3c 0x3C 32 quote_signature quote_signature_invalid
ROWS

# 2048-01-05: both CRLs, the Platform CA and the PCK certificate have expired.
run_row google-spr-e4-v4-2048 1 --quote "$spr_quote" --collateral "$spr_pcs" --at 2461795200
expect google-spr-e4-v4-2048 "not valid" '.valid == false'
expect google-spr-e4-v4-2048 "error stage pck_chain" '.error.stage == "pck_chain"'
expect google-spr-e4-v4-2048 "several pck_chain checks failed" \
    '[.checks[] | select(.stage == "pck_chain" and .outcome == "fail")] | length >= 2'
expect google-spr-e4-v4-2048 "PCK certificate expired among the failures" \
    'any(.checks[]; .stage == "pck_chain" and .outcome == "fail" and .code == "certificate_expired" and (.check | startswith("pck_cert")))'

v5_sample=$real/tdx/google-v5-td15-sample.quote

# 2026-02-03T01:00:00Z, no collateral.
run_row google-v5-td15-sample 1 --quote "$v5_sample" --at 1770080400
expect_rejected google-v5-td15-sample collateral collateral_missing
# Without collateral the CRL check of stage pck_chain is skipped, so "passed"
# here means no check failed and at least one passed.
for stage in quote_signature qe_report pck_chain; do
    expect google-v5-td15-sample "stage $stage passed" \
        "[.checks[] | select(.stage == \"$stage\") | .outcome] | (any(. == \"pass\") and all(. != \"fail\"))"
done
expect google-v5-td15-sample "mr_service_td zero" '.claims.body.mr_service_td == ("0" * 96)'

run_row google-v5-td15-sample-collateral 0 --quote "$v5_sample" \
    --collateral "$real/tdx/phala-tdx-v5-td15.collateral.json" --at 1774003274
expect_valid google-v5-td15-sample-collateral UpToDate '[]'

# No collateral ships with this quote. 2024-01-01 lies inside its PCK certificate's validity.
expected_claims=$real/tdx/trustee-debug-v4.expected-claims.json
run_row trustee-debug-v4 1 --quote "$real/tdx/trustee-debug-v4.quote" --at 1704067200
expect_rejected trustee-debug-v4 collateral collateral_missing
expect trustee-debug-v4 "debug" '.claims.debug == true'
expect trustee-debug-v4 "tee TDX" '.claims.tee == "TDX"'
expect trustee-debug-v4 "PCK Platform CA" '.claims.pck.ca == "platform"'
expect trustee-debug-v4 "platform instance id" \
    '.claims.pck.platform_instance_id == "021ac64d355ba904e2d5948d228d5482"'
# The expected-claims file names some body fields differently: its name, then ours.
while read -r theirs ours; do
    want=$(jq -r ".quote.body.$theirs" "$expected_claims")
    expect trustee-debug-v4 "body $ours as expected" ".claims.body.$ours == \"$want\""
done <<'FIELDS'
mr_config_id mr_config_id
mr_owner mr_owner
mr_owner_config mr_owner_config
mr_seam mr_seam
mr_td mr_td
mrsigner_seam mr_signer_seam
report_data report_data
rtmr_0 rtmr0
rtmr_1 rtmr1
rtmr_2 rtmr2
rtmr_3 rtmr3
seam_attributes seam_attributes
tcb_svn tee_tcb_svn
td_attributes td_attributes
xfam xfam
FIELDS
expect trustee-debug-v4 "header user_data as expected" \
    ".claims.header.user_data == \"$(jq -r .quote.header.user_data "$expected_claims")\""
expect trustee-debug-v4 "header QE vendor id as expected" \
    ".claims.header.qe_vendor_id == \"$(jq -r .quote.header.vendor_id "$expected_claims")\""

# ---- usage and file errors: exit status 2 ----

run_row missing-quote-file 2 --quote "$work/no-such.quote" --at 1752919277
run_row missing-collateral-file 2 --quote "$sgx_quote" --collateral "$work/no-such.json" \
    --at 1752919277
run_row no-quote-option 2 --at 1752919277

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
