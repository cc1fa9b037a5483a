// SPDX-License-Identifier: Apache-2.0
/*
 * ES256 as JWS uses it (RFC 7518 section 3.4): the signature is r || s,
 * each 32 bytes big-endian, which OpenSSL wants as a DER ECDSA-Sig-Value.
 * Also the certificate facts a manifest names: the kid (SKI), the
 * x5t#S256 thumbprint, the P-256 key as X || Y and the serial number in
 * a Trust&GO device certificate's subject CN.
 */
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "internal.h"

/* A DER ECDSA-Sig-Value of two 32-byte integers is at most 72 bytes. */
#define SIG_DER_MAX 80

int
tc_mf_sign(EVP_PKEY *key, const char *msg, size_t n, uint8_t *rs,
           struct tc_detail *d)
{
    int rc = TC_ERR_CRYPTO;
    EVP_MD_CTX *mctx = EVP_MD_CTX_new();
    uint8_t der[SIG_DER_MAX];
    size_t der_len = sizeof(der);
    const uint8_t *q = der;
    ECDSA_SIG *sig = NULL;
    const BIGNUM *r;
    const BIGNUM *s;

    /* Sign the ASCII text; OpenSSL hashes with SHA-256. */
    if (mctx == NULL ||
        EVP_DigestSignInit_ex(mctx, NULL, "SHA256", NULL, NULL, key,
                              NULL) != 1 ||
        EVP_DigestSign(mctx, der, &der_len, (const uint8_t *)msg, n) != 1) {
        rc = tc_detail_set(d, TC_ERR_CRYPTO, -1, "signature",
                           "ES256 signing failed");
        goto out;
    }

    /* DER to fixed-width r || s. */
    sig = d2i_ECDSA_SIG(NULL, &q, (long)der_len);
    if (sig == NULL) {
        rc = tc_detail_set(d, TC_ERR_CRYPTO, -1, "signature",
                           "signature is not an ECDSA-Sig-Value");
        goto out;
    }
    ECDSA_SIG_get0(sig, &r, &s);
    if (BN_bn2binpad(r, rs, 32) != 32 || BN_bn2binpad(s, rs + 32, 32) != 32) {
        rc = tc_detail_set(d, TC_ERR_CRYPTO, -1, "signature",
                           "signature integer wider than 32 bytes");
        goto out;
    }
    rc = TC_OK;
out:
    ERR_clear_error();
    ECDSA_SIG_free(sig);
    EVP_MD_CTX_free(mctx);
    return rc;
}

int
tc_mf_verify(EVP_PKEY *key, const char *msg, size_t n, const uint8_t *rs)
{
    int ok = 0;
    ECDSA_SIG *sig = ECDSA_SIG_new();
    BIGNUM *r = BN_bin2bn(rs, 32, NULL);
    BIGNUM *s = BN_bin2bn(rs + 32, 32, NULL);
    EVP_MD_CTX *mctx = EVP_MD_CTX_new();
    uint8_t der[SIG_DER_MAX];
    uint8_t *q = der;
    int der_len;

    if (sig == NULL || r == NULL || s == NULL || mctx == NULL) {
        goto out;
    }
    if (ECDSA_SIG_set0(sig, r, s) != 1) {
        goto out;
    }
    r = NULL;
    s = NULL;
    der_len = i2d_ECDSA_SIG(sig, NULL);
    if (der_len <= 0 || der_len > (int)sizeof(der)) {
        goto out;
    }
    der_len = i2d_ECDSA_SIG(sig, &q);
    if (EVP_DigestVerifyInit_ex(mctx, NULL, "SHA256", NULL, NULL, key,
                                NULL) != 1) {
        goto out;
    }
    ok = EVP_DigestVerify(mctx, der, (size_t)der_len, (const uint8_t *)msg,
                          n) == 1;
out:
    ERR_clear_error();
    BN_free(r);
    BN_free(s);
    ECDSA_SIG_free(sig);
    EVP_MD_CTX_free(mctx);
    return ok;
}

int
tc_mf_cert_xy(X509 *cert, uint8_t *xy, struct tc_detail *d)
{
    EVP_PKEY *pk = X509_get0_pubkey(cert);
    char group[32];
    uint8_t pt[65];
    size_t len = 0;

    if (pk == NULL || !EVP_PKEY_is_a(pk, "EC") ||
        EVP_PKEY_get_utf8_string_param(pk, OSSL_PKEY_PARAM_GROUP_NAME, group,
                                       sizeof(group), NULL) != 1 ||
        strcmp(group, "prime256v1") != 0) {
        ERR_clear_error();
        return tc_detail_set(d, TC_ERR_MANIFEST_CERT, -1, "publicKey",
                             "certificate key is not EC P-256");
    }

    /* The uncompressed point 04 || X || Y. */
    if (EVP_PKEY_get_octet_string_param(pk, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY,
                                        pt, sizeof(pt), &len) != 1 ||
        len != sizeof(pt) || pt[0] != 0x04) {
        ERR_clear_error();
        return tc_detail_set(d, TC_ERR_MANIFEST_CERT, -1, "publicKey",
                             "certificate key is not an uncompressed "
                             "P-256 point");
    }
    memcpy(xy, pt + 1, 64);
    return TC_OK;
}

int
tc_mf_cert_kid(X509 *cert, char *out, struct tc_detail *d)
{
    const ASN1_OCTET_STRING *ski = X509_get0_subject_key_id(cert);

    if (ski == NULL || ASN1_STRING_length(ski) <= 0 ||
        ASN1_STRING_length(ski) > 40) {
        ERR_clear_error();
        return tc_detail_set(d, TC_ERR_MANIFEST_CERT, -1, "kid",
                             "signer certificate has no usable subject key "
                             "identifier");
    }
    tc_base64_encode(ASN1_STRING_get0_data(ski),
                     (size_t)ASN1_STRING_length(ski), out, 1);
    return TC_OK;
}

void
tc_mf_x5t(const uint8_t *der, size_t n, char *out)
{
    uint8_t md[32];
    unsigned int mdlen = 0;

    EVP_Digest(der, n, md, &mdlen, EVP_sha256(), NULL);
    tc_base64_encode(md, sizeof(md), out, 1);
}

int
tc_mf_cert_sn(X509 *cert, uint8_t *sn, struct tc_detail *d)
{
    const X509_NAME *name = X509_get_subject_name(cert);
    int at = X509_NAME_get_index_by_NID(name, NID_commonName, -1);
    const ASN1_STRING *cn;
    const char *p;
    size_t len;
    size_t got = 0;

    if (at < 0) {
        return tc_detail_set(d, TC_ERR_MANIFEST_CERT, -1, "subject",
                             "device certificate subject has no CN");
    }
    cn = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, at));
    p = (const char *)ASN1_STRING_get0_data(cn);
    len = (size_t)ASN1_STRING_length(cn);

    /* Template 3 "sn0123...01", template 2 "0123...01 ATECC". */
    if (len == 20 && p[0] == 's' && p[1] == 'n' &&
        tc_hex_decode(p + 2, 18, sn, 9, &got, NULL) == TC_OK && got == 9) {
        return TC_OK;
    }
    if (len == 24 && memcmp(p + 18, " ATECC", 6) == 0 &&
        tc_hex_decode(p, 18, sn, 9, &got, NULL) == TC_OK && got == 9) {
        return TC_OK;
    }
    return tc_detail_set(d, TC_ERR_MANIFEST_CERT, -1, "subject",
                         "device certificate CN is neither \"sn<18 hex>\" "
                         "nor \"<18 hex> ATECC\"");
}
