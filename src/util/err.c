// SPDX-License-Identifier: Apache-2.0
/*
 * Texts for the error codes and the detail helpers. The list itself lives in
 * err.h so that enum and texts cannot drift apart.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "thingcore/err.h"

struct entry {
    int code;
    const char *name;
    const char *text;
};

static const struct entry entries[] = {
#define TC_ERR_ROW_(name, value, text) {value, #name, text},
    TC_ERR_LIST(TC_ERR_ROW_)
#undef TC_ERR_ROW_
};

static const struct entry *
find(int err)
{
    size_t i;

    for (i = 0; i < sizeof(entries) / sizeof(entries[0]); i++) {
        if (entries[i].code == err) {
            return &entries[i];
        }
    }
    return NULL;
}

const char *
tc_strerror(int err)
{
    const struct entry *e = find(err);

    return e != NULL ? e->text : "unknown error";
}

const char *
tc_errname(int err)
{
    const struct entry *e = find(err);

    return e != NULL ? e->name : "TC_ERR_UNKNOWN";
}

void
tc_detail_clear(struct tc_detail *d)
{
    if (d == NULL) {
        return;
    }
    d->offset = -1;
    d->field[0] = '\0';
    d->text[0] = '\0';
}

int
tc_detail_set(struct tc_detail *d, int err, long offset, const char *field,
              const char *fmt, ...)
{
    va_list ap;

    if (d == NULL) {
        return err;
    }
    d->offset = offset;
    snprintf(d->field, sizeof(d->field), "%s", field != NULL ? field : "");
    va_start(ap, fmt);
    vsnprintf(d->text, sizeof(d->text), fmt, ap);
    va_end(ap);
    return err;
}
