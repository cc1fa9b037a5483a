// SPDX-License-Identifier: Apache-2.0
/*
 * Benchmark of the data plane, all in one run with the same TLS settings
 * and the same load client: (a) plain mosquitto with require_certificate
 * and no plugin, (b) mosquitto with its dynamic-security plugin and an
 * ACL equivalent to Kit_Policy, each device logging in as its own client
 * with its client ID bound (Kit_Policy's iot:Connect), (c) mosquitto with
 * thingcore's plugin and Kit_Policy from a real registry, and (d) dynamic
 * security with the certificate's CN as username, which checks nothing at
 * connect (any client ID passes). For each: mutual-TLS connections per
 * second (full handshakes, CONNECT, CONNACK, DISCONNECT), QoS 0 messages
 * per second through one subscriber, and resident memory per connected
 * device. Prints the figures and the ratios; asserts nothing.
 *
 * The load client speaks MQTT 3.1.1 itself over OpenSSL so that its own
 * cost is small and identical for the three brokers. With two CPUs or
 * more, the brokers run on the first and the client on the others.
 *
 * usage: bench/broker [--devices N] [--rounds TRIALS] [--seconds S]
 *                     [--messages M] [--threads T] [--verbose]
 *                     [--cost] [--plugin SO] [--dynsec SO]
 *
 * --cost counts instructions per connection and per message under
 * valgrind instead of timing (slow, but the same on any machine), in all
 * and inside each plugin's own callbacks.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "thingcore/broker.h"
#include "thingcore/pki.h"
#include "thingcore/policy.h"
#include "thingcore/registry.h"
#include "thingcore/util.h"

#define DYNSEC "/usr/lib/x86_64-linux-gnu/mosquitto_dynamic_security.so"
#define MAX_DEVICES 4000
#define MAX_TRIALS 99
#define COST_CONNS 200 /* connections counted per broker with --cost */
#define MAX_CONN_THREADS 64
/* Dynamic security's password hashing: PBKDF2-SHA512 with the iteration
 * count and salt length its own tools use. */
#define DYNSEC_ITERATIONS 101
#define DYNSEC_SALT 12

struct device {
    char id[32];   /* client ID and thing name */
    char user[40]; /* certificate CN: the username where (b) and (d) need one */
    char pass[40]; /* (b)'s password */
    X509 *cert;
    EVP_PKEY *key;
};

enum mode {
    MODE_PLAIN = 0,
    MODE_DYNSEC,
    MODE_THINGCORE,
    MODE_DYNSEC_CN,
    NMODES
};
static const char *const mode_name[NMODES] = {
    "(a) plain mosquitto", "(b) dynamic-security", "(c) thingcore plugin",
    "(d) dynsec, CN only"};

/* The ratios printed, timed and counted: numerator, denominator, name,
 * and what to print beside the timed ratio for connections and for
 * messages ("" for nothing). */
static const struct {
    enum mode num;
    enum mode den;
    const char *name;
    const char *target[2];
} ratio[] = {
    {MODE_DYNSEC, MODE_PLAIN, "(b)/(a)", {"", ""}},
    {MODE_THINGCORE,
     MODE_PLAIN,
     "(c)/(a)",
     {"   target >= 0.95", "   target >= 0.90"}},
    {MODE_THINGCORE,
     MODE_DYNSEC,
     "(c)/(b)",
     {"   target > 1", "   target > 1"}},
    {MODE_DYNSEC_CN, MODE_PLAIN, "(d)/(a)", {"", ""}},
    {MODE_THINGCORE,
     MODE_DYNSEC_CN,
     "(c)/(d)",
     {"   (d) checks nothing at connect", ""}},
};
#define NRATIOS (sizeof(ratio) / sizeof(ratio[0]))

static struct {
    char dir[256];
    char plugin[1024];
    char dynsec[1024];
    int ndev;
    int rounds;
    int threads;     /* connecting threads */
    int cost;        /* count instructions instead of timing */
    int plugin_info; /* (c) logs at info (its state lines) */
    int verbose;     /* print every trial */
    double seconds;
    long messages;
    struct device dev[MAX_DEVICES];
    struct device sub; /* the subscriber: a monitoring application */
    SSL_CTX *ctx;
    int port;       /* the broker the client talks to */
    enum mode mode; /* and its kind: (b) wants a login */
} B;

/* ------------------------------------------------------------------ */
/* A minimal MQTT 3.1.1 client over TLS */

struct conn {
    int fd;
    SSL *ssl;
};

static int
tcp_connect(int port)
{
    struct sockaddr_in sa;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;

    if (fd < 0) {
        return -1;
    }
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static int
read_full(SSL *ssl, uint8_t *p, size_t n)
{
    size_t got = 0;

    while (got < n) {
        int r = SSL_read(ssl, p + got, (int)(n - got));

        if (r <= 0) {
            return -1;
        }
        got += (size_t)r;
    }
    return 0;
}

/* Read one packet: type byte into *type, body (at most cap) into buf. */
static long
read_packet(SSL *ssl, uint8_t *type, uint8_t *buf, size_t cap)
{
    uint8_t b;
    size_t len = 0;
    int shift = 0;

    if (read_full(ssl, type, 1) != 0) {
        return -1;
    }
    do {
        if (read_full(ssl, &b, 1) != 0 || shift > 21) {
            return -1;
        }
        len |= (size_t)(b & 0x7f) << shift;
        shift += 7;
    } while (b & 0x80);
    if (len > cap || read_full(ssl, buf, len) != 0) {
        return -1;
    }
    return (long)len;
}

static size_t
put_len(uint8_t *p, size_t len)
{
    size_t n = 0;

    do {
        uint8_t b = len & 0x7f;

        len >>= 7;
        p[n++] = (uint8_t)(b | (len > 0 ? 0x80 : 0));
    } while (len > 0);
    return n;
}

static size_t
put_str(uint8_t *p, const char *s)
{
    size_t n = strlen(s);

    p[0] = (uint8_t)(n >> 8);
    p[1] = (uint8_t)n;
    memcpy(p + 2, s, n);
    return n + 2;
}

/* TLS handshake with d's certificate, CONNECT as cid, CONNACK accepted. */
static int
mqtt_open_as(struct conn *c, const struct device *d, const char *cid)
{
    uint8_t pkt[512];
    uint8_t body[8];
    uint8_t var[300];
    uint8_t type;
    size_t v = 0;
    size_t n = 0;

    c->ssl = NULL;
    c->fd = tcp_connect(B.port);
    if (c->fd < 0) {
        return -1;
    }
    c->ssl = SSL_new(B.ctx);
    if (c->ssl == NULL || SSL_use_certificate(c->ssl, d->cert) != 1 ||
        SSL_use_PrivateKey(c->ssl, d->key) != 1) {
        goto fail;
    }
    SSL_set_fd(c->ssl, c->fd);
    if (SSL_connect(c->ssl) != 1) {
        goto fail;
    }
    v += put_str(var, "MQTT");
    var[v++] = 4; /* protocol level 3.1.1 */
    /* clean session; (b) adds username and password */
    var[v++] = B.mode == MODE_DYNSEC ? 0xc2 : 0x02;
    var[v++] = 0;
    var[v++] = 60; /* keepalive */
    v += put_str(var + v, cid);
    if (B.mode == MODE_DYNSEC) {
        v += put_str(var + v, d->user);
        v += put_str(var + v, d->pass);
    }
    pkt[n++] = 0x10;
    n += put_len(pkt + n, v);
    memcpy(pkt + n, var, v);
    n += v;
    if (SSL_write(c->ssl, pkt, (int)n) != (int)n ||
        read_packet(c->ssl, &type, body, sizeof(body)) != 2 || type != 0x20 ||
        body[1] != 0) {
        goto fail;
    }
    return 0;

fail:
    ERR_clear_error();
    SSL_free(c->ssl);
    close(c->fd);
    c->ssl = NULL;
    c->fd = -1;
    return -1;
}

/* The same, as d's own client ID. */
static int
mqtt_open(struct conn *c, const struct device *d)
{
    return mqtt_open_as(c, d, d->id);
}

static void
mqtt_close(struct conn *c)
{
    static const uint8_t disc[2] = {0xe0, 0x00};

    if (c->ssl != NULL) {
        SSL_write(c->ssl, disc, 2);
        SSL_shutdown(c->ssl);
        SSL_free(c->ssl);
    }
    if (c->fd >= 0) {
        close(c->fd);
    }
    c->ssl = NULL;
    c->fd = -1;
}

static int
mqtt_subscribe(struct conn *c, const char *filter)
{
    uint8_t pkt[300];
    uint8_t body[8];
    uint8_t var[300];
    uint8_t type;
    size_t v = 0;
    size_t n = 0;

    var[v++] = 0;
    var[v++] = 1; /* packet id */
    v += put_str(var + v, filter);
    var[v++] = 0; /* QoS 0 */
    pkt[n++] = 0x82;
    n += put_len(pkt + n, v);
    memcpy(pkt + n, var, v);
    n += v;
    if (SSL_write(c->ssl, pkt, (int)n) != (int)n ||
        read_packet(c->ssl, &type, body, sizeof(body)) != 3 || type != 0x90 ||
        body[2] != 0) {
        return -1;
    }
    return 0;
}

/* ------------------------------------------------------------------ */
/* Setting up: keys, certificates, the registry, configurations */

static int
write_pem(const char *name, X509 *x, EVP_PKEY *k)
{
    char path[512];
    struct tc_buf b;
    int rc;

    tc_buf_init(&b, 65536);
    rc = x != NULL ? tc_pki_cert_to_pem(x, &b, NULL)
                   : tc_pki_key_to_pem(k, &b, NULL);
    snprintf(path, sizeof(path), "%s/%s", B.dir, name);
    if (rc == TC_OK) {
        rc = tc_file_write_atomic(path, b.data, b.len, 0600, NULL);
    }
    tc_buf_clear(&b, 1);
    return rc;
}

static int
issue(const char *cn, X509 *ca, EVP_PKEY *ca_key, int server,
      struct device *out)
{
    const char *ips[1] = {"127.0.0.1"};
    struct tc_pki_cert_spec spec;

    memset(&spec, 0, sizeof(spec));
    spec.common_name = cn;
    spec.days = 2;
    spec.server_auth = server;
    spec.client_auth = !server;
    spec.ip_addresses = server ? ips : NULL;
    spec.n_ip = server ? 1 : 0;
    if (tc_pki_key_generate(&out->key, NULL) != TC_OK ||
        tc_pki_cert_issue(&spec, out->key, ca, ca_key, &out->cert, NULL) !=
            TC_OK) {
        return -1;
    }
    return 0;
}

static int
cert_pem(X509 *x, struct tc_buf *b)
{
    tc_buf_init(b, 65536);
    return tc_pki_cert_to_pem(x, b, NULL);
}

/* Register every device with its thing and Kit_Policy, and the
 * subscriber with a monitoring policy. */
static int
fill_registry(void)
{
    struct tc_registry *reg = NULL;
    struct tc_reg_cert_register in;
    struct tc_detail d;
    struct tc_buf pem;
    char path[512];
    char doc[4096];
    char id[TC_REG_CERT_ID_LEN];
    char arn[TC_REG_ARN_MAX];
    int i;
    int rc;

    snprintf(path, sizeof(path), "%s/registry.db", B.dir);
    rc = tc_registry_open(path, &reg, &d);
    if (rc == TC_OK) {
        rc = tc_registry_set_identity(reg, "us-east-1", "123456789012", &d);
    }
    if (rc == TC_OK) {
        rc = tc_policy_kit_document("us-east-1", "123456789012", doc,
                                    sizeof(doc));
    }
    if (rc == TC_OK) {
        rc = tc_registry_policy_create(reg, "Kit_Policy", doc, strlen(doc),
                                       NULL, &d);
    }
    if (rc == TC_OK) {
        rc = tc_broker_operator_policy("us-east-1", "123456789012", doc,
                                       sizeof(doc));
    }
    if (rc == TC_OK) {
        rc = tc_registry_policy_create(reg, "Monitor", doc, strlen(doc), NULL,
                                       &d);
    }
    for (i = -1; rc == TC_OK && i < B.ndev; i++) {
        struct device *dv = i < 0 ? &B.sub : &B.dev[i];

        rc = cert_pem(dv->cert, &pem);
        memset(&in, 0, sizeof(in));
        in.pem = (const char *)pem.data;
        in.pem_len = pem.len;
        in.status = TC_REG_CERT_ACTIVE;
        if (rc == TC_OK) {
            rc = tc_registry_cert_register(reg, &in, id, &d);
        }
        tc_buf_clear(&pem, 0);
        if (rc != TC_OK) {
            break;
        }
        tc_registry_arn(reg, "cert", id, arn);
        if (i < 0) {
            rc = tc_registry_policy_attach(reg, "Monitor", arn, &d);
            continue;
        }
        rc = tc_registry_thing_create(reg, dv->id, NULL, NULL, NULL, &d);
        if (rc == TC_OK) {
            rc = tc_registry_thing_principal_attach(
                reg, dv->id, arn, TC_REG_PRINCIPAL_NON_EXCLUSIVE, &d);
        }
        if (rc == TC_OK) {
            rc = tc_registry_policy_attach(reg, "Kit_Policy", arn, &d);
        }
    }
    if (rc != TC_OK) {
        fprintf(stderr, "bench: registry: %s: %s\n", tc_strerror(rc), d.text);
    }
    tc_registry_close(reg);
    return rc == TC_OK ? 0 : -1;
}

/* A dynamic-security client entry for d: its username, with logins its
 * password's PBKDF2 hash, salt and iteration count, and its client ID. */
static int
dynsec_client(FILE *f, const struct device *d, int login)
{
    unsigned char salt[DYNSEC_SALT];
    unsigned char hash[64];
    char salt64[4 * ((DYNSEC_SALT + 2) / 3) + 1];
    char hash64[4 * ((sizeof(hash) + 2) / 3) + 1];

    fprintf(f, "{\"username\":\"%s\",\"clientid\":\"%s\",", d->user, d->id);
    if (login) {
        if (RAND_bytes(salt, sizeof(salt)) != 1 ||
            PKCS5_PBKDF2_HMAC(d->pass, (int)strlen(d->pass), salt,
                              (int)sizeof(salt), DYNSEC_ITERATIONS,
                              EVP_sha512(), (int)sizeof(hash), hash) != 1) {
            return -1;
        }
        tc_base64_encode(salt, sizeof(salt), salt64, 0);
        tc_base64_encode(hash, sizeof(hash), hash64, 0);
        fprintf(f, "\"password\":\"%s\",\"salt\":\"%s\",\"iterations\":%d,",
                hash64, salt64, DYNSEC_ITERATIONS);
    }
    fprintf(f, "\"roles\":[{\"rolename\":\"%s\"}]}", d->user);
    return 0;
}

/*
 * A dynamic-security configuration: one client per device with its own
 * role allowing its own topic tree, as Kit_Policy does (dynamic security
 * in 2.0 substitutes %c in subscribe patterns only, so each device gets
 * literal topics), and the subscriber with a monitoring role. Each client
 * names the client ID its thing has, but dynamic security holds a client
 * to it only when it logs in: with login (b), every client has a password
 * and sends it; without (d), mosquitto takes the certificate's CN as the
 * username and never asks the plugin at connect.
 */
static int
write_dynsec(const char *name, int login)
{
    char path[512];
    FILE *f;
    int rc;
    int i;

    snprintf(path, sizeof(path), "%s/%s", B.dir, name);
    f = fopen(path, "w");
    if (f == NULL) {
        return -1;
    }
    fprintf(f, "{\"defaultACLAccess\":{\"publishClientSend\":false,"
               "\"publishClientReceive\":false,\"subscribe\":false,"
               "\"unsubscribe\":true},\"clients\":[");
    rc = dynsec_client(f, &B.sub, login);
    for (i = 0; rc == 0 && i < B.ndev; i++) {
        fputc(',', f);
        rc = dynsec_client(f, &B.dev[i], login);
    }
    fprintf(f, "],\"groups\":[],\"roles\":[");
    for (i = 0; i < B.ndev; i++) {
        const char *id = B.dev[i].id;

        fprintf(f,
                "{\"rolename\":\"%s\",\"acls\":["
                "{\"acltype\":\"publishClientSend\",\"topic\":\"%s/#\","
                "\"allow\":true},"
                "{\"acltype\":\"publishClientReceive\",\"topic\":\"%s/#\","
                "\"allow\":true},"
                "{\"acltype\":\"subscribePattern\",\"topic\":\"%s/#\","
                "\"allow\":true}]},",
                B.dev[i].user, id, id, id);
    }
    fprintf(f, "{\"rolename\":\"monitor\",\"acls\":["
               "{\"acltype\":\"publishClientReceive\",\"topic\":\"#\","
               "\"allow\":true},"
               "{\"acltype\":\"subscribePattern\",\"topic\":\"#\","
               "\"allow\":true}]}]}\n");
    if (fclose(f) != 0) {
        rc = -1;
    }
    return rc;
}

static int
write_conf(enum mode m, const char *path)
{
    FILE *f = fopen(path, "w");

    if (f == NULL) {
        return -1;
    }
    fprintf(f,
            "per_listener_settings false\n"
            "persistence false\n"
            "%s"
            "log_dest file %s/mosquitto-%d.log\n"
            "log_type error\nlog_type warning\nlog_type notice\n"
            "log_type information\n"
            "connection_messages true\n"
            "set_tcp_nodelay true\n"
            "max_queued_messages 100000\n",
            geteuid() == 0 ? "user root\n" : "", B.dir, (int)m);
    if (m == MODE_PLAIN) {
        fprintf(f, "allow_anonymous true\n");
    } else if (m == MODE_DYNSEC || m == MODE_DYNSEC_CN) {
        fprintf(f,
                "allow_anonymous false\n"
                "plugin %s\n"
                "plugin_opt_config_file %s/%s\n",
                B.dynsec, B.dir,
                m == MODE_DYNSEC ? "dynsec.json" : "dynsec-cn.json");
    } else {
        fprintf(f,
                "allow_anonymous false\n"
                "plugin %s\n"
                "plugin_opt_registry %s/registry.db\n"
                "plugin_opt_events subscribed\n" /* as thingcore up runs it */
                "%s",
                B.plugin, B.dir,
                B.plugin_info ? "plugin_opt_log_level info\n" : "");
    }
    fprintf(f,
            "listener %d 127.0.0.1\n"
            "cafile %s/ca.pem\n"
            "certfile %s/server.pem\n"
            "keyfile %s/server.key\n"
            "require_certificate true\n"
            "use_identity_as_username %s\n"
            "tls_version tlsv1.2\n",
            B.port, B.dir, B.dir, B.dir,
            m == MODE_DYNSEC_CN ? "true" : "false");
    fclose(f);
    return 0;
}

/* With two CPUs or more, the broker gets CPU 0 to itself and the load
 * client runs on the others, so that each figure is the broker's own
 * capacity rather than how the scheduler shared the machine. */
static void
pin_to(int broker)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    cpu_set_t set;
    long i;

    if (n < 2 || getenv("TC_BENCH_NOPIN") != NULL) {
        return;
    }
    CPU_ZERO(&set);
    if (broker) {
        CPU_SET(0, &set);
    } else {
        for (i = 1; i < n && i < CPU_SETSIZE; i++) {
            CPU_SET((int)i, &set);
        }
    }
    sched_setaffinity(0, sizeof(set), &set);
}

static pid_t
start_broker(const char *conf, const char *wrap)
{
    pid_t pid = fork();
    int i;

    if (pid == 0) {
        int null = open("/dev/null", O_WRONLY);

        pin_to(1);
        dup2(null, 1);
        dup2(null, 2);
        /* wrap: a command to run the broker under (valgrind, perf
         * record), the broker's command line after it. */
        if (wrap != NULL) {
            char cmd[2048];

            snprintf(cmd, sizeof(cmd), "exec %s /usr/sbin/mosquitto -c '%s'",
                     wrap, conf);
            execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
        } else {
            execl("/usr/sbin/mosquitto", "mosquitto", "-c", conf, (char *)NULL);
        }
        _exit(127);
    }
    for (i = 0; pid > 0 && i < 600; i++) {
        int fd = tcp_connect(B.port);

        if (fd >= 0) {
            close(fd);
            return pid;
        }
        usleep(50000);
    }
    if (pid > 0) {
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
    }
    return -1;
}

static void
stop_all(const pid_t *pid)
{
    int m;

    for (m = 0; m < NMODES; m++) {
        if (pid[m] > 0) {
            kill(pid[m], SIGTERM);
            waitpid(pid[m], NULL, 0);
        }
    }
}

static long
rss_kb(pid_t pid)
{
    char path[64];
    char line[256];
    long kb = -1;
    FILE *f;

    snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
    f = fopen(path, "r");
    while (f != NULL && fgets(line, sizeof(line), f) != NULL) {
        if (strncmp(line, "VmRSS:", 6) == 0) {
            kb = atol(line + 6);
        }
    }
    if (f != NULL) {
        fclose(f);
    }
    return kb;
}

/* CPU time in seconds of every thread of pid, from the scheduler's own
 * nanosecond count. */
static double
cpu_seconds(pid_t pid)
{
    char path[300];
    struct dirent *e;
    double total = 0;
    DIR *dir;

    snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
    dir = opendir(path);
    while (dir != NULL && (e = readdir(dir)) != NULL) {
        unsigned long long ns = 0;
        FILE *f;

        if (e->d_name[0] == '.') {
            continue;
        }
        snprintf(path, sizeof(path), "/proc/%d/task/%s/schedstat", (int)pid,
                 e->d_name);
        f = fopen(path, "r");
        if (f != NULL && fscanf(f, "%llu", &ns) == 1) {
            total += (double)ns / 1e9;
        }
        if (f != NULL) {
            fclose(f);
        }
    }
    if (dir != NULL) {
        closedir(dir);
    }
    return total;
}

/* ------------------------------------------------------------------ */
/* Measurements */

/* Whether the broker refuses a device connecting under another device's
 * client ID (what Kit_Policy's iot:Connect forbids). */
static int
binds_client_id(void)
{
    struct conn c;

    if (mqtt_open_as(&c, &B.dev[0], B.dev[1].id) == 0) {
        mqtt_close(&c);
        return 0;
    }
    /* and still admits the device under its own */
    if (mqtt_open(&c, &B.dev[0]) != 0) {
        return 0;
    }
    mqtt_close(&c);
    return 1;
}

struct conn_job {
    int first;
    double until;
    long done;
    long failed;
};

static void *
conn_worker(void *arg)
{
    struct conn_job *j = arg;
    int i = j->first;
    struct conn c;

    while (tc_monotonic() < j->until) {
        if (mqtt_open(&c, &B.dev[i % B.ndev]) == 0) {
            mqtt_close(&c);
            j->done++;
        } else {
            j->failed++;
        }
        i += B.threads;
    }
    return NULL;
}

/* Connections for B.seconds: *done completed in *elapsed seconds. */
static void
conn_rate(long *failed, long *done, double *elapsed)
{
    struct conn_job jobs[MAX_CONN_THREADS];
    pthread_t th[MAX_CONN_THREADS];
    double t0 = tc_monotonic();
    int i;

    *failed = 0;
    *done = 0;
    for (i = 0; i < B.threads; i++) {
        jobs[i].first = i * (B.ndev / B.threads);
        jobs[i].until = t0 + B.seconds;
        jobs[i].done = 0;
        jobs[i].failed = 0;
        pthread_create(&th[i], NULL, conn_worker, &jobs[i]);
    }
    for (i = 0; i < B.threads; i++) {
        pthread_join(th[i], NULL);
        *done += jobs[i].done;
        *failed += jobs[i].failed;
    }
    *elapsed = tc_monotonic() - t0;
}

static int
cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a;
    double y = *(const double *)b;

    return x < y ? -1 : x > y;
}

/* One broker's figures for one trial: operations, seconds, broker CPU. */
struct sample {
    double ops;
    double wall;
    double cpu;
};

/* Every trial's operations over every trial's time (cpu: broker CPU). */
static double
pooled(const struct sample *v, int cpu)
{
    double ops = 0;
    double t = 0;
    int i;

    for (i = 0; i < B.rounds; i++) {
        ops += v[i].ops;
        t += cpu ? v[i].cpu : v[i].wall;
    }
    return t > 0 ? ops / t : 0;
}

/* The first and third quartiles of the per-trial ratios of rates. */
static void
spread(const struct sample *num, const struct sample *den, double *lo,
       double *hi)
{
    double q[MAX_TRIALS];
    int n = B.rounds;
    int i;

    for (i = 0; i < n; i++) {
        double a = num[i].wall > 0 ? num[i].ops / num[i].wall : 0;
        double b = den[i].wall > 0 ? den[i].ops / den[i].wall : 0;

        q[i] = b > 0 ? a / b : 0;
    }
    qsort(q, (size_t)n, sizeof(*q), cmp_double);
    *lo = q[n / 4];
    *hi = q[(3 * n) / 4 < n ? (3 * n) / 4 : n - 1];
}

struct sub_job {
    struct conn c;
    long want;
    volatile long got;
    volatile int done;
    double first;
    double last;
};

static void *
sub_worker(void *arg)
{
    struct sub_job *j = arg;
    static uint8_t buf[4096];
    uint8_t type;

    while (j->got < j->want) {
        if (read_packet(j->c.ssl, &type, buf, sizeof(buf)) < 0) {
            break;
        }
        if ((type & 0xf0) == 0x30) {
            if (j->got == 0) {
                j->first = tc_monotonic();
            }
            j->got++;
            j->last = tc_monotonic();
        }
    }
    j->done = 1;
    return NULL;
}

/* One publisher (device 0, its own topic), one subscriber on "#" of the
 * publisher's tree; QoS 0 in batches of 64 packets per TLS record. */
static double
msg_time(long *received)
{
    struct sub_job sj;
    struct conn pub;
    pthread_t th;
    uint8_t batch[64 * 64];
    uint8_t one[64];
    char topic[64];
    char filter[64];
    size_t n = 0;
    size_t k;
    long sent = 0;
    double t0;

    *received = 0;
    memset(&sj, 0, sizeof(sj));
    snprintf(topic, sizeof(topic), "%s/telemetry", B.dev[0].id);
    snprintf(filter, sizeof(filter), "%s/#", B.dev[0].id);
    if (mqtt_open(&sj.c, &B.sub) != 0 || mqtt_subscribe(&sj.c, filter) != 0) {
        fprintf(stderr, "bench: subscriber failed\n");
        return 0;
    }
    if (mqtt_open(&pub, &B.dev[0]) != 0) {
        fprintf(stderr, "bench: publisher failed\n");
        mqtt_close(&sj.c);
        return 0;
    }
    one[n++] = 0x30;
    n += put_len(one + n, 2 + strlen(topic) + 16);
    n += put_str(one + n, topic);
    memset(one + n, 'x', 16);
    n += 16;
    for (k = 0; k < 64; k++) {
        memcpy(batch + k * n, one, n);
    }

    /* The subscriber reads ahead, and its socket gets a receive timeout
     * so that a lost message cannot hang the run. */
    {
        struct timeval tv = {3, 0};

        setsockopt(sj.c.fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
        SSL_set_read_ahead(sj.c.ssl, 1);
    }
    sj.want = B.messages;
    pthread_create(&th, NULL, sub_worker, &sj);
    t0 = tc_monotonic();
    while (sent < B.messages) {
        if (SSL_write(pub.ssl, batch, (int)(n * 64)) != (int)(n * 64)) {
            break;
        }
        sent += 64;
        /* Stay within what the broker can queue for the subscriber. */
        while (sent - sj.got > 20000 && !sj.done) {
            usleep(200);
        }
        if (sj.done) {
            break;
        }
    }
    pthread_join(th, NULL);
    mqtt_close(&pub);
    mqtt_close(&sj.c);
    *received = sj.got;
    if (sj.got == 0 || sj.last <= t0) {
        return 0;
    }
    return sj.last - t0;
}

/* Hold every device connected; returns the RSS growth per device. */
/* The plugin's own count: bytes per connection in its last state line. */
static long
last_state_line(void)
{
    char path[512];
    char line[1024];
    long per = -1;
    FILE *f;
    char *p;

    snprintf(path, sizeof(path), "%s/mosquitto-2.log", B.dir);
    f = fopen(path, "r");
    while (f != NULL && fgets(line, sizeof(line), f) != NULL) {
        p = strstr(line, "thingcore: state: ");
        if (p != NULL && (p = strchr(p, '(')) != NULL) {
            per = atol(p + 1);
        }
    }
    if (f != NULL) {
        fclose(f);
    }
    return per;
}

static double
hold_all(pid_t pid, long *held, long *plugin_state)
{
    static struct conn c[MAX_DEVICES];
    long before;
    long after;
    int i;

    *held = 0;
    usleep(200000);
    before = rss_kb(pid);
    for (i = 0; i < B.ndev; i++) {
        if (mqtt_open(&c[i], &B.dev[i]) == 0) {
            (*held)++;
        } else {
            c[i].ssl = NULL;
            c[i].fd = -1;
        }
    }
    usleep(300000);
    after = rss_kb(pid);
    if (plugin_state != NULL) {
        sleep(3); /* the plugin logs its state at most every 2 s */
        *plugin_state = last_state_line();
    }
    for (i = 0; i < B.ndev; i++) {
        mqtt_close(&c[i]);
    }
    return *held > 0 ? (double)(after - before) * 1024.0 / (double)*held : 0;
}

/*
 * Resident memory per connected device. The first pass also grows what
 * outlives connections (mosquitto's and SQLite's caches, the plugin's
 * compiled policy cache); the second pass, all devices known, measures
 * what one more connected device costs. *first receives the first.
 */
static double
mem_per_device(pid_t pid, long *held, double *first, long *state)
{
    *first = hold_all(pid, held, NULL);
    usleep(300000);
    return hold_all(pid, held, state);
}

/*
 * The deterministic side: instructions the broker process executes per
 * connection and per message, counted by valgrind's callgrind on a fixed
 * workload. Wall-clock rates on a shared machine swing from one second
 * to the next; these counts do not (system calls are not in them).
 *
 * One run per broker and workload: the devices that will connect again
 * connect once (the steady state of a running core), then n more
 * connections, then m messages through the bench's subscriber. *ir
 * receives the total.
 */
static int free_port(void);

/* Whether a callgrind function name ("(id) name" or "(id)") is one of
 * names; ids[] remembers the ids already seen to be. */
static int
callback_name(const char *v, const char *const *names, char *ids, size_t nids)
{
    char *end;
    long id = strtol(v + 1, &end, 10);
    int i;

    if (v[0] != '(' || *end != ')' || id < 0) {
        return 0;
    }
    if (end[1] == ' ') {
        char name[256];

        snprintf(name, sizeof(name), "%s", end + 2);
        name[strcspn(name, "\n")] = '\0';
        for (i = 0; names[i] != NULL; i++) {
            if (strcmp(name, names[i]) == 0 && (size_t)id < nids) {
                ids[id] = 1;
            }
        }
    }
    return (size_t)id < nids && ids[id];
}

/*
 * The instructions spent inside a plugin's callbacks, from a callgrind
 * profile: the inclusive cost of every call the broker makes into them.
 * Unlike the broker's total, this does not move with how the heap and
 * the event loop happened to run.
 */
static double
plugin_own(enum mode m, const char *profile)
{
    static const char *const dynsec[] = {"dynsec_auth__basic_auth_callback",
                                         "dynsec__acl_check_callback",
                                         "dynsec_control_callback", NULL};
    static const char *const ours[] = {"on_basic_auth", "on_acl_check",
                                       "on_disconnect", "on_tick", NULL};
    const char *const *names = m == MODE_THINGCORE ? ours : dynsec;
    static char ids[1 << 20];
    char line[1024];
    int in_callback = 0; /* the calling function is a callback itself */
    int to_callback = 0;
    int cost_next = 0;
    double sum = 0;
    FILE *f;

    if (m == MODE_PLAIN || (f = fopen(profile, "r")) == NULL) {
        return 0;
    }
    memset(ids, 0, sizeof(ids));
    while (fgets(line, sizeof(line), f) != NULL) {
        if (cost_next) {
            /* "<line> <Ir>": the call's inclusive cost */
            const char *sp = strchr(line, ' ');

            if (to_callback && !in_callback && sp != NULL) {
                sum += atof(sp + 1);
            }
            cost_next = 0;
        } else if (strncmp(line, "fn=", 3) == 0) {
            in_callback = callback_name(line + 3, names, ids, sizeof(ids));
        } else if (strncmp(line, "cfn=", 4) == 0) {
            to_callback = callback_name(line + 4, names, ids, sizeof(ids));
        } else if (strncmp(line, "calls=", 6) == 0) {
            cost_next = 1;
        }
    }
    fclose(f);
    return sum;
}

static int
cost_run(enum mode m, int conns, long msgs, double *ir, double *own)
{
    char conf[600];
    char out[600];
    char wrap[1400];
    char line[256];
    struct conn c;
    pid_t pid[NMODES] = {-1, -1, -1, -1};
    int warm = B.ndev < COST_CONNS ? B.ndev : COST_CONNS;
    long got = 0;
    FILE *f;
    int i;

    *ir = 0;
    snprintf(conf, sizeof(conf), "%s/cost-%d.conf", B.dir, (int)m);
    snprintf(out, sizeof(out), "%s/callgrind-%d-%d-%ld", B.dir, (int)m, conns,
             msgs);
    snprintf(wrap, sizeof(wrap),
             "valgrind --tool=callgrind --callgrind-out-file='%s' "
             "--dump-instr=no",
             out);
    B.port = free_port();
    B.mode = m;
    if (write_conf(m, conf) != 0 || (pid[m] = start_broker(conf, wrap)) < 0) {
        return -1;
    }
    /* The devices that connect again are known to the broker first;
     * the others only fill its registry and configuration. */
    for (i = 0; i < warm + conns; i++) {
        if (mqtt_open(&c, &B.dev[i % warm]) == 0) {
            mqtt_close(&c);
        }
    }
    if (msgs > 0) {
        long keep = B.messages;

        B.messages = msgs;
        msg_time(&got);
        B.messages = keep;
    }
    stop_all(pid);
    f = fopen(out, "r");
    while (f != NULL && fgets(line, sizeof(line), f) != NULL) {
        if (strncmp(line, "summary:", 8) == 0 ||
            strncmp(line, "totals:", 7) == 0) {
            *ir = atof(line + (line[0] == 's' ? 8 : 7));
        }
    }
    if (f != NULL) {
        fclose(f);
    }
    *own = plugin_own(m, out);
    return *ir > 0 && (msgs == 0 || got == msgs) ? 0 : -1;
}

static int
cost(void)
{
    static const int conns = COST_CONNS;
    static const long msgs = 4000;
    double base[NMODES];
    double pc[NMODES];
    double pm[NMODES];
    double own_base[NMODES];
    double own_pc[NMODES];
    double own_pm[NMODES];
    int k;
    int m;

    if (system("valgrind --version >/dev/null 2>&1") != 0) {
        fprintf(stderr, "bench: --cost needs valgrind\n");
        return 77;
    }
    printf("\ninstructions per operation, counted by callgrind (%d devices "
           "registered; %d connections\nafter each device's first; %ld "
           "messages):\n",
           B.ndev, conns, msgs);
    fflush(stdout);
    for (m = MODE_PLAIN; m < NMODES; m++) {
        double with_conns;
        double with_msgs;
        double own_conns;
        double own_msgs;

        if (cost_run(m, 0, 0, &base[m], &own_base[m]) != 0 ||
            cost_run(m, conns, 0, &with_conns, &own_conns) != 0 ||
            cost_run(m, 0, msgs, &with_msgs, &own_msgs) != 0) {
            fprintf(stderr, "bench: %s: a counted run failed\n", mode_name[m]);
            return 1;
        }
        pc[m] = (with_conns - base[m]) / conns;
        /* The message run also connects its publisher and subscriber. */
        pm[m] = (with_msgs - base[m] - 2 * pc[m]) / (double)msgs;
        own_pc[m] = (own_conns - own_base[m]) / conns;
        own_pm[m] = (own_msgs - own_base[m] - 2 * own_pc[m]) / (double)msgs;
        printf("  %-22s %10.0f per connection %8.0f per message\n",
               mode_name[m], pc[m], pm[m]);
        fflush(stdout);
    }
    printf("\nratios of cost (lower is faster):\n");
    for (k = 0; k < 2; k++) {
        const double *v = k == 0 ? pc : pm;
        size_t q;

        printf("  %s", k == 0 ? "per connection:" : "per message:   ");
        for (q = 0; q < NRATIOS; q++) {
            printf("  %s %.4f", ratio[q].name,
                   v[ratio[q].num] / v[ratio[q].den]);
        }
        printf("\n");
    }
    printf("\ninstructions inside the plugin's own callbacks (the part of "
           "the above that\ndoes not move between runs):\n");
    for (m = MODE_DYNSEC; m < NMODES; m++) {
        printf("  %-22s %10.0f per connection %8.0f per message\n",
               mode_name[m], own_pc[m], own_pm[m]);
    }
    return 0;
}

static int
free_port(void)
{
    struct sockaddr_in sa;
    socklen_t len = sizeof(sa);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    int port = 0;

    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 &&
        getsockname(fd, (struct sockaddr *)&sa, &len) == 0) {
        port = ntohs(sa.sin_port);
    }
    close(fd);
    return port;
}

static void
default_plugin(const char *argv0)
{
    char exe[900];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    char *slash;

    (void)argv0;
    if (getenv("THINGCORE_PLUGIN") != NULL) {
        snprintf(B.plugin, sizeof(B.plugin), "%s", getenv("THINGCORE_PLUGIN"));
        return;
    }
    exe[n > 0 ? n : 0] = '\0';
    /* build/bench/broker -> build/thingcore-plugin.so */
    slash = strrchr(exe, '/');
    if (slash != NULL) {
        *slash = '\0';
    }
    slash = strrchr(exe, '/');
    if (slash != NULL) {
        *slash = '\0';
    }
    snprintf(B.plugin, sizeof(B.plugin), "%s/thingcore-plugin.so", exe);
}

int
main(int argc, char **argv)
{
    struct device ca;
    struct device server;
    static struct sample S[NMODES][2][MAX_TRIALS]; /* [broker][conn, msg] */
    pid_t pid[NMODES] = {-1, -1, -1, -1};
    int port[NMODES];
    int k;
    double mem[NMODES] = {0};
    double mem1[NMODES] = {0};
    int bound[NMODES] = {0};
    long state = -1;
    char conf[600];
    char cmd[600];
    int m;
    int r;
    int i;

    B.ndev = 500;
    B.rounds = 32; /* every broker in every position of the rotation */
    B.threads = 4;
    B.seconds = 0.3;
    B.messages = 50000;
    snprintf(B.dynsec, sizeof(B.dynsec), "%s", DYNSEC);
    default_plugin(argv[0]);
    for (i = 1; i < argc; i += 2) {
        if (strcmp(argv[i], "--verbose") == 0) {
            B.verbose = 1;
            i--;
        } else if (strcmp(argv[i], "--cost") == 0) {
            B.cost = 1;
            i--;
        } else if (i + 1 == argc) {
            break;
        } else if (strcmp(argv[i], "--devices") == 0) {
            B.ndev = atoi(argv[i + 1]);
        } else if (strcmp(argv[i], "--seconds") == 0) {
            B.seconds = atof(argv[i + 1]);
        } else if (strcmp(argv[i], "--threads") == 0) {
            B.threads = atoi(argv[i + 1]);
        } else if (strcmp(argv[i], "--rounds") == 0) {
            B.rounds = atoi(argv[i + 1]);
        } else if (strcmp(argv[i], "--messages") == 0) {
            B.messages = atol(argv[i + 1]);
        } else if (strcmp(argv[i], "--plugin") == 0) {
            snprintf(B.plugin, sizeof(B.plugin), "%s", argv[i + 1]);
        } else if (strcmp(argv[i], "--dynsec") == 0) {
            snprintf(B.dynsec, sizeof(B.dynsec), "%s", argv[i + 1]);
        } else {
            fprintf(stderr,
                    "usage: %s [--devices N] [--rounds TRIALS] "
                    "[--seconds S] [--messages M] [--threads T] "
                    "[--verbose] [--cost] [--plugin SO] [--dynsec SO]\n",
                    argv[0]);
            return 2;
        }
    }
    if (B.ndev < 2 || B.ndev > MAX_DEVICES || B.seconds <= 0 || B.rounds < 1 ||
        B.rounds > MAX_TRIALS || B.messages < 64 || B.threads < 1 ||
        B.threads > MAX_CONN_THREADS) {
        fprintf(stderr, "bench: bad arguments\n");
        return 2;
    }
    if (access("/usr/sbin/mosquitto", X_OK) != 0 ||
        access(B.plugin, R_OK) != 0 || access(B.dynsec, R_OK) != 0) {
        fprintf(stderr, "bench: needs /usr/sbin/mosquitto, %s and %s\n",
                B.plugin, B.dynsec);
        return 77;
    }
    signal(SIGPIPE, SIG_IGN);
    pin_to(0);
    tc_broker_raise_nofile(TC_BROKER_NOFILE, NULL);
    snprintf(B.dir, sizeof(B.dir), "/tmp/tc-bench-broker.XXXXXX");
    if (mkdtemp(B.dir) == NULL) {
        perror("mkdtemp");
        return 1;
    }

    /* Keys and certificates: one CA for everything. */
    printf("setting up %d devices...\n", B.ndev);
    fflush(stdout);
    memset(&ca, 0, sizeof(ca));
    {
        struct tc_pki_cert_spec spec;

        memset(&spec, 0, sizeof(spec));
        spec.common_name = "bench CA";
        spec.is_ca = 1;
        spec.days = 2;
        if (tc_pki_key_generate(&ca.key, NULL) != TC_OK ||
            tc_pki_cert_issue(&spec, ca.key, NULL, NULL, &ca.cert, NULL) !=
                TC_OK) {
            return 1;
        }
    }
    if (issue("127.0.0.1", ca.cert, ca.key, 1, &server) != 0 ||
        issue("monitor", ca.cert, ca.key, 0, &B.sub) != 0) {
        return 1;
    }
    snprintf(B.sub.id, sizeof(B.sub.id), "monitor");
    snprintf(B.sub.user, sizeof(B.sub.user), "monitor");
    for (i = -1; i < B.ndev; i++) {
        struct device *dv = i < 0 ? &B.sub : &B.dev[i];
        unsigned char rnd[12];

        if (i >= 0) {
            snprintf(dv->id, sizeof(dv->id), "0123%014X", i);
            snprintf(dv->user, sizeof(dv->user), "sn%s", dv->id);
            if (issue(dv->user, ca.cert, ca.key, 0, dv) != 0) {
                return 1;
            }
        }
        if (RAND_bytes(rnd, sizeof(rnd)) != 1) {
            return 1;
        }
        tc_hex_encode(rnd, sizeof(rnd), dv->pass, 0);
    }
    if (write_pem("ca.pem", ca.cert, NULL) ||
        write_pem("server.pem", server.cert, NULL) ||
        write_pem("server.key", NULL, server.key) || fill_registry() ||
        write_dynsec("dynsec.json", 1) || write_dynsec("dynsec-cn.json", 0)) {
        fprintf(stderr, "bench: setup failed\n");
        return 1;
    }

    /* One client context for all: TLS 1.2+, the CA, no resumption. */
    B.ctx = SSL_CTX_new(TLS_client_method());
    SSL_CTX_set_min_proto_version(B.ctx, TLS1_2_VERSION);
    SSL_CTX_set_session_cache_mode(B.ctx, SSL_SESS_CACHE_OFF);
    SSL_CTX_set_options(B.ctx, SSL_OP_NO_TICKET);
    X509_STORE_add_cert(SSL_CTX_get_cert_store(B.ctx), ca.cert);
    SSL_CTX_set_verify(B.ctx, SSL_VERIFY_PEER, NULL);

    if (B.cost) {
        int rc = cost();

        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", B.dir);
        if (getenv("TC_BENCH_KEEP") == NULL && system(cmd) != 0) {
            fprintf(stderr, "bench: could not remove %s\n", B.dir);
        }
        return rc;
    }

    /* The four brokers run side by side, all on the broker's CPU; only
     * the one being measured has work. Memory is measured first, which
     * also connects every device once: (c) compiles each device's
     * policies on its first connection, as a running core has. (c)
     * reports its own memory at info level, so it is measured on a broker
     * of its own; the one timed runs with the plugin's defaults, as
     * `thingcore up` does, and every device connects to it once first. */
    for (m = MODE_PLAIN; m < NMODES; m++) {
        long held = 0;

        B.port = port[m] = free_port();
        B.mode = m;
        B.plugin_info = m == MODE_THINGCORE;
        snprintf(conf, sizeof(conf), "%s/mosquitto-%d.conf", B.dir, m);
        if (write_conf(m, conf) != 0 ||
            (pid[m] = start_broker(conf, getenv("TC_BENCH_WRAP"))) < 0) {
            fprintf(stderr, "bench: %s did not start\n", mode_name[m]);
            stop_all(pid);
            return 1;
        }
        mem[m] = mem_per_device(pid[m], &held, &mem1[m],
                                m == MODE_THINGCORE ? &state : NULL);
        bound[m] = binds_client_id();
        printf("%-22s %6.0f B/device resident (first pass %.0f, %ld "
               "held)\n",
               mode_name[m], mem[m], mem1[m], held);
        fflush(stdout);
    }
    {
        pid_t info[NMODES] = {-1, -1, pid[MODE_THINGCORE], -1};
        struct conn c;

        stop_all(info);
        B.plugin_info = 0;
        B.port = port[MODE_THINGCORE] = free_port();
        B.mode = MODE_THINGCORE;
        snprintf(conf, sizeof(conf), "%s/mosquitto-timed.conf", B.dir);
        if (write_conf(MODE_THINGCORE, conf) != 0 ||
            (pid[MODE_THINGCORE] =
                 start_broker(conf, getenv("TC_BENCH_WRAP"))) < 0) {
            fprintf(stderr, "bench: %s did not start\n",
                    mode_name[MODE_THINGCORE]);
            pid[MODE_THINGCORE] = -1;
            stop_all(pid);
            return 1;
        }
        for (i = 0; i < B.ndev; i++) {
            if (mqtt_open(&c, &B.dev[i]) == 0) {
                mqtt_close(&c);
            }
        }
    }

    printf("a device under another device's client ID:");
    for (m = 0; m < NMODES; m++) {
        printf(" (%c) %s", 'a' + m, bound[m] ? "refused" : "ADMITTED");
    }
    printf("\n");

    /*
     * Trials: each measures the four brokers one after the other, in an
     * order that rotates. On a shared virtual machine the same broker's
     * rate swings by a quarter from one second to the next; short trials
     * interleaved many times expose the four to the same swings, and
     * the figures pool every trial: the rate is all operations over all
     * their time, and the spread is the middle half of the per-trial
     * ratios.
     */
    printf("\n%d trials of %.2f s of connections and %ld messages each\n",
           B.rounds, B.seconds, B.messages);
    for (r = 0; r < B.rounds; r++) {
        for (i = 0; i < 2 * NMODES; i++) {
            struct sample *x;
            long failed = 0;
            long got = 0;
            double b0;
            double t0;

            m = (r + i) % NMODES;
            k = i < NMODES ? 0 : 1;
            x = &S[m][k][r];
            B.port = port[m];
            B.mode = m;
            b0 = cpu_seconds(pid[m]);
            t0 = tc_monotonic();
            if (k == 0) {
                conn_rate(&failed, &got, &x->wall);
            } else {
                x->wall = msg_time(&got);
                failed = B.messages - got;
            }
            x->ops = (double)got;
            x->cpu = cpu_seconds(pid[m]) - b0;
            if (x->wall <= 0) {
                x->wall = tc_monotonic() - t0;
            }
            if (failed > 0) {
                fprintf(stderr, "bench: %s: %ld %s\n", mode_name[m], failed,
                        k == 0 ? "connections failed" : "messages lost");
            }
        }
        if (B.verbose) {
            printf("trial %2d  conn/s", r + 1);
            for (m = 0; m < NMODES; m++) {
                printf(" %c %6.1f", 'a' + m, S[m][0][r].ops / S[m][0][r].wall);
            }
            printf("   msg/s");
            for (m = 0; m < NMODES; m++) {
                printf(" %c %6.0f", 'a' + m, S[m][1][r].ops / S[m][1][r].wall);
            }
            printf("\n");
        } else {
            printf(".");
        }
        fflush(stdout);
    }
    stop_all(pid);

    printf("\n\nall trials pooled: per second, and per second of the "
           "broker's own CPU:\n");
    for (m = 0; m < NMODES; m++) {
        printf("  %-22s %7.1f connections/s (%7.1f) %8.0f msg/s (%8.0f)\n",
               mode_name[m], pooled(S[m][0], 0), pooled(S[m][0], 1),
               pooled(S[m][1], 0), pooled(S[m][1], 1));
    }
    printf("\nratios, pooled [middle half of the per-trial ratios]:\n");
    for (k = 0; k < 2; k++) {
        size_t q;

        printf("  %s\n", k == 0 ? "connections/s:" : "messages/s:");
        for (q = 0; q < NRATIOS; q++) {
            const struct sample *num = S[ratio[q].num][k];
            const struct sample *den = S[ratio[q].den][k];
            double lo;
            double hi;

            spread(num, den, &lo, &hi);
            printf("    %s %.3f [%.3f-%.3f], per broker CPU-second %.3f%s\n",
                   ratio[q].name, pooled(num, 0) / pooled(den, 0), lo, hi,
                   pooled(num, 1) / pooled(den, 1), ratio[q].target[k]);
        }
    }
    printf("  thingcore plugin memory per connected device: %ld bytes "
           "(the plugin's own count: connection record and compiled "
           "policy set; target < 2048)\n",
           state);
    printf("  resident memory per device, (c) minus (a): first connection "
           "%.0f bytes (caches\n  included), connected again %.0f bytes\n",
           mem1[2] - mem1[0], mem[2] - mem[0]);

    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", B.dir);
    if (getenv("TC_BENCH_KEEP") != NULL) {
        printf("kept %s\n", B.dir);
    } else if (system(cmd) != 0) {
        fprintf(stderr, "bench: could not remove %s\n", B.dir);
    }
    return 0;
}
