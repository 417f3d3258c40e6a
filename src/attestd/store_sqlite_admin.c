/*
 * SQLite backend: applications, policies and API keys, the records that the
 * admin API changes. Inputs arrive checked by store.c.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "store_sqlite_internal.h"

static const char *role_text(attestd_role role)
{
    return role == ATTESTD_ROLE_ADMINISTRATOR ? "administrator" : "auditor";
}

/* Applications */

attest_err store_sqlite_application_create(attestd_store *base, const char *name, int64_t now,
                                           int64_t *out_id, attest_diag *diag)
{
    store_sqlite *store = (store_sqlite *)base;
    size_t slot;
    sqlite3 *db = store_sqlite_acquire(store, &slot);
    sqlite3_stmt *stmt = NULL;

    attest_err err = store_sqlite_prepare(
        db, "INSERT INTO applications (name, created_at) VALUES (?1, ?2)", &stmt, diag);
    if (err != ATTEST_OK) {
        goto out;
    }
    int rc = SQLITE_OK;
    store_sqlite_bind_text(stmt, 1, name, &rc);
    store_sqlite_bind_int64(stmt, 2, now, &rc);
    if (rc == SQLITE_OK) {
        rc = sqlite3_step(stmt);
    }
    if (rc != SQLITE_DONE) {
        err = store_sqlite_error(db, rc, diag, "creating application '%s'", name);
        goto out;
    }
    if (out_id != NULL) {
        *out_id = sqlite3_last_insert_rowid(db);
    }

out:
    sqlite3_finalize(stmt);
    store_sqlite_release(store, slot);
    return err;
}

attest_err store_sqlite_application_get(attestd_store *base, const char *name,
                                        attestd_application *out_application,
                                        attest_diag *diag)
{
    store_sqlite *store = (store_sqlite *)base;
    size_t slot;
    sqlite3 *db = store_sqlite_acquire(store, &slot);
    sqlite3_stmt *stmt = NULL;

    attest_err err = store_sqlite_prepare(
        db, "SELECT id, name, created_at FROM applications WHERE name = ?1", &stmt, diag);
    if (err != ATTEST_OK) {
        goto out;
    }
    int rc = SQLITE_OK;
    store_sqlite_bind_text(stmt, 1, name, &rc);
    if (rc == SQLITE_OK) {
        rc = sqlite3_step(stmt);
    }
    if (rc == SQLITE_DONE) {
        err = attest_diag_set(diag, ATTEST_ERR_NOT_FOUND, "store: application '%s' not found",
                              name);
        goto out;
    }
    if (rc != SQLITE_ROW) {
        err = store_sqlite_error(db, rc, diag, "reading application '%s'", name);
        goto out;
    }

    attestd_application application = {0};
    application.id = sqlite3_column_int64(stmt, 0);
    if (!store_sqlite_column_text(stmt, 1, application.name, sizeof(application.name))) {
        err = attest_diag_set(diag, ATTEST_ERR_STORE, "store: stored name of application '%s' "
                              "is too long", name);
        goto out;
    }
    application.created_at = sqlite3_column_int64(stmt, 2);
    *out_application = application;

out:
    sqlite3_finalize(stmt);
    store_sqlite_release(store, slot);
    return err;
}

attest_err store_sqlite_application_list(attestd_store *base,
                                         attestd_application_list *out_list, attest_diag *diag)
{
    store_sqlite *store = (store_sqlite *)base;
    size_t slot;
    sqlite3 *db = store_sqlite_acquire(store, &slot);
    sqlite3_stmt *stmt = NULL;
    attestd_application_list list = {0};
    size_t capacity = 0;

    attest_err err = store_sqlite_prepare(
        db, "SELECT id, name, created_at FROM applications ORDER BY name", &stmt, diag);
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
        attestd_application *item = &list.items[list.count];
        memset(item, 0, sizeof(*item));
        item->id = sqlite3_column_int64(stmt, 0);
        if (!store_sqlite_column_text(stmt, 1, item->name, sizeof(item->name))) {
            err = attest_diag_set(diag, ATTEST_ERR_STORE,
                                  "store: stored name of application id %lld is too long",
                                  (long long)item->id);
            goto out;
        }
        item->created_at = sqlite3_column_int64(stmt, 2);
        list.count++;
    }
    if (rc != SQLITE_DONE) {
        err = store_sqlite_error(db, rc, diag, "listing applications");
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

attest_err store_sqlite_application_delete(attestd_store *base, const char *name,
                                           attest_diag *diag)
{
    store_sqlite *store = (store_sqlite *)base;
    size_t slot;
    sqlite3 *db = store_sqlite_acquire(store, &slot);
    sqlite3_stmt *stmt = NULL;

    /* The policies go with it through ON DELETE CASCADE; audit rows name the
     * application by text and have no foreign key, so they stay. */
    attest_err err = store_sqlite_prepare(db, "DELETE FROM applications WHERE name = ?1", &stmt,
                                          diag);
    if (err != ATTEST_OK) {
        goto out;
    }
    int rc = SQLITE_OK;
    store_sqlite_bind_text(stmt, 1, name, &rc);
    if (rc == SQLITE_OK) {
        rc = sqlite3_step(stmt);
    }
    if (rc != SQLITE_DONE) {
        err = store_sqlite_error(db, rc, diag, "deleting application '%s'", name);
        goto out;
    }
    if (sqlite3_changes(db) == 0) {
        err = attest_diag_set(diag, ATTEST_ERR_NOT_FOUND, "store: application '%s' not found",
                              name);
    }

out:
    sqlite3_finalize(stmt);
    store_sqlite_release(store, slot);
    return err;
}

/* Policies */

attest_err store_sqlite_policy_put(attestd_store *base, const char *application,
                                   const uint8_t *document, size_t document_size,
                                   const uint8_t sha256[ATTESTD_SHA256_SIZE], int64_t now,
                                   int64_t *out_version, attest_diag *diag)
{
    store_sqlite *store = (store_sqlite *)base;
    size_t slot;
    sqlite3 *db = store_sqlite_acquire(store, &slot);
    sqlite3_stmt *stmt = NULL;

    /* One statement reads the highest version and inserts the next under the
     * same write lock, so concurrent puts get distinct versions. */
    attest_err err = store_sqlite_prepare(
        db,
        "INSERT INTO policies (application_id, version, document, sha256, created_at, active) "
        "SELECT a.id, COALESCE((SELECT MAX(p.version) FROM policies p "
        "                       WHERE p.application_id = a.id), 0) + 1, ?2, ?3, ?4, 0 "
        "FROM applications a WHERE a.name = ?1 "
        "RETURNING version",
        &stmt, diag);
    if (err != ATTEST_OK) {
        goto out;
    }
    int rc = SQLITE_OK;
    store_sqlite_bind_text(stmt, 1, application, &rc);
    store_sqlite_bind_blob(stmt, 2, document, document_size, &rc);
    store_sqlite_bind_blob(stmt, 3, sha256, ATTESTD_SHA256_SIZE, &rc);
    store_sqlite_bind_int64(stmt, 4, now, &rc);
    if (rc == SQLITE_OK) {
        rc = sqlite3_step(stmt);
    }
    if (rc == SQLITE_DONE) {
        err = attest_diag_set(diag, ATTEST_ERR_NOT_FOUND, "store: application '%s' not found",
                              application);
        goto out;
    }
    if (rc != SQLITE_ROW) {
        err = store_sqlite_error(db, rc, diag, "storing a policy for application '%s'",
                                 application);
        goto out;
    }
    int64_t version = sqlite3_column_int64(stmt, 0);

    /* The insert commits only when the statement runs to its end. */
    rc = sqlite3_step(stmt);
    if (rc != SQLITE_DONE) {
        err = store_sqlite_error(db, rc, diag, "storing policy version %lld of application '%s'",
                                 (long long)version, application);
        goto out;
    }
    *out_version = version;

out:
    sqlite3_finalize(stmt);
    store_sqlite_release(store, slot);
    return err;
}

/* Fills out_info from columns version, sha256, length(document), created_at, active. */
static bool read_policy_version(sqlite3_stmt *stmt, attestd_policy_version *out_info)
{
    attestd_policy_version info = {0};
    info.version = sqlite3_column_int64(stmt, 0);
    const void *digest = sqlite3_column_blob(stmt, 1);
    if (digest == NULL || sqlite3_column_bytes(stmt, 1) != ATTESTD_SHA256_SIZE) {
        return false;
    }
    memcpy(info.sha256, digest, ATTESTD_SHA256_SIZE);
    sqlite3_int64 size = sqlite3_column_int64(stmt, 2);
    if (size < 1 || size > ATTESTD_POLICY_MAX_SIZE) {
        return false;
    }
    info.document_size = (size_t)size;
    info.created_at = sqlite3_column_int64(stmt, 3);
    info.active = sqlite3_column_int(stmt, 4) == 1;
    *out_info = info;
    return true;
}

/* Writes the NOT_FOUND diag of a missing policy version, naming what is missing. */
static attest_err policy_not_found(sqlite3 *db, const char *application, int64_t version,
                                   attest_diag *diag)
{
    int64_t id = 0;
    attest_err err = store_sqlite_application_id(db, application, &id, diag);
    if (err != ATTEST_OK) {
        return err;
    }
    if (version == 0) {
        return attest_diag_set(diag, ATTEST_ERR_NOT_FOUND,
                               "store: application '%s' has no active policy", application);
    }
    return attest_diag_set(diag, ATTEST_ERR_NOT_FOUND,
                           "store: policy version %lld of application '%s' not found",
                           (long long)version, application);
}

attest_err store_sqlite_policy_get(attestd_store *base, const char *application,
                                   int64_t version, attestd_policy *out_policy,
                                   attest_diag *diag)
{
    store_sqlite *store = (store_sqlite *)base;
    size_t slot;
    sqlite3 *db = store_sqlite_acquire(store, &slot);
    sqlite3_stmt *stmt = NULL;
    uint8_t *document = NULL;

    attest_err err = store_sqlite_prepare_cached(
        store, slot,
        "SELECT p.version, p.sha256, length(p.document), p.created_at, p.active, p.document "
        "FROM policies p JOIN applications a ON a.id = p.application_id "
        "WHERE a.name = ?1 AND (p.version = ?2 OR (?2 = 0 AND p.active = 1))",
        &stmt, diag);
    if (err != ATTEST_OK) {
        goto out;
    }
    int rc = SQLITE_OK;
    store_sqlite_bind_text(stmt, 1, application, &rc);
    store_sqlite_bind_int64(stmt, 2, version, &rc);
    if (rc == SQLITE_OK) {
        rc = sqlite3_step(stmt);
    }
    if (rc == SQLITE_DONE) {
        err = policy_not_found(db, application, version, diag);
        goto out;
    }
    if (rc != SQLITE_ROW) {
        err = store_sqlite_error(db, rc, diag, "reading a policy of application '%s'",
                                 application);
        goto out;
    }

    attestd_policy policy = {0};
    const void *stored = sqlite3_column_blob(stmt, 5);
    if (!read_policy_version(stmt, &policy.info) || stored == NULL ||
        (size_t)sqlite3_column_bytes(stmt, 5) != policy.info.document_size) {
        err = attest_diag_set(diag, ATTEST_ERR_STORE,
                              "store: stored policy of application '%s' is malformed",
                              application);
        goto out;
    }
    document = malloc(policy.info.document_size + 1);
    if (document == NULL) {
        err = attest_diag_set(diag, ATTEST_ERR_NOMEM,
                              "store: allocating %zu bytes for a policy failed",
                              policy.info.document_size);
        goto out;
    }
    memcpy(document, stored, policy.info.document_size);
    document[policy.info.document_size] = '\0';
    policy.document = document;
    document = NULL;
    *out_policy = policy;

out:
    free(document);
    store_sqlite_cached_done(store, slot, stmt);
    store_sqlite_release(store, slot);
    return err;
}

attest_err store_sqlite_policy_list(attestd_store *base, const char *application,
                                    attestd_policy_version_list *out_list, attest_diag *diag)
{
    store_sqlite *store = (store_sqlite *)base;
    size_t slot;
    sqlite3 *db = store_sqlite_acquire(store, &slot);
    sqlite3_stmt *stmt = NULL;
    attestd_policy_version_list list = {0};
    size_t capacity = 0;

    int64_t application_id = 0;
    attest_err err = store_sqlite_application_id(db, application, &application_id, diag);
    if (err != ATTEST_OK) {
        goto out;
    }
    err = store_sqlite_prepare(db,
                               "SELECT version, sha256, length(document), created_at, active "
                               "FROM policies WHERE application_id = ?1 ORDER BY version",
                               &stmt, diag);
    if (err != ATTEST_OK) {
        goto out;
    }
    int rc = SQLITE_OK;
    store_sqlite_bind_int64(stmt, 1, application_id, &rc);
    if (rc != SQLITE_OK) {
        err = store_sqlite_error(db, rc, diag, "listing policies of application '%s'",
                                 application);
        goto out;
    }
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        err = store_sqlite_grow((void **)&list.items, &capacity, list.count,
                                sizeof(*list.items), diag);
        if (err != ATTEST_OK) {
            goto out;
        }
        if (!read_policy_version(stmt, &list.items[list.count])) {
            err = attest_diag_set(diag, ATTEST_ERR_STORE,
                                  "store: stored policy of application '%s' is malformed",
                                  application);
            goto out;
        }
        list.count++;
    }
    if (rc != SQLITE_DONE) {
        err = store_sqlite_error(db, rc, diag, "listing policies of application '%s'",
                                 application);
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

/* Runs one UPDATE of policy activation bound to (application_id, version). */
static attest_err run_activation_update(sqlite3 *db, const char *sql, int64_t application_id,
                                        int64_t version, int *out_changes, attest_diag *diag)
{
    sqlite3_stmt *stmt = NULL;
    attest_err err = store_sqlite_prepare(db, sql, &stmt, diag);
    if (err != ATTEST_OK) {
        return err;
    }
    int rc = SQLITE_OK;
    store_sqlite_bind_int64(stmt, 1, application_id, &rc);
    store_sqlite_bind_int64(stmt, 2, version, &rc);
    if (rc == SQLITE_OK) {
        rc = sqlite3_step(stmt);
    }
    if (rc != SQLITE_DONE) {
        err = store_sqlite_error(db, rc, diag, "activating policy version %lld",
                                 (long long)version);
    } else {
        *out_changes = sqlite3_changes(db);
    }
    sqlite3_finalize(stmt);
    return err;
}

attest_err store_sqlite_policy_activate(attestd_store *base, const char *application,
                                        int64_t version, attest_diag *diag)
{
    store_sqlite *store = (store_sqlite *)base;
    size_t slot;
    sqlite3 *db = store_sqlite_acquire(store, &slot);

    attest_err err = store_sqlite_exec(db, "BEGIN IMMEDIATE", diag);
    if (err != ATTEST_OK) {
        goto out;
    }
    int64_t application_id = 0;
    err = store_sqlite_application_id(db, application, &application_id, diag);
    if (err != ATTEST_OK) {
        goto fail;
    }

    /* Clear the old active version first: the partial unique index
     * policies_one_active rejects two active rows at any moment. */
    int changes = 0;
    err = run_activation_update(db,
                                "UPDATE policies SET active = 0 "
                                "WHERE application_id = ?1 AND active = 1 AND version <> ?2",
                                application_id, version, &changes, diag);
    if (err != ATTEST_OK) {
        goto fail;
    }
    err = run_activation_update(db,
                                "UPDATE policies SET active = 1 "
                                "WHERE application_id = ?1 AND version = ?2",
                                application_id, version, &changes, diag);
    if (err != ATTEST_OK) {
        goto fail;
    }
    if (changes == 0) {
        /* The rollback below restores the previously active version. */
        err = attest_diag_set(diag, ATTEST_ERR_NOT_FOUND,
                              "store: policy version %lld of application '%s' not found",
                              (long long)version, application);
        goto fail;
    }
    err = store_sqlite_exec(db, "COMMIT", diag);
    if (err != ATTEST_OK) {
        goto fail;
    }
    goto out;

fail:
    store_sqlite_rollback(db);
out:
    store_sqlite_release(store, slot);
    return err;
}

/* API keys */

/* Inserts one API key row; the caller owns the transaction, if any. */
static attest_err insert_api_key(sqlite3 *db, const char *name, attestd_role role,
                                 const uint8_t key_sha256[ATTESTD_SHA256_SIZE], int64_t now,
                                 int64_t *out_id, attest_diag *diag)
{
    sqlite3_stmt *stmt = NULL;
    attest_err err = store_sqlite_prepare(
        db, "INSERT INTO api_keys (name, role, key_sha256, created_at) VALUES (?1, ?2, ?3, ?4)",
        &stmt, diag);
    if (err != ATTEST_OK) {
        return err;
    }
    int rc = SQLITE_OK;
    store_sqlite_bind_text(stmt, 1, name, &rc);
    store_sqlite_bind_text(stmt, 2, role_text(role), &rc);
    store_sqlite_bind_blob(stmt, 3, key_sha256, ATTESTD_SHA256_SIZE, &rc);
    store_sqlite_bind_int64(stmt, 4, now, &rc);
    if (rc == SQLITE_OK) {
        rc = sqlite3_step(stmt);
    }
    if (rc != SQLITE_DONE) {
        /* A UNIQUE violation here is a taken name or, far less likely, an
         * identical key; the SQLite message names the column. */
        err = store_sqlite_error(db, rc, diag, "creating API key '%s'", name);
    } else if (out_id != NULL) {
        *out_id = sqlite3_last_insert_rowid(db);
    }
    sqlite3_finalize(stmt);
    return err;
}

/* Reads the initialized mark from meta. */
static attest_err read_initialized(sqlite3 *db, bool *out_initialized, attest_diag *diag)
{
    sqlite3_stmt *stmt = NULL;
    attest_err err = store_sqlite_prepare(
        db, "SELECT 1 FROM meta WHERE key = 'initialized_at'", &stmt, diag);
    if (err != ATTEST_OK) {
        return err;
    }
    int rc = sqlite3_step(stmt);
    if (rc == SQLITE_ROW || rc == SQLITE_DONE) {
        *out_initialized = rc == SQLITE_ROW;
    } else {
        err = store_sqlite_error(db, rc, diag, "reading the initialized mark");
    }
    sqlite3_finalize(stmt);
    return err;
}

static attest_err write_initialized(sqlite3 *db, int64_t now, attest_diag *diag)
{
    sqlite3_stmt *stmt = NULL;
    attest_err err = store_sqlite_prepare(
        db, "INSERT INTO meta (key, value) VALUES ('initialized_at', CAST(?1 AS TEXT))", &stmt,
        diag);
    if (err != ATTEST_OK) {
        return err;
    }
    int rc = SQLITE_OK;
    store_sqlite_bind_int64(stmt, 1, now, &rc);
    if (rc == SQLITE_OK) {
        rc = sqlite3_step(stmt);
    }
    if (rc != SQLITE_DONE) {
        err = store_sqlite_error(db, rc, diag, "writing the initialized mark");
    }
    sqlite3_finalize(stmt);
    return err;
}

attest_err store_sqlite_api_key_create(attestd_store *base, const char *name, attestd_role role,
                                       const uint8_t key_sha256[ATTESTD_SHA256_SIZE],
                                       int64_t now, bool first_administrator, int64_t *out_id,
                                       attest_diag *diag)
{
    store_sqlite *store = (store_sqlite *)base;
    size_t slot;
    sqlite3 *db = store_sqlite_acquire(store, &slot);
    attest_err err;

    if (!first_administrator) {
        err = insert_api_key(db, name, role, key_sha256, now, out_id, diag);
        goto out;
    }

    /* The check and the mark share one write transaction, so two concurrent
     * `attestd init` runs cannot both create a first administrator. */
    err = store_sqlite_exec(db, "BEGIN IMMEDIATE", diag);
    if (err != ATTEST_OK) {
        goto out;
    }
    bool initialized = false;
    err = read_initialized(db, &initialized, diag);
    if (err != ATTEST_OK) {
        goto fail;
    }
    if (initialized) {
        err = attest_diag_set(diag, ATTEST_ERR_STORE_INITIALIZED,
                              "store: already initialized, so administrator key '%s' was not "
                              "created; use an administrator key to add more",
                              name);
        goto fail;
    }
    int64_t id = 0;
    err = insert_api_key(db, name, role, key_sha256, now, &id, diag);
    if (err != ATTEST_OK) {
        goto fail;
    }
    err = write_initialized(db, now, diag);
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
    store_sqlite_release(store, slot);
    return err;
}

/* Fills out_key from columns id, name, role, created_at, revoked_at. */
static bool read_api_key(sqlite3_stmt *stmt, attestd_api_key *out_key)
{
    attestd_api_key key = {0};
    key.id = sqlite3_column_int64(stmt, 0);
    if (!store_sqlite_column_text(stmt, 1, key.name, sizeof(key.name))) {
        return false;
    }
    const char *role = (const char *)sqlite3_column_text(stmt, 2);
    if (role == NULL) {
        return false;
    }
    if (strcmp(role, "administrator") == 0) {
        key.role = ATTESTD_ROLE_ADMINISTRATOR;
    } else if (strcmp(role, "auditor") == 0) {
        key.role = ATTESTD_ROLE_AUDITOR;
    } else {
        return false;
    }
    key.created_at = sqlite3_column_int64(stmt, 3);
    key.revoked_at = sqlite3_column_type(stmt, 4) == SQLITE_NULL ? 0
                                                                  : sqlite3_column_int64(stmt, 4);
    *out_key = key;
    return true;
}

attest_err store_sqlite_api_key_lookup(attestd_store *base,
                                       const uint8_t key_sha256[ATTESTD_SHA256_SIZE],
                                       attestd_api_key *out_key, attest_diag *diag)
{
    store_sqlite *store = (store_sqlite *)base;
    size_t slot;
    sqlite3 *db = store_sqlite_acquire(store, &slot);
    sqlite3_stmt *stmt = NULL;

    /*
     * Every row is compared with CRYPTO_memcmp and the scan never stops
     * early, so the time taken does not depend on where or whether the hash
     * matches. An indexed WHERE key_sha256 = ? would compare with memcmp.
     * NOTE: the scan is linear in the number of keys, which operators keep
     * small (people and automation accounts, not end users).
     */
    attest_err err = store_sqlite_prepare(
        db, "SELECT id, name, role, created_at, revoked_at, key_sha256 FROM api_keys", &stmt,
        diag);
    if (err != ATTEST_OK) {
        goto out;
    }
    bool found = false;
    attestd_api_key match = {0};
    int rc;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        const void *stored = sqlite3_column_blob(stmt, 5);
        if (stored == NULL || sqlite3_column_bytes(stmt, 5) != ATTESTD_SHA256_SIZE) {
            continue;
        }
        if (CRYPTO_memcmp(stored, key_sha256, ATTESTD_SHA256_SIZE) == 0) {
            found = read_api_key(stmt, &match);
        }
    }
    if (rc != SQLITE_DONE) {
        err = store_sqlite_error(db, rc, diag, "looking up an API key");
        goto out;
    }
    if (!found) {
        err = attest_diag_set(diag, ATTEST_ERR_API_KEY_UNKNOWN,
                              "store: no API key matches the presented key");
        goto out;
    }
    if (match.revoked_at != 0) {
        err = attest_diag_set(diag, ATTEST_ERR_API_KEY_REVOKED,
                              "store: API key '%s' was revoked at %lld", match.name,
                              (long long)match.revoked_at);
        goto out;
    }
    *out_key = match;

out:
    sqlite3_finalize(stmt);
    store_sqlite_release(store, slot);
    return err;
}

attest_err store_sqlite_api_key_list(attestd_store *base, attestd_api_key_list *out_list,
                                     attest_diag *diag)
{
    store_sqlite *store = (store_sqlite *)base;
    size_t slot;
    sqlite3 *db = store_sqlite_acquire(store, &slot);
    sqlite3_stmt *stmt = NULL;
    attestd_api_key_list list = {0};
    size_t capacity = 0;

    attest_err err = store_sqlite_prepare(
        db, "SELECT id, name, role, created_at, revoked_at FROM api_keys ORDER BY name", &stmt,
        diag);
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
        if (!read_api_key(stmt, &list.items[list.count])) {
            err = attest_diag_set(diag, ATTEST_ERR_STORE,
                                  "store: stored API key id %lld is malformed",
                                  (long long)sqlite3_column_int64(stmt, 0));
            goto out;
        }
        list.count++;
    }
    if (rc != SQLITE_DONE) {
        err = store_sqlite_error(db, rc, diag, "listing API keys");
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

attest_err store_sqlite_api_key_revoke(attestd_store *base, const char *name, int64_t now,
                                       attest_diag *diag)
{
    store_sqlite *store = (store_sqlite *)base;
    size_t slot;
    sqlite3 *db = store_sqlite_acquire(store, &slot);
    sqlite3_stmt *stmt = NULL;

    /* COALESCE keeps the first revocation time; sqlite3_changes still counts
     * the matched row, so an unknown name is the only zero. */
    attest_err err = store_sqlite_prepare(
        db, "UPDATE api_keys SET revoked_at = COALESCE(revoked_at, ?2) WHERE name = ?1", &stmt,
        diag);
    if (err != ATTEST_OK) {
        goto out;
    }
    int rc = SQLITE_OK;
    store_sqlite_bind_text(stmt, 1, name, &rc);
    store_sqlite_bind_int64(stmt, 2, now, &rc);
    if (rc == SQLITE_OK) {
        rc = sqlite3_step(stmt);
    }
    if (rc != SQLITE_DONE) {
        err = store_sqlite_error(db, rc, diag, "revoking API key '%s'", name);
        goto out;
    }
    if (sqlite3_changes(db) == 0) {
        err = attest_diag_set(diag, ATTEST_ERR_NOT_FOUND, "store: API key '%s' not found", name);
    }

out:
    sqlite3_finalize(stmt);
    store_sqlite_release(store, slot);
    return err;
}

attest_err store_sqlite_is_initialized(attestd_store *base, bool *out_initialized,
                                       attest_diag *diag)
{
    store_sqlite *store = (store_sqlite *)base;
    size_t slot;
    sqlite3 *db = store_sqlite_acquire(store, &slot);
    attest_err err = read_initialized(db, out_initialized, diag);
    store_sqlite_release(store, slot);
    return err;
}
