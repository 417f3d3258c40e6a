/*
 * Readers of the fields of a policy document (see internal.h). Each error
 * names the JSON path of the value, so that an administrator finds it.
 */
#include <assert.h>
#include <string.h>

#include "appraisal/internal.h"
#include "collateral/json.h"
#include "util/hex.h"

static_assert(ATTEST_POLICY_MAX_VALUES <= ATTEST_TCB_MAX_ADVISORIES,
              "accepted advisory IDs are stored in an attest_advisories");

/* Copies at most 48 bytes of text into out, with bytes outside printable ASCII as '?'. */
static void printable_copy(const char *text, char out[49])
{
    size_t i = 0;
    for (; i < 48 && text[i] != '\0'; i++) {
        unsigned char c = (unsigned char)text[i];
        out[i] = c >= 0x20 && c < 0x7f ? (char)c : '?';
    }
    out[i] = '\0';
}

attest_err policy_check_keys(const json_t *object, const char *path, const char *const *keys,
                             size_t count, attest_diag *diag)
{
    const char *key = NULL;
    json_t *value = NULL;
    /* json_object_foreach takes a non-const object but does not change it. */
    json_object_foreach ((json_t *)object, key, value) {
        bool known = false;
        for (size_t i = 0; i < count && !known; i++) {
            known = strcmp(key, keys[i]) == 0;
        }
        if (!known) {
            char shown[49];
            printable_copy(key, shown);
            return attest_diag_set(diag, ATTEST_ERR_POLICY_UNKNOWN_KEY,
                                   "%s: unknown key \"%s\"; see docs/policy.md for the keys "
                                   "of this object",
                                   path, shown);
        }
    }
    return ATTEST_OK;
}

attest_err policy_get_bool(const json_t *object, const char *path, const char *key,
                           bool *out_value, attest_diag *diag)
{
    const json_t *value = json_object_get(object, key);
    if (value == NULL) {
        return attest_diag_set(diag, ATTEST_ERR_JSON_FIELD, "%s.%s: missing", path, key);
    }
    if (!json_is_boolean(value)) {
        return attest_diag_set(diag, ATTEST_ERR_JSON_FIELD, "%s.%s: expected true or false",
                               path, key);
    }
    *out_value = json_is_true(value);
    return ATTEST_OK;
}

/* Decodes element index of array, a hex string of exactly size bytes, into out. */
static attest_err get_hex_element(const json_t *array, const char *path, const char *key,
                                  size_t index, uint8_t *out, size_t size, attest_diag *diag)
{
    const json_t *element = json_array_get(array, index);
    if (!json_is_string(element)) {
        return attest_diag_set(diag, ATTEST_ERR_JSON_FIELD, "%s.%s[%zu]: expected a hex string",
                               path, key, index);
    }
    const char *text = json_string_value(element);
    size_t text_size = json_string_length(element);
    if (text_size != 2 * size) {
        return attest_diag_set(diag, ATTEST_ERR_JSON_FIELD,
                               "%s.%s[%zu]: expected %zu hex digits (%zu bytes), got %zu "
                               "characters",
                               path, key, index, 2 * size, size, text_size);
    }
    if (attest_hex_decode_exact(text, text_size, out, size) != ATTEST_OK) {
        return attest_diag_set(diag, ATTEST_ERR_JSON_FIELD, "%s.%s[%zu]: invalid hex digit",
                               path, key, index);
    }
    return ATTEST_OK;
}

attest_err policy_get_values(const json_t *object, const char *path, const char *key,
                             size_t size, policy_values *out_values, attest_diag *diag)
{
    json_t *array = NULL;
    attest_err err = attest_json_get_array(object, path, key, &array, diag);
    if (err != ATTEST_OK) {
        return err;
    }

    /* An empty list would reject every quote, which is never what a policy means. */
    size_t count = json_array_size(array);
    if (count == 0 || count > ATTEST_POLICY_MAX_VALUES) {
        return attest_diag_set(diag, ATTEST_ERR_JSON_FIELD,
                               "%s.%s: expected 1 to %d values, got %zu", path, key,
                               ATTEST_POLICY_MAX_VALUES, count);
    }

    policy_values values;
    memset(&values, 0, sizeof(values));
    values.count = count;
    values.size = size;
    for (size_t i = 0; i < count; i++) {
        err = get_hex_element(array, path, key, i, values.values[i], size, diag);
        if (err != ATTEST_OK) {
            return err;
        }
    }
    *out_values = values;
    return ATTEST_OK;
}

attest_err policy_get_masked(const json_t *object, const char *path, const char *key,
                             size_t size, policy_masked *out_masked, attest_diag *diag)
{
    json_t *section = NULL;
    attest_err err = attest_json_get_object(object, path, key, &section, diag);
    if (err != ATTEST_OK) {
        return err;
    }

    char section_path[ATTEST_JSON_PATH_SIZE];
    attest_json_path_format(section_path, "%s.%s", path, key);
    static const char *const keys[] = {"value", "mask"};
    err = policy_check_keys(section, section_path, keys, 2, diag);
    if (err != ATTEST_OK) {
        return err;
    }

    policy_masked masked;
    memset(&masked, 0, sizeof(masked));
    masked.present = true;
    masked.size = size;
    err = attest_json_get_hex(section, section_path, "value", masked.value, size, diag);
    if (err != ATTEST_OK) {
        return err;
    }
    err = attest_json_get_hex(section, section_path, "mask", masked.mask, size, diag);
    if (err != ATTEST_OK) {
        return err;
    }

    /* A value bit outside the mask can never match, so the policy would reject everything. */
    for (size_t i = 0; i < size; i++) {
        if ((masked.value[i] & (uint8_t)~masked.mask[i]) != 0) {
            return attest_diag_set(diag, ATTEST_ERR_POLICY_INVALID,
                                   "%s: value has bits outside the mask in byte %zu "
                                   "(value %02x, mask %02x)",
                                   section_path, i, masked.value[i], masked.mask[i]);
        }
    }
    *out_masked = masked;
    return ATTEST_OK;
}

attest_err policy_get_statuses(const json_t *object, const char *path, const char *key,
                               unsigned *out_statuses, attest_diag *diag)
{
    json_t *array = NULL;
    attest_err err = attest_json_get_array(object, path, key, &array, diag);
    if (err != ATTEST_OK) {
        return err;
    }
    if (json_array_size(array) == 0) {
        return attest_diag_set(diag, ATTEST_ERR_JSON_FIELD,
                               "%s.%s: expected at least one status, such as \"UpToDate\"", path,
                               key);
    }

    unsigned statuses = 0;
    size_t index = 0;
    json_t *element = NULL;
    json_array_foreach (array, index, element) {
        if (!json_is_string(element)) {
            return attest_diag_set(diag, ATTEST_ERR_JSON_FIELD,
                                   "%s.%s[%zu]: expected a TCB status name", path, key, index);
        }
        const char *name = json_string_value(element);
        attest_tcb_status status;
        if (attest_tcb_status_parse(name, &status) != ATTEST_OK) {
            char shown[49];
            printable_copy(name, shown);
            return attest_diag_set(diag, ATTEST_ERR_TCB_STATUS_UNKNOWN,
                                   "%s.%s[%zu]: \"%s\" is not a TCB status Intel defines", path,
                                   key, index, shown);
        }
        /* A revoked TCB has compromised keys, so no policy may accept it. */
        if (status == ATTEST_TCB_REVOKED) {
            return attest_diag_set(diag, ATTEST_ERR_POLICY_INVALID,
                                   "%s.%s[%zu]: Revoked cannot be accepted", path, key, index);
        }
        statuses |= 1u << status;
    }
    *out_statuses = statuses;
    return ATTEST_OK;
}

/* True when id is 1 to 31 characters of letters, digits and '-', as Intel's "INTEL-SA-00615". */
static bool advisory_id_valid(const json_t *element)
{
    if (!json_is_string(element)) {
        return false;
    }
    const char *id = json_string_value(element);
    size_t size = json_string_length(element);
    if (size == 0 || size > 31) {
        return false;
    }
    for (size_t i = 0; i < size; i++) {
        char c = id[i];
        bool allowed = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                       (c >= '0' && c <= '9') || c == '-';
        if (!allowed) {
            return false;
        }
    }
    return true;
}

attest_err policy_get_advisories(const json_t *object, const char *path, const char *key,
                                 bool *out_any, attest_advisories *out_advisories,
                                 attest_diag *diag)
{
    const json_t *value = json_object_get(object, key);
    if (value == NULL) {
        return attest_diag_set(diag, ATTEST_ERR_JSON_FIELD, "%s.%s: missing", path, key);
    }
    if (json_is_string(value)) {
        if (strcmp(json_string_value(value), "*") != 0 || json_string_length(value) != 1) {
            return attest_diag_set(diag, ATTEST_ERR_JSON_FIELD,
                                   "%s.%s: expected \"*\" or an array of advisory IDs", path,
                                   key);
        }
        *out_any = true;
        memset(out_advisories, 0, sizeof(*out_advisories));
        return ATTEST_OK;
    }
    if (!json_is_array(value)) {
        return attest_diag_set(diag, ATTEST_ERR_JSON_FIELD,
                               "%s.%s: expected \"*\" or an array of advisory IDs", path, key);
    }

    size_t count = json_array_size(value);
    if (count > ATTEST_POLICY_MAX_VALUES) {
        return attest_diag_set(diag, ATTEST_ERR_JSON_FIELD,
                               "%s.%s: %zu advisory IDs exceed the limit of %d", path, key,
                               count, ATTEST_POLICY_MAX_VALUES);
    }

    attest_advisories advisories;
    memset(&advisories, 0, sizeof(advisories));
    for (size_t i = 0; i < count; i++) {
        const json_t *element = json_array_get(value, i);
        if (!advisory_id_valid(element)) {
            return attest_diag_set(diag, ATTEST_ERR_JSON_FIELD,
                                   "%s.%s[%zu]: expected an advisory ID of 1 to 31 letters, "
                                   "digits and '-', such as \"INTEL-SA-00615\"",
                                   path, key, i);
        }
        memcpy(advisories.ids[i], json_string_value(element), json_string_length(element) + 1);
    }
    advisories.count = count;
    *out_any = false;
    *out_advisories = advisories;
    return ATTEST_OK;
}
