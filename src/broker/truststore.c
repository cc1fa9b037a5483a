// SPDX-License-Identifier: Apache-2.0
/*
 * The broker's trust store: a hashed CA directory (capath) that OpenSSL
 * consults at each handshake, so a CA registered while mosquitto runs is
 * trusted at the next connection without a restart. mosquitto verifies
 * client chains to a self-signed anchor, so each registered CA is written
 * with its issuers up to its root. Files are named <X509_NAME_hash>.<n>
 * like `openssl rehash` makes them. Nothing here decides whether a device
 * may connect; the plugin does.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "thingcore/broker.h"
#include "thingcore/cert.h"
#include "thingcore/registry.h"
#include "thingcore/util.h"

/* Enough for every registered CA, its chain and the anchors. */
#define MAX_CERTS 4096

struct pool {
    X509 *v[MAX_CERTS];
    unsigned char md[MAX_CERTS][32];
    size_t n;
};

static void
pool_clear(struct pool *p)
{
    size_t i;

    for (i = 0; i < p->n; i++) {
        X509_free(p->v[i]);
    }
    p->n = 0;
}

static int
pool_find(const struct pool *p, const unsigned char md[32])
{
    size_t i;

    for (i = 0; i < p->n; i++) {
        if (memcmp(p->md[i], md, 32) == 0) {
            return (int)i;
        }
    }
    return -1;
}

/* Add x (reference taken) unless present. Returns 1 added, 0 present. */
static int
pool_add(struct pool *p, X509 *x)
{
    unsigned char md[32];
    unsigned int n = 0;

    if (!X509_digest(x, EVP_sha256(), md, &n) || pool_find(p, md) >= 0 ||
        p->n >= MAX_CERTS) {
        X509_free(x);
        return 0;
    }
    memcpy(p->md[p->n], md, 32);
    p->v[p->n++] = x;
    return 1;
}

/* Every certificate in PEM text (borrowed) into p. */
static void
pool_add_pem(struct pool *p, const char *pem, size_t n)
{
    BIO *bio = BIO_new_mem_buf(pem, (int)n);
    X509 *x;

    while (bio != NULL &&
           (x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL) {
        pool_add(p, x);
    }
    ERR_clear_error();
    BIO_free(bio);
}

static void
pool_add_file(struct pool *p, const char *path)
{
    struct tc_buf b;

    tc_buf_init(&b, TC_REG_PEM_MAX * 4);
    if (tc_file_read(path, &b, NULL) == TC_OK && b.len > 0) {
        pool_add_pem(p, (const char *)b.data, b.len);
    }
    tc_buf_clear(&b, 0);
}

/* Every *.pem / *.crt file of a folder (missing folder: nothing). */
static void
pool_add_dir(struct pool *p, const char *dir)
{
    DIR *dh = opendir(dir);
    struct dirent *e;
    char path[TC_BROKER_PATH_MAX + 300];

    while (dh != NULL && (e = readdir(dh)) != NULL) {
        size_t l = strlen(e->d_name);

        if (l < 5 || (strcmp(e->d_name + l - 4, ".pem") != 0 &&
                      strcmp(e->d_name + l - 4, ".crt") != 0)) {
            continue;
        }
        snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
        pool_add_file(p, path);
    }
    if (dh != NULL) {
        closedir(dh);
    }
}

static int
self_signed(X509 *x)
{
    return X509_check_issued(x, x) == X509_V_OK;
}

/* Whether the file at path holds the certificate with digest md. */
static int
file_holds(const char *path, const unsigned char md[32])
{
    FILE *f = fopen(path, "r");
    X509 *x = NULL;
    unsigned char got[32];
    unsigned int n = 0;
    int same = 0;

    if (f != NULL) {
        x = PEM_read_X509(f, NULL, NULL, NULL);
        fclose(f);
    }
    if (x != NULL && X509_digest(x, EVP_sha256(), got, &n) &&
        memcmp(got, md, 32) == 0) {
        same = 1;
    }
    ERR_clear_error();
    X509_free(x);
    return same;
}

/*
 * Write x into dir as <hash>.<n> unless one of the <hash>.* files holds
 * it already; n is the first free suffix, so the names stay contiguous as
 * OpenSSL's directory lookup expects. *added is incremented on a write.
 */
static int
store(const char *dir, X509 *x, const unsigned char md[32], int *added,
      struct tc_detail *d)
{
    char path[TC_BROKER_PATH_MAX + 32];
    unsigned long h =
        X509_NAME_hash_ex(X509_get_subject_name(x), NULL, NULL, NULL);
    struct stat st;
    BIO *mem = NULL;
    char *data = NULL;
    long len;
    int i;
    int rc = TC_ERR_BROKER_TRUST;

    for (i = 0; i < 1000; i++) {
        snprintf(path, sizeof(path), "%s/%08lx.%d", dir, h, i);
        if (stat(path, &st) != 0) {
            break;
        }
        if (file_holds(path, md)) {
            return TC_OK;
        }
    }
    mem = BIO_new(BIO_s_mem());
    if (mem == NULL || !PEM_write_bio_X509(mem, x)) {
        ERR_clear_error();
        rc = tc_detail_set(d, TC_ERR_CRYPTO, -1, NULL, "cannot encode a CA");
        goto cleanup;
    }
    len = BIO_get_mem_data(mem, &data);
    rc = tc_file_write_atomic(path, data, (size_t)len, 0644, d);
    if (rc == TC_OK && added != NULL) {
        (*added)++;
    }

cleanup:
    BIO_free(mem);
    return rc;
}

/* Remove the hashed files (<8 hex>.<digits>) of dir, nothing else. */
static void
empty_dir(const char *dir)
{
    DIR *dh = opendir(dir);
    struct dirent *e;
    char path[TC_BROKER_PATH_MAX + 300];

    while (dh != NULL && (e = readdir(dh)) != NULL) {
        if (strlen(e->d_name) < 10 || e->d_name[8] != '.' ||
            strspn(e->d_name, "0123456789abcdef") != 8 ||
            strspn(e->d_name + 9, "0123456789") != strlen(e->d_name + 9)) {
            continue;
        }
        snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
        unlink(path);
    }
    if (dh != NULL) {
        closedir(dh);
    }
}

int
tc_broker_trust_sync(struct tc_registry *reg, const char *dir,
                     const char *ca_file, const char *anchors_dir, int rebuild,
                     int *added, struct tc_detail *d)
{
    struct tc_reg_str_list cas;
    struct pool *want = NULL;
    struct pool *anchors = NULL;
    size_t i;
    size_t k;
    int rc = TC_ERR_INTERNAL;

    memset(&cas, 0, sizeof(cas));
    if (added != NULL) {
        *added = 0;
    }
    want = calloc(1, sizeof(*want));
    anchors = calloc(1, sizeof(*anchors));
    if (want == NULL || anchors == NULL) {
        rc = TC_ERR_NOMEM;
        goto cleanup;
    }
    rc = tc_mkdir_p(dir, 0755, d);
    if (rc != TC_OK) {
        goto cleanup;
    }

    /* What must be trusted: active CAs, and the endpoint's own CA. */
    rc = tc_registry_ca_active_pems(reg, &cas, d);
    if (rc != TC_OK) {
        goto cleanup;
    }
    for (i = 0; i < cas.n; i++) {
        pool_add_pem(want, cas.items[i], strlen(cas.items[i]));
    }
    tc_reg_str_list_clear(&cas);

    /* The issuers of certificates registered with their chain. */
    rc = tc_registry_cert_chain_pems(reg, &cas, d);
    if (rc != TC_OK) {
        goto cleanup;
    }
    for (i = 0; i < cas.n; i++) {
        pool_add_pem(want, cas.items[i], strlen(cas.items[i]));
    }
    if (ca_file != NULL) {
        pool_add_file(want, ca_file);
    }

    /* Complete every chain up to a self-signed root. Candidates are the
     * wanted certificates themselves and the explicit anchors. */
    if (anchors_dir != NULL) {
        pool_add_dir(anchors, anchors_dir);
    }

    /* Microchip's root completes the chains of real Trust&GO signers. */
    {
        X509 *mchp = NULL;

        if (tc_cert_microchip_root(&mchp, NULL) == TC_OK) {
            pool_add(anchors, mchp);
        }
    }
    for (i = 0; i < want->n; i++) {
        X509 *x = want->v[i];

        if (self_signed(x)) {
            continue;
        }
        for (k = 0; k < anchors->n; k++) {
            if (X509_check_issued(anchors->v[k], x) == X509_V_OK) {
                X509_up_ref(anchors->v[k]);
                pool_add(want, anchors->v[k]);
                break;
            }
        }
    }

    if (rebuild) {
        empty_dir(dir);
    }
    for (i = 0; i < want->n; i++) {
        rc = store(dir, want->v[i], want->md[i], added, d);
        if (rc != TC_OK) {
            goto cleanup;
        }
    }
    rc = TC_OK;

cleanup:
    tc_reg_str_list_clear(&cas);
    if (want != NULL) {
        pool_clear(want);
    }
    if (anchors != NULL) {
        pool_clear(anchors);
    }
    free(want);
    free(anchors);
    return rc;
}
