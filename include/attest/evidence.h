/*
 * Evidence collection: the attester's side.
 *
 * Report data binding. The 64-byte report data that a quote or report
 * carries is SHA-512(nonce || runtime data): the verifier's 32-byte nonce
 * followed by any bytes the attester wants bound to the evidence, such as a
 * public key. attest_report_data_bind computes it on the attester, and
 * attest_report_data_check recomputes and compares it on the verifier.
 *
 * Backends. attest_evidence_collect requests evidence over given report
 * data from the TEE this process runs in:
 *   configfs-tsm  Linux TDX and SEV-SNP guests: an entry directory under
 *                 /sys/kernel/config/tsm/report with inblob, outblob,
 *                 auxblob, provider and generation files;
 *   gramine       Gramine SGX enclaves: /dev/attestation with
 *                 attestation_type, user_report_data and quote;
 *   sim           the simulated Intel platform of attest/sim.h.
 * The first two reach the system only through an attest_fileops table, so
 * tests substitute a stand-in for the kernel or Gramine.
 *
 * Thread safety: the functions keep no global state. Two processes that
 * share one Gramine /dev/attestation or configfs-tsm entry race; see
 * ATTEST_ERR_EVIDENCE_GENERATION and ATTEST_ERR_REPORT_DATA_MISMATCH.
 */
#ifndef ATTEST_EVIDENCE_H
#define ATTEST_EVIDENCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <attest/error.h>
#include <attest/sim.h>

#ifdef __cplusplus
extern "C" {
#endif

#define ATTEST_NONCE_SIZE 32
#define ATTEST_REPORT_DATA_SIZE 64

/* Default roots of the two system interfaces. */
#define ATTEST_CONFIGFS_TSM_ROOT "/sys/kernel/config/tsm/report"
#define ATTEST_GRAMINE_ROOT "/dev/attestation"

/*
 * Largest outblob or auxblob read: 16 MiB, the TSM_REPORT_OUTBLOB_MAX of
 * recent kernels (Linux 6.7, the first with configfs-tsm, had 32 KiB).
 */
#define ATTEST_EVIDENCE_MAX_SIZE (16u * 1024 * 1024)

/*
 * Computes out_report_data = SHA-512(nonce || runtime_data). runtime_data may
 * be NULL when size is 0. Errors: ATTEST_ERR_ARGUMENT, ATTEST_ERR_CRYPTO.
 */
ATTEST_MUST_USE attest_err attest_report_data_bind(const uint8_t nonce[ATTEST_NONCE_SIZE],
                                                   const uint8_t *runtime_data, size_t size,
                                                   uint8_t out_report_data[ATTEST_REPORT_DATA_SIZE]);

/*
 * Checks in constant time that report_data is SHA-512(nonce || runtime_data).
 * Errors: ATTEST_ERR_REPORT_DATA_MISMATCH, ATTEST_ERR_ARGUMENT,
 * ATTEST_ERR_CRYPTO. diag, when not NULL, gets both values in hex on a
 * mismatch.
 */
ATTEST_MUST_USE attest_err attest_report_data_check(const uint8_t nonce[ATTEST_NONCE_SIZE],
                                                    const uint8_t *runtime_data, size_t size,
                                                    const uint8_t report_data[ATTEST_REPORT_DATA_SIZE],
                                                    attest_diag *diag);

/*
 * File operations through which the configfs-tsm and Gramine backends reach
 * the system. Paths are whole (the backend's root joined with a name).
 * Each function returns 0 on success or a positive errno value, such as
 * ENOENT, EACCES or EBUSY, which the backend turns into an attest_err.
 */
typedef struct attest_fileops {
    void *context; /* passed to every function */
    int (*mkdir)(void *context, const char *path);
    int (*rmdir)(void *context, const char *path);
    /* Reads a whole file into a new buffer the caller frees; EFBIG above max_size. */
    int (*read_file)(void *context, const char *path, size_t max_size, uint8_t **out_data,
                     size_t *out_size);
    /* Writes data as the whole content of an existing file, in one write. */
    int (*write_file)(void *context, const char *path, const uint8_t *data, size_t size);
    bool (*exists)(void *context, const char *path);
} attest_fileops;

/* Returns the table of plain POSIX calls (mkdir, rmdir, open, read, write, stat). */
const attest_fileops *attest_fileops_posix(void);

typedef enum attest_evidence_backend {
    ATTEST_EVIDENCE_AUTO,
    ATTEST_EVIDENCE_SIM,
    ATTEST_EVIDENCE_CONFIGFS_TSM,
    ATTEST_EVIDENCE_GRAMINE,
} attest_evidence_backend;

/* Returns "auto", "sim", "configfs-tsm" or "gramine". */
const char *attest_evidence_backend_name(attest_evidence_backend backend);

/* Parses one of the names above. Errors: ATTEST_ERR_ARGUMENT. */
ATTEST_MUST_USE attest_err attest_evidence_backend_parse(const char *name,
                                                         attest_evidence_backend *out_backend);

typedef struct attest_evidence_options {
    attest_evidence_backend backend;
    uint8_t report_data[ATTEST_REPORT_DATA_SIZE];

    /* NULL: attest_fileops_posix(). */
    const attest_fileops *fileops;
    /* NULL: ATTEST_CONFIGFS_TSM_ROOT and ATTEST_GRAMINE_ROOT. */
    const char *configfs_root;
    const char *gramine_root;
    /*
     * NULL: a private configfs-tsm entry with a random name, removed
     * afterwards. Otherwise the entry ROOT/configfs_entry, created when
     * missing and then removed, or used as it is and kept when it exists
     * (for an entry whose options an administrator set beforehand).
     */
    const char *configfs_entry;

    /* Simulated platform directory; NULL leaves the sim backend unconfigured. */
    const char *sim_dir;
    attest_sim_tee sim_tee; /* ATTEST_SIM_SGX or ATTEST_SIM_TDX */
} attest_evidence_options;

/* Fills options with the defaults: backend auto, zero report data, no sim directory, SGX. */
void attest_evidence_options_init(attest_evidence_options *options);

typedef struct attest_evidence {
    /* The backend that produced the evidence; never ATTEST_EVIDENCE_AUTO. */
    attest_evidence_backend backend;
    /*
     * What the evidence is: configfs-tsm's provider file ("tdx_guest",
     * "sev_guest", ...), "sgx_dcap" for Gramine, "sim_sgx" or "sim_tdx".
     */
    char provider[64];
    /* Outblob or quote, owned; free with attest_evidence_clear. */
    uint8_t *data;
    size_t size;
    /* Auxblob of configfs-tsm (SEV-SNP certificates) or NULL. */
    uint8_t *aux;
    size_t aux_size;
    /*
     * True when the evidence's report data was decoded and equals the
     * requested value; false for a provider whose format is not known here.
     */
    bool report_data_checked;
} attest_evidence;

/*
 * Collects evidence over options->report_data from the backend that
 * options selects. With ATTEST_EVIDENCE_AUTO the first present one is used:
 * configfs-tsm when its root exists, then Gramine when ROOT/quote exists,
 * then sim when sim_dir is set; out_evidence->backend names the one used.
 *
 * Errors: ATTEST_ERR_EVIDENCE_* (missing device, permission denied, busy,
 * generation changed, attestation type, short read), ATTEST_ERR_LIMIT,
 * ATTEST_ERR_REPORT_DATA_MISMATCH when the evidence states other report
 * data than requested, ATTEST_ERR_IO for other errno values, and the
 * errors of attest_sim_quote. diag names the file and the value.
 */
ATTEST_MUST_USE attest_err attest_evidence_collect(const attest_evidence_options *options,
                                                   attest_evidence *out_evidence,
                                                   attest_diag *diag);

/*
 * Resolves the backend that attest_evidence_collect uses for options, into
 * out_backend: options->backend unless it is ATTEST_EVIDENCE_AUTO, else the
 * first present one in the order above. Nothing is collected, so a caller
 * can prepare for the backend first (attest exec measures PROGRAM only for
 * the simulated one). Errors: ATTEST_ERR_EVIDENCE_DEVICE_MISSING when auto
 * finds no backend, ATTEST_ERR_ARGUMENT.
 */
ATTEST_MUST_USE attest_err attest_evidence_backend_resolve(const attest_evidence_options *options,
                                                           attest_evidence_backend *out_backend,
                                                           attest_diag *diag);

/* Frees the buffers of evidence and zeroes it. */
void attest_evidence_clear(attest_evidence *evidence);

/*
 * Decodes the report data that evidence of provider states: a DCAP quote
 * ("tdx_guest", "sgx_dcap", "sim_sgx", "sim_tdx") or an SEV-SNP attestation
 * report ("sev_guest", report data at offset 0x50). Errors: the quote's
 * parse errors, ATTEST_ERR_EVIDENCE_SHORT_READ for an SNP report shorter
 * than 1184 bytes, ATTEST_ERR_ARGUMENT for another provider.
 */
ATTEST_MUST_USE attest_err attest_evidence_report_data(const char *provider, const uint8_t *data,
                                                       size_t size,
                                                       uint8_t out_report_data[ATTEST_REPORT_DATA_SIZE],
                                                       attest_diag *diag);

#ifdef __cplusplus
}
#endif

#endif
