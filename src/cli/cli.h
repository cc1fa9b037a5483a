/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The thingcore program's subcommands. Each cmd_* takes the arguments after
 * its own name (argv[0] is the subcommand) and returns the exit status:
 * 0 success, 1 the operation failed, 2 a usage error.
 */
#ifndef THINGCORE_CLI_H
#define THINGCORE_CLI_H

#include <stddef.h>

#include <openssl/types.h>

#include "thingcore/err.h"

#define CLI_EXIT_OK 0
#define CLI_EXIT_FAIL 1
#define CLI_EXIT_USAGE 2

struct cli_command {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
};

int cmd_se(int argc, char **argv);
int cmd_device(int argc, char **argv);
int cmd_register(int argc, char **argv);
int cmd_import(int argc, char **argv);
/*
 * The API client of the core the user means (cli_api.c): with data NULL
 * and the AWS_* variables plus THINGCORE_ENDPOINT_URL set (as `thingcore
 * env` prints them), those; else the data directory data (or the default
 * one), loaded into dd (*have_dd = 1; caller clears dd). endpoint_url
 * (may be NULL) overrides the URL. *api is handed to the caller.
 */
struct tc_datadir;
struct tc_apiclient;
int cli_api_open(const char *endpoint_url, const char *data,
                 struct tc_datadir *dd, int *have_dd,
                 struct tc_apiclient **api, struct tc_detail *d);
int cmd_fleet(int argc, char **argv);
int cmd_up(int argc, char **argv);
int cmd_api(int argc, char **argv);
int cmd_env(int argc, char **argv);
/* thingcore broker, and the broker supervision `up` runs beside the API
 * (cmd_broker.c). */
int cmd_broker(int argc, char **argv);
struct tc_datadir;
struct cli_broker;
struct cli_broker_opts {
    int port;              /* 0: the data directory's mqtt_port */
    const char *bind;      /* NULL: every address */
    const char *plugin;    /* NULL: $THINGCORE_PLUGIN, else beside us */
    const char *mosquitto; /* NULL: /usr/sbin/mosquitto */
    const char *log_level; /* plugin log level; NULL: notice */
    int quiet;
};
int cli_broker_start(const struct tc_datadir *dd,
                     const struct cli_broker_opts *o,
                     struct cli_broker **out);
void cli_broker_stop(struct cli_broker *cb);
int cli_broker_reload(struct cli_broker *cb);
/* Serve the API of a loaded data directory until SIGINT or SIGTERM
 * (cmd_api.c); `up` and `api` share it. */
struct tc_datadir;
struct cli_serve {
    const struct tc_datadir *dd;
    const char *bind;
    int port;
    int plain_http;
    unsigned threads;
    int quiet;
    /* Hooks for supervised children (all optional): on_tick about once a
     * second, on_child for every reaped child, on_stop before the API
     * stops. */
    void (*on_tick)(void *arg);
    void (*on_child)(void *arg, int pid, int status);
    void (*on_stop)(void *arg);
    void *hook_arg;
};
int cli_serve_api(const struct cli_serve *s);
int cmd_policy(int argc, char **argv);
int cmd_cert(int argc, char **argv);
int cmd_se_manufacture(int argc, char **argv);
int cmd_se_certs(int argc, char **argv);

/* Template, subject, validity and origin of a chip identity (stdout). */
struct tc_identity;
void cli_print_identity(const struct tc_identity *id);

/*
 * Add the certificates in the file at path to a manifest verifier, as
 * trust anchors (trust != 0) or accepted signers (cmd_manifest.c).
 */
struct tc_manifest_verifier;
int cli_verifier_add_file(struct tc_manifest_verifier *v, const char *path,
                          int trust, struct tc_detail *d);

/* Parse the first PEM certificate in the file at path (cli_identity.c). */
int cli_load_cert(const char *path, X509 **out, struct tc_detail *d);

/* The simulated factory folder: given, else the default (or ""). */
void cli_factory_dir(const char *given, char *out, size_t cap);

/*
 * Read the identity of the chip at transport (or through se when it is
 * not NULL) with Microchip's root, the factory folder's root and extra
 * (n_extra, borrowed) as candidate roots (cli_identity.c). *roots is
 * handed to the caller (tc_identity_roots_free), also on failure.
 */
struct tc_se;
int cli_identity_read(const char *transport, struct tc_se *se,
                      const char *factory, X509 *const *extra,
                      size_t n_extra, struct tc_identity *id, X509 ***roots,
                      size_t *nroots, struct tc_detail *d);
int cmd_manifest(int argc, char **argv);
/* thingcore se serve (cmd_se_serve.c) */
int cmd_se_serve(int argc, char **argv);

/* Print "thingcore: <what>: <code text>[: detail]" to stderr; returns 1. */
int cli_fail(const char *what, int err, const struct tc_detail *d);

/* Run the subcommand named by argv[0] from table, or print help. */
int cli_dispatch(const char *prefix, const struct cli_command *table,
                 int argc, char **argv, const char *usage);

#endif
