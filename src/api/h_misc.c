// SPDX-License-Identifier: Apache-2.0
/*
 * DescribeEndpoint and the provisioning-template handlers. The endpoint
 * is this core's MQTT host from the data directory, not an AWS name; the
 * templates are stored by the registry and used by the broker's
 * just-in-time provisioning.
 */
#include <stdio.h>
#include <string.h>

#include "api_int.h"

/*
 * iot:Data-ATS (and the legacy iot:Data, which AWS still answers) name the
 * MQTT endpoint. The other types (credential provider, jobs) are services
 * this core does not run.
 */
int
h_describe_endpoint(struct api_call *c)
{
    const char *type = api_query(c, "endpointType");
    const struct tc_datadir *dd = api_datadir(c->api);

    if (type != NULL && strcmp(type, "iot:Data-ATS") != 0 &&
        strcmp(type, "iot:Data") != 0) {
        return tc_detail_set(&c->d, TC_ERR_API_BAD_REQUEST, -1,
                             "endpointType",
                             "endpoint type '%s' is not served by this "
                             "core (iot:Data-ATS is)", type);
    }
    c->out = json_pack("{s:s}", "endpointAddress", dd->endpoint_host);
    return TC_OK;
}

int
h_create_provisioning_template(struct api_call *c)
{
    struct tc_reg_template in;
    struct tc_reg_template out;
    const char *name = NULL;
    const char *type = NULL;
    json_t *hook = json_object_get(c->body, "preProvisioningHook");
    int rc;

    memset(&in, 0, sizeof(in));
    memset(&out, 0, sizeof(out));
    in.enabled = 0;
    rc = api_body_str(c, "templateName", 1, &name);
    if (rc == TC_OK) {
        rc = api_body_str(c, "description", 0,
                          (const char **)&in.description);
    }
    if (rc == TC_OK) {
        rc = api_body_str(c, "templateBody", 1, (const char **)&in.body);
    }
    if (rc == TC_OK) {
        rc = api_body_str(c, "provisioningRoleArn", 1,
                          (const char **)&in.role_arn);
    }
    if (rc == TC_OK) {
        rc = api_body_bool(c, "enabled", &in.enabled);
    }
    if (rc == TC_OK) {
        rc = api_body_str(c, "type", 0, &type);
    }
    if (rc == TC_OK && type != NULL) {
        rc = tc_registry_template_type_parse(type, &in.type, &c->d);
    }
    if (rc == TC_OK && hook != NULL && !json_is_null(hook)) {
        rc = tc_detail_set(&c->d, TC_ERR_API_BAD_REQUEST, -1,
                           "preProvisioningHook",
                           "pre-provisioning hooks are not supported by "
                           "this core");
    }
    if (rc == TC_OK) {
        rc = tc_registry_check_template_name(name, &c->d);
    }
    if (rc != TC_OK) {
        return rc;
    }
    snprintf(in.name, sizeof(in.name), "%s", name);
    rc = tc_registry_template_create(c->reg, &in, &c->d);
    if (rc == TC_OK) {
        rc = tc_registry_template_describe(c->reg, name, &out, &c->d);
    }
    if (rc == TC_OK) {
        c->out = json_pack("{s:s, s:s, s:i}", "templateArn", out.arn,
                           "templateName", out.name, "defaultVersionId",
                           out.default_version);
    }
    tc_reg_template_clear(&out);
    return rc;
}

int
h_describe_provisioning_template(struct api_call *c)
{
    struct tc_reg_template t;
    int rc;

    memset(&t, 0, sizeof(t));
    rc = tc_registry_template_describe(c->reg, c->params[0], &t, &c->d);
    if (rc == TC_OK) {
        c->out = json_pack(
            "{s:s, s:s, s:f, s:f, s:i, s:s, s:b, s:s, s:s}", "templateArn",
            t.arn, "templateName", t.name, "creationDate", t.creation_date,
            "lastModifiedDate", t.last_modified_date, "defaultVersionId",
            t.default_version, "templateBody", t.body != NULL ? t.body : "",
            "enabled", t.enabled, "provisioningRoleArn",
            t.role_arn != NULL ? t.role_arn : "", "type",
            tc_registry_template_type_name(t.type));
        api_set_str(c->out, "description", t.description);
    }
    tc_reg_template_clear(&t);
    return rc;
}

int
h_list_provisioning_templates(struct api_call *c)
{
    struct tc_reg_template_list l = {0};
    struct tc_reg_page page;
    json_t *arr;
    size_t i;
    int rc = api_page(c, "maxResults", "nextToken", 0, &page);

    if (rc == TC_OK) {
        rc = tc_registry_template_list(c->reg, &page, &l, &c->d);
    }
    if (rc != TC_OK) {
        return rc;
    }
    arr = json_array();
    for (i = 0; i < l.n; i++) {
        const struct tc_reg_template *t = &l.items[i];
        json_t *o = json_pack(
            "{s:s, s:s, s:f, s:f, s:b, s:s}", "templateArn", t->arn,
            "templateName", t->name, "creationDate", t->creation_date,
            "lastModifiedDate", t->last_modified_date, "enabled", t->enabled,
            "type", tc_registry_template_type_name(t->type));

        api_set_str(o, "description", t->description);
        json_array_append_new(arr, o);
    }
    c->out = json_pack("{s:o}", "templates", arr);
    api_set_str(c->out, "nextToken", l.next);
    tc_reg_template_list_clear(&l);
    return TC_OK;
}

int
h_delete_provisioning_template(struct api_call *c)
{
    int rc = tc_registry_template_delete(c->reg, c->params[0], &c->d);

    if (rc == TC_OK) {
        c->out = json_object();
    }
    return rc;
}
