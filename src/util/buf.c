// SPDX-License-Identifier: Apache-2.0
/*
 * The bounded growable buffer, and whole-file helpers built on it. Writes
 * are atomic (temporary file, fsync, rename, fsync of the folder).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "thingcore/util.h"

void
tc_buf_init(struct tc_buf *b, size_t max)
{
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
    b->max = max;
}

void
tc_buf_clear(struct tc_buf *b, int wipe)
{
    if (b == NULL) {
        return;
    }
    if (wipe && b->data != NULL) {
        OPENSSL_cleanse(b->data, b->cap);
    }
    free(b->data);
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
}

int
tc_buf_reserve(struct tc_buf *b, size_t extra)
{
    size_t need;
    size_t cap;
    uint8_t *p;

    /* One byte beyond len is kept for the NUL terminator. */
    if (extra > b->max || b->len > b->max - extra) {
        return TC_ERR_TOO_BIG;
    }
    need = b->len + extra + 1;
    if (need <= b->cap) {
        return TC_OK;
    }
    cap = b->cap ? b->cap : 64;
    while (cap < need) {
        cap *= 2;
    }
    if (cap > b->max + 1) {
        cap = b->max + 1;
    }
    p = realloc(b->data, cap);
    if (p == NULL) {
        return TC_ERR_NOMEM;
    }
    b->data = p;
    b->cap = cap;
    return TC_OK;
}

int
tc_buf_append(struct tc_buf *b, const void *p, size_t n)
{
    int rc = tc_buf_reserve(b, n);

    if (rc != TC_OK) {
        return rc;
    }
    if (n > 0) {
        memcpy(b->data + b->len, p, n);
    }
    b->len += n;
    b->data[b->len] = '\0';
    return TC_OK;
}

int
tc_buf_append_str(struct tc_buf *b, const char *s)
{
    return tc_buf_append(b, s, strlen(s));
}

int
tc_buf_printf(struct tc_buf *b, const char *fmt, ...)
{
    va_list ap;
    int n;
    int rc;

    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0) {
        return TC_ERR_INTERNAL;
    }
    rc = tc_buf_reserve(b, (size_t)n);
    if (rc != TC_OK) {
        return rc;
    }
    va_start(ap, fmt);
    vsnprintf((char *)b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return TC_OK;
}

void
tc_buf_consume(struct tc_buf *b, size_t n)
{
    if (n >= b->len) {
        b->len = 0;
    } else {
        memmove(b->data, b->data + n, b->len - n);
        b->len -= n;
    }
    if (b->data != NULL) {
        b->data[b->len] = '\0';
    }
}

int
tc_file_read(const char *path, struct tc_buf *b, struct tc_detail *d)
{
    uint8_t chunk[8192];
    FILE *f;
    size_t n;
    int rc = TC_ERR_IO;

    f = fopen(path, "rb");
    if (f == NULL) {
        return tc_detail_set(d, errno == ENOENT ? TC_ERR_NOT_FOUND : TC_ERR_IO,
                             -1, path, "cannot open %s: %s", path,
                             strerror(errno));
    }
    for (;;) {
        n = fread(chunk, 1, sizeof(chunk), f);
        if (n > 0 && tc_buf_append(b, chunk, n) != TC_OK) {
            rc = tc_detail_set(d, TC_ERR_TOO_BIG, (long)b->len, path,
                               "%s is larger than %zu bytes", path, b->max);
            goto out;
        }
        if (n < sizeof(chunk)) {
            break;
        }
    }
    if (ferror(f)) {
        rc = tc_detail_set(d, TC_ERR_IO, -1, path, "cannot read %s", path);
        goto out;
    }
    if (b->data == NULL && tc_buf_reserve(b, 0) != TC_OK) {
        rc = TC_ERR_NOMEM;
        goto out;
    }
    rc = TC_OK;
out:
    fclose(f);
    return rc;
}

static int
fsync_parent(const char *path)
{
    char dir[PATH_MAX];
    char *slash;
    int fd;
    int rc;

    snprintf(dir, sizeof(dir), "%s", path);
    slash = strrchr(dir, '/');
    if (slash == NULL) {
        snprintf(dir, sizeof(dir), ".");
    } else if (slash == dir) {
        dir[1] = '\0';
    } else {
        *slash = '\0';
    }
    fd = open(dir, O_RDONLY | O_DIRECTORY);
    if (fd < 0) {
        return -1;
    }
    rc = fsync(fd);
    close(fd);
    return rc;
}

int
tc_file_write_atomic(const char *path, const void *p, size_t n, unsigned mode,
                     struct tc_detail *d)
{
    char tmp[PATH_MAX];
    const uint8_t *at = p;
    size_t left = n;
    int fd;

    if (snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid()) >=
        (int)sizeof(tmp)) {
        return tc_detail_set(d, TC_ERR_ARG, -1, path, "path too long");
    }
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
    if (fd < 0) {
        return tc_detail_set(d, TC_ERR_IO, -1, path, "cannot create %s: %s",
                             tmp, strerror(errno));
    }

    /* The mode is applied even if a stale temporary file existed. */
    if (fchmod(fd, mode) != 0) {
        goto fail;
    }
    while (left > 0) {
        ssize_t w = write(fd, at, left);

        if (w < 0 && errno == EINTR) {
            continue;
        }
        if (w <= 0) {
            goto fail;
        }
        at += w;
        left -= (size_t)w;
    }
    if (fsync(fd) != 0) {
        goto fail;
    }
    if (close(fd) != 0) {
        fd = -1;
        goto fail;
    }
    fd = -1;
    if (rename(tmp, path) != 0) {
        goto fail;
    }
    fsync_parent(path);
    return TC_OK;

fail:
    tc_detail_set(d, TC_ERR_IO, -1, path, "cannot write %s: %s", path,
                  strerror(errno));
    if (fd >= 0) {
        close(fd);
    }
    unlink(tmp);
    return TC_ERR_IO;
}

int
tc_mkdir_p(const char *path, unsigned mode, struct tc_detail *d)
{
    char buf[PATH_MAX];
    char *p;

    if (snprintf(buf, sizeof(buf), "%s", path) >= (int)sizeof(buf)) {
        return tc_detail_set(d, TC_ERR_ARG, -1, path, "path too long");
    }
    for (p = buf + 1; *p != '\0'; p++) {
        if (*p != '/') {
            continue;
        }
        *p = '\0';
        if (mkdir(buf, mode) != 0 && errno != EEXIST) {
            return tc_detail_set(d, TC_ERR_IO, -1, path, "cannot create %s: %s",
                                 buf, strerror(errno));
        }
        *p = '/';
    }
    if (mkdir(buf, mode) != 0 && errno != EEXIST) {
        return tc_detail_set(d, TC_ERR_IO, -1, path, "cannot create %s: %s",
                             buf, strerror(errno));
    }
    return TC_OK;
}

double
tc_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

double
tc_monotonic(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}
