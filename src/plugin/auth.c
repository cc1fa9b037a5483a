// SPDX-License-Identifier: Apache-2.0
/*
 * Authentication of one connection: the TLS client certificate's id is
 * looked up in the registry; an unknown certificate from a registered CA
 * with auto-registration is registered just in time (PENDING_ACTIVATION,
 * or provisioned from the CA's template); only ACTIVE certificates whose
 * attached policies allow iot:Connect for the client ID get in. The
 * connection context and the compiled policy set are built here, once.
 */
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "plugin_int.h"
#include "thingcore/broker.h"

#define MAX_DN 16

/* AWS's names for distinguished name fields. */
static const char *
aws_dn_name(int nid)
{
    switch (nid) {
    case NID_commonName:
        return "CommonName";
    case NID_organizationName:
        return "Organization";
    case NID_organizationalUnitName:
        return "OrganizationalUnit";
    case NID_countryName:
        return "Country";
    case NID_stateOrProvinceName:
        return "State";
    case NID_localityName:
        return "Locality";
    case NID_serialNumber:
        return "SerialNumber";
    case NID_dnQualifier:
        return "DistinguishedNameQualifier";
    case NID_title:
        return "Title";
    case NID_surname:
        return "Surname";
    case NID_givenName:
        return "GivenName";
    case NID_initials:
        return "Initials";
    case NID_pseudonym:
        return "Pseudonym";
    case NID_generationQualifier:
        return "GenerationQualifier";
    default:
        return NULL;
    }
}

/* A distinguished name as (AWS name, UTF-8 value) pairs; values owned. */
struct dn {
    struct tc_policy_pair v[MAX_DN];
    size_t n;
};

static void
dn_fill(struct dn *out, const X509_NAME *name)
{
    int i;

    out->n = 0;
    for (i = 0; i < X509_NAME_entry_count(name) && out->n < MAX_DN; i++) {
        const X509_NAME_ENTRY *e = X509_NAME_get_entry(name, i);
        const char *key =
            aws_dn_name(OBJ_obj2nid(X509_NAME_ENTRY_get_object(e)));
        unsigned char *utf8 = NULL;

        if (key == NULL ||
            ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(e)) < 0) {
            continue;
        }
        out->v[out->n].key = key;
        out->v[out->n].value = (const char *)utf8;
        out->n++;
    }
}

static void
dn_clear(struct dn *dn)
{
    size_t i;

    for (i = 0; i < dn->n; i++) {
        OPENSSL_free((void *)dn->v[i].value);
    }
    dn->n = 0;
}

static const char *
dn_get(const struct dn *dn, const char *key)
{
    size_t i;

    for (i = 0; i < dn->n; i++) {
        if (strcmp(dn->v[i].key, key) == 0) {
            return dn->v[i].value;
        }
    }
    return NULL;
}

/* The certificate as one PEM block (heap, free()), or NULL. */
static char *
x509_pem(X509 *x)
{
    BIO *mem = BIO_new(BIO_s_mem());
    char *data = NULL;
    char *out = NULL;
    long len;

    if (mem != NULL && PEM_write_bio_X509(mem, x)) {
        len = BIO_get_mem_data(mem, &data);
        out = malloc((size_t)len + 1);
        if (out != NULL) {
            memcpy(out, data, (size_t)len);
            out[len] = '\0';
        }
    }
    BIO_free(mem);
    return out;
}

/*
 * Compile the policies attached to cert_id for this client: the thing
 * named by the client ID (when it exists), whether it is attached to the
 * certificate, its type and attributes, and the certificate's subject and
 * issuer. *set is handed over. Returns TC_OK or the failing code.
 */
static int
compile_for(struct mosquitto *client, X509 *x, const char *cert_id,
            struct tc_policy_set **set, size_t *bytes, struct tc_detail *d)
{
    const char *cid = mosquitto_client_id(client);
    struct tc_reg_policy_list pols;
    struct tc_reg_thing thing;
    struct tc_reg_str_list things;
    struct tc_reg_page page;
    struct tc_policy_pair attrs[TC_REG_ATTRS_TYPED];
    struct tc_policy_ctx ctx;
    const char *docs[TC_POLICY_MAX_DOCS];
    size_t lens[TC_POLICY_MAX_DOCS];
    struct dn subject;
    struct dn issuer;
    char arn[TC_REG_ARN_MAX];
    char token[TC_REG_TOKEN_MAX];
    char *serial = NULL;
    BIGNUM *bn = NULL;
    int have_thing = 0;
    size_t i;
    int rc;

    memset(&pols, 0, sizeof(pols));
    memset(&thing, 0, sizeof(thing));
    memset(&things, 0, sizeof(things));
    memset(&ctx, 0, sizeof(ctx));
    memset(&page, 0, sizeof(page));
    subject.n = 0;
    issuer.n = 0;
    *set = NULL;

    rc = tc_registry_policies_for_cert(pl.reg, cert_id, &pols, d);
    if (rc != TC_OK) {
        goto cleanup;
    }
    if (pols.n > TC_POLICY_MAX_DOCS) {
        rc = tc_detail_set(d, TC_ERR_POLICY_TOO_MANY, -1, NULL,
                           "%zu policies attached", pols.n);
        goto cleanup;
    }
    for (i = 0; i < pols.n; i++) {
        docs[i] = pols.items[i].document != NULL ? pols.items[i].document : "";
        lens[i] = strlen(docs[i]);
    }

    /* The thing whose name is the client ID, attached to this
     * certificate: iot:Connection.Thing.* resolve only then. */
    if (tc_registry_check_thing_name(cid, "clientId", NULL) == TC_OK &&
        tc_registry_thing_describe(pl.reg, cid, &thing, NULL) == TC_OK) {
        have_thing = 1;
        tc_registry_arn(pl.reg, "cert", cert_id, arn);
        page.limit = TC_REG_PAGE_MAX;
        do {
            tc_reg_str_list_clear(&things);
            if (tc_registry_thing_principal_list(pl.reg, cid, &page, &things,
                                                 NULL) != TC_OK) {
                break;
            }
            for (i = 0; i < things.n; i++) {
                if (strcmp(things.items[i], arn) == 0) {
                    ctx.is_attached = 1;
                }
            }
            snprintf(token, sizeof(token), "%s", things.next);
            page.token = token;
        } while (!ctx.is_attached && token[0] != '\0');
    }
    PL_LOG(PL_DEBUG, "thingcore: client=%s cert=%s thing %s, %s", cid, cert_id,
           have_thing ? "found" : "not found",
           ctx.is_attached ? "attached to the certificate"
                           : "not attached to the certificate");
    ctx.region = tc_registry_region(pl.reg);
    ctx.account = tc_registry_account(pl.reg);
    ctx.client_id = cid;
    if (have_thing) {
        ctx.thing_name = thing.name;
        ctx.thing_type = thing.type_name[0] != '\0' ? thing.type_name : NULL;
        for (i = 0; i < thing.attrs.n && i < TC_REG_ATTRS_TYPED; i++) {
            attrs[i].key = thing.attrs.v[i].name;
            attrs[i].value = thing.attrs.v[i].value;
        }
        ctx.attrs = attrs;
        ctx.nattrs = i;
    }
    dn_fill(&subject, X509_get_subject_name(x));
    dn_fill(&issuer, X509_get_issuer_name(x));
    ctx.subject = subject.v;
    ctx.nsubject = subject.n;
    ctx.issuer = issuer.v;
    ctx.nissuer = issuer.n;
    bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), NULL);
    serial = bn != NULL ? BN_bn2dec(bn) : NULL;
    ctx.cert_serial = serial;
    ctx.source_ip = mosquitto_client_address(client);

    rc = tc_policy_compile(docs, lens, pols.n, &ctx, set, d);
    *bytes = rc == TC_OK ? tc_policy_set_size(*set) : 0;

cleanup:
    dn_clear(&subject);
    dn_clear(&issuer);
    OPENSSL_free(serial);
    BN_free(bn);
    tc_reg_policy_list_clear(&pols);
    tc_reg_thing_clear(&thing);
    tc_reg_str_list_clear(&things);
    return rc;
}

/* ------------------------------------------------------------------ */
/* Just-in-time registration and provisioning */

/* Register x PENDING_ACTIVATION as the system would; *cert filled. */
static int
register_pending(X509 *x, const char *id, struct tc_reg_cert *cert,
                 struct tc_detail *d)
{
    struct tc_reg_cert_register in;
    char *pem = x509_pem(x);
    int rc;

    if (pem == NULL) {
        return TC_ERR_NOMEM;
    }
    memset(&in, 0, sizeof(in));
    in.pem = pem;
    in.pem_len = strlen(pem);
    in.status = TC_REG_CERT_PENDING_ACTIVATION;
    in.system = 1;
    rc = tc_registry_cert_register(pl.reg, &in, NULL, d);
    if (rc == TC_ERR_REG_ALREADY_EXISTS) {
        rc = TC_OK;
    }
    free(pem);
    if (rc == TC_OK) {
        rc = tc_registry_cert_describe(pl.reg, id, cert, d);
    }
    return rc;
}

/*
 * Apply a JITP plan in one registry transaction: certificate, thing,
 * policy, attachments and status are created whole or not at all.
 */
static int
apply_plan(X509 *x, const struct tc_jitp_plan *plan, struct tc_detail *d)
{
    struct tc_reg_attr av[TC_REG_ATTRS_TYPED];
    struct tc_reg_attrs attrs;
    struct tc_reg_jitp in;
    char *pem = x509_pem(x);
    size_t i;
    int rc;

    if (pem == NULL) {
        return TC_ERR_NOMEM;
    }
    for (i = 0; i < plan->n_attrs && i < TC_REG_ATTRS_TYPED; i++) {
        av[i].name = plan->attr_names[i];
        av[i].value = plan->attr_values[i];
    }
    attrs.v = av;
    attrs.n = i;
    memset(&in, 0, sizeof(in));
    in.cert_pem = pem;
    in.cert_pem_len = strlen(pem);
    in.thing_name = plan->thing_name;
    in.thing_type = plan->thing_type;
    in.attrs = attrs.n > 0 ? &attrs : NULL;
    in.policy_name = plan->policy_name;
    in.policy_doc = plan->policy_doc;
    in.policy_doc_len = plan->policy_doc != NULL ? strlen(plan->policy_doc) : 0;
    in.status = plan->cert_status;
    rc = tc_registry_jitp_apply(pl.reg, &in, NULL, d);
    free(pem);
    return rc;
}

/* The template body of a CA: inline, or a JITP template by name. */
static char *
ca_template(const struct tc_reg_ca *ca)
{
    struct tc_reg_template t;
    char *body = NULL;

    if (ca->template_body != NULL && ca->template_body[0] != '\0') {
        return strdup(ca->template_body);
    }
    if (ca->template_name == NULL || ca->template_name[0] == '\0') {
        return NULL;
    }
    memset(&t, 0, sizeof(t));
    if (tc_registry_template_describe(pl.reg, ca->template_name, &t, NULL) ==
            TC_OK &&
        t.enabled && t.body != NULL) {
        body = strdup(t.body);
    }
    tc_reg_template_clear(&t);
    return body;
}

/*
 * Provision from the template: 1 when the certificate is now registered
 * (the caller looks it up again), 0 when the connection must be refused.
 */
static int
provision(struct mosquitto *client, X509 *x, const char *id,
          const struct tc_reg_ca *ca, const char *body)
{
    const char *cid = mosquitto_client_id(client);
    struct tc_jitp_params p;
    struct tc_jitp_plan plan;
    struct tc_detail d;
    struct dn subject;
    int rc;

    tc_detail_clear(&d);
    dn_fill(&subject, X509_get_subject_name(x));
    memset(&p, 0, sizeof(p));
    p.common_name = dn_get(&subject, "CommonName");
    p.serial_number = dn_get(&subject, "SerialNumber");
    p.id = id;
    p.country = dn_get(&subject, "Country");
    p.organization = dn_get(&subject, "Organization");
    p.organizational_unit = dn_get(&subject, "OrganizationalUnit");
    p.dn_qualifier = dn_get(&subject, "DistinguishedNameQualifier");
    p.state_name = dn_get(&subject, "State");
    rc = tc_jitp_evaluate(body, strlen(body), &p, &plan, &d);
    dn_clear(&subject);
    if (rc != TC_OK) {
        PL_DECIDE(PL_NOTICE, cid, id, "provision", NULL, 0,
                  "template of CA %s: %s: %s%s%s", ca->id, tc_strerror(rc),
                  d.field, d.field[0] != '\0' ? ": " : "", d.text);
        return 0;
    }
    rc = apply_plan(x, &plan, &d);
    if (rc != TC_OK) {
        PL_DECIDE(PL_NOTICE, cid, id, "provision", NULL, 0, "CA %s: %s: %s",
                  ca->id, tc_strerror(rc), d.text);
    } else {
        PL_DECIDE(PL_NOTICE, cid, id, "provision", NULL, 1,
                  "just-in-time provisioned by CA %s: thing %s, policy %s, "
                  "status %s",
                  ca->id, plan.thing_name != NULL ? plan.thing_name : "-",
                  plan.policy_name != NULL ? plan.policy_name : "-",
                  tc_registry_cert_status_name(plan.cert_status));
    }
    tc_jitp_plan_clear(&plan);
    return rc == TC_OK;
}

/*
 * An unknown certificate. With its issuer registered, ACTIVE and
 * auto-registering, it is provisioned (template) or registered pending
 * activation (event published). *cert is filled when the certificate is
 * registered and may be looked at again; returns 1 then.
 */
static int
just_in_time(struct mosquitto *client, X509 *x, const uint8_t *der, size_t n,
             const char *id, struct tc_reg_cert *cert)
{
    const char *cid = mosquitto_client_id(client);
    struct tc_reg_ca ca;
    struct tc_detail d;
    char *body = NULL;
    int ok = 0;
    int rc;

    memset(&ca, 0, sizeof(ca));
    tc_detail_clear(&d);
    rc = tc_registry_ca_find_issuer(pl.reg, der, n, &ca, &d);
    if (rc != TC_OK) {
        PL_DECIDE(PL_NOTICE, cid, id, "connect", NULL, 0,
                  "certificate not registered and its issuer is not a "
                  "registered CA");
        goto cleanup;
    }
    if (ca.status != TC_REG_CERT_ACTIVE || !ca.auto_registration) {
        PL_DECIDE(PL_NOTICE, cid, id, "connect", NULL, 0,
                  "certificate not registered; CA %s is %s with "
                  "auto-registration %s",
                  ca.id, tc_registry_cert_status_name(ca.status),
                  ca.auto_registration ? "enabled" : "disabled");
        goto cleanup;
    }
    body = ca_template(&ca);
    if (body != NULL) {
        ok = provision(client, x, id, &ca, body);
        if (ok) {
            ok = tc_registry_cert_describe(pl.reg, id, cert, NULL) == TC_OK;
        }
        goto cleanup;
    }

    /* JITR: registered pending activation; the event tells the
     * operator's activation process, the device retries later. */
    rc = register_pending(x, id, cert, &d);
    if (rc != TC_OK) {
        PL_DECIDE(PL_NOTICE, cid, id, "register", NULL, 0,
                  "just-in-time registration under CA %s failed: %s: %s", ca.id,
                  tc_strerror(rc), d.text);
        goto cleanup;
    }
    PL_DECIDE(PL_NOTICE, cid, id, "register", NULL, 1,
              "just-in-time registered PENDING_ACTIVATION under CA %s", ca.id);
    ok = 1;

cleanup:
    free(body);
    tc_reg_ca_clear(&ca);
    return ok;
}

/* ------------------------------------------------------------------ */

int
pl_authenticate(struct mosquitto *client, struct pl_conn **out)
{
    const char *cid = mosquitto_client_id(client);
    struct tc_reg_cert cert;
    struct tc_policy_set *set = NULL;
    struct pl_set *ps = NULL;
    size_t bytes = 0;
    struct tc_policy_why why;
    struct tc_detail d;
    struct pl_conn *c = NULL;
    struct timespec ts;
    unsigned char *der = NULL;
    uint8_t fp[PL_FP_LEN];
    char id[TC_REG_CERT_ID_LEN];
    X509 *x = NULL;
    int n;
    int rc = MOSQ_ERR_AUTH;

    *out = NULL;
    memset(&cert, 0, sizeof(cert));
    tc_detail_clear(&d);
    id[0] = '\0';

    /* AWS's client ID rules come first: they need no database. */
    if (cid == NULL || strlen(cid) > PL_CLIENT_ID_MAX) {
        PL_DECIDE(PL_NOTICE, cid != NULL ? "(too long)" : NULL, NULL, "connect",
                  NULL, 0, "client ID longer than %d bytes", PL_CLIENT_ID_MAX);
        goto cleanup;
    }
    if (cid[0] == '$') {
        PL_DECIDE(PL_NOTICE, cid, NULL, "connect", NULL, 0,
                  "client IDs beginning with $ are reserved");
        goto cleanup;
    }
    x = mosquitto_client_certificate(client);
    if (x == NULL) {
        PL_DECIDE(PL_NOTICE, cid, NULL, "connect", NULL, 0,
                  "no TLS client certificate");
        goto cleanup;
    }
    /* Computed by OpenSSL with the chain; copied here. */
    if (X509_digest(x, pl.sha1, fp, NULL) != 1) {
        PL_DECIDE(PL_NOTICE, cid, NULL, "connect", NULL, 0,
                  "client certificate has no fingerprint");
        goto cleanup;
    }

    /* A device seen before is decided from memory, once every change
     * the event log holds has been applied. */
    pl_follow(1);
    ps = pl_set_get(fp, cid, mosquitto_client_address(client));
    if (ps != NULL) {
        memcpy(id, ps->cert_id, sizeof(id));
        if (!tc_policy_check(ps->set, TC_POLICY_CONNECT, cid, strlen(cid),
                             &why)) {
            PL_DECIDE(PL_NOTICE, cid, id, "connect", NULL, 0,
                      "iot:Connect: no policy statement allows this client "
                      "ID");
            goto cleanup;
        }
        goto connected;
    }

    /* The registered certificate (its id: SHA-256 of the DER), or a
     * just-in-time registration. */
    n = i2d_X509(x, &der);
    if (n <= 0) {
        PL_DECIDE(PL_NOTICE, cid, NULL, "connect", NULL, 0,
                  "client certificate cannot be encoded");
        goto cleanup;
    }
    tc_registry_cert_id_of_der(der, (size_t)n, id);
    rc = tc_registry_cert_describe(pl.reg, id, &cert, &d);
    if (rc == TC_ERR_REG_NOT_FOUND) {
        if (!just_in_time(client, x, der, (size_t)n, id, &cert)) {
            rc = MOSQ_ERR_AUTH;
            goto cleanup;
        }
    } else if (rc != TC_OK) {
        PL_DECIDE(PL_ERROR, cid, id, "connect", NULL, 0, "registry: %s: %s",
                  tc_strerror(rc), d.text);
        rc = MOSQ_ERR_AUTH;
        goto cleanup;
    }
    rc = MOSQ_ERR_AUTH;
    if (cert.status == TC_REG_CERT_PENDING_ACTIVATION) {
        /* Repeated on every retry while pending, as AWS does. */
        pl_event_registered(&cert);
        PL_DECIDE(PL_NOTICE, cid, id, "connect", NULL, 0,
                  "certificate PENDING_ACTIVATION; registration event "
                  "published for CA %s",
                  cert.ca_id[0] != '\0' ? cert.ca_id : "-");
        goto cleanup;
    }
    if (cert.status != TC_REG_CERT_ACTIVE) {
        PL_DECIDE(PL_NOTICE, cid, id, "connect", NULL, 0, "certificate is %s",
                  tc_registry_cert_status_name(cert.status));
        goto cleanup;
    }

    /* Policies compiled once for this connection, then iot:Connect. */
    if (compile_for(client, x, id, &set, &bytes, &d) != TC_OK) {
        PL_DECIDE(PL_NOTICE, cid, id, "connect", NULL, 0,
                  "policies cannot be compiled: %s", d.text);
        goto cleanup;
    }
    if (!tc_policy_check(set, TC_POLICY_CONNECT, cid, strlen(cid), &why)) {
        PL_DECIDE(PL_NOTICE, cid, id, "connect", NULL, 0, "iot:Connect: %s",
                  why.decision == TC_POLICY_EXPLICIT_DENY
                      ? "explicit Deny in policy"
                      : "no policy statement allows this client ID");
        goto cleanup;
    }

    ps = pl_set_put(fp, id, cid, mosquitto_client_address(client), set, bytes);
    if (ps == NULL) {
        goto cleanup;
    }
    set = NULL;

connected:
    c = calloc(1, sizeof(*c));
    if (c == NULL) {
        goto cleanup;
    }
    c->client = client;
    c->ps = ps;
    pl.conn_bytes += malloc_usable_size(c);
    ps = NULL;
    c->id_hash = pl_hash_str(cid);
    memcpy(c->cert_id, id, sizeof(c->cert_id));
    clock_gettime(CLOCK_REALTIME, &ts);
    c->version = (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
    pl_session_id(c->session);
    /* An allowed connection is routine, at info as AWS IoT logs it;
     * mosquitto's own notice line names the client and, as username,
     * its certificate id. */
    PL_DECIDE(PL_INFO, cid, id, "connect", NULL, 1,
              "certificate ACTIVE, iot:Connect allowed");
    *out = c;
    rc = MOSQ_ERR_SUCCESS;

cleanup:
    pl_set_release(ps);
    tc_policy_set_free(set);
    tc_reg_cert_clear(&cert);
    OPENSSL_free(der);
    X509_free(x);
    return rc;
}

int
pl_refresh(struct pl_conn *c)
{
    const char *cid = mosquitto_client_id(c->client);
    struct tc_reg_cert cert;
    struct tc_policy_set *set = NULL;
    struct tc_policy_why why;
    struct tc_detail d;
    struct pl_set *ps;
    size_t bytes = 0;
    X509 *x = NULL;
    int keep = 0;
    int rc;

    memset(&cert, 0, sizeof(cert));
    tc_detail_clear(&d);
    rc = tc_registry_cert_describe(pl.reg, c->cert_id, &cert, &d);
    if (rc == TC_ERR_REG_NOT_FOUND) {
        PL_DECIDE(PL_NOTICE, cid, c->cert_id, "revalidate", NULL, 0,
                  "certificate deleted; disconnecting");
        goto cleanup;
    }
    if (rc != TC_OK) {
        PL_DECIDE(PL_ERROR, cid, c->cert_id, "revalidate", NULL, 0,
                  "registry: %s: %s; disconnecting", tc_strerror(rc), d.text);
        goto cleanup;
    }
    if (cert.status != TC_REG_CERT_ACTIVE) {
        PL_DECIDE(PL_NOTICE, cid, c->cert_id, "revalidate", NULL, 0,
                  "certificate now %s; disconnecting",
                  tc_registry_cert_status_name(cert.status));
        goto cleanup;
    }
    x = mosquitto_client_certificate(c->client);
    if (x == NULL ||
        compile_for(c->client, x, c->cert_id, &set, &bytes, &d) != TC_OK) {
        PL_DECIDE(PL_NOTICE, cid, c->cert_id, "revalidate", NULL, 0,
                  "policies cannot be compiled: %s; disconnecting", d.text);
        goto cleanup;
    }
    if (!tc_policy_check(set, TC_POLICY_CONNECT, cid, strlen(cid), &why)) {
        PL_DECIDE(PL_NOTICE, cid, c->cert_id, "revalidate", NULL, 0,
                  "iot:Connect no longer allowed; disconnecting");
        goto cleanup;
    }

    /* New decisions from now on: the cache belonged to the old set. */
    ps = pl_set_put(c->ps->fp, c->cert_id, cid,
                    mosquitto_client_address(c->client), set, bytes);
    if (ps == NULL) {
        goto cleanup;
    }
    set = NULL;
    pl_set_release(c->ps);
    c->ps = ps;
    memset(c->cache, 0, sizeof(c->cache));
    PL_DECIDE(PL_INFO, cid, c->cert_id, "revalidate", NULL, 1,
              "policies recompiled");
    keep = 1;

cleanup:
    tc_policy_set_free(set);
    tc_reg_cert_clear(&cert);
    X509_free(x);
    return keep;
}
