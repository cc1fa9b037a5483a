/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The registry: things, thing types, certificates, CA certificates, policies
 * with versions, policy attachments, thing principals and provisioning
 * templates, with the rules AWS IoT applies to them, plus an append-only
 * event log that followers (the broker plugin) read to learn of changes.
 * It stores; it does not speak HTTP, parse request bodies beyond attribute
 * maps, or decide whether a policy allows an action.
 *
 * Storage is one SQLite file (WAL, foreign keys, busy timeout, schema
 * migrations run on open). Callers see only this header, so a PostgreSQL
 * backend can replace the code in src/registry without changing them.
 *
 * Handles. A struct tc_registry is used by one thread at a time: open one
 * handle per thread (opening an existing file is cheap), or serialize calls.
 * Any number of handles and processes may share one file; every write runs
 * in one BEGIN IMMEDIATE transaction (retried on SQLITE_BUSY), so a
 * multi-step operation is applied whole or not at all, together with its
 * event log rows.
 *
 * Identity. The registry stores its region and account in its meta table.
 * On first open they are "us-east-1" and a random 12-digit account;
 * tc_registry_set_identity changes them (before objects exist, normally at
 * `thingcore up` time). ARNs are built from them:
 *   arn:aws:iot:<region>:<account>:thing/<name>, cert/<id>, cacert/<id>,
 *   policy/<name>, thingtype/<name>, provisioningtemplate/<name>.
 *
 * Actor. tc_registry_set_actor names who makes the following changes (the
 * access key id of the API request, "broker" for the plugin); it is copied
 * into every event log row.
 *
 * Ownership. Output structs are caller-owned storage that a function fills;
 * their fixed arrays need nothing, their char * members are heap copies the
 * matching _clear function frees (clear accepts a zeroed or already cleared
 * struct, and leaves it zeroed). Input pointers are borrowed for the call.
 * On error an output struct is left zeroed (nothing to free, but clearing
 * it is harmless).
 *
 * Errors, and the AWS exception the API returns for each
 * (x-amzn-ErrorType, HTTP status):
 *   TC_ERR_REG_NOT_FOUND           ResourceNotFoundException          404
 *   TC_ERR_REG_ALREADY_EXISTS      ResourceAlreadyExistsException     409
 *       (resourceId/resourceArn: tc_registry_conflict_id/_arn)
 *   TC_ERR_REG_DELETE_CONFLICT     DeleteConflictException            409
 *   TC_ERR_REG_CERT_STATE          CertificateStateException          406
 *   TC_ERR_REG_CERT_VALIDATION     CertificateValidationException     400
 *   TC_ERR_REG_VERSIONS_LIMIT      VersionsLimitExceededException     409
 *   TC_ERR_REG_CODE_VALIDATION     RegistrationCodeValidationException 400
 *   TC_ERR_REG_MALFORMED_POLICY    MalformedPolicyException           400
 *   TC_ERR_REG_INVALID_REQUEST     InvalidRequestException            400
 *   TC_ERR_REG_VERSION_CONFLICT    VersionConflictException           409
 *   TC_ERR_REG_CONFLICTING_UPDATE  ConflictingResourceUpdateException 409
 *       (the database stayed busy past every retry)
 *   TC_ERR_REG_LIMIT_EXCEEDED      LimitExceededException             410
 *   TC_ERR_REG_DB, TC_ERR_REG_SCHEMA, TC_ERR_NOMEM, anything else:
 *                                  InternalFailureException           500
 * The detail's text is the message for the body; its field names the
 * argument at fault.
 *
 * Limitations: no thing groups, billing groups, tags, jobs or indexing;
 * thing types can be deleted right after deprecation (AWS waits five
 * minutes); policy targets are certificate ARNs only; a list's next token
 * is a position, so rows inserted before it during paging can be missed.
 */
#ifndef THINGCORE_REGISTRY_H
#define THINGCORE_REGISTRY_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "thingcore/err.h"

struct tc_registry;

/* Sizes, including the terminating NUL where they size a char array. */
#define TC_REG_NAME_MAX 129         /* thing, thing type, policy names: 128 */
#define TC_REG_TEMPLATE_NAME_MAX 37 /* provisioning template names: 36 */
#define TC_REG_CERT_ID_LEN 65       /* 64 lower-case hex digits */
#define TC_REG_UUID_LEN 37          /* 8-4-4-4-12 */
#define TC_REG_ARN_MAX 320
#define TC_REG_TOKEN_MAX 352     /* next token / marker, base64 text */
#define TC_REG_VERSION_ID_MAX 21 /* policy version id, decimal */
#define TC_REG_ACTOR_MAX 129
#define TC_REG_REGION_MAX 33
#define TC_REG_ACCOUNT_LEN 13 /* 12 digits */
#define TC_REG_CODE_LEN 65    /* registration code, 64 hex */

#define TC_REG_ATTR_NAME_MAX 128
#define TC_REG_ATTR_VALUE_MAX 800
#define TC_REG_ATTRS_UNTYPED 3   /* attributes of a thing without a type */
#define TC_REG_ATTRS_TYPED 50    /* attributes of a thing with a type */
#define TC_REG_POLICY_VERSIONS 5 /* versions a policy keeps at most */
#define TC_REG_POLICIES_PER_TARGET 10
#define TC_REG_POLICY_DOC_MAX 2048 /* characters, whitespace not counted */
#define TC_REG_PEM_MAX 65536
#define TC_REG_TEMPLATE_BODY_MAX 10240
#define TC_REG_PAGE_MAX 250     /* pageSize / maxResults upper bound */
#define TC_REG_PAGE_DEFAULT 250 /* when the caller passes 0 */

/* ------------------------------------------------------------------ */
/* Handle */

/*
 * Open the registry file at path (borrowed), creating it and running every
 * pending schema migration. *out receives a handle the caller frees with
 * tc_registry_close. TC_ERR_REG_SCHEMA if the file was written by a newer
 * schema; TC_ERR_REG_DB (detail names the path) if it cannot be opened.
 */
int tc_registry_open(const char *path, struct tc_registry **out,
                     struct tc_detail *d);

/* Close and free (NULL accepted). */
void tc_registry_close(struct tc_registry *reg);

/* Actor for the following changes (copied; NULL or "" means "local"). */
void tc_registry_set_actor(struct tc_registry *reg, const char *actor);

/*
 * Store region (1-32 of [a-z0-9-]) and account (12 digits) in the meta
 * table. Either may be NULL to keep the stored one. TC_ERR_ARG if malformed.
 */
int tc_registry_set_identity(struct tc_registry *reg, const char *region,
                             const char *account, struct tc_detail *d);

/* The stored region and account; borrowed, valid until close. */
const char *tc_registry_region(const struct tc_registry *reg);
const char *tc_registry_account(const struct tc_registry *reg);

/*
 * After a call returned TC_ERR_REG_ALREADY_EXISTS: the existing object's id
 * (certificate id, thing name, ...) and ARN, for the exception's resourceId
 * and resourceArn. Borrowed, valid until the next call on reg; "" otherwise.
 */
const char *tc_registry_conflict_id(const struct tc_registry *reg);
const char *tc_registry_conflict_arn(const struct tc_registry *reg);

/*
 * Build an ARN: type is "thing", "cert", "cacert", "policy", "thingtype" or
 * "provisioningtemplate"; out (borrowed) holds TC_REG_ARN_MAX bytes.
 */
void tc_registry_arn(const struct tc_registry *reg, const char *type,
                     const char *name, char out[TC_REG_ARN_MAX]);

/* ------------------------------------------------------------------ */
/* Validation of names and attribute payloads (untrusted input) */

/* Each returns TC_OK or TC_ERR_REG_INVALID_REQUEST naming field in d. */
int tc_registry_check_thing_name(const char *s, const char *field,
                                 struct tc_detail *d); /* also type names */
int tc_registry_check_policy_name(const char *s, struct tc_detail *d);
int tc_registry_check_template_name(const char *s, struct tc_detail *d);
int tc_registry_check_attr_name(const char *s, struct tc_detail *d);
int tc_registry_check_attr_value(const char *s, struct tc_detail *d);

/*
 * Validate a policy document (doc, len bytes, borrowed) the way
 * CreatePolicy does: TC_OK or TC_ERR_REG_MALFORMED_POLICY naming the
 * field at fault.
 */
int tc_registry_check_policy_document(const char *doc, size_t len,
                                      struct tc_detail *d);

/* One thing attribute. Ownership depends on the struct holding it. */
struct tc_reg_attr {
    char *name;
    char *value;
};

/* A list of attributes; owned (tc_reg_attrs_clear frees) when filled here. */
struct tc_reg_attrs {
    struct tc_reg_attr *v;
    size_t n;
};

void tc_reg_attrs_clear(struct tc_reg_attrs *a);

/*
 * Turn the "attributes" object of an attributePayload (obj, borrowed) into
 * out (caller clears). Every key and value is checked: a value must be a
 * string; "" is kept (it means "remove" when merging). At most
 * TC_REG_ATTRS_TYPED entries. TC_ERR_REG_INVALID_REQUEST names the key.
 */
int tc_registry_attrs_from_json(const json_t *obj, struct tc_reg_attrs *out,
                                struct tc_detail *d);

/* ------------------------------------------------------------------ */
/* Pagination: every list takes a page and fills a next token */

struct tc_reg_page {
    int limit;         /* 1..TC_REG_PAGE_MAX; 0 = TC_REG_PAGE_DEFAULT */
    const char *token; /* marker / nextToken from a previous page, or NULL */
    int descending;    /* isAscendingOrder=false where the API has it */
};

/*
 * A list of strings (principal ARNs, thing names, target ARNs, PEMs). items
 * and each string are owned; next is "" on the last page.
 */
struct tc_reg_str_list {
    char **items;
    size_t n;
    char next[TC_REG_TOKEN_MAX];
};

void tc_reg_str_list_clear(struct tc_reg_str_list *l);

/* ------------------------------------------------------------------ */
/* Thing types */

struct tc_reg_thing_type {
    char name[TC_REG_NAME_MAX];
    char id[TC_REG_UUID_LEN];
    char arn[TC_REG_ARN_MAX];
    char *description;              /* owned; NULL when none */
    struct tc_reg_attrs searchable; /* owned; names only (value NULL) */
    int deprecated;
    double deprecation_date; /* epoch seconds; 0 when not deprecated */
    double creation_date;
};

void tc_reg_thing_type_clear(struct tc_reg_thing_type *t);

struct tc_reg_thing_type_list {
    struct tc_reg_thing_type *items;
    size_t n;
    char next[TC_REG_TOKEN_MAX];
};

void tc_reg_thing_type_list_clear(struct tc_reg_thing_type_list *l);

/*
 * CreateThingType. description may be NULL; searchable names (borrowed,
 * n of them) are checked as attribute names. Same name with the same
 * description: success (idempotent); otherwise TC_ERR_REG_ALREADY_EXISTS.
 * out (optional) receives the stored type.
 */
int tc_registry_thing_type_create(struct tc_registry *reg, const char *name,
                                  const char *description,
                                  const char *const *searchable, size_t n,
                                  struct tc_reg_thing_type *out,
                                  struct tc_detail *d);

int tc_registry_thing_type_describe(struct tc_registry *reg, const char *name,
                                    struct tc_reg_thing_type *out,
                                    struct tc_detail *d);

/* DeprecateThingType; undo != 0 undeprecates. */
int tc_registry_thing_type_deprecate(struct tc_registry *reg, const char *name,
                                     int undo, struct tc_detail *d);

/*
 * DeleteThingType: only a deprecated type (else INVALID_REQUEST) that no
 * thing uses (else INVALID_REQUEST naming a thing).
 */
int tc_registry_thing_type_delete(struct tc_registry *reg, const char *name,
                                  struct tc_detail *d);

/* ListThingTypes; name_filter (optional) keeps only that exact name. */
int tc_registry_thing_type_list(struct tc_registry *reg,
                                const char *name_filter,
                                const struct tc_reg_page *page,
                                struct tc_reg_thing_type_list *out,
                                struct tc_detail *d);

/* ------------------------------------------------------------------ */
/* Things */

struct tc_reg_thing {
    char name[TC_REG_NAME_MAX];
    char id[TC_REG_UUID_LEN]; /* thingId, a random UUID */
    char arn[TC_REG_ARN_MAX];
    char type_name[TC_REG_NAME_MAX]; /* "" when the thing has no type */
    struct tc_reg_attrs attrs;       /* owned, sorted by name */
    long long version;               /* 1 on creation, +1 per update */
};

void tc_reg_thing_clear(struct tc_reg_thing *t);

struct tc_reg_thing_list {
    struct tc_reg_thing *items;
    size_t n;
    char next[TC_REG_TOKEN_MAX];
};

void tc_reg_thing_list_clear(struct tc_reg_thing_list *l);

/*
 * CreateThing. type_name may be NULL (must exist and not be deprecated
 * otherwise: NOT_FOUND / INVALID_REQUEST). attrs (borrowed, may be NULL)
 * must not hold "" values. More than TC_REG_ATTRS_UNTYPED attributes
 * without a type, or TC_REG_ATTRS_TYPED with one: INVALID_REQUEST. The
 * same name with the same type and attributes succeeds (idempotent);
 * otherwise TC_ERR_REG_ALREADY_EXISTS. out (optional) receives the thing.
 */
int tc_registry_thing_create(struct tc_registry *reg, const char *name,
                             const char *type_name,
                             const struct tc_reg_attrs *attrs,
                             struct tc_reg_thing *out, struct tc_detail *d);

int tc_registry_thing_describe(struct tc_registry *reg, const char *name,
                               struct tc_reg_thing *out, struct tc_detail *d);

/* UpdateThing request; zero it, then set what the request carries. */
struct tc_reg_thing_update {
    const char *type_name; /* new type, or NULL to keep */
    int remove_type;       /* removeThingType (type_name must be NULL) */
    const struct tc_reg_attrs *attrs; /* attributePayload.attributes, or NULL */
    int merge; /* attributePayload.merge: "" value removes */
    int has_expected_version;
    long long expected_version; /* VERSION_CONFLICT when it differs */
};

int tc_registry_thing_update(struct tc_registry *reg, const char *name,
                             const struct tc_reg_thing_update *u,
                             struct tc_detail *d);

/*
 * DeleteThing: success when the thing does not exist (as AWS); expected
 * version (if has_expected_version) must match; INVALID_REQUEST while
 * principals are attached.
 */
int tc_registry_thing_delete(struct tc_registry *reg, const char *name,
                             int has_expected_version,
                             long long expected_version, struct tc_detail *d);

/* ListThings filters; all optional (NULL). */
struct tc_reg_thing_filter {
    const char *attr_name;
    const char *attr_value; /* needs attr_name */
    int attr_value_prefix;  /* usePrefixAttributeValue */
    const char *type_name;
};

int tc_registry_thing_list(struct tc_registry *reg,
                           const struct tc_reg_thing_filter *f,
                           const struct tc_reg_page *page,
                           struct tc_reg_thing_list *out, struct tc_detail *d);

/* ------------------------------------------------------------------ */
/* Certificates */

enum tc_reg_cert_status {
    TC_REG_CERT_ACTIVE = 1,
    TC_REG_CERT_INACTIVE,
    TC_REG_CERT_REVOKED,
    TC_REG_CERT_PENDING_TRANSFER,
    TC_REG_CERT_REGISTER_INACTIVE,
    TC_REG_CERT_PENDING_ACTIVATION
};

/* The model's names: "ACTIVE", ...; "" for an unknown value. */
const char *tc_registry_cert_status_name(int status);
/* Parse a name; TC_ERR_REG_INVALID_REQUEST for anything else. */
int tc_registry_cert_status_parse(const char *s, int *out, struct tc_detail *d);

enum tc_reg_cert_mode { TC_REG_MODE_DEFAULT = 0, TC_REG_MODE_SNI_ONLY = 1 };

const char *tc_registry_cert_mode_name(int mode); /* DEFAULT / SNI_ONLY */
int tc_registry_cert_mode_parse(const char *s, int *out, struct tc_detail *d);

struct tc_reg_cert {
    char id[TC_REG_CERT_ID_LEN];
    char arn[TC_REG_ARN_MAX];
    char ca_id[TC_REG_CERT_ID_LEN]; /* issuing registered CA, "" if none */
    int status;                     /* enum tc_reg_cert_status */
    int mode;                       /* enum tc_reg_cert_mode */
    char *pem;                      /* owned: the certificate, one PEM block */
    char *chain_pem; /* owned: PEM blocks that followed it, or NULL */
    double creation_date;
    double last_modified_date;
    long long not_before; /* validity, epoch seconds */
    long long not_after;
    int customer_version; /* 1, +1 per status change */
    char generation_id[TC_REG_UUID_LEN];
};

void tc_reg_cert_clear(struct tc_reg_cert *c);

struct tc_reg_cert_list {
    struct tc_reg_cert *items; /* pem and chain_pem are NULL in lists */
    size_t n;
    char next[TC_REG_TOKEN_MAX];
};

void tc_reg_cert_list_clear(struct tc_reg_cert_list *l);

/* RegisterCertificate / RegisterCertificateWithoutCA request. */
struct tc_reg_cert_register {
    const char *pem; /* certificatePem: the certificate, then any chain */
    size_t pem_len;
    const char *ca_pem; /* caCertificatePem, or NULL */
    size_t ca_pem_len;
    int status;     /* 0 = INACTIVE (the AWS default) */
    int without_ca; /* RegisterCertificateWithoutCA: mode SNI_ONLY */
    int system;     /* the broker's JITR: allows PENDING_ACTIVATION */
};

/*
 * Register a certificate. id is the lower-case hex SHA-256 of its DER.
 *
 * RegisterCertificate (without_ca == 0): with ca_pem, that CA must be
 * registered here, its subject must equal the certificate's issuer and its
 * key must verify the certificate's signature (else CERT_VALIDATION); the
 * certificate takes the CA's id and mode. Without ca_pem, a registered CA
 * whose subject and key match is looked up; when none matches the
 * certificate is registered without a CA in DEFAULT mode.
 * RegisterCertificateWithoutCA: no CA, mode SNI_ONLY.
 *
 * The status may be ACTIVE, INACTIVE or REGISTER_INACTIVE (and
 * PENDING_ACTIVATION when system != 0); others are INVALID_REQUEST.
 * Unparsable PEM, or a certificate that is not yet / no longer valid:
 * CERT_VALIDATION. Registered before: ALREADY_EXISTS with its id and ARN.
 * id_out (borrowed, may be NULL) receives the id, also on ALREADY_EXISTS.
 */
int tc_registry_cert_register(struct tc_registry *reg,
                              const struct tc_reg_cert_register *in,
                              char id_out[TC_REG_CERT_ID_LEN],
                              struct tc_detail *d);

/* DescribeCertificate. id: 64 hex digits, either case. */
int tc_registry_cert_describe(struct tc_registry *reg, const char *id,
                              struct tc_reg_cert *out, struct tc_detail *d);

/*
 * UpdateCertificate. Legal: any of ACTIVE, INACTIVE, REVOKED,
 * REGISTER_INACTIVE from ACTIVE, INACTIVE, REGISTER_INACTIVE or
 * PENDING_ACTIVATION. From REVOKED or PENDING_TRANSFER: CERT_STATE. To
 * PENDING_TRANSFER or PENDING_ACTIVATION: INVALID_REQUEST. The same status
 * again: success, no event.
 */
int tc_registry_cert_update_status(struct tc_registry *reg, const char *id,
                                   int new_status, struct tc_detail *d);

/*
 * DeleteCertificate. ACTIVE or PENDING_TRANSFER: CERT_STATE. Attached to a
 * thing: DELETE_CONFLICT. Policies attached: DELETE_CONFLICT, unless
 * force_delete, which detaches them in the same transaction.
 */
int tc_registry_cert_delete(struct tc_registry *reg, const char *id,
                            int force_delete, struct tc_detail *d);

/* ListCertificates, ordered by creation (descending if page->descending). */
int tc_registry_cert_list(struct tc_registry *reg,
                          const struct tc_reg_page *page,
                          struct tc_reg_cert_list *out, struct tc_detail *d);

/* ListCertificatesByCA. NOT_FOUND if the CA is not registered. */
int tc_registry_cert_list_by_ca(struct tc_registry *reg, const char *ca_id,
                                const struct tc_reg_page *page,
                                struct tc_reg_cert_list *out,
                                struct tc_detail *d);

/*
 * Parse one PEM certificate (text, n bytes, borrowed) and give its id
 * without touching the registry: what the broker computes for a client
 * certificate. CERT_VALIDATION if it is not a certificate.
 */
int tc_registry_cert_id_of_pem(const char *pem, size_t n,
                               char id_out[TC_REG_CERT_ID_LEN],
                               struct tc_detail *d);

/* The same from DER bytes (der borrowed). */
void tc_registry_cert_id_of_der(const uint8_t *der, size_t n,
                                char id_out[TC_REG_CERT_ID_LEN]);

/* ------------------------------------------------------------------ */
/* CA certificates */

struct tc_reg_ca {
    char id[TC_REG_CERT_ID_LEN];
    char arn[TC_REG_ARN_MAX];
    int status;            /* TC_REG_CERT_ACTIVE or TC_REG_CERT_INACTIVE */
    int auto_registration; /* 1 = ENABLE, 0 = DISABLE */
    int mode;              /* enum tc_reg_cert_mode */
    char *pem;             /* owned */
    double creation_date;
    double last_modified_date;
    long long not_before;
    long long not_after;
    int customer_version;
    char generation_id[TC_REG_UUID_LEN];
    /* registrationConfig; each owned, NULL when not set */
    char *template_body;
    char *role_arn;
    char *template_name;
};

void tc_reg_ca_clear(struct tc_reg_ca *c);

struct tc_reg_ca_list {
    struct tc_reg_ca *items; /* pem and registration config NULL in lists */
    size_t n;
    char next[TC_REG_TOKEN_MAX];
};

void tc_reg_ca_list_clear(struct tc_reg_ca_list *l);

/*
 * GetRegistrationCode: 64 lower-case hex digits, created on first use and
 * the same ever after. out is borrowed storage.
 */
int tc_registry_registration_code(struct tc_registry *reg,
                                  char out[TC_REG_CODE_LEN],
                                  struct tc_detail *d);

/* RegisterCACertificate request; all pointers borrowed. */
struct tc_reg_ca_register {
    const char *ca_pem;
    size_t ca_pem_len;
    const char *verification_pem; /* required in DEFAULT mode, else ignored */
    size_t verification_pem_len;
    int mode; /* enum tc_reg_cert_mode */
    int set_active;
    int allow_auto_registration;
    const char *template_body; /* registrationConfig, each optional */
    const char *role_arn;
    const char *template_name;
};

/*
 * Register a CA. The CA must parse and be a CA (basicConstraints CA:TRUE)
 * and be within its validity (CERT_VALIDATION). In DEFAULT mode the
 * verification certificate's subject CN must equal the registration code
 * (CODE_VALIDATION) and its signature must verify with the CA's key
 * (CERT_VALIDATION): proof that the registrant holds the CA's private key.
 * A template_body must be a JSON object (INVALID_REQUEST); a template_name
 * must name a provisioning template (NOT_FOUND). Registered before:
 * ALREADY_EXISTS. id_out (may be NULL) receives the id.
 */
int tc_registry_ca_register(struct tc_registry *reg,
                            const struct tc_reg_ca_register *in,
                            char id_out[TC_REG_CERT_ID_LEN],
                            struct tc_detail *d);

int tc_registry_ca_describe(struct tc_registry *reg, const char *id,
                            struct tc_reg_ca *out, struct tc_detail *d);

/* UpdateCACertificate request; zero it, then set what the request says. */
struct tc_reg_ca_update {
    int new_status;            /* 0 keep, TC_REG_CERT_ACTIVE / _INACTIVE */
    int new_auto_registration; /* -1 keep, 0 DISABLE, 1 ENABLE */
    int set_config;            /* replace registrationConfig with these: */
    const char *template_body;
    const char *role_arn;
    const char *template_name;
    int remove_auto_registration; /* clear the registrationConfig */
};

/* Initialise u to "change nothing" (new_auto_registration = -1). */
void tc_reg_ca_update_init(struct tc_reg_ca_update *u);

int tc_registry_ca_update(struct tc_registry *reg, const char *id,
                          const struct tc_reg_ca_update *u,
                          struct tc_detail *d);

/*
 * DeleteCACertificate: the CA must be INACTIVE (CERT_STATE); certificates
 * registered under it keep their caCertificateId (DELETE_CONFLICT while any
 * remain, so the broker never loses the CA of a registered device).
 */
int tc_registry_ca_delete(struct tc_registry *reg, const char *id,
                          struct tc_detail *d);

int tc_registry_ca_list(struct tc_registry *reg, const struct tc_reg_page *page,
                        struct tc_reg_ca_list *out, struct tc_detail *d);

/*
 * For the broker: the registered CA (any status) whose subject equals the
 * issuer of the certificate der (borrowed) and whose key verifies its
 * signature. out receives it (caller clears). NOT_FOUND when none.
 */
int tc_registry_ca_find_issuer(struct tc_registry *reg, const uint8_t *der,
                               size_t n, struct tc_reg_ca *out,
                               struct tc_detail *d);

/* For the broker's trust store: the PEM of every ACTIVE CA (out->next ""). */
int tc_registry_ca_active_pems(struct tc_registry *reg,
                               struct tc_reg_str_list *out,
                               struct tc_detail *d);

/* ------------------------------------------------------------------ */
/* Policies */

struct tc_reg_policy {
    char name[TC_REG_NAME_MAX];
    char arn[TC_REG_ARN_MAX];
    char *document; /* owned: default version's document */
    char default_version[TC_REG_VERSION_ID_MAX];
    double creation_date;
    double last_modified_date;
    char generation_id[TC_REG_UUID_LEN];
};

void tc_reg_policy_clear(struct tc_reg_policy *p);

struct tc_reg_policy_list {
    struct tc_reg_policy *items; /* document NULL except where stated */
    size_t n;
    char next[TC_REG_TOKEN_MAX];
};

void tc_reg_policy_list_clear(struct tc_reg_policy_list *l);

struct tc_reg_policy_version {
    char name[TC_REG_NAME_MAX];
    char arn[TC_REG_ARN_MAX];
    char version_id[TC_REG_VERSION_ID_MAX];
    int is_default;
    char *document; /* owned; NULL in lists */
    double creation_date;
    double last_modified_date;
    char generation_id[TC_REG_UUID_LEN];
};

void tc_reg_policy_version_clear(struct tc_reg_policy_version *v);

struct tc_reg_policy_version_list {
    struct tc_reg_policy_version *items; /* newest first */
    size_t n;
};

void tc_reg_policy_version_list_clear(struct tc_reg_policy_version_list *l);

/*
 * CreatePolicy: version "1", the default. doc (len bytes, borrowed) is
 * validated (MALFORMED_POLICY with the offset or field). ALREADY_EXISTS if
 * the name is taken. out (optional) receives the policy.
 */
int tc_registry_policy_create(struct tc_registry *reg, const char *name,
                              const char *doc, size_t len,
                              struct tc_reg_policy *out, struct tc_detail *d);

/* GetPolicy: the default version's document. */
int tc_registry_policy_get(struct tc_registry *reg, const char *name,
                           struct tc_reg_policy *out, struct tc_detail *d);

/*
 * DeletePolicy: DELETE_CONFLICT while attached to a target or while it has
 * versions besides the default.
 */
int tc_registry_policy_delete(struct tc_registry *reg, const char *name,
                              struct tc_detail *d);

/* ListPolicies, by name. */
int tc_registry_policy_list(struct tc_registry *reg,
                            const struct tc_reg_page *page,
                            struct tc_reg_policy_list *out,
                            struct tc_detail *d);

/*
 * CreatePolicyVersion: the next id (ids are never reused). Already
 * TC_REG_POLICY_VERSIONS versions: VERSIONS_LIMIT. set_default makes it the
 * default. out (optional) receives the version.
 */
int tc_registry_policy_version_create(struct tc_registry *reg, const char *name,
                                      const char *doc, size_t len,
                                      int set_default,
                                      struct tc_reg_policy_version *out,
                                      struct tc_detail *d);

int tc_registry_policy_version_get(struct tc_registry *reg, const char *name,
                                   const char *version_id,
                                   struct tc_reg_policy_version *out,
                                   struct tc_detail *d);

/* DeletePolicyVersion: not the default version (DELETE_CONFLICT). */
int tc_registry_policy_version_delete(struct tc_registry *reg, const char *name,
                                      const char *version_id,
                                      struct tc_detail *d);

int tc_registry_policy_version_set_default(struct tc_registry *reg,
                                           const char *name,
                                           const char *version_id,
                                           struct tc_detail *d);

int tc_registry_policy_version_list(struct tc_registry *reg, const char *name,
                                    struct tc_reg_policy_version_list *out,
                                    struct tc_detail *d);

/*
 * AttachPolicy / DetachPolicy. target: a certificate ARN of this region and
 * account (INVALID_REQUEST otherwise) naming a registered certificate
 * (NOT_FOUND). Attaching again or detaching what is not attached succeeds.
 * More than TC_REG_POLICIES_PER_TARGET policies: LIMIT_EXCEEDED.
 */
int tc_registry_policy_attach(struct tc_registry *reg, const char *name,
                              const char *target, struct tc_detail *d);
int tc_registry_policy_detach(struct tc_registry *reg, const char *name,
                              const char *target, struct tc_detail *d);

/* ListAttachedPolicies(target): policies (name, arn) by name. */
int tc_registry_policy_list_attached(struct tc_registry *reg,
                                     const char *target,
                                     const struct tc_reg_page *page,
                                     struct tc_reg_policy_list *out,
                                     struct tc_detail *d);

/* ListTargetsForPolicy: target ARNs. NOT_FOUND for an unknown policy. */
int tc_registry_policy_list_targets(struct tc_registry *reg, const char *name,
                                    const struct tc_reg_page *page,
                                    struct tc_reg_str_list *out,
                                    struct tc_detail *d);

/*
 * For the broker: every policy attached to certificate cert_id with its
 * default version's document filled in (items[i].document owned). An
 * unknown certificate gives an empty list. out->next is "".
 */
int tc_registry_policies_for_cert(struct tc_registry *reg, const char *cert_id,
                                  struct tc_reg_policy_list *out,
                                  struct tc_detail *d);

/* ------------------------------------------------------------------ */
/* Thing principals */

enum tc_reg_principal_type {
    TC_REG_PRINCIPAL_NON_EXCLUSIVE = 0, /* NON_EXCLUSIVE_THING (default) */
    TC_REG_PRINCIPAL_EXCLUSIVE = 1      /* EXCLUSIVE_THING */
};

/* Parse "EXCLUSIVE_THING" / "NON_EXCLUSIVE_THING"; INVALID_REQUEST else. */
int tc_registry_principal_type_parse(const char *s, int *out,
                                     struct tc_detail *d);

/*
 * AttachThingPrincipal. principal: a certificate ARN of this region and
 * account naming a registered certificate (INVALID_REQUEST / NOT_FOUND);
 * the thing must exist (NOT_FOUND). EXCLUSIVE when the certificate is
 * attached to another thing, or any attach when it is exclusively
 * attached to another thing: INVALID_REQUEST. Attaching again succeeds.
 */
int tc_registry_thing_principal_attach(struct tc_registry *reg,
                                       const char *thing, const char *principal,
                                       int type, struct tc_detail *d);

/* DetachThingPrincipal; detaching what is not attached succeeds. */
int tc_registry_thing_principal_detach(struct tc_registry *reg,
                                       const char *thing, const char *principal,
                                       struct tc_detail *d);

/* ListThingPrincipals: principal ARNs. NOT_FOUND for an unknown thing. */
int tc_registry_thing_principal_list(struct tc_registry *reg, const char *thing,
                                     const struct tc_reg_page *page,
                                     struct tc_reg_str_list *out,
                                     struct tc_detail *d);

/* ListPrincipalThings: thing names. NOT_FOUND for an unknown principal. */
int tc_registry_principal_thing_list(struct tc_registry *reg,
                                     const char *principal,
                                     const struct tc_reg_page *page,
                                     struct tc_reg_str_list *out,
                                     struct tc_detail *d);

/* ------------------------------------------------------------------ */
/* Provisioning templates */

enum tc_reg_template_type {
    TC_REG_TEMPLATE_FLEET_PROVISIONING = 0, /* the AWS default */
    TC_REG_TEMPLATE_JITP = 1
};

const char *tc_registry_template_type_name(int type);
int tc_registry_template_type_parse(const char *s, int *out,
                                    struct tc_detail *d);

/*
 * A provisioning template. As input to create, the char * members are
 * borrowed; filled by describe they are owned (tc_reg_template_clear).
 */
struct tc_reg_template {
    char name[TC_REG_TEMPLATE_NAME_MAX];
    char arn[TC_REG_ARN_MAX];
    char *description; /* may be NULL */
    char *body;        /* templateBody: a JSON object, <= 10240 bytes */
    char *role_arn;    /* provisioningRoleArn, 20-2048 characters */
    int enabled;
    int type;            /* enum tc_reg_template_type */
    int default_version; /* 1 */
    double creation_date;
    double last_modified_date;
};

void tc_reg_template_clear(struct tc_reg_template *t);

struct tc_reg_template_list {
    struct tc_reg_template *items; /* body and role_arn NULL in lists */
    size_t n;
    char next[TC_REG_TOKEN_MAX];
};

void tc_reg_template_list_clear(struct tc_reg_template_list *l);

/* CreateProvisioningTemplate from in (name, description, body, role_arn,
 * enabled, type are read). ALREADY_EXISTS if the name is taken. */
int tc_registry_template_create(struct tc_registry *reg,
                                const struct tc_reg_template *in,
                                struct tc_detail *d);

int tc_registry_template_describe(struct tc_registry *reg, const char *name,
                                  struct tc_reg_template *out,
                                  struct tc_detail *d);

/* UpdateProvisioningTemplate; zero it, then set what the request says. */
struct tc_reg_template_update {
    const char *description; /* NULL keeps */
    const char *role_arn;    /* NULL keeps */
    int enabled;             /* -1 keeps, else 0/1 */
};

int tc_registry_template_update(struct tc_registry *reg, const char *name,
                                const struct tc_reg_template_update *u,
                                struct tc_detail *d);

/* DeleteProvisioningTemplate: DELETE_CONFLICT while a CA names it. */
int tc_registry_template_delete(struct tc_registry *reg, const char *name,
                                struct tc_detail *d);

int tc_registry_template_list(struct tc_registry *reg,
                              const struct tc_reg_page *page,
                              struct tc_reg_template_list *out,
                              struct tc_detail *d);

/* ------------------------------------------------------------------ */
/* Just-in-time provisioning and the broker's trust store */

/*
 * Everything one provisioning template creates for a device on its first
 * connection. All pointers borrowed; optional ones may be NULL.
 */
struct tc_reg_jitp {
    const char *cert_pem; /* device certificate (then any chain) */
    size_t cert_pem_len;
    const char *thing_name;           /* NULL: no thing */
    const char *thing_type;           /* NULL: none (must exist otherwise) */
    const struct tc_reg_attrs *attrs; /* NULL: none */
    const char *policy_name;          /* NULL: no policy */
    const char *policy_doc;           /* NULL: policy_name must exist; else it
                                         is created, or reused when a policy of
                                         that name has this default document */
    size_t policy_doc_len;
    int status; /* 0 = TC_REG_CERT_ACTIVE */
};

/*
 * Apply in ONE write transaction, in AWS's order: register the
 * certificate (as the system, under the registered CA that issued it; a
 * row already there in PENDING_ACTIVATION is kept, any other status is
 * ALREADY_EXISTS), create the thing (an existing thing is kept as it is),
 * create the policy, attach it to the certificate, attach the thing
 * (NON_EXCLUSIVE), set the status. Any failure rolls back everything;
 * errors are those of the single calls. id_out (may be NULL) receives the
 * certificate id.
 */
int tc_registry_jitp_apply(struct tc_registry *reg,
                           const struct tc_reg_jitp *in,
                           char id_out[TC_REG_CERT_ID_LEN],
                           struct tc_detail *d);

/*
 * Every distinct PEM certificate found in the chains of registered
 * certificates that are ACTIVE or PENDING_ACTIVATION (out->next "").
 */
int tc_registry_cert_chain_pems(struct tc_registry *reg,
                                struct tc_reg_str_list *out,
                                struct tc_detail *d);

/* ------------------------------------------------------------------ */
/* Event log */

/*
 * One change. kind is "<object>.<verb>", for example "thing.create",
 * "certificate.status", "policy.attach", "policy.default_version",
 * "principal.attach"; object_type is "thing", "thingtype", "certificate",
 * "cacertificate", "policy", "provisioningtemplate" or "meta"; object_id
 * the name or id; detail a JSON object text (for certificate.status:
 * {"from":"ACTIVE","to":"REVOKED"}; for policy.attach: {"target":ARN}).
 * All members are borrowed for the duration of the callback.
 */
struct tc_reg_event {
    long long seq; /* strictly increasing, never reused */
    double time;   /* epoch seconds */
    const char *actor;
    const char *kind;
    const char *object_type;
    const char *object_id;
    const char *detail;
};

/* Return 0 to go on, non-zero to stop (the value is returned). */
typedef int (*tc_registry_event_fn)(void *arg, const struct tc_reg_event *ev);

/*
 * Call fn for at most max events with seq > after, in seq order. *last
 * (optional) receives the seq of the last event delivered, or after when
 * none. Reads only: never blocks a writer for long.
 */
int tc_registry_events_since(struct tc_registry *reg, long long after,
                             size_t max, tc_registry_event_fn fn, void *arg,
                             long long *last, struct tc_detail *d);

/* The highest seq so far (0 when the log is empty). */
int tc_registry_events_max_seq(struct tc_registry *reg, long long *out,
                               struct tc_detail *d);

/*
 * Two numbers that change whenever the database may have changed, written
 * by this handle or by any other process: when two readings are equal,
 * nothing was written in between and the event log need not be read. No
 * table is read; costs about a microsecond.
 */
int tc_registry_change_mark(struct tc_registry *reg, long long mark[2],
                            struct tc_detail *d);

/*
 * The look for hot paths: the commit counter, last frame and salt of
 * SQLite's shared write-ahead log index, read from the memory this
 * handle's connection already maps, and this handle's own change count.
 * No system call and no lock: a commit by any process moves it. Equal
 * readings mean nothing was committed in between. TC_ERR_IO (hint
 * unusable, use tc_registry_change_mark) when the database has no shared
 * index (not in WAL mode).
 */
int tc_registry_change_hint(struct tc_registry *reg, long long hint[4]);

/* ------------------------------------------------------------------ */
/* Bulk registration (thingcore's own operation, not an AWS one) */

/* Most entries one tc_registry_bulk_register call takes. */
#define TC_REG_BULK_MAX 500
/* Longest reason a rejected entry carries, with its NUL. */
#define TC_REG_BULK_REASON_MAX 256

/*
 * One device to register; all pointers borrowed for the call. Entries
 * that share a chain should pass the same chain_pem pointer: it is parsed
 * once per call, not once per entry.
 */
struct tc_reg_bulk_entry {
    const char *thing_name;
    const char *cert_pem; /* the device certificate (then any chain) */
    size_t cert_pem_len;
    const char *chain_pem; /* more chain certificates, or NULL */
    size_t chain_pem_len;
};

enum tc_reg_bulk_outcome {
    TC_REG_BULK_REJECTED = 0, /* nothing of this entry was changed */
    TC_REG_BULK_REGISTERED,   /* created or completed now */
    TC_REG_BULK_ALREADY       /* everything was already as wanted */
};

/* What became of one entry (caller-owned storage, filled here). */
struct tc_reg_bulk_result {
    int outcome;                         /* enum tc_reg_bulk_outcome */
    int err;                             /* TC_OK unless rejected */
    char cert_id[TC_REG_CERT_ID_LEN];    /* "" when the PEM did not parse */
    char reason[TC_REG_BULK_REASON_MAX]; /* why it was rejected, else "" */
};

/*
 * Register n devices (at most TC_REG_BULK_MAX) in ONE write transaction,
 * each the way the single operations would leave it: the certificate
 * registered without a CA (SNI_ONLY) and ACTIVE, policy attached to it,
 * thing thing_name of type thing_type, the certificate attached to the
 * thing (NON_EXCLUSIVE). An entry that is partly present is completed; an
 * entry already whole is TC_REG_BULK_ALREADY and writes nothing.
 *
 * Each entry runs in its own savepoint: one that cannot be registered (a
 * bad name or certificate, a REVOKED or PENDING_TRANSFER certificate, a
 * thing of another type, or any error of the single operations) is rolled
 * back alone, REJECTED with its code and reason, and the rest still
 * applies. The event log receives the rows the single operations write.
 * Because the batch commits as a whole, a crash leaves every device of it
 * either fully registered or untouched.
 *
 * thing_type must exist and not be deprecated, policy must exist
 * (NOT_FOUND / INVALID_REQUEST for the whole call, nothing written); a
 * database failure also fails the whole call. out (n of them) is filled.
 */
int tc_registry_bulk_register(struct tc_registry *reg, const char *thing_type,
                              const char *policy,
                              const struct tc_reg_bulk_entry *in, size_t n,
                              struct tc_reg_bulk_result *out,
                              struct tc_detail *d);

#endif
