// SPDX-License-Identifier: Apache-2.0
/*
 * Running mosquitto for thingcore: the generated configuration, the
 * server and operator certificates, the file descriptor limit, and a
 * supervised child process that is restarted when it dies. The child is
 * the stock /usr/sbin/mosquitto; everything thingcore-specific happens in
 * the plugin it loads. This file never logs: poll reports, callers log.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <openssl/x509.h>

#include "thingcore/broker.h"
#include "thingcore/datadir.h"
#include "thingcore/pki.h"
#include "thingcore/policy.h"
#include "thingcore/registry.h"
#include "thingcore/util.h"

struct tc_broker {
    char data_dir[TC_BROKER_PATH_MAX];
    char registry[TC_BROKER_PATH_MAX];
    char mosquitto[TC_BROKER_PATH_MAX];
    char conf[TC_BROKER_PATH_MAX];
    char capath[TC_BROKER_PATH_MAX];
    char ca_file[TC_BROKER_PATH_MAX];
    char anchors[TC_BROKER_PATH_MAX];
    char preload[TC_BROKER_PATH_MAX];
    struct tc_registry *reg;
    long long seq; /* event log position already looked at */
    pid_t pid;
    double started;    /* monotonic time of the last start */
    double restart_at; /* monotonic time of the next start, when pid 0 */
    double backoff;
    int restarts;
};

static int
path_join(char *out, size_t cap, const char *dir, const char *name)
{
    int n = snprintf(out, cap, "%s/%s", dir, name);

    return n < 0 || (size_t)n >= cap ? TC_ERR_TOO_BIG : TC_OK;
}

static int
exists(const char *path)
{
    struct stat st;

    return stat(path, &st) == 0;
}

/* Write key (0600) and cert PEM files; both borrowed. */
static int
write_pair(const char *kpath, const char *cpath, EVP_PKEY *key, X509 *cert,
           struct tc_detail *d)
{
    struct tc_buf kb;
    struct tc_buf cb;
    int rc;

    tc_buf_init(&kb, 16384);
    tc_buf_init(&cb, 16384);
    rc = tc_pki_key_to_pem(key, &kb, d);
    if (rc == TC_OK) {
        rc = tc_pki_cert_to_pem(cert, &cb, d);
    }
    if (rc == TC_OK) {
        rc = tc_file_write_atomic(kpath, kb.data, kb.len, 0600, d);
    }
    if (rc == TC_OK) {
        rc = tc_file_write_atomic(cpath, cb.data, cb.len, 0644, d);
    }
    tc_buf_clear(&kb, 1);
    tc_buf_clear(&cb, 0);
    return rc;
}

/* Issue key + certificate from the data directory's CA into two files. */
static int
issue_pair(const struct tc_datadir *dd, const struct tc_pki_cert_spec *spec,
           const char *kname, const char *cname, struct tc_detail *d)
{
    char kpath[TC_BROKER_PATH_MAX];
    char cpath[TC_BROKER_PATH_MAX];
    char dir[TC_BROKER_PATH_MAX];
    EVP_PKEY *ca_key = NULL;
    X509 *ca = NULL;
    EVP_PKEY *key = NULL;
    X509 *cert = NULL;
    char *slash;
    int rc;

    rc = tc_datadir_file(dd, TC_DATADIR_CA_KEY, kpath, sizeof(kpath));
    if (rc == TC_OK) {
        rc = tc_datadir_file(dd, TC_DATADIR_CA_CERT, cpath, sizeof(cpath));
    }
    if (rc == TC_OK) {
        rc = tc_pki_key_read(kpath, &ca_key, d);
    }
    if (rc == TC_OK) {
        rc = tc_pki_cert_read(cpath, &ca, d);
    }
    if (rc == TC_OK) {
        rc = tc_pki_key_generate(&key, d);
    }
    if (rc == TC_OK) {
        rc = tc_pki_cert_issue(spec, key, ca, ca_key, &cert, d);
    }
    if (rc == TC_OK) {
        rc = tc_datadir_file(dd, kname, kpath, sizeof(kpath));
    }
    if (rc == TC_OK) {
        rc = tc_datadir_file(dd, cname, cpath, sizeof(cpath));
    }
    if (rc == TC_OK) {
        snprintf(dir, sizeof(dir), "%s", kpath);
        slash = strrchr(dir, '/');
        if (slash != NULL) {
            *slash = '\0';
        }
        rc = tc_mkdir_p(dir, 0700, d);
    }
    if (rc == TC_OK) {
        rc = write_pair(kpath, cpath, key, cert, d);
    }
    EVP_PKEY_free(ca_key);
    X509_free(ca);
    EVP_PKEY_free(key);
    X509_free(cert);
    return rc;
}

int
tc_broker_server_cert_ensure(const struct tc_datadir *dd, struct tc_detail *d)
{
    char kpath[TC_BROKER_PATH_MAX];
    char cpath[TC_BROKER_PATH_MAX];
    const char *dns[2] = {"localhost", dd->endpoint_host};
    const char *ips[3] = {"127.0.0.1", "::1", dd->endpoint_host};
    int host_is_ip =
        strspn(dd->endpoint_host, "0123456789.:") == strlen(dd->endpoint_host);
    int same = strcmp(dd->endpoint_host, "localhost") == 0 ||
               strcmp(dd->endpoint_host, "127.0.0.1") == 0 ||
               strcmp(dd->endpoint_host, "::1") == 0;
    struct tc_pki_cert_spec spec;

    if (tc_datadir_file(dd, TC_BROKER_SERVER_KEY, kpath, sizeof(kpath)) !=
            TC_OK ||
        tc_datadir_file(dd, TC_BROKER_SERVER_CERT, cpath, sizeof(cpath)) !=
            TC_OK) {
        return TC_ERR_TOO_BIG;
    }
    if (exists(kpath) && exists(cpath)) {
        return TC_OK;
    }

    /* The endpoint host goes in as a DNS name or as an IP address. */
    memset(&spec, 0, sizeof(spec));
    spec.common_name = dd->endpoint_host;
    spec.organization = "thingcore";
    spec.dns_names = dns;
    spec.n_dns = same || host_is_ip ? 1 : 2;
    spec.ip_addresses = ips;
    spec.n_ip = same || !host_is_ip ? 2 : 3;
    spec.server_auth = 1;
    spec.days = 730;
    return issue_pair(dd, &spec, TC_BROKER_SERVER_KEY, TC_BROKER_SERVER_CERT,
                      d);
}

int
tc_broker_operator_policy(const char *region, const char *account, char *out,
                          size_t cap)
{
    int n;

    n = snprintf(out, cap,
                 "{\"Version\":\"2012-10-17\",\"Statement\":["
                 "{\"Effect\":\"Allow\",\"Action\":\"iot:Connect\","
                 "\"Resource\":\"arn:aws:iot:%s:%s:client/*\"},"
                 "{\"Effect\":\"Allow\",\"Action\":\"iot:Subscribe\","
                 "\"Resource\":\"arn:aws:iot:%s:%s:topicfilter/*\"},"
                 "{\"Effect\":\"Allow\",\"Action\":[\"iot:Publish\","
                 "\"iot:Receive\",\"iot:RetainPublish\"],"
                 "\"Resource\":\"arn:aws:iot:%s:%s:topic/*\"}]}",
                 region, account, region, account, region, account);
    return n < 0 || (size_t)n >= cap ? TC_ERR_TOO_BIG : TC_OK;
}

int
tc_broker_operator_ensure(const struct tc_datadir *dd, struct tc_registry *reg,
                          int *created, struct tc_detail *d)
{
    char kpath[TC_BROKER_PATH_MAX];
    char cpath[TC_BROKER_PATH_MAX];
    char id[TC_REG_CERT_ID_LEN];
    char arn[TC_REG_ARN_MAX];
    char doc[1024];
    struct tc_reg_cert_register in;
    struct tc_reg_policy pol;
    struct tc_buf pem;
    struct tc_pki_cert_spec spec;
    int rc;

    if (created != NULL) {
        *created = 0;
    }
    memset(&pol, 0, sizeof(pol));
    tc_buf_init(&pem, TC_REG_PEM_MAX);
    if (tc_datadir_file(dd, TC_BROKER_OPERATOR_KEY, kpath, sizeof(kpath)) !=
            TC_OK ||
        tc_datadir_file(dd, TC_BROKER_OPERATOR_CERT, cpath, sizeof(cpath)) !=
            TC_OK) {
        rc = TC_ERR_TOO_BIG;
        goto cleanup;
    }

    /* The key pair, made once. */
    if (!exists(kpath) || !exists(cpath)) {
        memset(&spec, 0, sizeof(spec));
        spec.common_name = "thingcore operator";
        spec.organization = "thingcore";
        spec.client_auth = 1;
        spec.days = 3650;
        rc = issue_pair(dd, &spec, TC_BROKER_OPERATOR_KEY,
                        TC_BROKER_OPERATOR_CERT, d);
        if (rc != TC_OK) {
            goto cleanup;
        }
        if (created != NULL) {
            *created = 1;
        }
    }

    /* Registered ACTIVE (already registered is fine: we keep its state,
     * so an operator who deactivated it keeps it deactivated). */
    rc = tc_file_read(cpath, &pem, d);
    if (rc != TC_OK) {
        goto cleanup;
    }
    memset(&in, 0, sizeof(in));
    in.pem = (const char *)pem.data;
    in.pem_len = pem.len;
    in.status = TC_REG_CERT_ACTIVE;
    rc = tc_registry_cert_register(reg, &in, id, d);
    if (rc == TC_ERR_REG_ALREADY_EXISTS) {
        rc = TC_OK;
    } else if (rc == TC_OK && created != NULL) {
        *created = 1;
    }
    if (rc != TC_OK) {
        goto cleanup;
    }

    /* The operator policy, made once, attached (idempotent). */
    rc = tc_registry_policy_get(reg, TC_BROKER_OPERATOR_POLICY, &pol, NULL);
    if (rc == TC_ERR_REG_NOT_FOUND) {
        rc = tc_broker_operator_policy(tc_registry_region(reg),
                                       tc_registry_account(reg), doc,
                                       sizeof(doc));
        if (rc == TC_OK) {
            rc = tc_registry_policy_create(reg, TC_BROKER_OPERATOR_POLICY, doc,
                                           strlen(doc), NULL, d);
        }
    }
    if (rc == TC_OK) {
        tc_registry_arn(reg, "cert", id, arn);
        rc = tc_registry_policy_attach(reg, TC_BROKER_OPERATOR_POLICY, arn, d);
    }

cleanup:
    tc_reg_policy_clear(&pol);
    tc_buf_clear(&pem, 0);
    return rc;
}

int
tc_broker_raise_nofile(unsigned long want, unsigned long *got)
{
    struct rlimit rl;

    if (getrlimit(RLIMIT_NOFILE, &rl) != 0) {
        return TC_ERR_IO;
    }
    if (rl.rlim_cur < want) {
        rl.rlim_cur = rl.rlim_max != RLIM_INFINITY && rl.rlim_max < want
                          ? rl.rlim_max
                          : want;
        if (setrlimit(RLIMIT_NOFILE, &rl) != 0) {
            return TC_ERR_IO;
        }
    }
    if (got != NULL) {
        *got = (unsigned long)rl.rlim_cur;
    }
    return TC_OK;
}

/* A configuration value must not break out of its line. */
static int
safe_value(const char *s)
{
    return s != NULL && s[0] != '\0' && strpbrk(s, "\n\r") == NULL;
}

int
tc_broker_write_config(const struct tc_broker_config *c, const char *path,
                       struct tc_detail *d)
{
    char capath[TC_BROKER_PATH_MAX];
    char cert[TC_BROKER_PATH_MAX];
    char key[TC_BROKER_PATH_MAX];
    char reg[TC_BROKER_PATH_MAX];
    struct tc_buf b;
    int rc = TC_ERR_BROKER_CONFIG;

    tc_buf_init(&b, 65536);
    if (c->port < 1 || c->port > 65535 || !safe_value(c->data_dir) ||
        !safe_value(c->plugin) || (c->bind != NULL && !safe_value(c->bind)) ||
        (c->registry_path != NULL && !safe_value(c->registry_path)) ||
        (c->log_level != NULL && !safe_value(c->log_level))) {
        rc = tc_detail_set(d, TC_ERR_BROKER_CONFIG, -1, NULL,
                           "port, data directory, plugin and paths must be "
                           "set and on one line");
        goto cleanup;
    }
    if (path_join(capath, sizeof(capath), c->data_dir, TC_BROKER_CAPATH) ||
        path_join(cert, sizeof(cert), c->data_dir, TC_BROKER_SERVER_CERT) ||
        path_join(key, sizeof(key), c->data_dir, TC_BROKER_SERVER_KEY) ||
        path_join(reg, sizeof(reg), c->data_dir, TC_DATADIR_REGISTRY)) {
        rc = tc_detail_set(d, TC_ERR_TOO_BIG, -1, "data", "path too long");
        goto cleanup;
    }

    /* Global settings first: mosquitto reads them before any listener.
     * TICK only fires with per_listener_settings false. */
    rc = tc_buf_printf(
        &b,
        "# Generated by thingcore at every start; edits are lost.\n"
        "per_listener_settings false\n"
        "allow_anonymous false\n"
        "persistence false\n"
        "%s"
        "log_dest stderr\n"
        "log_timestamp true\n"
        "log_timestamp_format %%Y-%%m-%%dT%%H:%%M:%%S\n"
        "log_type error\nlog_type warning\n%s"
        "connection_messages %s\n"
        "max_keepalive 1200\n"
        "set_tcp_nodelay true\n"
        "plugin %s\n"
        "plugin_opt_registry %s\n"
        "plugin_opt_log_level %s\n"
        "plugin_opt_events subscribed\n" /* sound: persistence false */
        "\n"
        "listener %d%s%s\n"
        "capath %s\n"
        "certfile %s\n"
        "keyfile %s\n"
        "require_certificate true\n"
        "use_identity_as_username false\n"
        "tls_version tlsv1.2\n",
        geteuid() == 0 ? "user root\n" : "",
        c->quiet ? "" : "log_type notice\nlog_type information\n",
        c->quiet ? "false" : "true", c->plugin,
        c->registry_path != NULL ? c->registry_path : reg,
        c->log_level != NULL ? c->log_level : "notice", c->port,
        c->bind != NULL ? " " : "", c->bind != NULL ? c->bind : "", capath,
        cert, key);
    if (rc != TC_OK) {
        goto cleanup;
    }
    rc = tc_file_write_atomic(path, b.data, b.len, 0644, d);

cleanup:
    tc_buf_clear(&b, 0);
    return rc;
}

static int
spawn(struct tc_broker *b, struct tc_detail *d)
{
    pid_t pid = fork();

    if (pid < 0) {
        return tc_detail_set(d, TC_ERR_BROKER_SPAWN, -1, NULL, "fork: %s",
                             strerror(errno));
    }
    if (pid == 0) {
        /* The child: only the sanitizer runtime, when asked, is preloaded
         * (mosquitto itself is not built with it). */
        if (b->preload[0] != '\0') {
            setenv("LD_PRELOAD", b->preload, 1);
        } else {
            unsetenv("LD_PRELOAD");
        }
        execl(b->mosquitto, "mosquitto", "-c", b->conf, (char *)NULL);
        fprintf(stderr, "thingcore: exec %s: %s\n", b->mosquitto,
                strerror(errno));
        _exit(127);
    }
    b->pid = pid;
    b->started = tc_monotonic();
    return TC_OK;
}

static int
copy_str(char *out, size_t cap, const char *s)
{
    int n = snprintf(out, cap, "%s", s != NULL ? s : "");

    return n < 0 || (size_t)n >= cap ? TC_ERR_TOO_BIG : TC_OK;
}

int
tc_broker_start(const struct tc_broker_config *c, struct tc_broker **out,
                struct tc_detail *d)
{
    struct tc_broker *b = NULL;
    char dir[TC_BROKER_PATH_MAX];
    int rc = TC_ERR_INTERNAL;

    *out = NULL;
    if (c->data_dir == NULL || c->plugin == NULL) {
        return tc_detail_set(d, TC_ERR_BROKER_CONFIG, -1, NULL,
                             "data directory and plugin are required");
    }
    if (access(c->plugin, R_OK) != 0) {
        return tc_detail_set(d, TC_ERR_BROKER_CONFIG, -1, "plugin", "%s: %s",
                             c->plugin, strerror(errno));
    }
    b = calloc(1, sizeof(*b));
    if (b == NULL) {
        return TC_ERR_NOMEM;
    }
    if (copy_str(b->data_dir, sizeof(b->data_dir), c->data_dir) ||
        copy_str(b->mosquitto, sizeof(b->mosquitto),
                 c->mosquitto != NULL ? c->mosquitto : TC_BROKER_MOSQUITTO) ||
        copy_str(b->preload, sizeof(b->preload), c->preload) ||
        path_join(b->conf, sizeof(b->conf), c->data_dir, TC_BROKER_CONF) ||
        path_join(b->capath, sizeof(b->capath), c->data_dir,
                  TC_BROKER_CAPATH) ||
        path_join(b->ca_file, sizeof(b->ca_file), c->data_dir,
                  TC_DATADIR_CA_CERT) ||
        path_join(b->anchors, sizeof(b->anchors), c->data_dir,
                  TC_BROKER_ANCHORS) ||
        (c->registry_path != NULL
             ? copy_str(b->registry, sizeof(b->registry), c->registry_path)
             : path_join(b->registry, sizeof(b->registry), c->data_dir,
                         TC_DATADIR_REGISTRY))) {
        rc = tc_detail_set(d, TC_ERR_TOO_BIG, -1, NULL, "path too long");
        goto fail;
    }
    if (access(b->mosquitto, X_OK) != 0) {
        rc = tc_detail_set(d, TC_ERR_BROKER_SPAWN, -1, "mosquitto", "%s: %s",
                           b->mosquitto, strerror(errno));
        goto fail;
    }
    rc = path_join(dir, sizeof(dir), c->data_dir, "broker");
    if (rc == TC_OK) {
        rc = tc_mkdir_p(dir, 0755, d);
    }
    if (rc != TC_OK) {
        goto fail;
    }

    /* The trust directory from the registry as it is now; the event log
     * position is taken first so no registration falls in between. */
    rc = tc_registry_open(b->registry, &b->reg, d);
    if (rc == TC_OK) {
        rc = tc_registry_events_max_seq(b->reg, &b->seq, d);
    }
    if (rc == TC_OK) {
        rc = tc_broker_trust_sync(b->reg, b->capath, b->ca_file, b->anchors, 1,
                                  NULL, d);
    }
    if (rc == TC_OK) {
        rc = tc_broker_write_config(c, b->conf, d);
    }
    if (rc != TC_OK) {
        goto fail;
    }
    tc_broker_raise_nofile(TC_BROKER_NOFILE, NULL);
    b->backoff = 0.0;
    rc = spawn(b, d);
    if (rc != TC_OK) {
        goto fail;
    }
    *out = b;
    return TC_OK;

fail:
    tc_registry_close(b->reg);
    free(b);
    return rc;
}

/* Event log filter: does this change touch the trust store? */
static int
trust_event(void *arg, const struct tc_reg_event *ev)
{
    int *hit = arg;

    if (strncmp(ev->kind, "cacertificate.", 14) == 0 ||
        strcmp(ev->kind, "certificate.register") == 0) {
        *hit = 1;
    }
    return 0;
}

int
tc_broker_poll(struct tc_broker *b, struct tc_broker_status *st,
               struct tc_detail *d)
{
    struct tc_broker_status local;
    int status = 0;
    int hit = 0;
    int rc = TC_OK;
    pid_t r;

    if (st == NULL) {
        st = &local;
    }
    memset(st, 0, sizeof(*st));

    /* Reap an ended child and schedule its restart: at once the first
     * time, then with a doubling delay while it dies young. */
    if (b->pid > 0) {
        r = waitpid(b->pid, &status, WNOHANG);
        /* Another part of the program may reap every child (the API's
         * signal loop does): then the pid is gone, status unknown. */
        if (r < 0 && errno == ECHILD) {
            r = b->pid;
            status = -1;
        }
        if (r == b->pid) {
            st->exited = 1;
            st->exit_status = status;
            b->pid = 0;
            if (tc_monotonic() - b->started > 10.0) {
                b->backoff = 0.0;
            }
            b->restart_at = tc_monotonic() + b->backoff;
            b->backoff = b->backoff == 0.0       ? 1.0
                         : b->backoff * 2 > 30.0 ? 30.0
                                                 : b->backoff * 2;
        }
    }
    if (b->pid == 0 && tc_monotonic() >= b->restart_at) {
        rc = spawn(b, d);
        if (rc == TC_OK) {
            b->restarts++;
            st->restarted = 1;
        } else {
            b->restart_at = tc_monotonic() + b->backoff;
        }
    }

    /* New CAs (or certificates registered with their chain) become
     * trusted files before the next handshake needs them. */
    if (tc_registry_events_since(b->reg, b->seq, 1000, trust_event, &hit,
                                 &b->seq, d) == TC_OK &&
        hit) {
        int r2 = tc_broker_trust_sync(b->reg, b->capath, b->ca_file, b->anchors,
                                      0, &st->trust_added, d);
        if (rc == TC_OK) {
            rc = r2;
        }
    }
    st->pid = b->pid;
    st->restarts = b->restarts;
    return rc;
}

pid_t
tc_broker_pid(const struct tc_broker *b)
{
    return b != NULL ? b->pid : 0;
}

int
tc_broker_reload(struct tc_broker *b)
{
    if (b == NULL || b->pid <= 0 || kill(b->pid, SIGHUP) != 0) {
        return TC_ERR_ARG;
    }
    return TC_OK;
}

void
tc_broker_stop(struct tc_broker *b)
{
    struct timespec ts = {0, 20 * 1000 * 1000};
    double until;
    int status;

    if (b == NULL) {
        return;
    }
    if (b->pid > 0) {
        kill(b->pid, SIGTERM);
        until = tc_monotonic() + 5.0;
        while (waitpid(b->pid, &status, WNOHANG) == 0) {
            if (tc_monotonic() > until) {
                kill(b->pid, SIGKILL);
                waitpid(b->pid, &status, 0);
                break;
            }
            nanosleep(&ts, NULL);
        }
    }
    tc_registry_close(b->reg);
    free(b);
}
