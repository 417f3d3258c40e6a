/*
 * Evidence collection through stand-ins for the kernel's configfs-tsm and
 * Gramine's /dev/attestation. Each stand-in produces evidence when report
 * data is written, as the real interface does. Each test injects one fault:
 * an errno value, a generation that moves, wrong report data or a short
 * read. Nothing here touches /sys or /dev, and the POSIX file operations
 * are tested on a temporary directory.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include <attest/evidence.h>
#include <attest/quote.h>
#include <attest/sim.h>

#include "support.h"

#define TSM_ROOT "/standin/sys/kernel/config/tsm/report"
#define GRAMINE_ROOT "/standin/dev/attestation"

/* How the configfs-tsm stand-in builds outblob from inblob. */
typedef enum outblob_kind {
    OUTBLOB_SNP,     /* a real SEV-SNP report with REPORT_DATA replaced */
    OUTBLOB_SIM_TDX, /* a simulated TDX quote over inblob */
} outblob_kind;

typedef struct tsm_standin {
    bool present;
    char entry[512]; /* the entry directory, "" when none */
    int entries_created;
    int entries_removed;
    uint64_t generation;
    uint8_t inblob[ATTEST_REPORT_DATA_SIZE];
    bool inblob_written;
    const char *provider; /* file content, with its newline */
    outblob_kind kind;
    const uint8_t *snp_template;
    size_t snp_template_size;
    attest_sim_platform *platform;
    bool auxblob;

    /* Faults, one at a time. */
    int mkdir_error;
    int rmdir_error;
    int inblob_error;
    int outblob_error;
    int concurrent_writes; /* extra generation increments during the outblob read */
    bool wrong_report_data;
    bool empty_outblob;
    const char *generation_text; /* replaces the decimal generation when set */
} tsm_standin;

typedef struct gramine_standin {
    bool present;
    const char *attestation_type;
    uint8_t user_report_data[ATTEST_REPORT_DATA_SIZE];
    const uint8_t *quote_template; /* a real SGX v3 quote; report data replaced */
    size_t quote_template_size;
    attest_sim_platform *platform; /* when set, quotes come from the simulated platform */
    int write_error;
    size_t quote_size; /* bytes of quote returned; 0 means all */
} gramine_standin;

typedef struct standin_system {
    tsm_standin tsm;
    gramine_standin gramine;
} standin_system;

/* Returns the part of path after prefix "/", or NULL. */
static const char *under(const char *path, const char *prefix)
{
    size_t size = strlen(prefix);
    if (strncmp(path, prefix, size) != 0 || path[size] != '/') {
        return NULL;
    }
    return path + size + 1;
}

static int copy_out(const uint8_t *data, size_t size, size_t max_size, uint8_t **out_data,
                    size_t *out_size)
{
    if (size > max_size) {
        return EFBIG;
    }
    *out_data = malloc(size > 0 ? size : 1);
    assert_non_null(*out_data);
    if (size > 0) {
        memcpy(*out_data, data, size);
    }
    *out_size = size;
    return 0;
}

/* ---- configfs-tsm stand-in ---- */

static const char *tsm_file(const tsm_standin *tsm, const char *path)
{
    if (tsm->entry[0] == '\0') {
        return NULL;
    }
    return under(path, tsm->entry);
}

static int tsm_outblob(tsm_standin *tsm, uint8_t **out_data, size_t *out_size, size_t max_size)
{
    if (!tsm->inblob_written) {
        return EINVAL;
    }
    if (tsm->outblob_error != 0) {
        return tsm->outblob_error;
    }
    tsm->generation += (uint64_t)tsm->concurrent_writes;
    if (tsm->empty_outblob) {
        return copy_out(NULL, 0, max_size, out_data, out_size);
    }

    uint8_t report_data[ATTEST_REPORT_DATA_SIZE];
    memcpy(report_data, tsm->inblob, sizeof(report_data));
    if (tsm->wrong_report_data) {
        report_data[63] ^= 0x80;
    }

    if (tsm->kind == OUTBLOB_SNP) {
        uint8_t *report = malloc(tsm->snp_template_size);
        assert_non_null(report);
        memcpy(report, tsm->snp_template, tsm->snp_template_size);
        memcpy(report + 0x50, report_data, sizeof(report_data));
        int error = copy_out(report, tsm->snp_template_size, max_size, out_data, out_size);
        free(report);
        return error;
    }

    attest_sim_quote_options options;
    attest_sim_quote_options_init(&options, ATTEST_SIM_TDX);
    memcpy(options.report_data, report_data, sizeof(report_data));
    uint8_t *quote = NULL;
    size_t size = 0;
    if (attest_sim_quote(tsm->platform, &options, &quote, &size, NULL) != ATTEST_OK) {
        return EIO;
    }
    int error = copy_out(quote, size, max_size, out_data, out_size);
    free(quote);
    return error;
}

static int tsm_read(tsm_standin *tsm, const char *name, size_t max_size, uint8_t **out_data,
                    size_t *out_size)
{
    char text[64];
    if (strcmp(name, "generation") == 0) {
        if (tsm->generation_text != NULL) {
            snprintf(text, sizeof(text), "%s", tsm->generation_text);
        } else {
            snprintf(text, sizeof(text), "%llu\n", (unsigned long long)tsm->generation);
        }
        return copy_out((const uint8_t *)text, strlen(text), max_size, out_data, out_size);
    }
    if (strcmp(name, "provider") == 0) {
        return copy_out((const uint8_t *)tsm->provider, strlen(tsm->provider), max_size,
                        out_data, out_size);
    }
    if (strcmp(name, "outblob") == 0) {
        return tsm_outblob(tsm, out_data, out_size, max_size);
    }
    if (strcmp(name, "auxblob") == 0 && tsm->auxblob) {
        static const uint8_t aux[] = "certificate table";
        return copy_out(aux, sizeof(aux), max_size, out_data, out_size);
    }
    return ENOENT;
}

static int tsm_write(tsm_standin *tsm, const char *name, const uint8_t *data, size_t size)
{
    if (strcmp(name, "inblob") != 0) {
        return ENOENT;
    }
    if (tsm->inblob_error != 0) {
        return tsm->inblob_error;
    }
    if (size > ATTEST_REPORT_DATA_SIZE) {
        return EINVAL;
    }
    memset(tsm->inblob, 0, sizeof(tsm->inblob));
    memcpy(tsm->inblob, data, size);
    tsm->inblob_written = true;
    tsm->generation++;
    return 0;
}

/* ---- Gramine stand-in ---- */

static int gramine_quote(gramine_standin *gramine, size_t max_size, uint8_t **out_data,
                         size_t *out_size)
{
    uint8_t *quote = NULL;
    size_t size = 0;
    if (gramine->platform != NULL) {
        attest_sim_quote_options options;
        attest_sim_quote_options_init(&options, ATTEST_SIM_SGX);
        memcpy(options.report_data, gramine->user_report_data, ATTEST_REPORT_DATA_SIZE);
        if (attest_sim_quote(gramine->platform, &options, &quote, &size, NULL) != ATTEST_OK) {
            return EIO;
        }
    } else {
        size = gramine->quote_template_size;
        quote = malloc(size);
        assert_non_null(quote);
        memcpy(quote, gramine->quote_template, size);
        /* Header (48) and the SGX body up to report_data (320). */
        memcpy(quote + 48 + 320, gramine->user_report_data, ATTEST_REPORT_DATA_SIZE);
    }
    if (gramine->quote_size != 0 && gramine->quote_size < size) {
        size = gramine->quote_size;
    }
    int error = copy_out(quote, size, max_size, out_data, out_size);
    free(quote);
    return error;
}

static int gramine_read(gramine_standin *gramine, const char *name, size_t max_size,
                        uint8_t **out_data, size_t *out_size)
{
    if (strcmp(name, "attestation_type") == 0) {
        return copy_out((const uint8_t *)gramine->attestation_type,
                        strlen(gramine->attestation_type), max_size, out_data, out_size);
    }
    if (strcmp(name, "quote") == 0) {
        return gramine_quote(gramine, max_size, out_data, out_size);
    }
    return ENOENT;
}

/* ---- the file operations over both stand-ins ---- */

static int system_mkdir(void *context, const char *path)
{
    tsm_standin *tsm = &((standin_system *)context)->tsm;
    const char *name = under(path, TSM_ROOT);
    if (!tsm->present || name == NULL || strchr(name, '/') != NULL) {
        return ENOENT;
    }
    if (tsm->mkdir_error != 0) {
        return tsm->mkdir_error;
    }
    if (tsm->entry[0] != '\0') {
        return EEXIST;
    }
    snprintf(tsm->entry, sizeof(tsm->entry), "%s", path);
    tsm->entries_created++;
    tsm->inblob_written = false;
    return 0;
}

static int system_rmdir(void *context, const char *path)
{
    tsm_standin *tsm = &((standin_system *)context)->tsm;
    if (tsm->entry[0] == '\0' || strcmp(path, tsm->entry) != 0) {
        return ENOENT;
    }
    if (tsm->rmdir_error != 0) {
        return tsm->rmdir_error;
    }
    tsm->entry[0] = '\0';
    tsm->entries_removed++;
    return 0;
}

static int system_read(void *context, const char *path, size_t max_size, uint8_t **out_data,
                       size_t *out_size)
{
    standin_system *system = context;
    const char *name = tsm_file(&system->tsm, path);
    if (name != NULL) {
        return tsm_read(&system->tsm, name, max_size, out_data, out_size);
    }
    name = under(path, GRAMINE_ROOT);
    if (name != NULL && system->gramine.present) {
        return gramine_read(&system->gramine, name, max_size, out_data, out_size);
    }
    return ENOENT;
}

static int system_write(void *context, const char *path, const uint8_t *data, size_t size)
{
    standin_system *system = context;
    const char *name = tsm_file(&system->tsm, path);
    if (name != NULL) {
        return tsm_write(&system->tsm, name, data, size);
    }
    name = under(path, GRAMINE_ROOT);
    if (name != NULL && system->gramine.present) {
        if (system->gramine.write_error != 0) {
            return system->gramine.write_error;
        }
        if (strcmp(name, "user_report_data") != 0 || size != ATTEST_REPORT_DATA_SIZE) {
            return EINVAL;
        }
        memcpy(system->gramine.user_report_data, data, size);
        return 0;
    }
    return ENOENT;
}

static bool system_exists(void *context, const char *path)
{
    standin_system *system = context;
    if (system->tsm.present) {
        if (strcmp(path, TSM_ROOT) == 0) {
            return true;
        }
        if (system->tsm.entry[0] != '\0' && strcmp(path, system->tsm.entry) == 0) {
            return true;
        }
        const char *name = tsm_file(&system->tsm, path);
        if (name != NULL) {
            return strcmp(name, "auxblob") != 0 || system->tsm.auxblob;
        }
    }
    if (system->gramine.present) {
        return strcmp(path, GRAMINE_ROOT) == 0 || under(path, GRAMINE_ROOT) != NULL;
    }
    return false;
}

static attest_fileops system_ops(standin_system *system)
{
    attest_fileops ops = {
        .context = system,
        .mkdir = system_mkdir,
        .rmdir = system_rmdir,
        .read_file = system_read,
        .write_file = system_write,
        .exists = system_exists,
    };
    return ops;
}

/* ---- fixtures ---- */

typedef struct fixture {
    standin_system system;
    attest_fileops ops;
    attest_evidence_options options;
    uint8_t *snp_report;
    size_t snp_report_size;
    uint8_t *sgx_quote;
    size_t sgx_quote_size;
} fixture;

static int fixture_setup(void **state)
{
    fixture *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    f->snp_report = test_read_real("snp/google-milan-v2.report", &f->snp_report_size);
    f->sgx_quote = test_read_real("sgx/phala-sgx-v3.quote", &f->sgx_quote_size);

    tsm_standin *tsm = &f->system.tsm;
    tsm->provider = "sev_guest\n";
    tsm->kind = OUTBLOB_SNP;
    tsm->snp_template = f->snp_report;
    tsm->snp_template_size = f->snp_report_size;
    tsm->generation = 41;

    gramine_standin *gramine = &f->system.gramine;
    gramine->attestation_type = "dcap";
    gramine->quote_template = f->sgx_quote;
    gramine->quote_template_size = f->sgx_quote_size;

    f->ops = system_ops(&f->system);
    attest_evidence_options_init(&f->options);
    f->options.fileops = &f->ops;
    f->options.configfs_root = TSM_ROOT;
    f->options.gramine_root = GRAMINE_ROOT;
    for (size_t i = 0; i < ATTEST_REPORT_DATA_SIZE; i++) {
        f->options.report_data[i] = (uint8_t)(0xc0 + i);
    }
    *state = f;
    return 0;
}

static int fixture_teardown(void **state)
{
    fixture *f = *state;
    free(f->snp_report);
    free(f->sgx_quote);
    free(f);
    return 0;
}

/* Collects with the fixture's options and checks that every entry made was removed. */
static attest_err collect(fixture *f, attest_evidence *evidence, attest_diag *diag)
{
    attest_err err = attest_evidence_collect(&f->options, evidence, diag);
    if (f->system.tsm.rmdir_error == 0) {
        assert_int_equal(f->system.tsm.entries_created, f->system.tsm.entries_removed);
        assert_string_equal(f->system.tsm.entry, "");
    }
    return err;
}

/* ---- configfs-tsm ---- */

static void test_configfs_snp_outblob(void **state)
{
    fixture *f = *state;
    f->system.tsm.present = true;
    f->system.tsm.auxblob = true;
    f->options.backend = ATTEST_EVIDENCE_CONFIGFS_TSM;
    attest_evidence evidence;
    attest_diag diag = {{0}};

    assert_int_equal(collect(f, &evidence, &diag), ATTEST_OK);
    assert_int_equal(evidence.backend, ATTEST_EVIDENCE_CONFIGFS_TSM);
    assert_string_equal(evidence.provider, "sev_guest");
    assert_int_equal(evidence.size, f->snp_report_size);
    assert_memory_equal(evidence.data + 0x50, f->options.report_data, ATTEST_REPORT_DATA_SIZE);
    assert_true(evidence.report_data_checked);
    assert_non_null(evidence.aux);
    assert_int_equal(evidence.aux_size, sizeof("certificate table"));
    assert_int_equal(f->system.tsm.entries_created, 1);
    assert_int_equal(f->system.tsm.generation, 42);
    attest_evidence_clear(&evidence);
}

static void test_configfs_without_auxblob(void **state)
{
    fixture *f = *state;
    f->system.tsm.present = true;
    f->options.backend = ATTEST_EVIDENCE_CONFIGFS_TSM;
    attest_evidence evidence;
    assert_int_equal(collect(f, &evidence, NULL), ATTEST_OK);
    assert_null(evidence.aux);
    assert_int_equal(evidence.aux_size, 0);
    attest_evidence_clear(&evidence);
}

static void test_configfs_missing_root(void **state)
{
    fixture *f = *state;
    f->options.backend = ATTEST_EVIDENCE_CONFIGFS_TSM;
    attest_evidence evidence;
    attest_diag diag = {{0}};
    assert_int_equal(collect(f, &evidence, &diag), ATTEST_ERR_EVIDENCE_DEVICE_MISSING);
    assert_non_null(strstr(diag.message, TSM_ROOT));
    assert_non_null(strstr(diag.message, "not found"));
}

/* One errno fault at one step, the error it must give, and a word the message must contain. */
typedef struct errno_case {
    const char *name;
    int mkdir_error;
    int inblob_error;
    int outblob_error;
    attest_err expected;
    const char *message_part;
} errno_case;

static void test_configfs_errno_table(void **state)
{
    static const errno_case cases[] = {
        {"mkdir permission denied", EACCES, 0, 0, ATTEST_ERR_EVIDENCE_PERMISSION,
         "create the entry"},
        {"mkdir not permitted", EPERM, 0, 0, ATTEST_ERR_EVIDENCE_PERMISSION, "run as root"},
        {"inblob busy", 0, EBUSY, 0, ATTEST_ERR_EVIDENCE_BUSY, "inblob"},
        {"inblob permission denied", 0, EACCES, 0, ATTEST_ERR_EVIDENCE_PERMISSION, "inblob"},
        {"outblob busy", 0, 0, EBUSY, ATTEST_ERR_EVIDENCE_BUSY, "retry"},
        {"outblob no device", 0, 0, ENXIO, ATTEST_ERR_EVIDENCE_DEVICE_MISSING, "outblob"},
        {"outblob I/O error", 0, 0, EIO, ATTEST_ERR_IO, "outblob"},
        {"outblob too large", 0, 0, EFBIG, ATTEST_ERR_LIMIT, "outblob"},
    };
    fixture *f = *state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        tsm_standin *tsm = &f->system.tsm;
        tsm->present = true;
        tsm->mkdir_error = cases[i].mkdir_error;
        tsm->inblob_error = cases[i].inblob_error;
        tsm->outblob_error = cases[i].outblob_error;
        f->options.backend = ATTEST_EVIDENCE_CONFIGFS_TSM;
        attest_evidence evidence;
        memset(&evidence, 0x5c, sizeof(evidence));
        attest_diag diag = {{0}};

        attest_err err = collect(f, &evidence, &diag);
        if (err != cases[i].expected) {
            fail_msg("%s: got %s, expected %s (%s)", cases[i].name, attest_err_code(err),
                     attest_err_code(cases[i].expected), diag.message);
        }
        if (strstr(diag.message, cases[i].message_part) == NULL) {
            fail_msg("%s: \"%s\" lacks \"%s\"", cases[i].name, diag.message,
                     cases[i].message_part);
        }
        assert_int_equal(evidence.size, (size_t)0x5c5c5c5c5c5c5c5cull); /* untouched */
    }
}

static void test_configfs_generation_changed(void **state)
{
    fixture *f = *state;
    f->system.tsm.present = true;
    f->system.tsm.concurrent_writes = 1;
    f->options.backend = ATTEST_EVIDENCE_CONFIGFS_TSM;
    attest_evidence evidence;
    attest_diag diag = {{0}};
    assert_int_equal(collect(f, &evidence, &diag), ATTEST_ERR_EVIDENCE_GENERATION);
    assert_non_null(strstr(diag.message, "generation changed: concurrent writer"));
    assert_non_null(strstr(diag.message, "was 41"));
    assert_non_null(strstr(diag.message, "and 43"));
    assert_non_null(strstr(diag.message, "expected 42"));
}

static void test_configfs_generation_not_number(void **state)
{
    static const char *const texts[] = {"", "\n", "12a\n", "-1\n", "99999999999999999999999\n",
                                        "1 2\n"};
    fixture *f = *state;
    for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
        f->system.tsm.present = true;
        f->system.tsm.generation_text = texts[i];
        f->options.backend = ATTEST_EVIDENCE_CONFIGFS_TSM;
        attest_evidence evidence;
        attest_diag diag = {{0}};
        attest_err err = collect(f, &evidence, &diag);
        if (err != ATTEST_ERR_EVIDENCE_INTERFACE) {
            fail_msg("generation \"%s\": got %s", texts[i], attest_err_code(err));
        }
        assert_non_null(strstr(diag.message, "generation"));
    }
}

static void test_configfs_wrong_report_data(void **state)
{
    fixture *f = *state;
    f->system.tsm.present = true;
    f->system.tsm.wrong_report_data = true;
    f->options.backend = ATTEST_EVIDENCE_CONFIGFS_TSM;
    attest_evidence evidence;
    attest_diag diag = {{0}};
    assert_int_equal(collect(f, &evidence, &diag), ATTEST_ERR_REPORT_DATA_MISMATCH);
    assert_non_null(strstr(diag.message, "sev_guest"));
}

static void test_configfs_empty_outblob(void **state)
{
    fixture *f = *state;
    f->system.tsm.present = true;
    f->system.tsm.empty_outblob = true;
    f->options.backend = ATTEST_EVIDENCE_CONFIGFS_TSM;
    attest_evidence evidence;
    attest_diag diag = {{0}};
    assert_int_equal(collect(f, &evidence, &diag), ATTEST_ERR_EVIDENCE_SHORT_READ);
    assert_non_null(strstr(diag.message, "outblob is empty"));
}

static void test_configfs_short_snp_report(void **state)
{
    fixture *f = *state;
    f->system.tsm.present = true;
    f->system.tsm.snp_template_size = 0x4a0 - 1;
    f->options.backend = ATTEST_EVIDENCE_CONFIGFS_TSM;
    attest_evidence evidence;
    attest_diag diag = {{0}};
    assert_int_equal(collect(f, &evidence, &diag), ATTEST_ERR_EVIDENCE_SHORT_READ);
    assert_non_null(strstr(diag.message, "1183 bytes"));
}

/* A provider this library cannot decode passes, marked as unchecked. */
static void test_configfs_unknown_provider(void **state)
{
    fixture *f = *state;
    f->system.tsm.present = true;
    f->system.tsm.provider = "arm_cca_guest\n";
    f->options.backend = ATTEST_EVIDENCE_CONFIGFS_TSM;
    attest_evidence evidence;
    assert_int_equal(collect(f, &evidence, NULL), ATTEST_OK);
    assert_string_equal(evidence.provider, "arm_cca_guest");
    assert_false(evidence.report_data_checked);
    attest_evidence_clear(&evidence);
}

static void test_configfs_empty_provider(void **state)
{
    fixture *f = *state;
    f->system.tsm.present = true;
    f->system.tsm.provider = "\n";
    f->options.backend = ATTEST_EVIDENCE_CONFIGFS_TSM;
    attest_evidence evidence;
    assert_int_equal(collect(f, &evidence, NULL), ATTEST_ERR_EVIDENCE_INTERFACE);
}

static void test_configfs_provider_control_byte(void **state)
{
    fixture *f = *state;
    f->system.tsm.present = true;
    f->system.tsm.provider = "tdx\001guest\n";
    f->options.backend = ATTEST_EVIDENCE_CONFIGFS_TSM;
    attest_evidence evidence;
    attest_diag diag = {{0}};
    assert_int_equal(collect(f, &evidence, &diag), ATTEST_ERR_EVIDENCE_INTERFACE);
    assert_non_null(strstr(diag.message, "byte 0x01 at offset 3"));
}

static void test_configfs_rmdir_fails(void **state)
{
    fixture *f = *state;
    f->system.tsm.present = true;
    f->system.tsm.rmdir_error = EBUSY;
    f->options.backend = ATTEST_EVIDENCE_CONFIGFS_TSM;
    attest_evidence evidence;
    attest_diag diag = {{0}};
    assert_int_equal(collect(f, &evidence, &diag), ATTEST_ERR_EVIDENCE_BUSY);
    assert_non_null(strstr(diag.message, "remove the entry"));
}

static void test_configfs_named_entry_kept(void **state)
{
    fixture *f = *state;
    f->system.tsm.present = true;
    snprintf(f->system.tsm.entry, sizeof(f->system.tsm.entry), "%s/admin", TSM_ROOT);
    f->options.backend = ATTEST_EVIDENCE_CONFIGFS_TSM;
    f->options.configfs_entry = "admin";
    attest_evidence evidence;
    assert_int_equal(attest_evidence_collect(&f->options, &evidence, NULL), ATTEST_OK);
    assert_int_equal(f->system.tsm.entries_created, 0);
    assert_int_equal(f->system.tsm.entries_removed, 0);
    assert_string_equal(f->system.tsm.entry, TSM_ROOT "/admin");
    attest_evidence_clear(&evidence);
}

static void test_configfs_named_entry_created(void **state)
{
    fixture *f = *state;
    f->system.tsm.present = true;
    f->options.backend = ATTEST_EVIDENCE_CONFIGFS_TSM;
    f->options.configfs_entry = "mine";
    attest_evidence evidence;
    assert_int_equal(collect(f, &evidence, NULL), ATTEST_OK);
    assert_int_equal(f->system.tsm.entries_created, 1);
    assert_int_equal(f->system.tsm.entries_removed, 1);
    attest_evidence_clear(&evidence);
}

static void test_configfs_entry_name_invalid(void **state)
{
    static const char *const names[] = {"", "a/b", ".", "..", "../report"};
    fixture *f = *state;
    f->system.tsm.present = true;
    f->options.backend = ATTEST_EVIDENCE_CONFIGFS_TSM;
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        f->options.configfs_entry = names[i];
        attest_evidence evidence;
        attest_diag diag = {{0}};
        assert_int_equal(collect(f, &evidence, &diag), ATTEST_ERR_ARGUMENT);
        assert_non_null(strstr(diag.message, "not a single directory name"));
        assert_int_equal(f->system.tsm.entries_created, 0);
    }
}

/* ---- Gramine ---- */

static void test_gramine_quote(void **state)
{
    fixture *f = *state;
    f->system.gramine.present = true;
    f->options.backend = ATTEST_EVIDENCE_GRAMINE;
    attest_evidence evidence;
    attest_diag diag = {{0}};

    assert_int_equal(collect(f, &evidence, &diag), ATTEST_OK);
    assert_int_equal(evidence.backend, ATTEST_EVIDENCE_GRAMINE);
    assert_string_equal(evidence.provider, "sgx_dcap");
    assert_true(evidence.report_data_checked);
    assert_memory_equal(f->system.gramine.user_report_data, f->options.report_data,
                        ATTEST_REPORT_DATA_SIZE);
    attest_quote quote;
    assert_int_equal(attest_quote_parse(evidence.data, evidence.size, &quote, NULL), ATTEST_OK);
    assert_memory_equal(quote.body.sgx.report_data, f->options.report_data,
                        ATTEST_REPORT_DATA_SIZE);
    attest_evidence_clear(&evidence);
}

static void test_gramine_missing_device(void **state)
{
    fixture *f = *state;
    f->options.backend = ATTEST_EVIDENCE_GRAMINE;
    attest_evidence evidence;
    attest_diag diag = {{0}};
    assert_int_equal(collect(f, &evidence, &diag), ATTEST_ERR_EVIDENCE_DEVICE_MISSING);
    assert_non_null(strstr(diag.message, GRAMINE_ROOT));
}

static void test_gramine_wrong_attestation_type(void **state)
{
    static const char *const types[] = {"none", "epid\n", "dcap2", ""};
    fixture *f = *state;
    for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
        f->system.gramine.present = true;
        f->system.gramine.attestation_type = types[i];
        f->options.backend = ATTEST_EVIDENCE_GRAMINE;
        attest_evidence evidence;
        attest_diag diag = {{0}};
        assert_int_equal(collect(f, &evidence, &diag), ATTEST_ERR_EVIDENCE_ATTESTATION_TYPE);
        assert_non_null(strstr(diag.message, "expected \"dcap\""));
    }
}

static void test_gramine_type_with_newline(void **state)
{
    fixture *f = *state;
    f->system.gramine.present = true;
    f->system.gramine.attestation_type = "dcap\n";
    f->options.backend = ATTEST_EVIDENCE_GRAMINE;
    attest_evidence evidence;
    assert_int_equal(collect(f, &evidence, NULL), ATTEST_OK);
    attest_evidence_clear(&evidence);
}

static void test_gramine_permission_denied(void **state)
{
    fixture *f = *state;
    f->system.gramine.present = true;
    f->system.gramine.write_error = EACCES;
    f->options.backend = ATTEST_EVIDENCE_GRAMINE;
    attest_evidence evidence;
    attest_diag diag = {{0}};
    assert_int_equal(collect(f, &evidence, &diag), ATTEST_ERR_EVIDENCE_PERMISSION);
    assert_non_null(strstr(diag.message, "user_report_data"));
}

static void test_gramine_short_quote(void **state)
{
    fixture *f = *state;
    f->system.gramine.present = true;
    f->system.gramine.quote_size = 47;
    f->options.backend = ATTEST_EVIDENCE_GRAMINE;
    attest_evidence evidence;
    attest_diag diag = {{0}};
    assert_int_equal(collect(f, &evidence, &diag), ATTEST_ERR_EVIDENCE_SHORT_READ);
    assert_non_null(strstr(diag.message, "47 bytes"));
}

/* A quote cut inside its body: long enough for a header, but not a quote. */
static void test_gramine_truncated_quote(void **state)
{
    fixture *f = *state;
    f->system.gramine.present = true;
    f->system.gramine.quote_size = 100;
    f->options.backend = ATTEST_EVIDENCE_GRAMINE;
    attest_evidence evidence;
    assert_int_equal(collect(f, &evidence, NULL), ATTEST_ERR_QUOTE_TRUNCATED);
}

/* ---- automatic selection ---- */

static void test_auto_prefers_configfs(void **state)
{
    fixture *f = *state;
    f->system.tsm.present = true;
    f->system.gramine.present = true;
    attest_evidence evidence;
    assert_int_equal(collect(f, &evidence, NULL), ATTEST_OK);
    assert_int_equal(evidence.backend, ATTEST_EVIDENCE_CONFIGFS_TSM);
    attest_evidence_clear(&evidence);
}

static void test_auto_then_gramine(void **state)
{
    fixture *f = *state;
    f->system.gramine.present = true;
    f->options.sim_dir = "/standin/sim";
    attest_evidence evidence;
    assert_int_equal(collect(f, &evidence, NULL), ATTEST_OK);
    assert_int_equal(evidence.backend, ATTEST_EVIDENCE_GRAMINE);
    attest_evidence_clear(&evidence);
}

static void test_auto_nothing_present(void **state)
{
    fixture *f = *state;
    attest_evidence evidence;
    attest_diag diag = {{0}};
    assert_int_equal(collect(f, &evidence, &diag), ATTEST_ERR_EVIDENCE_DEVICE_MISSING);
    assert_non_null(strstr(diag.message, TSM_ROOT));
    assert_non_null(strstr(diag.message, GRAMINE_ROOT "/quote"));
    assert_non_null(strstr(diag.message, "simulated platform"));
}

static void test_resolve_auto_order(void **state)
{
    fixture *f = *state;
    attest_evidence_backend backend = ATTEST_EVIDENCE_AUTO;
    attest_diag diag = {{0}};
    assert_int_equal(attest_evidence_backend_resolve(&f->options, &backend, &diag),
                     ATTEST_ERR_EVIDENCE_DEVICE_MISSING);
    assert_int_equal(backend, ATTEST_EVIDENCE_AUTO);

    f->options.sim_dir = "/standin/sim";
    assert_int_equal(attest_evidence_backend_resolve(&f->options, &backend, NULL), ATTEST_OK);
    assert_int_equal(backend, ATTEST_EVIDENCE_SIM);

    f->system.gramine.present = true;
    assert_int_equal(attest_evidence_backend_resolve(&f->options, &backend, NULL), ATTEST_OK);
    assert_int_equal(backend, ATTEST_EVIDENCE_GRAMINE);

    f->system.tsm.present = true;
    assert_int_equal(attest_evidence_backend_resolve(&f->options, &backend, NULL), ATTEST_OK);
    assert_int_equal(backend, ATTEST_EVIDENCE_CONFIGFS_TSM);

    /* Resolving creates no configfs-tsm entry. */
    assert_int_equal(f->system.tsm.entries_created, 0);
}

static void test_resolve_explicit_backend(void **state)
{
    fixture *f = *state;
    f->system.tsm.present = true;
    f->options.backend = ATTEST_EVIDENCE_SIM;
    attest_evidence_backend backend = ATTEST_EVIDENCE_AUTO;
    assert_int_equal(attest_evidence_backend_resolve(&f->options, &backend, NULL), ATTEST_OK);
    assert_int_equal(backend, ATTEST_EVIDENCE_SIM);
}

static void test_sim_without_directory(void **state)
{
    fixture *f = *state;
    f->options.backend = ATTEST_EVIDENCE_SIM;
    attest_evidence evidence;
    attest_diag diag = {{0}};
    assert_int_equal(collect(f, &evidence, &diag), ATTEST_ERR_EVIDENCE_DEVICE_MISSING);
    assert_non_null(strstr(diag.message, "ATTEST_SIM_DIR"));
}

static void test_backend_names(void **state)
{
    (void)state;
    static const char *const names[] = {"auto", "sim", "configfs-tsm", "gramine"};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        attest_evidence_backend backend;
        assert_int_equal(attest_evidence_backend_parse(names[i], &backend), ATTEST_OK);
        assert_string_equal(attest_evidence_backend_name(backend), names[i]);
    }
    attest_evidence_backend backend = ATTEST_EVIDENCE_GRAMINE;
    assert_int_equal(attest_evidence_backend_parse("tdx", &backend), ATTEST_ERR_ARGUMENT);
    assert_int_equal(attest_evidence_backend_parse("", &backend), ATTEST_ERR_ARGUMENT);
    assert_int_equal(backend, ATTEST_EVIDENCE_GRAMINE);
}

/* ---- report data of evidence formats, on real evidence ---- */

static void test_report_data_of_real_snp(void **state)
{
    fixture *f = *state;
    uint8_t report_data[ATTEST_REPORT_DATA_SIZE];
    assert_int_equal(attest_evidence_report_data("sev_guest", f->snp_report, f->snp_report_size,
                                                 report_data, NULL),
                     ATTEST_OK);
    static const uint8_t expected[8] = {1, 2, 3, 4, 5, 0, 0, 0};
    assert_memory_equal(report_data, expected, sizeof(expected));
}

static void test_report_data_of_real_tdx(void **state)
{
    (void)state;
    size_t size = 0;
    uint8_t *data = test_read_real("tdx/phala-tdx-v4.quote", &size);
    attest_quote quote;
    assert_int_equal(attest_quote_parse(data, size, &quote, NULL), ATTEST_OK);
    uint8_t report_data[ATTEST_REPORT_DATA_SIZE];
    assert_int_equal(attest_evidence_report_data("tdx_guest", data, size, report_data, NULL),
                     ATTEST_OK);
    assert_memory_equal(report_data, quote.body.td.report_data, ATTEST_REPORT_DATA_SIZE);
    free(data);
}

static void test_report_data_unknown_provider(void **state)
{
    fixture *f = *state;
    uint8_t report_data[ATTEST_REPORT_DATA_SIZE];
    attest_diag diag = {{0}};
    assert_int_equal(attest_evidence_report_data("tpm", f->snp_report, f->snp_report_size,
                                                 report_data, &diag),
                     ATTEST_ERR_ARGUMENT);
    assert_non_null(strstr(diag.message, "\"tpm\""));
}

/* ---- the POSIX file operations, on a temporary directory ---- */

static void test_posix_fileops(void **state)
{
    (void)state;
    const attest_fileops *ops = attest_fileops_posix();
    char dir[] = "/tmp/attest-test-fileops-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char entry[128];
    char file[160];
    snprintf(entry, sizeof(entry), "%s/entry", dir);
    snprintf(file, sizeof(file), "%s/inblob", entry);

    assert_true(ops->exists(ops->context, dir));
    assert_false(ops->exists(ops->context, entry));
    assert_int_equal(ops->mkdir(ops->context, entry), 0);
    assert_int_equal(ops->mkdir(ops->context, entry), EEXIST);
    assert_true(ops->exists(ops->context, entry));

    /* No O_CREAT: writing a file that does not exist is ENOENT. */
    static const uint8_t data[] = "0123456789";
    assert_int_equal(ops->write_file(ops->context, file, data, sizeof(data)), ENOENT);
    FILE *created = fopen(file, "wb");
    assert_non_null(created);
    fclose(created);
    assert_int_equal(ops->write_file(ops->context, file, data, sizeof(data)), 0);

    uint8_t *read = NULL;
    size_t size = 0;
    assert_int_equal(ops->read_file(ops->context, file, sizeof(data), &read, &size), 0);
    assert_int_equal(size, sizeof(data));
    assert_memory_equal(read, data, sizeof(data));
    free(read);
    read = NULL;
    assert_int_equal(ops->read_file(ops->context, file, sizeof(data) - 1, &read, &size), EFBIG);
    assert_null(read);

    assert_int_equal(ops->rmdir(ops->context, entry), ENOTEMPTY);
    assert_int_equal(unlink(file), 0);
    assert_int_equal(ops->rmdir(ops->context, entry), 0);
    assert_int_equal(ops->read_file(ops->context, file, 16, &read, &size), ENOENT);
    assert_int_equal(rmdir(dir), 0);
}

/* A file larger than the first 4096-byte buffer is read whole. */
static void test_posix_read_large(void **state)
{
    (void)state;
    const attest_fileops *ops = attest_fileops_posix();
    char path[] = "/tmp/attest-test-large-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    uint8_t block[10000];
    for (size_t i = 0; i < sizeof(block); i++) {
        block[i] = (uint8_t)(i * 13);
    }
    assert_int_equal(write(fd, block, sizeof(block)), (ssize_t)sizeof(block));
    close(fd);

    uint8_t *read = NULL;
    size_t size = 0;
    assert_int_equal(ops->read_file(ops->context, path, sizeof(block), &read, &size), 0);
    assert_int_equal(size, sizeof(block));
    assert_memory_equal(read, block, sizeof(block));
    free(read);
    unlink(path);
}

/* ---- with the simulated platform ---- */

typedef struct sim_fixture {
    fixture *f;
    char dir[64];
    char platform_dir[96];
    attest_sim_platform *platform;
} sim_fixture;

static void sim_open(sim_fixture *s, fixture *f)
{
    s->f = f;
    snprintf(s->dir, sizeof(s->dir), "/tmp/attest-test-evidence-XXXXXX");
    assert_non_null(mkdtemp(s->dir));
    snprintf(s->platform_dir, sizeof(s->platform_dir), "%s/platform", s->dir);
    attest_diag diag = {{0}};
    attest_err err = attest_sim_platform_init(s->platform_dir, &diag);
    if (err != ATTEST_OK) {
        fail_msg("attest_sim_platform_init: %s: %s", attest_err_code(err), diag.message);
    }
    assert_int_equal(attest_sim_platform_open(s->platform_dir, &s->platform, &diag), ATTEST_OK);
}

static void sim_close(sim_fixture *s)
{
    attest_sim_platform_free(s->platform);
    char command[128];
    snprintf(command, sizeof(command), "rm -rf '%s'", s->dir);
    assert_int_equal(system(command), 0);
}

static void test_configfs_sim_tdx_quote(void **state)
{
    sim_fixture s;
    sim_open(&s, *state);
    fixture *f = s.f;
    f->system.tsm.present = true;
    f->system.tsm.kind = OUTBLOB_SIM_TDX;
    f->system.tsm.provider = "tdx_guest\n";
    f->system.tsm.platform = s.platform;
    f->options.backend = ATTEST_EVIDENCE_CONFIGFS_TSM;
    attest_evidence evidence;
    attest_diag diag = {{0}};

    attest_err err = collect(f, &evidence, &diag);
    if (err != ATTEST_OK) {
        fail_msg("%s: %s", attest_err_code(err), diag.message);
    }
    assert_string_equal(evidence.provider, "tdx_guest");
    assert_true(evidence.report_data_checked);
    attest_quote quote;
    assert_int_equal(attest_quote_parse(evidence.data, evidence.size, &quote, NULL), ATTEST_OK);
    assert_true(attest_quote_is_tdx(&quote));
    assert_memory_equal(quote.body.td.report_data, f->options.report_data,
                        ATTEST_REPORT_DATA_SIZE);
    attest_evidence_clear(&evidence);
    sim_close(&s);
}

static void test_configfs_sim_tdx_concurrent_writer(void **state)
{
    sim_fixture s;
    sim_open(&s, *state);
    fixture *f = s.f;
    f->system.tsm.present = true;
    f->system.tsm.kind = OUTBLOB_SIM_TDX;
    f->system.tsm.provider = "tdx_guest\n";
    f->system.tsm.platform = s.platform;
    f->system.tsm.concurrent_writes = 2;
    f->options.backend = ATTEST_EVIDENCE_CONFIGFS_TSM;
    attest_evidence evidence;
    attest_diag diag = {{0}};
    assert_int_equal(collect(f, &evidence, &diag), ATTEST_ERR_EVIDENCE_GENERATION);
    assert_non_null(strstr(diag.message, "generation changed: concurrent writer"));
    sim_close(&s);
}

static void test_gramine_sim_sgx_quote(void **state)
{
    sim_fixture s;
    sim_open(&s, *state);
    fixture *f = s.f;
    f->system.gramine.present = true;
    f->system.gramine.platform = s.platform;
    f->options.backend = ATTEST_EVIDENCE_GRAMINE;
    attest_evidence evidence;
    assert_int_equal(collect(f, &evidence, NULL), ATTEST_OK);
    attest_quote quote;
    assert_int_equal(attest_quote_parse(evidence.data, evidence.size, &quote, NULL), ATTEST_OK);
    assert_false(attest_quote_is_tdx(&quote));
    assert_memory_equal(quote.body.sgx.report_data, f->options.report_data,
                        ATTEST_REPORT_DATA_SIZE);
    attest_evidence_clear(&evidence);
    sim_close(&s);
}

static void test_sim_backend_both_tees(void **state)
{
    sim_fixture s;
    sim_open(&s, *state);
    fixture *f = s.f;
    static const attest_sim_tee tees[] = {ATTEST_SIM_SGX, ATTEST_SIM_TDX};
    for (size_t i = 0; i < 2; i++) {
        f->options.backend = ATTEST_EVIDENCE_SIM;
        f->options.sim_dir = s.platform_dir;
        f->options.sim_tee = tees[i];
        attest_evidence evidence;
        attest_diag diag = {{0}};
        attest_err err = collect(f, &evidence, &diag);
        if (err != ATTEST_OK) {
            fail_msg("%s: %s", attest_err_code(err), diag.message);
        }
        assert_int_equal(evidence.backend, ATTEST_EVIDENCE_SIM);
        assert_string_equal(evidence.provider, tees[i] == ATTEST_SIM_TDX ? "sim_tdx" : "sim_sgx");
        assert_true(evidence.report_data_checked);
        attest_quote quote;
        assert_int_equal(attest_quote_parse(evidence.data, evidence.size, &quote, NULL),
                         ATTEST_OK);
        assert_int_equal(attest_quote_is_tdx(&quote), tees[i] == ATTEST_SIM_TDX);
        attest_evidence_clear(&evidence);
    }
    sim_close(&s);
}

static void test_auto_falls_back_to_sim(void **state)
{
    sim_fixture s;
    sim_open(&s, *state);
    fixture *f = s.f;
    f->options.sim_dir = s.platform_dir;
    attest_evidence evidence;
    assert_int_equal(collect(f, &evidence, NULL), ATTEST_OK);
    assert_int_equal(evidence.backend, ATTEST_EVIDENCE_SIM);
    attest_evidence_clear(&evidence);
    sim_close(&s);
}

static void test_sim_missing_directory(void **state)
{
    fixture *f = *state;
    f->options.backend = ATTEST_EVIDENCE_SIM;
    f->options.sim_dir = "/tmp/attest-test-no-such-platform";
    attest_evidence evidence;
    attest_diag diag = {{0}};
    assert_int_not_equal(collect(f, &evidence, &diag), ATTEST_OK);
    assert_true(strlen(diag.message) > 0);
}

#define FIXTURE_TEST(name) cmocka_unit_test_setup_teardown(name, fixture_setup, fixture_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        FIXTURE_TEST(test_configfs_snp_outblob),
        FIXTURE_TEST(test_configfs_without_auxblob),
        FIXTURE_TEST(test_configfs_missing_root),
        FIXTURE_TEST(test_configfs_errno_table),
        FIXTURE_TEST(test_configfs_generation_changed),
        FIXTURE_TEST(test_configfs_generation_not_number),
        FIXTURE_TEST(test_configfs_wrong_report_data),
        FIXTURE_TEST(test_configfs_empty_outblob),
        FIXTURE_TEST(test_configfs_short_snp_report),
        FIXTURE_TEST(test_configfs_unknown_provider),
        FIXTURE_TEST(test_configfs_empty_provider),
        FIXTURE_TEST(test_configfs_provider_control_byte),
        FIXTURE_TEST(test_configfs_rmdir_fails),
        FIXTURE_TEST(test_configfs_named_entry_kept),
        FIXTURE_TEST(test_configfs_named_entry_created),
        FIXTURE_TEST(test_configfs_entry_name_invalid),
        FIXTURE_TEST(test_gramine_quote),
        FIXTURE_TEST(test_gramine_missing_device),
        FIXTURE_TEST(test_gramine_wrong_attestation_type),
        FIXTURE_TEST(test_gramine_type_with_newline),
        FIXTURE_TEST(test_gramine_permission_denied),
        FIXTURE_TEST(test_gramine_short_quote),
        FIXTURE_TEST(test_gramine_truncated_quote),
        FIXTURE_TEST(test_auto_prefers_configfs),
        FIXTURE_TEST(test_auto_then_gramine),
        FIXTURE_TEST(test_auto_nothing_present),
        FIXTURE_TEST(test_resolve_auto_order),
        FIXTURE_TEST(test_resolve_explicit_backend),
        FIXTURE_TEST(test_sim_without_directory),
        cmocka_unit_test(test_backend_names),
        FIXTURE_TEST(test_report_data_of_real_snp),
        FIXTURE_TEST(test_report_data_of_real_tdx),
        FIXTURE_TEST(test_report_data_unknown_provider),
        cmocka_unit_test(test_posix_fileops),
        cmocka_unit_test(test_posix_read_large),
        FIXTURE_TEST(test_configfs_sim_tdx_quote),
        FIXTURE_TEST(test_configfs_sim_tdx_concurrent_writer),
        FIXTURE_TEST(test_gramine_sim_sgx_quote),
        FIXTURE_TEST(test_sim_backend_both_tees),
        FIXTURE_TEST(test_auto_falls_back_to_sim),
        FIXTURE_TEST(test_sim_missing_directory),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
