// SPDX-License-Identifier: Apache-2.0
/*
 * The virtual ATECC608: zones, locks, slot permissions, private keys kept
 * in their slots, TempKey, the message digest buffer and the SHA context,
 * and the commands a host uses, executed on the chip's own packets.
 * Refusals answer the status byte the chip sends; nothing here ever returns
 * a private key. Persistence and the image format are in chip_image.c.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/obj_mac.h>
#include <openssl/param_build.h>
#include <openssl/rand.h>

#include "chip_internal.h"
#include "thingcore/ec.h"

/* Config zone offsets (ATECC608 datasheet, configuration zone map). */
#define CFG_REVNUM 4
#define CFG_I2C_ENABLE 14
#define CFG_I2C_ADDRESS 16
#define CFG_SLOT_CONFIG 20
#define CFG_COUNTERS 52
#define CFG_LOCK_VALUE 86
#define CFG_LOCK_CONFIG 87
#define CFG_SLOT_LOCKED 88
#define CFG_KEY_CONFIG 96
#define LOCK_UNLOCKED 0x55
#define LOCK_LOCKED 0x00

/* SlotConfig bits. */
#define SC_IS_SECRET 0x0080
#define SC_ENCRYPT_READ 0x0040
#define SC_EXT_SIGN 0x0001
#define SC_ECDH 0x0004
#define SC_ECDH_TO_NEXT 0x0008
#define SC_GENKEY_AFTER_LOCK 0x2000

/* KeyConfig bits. */
#define KC_PRIVATE 0x0001
#define KC_PUBINFO 0x0002
#define KC_LOCKABLE 0x0020
#define KEYTYPE_P256 4

/* A private key sits in the last 32 bytes of its 36-byte slot. */
#define PRIV_OFFSET 4
#define PRIV_SIZE 32

static const uint8_t revision[4] = {0x00, 0x00, 0x60, 0x02};
static const uint8_t wake_status[4] = {0x04, 0x11, 0x33, 0x43};

static void
drop_key_cache(struct tc_chip *chip, unsigned slot)
{
    EVP_PKEY_CTX_free(chip->sign_ctx[slot]);
    chip->sign_ctx[slot] = NULL;
    EVP_PKEY_free(chip->pkey[slot]);
    chip->pkey[slot] = NULL;
}

struct tc_chip *
tc_chip_new(const uint8_t *sn)
{
    struct tc_chip *chip = calloc(1, sizeof(*chip));

    if (chip == NULL) {
        return NULL;
    }

    /* Serial number and revision are fixed at the wafer. */
    memcpy(chip->config, sn, 4);
    memcpy(chip->config + CFG_REVNUM, revision, 4);
    memcpy(chip->config + 8, sn + 4, 5);
    chip->config[CFG_I2C_ENABLE] = 0x01;
    chip->config[CFG_I2C_ADDRESS] = 0xC0;

    /* Monotonic counters start at their erased value. */
    memset(chip->config + CFG_COUNTERS, 0xFF, 16);
    chip->config[CFG_LOCK_VALUE] = LOCK_UNLOCKED;
    chip->config[CFG_LOCK_CONFIG] = LOCK_UNLOCKED;
    chip->config[CFG_SLOT_LOCKED] = 0xFF;
    chip->config[CFG_SLOT_LOCKED + 1] = 0xFF;
    chip->power = TC_CHIP_SLEEP;
    chip->dirty = 1;
    return chip;
}

void
tc_chip_free(struct tc_chip *chip)
{
    unsigned i;

    if (chip == NULL) {
        return;
    }
    for (i = 0; i < TC_ATCA_SLOTS; i++) {
        drop_key_cache(chip, i);
    }
    EVP_MD_CTX_free(chip->sha);
    OPENSSL_cleanse(chip, sizeof(*chip));
    free(chip);
}

void
tc_chip_set_simulated(struct tc_chip *chip, int simulated)
{
    chip->simulated = simulated != 0;
    chip->dirty = 1;
}

int
tc_chip_simulated(const struct tc_chip *chip)
{
    return chip->simulated;
}

void
tc_chip_serial(const struct tc_chip *chip, uint8_t *out)
{
    memcpy(out, chip->config, 4);
    memcpy(out + 4, chip->config + 8, 5);
}

int
tc_chip_dirty(const struct tc_chip *chip)
{
    return chip->dirty;
}

enum tc_chip_power
tc_chip_power(const struct tc_chip *chip)
{
    return chip->power;
}

/* Volatile state goes on sleep, as it does when the chip loses Vcc. */
static void
clear_volatile(struct tc_chip *chip)
{
    OPENSSL_cleanse(chip->tempkey, sizeof(chip->tempkey));
    OPENSSL_cleanse(chip->mdb, sizeof(chip->mdb));
    chip->tempkey_valid = 0;
    chip->mdb_valid = 0;
    chip->tempkey_random = 0;
    if (chip->sha != NULL) {
        EVP_MD_CTX_free(chip->sha);
        chip->sha = NULL;
    }
}

size_t
tc_chip_wake(struct tc_chip *chip, uint8_t *rsp)
{
    chip->power = TC_CHIP_AWAKE;
    memcpy(rsp, wake_status, sizeof(wake_status));
    return sizeof(wake_status);
}

void
tc_chip_idle(struct tc_chip *chip)
{
    chip->power = TC_CHIP_IDLE;
}

void
tc_chip_sleep(struct tc_chip *chip)
{
    chip->power = TC_CHIP_SLEEP;
    clear_volatile(chip);
}

/* ---- configuration accessors ---- */

static uint16_t
slot_config(const struct tc_chip *chip, unsigned slot)
{
    const uint8_t *p = chip->config + CFG_SLOT_CONFIG + 2 * slot;

    return (uint16_t)(p[0] | p[1] << 8);
}

static uint16_t
key_config(const struct tc_chip *chip, unsigned slot)
{
    const uint8_t *p = chip->config + CFG_KEY_CONFIG + 2 * slot;

    return (uint16_t)(p[0] | p[1] << 8);
}

static int
config_locked(const struct tc_chip *chip)
{
    return chip->config[CFG_LOCK_CONFIG] != LOCK_UNLOCKED;
}

static int
data_locked(const struct tc_chip *chip)
{
    return chip->config[CFG_LOCK_VALUE] != LOCK_UNLOCKED;
}

static int
slot_locked(const struct tc_chip *chip, unsigned slot)
{
    unsigned bits = chip->config[CFG_SLOT_LOCKED] |
                    chip->config[CFG_SLOT_LOCKED + 1] << 8;

    /* A cleared bit means locked. */
    return (bits & (1u << slot)) == 0;
}

/* A slot that holds a P-256 private key: never readable, never written. */
static int
is_p256_private(const struct tc_chip *chip, unsigned slot)
{
    uint16_t kc = key_config(chip, slot);

    return (kc & KC_PRIVATE) != 0 && ((kc >> 2) & 7) == KEYTYPE_P256 &&
           slot < 8;
}

static int
key_valid(const struct tc_chip *chip, unsigned slot)
{
    return (chip->key_valid & (1u << slot)) != 0;
}

static uint8_t *
slot_data(struct tc_chip *chip, unsigned slot)
{
    return chip->data + tc_atca_slot_offset(slot);
}

/* ---- responses ---- */

static size_t
status(uint8_t *rsp, uint8_t st)
{
    return tc_atca_build_status(rsp, st);
}

static size_t
data_rsp(uint8_t *rsp, const uint8_t *data, size_t n)
{
    return tc_atca_build_rsp(rsp, data, n);
}

/*
 * Before the config zone is locked the random generator answers a fixed
 * pattern, so a host can tell it is talking to an unconfigured part.
 */
static void
chip_random(const struct tc_chip *chip, uint8_t *out, size_t n)
{
    size_t i;

    if (!config_locked(chip)) {
        for (i = 0; i < n; i++) {
            out[i] = (i % 4) < 2 ? 0xFF : 0x00;
        }
        return;
    }
    if (RAND_bytes(out, (int)n) != 1) {
        memset(out, 0, n);
    }
}

/* ---- key material ---- */

/*
 * Build (and cache) the EVP_PKEY of a slot's private key, and the public key
 * X||Y. The public point is derived from the scalar, so nothing but the
 * scalar needs to persist.
 */
static EVP_PKEY *
slot_pkey(struct tc_chip *chip, unsigned slot)
{
    const uint8_t *priv = slot_data(chip, slot) + PRIV_OFFSET;
    EC_GROUP *group = NULL;
    EC_POINT *pt = NULL;
    BIGNUM *bn = NULL;
    OSSL_PARAM_BLD *bld = NULL;
    OSSL_PARAM *params = NULL;
    EVP_PKEY_CTX *ctx = NULL;
    EVP_PKEY *pkey = NULL;
    uint8_t pub[65];

    if (chip->pkey[slot] != NULL) {
        return chip->pkey[slot];
    }
    group = EC_GROUP_new_by_curve_name(NID_X9_62_prime256v1);
    bn = BN_bin2bn(priv, PRIV_SIZE, NULL);
    pt = group != NULL ? EC_POINT_new(group) : NULL;
    if (pt == NULL || bn == NULL ||
        !EC_POINT_mul(group, pt, bn, NULL, NULL, NULL) ||
        EC_POINT_point2oct(group, pt, POINT_CONVERSION_UNCOMPRESSED, pub,
                           sizeof(pub), NULL) != sizeof(pub)) {
        goto out;
    }
    bld = OSSL_PARAM_BLD_new();
    if (bld == NULL ||
        !OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME,
                                         "prime256v1", 0) ||
        !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_PRIV_KEY, bn) ||
        !OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, pub,
                                          sizeof(pub))) {
        goto out;
    }
    params = OSSL_PARAM_BLD_to_param(bld);
    ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
    if (params == NULL || ctx == NULL || EVP_PKEY_fromdata_init(ctx) <= 0 ||
        EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_KEYPAIR, params) <= 0) {
        pkey = NULL;
        goto out;
    }
    memcpy(chip->pub[slot], pub + 1, TC_ATCA_PUBKEY_SIZE);
    chip->pkey[slot] = pkey;

out:
    EVP_PKEY_CTX_free(ctx);
    OSSL_PARAM_free(params);
    OSSL_PARAM_BLD_free(bld);
    BN_clear_free(bn);
    EC_POINT_free(pt);
    EC_GROUP_free(group);
    return pkey;
}

/* Generate a key pair inside the chip; the scalar goes only to the slot. */
static int
generate_key(struct tc_chip *chip, unsigned slot)
{
    EVP_PKEY *pkey = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    BIGNUM *bn = NULL;
    uint8_t *p = slot_data(chip, slot);
    int ok = 0;

    if (pkey == NULL ||
        !EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_PRIV_KEY, &bn) ||
        BN_bn2binpad(bn, p + PRIV_OFFSET, PRIV_SIZE) != PRIV_SIZE) {
        goto out;
    }
    memset(p, 0, PRIV_OFFSET);
    drop_key_cache(chip, slot);
    chip->key_valid |= (uint16_t)(1u << slot);
    ok = slot_pkey(chip, slot) != NULL;
    if (!ok) {
        chip->key_valid &= (uint16_t)~(1u << slot);
    }
    chip->dirty = 1;

out:
    BN_clear_free(bn);
    EVP_PKEY_free(pkey);
    return ok;
}

/*
 * ECDSA over a 32-byte message with the key of slot, r||s out. The signing
 * context is set up once per key and reused: it holds no per-signature
 * state.
 */
static int
ecdsa_sign(struct tc_chip *chip, unsigned slot, const uint8_t *msg,
           uint8_t *rs)
{
    EVP_PKEY_CTX *ctx = chip->sign_ctx[slot];
    uint8_t der[TC_EC_SIG_DER_MAX];
    size_t der_len = sizeof(der);

    if (ctx == NULL) {
        ctx = EVP_PKEY_CTX_new(chip->pkey[slot], NULL);
        if (ctx == NULL || EVP_PKEY_sign_init(ctx) <= 0) {
            EVP_PKEY_CTX_free(ctx);
            return 0;
        }
        chip->sign_ctx[slot] = ctx;
    }
    if (EVP_PKEY_sign(ctx, der, &der_len, msg, 32) <= 0) {
        return 0;
    }
    return tc_ec_sig_der_to_rs(der, der_len, rs) == TC_OK;
}

/* ---- commands ---- */

/*
 * Whether a slot may be read in the clear. Trust&GO sets IsSecret on slot 5
 * (the EUI-48) yet hosts read it, while secret keys such as the I/O
 * protection key in slot 6 stay unreadable: a secret slot is readable when
 * it can never be written (WriteConfig 10xx or 001x: factory data), never
 * when it is writable (a key) or marked for encrypted reads.
 */
static int
clear_readable(uint16_t sc)
{
    unsigned wc = sc >> 12;
    int write_never = (wc & 0x8) == 0x8 || (wc & 0xE) == 0x2;

    if (sc & SC_ENCRYPT_READ) {
        return 0;
    }
    return !(sc & SC_IS_SECRET) || write_never;
}

/*
 * Read: p1 = zone | 0x80 for 32 bytes; p2 = address. Config is always
 * readable; OTP and data only after the data zone is locked; secret,
 * read-encrypted and private-key slots never.
 */
static size_t
cmd_read(struct tc_chip *chip, const struct tc_atca_cmd *c, uint8_t *rsp)
{
    int zone = c->param1 & 0x03;
    size_t len = (c->param1 & TC_ATCA_ZONE_32) ? 32 : 4;
    unsigned block;
    unsigned word = c->param2 & 0x07;
    size_t off;

    if (c->data_len != 0 || (c->param1 & 0x7C) != 0 || zone == 3) {
        return status(rsp, TC_ATCA_ST_PARSE);
    }
    if (zone == TC_ATCA_ZONE_CONFIG || zone == TC_ATCA_ZONE_OTP) {
        size_t size = zone == TC_ATCA_ZONE_CONFIG ? TC_ATCA_CONFIG_SIZE
                                                  : TC_ATCA_OTP_SIZE;
        const uint8_t *src = zone == TC_ATCA_ZONE_CONFIG ? chip->config
                                                         : chip->otp;

        block = (c->param2 >> 3) & 0x1F;
        off = block * 32 + (len == 4 ? word * 4 : 0);
        if (c->param2 > 0xFF || off + len > size) {
            return status(rsp, TC_ATCA_ST_PARSE);
        }
        if (zone == TC_ATCA_ZONE_OTP && !data_locked(chip)) {
            return status(rsp, TC_ATCA_ST_EXECUTION);
        }
        return data_rsp(rsp, src + off, len);
    }

    /* Data zone: slot<<3 | block<<8 | word. */
    {
        unsigned slot = (c->param2 >> 3) & 0x0F;
        uint16_t sc = slot_config(chip, slot);

        block = c->param2 >> 8;
        off = block * 32 + (len == 4 ? word * 4 : 0);
        if (off + len > tc_atca_slot_size(slot)) {
            return status(rsp, TC_ATCA_ST_PARSE);
        }
        if (!data_locked(chip) || !clear_readable(sc) ||
            is_p256_private(chip, slot)) {
            return status(rsp, TC_ATCA_ST_EXECUTION);
        }
        return data_rsp(rsp, slot_data(chip, slot) + off, len);
    }
}

/* Config bytes 84-87 (UserExtra, UserExtraAdd, LockValue, LockConfig)
 * change only through their own commands. */
static void
write_config_bytes(struct tc_chip *chip, size_t off, const uint8_t *in,
                   size_t len)
{
    size_t i;

    for (i = 0; i < len; i++) {
        if (off + i >= 84 && off + i < 88) {
            continue;
        }
        chip->config[off + i] = in[i];
    }
}

/*
 * Write (clear text only): p1 = zone | 0x80 for 32 bytes, 0x40 encrypted
 * (not supported: execution error). Config until it is locked, never its
 * first 16 bytes; OTP and data only after the config lock; after the data
 * lock only slots whose WriteConfig allows clear writes.
 */
static size_t
cmd_write(struct tc_chip *chip, const struct tc_atca_cmd *c, uint8_t *rsp)
{
    int zone = c->param1 & 0x03;
    size_t len = (c->param1 & TC_ATCA_ZONE_32) ? 32 : 4;
    unsigned word = c->param2 & 0x07;
    size_t off;

    if ((c->param1 & 0x3C) != 0 || zone == 3 || c->data_len != len) {
        return status(rsp, TC_ATCA_ST_PARSE);
    }
    if (c->param1 & 0x40) {
        return status(rsp, TC_ATCA_ST_EXECUTION);
    }
    if (zone == TC_ATCA_ZONE_CONFIG) {
        off = ((c->param2 >> 3) & 0x1F) * 32 + (len == 4 ? word * 4 : 0);
        if (c->param2 > 0xFF || off + len > TC_ATCA_CONFIG_SIZE) {
            return status(rsp, TC_ATCA_ST_PARSE);
        }
        if (config_locked(chip) || off < 16 || (len == 4 && off == 84)) {
            return status(rsp, TC_ATCA_ST_EXECUTION);
        }
        write_config_bytes(chip, off, c->data, len);
        chip->dirty = 1;
        return status(rsp, TC_ATCA_ST_SUCCESS);
    }
    if (zone == TC_ATCA_ZONE_OTP) {
        off = ((c->param2 >> 3) & 0x1F) * 32 + (len == 4 ? word * 4 : 0);
        if (c->param2 > 0xFF || off + len > TC_ATCA_OTP_SIZE) {
            return status(rsp, TC_ATCA_ST_PARSE);
        }
        if (!config_locked(chip) || data_locked(chip)) {
            return status(rsp, TC_ATCA_ST_EXECUTION);
        }
        memcpy(chip->otp + off, c->data, len);
        chip->dirty = 1;
        return status(rsp, TC_ATCA_ST_SUCCESS);
    }

    {
        unsigned slot = (c->param2 >> 3) & 0x0F;
        unsigned wc = slot_config(chip, slot) >> 12;

        off = (size_t)(c->param2 >> 8) * 32 + (len == 4 ? word * 4 : 0);
        if (off + len > tc_atca_slot_size(slot)) {
            return status(rsp, TC_ATCA_ST_PARSE);
        }

        /* Keys enter a private-key slot only through GenKey. */
        if (!config_locked(chip) || is_p256_private(chip, slot)) {
            return status(rsp, TC_ATCA_ST_EXECUTION);
        }
        if (data_locked(chip) && (slot_locked(chip, slot) || wc > 1)) {
            return status(rsp, TC_ATCA_ST_EXECUTION);
        }
        memcpy(slot_data(chip, slot) + off, c->data, len);
        chip->dirty = 1;
        return status(rsp, TC_ATCA_ST_SUCCESS);
    }
}

/* CRC of the data zone followed by the OTP zone, as Lock(data) checks. */
static uint16_t
data_otp_crc(const struct tc_chip *chip)
{
    uint8_t all[TC_ATCA_DATA_SIZE + TC_ATCA_OTP_SIZE];

    memcpy(all, chip->data, TC_ATCA_DATA_SIZE);
    memcpy(all + TC_ATCA_DATA_SIZE, chip->otp, TC_ATCA_OTP_SIZE);
    return tc_atca_crc(all, sizeof(all));
}

uint16_t
tc_chip_lock_crc(const struct tc_chip *chip, int zone)
{
    if (zone == TC_ATCA_ZONE_CONFIG) {
        return tc_atca_crc(chip->config, TC_ATCA_CONFIG_SIZE);
    }
    return data_otp_crc(chip);
}

/*
 * Lock: p1 bits 0-1 zone (0 config, 1 data+OTP, 2 one slot with the slot
 * in bits 2-5), bit 7 skips the summary CRC in p2. A mismatched CRC is a
 * miscompare; locking what is locked, or out of order, an execution error.
 */
static size_t
cmd_lock(struct tc_chip *chip, const struct tc_atca_cmd *c, uint8_t *rsp)
{
    int zone = c->param1 & 0x03;
    int check_crc = (c->param1 & 0x80) == 0;
    unsigned slot = (c->param1 >> 2) & 0x0F;

    if (c->data_len != 0 || zone == 3 || (c->param1 & 0x40) != 0 ||
        (zone != 2 && slot != 0)) {
        return status(rsp, TC_ATCA_ST_PARSE);
    }
    if (zone == 0) {
        if (config_locked(chip)) {
            return status(rsp, TC_ATCA_ST_EXECUTION);
        }
        if (check_crc && tc_chip_lock_crc(chip, 0) != c->param2) {
            return status(rsp, TC_ATCA_ST_MISCOMPARE);
        }
        chip->config[CFG_LOCK_CONFIG] = LOCK_LOCKED;
    } else if (zone == 1) {
        if (!config_locked(chip) || data_locked(chip)) {
            return status(rsp, TC_ATCA_ST_EXECUTION);
        }
        if (check_crc && data_otp_crc(chip) != c->param2) {
            return status(rsp, TC_ATCA_ST_MISCOMPARE);
        }
        chip->config[CFG_LOCK_VALUE] = LOCK_LOCKED;
    } else {
        unsigned bits;

        if (!data_locked(chip) || slot_locked(chip, slot) ||
            !(key_config(chip, slot) & KC_LOCKABLE)) {
            return status(rsp, TC_ATCA_ST_EXECUTION);
        }

        /* A host cannot know a private key, so its CRC is not checked. */
        if (check_crc && !is_p256_private(chip, slot) &&
            tc_atca_crc(slot_data(chip, slot), tc_atca_slot_size(slot)) !=
                c->param2) {
            return status(rsp, TC_ATCA_ST_MISCOMPARE);
        }
        bits = chip->config[CFG_SLOT_LOCKED] |
               chip->config[CFG_SLOT_LOCKED + 1] << 8;
        bits &= ~(1u << slot);
        chip->config[CFG_SLOT_LOCKED] = (uint8_t)(bits & 0xFF);
        chip->config[CFG_SLOT_LOCKED + 1] = (uint8_t)(bits >> 8);
    }
    chip->dirty = 1;
    return status(rsp, TC_ATCA_ST_SUCCESS);
}

static size_t
cmd_random(struct tc_chip *chip, const struct tc_atca_cmd *c, uint8_t *rsp)
{
    uint8_t out[32];

    if (c->data_len != 0 || c->param1 != 0) {
        return status(rsp, TC_ATCA_ST_PARSE);
    }
    chip_random(chip, out, sizeof(out));
    return data_rsp(rsp, out, sizeof(out));
}

/*
 * Nonce. Pass-through (mode 3) loads 32 or 64 input bytes into TempKey or
 * the message digest buffer; random modes (0, 1) take a 20-byte NumIn,
 * answer RandOut and set TempKey = SHA-256(RandOut || NumIn || 0x16 ||
 * mode || p2 low byte).
 */
static size_t
cmd_nonce(struct tc_chip *chip, const struct tc_atca_cmd *c, uint8_t *rsp)
{
    int mode = c->param1 & 0x03;
    int target = c->param1 & 0xC0;
    size_t want = (c->param1 & 0x20) ? 64 : 32;

    if ((c->param1 & 0x1C) != 0) {
        return status(rsp, TC_ATCA_ST_PARSE);
    }
    if (mode == 3) {
        if (c->data_len != want || target == 0xC0) {
            return status(rsp, TC_ATCA_ST_PARSE);
        }
        if (target == 0x40) {
            memcpy(chip->mdb, c->data, want);
            chip->mdb_valid = 1;
        } else if (target == 0x00) {
            memcpy(chip->tempkey, c->data, want);
            chip->tempkey_valid = 1;
            chip->tempkey_random = 0;
        } else {
            memcpy(chip->akb, c->data, want);
        }
        return status(rsp, TC_ATCA_ST_SUCCESS);
    }
    if (mode == 2 || c->data_len != 20 || target != 0 ||
        (c->param1 & 0x20) != 0) {
        return status(rsp, TC_ATCA_ST_PARSE);
    }

    {
        uint8_t rand_out[32];
        uint8_t msg[32 + 20 + 3];
        unsigned int mdlen = 32;

        chip_random(chip, rand_out, sizeof(rand_out));
        memcpy(msg, rand_out, 32);
        memcpy(msg + 32, c->data, 20);
        msg[52] = TC_ATCA_OP_NONCE;
        msg[53] = c->param1;
        msg[54] = (uint8_t)(c->param2 & 0xFF);
        if (!EVP_Digest(msg, sizeof(msg), chip->tempkey, &mdlen,
                        EVP_sha256(), NULL)) {
            return status(rsp, TC_ATCA_ST_EXECUTION);
        }
        chip->tempkey_valid = 1;
        chip->tempkey_random = 1;
        return data_rsp(rsp, rand_out, sizeof(rand_out));
    }
}

/*
 * GenKey: mode 0x04 creates a private key in slot p2 and answers its public
 * key; mode 0x00 answers the public key of the key already there. The
 * digest modes are not supported.
 */
static size_t
cmd_genkey(struct tc_chip *chip, const struct tc_atca_cmd *c, uint8_t *rsp)
{
    unsigned slot = c->param2;

    if ((c->param1 != 0x04 && c->param1 != 0x00) || c->data_len != 0 ||
        slot >= TC_ATCA_SLOTS) {
        return status(rsp, TC_ATCA_ST_PARSE);
    }
    if (!config_locked(chip) || !is_p256_private(chip, slot)) {
        return status(rsp, TC_ATCA_ST_EXECUTION);
    }
    if (c->param1 == 0x04) {
        if (data_locked(chip) &&
            (!(slot_config(chip, slot) & SC_GENKEY_AFTER_LOCK) ||
             slot_locked(chip, slot))) {
            return status(rsp, TC_ATCA_ST_EXECUTION);
        }
        if (!generate_key(chip, slot)) {
            return status(rsp, TC_ATCA_ST_EXECUTION);
        }
        return data_rsp(rsp, chip->pub[slot], TC_ATCA_PUBKEY_SIZE);
    }
    if (!key_valid(chip, slot) || !(key_config(chip, slot) & KC_PUBINFO) ||
        slot_pkey(chip, slot) == NULL) {
        return status(rsp, TC_ATCA_ST_EXECUTION);
    }
    return data_rsp(rsp, chip->pub[slot], TC_ATCA_PUBKEY_SIZE);
}

/* The 32-byte message of Sign/Verify external: TempKey or the MDB. */
static const uint8_t *
external_message(struct tc_chip *chip, int use_mdb)
{
    if (use_mdb) {
        return chip->mdb_valid ? chip->mdb : NULL;
    }
    return chip->tempkey_valid ? chip->tempkey : NULL;
}

static void
consume_message(struct tc_chip *chip, int use_mdb)
{
    if (use_mdb) {
        chip->mdb_valid = 0;
    } else {
        chip->tempkey_valid = 0;
    }
}

/*
 * Sign external: p1 0x80 (message in TempKey) or 0xA0 (message digest
 * buffer), p2 the slot. The key must allow external signatures.
 */
static size_t
cmd_sign(struct tc_chip *chip, const struct tc_atca_cmd *c, uint8_t *rsp)
{
    unsigned slot = c->param2;
    int use_mdb = (c->param1 & 0x20) != 0;
    const uint8_t *msg;
    EVP_PKEY *pkey;
    uint8_t sig[TC_ATCA_SIG_SIZE];

    if ((c->param1 & ~0x20) != 0x80 || c->data_len != 0 ||
        slot >= TC_ATCA_SLOTS) {
        return status(rsp, TC_ATCA_ST_PARSE);
    }
    if (!data_locked(chip) || !is_p256_private(chip, slot) ||
        !key_valid(chip, slot) ||
        !(slot_config(chip, slot) & SC_EXT_SIGN)) {
        return status(rsp, TC_ATCA_ST_EXECUTION);
    }
    msg = external_message(chip, use_mdb);
    pkey = slot_pkey(chip, slot);
    if (msg == NULL || pkey == NULL || !ecdsa_sign(chip, slot, msg, sig)) {
        return status(rsp, TC_ATCA_ST_EXECUTION);
    }
    consume_message(chip, use_mdb);
    return data_rsp(rsp, sig, sizeof(sig));
}

/*
 * Verify external: p1 0x02 (| 0x20 for the message digest buffer), p2 the
 * key type (0x0004, P-256), data signature r||s then public key X||Y.
 * Success answers 0x00, a bad signature the miscompare status 0x01.
 */
static size_t
cmd_verify(struct tc_chip *chip, const struct tc_atca_cmd *c, uint8_t *rsp)
{
    int use_mdb = (c->param1 & 0x20) != 0;
    const uint8_t *msg;
    EVP_PKEY *pkey;
    int ok;

    if ((c->param1 & ~0x20) != 0x02 || c->param2 != 0x0004 ||
        c->data_len != TC_ATCA_SIG_SIZE + TC_ATCA_PUBKEY_SIZE) {
        return status(rsp, TC_ATCA_ST_PARSE);
    }
    msg = external_message(chip, use_mdb);
    if (msg == NULL) {
        return status(rsp, TC_ATCA_ST_EXECUTION);
    }
    pkey = tc_ec_pubkey_from_xy(c->data + TC_ATCA_SIG_SIZE);
    if (pkey == NULL) {
        return status(rsp, TC_ATCA_ST_EXECUTION);
    }
    ok = tc_ec_verify_digest(pkey, msg, c->data) == TC_OK;
    EVP_PKEY_free(pkey);
    consume_message(chip, use_mdb);
    return status(rsp, ok ? TC_ATCA_ST_SUCCESS : TC_ATCA_ST_MISCOMPARE);
}

/*
 * ECDH with the key in slot p2 and the peer's X||Y. Mode 0x00 follows the
 * slot's configuration (output in the clear, or into slot p2+1 when
 * SlotConfig asks for it); mode 0x0C always answers in the clear.
 */
static size_t
cmd_ecdh(struct tc_chip *chip, const struct tc_atca_cmd *c, uint8_t *rsp)
{
    unsigned slot = c->param2;
    EVP_PKEY *peer = NULL;
    EVP_PKEY_CTX *ctx = NULL;
    uint8_t secret[32];
    size_t slen = sizeof(secret);
    size_t n;
    uint16_t sc;

    if ((c->param1 != 0x00 && c->param1 != 0x0C) ||
        c->data_len != TC_ATCA_PUBKEY_SIZE || slot >= TC_ATCA_SLOTS) {
        return status(rsp, TC_ATCA_ST_PARSE);
    }
    sc = slot_config(chip, slot);
    if (!data_locked(chip) || !is_p256_private(chip, slot) ||
        !key_valid(chip, slot) || !(sc & SC_ECDH) ||
        slot_pkey(chip, slot) == NULL) {
        return status(rsp, TC_ATCA_ST_EXECUTION);
    }
    peer = tc_ec_pubkey_from_xy(c->data);
    ctx = EVP_PKEY_CTX_new(chip->pkey[slot], NULL);
    if (peer == NULL || ctx == NULL || EVP_PKEY_derive_init(ctx) <= 0 ||
        EVP_PKEY_derive_set_peer(ctx, peer) <= 0 ||
        EVP_PKEY_derive(ctx, secret, &slen) <= 0 || slen != 32) {
        n = status(rsp, TC_ATCA_ST_EXECUTION);
        goto out;
    }
    if (c->param1 == 0x00 && (sc & SC_ECDH_TO_NEXT)) {
        if (slot + 1 >= TC_ATCA_SLOTS) {
            n = status(rsp, TC_ATCA_ST_EXECUTION);
            goto out;
        }
        memcpy(slot_data(chip, slot + 1), secret, 32);
        chip->dirty = 1;
        n = status(rsp, TC_ATCA_ST_SUCCESS);
        goto out;
    }
    n = data_rsp(rsp, secret, sizeof(secret));

out:
    OPENSSL_cleanse(secret, sizeof(secret));
    EVP_PKEY_CTX_free(ctx);
    EVP_PKEY_free(peer);
    return n;
}

/*
 * SHA-256: mode 0 start, 1 update with exactly 64 bytes, 2 end with 0-63
 * bytes; p2 carries the data length for update and end. End answers the
 * digest and also leaves it in TempKey (target 0x00), the message digest
 * buffer (0x40) or nowhere else (0xC0).
 */
static size_t
cmd_sha(struct tc_chip *chip, const struct tc_atca_cmd *c, uint8_t *rsp)
{
    int mode = c->param1 & 0x07;
    int target = c->param1 & 0xC0;
    uint8_t digest[32];
    unsigned int dlen = sizeof(digest);

    if ((c->param1 & 0x38) != 0 || target == 0x80 || mode > 2) {
        return status(rsp, TC_ATCA_ST_PARSE);
    }
    if (mode == 0) {
        if (c->data_len != 0) {
            return status(rsp, TC_ATCA_ST_PARSE);
        }
        EVP_MD_CTX_free(chip->sha);
        chip->sha = EVP_MD_CTX_new();
        if (chip->sha == NULL ||
            !EVP_DigestInit_ex(chip->sha, EVP_sha256(), NULL)) {
            return status(rsp, TC_ATCA_ST_EXECUTION);
        }
        return status(rsp, TC_ATCA_ST_SUCCESS);
    }
    if (c->param2 != c->data_len || (mode == 1 && c->data_len != 64) ||
        (mode == 2 && c->data_len > 63)) {
        return status(rsp, TC_ATCA_ST_PARSE);
    }
    if (chip->sha == NULL) {
        return status(rsp, TC_ATCA_ST_EXECUTION);
    }
    if (!EVP_DigestUpdate(chip->sha, c->data, c->data_len)) {
        return status(rsp, TC_ATCA_ST_EXECUTION);
    }
    if (mode == 1) {
        return status(rsp, TC_ATCA_ST_SUCCESS);
    }
    if (!EVP_DigestFinal_ex(chip->sha, digest, &dlen)) {
        return status(rsp, TC_ATCA_ST_EXECUTION);
    }
    EVP_MD_CTX_free(chip->sha);
    chip->sha = NULL;
    if (target == 0x00) {
        memcpy(chip->tempkey, digest, 32);
        chip->tempkey_valid = 1;
        chip->tempkey_random = 0;
    } else if (target == 0x40) {
        memcpy(chip->mdb, digest, 32);
        chip->mdb_valid = 1;
    }
    return data_rsp(rsp, digest, sizeof(digest));
}

/*
 * Info: mode 0 the revision, mode 1 whether slot p2 holds a valid key,
 * mode 2 the TempKey state (byte 0: bit 7 valid, bit 4 came from a random
 * nonce; byte 1: bit 7 message digest buffer valid).
 */
static size_t
cmd_info(struct tc_chip *chip, const struct tc_atca_cmd *c, uint8_t *rsp)
{
    uint8_t out[4] = {0, 0, 0, 0};

    if (c->data_len != 0) {
        return status(rsp, TC_ATCA_ST_PARSE);
    }
    switch (c->param1) {
    case 0x00:
        memcpy(out, chip->config + CFG_REVNUM, 4);
        break;
    case 0x01:
        if (c->param2 >= TC_ATCA_SLOTS) {
            return status(rsp, TC_ATCA_ST_PARSE);
        }
        out[0] = key_valid(chip, c->param2) ? 1 : 0;
        break;
    case 0x02:
        out[0] = (uint8_t)((chip->tempkey_valid ? 0x80 : 0) |
                           (chip->tempkey_random ? 0x10 : 0));
        out[1] = chip->mdb_valid ? 0x80 : 0;
        break;
    default:
        return status(rsp, TC_ATCA_ST_PARSE);
    }
    return data_rsp(rsp, out, sizeof(out));
}

size_t
tc_chip_execute(struct tc_chip *chip, const uint8_t *cmd, size_t n,
                uint8_t *rsp)
{
    struct tc_atca_cmd c;
    int rc;

    /* An idle or sleeping chip ignores the bus until it is woken. */
    if (chip->power != TC_CHIP_AWAKE) {
        return 0;
    }
    rc = tc_atca_parse_cmd(cmd, n, &c);
    if (rc == TC_ERR_ATCA_COMM) {
        return status(rsp, TC_ATCA_ST_COMM);
    }
    if (rc != TC_OK) {
        return status(rsp, TC_ATCA_ST_PARSE);
    }
    switch (c.opcode) {
    case TC_ATCA_OP_READ:
        return cmd_read(chip, &c, rsp);
    case TC_ATCA_OP_WRITE:
        return cmd_write(chip, &c, rsp);
    case TC_ATCA_OP_LOCK:
        return cmd_lock(chip, &c, rsp);
    case TC_ATCA_OP_RANDOM:
        return cmd_random(chip, &c, rsp);
    case TC_ATCA_OP_NONCE:
        return cmd_nonce(chip, &c, rsp);
    case TC_ATCA_OP_GENKEY:
        return cmd_genkey(chip, &c, rsp);
    case TC_ATCA_OP_SIGN:
        return cmd_sign(chip, &c, rsp);
    case TC_ATCA_OP_VERIFY:
        return cmd_verify(chip, &c, rsp);
    case TC_ATCA_OP_ECDH:
        return cmd_ecdh(chip, &c, rsp);
    case TC_ATCA_OP_SHA:
        return cmd_sha(chip, &c, rsp);
    case TC_ATCA_OP_INFO:
        return cmd_info(chip, &c, rsp);
    default:
        return status(rsp, TC_ATCA_ST_PARSE);
    }
}

uint8_t
tc_chip_i2c_address(const struct tc_chip *chip)
{
    return chip->config[CFG_I2C_ADDRESS];
}
