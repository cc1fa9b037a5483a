// SPDX-License-Identifier: Apache-2.0
/*
 * The registration steps of a Trust&GO device through the control-plane
 * API. Each step first looks at what exists, so a second run changes
 * nothing and reports "already"; each failure says which step, which
 * object and what to do. The last step reads everything back.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "thingcore/cert.h"
#include "thingcore/json.h"
#include "thingcore/policy.h"
#include "thingcore/provision.h"
#include "thingcore/util.h"

#define DOC_MAX 4096

struct run {
    struct tc_apiclient *api;
    const struct tc_provision_device *dev;
    const struct tc_provision_opts *o;
    struct tc_provision_result *res;
    struct tc_detail *d;
    const char *policy;
};

static void
report(struct run *r, const char *step, const char *object,
       enum tc_provision_outcome outcome, const char *note)
{
    if (r->o->report != NULL) {
        r->o->report(r->o->report_ctx, step, object, outcome,
                     note != NULL ? note : "");
    }
}

/* A failed step: report it and fill d with step, object and fix. */
static int
fail(struct run *r, int rc, const char *step, const char *object,
     const char *fix)
{
    char why[sizeof(r->d->text)];

    snprintf(why, sizeof(why), "%s", r->d->text[0] ? r->d->text
                                                    : tc_strerror(rc));
    tc_detail_set(r->d, rc, -1, step, "%s %s: %.150s%s%s", step, object, why,
                  fix != NULL ? "; " : "", fix != NULL ? fix : "");
    report(r, step, object, TC_PROVISION_FAILED, r->d->text);
    return rc;
}

/* One API call; err receives the AWS error of a refused call. */
static int
call(struct run *r, const char *method, const char *path, const char *query,
     const struct tc_sigv4_header *h, size_t nh, const json_t *body,
     json_t **out, struct tc_apiclient_error *err)
{
    struct tc_apiclient_error local;

    if (out != NULL) {
        *out = NULL;
    }
    tc_detail_clear(r->d);
    return tc_apiclient_call(r->api, method, path, query, h, nh, body, out,
                             err != NULL ? err : &local, r->d);
}

/* "arn:aws:iot:REGION:ACCOUNT:..." into res->region and res->account. */
static void
take_region_account(struct run *r, const char *arn)
{
    char copy[320];
    char *fields[6] = {0};
    char *save = NULL;
    char *tok;
    int i = 0;

    snprintf(copy, sizeof(copy), "%s", arn);
    for (tok = strtok_r(copy, ":", &save); tok != NULL && i < 6;
         tok = strtok_r(NULL, ":", &save)) {
        fields[i++] = tok;
    }
    if (i >= 5) {
        snprintf(r->res->region, sizeof(r->res->region), "%s", fields[3]);
        snprintf(r->res->account, sizeof(r->res->account), "%s", fields[4]);
    }
}

static int
step_endpoint(struct run *r)
{
    json_t *out = NULL;
    const char *addr;
    int rc = call(r, "GET", "/endpoint", "endpointType=iot%3AData-ATS", NULL,
                  0, NULL, &out, NULL);

    if (rc != TC_OK) {
        return fail(r, rc, "describe endpoint", "iot:Data-ATS",
                    "is the core running and are the credentials right "
                    "(thingcore env)?");
    }
    addr = tc_json_str(out, "endpointAddress");
    if (addr == NULL || addr[0] == '\0') {
        json_decref(out);
        tc_detail_set(r->d, TC_ERR_API_HTTP, -1, NULL,
                      "no endpointAddress in the answer");
        return fail(r, TC_ERR_API_HTTP, "describe endpoint", "iot:Data-ATS",
                    NULL);
    }
    snprintf(r->res->endpoint, sizeof(r->res->endpoint), "%s", addr);
    report(r, "describe endpoint", addr, TC_PROVISION_CHECKED, NULL);
    json_decref(out);
    return TC_OK;
}

static int
step_thing_type(struct run *r)
{
    const char *name = TC_PROVISION_THING_TYPE;
    char path[128];
    json_t *out = NULL;
    json_t *body = json_object();
    int created = 0;
    int rc;

    snprintf(path, sizeof(path), "/thing-types/%s", name);
    rc = call(r, "GET", path, NULL, NULL, 0, NULL, &out, NULL);
    if (rc == TC_ERR_REG_NOT_FOUND) {
        rc = call(r, "POST", path, NULL, NULL, 0, body, &out, NULL);
        created = rc == TC_OK;
    }
    json_decref(body);
    if (rc != TC_OK) {
        return fail(r, rc, "thing type", name, NULL);
    }
    if (tc_json_str(out, "thingTypeArn") != NULL) {
        take_region_account(r, tc_json_str(out, "thingTypeArn"));
    }
    json_decref(out);
    report(r, "thing type", name,
           created ? TC_PROVISION_DONE : TC_PROVISION_ALREADY, NULL);
    return TC_OK;
}

/* Equal JSON documents, whatever their spacing. */
static int
same_document(const char *a, const char *b)
{
    json_t *ja = json_loads(a, 0, NULL);
    json_t *jb = json_loads(b, 0, NULL);
    int same = ja != NULL && jb != NULL && json_equal(ja, jb);

    json_decref(ja);
    json_decref(jb);
    return same;
}

static int
step_policy(struct run *r)
{
    char doc[DOC_MAX];
    char path[300];
    json_t *out = NULL;
    json_t *body;
    const char *have;
    int rc;

    if (tc_policy_kit_document(r->res->region, r->res->account, doc,
                               sizeof(doc)) != TC_OK) {
        tc_detail_set(r->d, TC_ERR_ARG, -1, NULL,
                      "region '%s' or account '%s' unusable",
                      r->res->region, r->res->account);
        return fail(r, TC_ERR_ARG, "policy", r->policy, NULL);
    }
    snprintf(path, sizeof(path), "/policies/%s", r->policy);
    rc = call(r, "GET", path, NULL, NULL, 0, NULL, &out, NULL);
    if (rc == TC_ERR_REG_NOT_FOUND) {
        body = json_pack("{s:s}", "policyDocument", doc);
        rc = call(r, "POST", path, NULL, NULL, 0, body, NULL, NULL);
        json_decref(body);
        if (rc != TC_OK) {
            return fail(r, rc, "policy", r->policy, NULL);
        }
        report(r, "policy", r->policy, TC_PROVISION_DONE, "version 1");
        return TC_OK;
    }
    if (rc != TC_OK) {
        return fail(r, rc, "policy", r->policy, NULL);
    }
    have = tc_json_str(out, "policyDocument");
    if (have != NULL && same_document(have, doc)) {
        json_decref(out);
        report(r, "policy", r->policy, TC_PROVISION_ALREADY, NULL);
        return TC_OK;
    }
    json_decref(out);
    if (!r->o->update_policy) {
        report(r, "policy", r->policy, TC_PROVISION_ALREADY,
               "its document differs from Kit_Policy and is left as it is "
               "(--update-policy replaces it)");
        return TC_OK;
    }
    snprintf(path, sizeof(path), "/policies/%s/version", r->policy);
    body = json_pack("{s:s}", "policyDocument", doc);
    rc = call(r, "POST", path, "setAsDefault=true", NULL, 0, body, NULL,
              NULL);
    json_decref(body);
    if (rc != TC_OK) {
        return fail(r, rc, "policy", r->policy,
                    rc == TC_ERR_REG_VERSIONS_LIMIT
                        ? "delete old versions (aws iot "
                          "delete-policy-version) and run again"
                        : NULL);
    }
    report(r, "policy", r->policy, TC_PROVISION_DONE,
           "new default version with the Kit_Policy document");
    return TC_OK;
}

/* The device certificate's id: lower-case hex SHA-256 of its DER. */
static int
certificate_id(struct run *r, char *out)
{
    X509 *x = NULL;
    unsigned char *der = NULL;
    uint8_t md[32];
    unsigned int mdlen = 32;
    int len;
    int rc = tc_cert_x509_from_pem(r->dev->device_pem,
                                   strlen(r->dev->device_pem), &x, r->d);

    if (rc != TC_OK) {
        return rc;
    }
    len = i2d_X509(x, &der);
    X509_free(x);
    if (len <= 0 || !EVP_Digest(der, (size_t)len, md, &mdlen, EVP_sha256(),
                                NULL)) {
        OPENSSL_free(der);
        return TC_ERR_CRYPTO;
    }
    OPENSSL_free(der);
    tc_hex_encode(md, 32, out, 0);
    return TC_OK;
}

static int
describe_certificate(struct run *r, const char *id, char *status,
                     size_t cap)
{
    char path[128];
    json_t *out = NULL;
    json_t *desc;
    int rc;

    snprintf(path, sizeof(path), "/certificates/%s", id);
    rc = call(r, "GET", path, NULL, NULL, 0, NULL, &out, NULL);
    if (rc != TC_OK) {
        return rc;
    }
    desc = json_object_get(out, "certificateDescription");
    snprintf(status, cap, "%s",
             tc_json_str(desc, "status") ? tc_json_str(desc, "status") : "");
    if (tc_json_str(desc, "certificateArn") != NULL) {
        snprintf(r->res->certificate_arn, sizeof(r->res->certificate_arn),
                 "%s", tc_json_str(desc, "certificateArn"));
    }
    json_decref(out);
    return TC_OK;
}

static int
step_certificate(struct run *r, char *status, size_t cap)
{
    struct tc_buf chain;
    json_t *body;
    json_t *out = NULL;
    int rc = certificate_id(r, r->res->certificate_id);

    if (rc != TC_OK) {
        return fail(r, rc, "certificate", "device", NULL);
    }
    rc = describe_certificate(r, r->res->certificate_id, status, cap);
    if (rc == TC_OK) {
        report(r, "certificate", r->res->certificate_id, TC_PROVISION_ALREADY,
               status);
        return TC_OK;
    }
    if (rc != TC_ERR_REG_NOT_FOUND) {
        return fail(r, rc, "certificate", r->res->certificate_id, NULL);
    }

    /*
     * Registered with its chain, as the lesson's handler does, and the
     * root it was verified to, so a broker can complete the chain to a
     * self-signed anchor.
     */
    tc_buf_init(&chain, 1 << 16);
    tc_buf_append_str(&chain, r->dev->device_pem);
    tc_buf_append_str(&chain, r->dev->signer_pem);
    if (r->dev->root_pem != NULL) {
        tc_buf_append_str(&chain, r->dev->root_pem);
    }
    body = json_pack("{s:s,s:s}", "certificatePem", (char *)chain.data,
                     "status", "ACTIVE");
    rc = call(r, "POST", "/certificate/register-no-ca", NULL, NULL, 0, body,
              &out, NULL);
    json_decref(body);
    tc_buf_clear(&chain, 0);
    if (rc != TC_OK) {
        return fail(r, rc, "certificate", r->res->certificate_id, NULL);
    }
    if (tc_json_str(out, "certificateArn") != NULL) {
        snprintf(r->res->certificate_arn, sizeof(r->res->certificate_arn),
                 "%s", tc_json_str(out, "certificateArn"));
    }
    json_decref(out);
    snprintf(status, cap, "ACTIVE");
    report(r, "certificate", r->res->certificate_id, TC_PROVISION_DONE,
           "registered without CA, ACTIVE");
    return TC_OK;
}

/* Whether policy name is among those attached to the certificate. */
static int
policy_attached(struct run *r, int *attached)
{
    char path[400];
    char target[320];
    json_t *out = NULL;
    json_t *list;
    json_t *p;
    size_t i;
    int rc;

    *attached = 0;
    if (tc_apiclient_escape(r->res->certificate_arn, target,
                            sizeof(target)) != TC_OK) {
        return TC_ERR_TOO_BIG;
    }
    snprintf(path, sizeof(path), "/attached-policies/%s", target);
    rc = call(r, "POST", path, "pageSize=250", NULL, 0, NULL, &out, NULL);
    if (rc != TC_OK) {
        return rc;
    }
    list = json_object_get(out, "policies");
    json_array_foreach(list, i, p)
    {
        const char *name = tc_json_str(p, "policyName");

        if (name != NULL && strcmp(name, r->policy) == 0) {
            *attached = 1;
        }
    }
    json_decref(out);
    return TC_OK;
}

static int
step_attach_policy(struct run *r)
{
    char path[300];
    json_t *body;
    int attached = 0;
    int rc = policy_attached(r, &attached);

    if (rc == TC_OK && attached) {
        report(r, "attach policy", r->policy, TC_PROVISION_ALREADY, NULL);
        return TC_OK;
    }
    if (rc == TC_OK) {
        snprintf(path, sizeof(path), "/target-policies/%s", r->policy);
        body = json_pack("{s:s}", "target", r->res->certificate_arn);
        rc = call(r, "PUT", path, NULL, NULL, 0, body, NULL, NULL);
        json_decref(body);
    }
    if (rc != TC_OK) {
        return fail(r, rc, "attach policy", r->policy, NULL);
    }
    report(r, "attach policy", r->policy, TC_PROVISION_DONE,
           "to the certificate");
    return TC_OK;
}

static int
step_activate(struct run *r, const char *status)
{
    char path[128];
    int rc;

    if (strcmp(status, "ACTIVE") == 0) {
        report(r, "activate certificate", r->res->certificate_id,
               TC_PROVISION_ALREADY, "ACTIVE");
        return TC_OK;
    }
    if (strcmp(status, "REVOKED") == 0) {
        tc_detail_set(r->d, TC_ERR_REG_CERT_STATE, -1, NULL,
                      "the certificate is REVOKED");
        return fail(r, TC_ERR_REG_CERT_STATE, "activate certificate",
                    r->res->certificate_id,
                    "a revoked certificate can never be activated again; "
                    "this chip cannot be registered on this core");
    }
    snprintf(path, sizeof(path), "/certificates/%s", r->res->certificate_id);
    rc = call(r, "PUT", path, "newStatus=ACTIVE", NULL, 0, NULL, NULL, NULL);
    if (rc != TC_OK) {
        return fail(r, rc, "activate certificate", r->res->certificate_id,
                    NULL);
    }
    report(r, "activate certificate", r->res->certificate_id,
           TC_PROVISION_DONE, status);
    return TC_OK;
}

static int
step_thing(struct run *r)
{
    const char *name = r->dev->thing_name;
    char path[200];
    json_t *out = NULL;
    json_t *body;
    const char *type;
    int rc;

    snprintf(path, sizeof(path), "/things/%s", name);
    rc = call(r, "GET", path, NULL, NULL, 0, NULL, &out, NULL);
    if (rc == TC_OK) {
        type = tc_json_str(out, "thingTypeName");
        if (tc_json_str(out, "thingArn") != NULL) {
            snprintf(r->res->thing_arn, sizeof(r->res->thing_arn), "%s",
                     tc_json_str(out, "thingArn"));
        }
        if (type == NULL || strcmp(type, TC_PROVISION_THING_TYPE) != 0) {
            tc_detail_set(r->d, TC_ERR_REG_CONFLICTING_UPDATE, -1, NULL,
                          "the thing exists with thing type '%s'",
                          type != NULL ? type : "(none)");
            json_decref(out);
            return fail(r, TC_ERR_REG_CONFLICTING_UPDATE, "thing", name,
                        "set its type with aws iot update-thing "
                        "--thing-type-name " TC_PROVISION_THING_TYPE);
        }
        json_decref(out);
        report(r, "thing", name, TC_PROVISION_ALREADY, NULL);
        return TC_OK;
    }
    if (rc != TC_ERR_REG_NOT_FOUND) {
        return fail(r, rc, "thing", name, NULL);
    }
    body = json_pack("{s:s}", "thingTypeName", TC_PROVISION_THING_TYPE);
    rc = call(r, "POST", path, NULL, NULL, 0, body, &out, NULL);
    json_decref(body);
    if (rc != TC_OK) {
        return fail(r, rc, "thing", name, NULL);
    }
    if (tc_json_str(out, "thingArn") != NULL) {
        snprintf(r->res->thing_arn, sizeof(r->res->thing_arn), "%s",
                 tc_json_str(out, "thingArn"));
    }
    json_decref(out);
    report(r, "thing", name, TC_PROVISION_DONE,
           "thing type " TC_PROVISION_THING_TYPE);
    return TC_OK;
}

static int
principal_attached(struct run *r, int *attached)
{
    char path[200];
    json_t *out = NULL;
    json_t *p;
    size_t i;
    int rc;

    *attached = 0;
    snprintf(path, sizeof(path), "/things/%s/principals", r->dev->thing_name);
    rc = call(r, "GET", path, NULL, NULL, 0, NULL, &out, NULL);
    if (rc != TC_OK) {
        return rc;
    }
    json_array_foreach(json_object_get(out, "principals"), i, p)
    {
        if (json_is_string(p) &&
            strcmp(json_string_value(p), r->res->certificate_arn) == 0) {
            *attached = 1;
        }
    }
    json_decref(out);
    return TC_OK;
}

static int
step_attach_principal(struct run *r)
{
    struct tc_sigv4_header h = {"x-amzn-principal", r->res->certificate_arn};
    char path[200];
    int attached = 0;
    int rc = principal_attached(r, &attached);

    if (rc == TC_OK && attached) {
        report(r, "attach thing principal", r->dev->thing_name,
               TC_PROVISION_ALREADY, NULL);
        return TC_OK;
    }
    if (rc == TC_OK) {
        snprintf(path, sizeof(path), "/things/%s/principals",
                 r->dev->thing_name);
        rc = call(r, "PUT", path, NULL, &h, 1, NULL, NULL, NULL);
    }
    if (rc != TC_OK) {
        return fail(r, rc, "attach thing principal", r->dev->thing_name,
                    NULL);
    }
    report(r, "attach thing principal", r->dev->thing_name,
           TC_PROVISION_DONE, "the certificate");
    return TC_OK;
}

/* Read back what MAR made and compare with what was meant. */
static int
step_verify_mar(struct run *r)
{
    char status[32];
    int policy = 0;
    int principal = 0;
    int rc = describe_certificate(r, r->res->certificate_id, status,
                                  sizeof(status));

    if (rc == TC_OK) {
        rc = policy_attached(r, &policy);
    }
    if (rc == TC_OK) {
        rc = principal_attached(r, &principal);
    }
    if (rc != TC_OK) {
        return fail(r, rc, "read back", r->dev->thing_name, NULL);
    }
    if (strcmp(status, "ACTIVE") != 0 || !policy || !principal) {
        tc_detail_set(r->d, TC_ERR_INTERNAL, -1, NULL,
                      "certificate %s, policy %s, principal %s", status,
                      policy ? "attached" : "missing",
                      principal ? "attached" : "missing");
        return fail(r, TC_ERR_INTERNAL, "read back", r->dev->thing_name,
                    "run the command again");
    }
    report(r, "read back", r->dev->thing_name, TC_PROVISION_CHECKED,
           "certificate ACTIVE, policy and thing attached");
    return TC_OK;
}

/* ---- JITR / JITP ---- */

static const char jitp_template[] =
    "{\"Parameters\":{"
    "\"AWS::IoT::Certificate::CommonName\":{\"Type\":\"String\"},"
    "\"AWS::IoT::Certificate::Id\":{\"Type\":\"String\"}},"
    "\"Resources\":{"
    "\"thing\":{\"Type\":\"AWS::IoT::Thing\",\"Properties\":{"
    "\"ThingName\":{\"Fn::Select\":[1,{\"Fn::Split\":[\"sn\","
    "{\"Ref\":\"AWS::IoT::Certificate::CommonName\"}]}]},"
    "\"ThingTypeName\":\"" TC_PROVISION_THING_TYPE "\"}},"
    "\"certificate\":{\"Type\":\"AWS::IoT::Certificate\",\"Properties\":{"
    "\"CertificateId\":{\"Ref\":\"AWS::IoT::Certificate::Id\"},"
    "\"Status\":\"ACTIVE\"}},"
    "\"policy\":{\"Type\":\"AWS::IoT::Policy\",\"Properties\":{"
    "\"PolicyName\":\"" TC_PROVISION_POLICY "\"}}}}";

const char *
tc_provision_jitp_template(void)
{
    return jitp_template;
}

/*
 * Register a CA certificate in SNI_ONLY mode (no proof of possession: the
 * manufacturer's key is not ours), or bring an existing registration to
 * the wanted state.
 */
static int
step_ca(struct run *r, const char *label, const char *pem, int auto_reg,
        const char *template_body, char *id_out)
{
    struct tc_apiclient_error err;
    json_t *body;
    json_t *out = NULL;
    json_t *desc;
    char path[128];
    char query[128];
    const char *st;
    const char *ar;
    const char *tb;
    int rc;

    body = json_pack("{s:s,s:s}", "caCertificate", pem, "certificateMode",
                     "SNI_ONLY");
    if (template_body != NULL) {
        json_object_set_new(body, "registrationConfig",
                            json_pack("{s:s}", "templateBody",
                                      template_body));
    }
    snprintf(query, sizeof(query), "setAsActive=true&allowAutoRegistration=%s",
             auto_reg ? "true" : "false");
    memset(&err, 0, sizeof(err));
    rc = call(r, "POST", "/cacertificate", query, NULL, 0, body, &out, &err);
    if (rc == TC_OK) {
        snprintf(id_out, 65, "%s",
                 tc_json_str(out, "certificateId") != NULL
                     ? tc_json_str(out, "certificateId")
                     : "");
        json_decref(out);
        json_decref(body);
        report(r, label, id_out, TC_PROVISION_DONE,
               auto_reg ? "ACTIVE, auto-registration on" : "ACTIVE");
        return TC_OK;
    }
    if (rc != TC_ERR_REG_ALREADY_EXISTS || err.resource_id[0] == '\0') {
        json_decref(body);
        return fail(r, rc, label, "CA certificate", NULL);
    }

    /* Already registered: is it as wanted? */
    snprintf(id_out, 65, "%.64s", err.resource_id);
    snprintf(path, sizeof(path), "/cacertificate/%s", id_out);
    rc = call(r, "GET", path, NULL, NULL, 0, NULL, &out, NULL);
    if (rc != TC_OK) {
        json_decref(body);
        return fail(r, rc, label, id_out, NULL);
    }
    desc = json_object_get(out, "certificateDescription");
    st = tc_json_str(desc, "status");
    ar = tc_json_str(desc, "autoRegistrationStatus");
    tb = tc_json_str(json_object_get(desc, "registrationConfig"),
                     "templateBody");
    if (st != NULL && strcmp(st, "ACTIVE") == 0 &&
        (!auto_reg || (ar != NULL && strcmp(ar, "ENABLE") == 0)) &&
        (template_body == NULL ||
         (tb != NULL && same_document(tb, template_body)))) {
        json_decref(out);
        json_decref(body);
        report(r, label, id_out, TC_PROVISION_ALREADY, NULL);
        return TC_OK;
    }
    json_decref(out);
    snprintf(query, sizeof(query), "newStatus=ACTIVE%s",
             auto_reg ? "&newAutoRegistrationStatus=ENABLE" : "");
    {
        json_t *upd = json_object();

        if (template_body != NULL) {
            json_object_set(upd, "registrationConfig",
                            json_object_get(body, "registrationConfig"));
        }
        rc = call(r, "PUT", path, query, NULL, 0, upd, NULL, NULL);
        json_decref(upd);
    }
    json_decref(body);
    if (rc != TC_OK) {
        return fail(r, rc, label, id_out, NULL);
    }
    report(r, label, id_out, TC_PROVISION_ALREADY,
           "made ACTIVE with the wanted settings");
    return TC_OK;
}

static void
run_init(struct run *r, struct tc_apiclient *api,
         const struct tc_provision_device *dev,
         const struct tc_provision_opts *o, struct tc_provision_result *res,
         struct tc_detail *d)
{
    memset(res, 0, sizeof(*res));
    r->api = api;
    r->dev = dev;
    r->o = o;
    r->res = res;
    r->d = d;
    r->policy = o->policy_name != NULL ? o->policy_name : TC_PROVISION_POLICY;
}

/* What every device of the core shares: endpoint, thing type, policy. */
static int
shared_steps(struct run *r)
{
    int rc = step_endpoint(r);

    if (rc == TC_OK) {
        rc = step_thing_type(r);
    }
    if (rc == TC_OK) {
        rc = step_policy(r);
    }
    return rc;
}

int
tc_provision_prepare(struct tc_apiclient *api,
                     const struct tc_provision_opts *o,
                     struct tc_provision_result *res, struct tc_detail *d)
{
    struct tc_detail local;
    struct run r;

    run_init(&r, api, NULL, o, res, d != NULL ? d : &local);
    return shared_steps(&r);
}

int
tc_provision_register(struct tc_apiclient *api,
                      const struct tc_provision_device *dev,
                      const struct tc_provision_opts *o,
                      struct tc_provision_result *res, struct tc_detail *d)
{
    struct tc_detail local;
    struct run r;
    char status[32] = "";
    char root_id[65];
    int rc;

    run_init(&r, api, dev, o, res, d != NULL ? d : &local);
    rc = shared_steps(&r);
    if (rc != TC_OK || o->mode != TC_PROVISION_MAR) {
        if (rc == TC_OK) {
            rc = step_ca(&r, "root CA", dev->root_pem, 0, NULL, root_id);
        }
        if (rc == TC_OK) {
            rc = step_ca(&r, "signer CA", dev->signer_pem, 1,
                         o->mode == TC_PROVISION_JITP ? jitp_template : NULL,
                         res->ca_certificate_id);
        }
        return rc;
    }
    rc = step_certificate(&r, status, sizeof(status));
    if (rc == TC_OK) {
        rc = step_attach_policy(&r);
    }
    if (rc == TC_OK) {
        rc = step_activate(&r, status);
    }
    if (rc == TC_OK) {
        rc = step_thing(&r);
    }
    if (rc == TC_OK) {
        rc = step_attach_principal(&r);
    }
    if (rc == TC_OK) {
        rc = step_verify_mar(&r);
    }
    return rc;
}

int
tc_provision_registration_code(struct tc_apiclient *api, char *out,
                               size_t cap, struct tc_detail *d)
{
    struct tc_apiclient_error err;
    json_t *ans = NULL;
    const char *code;
    int rc = tc_apiclient_call(api, "GET", "/registrationcode", NULL, NULL, 0,
                               NULL, &ans, &err, d);

    if (rc != TC_OK) {
        return rc;
    }
    code = tc_json_str(ans, "registrationCode");
    if (code == NULL || strlen(code) >= cap) {
        json_decref(ans);
        return tc_detail_set(d, TC_ERR_API_HTTP, -1, NULL,
                             "no usable registrationCode in the answer");
    }
    snprintf(out, cap, "%s", code);
    json_decref(ans);
    return TC_OK;
}
