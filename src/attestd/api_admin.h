/*
 * Administration API of attestd under /v1: applications, policies, API keys
 * and the audit log. docs/api.md describes every endpoint.
 */
#ifndef ATTESTD_API_ADMIN_H
#define ATTESTD_API_ADMIN_H

#include "http.h"

/* Length of a new API key: 32 random bytes in base64url without padding. */
#define ATTESTD_API_KEY_TEXT_SIZE 43

/* Writes a new random API key and its NUL into out_key. Errors: ATTEST_ERR_CRYPTO. */
ATTEST_MUST_USE attest_err attestd_api_key_generate(char out_key[ATTESTD_API_KEY_TEXT_SIZE + 1]);

void attestd_admin_application_create(const attestd_request *request, attestd_response *response);
void attestd_admin_application_list(const attestd_request *request, attestd_response *response);
void attestd_admin_application_get(const attestd_request *request, attestd_response *response);
void attestd_admin_application_delete(const attestd_request *request, attestd_response *response);
void attestd_admin_policy_put(const attestd_request *request, attestd_response *response);
void attestd_admin_policy_list(const attestd_request *request, attestd_response *response);
void attestd_admin_policy_get(const attestd_request *request, attestd_response *response);
void attestd_admin_policy_activate(const attestd_request *request, attestd_response *response);
void attestd_admin_key_create(const attestd_request *request, attestd_response *response);
void attestd_admin_key_list(const attestd_request *request, attestd_response *response);
void attestd_admin_key_revoke(const attestd_request *request, attestd_response *response);
void attestd_admin_audit_list(const attestd_request *request, attestd_response *response);

#endif
