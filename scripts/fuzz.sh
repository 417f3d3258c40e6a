#!/usr/bin/env bash
# Builds every libFuzzer target tests/fuzz/fuzz_*.c with clang, AddressSanitizer
# and UBSan in build-fuzz, seeds each with real data and runs it for a fixed
# number of inputs. Fails when a target is not built or any run fails.
#
# Usage: scripts/fuzz.sh [RUNS]   (default 20000 inputs per target)
# Prints a final `N passed, N failed` line (one per target).
set -euo pipefail

# shellcheck source=scripts/lib.sh disable=SC1091
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ATTEST_ROOT"

runs=${1:-20000}
build="build-fuzz"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

export ASAN_OPTIONS=detect_leaks=1
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
# The quote that fuzz_collateral_verify verifies against each fuzzed bundle.
export ATTEST_FUZZ_QUOTE=$ATTEST_REAL/sgx/phala-sgx-v3.quote

section "Building the fuzz targets ($build, clang)"
# CC only takes effect when the folder is first configured.
CC=clang meson_build "$build" -Dfuzz=true -Dtests=false \
    -Db_sanitize=address,undefined -Db_lundef=false -Dc_args=-fsanitize=fuzzer-no-link

# ---- seed corpora from the real data ----

seeds=$work/seeds
mkdir -p "$seeds"/{quote,pck,tcb,qe,bundle,pcs,policy}

for quote in "$ATTEST_REAL"/sgx/*.quote "$ATTEST_REAL"/tdx/*.quote; do
    name=$(basename "$quote" .quote)
    cp "$quote" "$seeds/quote/$name"

    # The PCK certificate is the first PEM of the quote's certification data.
    offset=$(grep -a -b -o -- '-----BEGIN CERTIFICATE-----' "$quote" | awk -F: 'NR == 1 { print $1 }')
    tail -c "+$((offset + 1))" "$quote" | openssl x509 -outform DER -out "$work/$name.cer"

    # asn1parse prints the extension's OID, then its OCTET STRING on the next line.
    value_offset=$(openssl asn1parse -inform DER -in "$work/$name.cer" |
        grep -A 1 ':1\.2\.840\.113741\.1\.13\.1 *$' | tail -n 1 | cut -d: -f1 | tr -d ' ')
    openssl asn1parse -inform DER -in "$work/$name.cer" -strparse "$value_offset" \
        -out "$seeds/pck/$name.der" -noout
done

for bundle in "$ATTEST_REAL"/*/*.collateral.json; do
    name=$(basename "$bundle" .collateral.json)
    cp "$bundle" "$seeds/bundle/$name.json"
    jq -j .tcb_info "$bundle" >"$seeds/tcb/$name.json"
    jq -j .qe_identity "$bundle" >"$seeds/qe/$name.json"
done

for body in "$ATTEST_REAL"/tdx/google-spr-e4-pcs/*.json; do
    cp "$body" "$seeds/pcs/"
done
jq -c .tcbInfo "$ATTEST_REAL/tdx/google-spr-e4-pcs/tcb-info.json" >"$seeds/tcb/google-spr-e4-pcs.json"
jq -c .enclaveIdentity "$ATTEST_REAL/tdx/google-spr-e4-pcs/qe-identity.json" \
    >"$seeds/qe/google-spr-e4-pcs.json"

# Policies: the documented examples.
cp docs/examples/policy-*.json "$seeds/policy/"

# SGX reports and target infos: from the enclave report bodies of the real SGX
# quotes (offset 48, 384 bytes) with a zero key id and MAC, and from the
# simulated platform when the attest binary runs.
mkdir -p "$seeds/local" "$seeds/outblob"
for quote in "$ATTEST_REAL"/sgx/*.quote; do
    name=$(basename "$quote" .quote)
    # dd reads exact ranges; tail | head would die of SIGPIPE under pipefail.
    { dd if="$quote" bs=1 skip=48 count=384 status=none; dd if=/dev/zero bs=1 count=48 status=none; } \
        >"$seeds/local/$name.report"
    # MRENCLAVE (body offset 64) and ATTRIBUTES (offset 48), then zeros to 512 bytes.
    { dd if="$quote" bs=1 skip=112 count=32 status=none; dd if="$quote" bs=1 skip=96 count=16 status=none;
        dd if=/dev/zero bs=1 count=464 status=none; } \
        >"$seeds/local/$name.target-info"
done
attest_bin=$build/src/cli/attest
mr_a=$(printf 'aa%.0s' {1..32})
mr_b=$(printf 'bb%.0s' {1..32})
if "$attest_bin" sim init --dir "$work/sim" >/dev/null 2>&1 &&
    "$attest_bin" local target-info --mrenclave "$mr_b" --config-svn 3 \
        --out "$seeds/local/sim-b.target-info" >/dev/null 2>&1 &&
    "$attest_bin" local report --sim-dir "$work/sim" --target-info "$seeds/local/sim-b.target-info" \
        --report-data "$(printf '5a%.0s' {1..64})" --mrenclave "$mr_a" --isv-svn 2 \
        --out "$seeds/local/sim-a-to-b.report" >/dev/null 2>&1 &&
    "$attest_bin" sim quote --dir "$work/sim" --tee tdx --out "$work/sim-tdx.quote" >/dev/null 2>&1; then
    { printf 'sim_tdx\n'; cat "$work/sim-tdx.quote"; } >"$seeds/outblob/sim-tdx"
else
    echo "note: no simulated seeds for the local report and outblob targets ($attest_bin failed)"
fi

# configfs-tsm outblobs: "PROVIDER\n" and the evidence, from the real quotes and SNP reports.
for quote in "$ATTEST_REAL"/tdx/*.quote; do
    { printf 'tdx_guest\n'; cat "$quote"; } >"$seeds/outblob/$(basename "$quote" .quote)"
done
for quote in "$ATTEST_REAL"/sgx/*.quote; do
    { printf 'sgx_dcap\n'; cat "$quote"; } >"$seeds/outblob/$(basename "$quote" .quote)"
done
for report in "$ATTEST_REAL"/snp/*.report; do
    { printf 'sev_guest\n'; cat "$report"; } >"$seeds/outblob/$(basename "$report" .report)"
done

# Tokens signed by the key whose public JWK fuzz_token.c holds.
mkdir -p "$seeds/token"
cp tests/fuzz/seeds/token/* "$seeds/token/"

# attestd's base64 decoders: the real quotes in base64, and in base64url with and without padding.
mkdir -p "$seeds/base64"
for quote in "$ATTEST_REAL"/*/*.quote; do
    name=$(basename "$quote" .quote)
    base64 -w 0 "$quote" >"$seeds/base64/$name.b64"
    base64 -w 0 "$quote" | tr '+/' '-_' >"$seeds/base64/$name.b64url-padded"
    base64 -w 0 "$quote" | tr '+/' '-_' | tr -d '=' >"$seeds/base64/$name.b64url"
done

# Azure attest/SgxEnclave and attest/TdxVm bodies of the real quotes: the first
# byte picks the operation (even: SgxEnclave, odd: TdxVm).
mkdir -p "$seeds/azure"
for quote in "$ATTEST_REAL"/sgx/*.quote "$ATTEST_REAL"/tdx/*.quote; do
    name=$(basename "$quote" .quote)
    case $quote in */tdx/*) operation=1 ;; *) operation=0 ;; esac
    encoded=$(base64 -w 0 "$quote" | tr '+/' '-_' | tr -d '=')
    printf '%s{"quote": "%s"}' "$operation" "$encoded" >"$seeds/azure/$name"
    printf '%s{"quote": "%s", "runtimeData": {"data": "eyJrIjoxfQ", "dataType": "JSON"}, "nonce": "n-1"}' \
        "$operation" "$encoded" >"$seeds/azure/$name-runtime-json"
    printf '%s{"quote": "%s", "runtimeData": {"data": "AAECAw", "dataType": "Binary"}}' \
        "$operation" "$encoded" >"$seeds/azure/$name-runtime-binary"
done

# BigDL /registerPolicy bodies, as tests/service/test_bigdl.py sends them.
mkdir -p "$seeds/bigdl"
credentials='"appID": "0b6e3f52-6f1c-4c57-9a3e-2d3f4b5c6d7e", "apiKey": "key"'
mrenclave=$(printf '11%.0s' {1..32})
mrsigner=$(printf '33%.0s' {1..32})
mrtd=$(printf '22%.0s' {1..48})
rtmrs=""
for i in 0 1 2 3; do
    rtmrs="$rtmrs, \"rtmr$i\": \"$(printf "a$i%.0s" {1..48})\""
done
bigdl_seed() {
    printf '{%s, "policyType": "%s"%s}' "$credentials" "$2" "$3" >"$seeds/bigdl/$1.json"
}
bigdl_seed mrenclave SGXMREnclavePolicy ", \"mrEnclave\": \"${mrenclave^^}\""
bigdl_seed mrenclave-simulated SGXMREnclavePolicy ", \"mrEnclave\": \"$mrenclave\", \"simulatedAllowed\": true"
bigdl_seed mrsigner SGXMRSignerPolicy ", \"mrSigner\": \"$mrsigner\", \"isvProdID\": \"a\""
bigdl_seed mrsigner-integer SGXMRSignerPolicy ", \"mrSigner\": \"$mrsigner\", \"isvProdID\": 2"
bigdl_seed mrtd TDXMRTDPolicy ", \"mrTD\": \"$mrtd\", \"simulatedAllowed\": true"
bigdl_seed mrtd-rtmr TDXMRTDRTMRPolicy ", \"mrTD\": \"$mrtd\"$rtmrs"
bigdl_seed unsupported-type SGXQuotePolicy ", \"mrEnclave\": \"$mrenclave\""
bigdl_seed wrong-field SGXMREnclavePolicy ", \"mrEnclave\": \"$mrenclave\", \"mrSigner\": \"$mrsigner\""
bigdl_seed isvprodid-too-long SGXMRSignerPolicy ", \"mrSigner\": \"$mrsigner\", \"isvProdID\": \"12345\""
bigdl_seed rtmr-missing TDXMRTDRTMRPolicy ", \"mrTD\": \"$mrtd\", \"rtmr0\": \"$(printf 'a0%.0s' {1..48})\""

# The demonstration job's frames: type, 4-byte big-endian size, payload.
mkdir -p "$seeds/job"
job_frame() {
    local size header
    size=$(wc -c <"$2")
    header=$(printf '\\x%02x\\x%02x\\x%02x\\x%02x' $((size >> 24 & 255)) $((size >> 16 & 255)) \
        $((size >> 8 & 255)) $((size & 255)))
    printf '%s' "$1"
    # shellcheck disable=SC2059 # header is the escapes of the four size bytes.
    printf "$header"
    cat "$2"
}
printf 'eyJhbGciOiJQUzM4NCIsImtpZCI6ImsxIn0.eyJzdWIiOiJqb2IiLCJqdGkiOiIxMjMifQ.c2lnbmF0dXJl' \
    >"$work/job-token"
printf '\x00\x00\x00\x00\x00\x00\x00\x01\xff\xff\xff\xff\xff\xff\xff\xfe\x7f\xff\xff\xff\xff\xff\xff\xff' \
    >"$work/job-numbers"
printf '0b6e3f52-6f1c-4c57-9a3e-2d3f4b5c6d7e' >"$work/job-jti"
printf 'check sub failed:\n\x1b[31mworker\\b' >"$work/job-reason"
job_frame T "$work/job-token" >"$seeds/job/token"
job_frame D "$work/job-numbers" >"$seeds/job/data"
job_frame R "$work/job-reason" >"$seeds/job/reject"
{ job_frame T "$work/job-token"; job_frame A "$work/job-jti"; job_frame D "$work/job-numbers";
    job_frame S "$work/job-numbers"; } >"$seeds/job/exchange"

# Prints the seed folder and the max input size (bytes) for a target name.
seed_kind() {
    case $1 in
        *attestd_base64*) echo "base64 16384" ;;
        *bigdl_policy*) echo "bigdl 8192" ;;
        *azure_request*) echo "azure 32768" ;;
        # 70000 bytes: room for a frame of ATTEST_TOKEN_MAX_SIZE (64 KiB) and more.
        *job_wire*) echo "job 70000" ;;
        *local_report*) echo "local 1024" ;;
        *configfs_outblob*) echo "outblob 16384" ;;
        *pck*) echo "pck 4096" ;;
        *quote*) echo "quote 16384" ;;
        *tcb*) echo "tcb 65536" ;;
        *qe*) echo "qe 65536" ;;
        *bundle* | *collateral*) echo "bundle 65536" ;;
        *pcs*) echo "pcs 65536" ;;
        *token*) echo "token 16384" ;;
        *policy*) echo "policy 65537" ;;
        *pccs_response*) echo "chain 16384" ;;
        *attestd_config*) echo "config 65536" ;;
        *) echo "" ;;
    esac
}

# PCCS response parts: the real issuer chains, PEM and URL-encoded as PCS sends them.
mkdir -p "$seeds/chain" "$seeds/config"
for chain in "$ATTEST_REAL"/tdx/google-spr-e4-pcs/*.pem; do
    cp "$chain" "$seeds/chain/"
    jq -sRr @uri "$chain" >"$seeds/chain/$(basename "$chain").url"
done
# attestd configuration files: the documented keys with typical values.
printf '{"listen_address": "127.0.0.1", "listen_port": 8443, "insecure_http": true}' \
    >"$seeds/config/minimal.json"
printf '{"data_dir": "/var/lib/attestd", "threads": 4, "max_body_size": 262144, "pccs_url": "https://pccs:8081", "pccs_update": "early", "token_algorithm": "PS384", "issuer": "https://attestd"}' \
    >"$seeds/config/full.json"

# ---- runs ----

passed=0
failed=0
for source in tests/fuzz/fuzz_*.c; do
    name=$(basename "$source" .c)
    section "Fuzzing $name ($runs inputs)"
    target=$build/tests/fuzz/$name
    if [ ! -x "$target" ]; then
        echo "not built: add $name to the list in tests/fuzz/meson.build"
        failed=$((failed + 1))
        continue
    fi

    read -r kind max_len <<<"$(seed_kind "$name")"
    if [ -z "${kind:-}" ]; then
        echo "no seed corpus for $name: add its kind to seed_kind in scripts/fuzz.sh"
        failed=$((failed + 1))
        continue
    fi
    corpus=$work/corpus/$name
    mkdir -p "$corpus" "$work/artifacts"
    cp "$seeds/$kind"/* "$corpus/"

    # Full verification costs about a millisecond an input, so it gets a fifth of the runs.
    target_runs=$runs
    if [ "$name" = fuzz_collateral_verify ]; then
        target_runs=$((runs / 5))
    fi

    status=0
    "$target" -runs="$target_runs" -max_len="$max_len" -seed=1 -timeout=20 -rss_limit_mb=2048 \
        -print_final_stats=1 -artifact_prefix="$work/artifacts/$name-" "$corpus" \
        >"$work/$name.log" 2>&1 || status=$?
    tail -n 15 "$work/$name.log"
    if [ "$status" -eq 0 ]; then
        passed=$((passed + 1))
        echo "ok - $name"
    else
        failed=$((failed + 1))
        echo "not ok - $name: libFuzzer exited with $status"
        for artifact in "$work/artifacts/$name-"*; do
            [ -e "$artifact" ] || continue
            echo "input that failed ($artifact), first 512 bytes:"
            head -c 512 "$artifact" | xxd
        done
    fi
done

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
