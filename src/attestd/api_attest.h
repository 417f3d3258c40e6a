/*
 * Attestation API of attestd: nonces, attestation, the dry run of a policy,
 * the published keys and discovery, and the admin calls for signing keys and
 * collateral. docs/api.md describes every endpoint.
 */
#ifndef ATTESTD_API_ATTEST_H
#define ATTESTD_API_ATTEST_H

#include "http.h"

/* POST /v1/nonce (no key): a fresh nonce, its raw value in hex, and its expiry. */
void attestd_api_nonce(const attestd_request *request, attestd_response *response);

/* POST /v1/attest (no key): verify, appraise against the active policy, audit, and sign a token. */
void attestd_api_attest(const attestd_request *request, attestd_response *response);

/* POST /v1/applications/NAME/dry-run (administrator): appraise without a token or audit record. */
void attestd_api_dry_run(const attestd_request *request, attestd_response *response);

/* GET /.well-known/jwks.json and GET /.well-known/openid-configuration. */
void attestd_api_jwks(const attestd_request *request, attestd_response *response);
void attestd_api_openid_configuration(const attestd_request *request, attestd_response *response);

/* POST /v1/signing-keys/rotate and POST /v1/collateral/refresh (administrator). */
void attestd_api_key_rotate(const attestd_request *request, attestd_response *response);
void attestd_api_collateral_refresh(const attestd_request *request, attestd_response *response);

#endif
