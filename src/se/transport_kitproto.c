// SPDX-License-Identifier: Apache-2.0
/*
 * The kit protocol client, over a Unix socket (unix:PATH, the emulator
 * daemon) or a serial line (kit:DEVICE, a Microchip kit or the daemon's
 * pty). Both speak the same ASCII lines (kit.h); only opening differs.
 * Every read is bounded in size and in time, so a silent or babbling peer
 * ends in TC_ERR_TIMEOUT or TC_ERR_ATCA_KIT, never in a hang.
 *
 * Idle is pipelined: its line is written at once and its reply is read
 * before the next exchange, which saves one round trip per command. An
 * idle the kit refuses is therefore reported by the next operation.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#include "thingcore/kit.h"
#include "thingcore/se.h"
#include "thingcore/util.h"

/* How long one reply may take before the transport gives up. */
#define KIT_TIMEOUT_MS 2000

struct kitproto {
    int fd;
    int is_socket;
    char where[160];  /* "unix:PATH" or "kit:DEVICE", for messages */
    unsigned pending; /* replies owed for lines already written */
    size_t in_len;
    char in[TC_KIT_LINE_MAX];
};

static int
send_all(struct kitproto *kp, const char *p, size_t n, struct tc_detail *d)
{
    while (n > 0) {
        ssize_t w;

        /* MSG_NOSIGNAL: a vanished daemon is an error, not a SIGPIPE. */
        if (kp->is_socket) {
            w = send(kp->fd, p, n, MSG_NOSIGNAL);
        } else {
            w = write(kp->fd, p, n);
        }
        if (w < 0 && errno == EINTR) {
            continue;
        }
        if (w <= 0) {
            return tc_detail_set(d, errno == EPIPE ? TC_ERR_CLOSED : TC_ERR_IO,
                                 -1, NULL, "%s: write: %s", kp->where,
                                 strerror(errno));
        }
        p += w;
        n -= (size_t)w;
    }
    return TC_OK;
}

/*
 * Read one line (without its "\n") into line (TC_KIT_LINE_MAX bytes),
 * waiting at most KIT_TIMEOUT_MS in all. NULs before a line are dropped.
 */
static int
read_line(struct kitproto *kp, char *line, size_t *len, struct tc_detail *d)
{
    double deadline = tc_monotonic() + KIT_TIMEOUT_MS / 1000.0;

    for (;;) {
        char *nl = memchr(kp->in, '\n', kp->in_len);
        struct pollfd pfd;
        double left;
        ssize_t r;
        int pr;

        if (nl != NULL) {
            size_t n = (size_t)(nl - kp->in);
            size_t skip = 0;

            while (skip < n && kp->in[skip] == '\0') {
                skip++;
            }
            memcpy(line, kp->in + skip, n - skip);
            *len = n - skip;
            memmove(kp->in, nl + 1, kp->in_len - n - 1);
            kp->in_len -= n + 1;
            return TC_OK;
        }
        if (kp->in_len == sizeof(kp->in)) {
            return tc_detail_set(d, TC_ERR_ATCA_KIT, -1, NULL,
                                 "%s: reply longer than %d bytes", kp->where,
                                 TC_KIT_LINE_MAX);
        }

        /* Wait for more within what is left of the deadline. */
        left = deadline - tc_monotonic();
        if (left <= 0) {
            return tc_detail_set(d, TC_ERR_TIMEOUT, -1, NULL,
                                 "%s: no reply within %d ms", kp->where,
                                 KIT_TIMEOUT_MS);
        }
        pfd.fd = kp->fd;
        pfd.events = POLLIN;
        pfd.revents = 0;
        pr = poll(&pfd, 1, (int)(left * 1000) + 1);
        if (pr < 0 && errno == EINTR) {
            continue;
        }
        if (pr < 0) {
            return tc_detail_set(d, TC_ERR_IO, -1, NULL, "%s: poll: %s",
                                 kp->where, strerror(errno));
        }
        if (pr == 0) {
            continue;
        }
        r = read(kp->fd, kp->in + kp->in_len, sizeof(kp->in) - kp->in_len);
        if (r < 0 && (errno == EINTR || errno == EAGAIN)) {
            continue;
        }
        if (r < 0) {
            return tc_detail_set(d, TC_ERR_IO, -1, NULL, "%s: read: %s",
                                 kp->where, strerror(errno));
        }
        if (r == 0) {
            return tc_detail_set(d, TC_ERR_CLOSED, -1, NULL,
                                 "%s: the kit closed the connection",
                                 kp->where);
        }
        kp->in_len += (size_t)r;
    }
}

/* Read one reply and turn a non-zero kit status into an error. */
static int
read_reply(struct kitproto *kp, struct tc_kit_reply *rep, const char *what,
           struct tc_detail *d)
{
    char line[TC_KIT_LINE_MAX];
    size_t len = 0;
    int rc;

    rc = read_line(kp, line, &len, d);
    if (rc != TC_OK) {
        return rc;
    }
    rc = tc_kit_parse_reply(line, len, rep, d);
    if (rc != TC_OK) {
        return rc;
    }
    if (rep->status == TC_KIT_ST_NO_RESPONSE ||
        rep->status == TC_KIT_ST_NO_DEVICE) {
        return tc_detail_set(d, TC_ERR_ATCA_NO_DEVICE, -1, NULL,
                             "%s: %s: kit status %02X (%s)", kp->where, what,
                             rep->status, tc_kit_status_text(rep->status));
    }
    if (rep->status != TC_KIT_ST_OK) {
        return tc_detail_set(d, TC_ERR_ATCA_KIT, -1, NULL,
                             "%s: %s: kit status %02X (%s)", kp->where, what,
                             rep->status, tc_kit_status_text(rep->status));
    }
    return TC_OK;
}

/* Collect the replies owed for pipelined lines (idle). */
static int
settle(struct kitproto *kp, struct tc_detail *d)
{
    while (kp->pending > 0) {
        struct tc_kit_reply rep;
        int rc;

        kp->pending--;
        rc = read_reply(kp, &rep, "idle", d);
        if (rc != TC_OK) {
            return rc;
        }
    }
    return TC_OK;
}

/* Send one line and read its reply. */
static int
exchange(struct kitproto *kp, enum tc_kit_cmd cmd, const uint8_t *data,
         size_t n, struct tc_kit_reply *rep, const char *what,
         struct tc_detail *d)
{
    char line[TC_KIT_LINE_MAX];
    size_t len;
    int rc;

    len = tc_kit_format_line(line, sizeof(line), cmd, data, n);
    if (len == 0) {
        return tc_detail_set(d, TC_ERR_ARG, -1, NULL,
                             "%s: %zu bytes do not fit one kit line",
                             kp->where, n);
    }

    /*
     * Send first, then collect what earlier lines are owed: the kit
     * answers in order, so the owed replies come before this one and
     * both travel in the same round trip.
     */
    rc = send_all(kp, line, len, d);
    if (rc == TC_OK) {
        rc = settle(kp, d);
    }
    if (rc != TC_OK) {
        return rc;
    }
    return read_reply(kp, rep, what, d);
}

static int
kp_wake(void *ctx, uint8_t *rsp4, struct tc_detail *d)
{
    struct kitproto *kp = ctx;
    struct tc_kit_reply rep;
    int rc;

    rc = exchange(kp, TC_KIT_WAKE, NULL, 0, &rep, "wake", d);
    if (rc != TC_OK) {
        return rc;
    }
    if (rep.len != 4) {
        return tc_detail_set(d, TC_ERR_ATCA_BAD_RESPONSE, -1, NULL,
                             "%s: wake answered %zu bytes, not 4", kp->where,
                             rep.len);
    }
    memcpy(rsp4, rep.data, 4);
    return TC_OK;
}

static int
kp_idle(void *ctx, struct tc_detail *d)
{
    struct kitproto *kp = ctx;
    static const char line[] = "E:i()\n";
    int rc;

    /* Written now, answered later: see the file comment. */
    rc = send_all(kp, line, sizeof(line) - 1, d);
    if (rc == TC_OK) {
        kp->pending++;
    }
    return rc;
}

static int
kp_sleep(void *ctx, struct tc_detail *d)
{
    struct tc_kit_reply rep;

    return exchange(ctx, TC_KIT_SLEEP, NULL, 0, &rep, "sleep", d);
}

static int
kp_xfer(void *ctx, const uint8_t *cmd, size_t n, uint8_t *rsp, size_t cap,
        size_t *rsp_len, unsigned exec_ms, struct tc_detail *d)
{
    struct kitproto *kp = ctx;
    struct tc_kit_reply rep;
    int rc;

    /* The kit waits for the chip itself; exec_ms is within our timeout. */
    rc = exchange(kp, TC_KIT_TRANSMIT, cmd, n, &rep, "command", d);
    if (rc != TC_OK) {
        return rc;
    }
    if (rep.len == 0) {
        return tc_detail_set(d, TC_ERR_ATCA_NO_DEVICE, -1, NULL,
                             "%s: the chip sent no response", kp->where);
    }
    if (rep.len > cap) {
        return tc_detail_set(d, TC_ERR_ATCA_BAD_RESPONSE, -1, NULL,
                             "%s: response of %zu bytes, room for %zu",
                             kp->where, rep.len, cap);
    }
    memcpy(rsp, rep.data, rep.len);
    *rsp_len = rep.len;
    return TC_OK;
}

static void
kp_close(void *ctx)
{
    struct kitproto *kp = ctx;

    if (kp == NULL) {
        return;
    }

    /*
     * Take the owed idle replies so that on a serial line the next host
     * does not read them as its own answers.
     */
    if (kp->fd >= 0) {
        (void)settle(kp, NULL);
        close(kp->fd);
    }
    free(kp);
}

static const struct tc_se_transport unix_transport = {
    "unix", kp_wake, kp_idle, kp_sleep, kp_xfer, kp_close,
};

static const struct tc_se_transport kit_transport = {
    "kit", kp_wake, kp_idle, kp_sleep, kp_xfer, kp_close,
};

/*
 * The kit's greeting: which device is at index 0, then select it by the
 * I2C address it reported ("ECC608 TWI 00(6A)" -> select(6A)).
 */
static int
greet(struct kitproto *kp, struct tc_detail *d)
{
    struct tc_kit_reply rep;
    uint8_t index = 0;
    uint8_t addr;
    int rc;

    rc = exchange(kp, TC_KIT_BOARD_DEVICE, &index, 1, &rep, "board:device",
                  d);
    if (rc != TC_OK) {
        return rc;
    }
    if (strncmp(rep.prefix, "ECC608", 6) != 0 || rep.len != 1) {
        return tc_detail_set(d, TC_ERR_ATCA_NO_DEVICE, -1, NULL,
                             "%s: device 0 is '%s', not an ECC608",
                             kp->where, rep.prefix);
    }
    addr = rep.data[0];
    return exchange(kp, TC_KIT_SELECT, &addr, 1, &rep, "select", d);
}

/* Wrap an open descriptor; takes fd in every case. */
static int
finish_open(int fd, int is_socket, const char *where,
            const struct tc_se_transport *t, struct tc_se **out,
            struct tc_detail *d)
{
    struct kitproto *kp = calloc(1, sizeof(*kp));
    int rc;

    if (kp == NULL) {
        close(fd);
        return TC_ERR_NOMEM;
    }
    kp->fd = fd;
    kp->is_socket = is_socket;
    snprintf(kp->where, sizeof(kp->where), "%s", where);
    rc = greet(kp, d);
    if (rc != TC_OK) {
        kp_close(kp);
        return rc;
    }
    *out = tc_se_from_transport(t, kp);
    if (*out == NULL) {
        kp_close(kp);
        return TC_ERR_NOMEM;
    }
    return TC_OK;
}

/* Accept "unix:PATH" as well as a bare PATH. */
static const char *
skip_scheme(const char *s, const char *scheme)
{
    size_t n = strlen(scheme);

    return strncmp(s, scheme, n) == 0 ? s + n : s;
}

int
tc_se_unix_open(const char *path, struct tc_se **out, struct tc_detail *d)
{
    struct sockaddr_un sa;
    char where[160];
    int fd;

    *out = NULL;
    path = skip_scheme(path, "unix:");
    if (path[0] == '\0') {
        return tc_detail_set(d, TC_ERR_ATCA_TRANSPORT, -1, "transport",
                             "missing path after unix:");
    }
    memset(&sa, 0, sizeof(sa));
    sa.sun_family = AF_UNIX;
    if (strlen(path) >= sizeof(sa.sun_path)) {
        return tc_detail_set(d, TC_ERR_ATCA_TRANSPORT, -1, "transport",
                             "socket path longer than %zu bytes: %s",
                             sizeof(sa.sun_path) - 1, path);
    }
    memcpy(sa.sun_path, path, strlen(path) + 1);
    snprintf(where, sizeof(where), "unix:%s", path);

    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        return tc_detail_set(d, TC_ERR_IO, -1, NULL, "socket: %s",
                             strerror(errno));
    }
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
        int e = errno;

        close(fd);
        return tc_detail_set(d, TC_ERR_ATCA_NO_DEVICE, -1, NULL,
                             "cannot connect to %s: %s", where, strerror(e));
    }
    return finish_open(fd, 1, where, &unix_transport, out, d);
}

int
tc_se_kit_open(const char *device, struct tc_se **out, struct tc_detail *d)
{
    struct termios tio;
    char where[160];
    int fd;

    *out = NULL;
    device = skip_scheme(device, "kit:");
    if (device[0] == '\0') {
        return tc_detail_set(d, TC_ERR_ATCA_TRANSPORT, -1, "transport",
                             "missing device after kit:");
    }
    snprintf(where, sizeof(where), "kit:%s", device);
    fd = open(device, O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (fd < 0) {
        return tc_detail_set(d, TC_ERR_ATCA_NO_DEVICE, -1, NULL,
                             "cannot open %s: %s", where, strerror(errno));
    }

    /* Raw 115200 8N1, no flow control: what the kit's UART speaks. */
    if (tcgetattr(fd, &tio) != 0) {
        close(fd);
        return tc_detail_set(d, TC_ERR_ATCA_TRANSPORT, -1, "transport",
                             "%s is not a serial line", where);
    }
    cfmakeraw(&tio);
    tio.c_cflag &= ~(tcflag_t)(CSTOPB | PARENB | CRTSCTS);
    tio.c_cflag |= CS8 | CLOCAL | CREAD;
    tio.c_iflag &= ~(tcflag_t)(IXON | IXOFF | IXANY);
    tio.c_cc[VMIN] = 1;
    tio.c_cc[VTIME] = 0;
    cfsetispeed(&tio, B115200);
    cfsetospeed(&tio, B115200);
    if (tcsetattr(fd, TCSANOW, &tio) != 0) {
        int e = errno;

        close(fd);
        return tc_detail_set(d, TC_ERR_IO, -1, NULL, "%s: tcsetattr: %s",
                             where, strerror(e));
    }

    /* Whatever an earlier host left unread is not ours. */
    tcflush(fd, TCIOFLUSH);
    return finish_open(fd, 0, where, &kit_transport, out, d);
}
