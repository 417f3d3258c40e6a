/* The relying party's side of the job: each side checks its peer's token. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "job.h"

int job_relying_party_init(job_relying_party *party, const char *program, const char *jwks_url,
                           const char *ca_file, bool insecure_tls, const char *issuer,
                           const char *application)
{
    memset(party, 0, sizeof(*party));
    if (insecure_tls) {
        fprintf(stderr, "%s: warning: --insecure-tls is insecure: the TLS certificate of %s "
                        "is not verified\n", program, jwks_url);
    }
    attest_jwks_cache_options options;
    attest_jwks_cache_options_init(&options);
    options.url = jwks_url;
    options.ca_file = ca_file;
    options.insecure_tls = insecure_tls;
    attest_diag diag = {{0}};
    attest_err err = attest_jwks_cache_new(&options, &party->jwks, &diag);
    if (err != ATTEST_OK) {
        fprintf(stderr, "%s: invalid JWKS URL %s: %s: %s\n", program, jwks_url,
                attest_err_code(err),
                diag.message[0] != '\0' ? diag.message : attest_err_message(err));
        return -1;
    }
    party->issuer = issuer;
    party->application = application;
    return 0;
}

void job_relying_party_free(job_relying_party *party)
{
    attest_jwks_cache_free(party->jwks);
    party->jwks = NULL;
}

/* Writes "check CODE failed: DETAIL" for a library error into failure. */
static int check_failed(attest_err err, const attest_diag *diag, char *failure)
{
    snprintf(failure, JOB_MESSAGE_SIZE, "check %s failed: %s", attest_err_code(err),
             diag->message[0] != '\0' ? diag->message : attest_err_message(err));
    return -1;
}

/*
 * Copies the string claim name into out (out_size bytes) through
 * job_text_sanitize, since it is printed, or "(absent)".
 */
static void claim_copy(const json_t *claims, const char *name, char *out, size_t out_size)
{
    const char *value = json_string_value(json_object_get(claims, name));
    char text[JOB_PEER_TEXT_SIZE] = "(absent)";
    if (value != NULL) {
        job_text_sanitize(value, strlen(value), text);
    }
    snprintf(out, out_size, "%s", text);
}

/*
 * Checks that the jti is 1 to 63 printable ASCII characters without spaces,
 * so that the server can compare it whole and print it as is.
 */
static int jti_check(const json_t *claims, char *failure)
{
    const char *jti = json_string_value(json_object_get(claims, "jti"));
    size_t length = jti != NULL ? strlen(jti) : 0;
    bool printable = length > 0 && length < JOB_JTI_SIZE;
    for (size_t i = 0; printable && i < length; i++) {
        printable = jti[i] > 0x20 && jti[i] < 0x7f;
    }
    if (!printable) {
        snprintf(failure, JOB_MESSAGE_SIZE,
                 "check jti failed: the token has no jti of 1 to %d printable characters",
                 JOB_JTI_SIZE - 1);
        return -1;
    }
    return 0;
}

int job_token_check(job_relying_party *party, const char *token, size_t size,
                    job_token_summary *out_summary, char *failure)
{
    attest_diag diag = {{0}};
    char kid[ATTEST_TOKEN_KID_SIZE] = "";
    attest_err err = attest_token_header_kid(token, size, kid, &diag);
    if (err != ATTEST_OK) {
        return check_failed(err, &diag, failure);
    }

    /* The kid only picks a key of the configured JWKS URL; it is not trusted yet. */
    json_t *jwks = NULL;
    err = attest_jwks_cache_get(party->jwks, kid, time(NULL), &jwks, &diag);
    if (err != ATTEST_OK) {
        return check_failed(err, &diag, failure);
    }

    /* Signature, exp, nbf, iat and iss; a token with an aud claim fails, since none is expected. */
    attest_token_verify_options options;
    attest_token_verify_options_init(&options, time(NULL));
    options.issuer = party->issuer;
    json_t *claims = NULL;
    err = attest_token_verify(token, size, jwks, &options, &claims, &diag);
    json_decref(jwks);
    if (err != ATTEST_OK) {
        return check_failed(err, &diag, failure);
    }

    /* A genuine token of another application, such as the server's token shown by a worker. */
    const char *subject = json_string_value(json_object_get(claims, "sub"));
    if (subject == NULL || strcmp(subject, party->application) != 0) {
        snprintf(failure, JOB_MESSAGE_SIZE,
                 "check sub failed: the token is for application \"%.100s\", expected \"%.100s\"",
                 subject != NULL ? subject : "(absent)", party->application);
        json_decref(claims);
        return -1;
    }

    /* The server rejects a second use of one jti, so it must be there and comparable. */
    if (jti_check(claims, failure) != 0) {
        json_decref(claims);
        return -1;
    }

    job_token_summary summary;
    memset(&summary, 0, sizeof(summary));
    claim_copy(claims, "sub", summary.application, sizeof(summary.application));
    claim_copy(claims, "policy_id", summary.policy, sizeof(summary.policy));
    claim_copy(claims, "tcb_status", summary.tcb_status, sizeof(summary.tcb_status));
    claim_copy(claims, "jti", summary.jti, sizeof(summary.jti));
    json_decref(claims);
    *out_summary = summary;
    return 0;
}

char *job_own_token_read(const char *program, size_t *out_size)
{
    const char *path = getenv("ATTEST_TOKEN_FILE");
    if (path == NULL || path[0] == '\0') {
        fprintf(stderr, "%s: ATTEST_TOKEN_FILE is not set: start this program with attest exec\n",
                program);
        return NULL;
    }
    FILE *file = fopen(path, "rb");
    if (file == NULL) {
        fprintf(stderr, "%s: cannot open the token file %s: %s\n", program, path,
                strerror(errno));
        return NULL;
    }

    /* One byte more than the limit, to tell a token at the limit from a larger one. */
    size_t capacity = ATTEST_TOKEN_MAX_SIZE + 2;
    char *token = malloc(capacity + 1);
    size_t size = token != NULL ? fread(token, 1, capacity, file) : 0;
    bool failed = token == NULL || ferror(file);
    fclose(file);
    while (!failed && size > 0 && (token[size - 1] == '\n' || token[size - 1] == '\r')) {
        size--;
    }
    if (failed || size == 0 || size > ATTEST_TOKEN_MAX_SIZE) {
        fprintf(stderr, "%s: the token file %s is unreadable, empty or above %d bytes\n",
                program, path, ATTEST_TOKEN_MAX_SIZE);
        free(token);
        return NULL;
    }
    token[size] = '\0';
    *out_size = size;
    return token;
}
