// SPDX-License-Identifier: Apache-2.0
/* Fuzz target: the sdkconfig reader on arbitrary text. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "thingcore/project.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char out[300];

    if (tc_sdkconfig_get((const char *)data, size, TC_PROJECT_HOST_KEY, out,
                         sizeof(out), NULL) == TC_OK &&
        strlen(out) >= sizeof(out)) {
        abort();
    }
    tc_sdkconfig_get((const char *)data, size, TC_PROJECT_PORT_KEY, out, 8,
                     NULL);
    return 0;
}
