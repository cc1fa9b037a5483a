// SPDX-License-Identifier: Apache-2.0
/*
 * SigV4 against vectors made with botocore (tests/vectors/sigv4/, see
 * make_vectors.py): the canonical request, verification and signing must
 * all agree with botocore byte for byte. Then every rejection path, each
 * from a valid vector changed in one place.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../test.h"
#include "thingcore/sigv4.h"
#include "thingcore/util.h"

#define VEC_PATH "tests/vectors/sigv4/vectors.txt"
#define MAXH 16

struct vec {
    char name[128];
    char method[16];
    char path[512];
    char query[512];
    char hname[MAXH][64];
    char hvalue[MAXH][512];
    struct tc_sigv4_header h[MAXH];
    size_t nh;
    char payload_hash[65];
    char key_id[64];
    char secret[64];
    char region[32];
    char service[32];
    long now;
    char authorization[1024];
    char canonical[4096];
};

static struct vec vecs[32];
static int nvec = -1;

static void
copy_field(char *dst, size_t cap, const char *src)
{
    snprintf(dst, cap, "%s", src);
}

/* Load vectors.txt once: "key: value" lines, records split by blank
 * lines, the canonical request base64-encoded. */
static int
load(void)
{
    FILE *f;
    char line[4096];
    struct vec *v = NULL;

    if (nvec >= 0) {
        return nvec;
    }
    nvec = 0;
    f = fopen(VEC_PATH, "r");
    if (f == NULL) {
        return 0;
    }
    while (fgets(line, sizeof(line), f) != NULL) {
        char *val;

        line[strcspn(line, "\n")] = '\0';
        if (line[0] == '\0') {
            v = NULL;
            continue;
        }
        val = strstr(line, ": ");
        val = val != NULL ? val + 2 : line + strlen(line);
        if (strncmp(line, "name:", 5) == 0) {
            if (nvec == (int)(sizeof(vecs) / sizeof(vecs[0]))) {
                break;
            }
            v = &vecs[nvec++];
            memset(v, 0, sizeof(*v));
            copy_field(v->name, sizeof(v->name), val);
        } else if (v == NULL) {
            continue;
        } else if (strncmp(line, "method:", 7) == 0) {
            copy_field(v->method, sizeof(v->method), val);
        } else if (strncmp(line, "path:", 5) == 0) {
            copy_field(v->path, sizeof(v->path), val);
        } else if (strncmp(line, "query:", 6) == 0) {
            copy_field(v->query, sizeof(v->query), val);
        } else if (strncmp(line, "header:", 7) == 0 && v->nh < MAXH) {
            char *colon = strstr(val, ": ");

            if (colon != NULL) {
                *colon = '\0';
                copy_field(v->hname[v->nh], 64, val);
                copy_field(v->hvalue[v->nh], 512, colon + 2);
                v->nh++;
            }
        } else if (strncmp(line, "payload_hash:", 13) == 0) {
            copy_field(v->payload_hash, sizeof(v->payload_hash), val);
        } else if (strncmp(line, "key_id:", 7) == 0) {
            copy_field(v->key_id, sizeof(v->key_id), val);
        } else if (strncmp(line, "secret:", 7) == 0) {
            copy_field(v->secret, sizeof(v->secret), val);
        } else if (strncmp(line, "region:", 7) == 0) {
            copy_field(v->region, sizeof(v->region), val);
        } else if (strncmp(line, "service:", 8) == 0) {
            copy_field(v->service, sizeof(v->service), val);
        } else if (strncmp(line, "now:", 4) == 0) {
            v->now = atol(val);
        } else if (strncmp(line, "authorization:", 14) == 0) {
            copy_field(v->authorization, sizeof(v->authorization), val);
        } else if (strncmp(line, "canonical:", 10) == 0) {
            size_t n = 0;

            if (tc_base64_decode(val, strlen(val), (uint8_t *)v->canonical,
                                 sizeof(v->canonical) - 1, &n, 0,
                                 NULL) == TC_OK) {
                v->canonical[n] = '\0';
            }
        }
    }
    fclose(f);
    return nvec;
}

/* A request from a vector plus its Authorization header. */
static void
make_request(struct vec *v, struct tc_sigv4_request *r, int with_auth)
{
    size_t i;

    for (i = 0; i < v->nh; i++) {
        v->h[i].name = v->hname[i];
        v->h[i].value = v->hvalue[i];
    }
    if (with_auth) {
        v->h[v->nh].name = "Authorization";
        v->h[v->nh].value = v->authorization;
    }
    r->method = v->method;
    r->path = v->path;
    r->query = v->query;
    r->headers = v->h;
    r->n_headers = v->nh + (with_auth ? 1 : 0);
    r->payload_hash = v->payload_hash;
}

static const char *the_secret;

static int
lookup(void *arg, const char *key_id, char *secret, size_t cap)
{
    if (strcmp(key_id, (const char *)arg) != 0) {
        return TC_ERR_NOT_FOUND;
    }
    snprintf(secret, cap, "%s", the_secret);
    return TC_OK;
}

static int
verify(struct vec *v, struct tc_sigv4_request *r, const char *region,
       long now)
{
    struct tc_detail d;

    the_secret = v->secret;
    return tc_sigv4_verify(r, region, lookup, v->key_id, (time_t)now,
                           TC_SIGV4_DEFAULT_SKEW, NULL, &d);
}

TC_TEST(sigv4_vectors_canonical_and_verify)
{
    int i;

    CHECK(load() >= 16);
    for (i = 0; i < nvec; i++) {
        struct vec *v = &vecs[i];
        struct tc_sigv4_request r;
        struct tc_sigv4_identity who;
        struct tc_detail d;
        char canon[4096];
        const char *sh = strstr(v->authorization, "SignedHeaders=");
        char list[256];

        CHECK(sh != NULL);
        sh += strlen("SignedHeaders=");
        snprintf(list, sizeof(list), "%.*s", (int)strcspn(sh, ","), sh);
        make_request(v, &r, 1);
        CHECK_EQ_INT(tc_sigv4_canonical_request(&r, list, canon,
                                                sizeof(canon), &d),
                     TC_OK);
        CHECK_EQ_STR(canon, v->canonical);
        the_secret = v->secret;
        CHECK_EQ_INT(tc_sigv4_verify(&r, v->region, lookup, v->key_id,
                                     (time_t)v->now, TC_SIGV4_DEFAULT_SKEW,
                                     &who, &d),
                     TC_OK);
        CHECK_EQ_STR(who.access_key_id, v->key_id);
        CHECK_EQ_STR(who.service, v->service);
    }
}

TC_TEST(sigv4_vectors_sign_matches_botocore)
{
    int i;

    CHECK(load() >= 16);
    for (i = 0; i < nvec; i++) {
        struct vec *v = &vecs[i];
        struct tc_sigv4_header hs[MAXH];
        struct tc_sigv4_request r;
        struct tc_sigv4_signature sig;
        size_t k;
        size_t n = 0;

        /* Sign exactly the headers botocore signed, minus the date. */
        make_request(v, &r, 0);
        for (k = 0; k < v->nh; k++) {
            char needle[80];

            snprintf(needle, sizeof(needle), "%s", v->hname[k]);
            for (char *p = needle; *p; p++) {
                *p = (char)(*p >= 'A' && *p <= 'Z' ? *p + 32 : *p);
            }
            if (strcmp(needle, "x-amz-date") == 0 ||
                strstr(v->authorization, needle) == NULL) {
                continue;
            }
            hs[n++] = v->h[k];
        }
        r.headers = hs;
        r.n_headers = n;
        CHECK_EQ_INT(tc_sigv4_sign(&r, v->key_id, v->secret, v->region,
                                   v->service, (time_t)v->now, &sig, NULL),
                     TC_OK);
        CHECK_EQ_STR(sig.amz_date, "20240305T123456Z");
        CHECK_EQ_STR(sig.authorization, v->authorization);
    }
}

TC_TEST(sigv4_rejects_changed_requests)
{
    struct vec v;
    struct vec base;
    struct tc_sigv4_request r;
    char zeros[65];

    CHECK(load() >= 16);
    /* A vector with a query, so query tampering is covered too. */
    base = vecs[2];
    CHECK(strstr(base.name, "list-things-query") != NULL);

    v = base;
    make_request(&v, &r, 1);
    CHECK_EQ_INT(verify(&v, &r, v.region, v.now), TC_OK);

    /* Wrong secret. */
    v = base;
    make_request(&v, &r, 1);
    v.secret[0] ^= 1;
    CHECK_EQ_INT(verify(&v, &r, v.region, v.now), TC_ERR_API_SIGNATURE);

    /* Tampered body: the server's own hash of it differs. */
    v = base;
    make_request(&v, &r, 1);
    memset(zeros, '0', 64);
    zeros[64] = '\0';
    r.payload_hash = zeros;
    CHECK_EQ_INT(verify(&v, &r, v.region, v.now), TC_ERR_API_SIGNATURE);

    /* Tampered query value and path. */
    v = base;
    v.query[strlen(v.query) - 1] = 'z';
    make_request(&v, &r, 1);
    CHECK_EQ_INT(verify(&v, &r, v.region, v.now), TC_ERR_API_SIGNATURE);
    v = base;
    make_request(&v, &r, 1);
    r.path = "/things/";
    CHECK_EQ_INT(verify(&v, &r, v.region, v.now), TC_ERR_API_SIGNATURE);
    r.method = "DELETE";
    r.path = base.path;
    CHECK_EQ_INT(verify(&v, &r, v.region, v.now), TC_ERR_API_SIGNATURE);

    /* Old and future dates. */
    v = base;
    make_request(&v, &r, 1);
    CHECK_EQ_INT(verify(&v, &r, v.region, v.now + 301),
                 TC_ERR_API_CLOCK_SKEW);
    CHECK_EQ_INT(verify(&v, &r, v.region, v.now - 301),
                 TC_ERR_API_CLOCK_SKEW);
    CHECK_EQ_INT(verify(&v, &r, v.region, v.now + 299), TC_OK);

    /* Another region. */
    CHECK_EQ_INT(verify(&v, &r, "us-east-1", v.now), TC_ERR_API_SCOPE);

    /* Unknown key. */
    the_secret = v.secret;
    CHECK_EQ_INT(tc_sigv4_verify(&r, v.region, lookup, "AKIAOTHER",
                                 (time_t)v.now, 300, NULL, NULL),
                 TC_ERR_API_UNKNOWN_KEY);

    /* No Authorization at all. */
    make_request(&v, &r, 0);
    CHECK_EQ_INT(verify(&v, &r, v.region, v.now), TC_ERR_API_UNSIGNED);
}

TC_TEST(sigv4_payload_hash_header_must_match)
{
    struct vec v;
    struct tc_sigv4_request r;

    CHECK(load() >= 16);
    v = vecs[0];
    CHECK(v.nh + 2 < MAXH);
    snprintf(v.hname[v.nh], 64, "X-Amz-Content-SHA256");
    snprintf(v.hvalue[v.nh], 512, "UNSIGNED-PAYLOAD");
    v.nh++;
    make_request(&v, &r, 1);
    CHECK_EQ_INT(verify(&v, &r, v.region, v.now), TC_ERR_API_PAYLOAD_HASH);

    /* The right hash in the (unsigned) header is accepted. */
    snprintf(v.hvalue[v.nh - 1], 512, "%s", v.payload_hash);
    make_request(&v, &r, 1);
    CHECK_EQ_INT(verify(&v, &r, v.region, v.now), TC_OK);
}

TC_TEST(sigv4_signed_header_value_changed)
{
    struct vec v;
    struct tc_sigv4_request r;
    size_t i;

    CHECK(load() >= 16);
    v = vecs[3];
    CHECK(strstr(v.name, "attach-thing-principal") != NULL);
    for (i = 0; i < v.nh; i++) {
        if (strcmp(v.hname[i], "x-amzn-principal") == 0) {
            v.hvalue[i][strlen(v.hvalue[i]) - 1] = 'c';
        }
    }
    make_request(&v, &r, 1);
    CHECK_EQ_INT(verify(&v, &r, v.region, v.now), TC_ERR_API_SIGNATURE);

    /* An unsigned header may change freely. */
    v = vecs[3];
    for (i = 0; i < v.nh; i++) {
        if (strcmp(v.hname[i], "Content-Length") == 0) {
            snprintf(v.hvalue[i], 512, "999");
        }
    }
    make_request(&v, &r, 1);
    CHECK_EQ_INT(verify(&v, &r, v.region, v.now), TC_OK);
}

/* Malformed Authorization headers: each row must fail with the code. */
TC_TEST(sigv4_malformed_authorization)
{
    static const struct {
        const char *auth;
        int code;
    } rows[] = {
        {"AWS4-HMAC-SHA1 Credential=A/20240305/eu-west-1/iot/aws4_request, "
         "SignedHeaders=host;x-amz-date, Signature=" 
         "0000000000000000000000000000000000000000000000000000000000000000",
         TC_ERR_API_AUTH_HEADER},
        {"AWS4-HMAC-SHA256 Credential=A/20240305/eu-west-1/iot/aws4_request, "
         "SignedHeaders=host;x-amz-date",
         TC_ERR_API_AUTH_HEADER},
        {"AWS4-HMAC-SHA256 Credential=A/20240305/eu-west-1/iot, "
         "SignedHeaders=host;x-amz-date, Signature="
         "0000000000000000000000000000000000000000000000000000000000000000",
         TC_ERR_API_AUTH_HEADER},
        {"AWS4-HMAC-SHA256 Credential=A/20240305/eu-west-1/iot/aws4_request, "
         "SignedHeaders=x-amz-date;host, Signature="
         "0000000000000000000000000000000000000000000000000000000000000000",
         TC_ERR_API_AUTH_HEADER},
        {"AWS4-HMAC-SHA256 Credential=A/20240305/eu-west-1/iot/aws4_request, "
         "SignedHeaders=x-amz-date, Signature="
         "0000000000000000000000000000000000000000000000000000000000000000",
         TC_ERR_API_AUTH_HEADER},
        {"AWS4-HMAC-SHA256 Credential=A/20240305/eu-west-1/iot/aws4_request, "
         "SignedHeaders=Host;x-amz-date, Signature="
         "0000000000000000000000000000000000000000000000000000000000000000",
         TC_ERR_API_AUTH_HEADER},
        {"AWS4-HMAC-SHA256 Credential=A/20240305/eu-west-1/iot/aws4_request, "
         "SignedHeaders=host;x-amz-date, Signature=00",
         TC_ERR_API_AUTH_HEADER},
        {"AWS4-HMAC-SHA256 Credential=A/20240305/eu-west-1/iot/aws4_request, "
         "SignedHeaders=host;x-amz-date, Signature="
         "000000000000000000000000000000000000000000000000000000000000000G",
         TC_ERR_API_AUTH_HEADER},
        {"AWS4-HMAC-SHA256 Credential=A/20240305/eu-west-1/iot/aws4_request, "
         "Credential=A/20240305/eu-west-1/iot/aws4_request, "
         "SignedHeaders=host;x-amz-date, Signature="
         "0000000000000000000000000000000000000000000000000000000000000000",
         TC_ERR_API_AUTH_HEADER},
        {"AWS4-HMAC-SHA256 Credential=A/20240306/eu-west-1/iot/aws4_request, "
         "SignedHeaders=host;x-amz-date, Signature="
         "0000000000000000000000000000000000000000000000000000000000000000",
         TC_ERR_API_SCOPE},
        {"AWS4-HMAC-SHA256 Credential=A/20240305/eu-west-1/s3/aws4_request, "
         "SignedHeaders=host;x-amz-date, Signature="
         "0000000000000000000000000000000000000000000000000000000000000000",
         TC_ERR_API_SCOPE},
        {"AWS4-HMAC-SHA256 Credential=A/20240305/eu-west-1/iot/aws4_request, "
         "SignedHeaders=host;x-amz-date, Signature="
         "0000000000000000000000000000000000000000000000000000000000000000",
         TC_ERR_API_SIGNATURE},
        {"AWS4-HMAC-SHA256 Credential=A/20240305/eu-west-1/iot/aws4_request, "
         "SignedHeaders=host;x-amz-content-sha256;x-amz-date, Signature="
         "0000000000000000000000000000000000000000000000000000000000000000",
         TC_ERR_API_SIGNATURE},
    };
    struct tc_sigv4_header h[3] = {
        {"Host", "127.0.0.1:1"},
        {"X-Amz-Date", "20240305T123456Z"},
        {"Authorization", NULL},
    };
    struct tc_sigv4_request r = {"GET", "/things", "", h, 3,
                                 "e3b0c44298fc1c149afbf4c8996fb924"
                                 "27ae41e4649b934ca495991b7852b855"};
    size_t i;

    the_secret = "secret";
    for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        struct tc_detail d;
        int rc;

        tc_detail_clear(&d);
        h[2].value = rows[i].auth;
        rc = tc_sigv4_verify(&r, "eu-west-1", lookup, "A", 1709642096, 300,
                             NULL, &d);
        if (rc != rows[i].code) {
            fprintf(stderr, "row %zu: %s (%s)\n", i, tc_errname(rc), d.text);
        }
        CHECK_EQ_INT(rc, rows[i].code);
        CHECK(d.text[0] != '\0');
    }

    /* A malformed date header. */
    h[1].value = "2024-03-05T12:34:56Z";
    h[2].value = rows[11].auth;
    CHECK_EQ_INT(tc_sigv4_verify(&r, "eu-west-1", lookup, "A", 1709642096,
                                 300, NULL, NULL),
                 TC_ERR_API_AUTH_HEADER);
}

TC_TEST(sigv4_sign_then_verify_round_trip)
{
    struct tc_sigv4_header h[4] = {
        {"host", "localhost:8443"},
        {"content-type", "application/json"},
        {"x-amzn-principal", "arn:aws:iot:r:1:cert/ab  cd"},
    };
    struct tc_sigv4_request r = {"PUT", "/things/a%20b/principals",
                                 "b=2&a=1&a=0", h, 3,
                                 "e3b0c44298fc1c149afbf4c8996fb924"
                                 "27ae41e4649b934ca495991b7852b855"};
    struct tc_sigv4_signature sig;
    struct tc_sigv4_header all[6];
    struct tc_sigv4_request v = r;

    CHECK_EQ_INT(tc_sigv4_sign(&r, "AKIAROUNDTRIP", "s3cr3t", "r1", "iot",
                               1700000000, &sig, NULL),
                 TC_OK);
    memcpy(all, h, 3 * sizeof(h[0]));
    all[3].name = "X-Amz-Date";
    all[3].value = sig.amz_date;
    all[4].name = "Authorization";
    all[4].value = sig.authorization;
    v.headers = all;
    v.n_headers = 5;
    the_secret = "s3cr3t";
    CHECK_EQ_INT(tc_sigv4_verify(&v, "r1", lookup, "AKIAROUNDTRIP",
                                 1700000000, 300, NULL, NULL),
                 TC_OK);

    /* The same query written with other escapes still verifies. */
    v.query = "a=0&b=%32&a=1";
    CHECK_EQ_INT(tc_sigv4_verify(&v, "r1", lookup, "AKIAROUNDTRIP",
                                 1700000000, 300, NULL, NULL),
                 TC_OK);
    v.query = "a=0&b=3&a=1";
    CHECK_EQ_INT(tc_sigv4_verify(&v, "r1", lookup, "AKIAROUNDTRIP",
                                 1700000000, 300, NULL, NULL),
                 TC_ERR_API_SIGNATURE);
}
