/* libjose configuration and wiping of JSON values that held key material. */
#include <openssl/crypto.h>

#include "token/internal.h"

/* libjose's default error function prints to stderr, and the library does not log. */
static void jose_error_drop(void *misc, const char *file, int line, uint64_t err,
                            const char *format, va_list arguments)
{
    (void)misc;
    (void)file;
    (void)line;
    (void)err;
    (void)format;
    (void)arguments;
}

jose_cfg_t *token_jose_cfg_new(void)
{
    jose_cfg_t *cfg = jose_cfg();
    if (cfg != NULL) {
        jose_cfg_set_err_func(cfg, jose_error_drop, NULL);
    }
    return cfg;
}

static void json_wipe(json_t *value)
{
    if (json_is_string(value)) {
        /* jansson owns the bytes and they are writable; only the API marks them const. */
        char *bytes = (char *)json_string_value(value);
        OPENSSL_cleanse(bytes, json_string_length(value));
        return;
    }
    if (json_is_object(value)) {
        const char *name = NULL;
        json_t *member = NULL;
        json_object_foreach(value, name, member) {
            json_wipe(member);
        }
        return;
    }
    if (json_is_array(value)) {
        size_t index = 0;
        json_t *element = NULL;
        json_array_foreach(value, index, element) {
            json_wipe(element);
        }
    }
}

void token_json_wipe_decref(json_t *value)
{
    if (value == NULL) {
        return;
    }
    /* Wipe only when this is the last reference, so no other owner reads zeros. */
    if (value->refcount == 1) {
        json_wipe(value);
    }
    json_decref(value);
}
