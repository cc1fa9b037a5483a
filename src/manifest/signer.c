// SPDX-License-Identifier: Apache-2.0
/*
 * The local manifest signer: a P-256 key and a self-signed CA certificate
 * kept in the user's configuration folder and reused by every later run,
 * so registering a second chip never invalidates the first one's manifest.
 * It does not register the certificate anywhere; that is the caller's job.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include "internal.h"

/* A PEM key or certificate is a few hundred bytes; refuse anything huge. */
#define PEM_MAX (64 * 1024)

void
tc_manifest_signer_free(struct tc_manifest_signer *s)
{
    if (s == NULL) {
        return;
    }
    EVP_PKEY_free(s->key);
    X509_free(s->cert);
    OPENSSL_free(s->der);
    free(s);
}

const char *
tc_manifest_signer_kid(const struct tc_manifest_signer *s)
{
    return s->kid;
}

const char *
tc_manifest_signer_x5t(const struct tc_manifest_signer *s)
{
    return s->x5t;
}

int
tc_manifest_signer_load(const char *key_path, const char *cert_path,
                        struct tc_manifest_signer **out, struct tc_detail *d)
{
    int rc = TC_ERR_INTERNAL;
    struct tc_buf kb;
    struct tc_buf cb;
    struct tc_manifest_signer *s = NULL;
    BIO *bio = NULL;
    uint8_t xy[64];
    int len;

    *out = NULL;
    tc_buf_init(&kb, PEM_MAX);
    tc_buf_init(&cb, PEM_MAX);
    rc = tc_file_read(key_path, &kb, d);
    if (rc != TC_OK) {
        goto out;
    }
    rc = tc_file_read(cert_path, &cb, d);
    if (rc != TC_OK) {
        goto out;
    }
    s = calloc(1, sizeof(*s));
    if (s == NULL) {
        rc = TC_ERR_NOMEM;
        goto out;
    }

    /* The key, then the certificate, each from its PEM text. */
    bio = BIO_new_mem_buf(kb.data, (int)kb.len);
    s->key = bio != NULL ? PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL)
                         : NULL;
    BIO_free(bio);
    if (s->key == NULL) {
        rc = tc_detail_set(d, TC_ERR_PARSE, -1, "signer-key",
                           "%s: no PEM private key", key_path);
        goto out;
    }
    bio = BIO_new_mem_buf(cb.data, (int)cb.len);
    s->cert = bio != NULL ? PEM_read_bio_X509(bio, NULL, NULL, NULL) : NULL;
    BIO_free(bio);
    if (s->cert == NULL) {
        rc = tc_detail_set(d, TC_ERR_PARSE, -1, "signer-cert",
                           "%s: no PEM certificate", cert_path);
        goto out;
    }

    /* ES256 needs P-256, and the key must be the certificate's. */
    rc = tc_mf_cert_xy(s->cert, xy, d);
    if (rc != TC_OK) {
        goto out;
    }
    if (EVP_PKEY_eq(s->key, X509_get0_pubkey(s->cert)) != 1) {
        rc = tc_detail_set(d, TC_ERR_MANIFEST_SIGNER_KEY, -1, "signer-key",
                           "%s is not the key of %s", key_path, cert_path);
        goto out;
    }
    rc = tc_mf_cert_kid(s->cert, s->kid, d);
    if (rc != TC_OK) {
        goto out;
    }
    len = i2d_X509(s->cert, &s->der);
    if (len <= 0) {
        rc = tc_detail_set(d, TC_ERR_CRYPTO, -1, "signer-cert",
                           "cannot encode the certificate");
        goto out;
    }
    s->der_len = (size_t)len;
    tc_mf_x5t(s->der, s->der_len, s->x5t);
    *out = s;
    s = NULL;
    rc = TC_OK;
out:
    ERR_clear_error();
    tc_manifest_signer_free(s);
    tc_buf_clear(&kb, 1);
    tc_buf_clear(&cb, 0);
    return rc;
}

int
tc_manifest_signer_default_dir(char *out, size_t cap, struct tc_detail *d)
{
    const char *xdg = getenv("XDG_CONFIG_HOME");
    const char *home = getenv("HOME");
    int n;

    /* XDG says a relative XDG_CONFIG_HOME is invalid and must be ignored. */
    if (xdg != NULL && xdg[0] == '/') {
        n = snprintf(out, cap, "%s/thingcore/manifest-signer", xdg);
    } else if (home != NULL && home[0] != '\0') {
        n = snprintf(out, cap, "%s/.config/thingcore/manifest-signer", home);
    } else {
        return tc_detail_set(d, TC_ERR_NOT_FOUND, -1, "HOME",
                             "neither XDG_CONFIG_HOME nor HOME is set");
    }
    if (n < 0 || (size_t)n >= cap) {
        return tc_detail_set(d, TC_ERR_TOO_BIG, -1, "HOME",
                             "configuration path too long");
    }
    return TC_OK;
}

/* Add one X.509v3 extension given in openssl.cnf syntax. */
static int
add_ext(X509 *x, int nid, const char *value)
{
    X509V3_CTX ctx;
    X509_EXTENSION *ext;
    int ok;

    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, x, x, NULL, NULL, 0);
    ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
    if (ext == NULL) {
        return 0;
    }
    ok = X509_add_ext(x, ext, -1);
    X509_EXTENSION_free(ext);
    return ok;
}

/* A self-signed CA certificate for key, CN=cn, valid days days. */
static X509 *
make_cert(EVP_PKEY *key, const char *cn, int days)
{
    X509 *x = X509_new();
    X509_NAME *name = X509_NAME_new();
    BIGNUM *bn = NULL;
    uint8_t serial[16];
    int ok = 0;

    if (x == NULL || name == NULL || RAND_bytes(serial, 16) != 1) {
        goto out;
    }

    /* A positive 127-bit random serial number (RFC 5280 4.1.2.2). */
    serial[0] = (uint8_t)((serial[0] & 0x7f) | 0x40);
    bn = BN_bin2bn(serial, 16, NULL);
    if (bn == NULL || BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) ==
                          NULL) {
        goto out;
    }
    if (X509_set_version(x, 2) != 1 ||
        X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                                   (const unsigned char *)cn, -1, -1,
                                   0) != 1 ||
        X509_set_subject_name(x, name) != 1 ||
        X509_set_issuer_name(x, name) != 1 ||
        X509_gmtime_adj(X509_getm_notBefore(x), 0) == NULL ||
        X509_time_adj_ex(X509_getm_notAfter(x), days, 0, NULL) == NULL ||
        X509_set_pubkey(x, key) != 1) {
        goto out;
    }

    /* SKI before AKI: the AKI copies the SKI of this same certificate. */
    if (!add_ext(x, NID_basic_constraints, "critical,CA:TRUE") ||
        !add_ext(x, NID_key_usage,
                 "critical,digitalSignature,keyCertSign,cRLSign") ||
        !add_ext(x, NID_subject_key_identifier, "hash") ||
        !add_ext(x, NID_authority_key_identifier, "keyid:always")) {
        goto out;
    }
    ok = X509_sign(x, key, EVP_sha256()) > 0;
out:
    BN_free(bn);
    X509_NAME_free(name);
    if (!ok) {
        X509_free(x);
        return NULL;
    }
    return x;
}

/* PEM text of a key or certificate into b. */
static int
pem_of(EVP_PKEY *key, X509 *cert, struct tc_buf *b)
{
    BIO *bio = BIO_new(BIO_s_mem());
    char *p;
    long n;
    int ok;
    int rc = TC_ERR_CRYPTO;

    if (bio == NULL) {
        return TC_ERR_NOMEM;
    }
    if (key != NULL) {
        ok = PEM_write_bio_PrivateKey(bio, key, NULL, NULL, 0, NULL, NULL);
    } else {
        ok = PEM_write_bio_X509(bio, cert);
    }
    n = BIO_get_mem_data(bio, &p);
    if (ok == 1 && n > 0) {
        rc = tc_buf_append(b, p, (size_t)n);
    }
    if (n > 0) {
        OPENSSL_cleanse(p, (size_t)n);
    }
    BIO_free(bio);
    return rc;
}

int
tc_manifest_signer_generate(const char *dir, const char *cn, int days,
                            int force, struct tc_detail *d)
{
    int rc = TC_ERR_INTERNAL;
    char kpath[4096];
    char cpath[4096];
    EVP_PKEY *key = NULL;
    X509 *cert = NULL;
    struct tc_buf kb;
    struct tc_buf cb;

    tc_buf_init(&kb, PEM_MAX);
    tc_buf_init(&cb, PEM_MAX);
    if (cn == NULL || cn[0] == '\0' || strlen(cn) > 64 || days <= 0) {
        rc = tc_detail_set(d, TC_ERR_ARG, -1, "cn",
                           "CN must be 1-64 characters and days positive");
        goto out;
    }
    if (snprintf(kpath, sizeof(kpath), "%s/%s", dir,
                 TC_MANIFEST_SIGNER_KEY_FILE) >= (int)sizeof(kpath) ||
        snprintf(cpath, sizeof(cpath), "%s/%s", dir,
                 TC_MANIFEST_SIGNER_CERT_FILE) >= (int)sizeof(cpath)) {
        rc = tc_detail_set(d, TC_ERR_TOO_BIG, -1, "dir", "path too long");
        goto out;
    }

    /* Replacing a signer orphans its manifests: only when asked to. */
    if (!force && (access(kpath, F_OK) == 0 || access(cpath, F_OK) == 0)) {
        rc = tc_detail_set(d, TC_ERR_EXISTS, -1, "dir",
                           "a manifest signer already exists in %s; "
                           "replacing it invalidates the manifests it "
                           "signed (use --force to replace it)", dir);
        goto out;
    }
    rc = tc_mkdir_p(dir, 0700, d);
    if (rc != TC_OK) {
        goto out;
    }

    key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    cert = key != NULL ? make_cert(key, cn, days) : NULL;
    if (cert == NULL) {
        rc = tc_detail_set(d, TC_ERR_CRYPTO, -1, "signer",
                           "cannot make the signer key and certificate");
        goto out;
    }
    rc = pem_of(key, NULL, &kb);
    if (rc == TC_OK) {
        rc = pem_of(NULL, cert, &cb);
    }
    if (rc != TC_OK) {
        rc = tc_detail_set(d, rc, -1, "signer", "cannot encode PEM");
        goto out;
    }

    /* The key first, private to the user; then the certificate. */
    rc = tc_file_write_atomic(kpath, kb.data, kb.len, 0600, d);
    if (rc == TC_OK) {
        rc = tc_file_write_atomic(cpath, cb.data, cb.len, 0644, d);
    }
out:
    ERR_clear_error();
    EVP_PKEY_free(key);
    X509_free(cert);
    tc_buf_clear(&kb, 1);
    tc_buf_clear(&cb, 0);
    return rc;
}
