/*
 * JWS compact serialization: signing with the current key and verifying a
 * token against a JWKS as a relying party.
 *
 * Verification parses the header itself, strictly, before libjose reads the
 * token: libjose would accept a JWS JSON object with any header, so the
 * algorithm, kid and typ checks here are what keep "none", HMAC with a
 * public key as secret, and a substituted key out.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include <jose/b64.h>
#include <jose/jws.h>

#include "token/internal.h"

/* Largest decoded header accepted; real headers are below 200 bytes. */
#define HEADER_MAX_SIZE 1024
/* Largest decoded signature accepted: an RSA 8192 signature is 1024 bytes. */
#define SIGNATURE_MAX_SIZE 1024

attest_err attest_token_sign(const attest_signing_key *key, const json_t *claims,
                             char **out_token, attest_diag *diag)
{
    if (key == NULL || !json_is_object(claims)) {
        return attest_diag_set(diag, ATTEST_ERR_ARGUMENT, "claims are not a JSON object");
    }
    char *payload = json_dumps(claims, JSON_COMPACT);
    if (payload == NULL) {
        return ATTEST_ERR_NOMEM;
    }
    json_t *jws = json_pack("{s:o}", "payload", jose_b64_enc(payload, strlen(payload)));
    free(payload);
    json_t *signature = json_pack("{s:{s:s,s:s,s:s}}", "protected", "alg",
                                  attest_token_alg_name(attest_signing_key_alg(key)), "kid",
                                  attest_signing_key_kid(key), "typ", "JWT");
    json_t *jwk = NULL;
    jose_cfg_t *cfg = token_jose_cfg_new();
    char *token = NULL;
    attest_err err = ATTEST_ERR_NOMEM;
    if (jws == NULL || signature == NULL || cfg == NULL) {
        goto out;
    }
    err = token_signing_key_private_jwk(key, &jwk);
    if (err != ATTEST_OK) {
        goto out;
    }
    if (!jose_jws_sig(cfg, jws, signature, jwk)) {
        err = attest_diag_set(diag, ATTEST_ERR_CRYPTO, "libjose failed to sign with %s key %s",
                              attest_token_alg_name(attest_signing_key_alg(key)),
                              attest_signing_key_kid(key));
        goto out;
    }

    /* A single signature leaves the flattened JSON form: protected, payload, signature. */
    const char *parts[3] = {json_string_value(json_object_get(jws, "protected")),
                            json_string_value(json_object_get(jws, "payload")),
                            json_string_value(json_object_get(jws, "signature"))};
    if (parts[0] == NULL || parts[1] == NULL || parts[2] == NULL) {
        err = attest_diag_set(diag, ATTEST_ERR_CRYPTO, "libjose returned no flattened JWS");
        goto out;
    }
    size_t size = strlen(parts[0]) + strlen(parts[1]) + strlen(parts[2]) + 3;
    token = malloc(size);
    if (token == NULL) {
        err = ATTEST_ERR_NOMEM;
        goto out;
    }
    snprintf(token, size, "%s.%s.%s", parts[0], parts[1], parts[2]);
    *out_token = token;
    err = ATTEST_OK;

out:
    token_json_wipe_decref(jwk);
    json_decref(jws);
    json_decref(signature);
    jose_cfg_decref(cfg);
    return err;
}

attest_err attest_jwks_parse(const char *text, size_t size, json_t **out_jwks, attest_diag *diag)
{
    if (text == NULL) {
        return attest_diag_set(diag, ATTEST_ERR_ARGUMENT, "JWKS text is NULL");
    }
    if (size > ATTEST_JWKS_MAX_SIZE) {
        return attest_diag_set(diag, ATTEST_ERR_LIMIT, "JWKS is %zu bytes, more than %d", size,
                               ATTEST_JWKS_MAX_SIZE);
    }
    json_error_t error;
    json_t *jwks = json_loadb(text, size, JSON_REJECT_DUPLICATES, &error);
    if (jwks == NULL) {
        return attest_diag_set(diag, ATTEST_ERR_JWKS_INVALID, "JWKS is not valid JSON: %s",
                               error.text);
    }

    attest_err err = ATTEST_ERR_JWKS_INVALID;
    json_t *keys = json_object_get(jwks, "keys");
    if (!json_is_object(jwks) || !json_is_array(keys)) {
        attest_diag_set(diag, err, "JWKS is not an object with a \"keys\" array");
        goto fail;
    }
    for (size_t i = 0; i < json_array_size(keys); i++) {
        json_t *jwk = json_array_get(keys, i);
        const char *kid = json_string_value(json_object_get(jwk, "kid"));
        if (!json_is_object(jwk) || kid == NULL) {
            attest_diag_set(diag, err, "JWKS key %zu is not an object with a string kid", i);
            goto fail;
        }
        if (!json_is_string(json_object_get(jwk, "kty"))) {
            attest_diag_set(diag, err, "JWKS key \"%.64s\" has no string kty", kid);
            goto fail;
        }
        for (size_t j = 0; j < i; j++) {
            const char *other = json_string_value(json_object_get(json_array_get(keys, j), "kid"));
            if (strcmp(kid, other) == 0) {
                attest_diag_set(diag, err, "JWKS has two keys with kid \"%.64s\"", kid);
                goto fail;
            }
        }
    }
    *out_jwks = jwks;
    return ATTEST_OK;

fail:
    json_decref(jwks);
    return err;
}

void attest_token_verify_options_init(attest_token_verify_options *options, time_t at)
{
    *options = (attest_token_verify_options){
        .at = at,
        .clock_skew = ATTEST_TOKEN_CLOCK_SKEW_DEFAULT,
        .allowed_algs = ATTEST_TOKEN_ALGS_ALL,
        .issuer = NULL,
        .audience = NULL,
    };
}

/* The three parts of a compact JWS, pointing into the token. */
typedef struct jws_parts {
    const char *text[3];
    size_t length[3];
} jws_parts;

/* Splits token into exactly three non-empty dot-separated parts. */
static attest_err jws_split(const char *token, size_t size, jws_parts *out_parts,
                            attest_diag *diag)
{
    jws_parts parts = {{NULL, NULL, NULL}, {0, 0, 0}};
    size_t part = 0;
    size_t start = 0;
    for (size_t i = 0; i <= size; i++) {
        if (i < size && token[i] != '.') {
            continue;
        }
        if (part == 3) {
            return attest_diag_set(diag, ATTEST_ERR_TOKEN_MALFORMED,
                                   "token has more than three dot-separated parts");
        }
        parts.text[part] = token + start;
        parts.length[part] = i - start;
        part++;
        start = i + 1;
    }
    if (part != 3) {
        return attest_diag_set(diag, ATTEST_ERR_TOKEN_MALFORMED,
                               "token has %zu dot-separated parts, not 3", part);
    }
    static const char *const names[3] = {"header", "payload", "signature"};
    for (size_t i = 0; i < 3; i++) {
        if (parts.length[i] == 0) {
            return attest_diag_set(diag, ATTEST_ERR_TOKEN_MALFORMED, "token %s part is empty",
                                   names[i]);
        }
    }

    /*
     * libjose decodes leniently, so the encodings are checked here: one
     * canonical base64url form per part, no padding. The header is decoded
     * by header_parse.
     */
    if (!token_b64url_check(parts.text[1], parts.length[1])) {
        return attest_diag_set(diag, ATTEST_ERR_TOKEN_MALFORMED,
                               "token payload part is not canonical base64url without padding");
    }
    uint8_t signature[SIGNATURE_MAX_SIZE];
    size_t signature_size = 0;
    bool decoded = token_b64url_decode(parts.text[2], parts.length[2], signature,
                                       sizeof(signature), &signature_size);
    if (!decoded) {
        return attest_diag_set(diag, ATTEST_ERR_TOKEN_MALFORMED,
                               "token signature part is not canonical base64url without "
                               "padding, or decodes to more than %d bytes",
                               SIGNATURE_MAX_SIZE);
    }
    *out_parts = parts;
    return ATTEST_OK;
}

/* Decodes a base64url part to a new NUL-terminated buffer the caller frees. */
static attest_err part_decode(const char *text, size_t length, const char *name, char **out_data,
                              size_t *out_size, attest_diag *diag)
{
    size_t capacity = (length / 4) * 3 + 3;
    uint8_t *data = malloc(capacity + 1);
    if (data == NULL) {
        return ATTEST_ERR_NOMEM;
    }
    size_t size = 0;
    if (!token_b64url_decode(text, length, data, capacity, &size)) {
        free(data);
        return attest_diag_set(diag, ATTEST_ERR_TOKEN_MALFORMED,
                               "token %s part is not canonical base64url without padding", name);
    }
    data[size] = '\0';
    *out_data = (char *)data;
    *out_size = size;
    return ATTEST_OK;
}

/* Parses the header: alg, kid, typ "JWT" when present, no crit. */
static attest_err header_parse(const jws_parts *parts, json_t **out_header, attest_diag *diag)
{
    if (parts->length[0] > TOKEN_B64URL_LENGTH(HEADER_MAX_SIZE)) {
        return attest_diag_set(diag, ATTEST_ERR_TOKEN_MALFORMED,
                               "token header part is longer than %d bytes decoded",
                               HEADER_MAX_SIZE);
    }
    char *text = NULL;
    size_t size = 0;
    attest_err err = part_decode(parts->text[0], parts->length[0], "header", &text, &size, diag);
    if (err != ATTEST_OK) {
        return err;
    }
    json_error_t error;
    json_t *header = json_loadb(text, size, JSON_REJECT_DUPLICATES, &error);
    free(text);
    if (!json_is_object(header)) {
        json_decref(header);
        return attest_diag_set(diag, ATTEST_ERR_TOKEN_MALFORMED,
                               "token header is not a JSON object without duplicate keys");
    }

    err = ATTEST_ERR_TOKEN_MALFORMED;
    json_t *typ = json_object_get(header, "typ");
    if (!json_is_string(json_object_get(header, "alg"))) {
        attest_diag_set(diag, err, "token header has no string alg");
    } else if (!json_is_string(json_object_get(header, "kid"))) {
        attest_diag_set(diag, err, "token header has no string kid");
    } else if (typ != NULL && !(json_is_string(typ) && strcmp(json_string_value(typ), "JWT") == 0)) {
        attest_diag_set(diag, err, "token header typ is not \"JWT\"");
    } else if (json_object_get(header, "jku") != NULL || json_object_get(header, "x5u") != NULL ||
               json_object_get(header, "jwk") != NULL || json_object_get(header, "x5c") != NULL) {
        /* Keys come only from the configured JWKS, never from a URL or key inside the token. */
        attest_diag_set(diag, err,
                        "token header names its own key (jku, x5u, jwk or x5c); only keys of the "
                        "configured JWKS are used");
    } else if (json_object_get(header, "crit") != NULL) {
        /* No header extension is understood here, so any critical one rejects (RFC 7515 4.1.11). */
        attest_diag_set(diag, err, "token header has crit, and no extension is supported");
    } else {
        *out_header = header;
        return ATTEST_OK;
    }
    json_decref(header);
    return err;
}

/* Finds the JWK with kid in jwks, or returns NULL. */
static const json_t *jwks_find(const json_t *jwks, const char *kid)
{
    const json_t *keys = json_object_get(jwks, "keys");
    for (size_t i = 0; i < json_array_size(keys); i++) {
        const json_t *jwk = json_array_get(keys, i);
        const char *key_kid = json_string_value(json_object_get(jwk, "kid"));
        if (key_kid != NULL && strcmp(key_kid, kid) == 0) {
            return jwk;
        }
    }
    return NULL;
}

/* Checks the header's alg against the allowed set and the JWK's alg. */
static attest_err alg_check(const char *alg_name, unsigned allowed_algs, attest_diag *diag)
{
    attest_token_alg alg;
    if (attest_token_alg_parse(alg_name, &alg) != ATTEST_OK) {
        return attest_diag_set(diag, ATTEST_ERR_TOKEN_ALG,
                               "token alg \"%.32s\" is not ES256, RS256 or PS384", alg_name);
    }
    if ((allowed_algs & ATTEST_TOKEN_ALG_BIT(alg)) == 0) {
        return attest_diag_set(diag, ATTEST_ERR_TOKEN_ALG,
                               "token alg %s is not among the allowed algorithms", alg_name);
    }
    return ATTEST_OK;
}

/* Verifies the signature over header.payload with jwk by libjose. */
static attest_err signature_check(const jws_parts *parts, const json_t *jwk, const char *kid,
                                  attest_diag *diag)
{
    json_t *jws = json_pack("{s:s%,s:s%,s:s%}", "protected", parts->text[0], parts->length[0],
                            "payload", parts->text[1], parts->length[1], "signature",
                            parts->text[2], parts->length[2]);
    jose_cfg_t *cfg = token_jose_cfg_new();
    if (jws == NULL || cfg == NULL) {
        json_decref(jws);
        jose_cfg_decref(cfg);
        return ATTEST_ERR_NOMEM;
    }
    bool verified = jose_jws_ver(cfg, jws, NULL, jwk, false);
    json_decref(jws);
    jose_cfg_decref(cfg);
    if (!verified) {
        return attest_diag_set(diag, ATTEST_ERR_TOKEN_SIGNATURE,
                               "token signature does not verify with key \"%.64s\"", kid);
    }
    return ATTEST_OK;
}

/* Reads claim name as a JSON integer into out_value; absent is allowed when !required. */
static attest_err claim_integer(const json_t *claims, const char *name, bool required,
                                bool *out_present, long long *out_value, attest_diag *diag)
{
    const json_t *value = json_object_get(claims, name);
    if (value == NULL && !required) {
        *out_present = false;
        return ATTEST_OK;
    }
    if (!json_is_integer(value)) {
        return attest_diag_set(diag, ATTEST_ERR_TOKEN_MALFORMED,
                               "token claim %s is %s, not an integer of Unix seconds", name,
                               value == NULL ? "missing" : "present");
    }
    *out_present = true;
    *out_value = (long long)json_integer_value(value);
    return ATTEST_OK;
}

/* Checks the types of iss, sub and aud when present. */
static attest_err claims_check_types(const json_t *claims, attest_diag *diag)
{
    static const char *const string_claims[] = {"iss", "sub", "jti"};
    for (size_t i = 0; i < sizeof(string_claims) / sizeof(string_claims[0]); i++) {
        const json_t *value = json_object_get(claims, string_claims[i]);
        if (value != NULL && !json_is_string(value)) {
            return attest_diag_set(diag, ATTEST_ERR_TOKEN_MALFORMED,
                                   "token claim %s is not a string", string_claims[i]);
        }
    }
    const json_t *aud = json_object_get(claims, "aud");
    if (aud == NULL || json_is_string(aud)) {
        return ATTEST_OK;
    }
    if (!json_is_array(aud)) {
        return attest_diag_set(diag, ATTEST_ERR_TOKEN_MALFORMED,
                               "token claim aud is neither a string nor an array");
    }
    for (size_t i = 0; i < json_array_size(aud); i++) {
        if (!json_is_string(json_array_get(aud, i))) {
            return attest_diag_set(diag, ATTEST_ERR_TOKEN_MALFORMED,
                                   "token claim aud element %zu is not a string", i);
        }
    }
    return ATTEST_OK;
}

/* Checks exp, nbf and iat against options->at with the clock skew. */
static attest_err claims_check_times(const json_t *claims,
                                     const attest_token_verify_options *options,
                                     attest_diag *diag)
{
    bool present = false;
    long long exp = 0;
    long long iat = 0;
    long long nbf = 0;
    attest_err err = claim_integer(claims, "exp", true, &present, &exp, diag);
    if (err != ATTEST_OK) {
        return err;
    }
    err = claim_integer(claims, "iat", true, &present, &iat, diag);
    if (err != ATTEST_OK) {
        return err;
    }
    bool has_nbf = false;
    err = claim_integer(claims, "nbf", false, &has_nbf, &nbf, diag);
    if (err != ATTEST_OK) {
        return err;
    }

    /* Claims come from the token, so keep the sums away from overflow. */
    long long at = (long long)options->at;
    long long skew = (long long)options->clock_skew;
    if (exp < LLONG_MAX - skew && at >= exp + skew) {
        return attest_diag_set(diag, ATTEST_ERR_TOKEN_EXPIRED,
                               "token exp %lld is not after the verification time %lld "
                               "minus the clock skew of %lld s",
                               exp, at, skew);
    }
    if (has_nbf && nbf > at + skew) {
        return attest_diag_set(diag, ATTEST_ERR_TOKEN_NOT_YET_VALID,
                               "token nbf %lld is later than the verification time %lld "
                               "plus the clock skew of %lld s",
                               nbf, at, skew);
    }
    if (iat > at + skew) {
        return attest_diag_set(diag, ATTEST_ERR_TOKEN_NOT_YET_VALID,
                               "token iat %lld is later than the verification time %lld "
                               "plus the clock skew of %lld s",
                               iat, at, skew);
    }
    return ATTEST_OK;
}

static attest_err claims_check_audience(const json_t *claims, const char *audience,
                                        attest_diag *diag)
{
    const json_t *aud = json_object_get(claims, "aud");
    if (audience == NULL) {
        /* RFC 7519 4.1.3: a token addressed to audiences must name this relying party. */
        if (aud != NULL) {
            return attest_diag_set(diag, ATTEST_ERR_TOKEN_AUDIENCE,
                                   "token has an aud claim but no expected audience was given");
        }
        return ATTEST_OK;
    }
    if (json_is_string(aud) && strcmp(json_string_value(aud), audience) == 0) {
        return ATTEST_OK;
    }
    for (size_t i = 0; json_is_array(aud) && i < json_array_size(aud); i++) {
        if (strcmp(json_string_value(json_array_get(aud, i)), audience) == 0) {
            return ATTEST_OK;
        }
    }
    return attest_diag_set(diag, ATTEST_ERR_TOKEN_AUDIENCE,
                           "token aud does not contain the expected audience \"%.64s\"",
                           audience);
}

/* Parses the payload and runs the claim checks, steps 5 to 8 of attest_token_verify. */
static attest_err claims_parse_check(const jws_parts *parts,
                                     const attest_token_verify_options *options,
                                     json_t **out_claims, attest_diag *diag)
{
    char *text = NULL;
    size_t size = 0;
    attest_err err = part_decode(parts->text[1], parts->length[1], "payload", &text, &size, diag);
    if (err != ATTEST_OK) {
        return err;
    }
    json_error_t error;
    json_t *claims = json_loadb(text, size, JSON_REJECT_DUPLICATES, &error);
    free(text);
    if (!json_is_object(claims)) {
        json_decref(claims);
        return attest_diag_set(diag, ATTEST_ERR_TOKEN_MALFORMED,
                               "token payload is not a JSON object without duplicate keys");
    }

    err = claims_check_types(claims, diag);
    if (err == ATTEST_OK) {
        err = claims_check_times(claims, options, diag);
    }
    if (err == ATTEST_OK && options->issuer != NULL) {
        const char *iss = json_string_value(json_object_get(claims, "iss"));
        if (iss == NULL || strcmp(iss, options->issuer) != 0) {
            err = attest_diag_set(diag, ATTEST_ERR_TOKEN_ISSUER,
                                  "token iss \"%.64s\" differs from the expected issuer \"%.64s\"",
                                  iss == NULL ? "(missing)" : iss, options->issuer);
        }
    }
    if (err == ATTEST_OK) {
        err = claims_check_audience(claims, options->audience, diag);
    }
    if (err != ATTEST_OK) {
        json_decref(claims);
        return err;
    }
    *out_claims = claims;
    return ATTEST_OK;
}

attest_err attest_token_verify(const char *token, size_t size, const json_t *jwks,
                               const attest_token_verify_options *options, json_t **out_claims,
                               attest_diag *diag)
{
    if (token == NULL || jwks == NULL || options == NULL) {
        return attest_diag_set(diag, ATTEST_ERR_ARGUMENT, "token, JWKS or options is NULL");
    }
    if (size > ATTEST_TOKEN_MAX_SIZE) {
        return attest_diag_set(diag, ATTEST_ERR_LIMIT, "token is %zu bytes, more than %d", size,
                               ATTEST_TOKEN_MAX_SIZE);
    }

    /* 1. Framing and header. */
    jws_parts parts = {{NULL, NULL, NULL}, {0, 0, 0}};
    attest_err err = jws_split(token, size, &parts, diag);
    if (err != ATTEST_OK) {
        return err;
    }
    json_t *header = NULL;
    err = header_parse(&parts, &header, diag);
    if (err != ATTEST_OK) {
        return err;
    }
    const char *alg = json_string_value(json_object_get(header, "alg"));
    const char *kid = json_string_value(json_object_get(header, "kid"));

    /* 2. Algorithm, before any key is used, so "none" or HS256 never reach libjose. */
    err = alg_check(alg, options->allowed_algs, diag);
    if (err != ATTEST_OK) {
        goto out;
    }

    /* 3. Key by kid; the key's own alg, when it has one, must be the header's. */
    const json_t *jwk = jwks_find(jwks, kid);
    if (jwk == NULL) {
        err = attest_diag_set(diag, ATTEST_ERR_TOKEN_KID_UNKNOWN,
                              "no key in the JWKS has the token's kid \"%.64s\"", kid);
        goto out;
    }
    const char *jwk_alg = json_string_value(json_object_get(jwk, "alg"));
    if (jwk_alg != NULL && strcmp(jwk_alg, alg) != 0) {
        err = attest_diag_set(diag, ATTEST_ERR_TOKEN_ALG,
                              "token alg %s differs from alg %.32s of key \"%.64s\"", alg,
                              jwk_alg, kid);
        goto out;
    }

    /* 4. Signature over the encoded header and payload. */
    err = signature_check(&parts, jwk, kid, diag);
    if (err != ATTEST_OK) {
        goto out;
    }

    /* 5 to 8. Claims, read only after the signature verified. */
    err = claims_parse_check(&parts, options, out_claims, diag);

out:
    json_decref(header);
    return err;
}

attest_err attest_token_header_kid(const char *token, size_t size,
                                   char out_kid[ATTEST_TOKEN_KID_SIZE], attest_diag *diag)
{
    if (token == NULL || out_kid == NULL) {
        return ATTEST_ERR_ARGUMENT;
    }
    jws_parts parts;
    attest_err err = jws_split(token, size, &parts, diag);
    json_t *header = NULL;
    if (err == ATTEST_OK) {
        err = header_parse(&parts, &header, diag);
    }
    if (err != ATTEST_OK) {
        return err;
    }
    const char *kid = json_string_value(json_object_get(header, "kid"));
    if (strlen(kid) >= ATTEST_TOKEN_KID_SIZE) {
        json_decref(header);
        return attest_diag_set(diag, ATTEST_ERR_TOKEN_KID_UNKNOWN,
                               "token kid is %zu characters, longer than any published kid",
                               strlen(kid));
    }
    snprintf(out_kid, ATTEST_TOKEN_KID_SIZE, "%s", kid);
    json_decref(header);
    return ATTEST_OK;
}
