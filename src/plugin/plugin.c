// SPDX-License-Identifier: Apache-2.0
/*
 * thingcore's plugin for Eclipse Mosquitto 2.0 (plugin API version 5):
 * every connection is authenticated by its TLS client certificate against
 * the registry, and every publish, subscribe and delivery is authorized by
 * the AWS IoT policies attached to that certificate, compiled once per
 * connection. Denied publishes and subscribes disconnect the client, as
 * AWS IoT does. The broker runs one thread, so the plugin keeps no locks;
 * it touches the database only at connect and when the event log says
 * something changed.
 */
#include <malloc.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plugin_int.h"
#include "thingcore/util.h"

struct pl_state pl;

static const int mosq_level[] = {MOSQ_LOG_ERR, MOSQ_LOG_WARNING,
                                 MOSQ_LOG_NOTICE, MOSQ_LOG_INFO,
                                 MOSQ_LOG_DEBUG};

void
pl_log_write(int level, const char *fmt, ...)
{
    char line[1024];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    mosquitto_log_printf(mosq_level[level < 0   ? 0
                                    : level > 4 ? 4
                                                : level],
                         "%s", line);
}

void
pl_decide_write(int level, const char *cid, const char *cert,
                const char *action, const char *topic, int allow,
                const char *fmt, ...)
{
    char line[1024];
    va_list ap;
    int n;

    /* One buffer, the reason formatted straight after the fields. */
    n = snprintf(line, sizeof(line),
                 "thingcore: client=%.128s cert=%s action=%s topic=%.256s "
                 "decision=%s reason=",
                 cid != NULL ? cid : "-",
                 cert != NULL && cert[0] != '\0' ? cert : "-", action,
                 topic != NULL ? topic : "-", allow ? "allow" : "deny");
    if (n > 0 && (size_t)n < sizeof(line)) {
        va_start(ap, fmt);
        vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
        va_end(ap);
    }
    mosquitto_log_printf(mosq_level[level < 0   ? 0
                                    : level > 4 ? 4
                                                : level],
                         "%s", line);
}

/* ------------------------------------------------------------------ */
/* Connection table: chained hash on the client pointer */

uint32_t
pl_hash_str(const char *s)
{
    uint32_t h = 2166136261u;

    while (s != NULL && *s != '\0') {
        h = (h ^ (uint8_t)*s++) * 16777619u;
    }
    return h;
}

static size_t
bucket_of(const struct mosquitto *client, size_t n)
{
    uintptr_t p = (uintptr_t)client;

    p ^= p >> 17;
    p *= (uintptr_t)0x9E3779B97F4A7C15ull;
    return (size_t)(p >> 7) & (n - 1);
}

struct pl_conn *
pl_conn_find(const struct mosquitto *client)
{
    struct pl_conn *c;

    if (pl.buckets == NULL) {
        return NULL;
    }
    for (c = pl.buckets[bucket_of(client, pl.nbuckets)]; c != NULL;
         c = c->next) {
        if (c->client == client) {
            return c;
        }
    }
    return NULL;
}

/* Take c out of the chain that starts at *pp (by_id: the ID chain). */
static int
unchain(struct pl_conn **pp, struct pl_conn *c, int by_id)
{
    for (; *pp != NULL; pp = by_id ? &(*pp)->id_next : &(*pp)->next) {
        if (*pp == c) {
            *pp = by_id ? c->id_next : c->next;
            return 1;
        }
    }
    return 0;
}

/* Double both tables when they hold more records than buckets. */
static int
grow(void)
{
    size_t n = pl.nbuckets == 0 ? 1024 : pl.nbuckets * 2;
    struct pl_conn **b = calloc(n, sizeof(*b));
    struct pl_conn **ib = calloc(n, sizeof(*ib));
    struct pl_conn *c;
    struct pl_conn *next;
    size_t i;

    if (b == NULL || ib == NULL) {
        free(b);
        free(ib);
        return -1;
    }
    for (i = 0; i < pl.nbuckets; i++) {
        for (c = pl.buckets[i]; c != NULL; c = next) {
            size_t k = bucket_of(c->client, n);

            next = c->next;
            c->next = b[k];
            b[k] = c;
            k = c->id_hash & (n - 1);
            c->id_next = ib[k];
            ib[k] = c;
        }
    }
    free(pl.buckets);
    free(pl.id_buckets);
    pl.buckets = b;
    pl.id_buckets = ib;
    pl.nbuckets = n;
    return 0;
}

int
pl_conn_add(struct pl_conn *c)
{
    size_t k;

    if (pl.nconns >= pl.nbuckets && grow() != 0) {
        return -1;
    }
    k = bucket_of(c->client, pl.nbuckets);
    c->next = pl.buckets[k];
    pl.buckets[k] = c;
    k = c->id_hash & (pl.nbuckets - 1);
    c->id_next = pl.id_buckets[k];
    pl.id_buckets[k] = c;
    pl.nconns++;
    return 0;
}

void
pl_conn_remove(struct pl_conn *c)
{
    if (pl.buckets == NULL) {
        return;
    }
    if (unchain(&pl.buckets[bucket_of(c->client, pl.nbuckets)], c, 0)) {
        unchain(&pl.id_buckets[c->id_hash & (pl.nbuckets - 1)], c, 1);
        pl.nconns--;
    }
}

void
pl_conn_free(struct pl_conn *c)
{
    if (c != NULL) {
        pl.conn_bytes -= malloc_usable_size(c);
        pl_set_release(c->ps);
        free(c);
    }
}

/* ------------------------------------------------------------------ */
/* Callbacks */

/*
 * BASIC_AUTH fires for every new connection and, on SIGHUP, again for
 * every connected client: a client we already know keeps its record.
 */
static int
on_basic_auth(int event, void *event_data, void *userdata)
{
    struct mosquitto_evt_basic_auth *ed = event_data;
    struct pl_conn *c = pl_conn_find(ed->client);
    struct pl_conn *old;
    const char *cid;
    int rc;

    if (c != NULL) {
        return MOSQ_ERR_SUCCESS;
    }
    rc = pl_authenticate(ed->client, &c);
    if (rc != MOSQ_ERR_SUCCESS) {
        return rc;
    }

    /* A second connection with the same client ID takes over: mark the
     * first so its disconnection event says why. */
    cid = mosquitto_client_id(ed->client);
    old = pl.id_buckets != NULL ? pl.id_buckets[c->id_hash & (pl.nbuckets - 1)]
                                : NULL;
    for (; old != NULL; old = old->id_next) {
        if (old->id_hash == c->id_hash &&
            strcmp(mosquitto_client_id(old->client), cid) == 0) {
            old->end = PL_END_DUPLICATE;
            PL_DECIDE(PL_NOTICE, cid, old->cert_id, "connect", NULL, 0,
                      "DUPLICATE_CLIENTID: taken over by a new "
                      "connection with certificate %s",
                      c->cert_id);
        }
    }
    if (pl_conn_add(c) != 0) {
        PL_DECIDE(PL_ERROR, cid, c->cert_id, "connect", NULL, 0,
                  "out of memory");
        pl_conn_free(c);
        return MOSQ_ERR_AUTH;
    }

    /* The username keeps certificate-only clients across a reload (with
     * allow_anonymous false mosquitto drops clients without one). */
    mosquitto_set_username(ed->client, c->cert_id);
    pl_event_connected(c, cid);
    return MOSQ_ERR_SUCCESS;
}

/* Topic checks AWS IoT applies to what a client publishes or subscribes
 * to, before any policy. NULL means fine. */
static const char *
topic_limits(int access, const char *topic)
{
    size_t slashes = 0;
    const char *p;

    for (p = topic; *p != '\0'; p++) {
        slashes += *p == '/';
    }
    if (p - topic > PL_TOPIC_MAX) {
        return "topic longer than 256 bytes";
    }
    if (slashes > PL_TOPIC_SLASHES) {
        return "topic has more than 8 levels (7 slashes)";
    }
    if (topic[0] != '$') {
        return NULL;
    }

    /* Reserved topics: devices may publish to shadows, jobs and basic
     * ingest; they may subscribe to those and to the events topics;
     * nothing else that begins with $ is theirs. */
    if (access == MOSQ_ACL_WRITE && (strncmp(topic, "$aws/things/", 12) == 0 ||
                                     strncmp(topic, "$aws/rules/", 11) == 0)) {
        return NULL;
    }
    if (access == MOSQ_ACL_SUBSCRIBE &&
        (strncmp(topic, "$aws/things/", 12) == 0 ||
         strncmp(topic, "$aws/events/", 12) == 0)) {
        return NULL;
    }
    return "reserved topic";
}

/* The remembered decision for (action, topic): 1/0, or -1 unknown. */
static int
cache_get(const struct pl_conn *c, int action, const char *topic)
{
    int i;

    for (i = 0; i < 2; i++) {
        if (c->cache[i].action == action + 1 &&
            strcmp(c->cache[i].topic, topic) == 0) {
            return c->cache[i].allow;
        }
    }
    return -1;
}

static void
cache_put(struct pl_conn *c, int action, const char *topic, int allow)
{
    struct pl_decision *e;
    size_t len = strlen(topic);

    if (len >= PL_CACHE_TOPIC) {
        return;
    }
    e = &c->cache[c->cache_next];
    c->cache_next ^= 1;
    e->action = (uint8_t)(action + 1);
    e->allow = (uint8_t)allow;
    memcpy(e->topic, topic, len + 1);
}

/*
 * The decision for action a on topic: from the connection's cache, or
 * from the topic limits (publish and subscribe) and then the compiled
 * policies, remembered. A remembered allow implies the limits passed,
 * since they depend on the topic alone. *bad receives a limit's reason.
 */
static int
check(struct pl_conn *c, int access, enum tc_policy_action a, const char *topic,
      struct tc_policy_why *why, const char **bad)
{
    int allow = cache_get(c, a, topic);

    if (allow >= 0) {
        why->decision = allow ? TC_POLICY_ALLOWED : TC_POLICY_DEFAULT_DENY;
        why->policy = -1;
        why->statement = -1;
        why->sid = NULL;
        return allow;
    }
    if (access != MOSQ_ACL_READ &&
        (*bad = topic_limits(access, topic)) != NULL) {
        why->decision = TC_POLICY_DEFAULT_DENY;
        return 0;
    }
    allow = tc_policy_check(c->ps->set, a, topic, strlen(topic), why);
    cache_put(c, a, topic, allow);
    return allow;
}

static const char *
why_text(const struct tc_policy_why *why)
{
    switch (why->decision) {
    case TC_POLICY_ALLOWED:
        return "allowed by policy";
    case TC_POLICY_EXPLICIT_DENY:
        return "explicit Deny in policy";
    default:
        return "no policy statement allows it";
    }
}

static int
on_acl_check(int event, void *event_data, void *userdata)
{
    struct mosquitto_evt_acl_check *ed = event_data;
    struct pl_conn *c = pl_conn_find(ed->client);
    const char *cid = mosquitto_client_id(ed->client);
    struct tc_policy_why why;
    const char *action = "?";
    const char *bad = NULL;
    char kick_id[PL_CLIENT_ID_MAX + 1];
    int allow = 0;

    why.decision = TC_POLICY_DEFAULT_DENY;
    if (ed->access == MOSQ_ACL_UNSUBSCRIBE) {
        if (c != NULL) {
            pl_event_subscription(c, cid, ed->topic, 0);
        }
        return MOSQ_ERR_SUCCESS;
    }
    if (c == NULL) {
        PL_DECIDE(PL_NOTICE, cid, NULL, "acl", ed->topic, 0,
                  "connection not authenticated by thingcore");
        return MOSQ_ERR_ACL_DENIED;
    }

    switch (ed->access) {
    case MOSQ_ACL_READ:
        action = "receive";
        allow = check(c, ed->access, TC_POLICY_RECEIVE, ed->topic, &why, &bad);
        break;
    case MOSQ_ACL_WRITE:
        action = ed->retain ? "publish-retain" : "publish";
        if (ed->payloadlen > PL_PAYLOAD_MAX) {
            bad = "payload larger than 128 KB";
            break;
        }
        allow =
            check(c, ed->access, TC_POLICY_PUBLISH, ed->topic, &why, &bad) &&
            (!ed->retain || check(c, ed->access, TC_POLICY_RETAIN_PUBLISH,
                                  ed->topic, &why, &bad));
        break;
    case MOSQ_ACL_SUBSCRIBE:
        action = "subscribe";
        allow =
            check(c, ed->access, TC_POLICY_SUBSCRIBE, ed->topic, &why, &bad);
        break;
    default:
        bad = "unknown access";
        break;
    }
    if (allow) {
        PL_DECIDE(PL_DEBUG, cid, c->cert_id, action, ed->topic, 1, "%s",
                  why_text(&why));
        if (ed->access == MOSQ_ACL_SUBSCRIBE) {
            pl_events_heard(cid, ed->topic);
            pl_event_subscription(c, cid, ed->topic, 1);
        }
        return MOSQ_ERR_SUCCESS;
    }
    if (ed->access == MOSQ_ACL_READ) {
        /* A delivery the subscriber may not receive is dropped quietly
         * for it alone, as AWS IoT does; no disconnection. */
        PL_DECIDE(PL_INFO, cid, c->cert_id, action, ed->topic, 0, "%s",
                  why_text(&why));
        return MOSQ_ERR_ACL_DENIED;
    }

    /* An unauthorized publish or subscribe closes the connection. The
     * kick may free the record, so nothing touches c afterwards. */
    PL_DECIDE(PL_NOTICE, cid, c->cert_id, action, ed->topic, 0,
              "%s; disconnecting", bad != NULL ? bad : why_text(&why));
    c->end = PL_END_AUTH;
    snprintf(kick_id, sizeof(kick_id), "%s", cid);
    mosquitto_kick_client_by_clientid(kick_id, false);
    return MOSQ_ERR_ACL_DENIED;
}

static int
on_disconnect(int event, void *event_data, void *userdata)
{
    struct mosquitto_evt_disconnect *ed = event_data;
    struct pl_conn *c = pl_conn_find(ed->client);

    if (c == NULL) {
        return MOSQ_ERR_SUCCESS;
    }
    pl_conn_remove(c);
    pl_event_disconnected(c, mosquitto_client_id(ed->client));
    pl_conn_free(c);
    return MOSQ_ERR_SUCCESS;
}

static int
on_tick(int event, void *event_data, void *userdata)
{
    pl_follow(0);

    /* What the plugin holds, when it changed, at most every two seconds:
     * per connection, its record and its share of compiled sets. */
    if (pl.nconns != pl.logged_conns && tc_monotonic() >= pl.next_state_log) {
        size_t per =
            pl.nconns > 0 ? (pl.conn_bytes + pl.set_bytes) / pl.nconns : 0;

        PL_LOG(PL_INFO,
               "thingcore: state: %zu connections, %zu compiled "
               "policy sets, %zu bytes (%zu per connection)",
               pl.nconns, pl.nsets, pl.conn_bytes + pl.set_bytes, per);
        pl.logged_conns = pl.nconns;
        pl.next_state_log = tc_monotonic() + 2.0;
    }
    return MOSQ_ERR_SUCCESS;
}

/* ------------------------------------------------------------------ */
/* Plugin entry points */

int
mosquitto_plugin_version(int supported_version_count,
                         const int *supported_versions)
{
    return 5;
}

static int
parse_level(const char *s)
{
    static const char *const names[] = {"error", "warning", "notice", "info",
                                        "debug"};
    int i;

    for (i = 0; i < 5; i++) {
        if (strcmp(s, names[i]) == 0) {
            return i;
        }
    }
    return -1;
}

int
mosquitto_plugin_init(mosquitto_plugin_id_t *identifier, void **userdata,
                      struct mosquitto_opt *opts, int opt_count)
{
    struct tc_detail d;
    int i;
    int rc;

    memset(&pl, 0, sizeof(pl));
    pl.id = identifier;
    pl.log_level = PL_NOTICE;
    for (i = 0; i < opt_count; i++) {
        if (strcmp(opts[i].key, "registry") == 0) {
            snprintf(pl.registry_path, sizeof(pl.registry_path), "%s",
                     opts[i].value);
        } else if (strcmp(opts[i].key, "log_level") == 0) {
            pl.log_level = parse_level(opts[i].value);
            if (pl.log_level < 0) {
                pl.log_level = PL_NOTICE;
                PL_LOG(PL_WARNING,
                       "thingcore: unknown log_level %s, using "
                       "notice",
                       opts[i].value);
            }
        } else if (strcmp(opts[i].key, "events") == 0) {
            pl.events_on_subscribe = strcmp(opts[i].value, "subscribed") == 0;
            if (!pl.events_on_subscribe &&
                strcmp(opts[i].value, "always") != 0) {
                PL_LOG(PL_WARNING,
                       "thingcore: unknown events %s (always or "
                       "subscribed), using always",
                       opts[i].value);
            }
        } else {
            PL_LOG(PL_WARNING, "thingcore: unknown option plugin_opt_%s",
                   opts[i].key);
        }
    }
    if (pl.registry_path[0] == '\0') {
        PL_LOG(PL_ERROR, "thingcore: plugin_opt_registry is required");
        return MOSQ_ERR_INVAL;
    }

    /* A fetched digest is found by X509_digest faster than EVP_sha1(). */
    pl.sha1 = EVP_MD_fetch(NULL, "SHA1", NULL);
    if (pl.sha1 == NULL) {
        PL_LOG(PL_ERROR, "thingcore: OpenSSL has no SHA-1 digest");
        return MOSQ_ERR_UNKNOWN;
    }
    tc_detail_clear(&d);
    rc = tc_registry_open(pl.registry_path, &pl.reg, &d);
    if (rc == TC_OK) {
        rc = tc_registry_events_max_seq(pl.reg, &pl.seq, &d);
    }
    if (rc != TC_OK) {
        PL_LOG(PL_ERROR, "thingcore: registry %s: %s: %s", pl.registry_path,
               tc_strerror(rc), d.text);
        tc_registry_close(pl.reg);
        pl.reg = NULL;
        return MOSQ_ERR_UNKNOWN;
    }
    tc_registry_set_actor(pl.reg, "broker");

    if (mosquitto_callback_register(identifier, MOSQ_EVT_BASIC_AUTH,
                                    on_basic_auth, NULL, NULL) ||
        mosquitto_callback_register(identifier, MOSQ_EVT_ACL_CHECK,
                                    on_acl_check, NULL, NULL) ||
        mosquitto_callback_register(identifier, MOSQ_EVT_DISCONNECT,
                                    on_disconnect, NULL, NULL) ||
        mosquitto_callback_register(identifier, MOSQ_EVT_TICK, on_tick, NULL,
                                    NULL)) {
        PL_LOG(PL_ERROR, "thingcore: cannot register callbacks");
        return MOSQ_ERR_UNKNOWN;
    }
    PL_LOG(PL_NOTICE, "thingcore: plugin ready, registry %s (%s, account %s)",
           pl.registry_path, tc_registry_region(pl.reg),
           tc_registry_account(pl.reg));
    return MOSQ_ERR_SUCCESS;
}

int
mosquitto_plugin_cleanup(void *userdata, struct mosquitto_opt *opts,
                         int opt_count)
{
    struct pl_conn *c;
    struct pl_conn *next;
    size_t i;

    if (pl.id != NULL) {
        mosquitto_callback_unregister(pl.id, MOSQ_EVT_BASIC_AUTH, on_basic_auth,
                                      NULL);
        mosquitto_callback_unregister(pl.id, MOSQ_EVT_ACL_CHECK, on_acl_check,
                                      NULL);
        mosquitto_callback_unregister(pl.id, MOSQ_EVT_DISCONNECT, on_disconnect,
                                      NULL);
        mosquitto_callback_unregister(pl.id, MOSQ_EVT_TICK, on_tick, NULL);
    }
    for (i = 0; i < pl.nbuckets; i++) {
        for (c = pl.buckets[i]; c != NULL; c = next) {
            next = c->next;
            pl_conn_free(c);
        }
    }
    free(pl.buckets);
    free(pl.id_buckets);
    pl_set_clear();
    tc_registry_close(pl.reg);
    EVP_MD_free(pl.sha1);
    memset(&pl, 0, sizeof(pl));
    return MOSQ_ERR_SUCCESS;
}
