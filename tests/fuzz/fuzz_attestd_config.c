/* libFuzzer target: the attestd configuration file parser and its checks. */
#include <stdint.h>
#include <stdlib.h>

#include "config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    attestd_config config;
    attestd_config_init_defaults(&config);
    attest_diag diag;
    if (attestd_config_apply_json(&config, (const char *)data, size, &diag) == ATTEST_OK) {
        (void)attestd_config_check(&config, &diag);
    }
    return 0;
}
