// SPDX-License-Identifier: Apache-2.0
/*
 * thingcore device run and thingcore fleet run: the Blinky-Hello-World
 * device as a program, one or many at once. The serial number and the
 * device certificate come from the chip; the private key is used through
 * the PKCS#11 module and never read; the endpoint and its root CA come
 * from the firmware project folder.
 */
#include <dirent.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "thingcore/device.h"
#include "thingcore/identity.h"
#include "thingcore/p11key.h"
#include "thingcore/project.h"
#include "thingcore/util.h"

#define FLEET_MAX 4096

static volatile sig_atomic_t stop_requested;

static void
on_signal(int sig)
{
    stop_requested = sig;
}

static void
catch_signals(void)
{
    struct sigaction sa;

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
}

/* Options both commands take. */
struct run_opts {
    const char *project;
    const char *module;
    const char *factory;
    double duration; /* 0: until stopped */
    long cycles;     /* 0: until stopped */
};

/* One device's identity and key. */
struct member {
    struct tc_identity id;
    EVP_PKEY *key;
    struct tc_device *dev;
};

/*
 * Read a chip's identity through its transport, with the real root and the
 * simulated factory's root as candidates for rebuilding.
 */
static int
read_chip(const char *transport, const char *factory, struct tc_identity *id,
          struct tc_detail *d)
{
    X509 **roots = NULL;
    size_t n = 0;
    int rc = cli_identity_read(transport, NULL, factory, NULL, 0, id, &roots,
                               &n, d);

    tc_identity_roots_free(roots, n);
    return rc;
}

static int
read_project(const char *dir, struct tc_project *p)
{
    struct tc_detail d;
    int rc;

    tc_detail_clear(&d);
    rc = tc_project_read(dir, p, &d);
    if (rc != TC_OK) {
        return cli_fail(dir, rc, &d);
    }
    if (p->host[0] == '\0') {
        fprintf(stderr,
                "thingcore: %s has no MQTT endpoint yet "
                "(CONFIG_AWS_IOT_MQTT_HOST is empty): register the device "
                "first with 'thingcore register --se TRANSPORT --project "
                "%s'\n",
                dir, dir);
        return CLI_EXIT_FAIL;
    }
    return CLI_EXIT_OK;
}

static int
make_device(struct member *m, const struct tc_project *p, FILE *log,
            struct tc_detail *d)
{
    struct tc_device_opts o;

    memset(&o, 0, sizeof(o));
    o.serial = m->id.sn_hex;
    o.key = m->key;
    o.cert_der = m->id.device_der;
    o.cert_len = m->id.device_len;
    o.signer_der = m->id.signer_der;
    o.signer_len = m->id.signer_len;
    o.host = p->host;
    o.port = p->port;
    o.ca_file = p->root_ca;
    o.keepalive = 10;
    o.publish_every = 3.0;
    o.log = log;
    return tc_device_new(&o, &m->dev, d);
}

/*
 * The shared loop: poll every device's socket, service them, print a
 * line per second when report is set; ends on a signal, after duration,
 * or when every device has done cycles publish rounds.
 */
static void
run_loop(struct member *members, size_t n, const struct run_opts *o,
         int report)
{
    struct pollfd *pfds = calloc(n, sizeof(*pfds));
    double start = tc_monotonic();
    double next_report = start + 1.0;
    long last_conn = 0;
    long last_msgs = 0;
    long last_err = 0;
    size_t i;

    if (pfds == NULL) {
        return;
    }
    while (!stop_requested) {
        double now = tc_monotonic();
        double next = now + 1.0;
        long done = 0;
        int timeout;

        if (o->duration > 0 && now - start >= o->duration) {
            break;
        }
        for (i = 0; i < n; i++) {
            double dl = tc_device_next_deadline(members[i].dev);

            pfds[i].fd = tc_device_fd(members[i].dev, &pfds[i].events);
            pfds[i].revents = 0;
            if (dl < next) {
                next = dl;
            }
            /* Done: the last round published a second ago, so its
             * messages have come back through the broker. */
            if (o->cycles > 0 &&
                tc_device_stats(members[i].dev)->cycles >= o->cycles &&
                now - tc_device_stats(members[i].dev)->last_publish >= 1.0) {
                done++;
            }
        }
        if (o->cycles > 0 && done == (long)n) {
            break;
        }
        timeout = (int)((next - now) * 1000) + 1;
        if (timeout < 0) {
            timeout = 0;
        }
        if (poll(pfds, n, timeout > 1000 ? 1000 : timeout) < 0) {
            continue;
        }
        now = tc_monotonic();
        for (i = 0; i < n; i++) {
            tc_device_service(members[i].dev, pfds[i].revents, now);
        }

        /* The fleet's pulse, once a second. */
        if (report && now >= next_report) {
            long conn = 0;
            long msgs = 0;
            long err = 0;
            long up = 0;

            for (i = 0; i < n; i++) {
                const struct tc_device_stats *s =
                    tc_device_stats(members[i].dev);

                conn += s->connects;
                msgs += s->published + s->received;
                err += s->errors + s->refused;
                up += s->connected;
            }
            printf("t=%4.0fs  connected %ld/%zu  connections/s %ld  "
                   "messages/s %ld  errors/s %ld\n",
                   now - start, up, n, conn - last_conn, msgs - last_msgs,
                   err - last_err);
            fflush(stdout);
            last_conn = conn;
            last_msgs = msgs;
            last_err = err;
            next_report += 1.0;
        }
    }
    for (i = 0; i < n; i++) {
        tc_device_stop(members[i].dev);
    }
    free(pfds);
}

/* Parse the options both commands share; -1 on a usage error. */
static int
parse_common(int c, struct run_opts *o)
{
    char *end;

    switch (c) {
    case 'p':
        o->project = optarg;
        return 0;
    case 'm':
        o->module = optarg;
        return 0;
    case 'f':
        o->factory = optarg;
        return 0;
    case 'D':
        o->duration = strtod(optarg, &end);
        if (*optarg == '\0' || *end != '\0' || o->duration <= 0) {
            fprintf(stderr, "thingcore: --duration '%s': seconds > 0\n",
                    optarg);
            return -1;
        }
        return 0;
    case 'c':
        o->cycles = strtol(optarg, &end, 10);
        if (*optarg == '\0' || *end != '\0' || o->cycles <= 0) {
            fprintf(stderr, "thingcore: --cycles '%s': a count > 0\n",
                    optarg);
            return -1;
        }
        return 0;
    default:
        return -1;
    }
}

/* ---- device run ---- */

static const char device_usage[] =
    "usage: thingcore device run [--se TRANSPORT] --project DIR\n"
    "                            [--cycles N] [--duration SECONDS]\n"
    "                            [--pkcs11-module PATH] [--factory FDIR]\n"
    "Run the Blinky-Hello-World device: the chip's serial number is the\n"
    "client ID and thing name, TLS uses the device certificate rebuilt from\n"
    "the chip and the chip's key through the PKCS#11 module, the endpoint\n"
    "and root CA come from DIR (sdkconfig.defaults, main/certs/). It\n"
    "subscribes to <SN>/#, publishes hello messages every 3 s to <SN>/,\n"
    "blinks on a message to a topic with /blink, and reconnects with a\n"
    "backoff from 1 s to 128 s. --cycles N stops after N publish rounds.\n";

static int
device_run(int argc, char **argv)
{
    static const struct option opts[] = {
        {"se", required_argument, NULL, 's'},
        {"project", required_argument, NULL, 'p'},
        {"pkcs11-module", required_argument, NULL, 'm'},
        {"factory", required_argument, NULL, 'f'},
        {"duration", required_argument, NULL, 'D'},
        {"cycles", required_argument, NULL, 'c'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *transport = getenv("THINGCORE_SE");
    struct run_opts o;
    struct tc_project project;
    struct member m;
    struct tc_p11 *p11 = NULL;
    struct tc_detail d;
    int status;
    int c;
    int rc;

    memset(&o, 0, sizeof(o));
    memset(&m, 0, sizeof(m));
    optind = 1;
    while ((c = getopt_long(argc, argv, "s:p:m:f:D:c:h", opts, NULL)) != -1) {
        if (c == 'h') {
            fputs(device_usage, stdout);
            return CLI_EXIT_OK;
        }
        if (c == 's') {
            transport = optarg;
        } else if (parse_common(c, &o) != 0) {
            fputs(device_usage, stderr);
            return CLI_EXIT_USAGE;
        }
    }
    if (optind != argc || o.project == NULL || transport == NULL) {
        if (transport == NULL) {
            fprintf(stderr, "thingcore device run: give --se TRANSPORT or "
                            "set THINGCORE_SE\n");
        }
        fputs(device_usage, stderr);
        return CLI_EXIT_USAGE;
    }
    status = read_project(o.project, &project);
    if (status != CLI_EXIT_OK) {
        return status;
    }
    tc_detail_clear(&d);
    rc = read_chip(transport, o.factory, &m.id, &d);
    if (rc != TC_OK) {
        return cli_fail(transport, rc, &d);
    }
    printf("I (0) APP: serial number %s, endpoint %s:%d\n", m.id.sn_hex,
           project.host, project.port);
    rc = tc_p11_open(o.module, transport, &p11, &d);
    if (rc == TC_OK) {
        rc = tc_p11_private_key(p11, m.id.sn_hex, &m.key, &d);
    }
    tc_device_lib_init();
    if (rc == TC_OK) {
        rc = make_device(&m, &project, stdout, &d);
    }
    if (rc != TC_OK) {
        status = cli_fail("device", rc, &d);
        goto out;
    }
    catch_signals();
    tc_device_start(m.dev, &d);
    run_loop(&m, 1, &o, 0);
    {
        const struct tc_device_stats *s = tc_device_stats(m.dev);

        printf("I (end) APP: %ld connection%s, %ld published, %ld received, "
               "%ld refused\n",
               s->connects, s->connects == 1 ? "" : "s", s->published,
               s->received, s->refused);
        status = s->connects > 0 ? CLI_EXIT_OK : CLI_EXIT_FAIL;
    }
out:
    tc_device_free(m.dev);
    EVP_PKEY_free(m.key);
    tc_p11_close(p11);
    tc_device_lib_cleanup();
    return status;
}

/* ---- fleet run ---- */

static int
by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The sockets of a served chip folder, sorted; *out handed over. */
static int
list_sockets(const char *dir, char ***out, size_t *n)
{
    DIR *dp = opendir(dir);
    struct dirent *e;
    char **names = NULL;
    size_t count = 0;

    *out = NULL;
    *n = 0;
    if (dp == NULL) {
        return -1;
    }
    while ((e = readdir(dp)) != NULL && count < FLEET_MAX) {
        size_t len = strlen(e->d_name);
        char **grown;

        if (len != 23 || strcmp(e->d_name + 18, ".sock") != 0) {
            continue;
        }
        grown = realloc(names, (count + 1) * sizeof(*names));
        if (grown == NULL) {
            break;
        }
        names = grown;
        names[count] = malloc(strlen(dir) + len + 7);
        if (names[count] == NULL) {
            break;
        }
        sprintf(names[count], "unix:%s/%s", dir, e->d_name);
        count++;
    }
    closedir(dp);
    if (count > 0) {
        qsort(names, count, sizeof(*names), by_name);
    }
    *out = names;
    *n = count;
    return 0;
}

static const char fleet_usage[] =
    "usage: thingcore fleet run --chips DIR --count N --project DIR\n"
    "                           [--duration SECONDS] [--cycles N]\n"
    "                           [--pkcs11-module PATH] [--factory FDIR]\n"
    "Run N Blinky-Hello-World devices in one process, one chip each, from\n"
    "a folder served by 'thingcore se serve --dir DIR'. Prints connections,\n"
    "messages and errors per second, and a summary at the end.\n";

static int
fleet_run(int argc, char **argv)
{
    static const struct option opts[] = {
        {"chips", required_argument, NULL, 'C'},
        {"count", required_argument, NULL, 'n'},
        {"project", required_argument, NULL, 'p'},
        {"pkcs11-module", required_argument, NULL, 'm'},
        {"factory", required_argument, NULL, 'f'},
        {"duration", required_argument, NULL, 'D'},
        {"cycles", required_argument, NULL, 'c'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *chips = NULL;
    long count = 0;
    struct run_opts o;
    struct tc_project project;
    struct member *members = NULL;
    struct tc_p11 *p11 = NULL;
    struct tc_buf list;
    struct tc_detail d;
    char **socks = NULL;
    size_t nsocks = 0;
    size_t i;
    size_t made = 0;
    int status;
    int c;
    int rc = TC_OK;

    memset(&o, 0, sizeof(o));
    optind = 1;
    while ((c = getopt_long(argc, argv, "C:n:p:m:f:D:c:h", opts, NULL)) !=
           -1) {
        if (c == 'h') {
            fputs(fleet_usage, stdout);
            return CLI_EXIT_OK;
        }
        if (c == 'C') {
            chips = optarg;
        } else if (c == 'n') {
            count = strtol(optarg, NULL, 10);
            if (count < 1 || count > FLEET_MAX) {
                fprintf(stderr, "thingcore fleet run: --count '%s': use "
                                "1-%d\n",
                        optarg, FLEET_MAX);
                return CLI_EXIT_USAGE;
            }
        } else if (parse_common(c, &o) != 0) {
            fputs(fleet_usage, stderr);
            return CLI_EXIT_USAGE;
        }
    }
    if (optind != argc || chips == NULL || count == 0 || o.project == NULL) {
        fputs(fleet_usage, stderr);
        return CLI_EXIT_USAGE;
    }
    status = read_project(o.project, &project);
    if (status != CLI_EXIT_OK) {
        return status;
    }
    if (list_sockets(chips, &socks, &nsocks) != 0 ||
        nsocks < (size_t)count) {
        fprintf(stderr, "thingcore fleet run: %s serves %zu chip%s, %ld "
                        "asked for (is 'thingcore se serve --dir %s' "
                        "running?)\n",
                chips, nsocks, nsocks == 1 ? "" : "s", count, chips);
        status = CLI_EXIT_FAIL;
        goto out;
    }

    /* One module for the whole fleet, every chip a token. */
    tc_buf_init(&list, 1 << 22);
    for (i = 0; i < (size_t)count; i++) {
        tc_buf_printf(&list, "%s%s", i ? "," : "", socks[i]);
    }
    tc_detail_clear(&d);
    members = calloc((size_t)count, sizeof(*members));
    if (members == NULL) {
        tc_buf_clear(&list, 0);
        status = cli_fail("fleet", TC_ERR_NOMEM, NULL);
        goto out;
    }
    rc = tc_p11_open(o.module, (const char *)list.data, &p11, &d);
    tc_buf_clear(&list, 0);
    tc_device_lib_init();
    for (i = 0; rc == TC_OK && i < (size_t)count; i++) {
        rc = read_chip(socks[i], o.factory, &members[i].id, &d);
        if (rc == TC_OK) {
            rc = tc_p11_private_key(p11, members[i].id.sn_hex,
                                    &members[i].key, &d);
        }
        if (rc == TC_OK) {
            rc = make_device(&members[i], &project, NULL, &d);
        }
        if (rc != TC_OK) {
            status = cli_fail(socks[i], rc, &d);
            goto out;
        }
        made++;
    }
    if (rc != TC_OK) {
        status = cli_fail("fleet", rc, &d);
        goto out;
    }
    printf("fleet: %ld devices against %s:%d\n", count, project.host,
           project.port);
    catch_signals();
    for (i = 0; i < made; i++) {
        tc_device_start(members[i].dev, &d);
    }
    run_loop(members, made, &o, 1);
    {
        long conn = 0;
        long pub = 0;
        long recv = 0;
        long err = 0;

        for (i = 0; i < made; i++) {
            const struct tc_device_stats *s = tc_device_stats(members[i].dev);

            conn += s->connects;
            pub += s->published;
            recv += s->received;
            err += s->errors + s->refused;
        }
        printf("fleet: %ld connections, %ld published, %ld received, %ld "
               "errors\n",
               conn, pub, recv, err);
        status = conn >= count && err == 0 ? CLI_EXIT_OK : CLI_EXIT_FAIL;
    }
out:
    for (i = 0; members != NULL && i < (size_t)count; i++) {
        tc_device_free(members[i].dev);
        EVP_PKEY_free(members[i].key);
    }
    free(members);
    tc_p11_close(p11);
    for (i = 0; i < nsocks; i++) {
        free(socks[i]);
    }
    free(socks);
    if (made > 0) {
        tc_device_lib_cleanup();
    }
    return status;
}

static const struct cli_command device_commands[] = {
    {"run", device_run, "run the Blinky-Hello-World device"},
    {NULL, NULL, NULL},
};

static const struct cli_command fleet_commands[] = {
    {"run", fleet_run, "run many devices in one process"},
    {NULL, NULL, NULL},
};

int
cmd_device(int argc, char **argv)
{
    return cli_dispatch("thingcore device", device_commands, argc - 1,
                        argv + 1,
                        "usage: thingcore device COMMAND [OPTIONS]\n"
                        "The Blinky-Hello-World device, key in its secure "
                        "element.");
}

int
cmd_fleet(int argc, char **argv)
{
    return cli_dispatch("thingcore fleet", fleet_commands, argc - 1,
                        argv + 1,
                        "usage: thingcore fleet COMMAND [OPTIONS]\n"
                        "Many devices at once, for load and soak tests.");
}
