/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What the manifest files share and nothing else needs: the streaming
 * array splitter, ES256 over r||s, and certificate helpers.
 */
#ifndef THINGCORE_MANIFEST_INTERNAL_H
#define THINGCORE_MANIFEST_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "thingcore/manifest.h"

/*
 * Called for every top-level array element: text (n bytes, borrowed, not
 * NUL-terminated) with its index and byte offset, or text NULL and err set
 * (TC_ERR_TOO_BIG, TC_ERR_JSON_DEPTH) when the element broke a limit and
 * was skipped without being kept. A non-zero return stops the split.
 */
typedef int (*tc_split_fn)(void *ctx, size_t index, long offset,
                           const char *text, size_t n, int err);

struct tc_split {
    int state;        /* where in the array grammar the scan is */
    int in_string;    /* inside "..." of the current element */
    int escape;       /* the previous byte was a backslash in a string */
    int is_scalar;    /* the element did not start with { or [ */
    size_t depth;     /* nesting inside the element */
    size_t max_depth; /* deepest nesting seen in the element */
    int too_big;      /* the element outgrew elem.max: not kept */
    size_t index;     /* elements emitted so far */
    long start;       /* offset of the current element */
    long pos;         /* offset of the next byte fed */
    size_t limit;     /* depth limit */
    struct tc_buf elem;
};

void tc_split_init(struct tc_split *s, size_t max_entry, size_t max_depth);
void tc_split_clear(struct tc_split *s);
/* Feed n bytes (borrowed). File-level errors stop with d filled. */
int tc_split_feed(struct tc_split *s, const char *p, size_t n,
                  tc_split_fn fn, void *ctx, struct tc_detail *d);
/* After the last byte: TC_ERR_MANIFEST_TRUNCATED unless the array closed. */
int tc_split_finish(struct tc_split *s, struct tc_detail *d);

/* A loaded manifest signer (manifest.h), shared by create and signer. */
struct tc_manifest_signer {
    EVP_PKEY *key;
    X509 *cert;
    uint8_t *der; /* the certificate's DER, owned */
    size_t der_len;
    char kid[64];
    char x5t[48];
};

/* ES256 over msg with key; rs receives r || s (64 bytes). */
int tc_mf_sign(EVP_PKEY *key, const char *msg, size_t n, uint8_t *rs,
               struct tc_detail *d);
/* 1 when rs (64 bytes) is a valid ES256 signature over msg, else 0. */
int tc_mf_verify(EVP_PKEY *key, const char *msg, size_t n,
                 const uint8_t *rs);

/* X || Y of a P-256 certificate key into xy (64); TC_ERR_MANIFEST_CERT. */
int tc_mf_cert_xy(X509 *cert, uint8_t *xy, struct tc_detail *d);
/* base64url of the SKI (out 64 bytes) and of SHA-256 of der (out 64). */
int tc_mf_cert_kid(X509 *cert, char *out, struct tc_detail *d);
void tc_mf_x5t(const uint8_t *der, size_t n, char *out);

/*
 * The serial number a device certificate's subject CN names: "sn" + 18
 * hex, or 18 hex + " ATECC". TC_ERR_MANIFEST_CERT when neither.
 */
int tc_mf_cert_sn(X509 *cert, uint8_t *sn, struct tc_detail *d);

#endif
