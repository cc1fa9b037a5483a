// SPDX-License-Identifier: Apache-2.0
/*
 * The change mark and the change hint: equal readings while nothing is
 * written, different ones after a commit by another handle (another
 * process, for the broker) or by the same handle.
 */
#include <string.h>

#include "../test.h"
#include "regtest.h"

TC_TEST(registry_change_mark_and_hint)
{
    struct tc_registry *reg;
    struct tc_registry *other = NULL;
    struct tc_detail d;
    long long m0[2];
    long long m1[2];
    long long h0[4];
    long long h1[4];
    char path[512];
    char id[TC_REG_CERT_ID_LEN];

    reg = regt_open(path, sizeof(path));
    CHECK(reg != NULL);
    CHECK_EQ_INT(tc_registry_open(path, &other, &d), TC_OK);

    /* Nothing written: both stay. */
    CHECK_EQ_INT(tc_registry_change_mark(reg, m0, &d), TC_OK);
    CHECK_EQ_INT(tc_registry_change_hint(reg, h0), TC_OK);
    CHECK_EQ_INT(tc_registry_change_mark(reg, m1, &d), TC_OK);
    CHECK_EQ_INT(tc_registry_change_hint(reg, h1), TC_OK);
    CHECK_EQ_MEM(m0, m1, sizeof(m0));
    CHECK_EQ_MEM(h0, h1, sizeof(h0));

    /* Another handle commits: both move. */
    CHECK_EQ_INT(tc_registry_thing_create(other, "changed-elsewhere", NULL,
                                          NULL, NULL, &d),
                 TC_OK);
    CHECK_EQ_INT(tc_registry_change_mark(reg, m1, &d), TC_OK);
    CHECK_EQ_INT(tc_registry_change_hint(reg, h1), TC_OK);
    CHECK(memcmp(m0, m1, sizeof(m0)) != 0);
    CHECK(memcmp(h0, h1, sizeof(h0)) != 0);

    /* This handle commits: both move again. */
    memcpy(m0, m1, sizeof(m0));
    memcpy(h0, h1, sizeof(h0));
    CHECK_EQ_INT(regt_leaf(reg, TC_REG_CERT_ACTIVE, id), TC_OK);
    CHECK_EQ_INT(tc_registry_change_mark(reg, m1, &d), TC_OK);
    CHECK_EQ_INT(tc_registry_change_hint(reg, h1), TC_OK);
    CHECK(memcmp(m0, m1, sizeof(m0)) != 0);
    CHECK(memcmp(h0, h1, sizeof(h0)) != 0);

    /* A read is not a change. */
    memcpy(m0, m1, sizeof(m0));
    memcpy(h0, h1, sizeof(h0));
    {
        struct tc_reg_cert cert;

        memset(&cert, 0, sizeof(cert));
        CHECK_EQ_INT(tc_registry_cert_describe(other, id, &cert, &d), TC_OK);
        tc_reg_cert_clear(&cert);
    }
    CHECK_EQ_INT(tc_registry_change_mark(reg, m1, &d), TC_OK);
    CHECK_EQ_INT(tc_registry_change_hint(reg, h1), TC_OK);
    CHECK_EQ_MEM(m0, m1, sizeof(m0));
    CHECK_EQ_MEM(h0, h1, sizeof(h0));

    tc_registry_close(other);
    tc_registry_close(reg);
}
