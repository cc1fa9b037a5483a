// SPDX-License-Identifier: Apache-2.0
/*
 * The kit protocol client, over a Unix socket (unix:PATH, the emulator
 * daemon) or a serial line (kit:DEVICE, a Microchip kit or the daemon's
 * pty). Both speak the same ASCII lines (kit.h); only opening differs.
 * Every read is bounded in size and in time, so a silent or babbling peer
 * ends in TC_ERR_TIMEOUT or TC_ERR_ATCA_KIT, never in a hang.
 *
 * Wake and idle are pipelined: their lines are written at once and their
 * replies are read, and checked, before the reply of the next exchange,
 * which travels in the same round trip. A wake or idle the kit refuses is
 * therefore reported by the next command, before that command's result is
 * used. Command sequences (xfer_many) go out back to back as well.
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

/* How long to look for a reply without sleeping (Unix sockets only). */
#define KIT_SPIN_SECONDS 0.0002

/* Lines written whose replies are still owed, at most this many. */
#define KIT_OWED_MAX 8
#define KIT_MANY_MAX 4

enum owed { OWED_IDLE, OWED_WAKE };

struct kitproto {
    int fd;
    int is_socket;
    char where[160];  /* "unix:PATH" or "kit:DEVICE", for messages */
    unsigned pending; /* replies owed for lines already queued or written */
    enum owed owed[KIT_OWED_MAX];
    size_t corked;    /* owed lines not yet written, sent with the next */
    char cork[KIT_OWED_MAX * 8];
    size_t in_len;
    char in[TC_KIT_LINE_MAX];
};

static int
write_all(struct kitproto *kp, const char *p, size_t n, struct tc_detail *d)
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
 * Send lines, preceded by the corked wake and idle lines: one write, so
 * the kit sees the whole sequence at once and answers it in one go.
 */
static int
send_all(struct kitproto *kp, const char *p, size_t n, struct tc_detail *d)
{
    char buf[KIT_OWED_MAX * 8 + 4 * TC_KIT_LINE_MAX];
    int rc;

    if (kp->corked == 0) {
        return write_all(kp, p, n, d);
    }
    if (kp->corked + n > sizeof(buf)) {
        rc = write_all(kp, kp->cork, kp->corked, d);
        kp->corked = 0;
        return rc == TC_OK ? write_all(kp, p, n, d) : rc;
    }
    memcpy(buf, kp->cork, kp->corked);
    memcpy(buf + kp->corked, p, n);
    rc = write_all(kp, buf, kp->corked + n, d);
    kp->corked = 0;
    return rc;
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

        /*
         * An emulator answers within microseconds: look again without
         * sleeping for a short while before blocking, which spares a
         * process wake-up per command.
         */
        pr = 0;
        if (kp->is_socket) {
            double spin_until = tc_monotonic() + KIT_SPIN_SECONDS;

            do {
                pr = poll(&pfd, 1, 0);
            } while (pr == 0 && tc_monotonic() < spin_until);
        }
        if (pr == 0) {
            pr = poll(&pfd, 1, (int)(left * 1000) + 1);
        }
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

/* The status a chip answers right after a wake. */
static const uint8_t after_wake[4] = {0x04, 0x11, 0x33, 0x43};

/* Collect and check the replies owed for pipelined lines, in order. */
static int
settle(struct kitproto *kp, struct tc_detail *d)
{
    unsigned i;
    int rc = TC_OK;

    for (i = 0; i < kp->pending && rc == TC_OK; i++) {
        struct tc_kit_reply rep;
        int wake = kp->owed[i] == OWED_WAKE;

        rc = read_reply(kp, &rep, wake ? "wake" : "idle", d);
        if (rc == TC_OK && wake && rep.len != 4) {
            rc = tc_detail_set(d, TC_ERR_ATCA_BAD_RESPONSE, -1, NULL,
                               "%s: wake answered %zu bytes, not 4",
                               kp->where, rep.len);
        } else if (rc == TC_OK && wake &&
                   memcmp(rep.data, after_wake, 4) != 0) {
            rc = tc_detail_set(d, TC_ERR_ATCA_NO_DEVICE, -1, NULL,
                               "%s: wake answered %02X %02X %02X %02X, not "
                               "the after-wake status 04 11 33 43",
                               kp->where, rep.data[0], rep.data[1],
                               rep.data[2], rep.data[3]);
        }
    }
    kp->pending = 0;
    return rc;
}

/*
 * Queue a line whose reply is collected later: it goes out with the next
 * command (or at close), so wake, command and idle share one write.
 */
static int
send_owed(struct kitproto *kp, const char *line, size_t len, enum owed what,
          struct tc_detail *d)
{
    int rc = TC_OK;

    if (kp->pending == KIT_OWED_MAX ||
        kp->corked + len > sizeof(kp->cork)) {
        rc = write_all(kp, kp->cork, kp->corked, d);
        kp->corked = 0;
        if (rc == TC_OK) {
            rc = settle(kp, d);
        }
    }
    if (rc == TC_OK) {
        memcpy(kp->cork + kp->corked, line, len);
        kp->corked += len;
        kp->owed[kp->pending++] = what;
    }
    return rc;
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
    static const char line[] = "E:w()\n";

    /* Checked when its reply arrives, before any later result is used. */
    memcpy(rsp4, after_wake, sizeof(after_wake));
    return send_owed(ctx, line, sizeof(line) - 1, OWED_WAKE, d);
}

static int
kp_idle(void *ctx, struct tc_detail *d)
{
    static const char line[] = "E:i()\n";

    return send_owed(ctx, line, sizeof(line) - 1, OWED_IDLE, d);
}

static int
kp_sleep(void *ctx, struct tc_detail *d)
{
    struct tc_kit_reply rep;

    return exchange(ctx, TC_KIT_SLEEP, NULL, 0, &rep, "sleep", d);
}

/* The command's reply into rsp (cap bytes). */
static int
command_reply(struct kitproto *kp, const struct tc_kit_reply *rep,
              uint8_t *rsp, size_t cap, size_t *rsp_len, struct tc_detail *d)
{
    if (rep->len == 0) {
        return tc_detail_set(d, TC_ERR_ATCA_NO_DEVICE, -1, NULL,
                             "%s: the chip sent no response", kp->where);
    }
    if (rep->len > cap) {
        return tc_detail_set(d, TC_ERR_ATCA_BAD_RESPONSE, -1, NULL,
                             "%s: response of %zu bytes, room for %zu",
                             kp->where, rep->len, cap);
    }
    memcpy(rsp, rep->data, rep->len);
    *rsp_len = rep->len;
    return TC_OK;
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
    return command_reply(kp, &rep, rsp, cap, rsp_len, d);
}

/*
 * Several commands in one write; the kit answers in order, so the owed
 * replies come first, then one reply per command.
 */
static int
kp_xfer_many(void *ctx, size_t n, const uint8_t *const *cmds,
             const size_t *lens, uint8_t *rsps, size_t *rsp_lens,
             struct tc_detail *d)
{
    struct kitproto *kp = ctx;
    char lines[KIT_MANY_MAX * TC_KIT_LINE_MAX];
    size_t used = 0;
    size_t i;
    int rc;

    if (n > KIT_MANY_MAX) {
        return tc_detail_set(d, TC_ERR_ARG, -1, NULL,
                             "%zu commands in one batch, at most %d", n,
                             KIT_MANY_MAX);
    }
    for (i = 0; i < n; i++) {
        size_t len = tc_kit_format_line(lines + used, sizeof(lines) - used,
                                        TC_KIT_TRANSMIT, cmds[i], lens[i]);

        if (len == 0) {
            return tc_detail_set(d, TC_ERR_ARG, -1, NULL,
                                 "%s: %zu bytes do not fit one kit line",
                                 kp->where, lens[i]);
        }
        used += len;
    }
    rc = send_all(kp, lines, used, d);
    if (rc == TC_OK) {
        rc = settle(kp, d);
    }
    for (i = 0; i < n && rc == TC_OK; i++) {
        struct tc_kit_reply rep;

        rc = read_reply(kp, &rep, "command", d);
        if (rc == TC_OK) {
            rc = command_reply(kp, &rep, rsps + i * TC_ATCA_RSP_MAX,
                               TC_ATCA_RSP_MAX, &rsp_lens[i], d);
        }
    }

    /* Replies left unread after a failure would answer later commands. */
    for (i++; rc != TC_OK && i < n; i++) {
        struct tc_kit_reply rep;

        if (read_reply(kp, &rep, "command", NULL) == TC_ERR_TIMEOUT) {
            break;
        }
    }
    return rc;
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
        if (kp->corked > 0 &&
            write_all(kp, kp->cork, kp->corked, NULL) != TC_OK) {
            kp->pending = 0;
        }
        kp->corked = 0;
        (void)settle(kp, NULL);
        close(kp->fd);
    }
    free(kp);
}

static const struct tc_se_transport unix_transport = {
    "unix", kp_wake, kp_idle, kp_sleep, kp_xfer, kp_close, kp_xfer_many,
};

static const struct tc_se_transport kit_transport = {
    "kit", kp_wake, kp_idle, kp_sleep, kp_xfer, kp_close, kp_xfer_many,
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
