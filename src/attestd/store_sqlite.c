/*
 * SQLite backend of the state store: opening the file, the schema and its
 * migrations, the connection pool and the helpers that the operations in
 * store_sqlite_admin.c and store_sqlite_service.c share.
 *
 * Caveats:
 * - Values reach SQL only through bound parameters. The few SQL texts run
 *   with sqlite3_exec (migrations, BEGIN, COMMIT, PRAGMA) are constants.
 * - The file's mode is set to 0600 only when this code creates it; an
 *   existing file keeps its mode.
 * - Several attestd processes may share one file (SQLite's file locks and
 *   the busy timeout order their writes), but not over a network file
 *   system, where WAL mode does not work.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store_sqlite_internal.h"

#define STORE_SQLITE_DEFAULT_BUSY_TIMEOUT_MS 5000
#define STORE_SQLITE_DEFAULT_CONNECTION_COUNT 4
#define STORE_SQLITE_MAX_CONNECTION_COUNT 64

/*
 * Schema migrations: entry i moves the schema from user_version i to i + 1
 * and ends by setting user_version, because PRAGMA user_version takes no
 * bound parameter. All pending entries run in one transaction at open.
 * Append new entries; never edit one that has been released.
 */
static const char *const migrations[] = {
    /* 1: initial schema */
    "CREATE TABLE meta ("
    "  key TEXT PRIMARY KEY,"
    "  value TEXT NOT NULL"
    ");"
    "CREATE TABLE applications ("
    "  id INTEGER PRIMARY KEY,"
    "  name TEXT NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 64),"
    "  created_at INTEGER NOT NULL"
    ");"
    "CREATE TABLE policies ("
    "  application_id INTEGER NOT NULL REFERENCES applications (id) ON DELETE CASCADE,"
    "  version INTEGER NOT NULL CHECK (version >= 1),"
    "  document BLOB NOT NULL CHECK (length(document) BETWEEN 1 AND 65536),"
    "  sha256 BLOB NOT NULL CHECK (length(sha256) = 32),"
    "  created_at INTEGER NOT NULL,"
    "  active INTEGER NOT NULL DEFAULT 0 CHECK (active IN (0, 1)),"
    "  PRIMARY KEY (application_id, version)"
    ");"
    "CREATE UNIQUE INDEX policies_one_active ON policies (application_id) WHERE active = 1;"
    "CREATE TABLE api_keys ("
    "  id INTEGER PRIMARY KEY,"
    "  name TEXT NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 64),"
    "  role TEXT NOT NULL CHECK (role IN ('administrator', 'auditor')),"
    "  key_sha256 BLOB NOT NULL UNIQUE CHECK (length(key_sha256) = 32),"
    "  created_at INTEGER NOT NULL,"
    "  revoked_at INTEGER"
    ");"
    "CREATE TABLE nonces ("
    "  nonce BLOB PRIMARY KEY CHECK (length(nonce) = 32),"
    "  expires_at INTEGER NOT NULL"
    ") WITHOUT ROWID;"
    "CREATE INDEX nonces_expires_at ON nonces (expires_at);"
    "CREATE TABLE audit ("
    "  id INTEGER PRIMARY KEY,"
    "  time INTEGER NOT NULL,"
    "  application TEXT NOT NULL CHECK (length(application) <= 64),"
    "  evidence_type TEXT NOT NULL CHECK (length(evidence_type) <= 32),"
    "  evidence_sha256 BLOB NOT NULL CHECK (length(evidence_sha256) = 32),"
    "  verdict TEXT NOT NULL CHECK (verdict IN ('accepted', 'rejected')),"
    "  failing_check TEXT NOT NULL CHECK (length(failing_check) <= 64),"
    "  policy_version INTEGER NOT NULL CHECK (policy_version >= 0),"
    "  token_id TEXT NOT NULL CHECK (length(token_id) <= 64),"
    "  client_address TEXT NOT NULL CHECK (length(client_address) <= 64),"
    "  request_id TEXT NOT NULL CHECK (length(request_id) <= 64)"
    ");"
    "CREATE INDEX audit_time ON audit (time, id);"
    "CREATE INDEX audit_application_time ON audit (application, time, id);"
    "CREATE TABLE collateral ("
    "  key TEXT PRIMARY KEY CHECK (length(key) BETWEEN 1 AND 256),"
    "  blob BLOB NOT NULL,"
    "  next_update INTEGER NOT NULL"
    ");"
    "CREATE INDEX collateral_next_update ON collateral (next_update);"
    "CREATE TABLE signing_keys ("
    "  kid TEXT PRIMARY KEY CHECK (length(kid) BETWEEN 1 AND 64),"
    "  algorithm TEXT NOT NULL CHECK (length(algorithm) BETWEEN 1 AND 16),"
    "  private_key_pem TEXT NOT NULL,"
    "  created_at INTEGER NOT NULL,"
    "  retired_at INTEGER"
    ");"
    "PRAGMA user_version = 1;",
    /* 2: application-scoped API keys and policy ids of the compatibility APIs */
    "CREATE TABLE application_keys ("
    "  application_id INTEGER PRIMARY KEY REFERENCES applications (id) ON DELETE CASCADE,"
    "  key_sha256 BLOB NOT NULL UNIQUE CHECK (length(key_sha256) = 32),"
    "  created_at INTEGER NOT NULL"
    ");"
    "CREATE TABLE policy_ids ("
    "  policy_id TEXT PRIMARY KEY CHECK (length(policy_id) BETWEEN 1 AND 64),"
    "  application_id INTEGER NOT NULL,"
    "  version INTEGER NOT NULL,"
    "  created_at INTEGER NOT NULL,"
    "  FOREIGN KEY (application_id, version) REFERENCES policies (application_id, version)"
    "    ON DELETE CASCADE"
    ");"
    "PRAGMA user_version = 2;",
};

#define STORE_SQLITE_SCHEMA_VERSION ((int)(sizeof(migrations) / sizeof(migrations[0])))

static void store_sqlite_close(attestd_store *base);

static const attestd_store_ops store_sqlite_ops = {
    .name = "sqlite",
    .close = store_sqlite_close,
    .application_create = store_sqlite_application_create,
    .application_get = store_sqlite_application_get,
    .application_list = store_sqlite_application_list,
    .application_delete = store_sqlite_application_delete,
    .policy_put = store_sqlite_policy_put,
    .policy_get = store_sqlite_policy_get,
    .policy_list = store_sqlite_policy_list,
    .policy_activate = store_sqlite_policy_activate,
    .api_key_create = store_sqlite_api_key_create,
    .api_key_lookup = store_sqlite_api_key_lookup,
    .api_key_list = store_sqlite_api_key_list,
    .api_key_revoke = store_sqlite_api_key_revoke,
    .is_initialized = store_sqlite_is_initialized,
    .application_enroll = store_sqlite_application_enroll,
    .application_key_get = store_sqlite_application_key_get,
    .policy_id_create = store_sqlite_policy_id_create,
    .policy_id_get = store_sqlite_policy_id_get,
    .nonce_purge = store_sqlite_nonce_purge,
    .audit_insert = store_sqlite_audit_insert,
    .audit_insert_consuming = store_sqlite_audit_insert_consuming,
    .audit_list = store_sqlite_audit_list,
    .collateral_put = store_sqlite_collateral_put,
    .collateral_get = store_sqlite_collateral_get,
    .collateral_purge = store_sqlite_collateral_purge,
    .signing_key_put = store_sqlite_signing_key_put,
    .signing_key_list = store_sqlite_signing_key_list,
    .signing_key_retire = store_sqlite_signing_key_retire,
};

/* Helpers shared with the operation files */

attest_err store_sqlite_error(sqlite3 *db, int rc, attest_diag *diag, const char *format, ...)
{
    attest_err err;
    switch (rc & 0xff) {
    case SQLITE_CONSTRAINT:
        if (rc == SQLITE_CONSTRAINT_UNIQUE || rc == SQLITE_CONSTRAINT_PRIMARYKEY) {
            err = ATTEST_ERR_ALREADY_EXISTS;
        } else {
            err = ATTEST_ERR_STORE;
        }
        break;
    case SQLITE_READONLY:
    case SQLITE_PERM:
        err = ATTEST_ERR_STORE_READ_ONLY;
        break;
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
        err = ATTEST_ERR_STORE_BUSY;
        break;
    case SQLITE_NOMEM:
        err = ATTEST_ERR_NOMEM;
        break;
    case SQLITE_CANTOPEN:
        err = ATTEST_ERR_IO;
        break;
    default:
        err = ATTEST_ERR_STORE;
        break;
    }

    char action[160];
    va_list args;
    va_start(args, format);
    vsnprintf(action, sizeof(action), format, args);
    va_end(args);

    const char *detail = db != NULL ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    if (rc == SQLITE_READONLY_DIRECTORY) {
        detail = "the database's directory cannot be written, so SQLite cannot create the "
                 "-wal and -shm files that WAL mode needs";
    }
    return attest_diag_set(diag, err, "store: %s failed: %s (SQLite code %d)", action, detail,
                           rc);
}

attest_err store_sqlite_prepare(sqlite3 *db, const char *sql, sqlite3_stmt **out_stmt,
                                attest_diag *diag)
{
    sqlite3_stmt *stmt = NULL;
    int rc = sqlite3_prepare_v2(db, sql, -1, &stmt, NULL);
    if (rc != SQLITE_OK) {
        sqlite3_finalize(stmt);
        return store_sqlite_error(db, rc, diag, "preparing '%.60s'", sql);
    }
    *out_stmt = stmt;
    return ATTEST_OK;
}

attest_err store_sqlite_prepare_cached(store_sqlite *store, size_t slot, const char *sql,
                                       sqlite3_stmt **out_stmt, attest_diag *diag)
{
    store_sqlite_statement_cache *cache = &store->statement_caches[slot];
    store_sqlite_cached_statement *free_entry = NULL;
    for (size_t i = 0; i < STORE_SQLITE_STATEMENT_CACHE_SIZE; i++) {
        store_sqlite_cached_statement *entry = &cache->entries[i];
        if (entry->sql == NULL) {
            if (free_entry == NULL) {
                free_entry = entry;
            }
            continue;
        }
        if (!entry->in_use && (entry->sql == sql || strcmp(entry->sql, sql) == 0)) {
            entry->in_use = true;
            *out_stmt = entry->stmt;
            return ATTEST_OK;
        }
    }

    sqlite3_stmt *stmt = NULL;
    int rc = sqlite3_prepare_v3(store->connections[slot], sql, -1, SQLITE_PREPARE_PERSISTENT,
                                &stmt, NULL);
    if (rc != SQLITE_OK) {
        sqlite3_finalize(stmt);
        return store_sqlite_error(store->connections[slot], rc, diag, "preparing '%.60s'", sql);
    }
    /* A full cache, or the same text in use twice, gets a statement of its own. */
    if (free_entry != NULL) {
        free_entry->sql = sql;
        free_entry->stmt = stmt;
        free_entry->in_use = true;
    }
    *out_stmt = stmt;
    return ATTEST_OK;
}

void store_sqlite_cached_done(store_sqlite *store, size_t slot, sqlite3_stmt *stmt)
{
    if (stmt == NULL) {
        return;
    }
    store_sqlite_statement_cache *cache = &store->statement_caches[slot];
    for (size_t i = 0; i < STORE_SQLITE_STATEMENT_CACHE_SIZE; i++) {
        if (cache->entries[i].stmt == stmt) {
            sqlite3_reset(stmt);
            sqlite3_clear_bindings(stmt);
            cache->entries[i].in_use = false;
            return;
        }
    }
    sqlite3_finalize(stmt);
}

/* Finalizes the cached statements of one connection before it closes. */
static void statement_cache_clear(store_sqlite_statement_cache *cache)
{
    for (size_t i = 0; i < STORE_SQLITE_STATEMENT_CACHE_SIZE; i++) {
        sqlite3_finalize(cache->entries[i].stmt);
        memset(&cache->entries[i], 0, sizeof(cache->entries[i]));
    }
}

attest_err store_sqlite_exec(sqlite3 *db, const char *sql, attest_diag *diag)
{
    int rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
    if (rc != SQLITE_OK) {
        return store_sqlite_error(db, rc, diag, "running '%.60s'", sql);
    }
    return ATTEST_OK;
}

void store_sqlite_rollback(sqlite3 *db)
{
    if (!sqlite3_get_autocommit(db)) {
        /* NOTE: a failed ROLLBACK is ignored because the caller reports the
         * first error. It fails only with statements still running, and every
         * caller finalizes its statements before it rolls back. */
        (void)sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
    }
}

void store_sqlite_bind_text(sqlite3_stmt *stmt, int index, const char *text, int *rc)
{
    if (*rc == SQLITE_OK) {
        *rc = sqlite3_bind_text(stmt, index, text, -1, SQLITE_STATIC);
    }
}

void store_sqlite_bind_blob(sqlite3_stmt *stmt, int index, const void *data, size_t size,
                            int *rc)
{
    if (*rc != SQLITE_OK) {
        return;
    }
    if (size > (size_t)INT32_MAX) {
        *rc = SQLITE_TOOBIG;
        return;
    }
    *rc = sqlite3_bind_blob(stmt, index, data, (int)size, SQLITE_STATIC);
}

void store_sqlite_bind_int64(sqlite3_stmt *stmt, int index, int64_t value, int *rc)
{
    if (*rc == SQLITE_OK) {
        *rc = sqlite3_bind_int64(stmt, index, (sqlite3_int64)value);
    }
}

void store_sqlite_bind_null(sqlite3_stmt *stmt, int index, int *rc)
{
    if (*rc == SQLITE_OK) {
        *rc = sqlite3_bind_null(stmt, index);
    }
}

bool store_sqlite_column_text(sqlite3_stmt *stmt, int column, char *out, size_t size)
{
    const unsigned char *text = sqlite3_column_text(stmt, column);
    int text_size = sqlite3_column_bytes(stmt, column);
    if (text == NULL) {
        text_size = 0;
    }
    if (text_size < 0 || (size_t)text_size >= size) {
        return false;
    }
    if (text_size > 0) {
        memcpy(out, text, (size_t)text_size);
    }
    out[text_size] = '\0';
    return true;
}

attest_err store_sqlite_grow(void **items, size_t *capacity, size_t count, size_t item_size,
                             attest_diag *diag)
{
    if (count < *capacity) {
        return ATTEST_OK;
    }

    size_t new_capacity = *capacity == 0 ? 16 : *capacity * 2;
    if (new_capacity > SIZE_MAX / item_size) {
        return attest_diag_set(diag, ATTEST_ERR_NOMEM, "store: list of %zu rows is too large",
                               count);
    }
    void *grown = realloc(*items, new_capacity * item_size);
    if (grown == NULL) {
        return attest_diag_set(diag, ATTEST_ERR_NOMEM,
                               "store: growing a list to %zu rows failed", new_capacity);
    }
    *items = grown;
    *capacity = new_capacity;
    return ATTEST_OK;
}

attest_err store_sqlite_application_id(sqlite3 *db, const char *name, int64_t *out_id,
                                       attest_diag *diag)
{
    sqlite3_stmt *stmt = NULL;
    attest_err err = store_sqlite_prepare(db, "SELECT id FROM applications WHERE name = ?1",
                                          &stmt, diag);
    if (err != ATTEST_OK) {
        return err;
    }

    int rc = SQLITE_OK;
    store_sqlite_bind_text(stmt, 1, name, &rc);
    if (rc != SQLITE_OK) {
        err = store_sqlite_error(db, rc, diag, "binding application name '%s'", name);
        goto out;
    }
    rc = sqlite3_step(stmt);
    if (rc == SQLITE_DONE) {
        err = attest_diag_set(diag, ATTEST_ERR_NOT_FOUND, "store: application '%s' not found",
                              name);
        goto out;
    }
    if (rc != SQLITE_ROW) {
        err = store_sqlite_error(db, rc, diag, "looking up application '%s'", name);
        goto out;
    }
    *out_id = sqlite3_column_int64(stmt, 0);

out:
    sqlite3_finalize(stmt);
    return err;
}

/* Connection pool */

sqlite3 *store_sqlite_acquire(store_sqlite *store, size_t *out_slot)
{
    pthread_mutex_lock(&store->mutex);
    for (;;) {
        for (size_t i = 0; i < store->connection_count; i++) {
            if (!store->in_use[i]) {
                store->in_use[i] = true;
                pthread_mutex_unlock(&store->mutex);
                *out_slot = i;
                return store->connections[i];
            }
        }
        pthread_cond_wait(&store->connection_freed, &store->mutex);
    }
}

void store_sqlite_release(store_sqlite *store, size_t slot)
{
    pthread_mutex_lock(&store->mutex);
    store->in_use[slot] = false;
    pthread_cond_signal(&store->connection_freed);
    pthread_mutex_unlock(&store->mutex);
}

/* Opening */

/* Reads an integer PRAGMA such as user_version. */
static attest_err read_pragma_int(sqlite3 *db, const char *sql, int *out_value,
                                  attest_diag *diag)
{
    sqlite3_stmt *stmt = NULL;
    attest_err err = store_sqlite_prepare(db, sql, &stmt, diag);
    if (err != ATTEST_OK) {
        return err;
    }
    int rc = sqlite3_step(stmt);
    if (rc != SQLITE_ROW) {
        err = store_sqlite_error(db, rc, diag, "running '%s'", sql);
    } else {
        *out_value = sqlite3_column_int(stmt, 0);
    }
    sqlite3_finalize(stmt);
    return err;
}

/*
 * Switches the file to WAL mode. A file that cannot be written keeps its mode,
 * because reading works in any journal mode and migrate() reports the files
 * that would need a write.
 */
static attest_err enable_wal(sqlite3 *db, const char *path, attest_diag *diag)
{
    if (sqlite3_db_readonly(db, "main") == 1) {
        return ATTEST_OK;
    }

    sqlite3_stmt *stmt = NULL;
    attest_err err = store_sqlite_prepare(db, "PRAGMA journal_mode = WAL", &stmt, diag);
    if (err != ATTEST_OK) {
        return err;
    }

    int rc = sqlite3_step(stmt);
    if (rc != SQLITE_ROW) {
        err = store_sqlite_error(db, rc, diag, "switching '%s' to WAL mode", path);
        goto out;
    }
    const char *mode = (const char *)sqlite3_column_text(stmt, 0);
    bool is_wal = mode != NULL && strcmp(mode, "wal") == 0;
    if (!is_wal) {
        err = attest_diag_set(diag, ATTEST_ERR_STORE,
                              "store: '%s' stayed in journal mode '%s' instead of 'wal'", path,
                              mode != NULL ? mode : "(none)");
    }

out:
    sqlite3_finalize(stmt);
    return err;
}

/* Applies the pending migrations in one write transaction. */
static attest_err migrate(sqlite3 *db, const char *path, attest_diag *diag)
{
    int version = 0;
    attest_err err = read_pragma_int(db, "PRAGMA user_version", &version, diag);
    if (err != ATTEST_OK) {
        return err;
    }
    if (version > STORE_SQLITE_SCHEMA_VERSION) {
        return attest_diag_set(diag, ATTEST_ERR_STORE_SCHEMA,
                               "store: '%s' has schema version %d, above the %d this attestd "
                               "supports; use a newer attestd",
                               path, version, STORE_SQLITE_SCHEMA_VERSION);
    }
    if (version == STORE_SQLITE_SCHEMA_VERSION) {
        return ATTEST_OK;
    }
    if (sqlite3_db_readonly(db, "main") == 1) {
        return attest_diag_set(diag, ATTEST_ERR_STORE_READ_ONLY,
                               "store: '%s' has schema version %d and needs migration to %d, "
                               "but it cannot be written",
                               path, version, STORE_SQLITE_SCHEMA_VERSION);
    }

    err = store_sqlite_exec(db, "BEGIN IMMEDIATE", diag);
    if (err != ATTEST_OK) {
        return err;
    }

    /* Read again under the write lock: another process may have migrated. */
    err = read_pragma_int(db, "PRAGMA user_version", &version, diag);
    if (err != ATTEST_OK) {
        goto fail;
    }
    for (int step = version; step < STORE_SQLITE_SCHEMA_VERSION; step++) {
        int rc = sqlite3_exec(db, migrations[step], NULL, NULL, NULL);
        if (rc != SQLITE_OK) {
            err = store_sqlite_error(db, rc, diag, "migrating '%s' from schema version %d",
                                     path, step);
            goto fail;
        }
    }
    err = store_sqlite_exec(db, "COMMIT", diag);
    if (err != ATTEST_OK) {
        goto fail;
    }
    return ATTEST_OK;

fail:
    store_sqlite_rollback(db);
    return err;
}

/* WAL checkpoints */

/* WAL size in pages from which a commit requests a checkpoint (SQLite's own default is 1000). */
#define STORE_SQLITE_CHECKPOINT_PAGES 4000

/* Called by SQLite after each commit on a pooled connection, in place of its autocheckpoint. */
static int wal_committed(void *arg, sqlite3 *db, const char *name, int pages)
{
    (void)db;
    (void)name;
    store_sqlite *store = arg;
    if (pages >= STORE_SQLITE_CHECKPOINT_PAGES) {
        pthread_mutex_lock(&store->checkpoint_mutex);
        store->checkpoint_requested = true;
        pthread_cond_signal(&store->checkpoint_requested_cond);
        pthread_mutex_unlock(&store->checkpoint_mutex);
    }
    return SQLITE_OK;
}

/* Runs a passive checkpoint for each request from a commit, until the store closes. */
static void *checkpointer_run(void *arg)
{
    store_sqlite *store = arg;
    pthread_mutex_lock(&store->checkpoint_mutex);
    for (;;) {
        while (!store->checkpoint_requested && !store->stopping) {
            pthread_cond_wait(&store->checkpoint_requested_cond, &store->checkpoint_mutex);
        }
        if (store->stopping) {
            break;
        }
        store->checkpoint_requested = false;
        pthread_mutex_unlock(&store->checkpoint_mutex);
        /* A passive checkpoint waits for no reader or writer, and a later commit requests another. */
        (void)sqlite3_wal_checkpoint_v2(store->checkpoint_db, NULL, SQLITE_CHECKPOINT_PASSIVE,
                                        NULL, NULL);
        pthread_mutex_lock(&store->checkpoint_mutex);
    }
    pthread_mutex_unlock(&store->checkpoint_mutex);
    return NULL;
}

/* Opens one connection and sets its per-connection options. */
static attest_err open_connection(const char *path, const attestd_sqlite_options *options,
                                  sqlite3 **out_db, attest_diag *diag)
{
    int flags = options->read_only ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE;
    flags |= SQLITE_OPEN_NOMUTEX;

    sqlite3 *db = NULL;
    int rc = sqlite3_open_v2(path, &db, flags, NULL);
    if (rc != SQLITE_OK) {
        attest_err err = store_sqlite_error(db, rc, diag, "opening '%s'", path);
        sqlite3_close(db);
        return err;
    }
    sqlite3_extended_result_codes(db, 1);

    rc = sqlite3_busy_timeout(db, options->busy_timeout_ms);
    if (rc != SQLITE_OK) {
        attest_err err = store_sqlite_error(db, rc, diag, "setting the busy timeout of '%s'",
                                            path);
        sqlite3_close(db);
        return err;
    }

    const char *synchronous = options->synchronous == ATTESTD_SQLITE_SYNCHRONOUS_FULL
                                  ? "PRAGMA synchronous = FULL"
                                  : "PRAGMA synchronous = NORMAL";
    attest_err err = store_sqlite_exec(db, "PRAGMA foreign_keys = ON", diag);
    if (err == ATTEST_OK) {
        err = store_sqlite_exec(db, synchronous, diag);
    }
    if (err != ATTEST_OK) {
        sqlite3_close(db);
        return err;
    }

    *out_db = db;
    return ATTEST_OK;
}

/*
 * Creates the file with mode 0600 when it does not exist yet, because SQLite
 * would create it with 0644 and the file contains private keys. The -wal and
 * -shm files that SQLite creates later take the main file's mode.
 */
static attest_err create_private_file(const char *path, attest_diag *diag)
{
    int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd >= 0) {
        close(fd);
        return ATTEST_OK;
    }
    if (errno == EEXIST) {
        return ATTEST_OK;
    }
    return attest_diag_set(diag, ATTEST_ERR_IO, "store: creating database file '%s' failed: %s",
                           path, strerror(errno));
}

static attest_err check_options(const attestd_sqlite_options *given,
                                attestd_sqlite_options *out_options, attest_diag *diag)
{
    attestd_sqlite_options options = {0};
    if (given != NULL) {
        options = *given;
    }

    switch (options.synchronous) {
    case ATTESTD_SQLITE_SYNCHRONOUS_NORMAL:
    case ATTESTD_SQLITE_SYNCHRONOUS_FULL:
        break;
    default:
        return attest_diag_set(diag, ATTEST_ERR_ARGUMENT,
                               "store: synchronous option %d is neither NORMAL nor FULL",
                               (int)options.synchronous);
    }
    if (options.busy_timeout_ms < 0) {
        return attest_diag_set(diag, ATTEST_ERR_ARGUMENT,
                               "store: busy timeout %d ms is negative", options.busy_timeout_ms);
    }
    if (options.busy_timeout_ms == 0) {
        options.busy_timeout_ms = STORE_SQLITE_DEFAULT_BUSY_TIMEOUT_MS;
    }
    if (options.connection_count > STORE_SQLITE_MAX_CONNECTION_COUNT) {
        return attest_diag_set(diag, ATTEST_ERR_LIMIT,
                               "store: connection count %zu is above the maximum of %d",
                               options.connection_count, STORE_SQLITE_MAX_CONNECTION_COUNT);
    }
    if (options.connection_count == 0) {
        options.connection_count = STORE_SQLITE_DEFAULT_CONNECTION_COUNT;
    }

    *out_options = options;
    return ATTEST_OK;
}

static void store_sqlite_close(attestd_store *base)
{
    store_sqlite *store = (store_sqlite *)base;
    if (store->checkpointer_started) {
        pthread_mutex_lock(&store->checkpoint_mutex);
        store->stopping = true;
        pthread_cond_signal(&store->checkpoint_requested_cond);
        pthread_mutex_unlock(&store->checkpoint_mutex);
        pthread_join(store->checkpointer, NULL);
    }
    for (size_t i = 0; i < store->connection_count; i++) {
        /* sqlite3_close fails only while statements are unfinalized, and
         * every operation finalizes or hands back its statement on all paths. */
        statement_cache_clear(&store->statement_caches[i]);
        (void)sqlite3_close(store->connections[i]);
    }
    /* The last connection to close checkpoints the WAL into the database. */
    (void)sqlite3_close(store->checkpoint_db);
    pthread_cond_destroy(&store->checkpoint_requested_cond);
    pthread_mutex_destroy(&store->checkpoint_mutex);
    pthread_cond_destroy(&store->connection_freed);
    pthread_mutex_destroy(&store->write_mutex);
    pthread_mutex_destroy(&store->mutex);
    free(store->connections);
    free(store->in_use);
    free(store->statement_caches);
    free(store);
}

attest_err attestd_store_open_sqlite(const char *path, const attestd_sqlite_options *options,
                                     attestd_store **out_store, attest_diag *diag)
{
    if (path == NULL || out_store == NULL) {
        return attest_diag_set(diag, ATTEST_ERR_ARGUMENT, "store: %s is NULL",
                               path == NULL ? "path" : "out_store");
    }
    if (sqlite3_threadsafe() == 0) {
        return attest_diag_set(diag, ATTEST_ERR_STORE,
                               "store: the SQLite library was built without thread support "
                               "(SQLITE_THREADSAFE=0)");
    }

    attestd_sqlite_options checked = {0};
    attest_err err = check_options(options, &checked, diag);
    if (err != ATTEST_OK) {
        return err;
    }
    if (!checked.read_only) {
        err = create_private_file(path, diag);
        if (err != ATTEST_OK) {
            return err;
        }
    }

    store_sqlite *store = calloc(1, sizeof(*store));
    if (store == NULL) {
        return attest_diag_set(diag, ATTEST_ERR_NOMEM, "store: allocating the store failed");
    }
    store->base.ops = &store_sqlite_ops;
    store->connections = calloc(checked.connection_count, sizeof(*store->connections));
    store->in_use = calloc(checked.connection_count, sizeof(*store->in_use));
    store->statement_caches = calloc(checked.connection_count,
                                     sizeof(*store->statement_caches));
    if (store->connections == NULL || store->in_use == NULL || store->statement_caches == NULL) {
        free(store->connections);
        free(store->in_use);
        free(store->statement_caches);
        free(store);
        return attest_diag_set(diag, ATTEST_ERR_NOMEM,
                               "store: allocating %zu connections failed",
                               checked.connection_count);
    }
    if (pthread_mutex_init(&store->mutex, NULL) != 0 ||
        pthread_mutex_init(&store->write_mutex, NULL) != 0 ||
        pthread_cond_init(&store->connection_freed, NULL) != 0 ||
        pthread_mutex_init(&store->checkpoint_mutex, NULL) != 0 ||
        pthread_cond_init(&store->checkpoint_requested_cond, NULL) != 0) {
        /* glibc's initializers fail only on invalid attributes, which are never passed here. */
        free(store->connections);
        free(store->in_use);
        free(store->statement_caches);
        free(store);
        return attest_diag_set(diag, ATTEST_ERR_STORE, "store: initializing a lock failed");
    }

    /* From here on, store_sqlite_close frees whatever has been opened. */
    for (size_t i = 0; i < checked.connection_count; i++) {
        err = open_connection(path, &checked, &store->connections[i], diag);
        if (err != ATTEST_OK) {
            goto fail;
        }
        store->connection_count = i + 1;

        /* The first connection prepares the file before the others use it. */
        if (i == 0) {
            err = enable_wal(store->connections[0], path, diag);
            if (err != ATTEST_OK) {
                goto fail;
            }
            err = migrate(store->connections[0], path, diag);
            if (err != ATTEST_OK) {
                goto fail;
            }
        }
    }

    if (!checked.read_only) {
        err = open_connection(path, &checked, &store->checkpoint_db, diag);
        if (err != ATTEST_OK) {
            goto fail;
        }
        for (size_t i = 0; i < store->connection_count; i++) {
            sqlite3_wal_hook(store->connections[i], wal_committed, store);
        }
        if (pthread_create(&store->checkpointer, NULL, checkpointer_run, store) != 0) {
            err = attest_diag_set(diag, ATTEST_ERR_STORE,
                                  "store: starting the WAL checkpoint thread failed");
            goto fail;
        }
        store->checkpointer_started = true;
    }

    *out_store = &store->base;
    return ATTEST_OK;

fail:
    store_sqlite_close(&store->base);
    return err;
}
