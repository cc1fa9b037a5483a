// SPDX-License-Identifier: Apache-2.0
/*
 * Things, thing types and thing principals with AWS IoT's rules: name
 * patterns, attribute limits, versions that count updates, idempotent
 * creation, no deletion while principals are attached, and exclusive
 * principals. Thing groups and billing groups are not kept.
 */
#include <stdlib.h>
#include <string.h>

#include "regpriv.h"
#include "thingcore/util.h"

/* ---- clear functions ---- */

void
tc_reg_thing_type_clear(struct tc_reg_thing_type *t)
{
    if (t == NULL) {
        return;
    }
    free(t->description);
    tc_reg_attrs_clear(&t->searchable);
    memset(t, 0, sizeof(*t));
}

void
tc_reg_thing_type_list_clear(struct tc_reg_thing_type_list *l)
{
    size_t i;

    if (l == NULL) {
        return;
    }
    for (i = 0; i < l->n; i++) {
        tc_reg_thing_type_clear(&l->items[i]);
    }
    free(l->items);
    memset(l, 0, sizeof(*l));
}

void
tc_reg_thing_clear(struct tc_reg_thing *t)
{
    if (t == NULL) {
        return;
    }
    tc_reg_attrs_clear(&t->attrs);
    memset(t, 0, sizeof(*t));
}

void
tc_reg_thing_list_clear(struct tc_reg_thing_list *l)
{
    size_t i;

    if (l == NULL) {
        return;
    }
    for (i = 0; i < l->n; i++) {
        tc_reg_thing_clear(&l->items[i]);
    }
    free(l->items);
    memset(l, 0, sizeof(*l));
}

/* ---- thing types ---- */

#define TYPE_COLS                                                              \
    "name, id, description, searchable, deprecated, deprecation_date, "        \
    "created"

static int
type_row(struct tc_registry *reg, sqlite3_stmt *st, struct tc_reg_thing_type *t,
         struct tc_detail *d)
{
    json_t *arr;
    json_t *v;
    size_t i;
    const unsigned char *s;

    reg_col_copy(st, 0, t->name, sizeof(t->name));
    reg_col_copy(st, 1, t->id, sizeof(t->id));
    tc_registry_arn(reg, "thingtype", t->name, t->arn);
    t->description = reg_col_dup(st, 2);
    t->deprecated = sqlite3_column_int(st, 4);
    t->deprecation_date = sqlite3_column_double(st, 5);
    t->creation_date = sqlite3_column_double(st, 6);

    s = sqlite3_column_text(st, 3);
    arr = s != NULL ? json_loads((const char *)s, 0, NULL) : NULL;
    json_array_foreach(arr, i, v)
    {
        struct tc_reg_attr *a;

        a = reg_list_push((void **)&t->searchable.v, &t->searchable.n,
                          sizeof(*a));
        if (a == NULL || (a->name = strdup(json_string_value(v) != NULL
                                               ? json_string_value(v)
                                               : "")) == NULL) {
            json_decref(arr);
            return tc_detail_set(d, TC_ERR_NOMEM, -1, "thingType", "no memory");
        }
    }
    json_decref(arr);
    return TC_OK;
}

static int
type_load(struct tc_registry *reg, const char *name,
          struct tc_reg_thing_type *out, int *found, struct tc_detail *d)
{
    sqlite3_stmt *st = NULL;
    int row = 0;
    int ret;

    *found = 0;
    ret = reg_prepare(
        reg, &st, "SELECT " TYPE_COLS " FROM thing_types WHERE name = ?", d);
    if (ret != TC_OK) {
        return ret;
    }
    reg_bind_text(st, 1, name);
    ret = reg_step(reg, st, &row, "thingType", d);
    if (ret == TC_OK && row) {
        *found = 1;
        ret = type_row(reg, st, out, d);
    }
    reg_finalize(reg, st);
    return ret;
}

struct type_create {
    const char *name;
    const char *description;
    const char *const *searchable;
    size_t n;
    struct tc_reg_thing_type *out;
};

static int
do_type_create(struct tc_registry *reg, void *arg, struct tc_detail *d)
{
    struct type_create *a = arg;
    struct tc_reg_thing_type old = {0};
    sqlite3_stmt *st = NULL;
    json_t *arr = NULL;
    char *text = NULL;
    char id[TC_REG_UUID_LEN];
    int found = 0;
    int ret;
    size_t i;

    tc_reg_thing_type_clear(a->out);

    ret = type_load(reg, a->name, &old, &found, d);
    if (ret != TC_OK) {
        goto cleanup;
    }
    if (found) {
        const char *od = old.description != NULL ? old.description : "";
        const char *nd = a->description != NULL ? a->description : "";

        /* The same request again is answered like the first one. */
        if (strcmp(od, nd) != 0) {
            ret = reg_conflict(reg, "thingtype", a->name, d,
                               "thing type %s already exists with a "
                               "different description",
                               a->name);
            goto cleanup;
        }
        if (a->out != NULL) {
            *a->out = old;
            memset(&old, 0, sizeof(old));
        }
        goto cleanup;
    }

    arr = json_array();
    for (i = 0; arr != NULL && i < a->n; i++) {
        json_array_append_new(arr, json_string(a->searchable[i]));
    }
    text = arr != NULL ? json_dumps(arr, JSON_COMPACT) : NULL;
    if (text == NULL) {
        ret = tc_detail_set(d, TC_ERR_NOMEM, -1, "thingType", "no memory");
        goto cleanup;
    }
    reg_uuid(id);
    ret = reg_prepare(reg, &st,
                      "INSERT INTO thing_types (name, id, description, "
                      "searchable, created) VALUES (?, ?, ?, ?, ?)",
                      d);
    if (ret != TC_OK) {
        goto cleanup;
    }
    reg_bind_text(st, 1, a->name);
    reg_bind_text(st, 2, id);
    reg_bind_text(st, 3, a->description);
    reg_bind_text(st, 4, text);
    sqlite3_bind_double(st, 5, tc_now());
    ret = reg_step(reg, st, NULL, "thingType", d);
    if (ret == TC_OK) {
        ret = reg_event(reg, "thingtype.create", "thingtype", a->name, NULL, d);
    }
    if (ret == TC_OK && a->out != NULL) {
        ret = type_load(reg, a->name, a->out, &found, d);
    }

cleanup:
    reg_finalize(reg, st);
    json_decref(arr);
    free(text);
    tc_reg_thing_type_clear(&old);
    return ret;
}

int
tc_registry_thing_type_create(struct tc_registry *reg, const char *name,
                              const char *description,
                              const char *const *searchable, size_t n,
                              struct tc_reg_thing_type *out,
                              struct tc_detail *d)
{
    struct type_create a = {name, description, searchable, n, out};
    size_t i;
    int ret;

    if (out != NULL) {
        memset(out, 0, sizeof(*out));
    }
    ret = tc_registry_check_thing_name(name, "thingTypeName", d);
    if (ret != TC_OK) {
        return ret;
    }
    if (description != NULL && strlen(description) > 2028) {
        return tc_detail_set(d, TC_ERR_REG_INVALID_REQUEST, -1,
                             "thingTypeDescription",
                             "a description is at most 2028 characters");
    }
    if (n > TC_REG_ATTRS_TYPED) {
        return tc_detail_set(
            d, TC_ERR_REG_INVALID_REQUEST, -1, "searchableAttributes",
            "at most %d searchable attributes", TC_REG_ATTRS_TYPED);
    }
    for (i = 0; i < n; i++) {
        ret = tc_registry_check_attr_name(searchable[i], d);
        if (ret != TC_OK) {
            return ret;
        }
    }
    ret = reg_tx(reg, 1, do_type_create, &a, d);
    if (ret != TC_OK && out != NULL) {
        tc_reg_thing_type_clear(out);
    }
    return ret;
}

struct type_get {
    const char *name;
    struct tc_reg_thing_type *out;
};

static int
do_type_describe(struct tc_registry *reg, void *arg, struct tc_detail *d)
{
    struct type_get *a = arg;
    int found = 0;
    int ret = type_load(reg, a->name, a->out, &found, d);

    if (ret == TC_OK && !found) {
        ret = tc_detail_set(d, TC_ERR_REG_NOT_FOUND, -1, "thingTypeName",
                            "thing type %s does not exist", a->name);
    }
    return ret;
}

int
tc_registry_thing_type_describe(struct tc_registry *reg, const char *name,
                                struct tc_reg_thing_type *out,
                                struct tc_detail *d)
{
    struct type_get a = {name, out};
    int ret;

    memset(out, 0, sizeof(*out));
    ret = tc_registry_check_thing_name(name, "thingTypeName", d);
    if (ret == TC_OK) {
        ret = reg_tx(reg, 0, do_type_describe, &a, d);
    }
    if (ret != TC_OK) {
        tc_reg_thing_type_clear(out);
    }
    return ret;
}

struct type_change {
    const char *name;
    int undo;
};

static int
do_type_deprecate(struct tc_registry *reg, void *arg, struct tc_detail *d)
{
    struct type_change *a = arg;
    sqlite3_stmt *st = NULL;
    int ret;

    ret = reg_prepare(reg, &st,
                      "UPDATE thing_types SET deprecated = ?, "
                      "deprecation_date = ? WHERE name = ?",
                      d);
    if (ret != TC_OK) {
        return ret;
    }
    sqlite3_bind_int(st, 1, !a->undo);
    sqlite3_bind_double(st, 2, a->undo ? 0.0 : tc_now());
    reg_bind_text(st, 3, a->name);
    ret = reg_step(reg, st, NULL, "thingType", d);
    reg_finalize(reg, st);
    if (ret != TC_OK) {
        return ret;
    }
    if (sqlite3_changes(reg->db) == 0) {
        return tc_detail_set(d, TC_ERR_REG_NOT_FOUND, -1, "thingTypeName",
                             "thing type %s does not exist", a->name);
    }
    return reg_event(reg,
                     a->undo ? "thingtype.undeprecate" : "thingtype.deprecate",
                     "thingtype", a->name, NULL, d);
}

int
tc_registry_thing_type_deprecate(struct tc_registry *reg, const char *name,
                                 int undo, struct tc_detail *d)
{
    struct type_change a = {name, undo};
    int ret = tc_registry_check_thing_name(name, "thingTypeName", d);

    if (ret != TC_OK) {
        return ret;
    }
    return reg_tx(reg, 1, do_type_deprecate, &a, d);
}

static int
do_type_delete(struct tc_registry *reg, void *arg, struct tc_detail *d)
{
    struct type_change *a = arg;
    struct tc_reg_thing_type t = {0};
    sqlite3_stmt *st = NULL;
    char thing[TC_REG_NAME_MAX];
    int found = 0;
    int row = 0;
    int ret;

    ret = type_load(reg, a->name, &t, &found, d);
    if (ret != TC_OK) {
        goto cleanup;
    }
    if (!found) {
        ret = tc_detail_set(d, TC_ERR_REG_NOT_FOUND, -1, "thingTypeName",
                            "thing type %s does not exist", a->name);
        goto cleanup;
    }
    if (!t.deprecated) {
        ret = tc_detail_set(d, TC_ERR_REG_INVALID_REQUEST, -1, "thingTypeName",
                            "thing type %s must be deprecated before it is "
                            "deleted",
                            a->name);
        goto cleanup;
    }
    ret = reg_prepare(reg, &st,
                      "SELECT name FROM things WHERE type_name = ? LIMIT 1", d);
    if (ret != TC_OK) {
        goto cleanup;
    }
    reg_bind_text(st, 1, a->name);
    ret = reg_step(reg, st, &row, "thingType", d);
    if (ret != TC_OK) {
        goto cleanup;
    }
    if (row) {
        reg_col_copy(st, 0, thing, sizeof(thing));
        ret = tc_detail_set(d, TC_ERR_REG_INVALID_REQUEST, -1, "thingTypeName",
                            "thing type %s is still used by thing %s", a->name,
                            thing);
        goto cleanup;
    }
    reg_finalize(reg, st);
    st = NULL;
    ret = reg_prepare(reg, &st, "DELETE FROM thing_types WHERE name = ?", d);
    if (ret != TC_OK) {
        goto cleanup;
    }
    reg_bind_text(st, 1, a->name);
    ret = reg_step(reg, st, NULL, "thingType", d);
    if (ret == TC_OK) {
        ret = reg_event(reg, "thingtype.delete", "thingtype", a->name, NULL, d);
    }

cleanup:
    reg_finalize(reg, st);
    tc_reg_thing_type_clear(&t);
    return ret;
}

int
tc_registry_thing_type_delete(struct tc_registry *reg, const char *name,
                              struct tc_detail *d)
{
    struct type_change a = {name, 0};
    int ret = tc_registry_check_thing_name(name, "thingTypeName", d);

    if (ret != TC_OK) {
        return ret;
    }
    return reg_tx(reg, 1, do_type_delete, &a, d);
}

struct type_list {
    const char *filter;
    const struct tc_reg_page *page;
    struct tc_reg_thing_type_list *out;
};

static int
do_type_list(struct tc_registry *reg, void *arg, struct tc_detail *d)
{
    struct type_list *a = arg;
    sqlite3_stmt *st = NULL;
    char key[TC_REG_NAME_MAX];
    int limit = 0;
    int row = 0;
    int ret;

    ret = reg_page_start(a->page, &limit, key, sizeof(key), d);
    if (ret != TC_OK) {
        return ret;
    }
    ret = reg_prepare(reg, &st,
                      "SELECT " TYPE_COLS " FROM thing_types WHERE name > ? "
                      "AND (? IS NULL OR name = ?) ORDER BY name LIMIT ?",
                      d);
    if (ret != TC_OK) {
        return ret;
    }
    reg_bind_text(st, 1, key);
    reg_bind_text(st, 2, a->filter);
    reg_bind_text(st, 3, a->filter);
    sqlite3_bind_int(st, 4, limit + 1);
    for (;;) {
        struct tc_reg_thing_type *t;

        ret = reg_step(reg, st, &row, "thingTypes", d);
        if (ret != TC_OK || !row) {
            break;
        }
        if (a->out->n == (size_t)limit) {
            reg_page_token(a->out->items[limit - 1].name, a->out->next);
            break;
        }
        t = reg_list_push((void **)&a->out->items, &a->out->n, sizeof(*t));
        if (t == NULL) {
            ret = tc_detail_set(d, TC_ERR_NOMEM, -1, "thingTypes", "no memory");
            break;
        }
        ret = type_row(reg, st, t, d);
        if (ret != TC_OK) {
            break;
        }
    }
    reg_finalize(reg, st);
    return ret;
}

int
tc_registry_thing_type_list(struct tc_registry *reg, const char *name_filter,
                            const struct tc_reg_page *page,
                            struct tc_reg_thing_type_list *out,
                            struct tc_detail *d)
{
    struct type_list a = {name_filter, page, out};
    int ret;

    memset(out, 0, sizeof(*out));
    ret = reg_tx(reg, 0, do_type_list, &a, d);
    if (ret != TC_OK) {
        tc_reg_thing_type_list_clear(out);
    }
    return ret;
}

/* ---- things ---- */

static int
load_attrs(struct tc_registry *reg, const char *thing, struct tc_reg_attrs *out,
           struct tc_detail *d)
{
    sqlite3_stmt *st = NULL;
    int row = 0;
    int ret;

    ret = reg_prepare(reg, &st,
                      "SELECT name, value FROM thing_attrs WHERE thing = ? "
                      "ORDER BY name",
                      d);
    if (ret != TC_OK) {
        return ret;
    }
    reg_bind_text(st, 1, thing);
    for (;;) {
        struct tc_reg_attr *a;

        ret = reg_step(reg, st, &row, "attributes", d);
        if (ret != TC_OK || !row) {
            break;
        }
        a = reg_list_push((void **)&out->v, &out->n, sizeof(*a));
        if (a == NULL || (a->name = reg_col_dup(st, 0)) == NULL ||
            (a->value = reg_col_dup(st, 1)) == NULL) {
            ret = tc_detail_set(d, TC_ERR_NOMEM, -1, "attributes", "no memory");
            break;
        }
    }
    reg_finalize(reg, st);
    return ret;
}

#define THING_COLS "name, id, type_name, version"

static int
thing_row(struct tc_registry *reg, sqlite3_stmt *st, struct tc_reg_thing *t,
          struct tc_detail *d)
{
    reg_col_copy(st, 0, t->name, sizeof(t->name));
    reg_col_copy(st, 1, t->id, sizeof(t->id));
    reg_col_copy(st, 2, t->type_name, sizeof(t->type_name));
    t->version = sqlite3_column_int64(st, 3);
    tc_registry_arn(reg, "thing", t->name, t->arn);
    return load_attrs(reg, t->name, &t->attrs, d);
}

static int
thing_load(struct tc_registry *reg, const char *name, struct tc_reg_thing *t,
           int *found, struct tc_detail *d)
{
    sqlite3_stmt *st = NULL;
    int row = 0;
    int ret;

    *found = 0;
    ret = reg_prepare(reg, &st,
                      "SELECT " THING_COLS " FROM things WHERE name = ?", d);
    if (ret != TC_OK) {
        return ret;
    }
    reg_bind_text(st, 1, name);
    ret = reg_step(reg, st, &row, "thing", d);
    if (ret == TC_OK && row) {
        *found = 1;
        ret = thing_row(reg, st, t, d);
    }
    reg_finalize(reg, st);
    return ret;
}

/* The type must exist and not be deprecated for a thing to take it. */
static int
type_usable(struct tc_registry *reg, const char *type_name, struct tc_detail *d)
{
    struct tc_reg_thing_type t = {0};
    int found = 0;
    int ret = type_load(reg, type_name, &t, &found, d);

    if (ret == TC_OK && !found) {
        ret = tc_detail_set(d, TC_ERR_REG_NOT_FOUND, -1, "thingTypeName",
                            "thing type %s does not exist", type_name);
    } else if (ret == TC_OK && t.deprecated) {
        ret = tc_detail_set(d, TC_ERR_REG_INVALID_REQUEST, -1, "thingTypeName",
                            "thing type %s is deprecated", type_name);
    }
    tc_reg_thing_type_clear(&t);
    return ret;
}

static int
attr_count_ok(size_t n, int typed, struct tc_detail *d)
{
    size_t max = typed ? TC_REG_ATTRS_TYPED : TC_REG_ATTRS_UNTYPED;

    if (n > max) {
        return tc_detail_set(d, TC_ERR_REG_INVALID_REQUEST, -1, "attributes",
                             "a thing %s a type has at most %zu attributes, "
                             "not %zu",
                             typed ? "with" : "without", max, n);
    }
    return TC_OK;
}

static int
put_attr(struct tc_registry *reg, const char *thing, const char *name,
         const char *value, struct tc_detail *d)
{
    sqlite3_stmt *st = NULL;
    int ret;

    if (value == NULL || value[0] == '\0') {
        ret = reg_prepare(reg, &st,
                          "DELETE FROM thing_attrs WHERE thing = ? AND "
                          "name = ?",
                          d);
    } else {
        ret = reg_prepare(reg, &st,
                          "INSERT INTO thing_attrs (thing, name, value) "
                          "VALUES (?, ?, ?) ON CONFLICT (thing, name) DO "
                          "UPDATE SET value = excluded.value",
                          d);
    }
    if (ret != TC_OK) {
        return ret;
    }
    reg_bind_text(st, 1, thing);
    reg_bind_text(st, 2, name);
    if (value != NULL && value[0] != '\0') {
        reg_bind_text(st, 3, value);
    }
    ret = reg_step(reg, st, NULL, "attributes", d);
    reg_finalize(reg, st);
    return ret;
}

static int
attr_count(struct tc_registry *reg, const char *thing, size_t *n,
           struct tc_detail *d)
{
    sqlite3_stmt *st = NULL;
    int row = 0;
    int ret;

    *n = 0;
    ret = reg_prepare(reg, &st,
                      "SELECT COUNT(*) FROM thing_attrs WHERE thing = ?", d);
    if (ret != TC_OK) {
        return ret;
    }
    reg_bind_text(st, 1, thing);
    ret = reg_step(reg, st, &row, "attributes", d);
    if (ret == TC_OK && row) {
        *n = (size_t)sqlite3_column_int64(st, 0);
    }
    reg_finalize(reg, st);
    return ret;
}

/* Whether the stored thing equals the creation request (idempotency). */
static int
same_config(const struct tc_reg_thing *t, const char *type_name,
            const struct tc_reg_attrs *attrs)
{
    size_t n = attrs != NULL ? attrs->n : 0;
    size_t i;
    size_t j;

    if (strcmp(t->type_name, type_name != NULL ? type_name : "") != 0 ||
        t->attrs.n != n) {
        return 0;
    }
    for (i = 0; i < n; i++) {
        for (j = 0; j < t->attrs.n; j++) {
            if (strcmp(attrs->v[i].name, t->attrs.v[j].name) == 0) {
                break;
            }
        }
        if (j == t->attrs.n ||
            strcmp(attrs->v[i].value, t->attrs.v[j].value) != 0) {
            return 0;
        }
    }
    return 1;
}

int
reg_do_thing_create(struct tc_registry *reg, void *arg, struct tc_detail *d)
{
    struct thing_create *a = arg;
    struct tc_reg_thing old = {0};
    sqlite3_stmt *st = NULL;
    char id[TC_REG_UUID_LEN];
    int found = 0;
    int ret;
    size_t i;

    tc_reg_thing_clear(a->out);

    ret = thing_load(reg, a->name, &old, &found, d);
    if (ret != TC_OK) {
        goto cleanup;
    }
    if (found) {
        if (!a->keep_existing && !same_config(&old, a->type_name, a->attrs)) {
            ret = reg_conflict(reg, "thing", a->name, d,
                               "thing %s already exists with a different "
                               "configuration",
                               a->name);
            goto cleanup;
        }
        if (a->out != NULL) {
            *a->out = old;
            memset(&old, 0, sizeof(old));
        }
        goto cleanup;
    }
    if (a->type_name != NULL) {
        ret = type_usable(reg, a->type_name, d);
        if (ret != TC_OK) {
            goto cleanup;
        }
    }

    reg_uuid(id);
    ret = reg_prepare(reg, &st,
                      "INSERT INTO things (name, id, type_name, version, "
                      "created, modified) VALUES (?, ?, ?, 1, ?, ?)",
                      d);
    if (ret != TC_OK) {
        goto cleanup;
    }
    reg_bind_text(st, 1, a->name);
    reg_bind_text(st, 2, id);
    reg_bind_text(st, 3, a->type_name);
    sqlite3_bind_double(st, 4, tc_now());
    sqlite3_bind_double(st, 5, tc_now());
    ret = reg_step(reg, st, NULL, "thing", d);
    for (i = 0; ret == TC_OK && a->attrs != NULL && i < a->attrs->n; i++) {
        ret = put_attr(reg, a->name, a->attrs->v[i].name, a->attrs->v[i].value,
                       d);
    }
    if (ret == TC_OK) {
        ret = reg_event(reg, "thing.create", "thing", a->name,
                        json_pack("{s:s, s:s?}", "thingId", id, "thingTypeName",
                                  a->type_name),
                        d);
    }
    if (ret == TC_OK && a->out != NULL) {
        ret = thing_load(reg, a->name, a->out, &found, d);
    }

cleanup:
    reg_finalize(reg, st);
    tc_reg_thing_clear(&old);
    return ret;
}

int
tc_registry_thing_create(struct tc_registry *reg, const char *name,
                         const char *type_name,
                         const struct tc_reg_attrs *attrs,
                         struct tc_reg_thing *out, struct tc_detail *d)
{
    struct thing_create a = {name, type_name, attrs, out, 0};
    size_t i;
    int ret;

    if (out != NULL) {
        memset(out, 0, sizeof(*out));
    }
    ret = tc_registry_check_thing_name(name, "thingName", d);
    if (ret == TC_OK && type_name != NULL) {
        ret = tc_registry_check_thing_name(type_name, "thingTypeName", d);
    }
    if (ret == TC_OK && attrs != NULL) {
        ret = attr_count_ok(attrs->n, type_name != NULL, d);
    }
    for (i = 0; ret == TC_OK && attrs != NULL && i < attrs->n; i++) {
        ret = tc_registry_check_attr_name(attrs->v[i].name, d);
        if (ret == TC_OK) {
            ret = tc_registry_check_attr_value(attrs->v[i].value, d);
        }
        if (ret == TC_OK && attrs->v[i].value[0] == '\0') {
            ret = tc_detail_set(d, TC_ERR_REG_INVALID_REQUEST, -1, "attributes",
                                "attribute %.128s has an empty value",
                                attrs->v[i].name);
        }
    }
    if (ret != TC_OK) {
        return ret;
    }
    ret = reg_tx(reg, 1, reg_do_thing_create, &a, d);
    if (ret != TC_OK && out != NULL) {
        tc_reg_thing_clear(out);
    }
    return ret;
}

struct thing_get {
    const char *name;
    struct tc_reg_thing *out;
};

static int
do_thing_describe(struct tc_registry *reg, void *arg, struct tc_detail *d)
{
    struct thing_get *a = arg;
    int found = 0;
    int ret = thing_load(reg, a->name, a->out, &found, d);

    if (ret == TC_OK && !found) {
        ret = tc_detail_set(d, TC_ERR_REG_NOT_FOUND, -1, "thingName",
                            "thing %s does not exist", a->name);
    }
    return ret;
}

int
tc_registry_thing_describe(struct tc_registry *reg, const char *name,
                           struct tc_reg_thing *out, struct tc_detail *d)
{
    struct thing_get a = {name, out};
    int ret;

    memset(out, 0, sizeof(*out));
    ret = tc_registry_check_thing_name(name, "thingName", d);
    if (ret == TC_OK) {
        ret = reg_tx(reg, 0, do_thing_describe, &a, d);
    }
    if (ret != TC_OK) {
        tc_reg_thing_clear(out);
    }
    return ret;
}

struct thing_update {
    const char *name;
    const struct tc_reg_thing_update *u;
};

static int
do_thing_update(struct tc_registry *reg, void *arg, struct tc_detail *d)
{
    struct thing_update *a = arg;
    const struct tc_reg_thing_update *u = a->u;
    struct tc_reg_thing t = {0};
    sqlite3_stmt *st = NULL;
    const char *type_name;
    size_t n = 0;
    size_t i;
    int found = 0;
    int ret;

    ret = thing_load(reg, a->name, &t, &found, d);
    if (ret != TC_OK) {
        goto cleanup;
    }
    if (!found) {
        ret = tc_detail_set(d, TC_ERR_REG_NOT_FOUND, -1, "thingName",
                            "thing %s does not exist", a->name);
        goto cleanup;
    }
    if (u->has_expected_version && u->expected_version != t.version) {
        ret =
            tc_detail_set(d, TC_ERR_REG_VERSION_CONFLICT, -1, "expectedVersion",
                          "thing %s is at version %lld, not %lld", a->name,
                          t.version, u->expected_version);
        goto cleanup;
    }

    /* The type first: the attribute limit depends on it. */
    type_name = t.type_name[0] != '\0' ? t.type_name : NULL;
    if (u->remove_type) {
        type_name = NULL;
    } else if (u->type_name != NULL) {
        if (type_name == NULL || strcmp(type_name, u->type_name) != 0) {
            ret = type_usable(reg, u->type_name, d);
            if (ret != TC_OK) {
                goto cleanup;
            }
        }
        type_name = u->type_name;
    }

    if (u->attrs != NULL && !u->merge) {
        ret =
            reg_prepare(reg, &st, "DELETE FROM thing_attrs WHERE thing = ?", d);
        if (ret != TC_OK) {
            goto cleanup;
        }
        reg_bind_text(st, 1, a->name);
        ret = reg_step(reg, st, NULL, "attributes", d);
        reg_finalize(reg, st);
        st = NULL;
    }
    for (i = 0; ret == TC_OK && u->attrs != NULL && i < u->attrs->n; i++) {
        ret = put_attr(reg, a->name, u->attrs->v[i].name, u->attrs->v[i].value,
                       d);
    }
    if (ret == TC_OK) {
        ret = attr_count(reg, a->name, &n, d);
    }
    if (ret == TC_OK) {
        ret = attr_count_ok(n, type_name != NULL, d);
    }
    if (ret != TC_OK) {
        goto cleanup;
    }

    ret = reg_prepare(reg, &st,
                      "UPDATE things SET type_name = ?, version = version + 1, "
                      "modified = ? WHERE name = ?",
                      d);
    if (ret != TC_OK) {
        goto cleanup;
    }
    reg_bind_text(st, 1, type_name);
    sqlite3_bind_double(st, 2, tc_now());
    reg_bind_text(st, 3, a->name);
    ret = reg_step(reg, st, NULL, "thing", d);
    if (ret == TC_OK) {
        ret = reg_event(reg, "thing.update", "thing", a->name,
                        json_pack("{s:I, s:s?}", "version",
                                  (json_int_t)(t.version + 1), "thingTypeName",
                                  type_name),
                        d);
    }

cleanup:
    reg_finalize(reg, st);
    tc_reg_thing_clear(&t);
    return ret;
}

int
tc_registry_thing_update(struct tc_registry *reg, const char *name,
                         const struct tc_reg_thing_update *u,
                         struct tc_detail *d)
{
    struct thing_update a = {name, u};
    size_t i;
    int ret;

    ret = tc_registry_check_thing_name(name, "thingName", d);
    if (ret == TC_OK && u->type_name != NULL) {
        ret = tc_registry_check_thing_name(u->type_name, "thingTypeName", d);
    }
    if (ret == TC_OK && u->type_name != NULL && u->remove_type) {
        ret =
            tc_detail_set(d, TC_ERR_REG_INVALID_REQUEST, -1, "removeThingType",
                          "removeThingType cannot go with thingTypeName");
    }
    if (ret == TC_OK && u->attrs != NULL && u->attrs->n > TC_REG_ATTRS_TYPED) {
        ret = attr_count_ok(u->attrs->n, 1, d);
    }
    for (i = 0; ret == TC_OK && u->attrs != NULL && i < u->attrs->n; i++) {
        ret = tc_registry_check_attr_name(u->attrs->v[i].name, d);
        if (ret == TC_OK) {
            ret = tc_registry_check_attr_value(u->attrs->v[i].value, d);
        }
    }
    if (ret != TC_OK) {
        return ret;
    }
    return reg_tx(reg, 1, do_thing_update, &a, d);
}

struct thing_delete {
    const char *name;
    int has_expected;
    long long expected;
};

static int
do_thing_delete(struct tc_registry *reg, void *arg, struct tc_detail *d)
{
    struct thing_delete *a = arg;
    struct tc_reg_thing t = {0};
    sqlite3_stmt *st = NULL;
    int found = 0;
    int row = 0;
    int ret;

    ret = thing_load(reg, a->name, &t, &found, d);
    if (ret != TC_OK || !found) {
        /* Deleting a thing that is not there succeeds, as in AWS. */
        goto cleanup;
    }
    if (a->has_expected && a->expected != t.version) {
        ret =
            tc_detail_set(d, TC_ERR_REG_VERSION_CONFLICT, -1, "expectedVersion",
                          "thing %s is at version %lld, not %lld", a->name,
                          t.version, a->expected);
        goto cleanup;
    }
    ret = reg_prepare(reg, &st,
                      "SELECT cert_id FROM thing_principals WHERE thing = ? "
                      "LIMIT 1",
                      d);
    if (ret != TC_OK) {
        goto cleanup;
    }
    reg_bind_text(st, 1, a->name);
    ret = reg_step(reg, st, &row, "thing", d);
    if (ret == TC_OK && row) {
        ret = tc_detail_set(d, TC_ERR_REG_INVALID_REQUEST, -1, "thingName",
                            "thing %s still has principals attached; detach "
                            "them first",
                            a->name);
    }
    reg_finalize(reg, st);
    st = NULL;
    if (ret != TC_OK) {
        goto cleanup;
    }
    ret = reg_prepare(reg, &st, "DELETE FROM things WHERE name = ?", d);
    if (ret != TC_OK) {
        goto cleanup;
    }
    reg_bind_text(st, 1, a->name);
    ret = reg_step(reg, st, NULL, "thing", d);
    if (ret == TC_OK) {
        ret = reg_event(reg, "thing.delete", "thing", a->name,
                        json_pack("{s:s}", "thingId", t.id), d);
    }

cleanup:
    reg_finalize(reg, st);
    tc_reg_thing_clear(&t);
    return ret;
}

int
tc_registry_thing_delete(struct tc_registry *reg, const char *name,
                         int has_expected_version, long long expected_version,
                         struct tc_detail *d)
{
    struct thing_delete a = {name, has_expected_version, expected_version};
    int ret = tc_registry_check_thing_name(name, "thingName", d);

    if (ret != TC_OK) {
        return ret;
    }
    return reg_tx(reg, 1, do_thing_delete, &a, d);
}

struct thing_list {
    const struct tc_reg_thing_filter *f;
    const struct tc_reg_page *page;
    struct tc_reg_thing_list *out;
};

static int
do_thing_list(struct tc_registry *reg, void *arg, struct tc_detail *d)
{
    struct thing_list *a = arg;
    const struct tc_reg_thing_filter *f = a->f;
    sqlite3_stmt *st = NULL;
    char key[TC_REG_NAME_MAX];
    int limit = 0;
    int row = 0;
    int ret;

    ret = reg_page_start(a->page, &limit, key, sizeof(key), d);
    if (ret != TC_OK) {
        return ret;
    }

    /* A prefix match compares the leading characters exactly, so the
     * value needs no escaping the way LIKE would. */
    ret = reg_prepare(
        reg, &st,
        "SELECT " THING_COLS " FROM things t WHERE name > ?1 "
        "AND (?2 IS NULL OR type_name = ?2) "
        "AND (?3 IS NULL OR EXISTS (SELECT 1 FROM thing_attrs x WHERE "
        "x.thing = t.name AND x.name = ?3 AND (?4 IS NULL OR "
        "(?5 = 0 AND x.value = ?4) OR "
        "(?5 = 1 AND substr(x.value, 1, length(?4)) = ?4)))) "
        "ORDER BY name LIMIT ?6",
        d);
    if (ret != TC_OK) {
        return ret;
    }
    reg_bind_text(st, 1, key);
    reg_bind_text(st, 2, f != NULL ? f->type_name : NULL);
    reg_bind_text(st, 3, f != NULL ? f->attr_name : NULL);
    reg_bind_text(st, 4, f != NULL ? f->attr_value : NULL);
    sqlite3_bind_int(st, 5, f != NULL && f->attr_value_prefix ? 1 : 0);
    sqlite3_bind_int(st, 6, limit + 1);
    for (;;) {
        struct tc_reg_thing *t;

        ret = reg_step(reg, st, &row, "things", d);
        if (ret != TC_OK || !row) {
            break;
        }
        if (a->out->n == (size_t)limit) {
            reg_page_token(a->out->items[limit - 1].name, a->out->next);
            break;
        }
        t = reg_list_push((void **)&a->out->items, &a->out->n, sizeof(*t));
        if (t == NULL) {
            ret = tc_detail_set(d, TC_ERR_NOMEM, -1, "things", "no memory");
            break;
        }
        ret = thing_row(reg, st, t, d);
        if (ret != TC_OK) {
            break;
        }
    }
    reg_finalize(reg, st);
    return ret;
}

int
tc_registry_thing_list(struct tc_registry *reg,
                       const struct tc_reg_thing_filter *f,
                       const struct tc_reg_page *page,
                       struct tc_reg_thing_list *out, struct tc_detail *d)
{
    struct thing_list a = {f, page, out};
    int ret;

    memset(out, 0, sizeof(*out));
    if (f != NULL && f->attr_value != NULL && f->attr_name == NULL) {
        return tc_detail_set(d, TC_ERR_REG_INVALID_REQUEST, -1,
                             "attributeValue",
                             "attributeValue needs attributeName");
    }
    ret = reg_tx(reg, 0, do_thing_list, &a, d);
    if (ret != TC_OK) {
        tc_reg_thing_list_clear(out);
    }
    return ret;
}

/* ---- thing principals ---- */

static int
cert_exists(struct tc_registry *reg, const char *id, struct tc_detail *d)
{
    sqlite3_stmt *st = NULL;
    int row = 0;
    int ret;

    ret = reg_prepare(reg, &st, "SELECT 1 FROM certs WHERE id = ?", d);
    if (ret != TC_OK) {
        return ret;
    }
    reg_bind_text(st, 1, id);
    ret = reg_step(reg, st, &row, "principal", d);
    reg_finalize(reg, st);
    if (ret == TC_OK && !row) {
        ret = tc_detail_set(d, TC_ERR_REG_NOT_FOUND, -1, "principal",
                            "certificate %s is not registered", id);
    }
    return ret;
}

static int
thing_exists(struct tc_registry *reg, const char *name, struct tc_detail *d)
{
    sqlite3_stmt *st = NULL;
    int row = 0;
    int ret;

    ret = reg_prepare(reg, &st, "SELECT 1 FROM things WHERE name = ?", d);
    if (ret != TC_OK) {
        return ret;
    }
    reg_bind_text(st, 1, name);
    ret = reg_step(reg, st, &row, "thing", d);
    reg_finalize(reg, st);
    if (ret == TC_OK && !row) {
        ret = tc_detail_set(d, TC_ERR_REG_NOT_FOUND, -1, "thingName",
                            "thing %s does not exist", name);
    }
    return ret;
}

int
reg_do_principal_attach(struct tc_registry *reg, void *arg, struct tc_detail *d)
{
    struct principal_arg *a = arg;
    sqlite3_stmt *st = NULL;
    char other[TC_REG_NAME_MAX];
    int row = 0;
    int ret;

    ret = thing_exists(reg, a->thing, d);
    if (ret == TC_OK) {
        ret = cert_exists(reg, a->cert, d);
    }
    if (ret != TC_OK) {
        return ret;
    }

    /* Exclusivity, checked both ways: an exclusive attachment elsewhere
     * forbids any other, and an exclusive one needs no other. */
    ret = reg_prepare(reg, &st,
                      "SELECT thing, exclusive FROM thing_principals "
                      "WHERE cert_id = ? AND thing <> ? "
                      "ORDER BY exclusive DESC LIMIT 1",
                      d);
    if (ret != TC_OK) {
        return ret;
    }
    reg_bind_text(st, 1, a->cert);
    reg_bind_text(st, 2, a->thing);
    ret = reg_step(reg, st, &row, "principal", d);
    if (ret == TC_OK && row) {
        reg_col_copy(st, 0, other, sizeof(other));
        if (sqlite3_column_int(st, 1)) {
            ret = tc_detail_set(d, TC_ERR_REG_INVALID_REQUEST, -1, "principal",
                                "the principal is exclusively attached to "
                                "thing %s",
                                other);
        } else if (a->type == TC_REG_PRINCIPAL_EXCLUSIVE) {
            ret = tc_detail_set(d, TC_ERR_REG_INVALID_REQUEST, -1,
                                "thingPrincipalType",
                                "the principal is already attached to thing "
                                "%s, so it cannot be attached exclusively",
                                other);
        }
    }
    reg_finalize(reg, st);
    st = NULL;
    if (ret != TC_OK) {
        return ret;
    }

    ret = reg_prepare(reg, &st,
                      "INSERT INTO thing_principals (thing, cert_id, "
                      "exclusive, created) VALUES (?, ?, ?, ?) "
                      "ON CONFLICT (thing, cert_id) DO UPDATE SET "
                      "exclusive = excluded.exclusive",
                      d);
    if (ret != TC_OK) {
        return ret;
    }
    reg_bind_text(st, 1, a->thing);
    reg_bind_text(st, 2, a->cert);
    sqlite3_bind_int(st, 3, a->type == TC_REG_PRINCIPAL_EXCLUSIVE);
    sqlite3_bind_double(st, 4, tc_now());
    ret = reg_step(reg, st, NULL, "principal", d);
    reg_finalize(reg, st);
    if (ret != TC_OK) {
        return ret;
    }
    return reg_event(reg, "principal.attach", "thing", a->thing,
                     json_pack("{s:s, s:s, s:s}", "principal", a->arn,
                               "certificateId", a->cert, "thingPrincipalType",
                               a->type == TC_REG_PRINCIPAL_EXCLUSIVE
                                   ? "EXCLUSIVE_THING"
                                   : "NON_EXCLUSIVE_THING"),
                     d);
}

int
tc_registry_thing_principal_attach(struct tc_registry *reg, const char *thing,
                                   const char *principal, int type,
                                   struct tc_detail *d)
{
    struct principal_arg a = {thing, "", principal, type};
    int ret;

    ret = tc_registry_check_thing_name(thing, "thingName", d);
    if (ret == TC_OK) {
        ret = reg_cert_arn_parse(reg, principal, a.cert, "principal", d);
    }
    if (ret == TC_OK && type != TC_REG_PRINCIPAL_EXCLUSIVE &&
        type != TC_REG_PRINCIPAL_NON_EXCLUSIVE) {
        ret = tc_detail_set(d, TC_ERR_REG_INVALID_REQUEST, -1,
                            "thingPrincipalType",
                            "unknown thing principal type %d", type);
    }
    if (ret != TC_OK) {
        return ret;
    }
    return reg_tx(reg, 1, reg_do_principal_attach, &a, d);
}

static int
do_principal_detach(struct tc_registry *reg, void *arg, struct tc_detail *d)
{
    struct principal_arg *a = arg;
    sqlite3_stmt *st = NULL;
    int ret;

    ret = thing_exists(reg, a->thing, d);
    if (ret == TC_OK) {
        ret = cert_exists(reg, a->cert, d);
    }
    if (ret != TC_OK) {
        return ret;
    }
    ret = reg_prepare(reg, &st,
                      "DELETE FROM thing_principals WHERE thing = ? AND "
                      "cert_id = ?",
                      d);
    if (ret != TC_OK) {
        return ret;
    }
    reg_bind_text(st, 1, a->thing);
    reg_bind_text(st, 2, a->cert);
    ret = reg_step(reg, st, NULL, "principal", d);
    reg_finalize(reg, st);
    if (ret != TC_OK || sqlite3_changes(reg->db) == 0) {
        return ret;
    }
    return reg_event(
        reg, "principal.detach", "thing", a->thing,
        json_pack("{s:s, s:s}", "principal", a->arn, "certificateId", a->cert),
        d);
}

int
tc_registry_thing_principal_detach(struct tc_registry *reg, const char *thing,
                                   const char *principal, struct tc_detail *d)
{
    struct principal_arg a = {thing, "", principal, 0};
    int ret;

    ret = tc_registry_check_thing_name(thing, "thingName", d);
    if (ret == TC_OK) {
        ret = reg_cert_arn_parse(reg, principal, a.cert, "principal", d);
    }
    if (ret != TC_OK) {
        return ret;
    }
    return reg_tx(reg, 1, do_principal_detach, &a, d);
}

struct plist {
    const char *thing;
    char cert[TC_REG_CERT_ID_LEN];
    const struct tc_reg_page *page;
    struct tc_reg_str_list *out;
};

/* Add one string to a list, or set the next token when the page is full. */
static int
str_push(struct tc_reg_str_list *out, const char *value, struct tc_detail *d)
{
    char **slot;

    slot = reg_list_push((void **)&out->items, &out->n, sizeof(*slot));
    if (slot == NULL || (*slot = strdup(value)) == NULL) {
        return tc_detail_set(d, TC_ERR_NOMEM, -1, "list", "no memory");
    }
    return TC_OK;
}

static int
do_thing_principals(struct tc_registry *reg, void *arg, struct tc_detail *d)
{
    struct plist *a = arg;
    sqlite3_stmt *st = NULL;
    char key[TC_REG_CERT_ID_LEN];
    char last[TC_REG_CERT_ID_LEN] = "";
    char arn[TC_REG_ARN_MAX];
    int limit = 0;
    int row = 0;
    int ret;

    ret = reg_page_start(a->page, &limit, key, sizeof(key), d);
    if (ret == TC_OK) {
        ret = thing_exists(reg, a->thing, d);
    }
    if (ret == TC_OK) {
        ret = reg_prepare(reg, &st,
                          "SELECT cert_id FROM thing_principals WHERE "
                          "thing = ? AND cert_id > ? ORDER BY cert_id "
                          "LIMIT ?",
                          d);
    }
    if (ret != TC_OK) {
        return ret;
    }
    reg_bind_text(st, 1, a->thing);
    reg_bind_text(st, 2, key);
    sqlite3_bind_int(st, 3, limit + 1);
    for (;;) {
        ret = reg_step(reg, st, &row, "principals", d);
        if (ret != TC_OK || !row) {
            break;
        }
        if (a->out->n == (size_t)limit) {
            reg_page_token(last, a->out->next);
            break;
        }
        reg_col_copy(st, 0, last, sizeof(last));
        tc_registry_arn(reg, "cert", last, arn);
        ret = str_push(a->out, arn, d);
        if (ret != TC_OK) {
            break;
        }
    }
    reg_finalize(reg, st);
    return ret;
}

int
tc_registry_thing_principal_list(struct tc_registry *reg, const char *thing,
                                 const struct tc_reg_page *page,
                                 struct tc_reg_str_list *out,
                                 struct tc_detail *d)
{
    struct plist a = {thing, "", page, out};
    int ret;

    memset(out, 0, sizeof(*out));
    ret = tc_registry_check_thing_name(thing, "thingName", d);
    if (ret == TC_OK) {
        ret = reg_tx(reg, 0, do_thing_principals, &a, d);
    }
    if (ret != TC_OK) {
        tc_reg_str_list_clear(out);
    }
    return ret;
}

static int
do_principal_things(struct tc_registry *reg, void *arg, struct tc_detail *d)
{
    struct plist *a = arg;
    sqlite3_stmt *st = NULL;
    char key[TC_REG_NAME_MAX];
    char last[TC_REG_NAME_MAX] = "";
    int limit = 0;
    int row = 0;
    int ret;

    ret = reg_page_start(a->page, &limit, key, sizeof(key), d);
    if (ret == TC_OK) {
        ret = cert_exists(reg, a->cert, d);
    }
    if (ret == TC_OK) {
        ret = reg_prepare(reg, &st,
                          "SELECT thing FROM thing_principals WHERE "
                          "cert_id = ? AND thing > ? ORDER BY thing LIMIT ?",
                          d);
    }
    if (ret != TC_OK) {
        return ret;
    }
    reg_bind_text(st, 1, a->cert);
    reg_bind_text(st, 2, key);
    sqlite3_bind_int(st, 3, limit + 1);
    for (;;) {
        ret = reg_step(reg, st, &row, "things", d);
        if (ret != TC_OK || !row) {
            break;
        }
        if (a->out->n == (size_t)limit) {
            reg_page_token(last, a->out->next);
            break;
        }
        reg_col_copy(st, 0, last, sizeof(last));
        ret = str_push(a->out, last, d);
        if (ret != TC_OK) {
            break;
        }
    }
    reg_finalize(reg, st);
    return ret;
}

int
tc_registry_principal_thing_list(struct tc_registry *reg, const char *principal,
                                 const struct tc_reg_page *page,
                                 struct tc_reg_str_list *out,
                                 struct tc_detail *d)
{
    struct plist a = {NULL, "", page, out};
    int ret;

    memset(out, 0, sizeof(*out));
    ret = reg_cert_arn_parse(reg, principal, a.cert, "principal", d);
    if (ret == TC_OK) {
        ret = reg_tx(reg, 0, do_principal_things, &a, d);
    }
    if (ret != TC_OK) {
        tc_reg_str_list_clear(out);
    }
    return ret;
}
