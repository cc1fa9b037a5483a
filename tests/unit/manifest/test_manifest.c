// SPDX-License-Identifier: Apache-2.0
/*
 * Manifest create, verify and the signer, against chains made here with
 * OpenSSL (a root, a "Crypto Authentication Signer" CA, devices named
 * sn<hex>), and Microchip's real signer certificates. One negative case
 * per verification check; forged entries are signed with a test signer.
 */
#include <stdlib.h>
#include <sys/stat.h>

#include <jansson.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include "../test.h"
#include "../../../src/manifest/internal.h"
#include "thingcore/manifest.h"
#include "thingcore/util.h"

#define VEC "tests/vectors/manifest/"
#define DAY 86400L

/* One certificate: key, subject CN, issuer (NULL: self-signed), CA flag. */
static X509 *
mk_cert(EVP_PKEY *key, const char *cn, X509 *issuer, EVP_PKEY *ikey, int ca,
        long nb_days, long na_days)
{
    X509 *x = X509_new();
    X509_NAME *name = X509_NAME_new();
    X509V3_CTX ctx;
    X509_EXTENSION *e;
    uint8_t sn[8];
    const char *exts[4][2] = {
        {"basicConstraints", ca ? "critical,CA:TRUE" : "critical,CA:FALSE"},
        {"keyUsage", ca ? "critical,keyCertSign,cRLSign,digitalSignature"
                        : "critical,digitalSignature,keyAgreement"},
        {"subjectKeyIdentifier", "hash"},
        {"authorityKeyIdentifier", "keyid:always"},
    };
    int i;

    RAND_bytes(sn, sizeof(sn));
    sn[0] &= 0x7f;
    ASN1_INTEGER_set_uint64(X509_get_serialNumber(x),
                            ((uint64_t)sn[0] << 24) | sn[1]);
    X509_set_version(x, 2);
    X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC,
                               (const unsigned char *)"Test Factory", -1, -1,
                               0);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                               (const unsigned char *)cn, -1, -1, 0);
    X509_set_subject_name(x, name);
    X509_set_issuer_name(x, issuer != NULL ? X509_get_subject_name(issuer)
                                           : name);
    X509_gmtime_adj(X509_getm_notBefore(x), nb_days * DAY);
    X509_gmtime_adj(X509_getm_notAfter(x), na_days * DAY);
    X509_set_pubkey(x, key);
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, issuer != NULL ? issuer : x, x, NULL, NULL, 0);
    for (i = 0; i < 4; i++) {
        e = X509V3_EXT_conf(NULL, &ctx, exts[i][0], exts[i][1]);
        X509_add_ext(x, e, -1);
        X509_EXTENSION_free(e);
    }
    X509_sign(x, ikey != NULL ? ikey : key, EVP_sha256());
    X509_NAME_free(name);
    return x;
}

static size_t
der_of(X509 *x, uint8_t *out)
{
    uint8_t *p = out;

    return (size_t)i2d_X509(x, &p);
}

/* Everything a test needs; made fresh by fx_init, freed by fx_clear. */
struct fx {
    EVP_PKEY *root_key, *ca_key, *dev_key[2], *other_key;
    X509 *root, *ca, *dev[2], *other;
    uint8_t ca_der[2048], dev_der[2][2048];
    size_t ca_len, dev_len[2];
    struct tc_manifest_signer *ms;  /* the manifest signer */
    struct tc_manifest_identity id[2];
    char ms_cert_path[512];
    char ms_key_path[512];
    struct tc_buf file;             /* a 2-entry manifest */
};

static int
fx_init(struct fx *f, long signer_days)
{
    char dir[400];
    char kp[512];
    int i;

    memset(f, 0, sizeof(*f));
    f->root_key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    f->ca_key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    f->other_key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    f->root = mk_cert(f->root_key, "Test Root CA", NULL, NULL, 1, -1, 3650);
    f->other = mk_cert(f->other_key, "Other Root", NULL, NULL, 1, -1, 3650);
    f->ca = mk_cert(f->ca_key, "Crypto Authentication Signer F620", f->root,
                    f->root_key, 1, -1, 3650);
    f->ca_len = der_of(f->ca, f->ca_der);
    for (i = 0; i < 2; i++) {
        f->dev_key[i] = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
        f->dev[i] = mk_cert(f->dev_key[i],
                            i == 0 ? "sn0123F2408EA1FCF201"
                                   : "0123AABBCCDDEEFF01 ATECC",
                            f->ca, f->ca_key, 0, -1, 3650);
        f->dev_len[i] = der_of(f->dev[i], f->dev_der[i]);
        tc_manifest_identity_init(&f->id[i]);
        if (tc_manifest_identity_from_certs(&f->id[i], f->dev_der[i],
                                            f->dev_len[i], f->ca_der,
                                            f->ca_len, NULL) != TC_OK) {
            return 0;
        }
    }
    snprintf(dir, sizeof(dir), "%s/signer%ld", tc_test_tmpdir(),
             signer_days);
    snprintf(kp, sizeof(kp), "%s/" TC_MANIFEST_SIGNER_KEY_FILE, dir);
    memcpy(f->ms_key_path, kp, sizeof(kp));
    snprintf(f->ms_cert_path, sizeof(f->ms_cert_path),
             "%s/" TC_MANIFEST_SIGNER_CERT_FILE, dir);
    if (tc_manifest_signer_generate(dir, "test signer", (int)signer_days, 1,
                                    NULL) != TC_OK ||
        tc_manifest_signer_load(kp, f->ms_cert_path, &f->ms, NULL) !=
            TC_OK) {
        return 0;
    }
    tc_buf_init(&f->file, 1 << 20);
    return tc_manifest_create(f->ms, f->id, 2, &f->file, NULL) == TC_OK;
}

static void
fx_clear(struct fx *f)
{
    int i;

    EVP_PKEY_free(f->root_key);
    EVP_PKEY_free(f->ca_key);
    EVP_PKEY_free(f->other_key);
    X509_free(f->root);
    X509_free(f->ca);
    X509_free(f->other);
    for (i = 0; i < 2; i++) {
        EVP_PKEY_free(f->dev_key[i]);
        X509_free(f->dev[i]);
    }
    tc_manifest_signer_free(f->ms);
    tc_buf_clear(&f->file, 0);
}

/* A verifier that trusts cert trust and accepts manifest signer ms. */
static struct tc_manifest_verifier *
verifier(struct fx *f, X509 *trust)
{
    struct tc_manifest_verifier *v = NULL;
    uint8_t der[2048];
    size_t n;

    tc_manifest_verifier_new(&v);
    n = der_of(f->ms->cert, der);
    tc_manifest_verifier_add_signer(v, der, n, NULL);
    if (trust != NULL) {
        n = der_of(trust, der);
        tc_manifest_verifier_add_trust(v, der, n, NULL);
    }
    return v;
}

/* Collected results of one run (the first few entries). */
struct got {
    int n;
    int err[8];
    char uid[8][19];
    char field[8][64];
    char text[8][256];
    int has_cert[8];
    uint8_t dev[2048];
    size_t dev_len;
};

static int
collect(void *ctx, const struct tc_manifest_result *r)
{
    struct got *g = ctx;

    if (g->n < 8) {
        g->err[g->n] = r->err;
        memcpy(g->uid[g->n], r->unique_id, 19);
        memcpy(g->field[g->n], r->detail.field, 64);
        memcpy(g->text[g->n], r->detail.text, 256);
        g->has_cert[g->n] = r->device_der != NULL;
        if (g->n == 0 && r->device_der != NULL &&
            r->device_len <= sizeof(g->dev)) {
            memcpy(g->dev, r->device_der, r->device_len);
            g->dev_len = r->device_len;
        }
    }
    g->n++;
    return TC_OK;
}

/* Verify text with v; returns the file-level code, results in g. */
static int
run(struct tc_manifest_verifier *v, const char *text, size_t n,
    struct got *g)
{
    memset(g, 0, sizeof(*g));
    return tc_manifest_verify_mem(v, text, n, collect, g, NULL, NULL);
}

/* Base64url of a string into b (appended). */
static void
b64u(struct tc_buf *b, const char *s, size_t n)
{
    size_t len = tc_base64_len(n, 1);

    tc_buf_reserve(b, len + 1);
    tc_base64_encode((const uint8_t *)s, n, (char *)b->data + b->len, 1);
    b->len += len;
    b->data[b->len] = '\0';
}

/* A one-entry manifest signed by key over the given texts. */
static void
forge(struct tc_buf *out, EVP_PKEY *key, const char *header_uid,
      const char *prot, const char *payload)
{
    struct tc_buf in;
    uint8_t rs[64];
    char sig[100];

    tc_buf_init(&in, 1 << 20);
    b64u(&in, prot, strlen(prot));
    tc_buf_append(&in, ".", 1);
    b64u(&in, payload, strlen(payload));
    tc_mf_sign(key, (const char *)in.data, in.len, rs, NULL);
    tc_base64_encode(rs, 64, sig, 1);
    tc_buf_printf(out, "[{\"header\": {\"uniqueId\": \"%s\"}, "
                       "\"protected\": \"",
                  header_uid);
    tc_buf_append(out, in.data, strchr((char *)in.data, '.') -
                                    (char *)in.data);
    tc_buf_append_str(out, "\", \"payload\": \"");
    tc_buf_append_str(out, strchr((char *)in.data, '.') + 1);
    tc_buf_printf(out, "\", \"signature\": \"%s\"}]", sig);
    tc_buf_clear(&in, 0);
}

/* The payload of a version 1 entry for uid with kid 0 = xy and x5c. */
static void
payload_v1(struct tc_buf *b, const char *uid, const uint8_t *xy,
           const uint8_t *dev, size_t dev_len, const uint8_t *ca,
           size_t ca_len, const char *version)
{
    char x[64];
    char y[64];
    char *d64 = malloc(tc_base64_len(dev_len, 0) + 1);
    char *c64 = malloc(tc_base64_len(ca_len, 0) + 1);

    tc_base64_encode(xy, 32, x, 1);
    tc_base64_encode(xy + 32, 32, y, 1);
    tc_base64_encode(dev, dev_len, d64, 0);
    tc_base64_encode(ca, ca_len, c64, 0);
    tc_buf_printf(b,
                  "{\"version\":%s,\"model\":\"ATECC608C\","
                  "\"partNumber\":\"ATECC608C-TNGTLSU-B\","
                  "\"groupId\":\"ABCDEFGH12345678\","
                  "\"provisioningTimestamp\":\"2024-03-07T01:02:03.000Z\","
                  "\"uniqueId\":\"%s\",\"publicKeySet\":{\"keys\":["
                  "{\"kid\":\"0\",\"kty\":\"EC\",\"crv\":\"P-256\","
                  "\"x\":\"%s\",\"y\":\"%s\",\"x5c\":[\"%s\",\"%s\"]},"
                  "{\"kid\":\"1\",\"kty\":\"EC\",\"crv\":\"P-256\","
                  "\"x\":\"%s\",\"y\":\"%s\"}]}}",
                  version, uid, x, y, d64, c64, x, y);
    free(d64);
    free(c64);
}

/* Microchip production style: compact and sorted. */
static void
prot_compact(char *out, size_t cap, const char *kid, const char *x5t)
{
    snprintf(out, cap,
             "{\"alg\":\"ES256\",\"kid\":\"%s\",\"typ\":\"JWT\","
             "\"x5t#S256\":\"%s\"}",
             kid, x5t);
}

TC_TEST(manifest_round_trip)
{
    struct fx f;
    struct tc_manifest_verifier *v;
    struct got g;
    int rc;

    CHECK(fx_init(&f, 365));
    v = verifier(&f, f.root);
    rc = run(v, (const char *)f.file.data, f.file.len, &g);
    tc_manifest_verifier_free(v);
    CHECK_EQ_INT(rc, TC_OK);
    CHECK_EQ_INT(g.n, 2);
    CHECK_EQ_INT(g.err[0], TC_OK);
    CHECK_EQ_INT(g.err[1], TC_OK);
    CHECK_EQ_STR(g.uid[0], "0123f2408ea1fcf201");
    CHECK_EQ_STR(g.uid[1], "0123aabbccddeeff01");
    CHECK(g.has_cert[0]);
    CHECK_EQ_INT(g.dev_len, f.dev_len[0]);
    CHECK_EQ_MEM(g.dev, f.dev_der[0], g.dev_len);

    /* The file shape: an indent=2 array, header first. */
    CHECK(strncmp((const char *)f.file.data,
                  "[\n  {\n    \"header\": {\n      \"uniqueId\": ", 40) ==
          0);
    fx_clear(&f);
}

/* Splitter callback: count elements and sum their lengths and errors. */
struct seen {
    size_t n;
    size_t bytes;
    int errs[8];
    long offs[8];
};

static int
seen_fn(void *ctx, size_t index, long offset, const char *text, size_t n,
        int err)
{
    struct seen *s = ctx;

    if (index < 8) {
        s->errs[index] = err;
        s->offs[index] = offset;
    }
    s->n++;
    s->bytes += text != NULL ? n : 0;
    return TC_OK;
}

static int
split_all(const char *p, size_t n, size_t step, struct seen *out)
{
    struct tc_split s;
    size_t i;
    int rc = TC_OK;

    memset(out, 0, sizeof(*out));
    tc_split_init(&s, 4096, 4);
    for (i = 0; rc == TC_OK && i < n; i += step) {
        rc = tc_split_feed(&s, p + i, n - i < step ? n - i : step, seen_fn,
                           out, NULL);
    }
    if (rc == TC_OK) {
        rc = tc_split_finish(&s, NULL);
    }
    tc_split_clear(&s);
    return rc;
}

TC_TEST(manifest_split_chunks_and_limits)
{
    static const char text[] =
        " [ {\"a\": \"x,]}\\\"\"} , [1, [2]],\n\"s\" , 12 ,{}]  ";
    struct seen whole;
    struct seen bytes;
    struct tc_buf big;
    size_t step;

    /* Any chunking gives the same elements as one feed. */
    CHECK_EQ_INT(split_all(text, strlen(text), strlen(text), &whole), TC_OK);
    CHECK_EQ_INT(whole.n, 5);
    CHECK_EQ_INT(whole.offs[0], 3);
    for (step = 1; step < 8; step++) {
        CHECK_EQ_INT(split_all(text, strlen(text), step, &bytes), TC_OK);
        CHECK_EQ_INT(bytes.n, whole.n);
        CHECK_EQ_INT(bytes.bytes, whole.bytes);
    }

    /* Array grammar errors are file-level. */
    CHECK_EQ_INT(split_all("{}", 2, 2, &bytes), TC_ERR_MANIFEST_NOT_ARRAY);
    CHECK_EQ_INT(split_all("", 0, 1, &bytes), TC_ERR_MANIFEST_NOT_ARRAY);
    CHECK_EQ_INT(split_all("[{}", 3, 1, &bytes), TC_ERR_MANIFEST_TRUNCATED);
    CHECK_EQ_INT(split_all("[{},", 4, 1, &bytes), TC_ERR_MANIFEST_TRUNCATED);
    CHECK_EQ_INT(split_all("[{\"a", 4, 2, &bytes), TC_ERR_MANIFEST_TRUNCATED);
    CHECK_EQ_INT(split_all("[{},]", 5, 1, &bytes), TC_ERR_PARSE);
    CHECK_EQ_INT(split_all("[,{}]", 5, 1, &bytes), TC_ERR_PARSE);
    CHECK_EQ_INT(split_all("[{} {}]", 7, 1, &bytes), TC_ERR_PARSE);
    CHECK_EQ_INT(split_all("[{}] x", 6, 1, &bytes), TC_ERR_PARSE);
    CHECK_EQ_INT(split_all("[]", 2, 1, &bytes), TC_OK);
    CHECK_EQ_INT(bytes.n, 0);

    /* Too deep and too big are per element; the next one still comes. */
    CHECK_EQ_INT(split_all("[[[[[[1]]]]], {}]", 17, 3, &bytes), TC_OK);
    CHECK_EQ_INT(bytes.n, 2);
    CHECK_EQ_INT(bytes.errs[0], TC_ERR_JSON_DEPTH);
    CHECK_EQ_INT(bytes.errs[1], TC_OK);
    tc_buf_init(&big, 1 << 20);
    tc_buf_append_str(&big, "[\"");
    for (step = 0; step < 10000; step++) {
        tc_buf_append_str(&big, "x");
    }
    tc_buf_append_str(&big, "\", {}]");
    CHECK_EQ_INT(split_all((const char *)big.data, big.len, 777, &bytes),
                 TC_OK);
    tc_buf_clear(&big, 0);
    CHECK_EQ_INT(bytes.n, 2);
    CHECK_EQ_INT(bytes.errs[0], TC_ERR_TOO_BIG);
    CHECK_EQ_INT(bytes.errs[1], TC_OK);
}

/* Run a manifest edited by jansson; expect entry 0 to pass, 1 to fail. */
static int
run_json(struct tc_manifest_verifier *v, json_t *arr, struct got *g)
{
    char *text = json_dumps(arr, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    int rc = run(v, text, strlen(text), g);

    free(text);
    return rc;
}

/* Replace member key of entry 1 by s with byte at flips changed. */
static void
flip(json_t *arr, const char *key, size_t at)
{
    json_t *e = json_array_get(arr, 1);
    char *s = strdup(json_string_value(json_object_get(e, key)));

    s[at] = s[at] == 'A' ? 'B' : 'A';
    json_object_set_new(e, key, json_string(s));
    free(s);
}

TC_TEST(manifest_tampered_entries_are_refused)
{
    struct fx f;
    struct tc_manifest_verifier *v;
    struct got g;
    json_t *arr;
    json_t *e;
    struct tc_buf b;
    uint8_t raw[1024];
    size_t n = 0;
    const char *p;
    int c;

    CHECK(fx_init(&f, 365));
    v = verifier(&f, f.root);
    for (c = 0; c < 8; c++) {
        int want = TC_ERR_MANIFEST_SIGNATURE;

        arr = json_loadb((const char *)f.file.data, f.file.len, 0, NULL);
        e = json_array_get(arr, 1);
        switch (c) {
        case 0: /* a byte of the payload */
            flip(arr, "payload", 40);
            break;
        case 1: /* a byte of the signature */
            flip(arr, "signature", 5);
            break;
        case 2: /* same header, other bytes: compact instead of spaced */
            p = json_string_value(json_object_get(e, "protected"));
            tc_base64_decode(p, strlen(p), raw, sizeof(raw), &n, 1, NULL);
            raw[n] = '\0';
            {
                json_t *h = json_loadb((char *)raw, n, 0, NULL);
                char *t = json_dumps(h, JSON_COMPACT | JSON_PRESERVE_ORDER);

                tc_buf_init(&b, 4096);
                b64u(&b, t, strlen(t));
                json_object_set_new(e, "protected",
                                    json_string((char *)b.data));
                tc_buf_clear(&b, 0);
                free(t);
                json_decref(h);
            }
            break;
        case 3: /* a byte of the protected header */
            flip(arr, "protected", 3);
            want = -1;
            break;
        case 4: /* the unprotected header names another chip */
            json_object_set_new(json_object_get(e, "header"), "uniqueId",
                                json_string("0123f2408ea1fcf201"));
            want = TC_ERR_MANIFEST_UNIQUEID;
            break;
        case 5: /* an entry that is not an object */
            json_array_set_new(arr, 1, json_integer(42));
            want = TC_ERR_MANIFEST_NOT_OBJECT;
            break;
        case 6: /* an extra member */
            json_object_set_new(e, "signatures", json_array());
            want = TC_ERR_MANIFEST_SHAPE;
            break;
        default: /* the signature is not 64 bytes */
            json_object_set_new(e, "signature", json_string("AAAA"));
            want = TC_ERR_MANIFEST_SHAPE;
            break;
        }
        CHECK_EQ_INT(run_json(v, arr, &g), TC_OK);
        json_decref(arr);
        CHECK_EQ_INT(g.n, 2);
        CHECK_EQ_INT(g.err[0], TC_OK);
        if (want == -1) {
            CHECK(g.err[1] != TC_OK);
        } else {
            CHECK_EQ_INT(g.err[1], want);
        }
        CHECK(!g.has_cert[1]);

        /* The header is a hint: a mismatch reports the signed uniqueId. */
        if (c == 4) {
            CHECK_EQ_STR(g.uid[1], "0123aabbccddeeff01");
        }
    }

    tc_manifest_verifier_free(v);
    fx_clear(&f);
}

TC_TEST(manifest_signer_checks)
{
    struct fx f;
    struct tc_manifest_verifier *v = NULL;
    struct got g;
    X509 *twin;
    uint8_t der[2048];
    size_t n;

    CHECK(fx_init(&f, 1));

    /* A signer the verifier was not given. */
    tc_manifest_verifier_new(&v);
    n = der_of(f.other, der);
    CHECK_EQ_INT(tc_manifest_verifier_add_signer(v, der, n, NULL), TC_OK);
    n = der_of(f.root, der);
    tc_manifest_verifier_add_trust(v, der, n, NULL);
    CHECK_EQ_INT(run(v, (char *)f.file.data, f.file.len, &g), TC_OK);
    CHECK_EQ_INT(g.err[0], TC_ERR_MANIFEST_UNKNOWN_SIGNER);
    CHECK_EQ_STR(g.field[0], "signer");
    tc_manifest_verifier_free(v);

    /* Same key and SKI (so the same kid), another certificate. */
    twin = mk_cert(f.ms->key, "test signer", NULL, NULL, 1, -1, 30);
    tc_manifest_verifier_new(&v);
    n = der_of(twin, der);
    X509_free(twin);
    tc_manifest_verifier_add_signer(v, der, n, NULL);
    CHECK_EQ_INT(run(v, (char *)f.file.data, f.file.len, &g), TC_OK);
    CHECK_EQ_INT(g.err[0], TC_ERR_MANIFEST_UNKNOWN_SIGNER);
    CHECK(strstr(g.text[0], "x5t#S256") != NULL);
    tc_manifest_verifier_free(v);

    /* The signer expired (valid 1 day), or is not valid yet. */
    v = verifier(&f, f.root);
    tc_manifest_verifier_set_time(v, time(NULL) + 3 * DAY);
    CHECK_EQ_INT(run(v, (char *)f.file.data, f.file.len, &g), TC_OK);
    CHECK_EQ_INT(g.err[0], TC_ERR_MANIFEST_SIGNER_VALIDITY);
    CHECK_EQ_INT(g.err[1], TC_ERR_MANIFEST_SIGNER_VALIDITY);
    tc_manifest_verifier_set_time(v, time(NULL) - 2 * DAY);
    CHECK_EQ_INT(run(v, (char *)f.file.data, f.file.len, &g), TC_OK);
    CHECK_EQ_INT(g.err[0], TC_ERR_MANIFEST_SIGNER_VALIDITY);
    tc_manifest_verifier_set_time(v, time(NULL));
    CHECK_EQ_INT(run(v, (char *)f.file.data, f.file.len, &g), TC_OK);
    CHECK_EQ_INT(g.err[0], TC_OK);
    tc_manifest_verifier_free(v);
    fx_clear(&f);
}

TC_TEST(manifest_chain_checks)
{
    struct fx f;
    struct tc_manifest_verifier *v;
    struct got g;

    CHECK(fx_init(&f, 365));

    /* Chained to a root nobody trusts. */
    v = verifier(&f, f.other);
    CHECK_EQ_INT(run(v, (char *)f.file.data, f.file.len, &g), TC_OK);
    CHECK_EQ_INT(g.err[0], TC_ERR_MANIFEST_CHAIN);
    CHECK_EQ_INT(g.err[1], TC_ERR_MANIFEST_CHAIN);
    CHECK_EQ_STR(g.field[0], "x5c-chain");
    tc_manifest_verifier_free(v);

    /* No anchor at all: refused unless the weaker check is asked for. */
    v = verifier(&f, NULL);
    CHECK_EQ_INT(run(v, (char *)f.file.data, f.file.len, &g), TC_OK);
    CHECK_EQ_INT(g.err[0], TC_ERR_MANIFEST_CHAIN);
    tc_manifest_verifier_skip_chain(v, 1);
    CHECK_EQ_INT(run(v, (char *)f.file.data, f.file.len, &g), TC_OK);
    CHECK_EQ_INT(g.err[0], TC_OK);
    tc_manifest_verifier_free(v);

    /* The signer CA itself pinned as the anchor. */
    v = verifier(&f, f.ca);
    CHECK_EQ_INT(run(v, (char *)f.file.data, f.file.len, &g), TC_OK);
    CHECK_EQ_INT(g.err[0], TC_OK);
    tc_manifest_verifier_free(v);
    fx_clear(&f);
}

/* Forge one entry of ms and verify it; returns the entry's code. */
static int
forged(struct fx *f, struct tc_manifest_verifier *v, const char *uid,
       const char *prot, const char *payload, struct got *g)
{
    struct tc_buf m;
    int rc;

    tc_buf_init(&m, 1 << 20);
    forge(&m, f->ms->key, uid, prot, payload);
    rc = run(v, (char *)m.data, m.len, g);
    tc_buf_clear(&m, 0);
    return rc == TC_OK ? g->err[0] : rc;
}

TC_TEST(manifest_payload_checks)
{
    struct fx f;
    struct tc_manifest_verifier *v;
    struct got g;
    struct tc_buf p;
    char prot[300];
    EVP_PKEY *k;
    X509 *old;
    X509 *oldca;
    uint8_t der[2048];
    uint8_t cader[2048];
    size_t n;
    size_t cn;
    const char *u0 = "0123f2408ea1fcf201";
    const char *u1 = "0123aabbccddeeff01";

    CHECK(fx_init(&f, 365));
    v = verifier(&f, f.root);
    prot_compact(prot, sizeof(prot), f.ms->kid, f.ms->x5t);
    tc_buf_init(&p, 1 << 20);

    /* Microchip's production shape verifies. */
    payload_v1(&p, u0, f.id[0].pubkeys[0], f.dev_der[0], f.dev_len[0],
               f.ca_der, f.ca_len, "1");
    CHECK_EQ_INT(forged(&f, v, u0, prot, (char *)p.data, &g), TC_OK);
    CHECK(g.has_cert[0]);

    /* The device certificate names another chip. */
    p.len = 0;
    payload_v1(&p, u1, f.id[0].pubkeys[0], f.dev_der[0], f.dev_len[0],
               f.ca_der, f.ca_len, "1");
    CHECK_EQ_INT(forged(&f, v, u1, prot, (char *)p.data, &g),
                 TC_ERR_MANIFEST_SERIAL);

    /* kid 0 is not the certificate's key. */
    p.len = 0;
    payload_v1(&p, u0, f.id[1].pubkeys[0], f.dev_der[0], f.dev_len[0],
               f.ca_der, f.ca_len, "1");
    CHECK_EQ_INT(forged(&f, v, u0, prot, (char *)p.data, &g),
                 TC_ERR_MANIFEST_KEY);

    /* x5c[1] chains to the anchor but did not issue the device cert. */
    cn = der_of(f.root, cader);
    p.len = 0;
    payload_v1(&p, u0, f.id[0].pubkeys[0], f.dev_der[0], f.dev_len[0],
               cader, cn, "1");
    CHECK_EQ_INT(forged(&f, v, u0, prot, (char *)p.data, &g),
                 TC_ERR_MANIFEST_CHAIN);

    /* An expired device certificate. */
    k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    old = mk_cert(k, "sn0123F2408EA1FCF201", f.ca, f.ca_key, 0, -20, -1);
    n = der_of(old, der);
    p.len = 0;
    payload_v1(&p, u0, f.id[0].pubkeys[0], der, n, f.ca_der, f.ca_len, "1");
    tc_mf_cert_xy(old, der + 1500, NULL);
    p.len = 0;
    payload_v1(&p, u0, der + 1500, der, n, f.ca_der, f.ca_len, "1");
    CHECK_EQ_INT(forged(&f, v, u0, prot, (char *)p.data, &g),
                 TC_ERR_MANIFEST_DATES);
    X509_free(old);

    /* An expired x5c signer CA. */
    oldca = mk_cert(f.ca_key, "Crypto Authentication Signer F620", f.root,
                    f.root_key, 1, -20, -1);
    cn = der_of(oldca, cader);
    X509_free(oldca);
    p.len = 0;
    payload_v1(&p, u0, f.id[0].pubkeys[0], f.dev_der[0], f.dev_len[0],
               cader, cn, "1");
    CHECK_EQ_INT(forged(&f, v, u0, prot, (char *)p.data, &g),
                 TC_ERR_MANIFEST_DATES);
    EVP_PKEY_free(k);

    /* Versions: 3 and "1" refused; 2 without a key set verifies. */
    p.len = 0;
    payload_v1(&p, u0, f.id[0].pubkeys[0], f.dev_der[0], f.dev_len[0],
               f.ca_der, f.ca_len, "3");
    CHECK_EQ_INT(forged(&f, v, u0, prot, (char *)p.data, &g),
                 TC_ERR_MANIFEST_VERSION);
    p.len = 0;
    payload_v1(&p, u0, f.id[0].pubkeys[0], f.dev_der[0], f.dev_len[0],
               f.ca_der, f.ca_len, "\"1\"");
    CHECK_EQ_INT(forged(&f, v, u0, prot, (char *)p.data, &g),
                 TC_ERR_MANIFEST_VERSION);
    CHECK_EQ_INT(forged(&f, v, u0, prot,
                        "{\"version\":2,\"model\":\"ATECC608C\","
                        "\"partNumber\":\"ATECC608C-SSH8Q\","
                        "\"groupId\":\"ABCDEFGH12345678\","
                        "\"uniqueId\":\"0123f2408ea1fcf201\"}",
                        &g),
                 TC_OK);
    CHECK(!g.has_cert[0]);
    CHECK_EQ_INT(forged(&f, v, u0, prot,
                        "{\"version\":1,\"uniqueId\":\"0123f2408ea1fcf201\"}",
                        &g),
                 TC_ERR_MANIFEST_SHAPE);
    CHECK_EQ_INT(forged(&f, v, u0, prot,
                        "{\"version\":1,\"uniqueId\":\"0123F2408EA1FCF201\"}",
                        &g),
                 TC_ERR_MANIFEST_SHAPE);

    /* Protected header: algorithm, extra members, typ. */
    snprintf(prot, sizeof(prot),
             "{\"alg\":\"ES384\",\"kid\":\"%s\",\"x5t#S256\":\"%s\"}",
             f.ms->kid, f.ms->x5t);
    CHECK_EQ_INT(forged(&f, v, u0, prot, "{}", &g), TC_ERR_MANIFEST_ALG);
    snprintf(prot, sizeof(prot),
             "{\"alg\":\"none\",\"kid\":\"%s\",\"x5t#S256\":\"%s\"}",
             f.ms->kid, f.ms->x5t);
    CHECK_EQ_INT(forged(&f, v, u0, prot, "{}", &g), TC_ERR_MANIFEST_ALG);
    snprintf(prot, sizeof(prot),
             "{\"alg\":\"ES256\",\"crit\":[\"b64\"],\"kid\":\"%s\","
             "\"x5t#S256\":\"%s\"}",
             f.ms->kid, f.ms->x5t);
    CHECK_EQ_INT(forged(&f, v, u0, prot, "{}", &g), TC_ERR_MANIFEST_SHAPE);
    snprintf(prot, sizeof(prot),
             "{\"typ\":\"JOSE\",\"alg\":\"ES256\",\"kid\":\"%s\","
             "\"x5t#S256\":\"%s\"}",
             f.ms->kid, f.ms->x5t);
    CHECK_EQ_INT(forged(&f, v, u0, prot, "{}", &g), TC_ERR_MANIFEST_SHAPE);
    CHECK_EQ_INT(forged(&f, v, u0, "[1]", "{}", &g), TC_ERR_MANIFEST_SHAPE);

    tc_buf_clear(&p, 0);
    tc_manifest_verifier_free(v);
    fx_clear(&f);
}

/* A PEM file of the vectors as bytes in b. */
static int
vec(const char *name, struct tc_buf *b)
{
    char path[256];

    snprintf(path, sizeof(path), VEC "%s", name);
    tc_buf_init(b, 1 << 16);
    return tc_file_read(path, b, NULL);
}

TC_TEST(manifest_microchip_signers)
{
    static const uint8_t ski005[20] = {
        0x4c, 0x29, 0xe9, 0x9f, 0x36, 0x01, 0xf0, 0xcd, 0xc2, 0x3b,
        0xbe, 0xfa, 0x07, 0x23, 0xc9, 0xdb, 0x25, 0xf7, 0x29, 0x8a};
    struct fx f;
    struct tc_manifest_verifier *v = NULL;
    struct tc_buf b;
    struct got g;
    X509 *x;
    BIO *bio;
    uint8_t md[32];
    unsigned int mdlen = 0;
    char kid[64];
    char x5t[64];
    char prot[300];
    static const char *const names[] = {
        "log-signer-001.pem", "log-signer-002.pem", "log-signer-003.pem",
        "log-signer-004.pem", "manifest-signer-005.pem"};
    size_t i;

    CHECK(fx_init(&f, 365));
    tc_manifest_verifier_new(&v);
    for (i = 0; i < 5; i++) {
        CHECK_EQ_INT(vec(names[i], &b), TC_OK);
        CHECK_EQ_INT(tc_manifest_verifier_add_signer(v, b.data, b.len, NULL),
                     TC_OK);
        tc_buf_clear(&b, 0);
    }
    CHECK_EQ_INT(vec("crypto-authentication-root-ca-002.pem", &b), TC_OK);
    CHECK_EQ_INT(tc_manifest_verifier_add_trust(v, b.data, b.len, NULL),
                 TC_OK);
    tc_buf_clear(&b, 0);

    /* kid and x5t#S256 of Manifest Signer 005, computed independently. */
    CHECK_EQ_INT(vec("manifest-signer-005.pem", &b), TC_OK);
    bio = BIO_new_mem_buf(b.data, (int)b.len);
    x = PEM_read_bio_X509(bio, NULL, NULL, NULL);
    BIO_free(bio);
    tc_buf_clear(&b, 0);
    CHECK(x != NULL);
    X509_digest(x, EVP_sha256(), md, &mdlen);
    tc_base64_encode(ski005, 20, kid, 1);
    tc_base64_encode(md, 32, x5t, 1);
    CHECK_EQ_STR(kid, "TCnpnzYB8M3CO776ByPJ2yX3KYo");
    CHECK_EQ_INT(tc_mf_cert_kid(x, prot, NULL), TC_OK);
    CHECK_EQ_STR(prot, kid);
    X509_free(x);

    /* Names 005 exactly, but the signature is another key's. */
    prot_compact(prot, sizeof(prot), kid, x5t);
    CHECK_EQ_INT(forged(&f, v, "0123f2408ea1fcf201", prot,
                        "{\"version\":2,\"uniqueId\":\"0123f2408ea1fcf201\"}",
                        &g),
                 TC_ERR_MANIFEST_SIGNATURE);
    CHECK(strstr(g.text[0], "Manifest Signer 005") != NULL);

    /* Log Signer 001 expired in 2019. */
    CHECK_EQ_INT(vec("log-signer-001.pem", &b), TC_OK);
    bio = BIO_new_mem_buf(b.data, (int)b.len);
    x = PEM_read_bio_X509(bio, NULL, NULL, NULL);
    BIO_free(bio);
    tc_buf_clear(&b, 0);
    X509_digest(x, EVP_sha256(), md, &mdlen);
    tc_mf_cert_kid(x, kid, NULL);
    X509_free(x);
    tc_base64_encode(md, 32, x5t, 1);
    prot_compact(prot, sizeof(prot), kid, x5t);
    CHECK_EQ_INT(forged(&f, v, "0123f2408ea1fcf201", prot,
                        "{\"version\":2,\"uniqueId\":\"0123f2408ea1fcf201\"}",
                        &g),
                 TC_ERR_MANIFEST_SIGNER_VALIDITY);
    tc_manifest_verifier_free(v);
    fx_clear(&f);
}

TC_TEST(manifest_file_limits)
{
    struct fx f;
    struct tc_manifest_verifier *v;
    struct tc_buf m;
    struct got g;
    size_t i;
    const char *body;

    CHECK(fx_init(&f, 365));
    v = verifier(&f, f.root);

    /* File-level errors. */
    CHECK_EQ_INT(run(v, (char *)f.file.data, f.file.len - 3, &g),
                 TC_ERR_MANIFEST_TRUNCATED);
    CHECK_EQ_INT(run(v, "[]", 2, &g), TC_ERR_MANIFEST_EMPTY);
    CHECK_EQ_INT(run(v, "{\"a\":1}", 7, &g), TC_ERR_MANIFEST_NOT_ARRAY);
    CHECK_EQ_INT(run(v, "[{\"a\" 1}]", 9, &g), TC_OK);
    CHECK_EQ_INT(g.err[0], TC_ERR_PARSE);

    /* Deeply nested and 10 MB entries fail alone; the rest verify. */
    body = strchr((char *)f.file.data, '{');
    tc_buf_init(&m, 12 << 20);
    tc_buf_append_str(&m, "[");
    for (i = 0; i < 100000; i++) {
        tc_buf_append(&m, "[", 1);
    }
    for (i = 0; i < 100000; i++) {
        tc_buf_append(&m, "]", 1);
    }
    tc_buf_append_str(&m, ", {\"header\": \"");
    for (i = 0; i < 10 * 1024 * 1024; i += 64) {
        tc_buf_append_str(&m, "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
                              "xxxxxxxxxxxxxxxxxx");
    }
    tc_buf_append_str(&m, "\"}, ");
    tc_buf_append_str(&m, body);
    CHECK_EQ_INT(run(v, (char *)m.data, m.len, &g), TC_OK);
    tc_buf_clear(&m, 0);
    CHECK_EQ_INT(g.n, 4);
    CHECK_EQ_INT(g.err[0], TC_ERR_JSON_DEPTH);
    CHECK_EQ_INT(g.err[1], TC_ERR_TOO_BIG);
    CHECK_EQ_INT(g.err[2], TC_OK);
    CHECK_EQ_INT(g.err[3], TC_OK);
    tc_manifest_verifier_free(v);
    fx_clear(&f);
}

TC_TEST(manifest_create_and_signer_refusals)
{
    struct fx f;
    struct tc_manifest_identity id;
    struct tc_manifest_signer *s = NULL;
    struct tc_detail d;
    struct tc_buf out;
    struct stat st;
    char dir[600];
    char kp[700];
    char cp[700];
    char other_kp[512];

    CHECK(fx_init(&f, 365));
    tc_buf_init(&out, 1 << 20);

    /* Identity checks before signing. */
    id = f.id[0];
    id.pubkeys[0][5] ^= 1;
    CHECK_EQ_INT(tc_manifest_entry_create(f.ms, &id, &out, &d),
                 TC_ERR_MANIFEST_KEY);
    id = f.id[0];
    id.sn[8] ^= 1;
    CHECK_EQ_INT(tc_manifest_entry_create(f.ms, &id, &out, &d),
                 TC_ERR_MANIFEST_SERIAL);
    id = f.id[0];
    id.signer_der = f.dev_der[1];
    id.signer_len = f.dev_len[1];
    CHECK_EQ_INT(tc_manifest_entry_create(f.ms, &id, &out, &d),
                 TC_ERR_MANIFEST_CHAIN);
    id = f.id[0];
    id.model = "ATECC\n608";
    CHECK_EQ_INT(tc_manifest_entry_create(f.ms, &id, &out, &d), TC_ERR_ARG);
    id = f.id[0];
    id.version = 3;
    CHECK_EQ_INT(tc_manifest_entry_create(f.ms, &id, &out, &d),
                 TC_ERR_MANIFEST_VERSION);

    /* A CA certificate's CN is no chip serial. */
    tc_manifest_identity_init(&id);
    CHECK_EQ_INT(tc_manifest_identity_from_certs(&id, f.ca_der, f.ca_len,
                                                 f.ca_der, f.ca_len, &d),
                 TC_ERR_MANIFEST_CERT);
    CHECK_EQ_INT(tc_manifest_identity_from_certs(&id, f.ca_der, 10,
                                                 f.ca_der, f.ca_len, &d),
                 TC_ERR_MANIFEST_CERT);

    /* The signer: 0600 key, never replaced without force. */
    snprintf(dir, sizeof(dir), "%s.again", f.ms_key_path);
    snprintf(kp, sizeof(kp), "%s/" TC_MANIFEST_SIGNER_KEY_FILE, dir);
    snprintf(cp, sizeof(cp), "%s/" TC_MANIFEST_SIGNER_CERT_FILE, dir);
    CHECK_EQ_INT(tc_manifest_signer_generate(dir, "cn", 10, 0, &d), TC_OK);
    CHECK_EQ_INT(stat(kp, &st), 0);
    CHECK_EQ_INT(st.st_mode & 0777, 0600);
    CHECK_EQ_INT(tc_manifest_signer_generate(dir, "cn", 10, 0, &d),
                 TC_ERR_EXISTS);
    CHECK_EQ_INT(tc_manifest_signer_generate(dir, "", 10, 1, &d), TC_ERR_ARG);

    /* A key that is not the certificate's. */
    snprintf(other_kp, sizeof(other_kp), "%s", f.ms_key_path);
    CHECK_EQ_INT(tc_manifest_signer_load(other_kp, cp, &s, &d),
                 TC_ERR_MANIFEST_SIGNER_KEY);
    CHECK(s == NULL);
    CHECK_EQ_INT(tc_manifest_signer_load(kp, cp, &s, &d), TC_OK);
    CHECK(strlen(tc_manifest_signer_kid(s)) == 27);
    CHECK(strlen(tc_manifest_signer_x5t(s)) == 43);
    tc_manifest_signer_free(s);
    CHECK_EQ_INT(tc_manifest_signer_load("/nonexistent/k", cp, &s, &d),
                 TC_ERR_NOT_FOUND);

    setenv("XDG_CONFIG_HOME", "/x/cfg", 1);
    CHECK_EQ_INT(tc_manifest_signer_default_dir(dir, sizeof(dir), &d), TC_OK);
    CHECK_EQ_STR(dir, "/x/cfg/thingcore/manifest-signer");
    unsetenv("XDG_CONFIG_HOME");
    tc_buf_clear(&out, 0);
    fx_clear(&f);
}

TC_TEST(manifest_duplicate_unique_ids)
{
    struct fx f;
    struct tc_manifest_verifier *v;
    struct tc_buf m;
    struct got g;
    const char *body;
    int i;

    CHECK(fx_init(&f, 365));
    v = verifier(&f, f.root);

    /* The two entries, then the first twice more: 2 and 3 repeat 0. */
    body = strchr((char *)f.file.data, '{');
    tc_buf_init(&m, 1 << 20);
    tc_buf_append(&m, f.file.data, f.file.len - 2);
    for (i = 0; i < 2; i++) {
        tc_buf_append_str(&m, ",\n  ");
        tc_buf_append(&m, body, (size_t)(strstr(body, "\n  }") - body) + 4);
    }
    tc_buf_append_str(&m, "\n]");
    CHECK_EQ_INT(run(v, (char *)m.data, m.len, &g), TC_OK);
    CHECK_EQ_INT(g.n, 4);
    CHECK_EQ_INT(g.err[0], TC_OK);
    CHECK_EQ_INT(g.err[1], TC_OK);
    CHECK_EQ_INT(g.err[2], TC_ERR_MANIFEST_DUPLICATE);
    CHECK_EQ_INT(g.err[3], TC_ERR_MANIFEST_DUPLICATE);
    CHECK_EQ_STR(g.uid[2], "0123f2408ea1fcf201");
    CHECK(strstr(g.text[3], "entry 0") != NULL);
    CHECK(!g.has_cert[2]);

    /* A new run forgets the ids of the last one. */
    CHECK_EQ_INT(run(v, (char *)f.file.data, f.file.len, &g), TC_OK);
    CHECK_EQ_INT(g.err[0], TC_OK);
    tc_buf_clear(&m, 0);
    tc_manifest_verifier_free(v);
    fx_clear(&f);
}

/* Replace the first occurrence of from in b's text by to. */
static void
replace_first(struct tc_buf *b, const char *from, const char *to)
{
    char *at = strstr((char *)b->data, from);
    struct tc_buf o;

    if (at == NULL) {
        return;
    }
    tc_buf_init(&o, 1 << 20);
    tc_buf_append(&o, b->data, (size_t)(at - (char *)b->data));
    tc_buf_append_str(&o, to);
    tc_buf_append_str(&o, at + strlen(from));
    b->len = 0;
    tc_buf_append(b, o.data, o.len);
    tc_buf_append(b, "", 1);
    b->len--;
    tc_buf_clear(&o, 0);
}

TC_TEST(manifest_fast_reader_falls_back_exactly)
{
    struct fx f;
    struct tc_manifest_verifier *v;
    struct tc_buf p;
    struct got g;
    char prot[300];
    const char *u0 = "0123f2408ea1fcf201";

    CHECK(fx_init(&f, 365));
    v = verifier(&f, f.root);
    prot_compact(prot, sizeof(prot), f.ms->kid, f.ms->x5t);
    tc_buf_init(&p, 1 << 20);

    /* An escaped slash in x5c, a unicode escape, a real: jansson reads. */
    payload_v1(&p, u0, f.id[0].pubkeys[0], f.dev_der[0], f.dev_len[0],
               f.ca_der, f.ca_len, "1");
    CHECK(strchr((char *)p.data, '/') != NULL);
    replace_first(&p, "/", "\\/");
    replace_first(&p, "\"ATECC608C\"", "\"ATECC\\u0036\\u00308C\"");
    CHECK_EQ_INT(forged(&f, v, u0, prot, (char *)p.data, &g), TC_OK);
    CHECK(g.has_cert[0]);
    p.len = 0;
    payload_v1(&p, u0, f.id[0].pubkeys[0], f.dev_der[0], f.dev_len[0],
               f.ca_der, f.ca_len, "1.0");
    CHECK_EQ_INT(forged(&f, v, u0, prot, (char *)p.data, &g),
                 TC_ERR_MANIFEST_VERSION);

    /* A key given twice in the payload is jansson's parse error. */
    p.len = 0;
    payload_v1(&p, u0, f.id[0].pubkeys[0], f.dev_der[0], f.dev_len[0],
               f.ca_der, f.ca_len, "1");
    replace_first(&p, "\"model\"", "\"model\":\"x\",\"model\"");
    CHECK_EQ_INT(forged(&f, v, u0, prot, (char *)p.data, &g),
                 TC_ERR_MANIFEST_SHAPE);

    /* A key given twice in the envelope. */
    {
        static const char twice[] =
            "[{\"header\":{\"uniqueId\":\"a\"},\"header\":{}}]";

        CHECK_EQ_INT(run(v, twice, strlen(twice), &g), TC_OK);
    }
    CHECK_EQ_INT(g.err[0], TC_ERR_PARSE);

    /* x5c of three certificates, and x5c on kid 1. */
    p.len = 0;
    payload_v1(&p, u0, f.id[0].pubkeys[0], f.dev_der[0], f.dev_len[0],
               f.ca_der, f.ca_len, "1");
    replace_first(&p, "\"]},", "\",\"QUJD\"]},");
    CHECK_EQ_INT(forged(&f, v, u0, prot, (char *)p.data, &g),
                 TC_ERR_MANIFEST_SHAPE);
    p.len = 0;
    payload_v1(&p, u0, f.id[0].pubkeys[0], f.dev_der[0], f.dev_len[0],
               f.ca_der, f.ca_len, "1");
    replace_first(&p, "{\"kid\":\"1\",", "{\"kid\":\"1\",\"x5c\":[],");
    CHECK_EQ_INT(forged(&f, v, u0, prot, (char *)p.data, &g),
                 TC_ERR_MANIFEST_SHAPE);
    CHECK(strstr(g.text[0], "only kid 0") != NULL);

    tc_buf_clear(&p, 0);
    tc_manifest_verifier_free(v);
    fx_clear(&f);
}
