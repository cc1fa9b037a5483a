/* SPDX-License-Identifier: Apache-2.0 */
/*
 * AWS Signature Version 4 for the control-plane API: verification of a
 * request the server received, and signing of a request the API client
 * sends. Both are pure functions over the request's method, raw path, raw
 * query, headers, payload hash and the time, so they are testable without
 * a network. Only the Authorization-header form is handled.
 *
 * Limitations: presigned URLs (X-Amz-Signature in the query), session
 * tokens and chunked (streaming) payloads are not supported and are
 * refused; the Date header is not accepted in place of X-Amz-Date.
 */
#ifndef THINGCORE_SIGV4_H
#define THINGCORE_SIGV4_H

#include <stddef.h>
#include <time.h>

#include "thingcore/err.h"

/* Access key ids are AKIA plus 16 characters; secrets 40 characters. */
#define TC_SIGV4_KEY_ID_MAX 128
#define TC_SIGV4_SECRET_MAX 128
/* Longest Authorization header value the signer writes or the verifier
 * accepts. */
#define TC_SIGV4_AUTH_MAX 2048
/* Default accepted distance between X-Amz-Date and the server's clock. */
#define TC_SIGV4_DEFAULT_SKEW 300

/* One request header as received or to be sent (both borrowed). */
struct tc_sigv4_header {
    const char *name;
    const char *value;
};

/*
 * The parts of a request that the signature covers. path is the request
 * target's path exactly as it appears on the wire (still percent-encoded);
 * query is the raw text after '?' or NULL; payload_hash is the lower-case
 * hex SHA-256 of the body (64 characters). All borrowed.
 */
struct tc_sigv4_request {
    const char *method;
    const char *path;
    const char *query;
    const struct tc_sigv4_header *headers;
    size_t n_headers;
    const char *payload_hash;
};

/*
 * Find the secret of an access key id: write it NUL-terminated into secret
 * (cap bytes) and return TC_OK, or return TC_ERR_NOT_FOUND.
 */
typedef int (*tc_sigv4_secret_fn)(void *arg, const char *access_key_id,
                                  char *secret, size_t cap);

/* What a verification established about the caller. */
struct tc_sigv4_identity {
    char access_key_id[TC_SIGV4_KEY_ID_MAX];
    char service[32];
};

/*
 * Verify req's Authorization header against the secret lookup finds.
 * Accepted: region equal to `region`, service "iot" or "execute-api",
 * X-Amz-Date signed and within max_skew seconds of now, host signed, an
 * X-Amz-Content-SHA256 header (if present) equal to payload_hash. The
 * signature is compared in constant time. On success fills who (may be
 * NULL). Failures: TC_ERR_API_UNSIGNED, _AUTH_HEADER, _UNKNOWN_KEY,
 * _SIGNATURE, _CLOCK_SKEW, _SCOPE, _PAYLOAD_HASH, with d naming the part.
 * The secret is wiped from memory before return.
 */
int tc_sigv4_verify(const struct tc_sigv4_request *req, const char *region,
                    tc_sigv4_secret_fn lookup, void *arg, time_t now,
                    long max_skew, struct tc_sigv4_identity *who,
                    struct tc_detail *d);

/* The two headers a signer adds to a request. */
struct tc_sigv4_signature {
    char amz_date[17];
    char authorization[TC_SIGV4_AUTH_MAX];
};

/*
 * Sign req (whose headers must include host; x-amz-date is added by the
 * signer and must not be in req->headers) with the given key for region
 * and service at time now. Every header in req->headers is signed. The
 * caller sends X-Amz-Date: out->amz_date and Authorization:
 * out->authorization.
 */
int tc_sigv4_sign(const struct tc_sigv4_request *req,
                  const char *access_key_id, const char *secret,
                  const char *region, const char *service, time_t now,
                  struct tc_sigv4_signature *out, struct tc_detail *d);

/*
 * The canonical request SigV4 hashes, for tests and debugging: written to
 * out (cap bytes, NUL-terminated). signed_headers is the ';'-separated
 * lower-case list. TC_ERR_TOO_BIG when it does not fit.
 */
int tc_sigv4_canonical_request(const struct tc_sigv4_request *req,
                               const char *signed_headers, char *out,
                               size_t cap, struct tc_detail *d);

/* Lower-case hex SHA-256 of n bytes into out (65 bytes). */
void tc_sigv4_sha256_hex(const void *p, size_t n, char out[65]);

#endif
