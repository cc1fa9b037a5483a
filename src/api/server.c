// SPDX-License-Identifier: Apache-2.0
/*
 * The API's HTTP(S) server on libmicrohttpd: a thread pool that collects
 * each request's raw target, headers and bounded body, hands them to
 * tc_api_handle and sends its answer. TLS comes from MHD's GnuTLS with the
 * data directory's server key and certificate. It keeps no state between
 * requests besides the handler's registry pool.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <microhttpd.h>
#include <openssl/rand.h>

#include "thingcore/api.h"

#define URI_MAX 8192

struct tc_api_server {
    struct MHD_Daemon *daemon;
    struct tc_api *api;
    struct tc_api_server_config cfg;
    struct tc_buf key_pem;
    struct tc_buf cert_pem;
    size_t max_body;
    int port;
};

/* Per-request state, created when MHD first sees the request line. */
struct req_ctx {
    char *target;
    struct tc_buf body;
    int started;
    int too_big;
    int bad_target;
    double start;
};

struct header_list {
    struct tc_sigv4_header h[TC_API_HEADERS_MAX];
    size_t n;
    int overflow;
};

/* MHD hands over the raw request target (path and query, still escaped)
 * here, before its own unescaping: SigV4 needs the bytes as sent. */
static void *
uri_log(void *cls, const char *uri, struct MHD_Connection *con)
{
    struct tc_api_server *srv = cls;
    struct req_ctx *ctx = calloc(1, sizeof(*ctx));

    if (ctx == NULL) {
        return NULL;
    }
    ctx->start = tc_monotonic();
    tc_buf_init(&ctx->body, srv->max_body);
    if (uri == NULL || strlen(uri) >= URI_MAX) {
        ctx->bad_target = 1;
    } else {
        ctx->target = strdup(uri);
    }
    return ctx;
}

static void
completed(void *cls, struct MHD_Connection *con, void **con_cls,
          enum MHD_RequestTerminationCode toe)
{
    struct req_ctx *ctx = *con_cls;

    if (ctx != NULL) {
        free(ctx->target);
        tc_buf_clear(&ctx->body, 0);
        free(ctx);
        *con_cls = NULL;
    }
}

static enum MHD_Result
collect_header(void *cls, enum MHD_ValueKind kind, const char *key,
               const char *value)
{
    struct header_list *l = cls;

    if (l->n == TC_API_HEADERS_MAX) {
        l->overflow = 1;
        return MHD_NO;
    }
    l->h[l->n].name = key;
    l->h[l->n].value = value != NULL ? value : "";
    l->n++;
    return MHD_YES;
}

/* A request id in the UUID layout AWS uses for x-amzn-RequestId. */
static void
request_id(char out[37])
{
    unsigned char r[16];
    char hex[33];

    if (RAND_bytes(r, sizeof(r)) != 1) {
        memset(r, 0, sizeof(r));
    }
    tc_hex_encode(r, sizeof(r), hex, 0);
    snprintf(out, 37, "%.8s-%.4s-%.4s-%.4s-%.12s", hex, hex + 8, hex + 12,
             hex + 16, hex + 20);
}

static enum MHD_Result
send_response(struct MHD_Connection *con, const struct tc_api_response *r)
{
    struct MHD_Response *resp;
    enum MHD_Result ret;
    char rid[37];

    resp = MHD_create_response_from_buffer(r->body.len,
                                           r->body.data != NULL
                                               ? (void *)r->body.data
                                               : (void *)"",
                                           MHD_RESPMEM_MUST_COPY);
    if (resp == NULL) {
        return MHD_NO;
    }
    request_id(rid);
    MHD_add_response_header(resp, "Content-Type", "application/json");
    MHD_add_response_header(resp, "x-amzn-RequestId", rid);
    if (r->error_type[0] != '\0') {
        MHD_add_response_header(resp, "x-amzn-ErrorType", r->error_type);
    }
    ret = MHD_queue_response(con, (unsigned int)r->status, resp);
    MHD_destroy_response(resp);
    return ret;
}

static void
log_request(struct tc_api_server *srv, const char *method,
            const struct req_ctx *ctx, const struct tc_api_response *r)
{
    struct tc_api_log_entry e;
    char path[256];
    const char *target = ctx->target != NULL ? ctx->target : "?";

    if (srv->cfg.log == NULL) {
        return;
    }
    snprintf(path, sizeof(path), "%.*s", (int)strcspn(target, "?"), target);
    e.method = method;
    e.path = path;
    e.operation = r->operation[0] != '\0' ? r->operation : "-";
    e.status = r->status;
    e.access_key_id = r->access_key_id[0] != '\0' ? r->access_key_id : "-";
    e.error_type = r->error_type;
    e.ms = (tc_monotonic() - ctx->start) * 1000.0;
    srv->cfg.log(srv->cfg.log_arg, &e);
}

/* An error response made here, before the handler runs (too large, or a
 * target that cannot be represented). */
static enum MHD_Result
early_error(struct tc_api_server *srv, struct MHD_Connection *con,
            const char *method, struct req_ctx *ctx, int status,
            const char *type, const char *message)
{
    struct tc_api_response r;
    enum MHD_Result ret;

    memset(&r, 0, sizeof(r));
    tc_buf_init(&r.body, 4096);
    r.status = status;
    snprintf(r.error_type, sizeof(r.error_type), "%s", type);
    tc_buf_printf(&r.body, "{\"message\":\"%s\"}", message);
    ret = send_response(con, &r);
    log_request(srv, method, ctx, &r);
    tc_buf_clear(&r.body, 0);
    return ret;
}

static enum MHD_Result
access_handler(void *cls, struct MHD_Connection *con, const char *url,
               const char *method, const char *version,
               const char *upload_data, size_t *upload_data_size,
               void **con_cls)
{
    struct tc_api_server *srv = cls;
    struct req_ctx *ctx = *con_cls;
    struct header_list hl;
    struct tc_api_request req;
    struct tc_api_response resp;
    enum MHD_Result ret;

    if (ctx == NULL) {
        return MHD_NO;
    }

    /* First call: headers are in. Refuse an announced oversized body
     * before reading any of it. */
    if (!ctx->started) {
        const char *cl = MHD_lookup_connection_value(con, MHD_HEADER_KIND,
                                                     "Content-Length");

        ctx->started = 1;
        if (ctx->bad_target || ctx->target == NULL) {
            return early_error(srv, con, method, ctx, 400,
                               "InvalidRequestException",
                               "request target too long");
        }
        if (cl != NULL && strtoull(cl, NULL, 10) > srv->max_body) {
            return early_error(srv, con, method, ctx, 413,
                               "RequestEntityTooLargeException",
                               "request body exceeds the size limit");
        }
        return MHD_YES;
    }

    /* Body chunks: kept up to the limit, the rest only counted. */
    if (*upload_data_size > 0) {
        if (!ctx->too_big &&
            tc_buf_append(&ctx->body, upload_data, *upload_data_size) !=
                TC_OK) {
            ctx->too_big = 1;
            tc_buf_clear(&ctx->body, 0);
        }
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (ctx->too_big) {
        return early_error(srv, con, method, ctx, 413,
                           "RequestEntityTooLargeException",
                           "request body exceeds the size limit");
    }

    memset(&hl, 0, sizeof(hl));
    MHD_get_connection_values(con, MHD_HEADER_KIND, collect_header, &hl);
    if (hl.overflow) {
        return early_error(srv, con, method, ctx, 400,
                           "InvalidRequestException", "too many headers");
    }
    memset(&req, 0, sizeof(req));
    req.method = method;
    req.target = ctx->target;
    req.headers = hl.h;
    req.n_headers = hl.n;
    req.body = ctx->body.data != NULL ? (const char *)ctx->body.data : "";
    req.body_len = ctx->body.len;
    tc_api_handle(srv->api, &req, &resp);
    ret = send_response(con, &resp);
    log_request(srv, method, ctx, &resp);
    tc_api_response_clear(&resp);
    return ret;
}

static int
is_loopback(const char *addr)
{
    struct in_addr a4;
    struct in6_addr a6;

    if (inet_pton(AF_INET, addr, &a4) == 1) {
        return (ntohl(a4.s_addr) >> 24) == 127;
    }
    if (inet_pton(AF_INET6, addr, &a6) == 1) {
        return IN6_IS_ADDR_LOOPBACK(&a6);
    }
    return 0;
}

int
tc_api_server_start(const struct tc_api_server_config *cfg,
                    struct tc_api_server **out, struct tc_detail *d)
{
    struct tc_api_server *srv = calloc(1, sizeof(*srv));
    struct sockaddr_storage ss;
    struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
    struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
    const char *addr;
    char path[TC_DATADIR_PATH_MAX + 32];
    unsigned int flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL;
    unsigned threads;
    const union MHD_DaemonInfo *info;
    long ncpu;
    int rc;

    *out = NULL;
    if (srv == NULL) {
        return TC_ERR_NOMEM;
    }
    srv->cfg = *cfg;
    tc_buf_init(&srv->key_pem, 1 << 16);
    tc_buf_init(&srv->cert_pem, 1 << 16);
    srv->max_body = cfg->options.max_body != 0 ? cfg->options.max_body
                                               : TC_API_BODY_MAX;
    addr = cfg->bind_address != NULL ? cfg->bind_address : "127.0.0.1";

    /* Plain HTTP carries the signed requests in the clear: only on the
     * machine itself. */
    if (cfg->plain_http && !is_loopback(addr)) {
        rc = tc_detail_set(d, TC_ERR_API_CONFIG, -1, "--http",
                           "plain HTTP is only allowed on a loopback "
                           "address, not %s", addr);
        goto fail;
    }
    memset(&ss, 0, sizeof(ss));
    if (inet_pton(AF_INET, addr, &s4->sin_addr) == 1) {
        s4->sin_family = AF_INET;
        s4->sin_port = htons((uint16_t)(cfg->port > 0 ? cfg->port
                                                      : cfg->dd->api_port));
    } else if (inet_pton(AF_INET6, addr, &s6->sin6_addr) == 1) {
        s6->sin6_family = AF_INET6;
        s6->sin6_port = htons((uint16_t)(cfg->port > 0 ? cfg->port
                                                       : cfg->dd->api_port));
        flags |= MHD_USE_IPv6;
    } else {
        rc = tc_detail_set(d, TC_ERR_API_CONFIG, -1, "--bind",
                           "'%s' is not an IPv4 or IPv6 address", addr);
        goto fail;
    }

    if (!cfg->plain_http) {
        tc_datadir_file(cfg->dd, TC_DATADIR_API_KEY, path, sizeof(path));
        rc = tc_file_read(path, &srv->key_pem, d);
        if (rc == TC_OK) {
            tc_datadir_file(cfg->dd, TC_DATADIR_API_CERT, path, sizeof(path));
            rc = tc_file_read(path, &srv->cert_pem, d);
        }
        if (rc != TC_OK) {
            goto fail;
        }
        flags |= MHD_USE_TLS;
    }

    rc = tc_api_new(cfg->dd, &cfg->options, &srv->api, d);
    if (rc != TC_OK) {
        goto fail;
    }
    ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    threads = cfg->threads > 0 ? cfg->threads
                               : (unsigned)(ncpu > 0 ? ncpu : 2);
    if (threads > 64) {
        threads = 64;
    }

    if (cfg->plain_http) {
        srv->daemon = MHD_start_daemon(
            flags, 0, NULL, NULL, access_handler, srv,
            MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
            MHD_OPTION_URI_LOG_CALLBACK, uri_log, srv,
            MHD_OPTION_NOTIFY_COMPLETED, completed, srv,
            MHD_OPTION_THREAD_POOL_SIZE, threads,
            MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)60,
            MHD_OPTION_CONNECTION_LIMIT, (unsigned int)1024,
            MHD_OPTION_END);
    } else {
        srv->daemon = MHD_start_daemon(
            flags, 0, NULL, NULL, access_handler, srv,
            MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
            MHD_OPTION_URI_LOG_CALLBACK, uri_log, srv,
            MHD_OPTION_NOTIFY_COMPLETED, completed, srv,
            MHD_OPTION_THREAD_POOL_SIZE, threads,
            MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)60,
            MHD_OPTION_CONNECTION_LIMIT, (unsigned int)1024,
            MHD_OPTION_HTTPS_MEM_KEY, (const char *)srv->key_pem.data,
            MHD_OPTION_HTTPS_MEM_CERT, (const char *)srv->cert_pem.data,
            MHD_OPTION_END);
    }
    if (srv->daemon == NULL) {
        rc = tc_detail_set(d, TC_ERR_API_SERVER, -1, "port",
                           "cannot listen on %s port %d (in use, or no "
                           "permission)", addr,
                           cfg->port > 0 ? cfg->port : cfg->dd->api_port);
        goto fail;
    }
    info = MHD_get_daemon_info(srv->daemon, MHD_DAEMON_INFO_BIND_PORT);
    srv->port = info != NULL ? info->port : cfg->port;
    *out = srv;
    return TC_OK;

fail:
    tc_api_server_stop(srv);
    return rc;
}

int
tc_api_server_port(const struct tc_api_server *srv)
{
    return srv->port;
}

void
tc_api_server_stop(struct tc_api_server *srv)
{
    if (srv == NULL) {
        return;
    }
    if (srv->daemon != NULL) {
        MHD_stop_daemon(srv->daemon);
    }
    tc_api_free(srv->api);
    tc_buf_clear(&srv->key_pem, 1);
    tc_buf_clear(&srv->cert_pem, 0);
    free(srv);
}
