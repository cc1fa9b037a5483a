// SPDX-License-Identifier: Apache-2.0
/*
 * OpenSSL's error queue turned into our detail text, in one place: the
 * newest reason is kept, the queue emptied so the next failure is reported
 * on its own.
 */
#include <openssl/err.h>

#include "thingcore/util.h"

int
tc_detail_ossl(struct tc_detail *d, int err, const char *field,
               const char *what)
{
    unsigned long e = ERR_peek_last_error();
    char buf[200] = "";

    if (e != 0) {
        ERR_error_string_n(e, buf, sizeof(buf));
    }
    ERR_clear_error();
    return tc_detail_set(d, err, -1, field, "%s%s%s", what,
                         buf[0] != '\0' ? ": " : "", buf);
}
