// SPDX-License-Identifier: Apache-2.0
/*
 * The virtual ATECC608 through its own packets: every command, every
 * refusal with the status byte the chip sends, and the chip image file.
 * Signatures and shared secrets are checked with OpenSSL.
 */
#include <stdlib.h>
#include <sys/stat.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "../../../src/atca/chip_internal.h"
#include "../test.h"
#include "thingcore/chip.h"
#include "thingcore/ec.h"
#include "thingcore/se.h"
#include "thingcore/util.h"

static const uint8_t test_sn[9] = {0x01, 0x23, 0x45, 0x67, 0x89,
                                   0xAB, 0xCD, 0xEF, 0x01};

/* Send one raw command to an awake chip; returns the response length. */
static size_t
raw(struct tc_chip *chip, uint8_t op, uint8_t p1, uint16_t p2,
    const uint8_t *data, size_t n, uint8_t *rsp)
{
    uint8_t cmd[TC_ATCA_CMD_MAX];
    uint8_t w[4];
    size_t len = tc_atca_build_cmd(cmd, op, p1, p2, data, n);

    tc_chip_wake(chip, w);
    return tc_chip_execute(chip, cmd, len, rsp);
}

/* The status byte of a status-only response, or -1. */
static int
raw_status(struct tc_chip *chip, uint8_t op, uint8_t p1, uint16_t p2,
           const uint8_t *data, size_t n)
{
    uint8_t rsp[TC_ATCA_RSP_MAX];
    size_t len = raw(chip, op, p1, p2, data, n, rsp);

    return len == 4 ? rsp[1] : -1;
}

/* A chip configured as Trust&GO with the config zone locked. */
static struct tc_chip *
configured_chip(struct tc_se **se_out)
{
    struct tc_chip *chip = tc_chip_new(test_sn);
    struct tc_se *se = tc_se_from_chip(chip);

    if (tc_se_configure_trustngo(se, NULL) != TC_OK ||
        tc_se_lock_zone(se, 0, tc_chip_lock_crc(chip, 0), NULL) != TC_OK) {
        tc_se_close(se);
        tc_chip_free(chip);
        return NULL;
    }
    *se_out = se;
    return chip;
}

/* Configured, keys in slots 0-4, slot 8 and 10 written, data locked. */
static struct tc_chip *
provisioned_chip(struct tc_se **se_out, uint8_t *pub0)
{
    struct tc_se *se = NULL;
    struct tc_chip *chip = configured_chip(&se);
    uint8_t pub[64];
    uint8_t blob[72];
    unsigned slot;

    if (chip == NULL) {
        return NULL;
    }
    memset(blob, 0x5A, sizeof(blob));
    for (slot = 0; slot < 5; slot++) {
        if (tc_se_genkey(se, slot, slot == 0 ? pub0 : pub, NULL) != TC_OK) {
            goto fail;
        }
    }
    if (tc_se_write(se, TC_ATCA_ZONE_DATA, 10, 0, blob, 72, NULL) != TC_OK ||
        tc_se_lock_zone(se, 1, tc_chip_lock_crc(chip, 1), NULL) != TC_OK) {
        goto fail;
    }
    *se_out = se;
    return chip;
fail:
    tc_se_close(se);
    tc_chip_free(chip);
    return NULL;
}

static int
openssl_verify(const uint8_t *pub, const uint8_t *digest, const uint8_t *rs)
{
    EVP_PKEY *pkey = tc_ec_pubkey_from_xy(pub);
    int rc = pkey != NULL ? tc_ec_verify_digest(pkey, digest, rs)
                          : TC_ERR_CRYPTO;

    EVP_PKEY_free(pkey);
    return rc == TC_OK;
}

TC_TEST(chip_blank_identity_and_random_pattern)
{
    struct tc_chip *chip = tc_chip_new(test_sn);
    struct tc_se *se = tc_se_from_chip(chip);
    struct tc_se_locks locks;
    uint8_t rev[4];
    uint8_t sn[9];
    uint8_t r[32];

    CHECK_EQ_INT(tc_se_info(se, rev, NULL), TC_OK);
    CHECK_EQ_MEM(rev, "\x00\x00\x60\x02", 4);
    CHECK_EQ_INT(tc_se_read_serial(se, sn, NULL), TC_OK);
    CHECK_EQ_MEM(sn, test_sn, 9);
    CHECK_EQ_INT(tc_se_lock_status(se, &locks, NULL), TC_OK);
    CHECK_EQ_INT(locks.config_locked, 0);
    CHECK_EQ_INT(locks.data_locked, 0);
    CHECK_EQ_INT(locks.slot_locked, 0);

    /* an unconfigured part answers the fixed pattern */
    CHECK_EQ_INT(tc_se_random(se, r, NULL), TC_OK);
    CHECK_EQ_MEM(r, "\xff\xff\x00\x00\xff\xff\x00\x00", 8);
    tc_se_close(se);
    tc_chip_free(chip);
}

TC_TEST(chip_config_lock_checks_crc_and_freezes_config)
{
    struct tc_chip *chip = tc_chip_new(test_sn);
    struct tc_se *se = tc_se_from_chip(chip);
    uint16_t crc;
    uint8_t word[4] = {1, 2, 3, 4};
    struct tc_detail d;

    CHECK_EQ_INT(tc_se_configure_trustngo(se, NULL), TC_OK);
    /* serial number and revision are never writable */
    CHECK_EQ_INT(raw_status(chip, TC_ATCA_OP_WRITE, 0, 0x0001, word, 4),
                 TC_ATCA_ST_EXECUTION);
    /* lock bytes only change through Lock */
    CHECK_EQ_INT(raw_status(chip, TC_ATCA_OP_WRITE, 0, 21, word, 4),
                 TC_ATCA_ST_EXECUTION);
    /* data and OTP stay closed until the config is locked */
    CHECK_EQ_INT(raw_status(chip, TC_ATCA_OP_WRITE, 2, 0x0040, word, 4),
                 TC_ATCA_ST_EXECUTION);
    CHECK_EQ_INT(raw_status(chip, TC_ATCA_OP_WRITE, 1, 0, word, 4),
                 TC_ATCA_ST_EXECUTION);
    CHECK_EQ_INT(raw_status(chip, TC_ATCA_OP_LOCK, 0x01, 0, NULL, 0),
                 TC_ATCA_ST_EXECUTION);
    CHECK_EQ_INT(raw_status(chip, TC_ATCA_OP_GENKEY, 0x04, 0, NULL, 0),
                 TC_ATCA_ST_EXECUTION);

    crc = tc_chip_lock_crc(chip, 0);
    CHECK_EQ_INT(tc_se_lock_zone(se, 0, crc ^ 1, &d), TC_ERR_ATCA_MISCOMPARE);
    CHECK_EQ_INT(tc_se_lock_zone(se, 0, crc, NULL), TC_OK);
    CHECK_EQ_INT(tc_se_lock_zone(se, 0, crc, &d), TC_ERR_ATCA_EXECUTION);
    CHECK(strstr(d.text, "Lock") != NULL);
    CHECK_EQ_INT(raw_status(chip, TC_ATCA_OP_WRITE, 0, 0x0005, word, 4),
                 TC_ATCA_ST_EXECUTION);
    tc_se_close(se);
    tc_chip_free(chip);
}

TC_TEST(chip_keys_are_generated_inside_and_never_read)
{
    struct tc_se *se = NULL;
    struct tc_chip *chip = configured_chip(&se);
    uint8_t pub[64];
    uint8_t again[64];
    uint8_t buf[36];
    uint8_t word[4] = {0};
    struct tc_detail d;

    CHECK(chip != NULL);
    CHECK_EQ_INT(tc_se_genkey(se, 0, pub, NULL), TC_OK);
    CHECK_EQ_INT(tc_se_pubkey(se, 0, again, NULL), TC_OK);
    CHECK_EQ_MEM(pub, again, 64);
    /* no key yet, not a key slot, no such slot */
    CHECK_EQ_INT(tc_se_pubkey(se, 2, again, &d), TC_ERR_ATCA_EXECUTION);
    CHECK_EQ_INT(tc_se_genkey(se, 5, again, &d), TC_ERR_ATCA_EXECUTION);
    CHECK_EQ_INT(raw_status(chip, TC_ATCA_OP_GENKEY, 0x04, 16, NULL, 0),
                 TC_ATCA_ST_PARSE);
    CHECK_EQ_INT(raw_status(chip, TC_ATCA_OP_GENKEY, 0x10, 0, NULL, 0),
                 TC_ATCA_ST_PARSE);
    /* a key enters a private slot only through GenKey */
    CHECK_EQ_INT(raw_status(chip, TC_ATCA_OP_WRITE, 2, 0x0000, word, 4),
                 TC_ATCA_ST_EXECUTION);
    /* nothing in the data zone is readable before the data lock */
    CHECK_EQ_INT(tc_se_read(se, TC_ATCA_ZONE_DATA, 8, 0, buf, 4, &d),
                 TC_ERR_ATCA_EXECUTION);
    CHECK_EQ_INT(tc_se_read(se, TC_ATCA_ZONE_OTP, 0, 0, buf, 4, &d),
                 TC_ERR_ATCA_EXECUTION);
    CHECK_EQ_INT(tc_se_lock_zone(se, 1, -1, NULL), TC_OK);
    /* slot 0 holds a private key: unreadable in any size */
    CHECK_EQ_INT(tc_se_read(se, TC_ATCA_ZONE_DATA, 0, 0, buf, 36, &d),
                 TC_ERR_ATCA_EXECUTION);
    CHECK_EQ_INT(tc_se_read(se, TC_ATCA_ZONE_DATA, 0, 32, buf, 4, &d),
                 TC_ERR_ATCA_EXECUTION);
    /* slot 6 is secret */
    CHECK_EQ_INT(tc_se_read(se, TC_ATCA_ZONE_DATA, 6, 0, buf, 4, &d),
                 TC_ERR_ATCA_EXECUTION);
    /* slot 0 is permanent after the lock; slots 2-4 may be regenerated */
    CHECK_EQ_INT(tc_se_genkey(se, 0, again, &d), TC_ERR_ATCA_EXECUTION);
    CHECK_EQ_INT(tc_se_genkey(se, 2, again, NULL), TC_OK);
    tc_se_close(se);
    tc_chip_free(chip);
}

TC_TEST(chip_data_lock_crc_and_slot_permissions)
{
    struct tc_se *se = NULL;
    struct tc_chip *chip = configured_chip(&se);
    struct tc_se_locks locks;
    uint8_t blob[416];
    uint8_t back[416];
    uint8_t word[4] = {9, 9, 9, 9};
    struct tc_detail d;
    size_t i;

    CHECK(chip != NULL);
    for (i = 0; i < sizeof(blob); i++) {
        blob[i] = (uint8_t)i;
    }
    CHECK_EQ_INT(tc_se_write(se, TC_ATCA_ZONE_DATA, 8, 0, blob, 416, NULL),
                 TC_OK);
    CHECK_EQ_INT(tc_se_write(se, TC_ATCA_ZONE_DATA, 5, 0, blob, 12, NULL),
                 TC_OK);
    CHECK_EQ_INT(tc_se_write(se, TC_ATCA_ZONE_OTP, 0, 0, blob, 64, NULL),
                 TC_OK);
    /* unaligned or out-of-slot writes are refused before any byte moves */
    CHECK_EQ_INT(tc_se_write(se, TC_ATCA_ZONE_DATA, 8, 2, blob, 4, &d),
                 TC_ERR_ARG);
    CHECK_EQ_INT(tc_se_write(se, TC_ATCA_ZONE_DATA, 9, 64, blob, 12, &d),
                 TC_ERR_ARG);
    CHECK_EQ_INT(raw_status(chip, TC_ATCA_OP_WRITE, 0x82, 0x0140, blob, 32),
                 TC_ATCA_ST_SUCCESS);
    /* slot 9 has 72 bytes: block 2 holds only 8 of a 32-byte write */
    CHECK_EQ_INT(raw_status(chip, TC_ATCA_OP_WRITE, 0x82, 0x0248, blob, 32),
                 TC_ATCA_ST_PARSE);
    /* slot 8 block 1 was rewritten with bytes 0..31: keep the copy true */
    memcpy(blob + 32, blob, 32);

    CHECK_EQ_INT(tc_se_lock_zone(se, 1, tc_chip_lock_crc(chip, 1) ^ 0x100,
                                 &d),
                 TC_ERR_ATCA_MISCOMPARE);
    CHECK_EQ_INT(tc_se_lock_zone(se, 1, tc_chip_lock_crc(chip, 1), NULL),
                 TC_OK);
    CHECK_EQ_INT(tc_se_lock_status(se, &locks, NULL), TC_OK);
    CHECK_EQ_INT(locks.data_locked, 1);
    CHECK_EQ_INT(tc_se_read(se, TC_ATCA_ZONE_DATA, 8, 0, back, 416, NULL),
                 TC_OK);
    CHECK_EQ_MEM(back, blob, 416);
    /* an unaligned read across words comes back exact */
    CHECK_EQ_INT(tc_se_read(se, TC_ATCA_ZONE_DATA, 8, 3, back, 7, NULL),
                 TC_OK);
    CHECK_EQ_MEM(back, blob + 3, 7);
    CHECK_EQ_INT(tc_se_read(se, TC_ATCA_ZONE_OTP, 0, 0, back, 64, NULL),
                 TC_OK);
    for (i = 0; i < 64; i++) {
        CHECK_EQ_INT(back[i], i);
    }
    /* slot 5 (EUI-48) is write-never after the lock; slot 8 stays open */
    CHECK_EQ_INT(tc_se_write(se, TC_ATCA_ZONE_DATA, 5, 0, word, 4, &d),
                 TC_ERR_ATCA_EXECUTION);
    CHECK_EQ_INT(tc_se_write(se, TC_ATCA_ZONE_DATA, 8, 0, word, 4, NULL),
                 TC_OK);
    CHECK_EQ_INT(tc_se_write(se, TC_ATCA_ZONE_OTP, 0, 0, word, 4, &d),
                 TC_ERR_ATCA_EXECUTION);
    /* slots 2-4 are lockable, slot 5 is not; a locked slot stays locked */
    CHECK_EQ_INT(tc_se_lock_slot(se, 5, &d), TC_ERR_ATCA_EXECUTION);
    CHECK_EQ_INT(tc_se_genkey(se, 3, back, NULL), TC_OK);
    CHECK_EQ_INT(tc_se_lock_slot(se, 3, NULL), TC_OK);
    CHECK_EQ_INT(tc_se_lock_slot(se, 3, &d), TC_ERR_ATCA_EXECUTION);
    CHECK_EQ_INT(tc_se_genkey(se, 3, back, &d), TC_ERR_ATCA_EXECUTION);
    CHECK_EQ_INT(tc_se_lock_status(se, &locks, NULL), TC_OK);
    CHECK_EQ_INT(locks.slot_locked, 1 << 3);
    tc_se_close(se);
    tc_chip_free(chip);
}

TC_TEST(chip_sign_verifies_with_openssl)
{
    struct tc_se *se = NULL;
    uint8_t pub[64];
    struct tc_chip *chip = provisioned_chip(&se, pub);
    uint8_t digest[32];
    uint8_t sig[64];
    struct tc_detail d;
    int i;

    CHECK(chip != NULL);
    for (i = 0; i < 20; i++) {
        CHECK(RAND_bytes(digest, 32) == 1);
        CHECK_EQ_INT(tc_se_sign(se, 0, digest, sig, NULL), TC_OK);
        CHECK(openssl_verify(pub, digest, sig));
        digest[0] ^= 1;
        CHECK(!openssl_verify(pub, digest, sig));
    }
    /* slot 1 signs only internally; slot 10 holds no key */
    CHECK_EQ_INT(tc_se_sign(se, 1, digest, sig, &d), TC_ERR_ATCA_EXECUTION);
    CHECK_EQ_INT(tc_se_sign(se, 10, digest, sig, &d), TC_ERR_ATCA_EXECUTION);
    /* no message loaded: the digest buffer was consumed by the last Sign */
    CHECK_EQ_INT(tc_se_sign(se, 0, digest, sig, NULL), TC_OK);
    CHECK_EQ_INT(raw_status(chip, TC_ATCA_OP_SIGN, 0xA0, 0, NULL, 0),
                 TC_ATCA_ST_EXECUTION);
    /* internal sign is not supported: parse error */
    CHECK_EQ_INT(raw_status(chip, TC_ATCA_OP_SIGN, 0x00, 0, NULL, 0),
                 TC_ATCA_ST_PARSE);
    tc_se_close(se);
    tc_chip_free(chip);
}

TC_TEST(chip_random_nonce_sets_tempkey_as_the_datasheet_says)
{
    struct tc_se *se = NULL;
    uint8_t pub[64];
    struct tc_chip *chip = provisioned_chip(&se, pub);
    uint8_t numin[20];
    uint8_t rsp[TC_ATCA_RSP_MAX];
    uint8_t msg[55];
    uint8_t tempkey[32];
    uint8_t sig[64];
    unsigned int len = 32;

    CHECK(chip != NULL);
    memset(numin, 0x33, sizeof(numin));
    CHECK_EQ_INT(raw(chip, TC_ATCA_OP_NONCE, 0x00, 0x0000, numin, 20, rsp),
                 35);
    memcpy(msg, rsp + 1, 32);
    memcpy(msg + 32, numin, 20);
    msg[52] = 0x16;
    msg[53] = 0x00;
    msg[54] = 0x00;
    CHECK(EVP_Digest(msg, sizeof(msg), tempkey, &len, EVP_sha256(), NULL));

    /* Sign mode 0x80 signs TempKey: the signature proves its value. */
    CHECK_EQ_INT(raw(chip, TC_ATCA_OP_SIGN, 0x80, 0, NULL, 0, rsp), 67);
    memcpy(sig, rsp + 1, 64);
    CHECK(openssl_verify(pub, tempkey, sig));
    /* random nonce needs exactly 20 bytes; pass-through 32 or 64 */
    CHECK_EQ_INT(raw_status(chip, TC_ATCA_OP_NONCE, 0x00, 0, numin, 19),
                 TC_ATCA_ST_PARSE);
    CHECK_EQ_INT(raw_status(chip, TC_ATCA_OP_NONCE, 0x03, 0, numin, 20),
                 TC_ATCA_ST_PARSE);
    CHECK_EQ_INT(raw_status(chip, TC_ATCA_OP_NONCE, 0x02, 0, numin, 20),
                 TC_ATCA_ST_PARSE);
    tc_se_close(se);
    tc_chip_free(chip);
}

TC_TEST(chip_verify_external)
{
    struct tc_se *se = NULL;
    uint8_t pub[64];
    struct tc_chip *chip = provisioned_chip(&se, pub);
    uint8_t digest[32] = {1, 2, 3};
    uint8_t sig[64];
    uint8_t bad_pub[64];
    struct tc_detail d;
    int valid = -1;

    CHECK(chip != NULL);
    CHECK_EQ_INT(tc_se_sign(se, 0, digest, sig, NULL), TC_OK);
    CHECK_EQ_INT(tc_se_verify(se, digest, sig, pub, &valid, NULL), TC_OK);
    CHECK_EQ_INT(valid, 1);
    sig[10] ^= 0x40;
    CHECK_EQ_INT(tc_se_verify(se, digest, sig, pub, &valid, NULL), TC_OK);
    CHECK_EQ_INT(valid, 0);
    /* a point off the curve cannot be used at all */
    memset(bad_pub, 0x11, sizeof(bad_pub));
    CHECK_EQ_INT(tc_se_verify(se, digest, sig, bad_pub, &valid, &d),
                 TC_ERR_ATCA_EXECUTION);
    tc_se_close(se);
    tc_chip_free(chip);
}

TC_TEST(chip_ecdh_matches_openssl)
{
    struct tc_se *se = NULL;
    uint8_t pub[64];
    struct tc_chip *chip = provisioned_chip(&se, pub);
    EVP_PKEY *peer = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    EVP_PKEY *chip_pub = tc_ec_pubkey_from_xy(pub);
    EVP_PKEY_CTX *ctx = NULL;
    uint8_t peer_xy[64];
    uint8_t secret[32];
    uint8_t expect[32];
    size_t n = sizeof(expect);
    struct tc_detail d;

    CHECK(chip != NULL && peer != NULL && chip_pub != NULL);
    CHECK_EQ_INT(tc_ec_pubkey_to_xy(peer, peer_xy), TC_OK);
    CHECK_EQ_INT(tc_se_ecdh(se, 0, peer_xy, secret, NULL), TC_OK);
    ctx = EVP_PKEY_CTX_new(peer, NULL);
    CHECK(ctx != NULL && EVP_PKEY_derive_init(ctx) > 0 &&
          EVP_PKEY_derive_set_peer(ctx, chip_pub) > 0 &&
          EVP_PKEY_derive(ctx, expect, &n) > 0);
    CHECK_EQ_MEM(secret, expect, 32);
    /* slot 1 does not allow ECDH */
    CHECK_EQ_INT(tc_se_ecdh(se, 1, peer_xy, secret, &d),
                 TC_ERR_ATCA_EXECUTION);
    EVP_PKEY_CTX_free(ctx);
    EVP_PKEY_free(peer);
    EVP_PKEY_free(chip_pub);
    tc_se_close(se);
    tc_chip_free(chip);
}

TC_TEST(chip_sha256_matches_openssl)
{
    static const size_t lengths[] = {0, 1, 63, 64, 65, 128, 200};
    struct tc_chip *chip = tc_chip_new(test_sn);
    struct tc_se *se = tc_se_from_chip(chip);
    uint8_t msg[200];
    uint8_t got[32];
    uint8_t want[32];
    size_t i;

    for (i = 0; i < sizeof(msg); i++) {
        msg[i] = (uint8_t)(i * 7);
    }
    for (i = 0; i < sizeof(lengths) / sizeof(lengths[0]); i++) {
        unsigned int n = 32;

        CHECK_EQ_INT(tc_se_sha256(se, msg, lengths[i], got, NULL), TC_OK);
        CHECK(EVP_Digest(msg, lengths[i], want, &n, EVP_sha256(), NULL));
        CHECK_EQ_MEM(got, want, 32);
    }
    /* update without start; an update that is not 64 bytes */
    CHECK_EQ_INT(raw_status(chip, TC_ATCA_OP_SHA, 0x01, 64, msg, 64),
                 TC_ATCA_ST_EXECUTION);
    CHECK_EQ_INT(raw_status(chip, TC_ATCA_OP_SHA, 0x00, 0, NULL, 0),
                 TC_ATCA_ST_SUCCESS);
    CHECK_EQ_INT(raw_status(chip, TC_ATCA_OP_SHA, 0x01, 32, msg, 32),
                 TC_ATCA_ST_PARSE);
    CHECK_EQ_INT(raw_status(chip, TC_ATCA_OP_SHA, 0x05, 0, NULL, 0),
                 TC_ATCA_ST_PARSE);
    tc_se_close(se);
    tc_chip_free(chip);
}

TC_TEST(chip_bad_packets_and_power_states)
{
    struct tc_chip *chip = tc_chip_new(test_sn);
    uint8_t cmd[TC_ATCA_CMD_MAX];
    uint8_t rsp[TC_ATCA_RSP_MAX];
    uint8_t w[4];
    uint8_t digest[32] = {0};
    size_t n = tc_atca_build_cmd(cmd, TC_ATCA_OP_INFO, 0, 0, NULL, 0);

    /* asleep: no answer at all */
    CHECK_EQ_INT(tc_chip_execute(chip, cmd, n, rsp), 0);
    CHECK_EQ_INT(tc_chip_wake(chip, w), 4);
    CHECK_EQ_MEM(w, "\x04\x11\x33\x43", 4);
    CHECK_EQ_INT(tc_chip_execute(chip, cmd, n, rsp), 7);
    cmd[n - 1] ^= 0xFF;
    CHECK_EQ_INT(tc_chip_execute(chip, cmd, n, rsp), 4);
    CHECK_EQ_MEM(rsp, "\x04\xff\x01\x42", 4);
    CHECK_EQ_INT(tc_chip_execute(chip, cmd, 3, rsp), 4);
    CHECK_EQ_INT(rsp[1], TC_ATCA_ST_PARSE);
    CHECK_EQ_INT(raw_status(chip, 0x7E, 0, 0, NULL, 0), TC_ATCA_ST_PARSE);
    CHECK_EQ_INT(raw_status(chip, TC_ATCA_OP_READ, 0x03, 0, NULL, 0),
                 TC_ATCA_ST_PARSE);
    CHECK_EQ_INT(raw_status(chip, TC_ATCA_OP_READ, 0x00, 0x0020, NULL, 0),
                 TC_ATCA_ST_PARSE);
    CHECK_EQ_INT(raw_status(chip, TC_ATCA_OP_INFO, 0x07, 0, NULL, 0),
                 TC_ATCA_ST_PARSE);

    /* idle keeps the message digest buffer, sleep clears it */
    CHECK_EQ_INT(raw_status(chip, TC_ATCA_OP_NONCE, 0x43, 0, digest, 32),
                 TC_ATCA_ST_SUCCESS);
    tc_chip_idle(chip);
    CHECK_EQ_INT(tc_chip_power(chip), TC_CHIP_IDLE);
    CHECK_EQ_INT(tc_chip_execute(chip, cmd, n, rsp), 0);
    CHECK_EQ_INT(raw(chip, TC_ATCA_OP_INFO, 0x02, 0, NULL, 0, rsp), 7);
    CHECK_EQ_INT(rsp[2], 0x80);
    tc_chip_sleep(chip);
    CHECK_EQ_INT(raw(chip, TC_ATCA_OP_INFO, 0x02, 0, NULL, 0, rsp), 7);
    CHECK_EQ_INT(rsp[2], 0x00);
    tc_chip_free(chip);
}

TC_TEST(chip_image_round_trip_keeps_keys_hidden)
{
    struct tc_se *se = NULL;
    uint8_t pub[64];
    struct tc_chip *chip = provisioned_chip(&se, pub);
    struct tc_chip *back = NULL;
    struct tc_se *se2;
    uint8_t key[32];
    uint8_t other[32];
    uint8_t digest[32] = {7};
    uint8_t sig[64];
    char path[300];
    struct tc_buf img;
    struct tc_detail d;
    struct stat st;
    const char *dir = tc_test_tmpdir();
    size_t i;

    CHECK(chip != NULL);
    CHECK_EQ_INT(tc_chip_folder_key(dir, 0, key, &d), TC_ERR_NOT_FOUND);
    CHECK_EQ_INT(tc_chip_folder_key(dir, 1, key, NULL), TC_OK);
    CHECK_EQ_INT(tc_chip_folder_key(dir, 0, other, NULL), TC_OK);
    CHECK_EQ_MEM(key, other, 32);
    snprintf(path, sizeof(path), "%s/chip.chip", dir);
    CHECK(tc_chip_dirty(chip));
    CHECK_EQ_INT(tc_chip_save(chip, path, key, NULL), TC_OK);
    CHECK(!tc_chip_dirty(chip));
    CHECK(stat(path, &st) == 0);
    CHECK_EQ_INT(st.st_mode & 0777, 0600);

    /* the private scalar of slot 0 appears nowhere in the file */
    tc_buf_init(&img, 4096);
    CHECK_EQ_INT(tc_file_read(path, &img, NULL), TC_OK);
    for (i = 0; i + 8 <= img.len; i++) {
        CHECK(memcmp(img.data + i, chip->data + 4, 8) != 0);
    }

    CHECK_EQ_INT(tc_chip_load(path, key, &back, NULL), TC_OK);
    se2 = tc_se_from_chip(back);
    CHECK_EQ_INT(tc_se_sign(se2, 0, digest, sig, NULL), TC_OK);
    CHECK(openssl_verify(pub, digest, sig));
    tc_se_close(se2);
    tc_chip_free(back);
    back = NULL;

    /* another folder's key, a flipped byte, a truncated file */
    other[0] ^= 1;
    CHECK_EQ_INT(tc_chip_load(path, other, &back, &d), TC_ERR_ATCA_BAD_IMAGE);
    img.data[100] ^= 1;
    CHECK_EQ_INT(tc_file_write_atomic(path, img.data, img.len, 0600, NULL),
                 TC_OK);
    CHECK_EQ_INT(tc_chip_load(path, key, &back, &d), TC_ERR_ATCA_BAD_IMAGE);
    CHECK(strstr(d.text, "integrity") != NULL);
    CHECK_EQ_INT(tc_file_write_atomic(path, img.data, 50, 0600, NULL), TC_OK);
    CHECK_EQ_INT(tc_chip_load(path, key, &back, &d), TC_ERR_ATCA_BAD_IMAGE);
    CHECK(back == NULL);
    tc_buf_clear(&img, 0);
    tc_se_close(se);
    tc_chip_free(chip);
}
