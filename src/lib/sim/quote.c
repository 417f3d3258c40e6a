/*
 * Quotes of the simulated platform in Intel's DCAP formats: SGX version 3,
 * TDX version 4 (TD 1.0 body) and version 5 (TD 1.0 or TD 1.5 body).
 *
 * The quote is assembled as an attest_quote and written with
 * attest_quote_serialize, so its framing is the parser's own. The simulated
 * QE then signs as Intel's does: the PCK key signs the QE report, whose
 * report data is SHA-256(attestation key || QE authentication data) followed
 * by 32 zero bytes, and the attestation key signs the header, the version 5
 * body descriptor and the body.
 */
#include <stdlib.h>
#include <string.h>

#include <attest/quote.h>

#include "sim/sim_internal.h"

static const uint8_t intel_qe_vendor_id[16] = {0x93, 0x9a, 0x72, 0x33, 0xf7, 0x9c, 0x4c, 0xa9,
                                               0x94, 0x0a, 0x0d, 0xb3, 0x95, 0x7f, 0x06, 0x07};

/* QE authentication data: 32 bytes 0x00 to 0x1f, as Intel's QE writes by default. */
static const uint8_t qe_auth_data[32] = {0,  1,  2,  3,  4,  5,  6,  7,  8,  9,  10,
                                         11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21,
                                         22, 23, 24, 25, 26, 27, 28, 29, 30, 31};

void attest_sim_quote_options_init(attest_sim_quote_options *options, attest_sim_tee tee)
{
    memset(options, 0, sizeof(*options));
    options->tee = tee;
    if (tee == ATTEST_SIM_TDX) {
        options->version = 4;
        /* SEPT_VE_DISABLE (bit 28) set, DEBUG (bit 0) clear, as on a production TD. */
        options->td_attributes[3] = 0x10;
        /* XFAM of x87, SSE, AVX, AVX-512, PKRU, CET and AMX state. */
        options->xfam[0] = 0xe7;
        options->xfam[1] = 0x1a;
        options->xfam[2] = 0x06;
    } else {
        options->version = 3;
        /* ATTRIBUTES.FLAGS INIT and MODE64BIT, DEBUG clear; XFRM x87 and SSE. */
        options->attributes[0] = 0x05;
        options->attributes[8] = 0x03;
    }
}

static attest_err options_check(const attest_sim_quote_options *options, attest_diag *diag)
{
    switch (options->tee) {
    case ATTEST_SIM_SGX:
        if (options->version != 3) {
            return attest_diag_set(diag, ATTEST_ERR_ARGUMENT,
                                   "SGX quote version %d is not supported (only 3)",
                                   options->version);
        }
        if (options->td15) {
            return attest_diag_set(diag, ATTEST_ERR_ARGUMENT, "a TD 1.5 body needs a TDX quote");
        }
        return ATTEST_OK;
    case ATTEST_SIM_TDX:
        if (options->version != 4 && options->version != 5) {
            return attest_diag_set(diag, ATTEST_ERR_ARGUMENT,
                                   "TDX quote version %d is not supported (4 or 5)",
                                   options->version);
        }
        if (options->td15 && options->version != 5) {
            return attest_diag_set(diag, ATTEST_ERR_ARGUMENT,
                                   "a TD 1.5 body needs quote version 5, not %d",
                                   options->version);
        }
        return ATTEST_OK;
    }
    return attest_diag_set(diag, ATTEST_ERR_ARGUMENT, "TEE %d is neither SGX nor TDX",
                           (int)options->tee);
}

static void sgx_body_fill(const attest_sim_quote_options *options, attest_sgx_report_body *body)
{
    memcpy(body->cpu_svn, sim_sgx_components, sizeof(body->cpu_svn));
    body->misc_select = options->misc_select;
    memcpy(body->attributes, options->attributes, sizeof(body->attributes));
    if (options->debug) {
        body->attributes[0] |= 0x02;
    }
    memcpy(body->mr_enclave, options->mr_enclave, sizeof(body->mr_enclave));
    memcpy(body->mr_signer, options->mr_signer, sizeof(body->mr_signer));
    body->isv_prod_id = options->isv_prod_id;
    body->isv_svn = options->isv_svn;
    memcpy(body->report_data, options->report_data, sizeof(body->report_data));
}

static attest_err td_body_fill(const attest_sim_quote_options *options,
                               const sim_quote_faults *faults, attest_td_report_body *body)
{
    static const char module_label[] = "attest simulated TDX module";
    attest_err err = sim_digest((const uint8_t *)module_label, sizeof(module_label) - 1, 48,
                                body->mr_seam);
    if (err != ATTEST_OK) {
        return err;
    }
    memcpy(body->tee_tcb_svn, sim_tee_tcb_svn, sizeof(body->tee_tcb_svn));
    memcpy(body->td_attributes, options->td_attributes, sizeof(body->td_attributes));
    if (options->debug) {
        body->td_attributes[0] |= 0x01;
    }
    memcpy(body->xfam, options->xfam, sizeof(body->xfam));
    memcpy(body->mr_td, options->mr_td, sizeof(body->mr_td));
    memcpy(body->mr_config_id, options->mr_config_id, sizeof(body->mr_config_id));
    memcpy(body->mr_owner, options->mr_owner, sizeof(body->mr_owner));
    memcpy(body->rtmr, options->rtmr, sizeof(body->rtmr));
    memcpy(body->report_data, options->report_data, sizeof(body->report_data));
    if (options->td15) {
        /* TEE_TCB_SVN2 is the TCB of a relaunched TD: TEE_TCB_SVN unless a module update waits. */
        const uint8_t *svn2 = faults->has_tee_tcb_svn2 ? faults->tee_tcb_svn2 : sim_tee_tcb_svn;
        memcpy(body->tee_tcb_svn2, svn2, sizeof(body->tee_tcb_svn2));
    }
    return ATTEST_OK;
}

/* Fills the QE report of the simulated QE (or TD QE), binding attestation_key. */
static attest_err qe_report_fill(attest_sim_tee tee, const uint8_t attestation_key[64],
                                 attest_sgx_report_body *report)
{
    static const char qe_label[] = "attest simulated quoting enclave";
    attest_err err =
        sim_digest((const uint8_t *)qe_label, sizeof(qe_label) - 1, 32, report->mr_enclave);
    if (err != ATTEST_OK) {
        return err;
    }
    memcpy(report->cpu_svn, sim_sgx_components, sizeof(report->cpu_svn));
    /* ATTRIBUTES INIT and PROVISIONKEY, as the QE identity expects under its mask. */
    report->attributes[0] = 0x11;
    sim_qe_mrsigner(report->mr_signer);
    report->isv_prod_id = tee == ATTEST_SIM_TDX ? SIM_TD_QE_PROD_ID : SIM_QE_PROD_ID;
    report->isv_svn = tee == ATTEST_SIM_TDX ? SIM_TD_QE_SVN : SIM_QE_SVN;

    uint8_t bound[64 + sizeof(qe_auth_data)];
    memcpy(bound, attestation_key, 64);
    memcpy(bound + 64, qe_auth_data, sizeof(qe_auth_data));
    memset(report->report_data, 0, sizeof(report->report_data));
    return sim_digest(bound, sizeof(bound), 32, report->report_data);
}

/* Serializes quote into a new buffer the caller frees. */
static attest_err serialize_alloc(const attest_quote *quote, uint8_t **out_data,
                                  size_t *out_size)
{
    size_t size = 0;
    attest_err err = attest_quote_serialize(quote, NULL, 0, &size);
    if (err != ATTEST_OK) {
        return err;
    }
    uint8_t *data = malloc(size);
    if (data == NULL) {
        return ATTEST_ERR_NOMEM;
    }
    err = attest_quote_serialize(quote, data, size, &size);
    if (err != ATTEST_OK) {
        free(data);
        return err;
    }
    *out_data = data;
    *out_size = size;
    return ATTEST_OK;
}

/* Fills the header, the body, the attestation key and the QE authentication data of quote. */
static attest_err quote_fill(const attest_sim_quote_options *options,
                             const sim_quote_faults *faults, const uint8_t attestation_key[64],
                             attest_quote *quote)
{
    bool tdx = options->tee == ATTEST_SIM_TDX;
    attest_quote_header *header = &quote->header;
    header->version = (uint16_t)options->version;
    header->attestation_key_type = ATTEST_KEY_TYPE_ECDSA_P256;
    header->tee_type = tdx ? ATTEST_TEE_TYPE_TDX : ATTEST_TEE_TYPE_SGX;
    if (options->version == 3) {
        header->qe_svn = SIM_QE_SVN;
        header->pce_svn = SIM_PCESVN;
    }
    memcpy(header->qe_vendor_id, intel_qe_vendor_id, sizeof(header->qe_vendor_id));
    memcpy(quote->attestation_key, attestation_key, sizeof(quote->attestation_key));
    quote->qe_auth_data = qe_auth_data;
    quote->qe_auth_data_size = sizeof(qe_auth_data);

    /* User data starts with a QE ID; the simulated QE derives it from its attestation key. */
    uint8_t qe_id[32];
    attest_err err = sim_digest(attestation_key, 64, 32, qe_id);
    if (err != ATTEST_OK) {
        return err;
    }
    memcpy(header->user_data, qe_id, 16);

    if (!tdx) {
        quote->body_type = ATTEST_BODY_SGX;
        quote->body_size = ATTEST_SGX_REPORT_BODY_SIZE;
        sgx_body_fill(options, &quote->body.sgx);
        return ATTEST_OK;
    }
    quote->body_type = options->td15 ? ATTEST_BODY_TD15 : ATTEST_BODY_TD10;
    quote->body_size = options->td15 ? ATTEST_TD15_REPORT_BODY_SIZE : ATTEST_TD10_REPORT_BODY_SIZE;
    return td_body_fill(options, faults, &quote->body.td);
}

/* Returns the size of what the attestation key signs: header, descriptor and body. */
static size_t quote_signed_size(const attest_quote *quote)
{
    size_t descriptor_size = quote->header.version == 5 ? 6 : 0;
    return ATTEST_QUOTE_HEADER_SIZE + descriptor_size + quote->body_size;
}

/* Returns the offset of the QE report in the serialized quote. */
static size_t quote_qe_report_offset(const attest_quote *quote)
{
    return quote_signed_size(quote) + 4 + ATTEST_ECDSA_SIGNATURE_SIZE + ATTEST_ECDSA_KEY_SIZE +
           (quote->header.version == 3 ? 0 : 6);
}

/* Signs the QE report of quote with the PCK key, as the QE does once per attestation key. */
static attest_err qe_report_sign(const sim_pck *pck, attest_quote *quote, attest_diag *diag)
{
    uint8_t *data = NULL;
    size_t size = 0;
    attest_err err = serialize_alloc(quote, &data, &size);
    if (err != ATTEST_OK) {
        return err;
    }
    err = sim_sign_raw(pck->key, data + quote_qe_report_offset(quote), ATTEST_SGX_REPORT_BODY_SIZE,
                       quote->qe_report_signature, diag);
    free(data);
    return err;
}

/* Signs the header, descriptor and body with the attestation key, then applies body faults. */
static attest_err quote_sign(EVP_PKEY *attestation_key, const sim_quote_faults *faults,
                             attest_quote *quote, attest_diag *diag)
{
    uint8_t *data = NULL;
    size_t size = 0;
    attest_err err = serialize_alloc(quote, &data, &size);
    if (err != ATTEST_OK) {
        return err;
    }
    err = sim_sign_raw(attestation_key, data, quote_signed_size(quote), quote->signature, diag);
    free(data);
    if (err != ATTEST_OK) {
        return err;
    }
    if (faults->tamper_body && quote->body_type == ATTEST_BODY_SGX) {
        quote->body.sgx.mr_enclave[0] ^= 0x01;
    } else if (faults->tamper_body) {
        quote->body.td.mr_td[0] ^= 0x01;
    }
    return ATTEST_OK;
}

/* Writes the attestation key that the QE report binds: another one when faults ask for it. */
static attest_err bound_key_get(const attest_sim_platform *platform,
                                const sim_quote_faults *faults, uint8_t out_key[64],
                                attest_diag *diag)
{
    if (!faults->qe_report_binds_other) {
        memcpy(out_key, platform->attestation_public_key, 64);
        return ATTEST_OK;
    }
    EVP_PKEY *other = NULL;
    attest_err err = sim_key_generate(&other, diag);
    if (err == ATTEST_OK) {
        err = sim_public_key_raw(other, out_key, diag);
    }
    EVP_PKEY_free(other);
    return err;
}

/*
 * Fills the QE report, its PCK signature and the PCK chain of quote, from
 * the prepared parts or, when faults change the QE report, anew. pem_owned
 * receives a chain the caller frees, or NULL when the quote borrows it.
 */
static attest_err qe_parts_fill(attest_sim_platform *platform, attest_sim_tee tee,
                                const sim_quote_faults *faults, attest_quote *quote,
                                uint8_t **pem_owned, attest_diag *diag)
{
    *pem_owned = NULL;
    const sim_quote_parts *parts = &platform->quote_parts[tee];
    if (platform->quote_parts_ready && !faults->qe_report_binds_other) {
        quote->qe_report = parts->qe_report;
        memcpy(quote->qe_report_signature, parts->qe_report_signature,
               sizeof(quote->qe_report_signature));
        quote->pck_chain = parts->pck_chain_pem;
        quote->pck_chain_size = (uint32_t)parts->pck_chain_pem_size;
    } else {
        /* Another attestation key bound, or the platform is being prepared: sign afresh. */
        uint8_t bound_key[64];
        attest_err err = bound_key_get(platform, faults, bound_key, diag);
        if (err == ATTEST_OK) {
            err = qe_report_fill(tee, bound_key, &quote->qe_report);
        }
        sim_pck pck = sim_platform_pck(platform, tee);
        X509 *chain[3] = {pck.cert, pck.ca, platform->root};
        size_t pem_size = 0;
        if (err == ATTEST_OK) {
            err = sim_pem_chain(chain, 3, true, pem_owned, &pem_size, diag);
        }
        if (err != ATTEST_OK) {
            return err;
        }
        quote->pck_chain = *pem_owned;
        quote->pck_chain_size = (uint32_t)pem_size;
        err = qe_report_sign(&pck, quote, diag);
        if (err != ATTEST_OK) {
            return err;
        }
    }
    if (faults->tamper_qe_report) {
        /* CONFIG_ID is covered by the PCK signature but by no QE identity check. */
        quote->qe_report.config_id[0] ^= 0x01;
    }
    return ATTEST_OK;
}

attest_err sim_quote_build(attest_sim_platform *platform, const attest_sim_quote_options *options,
                           const sim_quote_faults *faults, uint8_t **out_quote, size_t *out_size,
                           attest_diag *diag)
{
    static const sim_quote_faults no_faults;
    if (platform == NULL || options == NULL || out_quote == NULL || out_size == NULL) {
        return attest_diag_set(diag, ATTEST_ERR_ARGUMENT, "platform, options or output is NULL");
    }
    if (faults == NULL) {
        faults = &no_faults;
    }
    attest_err err = options_check(options, diag);
    if (err != ATTEST_OK) {
        return err;
    }

    if (!platform->quote_parts_ready) {
        return attest_diag_set(
            diag, ATTEST_ERR_ARGUMENT,
            "the simulated platform was not opened with attest_sim_platform_open");
    }
    attest_quote quote;
    memset(&quote, 0, sizeof(quote));
    err = quote_fill(options, faults, platform->attestation_public_key, &quote);
    if (err != ATTEST_OK) {
        return err;
    }

    /* The PCK chain as real quotes carry it: PCK, CA, root in PEM, then one NUL. */
    uint8_t *pem_owned = NULL;
    err = qe_parts_fill(platform, options->tee, faults, &quote, &pem_owned, diag);
    if (err == ATTEST_OK) {
        err = quote_sign(platform->attestation_key, faults, &quote, diag);
    }
    uint8_t *data = NULL;
    size_t size = 0;
    if (err == ATTEST_OK) {
        err = serialize_alloc(&quote, &data, &size);
    }
    free(pem_owned);
    if (err != ATTEST_OK) {
        return err;
    }
    *out_quote = data;
    *out_size = size;
    return ATTEST_OK;
}

attest_err sim_quote_parts_prepare(attest_sim_platform *platform, attest_diag *diag)
{
    static const sim_quote_faults no_faults;
    platform->quote_parts_ready = false;
    attest_err err = sim_public_key_raw(platform->attestation_key,
                                        platform->attestation_public_key, diag);
    for (int tee = ATTEST_SIM_SGX; err == ATTEST_OK && tee <= ATTEST_SIM_TDX; tee++) {
        attest_sim_quote_options options;
        attest_sim_quote_options_init(&options, (attest_sim_tee)tee);
        attest_quote quote;
        memset(&quote, 0, sizeof(quote));
        err = quote_fill(&options, &no_faults, platform->attestation_public_key, &quote);
        uint8_t *pem = NULL;
        if (err == ATTEST_OK) {
            err = qe_parts_fill(platform, (attest_sim_tee)tee, &no_faults, &quote, &pem, diag);
        }
        sim_quote_parts *parts = &platform->quote_parts[tee];
        if (err == ATTEST_OK) {
            parts->qe_report = quote.qe_report;
            memcpy(parts->qe_report_signature, quote.qe_report_signature,
                   sizeof(parts->qe_report_signature));
            parts->pck_chain_pem = pem;
            parts->pck_chain_pem_size = quote.pck_chain_size;
        } else {
            free(pem);
        }
    }
    if (err != ATTEST_OK) {
        sim_quote_parts_clear(platform);
        return err;
    }
    platform->quote_parts_ready = true;
    return ATTEST_OK;
}

void sim_quote_parts_clear(attest_sim_platform *platform)
{
    for (size_t i = 0; i < 2; i++) {
        free(platform->quote_parts[i].pck_chain_pem);
        platform->quote_parts[i].pck_chain_pem = NULL;
        platform->quote_parts[i].pck_chain_pem_size = 0;
    }
    platform->quote_parts_ready = false;
}

attest_err attest_sim_quote(attest_sim_platform *platform, const attest_sim_quote_options *options,
                            uint8_t **out_quote, size_t *out_size, attest_diag *diag)
{
    return sim_quote_build(platform, options, NULL, out_quote, out_size, diag);
}
