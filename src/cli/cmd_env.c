// SPDX-License-Identifier: Apache-2.0
/*
 * thingcore env: print the shell exports the aws command and boto3 need
 * to talk to this core: the access key, region, CA bundle, and the API's
 * URL in THINGCORE_ENDPOINT_URL (for --endpoint-url). Meant for
 * `eval "$(thingcore env)"`; it starts nothing.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "thingcore/broker.h" /* broker */
#include "thingcore/datadir.h"
#include "thingcore/util.h"

/* One export with the value in single quotes, quotes inside escaped. */
static void
export(const char *name, const char *value)
{
    const char *p;

    printf("export %s='", name);
    for (p = value; *p != '\0'; p++) {
        if (*p == '\'') {
            fputs("'\\''", stdout);
        } else {
            putchar(*p);
        }
    }
    printf("'\n");
}

int
cmd_env(int argc, char **argv)
{
    static const struct option opts[] = {
        {"data", required_argument, NULL, 'd'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct tc_datadir dd;
    struct tc_detail d;
    struct tc_buf url;
    char path[TC_DATADIR_PATH_MAX];
    char file[TC_DATADIR_PATH_MAX + 32];
    const char *data = NULL;
    int c;
    int rc;

    optind = 1;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (c == 'd') {
            data = optarg;
        } else if (c == 'h') {
            printf("usage: thingcore env [--data DIR]\n"
                   "Print shell exports for the aws command: eval \"$("
                   "thingcore env)\", then\n"
                   "aws iot list-things --endpoint-url "
                   "\"$THINGCORE_ENDPOINT_URL\"\n");
            return CLI_EXIT_OK;
        } else {
            fprintf(stderr, "usage: thingcore env [--data DIR]\n");
            return CLI_EXIT_USAGE;
        }
    }
    if (optind != argc) {
        fprintf(stderr, "usage: thingcore env [--data DIR]\n");
        return CLI_EXIT_USAGE;
    }
    tc_detail_clear(&d);
    rc = tc_datadir_default_path(data, path, sizeof(path), &d);
    if (rc == TC_OK) {
        rc = tc_datadir_load(path, &dd, &d);
    }
    if (rc != TC_OK) {
        return cli_fail("env", rc, &d);
    }

    /* The running server's URL when it wrote one, else the configured
     * HTTPS port on loopback. */
    tc_buf_init(&url, 512);
    tc_datadir_file(&dd, "api.url", file, sizeof(file));
    if (tc_file_read(file, &url, NULL) != TC_OK || url.len == 0) {
        url.len = 0;
        tc_buf_printf(&url, "https://127.0.0.1:%d", dd.api_port);
    }
    export("AWS_ACCESS_KEY_ID", dd.access_key_id);
    export("AWS_SECRET_ACCESS_KEY", dd.secret);
    export("AWS_DEFAULT_REGION", dd.region);
    tc_datadir_file(&dd, TC_DATADIR_CA_CERT, file, sizeof(file));
    export("AWS_CA_BUNDLE", file);
    export("THINGCORE_ENDPOINT_URL", (const char *)url.data);

    /* ---- MQTT endpoint and operator client (broker) ---- */
    tc_datadir_file(&dd, TC_BROKER_OPERATOR_CERT, file, sizeof(file));
    export("THINGCORE_OPERATOR_CERT", file);
    tc_datadir_file(&dd, TC_BROKER_OPERATOR_KEY, file, sizeof(file));
    export("THINGCORE_OPERATOR_KEY", file);
    tc_datadir_file(&dd, TC_DATADIR_CA_CERT, file, sizeof(file));
    export("THINGCORE_MQTT_CA", file);
    export("THINGCORE_MQTT_HOST", dd.endpoint_host);
    snprintf(file, sizeof(file), "%d", dd.mqtt_port);
    export("THINGCORE_MQTT_PORT", file);
    /* ---- end MQTT endpoint ---- */
    tc_buf_clear(&url, 0);
    tc_datadir_clear(&dd);
    return CLI_EXIT_OK;
}
