/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The Blinky-Hello-World firmware's behaviour as a library: one device is
 * one MQTT 3.1.1 client over mutual TLS whose private key stays in its
 * secure element. It subscribes to <SN>/#, publishes the lesson's hello
 * messages every few seconds at QoS 0 and QoS 1 to <SN>/, toggles its
 * blink task on a message whose topic contains /blink, and reconnects with
 * a backoff from 1 s to 128 s. Many devices can share one poll loop (the
 * fleet runner).
 *
 * Limitations: MQTT 3.1.1 only, as the firmware; no offline queue.
 */
#ifndef THINGCORE_DEVICE_H
#define THINGCORE_DEVICE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <openssl/evp.h>

#include "thingcore/err.h"

struct tc_device;

struct tc_device_opts {
    const char *serial; /* client ID and thing name: 18 upper-case hex */
    EVP_PKEY *key;      /* borrowed: the chip's key through PKCS#11 */
    const uint8_t *cert_der; /* borrowed: device certificate */
    size_t cert_len;
    const uint8_t *signer_der; /* borrowed, may be NULL: sent as chain */
    size_t signer_len;
    const char *host;
    int port;
    const char *ca_file; /* the endpoint's root CA (PEM) */
    int keepalive;       /* seconds; 10 like the firmware */
    double publish_every; /* seconds; 3 like the firmware */
    FILE *log;           /* console lines, NULL for none */
};

/* Counters a runner reads; monotonic over the device's life. */
struct tc_device_stats {
    long connects;
    long refused;
    long disconnects;
    long published;
    long received;
    long errors;
    long cycles;         /* publish rounds done */
    double last_publish; /* monotonic time of the last round */
    int connected;
    int blinking;
};

/* Create a device (copies what it needs from opts). */
int tc_device_new(const struct tc_device_opts *opts, struct tc_device **out,
                  struct tc_detail *d);
void tc_device_free(struct tc_device *dev);

/* Begin connecting (asynchronous). */
int tc_device_start(struct tc_device *dev, struct tc_detail *d);

/*
 * The socket to poll (-1 while disconnected) and the events wanted.
 * After poll, call tc_device_service with the returned revents (0 on a
 * timeout); it also runs timers: publishing, blinking, reconnecting.
 */
int tc_device_fd(const struct tc_device *dev, short *events);
void tc_device_service(struct tc_device *dev, short revents, double now);

/* When tc_device_service next needs to run, in monotonic seconds. */
double tc_device_next_deadline(const struct tc_device *dev);

/* Disconnect cleanly (DISCONNECT packet) and stop reconnecting. */
void tc_device_stop(struct tc_device *dev);

const struct tc_device_stats *tc_device_stats(const struct tc_device *dev);

/* libmosquitto's global init and cleanup, once per process. */
void tc_device_lib_init(void);
void tc_device_lib_cleanup(void);

#endif
