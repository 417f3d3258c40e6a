/* attest token: not implemented yet. */
#include <stdio.h>

#include "cli.h"

int cli_token(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "attest token: not implemented yet\n");
    return CLI_EXIT_USAGE;
}
