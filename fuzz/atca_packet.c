// SPDX-License-Identifier: Apache-2.0
/*
 * Fuzz target: the command and response packet parsers. Whatever the bytes,
 * a parse either fails with a code or yields fields inside the input.
 */
#include <stdlib.h>

#include "thingcore/atca.h"
#include "thingcore/err.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct tc_atca_cmd cmd;
    const uint8_t *payload;
    size_t n;

    if (tc_atca_parse_cmd(data, size, &cmd) == TC_OK) {
        if (cmd.data < data || cmd.data + cmd.data_len > data + size) {
            abort();
        }
    }
    if (tc_atca_parse_rsp(data, size, &payload, &n) == TC_OK) {
        if (payload + n > data + size) {
            abort();
        }
    }
    return 0;
}
