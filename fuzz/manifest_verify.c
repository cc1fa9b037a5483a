// SPDX-License-Identifier: Apache-2.0
/*
 * Fuzz target for the manifest splitter and verifier: the input is a whole
 * manifest file. The verifier trusts the vector root and accepts the vector
 * manifest signer (tests/vectors/manifest/gen.sh made both and the seed
 * corpus), so valid seeds reach the certificate checks. The time is fixed
 * so a run does not depend on the day.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "thingcore/manifest.h"

static const char root_pem[] =
    "-----BEGIN CERTIFICATE-----\n"
    "MIIByzCCAXGgAwIBAgIUdMF/IkF0yQdQho64KR/HAXcndEMwCgYIKoZIzj0EAwIw\n"
    "MjEVMBMGA1UECgwMVGVzdCBGYWN0b3J5MRkwFwYDVQQDDBBUZXN0IFJvb3QgQ0Eg\n"
    "MDAyMCAXDTI2MTIwMzE2MjMxNVoYDzIwNzYxMTIwMTYyMzE1WjAyMRUwEwYDVQQK\n"
    "DAxUZXN0IEZhY3RvcnkxGTAXBgNVBAMMEFRlc3QgUm9vdCBDQSAwMDIwWTATBgcq\n"
    "hkjOPQIBBggqhkjOPQMBBwNCAAT+5JQYXRYzjigN+v3esERVvHtm5XgBPmVDjdHg\n"
    "B8ljMYu7c6HDrNpuOHJIY9JpMg9wOU8DtvdZZgUG2On7mYvMo2MwYTAdBgNVHQ4E\n"
    "FgQU6Iw8ZLGfIOt1yIrGo2q9ccnYLoIwHwYDVR0jBBgwFoAU6Iw8ZLGfIOt1yIrG\n"
    "o2q9ccnYLoIwDwYDVR0TAQH/BAUwAwEB/zAOBgNVHQ8BAf8EBAMCAQYwCgYIKoZI\n"
    "zj0EAwIDSAAwRQIgRrOw0GC/zHmKass6lfX8H4vy3+yfStL0uM+bJrOfHf8CIQC0\n"
    "38ePmFG/4vb5j1PO+coAa9cqr3+iU0V0r5dGHoohdw==\n"
    "-----END CERTIFICATE-----\n";

static const char signer_pem[] =
    "-----BEGIN CERTIFICATE-----\n"
    "MIIBpTCCAUugAwIBAgIQcowLgCyc1flo+RvxtFalzjAKBggqhkjOPQQDAjAhMR8w\n"
    "HQYDVQQDDBZ2ZWN0b3IgbWFuaWZlc3Qgc2lnbmVyMCAXDTI2MTIwMzE2MjMxNloY\n"
    "DzIwNzYwMzE1MTYyMzE2WjAhMR8wHQYDVQQDDBZ2ZWN0b3IgbWFuaWZlc3Qgc2ln\n"
    "bmVyMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEJBUAS6YvDYGkjkIeRX3kih8b\n"
    "UMbN6w7GbYjEC20WqvzN17Tn0FfuG2UDgslFy4TQv3gK6i5vNgRldOcvDdVaUqNj\n"
    "MGEwDwYDVR0TAQH/BAUwAwEB/zAOBgNVHQ8BAf8EBAMCAYYwHQYDVR0OBBYEFJPX\n"
    "wbLuWmO1ZCxK4oCXUuHkF21XMB8GA1UdIwQYMBaAFJPXwbLuWmO1ZCxK4oCXUuHk\n"
    "F21XMAoGCCqGSM49BAMCA0gAMEUCIQD/yJ9z9bIs0gK5zASg4WfW9XEdmZelxSAH\n"
    "n6Mo7O8eUgIgMg9K5I7V8KRTWQK3UkTKLXFKO8Pdq9HNoeOkAHJNCAI=\n"
    "-----END CERTIFICATE-----\n";

/* Count what came back so the results are used. */
static int
on_result(void *ctx, const struct tc_manifest_result *r)
{
    size_t *n = ctx;

    *n += r->err == TC_OK ? r->device_len : 1;
    return TC_OK;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct tc_manifest_verifier *v;
    size_t n = 0;

    if (v == NULL) {
        if (tc_manifest_verifier_new(&v) != TC_OK ||
            tc_manifest_verifier_add_signer(v, (const uint8_t *)signer_pem,
                                            strlen(signer_pem),
                                            NULL) != TC_OK ||
            tc_manifest_verifier_add_trust(v, (const uint8_t *)root_pem,
                                           strlen(root_pem), NULL) != TC_OK) {
            __builtin_trap();
        }
        /* 2030-01-01T00:00:00Z */
        tc_manifest_verifier_set_time(v, 1893456000);
    }
    tc_manifest_verify_mem(v, (const char *)data, size, on_result, &n, NULL,
                           NULL);
    return 0;
}
