/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A small local PKI: P-256 keys, and X.509 certificates issued for a key
 * with a subject, DNS and IP subject alternative names and a CA flag,
 * signed by a CA (or self-signed). The core uses it for its endpoint CA,
 * the API's server certificate, the broker's server certificate and
 * operator client certificates. It does not parse requests (CSRs), keep a
 * serial-number database or publish revocation lists.
 *
 * Ownership: EVP_PKEY and X509 results are handed to the caller, who frees
 * them with EVP_PKEY_free / X509_free. Inputs are borrowed.
 *
 * Limitations: P-256 keys with ECDSA-SHA256 signatures only; serial numbers
 * are 16 random bytes, never checked for reuse.
 */
#ifndef THINGCORE_PKI_H
#define THINGCORE_PKI_H

#include <stddef.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "thingcore/err.h"
#include "thingcore/util.h"

/* What a certificate says about its subject. */
struct tc_pki_cert_spec {
    const char *common_name;        /* required */
    const char *organization;       /* optional */
    const char *const *dns_names;   /* subjectAltName DNS entries */
    size_t n_dns;
    const char *const *ip_addresses; /* subjectAltName IP entries (text) */
    size_t n_ip;
    int is_ca;                      /* basicConstraints CA:TRUE, keyCertSign */
    int server_auth;                /* extendedKeyUsage serverAuth */
    int client_auth;                /* extendedKeyUsage clientAuth */
    long days;                      /* validity from one hour ago */
};

/* A new P-256 key pair (handed over). */
int tc_pki_key_generate(EVP_PKEY **out, struct tc_detail *d);

/*
 * Issue a certificate for the public half of key. With ca_cert and ca_key
 * NULL the certificate is self-signed by key. *out is handed over.
 */
int tc_pki_cert_issue(const struct tc_pki_cert_spec *spec, EVP_PKEY *key,
                      X509 *ca_cert, EVP_PKEY *ca_key, X509 **out,
                      struct tc_detail *d);

/* PEM text of a private key (PKCS#8, unencrypted) or certificate appended
 * to b. Wipe a key buffer with tc_buf_clear(b, 1). */
int tc_pki_key_to_pem(EVP_PKEY *key, struct tc_buf *b, struct tc_detail *d);
int tc_pki_cert_to_pem(X509 *cert, struct tc_buf *b, struct tc_detail *d);

/* Read a PEM private key or the first certificate of a PEM file (handed
 * over). TC_ERR_NOT_FOUND for a missing file; d names the path. */
int tc_pki_key_read(const char *path, EVP_PKEY **out, struct tc_detail *d);
int tc_pki_cert_read(const char *path, X509 **out, struct tc_detail *d);

/* Whether cert's public key is key's public key (1) or not (0). */
int tc_pki_cert_matches_key(X509 *cert, EVP_PKEY *key);

#endif
