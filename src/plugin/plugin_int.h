/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What the plugin's files share: the per-connection record, the plugin's
 * global state (one broker thread, so no locks), the decision log macro
 * and the functions that authenticate, publish events and follow the
 * registry's event log. Private to src/plugin.
 */
#ifndef THINGCORE_PLUGIN_INT_H
#define THINGCORE_PLUGIN_INT_H

#include <stddef.h>
#include <stdint.h>

/* mosquitto_broker.h must come before mosquitto_plugin.h (2.0.11). */
#include <mosquitto.h>
#include <mosquitto_broker.h>
#include <mosquitto_plugin.h>

#include <openssl/evp.h>

#include "thingcore/policy.h"
#include "thingcore/registry.h"

/* AWS IoT's data plane limits. */
#define PL_CLIENT_ID_MAX 128
#define PL_TOPIC_MAX 256
#define PL_TOPIC_SLASHES 7
#define PL_PAYLOAD_MAX (128 * 1024)

/* A remembered decision: the exact topic, so no collision can lie. */
#define PL_CACHE_TOPIC 46
struct pl_decision {
    uint8_t action; /* enum tc_policy_action + 1; 0 = empty */
    uint8_t allow;
    char topic[PL_CACHE_TOPIC]; /* NUL-terminated; longer topics skip */
};

/* Why a connection ended, when we know better than mosquitto 2.0.11. */
enum pl_end {
    PL_END_UNKNOWN = 0,
    PL_END_DUPLICATE, /* DUPLICATE_CLIENTID */
    PL_END_AUTH,      /* AUTH_ERROR: a denied publish or subscribe */
    PL_END_SERVER,    /* SERVER_INITIATED_DISCONNECT: revocation */
};

/*
 * A compiled policy set shared by the connections of one certificate,
 * client ID and source address, and kept after they leave so a device that
 * reconnects costs no database work. Entries are dropped when the event
 * log says their certificate, thing or policies changed.
 *
 * The certificate is found by its SHA-1 fingerprint, which OpenSSL
 * computed when it verified the chain, so a returning device needs no
 * SHA-256 over its certificate for the id. Only a certificate a trusted
 * CA signed gets this far, and two signed certificates with one SHA-1
 * fingerprint would need a collision ending in the CA's own signature.
 */
#define PL_FP_LEN 20
struct pl_set {
    struct pl_set *next;       /* hash chain */
    struct tc_policy_set *set; /* owned */
    uint32_t hash;
    int refs;              /* connections using it */
    size_t bytes;          /* heap it holds, set included */
    int cached;            /* still findable in the cache */
    uint8_t fp[PL_FP_LEN]; /* the certificate's SHA-1 fingerprint */
    char cert_id[TC_REG_CERT_ID_LEN];
    char key[]; /* client ID, NUL, source address, NUL */
};

/*
 * One authenticated connection, keyed by mosquitto's client pointer. The
 * client ID is not copied: mosquitto_client_id() gives it while the client
 * lives, and the record dies in the DISCONNECT callback.
 */
struct pl_conn {
    struct pl_conn *next;    /* hash chain by client pointer */
    struct pl_conn *id_next; /* hash chain by client ID */
    struct mosquitto *client;
    struct pl_set *ps; /* a reference; compiled at connect */
    uint32_t id_hash;  /* of the client ID, for takeovers */
    uint8_t end;       /* enum pl_end */
    uint8_t cache_next;
    long long version;   /* connect time in ms: versionNumber */
    uint8_t session[16]; /* sessionIdentifier, random */
    char cert_id[TC_REG_CERT_ID_LEN];
    struct pl_decision cache[2];
};

struct pl_state {
    mosquitto_plugin_id_t *id;
    struct tc_registry *reg;
    int log_level;               /* enum tc_log_level values */
    struct pl_conn **buckets;    /* by client pointer */
    struct pl_conn **id_buckets; /* by client ID hash; same size */
    size_t nbuckets;
    size_t nconns;
    long long seq;     /* event log position followed */
    size_t conn_bytes; /* heap held by connection records */
    size_t set_bytes;  /* heap held by compiled sets */
    size_t nsets;
    size_t logged_conns; /* state last logged (see follow.c) */
    double next_state_log;
    double next_follow;       /* monotonic time of the tick's next look */
    long long mark[2];        /* registry change mark of the last full read */
    long long hint[4];        /* and its cheap change hint */
    EVP_MD *sha1;             /* fetched once: fingerprints (auth.c) */
    int events_on_subscribe;  /* plugin_opt_events subscribed */
    int events_heard;         /* a $aws/events/ filter was subscribed to */
    char registry_path[1024]; /* last: the fields above share cache lines */
};

extern struct pl_state pl;

/* Decision and diagnostic lines, through the broker's own log. */
#define PL_ERROR 0
#define PL_WARNING 1
#define PL_NOTICE 2
#define PL_INFO 3
#define PL_DEBUG 4
void pl_log_write(int level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
#define PL_LOG(level, ...)                                                     \
    do {                                                                       \
        if ((level) <= pl.log_level) {                                         \
            pl_log_write((level), __VA_ARGS__);                                \
        }                                                                      \
    } while (0)

/*
 * One line per security decision: client ID, certificate id, action,
 * topic (or "-"), decision and reason. Notice for security decisions,
 * debug for routine allows.
 */
void pl_decide_write(int level, const char *cid, const char *cert,
                     const char *action, const char *topic, int allow,
                     const char *fmt, ...)
    __attribute__((format(printf, 7, 8)));
#define PL_DECIDE(level, ...)                                                  \
    do {                                                                       \
        if ((level) <= pl.log_level) {                                         \
            pl_decide_write((level), __VA_ARGS__);                             \
        }                                                                      \
    } while (0)

/* Connection table (plugin.c). */
struct pl_conn *pl_conn_find(const struct mosquitto *client);
int pl_conn_add(struct pl_conn *c);
void pl_conn_remove(struct pl_conn *c);
void pl_conn_free(struct pl_conn *c);
uint32_t pl_hash_str(const char *s);

/*
 * Authenticate a new connection (auth.c): certificate lookup, JITR/JITP,
 * iot:Connect. Returns MOSQ_ERR_SUCCESS with *out a new record (handed
 * over), or MOSQ_ERR_AUTH after logging why.
 */
int pl_authenticate(struct mosquitto *client, struct pl_conn **out);

/*
 * Re-read certificate status, context and policies of a live connection
 * (auth.c). Returns 1 when it may stay connected, 0 when it must go (the
 * reason logged); c->set is replaced on success.
 */
int pl_refresh(struct pl_conn *c);

/*
 * Lifecycle and registration events (events.c). With plugin_opt_events
 * subscribed, none is built until some client has been allowed a
 * subscription to a $aws/events/ filter: without persistence every
 * subscription arrives through the plugin, so until then no session can
 * receive one. pl_events_heard is told of every allowed subscription.
 */
void pl_events_heard(const char *client_id, const char *filter);
void pl_session_id(uint8_t out[16]); /* a new sessionIdentifier */
void pl_event_connected(const struct pl_conn *c, const char *client_id);
void pl_event_disconnected(const struct pl_conn *c, const char *client_id);
void pl_event_subscription(const struct pl_conn *c, const char *client_id,
                           const char *filter, int subscribed);
void pl_event_registered(const struct tc_reg_cert *cert);

/*
 * Follow the registry's event log (follow.c); called on TICK (at most
 * five looks a second) and, with force, before every connection is
 * decided. The log is read only when the registry changed.
 */
void pl_follow(int force);

/* The compiled set cache (cache.c). */
struct pl_set *pl_set_get(const uint8_t fp[PL_FP_LEN], const char *cid,
                          const char *ip);
struct pl_set *pl_set_put(const uint8_t fp[PL_FP_LEN], const char *cert_id,
                          const char *cid, const char *ip,
                          struct tc_policy_set *set, size_t set_bytes);
void pl_set_release(struct pl_set *ps);
void pl_set_invalidate(const char *cert_id, const char *cid, int all);
void pl_set_clear(void);

#endif
