// SPDX-License-Identifier: Apache-2.0
/*
 * Handlers for certificates and CA certificates. Certificate parsing,
 * proof of possession and every status rule live in the registry; this
 * file maps request members and query flags onto its calls and shapes the
 * descriptions as the botocore model names them.
 */
#include <string.h>

#include "api_int.h"

static json_t *
validity(long long not_before, long long not_after)
{
    return json_pack("{s:I, s:I}", "notBefore", (json_int_t)not_before,
                     "notAfter", (json_int_t)not_after);
}

/* Status from a "status" member, "newStatus" query and the like. */
static int
parse_status(struct api_call *c, const char *text, int *out)
{
    return tc_registry_cert_status_parse(text, out, &c->d);
}

static int
register_common(struct api_call *c, int without_ca)
{
    struct tc_reg_cert_register in;
    char id[TC_REG_CERT_ID_LEN];
    char arn[TC_REG_ARN_MAX];
    const char *status = NULL;
    int set_active = 0;
    int rc;

    memset(&in, 0, sizeof(in));
    rc = api_body_str(c, "certificatePem", 1, &in.pem);
    if (rc == TC_OK && !without_ca) {
        rc = api_body_str(c, "caCertificatePem", 0, &in.ca_pem);
    }
    if (rc == TC_OK) {
        rc = api_body_str(c, "status", 0, &status);
    }
    if (rc == TC_OK && !without_ca) {
        rc = api_query_bool(c, "setAsActive", &set_active);
    }
    if (rc == TC_OK && status != NULL) {
        rc = parse_status(c, status, &in.status);
    }
    if (rc != TC_OK) {
        return rc;
    }
    if (set_active && status == NULL) {
        in.status = TC_REG_CERT_ACTIVE;
    }
    in.pem_len = strlen(in.pem);
    in.ca_pem_len = in.ca_pem != NULL ? strlen(in.ca_pem) : 0;
    in.without_ca = without_ca;
    rc = tc_registry_cert_register(c->reg, &in, id, &c->d);
    if (rc == TC_OK) {
        tc_registry_arn(c->reg, "cert", id, arn);
        c->out = json_pack("{s:s, s:s}", "certificateArn", arn,
                           "certificateId", id);
    }
    return rc;
}

int
h_register_certificate(struct api_call *c)
{
    return register_common(c, 0);
}

int
h_register_certificate_without_ca(struct api_call *c)
{
    return register_common(c, 1);
}

int
h_describe_certificate(struct api_call *c)
{
    struct tc_reg_cert cert = {0};
    json_t *desc;
    int rc = tc_registry_cert_describe(c->reg, c->params[0], &cert, &c->d);

    if (rc != TC_OK) {
        return rc;
    }
    desc = json_pack(
        "{s:s, s:s, s:s, s:s, s:s, s:f, s:f, s:i, s:s, s:o, s:s}",
        "certificateArn", cert.arn, "certificateId", cert.id, "status",
        tc_registry_cert_status_name(cert.status), "certificatePem",
        cert.pem != NULL ? cert.pem : "", "ownedBy",
        tc_registry_account(c->reg), "creationDate", cert.creation_date,
        "lastModifiedDate", cert.last_modified_date, "customerVersion",
        cert.customer_version, "generationId", cert.generation_id,
        "validity", validity(cert.not_before, cert.not_after),
        "certificateMode", tc_registry_cert_mode_name(cert.mode));
    api_set_str(desc, "caCertificateId", cert.ca_id);
    c->out = json_pack("{s:o}", "certificateDescription", desc);
    tc_reg_cert_clear(&cert);
    return TC_OK;
}

int
h_update_certificate(struct api_call *c)
{
    const char *s = api_query(c, "newStatus");
    int status = 0;
    int rc;

    if (s == NULL) {
        return tc_detail_set(&c->d, TC_ERR_API_BAD_REQUEST, -1, "newStatus",
                             "newStatus is required");
    }
    rc = parse_status(c, s, &status);
    if (rc == TC_OK) {
        rc = tc_registry_cert_update_status(c->reg, c->params[0], status,
                                            &c->d);
    }
    return rc;
}

int
h_delete_certificate(struct api_call *c)
{
    int force = 0;
    int rc = api_query_bool(c, "forceDelete", &force);

    if (rc == TC_OK) {
        rc = tc_registry_cert_delete(c->reg, c->params[0], force, &c->d);
    }
    return rc;
}

/* {"certificates": [...], "nextMarker": ...} for both certificate lists. */
static void
cert_list_out(struct api_call *c, const struct tc_reg_cert_list *l)
{
    json_t *arr = json_array();
    size_t i;

    for (i = 0; i < l->n; i++) {
        const struct tc_reg_cert *x = &l->items[i];

        json_array_append_new(
            arr, json_pack("{s:s, s:s, s:s, s:s, s:f}", "certificateArn",
                           x->arn, "certificateId", x->id, "status",
                           tc_registry_cert_status_name(x->status),
                           "certificateMode",
                           tc_registry_cert_mode_name(x->mode),
                           "creationDate", x->creation_date));
    }
    c->out = json_pack("{s:o}", "certificates", arr);
    api_set_str(c->out, "nextMarker", l->next);
}

int
h_list_certificates(struct api_call *c)
{
    struct tc_reg_cert_list l = {0};
    struct tc_reg_page page;
    int rc = api_page(c, "pageSize", "marker", 1, &page);

    if (rc == TC_OK) {
        rc = tc_registry_cert_list(c->reg, &page, &l, &c->d);
    }
    if (rc == TC_OK) {
        cert_list_out(c, &l);
    }
    tc_reg_cert_list_clear(&l);
    return rc;
}

int
h_list_certificates_by_ca(struct api_call *c)
{
    struct tc_reg_cert_list l = {0};
    struct tc_reg_page page;
    int rc = api_page(c, "pageSize", "marker", 1, &page);

    if (rc == TC_OK) {
        rc = tc_registry_cert_list_by_ca(c->reg, c->params[0], &page, &l,
                                         &c->d);
    }
    if (rc == TC_OK) {
        cert_list_out(c, &l);
    }
    tc_reg_cert_list_clear(&l);
    return rc;
}

int
h_get_registration_code(struct api_call *c)
{
    char code[TC_REG_CODE_LEN];
    int rc = tc_registry_registration_code(c->reg, code, &c->d);

    if (rc == TC_OK) {
        c->out = json_pack("{s:s}", "registrationCode", code);
    }
    return rc;
}

/* registrationConfig {templateBody, roleArn, templateName}, each optional;
 * *present says whether the member was there at all. */
static int
registration_config(struct api_call *c, const char **body,
                    const char **role, const char **name, int *present)
{
    json_t *rcfg = json_object_get(c->body, "registrationConfig");
    const char *keys[3] = {"templateBody", "roleArn", "templateName"};
    const char **outs[3] = {body, role, name};
    int i;

    *present = 0;
    *body = NULL;
    *role = NULL;
    *name = NULL;
    if (rcfg == NULL || json_is_null(rcfg)) {
        return TC_OK;
    }
    if (!json_is_object(rcfg)) {
        return tc_detail_set(&c->d, TC_ERR_API_BAD_REQUEST, -1,
                             "registrationConfig", "must be an object");
    }
    for (i = 0; i < 3; i++) {
        json_t *v = json_object_get(rcfg, keys[i]);

        if (v != NULL && !json_is_string(v)) {
            return tc_detail_set(&c->d, TC_ERR_API_BAD_REQUEST, -1, keys[i],
                                 "%s must be a string", keys[i]);
        }
        *outs[i] = v != NULL ? json_string_value(v) : NULL;
    }
    *present = 1;
    return TC_OK;
}

int
h_register_ca_certificate(struct api_call *c)
{
    struct tc_reg_ca_register in;
    char id[TC_REG_CERT_ID_LEN];
    char arn[TC_REG_ARN_MAX];
    const char *mode = NULL;
    int present = 0;
    int rc;

    memset(&in, 0, sizeof(in));
    rc = api_body_str(c, "caCertificate", 1, &in.ca_pem);
    if (rc == TC_OK) {
        rc = api_body_str(c, "verificationCertificate", 0,
                          &in.verification_pem);
    }
    if (rc == TC_OK) {
        rc = api_body_str(c, "certificateMode", 0, &mode);
    }
    if (rc == TC_OK && mode != NULL) {
        rc = tc_registry_cert_mode_parse(mode, &in.mode, &c->d);
    }
    if (rc == TC_OK) {
        rc = api_query_bool(c, "setAsActive", &in.set_active);
    }
    if (rc == TC_OK) {
        rc = api_query_bool(c, "allowAutoRegistration",
                            &in.allow_auto_registration);
    }
    if (rc == TC_OK) {
        rc = registration_config(c, &in.template_body, &in.role_arn,
                                 &in.template_name, &present);
    }
    if (rc != TC_OK) {
        return rc;
    }
    in.ca_pem_len = strlen(in.ca_pem);
    in.verification_pem_len =
        in.verification_pem != NULL ? strlen(in.verification_pem) : 0;
    rc = tc_registry_ca_register(c->reg, &in, id, &c->d);
    if (rc == TC_OK) {
        tc_registry_arn(c->reg, "cacert", id, arn);
        c->out = json_pack("{s:s, s:s}", "certificateArn", arn,
                           "certificateId", id);
    }
    return rc;
}

int
h_describe_ca_certificate(struct api_call *c)
{
    struct tc_reg_ca ca = {0};
    json_t *desc;
    int rc = tc_registry_ca_describe(c->reg, c->params[0], &ca, &c->d);

    if (rc != TC_OK) {
        return rc;
    }
    desc = json_pack(
        "{s:s, s:s, s:s, s:s, s:s, s:f, s:s, s:f, s:i, s:s, s:o, s:s}",
        "certificateArn", ca.arn, "certificateId", ca.id, "status",
        tc_registry_cert_status_name(ca.status), "certificatePem",
        ca.pem != NULL ? ca.pem : "", "ownedBy", tc_registry_account(c->reg),
        "creationDate", ca.creation_date, "autoRegistrationStatus",
        ca.auto_registration ? "ENABLE" : "DISABLE", "lastModifiedDate",
        ca.last_modified_date, "customerVersion", ca.customer_version,
        "generationId", ca.generation_id, "validity",
        validity(ca.not_before, ca.not_after), "certificateMode",
        tc_registry_cert_mode_name(ca.mode));
    c->out = json_pack("{s:o}", "certificateDescription", desc);
    if (ca.template_body != NULL || ca.role_arn != NULL ||
        ca.template_name != NULL) {
        json_t *cfg = json_object();

        api_set_str(cfg, "templateBody", ca.template_body);
        api_set_str(cfg, "roleArn", ca.role_arn);
        api_set_str(cfg, "templateName", ca.template_name);
        json_object_set_new(c->out, "registrationConfig", cfg);
    }
    tc_reg_ca_clear(&ca);
    return TC_OK;
}

int
h_update_ca_certificate(struct api_call *c)
{
    struct tc_reg_ca_update u;
    const char *status = api_query(c, "newStatus");
    const char *auto_reg = api_query(c, "newAutoRegistrationStatus");
    int rc = TC_OK;

    tc_reg_ca_update_init(&u);
    if (status != NULL) {
        rc = parse_status(c, status, &u.new_status);
        if (rc == TC_OK && u.new_status != TC_REG_CERT_ACTIVE &&
            u.new_status != TC_REG_CERT_INACTIVE) {
            rc = tc_detail_set(&c->d, TC_ERR_API_BAD_REQUEST, -1,
                               "newStatus", "a CA is ACTIVE or INACTIVE");
        }
    }
    if (rc == TC_OK && auto_reg != NULL) {
        if (strcmp(auto_reg, "ENABLE") == 0) {
            u.new_auto_registration = 1;
        } else if (strcmp(auto_reg, "DISABLE") == 0) {
            u.new_auto_registration = 0;
        } else {
            rc = tc_detail_set(&c->d, TC_ERR_API_BAD_REQUEST, -1,
                               "newAutoRegistrationStatus",
                               "must be ENABLE or DISABLE");
        }
    }
    if (rc == TC_OK) {
        rc = registration_config(c, &u.template_body, &u.role_arn,
                                 &u.template_name, &u.set_config);
    }
    if (rc == TC_OK) {
        rc = api_body_bool(c, "removeAutoRegistration",
                           &u.remove_auto_registration);
    }
    if (rc == TC_OK) {
        rc = tc_registry_ca_update(c->reg, c->params[0], &u, &c->d);
    }
    return rc;
}

int
h_delete_ca_certificate(struct api_call *c)
{
    int rc = tc_registry_ca_delete(c->reg, c->params[0], &c->d);

    if (rc == TC_OK) {
        c->out = json_object();
    }
    return rc;
}

int
h_list_ca_certificates(struct api_call *c)
{
    struct tc_reg_ca_list l = {0};
    struct tc_reg_page page;
    json_t *arr;
    size_t i;
    int rc = api_page(c, "pageSize", "marker", 1, &page);

    if (rc == TC_OK && api_query(c, "templateName") != NULL) {
        rc = tc_detail_set(&c->d, TC_ERR_API_BAD_REQUEST, -1, "templateName",
                           "filtering CA certificates by template is not "
                           "supported by this core");
    }
    if (rc == TC_OK) {
        rc = tc_registry_ca_list(c->reg, &page, &l, &c->d);
    }
    if (rc != TC_OK) {
        return rc;
    }
    arr = json_array();
    for (i = 0; i < l.n; i++) {
        json_array_append_new(
            arr, json_pack("{s:s, s:s, s:s, s:f}", "certificateArn",
                           l.items[i].arn, "certificateId", l.items[i].id,
                           "status",
                           tc_registry_cert_status_name(l.items[i].status),
                           "creationDate", l.items[i].creation_date));
    }
    c->out = json_pack("{s:o}", "certificates", arr);
    api_set_str(c->out, "nextMarker", l.next);
    tc_reg_ca_list_clear(&l);
    return TC_OK;
}
