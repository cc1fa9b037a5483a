// SPDX-License-Identifier: Apache-2.0
/*
 * Manifest verification, stricter than Microchip's tools: besides the JWS
 * and the signer thumbprints it takes the uniqueId only from the signed
 * payload, chains the x5c signer to a pinned trust anchor, checks that the
 * device certificate was issued by it, names uniqueId and holds kid 0's
 * key, and checks every date; a uniqueId seen in an earlier entry fails.
 * Each entry is parsed alone (split.c finds it), so memory stays bounded
 * whatever the number of entries. Per entry the cost is close to its two
 * ECDSA verifications: the device certificate is read by the DER reader
 * (der.h) rather than decoded into an X509, and the signer keys' verify
 * contexts are set up once.
 *
 * Entry grammar accepted (flattened JWS, RFC 7515 section 7.2.2):
 *   { "header": { "uniqueId": string }, "protected": b64url,
 *     "payload": b64url, "signature": b64url(64 bytes) }   (no other keys)
 *   protected = { "alg": "ES256", "kid": string, "x5t#S256": string
 *                 [, "typ": "JWT"] }                        (no other keys)
 *   payload   = { "version": 1 | 2, "uniqueId": 18 lower hex,
 *                 ["publicKeySet": {"keys": [ key, ... ]}], ... }
 *   key       = { "kid": string, "kty": "EC", "crv": "P-256",
 *                 "x": b64url(32), "y": b64url(32),
 *                 ["x5c": [base64(device DER), base64(signer DER)]] }
 */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/obj_mac.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "internal.h"
#include "thingcore/der.h"
#include "thingcore/ec.h"
#include "thingcore/json.h"

/* Limits on the parts of one entry. */
#define PROTECTED_MAX 1024
#define CERT_MAX 4096
#define KEYS_MAX 16
#define X5C_CACHE_MAX 256
#define READ_CHUNK (64 * 1024)
/* First size of the table of seen uniqueIds (slots, a power of two). */
#define SEEN_FIRST 1024

/* One slot of the seen-uniqueId table: serial number and first index. */
struct seen_slot {
    uint8_t sn[9];
    uint8_t used;
    uint32_t index;
};

/* A manifest signer given on the command line, parsed once. */
struct signer_ent {
    X509 *cert;
    EVP_PKEY_CTX *vctx; /* ES256 verify context of its key */
    char kid[64];
    char x5t[48];
    char name[128];
    int valid; /* at the verifier's time; refreshed per run */
};

/* A distinct x5c signer certificate, keyed by its base64 text. */
struct x5c_ent {
    char *b64;
    size_t b64_len;
    uint8_t *der;
    size_t der_len;
    X509 *cert;
    const uint8_t *subject; /* its subject Name DER, borrowed from cert */
    size_t subject_len;
    const uint8_t *ski; /* its subjectKeyIdentifier, or NULL */
    size_t ski_len;
    EVP_PKEY_CTX *vctx; /* verify context of its key, for device certs */
    int err;            /* outcome of its own chain check */
    char why[200];
};

struct tc_manifest_verifier {
    struct signer_ent signers[TC_MANIFEST_SIGNERS_MAX];
    size_t nsigners;
    X509_STORE *store;
    size_t ntrust;
    time_t now;
    int skip_chain;
    struct x5c_ent cache[X5C_CACHE_MAX];
    size_t ncache;

    /* Fetched once: SHA-256, a digest context, and the P-256 group. */
    EVP_MD *sha256;
    EVP_MD_CTX *md;
    EC_GROUP *p256;
    EC_POINT *point;

    /* uniqueIds of this run, open addressing, at most half full. */
    struct seen_slot *seen;
    size_t seen_cap;
    size_t seen_count;

    /* Scratch for the current entry, reused to avoid allocation. */
    struct tc_buf input;   /* protected "." payload */
    struct tc_buf prot;    /* decoded protected header */
    struct tc_buf pay;     /* decoded payload */
    struct tc_buf dev;     /* decoded device certificate */
    struct x5c_ent single; /* an x5c signer when the cache is full */
    json_t *entry;         /* jansson's trees when the fast reader gave */
    json_t *payload;       /* up, kept until the next entry */
    struct tc_mf_env env;  /* views of the current entry */
    struct tc_mf_pay pv;
    struct tc_buf texts;   /* NUL-terminated strings results point to */
};

int
tc_manifest_verifier_new(struct tc_manifest_verifier **out)
{
    struct tc_manifest_verifier *v = calloc(1, sizeof(*v));

    *out = NULL;
    if (v == NULL) {
        return TC_ERR_NOMEM;
    }
    v->store = X509_STORE_new();
    v->sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
    v->md = EVP_MD_CTX_new();
    v->p256 = EC_GROUP_new_by_curve_name(NID_X9_62_prime256v1);
    v->point = v->p256 != NULL ? EC_POINT_new(v->p256) : NULL;
    if (v->store == NULL || v->sha256 == NULL || v->md == NULL ||
        v->point == NULL) {
        ERR_clear_error();
        tc_manifest_verifier_free(v);
        return TC_ERR_NOMEM;
    }
    v->now = time(NULL);
    tc_buf_init(&v->input, 2 * TC_MANIFEST_ENTRY_MAX);
    tc_buf_init(&v->prot, PROTECTED_MAX);
    tc_buf_init(&v->pay, TC_MANIFEST_ENTRY_MAX);
    tc_buf_init(&v->dev, CERT_MAX);
    tc_buf_init(&v->texts, TC_MANIFEST_ENTRY_MAX);
    *out = v;
    return TC_OK;
}

static void
x5c_clear(struct x5c_ent *e)
{
    free(e->b64);
    free(e->der);
    X509_free(e->cert);
    EVP_PKEY_CTX_free(e->vctx);
    memset(e, 0, sizeof(*e));
}

void
tc_manifest_verifier_free(struct tc_manifest_verifier *v)
{
    size_t i;

    if (v == NULL) {
        return;
    }
    for (i = 0; i < v->nsigners; i++) {
        X509_free(v->signers[i].cert);
        EVP_PKEY_CTX_free(v->signers[i].vctx);
    }
    for (i = 0; i < v->ncache; i++) {
        x5c_clear(&v->cache[i]);
    }
    x5c_clear(&v->single);
    X509_STORE_free(v->store);
    EVP_MD_free(v->sha256);
    EVP_MD_CTX_free(v->md);
    EC_POINT_free(v->point);
    EC_GROUP_free(v->p256);
    free(v->seen);
    tc_buf_clear(&v->input, 0);
    tc_buf_clear(&v->prot, 0);
    tc_buf_clear(&v->pay, 0);
    tc_buf_clear(&v->dev, 0);
    tc_buf_clear(&v->texts, 0);
    json_decref(v->entry);
    json_decref(v->payload);
    free(v);
}

void
tc_manifest_verifier_set_time(struct tc_manifest_verifier *v, time_t t)
{
    v->now = t;
}

void
tc_manifest_verifier_skip_chain(struct tc_manifest_verifier *v, int on)
{
    v->skip_chain = on;
}

/*
 * Every certificate in data: PEM blocks, or a single DER certificate.
 * Calls add(v, cert) which takes the reference. At least one is required.
 */
static int
each_cert(struct tc_manifest_verifier *v, const uint8_t *data, size_t n,
          int (*add)(struct tc_manifest_verifier *, X509 *,
                     struct tc_detail *),
          struct tc_detail *d)
{
    int rc = TC_OK;
    int count = 0;
    BIO *bio;
    X509 *x;
    const uint8_t *q = data;

    if (n > 1024 * 1024) {
        return tc_detail_set(d, TC_ERR_TOO_BIG, -1, "certificate",
                             "certificate file larger than 1 MiB");
    }
    if (n > 0 && data[0] == 0x30) {
        x = d2i_X509(NULL, &q, (long)n);
        if (x == NULL || q != data + n) {
            X509_free(x);
            ERR_clear_error();
            return tc_detail_set(d, TC_ERR_PARSE, -1, "certificate",
                                 "not one DER certificate");
        }
        return add(v, x, d);
    }
    bio = BIO_new_mem_buf(data, (int)n);
    if (bio == NULL) {
        return TC_ERR_NOMEM;
    }
    while (rc == TC_OK) {
        x = PEM_read_bio_X509(bio, NULL, NULL, NULL);
        if (x == NULL) {
            break;
        }
        rc = add(v, x, d);
        count++;
    }
    BIO_free(bio);
    ERR_clear_error();
    if (rc == TC_OK && count == 0) {
        rc = tc_detail_set(d, TC_ERR_PARSE, -1, "certificate",
                           "no PEM certificate found");
    }
    return rc;
}

static int
add_signer(struct tc_manifest_verifier *v, X509 *x, struct tc_detail *d)
{
    struct signer_ent *s;
    uint8_t *der = NULL;
    uint8_t xy[64];
    int len;
    int rc;

    if (v->nsigners >= TC_MANIFEST_SIGNERS_MAX) {
        X509_free(x);
        return tc_detail_set(d, TC_ERR_TOO_BIG, -1, "signer",
                             "more than %d signer certificates",
                             TC_MANIFEST_SIGNERS_MAX);
    }
    s = &v->signers[v->nsigners];
    memset(s, 0, sizeof(*s));

    /* ES256 needs a P-256 key; the kid needs an SKI. */
    rc = tc_mf_cert_xy(x, xy, d);
    if (rc == TC_OK) {
        rc = tc_mf_cert_kid(x, s->kid, d);
    }
    len = rc == TC_OK ? i2d_X509(x, &der) : -1;
    if (rc == TC_OK && len <= 0) {
        rc = tc_detail_set(d, TC_ERR_CRYPTO, -1, "signer",
                           "cannot encode the signer certificate");
    }
    if (rc != TC_OK) {
        OPENSSL_free(der);
        X509_free(x);
        return rc;
    }
    tc_mf_x5t(der, (size_t)len, s->x5t);
    OPENSSL_free(der);
    s->vctx = tc_mf_verify_ctx(X509_get0_pubkey(x));
    if (s->vctx == NULL) {
        X509_free(x);
        return tc_detail_set(d, TC_ERR_CRYPTO, -1, "signer",
                             "cannot set up verification with the signer "
                             "key");
    }
    X509_NAME_oneline(X509_get_subject_name(x), s->name, sizeof(s->name));
    s->cert = x;
    v->nsigners++;
    return TC_OK;
}

static int
add_trust(struct tc_manifest_verifier *v, X509 *x, struct tc_detail *d)
{
    int ok = X509_STORE_add_cert(v->store, x);

    X509_free(x);
    ERR_clear_error();
    if (ok != 1) {
        return tc_detail_set(d, TC_ERR_CRYPTO, -1, "trust",
                             "cannot add the trust anchor");
    }
    v->ntrust++;
    return TC_OK;
}

int
tc_manifest_verifier_add_signer(struct tc_manifest_verifier *v,
                                const uint8_t *data, size_t n,
                                struct tc_detail *d)
{
    return each_cert(v, data, n, add_signer, d);
}

int
tc_manifest_verifier_add_trust(struct tc_manifest_verifier *v,
                               const uint8_t *data, size_t n,
                               struct tc_detail *d)
{
    return each_cert(v, data, n, add_trust, d);
}

/* 0 when t lies inside the certificate's validity, else -1 or 1. */
static int
cert_when(X509 *x, time_t t)
{
    if (X509_cmp_time(X509_get0_notBefore(x), &t) >= 0) {
        return -1;
    }
    if (X509_cmp_time(X509_get0_notAfter(x), &t) <= 0) {
        return 1;
    }
    return 0;
}

/* Start of a run: the time may have changed since the last one. */
static void
prepare(struct tc_manifest_verifier *v)
{
    size_t i;

    for (i = 0; i < v->nsigners; i++) {
        v->signers[i].valid = cert_when(v->signers[i].cert, v->now) == 0;
    }
    for (i = 0; i < v->ncache; i++) {
        x5c_clear(&v->cache[i]);
    }
    v->ncache = 0;
    free(v->seen);
    v->seen = NULL;
    v->seen_cap = 0;
    v->seen_count = 0;
}

/* FNV-1a of a serial number: the table's hash. */
static size_t
sn_hash(const uint8_t *sn)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    int i;

    for (i = 0; i < 9; i++) {
        h = (h ^ sn[i]) * 0x100000001b3ULL;
    }
    return (size_t)h;
}

/* The slot of sn in a table of cap slots (cap a power of two). */
static struct seen_slot *
seen_find(struct seen_slot *t, size_t cap, const uint8_t *sn)
{
    size_t i = sn_hash(sn) & (cap - 1);

    while (t[i].used && memcmp(t[i].sn, sn, 9) != 0) {
        i = (i + 1) & (cap - 1);
    }
    return &t[i];
}

/* Double the table (or make the first one), rehashing every id. */
static int
seen_grow(struct tc_manifest_verifier *v)
{
    size_t cap = v->seen_cap == 0 ? SEEN_FIRST : 2 * v->seen_cap;
    struct seen_slot *t = calloc(cap, sizeof(*t));
    size_t i;

    if (t == NULL) {
        return TC_ERR_NOMEM;
    }
    for (i = 0; i < v->seen_cap; i++) {
        if (v->seen[i].used) {
            *seen_find(t, cap, v->seen[i].sn) = v->seen[i];
        }
    }
    free(v->seen);
    v->seen = t;
    v->seen_cap = cap;
    return TC_OK;
}

/*
 * Record sn as seen in entry index. TC_ERR_MANIFEST_DUPLICATE with the
 * earlier entry in *first when it was already seen; TC_ERR_TOO_BIG past
 * TC_MANIFEST_UNIQUE_MAX distinct ids, which bounds the memory used.
 */
static int
seen_add(struct tc_manifest_verifier *v, const uint8_t *sn, size_t index,
         size_t *first)
{
    struct seen_slot *s;

    if (v->seen_cap > 0) {
        s = seen_find(v->seen, v->seen_cap, sn);
        if (s->used) {
            *first = s->index;
            return TC_ERR_MANIFEST_DUPLICATE;
        }
    }
    if (v->seen_count >= TC_MANIFEST_UNIQUE_MAX) {
        return TC_ERR_TOO_BIG;
    }
    if (2 * (v->seen_count + 1) > v->seen_cap && seen_grow(v) != TC_OK) {
        return TC_ERR_NOMEM;
    }
    s = seen_find(v->seen, v->seen_cap, sn);
    memcpy(s->sn, sn, 9);
    s->used = 1;
    s->index = (uint32_t)index;
    v->seen_count++;
    return TC_OK;
}

/* Decode a base64 JSON string value into b; url selects the alphabet. */
static int
decode(const char *s, size_t n, int url, struct tc_buf *b)
{
    size_t len = 0;
    int rc;

    b->len = 0;
    if (tc_base64_decoded_max(n) > b->max) {
        return TC_ERR_TOO_BIG;
    }
    rc = tc_buf_reserve(b, tc_base64_decoded_max(n) + 1);
    if (rc != TC_OK) {
        return rc;
    }
    rc = tc_base64_decode(s, n, b->data, b->cap, &len, url, NULL);
    if (rc != TC_OK) {
        return rc;
    }
    b->len = len;
    b->data[len] = '\0';
    return TC_OK;
}

/* The chain check of one distinct x5c signer, run once and cached. */
static void
x5c_check(struct tc_manifest_verifier *v, struct x5c_ent *e)
{
    X509_STORE_CTX *ctx = NULL;
    int code;

    e->err = TC_ERR_MANIFEST_CHAIN;
    if (X509_check_ca(e->cert) < 1) {
        snprintf(e->why, sizeof(e->why),
                 "x5c signer certificate is not a CA");
        return;
    }

    /* What the device link needs of its issuer, found once. */
    if ((X509_get_key_usage(e->cert) & KU_KEY_CERT_SIGN) == 0) {
        snprintf(e->why, sizeof(e->why),
                 "x5c signer certificate's keyUsage lacks keyCertSign");
        return;
    }
    e->vctx = tc_mf_verify_ctx(X509_get0_pubkey(e->cert));
    if (e->vctx == NULL ||
        X509_NAME_get0_der(X509_get_subject_name(e->cert), &e->subject,
                           &e->subject_len) != 1) {
        ERR_clear_error();
        snprintf(e->why, sizeof(e->why),
                 "x5c signer certificate's key or subject is unusable");
        return;
    }
    {
        const ASN1_OCTET_STRING *ski = X509_get0_subject_key_id(e->cert);

        if (ski != NULL) {
            e->ski = ASN1_STRING_get0_data(ski);
            e->ski_len = (size_t)ASN1_STRING_length(ski);
        }
    }
    if (v->skip_chain) {
        e->err = TC_OK;
        return;
    }
    if (v->ntrust == 0) {
        snprintf(e->why, sizeof(e->why),
                 "no trust anchor given to chain the x5c signer to");
        return;
    }
    ctx = X509_STORE_CTX_new();
    if (ctx == NULL || X509_STORE_CTX_init(ctx, v->store, e->cert, NULL) != 1) {
        snprintf(e->why, sizeof(e->why), "cannot set up chain check");
        goto out;
    }

    /* A pinned anchor may be an intermediate, not only a root. */
    X509_STORE_CTX_set_flags(ctx, X509_V_FLAG_PARTIAL_CHAIN);
    X509_VERIFY_PARAM_set_time(X509_STORE_CTX_get0_param(ctx), v->now);
    if (X509_verify_cert(ctx) == 1) {
        e->err = TC_OK;
        goto out;
    }
    code = X509_STORE_CTX_get_error(ctx);
    if (code == X509_V_ERR_CERT_HAS_EXPIRED ||
        code == X509_V_ERR_CERT_NOT_YET_VALID) {
        e->err = TC_ERR_MANIFEST_DATES;
    }
    snprintf(e->why, sizeof(e->why), "x5c signer: %s",
             X509_verify_cert_error_string(code));
out:
    ERR_clear_error();
    X509_STORE_CTX_free(ctx);
}

/* The x5c signer for base64 text s, from the cache or parsed now. */
static int
x5c_signer(struct tc_manifest_verifier *v, const char *s, size_t n,
           struct x5c_ent **out, struct tc_detail *d)
{
    struct x5c_ent *e;
    struct tc_buf b;
    const uint8_t *q;
    size_t i;
    int rc;

    for (i = 0; i < v->ncache; i++) {
        e = &v->cache[i];
        if (e->b64_len == n && memcmp(e->b64, s, n) == 0) {
            *out = e;
            return TC_OK;
        }
    }
    if (v->ncache < X5C_CACHE_MAX) {
        e = &v->cache[v->ncache];
    } else {
        e = &v->single;
        x5c_clear(e);
    }

    /* Decode and parse the signer DER once. */
    tc_buf_init(&b, CERT_MAX);
    rc = decode(s, n, 0, &b);
    if (rc != TC_OK) {
        tc_buf_clear(&b, 0);
        return tc_detail_set(d, TC_ERR_MANIFEST_SHAPE, -1, "shape",
                             "x5c[1] is not standard base64 of at most %d "
                             "bytes", CERT_MAX);
    }
    q = b.data;
    e->cert = d2i_X509(NULL, &q, (long)b.len);
    if (e->cert == NULL || q != b.data + b.len) {
        ERR_clear_error();
        X509_free(e->cert);
        e->cert = NULL;
        tc_buf_clear(&b, 0);
        return tc_detail_set(d, TC_ERR_MANIFEST_SHAPE, -1, "shape",
                             "x5c[1] is not one DER certificate");
    }
    e->der = b.data;
    e->der_len = b.len;
    e->b64 = malloc(n);
    if (e->b64 == NULL) {
        x5c_clear(e);
        return TC_ERR_NOMEM;
    }
    memcpy(e->b64, s, n);
    e->b64_len = n;
    x5c_check(v, e);
    if (e != &v->single) {
        v->ncache++;
    }
    *out = e;
    return TC_OK;
}

/* The one string member key of obj, with its length, or NULL. */
static const char *
str_of(const json_t *obj, const char *key, size_t *n)
{
    const json_t *j = json_object_get(obj, key);

    *n = 0;
    if (!json_is_string(j)) {
        return NULL;
    }
    *n = json_string_length(j);
    return json_string_value(j);
}

/* Every key of obj is one of the NULL-terminated names. */
static const char *
unknown_key(const json_t *obj, const char *const *names)
{
    const char *key;
    json_t *val;
    size_t i;

    json_object_foreach((json_t *)obj, key, val) {
        for (i = 0; names[i] != NULL; i++) {
            if (strcmp(key, names[i]) == 0) {
                break;
            }
        }
        if (names[i] == NULL) {
            return key;
        }
    }
    return NULL;
}

/*
 * Up to 40 bytes of untrusted text for a message, with anything but
 * printable ASCII as '?'; out holds at least 41 bytes.
 */
static const char *
sanitized(const char *p, size_t n, char *out)
{
    size_t i;

    n = n > 40 ? 40 : n;
    for (i = 0; i < n; i++) {
        out[i] = p[i] >= 0x20 && p[i] < 0x7f ? p[i] : '?';
    }
    out[n] = '\0';
    return out;
}

static int
is_unique_id(const char *s, size_t n)
{
    size_t i;

    if (n != 18) {
        return 0;
    }
    for (i = 0; i < n; i++) {
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f'))) {
            return 0;
        }
    }
    return 1;
}

/* Copy a uniqueId for reporting only if it looks like one. */
static void
note_uid(struct tc_manifest_result *r, const char *s, size_t n)
{
    size_t i;

    if (s == NULL || n == 0 || n > 18) {
        return;
    }
    for (i = 0; i < n; i++) {
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'z') ||
              (s[i] >= 'A' && s[i] <= 'Z'))) {
            return;
        }
    }
    memcpy(r->unique_id, s, n);
    r->unique_id[n] = '\0';
}

/* The JWS layer: shape, protected header, signer, signature. */
static int
check_jws(struct tc_manifest_verifier *v, const struct tc_mf_env *e,
          struct tc_manifest_result *r, struct signer_ent **signer,
          struct tc_detail *d)
{
    static const char *const prot_keys[] = {"typ", "alg", "kid", "x5t#S256",
                                            NULL};
    const char *prot = e->prot.p;
    const char *sig = e->sig.p;
    const char *kid;
    const char *x5t;
    const char *alg;
    const char *typ;
    const char *bad;
    size_t prot_len = e->prot.n;
    size_t sig_len = e->sig.n;
    size_t kid_len;
    size_t x5t_len;
    size_t alg_len;
    size_t typ_len;
    uint8_t rs[64];
    size_t rs_len = 0;
    uint8_t sig_der[TC_EC_SIG_DER_MAX];
    size_t sig_der_len;
    json_t *ph = NULL;
    struct signer_ent *s = NULL;
    char tmp[48];
    size_t i;
    int rc = TC_ERR_INTERNAL;
    int perr;

    /* Flattened JWS with exactly the four members. */
    if (e->unknown.type != TC_MF_ABSENT) {
        return tc_detail_set(d, TC_ERR_MANIFEST_SHAPE, -1, "shape",
                             "unexpected member \"%.40s\"",
                             sanitized(e->unknown.p, e->unknown.n, tmp));
    }
    if (e->uid.type == TC_MF_STRING) {
        note_uid(r, e->uid.p, e->uid.n);
    }
    if (e->uid.type != TC_MF_STRING || e->prot.type != TC_MF_STRING ||
        e->pay.type != TC_MF_STRING || e->sig.type != TC_MF_STRING) {
        return tc_detail_set(d, TC_ERR_MANIFEST_SHAPE, -1, "shape",
                             "needs header.uniqueId, protected, payload and "
                             "signature strings");
    }
    if (e->header_size != 1) {
        return tc_detail_set(d, TC_ERR_MANIFEST_SHAPE, -1, "shape",
                             "header holds more than uniqueId");
    }

    /* The protected header names the algorithm and the signer. */
    if (decode(prot, prot_len, 1, &v->prot) != TC_OK) {
        return tc_detail_set(d, TC_ERR_MANIFEST_SHAPE, -1, "shape",
                             "protected is not base64url of at most %d "
                             "bytes", PROTECTED_MAX);
    }
    ph = tc_json_parse((const char *)v->prot.data, v->prot.len,
                       PROTECTED_MAX, 2, &perr, NULL);
    if (!json_is_object(ph)) {
        rc = tc_detail_set(d, TC_ERR_MANIFEST_SHAPE, -1, "shape",
                           "protected header is not a JSON object");
        goto out;
    }
    bad = unknown_key(ph, prot_keys);
    if (bad != NULL) {
        rc = tc_detail_set(d, TC_ERR_MANIFEST_SHAPE, -1, "shape",
                           "protected header member \"%.40s\" is not "
                           "supported", bad);
        goto out;
    }
    alg = str_of(ph, "alg", &alg_len);
    if (alg == NULL || alg_len != 5 || memcmp(alg, "ES256", 5) != 0) {
        rc = tc_detail_set(d, TC_ERR_MANIFEST_ALG, -1, "alg",
                           "alg is \"%.20s\", only ES256 is accepted",
                           alg != NULL ? alg : "(missing)");
        goto out;
    }
    typ = str_of(ph, "typ", &typ_len);
    kid = str_of(ph, "kid", &kid_len);
    x5t = str_of(ph, "x5t#S256", &x5t_len);
    if ((json_object_get(ph, "typ") != NULL &&
         (typ == NULL || strcmp(typ, "JWT") != 0)) ||
        kid == NULL || x5t == NULL) {
        rc = tc_detail_set(d, TC_ERR_MANIFEST_SHAPE, -1, "shape",
                           "protected header needs kid and x5t#S256 "
                           "strings and typ JWT if any");
        goto out;
    }

    /* kid and x5t#S256 must both name one given signer. */
    for (i = 0; i < v->nsigners; i++) {
        if (strlen(v->signers[i].kid) == kid_len &&
            memcmp(v->signers[i].kid, kid, kid_len) == 0) {
            s = &v->signers[i];
            break;
        }
    }
    if (s == NULL) {
        rc = tc_detail_set(d, TC_ERR_MANIFEST_UNKNOWN_SIGNER, -1, "signer",
                           "kid \"%.64s\" matches none of the %zu signer "
                           "certificates", kid, v->nsigners);
        goto out;
    }
    if (strlen(s->x5t) != x5t_len || memcmp(s->x5t, x5t, x5t_len) != 0) {
        rc = tc_detail_set(d, TC_ERR_MANIFEST_UNKNOWN_SIGNER, -1, "signer",
                           "kid names %s but x5t#S256 is not its "
                           "thumbprint", s->name);
        goto out;
    }
    r->signer_kid = s->kid;
    if (!s->valid) {
        rc = tc_detail_set(d, TC_ERR_MANIFEST_SIGNER_VALIDITY, -1,
                           "signer-validity",
                           "signer %s is not valid at the verification "
                           "time", s->name);
        goto out;
    }

    /* The signature over the stored strings, exactly as they are. */
    if (tc_base64_decode(sig, sig_len, rs, sizeof(rs), &rs_len, 1, NULL) !=
            TC_OK ||
        rs_len != 64) {
        rc = tc_detail_set(d, TC_ERR_MANIFEST_SHAPE, -1, "shape",
                           "signature is not base64url of 64 bytes");
        goto out;
    }
    v->input.len = 0;
    if (tc_buf_append(&v->input, prot, prot_len) != TC_OK ||
        tc_buf_append(&v->input, ".", 1) != TC_OK ||
        tc_buf_append(&v->input, e->pay.p, e->pay.n) != TC_OK) {
        rc = tc_detail_set(d, TC_ERR_TOO_BIG, -1, "shape",
                           "signing input too large");
        goto out;
    }
    sig_der_len = tc_ec_sig_rs_to_der(rs, sig_der);
    if (sig_der_len == 0 ||
        !tc_mf_verify_der(s->vctx, v->md, v->sha256, v->input.data,
                          v->input.len, sig_der, sig_der_len)) {
        rc = tc_detail_set(d, TC_ERR_MANIFEST_SIGNATURE, -1, "signature",
                           "ES256 signature does not verify with %s",
                           s->name);
        goto out;
    }
    *signer = s;
    rc = TC_OK;
out:
    json_decref(ph);
    return rc;
}

/* Decode kid's x and y (b64url of 32 bytes each) into xy. */
static int
key_xy(const struct tc_mf_key *k, uint8_t *xy)
{
    size_t got = 0;

    if (k->x.type != TC_MF_STRING || k->y.type != TC_MF_STRING ||
        tc_base64_decode(k->x.p, k->x.n, xy, 32, &got, 1, NULL) != TC_OK ||
        got != 32 ||
        tc_base64_decode(k->y.p, k->y.n, xy + 32, 32, &got, 1, NULL) !=
            TC_OK ||
        got != 32) {
        return 0;
    }
    return 1;
}

static int
sv_is(const struct tc_mf_sv *v, const char *s)
{
    return v->type == TC_MF_STRING && v->n == strlen(s) &&
           memcmp(v->p, s, v->n) == 0;
}

/* publicKeySet: shape of every key; kid 0's x5c and x||y handed back. */
static int
check_keys(const struct tc_mf_pay *pv, uint8_t *xy0,
           const struct tc_mf_key **k0, struct tc_detail *d)
{
    const struct tc_mf_key *k;
    size_t i;
    size_t j;
    uint8_t xy[64];
    char tmp[48];

    *k0 = NULL;
    if (!pv->keys_array || pv->nkeys == 0 || pv->nkeys > KEYS_MAX) {
        return tc_detail_set(d, TC_ERR_MANIFEST_SHAPE, -1, "shape",
                             "publicKeySet.keys is not an array of 1-%d "
                             "keys", KEYS_MAX);
    }
    for (i = 0; i < pv->nkeys; i++) {
        k = &pv->keys[i];
        if (!k->is_object || k->unknown || k->kid.type != TC_MF_STRING ||
            !sv_is(&k->kty, "EC") || !sv_is(&k->crv, "P-256") ||
            !key_xy(k, xy)) {
            return tc_detail_set(d, TC_ERR_MANIFEST_SHAPE, -1, "shape",
                                 "publicKeySet.keys[%zu] is not an EC P-256 "
                                 "key with kid, x and y", i);
        }
        for (j = 0; j < i; j++) {
            if (pv->keys[j].kid.n == k->kid.n &&
                memcmp(pv->keys[j].kid.p, k->kid.p, k->kid.n) == 0) {
                return tc_detail_set(d, TC_ERR_MANIFEST_SHAPE, -1, "shape",
                                     "kid \"%.8s\" appears twice",
                                     sanitized(k->kid.p, k->kid.n, tmp));
            }
        }
        if (sv_is(&k->kid, "0")) {
            memcpy(xy0, xy, 64);
            *k0 = k;
        } else if (k->x5c_present) {
            return tc_detail_set(d, TC_ERR_MANIFEST_SHAPE, -1, "shape",
                                 "x5c on kid \"%.8s\": only kid 0 has one",
                                 sanitized(k->kid.p, k->kid.n, tmp));
        }
    }
    if (*k0 == NULL || !(*k0)->x5c_ok) {
        return tc_detail_set(d, TC_ERR_MANIFEST_SHAPE, -1, "shape",
                             "kid 0 with x5c [device, signer] is missing");
    }
    return TC_OK;
}

/*
 * The device link of the chain, for the one shape a manifest allows:
 * device certificate, issued directly by the x5c signer, whose own link
 * to an anchor X509_verify_cert checked once (x5c_check). Here the device
 * certificate must name the signer as issuer (the same DER bytes), carry
 * the signer's key identifier if it names one, verify with the signer's
 * key (SHA-256 over the TBS bytes, ECDSA), be within its dates and not
 * be a CA. That is what X509_verify_cert checks of a leaf under a
 * verified issuer, less what a Trust&GO chain never uses: name
 * constraints, policies, and purpose checks.
 */
static int
check_device_link(struct tc_manifest_verifier *v, const struct x5c_ent *sig,
                  const struct tc_der_cert *dc, struct tc_detail *d)
{
    if (dc->issuer.n != sig->subject_len ||
        memcmp(dc->issuer.p, sig->subject, sig->subject_len) != 0) {
        return tc_detail_set(d, TC_ERR_MANIFEST_CHAIN, -1, "x5c-chain",
                             "device certificate's issuer is not the x5c "
                             "signer certificate's subject");
    }
    if (dc->aki.n > 0 && sig->ski != NULL &&
        (dc->aki.n != sig->ski_len ||
         memcmp(dc->aki.p, sig->ski, sig->ski_len) != 0)) {
        return tc_detail_set(d, TC_ERR_MANIFEST_CHAIN, -1, "x5c-chain",
                             "device certificate's authority key id is not "
                             "the x5c signer's key id");
    }
    if (!tc_mf_verify_der(sig->vctx, v->md, v->sha256, dc->tbs.p, dc->tbs.n,
                          dc->sig.p, dc->sig.n)) {
        return tc_detail_set(d, TC_ERR_MANIFEST_CHAIN, -1, "x5c-chain",
                             "device certificate was not issued by the x5c "
                             "signer certificate (signature does not "
                             "verify)");
    }
    if (dc->is_ca || (dc->has_key_usage &&
                      (dc->key_usage & TC_DER_KU_KEY_CERT_SIGN) != 0)) {
        return tc_detail_set(d, TC_ERR_MANIFEST_CHAIN, -1, "x5c-chain",
                             "device certificate is a CA certificate");
    }
    return TC_OK;
}

/* The certificate layer: x5c chain, subject serial, key, dates. */
static int
check_certs(struct tc_manifest_verifier *v, const struct tc_mf_key *k0,
            const uint8_t *sn, const uint8_t *xy0,
            struct tc_manifest_result *r, struct tc_detail *d)
{
    struct x5c_ent *sig = NULL;
    struct tc_der_cert dc;
    struct tc_detail why;
    uint8_t dsn[9];
    int rc;

    rc = x5c_signer(v, k0->x5c[1].p, k0->x5c[1].n, &sig, d);
    if (rc != TC_OK) {
        return rc;
    }
    if (decode(k0->x5c[0].p, k0->x5c[0].n, 0, &v->dev) != TC_OK) {
        return tc_detail_set(d, TC_ERR_MANIFEST_SHAPE, -1, "shape",
                             "x5c[0] is not standard base64 of at most %d "
                             "bytes", CERT_MAX);
    }
    tc_detail_clear(&why);
    if (tc_der_cert_parse(v->dev.data, v->dev.len, &dc, &why) != TC_OK) {
        return tc_detail_set(d, TC_ERR_MANIFEST_SHAPE, -1, "shape",
                             "x5c[0] is not a P-256 ECDSA DER certificate: "
                             "%.160s", why.text);
    }

    /* Chain: the x5c signer to an anchor (cached), the device to it. */
    if (sig->err != TC_OK) {
        return tc_detail_set(d, sig->err, -1, "x5c-chain", "%s", sig->why);
    }
    rc = check_device_link(v, sig, &dc, d);
    if (rc != TC_OK) {
        return rc;
    }

    /* The certificate must be this chip's, with kid 0's key. */
    if (dc.cn.n == 0 || tc_mf_cn_sn(dc.cn.p, dc.cn.n, dsn) != TC_OK ||
        memcmp(dsn, sn, 9) != 0) {
        return tc_detail_set(d, TC_ERR_MANIFEST_SERIAL, -1, "serial",
                             "device certificate subject does not name "
                             "uniqueId");
    }
    if (CRYPTO_memcmp(dc.xy, xy0, 64) != 0) {
        return tc_detail_set(d, TC_ERR_MANIFEST_KEY, -1, "key",
                             "kid 0 x/y differ from the device "
                             "certificate's public key");
    }
    if (EC_POINT_oct2point(v->p256, v->point, dc.point.p, dc.point.n,
                           NULL) != 1) {
        ERR_clear_error();
        return tc_detail_set(d, TC_ERR_MANIFEST_KEY, -1, "key",
                             "the device certificate's key is not a point "
                             "on P-256");
    }
    if ((int64_t)v->now < dc.not_before || (int64_t)v->now > dc.not_after) {
        return tc_detail_set(d, TC_ERR_MANIFEST_DATES, -1, "dates",
                             "device certificate %s",
                             (int64_t)v->now < dc.not_before
                                 ? "is not yet valid"
                                 : "has expired");
    }
    r->device_der = v->dev.data;
    r->device_len = v->dev.len;
    r->signer_der = sig->der;
    r->signer_len = sig->der_len;
    return TC_OK;
}

/*
 * A view's string as a NUL-terminated copy in v->texts, for the result;
 * NULL when absent or not a string.
 */
static const char *
text_of(struct tc_manifest_verifier *v, const struct tc_mf_sv *sv)
{
    size_t at = v->texts.len;

    if (sv->type != TC_MF_STRING ||
        tc_buf_append(&v->texts, sv->p, sv->n) != TC_OK ||
        tc_buf_append(&v->texts, "", 1) != TC_OK) {
        return NULL;
    }
    return (const char *)v->texts.data + at;
}

/* The envelope view: the fast reader, else jansson (kept in v->entry). */
static int
read_env(struct tc_manifest_verifier *v, const char *text, size_t n,
         struct tc_mf_env *e, struct tc_manifest_result *r,
         struct tc_detail *d)
{
    int perr;

    if (tc_mf_env_fast(text, n, e)) {
        return TC_OK;
    }
    v->entry = tc_json_parse(text, n, TC_MANIFEST_ENTRY_MAX,
                             TC_MANIFEST_DEPTH_MAX, &perr, d);
    if (v->entry == NULL) {
        if (d != NULL) {
            snprintf(d->field, sizeof(d->field), "json");
            d->offset = d->offset >= 0 ? r->offset + d->offset : r->offset;
        }
        return perr;
    }
    tc_mf_env_json(v->entry, e);
    return TC_OK;
}

/* The payload view, likewise; any failure means "not a JSON object". */
static int
read_pay(struct tc_manifest_verifier *v, struct tc_mf_pay *pv)
{
    const char *text = (const char *)v->pay.data;
    int perr;

    if (tc_mf_pay_fast(text, v->pay.len, pv)) {
        return pv->is_object;
    }
    v->payload = tc_json_parse(text, v->pay.len, TC_MANIFEST_ENTRY_MAX,
                               TC_MANIFEST_DEPTH_MAX, &perr, NULL);
    if (!json_is_object(v->payload)) {
        return 0;
    }
    tc_mf_pay_json(v->payload, pv);
    return 1;
}

/* One entry's text; fills r (whose pointers borrow from v). */
static int
verify_entry(struct tc_manifest_verifier *v, const char *text, size_t n,
             struct tc_manifest_result *r, struct tc_detail *d)
{
    struct signer_ent *signer = NULL;
    struct tc_mf_env *e = &v->env;
    struct tc_mf_pay *pv = &v->pv;
    const struct tc_mf_key *k0 = NULL;
    const char *uid;
    uint8_t sn[9];
    uint8_t xy0[64];
    size_t got;
    size_t first = 0;
    int rc;

    json_decref(v->entry);
    json_decref(v->payload);
    v->entry = NULL;
    v->payload = NULL;
    v->texts.len = 0;
    if (n == 0 || text[0] != '{') {
        return tc_detail_set(d, TC_ERR_MANIFEST_NOT_OBJECT, r->offset,
                             "shape", "entry starts with '%c', not '{'",
                             n > 0 && text[0] >= 0x20 && text[0] < 0x7f
                                 ? text[0]
                                 : '?');
    }
    rc = read_env(v, text, n, e, r, d);
    if (rc != TC_OK) {
        return rc;
    }
    rc = check_jws(v, e, r, &signer, d);
    if (rc != TC_OK) {
        return rc;
    }

    /* The signed payload: from here every value is the signer's word. */
    if (decode(e->pay.p, e->pay.n, 1, &v->pay) != TC_OK) {
        return tc_detail_set(d, TC_ERR_MANIFEST_SHAPE, -1, "shape",
                             "payload is not base64url of at most %d bytes",
                             TC_MANIFEST_ENTRY_MAX);
    }
    if (!read_pay(v, pv)) {
        return tc_detail_set(d, TC_ERR_MANIFEST_SHAPE, -1, "shape",
                             "payload is not a JSON object");
    }
    /*
     * The texts below point into one buffer: reserve room for all four
     * first, so no append moves what an earlier pointer refers to.
     */
    if (tc_buf_reserve(&v->texts, pv->model.n + pv->part.n + pv->ts.n +
                                      pv->uid.n + 4) != TC_OK) {
        return tc_detail_set(d, TC_ERR_NOMEM, -1, "shape",
                             "payload texts do not fit");
    }
    r->model = text_of(v, &pv->model);
    r->part_number = text_of(v, &pv->part);
    r->timestamp = text_of(v, &pv->ts);
    uid = text_of(v, &pv->uid);
    if (uid == NULL || !is_unique_id(uid, pv->uid.n)) {
        return tc_detail_set(d, TC_ERR_MANIFEST_SHAPE, -1, "shape",
                             "payload uniqueId is not 18 lower-case hex "
                             "digits");
    }

    /* The unprotected header is only a hint; the payload decides. */
    if (strcmp(r->unique_id, uid) != 0) {
        rc = tc_detail_set(d, TC_ERR_MANIFEST_UNIQUEID, -1, "uniqueId",
                           "header says \"%s\", signed payload says \"%s\"",
                           r->unique_id, uid);
        memcpy(r->unique_id, uid, 19);
        return rc;
    }
    tc_hex_decode(uid, 18, sn, sizeof(sn), &got, NULL);

    /* One chip, one entry: a later entry with the same id fails. */
    rc = seen_add(v, sn, r->index, &first);
    if (rc == TC_ERR_MANIFEST_DUPLICATE) {
        return tc_detail_set(d, rc, -1, "uniqueId",
                             "uniqueId %s already appears in entry %zu",
                             uid, first);
    }
    if (rc == TC_ERR_TOO_BIG) {
        return tc_detail_set(d, rc, -1, "uniqueId",
                             "more than %d distinct uniqueIds in one file",
                             TC_MANIFEST_UNIQUE_MAX);
    }
    if (rc != TC_OK) {
        return tc_detail_set(d, rc, -1, "uniqueId",
                             "no memory for the table of uniqueIds");
    }

    r->version = pv->version.type == TC_MF_INTEGER &&
                         pv->version.i >= 0 && pv->version.i <= 1000
                     ? (int)pv->version.i
                     : 0;
    if (r->version != 1 && r->version != 2) {
        return tc_detail_set(d, TC_ERR_MANIFEST_VERSION, -1, "version",
                             "payload version must be the integer 1 or 2");
    }
    if ((r->model == NULL && pv->model.type != TC_MF_ABSENT) ||
        (r->part_number == NULL && pv->part.type != TC_MF_ABSENT) ||
        (r->timestamp == NULL && pv->ts.type != TC_MF_ABSENT)) {
        return tc_detail_set(d, TC_ERR_MANIFEST_SHAPE, -1, "shape",
                             "model, partNumber and provisioningTimestamp "
                             "must be strings");
    }

    /* Version 2 may carry no key set: nothing more to check. */
    if (!pv->set_present && r->version == 2) {
        return TC_OK;
    }
    if (!pv->set_present) {
        return tc_detail_set(d, TC_ERR_MANIFEST_SHAPE, -1, "shape",
                             "version 1 entry without publicKeySet");
    }
    rc = check_keys(pv, xy0, &k0, d);
    if (rc != TC_OK) {
        return rc;
    }
    return check_certs(v, k0, sn, xy0, r, d);
}

/* Glue between the splitter and the caller's callback. */
struct run {
    struct tc_manifest_verifier *v;
    tc_manifest_result_fn fn;
    void *ctx;
    struct tc_manifest_summary *sum;
};

static int
on_element(void *ctx, size_t index, long offset, const char *text, size_t n,
           int err)
{
    struct run *run = ctx;
    struct tc_manifest_result r;

    memset(&r, 0, sizeof(r));
    tc_detail_clear(&r.detail);
    r.index = index;
    r.offset = offset;
    if (err == TC_ERR_TOO_BIG) {
        r.err = tc_detail_set(&r.detail, err, offset, "json",
                              "entry larger than %d bytes",
                              TC_MANIFEST_ENTRY_MAX);
    } else if (err != TC_OK) {
        r.err = tc_detail_set(&r.detail, err, offset, "json",
                              "entry nested deeper than %d",
                              TC_MANIFEST_DEPTH_MAX);
    } else {
        r.err = verify_entry(run->v, text, n, &r, &r.detail);
    }
    if (r.err != TC_OK) {
        r.device_der = NULL;
        r.signer_der = NULL;
        r.device_len = 0;
        r.signer_len = 0;
    }
    run->sum->entries++;
    if (r.err == TC_OK) {
        run->sum->passed++;
    } else {
        run->sum->failed++;
    }
    return run->fn != NULL ? run->fn(run->ctx, &r) : TC_OK;
}

/* Feed chunks through the splitter; read is NULL for memory input. */
static int
run_split(struct tc_manifest_verifier *v, int fd, const char *data,
          size_t n, tc_manifest_result_fn fn, void *ctx,
          struct tc_manifest_summary *sum, struct tc_detail *d)
{
    struct tc_manifest_summary local;
    struct run run;
    struct tc_split s;
    char *chunk = NULL;
    ssize_t got;
    int rc = TC_ERR_INTERNAL;

    if (sum == NULL) {
        sum = &local;
    }
    memset(sum, 0, sizeof(*sum));
    run.v = v;
    run.fn = fn;
    run.ctx = ctx;
    run.sum = sum;
    prepare(v);
    tc_split_init(&s, TC_MANIFEST_ENTRY_MAX, TC_MANIFEST_DEPTH_MAX);
    if (data != NULL) {
        rc = tc_split_feed(&s, data, n, on_element, &run, d);
    } else {
        chunk = malloc(READ_CHUNK);
        rc = chunk != NULL ? TC_OK : TC_ERR_NOMEM;
        while (rc == TC_OK) {
            got = read(fd, chunk, READ_CHUNK);
            if (got < 0) {
                rc = tc_detail_set(d, TC_ERR_IO, s.pos, NULL,
                                   "read failed at byte %ld", s.pos);
            } else if (got == 0) {
                break;
            } else {
                rc = tc_split_feed(&s, chunk, (size_t)got, on_element, &run,
                                   d);
            }
        }
    }
    if (rc == TC_OK) {
        rc = tc_split_finish(&s, d);
    }
    if (rc == TC_OK && sum->entries == 0) {
        rc = tc_detail_set(d, TC_ERR_MANIFEST_EMPTY, -1, NULL,
                           "the array holds no entries");
    }
    free(chunk);
    tc_split_clear(&s);
    json_decref(v->entry);
    json_decref(v->payload);
    v->entry = NULL;
    v->payload = NULL;
    return rc;
}

int
tc_manifest_verify_fd(struct tc_manifest_verifier *v, int fd,
                      tc_manifest_result_fn fn, void *ctx,
                      struct tc_manifest_summary *sum, struct tc_detail *d)
{
    return run_split(v, fd, NULL, 0, fn, ctx, sum, d);
}

int
tc_manifest_verify_mem(struct tc_manifest_verifier *v, const char *data,
                       size_t n, tc_manifest_result_fn fn, void *ctx,
                       struct tc_manifest_summary *sum, struct tc_detail *d)
{
    return run_split(v, -1, data != NULL ? data : "", n, fn, ctx, sum, d);
}

int
tc_manifest_verify_file(struct tc_manifest_verifier *v, const char *path,
                        tc_manifest_result_fn fn, void *ctx,
                        struct tc_manifest_summary *sum, struct tc_detail *d)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    int rc;

    if (fd < 0) {
        return tc_detail_set(d, TC_ERR_NOT_FOUND, -1, "file",
                             "cannot open %s", path);
    }
    rc = tc_manifest_verify_fd(v, fd, fn, ctx, sum, d);
    close(fd);
    return rc;
}
