// SPDX-License-Identifier: Apache-2.0
/*
 * The emulator daemon's event loop: one poll() over the chips' listening
 * sockets, their ptys, the connected clients and a signalfd. Each client
 * speaks kit lines (kit.h) to one chip; lines are bounded, bad ones are
 * answered with a kit status and logged, and one client's trouble never
 * reaches another. It does not decide anything about chip commands: the
 * chip (chip.h) does, and this file only moves its packets and saves it.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "thingcore/chip.h"
#include "thingcore/kit.h"
#include "thingcore/log.h"
#include "thingcore/serve.h"
#include "thingcore/util.h"

/* Bounds: what one daemon holds, whatever its clients do. */
#define MAX_CHIPS 4096
#define MAX_CONNS 1024
#define OUT_MAX 4096
/* Stop reading a client's lines while this much of its output waits. */
#define OUT_HIGH 1024
/* Half a line on a pty with no byte for this long is dropped. */
#define STALE_MS 2000
/* Refusals logged per client at warning level before going quiet. */
#define WARN_MAX 5

struct chip_ent;

struct conn {
    int fd;
    int is_pty;
    int dead;
    unsigned id;
    unsigned warned;
    int discarding; /* inside an over-long line, dropping to its end */
    double last_in; /* when the partial line last grew */
    struct chip_ent *ent;
    size_t in_len;
    size_t out_len;
    char in[TC_KIT_LINE_MAX];
    char out[OUT_MAX];
};

struct chip_ent {
    struct tc_chip *chip;
    char hex[2 * TC_ATCA_SN_SIZE + 1];
    char file[PATH_MAX];
    char sock[sizeof(((struct sockaddr_un *)0)->sun_path)];
    char tty[PATH_MAX]; /* symlink to the pty, "" without --pty */
    char pts[64];
    int lfd;
    int slave; /* the pty's slave, held open so the master never hangs up */
    struct conn *pty;
};

struct server {
    const struct tc_serve_opts *o;
    uint8_t key[TC_CHIP_WRAP_KEY_SIZE];
    struct chip_ent **chips;
    size_t nchips;
    struct conn **conns;
    size_t nconns;
    unsigned next_id;
    int sigfd;
    double last_served; /* monotonic time a client was last answered */
};

/*
 * After answering, keep polling without sleeping this long: a host that
 * sends its next command right away is answered without the cost of
 * waking a sleeping process, which dominates a command's round trip.
 */
#define SPIN_SECONDS 0.0003

static void
say(struct server *s, int level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
say(struct server *s, int level, const char *fmt, ...)
{
    char msg[512];
    va_list ap;

    if (s->o->log == NULL) {
        return;
    }
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    s->o->log(s->o->log_arg, level, msg);
}

/* ---- clients ---- */

static struct conn *
conn_add(struct server *s, int fd, struct chip_ent *ent, int is_pty)
{
    struct conn *c;
    struct conn **grown;

    if (s->nconns >= MAX_CONNS) {
        return NULL;
    }
    c = calloc(1, sizeof(*c));
    grown = realloc(s->conns, (s->nconns + 1) * sizeof(*grown));
    if (c == NULL || grown == NULL) {
        free(c);
        if (grown != NULL) {
            s->conns = grown;
        }
        return NULL;
    }
    s->conns = grown;
    c->fd = fd;
    c->ent = ent;
    c->is_pty = is_pty;
    c->id = ++s->next_id;
    s->conns[s->nconns++] = c;
    return c;
}

/* Queue a reply; a client that lets OUT_MAX pile up is dropped. */
static void
reply(struct server *s, struct conn *c, uint8_t status, const char *prefix,
      const uint8_t *data, size_t n)
{
    size_t len = tc_kit_format_reply(c->out + c->out_len,
                                     sizeof(c->out) - c->out_len, prefix,
                                     status, data, n);

    if (len == 0) {
        say(s, TC_LOG_WARNING, "client %u on %s: not reading its replies; "
            "dropped", c->id, c->ent->hex);
        c->dead = 1;
        return;
    }
    c->out_len += len;
}

static void
flush_out(struct server *s, struct conn *c)
{
    while (c->out_len > 0 && !c->dead) {
        ssize_t w;

        if (c->is_pty) {
            w = write(c->fd, c->out, c->out_len);
        } else {
            w = send(c->fd, c->out, c->out_len, MSG_NOSIGNAL);
        }
        if (w < 0 && errno == EINTR) {
            continue;
        }
        if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            return;
        }
        if (w <= 0) {
            say(s, TC_LOG_INFO, "client %u on %s: write: %s", c->id,
                c->ent->hex, strerror(errno));
            c->dead = !c->is_pty;
            c->out_len = 0;
            return;
        }
        memmove(c->out, c->out + w, c->out_len - (size_t)w);
        c->out_len -= (size_t)w;
    }
}

/* A refusal: counted, and logged until the client has had WARN_MAX. */
static void
refused(struct server *s, struct conn *c, uint8_t status, const char *why)
{
    int level = c->warned < WARN_MAX ? TC_LOG_WARNING : TC_LOG_DEBUG;

    c->warned++;
    say(s, level, "client %u on %s: refused line: %s (kit status %02X)",
        c->id, c->ent->hex, why, status);
    reply(s, c, status, NULL, NULL, 0);
}

/*
 * Save a chip whose persistent state changed, before the answer goes
 * out. If the image cannot be written, the chip is reloaded from it so
 * what the daemon holds is what the disk holds, and the client is told.
 */
static int
persist(struct server *s, struct chip_ent *e)
{
    struct tc_detail d;
    struct tc_chip *back = NULL;

    if (!tc_chip_dirty(e->chip)) {
        return TC_OK;
    }
    tc_detail_clear(&d);
    if (tc_chip_save(e->chip, e->file, s->key, &d) == TC_OK) {
        return TC_OK;
    }
    say(s, TC_LOG_ERROR, "chip %s: cannot save %s: %s; change undone",
        e->hex, e->file, d.text);
    if (tc_chip_load(e->file, s->key, &back, NULL) == TC_OK) {
        tc_chip_free(e->chip);
        e->chip = back;
    }
    return TC_ERR_IO;
}

static void
transmit(struct server *s, struct conn *c, const uint8_t *pkt, size_t n)
{
    uint8_t rsp[TC_ATCA_RSP_MAX];
    size_t len;

    /*
     * A host may put the I2C word address 0x03 before the packet; the
     * count byte (never 3) tells the two forms apart.
     */
    if (n >= 2 && pkt[0] == TC_ATCA_WA_COMMAND && pkt[1] == n - 1) {
        pkt++;
        n--;
    }
    len = tc_chip_execute(c->ent->chip, pkt, n, rsp);
    if (len == 0) {
        say(s, TC_LOG_DEBUG, "client %u on %s: command to a chip that is "
            "not awake", c->id, c->ent->hex);
        reply(s, c, TC_KIT_ST_NO_RESPONSE, NULL, NULL, 0);
        return;
    }
    if (persist(s, c->ent) != TC_OK) {
        reply(s, c, TC_KIT_ST_STORAGE, NULL, NULL, 0);
        return;
    }
    reply(s, c, TC_KIT_ST_OK, NULL, rsp, len);
}

static void
handle_line(struct server *s, struct conn *c, const char *line, size_t n)
{
    struct tc_kit_line kl;
    struct tc_detail d;
    uint8_t rsp[4];
    uint8_t addr;
    int rc;

    tc_detail_clear(&d);
    rc = tc_kit_parse_line(line, n, &kl, &d);
    if (rc == TC_ERR_NOT_FOUND) {
        return;
    }
    if (rc != TC_OK) {
        refused(s, c, kl.status, d.text);
        return;
    }
    addr = tc_chip_i2c_address(c->ent->chip);
    switch (kl.cmd) {
    case TC_KIT_BOARD_DEVICE:
        if (kl.data[0] != 0) {
            reply(s, c, TC_KIT_ST_NO_DEVICE, NULL, NULL, 0);
        } else {
            reply(s, c, TC_KIT_ST_OK, "ECC608 TWI", &addr, 1);
        }
        break;
    case TC_KIT_SELECT:
        reply(s, c, kl.data[0] == addr ? TC_KIT_ST_OK : TC_KIT_ST_NO_DEVICE,
              NULL, NULL, 0);
        break;
    case TC_KIT_INTERFACE:
        reply(s, c, TC_KIT_ST_OK, NULL, NULL, 0);
        break;
    case TC_KIT_WAKE:
        if (tc_chip_wake(c->ent->chip, rsp) != 4) {
            reply(s, c, TC_KIT_ST_NO_RESPONSE, NULL, NULL, 0);
        } else {
            reply(s, c, TC_KIT_ST_OK, NULL, rsp, 4);
        }
        break;
    case TC_KIT_IDLE:
        tc_chip_idle(c->ent->chip);
        reply(s, c, TC_KIT_ST_OK, NULL, NULL, 0);
        break;
    case TC_KIT_SLEEP:
        tc_chip_sleep(c->ent->chip);
        reply(s, c, TC_KIT_ST_OK, NULL, NULL, 0);
        break;
    case TC_KIT_TRANSMIT:
        transmit(s, c, kl.data, kl.len);
        break;
    default:
        refused(s, c, TC_KIT_ST_UNKNOWN, "unknown command");
        break;
    }
}

/* Answer every whole line buffered, while the client reads its replies. */
static void
process_input(struct server *s, struct conn *c)
{
    while (!c->dead && c->out_len < OUT_HIGH) {
        char *nl = memchr(c->in, '\n', c->in_len);
        size_t n;

        if (nl == NULL) {
            /* A full buffer without a newline: an over-long line. */
            if (c->in_len == sizeof(c->in)) {
                if (!c->discarding) {
                    refused(s, c, TC_KIT_ST_TOO_LONG,
                            "line longer than 400 bytes");
                }
                c->discarding = 1;
                c->in_len = 0;
            }
            return;
        }
        n = (size_t)(nl - c->in) + 1;
        if (c->discarding) {
            c->discarding = 0;
        } else {
            handle_line(s, c, c->in, n);
        }
        memmove(c->in, c->in + n, c->in_len - n);
        c->in_len -= n;
    }
}

static void
read_input(struct server *s, struct conn *c)
{
    ssize_t r = read(c->fd, c->in + c->in_len, sizeof(c->in) - c->in_len);

    if (r < 0 && (errno == EINTR || errno == EAGAIN || errno == EIO)) {
        return;
    }
    if (r <= 0) {
        if (c->in_len > 0 && !c->discarding) {
            say(s, TC_LOG_NOTICE, "client %u on %s: left in the middle of "
                "a line (%zu bytes dropped)", c->id, c->ent->hex,
                c->in_len);
        } else {
            say(s, TC_LOG_DEBUG, "client %u on %s: closed", c->id,
                c->ent->hex);
        }
        c->dead = 1;
        return;
    }
    c->in_len += (size_t)r;
    c->last_in = tc_monotonic();
    process_input(s, c);
}

/* Half a line on a pty whose writer went quiet: drop it and its echo. */
static void
check_stale(struct server *s, struct conn *c, double now)
{
    if (!c->is_pty || c->in_len == 0 || now - c->last_in < STALE_MS / 1e3) {
        return;
    }
    say(s, TC_LOG_NOTICE, "pty of %s: half a line (%zu bytes) and no more "
        "for %d ms; dropped", c->ent->hex, c->in_len, STALE_MS);
    c->in_len = 0;
    c->discarding = 0;
    tcflush(c->ent->slave, TCIFLUSH);
}

/* ---- chips ---- */

static int
is_chip_name(const char *name)
{
    size_t i;

    if (strlen(name) != 2 * TC_ATCA_SN_SIZE + 5 ||
        strcmp(name + 2 * TC_ATCA_SN_SIZE, ".chip") != 0) {
        return 0;
    }
    for (i = 0; i < 2 * TC_ATCA_SN_SIZE; i++) {
        if (!((name[i] >= '0' && name[i] <= '9') ||
              (name[i] >= 'A' && name[i] <= 'F'))) {
            return 0;
        }
    }
    return 1;
}

/* Listen on e->sock, replacing a stale socket file but never a live one. */
static int
listen_chip(struct server *s, struct chip_ent *e)
{
    struct sockaddr_un sa;
    mode_t old;
    int fd;

    memset(&sa, 0, sizeof(sa));
    sa.sun_family = AF_UNIX;
    memcpy(sa.sun_path, e->sock, strlen(e->sock) + 1);

    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        say(s, TC_LOG_ERROR, "chip %s: socket: %s", e->hex, strerror(errno));
        return -1;
    }
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
        say(s, TC_LOG_ERROR, "chip %s: %s is served by another process; "
            "skipped", e->hex, e->sock);
        close(fd);
        return -1;
    }
    close(fd);
    unlink(e->sock);

    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        say(s, TC_LOG_ERROR, "chip %s: socket: %s", e->hex, strerror(errno));
        return -1;
    }

    /* Owner only: whoever reaches the socket can sign with the chip. */
    old = umask(077);
    if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
        listen(fd, 64) != 0) {
        umask(old);
        say(s, TC_LOG_ERROR, "chip %s: cannot listen on %s: %s", e->hex,
            e->sock, strerror(errno));
        close(fd);
        return -1;
    }
    umask(old);
    e->lfd = fd;
    return 0;
}

/* A raw 115200 8N1 pty, its slave held open, linked from e->tty. */
static int
open_pty(struct server *s, struct chip_ent *e)
{
    struct termios tio;
    int master;

    master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (master < 0 || grantpt(master) != 0 || unlockpt(master) != 0 ||
        ptsname_r(master, e->pts, sizeof(e->pts)) != 0) {
        say(s, TC_LOG_ERROR, "chip %s: cannot make a pty: %s", e->hex,
            strerror(errno));
        if (master >= 0) {
            close(master);
        }
        return -1;
    }
    e->slave = open(e->pts, O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (e->slave < 0 || tcgetattr(e->slave, &tio) != 0) {
        say(s, TC_LOG_ERROR, "chip %s: cannot open %s: %s", e->hex, e->pts,
            strerror(errno));
        close(master);
        return -1;
    }
    cfmakeraw(&tio);
    tio.c_cflag |= CS8 | CLOCAL | CREAD;
    tio.c_cc[VMIN] = 1;
    tio.c_cc[VTIME] = 0;
    cfsetispeed(&tio, B115200);
    cfsetospeed(&tio, B115200);
    tcsetattr(e->slave, TCSANOW, &tio);
    fcntl(master, F_SETFL, fcntl(master, F_GETFL) | O_NONBLOCK);

    /* Scripts find the pty through DIR/<SERIAL>.tty. */
    unlink(e->tty);
    if (symlink(e->pts, e->tty) != 0) {
        say(s, TC_LOG_WARNING, "chip %s: cannot link %s: %s", e->hex, e->tty,
            strerror(errno));
        e->tty[0] = '\0';
    }
    e->pty = conn_add(s, master, e, 1);
    if (e->pty == NULL) {
        close(master);
        return -1;
    }
    return 0;
}

static void
chip_end(struct chip_ent *e)
{
    if (e == NULL) {
        return;
    }
    if (e->lfd >= 0) {
        close(e->lfd);
        unlink(e->sock);
    }
    if (e->slave >= 0) {
        close(e->slave);
    }
    if (e->tty[0] != '\0') {
        unlink(e->tty);
    }
    tc_chip_free(e->chip);
    free(e);
}

static int
served(struct server *s, const char *hex)
{
    size_t i;

    for (i = 0; i < s->nchips; i++) {
        if (strcmp(s->chips[i]->hex, hex) == 0) {
            return 1;
        }
    }
    return 0;
}

static void
add_chip(struct server *s, const char *name)
{
    struct chip_ent *e = calloc(1, sizeof(*e));
    struct chip_ent **grown;
    struct tc_detail d;
    const char *dir = s->o->dir;
    int n;

    if (e == NULL || s->nchips >= MAX_CHIPS) {
        say(s, TC_LOG_ERROR, "%s: not served (out of memory or %d chips)",
            name, MAX_CHIPS);
        free(e);
        return;
    }
    e->lfd = -1;
    e->slave = -1;
    memcpy(e->hex, name, 2 * TC_ATCA_SN_SIZE);
    snprintf(e->file, sizeof(e->file), "%s/%s", dir, name);
    n = snprintf(e->sock, sizeof(e->sock), "%s/%s.sock", dir, e->hex);
    if (n < 0 || (size_t)n >= sizeof(e->sock)) {
        say(s, TC_LOG_ERROR, "chip %s: socket path %s/%s.sock is longer "
            "than %zu bytes; skipped", e->hex, dir, e->hex,
            sizeof(e->sock) - 1);
        goto fail;
    }

    /* Load: a bad image is reported with its reason and skipped. */
    tc_detail_clear(&d);
    if (tc_chip_load(e->file, s->key, &e->chip, &d) != TC_OK) {
        say(s, TC_LOG_ERROR, "chip image %s not served: %s", e->file,
            d.text[0] != '\0' ? d.text : "cannot load");
        goto fail;
    }
    if (listen_chip(s, e) != 0) {
        goto fail;
    }
    if (s->o->pty) {
        snprintf(e->tty, sizeof(e->tty), "%s/%s.tty", dir, e->hex);
        if (open_pty(s, e) != 0) {
            goto fail;
        }
    }
    grown = realloc(s->chips, (s->nchips + 1) * sizeof(*grown));
    if (grown == NULL) {
        goto fail;
    }
    s->chips = grown;
    s->chips[s->nchips++] = e;

    if (s->o->out != NULL) {
        if (s->o->pty) {
            fprintf(s->o->out, "serving %s on %s pty %s\n", e->hex, e->sock,
                    e->pts);
        } else {
            fprintf(s->o->out, "serving %s on %s\n", e->hex, e->sock);
        }
        fflush(s->o->out);
    }
    say(s, TC_LOG_INFO, "chip %s served on %s", e->hex, e->sock);
    return;

fail:
    if (e->pty != NULL) {
        e->pty->dead = 1;
        e->pty->ent = NULL;
    }
    chip_end(e);
}

static int
by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Serve every chip image of the folder not served yet. */
static void
scan(struct server *s)
{
    DIR *dir = opendir(s->o->dir);
    struct dirent *de;
    char **names = NULL;
    size_t n = 0;
    size_t i;

    if (dir == NULL) {
        say(s, TC_LOG_ERROR, "cannot read %s: %s", s->o->dir,
            strerror(errno));
        return;
    }

    /* Sorted, so chips come up in serial-number order. */
    while ((de = readdir(dir)) != NULL) {
        char hex[2 * TC_ATCA_SN_SIZE + 1];
        char **grown;

        if (!is_chip_name(de->d_name)) {
            continue;
        }
        memcpy(hex, de->d_name, sizeof(hex) - 1);
        hex[sizeof(hex) - 1] = '\0';
        if (served(s, hex)) {
            continue;
        }
        grown = realloc(names, (n + 1) * sizeof(*names));
        if (grown == NULL) {
            break;
        }
        names = grown;
        names[n] = strdup(de->d_name);
        if (names[n] != NULL) {
            n++;
        }
    }
    closedir(dir);
    if (n > 1) {
        qsort(names, n, sizeof(*names), by_name);
    }
    for (i = 0; i < n; i++) {
        add_chip(s, names[i]);
        free(names[i]);
    }
    free(names);
}

/* ---- the loop ---- */

static void
accept_all(struct server *s, struct chip_ent *e)
{
    for (;;) {
        int fd = accept4(e->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        struct conn *c;

        if (fd < 0) {
            if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
                say(s, TC_LOG_WARNING, "chip %s: accept: %s", e->hex,
                    strerror(errno));
            }
            return;
        }
        c = conn_add(s, fd, e, 0);
        if (c == NULL) {
            say(s, TC_LOG_WARNING, "chip %s: client refused: %d clients "
                "already", e->hex, MAX_CONNS);
            close(fd);
            continue;
        }
        say(s, TC_LOG_DEBUG, "client %u on %s: connected", c->id, e->hex);
    }
}

/* Drop closed clients; a pty's own conn lives as long as its chip. */
static void
sweep(struct server *s)
{
    size_t i = 0;

    while (i < s->nconns) {
        struct conn *c = s->conns[i];

        if (!c->dead) {
            i++;
            continue;
        }
        close(c->fd);
        if (c->is_pty && c->ent != NULL) {
            c->ent->pty = NULL;
        }
        free(c);
        s->conns[i] = s->conns[--s->nconns];
    }
}

static int
setup_signals(struct server *s, sigset_t *old)
{
    sigset_t set;

    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGHUP);
    if (pthread_sigmask(SIG_BLOCK, &set, old) != 0) {
        return -1;
    }
    s->sigfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
    if (s->sigfd < 0) {
        pthread_sigmask(SIG_SETMASK, old, NULL);
        return -1;
    }
    return 0;
}

/* Returns 1 when asked to stop. */
static int
take_signals(struct server *s)
{
    struct signalfd_siginfo si;
    int stop = 0;

    while (read(s->sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
        if (si.ssi_signo == SIGHUP) {
            say(s, TC_LOG_NOTICE, "SIGHUP: looking for new chip images in "
                "%s", s->o->dir);
            scan(s);
        } else {
            say(s, TC_LOG_NOTICE, "signal %u: stopping", si.ssi_signo);
            stop = 1;
        }
    }
    return stop;
}

enum slot_kind { K_SIG, K_STOP, K_LISTEN, K_CONN };

struct watch {
    enum slot_kind kind;
    void *ptr;
};

/*
 * One pass: poll everything, then act on what is ready. Returns 1 to
 * stop. pfd and w are sized by the caller for every descriptor.
 */
static int
pass(struct server *s, struct pollfd *pfd, struct watch *w)
{
    size_t n = 0;
    size_t i;
    double now = tc_monotonic();
    int timeout = -1;
    int stop = 0;
    int pr;

    if (s->sigfd >= 0) {
        pfd[n] = (struct pollfd){s->sigfd, POLLIN, 0};
        w[n++] = (struct watch){K_SIG, NULL};
    }
    if (s->o->stop_fd >= 0) {
        pfd[n] = (struct pollfd){s->o->stop_fd, POLLIN, 0};
        w[n++] = (struct watch){K_STOP, NULL};
    }
    for (i = 0; i < s->nchips; i++) {
        pfd[n] = (struct pollfd){s->chips[i]->lfd, POLLIN, 0};
        w[n++] = (struct watch){K_LISTEN, s->chips[i]};
    }
    for (i = 0; i < s->nconns; i++) {
        struct conn *c = s->conns[i];
        short ev = 0;

        if (c->out_len < OUT_HIGH && c->in_len < sizeof(c->in)) {
            ev |= POLLIN;
        }
        if (c->out_len > 0) {
            ev |= POLLOUT;
        }
        if (c->is_pty && c->in_len > 0) {
            int left = (int)((c->last_in + STALE_MS / 1e3 - now) * 1e3) + 1;

            timeout = timeout < 0 || left < timeout ? (left > 0 ? left : 0)
                                                    : timeout;
        }
        pfd[n] = (struct pollfd){c->fd, ev, 0};
        w[n++] = (struct watch){K_CONN, c};
    }

    if (now - s->last_served < SPIN_SECONDS) {
        timeout = 0;
    }
    pr = poll(pfd, n, timeout);
    if (pr < 0 && errno != EINTR) {
        say(s, TC_LOG_ERROR, "poll: %s", strerror(errno));
        return 1;
    }
    now = tc_monotonic();
    for (i = 0; pr > 0 && i < n; i++) {
        short re = pfd[i].revents;

        if (re == 0) {
            continue;
        }
        switch (w[i].kind) {
        case K_SIG:
            stop |= take_signals(s);
            break;
        case K_STOP:
            stop = 1;
            break;
        case K_LISTEN:
            accept_all(s, w[i].ptr);
            break;
        case K_CONN: {
            struct conn *c = w[i].ptr;

            if (c->dead) {
                break;
            }
            if (re & (POLLIN | POLLHUP | POLLERR)) {
                read_input(s, c);
                s->last_served = now;
            }

            /* Answer at once rather than on the next pass. */
            flush_out(s, c);
            if (!c->dead && c->out_len < OUT_HIGH) {
                process_input(s, c);
                flush_out(s, c);
            }
            break;
        }
        }
    }
    for (i = 0; i < s->nconns; i++) {
        check_stale(s, s->conns[i], now);
    }
    sweep(s);
    return stop;
}

static void
write_ready(struct server *s)
{
    struct tc_detail d;
    char text[64];
    int n;

    if (s->o->out != NULL) {
        fprintf(s->o->out, "ready: %zu chip%s in %s\n", s->nchips,
                s->nchips == 1 ? "" : "s", s->o->dir);
        fflush(s->o->out);
    }
    if (s->o->ready_file == NULL) {
        return;
    }
    n = snprintf(text, sizeof(text), "%zu\n", s->nchips);
    tc_detail_clear(&d);
    if (tc_file_write_atomic(s->o->ready_file, text, (size_t)n, 0644, &d) !=
        TC_OK) {
        say(s, TC_LOG_WARNING, "cannot write %s: %s", s->o->ready_file,
            d.text);
    }
}

int
tc_serve_run(const struct tc_serve_opts *o)
{
    struct server s;
    struct tc_detail d;
    struct pollfd *pfd = NULL;
    struct watch *w = NULL;
    size_t cap = 0;
    sigset_t old;
    struct stat st;
    size_t i;
    int rc = TC_ERR_INTERNAL;

    memset(&s, 0, sizeof(s));
    s.o = o;
    s.sigfd = -1;
    if (o->dir == NULL || stat(o->dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
        say(&s, TC_LOG_ERROR, "%s is not a folder", o->dir ? o->dir : "");
        return TC_ERR_NOT_FOUND;
    }
    tc_detail_clear(&d);
    rc = tc_chip_folder_key(o->dir, 1, s.key, &d);
    if (rc != TC_OK) {
        say(&s, TC_LOG_ERROR, "chip key of %s: %s", o->dir, d.text);
        return rc;
    }
    if (o->signals && setup_signals(&s, &old) != 0) {
        say(&s, TC_LOG_ERROR, "signalfd: %s", strerror(errno));
        rc = TC_ERR_IO;
        goto cleanup;
    }

    scan(&s);
    write_ready(&s);

    for (;;) {
        size_t need = 2 + s.nchips + s.nconns;

        /* Every pass may see new chips (SIGHUP) and clients. */
        if (need > cap) {
            struct pollfd *p2 = realloc(pfd, need * 2 * sizeof(*p2));
            struct watch *w2;

            if (p2 != NULL) {
                pfd = p2;
            }
            w2 = realloc(w, need * 2 * sizeof(*w2));
            if (w2 != NULL) {
                w = w2;
            }
            if (p2 == NULL || w2 == NULL) {
                say(&s, TC_LOG_ERROR, "out of memory");
                rc = TC_ERR_NOMEM;
                goto cleanup;
            }
            cap = need * 2;
        }
        if (pass(&s, pfd, w)) {
            break;
        }
    }
    rc = TC_OK;

cleanup:
    /* Close listeners first, then clients; remove sockets and links. */
    for (i = 0; i < s.nconns; i++) {
        close(s.conns[i]->fd);
        free(s.conns[i]);
    }
    free(s.conns);
    for (i = 0; i < s.nchips; i++) {
        chip_end(s.chips[i]);
    }
    free(s.chips);
    free(pfd);
    free(w);
    if (s.sigfd >= 0) {
        close(s.sigfd);
        pthread_sigmask(SIG_SETMASK, &old, NULL);
    }
    OPENSSL_cleanse(s.key, sizeof(s.key));
    return rc;
}
