// SPDX-License-Identifier: Apache-2.0
/*
 * The I2C transport byte by byte, against a test bus that wraps a real
 * virtual chip and behaves like one on the wire: it acknowledges only its
 * own address, answers a wake with 04 11 33 43, and does not acknowledge
 * reads for a few polls while a command "executes". Also the transport
 * strings' refusals and the kit client's bounds against a scripted peer.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "../test.h"
#include "thingcore/chip.h"
#include "thingcore/se.h"
#include "thingcore/util.h"

struct tbus {
    struct tc_chip *chip;
    int busy_polls;   /* NACKs after each command before the answer */
    int never;        /* never answer a command */
    int bad_count;    /* answer with count byte 0xFF */
    int busy;
    int nacks;
    uint8_t addr;
    uint8_t rsp[TC_ATCA_RSP_MAX];
    size_t rsp_len;
    size_t rsp_off;
    char log[8192];
    size_t log_len;
};

static void
note(struct tbus *b, const char *fmt, const char *tag, uint8_t addr,
     const uint8_t *p, size_t n)
{
    char hex[2 * (1 + TC_ATCA_CMD_MAX) + 1];
    int w;

    tc_hex_encode(p, n, hex, 1);
    w = snprintf(b->log + b->log_len, sizeof(b->log) - b->log_len, fmt, tag,
                 addr, hex);
    if (w > 0 && (size_t)w < sizeof(b->log) - b->log_len) {
        b->log_len += (size_t)w;
    }
}

/* The address the chip answers, in 7-bit form (set at each wake). */
static uint8_t
chip_addr(const struct tbus *b)
{
    return b->addr;
}

/*
 * Like the real part, the chip takes its I2C address from config byte 16
 * only once the config zone is locked; before, it answers at 0xC0. The
 * lock byte is read through the chip's own Read (config word 21).
 */
static void
wake_address(struct tbus *b)
{
    uint8_t cmd[TC_ATCA_CMD_MAX];
    uint8_t rsp[TC_ATCA_RSP_MAX];
    size_t n = tc_atca_build_cmd(cmd, TC_ATCA_OP_READ, TC_ATCA_ZONE_CONFIG,
                                 tc_atca_addr(TC_ATCA_ZONE_CONFIG, 0, 2, 5),
                                 NULL, 0);

    b->addr = 0x60;
    if (tc_chip_execute(b->chip, cmd, n, rsp) == 7 && rsp[4] != 0x55) {
        b->addr = tc_chip_i2c_address(b->chip) >> 1;
    }
}

static int
tb_write(void *ctx, uint8_t addr, const uint8_t *p, size_t n)
{
    struct tbus *b = ctx;

    note(b, "%s%02X:%s ", "W", addr, p, n);

    /* General call with SDA held low: the wake pulse. Nobody ACKs it. */
    if (addr == 0x00) {
        b->rsp_len = tc_chip_wake(b->chip, b->rsp);
        wake_address(b);
        b->rsp_off = 0;
        b->busy = 0;
        errno = EREMOTEIO;
        return -1;
    }
    if (addr != chip_addr(b) || n < 1 ||
        tc_chip_power(b->chip) != TC_CHIP_AWAKE) {
        errno = ENXIO;
        return -1;
    }
    switch (p[0]) {
    case TC_ATCA_WA_COMMAND:
        b->rsp_len = tc_chip_execute(b->chip, p + 1, n - 1, b->rsp);
        b->rsp_off = 0;
        b->busy = b->never ? 1 << 30 : b->busy_polls;
        if (b->bad_count) {
            b->rsp[0] = 0xFF;
        }
        return 0;
    case TC_ATCA_WA_IDLE:
        tc_chip_idle(b->chip);
        b->rsp_len = 0;
        return 0;
    case TC_ATCA_WA_SLEEP:
        tc_chip_sleep(b->chip);
        b->rsp_len = 0;
        return 0;
    default:
        errno = EIO;
        return -1;
    }
}

static int
tb_read(void *ctx, uint8_t addr, uint8_t *p, size_t n)
{
    struct tbus *b = ctx;

    if (addr != chip_addr(b) || b->busy > 0 ||
        b->rsp_off + n > b->rsp_len) {
        if (b->busy > 0) {
            b->busy--;
        }
        b->nacks++;
        note(b, "%s%02X:%s ", "N", addr, NULL, 0);
        errno = ENXIO;
        return -1;
    }
    memcpy(p, b->rsp + b->rsp_off, n);
    b->rsp_off += n;
    note(b, "%s%02X:%s ", "R", addr, p, n);
    return 0;
}

static struct tbus *
tbus_new(int busy_polls)
{
    static const uint8_t sn[TC_ATCA_SN_SIZE] = {0x01, 0x23, 1, 2, 3,
                                                4,    5,    6, 0xEE};
    struct tbus *b = calloc(1, sizeof(*b));

    if (b == NULL) {
        return NULL;
    }
    b->chip = tc_chip_new(sn);
    b->busy_polls = busy_polls;
    return b;
}

static void
tbus_free(struct tbus *b)
{
    if (b != NULL) {
        tc_chip_free(b->chip);
        free(b);
    }
}

static struct tc_se *
open_on(struct tbus *b, uint8_t addr)
{
    struct tc_i2c_bus bus = {tb_write, tb_read, NULL, b};
    struct tc_se *se = NULL;

    if (tc_se_i2c_open_bus(&bus, addr, &se, NULL) != TC_OK) {
        return NULL;
    }
    return se;
}

TC_TEST(i2c_info_exact_bytes)
{
    struct tbus *b = tbus_new(2);
    struct tc_se *se;
    uint8_t rev[4];
    static const uint8_t want[4] = {0x00, 0x00, 0x60, 0x02};

    CHECK(b != NULL && b->chip != NULL);
    se = open_on(b, 0x60);
    CHECK(se != NULL);
    CHECK_EQ_INT(tc_se_info(se, rev, NULL), TC_OK);
    CHECK_EQ_MEM(rev, want, 4);

    /*
     * Wake pulse, wake response, [03]+Info packet, two NACKed polls, the
     * count byte, the other 6 bytes, then idle [02].
     */
    b->log[b->log_len] = '\0';
    CHECK_EQ_STR(b->log, "W00:00 R60:04113343 W60:030730000000035D N60: "
                         "N60: R60:07 R60:000060028038 W60:02 ");
    CHECK_EQ_INT(tc_chip_power(b->chip), TC_CHIP_IDLE);
    tc_se_close(se);
    tbus_free(b);
}

TC_TEST(i2c_sign_sequence)
{
    struct tbus *b = tbus_new(1);
    struct tc_se *se;
    uint8_t rnd[32];
    uint8_t pub[64];
    uint8_t digest[32] = {1, 2, 3};
    uint8_t sig[64];
    int valid = 0;

    CHECK(b != NULL && b->chip != NULL);
    se = open_on(b, 0x60);
    CHECK(se != NULL);

    /* Random: a 35-byte response read as count byte then 34. */
    CHECK_EQ_INT(tc_se_random(se, rnd, NULL), TC_OK);
    CHECK(strstr(b->log, "R60:23 ") != NULL);

    /*
     * Trust&GO configuration moves the chip to 0x6A (7-bit 0x35) once the
     * config zone is locked: the old address no longer answers.
     */
    CHECK_EQ_INT(tc_se_configure_trustngo(se, NULL), TC_OK);
    CHECK_EQ_INT(tc_se_lock_zone(se, 0, -1, NULL), TC_OK);
    CHECK_EQ_INT(tc_se_random(se, rnd, NULL), TC_ERR_ATCA_NO_DEVICE);
    tc_se_close(se);
    se = open_on(b, 0x35);
    CHECK(se != NULL);

    /* A key made in the chip, a signature over the wire, verified. */
    CHECK_EQ_INT(tc_se_genkey(se, 2, pub, NULL), TC_OK);
    CHECK_EQ_INT(tc_se_lock_zone(se, 1, -1, NULL), TC_OK);
    CHECK_EQ_INT(tc_se_sign(se, 2, digest, sig, NULL), TC_OK);
    CHECK_EQ_INT(tc_se_verify(se, digest, sig, pub, &valid, NULL), TC_OK);
    CHECK_EQ_INT(valid, 1);
    CHECK(b->nacks >= 4);
    tc_se_close(se);
    tbus_free(b);
}

TC_TEST(i2c_refusals)
{
    struct tbus *b = tbus_new(0);
    struct tc_se *se;
    struct tc_detail d;
    uint8_t rev[4];

    CHECK(b != NULL && b->chip != NULL);

    /* Nobody at 0x35: the wake gets no answer. */
    se = open_on(b, 0x35);
    CHECK(se != NULL);
    tc_detail_clear(&d);
    CHECK_EQ_INT(tc_se_info(se, rev, &d), TC_ERR_ATCA_NO_DEVICE);
    CHECK(strstr(d.text, "no wake response") != NULL);
    tc_se_close(se);

    /* A chip that never finishes: polled until exec time plus margin. */
    b->never = 1;
    se = open_on(b, 0x60);
    CHECK(se != NULL);
    tc_detail_clear(&d);
    CHECK_EQ_INT(tc_se_info(se, rev, &d), TC_ERR_TIMEOUT);
    CHECK(strstr(d.text, "no response within 52 ms") != NULL);

    /* A count byte beyond any response is refused before reading on. */
    b->never = 0;
    b->bad_count = 1;
    tc_detail_clear(&d);
    CHECK_EQ_INT(tc_se_info(se, rev, &d), TC_ERR_ATCA_BAD_RESPONSE);
    CHECK(strstr(d.text, "count byte 255") != NULL);
    tc_se_close(se);
    tbus_free(b);
}

struct spec_row {
    const char *spec;
    int rc;
    const char *text;
};

static const struct spec_row spec_rows[] = {
    {"i2c:/dev/i2c-1", TC_ERR_ATCA_TRANSPORT, "missing @ADDRESS"},
    {"i2c:@0x35", TC_ERR_ATCA_TRANSPORT, "missing device path"},
    {"i2c:/dev/i2c-1@0xZZ", TC_ERR_ATCA_TRANSPORT,
     "bad I2C address '0xZZ'"},
    {"i2c:/dev/i2c-1@", TC_ERR_ATCA_TRANSPORT, "bad I2C address ''"},
    {"i2c:/dev/i2c-1@ 0x35", TC_ERR_ATCA_TRANSPORT, "bad I2C address"},
    {"i2c:/dev/i2c-1@-1", TC_ERR_ATCA_TRANSPORT, "bad I2C address"},
    {"i2c:/dev/i2c-1@0x6A", TC_ERR_ATCA_TRANSPORT,
     "looks like an 8-bit address; give the 7-bit address 0x35"},
    {"i2c:/dev/i2c-1@0xC0", TC_ERR_ATCA_TRANSPORT,
     "looks like an 8-bit address; give the 7-bit address 0x60"},
    {"i2c:/dev/i2c-1@0x03", TC_ERR_ATCA_TRANSPORT, "outside 0x08..0x77"},
    {"i2c:/dev/i2c-1@0x1FF", TC_ERR_ATCA_TRANSPORT, "outside 0x08..0x77"},
    {"i2c:/nonexistent/i2c-9@0x35", TC_ERR_ATCA_NO_DEVICE,
     "cannot open /nonexistent/i2c-9"},
    {"foo:bar", TC_ERR_ATCA_TRANSPORT, "unknown transport 'foo'"},
    {"kit:/dev/null", TC_ERR_ATCA_TRANSPORT, "not a serial line"},
    {"kit:/nonexistent/tty", TC_ERR_ATCA_NO_DEVICE, "cannot open"},
    {"unix:/nonexistent/x.sock", TC_ERR_ATCA_NO_DEVICE,
     "cannot connect to unix:/nonexistent/x.sock"},
};

TC_TEST(se_transport_string_refusals)
{
    size_t i;
    char longpath[200];
    struct tc_se *se = NULL;
    struct tc_detail d;

    for (i = 0; i < sizeof(spec_rows) / sizeof(spec_rows[0]); i++) {
        int rc;

        tc_detail_clear(&d);
        rc = tc_se_open(spec_rows[i].spec, &se, &d);
        if (rc != spec_rows[i].rc || strstr(d.text, spec_rows[i].text) ==
                                         NULL) {
            tc_test_fail(__FILE__, __LINE__, "%s: rc %d, '%s'",
                         spec_rows[i].spec, rc, d.text);
            return;
        }
        CHECK(se == NULL);
    }

    /* The transports called directly check what the dispatcher would. */
    tc_detail_clear(&d);
    CHECK_EQ_INT(tc_se_unix_open("", &se, &d), TC_ERR_ATCA_TRANSPORT);
    CHECK(strstr(d.text, "missing path after unix:") != NULL);
    tc_detail_clear(&d);
    CHECK_EQ_INT(tc_se_kit_open("kit:", &se, &d), TC_ERR_ATCA_TRANSPORT);
    CHECK(strstr(d.text, "missing device after kit:") != NULL);
    memset(longpath, 'a', sizeof(longpath) - 1);
    longpath[0] = '/';
    longpath[sizeof(longpath) - 1] = '\0';
    tc_detail_clear(&d);
    CHECK_EQ_INT(tc_se_unix_open(longpath, &se, &d), TC_ERR_ATCA_TRANSPORT);
    CHECK(strstr(d.text, "socket path longer than") != NULL);
}

/* A scripted kit on a Unix socket: answers each line with the next reply. */
struct script {
    int lfd;
    const char *const *replies;
};

static void *
script_run(void *arg)
{
    struct script *sc = arg;
    int fd = accept(sc->lfd, NULL, NULL);
    char buf[512];
    size_t i = 0;

    while (fd >= 0 && sc->replies[i] != NULL) {
        ssize_t r = read(fd, buf, sizeof(buf));

        if (r <= 0) {
            break;
        }
        if (sc->replies[i][0] != '\0' &&
            write(fd, sc->replies[i], strlen(sc->replies[i])) < 0) {
            break;
        }
        i++;
    }

    /* Keep the line open so the client sees silence, not a close. */
    if (fd >= 0) {
        while (read(fd, buf, sizeof(buf)) > 0) {
        }
        close(fd);
    }
    return NULL;
}

static int
script_listen(const char *path)
{
    struct sockaddr_un sa;
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);

    memset(&sa, 0, sizeof(sa));
    sa.sun_family = AF_UNIX;
    snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
    if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
        listen(fd, 4) != 0) {
        return -1;
    }
    return fd;
}

/* Run one scripted session; returns the rc of open, then of info. */
static int
scripted(const char *const *replies, struct tc_detail *d)
{
    char path[100];
    struct script sc;
    pthread_t th;
    struct tc_se *se = NULL;
    uint8_t rev[4];
    int rc;

    if (snprintf(path, sizeof(path), "%s/kit-%p.sock", tc_test_tmpdir(),
                 (const void *)replies) >= (int)sizeof(path)) {
        return -1;
    }
    sc.lfd = script_listen(path);
    sc.replies = replies;
    if (sc.lfd < 0 || pthread_create(&th, NULL, script_run, &sc) != 0) {
        return -1;
    }
    rc = tc_se_unix_open(path, &se, d);
    if (rc == TC_OK) {
        rc = tc_se_info(se, rev, d);
        tc_se_close(se);
    }
    shutdown(sc.lfd, SHUT_RDWR);
    pthread_join(th, NULL);
    close(sc.lfd);
    return rc;
}

TC_TEST(kit_client_refusals)
{
    static const char *const not_ecc[] = {"SHA204A TWI 00(C8)\n", NULL};
    static const char *const garbage[] = {"what?\n", NULL};
    static const char *const asleep[] = {"ECC608 TWI 00(6A)\n", "00()\n",
                                         "E7()\n", NULL};
    static const char *const short_wake[] = {"ECC608 TWI 00(6A)\n",
                                             "00()\n", "00(0411)\n", NULL};
    static const char *const silent[] = {"ECC608 TWI 00(6A)\n", "00()\n",
                                         "", NULL};
    struct tc_detail d;

    tc_detail_clear(&d);
    CHECK_EQ_INT(scripted(not_ecc, &d), TC_ERR_ATCA_NO_DEVICE);
    CHECK(strstr(d.text, "not an ECC608") != NULL);
    tc_detail_clear(&d);
    CHECK_EQ_INT(scripted(garbage, &d), TC_ERR_ATCA_KIT);
    tc_detail_clear(&d);
    CHECK_EQ_INT(scripted(asleep, &d), TC_ERR_ATCA_NO_DEVICE);
    CHECK(strstr(d.text, "kit status E7 (no response from device)") != NULL);
    tc_detail_clear(&d);
    CHECK_EQ_INT(scripted(short_wake, &d), TC_ERR_ATCA_BAD_RESPONSE);
    tc_detail_clear(&d);
    CHECK_EQ_INT(scripted(silent, &d), TC_ERR_TIMEOUT);
    CHECK(strstr(d.text, "no reply within 2000 ms") != NULL);
}
