// SPDX-License-Identifier: Apache-2.0
/*
 * One request from bytes to answer: size limit, SigV4 verification,
 * routing, query and body parsing, the handler, and the AWS-shaped error
 * response. Authentication comes before anything reads the registry, so
 * an unsigned or tampered request changes nothing and learns nothing.
 * It does not speak HTTP on a socket (server.c does).
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_int.h"
#include "thingcore/json.h"

#define POOL_MAX 64
#define TARGET_MAX 8192
#define RESPONSE_MAX (16 * 1024 * 1024)
#define BODY_DEPTH_MAX 16

struct tc_api {
    const struct tc_datadir *dd;
    struct tc_api_options o;
    char db_path[TC_DATADIR_PATH_MAX + 32];
    pthread_mutex_t lock;
    struct tc_registry *pool[POOL_MAX];
    size_t n_pool;
};

const struct tc_datadir *
api_datadir(const struct tc_api *api)
{
    return api->dd;
}

/* A registry handle for this request: one from the pool, or a new one.
 * Handles are single-threaded, so each request holds its own. */
static int
acquire(struct tc_api *api, struct tc_registry **out, struct tc_detail *d)
{
    pthread_mutex_lock(&api->lock);
    if (api->n_pool > 0) {
        *out = api->pool[--api->n_pool];
        pthread_mutex_unlock(&api->lock);
        return TC_OK;
    }
    pthread_mutex_unlock(&api->lock);
    return tc_registry_open(api->db_path, out, d);
}

static void
release(struct tc_api *api, struct tc_registry *reg)
{
    pthread_mutex_lock(&api->lock);
    if (api->n_pool < POOL_MAX) {
        api->pool[api->n_pool++] = reg;
        reg = NULL;
    }
    pthread_mutex_unlock(&api->lock);
    tc_registry_close(reg);
}

int
tc_api_new(const struct tc_datadir *dd, const struct tc_api_options *o,
           struct tc_api **out, struct tc_detail *d)
{
    struct tc_api *api = calloc(1, sizeof(*api));
    struct tc_registry *reg = NULL;
    int rc;

    *out = NULL;
    if (api == NULL) {
        return TC_ERR_NOMEM;
    }
    api->dd = dd;
    if (o != NULL) {
        api->o = *o;
    }
    if (api->o.max_skew <= 0) {
        api->o.max_skew = TC_SIGV4_DEFAULT_SKEW;
    }
    if (api->o.max_body == 0) {
        api->o.max_body = TC_API_BODY_MAX;
    }
    pthread_mutex_init(&api->lock, NULL);
    rc = tc_datadir_file(dd, TC_DATADIR_REGISTRY, api->db_path,
                         sizeof(api->db_path));
    if (rc != TC_OK) {
        goto fail;
    }

    /* The registry builds ARNs from its identity: make it the one the
     * data directory's configuration names. */
    rc = tc_registry_open(api->db_path, &reg, d);
    if (rc != TC_OK) {
        goto fail;
    }
    rc = tc_registry_set_identity(reg, dd->region, dd->account, d);
    if (rc != TC_OK) {
        tc_registry_close(reg);
        goto fail;
    }
    release(api, reg);
    *out = api;
    return TC_OK;

fail:
    tc_api_free(api);
    return rc;
}

void
tc_api_free(struct tc_api *api)
{
    size_t i;

    if (api == NULL) {
        return;
    }
    for (i = 0; i < api->n_pool; i++) {
        tc_registry_close(api->pool[i]);
    }
    pthread_mutex_destroy(&api->lock);
    free(api);
}

void
tc_api_response_clear(struct tc_api_response *resp)
{
    if (resp != NULL) {
        tc_buf_clear(&resp->body, 0);
    }
}

/* ------------------------------------------------------------------ */
/* Request accessors */

const char *
api_query(const struct api_call *c, const char *key)
{
    size_t i;

    for (i = 0; i < c->n_query; i++) {
        if (strcmp(c->query[i].key, key) == 0) {
            return c->query[i].value;
        }
    }
    return NULL;
}

const char *
api_header(const struct api_call *c, const char *name)
{
    size_t i;

    for (i = 0; i < c->req->n_headers; i++) {
        if (strcasecmp(c->req->headers[i].name, name) == 0) {
            return c->req->headers[i].value;
        }
    }
    return NULL;
}

int
api_query_bool(struct api_call *c, const char *key, int *out)
{
    const char *v = api_query(c, key);

    if (v == NULL) {
        return TC_OK;
    }
    if (strcmp(v, "true") == 0) {
        *out = 1;
    } else if (strcmp(v, "false") == 0) {
        *out = 0;
    } else {
        return tc_detail_set(&c->d, TC_ERR_API_BAD_REQUEST, -1, key,
                             "%s must be true or false", key);
    }
    return TC_OK;
}

int
api_query_int(struct api_call *c, const char *key, long long lo,
              long long hi, int *present, long long *out)
{
    const char *v = api_query(c, key);
    char *end = NULL;
    long long n;

    *present = 0;
    if (v == NULL) {
        return TC_OK;
    }
    n = strtoll(v, &end, 10);
    if (v[0] == '\0' || *end != '\0' || n < lo || n > hi) {
        return tc_detail_set(&c->d, TC_ERR_API_BAD_REQUEST, -1, key,
                             "%s must be an integer from %lld to %lld", key,
                             lo, hi);
    }
    *present = 1;
    *out = n;
    return TC_OK;
}

int
api_body_str(struct api_call *c, const char *key, int required,
             const char **out)
{
    json_t *v = json_object_get(c->body, key);

    *out = NULL;
    if (v == NULL || json_is_null(v)) {
        if (required) {
            return tc_detail_set(&c->d, TC_ERR_API_BAD_REQUEST, -1, key,
                                 "%s is required", key);
        }
        return TC_OK;
    }
    if (!json_is_string(v)) {
        return tc_detail_set(&c->d, TC_ERR_API_BAD_REQUEST, -1, key,
                             "%s must be a string", key);
    }
    /* Embedded NULs would make C strings lie about their content. */
    if (strlen(json_string_value(v)) != json_string_length(v)) {
        return tc_detail_set(&c->d, TC_ERR_API_BAD_REQUEST, -1, key,
                             "%s contains a NUL character", key);
    }
    *out = json_string_value(v);
    return TC_OK;
}

int
api_body_bool(struct api_call *c, const char *key, int *out)
{
    json_t *v = json_object_get(c->body, key);

    if (v == NULL || json_is_null(v)) {
        return TC_OK;
    }
    if (!json_is_boolean(v)) {
        return tc_detail_set(&c->d, TC_ERR_API_BAD_REQUEST, -1, key,
                             "%s must be a boolean", key);
    }
    *out = json_is_true(v);
    return TC_OK;
}

int
api_page(struct api_call *c, const char *limit_key, const char *token_key,
         int has_order, struct tc_reg_page *page)
{
    long long n = 0;
    int present = 0;
    int ascending = 1;
    int rc;

    memset(page, 0, sizeof(*page));
    rc = api_query_int(c, limit_key, 1, TC_REG_PAGE_MAX, &present, &n);
    if (rc != TC_OK) {
        return rc;
    }
    page->limit = present ? (int)n : 0;
    page->token = api_query(c, token_key);
    if (page->token != NULL && strlen(page->token) >= TC_REG_TOKEN_MAX) {
        return tc_detail_set(&c->d, TC_ERR_API_BAD_REQUEST, -1, token_key,
                             "%s is not a token this server issued",
                             token_key);
    }
    if (has_order) {
        rc = api_query_bool(c, "isAscendingOrder", &ascending);
        page->descending = !ascending;
    }
    return rc;
}

void
api_set_str(json_t *o, const char *key, const char *v)
{
    if (v != NULL && v[0] != '\0') {
        json_object_set_new(o, key, json_string(v));
    }
}

/* {"<key>": [strings], "<next_key>": token} from a string list. */
void
api_str_list_out(struct api_call *c, const char *key, const char *next_key,
             const struct tc_reg_str_list *l)
{
    json_t *arr = json_array();
    size_t i;

    for (i = 0; i < l->n; i++) {
        json_array_append_new(arr, json_string(l->items[i]));
    }
    c->out = json_pack("{s:o}", key, arr);
    api_set_str(c->out, next_key, l->next);
}

/* ------------------------------------------------------------------ */
/* Query parsing */

static int
hexval(char ch)
{
    if (ch >= '0' && ch <= '9') {
        return ch - '0';
    }
    if (ch >= 'a' && ch <= 'f') {
        return ch - 'a' + 10;
    }
    if (ch >= 'A' && ch <= 'F') {
        return ch - 'A' + 10;
    }
    return -1;
}

/* Decode n bytes of a query component; NULL for a bad escape or NUL. */
static char *
decode(const char *s, size_t n)
{
    char *out = malloc(n + 1);
    size_t i;
    size_t o = 0;

    if (out == NULL) {
        return NULL;
    }
    for (i = 0; i < n; i++) {
        if (s[i] != '%') {
            out[o++] = s[i];
            continue;
        }
        if (i + 2 >= n || hexval(s[i + 1]) < 0 || hexval(s[i + 2]) < 0 ||
            (s[i + 1] == '0' && s[i + 2] == '0')) {
            free(out);
            return NULL;
        }
        out[o++] = (char)(hexval(s[i + 1]) * 16 + hexval(s[i + 2]));
        i += 2;
    }
    out[o] = '\0';
    return out;
}

/* key=value pairs split on '&'; a repeated key keeps its first value. */
static int
parse_query(struct api_call *c, const char *q)
{
    const char *p = q;

    while (p != NULL && *p != '\0') {
        size_t len = strcspn(p, "&");
        const char *eq = memchr(p, '=', len);
        size_t kl = eq != NULL ? (size_t)(eq - p) : len;

        if (len > 0) {
            char *k;
            char *v;

            if (c->n_query == API_QUERY_MAX) {
                return tc_detail_set(&c->d, TC_ERR_API_BAD_REQUEST, -1,
                                     "query", "more than %d query "
                                     "parameters", API_QUERY_MAX);
            }
            k = decode(p, kl);
            v = eq != NULL ? decode(eq + 1, len - kl - 1) : decode("", 0);
            if (k == NULL || v == NULL) {
                free(k);
                free(v);
                return tc_detail_set(&c->d, TC_ERR_API_BAD_REQUEST,
                                     (long)(p - q), "query",
                                     "bad percent-escape in the query");
            }
            c->query[c->n_query].key = k;
            c->query[c->n_query].value = v;
            c->n_query++;
        }
        p += len;
        if (*p == '&') {
            p++;
        }
    }
    return TC_OK;
}

/* ------------------------------------------------------------------ */
/* Responses */

static void
respond_json(struct tc_api_response *resp, int status, json_t *obj)
{
    char *text = obj != NULL ? json_dumps(obj, JSON_COMPACT) : NULL;

    resp->status = status;
    resp->body.len = 0;
    if (tc_buf_append_str(&resp->body, text != NULL ? text : "{}") !=
        TC_OK) {
        /* Too large to send: say so instead of truncating. */
        resp->status = 500;
        snprintf(resp->error_type, sizeof(resp->error_type),
                 "InternalFailureException");
        resp->body.len = 0;
        tc_buf_append_str(&resp->body,
                          "{\"message\":\"response too large\"}");
    }
    free(text);
}

static void
respond_error(struct tc_api_response *resp, int err, const char *message,
              const char *resource_id, const char *resource_arn)
{
    const char *type;
    int status;
    json_t *o;

    api_error_for(err, &type, &status);
    snprintf(resp->error_type, sizeof(resp->error_type), "%s", type);
    o = json_object();
    json_object_set_new(o, "message", json_string(message));
    api_set_str(o, "resourceId", resource_id);
    api_set_str(o, "resourceArn", resource_arn);
    respond_json(resp, status, o);
    json_decref(o);
}

/* The message for an error: the detail's text, else the code's text. */
static const char *
message_of(int err, const struct tc_detail *d)
{
    return d->text[0] != '\0' ? d->text : tc_strerror(err);
}

int
tc_api_handle(struct tc_api *api, const struct tc_api_request *req,
              struct tc_api_response *resp)
{
    struct api_call c;
    struct tc_sigv4_request sreq;
    struct tc_sigv4_identity who;
    const struct api_route *route;
    char payload_hash[65];
    char path[TARGET_MAX];
    const char *query = NULL;
    const char *qmark;
    size_t plen;
    int path_known = 0;
    int rc = TC_ERR_INTERNAL;
    size_t i;

    memset(&c, 0, sizeof(c));
    memset(resp, 0, sizeof(*resp));
    tc_buf_init(&resp->body, RESPONSE_MAX);
    tc_detail_clear(&c.d);
    c.api = api;
    c.req = req;
    c.status = 200;

    /* Bounds first: nothing larger than the limits is even hashed. */
    if (req->body_len > api->o.max_body) {
        rc = tc_detail_set(&c.d, TC_ERR_API_BODY_TOO_BIG, -1, "body",
                           "request body of %zu bytes exceeds the %zu-byte "
                           "limit", req->body_len, api->o.max_body);
        goto fail;
    }
    plen = strlen(req->target);
    qmark = strchr(req->target, '?');
    if (qmark != NULL) {
        plen = (size_t)(qmark - req->target);
        query = qmark + 1;
    }
    if (plen == 0 || plen >= sizeof(path) || req->target[0] != '/') {
        rc = tc_detail_set(&c.d, TC_ERR_API_HTTP, -1, "path",
                           "request target must be an absolute path under "
                           "%d bytes", TARGET_MAX);
        goto fail;
    }
    memcpy(path, req->target, plen);
    path[plen] = '\0';

    /* Authentication over the exact bytes received. */
    tc_sigv4_sha256_hex(req->body != NULL ? req->body : "", req->body_len,
                        payload_hash);
    sreq.method = req->method;
    sreq.path = path;
    sreq.query = query;
    sreq.headers = req->headers;
    sreq.n_headers = req->n_headers;
    sreq.payload_hash = payload_hash;
    rc = tc_sigv4_verify(&sreq, api->dd->region, tc_datadir_secret_lookup,
                         (void *)api->dd,
                         (time_t)(req->now > 0 ? req->now : tc_now()),
                         api->o.max_skew, &who, &c.d);
    if (rc != TC_OK) {
        goto fail;
    }
    snprintf(resp->access_key_id, sizeof(resp->access_key_id), "%s",
             who.access_key_id);

    /* Routing, then the query and the body. */
    route = api_route_find(req->method, path, &c, &path_known);
    if (route == NULL) {
        rc = tc_detail_set(&c.d, TC_ERR_API_NO_ROUTE, -1, "path",
                           path_known ? "method %s is not allowed on %s"
                                      : "no operation at %.0s%s",
                           req->method, path);
        goto fail;
    }
    snprintf(resp->operation, sizeof(resp->operation), "%s",
             route->operation);
    rc = parse_query(&c, query);
    if (rc != TC_OK) {
        goto fail;
    }
    if (req->body_len > 0) {
        int err = TC_OK;

        c.body = tc_json_parse(req->body, req->body_len, api->o.max_body,
                               BODY_DEPTH_MAX, &err, &c.d);
        if (c.body == NULL) {
            char where[sizeof(c.d.text)];

            snprintf(where, sizeof(where), "%s", c.d.text);
            rc = tc_detail_set(&c.d, err, c.d.offset, "body",
                               "request body is not valid JSON: %s", where);
            goto fail;
        }
        if (!json_is_object(c.body)) {
            rc = tc_detail_set(&c.d, TC_ERR_API_BAD_REQUEST, 0, "body",
                               "request body must be a JSON object");
            goto fail;
        }
    } else {
        c.body = json_object();
    }

    /* The operation, on a registry handle of our own. */
    rc = acquire(api, &c.reg, &c.d);
    if (rc != TC_OK) {
        goto fail;
    }
    tc_registry_set_actor(c.reg, who.access_key_id);
    rc = route->handler(&c);
    if (rc != TC_OK) {
        respond_error(resp, rc, message_of(rc, &c.d),
                      rc == TC_ERR_REG_ALREADY_EXISTS
                          ? tc_registry_conflict_id(c.reg)
                          : NULL,
                      rc == TC_ERR_REG_ALREADY_EXISTS
                          ? tc_registry_conflict_arn(c.reg)
                          : NULL);
        goto done;
    }
    respond_json(resp, c.status, c.out);
    rc = TC_OK;
    goto done;

fail:
    respond_error(resp, rc, message_of(rc, &c.d), NULL, NULL);

done:
    if (c.reg != NULL) {
        release(api, c.reg);
    }
    for (i = 0; i < c.n_params; i++) {
        free(c.params[i]);
    }
    for (i = 0; i < c.n_query; i++) {
        free(c.query[i].key);
        free(c.query[i].value);
    }
    json_decref(c.body);
    json_decref(c.out);
    return rc;
}
