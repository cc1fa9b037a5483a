// SPDX-License-Identifier: Apache-2.0
/*
 * Handlers for policies, policy versions and policy attachments. The
 * document is validated and stored by the registry; this file passes it
 * through as the string the model defines and never reinterprets it.
 */
#include <string.h>

#include "api_int.h"

int
h_create_policy(struct api_call *c)
{
    struct tc_reg_policy p = {0};
    const char *doc = NULL;
    int rc = api_body_str(c, "policyDocument", 1, &doc);

    if (rc == TC_OK) {
        rc = tc_registry_policy_create(c->reg, c->params[0], doc,
                                       strlen(doc), &p, &c->d);
    }
    if (rc == TC_OK) {
        c->out = json_pack("{s:s, s:s, s:s, s:s}", "policyName", p.name,
                           "policyArn", p.arn, "policyDocument",
                           p.document != NULL ? p.document : doc,
                           "policyVersionId", p.default_version);
    }
    tc_reg_policy_clear(&p);
    return rc;
}

int
h_get_policy(struct api_call *c)
{
    struct tc_reg_policy p = {0};
    int rc = tc_registry_policy_get(c->reg, c->params[0], &p, &c->d);

    if (rc == TC_OK) {
        c->out = json_pack("{s:s, s:s, s:s, s:s, s:f, s:f, s:s}",
                           "policyName", p.name, "policyArn", p.arn,
                           "policyDocument",
                           p.document != NULL ? p.document : "",
                           "defaultVersionId", p.default_version,
                           "creationDate", p.creation_date,
                           "lastModifiedDate", p.last_modified_date,
                           "generationId", p.generation_id);
    }
    tc_reg_policy_clear(&p);
    return rc;
}

int
h_delete_policy(struct api_call *c)
{
    return tc_registry_policy_delete(c->reg, c->params[0], &c->d);
}

/* {"policies": [{policyName, policyArn}], "nextMarker": ...}. */
static void
policy_list_out(struct api_call *c, const struct tc_reg_policy_list *l)
{
    json_t *arr = json_array();
    size_t i;

    for (i = 0; i < l->n; i++) {
        json_array_append_new(arr, json_pack("{s:s, s:s}", "policyName",
                                             l->items[i].name, "policyArn",
                                             l->items[i].arn));
    }
    c->out = json_pack("{s:o}", "policies", arr);
    api_set_str(c->out, "nextMarker", l->next);
}

int
h_list_policies(struct api_call *c)
{
    struct tc_reg_policy_list l = {0};
    struct tc_reg_page page;
    int rc = api_page(c, "pageSize", "marker", 1, &page);

    if (rc == TC_OK) {
        rc = tc_registry_policy_list(c->reg, &page, &l, &c->d);
    }
    if (rc == TC_OK) {
        policy_list_out(c, &l);
    }
    tc_reg_policy_list_clear(&l);
    return rc;
}

int
h_create_policy_version(struct api_call *c)
{
    struct tc_reg_policy_version v = {0};
    const char *doc = NULL;
    int set_default = 0;
    int rc = api_body_str(c, "policyDocument", 1, &doc);

    if (rc == TC_OK) {
        rc = api_query_bool(c, "setAsDefault", &set_default);
    }
    if (rc == TC_OK) {
        rc = tc_registry_policy_version_create(c->reg, c->params[0], doc,
                                               strlen(doc), set_default, &v,
                                               &c->d);
    }
    if (rc == TC_OK) {
        c->out = json_pack("{s:s, s:s, s:s, s:b}", "policyArn", v.arn,
                           "policyDocument",
                           v.document != NULL ? v.document : doc,
                           "policyVersionId", v.version_id,
                           "isDefaultVersion", v.is_default);
    }
    tc_reg_policy_version_clear(&v);
    return rc;
}

int
h_get_policy_version(struct api_call *c)
{
    struct tc_reg_policy_version v = {0};
    int rc = tc_registry_policy_version_get(c->reg, c->params[0],
                                            c->params[1], &v, &c->d);

    if (rc == TC_OK) {
        c->out = json_pack(
            "{s:s, s:s, s:s, s:s, s:b, s:f, s:f, s:s}", "policyArn", v.arn,
            "policyName", v.name, "policyDocument",
            v.document != NULL ? v.document : "", "policyVersionId",
            v.version_id, "isDefaultVersion", v.is_default, "creationDate",
            v.creation_date, "lastModifiedDate", v.last_modified_date,
            "generationId", v.generation_id);
    }
    tc_reg_policy_version_clear(&v);
    return rc;
}

int
h_list_policy_versions(struct api_call *c)
{
    struct tc_reg_policy_version_list l = {0};
    json_t *arr;
    size_t i;
    int rc = tc_registry_policy_version_list(c->reg, c->params[0], &l,
                                             &c->d);

    if (rc != TC_OK) {
        return rc;
    }
    arr = json_array();
    for (i = 0; i < l.n; i++) {
        json_array_append_new(
            arr, json_pack("{s:s, s:b, s:f}", "versionId",
                           l.items[i].version_id, "isDefaultVersion",
                           l.items[i].is_default, "createDate",
                           l.items[i].creation_date));
    }
    c->out = json_pack("{s:o}", "policyVersions", arr);
    tc_reg_policy_version_list_clear(&l);
    return TC_OK;
}

int
h_delete_policy_version(struct api_call *c)
{
    return tc_registry_policy_version_delete(c->reg, c->params[0],
                                             c->params[1], &c->d);
}

int
h_set_default_policy_version(struct api_call *c)
{
    return tc_registry_policy_version_set_default(c->reg, c->params[0],
                                                  c->params[1], &c->d);
}

int
h_attach_policy(struct api_call *c)
{
    const char *target = NULL;
    int rc = api_body_str(c, "target", 1, &target);

    if (rc == TC_OK) {
        rc = tc_registry_policy_attach(c->reg, c->params[0], target, &c->d);
    }
    return rc;
}

int
h_detach_policy(struct api_call *c)
{
    const char *target = NULL;
    int rc = api_body_str(c, "target", 1, &target);

    if (rc == TC_OK) {
        rc = tc_registry_policy_detach(c->reg, c->params[0], target, &c->d);
    }
    return rc;
}

int
h_list_attached_policies(struct api_call *c)
{
    struct tc_reg_policy_list l = {0};
    struct tc_reg_page page;
    int recursive = 0;
    int rc = api_page(c, "pageSize", "marker", 0, &page);

    /* Thing groups do not exist here, so recursive adds nothing. */
    if (rc == TC_OK) {
        rc = api_query_bool(c, "recursive", &recursive);
    }
    if (rc == TC_OK) {
        rc = tc_registry_policy_list_attached(c->reg, c->params[0], &page,
                                              &l, &c->d);
    }
    if (rc == TC_OK) {
        policy_list_out(c, &l);
    }
    tc_reg_policy_list_clear(&l);
    return rc;
}

int
h_list_targets_for_policy(struct api_call *c)
{
    struct tc_reg_str_list l = {0};
    struct tc_reg_page page;
    int rc = api_page(c, "pageSize", "marker", 0, &page);

    if (rc == TC_OK) {
        rc = tc_registry_policy_list_targets(c->reg, c->params[0], &page, &l,
                                             &c->d);
    }
    if (rc == TC_OK) {
        api_str_list_out(c, "targets", "nextMarker", &l);
    }
    tc_reg_str_list_clear(&l);
    return rc;
}
