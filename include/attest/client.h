/*
 * Attestation client: the attester's side of the attestd API.
 *
 * attest_client_attest runs one attestation against an attestd service:
 *   1. POST URL/v1/nonce, which returns {"nonce", "value", "expires_at"};
 *   2. report data = SHA-512(nonce value || runtime data), and evidence over
 *      it from attest_evidence_collect or, for a measured simulated quote,
 *      from attest_sim_quote;
 *   3. POST URL/v1/attest with the evidence, nonce and runtime data.
 * A transport failure or an HTTP 5xx response repeats all three steps with a
 * fresh nonce, up to max_attempts times with exponential backoff.
 *
 * TLS is verified with the system CA store or ca_file; insecure_tls turns
 * verification off. Only http and https URLs are used, and redirects are
 * not followed.
 */
#ifndef ATTEST_CLIENT_H
#define ATTEST_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <attest/error.h>
#include <attest/evidence.h>
#include <attest/sim.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Largest response body read from the service: 1 MiB. */
#define ATTEST_CLIENT_MAX_RESPONSE_SIZE (1024u * 1024)

/* Largest runtime data sent: 64 KiB. */
#define ATTEST_CLIENT_MAX_RUNTIME_DATA_SIZE (64u * 1024)

/* Size of the largest simulated measurement: a TDX MRTD (SHA-384). */
#define ATTEST_CLIENT_MEASUREMENT_MAX_SIZE 48

typedef struct attest_client_options {
    const char *service_url; /* base URL, such as "https://attestd.example:8443" */
    const char *application;
    const char *audience; /* NULL: no audience in the request */

    const char *ca_file; /* NULL: the system CA store */
    bool insecure_tls;   /* do not verify the server certificate or name */
    long connect_timeout_ms; /* per request; 0: 5000 */
    long timeout_ms;         /* whole request; 0: 30000 */

    /* Bytes bound with the nonce; NULL when runtime_data_size is 0. */
    const uint8_t *runtime_data;
    size_t runtime_data_size;

    /* Backend, sim directory and TEE; report_data is ignored and computed here. */
    attest_evidence_options evidence;

    /*
     * A measurement for the simulated quote: 32 bytes of MRENCLAVE for SGX or
     * 48 bytes of MRTD for TDX. NULL: the sim backend's default measurement.
     * When set, evidence.backend must be ATTEST_EVIDENCE_SIM.
     */
    const uint8_t *sim_measurement;
    size_t sim_measurement_size;

    /*
     * Attempts when the service cannot be reached or returns 5xx; 0 means 1.
     * Attempt n waits retry_delay_ms * 2^(n-2) before it starts.
     */
    unsigned max_attempts;
    unsigned retry_delay_ms;
} attest_client_options;

/* Fills options with the defaults: one attempt, 200 ms first retry delay, evidence defaults. */
void attest_client_options_init(attest_client_options *options);

typedef struct attest_client_result {
    bool accepted;
    unsigned attempts; /* attempts made */
    /* Of a rejection: the failing stage and the stable check code, "" when accepted. */
    char failure_stage[32];
    char failure_code[64];
    char failure_message[256];
    /* The token, NUL-terminated, or NULL when rejected. A secret: do not log it. */
    char *token;
    /* The whole 200 response body, NUL-terminated; it contains the token. */
    char *report_json;
} attest_client_result;

/*
 * Runs one attestation with options (see the top of this file). A verdict of
 * either kind returns ATTEST_OK with out_result->accepted set.
 * Errors: ATTEST_ERR_ARGUMENT for missing or inconsistent options.
 * ATTEST_ERR_SERVICE_UNREACHABLE when the service cannot be reached on any
 * attempt. ATTEST_ERR_SERVICE_TLS when the TLS handshake or the certificate
 * check fails. ATTEST_ERR_SERVICE_HTTP_STATUS for a status other than 200,
 * for 5xx after the last attempt. ATTEST_ERR_LIMIT for a response over
 * ATTEST_CLIENT_MAX_RESPONSE_SIZE. ATTEST_ERR_SERVICE_RESPONSE for a
 * response that is not a JSON object or lacks the expected fields. Also the
 * errors of attest_evidence_collect and attest_sim_quote. diag names the
 * URL, status or field.
 */
ATTEST_MUST_USE attest_err attest_client_attest(const attest_client_options *options,
                                                attest_client_result *out_result,
                                                attest_diag *diag);

/* Frees the buffers of result, wiping the token first, and zeroes it. NULL is allowed. */
void attest_client_result_clear(attest_client_result *result);

/*
 * Computes the simulated measurement of the file at path: SHA-256 (32 bytes,
 * an MRENCLAVE) for ATTEST_SIM_SGX or SHA-384 (48 bytes, an MRTD) for
 * ATTEST_SIM_TDX, into out_measurement, and its size into out_size.
 * Errors: ATTEST_ERR_IO when the file cannot be read, ATTEST_ERR_CRYPTO.
 */
ATTEST_MUST_USE attest_err attest_client_measure_file(
    const char *path, attest_sim_tee tee,
    uint8_t out_measurement[ATTEST_CLIENT_MEASUREMENT_MAX_SIZE], size_t *out_size,
    attest_diag *diag);

#ifdef __cplusplus
}
#endif

#endif
