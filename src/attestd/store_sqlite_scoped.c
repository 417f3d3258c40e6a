/*
 * SQLite backend: application-scoped API keys and policy ids, the records of
 * the compatibility APIs. Inputs arrive checked by store.c, which also
 * compares the keys.
 */
#include <string.h>

#include "store_sqlite_internal.h"

/* Runs one prepared INSERT to its end; on failure describes it with action. */
static attest_err step_insert(sqlite3 *db, sqlite3_stmt *stmt, int rc, const char *action,
                              const char *name, attest_diag *diag)
{
    if (rc == SQLITE_OK) {
        rc = sqlite3_step(stmt);
    }
    if (rc != SQLITE_DONE) {
        return store_sqlite_error(db, rc, diag, "%s '%s'", action, name);
    }
    return ATTEST_OK;
}

attest_err store_sqlite_application_enroll(attestd_store *base, const char *name,
                                           const uint8_t key_sha256[ATTESTD_SHA256_SIZE],
                                           int64_t now, int64_t *out_id, attest_diag *diag)
{
    store_sqlite *store = (store_sqlite *)base;
    size_t slot;
    sqlite3 *db = store_sqlite_acquire(store, &slot);
    sqlite3_stmt *stmt = NULL;

    /* The application and its key exist together or not at all. */
    attest_err err = store_sqlite_exec(db, "BEGIN IMMEDIATE", diag);
    if (err != ATTEST_OK) {
        goto out;
    }
    err = store_sqlite_prepare(db, "INSERT INTO applications (name, created_at) VALUES (?1, ?2)",
                               &stmt, diag);
    if (err != ATTEST_OK) {
        goto fail;
    }
    int rc = SQLITE_OK;
    store_sqlite_bind_text(stmt, 1, name, &rc);
    store_sqlite_bind_int64(stmt, 2, now, &rc);
    err = step_insert(db, stmt, rc, "creating application", name, diag);
    if (err != ATTEST_OK) {
        goto fail;
    }
    int64_t id = sqlite3_last_insert_rowid(db);
    sqlite3_finalize(stmt);
    stmt = NULL;

    err = store_sqlite_prepare(db,
                               "INSERT INTO application_keys (application_id, key_sha256, "
                               "created_at) VALUES (?1, ?2, ?3)",
                               &stmt, diag);
    if (err != ATTEST_OK) {
        goto fail;
    }
    rc = SQLITE_OK;
    store_sqlite_bind_int64(stmt, 1, id, &rc);
    store_sqlite_bind_blob(stmt, 2, key_sha256, ATTESTD_SHA256_SIZE, &rc);
    store_sqlite_bind_int64(stmt, 3, now, &rc);
    err = step_insert(db, stmt, rc, "storing the scoped key of application", name, diag);
    if (err != ATTEST_OK) {
        goto fail;
    }
    err = store_sqlite_exec(db, "COMMIT", diag);
    if (err != ATTEST_OK) {
        goto fail;
    }
    if (out_id != NULL) {
        *out_id = id;
    }
    goto out;

fail:
    store_sqlite_rollback(db);
out:
    sqlite3_finalize(stmt);
    store_sqlite_release(store, slot);
    return err;
}

attest_err store_sqlite_application_key_get(attestd_store *base, const char *application,
                                            uint8_t out_key_sha256[ATTESTD_SHA256_SIZE],
                                            attest_diag *diag)
{
    store_sqlite *store = (store_sqlite *)base;
    size_t slot;
    sqlite3 *db = store_sqlite_acquire(store, &slot);
    sqlite3_stmt *stmt = NULL;

    attest_err err = store_sqlite_prepare(db,
                                          "SELECT k.key_sha256 FROM application_keys k "
                                          "JOIN applications a ON a.id = k.application_id "
                                          "WHERE a.name = ?1",
                                          &stmt, diag);
    if (err != ATTEST_OK) {
        goto out;
    }
    int rc = SQLITE_OK;
    store_sqlite_bind_text(stmt, 1, application, &rc);
    if (rc == SQLITE_OK) {
        rc = sqlite3_step(stmt);
    }
    if (rc == SQLITE_DONE) {
        err = attest_diag_set(diag, ATTEST_ERR_NOT_FOUND,
                              "store: application '%s' has no scoped API key", application);
        goto out;
    }
    if (rc != SQLITE_ROW) {
        err = store_sqlite_error(db, rc, diag, "reading the scoped key of application '%s'",
                                 application);
        goto out;
    }
    const void *stored = sqlite3_column_blob(stmt, 0);
    if (stored == NULL || sqlite3_column_bytes(stmt, 0) != ATTESTD_SHA256_SIZE) {
        err = attest_diag_set(diag, ATTEST_ERR_STORE,
                              "store: the scoped key of application '%s' is not 32 bytes",
                              application);
        goto out;
    }
    memcpy(out_key_sha256, stored, ATTESTD_SHA256_SIZE);

out:
    sqlite3_finalize(stmt);
    store_sqlite_release(store, slot);
    return err;
}

attest_err store_sqlite_policy_id_create(attestd_store *base, const char *policy_id,
                                         const char *application, int64_t version, int64_t now,
                                         attest_diag *diag)
{
    store_sqlite *store = (store_sqlite *)base;
    size_t slot;
    sqlite3 *db = store_sqlite_acquire(store, &slot);
    sqlite3_stmt *stmt = NULL;

    /* The SELECT finds no row for an unknown application or version, so nothing is inserted. */
    attest_err err = store_sqlite_prepare(
        db,
        "INSERT INTO policy_ids (policy_id, application_id, version, created_at) "
        "SELECT ?1, p.application_id, p.version, ?4 FROM policies p "
        "JOIN applications a ON a.id = p.application_id "
        "WHERE a.name = ?2 AND p.version = ?3",
        &stmt, diag);
    if (err != ATTEST_OK) {
        goto out;
    }
    int rc = SQLITE_OK;
    store_sqlite_bind_text(stmt, 1, policy_id, &rc);
    store_sqlite_bind_text(stmt, 2, application, &rc);
    store_sqlite_bind_int64(stmt, 3, version, &rc);
    store_sqlite_bind_int64(stmt, 4, now, &rc);
    err = step_insert(db, stmt, rc, "creating policy id", policy_id, diag);
    if (err != ATTEST_OK) {
        goto out;
    }
    if (sqlite3_changes(db) == 0) {
        err = attest_diag_set(diag, ATTEST_ERR_NOT_FOUND,
                              "store: policy version %lld of application '%s' not found",
                              (long long)version, application);
    }

out:
    sqlite3_finalize(stmt);
    store_sqlite_release(store, slot);
    return err;
}

attest_err store_sqlite_policy_id_get(attestd_store *base, const char *policy_id,
                                      char out_application[ATTESTD_NAME_MAX_SIZE + 1],
                                      int64_t *out_version, attest_diag *diag)
{
    store_sqlite *store = (store_sqlite *)base;
    size_t slot;
    sqlite3 *db = store_sqlite_acquire(store, &slot);
    sqlite3_stmt *stmt = NULL;

    attest_err err = store_sqlite_prepare(db,
                                          "SELECT a.name, i.version FROM policy_ids i "
                                          "JOIN applications a ON a.id = i.application_id "
                                          "WHERE i.policy_id = ?1",
                                          &stmt, diag);
    if (err != ATTEST_OK) {
        goto out;
    }
    int rc = SQLITE_OK;
    store_sqlite_bind_text(stmt, 1, policy_id, &rc);
    if (rc == SQLITE_OK) {
        rc = sqlite3_step(stmt);
    }
    if (rc == SQLITE_DONE) {
        err = attest_diag_set(diag, ATTEST_ERR_NOT_FOUND, "store: policy id '%s' not found",
                              policy_id);
        goto out;
    }
    if (rc != SQLITE_ROW) {
        err = store_sqlite_error(db, rc, diag, "reading policy id '%s'", policy_id);
        goto out;
    }
    char application[ATTESTD_NAME_MAX_SIZE + 1];
    if (!store_sqlite_column_text(stmt, 0, application, sizeof(application))) {
        err = attest_diag_set(diag, ATTEST_ERR_STORE,
                              "store: the application of policy id '%s' is too long", policy_id);
        goto out;
    }
    memcpy(out_application, application, sizeof(application));
    *out_version = sqlite3_column_int64(stmt, 1);

out:
    sqlite3_finalize(stmt);
    store_sqlite_release(store, slot);
    return err;
}
