// SPDX-License-Identifier: Apache-2.0
/*
 * The I2C transport: an ATECC608 on a Linux I2C bus (i2c-dev), driven the
 * way the datasheet describes (reference/trustngo-atecc608.md, "I2C
 * protocol"): wake by holding SDA low, word address 0x03 before a command,
 * poll while the chip is busy (it does not acknowledge its address), read
 * the count byte then the rest, word address 0x02 for idle, 0x01 for sleep.
 * All bus access goes through struct tc_i2c_bus so the byte sequence can be
 * checked without a bus; the i2c-dev bus is the one implementation here.
 *
 * Addresses are 7-bit (0x35 for Trust&GO). Microchip's documents give the
 * 8-bit form (0x6A); that form is refused with a message naming the 7-bit
 * address rather than silently shifted, so a typo never talks to a
 * different device.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/i2c-dev.h>
#include <linux/i2c.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "thingcore/se.h"
#include "thingcore/util.h"

/* Time from the wake pulse to the chip being ready (tWHI, 1500 us). */
#define I2C_WAKE_US 1500
/* Extra time granted beyond a command's maximum execution time. */
#define I2C_MARGIN_MS 50
/* Pause between two polls of a busy chip. */
#define I2C_POLL_US 1000
/* Reads of the wake response before giving up. */
#define I2C_WAKE_TRIES 3

struct i2c_tr {
    struct tc_i2c_bus bus;
    uint8_t addr;
    char where[160]; /* "i2c:/dev/i2c-1@0x35" or "i2c@0x35" */
};

/* A NACK: the chip is asleep, busy, or absent. */
static int
is_nack(int e)
{
    return e == EIO || e == ENXIO || e == EREMOTEIO || e == EAGAIN;
}

static int
tr_wake(void *ctx, uint8_t *rsp4, struct tc_detail *d)
{
    struct i2c_tr *t = ctx;
    static const uint8_t zero = 0x00;
    int i;

    /*
     * Writing a zero byte to the general-call address holds SDA low long
     * enough for a wake at 100 kHz; nobody acknowledges it, so its result
     * says nothing and is ignored.
     */
    (void)t->bus.write(t->bus.ctx, 0x00, &zero, 1);
    usleep(I2C_WAKE_US);

    for (i = 0; i < I2C_WAKE_TRIES; i++) {
        if (t->bus.read(t->bus.ctx, t->addr, rsp4, 4) == 0) {
            return TC_OK;
        }
        if (!is_nack(errno)) {
            return tc_detail_set(d, TC_ERR_IO, -1, NULL, "%s: wake: %s",
                                 t->where, strerror(errno));
        }
        usleep(I2C_POLL_US);
    }
    return tc_detail_set(d, TC_ERR_ATCA_NO_DEVICE, -1, NULL,
                         "%s: no wake response (is the chip there, and the "
                         "bus at 100 kHz or less?)",
                         t->where);
}

static int
send_word(struct i2c_tr *t, uint8_t word, const char *what,
          struct tc_detail *d)
{
    if (t->bus.write(t->bus.ctx, t->addr, &word, 1) != 0) {
        return tc_detail_set(d, is_nack(errno) ? TC_ERR_ATCA_NO_DEVICE
                                               : TC_ERR_IO,
                             -1, NULL, "%s: %s: %s", t->where, what,
                             strerror(errno));
    }
    return TC_OK;
}

static int
tr_idle(void *ctx, struct tc_detail *d)
{
    return send_word(ctx, TC_ATCA_WA_IDLE, "idle", d);
}

static int
tr_sleep(void *ctx, struct tc_detail *d)
{
    return send_word(ctx, TC_ATCA_WA_SLEEP, "sleep", d);
}

static int
tr_xfer(void *ctx, const uint8_t *cmd, size_t n, uint8_t *rsp, size_t cap,
        size_t *rsp_len, unsigned exec_ms, struct tc_detail *d)
{
    struct i2c_tr *t = ctx;
    uint8_t buf[1 + TC_ATCA_CMD_MAX];
    double deadline;
    uint8_t count = 0;

    if (n < TC_ATCA_CMD_MIN || n > TC_ATCA_CMD_MAX || cap < 4) {
        return tc_detail_set(d, TC_ERR_ARG, -1, NULL,
                             "%s: command of %zu bytes", t->where, n);
    }

    /* [0x03][count .. crc] in one write. */
    buf[0] = TC_ATCA_WA_COMMAND;
    memcpy(buf + 1, cmd, n);
    if (t->bus.write(t->bus.ctx, t->addr, buf, n + 1) != 0) {
        return tc_detail_set(d, is_nack(errno) ? TC_ERR_ATCA_NO_DEVICE
                                               : TC_ERR_IO,
                             -1, NULL, "%s: command not accepted: %s",
                             t->where, strerror(errno));
    }

    /* Poll: while the chip computes it does not acknowledge a read. */
    deadline = tc_monotonic() + (exec_ms + I2C_MARGIN_MS) / 1000.0;
    for (;;) {
        if (t->bus.read(t->bus.ctx, t->addr, &count, 1) == 0) {
            break;
        }
        if (!is_nack(errno)) {
            return tc_detail_set(d, TC_ERR_IO, -1, NULL, "%s: read: %s",
                                 t->where, strerror(errno));
        }
        if (tc_monotonic() > deadline) {
            return tc_detail_set(d, TC_ERR_TIMEOUT, -1, NULL,
                                 "%s: no response within %u ms", t->where,
                                 exec_ms + I2C_MARGIN_MS);
        }
        usleep(I2C_POLL_US);
    }

    /* The count byte bounds the rest of the read. */
    if (count < 4 || count > TC_ATCA_RSP_MAX || count > cap) {
        return tc_detail_set(d, TC_ERR_ATCA_BAD_RESPONSE, -1, NULL,
                             "%s: response count byte %u", t->where, count);
    }
    rsp[0] = count;
    if (t->bus.read(t->bus.ctx, t->addr, rsp + 1, (size_t)count - 1) != 0) {
        return tc_detail_set(d, TC_ERR_IO, -1, NULL,
                             "%s: reading %u response bytes: %s", t->where,
                             count, strerror(errno));
    }
    *rsp_len = count;
    return TC_OK;
}

static void
tr_close(void *ctx)
{
    struct i2c_tr *t = ctx;

    if (t == NULL) {
        return;
    }
    if (t->bus.close != NULL) {
        t->bus.close(t->bus.ctx);
    }
    free(t);
}

static const struct tc_se_transport i2c_transport = {
    "i2c", tr_wake, tr_idle, tr_sleep, tr_xfer, tr_close, NULL,
};

static int
open_bus(const struct tc_i2c_bus *bus, uint8_t addr, const char *where,
         struct tc_se **out, struct tc_detail *d)
{
    struct i2c_tr *t = calloc(1, sizeof(*t));

    *out = NULL;
    if (t == NULL) {
        if (bus->close != NULL) {
            bus->close(bus->ctx);
        }
        return TC_ERR_NOMEM;
    }
    t->bus = *bus;
    t->addr = addr;
    snprintf(t->where, sizeof(t->where), "%s", where);
    *out = tc_se_from_transport(&i2c_transport, t);
    if (*out == NULL) {
        tr_close(t);
        return TC_ERR_NOMEM;
    }
    return TC_OK;
}

int
tc_se_i2c_open_bus(const struct tc_i2c_bus *bus, uint8_t addr,
                   struct tc_se **out, struct tc_detail *d)
{
    char where[32];

    snprintf(where, sizeof(where), "i2c@0x%02X", addr);
    return open_bus(bus, addr, where, out, d);
}

/* The i2c-dev bus: one I2C_RDWR message per transfer. */
static int
dev_xfer(void *ctx, uint8_t addr, uint8_t *p, size_t n, int rd)
{
    int fd = *(int *)ctx;
    struct i2c_msg msg;
    struct i2c_rdwr_ioctl_data xfer;

    msg.addr = addr;
    msg.flags = rd ? I2C_M_RD : 0;
    msg.len = (uint16_t)n;
    msg.buf = p;
    xfer.msgs = &msg;
    xfer.nmsgs = 1;
    return ioctl(fd, I2C_RDWR, &xfer) < 0 ? -1 : 0;
}

static int
dev_write(void *ctx, uint8_t addr, const uint8_t *p, size_t n)
{
    uint8_t buf[1 + TC_ATCA_CMD_MAX];

    if (n > sizeof(buf)) {
        errno = EINVAL;
        return -1;
    }
    memcpy(buf, p, n);
    return dev_xfer(ctx, addr, buf, n, 0);
}

static int
dev_read(void *ctx, uint8_t addr, uint8_t *p, size_t n)
{
    return dev_xfer(ctx, addr, p, n, 1);
}

static void
dev_close(void *ctx)
{
    if (ctx != NULL) {
        close(*(int *)ctx);
        free(ctx);
    }
}

/*
 * spec := ["i2c:"] PATH "@" ADDRESS
 * ADDRESS := a 7-bit address 0x08..0x77, in C notation (0x35 or 53)
 */
static int
parse_spec(const char *spec, char *path, size_t cap, uint8_t *addr,
           struct tc_detail *d)
{
    const char *at = strrchr(spec, '@');
    unsigned long v = 0;
    char *end = NULL;

    if (at == NULL) {
        return tc_detail_set(d, TC_ERR_ATCA_TRANSPORT, -1, "transport",
                             "missing @ADDRESS in 'i2c:%s' (e.g. "
                             "i2c:/dev/i2c-1@0x35)",
                             spec);
    }
    if (at == spec) {
        return tc_detail_set(d, TC_ERR_ATCA_TRANSPORT, -1, "transport",
                             "missing device path after i2c:");
    }
    if ((size_t)(at - spec) >= cap) {
        return tc_detail_set(d, TC_ERR_ATCA_TRANSPORT, -1, "transport",
                             "I2C device path too long");
    }
    memcpy(path, spec, (size_t)(at - spec));
    path[at - spec] = '\0';

    /* Digits only: strtoul alone would take spaces and a sign. */
    errno = 0;
    if (at[1] >= '0' && at[1] <= '9') {
        v = strtoul(at + 1, &end, 0);
    }
    if (end == NULL || *end != '\0' || errno != 0) {
        return tc_detail_set(d, TC_ERR_ATCA_TRANSPORT, -1, "transport",
                             "bad I2C address '%.20s'", at + 1);
    }
    if (v == 0x6A || v == 0x6C || (v > 0x77 && v <= 0xFF && v % 2 == 0)) {
        return tc_detail_set(d, TC_ERR_ATCA_TRANSPORT, -1, "transport",
                             "I2C address 0x%02lX looks like an 8-bit "
                             "address; give the 7-bit address 0x%02lX",
                             v, v >> 1);
    }
    if (v < 0x08 || v > 0x77) {
        return tc_detail_set(d, TC_ERR_ATCA_TRANSPORT, -1, "transport",
                             "I2C address '%.20s' is outside 0x08..0x77",
                             at + 1);
    }
    *addr = (uint8_t)v;
    return TC_OK;
}

int
tc_se_i2c_open(const char *spec, struct tc_se **out, struct tc_detail *d)
{
    struct tc_i2c_bus bus;
    char path[128];
    char where[160];
    uint8_t addr = 0;
    int *fdp;
    int rc;

    *out = NULL;
    if (strncmp(spec, "i2c:", 4) == 0) {
        spec += 4;
    }
    rc = parse_spec(spec, path, sizeof(path), &addr, d);
    if (rc != TC_OK) {
        return rc;
    }
    fdp = malloc(sizeof(*fdp));
    if (fdp == NULL) {
        return TC_ERR_NOMEM;
    }
    *fdp = open(path, O_RDWR | O_CLOEXEC);
    if (*fdp < 0) {
        int e = errno;

        free(fdp);
        return tc_detail_set(d, TC_ERR_ATCA_NO_DEVICE, -1, NULL,
                             "cannot open %s: %s", path, strerror(e));
    }
    bus.write = dev_write;
    bus.read = dev_read;
    bus.close = dev_close;
    bus.ctx = fdp;
    snprintf(where, sizeof(where), "i2c:%s@0x%02X", path, addr);
    return open_bus(&bus, addr, where, out, d);
}
