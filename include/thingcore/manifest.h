/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Trust&GO manifests in Microchip's format: a JSON array of flattened JWS
 * objects, one per secure element, each signed ES256 by a manifest signer
 * certificate. This module creates entries from a chip's identity (given as
 * data, so it needs no chip client), makes and reuses the local manifest
 * signer, and verifies manifests as a stream: per entry the JWS, the
 * signer, the uniqueId in the protected payload (once per file), the x5c
 * chain to a pinned trust anchor, the device certificate's subject and
 * key, and the dates. The device certificate is read with the DER reader
 * of der.h, so it must be P-256 / ecdsa-with-SHA256.
 *
 * Entry format (flattened JWS, RFC 7515 section 7.2.2):
 *   { "header": {"uniqueId": "<18 lower hex>"},
 *     "protected": b64url({"typ":"JWT","alg":"ES256","kid":b64url(SKI),
 *                          "x5t#S256":b64url(SHA-256(signer DER))}),
 *     "payload": b64url(entry JSON), "signature": b64url(r || s) }
 *
 * Caveats:
 * - Verification works on the stored protected and payload strings, so the
 *   compact sorted JSON of Microchip's production manifests and the spaced
 *   JSON of Python tools both verify.
 * - Versions 1 (with publicKeySet) and 2 (without one) are accepted; a
 *   version 2 entry without publicKeySet verifies its JWS but yields no
 *   certificate. Any other version is refused.
 * - Only kid 0 is checked against a certificate; keys 1-4 are checked for
 *   their form (P-256 point encoding lengths), not for meaning.
 */
#ifndef THINGCORE_MANIFEST_H
#define THINGCORE_MANIFEST_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "thingcore/err.h"
#include "thingcore/util.h"

/* Largest single entry accepted (a real one is about 3 KB). */
#define TC_MANIFEST_ENTRY_MAX (64 * 1024)
/* Deepest nesting accepted inside an entry (a real one needs 5). */
#define TC_MANIFEST_DEPTH_MAX 16
/* Most signer certificates and trust anchors one verifier holds. */
#define TC_MANIFEST_SIGNERS_MAX 32
/* Most entries tc_manifest_create writes in one file. */
#define TC_MANIFEST_CREATE_MAX 100000
/*
 * Most distinct uniqueIds one verification run remembers to find
 * duplicates (16 bytes each at most twice over: 32 MiB at the limit);
 * past it every further entry fails with TC_ERR_TOO_BIG.
 */
#define TC_MANIFEST_UNIQUE_MAX 1000000
/* Public keys a Trust&GO chip exposes: slots 0 to 4. */
#define TC_MANIFEST_KEYS 5

/* organizationName and organizationalUnitName of a payload block. */
struct tc_manifest_org {
    const char *name;
    const char *unit;
};

/*
 * What one manifest entry says about one chip. Every pointer is borrowed
 * and must outlive the call that uses the identity.
 */
struct tc_manifest_identity {
    uint8_t sn[9];                         /* serial number, config 0-3,8-12 */
    const uint8_t *device_der;             /* device certificate (slot 10) */
    size_t device_len;
    const uint8_t *signer_der;             /* signer CA certificate (slot 12) */
    size_t signer_len;
    uint8_t pubkeys[TC_MANIFEST_KEYS][64]; /* X || Y of slots 0..npubkeys-1 */
    int npubkeys;                          /* 1..5; kid 0 is the device key */
    int version;                           /* payload version, default 1 */
    const char *model;                     /* default "ATECC608A" */
    const char *part_number;               /* default "ATECC608A-TNGTLS" */
    struct tc_manifest_org manufacturer;   /* Microchip, Secure Products */
    struct tc_manifest_org provisioner;    /* the same */
    struct tc_manifest_org distributor;    /* Microchip, Microchip Direct */
    const char *group_id;                  /* NULL: no groupId field */
};

/* Fill id with the Trust&GO defaults above; no certificates, no keys. */
void tc_manifest_identity_init(struct tc_manifest_identity *id);

/*
 * Fill sn, the certificate pointers and kid 0 from a device certificate
 * and its signer (DER, borrowed and kept by id). The serial number comes
 * from the device subject CN, "sn<18 hex>" (template 3) or "<18 hex> ATECC"
 * (template 2); kid 0 from the device certificate's P-256 key; npubkeys
 * becomes 1 because keys 1-4 are not in any certificate.
 * TC_ERR_MANIFEST_CERT names what is unusable.
 */
int tc_manifest_identity_from_certs(struct tc_manifest_identity *id,
                                    const uint8_t *device_der,
                                    size_t device_len,
                                    const uint8_t *signer_der,
                                    size_t signer_len, struct tc_detail *d);

/* A manifest signer: P-256 key and certificate, kid and x5t#S256. */
struct tc_manifest_signer;

/*
 * Load a signer from PEM files; the key must be P-256 and match the
 * certificate (TC_ERR_MANIFEST_SIGNER_KEY). Hands *out to the caller.
 */
int tc_manifest_signer_load(const char *key_path, const char *cert_path,
                            struct tc_manifest_signer **out,
                            struct tc_detail *d);
void tc_manifest_signer_free(struct tc_manifest_signer *s);

/* base64url of the certificate's SKI and SHA-256; borrowed from s. */
const char *tc_manifest_signer_kid(const struct tc_manifest_signer *s);
const char *tc_manifest_signer_x5t(const struct tc_manifest_signer *s);

/*
 * The local signer's folder: $XDG_CONFIG_HOME/thingcore/manifest-signer,
 * else $HOME/.config/thingcore/manifest-signer. Written to out (cap
 * bytes); TC_ERR_NOT_FOUND when neither variable is set.
 */
int tc_manifest_signer_default_dir(char *out, size_t cap,
                                   struct tc_detail *d);

/* File names inside a signer folder. */
#define TC_MANIFEST_SIGNER_KEY_FILE "signer_key.pem"
#define TC_MANIFEST_SIGNER_CERT_FILE "signer_cert.pem"

/*
 * Make a new signer in dir (created 0700): a P-256 key written 0600 and a
 * self-signed CA certificate with SKI and AKI, subject CN=cn, valid for
 * days days from now. An existing key or certificate is TC_ERR_EXISTS
 * unless force is set, because replacing the signer invalidates every
 * manifest it signed.
 */
int tc_manifest_signer_generate(const char *dir, const char *cn, int days,
                                int force, struct tc_detail *d);

/*
 * Append one signed entry for id to out, formatted as an element of the
 * indent=2 array tc_manifest_create writes (without separators). kid 0
 * must equal the device certificate's key and the signer certificate
 * must be the device certificate's issuer by name.
 */
int tc_manifest_entry_create(const struct tc_manifest_signer *s,
                             const struct tc_manifest_identity *id,
                             struct tc_buf *out, struct tc_detail *d);

/* A whole manifest file for n identities (ids borrowed), appended to out. */
int tc_manifest_create(const struct tc_manifest_signer *s,
                       const struct tc_manifest_identity *ids, size_t n,
                       struct tc_buf *out, struct tc_detail *d);

/* Verification. A verifier caches signer certificates and x5c signers. */
struct tc_manifest_verifier;

/* A new verifier whose time is now. Hands *out to the caller. */
int tc_manifest_verifier_new(struct tc_manifest_verifier **out);
void tc_manifest_verifier_free(struct tc_manifest_verifier *v);

/*
 * Add every certificate in data (PEM, possibly several, or one DER; copied)
 * as an accepted manifest signer, or as a trust anchor for x5c chains.
 */
int tc_manifest_verifier_add_signer(struct tc_manifest_verifier *v,
                                    const uint8_t *data, size_t n,
                                    struct tc_detail *d);
int tc_manifest_verifier_add_trust(struct tc_manifest_verifier *v,
                                   const uint8_t *data, size_t n,
                                   struct tc_detail *d);

/* Check validity at t rather than now (for archived manifests). */
void tc_manifest_verifier_set_time(struct tc_manifest_verifier *v, time_t t);

/*
 * Without trust anchors there is nothing to chain to: every entry with an
 * x5c fails TC_ERR_MANIFEST_CHAIN, unless the caller explicitly asks for
 * the weaker check Microchip's tools do (JWS and signer only).
 */
void tc_manifest_verifier_skip_chain(struct tc_manifest_verifier *v, int on);

/*
 * The outcome of one entry. Pointers are borrowed from the verifier and
 * valid only during the callback.
 */
struct tc_manifest_result {
    size_t index;              /* 0-based position in the array */
    long offset;               /* byte offset of the entry in the file */
    int err;                   /* TC_OK when every check passed */
    struct tc_detail detail;   /* field = the check, text = the reason */
    char unique_id[19];        /* payload's, else header's, else "" */
    int version;               /* payload version, 0 if unknown */
    const char *signer_kid;    /* kid of the manifest signer, or NULL */
    const char *timestamp;     /* provisioningTimestamp, or NULL */
    const char *model;         /* or NULL */
    const char *part_number;   /* or NULL */
    const uint8_t *device_der; /* NULL for an entry without x5c */
    size_t device_len;
    const uint8_t *signer_der;
    size_t signer_len;
};

/* Called once per entry; a non-zero return stops the run with that code. */
typedef int (*tc_manifest_result_fn)(void *ctx,
                                     const struct tc_manifest_result *r);

/* Counts over one run. */
struct tc_manifest_summary {
    size_t entries;
    size_t passed;
    size_t failed;
};

/*
 * Verify a manifest streamed from fd, a file, or memory (borrowed),
 * calling fn for every entry. Memory stays bounded by
 * TC_MANIFEST_ENTRY_MAX plus the table of uniqueIds seen (at most
 * TC_MANIFEST_UNIQUE_MAX), whatever the file size. An entry whose signed
 * uniqueId an earlier entry of the same run had fails with
 * TC_ERR_MANIFEST_DUPLICATE. Returns TC_OK when the
 * file is a well-formed array with at least one entry (entries may still
 * have failed: see sum), else the file-level error with the offset in d.
 */
int tc_manifest_verify_fd(struct tc_manifest_verifier *v, int fd,
                          tc_manifest_result_fn fn, void *ctx,
                          struct tc_manifest_summary *sum,
                          struct tc_detail *d);
int tc_manifest_verify_file(struct tc_manifest_verifier *v, const char *path,
                            tc_manifest_result_fn fn, void *ctx,
                            struct tc_manifest_summary *sum,
                            struct tc_detail *d);
int tc_manifest_verify_mem(struct tc_manifest_verifier *v, const char *data,
                           size_t n, tc_manifest_result_fn fn, void *ctx,
                           struct tc_manifest_summary *sum,
                           struct tc_detail *d);

/*
 * Limitations: one signature algorithm (ES256); no JWS "crit" or other
 * header parameters; x5c of exactly two certificates (device, signer);
 * the signer cache holds at most 256 distinct x5c signers, past which
 * each further entry pays for its own chain check.
 */

#endif
