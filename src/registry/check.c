// SPDX-License-Identifier: Apache-2.0
/*
 * Checks on names and attribute payloads that arrive from API requests,
 * and the enum names of the AWS model. The patterns are the model's
 * (botocore iot 2015-05-28):
 *   ThingName, ThingTypeName   [a-zA-Z0-9:_-]+        1..128
 *   PolicyName                 [\w+=,.@-]+            1..128
 *   TemplateName               ^[0-9A-Za-z_-]+$       1..36
 *   AttributeName              [a-zA-Z0-9_.,@/:#-]+   1..128
 *   AttributeValue             [a-zA-Z0-9_.,@/:#=\[\]-]*  0..800
 * Nothing here touches the database.
 */
#include <stdlib.h>
#include <string.h>

#include "regpriv.h"
#include "thingcore/json.h"

static int
alnum(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c >= '0' && c <= '9');
}

/* Check s against length bounds and a set of extra characters. */
static int
check_chars(const char *s, size_t min, size_t max, const char *extra,
            const char *field, const char *what, struct tc_detail *d)
{
    size_t n;
    size_t i;

    if (s == NULL) {
        return tc_detail_set(d, TC_ERR_REG_INVALID_REQUEST, -1, field,
                             "%s is missing", what);
    }
    n = strlen(s);
    if (n < min || n > max) {
        return tc_detail_set(d, TC_ERR_REG_INVALID_REQUEST, -1, field,
                             "%s must be %zu to %zu characters, not %zu", what,
                             min, max, n);
    }
    for (i = 0; i < n; i++) {
        if (!alnum(s[i]) && strchr(extra, s[i]) == NULL) {
            return tc_detail_set(d, TC_ERR_REG_INVALID_REQUEST, (long)i, field,
                                 "%s may not hold the character 0x%02x at "
                                 "offset %zu",
                                 what, (unsigned char)s[i], i);
        }
    }
    return TC_OK;
}

int
tc_registry_check_thing_name(const char *s, const char *field,
                             struct tc_detail *d)
{
    return check_chars(s, 1, 128, ":_-", field != NULL ? field : "thingName",
                       "a thing or thing type name", d);
}

int
tc_registry_check_policy_name(const char *s, struct tc_detail *d)
{
    return check_chars(s, 1, 128, "_+=,.@-", "policyName", "a policy name", d);
}

int
tc_registry_check_template_name(const char *s, struct tc_detail *d)
{
    return check_chars(s, 1, TC_REG_TEMPLATE_NAME_MAX - 1, "_-", "templateName",
                       "a template name", d);
}

int
tc_registry_check_attr_name(const char *s, struct tc_detail *d)
{
    return check_chars(s, 1, TC_REG_ATTR_NAME_MAX, "_.,@/:#-", "attributes",
                       "an attribute name", d);
}

int
tc_registry_check_attr_value(const char *s, struct tc_detail *d)
{
    return check_chars(s, 0, TC_REG_ATTR_VALUE_MAX, "_.,@/:#=[]-", "attributes",
                       "an attribute value", d);
}

void
tc_reg_attrs_clear(struct tc_reg_attrs *a)
{
    size_t i;

    if (a == NULL) {
        return;
    }
    for (i = 0; i < a->n; i++) {
        free(a->v[i].name);
        free(a->v[i].value);
    }
    free(a->v);
    a->v = NULL;
    a->n = 0;
}

int
tc_registry_attrs_from_json(const json_t *obj, struct tc_reg_attrs *out,
                            struct tc_detail *d)
{
    const char *key;
    json_t *val;
    int ret = TC_ERR_INTERNAL;

    out->v = NULL;
    out->n = 0;
    if (!json_is_object(obj)) {
        return tc_detail_set(d, TC_ERR_REG_INVALID_REQUEST, -1, "attributes",
                             "attributes must be a JSON object");
    }
    if (json_object_size(obj) > TC_REG_ATTRS_TYPED) {
        return tc_detail_set(d, TC_ERR_REG_INVALID_REQUEST, -1, "attributes",
                             "at most %d attributes, not %zu",
                             TC_REG_ATTRS_TYPED, json_object_size(obj));
    }

    /* json_object_foreach wants a non-const object; it does not change it. */
    json_object_foreach((json_t *)obj, key, val)
    {
        struct tc_reg_attr *a;

        ret = tc_registry_check_attr_name(key, d);
        if (ret != TC_OK) {
            goto cleanup;
        }
        if (!json_is_string(val)) {
            ret = tc_detail_set(d, TC_ERR_REG_INVALID_REQUEST, -1, "attributes",
                                "the value of attribute %.128s is not a "
                                "string",
                                key);
            goto cleanup;
        }
        ret = tc_registry_check_attr_value(json_string_value(val), d);
        if (ret != TC_OK) {
            if (d != NULL) {
                snprintf(d->field, sizeof(d->field), "%.63s", key);
            }
            goto cleanup;
        }
        a = reg_list_push((void **)&out->v, &out->n, sizeof(*a));
        if (a == NULL) {
            ret = tc_detail_set(d, TC_ERR_NOMEM, -1, "attributes", "no memory");
            goto cleanup;
        }
        a->name = strdup(key);
        a->value = strdup(json_string_value(val));
        if (a->name == NULL || a->value == NULL) {
            ret = tc_detail_set(d, TC_ERR_NOMEM, -1, "attributes", "no memory");
            goto cleanup;
        }
    }
    ret = TC_OK;

cleanup:
    if (ret != TC_OK) {
        tc_reg_attrs_clear(out);
    }
    return ret;
}

int
reg_check_json_object(const char *text, size_t max, const char *field,
                      struct tc_detail *d)
{
    json_t *j;
    int err = TC_ERR_INTERNAL;
    int ret;

    if (text == NULL) {
        return tc_detail_set(d, TC_ERR_REG_INVALID_REQUEST, -1, field,
                             "%s is missing", field);
    }
    j = tc_json_parse(text, strlen(text), max, 32, &err, d);
    if (j == NULL) {
        ret = err == TC_ERR_NOMEM ? err : TC_ERR_REG_INVALID_REQUEST;
        if (d != NULL) {
            char why[sizeof(d->text)];

            snprintf(why, sizeof(why), "%s", d->text);
            tc_detail_set(d, ret, d->offset, field, "%s is not valid JSON: %s",
                          field, why);
        }
        return ret;
    }
    ret = json_is_object(j)
              ? TC_OK
              : tc_detail_set(d, TC_ERR_REG_INVALID_REQUEST, -1, field,
                              "%s must be a JSON object", field);
    json_decref(j);
    return ret;
}

/* ---- enum names ---- */

static const char *const status_names[] = {
    "",
    "ACTIVE",
    "INACTIVE",
    "REVOKED",
    "PENDING_TRANSFER",
    "REGISTER_INACTIVE",
    "PENDING_ACTIVATION",
};

#define NSTATUS ((int)(sizeof(status_names) / sizeof(status_names[0])))

const char *
tc_registry_cert_status_name(int status)
{
    if (status < 1 || status >= NSTATUS) {
        return "";
    }
    return status_names[status];
}

int
tc_registry_cert_status_parse(const char *s, int *out, struct tc_detail *d)
{
    int i;

    for (i = 1; s != NULL && i < NSTATUS; i++) {
        if (strcmp(s, status_names[i]) == 0) {
            *out = i;
            return TC_OK;
        }
    }
    return tc_detail_set(d, TC_ERR_REG_INVALID_REQUEST, -1, "status",
                         "unknown certificate status %.64s",
                         s != NULL ? s : "(none)");
}

const char *
tc_registry_cert_mode_name(int mode)
{
    return mode == TC_REG_MODE_SNI_ONLY ? "SNI_ONLY" : "DEFAULT";
}

int
tc_registry_cert_mode_parse(const char *s, int *out, struct tc_detail *d)
{
    if (s != NULL && strcmp(s, "DEFAULT") == 0) {
        *out = TC_REG_MODE_DEFAULT;
        return TC_OK;
    }
    if (s != NULL && strcmp(s, "SNI_ONLY") == 0) {
        *out = TC_REG_MODE_SNI_ONLY;
        return TC_OK;
    }
    return tc_detail_set(d, TC_ERR_REG_INVALID_REQUEST, -1, "certificateMode",
                         "unknown certificate mode %.64s",
                         s != NULL ? s : "(none)");
}

int
tc_registry_principal_type_parse(const char *s, int *out, struct tc_detail *d)
{
    if (s != NULL && strcmp(s, "EXCLUSIVE_THING") == 0) {
        *out = TC_REG_PRINCIPAL_EXCLUSIVE;
        return TC_OK;
    }
    if (s != NULL && strcmp(s, "NON_EXCLUSIVE_THING") == 0) {
        *out = TC_REG_PRINCIPAL_NON_EXCLUSIVE;
        return TC_OK;
    }
    return tc_detail_set(
        d, TC_ERR_REG_INVALID_REQUEST, -1, "thingPrincipalType",
        "unknown thing principal type %.64s", s != NULL ? s : "(none)");
}

const char *
tc_registry_template_type_name(int type)
{
    return type == TC_REG_TEMPLATE_JITP ? "JITP" : "FLEET_PROVISIONING";
}

int
tc_registry_template_type_parse(const char *s, int *out, struct tc_detail *d)
{
    if (s != NULL && strcmp(s, "JITP") == 0) {
        *out = TC_REG_TEMPLATE_JITP;
        return TC_OK;
    }
    if (s != NULL && strcmp(s, "FLEET_PROVISIONING") == 0) {
        *out = TC_REG_TEMPLATE_FLEET_PROVISIONING;
        return TC_OK;
    }
    return tc_detail_set(d, TC_ERR_REG_INVALID_REQUEST, -1, "type",
                         "unknown template type %.64s",
                         s != NULL ? s : "(none)");
}

/* ---- list and object clear functions ---- */

void
tc_reg_str_list_clear(struct tc_reg_str_list *l)
{
    size_t i;

    if (l == NULL) {
        return;
    }
    for (i = 0; i < l->n; i++) {
        free(l->items[i]);
    }
    free(l->items);
    memset(l, 0, sizeof(*l));
}
