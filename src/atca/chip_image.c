// SPDX-License-Identifier: Apache-2.0
/*
 * Chip image files: the non-volatile state of one virtual chip, sealed with
 * AES-256-GCM under the key of its folder, written atomically. An image
 * alone reveals no key and cannot be altered without detection.
 *
 * Layout:
 *   magic "TCCHIP01" (8) | nonce (12) | ciphertext (BODY_SIZE) | tag (16)
 *   body := version(1)=1 | flags(1) bit 0 simulated | key_valid(2, LE)
 *           | config(128) | otp(64) | data(1208)
 * The magic is authenticated as additional data.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "chip_internal.h"
#include "thingcore/util.h"

#define MAGIC "TCCHIP01"
#define MAGIC_LEN 8
#define NONCE_LEN 12
#define TAG_LEN 16
#define BODY_SIZE                                                             \
    (4 + TC_ATCA_CONFIG_SIZE + TC_ATCA_OTP_SIZE + TC_ATCA_DATA_SIZE)
#define IMAGE_SIZE (MAGIC_LEN + NONCE_LEN + BODY_SIZE + TAG_LEN)
#define IMAGE_VERSION 1

static int
gcm(int enc, const uint8_t *key, const uint8_t *nonce, const uint8_t *in,
    uint8_t *out, uint8_t *tag)
{
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    int len = 0;
    int ok = 0;

    if (ctx == NULL ||
        !EVP_CipherInit_ex(ctx, EVP_aes_256_gcm(), NULL, key, nonce, enc) ||
        !EVP_CipherUpdate(ctx, NULL, &len, (const uint8_t *)MAGIC,
                          MAGIC_LEN) ||
        !EVP_CipherUpdate(ctx, out, &len, in, BODY_SIZE)) {
        goto out;
    }
    if (!enc && !EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, TAG_LEN, tag)) {
        goto out;
    }
    if (EVP_CipherFinal_ex(ctx, out + len, &len) != 1) {
        goto out;
    }
    if (enc && !EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, TAG_LEN, tag)) {
        goto out;
    }
    ok = 1;
out:
    EVP_CIPHER_CTX_free(ctx);
    return ok;
}

int
tc_chip_save(struct tc_chip *chip, const char *path, const uint8_t *key,
             struct tc_detail *d)
{
    uint8_t body[BODY_SIZE];
    uint8_t image[IMAGE_SIZE];
    uint8_t *p = body;
    int rc;

    *p++ = IMAGE_VERSION;
    *p++ = chip->simulated ? 1 : 0;
    *p++ = (uint8_t)(chip->key_valid & 0xFF);
    *p++ = (uint8_t)(chip->key_valid >> 8);
    memcpy(p, chip->config, TC_ATCA_CONFIG_SIZE);
    p += TC_ATCA_CONFIG_SIZE;
    memcpy(p, chip->otp, TC_ATCA_OTP_SIZE);
    p += TC_ATCA_OTP_SIZE;
    memcpy(p, chip->data, TC_ATCA_DATA_SIZE);

    /* A fresh nonce per save: GCM must never reuse one under a key. */
    memcpy(image, MAGIC, MAGIC_LEN);
    if (RAND_bytes(image + MAGIC_LEN, NONCE_LEN) != 1 ||
        !gcm(1, key, image + MAGIC_LEN, body, image + MAGIC_LEN + NONCE_LEN,
             image + IMAGE_SIZE - TAG_LEN)) {
        OPENSSL_cleanse(body, sizeof(body));
        return tc_detail_set(d, TC_ERR_CRYPTO, -1, path,
                             "cannot seal chip image %s", path);
    }
    OPENSSL_cleanse(body, sizeof(body));
    rc = tc_file_write_atomic(path, image, sizeof(image), 0600, d);
    if (rc == TC_OK) {
        chip->dirty = 0;
    }
    return rc;
}

int
tc_chip_load(const char *path, const uint8_t *key, struct tc_chip **out,
             struct tc_detail *d)
{
    struct tc_buf buf;
    uint8_t body[BODY_SIZE];
    struct tc_chip *chip = NULL;
    const uint8_t *p;
    uint8_t sn[TC_ATCA_SN_SIZE];
    int rc;

    *out = NULL;
    tc_buf_init(&buf, IMAGE_SIZE);
    rc = tc_file_read(path, &buf, d);
    if (rc == TC_ERR_TOO_BIG) {
        rc = tc_detail_set(d, TC_ERR_ATCA_BAD_IMAGE, -1, path,
                           "%s is larger than a chip image", path);
        goto out;
    }
    if (rc != TC_OK) {
        goto out;
    }
    if (buf.len != IMAGE_SIZE || memcmp(buf.data, MAGIC, MAGIC_LEN) != 0) {
        rc = tc_detail_set(d, TC_ERR_ATCA_BAD_IMAGE, 0, path,
                           "%s is not a chip image (%zu bytes, expected %d)",
                           path, buf.len, IMAGE_SIZE);
        goto out;
    }
    if (!gcm(0, key, buf.data + MAGIC_LEN, buf.data + MAGIC_LEN + NONCE_LEN,
             body, buf.data + IMAGE_SIZE - TAG_LEN)) {
        rc = tc_detail_set(d, TC_ERR_ATCA_BAD_IMAGE, -1, path,
                           "%s fails its integrity check: altered, or sealed "
                           "under another folder's key",
                           path);
        goto out;
    }
    if (body[0] != IMAGE_VERSION) {
        rc = tc_detail_set(d, TC_ERR_ATCA_BAD_IMAGE, MAGIC_LEN, path,
                           "%s has image version %u, expected %u", path,
                           body[0], IMAGE_VERSION);
        goto out;
    }
    p = body + 4;
    memcpy(sn, p, 4);
    memcpy(sn + 4, p + 8, 5);
    chip = tc_chip_new(sn);
    if (chip == NULL) {
        rc = TC_ERR_NOMEM;
        goto out;
    }
    chip->simulated = body[1] & 1;
    chip->key_valid = (uint16_t)(body[2] | body[3] << 8);
    memcpy(chip->config, p, TC_ATCA_CONFIG_SIZE);
    p += TC_ATCA_CONFIG_SIZE;
    memcpy(chip->otp, p, TC_ATCA_OTP_SIZE);
    p += TC_ATCA_OTP_SIZE;
    memcpy(chip->data, p, TC_ATCA_DATA_SIZE);
    chip->dirty = 0;
    *out = chip;
    rc = TC_OK;
out:
    OPENSSL_cleanse(body, sizeof(body));
    tc_buf_clear(&buf, 1);
    return rc;
}

int
tc_chip_folder_key(const char *dir, int create, uint8_t *key,
                   struct tc_detail *d)
{
    char path[4096];
    struct tc_buf buf;
    int rc;

    if (snprintf(path, sizeof(path), "%s/.chip-key", dir) >=
        (int)sizeof(path)) {
        return tc_detail_set(d, TC_ERR_ARG, -1, dir, "folder path too long");
    }
    tc_buf_init(&buf, TC_CHIP_WRAP_KEY_SIZE);
    rc = tc_file_read(path, &buf, d);
    if (rc == TC_OK && buf.len == TC_CHIP_WRAP_KEY_SIZE) {
        memcpy(key, buf.data, TC_CHIP_WRAP_KEY_SIZE);
        goto out;
    }
    if (rc == TC_OK || rc == TC_ERR_TOO_BIG) {
        rc = tc_detail_set(d, TC_ERR_ATCA_BAD_IMAGE, -1, path,
                           "%s is not a %d-byte key", path,
                           TC_CHIP_WRAP_KEY_SIZE);
        goto out;
    }
    if (rc != TC_ERR_NOT_FOUND || !create) {
        if (rc == TC_ERR_NOT_FOUND) {
            tc_detail_set(d, rc, -1, path,
                          "%s is missing: %s holds no chips", path, dir);
        }
        goto out;
    }
    rc = tc_mkdir_p(dir, 0700, d);
    if (rc != TC_OK) {
        goto out;
    }
    if (RAND_bytes(key, TC_CHIP_WRAP_KEY_SIZE) != 1) {
        rc = tc_detail_set(d, TC_ERR_CRYPTO, -1, path, "no randomness");
        goto out;
    }
    rc = tc_file_write_atomic(path, key, TC_CHIP_WRAP_KEY_SIZE, 0600, d);
out:
    tc_buf_clear(&buf, 1);
    return rc;
}

void
tc_chip_file_name(const uint8_t *sn, char *out)
{
    tc_hex_encode(sn, TC_ATCA_SN_SIZE, out, 1);
    memcpy(out + 2 * TC_ATCA_SN_SIZE, ".chip", 6);
}
