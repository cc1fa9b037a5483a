// SPDX-License-Identifier: Apache-2.0
/*
 * How the commands that talk to a core (register, import) find it and
 * their credentials, the way the aws command would: the AWS_* variables
 * and THINGCORE_ENDPOINT_URL that `thingcore env` prints, or a data
 * directory. Nothing here is cached or written.
 */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "thingcore/apiclient.h"
#include "thingcore/datadir.h"

int
cli_api_open(const char *endpoint_url, const char *data,
             struct tc_datadir *dd, int *have_dd, struct tc_apiclient **api,
             struct tc_detail *d)
{
    const char *key = getenv("AWS_ACCESS_KEY_ID");
    const char *secret = getenv("AWS_SECRET_ACCESS_KEY");
    const char *url = endpoint_url;
    char path[4096];
    int rc;

    if (url == NULL) {
        url = getenv("THINGCORE_ENDPOINT_URL");
    }
    if (url == NULL) {
        url = getenv("AWS_ENDPOINT_URL");
    }
    *have_dd = 0;

    /* The variables win unless a data directory is named. */
    if (data == NULL && key != NULL && secret != NULL && url != NULL) {
        struct tc_apiclient_config cfg;
        const char *region = getenv("AWS_DEFAULT_REGION");

        memset(&cfg, 0, sizeof(cfg));
        cfg.endpoint_url = url;
        cfg.access_key_id = key;
        cfg.secret = secret;
        cfg.region = region != NULL ? region : getenv("AWS_REGION");
        cfg.ca_file = getenv("AWS_CA_BUNDLE");
        if (cfg.region == NULL) {
            cfg.region = "us-east-1";
        }
        return tc_apiclient_new(&cfg, api, d);
    }
    rc = tc_datadir_default_path(data, path, sizeof(path), d);
    if (rc == TC_OK) {
        rc = tc_datadir_load(path, dd, d);
    }
    if (rc != TC_OK) {
        return tc_detail_set(d, TC_ERR_API_DATADIR, -1, "credentials",
                             "no credentials: set them with 'eval "
                             "\"$(thingcore env)\"' (or give --data DIR "
                             "of a running 'thingcore up')");
    }
    *have_dd = 1;
    return tc_apiclient_for_datadir(dd, url, api, d);
}
