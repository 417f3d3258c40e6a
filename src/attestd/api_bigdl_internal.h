/*
 * The policy translation of the BigDL API (api_bigdl.c), declared apart from
 * api_bigdl.h so that the fuzz target can call it without a store or an
 * HTTP request.
 */
#ifndef ATTESTD_API_BIGDL_INTERNAL_H
#define ATTESTD_API_BIGDL_INTERNAL_H

#include <jansson.h>

#include <attest/attest.h>

/* One failed step of a request, turned into a response by error_respond. */
typedef struct bigdl_error {
    unsigned status;
    char code[64];
    char message[400];
    attest_err store_err; /* not ATTEST_OK: a store failure, sent by attestd_response_store_error */
    attest_diag diag;
} bigdl_error;

/*
 * Translates the BigDL policy of a /registerPolicy body (policyType, the
 * type's measurement fields and isvProdID, simulatedAllowed) into an attestd
 * policy document. appID and apiKey are allowed in json but not read, so
 * the caller checks them first. Returns the document as compact JSON, freed
 * with free(), and sets *out_type_name to the policy type's static name. On
 * failure returns NULL with error set: 400 for a missing, unknown or invalid
 * field, 500 when out of memory. Does not check that the document parses.
 */
char *attestd_bigdl_policy_translate(const json_t *json, const char **out_type_name,
                                     bigdl_error *error);

#endif
