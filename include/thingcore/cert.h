/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Trust&GO certificates: Microchip's 72-byte compressed certificates, the
 * certificate templates they expand into, a simulated factory that issues
 * certificates from those templates, and chain checks against explicit
 * trust anchors.
 *
 * Two directions share one definition of every template:
 * - factory: tc_cert_issue() fills a template with a subject's public key,
 *   dates and names, signs the TBS with the issuing CA's key, and returns
 *   the DER certificate and the compressed form a chip stores;
 * - host: tc_cert_rebuild() fills the same template from the compressed
 *   form plus what the chip stores elsewhere (public key, serial number,
 *   EUI-48, the issuer's public key) and gives back the very same DER.
 *
 * Every value derived from a key (certificate serial number, subject and
 * authority key identifiers) is computed, never taken from the chip, so a
 * rebuilt certificate is byte-identical to the issued one or fails its
 * signature check.
 *
 * Keys are P-256 public keys as 64 bytes X||Y (the chip's GenKey form).
 *
 * Caveats:
 * - Only compressed-certificate format version 0 and serial-number source
 *   0xA (public key hash) are supported, as on every Trust&GO part.
 * - The 5-bit year field limits issue dates to 2000-2031.
 * - A simulated factory root carries the real root's name (the signer
 *   template names its issuer), so it is told apart by its key and its
 *   label (tc_cert_is_simulated), never by its name. Trust a simulated root
 *   only on purpose.
 */
#ifndef THINGCORE_CERT_H
#define THINGCORE_CERT_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "thingcore/err.h"

#define TC_CERT_COMPRESSED_LEN 72
#define TC_CERT_PUBKEY_LEN 64
#define TC_CERT_SN_LEN 9
#define TC_CERT_EUI48_LEN 12
/* Largest DER any supported template rebuilds to. */
#define TC_CERT_DER_MAX 600

/* Serial-number source of every Trust&GO certificate: public key hash. */
#define TC_CERT_SNSRC_PUB_KEY_HASH 0xA

/* An issue date: UTC, whole hours (minutes and seconds are always 0). */
struct tc_cert_date {
    int year;  /* 2000-2031 */
    int month; /* 1-12 */
    int day;   /* 1-31, checked against the month */
    int hour;  /* 0-23 */
};

/*
 * The compressed certificate, decoded. Layout of the 72 bytes (from
 * Microchip's atcacert format version 0):
 *   0..63  signature r || s, 32 bytes each, big-endian
 *   64..66 dates: year-2000 (5 bits), month (4), day (5), hour (5),
 *          expire years (5), packed most significant bit first
 *   67..68 signer id
 *   69     template id (high nibble), chain id (low nibble)
 *   70     serial-number source (high nibble), format version (low nibble)
 *   71     reserved (0 in format 0)
 */
struct tc_cert_compressed {
    uint8_t signature[64];
    struct tc_cert_date issue;
    unsigned expire_years; /* 0-31; 0 = no expiry (9999-12-31 23:59:59) */
    uint8_t signer_id[2];
    unsigned template_id; /* 0-15 */
    unsigned chain_id;    /* 0-15 */
    unsigned sn_source;   /* 0-15 */
    unsigned format_version;
    uint8_t raw[TC_CERT_COMPRESSED_LEN];
};

/*
 * Decode raw (borrowed, 72 bytes) into out. An unknown format version is
 * TC_ERR_CERT_FORMAT; a month, day or hour out of range is
 * TC_ERR_CERT_DATE; d names the field and its byte offset.
 */
int tc_cert_compressed_decode(const uint8_t *raw,
                              struct tc_cert_compressed *out,
                              struct tc_detail *d);

/*
 * Fill c->raw from the other fields of c, checking each fits its bit
 * field (TC_ERR_CERT_DATE for dates, TC_ERR_ARG for the rest).
 */
int tc_cert_compressed_encode(struct tc_cert_compressed *c,
                              struct tc_detail *d);

/* Which of Microchip's templates. */
enum tc_cert_kind {
    TC_CERT_SIGNER_1 = 0, /* tngtls signer template 1 */
    TC_CERT_DEVICE_3,     /* tngtls device template 3 (current) */
    TC_CERT_DEVICE_2,     /* tngtls device template 2 (legacy) */
    TC_CERT_TFLX_4,       /* tflxtls device template 4 */
    TC_CERT_KIND_COUNT
};

/* A byte range in a template's DER. count 0 means "not in this template". */
struct tc_cert_loc {
    uint16_t offset;
    uint16_t count;
};

/*
 * A template as data: the DER with placeholder values and where each
 * variable field sits. All static; never freed.
 */
struct tc_cert_template {
    enum tc_cert_kind kind;
    const char *name;          /* e.g. "tngtls-device-template-3" */
    const unsigned char *der;  /* the template certificate */
    size_t der_len;
    unsigned template_id;      /* compressed byte 69, high nibble */
    unsigned chain_id;         /* compressed byte 69, low nibble */
    unsigned expire_years;     /* what the factory issues */
    int is_device;             /* 0 for the signer template */
    unsigned comp_cert_slot;   /* slot holding the compressed form */
    struct tc_cert_loc tbs;    /* TBSCertificate, header included */
    struct tc_cert_loc pubkey; /* X||Y inside the key BIT STRING */
    struct tc_cert_loc signature; /* the signature BIT STRING element */
    struct tc_cert_loc issue_date;  /* UTCTime, 13 characters */
    struct tc_cert_loc expire_date; /* GeneralizedTime, 15 characters */
    struct tc_cert_loc signer_id;   /* 4 upper-case hex characters */
    struct tc_cert_loc serial;      /* INTEGER content, 16 bytes */
    struct tc_cert_loc aki;         /* authority key identifier */
    struct tc_cert_loc ski;         /* subject key identifier */
    struct tc_cert_loc sn_high;     /* SN[0:4] as 8 upper-case hex */
    struct tc_cert_loc sn_low;      /* SN[4:9] as 10 upper-case hex */
    struct tc_cert_loc eui48;       /* slot 5 EUI-48, 12 characters */
};

/* The template of a kind; NULL for a value out of range. */
const struct tc_cert_template *tc_cert_template_get(enum tc_cert_kind kind);

/*
 * The device template the first 8 bytes of OTP block 0 name (otp_code,
 * borrowed, 8 bytes): "KQp2ZkD8"/"x6tjuZMy" template 3, "wdNxAjae"/
 * "Rsuy5YJh" template 2, "MKMwyhP1" TrustFLEX. Another code is
 * TC_ERR_CERT_OTP_CODE and d quotes the bytes seen.
 */
int tc_cert_template_for_otp(const uint8_t *otp_code,
                             const struct tc_cert_template **out,
                             struct tc_detail *d);

/*
 * Every variable value of a template, explicit. tc_cert_fill writes them;
 * tc_cert_extract reads them back from a DER certificate.
 */
struct tc_cert_fields {
    uint8_t serial[16];
    struct tc_cert_date issue;
    unsigned expire_years;
    uint8_t signer_id[2];
    uint8_t pubkey[TC_CERT_PUBKEY_LEN];
    uint8_t ski[20];
    uint8_t aki[20];
    uint8_t sn[TC_CERT_SN_LEN];       /* device templates only */
    char eui48[TC_CERT_EUI48_LEN + 1]; /* template 3 only; NUL-ended */
    uint8_t signature[64];            /* r || s */
};

/*
 * Write f into a copy of t's DER: dates as text, ids as upper-case hex,
 * the signature as a DER BIT STRING of SEQUENCE { r, s } with minimal
 * INTEGERs, and the outer SEQUENCE length fixed to match. der (borrowed,
 * cap bytes, TC_CERT_DER_MAX is always enough) receives *der_len bytes.
 * A value that does not fit its field is TC_ERR_CERT_FIELD or
 * TC_ERR_CERT_DATE naming the field.
 */
int tc_cert_fill(const struct tc_cert_template *t,
                 const struct tc_cert_fields *f, uint8_t *der, size_t cap,
                 size_t *der_len, struct tc_detail *d);

/*
 * Read the variable values out of der (borrowed, untrusted). Every byte
 * outside the variable fields must equal the template's
 * (TC_ERR_CERT_MISMATCH with the offset), the signature must be a strict
 * DER encoding (TC_ERR_CERT_SIGNATURE) ending the certificate, and the
 * dates must be representable in compressed form (TC_ERR_CERT_DATE).
 * tc_cert_fill(t, out) then reproduces der exactly.
 */
int tc_cert_extract(const struct tc_cert_template *t, const uint8_t *der,
                    size_t der_len, struct tc_cert_fields *out,
                    struct tc_detail *d);

/*
 * What a host reads from the chip besides the compressed certificate, and
 * what the factory knows of a chip (never its private key).
 */
struct tc_cert_inputs {
    uint8_t pubkey[TC_CERT_PUBKEY_LEN];    /* subject key: slot 0 or 11 */
    uint8_t ca_pubkey[TC_CERT_PUBKEY_LEN]; /* issuer key: signer or root */
    uint8_t sn[TC_CERT_SN_LEN];            /* device templates */
    char eui48[TC_CERT_EUI48_LEN + 1];     /* template 3: slot 5 text */
};

/*
 * Rebuild the certificate a chip stores in compressed form c. The
 * compressed form's template id, chain id and serial-number source must be
 * the template's (TC_ERR_CERT_TEMPLATE_ID). The serial number is
 * SHA-256(pubkey || c->raw[64..66]) truncated to 16 bytes with the top
 * bits forced to 01; SKI and AKI are SHA-1(04 || X || Y) of the subject
 * and issuer keys. der (borrowed, cap bytes) receives *der_len bytes.
 */
int tc_cert_rebuild(const struct tc_cert_template *t,
                    const struct tc_cert_compressed *c,
                    const struct tc_cert_inputs *in, uint8_t *der,
                    size_t cap, size_t *der_len, struct tc_detail *d);

/*
 * Issue a certificate from template t (the factory side): the subject
 * key, chip serial and EUI-48 from in, the given signer id and issue date
 * (expiry: the template's expire_years), signed with ca_key (borrowed,
 * P-256 private key whose public half must equal in->ca_pubkey, else
 * TC_ERR_CERT_KEY). der (borrowed, cap bytes) receives the certificate,
 * comp (borrowed, may be NULL) its compressed form.
 */
int tc_cert_issue(const struct tc_cert_template *t,
                  const struct tc_cert_inputs *in, const uint8_t *signer_id,
                  const struct tc_cert_date *issue, EVP_PKEY *ca_key,
                  uint8_t *der, size_t cap, size_t *der_len,
                  struct tc_cert_compressed *comp, struct tc_detail *d);

/* The issue date for time t: UTC, truncated to the hour. */
int tc_cert_date_from_time(time_t t, struct tc_cert_date *out,
                           struct tc_detail *d);

/*
 * Format the dates a certificate from compressed form c carries: issue as
 * UTCTime "YYMMDDhh0000Z" (14 bytes with NUL), expiry as GeneralizedTime
 * "YYYYMMDDhh0000Z" or "99991231235959Z" when expire_years is 0 (16).
 */
int tc_cert_format_dates(const struct tc_cert_date *issue,
                         unsigned expire_years, char *utc_issue,
                         char *gen_expire, struct tc_detail *d);

/* Generate a P-256 key; *out is handed to the caller (EVP_PKEY_free). */
int tc_cert_key_generate(EVP_PKEY **out, struct tc_detail *d);

/* The public half of a P-256 key (borrowed) as X||Y into pub (64 bytes). */
int tc_cert_key_public(EVP_PKEY *key, uint8_t *pub, struct tc_detail *d);

/*
 * Build an EVP_PKEY from X||Y (64 bytes, borrowed); a point not on P-256
 * is TC_ERR_CERT_KEY. *out is handed to the caller.
 */
int tc_cert_key_from_public(const uint8_t *pub, EVP_PKEY **out,
                            struct tc_detail *d);

/*
 * Unpad the 72-byte stored form of a public key (4 zero bytes, X, 4 zero
 * bytes, Y; slot 11) into 64 bytes X||Y. Non-zero padding is
 * TC_ERR_CERT_FIELD.
 */
int tc_cert_pubkey_unpad(const uint8_t *padded72, uint8_t *pub64,
                         struct tc_detail *d);

/*
 * Create a simulated factory root CA (self-signed, P-256): subject
 * O=Microchip Technology Inc, CN=Crypto Authentication Root CA 002 as the
 * signer template demands, valid from issue for 40 years, SKI = AKI =
 * SHA-1 of the key, and labelled simulated by a Netscape comment extension
 * holding TC_CERT_SIMULATED_LABEL. key (borrowed) is the root's private
 * key; *out is handed to the caller (X509_free).
 */
#define TC_CERT_SIMULATED_LABEL                                               \
    "thingcore simulated Trust&GO factory root; not issued by Microchip"
int tc_cert_root_create(EVP_PKEY *key, const struct tc_cert_date *issue,
                        X509 **out, struct tc_detail *d);

/* 1 when cert (borrowed) carries the simulated label, else 0. */
int tc_cert_is_simulated(X509 *cert);

/*
 * The real Crypto Authentication Root CA 002, parsed from the bytes the
 * library carries; *out is handed to the caller (X509_free).
 */
int tc_cert_microchip_root(X509 **out, struct tc_detail *d);

/* Parse DER (borrowed) into *out, handed to the caller. */
int tc_cert_x509_from_der(const uint8_t *der, size_t len, X509 **out,
                          struct tc_detail *d);

/* Parse the first PEM certificate in pem (borrowed, len bytes). */
int tc_cert_x509_from_pem(const char *pem, size_t len, X509 **out,
                          struct tc_detail *d);

/*
 * Verify device <- signer <- anchor. anchors (borrowed, n of them) are the
 * only trusted certificates and each must be self-signed
 * (TC_ERR_CERT_ANCHOR); the signer certificate is always an untrusted
 * intermediate and the chain must be exactly three certificates long.
 * at is the verification time (0 = now). A failure is TC_ERR_CERT_CHAIN
 * with d->field "device", "signer" or "anchor" naming the failing link
 * and d->text OpenSSL's reason.
 */
int tc_cert_verify_chain(const uint8_t *device_der, size_t device_len,
                         const uint8_t *signer_der, size_t signer_len,
                         X509 *const *anchors, size_t n_anchors, time_t at,
                         struct tc_detail *d);

#endif
