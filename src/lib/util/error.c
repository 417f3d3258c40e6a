#include <stdarg.h>
#include <stdio.h>

#include <attest/error.h>

static const char *const error_codes[] = {
#define ATTEST_ERR_CODE(name, code, message) [name] = code,
    ATTEST_ERR_LIST(ATTEST_ERR_CODE)
#undef ATTEST_ERR_CODE
};

static const char *const error_messages[] = {
#define ATTEST_ERR_MESSAGE(name, code, message) [name] = message,
    ATTEST_ERR_LIST(ATTEST_ERR_MESSAGE)
#undef ATTEST_ERR_MESSAGE
};

const char *attest_err_code(attest_err err)
{
    if ((unsigned)err >= ATTEST_ERR_COUNT_) {
        return "unknown_error";
    }
    return error_codes[err];
}

const char *attest_err_message(attest_err err)
{
    if ((unsigned)err >= ATTEST_ERR_COUNT_) {
        return "unknown error";
    }
    return error_messages[err];
}

attest_err attest_diag_set(attest_diag *diag, attest_err err, const char *format, ...)
{
    if (diag != NULL) {
        va_list args;
        va_start(args, format);
        vsnprintf(diag->message, sizeof(diag->message), format, args);
        va_end(args);
    }
    return err;
}
