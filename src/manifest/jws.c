// SPDX-License-Identifier: Apache-2.0
/*
 * ES256 as JWS uses it (RFC 7518 section 3.4): the signature is r || s,
 * each 32 bytes big-endian, which OpenSSL wants as a DER ECDSA-Sig-Value.
 * Also the certificate facts a manifest names: the kid (SKI), the
 * x5t#S256 thumbprint, the P-256 key as X || Y and the serial number in
 * a Trust&GO device certificate's subject CN.
 */
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "internal.h"
#include "thingcore/ec.h"

int
tc_mf_sign(EVP_PKEY *key, const char *msg, size_t n, uint8_t *rs,
           struct tc_detail *d)
{
    int rc = TC_ERR_CRYPTO;
    EVP_MD_CTX *mctx = EVP_MD_CTX_new();
    uint8_t der[TC_EC_SIG_DER_MAX];
    size_t der_len = sizeof(der);

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
    if (tc_ec_sig_der_to_rs(der, der_len, rs) != TC_OK) {
        rc = tc_detail_set(d, TC_ERR_CRYPTO, -1, "signature",
                           "signature is not an ECDSA-Sig-Value of two "
                           "32-byte integers");
        goto out;
    }
    rc = TC_OK;
out:
    ERR_clear_error();
    EVP_MD_CTX_free(mctx);
    return rc;
}

EVP_PKEY_CTX *
tc_mf_verify_ctx(EVP_PKEY *key)
{
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, key, NULL);

    if (ctx == NULL || EVP_PKEY_verify_init(ctx) != 1) {
        ERR_clear_error();
        EVP_PKEY_CTX_free(ctx);
        return NULL;
    }
    return ctx;
}

int
tc_mf_verify_der(EVP_PKEY_CTX *ctx, EVP_MD_CTX *md, const EVP_MD *sha256,
                 const uint8_t *msg, size_t n, const uint8_t *sig,
                 size_t sig_len)
{
    uint8_t digest[32];
    unsigned int dlen = 0;
    int ok;

    /* The digest by hand, so the key's context is set up only once. */
    if (EVP_DigestInit_ex2(md, sha256, NULL) != 1 ||
        EVP_DigestUpdate(md, msg, n) != 1 ||
        EVP_DigestFinal_ex(md, digest, &dlen) != 1 || dlen != 32) {
        ERR_clear_error();
        return 0;
    }
    ok = EVP_PKEY_verify(ctx, sig, sig_len, digest, 32) == 1;
    if (!ok) {
        ERR_clear_error();
    }
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
tc_mf_cn_sn(const uint8_t *cn, size_t len, uint8_t *sn)
{
    const char *p = (const char *)cn;
    size_t got = 0;

    /* Template 3 "sn0123...01", template 2 "0123...01 ATECC". */
    if (len == 20 && p[0] == 's' && p[1] == 'n' &&
        tc_hex_decode(p + 2, 18, sn, 9, &got, NULL) == TC_OK && got == 9) {
        return TC_OK;
    }
    if (len == 24 && memcmp(p + 18, " ATECC", 6) == 0 &&
        tc_hex_decode(p, 18, sn, 9, &got, NULL) == TC_OK && got == 9) {
        return TC_OK;
    }
    return TC_ERR_MANIFEST_CERT;
}

int
tc_mf_cert_sn(X509 *cert, uint8_t *sn, struct tc_detail *d)
{
    const X509_NAME *name = X509_get_subject_name(cert);
    int at = X509_NAME_get_index_by_NID(name, NID_commonName, -1);
    const ASN1_STRING *cn;

    if (at < 0) {
        return tc_detail_set(d, TC_ERR_MANIFEST_CERT, -1, "subject",
                             "device certificate subject has no CN");
    }
    cn = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, at));
    if (tc_mf_cn_sn(ASN1_STRING_get0_data(cn),
                    (size_t)ASN1_STRING_length(cn), sn) == TC_OK) {
        return TC_OK;
    }
    return tc_detail_set(d, TC_ERR_MANIFEST_CERT, -1, "subject",
                         "device certificate CN is neither \"sn<18 hex>\" "
                         "nor \"<18 hex> ATECC\"");
}
