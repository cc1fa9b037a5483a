/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A small, strict DER reader for P-256 ECDSA certificates: it finds the
 * fields a chain check and an identity check need (the TBSCertificate
 * bytes, the signature, issuer and subject names, validity, the subject's
 * CN and serialNumber attributes, the EC point, basicConstraints, key
 * usage and the key identifiers) without decoding anything else. It is
 * what makes verifying 100,000 manifest entries cost little more than
 * their signatures; X509 decoding through OpenSSL costs several times as
 * much per certificate.
 *
 * Every length is checked against its enclosing element before it is
 * used; every span returned points into the caller's buffer.
 *
 * Caveats:
 * - Only ecdsa-with-SHA256 signatures over P-256 keys (uncompressed
 *   points) are accepted: every Trust&GO certificate is of that kind.
 *   Anything else is TC_ERR_UNSUPPORTED.
 * - The reader checks structure, not meaning: it verifies no signature
 *   and decides nothing about trust.
 * - A critical extension other than basicConstraints, keyUsage,
 *   extendedKeyUsage, subjectAltName, subjectKeyIdentifier and
 *   authorityKeyIdentifier is refused (TC_ERR_UNSUPPORTED), as a verifier
 *   that does not understand it must.
 */
#ifndef THINGCORE_DER_H
#define THINGCORE_DER_H

#include <stddef.h>
#include <stdint.h>

#include "thingcore/err.h"

/* A byte range inside the certificate given to the parser (borrowed). */
struct tc_der_span {
    const uint8_t *p;
    size_t n;
};

/* Largest certificate the reader takes (a Trust&GO one is about 500). */
#define TC_DER_CERT_MAX 4096

/* keyUsage bits as numbered in RFC 5280 section 4.2.1.3. */
#define TC_DER_KU_DIGITAL_SIGNATURE (1u << 0)
#define TC_DER_KU_KEY_CERT_SIGN (1u << 5)

struct tc_der_cert {
    struct tc_der_span tbs;     /* TBSCertificate, tag and length included */
    struct tc_der_span serial;  /* serialNumber INTEGER content */
    struct tc_der_span issuer;  /* issuer Name, whole element */
    struct tc_der_span subject; /* subject Name, whole element */
    int64_t not_before;         /* seconds since 1970, UTC */
    int64_t not_after;
    struct tc_der_span cn;          /* first commonName value, or n 0 */
    struct tc_der_span serial_attr; /* first serialNumber value, or n 0 */
    uint8_t xy[64];                 /* the subject's P-256 key X || Y */
    struct tc_der_span point;       /* 04 || X || Y inside the BIT STRING */
    struct tc_der_span sig;         /* ECDSA-Sig-Value, whole element */
    uint8_t sig_rs[64];             /* the same as r || s */
    int version;                    /* 1 or 3 */
    int has_basic_constraints;
    int is_ca;                  /* basicConstraints cA TRUE */
    int has_key_usage;
    unsigned key_usage;         /* TC_DER_KU_* bits */
    struct tc_der_span ski;     /* subjectKeyIdentifier, or n 0 */
    struct tc_der_span aki;     /* authorityKeyIdentifier keyIdentifier */
};

/*
 * Read the certificate der (n bytes, borrowed: every span in out points
 * into it) into out. The whole buffer must be exactly one certificate.
 * Malformed DER is TC_ERR_PARSE, a well-formed certificate of another
 * kind TC_ERR_UNSUPPORTED; d names the field and its byte offset.
 */
int tc_der_cert_parse(const uint8_t *der, size_t n, struct tc_der_cert *out,
                      struct tc_detail *d);

/*
 * Seconds since 1970 of a UTCTime (13 characters, YYMMDDHHMMSSZ) or
 * GeneralizedTime (15, YYYYMMDDHHMMSSZ) value; tag 0x17 or 0x18. Returns
 * 0 and sets *t, or -1 for any other form.
 */
int tc_der_time(int tag, const uint8_t *s, size_t n, int64_t *t);

/*
 * Limitations: no other curve or signature algorithm; no fractional
 * seconds or time zone offsets in times (DER forbids them); multi-valued
 * RDNs are read, but only the first CN and serialNumber are reported.
 */

#endif
