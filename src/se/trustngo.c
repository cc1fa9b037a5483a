// SPDX-License-Identifier: Apache-2.0
/*
 * The Trust&GO configuration a host writes into a blank ATECC608 before
 * locking its config zone: slot and key configuration and I2C address.
 * Only the config zone is touched; keys and certificates come later.
 */
#include "thingcore/se.h"

/*
 * The Trust&GO (ATECC608-TNGTLS) slot and key configuration, little-endian
 * SlotConfig then KeyConfig per slot (reference/trustngo-atecc608.md).
 */
static const uint8_t tng_slots[TC_ATCA_SLOTS][4] = {
    {0x85, 0x00, 0x53, 0x00}, {0x82, 0x00, 0x53, 0x00},
    {0x85, 0x20, 0x73, 0x00}, {0x85, 0x20, 0x73, 0x00},
    {0x85, 0x20, 0x73, 0x00}, {0x8f, 0x8f, 0x1c, 0x00},
    {0x8f, 0x0f, 0x7c, 0x00}, {0xaf, 0x8f, 0x3c, 0x00},
    {0x0f, 0x0f, 0x3c, 0x00}, {0x8f, 0x0f, 0x1a, 0x00},
    {0x0f, 0x8f, 0x1c, 0x00}, {0x0f, 0x8f, 0x10, 0x00},
    {0x0f, 0x8f, 0x1c, 0x00}, {0x00, 0x00, 0x3c, 0x00},
    {0x00, 0x00, 0x3c, 0x00}, {0xaf, 0x8f, 0x1c, 0x00},
};

int
tc_se_configure_trustngo(struct tc_se *se, struct tc_detail *d)
{
    uint8_t cfg[TC_ATCA_CONFIG_SIZE];
    int rc = tc_se_read_config(se, cfg, d);
    int i;

    if (rc != TC_OK) {
        return rc;
    }
    cfg[16] = 0x6A;
    for (i = 0; i < TC_ATCA_SLOTS; i++) {
        cfg[20 + 2 * i] = tng_slots[i][0];
        cfg[21 + 2 * i] = tng_slots[i][1];
        cfg[96 + 2 * i] = tng_slots[i][2];
        cfg[97 + 2 * i] = tng_slots[i][3];
    }

    /* Bytes 16-83 and 88-127: the serial, revision and lock bytes are not
     * the host's to write. */
    rc = tc_se_write(se, TC_ATCA_ZONE_CONFIG, 0, 16, cfg + 16, 84 - 16, d);
    if (rc == TC_OK) {
        rc = tc_se_write(se, TC_ATCA_ZONE_CONFIG, 0, 88, cfg + 88, 128 - 88,
                         d);
    }
    return rc;
}

