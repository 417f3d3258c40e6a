/*
 * libFuzzer target: policy parsing, then appraisal of fixed SGX and TDX
 * reports against every policy that parses.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <attest/policy.h>

/*
 * Fills a valid SGX or TDX report whose body bytes all equal fill. A fill
 * other than 0 also makes it debug, simulated and OutOfDate.
 */
static void report_fill(attest_report *report, bool tdx, uint8_t fill)
{
    memset(report, 0, sizeof(*report));
    report->valid = true;
    report->parsed = true;
    report->quote.header.tee_type = tdx ? ATTEST_TEE_TYPE_TDX : ATTEST_TEE_TYPE_SGX;
    report->quote.body_type = tdx ? ATTEST_BODY_TD10 : ATTEST_BODY_SGX;
    memset(&report->quote.body, fill, sizeof(report->quote.body));
    report->debug = fill != 0;
    report->simulated = fill != 0;
    report->has_collateral = true;
    report->has_tcb_status = true;
    report->tcb_status = fill != 0 ? ATTEST_TCB_OUT_OF_DATE : ATTEST_TCB_UP_TO_DATE;
    report->advisories.count = 1;
    memcpy(report->advisories.ids[0], "INTEL-SA-00828", sizeof("INTEL-SA-00828"));
    report->tcb_evaluation_data_number = fill;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    attest_policy *policy = NULL;
    attest_diag diag = {{0}};
    if (attest_policy_parse((const char *)data, size, &policy, &diag) != ATTEST_OK) {
        return 0;
    }

    (void)attest_policy_nonce_required(policy);
    (void)attest_policy_simulated_allowed(policy);
    (void)attest_policy_token_lifetime(policy);
    uint8_t hash[ATTEST_POLICY_HASH_SIZE];
    attest_policy_hash(policy, hash);
    size_t document_size = 0;
    (void)attest_policy_document(policy, &document_size);

    static attest_report report;
    static attest_appraisal appraisal;
    uint8_t expected[64];
    memset(expected, 0, sizeof(expected));
    for (int tdx = 0; tdx <= 1; tdx++) {
        for (int fill = 0; fill <= 255; fill += 255) {
            report_fill(&report, tdx == 1, (uint8_t)fill);
            (void)attest_policy_appraise(policy, &report, fill == 0 ? expected : NULL,
                                         &appraisal);
            (void)attest_appraisal_failed_check(&appraisal);
        }
    }

    attest_policy_free(policy);
    return 0;
}
