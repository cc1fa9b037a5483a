// SPDX-License-Identifier: Apache-2.0
/*
 * The streaming splitter: finds the byte range of each top-level element of
 * a JSON array fed in chunks, keeping at most one element in memory, so a
 * manifest of any length verifies in bounded memory. It checks only the
 * array's own grammar; each element is parsed alone afterwards.
 *
 * Grammar accepted (RFC 8259 section 5, the outer level only):
 *   file    = ws "[" ws [ element *( ws "," ws element ) ] ws "]" ws
 *   element = an object or array (brackets matched outside strings) or a
 *             scalar running to the next ws, "," or "]" outside a string
 */
#include <string.h>

#include "internal.h"

enum {
    ST_BEFORE_ARRAY = 0,
    ST_FIRST,
    ST_BEFORE_ELEM,
    ST_IN_ELEM,
    ST_AFTER_ELEM,
    ST_DONE,
};

static int
is_ws(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

void
tc_split_init(struct tc_split *s, size_t max_entry, size_t max_depth)
{
    memset(s, 0, sizeof(*s));
    s->state = ST_BEFORE_ARRAY;
    s->limit = max_depth;
    tc_buf_init(&s->elem, max_entry);
}

void
tc_split_clear(struct tc_split *s)
{
    tc_buf_clear(&s->elem, 0);
}

/* Keep bytes of the current element unless it already outgrew the limit. */
static void
keep(struct tc_split *s, const char *p, size_t n)
{
    if (s->too_big || n == 0) {
        return;
    }
    if (tc_buf_append(&s->elem, p, n) != TC_OK) {
        s->too_big = 1;
        tc_buf_clear(&s->elem, 0);
        tc_buf_init(&s->elem, s->elem.max);
    }
}

/* Hand the finished element to the callback and reset for the next. */
static int
emit(struct tc_split *s, tc_split_fn fn, void *ctx)
{
    int err = TC_OK;
    int rc;

    if (s->max_depth > s->limit) {
        err = TC_ERR_JSON_DEPTH;
    } else if (s->too_big) {
        err = TC_ERR_TOO_BIG;
    }
    if (err == TC_OK) {
        rc = fn(ctx, s->index, s->start, (const char *)s->elem.data,
                s->elem.len, TC_OK);
    } else {
        rc = fn(ctx, s->index, s->start, NULL, 0, err);
    }
    s->index++;
    s->elem.len = 0;
    s->too_big = 0;
    s->depth = 0;
    s->max_depth = 0;
    s->in_string = 0;
    s->escape = 0;
    s->state = ST_AFTER_ELEM;
    return rc;
}

static void
begin(struct tc_split *s, char c, long at)
{
    s->state = ST_IN_ELEM;
    s->start = at;
    s->is_scalar = !(c == '{' || c == '[');
    s->elem.len = 0;
}

/*
 * Scan inside an element from p[i]; returns the index just past the last
 * byte of the element, or n when it continues into the next chunk; *ended
 * says which.
 */
static size_t
scan_elem(struct tc_split *s, const char *p, size_t i, size_t n, int *ended)
{
    *ended = 0;
    for (; i < n; i++) {
        char c = p[i];

        if (s->in_string) {
            if (s->escape) {
                s->escape = 0;
            } else if (c == '\\') {
                s->escape = 1;
            } else if (c == '"') {
                s->in_string = 0;
            }
            continue;
        }
        if (c == '"') {
            s->in_string = 1;
        } else if (c == '{' || c == '[') {
            s->depth++;
            if (s->depth > s->max_depth) {
                s->max_depth = s->depth;
            }
        } else if (c == '}' || c == ']') {
            if (s->depth == 0) {
                /* Only a scalar reaches here: "]" closes the array. */
                if (c == ']') {
                    *ended = 1;
                    return i;
                }
                continue;
            }
            s->depth--;
            if (s->depth == 0 && !s->is_scalar) {
                *ended = 1;
                return i + 1;
            }
        } else if (s->is_scalar && s->depth == 0 &&
                   (c == ',' || is_ws(c))) {
            *ended = 1;
            return i;
        }
    }
    return n;
}

int
tc_split_feed(struct tc_split *s, const char *p, size_t n, tc_split_fn fn,
              void *ctx, struct tc_detail *d)
{
    size_t i = 0;

    while (i < n) {
        char c = p[i];
        long at = s->pos + (long)i;

        switch (s->state) {
        case ST_IN_ELEM: {
            int ended;
            size_t end = scan_elem(s, p, i, n, &ended);
            int rc;

            keep(s, p + i, end - i);
            i = end;
            if (ended) {
                rc = emit(s, fn, ctx);
                if (rc != TC_OK) {
                    s->pos += (long)i;
                    return rc;
                }
            }
            continue;
        }
        case ST_BEFORE_ARRAY:
            if (c == '[') {
                s->state = ST_FIRST;
            } else if (!is_ws(c)) {
                return tc_detail_set(d, TC_ERR_MANIFEST_NOT_ARRAY, at, NULL,
                                     "byte %ld: expected '[' to open the "
                                     "array of entries", at);
            }
            break;
        case ST_FIRST:
        case ST_BEFORE_ELEM:
            if (c == ']' && s->state == ST_FIRST) {
                s->state = ST_DONE;
            } else if (c == ']' || c == ',') {
                return tc_detail_set(d, TC_ERR_PARSE, at, NULL,
                                     "byte %ld: '%c' where entry %zu "
                                     "should start", at, c, s->index);
            } else if (!is_ws(c)) {
                begin(s, c, at);
                continue;
            }
            break;
        case ST_AFTER_ELEM:
            if (c == ',') {
                s->state = ST_BEFORE_ELEM;
            } else if (c == ']') {
                s->state = ST_DONE;
            } else if (!is_ws(c)) {
                return tc_detail_set(d, TC_ERR_PARSE, at, NULL,
                                     "byte %ld: expected ',' or ']' after "
                                     "entry %zu", at, s->index - 1);
            }
            break;
        default:
            if (!is_ws(c)) {
                return tc_detail_set(d, TC_ERR_PARSE, at, NULL,
                                     "byte %ld: data after the closing ']'",
                                     at);
            }
            break;
        }
        i++;
    }
    s->pos += (long)n;
    return TC_OK;
}

int
tc_split_finish(struct tc_split *s, struct tc_detail *d)
{
    if (s->state == ST_DONE) {
        return TC_OK;
    }
    if (s->state == ST_BEFORE_ARRAY) {
        return tc_detail_set(d, TC_ERR_MANIFEST_NOT_ARRAY, s->pos, NULL,
                             "no '[' before the end of the file");
    }
    if (s->state == ST_IN_ELEM) {
        return tc_detail_set(d, TC_ERR_MANIFEST_TRUNCATED, s->pos, NULL,
                             "file ends inside entry %zu (started at byte "
                             "%ld)", s->index, s->start);
    }
    return tc_detail_set(d, TC_ERR_MANIFEST_TRUNCATED, s->pos, NULL,
                         "file ends at byte %ld before the closing ']'",
                         s->pos);
}
