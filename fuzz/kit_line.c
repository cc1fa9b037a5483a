// SPDX-License-Identifier: Apache-2.0
/*
 * Fuzz target for the kit protocol lines: every input goes through the
 * host-line parser and the reply parser; whatever parses is formatted back
 * and must parse again to the same value.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "thingcore/kit.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct tc_kit_line kl;
    struct tc_kit_line again;
    struct tc_kit_reply kr;
    struct tc_kit_reply kr2;
    struct tc_detail d;
    char out[TC_KIT_LINE_MAX + 1];
    size_t n;

    /* Host line: a parsed command formats to a line that parses alike. */
    if (tc_kit_parse_line((const char *)data, size, &kl, &d) == 0 &&
        kl.cmd != TC_KIT_INTERFACE) {
        n = tc_kit_format_line(out, sizeof(out), kl.cmd, kl.data, kl.len);
        if (n == 0 || tc_kit_parse_line(out, n, &again, NULL) != 0 ||
            again.cmd != kl.cmd || again.len != kl.len ||
            memcmp(again.data, kl.data, kl.len) != 0) {
            abort();
        }
    }

    /* Reply line: the same round trip. */
    if (tc_kit_parse_reply((const char *)data, size, &kr, &d) == 0) {
        n = tc_kit_format_reply(out, sizeof(out),
                                kr.prefix[0] != '\0' ? kr.prefix : NULL,
                                kr.status, kr.data, kr.len);
        if (n == 0 || tc_kit_parse_reply(out, n, &kr2, NULL) != 0 ||
            kr2.status != kr.status || kr2.len != kr.len ||
            memcmp(kr2.data, kr.data, kr.len) != 0 ||
            strcmp(kr2.prefix, kr.prefix) != 0) {
            abort();
        }
    }
    return 0;
}
