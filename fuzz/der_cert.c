// SPDX-License-Identifier: Apache-2.0
/*
 * Fuzz target for the DER certificate reader: the input is one
 * certificate. Whatever it accepts must have every span inside the input
 * and a TBS span that starts the certificate's content. The seed corpus
 * is the DER of tests/vectors/manifest's certificates and Microchip's.
 */
#include <stddef.h>
#include <stdint.h>

#include "thingcore/der.h"

static int
inside(const struct tc_der_span *s, const uint8_t *data, size_t size)
{
    return s->n == 0 ||
           (s->p >= data && s->p + s->n <= data + size && s->n <= size);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct tc_der_cert c;
    struct tc_detail d;

    if (tc_der_cert_parse(data, size, &c, &d) != TC_OK) {
        return 0;
    }
    if (!inside(&c.tbs, data, size) || !inside(&c.serial, data, size) ||
        !inside(&c.issuer, data, size) || !inside(&c.subject, data, size) ||
        !inside(&c.cn, data, size) || !inside(&c.serial_attr, data, size) ||
        !inside(&c.point, data, size) || !inside(&c.sig, data, size) ||
        !inside(&c.ski, data, size) || !inside(&c.aki, data, size) ||
        c.point.n != 65 || c.point.p[0] != 0x04 || c.tbs.n == 0 ||
        c.not_before > c.not_after + 315537897600LL * 4) {
        __builtin_trap();
    }
    return 0;
}
