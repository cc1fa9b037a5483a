// SPDX-License-Identifier: Apache-2.0
/*
 * The API client: a keep-alive TCP (+TLS) connection, SigV4-signed
 * HTTP/1.1 requests with JSON bodies, bounded response parsing, and AWS
 * error bodies turned into codes. A request is retried once on a fresh
 * connection only when the old connection failed before any response
 * byte arrived (the server closed an idle keep-alive connection).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "thingcore/apiclient.h"
#include "thingcore/json.h"
#include "thingcore/util.h"

#define HEAD_MAX (16 * 1024)
#define BODY_MAX (16 * 1024 * 1024)
#define REQ_MAX (1024 * 1024)

struct tc_apiclient {
    char host[256];
    char port[8];
    char host_header[300];
    int tls;
    char key_id[TC_SIGV4_KEY_ID_MAX];
    char secret[TC_SIGV4_SECRET_MAX];
    char region[64];
    char service[32];
    int timeout_ms;
    SSL_CTX *ctx;
    SSL *ssl;
    int fd;
};

/* Split scheme://host[:port] (an IPv6 host in brackets). */
static int
parse_url(struct tc_apiclient *c, const char *url, struct tc_detail *d)
{
    const char *p;
    const char *host;
    size_t hl;
    const char *port = NULL;

    if (strncmp(url, "https://", 8) == 0) {
        c->tls = 1;
        p = url + 8;
    } else if (strncmp(url, "http://", 7) == 0) {
        c->tls = 0;
        p = url + 7;
    } else {
        return tc_detail_set(d, TC_ERR_ARG, -1, "endpoint_url",
                             "'%s' is not an http:// or https:// URL", url);
    }
    if (*p == '[') {
        const char *end = strchr(p, ']');

        if (end == NULL) {
            return tc_detail_set(d, TC_ERR_ARG, -1, "endpoint_url",
                                 "unclosed '[' in '%s'", url);
        }
        host = p + 1;
        hl = (size_t)(end - host);
        p = end + 1;
    } else {
        host = p;
        hl = strcspn(p, ":/");
        p += hl;
    }
    if (*p == ':') {
        port = p + 1;
    }
    if (hl == 0 || hl >= sizeof(c->host) ||
        (port != NULL && (strcspn(port, "/") == 0 ||
                          strcspn(port, "/") >= sizeof(c->port)))) {
        return tc_detail_set(d, TC_ERR_ARG, -1, "endpoint_url",
                             "bad host or port in '%s'", url);
    }
    memcpy(c->host, host, hl);
    c->host[hl] = '\0';
    if (port != NULL) {
        snprintf(c->port, sizeof(c->port), "%.*s", (int)strcspn(port, "/"),
                 port);
    } else {
        snprintf(c->port, sizeof(c->port), "%s", c->tls ? "443" : "80");
    }

    /* Host as botocore sends it: the default port left out. */
    if ((c->tls && strcmp(c->port, "443") == 0) ||
        (!c->tls && strcmp(c->port, "80") == 0)) {
        snprintf(c->host_header, sizeof(c->host_header), "%s%s%s",
                 strchr(c->host, ':') ? "[" : "", c->host,
                 strchr(c->host, ':') ? "]" : "");
    } else {
        snprintf(c->host_header, sizeof(c->host_header), "%s%s%s:%s",
                 strchr(c->host, ':') ? "[" : "", c->host,
                 strchr(c->host, ':') ? "]" : "", c->port);
    }
    return TC_OK;
}

int
tc_apiclient_new(const struct tc_apiclient_config *cfg,
                 struct tc_apiclient **out, struct tc_detail *d)
{
    struct tc_apiclient *c = calloc(1, sizeof(*c));
    int rc;

    *out = NULL;
    if (c == NULL) {
        return TC_ERR_NOMEM;
    }
    c->fd = -1;
    rc = parse_url(c, cfg->endpoint_url, d);
    if (rc != TC_OK) {
        goto fail;
    }
    if (cfg->access_key_id == NULL || cfg->secret == NULL ||
        cfg->region == NULL ||
        strlen(cfg->access_key_id) >= sizeof(c->key_id) ||
        strlen(cfg->secret) >= sizeof(c->secret) ||
        strlen(cfg->region) >= sizeof(c->region)) {
        rc = tc_detail_set(d, TC_ERR_ARG, -1, "credentials",
                           "access key id, secret and region are required");
        goto fail;
    }
    snprintf(c->key_id, sizeof(c->key_id), "%s", cfg->access_key_id);
    snprintf(c->secret, sizeof(c->secret), "%s", cfg->secret);
    snprintf(c->region, sizeof(c->region), "%s", cfg->region);
    snprintf(c->service, sizeof(c->service), "%s",
             cfg->service != NULL ? cfg->service : "iot");
    c->timeout_ms = cfg->timeout_ms > 0 ? cfg->timeout_ms : 30000;

    if (c->tls) {
        c->ctx = SSL_CTX_new(TLS_client_method());
        if (c->ctx == NULL ||
            !SSL_CTX_set_min_proto_version(c->ctx, TLS1_2_VERSION)) {
            rc = tc_detail_set(d, TC_ERR_API_TLS, -1, NULL,
                               "cannot create a TLS context");
            goto fail;
        }
        SSL_CTX_set_verify(c->ctx, SSL_VERIFY_PEER, NULL);
        if ((cfg->ca_file != NULL &&
             SSL_CTX_load_verify_locations(c->ctx, cfg->ca_file, NULL) !=
                 1) ||
            (cfg->ca_file == NULL &&
             SSL_CTX_set_default_verify_paths(c->ctx) != 1)) {
            ERR_clear_error();
            rc = tc_detail_set(d, TC_ERR_API_TLS, -1, "ca_file",
                               "cannot load CA bundle %s",
                               cfg->ca_file ? cfg->ca_file : "(system)");
            goto fail;
        }
    }
    *out = c;
    return TC_OK;

fail:
    tc_apiclient_free(c);
    return rc;
}

int
tc_apiclient_for_datadir(const struct tc_datadir *dd, const char *url,
                         struct tc_apiclient **out, struct tc_detail *d)
{
    struct tc_apiclient_config cfg;
    struct tc_buf ub;
    char file[TC_DATADIR_PATH_MAX + 32];
    char ca[TC_DATADIR_PATH_MAX + 32];
    int rc;

    tc_buf_init(&ub, 512);
    if (url == NULL) {
        tc_datadir_file(dd, "api.url", file, sizeof(file));
        if (tc_file_read(file, &ub, NULL) != TC_OK || ub.len == 0) {
            ub.len = 0;
            tc_buf_printf(&ub, "https://127.0.0.1:%d", dd->api_port);
        }
        url = (const char *)ub.data;
    }
    tc_datadir_file(dd, TC_DATADIR_CA_CERT, ca, sizeof(ca));
    memset(&cfg, 0, sizeof(cfg));
    cfg.endpoint_url = url;
    cfg.access_key_id = dd->access_key_id;
    cfg.secret = dd->secret;
    cfg.region = dd->region;
    cfg.ca_file = ca;
    rc = tc_apiclient_new(&cfg, out, d);
    tc_buf_clear(&ub, 0);
    return rc;
}

static void
disconnect(struct tc_apiclient *c)
{
    if (c->ssl != NULL) {
        SSL_free(c->ssl);
        c->ssl = NULL;
    }
    if (c->fd >= 0) {
        close(c->fd);
        c->fd = -1;
    }
}

void
tc_apiclient_free(struct tc_apiclient *c)
{
    if (c == NULL) {
        return;
    }
    disconnect(c);
    SSL_CTX_free(c->ctx);
    OPENSSL_cleanse(c->secret, sizeof(c->secret));
    free(c);
}

/* Wait until fd is ready for reading or writing, within the timeout. */
static int
wait_fd(struct tc_apiclient *c, int for_write)
{
    struct pollfd p = {c->fd, (short)(for_write ? POLLOUT : POLLIN), 0};
    int n = poll(&p, 1, c->timeout_ms);

    return n > 0 ? TC_OK : n == 0 ? TC_ERR_TIMEOUT : TC_ERR_IO;
}

static int
connect_to(struct tc_apiclient *c, struct tc_detail *d)
{
    struct addrinfo hints;
    struct addrinfo *res = NULL;
    struct addrinfo *ai;
    struct in6_addr a6;
    int rc;

    memset(&hints, 0, sizeof(hints));
    hints.ai_socktype = SOCK_STREAM;
    if (getaddrinfo(c->host, c->port, &hints, &res) != 0) {
        return tc_detail_set(d, TC_ERR_API_CONNECT, -1, "host",
                             "cannot resolve %s", c->host);
    }
    for (ai = res; ai != NULL; ai = ai->ai_next) {
        c->fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC,
                       ai->ai_protocol);
        if (c->fd < 0) {
            continue;
        }
        if (connect(c->fd, ai->ai_addr, ai->ai_addrlen) == 0) {
            break;
        }
        close(c->fd);
        c->fd = -1;
    }
    freeaddrinfo(res);
    if (c->fd < 0) {
        return tc_detail_set(d, TC_ERR_API_CONNECT, -1, "host",
                             "cannot connect to %s port %s: %s", c->host,
                             c->port, strerror(errno));
    }
    {
        struct timeval tv = {c->timeout_ms / 1000,
                             (c->timeout_ms % 1000) * 1000};

        setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
        setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    }
    if (!c->tls) {
        return TC_OK;
    }

    /* TLS: SNI and host name verification for names, IP check for
     * literals. */
    c->ssl = SSL_new(c->ctx);
    if (c->ssl == NULL || SSL_set_fd(c->ssl, c->fd) != 1) {
        rc = TC_ERR_API_TLS;
        goto tls_fail;
    }
    if (inet_pton(AF_INET, c->host, &a6) == 1 ||
        inet_pton(AF_INET6, c->host, &a6) == 1) {
        X509_VERIFY_PARAM *vp = SSL_get0_param(c->ssl);

        X509_VERIFY_PARAM_set1_ip_asc(vp, c->host);
    } else {
        SSL_set_tlsext_host_name(c->ssl, c->host);
        SSL_set1_host(c->ssl, c->host);
    }
    if (SSL_connect(c->ssl) != 1) {
        long vr = SSL_get_verify_result(c->ssl);

        ERR_clear_error();
        disconnect(c);
        return tc_detail_set(d, TC_ERR_API_TLS, -1, "tls",
                             "TLS handshake with %s:%s failed%s%s", c->host,
                             c->port, vr != X509_V_OK ? ": " : "",
                             vr != X509_V_OK
                                 ? X509_verify_cert_error_string(vr)
                                 : "");
    }
    return TC_OK;

tls_fail:
    ERR_clear_error();
    disconnect(c);
    return tc_detail_set(d, rc, -1, "tls", "cannot set up TLS");
}

static int
send_all(struct tc_apiclient *c, const uint8_t *p, size_t n)
{
    while (n > 0) {
        long w;

        if (c->ssl != NULL) {
            size_t done = 0;

            if (SSL_write_ex(c->ssl, p, n, &done) != 1) {
                ERR_clear_error();
                return TC_ERR_CLOSED;
            }
            w = (long)done;
        } else {
            w = send(c->fd, p, n, MSG_NOSIGNAL);
            if (w <= 0) {
                return TC_ERR_CLOSED;
            }
        }
        p += w;
        n -= (size_t)w;
    }
    return TC_OK;
}

/* Read some bytes into b; 0 bytes means the peer closed. */
static int
recv_some(struct tc_apiclient *c, struct tc_buf *b, size_t *got)
{
    uint8_t tmp[16384];
    long r;
    int rc;

    *got = 0;
    if (c->ssl == NULL || SSL_pending(c->ssl) == 0) {
        rc = wait_fd(c, 0);
        if (rc != TC_OK) {
            return rc;
        }
    }
    if (c->ssl != NULL) {
        size_t done = 0;

        if (SSL_read_ex(c->ssl, tmp, sizeof(tmp), &done) != 1) {
            ERR_clear_error();
            return TC_OK;
        }
        r = (long)done;
    } else {
        r = recv(c->fd, tmp, sizeof(tmp), 0);
        if (r < 0) {
            return errno == EAGAIN ? TC_ERR_TIMEOUT : TC_ERR_IO;
        }
    }
    *got = (size_t)r;
    return r > 0 ? tc_buf_append(b, tmp, (size_t)r) : TC_OK;
}

/*
 * Read one response:
 *   HTTP/1.1 SP status SP reason CRLF *(name ":" value CRLF) CRLF body
 * with the body length from Content-Length. Header names of interest:
 * Content-Length, Connection, x-amzn-ErrorType.
 */
static int
read_response(struct tc_apiclient *c, int *status, struct tc_buf *body,
              char *etype, size_t etype_cap, int *keep, int *nothing,
              struct tc_detail *d)
{
    struct tc_buf in;
    size_t head_len = 0;
    long long clen = -1;
    char *line;
    char *save = NULL;
    int rc;

    tc_buf_init(&in, HEAD_MAX + BODY_MAX);
    *nothing = 1;
    *keep = 1;
    etype[0] = '\0';

    /* Headers. */
    for (;;) {
        size_t got;
        char *end;

        rc = recv_some(c, &in, &got);
        if (rc != TC_OK) {
            goto done;
        }
        if (got == 0) {
            rc = tc_detail_set(d, TC_ERR_CLOSED, -1, "response",
                               "server closed the connection");
            goto done;
        }
        *nothing = 0;
        end = memmem(in.data, in.len, "\r\n\r\n", 4);
        if (end != NULL) {
            head_len = (size_t)(end - (char *)in.data) + 4;
            break;
        }
        if (in.len > HEAD_MAX) {
            rc = tc_detail_set(d, TC_ERR_API_HTTP, -1, "response",
                               "response headers over %d bytes", HEAD_MAX);
            goto done;
        }
    }
    in.data[head_len - 2] = '\0';
    line = strtok_r((char *)in.data, "\r\n", &save);
    if (line == NULL || sscanf(line, "HTTP/1.%*d %d", status) != 1 ||
        *status < 100 || *status > 599) {
        rc = tc_detail_set(d, TC_ERR_API_HTTP, 0, "response",
                           "not an HTTP/1.x status line");
        goto done;
    }
    if (strncmp(line, "HTTP/1.0", 8) == 0) {
        *keep = 0;
    }
    while ((line = strtok_r(NULL, "\r\n", &save)) != NULL) {
        char *colon = strchr(line, ':');
        char *v;

        if (colon == NULL) {
            continue;
        }
        *colon = '\0';
        v = colon + 1;
        while (*v == ' ' || *v == '\t') {
            v++;
        }
        if (strcasecmp(line, "content-length") == 0) {
            char *e = NULL;

            clen = strtoll(v, &e, 10);
            if (*e != '\0' || clen < 0 || clen > BODY_MAX) {
                rc = tc_detail_set(d, TC_ERR_API_HTTP, -1, "Content-Length",
                                   "bad or too large Content-Length");
                goto done;
            }
        } else if (strcasecmp(line, "connection") == 0 &&
                   strcasecmp(v, "close") == 0) {
            *keep = 0;
        } else if (strcasecmp(line, "transfer-encoding") == 0) {
            rc = tc_detail_set(d, TC_ERR_API_HTTP, -1, "Transfer-Encoding",
                               "chunked responses are not supported");
            goto done;
        } else if (strcasecmp(line, "x-amzn-errortype") == 0) {
            snprintf(etype, etype_cap, "%.*s", (int)strcspn(v, ":"), v);
        }
    }
    if (clen < 0) {
        rc = tc_detail_set(d, TC_ERR_API_HTTP, -1, "Content-Length",
                           "response without Content-Length");
        goto done;
    }

    /* Body. */
    while ((long long)(in.len - head_len) < clen) {
        size_t got;

        rc = recv_some(c, &in, &got);
        if (rc != TC_OK) {
            goto done;
        }
        if (got == 0) {
            rc = tc_detail_set(d, TC_ERR_API_HTTP, -1, "response",
                               "connection closed inside the body");
            goto done;
        }
    }
    rc = tc_buf_append(body, in.data + head_len, (size_t)clen);

done:
    tc_buf_clear(&in, 0);
    return rc;
}

int
tc_apiclient_escape(const char *s, char *out, size_t cap)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t o = 0;

    for (; *s != '\0'; s++) {
        unsigned char ch = (unsigned char)*s;
        int plain = (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
                    (ch >= '0' && ch <= '9') || ch == '-' || ch == '_' ||
                    ch == '.' || ch == '~';

        if (o + (plain ? 1 : 3) >= cap) {
            return TC_ERR_TOO_BIG;
        }
        if (plain) {
            out[o++] = (char)ch;
        } else {
            out[o++] = '%';
            out[o++] = hex[ch >> 4];
            out[o++] = hex[ch & 15];
        }
    }
    if (o >= cap) {
        return TC_ERR_TOO_BIG;
    }
    out[o] = '\0';
    return TC_OK;
}

/* Fill err and d from an AWS error answer; return its code. */
static int
remote_error(int status, const char *etype, const struct tc_buf *body,
             struct tc_apiclient_error *err, struct tc_detail *d)
{
    struct tc_apiclient_error local;
    json_t *j = NULL;
    int jerr;
    int code;

    if (err == NULL) {
        err = &local;
    }
    memset(err, 0, sizeof(*err));
    err->status = status;
    if (body->len > 0) {
        j = tc_json_parse((const char *)body->data, body->len, BODY_MAX, 8,
                          &jerr, NULL);
    }
    snprintf(err->type, sizeof(err->type), "%s", etype);
    if (err->type[0] == '\0' && j != NULL) {
        const char *t = tc_json_str(j, "__type");

        t = t != NULL ? t : tc_json_str(j, "code");
        snprintf(err->type, sizeof(err->type), "%s",
                 t != NULL ? t + strcspn(t, "#") + (strchr(t, '#') ? 1 : 0)
                           : "");
    }
    if (j != NULL) {
        const char *m = tc_json_str(j, "message");

        m = m != NULL ? m : tc_json_str(j, "Message");
        snprintf(err->message, sizeof(err->message), "%s", m ? m : "");
        m = tc_json_str(j, "resourceId");
        snprintf(err->resource_id, sizeof(err->resource_id), "%s",
                 m ? m : "");
        m = tc_json_str(j, "resourceArn");
        snprintf(err->resource_arn, sizeof(err->resource_arn), "%s",
                 m ? m : "");
    }
    json_decref(j);
    code = err->type[0] != '\0' ? tc_api_error_code(err->type)
                                : TC_ERR_API_REMOTE;
    return tc_detail_set(d, code, -1, err->type, "HTTP %d %s: %s", status,
                         err->type[0] ? err->type : "error", err->message);
}

/* Build, sign and write one request. */
static int
send_request(struct tc_apiclient *c, const char *method, const char *path,
             const char *query, const struct tc_sigv4_header *headers,
             size_t n, const char *payload, size_t plen,
             struct tc_detail *d)
{
    struct tc_sigv4_header hs[24];
    struct tc_sigv4_request sr;
    struct tc_sigv4_signature sig;
    struct tc_buf req;
    char hash[65];
    size_t i;
    int rc;

    if (n > 20) {
        return tc_detail_set(d, TC_ERR_TOO_BIG, -1, "headers",
                             "more than 20 extra headers");
    }
    hs[0].name = "host";
    hs[0].value = c->host_header;
    hs[1].name = "content-type";
    hs[1].value = "application/json";
    if (n > 0) {
        memcpy(&hs[2], headers, n * sizeof(hs[0]));
    }
    tc_sigv4_sha256_hex(payload, plen, hash);
    sr.method = method;
    sr.path = path;
    sr.query = query;
    sr.headers = hs;
    sr.n_headers = n + 2;
    sr.payload_hash = hash;
    rc = tc_sigv4_sign(&sr, c->key_id, c->secret, c->region, c->service,
                       (time_t)tc_now(), &sig, d);
    if (rc != TC_OK) {
        return rc;
    }

    tc_buf_init(&req, REQ_MAX);
    rc = tc_buf_printf(&req,
                       "%s %s%s%s HTTP/1.1\r\nHost: %s\r\n"
                       "Content-Type: application/json\r\n"
                       "Content-Length: %zu\r\nX-Amz-Date: %s\r\n"
                       "Authorization: %s\r\n",
                       method, path, query ? "?" : "", query ? query : "",
                       c->host_header, plen, sig.amz_date,
                       sig.authorization);
    for (i = 0; rc == TC_OK && i < n; i++) {
        rc = tc_buf_printf(&req, "%s: %s\r\n", headers[i].name,
                           headers[i].value);
    }
    if (rc == TC_OK) {
        rc = tc_buf_append_str(&req, "\r\n");
    }
    if (rc == TC_OK) {
        rc = tc_buf_append(&req, payload, plen);
    }
    if (rc != TC_OK) {
        tc_buf_clear(&req, 0);
        return tc_detail_set(d, TC_ERR_TOO_BIG, -1, "request",
                             "request over %d bytes", REQ_MAX);
    }
    rc = send_all(c, req.data, req.len);
    tc_buf_clear(&req, 0);
    return rc;
}

int
tc_apiclient_call(struct tc_apiclient *c, const char *method,
                  const char *path, const char *query,
                  const struct tc_sigv4_header *headers, size_t n,
                  const json_t *body, json_t **out,
                  struct tc_apiclient_error *err, struct tc_detail *d)
{
    struct tc_buf resp;
    char *payload = NULL;
    char etype[64];
    int status = 0;
    int keep = 1;
    int nothing = 1;
    int attempt;
    int rc = TC_ERR_INTERNAL;

    if (out != NULL) {
        *out = NULL;
    }
    if (err != NULL) {
        memset(err, 0, sizeof(*err));
    }
    tc_buf_init(&resp, BODY_MAX);
    if (body != NULL) {
        payload = json_dumps(body, JSON_COMPACT);
        if (payload == NULL) {
            return TC_ERR_NOMEM;
        }
    }

    /* A reused connection may have been closed by the server while idle:
     * then, and only when no response byte came, try once more. */
    for (attempt = 0; attempt < 2; attempt++) {
        int reused = c->fd >= 0;

        if (!reused) {
            rc = connect_to(c, d);
            if (rc != TC_OK) {
                goto done;
            }
        }
        rc = send_request(c, method, path, query, headers, n,
                          payload != NULL ? payload : "",
                          payload != NULL ? strlen(payload) : 0, d);
        if (rc == TC_OK) {
            resp.len = 0;
            rc = read_response(c, &status, &resp, etype, sizeof(etype),
                               &keep, &nothing, d);
        }
        if (rc == TC_OK) {
            break;
        }
        disconnect(c);
        if (!(reused && nothing &&
              (rc == TC_ERR_CLOSED || rc == TC_ERR_IO))) {
            if (rc == TC_ERR_CLOSED || rc == TC_ERR_IO) {
                rc = tc_detail_set(d, TC_ERR_API_CONNECT, -1, "connection",
                                   "connection to %s:%s lost", c->host,
                                   c->port);
            }
            goto done;
        }
    }
    if (rc != TC_OK) {
        goto done;
    }
    if (!keep) {
        disconnect(c);
    }

    if (status < 200 || status > 299) {
        rc = remote_error(status, etype, &resp, err, d);
        goto done;
    }
    if (out != NULL) {
        int jerr = TC_OK;

        *out = resp.len > 0
                   ? tc_json_parse((const char *)resp.data, resp.len,
                                   BODY_MAX, 64, &jerr, d)
                   : json_object();
        if (*out == NULL) {
            rc = jerr;
            goto done;
        }
    }
    rc = TC_OK;

done:
    free(payload);
    tc_buf_clear(&resp, 0);
    return rc;
}
