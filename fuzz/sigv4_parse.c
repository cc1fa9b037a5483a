// SPDX-License-Identifier: Apache-2.0
/*
 * Fuzz SigV4 verification: the input is split on newlines into method,
 * path, query, Authorization, X-Amz-Date and one more header, which go
 * through the Authorization parser, the canonical request builder and
 * the constant-time comparison. Nothing may crash, leak or verify.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "thingcore/sigv4.h"

static int
lookup(void *arg, const char *key_id, char *secret, size_t cap)
{
    if (strcmp(key_id, "AKIAFUZZFUZZFUZZFUZZ") != 0) {
        return TC_ERR_NOT_FOUND;
    }
    strncpy(secret, "fuzzsecretfuzzsecretfuzzsecretfuzzsecret", cap - 1);
    secret[cap - 1] = '\0';
    return TC_OK;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    char *fields[6] = {"GET", "/", "", "", "20240305T123456Z", "x"};
    struct tc_sigv4_header h[4];
    struct tc_sigv4_request r;
    char canon[8192];
    char *p;
    int i;

    if (text == NULL) {
        return 0;
    }
    memcpy(text, data, size);
    text[size] = '\0';
    p = text;
    for (i = 0; i < 6 && p != NULL; i++) {
        char *nl = strchr(p, '\n');

        fields[i] = p;
        if (nl != NULL) {
            *nl = '\0';
            p = nl + 1;
        } else {
            p = NULL;
        }
    }
    h[0].name = "Host";
    h[0].value = "127.0.0.1:8443";
    h[1].name = "Authorization";
    h[1].value = fields[3];
    h[2].name = "X-Amz-Date";
    h[2].value = fields[4];
    h[3].name = "x-amzn-principal";
    h[3].value = fields[5];
    r.method = fields[0];
    r.path = fields[1];
    r.query = fields[2];
    r.headers = h;
    r.n_headers = 4;
    r.payload_hash =
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
    if (tc_sigv4_verify(&r, "us-east-1", lookup, NULL, 1709642096, 300,
                        NULL, NULL) == TC_OK) {
        /* A random input that verifies would mean a forgeable check. */
        abort();
    }
    tc_sigv4_canonical_request(&r, "host;x-amz-date;x-amzn-principal", canon,
                               sizeof(canon), NULL);
    free(text);
    return 0;
}
