// SPDX-License-Identifier: Apache-2.0
/*
 * The kit protocol's ASCII lines: a strict, bounded parser for host lines
 * and kit replies, and their formatters. No I/O and no state: the caller
 * splits its byte stream into lines and decides what to do with them.
 */
#include <string.h>
#include <strings.h>

#include "thingcore/kit.h"
#include "thingcore/util.h"

/* Named commands with a family letter; the letter is checked apart. */
struct name_row {
    const char *name; /* after "T" */
    enum tc_kit_cmd cmd;
    size_t min; /* argument bytes */
    size_t max;
};

static const struct name_row family_names[] = {
    {":physical:select", TC_KIT_SELECT, 1, 1},
    {":w", TC_KIT_WAKE, 0, 0},
    {":i", TC_KIT_IDLE, 0, 0},
    {":s", TC_KIT_SLEEP, 0, 0},
    {":t", TC_KIT_TRANSMIT, 1, TC_KIT_DATA_MAX},
};

static const char interface_kw[] = ":physical:interface:";

static int
refuse(struct tc_kit_line *out, uint8_t status, struct tc_detail *d,
       long offset, const char *why)
{
    out->status = status;
    return tc_detail_set(d, TC_ERR_ATCA_KIT, offset, "kit line", "%s", why);
}

static int
printable(const char *p, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++) {
        if ((unsigned char)p[i] < 0x20 || (unsigned char)p[i] > 0x7e) {
            return 0;
        }
    }
    return 1;
}

/* Strip the line end: "\n", then "\r". */
static size_t
strip_end(const char *p, size_t n)
{
    if (n > 0 && p[n - 1] == '\n') {
        n--;
    }
    if (n > 0 && p[n - 1] == '\r') {
        n--;
    }
    return n;
}

/* Case-insensitive equality of p[0..n) with the NUL-terminated s. */
static int
same(const char *p, size_t n, const char *s)
{
    return strlen(s) == n && strncasecmp(p, s, n) == 0;
}

int
tc_kit_parse_line(const char *line, size_t n, struct tc_kit_line *out,
                  struct tc_detail *d)
{
    const struct name_row *row = NULL;
    const char *body = line;
    const char *open;
    const char *arg;
    size_t len;
    size_t name_len;
    size_t arg_len;
    size_t i;
    int rc;

    memset(out, 0, sizeof(*out));
    out->status = TC_KIT_ST_SYNTAX;

    /* Bound first: nothing longer than a line is looked at further. */
    if (n > TC_KIT_LINE_MAX) {
        return refuse(out, TC_KIT_ST_TOO_LONG, d, TC_KIT_LINE_MAX,
                      "line longer than 400 bytes");
    }

    /* Skip the NULs a host leaves before a line, then the line end. */
    while (n > 0 && *body == '\0') {
        body++;
        n--;
    }
    len = strip_end(body, n);
    if (len == 0) {
        return tc_detail_set(d, TC_ERR_NOT_FOUND, 0, "kit line", "empty");
    }
    if (!printable(body, len)) {
        return refuse(out, TC_KIT_ST_SYNTAX, d, (long)(body - line),
                      "control or non-ASCII byte in line");
    }

    /* T:physical:interface:NAME is the one form without parentheses. */
    open = memchr(body, '(', len);
    if (open == NULL) {
        size_t kw = sizeof(interface_kw) - 1;

        if (len > 1 + kw && len <= 1 + kw + 16 &&
            strncasecmp(body + 1, interface_kw, kw) == 0 &&
            (body[0] == 'E' || body[0] == 'e')) {
            out->cmd = TC_KIT_INTERFACE;
            out->status = TC_KIT_ST_OK;
            return TC_OK;
        }
        return refuse(out, TC_KIT_ST_SYNTAX, d, (long)(body - line),
                      "no '(' in line");
    }

    /* NAME "(" ARG ")": exactly one pair, closing at the very end. */
    name_len = (size_t)(open - body);
    arg = open + 1;
    if (body[len - 1] != ')') {
        return refuse(out, TC_KIT_ST_SYNTAX, d, (long)(body - line + len - 1),
                      "line does not end with ')'");
    }
    arg_len = len - name_len - 2;
    if (memchr(arg, '(', arg_len) != NULL ||
        memchr(arg, ')', arg_len) != NULL ||
        memchr(body, ')', name_len) != NULL) {
        return refuse(out, TC_KIT_ST_SYNTAX, d, (long)(open - line),
                      "unbalanced parentheses");
    }
    if (name_len == 0) {
        return refuse(out, TC_KIT_ST_SYNTAX, d, (long)(body - line),
                      "missing command name");
    }

    /* Which command: board:device, or the family letter and a name. */
    if (same(body, name_len, "board:device")) {
        static const struct name_row board = {"board:device",
                                              TC_KIT_BOARD_DEVICE, 1, 1};

        row = &board;
    } else if (name_len >= 2 && body[1] == ':') {
        for (i = 0; i < sizeof(family_names) / sizeof(family_names[0]);
             i++) {
            if (same(body + 1, name_len - 1, family_names[i].name)) {
                row = &family_names[i];
                break;
            }
        }
        if (row != NULL && body[0] != 'E' && body[0] != 'e') {
            return refuse(out, TC_KIT_ST_UNKNOWN, d, (long)(body - line),
                          "device family other than 'E'");
        }
    }
    if (row == NULL) {
        return refuse(out, TC_KIT_ST_UNKNOWN, d, (long)(body - line),
                      "unknown command");
    }

    /* The argument: whole bytes of hex, as many as the command takes. */
    rc = tc_hex_decode(arg, arg_len, out->data, sizeof(out->data), &out->len,
                       NULL);
    if (rc != TC_OK) {
        return refuse(out, TC_KIT_ST_BAD_ARG, d, (long)(arg - line),
                      rc == TC_ERR_TOO_BIG ? "argument too long"
                      : arg_len % 2 != 0   ? "odd number of hex digits"
                                           : "argument is not hex");
    }
    if (out->len < row->min || out->len > row->max) {
        return refuse(out, TC_KIT_ST_BAD_ARG, d, (long)(arg - line),
                      row->max == 0 ? "command takes no argument"
                                    : "wrong argument size");
    }
    out->cmd = row->cmd;
    out->status = TC_KIT_ST_OK;
    return TC_OK;
}

size_t
tc_kit_format_line(char *out, size_t cap, enum tc_kit_cmd cmd,
                   const uint8_t *data, size_t n)
{
    const char *name;
    size_t min = 0;
    size_t max = 0;
    size_t len;

    switch (cmd) {
    case TC_KIT_BOARD_DEVICE:
        name = "board:device";
        min = max = 1;
        break;
    case TC_KIT_SELECT:
        name = "E:physical:select";
        min = max = 1;
        break;
    case TC_KIT_WAKE:
        name = "E:w";
        break;
    case TC_KIT_IDLE:
        name = "E:i";
        break;
    case TC_KIT_SLEEP:
        name = "E:s";
        break;
    case TC_KIT_TRANSMIT:
        name = "E:t";
        min = 1;
        max = TC_KIT_DATA_MAX;
        break;
    default:
        return 0;
    }
    if (n < min || n > max) {
        return 0;
    }

    /* NAME ( 2n digits ) \n NUL */
    len = strlen(name) + 2 * n + 3;
    if (len + 1 > cap) {
        return 0;
    }
    memcpy(out, name, strlen(name));
    out[strlen(name)] = '(';
    tc_hex_encode(data, n, out + strlen(name) + 1, 1);
    memcpy(out + len - 2, ")\n", 3);
    return len;
}

int
tc_kit_parse_reply(const char *line, size_t n, struct tc_kit_reply *out,
                   struct tc_detail *d)
{
    const char *open;
    const char *close;
    size_t len;
    size_t pre;
    uint8_t st;
    int rc;

    memset(out, 0, sizeof(*out));
    if (n > TC_KIT_LINE_MAX) {
        return tc_detail_set(d, TC_ERR_ATCA_KIT, TC_KIT_LINE_MAX,
                             "kit reply", "reply longer than 400 bytes");
    }
    len = strip_end(line, n);
    if (!printable(line, len)) {
        return tc_detail_set(d, TC_ERR_ATCA_KIT, 0, "kit reply",
                             "control or non-ASCII byte in reply");
    }

    /* [PREFIX " "] SS "(" HEX ")" */
    open = memchr(line, '(', len);
    if (open == NULL || open - line < 2 || line[len - 1] != ')') {
        return tc_detail_set(d, TC_ERR_ATCA_KIT, 0, "kit reply",
                             "reply is not SS(HEX): '%.*s'",
                             (int)(len < 40 ? len : 40), line);
    }
    close = line + len - 1;
    if (memchr(open + 1, '(', (size_t)(close - open - 1)) != NULL ||
        memchr(open + 1, ')', (size_t)(close - open - 1)) != NULL) {
        return tc_detail_set(d, TC_ERR_ATCA_KIT, open - line, "kit reply",
                             "unbalanced parentheses in reply");
    }
    if (tc_hex_decode(open - 2, 2, &st, 1, NULL, NULL) != TC_OK) {
        return tc_detail_set(d, TC_ERR_ATCA_KIT, open - line - 2,
                             "kit reply", "status is not two hex digits");
    }

    /* A prefix, when present, ends in one space before the status. */
    pre = (size_t)(open - line - 2);
    if (pre > 0) {
        if (line[pre - 1] != ' ' || pre - 1 > TC_KIT_PREFIX_MAX) {
            return tc_detail_set(d, TC_ERR_ATCA_KIT, (long)pre - 1,
                                 "kit reply", "bad text before the status");
        }
        memcpy(out->prefix, line, pre - 1);
        out->prefix[pre - 1] = '\0';
    }
    rc = tc_hex_decode(open + 1, (size_t)(close - open - 1), out->data,
                       sizeof(out->data), &out->len, NULL);
    if (rc != TC_OK) {
        return tc_detail_set(d, TC_ERR_ATCA_KIT, open - line + 1,
                             "kit reply", "reply data is not whole hex "
                             "bytes or is too long");
    }
    out->status = st;
    return TC_OK;
}

size_t
tc_kit_format_reply(char *out, size_t cap, const char *prefix,
                    uint8_t status, const uint8_t *data, size_t n)
{
    size_t pre = prefix != NULL ? strlen(prefix) : 0;
    size_t len;
    char st[3];

    if (pre > TC_KIT_PREFIX_MAX || n > TC_KIT_DATA_MAX) {
        return 0;
    }

    /* [PREFIX " "] SS ( 2n digits ) \n NUL */
    len = (pre > 0 ? pre + 1 : 0) + 2 + 1 + 2 * n + 2;
    if (len + 1 > cap) {
        return 0;
    }
    if (pre > 0) {
        memcpy(out, prefix, pre);
        out[pre++] = ' ';
    }
    tc_hex_encode(&status, 1, st, 1);
    out[pre] = st[0];
    out[pre + 1] = st[1];
    out[pre + 2] = '(';
    tc_hex_encode(data, n, out + pre + 3, 1);
    memcpy(out + len - 2, ")\n", 3);
    return len;
}

const char *
tc_kit_status_text(uint8_t status)
{
    switch (status) {
    case TC_KIT_ST_OK:
        return "ok";
    case TC_KIT_ST_SYNTAX:
        return "line is not a kit command";
    case TC_KIT_ST_BAD_ARG:
        return "bad argument";
    case TC_KIT_ST_TOO_LONG:
        return "line too long";
    case TC_KIT_ST_NO_RESPONSE:
        return "no response from device";
    case TC_KIT_ST_STORAGE:
        return "chip image could not be saved";
    case TC_KIT_ST_UNKNOWN:
        return "unknown command";
    case TC_KIT_ST_NO_DEVICE:
        return "no such device";
    default:
        return "unknown kit status";
    }
}
