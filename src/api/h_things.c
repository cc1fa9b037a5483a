// SPDX-License-Identifier: Apache-2.0
/*
 * Handlers for things, thing types and thing principals: request members
 * (named as in the botocore model) into registry calls, registry results
 * into response members. The registry enforces every rule on names,
 * attributes and attachments; these handlers only check JSON types.
 */
#include <string.h>

#include "api_int.h"

/* attributes map of a thing as a JSON object. */
static json_t *
attrs_json(const struct tc_reg_attrs *a)
{
    json_t *o = json_object();
    size_t i;

    for (i = 0; i < a->n; i++) {
        json_object_set_new(o, a->v[i].name,
                            json_string(a->v[i].value ? a->v[i].value : ""));
    }
    return o;
}

/* attributePayload: {"attributes": {...}, "merge": bool}; both optional. */
static int
attribute_payload(struct api_call *c, struct tc_reg_attrs *attrs,
                  int *has_attrs, int *merge)
{
    json_t *p = json_object_get(c->body, "attributePayload");
    json_t *a;
    json_t *m;

    *has_attrs = 0;
    if (p == NULL || json_is_null(p)) {
        return TC_OK;
    }
    if (!json_is_object(p)) {
        return tc_detail_set(&c->d, TC_ERR_API_BAD_REQUEST, -1,
                             "attributePayload", "must be an object");
    }
    m = json_object_get(p, "merge");
    if (m != NULL && !json_is_boolean(m)) {
        return tc_detail_set(&c->d, TC_ERR_API_BAD_REQUEST, -1,
                             "attributePayload.merge", "must be a boolean");
    }
    if (merge != NULL) {
        *merge = m != NULL && json_is_true(m);
    }
    a = json_object_get(p, "attributes");
    if (a == NULL || json_is_null(a)) {
        return TC_OK;
    }
    if (!json_is_object(a)) {
        return tc_detail_set(&c->d, TC_ERR_API_BAD_REQUEST, -1,
                             "attributePayload.attributes",
                             "must be an object");
    }
    *has_attrs = 1;
    return tc_registry_attrs_from_json(a, attrs, &c->d);
}

/* A request member this core does not implement must not be silently
 * dropped when it would change the result. */
static int
refuse_member(struct api_call *c, const char *key)
{
    json_t *v = json_object_get(c->body, key);

    if (v != NULL && !json_is_null(v)) {
        return tc_detail_set(&c->d, TC_ERR_API_BAD_REQUEST, -1, key,
                             "%s is not supported by this core", key);
    }
    return TC_OK;
}

int
h_create_thing(struct api_call *c)
{
    struct tc_reg_attrs attrs = {0};
    struct tc_reg_thing t = {0};
    const char *type = NULL;
    int has_attrs = 0;
    int rc;

    rc = api_body_str(c, "thingTypeName", 0, &type);
    if (rc == TC_OK) {
        rc = refuse_member(c, "billingGroupName");
    }
    if (rc == TC_OK) {
        rc = attribute_payload(c, &attrs, &has_attrs, NULL);
    }
    if (rc == TC_OK) {
        rc = tc_registry_thing_create(c->reg, c->params[0], type,
                                      has_attrs ? &attrs : NULL, &t, &c->d);
    }
    if (rc == TC_OK) {
        c->out = json_pack("{s:s, s:s, s:s}", "thingName", t.name,
                           "thingArn", t.arn, "thingId", t.id);
    }
    tc_reg_attrs_clear(&attrs);
    tc_reg_thing_clear(&t);
    return rc;
}

int
h_describe_thing(struct api_call *c)
{
    struct tc_reg_thing t = {0};
    int rc = tc_registry_thing_describe(c->reg, c->params[0], &t, &c->d);

    if (rc == TC_OK) {
        c->out = json_pack("{s:s, s:s, s:s, s:s, s:o, s:I}",
                           "defaultClientId", t.name, "thingName", t.name,
                           "thingId", t.id, "thingArn", t.arn, "attributes",
                           attrs_json(&t.attrs), "version",
                           (json_int_t)t.version);
        api_set_str(c->out, "thingTypeName", t.type_name);
    }
    tc_reg_thing_clear(&t);
    return rc;
}

int
h_list_things(struct api_call *c)
{
    struct tc_reg_thing_filter f = {0};
    struct tc_reg_thing_list l = {0};
    struct tc_reg_page page;
    int prefix = 0;
    json_t *arr;
    size_t i;
    int rc;

    rc = api_page(c, "maxResults", "nextToken", 0, &page);
    if (rc == TC_OK) {
        rc = api_query_bool(c, "usePrefixAttributeValue", &prefix);
    }
    if (rc != TC_OK) {
        return rc;
    }
    f.attr_name = api_query(c, "attributeName");
    f.attr_value = api_query(c, "attributeValue");
    f.attr_value_prefix = prefix;
    f.type_name = api_query(c, "thingTypeName");
    rc = tc_registry_thing_list(c->reg, &f, &page, &l, &c->d);
    if (rc != TC_OK) {
        return rc;
    }
    arr = json_array();
    for (i = 0; i < l.n; i++) {
        const struct tc_reg_thing *t = &l.items[i];
        json_t *o = json_pack("{s:s, s:s, s:o, s:I}", "thingName", t->name,
                              "thingArn", t->arn, "attributes",
                              attrs_json(&t->attrs), "version",
                              (json_int_t)t->version);

        api_set_str(o, "thingTypeName", t->type_name);
        json_array_append_new(arr, o);
    }
    c->out = json_pack("{s:o}", "things", arr);
    api_set_str(c->out, "nextToken", l.next);
    tc_reg_thing_list_clear(&l);
    return TC_OK;
}

int
h_update_thing(struct api_call *c)
{
    struct tc_reg_thing_update u;
    struct tc_reg_attrs attrs = {0};
    json_t *ev = json_object_get(c->body, "expectedVersion");
    int has_attrs = 0;
    int rc;

    memset(&u, 0, sizeof(u));
    rc = api_body_str(c, "thingTypeName", 0, &u.type_name);
    if (rc == TC_OK) {
        rc = api_body_bool(c, "removeThingType", &u.remove_type);
    }
    if (rc == TC_OK) {
        rc = attribute_payload(c, &attrs, &has_attrs, &u.merge);
    }
    if (rc == TC_OK && ev != NULL && !json_is_null(ev)) {
        if (!json_is_integer(ev)) {
            rc = tc_detail_set(&c->d, TC_ERR_API_BAD_REQUEST, -1,
                               "expectedVersion", "must be an integer");
        } else {
            u.has_expected_version = 1;
            u.expected_version = (long long)json_integer_value(ev);
        }
    }
    if (rc == TC_OK) {
        u.attrs = has_attrs ? &attrs : NULL;
        rc = tc_registry_thing_update(c->reg, c->params[0], &u, &c->d);
    }
    if (rc == TC_OK) {
        c->out = json_object();
    }
    tc_reg_attrs_clear(&attrs);
    return rc;
}

int
h_delete_thing(struct api_call *c)
{
    long long ev = 0;
    int present = 0;
    int rc = api_query_int(c, "expectedVersion", 0, (1LL << 62), &present,
                           &ev);

    if (rc == TC_OK) {
        rc = tc_registry_thing_delete(c->reg, c->params[0], present, ev,
                                      &c->d);
    }
    if (rc == TC_OK) {
        c->out = json_object();
    }
    return rc;
}

/* thingTypeProperties and thingTypeMetadata of a stored type. */
static void
thing_type_members(json_t *o, const struct tc_reg_thing_type *t)
{
    json_t *props = json_object();
    json_t *meta = json_object();
    json_t *names = json_array();
    size_t i;

    for (i = 0; i < t->searchable.n; i++) {
        json_array_append_new(names, json_string(t->searchable.v[i].name));
    }
    api_set_str(props, "thingTypeDescription", t->description);
    json_object_set_new(props, "searchableAttributes", names);
    json_object_set_new(meta, "deprecated", json_boolean(t->deprecated));
    if (t->deprecated) {
        json_object_set_new(meta, "deprecationDate",
                            json_real(t->deprecation_date));
    }
    json_object_set_new(meta, "creationDate", json_real(t->creation_date));
    json_object_set_new(o, "thingTypeProperties", props);
    json_object_set_new(o, "thingTypeMetadata", meta);
}

int
h_create_thing_type(struct api_call *c)
{
    struct tc_reg_thing_type t = {0};
    const char *names[TC_REG_ATTRS_TYPED];
    const char *description = NULL;
    json_t *props = json_object_get(c->body, "thingTypeProperties");
    size_t n = 0;
    int rc = TC_OK;

    if (props != NULL && !json_is_null(props)) {
        json_t *desc;
        json_t *sa;

        if (!json_is_object(props)) {
            return tc_detail_set(&c->d, TC_ERR_API_BAD_REQUEST, -1,
                                 "thingTypeProperties", "must be an object");
        }
        desc = json_object_get(props, "thingTypeDescription");
        sa = json_object_get(props, "searchableAttributes");
        if (desc != NULL && !json_is_string(desc)) {
            return tc_detail_set(&c->d, TC_ERR_API_BAD_REQUEST, -1,
                                 "thingTypeDescription", "must be a string");
        }
        description = desc != NULL ? json_string_value(desc) : NULL;
        if (sa != NULL && !json_is_array(sa)) {
            return tc_detail_set(&c->d, TC_ERR_API_BAD_REQUEST, -1,
                                 "searchableAttributes", "must be a list");
        }
        for (n = 0; sa != NULL && n < json_array_size(sa); n++) {
            json_t *s = json_array_get(sa, n);

            if (n == TC_REG_ATTRS_TYPED || !json_is_string(s)) {
                return tc_detail_set(&c->d, TC_ERR_API_BAD_REQUEST, -1,
                                     "searchableAttributes",
                                     "at most %d strings",
                                     TC_REG_ATTRS_TYPED);
            }
            names[n] = json_string_value(s);
        }
    }
    rc = tc_registry_thing_type_create(c->reg, c->params[0], description,
                                       names, n, &t, &c->d);
    if (rc == TC_OK) {
        c->out = json_pack("{s:s, s:s, s:s}", "thingTypeName", t.name,
                           "thingTypeArn", t.arn, "thingTypeId", t.id);
    }
    tc_reg_thing_type_clear(&t);
    return rc;
}

int
h_describe_thing_type(struct api_call *c)
{
    struct tc_reg_thing_type t = {0};
    int rc = tc_registry_thing_type_describe(c->reg, c->params[0], &t,
                                             &c->d);

    if (rc == TC_OK) {
        c->out = json_pack("{s:s, s:s, s:s}", "thingTypeName", t.name,
                           "thingTypeId", t.id, "thingTypeArn", t.arn);
        thing_type_members(c->out, &t);
    }
    tc_reg_thing_type_clear(&t);
    return rc;
}

int
h_list_thing_types(struct api_call *c)
{
    struct tc_reg_thing_type_list l = {0};
    struct tc_reg_page page;
    json_t *arr;
    size_t i;
    int rc = api_page(c, "maxResults", "nextToken", 0, &page);

    if (rc == TC_OK) {
        rc = tc_registry_thing_type_list(c->reg,
                                         api_query(c, "thingTypeName"),
                                         &page, &l, &c->d);
    }
    if (rc != TC_OK) {
        return rc;
    }
    arr = json_array();
    for (i = 0; i < l.n; i++) {
        json_t *o = json_pack("{s:s, s:s}", "thingTypeName", l.items[i].name,
                              "thingTypeArn", l.items[i].arn);

        thing_type_members(o, &l.items[i]);
        json_array_append_new(arr, o);
    }
    c->out = json_pack("{s:o}", "thingTypes", arr);
    api_set_str(c->out, "nextToken", l.next);
    tc_reg_thing_type_list_clear(&l);
    return TC_OK;
}

int
h_delete_thing_type(struct api_call *c)
{
    int rc = tc_registry_thing_type_delete(c->reg, c->params[0], &c->d);

    if (rc == TC_OK) {
        c->out = json_object();
    }
    return rc;
}

int
h_deprecate_thing_type(struct api_call *c)
{
    int undo = 0;
    int rc = api_body_bool(c, "undoDeprecate", &undo);

    if (rc == TC_OK) {
        rc = tc_registry_thing_type_deprecate(c->reg, c->params[0], undo,
                                              &c->d);
    }
    if (rc == TC_OK) {
        c->out = json_object();
    }
    return rc;
}

/* The principal header the model sends as x-amzn-principal. */
static int
principal_header(struct api_call *c, const char **out)
{
    *out = api_header(c, "x-amzn-principal");
    if (*out == NULL || (*out)[0] == '\0') {
        return tc_detail_set(&c->d, TC_ERR_API_BAD_REQUEST, -1, "principal",
                             "the x-amzn-principal header is required");
    }
    return TC_OK;
}

int
h_attach_thing_principal(struct api_call *c)
{
    const char *principal;
    const char *type_text = api_query(c, "thingPrincipalType");
    int type = TC_REG_PRINCIPAL_NON_EXCLUSIVE;
    int rc = principal_header(c, &principal);

    if (rc == TC_OK && type_text != NULL) {
        rc = tc_registry_principal_type_parse(type_text, &type, &c->d);
    }
    if (rc == TC_OK) {
        rc = tc_registry_thing_principal_attach(c->reg, c->params[0],
                                                principal, type, &c->d);
    }
    if (rc == TC_OK) {
        c->out = json_object();
    }
    return rc;
}

int
h_detach_thing_principal(struct api_call *c)
{
    const char *principal;
    int rc = principal_header(c, &principal);

    if (rc == TC_OK) {
        rc = tc_registry_thing_principal_detach(c->reg, c->params[0],
                                                principal, &c->d);
    }
    if (rc == TC_OK) {
        c->out = json_object();
    }
    return rc;
}

int
h_list_thing_principals(struct api_call *c)
{
    struct tc_reg_str_list l = {0};
    struct tc_reg_page page;
    int rc = api_page(c, "maxResults", "nextToken", 0, &page);

    if (rc == TC_OK) {
        rc = tc_registry_thing_principal_list(c->reg, c->params[0], &page,
                                              &l, &c->d);
    }
    if (rc == TC_OK) {
        api_str_list_out(c, "principals", "nextToken", &l);
    }
    tc_reg_str_list_clear(&l);
    return rc;
}

int
h_list_principal_things(struct api_call *c)
{
    struct tc_reg_str_list l = {0};
    struct tc_reg_page page;
    const char *principal;
    int rc = principal_header(c, &principal);

    if (rc == TC_OK) {
        rc = api_page(c, "maxResults", "nextToken", 0, &page);
    }
    if (rc == TC_OK) {
        rc = tc_registry_principal_thing_list(c->reg, principal, &page, &l,
                                              &c->d);
    }
    if (rc == TC_OK) {
        api_str_list_out(c, "things", "nextToken", &l);
    }
    tc_reg_str_list_clear(&l);
    return rc;
}
