// SPDX-License-Identifier: Apache-2.0
/*
 * The change mark and the change hint: equal readings while nothing is
 * written, different ones after a commit by another handle (another
 * process, for the broker) or by the same handle. The hint comes from
 * SQLite's shared WAL index, so it needs a database in WAL mode.
 */
#include <string.h>

#include <sqlite3.h>

#include "../test.h"
#include "regtest.h"

struct reading {
    long long mark[2];
    long long hint[4];
};

/* Both readings of reg into r; 1 when both could be taken. */
static int
look(struct tc_registry *reg, struct reading *r)
{
    return tc_registry_change_mark(reg, r->mark, NULL) == TC_OK &&
           tc_registry_change_hint(reg, r->hint) == TC_OK;
}

/* How many of the two readings differ between a and b (0, 1 or 2). */
static int
moved(const struct reading *a, const struct reading *b)
{
    return (memcmp(a->mark, b->mark, sizeof(a->mark)) != 0) +
           (memcmp(a->hint, b->hint, sizeof(a->hint)) != 0);
}

TC_TEST(registry_change_mark_and_hint)
{
    struct tc_registry *reg;
    struct tc_registry *other = NULL;
    struct tc_reg_cert cert;
    struct tc_detail d;
    struct reading before;
    struct reading after;
    char path[512];
    char id[TC_REG_CERT_ID_LEN];

    reg = regt_open(path, sizeof(path));
    CHECK(reg != NULL);
    CHECK_EQ_INT(tc_registry_open(path, &other, &d), TC_OK);

    /* Nothing written: both stay. */
    CHECK(look(reg, &before));
    CHECK(look(reg, &after));
    CHECK_EQ_INT(moved(&before, &after), 0);

    /* Another handle commits: both move. */
    CHECK_EQ_INT(tc_registry_thing_create(other, "changed-elsewhere", NULL,
                                          NULL, NULL, &d),
                 TC_OK);
    CHECK(look(reg, &after));
    CHECK_EQ_INT(moved(&before, &after), 2);

    /* This handle commits: both move again. */
    before = after;
    CHECK_EQ_INT(regt_leaf(reg, TC_REG_CERT_ACTIVE, id), TC_OK);
    CHECK(look(reg, &after));
    CHECK_EQ_INT(moved(&before, &after), 2);

    /* A read is not a change. */
    before = after;
    memset(&cert, 0, sizeof(cert));
    CHECK_EQ_INT(tc_registry_cert_describe(other, id, &cert, &d), TC_OK);
    tc_reg_cert_clear(&cert);
    CHECK(look(reg, &after));
    CHECK_EQ_INT(moved(&before, &after), 0);

    /* A writer that checkpoints the log away and starts it over (same
     * size, frame count back at the start) is still seen. */
    {
        sqlite3 *raw = NULL;

        CHECK_EQ_INT(sqlite3_open(path, &raw), SQLITE_OK);
        CHECK_EQ_INT(sqlite3_exec(raw, "PRAGMA wal_checkpoint(TRUNCATE)", NULL,
                                  NULL, NULL),
                     SQLITE_OK);
        CHECK(look(reg, &before));
        CHECK_EQ_INT(sqlite3_exec(raw,
                                  "INSERT INTO meta (key, value) "
                                  "VALUES ('restarted', '1')",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
        CHECK(look(reg, &after));
        CHECK(memcmp(before.hint, after.hint, sizeof(before.hint)) != 0);
        sqlite3_close(raw);
    }

    tc_registry_close(other);
    tc_registry_close(reg);
}

/* A database without a shared write-ahead log index gives no hint; the
 * mark still works. */
TC_TEST(registry_change_hint_needs_wal)
{
    struct tc_registry *reg = NULL;
    struct tc_detail d;
    struct reading r;

    CHECK_EQ_INT(tc_registry_open(":memory:", &reg, &d), TC_OK);
    CHECK_EQ_INT(tc_registry_change_hint(reg, r.hint), TC_ERR_IO);
    CHECK(r.hint[0] == -1 && r.hint[1] == -1 && r.hint[2] == -1);
    CHECK_EQ_INT(tc_registry_change_mark(reg, r.mark, NULL), TC_OK);
    tc_registry_close(reg);
}
