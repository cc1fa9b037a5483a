// SPDX-License-Identifier: Apache-2.0
/*
 * thingcore: one program, many subcommands. This file only dispatches; each
 * subcommand lives in its own cmd_*.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "thingcore/log.h"

static const struct cli_command commands[] = {
    {"se", cmd_se, "secure elements: emulator, chip reads, signing"},
    {"cert", cmd_cert, "Trust&GO certificates: decode, rebuild, verify"},
    {"manifest", cmd_manifest, "Trust&GO manifests: create, verify, extract"},
    {"policy", cmd_policy, "policies: validate documents, check decisions"},
    {"up", cmd_up, "run the core: the API and the MQTT broker"},
    {"api", cmd_api, "run the control-plane API alone"},
    {"env", cmd_env, "print shell exports for the aws command"},
    {"broker", cmd_broker, "run the MQTT broker (mosquitto + plugin) alone"},
    {"register", cmd_register, "register a device from its secure element"},
    {"import", cmd_import, "register a manufacturer manifest in bulk"},
    {"device", cmd_device, "run the Blinky-Hello-World device"},
    {"fleet", cmd_fleet, "run many devices at once"},
    {NULL, NULL, NULL},
};

int
cli_fail(const char *what, int err, const struct tc_detail *d)
{
    if (d != NULL && d->text[0] != '\0') {
        fprintf(stderr, "thingcore: %s: %s: %s\n", what, tc_strerror(err),
                d->text);
    } else {
        fprintf(stderr, "thingcore: %s: %s\n", what, tc_strerror(err));
    }
    return CLI_EXIT_FAIL;
}

static void
print_commands(FILE *out, const struct cli_command *table)
{
    const struct cli_command *c;

    for (c = table; c->name != NULL; c++) {
        fprintf(out, "  %-12s %s\n", c->name, c->summary);
    }
}

int
cli_dispatch(const char *prefix, const struct cli_command *table, int argc,
             char **argv, const char *usage)
{
    const struct cli_command *c;

    if (argc < 1 || strcmp(argv[0], "--help") == 0 ||
        strcmp(argv[0], "-h") == 0 || strcmp(argv[0], "help") == 0) {
        FILE *out = argc < 1 ? stderr : stdout;

        fprintf(out, "%s\ncommands:\n", usage);
        print_commands(out, table);
        fprintf(out, "\nRun '%s COMMAND --help' for a command's options.\n",
                prefix);
        return argc < 1 ? CLI_EXIT_USAGE : CLI_EXIT_OK;
    }
    for (c = table; c->name != NULL; c++) {
        if (strcmp(argv[0], c->name) == 0) {
            return c->run(argc, argv);
        }
    }
    fprintf(stderr, "%s: unknown command '%s'\n", prefix, argv[0]);
    fprintf(stderr, "commands:\n");
    print_commands(stderr, table);
    return CLI_EXIT_USAGE;
}

int
main(int argc, char **argv)
{
    const char *level = getenv("THINGCORE_LOG");
    int lv = level != NULL ? tc_log_level_parse(level) : -1;

    tc_log_init("thingcore", lv >= 0 ? lv : TC_LOG_NOTICE);
    if (argc >= 2 && strcmp(argv[1], "--version") == 0) {
        printf("thingcore 0.1.0\n");
        return 0;
    }
    return cli_dispatch("thingcore", commands, argc - 1, argv + 1,
                        "usage: thingcore COMMAND [OPTIONS]\n"
                        "A self-hosted IoT core for secure-element devices.");
}
