/*
 * Policy documents: the top-level keys, their defaults, and the getters.
 * The sections per evidence type are in policy_sections.c.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "appraisal/internal.h"
#include "collateral/json.h"

#define ROOT_PATH "$"

const char *attest_evidence_type_name(attest_evidence_type type)
{
    switch (type) {
    case ATTEST_EVIDENCE_TYPE_SGX:
        return "sgx";
    case ATTEST_EVIDENCE_TYPE_TDX:
        return "tdx";
    }
    return "unknown";
}

static attest_err evidence_types_parse(const json_t *root, attest_policy *policy,
                                       attest_diag *diag)
{
    json_t *array = NULL;
    attest_err err = attest_json_get_array(root, ROOT_PATH, "evidence_types", &array, diag);
    if (err != ATTEST_OK) {
        return err;
    }
    if (json_array_size(array) == 0) {
        return attest_diag_set(diag, ATTEST_ERR_JSON_FIELD,
                               ROOT_PATH ".evidence_types: expected at least one of \"sgx\" "
                                         "and \"tdx\"");
    }

    size_t index = 0;
    json_t *element = NULL;
    json_array_foreach (array, index, element) {
        if (!json_is_string(element)) {
            return attest_diag_set(diag, ATTEST_ERR_JSON_FIELD,
                                   ROOT_PATH ".evidence_types[%zu]: expected a string", index);
        }
        const char *name = json_string_value(element);
        bool *allowed = NULL;
        if (strcmp(name, "sgx") == 0) {
            allowed = &policy->sgx_allowed;
        } else if (strcmp(name, "tdx") == 0) {
            allowed = &policy->tdx_allowed;
        } else {
            return attest_diag_set(diag, ATTEST_ERR_POLICY_EVIDENCE_TYPE,
                                   ROOT_PATH ".evidence_types[%zu]: \"%.40s\" is not supported; "
                                             "use \"sgx\" or \"tdx\"",
                                   index, name);
        }
        if (*allowed) {
            return attest_diag_set(diag, ATTEST_ERR_POLICY_INVALID,
                                   ROOT_PATH ".evidence_types[%zu]: \"%s\" is listed twice",
                                   index, name);
        }
        *allowed = true;
    }
    return ATTEST_OK;
}

/* Parses the section of one evidence type, which must be present exactly when the type is allowed. */
static attest_err section_parse(const json_t *root, const char *name, bool allowed,
                                attest_policy *policy, attest_diag *diag)
{
    const json_t *section = json_object_get(root, name);
    if (section == NULL && allowed) {
        return attest_diag_set(diag, ATTEST_ERR_POLICY_INVALID,
                               ROOT_PATH ".%s: missing, but \"evidence_types\" lists \"%s\"",
                               name, name);
    }
    if (section != NULL && !allowed) {
        return attest_diag_set(diag, ATTEST_ERR_POLICY_INVALID,
                               ROOT_PATH ".%s: present, but \"evidence_types\" does not list "
                                         "\"%s\"",
                               name, name);
    }
    if (section == NULL) {
        return ATTEST_OK;
    }
    if (strcmp(name, "sgx") == 0) {
        return policy_parse_sgx(section, &policy->sgx, diag);
    }
    return policy_parse_tdx(section, &policy->tdx, diag);
}

/* Reads the optional boolean key. An absent key leaves *value unchanged. */
static attest_err get_optional_bool(const json_t *root, const char *key, bool *value,
                                    attest_diag *diag)
{
    if (json_object_get(root, key) == NULL) {
        return ATTEST_OK;
    }
    return policy_get_bool(root, ROOT_PATH, key, value, diag);
}

/* Reads the keys about TCB status, advisories and the evaluation data number. */
static attest_err tcb_keys_parse(const json_t *root, attest_policy *policy, attest_diag *diag)
{
    if (json_object_get(root, "accepted_tcb_statuses") != NULL) {
        attest_err err = policy_get_statuses(root, ROOT_PATH, "accepted_tcb_statuses",
                                             &policy->accepted_statuses, diag);
        if (err != ATTEST_OK) {
            return err;
        }
    }
    if (json_object_get(root, "accepted_advisory_ids") != NULL) {
        attest_err err = policy_get_advisories(root, ROOT_PATH, "accepted_advisory_ids",
                                               &policy->any_advisory,
                                               &policy->accepted_advisories, diag);
        if (err != ATTEST_OK) {
            return err;
        }
    }
    if (json_object_get(root, "min_tcb_evaluation_data_number") != NULL) {
        uint64_t number = 0;
        attest_err err = attest_json_get_uint(root, ROOT_PATH, "min_tcb_evaluation_data_number",
                                              UINT32_MAX, &number, diag);
        if (err != ATTEST_OK) {
            return err;
        }
        policy->has_min_tcb_evaluation_data_number = true;
        policy->min_tcb_evaluation_data_number = (uint32_t)number;
    }
    return ATTEST_OK;
}

static attest_err token_lifetime_parse(const json_t *root, attest_policy *policy,
                                       attest_diag *diag)
{
    if (json_object_get(root, "token_lifetime_seconds") == NULL) {
        return ATTEST_OK;
    }
    uint64_t seconds = 0;
    attest_err err = attest_json_get_uint(root, ROOT_PATH, "token_lifetime_seconds", UINT32_MAX,
                                          &seconds, diag);
    if (err != ATTEST_OK) {
        return err;
    }
    if (seconds == 0 || seconds > ATTEST_POLICY_TOKEN_LIFETIME_MAX) {
        return attest_diag_set(diag, ATTEST_ERR_JSON_FIELD,
                               ROOT_PATH ".token_lifetime_seconds: %llu is outside the range 1 "
                                         "to %d",
                               (unsigned long long)seconds, ATTEST_POLICY_TOKEN_LIFETIME_MAX);
    }
    policy->token_lifetime = (uint32_t)seconds;
    return ATTEST_OK;
}

/* Fills policy from the parsed document root, over the defaults already set. */
static attest_err policy_from_json(const json_t *root, attest_policy *policy, attest_diag *diag)
{
    if (!json_is_object(root)) {
        return attest_diag_set(diag, ATTEST_ERR_JSON_FIELD, ROOT_PATH ": expected an object");
    }
    static const char *const keys[] = {
        "evidence_types",        "sgx",
        "tdx",                   "debug_allowed",
        "accepted_tcb_statuses", "accepted_advisory_ids",
        "min_tcb_evaluation_data_number", "nonce_required",
        "simulated_allowed",     "token_lifetime_seconds",
    };
    attest_err err = policy_check_keys(root, ROOT_PATH, keys, sizeof(keys) / sizeof(keys[0]),
                                       diag);
    if (err != ATTEST_OK) {
        return err;
    }

    err = evidence_types_parse(root, policy, diag);
    if (err != ATTEST_OK) {
        return err;
    }
    err = section_parse(root, "sgx", policy->sgx_allowed, policy, diag);
    if (err != ATTEST_OK) {
        return err;
    }
    err = section_parse(root, "tdx", policy->tdx_allowed, policy, diag);
    if (err != ATTEST_OK) {
        return err;
    }

    err = get_optional_bool(root, "debug_allowed", &policy->debug_allowed, diag);
    if (err != ATTEST_OK) {
        return err;
    }
    err = tcb_keys_parse(root, policy, diag);
    if (err != ATTEST_OK) {
        return err;
    }
    err = get_optional_bool(root, "nonce_required", &policy->nonce_required, diag);
    if (err != ATTEST_OK) {
        return err;
    }
    err = get_optional_bool(root, "simulated_allowed", &policy->simulated_allowed, diag);
    if (err != ATTEST_OK) {
        return err;
    }
    return token_lifetime_parse(root, policy, diag);
}

/* Sets the defaults of every optional key: each is the strict choice. */
static void policy_defaults(attest_policy *policy)
{
    policy->debug_allowed = false;
    policy->accepted_statuses = 1u << ATTEST_TCB_UP_TO_DATE;
    policy->any_advisory = false;
    policy->accepted_advisories.count = 0;
    policy->has_min_tcb_evaluation_data_number = false;
    policy->nonce_required = true;
    policy->simulated_allowed = false;
    policy->token_lifetime = ATTEST_POLICY_TOKEN_LIFETIME_DEFAULT;
}

/* Keeps a copy of the document and its SHA-256. */
static attest_err document_store(const char *json, size_t size, attest_policy *policy,
                                 attest_diag *diag)
{
    policy->document = malloc(size > 0 ? size : 1);
    if (policy->document == NULL) {
        return attest_diag_set(diag, ATTEST_ERR_NOMEM, "cannot copy the policy document");
    }
    memcpy(policy->document, json, size);
    policy->document_size = size;

    unsigned int hash_size = 0;
    if (EVP_Digest(json, size, policy->hash, &hash_size, EVP_sha256(), NULL) != 1 ||
        hash_size != ATTEST_POLICY_HASH_SIZE) {
        return attest_diag_set(diag, ATTEST_ERR_CRYPTO, "SHA-256 of the policy failed");
    }
    return ATTEST_OK;
}

attest_err attest_policy_parse(const char *json, size_t size, attest_policy **out_policy,
                               attest_diag *diag)
{
    if (json == NULL || out_policy == NULL) {
        return attest_diag_set(diag, ATTEST_ERR_ARGUMENT, "policy text or output is NULL");
    }
    if (size > ATTEST_POLICY_MAX_SIZE) {
        return attest_diag_set(diag, ATTEST_ERR_LIMIT,
                               "policy of %zu bytes exceeds the limit of %d bytes", size,
                               ATTEST_POLICY_MAX_SIZE);
    }

    json_t *root = NULL;
    attest_err err = attest_json_parse(json, size, &root, diag);
    if (err != ATTEST_OK) {
        return err;
    }

    attest_policy *policy = calloc(1, sizeof(*policy));
    if (policy == NULL) {
        json_decref(root);
        return attest_diag_set(diag, ATTEST_ERR_NOMEM, "cannot allocate the policy");
    }
    policy_defaults(policy);
    err = policy_from_json(root, policy, diag);
    json_decref(root);
    if (err == ATTEST_OK) {
        err = document_store(json, size, policy, diag);
    }
    if (err != ATTEST_OK) {
        attest_policy_free(policy);
        return err;
    }

    *out_policy = policy;
    return ATTEST_OK;
}

void attest_policy_free(attest_policy *policy)
{
    if (policy == NULL) {
        return;
    }
    free(policy->document);
    free(policy);
}

bool attest_policy_nonce_required(const attest_policy *policy)
{
    return policy->nonce_required;
}

bool attest_policy_simulated_allowed(const attest_policy *policy)
{
    return policy->simulated_allowed;
}

uint32_t attest_policy_token_lifetime(const attest_policy *policy)
{
    return policy->token_lifetime;
}

bool attest_policy_evidence_allowed(const attest_policy *policy, attest_evidence_type type)
{
    switch (type) {
    case ATTEST_EVIDENCE_TYPE_SGX:
        return policy->sgx_allowed;
    case ATTEST_EVIDENCE_TYPE_TDX:
        return policy->tdx_allowed;
    }
    return false;
}

void attest_policy_hash(const attest_policy *policy, uint8_t out_hash[ATTEST_POLICY_HASH_SIZE])
{
    memcpy(out_hash, policy->hash, ATTEST_POLICY_HASH_SIZE);
}

const char *attest_policy_document(const attest_policy *policy, size_t *out_size)
{
    *out_size = policy->document_size;
    return policy->document;
}
