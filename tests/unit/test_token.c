/*
 * Attestation tokens: signing keys and their kid, PEM and certificate, key
 * rotation in the JWKS, claims built from a report, and each way
 * attest_token_verify must reject a token, with its exact error.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <attest/token.h>

#include "token/internal.h"

#define NOW 1750000000
#define LIFETIME 600
#define SKEW ATTEST_TOKEN_CLOCK_SKEW_DEFAULT

/* One key of each algorithm, generated once for the whole run (RSA 3072 is slow). */
static attest_signing_key *keys[3];

static int keys_generate(void **state)
{
    (void)state;
    for (int alg = 0; alg < 3; alg++) {
        if (attest_signing_key_generate((attest_token_alg)alg, NOW - 1000, &keys[alg]) !=
            ATTEST_OK) {
            return -1;
        }
    }
    return 0;
}

static int keys_free(void **state)
{
    (void)state;
    for (int alg = 0; alg < 3; alg++) {
        attest_signing_key_free(keys[alg]);
        keys[alg] = NULL;
    }
    return 0;
}

/* A report as attest_verify_quote leaves it for a valid SGX quote. */
static void sgx_report_fill(attest_report *report)
{
    memset(report, 0, sizeof(*report));
    report->valid = true;
    report->parsed = true;
    report->has_tcb_status = true;
    report->tcb_status = ATTEST_TCB_UP_TO_DATE;
    report->tcb_date = 1700006400; /* 2023-11-15T00:00:00Z */
    report->tcb_evaluation_data_number = 17;
    report->quote.header.version = 3;
    report->quote.header.tee_type = ATTEST_TEE_TYPE_SGX;
    report->quote.body_type = ATTEST_BODY_SGX;
    for (size_t i = 0; i < 32; i++) {
        report->quote.body.sgx.mr_enclave[i] = (uint8_t)(0xa0 + (i & 0x0f));
        report->quote.body.sgx.mr_signer[i] = (uint8_t)i;
    }
    report->quote.body.sgx.isv_prod_id = 3;
    report->quote.body.sgx.isv_svn = 7;
    report->quote.body.sgx.report_data[0] = 0xff;
}

static void tdx_report_fill(attest_report *report)
{
    sgx_report_fill(report);
    report->quote.header.version = 4;
    report->quote.header.tee_type = ATTEST_TEE_TYPE_TDX;
    report->quote.body_type = ATTEST_BODY_TD10;
    memset(&report->quote.body, 0, sizeof(report->quote.body));
    memset(report->quote.body.td.mr_td, 0xab, sizeof(report->quote.body.td.mr_td));
    memset(report->quote.body.td.rtmr[3], 0x03, sizeof(report->quote.body.td.rtmr[3]));
    report->quote.body.td.xfam[0] = 0xe7;
}

static attest_token_params params_default(void)
{
    return (attest_token_params){
        .issuer = "https://attest.example",
        .subject = "payments-worker",
        .audience = "key-broker",
        .nonce = "bm9uY2U",
        .lifetime = LIFETIME,
        .verifier_developer = "attest",
        .verifier_build = "attest 0.1.0",
        .status = ATTEST_EAR_AFFIRMING,
        .policy_id = "payments",
        .policy_version = 4,
        .policy_hash = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
        .cnf_jwk = NULL,
    };
}

/* Parses the JWKS of set at now. */
static json_t *jwks_of(const attest_keyset *set, time_t now)
{
    char *text = NULL;
    assert_int_equal(attest_keyset_jwks(set, now, &text), ATTEST_OK);
    json_t *jwks = NULL;
    assert_int_equal(attest_jwks_parse(text, strlen(text), &jwks, NULL), ATTEST_OK);
    free(text);
    return jwks;
}

/* A JWKS with only key's public JWK. */
static json_t *jwks_single(const attest_signing_key *key)
{
    return json_pack("{s:[O]}", "keys", (json_t *)attest_signing_key_public_jwk(key));
}

/* Signs claims given as JSON text with key. */
static char *sign_text(const attest_signing_key *key, const char *claims_text)
{
    json_t *claims = json_loads(claims_text, 0, NULL);
    assert_non_null(claims);
    char *token = NULL;
    assert_int_equal(attest_token_sign(key, claims, &token, NULL), ATTEST_OK);
    json_decref(claims);
    return token;
}

/* Verifies token against jwks at at, without iss or aud, and returns the error. */
static attest_err verify_at(const char *token, const json_t *jwks, time_t at,
                            const char *audience)
{
    attest_token_verify_options options;
    attest_token_verify_options_init(&options, at);
    options.audience = audience;
    json_t *claims = NULL;
    attest_diag diag = {{0}};
    attest_err err = attest_token_verify(token, strlen(token), jwks, &options, &claims, &diag);
    if (err == ATTEST_OK) {
        assert_non_null(claims);
        json_decref(claims);
    } else {
        assert_null(claims);
        assert_true(diag.message[0] != '\0');
    }
    return err;
}

static const char *claim_string(const json_t *claims, const char *name)
{
    const char *value = json_string_value(json_object_get(claims, name));
    assert_non_null(value);
    return value;
}

/* ---- algorithms and keys ---- */

static void test_alg_names(void **state)
{
    (void)state;
    attest_token_alg alg;
    assert_int_equal(attest_token_alg_parse("ES256", &alg), ATTEST_OK);
    assert_int_equal(alg, ATTEST_TOKEN_ES256);
    assert_int_equal(attest_token_alg_parse("PS384", &alg), ATTEST_OK);
    assert_int_equal(alg, ATTEST_TOKEN_PS384);
    assert_int_equal(attest_token_alg_parse("none", &alg), ATTEST_ERR_TOKEN_ALG);
    assert_int_equal(attest_token_alg_parse("HS256", &alg), ATTEST_ERR_TOKEN_ALG);
    assert_int_equal(attest_token_alg_parse("es256", &alg), ATTEST_ERR_TOKEN_ALG);
    assert_int_equal(attest_token_alg_parse(NULL, &alg), ATTEST_ERR_TOKEN_ALG);
}

/* RFC 7638 section 3.1: the RSA key of RFC 7517 appendix A.1 and its thumbprint. */
static void test_kid_rfc7638_example(void **state)
{
    (void)state;
    json_t *jwk = json_pack(
        "{s:s,s:s,s:s,s:s,s:s}", "kty", "RSA", "n",
        "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_"
        "BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_"
        "FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-"
        "bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw",
        "e", "AQAB", "alg", "RS256", "kid", "2011-04-29");
    assert_non_null(jwk);
    char kid[ATTEST_TOKEN_KID_SIZE];
    assert_int_equal(attest_jwk_thumbprint(jwk, kid), ATTEST_OK);
    assert_string_equal(kid, "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs");
    json_decref(jwk);
}

static void test_kid_missing_member(void **state)
{
    (void)state;
    json_t *jwk = json_pack("{s:s,s:s}", "kty", "RSA", "e", "AQAB");
    char kid[ATTEST_TOKEN_KID_SIZE];
    assert_int_equal(attest_jwk_thumbprint(jwk, kid), ATTEST_ERR_ARGUMENT);
    json_decref(jwk);
}

/* Each key's kid is the thumbprint of its published JWK, which carries alg, use and x5c. */
static void test_key_public_jwk(void **state)
{
    (void)state;
    static const char *const ktys[3] = {"EC", "RSA", "RSA"};
    for (int alg = 0; alg < 3; alg++) {
        const json_t *jwk = attest_signing_key_public_jwk(keys[alg]);
        char kid[ATTEST_TOKEN_KID_SIZE];
        assert_int_equal(attest_jwk_thumbprint(jwk, kid), ATTEST_OK);
        assert_string_equal(kid, attest_signing_key_kid(keys[alg]));
        assert_string_equal(claim_string(jwk, "kid"), kid);
        assert_string_equal(claim_string(jwk, "kty"), ktys[alg]);
        assert_string_equal(claim_string(jwk, "alg"), attest_token_alg_name((attest_token_alg)alg));
        assert_string_equal(claim_string(jwk, "use"), "sig");
        assert_null(json_object_get(jwk, "d"));
        assert_null(json_object_get(jwk, "p"));
        assert_int_equal(json_array_size(json_object_get(jwk, "x5c")), 1);
    }
}

/* x5c holds a self-signed certificate of the same public key. */
static void test_key_certificate(void **state)
{
    (void)state;
    for (int alg = 0; alg < 3; alg++) {
        const json_t *jwk = attest_signing_key_public_jwk(keys[alg]);
        const char *b64 = json_string_value(json_array_get(json_object_get(jwk, "x5c"), 0));
        assert_non_null(b64);
        unsigned char der[4096];
        int size = EVP_DecodeBlock(der, (const unsigned char *)b64, (int)strlen(b64));
        assert_true(size > 0);
        const unsigned char *cursor = der;
        /* EVP_DecodeBlock counts padding bytes, which d2i ignores after the SEQUENCE. */
        X509 *certificate = d2i_X509(NULL, &cursor, size);
        assert_non_null(certificate);

        EVP_PKEY *public_key = X509_get0_pubkey(certificate);
        assert_non_null(public_key);
        assert_int_equal(X509_verify(certificate, public_key), 1);
        /* Self-issued; X509_check_issued would also demand keyCertSign, which a leaf lacks. */
        assert_int_equal(
            X509_NAME_cmp(X509_get_subject_name(certificate), X509_get_issuer_name(certificate)),
            0);
        assert_int_equal(X509_get_extension_flags(certificate) & EXFLAG_CA, 0);
        char name[128];
        X509_NAME_get_text_by_NID(X509_get_subject_name(certificate), NID_commonName, name,
                                  sizeof(name));
        char expected[128];
        snprintf(expected, sizeof(expected), "attest token key %s",
                 attest_signing_key_kid(keys[alg]));
        assert_string_equal(name, expected);
        X509_free(certificate);
    }
}

static void test_key_pem_round_trip(void **state)
{
    (void)state;
    for (int alg = 0; alg < 3; alg++) {
        char *pem = NULL;
        size_t size = 0;
        assert_int_equal(attest_signing_key_to_pem(keys[alg], &pem, &size), ATTEST_OK);
        assert_int_equal(strlen(pem), size);
        assert_non_null(strstr(pem, "-----BEGIN PRIVATE KEY-----"));
        assert_non_null(strstr(pem, "-----BEGIN CERTIFICATE-----"));

        attest_signing_key *loaded = NULL;
        assert_int_equal(attest_signing_key_from_pem(pem, size, NOW, &loaded, NULL), ATTEST_OK);
        assert_int_equal(attest_signing_key_alg(loaded), alg);
        assert_string_equal(attest_signing_key_kid(loaded), attest_signing_key_kid(keys[alg]));
        /* The certificate is loaded, not made again, so the JWK is the same. */
        assert_true(json_equal((json_t *)attest_signing_key_public_jwk(loaded),
                               (json_t *)attest_signing_key_public_jwk(keys[alg])));

        /* A token of the loaded key verifies with the original key's JWKS. */
        char *token = sign_text(loaded, "{\"iat\": 1750000000, \"exp\": 1750000600}");
        json_t *jwks = jwks_single(keys[alg]);
        assert_int_equal(verify_at(token, jwks, NOW, NULL), ATTEST_OK);
        json_decref(jwks);
        free(token);
        attest_signing_key_free(loaded);
        attest_signing_key_pem_free(pem, size);
    }
}

/* Without the alg line an RSA key is RS256; without a certificate one is made. */
static void test_key_pem_plain_rsa(void **state)
{
    (void)state;
    char *pem = NULL;
    size_t size = 0;
    assert_int_equal(attest_signing_key_to_pem(keys[ATTEST_TOKEN_PS384], &pem, &size), ATTEST_OK);
    char *begin = strstr(pem, "-----BEGIN PRIVATE KEY-----");
    char *certificate = strstr(pem, "-----BEGIN CERTIFICATE-----");
    assert_non_null(begin);
    assert_non_null(certificate);
    size_t key_size = (size_t)(certificate - begin);

    attest_signing_key *loaded = NULL;
    assert_int_equal(attest_signing_key_from_pem(begin, key_size, NOW, &loaded, NULL), ATTEST_OK);
    assert_int_equal(attest_signing_key_alg(loaded), ATTEST_TOKEN_RS256);
    assert_string_equal(attest_signing_key_kid(loaded),
                        attest_signing_key_kid(keys[ATTEST_TOKEN_PS384]));
    attest_signing_key_free(loaded);
    attest_signing_key_pem_free(pem, size);
}

static void test_key_pem_hostile(void **state)
{
    (void)state;
    attest_signing_key *loaded = NULL;
    attest_diag diag = {{0}};
    static const char garbage[] = "not a key\n";
    assert_int_equal(attest_signing_key_from_pem(garbage, sizeof(garbage) - 1, NOW, &loaded,
                                                 &diag),
                     ATTEST_ERR_SIGNING_KEY);
    assert_null(loaded);

    static const char bad_alg[] = "attest-token-alg: HS256\n";
    assert_int_equal(attest_signing_key_from_pem(bad_alg, sizeof(bad_alg) - 1, NOW, &loaded,
                                                 &diag),
                     ATTEST_ERR_TOKEN_ALG);

    /* An EC key labelled as an RSA algorithm. */
    char *pem = NULL;
    size_t size = 0;
    assert_int_equal(attest_signing_key_to_pem(keys[ATTEST_TOKEN_ES256], &pem, &size), ATTEST_OK);
    memcpy(pem + strlen("attest-token-alg: "), "RS256", 5);
    assert_int_equal(attest_signing_key_from_pem(pem, size, NOW, &loaded, &diag),
                     ATTEST_ERR_SIGNING_KEY);
    assert_null(loaded);
    attest_signing_key_pem_free(pem, size);

    /* The private key of one key with the certificate of another. */
    char *es_pem = NULL;
    size_t es_size = 0;
    char *rs_pem = NULL;
    size_t rs_size = 0;
    assert_int_equal(attest_signing_key_to_pem(keys[ATTEST_TOKEN_ES256], &es_pem, &es_size),
                     ATTEST_OK);
    assert_int_equal(attest_signing_key_to_pem(keys[ATTEST_TOKEN_RS256], &rs_pem, &rs_size),
                     ATTEST_OK);
    char *es_certificate = strstr(es_pem, "-----BEGIN CERTIFICATE-----");
    char *rs_certificate = strstr(rs_pem, "-----BEGIN CERTIFICATE-----");
    size_t key_part = (size_t)(es_certificate - es_pem);
    size_t mixed_size = key_part + strlen(rs_certificate);
    char *mixed = malloc(mixed_size + 1);
    assert_non_null(mixed);
    memcpy(mixed, es_pem, key_part);
    memcpy(mixed + key_part, rs_certificate, strlen(rs_certificate) + 1);
    assert_int_equal(attest_signing_key_from_pem(mixed, mixed_size, NOW, &loaded, &diag),
                     ATTEST_ERR_SIGNING_KEY);
    assert_non_null(strstr(diag.message, "another key"));
    free(mixed);
    attest_signing_key_pem_free(es_pem, es_size);
    attest_signing_key_pem_free(rs_pem, rs_size);
}

/* ---- issuing and round trips ---- */

/* Issue with each algorithm, publish, verify, and check the claims. */
static void test_round_trip_every_alg(void **state)
{
    (void)state;
    attest_report report;
    sgx_report_fill(&report);
    attest_token_params params = params_default();

    for (int alg = 0; alg < 3; alg++) {
        attest_signing_key *key = NULL;
        char *pem = NULL;
        size_t size = 0;
        assert_int_equal(attest_signing_key_to_pem(keys[alg], &pem, &size), ATTEST_OK);
        assert_int_equal(attest_signing_key_from_pem(pem, size, NOW, &key, NULL), ATTEST_OK);
        attest_signing_key_pem_free(pem, size);

        attest_keyset *set = NULL;
        assert_int_equal(attest_keyset_new(3600, &set), ATTEST_OK);
        assert_int_equal(attest_keyset_rotate(set, key, NOW), ATTEST_OK);

        char *token = NULL;
        json_t *issued = NULL;
        assert_int_equal(attest_token_issue(set, &report, &params, NOW, &token, &issued, NULL),
                         ATTEST_OK);

        json_t *jwks = jwks_of(set, NOW);
        attest_token_verify_options options;
        attest_token_verify_options_init(&options, NOW + 10);
        options.issuer = params.issuer;
        options.audience = params.audience;
        options.allowed_algs = ATTEST_TOKEN_ALG_BIT((attest_token_alg)alg);
        json_t *claims = NULL;
        attest_diag diag = {{0}};
        assert_int_equal(attest_token_verify(token, strlen(token), jwks, &options, &claims, &diag),
                         ATTEST_OK);
        assert_true(json_equal(claims, issued));

        assert_string_equal(claim_string(claims, "sub"), "payments-worker");
        assert_int_equal(json_integer_value(json_object_get(claims, "exp")), NOW + LIFETIME);
        assert_int_equal(strlen(claim_string(claims, "jti")), 22);
        assert_string_equal(claim_string(claims, "eat_profile"),
                            "tag:github.com,2023:veraison/ear");
        json_t *submod = json_object_get(json_object_get(claims, "submods"), "sgx");
        assert_string_equal(claim_string(submod, "ear.status"), "affirming");
        assert_string_equal(claim_string(submod, "ear.appraisal-policy-id"), "payments");
        assert_string_equal(
            claim_string(json_object_get(claims, "ear.verifier-id"), "developer"), "attest");
        assert_string_equal(claim_string(claims, "attester_type"), "sgx");
        assert_string_equal(claim_string(claims, "tcb_status"), "UpToDate");
        assert_string_equal(claim_string(claims, "tcb_date"), "2023-11-15T00:00:00Z");
        assert_string_equal(claim_string(claims, "nonce"), "bm9uY2U");
        assert_string_equal(claim_string(claims, "sgx_mrenclave"),
                            "a0a1a2a3a4a5a6a7a8a9aaabacadaeafa0a1a2a3a4a5a6a7a8a9aaabacadaeaf");
        assert_int_equal(json_integer_value(json_object_get(claims, "sgx_isvsvn")), 7);
        assert_true(json_is_false(json_object_get(claims, "sgx_is_debuggable")));
        assert_true(json_is_false(json_object_get(claims, "simulated")));
        assert_int_equal(json_integer_value(json_object_get(claims, "policy_version")), 4);
        assert_null(json_object_get(claims, "cnf"));
        assert_null(json_object_get(claims, "tdx_mrtd"));

        json_decref(claims);
        json_decref(issued);
        json_decref(jwks);
        free(token);
        attest_keyset_free(set);
    }
}

static void test_claims_tdx_warning_cnf(void **state)
{
    (void)state;
    attest_report report;
    tdx_report_fill(&report);
    report.tcb_status = ATTEST_TCB_SW_HARDENING_NEEDED;
    report.advisories.count = 2;
    strcpy(report.advisories.ids[0], "INTEL-SA-00615");
    strcpy(report.advisories.ids[1], "INTEL-SA-00828");
    report.simulated = true;

    attest_token_params params = params_default();
    params.status = ATTEST_EAR_WARNING;
    params.audience = NULL;
    params.nonce = NULL;
    json_t *cnf = json_pack("{s:s,s:s,s:s,s:s}", "kty", "EC", "crv", "P-256", "x", "AAAA", "y",
                            "BBBB");
    params.cnf_jwk = cnf;

    json_t *claims = NULL;
    assert_int_equal(attest_token_claims_build(&report, &params, NOW, &claims, NULL), ATTEST_OK);
    assert_string_equal(claim_string(claims, "attester_type"), "tdx");
    assert_string_equal(
        claim_string(json_object_get(json_object_get(claims, "submods"), "tdx"), "ear.status"),
        "warning");
    assert_string_equal(claim_string(claims, "tcb_status"), "SWHardeningNeeded");
    json_t *advisories = json_object_get(claims, "advisory_ids");
    assert_int_equal(json_array_size(advisories), 2);
    assert_string_equal(json_string_value(json_array_get(advisories, 1)), "INTEL-SA-00828");
    assert_true(json_is_true(json_object_get(claims, "simulated")));
    assert_int_equal(strlen(claim_string(claims, "tdx_mrtd")), 96);
    assert_string_equal(claim_string(claims, "tdx_mrtd"),
                        "abababababababababababababababababababababababababababababababab"
                        "abababababababababababababababab");
    assert_string_equal(claim_string(claims, "tdx_xfam"), "e700000000000000");
    static const char *const tdx_names[] = {
        "tdx_rtmr0", "tdx_rtmr1", "tdx_rtmr2", "tdx_rtmr3", "tdx_mrconfigid", "tdx_mrowner",
        "tdx_mrownerconfig", "tdx_mrseam", "tdx_td_attributes", "tdx_tee_tcb_svn",
        "tdx_report_data"};
    for (size_t i = 0; i < sizeof(tdx_names) / sizeof(tdx_names[0]); i++) {
        assert_non_null(json_object_get(claims, tdx_names[i]));
    }
    assert_true(json_is_false(json_object_get(claims, "tdx_is_debuggable")));
    assert_null(json_object_get(claims, "aud"));
    assert_null(json_object_get(claims, "nonce"));
    assert_null(json_object_get(claims, "sgx_mrenclave"));
    assert_true(json_equal(json_object_get(json_object_get(claims, "cnf"), "jwk"), cnf));
    json_decref(claims);
    json_decref(cnf);
}

static void test_claims_rejected_inputs(void **state)
{
    (void)state;
    attest_report report;
    sgx_report_fill(&report);
    attest_token_params params = params_default();
    json_t *claims = NULL;
    attest_diag diag = {{0}};

    /* Affirming is only for an up-to-date, non-debug result from hardware. */
    report.tcb_status = ATTEST_TCB_OUT_OF_DATE;
    assert_int_equal(attest_token_claims_build(&report, &params, NOW, &claims, &diag),
                     ATTEST_ERR_ARGUMENT);
    assert_non_null(strstr(diag.message, "OutOfDate"));
    sgx_report_fill(&report);
    report.debug = true;
    assert_int_equal(attest_token_claims_build(&report, &params, NOW, &claims, &diag),
                     ATTEST_ERR_ARGUMENT);
    sgx_report_fill(&report);
    report.simulated = true;
    assert_int_equal(attest_token_claims_build(&report, &params, NOW, &claims, &diag),
                     ATTEST_ERR_ARGUMENT);
    assert_non_null(strstr(diag.message, "simulated platform"));

    /* An invalid report gets no token. */
    sgx_report_fill(&report);
    report.valid = false;
    report.err = ATTEST_ERR_QUOTE_SIGNATURE;
    assert_int_equal(attest_token_claims_build(&report, &params, NOW, &claims, &diag),
                     ATTEST_ERR_ARGUMENT);
    assert_non_null(strstr(diag.message, "quote_signature_invalid"));

    sgx_report_fill(&report);
    params.policy_hash = NULL;
    assert_int_equal(attest_token_claims_build(&report, &params, NOW, &claims, &diag),
                     ATTEST_ERR_ARGUMENT);
    assert_non_null(strstr(diag.message, "policy_hash"));
    params = params_default();
    params.lifetime = 0;
    assert_int_equal(attest_token_claims_build(&report, &params, NOW, &claims, &diag),
                     ATTEST_ERR_ARGUMENT);
    assert_null(claims);

    /* A lifetime above the key set's maximum would outlive the retired key's publication. */
    attest_signing_key *key = NULL;
    assert_int_equal(attest_signing_key_generate(ATTEST_TOKEN_ES256, NOW, &key), ATTEST_OK);
    attest_keyset *set = NULL;
    assert_int_equal(attest_keyset_new(300, &set), ATTEST_OK);
    char *token = NULL;
    params = params_default();
    assert_int_equal(attest_token_issue(set, &report, &params, NOW, &token, NULL, &diag),
                     ATTEST_ERR_ARGUMENT);
    assert_int_equal(attest_keyset_rotate(set, key, NOW), ATTEST_OK);
    assert_int_equal(attest_token_issue(set, &report, &params, NOW, &token, NULL, &diag),
                     ATTEST_ERR_ARGUMENT);
    assert_non_null(strstr(diag.message, "maximum"));
    assert_null(token);
    attest_keyset_free(set);
}

/* ---- key rotation ---- */

static void test_rotation_old_key_until_expiry(void **state)
{
    (void)state;
    attest_report report;
    sgx_report_fill(&report);
    attest_token_params params = params_default();
    params.audience = NULL;

    attest_signing_key *old_key = NULL;
    attest_signing_key *new_key = NULL;
    assert_int_equal(attest_signing_key_generate(ATTEST_TOKEN_ES256, NOW, &old_key), ATTEST_OK);
    assert_int_equal(attest_signing_key_generate(ATTEST_TOKEN_ES256, NOW, &new_key), ATTEST_OK);
    attest_keyset *set = NULL;
    assert_int_equal(attest_keyset_new(LIFETIME, &set), ATTEST_OK);
    assert_int_equal(attest_keyset_rotate(set, old_key, NOW), ATTEST_OK);

    /* The old key signs a token one second before it is retired. */
    const time_t retired_at = NOW + 1000;
    char *old_token = NULL;
    assert_int_equal(
        attest_token_issue(set, &report, &params, retired_at - 1, &old_token, NULL, NULL),
        ATTEST_OK);
    assert_int_equal(attest_keyset_rotate(set, new_key, retired_at), ATTEST_OK);
    assert_ptr_equal(attest_keyset_current(set), new_key);
    assert_int_equal(attest_keyset_rotate(set, new_key, retired_at), ATTEST_ERR_ARGUMENT);

    /* Last second the old token is valid: the old key is still published. */
    const time_t last_valid = retired_at - 1 + LIFETIME + SKEW - 1;
    assert_int_equal(attest_keyset_published_count(set, last_valid), 2);
    json_t *jwks = jwks_of(set, last_valid);
    assert_int_equal(json_array_size(json_object_get(jwks, "keys")), 2);
    assert_string_equal(
        claim_string(json_array_get(json_object_get(jwks, "keys"), 0), "kid"),
        attest_signing_key_kid(new_key));
    assert_int_equal(verify_at(old_token, jwks, last_valid, NULL), ATTEST_OK);
    assert_int_equal(verify_at(old_token, jwks, last_valid + 1, NULL), ATTEST_ERR_TOKEN_EXPIRED);
    json_decref(jwks);

    /* After retire time + max lifetime + skew the old key is gone. */
    const time_t dropped = retired_at + LIFETIME + SKEW;
    assert_int_equal(attest_keyset_published_count(set, dropped), 1);
    jwks = jwks_of(set, dropped);
    assert_int_equal(json_array_size(json_object_get(jwks, "keys")), 1);
    assert_int_equal(verify_at(old_token, jwks, retired_at, NULL), ATTEST_ERR_TOKEN_KID_UNKNOWN);
    json_decref(jwks);

    /* The new key's tokens verify, and pruning frees the old key. */
    char *new_token = NULL;
    assert_int_equal(
        attest_token_issue(set, &report, &params, dropped, &new_token, NULL, NULL), ATTEST_OK);
    attest_keyset_prune(set, dropped);
    jwks = jwks_of(set, dropped);
    assert_int_equal(verify_at(new_token, jwks, dropped, NULL), ATTEST_OK);
    json_decref(jwks);

    free(old_token);
    free(new_token);
    attest_keyset_free(set);
}

static void test_keyset_limits(void **state)
{
    (void)state;
    attest_keyset *set = NULL;
    assert_int_equal(attest_keyset_new(0, &set), ATTEST_ERR_ARGUMENT);
    assert_int_equal(attest_keyset_new(60, &set), ATTEST_OK);
    char *text = NULL;
    assert_int_equal(attest_keyset_jwks(set, NOW, &text), ATTEST_ERR_ARGUMENT);
    assert_null(attest_keyset_current(set));

    for (size_t i = 0; i < ATTEST_KEYSET_MAX_KEYS; i++) {
        attest_signing_key *key = NULL;
        assert_int_equal(attest_signing_key_generate(ATTEST_TOKEN_ES256, NOW, &key), ATTEST_OK);
        assert_int_equal(attest_keyset_rotate(set, key, NOW), ATTEST_OK);
    }
    attest_signing_key *extra = NULL;
    assert_int_equal(attest_signing_key_generate(ATTEST_TOKEN_ES256, NOW, &extra), ATTEST_OK);
    assert_int_equal(attest_keyset_add_retired(set, extra, NOW), ATTEST_ERR_LIMIT);
    assert_int_equal(attest_keyset_rotate(set, extra, NOW), ATTEST_ERR_LIMIT);
    /*
     * Rotating later drops the keys that are no longer published, which makes
     * room. The key that was current until this rotation stays published.
     */
    assert_int_equal(attest_keyset_rotate(set, extra, NOW + 60 + SKEW), ATTEST_OK);
    assert_int_equal(attest_keyset_published_count(set, NOW + 60 + SKEW), 2);
    assert_int_equal(attest_keyset_published_count(set, NOW + 60 + SKEW + 60 + SKEW), 1);
    attest_keyset_free(set);
}

/* ---- verification failures ---- */

/* Builds a token from raw header and payload JSON and an arbitrary signature part. */
static char *token_from_parts(const char *header, const char *payload, const char *signature)
{
    size_t header_size = strlen(header);
    size_t payload_size = strlen(payload);
    char *token = malloc(TOKEN_B64URL_LENGTH(header_size) + TOKEN_B64URL_LENGTH(payload_size) +
                         strlen(signature) + 3);
    assert_non_null(token);
    token_b64url_encode((const uint8_t *)header, header_size, token);
    strcat(token, ".");
    token_b64url_encode((const uint8_t *)payload, payload_size, token + strlen(token));
    strcat(token, ".");
    strcat(token, signature);
    return token;
}

/* Replaces one part (0 header, 1 payload, 2 signature) of token with replacement. */
static char *token_replace_part(const char *token, int part, const char *replacement)
{
    const char *first = strchr(token, '.');
    const char *second = strchr(first + 1, '.');
    const char *starts[3] = {token, first + 1, second + 1};
    const char *ends[3] = {first, second, token + strlen(token)};
    char *result = malloc(strlen(token) + strlen(replacement) + 1);
    assert_non_null(result);
    result[0] = '\0';
    for (int i = 0; i < 3; i++) {
        if (i > 0) {
            strcat(result, ".");
        }
        if (i == part) {
            strcat(result, replacement);
        } else {
            strncat(result, starts[i], (size_t)(ends[i] - starts[i]));
        }
    }
    return result;
}

static void test_verify_malformed(void **state)
{
    (void)state;
    const attest_signing_key *key = keys[ATTEST_TOKEN_ES256];
    json_t *jwks = jwks_single(key);
    char *good = sign_text(key, "{\"iat\": 1750000000, \"exp\": 1750000600}");
    const char *signature = strrchr(good, '.') + 1;

    struct {
        const char *mutation;
        char *token;
        attest_err expected;
    } cases[] = {
        {"two parts", strdup("eyJhbGciOiJFUzI1NiJ9.e30"), ATTEST_ERR_TOKEN_MALFORMED},
        {"four parts", NULL, ATTEST_ERR_TOKEN_MALFORMED},
        {"empty payload", token_replace_part(good, 1, ""), ATTEST_ERR_TOKEN_MALFORMED},
        {"padding in the signature", NULL, ATTEST_ERR_TOKEN_MALFORMED},
        {"standard base64 character", token_replace_part(good, 1, "e30+"),
         ATTEST_ERR_TOKEN_MALFORMED},
        {"header not JSON", token_from_parts("{alg", "{}", signature),
         ATTEST_ERR_TOKEN_MALFORMED},
        {"header an array", token_from_parts("[]", "{}", signature), ATTEST_ERR_TOKEN_MALFORMED},
        {"header without kid", token_from_parts("{\"alg\":\"ES256\"}", "{}", signature),
         ATTEST_ERR_TOKEN_MALFORMED},
        {"header with numeric alg", token_from_parts("{\"alg\":1,\"kid\":\"k\"}", "{}", signature),
         ATTEST_ERR_TOKEN_MALFORMED},
        {"header duplicate alg",
         token_from_parts("{\"alg\":\"ES256\",\"alg\":\"none\",\"kid\":\"k\"}", "{}", signature),
         ATTEST_ERR_TOKEN_MALFORMED},
        {"typ other than JWT",
         token_from_parts("{\"alg\":\"ES256\",\"kid\":\"k\",\"typ\":\"at+jwt\"}", "{}", signature),
         ATTEST_ERR_TOKEN_MALFORMED},
        {"crit header",
         token_from_parts("{\"alg\":\"ES256\",\"kid\":\"k\",\"crit\":[\"b64\"],\"b64\":false}",
                          "{}", signature),
         ATTEST_ERR_TOKEN_MALFORMED},
    };
    size_t count = sizeof(cases) / sizeof(cases[0]);

    /* Cases that need more than one call to build. */
    size_t good_size = strlen(good);
    cases[1].token = malloc(good_size + 4);
    assert_non_null(cases[1].token);
    snprintf(cases[1].token, good_size + 4, "%s.e30", good);
    cases[3].token = malloc(good_size + 2);
    assert_non_null(cases[3].token);
    snprintf(cases[3].token, good_size + 2, "%s=", good);

    for (size_t i = 0; i < count; i++) {
        assert_non_null(cases[i].token);
        attest_err err = verify_at(cases[i].token, jwks, NOW, NULL);
        if (err != cases[i].expected) {
            fail_msg("%s: got %s, expected %s", cases[i].mutation, attest_err_code(err),
                     attest_err_code(cases[i].expected));
        }
        free(cases[i].token);
    }
    assert_int_equal(verify_at(good, jwks, NOW, NULL), ATTEST_OK);
    free(good);
    json_decref(jwks);
}

/* Non-canonical base64url: the unused low bits of the last character are set. */
static void test_verify_noncanonical_base64(void **state)
{
    (void)state;
    const attest_signing_key *key = keys[ATTEST_TOKEN_ES256];
    json_t *jwks = jwks_single(key);
    char *token = sign_text(key, "{\"iat\": 1750000000, \"exp\": 1750000600}");
    /* The ES256 signature is 64 bytes, 86 characters: the last holds 2 unused bits. */
    char *last = token + strlen(token) - 1;
    const char *alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    size_t value = (size_t)(strchr(alphabet, *last) - alphabet);
    *last = alphabet[value ^ 1];
    assert_int_equal(verify_at(token, jwks, NOW, NULL), ATTEST_ERR_TOKEN_MALFORMED);
    free(token);
    json_decref(jwks);
}

static void test_verify_alg_rejected(void **state)
{
    (void)state;
    const attest_signing_key *key = keys[ATTEST_TOKEN_ES256];
    const char *kid = attest_signing_key_kid(key);
    json_t *jwks = jwks_single(key);
    char *good = sign_text(key, "{\"iat\": 1750000000, \"exp\": 1750000600}");
    const char *first_dot = strchr(good, '.');
    char payload[512];
    snprintf(payload, sizeof(payload), "%.*s", (int)(strrchr(good, '.') - first_dot - 1),
             first_dot + 1);

    static const char *const algs[] = {"none", "HS256", "ES384", "RS512", "es256", ""};
    for (size_t i = 0; i < sizeof(algs) / sizeof(algs[0]); i++) {
        char header[256];
        snprintf(header, sizeof(header), "{\"alg\":\"%s\",\"kid\":\"%s\"}", algs[i], kid);
        char *encoded = malloc(TOKEN_B64URL_LENGTH(strlen(header)) + 1);
        assert_non_null(encoded);
        token_b64url_encode((const uint8_t *)header, strlen(header), encoded);
        char *token = token_replace_part(good, 0, encoded);
        assert_int_equal(verify_at(token, jwks, NOW, NULL), ATTEST_ERR_TOKEN_ALG);
        free(token);

        /* "none" with a one-character signature fails on the framing first. */
        if (i == 0) {
            char *unsigned_token = malloc(strlen(encoded) + strlen(payload) + 4);
            assert_non_null(unsigned_token);
            sprintf(unsigned_token, "%s.%s.A", encoded, payload);
            assert_int_equal(verify_at(unsigned_token, jwks, NOW, NULL),
                             ATTEST_ERR_TOKEN_MALFORMED);
            free(unsigned_token);
        }
        free(encoded);
    }

    /* An allowed algorithm outside the relying party's set. */
    attest_token_verify_options options;
    attest_token_verify_options_init(&options, NOW);
    options.allowed_algs = ATTEST_TOKEN_ALG_BIT(ATTEST_TOKEN_PS384);
    json_t *claims = NULL;
    assert_int_equal(attest_token_verify(good, strlen(good), jwks, &options, &claims, NULL),
                     ATTEST_ERR_TOKEN_ALG);

    /* A header alg that differs from the key's alg: RS256 header on the PS384 key. */
    const attest_signing_key *ps_key = keys[ATTEST_TOKEN_PS384];
    json_t *ps_jwks = jwks_single(ps_key);
    char header[256];
    snprintf(header, sizeof(header), "{\"alg\":\"RS256\",\"kid\":\"%s\"}",
             attest_signing_key_kid(ps_key));
    char *ps_token = sign_text(ps_key, "{\"iat\": 1750000000, \"exp\": 1750000600}");
    char *encoded = malloc(TOKEN_B64URL_LENGTH(strlen(header)) + 1);
    assert_non_null(encoded);
    token_b64url_encode((const uint8_t *)header, strlen(header), encoded);
    char *swapped = token_replace_part(ps_token, 0, encoded);
    assert_int_equal(verify_at(swapped, ps_jwks, NOW, NULL), ATTEST_ERR_TOKEN_ALG);
    free(swapped);
    free(encoded);
    free(ps_token);
    json_decref(ps_jwks);
    free(good);
    json_decref(jwks);
}

static void test_verify_unknown_kid(void **state)
{
    (void)state;
    char *token = sign_text(keys[ATTEST_TOKEN_ES256], "{\"iat\": 1750000000, \"exp\": 1750000600}");
    json_t *jwks = jwks_single(keys[ATTEST_TOKEN_RS256]);
    assert_int_equal(verify_at(token, jwks, NOW, NULL), ATTEST_ERR_TOKEN_KID_UNKNOWN);
    json_t *empty = json_pack("{s:[]}", "keys");
    assert_int_equal(verify_at(token, empty, NOW, NULL), ATTEST_ERR_TOKEN_KID_UNKNOWN);
    json_decref(empty);
    json_decref(jwks);
    free(token);
}

static void test_verify_bad_signature(void **state)
{
    (void)state;
    for (int alg = 0; alg < 3; alg++) {
        const attest_signing_key *key = keys[alg];
        json_t *jwks = jwks_single(key);
        char *token = sign_text(key, "{\"iat\": 1750000000, \"exp\": 1750000600, \"sub\": \"a\"}");

        /* One changed signature character (not the last, whose low bits are unused). */
        char *flipped = strdup(token);
        assert_non_null(flipped);
        char *signature = strrchr(flipped, '.') + 1;
        signature[5] = signature[5] == 'A' ? 'B' : 'A';
        assert_int_equal(verify_at(flipped, jwks, NOW, NULL), ATTEST_ERR_TOKEN_SIGNATURE);

        /* Another payload under the original signature. */
        char payload[128];
        const char *other = "{\"iat\": 1750000000, \"exp\": 1750000600, \"sub\": \"b\"}";
        token_b64url_encode((const uint8_t *)other, strlen(other), payload);
        char *swapped = token_replace_part(token, 1, payload);
        assert_int_equal(verify_at(swapped, jwks, NOW, NULL), ATTEST_ERR_TOKEN_SIGNATURE);

        /* A signature of the wrong size. */
        char *short_signature = token_replace_part(token, 2, "AAAA");
        assert_int_equal(verify_at(short_signature, jwks, NOW, NULL), ATTEST_ERR_TOKEN_SIGNATURE);

        /* The same kid published with another key of the same type. */
        json_t *forged = json_deep_copy(jwks);
        json_t *forged_key = json_array_get(json_object_get(forged, "keys"), 0);
        const attest_signing_key *other_key = keys[alg == 0 ? 0 : (alg == 1 ? 2 : 1)];
        if (alg != 0) {
            json_object_set(forged_key, "n",
                            json_object_get(attest_signing_key_public_jwk(other_key), "n"));
            assert_int_equal(verify_at(token, forged, NOW, NULL), ATTEST_ERR_TOKEN_SIGNATURE);
        }
        json_decref(forged);

        free(short_signature);
        free(swapped);
        free(flipped);
        free(token);
        json_decref(jwks);
    }
}

static void test_verify_times(void **state)
{
    (void)state;
    const attest_signing_key *key = keys[ATTEST_TOKEN_ES256];
    json_t *jwks = jwks_single(key);
    char *token = sign_text(key, "{\"iat\": 1750000000, \"nbf\": 1750000000, "
                                 "\"exp\": 1750000600}");

    /* exp with the skew: valid until exp + skew - 1. */
    assert_int_equal(verify_at(token, jwks, 1750000600 + SKEW - 1, NULL), ATTEST_OK);
    assert_int_equal(verify_at(token, jwks, 1750000600 + SKEW, NULL), ATTEST_ERR_TOKEN_EXPIRED);
    /* nbf with the skew. */
    assert_int_equal(verify_at(token, jwks, 1750000000 - SKEW, NULL), ATTEST_OK);
    assert_int_equal(verify_at(token, jwks, 1750000000 - SKEW - 1, NULL),
                     ATTEST_ERR_TOKEN_NOT_YET_VALID);
    free(token);

    /* iat in the future without nbf. */
    token = sign_text(key, "{\"iat\": 1750001000, \"exp\": 1750009000}");
    assert_int_equal(verify_at(token, jwks, 1750001000 - SKEW - 1, NULL),
                     ATTEST_ERR_TOKEN_NOT_YET_VALID);
    free(token);

    /* Zero skew. */
    token = sign_text(key, "{\"iat\": 1750000000, \"exp\": 1750000600}");
    attest_token_verify_options options;
    attest_token_verify_options_init(&options, 1750000600);
    options.clock_skew = 0;
    json_t *claims = NULL;
    assert_int_equal(attest_token_verify(token, strlen(token), jwks, &options, &claims, NULL),
                     ATTEST_ERR_TOKEN_EXPIRED);
    free(token);

    /* Missing or mistyped time claims. */
    static const char *const broken[] = {
        "{\"iat\": 1750000000}",
        "{\"exp\": 1750000600}",
        "{\"iat\": 1750000000, \"exp\": \"1750000600\"}",
        "{\"iat\": 1750000000, \"exp\": 1750000600.5}",
        "{\"iat\": 1750000000, \"exp\": 1750000600, \"nbf\": null}",
        "{\"iat\": 1750000000, \"exp\": 1750000600, \"iss\": 5}",
        "{\"iat\": 1750000000, \"exp\": 1750000600, \"aud\": [\"a\", 1]}",
        "[1750000000]",
    };
    for (size_t i = 0; i < sizeof(broken) / sizeof(broken[0]); i++) {
        json_t *value = json_loads(broken[i], 0, NULL);
        assert_non_null(value);
        char *broken_token = NULL;
        attest_err sign_err = attest_token_sign(key, value, &broken_token, NULL);
        json_decref(value);
        if (i == sizeof(broken) / sizeof(broken[0]) - 1) {
            /* Only an object can be signed here; build the array payload by hand below. */
            assert_int_equal(sign_err, ATTEST_ERR_ARGUMENT);
            continue;
        }
        assert_int_equal(sign_err, ATTEST_OK);
        attest_err err = verify_at(broken_token, jwks, NOW, NULL);
        if (err != ATTEST_ERR_TOKEN_MALFORMED) {
            fail_msg("claims %s: got %s", broken[i], attest_err_code(err));
        }
        free(broken_token);
    }
    json_decref(jwks);
}

static void test_verify_issuer_audience(void **state)
{
    (void)state;
    const attest_signing_key *key = keys[ATTEST_TOKEN_ES256];
    json_t *jwks = jwks_single(key);
    char *token = sign_text(key, "{\"iat\": 1750000000, \"exp\": 1750000600, "
                                 "\"iss\": \"https://attest.example\", "
                                 "\"aud\": [\"key-broker\", \"storage\"]}");
    attest_token_verify_options options;
    attest_token_verify_options_init(&options, NOW);
    json_t *claims = NULL;

    options.audience = "storage";
    options.issuer = "https://attest.example";
    assert_int_equal(attest_token_verify(token, strlen(token), jwks, &options, &claims, NULL),
                     ATTEST_OK);
    json_decref(claims);
    claims = NULL;

    options.issuer = "https://other.example";
    assert_int_equal(attest_token_verify(token, strlen(token), jwks, &options, &claims, NULL),
                     ATTEST_ERR_TOKEN_ISSUER);
    options.issuer = NULL;
    options.audience = "billing";
    assert_int_equal(attest_token_verify(token, strlen(token), jwks, &options, &claims, NULL),
                     ATTEST_ERR_TOKEN_AUDIENCE);
    /* A token addressed to audiences is rejected by a verifier that names none. */
    options.audience = NULL;
    assert_int_equal(attest_token_verify(token, strlen(token), jwks, &options, &claims, NULL),
                     ATTEST_ERR_TOKEN_AUDIENCE);
    free(token);

    /* A token without aud or iss, checked for both. */
    token = sign_text(key, "{\"iat\": 1750000000, \"exp\": 1750000600}");
    options.audience = "key-broker";
    assert_int_equal(attest_token_verify(token, strlen(token), jwks, &options, &claims, NULL),
                     ATTEST_ERR_TOKEN_AUDIENCE);
    options.audience = NULL;
    options.issuer = "https://attest.example";
    assert_int_equal(attest_token_verify(token, strlen(token), jwks, &options, &claims, NULL),
                     ATTEST_ERR_TOKEN_ISSUER);
    assert_null(claims);
    free(token);
    json_decref(jwks);
}

static void test_verify_limits_and_arguments(void **state)
{
    (void)state;
    json_t *jwks = jwks_single(keys[ATTEST_TOKEN_ES256]);
    attest_token_verify_options options;
    attest_token_verify_options_init(&options, NOW);
    json_t *claims = NULL;
    char *huge = malloc(ATTEST_TOKEN_MAX_SIZE + 2);
    assert_non_null(huge);
    memset(huge, 'A', ATTEST_TOKEN_MAX_SIZE + 1);
    huge[ATTEST_TOKEN_MAX_SIZE + 1] = '\0';
    assert_int_equal(
        attest_token_verify(huge, ATTEST_TOKEN_MAX_SIZE + 1, jwks, &options, &claims, NULL),
        ATTEST_ERR_LIMIT);
    free(huge);
    assert_int_equal(attest_token_verify(NULL, 0, jwks, &options, &claims, NULL),
                     ATTEST_ERR_ARGUMENT);
    assert_int_equal(attest_token_verify("", 0, jwks, &options, &claims, NULL),
                     ATTEST_ERR_TOKEN_MALFORMED);
    assert_null(claims);
    json_decref(jwks);
}

static void test_jwks_parse_hostile(void **state)
{
    (void)state;
    static const struct {
        const char *mutation;
        const char *text;
    } cases[] = {
        {"not JSON", "{\"keys\": ["},
        {"an array", "[]"},
        {"no keys", "{}"},
        {"keys not an array", "{\"keys\": {}}"},
        {"key not an object", "{\"keys\": [1]}"},
        {"key without kid", "{\"keys\": [{\"kty\": \"EC\"}]}"},
        {"key without kty", "{\"keys\": [{\"kid\": \"a\"}]}"},
        {"duplicate kid", "{\"keys\": [{\"kty\": \"EC\", \"kid\": \"a\"}, "
                          "{\"kty\": \"RSA\", \"kid\": \"a\"}]}"},
        {"duplicate member", "{\"keys\": [], \"keys\": []}"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        json_t *jwks = NULL;
        attest_diag diag = {{0}};
        attest_err err = attest_jwks_parse(cases[i].text, strlen(cases[i].text), &jwks, &diag);
        if (err != ATTEST_ERR_JWKS_INVALID) {
            fail_msg("%s: got %s", cases[i].mutation, attest_err_code(err));
        }
        assert_null(jwks);
        assert_true(diag.message[0] != '\0');
    }
    json_t *jwks = NULL;
    assert_int_equal(attest_jwks_parse("{}", ATTEST_JWKS_MAX_SIZE + 1, &jwks, NULL),
                     ATTEST_ERR_LIMIT);
}

/* ---- base64url helper ---- */

static void test_b64url_vectors(void **state)
{
    (void)state;
    /* RFC 4648 section 10 vectors, without padding. */
    static const struct {
        const char *plain;
        const char *encoded;
    } vectors[] = {{"", ""},          {"f", "Zg"},          {"fo", "Zm8"},
                   {"foo", "Zm9v"},   {"foob", "Zm9vYg"},   {"fooba", "Zm9vYmE"},
                   {"foobar", "Zm9vYmFy"}};
    for (size_t i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++) {
        char encoded[16];
        token_b64url_encode((const uint8_t *)vectors[i].plain, strlen(vectors[i].plain), encoded);
        assert_string_equal(encoded, vectors[i].encoded);
        uint8_t decoded[16];
        size_t size = 99;
        assert_true(token_b64url_decode(vectors[i].encoded, strlen(vectors[i].encoded), decoded,
                                        sizeof(decoded), &size));
        assert_int_equal(size, strlen(vectors[i].plain));
        assert_memory_equal(decoded, vectors[i].plain, size);
    }
    uint8_t out[16];
    size_t size = 0;
    assert_false(token_b64url_decode("Zg==", 4, out, sizeof(out), &size));
    assert_false(token_b64url_decode("Zh", 2, out, sizeof(out), &size)); /* unused bits set */
    assert_false(token_b64url_decode("Z", 1, out, sizeof(out), &size));
    assert_false(token_b64url_decode("Zm9v", 4, out, 2, &size));         /* too small */
    uint8_t bytes[2] = {0xfb, 0xff};
    char encoded[8];
    token_b64url_encode(bytes, 2, encoded);
    assert_string_equal(encoded, "-_8");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_alg_names),
        cmocka_unit_test(test_kid_rfc7638_example),
        cmocka_unit_test(test_kid_missing_member),
        cmocka_unit_test(test_key_public_jwk),
        cmocka_unit_test(test_key_certificate),
        cmocka_unit_test(test_key_pem_round_trip),
        cmocka_unit_test(test_key_pem_plain_rsa),
        cmocka_unit_test(test_key_pem_hostile),
        cmocka_unit_test(test_round_trip_every_alg),
        cmocka_unit_test(test_claims_tdx_warning_cnf),
        cmocka_unit_test(test_claims_rejected_inputs),
        cmocka_unit_test(test_rotation_old_key_until_expiry),
        cmocka_unit_test(test_keyset_limits),
        cmocka_unit_test(test_verify_malformed),
        cmocka_unit_test(test_verify_noncanonical_base64),
        cmocka_unit_test(test_verify_alg_rejected),
        cmocka_unit_test(test_verify_unknown_kid),
        cmocka_unit_test(test_verify_bad_signature),
        cmocka_unit_test(test_verify_times),
        cmocka_unit_test(test_verify_issuer_audience),
        cmocka_unit_test(test_verify_limits_and_arguments),
        cmocka_unit_test(test_jwks_parse_hostile),
        cmocka_unit_test(test_b64url_vectors),
    };
    return cmocka_run_group_tests(tests, keys_generate, keys_free);
}
