// SPDX-License-Identifier: Apache-2.0
/*
 * Bulk registration: many devices in one write transaction, each in its
 * own savepoint, built from the same steps as the single operations
 * (certificate, policy attachment, status, thing, principal) so the rows
 * and event log entries are theirs. It does not verify manifests or
 * chains of trust; the caller registers only what it verified.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/err.h>
#include <openssl/pem.h>

#include "regpriv.h"
#include "thingcore/der.h"

/* One entry as prepared outside the transaction. */
struct bulk_item {
    const struct tc_reg_bulk_entry *in;
    struct tc_reg_bulk_result *out;
    struct tc_reg_cert_register creg;
    struct cert_reg cr;
    int ready; /* parsed: to be applied */
};

struct bulk_arg {
    const char *type;
    const char *policy;
    struct bulk_item *items;
    size_t n;
};

/* Errors that end the whole call rather than one entry. */
static int
fatal(const struct tc_registry *reg, int ret)
{
    return reg->busy || ret == TC_ERR_REG_DB || ret == TC_ERR_NOMEM ||
           ret == TC_ERR_INTERNAL || ret == TC_ERR_REG_SCHEMA;
}

/*
 * Run sql with p1 and p2 bound (p2 may be NULL: not bound) and copy the
 * first column of the first row into out (cap bytes, "" for NULL).
 */
static int
lookup(struct tc_registry *reg, const char *sql, const char *p1,
       const char *p2, char *out, size_t cap, int *found,
       struct tc_detail *d)
{
    sqlite3_stmt *st = NULL;
    int ret = reg_prepare(reg, &st, sql, d);

    *found = 0;
    if (ret != TC_OK) {
        return ret;
    }
    reg_bind_text(st, 1, p1);
    if (p2 != NULL) {
        reg_bind_text(st, 2, p2);
    }
    ret = reg_step(reg, st, found, "bulk", d);
    if (ret == TC_OK && *found && out != NULL) {
        reg_col_copy(st, 0, out, cap);
    }
    reg_finalize(reg, st);
    return ret;
}

/* The batch-wide objects: a usable thing type and an existing policy. */
static int
check_shared(struct tc_registry *reg, const struct bulk_arg *a,
             struct tc_detail *d)
{
    struct tc_reg_policy p = {0};
    char deprecated[8];
    int found = 0;
    int ret;

    ret = lookup(reg, "SELECT deprecated FROM thing_types WHERE name = ?",
                 a->type, NULL, deprecated, sizeof(deprecated), &found, d);
    if (ret != TC_OK) {
        return ret;
    }
    if (!found) {
        return tc_detail_set(d, TC_ERR_REG_NOT_FOUND, -1, "thingTypeName",
                             "thing type %s does not exist", a->type);
    }
    if (strcmp(deprecated, "0") != 0) {
        return tc_detail_set(d, TC_ERR_REG_INVALID_REQUEST, -1,
                             "thingTypeName", "thing type %s is deprecated",
                             a->type);
    }
    ret = reg_policy_must_load(reg, a->policy, &p, d);
    tc_reg_policy_clear(&p);
    return ret;
}

/* What one entry finds in place, read before it writes anything. */
struct found {
    int thing;     /* a thing of that name exists */
    char type[TC_REG_NAME_MAX];
    int cert;      /* the certificate is registered */
    char status[32];
    int policy;    /* the policy is attached to it */
    int principal; /* the certificate is attached to the thing */
};

/*
 * One statement for every entry of a batch, prepared once: preparing is
 * most of what an entry that is already present costs.
 */
static const char state_sql[] =
    "SELECT (SELECT type_name FROM things WHERE name = ?1), "
    "EXISTS (SELECT 1 FROM things WHERE name = ?1), "
    "(SELECT status FROM certs WHERE id = ?2), "
    "EXISTS (SELECT 1 FROM policy_targets WHERE policy = ?3 AND "
    "cert_id = ?2), "
    "EXISTS (SELECT 1 FROM thing_principals WHERE thing = ?1 AND "
    "cert_id = ?2)";

static int
read_state(struct tc_registry *reg, sqlite3_stmt *st, const char *name,
           const char *id, const char *policy, struct found *f,
           struct tc_detail *d)
{
    int row = 0;
    int ret;

    memset(f, 0, sizeof(*f));
    sqlite3_reset(st);
    reg_bind_text(st, 1, name);
    reg_bind_text(st, 2, id);
    reg_bind_text(st, 3, policy);
    ret = reg_step(reg, st, &row, "bulk", d);
    if (ret != TC_OK || !row) {
        return ret != TC_OK ? ret : TC_ERR_INTERNAL;
    }
    reg_col_copy(st, 0, f->type, sizeof(f->type));
    f->thing = sqlite3_column_int(st, 1);
    f->cert = sqlite3_column_type(st, 2) != SQLITE_NULL;
    reg_col_copy(st, 2, f->status, sizeof(f->status));
    f->policy = sqlite3_column_int(st, 3);
    f->principal = sqlite3_column_int(st, 4);
    sqlite3_reset(st);
    return TC_OK;
}

/*
 * One device, in the order `thingcore register` takes: certificate,
 * policy, status, thing, principal. Refusals come before any write so the
 * reason is the real one; the savepoint undoes the rest on a later error.
 * *changed tells whether anything was written.
 */
static int
apply_one(struct tc_registry *reg, const struct bulk_arg *a,
          sqlite3_stmt *st, struct bulk_item *it, int *changed,
          struct tc_detail *d)
{
    const char *name = it->in->thing_name;
    const char *id = it->cr.id;
    char arn[TC_REG_ARN_MAX];
    struct found f;
    int ret;

    *changed = 0;
    ret = read_state(reg, st, name, id, a->policy, &f, d);
    if (ret != TC_OK) {
        return ret;
    }

    /* A thing of another type is someone else's configuration. */
    if (f.thing && strcmp(f.type, a->type) != 0) {
        return tc_detail_set(d, TC_ERR_REG_ALREADY_EXISTS, -1, "thingName",
                             "thing %s exists with thing type '%s', not "
                             "'%s'",
                             name, f.type[0] ? f.type : "(none)", a->type);
    }

    /* REVOKED is final, as for the single operations. */
    if (f.cert && (strcmp(f.status, "REVOKED") == 0 ||
                   strcmp(f.status, "PENDING_TRANSFER") == 0)) {
        return tc_detail_set(d, TC_ERR_REG_CERT_STATE, -1, "certificatePem",
                             "certificate %s is %s; it cannot be registered "
                             "again",
                             id, f.status);
    }
    if (f.cert && f.policy && strcmp(f.status, "ACTIVE") == 0 && f.thing &&
        f.principal) {
        return TC_OK;
    }
    *changed = 1;
    tc_registry_arn(reg, "cert", id, arn);
    if (!f.cert) {
        ret = reg_do_cert_register(reg, &it->cr, d);
    }

    /* The policy on the certificate. */
    if (ret == TC_OK && !f.policy) {
        struct pol_arg pa = {0};

        pa.name = a->policy;
        memcpy(pa.cert, id, TC_REG_CERT_ID_LEN);
        pa.target = arn;
        ret = reg_do_policy_attach(reg, &pa, d);
    }

    /* A certificate found INACTIVE (a registration cut short) goes on. */
    if (ret == TC_OK && f.cert && strcmp(f.status, "ACTIVE") != 0) {
        struct cert_status cs;

        memcpy(cs.id, id, TC_REG_CERT_ID_LEN);
        cs.status = TC_REG_CERT_ACTIVE;
        cs.force = 0;
        ret = reg_do_cert_status(reg, &cs, d);
    }

    /* The thing, then the certificate attached to it. */
    if (ret == TC_OK && !f.thing) {
        struct thing_create tc = {name, a->type, NULL, NULL, 0};

        ret = reg_do_thing_create(reg, &tc, d);
    }
    if (ret == TC_OK && !f.principal) {
        struct principal_arg pr = {name, "", arn,
                                   TC_REG_PRINCIPAL_NON_EXCLUSIVE};

        memcpy(pr.cert, id, TC_REG_CERT_ID_LEN);
        ret = reg_do_principal_attach(reg, &pr, d);
    }
    return ret;
}

static void
reject(struct tc_reg_bulk_result *r, int err, const struct tc_detail *ed)
{
    r->outcome = TC_REG_BULK_REJECTED;
    r->err = err;
    snprintf(r->reason, sizeof(r->reason), "%s",
             ed->text[0] != '\0' ? ed->text : tc_strerror(err));
}

static int
do_bulk(struct tc_registry *reg, void *arg, struct tc_detail *d)
{
    struct bulk_arg *a = arg;
    sqlite3_stmt *st = NULL;
    size_t i;
    int ret = check_shared(reg, a, d);

    if (ret == TC_OK) {
        ret = reg_prepare(reg, &st, state_sql, d);
    }

    for (i = 0; ret == TC_OK && i < a->n; i++) {
        struct bulk_item *it = &a->items[i];
        struct tc_detail ed;
        int changed = 0;
        int one;

        if (!it->ready) {
            continue;
        }
        tc_detail_clear(&ed);
        ret = reg_exec1(reg, "SAVEPOINT bulk_entry", d);
        if (ret != TC_OK) {
            break;
        }
        one = apply_one(reg, a, st, it, &changed, &ed);
        if (one != TC_OK && fatal(reg, one)) {
            *d = ed;
            ret = one;
            break;
        }
        if (one != TC_OK) {
            ret = reg_exec1(reg, "ROLLBACK TO bulk_entry", d);
            reject(it->out, one, &ed);
        } else {
            it->out->outcome =
                changed ? TC_REG_BULK_REGISTERED : TC_REG_BULK_ALREADY;
            it->out->err = TC_OK;
            it->out->reason[0] = '\0';
        }
        if (ret == TC_OK) {
            ret = reg_exec1(reg, "RELEASE bulk_entry", d);
        }
    }
    reg_finalize(reg, st);
    return ret;
}

/* A shared chain, normalised once per call. */
struct chain_cache {
    const char *src; /* the caller's pointer */
    char *pem;       /* every certificate re-encoded, or NULL on error */
    int err;
    struct tc_detail d;
};

/* The chain text re-encoded certificate by certificate (heap). */
static char *
chain_norm(const char *text, size_t n, int *err, struct tc_detail *d)
{
    X509 *x = NULL;
    char *rest = NULL;
    char *first = NULL;
    char *out = NULL;

    *err = reg_x509_parse(text, n, &x, &rest, "chain", d);
    if (*err == TC_OK) {
        first = reg_x509_pem(x);
        out = first != NULL
                  ? malloc(strlen(first) + (rest != NULL ? strlen(rest) : 0) +
                           1)
                  : NULL;
        if (out == NULL) {
            *err = tc_detail_set(d, TC_ERR_NOMEM, -1, "chain", "no memory");
        } else {
            strcpy(out, first);
            strcat(out, rest != NULL ? rest : "");
        }
    }
    X509_free(x);
    free(first);
    free(rest);
    return out;
}

/* The normalised chain of an entry, from the cache (added when new). */
static const struct chain_cache *
chain_of(struct chain_cache *cache, size_t *n, size_t cap,
         const struct tc_reg_bulk_entry *in)
{
    struct chain_cache *c;
    size_t i;

    for (i = 0; i < *n; i++) {
        if (cache[i].src == in->chain_pem) {
            return &cache[i];
        }
    }
    if (*n == cap) {
        return NULL;
    }
    c = &cache[(*n)++];
    c->src = in->chain_pem;
    tc_detail_clear(&c->d);
    c->pem = chain_norm(in->chain_pem, in->chain_pem_len, &c->err, &c->d);
    return c;
}

/*
 * The fast path for the usual entry, one P-256 certificate in PEM: the
 * DER read by the strict reader rather than decoded into an X509, which
 * costs OpenSSL 3 about 250 us per certificate in its key decoder, more
 * than everything else a registration does. reg_do_cert_register reads
 * only the validity of cr.x for a registration without CA, so cr.x is a
 * stand-in carrying just that. TC_ERR_UNSUPPORTED sends anything else
 * (other keys, a chain inside cert_pem) down the full X509 path.
 */
static int
quick_parse(struct bulk_item *it)
{
    const struct tc_reg_bulk_entry *in = it->in;
    struct tc_der_cert dc;
    BIO *bio = BIO_new_mem_buf(in->cert_pem, (int)in->cert_pem_len);
    BIO *out = BIO_new(BIO_s_mem());
    char *name = NULL;
    char *header = NULL;
    unsigned char *der = NULL;
    char *p = NULL;
    long len = 0;
    long left;
    int ret = TC_ERR_UNSUPPORTED;

    if (bio == NULL || out == NULL ||
        PEM_read_bio(bio, &name, &header, &der, &len) != 1 ||
        strcmp(name, PEM_STRING_X509) != 0 || header[0] != '\0' ||
        tc_der_cert_parse(der, (size_t)len, &dc, NULL) != TC_OK) {
        goto cleanup;
    }
    left = BIO_get_mem_data(bio, &p);
    while (left > 0 && (p[left - 1] == '\n' || p[left - 1] == '\r' ||
                        p[left - 1] == ' ' || p[left - 1] == '\t')) {
        left--;
    }
    if (left > 0) {
        goto cleanup;
    }

    /* What PEM_write_bio_X509 would write: the same DER, re-wrapped. */
    tc_registry_cert_id_of_der(der, (size_t)len, it->cr.id);
    if (PEM_write_bio(out, PEM_STRING_X509, "", der, len) <= 0) {
        ret = TC_ERR_NOMEM;
        goto cleanup;
    }
    len = BIO_get_mem_data(out, &p);
    it->cr.pem = malloc((size_t)len + 1);
    it->cr.x = X509_new();
    if (it->cr.pem == NULL || it->cr.x == NULL ||
        ASN1_TIME_set(X509_getm_notBefore(it->cr.x),
                      (time_t)dc.not_before) == NULL ||
        ASN1_TIME_set(X509_getm_notAfter(it->cr.x), (time_t)dc.not_after) ==
            NULL) {
        ret = TC_ERR_NOMEM;
        goto cleanup;
    }
    memcpy(it->cr.pem, p, (size_t)len);
    it->cr.pem[len] = '\0';
    ret = TC_OK;

cleanup:
    ERR_clear_error();
    OPENSSL_free(name);
    OPENSSL_free(header);
    OPENSSL_free(der);
    BIO_free(bio);
    BIO_free(out);
    return ret;
}

/* chain, then more, into one heap string in *chain (more may be NULL). */
static int
join_chain(char **chain, const char *more)
{
    size_t a = *chain != NULL ? strlen(*chain) : 0;
    char *j;

    if (more == NULL || more[0] == '\0') {
        return TC_OK;
    }
    j = realloc(*chain, a + strlen(more) + 1);
    if (j == NULL) {
        return TC_ERR_NOMEM;
    }
    strcpy(j + a, more);
    *chain = j;
    return TC_OK;
}

/* Parse and check one entry; what fails here never reaches the database. */
static void
prepare(struct bulk_item *it, struct chain_cache *cache, size_t *ncache)
{
    const struct tc_reg_bulk_entry *in = it->in;
    const struct chain_cache *cc = NULL;
    struct tc_detail ed;
    int ret;

    tc_detail_clear(&ed);
    ret = tc_registry_check_thing_name(in->thing_name, "thingName", &ed);
    if (ret == TC_OK && (in->cert_pem == NULL || in->cert_pem_len == 0 ||
                         in->cert_pem_len > TC_REG_PEM_MAX ||
                         in->chain_pem_len > TC_REG_PEM_MAX)) {
        ret = tc_detail_set(&ed, TC_ERR_REG_CERT_VALIDATION, -1,
                            "certificatePem",
                            "certificatePem must hold 1 to %d bytes",
                            TC_REG_PEM_MAX);
    }
    if (ret == TC_OK && in->chain_pem != NULL) {
        cc = chain_of(cache, ncache, TC_REG_BULK_MAX, in);
        if (cc->err != TC_OK) {
            ret = cc->err;
            ed = cc->d;
        }
    }
    if (ret == TC_OK) {
        ret = quick_parse(it);
    }
    if (ret == TC_ERR_UNSUPPORTED) {
        ret = reg_x509_parse(in->cert_pem, in->cert_pem_len, &it->cr.x,
                             &it->cr.chain, "certificatePem", &ed);
        if (ret == TC_OK) {
            it->cr.pem = reg_x509_pem(it->cr.x);
            if (it->cr.pem == NULL ||
                reg_x509_id(it->cr.x, it->cr.id) != TC_OK) {
                ret = tc_detail_set(&ed, TC_ERR_CRYPTO, -1, "certificatePem",
                                    "the certificate cannot be re-encoded");
            }
        }
    }
    if (ret == TC_OK) {
        ret = reg_x509_check_time(it->cr.x, "certificatePem", &ed);
    }
    if (ret == TC_OK && cc != NULL && join_chain(&it->cr.chain, cc->pem)) {
        ret = tc_detail_set(&ed, TC_ERR_NOMEM, -1, "chain", "no memory");
    }
    if (ret != TC_OK) {
        reject(it->out, ret, &ed);
        return;
    }
    memcpy(it->out->cert_id, it->cr.id, TC_REG_CERT_ID_LEN);
    it->creg.pem = in->cert_pem;
    it->creg.pem_len = in->cert_pem_len;
    it->creg.status = TC_REG_CERT_ACTIVE;
    it->creg.without_ca = 1;
    it->cr.in = &it->creg;
    it->cr.status = TC_REG_CERT_ACTIVE;
    it->ready = 1;
}

int
tc_registry_bulk_register(struct tc_registry *reg, const char *thing_type,
                          const char *policy,
                          const struct tc_reg_bulk_entry *in, size_t n,
                          struct tc_reg_bulk_result *out,
                          struct tc_detail *d)
{
    struct bulk_arg a;
    struct chain_cache *cache = NULL;
    size_t ncache = 0;
    size_t i;
    int ret = TC_ERR_INTERNAL;

    memset(&a, 0, sizeof(a));
    if (n > TC_REG_BULK_MAX) {
        return tc_detail_set(d, TC_ERR_REG_INVALID_REQUEST, -1, "devices",
                             "at most %d devices per call, not %zu",
                             TC_REG_BULK_MAX, n);
    }
    if (n > 0) {
        memset(out, 0, n * sizeof(*out));
    }
    ret = tc_registry_check_thing_name(thing_type, "thingTypeName", d);
    if (ret == TC_OK) {
        ret = tc_registry_check_policy_name(policy, d);
    }
    if (ret != TC_OK) {
        return ret;
    }
    a.type = thing_type;
    a.policy = policy;
    a.n = n;
    a.items = calloc(n > 0 ? n : 1, sizeof(*a.items));
    if (a.items == NULL) {
        return tc_detail_set(d, TC_ERR_NOMEM, -1, "devices", "no memory");
    }

    cache = calloc(n > 0 ? n : 1, sizeof(*cache));
    if (cache == NULL) {
        free(a.items);
        return tc_detail_set(d, TC_ERR_NOMEM, -1, "devices", "no memory");
    }

    /* Certificates are parsed before the write lock is taken. */
    for (i = 0; i < n; i++) {
        a.items[i].in = &in[i];
        a.items[i].out = &out[i];
        prepare(&a.items[i], cache, &ncache);
    }
    ret = reg_tx(reg, 1, do_bulk, &a, d);

    for (i = 0; i < n; i++) {
        X509_free(a.items[i].cr.x);
        free(a.items[i].cr.pem);
        free(a.items[i].cr.chain);
    }
    for (i = 0; i < ncache; i++) {
        free(cache[i].pem);
    }
    free(cache);
    free(a.items);
    if (ret != TC_OK && n > 0) {
        memset(out, 0, n * sizeof(*out));
    }
    return ret;
}
