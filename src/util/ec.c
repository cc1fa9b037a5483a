// SPDX-License-Identifier: Apache-2.0
/*
 * P-256 key and signature conversions between the chip's raw forms and
 * OpenSSL's. Everything taken from outside is checked: points must lie on
 * the curve, DER signatures must be exactly one well-formed value.
 */
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "thingcore/ec.h"

/* SubjectPublicKeyInfo of a P-256 key up to the point: 26 bytes. */
static const uint8_t spki_prefix[26] = {
    0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48,
    0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a, 0x86, 0x48,
    0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00,
};

/*
 * Through the DER decoder rather than EVP_PKEY_fromdata: in a program
 * whose default EC implementation is an engine (openssl -engine pkcs11),
 * fromdata fails while the decoders still work. Decoding the point checks
 * that it lies on the curve.
 */
EVP_PKEY *
tc_ec_pubkey_from_xy(const uint8_t *xy)
{
    uint8_t der[sizeof(spki_prefix) + 65];
    const unsigned char *p = der;
    EVP_PKEY *pkey;

    memcpy(der, spki_prefix, sizeof(spki_prefix));
    der[sizeof(spki_prefix)] = 0x04;
    memcpy(der + sizeof(spki_prefix) + 1, xy, 64);
    pkey = d2i_PUBKEY(NULL, &p, (long)sizeof(der));
    if (pkey != NULL && p != der + sizeof(der)) {
        EVP_PKEY_free(pkey);
        pkey = NULL;
    }
    ERR_clear_error();
    return pkey;
}

int
tc_ec_pubkey_to_xy(const EVP_PKEY *pkey, uint8_t *xy)
{
    uint8_t pub[65];
    size_t n = 0;
    char group[32];

    if (!EVP_PKEY_get_utf8_string_param(pkey, OSSL_PKEY_PARAM_GROUP_NAME,
                                        group, sizeof(group), NULL) ||
        strcmp(group, "prime256v1") != 0) {
        return TC_ERR_UNSUPPORTED;
    }
    if (!EVP_PKEY_get_octet_string_param(pkey, OSSL_PKEY_PARAM_PUB_KEY, pub,
                                         sizeof(pub), &n) ||
        n != sizeof(pub) || pub[0] != 0x04) {
        return TC_ERR_CRYPTO;
    }
    memcpy(xy, pub + 1, 64);
    return TC_OK;
}

int
tc_ec_sig_der_to_rs(const uint8_t *der, size_t n, uint8_t *rs)
{
    const unsigned char *p = der;
    ECDSA_SIG *sig = d2i_ECDSA_SIG(NULL, &p, (long)n);
    const BIGNUM *r;
    const BIGNUM *s;
    int rc = TC_ERR_PARSE;

    if (sig == NULL || p != der + n) {
        goto out;
    }
    ECDSA_SIG_get0(sig, &r, &s);
    if (BN_bn2binpad(r, rs, 32) != 32 || BN_bn2binpad(s, rs + 32, 32) != 32) {
        goto out;
    }
    rc = TC_OK;
out:
    ECDSA_SIG_free(sig);
    return rc;
}

size_t
tc_ec_sig_rs_to_der(const uint8_t *rs, uint8_t *der)
{
    ECDSA_SIG *sig = ECDSA_SIG_new();
    BIGNUM *r = BN_bin2bn(rs, 32, NULL);
    BIGNUM *s = BN_bin2bn(rs + 32, 32, NULL);
    unsigned char *p = der;
    int n = 0;

    if (sig == NULL || r == NULL || s == NULL || !ECDSA_SIG_set0(sig, r, s)) {
        BN_free(r);
        BN_free(s);
        ECDSA_SIG_free(sig);
        return 0;
    }
    if (i2d_ECDSA_SIG(sig, NULL) <= TC_EC_SIG_DER_MAX) {
        n = i2d_ECDSA_SIG(sig, &p);
    }
    ECDSA_SIG_free(sig);
    return n > 0 ? (size_t)n : 0;
}

int
tc_ec_pubkey_pem(const uint8_t *xy, char *out, size_t cap)
{
    EVP_PKEY *pkey = tc_ec_pubkey_from_xy(xy);
    BIO *bio = BIO_new(BIO_s_mem());
    char *mem;
    long len;
    int rc = TC_ERR_CRYPTO;

    if (pkey == NULL || bio == NULL || !PEM_write_bio_PUBKEY(bio, pkey)) {
        goto out;
    }
    len = BIO_get_mem_data(bio, &mem);
    if (len < 0 || (size_t)len + 1 > cap) {
        rc = TC_ERR_TOO_BIG;
        goto out;
    }
    memcpy(out, mem, (size_t)len);
    out[len] = '\0';
    rc = TC_OK;
out:
    BIO_free(bio);
    EVP_PKEY_free(pkey);
    return rc;
}

int
tc_ec_verify_digest(EVP_PKEY *pkey, const uint8_t *digest, const uint8_t *rs)
{
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new(pkey, NULL);
    uint8_t der[TC_EC_SIG_DER_MAX];
    size_t n = tc_ec_sig_rs_to_der(rs, der);
    int rc = TC_ERR_CRYPTO;

    if (ctx != NULL && n > 0 && EVP_PKEY_verify_init(ctx) > 0 &&
        EVP_PKEY_verify(ctx, der, n, digest, 32) == 1) {
        rc = TC_OK;
    }
    EVP_PKEY_CTX_free(ctx);
    return rc;
}
