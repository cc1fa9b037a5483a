// SPDX-License-Identifier: Apache-2.0
/*
 * The events AWS IoT publishes on reserved topics, with its JSON fields:
 * lifecycle ($aws/events/presence/connected|disconnected/<clientId>),
 * subscriptions ($aws/events/subscriptions/subscribed|unsubscribed/
 * <clientId>) and just-in-time registration
 * ($aws/events/certificates/registered/<caCertificateId>). Published from
 * inside the broker; subscribers still need iot:Receive to get them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/rand.h>

#include "plugin_int.h"
#include "thingcore/util.h"

void
pl_events_heard(const char *client_id, const char *filter)
{
    if (pl.events_heard || strncmp(filter, "$aws/events/", 12) != 0) {
        return;
    }
    pl.events_heard = 1;
    if (pl.events_on_subscribe) {
        PL_LOG(PL_INFO,
               "thingcore: %s subscribed to %s: events are published from "
               "now on",
               client_id, filter);
    }
}

/* Whether an event may reach anyone (see plugin_int.h). */
static int
events_wanted(void)
{
    return !pl.events_on_subscribe || pl.events_heard;
}

static long long
now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* splitmix64's output function: a bijection with good mixing. */
static uint64_t
mix64(uint64_t z)
{
    z += 0x9E3779B97F4A7C15ull;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

void
pl_session_id(uint8_t out[16])
{
    static uint64_t seed[2];
    static uint64_t n;
    static int seeded;
    uint64_t hi;
    uint64_t lo;
    int i;

    /* Unique per connection, not secret: one random seed per broker,
     * then a counter through a bijection, so identifiers cannot repeat
     * but for the six bits the UUID version and variant take. */
    if (!seeded) {
        if (RAND_bytes((unsigned char *)seed, sizeof(seed)) != 1) {
            seed[0] = (uint64_t)now_ms();
            seed[1] = (uint64_t)getpid();
        }
        seeded = 1;
    }
    n++;
    hi = mix64(seed[0] + n);
    lo = mix64(seed[1] ^ hi);
    for (i = 0; i < 8; i++) {
        out[i] = (uint8_t)(hi >> (56 - 8 * i));
        out[8 + i] = (uint8_t)(lo >> (56 - 8 * i));
    }
    out[6] = (uint8_t)((out[6] & 0x0f) | 0x40); /* a version 4 UUID */
    out[8] = (uint8_t)((out[8] & 0x3f) | 0x80);
}

/* sessionIdentifier: a UUID text made from the connection's 16 bytes. */
static void
session_text(const struct pl_conn *c, char out[37])
{
    char hex[33];

    tc_hex_encode(c->session, sizeof(c->session), hex, 0);
    snprintf(out, 37, "%.8s-%.4s-%.4s-%.4s-%.12s", hex, hex + 8, hex + 12,
             hex + 16, hex + 20);
}

/*
 * A JSON object written straight into a buffer: events are small, and
 * one goes out for every connection and disconnection, so they are not
 * built as trees. A value that does not fit marks the whole event bad.
 */
struct jw {
    char buf[2048];
    size_t len;
    int bad;
};

static void
jw_raw(struct jw *w, const char *s, size_t n)
{
    if (w->len + n >= sizeof(w->buf)) {
        w->bad = 1;
        return;
    }
    memcpy(w->buf + w->len, s, n);
    w->len += n;
    w->buf[w->len] = '\0';
}

/* ,"key": after the object's first member, "key": before. */
static void
jw_key(struct jw *w, const char *key)
{
    if (w->len > 1) {
        jw_raw(w, ",", 1);
    }
    jw_raw(w, "\"", 1);
    jw_raw(w, key, strlen(key));
    jw_raw(w, "\":", 2);
}

/* A key (NULL: none, for an array item) and a string value, escaped. */
static void
jw_str(struct jw *w, const char *key, const char *v)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *p;
    char esc[6];

    if (key != NULL) {
        jw_key(w, key);
    }
    jw_raw(w, "\"", 1);
    for (p = (const unsigned char *)(v != NULL ? v : ""); *p != '\0'; p++) {
        if (*p == '"' || *p == '\\') {
            esc[0] = '\\';
            esc[1] = (char)*p;
            jw_raw(w, esc, 2);
        } else if (*p < 0x20) {
            memcpy(esc, "\\u00", 4);
            esc[4] = hex[*p >> 4];
            esc[5] = hex[*p & 15];
            jw_raw(w, esc, 6);
        } else {
            jw_raw(w, (const char *)p, 1);
        }
    }
    jw_raw(w, "\"", 1);
}

/* A key and a number or literal (true, false) value. */
static void
jw_lit(struct jw *w, const char *key, const char *v)
{
    jw_key(w, key);
    jw_raw(w, v, strlen(v));
}

static void
jw_int(struct jw *w, const char *key, long long v)
{
    char num[24];

    snprintf(num, sizeof(num), "%lld", v);
    jw_lit(w, key, num);
}

/* Close the object in w and publish it on topic at QoS 1. */
static void
publish(const char *topic, struct jw *w)
{
    int rc;

    jw_raw(w, "}", 1);
    if (w->bad) {
        PL_LOG(PL_WARNING, "thingcore: event for %s not published: too long",
               topic);
        return;
    }
    rc = mosquitto_broker_publish_copy(NULL, topic, (int)w->len, w->buf, 1,
                                       false, NULL);
    if (rc != MOSQ_ERR_SUCCESS) {
        PL_LOG(PL_WARNING, "thingcore: event for %s not published: %d", topic,
               rc);
    }
}

/* Start an event object. */
static void
jw_open(struct jw *w)
{
    w->len = 0;
    w->bad = 0;
    jw_raw(w, "{", 1);
}

void
pl_event_connected(const struct pl_conn *c, const char *client_id)
{
    char topic[PL_CLIENT_ID_MAX + 64];
    char session[37];
    const char *ip = mosquitto_client_address(c->client);
    struct jw w;

    if (!events_wanted()) {
        return;
    }
    session_text(c, session);
    snprintf(topic, sizeof(topic), "$aws/events/presence/connected/%s",
             client_id);
    jw_open(&w);
    jw_str(&w, "clientId", client_id);
    jw_int(&w, "timestamp", now_ms());
    jw_str(&w, "eventType", "connected");
    jw_str(&w, "sessionIdentifier", session);
    jw_str(&w, "principalIdentifier", c->cert_id);
    jw_str(&w, "ipAddress", ip != NULL ? ip : "");
    jw_int(&w, "versionNumber", c->version);
    publish(topic, &w);
}

void
pl_event_disconnected(const struct pl_conn *c, const char *client_id)
{
    char topic[PL_CLIENT_ID_MAX + 64];
    char session[37];
    const char *reason;
    struct jw w;

    if (!events_wanted()) {
        return;
    }
    /* mosquitto 2.0.11 passes no reason; what we caused we know, the rest
     * is reported as a lost connection. */
    switch (c->end) {
    case PL_END_DUPLICATE:
        reason = "DUPLICATE_CLIENTID";
        break;
    case PL_END_AUTH:
        reason = "AUTH_ERROR";
        break;
    case PL_END_SERVER:
        reason = "SERVER_INITIATED_DISCONNECT";
        break;
    default:
        reason = "CONNECTION_LOST";
        break;
    }
    session_text(c, session);
    snprintf(topic, sizeof(topic), "$aws/events/presence/disconnected/%s",
             client_id);
    jw_open(&w);
    jw_str(&w, "clientId", client_id);
    jw_int(&w, "timestamp", now_ms());
    jw_str(&w, "eventType", "disconnected");
    jw_lit(&w, "clientInitiatedDisconnect", "false");
    jw_str(&w, "sessionIdentifier", session);
    jw_str(&w, "principalIdentifier", c->cert_id);
    jw_str(&w, "disconnectReason", reason);
    jw_int(&w, "versionNumber", c->version);
    publish(topic, &w);
}

void
pl_event_subscription(const struct pl_conn *c, const char *client_id,
                      const char *filter, int subscribed)
{
    char topic[PL_CLIENT_ID_MAX + 64];
    char session[37];
    const char *kind = subscribed ? "subscribed" : "unsubscribed";
    struct jw w;

    if (!events_wanted()) {
        return;
    }
    session_text(c, session);
    snprintf(topic, sizeof(topic), "$aws/events/subscriptions/%s/%s", kind,
             client_id);
    jw_open(&w);
    jw_str(&w, "clientId", client_id);
    jw_int(&w, "timestamp", now_ms());
    jw_str(&w, "eventType", kind);
    jw_str(&w, "sessionIdentifier", session);
    jw_str(&w, "principalIdentifier", c->cert_id);
    jw_key(&w, "topics");
    jw_raw(&w, "[", 1);
    jw_str(&w, NULL, filter);
    jw_raw(&w, "]", 1);
    publish(topic, &w);
}

void
pl_event_registered(const struct tc_reg_cert *cert)
{
    char topic[TC_REG_CERT_ID_LEN + 64];
    struct jw w;

    if (!events_wanted()) {
        return;
    }
    snprintf(topic, sizeof(topic), "$aws/events/certificates/registered/%s",
             cert->ca_id);
    jw_open(&w);
    jw_str(&w, "certificateId", cert->id);
    jw_str(&w, "caCertificateId", cert->ca_id);
    jw_int(&w, "timestamp", now_ms());
    jw_str(&w, "certificateStatus", "PENDING_ACTIVATION");
    jw_str(&w, "awsAccountId", tc_registry_account(pl.reg));
    jw_int(&w, "certificateRegistrationTimestamp",
           (long long)(cert->creation_date * 1000.0));
    publish(topic, &w);
}
