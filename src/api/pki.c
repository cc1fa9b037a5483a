// SPDX-License-Identifier: Apache-2.0
/*
 * The local PKI: key generation through EVP_PKEY_Q_keygen, certificates
 * built with the X509 API and signed with EVP. It issues; it does not
 * validate chains (the registry and the TLS stacks do that).
 */
#include <stdio.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include "thingcore/pki.h"
#include "thingcore/util.h"

/* Turn OpenSSL's queued error into our code and a detail, and empty the
 * queue so the next failure is reported on its own. */
static int
ossl_fail(struct tc_detail *d, const char *what)
{
    return tc_detail_ossl(d, TC_ERR_API_PKI, NULL, what);
}

int
tc_pki_key_generate(EVP_PKEY **out, struct tc_detail *d)
{
    *out = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    if (*out == NULL) {
        return ossl_fail(d, "P-256 key generation");
    }
    return TC_OK;
}

/* Add one extension given in OpenSSL's configuration syntax. */
static int
add_ext(X509 *cert, X509 *issuer, int nid, const char *value)
{
    X509V3_CTX ctx;
    X509_EXTENSION *ext;
    int ok;

    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, issuer, cert, NULL, NULL, 0);
    ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
    if (ext == NULL) {
        return 0;
    }
    ok = X509_add_ext(cert, ext, -1);
    X509_EXTENSION_free(ext);
    return ok;
}

/* "DNS:a,DNS:b,IP:1.2.3.4" from the spec, refusing names that would
 * change the meaning of the list. */
static int
san_text(const struct tc_pki_cert_spec *spec, struct tc_buf *b,
         struct tc_detail *d)
{
    size_t i;
    int rc = TC_OK;

    for (i = 0; i < spec->n_dns + spec->n_ip && rc == TC_OK; i++) {
        int dns = i < spec->n_dns;
        const char *v = dns ? spec->dns_names[i]
                            : spec->ip_addresses[i - spec->n_dns];

        /* A comma or blank would start another entry; a colon is only
         * meaningful in an IPv6 address. */
        if (v == NULL || v[0] == '\0' || strpbrk(v, ", \t\r\n") != NULL ||
            (dns && strchr(v, ':') != NULL)) {
            return tc_detail_set(d, TC_ERR_ARG, -1, "subjectAltName",
                                 "invalid name '%s'", v != NULL ? v : "");
        }
        rc = tc_buf_printf(b, "%s%s:%s", i > 0 ? "," : "",
                           dns ? "DNS" : "IP", v);
    }
    return rc;
}

int
tc_pki_cert_issue(const struct tc_pki_cert_spec *spec, EVP_PKEY *key,
                  X509 *ca_cert, EVP_PKEY *ca_key, X509 **out,
                  struct tc_detail *d)
{
    X509 *cert = NULL;
    X509_NAME *name = NULL;
    ASN1_INTEGER *serial = NULL;
    BIGNUM *bn = NULL;
    unsigned char rnd[16];
    struct tc_buf san;
    char eku[64] = "";
    int rc = TC_ERR_API_PKI;

    tc_buf_init(&san, 8192);
    *out = NULL;
    if (spec->common_name == NULL || spec->days <= 0 ||
        (ca_cert == NULL) != (ca_key == NULL)) {
        rc = tc_detail_set(d, TC_ERR_ARG, -1, NULL,
                           "certificate needs a common name, positive "
                           "validity, and both or neither CA cert and key");
        goto cleanup;
    }
    cert = X509_new();
    name = X509_NAME_new();
    if (cert == NULL || name == NULL) {
        rc = TC_ERR_NOMEM;
        goto cleanup;
    }

    /* Version 3, a random positive 127-bit serial, validity that starts an
     * hour back so clocks slightly behind still accept it. */
    if (RAND_bytes(rnd, sizeof(rnd)) != 1) {
        rc = ossl_fail(d, "serial number");
        goto cleanup;
    }
    rnd[0] &= 0x7f;
    rnd[0] |= 0x01;
    bn = BN_bin2bn(rnd, sizeof(rnd), NULL);
    serial = bn != NULL ? BN_to_ASN1_INTEGER(bn, NULL) : NULL;
    if (serial == NULL || !X509_set_version(cert, X509_VERSION_3) ||
        !X509_set_serialNumber(cert, serial) ||
        X509_gmtime_adj(X509_getm_notBefore(cert), -3600) == NULL ||
        X509_gmtime_adj(X509_getm_notAfter(cert), spec->days * 86400L) ==
            NULL) {
        rc = ossl_fail(d, "certificate fields");
        goto cleanup;
    }

    /* Subject, issuer and key. */
    if ((spec->organization != NULL &&
         !X509_NAME_add_entry_by_txt(
             name, "O", MBSTRING_UTF8,
             (const unsigned char *)spec->organization, -1, -1, 0)) ||
        !X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                                    (const unsigned char *)spec->common_name,
                                    -1, -1, 0) ||
        !X509_set_subject_name(cert, name) ||
        !X509_set_issuer_name(cert, ca_cert != NULL
                                        ? X509_get_subject_name(ca_cert)
                                        : name) ||
        !X509_set_pubkey(cert, key)) {
        rc = ossl_fail(d, "certificate subject");
        goto cleanup;
    }

    /* Extensions: constraints and usage first, then identifiers. */
    if (!add_ext(cert, ca_cert != NULL ? ca_cert : cert,
                 NID_basic_constraints,
                 spec->is_ca ? "critical,CA:TRUE" : "critical,CA:FALSE") ||
        !add_ext(cert, ca_cert != NULL ? ca_cert : cert, NID_key_usage,
                 spec->is_ca ? "critical,keyCertSign,cRLSign,digitalSignature"
                             : "critical,digitalSignature") ||
        !add_ext(cert, ca_cert != NULL ? ca_cert : cert,
                 NID_subject_key_identifier, "hash") ||
        !add_ext(cert, ca_cert != NULL ? ca_cert : cert,
                 NID_authority_key_identifier, "keyid:always")) {
        rc = ossl_fail(d, "certificate extensions");
        goto cleanup;
    }
    if (spec->server_auth || spec->client_auth) {
        snprintf(eku, sizeof(eku), "%s%s%s",
                 spec->server_auth ? "serverAuth" : "",
                 spec->server_auth && spec->client_auth ? "," : "",
                 spec->client_auth ? "clientAuth" : "");
        if (!add_ext(cert, cert, NID_ext_key_usage, eku)) {
            rc = ossl_fail(d, "extended key usage");
            goto cleanup;
        }
    }
    if (spec->n_dns + spec->n_ip > 0) {
        rc = san_text(spec, &san, d);
        if (rc != TC_OK) {
            goto cleanup;
        }
        rc = TC_ERR_API_PKI;
        if (!add_ext(cert, cert, NID_subject_alt_name,
                     (const char *)san.data)) {
            rc = ossl_fail(d, "subjectAltName");
            goto cleanup;
        }
    }

    if (X509_sign(cert, ca_key != NULL ? ca_key : key, EVP_sha256()) <= 0) {
        rc = ossl_fail(d, "certificate signature");
        goto cleanup;
    }
    *out = cert;
    cert = NULL;
    rc = TC_OK;

cleanup:
    X509_free(cert);
    X509_NAME_free(name);
    ASN1_INTEGER_free(serial);
    BN_free(bn);
    tc_buf_clear(&san, 0);
    return rc;
}

/* Append what a PEM writer put in a memory BIO to b. */
static int
bio_to_buf(BIO *bio, struct tc_buf *b)
{
    char *p = NULL;
    long n = BIO_get_mem_data(bio, &p);

    if (n <= 0) {
        return TC_ERR_API_PKI;
    }
    return tc_buf_append(b, p, (size_t)n);
}

int
tc_pki_key_to_pem(EVP_PKEY *key, struct tc_buf *b, struct tc_detail *d)
{
    BIO *bio = BIO_new(BIO_s_secmem());
    int rc = TC_ERR_API_PKI;

    if (bio == NULL ||
        !PEM_write_bio_PrivateKey(bio, key, NULL, NULL, 0, NULL, NULL)) {
        rc = ossl_fail(d, "private key PEM");
        goto cleanup;
    }
    rc = bio_to_buf(bio, b);

cleanup:
    BIO_free(bio);
    return rc;
}

int
tc_pki_cert_to_pem(X509 *cert, struct tc_buf *b, struct tc_detail *d)
{
    BIO *bio = BIO_new(BIO_s_mem());
    int rc = TC_ERR_API_PKI;

    if (bio == NULL || !PEM_write_bio_X509(bio, cert)) {
        rc = ossl_fail(d, "certificate PEM");
        goto cleanup;
    }
    rc = bio_to_buf(bio, b);

cleanup:
    BIO_free(bio);
    return rc;
}

/* Read a PEM file into a memory BIO; the buffer is wiped afterwards since
 * it may hold a private key. */
static int
read_pem(const char *path, int want_key, void **out, struct tc_detail *d)
{
    struct tc_buf b;
    BIO *bio = NULL;
    int rc;

    tc_buf_init(&b, 1 << 20);
    rc = tc_file_read(path, &b, d);
    if (rc != TC_OK) {
        goto cleanup;
    }
    rc = TC_ERR_API_PKI;
    bio = BIO_new_mem_buf(b.data, (int)b.len);
    if (bio == NULL) {
        rc = TC_ERR_NOMEM;
        goto cleanup;
    }
    *out = want_key ? (void *)PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL)
                    : (void *)PEM_read_bio_X509(bio, NULL, NULL, NULL);
    if (*out == NULL) {
        ossl_fail(d, "PEM");
        rc = tc_detail_set(d, TC_ERR_API_PKI, -1, "path",
                           "%s: no PEM %s", path,
                           want_key ? "private key" : "certificate");
        goto cleanup;
    }
    rc = TC_OK;

cleanup:
    BIO_free(bio);
    tc_buf_clear(&b, 1);
    return rc;
}

int
tc_pki_key_read(const char *path, EVP_PKEY **out, struct tc_detail *d)
{
    void *p = NULL;
    int rc = read_pem(path, 1, &p, d);

    *out = p;
    return rc;
}

int
tc_pki_cert_read(const char *path, X509 **out, struct tc_detail *d)
{
    void *p = NULL;
    int rc = read_pem(path, 0, &p, d);

    *out = p;
    return rc;
}

int
tc_pki_cert_matches_key(X509 *cert, EVP_PKEY *key)
{
    EVP_PKEY *pub = X509_get0_pubkey(cert);

    return pub != NULL && EVP_PKEY_eq(pub, key) == 1;
}
