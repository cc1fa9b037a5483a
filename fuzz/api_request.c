// SPDX-License-Identifier: Apache-2.0
/*
 * Fuzz the API's request handling past authentication: the input is
 * "METHOD TARGET\n", header lines "Name: value\n", a blank line and the
 * body. The harness signs it with the data directory's key (unless the
 * input starts with '!', which sends it unsigned) and runs tc_api_handle
 * against a real registry in a temporary data directory, so routing,
 * query parsing, JSON bodies and every handler see hostile input.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "thingcore/api.h"
#include "thingcore/datadir.h"
#include "thingcore/sigv4.h"

static struct tc_datadir dd;
static struct tc_api *api;
static char dir[] = "/tmp/tc-fuzz-api.XXXXXX";

static void
teardown(void)
{
    char cmd[96];

    tc_api_free(api);
    tc_datadir_clear(&dd);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    if (system(cmd) != 0) {
        fprintf(stderr, "could not remove %s\n", dir);
    }
}

static int
setup(void)
{
    if (api != NULL) {
        return 1;
    }
    if (mkdtemp(dir) == NULL ||
        tc_datadir_create(dir, NULL, &dd, NULL, NULL) != TC_OK ||
        tc_api_new(&dd, NULL, &api, NULL) != TC_OK) {
        return 0;
    }
    atexit(teardown);
    return 1;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct tc_sigv4_header h[TC_API_HEADERS_MAX];
    struct tc_sigv4_request sr;
    struct tc_sigv4_signature sig;
    struct tc_api_request req;
    struct tc_api_response resp;
    char hash[65];
    char *text;
    char *p;
    char *line;
    char *method;
    char *target;
    char *body;
    size_t n = 0;
    int sign = 1;
    double now = 1709642096;

    if (!setup() || size > 1 << 20) {
        return 0;
    }
    text = malloc(size + 1);
    if (text == NULL) {
        return 0;
    }
    memcpy(text, data, size);
    text[size] = '\0';
    p = text;
    if (*p == '!') {
        sign = 0;
        p++;
    }

    /* Request line, headers, body. */
    line = p;
    p = strchr(p, '\n');
    if (p == NULL || strchr(line, ' ') == NULL) {
        free(text);
        return 0;
    }
    *p++ = '\0';
    method = line;
    target = strchr(line, ' ');
    *target++ = '\0';
    h[n].name = "host";
    h[n].value = "127.0.0.1:8443";
    n++;
    while (*p != '\0' && *p != '\n' && n < TC_API_HEADERS_MAX - 4) {
        char *nl = strchr(p, '\n');
        char *colon;

        if (nl == NULL) {
            break;
        }
        *nl = '\0';
        colon = strstr(p, ": ");
        if (colon != NULL) {
            *colon = '\0';
            h[n].name = p;
            h[n].value = colon + 2;
            n++;
        }
        p = nl + 1;
    }
    body = *p == '\n' ? p + 1 : p;

    if (sign) {
        char path[4096];
        const char *q = strchr(target, '?');
        size_t pl = q != NULL ? (size_t)(q - target) : strlen(target);

        if (pl >= sizeof(path)) {
            free(text);
            return 0;
        }
        memcpy(path, target, pl);
        path[pl] = '\0';
        tc_sigv4_sha256_hex(body, strlen(body), hash);
        sr.method = method;
        sr.path = path;
        sr.query = q != NULL ? q + 1 : NULL;
        sr.headers = h;
        sr.n_headers = n;
        sr.payload_hash = hash;
        if (tc_sigv4_sign(&sr, dd.access_key_id, dd.secret, dd.region,
                          "iot", (time_t)now, &sig, NULL) == TC_OK) {
            h[n].name = "X-Amz-Date";
            h[n].value = sig.amz_date;
            n++;
            h[n].name = "Authorization";
            h[n].value = sig.authorization;
            n++;
        }
    }
    memset(&req, 0, sizeof(req));
    req.method = method;
    req.target = target;
    req.headers = h;
    req.n_headers = n;
    req.body = body;
    req.body_len = strlen(body);
    req.now = now;
    tc_api_handle(api, &req, &resp);
    tc_api_response_clear(&resp);
    free(text);
    return 0;
}
