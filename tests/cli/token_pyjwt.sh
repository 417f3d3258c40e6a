#!/usr/bin/env bash
# Cross-checks `attest token` with PyJWT (Debian python3-jwt): for each
# algorithm, a token signed by attest must verify in PyJWT with only the
# JWKS file, and tampered tokens must fail in both. Also checks the exit
# statuses of `attest token verify` for expiry, audience and kid errors.
# $1 is the attest binary.
set -euo pipefail

attest=${1:?usage: token_pyjwt.sh PATH_TO_ATTEST}
# The system interpreter, where Debian installs python3-jwt.
python=/usr/bin/python3

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

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

# Runs the command and records whether its exit status is the expected one.
expect_status() {
    local expected=$1 name=$2
    shift 2
    local status=0
    "$@" >"$work/out" 2>"$work/err" || status=$?
    if [ "$status" -eq "$expected" ]; then
        ok "$name"
    else
        not_ok "$name: exit status $status, expected $expected; stderr: $(head -c 300 "$work/err")"
    fi
}

# Verifies TOKEN_FILE with PyJWT using only JWKS_FILE; prints the claims as JSON.
pyjwt_verify() {
    "$python" - "$1" "$2" "$3" <<'PY'
import json
import sys

import jwt

token_path, jwks_path, alg = sys.argv[1:4]
token = open(token_path).read().strip()
key_set = jwt.PyJWKSet.from_json(open(jwks_path).read())
kid = jwt.get_unverified_header(token)["kid"]
keys = [key for key in key_set.keys if key.key_id == kid]
if len(keys) != 1:
    sys.exit(f"no key with kid {kid} in {jwks_path}")
claims = jwt.decode(token, keys[0].key, algorithms=[alg], audience="key-broker",
                    issuer="https://attest.example")
print(json.dumps(claims, sort_keys=True))
PY
}

# Replaces part INDEX (0 header, 1 payload, 2 signature) of the token in FILE.
tamper() {
    "$python" - "$1" "$2" "$3" <<'PY'
import base64
import json
import sys

path, index, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
parts = open(path).read().strip().split(".")
if index == 1:
    padded = parts[1] + "=" * (-len(parts[1]) % 4)
    claims = json.loads(base64.urlsafe_b64decode(padded))
    claims["sub"] = "someone-else"
    encoded = json.dumps(claims, separators=(",", ":")).encode()
    parts[1] = base64.urlsafe_b64encode(encoded).decode().rstrip("=")
else:
    signature = bytearray(base64.urlsafe_b64decode(parts[2] + "=" * (-len(parts[2]) % 4)))
    signature[len(signature) // 2] ^= 0x01
    parts[2] = base64.urlsafe_b64encode(bytes(signature)).decode().rstrip("=")
open(out, "w").write(".".join(parts) + "\n")
PY
}

if ! "$python" -c 'import jwt' 2>/dev/null; then
    not_ok "PyJWT is not importable by $python (install python3-jwt)"
    echo "$passed passed, $failed failed"
    exit 1
fi

now=$(date +%s)
cat >"$work/claims.json" <<JSON
{"iss": "https://attest.example", "sub": "payments-worker", "aud": "key-broker",
 "iat": $now, "nbf": $now, "exp": $((now + 600)), "tcb_status": "UpToDate"}
JSON

for alg in ES256 RS256 PS384; do
    key=$work/$alg.pem
    token=$work/$alg.jwt
    jwks=$work/$alg.jwks.json

    expect_status 0 "$alg: keygen" "$attest" token keygen --alg "$alg" --out "$key"
    mode=$(stat -c %a "$key")
    if [ "$mode" = 600 ]; then ok "$alg: key file mode 600"; else not_ok "$alg: key file mode $mode"; fi
    expect_status 0 "$alg: sign" "$attest" token sign --key "$key" --claims "$work/claims.json" \
        --out "$token"
    expect_status 0 "$alg: jwks" "$attest" token jwks --key "$key" --out "$jwks"

    if "$python" -c 'import json, sys; key = json.load(open(sys.argv[1]))["keys"][0]
assert "d" not in key and key["use"] == "sig" and key["alg"] == sys.argv[2] and key["x5c"]' \
        "$jwks" "$alg"; then
        ok "$alg: JWKS has a public key with use, alg and x5c"
    else
        not_ok "$alg: JWKS key members"
    fi

    if claims=$(pyjwt_verify "$token" "$jwks" "$alg" 2>"$work/err") &&
        grep -q '"sub": "payments-worker"' <<<"$claims"; then
        ok "$alg: PyJWT verifies the token with the JWKS"
    else
        not_ok "$alg: PyJWT rejected the token: $(tail -n 1 "$work/err")"
    fi
    expect_status 0 "$alg: attest verifies the token" "$attest" token verify --token "$token" \
        --jwks "$jwks" --audience key-broker --issuer https://attest.example

    for part in 1 2; do
        what=$([ "$part" = 1 ] && echo payload || echo signature)
        tamper "$token" "$part" "$work/tampered.jwt"
        if pyjwt_verify "$work/tampered.jwt" "$jwks" "$alg" >/dev/null 2>&1; then
            not_ok "$alg: PyJWT accepted a token with a changed $what"
        else
            ok "$alg: PyJWT rejects a changed $what"
        fi
        expect_status 1 "$alg: attest rejects a changed $what" "$attest" token verify \
            --token "$work/tampered.jwt" --jwks "$jwks" --audience key-broker --json
        if grep -q '"code": "token_signature_invalid"' "$work/out"; then
            ok "$alg: changed $what gives token_signature_invalid"
        else
            not_ok "$alg: changed $what: $(head -c 300 "$work/out")"
        fi
    done
done

# Failures with their exit status and code, on the ES256 token.
token=$work/ES256.jwt
jwks=$work/ES256.jwks.json
check_code() {
    local name=$1 code=$2
    shift 2
    expect_status 1 "$name" "$attest" token verify --token "$token" --jwks "$jwks" --json "$@"
    if grep -q "\"code\": \"$code\"" "$work/out"; then
        ok "$name gives $code"
    else
        not_ok "$name: expected $code, got $(head -c 300 "$work/out")"
    fi
}
check_code "expired token" token_expired --audience key-broker --at $((now + 600 + 60))
check_code "token before nbf" token_not_yet_valid --audience key-broker --at $((now - 61))
check_code "wrong audience" token_audience_mismatch --audience billing
check_code "no audience given" token_audience_mismatch
check_code "wrong issuer" token_issuer_mismatch --audience key-broker --issuer https://other.example
jwks=$work/RS256.jwks.json
check_code "kid not in the JWKS" token_kid_unknown --audience key-broker

# A rotated key set: the old key stays published beside the new one.
expect_status 0 "jwks with a current and an old key" "$attest" token jwks \
    --key "$work/PS384.pem" --key "$work/ES256.pem" --out "$work/both.json"
expect_status 0 "old key's token verifies with both keys published" "$attest" token verify \
    --token "$work/ES256.jwt" --jwks "$work/both.json" --audience key-broker
if pyjwt_verify "$work/ES256.jwt" "$work/both.json" ES256 >/dev/null 2>&1; then
    ok "PyJWT verifies the old key's token with both keys published"
else
    not_ok "PyJWT rejected the old key's token with both keys published"
fi

# Usage errors exit with 2.
expect_status 2 "verify without --jwks" "$attest" token verify --token "$work/ES256.jwt"
expect_status 2 "keygen with an unknown alg" "$attest" token keygen --alg HS256 --out "$work/x.pem"
expect_status 2 "verify with a missing JWKS file" "$attest" token verify \
    --token "$work/ES256.jwt" --jwks "$work/missing.json"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
