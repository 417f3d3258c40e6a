/*
 * SQLite backend: consumed nonces, audit records, the collateral cache and
 * token signing keys, the records that attestation requests touch. Inputs
 * arrive checked by store.c.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "store_sqlite_internal.h"
#include "util/hex.h"

/* Runs a DELETE bound to one integer and returns how many rows it removed. */
static attest_err purge(store_sqlite *store, const char *sql, const char *what, int64_t now,
                        uint64_t *out_count, attest_diag *diag)
{
    size_t slot;
    sqlite3 *db = store_sqlite_acquire(store, &slot);
    sqlite3_stmt *stmt = NULL;

    attest_err err = store_sqlite_prepare(db, sql, &stmt, diag);
    if (err != ATTEST_OK) {
        goto out;
    }
    int rc = SQLITE_OK;
    store_sqlite_bind_int64(stmt, 1, now, &rc);
    if (rc == SQLITE_OK) {
        rc = sqlite3_step(stmt);
    }
    if (rc != SQLITE_DONE) {
        err = store_sqlite_error(db, rc, diag, "purging %s expired at %lld", what,
                                 (long long)now);
        goto out;
    }
    if (out_count != NULL) {
        *out_count = (uint64_t)sqlite3_changes(db);
    }

out:
    sqlite3_finalize(stmt);
    store_sqlite_release(store, slot);
    return err;
}

/* Nonces */

/*
 * Inserts the row of a consumed nonce on the connection of slot; the caller
 * holds the write mutex. The primary key makes the insert itself the atomic
 * test-and-set.
 */
static attest_err nonce_row_insert(store_sqlite *store, size_t slot,
                                   const uint8_t nonce[ATTESTD_NONCE_SIZE], int64_t expires_at,
                                   attest_diag *diag)
{
    sqlite3_stmt *stmt = NULL;
    attest_err err = store_sqlite_prepare_cached(
        store, slot, "INSERT INTO nonces (nonce, expires_at) VALUES (?1, ?2)", &stmt, diag);
    if (err != ATTEST_OK) {
        return err;
    }
    int rc = SQLITE_OK;
    store_sqlite_bind_blob(stmt, 1, nonce, ATTESTD_NONCE_SIZE, &rc);
    store_sqlite_bind_int64(stmt, 2, expires_at, &rc);
    if (rc == SQLITE_OK) {
        rc = sqlite3_step(stmt);
    }
    if (rc == SQLITE_CONSTRAINT_PRIMARYKEY) {
        char prefix[17];
        attest_hex_encode(nonce, 8, prefix);
        err = attest_diag_set(diag, ATTEST_ERR_NONCE_REPLAYED,
                              "store: nonce %s... was already consumed", prefix);
    } else if (rc != SQLITE_DONE) {
        err = store_sqlite_error(store->connections[slot], rc, diag, "consuming a nonce");
    }
    store_sqlite_cached_done(store, slot, stmt);
    return err;
}

attest_err store_sqlite_nonce_purge(attestd_store *base, int64_t now, uint64_t *out_count,
                                    attest_diag *diag)
{
    return purge((store_sqlite *)base, "DELETE FROM nonces WHERE expires_at <= ?1", "nonces",
                 now, out_count, diag);
}

/* Audit records */

static const char *verdict_text(attestd_verdict verdict)
{
    return verdict == ATTESTD_VERDICT_ACCEPTED ? "accepted" : "rejected";
}

/* Inserts an audit row on the connection of slot; the caller holds the write mutex. */
static attest_err audit_row_insert(store_sqlite *store, size_t slot,
                                   const attestd_audit_record *record, int64_t *out_id,
                                   attest_diag *diag)
{
    sqlite3 *db = store->connections[slot];
    sqlite3_stmt *stmt = NULL;
    attest_err err = store_sqlite_prepare_cached(
        store, slot,
        "INSERT INTO audit (time, application, evidence_type, evidence_sha256, verdict, "
        "failing_check, policy_version, token_id, client_address, request_id) "
        "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
        &stmt, diag);
    if (err != ATTEST_OK) {
        return err;
    }
    int rc = SQLITE_OK;
    store_sqlite_bind_int64(stmt, 1, record->time, &rc);
    store_sqlite_bind_text(stmt, 2, record->application, &rc);
    store_sqlite_bind_text(stmt, 3, record->evidence_type, &rc);
    store_sqlite_bind_blob(stmt, 4, record->evidence_sha256, ATTESTD_SHA256_SIZE, &rc);
    store_sqlite_bind_text(stmt, 5, verdict_text(record->verdict), &rc);
    store_sqlite_bind_text(stmt, 6, record->failing_check, &rc);
    store_sqlite_bind_int64(stmt, 7, record->policy_version, &rc);
    store_sqlite_bind_text(stmt, 8, record->token_id, &rc);
    store_sqlite_bind_text(stmt, 9, record->client_address, &rc);
    store_sqlite_bind_text(stmt, 10, record->request_id, &rc);
    if (rc == SQLITE_OK) {
        rc = sqlite3_step(stmt);
    }
    if (rc != SQLITE_DONE) {
        err = store_sqlite_error(db, rc, diag, "inserting the audit record of request '%s'",
                                 record->request_id);
    } else if (out_id != NULL) {
        *out_id = sqlite3_last_insert_rowid(db);
    }
    store_sqlite_cached_done(store, slot, stmt);
    return err;
}

attest_err store_sqlite_audit_insert(attestd_store *base, const attestd_audit_record *record,
                                     int64_t *out_id, attest_diag *diag)
{
    store_sqlite *store = (store_sqlite *)base;
    size_t slot;
    (void)store_sqlite_acquire(store, &slot);
    pthread_mutex_lock(&store->write_mutex);
    attest_err err = audit_row_insert(store, slot, record, out_id, diag);
    pthread_mutex_unlock(&store->write_mutex);
    store_sqlite_release(store, slot);
    return err;
}

/* Steps a cached statement that takes no values, such as "COMMIT", on slot. */
static attest_err step_cached(store_sqlite *store, size_t slot, const char *sql,
                              attest_diag *diag)
{
    sqlite3_stmt *stmt = NULL;
    attest_err err = store_sqlite_prepare_cached(store, slot, sql, &stmt, diag);
    if (err != ATTEST_OK) {
        return err;
    }
    int rc = sqlite3_step(stmt);
    if (rc != SQLITE_DONE) {
        err = store_sqlite_error(store->connections[slot], rc, diag, "running %s", sql);
    }
    store_sqlite_cached_done(store, slot, stmt);
    return err;
}

attest_err store_sqlite_audit_insert_consuming(attestd_store *base,
                                               const attestd_audit_record *record,
                                               const uint8_t nonce[ATTESTD_NONCE_SIZE],
                                               int64_t nonce_expires_at, int64_t *out_id,
                                               attest_diag *diag)
{
    store_sqlite *store = (store_sqlite *)base;
    size_t slot;
    (void)store_sqlite_acquire(store, &slot);
    pthread_mutex_lock(&store->write_mutex);
    attest_err err = step_cached(store, slot, "BEGIN IMMEDIATE", diag);
    if (err == ATTEST_OK) {
        err = nonce_row_insert(store, slot, nonce, nonce_expires_at, diag);
        if (err == ATTEST_OK) {
            err = audit_row_insert(store, slot, record, out_id, diag);
        }
        if (err == ATTEST_OK) {
            err = step_cached(store, slot, "COMMIT", diag);
        }
        if (err != ATTEST_OK && !sqlite3_get_autocommit(store->connections[slot])) {
            /* diag keeps the first failure, so the rollback's own diagnostic is dropped. */
            attest_diag ignored = {{0}};
            (void)step_cached(store, slot, "ROLLBACK", &ignored);
        }
    }
    pthread_mutex_unlock(&store->write_mutex);
    store_sqlite_release(store, slot);
    return err;
}

/* Fills out_record from the columns of the audit SELECT below. */
static bool read_audit_record(sqlite3_stmt *stmt, attestd_audit_record *out_record)
{
    attestd_audit_record record;
    memset(&record, 0, sizeof(record));
    record.id = sqlite3_column_int64(stmt, 0);
    record.time = sqlite3_column_int64(stmt, 1);

    const void *digest = sqlite3_column_blob(stmt, 4);
    if (digest == NULL || sqlite3_column_bytes(stmt, 4) != ATTESTD_SHA256_SIZE) {
        return false;
    }
    memcpy(record.evidence_sha256, digest, ATTESTD_SHA256_SIZE);

    const char *verdict = (const char *)sqlite3_column_text(stmt, 5);
    if (verdict == NULL) {
        return false;
    }
    if (strcmp(verdict, "accepted") == 0) {
        record.verdict = ATTESTD_VERDICT_ACCEPTED;
    } else if (strcmp(verdict, "rejected") == 0) {
        record.verdict = ATTESTD_VERDICT_REJECTED;
    } else {
        return false;
    }
    record.policy_version = sqlite3_column_int64(stmt, 7);

    bool ok = store_sqlite_column_text(stmt, 2, record.application, sizeof(record.application)) &&
              store_sqlite_column_text(stmt, 3, record.evidence_type,
                                       sizeof(record.evidence_type)) &&
              store_sqlite_column_text(stmt, 6, record.failing_check,
                                       sizeof(record.failing_check)) &&
              store_sqlite_column_text(stmt, 8, record.token_id, sizeof(record.token_id)) &&
              store_sqlite_column_text(stmt, 9, record.client_address,
                                       sizeof(record.client_address)) &&
              store_sqlite_column_text(stmt, 10, record.request_id, sizeof(record.request_id));
    if (!ok) {
        return false;
    }
    *out_record = record;
    return true;
}

attest_err store_sqlite_audit_list(attestd_store *base, const attestd_audit_filter *filter,
                                   attestd_audit_list *out_list, attest_diag *diag)
{
    store_sqlite *store = (store_sqlite *)base;
    size_t slot;
    sqlite3 *db = store_sqlite_acquire(store, &slot);
    sqlite3_stmt *stmt = NULL;
    attestd_audit_list list = {0};
    size_t capacity = 0;

    /* An unset filter is bound as NULL, so one fixed SQL text serves every
     * combination of filters. */
    attest_err err = store_sqlite_prepare(
        db,
        "SELECT id, time, application, evidence_type, evidence_sha256, verdict, failing_check, "
        "policy_version, token_id, client_address, request_id FROM audit "
        "WHERE (?1 IS NULL OR application = ?1) AND (?2 IS NULL OR verdict = ?2) "
        "AND (?3 IS NULL OR time >= ?3) AND (?4 IS NULL OR time < ?4) "
        "ORDER BY time DESC, id DESC LIMIT ?5 OFFSET ?6",
        &stmt, diag);
    if (err != ATTEST_OK) {
        goto out;
    }
    int rc = SQLITE_OK;
    if (filter->application != NULL) {
        store_sqlite_bind_text(stmt, 1, filter->application, &rc);
    } else {
        store_sqlite_bind_null(stmt, 1, &rc);
    }
    if (filter->verdict != ATTESTD_VERDICT_ANY) {
        store_sqlite_bind_text(stmt, 2, verdict_text(filter->verdict), &rc);
    } else {
        store_sqlite_bind_null(stmt, 2, &rc);
    }
    if (filter->has_time_from) {
        store_sqlite_bind_int64(stmt, 3, filter->time_from, &rc);
    } else {
        store_sqlite_bind_null(stmt, 3, &rc);
    }
    if (filter->has_time_to) {
        store_sqlite_bind_int64(stmt, 4, filter->time_to, &rc);
    } else {
        store_sqlite_bind_null(stmt, 4, &rc);
    }
    store_sqlite_bind_int64(stmt, 5, (int64_t)filter->limit, &rc);
    store_sqlite_bind_int64(stmt, 6, (int64_t)filter->offset, &rc);
    if (rc != SQLITE_OK) {
        err = store_sqlite_error(db, rc, diag, "binding the audit filter");
        goto out;
    }

    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        err = store_sqlite_grow((void **)&list.items, &capacity, list.count,
                                sizeof(*list.items), diag);
        if (err != ATTEST_OK) {
            goto out;
        }
        if (!read_audit_record(stmt, &list.items[list.count])) {
            err = attest_diag_set(diag, ATTEST_ERR_STORE,
                                  "store: stored audit record id %lld is malformed",
                                  (long long)sqlite3_column_int64(stmt, 0));
            goto out;
        }
        list.count++;
    }
    if (rc != SQLITE_DONE) {
        err = store_sqlite_error(db, rc, diag, "listing audit records");
        goto out;
    }
    *out_list = list;
    list.items = NULL;

out:
    free(list.items);
    sqlite3_finalize(stmt);
    store_sqlite_release(store, slot);
    return err;
}

/* Collateral cache */

attest_err store_sqlite_collateral_put(attestd_store *base, const char *key,
                                       const uint8_t *blob, size_t blob_size,
                                       int64_t next_update, attest_diag *diag)
{
    store_sqlite *store = (store_sqlite *)base;
    size_t slot;
    sqlite3 *db = store_sqlite_acquire(store, &slot);
    sqlite3_stmt *stmt = NULL;

    attest_err err = store_sqlite_prepare(
        db,
        "INSERT INTO collateral (key, blob, next_update) VALUES (?1, ?2, ?3) "
        "ON CONFLICT (key) DO UPDATE SET blob = excluded.blob, "
        "next_update = excluded.next_update",
        &stmt, diag);
    if (err != ATTEST_OK) {
        goto out;
    }
    int rc = SQLITE_OK;
    store_sqlite_bind_text(stmt, 1, key, &rc);
    store_sqlite_bind_blob(stmt, 2, blob, blob_size, &rc);
    store_sqlite_bind_int64(stmt, 3, next_update, &rc);
    if (rc == SQLITE_OK) {
        rc = sqlite3_step(stmt);
    }
    if (rc != SQLITE_DONE) {
        err = store_sqlite_error(db, rc, diag, "storing collateral '%s'", key);
    }

out:
    sqlite3_finalize(stmt);
    store_sqlite_release(store, slot);
    return err;
}

attest_err store_sqlite_collateral_get(attestd_store *base, const char *key, int64_t now,
                                       uint8_t **out_blob, size_t *out_blob_size,
                                       int64_t *out_next_update, attest_diag *diag)
{
    store_sqlite *store = (store_sqlite *)base;
    size_t slot;
    sqlite3 *db = store_sqlite_acquire(store, &slot);
    sqlite3_stmt *stmt = NULL;

    attest_err err = store_sqlite_prepare(
        db, "SELECT blob, next_update FROM collateral WHERE key = ?1 AND next_update > ?2",
        &stmt, diag);
    if (err != ATTEST_OK) {
        goto out;
    }
    int rc = SQLITE_OK;
    store_sqlite_bind_text(stmt, 1, key, &rc);
    store_sqlite_bind_int64(stmt, 2, now, &rc);
    if (rc == SQLITE_OK) {
        rc = sqlite3_step(stmt);
    }
    if (rc == SQLITE_DONE) {
        err = attest_diag_set(diag, ATTEST_ERR_NOT_FOUND,
                              "store: no collateral '%s' with nextUpdate after %lld", key,
                              (long long)now);
        goto out;
    }
    if (rc != SQLITE_ROW) {
        err = store_sqlite_error(db, rc, diag, "reading collateral '%s'", key);
        goto out;
    }

    const void *stored = sqlite3_column_blob(stmt, 0);
    int stored_size = sqlite3_column_bytes(stmt, 0);
    if (stored == NULL || stored_size <= 0) {
        err = attest_diag_set(diag, ATTEST_ERR_STORE, "store: stored collateral '%s' is empty",
                              key);
        goto out;
    }
    uint8_t *blob = malloc((size_t)stored_size);
    if (blob == NULL) {
        err = attest_diag_set(diag, ATTEST_ERR_NOMEM,
                              "store: allocating %d bytes for collateral '%s' failed",
                              stored_size, key);
        goto out;
    }
    memcpy(blob, stored, (size_t)stored_size);
    *out_blob = blob;
    *out_blob_size = (size_t)stored_size;
    if (out_next_update != NULL) {
        *out_next_update = sqlite3_column_int64(stmt, 1);
    }

out:
    sqlite3_finalize(stmt);
    store_sqlite_release(store, slot);
    return err;
}

attest_err store_sqlite_collateral_purge(attestd_store *base, int64_t now,
                                         uint64_t *out_count, attest_diag *diag)
{
    return purge((store_sqlite *)base, "DELETE FROM collateral WHERE next_update <= ?1",
                 "collateral", now, out_count, diag);
}

/* Signing keys */

attest_err store_sqlite_signing_key_put(attestd_store *base, const char *kid,
                                        const char *algorithm, const char *private_key_pem,
                                        int64_t now, attest_diag *diag)
{
    store_sqlite *store = (store_sqlite *)base;
    size_t slot;
    sqlite3 *db = store_sqlite_acquire(store, &slot);
    sqlite3_stmt *stmt = NULL;

    attest_err err = store_sqlite_prepare(
        db,
        "INSERT INTO signing_keys (kid, algorithm, private_key_pem, created_at) "
        "VALUES (?1, ?2, ?3, ?4)",
        &stmt, diag);
    if (err != ATTEST_OK) {
        goto out;
    }
    int rc = SQLITE_OK;
    store_sqlite_bind_text(stmt, 1, kid, &rc);
    store_sqlite_bind_text(stmt, 2, algorithm, &rc);
    store_sqlite_bind_text(stmt, 3, private_key_pem, &rc);
    store_sqlite_bind_int64(stmt, 4, now, &rc);
    if (rc == SQLITE_OK) {
        rc = sqlite3_step(stmt);
    }
    if (rc != SQLITE_DONE) {
        err = store_sqlite_error(db, rc, diag, "storing signing key '%s'", kid);
    }

out:
    sqlite3_finalize(stmt);
    store_sqlite_release(store, slot);
    return err;
}

/* Fills out_key from columns kid, algorithm, created_at, retired_at, private_key_pem. */
static attest_err read_signing_key(sqlite3_stmt *stmt, attestd_signing_key *out_key,
                                   attest_diag *diag)
{
    attestd_signing_key key;
    memset(&key, 0, sizeof(key));
    if (!store_sqlite_column_text(stmt, 0, key.kid, sizeof(key.kid)) ||
        !store_sqlite_column_text(stmt, 1, key.algorithm, sizeof(key.algorithm))) {
        return attest_diag_set(diag, ATTEST_ERR_STORE,
                               "store: stored signing key has a malformed kid or algorithm");
    }
    key.created_at = sqlite3_column_int64(stmt, 2);
    key.retired_at = sqlite3_column_type(stmt, 3) == SQLITE_NULL ? 0
                                                                 : sqlite3_column_int64(stmt, 3);

    const unsigned char *pem = sqlite3_column_text(stmt, 4);
    int pem_size = sqlite3_column_bytes(stmt, 4);
    if (pem == NULL || pem_size <= 0 || pem_size > ATTESTD_PRIVATE_KEY_PEM_MAX_SIZE) {
        return attest_diag_set(diag, ATTEST_ERR_STORE,
                               "store: stored private key of signing key '%s' is malformed",
                               key.kid);
    }
    key.private_key_pem = malloc((size_t)pem_size + 1);
    if (key.private_key_pem == NULL) {
        return attest_diag_set(diag, ATTEST_ERR_NOMEM,
                               "store: allocating the private key of signing key '%s' failed",
                               key.kid);
    }
    memcpy(key.private_key_pem, pem, (size_t)pem_size);
    key.private_key_pem[pem_size] = '\0';
    *out_key = key;
    return ATTEST_OK;
}

attest_err store_sqlite_signing_key_list(attestd_store *base,
                                         attestd_signing_key_list *out_list, attest_diag *diag)
{
    store_sqlite *store = (store_sqlite *)base;
    size_t slot;
    sqlite3 *db = store_sqlite_acquire(store, &slot);
    sqlite3_stmt *stmt = NULL;
    attestd_signing_key_list list = {0};
    size_t capacity = 0;

    attest_err err = store_sqlite_prepare(
        db,
        "SELECT kid, algorithm, created_at, retired_at, private_key_pem FROM signing_keys "
        "ORDER BY created_at, kid",
        &stmt, diag);
    if (err != ATTEST_OK) {
        goto out;
    }
    int rc;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        err = store_sqlite_grow((void **)&list.items, &capacity, list.count,
                                sizeof(*list.items), diag);
        if (err != ATTEST_OK) {
            goto out;
        }
        err = read_signing_key(stmt, &list.items[list.count], diag);
        if (err != ATTEST_OK) {
            goto out;
        }
        list.count++;
    }
    if (rc != SQLITE_DONE) {
        err = store_sqlite_error(db, rc, diag, "listing signing keys");
        goto out;
    }
    *out_list = list;
    list = (attestd_signing_key_list){0};

out:
    /* Wipes the private keys read so far when the list is not handed out. */
    attestd_signing_key_list_free(&list);
    sqlite3_finalize(stmt);
    store_sqlite_release(store, slot);
    return err;
}

attest_err store_sqlite_signing_key_retire(attestd_store *base, const char *kid, int64_t now,
                                           attest_diag *diag)
{
    store_sqlite *store = (store_sqlite *)base;
    size_t slot;
    sqlite3 *db = store_sqlite_acquire(store, &slot);
    sqlite3_stmt *stmt = NULL;

    attest_err err = store_sqlite_prepare(
        db, "UPDATE signing_keys SET retired_at = COALESCE(retired_at, ?2) WHERE kid = ?1",
        &stmt, diag);
    if (err != ATTEST_OK) {
        goto out;
    }
    int rc = SQLITE_OK;
    store_sqlite_bind_text(stmt, 1, kid, &rc);
    store_sqlite_bind_int64(stmt, 2, now, &rc);
    if (rc == SQLITE_OK) {
        rc = sqlite3_step(stmt);
    }
    if (rc != SQLITE_DONE) {
        err = store_sqlite_error(db, rc, diag, "retiring signing key '%s'", kid);
        goto out;
    }
    if (sqlite3_changes(db) == 0) {
        err = attest_diag_set(diag, ATTEST_ERR_NOT_FOUND, "store: signing key '%s' not found",
                              kid);
    }

out:
    sqlite3_finalize(stmt);
    store_sqlite_release(store, slot);
    return err;
}
