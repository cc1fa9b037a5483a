// SPDX-License-Identifier: Apache-2.0
/*
 * Fuzz target: the compressed-certificate decoder. Input is 72 bytes of
 * compressed certificate, then optionally 128 bytes of subject and issuer
 * public keys. A decoded form must encode back to the same bytes (byte 71
 * aside, which format 0 reserves), and a rebuild from it must either fail
 * with a code or produce a certificate its template extracts again.
 */
#include <stdlib.h>
#include <string.h>

#include "thingcore/cert.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct tc_cert_compressed c;
    struct tc_cert_compressed again;
    struct tc_cert_inputs in;
    int k;

    if (size < TC_CERT_COMPRESSED_LEN) {
        return 0;
    }
    if (tc_cert_compressed_decode(data, &c, NULL) != TC_OK) {
        return 0;
    }
    again = c;
    if (tc_cert_compressed_encode(&again, NULL) != TC_OK ||
        memcmp(again.raw, data, TC_CERT_COMPRESSED_LEN - 1) != 0) {
        abort();
    }

    memset(&in, 0, sizeof(in));
    if (size >= TC_CERT_COMPRESSED_LEN + 128) {
        memcpy(in.pubkey, data + TC_CERT_COMPRESSED_LEN, 64);
        memcpy(in.ca_pubkey, data + TC_CERT_COMPRESSED_LEN + 64, 64);
    }
    memcpy(in.eui48, "0004A3123456", 13);
    for (k = 0; k < TC_CERT_KIND_COUNT; k++) {
        const struct tc_cert_template *t = tc_cert_template_get(k);
        uint8_t der[TC_CERT_DER_MAX];
        struct tc_cert_fields f;
        size_t n = 0;

        if (tc_cert_rebuild(t, &c, &in, der, sizeof(der), &n, NULL) !=
            TC_OK) {
            continue;
        }
        if (n > sizeof(der) || tc_cert_extract(t, der, n, &f, NULL) != TC_OK ||
            memcmp(f.signature, c.signature, 64) != 0) {
            abort();
        }
    }
    return 0;
}
