/*
 * Backend-independent half of the state store: input checks and dispatch to
 * the backend's operations, plus the functions that free returned records.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "store.h"

#define STORE_CHECK_NOT_NULL(value, diag)                                                   \
    do {                                                                                     \
        if ((value) == NULL) {                                                               \
            return attest_diag_set((diag), ATTEST_ERR_ARGUMENT, "store: %s is NULL", #value); \
        }                                                                                    \
    } while (0)

bool attestd_store_name_valid(const char *name)
{
    size_t size = strnlen(name, ATTESTD_NAME_MAX_SIZE + 1);
    if (size == 0 || size > ATTESTD_NAME_MAX_SIZE) {
        return false;
    }
    for (size_t i = 0; i < size; i++) {
        char c = name[i];
        bool allowed = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
                       c == '_' || c == '-';
        if (!allowed) {
            return false;
        }
    }
    return true;
}

/* Checks a name and writes a diag naming which rule it breaks. */
static attest_err check_name(const char *label, const char *name, attest_diag *diag)
{
    if (name == NULL) {
        return attest_diag_set(diag, ATTEST_ERR_ARGUMENT, "store: %s is NULL", label);
    }

    size_t size = strnlen(name, ATTESTD_NAME_MAX_SIZE + 1);
    if (size > ATTESTD_NAME_MAX_SIZE) {
        return attest_diag_set(diag, ATTEST_ERR_LIMIT,
                               "store: %s '%.16s...' is longer than %d bytes", label, name,
                               ATTESTD_NAME_MAX_SIZE);
    }
    if (!attestd_store_name_valid(name)) {
        return attest_diag_set(diag, ATTEST_ERR_ARGUMENT,
                               "store: %s '%s' is not 1 to %d characters of [a-z0-9._-]", label,
                               name, ATTESTD_NAME_MAX_SIZE);
    }
    return ATTEST_OK;
}

/*
 * Checks that text is 1 to max_size bytes, each accepted by the class
 * "printable" (0x20 to 0x7e) or "token" ([A-Za-z0-9._-]).
 */
static attest_err check_text(const char *label, const char *text, size_t max_size, bool token,
                             attest_diag *diag)
{
    if (text == NULL) {
        return attest_diag_set(diag, ATTEST_ERR_ARGUMENT, "store: %s is NULL", label);
    }

    size_t size = strnlen(text, max_size + 1);
    if (size == 0) {
        return attest_diag_set(diag, ATTEST_ERR_ARGUMENT, "store: %s is empty", label);
    }
    if (size > max_size) {
        return attest_diag_set(diag, ATTEST_ERR_LIMIT, "store: %s is longer than %zu bytes",
                               label, max_size);
    }
    for (size_t i = 0; i < size; i++) {
        unsigned char c = (unsigned char)text[i];
        bool allowed;
        if (token) {
            allowed = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                      (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
        } else {
            allowed = c >= 0x20 && c <= 0x7e;
        }
        if (!allowed) {
            return attest_diag_set(diag, ATTEST_ERR_ARGUMENT,
                                   "store: %s has a disallowed byte 0x%02x at offset %zu", label,
                                   c, i);
        }
    }
    return ATTEST_OK;
}

/* Checks that a fixed-size text field of a record is NUL-terminated and printable. */
static attest_err check_field(const char *label, const char *field, size_t field_size,
                              attest_diag *diag)
{
    size_t size = strnlen(field, field_size);
    if (size == field_size) {
        return attest_diag_set(diag, ATTEST_ERR_ARGUMENT,
                               "store: audit field %s has no terminating NUL within %zu bytes",
                               label, field_size);
    }
    for (size_t i = 0; i < size; i++) {
        unsigned char c = (unsigned char)field[i];
        if (c < 0x20 || c > 0x7e) {
            return attest_diag_set(diag, ATTEST_ERR_ARGUMENT,
                                   "store: audit field %s has a disallowed byte 0x%02x at "
                                   "offset %zu",
                                   label, c, i);
        }
    }
    return ATTEST_OK;
}

static attest_err sha256(const void *data, size_t size, uint8_t out[ATTESTD_SHA256_SIZE],
                         attest_diag *diag)
{
    unsigned int digest_size = 0;
    if (EVP_Digest(data, size, out, &digest_size, EVP_sha256(), NULL) != 1 ||
        digest_size != ATTESTD_SHA256_SIZE) {
        return attest_diag_set(diag, ATTEST_ERR_CRYPTO, "store: SHA-256 of %zu bytes failed",
                               size);
    }
    return ATTEST_OK;
}

/* Hashes an API key after checking its size and characters. */
static attest_err hash_api_key(const char *key, uint8_t out[ATTESTD_SHA256_SIZE],
                               attest_diag *diag)
{
    attest_err err = check_text("API key", key, ATTESTD_API_KEY_MAX_SIZE, false, diag);
    if (err != ATTEST_OK) {
        return err;
    }
    return sha256(key, strlen(key), out, diag);
}

static attest_err check_role(attestd_role role, attest_diag *diag)
{
    switch (role) {
    case ATTESTD_ROLE_ADMINISTRATOR:
    case ATTESTD_ROLE_AUDITOR:
        return ATTEST_OK;
    }
    return attest_diag_set(diag, ATTEST_ERR_ARGUMENT,
                           "store: API key role %d is neither administrator nor auditor",
                           (int)role);
}

void attestd_store_close(attestd_store *store)
{
    if (store != NULL) {
        store->ops->close(store);
    }
}

const char *attestd_store_backend(const attestd_store *store)
{
    return store->ops->name;
}

/* Applications */

attest_err attestd_store_application_create(attestd_store *store, const char *name, int64_t now,
                                            int64_t *out_id, attest_diag *diag)
{
    STORE_CHECK_NOT_NULL(store, diag);
    attest_err err = check_name("application name", name, diag);
    if (err != ATTEST_OK) {
        return err;
    }
    return store->ops->application_create(store, name, now, out_id, diag);
}

attest_err attestd_store_application_get(attestd_store *store, const char *name,
                                         attestd_application *out_application,
                                         attest_diag *diag)
{
    STORE_CHECK_NOT_NULL(store, diag);
    STORE_CHECK_NOT_NULL(out_application, diag);
    attest_err err = check_name("application name", name, diag);
    if (err != ATTEST_OK) {
        return err;
    }
    return store->ops->application_get(store, name, out_application, diag);
}

attest_err attestd_store_application_list(attestd_store *store,
                                          attestd_application_list *out_list, attest_diag *diag)
{
    STORE_CHECK_NOT_NULL(store, diag);
    STORE_CHECK_NOT_NULL(out_list, diag);
    return store->ops->application_list(store, out_list, diag);
}

attest_err attestd_store_application_delete(attestd_store *store, const char *name,
                                            attest_diag *diag)
{
    STORE_CHECK_NOT_NULL(store, diag);
    attest_err err = check_name("application name", name, diag);
    if (err != ATTEST_OK) {
        return err;
    }
    return store->ops->application_delete(store, name, diag);
}

void attestd_application_list_free(attestd_application_list *list)
{
    if (list == NULL) {
        return;
    }
    free(list->items);
    list->items = NULL;
    list->count = 0;
}

/* Policies */

attest_err attestd_store_policy_put(attestd_store *store, const char *application,
                                    const uint8_t *document, size_t document_size, int64_t now,
                                    int64_t *out_version, attest_diag *diag)
{
    STORE_CHECK_NOT_NULL(store, diag);
    STORE_CHECK_NOT_NULL(document, diag);
    STORE_CHECK_NOT_NULL(out_version, diag);
    attest_err err = check_name("application name", application, diag);
    if (err != ATTEST_OK) {
        return err;
    }
    if (document_size == 0) {
        return attest_diag_set(diag, ATTEST_ERR_ARGUMENT,
                               "store: policy document for application '%s' is empty",
                               application);
    }
    if (document_size > ATTESTD_POLICY_MAX_SIZE) {
        return attest_diag_set(diag, ATTEST_ERR_LIMIT,
                               "store: policy document for application '%s' is %zu bytes, "
                               "above the maximum of %d",
                               application, document_size, ATTESTD_POLICY_MAX_SIZE);
    }

    uint8_t digest[ATTESTD_SHA256_SIZE];
    err = sha256(document, document_size, digest, diag);
    if (err != ATTEST_OK) {
        return err;
    }
    return store->ops->policy_put(store, application, document, document_size, digest, now,
                                  out_version, diag);
}

static attest_err check_version(const char *application, int64_t version, attest_diag *diag)
{
    if (version < 1) {
        return attest_diag_set(diag, ATTEST_ERR_ARGUMENT,
                               "store: policy version %lld of application '%s' is below 1",
                               (long long)version, application);
    }
    return ATTEST_OK;
}

attest_err attestd_store_policy_get(attestd_store *store, const char *application,
                                    int64_t version, attestd_policy *out_policy,
                                    attest_diag *diag)
{
    STORE_CHECK_NOT_NULL(store, diag);
    STORE_CHECK_NOT_NULL(out_policy, diag);
    attest_err err = check_name("application name", application, diag);
    if (err != ATTEST_OK) {
        return err;
    }
    err = check_version(application, version, diag);
    if (err != ATTEST_OK) {
        return err;
    }
    return store->ops->policy_get(store, application, version, out_policy, diag);
}

attest_err attestd_store_policy_get_active(attestd_store *store, const char *application,
                                           attestd_policy *out_policy, attest_diag *diag)
{
    STORE_CHECK_NOT_NULL(store, diag);
    STORE_CHECK_NOT_NULL(out_policy, diag);
    attest_err err = check_name("application name", application, diag);
    if (err != ATTEST_OK) {
        return err;
    }
    return store->ops->policy_get(store, application, 0, out_policy, diag);
}

attest_err attestd_store_policy_list(attestd_store *store, const char *application,
                                     attestd_policy_version_list *out_list, attest_diag *diag)
{
    STORE_CHECK_NOT_NULL(store, diag);
    STORE_CHECK_NOT_NULL(out_list, diag);
    attest_err err = check_name("application name", application, diag);
    if (err != ATTEST_OK) {
        return err;
    }
    return store->ops->policy_list(store, application, out_list, diag);
}

attest_err attestd_store_policy_activate(attestd_store *store, const char *application,
                                         int64_t version, attest_diag *diag)
{
    STORE_CHECK_NOT_NULL(store, diag);
    attest_err err = check_name("application name", application, diag);
    if (err != ATTEST_OK) {
        return err;
    }
    err = check_version(application, version, diag);
    if (err != ATTEST_OK) {
        return err;
    }
    return store->ops->policy_activate(store, application, version, diag);
}

void attestd_policy_free(attestd_policy *policy)
{
    if (policy == NULL) {
        return;
    }
    free(policy->document);
    policy->document = NULL;
}

void attestd_policy_version_list_free(attestd_policy_version_list *list)
{
    if (list == NULL) {
        return;
    }
    free(list->items);
    list->items = NULL;
    list->count = 0;
}

/* API keys */

static attest_err api_key_create(attestd_store *store, const char *name, attestd_role role,
                                 const char *key, int64_t now, bool first_administrator,
                                 int64_t *out_id, attest_diag *diag)
{
    STORE_CHECK_NOT_NULL(store, diag);
    attest_err err = check_name("API key name", name, diag);
    if (err != ATTEST_OK) {
        return err;
    }
    err = check_role(role, diag);
    if (err != ATTEST_OK) {
        return err;
    }

    uint8_t digest[ATTESTD_SHA256_SIZE];
    err = hash_api_key(key, digest, diag);
    if (err != ATTEST_OK) {
        return err;
    }
    err = store->ops->api_key_create(store, name, role, digest, now, first_administrator, out_id,
                                     diag);
    OPENSSL_cleanse(digest, sizeof(digest));
    return err;
}

attest_err attestd_store_api_key_create(attestd_store *store, const char *name,
                                        attestd_role role, const char *key, int64_t now,
                                        int64_t *out_id, attest_diag *diag)
{
    return api_key_create(store, name, role, key, now, false, out_id, diag);
}

attest_err attestd_store_initialize(attestd_store *store, const char *name, const char *key,
                                    int64_t now, int64_t *out_id, attest_diag *diag)
{
    return api_key_create(store, name, ATTESTD_ROLE_ADMINISTRATOR, key, now, true, out_id,
                          diag);
}

attest_err attestd_store_is_initialized(attestd_store *store, bool *out_initialized,
                                        attest_diag *diag)
{
    STORE_CHECK_NOT_NULL(store, diag);
    STORE_CHECK_NOT_NULL(out_initialized, diag);
    return store->ops->is_initialized(store, out_initialized, diag);
}

attest_err attestd_store_api_key_lookup(attestd_store *store, const char *presented_key,
                                        attestd_api_key *out_key, attest_diag *diag)
{
    STORE_CHECK_NOT_NULL(store, diag);
    STORE_CHECK_NOT_NULL(out_key, diag);

    uint8_t digest[ATTESTD_SHA256_SIZE];
    attest_err err = hash_api_key(presented_key, digest, diag);
    if (err != ATTEST_OK) {
        return err;
    }
    err = store->ops->api_key_lookup(store, digest, out_key, diag);
    OPENSSL_cleanse(digest, sizeof(digest));
    return err;
}

attest_err attestd_store_api_key_list(attestd_store *store, attestd_api_key_list *out_list,
                                      attest_diag *diag)
{
    STORE_CHECK_NOT_NULL(store, diag);
    STORE_CHECK_NOT_NULL(out_list, diag);
    return store->ops->api_key_list(store, out_list, diag);
}

attest_err attestd_store_api_key_revoke(attestd_store *store, const char *name, int64_t now,
                                        attest_diag *diag)
{
    STORE_CHECK_NOT_NULL(store, diag);
    attest_err err = check_name("API key name", name, diag);
    if (err != ATTEST_OK) {
        return err;
    }
    return store->ops->api_key_revoke(store, name, now, diag);
}

void attestd_api_key_list_free(attestd_api_key_list *list)
{
    if (list == NULL) {
        return;
    }
    free(list->items);
    list->items = NULL;
    list->count = 0;
}

/* Nonces */

attest_err attestd_store_nonce_purge(attestd_store *store, int64_t now, uint64_t *out_count,
                                     attest_diag *diag)
{
    STORE_CHECK_NOT_NULL(store, diag);
    return store->ops->nonce_purge(store, now, out_count, diag);
}

/* Audit records */

/* Checks what every store requires of an audit record. */
static attest_err audit_record_check(const attestd_audit_record *record, attest_diag *diag)
{
    if (record->verdict != ATTESTD_VERDICT_ACCEPTED &&
        record->verdict != ATTESTD_VERDICT_REJECTED) {
        return attest_diag_set(diag, ATTEST_ERR_ARGUMENT,
                               "store: audit verdict %d is neither accepted nor rejected",
                               (int)record->verdict);
    }
    if (record->policy_version < 0) {
        return attest_diag_set(diag, ATTEST_ERR_ARGUMENT,
                               "store: audit policy version %lld is negative",
                               (long long)record->policy_version);
    }

    const struct {
        const char *label;
        const char *field;
        size_t size;
    } fields[] = {
        {"application", record->application, sizeof(record->application)},
        {"evidence_type", record->evidence_type, sizeof(record->evidence_type)},
        {"failing_check", record->failing_check, sizeof(record->failing_check)},
        {"token_id", record->token_id, sizeof(record->token_id)},
        {"client_address", record->client_address, sizeof(record->client_address)},
        {"request_id", record->request_id, sizeof(record->request_id)},
    };
    for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
        attest_err err = check_field(fields[i].label, fields[i].field, fields[i].size, diag);
        if (err != ATTEST_OK) {
            return err;
        }
    }
    return ATTEST_OK;
}

attest_err attestd_store_audit_insert(attestd_store *store, const attestd_audit_record *record,
                                      int64_t *out_id, attest_diag *diag)
{
    STORE_CHECK_NOT_NULL(store, diag);
    STORE_CHECK_NOT_NULL(record, diag);
    attest_err err = audit_record_check(record, diag);
    if (err != ATTEST_OK) {
        return err;
    }
    return store->ops->audit_insert(store, record, out_id, diag);
}

attest_err attestd_store_audit_insert_consuming(attestd_store *store,
                                                const attestd_audit_record *record,
                                                const uint8_t nonce[ATTESTD_NONCE_SIZE],
                                                int64_t nonce_expires_at, int64_t now,
                                                int64_t *out_id, attest_diag *diag)
{
    STORE_CHECK_NOT_NULL(store, diag);
    STORE_CHECK_NOT_NULL(record, diag);
    STORE_CHECK_NOT_NULL(nonce, diag);
    /*
     * An expired nonce is rejected before it reaches the table: after a purge
     * the table no longer records it, so only this check stops its replay.
     */
    if (nonce_expires_at <= now) {
        return attest_diag_set(diag, ATTEST_ERR_NONCE_EXPIRED,
                               "store: nonce expired at %lld, not after the time %lld",
                               (long long)nonce_expires_at, (long long)now);
    }
    attest_err err = audit_record_check(record, diag);
    if (err != ATTEST_OK) {
        return err;
    }
    return store->ops->audit_insert_consuming(store, record, nonce, nonce_expires_at, out_id, diag);
}

attest_err attestd_store_audit_list(attestd_store *store, const attestd_audit_filter *filter,
                                    attestd_audit_list *out_list, attest_diag *diag)
{
    STORE_CHECK_NOT_NULL(store, diag);
    STORE_CHECK_NOT_NULL(filter, diag);
    STORE_CHECK_NOT_NULL(out_list, diag);

    if (filter->application != NULL) {
        attest_err err = check_name("audit filter application", filter->application, diag);
        if (err != ATTEST_OK) {
            return err;
        }
    }
    switch (filter->verdict) {
    case ATTESTD_VERDICT_ANY:
    case ATTESTD_VERDICT_ACCEPTED:
    case ATTESTD_VERDICT_REJECTED:
        break;
    default:
        return attest_diag_set(diag, ATTEST_ERR_ARGUMENT,
                               "store: audit filter verdict %d is not any, accepted or rejected",
                               (int)filter->verdict);
    }
    if (filter->limit == 0 || filter->limit > ATTESTD_AUDIT_LIST_MAX_COUNT) {
        return attest_diag_set(diag, ATTEST_ERR_LIMIT,
                               "store: audit filter limit %zu is not between 1 and %d",
                               filter->limit, ATTESTD_AUDIT_LIST_MAX_COUNT);
    }
    if (filter->offset > (size_t)INT64_MAX) {
        return attest_diag_set(diag, ATTEST_ERR_LIMIT,
                               "store: audit filter offset %zu is above INT64_MAX",
                               filter->offset);
    }
    return store->ops->audit_list(store, filter, out_list, diag);
}

void attestd_audit_list_free(attestd_audit_list *list)
{
    if (list == NULL) {
        return;
    }
    free(list->items);
    list->items = NULL;
    list->count = 0;
}

/* Collateral cache */

attest_err attestd_store_collateral_put(attestd_store *store, const char *key,
                                        const uint8_t *blob, size_t blob_size,
                                        int64_t next_update, attest_diag *diag)
{
    STORE_CHECK_NOT_NULL(store, diag);
    STORE_CHECK_NOT_NULL(blob, diag);
    attest_err err = check_text("collateral key", key, ATTESTD_COLLATERAL_KEY_MAX_SIZE, false,
                                diag);
    if (err != ATTEST_OK) {
        return err;
    }
    if (blob_size == 0) {
        return attest_diag_set(diag, ATTEST_ERR_ARGUMENT,
                               "store: collateral '%s' is empty", key);
    }
    if (blob_size > ATTESTD_COLLATERAL_MAX_SIZE) {
        return attest_diag_set(diag, ATTEST_ERR_LIMIT,
                               "store: collateral '%s' is %zu bytes, above the maximum of %d",
                               key, blob_size, ATTESTD_COLLATERAL_MAX_SIZE);
    }
    return store->ops->collateral_put(store, key, blob, blob_size, next_update, diag);
}

attest_err attestd_store_collateral_get(attestd_store *store, const char *key, int64_t now,
                                        uint8_t **out_blob, size_t *out_blob_size,
                                        int64_t *out_next_update, attest_diag *diag)
{
    STORE_CHECK_NOT_NULL(store, diag);
    STORE_CHECK_NOT_NULL(out_blob, diag);
    STORE_CHECK_NOT_NULL(out_blob_size, diag);
    attest_err err = check_text("collateral key", key, ATTESTD_COLLATERAL_KEY_MAX_SIZE, false,
                                diag);
    if (err != ATTEST_OK) {
        return err;
    }
    return store->ops->collateral_get(store, key, now, out_blob, out_blob_size, out_next_update,
                                      diag);
}

attest_err attestd_store_collateral_purge(attestd_store *store, int64_t now,
                                          uint64_t *out_count, attest_diag *diag)
{
    STORE_CHECK_NOT_NULL(store, diag);
    return store->ops->collateral_purge(store, now, out_count, diag);
}

/* Signing keys */

attest_err attestd_store_signing_key_put(attestd_store *store, const char *kid,
                                         const char *algorithm, const char *private_key_pem,
                                         int64_t now, attest_diag *diag)
{
    STORE_CHECK_NOT_NULL(store, diag);
    attest_err err = check_text("signing key kid", kid, ATTESTD_KID_MAX_SIZE, true, diag);
    if (err != ATTEST_OK) {
        return err;
    }
    err = check_text("signing key algorithm", algorithm, ATTESTD_ALGORITHM_MAX_SIZE, true, diag);
    if (err != ATTEST_OK) {
        return err;
    }
    STORE_CHECK_NOT_NULL(private_key_pem, diag);

    size_t pem_size = strnlen(private_key_pem, ATTESTD_PRIVATE_KEY_PEM_MAX_SIZE + 1);
    if (pem_size > ATTESTD_PRIVATE_KEY_PEM_MAX_SIZE) {
        return attest_diag_set(diag, ATTEST_ERR_LIMIT,
                               "store: private key PEM of signing key '%s' is longer than %d "
                               "bytes",
                               kid, ATTESTD_PRIVATE_KEY_PEM_MAX_SIZE);
    }
    static const char pem_begin[] = "-----BEGIN ";
    if (strncmp(private_key_pem, pem_begin, sizeof(pem_begin) - 1) != 0) {
        return attest_diag_set(diag, ATTEST_ERR_ARGUMENT,
                               "store: private key of signing key '%s' does not start with "
                               "'-----BEGIN '",
                               kid);
    }
    return store->ops->signing_key_put(store, kid, algorithm, private_key_pem, now, diag);
}

attest_err attestd_store_signing_key_list(attestd_store *store,
                                          attestd_signing_key_list *out_list, attest_diag *diag)
{
    STORE_CHECK_NOT_NULL(store, diag);
    STORE_CHECK_NOT_NULL(out_list, diag);
    return store->ops->signing_key_list(store, out_list, diag);
}

attest_err attestd_store_signing_key_retire(attestd_store *store, const char *kid, int64_t now,
                                            attest_diag *diag)
{
    STORE_CHECK_NOT_NULL(store, diag);
    attest_err err = check_text("signing key kid", kid, ATTESTD_KID_MAX_SIZE, true, diag);
    if (err != ATTEST_OK) {
        return err;
    }
    return store->ops->signing_key_retire(store, kid, now, diag);
}

void attestd_signing_key_list_free(attestd_signing_key_list *list)
{
    if (list == NULL) {
        return;
    }
    for (size_t i = 0; i < list->count; i++) {
        char *pem = list->items[i].private_key_pem;
        if (pem != NULL) {
            OPENSSL_cleanse(pem, strlen(pem));
            free(pem);
        }
    }
    free(list->items);
    list->items = NULL;
    list->count = 0;
}

/* Application-scoped keys and policy ids */

attest_err attestd_store_application_enroll(attestd_store *store, const char *name,
                                            const char *key, int64_t now, int64_t *out_id,
                                            attest_diag *diag)
{
    STORE_CHECK_NOT_NULL(store, diag);
    attest_err err = check_name("application name", name, diag);
    if (err != ATTEST_OK) {
        return err;
    }

    uint8_t digest[ATTESTD_SHA256_SIZE];
    err = hash_api_key(key, digest, diag);
    if (err != ATTEST_OK) {
        return err;
    }
    err = store->ops->application_enroll(store, name, digest, now, out_id, diag);
    OPENSSL_cleanse(digest, sizeof(digest));
    return err;
}

attest_err attestd_store_application_key_check(attestd_store *store, const char *application,
                                               const char *presented_key, attest_diag *diag)
{
    STORE_CHECK_NOT_NULL(store, diag);
    attest_err err = check_name("application name", application, diag);
    if (err != ATTEST_OK) {
        return err;
    }

    uint8_t presented[ATTESTD_SHA256_SIZE];
    err = hash_api_key(presented_key, presented, diag);
    if (err != ATTEST_OK) {
        return err;
    }
    uint8_t stored[ATTESTD_SHA256_SIZE];
    err = store->ops->application_key_get(store, application, stored, diag);
    if (err == ATTEST_ERR_NOT_FOUND) {
        err = attest_diag_set(diag, ATTEST_ERR_API_KEY_UNKNOWN,
                              "store: application '%s' has no scoped API key", application);
    } else if (err == ATTEST_OK && CRYPTO_memcmp(stored, presented, sizeof(stored)) != 0) {
        /* Both sides are hashes of the same size, so the comparison time reveals nothing. */
        err = attest_diag_set(diag, ATTEST_ERR_API_KEY_UNKNOWN,
                              "store: the presented key is not the scoped key of application '%s'",
                              application);
    }
    OPENSSL_cleanse(presented, sizeof(presented));
    OPENSSL_cleanse(stored, sizeof(stored));
    return err;
}

attest_err attestd_store_policy_id_create(attestd_store *store, const char *policy_id,
                                          const char *application, int64_t version, int64_t now,
                                          attest_diag *diag)
{
    STORE_CHECK_NOT_NULL(store, diag);
    attest_err err = check_name("policy id", policy_id, diag);
    if (err == ATTEST_OK) {
        err = check_name("application name", application, diag);
    }
    if (err != ATTEST_OK) {
        return err;
    }
    if (version < 1) {
        return attest_diag_set(diag, ATTEST_ERR_ARGUMENT,
                               "store: policy version %lld is not 1 or higher", (long long)version);
    }
    return store->ops->policy_id_create(store, policy_id, application, version, now, diag);
}

attest_err attestd_store_policy_id_get(attestd_store *store, const char *policy_id,
                                       char out_application[ATTESTD_NAME_MAX_SIZE + 1],
                                       int64_t *out_version, attest_diag *diag)
{
    STORE_CHECK_NOT_NULL(store, diag);
    STORE_CHECK_NOT_NULL(out_application, diag);
    STORE_CHECK_NOT_NULL(out_version, diag);
    attest_err err = check_name("policy id", policy_id, diag);
    if (err != ATTEST_OK) {
        return err;
    }
    return store->ops->policy_id_get(store, policy_id, out_application, out_version, diag);
}
