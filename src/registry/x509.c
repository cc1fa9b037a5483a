// SPDX-License-Identifier: Apache-2.0
/*
 * Certificate handling the registry needs, on OpenSSL 3: PEM text into an
 * X509 plus the chain that follows it, the certificate id (SHA-256 of the
 * DER), validity as epoch seconds, and "was this issued by that CA" (names
 * equal and the CA key verifies the signature). It builds no chains and
 * checks no revocation: the broker's TLS stack does path validation.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "regpriv.h"
#include "thingcore/util.h"

/* Certificates accepted after the first one in a certificatePem. */
#define CHAIN_MAX 8

/* Last OpenSSL error as text; empties the queue. */
static const char *
ossl_why(char *buf, size_t cap)
{
    unsigned long e = ERR_get_error();

    if (e == 0) {
        snprintf(buf, cap, "no certificate found");
    } else {
        ERR_error_string_n(e, buf, cap);
    }
    ERR_clear_error();
    return buf;
}

int
reg_x509_parse(const char *pem, size_t n, X509 **cert, char **chain,
               const char *field, struct tc_detail *d)
{
    BIO *in = NULL;
    BIO *out = NULL;
    X509 *x = NULL;
    X509 *extra = NULL;
    char why[160];
    int count = 0;
    int ret = TC_ERR_REG_CERT_VALIDATION;

    *cert = NULL;
    if (chain != NULL) {
        *chain = NULL;
    }
    if (pem == NULL || n == 0) {
        return tc_detail_set(d, TC_ERR_REG_INVALID_REQUEST, -1, field,
                             "%s is missing", field);
    }
    if (n > TC_REG_PEM_MAX) {
        return tc_detail_set(d, TC_ERR_REG_CERT_VALIDATION, -1, field,
                             "%s is longer than %d bytes", field,
                             TC_REG_PEM_MAX);
    }
    ERR_clear_error();
    in = BIO_new_mem_buf(pem, (int)n);
    if (in == NULL) {
        ret = tc_detail_set(d, TC_ERR_NOMEM, -1, field, "no memory");
        goto cleanup;
    }
    x = PEM_read_bio_X509(in, NULL, NULL, NULL);
    if (x == NULL) {
        ret = tc_detail_set(d, TC_ERR_REG_CERT_VALIDATION, -1, field,
                            "%s is not a PEM certificate: %s", field,
                            ossl_why(why, sizeof(why)));
        goto cleanup;
    }

    /* Whatever certificates follow form the chain; anything else after
     * the first certificate is an error, not silently dropped text. */
    for (;;) {
        extra = PEM_read_bio_X509(in, NULL, NULL, NULL);
        if (extra == NULL) {
            unsigned long e = ERR_peek_last_error();

            if (ERR_GET_REASON(e) == PEM_R_NO_START_LINE) {
                ERR_clear_error();
                break;
            }
            ret = tc_detail_set(d, TC_ERR_REG_CERT_VALIDATION, -1, field,
                                "certificate %d of %s does not parse: %s",
                                count + 2, field, ossl_why(why, sizeof(why)));
            goto cleanup;
        }
        if (chain == NULL || ++count > CHAIN_MAX) {
            ret = tc_detail_set(d, TC_ERR_REG_CERT_VALIDATION, -1, field,
                                chain == NULL
                                    ? "%s must hold exactly one certificate"
                                    : "%s holds too many certificates",
                                field);
            goto cleanup;
        }
        if (out == NULL) {
            out = BIO_new(BIO_s_mem());
        }
        if (out == NULL || PEM_write_bio_X509(out, extra) != 1) {
            ret = tc_detail_set(d, TC_ERR_NOMEM, -1, field, "no memory");
            goto cleanup;
        }
        X509_free(extra);
        extra = NULL;
    }
    if (out != NULL) {
        char *p = NULL;
        long len = BIO_get_mem_data(out, &p);

        *chain = malloc((size_t)len + 1);
        if (*chain == NULL) {
            ret = tc_detail_set(d, TC_ERR_NOMEM, -1, field, "no memory");
            goto cleanup;
        }
        memcpy(*chain, p, (size_t)len);
        (*chain)[len] = '\0';
    }
    *cert = x;
    x = NULL;
    ret = TC_OK;

cleanup:
    X509_free(extra);
    X509_free(x);
    BIO_free(in);
    BIO_free(out);
    return ret;
}

void
tc_registry_cert_id_of_der(const uint8_t *der, size_t n,
                           char id_out[TC_REG_CERT_ID_LEN])
{
    unsigned char md[32];
    unsigned int mdlen = 0;

    if (EVP_Digest(der, n, md, &mdlen, EVP_sha256(), NULL) != 1 ||
        mdlen != sizeof(md)) {
        memset(md, 0, sizeof(md));
    }
    tc_hex_encode(md, sizeof(md), id_out, 0);
}

int
reg_x509_id(X509 *x, char out[TC_REG_CERT_ID_LEN])
{
    unsigned char *der = NULL;
    int len = i2d_X509(x, &der);

    if (len <= 0) {
        ERR_clear_error();
        return TC_ERR_CRYPTO;
    }
    tc_registry_cert_id_of_der(der, (size_t)len, out);
    OPENSSL_free(der);
    return TC_OK;
}

int
tc_registry_cert_id_of_pem(const char *pem, size_t n,
                           char id_out[TC_REG_CERT_ID_LEN], struct tc_detail *d)
{
    X509 *x = NULL;
    int ret;

    ret = reg_x509_parse(pem, n, &x, NULL, "certificatePem", d);
    if (ret == TC_OK) {
        ret = reg_x509_id(x, id_out);
    }
    X509_free(x);
    return ret;
}

char *
reg_x509_pem(X509 *x)
{
    BIO *b = BIO_new(BIO_s_mem());
    char *p = NULL;
    char *out = NULL;
    long len;

    if (b == NULL || PEM_write_bio_X509(b, x) != 1) {
        BIO_free(b);
        return NULL;
    }
    len = BIO_get_mem_data(b, &p);
    out = malloc((size_t)len + 1);
    if (out != NULL) {
        memcpy(out, p, (size_t)len);
        out[len] = '\0';
    }
    BIO_free(b);
    return out;
}

static int
asn1_epoch(const ASN1_TIME *t, long long *out)
{
    struct tm tm;

    if (t == NULL || ASN1_TIME_to_tm(t, &tm) != 1) {
        return TC_ERR_REG_CERT_VALIDATION;
    }
    *out = (long long)timegm(&tm);
    return TC_OK;
}

int
reg_x509_validity(X509 *x, long long *nb, long long *na, struct tc_detail *d)
{
    if (asn1_epoch(X509_get0_notBefore(x), nb) != TC_OK ||
        asn1_epoch(X509_get0_notAfter(x), na) != TC_OK) {
        ERR_clear_error();
        return tc_detail_set(d, TC_ERR_REG_CERT_VALIDATION, -1, "validity",
                             "the certificate's validity does not parse");
    }
    return TC_OK;
}

int
reg_x509_check_time(X509 *x, const char *field, struct tc_detail *d)
{
    long long nb = 0;
    long long na = 0;
    long long now = (long long)tc_now();
    int ret = reg_x509_validity(x, &nb, &na, d);

    if (ret != TC_OK) {
        return ret;
    }
    if (now < nb) {
        return tc_detail_set(d, TC_ERR_REG_CERT_VALIDATION, -1, field,
                             "%s is not valid yet (notBefore %lld)", field, nb);
    }
    if (now > na) {
        return tc_detail_set(d, TC_ERR_REG_CERT_VALIDATION, -1, field,
                             "%s has expired (notAfter %lld)", field, na);
    }
    return TC_OK;
}

int
reg_x509_issued_by(X509 *cert, X509 *issuer)
{
    EVP_PKEY *key;
    int ok;

    if (X509_NAME_cmp(X509_get_issuer_name(cert),
                      X509_get_subject_name(issuer)) != 0) {
        return 0;
    }
    key = X509_get0_pubkey(issuer);
    ok = key != NULL && X509_verify(cert, key) == 1;
    ERR_clear_error();
    return ok;
}

int
reg_x509_name_der(X509 *x, int issuer, unsigned char **out, int *len)
{
    const X509_NAME *name =
        issuer ? X509_get_issuer_name(x) : X509_get_subject_name(x);

    *out = NULL;
    *len = i2d_X509_NAME(name, out);
    if (*len <= 0) {
        ERR_clear_error();
        return TC_ERR_CRYPTO;
    }
    return TC_OK;
}
