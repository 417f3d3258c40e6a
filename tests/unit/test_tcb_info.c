/*
 * TCB info and QE identity parsing, TCB status names and collateral dates:
 * the real Intel documents, a hand-made version 2 document, and hostile
 * variants of a hand-made version 3 document, each with its exact error.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <attest/tcb.h>

#include "collateral/json.h"
#include "support.h"

/* Reads the string member key of a real bundle into a new NUL-terminated buffer. */
static char *read_bundle_member(const char *relative, const char *key)
{
    size_t size = 0;
    uint8_t *data = test_read_real(relative, &size);
    json_error_t error;
    json_t *root = json_loadb((const char *)data, size, 0, &error);
    assert_non_null(root);
    const char *text = json_string_value(json_object_get(root, key));
    assert_non_null(text);
    char *copy = strdup(text);
    assert_non_null(copy);
    json_decref(root);
    free(data);
    return copy;
}

/* Returns text with the first occurrence of old replaced by replacement. */
static char *replace_once(const char *text, const char *old, const char *replacement)
{
    const char *at = strstr(text, old);
    if (at == NULL) {
        fail_msg("\"%s\" does not occur in the base document", old);
    }
    size_t prefix = (size_t)(at - text);
    size_t size = strlen(text) - strlen(old) + strlen(replacement);
    char *result = malloc(size + 1);
    assert_non_null(result);
    memcpy(result, text, prefix);
    memcpy(result + prefix, replacement, strlen(replacement));
    strcpy(result + prefix + strlen(replacement), at + strlen(old));
    return result;
}

/* Hand-made SGX version 3 TCB info, shaped like Intel's. Component 1 is 7, so edits can find it. */
static const char base_tcb_info[] =
    "{\"id\":\"SGX\",\"version\":3,\"issueDate\":\"2025-06-19T10:56:11Z\","
    "\"nextUpdate\":\"2025-07-19T10:56:11Z\",\"fmspc\":\"00A067110000\",\"pceId\":\"0000\","
    "\"tcbType\":0,\"tcbEvaluationDataNumber\":17,\"tcbLevels\":[{\"tcb\":{"
    "\"sgxtcbcomponents\":[{\"svn\":7},{\"svn\":11},{\"svn\":2},{\"svn\":2},{\"svn\":255},"
    "{\"svn\":1},{\"svn\":0},{\"svn\":0},{\"svn\":0},{\"svn\":0},{\"svn\":0},{\"svn\":0},"
    "{\"svn\":0},{\"svn\":0},{\"svn\":0},{\"svn\":0}],\"pcesvn\":13},"
    "\"tcbDate\":\"2024-03-13T00:00:00Z\",\"tcbStatus\":\"UpToDate\","
    "\"advisoryIDs\":[\"INTEL-SA-00615\"]}]}";

/* Hand-made QE identity, shaped like Intel's. */
static const char base_qe_identity[] =
    "{\"id\":\"QE\",\"version\":2,\"issueDate\":\"2025-06-19T10:01:18Z\","
    "\"nextUpdate\":\"2025-07-19T10:01:18Z\",\"tcbEvaluationDataNumber\":17,"
    "\"miscselect\":\"00000001\",\"miscselectMask\":\"FFFFFFFF\","
    "\"attributes\":\"11000000000000000000000000000000\","
    "\"attributesMask\":\"FBFFFFFFFFFFFFFF0000000000000000\","
    "\"mrsigner\":\"8C4F5775D796503E96137F77C68A829A0056AC8DED70140B081B094490C57BFF\","
    "\"isvprodid\":1,\"tcbLevels\":[{\"tcb\":{\"isvsvn\":8},"
    "\"tcbDate\":\"2024-03-13T00:00:00Z\",\"tcbStatus\":\"UpToDate\"}]}";

static void tcb_info_sgx_v3_real(void **state)
{
    (void)state;
    char *text = read_bundle_member("sgx/phala-sgx-v3.collateral.json", "tcb_info");
    attest_tcb_info info;
    attest_diag diag = {{0}};

    assert_int_equal(attest_tcb_info_parse(text, strlen(text), &info, &diag), ATTEST_OK);
    assert_int_equal(info.id, ATTEST_TCB_INFO_SGX);
    assert_int_equal(info.version, 3);
    static const uint8_t fmspc[6] = {0x00, 0xA0, 0x67, 0x11, 0x00, 0x00};
    assert_memory_equal(info.fmspc, fmspc, 6);
    assert_int_equal(info.tcb_evaluation_data_number, 17);
    assert_int_equal(info.issue_date, 1750330571); /* 2025-06-19T10:56:11Z */
    assert_false(info.has_tdx_module);
    assert_true(info.level_count > 2);

    const attest_tcb_level *second = &info.levels[1];
    assert_int_equal(second->status, ATTEST_TCB_CONFIGURATION_AND_SW_HARDENING_NEEDED);
    assert_int_equal(second->sgx_components[0], 11);
    assert_int_equal(second->sgx_components[4], 255);
    assert_int_equal(second->pcesvn, 13);
    assert_int_equal(second->advisories.count, 2);
    assert_string_equal(second->advisories.ids[0], "INTEL-SA-00289");
    assert_string_equal(second->advisories.ids[1], "INTEL-SA-00615");

    attest_tcb_info_free(&info);
    free(text);
}

static void tcb_info_tdx_v3_real(void **state)
{
    (void)state;
    char *text = read_bundle_member("tdx/phala-tdx-v5-td15.collateral.json", "tcb_info");
    attest_tcb_info info;
    attest_diag diag = {{0}};

    assert_int_equal(attest_tcb_info_parse(text, strlen(text), &info, &diag), ATTEST_OK);
    assert_int_equal(info.id, ATTEST_TCB_INFO_TDX);
    assert_true(info.has_tdx_module);
    assert_int_equal(info.tdx_module_attributes_mask[0], 0xFF);
    assert_int_equal(info.tdx_module_identity_count, 2);

    const attest_tdx_module_identity *tdx01 = &info.tdx_module_identities[1];
    assert_string_equal(tdx01->id, "TDX_01");
    assert_int_equal(tdx01->level_count, 3);
    assert_int_equal(tdx01->levels[0].isvsvn, 6);
    assert_int_equal(tdx01->levels[1].status, ATTEST_TCB_OUT_OF_DATE);
    assert_int_equal(tdx01->levels[1].advisories.count, 2);

    assert_int_equal(info.levels[0].tdx_components[0], 5);
    assert_int_equal(info.levels[0].tdx_components[2], 3);
    assert_int_equal(info.levels[0].sgx_components[7], 5);

    attest_tcb_info_free(&info);
    free(text);
}

/* Intel wrote this FMSPC in lower case; it decodes to the same bytes. */
static void tcb_info_lowercase_hex_real(void **state)
{
    (void)state;
    char *text = read_bundle_member("tdx/google-spr-e4-v4.collateral.json", "tcb_info");
    attest_tcb_info info;
    attest_diag diag = {{0}};

    assert_int_equal(attest_tcb_info_parse(text, strlen(text), &info, &diag), ATTEST_OK);
    static const uint8_t fmspc[6] = {0x50, 0x80, 0x6f, 0x00, 0x00, 0x00};
    assert_memory_equal(info.fmspc, fmspc, 6);
    assert_int_equal(info.tdx_module_identity_count, 0);
    assert_int_equal(info.level_count, 2);

    attest_tcb_info_free(&info);
    free(text);
}

/* Hand-made SGX version 2 TCB info: no "id", components as sgxtcbcompNNsvn. */
static void tcb_info_sgx_v2_handmade(void **state)
{
    (void)state;
    static const char text[] =
        "{\"version\":2,\"issueDate\":\"2019-05-15T00:00:00Z\","
        "\"nextUpdate\":\"2019-06-14T00:00:00Z\",\"fmspc\":\"00906ea10000\",\"pceId\":\"0000\","
        "\"tcbType\":0,\"tcbEvaluationDataNumber\":5,\"tcbLevels\":[{\"tcb\":{"
        "\"sgxtcbcomp01svn\":2,\"sgxtcbcomp02svn\":2,\"sgxtcbcomp03svn\":0,"
        "\"sgxtcbcomp04svn\":0,\"sgxtcbcomp05svn\":0,\"sgxtcbcomp06svn\":0,"
        "\"sgxtcbcomp07svn\":0,\"sgxtcbcomp08svn\":0,\"sgxtcbcomp09svn\":0,"
        "\"sgxtcbcomp10svn\":0,\"sgxtcbcomp11svn\":0,\"sgxtcbcomp12svn\":0,"
        "\"sgxtcbcomp13svn\":0,\"sgxtcbcomp14svn\":0,\"sgxtcbcomp15svn\":0,"
        "\"sgxtcbcomp16svn\":9,\"pcesvn\":7},\"tcbDate\":\"2019-05-15T00:00:00Z\","
        "\"tcbStatus\":\"SWHardeningNeeded\"},{\"tcb\":{"
        "\"sgxtcbcomp01svn\":1,\"sgxtcbcomp02svn\":1,\"sgxtcbcomp03svn\":0,"
        "\"sgxtcbcomp04svn\":0,\"sgxtcbcomp05svn\":0,\"sgxtcbcomp06svn\":0,"
        "\"sgxtcbcomp07svn\":0,\"sgxtcbcomp08svn\":0,\"sgxtcbcomp09svn\":0,"
        "\"sgxtcbcomp10svn\":0,\"sgxtcbcomp11svn\":0,\"sgxtcbcomp12svn\":0,"
        "\"sgxtcbcomp13svn\":0,\"sgxtcbcomp14svn\":0,\"sgxtcbcomp15svn\":0,"
        "\"sgxtcbcomp16svn\":0,\"pcesvn\":6},\"tcbDate\":\"2018-08-15T00:00:00Z\","
        "\"tcbStatus\":\"OutOfDate\",\"advisoryIDs\":[\"INTEL-SA-00233\"]}]}";
    attest_tcb_info info;
    attest_diag diag = {{0}};

    assert_int_equal(attest_tcb_info_parse(text, strlen(text), &info, &diag), ATTEST_OK);
    assert_int_equal(info.id, ATTEST_TCB_INFO_SGX);
    assert_int_equal(info.version, 2);
    assert_int_equal(info.level_count, 2);
    assert_int_equal(info.levels[0].sgx_components[0], 2);
    assert_int_equal(info.levels[0].sgx_components[15], 9);
    assert_int_equal(info.levels[0].pcesvn, 7);
    assert_int_equal(info.levels[0].status, ATTEST_TCB_SW_HARDENING_NEEDED);
    assert_int_equal(info.levels[0].advisories.count, 0);
    assert_int_equal(info.levels[1].advisories.count, 1);
    attest_tcb_info_free(&info);

    /* A version 2 document missing one component names it. */
    char *broken = replace_once(text, "\"sgxtcbcomp16svn\":9,", "");
    assert_int_equal(attest_tcb_info_parse(broken, strlen(broken), &info, &diag),
                     ATTEST_ERR_JSON_FIELD);
    assert_string_equal(diag.message, "tcbInfo.tcbLevels[0].tcb.sgxtcbcomp16svn: missing");
    free(broken);
}

typedef struct hostile_case {
    const char *name;
    const char *old;
    const char *replacement;
    attest_err expected;
    const char *message; /* expected diag, or NULL to skip */
} hostile_case;

static const hostile_case tcb_info_cases[] = {
    {"duplicate key version", "\"version\":3", "\"version\":3,\"version\":3",
     ATTEST_ERR_JSON_DUPLICATE_KEY, NULL},
    {"duplicate key in level", "\"tcbStatus\":\"UpToDate\"",
     "\"tcbStatus\":\"UpToDate\",\"tcbStatus\":\"Revoked\"", ATTEST_ERR_JSON_DUPLICATE_KEY, NULL},
    {"version 4", "\"version\":3", "\"version\":4", ATTEST_ERR_TCB_INFO_VERSION,
     "tcbInfo.version: 4 is not supported (2 or 3)"},
    {"version 1", "\"version\":3", "\"version\":1", ATTEST_ERR_TCB_INFO_VERSION, NULL},
    {"version as string", "\"version\":3", "\"version\":\"3\"", ATTEST_ERR_JSON_FIELD,
     "tcbInfo.version: expected an integer"},
    {"id SEV", "\"id\":\"SGX\"", "\"id\":\"SEV\"", ATTEST_ERR_TCB_INFO_VERSION, NULL},
    {"id missing in version 3", "\"id\":\"SGX\",", "", ATTEST_ERR_JSON_FIELD,
     "tcbInfo.id: missing"},
    {"TDX with version 2", "\"id\":\"SGX\",\"version\":3", "\"id\":\"TDX\",\"version\":2",
     ATTEST_ERR_TCB_INFO_VERSION, NULL},
    {"unknown status", "\"tcbStatus\":\"UpToDate\"", "\"tcbStatus\":\"Fine\"",
     ATTEST_ERR_TCB_STATUS_UNKNOWN, "tcbInfo.tcbLevels[0].tcbStatus: unknown TCB status \"Fine\""},
    {"status in wrong case", "\"tcbStatus\":\"UpToDate\"", "\"tcbStatus\":\"uptodate\"",
     ATTEST_ERR_TCB_STATUS_UNKNOWN, NULL},
    {"relaunch status in a level", "\"tcbStatus\":\"UpToDate\"",
     "\"tcbStatus\":\"TDRelaunchAdvised\"", ATTEST_ERR_JSON_FIELD, NULL},
    {"status as number", "\"tcbStatus\":\"UpToDate\"", "\"tcbStatus\":0", ATTEST_ERR_JSON_FIELD,
     "tcbInfo.tcbLevels[0].tcbStatus: expected a string"},
    {"fmspc 5 bytes", "\"fmspc\":\"00A067110000\"", "\"fmspc\":\"00A0671100\"",
     ATTEST_ERR_JSON_FIELD,
     "tcbInfo.fmspc: expected 12 hex digits (6 bytes), got 10 characters"},
    {"fmspc non-hex digit", "\"fmspc\":\"00A067110000\"", "\"fmspc\":\"00A06711000G\"",
     ATTEST_ERR_JSON_FIELD, "tcbInfo.fmspc: invalid hex digit"},
    {"pceId 3 bytes", "\"pceId\":\"0000\"", "\"pceId\":\"000000\"", ATTEST_ERR_JSON_FIELD, NULL},
    {"svn 256", "{\"svn\":7}", "{\"svn\":256}", ATTEST_ERR_JSON_FIELD,
     "tcbInfo.tcbLevels[0].tcb.sgxtcbcomponents[0].svn: 256 is outside the range 0 to 255"},
    {"svn negative", "{\"svn\":7}", "{\"svn\":-1}", ATTEST_ERR_JSON_FIELD, NULL},
    {"svn real number", "{\"svn\":7}", "{\"svn\":7.0}", ATTEST_ERR_JSON_FIELD, NULL},
    {"svn as string", "{\"svn\":7}", "{\"svn\":\"7\"}", ATTEST_ERR_JSON_FIELD, NULL},
    {"svn huge integer", "{\"svn\":7}", "{\"svn\":99999999999999999999999}",
     ATTEST_ERR_JSON_SYNTAX, NULL},
    {"component not an object", "{\"svn\":7}", "7", ATTEST_ERR_JSON_FIELD,
     "tcbInfo.tcbLevels[0].tcb.sgxtcbcomponents[0]: expected an object"},
    {"15 components", "{\"svn\":7},", "", ATTEST_ERR_JSON_FIELD,
     "tcbInfo.tcbLevels[0].tcb.sgxtcbcomponents: expected 16 components, got 15"},
    {"pcesvn 65536", "\"pcesvn\":13", "\"pcesvn\":65536", ATTEST_ERR_JSON_FIELD, NULL},
    {"pcesvn missing", ",\"pcesvn\":13", "", ATTEST_ERR_JSON_FIELD,
     "tcbInfo.tcbLevels[0].tcb.pcesvn: missing"},
    {"tcbDate missing", "\"tcbDate\":\"2024-03-13T00:00:00Z\",", "", ATTEST_ERR_JSON_FIELD,
     "tcbInfo.tcbLevels[0].tcbDate: missing"},
    {"tcbDate month 13", "\"tcbDate\":\"2024-03-13T00:00:00Z\"",
     "\"tcbDate\":\"2024-13-13T00:00:00Z\"", ATTEST_ERR_TIME_FORMAT, NULL},
    {"issueDate with offset", "\"issueDate\":\"2025-06-19T10:56:11Z\"",
     "\"issueDate\":\"2025-06-19T10:56:11+00:00\"", ATTEST_ERR_TIME_FORMAT, NULL},
    {"tcbLevels missing", ",\"tcbLevels\":[", ",\"levels\":[", ATTEST_ERR_JSON_FIELD,
     "tcbInfo.tcbLevels: missing"},
    {"tcbLevels not an array", ",\"tcbLevels\":[", ",\"tcbLevels\":\"none\",\"unused\":[",
     ATTEST_ERR_JSON_FIELD, "tcbInfo.tcbLevels: expected an array"},
    {"tcbType 1", "\"tcbType\":0", "\"tcbType\":1", ATTEST_ERR_JSON_FIELD, NULL},
    {"tcbEvaluationDataNumber missing", "\"tcbEvaluationDataNumber\":17,", "",
     ATTEST_ERR_JSON_FIELD, NULL},
    {"SGX with tdxModule", "\"tcbType\":0",
     "\"tcbType\":0,\"tdxModule\":{\"mrsigner\":\"00\",\"attributes\":\"00\","
     "\"attributesMask\":\"00\"}",
     ATTEST_ERR_JSON_FIELD, "tcbInfo.tdxModule: not allowed in SGX TCB info"},
    {"advisory not a string", "[\"INTEL-SA-00615\"]", "[615]", ATTEST_ERR_JSON_FIELD,
     "tcbInfo.tcbLevels[0].advisoryIDs[0]: expected a string"},
    {"advisory too long", "[\"INTEL-SA-00615\"]", "[\"INTEL-SA-00615-INTEL-SA-00615-XY\"]",
     ATTEST_ERR_JSON_FIELD, "tcbInfo.tcbLevels[0].advisoryIDs[0]: length 32 is outside 1 to 31"},
    {"level not an object", "[{\"tcb\":", "[1,{\"tcb\":", ATTEST_ERR_JSON_FIELD,
     "tcbInfo.tcbLevels[0]: expected an object"},
    {"trailing garbage", "]}]}", "]}]}x", ATTEST_ERR_JSON_SYNTAX, NULL},
    {"two documents", "]}]}", "]}]}{}", ATTEST_ERR_JSON_SYNTAX, NULL},
    {"single quotes", "\"pceId\"", "'pceId'", ATTEST_ERR_JSON_SYNTAX, NULL},
    {"escaped NUL in string", "\"INTEL-SA-00615\"", "\"INTEL\\u0000\"", ATTEST_ERR_JSON_SYNTAX,
     NULL},
};

static void tcb_info_hostile_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(tcb_info_cases) / sizeof(tcb_info_cases[0]); i++) {
        const hostile_case *row = &tcb_info_cases[i];
        char *text = replace_once(base_tcb_info, row->old, row->replacement);
        attest_tcb_info info;
        memset(&info, 0xA5, sizeof(info));
        attest_diag diag = {{0}};

        attest_err err = attest_tcb_info_parse(text, strlen(text), &info, &diag);
        if (err != row->expected) {
            fail_msg("case \"%s\": expected %s, got %s (%s)", row->name,
                     attest_err_code(row->expected), attest_err_code(err), diag.message);
        }
        if (row->message != NULL && strcmp(diag.message, row->message) != 0) {
            fail_msg("case \"%s\": message \"%s\"", row->name, diag.message);
        }
        /* The output stays untouched on failure. */
        assert_int_equal(info.version, (int)0xA5A5A5A5);
        free(text);
    }
}

static void tcb_info_base_is_valid(void **state)
{
    (void)state;
    attest_tcb_info info;
    attest_diag diag = {{0}};
    assert_int_equal(attest_tcb_info_parse(base_tcb_info, strlen(base_tcb_info), &info, &diag),
                     ATTEST_OK);
    assert_int_equal(info.levels[0].sgx_components[0], 7);
    attest_tcb_info_free(&info);
}

static void tcb_info_truncated(void **state)
{
    (void)state;
    size_t size = strlen(base_tcb_info);
    for (size_t cut = 0; cut < size; cut += 7) {
        attest_tcb_info info;
        attest_diag diag = {{0}};
        attest_err err = attest_tcb_info_parse(base_tcb_info, cut, &info, &diag);
        if (err != ATTEST_ERR_JSON_SYNTAX) {
            fail_msg("cut at %zu: expected json_syntax_error, got %s", cut, attest_err_code(err));
        }
    }
    attest_tcb_info info;
    attest_diag diag = {{0}};
    assert_int_equal(attest_tcb_info_parse(base_tcb_info, size - 1, &info, &diag),
                     ATTEST_ERR_JSON_SYNTAX);
    assert_non_null(strstr(diag.message, "line 1, column"));
}

/* Wraps an unknown member of depth levels of arrays around the base document's end. */
static char *nest_arrays(size_t levels, const char *inside)
{
    char *value = calloc(2 * levels + strlen(inside) + 1, 1);
    assert_non_null(value);
    memset(value, '[', levels);
    strcpy(value + levels, inside);
    memset(value + levels + strlen(inside), ']', levels);
    char member[4096];
    snprintf(member, sizeof(member), "\"tcbType\":0,\"extra\":%s", value);
    free(value);
    return replace_once(base_tcb_info, "\"tcbType\":0", member);
}

static void tcb_info_depth_limit(void **state)
{
    (void)state;
    attest_tcb_info info;
    attest_diag diag = {{0}};

    /* The top-level object is depth 1, so 15 arrays reach the limit of 16. */
    char *text = nest_arrays(ATTEST_JSON_MAX_DEPTH - 1, "");
    assert_int_equal(attest_tcb_info_parse(text, strlen(text), &info, &diag), ATTEST_OK);
    attest_tcb_info_free(&info);
    free(text);

    text = nest_arrays(ATTEST_JSON_MAX_DEPTH, "");
    assert_int_equal(attest_tcb_info_parse(text, strlen(text), &info, &diag),
                     ATTEST_ERR_JSON_DEPTH);
    free(text);

    text = nest_arrays(1000, "");
    assert_int_equal(attest_tcb_info_parse(text, strlen(text), &info, &diag),
                     ATTEST_ERR_JSON_DEPTH);
    free(text);

    /* Brackets inside strings, also after an escaped quote, do not count. */
    text = nest_arrays(1, "\"\\\"[[[[[[[[[[[[[[[[[[[[{{{{{{{{{{{{{{{{{{{\\\\\"");
    assert_int_equal(attest_tcb_info_parse(text, strlen(text), &info, &diag), ATTEST_OK);
    attest_tcb_info_free(&info);
    free(text);
}

static void tcb_info_size_and_nul_limits(void **state)
{
    (void)state;
    attest_tcb_info info;
    attest_diag diag = {{0}};

    size_t size = ATTEST_JSON_MAX_SIZE + 1;
    char *big = malloc(size);
    assert_non_null(big);
    memset(big, ' ', size);
    memcpy(big, base_tcb_info, strlen(base_tcb_info));
    assert_int_equal(attest_tcb_info_parse(big, size, &info, &diag), ATTEST_ERR_LIMIT);
    /* Whitespace up to the limit is fine. */
    assert_int_equal(attest_tcb_info_parse(big, size - 1, &info, &diag), ATTEST_OK);
    attest_tcb_info_free(&info);
    free(big);

    char with_nul[sizeof(base_tcb_info)];
    memcpy(with_nul, base_tcb_info, sizeof(base_tcb_info));
    with_nul[20] = '\0';
    assert_int_equal(attest_tcb_info_parse(with_nul, sizeof(base_tcb_info) - 1, &info, &diag),
                     ATTEST_ERR_JSON_SYNTAX);
    assert_string_equal(diag.message, "NUL byte at offset 20");
}

static void tcb_info_level_limit(void **state)
{
    (void)state;
    const char *start = strstr(base_tcb_info, "{\"tcb\":");
    const char *end = strrchr(base_tcb_info, ']');
    size_t level_size = (size_t)(end - start);
    size_t prefix = (size_t)(start - base_tcb_info);
    size_t count = ATTEST_TCB_MAX_LEVELS + 1;
    char *text = malloc(prefix + count * (level_size + 1) + 8);
    assert_non_null(text);
    memcpy(text, base_tcb_info, prefix);
    size_t offset = prefix;
    for (size_t i = 0; i < count; i++) {
        memcpy(text + offset, start, level_size);
        offset += level_size;
        text[offset++] = i + 1 < count ? ',' : ']';
    }
    strcpy(text + offset, "}");

    attest_tcb_info info;
    attest_diag diag = {{0}};
    assert_int_equal(attest_tcb_info_parse(text, strlen(text), &info, &diag), ATTEST_ERR_LIMIT);
    assert_string_equal(diag.message, "tcbInfo.tcbLevels: 257 levels exceed the limit of 256");
    free(text);
}

static void qe_identity_real(void **state)
{
    (void)state;
    char *text = read_bundle_member("sgx/phala-sgx-v3.collateral.json", "qe_identity");
    attest_qe_identity identity;
    attest_diag diag = {{0}};

    assert_int_equal(attest_qe_identity_parse(text, strlen(text), &identity, &diag), ATTEST_OK);
    assert_int_equal(identity.id, ATTEST_QE_IDENTITY_QE);
    assert_int_equal(identity.version, 2);
    assert_int_equal(identity.miscselect, 0);
    assert_int_equal(identity.miscselect_mask, 0xFFFFFFFFu);
    assert_int_equal(identity.attributes[0], 0x11);
    assert_int_equal(identity.attributes_mask[0], 0xFB);
    assert_int_equal(identity.mrsigner[0], 0x8C);
    assert_int_equal(identity.isvprodid, 1);
    assert_int_equal(identity.level_count, 6);
    assert_int_equal(identity.levels[0].isvsvn, 8);
    assert_int_equal(identity.levels[1].status, ATTEST_TCB_OUT_OF_DATE);
    assert_string_equal(identity.levels[1].advisories.ids[0], "INTEL-SA-00615");
    attest_qe_identity_free(&identity);
    free(text);

    text = read_bundle_member("tdx/phala-tdx-v4.collateral.json", "qe_identity");
    assert_int_equal(attest_qe_identity_parse(text, strlen(text), &identity, &diag), ATTEST_OK);
    assert_int_equal(identity.id, ATTEST_QE_IDENTITY_TD_QE);
    assert_int_equal(identity.isvprodid, 2);
    attest_qe_identity_free(&identity);
    free(text);
}

static void qe_identity_miscselect_big_endian(void **state)
{
    (void)state;
    attest_qe_identity identity;
    attest_diag diag = {{0}};
    char *text = replace_once(base_qe_identity, "\"FFFFFFFF\"", "\"0a0B0c0D\"");
    assert_int_equal(attest_qe_identity_parse(text, strlen(text), &identity, &diag), ATTEST_OK);
    assert_int_equal(identity.miscselect, 1);
    assert_int_equal(identity.miscselect_mask, 0x0A0B0C0Du);
    attest_qe_identity_free(&identity);
    free(text);
}

static const hostile_case qe_identity_cases[] = {
    {"id QVE", "\"id\":\"QE\"", "\"id\":\"QVE\"", ATTEST_ERR_QE_IDENTITY_VERSION,
     "enclaveIdentity.id: \"QVE\" is not supported (QE or TD_QE)"},
    {"version 3", "\"version\":2", "\"version\":3", ATTEST_ERR_QE_IDENTITY_VERSION, NULL},
    {"version missing", "\"version\":2,", "", ATTEST_ERR_JSON_FIELD,
     "enclaveIdentity.version: missing"},
    {"duplicate mrsigner", "\"isvprodid\":1",
     "\"isvprodid\":1,\"mrsigner\":\"8C4F5775D796503E96137F77C68A829A0056AC8DED70140B081B094490"
     "C57BFF\"",
     ATTEST_ERR_JSON_DUPLICATE_KEY, NULL},
    {"miscselect 3 bytes", "\"00000001\"", "\"000001\"", ATTEST_ERR_JSON_FIELD, NULL},
    {"attributes 15 bytes", "\"11000000000000000000000000000000\"",
     "\"110000000000000000000000000000\"", ATTEST_ERR_JSON_FIELD, NULL},
    {"mrsigner 31 bytes", "8C4F", "8C", ATTEST_ERR_JSON_FIELD,
     "enclaveIdentity.mrsigner: expected 64 hex digits (32 bytes), got 62 characters"},
    {"isvprodid 65536", "\"isvprodid\":1", "\"isvprodid\":65536", ATTEST_ERR_JSON_FIELD, NULL},
    {"isvsvn missing", "{\"isvsvn\":8}", "{}", ATTEST_ERR_JSON_FIELD,
     "enclaveIdentity.tcbLevels[0].tcb.isvsvn: missing"},
    {"isvsvn 65536", "{\"isvsvn\":8}", "{\"isvsvn\":65536}", ATTEST_ERR_JSON_FIELD, NULL},
    {"level status SWHardeningNeeded", "\"tcbStatus\":\"UpToDate\"",
     "\"tcbStatus\":\"SWHardeningNeeded\"", ATTEST_ERR_JSON_FIELD, NULL},
    {"level status unknown", "\"tcbStatus\":\"UpToDate\"", "\"tcbStatus\":\"Good\"",
     ATTEST_ERR_TCB_STATUS_UNKNOWN, NULL},
    {"tcbLevels empty", "[{\"tcb\":{\"isvsvn\":8},\"tcbDate\":\"2024-03-13T00:00:00Z\","
                        "\"tcbStatus\":\"UpToDate\"}]",
     "[]", ATTEST_ERR_JSON_FIELD, "enclaveIdentity.tcbLevels: empty array"},
    {"nextUpdate day 32", "2025-07-19T10:01:18Z", "2025-07-32T10:01:18Z", ATTEST_ERR_TIME_FORMAT,
     NULL},
};

static void qe_identity_hostile_table(void **state)
{
    (void)state;
    attest_qe_identity identity;
    attest_diag diag = {{0}};
    assert_int_equal(
        attest_qe_identity_parse(base_qe_identity, strlen(base_qe_identity), &identity, &diag),
        ATTEST_OK);
    attest_qe_identity_free(&identity);

    for (size_t i = 0; i < sizeof(qe_identity_cases) / sizeof(qe_identity_cases[0]); i++) {
        const hostile_case *row = &qe_identity_cases[i];
        char *text = replace_once(base_qe_identity, row->old, row->replacement);
        attest_err err = attest_qe_identity_parse(text, strlen(text), &identity, &diag);
        if (err != row->expected) {
            fail_msg("case \"%s\": expected %s, got %s (%s)", row->name,
                     attest_err_code(row->expected), attest_err_code(err), diag.message);
        }
        if (row->message != NULL && strcmp(diag.message, row->message) != 0) {
            fail_msg("case \"%s\": message \"%s\"", row->name, diag.message);
        }
        free(text);
    }
}

static void tdx_module_identity_hostile(void **state)
{
    (void)state;
    char *real = read_bundle_member("tdx/phala-tdx-v4.collateral.json", "tcb_info");
    attest_tcb_info info;
    attest_diag diag = {{0}};

    char *text = replace_once(real, "\"id\":\"TDX_03\"", "\"id\":\"TDX_03_AND_MORE_TEXT\"");
    assert_int_equal(attest_tcb_info_parse(text, strlen(text), &info, &diag),
                     ATTEST_ERR_JSON_FIELD);
    free(text);

    text = replace_once(real, "\"tcbStatus\":\"UpToDate\"}]}", "\"tcbStatus\":\"Configuration"
                                                             "Needed\"}]}");
    assert_int_equal(attest_tcb_info_parse(text, strlen(text), &info, &diag),
                     ATTEST_ERR_JSON_FIELD);
    assert_string_equal(diag.message, "tcbInfo.tdxModuleIdentities[0].tcbLevels[0].tcbStatus: "
                                      "status ConfigurationNeeded is not allowed here");
    free(text);

    text = replace_once(real, "\"tdxModule\":{\"mrsigner\":\"00", "\"tdxModule\":{\"mrsigner\":\"");
    assert_int_equal(attest_tcb_info_parse(text, strlen(text), &info, &diag),
                     ATTEST_ERR_JSON_FIELD);
    assert_string_equal(diag.message, "tcbInfo.tdxModule.mrsigner: expected 96 hex digits (48 "
                                      "bytes), got 94 characters");
    free(text);

    text = replace_once(real, "\"tdxModule\":{", "\"tdxModuleX\":{");
    assert_int_equal(attest_tcb_info_parse(text, strlen(text), &info, &diag),
                     ATTEST_ERR_JSON_FIELD);
    assert_string_equal(diag.message, "tcbInfo.tdxModule: missing");
    free(text);

    const char *identities = strstr(real, "\"tdxModuleIdentities\":[");
    const char *levels = strstr(real, "],\"tcbLevels\":[");
    assert_non_null(identities);
    assert_non_null(levels);
    char *empty = malloc(strlen(real) + 1);
    assert_non_null(empty);
    size_t prefix = (size_t)(identities - real) + strlen("\"tdxModuleIdentities\":[");
    memcpy(empty, real, prefix);
    strcpy(empty + prefix, levels);
    assert_int_equal(attest_tcb_info_parse(empty, strlen(empty), &info, &diag),
                     ATTEST_ERR_JSON_FIELD);
    assert_string_equal(diag.message, "tcbInfo.tdxModuleIdentities: empty array");
    free(empty);

    text = replace_once(real, "\"tdxtcbcomponents\":[{\"svn\":5,", "\"tdxtcbcomponents\":[{\"svn\":"
                                                                    "300,");
    assert_int_equal(attest_tcb_info_parse(text, strlen(text), &info, &diag),
                     ATTEST_ERR_JSON_FIELD);
    free(text);
    free(real);
}

static void tcb_status_names(void **state)
{
    (void)state;
    static const char *const names[] = {
        "UpToDate",
        "SWHardeningNeeded",
        "ConfigurationNeeded",
        "ConfigurationAndSWHardeningNeeded",
        "OutOfDate",
        "OutOfDateConfigurationNeeded",
        "Revoked",
        "TDRelaunchAdvised",
        "TDRelaunchAdvisedConfigurationNeeded",
    };
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        attest_tcb_status status;
        assert_int_equal(attest_tcb_status_parse(names[i], &status), ATTEST_OK);
        assert_int_equal(status, (attest_tcb_status)i);
        assert_string_equal(attest_tcb_status_name(status), names[i]);
    }
    attest_tcb_status status = ATTEST_TCB_REVOKED;
    assert_int_equal(attest_tcb_status_parse("UpToDate ", &status), ATTEST_ERR_TCB_STATUS_UNKNOWN);
    assert_int_equal(attest_tcb_status_parse("", &status), ATTEST_ERR_TCB_STATUS_UNKNOWN);
    assert_int_equal(status, ATTEST_TCB_REVOKED);
}

static void time_parse_valid(void **state)
{
    (void)state;
    time_t t = 0;
    assert_int_equal(attest_time_parse("1970-01-01T00:00:00Z", &t), ATTEST_OK);
    assert_int_equal(t, 0);
    assert_int_equal(attest_time_parse("2023-07-01T01:00:00Z", &t), ATTEST_OK);
    assert_int_equal(t, 1688173200);
    assert_int_equal(attest_time_parse("2024-02-29T23:59:59Z", &t), ATTEST_OK);
    assert_int_equal(attest_time_parse("2000-02-29T00:00:00Z", &t), ATTEST_OK);

    char text[21];
    attest_time_format(1688173200, text);
    assert_string_equal(text, "2023-07-01T01:00:00Z");
    attest_time_format(1752919277, text);
    assert_int_equal(attest_time_parse(text, &t), ATTEST_OK);
    assert_int_equal(t, 1752919277);
}

static void time_parse_hostile(void **state)
{
    (void)state;
    static const struct {
        const char *name;
        const char *text;
    } cases[] = {
        {"month 13", "2024-13-01T00:00:00Z"},
        {"month 0", "2024-00-01T00:00:00Z"},
        {"day 0", "2024-01-00T00:00:00Z"},
        {"31 April", "2024-04-31T00:00:00Z"},
        {"29 February of 2023", "2023-02-29T00:00:00Z"},
        {"29 February of 1900", "1900-02-29T00:00:00Z"},
        {"hour 24", "2024-01-01T24:00:00Z"},
        {"minute 60", "2024-01-01T00:60:00Z"},
        {"leap second", "2016-12-31T23:59:60Z"},
        {"lowercase z", "2024-01-01T00:00:00z"},
        {"no Z", "2024-01-01T00:00:00"},
        {"space for T", "2024-01-01 00:00:00Z"},
        {"fraction", "2024-01-01T00:00:00.0Z"},
        {"sign in month", "2024-+1-01T00:00:00Z"},
        {"trailing text", "2024-01-01T00:00:00Zx"},
        {"empty", ""},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        time_t t = 42;
        if (attest_time_parse(cases[i].text, &t) != ATTEST_ERR_TIME_FORMAT) {
            fail_msg("case \"%s\" was accepted", cases[i].name);
        }
        assert_int_equal(t, 42);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(tcb_info_sgx_v3_real),
        cmocka_unit_test(tcb_info_tdx_v3_real),
        cmocka_unit_test(tcb_info_lowercase_hex_real),
        cmocka_unit_test(tcb_info_sgx_v2_handmade),
        cmocka_unit_test(tcb_info_base_is_valid),
        cmocka_unit_test(tcb_info_hostile_table),
        cmocka_unit_test(tcb_info_truncated),
        cmocka_unit_test(tcb_info_depth_limit),
        cmocka_unit_test(tcb_info_size_and_nul_limits),
        cmocka_unit_test(tcb_info_level_limit),
        cmocka_unit_test(qe_identity_real),
        cmocka_unit_test(qe_identity_miscselect_big_endian),
        cmocka_unit_test(qe_identity_hostile_table),
        cmocka_unit_test(tdx_module_identity_hostile),
        cmocka_unit_test(tcb_status_names),
        cmocka_unit_test(time_parse_valid),
        cmocka_unit_test(time_parse_hostile),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
