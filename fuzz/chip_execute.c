// SPDX-License-Identifier: Apache-2.0
/*
 * Fuzz target: the chip's command dispatcher. The input is a sequence of
 * packets, each preceded by one length byte (a byte of 0 stands for wake,
 * 1 idle, 2 sleep), run against a provisioned Trust&GO chip. Every answer
 * must be a well-formed response, and no answer may contain a private key.
 */
#include <stdlib.h>
#include <string.h>

#include "../src/atca/chip_internal.h"
#include "thingcore/chip.h"
#include "thingcore/se.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint8_t fuzz_sn[9] = {0x01, 0x23, 1, 2, 3, 4, 5, 6, 0x01};

static struct tc_chip *
provisioned(void)
{
    struct tc_chip *chip = tc_chip_new(fuzz_sn);
    struct tc_se *se = tc_se_from_chip(chip);
    uint8_t pub[64];
    unsigned slot;

    tc_se_configure_trustngo(se, NULL);
    tc_se_lock_zone(se, 0, -1, NULL);
    for (slot = 0; slot < 5; slot++) {
        tc_se_genkey(se, slot, pub, NULL);
    }
    tc_se_lock_zone(se, 1, -1, NULL);
    tc_se_close(se);
    return chip;
}

/* The chip is rebuilt per input so inputs stay independent. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct tc_chip *proto;
    struct tc_chip *chip;
    size_t at = 0;
    uint8_t rsp[TC_ATCA_RSP_MAX];
    uint8_t w[4];

    if (proto == NULL) {
        proto = provisioned();
    }
    chip = tc_chip_new(fuzz_sn);
    memcpy(chip->config, proto->config, sizeof(chip->config));
    memcpy(chip->data, proto->data, sizeof(chip->data));
    chip->key_valid = proto->key_valid;
    tc_chip_wake(chip, w);

    while (at < size) {
        size_t len = data[at++];
        const uint8_t *p;
        size_t n;
        const uint8_t *payload;
        size_t plen;
        unsigned slot;

        if (len <= 2) {
            if (len == 0) {
                tc_chip_wake(chip, w);
            } else if (len == 1) {
                tc_chip_idle(chip);
            } else {
                tc_chip_sleep(chip);
            }
            continue;
        }
        if (len > size - at) {
            len = size - at;
        }
        n = tc_chip_execute(chip, data + at, len, rsp);
        at += len;
        if (n == 0) {
            continue;
        }
        if (n > TC_ATCA_RSP_MAX ||
            (tc_atca_parse_rsp(rsp, n, &payload, &plen) != TC_OK &&
             n != 4)) {
            abort();
        }
        for (slot = 0; slot < 5; slot++) {
            p = chip->data + tc_atca_slot_offset(slot) + 4;
            if (n >= 32 + 1 && memmem(rsp, n, p, 32) != NULL) {
                abort();
            }
        }
    }
    tc_chip_free(chip);
    return 0;
}
