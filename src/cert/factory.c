// SPDX-License-Identifier: Apache-2.0
/*
 * The simulated factory: P-256 keys, a labelled simulated root CA, and
 * certificates issued from Microchip's templates with their compressed
 * forms. The factory sees only public keys of chips; the CA keys it signs
 * with belong to the caller.
 */
#include <stdio.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include "cert_int.h"
#include "thingcore/util.h"

/* Turn OpenSSL's error queue into detail text and drain it. */
static int
ossl_fail(struct tc_detail *d, int err, const char *field, const char *what)
{
    return tc_detail_ossl(d, err, field, what);
}

int
tc_cert_key_generate(EVP_PKEY **out, struct tc_detail *d)
{
    if (out == NULL) {
        return tc_detail_set(d, TC_ERR_ARG, -1, NULL, "NULL argument");
    }
    *out = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    if (*out == NULL) {
        return ossl_fail(d, TC_ERR_CRYPTO, "key", "P-256 key generation");
    }
    return TC_OK;
}

int
tc_cert_key_public(EVP_PKEY *key, uint8_t *pub, struct tc_detail *d)
{
    BIGNUM *x = NULL;
    BIGNUM *y = NULL;
    char group[32];
    int rc = TC_ERR_CERT_KEY;

    if (key == NULL || pub == NULL) {
        return tc_detail_set(d, TC_ERR_ARG, -1, NULL, "NULL argument");
    }
    if (EVP_PKEY_get_base_id(key) != EVP_PKEY_EC ||
        EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME,
                                       group, sizeof(group), NULL) != 1 ||
        strcmp(group, "prime256v1") != 0) {
        ERR_clear_error();
        return tc_detail_set(d, TC_ERR_CERT_KEY, -1, "key",
                             "not a P-256 key");
    }

    /* X and Y as numbers: independent of the key's point format. */
    if (EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_EC_PUB_X, &x) != 1 ||
        EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_EC_PUB_Y, &y) != 1 ||
        BN_bn2binpad(x, pub, 32) != 32 || BN_bn2binpad(y, pub + 32, 32) != 32) {
        rc = ossl_fail(d, TC_ERR_CERT_KEY, "key", "no public point");
        goto cleanup;
    }
    rc = TC_OK;

cleanup:
    BN_free(x);
    BN_free(y);
    return rc;
}

int
tc_cert_key_from_public(const uint8_t *pub, EVP_PKEY **out,
                        struct tc_detail *d)
{
    int rc = TC_ERR_CERT_KEY;
    uint8_t point[65];
    OSSL_PARAM params[3];
    EVP_PKEY_CTX *ctx = NULL;

    if (pub == NULL || out == NULL) {
        return tc_detail_set(d, TC_ERR_ARG, -1, NULL, "NULL argument");
    }
    *out = NULL;
    point[0] = 0x04;
    memcpy(point + 1, pub, 64);
    params[0] = OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME,
                                                 (char *)"prime256v1", 0);
    params[1] = OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY,
                                                  point, sizeof(point));
    params[2] = OSSL_PARAM_construct_end();

    /* Import decodes the point, which rejects one not on the curve. */
    ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
    if (ctx == NULL || EVP_PKEY_fromdata_init(ctx) != 1 ||
        EVP_PKEY_fromdata(ctx, out, EVP_PKEY_PUBLIC_KEY, params) != 1) {
        rc = ossl_fail(d, TC_ERR_CERT_KEY, "pubkey",
                       "64 bytes are not a P-256 point");
        goto cleanup;
    }
    rc = TC_OK;

cleanup:
    EVP_PKEY_CTX_free(ctx);
    return rc;
}

int
tc_cert_pubkey_unpad(const uint8_t *padded72, uint8_t *pub64,
                     struct tc_detail *d)
{
    static const uint8_t zero[4];

    if (padded72 == NULL || pub64 == NULL) {
        return tc_detail_set(d, TC_ERR_ARG, -1, NULL, "NULL argument");
    }
    if (memcmp(padded72, zero, 4) != 0 || memcmp(padded72 + 36, zero, 4)) {
        return tc_detail_set(d, TC_ERR_CERT_FIELD,
                             memcmp(padded72, zero, 4) != 0 ? 0 : 36,
                             "pubkey", "padding bytes are not zero");
    }
    memcpy(pub64, padded72 + 4, 32);
    memcpy(pub64 + 32, padded72 + 40, 32);
    return TC_OK;
}

/* ECDSA P-256 with SHA-256 over msg, as r||s. */
static int
sign_rs(EVP_PKEY *key, const uint8_t *msg, size_t n, uint8_t *rs,
        struct tc_detail *d)
{
    int rc = TC_ERR_CRYPTO;
    EVP_MD_CTX *mctx = NULL;
    ECDSA_SIG *sig = NULL;
    uint8_t der[80];
    size_t der_len = sizeof(der);
    const unsigned char *p = der;
    const BIGNUM *r = NULL;
    const BIGNUM *s = NULL;

    mctx = EVP_MD_CTX_new();
    if (mctx == NULL ||
        EVP_DigestSignInit_ex(mctx, NULL, "SHA256", NULL, NULL, key, NULL) !=
            1 ||
        EVP_DigestSign(mctx, der, &der_len, msg, n) != 1) {
        rc = ossl_fail(d, TC_ERR_CRYPTO, "signature", "ECDSA signing");
        goto cleanup;
    }
    sig = d2i_ECDSA_SIG(NULL, &p, (long)der_len);
    if (sig == NULL) {
        rc = ossl_fail(d, TC_ERR_CRYPTO, "signature", "ECDSA-Sig-Value");
        goto cleanup;
    }
    ECDSA_SIG_get0(sig, &r, &s);
    if (BN_bn2binpad(r, rs, 32) != 32 || BN_bn2binpad(s, rs + 32, 32) != 32) {
        rc = ossl_fail(d, TC_ERR_CRYPTO, "signature", "r or s too long");
        goto cleanup;
    }
    rc = TC_OK;

cleanup:
    ECDSA_SIG_free(sig);
    EVP_MD_CTX_free(mctx);
    return rc;
}

int
tc_cert_issue(const struct tc_cert_template *t,
              const struct tc_cert_inputs *in, const uint8_t *signer_id,
              const struct tc_cert_date *issue, EVP_PKEY *ca_key,
              uint8_t *der, size_t cap, size_t *der_len,
              struct tc_cert_compressed *comp, struct tc_detail *d)
{
    int rc = TC_ERR_INTERNAL;
    struct tc_cert_compressed c;
    struct tc_cert_fields f;
    uint8_t ca_pub[64];
    EVP_PKEY *subject = NULL;
    X509 *x = NULL;
    const unsigned char *p = NULL;

    if (t == NULL || in == NULL || signer_id == NULL || issue == NULL ||
        ca_key == NULL || der == NULL || der_len == NULL) {
        return tc_detail_set(d, TC_ERR_ARG, -1, NULL, "NULL argument");
    }

    /* The AKI names ca_pubkey: it must be the key that signs. */
    rc = tc_cert_key_public(ca_key, ca_pub, d);
    if (rc != TC_OK) {
        goto cleanup;
    }
    if (CRYPTO_memcmp(ca_pub, in->ca_pubkey, 64) != 0) {
        rc = tc_detail_set(d, TC_ERR_CERT_KEY, -1, "ca_pubkey",
                           "issuing key is not the key named as issuer");
        goto cleanup;
    }

    /* Certify only a real point: a chip's GenKey output. */
    rc = tc_cert_key_from_public(in->pubkey, &subject, d);
    if (rc != TC_OK) {
        goto cleanup;
    }

    /* The compressed form first; the certificate follows from it. */
    memset(&c, 0, sizeof(c));
    c.issue = *issue;
    c.expire_years = t->expire_years;
    memcpy(c.signer_id, signer_id, 2);
    c.template_id = t->template_id;
    c.chain_id = t->chain_id;
    c.sn_source = TC_CERT_SNSRC_PUB_KEY_HASH;
    c.format_version = 0;
    rc = tc_cert_compressed_encode(&c, d);
    if (rc != TC_OK) {
        goto cleanup;
    }
    rc = tc_cert_derive_fields(t, &c, in, &f, d);
    if (rc != TC_OK) {
        goto cleanup;
    }

    /* Fill once to fix the TBS bytes, sign them, fill with the signature. */
    rc = tc_cert_fill(t, &f, der, cap, der_len, d);
    if (rc != TC_OK) {
        goto cleanup;
    }
    rc = sign_rs(ca_key, der + t->tbs.offset, t->tbs.count, f.signature, d);
    if (rc != TC_OK) {
        goto cleanup;
    }
    rc = tc_cert_fill(t, &f, der, cap, der_len, d);
    if (rc != TC_OK) {
        goto cleanup;
    }
    memcpy(c.signature, f.signature, 64);
    rc = tc_cert_compressed_encode(&c, d);
    if (rc != TC_OK) {
        goto cleanup;
    }

    /* What the factory hands out must parse as one whole certificate. */
    p = der;
    x = d2i_X509(NULL, &p, (long)*der_len);
    if (x == NULL || p != der + *der_len) {
        rc = ossl_fail(d, TC_ERR_INTERNAL, "der",
                       "issued certificate does not parse");
        goto cleanup;
    }
    if (comp != NULL) {
        *comp = c;
    }
    rc = TC_OK;

cleanup:
    X509_free(x);
    EVP_PKEY_free(subject);
    return rc;
}

/* Seconds since the epoch of a whole-hour UTC date. */
static time_t
date_time(const struct tc_cert_date *dt)
{
    struct tm tm;

    memset(&tm, 0, sizeof(tm));
    tm.tm_year = dt->year - 1900;
    tm.tm_mon = dt->month - 1;
    tm.tm_mday = dt->day;
    tm.tm_hour = dt->hour;
    return timegm(&tm);
}

static int
add_ext(X509 *x, X509V3_CTX *ctx, int nid, const char *value)
{
    X509_EXTENSION *e = X509V3_EXT_conf_nid(NULL, ctx, nid, value);
    int ok = e != NULL && X509_add_ext(x, e, -1) == 1;

    X509_EXTENSION_free(e);
    return ok;
}

int
tc_cert_root_create(EVP_PKEY *key, const struct tc_cert_date *issue,
                    X509 **out, struct tc_detail *d)
{
    int rc = TC_ERR_INTERNAL;
    X509 *x = NULL;
    X509_NAME *name = NULL;
    BIGNUM *bn = NULL;
    uint8_t serial[16];
    uint8_t pub[64];
    char until[32];
    X509V3_CTX ctx;

    if (key == NULL || issue == NULL || out == NULL) {
        return tc_detail_set(d, TC_ERR_ARG, -1, NULL, "NULL argument");
    }
    *out = NULL;
    rc = tc_cert_key_public(key, pub, d);
    if (rc != TC_OK) {
        goto cleanup;
    }
    rc = tc_cert_date_check(issue, "issue_date", -1, d);
    if (rc != TC_OK) {
        goto cleanup;
    }

    /*
     * The signer template names its issuer O=Microchip Technology Inc,
     * CN=Crypto Authentication Root CA 002 (UTF8String), so a root that
     * signs signer certificates must carry exactly that name.
     */
    rc = TC_ERR_CRYPTO;
    x = X509_new();
    name = X509_NAME_new();
    if (x == NULL || name == NULL || X509_set_version(x, X509_VERSION_3) != 1 ||
        X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8,
                                   (const unsigned char *)
                                   "Microchip Technology Inc",
                                   -1, -1, 0) != 1 ||
        X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                                   (const unsigned char *)
                                   "Crypto Authentication Root CA 002",
                                   -1, -1, 0) != 1 ||
        X509_set_subject_name(x, name) != 1 ||
        X509_set_issuer_name(x, name) != 1) {
        rc = ossl_fail(d, rc, "root", "name");
        goto cleanup;
    }

    /* A random positive 16-byte serial number. */
    if (RAND_bytes(serial, sizeof(serial)) != 1) {
        rc = ossl_fail(d, rc, "root", "random serial");
        goto cleanup;
    }
    serial[0] = (uint8_t)((serial[0] & 0x7F) | 0x40);
    bn = BN_bin2bn(serial, sizeof(serial), NULL);
    if (bn == NULL || BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) ==
                          NULL) {
        rc = ossl_fail(d, rc, "root", "serial");
        goto cleanup;
    }

    /* Valid from the issue hour for 40 years, as the real root. */
    snprintf(until, sizeof(until), "%04d%02d%02d%02d0000Z",
             issue->year + 40, issue->month, issue->day, issue->hour);
    if (ASN1_TIME_set(X509_getm_notBefore(x), date_time(issue)) == NULL ||
        ASN1_TIME_set_string_X509(X509_getm_notAfter(x), until) != 1 ||
        X509_set_pubkey(x, key) != 1) {
        rc = ossl_fail(d, rc, "root", "validity or key");
        goto cleanup;
    }

    /* SKI = SHA-1 of the point, which the signer template's AKI names. */
    X509V3_set_ctx(&ctx, x, x, NULL, NULL, 0);
    if (!add_ext(x, &ctx, NID_subject_key_identifier, "hash") ||
        !add_ext(x, &ctx, NID_authority_key_identifier, "keyid:always") ||
        !add_ext(x, &ctx, NID_basic_constraints, "critical,CA:TRUE") ||
        !add_ext(x, &ctx, NID_key_usage,
                 "critical,digitalSignature,keyCertSign,cRLSign") ||
        !add_ext(x, &ctx, NID_netscape_comment, TC_CERT_SIMULATED_LABEL)) {
        rc = ossl_fail(d, rc, "root", "extensions");
        goto cleanup;
    }
    if (X509_sign(x, key, EVP_sha256()) <= 0) {
        rc = ossl_fail(d, rc, "root", "self-signature");
        goto cleanup;
    }
    *out = x;
    x = NULL;
    rc = TC_OK;

cleanup:
    BN_free(bn);
    X509_NAME_free(name);
    X509_free(x);
    return rc;
}

int
tc_cert_is_simulated(X509 *cert)
{
    int i;
    ASN1_IA5STRING *s = NULL;
    int yes = 0;
    size_t n = sizeof(TC_CERT_SIMULATED_LABEL) - 1;

    if (cert == NULL) {
        return 0;
    }
    i = X509_get_ext_by_NID(cert, NID_netscape_comment, -1);
    if (i < 0) {
        return 0;
    }
    s = X509V3_EXT_d2i(X509_get_ext(cert, i));
    if (s != NULL && (size_t)ASN1_STRING_length(s) == n &&
        memcmp(ASN1_STRING_get0_data(s), TC_CERT_SIMULATED_LABEL, n) == 0) {
        yes = 1;
    }
    ASN1_IA5STRING_free(s);
    ERR_clear_error();
    return yes;
}

int
tc_cert_x509_from_der(const uint8_t *der, size_t len, X509 **out,
                      struct tc_detail *d)
{
    const unsigned char *p = der;

    if (der == NULL || out == NULL || len > 0x100000) {
        return tc_detail_set(d, TC_ERR_ARG, -1, NULL, "bad argument");
    }
    *out = d2i_X509(NULL, &p, (long)len);
    if (*out == NULL) {
        return ossl_fail(d, TC_ERR_PARSE, "der", "not a DER certificate");
    }
    if (p != der + len) {
        X509_free(*out);
        *out = NULL;
        return tc_detail_set(d, TC_ERR_PARSE, (long)(p - der), "der",
                             "%zu bytes after the certificate",
                             len - (size_t)(p - der));
    }
    return TC_OK;
}

int
tc_cert_x509_from_pem(const char *pem, size_t len, X509 **out,
                      struct tc_detail *d)
{
    BIO *b = NULL;

    if (pem == NULL || out == NULL || len > 0x100000) {
        return tc_detail_set(d, TC_ERR_ARG, -1, NULL, "bad argument");
    }
    b = BIO_new_mem_buf(pem, (int)len);
    *out = b != NULL ? PEM_read_bio_X509(b, NULL, NULL, NULL) : NULL;
    BIO_free(b);
    if (*out == NULL) {
        return ossl_fail(d, TC_ERR_PARSE, "pem", "no PEM certificate");
    }
    return TC_OK;
}

int
tc_cert_microchip_root(X509 **out, struct tc_detail *d)
{
    return tc_cert_x509_from_der(tc_cert_microchip_root_002,
                                 sizeof(tc_cert_microchip_root_002), out, d);
}
