/* SPDX-License-Identifier: Apache-2.0 */
/* The chip's state, shared by the command set and the image format. */
#ifndef THINGCORE_CHIP_INTERNAL_H
#define THINGCORE_CHIP_INTERNAL_H

#include <openssl/evp.h>

#include "thingcore/chip.h"

struct tc_chip {
    /* Non-volatile: saved in the chip image. */
    uint8_t config[TC_ATCA_CONFIG_SIZE];
    uint8_t otp[TC_ATCA_OTP_SIZE];
    uint8_t data[TC_ATCA_DATA_SIZE];
    uint16_t key_valid; /* bit n: slot n holds a generated private key */
    int simulated;

    /* Volatile: lost on sleep. */
    enum tc_chip_power power;
    uint8_t tempkey[64];
    int tempkey_valid;
    int tempkey_random;
    uint8_t mdb[64];
    int mdb_valid;
    uint8_t akb[64];
    EVP_MD_CTX *sha;

    /* Caches derived from the slots, never saved. */
    EVP_PKEY *pkey[TC_ATCA_SLOTS];
    EVP_PKEY_CTX *sign_ctx[TC_ATCA_SLOTS]; /* initialized for signing */
    uint8_t pub[TC_ATCA_SLOTS][TC_ATCA_PUBKEY_SIZE];
    int dirty;
};

#endif
