/*
 * Tests of the state store on real SQLite files, each test in its own
 * temporary directory under TMPDIR (or /tmp).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <sqlite3.h>

#include "store.h"
#include "support.h"

static attest_diag diag;

/* Asserts the exact error of call and prints the diag when it differs. */
#define assert_attest(call, expected)                                                       \
    do {                                                                                     \
        memset(&diag, 0, sizeof(diag));                                                      \
        attest_err got_ = (call);                                                            \
        if (got_ != (expected)) {                                                            \
            print_message("got %s, expected %s: %s\n", attest_err_code(got_),                \
                          attest_err_code(expected), diag.message);                          \
        }                                                                                    \
        assert_int_equal(got_, (expected));                                                  \
    } while (0)

typedef struct fixture {
    char dir[256];
    char path[300];
    attestd_store *store;
} fixture;

static void remove_database(const fixture *f)
{
    static const char *const suffixes[] = {"", "-wal", "-shm", "-journal"};
    for (size_t i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
        char name[320];
        snprintf(name, sizeof(name), "%s%s", f->path, suffixes[i]);
        unlink(name);
    }
}

static int setup_directory(void **state)
{
    fixture *f = calloc(1, sizeof(*f));
    if (f == NULL) {
        return -1;
    }
    const char *tmp = getenv("TMPDIR");
    snprintf(f->dir, sizeof(f->dir), "%s/attest-store-XXXXXX", tmp != NULL ? tmp : "/tmp");
    if (mkdtemp(f->dir) == NULL) {
        free(f);
        return -1;
    }
    snprintf(f->path, sizeof(f->path), "%s/state.db", f->dir);
    *state = f;
    return 0;
}

static int setup_store(void **state)
{
    if (setup_directory(state) != 0) {
        return -1;
    }
    fixture *f = *state;
    attest_err err = attestd_store_open_sqlite(f->path, NULL, &f->store, &diag);
    if (err != ATTEST_OK) {
        print_message("open failed: %s\n", diag.message);
        return -1;
    }
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    attestd_store_close(f->store);
    chmod(f->path, 0600);
    remove_database(f);
    rmdir(f->dir);
    free(f);
    return 0;
}

/* Reads an integer PRAGMA from the file with a separate plain connection. */
static int read_pragma(const char *path, const char *sql)
{
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
    sqlite3_stmt *stmt = NULL;
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &stmt, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(stmt), SQLITE_ROW);
    int value = sqlite3_column_int(stmt, 0);
    sqlite3_finalize(stmt);
    sqlite3_close(db);
    return value;
}

static void run_sql(const char *path, const char *sql)
{
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
}

/* Returns whether the file at path contains text; a missing file contains nothing. */
static bool file_contains(const char *path, const char *text)
{
    FILE *file = fopen(path, "rb");
    if (file == NULL) {
        return false;
    }
    size_t text_size = strlen(text);
    size_t capacity = 1 << 16;
    size_t size = 0;
    char *data = malloc(capacity);
    assert_non_null(data);
    size_t got;
    while ((got = fread(data + size, 1, capacity - size, file)) > 0) {
        size += got;
        if (size == capacity) {
            capacity *= 2;
            data = realloc(data, capacity);
            assert_non_null(data);
        }
    }
    fclose(file);
    bool found = false;
    for (size_t i = 0; !found && i + text_size <= size; i++) {
        found = memcmp(data + i, text, text_size) == 0;
    }
    free(data);
    return found;
}

static void fill_bytes(uint8_t *out, size_t size, uint32_t seed)
{
    for (size_t i = 0; i < size; i++) {
        out[i] = (uint8_t)((seed * 2654435761u + i * 40503u) >> 7);
    }
}

/* Opening, schema and migrations */

static void test_open_creates_private_wal_file(void **state)
{
    fixture *f = *state;

    struct stat info;
    assert_int_equal(stat(f->path, &info), 0);
    assert_int_equal(info.st_mode & 0777, 0600);
    assert_int_equal(read_pragma(f->path, "PRAGMA user_version"), 2);
    assert_string_equal(attestd_store_backend(f->store), "sqlite");

    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open_v2(f->path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    sqlite3_stmt *stmt = NULL;
    assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &stmt, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(stmt), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(stmt, 0), "wal");
    sqlite3_finalize(stmt);
    sqlite3_close(db);
}

static void test_open_migrates_empty_file(void **state)
{
    fixture *f = *state;
    FILE *file = fopen(f->path, "wb");
    assert_non_null(file);
    fclose(file);
    assert_int_equal(read_pragma(f->path, "PRAGMA user_version"), 0);

    assert_attest(attestd_store_open_sqlite(f->path, NULL, &f->store, &diag), ATTEST_OK);
    assert_int_equal(read_pragma(f->path, "PRAGMA user_version"), 2);
    int64_t id = 0;
    assert_attest(attestd_store_application_create(f->store, "app", 10, &id, &diag), ATTEST_OK);
}

static void test_reopen_keeps_data_and_version(void **state)
{
    fixture *f = *state;
    int64_t id = 0;
    assert_attest(attestd_store_application_create(f->store, "kept", 10, &id, &diag),
                  ATTEST_OK);
    int64_t version = 0;
    assert_attest(attestd_store_policy_put(f->store, "kept", (const uint8_t *)"{}", 2, 11,
                                           &version, &diag),
                  ATTEST_OK);
    attestd_store_close(f->store);
    f->store = NULL;

    attestd_sqlite_options options = {.synchronous = ATTESTD_SQLITE_SYNCHRONOUS_FULL};
    assert_attest(attestd_store_open_sqlite(f->path, &options, &f->store, &diag), ATTEST_OK);
    assert_int_equal(read_pragma(f->path, "PRAGMA user_version"), 2);
    attestd_application application;
    assert_attest(attestd_store_application_get(f->store, "kept", &application, &diag),
                  ATTEST_OK);
    assert_int_equal(application.id, id);
    assert_int_equal(application.created_at, 10);
    attestd_policy_version_list versions = {0};
    assert_attest(attestd_store_policy_list(f->store, "kept", &versions, &diag), ATTEST_OK);
    assert_int_equal(versions.count, 1);
    attestd_policy_version_list_free(&versions);
}

static void test_open_newer_schema_rejected(void **state)
{
    fixture *f = *state;
    attestd_store_close(f->store);
    f->store = NULL;
    run_sql(f->path, "PRAGMA user_version = 99");

    attestd_store *store = NULL;
    assert_attest(attestd_store_open_sqlite(f->path, NULL, &store, &diag),
                  ATTEST_ERR_STORE_SCHEMA);
    assert_null(store);
    assert_non_null(strstr(diag.message, "99"));
}

static void test_open_options_rejected(void **state)
{
    fixture *f = *state;
    attestd_store *store = NULL;

    attestd_sqlite_options options = {.connection_count = 65};
    assert_attest(attestd_store_open_sqlite(f->path, &options, &store, &diag), ATTEST_ERR_LIMIT);
    options = (attestd_sqlite_options){.busy_timeout_ms = -1};
    assert_attest(attestd_store_open_sqlite(f->path, &options, &store, &diag),
                  ATTEST_ERR_ARGUMENT);
    options = (attestd_sqlite_options){.synchronous = (attestd_sqlite_synchronous)7};
    assert_attest(attestd_store_open_sqlite(f->path, &options, &store, &diag),
                  ATTEST_ERR_ARGUMENT);
    assert_attest(attestd_store_open_sqlite(NULL, NULL, &store, &diag), ATTEST_ERR_ARGUMENT);
    assert_null(store);
}

static void test_open_missing_directory(void **state)
{
    fixture *f = *state;
    char path[400];
    snprintf(path, sizeof(path), "%s/missing/state.db", f->dir);
    attestd_store *store = NULL;
    assert_attest(attestd_store_open_sqlite(path, NULL, &store, &diag), ATTEST_ERR_IO);
    assert_non_null(strstr(diag.message, "missing/state.db"));
    assert_null(store);
}

/* Applications */

static void test_application_create_get_list_delete(void **state)
{
    fixture *f = *state;
    int64_t first = 0;
    int64_t second = 0;
    assert_attest(attestd_store_application_create(f->store, "web.frontend-1", 100, &first,
                                                   &diag),
                  ATTEST_OK);
    assert_attest(attestd_store_application_create(f->store, "batch_job", 101, &second, &diag),
                  ATTEST_OK);
    assert_true(first != second);

    attestd_application application;
    assert_attest(attestd_store_application_get(f->store, "web.frontend-1", &application, &diag),
                  ATTEST_OK);
    assert_int_equal(application.id, first);
    assert_string_equal(application.name, "web.frontend-1");
    assert_int_equal(application.created_at, 100);

    attestd_application_list list = {0};
    assert_attest(attestd_store_application_list(f->store, &list, &diag), ATTEST_OK);
    assert_int_equal(list.count, 2);
    assert_string_equal(list.items[0].name, "batch_job");
    assert_string_equal(list.items[1].name, "web.frontend-1");
    attestd_application_list_free(&list);

    assert_attest(attestd_store_application_delete(f->store, "batch_job", &diag), ATTEST_OK);
    assert_attest(attestd_store_application_get(f->store, "batch_job", &application, &diag),
                  ATTEST_ERR_NOT_FOUND);
    assert_attest(attestd_store_application_list(f->store, &list, &diag), ATTEST_OK);
    assert_int_equal(list.count, 1);
    attestd_application_list_free(&list);
}

static void test_application_duplicate_and_missing(void **state)
{
    fixture *f = *state;
    int64_t id = 0;
    assert_attest(attestd_store_application_create(f->store, "app", 1, &id, &diag), ATTEST_OK);
    int64_t other = -1;
    assert_attest(attestd_store_application_create(f->store, "app", 2, &other, &diag),
                  ATTEST_ERR_ALREADY_EXISTS);
    assert_int_equal(other, -1);
    assert_non_null(strstr(diag.message, "'app'"));

    attestd_application application;
    assert_attest(attestd_store_application_get(f->store, "nope", &application, &diag),
                  ATTEST_ERR_NOT_FOUND);
    assert_non_null(strstr(diag.message, "'nope'"));
    assert_attest(attestd_store_application_delete(f->store, "nope", &diag),
                  ATTEST_ERR_NOT_FOUND);
}

static void test_application_name_rules(void **state)
{
    fixture *f = *state;
    char longest[ATTESTD_NAME_MAX_SIZE + 1];
    memset(longest, 'a', ATTESTD_NAME_MAX_SIZE);
    longest[ATTESTD_NAME_MAX_SIZE] = '\0';
    char too_long[ATTESTD_NAME_MAX_SIZE + 2];
    memset(too_long, 'b', ATTESTD_NAME_MAX_SIZE + 1);
    too_long[ATTESTD_NAME_MAX_SIZE + 1] = '\0';

    static const struct {
        const char *name;
        attest_err expected;
        const char *broken;
    } cases[] = {
        {"", ATTEST_ERR_ARGUMENT, "empty"},
        {"App", ATTEST_ERR_ARGUMENT, "uppercase letter"},
        {"a b", ATTEST_ERR_ARGUMENT, "space"},
        {"a/b", ATTEST_ERR_ARGUMENT, "slash"},
        {"a'b", ATTEST_ERR_ARGUMENT, "quote"},
        {"caf\xc3\xa9", ATTEST_ERR_ARGUMENT, "non-ASCII byte"},
        {"ok-1.2_3", ATTEST_OK, "every allowed class"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int64_t id = 0;
        attest_err err = attestd_store_application_create(f->store, cases[i].name, 1, &id, &diag);
        if (err != cases[i].expected) {
            print_message("case %s: got %s\n", cases[i].broken, attest_err_code(err));
        }
        assert_int_equal(err, cases[i].expected);
    }

    int64_t id = 0;
    assert_attest(attestd_store_application_create(f->store, longest, 1, &id, &diag), ATTEST_OK);
    assert_attest(attestd_store_application_create(f->store, too_long, 1, &id, &diag),
                  ATTEST_ERR_LIMIT);
    assert_attest(attestd_store_application_create(f->store, NULL, 1, &id, &diag),
                  ATTEST_ERR_ARGUMENT);
}

static void test_application_delete_cascades(void **state)
{
    fixture *f = *state;
    int64_t id = 0;
    int64_t version = 0;
    assert_attest(attestd_store_application_create(f->store, "gone", 1, &id, &diag), ATTEST_OK);
    assert_attest(attestd_store_policy_put(f->store, "gone", (const uint8_t *)"{\"a\":1}", 7, 2,
                                           &version, &diag),
                  ATTEST_OK);
    attestd_audit_record record = {.time = 3, .verdict = ATTESTD_VERDICT_ACCEPTED,
                                   .policy_version = 1};
    strcpy(record.application, "gone");
    assert_attest(attestd_store_audit_insert(f->store, &record, NULL, &diag), ATTEST_OK);

    assert_attest(attestd_store_application_delete(f->store, "gone", &diag), ATTEST_OK);
    assert_int_equal(read_pragma(f->path, "SELECT count(*) FROM policies"), 0);

    /* Recreating the name starts a fresh history at version 1. */
    assert_attest(attestd_store_application_create(f->store, "gone", 4, &id, &diag), ATTEST_OK);
    assert_attest(attestd_store_policy_put(f->store, "gone", (const uint8_t *)"{}", 2, 5,
                                           &version, &diag),
                  ATTEST_OK);
    assert_int_equal(version, 1);

    attestd_audit_filter filter = {.application = "gone", .limit = 10};
    attestd_audit_list list = {0};
    assert_attest(attestd_store_audit_list(f->store, &filter, &list, &diag), ATTEST_OK);
    assert_int_equal(list.count, 1);
    attestd_audit_list_free(&list);
}

/* Policies */

static void test_policy_versions_and_activation(void **state)
{
    fixture *f = *state;
    int64_t id = 0;
    assert_attest(attestd_store_application_create(f->store, "app", 1, &id, &diag), ATTEST_OK);

    /* Documents with NUL and non-UTF-8 bytes come back byte for byte. */
    uint8_t documents[3][100];
    for (uint32_t i = 0; i < 3; i++) {
        fill_bytes(documents[i], sizeof(documents[i]), i + 1);
        documents[i][10] = 0;
        documents[i][11] = 0xff;
        int64_t version = 0;
        assert_attest(attestd_store_policy_put(f->store, "app", documents[i],
                                               sizeof(documents[i]), 10 + i, &version, &diag),
                      ATTEST_OK);
        assert_int_equal(version, i + 1);
    }

    attestd_policy policy = {0};
    assert_attest(attestd_store_policy_get_active(f->store, "app", &policy, &diag),
                  ATTEST_ERR_NOT_FOUND);
    assert_non_null(strstr(diag.message, "no active policy"));

    for (uint32_t i = 0; i < 3; i++) {
        assert_attest(attestd_store_policy_get(f->store, "app", i + 1, &policy, &diag),
                      ATTEST_OK);
        assert_int_equal(policy.info.version, i + 1);
        assert_int_equal(policy.info.document_size, sizeof(documents[i]));
        assert_memory_equal(policy.document, documents[i], sizeof(documents[i]));
        assert_int_equal(policy.document[policy.info.document_size], 0);
        uint8_t digest[32];
        unsigned int digest_size = 0;
        assert_int_equal(EVP_Digest(documents[i], sizeof(documents[i]), digest, &digest_size,
                                    EVP_sha256(), NULL),
                         1);
        assert_memory_equal(policy.info.sha256, digest, 32);
        assert_int_equal(policy.info.created_at, 10 + i);
        assert_false(policy.info.active);
        attestd_policy_free(&policy);
    }

    assert_attest(attestd_store_policy_activate(f->store, "app", 2, &diag), ATTEST_OK);
    assert_attest(attestd_store_policy_get_active(f->store, "app", &policy, &diag), ATTEST_OK);
    assert_int_equal(policy.info.version, 2);
    assert_true(policy.info.active);
    attestd_policy_free(&policy);

    /* An unknown version is an error and leaves version 2 active. */
    assert_attest(attestd_store_policy_activate(f->store, "app", 9, &diag),
                  ATTEST_ERR_NOT_FOUND);
    assert_non_null(strstr(diag.message, "version 9"));
    assert_attest(attestd_store_policy_get_active(f->store, "app", &policy, &diag), ATTEST_OK);
    assert_int_equal(policy.info.version, 2);
    attestd_policy_free(&policy);

    assert_attest(attestd_store_policy_activate(f->store, "app", 3, &diag), ATTEST_OK);
    assert_attest(attestd_store_policy_activate(f->store, "app", 3, &diag), ATTEST_OK);
    attestd_policy_version_list list = {0};
    assert_attest(attestd_store_policy_list(f->store, "app", &list, &diag), ATTEST_OK);
    assert_int_equal(list.count, 3);
    size_t active_count = 0;
    for (size_t i = 0; i < list.count; i++) {
        assert_int_equal(list.items[i].version, (int64_t)i + 1);
        active_count += list.items[i].active ? 1 : 0;
    }
    assert_int_equal(active_count, 1);
    assert_true(list.items[2].active);
    attestd_policy_version_list_free(&list);

    /* A new version does not take over until it is activated. */
    int64_t version = 0;
    assert_attest(attestd_store_policy_put(f->store, "app", (const uint8_t *)"x", 1, 20,
                                           &version, &diag),
                  ATTEST_OK);
    assert_int_equal(version, 4);
    assert_attest(attestd_store_policy_get_active(f->store, "app", &policy, &diag), ATTEST_OK);
    assert_int_equal(policy.info.version, 3);
    attestd_policy_free(&policy);
}

static void test_policy_errors(void **state)
{
    fixture *f = *state;
    int64_t id = 0;
    int64_t version = -1;
    assert_attest(attestd_store_application_create(f->store, "app", 1, &id, &diag), ATTEST_OK);

    assert_attest(attestd_store_policy_put(f->store, "nope", (const uint8_t *)"{}", 2, 1,
                                           &version, &diag),
                  ATTEST_ERR_NOT_FOUND);
    assert_int_equal(version, -1);

    attestd_policy policy = {0};
    assert_attest(attestd_store_policy_get(f->store, "app", 1, &policy, &diag),
                  ATTEST_ERR_NOT_FOUND);
    assert_non_null(strstr(diag.message, "version 1"));
    assert_attest(attestd_store_policy_get(f->store, "nope", 1, &policy, &diag),
                  ATTEST_ERR_NOT_FOUND);
    assert_non_null(strstr(diag.message, "application 'nope' not found"));
    assert_attest(attestd_store_policy_get(f->store, "app", 0, &policy, &diag),
                  ATTEST_ERR_ARGUMENT);
    assert_attest(attestd_store_policy_activate(f->store, "app", -1, &diag),
                  ATTEST_ERR_ARGUMENT);
    assert_attest(attestd_store_policy_activate(f->store, "nope", 1, &diag),
                  ATTEST_ERR_NOT_FOUND);
    attestd_policy_version_list list = {0};
    assert_attest(attestd_store_policy_list(f->store, "nope", &list, &diag),
                  ATTEST_ERR_NOT_FOUND);
    assert_null(list.items);
}

static void test_policy_size_limits(void **state)
{
    fixture *f = *state;
    int64_t id = 0;
    assert_attest(attestd_store_application_create(f->store, "app", 1, &id, &diag), ATTEST_OK);

    uint8_t *document = malloc(ATTESTD_POLICY_MAX_SIZE + 1);
    assert_non_null(document);
    fill_bytes(document, ATTESTD_POLICY_MAX_SIZE + 1, 7);

    int64_t version = 0;
    assert_attest(attestd_store_policy_put(f->store, "app", document, ATTESTD_POLICY_MAX_SIZE,
                                           1, &version, &diag),
                  ATTEST_OK);
    assert_int_equal(version, 1);
    assert_attest(attestd_store_policy_put(f->store, "app", document,
                                           ATTESTD_POLICY_MAX_SIZE + 1, 1, &version, &diag),
                  ATTEST_ERR_LIMIT);
    assert_non_null(strstr(diag.message, "65537"));
    assert_attest(attestd_store_policy_put(f->store, "app", document, 0, 1, &version, &diag),
                  ATTEST_ERR_ARGUMENT);
    assert_int_equal(version, 1);

    attestd_policy policy = {0};
    assert_attest(attestd_store_policy_get(f->store, "app", 1, &policy, &diag), ATTEST_OK);
    assert_int_equal(policy.info.document_size, ATTESTD_POLICY_MAX_SIZE);
    assert_memory_equal(policy.document, document, ATTESTD_POLICY_MAX_SIZE);
    attestd_policy_free(&policy);
    free(document);
}

/* API keys */

static const char admin_key[] = "q3Jx0u0cJ7C9r1yq2R8bq9c0mN1Z5sF3kT7wL2pV6eA";
static const char auditor_key[] = "Zm9vYmFyYmF6cXV4cXV1eHF1dXhxdXV4cXV1eHF1dXg";

static void test_api_key_lookup(void **state)
{
    fixture *f = *state;
    int64_t admin_id = 0;
    int64_t auditor_id = 0;
    assert_attest(attestd_store_api_key_create(f->store, "alice", ATTESTD_ROLE_ADMINISTRATOR,
                                               admin_key, 100, &admin_id, &diag),
                  ATTEST_OK);
    assert_attest(attestd_store_api_key_create(f->store, "audit-bot", ATTESTD_ROLE_AUDITOR,
                                               auditor_key, 101, &auditor_id, &diag),
                  ATTEST_OK);

    attestd_api_key key;
    assert_attest(attestd_store_api_key_lookup(f->store, admin_key, &key, &diag), ATTEST_OK);
    assert_int_equal(key.id, admin_id);
    assert_string_equal(key.name, "alice");
    assert_int_equal(key.role, ATTESTD_ROLE_ADMINISTRATOR);
    assert_int_equal(key.created_at, 100);
    assert_int_equal(key.revoked_at, 0);
    assert_attest(attestd_store_api_key_lookup(f->store, auditor_key, &key, &diag), ATTEST_OK);
    assert_int_equal(key.role, ATTESTD_ROLE_AUDITOR);

    /* A key differing in its last character is unknown. */
    char wrong[sizeof(admin_key)];
    memcpy(wrong, admin_key, sizeof(admin_key));
    wrong[sizeof(wrong) - 2] = 'B';
    memset(&key, 0x5a, sizeof(key));
    assert_attest(attestd_store_api_key_lookup(f->store, wrong, &key, &diag),
                  ATTEST_ERR_API_KEY_UNKNOWN);
    assert_int_equal(key.id, 0x5a5a5a5a5a5a5a5a);
    assert_attest(attestd_store_api_key_lookup(f->store, "", &key, &diag), ATTEST_ERR_ARGUMENT);

    assert_attest(attestd_store_api_key_revoke(f->store, "alice", 200, &diag), ATTEST_OK);
    assert_attest(attestd_store_api_key_lookup(f->store, admin_key, &key, &diag),
                  ATTEST_ERR_API_KEY_REVOKED);
    assert_non_null(strstr(diag.message, "'alice'"));
    assert_attest(attestd_store_api_key_revoke(f->store, "alice", 300, &diag), ATTEST_OK);
    assert_attest(attestd_store_api_key_revoke(f->store, "bob", 300, &diag),
                  ATTEST_ERR_NOT_FOUND);

    attestd_api_key_list list = {0};
    assert_attest(attestd_store_api_key_list(f->store, &list, &diag), ATTEST_OK);
    assert_int_equal(list.count, 2);
    assert_string_equal(list.items[0].name, "alice");
    assert_int_equal(list.items[0].revoked_at, 200);
    assert_string_equal(list.items[1].name, "audit-bot");
    assert_int_equal(list.items[1].revoked_at, 0);
    attestd_api_key_list_free(&list);

    /* The key text itself is in neither the database file nor its WAL. */
    char wal_path[320];
    snprintf(wal_path, sizeof(wal_path), "%s-wal", f->path);
    assert_false(file_contains(f->path, admin_key));
    assert_false(file_contains(wal_path, admin_key));
    assert_true(file_contains(wal_path, "audit-bot"));
    assert_int_equal(read_pragma(f->path, "SELECT length(key_sha256) FROM api_keys LIMIT 1"),
                     32);
}

/* Application-scoped keys and policy ids */

static void test_application_enroll_and_key_check(void **state)
{
    fixture *f = *state;
    int64_t id = 0;
    assert_attest(attestd_store_application_enroll(f->store, "app-one", admin_key, 7, &id, &diag),
                  ATTEST_OK);
    attestd_application application;
    assert_attest(attestd_store_application_get(f->store, "app-one", &application, &diag),
                  ATTEST_OK);
    assert_int_equal(application.id, id);
    assert_int_equal(application.created_at, 7);
    assert_int_equal(read_pragma(f->path, "SELECT count(*) FROM application_keys"), 1);
    /* The scoped key is not a /v1 key. */
    attestd_api_key key;
    assert_attest(attestd_store_api_key_lookup(f->store, admin_key, &key, &diag),
                  ATTEST_ERR_API_KEY_UNKNOWN);

    assert_attest(attestd_store_application_key_check(f->store, "app-one", admin_key, &diag),
                  ATTEST_OK);
    char wrong[sizeof(admin_key)];
    memcpy(wrong, admin_key, sizeof(admin_key));
    wrong[sizeof(wrong) - 2] = wrong[sizeof(wrong) - 2] == 'A' ? 'B' : 'A';
    assert_attest(attestd_store_application_key_check(f->store, "app-one", wrong, &diag),
                  ATTEST_ERR_API_KEY_UNKNOWN);
    assert_attest(attestd_store_application_key_check(f->store, "missing", admin_key, &diag),
                  ATTEST_ERR_API_KEY_UNKNOWN);
}

static void test_application_key_check_unscoped_app(void **state)
{
    fixture *f = *state;
    int64_t id = 0;
    assert_attest(attestd_store_application_create(f->store, "plain", 1, &id, &diag), ATTEST_OK);
    assert_attest(attestd_store_application_key_check(f->store, "plain", admin_key, &diag),
                  ATTEST_ERR_API_KEY_UNKNOWN);
}

static void test_application_enroll_conflicts(void **state)
{
    fixture *f = *state;
    assert_attest(attestd_store_application_enroll(f->store, "taken", admin_key, 1, NULL, &diag),
                  ATTEST_OK);
    /* A taken name leaves no second key behind. */
    assert_attest(attestd_store_application_enroll(f->store, "taken", auditor_key, 2, NULL, &diag),
                  ATTEST_ERR_ALREADY_EXISTS);
    assert_int_equal(read_pragma(f->path, "SELECT count(*) FROM application_keys"), 1);
    /* An identical key leaves no application behind. */
    assert_attest(attestd_store_application_enroll(f->store, "other", admin_key, 3, NULL, &diag),
                  ATTEST_ERR_ALREADY_EXISTS);
    assert_int_equal(read_pragma(f->path, "SELECT count(*) FROM applications"), 1);
    assert_attest(attestd_store_application_enroll(f->store, "Bad Name", auditor_key, 4, NULL,
                                                   &diag),
                  ATTEST_ERR_ARGUMENT);
    assert_attest(attestd_store_application_enroll(f->store, "ok", "", 4, NULL, &diag),
                  ATTEST_ERR_ARGUMENT);
}

static void test_policy_id_create_and_get(void **state)
{
    fixture *f = *state;
    int64_t version = 0;
    assert_attest(attestd_store_application_enroll(f->store, "owner", admin_key, 1, NULL, &diag),
                  ATTEST_OK);
    assert_attest(attestd_store_policy_put(f->store, "owner", (const uint8_t *)"{}", 2, 2,
                                           &version, &diag),
                  ATTEST_OK);
    assert_attest(attestd_store_policy_id_create(f->store, "pid-1", "owner", version, 3, &diag),
                  ATTEST_OK);

    char application[ATTESTD_NAME_MAX_SIZE + 1] = "";
    int64_t found = 0;
    assert_attest(attestd_store_policy_id_get(f->store, "pid-1", application, &found, &diag),
                  ATTEST_OK);
    assert_string_equal(application, "owner");
    assert_int_equal(found, version);

    assert_attest(attestd_store_policy_id_create(f->store, "pid-1", "owner", version, 4, &diag),
                  ATTEST_ERR_ALREADY_EXISTS);
    assert_attest(attestd_store_policy_id_create(f->store, "pid-2", "owner", version + 1, 4,
                                                 &diag),
                  ATTEST_ERR_NOT_FOUND);
    assert_attest(attestd_store_policy_id_create(f->store, "pid-2", "nobody", 1, 4, &diag),
                  ATTEST_ERR_NOT_FOUND);
    assert_attest(attestd_store_policy_id_create(f->store, "pid-2", "owner", 0, 4, &diag),
                  ATTEST_ERR_ARGUMENT);
    assert_attest(attestd_store_policy_id_get(f->store, "pid-2", application, &found, &diag),
                  ATTEST_ERR_NOT_FOUND);
    assert_attest(attestd_store_policy_id_get(f->store, "PID 1", application, &found, &diag),
                  ATTEST_ERR_ARGUMENT);
}

static void test_policy_id_deleted_with_application(void **state)
{
    fixture *f = *state;
    int64_t version = 0;
    assert_attest(attestd_store_application_enroll(f->store, "short", admin_key, 1, NULL, &diag),
                  ATTEST_OK);
    assert_attest(attestd_store_policy_put(f->store, "short", (const uint8_t *)"{}", 2, 2,
                                           &version, &diag),
                  ATTEST_OK);
    assert_attest(attestd_store_policy_id_create(f->store, "pid", "short", version, 3, &diag),
                  ATTEST_OK);
    assert_attest(attestd_store_application_delete(f->store, "short", &diag), ATTEST_OK);
    assert_int_equal(read_pragma(f->path, "SELECT count(*) FROM policy_ids"), 0);
    assert_int_equal(read_pragma(f->path, "SELECT count(*) FROM application_keys"), 0);

    char application[ATTESTD_NAME_MAX_SIZE + 1];
    int64_t found = 0;
    assert_attest(attestd_store_policy_id_get(f->store, "pid", application, &found, &diag),
                  ATTEST_ERR_NOT_FOUND);
    /* The same key may enroll again once its application is gone. */
    assert_attest(attestd_store_application_enroll(f->store, "short", admin_key, 4, NULL, &diag),
                  ATTEST_OK);
}

static void test_api_key_create_errors(void **state)
{
    fixture *f = *state;
    int64_t id = 0;
    assert_attest(attestd_store_api_key_create(f->store, "alice", ATTESTD_ROLE_ADMINISTRATOR,
                                               admin_key, 1, &id, &diag),
                  ATTEST_OK);
    assert_attest(attestd_store_api_key_create(f->store, "alice", ATTESTD_ROLE_AUDITOR,
                                               auditor_key, 1, &id, &diag),
                  ATTEST_ERR_ALREADY_EXISTS);
    assert_attest(attestd_store_api_key_create(f->store, "other", ATTESTD_ROLE_AUDITOR,
                                               admin_key, 1, &id, &diag),
                  ATTEST_ERR_ALREADY_EXISTS);
    assert_attest(attestd_store_api_key_create(f->store, "bob", (attestd_role)3, auditor_key, 1,
                                               &id, &diag),
                  ATTEST_ERR_ARGUMENT);
    assert_attest(attestd_store_api_key_create(f->store, "bob", ATTESTD_ROLE_AUDITOR, "", 1, &id,
                                               &diag),
                  ATTEST_ERR_ARGUMENT);

    char long_key[ATTESTD_API_KEY_MAX_SIZE + 2];
    memset(long_key, 'k', sizeof(long_key) - 1);
    long_key[sizeof(long_key) - 1] = '\0';
    assert_attest(attestd_store_api_key_create(f->store, "bob", ATTESTD_ROLE_AUDITOR, long_key,
                                               1, &id, &diag),
                  ATTEST_ERR_LIMIT);
    attestd_api_key key;
    assert_attest(attestd_store_api_key_lookup(f->store, long_key, &key, &diag),
                  ATTEST_ERR_LIMIT);
}

static void test_store_initialize_once(void **state)
{
    fixture *f = *state;
    bool initialized = true;
    assert_attest(attestd_store_is_initialized(f->store, &initialized, &diag), ATTEST_OK);
    assert_false(initialized);

    int64_t id = 0;
    assert_attest(attestd_store_initialize(f->store, "root", admin_key, 5, &id, &diag),
                  ATTEST_OK);
    assert_attest(attestd_store_is_initialized(f->store, &initialized, &diag), ATTEST_OK);
    assert_true(initialized);
    attestd_api_key key;
    assert_attest(attestd_store_api_key_lookup(f->store, admin_key, &key, &diag), ATTEST_OK);
    assert_int_equal(key.id, id);
    assert_int_equal(key.role, ATTESTD_ROLE_ADMINISTRATOR);

    assert_attest(attestd_store_initialize(f->store, "root2", auditor_key, 6, &id, &diag),
                  ATTEST_ERR_STORE_INITIALIZED);
    assert_attest(attestd_store_api_key_lookup(f->store, auditor_key, &key, &diag),
                  ATTEST_ERR_API_KEY_UNKNOWN);
}

/* Nonces, consumed in the transaction of an audit record */

static attestd_audit_record make_record(int64_t time, const char *application,
                                        attestd_verdict verdict, const char *request_id)
{
    attestd_audit_record record;
    memset(&record, 0, sizeof(record));
    record.time = time;
    snprintf(record.application, sizeof(record.application), "%s", application);
    snprintf(record.evidence_type, sizeof(record.evidence_type), "sgx");
    fill_bytes(record.evidence_sha256, sizeof(record.evidence_sha256), (uint32_t)time);
    record.verdict = verdict;
    if (verdict == ATTESTD_VERDICT_REJECTED) {
        snprintf(record.failing_check, sizeof(record.failing_check), "tcb_status");
    } else {
        snprintf(record.token_id, sizeof(record.token_id), "jti-%s", request_id);
    }
    record.policy_version = 3;
    snprintf(record.client_address, sizeof(record.client_address), "127.0.0.1");
    snprintf(record.request_id, sizeof(record.request_id), "%s", request_id);
    return record;
}

/* Consumes nonce with an audit record of request "consume". */
static attest_err consume(attestd_store *store, const uint8_t nonce[ATTESTD_NONCE_SIZE],
                          int64_t expires_at, int64_t now, attest_diag *diag)
{
    attestd_audit_record record = make_record(now, "app", ATTESTD_VERDICT_ACCEPTED, "consume");
    return attestd_store_audit_insert_consuming(store, &record, nonce, expires_at, now, NULL,
                                                diag);
}

static void test_nonce_replay_and_purge(void **state)
{
    fixture *f = *state;
    uint8_t nonce[ATTESTD_NONCE_SIZE];
    uint8_t other[ATTESTD_NONCE_SIZE];
    fill_bytes(nonce, sizeof(nonce), 1);
    fill_bytes(other, sizeof(other), 2);

    assert_attest(consume(f->store, nonce, 1000, 900, &diag), ATTEST_OK);
    assert_attest(consume(f->store, nonce, 1000, 901, &diag), ATTEST_ERR_NONCE_REPLAYED);
    assert_attest(consume(f->store, other, 1000, 1000, &diag), ATTEST_ERR_NONCE_EXPIRED);
    assert_attest(consume(f->store, other, 2000, 1000, &diag), ATTEST_OK);
    /* The replay and the expired nonce stored no audit record either. */
    assert_int_equal(read_pragma(f->path, "SELECT count(*) FROM audit"), 2);

    uint64_t count = 99;
    assert_attest(attestd_store_nonce_purge(f->store, 999, &count, &diag), ATTEST_OK);
    assert_int_equal(count, 0);
    assert_attest(attestd_store_nonce_purge(f->store, 1000, &count, &diag), ATTEST_OK);
    assert_int_equal(count, 1);
    assert_int_equal(read_pragma(f->path, "SELECT count(*) FROM nonces"), 1);

    /* After the purge, the expiry check alone keeps the first nonce out. */
    assert_attest(consume(f->store, nonce, 1000, 1001, &diag), ATTEST_ERR_NONCE_EXPIRED);
    assert_attest(consume(f->store, other, 2000, 1001, &diag), ATTEST_ERR_NONCE_REPLAYED);
    assert_int_equal(read_pragma(f->path, "SELECT count(*) FROM audit"), 2);
}

#define THREAD_COUNT 4
#define NONCES_PER_THREAD 200

typedef struct nonce_worker {
    attestd_store *store;
    size_t start;
    int accepted[NONCES_PER_THREAD];
    int replayed;
    int failed;
} nonce_worker;

/* Every thread consumes the same 200 nonces, each starting at another one. */
static void *consume_nonces(void *argument)
{
    nonce_worker *worker = argument;
    for (size_t i = 0; i < NONCES_PER_THREAD; i++) {
        size_t index = (worker->start + i) % NONCES_PER_THREAD;
        uint8_t nonce[ATTESTD_NONCE_SIZE] = {0};
        nonce[0] = (uint8_t)(index & 0xff);
        nonce[1] = (uint8_t)(index >> 8);
        attest_diag local = {{0}};
        attest_err err = consume(worker->store, nonce, 5000, 10, &local);
        if (err == ATTEST_OK) {
            worker->accepted[index]++;
        } else if (err == ATTEST_ERR_NONCE_REPLAYED) {
            worker->replayed++;
        } else {
            worker->failed++;
        }
    }
    return NULL;
}

static void test_nonce_concurrent_threads(void **state)
{
    fixture *f = *state;
    nonce_worker workers[THREAD_COUNT];
    pthread_t threads[THREAD_COUNT];
    memset(workers, 0, sizeof(workers));

    for (size_t t = 0; t < THREAD_COUNT; t++) {
        workers[t].store = f->store;
        workers[t].start = t * (NONCES_PER_THREAD / THREAD_COUNT);
        assert_int_equal(pthread_create(&threads[t], NULL, consume_nonces, &workers[t]), 0);
    }
    for (size_t t = 0; t < THREAD_COUNT; t++) {
        assert_int_equal(pthread_join(threads[t], NULL), 0);
    }

    int replayed = 0;
    for (size_t t = 0; t < THREAD_COUNT; t++) {
        assert_int_equal(workers[t].failed, 0);
        replayed += workers[t].replayed;
    }
    assert_int_equal(replayed, (THREAD_COUNT - 1) * NONCES_PER_THREAD);
    for (size_t i = 0; i < NONCES_PER_THREAD; i++) {
        int accepted = 0;
        for (size_t t = 0; t < THREAD_COUNT; t++) {
            accepted += workers[t].accepted[i];
        }
        assert_int_equal(accepted, 1);
    }
    assert_int_equal(read_pragma(f->path, "SELECT count(*) FROM nonces"), NONCES_PER_THREAD);
    assert_int_equal(read_pragma(f->path, "SELECT count(*) FROM audit"), NONCES_PER_THREAD);
}

/* Audit records */


static void test_audit_filters_and_order(void **state)
{
    fixture *f = *state;
    const attestd_audit_record records[] = {
        make_record(100, "a", ATTESTD_VERDICT_ACCEPTED, "r1"),
        make_record(200, "b", ATTESTD_VERDICT_REJECTED, "r2"),
        make_record(300, "a", ATTESTD_VERDICT_REJECTED, "r3"),
        make_record(300, "a", ATTESTD_VERDICT_ACCEPTED, "r4"),
        make_record(400, "b", ATTESTD_VERDICT_ACCEPTED, "r5"),
    };
    int64_t ids[5];
    for (size_t i = 0; i < 5; i++) {
        assert_attest(attestd_store_audit_insert(f->store, &records[i], &ids[i], &diag),
                      ATTEST_OK);
    }

    attestd_audit_list list = {0};
    attestd_audit_filter filter = {.limit = 100};
    assert_attest(attestd_store_audit_list(f->store, &filter, &list, &diag), ATTEST_OK);
    assert_int_equal(list.count, 5);
    static const char *const newest_first[] = {"r5", "r4", "r3", "r2", "r1"};
    for (size_t i = 0; i < 5; i++) {
        assert_string_equal(list.items[i].request_id, newest_first[i]);
    }
    /* Every field comes back as inserted. */
    const attestd_audit_record *r2 = &list.items[3];
    assert_int_equal(r2->id, ids[1]);
    assert_int_equal(r2->time, 200);
    assert_string_equal(r2->application, "b");
    assert_string_equal(r2->evidence_type, "sgx");
    assert_memory_equal(r2->evidence_sha256, records[1].evidence_sha256, 32);
    assert_int_equal(r2->verdict, ATTESTD_VERDICT_REJECTED);
    assert_string_equal(r2->failing_check, "tcb_status");
    assert_int_equal(r2->policy_version, 3);
    assert_string_equal(r2->token_id, "");
    assert_string_equal(r2->client_address, "127.0.0.1");
    attestd_audit_list_free(&list);

    filter = (attestd_audit_filter){.application = "a", .limit = 100};
    assert_attest(attestd_store_audit_list(f->store, &filter, &list, &diag), ATTEST_OK);
    assert_int_equal(list.count, 3);
    assert_string_equal(list.items[0].request_id, "r4");
    assert_string_equal(list.items[2].request_id, "r1");
    attestd_audit_list_free(&list);

    filter = (attestd_audit_filter){.verdict = ATTESTD_VERDICT_REJECTED, .limit = 100};
    assert_attest(attestd_store_audit_list(f->store, &filter, &list, &diag), ATTEST_OK);
    assert_int_equal(list.count, 2);
    assert_string_equal(list.items[0].request_id, "r3");
    assert_string_equal(list.items[1].request_id, "r2");
    attestd_audit_list_free(&list);

    /* time_from is inclusive and time_to exclusive. */
    filter = (attestd_audit_filter){.has_time_from = true, .time_from = 200,
                                    .has_time_to = true, .time_to = 400, .limit = 100};
    assert_attest(attestd_store_audit_list(f->store, &filter, &list, &diag), ATTEST_OK);
    assert_int_equal(list.count, 3);
    assert_string_equal(list.items[0].request_id, "r4");
    assert_string_equal(list.items[2].request_id, "r2");
    attestd_audit_list_free(&list);

    filter = (attestd_audit_filter){.application = "a", .verdict = ATTESTD_VERDICT_ACCEPTED,
                                    .has_time_from = true, .time_from = 150, .limit = 100};
    assert_attest(attestd_store_audit_list(f->store, &filter, &list, &diag), ATTEST_OK);
    assert_int_equal(list.count, 1);
    assert_string_equal(list.items[0].request_id, "r4");
    attestd_audit_list_free(&list);

    filter = (attestd_audit_filter){.limit = 2, .offset = 1};
    assert_attest(attestd_store_audit_list(f->store, &filter, &list, &diag), ATTEST_OK);
    assert_int_equal(list.count, 2);
    assert_string_equal(list.items[0].request_id, "r4");
    assert_string_equal(list.items[1].request_id, "r3");
    attestd_audit_list_free(&list);

    filter = (attestd_audit_filter){.limit = 10, .offset = 5};
    assert_attest(attestd_store_audit_list(f->store, &filter, &list, &diag), ATTEST_OK);
    assert_int_equal(list.count, 0);
    attestd_audit_list_free(&list);
}

static void test_audit_rejects_bad_input(void **state)
{
    fixture *f = *state;
    attestd_audit_list list = {0};
    attestd_audit_filter filter = {.limit = 0};
    assert_attest(attestd_store_audit_list(f->store, &filter, &list, &diag), ATTEST_ERR_LIMIT);
    filter.limit = ATTESTD_AUDIT_LIST_MAX_COUNT + 1;
    assert_attest(attestd_store_audit_list(f->store, &filter, &list, &diag), ATTEST_ERR_LIMIT);
    filter = (attestd_audit_filter){.limit = 1, .verdict = (attestd_verdict)9};
    assert_attest(attestd_store_audit_list(f->store, &filter, &list, &diag),
                  ATTEST_ERR_ARGUMENT);
    filter = (attestd_audit_filter){.limit = 1, .application = "Bad Name"};
    assert_attest(attestd_store_audit_list(f->store, &filter, &list, &diag),
                  ATTEST_ERR_ARGUMENT);

    attestd_audit_record record = make_record(1, "a", ATTESTD_VERDICT_ANY, "r");
    assert_attest(attestd_store_audit_insert(f->store, &record, NULL, &diag),
                  ATTEST_ERR_ARGUMENT);
    record = make_record(1, "a", ATTESTD_VERDICT_ACCEPTED, "r");
    memset(record.request_id, 'x', sizeof(record.request_id));
    assert_attest(attestd_store_audit_insert(f->store, &record, NULL, &diag),
                  ATTEST_ERR_ARGUMENT);
    assert_non_null(strstr(diag.message, "request_id"));
    record = make_record(1, "a", ATTESTD_VERDICT_ACCEPTED, "r");
    record.client_address[0] = '\n';
    assert_attest(attestd_store_audit_insert(f->store, &record, NULL, &diag),
                  ATTEST_ERR_ARGUMENT);
    record = make_record(1, "a", ATTESTD_VERDICT_ACCEPTED, "r");
    record.policy_version = -1;
    assert_attest(attestd_store_audit_insert(f->store, &record, NULL, &diag),
                  ATTEST_ERR_ARGUMENT);
    assert_int_equal(read_pragma(f->path, "SELECT count(*) FROM audit"), 0);
}

/* Collateral cache */

static void test_collateral_cache(void **state)
{
    fixture *f = *state;
    const char *key = "sgx/tcb/00906ED50000";
    uint8_t blob[300];
    fill_bytes(blob, sizeof(blob), 3);

    uint8_t *read = NULL;
    size_t read_size = 0;
    int64_t next_update = 0;
    assert_attest(attestd_store_collateral_get(f->store, key, 10, &read, &read_size,
                                               &next_update, &diag),
                  ATTEST_ERR_NOT_FOUND);
    assert_null(read);

    assert_attest(attestd_store_collateral_put(f->store, key, blob, sizeof(blob), 1000, &diag),
                  ATTEST_OK);
    assert_attest(attestd_store_collateral_get(f->store, key, 999, &read, &read_size,
                                               &next_update, &diag),
                  ATTEST_OK);
    assert_int_equal(read_size, sizeof(blob));
    assert_memory_equal(read, blob, sizeof(blob));
    assert_int_equal(next_update, 1000);
    free(read);
    read = NULL;

    /* At nextUpdate the entry counts as absent. */
    assert_attest(attestd_store_collateral_get(f->store, key, 1000, &read, &read_size,
                                               &next_update, &diag),
                  ATTEST_ERR_NOT_FOUND);

    /* A put under the same key replaces the entry. */
    blob[0] ^= 0xff;
    assert_attest(attestd_store_collateral_put(f->store, key, blob, 10, 3000, &diag),
                  ATTEST_OK);
    assert_attest(attestd_store_collateral_get(f->store, key, 1000, &read, &read_size,
                                               &next_update, &diag),
                  ATTEST_OK);
    assert_int_equal(read_size, 10);
    assert_memory_equal(read, blob, 10);
    assert_int_equal(next_update, 3000);
    free(read);

    assert_attest(attestd_store_collateral_put(f->store, "old", blob, 5, 500, &diag),
                  ATTEST_OK);
    uint64_t count = 0;
    assert_attest(attestd_store_collateral_purge(f->store, 2000, &count, &diag), ATTEST_OK);
    assert_int_equal(count, 1);
    assert_int_equal(read_pragma(f->path, "SELECT count(*) FROM collateral"), 1);
}

static void test_collateral_rejects_bad_input(void **state)
{
    fixture *f = *state;
    uint8_t *blob = calloc(1, ATTESTD_COLLATERAL_MAX_SIZE + 1);
    assert_non_null(blob);
    assert_attest(attestd_store_collateral_put(f->store, "big", blob,
                                               ATTESTD_COLLATERAL_MAX_SIZE + 1, 10, &diag),
                  ATTEST_ERR_LIMIT);
    assert_attest(attestd_store_collateral_put(f->store, "", blob, 1, 10, &diag),
                  ATTEST_ERR_ARGUMENT);
    assert_attest(attestd_store_collateral_put(f->store, "tab\tkey", blob, 1, 10, &diag),
                  ATTEST_ERR_ARGUMENT);
    assert_attest(attestd_store_collateral_put(f->store, "empty", blob, 0, 10, &diag),
                  ATTEST_ERR_ARGUMENT);
    free(blob);
}

/* Signing keys */

static const char pem_one[] = "-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMG\n-----END PRIVATE KEY-----\n";
static const char pem_two[] = "-----BEGIN EC PRIVATE KEY-----\nMHcCAQEE\n-----END EC PRIVATE KEY-----\n";

static void test_signing_keys(void **state)
{
    fixture *f = *state;
    assert_attest(attestd_store_signing_key_put(f->store, "key-1", "ES256", pem_one, 10, &diag),
                  ATTEST_OK);
    assert_attest(attestd_store_signing_key_put(f->store, "key-2", "ES384", pem_two, 20, &diag),
                  ATTEST_OK);
    assert_attest(attestd_store_signing_key_put(f->store, "key-1", "ES256", pem_two, 30, &diag),
                  ATTEST_ERR_ALREADY_EXISTS);

    assert_attest(attestd_store_signing_key_retire(f->store, "key-1", 40, &diag), ATTEST_OK);
    assert_attest(attestd_store_signing_key_retire(f->store, "key-1", 50, &diag), ATTEST_OK);
    assert_attest(attestd_store_signing_key_retire(f->store, "key-9", 50, &diag),
                  ATTEST_ERR_NOT_FOUND);

    attestd_signing_key_list list = {0};
    assert_attest(attestd_store_signing_key_list(f->store, &list, &diag), ATTEST_OK);
    assert_int_equal(list.count, 2);
    assert_string_equal(list.items[0].kid, "key-1");
    assert_string_equal(list.items[0].algorithm, "ES256");
    assert_string_equal(list.items[0].private_key_pem, pem_one);
    assert_int_equal(list.items[0].created_at, 10);
    assert_int_equal(list.items[0].retired_at, 40);
    assert_string_equal(list.items[1].kid, "key-2");
    assert_string_equal(list.items[1].private_key_pem, pem_two);
    assert_int_equal(list.items[1].retired_at, 0);
    attestd_signing_key_list_free(&list);
    assert_null(list.items);
}

static void test_signing_key_rejects_bad_input(void **state)
{
    fixture *f = *state;
    assert_attest(attestd_store_signing_key_put(f->store, "key 1", "ES256", pem_one, 1, &diag),
                  ATTEST_ERR_ARGUMENT);
    assert_attest(attestd_store_signing_key_put(f->store, "k", "ES256!", pem_one, 1, &diag),
                  ATTEST_ERR_ARGUMENT);
    assert_attest(attestd_store_signing_key_put(f->store, "k", "ES256", "not a pem", 1, &diag),
                  ATTEST_ERR_ARGUMENT);

    char *pem = malloc(ATTESTD_PRIVATE_KEY_PEM_MAX_SIZE + 2);
    assert_non_null(pem);
    memset(pem, 'A', ATTESTD_PRIVATE_KEY_PEM_MAX_SIZE + 1);
    memcpy(pem, "-----BEGIN ", 11);
    pem[ATTESTD_PRIVATE_KEY_PEM_MAX_SIZE + 1] = '\0';
    assert_attest(attestd_store_signing_key_put(f->store, "k", "ES256", pem, 1, &diag),
                  ATTEST_ERR_LIMIT);
    free(pem);
}

/* Read-only databases */

/* Writes one record of each kind, so a later read-only open has data to keep. */
static void fill_store(attestd_store *store)
{
    int64_t id = 0;
    int64_t version = 0;
    assert_attest(attestd_store_application_create(store, "app", 1, &id, &diag), ATTEST_OK);
    assert_attest(attestd_store_policy_put(store, "app", (const uint8_t *)"{}", 2, 2, &version,
                                           &diag),
                  ATTEST_OK);
    assert_attest(attestd_store_policy_activate(store, "app", 1, &diag), ATTEST_OK);
}

/*
 * Exercises writes through the read_only option, which opens the file with
 * SQLITE_OPEN_READONLY. That is the same state SQLite falls back to when a
 * file's mode forbids writing, which root cannot test because it ignores
 * file modes.
 */
static void test_read_only_open_rejects_writes(void **state)
{
    fixture *f = *state;
    fill_store(f->store);
    attestd_store_close(f->store);
    f->store = NULL;

    attestd_sqlite_options options = {.read_only = true};
    assert_attest(attestd_store_open_sqlite(f->path, &options, &f->store, &diag), ATTEST_OK);

    attestd_policy policy = {0};
    assert_attest(attestd_store_policy_get_active(f->store, "app", &policy, &diag), ATTEST_OK);
    assert_int_equal(policy.info.version, 1);
    attestd_policy_free(&policy);

    int64_t id = -1;
    assert_attest(attestd_store_application_create(f->store, "new", 3, &id, &diag),
                  ATTEST_ERR_STORE_READ_ONLY);
    assert_int_equal(id, -1);
    assert_non_null(strstr(diag.message, "'new'"));
    assert_attest(attestd_store_policy_activate(f->store, "app", 1, &diag),
                  ATTEST_ERR_STORE_READ_ONLY);
    uint8_t nonce[ATTESTD_NONCE_SIZE] = {1};
    assert_attest(consume(f->store, nonce, 100, 1, &diag), ATTEST_ERR_STORE_READ_ONLY);
    attestd_audit_record record = make_record(1, "app", ATTESTD_VERDICT_ACCEPTED, "r");
    assert_attest(attestd_store_audit_insert(f->store, &record, NULL, &diag),
                  ATTEST_ERR_STORE_READ_ONLY);
    assert_attest(attestd_store_application_delete(f->store, "app", &diag),
                  ATTEST_ERR_STORE_READ_ONLY);
    attestd_store_close(f->store);
    f->store = NULL;

    /* Nothing stored before was lost, and nothing was half written. */
    assert_attest(attestd_store_open_sqlite(f->path, NULL, &f->store, &diag), ATTEST_OK);
    assert_attest(attestd_store_policy_get_active(f->store, "app", &policy, &diag), ATTEST_OK);
    attestd_policy_free(&policy);
    attestd_application_list list = {0};
    assert_attest(attestd_store_application_list(f->store, &list, &diag), ATTEST_OK);
    assert_int_equal(list.count, 1);
    attestd_application_list_free(&list);
}

static void test_read_only_open_needing_migration(void **state)
{
    fixture *f = *state;
    FILE *file = fopen(f->path, "wb");
    assert_non_null(file);
    fclose(file);

    attestd_sqlite_options options = {.read_only = true};
    assert_attest(attestd_store_open_sqlite(f->path, &options, &f->store, &diag),
                  ATTEST_ERR_STORE_READ_ONLY);
    assert_null(f->store);
    assert_non_null(strstr(diag.message, "needs migration"));
}

/* A file of mode 0400 as a user other than root, who would bypass the mode. */
static void test_read_only_file_mode(void **state)
{
    fixture *f = *state;
    if (geteuid() == 0) {
        print_message("skipped: root ignores file modes; "
                      "test_read_only_open_rejects_writes covers the write failure\n");
        skip();
    }
    fill_store(f->store);
    attestd_store_close(f->store);
    f->store = NULL;
    assert_int_equal(chmod(f->path, 0400), 0);

    assert_attest(attestd_store_open_sqlite(f->path, NULL, &f->store, &diag), ATTEST_OK);
    int64_t id = 0;
    assert_attest(attestd_store_application_create(f->store, "new", 3, &id, &diag),
                  ATTEST_ERR_STORE_READ_ONLY);
    attestd_policy policy = {0};
    assert_attest(attestd_store_policy_get_active(f->store, "app", &policy, &diag), ATTEST_OK);
    attestd_policy_free(&policy);
}

/*
 * A writable file in a directory of mode 0500: SQLite cannot create the -wal
 * and -shm files that WAL mode needs even to read, so open fails.
 */
static void test_read_only_directory(void **state)
{
    fixture *f = *state;
    if (geteuid() == 0) {
        print_message("skipped: root ignores directory modes\n");
        skip();
    }
    fill_store(f->store);
    attestd_store_close(f->store);
    f->store = NULL;
    assert_int_equal(chmod(f->dir, 0500), 0);

    assert_attest(attestd_store_open_sqlite(f->path, NULL, &f->store, &diag),
                  ATTEST_ERR_STORE_READ_ONLY);
    assert_null(f->store);
    assert_non_null(strstr(diag.message, "directory"));

    /* The stored data is intact once the directory is writable again. */
    assert_int_equal(chmod(f->dir, 0700), 0);
    assert_attest(attestd_store_open_sqlite(f->path, NULL, &f->store, &diag), ATTEST_OK);
    attestd_policy policy = {0};
    assert_attest(attestd_store_policy_get_active(f->store, "app", &policy, &diag), ATTEST_OK);
    attestd_policy_free(&policy);
}

static void test_null_arguments(void **state)
{
    fixture *f = *state;
    int64_t id = 0;
    assert_attest(attestd_store_application_create(NULL, "a", 1, &id, &diag),
                  ATTEST_ERR_ARGUMENT);
    assert_attest(attestd_store_application_get(f->store, "a", NULL, &diag),
                  ATTEST_ERR_ARGUMENT);
    assert_attest(attestd_store_policy_put(f->store, "a", NULL, 1, 1, &id, &diag),
                  ATTEST_ERR_ARGUMENT);
    attestd_audit_record valid = make_record(1, "a", ATTESTD_VERDICT_ACCEPTED, "r");
    uint8_t nonce[ATTESTD_NONCE_SIZE] = {1};
    assert_attest(attestd_store_audit_insert_consuming(f->store, &valid, NULL, 10, 1, NULL, &diag),
                  ATTEST_ERR_ARGUMENT);
    assert_attest(attestd_store_audit_insert_consuming(f->store, NULL, nonce, 10, 1, NULL, &diag),
                  ATTEST_ERR_ARGUMENT);
    assert_attest(attestd_store_audit_insert(f->store, NULL, NULL, &diag), ATTEST_ERR_ARGUMENT);
    assert_attest(attestd_store_api_key_lookup(f->store, NULL, NULL, &diag),
                  ATTEST_ERR_ARGUMENT);
    attestd_store_close(NULL);
}

#define STORE_TEST(name) cmocka_unit_test_setup_teardown(name, setup_store, teardown)
#define EMPTY_DIRECTORY_TEST(name) cmocka_unit_test_setup_teardown(name, setup_directory, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        STORE_TEST(test_open_creates_private_wal_file),
        EMPTY_DIRECTORY_TEST(test_open_migrates_empty_file),
        STORE_TEST(test_reopen_keeps_data_and_version),
        STORE_TEST(test_open_newer_schema_rejected),
        EMPTY_DIRECTORY_TEST(test_open_options_rejected),
        EMPTY_DIRECTORY_TEST(test_open_missing_directory),
        STORE_TEST(test_application_create_get_list_delete),
        STORE_TEST(test_application_duplicate_and_missing),
        STORE_TEST(test_application_name_rules),
        STORE_TEST(test_application_delete_cascades),
        STORE_TEST(test_policy_versions_and_activation),
        STORE_TEST(test_policy_errors),
        STORE_TEST(test_policy_size_limits),
        STORE_TEST(test_api_key_lookup),
        STORE_TEST(test_api_key_create_errors),
        STORE_TEST(test_application_enroll_and_key_check),
        STORE_TEST(test_application_key_check_unscoped_app),
        STORE_TEST(test_application_enroll_conflicts),
        STORE_TEST(test_policy_id_create_and_get),
        STORE_TEST(test_policy_id_deleted_with_application),
        STORE_TEST(test_store_initialize_once),
        STORE_TEST(test_nonce_replay_and_purge),
        STORE_TEST(test_nonce_concurrent_threads),
        STORE_TEST(test_audit_filters_and_order),
        STORE_TEST(test_audit_rejects_bad_input),
        STORE_TEST(test_collateral_cache),
        STORE_TEST(test_collateral_rejects_bad_input),
        STORE_TEST(test_signing_keys),
        STORE_TEST(test_signing_key_rejects_bad_input),
        STORE_TEST(test_read_only_open_rejects_writes),
        EMPTY_DIRECTORY_TEST(test_read_only_open_needing_migration),
        STORE_TEST(test_read_only_file_mode),
        STORE_TEST(test_read_only_directory),
        STORE_TEST(test_null_arguments),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
