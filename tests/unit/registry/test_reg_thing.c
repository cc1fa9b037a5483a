// SPDX-License-Identifier: Apache-2.0
/*
 * Registry tests for opening and migrating, things, thing types, thing
 * principals, pagination and the event log, against a real SQLite file.
 */
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#include "../test.h"
#include "regtest.h"

TC_TEST(registry_open_migrate_reopen)
{
    struct tc_registry *reg = NULL;
    struct tc_detail d;
    char path[300];
    char region[64];
    char account[64];
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    int version = -1;

    reg = regt_open(path, sizeof(path));
    CHECK(reg != NULL);
    snprintf(region, sizeof(region), "%s", tc_registry_region(reg));
    snprintf(account, sizeof(account), "%s", tc_registry_account(reg));
    CHECK_EQ_STR(region, "eu-west-1");
    CHECK_EQ_INT(tc_registry_set_identity(reg, "EU", NULL, &d), TC_ERR_ARG);
    CHECK_EQ_STR(d.field, "region");
    CHECK_EQ_INT(tc_registry_set_identity(reg, NULL, "12345", &d), TC_ERR_ARG);
    CHECK_EQ_INT(tc_registry_thing_create(reg, "t1", NULL, NULL, NULL, &d),
                 TC_OK);
    tc_registry_close(reg);

    /* Re-open: the schema is not re-applied, data and identity remain. */
    CHECK_EQ_INT(tc_registry_open(path, &reg, &d), TC_OK);
    CHECK_EQ_STR(tc_registry_region(reg), region);
    CHECK_EQ_STR(tc_registry_account(reg), account);
    {
        struct tc_reg_thing t = {0};

        CHECK_EQ_INT(tc_registry_thing_describe(reg, "t1", &t, &d), TC_OK);
        CHECK_EQ_INT(t.version, 1);
        tc_reg_thing_clear(&t);
    }
    tc_registry_close(reg);

    /* WAL and the schema version are on the file. */
    CHECK_EQ_INT(sqlite3_open(path, &db), SQLITE_OK);
    CHECK_EQ_INT(sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL),
                 SQLITE_OK);
    CHECK_EQ_INT(sqlite3_step(st), SQLITE_ROW);
    version = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    CHECK(version >= 1);
    CHECK_EQ_INT(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &st, NULL),
                 SQLITE_OK);
    CHECK_EQ_INT(sqlite3_step(st), SQLITE_ROW);
    CHECK_EQ_STR((const char *)sqlite3_column_text(st, 0), "wal");
    sqlite3_finalize(st);

    /* The event log refuses updates and deletes. */
    CHECK(sqlite3_exec(db, "UPDATE events SET actor = 'x'", NULL, NULL, NULL) !=
          SQLITE_OK);
    CHECK(sqlite3_exec(db, "DELETE FROM events", NULL, NULL, NULL) !=
          SQLITE_OK);

    /* A file from a newer schema is refused. */
    CHECK_EQ_INT(
        sqlite3_exec(db, "PRAGMA user_version = 999", NULL, NULL, NULL),
        SQLITE_OK);
    sqlite3_close(db);
    CHECK_EQ_INT(tc_registry_open(path, &reg, &d), TC_ERR_REG_SCHEMA);
    CHECK(reg == NULL);
}

TC_TEST(registry_open_bad_path)
{
    struct tc_registry *reg = NULL;
    struct tc_detail d;

    CHECK_EQ_INT(tc_registry_open("/nonexistent-dir/x/reg.db", &reg, &d),
                 TC_ERR_REG_DB);
    CHECK(reg == NULL);
    CHECK(strstr(d.text, "/nonexistent-dir") != NULL);
}

TC_TEST(registry_error_texts)
{
    int c;

    for (c = TC_ERR_REG_NOT_FOUND; c <= TC_ERR_REG_SCHEMA; c++) {
        CHECK(strncmp(tc_strerror(c), "registry: ", 10) == 0);
    }
}

TC_TEST(registry_names)
{
    struct tc_detail d;
    char big[200];

    CHECK_EQ_INT(tc_registry_check_thing_name("ABC:_-09", NULL, &d), TC_OK);
    CHECK_EQ_INT(tc_registry_check_thing_name("a b", NULL, &d),
                 TC_ERR_REG_INVALID_REQUEST);
    CHECK_EQ_INT(d.offset, 1);
    CHECK_EQ_INT(tc_registry_check_thing_name("", "thingTypeName", &d),
                 TC_ERR_REG_INVALID_REQUEST);
    CHECK_EQ_STR(d.field, "thingTypeName");
    memset(big, 'a', 129);
    big[129] = '\0';
    CHECK_EQ_INT(tc_registry_check_thing_name(big, NULL, &d),
                 TC_ERR_REG_INVALID_REQUEST);
    big[128] = '\0';
    CHECK_EQ_INT(tc_registry_check_thing_name(big, NULL, &d), TC_OK);
    CHECK_EQ_INT(tc_registry_check_policy_name("Kit_Policy+=,.@-", &d), TC_OK);
    CHECK_EQ_INT(tc_registry_check_policy_name("a/b", &d),
                 TC_ERR_REG_INVALID_REQUEST);
    CHECK_EQ_INT(tc_registry_check_template_name(big, &d),
                 TC_ERR_REG_INVALID_REQUEST);
    CHECK_EQ_INT(tc_registry_check_attr_name("a.b,c@d/e:f#g-h_", &d), TC_OK);
    CHECK_EQ_INT(tc_registry_check_attr_name("", &d),
                 TC_ERR_REG_INVALID_REQUEST);
    CHECK_EQ_INT(tc_registry_check_attr_value("", &d), TC_OK);
    CHECK_EQ_INT(tc_registry_check_attr_value("x=[1]", &d), TC_OK);
    CHECK_EQ_INT(tc_registry_check_attr_value("a\"b", &d),
                 TC_ERR_REG_INVALID_REQUEST);
}

TC_TEST(registry_attrs_from_json)
{
    struct tc_reg_attrs a = {0};
    struct tc_detail d;
    json_t *j;

    j = json_pack("{s:s, s:s}", "serial", "0123", "model", "");
    CHECK_EQ_INT(tc_registry_attrs_from_json(j, &a, &d), TC_OK);
    CHECK_EQ_INT(a.n, 2);
    tc_reg_attrs_clear(&a);
    json_decref(j);

    j = json_pack("{s:i}", "n", 3);
    CHECK_EQ_INT(tc_registry_attrs_from_json(j, &a, &d),
                 TC_ERR_REG_INVALID_REQUEST);
    CHECK(strstr(d.text, "not a string") != NULL);
    CHECK_EQ_INT(a.n, 0);
    json_decref(j);

    j = json_pack("{s:s}", "bad key", "v");
    CHECK_EQ_INT(tc_registry_attrs_from_json(j, &a, &d),
                 TC_ERR_REG_INVALID_REQUEST);
    json_decref(j);

    j = json_pack("[s]", "x");
    CHECK_EQ_INT(tc_registry_attrs_from_json(j, &a, &d),
                 TC_ERR_REG_INVALID_REQUEST);
    json_decref(j);
}

static struct tc_reg_attr attr_rows[4] = {
    {"a", "1"}, {"b", "2"}, {"c", "3"}, {"d", "4"}};

TC_TEST(registry_thing_rules)
{
    struct tc_registry *reg = regt_open(NULL, 0);
    struct tc_reg_attrs three = {attr_rows, 3};
    struct tc_reg_attrs four = {attr_rows, 4};
    struct tc_reg_thing t = {0};
    struct tc_reg_thing_update u;
    struct tc_detail d;
    char id[TC_REG_UUID_LEN];

    CHECK(reg != NULL);
    CHECK_EQ_INT(tc_registry_thing_create(reg, "dev1", NULL, &three, &t, &d),
                 TC_OK);
    CHECK_EQ_STR(t.arn, "arn:aws:iot:eu-west-1:123456789012:thing/dev1");
    CHECK_EQ_INT(strlen(t.id), 36);
    CHECK_EQ_INT(t.attrs.n, 3);
    snprintf(id, sizeof(id), "%s", t.id);
    tc_reg_thing_clear(&t);

    /* Same request again: the same thing; different: exists. */
    CHECK_EQ_INT(tc_registry_thing_create(reg, "dev1", NULL, &three, &t, &d),
                 TC_OK);
    CHECK_EQ_STR(t.id, id);
    tc_reg_thing_clear(&t);
    CHECK_EQ_INT(tc_registry_thing_create(reg, "dev1", NULL, NULL, NULL, &d),
                 TC_ERR_REG_ALREADY_EXISTS);
    CHECK_EQ_STR(tc_registry_conflict_id(reg), "dev1");
    CHECK_EQ_STR(tc_registry_conflict_arn(reg),
                 "arn:aws:iot:eu-west-1:123456789012:thing/dev1");

    /* Limits and references. */
    CHECK_EQ_INT(tc_registry_thing_create(reg, "dev2", NULL, &four, NULL, &d),
                 TC_ERR_REG_INVALID_REQUEST);
    CHECK_EQ_STR(d.field, "attributes");
    CHECK_EQ_INT(tc_registry_thing_create(reg, "dev 2", NULL, NULL, NULL, &d),
                 TC_ERR_REG_INVALID_REQUEST);
    CHECK_EQ_INT(tc_registry_thing_create(reg, "dev2", "nope", NULL, NULL, &d),
                 TC_ERR_REG_NOT_FOUND);
    CHECK_EQ_INT(tc_registry_thing_type_create(reg, "sensor", "a sensor", NULL,
                                               0, NULL, &d),
                 TC_OK);
    CHECK_EQ_INT(
        tc_registry_thing_create(reg, "dev2", "sensor", &four, NULL, &d),
        TC_OK);

    /* Updates: version, merge, removal by "", expected version. */
    memset(&u, 0, sizeof(u));
    u.has_expected_version = 1;
    u.expected_version = 7;
    CHECK_EQ_INT(tc_registry_thing_update(reg, "dev1", &u, &d),
                 TC_ERR_REG_VERSION_CONFLICT);
    u.expected_version = 1;
    {
        struct tc_reg_attr rm[2] = {{"a", ""}, {"z", "26"}};
        struct tc_reg_attrs m = {rm, 2};

        u.attrs = &m;
        u.merge = 1;
        CHECK_EQ_INT(tc_registry_thing_update(reg, "dev1", &u, &d), TC_OK);
    }
    CHECK_EQ_INT(tc_registry_thing_describe(reg, "dev1", &t, &d), TC_OK);
    CHECK_EQ_INT(t.version, 2);
    CHECK_EQ_INT(t.attrs.n, 3);
    CHECK_EQ_STR(t.attrs.v[0].name, "b");
    CHECK_EQ_STR(t.attrs.v[2].name, "z");
    tc_reg_thing_clear(&t);

    /* Without merge the attributes are replaced; too many fails whole. */
    memset(&u, 0, sizeof(u));
    u.attrs = &four;
    CHECK_EQ_INT(tc_registry_thing_update(reg, "dev1", &u, &d),
                 TC_ERR_REG_INVALID_REQUEST);
    CHECK_EQ_INT(tc_registry_thing_describe(reg, "dev1", &t, &d), TC_OK);
    CHECK_EQ_INT(t.attrs.n, 3);
    CHECK_EQ_INT(t.version, 2);
    tc_reg_thing_clear(&t);
    u.type_name = "sensor";
    CHECK_EQ_INT(tc_registry_thing_update(reg, "dev1", &u, &d), TC_OK);
    CHECK_EQ_INT(tc_registry_thing_describe(reg, "dev1", &t, &d), TC_OK);
    CHECK_EQ_STR(t.type_name, "sensor");
    CHECK_EQ_INT(t.attrs.n, 4);
    tc_reg_thing_clear(&t);

    /* Removing the type while four attributes remain breaks the limit. */
    memset(&u, 0, sizeof(u));
    u.remove_type = 1;
    CHECK_EQ_INT(tc_registry_thing_update(reg, "dev1", &u, &d),
                 TC_ERR_REG_INVALID_REQUEST);
    u.type_name = "sensor";
    CHECK_EQ_INT(tc_registry_thing_update(reg, "dev1", &u, &d),
                 TC_ERR_REG_INVALID_REQUEST);
    CHECK_EQ_INT(tc_registry_thing_update(reg, "ghost",
                                          &(struct tc_reg_thing_update){0}, &d),
                 TC_ERR_REG_NOT_FOUND);

    /* Deletes. */
    CHECK_EQ_INT(tc_registry_thing_delete(reg, "ghost", 0, 0, &d), TC_OK);
    CHECK_EQ_INT(tc_registry_thing_delete(reg, "dev2", 1, 5, &d),
                 TC_ERR_REG_VERSION_CONFLICT);
    CHECK_EQ_INT(tc_registry_thing_delete(reg, "dev2", 1, 1, &d), TC_OK);
    CHECK_EQ_INT(tc_registry_thing_describe(reg, "dev2", &t, &d),
                 TC_ERR_REG_NOT_FOUND);
    tc_registry_close(reg);
}

TC_TEST(registry_thing_types)
{
    struct tc_registry *reg = regt_open(NULL, 0);
    const char *searchable[] = {"serial", "model"};
    const char *bad[] = {"bad name"};
    struct tc_reg_thing_type t = {0};
    struct tc_reg_thing_type_list l = {0};
    struct tc_detail d;

    CHECK(reg != NULL);
    CHECK_EQ_INT(tc_registry_thing_type_create(reg, "edukit", "Core2",
                                               searchable, 2, &t, &d),
                 TC_OK);
    CHECK_EQ_STR(t.arn, "arn:aws:iot:eu-west-1:123456789012:thingtype/edukit");
    CHECK_EQ_INT(t.searchable.n, 2);
    tc_reg_thing_type_clear(&t);
    CHECK_EQ_INT(tc_registry_thing_type_create(reg, "edukit", "Core2", NULL, 0,
                                               NULL, &d),
                 TC_OK);
    CHECK_EQ_INT(tc_registry_thing_type_create(reg, "edukit", "other", NULL, 0,
                                               NULL, &d),
                 TC_ERR_REG_ALREADY_EXISTS);
    CHECK_EQ_INT(
        tc_registry_thing_type_create(reg, "x", NULL, bad, 1, NULL, &d),
        TC_ERR_REG_INVALID_REQUEST);
    CHECK_EQ_INT(tc_registry_thing_type_describe(reg, "nope", &t, &d),
                 TC_ERR_REG_NOT_FOUND);
    CHECK_EQ_INT(tc_registry_thing_create(reg, "d1", "edukit", NULL, NULL, &d),
                 TC_OK);

    /* Delete needs deprecation, and no thing of the type. */
    CHECK_EQ_INT(tc_registry_thing_type_delete(reg, "edukit", &d),
                 TC_ERR_REG_INVALID_REQUEST);
    CHECK(strstr(d.text, "deprecated") != NULL);
    CHECK_EQ_INT(tc_registry_thing_type_deprecate(reg, "edukit", 0, &d), TC_OK);
    CHECK_EQ_INT(tc_registry_thing_create(reg, "d2", "edukit", NULL, NULL, &d),
                 TC_ERR_REG_INVALID_REQUEST);
    CHECK_EQ_INT(tc_registry_thing_type_delete(reg, "edukit", &d),
                 TC_ERR_REG_INVALID_REQUEST);
    CHECK(strstr(d.text, "d1") != NULL);
    CHECK_EQ_INT(tc_registry_thing_delete(reg, "d1", 0, 0, &d), TC_OK);
    CHECK_EQ_INT(tc_registry_thing_type_deprecate(reg, "nope", 0, &d),
                 TC_ERR_REG_NOT_FOUND);
    CHECK_EQ_INT(tc_registry_thing_type_list(reg, NULL, NULL, &l, &d), TC_OK);
    CHECK_EQ_INT(l.n, 1);
    CHECK_EQ_INT(l.items[0].deprecated, 1);
    tc_reg_thing_type_list_clear(&l);
    CHECK_EQ_INT(tc_registry_thing_type_delete(reg, "edukit", &d), TC_OK);
    CHECK_EQ_INT(tc_registry_thing_type_delete(reg, "edukit", &d),
                 TC_ERR_REG_NOT_FOUND);
    tc_registry_close(reg);
}

TC_TEST(registry_thing_list_pages)
{
    struct tc_registry *reg = regt_open(NULL, 0);
    struct tc_reg_thing_list l = {0};
    struct tc_reg_thing_filter f = {0};
    struct tc_reg_page page = {0};
    struct tc_detail d;
    char name[32];
    char token[TC_REG_TOKEN_MAX] = "";
    int i;
    int seen = 0;

    CHECK(reg != NULL);
    for (i = 0; i < 25; i++) {
        struct tc_reg_attr a = {"group", i % 2 ? "odd-x" : "even-x"};
        struct tc_reg_attrs as = {&a, 1};

        snprintf(name, sizeof(name), "thing-%02d", i);
        CHECK_EQ_INT(tc_registry_thing_create(reg, name, NULL, &as, NULL, &d),
                     TC_OK);
    }

    /* Pages of 10 walk all 25 in order, the last one without a token. */
    page.limit = 10;
    do {
        page.token = token[0] != '\0' ? token : NULL;
        CHECK_EQ_INT(tc_registry_thing_list(reg, NULL, &page, &l, &d), TC_OK);
        for (i = 0; i < (int)l.n; i++) {
            snprintf(name, sizeof(name), "thing-%02d", seen + i);
            CHECK_EQ_STR(l.items[i].name, name);
        }
        seen += (int)l.n;
        snprintf(token, sizeof(token), "%s", l.next);
        tc_reg_thing_list_clear(&l);
    } while (token[0] != '\0');
    CHECK_EQ_INT(seen, 25);

    /* Filters. */
    f.attr_name = "group";
    f.attr_value = "odd-x";
    CHECK_EQ_INT(tc_registry_thing_list(reg, &f, NULL, &l, &d), TC_OK);
    CHECK_EQ_INT(l.n, 12);
    tc_reg_thing_list_clear(&l);
    f.attr_value = "odd";
    CHECK_EQ_INT(tc_registry_thing_list(reg, &f, NULL, &l, &d), TC_OK);
    CHECK_EQ_INT(l.n, 0);
    f.attr_value_prefix = 1;
    CHECK_EQ_INT(tc_registry_thing_list(reg, &f, NULL, &l, &d), TC_OK);
    CHECK_EQ_INT(l.n, 12);
    tc_reg_thing_list_clear(&l);
    f.attr_name = NULL;
    CHECK_EQ_INT(tc_registry_thing_list(reg, &f, NULL, &l, &d),
                 TC_ERR_REG_INVALID_REQUEST);

    /* Bad pages. */
    page.limit = 251;
    page.token = NULL;
    CHECK_EQ_INT(tc_registry_thing_list(reg, NULL, &page, &l, &d),
                 TC_ERR_REG_INVALID_REQUEST);
    CHECK_EQ_STR(d.field, "maxResults");
    page.limit = -1;
    CHECK_EQ_INT(tc_registry_thing_list(reg, NULL, &page, &l, &d),
                 TC_ERR_REG_INVALID_REQUEST);
    page.limit = 5;
    page.token = "***";
    CHECK_EQ_INT(tc_registry_thing_list(reg, NULL, &page, &l, &d),
                 TC_ERR_REG_INVALID_REQUEST);
    CHECK_EQ_STR(d.field, "nextToken");
    tc_registry_close(reg);
}

TC_TEST(registry_thing_principals)
{
    struct tc_registry *reg = regt_open(NULL, 0);
    struct tc_reg_str_list l = {0};
    struct tc_detail d;
    char c1[TC_REG_CERT_ID_LEN];
    char c2[TC_REG_CERT_ID_LEN];
    char arn1[TC_REG_ARN_MAX];
    char arn2[TC_REG_ARN_MAX];
    char bogus[TC_REG_ARN_MAX];

    CHECK(reg != NULL);
    CHECK_EQ_INT(regt_leaf(reg, TC_REG_CERT_ACTIVE, c1), TC_OK);
    CHECK_EQ_INT(regt_leaf(reg, TC_REG_CERT_ACTIVE, c2), TC_OK);
    tc_registry_arn(reg, "cert", c1, arn1);
    tc_registry_arn(reg, "cert", c2, arn2);
    CHECK_EQ_INT(tc_registry_thing_create(reg, "a", NULL, NULL, NULL, &d),
                 TC_OK);
    CHECK_EQ_INT(tc_registry_thing_create(reg, "b", NULL, NULL, NULL, &d),
                 TC_OK);

    /* Bad principals and things. */
    CHECK_EQ_INT(tc_registry_thing_principal_attach(
                     reg, "a", "arn:aws:iot:us-east-1:1:cert/00", 0, &d),
                 TC_ERR_REG_INVALID_REQUEST);
    tc_registry_arn(reg, "cert",
                    "00000000000000000000000000000000000000000000000000000000"
                    "00000000",
                    bogus);
    CHECK_EQ_INT(tc_registry_thing_principal_attach(reg, "a", bogus, 0, &d),
                 TC_ERR_REG_NOT_FOUND);
    CHECK_EQ_INT(tc_registry_thing_principal_attach(reg, "zz", arn1, 0, &d),
                 TC_ERR_REG_NOT_FOUND);
    CHECK_EQ_INT(tc_registry_thing_principal_attach(reg, "a", arn1, 7, &d),
                 TC_ERR_REG_INVALID_REQUEST);

    /* Exclusive attachments. */
    CHECK_EQ_INT(tc_registry_thing_principal_attach(
                     reg, "a", arn1, TC_REG_PRINCIPAL_EXCLUSIVE, &d),
                 TC_OK);
    CHECK_EQ_INT(tc_registry_thing_principal_attach(
                     reg, "b", arn1, TC_REG_PRINCIPAL_NON_EXCLUSIVE, &d),
                 TC_ERR_REG_INVALID_REQUEST);
    CHECK_EQ_INT(tc_registry_thing_principal_attach(
                     reg, "a", arn1, TC_REG_PRINCIPAL_EXCLUSIVE, &d),
                 TC_OK);
    CHECK_EQ_INT(tc_registry_thing_principal_attach(reg, "a", arn2, 0, &d),
                 TC_OK);
    CHECK_EQ_INT(tc_registry_thing_principal_attach(reg, "b", arn2, 0, &d),
                 TC_OK);
    CHECK_EQ_INT(tc_registry_thing_principal_attach(
                     reg, "a", arn2, TC_REG_PRINCIPAL_EXCLUSIVE, &d),
                 TC_ERR_REG_INVALID_REQUEST);

    CHECK_EQ_INT(tc_registry_thing_principal_list(reg, "a", NULL, &l, &d),
                 TC_OK);
    CHECK_EQ_INT(l.n, 2);
    tc_reg_str_list_clear(&l);
    {
        struct tc_reg_page p = {1, NULL, 0};

        CHECK_EQ_INT(tc_registry_principal_thing_list(reg, arn2, &p, &l, &d),
                     TC_OK);
        CHECK_EQ_INT(l.n, 1);
        CHECK_EQ_STR(l.items[0], "a");
        CHECK(l.next[0] != '\0');
        p.token = l.next;
        {
            struct tc_reg_str_list l2 = {0};

            CHECK_EQ_INT(
                tc_registry_principal_thing_list(reg, arn2, &p, &l2, &d),
                TC_OK);
            CHECK_EQ_INT(l2.n, 1);
            CHECK_EQ_STR(l2.items[0], "b");
            CHECK_EQ_STR(l2.next, "");
            tc_reg_str_list_clear(&l2);
        }
        tc_reg_str_list_clear(&l);
    }
    CHECK_EQ_INT(tc_registry_thing_principal_list(reg, "zz", NULL, &l, &d),
                 TC_ERR_REG_NOT_FOUND);
    CHECK_EQ_INT(tc_registry_principal_thing_list(reg, bogus, NULL, &l, &d),
                 TC_ERR_REG_NOT_FOUND);

    /* A thing with principals stays; detached, it goes. */
    CHECK_EQ_INT(tc_registry_thing_delete(reg, "a", 0, 0, &d),
                 TC_ERR_REG_INVALID_REQUEST);
    CHECK_EQ_INT(tc_registry_thing_principal_detach(reg, "a", arn1, &d), TC_OK);
    CHECK_EQ_INT(tc_registry_thing_principal_detach(reg, "a", arn1, &d), TC_OK);
    CHECK_EQ_INT(tc_registry_thing_principal_detach(reg, "a", arn2, &d), TC_OK);
    CHECK_EQ_INT(tc_registry_thing_delete(reg, "a", 0, 0, &d), TC_OK);

    /* A certificate attached to a thing cannot be deleted. */
    CHECK_EQ_INT(
        tc_registry_cert_update_status(reg, c2, TC_REG_CERT_INACTIVE, &d),
        TC_OK);
    CHECK_EQ_INT(tc_registry_cert_delete(reg, c2, 1, &d),
                 TC_ERR_REG_DELETE_CONFLICT);
    tc_registry_close(reg);
}

struct collect {
    int n;
    long long last;
    int ordered;
    char kinds[64][40];
    char actor[64];
};

static int
collect_cb(void *arg, const struct tc_reg_event *ev)
{
    struct collect *c = arg;

    if (ev->seq <= c->last) {
        c->ordered = 0;
    }
    c->last = ev->seq;
    if (c->n < 64) {
        snprintf(c->kinds[c->n], sizeof(c->kinds[0]), "%s", ev->kind);
    }
    snprintf(c->actor, sizeof(c->actor), "%s", ev->actor);
    c->n++;
    return 0;
}

static int
stop_cb(void *arg, const struct tc_reg_event *ev)
{
    (void)arg;
    (void)ev;
    return 42;
}

TC_TEST(registry_events)
{
    struct tc_registry *reg = regt_open(NULL, 0);
    struct collect c;
    struct tc_detail d;
    struct tc_reg_thing_update u = {0};
    long long max0 = 0;
    long long max1 = 0;
    long long last = 0;

    CHECK(reg != NULL);
    CHECK_EQ_INT(tc_registry_events_max_seq(reg, &max0, &d), TC_OK);
    CHECK(max0 > 0); /* the migration and identity are logged */
    tc_registry_set_actor(reg, "AKIDEXAMPLE");
    CHECK_EQ_INT(tc_registry_thing_create(reg, "e1", NULL, NULL, NULL, &d),
                 TC_OK);
    CHECK_EQ_INT(tc_registry_thing_update(reg, "e1", &u, &d), TC_OK);
    CHECK_EQ_INT(tc_registry_thing_delete(reg, "e1", 0, 0, &d), TC_OK);

    /* A failed change leaves no event. */
    CHECK_EQ_INT(tc_registry_thing_update(reg, "e1", &u, &d),
                 TC_ERR_REG_NOT_FOUND);
    CHECK_EQ_INT(tc_registry_events_max_seq(reg, &max1, &d), TC_OK);
    CHECK_EQ_INT(max1, max0 + 3);

    memset(&c, 0, sizeof(c));
    c.ordered = 1;
    c.last = max0;
    CHECK_EQ_INT(
        tc_registry_events_since(reg, max0, 100, collect_cb, &c, &last, &d),
        TC_OK);
    CHECK_EQ_INT(c.n, 3);
    CHECK(c.ordered);
    CHECK_EQ_INT(last, max1);
    CHECK_EQ_STR(c.kinds[0], "thing.create");
    CHECK_EQ_STR(c.kinds[1], "thing.update");
    CHECK_EQ_STR(c.kinds[2], "thing.delete");
    CHECK_EQ_STR(c.actor, "AKIDEXAMPLE");

    /* max bounds the batch; a callback can stop early. */
    memset(&c, 0, sizeof(c));
    c.ordered = 1;
    CHECK_EQ_INT(tc_registry_events_since(reg, 0, 2, collect_cb, &c, &last, &d),
                 TC_OK);
    CHECK_EQ_INT(c.n, 2);
    CHECK_EQ_INT(last, 2);
    CHECK_EQ_INT(tc_registry_events_since(reg, 0, 10, stop_cb, NULL, &last, &d),
                 42);
    CHECK_EQ_INT(last, 1);
    CHECK_EQ_INT(
        tc_registry_events_since(reg, max1, 10, collect_cb, &c, &last, &d),
        TC_OK);
    CHECK_EQ_INT(last, max1);
    tc_registry_close(reg);
}
