#!/usr/bin/env bash
# Third-party relying parties against a live attestd: the npm package jose
# (tests/node/verify_token.mjs) and PyJWT (Debian python3-jwt), each given
# only the service's JWKS URL, beside `attest token verify --jwks URL`.
#
# attestd runs on 127.0.0.1 with max_token_lifetime_seconds 60, so a
# rotated-out key leaves the JWKS 120 s after the rotation (60 s of token
# lifetime plus 60 s of clock skew). The script waits for that, so it takes
# a little over two minutes. It checks that:
#   - all three accept a genuine token and agree on its claims, which are
#     the payload of the token attestd returned;
#   - all three reject a changed payload, a wrong issuer or subject, and an
#     expired token (a policy with a 1 s token lifetime);
#   - a token of the rotated-out key verifies during the grace period, and
#     after it the JWKS lacks the old kid and every verifier rejects the token,
#     attest with token_kid_unknown even at a time when the token was valid.
#
# Usage: tests/cli/node_relying_party.sh BUILD/src/cli/attest
# attestd is taken from the same build folder. When tests/node/node_modules
# is missing, `npm ci` installs the pinned packages from the npm registry.
# A missing node counts as a failure, not a skip.
# Prints `ok - ...`/`not ok - ...` per check, then `N passed, N failed`.
set -euo pipefail

attest=${1:?usage: node_relying_party.sh PATH_TO_ATTEST}
attest=$(cd "$(dirname "$attest")" && pwd)/$(basename "$attest")
build=$(cd "$(dirname "$attest")/../.." && pwd)
attestd=$build/src/attestd/attestd
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
node_dir=$root/tests/node
# Debian's interpreter has python3-jwt, and another python3 may come first on PATH.
python=/usr/bin/python3
issuer=https://attestd.test

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

passed=0
failed=0

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

# Records NAME as passed when the command exits with 0.
check() {
    local name=$1
    shift
    if "$@" >"$work/check.out" 2>&1; then
        ok "$name"
    else
        not_ok "$name: $(head -c 400 "$work/check.out")"
    fi
}

# Runs jose on TOKEN_FILE with the JWKS URL and writes the outcome JSON to $work/jose.json.
jose_verify() {
    local token_file=$1
    shift
    local status=0
    node "$node_dir/verify_token.mjs" --jwks "$jwks_url" "$@" "$token_file" \
        >"$work/jose.json" 2>"$work/jose.err" || status=$?
    return "$status"
}

# Runs PyJWT on TOKEN_FILE with the JWKS URL (PyJWKClient picks the key by
# kid). Prints the claims as JSON, or the exception's class and message.
pyjwt_verify() {
    "$python" - "$jwks_url" "$@" <<'PY'
import json
import sys

import jwt

jwks_url, token_path, issuer, subject = sys.argv[1:5]
token = open(token_path).read().strip()
try:
    key = jwt.PyJWKClient(jwks_url, cache_keys=False).get_signing_key_from_jwt(token)
    claims = jwt.decode(token, key.key, algorithms=["ES256", "RS256", "PS384"], issuer=issuer,
                        options={"require": ["exp", "iat", "iss", "sub"]})
except jwt.PyJWTError as error:
    print(json.dumps({"valid": False, "error": type(error).__name__, "message": str(error)}))
    sys.exit(1)
if claims.get("sub") != subject:
    print(json.dumps({"valid": False, "error": "SubjectMismatch", "message": claims.get("sub")}))
    sys.exit(1)
print(json.dumps({"valid": True, "claims": claims}))
PY
}

# Runs attest token verify --json on TOKEN_FILE and writes the outcome to $work/attest.json.
attest_verify() {
    local token_file=$1
    shift
    local status=0
    "$attest" token verify --token "$token_file" --jwks "$jwks_url" --json "$@" \
        >"$work/attest.json" 2>"$work/attest.err" || status=$?
    return "$status"
}

# Prints field PATH (a jq path) of JSON file FILE.
field() {
    jq -c "$2" "$1"
}

# Checks that the verifier's outcome file has the expected jq value.
expect_field() {
    local name=$1 file=$2 path=$3 expected=$4
    local actual
    actual=$(field "$file" "$path" 2>/dev/null || echo "(no JSON)")
    if [ "$actual" = "$expected" ]; then
        ok "$name"
    else
        not_ok "$name: $path is $actual, expected $expected; output: $(head -c 300 "$file")"
    fi
}

# Checks that jose, PyJWT and attest all accept TOKEN_FILE for SUBJECT.
expect_all_accept() {
    local label=$1 token_file=$2 subject=$3
    if jose_verify "$token_file" --issuer "$issuer" --subject "$subject"; then
        ok "$label: jose accepts"
    else
        not_ok "$label: jose rejects: $(cat "$work/jose.json" "$work/jose.err")"
    fi
    if pyjwt_verify "$token_file" "$issuer" "$subject" >"$work/pyjwt.json"; then
        ok "$label: PyJWT accepts"
    else
        not_ok "$label: PyJWT rejects: $(cat "$work/pyjwt.json")"
    fi
    if attest_verify "$token_file" --issuer "$issuer" --app "$subject"; then
        ok "$label: attest token verify accepts"
    else
        not_ok "$label: attest token verify rejects: $(cat "$work/attest.json" "$work/attest.err")"
    fi
}

# Copies the token in FILE to OUT with the sub claim changed and the signature kept.
tamper_payload() {
    "$python" - "$1" "$2" <<'PY'
import base64
import json
import sys

parts = open(sys.argv[1]).read().strip().split(".")
claims = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
claims["sub"] = "someone-else"
encoded = json.dumps(claims, separators=(",", ":")).encode()
parts[1] = base64.urlsafe_b64encode(encoded).decode().rstrip("=")
open(sys.argv[2], "w").write(".".join(parts) + "\n")
PY
}

# Prints the payload of the token in FILE, decoded without any check, as sorted JSON.
token_payload() {
    "$python" - "$1" <<'PY'
import base64
import json
import sys

payload = open(sys.argv[1]).read().strip().split(".")[1]
claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
print(json.dumps(claims, sort_keys=True))
PY
}

# Sleeps until Unix time TARGET.
sleep_until() {
    local now
    now=$(date +%s)
    if [ "$1" -gt "$now" ]; then
        sleep $(($1 - now))
    fi
}

# ---- prerequisites ----

if ! command -v node >/dev/null; then
    not_ok "node is not installed (scripts/lib.sh installs nodejs and npm)"
    finish
fi
if ! "$python" -c 'import jwt' 2>/dev/null; then
    not_ok "PyJWT is not importable by $python (install python3-jwt)"
    finish
fi
if [ ! -d "$node_dir/node_modules/jose" ]; then
    echo "# npm ci in $node_dir"
    if ! (cd "$node_dir" && npm ci --no-audit --no-fund) >"$work/npm.log" 2>&1; then
        not_ok "npm ci failed: $(tail -n 5 "$work/npm.log")"
        finish
    fi
fi
expected_jose=$(jq -r '.dependencies.jose' "$node_dir/package.json")
installed_jose=$(jq -r '.version' "$node_dir/node_modules/jose/package.json")
if [ "$installed_jose" = "$expected_jose" ]; then
    ok "jose $installed_jose installed, as pinned"
else
    not_ok "jose $installed_jose installed, but package.json pins $expected_jose (run npm ci)"
fi
if [ ! -x "$attestd" ]; then
    not_ok "attestd not built at $attestd"
    finish
fi

# ---- attestd with a simulated platform ----

platform=$work/platform
{
    "$attest" sim init --dir "$platform"
    "$attest" sim collateral --dir "$platform" --tee sgx --pcs-dir "$work/pcs" --at "$(date +%s)"
    "$attest" evidence --backend sim --sim-dir "$platform" \
        --report-data "$(printf '0%.0s' {1..128})" --out "$work/default.bin"
} >>"$work/setup.log" 2>&1
# SGX quote: 48-byte header, then the report body with MRENCLAVE at offset 64.
mrenclave=$(xxd -p -s 112 -l 32 "$work/default.bin" | tr -d '\n')

port=$("$python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
url=http://127.0.0.1:$port
jwks_url=$url/.well-known/jwks.json
admin_key=$("$attestd" init --data-dir "$work/data" 2>>"$work/setup.log")
jq -n --argjson port "$port" --arg data "$work/data" --arg root "$platform/root-ca.der" \
    --arg pcs "$work/pcs" --arg issuer "$issuer" '{insecure_http: true,
    listen_address: "127.0.0.1", listen_port: $port, data_dir: $data, trust_root: $root,
    collateral_path: $pcs, issuer: $issuer, max_token_lifetime_seconds: 60}' >"$work/attestd.json"
"$attestd" serve --config "$work/attestd.json" >/dev/null 2>"$work/attestd.log" &
server_pid=$!
for _ in $(seq 1 150); do
    if curl -sf "$url/healthz" >/dev/null 2>&1 || ! kill -0 "$server_pid" 2>/dev/null; then
        break
    fi
    sleep 0.1
done
if ! curl -sf "$url/healthz" >/dev/null 2>&1; then
    not_ok "attestd did not start: $(tail -n 5 "$work/attestd.log")"
    finish
fi
ok "attestd serves on $url"

# Sends an administrator request: METHOD PATH [JSON BODY].
admin() {
    curl -sf -X "$1" -H "Authorization: Bearer $admin_key" -H 'Content-Type: application/json' \
        ${3:+-d "$3"} "$url$2"
}

# Registers application NAME with a policy whose tokens live LIFETIME seconds.
register() {
    local name=$1 lifetime=$2
    admin POST /v1/applications "{\"name\": \"$name\"}" >/dev/null &&
        admin PUT "/v1/applications/$name/policies" "{\"evidence_types\": [\"sgx\"],
            \"sgx\": {\"mrenclave\": [\"$mrenclave\"]}, \"simulated_allowed\": true,
            \"token_lifetime_seconds\": $lifetime}" >/dev/null &&
        admin POST "/v1/applications/$name/policies/1/activate" >/dev/null
}
check "register trainer (60 s tokens)" register trainer 60
check "register short (1 s tokens)" register short 1

# Attests the simulated enclave as application NAME and writes the token to $work/NAME.jwt.
attest_app() {
    "$attest" attest --service "$url" --app "$1" --backend sim --sim-dir "$platform" \
        --token-file "$work/$1.jwt" --json >"$work/$1.report.json"
}
check "attest trainer" attest_app trainer
check "attest short" attest_app short
cp "$work/trainer.jwt" "$work/old.jwt"
old_kid=$(jq -r '.keys[0].kid' <(curl -sf "$jwks_url"))

# ---- a genuine token ----

expect_all_accept "genuine token" "$work/trainer.jwt" trainer
returned=$(jq -r '.token' "$work/trainer.report.json")
if [ "$returned" = "$(tr -d '\n' <"$work/trainer.jwt")" ]; then
    ok "token file holds the token of the attest response"
else
    not_ok "token file differs from the token of the attest response"
fi
jose_verify "$work/trainer.jwt" --issuer "$issuer" --subject trainer || true
payload=$(token_payload "$work/trainer.jwt")
jose_claims=$(jq -cS '.claims' "$work/jose.json")
pyjwt_claims=$(pyjwt_verify "$work/trainer.jwt" "$issuer" trainer | jq -cS '.claims')
attest_verify "$work/trainer.jwt" || true
attest_claims=$(jq -cS '.claims' "$work/attest.json")
if [ "$jose_claims" = "$(jq -cS . <<<"$payload")" ]; then
    ok "jose's claims are the payload attestd returned"
else
    not_ok "jose's claims differ from the payload: $jose_claims"
fi
if [ "$pyjwt_claims" = "$jose_claims" ] && [ "$attest_claims" = "$jose_claims" ]; then
    ok "PyJWT, attest and jose agree on the claims"
else
    not_ok "claims differ: PyJWT $pyjwt_claims, attest $attest_claims"
fi
expect_field "jose: sub is the application" "$work/jose.json" .claims.sub '"trainer"'
expect_field "jose: iss is the service's issuer" "$work/jose.json" .claims.iss "\"$issuer\""
expect_field "jose: policy_version is the report's" "$work/jose.json" .claims.policy_version \
    "$(jq -c .policy_version "$work/trainer.report.json")"
expect_field "jose: kid is the published key's" "$work/jose.json" .header.kid "\"$old_kid\""
expect_field "jose: header has no key URL" "$work/jose.json" \
    '.header | has("jku") or has("x5u") or has("jwk") or has("x5c")' false

# ---- rejected tokens ----

tamper_payload "$work/trainer.jwt" "$work/tampered.jwt"
if ! jose_verify "$work/tampered.jwt" --issuer "$issuer" --subject someone-else; then
    expect_field "jose rejects a changed payload" "$work/jose.json" .error.code \
        '"ERR_JWS_SIGNATURE_VERIFICATION_FAILED"'
else
    not_ok "jose accepted a changed payload"
fi
if pyjwt_verify "$work/tampered.jwt" "$issuer" someone-else >"$work/pyjwt.json"; then
    not_ok "PyJWT accepted a changed payload"
else
    expect_field "PyJWT rejects a changed payload" "$work/pyjwt.json" .error \
        '"InvalidSignatureError"'
fi
attest_verify "$work/tampered.jwt" || true
expect_field "attest rejects a changed payload" "$work/attest.json" .error.code \
    '"token_signature_invalid"'

if ! jose_verify "$work/trainer.jwt" --issuer https://other.example --subject trainer; then
    expect_field "jose rejects a wrong issuer" "$work/jose.json" '[.error.code, .error.claim]' \
        '["ERR_JWT_CLAIM_VALIDATION_FAILED","iss"]'
else
    not_ok "jose accepted the token for another issuer"
fi
if pyjwt_verify "$work/trainer.jwt" https://other.example trainer >"$work/pyjwt.json"; then
    not_ok "PyJWT accepted the token for another issuer"
else
    expect_field "PyJWT rejects a wrong issuer" "$work/pyjwt.json" .error '"InvalidIssuerError"'
fi
attest_verify "$work/trainer.jwt" --issuer https://other.example || true
expect_field "attest rejects a wrong issuer" "$work/attest.json" .error.code \
    '"token_issuer_mismatch"'

if ! jose_verify "$work/trainer.jwt" --issuer "$issuer" --subject short; then
    expect_field "jose rejects a wrong subject" "$work/jose.json" '[.error.code, .error.claim]' \
        '["ERR_JWT_CLAIM_VALIDATION_FAILED","sub"]'
else
    not_ok "jose accepted the token for another subject"
fi
attest_verify "$work/trainer.jwt" --app short || true
expect_field "attest rejects a wrong subject" "$work/attest.json" .error.code \
    '"token_claim_mismatch"'

# The 1 s token: expired for jose and PyJWT (no leeway) once exp has passed,
# still valid for attest within its documented 60 s clock skew.
short_exp=$(token_payload "$work/short.jwt" | jq .exp)
sleep_until $((short_exp + 1))
if ! jose_verify "$work/short.jwt" --issuer "$issuer" --subject short; then
    expect_field "jose rejects an expired token" "$work/jose.json" '[.error.code, .error.claim]' \
        '["ERR_JWT_EXPIRED","exp"]'
else
    not_ok "jose accepted an expired token"
fi
if pyjwt_verify "$work/short.jwt" "$issuer" short >"$work/pyjwt.json"; then
    not_ok "PyJWT accepted an expired token"
else
    expect_field "PyJWT rejects an expired token" "$work/pyjwt.json" .error \
        '"ExpiredSignatureError"'
fi
check "attest accepts a token expired within the clock skew" \
    attest_verify "$work/short.jwt" --issuer "$issuer"
attest_verify "$work/short.jwt" --at $((short_exp + 61)) || true
expect_field "attest rejects a token expired beyond the skew (--at)" "$work/attest.json" \
    .error.code '"token_expired"'

# ---- key rotation ----

rotated_at=$(date +%s)
new_kid=$(admin POST /v1/signing-keys/rotate '{}' | jq -r .kid)
curl -sf "$jwks_url" >"$work/jwks.json"
expect_field "JWKS during the grace period: new key first, old key second" "$work/jwks.json" \
    '[.keys[].kid]' "[\"$new_kid\",\"$old_kid\"]"
expect_all_accept "old key's token during the grace period" "$work/old.jwt" trainer
check "attest trainer with the new key" attest_app trainer
cp "$work/trainer.jwt" "$work/new.jwt"
jose_verify "$work/new.jwt" --issuer "$issuer" --subject trainer || true
expect_field "new token is signed by the new key" "$work/jose.json" .header.kid "\"$new_kid\""
expect_all_accept "new key's token" "$work/new.jwt" trainer

# attest with the real clock, once exp + 60 s has passed. The old key is still published.
sleep_until $((short_exp + 62))
attest_verify "$work/short.jwt" --issuer "$issuer" || true
expect_field "attest rejects an expired token" "$work/attest.json" .error.code '"token_expired"'

# The retired key stays published until rotated_at + 60 s + 60 s of skew.
echo "# waiting until the old key's grace period ends, $((rotated_at + 121 - $(date +%s))) s"
sleep_until $((rotated_at + 121))
for _ in $(seq 1 50); do
    curl -sf "$jwks_url" >"$work/jwks.json"
    if [ "$(jq '.keys | length' "$work/jwks.json")" -eq 1 ]; then
        break
    fi
    sleep 0.1
done
expect_field "JWKS after the grace period: only the new key" "$work/jwks.json" '[.keys[].kid]' \
    "[\"$new_kid\"]"
attest_verify "$work/old.jwt" --issuer "$issuer" || true
expect_field "attest rejects the old key's token" "$work/attest.json" .error.code \
    '"token_kid_unknown"'
if jq -e --arg kid "$old_kid" '.error.detail | contains($kid)' "$work/attest.json" >/dev/null; then
    ok "attest's error names the unknown kid"
else
    not_ok "attest's error lacks the kid $old_kid: $(cat "$work/attest.json")"
fi
# At a time when the token itself was valid, the kid check still rejects it.
old_iat=$(token_payload "$work/old.jwt" | jq .iat)
attest_verify "$work/old.jwt" --issuer "$issuer" --at $((old_iat + 1)) || true
expect_field "attest rejects the old key's token at a time it was valid" "$work/attest.json" \
    .error.code '"token_kid_unknown"'
if ! jose_verify "$work/old.jwt" --issuer "$issuer" --subject trainer; then
    expect_field "jose rejects the old key's token" "$work/jose.json" .error.code \
        '"ERR_JWKS_NO_MATCHING_KEY"'
else
    not_ok "jose accepted the old key's token after the grace period"
fi
if pyjwt_verify "$work/old.jwt" "$issuer" trainer >"$work/pyjwt.json"; then
    not_ok "PyJWT accepted the old key's token after the grace period"
else
    expect_field "PyJWT rejects the old key's token" "$work/pyjwt.json" .error \
        '"PyJWKClientError"'
fi

kill "$server_pid"
status=0
wait "$server_pid" || status=$?
server_pid=""
if [ "$status" -eq 0 ]; then
    ok "attestd stops with status 0 on SIGTERM"
else
    not_ok "attestd exited with status $status: $(tail -n 5 "$work/attestd.log")"
fi

finish
