// SPDX-License-Identifier: Apache-2.0
/*
 * Control-plane API throughput: a core with a fresh data directory serves
 * HTTPS in this process while client threads (the library's API client,
 * one keep-alive TLS connection each, every request SigV4-signed) send
 * CreateThing, then DescribeThing, for a fixed time. Prints requests per
 * second beside AWS IoT's published default rate limits for the same
 * operations. Usage: api [--clients N] [--seconds S] [--server-threads N]
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "thingcore/api.h"
#include "thingcore/apiclient.h"
#include "thingcore/datadir.h"
#include "thingcore/util.h"

struct worker {
    pthread_t thread;
    const struct tc_datadir *dd;
    const char *url;
    int id;
    int op;           /* 0 CreateThing, 1 DescribeThing */
    double until;
    long created;     /* things this worker made (for DescribeThing) */
    long done;
    long failed;
    int first_err;
};

static void *
run(void *arg)
{
    struct worker *w = arg;
    struct tc_apiclient *c = NULL;
    struct tc_detail d;
    long i = 0;

    tc_detail_clear(&d);
    if (tc_apiclient_for_datadir(w->dd, w->url, &c, &d) != TC_OK) {
        w->first_err = TC_ERR_API_CONNECT;
        return NULL;
    }
    while (tc_monotonic() < w->until) {
        char path[160];
        json_t *out = NULL;
        int rc;

        if (w->op == 0) {
            snprintf(path, sizeof(path), "/things/bench-%d-%ld", w->id, i);
            rc = tc_apiclient_call(c, "POST", path, NULL, NULL, 0, NULL,
                                   &out, NULL, &d);
        } else {
            snprintf(path, sizeof(path), "/things/bench-%d-%ld", w->id,
                     w->created > 0 ? i % w->created : 0);
            rc = tc_apiclient_call(c, "GET", path, NULL, NULL, 0, NULL, &out,
                                   NULL, &d);
        }
        json_decref(out);
        if (rc == TC_OK) {
            w->done++;
        } else {
            if (w->failed++ == 0) {
                w->first_err = rc;
                fprintf(stderr, "bench: %s: %s\n", tc_strerror(rc), d.text);
            }
        }
        i++;
    }
    tc_apiclient_free(c);
    return NULL;
}

static double
phase(struct worker *w, int n, int op, double seconds, long *done,
      long *failed)
{
    double start = tc_monotonic();
    int i;

    for (i = 0; i < n; i++) {
        w[i].op = op;
        w[i].until = start + seconds;
        w[i].done = 0;
        w[i].failed = 0;
        pthread_create(&w[i].thread, NULL, run, &w[i]);
    }
    *done = 0;
    *failed = 0;
    for (i = 0; i < n; i++) {
        pthread_join(w[i].thread, NULL);
        *done += w[i].done;
        *failed += w[i].failed;
        if (op == 0) {
            w[i].created = w[i].done;
        }
    }
    return tc_monotonic() - start;
}

int
main(int argc, char **argv)
{
    struct tc_api_server_config cfg;
    struct tc_api_server *srv = NULL;
    struct tc_datadir dd;
    struct tc_detail d;
    struct worker *w;
    char dir[] = "/tmp/tc-bench-api.XXXXXX";
    char url[64];
    char cmd[128];
    int clients = 8;
    int server_threads = 0;
    double seconds = 3;
    long done;
    long failed;
    double t;
    int i;

    for (i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--clients") == 0) {
            clients = atoi(argv[i + 1]);
        } else if (strcmp(argv[i], "--seconds") == 0) {
            seconds = atof(argv[i + 1]);
        } else if (strcmp(argv[i], "--server-threads") == 0) {
            server_threads = atoi(argv[i + 1]);
        }
    }
    if (clients < 1 || clients > 256 || seconds <= 0) {
        fprintf(stderr, "usage: api [--clients 1-256] [--seconds S] "
                        "[--server-threads N]\n");
        return 2;
    }
    if (mkdtemp(dir) == NULL) {
        perror("mkdtemp");
        return 1;
    }
    tc_detail_clear(&d);
    if (tc_datadir_create(dir, NULL, &dd, NULL, &d) != TC_OK) {
        fprintf(stderr, "bench: data directory: %s\n", d.text);
        return 1;
    }
    memset(&cfg, 0, sizeof(cfg));
    cfg.dd = &dd;
    cfg.port = 0;
    cfg.threads = (unsigned)server_threads;
    dd.api_port = 0;
    if (tc_api_server_start(&cfg, &srv, &d) != TC_OK) {
        fprintf(stderr, "bench: server: %s\n", d.text);
        return 1;
    }
    snprintf(url, sizeof(url), "https://127.0.0.1:%d",
             tc_api_server_port(srv));

    w = calloc((size_t)clients, sizeof(*w));
    for (i = 0; i < clients; i++) {
        w[i].dd = &dd;
        w[i].url = url;
        w[i].id = i;
    }
    printf("api bench: HTTPS + SigV4 on 127.0.0.1, %d client "
           "connections, %ld CPUs, %.1f s per operation\n",
           clients, sysconf(_SC_NPROCESSORS_ONLN), seconds);
    t = phase(w, clients, 0, seconds, &done, &failed);
    printf("  CreateThing    %8ld requests %6.2f s %8.0f /s  failed %ld  "
           "(AWS IoT default limit: 15 /s)\n",
           done, t, done / t, failed);
    t = phase(w, clients, 1, seconds, &done, &failed);
    printf("  DescribeThing  %8ld requests %6.2f s %8.0f /s  failed %ld  "
           "(AWS IoT default limit: 350 /s)\n",
           done, t, done / t, failed);
    free(w);
    tc_api_server_stop(srv);
    tc_datadir_clear(&dd);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    if (system(cmd) != 0) {
        fprintf(stderr, "bench: could not remove %s\n", dir);
    }
    return 0;
}
