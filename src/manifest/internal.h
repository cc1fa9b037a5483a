/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What the manifest files share and nothing else needs: the streaming
 * array splitter, ES256 signing and cached verification, and certificate
 * helpers.
 */
#ifndef THINGCORE_MANIFEST_INTERNAL_H
#define THINGCORE_MANIFEST_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
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
/*
 * A verify context for key (kept by the caller, EVP_PKEY_CTX_free), set
 * up once so each later signature costs only the ECDSA verification.
 * NULL on failure.
 */
EVP_PKEY_CTX *tc_mf_verify_ctx(EVP_PKEY *key);
/*
 * 1 when sig (a DER ECDSA-Sig-Value, sig_len bytes) is valid over SHA-256
 * of msg with ctx's key, else 0. md is scratch; sha256 is fetched once.
 */
int tc_mf_verify_der(EVP_PKEY_CTX *ctx, EVP_MD_CTX *md, const EVP_MD *sha256,
                     const uint8_t *msg, size_t n, const uint8_t *sig,
                     size_t sig_len);

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
/* The same rule over a CN value's bytes; TC_ERR_MANIFEST_CERT if neither. */
int tc_mf_cn_sn(const uint8_t *cn, size_t len, uint8_t *sn);

/*
 * Flat views of an entry and its payload (view.c): what the verifier
 * reads, whichever reader filled them. Spans borrow from the text or the
 * jansson tree they came from; strings are not NUL-terminated.
 */
enum { TC_MF_ABSENT = 0, TC_MF_STRING, TC_MF_INTEGER, TC_MF_OTHER };
#define TC_MF_KEYS_MAX 16

struct tc_mf_sv {
    int type; /* TC_MF_* */
    const char *p;
    size_t n;
    long long i; /* for TC_MF_INTEGER */
};

struct tc_mf_env {
    struct tc_mf_sv unknown; /* first member not one of the four */
    int header_object;
    size_t header_size;
    struct tc_mf_sv uid; /* header.uniqueId */
    struct tc_mf_sv prot;
    struct tc_mf_sv pay;
    struct tc_mf_sv sig;
};

struct tc_mf_key {
    int is_object;
    int unknown; /* a member other than kid, kty, crv, x, y, x5c */
    struct tc_mf_sv kid, kty, crv, x, y;
    int x5c_present;
    int x5c_ok; /* an array of exactly two strings */
    struct tc_mf_sv x5c[2];
};

struct tc_mf_pay {
    int is_object;
    struct tc_mf_sv version, model, part, ts, uid;
    int set_present; /* publicKeySet is a member, of any type */
    int keys_array;  /* publicKeySet is an object whose keys is an array */
    size_t nkeys;    /* its length; views for the first TC_MF_KEYS_MAX */
    struct tc_mf_key keys[TC_MF_KEYS_MAX];
};

/*
 * The fast reader: 1 with the view filled, or 0 when the text leaves the
 * subset it handles (which says nothing about the text's validity).
 */
int tc_mf_env_fast(const char *text, size_t n, struct tc_mf_env *e);
int tc_mf_pay_fast(const char *text, size_t n, struct tc_mf_pay *pv);
/* The same views from jansson trees (borrowed, must outlive the view). */
void tc_mf_env_json(const json_t *entry, struct tc_mf_env *e);
void tc_mf_pay_json(const json_t *pay, struct tc_mf_pay *pv);

#endif
