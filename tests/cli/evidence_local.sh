#!/usr/bin/env bash
# Runs `attest evidence` and `attest local` end to end:
# - evidence from a simulated platform made with `attest sim init`, verified
#   with `attest verify` against the platform's root;
# - the configfs-tsm and Gramine backends against stand-in directories in a
#   temporary folder (plain files cannot produce evidence when written, so
#   the evidence is placed beforehand and the checks are the error paths and
#   what was written);
# - local attestation between two simulated enclaves, including a third
#   enclave that must fail and a report from another platform.
# Nothing under /sys or /dev is touched.
#
# Usage: tests/cli/evidence_local.sh PATH_TO_ATTEST
# Prints `ok - NAME` or `not ok - NAME: WHY` per check and a final
# `N passed, N failed` line; exits 1 when a check failed.
set -euo pipefail

attest=${1:?usage: evidence_local.sh PATH_TO_ATTEST}

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
unset ATTEST_SIM_DIR

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

# Runs attest ARGS... as check NAME, keeping stdout and stderr in
# $work/NAME.out and $work/NAME.err, and checks the exit status.
# Usage: run NAME EXPECTED_STATUS ARGS...
run() {
    local name=$1 expected=$2
    shift 2
    local status=0
    "$attest" "$@" >"$work/$name.out" 2>"$work/$name.err" || status=$?
    if [ "$status" -eq "$expected" ]; then
        pass "$name: exit status $expected"
    else
        fail "$name: exit status $expected" \
            "got $status; stderr: $(head -c 400 "$work/$name.err" | tr '\n' ' ')"
    fi
}

# Checks that check NAME's stderr (or stdout with STREAM out) contains TEXT.
# Usage: expect_text NAME err|out TEXT
expect_text() {
    local name=$1 stream=$2 text=$3
    if grep -qF -- "$text" "$work/$name.$stream"; then
        pass "$name: $stream contains \"$text\""
    else
        fail "$name: $stream contains \"$text\"" \
            "$stream is: $(head -c 400 "$work/$name.$stream" | tr '\n' ' ')"
    fi
}

# Checks that two files have the same bytes.
# Usage: expect_same NAME FILE1 FILE2
expect_same() {
    if cmp -s "$2" "$3"; then
        pass "$1"
    else
        fail "$1" "$2 and $3 differ"
    fi
}

# Checks that jq FILTER is true on FILE.
# Usage: expect_json NAME FILE FILTER
expect_json() {
    if jq -e "$3" "$2" >/dev/null 2>&1; then
        pass "$1"
    else
        fail "$1" "$(head -c 400 "$2" | tr '\n' ' ')"
    fi
}

repeat() {
    local text=$1 count=$2 out=""
    for ((i = 0; i < count; i++)); do
        out+=$text
    done
    printf '%s' "$out"
}

report_data=$(repeat 5a 64)
other_report_data=$(repeat 6b 64)
nonce=$(repeat 01 32)
sim=$work/sim
other_sim=$work/other-sim

# ---- simulated platform ----

run sim-init 0 sim init --dir "$sim"
run sim-init-other 0 sim init --dir "$other_sim"
run sim-collateral 0 sim collateral --dir "$sim" --tee sgx --out "$work/sgx.collateral.json"
run sim-collateral-tdx 0 sim collateral --dir "$sim" --tee tdx --out "$work/tdx.collateral.json"

run evidence-sim-sgx 0 evidence --backend sim --sim-dir "$sim" --report-data "$report_data" \
    --out "$work/sim-sgx.quote"
expect_text evidence-sim-sgx err "backend sim, provider sim_sgx"
expect_text evidence-sim-sgx err "report data checked"

"$attest" verify --quote "$work/sim-sgx.quote" --collateral "$work/sgx.collateral.json" \
    --trust-root "$sim/root-ca.der" --json >"$work/verify-sgx.json" 2>/dev/null || true
expect_json "verify-sgx: valid with report data" "$work/verify-sgx.json" \
    ".valid == true and .claims.body.report_data == \"$report_data\""

# Report data = SHA-512(nonce || runtime data), computed here with openssl.
printf 'public key of the attester' >"$work/runtime-data"
bound=$( (printf '%s' "$nonce" | xxd -r -p; cat "$work/runtime-data") |
    openssl dgst -sha512 -r | cut -d' ' -f1)
run evidence-sim-tdx-nonce 0 evidence --backend sim --sim-dir "$sim" --tee tdx \
    --nonce "$nonce" --runtime-data "$work/runtime-data" --out "$work/sim-tdx.quote"
expect_text evidence-sim-tdx-nonce err "provider sim_tdx"
"$attest" verify --quote "$work/sim-tdx.quote" --collateral "$work/tdx.collateral.json" \
    --trust-root "$sim/root-ca.der" --json >"$work/verify-tdx.json" 2>/dev/null || true
expect_json "verify-tdx: valid with bound report data" "$work/verify-tdx.json" \
    ".valid == true and .claims.tee == \"TDX\" and .claims.body.report_data == \"$bound\""

# auto falls back to the simulated platform named by ATTEST_SIM_DIR.
status=0
ATTEST_SIM_DIR=$sim "$attest" evidence --configfs-root "$work/no-configfs" \
    --gramine-root "$work/no-gramine" --report-data "$report_data" --out "$work/auto.quote" \
    >"$work/evidence-auto-sim.out" 2>"$work/evidence-auto-sim.err" || status=$?
if [ "$status" -eq 0 ]; then
    pass "evidence-auto-sim: exit status 0"
else
    fail "evidence-auto-sim: exit status 0" "got $status"
fi
expect_text evidence-auto-sim err "backend sim"

run evidence-auto-nothing 1 evidence --configfs-root "$work/no-configfs" \
    --gramine-root "$work/no-gramine" --report-data "$report_data" --out "$work/none.quote"
expect_text evidence-auto-nothing err "evidence_device_missing"

run evidence-usage-both 2 evidence --backend sim --sim-dir "$sim" --report-data "$report_data" \
    --nonce "$nonce" --out "$work/x"
run evidence-usage-short-report-data 2 evidence --backend sim --sim-dir "$sim" \
    --report-data 5a5a --out "$work/x"
run evidence-usage-bad-nonce 2 evidence --backend sim --sim-dir "$sim" --nonce zz --out "$work/x"
run evidence-usage-runtime-without-nonce 2 evidence --backend sim --sim-dir "$sim" \
    --report-data "$report_data" --runtime-data "$work/runtime-data" --out "$work/x"
run evidence-usage-backend 2 evidence --backend tdx --report-data "$report_data" --out "$work/x"
run evidence-usage-no-out 2 evidence --backend sim --sim-dir "$sim" --report-data "$report_data"

# ---- configfs-tsm stand-in ----

tsm=$work/tsm
mkdir -p "$tsm"

run configfs-missing-root 1 evidence --backend configfs-tsm --configfs-root "$work/no-configfs" \
    --report-data "$report_data" --out "$work/x"
expect_text configfs-missing-root err "evidence_device_missing: configfs-tsm root"

# A private entry in a plain directory has no generation file, as when the TSM is absent.
run configfs-private-entry 1 evidence --backend configfs-tsm --configfs-root "$tsm" \
    --report-data "$report_data" --out "$work/x"
expect_text configfs-private-entry err "evidence_device_missing"
expect_text configfs-private-entry err "/generation"
if [ -z "$(ls -A "$tsm")" ]; then
    pass "configfs-private-entry: entry removed"
else
    fail "configfs-private-entry: entry removed" "left: $(ls "$tsm")"
fi

# A named entry with every file placed: the generation does not move, as if
# another writer had written in between.
entry=$tsm/fixed
mkdir -p "$entry"
printf '5\n' >"$entry/generation"
: >"$entry/inblob"
"$attest" sim quote --dir "$sim" --tee tdx --report-data "$report_data" \
    --out "$entry/outblob" >/dev/null 2>&1
printf 'tdx_guest\n' >"$entry/provider"
run configfs-generation-changed 1 evidence --backend configfs-tsm --configfs-root "$tsm" \
    --configfs-entry fixed --report-data "$report_data" --out "$work/x"
expect_text configfs-generation-changed err "evidence_generation_changed"
expect_text configfs-generation-changed err "generation changed: concurrent writer"
expect_text configfs-generation-changed err "was 5 before writing inblob and 5"
printf '%s' "$report_data" | xxd -r -p >"$work/report-data.bin"
expect_same "configfs-generation-changed: inblob holds the report data" "$entry/inblob" \
    "$work/report-data.bin"
if [ -d "$entry" ]; then
    pass "configfs-generation-changed: existing entry kept"
else
    fail "configfs-generation-changed: existing entry kept" "$entry is gone"
fi

printf 'five\n' >"$entry/generation"
run configfs-generation-text 1 evidence --backend configfs-tsm --configfs-root "$tsm" \
    --configfs-entry fixed --report-data "$report_data" --out "$work/x"
expect_text configfs-generation-text err "evidence_interface_invalid"

printf '5\n' >"$entry/generation"
rm "$entry/inblob"
run configfs-no-inblob 1 evidence --backend configfs-tsm --configfs-root "$tsm" \
    --configfs-entry fixed --report-data "$report_data" --out "$work/x"
expect_text configfs-no-inblob err "evidence_device_missing: cannot write"

run configfs-entry-name 1 evidence --backend configfs-tsm --configfs-root "$tsm" \
    --configfs-entry ../escape --report-data "$report_data" --out "$work/x"
expect_text configfs-entry-name err "not a single directory name"

run configfs-auto 1 evidence --configfs-root "$tsm" --configfs-entry fixed \
    --gramine-root "$work/no-gramine" --report-data "$report_data" --out "$work/x"
expect_text configfs-auto err "cannot write $entry/inblob"

# ---- Gramine stand-in ----

gramine=$work/gramine
mkdir -p "$gramine"
printf 'dcap' >"$gramine/attestation_type"
: >"$gramine/user_report_data"
cp "$work/sim-sgx.quote" "$gramine/quote"

run gramine-quote 0 evidence --backend gramine --gramine-root "$gramine" \
    --report-data "$report_data" --out "$work/gramine.quote"
expect_text gramine-quote err "backend gramine, provider sgx_dcap"
expect_same "gramine-quote: quote written" "$work/gramine.quote" "$gramine/quote"
expect_same "gramine-quote: user_report_data written" "$gramine/user_report_data" \
    "$work/report-data.bin"

run gramine-auto 0 evidence --configfs-root "$work/no-configfs" --gramine-root "$gramine" \
    --report-data "$report_data" --out "$work/gramine-auto.quote"
expect_text gramine-auto err "backend gramine"

# The quote placed states other report data than requested, as after a concurrent writer.
run gramine-other-report-data 1 evidence --backend gramine --gramine-root "$gramine" \
    --report-data "$other_report_data" --out "$work/x"
expect_text gramine-other-report-data err "report_data_mismatch"

printf 'epid' >"$gramine/attestation_type"
run gramine-epid 1 evidence --backend gramine --gramine-root "$gramine" \
    --report-data "$report_data" --out "$work/x"
expect_text gramine-epid err "evidence_attestation_type_unsupported"
expect_text gramine-epid err "is \"epid\", expected \"dcap\""
printf 'dcap\n' >"$gramine/attestation_type"

head -c 40 "$work/sim-sgx.quote" >"$gramine/quote"
run gramine-short-quote 1 evidence --backend gramine --gramine-root "$gramine" \
    --report-data "$report_data" --out "$work/x"
expect_text gramine-short-quote err "evidence_short_read"

run gramine-missing 1 evidence --backend gramine --gramine-root "$work/no-gramine" \
    --report-data "$report_data" --out "$work/x"
expect_text gramine-missing err "evidence_device_missing: Gramine attestation interface"

# ---- local attestation between simulated enclaves ----

mr_a=$(repeat aa 32)
mr_b=$(repeat bb 32)
mr_c=$(repeat cc 32)

run local-target-info-b 0 local target-info --mrenclave "$mr_b" --out "$work/b.target-info"
size=$(wc -c <"$work/b.target-info")
if [ "$size" -eq 512 ]; then
    pass "local-target-info-b: 512 bytes"
else
    fail "local-target-info-b: 512 bytes" "got $size"
fi

run local-report-a-to-b 0 local report --sim-dir "$sim" --target-info "$work/b.target-info" \
    --report-data "$report_data" --mrenclave "$mr_a" --isv-prod-id 7 --isv-svn 2 \
    --out "$work/a-to-b.report"

run local-verify-as-b 0 local verify --sim-dir "$sim" --report "$work/a-to-b.report" \
    --as-mrenclave "$mr_b" --json
expect_json "local-verify-as-b: valid claims of A" "$work/local-verify-as-b.out" \
    ".valid == true and .claims.mr_enclave == \"$mr_a\" and .claims.isv_prod_id == 7 and
     .claims.isv_svn == 2 and .claims.report_data == \"$report_data\" and .claims.debug == false"

run local-verify-as-b-text 0 local verify --sim-dir "$sim" --report "$work/a-to-b.report" \
    --as-mrenclave "$mr_b"
expect_text local-verify-as-b-text out "result: valid"

run local-verify-as-c 1 local verify --sim-dir "$sim" --report "$work/a-to-b.report" \
    --as-mrenclave "$mr_c" --json
expect_json "local-verify-as-c: report_mac_invalid" "$work/local-verify-as-c.out" \
    '.valid == false and .error.code == "report_mac_invalid"'

run local-verify-as-debug-b 1 local verify --sim-dir "$sim" --report "$work/a-to-b.report" \
    --as-mrenclave "$mr_b" --as-attributes 07000000000000000300000000000000
expect_text local-verify-as-debug-b out "report_mac_invalid"

run local-verify-other-platform 1 local verify --sim-dir "$other_sim" \
    --report "$work/a-to-b.report" --as-mrenclave "$mr_b"
expect_text local-verify-other-platform out "report_mac_invalid"

# One flipped byte in the report body (inside MRENCLAVE, offset 64).
cp "$work/a-to-b.report" "$work/flipped.report"
printf '\x00' | dd of="$work/flipped.report" bs=1 seek=64 conv=notrunc status=none
run local-verify-flipped 1 local verify --sim-dir "$sim" --report "$work/flipped.report" \
    --as-mrenclave "$mr_b"
expect_text local-verify-flipped out "report_mac_invalid"

head -c 431 "$work/a-to-b.report" >"$work/truncated.report"
run local-verify-truncated 1 local verify --sim-dir "$sim" --report "$work/truncated.report" \
    --as-mrenclave "$mr_b" --json
expect_json "local-verify-truncated: sgx_report_truncated" "$work/local-verify-truncated.out" \
    '.valid == false and .error.code == "sgx_report_truncated"'

head -c 100 "$work/b.target-info" >"$work/truncated.target-info"
run local-report-truncated-target 2 local report --sim-dir "$sim" \
    --target-info "$work/truncated.target-info" --report-data "$report_data" \
    --mrenclave "$mr_a" --out "$work/x"
expect_text local-report-truncated-target err "target_info_truncated"

run local-verify-usage 2 local verify --sim-dir "$sim" --report "$work/a-to-b.report"
run local-report-no-sim 2 local report --target-info "$work/b.target-info" \
    --report-data "$report_data" --mrenclave "$mr_a" --out "$work/x"
expect_text local-report-no-sim err "ATTEST_SIM_DIR"

# ---- local attestation through the Gramine stand-in ----

cp "$work/a-to-b.report" "$gramine/report"
: >"$gramine/target_info"
cp "$work/b.target-info" "$gramine/my_target_info"

run gramine-local-report 0 local report --backend gramine --gramine-root "$gramine" \
    --target-info "$work/b.target-info" --report-data "$report_data" \
    --out "$work/gramine.report"
expect_same "gramine-local-report: report written" "$work/gramine.report" "$gramine/report"
expect_same "gramine-local-report: target_info written" "$gramine/target_info" \
    "$work/b.target-info"

run gramine-local-report-mismatch 1 local report --backend gramine --gramine-root "$gramine" \
    --target-info "$work/b.target-info" --report-data "$other_report_data" --out "$work/x"
expect_text gramine-local-report-mismatch err "report_data_mismatch"

run gramine-my-target-info 0 local target-info --backend gramine --gramine-root "$gramine" \
    --out "$work/my.target-info"
expect_same "gramine-my-target-info: copied" "$work/my.target-info" "$work/b.target-info"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
