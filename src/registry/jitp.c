// SPDX-License-Identifier: Apache-2.0
/*
 * Just-in-time provisioning as one transaction: the certificate, thing,
 * policy and attachments a template creates are written whole or not at
 * all, using the same steps as the single calls. Also the chain
 * certificates the broker adds to its trust store. Reading the template
 * and filling its parameters is the provisioning module's work.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/pem.h>

#include "regpriv.h"

struct jitp_arg {
    const struct tc_reg_jitp *in;
    struct cert_reg cr;
    struct tc_reg_cert_register creg;
};

static int
do_jitp(struct tc_registry *reg, void *arg, struct tc_detail *d)
{
    struct jitp_arg *a = arg;
    const struct tc_reg_jitp *in = a->in;
    sqlite3_stmt *st = NULL;
    char arn[TC_REG_ARN_MAX];
    int row = 0;
    int ret;

    /* 1. The certificate, unless it waits in PENDING_ACTIVATION. */
    ret = reg_prepare(reg, &st, "SELECT status FROM certs WHERE id = ?", d);
    if (ret != TC_OK) {
        return ret;
    }
    reg_bind_text(st, 1, a->cr.id);
    ret = reg_step(reg, st, &row, "certificate", d);
    if (ret == TC_OK && row) {
        const unsigned char *s = sqlite3_column_text(st, 0);

        if (s == NULL || strcmp((const char *)s, "PENDING_ACTIVATION") != 0) {
            ret = reg_conflict(reg, "cert", a->cr.id, d,
                               "The certificate is already provisioned or "
                               "registered");
        }
    }
    reg_finalize(reg, st);
    if (ret != TC_OK) {
        return ret;
    }
    if (!row) {
        ret = reg_do_cert_register(reg, &a->cr, d);
        if (ret != TC_OK) {
            return ret;
        }
    }
    tc_registry_arn(reg, "cert", a->cr.id, arn);

    /* 2. The thing; one that exists is left as it is. */
    if (in->thing_name != NULL) {
        struct thing_create tc = {in->thing_name, in->thing_type, in->attrs,
                                  NULL, 1};

        ret = reg_do_thing_create(reg, &tc, d);
        if (ret != TC_OK) {
            return ret;
        }
    }

    /* 3 and 4. The policy, and its attachment. */
    if (in->policy_name != NULL) {
        struct pol_arg pa = {0};

        pa.name = in->policy_name;
        if (in->policy_doc != NULL) {
            pa.doc = in->policy_doc;
            pa.len = in->policy_doc_len;
            pa.reuse_same = 1;
            ret = reg_do_policy_create(reg, &pa, d);
            if (ret != TC_OK) {
                return ret;
            }
        }
        memcpy(pa.cert, a->cr.id, TC_REG_CERT_ID_LEN);
        pa.target = arn;
        ret = reg_do_policy_attach(reg, &pa, d);
        if (ret != TC_OK) {
            return ret;
        }
    }

    /* 5. The thing principal. */
    if (in->thing_name != NULL) {
        struct principal_arg pr = {in->thing_name, "", arn,
                                   TC_REG_PRINCIPAL_NON_EXCLUSIVE};

        memcpy(pr.cert, a->cr.id, TC_REG_CERT_ID_LEN);
        ret = reg_do_principal_attach(reg, &pr, d);
        if (ret != TC_OK) {
            return ret;
        }
    }

    /* 6. The status, last: the device becomes usable only when whole. */
    {
        struct cert_status cs;

        memcpy(cs.id, a->cr.id, TC_REG_CERT_ID_LEN);
        cs.status = in->status != 0 ? in->status : TC_REG_CERT_ACTIVE;
        cs.force = 0;
        ret = reg_do_cert_status(reg, &cs, d);
    }
    return ret;
}

int
tc_registry_jitp_apply(struct tc_registry *reg, const struct tc_reg_jitp *in,
                       char id_out[TC_REG_CERT_ID_LEN], struct tc_detail *d)
{
    struct jitp_arg a;
    int status = in->status != 0 ? in->status : TC_REG_CERT_ACTIVE;
    int ret = TC_ERR_INTERNAL;
    size_t i;

    memset(&a, 0, sizeof(a));
    a.in = in;
    if (id_out != NULL) {
        id_out[0] = '\0';
    }

    /* Everything that needs no database is checked first. */
    if (status != TC_REG_CERT_ACTIVE && status != TC_REG_CERT_INACTIVE &&
        status != TC_REG_CERT_PENDING_ACTIVATION) {
        return tc_detail_set(d, TC_ERR_REG_INVALID_REQUEST, -1, "status",
                             "provisioning cannot leave a certificate %s",
                             tc_registry_cert_status_name(status));
    }
    if (in->thing_name != NULL) {
        ret = tc_registry_check_thing_name(in->thing_name, "ThingName", d);
        if (ret == TC_OK && in->thing_type != NULL) {
            ret = tc_registry_check_thing_name(in->thing_type, "ThingTypeName",
                                               d);
        }
        for (i = 0; ret == TC_OK && in->attrs != NULL && i < in->attrs->n;
             i++) {
            ret = tc_registry_check_attr_name(in->attrs->v[i].name, d);
            if (ret == TC_OK) {
                ret = tc_registry_check_attr_value(in->attrs->v[i].value, d);
            }
        }
        if (ret == TC_OK && in->attrs != NULL &&
            in->attrs->n > (in->thing_type != NULL ? TC_REG_ATTRS_TYPED
                                                   : TC_REG_ATTRS_UNTYPED)) {
            ret = tc_detail_set(d, TC_ERR_REG_INVALID_REQUEST, -1,
                                "AttributePayload", "too many attributes");
        }
        if (ret != TC_OK) {
            return ret;
        }
    }
    if (in->policy_name != NULL) {
        ret = tc_registry_check_policy_name(in->policy_name, d);
        if (ret == TC_OK && in->policy_doc != NULL) {
            ret = reg_policy_check_document(in->policy_doc, in->policy_doc_len,
                                            d);
        }
        if (ret != TC_OK) {
            return ret;
        }
    }

    a.creg.pem = in->cert_pem;
    a.creg.pem_len = in->cert_pem_len;
    a.creg.system = 1;
    a.creg.status = TC_REG_CERT_PENDING_ACTIVATION;
    a.cr.in = &a.creg;
    a.cr.status = TC_REG_CERT_PENDING_ACTIVATION;
    ret = reg_x509_parse(in->cert_pem, in->cert_pem_len, &a.cr.x, &a.cr.chain,
                         "certificatePem", d);
    if (ret == TC_OK) {
        ret = reg_x509_check_time(a.cr.x, "certificatePem", d);
    }
    if (ret != TC_OK) {
        goto cleanup;
    }
    a.cr.pem = reg_x509_pem(a.cr.x);
    if (a.cr.pem == NULL || reg_x509_id(a.cr.x, a.cr.id) != TC_OK) {
        ret = tc_detail_set(d, TC_ERR_CRYPTO, -1, "certificatePem",
                            "the certificate cannot be re-encoded");
        goto cleanup;
    }
    if (id_out != NULL) {
        memcpy(id_out, a.cr.id, TC_REG_CERT_ID_LEN);
    }
    ret = reg_tx(reg, 1, do_jitp, &a, d);

cleanup:
    X509_free(a.cr.x);
    free(a.cr.pem);
    free(a.cr.chain);
    return ret;
}

/* Add each certificate of a PEM chain to out unless already there. */
static int
add_chain(const char *chain, struct tc_reg_str_list *out, struct tc_detail *d)
{
    BIO *in = BIO_new_mem_buf(chain, -1);
    X509 *x = NULL;
    int ret = TC_OK;
    size_t i;

    if (in == NULL) {
        return tc_detail_set(d, TC_ERR_NOMEM, -1, "chain", "no memory");
    }
    for (;;) {
        char *pem;
        char **slot;

        x = PEM_read_bio_X509(in, NULL, NULL, NULL);
        if (x == NULL) {
            break;
        }
        pem = reg_x509_pem(x);
        X509_free(x);
        if (pem == NULL) {
            ret = tc_detail_set(d, TC_ERR_NOMEM, -1, "chain", "no memory");
            break;
        }
        for (i = 0; i < out->n; i++) {
            if (strcmp(out->items[i], pem) == 0) {
                break;
            }
        }
        if (i < out->n) {
            free(pem);
            continue;
        }
        slot = reg_list_push((void **)&out->items, &out->n, sizeof(*slot));
        if (slot == NULL) {
            free(pem);
            ret = tc_detail_set(d, TC_ERR_NOMEM, -1, "chain", "no memory");
            break;
        }
        *slot = pem;
    }
    ERR_clear_error();
    BIO_free(in);
    return ret;
}

static int
do_chain_pems(struct tc_registry *reg, void *arg, struct tc_detail *d)
{
    struct tc_reg_str_list *out = arg;
    sqlite3_stmt *st = NULL;
    int row = 0;
    int ret;

    ret = reg_prepare(reg, &st,
                      "SELECT chain_pem FROM certs WHERE chain_pem IS NOT "
                      "NULL AND status IN ('ACTIVE', 'PENDING_ACTIVATION') "
                      "ORDER BY seq",
                      d);
    if (ret != TC_OK) {
        return ret;
    }
    for (;;) {
        ret = reg_step(reg, st, &row, "certificates", d);
        if (ret != TC_OK || !row) {
            break;
        }
        ret = add_chain((const char *)sqlite3_column_text(st, 0), out, d);
        if (ret != TC_OK) {
            break;
        }
    }
    reg_finalize(reg, st);
    return ret;
}

int
tc_registry_cert_chain_pems(struct tc_registry *reg,
                            struct tc_reg_str_list *out, struct tc_detail *d)
{
    int ret;

    memset(out, 0, sizeof(*out));
    ret = reg_tx(reg, 0, do_chain_pems, out, d);
    if (ret != TC_OK) {
        tc_reg_str_list_clear(out);
    }
    return ret;
}
