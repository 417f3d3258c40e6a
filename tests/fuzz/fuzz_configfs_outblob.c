/*
 * libFuzzer target: what the configfs-tsm backend does with the files the
 * kernel returns. The input is "PROVIDER\nOUTBLOB": the provider line
 * (tdx_guest, sev_guest, sgx_dcap, sim_tdx, ...) and the outblob bytes. The
 * target decodes the outblob's report data directly, and runs the whole
 * backend against an in-memory stand-in that serves the input's provider
 * and outblob, so text reading, generation checks and the report data
 * comparison all see the bytes.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <attest/evidence.h>

typedef struct fuzz_files {
    const uint8_t *provider;
    size_t provider_size;
    const uint8_t *outblob;
    size_t outblob_size;
    int generation;
    int reads_of_generation;
} fuzz_files;

static const char *name_of(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash != NULL ? slash + 1 : path;
}

static int copy_out(const uint8_t *data, size_t size, size_t max_size, uint8_t **out_data,
                    size_t *out_size)
{
    if (size > max_size) {
        return EFBIG;
    }
    uint8_t *copy = malloc(size > 0 ? size : 1);
    if (copy == NULL) {
        return ENOMEM;
    }
    if (size > 0) {
        memcpy(copy, data, size);
    }
    *out_data = copy;
    *out_size = size;
    return 0;
}

static int fuzz_mkdir(void *context, const char *path)
{
    (void)context;
    (void)path;
    return 0;
}

static int fuzz_read(void *context, const char *path, size_t max_size, uint8_t **out_data,
                     size_t *out_size)
{
    fuzz_files *files = context;
    const char *name = name_of(path);
    if (strcmp(name, "generation") == 0) {
        /* The second read shows one increment, as after our own write. */
        const char *text = files->reads_of_generation++ == 0 ? "7\n" : "8\n";
        return copy_out((const uint8_t *)text, 2, max_size, out_data, out_size);
    }
    if (strcmp(name, "provider") == 0) {
        return copy_out(files->provider, files->provider_size, max_size, out_data, out_size);
    }
    if (strcmp(name, "outblob") == 0) {
        return copy_out(files->outblob, files->outblob_size, max_size, out_data, out_size);
    }
    return ENOENT;
}

static int fuzz_write(void *context, const char *path, const uint8_t *data, size_t size)
{
    (void)context;
    (void)data;
    return strcmp(name_of(path), "inblob") == 0 && size == ATTEST_REPORT_DATA_SIZE ? 0 : EINVAL;
}

static bool fuzz_exists(void *context, const char *path)
{
    (void)context;
    return strcmp(name_of(path), "auxblob") != 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *newline = memchr(data, '\n', size < 64 ? size : 64);
    if (newline == NULL) {
        return 0;
    }
    size_t provider_size = (size_t)(newline - data);
    char provider[64];
    memcpy(provider, data, provider_size);
    provider[provider_size] = '\0';
    const uint8_t *outblob = newline + 1;
    size_t outblob_size = size - provider_size - 1;

    uint8_t report_data[ATTEST_REPORT_DATA_SIZE];
    attest_diag diag;
    (void)attest_evidence_report_data(provider, outblob, outblob_size, report_data, &diag);

    fuzz_files files = {data, provider_size + 1, outblob, outblob_size, 0, 0};
    const attest_fileops ops = {&files, fuzz_mkdir, fuzz_mkdir, fuzz_read, fuzz_write,
                                fuzz_exists};
    attest_evidence_options options;
    attest_evidence_options_init(&options);
    options.backend = ATTEST_EVIDENCE_CONFIGFS_TSM;
    options.fileops = &ops;
    options.configfs_root = "/fuzz/tsm";
    /* The report data of the input, when it has one, so the success path is reached too. */
    if (attest_evidence_report_data(provider, outblob, outblob_size, report_data, NULL) ==
        ATTEST_OK) {
        memcpy(options.report_data, report_data, sizeof(report_data));
    }
    attest_evidence evidence;
    if (attest_evidence_collect(&options, &evidence, &diag) == ATTEST_OK) {
        if (evidence.size != outblob_size || memcmp(evidence.data, outblob, outblob_size) != 0) {
            abort();
        }
        attest_evidence_clear(&evidence);
    }
    return 0;
}
