// SPDX-License-Identifier: Apache-2.0
/*
 * thingcore se serve: the secure element emulator daemon in the
 * foreground. Parses options and hands over to tc_serve_run (serve.h);
 * the event loop, the kit protocol and chip saving all live there.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "thingcore/log.h"
#include "thingcore/serve.h"

static const char usage[] =
    "usage: thingcore se serve --dir DIR [--pty] [--ready-file F]\n"
    "Serve every chip image DIR/<SERIAL>.chip on the Unix socket\n"
    "DIR/<SERIAL>.sock in the kit protocol; with --pty also on a\n"
    "pseudo-terminal linked from DIR/<SERIAL>.tty (for kit:DEVICE hosts).\n"
    "SIGHUP serves chip images added since; SIGINT/SIGTERM stop.\n"
    "  --dir DIR         folder of chip images (and its .chip-key)\n"
    "  --pty             also serve each chip on a pty\n"
    "  --ready-file F    write F once every socket listens\n"
    "  --foreground      stay in the foreground (the default)\n";

static const struct option options[] = {
    {"dir", required_argument, NULL, 'd'},
    {"pty", no_argument, NULL, 'p'},
    {"ready-file", required_argument, NULL, 'r'},
    {"foreground", no_argument, NULL, 'f'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

static void
log_line(void *arg, int level, const char *msg)
{
    TC_LOG(level, "%s", msg);
}

int
cmd_se_serve(int argc, char **argv)
{
    struct tc_serve_opts o;
    int c;
    int rc;

    memset(&o, 0, sizeof(o));
    o.out = stdout;
    o.log = log_line;
    o.signals = 1;
    o.stop_fd = -1;
    optind = 1;
    while ((c = getopt_long(argc, argv, "d:pr:fh", options, NULL)) != -1) {
        switch (c) {
        case 'd':
            o.dir = optarg;
            break;
        case 'p':
            o.pty = 1;
            break;
        case 'r':
            o.ready_file = optarg;
            break;
        case 'f':
            break;
        case 'h':
            fputs(usage, stdout);
            return CLI_EXIT_OK;
        default:
            fputs(usage, stderr);
            return CLI_EXIT_USAGE;
        }
    }
    if (o.dir == NULL || optind != argc) {
        fputs(usage, stderr);
        return CLI_EXIT_USAGE;
    }
    rc = tc_serve_run(&o);
    if (rc != TC_OK) {
        return cli_fail("se serve", rc, NULL);
    }
    return CLI_EXIT_OK;
}
