// SPDX-License-Identifier: Apache-2.0
/*
 * Provisioning templates: stored for just-in-time provisioning and fleet
 * provisioning, with the model's limits on names, bodies and role ARNs.
 * Templates keep one version; running a template is the provisioning
 * module's work, not the registry's.
 */
#include <stdlib.h>
#include <string.h>

#include "regpriv.h"
#include "thingcore/util.h"

void
tc_reg_template_clear(struct tc_reg_template *t)
{
    if (t == NULL) {
        return;
    }
    free(t->description);
    free(t->body);
    free(t->role_arn);
    memset(t, 0, sizeof(*t));
}

void
tc_reg_template_list_clear(struct tc_reg_template_list *l)
{
    size_t i;

    if (l == NULL) {
        return;
    }
    for (i = 0; i < l->n; i++) {
        tc_reg_template_clear(&l->items[i]);
    }
    free(l->items);
    memset(l, 0, sizeof(*l));
}

#define TPL_COLS                                                               \
    "name, description, enabled, type, created, modified, body, role_arn"

static int
tpl_row(struct tc_registry *reg, sqlite3_stmt *st, struct tc_reg_template *t,
        int full, struct tc_detail *d)
{
    const unsigned char *type = sqlite3_column_text(st, 3);

    reg_col_copy(st, 0, t->name, sizeof(t->name));
    tc_registry_arn(reg, "provisioningtemplate", t->name, t->arn);
    t->description = reg_col_dup(st, 1);
    t->enabled = sqlite3_column_int(st, 2);
    t->type = type != NULL && strcmp((const char *)type, "JITP") == 0
                  ? TC_REG_TEMPLATE_JITP
                  : TC_REG_TEMPLATE_FLEET_PROVISIONING;
    t->default_version = 1;
    t->creation_date = sqlite3_column_double(st, 4);
    t->last_modified_date = sqlite3_column_double(st, 5);
    if (full) {
        t->body = reg_col_dup(st, 6);
        t->role_arn = reg_col_dup(st, 7);
        if (t->body == NULL || t->role_arn == NULL) {
            return tc_detail_set(d, TC_ERR_NOMEM, -1, "template", "no memory");
        }
    }
    return TC_OK;
}

static int
check_role(const char *role_arn, struct tc_detail *d)
{
    size_t n = role_arn != NULL ? strlen(role_arn) : 0;

    if (n < 20 || n > 2048) {
        return tc_detail_set(d, TC_ERR_REG_INVALID_REQUEST, -1,
                             "provisioningRoleArn",
                             "a role ARN is 20 to 2048 characters");
    }
    return TC_OK;
}

static int
check_description(const char *s, struct tc_detail *d)
{
    size_t i;

    if (s == NULL) {
        return TC_OK;
    }
    if (strlen(s) > 500) {
        return tc_detail_set(d, TC_ERR_REG_INVALID_REQUEST, -1, "description",
                             "a description is at most 500 characters");
    }
    for (i = 0; s[i] != '\0'; i++) {
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f) {
            return tc_detail_set(d, TC_ERR_REG_INVALID_REQUEST, (long)i,
                                 "description",
                                 "a description holds no control characters");
        }
    }
    return TC_OK;
}

struct tpl_arg {
    const char *name;
    const struct tc_reg_template *in;
    const struct tc_reg_template_update *u;
    struct tc_reg_template *out;
    const struct tc_reg_page *page;
    struct tc_reg_template_list *list;
};

static int
tpl_load(struct tc_registry *reg, const char *name, struct tc_reg_template *t,
         int *found, struct tc_detail *d)
{
    sqlite3_stmt *st = NULL;
    int row = 0;
    int ret;

    *found = 0;
    ret = reg_prepare(reg, &st,
                      "SELECT " TPL_COLS " FROM templates WHERE name = ?", d);
    if (ret != TC_OK) {
        return ret;
    }
    reg_bind_text(st, 1, name);
    ret = reg_step(reg, st, &row, "template", d);
    if (ret == TC_OK && row) {
        *found = 1;
        ret = tpl_row(reg, st, t, 1, d);
    }
    reg_finalize(reg, st);
    return ret;
}

static int
do_create(struct tc_registry *reg, void *arg, struct tc_detail *d)
{
    struct tpl_arg *a = arg;
    const struct tc_reg_template *in = a->in;
    struct tc_reg_template old = {0};
    sqlite3_stmt *st = NULL;
    int found = 0;
    int ret;

    ret = tpl_load(reg, in->name, &old, &found, d);
    tc_reg_template_clear(&old);
    if (ret != TC_OK) {
        return ret;
    }
    if (found) {
        return reg_conflict(reg, "provisioningtemplate", in->name, d,
                            "provisioning template %s already exists",
                            in->name);
    }
    ret = reg_prepare(reg, &st,
                      "INSERT INTO templates (name, description, body, "
                      "role_arn, enabled, type, created, modified) VALUES "
                      "(?, ?, ?, ?, ?, ?, ?, ?)",
                      d);
    if (ret != TC_OK) {
        return ret;
    }
    reg_bind_text(st, 1, in->name);
    reg_bind_text(st, 2, in->description);
    reg_bind_text(st, 3, in->body);
    reg_bind_text(st, 4, in->role_arn);
    sqlite3_bind_int(st, 5, in->enabled ? 1 : 0);
    reg_bind_text(st, 6, tc_registry_template_type_name(in->type));
    sqlite3_bind_double(st, 7, tc_now());
    sqlite3_bind_double(st, 8, tc_now());
    ret = reg_step(reg, st, NULL, "template", d);
    reg_finalize(reg, st);
    if (ret == TC_OK) {
        ret = reg_event(reg, "provisioningtemplate.create",
                        "provisioningtemplate", in->name,
                        json_pack("{s:s, s:b}", "type",
                                  tc_registry_template_type_name(in->type),
                                  "enabled", in->enabled ? 1 : 0),
                        d);
    }
    return ret;
}

int
tc_registry_template_create(struct tc_registry *reg,
                            const struct tc_reg_template *in,
                            struct tc_detail *d)
{
    struct tpl_arg a = {0};
    int ret;

    a.in = in;
    ret = tc_registry_check_template_name(in->name, d);
    if (ret == TC_OK) {
        ret = check_description(in->description, d);
    }
    if (ret == TC_OK) {
        ret = check_role(in->role_arn, d);
    }
    if (ret == TC_OK) {
        ret = reg_check_json_object(in->body, TC_REG_TEMPLATE_BODY_MAX,
                                    "templateBody", d);
    }
    if (ret == TC_OK && in->type != TC_REG_TEMPLATE_JITP &&
        in->type != TC_REG_TEMPLATE_FLEET_PROVISIONING) {
        ret = tc_detail_set(d, TC_ERR_REG_INVALID_REQUEST, -1, "type",
                            "unknown template type %d", in->type);
    }
    if (ret == TC_OK) {
        ret = reg_tx(reg, 1, do_create, &a, d);
    }
    return ret;
}

static int
do_describe(struct tc_registry *reg, void *arg, struct tc_detail *d)
{
    struct tpl_arg *a = arg;
    int found = 0;
    int ret = tpl_load(reg, a->name, a->out, &found, d);

    if (ret == TC_OK && !found) {
        ret = tc_detail_set(d, TC_ERR_REG_NOT_FOUND, -1, "templateName",
                            "provisioning template %s does not exist", a->name);
    }
    return ret;
}

int
tc_registry_template_describe(struct tc_registry *reg, const char *name,
                              struct tc_reg_template *out, struct tc_detail *d)
{
    struct tpl_arg a = {0};
    int ret;

    memset(out, 0, sizeof(*out));
    a.name = name;
    a.out = out;
    ret = tc_registry_check_template_name(name, d);
    if (ret == TC_OK) {
        ret = reg_tx(reg, 0, do_describe, &a, d);
    }
    if (ret != TC_OK) {
        tc_reg_template_clear(out);
    }
    return ret;
}

static int
do_update(struct tc_registry *reg, void *arg, struct tc_detail *d)
{
    struct tpl_arg *a = arg;
    struct tc_reg_template t = {0};
    sqlite3_stmt *st = NULL;
    int ret;

    ret = do_describe(reg, &(struct tpl_arg){.name = a->name, .out = &t}, d);
    if (ret != TC_OK) {
        goto cleanup;
    }
    ret = reg_prepare(reg, &st,
                      "UPDATE templates SET description = ?, role_arn = ?, "
                      "enabled = ?, modified = ? WHERE name = ?",
                      d);
    if (ret != TC_OK) {
        goto cleanup;
    }
    reg_bind_text(
        st, 1, a->u->description != NULL ? a->u->description : t.description);
    reg_bind_text(st, 2, a->u->role_arn != NULL ? a->u->role_arn : t.role_arn);
    sqlite3_bind_int(st, 3,
                     a->u->enabled >= 0 ? a->u->enabled != 0 : t.enabled);
    sqlite3_bind_double(st, 4, tc_now());
    reg_bind_text(st, 5, a->name);
    ret = reg_step(reg, st, NULL, "template", d);
    if (ret == TC_OK) {
        ret = reg_event(reg, "provisioningtemplate.update",
                        "provisioningtemplate", a->name, NULL, d);
    }

cleanup:
    reg_finalize(reg, st);
    tc_reg_template_clear(&t);
    return ret;
}

int
tc_registry_template_update(struct tc_registry *reg, const char *name,
                            const struct tc_reg_template_update *u,
                            struct tc_detail *d)
{
    struct tpl_arg a = {0};
    int ret;

    a.name = name;
    a.u = u;
    ret = tc_registry_check_template_name(name, d);
    if (ret == TC_OK) {
        ret = check_description(u->description, d);
    }
    if (ret == TC_OK && u->role_arn != NULL) {
        ret = check_role(u->role_arn, d);
    }
    if (ret == TC_OK) {
        ret = reg_tx(reg, 1, do_update, &a, d);
    }
    return ret;
}

static int
do_delete(struct tc_registry *reg, void *arg, struct tc_detail *d)
{
    struct tpl_arg *a = arg;
    struct tc_reg_template t = {0};
    sqlite3_stmt *st = NULL;
    int row = 0;
    int ret;

    ret = do_describe(reg, &(struct tpl_arg){.name = a->name, .out = &t}, d);
    tc_reg_template_clear(&t);
    if (ret == TC_OK) {
        ret = reg_prepare(reg, &st,
                          "SELECT id FROM cacerts WHERE template_name = ? "
                          "LIMIT 1",
                          d);
    }
    if (ret != TC_OK) {
        return ret;
    }
    reg_bind_text(st, 1, a->name);
    ret = reg_step(reg, st, &row, "template", d);
    if (ret == TC_OK && row) {
        ret = tc_detail_set(d, TC_ERR_REG_DELETE_CONFLICT, -1, "templateName",
                            "CA certificate %.64s still names template %s",
                            (const char *)sqlite3_column_text(st, 0), a->name);
    }
    reg_finalize(reg, st);
    st = NULL;
    if (ret != TC_OK) {
        return ret;
    }
    ret = reg_prepare(reg, &st, "DELETE FROM templates WHERE name = ?", d);
    if (ret != TC_OK) {
        return ret;
    }
    reg_bind_text(st, 1, a->name);
    ret = reg_step(reg, st, NULL, "template", d);
    reg_finalize(reg, st);
    if (ret == TC_OK) {
        ret = reg_event(reg, "provisioningtemplate.delete",
                        "provisioningtemplate", a->name, NULL, d);
    }
    return ret;
}

int
tc_registry_template_delete(struct tc_registry *reg, const char *name,
                            struct tc_detail *d)
{
    struct tpl_arg a = {0};
    int ret;

    a.name = name;
    ret = tc_registry_check_template_name(name, d);
    if (ret == TC_OK) {
        ret = reg_tx(reg, 1, do_delete, &a, d);
    }
    return ret;
}

static int
do_list(struct tc_registry *reg, void *arg, struct tc_detail *d)
{
    struct tpl_arg *a = arg;
    sqlite3_stmt *st = NULL;
    char key[TC_REG_TEMPLATE_NAME_MAX];
    int limit = 0;
    int row = 0;
    int ret;

    ret = reg_page_start(a->page, &limit, key, sizeof(key), d);
    if (ret == TC_OK) {
        ret = reg_prepare(reg, &st,
                          "SELECT " TPL_COLS " FROM templates WHERE name > ? "
                          "ORDER BY name LIMIT ?",
                          d);
    }
    if (ret != TC_OK) {
        return ret;
    }
    reg_bind_text(st, 1, key);
    sqlite3_bind_int(st, 2, limit + 1);
    for (;;) {
        struct tc_reg_template *t;

        ret = reg_step(reg, st, &row, "templates", d);
        if (ret != TC_OK || !row) {
            break;
        }
        if (a->list->n == (size_t)limit) {
            reg_page_token(a->list->items[limit - 1].name, a->list->next);
            break;
        }
        t = reg_list_push((void **)&a->list->items, &a->list->n, sizeof(*t));
        if (t == NULL) {
            ret = tc_detail_set(d, TC_ERR_NOMEM, -1, "templates", "no memory");
            break;
        }
        ret = tpl_row(reg, st, t, 0, d);
        if (ret != TC_OK) {
            break;
        }
    }
    reg_finalize(reg, st);
    return ret;
}

int
tc_registry_template_list(struct tc_registry *reg,
                          const struct tc_reg_page *page,
                          struct tc_reg_template_list *out, struct tc_detail *d)
{
    struct tpl_arg a = {0};
    int ret;

    memset(out, 0, sizeof(*out));
    a.page = page;
    a.list = out;
    ret = reg_tx(reg, 0, do_list, &a, d);
    if (ret != TC_OK) {
        tc_reg_template_list_clear(out);
    }
    return ret;
}
