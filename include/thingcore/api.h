/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The AWS IoT-compatible control-plane API: request handling (SigV4
 * verification, routing by method and path template, JSON bodies, AWS
 * error responses) over the registry, and an HTTPS server that feeds it
 * from libmicrohttpd. tc_api_handle is independent of the server so tests
 * and fuzzers can drive it directly. The API decides nothing about
 * objects; the registry does.
 *
 * Errors are sent as AWS sends them: the HTTP status, an x-amzn-ErrorType
 * header with the exception name, and {"message": ...} (plus resourceId and
 * resourceArn for ResourceAlreadyExistsException).
 *
 * Limitations: only the operations listed in docs/api.md; no rate
 * limiting; one access key (the data directory's).
 */
#ifndef THINGCORE_API_H
#define THINGCORE_API_H

#include <stddef.h>

#include "thingcore/datadir.h"
#include "thingcore/err.h"
#include "thingcore/sigv4.h"
#include "thingcore/util.h"

/* The largest request body accepted (a CA certificate with its
 * verification certificate and a registration template fit easily). */
#define TC_API_BODY_MAX (128 * 1024)
#define TC_API_HEADERS_MAX 64

struct tc_api;

struct tc_api_options {
    long max_skew;      /* seconds; 0 = TC_SIGV4_DEFAULT_SKEW */
    size_t max_body;    /* 0 = TC_API_BODY_MAX */
};

/*
 * A request handler over the data directory dd (borrowed: it must outlive
 * the handler) and its registry. Thread-safe: tc_api_handle may run on
 * many threads at once; each call borrows a registry handle from a pool.
 */
int tc_api_new(const struct tc_datadir *dd, const struct tc_api_options *o,
               struct tc_api **out, struct tc_detail *d);
void tc_api_free(struct tc_api *api);

/* One HTTP request as received; all borrowed. target is the raw request
 * target ("/things/x?maxResults=2"). now = 0 means the current time. */
struct tc_api_request {
    const char *method;
    const char *target;
    const struct tc_sigv4_header *headers;
    size_t n_headers;
    const char *body;
    size_t body_len;
    double now;
};

/* The answer. body is JSON text (owned; tc_api_response_clear frees). */
struct tc_api_response {
    int status;
    char error_type[64];      /* "" on success */
    char operation[48];       /* the matched operation, or "" */
    char access_key_id[TC_SIGV4_KEY_ID_MAX]; /* "" when not authenticated */
    struct tc_buf body;
};

/*
 * Handle one request. Always produces a response (an error response when
 * the request is refused); the return value is TC_OK or the code that
 * produced the error response, for logging.
 */
int tc_api_handle(struct tc_api *api, const struct tc_api_request *req,
                  struct tc_api_response *resp);

void tc_api_response_clear(struct tc_api_response *resp);

/* ---------------------------------------------------------------- */
/* The HTTPS server */

struct tc_api_server;

/* One line per request for the program's log; members borrowed. */
struct tc_api_log_entry {
    const char *method;
    const char *path;        /* without the query */
    const char *operation;
    int status;
    const char *access_key_id; /* "-" when not authenticated */
    const char *error_type;    /* "" on success */
    double ms;
};

typedef void (*tc_api_log_fn)(void *arg, const struct tc_api_log_entry *e);

struct tc_api_server_config {
    const struct tc_datadir *dd; /* borrowed; outlives the server */
    const char *bind_address;    /* IPv4 or IPv6 literal; NULL = 127.0.0.1 */
    int port;                    /* 0 = dd->api_port */
    int plain_http;              /* only allowed on a loopback address */
    unsigned threads;            /* 0 = one per CPU */
    struct tc_api_options options;
    tc_api_log_fn log;           /* may be NULL */
    void *log_arg;
};

/*
 * Start serving in background threads. HTTPS with the data directory's
 * server key and certificate unless plain_http (refused with
 * TC_ERR_API_CONFIG on a non-loopback address). *out is handed over.
 */
int tc_api_server_start(const struct tc_api_server_config *cfg,
                        struct tc_api_server **out, struct tc_detail *d);

/* The port actually bound (useful when the configuration said 0). */
int tc_api_server_port(const struct tc_api_server *srv);

/* Stop accepting, finish running requests, free (NULL accepted). */
void tc_api_server_stop(struct tc_api_server *srv);

#endif
