/* SPDX-License-Identifier: Apache-2.0 */
/*
 * P-256 conversions every module needs: the chip's raw X||Y public keys and
 * r||s signatures to and from OpenSSL's forms (EVP_PKEY, DER ECDSA-Sig-Value,
 * PEM), with the checks that make them safe to take from a wire.
 *
 * Limitations: P-256 only, the one curve the ATECC608 signs with.
 */
#ifndef THINGCORE_EC_H
#define THINGCORE_EC_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#include "thingcore/err.h"

/* A public key from X||Y (64 bytes); NULL if the point is not on P-256.
 * Handed to the caller (EVP_PKEY_free). */
EVP_PKEY *tc_ec_pubkey_from_xy(const uint8_t *xy);

/* X||Y of a P-256 key (public or private EVP_PKEY), 64 bytes out. */
int tc_ec_pubkey_to_xy(const EVP_PKEY *pkey, uint8_t *xy);

/*
 * DER ECDSA-Sig-Value to r||s (64 bytes) and back. der_to_rs refuses
 * trailing bytes and values wider than 32 bytes; rs_to_der writes at most
 * TC_EC_SIG_DER_MAX bytes and returns the length, 0 on failure.
 */
#define TC_EC_SIG_DER_MAX 72
int tc_ec_sig_der_to_rs(const uint8_t *der, size_t n, uint8_t *rs);
size_t tc_ec_sig_rs_to_der(const uint8_t *rs, uint8_t *der);

/* The PEM SubjectPublicKeyInfo of X||Y into out (cap bytes, NUL ended). */
int tc_ec_pubkey_pem(const uint8_t *xy, char *out, size_t cap);

/*
 * Verify r||s over a 32-byte digest with pkey: TC_OK when valid,
 * TC_ERR_CRYPTO when not.
 */
int tc_ec_verify_digest(EVP_PKEY *pkey, const uint8_t *digest,
                        const uint8_t *rs);

#endif
