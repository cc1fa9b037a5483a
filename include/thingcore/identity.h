/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A Trust&GO chip's identity as a host reads it: serial number, revision,
 * lock state, the device template named by the OTP code, the EUI-48, the
 * public keys of slots 0-4, and the device and signer certificates rebuilt
 * byte for byte from their compressed forms (slots 10-12). Every byte comes
 * through chip commands; no private key is involved.
 *
 * Limitations: only the Trust&GO and TrustFLEX templates are known.
 */
#ifndef THINGCORE_IDENTITY_H
#define THINGCORE_IDENTITY_H

#include <stddef.h>
#include <stdint.h>

#include "thingcore/cert.h"
#include "thingcore/err.h"
#include "thingcore/se.h"

#define TC_IDENTITY_KEYS 5

struct tc_identity {
    uint8_t sn[TC_ATCA_SN_SIZE];
    char sn_hex[2 * TC_ATCA_SN_SIZE + 1]; /* upper case: thing name */
    uint8_t revision[4];
    int config_locked;
    int data_locked;
    enum tc_cert_kind device_kind;
    char eui48[TC_CERT_EUI48_LEN + 1]; /* "" when the template has none */
    uint8_t pubkeys[TC_IDENTITY_KEYS][TC_ATCA_PUBKEY_SIZE];
    uint8_t signer_pubkey[TC_ATCA_PUBKEY_SIZE];
    uint8_t device_der[TC_CERT_DER_MAX];
    size_t device_len;
    uint8_t signer_der[TC_CERT_DER_MAX];
    size_t signer_len;
    int root_index; /* which of the candidate roots issued the signer */
    int simulated;  /* that root carries the simulated-factory label */
};

/*
 * Read everything above from a locked Trust&GO chip.
 *
 * The chip does not store who issued its signer certificate, yet the
 * signer certificate's authority key identifier depends on it; so the
 * signer certificate is rebuilt against each candidate root in turn
 * (roots, borrowed, n of them; the real Microchip root is always tried
 * first) and the one whose key verifies the signature is taken. This only
 * rebuilds: it is not a trust decision (tc_cert_verify_chain is).
 *
 * A chip whose zones are not locked is TC_ERR_ATCA_NOT_LOCKED; an unknown
 * OTP code or a corrupt compressed certificate gives the certificate
 * module's code with the slot named in d; a signer certificate no
 * candidate root signed is TC_ERR_CERT_CHAIN naming the signer id.
 */
int tc_identity_read(struct tc_se *se, X509 *const *roots, size_t n,
                     struct tc_identity *id, struct tc_detail *d);

/*
 * The candidate roots most callers want: the real Crypto Authentication
 * Root CA 002, then every root.pem of a simulated factory folder given
 * (factory_dir may be NULL). *out (n entries) is handed to the caller;
 * free with tc_identity_roots_free.
 */
int tc_identity_default_roots(const char *factory_dir, X509 ***out,
                              size_t *n, struct tc_detail *d);
void tc_identity_roots_free(X509 **roots, size_t n);

#endif
