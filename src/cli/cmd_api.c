// SPDX-License-Identifier: Apache-2.0
/*
 * thingcore api: serve the control-plane API of an existing data
 * directory. Also the serving loop `thingcore up` uses: the server runs on
 * its own threads while the main thread waits for signals, so Ctrl-C or
 * SIGTERM stops it cleanly and a supervised child can be reaped here.
 */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>

#include "cli.h"
#include "thingcore/api.h"
#include "thingcore/datadir.h"
#include "thingcore/log.h"

/* One info line per request; the secret never reaches this function. */
static void
log_request(void *arg, const struct tc_api_log_entry *e)
{
    TC_LOG(TC_LOG_INFO, "api: %s %s %s %d %s %.1f ms%s%s", e->method,
           e->path, e->operation, e->status, e->access_key_id, e->ms,
           e->error_type[0] != '\0' ? " " : "", e->error_type);
}

/* Where the API listens, for people and for `thingcore env`. */
static void
api_url(const struct cli_serve *s, int port, char *out, size_t cap)
{
    const char *host = s->bind != NULL ? s->bind : "127.0.0.1";

    if (strcmp(host, "0.0.0.0") == 0 || strcmp(host, "::") == 0) {
        host = s->dd->endpoint_host;
    }
    snprintf(out, cap, "%s://%s%s%s:%d", s->plain_http ? "http" : "https",
             strchr(host, ':') != NULL ? "[" : "", host,
             strchr(host, ':') != NULL ? "]" : "", port);
}

int
cli_serve_api(const struct cli_serve *s)
{
    struct tc_api_server_config cfg;
    struct tc_api_server *srv = NULL;
    struct tc_detail d;
    char url[512];
    char url_file[TC_DATADIR_PATH_MAX + 32];
    sigset_t set;
    int rc;

    /* Block the signals before any thread exists so that only this
     * thread receives them, through sigtimedwait. */
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGCHLD);
    sigaddset(&set, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);

    memset(&cfg, 0, sizeof(cfg));
    cfg.dd = s->dd;
    cfg.bind_address = s->bind;
    cfg.port = s->port;
    cfg.plain_http = s->plain_http;
    cfg.threads = s->threads;
    cfg.log = log_request;
    tc_detail_clear(&d);
    rc = tc_api_server_start(&cfg, &srv, &d);
    if (rc != TC_OK) {
        return cli_fail("api", rc, &d);
    }
    api_url(s, tc_api_server_port(srv), url, sizeof(url));

    /* The URL `thingcore env` prints, written only while serving. */
    if (tc_datadir_file(s->dd, "api.url", url_file, sizeof(url_file)) ==
        TC_OK) {
        tc_file_write_atomic(url_file, url, strlen(url), 0644, NULL);
    }
    TC_LOG(TC_LOG_NOTICE, "api: listening on %s (region %s, account %s)",
           url, s->dd->region, s->dd->account);
    if (!s->quiet) {
        printf("API listening on %s\n", url);
        fflush(stdout);
    }

    for (;;) {
        struct timespec ts = {1, 0};
        int sig = sigtimedwait(&set, NULL, &ts);

        if (sig == SIGINT || sig == SIGTERM) {
            TC_LOG(TC_LOG_NOTICE, "api: %s received, stopping",
                   sig == SIGINT ? "SIGINT" : "SIGTERM");
            break;
        }
        if (sig == SIGCHLD) {
            int status;
            pid_t pid;

            /* Children are reaped here; their owner decides whether to
             * restart them. */
            while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
                if (s->on_child != NULL) {
                    s->on_child(s->hook_arg, (int)pid, status);
                }
            }
        }
        if (s->on_tick != NULL) {
            s->on_tick(s->hook_arg);
        }
        if (sig < 0 && errno != EAGAIN && errno != EINTR) {
            TC_LOG(TC_LOG_ERROR, "api: waiting for signals: %s",
                   strerror(errno));
            break;
        }
    }
    if (s->on_stop != NULL) {
        s->on_stop(s->hook_arg);
    }
    tc_api_server_stop(srv);
    remove(url_file);
    TC_LOG(TC_LOG_NOTICE, "api: stopped");
    return CLI_EXIT_OK;
}

static void
usage(FILE *out)
{
    fprintf(out,
            "usage: thingcore api [--data DIR] [--port P] [--bind ADDR] "
            "[--http] [--threads N]\n"
            "Serve the AWS IoT-compatible control-plane API of an existing "
            "data directory\n(made by 'thingcore up'). HTTPS unless --http, "
            "which is allowed on loopback only.\n");
}

int
cmd_api(int argc, char **argv)
{
    static const struct option opts[] = {
        {"data", required_argument, NULL, 'd'},
        {"port", required_argument, NULL, 'p'},
        {"bind", required_argument, NULL, 'b'},
        {"http", no_argument, NULL, 'H'},
        {"threads", required_argument, NULL, 't'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct cli_serve s;
    struct tc_datadir dd;
    struct tc_detail d;
    char path[TC_DATADIR_PATH_MAX];
    const char *data = NULL;
    int c;
    int rc;

    memset(&s, 0, sizeof(s));
    optind = 1;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'd':
            data = optarg;
            break;
        case 'p':
            s.port = atoi(optarg);
            if (s.port < 1 || s.port > 65535) {
                fprintf(stderr, "thingcore api: --port must be 1-65535\n");
                return CLI_EXIT_USAGE;
            }
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
        rc = tc_datadir_load(path, &dd, &d);
    }
    if (rc != TC_OK) {
        return cli_fail("api", rc, &d);
    }
    s.dd = &dd;
    rc = cli_serve_api(&s);
    tc_datadir_clear(&dd);
    return rc;
}
