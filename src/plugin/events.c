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

#include <jansson.h>

#include "plugin_int.h"
#include "thingcore/util.h"

static long long
now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
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

/* Publish obj (reference taken) on topic at QoS 1. */
static void
publish(const char *topic, json_t *obj)
{
    char *text = obj != NULL ? json_dumps(obj, JSON_COMPACT) : NULL;
    int rc;

    json_decref(obj);
    if (text == NULL) {
        PL_LOG(PL_WARNING, "thingcore: event for %s not published: no memory",
               topic);
        return;
    }
    rc = mosquitto_broker_publish_copy(NULL, topic, (int)strlen(text), text, 1,
                                       false, NULL);
    if (rc != MOSQ_ERR_SUCCESS) {
        PL_LOG(PL_WARNING, "thingcore: event for %s not published: %d", topic,
               rc);
    }
    free(text);
}

void
pl_event_connected(const struct pl_conn *c, const char *client_id)
{
    char topic[PL_CLIENT_ID_MAX + 64];
    char session[37];
    const char *ip = mosquitto_client_address(c->client);

    session_text(c, session);
    snprintf(topic, sizeof(topic), "$aws/events/presence/connected/%s",
             client_id);
    publish(topic, json_pack("{s:s, s:I, s:s, s:s, s:s, s:s, s:I}", "clientId",
                             client_id, "timestamp", (json_int_t)now_ms(),
                             "eventType", "connected", "sessionIdentifier",
                             session, "principalIdentifier", c->cert_id,
                             "ipAddress", ip != NULL ? ip : "", "versionNumber",
                             (json_int_t)c->version));
}

void
pl_event_disconnected(const struct pl_conn *c, const char *client_id)
{
    char topic[PL_CLIENT_ID_MAX + 64];
    char session[37];
    const char *reason;

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
    publish(topic,
            json_pack("{s:s, s:I, s:s, s:b, s:s, s:s, s:s, s:I}", "clientId",
                      client_id, "timestamp", (json_int_t)now_ms(), "eventType",
                      "disconnected", "clientInitiatedDisconnect", 0,
                      "sessionIdentifier", session, "principalIdentifier",
                      c->cert_id, "disconnectReason", reason, "versionNumber",
                      (json_int_t)c->version));
}

void
pl_event_subscription(const struct pl_conn *c, const char *client_id,
                      const char *filter, int subscribed)
{
    char topic[PL_CLIENT_ID_MAX + 64];
    char session[37];
    const char *kind = subscribed ? "subscribed" : "unsubscribed";

    session_text(c, session);
    snprintf(topic, sizeof(topic), "$aws/events/subscriptions/%s/%s", kind,
             client_id);
    publish(topic,
            json_pack("{s:s, s:I, s:s, s:s, s:s, s:[s]}", "clientId", client_id,
                      "timestamp", (json_int_t)now_ms(), "eventType", kind,
                      "sessionIdentifier", session, "principalIdentifier",
                      c->cert_id, "topics", filter));
}

void
pl_event_registered(const struct tc_reg_cert *cert)
{
    char topic[TC_REG_CERT_ID_LEN + 64];

    snprintf(topic, sizeof(topic), "$aws/events/certificates/registered/%s",
             cert->ca_id);
    publish(topic, json_pack("{s:s, s:s, s:I, s:s, s:s, s:I}", "certificateId",
                             cert->id, "caCertificateId", cert->ca_id,
                             "timestamp", (json_int_t)now_ms(),
                             "certificateStatus", "PENDING_ACTIVATION",
                             "awsAccountId", tc_registry_account(pl.reg),
                             "certificateRegistrationTimestamp",
                             (json_int_t)(cert->creation_date * 1000.0)));
}
