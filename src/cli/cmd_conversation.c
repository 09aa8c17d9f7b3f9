#include <stdio.h>

#include "cli/cli.h"

/* Placeholder until the command is implemented; replace this file. */
int cmd_conversation(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "stemdesk: this command is not available yet\n");
    return 1;
}
