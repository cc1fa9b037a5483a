// SPDX-License-Identifier: Apache-2.0
/*
 * BulkRegister, a thingcore extension and not an AWS IoT operation: a
 * batch of devices registered in one registry transaction, each with
 * per-entry results, so a manifest of thousands of chips is imported in
 * seconds rather than five signed calls per device. It only reads the
 * request and writes the answer; the registry applies the rules.
 *
 * Request (POST /thingcore/bulk-register, SigV4 like every route):
 *   { "thingTypeName": NAME, "policyName": NAME,
 *     "chains": [ PEM, ... ],                        optional, at most 16
 *     "devices": [ { "thingName": NAME,
 *                    "certificatePem": PEM,          device certificate
 *                    "chain": INDEX }, ... ] }       optional, into chains
 * A device's certificate is registered with chains[INDEX] as its chain,
 * so a batch carries its signer certificate once rather than per device
 * (and the core parses it once).
 * Answer:
 *   { "results": [ { "thingName", "certificateId",
 *                    "status": "REGISTERED" | "ALREADY_PRESENT" |
 *                              "REJECTED",
 *                    "errorCode", "message" } ... ],   (rejected only)
 *     "registered": N, "alreadyPresent": N, "rejected": N }
 */
#include <stdlib.h>
#include <string.h>

#include "h_bulk.h"

#define CHAINS_MAX 16

/* A string member of o, NUL-free; NULL (and c->d filled) otherwise. */
static const char *
member(struct api_call *c, json_t *o, const char *key, size_t i)
{
    json_t *v = json_object_get(o, key);

    if (!json_is_string(v) ||
        strlen(json_string_value(v)) != json_string_length(v)) {
        tc_detail_set(&c->d, TC_ERR_API_BAD_REQUEST, -1, key,
                      "devices[%zu].%s must be a string without NUL", i,
                      key);
        return NULL;
    }
    return json_string_value(v);
}

/* chains: an optional array of PEM strings. */
static int
read_chains(struct api_call *c, const char **chains, size_t *n)
{
    json_t *arr = json_object_get(c->body, "chains");
    json_t *v;
    size_t i;

    *n = 0;
    if (arr == NULL || json_is_null(arr)) {
        return TC_OK;
    }
    if (!json_is_array(arr) || json_array_size(arr) > CHAINS_MAX) {
        return tc_detail_set(&c->d, TC_ERR_API_BAD_REQUEST, -1, "chains",
                             "chains must be an array of at most %d PEM "
                             "strings",
                             CHAINS_MAX);
    }
    json_array_foreach(arr, i, v)
    {
        if (!json_is_string(v) ||
            strlen(json_string_value(v)) != json_string_length(v) ||
            json_string_length(v) > TC_REG_PEM_MAX) {
            return tc_detail_set(&c->d, TC_ERR_API_BAD_REQUEST, -1,
                                 "chains", "chains[%zu] must be a PEM string "
                                           "of at most %d bytes",
                                 i, TC_REG_PEM_MAX);
        }
        chains[i] = json_string_value(v);
    }
    *n = json_array_size(arr);
    return TC_OK;
}

/* devices[i] into e; pointers borrowed from the body. */
static int
read_device(struct api_call *c, json_t *o, size_t i, const char **chains,
            size_t nchains, struct tc_reg_bulk_entry *e)
{
    json_t *idx;
    const char *cert;

    if (!json_is_object(o)) {
        return tc_detail_set(&c->d, TC_ERR_API_BAD_REQUEST, -1, "devices",
                             "devices[%zu] must be an object", i);
    }
    e->thing_name = member(c, o, "thingName", i);
    cert = member(c, o, "certificatePem", i);
    if (e->thing_name == NULL || cert == NULL) {
        return TC_ERR_API_BAD_REQUEST;
    }
    e->cert_pem = cert;
    e->cert_pem_len = strlen(cert);
    idx = json_object_get(o, "chain");
    if (idx != NULL && !json_is_null(idx)) {
        if (!json_is_integer(idx) || json_integer_value(idx) < 0 ||
            (size_t)json_integer_value(idx) >= nchains) {
            return tc_detail_set(&c->d, TC_ERR_API_BAD_REQUEST, -1, "chain",
                                 "devices[%zu].chain must index chains "
                                 "(0 to %zu)",
                                 i, nchains > 0 ? nchains - 1 : 0);
        }

        /* The same pointer for every device: parsed once per batch. */
        e->chain_pem = chains[json_integer_value(idx)];
        e->chain_pem_len = strlen(e->chain_pem);
    }
    return TC_OK;
}

static const char *const status_names[] = {
    [TC_REG_BULK_REJECTED] = "REJECTED",
    [TC_REG_BULK_REGISTERED] = "REGISTERED",
    [TC_REG_BULK_ALREADY] = "ALREADY_PRESENT",
};

/* The answer: one result per device, in request order, and the counts. */
static json_t *
answer(const struct tc_reg_bulk_entry *e, const struct tc_reg_bulk_result *r,
       size_t n)
{
    json_t *list = json_array();
    size_t counts[3] = {0, 0, 0};
    size_t i;

    for (i = 0; i < n; i++) {
        json_t *o = json_pack("{s:s, s:s}", "thingName", e[i].thing_name,
                              "status", status_names[r[i].outcome]);

        api_set_str(o, "certificateId", r[i].cert_id);
        if (r[i].outcome == TC_REG_BULK_REJECTED) {
            const char *type = NULL;
            int status = 0;

            api_error_for(r[i].err, &type, &status);
            api_set_str(o, "errorCode", type);
            api_set_str(o, "message", r[i].reason);
        }
        json_array_append_new(list, o);
        counts[r[i].outcome]++;
    }
    return json_pack("{s:o, s:I, s:I, s:I}", "results", list, "registered",
                     (json_int_t)counts[TC_REG_BULK_REGISTERED],
                     "alreadyPresent", (json_int_t)counts[TC_REG_BULK_ALREADY],
                     "rejected", (json_int_t)counts[TC_REG_BULK_REJECTED]);
}

int
h_bulk_register(struct api_call *c)
{
    struct tc_reg_bulk_entry *entries = NULL;
    struct tc_reg_bulk_result *results = NULL;
    const char *chains[CHAINS_MAX];
    const char *type = NULL;
    const char *policy = NULL;
    json_t *devices = json_object_get(c->body, "devices");
    size_t nchains = 0;
    size_t n = 0;
    size_t i;
    int rc = api_body_str(c, "thingTypeName", 1, &type);

    if (rc == TC_OK) {
        rc = api_body_str(c, "policyName", 1, &policy);
    }
    if (rc == TC_OK) {
        rc = read_chains(c, chains, &nchains);
    }
    if (rc == TC_OK && (!json_is_array(devices) ||
                        json_array_size(devices) == 0 ||
                        json_array_size(devices) > TC_REG_BULK_MAX)) {
        rc = tc_detail_set(&c->d, TC_ERR_API_BAD_REQUEST, -1, "devices",
                           "devices must be an array of 1 to %d objects",
                           TC_REG_BULK_MAX);
    }
    if (rc != TC_OK) {
        return rc;
    }
    n = json_array_size(devices);
    entries = calloc(n, sizeof(*entries));
    results = calloc(n, sizeof(*results));
    if (entries == NULL || results == NULL) {
        rc = tc_detail_set(&c->d, TC_ERR_NOMEM, -1, "devices", "no memory");
        goto cleanup;
    }
    for (i = 0; rc == TC_OK && i < n; i++) {
        rc = read_device(c, json_array_get(devices, i), i, chains, nchains,
                         &entries[i]);
    }
    if (rc == TC_OK) {
        rc = tc_registry_bulk_register(c->reg, type, policy, entries, n,
                                       results, &c->d);
    }
    if (rc == TC_OK) {
        c->out = answer(entries, results, n);
        if (c->out == NULL) {
            rc = tc_detail_set(&c->d, TC_ERR_NOMEM, -1, "results",
                               "no memory");
        }
    }

cleanup:
    free(entries);
    free(results);
    return rc;
}
