/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Inside the API: the per-request call state handlers work on, the route
 * table and the error table. Handlers read path parameters, query
 * parameters, headers and the JSON body from the call, call the registry,
 * and leave a JSON object in call->out or return an error code.
 */
#ifndef THINGCORE_API_INT_H
#define THINGCORE_API_INT_H

#include <jansson.h>

#include "thingcore/api.h"
#include "thingcore/registry.h"

#define API_PARAMS_MAX 4
#define API_QUERY_MAX 32
#define API_VALUE_MAX 2048

struct api_kv {
    char *key;
    char *value;
};

/* One request being handled. Everything is freed by the dispatcher. */
struct api_call {
    struct tc_api *api;
    struct tc_registry *reg;
    const struct tc_api_request *req;
    char *params[API_PARAMS_MAX]; /* decoded path parameters */
    size_t n_params;
    struct api_kv query[API_QUERY_MAX];
    size_t n_query;
    json_t *body;   /* the parsed body object, or an empty object */
    json_t *out;    /* the response object a handler sets (owned) */
    int status;     /* 200 unless a handler says otherwise */
    struct tc_detail d;
};

typedef int (*api_handler_fn)(struct api_call *c);

struct api_route {
    const char *method;
    const char *path;       /* template: "{}" matches one segment */
    const char *operation;
    api_handler_fn handler;
};

/* The route table (terminated by a NULL method) and lookup. */
extern const struct api_route api_routes[];
const struct api_route *api_route_find(const char *method, const char *path,
                                       struct api_call *c, int *path_known);

/* The one error table: code to exception name and HTTP status. */
void api_error_for(int err, const char **type, int *status);

/* Accessors that fill c->d and return TC_ERR_API_BAD_REQUEST when a value
 * is present but malformed. */
const char *api_query(const struct api_call *c, const char *key);
const char *api_header(const struct api_call *c, const char *name);
int api_query_bool(struct api_call *c, const char *key, int *out);
int api_query_int(struct api_call *c, const char *key, long long lo,
                  long long hi, int *present, long long *out);
int api_body_str(struct api_call *c, const char *key, int required,
                 const char **out);
int api_body_bool(struct api_call *c, const char *key, int *out);
int api_page(struct api_call *c, const char *limit_key,
             const char *token_key, int has_order, struct tc_reg_page *page);

/* c->out = {"<key>": [strings], "<next_key>": token} from l. */
void api_str_list_out(struct api_call *c, const char *key,
                      const char *next_key, const struct tc_reg_str_list *l);

/* Add a string member, or nothing when v is NULL or "". */
void api_set_str(json_t *o, const char *key, const char *v);

/* The handlers, one per operation, grouped by file. */
int h_create_thing(struct api_call *c);
int h_describe_thing(struct api_call *c);
int h_list_things(struct api_call *c);
int h_update_thing(struct api_call *c);
int h_delete_thing(struct api_call *c);
int h_create_thing_type(struct api_call *c);
int h_describe_thing_type(struct api_call *c);
int h_list_thing_types(struct api_call *c);
int h_delete_thing_type(struct api_call *c);
int h_deprecate_thing_type(struct api_call *c);
int h_attach_thing_principal(struct api_call *c);
int h_detach_thing_principal(struct api_call *c);
int h_list_thing_principals(struct api_call *c);
int h_list_principal_things(struct api_call *c);

int h_register_certificate(struct api_call *c);
int h_register_certificate_without_ca(struct api_call *c);
int h_describe_certificate(struct api_call *c);
int h_update_certificate(struct api_call *c);
int h_delete_certificate(struct api_call *c);
int h_list_certificates(struct api_call *c);
int h_list_certificates_by_ca(struct api_call *c);
int h_get_registration_code(struct api_call *c);
int h_register_ca_certificate(struct api_call *c);
int h_describe_ca_certificate(struct api_call *c);
int h_update_ca_certificate(struct api_call *c);
int h_delete_ca_certificate(struct api_call *c);
int h_list_ca_certificates(struct api_call *c);

int h_create_policy(struct api_call *c);
int h_get_policy(struct api_call *c);
int h_delete_policy(struct api_call *c);
int h_list_policies(struct api_call *c);
int h_create_policy_version(struct api_call *c);
int h_get_policy_version(struct api_call *c);
int h_list_policy_versions(struct api_call *c);
int h_delete_policy_version(struct api_call *c);
int h_set_default_policy_version(struct api_call *c);
int h_attach_policy(struct api_call *c);
int h_detach_policy(struct api_call *c);
int h_list_attached_policies(struct api_call *c);
int h_list_targets_for_policy(struct api_call *c);

int h_describe_endpoint(struct api_call *c);
int h_create_provisioning_template(struct api_call *c);
int h_describe_provisioning_template(struct api_call *c);
int h_list_provisioning_templates(struct api_call *c);
int h_delete_provisioning_template(struct api_call *c);

/* The data directory the API serves (for DescribeEndpoint). */
const struct tc_datadir *api_datadir(const struct tc_api *api);

#endif
