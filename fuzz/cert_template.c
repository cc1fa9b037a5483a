// SPDX-License-Identifier: Apache-2.0
/*
 * Fuzz target: the template filler and its inverse. The first byte picks
 * a template; the rest is a certificate to extract. Whatever extract
 * accepts, fill must write back byte for byte; and values extract gives
 * refill to the same values.
 */
#include <stdlib.h>
#include <string.h>

#include "thingcore/cert.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const struct tc_cert_template *t;
    struct tc_cert_fields f;
    struct tc_cert_fields g;
    uint8_t der[TC_CERT_DER_MAX];
    size_t n = 0;

    if (size < 1) {
        return 0;
    }
    t = tc_cert_template_get((enum tc_cert_kind)(data[0] %
                                                 TC_CERT_KIND_COUNT));
    if (tc_cert_extract(t, data + 1, size - 1, &f, NULL) != TC_OK) {
        return 0;
    }
    if (tc_cert_fill(t, &f, der, sizeof(der), &n, NULL) != TC_OK ||
        n != size - 1 || memcmp(der, data + 1, n) != 0) {
        abort();
    }
    if (tc_cert_extract(t, der, n, &g, NULL) != TC_OK ||
        memcmp(&f, &g, sizeof(f)) != 0) {
        abort();
    }
    return 0;
}
