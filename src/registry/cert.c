// SPDX-License-Identifier: Apache-2.0
/*
 * Device certificates and CA certificates with AWS IoT's rules: ids from
 * the DER, registration with or without a CA, the status machine (REVOKED
 * is final), deletion guards, the registration code and proof of
 * possession for CAs, and the lookups the broker needs (the CA that issued
 * a client certificate, the PEMs of all ACTIVE CAs). Certificates are
 * registered, never created: this file holds no private keys.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/err.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include "regpriv.h"
#include "thingcore/util.h"

void
tc_reg_cert_clear(struct tc_reg_cert *c)
{
    if (c == NULL) {
        return;
    }
    free(c->pem);
    free(c->chain_pem);
    memset(c, 0, sizeof(*c));
}

void
tc_reg_cert_list_clear(struct tc_reg_cert_list *l)
{
    size_t i;

    if (l == NULL) {
        return;
    }
    for (i = 0; i < l->n; i++) {
        tc_reg_cert_clear(&l->items[i]);
    }
    free(l->items);
    memset(l, 0, sizeof(*l));
}

void
tc_reg_ca_clear(struct tc_reg_ca *c)
{
    if (c == NULL) {
        return;
    }
    free(c->pem);
    free(c->template_body);
    free(c->role_arn);
    free(c->template_name);
    memset(c, 0, sizeof(*c));
}

void
tc_reg_ca_list_clear(struct tc_reg_ca_list *l)
{
    size_t i;

    if (l == NULL) {
        return;
    }
    for (i = 0; i < l->n; i++) {
        tc_reg_ca_clear(&l->items[i]);
    }
    free(l->items);
    memset(l, 0, sizeof(*l));
}

void
tc_reg_ca_update_init(struct tc_reg_ca_update *u)
{
    memset(u, 0, sizeof(*u));
    u->new_auto_registration = -1;
}

/* Statuses are stored by their model names; parse one back. */
static int
status_of(sqlite3_stmt *st, int col)
{
    const unsigned char *s = sqlite3_column_text(st, col);
    int v = 0;

    if (s == NULL ||
        tc_registry_cert_status_parse((const char *)s, &v, NULL) != TC_OK) {
        return 0;
    }
    return v;
}

static int
mode_of(sqlite3_stmt *st, int col)
{
    const unsigned char *s = sqlite3_column_text(st, col);

    return s != NULL && strcmp((const char *)s, "SNI_ONLY") == 0
               ? TC_REG_MODE_SNI_ONLY
               : TC_REG_MODE_DEFAULT;
}

/* Next value of a table's seq column: creation order for listing. */
static int
next_seq(struct tc_registry *reg, const char *table, long long *out,
         struct tc_detail *d)
{
    sqlite3_stmt *st = NULL;
    char sql[96];
    int row = 0;
    int ret;

    snprintf(sql, sizeof(sql), "SELECT COALESCE(MAX(seq), 0) + 1 FROM %s",
             table);
    ret = reg_prepare(reg, &st, sql, d);
    if (ret != TC_OK) {
        return ret;
    }
    ret = reg_step(reg, st, &row, table, d);
    *out = row ? sqlite3_column_int64(st, 0) : 1;
    reg_finalize(reg, st);
    return ret;
}

/* ---- device certificates ---- */

#define CERT_COLS                                                              \
    "id, ca_id, status, mode, created, modified, not_before, not_after, "      \
    "customer_version, generation_id, seq, pem, chain_pem"

static void
cert_row(struct tc_registry *reg, sqlite3_stmt *st, struct tc_reg_cert *c,
         int full)
{
    reg_col_copy(st, 0, c->id, sizeof(c->id));
    tc_registry_arn(reg, "cert", c->id, c->arn);
    reg_col_copy(st, 1, c->ca_id, sizeof(c->ca_id));
    c->status = status_of(st, 2);
    c->mode = mode_of(st, 3);
    c->creation_date = sqlite3_column_double(st, 4);
    c->last_modified_date = sqlite3_column_double(st, 5);
    c->not_before = sqlite3_column_int64(st, 6);
    c->not_after = sqlite3_column_int64(st, 7);
    c->customer_version = sqlite3_column_int(st, 8);
    reg_col_copy(st, 9, c->generation_id, sizeof(c->generation_id));
    if (full) {
        c->pem = reg_col_dup(st, 11);
        c->chain_pem = reg_col_dup(st, 12);
    }
}

static int
cert_load(struct tc_registry *reg, const char *id, struct tc_reg_cert *c,
          int *found, struct tc_detail *d)
{
    sqlite3_stmt *st = NULL;
    int row = 0;
    int ret;

    *found = 0;
    ret = reg_prepare(reg, &st, "SELECT " CERT_COLS " FROM certs WHERE id = ?",
                      d);
    if (ret != TC_OK) {
        return ret;
    }
    reg_bind_text(st, 1, id);
    ret = reg_step(reg, st, &row, "certificateId", d);
    if (ret == TC_OK && row) {
        *found = 1;
        cert_row(reg, st, c, 1);
        if (c->pem == NULL) {
            ret =
                tc_detail_set(d, TC_ERR_NOMEM, -1, "certificate", "no memory");
        }
    }
    reg_finalize(reg, st);
    return ret;
}

static int
cert_must_load(struct tc_registry *reg, const char *id, struct tc_reg_cert *c,
               struct tc_detail *d)
{
    int found = 0;
    int ret = cert_load(reg, id, c, &found, d);

    if (ret == TC_OK && !found) {
        ret = tc_detail_set(d, TC_ERR_REG_NOT_FOUND, -1, "certificateId",
                            "certificate %s is not registered", id);
    }
    return ret;
}

/*
 * Find a registered CA that issued x: same subject as x's issuer and a key
 * that verifies x. *found = 0 when none does.
 */
static int
find_issuer(struct tc_registry *reg, X509 *x, char id[TC_REG_CERT_ID_LEN],
            int *mode, int *found, struct tc_detail *d)
{
    sqlite3_stmt *st = NULL;
    unsigned char *name = NULL;
    int len = 0;
    int row = 0;
    int ret;

    *found = 0;
    if (reg_x509_name_der(x, 1, &name, &len) != TC_OK) {
        return tc_detail_set(d, TC_ERR_REG_CERT_VALIDATION, -1,
                             "certificatePem", "the issuer name is invalid");
    }
    ret = reg_prepare(reg, &st,
                      "SELECT id, pem, mode FROM cacerts WHERE subject = ? "
                      "ORDER BY seq",
                      d);
    if (ret != TC_OK) {
        OPENSSL_free(name);
        return ret;
    }
    sqlite3_bind_blob(st, 1, name, len, SQLITE_TRANSIENT);
    OPENSSL_free(name);
    for (;;) {
        const char *pem;
        X509 *ca = NULL;

        ret = reg_step(reg, st, &row, "caCertificate", d);
        if (ret != TC_OK || !row) {
            break;
        }
        pem = (const char *)sqlite3_column_text(st, 1);
        if (pem != NULL &&
            reg_x509_parse(pem, strlen(pem), &ca, NULL, "ca", NULL) == TC_OK &&
            reg_x509_issued_by(x, ca)) {
            reg_col_copy(st, 0, id, TC_REG_CERT_ID_LEN);
            *mode = mode_of(st, 2);
            *found = 1;
        }
        X509_free(ca);
        if (*found) {
            break;
        }
    }
    reg_finalize(reg, st);
    return ret;
}

int
reg_do_cert_register(struct tc_registry *reg, void *arg, struct tc_detail *d)
{
    struct cert_reg *a = arg;
    sqlite3_stmt *st = NULL;
    char ca_id[TC_REG_CERT_ID_LEN] = "";
    char gen[TC_REG_UUID_LEN];
    long long nb = 0;
    long long na = 0;
    long long seq = 0;
    int mode = TC_REG_MODE_DEFAULT;
    int found = 0;
    int row = 0;
    int ret;

    ret = reg_prepare(reg, &st, "SELECT 1 FROM certs WHERE id = ?", d);
    if (ret != TC_OK) {
        return ret;
    }
    reg_bind_text(st, 1, a->id);
    ret = reg_step(reg, st, &row, "certificate", d);
    reg_finalize(reg, st);
    st = NULL;
    if (ret != TC_OK) {
        return ret;
    }
    if (row) {
        return reg_conflict(reg, "cert", a->id, d,
                            "The certificate is already provisioned or "
                            "registered");
    }

    /* Which CA, if any, the certificate belongs to. */
    if (a->in->without_ca) {
        mode = TC_REG_MODE_SNI_ONLY;
    } else if (a->ca != NULL) {
        char given[TC_REG_CERT_ID_LEN];

        ret = reg_x509_id(a->ca, given);
        if (ret != TC_OK) {
            return tc_detail_set(d, TC_ERR_REG_CERT_VALIDATION, -1,
                                 "caCertificatePem",
                                 "the CA certificate cannot be encoded");
        }
        if (!reg_x509_issued_by(a->x, a->ca)) {
            return tc_detail_set(d, TC_ERR_REG_CERT_VALIDATION, -1,
                                 "caCertificatePem",
                                 "the certificate was not issued by the "
                                 "given CA certificate (issuer name or "
                                 "signature differ)");
        }
        ret = reg_prepare(reg, &st, "SELECT mode FROM cacerts WHERE id = ?", d);
        if (ret != TC_OK) {
            return ret;
        }
        reg_bind_text(st, 1, given);
        ret = reg_step(reg, st, &row, "caCertificate", d);
        if (ret == TC_OK && row) {
            mode = mode_of(st, 0);
        }
        reg_finalize(reg, st);
        st = NULL;
        if (ret != TC_OK) {
            return ret;
        }
        if (!row) {
            return tc_detail_set(d, TC_ERR_REG_CERT_VALIDATION, -1,
                                 "caCertificatePem",
                                 "CA certificate %s is not registered", given);
        }
        snprintf(ca_id, sizeof(ca_id), "%s", given);
    } else {
        ret = find_issuer(reg, a->x, ca_id, &mode, &found, d);
        if (ret != TC_OK) {
            return ret;
        }
        if (!found) {
            ca_id[0] = '\0';
            mode = TC_REG_MODE_DEFAULT;
        }
    }

    ret = reg_x509_validity(a->x, &nb, &na, d);
    if (ret == TC_OK) {
        ret = next_seq(reg, "certs", &seq, d);
    }
    if (ret != TC_OK) {
        return ret;
    }
    reg_uuid(gen);
    ret = reg_prepare(reg, &st,
                      "INSERT INTO certs (id, seq, pem, chain_pem, ca_id, "
                      "status, mode, created, modified, not_before, "
                      "not_after, customer_version, generation_id) VALUES "
                      "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?)",
                      d);
    if (ret != TC_OK) {
        return ret;
    }
    reg_bind_text(st, 1, a->id);
    sqlite3_bind_int64(st, 2, seq);
    reg_bind_text(st, 3, a->pem);
    reg_bind_text(st, 4, a->chain);
    reg_bind_text(st, 5, ca_id[0] != '\0' ? ca_id : NULL);
    reg_bind_text(st, 6, tc_registry_cert_status_name(a->status));
    reg_bind_text(st, 7, tc_registry_cert_mode_name(mode));
    sqlite3_bind_double(st, 8, tc_now());
    sqlite3_bind_double(st, 9, tc_now());
    sqlite3_bind_int64(st, 10, nb);
    sqlite3_bind_int64(st, 11, na);
    reg_bind_text(st, 12, gen);
    ret = reg_step(reg, st, NULL, "certificate", d);
    reg_finalize(reg, st);
    if (ret != TC_OK) {
        return ret;
    }
    return reg_event(
        reg, "certificate.register", "certificate", a->id,
        json_pack("{s:s, s:s?, s:s, s:s}", "status",
                  tc_registry_cert_status_name(a->status), "caCertificateId",
                  ca_id[0] != '\0' ? ca_id : NULL, "certificateMode",
                  tc_registry_cert_mode_name(mode), "actorKind",
                  a->in->system ? "system" : "api"),
        d);
}

int
tc_registry_cert_register(struct tc_registry *reg,
                          const struct tc_reg_cert_register *in,
                          char id_out[TC_REG_CERT_ID_LEN], struct tc_detail *d)
{
    struct cert_reg a = {0};
    int ret = TC_ERR_INTERNAL;

    a.in = in;
    if (id_out != NULL) {
        id_out[0] = '\0';
    }

    /* The status a registration may ask for. */
    a.status = in->status != 0 ? in->status : TC_REG_CERT_INACTIVE;
    if (a.status != TC_REG_CERT_ACTIVE && a.status != TC_REG_CERT_INACTIVE &&
        a.status != TC_REG_CERT_REGISTER_INACTIVE &&
        !(in->system && a.status == TC_REG_CERT_PENDING_ACTIVATION)) {
        return tc_detail_set(d, TC_ERR_REG_INVALID_REQUEST, -1, "status",
                             "a certificate cannot be registered as %s",
                             tc_registry_cert_status_name(a.status)[0] != '\0'
                                 ? tc_registry_cert_status_name(a.status)
                                 : "an unknown status");
    }
    if (in->without_ca && in->ca_pem != NULL) {
        return tc_detail_set(d, TC_ERR_REG_INVALID_REQUEST, -1,
                             "caCertificatePem",
                             "a registration without CA takes no CA");
    }

    ret = reg_x509_parse(in->pem, in->pem_len, &a.x, &a.chain, "certificatePem",
                         d);
    if (ret != TC_OK) {
        goto cleanup;
    }
    if (in->ca_pem != NULL) {
        ret = reg_x509_parse(in->ca_pem, in->ca_pem_len, &a.ca, NULL,
                             "caCertificatePem", d);
        if (ret != TC_OK) {
            goto cleanup;
        }
    }
    ret = reg_x509_check_time(a.x, "certificatePem", d);
    if (ret != TC_OK) {
        goto cleanup;
    }
    a.pem = reg_x509_pem(a.x);
    if (a.pem == NULL || reg_x509_id(a.x, a.id) != TC_OK) {
        ret = tc_detail_set(d, TC_ERR_CRYPTO, -1, "certificatePem",
                            "the certificate cannot be re-encoded");
        goto cleanup;
    }
    if (id_out != NULL) {
        memcpy(id_out, a.id, TC_REG_CERT_ID_LEN);
    }
    ret = reg_tx(reg, 1, reg_do_cert_register, &a, d);

cleanup:
    X509_free(a.x);
    X509_free(a.ca);
    free(a.pem);
    free(a.chain);
    return ret;
}

struct cert_get {
    char id[TC_REG_CERT_ID_LEN];
    struct tc_reg_cert *out;
};

static int
do_cert_describe(struct tc_registry *reg, void *arg, struct tc_detail *d)
{
    struct cert_get *a = arg;

    return cert_must_load(reg, a->id, a->out, d);
}

int
tc_registry_cert_describe(struct tc_registry *reg, const char *id,
                          struct tc_reg_cert *out, struct tc_detail *d)
{
    struct cert_get a;
    int ret;

    memset(out, 0, sizeof(*out));
    a.out = out;
    ret = reg_cert_id_norm(id, a.id, "certificateId", d);
    if (ret == TC_OK) {
        ret = reg_tx(reg, 0, do_cert_describe, &a, d);
    }
    if (ret != TC_OK) {
        tc_reg_cert_clear(out);
    }
    return ret;
}

int
reg_do_cert_status(struct tc_registry *reg, void *arg, struct tc_detail *d)
{
    struct cert_status *a = arg;
    struct tc_reg_cert c = {0};
    sqlite3_stmt *st = NULL;
    char gen[TC_REG_UUID_LEN];
    int ret;

    ret = cert_must_load(reg, a->id, &c, d);
    if (ret != TC_OK) {
        goto cleanup;
    }
    if (c.status == a->status) {
        goto cleanup;
    }

    /* REVOKED is final; a transfer in flight is not ours to change. */
    if (c.status == TC_REG_CERT_REVOKED ||
        c.status == TC_REG_CERT_PENDING_TRANSFER) {
        ret = tc_detail_set(d, TC_ERR_REG_CERT_STATE, -1, "newStatus",
                            "certificate %s is %s; its status cannot change",
                            a->id, tc_registry_cert_status_name(c.status));
        goto cleanup;
    }
    reg_uuid(gen);
    ret = reg_prepare(reg, &st,
                      "UPDATE certs SET status = ?, modified = ?, "
                      "customer_version = customer_version + 1, "
                      "generation_id = ? WHERE id = ?",
                      d);
    if (ret != TC_OK) {
        goto cleanup;
    }
    reg_bind_text(st, 1, tc_registry_cert_status_name(a->status));
    sqlite3_bind_double(st, 2, tc_now());
    reg_bind_text(st, 3, gen);
    reg_bind_text(st, 4, a->id);
    ret = reg_step(reg, st, NULL, "certificate", d);
    if (ret == TC_OK) {
        ret = reg_event(reg, "certificate.status", "certificate", a->id,
                        json_pack("{s:s, s:s}", "from",
                                  tc_registry_cert_status_name(c.status), "to",
                                  tc_registry_cert_status_name(a->status)),
                        d);
    }

cleanup:
    reg_finalize(reg, st);
    tc_reg_cert_clear(&c);
    return ret;
}

int
tc_registry_cert_update_status(struct tc_registry *reg, const char *id,
                               int new_status, struct tc_detail *d)
{
    struct cert_status a;
    int ret;

    ret = reg_cert_id_norm(id, a.id, "certificateId", d);
    if (ret != TC_OK) {
        return ret;
    }
    a.status = new_status;
    a.force = 0;
    if (tc_registry_cert_status_name(new_status)[0] == '\0') {
        return tc_detail_set(d, TC_ERR_REG_INVALID_REQUEST, -1, "newStatus",
                             "unknown certificate status %d", new_status);
    }
    if (new_status == TC_REG_CERT_PENDING_TRANSFER ||
        new_status == TC_REG_CERT_PENDING_ACTIVATION) {
        return tc_detail_set(d, TC_ERR_REG_INVALID_REQUEST, -1, "newStatus",
                             "%s is set by the system only",
                             tc_registry_cert_status_name(new_status));
    }
    return reg_tx(reg, 1, reg_do_cert_status, &a, d);
}

/* Count rows of table where col = id. */
static int
count_where(struct tc_registry *reg, const char *table, const char *col,
            const char *id, long long *n, struct tc_detail *d)
{
    sqlite3_stmt *st = NULL;
    char sql[128];
    int row = 0;
    int ret;

    snprintf(sql, sizeof(sql), "SELECT COUNT(*) FROM %s WHERE %s = ?", table,
             col);
    ret = reg_prepare(reg, &st, sql, d);
    if (ret != TC_OK) {
        return ret;
    }
    reg_bind_text(st, 1, id);
    ret = reg_step(reg, st, &row, table, d);
    *n = row ? sqlite3_column_int64(st, 0) : 0;
    reg_finalize(reg, st);
    return ret;
}

static int
do_cert_delete(struct tc_registry *reg, void *arg, struct tc_detail *d)
{
    struct cert_status *a = arg;
    struct tc_reg_cert c = {0};
    sqlite3_stmt *st = NULL;
    long long things = 0;
    long long policies = 0;
    int ret;

    ret = cert_must_load(reg, a->id, &c, d);
    if (ret != TC_OK) {
        goto cleanup;
    }
    if (c.status == TC_REG_CERT_ACTIVE ||
        c.status == TC_REG_CERT_PENDING_TRANSFER) {
        ret = tc_detail_set(d, TC_ERR_REG_CERT_STATE, -1, "certificateId",
                            "certificate %s is %s; deactivate or revoke it "
                            "before deleting it",
                            a->id, tc_registry_cert_status_name(c.status));
        goto cleanup;
    }
    ret = count_where(reg, "thing_principals", "cert_id", a->id, &things, d);
    if (ret == TC_OK) {
        ret =
            count_where(reg, "policy_targets", "cert_id", a->id, &policies, d);
    }
    if (ret != TC_OK) {
        goto cleanup;
    }
    if (things > 0) {
        ret = tc_detail_set(d, TC_ERR_REG_DELETE_CONFLICT, -1, "certificateId",
                            "certificate %s is attached to %lld thing(s)",
                            a->id, things);
        goto cleanup;
    }
    if (policies > 0 && !a->force) {
        ret = tc_detail_set(d, TC_ERR_REG_DELETE_CONFLICT, -1, "certificateId",
                            "certificate %s has %lld policies attached", a->id,
                            policies);
        goto cleanup;
    }

    /* forceDelete detaches the policies in the same transaction. */
    if (policies > 0) {
        ret = reg_prepare(reg, &st,
                          "DELETE FROM policy_targets WHERE cert_id = ?", d);
        if (ret != TC_OK) {
            goto cleanup;
        }
        reg_bind_text(st, 1, a->id);
        ret = reg_step(reg, st, NULL, "policy", d);
        reg_finalize(reg, st);
        st = NULL;
        if (ret != TC_OK) {
            goto cleanup;
        }
    }
    ret = reg_prepare(reg, &st, "DELETE FROM certs WHERE id = ?", d);
    if (ret != TC_OK) {
        goto cleanup;
    }
    reg_bind_text(st, 1, a->id);
    ret = reg_step(reg, st, NULL, "certificate", d);
    if (ret == TC_OK) {
        ret = reg_event(reg, "certificate.delete", "certificate", a->id,
                        json_pack("{s:s, s:I}", "status",
                                  tc_registry_cert_status_name(c.status),
                                  "policiesDetached", (json_int_t)policies),
                        d);
    }

cleanup:
    reg_finalize(reg, st);
    tc_reg_cert_clear(&c);
    return ret;
}

int
tc_registry_cert_delete(struct tc_registry *reg, const char *id,
                        int force_delete, struct tc_detail *d)
{
    struct cert_status a;
    int ret;

    ret = reg_cert_id_norm(id, a.id, "certificateId", d);
    if (ret != TC_OK) {
        return ret;
    }
    a.status = 0;
    a.force = force_delete;
    return reg_tx(reg, 1, do_cert_delete, &a, d);
}

struct cert_list {
    const char *ca_id;
    const struct tc_reg_page *page;
    struct tc_reg_cert_list *out;
};

/* Decode a numeric key ("seq") from a token. */
static int
key_seq(const char *key, int descending, long long *seq, struct tc_detail *d)
{
    char *end = NULL;

    if (key[0] == '\0') {
        *seq = descending ? INT64_MAX : 0;
        return TC_OK;
    }
    *seq = strtoll(key, &end, 10);
    if (end == key || *end != '\0' || *seq < 0) {
        return tc_detail_set(d, TC_ERR_REG_INVALID_REQUEST, -1, "marker",
                             "the pagination marker is not valid");
    }
    return TC_OK;
}

static int
do_cert_list(struct tc_registry *reg, void *arg, struct tc_detail *d)
{
    struct cert_list *a = arg;
    int desc = a->page != NULL && a->page->descending;
    sqlite3_stmt *st = NULL;
    char key[32];
    long long seq = 0;
    long long last = 0;
    int limit = 0;
    int row = 0;
    int ret;

    ret = reg_page_start(a->page, &limit, key, sizeof(key), d);
    if (ret == TC_OK) {
        ret = key_seq(key, desc, &seq, d);
    }
    if (ret == TC_OK && a->ca_id != NULL) {
        long long n = 0;

        ret = count_where(reg, "cacerts", "id", a->ca_id, &n, d);
        if (ret == TC_OK && n == 0) {
            ret =
                tc_detail_set(d, TC_ERR_REG_NOT_FOUND, -1, "caCertificateId",
                              "CA certificate %s is not registered", a->ca_id);
        }
    }
    if (ret != TC_OK) {
        return ret;
    }
    ret = reg_prepare(reg, &st,
                      desc ? "SELECT " CERT_COLS " FROM certs WHERE seq < ?1 "
                             "AND (?2 IS NULL OR ca_id = ?2) "
                             "ORDER BY seq DESC LIMIT ?3"
                           : "SELECT " CERT_COLS " FROM certs WHERE seq > ?1 "
                             "AND (?2 IS NULL OR ca_id = ?2) "
                             "ORDER BY seq LIMIT ?3",
                      d);
    if (ret != TC_OK) {
        return ret;
    }
    sqlite3_bind_int64(st, 1, seq);
    reg_bind_text(st, 2, a->ca_id);
    sqlite3_bind_int(st, 3, limit + 1);
    for (;;) {
        struct tc_reg_cert *c;

        ret = reg_step(reg, st, &row, "certificates", d);
        if (ret != TC_OK || !row) {
            break;
        }
        if (a->out->n == (size_t)limit) {
            snprintf(key, sizeof(key), "%lld", last);
            reg_page_token(key, a->out->next);
            break;
        }
        c = reg_list_push((void **)&a->out->items, &a->out->n, sizeof(*c));
        if (c == NULL) {
            ret =
                tc_detail_set(d, TC_ERR_NOMEM, -1, "certificates", "no memory");
            break;
        }
        cert_row(reg, st, c, 0);
        last = sqlite3_column_int64(st, 10);
    }
    reg_finalize(reg, st);
    return ret;
}

int
tc_registry_cert_list(struct tc_registry *reg, const struct tc_reg_page *page,
                      struct tc_reg_cert_list *out, struct tc_detail *d)
{
    struct cert_list a = {NULL, page, out};
    int ret;

    memset(out, 0, sizeof(*out));
    ret = reg_tx(reg, 0, do_cert_list, &a, d);
    if (ret != TC_OK) {
        tc_reg_cert_list_clear(out);
    }
    return ret;
}

int
tc_registry_cert_list_by_ca(struct tc_registry *reg, const char *ca_id,
                            const struct tc_reg_page *page,
                            struct tc_reg_cert_list *out, struct tc_detail *d)
{
    char id[TC_REG_CERT_ID_LEN];
    struct cert_list a = {id, page, out};
    int ret;

    memset(out, 0, sizeof(*out));
    ret = reg_cert_id_norm(ca_id, id, "caCertificateId", d);
    if (ret == TC_OK) {
        ret = reg_tx(reg, 0, do_cert_list, &a, d);
    }
    if (ret != TC_OK) {
        tc_reg_cert_list_clear(out);
    }
    return ret;
}

/* ---- registration code ---- */

static int
do_code(struct tc_registry *reg, void *arg, struct tc_detail *d)
{
    char *out = arg;
    unsigned char r[32];
    int found = 0;
    int ret;

    ret =
        reg_meta_get(reg, "registration_code", out, TC_REG_CODE_LEN, &found, d);
    if (ret != TC_OK || found) {
        return ret;
    }
    if (RAND_bytes(r, sizeof(r)) != 1) {
        return tc_detail_set(d, TC_ERR_CRYPTO, -1, "registrationCode",
                             "no random bytes");
    }
    tc_hex_encode(r, sizeof(r), out, 0);
    ret = reg_meta_set(reg, "registration_code", out, d);
    if (ret == TC_OK) {
        ret = reg_event(reg, "meta.registration_code", "meta",
                        "registration_code", NULL, d);
    }
    return ret;
}

int
tc_registry_registration_code(struct tc_registry *reg,
                              char out[TC_REG_CODE_LEN], struct tc_detail *d)
{
    int found = 0;
    int ret;

    /* Read first: after the first call no writer lock is ever needed. */
    out[0] = '\0';
    ret =
        reg_meta_get(reg, "registration_code", out, TC_REG_CODE_LEN, &found, d);
    if (ret != TC_OK || found) {
        return ret;
    }
    return reg_tx(reg, 1, do_code, out, d);
}

/* ---- CA certificates ---- */

#define CA_COLS                                                                \
    "id, status, auto_registration, mode, created, modified, not_before, "     \
    "not_after, customer_version, generation_id, seq, pem, template_body, "    \
    "role_arn, template_name"

static void
ca_row(struct tc_registry *reg, sqlite3_stmt *st, struct tc_reg_ca *c, int full)
{
    reg_col_copy(st, 0, c->id, sizeof(c->id));
    tc_registry_arn(reg, "cacert", c->id, c->arn);
    c->status = status_of(st, 1);
    c->auto_registration = sqlite3_column_int(st, 2);
    c->mode = mode_of(st, 3);
    c->creation_date = sqlite3_column_double(st, 4);
    c->last_modified_date = sqlite3_column_double(st, 5);
    c->not_before = sqlite3_column_int64(st, 6);
    c->not_after = sqlite3_column_int64(st, 7);
    c->customer_version = sqlite3_column_int(st, 8);
    reg_col_copy(st, 9, c->generation_id, sizeof(c->generation_id));
    if (full) {
        c->pem = reg_col_dup(st, 11);
        c->template_body = reg_col_dup(st, 12);
        c->role_arn = reg_col_dup(st, 13);
        c->template_name = reg_col_dup(st, 14);
    }
}

static int
ca_load(struct tc_registry *reg, const char *id, struct tc_reg_ca *c,
        int *found, struct tc_detail *d)
{
    sqlite3_stmt *st = NULL;
    int row = 0;
    int ret;

    *found = 0;
    ret = reg_prepare(reg, &st, "SELECT " CA_COLS " FROM cacerts WHERE id = ?",
                      d);
    if (ret != TC_OK) {
        return ret;
    }
    reg_bind_text(st, 1, id);
    ret = reg_step(reg, st, &row, "caCertificateId", d);
    if (ret == TC_OK && row) {
        *found = 1;
        ca_row(reg, st, c, 1);
        if (c->pem == NULL) {
            ret = tc_detail_set(d, TC_ERR_NOMEM, -1, "caCertificate",
                                "no memory");
        }
    }
    reg_finalize(reg, st);
    return ret;
}

static int
ca_must_load(struct tc_registry *reg, const char *id, struct tc_reg_ca *c,
             struct tc_detail *d)
{
    int found = 0;
    int ret = ca_load(reg, id, c, &found, d);

    if (ret == TC_OK && !found) {
        ret = tc_detail_set(d, TC_ERR_REG_NOT_FOUND, -1, "caCertificateId",
                            "CA certificate %s is not registered", id);
    }
    return ret;
}

static int
template_exists(struct tc_registry *reg, const char *name, struct tc_detail *d)
{
    long long n = 0;
    int ret = count_where(reg, "templates", "name", name, &n, d);

    if (ret == TC_OK && n == 0) {
        ret = tc_detail_set(d, TC_ERR_REG_NOT_FOUND, -1, "templateName",
                            "provisioning template %s does not exist", name);
    }
    return ret;
}

/* Check a registrationConfig before it is stored. */
static int
check_reg_config(const char *body, const char *role_arn,
                 const char *template_name, struct tc_detail *d)
{
    int ret = TC_OK;

    if (body != NULL) {
        ret = reg_check_json_object(body, TC_REG_TEMPLATE_BODY_MAX,
                                    "templateBody", d);
    }
    if (ret == TC_OK && role_arn != NULL &&
        (strlen(role_arn) < 20 || strlen(role_arn) > 2048)) {
        ret = tc_detail_set(d, TC_ERR_REG_INVALID_REQUEST, -1, "roleArn",
                            "a role ARN is 20 to 2048 characters");
    }
    if (ret == TC_OK && template_name != NULL) {
        ret = tc_registry_check_template_name(template_name, d);
    }
    return ret;
}

struct ca_reg {
    const struct tc_reg_ca_register *in;
    X509 *ca;
    char *pem;
    unsigned char *subject;
    int subject_len;
    char id[TC_REG_CERT_ID_LEN];
};

static int
do_ca_register(struct tc_registry *reg, void *arg, struct tc_detail *d)
{
    struct ca_reg *a = arg;
    const struct tc_reg_ca_register *in = a->in;
    sqlite3_stmt *st = NULL;
    char gen[TC_REG_UUID_LEN];
    long long nb = 0;
    long long na = 0;
    long long seq = 0;
    long long n = 0;
    int ret;

    ret = count_where(reg, "cacerts", "id", a->id, &n, d);
    if (ret != TC_OK) {
        return ret;
    }
    if (n > 0) {
        return reg_conflict(reg, "cacert", a->id, d,
                            "CA certificate %s is already registered", a->id);
    }
    if (in->template_name != NULL) {
        ret = template_exists(reg, in->template_name, d);
        if (ret != TC_OK) {
            return ret;
        }
    }
    ret = reg_x509_validity(a->ca, &nb, &na, d);
    if (ret == TC_OK) {
        ret = next_seq(reg, "cacerts", &seq, d);
    }
    if (ret != TC_OK) {
        return ret;
    }
    reg_uuid(gen);
    ret = reg_prepare(reg, &st,
                      "INSERT INTO cacerts (id, seq, pem, subject, status, "
                      "auto_registration, mode, created, modified, "
                      "not_before, not_after, customer_version, "
                      "generation_id, template_body, role_arn, "
                      "template_name) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, "
                      "?, ?, 1, ?, ?, ?, ?)",
                      d);
    if (ret != TC_OK) {
        return ret;
    }
    reg_bind_text(st, 1, a->id);
    sqlite3_bind_int64(st, 2, seq);
    reg_bind_text(st, 3, a->pem);
    sqlite3_bind_blob(st, 4, a->subject, a->subject_len, SQLITE_TRANSIENT);
    reg_bind_text(st, 5, in->set_active ? "ACTIVE" : "INACTIVE");
    sqlite3_bind_int(st, 6, in->allow_auto_registration ? 1 : 0);
    reg_bind_text(st, 7, tc_registry_cert_mode_name(in->mode));
    sqlite3_bind_double(st, 8, tc_now());
    sqlite3_bind_double(st, 9, tc_now());
    sqlite3_bind_int64(st, 10, nb);
    sqlite3_bind_int64(st, 11, na);
    reg_bind_text(st, 12, gen);
    reg_bind_text(st, 13, in->template_body);
    reg_bind_text(st, 14, in->role_arn);
    reg_bind_text(st, 15, in->template_name);
    ret = reg_step(reg, st, NULL, "caCertificate", d);
    reg_finalize(reg, st);
    if (ret != TC_OK) {
        return ret;
    }
    return reg_event(
        reg, "cacertificate.register", "cacertificate", a->id,
        json_pack("{s:s, s:b, s:s}", "status",
                  in->set_active ? "ACTIVE" : "INACTIVE", "autoRegistration",
                  in->allow_auto_registration ? 1 : 0, "certificateMode",
                  tc_registry_cert_mode_name(in->mode)),
        d);
}

/*
 * Proof of possession: the verification certificate names the registration
 * code as its subject CN and carries a signature the CA's key made.
 */
static int
check_verification(struct tc_registry *reg, X509 *ca,
                   const struct tc_reg_ca_register *in, struct tc_detail *d)
{
    X509 *v = NULL;
    char code[TC_REG_CODE_LEN];
    const X509_NAME *subj;
    const ASN1_STRING *cn;
    int idx;
    int ret;

    if (in->verification_pem == NULL) {
        return tc_detail_set(d, TC_ERR_REG_INVALID_REQUEST, -1,
                             "verificationCertificate",
                             "DEFAULT mode needs a verification certificate");
    }
    ret = reg_x509_parse(in->verification_pem, in->verification_pem_len, &v,
                         NULL, "verificationCertificate", d);
    if (ret != TC_OK) {
        return ret;
    }
    ret = tc_registry_registration_code(reg, code, d);
    if (ret != TC_OK) {
        goto cleanup;
    }
    subj = X509_get_subject_name(v);
    idx = X509_NAME_get_index_by_NID(subj, NID_commonName, -1);
    cn = idx >= 0 ? X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subj, idx))
                  : NULL;
    if (cn == NULL || (size_t)ASN1_STRING_length(cn) != strlen(code) ||
        strncasecmp((const char *)ASN1_STRING_get0_data(cn), code,
                    strlen(code)) != 0) {
        ret = tc_detail_set(d, TC_ERR_REG_CODE_VALIDATION, -1,
                            "verificationCertificate",
                            "the verification certificate's common name is "
                            "not this account's registration code");
        goto cleanup;
    }
    if (!reg_x509_issued_by(v, ca)) {
        ret = tc_detail_set(d, TC_ERR_REG_CERT_VALIDATION, -1,
                            "verificationCertificate",
                            "the verification certificate was not signed by "
                            "the CA's key");
        goto cleanup;
    }
    ret = reg_x509_check_time(v, "verificationCertificate", d);

cleanup:
    X509_free(v);
    return ret;
}

int
tc_registry_ca_register(struct tc_registry *reg,
                        const struct tc_reg_ca_register *in,
                        char id_out[TC_REG_CERT_ID_LEN], struct tc_detail *d)
{
    struct ca_reg a = {0};
    int ret = TC_ERR_INTERNAL;

    a.in = in;
    if (id_out != NULL) {
        id_out[0] = '\0';
    }
    if (in->mode != TC_REG_MODE_DEFAULT && in->mode != TC_REG_MODE_SNI_ONLY) {
        return tc_detail_set(d, TC_ERR_REG_INVALID_REQUEST, -1,
                             "certificateMode", "unknown certificate mode");
    }
    ret =
        check_reg_config(in->template_body, in->role_arn, in->template_name, d);
    if (ret != TC_OK) {
        return ret;
    }
    ret = reg_x509_parse(in->ca_pem, in->ca_pem_len, &a.ca, NULL,
                         "caCertificate", d);
    if (ret != TC_OK) {
        goto cleanup;
    }
    if ((X509_get_extension_flags(a.ca) & EXFLAG_CA) == 0) {
        ret = tc_detail_set(d, TC_ERR_REG_CERT_VALIDATION, -1, "caCertificate",
                            "the certificate is not a CA (basicConstraints "
                            "CA:TRUE is missing)");
        goto cleanup;
    }
    ret = reg_x509_check_time(a.ca, "caCertificate", d);
    if (ret != TC_OK) {
        goto cleanup;
    }
    if (in->mode == TC_REG_MODE_DEFAULT) {
        ret = check_verification(reg, a.ca, in, d);
        if (ret != TC_OK) {
            goto cleanup;
        }
    }
    a.pem = reg_x509_pem(a.ca);
    if (a.pem == NULL || reg_x509_id(a.ca, a.id) != TC_OK ||
        reg_x509_name_der(a.ca, 0, &a.subject, &a.subject_len) != TC_OK) {
        ret = tc_detail_set(d, TC_ERR_CRYPTO, -1, "caCertificate",
                            "the CA certificate cannot be re-encoded");
        goto cleanup;
    }
    if (id_out != NULL) {
        memcpy(id_out, a.id, TC_REG_CERT_ID_LEN);
    }
    ret = reg_tx(reg, 1, do_ca_register, &a, d);

cleanup:
    X509_free(a.ca);
    free(a.pem);
    OPENSSL_free(a.subject);
    return ret;
}

struct ca_get {
    char id[TC_REG_CERT_ID_LEN];
    struct tc_reg_ca *out;
    const struct tc_reg_ca_update *u;
};

static int
do_ca_describe(struct tc_registry *reg, void *arg, struct tc_detail *d)
{
    struct ca_get *a = arg;

    return ca_must_load(reg, a->id, a->out, d);
}

int
tc_registry_ca_describe(struct tc_registry *reg, const char *id,
                        struct tc_reg_ca *out, struct tc_detail *d)
{
    struct ca_get a;
    int ret;

    memset(out, 0, sizeof(*out));
    a.out = out;
    a.u = NULL;
    ret = reg_cert_id_norm(id, a.id, "caCertificateId", d);
    if (ret == TC_OK) {
        ret = reg_tx(reg, 0, do_ca_describe, &a, d);
    }
    if (ret != TC_OK) {
        tc_reg_ca_clear(out);
    }
    return ret;
}

static int
do_ca_update(struct tc_registry *reg, void *arg, struct tc_detail *d)
{
    struct ca_get *a = arg;
    const struct tc_reg_ca_update *u = a->u;
    struct tc_reg_ca c = {0};
    sqlite3_stmt *st = NULL;
    const char *body;
    const char *role;
    const char *tname;
    int status;
    int autoreg;
    int ret;

    ret = ca_must_load(reg, a->id, &c, d);
    if (ret != TC_OK) {
        goto cleanup;
    }
    status = u->new_status != 0 ? u->new_status : c.status;
    autoreg = u->new_auto_registration >= 0 ? u->new_auto_registration
                                            : c.auto_registration;
    body = c.template_body;
    role = c.role_arn;
    tname = c.template_name;
    if (u->remove_auto_registration) {
        body = NULL;
        role = NULL;
        tname = NULL;
    } else if (u->set_config) {
        body = u->template_body;
        role = u->role_arn;
        tname = u->template_name;
        if (tname != NULL) {
            ret = template_exists(reg, tname, d);
            if (ret != TC_OK) {
                goto cleanup;
            }
        }
    }
    ret = reg_prepare(reg, &st,
                      "UPDATE cacerts SET status = ?, auto_registration = ?, "
                      "template_body = ?, role_arn = ?, template_name = ?, "
                      "modified = ?, customer_version = customer_version + 1 "
                      "WHERE id = ?",
                      d);
    if (ret != TC_OK) {
        goto cleanup;
    }
    reg_bind_text(st, 1, tc_registry_cert_status_name(status));
    sqlite3_bind_int(st, 2, autoreg ? 1 : 0);
    reg_bind_text(st, 3, body);
    reg_bind_text(st, 4, role);
    reg_bind_text(st, 5, tname);
    sqlite3_bind_double(st, 6, tc_now());
    reg_bind_text(st, 7, a->id);
    ret = reg_step(reg, st, NULL, "caCertificate", d);
    if (ret == TC_OK) {
        ret = reg_event(reg, "cacertificate.update", "cacertificate", a->id,
                        json_pack("{s:s, s:s, s:b}", "from",
                                  tc_registry_cert_status_name(c.status), "to",
                                  tc_registry_cert_status_name(status),
                                  "autoRegistration", autoreg ? 1 : 0),
                        d);
    }

cleanup:
    reg_finalize(reg, st);
    tc_reg_ca_clear(&c);
    return ret;
}

int
tc_registry_ca_update(struct tc_registry *reg, const char *id,
                      const struct tc_reg_ca_update *u, struct tc_detail *d)
{
    struct ca_get a;
    int ret;

    a.out = NULL;
    a.u = u;
    ret = reg_cert_id_norm(id, a.id, "caCertificateId", d);
    if (ret != TC_OK) {
        return ret;
    }
    if (u->new_status != 0 && u->new_status != TC_REG_CERT_ACTIVE &&
        u->new_status != TC_REG_CERT_INACTIVE) {
        return tc_detail_set(d, TC_ERR_REG_INVALID_REQUEST, -1, "newStatus",
                             "a CA certificate is ACTIVE or INACTIVE");
    }
    if (u->new_auto_registration > 1) {
        return tc_detail_set(d, TC_ERR_REG_INVALID_REQUEST, -1,
                             "newAutoRegistrationStatus",
                             "auto-registration is ENABLE or DISABLE");
    }
    if (u->set_config && u->remove_auto_registration) {
        return tc_detail_set(d, TC_ERR_REG_INVALID_REQUEST, -1,
                             "removeAutoRegistration",
                             "removeAutoRegistration cannot go with a "
                             "registrationConfig");
    }
    if (u->set_config) {
        ret = check_reg_config(u->template_body, u->role_arn, u->template_name,
                               d);
        if (ret != TC_OK) {
            return ret;
        }
    }
    return reg_tx(reg, 1, do_ca_update, &a, d);
}

static int
do_ca_delete(struct tc_registry *reg, void *arg, struct tc_detail *d)
{
    struct ca_get *a = arg;
    struct tc_reg_ca c = {0};
    sqlite3_stmt *st = NULL;
    long long n = 0;
    int ret;

    ret = ca_must_load(reg, a->id, &c, d);
    if (ret != TC_OK) {
        goto cleanup;
    }
    if (c.status != TC_REG_CERT_INACTIVE) {
        ret = tc_detail_set(d, TC_ERR_REG_CERT_STATE, -1, "caCertificateId",
                            "CA certificate %s is %s; deactivate it before "
                            "deleting it",
                            a->id, tc_registry_cert_status_name(c.status));
        goto cleanup;
    }
    ret = count_where(reg, "certs", "ca_id", a->id, &n, d);
    if (ret != TC_OK) {
        goto cleanup;
    }
    if (n > 0) {
        ret = tc_detail_set(
            d, TC_ERR_REG_DELETE_CONFLICT, -1, "caCertificateId",
            "%lld certificate(s) are registered under CA %s", n, a->id);
        goto cleanup;
    }
    ret = reg_prepare(reg, &st, "DELETE FROM cacerts WHERE id = ?", d);
    if (ret != TC_OK) {
        goto cleanup;
    }
    reg_bind_text(st, 1, a->id);
    ret = reg_step(reg, st, NULL, "caCertificate", d);
    if (ret == TC_OK) {
        ret = reg_event(reg, "cacertificate.delete", "cacertificate", a->id,
                        NULL, d);
    }

cleanup:
    reg_finalize(reg, st);
    tc_reg_ca_clear(&c);
    return ret;
}

int
tc_registry_ca_delete(struct tc_registry *reg, const char *id,
                      struct tc_detail *d)
{
    struct ca_get a;
    int ret;

    a.out = NULL;
    a.u = NULL;
    ret = reg_cert_id_norm(id, a.id, "caCertificateId", d);
    if (ret != TC_OK) {
        return ret;
    }
    return reg_tx(reg, 1, do_ca_delete, &a, d);
}

struct ca_list {
    const struct tc_reg_page *page;
    struct tc_reg_ca_list *out;
};

static int
do_ca_list(struct tc_registry *reg, void *arg, struct tc_detail *d)
{
    struct ca_list *a = arg;
    int desc = a->page != NULL && a->page->descending;
    sqlite3_stmt *st = NULL;
    char key[32];
    long long seq = 0;
    long long last = 0;
    int limit = 0;
    int row = 0;
    int ret;

    ret = reg_page_start(a->page, &limit, key, sizeof(key), d);
    if (ret == TC_OK) {
        ret = key_seq(key, desc, &seq, d);
    }
    if (ret != TC_OK) {
        return ret;
    }
    ret = reg_prepare(reg, &st,
                      desc ? "SELECT " CA_COLS " FROM cacerts WHERE seq < ? "
                             "ORDER BY seq DESC LIMIT ?"
                           : "SELECT " CA_COLS " FROM cacerts WHERE seq > ? "
                             "ORDER BY seq LIMIT ?",
                      d);
    if (ret != TC_OK) {
        return ret;
    }
    sqlite3_bind_int64(st, 1, seq);
    sqlite3_bind_int(st, 2, limit + 1);
    for (;;) {
        struct tc_reg_ca *c;

        ret = reg_step(reg, st, &row, "caCertificates", d);
        if (ret != TC_OK || !row) {
            break;
        }
        if (a->out->n == (size_t)limit) {
            snprintf(key, sizeof(key), "%lld", last);
            reg_page_token(key, a->out->next);
            break;
        }
        c = reg_list_push((void **)&a->out->items, &a->out->n, sizeof(*c));
        if (c == NULL) {
            ret = tc_detail_set(d, TC_ERR_NOMEM, -1, "caCertificates",
                                "no memory");
            break;
        }
        ca_row(reg, st, c, 0);
        last = sqlite3_column_int64(st, 10);
    }
    reg_finalize(reg, st);
    return ret;
}

int
tc_registry_ca_list(struct tc_registry *reg, const struct tc_reg_page *page,
                    struct tc_reg_ca_list *out, struct tc_detail *d)
{
    struct ca_list a = {page, out};
    int ret;

    memset(out, 0, sizeof(*out));
    ret = reg_tx(reg, 0, do_ca_list, &a, d);
    if (ret != TC_OK) {
        tc_reg_ca_list_clear(out);
    }
    return ret;
}

struct ca_find {
    X509 *x;
    struct tc_reg_ca *out;
};

static int
do_ca_find(struct tc_registry *reg, void *arg, struct tc_detail *d)
{
    struct ca_find *a = arg;
    char id[TC_REG_CERT_ID_LEN];
    int mode = 0;
    int found = 0;
    int ret;

    ret = find_issuer(reg, a->x, id, &mode, &found, d);
    if (ret != TC_OK) {
        return ret;
    }
    if (!found) {
        return tc_detail_set(d, TC_ERR_REG_NOT_FOUND, -1, "caCertificate",
                             "no registered CA issued this certificate");
    }
    return ca_must_load(reg, id, a->out, d);
}

int
tc_registry_ca_find_issuer(struct tc_registry *reg, const uint8_t *der,
                           size_t n, struct tc_reg_ca *out, struct tc_detail *d)
{
    const unsigned char *p = der;
    struct ca_find a = {NULL, out};
    int ret;

    memset(out, 0, sizeof(*out));
    if (n > TC_REG_PEM_MAX) {
        return tc_detail_set(d, TC_ERR_REG_CERT_VALIDATION, -1, "certificate",
                             "the certificate is too long");
    }
    a.x = d2i_X509(NULL, &p, (long)n);
    if (a.x == NULL || p != der + n) {
        X509_free(a.x);
        ERR_clear_error();
        return tc_detail_set(d, TC_ERR_REG_CERT_VALIDATION, -1, "certificate",
                             "the certificate is not DER");
    }
    ret = reg_tx(reg, 0, do_ca_find, &a, d);
    X509_free(a.x);
    if (ret != TC_OK) {
        tc_reg_ca_clear(out);
    }
    return ret;
}

static int
do_ca_pems(struct tc_registry *reg, void *arg, struct tc_detail *d)
{
    struct tc_reg_str_list *out = arg;
    sqlite3_stmt *st = NULL;
    int row = 0;
    int ret;

    ret = reg_prepare(reg, &st,
                      "SELECT pem FROM cacerts WHERE status = 'ACTIVE' "
                      "ORDER BY seq",
                      d);
    if (ret != TC_OK) {
        return ret;
    }
    for (;;) {
        char **slot;

        ret = reg_step(reg, st, &row, "caCertificates", d);
        if (ret != TC_OK || !row) {
            break;
        }
        slot = reg_list_push((void **)&out->items, &out->n, sizeof(*slot));
        if (slot == NULL || (*slot = reg_col_dup(st, 0)) == NULL) {
            ret = tc_detail_set(d, TC_ERR_NOMEM, -1, "caCertificates",
                                "no memory");
            break;
        }
    }
    reg_finalize(reg, st);
    return ret;
}

int
tc_registry_ca_active_pems(struct tc_registry *reg, struct tc_reg_str_list *out,
                           struct tc_detail *d)
{
    int ret;

    memset(out, 0, sizeof(*out));
    ret = reg_tx(reg, 0, do_ca_pems, out, d);
    if (ret != TC_OK) {
        tc_reg_str_list_clear(out);
    }
    return ret;
}
