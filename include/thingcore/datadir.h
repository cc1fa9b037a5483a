/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The core's data directory: configuration (region, account id, ports,
 * endpoint host), the admin access key, the local endpoint CA, the API's
 * server certificate and the registry database. `thingcore up` creates
 * what is missing; every other program loads it. It does not run servers.
 *
 * Layout (path relative to the folder):
 *   config.json      region, account, endpoint_host, api_port, mqtt_port
 *   credentials      0600, AWS shared-credentials format, profile [default]
 *   ca/ca.key        0600, the local CA's P-256 key
 *   ca/ca.pem        the local CA certificate: the bundle for AWS_CA_BUNDLE
 *                    and the root CA devices trust for the MQTT endpoint
 *   api/server.key   0600; api/server.pem: localhost, 127.0.0.1, the host
 *   registry.db      the registry
 *
 * Limitations: one access key (the admin's); changing endpoint_host after
 * the server certificate exists needs `rm api/server.*` and a restart.
 */
#ifndef THINGCORE_DATADIR_H
#define THINGCORE_DATADIR_H

#include <stddef.h>

#include "thingcore/err.h"
#include "thingcore/sigv4.h"

#define TC_DATADIR_PATH_MAX 1024
#define TC_DATADIR_HOST_MAX 254
#define TC_DATADIR_DEFAULT_REGION "us-east-1"
#define TC_DATADIR_DEFAULT_API_PORT 8443
#define TC_DATADIR_DEFAULT_MQTT_PORT 8883

/* Well-known files, relative to the data directory. */
#define TC_DATADIR_CONFIG "config.json"
#define TC_DATADIR_CREDENTIALS "credentials"
#define TC_DATADIR_CA_KEY "ca/ca.key"
#define TC_DATADIR_CA_CERT "ca/ca.pem"
#define TC_DATADIR_API_KEY "api/server.key"
#define TC_DATADIR_API_CERT "api/server.pem"
#define TC_DATADIR_REGISTRY "registry.db"

/* A loaded data directory; the secret is wiped by tc_datadir_clear. */
struct tc_datadir {
    char path[TC_DATADIR_PATH_MAX];
    char region[33];
    char account[13];
    char endpoint_host[TC_DATADIR_HOST_MAX];
    int api_port;
    int mqtt_port;
    char access_key_id[TC_SIGV4_KEY_ID_MAX];
    char secret[TC_SIGV4_SECRET_MAX];
};

/* Settings for creation; NULL / 0 keep what is stored (or the default). */
struct tc_datadir_options {
    const char *region;
    const char *endpoint_host;
    int api_port;
    int mqtt_port;
};

/* What tc_datadir_create made on this call. */
struct tc_datadir_created {
    int directory;
    int config;
    int credentials; /* the secret is new: show it once */
    int ca;
    int server_cert;
};

/*
 * The folder to use: $THINGCORE_DATA, else $XDG_DATA_HOME/thingcore, else
 * $HOME/.local/share/thingcore. explicit (may be NULL) wins over all.
 */
int tc_datadir_default_path(const char *explicit_path, char *out, size_t cap,
                            struct tc_detail *d);

/*
 * Create whatever is missing under path (folders 0700, secrets 0600) and
 * load the result into out. Options given are written into config.json.
 * created (may be NULL) says what was made.
 */
int tc_datadir_create(const char *path, const struct tc_datadir_options *o,
                      struct tc_datadir *out,
                      struct tc_datadir_created *created,
                      struct tc_detail *d);

/* Load an existing data directory; TC_ERR_API_DATADIR naming the missing
 * or broken file otherwise. */
int tc_datadir_load(const char *path, struct tc_datadir *out,
                    struct tc_detail *d);

/* Wipe the secret and zero out. */
void tc_datadir_clear(struct tc_datadir *dd);

/* path/name into out; TC_ERR_TOO_BIG when it does not fit. */
int tc_datadir_file(const struct tc_datadir *dd, const char *name, char *out,
                    size_t cap);

/* A tc_sigv4_secret_fn over the data directory's key; arg is the struct
 * tc_datadir. */
int tc_datadir_secret_lookup(void *arg, const char *access_key_id,
                             char *secret, size_t cap);

#endif
