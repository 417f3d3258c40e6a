/*
 * Error type of libattest.
 *
 * Every fallible function returns an attest_err. ATTEST_OK is zero; every other
 * value has a stable identifier (attest_err_code) that callers, the JSON
 * output and the docs use, and a one-line message (attest_err_message).
 * Identifiers never change once released; docs/errors.md lists them all.
 *
 * A function that can say more than the code (which value, which offset)
 * also takes an attest_diag, filled only on failure.
 */
#ifndef ATTEST_ERROR_H
#define ATTEST_ERROR_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__) || defined(__clang__)
#define ATTEST_MUST_USE __attribute__((warn_unused_result))
#define ATTEST_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define ATTEST_MUST_USE
#define ATTEST_PRINTF(f, a)
#endif

/*
 * X(enum name, stable identifier, message). Grouped by category; new values
 * are appended at the end of their group.
 */
#define ATTEST_ERR_LIST(X)                                                                 \
    X(ATTEST_OK, "ok", "success")                                                        \
    /* general */                                                                        \
    X(ATTEST_ERR_NOMEM, "out_of_memory", "memory allocation failed")                     \
    X(ATTEST_ERR_ARGUMENT, "invalid_argument", "invalid argument")                       \
    X(ATTEST_ERR_IO, "io_error", "reading or writing a file failed")                     \
    X(ATTEST_ERR_LIMIT, "limit_exceeded", "input exceeds a size limit")                  \
    X(ATTEST_ERR_CRYPTO, "crypto_error", "a cryptographic library call failed")          \
    X(ATTEST_ERR_HEX, "invalid_hex", "invalid hexadecimal text")                         \
    /* quote framing (stage parse) */                                                    \
    X(ATTEST_ERR_QUOTE_TRUNCATED, "quote_truncated", "quote ends before a field")        \
    X(ATTEST_ERR_QUOTE_VERSION, "quote_version_unsupported",                             \
      "quote version is not 3, 4 or 5")                                                  \
    X(ATTEST_ERR_QUOTE_TEE_TYPE, "quote_tee_type_invalid",                               \
      "TEE type is not SGX (0x00) or TDX (0x81), or not allowed for the version")        \
    X(ATTEST_ERR_QUOTE_KEY_TYPE, "quote_key_type_unsupported",                           \
      "attestation key type is not ECDSA P-256 (2)")                                     \
    X(ATTEST_ERR_QUOTE_BODY_TYPE, "quote_body_type_invalid",                             \
      "version 5 body type is not 1, 2 or 3, or does not match the TEE type")            \
    X(ATTEST_ERR_QUOTE_BODY_SIZE, "quote_body_size_invalid",                             \
      "version 5 body size does not match its body type")                                \
    X(ATTEST_ERR_QUOTE_SIGNATURE_DATA_SIZE, "quote_signature_data_size_mismatch",        \
      "signature data size exceeds the bytes present")                                   \
    X(ATTEST_ERR_QUOTE_CERT_DATA_TYPE, "quote_cert_data_type_unsupported",               \
      "certification data type is not supported here")                                   \
    X(ATTEST_ERR_QUOTE_CERT_DATA_SIZE, "quote_cert_data_size_mismatch",                  \
      "certification data size does not match the bytes present")                        \
    X(ATTEST_ERR_QUOTE_QE_AUTH_SIZE, "quote_qe_auth_data_size_mismatch",                 \
      "QE authentication data size exceeds the bytes present")                           \
    X(ATTEST_ERR_QUOTE_TRAILING, "quote_trailing_bytes",                                 \
      "bytes remain inside a length-delimited region")                                   \
    X(ATTEST_ERR_QUOTE_QE_VENDOR, "quote_qe_vendor_unknown",                             \
      "QE vendor id is not Intel's")                                                     \
    /* JSON collateral documents (stage collateral) */                                   \
    X(ATTEST_ERR_JSON_SYNTAX, "json_syntax_error", "JSON text is not well formed")       \
    X(ATTEST_ERR_JSON_DUPLICATE_KEY, "json_duplicate_key",                               \
      "JSON object has a duplicate key")                                                 \
    X(ATTEST_ERR_JSON_DEPTH, "json_too_deep", "JSON nesting exceeds the limit")          \
    X(ATTEST_ERR_JSON_FIELD, "json_field_invalid",                                       \
      "JSON field is missing or has the wrong type or value")                            \
    X(ATTEST_ERR_TCB_INFO_VERSION, "tcb_info_version_unsupported",                       \
      "TCB info id or version is not supported (SGX 2 or 3, TDX 3)")                     \
    X(ATTEST_ERR_QE_IDENTITY_VERSION, "qe_identity_version_unsupported",                 \
      "QE identity id or version is not supported (QE or TD_QE, version 2)")             \
    X(ATTEST_ERR_TCB_STATUS_UNKNOWN, "tcb_status_unknown",                               \
      "TCB status name is not one Intel defines")                                        \
    X(ATTEST_ERR_TIME_FORMAT, "time_format_invalid",                                     \
      "date is not in the form YYYY-MM-DDThh:mm:ssZ")                                    \
    X(ATTEST_ERR_COLLATERAL_MISSING, "collateral_missing",                               \
      "no collateral was given, so TCB status cannot be decided")                        \
    X(ATTEST_ERR_COLLATERAL_FORMAT, "collateral_format_invalid",                         \
      "collateral bundle or directory is malformed")                                     \
    X(ATTEST_ERR_COLLATERAL_SIGNATURE, "collateral_signature_invalid",                   \
      "TCB info or QE identity signature is invalid")                                    \
    X(ATTEST_ERR_COLLATERAL_EXPIRED, "collateral_expired",                               \
      "collateral is past its nextUpdate at the verification time")                      \
    X(ATTEST_ERR_COLLATERAL_NOT_YET_VALID, "collateral_not_yet_valid",                   \
      "collateral is issued after the verification time")                                \
    X(ATTEST_ERR_FMSPC_MISMATCH, "fmspc_mismatch",                                       \
      "TCB info FMSPC differs from the PCK certificate's")                               \
    X(ATTEST_ERR_PCEID_MISMATCH, "pceid_mismatch",                                       \
      "TCB info PCE-ID differs from the PCK certificate's")                              \
    X(ATTEST_ERR_TEE_MISMATCH, "tee_type_mismatch",                                      \
      "collateral is for another TEE type than the quote")                               \
    /* certificates and CRLs (stage pck_chain, and collateral issuer chains) */          \
    X(ATTEST_ERR_CERT_PARSE, "certificate_invalid",                                      \
      "certificate chain cannot be parsed or is invalid")                                \
    X(ATTEST_ERR_CHAIN_DEPTH, "chain_depth_invalid",                                     \
      "certificate chain does not have the expected number of certificates")             \
    X(ATTEST_ERR_ROOT_UNTRUSTED, "root_untrusted",                                       \
      "root certificate is not byte-identical to a trusted root")                        \
    X(ATTEST_ERR_ROOT_MIXED, "root_mixed",                                               \
      "a collateral issuer chain ends at another root than the PCK chain")               \
    X(ATTEST_ERR_CERT_SIGNATURE, "certificate_signature_invalid",                        \
      "certificate signature is invalid")                                                \
    X(ATTEST_ERR_CERT_ISSUER, "certificate_issuer_mismatch",                             \
      "certificate issuer does not name the next certificate's subject")                 \
    X(ATTEST_ERR_CERT_EXPIRED, "certificate_expired",                                    \
      "certificate is past its notAfter at the verification time")                       \
    X(ATTEST_ERR_CERT_NOT_YET_VALID, "certificate_not_yet_valid",                        \
      "certificate is before its notBefore at the verification time")                    \
    X(ATTEST_ERR_CERT_REVOKED, "certificate_revoked", "certificate is revoked by a CRL") \
    X(ATTEST_ERR_CERT_KEY, "certificate_key_invalid",                                    \
      "certificate key is not ECDSA P-256")                                              \
    X(ATTEST_ERR_CERT_CA, "certificate_ca_invalid",                                      \
      "CA certificate lacks basic constraints CA or key usage certificate signing")      \
    X(ATTEST_ERR_CRL_PARSE, "crl_invalid", "CRL cannot be parsed")                       \
    X(ATTEST_ERR_CRL_SIGNATURE, "crl_signature_invalid", "CRL signature is invalid")     \
    X(ATTEST_ERR_CRL_ISSUER, "crl_issuer_mismatch",                                      \
      "CRL issuer is not the CA it must cover")                                          \
    X(ATTEST_ERR_CRL_EXPIRED, "crl_expired",                                             \
      "CRL is past its nextUpdate at the verification time")                             \
    X(ATTEST_ERR_CRL_NOT_YET_VALID, "crl_not_yet_valid",                                 \
      "CRL thisUpdate is after the verification time")                                   \
    X(ATTEST_ERR_PCK_EXTENSION, "pck_extension_invalid",                                 \
      "PCK certificate Intel SGX extension is missing or malformed")                     \
    X(ATTEST_ERR_PCK_CA_UNKNOWN, "pck_ca_unknown",                                       \
      "PCK certificate issuer is neither Intel SGX PCK Platform CA nor Processor CA")    \
    /* QE report (stage qe_report) */                                                    \
    X(ATTEST_ERR_QE_REPORT_SIGNATURE, "qe_report_signature_invalid",                     \
      "QE report signature by the PCK key is invalid")                                   \
    X(ATTEST_ERR_QE_REPORT_DATA, "qe_report_data_mismatch",                              \
      "QE report data is not SHA-256(attestation key || QE authentication data) "        \
      "followed by 32 zero bytes")                                                       \
    /* quote signature (stage quote_signature) */                                        \
    X(ATTEST_ERR_QUOTE_SIGNATURE, "quote_signature_invalid",                             \
      "attestation key signature over header and body is invalid")                       \
    X(ATTEST_ERR_ATTESTATION_KEY, "attestation_key_invalid",                             \
      "attestation key is not a point on P-256")                                         \
    /* QE identity (stage qe_identity) */                                                \
    X(ATTEST_ERR_QE_MRSIGNER, "qe_mrsigner_mismatch",                                    \
      "QE MRSIGNER differs from the QE identity")                                        \
    X(ATTEST_ERR_QE_ISVPRODID, "qe_isvprodid_mismatch",                                  \
      "QE ISVPRODID differs from the QE identity")                                       \
    X(ATTEST_ERR_QE_MISCSELECT, "qe_miscselect_mismatch",                                \
      "QE MISCSELECT under the mask differs from the QE identity")                       \
    X(ATTEST_ERR_QE_ATTRIBUTES, "qe_attributes_mismatch",                                \
      "QE ATTRIBUTES under the mask differ from the QE identity")                        \
    X(ATTEST_ERR_QE_TCB_LEVEL, "qe_tcb_level_not_found",                                 \
      "no QE identity TCB level matches the QE ISVSVN")                                  \
    X(ATTEST_ERR_QE_IDENTITY_TYPE, "qe_identity_type_mismatch",                          \
      "QE identity is not for the quote's TEE type (QE for SGX, TD_QE for TDX)")         \
    /* TCB level matching (stage tcb) */                                                 \
    X(ATTEST_ERR_TCB_LEVEL, "tcb_level_not_found",                                       \
      "no TCB level matches the platform's TCB")                                         \
    X(ATTEST_ERR_TDX_MODULE, "tdx_module_mismatch",                                      \
      "TDX module MR_SIGNER_SEAM or SEAM attributes differ from the TCB info")           \
    X(ATTEST_ERR_TDX_MODULE_IDENTITY, "tdx_module_identity_not_found",                   \
      "TCB info has no TDX module identity or level for the module in the quote")          \
    /* evidence collection (attest evidence) */                                          \
    X(ATTEST_ERR_EVIDENCE_DEVICE_MISSING, "evidence_device_missing",                     \
      "TEE interface not found (configfs-tsm, /dev/attestation or simulated platform)")  \
    X(ATTEST_ERR_EVIDENCE_PERMISSION, "evidence_permission_denied",                      \
      "permission denied on the TEE interface (EACCES or EPERM)")                        \
    X(ATTEST_ERR_EVIDENCE_BUSY, "evidence_device_busy",                                  \
      "TEE interface is busy (EBUSY); retry later")                                      \
    X(ATTEST_ERR_EVIDENCE_GENERATION, "evidence_generation_changed",                     \
      "configfs-tsm generation moved by more than one write: concurrent writer")         \
    X(ATTEST_ERR_EVIDENCE_ATTESTATION_TYPE, "evidence_attestation_type_unsupported",     \
      "Gramine attestation_type is not dcap")                                            \
    X(ATTEST_ERR_EVIDENCE_SHORT_READ, "evidence_short_read",                             \
      "TEE interface returned fewer bytes than the format needs")                        \
    X(ATTEST_ERR_EVIDENCE_INTERFACE, "evidence_interface_invalid",                       \
      "TEE interface file has unexpected contents")                                      \
    X(ATTEST_ERR_REPORT_DATA_MISMATCH, "report_data_mismatch",                           \
      "report data differs from SHA-512(nonce || runtime data) or from the value written") \
    /* SGX local attestation */                                                          \
    X(ATTEST_ERR_SGX_REPORT_TRUNCATED, "sgx_report_truncated",                           \
      "SGX report ends before a field (a report is 432 bytes)")                          \
    X(ATTEST_ERR_TARGET_INFO_TRUNCATED, "target_info_truncated",                         \
      "SGX target info ends before a field (a target info is 512 bytes)")                \
    X(ATTEST_ERR_LOCAL_TRAILING, "local_attestation_trailing_bytes",                     \
      "bytes follow the end of an SGX report or target info")                            \
    X(ATTEST_ERR_REPORT_MAC, "report_mac_invalid",                                       \
      "SGX report MAC does not verify with the report key of the verifying enclave") \
    /* appraisal policy documents and appraisal (policy.h) */                            \
    X(ATTEST_ERR_POLICY_UNKNOWN_KEY, "policy_unknown_key",                               \
      "policy has a key that the policy format does not define")                         \
    X(ATTEST_ERR_POLICY_EVIDENCE_TYPE, "policy_evidence_type_unsupported",               \
      "policy names an evidence type other than sgx or tdx")                             \
    X(ATTEST_ERR_POLICY_INVALID, "policy_invalid",                                       \
      "policy values contradict each other or leave the evidence unconstrained")         \
    X(ATTEST_ERR_APPRAISAL_EVIDENCE_INVALID, "appraisal_evidence_invalid",               \
      "evidence did not pass verification, so no policy accepts it")                     \
    X(ATTEST_ERR_APPRAISAL_EVIDENCE_TYPE, "appraisal_evidence_type_not_allowed",         \
      "policy does not allow this evidence type")                                        \
    X(ATTEST_ERR_APPRAISAL_SIMULATED, "appraisal_simulated_not_allowed",                 \
      "evidence comes from a simulated platform and the policy does not allow it")       \
    X(ATTEST_ERR_APPRAISAL_DEBUG, "appraisal_debug_not_allowed",                         \
      "enclave or TD runs in debug mode and the policy does not allow it")               \
    X(ATTEST_ERR_APPRAISAL_NONCE_MISSING, "appraisal_nonce_missing",                     \
      "policy requires a nonce but no expected report data was given")                   \
    X(ATTEST_ERR_APPRAISAL_TCB_STATUS, "appraisal_tcb_status_not_accepted",              \
      "TCB status is not in the policy's accepted statuses")                             \
    X(ATTEST_ERR_APPRAISAL_ADVISORY, "appraisal_advisory_not_accepted",                  \
      "an advisory ID of a degraded TCB status is not in the policy's accepted IDs")     \
    X(ATTEST_ERR_APPRAISAL_TCB_EVALUATION, "appraisal_tcb_evaluation_too_low",           \
      "TCB evaluation data number is below the policy's minimum")                        \
    X(ATTEST_ERR_APPRAISAL_MEASUREMENT, "appraisal_measurement_not_allowed",             \
      "a measurement (MRENCLAVE, MRSIGNER, MRTD, RTMR, MR_CONFIG_ID, MR_OWNER) is not "  \
      "in the policy's list")                                                            \
    X(ATTEST_ERR_APPRAISAL_PRODUCT_ID, "appraisal_isvprodid_mismatch",                   \
      "ISVPRODID differs from the policy's")                                             \
    X(ATTEST_ERR_APPRAISAL_SVN, "appraisal_svn_too_low",                                 \
      "ISVSVN or a TEE_TCB_SVN component is below the policy's minimum")                 \
    X(ATTEST_ERR_APPRAISAL_ATTRIBUTES, "appraisal_attributes_mismatch",                  \
      "ATTRIBUTES, MISCSELECT, TD_ATTRIBUTES or XFAM under the policy's mask differ "    \
      "from its value") \
    /* service (attestd state store) */                                                  \
    X(ATTEST_ERR_STORE, "store_error",                                                   \
      "a call to the state store database failed")                                       \
    X(ATTEST_ERR_STORE_READ_ONLY, "store_read_only",                                     \
      "state store database cannot be written (read-only file, directory or open mode)") \
    X(ATTEST_ERR_STORE_BUSY, "store_busy",                                               \
      "state store database stayed locked longer than the busy timeout")                 \
    X(ATTEST_ERR_STORE_SCHEMA, "store_schema_unsupported",                               \
      "state store schema version is newer than this attestd supports")                  \
    X(ATTEST_ERR_NOT_FOUND, "not_found",                                                 \
      "requested record does not exist")                                                 \
    X(ATTEST_ERR_ALREADY_EXISTS, "already_exists",                                       \
      "a record with this name, key or version already exists")                          \
    X(ATTEST_ERR_STORE_INITIALIZED, "store_already_initialized",                         \
      "state store already has its first administrator key")                             \
    X(ATTEST_ERR_NONCE_REPLAYED, "nonce_replayed",                                       \
      "nonce was already consumed")                                                      \
    X(ATTEST_ERR_NONCE_EXPIRED, "nonce_expired",                                         \
      "nonce is past its expiry time")                                                   \
    X(ATTEST_ERR_API_KEY_UNKNOWN, "api_key_unknown",                                     \
      "no API key matches the presented key")                                            \
    X(ATTEST_ERR_API_KEY_REVOKED, "api_key_revoked",                                     \
      "presented API key is revoked")                                                    \
    /* attestation tokens and nonces (token.h, nonce.h) */                               \
    X(ATTEST_ERR_TOKEN_MALFORMED, "token_malformed",                                     \
      "token is not a compact JWS with a valid header and claims")                       \
    X(ATTEST_ERR_TOKEN_ALG, "token_alg_not_allowed",                                     \
      "token or key algorithm is not allowed (ES256, RS256, PS384; never none)")         \
    X(ATTEST_ERR_TOKEN_KID_UNKNOWN, "token_kid_unknown",                                 \
      "no key in the JWKS has the token's kid")                                          \
    X(ATTEST_ERR_TOKEN_SIGNATURE, "token_signature_invalid",                             \
      "token signature does not verify with the key of its kid")                         \
    X(ATTEST_ERR_TOKEN_EXPIRED, "token_expired",                                         \
      "token is past its exp, beyond the allowed clock skew")                            \
    X(ATTEST_ERR_TOKEN_NOT_YET_VALID, "token_not_yet_valid",                             \
      "token nbf or iat is later than the verification time plus the clock skew")        \
    X(ATTEST_ERR_TOKEN_ISSUER, "token_issuer_mismatch",                                  \
      "token iss differs from the expected issuer")                                      \
    X(ATTEST_ERR_TOKEN_AUDIENCE, "token_audience_mismatch",                              \
      "token aud lacks the expected audience, or has one when none was expected")     \
    X(ATTEST_ERR_JWKS_INVALID, "jwks_invalid",                                           \
      "JWKS is not an object with a keys array of JWKs with distinct kids")              \
    X(ATTEST_ERR_SIGNING_KEY, "signing_key_invalid",                                     \
      "signing key PEM is missing, encrypted, or not a P-256 or RSA key")                \
    X(ATTEST_ERR_NONCE_MALFORMED, "nonce_malformed",                                     \
      "nonce is not 108 base64url characters of a version 1 nonce")                      \
    X(ATTEST_ERR_NONCE_MAC, "nonce_mac_invalid",                                         \
      "nonce MAC does not verify with the service secret")                               \
    X(ATTEST_ERR_NONCE_NOT_YET_VALID, "nonce_not_yet_valid",                             \
      "nonce issue time is later than now plus the clock skew")                          \
    X(ATTEST_ERR_TOKEN_CLAIM, "token_claim_mismatch",                                    \
      "a token claim the relying party checks (sub, nonce, eat_nonce) differs from the "     \
      "expected value")                                                                  \
    /* collateral sources (PCCS, Intel PCS, cache: pccs.h) */                            \
    X(ATTEST_ERR_SOURCE_UNREACHABLE, "source_unreachable",                               \
      "collateral source cannot be reached or did not answer in time")                   \
    X(ATTEST_ERR_SOURCE_TLS, "source_tls_failed",                                        \
      "TLS with the collateral source failed (handshake or server certificate)")         \
    X(ATTEST_ERR_SOURCE_NOT_FOUND, "source_not_found",                                   \
      "collateral source has no collateral for the request (HTTP 404)")                  \
    X(ATTEST_ERR_SOURCE_HTTP_STATUS, "source_http_status",                               \
      "collateral source returned an HTTP status other than 200 or 404")                 \
    X(ATTEST_ERR_SOURCE_HEADER, "source_header_invalid",                                 \
      "issuer chain header is missing, repeated or not URL-encoded PEM")                 \
    X(ATTEST_ERR_SOURCE_CACHE_EXPIRED, "source_cache_expired",                           \
      "collateral source failed and the cached collateral is past its nextUpdate")       \
    /* the attestation service as its clients see it (client.h, the JWKS cache of token.h) */ \
    X(ATTEST_ERR_SERVICE_UNREACHABLE, "service_unreachable",                             \
      "attestation service cannot be reached or did not answer in time")                 \
    X(ATTEST_ERR_SERVICE_TLS, "service_tls_failed",                                      \
      "TLS with the attestation service failed (handshake, untrusted certificate or "    \
      "wrong host name)")                                                                \
    X(ATTEST_ERR_SERVICE_HTTP_STATUS, "service_http_status",                             \
      "attestation service returned an HTTP status other than 200")                      \
    X(ATTEST_ERR_SERVICE_RESPONSE, "service_response_invalid",                           \
      "attestation service response is not a JSON object with the expected fields")

typedef enum attest_err {
#define ATTEST_ERR_ENUM(name, code, message) name,
    ATTEST_ERR_LIST(ATTEST_ERR_ENUM)
#undef ATTEST_ERR_ENUM
        ATTEST_ERR_COUNT_
} attest_err;

/* Details of a failure: which value, which offset. Empty when unset. */
typedef struct attest_diag {
    char message[256];
} attest_diag;

/* Returns the stable identifier of err, such as "quote_truncated". */
const char *attest_err_code(attest_err err);

/* Returns the one-line message of err. */
const char *attest_err_message(attest_err err);

/* Writes a formatted detail into diag, when diag is not NULL, and returns err. */
attest_err attest_diag_set(attest_diag *diag, attest_err err, const char *format, ...)
    ATTEST_PRINTF(3, 4);

#ifdef __cplusplus
}
#endif

#endif
