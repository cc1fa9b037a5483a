/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A virtual ATECC608: the state of one chip (config, OTP and data zones,
 * locks, private keys held in their slots, TempKey, the message digest
 * buffer, the SHA context, wake/idle/sleep) and the command set a host uses,
 * executed on the chip's own packets.
 *
 * A private key lives only inside the chip: no command returns it, and the
 * chip image file stores the whole chip encrypted (AES-256-GCM) under a key
 * kept beside the images, so an image file alone reveals nothing and a
 * tampered or truncated image is refused.
 *
 * Limitations: no encrypted Write/Read, no MAC/CheckMac/GenDig/DeriveKey/
 * AES/KDF/Counter/SecureBoot/SelfTest/UpdateExtra commands, no internal Sign,
 * no watchdog timeout. Those commands answer the parse-error status 0x03,
 * as the chip does for an opcode it does not know.
 */
#ifndef THINGCORE_CHIP_H
#define THINGCORE_CHIP_H

#include <stddef.h>
#include <stdint.h>

#include "thingcore/atca.h"
#include "thingcore/err.h"

struct tc_chip;

/* Power states as the I2C interface sees them. */
enum tc_chip_power {
    TC_CHIP_SLEEP = 0,
    TC_CHIP_IDLE,
    TC_CHIP_AWAKE,
};

/* Size of the key that wraps chip image files. */
#define TC_CHIP_WRAP_KEY_SIZE 32

/*
 * A new blank chip as it leaves the wafer: serial number sn (9 bytes,
 * borrowed; sn[0..1] must be 01 23), revision 00 00 60 02, I2C address
 * 0xC0, every SlotConfig/KeyConfig zero, all zones unlocked, no keys.
 * Returns NULL when out of memory. Free with tc_chip_free.
 */
struct tc_chip *tc_chip_new(const uint8_t *sn);
void tc_chip_free(struct tc_chip *chip);

/* Mark the chip as made by a simulated factory (stored in its image). */
void tc_chip_set_simulated(struct tc_chip *chip, int simulated);
int tc_chip_simulated(const struct tc_chip *chip);

/* The 9-byte serial number (out, 9 bytes). */
void tc_chip_serial(const struct tc_chip *chip, uint8_t *out);

/*
 * Execute one command packet (count..crc, no word address) and write the
 * response packet to rsp (TC_ATCA_RSP_MAX bytes). Returns the response
 * length; 0 means the chip does not answer (it is asleep or idle).
 * Never fails otherwise: a refused command answers its status byte.
 */
size_t tc_chip_execute(struct tc_chip *chip, const uint8_t *cmd, size_t n,
                       uint8_t *rsp);

/* Wake: writes the 4-byte after-wake status into rsp (04 11 33 43). */
size_t tc_chip_wake(struct tc_chip *chip, uint8_t *rsp);
/* Idle keeps TempKey and the message digest buffer; sleep clears them. */
void tc_chip_idle(struct tc_chip *chip);
void tc_chip_sleep(struct tc_chip *chip);
enum tc_chip_power tc_chip_power(const struct tc_chip *chip);

/*
 * Non-zero when the non-volatile state changed since the chip was loaded
 * or last saved (Write, Lock, GenKey); the daemon saves then.
 */
int tc_chip_dirty(const struct tc_chip *chip);

/*
 * Save to path atomically (0600), encrypted under key (32 bytes). Clears
 * the dirty flag on success.
 */
int tc_chip_save(struct tc_chip *chip, const char *path, const uint8_t *key,
                 struct tc_detail *d);

/*
 * Load a chip image. TC_ERR_ATCA_BAD_IMAGE when the file is not a chip
 * image, was made under another key, or was altered. *out is handed to
 * the caller.
 */
int tc_chip_load(const char *path, const uint8_t *key, struct tc_chip **out,
                 struct tc_detail *d);

/*
 * The wrap key of a folder of chip images: DIR/.chip-key, 32 random bytes,
 * created 0600 when create != 0 and it is missing.
 */
int tc_chip_folder_key(const char *dir, int create, uint8_t *key,
                       struct tc_detail *d);

/* File name of a chip in a folder: "<18 upper hex>.chip" (out >= 24). */
void tc_chip_file_name(const uint8_t *sn, char *out);

/*
 * The summary CRC Lock expects for the config zone (zone 0) or the data and
 * OTP zones (zone 1) as they stand: what a factory computes from what it
 * wrote.
 */
uint16_t tc_chip_lock_crc(const struct tc_chip *chip, int zone);

/* The I2C address byte of config byte 16 (0xC0 blank, 0x6A Trust&GO). */
uint8_t tc_chip_i2c_address(const struct tc_chip *chip);

#endif
