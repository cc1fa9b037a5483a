// SPDX-License-Identifier: Apache-2.0
/*
 * The secure element client's command layer: opens a transport by name,
 * frames commands, checks responses, retries once after a fresh wake, and
 * carries out the operations a Trust&GO host needs in the same command
 * sequences Microchip's host library uses. The transports themselves live
 * in transport_*.c.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "thingcore/se.h"

struct tc_se {
    const struct tc_se_transport *t;
    void *ctx;
    char name[256];
};

struct tc_se *
tc_se_from_transport(const struct tc_se_transport *t, void *ctx)
{
    struct tc_se *se = calloc(1, sizeof(*se));

    if (se == NULL) {
        return NULL;
    }
    se->t = t;
    se->ctx = ctx;
    return se;
}

void
tc_se_close(struct tc_se *se)
{
    if (se == NULL) {
        return;
    }
    if (se->t->close != NULL) {
        se->t->close(se->ctx);
    }
    free(se);
}

const char *
tc_se_name(const struct tc_se *se)
{
    return se->name;
}

int
tc_se_open(const char *transport, struct tc_se **out, struct tc_detail *d)
{
    const char *colon = strchr(transport, ':');
    size_t scheme;
    int rc;

    *out = NULL;
    if (colon == NULL) {
        return tc_detail_set(d, TC_ERR_ATCA_TRANSPORT, 0, "transport",
                             "'%s' names no transport: use unix:PATH, "
                             "kit:DEVICE or i2c:/dev/i2c-N@ADDR",
                             transport);
    }
    scheme = (size_t)(colon - transport);
    if (colon[1] == '\0') {
        return tc_detail_set(d, TC_ERR_ATCA_TRANSPORT, (long)scheme + 1,
                             "transport", "nothing after '%.*s:'",
                             (int)scheme, transport);
    }
    if (scheme == 4 && strncmp(transport, "unix", 4) == 0) {
        rc = tc_se_unix_open(colon + 1, out, d);
    } else if (scheme == 3 && strncmp(transport, "kit", 3) == 0) {
        rc = tc_se_kit_open(colon + 1, out, d);
    } else if (scheme == 3 && strncmp(transport, "i2c", 3) == 0) {
        rc = tc_se_i2c_open(colon + 1, out, d);
    } else {
        return tc_detail_set(d, TC_ERR_ATCA_TRANSPORT, 0, "transport",
                             "unknown transport '%.*s' (use unix, kit or "
                             "i2c)",
                             (int)scheme, transport);
    }
    if (rc == TC_OK) {
        snprintf((*out)->name, sizeof((*out)->name), "%s", transport);
    }
    return rc;
}

/* ---- one command ---- */

static int
wake(struct tc_se *se, struct tc_detail *d)
{
    uint8_t rsp[4];
    int rc = se->t->wake(se->ctx, rsp, d);

    if (rc != TC_OK) {
        return rc;
    }
    if (tc_atca_crc(rsp, 2) != (uint16_t)(rsp[2] | rsp[3] << 8) ||
        rsp[0] != 0x04 || rsp[1] != TC_ATCA_ST_AFTER_WAKE) {
        return tc_detail_set(d, TC_ERR_ATCA_NO_DEVICE, -1, NULL,
                             "wake answered %02x %02x %02x %02x, not the "
                             "after-wake status 04 11 33 43",
                             rsp[0], rsp[1], rsp[2], rsp[3]);
    }
    return TC_OK;
}

static const char *
op_name(uint8_t opcode)
{
    switch (opcode) {
    case TC_ATCA_OP_READ:
        return "Read";
    case TC_ATCA_OP_WRITE:
        return "Write";
    case TC_ATCA_OP_NONCE:
        return "Nonce";
    case TC_ATCA_OP_LOCK:
        return "Lock";
    case TC_ATCA_OP_RANDOM:
        return "Random";
    case TC_ATCA_OP_INFO:
        return "Info";
    case TC_ATCA_OP_GENKEY:
        return "GenKey";
    case TC_ATCA_OP_SIGN:
        return "Sign";
    case TC_ATCA_OP_ECDH:
        return "ECDH";
    case TC_ATCA_OP_VERIFY:
        return "Verify";
    case TC_ATCA_OP_SHA:
        return "SHA";
    default:
        return "command";
    }
}

/*
 * Send one command to an awake chip. A response lost to line noise (bad
 * CRC, communication error) or an unexpected after-wake status means the
 * chip reset or slept: wake it and try once more.
 */
static int
exchange(struct tc_se *se, uint8_t opcode, uint8_t p1, uint16_t p2,
         const uint8_t *data, size_t len, uint8_t *out, size_t *n,
         struct tc_detail *d)
{
    uint8_t cmd[TC_ATCA_CMD_MAX];
    uint8_t rsp[TC_ATCA_RSP_MAX];
    size_t cmd_len = tc_atca_build_cmd(cmd, opcode, p1, p2, data, len);
    const uint8_t *payload = NULL;
    size_t plen = 0;
    size_t rlen = 0;
    int attempt;
    int rc = TC_ERR_INTERNAL;

    if (cmd_len == 0) {
        return tc_detail_set(d, TC_ERR_ARG, -1, NULL,
                             "%s data of %zu bytes does not fit a packet",
                             op_name(opcode), len);
    }
    for (attempt = 0; attempt < 2; attempt++) {
        if (attempt > 0) {
            rc = wake(se, d);
            if (rc != TC_OK) {
                return rc;
            }
        }
        rc = se->t->xfer(se->ctx, cmd, cmd_len, rsp, sizeof(rsp), &rlen,
                         tc_atca_exec_max_ms(opcode), d);
        if (rc != TC_OK) {
            return rc;
        }
        rc = tc_atca_parse_rsp(rsp, rlen, &payload, &plen);
        if (rc != TC_ERR_ATCA_BAD_CRC && rc != TC_ERR_ATCA_COMM &&
            rc != TC_ERR_ATCA_AFTER_WAKE) {
            break;
        }
    }
    if (rc != TC_OK) {
        return tc_detail_set(d, rc, -1, NULL,
                             "%s (opcode 0x%02X, p1 0x%02X, p2 0x%04X): %s",
                             op_name(opcode), opcode, p1, p2,
                             tc_strerror(rc));
    }
    memcpy(out, payload, plen);
    *n = plen;
    return TC_OK;
}

/* Wake the chip for a sequence of commands; end() puts it to idle so
 * TempKey and the message digest buffer survive between sequences. */
static int
begin(struct tc_se *se, struct tc_detail *d)
{
    return wake(se, d);
}

static int
end(struct tc_se *se, int rc, struct tc_detail *d)
{
    struct tc_detail ignored;
    int irc = se->t->idle(se->ctx, rc == TC_OK ? d : &ignored);

    return rc != TC_OK ? rc : irc;
}

int
tc_se_command(struct tc_se *se, uint8_t opcode, uint8_t p1, uint16_t p2,
              const uint8_t *data, size_t len, uint8_t *rsp, size_t *n,
              struct tc_detail *d)
{
    int rc = begin(se, d);

    if (rc == TC_OK) {
        rc = exchange(se, opcode, p1, p2, data, len, rsp, n, d);
    }
    return end(se, rc, d);
}

/* A command whose answer must be exactly want bytes. */
static int
expect(struct tc_se *se, uint8_t opcode, uint8_t p1, uint16_t p2,
       const uint8_t *data, size_t len, uint8_t *out, size_t want,
       struct tc_detail *d)
{
    uint8_t rsp[TC_ATCA_RSP_MAX];
    size_t n = 0;
    int rc = exchange(se, opcode, p1, p2, data, len, rsp, &n, d);

    if (rc != TC_OK) {
        return rc;
    }
    if (n != want) {
        return tc_detail_set(d, TC_ERR_ATCA_BAD_RESPONSE, -1, NULL,
                             "%s answered %zu bytes, expected %zu",
                             op_name(opcode), n, want);
    }
    if (out != NULL) {
        memcpy(out, rsp, want);
    }
    return TC_OK;
}

/* A command that answers only the success status. */
static int
expect_ok(struct tc_se *se, uint8_t opcode, uint8_t p1, uint16_t p2,
          const uint8_t *data, size_t len, struct tc_detail *d)
{
    uint8_t st = TC_ATCA_ST_COMM;
    int rc = expect(se, opcode, p1, p2, data, len, &st, 1, d);

    if (rc == TC_OK && st != TC_ATCA_ST_SUCCESS) {
        rc = tc_detail_set(d, tc_atca_status_err(st), -1, NULL,
                           "%s answered status 0x%02X", op_name(opcode), st);
    }
    return rc;
}

/* ---- operations ---- */

int
tc_se_info(struct tc_se *se, uint8_t *rev, struct tc_detail *d)
{
    int rc = begin(se, d);

    if (rc == TC_OK) {
        rc = expect(se, TC_ATCA_OP_INFO, 0x00, 0, NULL, 0, rev, 4, d);
    }
    return end(se, rc, d);
}

static size_t
zone_size(int zone, unsigned slot)
{
    if (zone == TC_ATCA_ZONE_CONFIG) {
        return TC_ATCA_CONFIG_SIZE;
    }
    if (zone == TC_ATCA_ZONE_OTP) {
        return TC_ATCA_OTP_SIZE;
    }
    return tc_atca_slot_size(slot);
}

static int
check_range(int zone, unsigned slot, size_t offset, size_t len,
            struct tc_detail *d)
{
    size_t size;

    if (zone < 0 || zone > 2 || (zone == 2 && slot >= TC_ATCA_SLOTS)) {
        return tc_detail_set(d, TC_ERR_ARG, -1, "zone",
                             "no zone %d slot %u", zone, slot);
    }
    size = zone_size(zone, slot);
    if (offset > size || len > size - offset) {
        return tc_detail_set(d, TC_ERR_ARG, (long)offset, "offset",
                             "bytes %zu..%zu are outside the %zu-byte %s",
                             offset, offset + len, size,
                             zone == 0 ? "config zone"
                             : zone == 1 ? "OTP zone"
                                         : "slot");
    }
    return TC_OK;
}

/*
 * Reads go by 32-byte blocks where a whole block lies inside the range and
 * the zone, by 4-byte words elsewhere; a word read covers an unaligned
 * start or end and only the wanted bytes are copied out.
 */
static int
read_range(struct tc_se *se, int zone, unsigned slot, size_t offset,
           uint8_t *out, size_t len, struct tc_detail *d)
{
    size_t size = zone_size(zone, slot);
    size_t done = 0;
    int rc = TC_OK;

    while (done < len && rc == TC_OK) {
        size_t at = offset + done;
        uint8_t buf[32];

        if (at % 32 == 0 && len - done >= 32 && at + 32 <= size) {
            uint16_t a = tc_atca_addr(zone, slot, (unsigned)(at / 32), 0);

            rc = expect(se, TC_ATCA_OP_READ, (uint8_t)(zone | 0x80), a, NULL,
                        0, out + done, 32, d);
            done += 32;
        } else {
            size_t word_start = at - at % 4;
            size_t skip = at - word_start;
            size_t take = 4 - skip;
            uint16_t a = tc_atca_addr(zone, slot, (unsigned)(word_start / 32),
                                      (unsigned)(word_start % 32 / 4));

            if (take > len - done) {
                take = len - done;
            }
            rc = expect(se, TC_ATCA_OP_READ, (uint8_t)zone, a, NULL, 0, buf,
                        4, d);
            memcpy(out + done, buf + skip, take);
            done += take;
        }
    }
    return rc;
}

int
tc_se_read(struct tc_se *se, int zone, unsigned slot, size_t offset,
           uint8_t *out, size_t len, struct tc_detail *d)
{
    int rc = check_range(zone, slot, offset, len, d);

    if (rc != TC_OK) {
        return rc;
    }
    rc = begin(se, d);
    if (rc == TC_OK) {
        rc = read_range(se, zone, slot, offset, out, len, d);
    }
    return end(se, rc, d);
}

int
tc_se_write(struct tc_se *se, int zone, unsigned slot, size_t offset,
            const uint8_t *in, size_t len, struct tc_detail *d)
{
    size_t size = zone_size(zone, slot);
    size_t done = 0;
    int rc = check_range(zone, slot, offset, len, d);

    if (rc != TC_OK) {
        return rc;
    }
    if (offset % 4 != 0 || len % 4 != 0) {
        return tc_detail_set(d, TC_ERR_ARG, (long)offset, "offset",
                             "writes are whole 4-byte words (offset %zu, "
                             "length %zu)",
                             offset, len);
    }
    rc = begin(se, d);
    while (rc == TC_OK && done < len) {
        size_t at = offset + done;
        size_t n = (at % 32 == 0 && len - done >= 32 && at + 32 <= size) ? 32
                                                                           : 4;
        uint16_t a = tc_atca_addr(zone, slot, (unsigned)(at / 32),
                                  (unsigned)(at % 32 / 4));

        rc = expect_ok(se, TC_ATCA_OP_WRITE,
                       (uint8_t)(zone | (n == 32 ? 0x80 : 0)), a, in + done,
                       n, d);
        done += n;
    }
    return end(se, rc, d);
}

int
tc_se_read_config(struct tc_se *se, uint8_t *config, struct tc_detail *d)
{
    return tc_se_read(se, TC_ATCA_ZONE_CONFIG, 0, 0, config,
                      TC_ATCA_CONFIG_SIZE, d);
}

int
tc_se_read_serial(struct tc_se *se, uint8_t *sn, struct tc_detail *d)
{
    uint8_t block[32];
    int rc = tc_se_read(se, TC_ATCA_ZONE_CONFIG, 0, 0, block, 32, d);

    if (rc != TC_OK) {
        return rc;
    }
    memcpy(sn, block, 4);
    memcpy(sn + 4, block + 8, 5);
    return TC_OK;
}

int
tc_se_lock_status(struct tc_se *se, struct tc_se_locks *locks,
                  struct tc_detail *d)
{
    uint8_t w[8];
    int rc = tc_se_read(se, TC_ATCA_ZONE_CONFIG, 0, 84, w, 8, d);

    if (rc != TC_OK) {
        return rc;
    }

    /* Bytes 86/87 are LockValue/LockConfig; 0x55 means unlocked. */
    locks->data_locked = w[2] != 0x55;
    locks->config_locked = w[3] != 0x55;
    locks->slot_locked = (uint16_t)~(w[4] | w[5] << 8);
    return TC_OK;
}

int
tc_se_lock_zone(struct tc_se *se, int zone, long crc, struct tc_detail *d)
{
    uint8_t mode;
    int rc;

    if (zone != 0 && zone != 1) {
        return tc_detail_set(d, TC_ERR_ARG, -1, "zone",
                             "lock zone %d: use 0 (config) or 1 (data)",
                             zone);
    }
    mode = (uint8_t)(zone | (crc < 0 ? 0x80 : 0));
    rc = begin(se, d);
    if (rc == TC_OK) {
        rc = expect_ok(se, TC_ATCA_OP_LOCK, mode,
                       (uint16_t)(crc < 0 ? 0 : crc), NULL, 0, d);
    }
    return end(se, rc, d);
}

int
tc_se_lock_slot(struct tc_se *se, unsigned slot, struct tc_detail *d)
{
    int rc;

    if (slot >= TC_ATCA_SLOTS) {
        return tc_detail_set(d, TC_ERR_ARG, -1, "slot", "no slot %u", slot);
    }
    rc = begin(se, d);
    if (rc == TC_OK) {
        rc = expect_ok(se, TC_ATCA_OP_LOCK, (uint8_t)(0x82 | slot << 2), 0,
                       NULL, 0, d);
    }
    return end(se, rc, d);
}

int
tc_se_random(struct tc_se *se, uint8_t *out32, struct tc_detail *d)
{
    int rc = begin(se, d);

    if (rc == TC_OK) {
        rc = expect(se, TC_ATCA_OP_RANDOM, 0, 0, NULL, 0, out32, 32, d);
    }
    return end(se, rc, d);
}

static int
genkey(struct tc_se *se, uint8_t mode, unsigned slot, uint8_t *pub,
       struct tc_detail *d)
{
    int rc;

    if (slot >= TC_ATCA_SLOTS) {
        return tc_detail_set(d, TC_ERR_ARG, -1, "slot", "no slot %u", slot);
    }
    rc = begin(se, d);
    if (rc == TC_OK) {
        rc = expect(se, TC_ATCA_OP_GENKEY, mode, (uint16_t)slot, NULL, 0, pub,
                    TC_ATCA_PUBKEY_SIZE, d);
    }
    return end(se, rc, d);
}

int
tc_se_genkey(struct tc_se *se, unsigned slot, uint8_t *pub,
             struct tc_detail *d)
{
    return genkey(se, 0x04, slot, pub, d);
}

int
tc_se_pubkey(struct tc_se *se, unsigned slot, uint8_t *pub,
             struct tc_detail *d)
{
    return genkey(se, 0x00, slot, pub, d);
}

/* One command of a sequence and what its answer must be. */
struct step {
    uint8_t opcode;
    uint8_t p1;
    uint16_t p2;
    const uint8_t *data;
    size_t len;
    uint8_t *out; /* may be NULL */
    size_t want;  /* data bytes expected; 0 means the success status */
};

/* Check one response of a sequence against its step. */
static int
check_step(const struct step *s, const uint8_t *rsp, size_t rlen,
           struct tc_detail *d)
{
    const uint8_t *payload = NULL;
    size_t plen = 0;
    size_t want = s->want != 0 ? s->want : 1;
    int rc = tc_atca_parse_rsp(rsp, rlen, &payload, &plen);

    if (rc != TC_OK) {
        return tc_detail_set(d, rc, -1, NULL,
                             "%s (opcode 0x%02X, p1 0x%02X, p2 0x%04X): %s",
                             op_name(s->opcode), s->opcode, s->p1, s->p2,
                             tc_strerror(rc));
    }
    if (plen != want || (s->want == 0 && payload[0] != 0)) {
        return tc_detail_set(d, TC_ERR_ATCA_BAD_RESPONSE, -1, NULL,
                             "%s answered %zu bytes, expected %zu",
                             op_name(s->opcode), plen, want);
    }
    if (s->out != NULL && s->want != 0) {
        memcpy(s->out, payload, plen);
    }
    return TC_OK;
}

/*
 * Run a command sequence on an awake chip: in one round trip where the
 * transport pipelines, else command by command. A response damaged in
 * transit (bad CRC, communication error, a chip that reset) sends the
 * whole sequence again command by command, with exchange()'s retry.
 */
static int
run_steps(struct tc_se *se, const struct step *steps, size_t n,
          struct tc_detail *d)
{
    uint8_t cmds[4][TC_ATCA_CMD_MAX];
    const uint8_t *cmd_ptrs[4];
    size_t lens[4];
    uint8_t rsps[4 * TC_ATCA_RSP_MAX];
    size_t rsp_lens[4];
    size_t i;
    int rc = TC_ERR_INTERNAL;

    if (se->t->xfer_many != NULL && n <= 4) {
        for (i = 0; i < n; i++) {
            lens[i] = tc_atca_build_cmd(cmds[i], steps[i].opcode, steps[i].p1,
                                        steps[i].p2, steps[i].data,
                                        steps[i].len);
            cmd_ptrs[i] = cmds[i];
        }
        rc = se->t->xfer_many(se->ctx, n, cmd_ptrs, lens, rsps, rsp_lens, d);
        if (rc != TC_OK) {
            return rc;
        }
        for (i = 0; i < n && rc == TC_OK; i++) {
            rc = check_step(&steps[i], rsps + i * TC_ATCA_RSP_MAX,
                            rsp_lens[i], d);
        }
        if (rc != TC_ERR_ATCA_BAD_CRC && rc != TC_ERR_ATCA_COMM &&
            rc != TC_ERR_ATCA_AFTER_WAKE) {
            return rc;
        }
    }
    for (i = 0, rc = TC_OK; i < n && rc == TC_OK; i++) {
        if (steps[i].want == 0) {
            rc = expect_ok(se, steps[i].opcode, steps[i].p1, steps[i].p2,
                           steps[i].data, steps[i].len, d);
        } else {
            rc = expect(se, steps[i].opcode, steps[i].p1, steps[i].p2,
                        steps[i].data, steps[i].len, steps[i].out,
                        steps[i].want, d);
        }
    }
    return rc;
}

int
tc_se_sign(struct tc_se *se, unsigned slot, const uint8_t *digest,
           uint8_t *sig, struct tc_detail *d)
{
    /* Random reseeds the generator; the digest goes to the message digest
     * buffer, which Sign mode 0xA0 signs. */
    const struct step steps[3] = {
        {TC_ATCA_OP_RANDOM, 0, 0, NULL, 0, NULL, 32},
        {TC_ATCA_OP_NONCE, 0x43, 0, digest, 32, NULL, 0},
        {TC_ATCA_OP_SIGN, 0xA0, (uint16_t)slot, NULL, 0, sig,
         TC_ATCA_SIG_SIZE},
    };
    int rc;

    if (slot >= TC_ATCA_SLOTS) {
        return tc_detail_set(d, TC_ERR_ARG, -1, "slot", "no slot %u", slot);
    }
    rc = begin(se, d);
    if (rc == TC_OK) {
        rc = run_steps(se, steps, 3, d);
    }
    return end(se, rc, d);
}

int
tc_se_verify(struct tc_se *se, const uint8_t *digest, const uint8_t *sig,
             const uint8_t *pub, int *valid, struct tc_detail *d)
{
    uint8_t data[TC_ATCA_SIG_SIZE + TC_ATCA_PUBKEY_SIZE];
    int rc;

    *valid = 0;
    memcpy(data, sig, TC_ATCA_SIG_SIZE);
    memcpy(data + TC_ATCA_SIG_SIZE, pub, TC_ATCA_PUBKEY_SIZE);
    rc = begin(se, d);
    if (rc == TC_OK) {
        rc = expect_ok(se, TC_ATCA_OP_NONCE, 0x43, 0, digest, 32, d);
    }
    if (rc == TC_OK) {
        rc = expect_ok(se, TC_ATCA_OP_VERIFY, 0x22, 0x0004, data,
                       sizeof(data), d);

        /* Miscompare is the chip's "signature does not verify". */
        if (rc == TC_ERR_ATCA_MISCOMPARE) {
            rc = TC_OK;
        } else if (rc == TC_OK) {
            *valid = 1;
        }
    }
    return end(se, rc, d);
}

int
tc_se_ecdh(struct tc_se *se, unsigned slot, const uint8_t *peer,
           uint8_t *secret, struct tc_detail *d)
{
    int rc;

    if (slot >= TC_ATCA_SLOTS) {
        return tc_detail_set(d, TC_ERR_ARG, -1, "slot", "no slot %u", slot);
    }
    rc = begin(se, d);
    if (rc == TC_OK) {
        rc = expect(se, TC_ATCA_OP_ECDH, 0x0C, (uint16_t)slot, peer,
                    TC_ATCA_PUBKEY_SIZE, secret, 32, d);
    }
    return end(se, rc, d);
}

int
tc_se_sha256(struct tc_se *se, const uint8_t *msg, size_t len,
             uint8_t *digest, struct tc_detail *d)
{
    size_t done = 0;
    int rc = begin(se, d);

    /* Start, whole 64-byte blocks, then the tail (0-63 bytes) with End. */
    if (rc == TC_OK) {
        rc = expect_ok(se, TC_ATCA_OP_SHA, 0x00, 0, NULL, 0, d);
    }
    while (rc == TC_OK && len - done >= 64) {
        rc = expect_ok(se, TC_ATCA_OP_SHA, 0x01, 64, msg + done, 64, d);
        done += 64;
    }
    if (rc == TC_OK) {
        rc = expect(se, TC_ATCA_OP_SHA, 0xC2, (uint16_t)(len - done),
                    msg + done, len - done, digest, 32, d);
    }
    return end(se, rc, d);
}
