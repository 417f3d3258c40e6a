/* attest local: not implemented yet. */
#include <stdio.h>

#include "cli.h"

int cli_local(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "attest local: not implemented yet\n");
    return CLI_EXIT_USAGE;
}
