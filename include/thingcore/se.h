/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The secure element client: talks to an ATECC608 (virtual or real) in the
 * chip's own protocol, over a transport named by one string:
 *
 *   unix:PATH               the emulator's socket (kit protocol lines)
 *   kit:DEVICE              the kit protocol on a serial line or pty
 *   i2c:/dev/i2c-N@0xADDR   a chip on a Linux I2C bus (7-bit address)
 *
 * Commands are built and checked by atca.h; a command whose response has a
 * bad CRC or an after-wake status is retried once after a fresh wake, as a
 * host library does. Errors carry the chip's status in detail text. Where
 * the transport can pipeline (the kit protocol), a command sequence such as
 * Random, Nonce, Sign travels in one round trip.
 *
 * Limitations: one command at a time per handle (no locking inside); a
 * handle is not for use from two threads at once.
 */
#ifndef THINGCORE_SE_H
#define THINGCORE_SE_H

#include <stddef.h>
#include <stdint.h>

#include "thingcore/atca.h"
#include "thingcore/err.h"

struct tc_se;

/*
 * A transport moves packets; it knows nothing of commands. Every function
 * returns a tc_err code. xfer sends one command packet (count..crc) and
 * receives one response into rsp (cap bytes), waiting for the chip up to
 * exec_ms milliseconds where the transport has to poll.
 */
struct tc_se_transport {
    const char *name;
    int (*wake)(void *ctx, uint8_t *rsp4, struct tc_detail *d);
    int (*idle)(void *ctx, struct tc_detail *d);
    int (*sleep)(void *ctx, struct tc_detail *d);
    int (*xfer)(void *ctx, const uint8_t *cmd, size_t n, uint8_t *rsp,
                size_t cap, size_t *rsp_len, unsigned exec_ms,
                struct tc_detail *d);
    void (*close)(void *ctx);

    /*
     * Optional (NULL where the medium cannot pipeline, as on I2C): send n
     * command packets back to back and receive their n responses, in one
     * round trip. rsps holds n * TC_ATCA_RSP_MAX bytes.
     */
    int (*xfer_many)(void *ctx, size_t n, const uint8_t *const *cmds,
                     const size_t *lens, uint8_t *rsps, size_t *rsp_lens,
                     struct tc_detail *d);
};

/*
 * Open a chip by transport string. *out is handed to the caller, who closes
 * it with tc_se_close. A malformed string is TC_ERR_ATCA_TRANSPORT with the
 * reason; an unreachable chip is TC_ERR_ATCA_NO_DEVICE naming the path.
 */
int tc_se_open(const char *transport, struct tc_se **out, struct tc_detail *d);

/* Wrap a transport the caller built (tests, custom hosts); ctx is kept. */
struct tc_se *tc_se_from_transport(const struct tc_se_transport *t,
                                   void *ctx);
void tc_se_close(struct tc_se *se);

/* The transport string it was opened with ("" for tc_se_from_transport). */
const char *tc_se_name(const struct tc_se *se);

/*
 * Send one command and receive its data. On success *n receives the data
 * length (rsp holds at least TC_ATCA_RSP_MAX bytes). The chip is woken
 * before and put to idle after, so TempKey survives between commands.
 */
int tc_se_command(struct tc_se *se, uint8_t opcode, uint8_t p1, uint16_t p2,
                  const uint8_t *data, size_t len, uint8_t *rsp, size_t *n,
                  struct tc_detail *d);

/* Info(revision): 4 bytes, e.g. 00 00 60 02. */
int tc_se_info(struct tc_se *se, uint8_t *rev, struct tc_detail *d);

/* The 9-byte serial number from config bytes 0-3 and 8-12. */
int tc_se_read_serial(struct tc_se *se, uint8_t *sn, struct tc_detail *d);

/*
 * Read len bytes of a zone from byte offset, splitting into 32-byte block
 * reads and 4-byte word reads as a host library does. For the data zone,
 * slot selects the slot and offset is within it.
 */
int tc_se_read(struct tc_se *se, int zone, unsigned slot, size_t offset,
               uint8_t *out, size_t len, struct tc_detail *d);

/* Write len bytes (a multiple of 4, 4-byte aligned) the same way. */
int tc_se_write(struct tc_se *se, int zone, unsigned slot, size_t offset,
                const uint8_t *in, size_t len, struct tc_detail *d);

/* The whole 128-byte config zone. */
int tc_se_read_config(struct tc_se *se, uint8_t *config, struct tc_detail *d);

struct tc_se_locks {
    int config_locked;
    int data_locked;
    uint16_t slot_locked; /* bit n set: slot n locked */
};
int tc_se_lock_status(struct tc_se *se, struct tc_se_locks *locks,
                      struct tc_detail *d);

/*
 * Lock the config zone (zone 0) or the data and OTP zones (zone 1) after
 * checking the summary CRC of the content the caller expects (crc computed
 * by the caller from what it wrote; pass -1 to lock without the check).
 */
int tc_se_lock_zone(struct tc_se *se, int zone, long crc, struct tc_detail *d);
int tc_se_lock_slot(struct tc_se *se, unsigned slot, struct tc_detail *d);

int tc_se_random(struct tc_se *se, uint8_t *out32, struct tc_detail *d);

/*
 * Write the Trust&GO (ATECC608-TNGTLS) SlotConfig/KeyConfig of every slot
 * and I2C address 0x6A into a chip whose config zone is unlocked. The
 * zone is not locked here.
 */
int tc_se_configure_trustngo(struct tc_se *se, struct tc_detail *d);

/* GenKey: create a new private key in slot; pub receives X||Y (64). */
int tc_se_genkey(struct tc_se *se, unsigned slot, uint8_t *pub,
                 struct tc_detail *d);
/* GenKey mode 0: the public key of the private key in slot (64 bytes). */
int tc_se_pubkey(struct tc_se *se, unsigned slot, uint8_t *pub,
                 struct tc_detail *d);

/*
 * Sign a 32-byte digest with the key in slot: Random, Nonce into the
 * message digest buffer, Sign external. sig receives r||s (64 bytes).
 */
int tc_se_sign(struct tc_se *se, unsigned slot, const uint8_t *digest,
               uint8_t *sig, struct tc_detail *d);

/*
 * Verify r||s over digest with an external P-256 public key (X||Y).
 * Returns TC_OK and *valid = 1 or 0; other codes mean the check did not
 * happen.
 */
int tc_se_verify(struct tc_se *se, const uint8_t *digest, const uint8_t *sig,
                 const uint8_t *pub, int *valid, struct tc_detail *d);

/* ECDH of the key in slot with peer (X||Y); secret receives 32 bytes. */
int tc_se_ecdh(struct tc_se *se, unsigned slot, const uint8_t *peer,
               uint8_t *secret, struct tc_detail *d);

/* SHA-256 of a message computed in the chip (start, updates, end). */
int tc_se_sha256(struct tc_se *se, const uint8_t *msg, size_t len,
                 uint8_t *digest, struct tc_detail *d);

/*
 * A chip in this process (a factory, tests, benches): the transport calls
 * tc_chip_execute directly. chip is borrowed and must outlive the handle.
 */
struct tc_chip;
struct tc_se *tc_se_from_chip(struct tc_chip *chip);

/* Transports, also usable directly (tests, benches). */
int tc_se_unix_open(const char *path, struct tc_se **out, struct tc_detail *d);
int tc_se_kit_open(const char *device, struct tc_se **out,
                   struct tc_detail *d);
int tc_se_i2c_open(const char *spec, struct tc_se **out, struct tc_detail *d);

/*
 * The I2C transport's bus access, replaceable so it can be exercised at
 * the byte level without a bus: write n bytes to the 7-bit address, read n
 * bytes from it; each returns 0 or -1 (errno set), like i2c-dev's read and
 * write. wake_ms/poll delays are done by the transport with usleep.
 */
struct tc_i2c_bus {
    int (*write)(void *ctx, uint8_t addr, const uint8_t *p, size_t n);
    int (*read)(void *ctx, uint8_t addr, uint8_t *p, size_t n);
    void (*close)(void *ctx);
    void *ctx;
};
int tc_se_i2c_open_bus(const struct tc_i2c_bus *bus, uint8_t addr,
                       struct tc_se **out, struct tc_detail *d);

#endif
