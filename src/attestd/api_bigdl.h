/*
 * The BigDL PPML attestation service API of attestd: GET /enroll,
 * POST /registerPolicy and POST /verifyQuote with BigDL's field names and
 * result codes. docs/api-bigdl.md describes the mapping onto applications,
 * policy versions and audit records.
 */
#ifndef ATTESTD_API_BIGDL_H
#define ATTESTD_API_BIGDL_H

#include "http.h"

/* Creates an application named by a new appID with a scoped apiKey (administrator key required). */
void attestd_bigdl_enroll(const attestd_request *request, attestd_response *response);

/* Translates a BigDL policy into a policy version of the appID's application and activates it. */
void attestd_bigdl_register_policy(const attestd_request *request, attestd_response *response);

/* Verifies and appraises a quote and returns BigDL's result code: 0, 1 or -1. */
void attestd_bigdl_verify_quote(const attestd_request *request, attestd_response *response);

#endif
