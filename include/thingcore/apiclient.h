/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A small client for the control-plane API (this core's, or AWS IoT's):
 * one keep-alive HTTPS connection (OpenSSL, the server verified against a
 * CA file and the URL's host), SigV4 signing, JSON in and out, and AWS
 * error responses turned into a thingcore code plus the error type,
 * message and resourceId. `thingcore register`, bulk import and the bench
 * use it. It does not retry a request the server may have executed.
 *
 * A client is used by one thread at a time; make one per thread.
 *
 * Limitations: HTTP/1.1 with Content-Length responses only (no chunked
 * responses); no proxy support; IPv6 literals in URLs need brackets.
 */
#ifndef THINGCORE_APICLIENT_H
#define THINGCORE_APICLIENT_H

#include <stddef.h>

#include <jansson.h>

#include "thingcore/datadir.h"
#include "thingcore/err.h"
#include "thingcore/sigv4.h"

struct tc_apiclient;

struct tc_apiclient_config {
    const char *endpoint_url;  /* https://host:port or http://127.0.0.1:p */
    const char *access_key_id;
    const char *secret;
    const char *region;
    const char *service;       /* NULL = "iot" */
    const char *ca_file;       /* PEM bundle; NULL = system trust store */
    int timeout_ms;            /* per read/write; 0 = 30000 */
};

/* What an AWS error response said. */
struct tc_apiclient_error {
    int status;
    char type[64];
    char message[512];
    char resource_id[160];
    char resource_arn[320];
};

/* A client (handed over); copies what cfg points to. Connects lazily. */
int tc_apiclient_new(const struct tc_apiclient_config *cfg,
                     struct tc_apiclient **out, struct tc_detail *d);

/*
 * A client for the core whose data directory is dd: its key, region and
 * CA bundle, and url (NULL = the URL the running server wrote, else
 * https://127.0.0.1:<api_port>).
 */
int tc_apiclient_for_datadir(const struct tc_datadir *dd, const char *url,
                             struct tc_apiclient **out, struct tc_detail *d);

/* Close the connection, wipe the secret, free (NULL accepted). */
void tc_apiclient_free(struct tc_apiclient *c);

/*
 * One call. path must already be percent-encoded (see
 * tc_apiclient_escape); query is the encoded text after '?' or NULL;
 * headers (n of them, borrowed) are sent and signed; body (borrowed, may
 * be NULL) is sent as JSON. On a 2xx answer *out (may be NULL) receives
 * the parsed body (caller json_decref). On an AWS error answer the code
 * of that error type (ResourceNotFoundException: TC_ERR_REG_NOT_FOUND, an
 * unknown type: TC_ERR_API_REMOTE) is returned and err (may be NULL) and
 * d are filled. Transport failures: TC_ERR_API_CONNECT, TC_ERR_API_TLS,
 * TC_ERR_API_HTTP, TC_ERR_TIMEOUT.
 */
int tc_apiclient_call(struct tc_apiclient *c, const char *method,
                      const char *path, const char *query,
                      const struct tc_sigv4_header *headers, size_t n,
                      const json_t *body, json_t **out,
                      struct tc_apiclient_error *err, struct tc_detail *d);

/* Percent-encode s for one path segment or query value (every byte but
 * A-Z a-z 0-9 - _ . ~). TC_ERR_TOO_BIG when out (cap bytes) is short. */
int tc_apiclient_escape(const char *s, char *out, size_t cap);

/* The thingcore code an AWS error type stands for (the API's table read
 * backwards); TC_ERR_API_REMOTE for a type it does not know. */
int tc_api_error_code(const char *type);

#endif
