/*
 * State store of attestd: applications, policies, API keys, consumed nonces,
 * audit records, cached collateral and token signing keys.
 *
 * Callers use only the attestd_store_* functions below. Each backend (SQLite
 * now, PostgreSQL later) fills an attestd_store_ops table and embeds
 * attestd_store as the first member of its own struct. The functions here
 * check every input against the limits below before calling the backend, so
 * all backends reject the same inputs with the same codes.
 *
 * Conventions of every function:
 * - Times are Unix seconds (UTC) given by the caller; the store never reads
 *   the clock.
 * - The result is ATTEST_OK or an error code. On error, diag (may be NULL)
 *   names the value and the check that failed, and out_* is not written.
 * - Errors common to all calls: ATTEST_ERR_ARGUMENT or ATTEST_ERR_LIMIT for a
 *   rejected input, ATTEST_ERR_STORE for a failed database call,
 *   ATTEST_ERR_STORE_READ_ONLY for a write to a database that cannot be
 *   written, ATTEST_ERR_STORE_BUSY when the database stays locked longer
 *   than the busy timeout, ATTEST_ERR_NOMEM.
 *
 * Thread safety: one attestd_store may be used from any number of threads at
 * once, except attestd_store_close, which must run after every other call has
 * returned. docs/store.md describes how the SQLite backend achieves this.
 */
#ifndef ATTESTD_STORE_H
#define ATTESTD_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <attest/error.h>

/* Application and API key names: 1 to 64 bytes of [a-z0-9._-]. */
#define ATTESTD_NAME_MAX_SIZE 64
/* Stored policy documents: 1 byte to 64 KiB, kept byte for byte. */
#define ATTESTD_POLICY_MAX_SIZE (64 * 1024)
/* Presented API key text (the caller's keys are 43 base64url characters). */
#define ATTESTD_API_KEY_MAX_SIZE 256
#define ATTESTD_SHA256_SIZE 32
#define ATTESTD_NONCE_SIZE 32
/* Collateral cache: key text and blob. */
#define ATTESTD_COLLATERAL_KEY_MAX_SIZE 256
#define ATTESTD_COLLATERAL_MAX_SIZE (4 * 1024 * 1024)
/* Signing keys: kid, algorithm name (such as "ES256") and private key PEM. */
#define ATTESTD_KID_MAX_SIZE 64
#define ATTESTD_ALGORITHM_MAX_SIZE 16
#define ATTESTD_PRIVATE_KEY_PEM_MAX_SIZE (16 * 1024)
/* Audit text fields, each excluding the terminating NUL. */
#define ATTESTD_EVIDENCE_TYPE_MAX_SIZE 32
#define ATTESTD_CHECK_MAX_SIZE 64
#define ATTESTD_TOKEN_ID_MAX_SIZE 64
#define ATTESTD_CLIENT_ADDRESS_MAX_SIZE 64
#define ATTESTD_REQUEST_ID_MAX_SIZE 64
/* Maximum limit of one attestd_store_audit_list call. */
#define ATTESTD_AUDIT_LIST_MAX_COUNT 1000

typedef enum attestd_role {
    ATTESTD_ROLE_ADMINISTRATOR = 1,
    ATTESTD_ROLE_AUDITOR = 2,
} attestd_role;

typedef enum attestd_verdict {
    ATTESTD_VERDICT_ANY = 0, /* only in attestd_audit_filter */
    ATTESTD_VERDICT_ACCEPTED = 1,
    ATTESTD_VERDICT_REJECTED = 2,
} attestd_verdict;

typedef struct attestd_application {
    int64_t id;
    char name[ATTESTD_NAME_MAX_SIZE + 1];
    int64_t created_at;
} attestd_application;

typedef struct attestd_application_list {
    attestd_application *items;
    size_t count;
} attestd_application_list;

/* Metadata of one stored policy version. */
typedef struct attestd_policy_version {
    int64_t version; /* 1, 2, ... per application */
    uint8_t sha256[ATTESTD_SHA256_SIZE]; /* SHA-256 of the stored document */
    size_t document_size;
    int64_t created_at;
    bool active;
} attestd_policy_version;

typedef struct attestd_policy_version_list {
    attestd_policy_version *items; /* ascending version */
    size_t count;
} attestd_policy_version_list;

/* One policy version with its document, which attestd_policy_free releases. */
typedef struct attestd_policy {
    attestd_policy_version info;
    uint8_t *document; /* exactly the bytes given to put, plus a NUL not counted */
} attestd_policy;

/* An API key as stored: never the key itself, only its SHA-256. */
typedef struct attestd_api_key {
    int64_t id;
    char name[ATTESTD_NAME_MAX_SIZE + 1];
    attestd_role role;
    int64_t created_at;
    int64_t revoked_at; /* 0 while the key is valid */
} attestd_api_key;

typedef struct attestd_api_key_list {
    attestd_api_key *items;
    size_t count;
} attestd_api_key_list;

/*
 * One attestation request. Text fields are NUL-terminated and may be empty
 * when unknown; policy_version is 0 when no policy was applied.
 */
typedef struct attestd_audit_record {
    int64_t id; /* assigned by the store; ignored by attestd_store_audit_insert */
    int64_t time;
    char application[ATTESTD_NAME_MAX_SIZE + 1];
    char evidence_type[ATTESTD_EVIDENCE_TYPE_MAX_SIZE + 1];
    uint8_t evidence_sha256[ATTESTD_SHA256_SIZE];
    attestd_verdict verdict; /* accepted or rejected, never ANY */
    char failing_check[ATTESTD_CHECK_MAX_SIZE + 1];
    int64_t policy_version;
    char token_id[ATTESTD_TOKEN_ID_MAX_SIZE + 1]; /* jti of the issued token */
    char client_address[ATTESTD_CLIENT_ADDRESS_MAX_SIZE + 1];
    char request_id[ATTESTD_REQUEST_ID_MAX_SIZE + 1];
} attestd_audit_record;

/* Audit query: every set condition must hold. Results are newest first. */
typedef struct attestd_audit_filter {
    const char *application; /* NULL for any application */
    attestd_verdict verdict; /* ATTESTD_VERDICT_ANY for any verdict */
    bool has_time_from;
    int64_t time_from; /* inclusive */
    bool has_time_to;
    int64_t time_to; /* exclusive */
    size_t limit; /* 1 to ATTESTD_AUDIT_LIST_MAX_COUNT */
    size_t offset;
} attestd_audit_filter;

typedef struct attestd_audit_list {
    attestd_audit_record *items;
    size_t count;
} attestd_audit_list;

typedef struct attestd_signing_key {
    char kid[ATTESTD_KID_MAX_SIZE + 1];
    char algorithm[ATTESTD_ALGORITHM_MAX_SIZE + 1];
    char *private_key_pem; /* NUL-terminated; wiped by attestd_signing_key_list_free */
    int64_t created_at;
    int64_t retired_at; /* 0 while the key signs new tokens */
} attestd_signing_key;

typedef struct attestd_signing_key_list {
    attestd_signing_key *items; /* ascending created_at, then kid */
    size_t count;
} attestd_signing_key_list;

typedef struct attestd_store attestd_store;

/*
 * Backend operations. Inputs reach them already checked by the attestd_store_*
 * functions, which document each operation.
 */
typedef struct attestd_store_ops {
    const char *name; /* "sqlite" */
    void (*close)(attestd_store *store);

    attest_err (*application_create)(attestd_store *store, const char *name, int64_t now,
                                     int64_t *out_id, attest_diag *diag);
    attest_err (*application_get)(attestd_store *store, const char *name,
                                  attestd_application *out_application, attest_diag *diag);
    attest_err (*application_list)(attestd_store *store, attestd_application_list *out_list,
                                   attest_diag *diag);
    attest_err (*application_delete)(attestd_store *store, const char *name, attest_diag *diag);

    attest_err (*policy_put)(attestd_store *store, const char *application,
                             const uint8_t *document, size_t document_size,
                             const uint8_t sha256[ATTESTD_SHA256_SIZE], int64_t now,
                             int64_t *out_version, attest_diag *diag);
    /* version 0 selects the active version. */
    attest_err (*policy_get)(attestd_store *store, const char *application, int64_t version,
                             attestd_policy *out_policy, attest_diag *diag);
    attest_err (*policy_list)(attestd_store *store, const char *application,
                              attestd_policy_version_list *out_list, attest_diag *diag);
    attest_err (*policy_activate)(attestd_store *store, const char *application,
                                  int64_t version, attest_diag *diag);

    attest_err (*api_key_create)(attestd_store *store, const char *name, attestd_role role,
                                 const uint8_t key_sha256[ATTESTD_SHA256_SIZE], int64_t now,
                                 bool first_administrator, int64_t *out_id, attest_diag *diag);
    attest_err (*api_key_lookup)(attestd_store *store,
                                 const uint8_t key_sha256[ATTESTD_SHA256_SIZE],
                                 attestd_api_key *out_key, attest_diag *diag);
    attest_err (*api_key_list)(attestd_store *store, attestd_api_key_list *out_list,
                               attest_diag *diag);
    attest_err (*api_key_revoke)(attestd_store *store, const char *name, int64_t now,
                                 attest_diag *diag);
    attest_err (*is_initialized)(attestd_store *store, bool *out_initialized,
                                 attest_diag *diag);

    attest_err (*application_enroll)(attestd_store *store, const char *name,
                                     const uint8_t key_sha256[ATTESTD_SHA256_SIZE], int64_t now,
                                     int64_t *out_id, attest_diag *diag);
    attest_err (*application_key_get)(attestd_store *store, const char *application,
                                      uint8_t out_key_sha256[ATTESTD_SHA256_SIZE],
                                      attest_diag *diag);
    attest_err (*policy_id_create)(attestd_store *store, const char *policy_id,
                                   const char *application, int64_t version, int64_t now,
                                   attest_diag *diag);
    attest_err (*policy_id_get)(attestd_store *store, const char *policy_id,
                                char out_application[ATTESTD_NAME_MAX_SIZE + 1],
                                int64_t *out_version, attest_diag *diag);

    attest_err (*nonce_purge)(attestd_store *store, int64_t now, uint64_t *out_count,
                              attest_diag *diag);

    attest_err (*audit_insert)(attestd_store *store, const attestd_audit_record *record,
                               int64_t *out_id, attest_diag *diag);
    attest_err (*audit_insert_consuming)(attestd_store *store, const attestd_audit_record *record,
                                         const uint8_t nonce[ATTESTD_NONCE_SIZE],
                                         int64_t nonce_expires_at, int64_t *out_id,
                                         attest_diag *diag);
    attest_err (*audit_list)(attestd_store *store, const attestd_audit_filter *filter,
                             attestd_audit_list *out_list, attest_diag *diag);

    attest_err (*collateral_put)(attestd_store *store, const char *key, const uint8_t *blob,
                                 size_t blob_size, int64_t next_update, attest_diag *diag);
    attest_err (*collateral_get)(attestd_store *store, const char *key, int64_t now,
                                 uint8_t **out_blob, size_t *out_blob_size,
                                 int64_t *out_next_update, attest_diag *diag);
    attest_err (*collateral_purge)(attestd_store *store, int64_t now, uint64_t *out_count,
                                   attest_diag *diag);

    attest_err (*signing_key_put)(attestd_store *store, const char *kid, const char *algorithm,
                                  const char *private_key_pem, int64_t now, attest_diag *diag);
    attest_err (*signing_key_list)(attestd_store *store, attestd_signing_key_list *out_list,
                                   attest_diag *diag);
    attest_err (*signing_key_retire)(attestd_store *store, const char *kid, int64_t now,
                                     attest_diag *diag);
} attestd_store_ops;

/* Base of every backend's store object. */
struct attestd_store {
    const attestd_store_ops *ops;
};

typedef enum attestd_sqlite_synchronous {
    /* Survives a killed process; a power loss may drop the last commits. */
    ATTESTD_SQLITE_SYNCHRONOUS_NORMAL = 0,
    /* Also survives a power loss, at the cost of an fsync per commit. */
    ATTESTD_SQLITE_SYNCHRONOUS_FULL = 1,
} attestd_sqlite_synchronous;

typedef struct attestd_sqlite_options {
    attestd_sqlite_synchronous synchronous;
    int busy_timeout_ms; /* 0 selects 5000 */
    size_t connection_count; /* 0 selects 4; at most 64 */
    bool read_only; /* open without write access; every write fails */
} attestd_sqlite_options;

/*
 * Opens or creates the SQLite database at path (created with mode 0600),
 * switches it to WAL mode and applies the pending schema migrations in one
 * transaction. options may be NULL for the defaults. The caller closes
 * *out_store with attestd_store_close.
 * Errors: ATTEST_ERR_STORE_SCHEMA when the file's schema is newer than this
 * code, ATTEST_ERR_STORE_READ_ONLY when migrations are due but the file
 * cannot be written, ATTEST_ERR_IO when the file cannot be created.
 */
ATTEST_MUST_USE attest_err attestd_store_open_sqlite(const char *path,
                                                     const attestd_sqlite_options *options,
                                                     attestd_store **out_store,
                                                     attest_diag *diag);

/* Closes store and frees it; NULL is ignored. No other call may be running. */
void attestd_store_close(attestd_store *store);

/* Returns the backend name, such as "sqlite". */
const char *attestd_store_backend(const attestd_store *store);

/* Returns whether name is 1 to 64 bytes of [a-z0-9._-]. */
bool attestd_store_name_valid(const char *name);

/* Applications. Errors: ATTEST_ERR_ALREADY_EXISTS, ATTEST_ERR_NOT_FOUND. */
ATTEST_MUST_USE attest_err attestd_store_application_create(attestd_store *store,
                                                            const char *name, int64_t now,
                                                            int64_t *out_id, attest_diag *diag);
ATTEST_MUST_USE attest_err attestd_store_application_get(attestd_store *store, const char *name,
                                                         attestd_application *out_application,
                                                         attest_diag *diag);
/* Lists all applications by name. Free with attestd_application_list_free. */
ATTEST_MUST_USE attest_err attestd_store_application_list(attestd_store *store,
                                                          attestd_application_list *out_list,
                                                          attest_diag *diag);
/* Deletes the application and all its policies; its audit records stay. */
ATTEST_MUST_USE attest_err attestd_store_application_delete(attestd_store *store,
                                                            const char *name,
                                                            attest_diag *diag);
void attestd_application_list_free(attestd_application_list *list);

/*
 * Stores document (1 byte to ATTESTD_POLICY_MAX_SIZE, any bytes) as the next
 * version of the application's policy and returns that version in
 * *out_version. A new version is not active until attestd_store_policy_activate.
 * Errors: ATTEST_ERR_NOT_FOUND (application), ATTEST_ERR_LIMIT.
 */
ATTEST_MUST_USE attest_err attestd_store_policy_put(attestd_store *store,
                                                    const char *application,
                                                    const uint8_t *document,
                                                    size_t document_size, int64_t now,
                                                    int64_t *out_version, attest_diag *diag);
/* Reads one version (1, 2, ...). Free with attestd_policy_free. */
ATTEST_MUST_USE attest_err attestd_store_policy_get(attestd_store *store,
                                                    const char *application, int64_t version,
                                                    attestd_policy *out_policy,
                                                    attest_diag *diag);
/* Reads the active version; ATTEST_ERR_NOT_FOUND when none is active. */
ATTEST_MUST_USE attest_err attestd_store_policy_get_active(attestd_store *store,
                                                           const char *application,
                                                           attestd_policy *out_policy,
                                                           attest_diag *diag);
/* Lists the versions without documents. Free with attestd_policy_version_list_free. */
ATTEST_MUST_USE attest_err attestd_store_policy_list(attestd_store *store,
                                                     const char *application,
                                                     attestd_policy_version_list *out_list,
                                                     attest_diag *diag);
/*
 * Makes version the only active one. Errors: ATTEST_ERR_NOT_FOUND for an
 * unknown application or version, which leaves the active version unchanged.
 */
ATTEST_MUST_USE attest_err attestd_store_policy_activate(attestd_store *store,
                                                         const char *application,
                                                         int64_t version, attest_diag *diag);
void attestd_policy_free(attestd_policy *policy);
void attestd_policy_version_list_free(attestd_policy_version_list *list);

/*
 * Stores a new API key under name with role. key is the secret that the
 * caller generated and hands to the user once; only its SHA-256 is stored.
 * Errors: ATTEST_ERR_ALREADY_EXISTS for a taken name or an identical key.
 */
ATTEST_MUST_USE attest_err attestd_store_api_key_create(attestd_store *store, const char *name,
                                                        attestd_role role, const char *key,
                                                        int64_t now, int64_t *out_id,
                                                        attest_diag *diag);
/*
 * Creates the first administrator key and marks the store initialized, in
 * one transaction. Errors: ATTEST_ERR_STORE_INITIALIZED when it already is.
 */
ATTEST_MUST_USE attest_err attestd_store_initialize(attestd_store *store, const char *name,
                                                    const char *key, int64_t now,
                                                    int64_t *out_id, attest_diag *diag);
/* Reports whether attestd_store_initialize has succeeded on this store. */
ATTEST_MUST_USE attest_err attestd_store_is_initialized(attestd_store *store,
                                                        bool *out_initialized,
                                                        attest_diag *diag);
/*
 * Finds the key whose stored SHA-256 equals SHA-256(presented_key), comparing
 * hashes in constant time. Errors: ATTEST_ERR_API_KEY_UNKNOWN,
 * ATTEST_ERR_API_KEY_REVOKED. A caller responding to a client should treat
 * both alike.
 */
ATTEST_MUST_USE attest_err attestd_store_api_key_lookup(attestd_store *store,
                                                        const char *presented_key,
                                                        attestd_api_key *out_key,
                                                        attest_diag *diag);
/* Lists all keys, revoked ones included, by name. No secret is returned. */
ATTEST_MUST_USE attest_err attestd_store_api_key_list(attestd_store *store,
                                                      attestd_api_key_list *out_list,
                                                      attest_diag *diag);
/* Revokes the key; revoking it again keeps the first time. ATTEST_ERR_NOT_FOUND. */
ATTEST_MUST_USE attest_err attestd_store_api_key_revoke(attestd_store *store, const char *name,
                                                        int64_t now, attest_diag *diag);
void attestd_api_key_list_free(attestd_api_key_list *list);

/*
 * Application-scoped keys and policy ids serve the compatibility APIs whose
 * clients name the application and the policy in the request body (the
 * BigDL PPML API, docs/api-bigdl.md). A scoped key authorizes requests for
 * its one application and never a /v1 endpoint.
 */

/*
 * Creates application name with its scoped key in one transaction. key is the
 * secret that the caller generated and hands out once; only its SHA-256 is
 * stored. Errors: ATTEST_ERR_ALREADY_EXISTS for a taken name or an identical key.
 */
ATTEST_MUST_USE attest_err attestd_store_application_enroll(attestd_store *store,
                                                            const char *name, const char *key,
                                                            int64_t now, int64_t *out_id,
                                                            attest_diag *diag);
/*
 * Compares SHA-256(presented_key) with the scoped key of application in
 * constant time. Errors: ATTEST_ERR_API_KEY_UNKNOWN when the application does
 * not exist, has no scoped key or has another one. A caller responding to a
 * client should not tell these apart.
 */
ATTEST_MUST_USE attest_err attestd_store_application_key_check(attestd_store *store,
                                                               const char *application,
                                                               const char *presented_key,
                                                               attest_diag *diag);
/*
 * Names policy version `version` of application with policy_id (1 to 64
 * bytes of [a-z0-9._-]). Errors: ATTEST_ERR_NOT_FOUND for an unknown
 * application or version, ATTEST_ERR_ALREADY_EXISTS for a taken policy_id.
 * Deleting the application deletes its policy ids.
 */
ATTEST_MUST_USE attest_err attestd_store_policy_id_create(attestd_store *store,
                                                          const char *policy_id,
                                                          const char *application,
                                                          int64_t version, int64_t now,
                                                          attest_diag *diag);
/* Finds the application and version that policy_id names. Errors: ATTEST_ERR_NOT_FOUND. */
ATTEST_MUST_USE attest_err attestd_store_policy_id_get(attestd_store *store,
                                                       const char *policy_id,
                                                       char out_application[ATTESTD_NAME_MAX_SIZE +
                                                                            1],
                                                       int64_t *out_version, attest_diag *diag);

/* Deletes nonces with expires_at <= now; out_count (may be NULL) gets how many. */
ATTEST_MUST_USE attest_err attestd_store_nonce_purge(attestd_store *store, int64_t now,
                                                     uint64_t *out_count, attest_diag *diag);

/*
 * Appends one audit record. A caller must not issue a token unless this
 * returns ATTEST_OK. Errors: ATTEST_ERR_ARGUMENT for a text field without a
 * NUL or a verdict other than accepted or rejected.
 */
ATTEST_MUST_USE attest_err attestd_store_audit_insert(attestd_store *store,
                                                      const attestd_audit_record *record,
                                                      int64_t *out_id, attest_diag *diag);
/*
 * Records nonce as consumed until nonce_expires_at and appends record, in
 * one transaction: both are stored or neither. ATTEST_ERR_NONCE_REPLAYED
 * when the nonce was consumed before, and ATTEST_ERR_NONCE_EXPIRED when
 * nonce_expires_at <= now, so a nonce purged after expiry cannot be
 * replayed; nothing is stored then.
 */
ATTEST_MUST_USE attest_err attestd_store_audit_insert_consuming(
    attestd_store *store, const attestd_audit_record *record,
    const uint8_t nonce[ATTESTD_NONCE_SIZE], int64_t nonce_expires_at, int64_t now,
    int64_t *out_id, attest_diag *diag);
/* Lists matching records, newest first (time, then id). Free with attestd_audit_list_free. */
ATTEST_MUST_USE attest_err attestd_store_audit_list(attestd_store *store,
                                                    const attestd_audit_filter *filter,
                                                    attestd_audit_list *out_list,
                                                    attest_diag *diag);
void attestd_audit_list_free(attestd_audit_list *list);

/*
 * Stores or replaces the verified collateral blob under key until next_update.
 * Only verified collateral belongs here: a reader trusts it without a check.
 */
ATTEST_MUST_USE attest_err attestd_store_collateral_put(attestd_store *store, const char *key,
                                                        const uint8_t *blob, size_t blob_size,
                                                        int64_t next_update, attest_diag *diag);
/*
 * Reads the blob under key into a new buffer the caller frees. An entry with
 * next_update <= now counts as absent: ATTEST_ERR_NOT_FOUND.
 */
ATTEST_MUST_USE attest_err attestd_store_collateral_get(attestd_store *store, const char *key,
                                                        int64_t now, uint8_t **out_blob,
                                                        size_t *out_blob_size,
                                                        int64_t *out_next_update,
                                                        attest_diag *diag);
/* Deletes entries with next_update <= now; out_count (may be NULL) gets how many. */
ATTEST_MUST_USE attest_err attestd_store_collateral_purge(attestd_store *store, int64_t now,
                                                          uint64_t *out_count,
                                                          attest_diag *diag);

/*
 * Stores a token signing key. The private key is kept in the database file
 * in clear, so that file's mode must stay 0600. Errors: ATTEST_ERR_ALREADY_EXISTS.
 */
ATTEST_MUST_USE attest_err attestd_store_signing_key_put(attestd_store *store, const char *kid,
                                                         const char *algorithm,
                                                         const char *private_key_pem,
                                                         int64_t now, attest_diag *diag);
/* Lists all signing keys, retired ones included. Free with attestd_signing_key_list_free. */
ATTEST_MUST_USE attest_err attestd_store_signing_key_list(attestd_store *store,
                                                          attestd_signing_key_list *out_list,
                                                          attest_diag *diag);
/* Marks the key retired; retiring it again keeps the first time. ATTEST_ERR_NOT_FOUND. */
ATTEST_MUST_USE attest_err attestd_store_signing_key_retire(attestd_store *store,
                                                            const char *kid, int64_t now,
                                                            attest_diag *diag);
/* Wipes each private key and frees the list. */
void attestd_signing_key_list_free(attestd_signing_key_list *list);

#endif
