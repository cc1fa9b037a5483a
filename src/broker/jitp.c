// SPDX-License-Identifier: Apache-2.0
/*
 * Just-in-time provisioning templates: the CloudFormation-like JSON a CA's
 * registrationConfig carries, evaluated for one device certificate into a
 * plan (thing, attributes, policy, certificate status) that the registry
 * applies. It evaluates only; it touches no registry and trusts nothing in
 * the template: every string, list and nesting level is bounded.
 *
 * Grammar accepted (AWS IoT developer guide, "Provisioning templates"):
 *   template  = { "Parameters": { NAME: { "Type": "String",
 *                                         ["Default": STRING] } ... },
 *                 "Resources": { LOGICAL: { "Type": TYPE,
 *                                           "Properties": { ... } } ... } }
 *   TYPE      = "AWS::IoT::Thing" | "AWS::IoT::Certificate"
 *             | "AWS::IoT::Policy"
 *   expr      = STRING | { "Ref": NAME }
 *             | { "Fn::Join": [ STRING, [ expr ... ] ] }
 *             | { "Fn::Select": [ INDEX, list-expr ] }
 *             | { "Fn::Split": [ STRING, expr ] }
 *             | { "Fn::Sub": STRING-with-${NAME} }
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "thingcore/broker.h"
#include "thingcore/json.h"
#include "thingcore/registry.h"
#include "thingcore/util.h"

#define PARAM_PREFIX "AWS::IoT::Certificate::"

struct ctx {
    const json_t *params; /* the template's Parameters, or NULL */
    const struct tc_jitp_params *p;
    struct tc_detail *d;
};

static json_t *eval(struct ctx *c, const json_t *e, const char *path, int depth,
                    int *rc);

/* The certificate's value for a parameter name, or NULL. */
static const char *
cert_value(const struct tc_jitp_params *p, const char *name)
{
    static const struct {
        const char *suffix;
        size_t off;
    } map[] = {
        {"CommonName", offsetof(struct tc_jitp_params, common_name)},
        {"SerialNumber", offsetof(struct tc_jitp_params, serial_number)},
        {"Id", offsetof(struct tc_jitp_params, id)},
        {"Country", offsetof(struct tc_jitp_params, country)},
        {"Organization", offsetof(struct tc_jitp_params, organization)},
        {"OrganizationalUnit",
         offsetof(struct tc_jitp_params, organizational_unit)},
        {"DistinguishedNameQualifier",
         offsetof(struct tc_jitp_params, dn_qualifier)},
        {"StateName", offsetof(struct tc_jitp_params, state_name)},
    };
    size_t i;

    if (strncmp(name, PARAM_PREFIX, strlen(PARAM_PREFIX)) != 0) {
        return NULL;
    }
    name += strlen(PARAM_PREFIX);
    for (i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
        if (strcmp(name, map[i].suffix) == 0) {
            return *(const char *const *)((const char *)p + map[i].off);
        }
    }
    return NULL;
}

/* Ref: the certificate's value, else the parameter's Default. */
static json_t *
ref(struct ctx *c, const char *name, const char *path, int *rc)
{
    const char *v = cert_value(c->p, name);
    const json_t *decl;

    if (v == NULL && c->params != NULL) {
        decl = json_object_get(c->params, name);
        if (json_is_object(decl)) {
            v = tc_json_str(decl, "Default");
        }
    }
    if (v == NULL) {
        *rc = tc_detail_set(c->d, TC_ERR_BROKER_TEMPLATE_PARAM, -1, path,
                            "parameter %.100s has no value", name);
        return NULL;
    }
    if (strlen(v) >= TC_JITP_VALUE_MAX) {
        *rc = tc_detail_set(c->d, TC_ERR_TOO_BIG, -1, path,
                            "value of %.100s too long", name);
        return NULL;
    }
    return json_string(v);
}

static json_t *
bad(struct ctx *c, int *rc, const char *path, const char *what)
{
    *rc = tc_detail_set(c->d, TC_ERR_BROKER_TEMPLATE, -1, path, "%s", what);
    return NULL;
}

/* Evaluate e and require a string. */
static json_t *
eval_str(struct ctx *c, const json_t *e, const char *path, int depth, int *rc)
{
    json_t *v = eval(c, e, path, depth, rc);

    if (v != NULL && !json_is_string(v)) {
        json_decref(v);
        return bad(c, rc, path, "expected a string value");
    }
    return v;
}

/* Fn::Join [sep, [expr...]]: the strings joined, bounded. */
static json_t *
join(struct ctx *c, const json_t *a, const char *path, int depth, int *rc)
{
    const json_t *sep = json_array_get(a, 0);
    const json_t *items = json_array_get(a, 1);
    struct tc_buf b;
    json_t *out = NULL;
    size_t i;

    if (json_array_size(a) != 2 || !json_is_string(sep) ||
        !json_is_array(items)) {
        return bad(c, rc, path, "Fn::Join takes [separator, [values]]");
    }
    tc_buf_init(&b, TC_JITP_VALUE_MAX - 1);
    for (i = 0; i < json_array_size(items); i++) {
        json_t *v = eval(c, json_array_get(items, i), path, depth, rc);
        size_t k;
        int r = TC_OK;

        if (v == NULL) {
            goto cleanup;
        }
        /* A list inside a join contributes each of its strings. */
        if (json_is_array(v)) {
            for (k = 0; r == TC_OK && k < json_array_size(v); k++) {
                if (i + k > 0) {
                    r = tc_buf_append_str(&b, json_string_value(sep));
                }
                if (r == TC_OK) {
                    r = tc_buf_append_str(
                        &b, json_string_value(json_array_get(v, k)));
                }
            }
        } else {
            if (i > 0) {
                r = tc_buf_append_str(&b, json_string_value(sep));
            }
            if (r == TC_OK) {
                r = tc_buf_append_str(&b, json_string_value(v));
            }
        }
        json_decref(v);
        if (r != TC_OK) {
            *rc = tc_detail_set(c->d, r, -1, path, "Fn::Join result too long");
            goto cleanup;
        }
    }
    out = json_stringn(b.len > 0 ? (const char *)b.data : "", b.len);
    if (out == NULL) {
        *rc = TC_ERR_NOMEM;
    }

cleanup:
    tc_buf_clear(&b, 0);
    return out;
}

/* Fn::Split [sep, expr]: a list of at most TC_JITP_LIST_MAX strings. */
static json_t *
split(struct ctx *c, const json_t *a, const char *path, int depth, int *rc)
{
    const json_t *sep = json_array_get(a, 0);
    const char *s;
    const char *hit;
    size_t n;
    json_t *v;
    json_t *list;

    if (json_array_size(a) != 2 || !json_is_string(sep) ||
        json_string_length(sep) == 0) {
        return bad(c, rc, path, "Fn::Split takes [non-empty separator, value]");
    }
    v = eval_str(c, json_array_get(a, 1), path, depth, rc);
    if (v == NULL) {
        return NULL;
    }
    list = json_array();
    s = json_string_value(v);
    n = json_string_length(sep);
    while (list != NULL) {
        hit = strstr(s, json_string_value(sep));
        if (json_array_size(list) >= TC_JITP_LIST_MAX) {
            json_decref(list);
            list = NULL;
            *rc = tc_detail_set(c->d, TC_ERR_TOO_BIG, -1, path,
                                "Fn::Split yields over %d values",
                                TC_JITP_LIST_MAX);
            break;
        }
        if (json_array_append_new(
                list, json_stringn(s, hit != NULL ? (size_t)(hit - s)
                                                  : strlen(s))) != 0) {
            json_decref(list);
            list = NULL;
            *rc = TC_ERR_NOMEM;
            break;
        }
        if (hit == NULL) {
            break;
        }
        s = hit + n;
    }
    json_decref(v);
    return list;
}

/* Fn::Select [index, list-expr]; the index may be a number or digits. */
static json_t *
select_one(struct ctx *c, const json_t *a, const char *path, int depth, int *rc)
{
    const json_t *ix = json_array_get(a, 0);
    json_int_t i = -1;
    json_t *list;
    json_t *out;

    if (json_array_size(a) != 2) {
        return bad(c, rc, path, "Fn::Select takes [index, list]");
    }
    if (json_is_integer(ix)) {
        i = json_integer_value(ix);
    } else if (json_is_string(ix) && json_string_length(ix) > 0 &&
               json_string_length(ix) < 4 &&
               strspn(json_string_value(ix), "0123456789") ==
                   json_string_length(ix)) {
        i = atoi(json_string_value(ix));
    }
    if (i < 0) {
        return bad(c, rc, path, "Fn::Select index must be 0 or more");
    }
    list = eval(c, json_array_get(a, 1), path, depth, rc);
    if (list == NULL) {
        return NULL;
    }
    if (!json_is_array(list) || (size_t)i >= json_array_size(list)) {
        json_decref(list);
        return bad(c, rc, path, "Fn::Select index outside the list");
    }
    out = json_incref(json_array_get(list, (size_t)i));
    json_decref(list);
    return out;
}

/* Fn::Sub "text ${Name} text": each ${Name} replaced by Ref Name. */
static json_t *
sub(struct ctx *c, const json_t *a, const char *path, int *rc)
{
    const char *s = json_string_value(a);
    struct tc_buf b;
    json_t *out = NULL;
    int r = TC_OK;

    if (s == NULL) {
        return bad(c, rc, path, "Fn::Sub takes a string");
    }
    tc_buf_init(&b, TC_JITP_VALUE_MAX - 1);
    while (r == TC_OK && *s != '\0') {
        const char *open = strstr(s, "${");
        const char *close;
        char name[128];
        json_t *v;

        if (open == NULL) {
            r = tc_buf_append_str(&b, s);
            break;
        }
        close = strchr(open, '}');
        if (close == NULL || (size_t)(close - open - 2) >= sizeof(name) ||
            close == open + 2) {
            tc_buf_clear(&b, 0);
            return bad(c, rc, path, "Fn::Sub has a bad ${...}");
        }
        r = tc_buf_append(&b, s, (size_t)(open - s));
        memcpy(name, open + 2, (size_t)(close - open - 2));
        name[close - open - 2] = '\0';
        v = r == TC_OK ? ref(c, name, path, rc) : NULL;
        if (r == TC_OK && v == NULL) {
            tc_buf_clear(&b, 0);
            return NULL;
        }
        if (v != NULL) {
            r = tc_buf_append_str(&b, json_string_value(v));
            json_decref(v);
        }
        s = close + 1;
    }
    if (r != TC_OK) {
        *rc = tc_detail_set(c->d, r, -1, path, "Fn::Sub result too long");
    } else {
        out = json_stringn(b.len > 0 ? (const char *)b.data : "", b.len);
        if (out == NULL) {
            *rc = TC_ERR_NOMEM;
        }
    }
    tc_buf_clear(&b, 0);
    return out;
}

/*
 * Evaluate one expression into a new reference: a string, or an array of
 * strings (only Fn::Split makes those). NULL with *rc set on error.
 */
static json_t *
eval(struct ctx *c, const json_t *e, const char *path, int depth, int *rc)
{
    const char *key;
    const json_t *arg;

    if (depth > TC_JITP_DEPTH_MAX) {
        return bad(c, rc, path, "intrinsic functions nested too deeply");
    }
    if (json_is_string(e)) {
        if (json_string_length(e) >= TC_JITP_VALUE_MAX) {
            *rc = tc_detail_set(c->d, TC_ERR_TOO_BIG, -1, path,
                                "string too long");
            return NULL;
        }
        return json_incref((json_t *)e);
    }
    if (!json_is_object(e) || json_object_size(e) != 1) {
        return bad(c, rc, path, "expected a string or one intrinsic function");
    }
    key = json_object_iter_key(json_object_iter((json_t *)e));
    arg = json_object_iter_value(json_object_iter((json_t *)e));
    if (strcmp(key, "Ref") == 0) {
        if (!json_is_string(arg)) {
            return bad(c, rc, path, "Ref takes a parameter name");
        }
        return ref(c, json_string_value(arg), path, rc);
    }
    if (strcmp(key, "Fn::Sub") == 0) {
        return sub(c, arg, path, rc);
    }
    if (!json_is_array(arg)) {
        return bad(c, rc, path, "unknown intrinsic function");
    }
    if (strcmp(key, "Fn::Join") == 0) {
        return join(c, arg, path, depth + 1, rc);
    }
    if (strcmp(key, "Fn::Split") == 0) {
        return split(c, arg, path, depth + 1, rc);
    }
    if (strcmp(key, "Fn::Select") == 0) {
        return select_one(c, arg, path, depth + 1, rc);
    }
    return bad(c, rc, path, "unknown intrinsic function");
}

/* Evaluate a property that must yield a string; *out handed over. */
static int
prop_str(struct ctx *c, const json_t *props, const char *name, const char *path,
         char **out)
{
    const json_t *e = json_object_get(props, name);
    json_t *v;
    int rc = TC_ERR_INTERNAL;

    *out = NULL;
    if (e == NULL) {
        return TC_OK;
    }
    v = eval_str(c, e, path, 0, &rc);
    if (v == NULL) {
        return rc;
    }
    *out = strdup(json_string_value(v));
    json_decref(v);
    return *out != NULL ? TC_OK : TC_ERR_NOMEM;
}

static int
thing_resource(struct ctx *c, const json_t *props, struct tc_jitp_plan *pl)
{
    const json_t *attrs = json_object_get(props, "AttributePayload");
    const char *k;
    const json_t *e;
    int rc;

    rc = prop_str(c, props, "ThingName", "Resources.thing.ThingName",
                  &pl->thing_name);
    if (rc == TC_OK && pl->thing_name == NULL) {
        rc = tc_detail_set(c->d, TC_ERR_BROKER_TEMPLATE, -1,
                           "Resources.thing.ThingName",
                           "a thing resource needs ThingName");
    }
    if (rc == TC_OK) {
        rc = prop_str(c, props, "ThingTypeName",
                      "Resources.thing.ThingTypeName", &pl->thing_type);
    }
    if (rc != TC_OK || attrs == NULL) {
        return rc;
    }
    if (!json_is_object(attrs) ||
        json_object_size(attrs) > TC_REG_ATTRS_TYPED) {
        return tc_detail_set(c->d, TC_ERR_BROKER_TEMPLATE, -1,
                             "Resources.thing.AttributePayload",
                             "must be an object of at most %d values",
                             TC_REG_ATTRS_TYPED);
    }
    pl->attr_names = calloc(json_object_size(attrs) + 1, sizeof(char *));
    pl->attr_values = calloc(json_object_size(attrs) + 1, sizeof(char *));
    if (pl->attr_names == NULL || pl->attr_values == NULL) {
        return TC_ERR_NOMEM;
    }
    json_object_foreach((json_t *)attrs, k, e)
    {
        json_t *v = eval_str(c, e, "Resources.thing.AttributePayload", 0, &rc);

        if (v == NULL) {
            return rc;
        }
        pl->attr_names[pl->n_attrs] = strdup(k);
        pl->attr_values[pl->n_attrs] = strdup(json_string_value(v));
        json_decref(v);
        pl->n_attrs++;
        if (pl->attr_names[pl->n_attrs - 1] == NULL ||
            pl->attr_values[pl->n_attrs - 1] == NULL) {
            return TC_ERR_NOMEM;
        }
    }
    return TC_OK;
}

/* A name AWS-like for a policy given only by document: its SHA-256. */
static int
hash_name(const char *doc, char **out)
{
    unsigned char md[32];
    unsigned int n = 0;

    if (EVP_Digest(doc, strlen(doc), md, &n, EVP_sha256(), NULL) != 1 ||
        n != sizeof(md)) {
        return TC_ERR_CRYPTO;
    }
    *out = malloc(65);
    if (*out == NULL) {
        return TC_ERR_NOMEM;
    }
    tc_hex_encode(md, sizeof(md), *out, 0);
    (*out)[64] = '\0';
    return TC_OK;
}

static int
policy_resource(struct ctx *c, const json_t *props, struct tc_jitp_plan *pl)
{
    const json_t *doc = json_object_get(props, "PolicyDocument");
    int rc;

    rc = prop_str(c, props, "PolicyName", "Resources.policy.PolicyName",
                  &pl->policy_name);
    if (rc != TC_OK) {
        return rc;
    }
    /* The document is JSON text in a string (AWS) or an inline object. */
    if (json_is_string(doc)) {
        pl->policy_doc = strdup(json_string_value(doc));
    } else if (json_is_object(doc)) {
        pl->policy_doc = json_dumps(doc, JSON_COMPACT);
    } else if (doc != NULL) {
        return tc_detail_set(c->d, TC_ERR_BROKER_TEMPLATE, -1,
                             "Resources.policy.PolicyDocument",
                             "must be a string or an object");
    }
    if (doc != NULL && pl->policy_doc == NULL) {
        return TC_ERR_NOMEM;
    }
    if (pl->policy_name == NULL && pl->policy_doc == NULL) {
        return tc_detail_set(c->d, TC_ERR_BROKER_TEMPLATE, -1,
                             "Resources.policy",
                             "needs PolicyName or PolicyDocument");
    }
    if (pl->policy_name == NULL) {
        return hash_name(pl->policy_doc, &pl->policy_name);
    }
    return TC_OK;
}

static int
cert_resource(struct ctx *c, const json_t *props, struct tc_jitp_plan *pl)
{
    char *status = NULL;
    int rc;

    rc = prop_str(c, props, "Status", "Resources.certificate.Status", &status);
    if (rc == TC_OK && status != NULL) {
        if (strcmp(status, "ACTIVE") == 0) {
            pl->cert_status = TC_REG_CERT_ACTIVE;
        } else if (strcmp(status, "INACTIVE") == 0) {
            pl->cert_status = TC_REG_CERT_INACTIVE;
        } else {
            rc = tc_detail_set(c->d, TC_ERR_BROKER_TEMPLATE, -1,
                               "Resources.certificate.Status",
                               "must be ACTIVE or INACTIVE");
        }
    }
    free(status);
    return rc;
}

int
tc_jitp_evaluate(const char *body, size_t len, const struct tc_jitp_params *p,
                 struct tc_jitp_plan *out, struct tc_detail *d)
{
    struct tc_jitp_plan pl;
    struct ctx c;
    json_t *root = NULL;
    const json_t *res;
    const char *name;
    const json_t *r;
    int rc = TC_ERR_INTERNAL;

    memset(&pl, 0, sizeof(pl));
    memset(out, 0, sizeof(*out));
    pl.cert_status = TC_REG_CERT_ACTIVE;
    root = tc_json_parse(body, len, TC_REG_TEMPLATE_BODY_MAX, 32, &rc, d);
    if (root == NULL) {
        goto cleanup;
    }
    c.params = json_object_get(root, "Parameters");
    c.p = p;
    c.d = d;
    res = json_object_get(root, "Resources");
    if (!json_is_object(root) || !json_is_object(res) ||
        (c.params != NULL && !json_is_object(c.params))) {
        rc = tc_detail_set(d, TC_ERR_BROKER_TEMPLATE, -1, "Resources",
                           "a template is an object with a Resources object");
        goto cleanup;
    }

    /* Each resource by its Type; one of each kind at most. */
    rc = TC_OK;
    json_object_foreach((json_t *)res, name, r)
    {
        const char *type = tc_json_str(r, "Type");
        const json_t *props = json_object_get(r, "Properties");

        if (type == NULL || !json_is_object(props)) {
            rc =
                tc_detail_set(d, TC_ERR_BROKER_TEMPLATE, -1, "Resources",
                              "resource %.64s needs Type and Properties", name);
        } else if (strcmp(type, "AWS::IoT::Thing") == 0 &&
                   pl.thing_name == NULL) {
            rc = thing_resource(&c, props, &pl);
        } else if (strcmp(type, "AWS::IoT::Policy") == 0 &&
                   pl.policy_name == NULL) {
            rc = policy_resource(&c, props, &pl);
        } else if (strcmp(type, "AWS::IoT::Certificate") == 0) {
            rc = cert_resource(&c, props, &pl);
        } else {
            rc = tc_detail_set(d, TC_ERR_BROKER_TEMPLATE, -1, "Resources",
                               "resource %.64s: unsupported or repeated "
                               "type %.64s",
                               name, type);
        }
        if (rc != TC_OK) {
            goto cleanup;
        }
    }
    *out = pl;
    memset(&pl, 0, sizeof(pl));

cleanup:
    tc_jitp_plan_clear(&pl);
    json_decref(root);
    return rc;
}

void
tc_jitp_plan_clear(struct tc_jitp_plan *plan)
{
    size_t i;

    if (plan == NULL) {
        return;
    }
    for (i = 0; i < plan->n_attrs; i++) {
        free(plan->attr_names[i]);
        free(plan->attr_values[i]);
    }
    free(plan->attr_names);
    free(plan->attr_values);
    free(plan->thing_name);
    free(plan->thing_type);
    free(plan->policy_name);
    free(plan->policy_doc);
    memset(plan, 0, sizeof(*plan));
}
