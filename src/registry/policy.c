// SPDX-License-Identifier: Apache-2.0
/*
 * Policies with AWS IoT's rules: numbered versions (at most five kept, ids
 * never reused), one default version, deletion guards, attachments to
 * certificates (at most ten per certificate), and the lookup the broker
 * uses: every default document attached to a certificate. What a document
 * allows is decided by the policy engine, not here.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "regpriv.h"
#include "thingcore/policy.h"
#include "thingcore/json.h"
#include "thingcore/util.h"

void
tc_reg_policy_clear(struct tc_reg_policy *p)
{
    if (p == NULL) {
        return;
    }
    free(p->document);
    memset(p, 0, sizeof(*p));
}

void
tc_reg_policy_list_clear(struct tc_reg_policy_list *l)
{
    size_t i;

    if (l == NULL) {
        return;
    }
    for (i = 0; i < l->n; i++) {
        tc_reg_policy_clear(&l->items[i]);
    }
    free(l->items);
    memset(l, 0, sizeof(*l));
}

void
tc_reg_policy_version_clear(struct tc_reg_policy_version *v)
{
    if (v == NULL) {
        return;
    }
    free(v->document);
    memset(v, 0, sizeof(*v));
}

void
tc_reg_policy_version_list_clear(struct tc_reg_policy_version_list *l)
{
    size_t i;

    if (l == NULL) {
        return;
    }
    for (i = 0; i < l->n; i++) {
        tc_reg_policy_version_clear(&l->items[i]);
    }
    free(l->items);
    memset(l, 0, sizeof(*l));
}

/*
 * Validate a policy document before it is stored: the policy engine's own
 * parser decides (the same one that later evaluates it), so nothing the
 * broker could not evaluate is ever accepted. Its codes become
 * MalformedPolicy; its text (reason, path, line and column) is kept.
 */
int
reg_policy_check_document(const char *doc, size_t len, struct tc_detail *d)
{
    int rc = tc_policy_validate(doc, len, d);

    if (rc == TC_OK) {
        return TC_OK;
    }
    if (rc == TC_ERR_NOMEM) {
        return rc;
    }
    if (d != NULL && d->field[0] == '\0') {
        snprintf(d->field, sizeof(d->field), "policyDocument");
    }
    return TC_ERR_REG_MALFORMED_POLICY;
}

int
tc_registry_check_policy_document(const char *doc, size_t len,
                                  struct tc_detail *d)
{
    if (doc == NULL) {
        return tc_detail_set(d, TC_ERR_REG_MALFORMED_POLICY, -1,
                             "policyDocument", "policyDocument is missing");
    }
    return reg_policy_check_document(doc, len, d);
}

/* ---- loading ---- */

static int
policy_load(struct tc_registry *reg, const char *name, struct tc_reg_policy *p,
            int *found, struct tc_detail *d)
{
    sqlite3_stmt *st = NULL;
    int row = 0;
    int ret;

    *found = 0;
    ret = reg_prepare(reg, &st,
                      "SELECT p.name, p.default_version, p.created, "
                      "p.modified, v.generation_id, v.document FROM "
                      "policies p JOIN policy_versions v ON v.policy = "
                      "p.name AND v.version = p.default_version WHERE "
                      "p.name = ?",
                      d);
    if (ret != TC_OK) {
        return ret;
    }
    reg_bind_text(st, 1, name);
    ret = reg_step(reg, st, &row, "policy", d);
    if (ret == TC_OK && row) {
        *found = 1;
        reg_col_copy(st, 0, p->name, sizeof(p->name));
        tc_registry_arn(reg, "policy", p->name, p->arn);
        snprintf(p->default_version, sizeof(p->default_version), "%lld",
                 (long long)sqlite3_column_int64(st, 1));
        p->creation_date = sqlite3_column_double(st, 2);
        p->last_modified_date = sqlite3_column_double(st, 3);
        reg_col_copy(st, 4, p->generation_id, sizeof(p->generation_id));
        p->document = reg_col_dup(st, 5);
        if (p->document == NULL) {
            ret = tc_detail_set(d, TC_ERR_NOMEM, -1, "policy", "no memory");
        }
    }
    reg_finalize(reg, st);
    return ret;
}

int
reg_policy_must_load(struct tc_registry *reg, const char *name,
                     struct tc_reg_policy *p, struct tc_detail *d)
{
    int found = 0;
    int ret = policy_load(reg, name, p, &found, d);

    if (ret == TC_OK && !found) {
        ret = tc_detail_set(d, TC_ERR_REG_NOT_FOUND, -1, "policyName",
                            "policy %s does not exist", name);
    }
    return ret;
}

static int
version_parse(const char *s, long long *out, struct tc_detail *d)
{
    char *end = NULL;

    if (s == NULL || s[0] < '0' || s[0] > '9' || strlen(s) > 18) {
        return tc_detail_set(d, TC_ERR_REG_INVALID_REQUEST, -1,
                             "policyVersionId",
                             "a policy version id is a decimal number");
    }
    *out = strtoll(s, &end, 10);
    if (*end != '\0') {
        return tc_detail_set(d, TC_ERR_REG_INVALID_REQUEST, -1,
                             "policyVersionId",
                             "a policy version id is a decimal number");
    }
    return TC_OK;
}

static int
version_load(struct tc_registry *reg, const char *name, long long version,
             struct tc_reg_policy_version *v, struct tc_detail *d)
{
    sqlite3_stmt *st = NULL;
    int row = 0;
    int ret;

    ret = reg_prepare(reg, &st,
                      "SELECT v.created, v.generation_id, v.document, "
                      "p.default_version = v.version, p.modified FROM "
                      "policy_versions v JOIN policies p ON p.name = "
                      "v.policy WHERE v.policy = ? AND v.version = ?",
                      d);
    if (ret != TC_OK) {
        return ret;
    }
    reg_bind_text(st, 1, name);
    sqlite3_bind_int64(st, 2, version);
    ret = reg_step(reg, st, &row, "policyVersion", d);
    if (ret == TC_OK && !row) {
        ret = tc_detail_set(d, TC_ERR_REG_NOT_FOUND, -1, "policyVersionId",
                            "policy %s has no version %lld", name, version);
    } else if (ret == TC_OK) {
        snprintf(v->name, sizeof(v->name), "%s", name);
        tc_registry_arn(reg, "policy", name, v->arn);
        snprintf(v->version_id, sizeof(v->version_id), "%lld", version);
        v->creation_date = sqlite3_column_double(st, 0);
        reg_col_copy(st, 1, v->generation_id, sizeof(v->generation_id));
        v->document = reg_col_dup(st, 2);
        v->is_default = sqlite3_column_int(st, 3);
        v->last_modified_date = sqlite3_column_double(st, 4);
        if (v->document == NULL) {
            ret = tc_detail_set(d, TC_ERR_NOMEM, -1, "policy", "no memory");
        }
    }
    reg_finalize(reg, st);
    return ret;
}

static int
count_of(struct tc_registry *reg, const char *sql, const char *a, long long *n,
         struct tc_detail *d)
{
    sqlite3_stmt *st = NULL;
    int row = 0;
    int ret;

    *n = 0;
    ret = reg_prepare(reg, &st, sql, d);
    if (ret != TC_OK) {
        return ret;
    }
    reg_bind_text(st, 1, a);
    ret = reg_step(reg, st, &row, "count", d);
    if (ret == TC_OK && row) {
        *n = sqlite3_column_int64(st, 0);
    }
    reg_finalize(reg, st);
    return ret;
}

static int
insert_version(struct tc_registry *reg, const char *name, long long version,
               const char *doc, size_t len, struct tc_detail *d)
{
    sqlite3_stmt *st = NULL;
    char gen[TC_REG_UUID_LEN];
    int ret;

    reg_uuid(gen);
    ret = reg_prepare(reg, &st,
                      "INSERT INTO policy_versions (policy, version, "
                      "document, created, generation_id) VALUES "
                      "(?, ?, ?, ?, ?)",
                      d);
    if (ret != TC_OK) {
        return ret;
    }
    reg_bind_text(st, 1, name);
    sqlite3_bind_int64(st, 2, version);
    sqlite3_bind_text(st, 3, doc, (int)len, SQLITE_TRANSIENT);
    sqlite3_bind_double(st, 4, tc_now());
    reg_bind_text(st, 5, gen);
    ret = reg_step(reg, st, NULL, "policyVersion", d);
    reg_finalize(reg, st);
    return ret;
}

/* ---- create, get, delete, list ---- */

int
reg_do_policy_create(struct tc_registry *reg, void *arg, struct tc_detail *d)
{
    struct pol_arg *a = arg;
    sqlite3_stmt *st = NULL;
    long long n = 0;
    int ret;

    tc_reg_policy_clear(a->out);
    ret = count_of(reg, "SELECT COUNT(*) FROM policies WHERE name = ?", a->name,
                   &n, d);
    if (ret != TC_OK) {
        return ret;
    }
    if (n > 0 && a->reuse_same) {
        struct tc_reg_policy p = {0};
        int same;

        ret = reg_policy_must_load(reg, a->name, &p, d);
        same = ret == TC_OK && strlen(p.document) == a->len &&
               memcmp(p.document, a->doc, a->len) == 0;
        tc_reg_policy_clear(&p);
        if (ret != TC_OK || same) {
            return ret;
        }
    }
    if (n > 0) {
        return reg_conflict(reg, "policy", a->name, d,
                            "policy %s already exists", a->name);
    }
    ret = reg_prepare(reg, &st,
                      "INSERT INTO policies (name, default_version, "
                      "next_version, created, modified, generation_id) "
                      "VALUES (?, 1, 2, ?, ?, '')",
                      d);
    if (ret != TC_OK) {
        return ret;
    }
    reg_bind_text(st, 1, a->name);
    sqlite3_bind_double(st, 2, tc_now());
    sqlite3_bind_double(st, 3, tc_now());
    ret = reg_step(reg, st, NULL, "policy", d);
    reg_finalize(reg, st);
    if (ret == TC_OK) {
        ret = insert_version(reg, a->name, 1, a->doc, a->len, d);
    }
    if (ret == TC_OK) {
        ret = reg_event(reg, "policy.create", "policy", a->name,
                        json_pack("{s:s}", "defaultVersionId", "1"), d);
    }
    if (ret == TC_OK && a->out != NULL) {
        ret = reg_policy_must_load(reg, a->name, a->out, d);
    }
    return ret;
}

int
tc_registry_policy_create(struct tc_registry *reg, const char *name,
                          const char *doc, size_t len,
                          struct tc_reg_policy *out, struct tc_detail *d)
{
    struct pol_arg a = {0};
    int ret;

    if (out != NULL) {
        memset(out, 0, sizeof(*out));
    }
    a.name = name;
    a.doc = doc;
    a.len = len;
    a.out = out;
    ret = tc_registry_check_policy_name(name, d);
    if (ret == TC_OK && doc == NULL) {
        ret = tc_detail_set(d, TC_ERR_REG_INVALID_REQUEST, -1, "policyDocument",
                            "policyDocument is missing");
    }
    if (ret == TC_OK) {
        ret = reg_policy_check_document(doc, len, d);
    }
    if (ret == TC_OK) {
        ret = reg_tx(reg, 1, reg_do_policy_create, &a, d);
    }
    if (ret != TC_OK && out != NULL) {
        tc_reg_policy_clear(out);
    }
    return ret;
}

static int
do_policy_get(struct tc_registry *reg, void *arg, struct tc_detail *d)
{
    struct pol_arg *a = arg;

    return reg_policy_must_load(reg, a->name, a->out, d);
}

int
tc_registry_policy_get(struct tc_registry *reg, const char *name,
                       struct tc_reg_policy *out, struct tc_detail *d)
{
    struct pol_arg a = {0};
    int ret;

    memset(out, 0, sizeof(*out));
    a.name = name;
    a.out = out;
    ret = tc_registry_check_policy_name(name, d);
    if (ret == TC_OK) {
        ret = reg_tx(reg, 0, do_policy_get, &a, d);
    }
    if (ret != TC_OK) {
        tc_reg_policy_clear(out);
    }
    return ret;
}

static int
do_policy_delete(struct tc_registry *reg, void *arg, struct tc_detail *d)
{
    struct pol_arg *a = arg;
    struct tc_reg_policy p = {0};
    sqlite3_stmt *st = NULL;
    long long targets = 0;
    long long versions = 0;
    int ret;

    ret = reg_policy_must_load(reg, a->name, &p, d);
    tc_reg_policy_clear(&p);
    if (ret == TC_OK) {
        ret = count_of(reg,
                       "SELECT COUNT(*) FROM policy_targets WHERE policy = ?",
                       a->name, &targets, d);
    }
    if (ret == TC_OK) {
        ret = count_of(reg,
                       "SELECT COUNT(*) FROM policy_versions WHERE policy = ?",
                       a->name, &versions, d);
    }
    if (ret != TC_OK) {
        return ret;
    }
    if (targets > 0) {
        return tc_detail_set(d, TC_ERR_REG_DELETE_CONFLICT, -1, "policyName",
                             "policy %s is attached to %lld target(s)", a->name,
                             targets);
    }
    if (versions > 1) {
        return tc_detail_set(d, TC_ERR_REG_DELETE_CONFLICT, -1, "policyName",
                             "policy %s has %lld versions; delete all but "
                             "the default first",
                             a->name, versions);
    }
    ret = reg_prepare(reg, &st, "DELETE FROM policies WHERE name = ?", d);
    if (ret != TC_OK) {
        return ret;
    }
    reg_bind_text(st, 1, a->name);
    ret = reg_step(reg, st, NULL, "policy", d);
    reg_finalize(reg, st);
    if (ret == TC_OK) {
        ret = reg_event(reg, "policy.delete", "policy", a->name, NULL, d);
    }
    return ret;
}

int
tc_registry_policy_delete(struct tc_registry *reg, const char *name,
                          struct tc_detail *d)
{
    struct pol_arg a = {0};
    int ret;

    a.name = name;
    ret = tc_registry_check_policy_name(name, d);
    if (ret == TC_OK) {
        ret = reg_tx(reg, 1, do_policy_delete, &a, d);
    }
    return ret;
}

/*
 * Names of policies, paged by name: all of them, or those attached to
 * a->cert when set; documents filled when with_docs.
 */
static int
policy_names(struct tc_registry *reg, struct pol_arg *a, int with_docs,
             struct tc_detail *d)
{
    int desc = a->page != NULL && a->page->descending;
    sqlite3_stmt *st = NULL;
    char key[TC_REG_NAME_MAX];
    int limit = 0;
    int row = 0;
    int ret;

    ret = reg_page_start(a->page, &limit, key, sizeof(key), d);
    if (ret != TC_OK) {
        return ret;
    }
    if (a->page == NULL) {
        limit = INT32_MAX - 1;
    }
    ret = reg_prepare(
        reg, &st,
        desc ? "SELECT p.name, p.default_version, p.created, p.modified, "
               "v.document FROM policies p JOIN policy_versions v ON "
               "v.policy = p.name AND v.version = p.default_version WHERE "
               "(?1 = '' OR p.name < ?1) AND (?2 IS NULL OR EXISTS (SELECT 1 "
               "FROM policy_targets t WHERE t.policy = p.name AND "
               "t.cert_id = ?2)) ORDER BY p.name DESC LIMIT ?3"
             : "SELECT p.name, p.default_version, p.created, p.modified, "
               "v.document FROM policies p JOIN policy_versions v ON "
               "v.policy = p.name AND v.version = p.default_version WHERE "
               "p.name > ?1 AND (?2 IS NULL OR EXISTS (SELECT 1 "
               "FROM policy_targets t WHERE t.policy = p.name AND "
               "t.cert_id = ?2)) ORDER BY p.name LIMIT ?3",
        d);
    if (ret != TC_OK) {
        return ret;
    }
    reg_bind_text(st, 1, key);
    reg_bind_text(st, 2, a->cert[0] != '\0' ? a->cert : NULL);
    sqlite3_bind_int(st, 3, limit + 1);
    for (;;) {
        struct tc_reg_policy *p;

        ret = reg_step(reg, st, &row, "policies", d);
        if (ret != TC_OK || !row) {
            break;
        }
        if (a->list->n == (size_t)limit) {
            reg_page_token(a->list->items[limit - 1].name, a->list->next);
            break;
        }
        p = reg_list_push((void **)&a->list->items, &a->list->n, sizeof(*p));
        if (p == NULL) {
            ret = tc_detail_set(d, TC_ERR_NOMEM, -1, "policies", "no memory");
            break;
        }
        reg_col_copy(st, 0, p->name, sizeof(p->name));
        tc_registry_arn(reg, "policy", p->name, p->arn);
        snprintf(p->default_version, sizeof(p->default_version), "%lld",
                 (long long)sqlite3_column_int64(st, 1));
        p->creation_date = sqlite3_column_double(st, 2);
        p->last_modified_date = sqlite3_column_double(st, 3);
        if (with_docs && (p->document = reg_col_dup(st, 4)) == NULL) {
            ret = tc_detail_set(d, TC_ERR_NOMEM, -1, "policies", "no memory");
            break;
        }
    }
    reg_finalize(reg, st);
    return ret;
}

static int
do_policy_list(struct tc_registry *reg, void *arg, struct tc_detail *d)
{
    return policy_names(reg, arg, 0, d);
}

int
tc_registry_policy_list(struct tc_registry *reg, const struct tc_reg_page *page,
                        struct tc_reg_policy_list *out, struct tc_detail *d)
{
    static const struct tc_reg_page first = {0, NULL, 0};
    struct pol_arg a = {0};
    int ret;

    memset(out, 0, sizeof(*out));
    a.page = page != NULL ? page : &first;
    a.list = out;
    ret = reg_tx(reg, 0, do_policy_list, &a, d);
    if (ret != TC_OK) {
        tc_reg_policy_list_clear(out);
    }
    return ret;
}

/* ---- versions ---- */

static int
set_default(struct tc_registry *reg, const char *name, long long version,
            struct tc_detail *d)
{
    sqlite3_stmt *st = NULL;
    char v[TC_REG_VERSION_ID_MAX];
    int ret;

    ret = reg_prepare(reg, &st,
                      "UPDATE policies SET default_version = ?, modified = ? "
                      "WHERE name = ?",
                      d);
    if (ret != TC_OK) {
        return ret;
    }
    sqlite3_bind_int64(st, 1, version);
    sqlite3_bind_double(st, 2, tc_now());
    reg_bind_text(st, 3, name);
    ret = reg_step(reg, st, NULL, "policy", d);
    reg_finalize(reg, st);
    if (ret != TC_OK) {
        return ret;
    }
    snprintf(v, sizeof(v), "%lld", version);
    return reg_event(reg, "policy.default_version", "policy", name,
                     json_pack("{s:s}", "defaultVersionId", v), d);
}

static int
do_version_create(struct tc_registry *reg, void *arg, struct tc_detail *d)
{
    struct pol_arg *a = arg;
    sqlite3_stmt *st = NULL;
    char v[TC_REG_VERSION_ID_MAX];
    long long n = 0;
    long long next = 0;
    int row = 0;
    int ret;

    tc_reg_policy_version_clear(a->vout);
    ret = reg_prepare(reg, &st,
                      "SELECT next_version FROM policies WHERE name = ?", d);
    if (ret != TC_OK) {
        return ret;
    }
    reg_bind_text(st, 1, a->name);
    ret = reg_step(reg, st, &row, "policy", d);
    next = row ? sqlite3_column_int64(st, 0) : 0;
    reg_finalize(reg, st);
    st = NULL;
    if (ret != TC_OK) {
        return ret;
    }
    if (!row) {
        return tc_detail_set(d, TC_ERR_REG_NOT_FOUND, -1, "policyName",
                             "policy %s does not exist", a->name);
    }
    ret = count_of(reg, "SELECT COUNT(*) FROM policy_versions WHERE policy = ?",
                   a->name, &n, d);
    if (ret != TC_OK) {
        return ret;
    }
    if (n >= TC_REG_POLICY_VERSIONS) {
        return tc_detail_set(d, TC_ERR_REG_VERSIONS_LIMIT, -1, "policyName",
                             "policy %s already has %d versions; delete one "
                             "first",
                             a->name, TC_REG_POLICY_VERSIONS);
    }
    ret = insert_version(reg, a->name, next, a->doc, a->len, d);
    if (ret == TC_OK) {
        ret = reg_prepare(reg, &st,
                          "UPDATE policies SET next_version = ?, "
                          "modified = ? WHERE name = ?",
                          d);
    }
    if (ret != TC_OK) {
        return ret;
    }
    sqlite3_bind_int64(st, 1, next + 1);
    sqlite3_bind_double(st, 2, tc_now());
    reg_bind_text(st, 3, a->name);
    ret = reg_step(reg, st, NULL, "policy", d);
    reg_finalize(reg, st);
    snprintf(v, sizeof(v), "%lld", next);
    if (ret == TC_OK) {
        ret = reg_event(reg, "policy.version_create", "policy", a->name,
                        json_pack("{s:s, s:b}", "versionId", v, "setAsDefault",
                                  a->set_default ? 1 : 0),
                        d);
    }
    if (ret == TC_OK && a->set_default) {
        ret = set_default(reg, a->name, next, d);
    }
    if (ret == TC_OK && a->vout != NULL) {
        ret = version_load(reg, a->name, next, a->vout, d);
    }
    return ret;
}

int
tc_registry_policy_version_create(struct tc_registry *reg, const char *name,
                                  const char *doc, size_t len, int set_default,
                                  struct tc_reg_policy_version *out,
                                  struct tc_detail *d)
{
    struct pol_arg a = {0};
    int ret;

    if (out != NULL) {
        memset(out, 0, sizeof(*out));
    }
    a.name = name;
    a.doc = doc;
    a.len = len;
    a.set_default = set_default;
    a.vout = out;
    ret = tc_registry_check_policy_name(name, d);
    if (ret == TC_OK && doc == NULL) {
        ret = tc_detail_set(d, TC_ERR_REG_INVALID_REQUEST, -1, "policyDocument",
                            "policyDocument is missing");
    }
    if (ret == TC_OK) {
        ret = reg_policy_check_document(doc, len, d);
    }
    if (ret == TC_OK) {
        ret = reg_tx(reg, 1, do_version_create, &a, d);
    }
    if (ret != TC_OK && out != NULL) {
        tc_reg_policy_version_clear(out);
    }
    return ret;
}

static int
do_version_get(struct tc_registry *reg, void *arg, struct tc_detail *d)
{
    struct pol_arg *a = arg;
    struct tc_reg_policy p = {0};
    int ret = reg_policy_must_load(reg, a->name, &p, d);

    tc_reg_policy_clear(&p);
    if (ret == TC_OK) {
        ret = version_load(reg, a->name, a->version, a->vout, d);
    }
    return ret;
}

int
tc_registry_policy_version_get(struct tc_registry *reg, const char *name,
                               const char *version_id,
                               struct tc_reg_policy_version *out,
                               struct tc_detail *d)
{
    struct pol_arg a = {0};
    int ret;

    memset(out, 0, sizeof(*out));
    a.name = name;
    a.vout = out;
    ret = tc_registry_check_policy_name(name, d);
    if (ret == TC_OK) {
        ret = version_parse(version_id, &a.version, d);
    }
    if (ret == TC_OK) {
        ret = reg_tx(reg, 0, do_version_get, &a, d);
    }
    if (ret != TC_OK) {
        tc_reg_policy_version_clear(out);
    }
    return ret;
}

static int
do_version_delete(struct tc_registry *reg, void *arg, struct tc_detail *d)
{
    struct pol_arg *a = arg;
    struct tc_reg_policy_version v = {0};
    sqlite3_stmt *st = NULL;
    int ret;

    ret = do_version_get(
        reg,
        &(struct pol_arg){.name = a->name, .version = a->version, .vout = &v},
        d);
    if (ret != TC_OK) {
        goto cleanup;
    }
    if (v.is_default) {
        ret =
            tc_detail_set(d, TC_ERR_REG_DELETE_CONFLICT, -1, "policyVersionId",
                          "version %s is the default version of policy %s",
                          v.version_id, a->name);
        goto cleanup;
    }
    ret = reg_prepare(reg, &st,
                      "DELETE FROM policy_versions WHERE policy = ? AND "
                      "version = ?",
                      d);
    if (ret != TC_OK) {
        goto cleanup;
    }
    reg_bind_text(st, 1, a->name);
    sqlite3_bind_int64(st, 2, a->version);
    ret = reg_step(reg, st, NULL, "policyVersion", d);
    if (ret == TC_OK) {
        ret = reg_event(reg, "policy.version_delete", "policy", a->name,
                        json_pack("{s:s}", "versionId", v.version_id), d);
    }

cleanup:
    reg_finalize(reg, st);
    tc_reg_policy_version_clear(&v);
    return ret;
}

int
tc_registry_policy_version_delete(struct tc_registry *reg, const char *name,
                                  const char *version_id, struct tc_detail *d)
{
    struct pol_arg a = {0};
    int ret;

    a.name = name;
    ret = tc_registry_check_policy_name(name, d);
    if (ret == TC_OK) {
        ret = version_parse(version_id, &a.version, d);
    }
    if (ret == TC_OK) {
        ret = reg_tx(reg, 1, do_version_delete, &a, d);
    }
    return ret;
}

static int
do_set_default(struct tc_registry *reg, void *arg, struct tc_detail *d)
{
    struct pol_arg *a = arg;
    struct tc_reg_policy_version v = {0};
    int ret;

    ret = do_version_get(
        reg,
        &(struct pol_arg){.name = a->name, .version = a->version, .vout = &v},
        d);
    if (ret == TC_OK && !v.is_default) {
        ret = set_default(reg, a->name, a->version, d);
    }
    tc_reg_policy_version_clear(&v);
    return ret;
}

int
tc_registry_policy_version_set_default(struct tc_registry *reg,
                                       const char *name, const char *version_id,
                                       struct tc_detail *d)
{
    struct pol_arg a = {0};
    int ret;

    a.name = name;
    ret = tc_registry_check_policy_name(name, d);
    if (ret == TC_OK) {
        ret = version_parse(version_id, &a.version, d);
    }
    if (ret == TC_OK) {
        ret = reg_tx(reg, 1, do_set_default, &a, d);
    }
    return ret;
}

static int
do_version_list(struct tc_registry *reg, void *arg, struct tc_detail *d)
{
    struct pol_arg *a = arg;
    struct tc_reg_policy p = {0};
    sqlite3_stmt *st = NULL;
    int row = 0;
    int ret;

    ret = reg_policy_must_load(reg, a->name, &p, d);
    tc_reg_policy_clear(&p);
    if (ret == TC_OK) {
        ret = reg_prepare(reg, &st,
                          "SELECT v.version, v.created, v.generation_id, "
                          "p.default_version = v.version FROM "
                          "policy_versions v JOIN policies p ON p.name = "
                          "v.policy WHERE v.policy = ? ORDER BY v.version "
                          "DESC",
                          d);
    }
    if (ret != TC_OK) {
        return ret;
    }
    reg_bind_text(st, 1, a->name);
    for (;;) {
        struct tc_reg_policy_version *v;

        ret = reg_step(reg, st, &row, "policyVersions", d);
        if (ret != TC_OK || !row) {
            break;
        }
        v = reg_list_push((void **)&a->vlist->items, &a->vlist->n, sizeof(*v));
        if (v == NULL) {
            ret = tc_detail_set(d, TC_ERR_NOMEM, -1, "policyVersions",
                                "no memory");
            break;
        }
        snprintf(v->name, sizeof(v->name), "%s", a->name);
        tc_registry_arn(reg, "policy", a->name, v->arn);
        snprintf(v->version_id, sizeof(v->version_id), "%lld",
                 (long long)sqlite3_column_int64(st, 0));
        v->creation_date = sqlite3_column_double(st, 1);
        v->last_modified_date = v->creation_date;
        reg_col_copy(st, 2, v->generation_id, sizeof(v->generation_id));
        v->is_default = sqlite3_column_int(st, 3);
    }
    reg_finalize(reg, st);
    return ret;
}

int
tc_registry_policy_version_list(struct tc_registry *reg, const char *name,
                                struct tc_reg_policy_version_list *out,
                                struct tc_detail *d)
{
    struct pol_arg a = {0};
    int ret;

    memset(out, 0, sizeof(*out));
    a.name = name;
    a.vlist = out;
    ret = tc_registry_check_policy_name(name, d);
    if (ret == TC_OK) {
        ret = reg_tx(reg, 0, do_version_list, &a, d);
    }
    if (ret != TC_OK) {
        tc_reg_policy_version_list_clear(out);
    }
    return ret;
}

/* ---- attachments ---- */

static int
cert_known(struct tc_registry *reg, const char *id, struct tc_detail *d)
{
    long long n = 0;
    int ret =
        count_of(reg, "SELECT COUNT(*) FROM certs WHERE id = ?", id, &n, d);

    if (ret == TC_OK && n == 0) {
        ret = tc_detail_set(d, TC_ERR_REG_NOT_FOUND, -1, "target",
                            "certificate %s is not registered", id);
    }
    return ret;
}

int
reg_do_policy_attach(struct tc_registry *reg, void *arg, struct tc_detail *d)
{
    struct pol_arg *a = arg;
    struct tc_reg_policy p = {0};
    sqlite3_stmt *st = NULL;
    long long n = 0;
    int row = 0;
    int ret;

    ret = reg_policy_must_load(reg, a->name, &p, d);
    tc_reg_policy_clear(&p);
    if (ret == TC_OK) {
        ret = cert_known(reg, a->cert, d);
    }
    if (ret == TC_OK) {
        ret = reg_prepare(reg, &st,
                          "SELECT 1 FROM policy_targets WHERE policy = ? AND "
                          "cert_id = ?",
                          d);
    }
    if (ret != TC_OK) {
        return ret;
    }
    reg_bind_text(st, 1, a->name);
    reg_bind_text(st, 2, a->cert);
    ret = reg_step(reg, st, &row, "target", d);
    reg_finalize(reg, st);
    st = NULL;
    if (ret != TC_OK || row) {
        return ret;
    }
    ret = count_of(reg, "SELECT COUNT(*) FROM policy_targets WHERE cert_id = ?",
                   a->cert, &n, d);
    if (ret != TC_OK) {
        return ret;
    }
    if (n >= TC_REG_POLICIES_PER_TARGET) {
        return tc_detail_set(d, TC_ERR_REG_LIMIT_EXCEEDED, -1, "target",
                             "certificate %s already has %d policies", a->cert,
                             TC_REG_POLICIES_PER_TARGET);
    }
    ret = reg_prepare(reg, &st,
                      "INSERT INTO policy_targets (policy, cert_id, created) "
                      "VALUES (?, ?, ?)",
                      d);
    if (ret != TC_OK) {
        return ret;
    }
    reg_bind_text(st, 1, a->name);
    reg_bind_text(st, 2, a->cert);
    sqlite3_bind_double(st, 3, tc_now());
    ret = reg_step(reg, st, NULL, "target", d);
    reg_finalize(reg, st);
    if (ret == TC_OK) {
        ret = reg_event(reg, "policy.attach", "policy", a->name,
                        json_pack("{s:s, s:s}", "target", a->target,
                                  "certificateId", a->cert),
                        d);
    }
    return ret;
}

static int
do_detach(struct tc_registry *reg, void *arg, struct tc_detail *d)
{
    struct pol_arg *a = arg;
    struct tc_reg_policy p = {0};
    sqlite3_stmt *st = NULL;
    int ret;

    ret = reg_policy_must_load(reg, a->name, &p, d);
    tc_reg_policy_clear(&p);
    if (ret == TC_OK) {
        ret = cert_known(reg, a->cert, d);
    }
    if (ret == TC_OK) {
        ret = reg_prepare(reg, &st,
                          "DELETE FROM policy_targets WHERE policy = ? AND "
                          "cert_id = ?",
                          d);
    }
    if (ret != TC_OK) {
        return ret;
    }
    reg_bind_text(st, 1, a->name);
    reg_bind_text(st, 2, a->cert);
    ret = reg_step(reg, st, NULL, "target", d);
    reg_finalize(reg, st);
    if (ret == TC_OK && sqlite3_changes(reg->db) > 0) {
        ret = reg_event(reg, "policy.detach", "policy", a->name,
                        json_pack("{s:s, s:s}", "target", a->target,
                                  "certificateId", a->cert),
                        d);
    }
    return ret;
}

static int
attach_common(struct tc_registry *reg, const char *name, const char *target,
              reg_tx_fn fn, struct tc_detail *d)
{
    struct pol_arg a = {0};
    int ret;

    a.name = name;
    a.target = target;
    ret = tc_registry_check_policy_name(name, d);
    if (ret == TC_OK) {
        ret = reg_cert_arn_parse(reg, target, a.cert, "target", d);
    }
    if (ret == TC_OK) {
        ret = reg_tx(reg, 1, fn, &a, d);
    }
    return ret;
}

int
tc_registry_policy_attach(struct tc_registry *reg, const char *name,
                          const char *target, struct tc_detail *d)
{
    return attach_common(reg, name, target, reg_do_policy_attach, d);
}

int
tc_registry_policy_detach(struct tc_registry *reg, const char *name,
                          const char *target, struct tc_detail *d)
{
    return attach_common(reg, name, target, do_detach, d);
}

static int
do_list_attached(struct tc_registry *reg, void *arg, struct tc_detail *d)
{
    struct pol_arg *a = arg;
    int ret = cert_known(reg, a->cert, d);

    if (ret == TC_OK) {
        ret = policy_names(reg, a, 0, d);
    }
    return ret;
}

int
tc_registry_policy_list_attached(struct tc_registry *reg, const char *target,
                                 const struct tc_reg_page *page,
                                 struct tc_reg_policy_list *out,
                                 struct tc_detail *d)
{
    static const struct tc_reg_page first = {0, NULL, 0};
    struct pol_arg a = {0};
    int ret;

    memset(out, 0, sizeof(*out));
    a.page = page != NULL ? page : &first;
    a.list = out;
    ret = reg_cert_arn_parse(reg, target, a.cert, "target", d);
    if (ret == TC_OK) {
        ret = reg_tx(reg, 0, do_list_attached, &a, d);
    }
    if (ret != TC_OK) {
        tc_reg_policy_list_clear(out);
    }
    return ret;
}

static int
do_list_targets(struct tc_registry *reg, void *arg, struct tc_detail *d)
{
    struct pol_arg *a = arg;
    struct tc_reg_policy p = {0};
    sqlite3_stmt *st = NULL;
    char key[TC_REG_CERT_ID_LEN];
    char last[TC_REG_CERT_ID_LEN] = "";
    char arn[TC_REG_ARN_MAX];
    int limit = 0;
    int row = 0;
    int ret;

    ret = reg_page_start(a->page, &limit, key, sizeof(key), d);
    if (ret == TC_OK) {
        ret = reg_policy_must_load(reg, a->name, &p, d);
        tc_reg_policy_clear(&p);
    }
    if (ret == TC_OK) {
        ret = reg_prepare(reg, &st,
                          "SELECT cert_id FROM policy_targets WHERE "
                          "policy = ? AND cert_id > ? ORDER BY cert_id "
                          "LIMIT ?",
                          d);
    }
    if (ret != TC_OK) {
        return ret;
    }
    reg_bind_text(st, 1, a->name);
    reg_bind_text(st, 2, key);
    sqlite3_bind_int(st, 3, limit + 1);
    for (;;) {
        char **slot;

        ret = reg_step(reg, st, &row, "targets", d);
        if (ret != TC_OK || !row) {
            break;
        }
        if (a->slist->n == (size_t)limit) {
            reg_page_token(last, a->slist->next);
            break;
        }
        reg_col_copy(st, 0, last, sizeof(last));
        tc_registry_arn(reg, "cert", last, arn);
        slot = reg_list_push((void **)&a->slist->items, &a->slist->n,
                             sizeof(*slot));
        if (slot == NULL || (*slot = strdup(arn)) == NULL) {
            ret = tc_detail_set(d, TC_ERR_NOMEM, -1, "targets", "no memory");
            break;
        }
    }
    reg_finalize(reg, st);
    return ret;
}

int
tc_registry_policy_list_targets(struct tc_registry *reg, const char *name,
                                const struct tc_reg_page *page,
                                struct tc_reg_str_list *out,
                                struct tc_detail *d)
{
    struct pol_arg a = {0};
    int ret;

    memset(out, 0, sizeof(*out));
    a.name = name;
    a.page = page;
    a.slist = out;
    ret = tc_registry_check_policy_name(name, d);
    if (ret == TC_OK) {
        ret = reg_tx(reg, 0, do_list_targets, &a, d);
    }
    if (ret != TC_OK) {
        tc_reg_str_list_clear(out);
    }
    return ret;
}

static int
do_for_cert(struct tc_registry *reg, void *arg, struct tc_detail *d)
{
    return policy_names(reg, arg, 1, d);
}

int
tc_registry_policies_for_cert(struct tc_registry *reg, const char *cert_id,
                              struct tc_reg_policy_list *out,
                              struct tc_detail *d)
{
    struct pol_arg a = {0};
    int ret;

    memset(out, 0, sizeof(*out));
    a.page = NULL; /* every row: at most TC_REG_POLICIES_PER_TARGET */
    a.list = out;
    ret = reg_cert_id_norm(cert_id, a.cert, "certificateId", d);
    if (ret == TC_OK) {
        ret = reg_tx(reg, 0, do_for_cert, &a, d);
    }
    if (ret != TC_OK) {
        tc_reg_policy_list_clear(out);
    }
    return ret;
}
