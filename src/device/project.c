// SPDX-License-Identifier: Apache-2.0
/*
 * Reading and rewriting a firmware project's endpoint settings. The
 * rewrite keeps every other line as it was and replaces a setting's value
 * whatever it held, so a project registered against another core is moved
 * over, not left pointing at the old one.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "thingcore/project.h"
#include "thingcore/util.h"

/* The extent of one line [start, end) without its newline. */
static size_t
line_end(const char *text, size_t n, size_t start)
{
    size_t i = start;

    while (i < n && text[i] != '\n') {
        i++;
    }
    return i;
}

/*
 * If the line is NAME=value for name, unquote the value into out and
 * return 1; 0 for another line; -1 for a malformed value.
 */
static int
match_line(const char *line, size_t len, const char *name, char *out,
           size_t cap)
{
    size_t nlen = strlen(name);
    size_t i;
    size_t o = 0;

    if (len < nlen + 1 || memcmp(line, name, nlen) != 0 || line[nlen] != '=') {
        return 0;
    }
    i = nlen + 1;
    if (i < len && line[i] == '"') {
        for (i++; i < len && line[i] != '"'; i++) {
            char c = line[i];

            if (c == '\\') {
                if (++i == len) {
                    return -1;
                }
                c = line[i];
            }
            if (o + 1 >= cap) {
                return -1;
            }
            out[o++] = c;
        }
        if (i >= len) {
            return -1;
        }

        /* Only blanks may follow the closing quote. */
        for (i++; i < len; i++) {
            if (!isspace((unsigned char)line[i])) {
                return -1;
            }
        }
    } else {
        for (; i < len && !isspace((unsigned char)line[i]); i++) {
            if (line[i] == '"' || o + 1 >= cap) {
                return -1;
            }
            out[o++] = line[i];
        }
    }
    out[o] = '\0';
    return 1;
}

int
tc_sdkconfig_get(const char *text, size_t n, const char *name, char *out,
                 size_t cap, struct tc_detail *d)
{
    size_t start = 0;
    int lineno = 1;

    while (start < n) {
        size_t end = line_end(text, n, start);
        size_t len = end - start;
        int m;

        if (len > 0 && text[end - 1] == '\r') {
            len--;
        }
        m = match_line(text + start, len, name, out, cap);
        if (m == 1) {
            return TC_OK;
        }
        if (m < 0) {
            return tc_detail_set(d, TC_ERR_PARSE, (long)start, name,
                                 "line %d: malformed value for %s", lineno,
                                 name);
        }
        start = end + 1;
        lineno++;
    }
    return tc_detail_set(d, TC_ERR_NOT_FOUND, -1, name, "%s is not set",
                         name);
}

static int
path_join(char *out, size_t cap, const char *dir, const char *rel)
{
    return snprintf(out, cap, "%s/%s", dir, rel) < (int)cap ? 0 : -1;
}

int
tc_project_read(const char *dir, struct tc_project *p, struct tc_detail *d)
{
    char path[4096];
    char port[16];
    struct tc_buf b;
    int rc;

    memset(p, 0, sizeof(*p));
    p->port = 8883;
    if (path_join(path, sizeof(path), dir, TC_PROJECT_SDKCONFIG) != 0 ||
        path_join(p->root_ca, sizeof(p->root_ca), dir, TC_PROJECT_ROOT_CA) !=
            0) {
        return tc_detail_set(d, TC_ERR_ARG, -1, dir, "path too long");
    }
    tc_buf_init(&b, TC_PROJECT_MAX);
    rc = tc_file_read(path, &b, d);
    if (rc == TC_ERR_NOT_FOUND) {
        rc = tc_detail_set(d, rc, -1, path,
                           "%s is not a firmware project: no %s", dir,
                           TC_PROJECT_SDKCONFIG);
    }
    if (rc != TC_OK) {
        goto out;
    }
    rc = tc_sdkconfig_get((const char *)b.data, b.len, TC_PROJECT_HOST_KEY,
                          p->host, sizeof(p->host), d);
    if (rc == TC_ERR_NOT_FOUND) {
        p->host[0] = '\0';
        rc = TC_OK;
    }
    if (rc != TC_OK) {
        goto out;
    }
    rc = tc_sdkconfig_get((const char *)b.data, b.len, TC_PROJECT_PORT_KEY,
                          port, sizeof(port), d);
    if (rc == TC_OK) {
        char *end;
        long v = strtol(port, &end, 10);

        if (*port == '\0' || *end != '\0' || v < 1 || v > 65535) {
            rc = tc_detail_set(d, TC_ERR_PARSE, -1, TC_PROJECT_PORT_KEY,
                               "%s=%s is not a port", TC_PROJECT_PORT_KEY,
                               port);
            goto out;
        }
        p->port = (int)v;
    } else if (rc == TC_ERR_NOT_FOUND) {
        rc = TC_OK;
    }
out:
    tc_buf_clear(&b, 0);
    return rc;
}

/*
 * Replace (or append) the line NAME=value in text; the result goes to
 * out. Lines for other names are copied as they are.
 */
static int
set_line(const struct tc_buf *text, const char *name, const char *value,
         struct tc_buf *out)
{
    size_t start = 0;
    size_t nlen = strlen(name);
    int done = 0;
    int rc = TC_OK;

    while (rc == TC_OK && start < text->len) {
        const char *line = (const char *)text->data + start;
        size_t end = line_end((const char *)text->data, text->len, start);
        size_t len = end - start;

        if (len > nlen && memcmp(line, name, nlen) == 0 &&
            line[nlen] == '=') {
            if (!done) {
                rc = tc_buf_printf(out, "%s=%s\n", name, value);
            }
            done = 1;
        } else {
            rc = tc_buf_append(out, line, len);
            if (rc == TC_OK && end < text->len) {
                rc = tc_buf_append(out, "\n", 1);
            }
        }
        start = end + 1;
    }
    if (rc == TC_OK && !done) {
        if (out->len > 0 && out->data[out->len - 1] != '\n') {
            rc = tc_buf_append(out, "\n", 1);
        }
        if (rc == TC_OK) {
            rc = tc_buf_printf(out, "%s=%s\n", name, value);
        }
    }
    return rc;
}

static int
remove_tree(const char *path)
{
    struct stat st;
    char cmd[4200];

    if (lstat(path, &st) != 0) {
        return 0;
    }
    if (!S_ISDIR(st.st_mode)) {
        return unlink(path) == 0 ? 1 : -1;
    }
    /* Folders: the project's own build output, removed as a whole. */
    snprintf(cmd, sizeof(cmd), "rm -rf -- '%s'", path);
    return system(cmd) == 0 ? 1 : -1;
}

int
tc_project_set_endpoint(const char *dir, const char *host, int port,
                        const char *ca_pem, struct tc_project_changes *ch,
                        struct tc_detail *d)
{
    struct tc_project old;
    struct tc_buf text;
    struct tc_buf step;
    struct tc_buf out;
    struct tc_buf oldca;
    char path[4096];
    char quoted[300];
    char portstr[16];
    int rc;

    memset(ch, 0, sizeof(*ch));
    if (strchr(host, '"') != NULL || strchr(host, '\\') != NULL ||
        strchr(host, '\n') != NULL || strlen(host) > 253 || port < 1 ||
        port > 65535) {
        return tc_detail_set(d, TC_ERR_ARG, -1, "host",
                             "'%s:%d' is not an endpoint", host, port);
    }
    if (strchr(dir, '\'') != NULL) {
        return tc_detail_set(d, TC_ERR_ARG, -1, dir,
                             "project paths with a quote are not supported");
    }
    rc = tc_project_read(dir, &old, d);
    if (rc != TC_OK) {
        return rc;
    }
    snprintf(ch->old_host, sizeof(ch->old_host), "%s", old.host);
    ch->old_port = old.port;
    ch->host_changed = strcmp(old.host, host) != 0;
    ch->port_changed = old.port != port;

    tc_buf_init(&text, TC_PROJECT_MAX);
    tc_buf_init(&step, TC_PROJECT_MAX);
    tc_buf_init(&out, TC_PROJECT_MAX);
    tc_buf_init(&oldca, 1 << 20);
    path_join(path, sizeof(path), dir, TC_PROJECT_SDKCONFIG);
    snprintf(quoted, sizeof(quoted), "\"%s\"", host);
    snprintf(portstr, sizeof(portstr), "%d", port);
    rc = tc_file_read(path, &text, d);
    if (rc == TC_OK) {
        rc = set_line(&text, TC_PROJECT_HOST_KEY, quoted, &step);
    }
    if (rc == TC_OK) {
        rc = set_line(&step, TC_PROJECT_PORT_KEY, portstr, &out);
    }
    if (rc == TC_OK && (out.len != text.len ||
                        memcmp(out.data, text.data, out.len) != 0)) {
        rc = tc_file_write_atomic(path, out.data, out.len, 0644, d);
    }

    /* The root CA, where the firmware embeds it from. */
    if (rc == TC_OK) {
        int have = tc_file_read(old.root_ca, &oldca, NULL) == TC_OK;

        ch->ca_changed = !have || oldca.len != strlen(ca_pem) ||
                         memcmp(oldca.data, ca_pem, oldca.len) != 0;
        if (ch->ca_changed) {
            char certs[4096];

            path_join(certs, sizeof(certs), dir, "main/certs");
            rc = tc_mkdir_p(certs, 0755, d);
            if (rc == TC_OK) {
                rc = tc_file_write_atomic(old.root_ca, ca_pem, strlen(ca_pem),
                                          0644, d);
            }
        }
    }

    /* Generated configuration that would shadow sdkconfig.defaults. */
    if (rc == TC_OK) {
        static const char *const stale[] = {"sdkconfig", ".pio", "build"};
        size_t i;

        for (i = 0; i < sizeof(stale) / sizeof(stale[0]); i++) {
            int r;

            path_join(path, sizeof(path), dir, stale[i]);
            r = remove_tree(path);
            if (r < 0) {
                rc = tc_detail_set(d, TC_ERR_IO, -1, path,
                                   "cannot remove stale %s: %s", path,
                                   strerror(errno));
                break;
            }
            if (r > 0 && i == 0) {
                ch->removed_sdkconfig = 1;
            } else if (r > 0) {
                ch->removed_build = 1;
            }
        }
    }
    tc_buf_clear(&text, 0);
    tc_buf_clear(&step, 0);
    tc_buf_clear(&out, 0);
    tc_buf_clear(&oldca, 0);
    return rc;
}
