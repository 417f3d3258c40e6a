/*
 * Scenarios: a quote and collateral of the simulated platform in which
 * exactly one thing differs from an up-to-date, valid platform. Each
 * produces one outcome of the verifier: a TCB status or the failure of one
 * check. docs/sim.md lists the expected outcome of each.
 */
#include <stdlib.h>
#include <string.h>

#include "sim/sim_internal.h"

/* What a scenario changes in the quote options, the quote and the collateral. */
typedef struct scenario {
    const char *name;
    bool sgx;  /* applies to SGX */
    bool tdx;  /* applies to TDX */
    void (*apply)(attest_sim_quote_options *quote, sim_quote_faults *faults,
                  attest_sim_collateral_options *collateral);
} scenario;

static void up_to_date(attest_sim_quote_options *quote, sim_quote_faults *faults,
                       attest_sim_collateral_options *collateral)
{
    (void)quote;
    (void)faults;
    (void)collateral;
}

#define PLATFORM_STATUS_SCENARIO(function, status)                                            \
    static void function(attest_sim_quote_options *quote, sim_quote_faults *faults,           \
                         attest_sim_collateral_options *collateral)                           \
    {                                                                                         \
        (void)quote;                                                                          \
        (void)faults;                                                                         \
        collateral->platform_status = (status);                                               \
    }

PLATFORM_STATUS_SCENARIO(sw_hardening_needed, ATTEST_TCB_SW_HARDENING_NEEDED)
PLATFORM_STATUS_SCENARIO(configuration_needed, ATTEST_TCB_CONFIGURATION_NEEDED)
PLATFORM_STATUS_SCENARIO(configuration_and_sw_hardening_needed,
                         ATTEST_TCB_CONFIGURATION_AND_SW_HARDENING_NEEDED)
PLATFORM_STATUS_SCENARIO(out_of_date, ATTEST_TCB_OUT_OF_DATE)
PLATFORM_STATUS_SCENARIO(out_of_date_configuration_needed,
                         ATTEST_TCB_OUT_OF_DATE_CONFIGURATION_NEEDED)
PLATFORM_STATUS_SCENARIO(tcb_revoked, ATTEST_TCB_REVOKED)

static void qe_out_of_date(attest_sim_quote_options *quote, sim_quote_faults *faults,
                           attest_sim_collateral_options *collateral)
{
    (void)quote;
    (void)faults;
    collateral->qe_status = ATTEST_TCB_OUT_OF_DATE;
}

static void qe_revoked(attest_sim_quote_options *quote, sim_quote_faults *faults,
                       attest_sim_collateral_options *collateral)
{
    (void)quote;
    (void)faults;
    collateral->qe_status = ATTEST_TCB_REVOKED;
}

static void tdx_module_out_of_date(attest_sim_quote_options *quote, sim_quote_faults *faults,
                                   attest_sim_collateral_options *collateral)
{
    (void)quote;
    (void)faults;
    collateral->module_status = ATTEST_TCB_OUT_OF_DATE;
}

static void pck_revoked(attest_sim_quote_options *quote, sim_quote_faults *faults,
                        attest_sim_collateral_options *collateral)
{
    (void)quote;
    (void)faults;
    collateral->revoke_pck = true;
}

static void intermediate_revoked(attest_sim_quote_options *quote, sim_quote_faults *faults,
                                 attest_sim_collateral_options *collateral)
{
    (void)quote;
    (void)faults;
    collateral->revoke_intermediate = true;
}

static void crl_expired(attest_sim_quote_options *quote, sim_quote_faults *faults,
                        attest_sim_collateral_options *collateral)
{
    (void)quote;
    (void)faults;
    collateral->pck_crl_expired = true;
}

static void tcb_info_expired(attest_sim_quote_options *quote, sim_quote_faults *faults,
                             attest_sim_collateral_options *collateral)
{
    (void)quote;
    (void)faults;
    collateral->tcb_info_expired = true;
}

static void wrong_fmspc(attest_sim_quote_options *quote, sim_quote_faults *faults,
                        attest_sim_collateral_options *collateral)
{
    (void)quote;
    (void)faults;
    collateral->fmspc[5] ^= 0x01;
}

static void debug(attest_sim_quote_options *quote, sim_quote_faults *faults,
                  attest_sim_collateral_options *collateral)
{
    (void)faults;
    (void)collateral;
    quote->debug = true;
}

static void tampered_body(attest_sim_quote_options *quote, sim_quote_faults *faults,
                          attest_sim_collateral_options *collateral)
{
    (void)quote;
    (void)collateral;
    faults->tamper_body = true;
}

static void tampered_qe_report(attest_sim_quote_options *quote, sim_quote_faults *faults,
                               attest_sim_collateral_options *collateral)
{
    (void)quote;
    (void)collateral;
    faults->tamper_qe_report = true;
}

static void wrong_qe_report_data(attest_sim_quote_options *quote, sim_quote_faults *faults,
                                 attest_sim_collateral_options *collateral)
{
    (void)quote;
    (void)collateral;
    faults->qe_report_binds_other = true;
}

/*
 * A TD 1.5 quote whose running TDX module is rated OutOfDate while
 * TEE_TCB_SVN2 names the newest module SVN, so that relaunching the TD
 * would make it UpToDate.
 */
static void td_relaunch_advised(attest_sim_quote_options *quote, sim_quote_faults *faults,
                                attest_sim_collateral_options *collateral)
{
    quote->version = 5;
    quote->td15 = true;
    collateral->module_status = ATTEST_TCB_OUT_OF_DATE;
    faults->has_tee_tcb_svn2 = true;
    memcpy(faults->tee_tcb_svn2, sim_tee_tcb_svn, sizeof(faults->tee_tcb_svn2));
    /* The newest TDX_01 level is two SVNs above the running module (collateral.c). */
    faults->tee_tcb_svn2[0] = (uint8_t)(sim_tee_tcb_svn[0] + 2);
}

static const scenario scenarios[] = {
    {"up-to-date", true, true, up_to_date},
    {"sw-hardening-needed", true, true, sw_hardening_needed},
    {"configuration-needed", true, true, configuration_needed},
    {"configuration-and-sw-hardening-needed", true, true, configuration_and_sw_hardening_needed},
    {"out-of-date", true, true, out_of_date},
    {"out-of-date-configuration-needed", true, true, out_of_date_configuration_needed},
    {"tcb-revoked", true, true, tcb_revoked},
    {"qe-out-of-date", true, true, qe_out_of_date},
    {"qe-revoked", true, true, qe_revoked},
    {"tdx-module-out-of-date", false, true, tdx_module_out_of_date},
    {"pck-revoked", true, true, pck_revoked},
    {"intermediate-revoked", true, true, intermediate_revoked},
    {"crl-expired", true, true, crl_expired},
    {"tcb-info-expired", true, true, tcb_info_expired},
    {"wrong-fmspc", true, true, wrong_fmspc},
    {"debug", true, true, debug},
    {"tampered-body", true, true, tampered_body},
    {"tampered-qe-report", true, true, tampered_qe_report},
    {"wrong-qe-report-data", true, true, wrong_qe_report_data},
    {"td-relaunch-advised", false, true, td_relaunch_advised},
};

#define SCENARIO_COUNT (sizeof(scenarios) / sizeof(scenarios[0]))

size_t attest_sim_scenario_count(void)
{
    return SCENARIO_COUNT;
}

const char *attest_sim_scenario_name(size_t index)
{
    return index < SCENARIO_COUNT ? scenarios[index].name : NULL;
}

static const scenario *scenario_find(const char *name)
{
    for (size_t i = 0; name != NULL && i < SCENARIO_COUNT; i++) {
        if (strcmp(scenarios[i].name, name) == 0) {
            return &scenarios[i];
        }
    }
    return NULL;
}

bool attest_sim_scenario_supports(const char *name, attest_sim_tee tee)
{
    const scenario *found = scenario_find(name);
    if (found == NULL) {
        return false;
    }
    return tee == ATTEST_SIM_TDX ? found->tdx : found->sgx;
}

attest_err attest_sim_scenario(attest_sim_platform *platform, attest_sim_tee tee,
                               const char *name, time_t at,
                               attest_sim_scenario_output *out_output, attest_diag *diag)
{
    if (platform == NULL || out_output == NULL) {
        return attest_diag_set(diag, ATTEST_ERR_ARGUMENT, "platform or output is NULL");
    }
    const scenario *found = scenario_find(name);
    if (found == NULL) {
        return attest_diag_set(diag, ATTEST_ERR_ARGUMENT,
                               "unknown scenario \"%.64s\" (attest sim scenario --list names "
                               "them)",
                               name != NULL ? name : "(null)");
    }
    if (!attest_sim_scenario_supports(name, tee)) {
        return attest_diag_set(diag, ATTEST_ERR_ARGUMENT,
                               "scenario \"%s\" applies to TDX only, not to %s", name,
                               tee == ATTEST_SIM_TDX ? "TDX" : "SGX");
    }

    attest_sim_quote_options quote_options;
    attest_sim_quote_options_init(&quote_options, tee);
    sim_quote_faults faults;
    memset(&faults, 0, sizeof(faults));
    attest_sim_collateral_options collateral_options;
    attest_sim_collateral_options_init(&collateral_options, tee, at);
    found->apply(&quote_options, &faults, &collateral_options);

    /* Report data names the scenario, so two scenarios' quotes never coincide. */
    size_t name_size = strlen(name);
    memcpy(quote_options.report_data, name,
           name_size < sizeof(quote_options.report_data) ? name_size
                                                          : sizeof(quote_options.report_data));

    attest_sim_scenario_output output;
    memset(&output, 0, sizeof(output));
    output.at = at;
    attest_err err = sim_quote_build(platform, &quote_options, &faults, &output.quote,
                                     &output.quote_size, diag);
    if (err == ATTEST_OK) {
        err = attest_sim_collateral(platform, &collateral_options, &output.collateral, diag);
    }
    if (err != ATTEST_OK) {
        attest_sim_scenario_output_clear(&output);
        return err;
    }
    *out_output = output;
    return ATTEST_OK;
}

void attest_sim_scenario_output_clear(attest_sim_scenario_output *output)
{
    if (output == NULL) {
        return;
    }
    free(output->quote);
    attest_collateral_clear(&output->collateral);
    memset(output, 0, sizeof(*output));
}
