// SPDX-License-Identifier: Apache-2.0
/*
 * Fuzz target for the just-in-time provisioning template evaluator: any
 * bytes as a template body, evaluated for a fixed Trust&GO-shaped
 * certificate. It must never crash, leak or overrun, whatever the
 * nesting, lists or string sizes; a plan it returns is always freeable.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "thingcore/broker.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct tc_jitp_params p;
    struct tc_jitp_plan plan;
    struct tc_detail d;

    memset(&p, 0, sizeof(p));
    p.common_name = "sn0123456789ABCDEF01";
    p.id = "5f0e7a3c9d2b41e8a6c0f1d2e3b4a5968778695a4b3c2d1e0f9e8d7c6b5a4938";
    p.organization = "Microchip Technology Inc";
    p.serial_number = "0123456789ABCDEF01";
    if (tc_jitp_evaluate((const char *)data, size, &p, &plan, &d) == TC_OK) {
        tc_jitp_plan_clear(&plan);
    }
    return 0;
}
