// SPDX-License-Identifier: Apache-2.0
/*
 * Manifest verification, stricter than Microchip's tools: besides the JWS
 * and the signer thumbprints it takes the uniqueId only from the signed
 * payload, chains the x5c signer to a pinned trust anchor, checks that the
 * device certificate was issued by it, names uniqueId and holds kid 0's
 * key, and checks every date. Each entry is parsed alone (split.c finds
 * it), so memory stays bounded whatever the number of entries.
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

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "internal.h"
#include "thingcore/json.h"

/* Limits on the parts of one entry. */
#define PROTECTED_MAX 1024
#define CERT_MAX 4096
#define KEYS_MAX 16
#define X5C_CACHE_MAX 256
#define READ_CHUNK (64 * 1024)

/* A manifest signer given on the command line, parsed once. */
struct signer_ent {
    X509 *cert;
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
    int err; /* outcome of its own chain check */
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

    /* Scratch for the current entry, reused to avoid allocation. */
    struct tc_buf input;   /* protected "." payload */
    struct tc_buf prot;    /* decoded protected header */
    struct tc_buf pay;     /* decoded payload */
    struct tc_buf dev;     /* decoded device certificate */
    struct x5c_ent single; /* an x5c signer when the cache is full */
    json_t *entry;         /* kept until the next entry: results point in */
    json_t *payload;
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
    if (v->store == NULL) {
        free(v);
        return TC_ERR_NOMEM;
    }
    v->now = time(NULL);
    tc_buf_init(&v->input, 2 * TC_MANIFEST_ENTRY_MAX);
    tc_buf_init(&v->prot, PROTECTED_MAX);
    tc_buf_init(&v->pay, TC_MANIFEST_ENTRY_MAX);
    tc_buf_init(&v->dev, CERT_MAX);
    *out = v;
    return TC_OK;
}

static void
x5c_clear(struct x5c_ent *e)
{
    free(e->b64);
    free(e->der);
    X509_free(e->cert);
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
    }
    for (i = 0; i < v->ncache; i++) {
        x5c_clear(&v->cache[i]);
    }
    x5c_clear(&v->single);
    X509_STORE_free(v->store);
    tc_buf_clear(&v->input, 0);
    tc_buf_clear(&v->prot, 0);
    tc_buf_clear(&v->pay, 0);
    tc_buf_clear(&v->dev, 0);
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
check_jws(struct tc_manifest_verifier *v, const json_t *entry,
          struct tc_manifest_result *r, struct signer_ent **signer,
          const char **pay_b64, size_t *pay_len, struct tc_detail *d)
{
    static const char *const entry_keys[] = {"header", "protected",
                                             "payload", "signature", NULL};
    static const char *const prot_keys[] = {"typ", "alg", "kid", "x5t#S256",
                                            NULL};
    const json_t *header = json_object_get(entry, "header");
    const char *prot;
    const char *sig;
    const char *uid;
    const char *kid;
    const char *x5t;
    const char *alg;
    const char *typ;
    const char *bad;
    size_t prot_len;
    size_t sig_len;
    size_t uid_len;
    size_t kid_len;
    size_t x5t_len;
    size_t alg_len;
    size_t typ_len;
    uint8_t rs[64];
    size_t rs_len = 0;
    json_t *ph = NULL;
    struct signer_ent *s = NULL;
    size_t i;
    int rc = TC_ERR_INTERNAL;
    int perr;

    /* Flattened JWS with exactly the four members. */
    bad = unknown_key(entry, entry_keys);
    if (bad != NULL) {
        return tc_detail_set(d, TC_ERR_MANIFEST_SHAPE, -1, "shape",
                             "unexpected member \"%.40s\"", bad);
    }
    uid = json_is_object(header) ? str_of(header, "uniqueId", &uid_len)
                                 : NULL;
    note_uid(r, uid, uid != NULL ? uid_len : 0);
    prot = str_of(entry, "protected", &prot_len);
    *pay_b64 = str_of(entry, "payload", pay_len);
    sig = str_of(entry, "signature", &sig_len);
    if (uid == NULL || prot == NULL || *pay_b64 == NULL || sig == NULL) {
        return tc_detail_set(d, TC_ERR_MANIFEST_SHAPE, -1, "shape",
                             "needs header.uniqueId, protected, payload and "
                             "signature strings");
    }
    if (json_object_size(header) != 1) {
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
        tc_buf_append(&v->input, *pay_b64, *pay_len) != TC_OK) {
        rc = tc_detail_set(d, TC_ERR_TOO_BIG, -1, "shape",
                           "signing input too large");
        goto out;
    }
    if (!tc_mf_verify(X509_get0_pubkey(s->cert),
                      (const char *)v->input.data, v->input.len, rs)) {
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
key_xy(const json_t *key, uint8_t *xy)
{
    const char *x;
    const char *y;
    size_t xn;
    size_t yn;
    size_t got = 0;

    x = str_of(key, "x", &xn);
    y = str_of(key, "y", &yn);
    if (x == NULL || y == NULL ||
        tc_base64_decode(x, xn, xy, 32, &got, 1, NULL) != TC_OK ||
        got != 32 ||
        tc_base64_decode(y, yn, xy + 32, 32, &got, 1, NULL) != TC_OK ||
        got != 32) {
        return 0;
    }
    return 1;
}

/* publicKeySet: shape of every key; kid 0's x5c and x||y handed back. */
static int
check_keys(const json_t *set, uint8_t *xy0, const json_t **x5c,
           struct tc_detail *d)
{
    static const char *const key_names[] = {"kid", "kty", "crv", "x", "y",
                                            "x5c", NULL};
    const json_t *keys = json_is_object(set) ? json_object_get(set, "keys")
                                             : NULL;
    const char *kid;
    const char *s;
    size_t n;
    size_t i;
    size_t j;
    uint8_t xy[64];
    int seen0 = 0;

    if (!json_is_array(keys) || json_array_size(keys) == 0 ||
        json_array_size(keys) > KEYS_MAX) {
        return tc_detail_set(d, TC_ERR_MANIFEST_SHAPE, -1, "shape",
                             "publicKeySet.keys is not an array of 1-%d "
                             "keys", KEYS_MAX);
    }
    for (i = 0; i < json_array_size(keys); i++) {
        const json_t *k = json_array_get(keys, i);

        if (!json_is_object(k) || unknown_key(k, key_names) != NULL ||
            (kid = str_of(k, "kid", &n)) == NULL ||
            (s = str_of(k, "kty", &n)) == NULL || strcmp(s, "EC") != 0 ||
            (s = str_of(k, "crv", &n)) == NULL || strcmp(s, "P-256") != 0 ||
            !key_xy(k, xy)) {
            return tc_detail_set(d, TC_ERR_MANIFEST_SHAPE, -1, "shape",
                                 "publicKeySet.keys[%zu] is not an EC P-256 "
                                 "key with kid, x and y", i);
        }
        for (j = 0; j < i; j++) {
            const char *other = tc_json_str(json_array_get(keys, j), "kid");

            if (strcmp(other, kid) == 0) {
                return tc_detail_set(d, TC_ERR_MANIFEST_SHAPE, -1, "shape",
                                     "kid \"%.8s\" appears twice", kid);
            }
        }
        if (strcmp(kid, "0") == 0) {
            seen0 = 1;
            memcpy(xy0, xy, 64);
            *x5c = json_object_get(k, "x5c");
        } else if (json_object_get(k, "x5c") != NULL) {
            return tc_detail_set(d, TC_ERR_MANIFEST_SHAPE, -1, "shape",
                                 "x5c on kid \"%.8s\": only kid 0 has one",
                                 kid);
        }
    }
    if (!seen0 || !json_is_array(*x5c) || json_array_size(*x5c) != 2 ||
        !json_is_string(json_array_get(*x5c, 0)) ||
        !json_is_string(json_array_get(*x5c, 1))) {
        return tc_detail_set(d, TC_ERR_MANIFEST_SHAPE, -1, "shape",
                             "kid 0 with x5c [device, signer] is missing");
    }
    return TC_OK;
}

/* The certificate layer: x5c chain, subject serial, key, dates. */
static int
check_certs(struct tc_manifest_verifier *v, const json_t *x5c,
            const uint8_t *sn, const uint8_t *xy0,
            struct tc_manifest_result *r, struct tc_detail *d)
{
    const json_t *j0 = json_array_get(x5c, 0);
    const json_t *j1 = json_array_get(x5c, 1);
    struct x5c_ent *sig = NULL;
    const uint8_t *q;
    X509 *dev = NULL;
    uint8_t dsn[9];
    uint8_t dxy[64];
    int when;
    int rc;

    rc = x5c_signer(v, json_string_value(j1), json_string_length(j1), &sig,
                    d);
    if (rc != TC_OK) {
        return rc;
    }
    if (decode(json_string_value(j0), json_string_length(j0), 0, &v->dev) !=
        TC_OK) {
        return tc_detail_set(d, TC_ERR_MANIFEST_SHAPE, -1, "shape",
                             "x5c[0] is not standard base64 of at most %d "
                             "bytes", CERT_MAX);
    }
    q = v->dev.data;
    dev = d2i_X509(NULL, &q, (long)v->dev.len);
    if (dev == NULL || q != v->dev.data + v->dev.len) {
        rc = tc_detail_set(d, TC_ERR_MANIFEST_SHAPE, -1, "shape",
                           "x5c[0] is not one DER certificate");
        goto out;
    }

    /* Chain: the x5c signer to an anchor (cached), the device to it. */
    if (sig->err != TC_OK) {
        rc = tc_detail_set(d, sig->err, -1, "x5c-chain", "%s", sig->why);
        goto out;
    }
    if (X509_check_issued(sig->cert, dev) != X509_V_OK ||
        X509_verify(dev, X509_get0_pubkey(sig->cert)) != 1) {
        rc = tc_detail_set(d, TC_ERR_MANIFEST_CHAIN, -1, "x5c-chain",
                           "device certificate was not issued by the x5c "
                           "signer certificate");
        goto out;
    }
    if (X509_check_ca(dev) != 0) {
        rc = tc_detail_set(d, TC_ERR_MANIFEST_CHAIN, -1, "x5c-chain",
                           "device certificate is a CA certificate");
        goto out;
    }

    /* The certificate must be this chip's, with kid 0's key. */
    if (tc_mf_cert_sn(dev, dsn, NULL) != TC_OK || memcmp(dsn, sn, 9) != 0) {
        rc = tc_detail_set(d, TC_ERR_MANIFEST_SERIAL, -1, "serial",
                           "device certificate subject does not name "
                           "uniqueId");
        goto out;
    }
    if (tc_mf_cert_xy(dev, dxy, NULL) != TC_OK ||
        CRYPTO_memcmp(dxy, xy0, 64) != 0) {
        rc = tc_detail_set(d, TC_ERR_MANIFEST_KEY, -1, "key",
                           "kid 0 x/y differ from the device certificate's "
                           "public key");
        goto out;
    }
    when = cert_when(dev, v->now);
    if (when != 0) {
        rc = tc_detail_set(d, TC_ERR_MANIFEST_DATES, -1, "dates",
                           "device certificate %s", when < 0
                                                        ? "is not yet valid"
                                                        : "has expired");
        goto out;
    }
    r->device_der = v->dev.data;
    r->device_len = v->dev.len;
    r->signer_der = sig->der;
    r->signer_len = sig->der_len;
    rc = TC_OK;
out:
    ERR_clear_error();
    X509_free(dev);
    return rc;
}

/* One entry's text; fills r (whose pointers borrow from v). */
static int
verify_entry(struct tc_manifest_verifier *v, const char *text, size_t n,
             struct tc_manifest_result *r, struct tc_detail *d)
{
    struct signer_ent *signer = NULL;
    const char *pay_b64 = NULL;
    size_t pay_len = 0;
    const char *uid;
    size_t uid_len;
    const json_t *ver;
    const json_t *set;
    const json_t *x5c = NULL;
    uint8_t sn[9];
    uint8_t xy0[64];
    size_t got;
    int perr;
    int rc;

    json_decref(v->entry);
    json_decref(v->payload);
    v->entry = NULL;
    v->payload = NULL;
    if (n == 0 || text[0] != '{') {
        return tc_detail_set(d, TC_ERR_MANIFEST_NOT_OBJECT, r->offset,
                             "shape", "entry starts with '%c', not '{'",
                             n > 0 && text[0] >= 0x20 && text[0] < 0x7f
                                 ? text[0]
                                 : '?');
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

    rc = check_jws(v, v->entry, r, &signer, &pay_b64, &pay_len, d);
    if (rc != TC_OK) {
        return rc;
    }

    /* The signed payload: from here every value is the signer's word. */
    if (decode(pay_b64, pay_len, 1, &v->pay) != TC_OK) {
        return tc_detail_set(d, TC_ERR_MANIFEST_SHAPE, -1, "shape",
                             "payload is not base64url of at most %d bytes",
                             TC_MANIFEST_ENTRY_MAX);
    }
    v->payload = tc_json_parse((const char *)v->pay.data, v->pay.len,
                               TC_MANIFEST_ENTRY_MAX, TC_MANIFEST_DEPTH_MAX,
                               &perr, NULL);
    if (!json_is_object(v->payload)) {
        return tc_detail_set(d, TC_ERR_MANIFEST_SHAPE, -1, "shape",
                             "payload is not a JSON object");
    }
    r->model = tc_json_str(v->payload, "model");
    r->part_number = tc_json_str(v->payload, "partNumber");
    r->timestamp = tc_json_str(v->payload, "provisioningTimestamp");
    uid = str_of(v->payload, "uniqueId", &uid_len);
    if (uid == NULL || !is_unique_id(uid, uid_len)) {
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

    ver = json_object_get(v->payload, "version");
    r->version = json_is_integer(ver) ? (int)json_integer_value(ver) : 0;
    if (r->version != 1 && r->version != 2) {
        return tc_detail_set(d, TC_ERR_MANIFEST_VERSION, -1, "version",
                             "payload version must be the integer 1 or 2");
    }
    if ((r->model == NULL && json_object_get(v->payload, "model") != NULL) ||
        (r->part_number == NULL &&
         json_object_get(v->payload, "partNumber") != NULL) ||
        (r->timestamp == NULL &&
         json_object_get(v->payload, "provisioningTimestamp") != NULL)) {
        return tc_detail_set(d, TC_ERR_MANIFEST_SHAPE, -1, "shape",
                             "model, partNumber and provisioningTimestamp "
                             "must be strings");
    }

    /* Version 2 may carry no key set: nothing more to check. */
    set = json_object_get(v->payload, "publicKeySet");
    if (set == NULL && r->version == 2) {
        return TC_OK;
    }
    if (set == NULL) {
        return tc_detail_set(d, TC_ERR_MANIFEST_SHAPE, -1, "shape",
                             "version 1 entry without publicKeySet");
    }
    rc = check_keys(set, xy0, &x5c, d);
    if (rc != TC_OK) {
        return rc;
    }
    return check_certs(v, x5c, sn, xy0, r, d);
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
