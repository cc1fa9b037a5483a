// SPDX-License-Identifier: Apache-2.0
/*
 * SigV4: the canonical request, the string to sign, the derived signing key,
 * and the Authorization header in both directions (verify and sign). It
 * does no I/O and keeps no state; the secret comes from a callback and is
 * wiped after use. It does not know HTTP beyond the parts it is given.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "thingcore/sigv4.h"
#include "thingcore/util.h"

/* Bounds on what a request may carry into the canonical form. */
#define CANON_MAX (64 * 1024)
#define QUERY_PAIRS_MAX 64
#define SIGNED_HEADERS_MAX 32
#define SIGN_HEADERS_MAX 31

static const char ALGORITHM[] = "AWS4-HMAC-SHA256";

void
tc_sigv4_sha256_hex(const void *p, size_t n, char out[65])
{
    unsigned char md[32];
    unsigned int mdlen = 0;

    EVP_Digest(p, n, md, &mdlen, EVP_sha256(), NULL);
    tc_hex_encode(md, 32, out, 0);
}

static int
is_unreserved(unsigned char c)
{
    return isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~';
}

/* AWS URI encoding: every byte but A-Z a-z 0-9 - _ . ~ (and '/' when
 * keep_slash) becomes %XX with upper-case hex. */
static int
uri_encode(struct tc_buf *b, const char *s, size_t n, int keep_slash)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t i;
    int rc = TC_OK;

    for (i = 0; i < n && rc == TC_OK; i++) {
        unsigned char c = (unsigned char)s[i];

        if (is_unreserved(c) || (keep_slash && c == '/')) {
            rc = tc_buf_append(b, &s[i], 1);
        } else {
            char e[3] = {'%', hex[c >> 4], hex[c & 15]};

            rc = tc_buf_append(b, e, 3);
        }
    }
    return rc;
}

static int
hexval(char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

/* Percent-decode n bytes into out (at least n+1 bytes); a '%' not
 * followed by two hex digits is kept as it is. Returns the length. */
static size_t
pct_decode(const char *s, size_t n, char *out)
{
    size_t i;
    size_t o = 0;

    for (i = 0; i < n; i++) {
        if (s[i] == '%' && i + 2 < n && hexval(s[i + 1]) >= 0 &&
            hexval(s[i + 2]) >= 0) {
            out[o++] = (char)(hexval(s[i + 1]) * 16 + hexval(s[i + 2]));
            i += 2;
        } else {
            out[o++] = s[i];
        }
    }
    out[o] = '\0';
    return o;
}

/*
 * The canonical URI: dot segments and empty segments removed as botocore
 * does (RFC 3986 5.2.4 plus collapsed slashes), then every byte but the
 * unreserved ones and '/' encoded again. The path arrives still encoded,
 * so a '%' in it becomes %25: services other than S3 double-encode.
 */
static int
canonical_uri(struct tc_buf *b, const char *path)
{
    const char *segs[256];
    size_t lens[256];
    size_t nseg = 0;
    size_t n = strlen(path);
    const char *p = path;
    const char *end = path + n;
    size_t i;
    int rc = TC_OK;

    if (n == 0) {
        return tc_buf_append_str(b, "/");
    }
    while (p < end) {
        const char *slash = memchr(p, '/', (size_t)(end - p));
        size_t len = slash != NULL ? (size_t)(slash - p) : (size_t)(end - p);

        if (len == 0 || (len == 1 && p[0] == '.')) {
            /* dropped */
        } else if (len == 2 && p[0] == '.' && p[1] == '.') {
            if (nseg > 0) {
                nseg--;
            }
        } else {
            if (nseg == 256) {
                return TC_ERR_TOO_BIG;
            }
            segs[nseg] = p;
            lens[nseg] = len;
            nseg++;
        }
        p += len + (slash != NULL ? 1 : 0);
    }
    if (path[0] == '/') {
        rc = tc_buf_append_str(b, "/");
    }
    for (i = 0; i < nseg && rc == TC_OK; i++) {
        if (i > 0) {
            rc = tc_buf_append_str(b, "/");
        }
        if (rc == TC_OK) {
            rc = uri_encode(b, segs[i], lens[i], 0);
        }
    }
    if (rc == TC_OK && path[n - 1] == '/' && nseg > 0) {
        rc = tc_buf_append_str(b, "/");
    }
    return rc;
}

struct qpair {
    char *key;
    char *value;
};

static int
qpair_cmp(const void *a, const void *b)
{
    const struct qpair *x = a;
    const struct qpair *y = b;
    int c = strcmp(x->key, y->key);

    return c != 0 ? c : strcmp(x->value, y->value);
}

/* Decode then re-encode one query component into a new string. */
static char *
requote(const char *s, size_t n)
{
    struct tc_buf b;
    char *dec = malloc(n + 1);
    size_t dn;

    if (dec == NULL) {
        return NULL;
    }
    dn = pct_decode(s, n, dec);
    tc_buf_init(&b, n * 3 + 1);
    if (uri_encode(&b, dec, dn, 0) != TC_OK ||
        tc_buf_append(&b, "", 0) != TC_OK) {
        free(dec);
        tc_buf_clear(&b, 0);
        return NULL;
    }
    free(dec);
    return (char *)b.data;
}

/*
 * The canonical query: pairs split on '&' and '=', each side decoded and
 * re-encoded in AWS form, sorted by key then value, joined with '&'.
 * Re-encoding makes the result independent of how the client escaped.
 */
static int
canonical_query(struct tc_buf *b, const char *query, struct tc_detail *d)
{
    struct qpair pairs[QUERY_PAIRS_MAX];
    size_t np = 0;
    const char *p = query;
    size_t i;
    int rc = TC_OK;

    if (query == NULL || query[0] == '\0') {
        return TC_OK;
    }
    while (*p != '\0' && rc == TC_OK) {
        size_t len = strcspn(p, "&");
        const char *eq = memchr(p, '=', len);
        size_t klen = eq != NULL ? (size_t)(eq - p) : len;

        if (len > 0) {
            if (np == QUERY_PAIRS_MAX) {
                rc = tc_detail_set(d, TC_ERR_TOO_BIG, -1, "query",
                                   "more than %d query parameters",
                                   QUERY_PAIRS_MAX);
                break;
            }
            pairs[np].key = requote(p, klen);
            pairs[np].value = eq != NULL
                                  ? requote(eq + 1, len - klen - 1)
                                  : requote("", 0);
            np++;
            if (pairs[np - 1].key == NULL || pairs[np - 1].value == NULL) {
                rc = TC_ERR_NOMEM;
            }
        }
        p += len;
        if (*p == '&') {
            p++;
        }
    }
    if (rc == TC_OK) {
        qsort(pairs, np, sizeof(pairs[0]), qpair_cmp);
    }
    for (i = 0; i < np && rc == TC_OK; i++) {
        rc = tc_buf_printf(b, "%s%s=%s", i > 0 ? "&" : "", pairs[i].key,
                           pairs[i].value);
    }
    for (i = 0; i < np; i++) {
        free(pairs[i].key);
        free(pairs[i].value);
    }
    return rc;
}

/* Append value with leading and trailing blanks dropped and inner runs of
 * blanks collapsed to one space (the "Trimall" of the SigV4 spec). */
static int
append_trimall(struct tc_buf *b, const char *v)
{
    int pending = 0;
    int started = 0;
    int rc = TC_OK;

    for (; *v != '\0' && rc == TC_OK; v++) {
        if (*v == ' ' || *v == '\t' || *v == '\r' || *v == '\n') {
            pending = started;
            continue;
        }
        if (pending) {
            rc = tc_buf_append(b, " ", 1);
            pending = 0;
        }
        if (rc == TC_OK) {
            rc = tc_buf_append(b, v, 1);
        }
        started = 1;
    }
    return rc;
}

/*
 * Canonical headers for the ';'-separated list: "name:value\n" per name,
 * values of repeated headers joined with ','. A signed name that the
 * request does not carry is an error: the signature could not match.
 */
static int
canonical_headers(struct tc_buf *b, const struct tc_sigv4_header *h,
                  size_t nh, const char *list, struct tc_detail *d)
{
    const char *p = list;
    int rc = TC_OK;

    while (*p != '\0' && rc == TC_OK) {
        size_t len = strcspn(p, ";");
        size_t i;
        int found = 0;

        rc = tc_buf_append(b, p, len);
        if (rc == TC_OK) {
            rc = tc_buf_append(b, ":", 1);
        }
        for (i = 0; i < nh && rc == TC_OK; i++) {
            if (strlen(h[i].name) == len &&
                strncasecmp(h[i].name, p, len) == 0) {
                if (found) {
                    rc = tc_buf_append(b, ",", 1);
                }
                if (rc == TC_OK) {
                    rc = append_trimall(b, h[i].value);
                }
                found = 1;
            }
        }
        if (rc == TC_OK && !found) {
            rc = tc_detail_set(d, TC_ERR_API_SIGNATURE, -1, "SignedHeaders",
                               "signed header '%.*s' is not in the request",
                               (int)len, p);
        }
        if (rc == TC_OK) {
            rc = tc_buf_append(b, "\n", 1);
        }
        p += len;
        if (*p == ';') {
            p++;
        }
    }
    return rc;
}

static int
build_canonical(const struct tc_sigv4_request *req,
                const char *signed_headers, struct tc_buf *b,
                struct tc_detail *d)
{
    int rc = tc_buf_printf(b, "%s\n", req->method);

    if (rc == TC_OK) {
        rc = canonical_uri(b, req->path);
    }
    if (rc == TC_OK) {
        rc = tc_buf_append(b, "\n", 1);
    }
    if (rc == TC_OK) {
        rc = canonical_query(b, req->query, d);
    }
    if (rc == TC_OK) {
        rc = tc_buf_append(b, "\n", 1);
    }
    if (rc == TC_OK) {
        rc = canonical_headers(b, req->headers, req->n_headers,
                               signed_headers, d);
    }
    if (rc == TC_OK) {
        rc = tc_buf_printf(b, "\n%s\n%s", signed_headers, req->payload_hash);
    }
    if (rc == TC_ERR_TOO_BIG && (d == NULL || d->text[0] == '\0')) {
        tc_detail_set(d, rc, -1, NULL, "canonical request over %d bytes",
                      CANON_MAX);
    }
    return rc;
}

int
tc_sigv4_canonical_request(const struct tc_sigv4_request *req,
                           const char *signed_headers, char *out, size_t cap,
                           struct tc_detail *d)
{
    struct tc_buf b;
    int rc;

    tc_buf_init(&b, CANON_MAX);
    rc = build_canonical(req, signed_headers, &b, d);
    if (rc == TC_OK && b.len + 1 > cap) {
        rc = TC_ERR_TOO_BIG;
    }
    if (rc == TC_OK) {
        memcpy(out, b.data, b.len + 1);
    }
    tc_buf_clear(&b, 0);
    return rc;
}

/* HMAC-SHA256 of msg under key into out (32 bytes). */
static int
hmac(const void *key, size_t klen, const char *msg, size_t mlen,
     unsigned char out[32])
{
    unsigned int olen = 0;

    if (HMAC(EVP_sha256(), key, (int)klen, (const unsigned char *)msg, mlen,
             out, &olen) == NULL ||
        olen != 32) {
        return TC_ERR_CRYPTO;
    }
    return TC_OK;
}

/*
 * The signature over string_to_sign with the key derived from secret:
 * kDate = HMAC("AWS4" secret, date), then region, service, "aws4_request".
 * Writes 64 hex digits and a NUL to sig.
 */
static int
compute_signature(const char *secret, const char *date, const char *region,
                  const char *service, const char *string_to_sign,
                  char sig[65])
{
    unsigned char k[32];
    unsigned char mac[32];
    char first[TC_SIGV4_SECRET_MAX + 8];
    int rc = TC_ERR_CRYPTO;
    int n = snprintf(first, sizeof(first), "AWS4%s", secret);

    if (n < 0 || (size_t)n >= sizeof(first)) {
        rc = TC_ERR_ARG;
        goto cleanup;
    }
    if (hmac(first, (size_t)n, date, strlen(date), k) != TC_OK ||
        hmac(k, 32, region, strlen(region), k) != TC_OK ||
        hmac(k, 32, service, strlen(service), k) != TC_OK ||
        hmac(k, 32, "aws4_request", 12, k) != TC_OK ||
        hmac(k, 32, string_to_sign, strlen(string_to_sign), mac) != TC_OK) {
        goto cleanup;
    }
    tc_hex_encode(mac, 32, sig, 0);
    rc = TC_OK;

cleanup:
    OPENSSL_cleanse(first, sizeof(first));
    OPENSSL_cleanse(k, sizeof(k));
    return rc;
}

/* The string to sign and then the signature for a finished canonical
 * request. */
static int
sign_canonical(const struct tc_buf *canon, const char *amz_date,
               const char *date, const char *region, const char *service,
               const char *secret, char sig[65])
{
    char chash[65];
    char sts[512];
    int n;

    tc_sigv4_sha256_hex(canon->data, canon->len, chash);
    n = snprintf(sts, sizeof(sts), "%s\n%s\n%s/%s/%s/aws4_request\n%s",
                 ALGORITHM, amz_date, date, region, service, chash);
    if (n < 0 || (size_t)n >= sizeof(sts)) {
        return TC_ERR_TOO_BIG;
    }
    return compute_signature(secret, date, region, service, sts, sig);
}

/* X-Amz-Date is exactly YYYYMMDDTHHMMSSZ in UTC. */
static int
parse_amz_date(const char *s, time_t *out)
{
    struct tm tm;
    int i;

    if (strlen(s) != 16 || s[8] != 'T' || s[15] != 'Z') {
        return TC_ERR_PARSE;
    }
    for (i = 0; i < 15; i++) {
        if (i != 8 && !isdigit((unsigned char)s[i])) {
            return TC_ERR_PARSE;
        }
    }
    memset(&tm, 0, sizeof(tm));
    tm.tm_year = (s[0] - '0') * 1000 + (s[1] - '0') * 100 +
                 (s[2] - '0') * 10 + (s[3] - '0') - 1900;
    tm.tm_mon = (s[4] - '0') * 10 + (s[5] - '0') - 1;
    tm.tm_mday = (s[6] - '0') * 10 + (s[7] - '0');
    tm.tm_hour = (s[9] - '0') * 10 + (s[10] - '0');
    tm.tm_min = (s[11] - '0') * 10 + (s[12] - '0');
    tm.tm_sec = (s[13] - '0') * 10 + (s[14] - '0');
    if (tm.tm_mon < 0 || tm.tm_mon > 11 || tm.tm_mday < 1 ||
        tm.tm_mday > 31 || tm.tm_hour > 23 || tm.tm_min > 59 ||
        tm.tm_sec > 60) {
        return TC_ERR_PARSE;
    }
    *out = timegm(&tm);
    return TC_OK;
}

/* The single value of a header, or NULL when absent; *count receives how
 * many times it appears. */
static const char *
find_header(const struct tc_sigv4_request *req, const char *name, int *count)
{
    const char *v = NULL;
    size_t i;

    *count = 0;
    for (i = 0; i < req->n_headers; i++) {
        if (strcasecmp(req->headers[i].name, name) == 0) {
            v = req->headers[i].value;
            (*count)++;
        }
    }
    return v;
}

/* The parsed parts of an Authorization header. */
struct authz {
    char key_id[TC_SIGV4_KEY_ID_MAX];
    char date[9];
    char region[64];
    char service[32];
    char signed_headers[1024];
    char signature[65];
};

/* Copy n bytes of s into a field of cap bytes, refusing what does not fit
 * or is empty. */
static int
take(char *dst, size_t cap, const char *s, size_t n)
{
    if (n == 0 || n >= cap) {
        return TC_ERR_PARSE;
    }
    memcpy(dst, s, n);
    dst[n] = '\0';
    return TC_OK;
}

/*
 * Parse the Authorization header (AWS SigV4 documentation, "Authorization
 * header"):
 *
 *   AWS4-HMAC-SHA256 SP Credential=KEYID/YYYYMMDD/REGION/SERVICE/aws4_request
 *     "," [SP] SignedHeaders=name(;name)* "," [SP] Signature=64HEX
 *
 * The three components may come in any order but each exactly once.
 * SignedHeaders must be lower case, sorted and without repeats.
 */
static int
parse_authorization(const char *h, struct authz *a, struct tc_detail *d)
{
    const char *p;
    int seen_cred = 0;
    int seen_sh = 0;
    int seen_sig = 0;

    memset(a, 0, sizeof(*a));
    if (strlen(h) >= TC_SIGV4_AUTH_MAX) {
        return tc_detail_set(d, TC_ERR_API_AUTH_HEADER, -1, "Authorization",
                             "longer than %d bytes", TC_SIGV4_AUTH_MAX);
    }
    if (strncmp(h, ALGORITHM, strlen(ALGORITHM)) != 0 ||
        h[strlen(ALGORITHM)] != ' ') {
        return tc_detail_set(d, TC_ERR_API_AUTH_HEADER, 0, "Authorization",
                             "algorithm is not %s", ALGORITHM);
    }
    p = h + strlen(ALGORITHM);
    while (*p != '\0') {
        size_t len;
        const char *eq;
        size_t klen;
        const char *v;
        size_t vlen;

        while (*p == ' ' || *p == ',') {
            p++;
        }
        if (*p == '\0') {
            break;
        }
        len = strcspn(p, ",");
        while (len > 0 && p[len - 1] == ' ') {
            len--;
        }
        eq = memchr(p, '=', len);
        if (eq == NULL) {
            return tc_detail_set(d, TC_ERR_API_AUTH_HEADER, (long)(p - h),
                                 "Authorization", "component without '='");
        }
        klen = (size_t)(eq - p);
        v = eq + 1;
        vlen = len - klen - 1;
        if (klen == 10 && strncmp(p, "Credential", 10) == 0 && !seen_cred) {
            /* KEYID/DATE/REGION/SERVICE/aws4_request */
            const char *parts[5];
            size_t plen[5];
            const char *q = v;
            int i;

            for (i = 0; i < 5; i++) {
                const char *s = memchr(q, '/', (size_t)(v + vlen - q));

                parts[i] = q;
                plen[i] = s != NULL ? (size_t)(s - q) : (size_t)(v + vlen - q);
                if (s == NULL && i < 4) {
                    return tc_detail_set(d, TC_ERR_API_AUTH_HEADER,
                                         (long)(v - h), "Credential",
                                         "expected KEYID/DATE/REGION/"
                                         "SERVICE/aws4_request");
                }
                q = s != NULL ? s + 1 : v + vlen;
            }
            if (parts[4] + plen[4] != v + vlen || plen[4] != 12 ||
                strncmp(parts[4], "aws4_request", 12) != 0 ||
                take(a->key_id, sizeof(a->key_id), parts[0], plen[0]) ||
                take(a->date, sizeof(a->date), parts[1], plen[1]) ||
                plen[1] != 8 ||
                take(a->region, sizeof(a->region), parts[2], plen[2]) ||
                take(a->service, sizeof(a->service), parts[3], plen[3])) {
                return tc_detail_set(d, TC_ERR_API_AUTH_HEADER,
                                     (long)(v - h), "Credential",
                                     "malformed credential scope");
            }
            seen_cred = 1;
        } else if (klen == 13 && strncmp(p, "SignedHeaders", 13) == 0 &&
                   !seen_sh) {
            if (take(a->signed_headers, sizeof(a->signed_headers), v, vlen)) {
                return tc_detail_set(d, TC_ERR_API_AUTH_HEADER,
                                     (long)(v - h), "SignedHeaders",
                                     "empty or too long");
            }
            seen_sh = 1;
        } else if (klen == 9 && strncmp(p, "Signature", 9) == 0 &&
                   !seen_sig) {
            size_t i;

            if (vlen != 64) {
                return tc_detail_set(d, TC_ERR_API_AUTH_HEADER,
                                     (long)(v - h), "Signature",
                                     "not 64 hex digits");
            }
            for (i = 0; i < 64; i++) {
                if (!isxdigit((unsigned char)v[i]) ||
                    isupper((unsigned char)v[i])) {
                    return tc_detail_set(d, TC_ERR_API_AUTH_HEADER,
                                         (long)(v - h + (long)i),
                                         "Signature",
                                         "not lower-case hex");
                }
            }
            memcpy(a->signature, v, 64);
            seen_sig = 1;
        } else {
            return tc_detail_set(d, TC_ERR_API_AUTH_HEADER, (long)(p - h),
                                 "Authorization",
                                 "unknown or repeated component '%.*s'",
                                 (int)(klen < 32 ? klen : 32), p);
        }
        p += strcspn(p, ",");
    }
    if (!seen_cred || !seen_sh || !seen_sig) {
        return tc_detail_set(d, TC_ERR_API_AUTH_HEADER, -1, "Authorization",
                             "missing %s", !seen_cred ? "Credential"
                                           : !seen_sh ? "SignedHeaders"
                                                      : "Signature");
    }
    return TC_OK;
}

/* SignedHeaders: lower case token characters, strictly ascending, at most
 * SIGNED_HEADERS_MAX names, host and x-amz-date among them. */
static int
check_signed_list(const char *list, struct tc_detail *d)
{
    const char *p = list;
    const char *prev = NULL;
    size_t prevlen = 0;
    int count = 0;
    int host = 0;
    int date = 0;

    while (*p != '\0') {
        size_t len = strcspn(p, ";");
        size_t i;

        if (len == 0 || ++count > SIGNED_HEADERS_MAX) {
            return tc_detail_set(d, TC_ERR_API_AUTH_HEADER, -1,
                                 "SignedHeaders", "empty name or too many");
        }
        for (i = 0; i < len; i++) {
            unsigned char c = (unsigned char)p[i];

            if (!(islower(c) || isdigit(c) || c == '-' || c == '_' ||
                  c == '.')) {
                return tc_detail_set(d, TC_ERR_API_AUTH_HEADER,
                                     (long)(p - list + (long)i),
                                     "SignedHeaders",
                                     "header names must be lower case");
            }
        }
        if (prev != NULL) {
            size_t m = prevlen < len ? prevlen : len;
            int c = memcmp(prev, p, m);

            if (c > 0 || (c == 0 && prevlen >= len)) {
                return tc_detail_set(d, TC_ERR_API_AUTH_HEADER,
                                     (long)(p - list), "SignedHeaders",
                                     "names not sorted or repeated");
            }
        }
        host |= len == 4 && memcmp(p, "host", 4) == 0;
        date |= len == 10 && memcmp(p, "x-amz-date", 10) == 0;
        prev = p;
        prevlen = len;
        p += len;
        if (*p == ';') {
            p++;
        }
    }
    if (!host || !date) {
        return tc_detail_set(d, TC_ERR_API_AUTH_HEADER, -1, "SignedHeaders",
                             "must include %s", !host ? "host" : "x-amz-date");
    }
    return TC_OK;
}

int
tc_sigv4_verify(const struct tc_sigv4_request *req, const char *region,
                tc_sigv4_secret_fn lookup, void *arg, time_t now,
                long max_skew, struct tc_sigv4_identity *who,
                struct tc_detail *d)
{
    struct authz a;
    struct tc_buf canon;
    char secret[TC_SIGV4_SECRET_MAX];
    char expect[65];
    const char *authz;
    const char *amz_date;
    const char *content_hash;
    time_t t;
    int count;
    int rc = TC_ERR_API_SIGNATURE;

    tc_buf_init(&canon, CANON_MAX);
    memset(secret, 0, sizeof(secret));

    /* The header exists once and parses. */
    authz = find_header(req, "authorization", &count);
    if (authz == NULL) {
        rc = tc_detail_set(d, TC_ERR_API_UNSIGNED, -1, "Authorization",
                           "no Authorization header");
        goto cleanup;
    }
    if (count > 1) {
        rc = tc_detail_set(d, TC_ERR_API_AUTH_HEADER, -1, "Authorization",
                           "header repeated");
        goto cleanup;
    }
    rc = parse_authorization(authz, &a, d);
    if (rc != TC_OK) {
        goto cleanup;
    }
    rc = check_signed_list(a.signed_headers, d);
    if (rc != TC_OK) {
        goto cleanup;
    }

    /* The scope names this core's region, an accepted service and the
     * same day as X-Amz-Date. */
    if (strcmp(a.region, region) != 0) {
        rc = tc_detail_set(d, TC_ERR_API_SCOPE, -1, "Credential",
                           "region '%s' is not this core's region '%s'",
                           a.region, region);
        goto cleanup;
    }
    if (strcmp(a.service, "iot") != 0 &&
        strcmp(a.service, "execute-api") != 0) {
        rc = tc_detail_set(d, TC_ERR_API_SCOPE, -1, "Credential",
                           "service '%s' is neither 'iot' nor 'execute-api'",
                           a.service);
        goto cleanup;
    }
    amz_date = find_header(req, "x-amz-date", &count);
    if (amz_date == NULL || count != 1 || parse_amz_date(amz_date, &t)) {
        rc = tc_detail_set(d, TC_ERR_API_AUTH_HEADER, -1, "X-Amz-Date",
                           "missing, repeated or not YYYYMMDDTHHMMSSZ");
        goto cleanup;
    }
    if (strncmp(amz_date, a.date, 8) != 0) {
        rc = tc_detail_set(d, TC_ERR_API_SCOPE, -1, "Credential",
                           "scope date %s differs from X-Amz-Date", a.date);
        goto cleanup;
    }

    /* Replays of old captures and clocks far off are refused. */
    if (t > now + max_skew || t < now - max_skew) {
        rc = tc_detail_set(d, TC_ERR_API_CLOCK_SKEW, -1, "X-Amz-Date",
                           "request time %s is more than %ld s from the "
                           "server's clock", amz_date, max_skew);
        goto cleanup;
    }

    /* A declared payload hash must be the body's real hash: that refuses
     * UNSIGNED-PAYLOAD and bodies changed after signing. */
    content_hash = find_header(req, "x-amz-content-sha256", &count);
    if (content_hash != NULL &&
        (count != 1 || strcmp(content_hash, req->payload_hash) != 0)) {
        rc = tc_detail_set(d, TC_ERR_API_PAYLOAD_HASH, -1,
                           "X-Amz-Content-SHA256",
                           "does not match the SHA-256 of the body");
        goto cleanup;
    }

    if (lookup(arg, a.key_id, secret, sizeof(secret)) != TC_OK) {
        rc = tc_detail_set(d, TC_ERR_API_UNKNOWN_KEY, -1, "Credential",
                           "access key id '%s' is not known", a.key_id);
        goto cleanup;
    }

    rc = build_canonical(req, a.signed_headers, &canon, d);
    if (rc != TC_OK) {
        goto cleanup;
    }
    rc = sign_canonical(&canon, amz_date, a.date, a.region, a.service,
                        secret, expect);
    if (rc != TC_OK) {
        goto cleanup;
    }
    if (CRYPTO_memcmp(expect, a.signature, 64) != 0) {
        rc = tc_detail_set(d, TC_ERR_API_SIGNATURE, -1, "Signature",
                           "the request signature does not match the "
                           "signature computed with the secret of '%s'",
                           a.key_id);
        goto cleanup;
    }
    if (who != NULL) {
        snprintf(who->access_key_id, sizeof(who->access_key_id), "%s",
                 a.key_id);
        snprintf(who->service, sizeof(who->service), "%s", a.service);
    }
    rc = TC_OK;

cleanup:
    OPENSSL_cleanse(secret, sizeof(secret));
    OPENSSL_cleanse(expect, sizeof(expect));
    tc_buf_clear(&canon, 0);
    return rc;
}

static int
header_ptr_cmp(const void *a, const void *b)
{
    const struct tc_sigv4_header *x = a;
    const struct tc_sigv4_header *y = b;

    return strcasecmp(x->name, y->name);
}

int
tc_sigv4_sign(const struct tc_sigv4_request *req, const char *access_key_id,
              const char *secret, const char *region, const char *service,
              time_t now, struct tc_sigv4_signature *out,
              struct tc_detail *d)
{
    struct tc_sigv4_header hs[SIGN_HEADERS_MAX + 1];
    struct tc_sigv4_request r = *req;
    struct tc_buf canon;
    struct tc_buf list;
    char date[9];
    char sig[65];
    struct tm tm;
    size_t i;
    int n;
    int rc = TC_ERR_INTERNAL;

    tc_buf_init(&canon, CANON_MAX);
    tc_buf_init(&list, 1024);
    if (req->n_headers > SIGN_HEADERS_MAX) {
        rc = tc_detail_set(d, TC_ERR_TOO_BIG, -1, "headers",
                           "more than %d headers to sign", SIGN_HEADERS_MAX);
        goto cleanup;
    }

    /* The timestamp joins the caller's headers; names are signed in
     * lower case and sorted. */
    gmtime_r(&now, &tm);
    strftime(out->amz_date, sizeof(out->amz_date), "%Y%m%dT%H%M%SZ", &tm);
    memcpy(date, out->amz_date, 8);
    date[8] = '\0';
    if (req->n_headers > 0) {
        memcpy(hs, req->headers, req->n_headers * sizeof(hs[0]));
    }
    hs[req->n_headers].name = "x-amz-date";
    hs[req->n_headers].value = out->amz_date;
    r.headers = hs;
    r.n_headers = req->n_headers + 1;
    qsort(hs, r.n_headers, sizeof(hs[0]), header_ptr_cmp);
    for (i = 0; i < r.n_headers; i++) {
        size_t k;

        if (i > 0 && strcasecmp(hs[i].name, hs[i - 1].name) == 0) {
            continue;
        }
        rc = tc_buf_append_str(&list, i > 0 ? ";" : "");
        for (k = 0; rc == TC_OK && hs[i].name[k] != '\0'; k++) {
            char c = (char)tolower((unsigned char)hs[i].name[k]);

            rc = tc_buf_append(&list, &c, 1);
        }
        if (rc != TC_OK) {
            goto cleanup;
        }
    }

    rc = build_canonical(&r, (const char *)list.data, &canon, d);
    if (rc != TC_OK) {
        goto cleanup;
    }
    rc = sign_canonical(&canon, out->amz_date, date, region, service, secret,
                        sig);
    if (rc != TC_OK) {
        goto cleanup;
    }
    n = snprintf(out->authorization, sizeof(out->authorization),
                 "%s Credential=%s/%s/%s/%s/aws4_request, SignedHeaders=%s, "
                 "Signature=%s",
                 ALGORITHM, access_key_id, date, region, service,
                 (const char *)list.data, sig);
    if (n < 0 || (size_t)n >= sizeof(out->authorization)) {
        rc = tc_detail_set(d, TC_ERR_TOO_BIG, -1, "Authorization",
                           "header longer than %d bytes", TC_SIGV4_AUTH_MAX);
        goto cleanup;
    }
    rc = TC_OK;

cleanup:
    tc_buf_clear(&canon, 0);
    tc_buf_clear(&list, 0);
    return rc;
}
