// SPDX-License-Identifier: Apache-2.0
/*
 * The data directory: creating the configuration, the admin access key,
 * the local CA and the API's server certificate on first run, and loading
 * them later. It writes every file atomically with its final mode, so a
 * secret is never readable by others, not even for a moment.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "thingcore/datadir.h"
#include "thingcore/json.h"
#include "thingcore/pki.h"
#include "thingcore/util.h"

#define CONFIG_MAX 16384
#define CRED_MAX 4096

int
tc_datadir_default_path(const char *explicit_path, char *out, size_t cap,
                        struct tc_detail *d)
{
    const char *env = getenv("THINGCORE_DATA");
    const char *xdg = getenv("XDG_DATA_HOME");
    const char *home = getenv("HOME");
    int n;

    if (explicit_path != NULL && explicit_path[0] != '\0') {
        n = snprintf(out, cap, "%s", explicit_path);
    } else if (env != NULL && env[0] != '\0') {
        n = snprintf(out, cap, "%s", env);
    } else if (xdg != NULL && xdg[0] == '/') {
        n = snprintf(out, cap, "%s/thingcore", xdg);
    } else if (home != NULL && home[0] != '\0') {
        n = snprintf(out, cap, "%s/.local/share/thingcore", home);
    } else {
        return tc_detail_set(d, TC_ERR_API_DATADIR, -1, "--data",
                             "no --data, THINGCORE_DATA, XDG_DATA_HOME "
                             "or HOME to place the data directory");
    }
    if (n < 0 || (size_t)n >= cap) {
        return tc_detail_set(d, TC_ERR_TOO_BIG, -1, "--data",
                             "data directory path too long");
    }
    return TC_OK;
}

int
tc_datadir_file(const struct tc_datadir *dd, const char *name, char *out,
                size_t cap)
{
    int n = snprintf(out, cap, "%s/%s", dd->path, name);

    return n < 0 || (size_t)n >= cap ? TC_ERR_TOO_BIG : TC_OK;
}

static int
exists(const char *path)
{
    struct stat st;

    return stat(path, &st) == 0;
}

/* Random text from an alphabet, using rejection so every character is
 * equally likely. */
static int
random_text(char *out, size_t n, const char *alphabet)
{
    size_t na = strlen(alphabet);
    size_t limit = 256 - 256 % na;
    size_t i = 0;

    while (i < n) {
        unsigned char r[64];
        size_t k;

        if (RAND_bytes(r, sizeof(r)) != 1) {
            return TC_ERR_CRYPTO;
        }
        for (k = 0; k < sizeof(r) && i < n; k++) {
            if (r[k] < limit) {
                out[i++] = alphabet[r[k] % na];
            }
        }
        OPENSSL_cleanse(r, sizeof(r));
    }
    out[n] = '\0';
    return TC_OK;
}

/* Region: 1-32 of [a-z0-9-]; host: a DNS name or an IP literal. */
static int
check_region(const char *s)
{
    size_t n = strlen(s);
    size_t i;

    if (n == 0 || n > 32) {
        return 0;
    }
    for (i = 0; i < n; i++) {
        if (!(islower((unsigned char)s[i]) || isdigit((unsigned char)s[i]) ||
              s[i] == '-')) {
            return 0;
        }
    }
    return 1;
}

static int
check_host(const char *s)
{
    size_t n = strlen(s);
    size_t i;

    if (n == 0 || n >= TC_DATADIR_HOST_MAX) {
        return 0;
    }
    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];

        if (!(isalnum(c) || c == '-' || c == '.' || c == ':')) {
            return 0;
        }
    }
    return 1;
}

/* Read and check config.json into dd. */
static int
load_config(struct tc_datadir *dd, struct tc_detail *d)
{
    char path[TC_DATADIR_PATH_MAX + 32];
    struct tc_buf b;
    json_t *j = NULL;
    const char *region;
    const char *account;
    const char *host;
    json_int_t api;
    json_int_t mqtt;
    size_t i;
    int err = TC_OK;
    int rc;

    tc_buf_init(&b, CONFIG_MAX);
    tc_datadir_file(dd, TC_DATADIR_CONFIG, path, sizeof(path));
    rc = tc_file_read(path, &b, d);
    if (rc != TC_OK) {
        rc = tc_detail_set(d, TC_ERR_API_DATADIR, -1, "config",
                           "cannot read %s (run 'thingcore up' first)",
                           path);
        goto cleanup;
    }
    j = tc_json_parse((const char *)b.data, b.len, CONFIG_MAX, 4, &err, d);
    if (j == NULL) {
        rc = tc_detail_set(d, TC_ERR_API_DATADIR, -1, "config",
                           "%s is not valid JSON", path);
        goto cleanup;
    }
    region = tc_json_str(j, "region");
    account = tc_json_str(j, "account");
    host = tc_json_str(j, "endpoint_host");
    api = json_integer_value(json_object_get(j, "api_port"));
    mqtt = json_integer_value(json_object_get(j, "mqtt_port"));
    rc = TC_ERR_API_CONFIG;
    if (region == NULL || !check_region(region)) {
        rc = tc_detail_set(d, rc, -1, "region", "%s: bad region", path);
        goto cleanup;
    }
    if (account == NULL || strlen(account) != 12) {
        rc = tc_detail_set(d, rc, -1, "account", "%s: account is not 12 "
                           "digits", path);
        goto cleanup;
    }
    for (i = 0; i < 12; i++) {
        if (!isdigit((unsigned char)account[i])) {
            rc = tc_detail_set(d, rc, -1, "account", "%s: account is not "
                               "12 digits", path);
            goto cleanup;
        }
    }
    if (host == NULL || !check_host(host)) {
        rc = tc_detail_set(d, rc, -1, "endpoint_host", "%s: bad host", path);
        goto cleanup;
    }
    if (api < 1 || api > 65535 || mqtt < 1 || mqtt > 65535) {
        rc = tc_detail_set(d, rc, -1, "api_port", "%s: ports must be "
                           "1-65535", path);
        goto cleanup;
    }
    snprintf(dd->region, sizeof(dd->region), "%s", region);
    snprintf(dd->account, sizeof(dd->account), "%s", account);
    snprintf(dd->endpoint_host, sizeof(dd->endpoint_host), "%s", host);
    dd->api_port = (int)api;
    dd->mqtt_port = (int)mqtt;
    rc = TC_OK;

cleanup:
    json_decref(j);
    tc_buf_clear(&b, 0);
    return rc;
}

static int
write_config(const struct tc_datadir *dd, struct tc_detail *d)
{
    char path[TC_DATADIR_PATH_MAX + 32];
    json_t *j = json_pack("{s:s, s:s, s:s, s:i, s:i}", "region", dd->region,
                          "account", dd->account, "endpoint_host",
                          dd->endpoint_host, "api_port", dd->api_port,
                          "mqtt_port", dd->mqtt_port);
    char *text = j != NULL ? json_dumps(j, JSON_INDENT(2)) : NULL;
    struct tc_buf b;
    int rc = TC_ERR_NOMEM;

    tc_buf_init(&b, CONFIG_MAX);
    if (text != NULL && tc_buf_printf(&b, "%s\n", text) == TC_OK) {
        tc_datadir_file(dd, TC_DATADIR_CONFIG, path, sizeof(path));
        rc = tc_file_write_atomic(path, b.data, b.len, 0644, d);
    }
    tc_buf_clear(&b, 0);
    free(text);
    json_decref(j);
    return rc;
}

/*
 * The credentials file, in the AWS shared-credentials format so that
 * AWS_SHARED_CREDENTIALS_FILE may point at it:
 *
 *   [default]
 *   aws_access_key_id = AKIA...
 *   aws_secret_access_key = ...
 *
 * Only the [default] profile is read; other lines are ignored.
 */
static int
load_credentials(struct tc_datadir *dd, struct tc_detail *d)
{
    char path[TC_DATADIR_PATH_MAX + 32];
    struct tc_buf b;
    char *line;
    char *save = NULL;
    int in_default = 0;
    int rc;

    tc_buf_init(&b, CRED_MAX);
    tc_datadir_file(dd, TC_DATADIR_CREDENTIALS, path, sizeof(path));
    rc = tc_file_read(path, &b, d);
    if (rc != TC_OK) {
        rc = tc_detail_set(d, TC_ERR_API_DATADIR, -1, "credentials",
                           "cannot read %s", path);
        goto cleanup;
    }
    for (line = strtok_r((char *)b.data, "\n", &save); line != NULL;
         line = strtok_r(NULL, "\n", &save)) {
        char key[64];
        char *eq = strchr(line, '=');
        char *v;
        size_t kl;

        line[strcspn(line, "\r")] = '\0';
        if (line[0] == '[') {
            in_default = strcmp(line, "[default]") == 0;
            continue;
        }
        if (!in_default || eq == NULL) {
            continue;
        }
        kl = (size_t)(eq - line);
        while (kl > 0 && line[kl - 1] == ' ') {
            kl--;
        }
        snprintf(key, sizeof(key), "%.*s", (int)kl, line);
        v = eq + 1;
        while (*v == ' ') {
            v++;
        }
        if (strcmp(key, "aws_access_key_id") == 0) {
            snprintf(dd->access_key_id, sizeof(dd->access_key_id), "%s", v);
        } else if (strcmp(key, "aws_secret_access_key") == 0) {
            snprintf(dd->secret, sizeof(dd->secret), "%s", v);
        }
    }
    if (dd->access_key_id[0] == '\0' || strlen(dd->secret) < 16) {
        rc = tc_detail_set(d, TC_ERR_API_DATADIR, -1, "credentials",
                           "%s has no [default] access key and secret",
                           path);
        goto cleanup;
    }
    rc = TC_OK;

cleanup:
    tc_buf_clear(&b, 1);
    return rc;
}

static int
create_credentials(struct tc_datadir *dd, struct tc_detail *d)
{
    static const char key_alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    static const char secret_alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    char path[TC_DATADIR_PATH_MAX + 32];
    char text[256];
    char tail[17];
    char secret[41];
    int n;
    int rc;

    /* AKIA plus 16 characters, like AWS's long-term key ids; a 40-character
     * secret carries 240 bits. */
    rc = random_text(tail, 16, key_alphabet);
    if (rc == TC_OK) {
        rc = random_text(secret, 40, secret_alphabet);
    }
    if (rc != TC_OK) {
        return tc_detail_set(d, rc, -1, "credentials", "no randomness");
    }
    n = snprintf(text, sizeof(text),
                 "[default]\naws_access_key_id = AKIA%s\n"
                 "aws_secret_access_key = %s\n",
                 tail, secret);
    tc_datadir_file(dd, TC_DATADIR_CREDENTIALS, path, sizeof(path));
    rc = tc_file_write_atomic(path, text, (size_t)n, 0600, d);
    OPENSSL_cleanse(text, sizeof(text));
    OPENSSL_cleanse(secret, sizeof(secret));
    return rc;
}

/* Write a key (0600) and a certificate (0644) beside each other. */
static int
write_pair(const struct tc_datadir *dd, const char *key_name,
           const char *cert_name, EVP_PKEY *key, X509 *cert,
           struct tc_detail *d)
{
    char path[TC_DATADIR_PATH_MAX + 32];
    struct tc_buf kb;
    struct tc_buf cb;
    int rc;

    tc_buf_init(&kb, 1 << 16);
    tc_buf_init(&cb, 1 << 16);
    rc = tc_pki_key_to_pem(key, &kb, d);
    if (rc == TC_OK) {
        rc = tc_pki_cert_to_pem(cert, &cb, d);
    }
    if (rc == TC_OK) {
        tc_datadir_file(dd, key_name, path, sizeof(path));
        rc = tc_file_write_atomic(path, kb.data, kb.len, 0600, d);
    }
    if (rc == TC_OK) {
        tc_datadir_file(dd, cert_name, path, sizeof(path));
        rc = tc_file_write_atomic(path, cb.data, cb.len, 0644, d);
    }
    tc_buf_clear(&kb, 1);
    tc_buf_clear(&cb, 0);
    return rc;
}

/* The local CA (ten years) and, signed by it, the API server certificate
 * (two years) for localhost, 127.0.0.1, ::1 and the endpoint host. */
static int
create_pki(const struct tc_datadir *dd, struct tc_datadir_created *made,
           struct tc_detail *d)
{
    char kpath[TC_DATADIR_PATH_MAX + 32];
    char cpath[TC_DATADIR_PATH_MAX + 32];
    EVP_PKEY *ca_key = NULL;
    X509 *ca = NULL;
    EVP_PKEY *key = NULL;
    X509 *cert = NULL;
    char cn[128];
    int rc;

    tc_datadir_file(dd, TC_DATADIR_CA_KEY, kpath, sizeof(kpath));
    tc_datadir_file(dd, TC_DATADIR_CA_CERT, cpath, sizeof(cpath));
    if (!exists(kpath) || !exists(cpath)) {
        struct tc_pki_cert_spec spec = {0};

        snprintf(cn, sizeof(cn), "thingcore local CA %s", dd->account);
        spec.common_name = cn;
        spec.organization = "thingcore";
        spec.is_ca = 1;
        spec.days = 3650;
        rc = tc_pki_key_generate(&ca_key, d);
        if (rc == TC_OK) {
            rc = tc_pki_cert_issue(&spec, ca_key, NULL, NULL, &ca, d);
        }
        if (rc == TC_OK) {
            rc = write_pair(dd, TC_DATADIR_CA_KEY, TC_DATADIR_CA_CERT,
                            ca_key, ca, d);
        }
        if (rc != TC_OK) {
            goto cleanup;
        }
        made->ca = 1;
    } else {
        rc = tc_pki_key_read(kpath, &ca_key, d);
        if (rc == TC_OK) {
            rc = tc_pki_cert_read(cpath, &ca, d);
        }
        if (rc != TC_OK) {
            goto cleanup;
        }
    }

    tc_datadir_file(dd, TC_DATADIR_API_KEY, kpath, sizeof(kpath));
    tc_datadir_file(dd, TC_DATADIR_API_CERT, cpath, sizeof(cpath));
    if (made->ca || !exists(kpath) || !exists(cpath)) {
        const char *dns[2] = {"localhost", dd->endpoint_host};
        const char *ips[3] = {"127.0.0.1", "::1", dd->endpoint_host};
        /* Digits, dots and colons only: an IP literal goes in as IP. */
        int host_is_ip = strspn(dd->endpoint_host, "0123456789.:") ==
                         strlen(dd->endpoint_host);
        int same = strcmp(dd->endpoint_host, "localhost") == 0 ||
                   strcmp(dd->endpoint_host, "127.0.0.1") == 0 ||
                   strcmp(dd->endpoint_host, "::1") == 0;
        struct tc_pki_cert_spec spec = {0};

        spec.common_name = dd->endpoint_host;
        spec.organization = "thingcore";
        spec.dns_names = dns;
        spec.n_dns = same || host_is_ip ? 1 : 2;
        spec.ip_addresses = ips;
        spec.n_ip = same || !host_is_ip ? 2 : 3;
        spec.server_auth = 1;
        spec.days = 730;
        rc = tc_pki_key_generate(&key, d);
        if (rc == TC_OK) {
            rc = tc_pki_cert_issue(&spec, key, ca, ca_key, &cert, d);
        }
        if (rc == TC_OK) {
            rc = write_pair(dd, TC_DATADIR_API_KEY, TC_DATADIR_API_CERT, key,
                            cert, d);
        }
        if (rc != TC_OK) {
            goto cleanup;
        }
        made->server_cert = 1;
    }
    rc = TC_OK;

cleanup:
    EVP_PKEY_free(ca_key);
    X509_free(ca);
    EVP_PKEY_free(key);
    X509_free(cert);
    return rc;
}

int
tc_datadir_create(const char *path, const struct tc_datadir_options *o,
                  struct tc_datadir *out, struct tc_datadir_created *created,
                  struct tc_detail *d)
{
    struct tc_datadir_created made = {0};
    char file[TC_DATADIR_PATH_MAX + 32];
    char sub[TC_DATADIR_PATH_MAX + 32];
    int changed = 0;
    int rc;

    memset(out, 0, sizeof(*out));
    if (strlen(path) >= sizeof(out->path) - 32) {
        return tc_detail_set(d, TC_ERR_TOO_BIG, -1, "--data",
                             "data directory path too long");
    }
    snprintf(out->path, sizeof(out->path), "%s", path);
    if (o != NULL && o->region != NULL && !check_region(o->region)) {
        return tc_detail_set(d, TC_ERR_API_CONFIG, -1, "region",
                             "region must be 1-32 of a-z, 0-9 and '-'");
    }
    if (o != NULL && o->endpoint_host != NULL &&
        !check_host(o->endpoint_host)) {
        return tc_detail_set(d, TC_ERR_API_CONFIG, -1, "endpoint-host",
                             "not a host name or IP address");
    }

    /* Folders first, private to the owner. */
    made.directory = !exists(path);
    rc = tc_mkdir_p(path, 0700, d);
    if (rc == TC_OK) {
        snprintf(sub, sizeof(sub), "%s/ca", path);
        rc = tc_mkdir_p(sub, 0700, d);
    }
    if (rc == TC_OK) {
        snprintf(sub, sizeof(sub), "%s/api", path);
        rc = tc_mkdir_p(sub, 0700, d);
    }
    if (rc != TC_OK) {
        goto cleanup;
    }

    /* Configuration: defaults and a random account on first run; options
     * given now replace what is stored. */
    tc_datadir_file(out, TC_DATADIR_CONFIG, file, sizeof(file));
    if (!exists(file)) {
        char digits[13];

        rc = random_text(digits, 12, "0123456789");
        if (rc != TC_OK) {
            goto cleanup;
        }
        if (digits[0] == '0') {
            digits[0] = '1';
        }
        snprintf(out->account, sizeof(out->account), "%s", digits);
        snprintf(out->region, sizeof(out->region), "%s",
                 TC_DATADIR_DEFAULT_REGION);
        snprintf(out->endpoint_host, sizeof(out->endpoint_host), "localhost");
        out->api_port = TC_DATADIR_DEFAULT_API_PORT;
        out->mqtt_port = TC_DATADIR_DEFAULT_MQTT_PORT;
        made.config = 1;
        changed = 1;
    } else {
        rc = load_config(out, d);
        if (rc != TC_OK) {
            goto cleanup;
        }
    }
    if (o != NULL) {
        if (o->region != NULL && strcmp(o->region, out->region) != 0) {
            snprintf(out->region, sizeof(out->region), "%s", o->region);
            changed = 1;
        }
        if (o->endpoint_host != NULL &&
            strcmp(o->endpoint_host, out->endpoint_host) != 0) {
            snprintf(out->endpoint_host, sizeof(out->endpoint_host), "%s",
                     o->endpoint_host);
            changed = 1;
        }
        if (o->api_port > 0 && o->api_port != out->api_port) {
            out->api_port = o->api_port;
            changed = 1;
        }
        if (o->mqtt_port > 0 && o->mqtt_port != out->mqtt_port) {
            out->mqtt_port = o->mqtt_port;
            changed = 1;
        }
    }
    if (changed) {
        rc = write_config(out, d);
        if (rc != TC_OK) {
            goto cleanup;
        }
    }

    tc_datadir_file(out, TC_DATADIR_CREDENTIALS, file, sizeof(file));
    if (!exists(file)) {
        rc = create_credentials(out, d);
        if (rc != TC_OK) {
            goto cleanup;
        }
        made.credentials = 1;
    }
    rc = create_pki(out, &made, d);
    if (rc != TC_OK) {
        goto cleanup;
    }
    rc = tc_datadir_load(path, out, d);

cleanup:
    if (created != NULL) {
        *created = made;
    }
    if (rc != TC_OK) {
        tc_datadir_clear(out);
    }
    return rc;
}

int
tc_datadir_load(const char *path, struct tc_datadir *out,
                struct tc_detail *d)
{
    char file[TC_DATADIR_PATH_MAX + 32];
    static const char *const needed[] = {
        TC_DATADIR_CA_CERT, TC_DATADIR_API_KEY, TC_DATADIR_API_CERT,
    };
    size_t i;
    int rc;

    memset(out, 0, sizeof(*out));
    if (strlen(path) >= sizeof(out->path) - 32) {
        return tc_detail_set(d, TC_ERR_TOO_BIG, -1, "--data",
                             "data directory path too long");
    }
    snprintf(out->path, sizeof(out->path), "%s", path);
    rc = load_config(out, d);
    if (rc == TC_OK) {
        rc = load_credentials(out, d);
    }
    for (i = 0; rc == TC_OK && i < sizeof(needed) / sizeof(needed[0]); i++) {
        tc_datadir_file(out, needed[i], file, sizeof(file));
        if (!exists(file)) {
            rc = tc_detail_set(d, TC_ERR_API_DATADIR, -1, needed[i],
                               "%s is missing (run 'thingcore up')", file);
        }
    }
    if (rc != TC_OK) {
        tc_datadir_clear(out);
    }
    return rc;
}

void
tc_datadir_clear(struct tc_datadir *dd)
{
    if (dd == NULL) {
        return;
    }
    OPENSSL_cleanse(dd->secret, sizeof(dd->secret));
    memset(dd, 0, sizeof(*dd));
}

int
tc_datadir_secret_lookup(void *arg, const char *access_key_id, char *secret,
                         size_t cap)
{
    const struct tc_datadir *dd = arg;
    size_t a = strlen(access_key_id);

    /* The key id is public; comparing it in constant time still costs
     * nothing and leaks nothing about which prefix matched. */
    if (a != strlen(dd->access_key_id) ||
        CRYPTO_memcmp(access_key_id, dd->access_key_id, a) != 0) {
        return TC_ERR_NOT_FOUND;
    }
    if (strlen(dd->secret) >= cap) {
        return TC_ERR_TOO_BIG;
    }
    snprintf(secret, cap, "%s", dd->secret);
    return TC_OK;
}
