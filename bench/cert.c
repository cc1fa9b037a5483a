// SPDX-License-Identifier: Apache-2.0
/*
 * Benchmark: device certificates issued per second (template fill plus an
 * ECDSA P-256 signature by the signer CA) and rebuilt per second (decode
 * the 72 bytes, derive serial number and key ids, fill the template),
 * over a set of pre-made chip keys. Prints its figures; asserts nothing
 * about time.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "thingcore/cert.h"
#include "thingcore/util.h"

#define CHIPS 500

int
main(int argc, char **argv)
{
    static struct tc_cert_inputs in[CHIPS];
    static struct tc_cert_compressed comp[CHIPS];
    static uint8_t issued[CHIPS][TC_CERT_DER_MAX];
    static size_t issued_len[CHIPS];
    const struct tc_cert_template *t = tc_cert_template_get(TC_CERT_DEVICE_3);
    const struct tc_cert_date when = {2024, 3, 7, 10};
    const uint8_t signer_id[2] = {0xF6, 0x20};
    EVP_PKEY *signer = NULL;
    uint8_t signer_pub[64];
    int rounds = argc > 1 ? atoi(argv[1]) : 20;
    double t0;
    double t1;
    long n = 0;
    int i;
    int r;

    if (rounds < 1) {
        rounds = 1;
    }
    if (tc_cert_key_generate(&signer, NULL) != TC_OK ||
        tc_cert_key_public(signer, signer_pub, NULL) != TC_OK) {
        fprintf(stderr, "bench cert: key generation failed\n");
        return 1;
    }

    /* Chips: a key each (kept public only), serial number, EUI-48. */
    for (i = 0; i < CHIPS; i++) {
        EVP_PKEY *k = NULL;

        if (tc_cert_key_generate(&k, NULL) != TC_OK ||
            tc_cert_key_public(k, in[i].pubkey, NULL) != TC_OK) {
            return 1;
        }
        EVP_PKEY_free(k);
        memcpy(in[i].ca_pubkey, signer_pub, 64);
        in[i].sn[0] = 0x01;
        in[i].sn[1] = 0x23;
        in[i].sn[7] = (uint8_t)i;
        snprintf(in[i].eui48, sizeof(in[i].eui48), "0004A3%06X", i);
    }

    t0 = tc_monotonic();
    for (i = 0; i < CHIPS; i++) {
        if (tc_cert_issue(t, &in[i], signer_id, &when, signer, issued[i],
                          TC_CERT_DER_MAX, &issued_len[i], &comp[i],
                          NULL) != TC_OK) {
            fprintf(stderr, "bench cert: issue failed\n");
            return 1;
        }
    }
    t1 = tc_monotonic();
    printf("cert issue:   %8.0f certificates/s (%d in %.3f s)\n",
           CHIPS / (t1 - t0), CHIPS, t1 - t0);

    t0 = tc_monotonic();
    for (r = 0; r < rounds; r++) {
        for (i = 0; i < CHIPS; i++) {
            struct tc_cert_compressed c;
            uint8_t der[TC_CERT_DER_MAX];
            size_t len = 0;

            if (tc_cert_compressed_decode(comp[i].raw, &c, NULL) != TC_OK ||
                tc_cert_rebuild(t, &c, &in[i], der, sizeof(der), &len,
                                NULL) != TC_OK ||
                len != issued_len[i] || memcmp(der, issued[i], len) != 0) {
                fprintf(stderr, "bench cert: rebuild differs\n");
                return 1;
            }
            n++;
        }
    }
    t1 = tc_monotonic();
    printf("cert rebuild: %8.0f certificates/s (%ld in %.3f s)\n",
           n / (t1 - t0), n, t1 - t0);
    EVP_PKEY_free(signer);
    return 0;
}
