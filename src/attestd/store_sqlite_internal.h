/*
 * Shared parts of the SQLite store backend: the connection pool, error
 * mapping and statement helpers. Only store_sqlite*.c include this.
 */
#ifndef ATTESTD_STORE_SQLITE_INTERNAL_H
#define ATTESTD_STORE_SQLITE_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sqlite3.h>

#include "store.h"

/*
 * A pool of connections to one database file. A thread takes a free
 * connection for the length of one store call and gives it back, so no
 * connection is ever used by two threads at once.
 */
/* Statements kept prepared on one pooled connection, found by their SQL text. */
#define STORE_SQLITE_STATEMENT_CACHE_SIZE 16

typedef struct store_sqlite_cached_statement {
    const char *sql;
    sqlite3_stmt *stmt;
    bool in_use;
} store_sqlite_cached_statement;

typedef struct store_sqlite_statement_cache {
    store_sqlite_cached_statement entries[STORE_SQLITE_STATEMENT_CACHE_SIZE];
} store_sqlite_statement_cache;

typedef struct store_sqlite {
    attestd_store base; /* first member: the store functions cast between them */
    pthread_mutex_t mutex;
    pthread_cond_t connection_freed;
    sqlite3 **connections;
    bool *in_use;
    store_sqlite_statement_cache *statement_caches; /* one per connection */
    /*
     * Held around the hot writes (nonce, audit record): SQLite takes one
     * writer at a time, and its busy handler would sleep a millisecond or
     * more, so this process's writers queue here and wake at once instead.
     */
    pthread_mutex_t write_mutex;
    size_t connection_count;

    /*
     * The WAL checkpointer: commits only signal it, so no request waits for
     * a checkpoint's writes and fsync. It has a connection of its own.
     */
    sqlite3 *checkpoint_db;
    pthread_t checkpointer;
    bool checkpointer_started;
    pthread_mutex_t checkpoint_mutex;
    pthread_cond_t checkpoint_requested_cond;
    bool checkpoint_requested;
    bool stopping;
} store_sqlite;

/* Takes a free connection, waiting for one if all are in use. */
sqlite3 *store_sqlite_acquire(store_sqlite *store, size_t *out_slot);

void store_sqlite_release(store_sqlite *store, size_t slot);

/*
 * Maps an SQLite result code to an attest_err and writes a diag of the form
 * "store: <action> failed: <SQLite message>". Unique and primary key
 * violations become ATTEST_ERR_ALREADY_EXISTS, read-only failures
 * ATTEST_ERR_STORE_READ_ONLY and lock timeouts ATTEST_ERR_STORE_BUSY.
 */
attest_err store_sqlite_error(sqlite3 *db, int rc, attest_diag *diag, const char *format, ...)
    ATTEST_PRINTF(4, 5);

ATTEST_MUST_USE attest_err store_sqlite_prepare(sqlite3 *db, const char *sql,
                                                sqlite3_stmt **out_stmt, attest_diag *diag);

/*
 * Prepares sql on the pooled connection of slot, or resets the statement
 * prepared there before for the same text, which must be a string literal.
 * Hand the statement back with store_sqlite_cached_done, never with
 * sqlite3_finalize.
 */
ATTEST_MUST_USE attest_err store_sqlite_prepare_cached(store_sqlite *store, size_t slot,
                                                       const char *sql, sqlite3_stmt **out_stmt,
                                                       attest_diag *diag);

/* Resets a statement of store_sqlite_prepare_cached for its next use. NULL is ignored. */
void store_sqlite_cached_done(store_sqlite *store, size_t slot, sqlite3_stmt *stmt);

/* Runs a fixed SQL text that takes no values, such as "BEGIN IMMEDIATE". */
ATTEST_MUST_USE attest_err store_sqlite_exec(sqlite3 *db, const char *sql, attest_diag *diag);

/* Rolls back the open transaction, if any; used only on error paths. */
void store_sqlite_rollback(sqlite3 *db);

/*
 * Bind helpers: each does nothing when *rc is already an error, so a run of
 * binds is checked once at the end. Text and blobs are bound SQLITE_STATIC,
 * so they must outlive the statement's steps.
 */
void store_sqlite_bind_text(sqlite3_stmt *stmt, int index, const char *text, int *rc);
void store_sqlite_bind_blob(sqlite3_stmt *stmt, int index, const void *data, size_t size,
                            int *rc);
void store_sqlite_bind_int64(sqlite3_stmt *stmt, int index, int64_t value, int *rc);
void store_sqlite_bind_null(sqlite3_stmt *stmt, int index, int *rc);

/*
 * Copies text column column into a char array of size bytes. Returns false
 * when the value is longer than size - 1 bytes, which the schema's CHECK
 * constraints rule out for rows written by this code.
 */
bool store_sqlite_column_text(sqlite3_stmt *stmt, int column, char *out, size_t size);

/* Grows *items (of item_size bytes each) so that one more fits. */
ATTEST_MUST_USE attest_err store_sqlite_grow(void **items, size_t *capacity, size_t count,
                                             size_t item_size, attest_diag *diag);

/* Finds the id of application name. Errors: ATTEST_ERR_NOT_FOUND. */
ATTEST_MUST_USE attest_err store_sqlite_application_id(sqlite3 *db, const char *name,
                                                       int64_t *out_id, attest_diag *diag);

/* Operations of store_sqlite_admin.c: applications, policies, API keys. */
attest_err store_sqlite_application_create(attestd_store *base, const char *name, int64_t now,
                                           int64_t *out_id, attest_diag *diag);
attest_err store_sqlite_application_get(attestd_store *base, const char *name,
                                        attestd_application *out_application,
                                        attest_diag *diag);
attest_err store_sqlite_application_list(attestd_store *base,
                                         attestd_application_list *out_list, attest_diag *diag);
attest_err store_sqlite_application_delete(attestd_store *base, const char *name,
                                           attest_diag *diag);
attest_err store_sqlite_policy_put(attestd_store *base, const char *application,
                                   const uint8_t *document, size_t document_size,
                                   const uint8_t sha256[ATTESTD_SHA256_SIZE], int64_t now,
                                   int64_t *out_version, attest_diag *diag);
attest_err store_sqlite_policy_get(attestd_store *base, const char *application,
                                   int64_t version, attestd_policy *out_policy,
                                   attest_diag *diag);
attest_err store_sqlite_policy_list(attestd_store *base, const char *application,
                                    attestd_policy_version_list *out_list, attest_diag *diag);
attest_err store_sqlite_policy_activate(attestd_store *base, const char *application,
                                        int64_t version, attest_diag *diag);
attest_err store_sqlite_api_key_create(attestd_store *base, const char *name, attestd_role role,
                                       const uint8_t key_sha256[ATTESTD_SHA256_SIZE],
                                       int64_t now, bool first_administrator, int64_t *out_id,
                                       attest_diag *diag);
attest_err store_sqlite_api_key_lookup(attestd_store *base,
                                       const uint8_t key_sha256[ATTESTD_SHA256_SIZE],
                                       attestd_api_key *out_key, attest_diag *diag);
attest_err store_sqlite_api_key_list(attestd_store *base, attestd_api_key_list *out_list,
                                     attest_diag *diag);
attest_err store_sqlite_api_key_revoke(attestd_store *base, const char *name, int64_t now,
                                       attest_diag *diag);
attest_err store_sqlite_is_initialized(attestd_store *base, bool *out_initialized,
                                       attest_diag *diag);

/* Operations of store_sqlite_scoped.c: application-scoped keys and policy ids. */
attest_err store_sqlite_application_enroll(attestd_store *base, const char *name,
                                           const uint8_t key_sha256[ATTESTD_SHA256_SIZE],
                                           int64_t now, int64_t *out_id, attest_diag *diag);
attest_err store_sqlite_application_key_get(attestd_store *base, const char *application,
                                            uint8_t out_key_sha256[ATTESTD_SHA256_SIZE],
                                            attest_diag *diag);
attest_err store_sqlite_policy_id_create(attestd_store *base, const char *policy_id,
                                         const char *application, int64_t version, int64_t now,
                                         attest_diag *diag);
attest_err store_sqlite_policy_id_get(attestd_store *base, const char *policy_id,
                                      char out_application[ATTESTD_NAME_MAX_SIZE + 1],
                                      int64_t *out_version, attest_diag *diag);

/* Operations of store_sqlite_service.c: nonces, audit, collateral, signing keys. */
attest_err store_sqlite_nonce_purge(attestd_store *base, int64_t now, uint64_t *out_count,
                                    attest_diag *diag);
attest_err store_sqlite_audit_insert(attestd_store *base, const attestd_audit_record *record,
                                     int64_t *out_id, attest_diag *diag);
attest_err store_sqlite_audit_insert_consuming(attestd_store *base,
                                               const attestd_audit_record *record,
                                               const uint8_t nonce[ATTESTD_NONCE_SIZE],
                                               int64_t nonce_expires_at, int64_t *out_id,
                                               attest_diag *diag);
attest_err store_sqlite_audit_list(attestd_store *base, const attestd_audit_filter *filter,
                                   attestd_audit_list *out_list, attest_diag *diag);
attest_err store_sqlite_collateral_put(attestd_store *base, const char *key,
                                       const uint8_t *blob, size_t blob_size,
                                       int64_t next_update, attest_diag *diag);
attest_err store_sqlite_collateral_get(attestd_store *base, const char *key, int64_t now,
                                       uint8_t **out_blob, size_t *out_blob_size,
                                       int64_t *out_next_update, attest_diag *diag);
attest_err store_sqlite_collateral_purge(attestd_store *base, int64_t now,
                                         uint64_t *out_count, attest_diag *diag);
attest_err store_sqlite_signing_key_put(attestd_store *base, const char *kid,
                                        const char *algorithm, const char *private_key_pem,
                                        int64_t now, attest_diag *diag);
attest_err store_sqlite_signing_key_list(attestd_store *base,
                                         attestd_signing_key_list *out_list, attest_diag *diag);
attest_err store_sqlite_signing_key_retire(attestd_store *base, const char *kid, int64_t now,
                                           attest_diag *diag);

#endif
