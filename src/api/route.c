// SPDX-License-Identifier: Apache-2.0
/*
 * The route table (method and path template of every operation, from the
 * botocore model's requestUri values) and the one table that turns a
 * thingcore error code into an AWS exception name and HTTP status.
 */
#include <stdlib.h>
#include <string.h>

#include "api_int.h"
#include "h_bulk.h"
#include "thingcore/apiclient.h"

const struct api_route api_routes[] = {
    {"POST", "/things/{}", "CreateThing", h_create_thing},
    {"GET", "/things/{}", "DescribeThing", h_describe_thing},
    {"GET", "/things", "ListThings", h_list_things},
    {"PATCH", "/things/{}", "UpdateThing", h_update_thing},
    {"DELETE", "/things/{}", "DeleteThing", h_delete_thing},
    {"POST", "/thing-types/{}", "CreateThingType", h_create_thing_type},
    {"GET", "/thing-types/{}", "DescribeThingType", h_describe_thing_type},
    {"GET", "/thing-types", "ListThingTypes", h_list_thing_types},
    {"DELETE", "/thing-types/{}", "DeleteThingType", h_delete_thing_type},
    {"POST", "/thing-types/{}/deprecate", "DeprecateThingType",
     h_deprecate_thing_type},
    {"PUT", "/things/{}/principals", "AttachThingPrincipal",
     h_attach_thing_principal},
    {"DELETE", "/things/{}/principals", "DetachThingPrincipal",
     h_detach_thing_principal},
    {"GET", "/things/{}/principals", "ListThingPrincipals",
     h_list_thing_principals},
    {"GET", "/principals/things", "ListPrincipalThings",
     h_list_principal_things},

    {"POST", "/certificate/register", "RegisterCertificate",
     h_register_certificate},
    {"POST", "/certificate/register-no-ca", "RegisterCertificateWithoutCA",
     h_register_certificate_without_ca},
    {"GET", "/certificates/{}", "DescribeCertificate",
     h_describe_certificate},
    {"PUT", "/certificates/{}", "UpdateCertificate", h_update_certificate},
    {"DELETE", "/certificates/{}", "DeleteCertificate",
     h_delete_certificate},
    {"GET", "/certificates", "ListCertificates", h_list_certificates},
    {"GET", "/certificates-by-ca/{}", "ListCertificatesByCA",
     h_list_certificates_by_ca},
    {"GET", "/registrationcode", "GetRegistrationCode",
     h_get_registration_code},
    {"POST", "/cacertificate", "RegisterCACertificate",
     h_register_ca_certificate},
    {"GET", "/cacertificate/{}", "DescribeCACertificate",
     h_describe_ca_certificate},
    {"PUT", "/cacertificate/{}", "UpdateCACertificate",
     h_update_ca_certificate},
    {"DELETE", "/cacertificate/{}", "DeleteCACertificate",
     h_delete_ca_certificate},
    {"GET", "/cacertificates", "ListCACertificates",
     h_list_ca_certificates},

    {"POST", "/policies/{}", "CreatePolicy", h_create_policy},
    {"GET", "/policies/{}", "GetPolicy", h_get_policy},
    {"DELETE", "/policies/{}", "DeletePolicy", h_delete_policy},
    {"GET", "/policies", "ListPolicies", h_list_policies},
    {"POST", "/policies/{}/version", "CreatePolicyVersion",
     h_create_policy_version},
    {"GET", "/policies/{}/version/{}", "GetPolicyVersion",
     h_get_policy_version},
    {"GET", "/policies/{}/version", "ListPolicyVersions",
     h_list_policy_versions},
    {"DELETE", "/policies/{}/version/{}", "DeletePolicyVersion",
     h_delete_policy_version},
    {"PATCH", "/policies/{}/version/{}", "SetDefaultPolicyVersion",
     h_set_default_policy_version},
    {"PUT", "/target-policies/{}", "AttachPolicy", h_attach_policy},
    {"POST", "/target-policies/{}", "DetachPolicy", h_detach_policy},
    {"POST", "/attached-policies/{}", "ListAttachedPolicies",
     h_list_attached_policies},
    {"POST", "/policy-targets/{}", "ListTargetsForPolicy",
     h_list_targets_for_policy},

    {"GET", "/endpoint", "DescribeEndpoint", h_describe_endpoint},
    {"POST", "/provisioning-templates", "CreateProvisioningTemplate",
     h_create_provisioning_template},
    {"GET", "/provisioning-templates/{}", "DescribeProvisioningTemplate",
     h_describe_provisioning_template},
    {"GET", "/provisioning-templates", "ListProvisioningTemplates",
     h_list_provisioning_templates},
    {"DELETE", "/provisioning-templates/{}", "DeleteProvisioningTemplate",
     h_delete_provisioning_template},
    {"POST", "/thingcore/bulk-register", "BulkRegister", h_bulk_register},
    {NULL, NULL, NULL, NULL},
};

static int
hexval(char ch)
{
    if (ch >= '0' && ch <= '9') {
        return ch - '0';
    }
    if (ch >= 'a' && ch <= 'f') {
        return ch - 'a' + 10;
    }
    if (ch >= 'A' && ch <= 'F') {
        return ch - 'A' + 10;
    }
    return -1;
}

/* Percent-decode one path segment into a new string. A malformed escape
 * or an encoded NUL makes the segment unusable (NULL). */
static char *
decode_segment(const char *s, size_t n)
{
    char *out = malloc(n + 1);
    size_t i;
    size_t o = 0;

    if (out == NULL) {
        return NULL;
    }
    for (i = 0; i < n; i++) {
        if (s[i] != '%') {
            out[o++] = s[i];
            continue;
        }
        if (i + 2 >= n) {
            free(out);
            return NULL;
        }
        if (hexval(s[i + 1]) < 0 || hexval(s[i + 2]) < 0 ||
            (s[i + 1] == '0' && s[i + 2] == '0')) {
            free(out);
            return NULL;
        }
        out[o++] = (char)(hexval(s[i + 1]) * 16 + hexval(s[i + 2]));
        i += 2;
    }
    out[o] = '\0';
    return out;
}

/* Whether path matches template tpl; captured segments go into c. */
static int
match(const char *tpl, const char *path, struct api_call *c)
{
    const char *t = tpl;
    const char *p = path;

    c->n_params = 0;
    while (*t != '\0' && *p != '\0') {
        size_t tl;
        size_t pl;

        if (*t != '/' || *p != '/') {
            return 0;
        }
        t++;
        p++;
        tl = strcspn(t, "/");
        pl = strcspn(p, "/");
        if (tl == 2 && t[0] == '{' && t[1] == '}') {
            if (pl == 0 || c->n_params == API_PARAMS_MAX) {
                return 0;
            }
            c->params[c->n_params] = decode_segment(p, pl);
            if (c->params[c->n_params] == NULL) {
                return 0;
            }
            c->n_params++;
        } else if (tl != pl || strncmp(t, p, tl) != 0) {
            return 0;
        }
        t += tl;
        p += pl;
    }
    return *t == '\0' && *p == '\0';
}

static void
drop_params(struct api_call *c)
{
    size_t i;

    for (i = 0; i < c->n_params; i++) {
        free(c->params[i]);
        c->params[i] = NULL;
    }
    c->n_params = 0;
}

const struct api_route *
api_route_find(const char *method, const char *path, struct api_call *c,
               int *path_known)
{
    const struct api_route *r;

    *path_known = 0;
    for (r = api_routes; r->method != NULL; r++) {
        if (!match(r->path, path, c)) {
            drop_params(c);
            continue;
        }
        *path_known = 1;
        if (strcmp(r->method, method) == 0) {
            return r;
        }
        drop_params(c);
    }
    return NULL;
}

/* Every code the API can meet, once. Codes not listed are internal
 * failures: the client learns nothing it could misuse. */
static const struct {
    int err;
    const char *type;
    int status;
} errors[] = {
    {TC_ERR_REG_NOT_FOUND, "ResourceNotFoundException", 404},
    {TC_ERR_REG_ALREADY_EXISTS, "ResourceAlreadyExistsException", 409},
    {TC_ERR_REG_DELETE_CONFLICT, "DeleteConflictException", 409},
    {TC_ERR_REG_CERT_STATE, "CertificateStateException", 406},
    {TC_ERR_REG_CERT_VALIDATION, "CertificateValidationException", 400},
    {TC_ERR_REG_VERSIONS_LIMIT, "VersionsLimitExceededException", 409},
    {TC_ERR_REG_CODE_VALIDATION, "RegistrationCodeValidationException", 400},
    {TC_ERR_REG_MALFORMED_POLICY, "MalformedPolicyException", 400},
    {TC_ERR_REG_INVALID_REQUEST, "InvalidRequestException", 400},
    {TC_ERR_REG_VERSION_CONFLICT, "VersionConflictException", 409},
    {TC_ERR_REG_CONFLICTING_UPDATE, "ConflictingResourceUpdateException",
     409},
    {TC_ERR_REG_LIMIT_EXCEEDED, "LimitExceededException", 410},
    /* The first row of a type is the code a client maps it back to. */
    {TC_ERR_API_SIGNATURE, "UnauthorizedException", 401},
    {TC_ERR_API_UNSIGNED, "UnauthorizedException", 401},
    {TC_ERR_API_AUTH_HEADER, "UnauthorizedException", 401},
    {TC_ERR_API_UNKNOWN_KEY, "UnauthorizedException", 401},
    {TC_ERR_API_CLOCK_SKEW, "UnauthorizedException", 401},
    {TC_ERR_API_SCOPE, "UnauthorizedException", 401},
    {TC_ERR_API_PAYLOAD_HASH, "UnauthorizedException", 401},
    {TC_ERR_API_NO_ROUTE, "UnknownOperationException", 404},
    {TC_ERR_API_BAD_REQUEST, "InvalidRequestException", 400},
    {TC_ERR_API_HTTP, "InvalidRequestException", 400},
    {TC_ERR_PARSE, "InvalidRequestException", 400},
    {TC_ERR_JSON_DEPTH, "InvalidRequestException", 400},
    {TC_ERR_API_BODY_TOO_BIG, "RequestEntityTooLargeException", 413},
};

void
api_error_for(int err, const char **type, int *status)
{
    size_t i;

    for (i = 0; i < sizeof(errors) / sizeof(errors[0]); i++) {
        if (errors[i].err == err) {
            *type = errors[i].type;
            *status = errors[i].status;
            return;
        }
    }
    *type = "InternalFailureException";
    *status = 500;
}

int
tc_api_error_code(const char *type)
{
    size_t i;

    for (i = 0; i < sizeof(errors) / sizeof(errors[0]); i++) {
        if (strcmp(errors[i].type, type) == 0) {
            return errors[i].err;
        }
    }
    if (strcmp(type, "InternalFailureException") == 0) {
        return TC_ERR_INTERNAL;
    }
    return TC_ERR_API_REMOTE;
}
