// SPDX-License-Identifier: Apache-2.0
/*
 * thingcore broker: run only the data plane (mosquitto with thingcore's
 * plugin) over a data directory, for tests and for nodes beside a shared
 * registry. It also provides the supervision that `thingcore up` runs
 * beside the API: server and operator certificates, the trust directory,
 * and a thread that restarts a crashed mosquitto.
 */
#include <getopt.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "thingcore/broker.h"
#include "thingcore/datadir.h"
#include "thingcore/log.h"
#include "thingcore/registry.h"

struct cli_broker {
    struct tc_broker *b;
    pthread_t thread;
    int thread_started;
    volatile int stop;
};

/* The plugin beside our executable unless told otherwise. */
static int
plugin_path(const char *given, char *out, size_t cap)
{
    char exe[PATH_MAX];
    ssize_t n;
    char *slash;

    if (given == NULL) {
        given = getenv("THINGCORE_PLUGIN");
    }
    if (given != NULL) {
        snprintf(out, cap, "%s", given);
        return TC_OK;
    }
    n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    if (n <= 0) {
        return TC_ERR_NOT_FOUND;
    }
    exe[n] = '\0';
    slash = strrchr(exe, '/');
    if (slash != NULL) {
        *slash = '\0';
    }
    if ((size_t)snprintf(out, cap, "%s/thingcore-plugin.so", exe) >= cap) {
        return TC_ERR_TOO_BIG;
    }
    return TC_OK;
}

/* Log what one supervision step saw. */
static void
report(const struct tc_broker_status *st)
{
    if (st->exited) {
        if (st->exit_status == -1) {
            TC_LOG(TC_LOG_WARNING, "broker: mosquitto ended");
        } else if (WIFSIGNALED(st->exit_status)) {
            TC_LOG(TC_LOG_WARNING, "broker: mosquitto killed by signal %d",
                   WTERMSIG(st->exit_status));
        } else {
            TC_LOG(TC_LOG_WARNING, "broker: mosquitto exited with status %d",
                   WEXITSTATUS(st->exit_status));
        }
    }
    if (st->restarted) {
        TC_LOG(TC_LOG_WARNING,
               "broker: mosquitto restarted (pid %d, "
               "restart %d)",
               (int)st->pid, st->restarts);
    }
    if (st->trust_added > 0) {
        TC_LOG(TC_LOG_NOTICE,
               "broker: %d CA certificate(s) added to the "
               "trust directory",
               st->trust_added);
    }
}

static void *
supervise(void *arg)
{
    struct cli_broker *cb = arg;
    struct timespec ts = {0, 100 * 1000 * 1000};
    struct tc_broker_status st;
    struct tc_detail d;

    while (!cb->stop) {
        tc_detail_clear(&d);
        if (tc_broker_poll(cb->b, &st, &d) != TC_OK) {
            TC_LOG(TC_LOG_WARNING, "broker: %s", d.text);
        }
        report(&st);
        nanosleep(&ts, NULL);
    }
    return NULL;
}

int
cli_broker_start(const struct tc_datadir *dd, const struct cli_broker_opts *o,
                 struct cli_broker **out)
{
    struct tc_broker_config c;
    struct tc_registry *reg = NULL;
    struct cli_broker *cb = NULL;
    struct tc_detail d;
    char plugin[TC_BROKER_PATH_MAX];
    char regpath[TC_DATADIR_PATH_MAX + 32];
    sigset_t all;
    sigset_t old;
    int made = 0;
    int rc;

    *out = NULL;
    tc_detail_clear(&d);
    rc = plugin_path(o != NULL ? o->plugin : NULL, plugin, sizeof(plugin));
    if (rc != TC_OK) {
        return cli_fail("broker: plugin path", rc, NULL);
    }

    /* Certificates first: the server's, and the operator's (registered
     * with its policy) so `thingcore env` can point at them. */
    rc = tc_broker_server_cert_ensure(dd, &d);
    if (rc == TC_OK) {
        rc = tc_datadir_file(dd, TC_DATADIR_REGISTRY, regpath, sizeof(regpath));
    }
    if (rc == TC_OK) {
        rc = tc_registry_open(regpath, &reg, &d);
    }
    if (rc == TC_OK) {
        /* The data directory's region and account name every ARN the
         * plugin matches policies against. */
        tc_registry_set_actor(reg, "broker");
        rc = tc_registry_set_identity(reg, dd->region, dd->account, &d);
    }
    if (rc == TC_OK) {
        rc = tc_broker_operator_ensure(dd, reg, &made, &d);
    }
    tc_registry_close(reg);
    if (rc != TC_OK) {
        return cli_fail("broker", rc, &d);
    }
    if (made) {
        TC_LOG(TC_LOG_NOTICE,
               "broker: operator certificate %s/%s registered "
               "with policy %s",
               dd->path, TC_BROKER_OPERATOR_CERT, TC_BROKER_OPERATOR_POLICY);
    }

    memset(&c, 0, sizeof(c));
    c.data_dir = dd->path;
    c.port = o != NULL && o->port > 0 ? o->port : dd->mqtt_port;
    c.bind = o != NULL ? o->bind : NULL;
    c.plugin = plugin;
    c.mosquitto = o != NULL ? o->mosquitto : NULL;
    c.log_level = o != NULL ? o->log_level : NULL;
    c.quiet = o != NULL ? o->quiet : 0;
    c.preload = getenv("THINGCORE_MOSQUITTO_PRELOAD");
    cb = calloc(1, sizeof(*cb));
    if (cb == NULL) {
        return cli_fail("broker", TC_ERR_NOMEM, NULL);
    }
    rc = tc_broker_start(&c, &cb->b, &d);
    if (rc != TC_OK) {
        free(cb);
        return cli_fail("broker", rc, &d);
    }
    TC_LOG(TC_LOG_NOTICE, "broker: mosquitto (pid %d) on port %d, plugin %s",
           (int)tc_broker_pid(cb->b), c.port, plugin);

    /* The supervision thread takes no signals: they are the main
     * thread's (Ctrl-C, SIGTERM). */
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old);
    if (pthread_create(&cb->thread, NULL, supervise, cb) == 0) {
        cb->thread_started = 1;
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (!cb->thread_started) {
        tc_broker_stop(cb->b);
        free(cb);
        return cli_fail("broker: thread", TC_ERR_INTERNAL, NULL);
    }
    *out = cb;
    return CLI_EXIT_OK;
}

void
cli_broker_stop(struct cli_broker *cb)
{
    if (cb == NULL) {
        return;
    }
    cb->stop = 1;
    if (cb->thread_started) {
        pthread_join(cb->thread, NULL);
    }
    tc_broker_stop(cb->b);
    TC_LOG(TC_LOG_NOTICE, "broker: stopped");
    free(cb);
}

int
cli_broker_reload(struct cli_broker *cb)
{
    return cb != NULL ? tc_broker_reload(cb->b) : TC_ERR_ARG;
}

static void
usage(FILE *out)
{
    fprintf(out,
            "usage: thingcore broker [--data DIR] [--mqtt-port P] "
            "[--bind ADDR]\n"
            "                        [--plugin SO] [--mosquitto PATH] "
            "[--log-level L] [--quiet]\n"
            "Run mosquitto with thingcore's plugin over the data directory's "
            "registry\nuntil Ctrl-C or SIGTERM; SIGHUP reloads mosquitto. "
            "The plugin defaults to\n$THINGCORE_PLUGIN, then "
            "thingcore-plugin.so beside this program.\n"
            "--log-level: error, warning, notice (default: refusals, "
            "registrations, kicks),\ninfo (also allowed connections and "
            "undelivered messages) or debug (every\ndecision).\n");
}

int
cmd_broker(int argc, char **argv)
{
    static const struct option opts[] = {
        {"data", required_argument, NULL, 'd'},
        {"mqtt-port", required_argument, NULL, 'm'},
        {"bind", required_argument, NULL, 'b'},
        {"plugin", required_argument, NULL, 'p'},
        {"mosquitto", required_argument, NULL, 'M'},
        {"log-level", required_argument, NULL, 'l'},
        {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct tc_datadir_options dopt;
    struct cli_broker_opts o;
    struct tc_datadir dd;
    struct cli_broker *cb = NULL;
    struct tc_detail d;
    char path[TC_DATADIR_PATH_MAX];
    const char *data = NULL;
    sigset_t set;
    char *end;
    int c;
    int rc;

    memset(&o, 0, sizeof(o));
    memset(&dopt, 0, sizeof(dopt));
    optind = 1;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'd':
            data = optarg;
            break;
        case 'm':
            o.port = (int)strtol(optarg, &end, 10);
            if (*optarg == '\0' || *end != '\0' || o.port < 1 ||
                o.port > 65535) {
                fprintf(stderr, "thingcore broker: --mqtt-port must be "
                                "1-65535\n");
                return CLI_EXIT_USAGE;
            }
            break;
        case 'b':
            o.bind = optarg;
            break;
        case 'p':
            o.plugin = optarg;
            break;
        case 'M':
            o.mosquitto = optarg;
            break;
        case 'l':
            if (tc_log_level_parse(optarg) < 0) {
                fprintf(stderr, "thingcore broker: --log-level must be "
                                "error, warning, notice, info or debug\n");
                return CLI_EXIT_USAGE;
            }
            o.log_level = optarg;
            break;
        case 'q':
            o.quiet = 1;
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

    /* Signals are taken synchronously by this thread only. */
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);

    tc_detail_clear(&d);
    rc = tc_datadir_default_path(data, path, sizeof(path), &d);
    if (rc == TC_OK) {
        rc = tc_datadir_create(path, &dopt, &dd, NULL, &d);
    }
    if (rc != TC_OK) {
        return cli_fail("broker", rc, &d);
    }
    rc = cli_broker_start(&dd, &o, &cb);
    if (rc != CLI_EXIT_OK) {
        tc_datadir_clear(&dd);
        return rc;
    }
    for (;;) {
        struct timespec ts = {1, 0};
        int sig = sigtimedwait(&set, NULL, &ts);

        if (sig == SIGINT || sig == SIGTERM) {
            TC_LOG(TC_LOG_NOTICE, "broker: %s received, stopping",
                   sig == SIGINT ? "SIGINT" : "SIGTERM");
            break;
        }
        if (sig == SIGHUP) {
            TC_LOG(TC_LOG_NOTICE, "broker: SIGHUP: reloading mosquitto");
            cli_broker_reload(cb);
        }
    }
    cli_broker_stop(cb);
    tc_datadir_clear(&dd);
    return CLI_EXIT_OK;
}
