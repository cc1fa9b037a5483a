// SPDX-License-Identifier: Apache-2.0
/*
 * One Blinky-Hello-World device on libmosquitto. The TLS context is built
 * here (root CA, hostname check, TLS 1.2 or later, device certificate, the
 * chip's key through PKCS#11) and handed to libmosquitto as it is, since
 * libmosquitto cannot open a key held in a token itself. The network loop
 * is the caller's: one device or a whole fleet share one poll().
 */
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <mosquitto.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "thingcore/device.h"
#include "thingcore/util.h"

#define BACKOFF_MIN 1.0
#define BACKOFF_MAX 128.0
#define BLINK_HALF_PERIOD 0.5

enum state { ST_IDLE, ST_CONNECTING, ST_CONNECTED, ST_WAITING, ST_STOPPED };

struct tc_device {
    struct mosquitto *mosq;
    SSL_CTX *ssl;
    char serial[32];
    char host[256];
    char sub[48];
    char pub_topic[48];
    int port;
    int keepalive;
    double publish_every;
    FILE *log;
    double started;

    enum state state;
    double backoff;
    double next_attempt;
    double next_publish;
    double next_blink;
    int led_on;
    long counter;
    struct tc_device_stats stats;
};

void
tc_device_lib_init(void)
{
    mosquitto_lib_init();
}

void
tc_device_lib_cleanup(void)
{
    mosquitto_lib_cleanup();
}

/* Console lines shaped like the firmware's: "I (ms) TAG: text". */
static void
say(struct tc_device *dev, char level, const char *tag, const char *fmt, ...)
{
    va_list ap;

    if (dev->log == NULL) {
        return;
    }
    fprintf(dev->log, "%c (%ld) %s: ", level,
            (long)((tc_monotonic() - dev->started) * 1000), tag);
    va_start(ap, fmt);
    vfprintf(dev->log, fmt, ap);
    va_end(ap);
    fputc('\n', dev->log);
    fflush(dev->log);
}

static int
ssl_fail(struct tc_detail *d, const char *what)
{
    return tc_detail_ossl(d, TC_ERR_CRYPTO, NULL, what);
}

/*
 * The client TLS context: verify the server against the endpoint's root
 * CA and its host name, present the device certificate (and the signer
 * as chain), sign with the chip's key.
 */
static int
build_ssl(struct tc_device *dev, const struct tc_device_opts *o,
          struct tc_detail *d)
{
    const unsigned char *p;
    X509 *cert = NULL;
    X509 *signer = NULL;
    int rc = TC_ERR_CRYPTO;

    dev->ssl = SSL_CTX_new(TLS_client_method());
    if (dev->ssl == NULL ||
        !SSL_CTX_set_min_proto_version(dev->ssl, TLS1_2_VERSION)) {
        return ssl_fail(d, "cannot create a TLS context");
    }
    if (SSL_CTX_load_verify_locations(dev->ssl, o->ca_file, NULL) != 1) {
        return ssl_fail(d, o->ca_file);
    }
    SSL_CTX_set_verify(dev->ssl, SSL_VERIFY_PEER, NULL);
    if (!X509_VERIFY_PARAM_set1_host(SSL_CTX_get0_param(dev->ssl), o->host,
                                     0)) {
        return ssl_fail(d, "cannot set the host name check");
    }
    p = o->cert_der;
    cert = d2i_X509(NULL, &p, (long)o->cert_len);
    if (cert == NULL || SSL_CTX_use_certificate(dev->ssl, cert) != 1) {
        rc = ssl_fail(d, "device certificate");
        goto out;
    }
    if (o->signer_der != NULL) {
        p = o->signer_der;
        signer = d2i_X509(NULL, &p, (long)o->signer_len);
        if (signer == NULL || SSL_CTX_add1_chain_cert(dev->ssl, signer) != 1) {
            rc = ssl_fail(d, "signer certificate");
            goto out;
        }
    }

    /* The key is a handle into the chip; OpenSSL checks it matches. */
    if (SSL_CTX_use_PrivateKey(dev->ssl, o->key) != 1 ||
        SSL_CTX_check_private_key(dev->ssl) != 1) {
        rc = ssl_fail(d, "the chip's key does not match the device "
                         "certificate");
        goto out;
    }
    rc = TC_OK;
out:
    X509_free(cert);
    X509_free(signer);
    return rc;
}

/* ---- callbacks ---- */

static void
schedule_retry(struct tc_device *dev, const char *why)
{
    double now = tc_monotonic();

    dev->state = ST_WAITING;
    dev->next_attempt = now + dev->backoff;
    say(dev, 'W', "MQTT", "%s; retrying in %.0f s", why, dev->backoff);
    dev->backoff *= 2;
    if (dev->backoff > BACKOFF_MAX) {
        dev->backoff = BACKOFF_MAX;
    }
}

static void
on_connect(struct mosquitto *mosq, void *obj, int rc)
{
    struct tc_device *dev = obj;
    char why[160];

    if (rc != 0) {
        dev->stats.refused++;
        snprintf(why, sizeof(why), "connection refused: %s",
                 mosquitto_connack_string(rc));
        /* the broker closes; on_disconnect schedules the retry */
        say(dev, 'E', "MQTT", "%s", why);
        return;
    }
    dev->state = ST_CONNECTED;
    dev->stats.connects++;
    dev->stats.connected = 1;
    dev->backoff = BACKOFF_MIN;
    dev->next_publish = tc_monotonic();
    say(dev, 'I', "MQTT", "connected to %s:%d as %s", dev->host, dev->port,
        dev->serial);
    if (mosquitto_subscribe(mosq, NULL, dev->sub, 0) != MOSQ_ERR_SUCCESS) {
        dev->stats.errors++;
    }
}

static void
on_disconnect(struct mosquitto *mosq, void *obj, int rc)
{
    struct tc_device *dev = obj;
    char why[160];

    dev->stats.connected = 0;
    if (dev->state == ST_STOPPED) {
        return;
    }
    dev->stats.disconnects++;
    snprintf(why, sizeof(why), "disconnected (%s)",
             rc == 0 ? "by request" : mosquitto_strerror(rc));
    schedule_retry(dev, why);
}

static void
on_subscribe(struct mosquitto *mosq, void *obj, int mid, int n,
             const int *granted)
{
    struct tc_device *dev = obj;

    if (n >= 1 && granted[0] == 0x80) {
        dev->stats.errors++;
        say(dev, 'E', "MQTT", "subscription to %s refused", dev->sub);
        return;
    }
    say(dev, 'I', "MQTT", "subscribed to %s", dev->sub);
}

static void
on_message(struct mosquitto *mosq, void *obj,
           const struct mosquitto_message *m)
{
    struct tc_device *dev = obj;

    dev->stats.received++;
    say(dev, 'I', "MQTT", "message on %s: %.*s", m->topic,
        m->payloadlen > 200 ? 200 : m->payloadlen, (const char *)m->payload);

    /* The firmware toggles its blink task on any topic with /blink. */
    if (strstr(m->topic, "/blink") != NULL) {
        dev->stats.blinking = !dev->stats.blinking;
        dev->next_blink = tc_monotonic();
        dev->led_on = 0;
        say(dev, 'I', "BLINK", "blink task %s",
            dev->stats.blinking ? "started" : "stopped");
    }
}

/* ---- life cycle ---- */

int
tc_device_new(const struct tc_device_opts *o, struct tc_device **out,
              struct tc_detail *d)
{
    struct tc_device *dev = calloc(1, sizeof(*dev));
    int rc;

    *out = NULL;
    if (dev == NULL) {
        return TC_ERR_NOMEM;
    }
    snprintf(dev->serial, sizeof(dev->serial), "%s", o->serial);
    snprintf(dev->host, sizeof(dev->host), "%s", o->host);
    snprintf(dev->sub, sizeof(dev->sub), "%s/#", o->serial);
    snprintf(dev->pub_topic, sizeof(dev->pub_topic), "%s/", o->serial);
    dev->port = o->port;
    dev->keepalive = o->keepalive > 0 ? o->keepalive : 10;
    dev->publish_every = o->publish_every > 0 ? o->publish_every : 3.0;
    dev->log = o->log;
    dev->started = tc_monotonic();
    dev->backoff = BACKOFF_MIN;
    dev->state = ST_IDLE;

    rc = build_ssl(dev, o, d);
    if (rc != TC_OK) {
        tc_device_free(dev);
        return rc;
    }
    dev->mosq = mosquitto_new(dev->serial, true, dev);
    if (dev->mosq == NULL) {
        tc_device_free(dev);
        return tc_detail_set(d, TC_ERR_NOMEM, -1, NULL,
                             "cannot create an MQTT client");
    }
    mosquitto_int_option(dev->mosq, MOSQ_OPT_PROTOCOL_VERSION,
                         MQTT_PROTOCOL_V311);
    mosquitto_int_option(dev->mosq, MOSQ_OPT_SSL_CTX_WITH_DEFAULTS, 0);
    if (mosquitto_void_option(dev->mosq, MOSQ_OPT_SSL_CTX, dev->ssl) !=
        MOSQ_ERR_SUCCESS) {
        tc_device_free(dev);
        return tc_detail_set(d, TC_ERR_CRYPTO, -1, NULL,
                             "libmosquitto refused the TLS context");
    }
    mosquitto_connect_callback_set(dev->mosq, on_connect);
    mosquitto_disconnect_callback_set(dev->mosq, on_disconnect);
    mosquitto_subscribe_callback_set(dev->mosq, on_subscribe);
    mosquitto_message_callback_set(dev->mosq, on_message);
    *out = dev;
    return TC_OK;
}

void
tc_device_free(struct tc_device *dev)
{
    if (dev == NULL) {
        return;
    }
    if (dev->mosq != NULL) {
        mosquitto_destroy(dev->mosq);
    }
    SSL_CTX_free(dev->ssl);
    free(dev);
}

static void
attempt(struct tc_device *dev)
{
    int rc;

    dev->state = ST_CONNECTING;
    say(dev, 'I', "MQTT", "connecting to %s:%d", dev->host, dev->port);
    if (dev->stats.connects + dev->stats.refused + dev->stats.disconnects ==
        0) {
        rc = mosquitto_connect_async(dev->mosq, dev->host, dev->port,
                                     dev->keepalive);
    } else {
        rc = mosquitto_reconnect_async(dev->mosq);
    }
    if (rc != MOSQ_ERR_SUCCESS) {
        char why[200];

        dev->stats.errors++;
        snprintf(why, sizeof(why), "cannot connect: %s",
                 rc == MOSQ_ERR_ERRNO ? strerror(errno)
                                      : mosquitto_strerror(rc));
        schedule_retry(dev, why);
    }
}

int
tc_device_start(struct tc_device *dev, struct tc_detail *d)
{
    attempt(dev);
    return TC_OK;
}

int
tc_device_fd(const struct tc_device *dev, short *events)
{
    int fd;

    *events = 0;
    if (dev->state != ST_CONNECTING && dev->state != ST_CONNECTED) {
        return -1;
    }
    fd = mosquitto_socket(dev->mosq);
    if (fd >= 0) {
        *events = POLLIN;
        if (mosquitto_want_write(dev->mosq)) {
            *events |= POLLOUT;
        }
    }
    return fd;
}

double
tc_device_next_deadline(const struct tc_device *dev)
{
    double next = tc_monotonic() + 1.0;

    if (dev->state == ST_WAITING && dev->next_attempt < next) {
        next = dev->next_attempt;
    }
    if (dev->state == ST_CONNECTED && dev->next_publish < next) {
        next = dev->next_publish;
    }
    if (dev->stats.blinking && dev->next_blink < next) {
        next = dev->next_blink;
    }
    return next;
}

static void
publish_round(struct tc_device *dev)
{
    char payload[64];
    int qos;

    /* The firmware's two messages per round, one counter across both. */
    for (qos = 0; qos <= 1; qos++) {
        int rc;

        snprintf(payload, sizeof(payload),
                 "Hello from AWS IoT Kit (QOS%d) : %ld ", qos,
                 dev->counter++);
        rc = mosquitto_publish(dev->mosq, NULL, dev->pub_topic,
                               (int)strlen(payload), payload, qos, false);
        if (rc == MOSQ_ERR_SUCCESS) {
            dev->stats.published++;
            say(dev, 'I', "MQTT", "published to %s: %s", dev->pub_topic,
                payload);
        } else {
            dev->stats.errors++;
            say(dev, 'E', "MQTT", "publish failed: %s",
                mosquitto_strerror(rc));
        }
    }
    dev->stats.cycles++;
    dev->stats.last_publish = tc_monotonic();
}

static void
blink_step(struct tc_device *dev, double now)
{
    static const char on[] = "\xe2\x96\x88\xe2\x96\x88\xe2\x96\x88\xe2\x96"
                             "\x88\xe2\x96\x88";
    static const char off[] = "\xe2\x96\x91\xe2\x96\x91\xe2\x96\x91\xe2\x96"
                              "\x91\xe2\x96\x91";

    dev->led_on = !dev->led_on;
    dev->next_blink = now + BLINK_HALF_PERIOD;
    say(dev, 'I', "BLINK", "LED bars %s %s|%s", dev->led_on ? on : off,
        dev->led_on ? "on " : "off", dev->led_on ? on : off);
}

void
tc_device_service(struct tc_device *dev, short revents, double now)
{
    int rc = MOSQ_ERR_SUCCESS;

    if (dev->state == ST_CONNECTING || dev->state == ST_CONNECTED) {
        if (revents & (POLLIN | POLLHUP | POLLERR)) {
            rc = mosquitto_loop_read(dev->mosq, 1);
        }
        if (rc == MOSQ_ERR_SUCCESS && (revents & POLLOUT)) {
            rc = mosquitto_loop_write(dev->mosq, 1);
        }
        if (rc == MOSQ_ERR_SUCCESS) {
            rc = mosquitto_loop_misc(dev->mosq);
        }

        /* A failure during the handshake or the session: back off. */
        if (rc != MOSQ_ERR_SUCCESS &&
            (dev->state == ST_CONNECTING || dev->state == ST_CONNECTED)) {
            char why[200];

            dev->stats.connected = 0;
            dev->stats.errors++;
            snprintf(why, sizeof(why), "connection lost: %s",
                     rc == MOSQ_ERR_ERRNO ? strerror(errno)
                                          : mosquitto_strerror(rc));
            schedule_retry(dev, why);
        }
    }
    if (dev->state == ST_WAITING && now >= dev->next_attempt) {
        attempt(dev);
    }
    if (dev->state == ST_CONNECTED && now >= dev->next_publish) {
        publish_round(dev);
        dev->next_publish = now + dev->publish_every;
    }
    if (dev->stats.blinking && now >= dev->next_blink) {
        blink_step(dev, now);
    }
}

void
tc_device_stop(struct tc_device *dev)
{
    enum state was = dev->state;

    /* Stopped first, so the disconnect callback schedules no retry. */
    dev->state = ST_STOPPED;
    if (was == ST_CONNECTED) {
        mosquitto_disconnect(dev->mosq);
        mosquitto_loop_write(dev->mosq, 1);
        say(dev, 'I', "MQTT", "disconnected");
    }
    dev->stats.connected = 0;
}

const struct tc_device_stats *
tc_device_stats(const struct tc_device *dev)
{
    return &dev->stats;
}
