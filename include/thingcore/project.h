/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A firmware project folder shaped like the lesson's Blinky-Hello-World:
 * an ESP-IDF style sdkconfig.defaults holding the MQTT endpoint
 * (CONFIG_AWS_IOT_MQTT_HOST="...", CONFIG_AWS_IOT_MQTT_PORT=...) and the
 * endpoint's root CA at main/certs/aws-root-ca.pem. `thingcore register`
 * writes it, `thingcore device run` reads it.
 *
 * sdkconfig grammar accepted (one setting per line):
 *   line    := blank | "#" comment | NAME "=" value
 *   NAME    := "CONFIG_" [A-Z0-9_]+
 *   value   := "" | quoted | bare
 *   quoted  := '"' ( any but '"' and '\' | '\' any )* '"'
 *   bare    := [^ \t"]+    (numbers, y, n)
 *
 * Limitations: only the settings thingcore uses are interpreted; every
 * other line is kept byte for byte when the file is rewritten.
 */
#ifndef THINGCORE_PROJECT_H
#define THINGCORE_PROJECT_H

#include <stddef.h>

#include "thingcore/err.h"

#define TC_PROJECT_SDKCONFIG "sdkconfig.defaults"
#define TC_PROJECT_ROOT_CA "main/certs/aws-root-ca.pem"
#define TC_PROJECT_HOST_KEY "CONFIG_AWS_IOT_MQTT_HOST"
#define TC_PROJECT_PORT_KEY "CONFIG_AWS_IOT_MQTT_PORT"
#define TC_PROJECT_MAX 65536

struct tc_project {
    char host[256]; /* "" when the firmware has no endpoint yet */
    int port;       /* 8883 when not set */
    char root_ca[4096]; /* path of the root CA file */
};

/*
 * Find name's value in an sdkconfig text (n bytes, borrowed), unquoted
 * into out (cap bytes). TC_ERR_NOT_FOUND when absent; TC_ERR_PARSE names
 * the line of a malformed setting in d.
 */
int tc_sdkconfig_get(const char *text, size_t n, const char *name, char *out,
                     size_t cap, struct tc_detail *d);

/* Read the project in dir. */
int tc_project_read(const char *dir, struct tc_project *p,
                    struct tc_detail *d);

/* What tc_project_set_endpoint changed, for the person running it. */
struct tc_project_changes {
    char old_host[256];
    int old_port;
    int host_changed;
    int port_changed;
    int ca_changed;
    int removed_sdkconfig; /* a stale sdkconfig hid sdkconfig.defaults */
    int removed_build;     /* .pio / build folders with the old endpoint */
};

/*
 * Point the firmware at host:port with root CA ca_pem (NUL-terminated):
 * rewrite the two settings in sdkconfig.defaults (whatever their old
 * value, adding them when missing), write the root CA, and remove the
 * generated sdkconfig and the .pio and build folders that would keep the
 * old endpoint. Each file is replaced atomically.
 */
int tc_project_set_endpoint(const char *dir, const char *host, int port,
                            const char *ca_pem,
                            struct tc_project_changes *changes,
                            struct tc_detail *d);

#endif
