// SPDX-License-Identifier: Apache-2.0
/* thingcore se: the secure element subcommands. */
#include "cli.h"

static const struct cli_command se_commands[] = {
    {NULL, NULL, NULL},
};

int
cmd_se(int argc, char **argv)
{
    return cli_dispatch("thingcore se", se_commands, argc - 1, argv + 1,
                        "usage: thingcore se COMMAND [OPTIONS]\n"
                        "Secure elements: the emulator and the client.");
}
