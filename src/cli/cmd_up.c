// SPDX-License-Identifier: Apache-2.0
/*
 * thingcore up: the one command that runs the core. On first run it
 * creates the data directory (configuration, admin access key, local CA,
 * API server certificate), prints where everything is, then serves the
 * API until Ctrl-C or SIGTERM. The secret is printed only when it is made.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "thingcore/datadir.h"
#include "thingcore/log.h"

static void
usage(FILE *out)
{
    fprintf(out,
            "usage: thingcore up [--data DIR] [--api-port P] [--mqtt-port P]\n"
            "                    [--region R] [--endpoint-host H] "
            "[--bind ADDR] [--http]\n"
            "                    [--threads N]\n"
            "Create the data directory if needed and run the core. Options "
            "given are\nstored in DIR/config.json. The data directory "
            "defaults to $THINGCORE_DATA,\nthen $XDG_DATA_HOME/thingcore, "
            "then ~/.local/share/thingcore.\n"
            "The core is the control-plane API (HTTPS) and mosquitto with\n"
            "the thingcore plugin on the MQTT port (TLS, client\n"
            "certificates); Ctrl-C or SIGTERM stops both.\n");
}

static int
parse_port(const char *s, const char *flag)
{
    char *end = NULL;
    long p = strtol(s, &end, 10);

    if (*s == '\0' || *end != '\0' || p < 1 || p > 65535) {
        fprintf(stderr, "thingcore up: %s must be 1-65535\n", flag);
        return -1;
    }
    return (int)p;
}

/* What a person needs to use the core, once, at start. */
static void
print_summary(const struct tc_datadir *dd,
              const struct tc_datadir_created *made)
{
    char ca[TC_DATADIR_PATH_MAX + 32];
    char cred[TC_DATADIR_PATH_MAX + 32];

    tc_datadir_file(dd, TC_DATADIR_CA_CERT, ca, sizeof(ca));
    tc_datadir_file(dd, TC_DATADIR_CREDENTIALS, cred, sizeof(cred));
    printf("thingcore data directory: %s%s\n", dd->path,
           made->config ? " (created)" : "");
    printf("  region:          %s\n", dd->region);
    printf("  account:         %s\n", dd->account);
    printf("  MQTT endpoint:   %s:%d\n", dd->endpoint_host, dd->mqtt_port);
    printf("  CA bundle:       %s%s\n", ca, made->ca ? " (created)" : "");
    printf("  credentials:     %s\n", cred);
    printf("  access key id:   %s\n", dd->access_key_id);
    if (made->credentials) {
        printf("  secret key:      %s\n", dd->secret);
        printf("                   (shown once; it stays in the "
               "credentials file, mode 0600)\n");
    }
    printf("  shell setup:     eval \"$(thingcore env --data '%s')\"\n",
           dd->path);
    fflush(stdout);
}

int
cmd_up(int argc, char **argv)
{
    static const struct option opts[] = {
        {"data", required_argument, NULL, 'd'},
        {"api-port", required_argument, NULL, 'a'},
        {"mqtt-port", required_argument, NULL, 'm'},
        {"region", required_argument, NULL, 'r'},
        {"endpoint-host", required_argument, NULL, 'e'},
        {"bind", required_argument, NULL, 'b'},
        {"http", no_argument, NULL, 'H'},
        {"threads", required_argument, NULL, 't'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct tc_datadir_options o;
    struct tc_datadir_created made;
    struct tc_datadir dd;
    struct cli_serve s;
    struct cli_broker *broker = NULL; /* broker */
    struct tc_detail d;
    char path[TC_DATADIR_PATH_MAX];
    const char *data = NULL;
    int c;
    int rc;

    memset(&o, 0, sizeof(o));
    memset(&s, 0, sizeof(s));
    optind = 1;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'd':
            data = optarg;
            break;
        case 'a':
            o.api_port = parse_port(optarg, "--api-port");
            if (o.api_port < 0) {
                return CLI_EXIT_USAGE;
            }
            break;
        case 'm':
            o.mqtt_port = parse_port(optarg, "--mqtt-port");
            if (o.mqtt_port < 0) {
                return CLI_EXIT_USAGE;
            }
            break;
        case 'r':
            o.region = optarg;
            break;
        case 'e':
            o.endpoint_host = optarg;
            break;
        case 'b':
            s.bind = optarg;
            break;
        case 'H':
            s.plain_http = 1;
            break;
        case 't':
            s.threads = (unsigned)atoi(optarg);
            break;
        case 'h':
            usage(stdout);
            return CLI_EXIT_OK;
        default:
            usage(stderr);
            return CLI_EXIT_USAGE;
        }
    }
    if (optind != argc) {
        usage(stderr);
        return CLI_EXIT_USAGE;
    }

    tc_detail_clear(&d);
    rc = tc_datadir_default_path(data, path, sizeof(path), &d);
    if (rc == TC_OK) {
        rc = tc_datadir_create(path, &o, &dd, &made, &d);
    }
    if (rc != TC_OK) {
        return cli_fail("up", rc, &d);
    }
    if (made.credentials) {
        TC_LOG(TC_LOG_NOTICE, "up: created admin access key %s",
               dd.access_key_id);
    }
    print_summary(&dd, &made);

    /* ---- broker: mosquitto + plugin beside the API (cmd_broker.c) ---- */
    {
        struct cli_broker_opts bo;

        memset(&bo, 0, sizeof(bo));
        bo.bind = s.bind;
        rc = cli_broker_start(&dd, &bo, &broker);
        if (rc != CLI_EXIT_OK) {
            tc_datadir_clear(&dd);
            return rc;
        }
    }
    /* ---- end broker ---- */

    s.dd = &dd;
    rc = cli_serve_api(&s);
    cli_broker_stop(broker); /* broker */
    tc_datadir_clear(&dd);
    return rc;
}
