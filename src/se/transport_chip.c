// SPDX-License-Identifier: Apache-2.0
/*
 * The in-process transport: packets go straight to a tc_chip in this
 * process, with the same framing a bus would carry. Used by the factory,
 * which makes chips before any daemon serves them, and by tests.
 */
#include <string.h>

#include "thingcore/chip.h"
#include "thingcore/se.h"

static int
chip_wake(void *ctx, uint8_t *rsp4, struct tc_detail *d)
{
    tc_chip_wake(ctx, rsp4);
    return TC_OK;
}

static int
chip_idle(void *ctx, struct tc_detail *d)
{
    tc_chip_idle(ctx);
    return TC_OK;
}

static int
chip_sleep(void *ctx, struct tc_detail *d)
{
    tc_chip_sleep(ctx);
    return TC_OK;
}

static int
chip_xfer(void *ctx, const uint8_t *cmd, size_t n, uint8_t *rsp, size_t cap,
          size_t *rsp_len, unsigned exec_ms, struct tc_detail *d)
{
    uint8_t out[TC_ATCA_RSP_MAX];
    size_t len = tc_chip_execute(ctx, cmd, n, out);

    if (len == 0) {
        return tc_detail_set(d, TC_ERR_ATCA_NO_DEVICE, -1, NULL,
                             "the chip is not awake");
    }
    if (len > cap) {
        return TC_ERR_TOO_BIG;
    }
    memcpy(rsp, out, len);
    *rsp_len = len;
    return TC_OK;
}

static void
chip_close(void *ctx)
{
}

static const struct tc_se_transport chip_transport = {
    "chip", chip_wake, chip_idle, chip_sleep, chip_xfer, chip_close, NULL,
};

struct tc_se *
tc_se_from_chip(struct tc_chip *chip)
{
    return tc_se_from_transport(&chip_transport, chip);
}
