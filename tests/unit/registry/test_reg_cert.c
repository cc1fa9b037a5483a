// SPDX-License-Identifier: Apache-2.0
/*
 * Registry tests for certificates and CA certificates: registration with
 * and without a CA, the status machine, deletion rules, proof of
 * possession, and the broker's lookups. Certificates are made fresh.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/x509.h>

#include "../test.h"
#include "regtest.h"

TC_TEST(registry_cert_register_and_status)
{
    struct tc_registry *reg = regt_open(NULL, 0);
    struct tc_reg_cert_register in = {0};
    struct tc_reg_cert c = {0};
    struct tc_detail d;
    EVP_PKEY *k = regt_key();
    char *pem = regt_cert("dev", k, NULL, NULL, 0, -1, 30, NULL);
    char *old = regt_cert("old", k, NULL, NULL, 0, -30, -1, NULL);
    char *chain = NULL;
    char id[TC_REG_CERT_ID_LEN];
    char id2[TC_REG_CERT_ID_LEN];
    char upper[TC_REG_CERT_ID_LEN];
    size_t i;

    CHECK(reg != NULL && pem != NULL && old != NULL);

    /* Rejections before anything is stored. */
    in.pem = "not a certificate";
    in.pem_len = strlen(in.pem);
    in.without_ca = 1;
    CHECK_EQ_INT(tc_registry_cert_register(reg, &in, id, &d),
                 TC_ERR_REG_CERT_VALIDATION);
    CHECK_EQ_STR(d.field, "certificatePem");
    in.pem = old;
    in.pem_len = strlen(old);
    CHECK_EQ_INT(tc_registry_cert_register(reg, &in, id, &d),
                 TC_ERR_REG_CERT_VALIDATION);
    CHECK(strstr(d.text, "expired") != NULL);
    in.pem = pem;
    in.pem_len = strlen(pem);
    in.status = TC_REG_CERT_REVOKED;
    CHECK_EQ_INT(tc_registry_cert_register(reg, &in, id, &d),
                 TC_ERR_REG_INVALID_REQUEST);
    in.status = TC_REG_CERT_PENDING_ACTIVATION;
    CHECK_EQ_INT(tc_registry_cert_register(reg, &in, id, &d),
                 TC_ERR_REG_INVALID_REQUEST);

    /* Without CA: SNI_ONLY, INACTIVE by default, id = SHA-256 of DER. */
    in.status = 0;
    CHECK_EQ_INT(tc_registry_cert_register(reg, &in, id, &d), TC_OK);
    CHECK_EQ_INT(tc_registry_cert_id_of_pem(pem, strlen(pem), id2, &d), TC_OK);
    CHECK_EQ_STR(id, id2);
    CHECK_EQ_INT(tc_registry_cert_describe(reg, id, &c, &d), TC_OK);
    CHECK_EQ_INT(c.status, TC_REG_CERT_INACTIVE);
    CHECK_EQ_INT(c.mode, TC_REG_MODE_SNI_ONLY);
    CHECK_EQ_STR(c.ca_id, "");
    CHECK(c.not_after > c.not_before);
    CHECK(strstr(c.pem, "BEGIN CERTIFICATE") != NULL);
    CHECK(c.chain_pem == NULL);
    CHECK_EQ_INT(c.customer_version, 1);
    tc_reg_cert_clear(&c);

    /* Again: exists, with its id and ARN. */
    CHECK_EQ_INT(tc_registry_cert_register(reg, &in, id2, &d),
                 TC_ERR_REG_ALREADY_EXISTS);
    CHECK_EQ_STR(tc_registry_conflict_id(reg), id);
    CHECK(strstr(tc_registry_conflict_arn(reg), ":cert/") != NULL);

    /* Ids are accepted in either case; malformed ids are rejected. */
    for (i = 0; i < sizeof(upper); i++) {
        upper[i] = (char)(id[i] >= 'a' && id[i] <= 'f' ? id[i] - 32 : id[i]);
    }
    CHECK_EQ_INT(tc_registry_cert_describe(reg, upper, &c, &d), TC_OK);
    tc_reg_cert_clear(&c);
    CHECK_EQ_INT(tc_registry_cert_describe(reg, "abc", &c, &d),
                 TC_ERR_REG_INVALID_REQUEST);
    upper[3] = 'g';
    CHECK_EQ_INT(tc_registry_cert_describe(reg, upper, &c, &d),
                 TC_ERR_REG_INVALID_REQUEST);
    upper[3] = '0';
    upper[4] = upper[4] == '0' ? '1' : '0';
    CHECK_EQ_INT(tc_registry_cert_describe(reg, upper, &c, &d),
                 TC_ERR_REG_NOT_FOUND);

    /* Status machine. */
    CHECK_EQ_INT(
        tc_registry_cert_update_status(reg, id, TC_REG_CERT_ACTIVE, &d), TC_OK);
    CHECK_EQ_INT(tc_registry_cert_update_status(
                     reg, id, TC_REG_CERT_PENDING_TRANSFER, &d),
                 TC_ERR_REG_INVALID_REQUEST);
    CHECK_EQ_INT(tc_registry_cert_update_status(
                     reg, id, TC_REG_CERT_PENDING_ACTIVATION, &d),
                 TC_ERR_REG_INVALID_REQUEST);
    CHECK_EQ_INT(tc_registry_cert_update_status(reg, id, 99, &d),
                 TC_ERR_REG_INVALID_REQUEST);
    CHECK_EQ_INT(tc_registry_cert_delete(reg, id, 0, &d),
                 TC_ERR_REG_CERT_STATE);
    CHECK_EQ_INT(
        tc_registry_cert_update_status(reg, id, TC_REG_CERT_REVOKED, &d),
        TC_OK);
    CHECK_EQ_INT(
        tc_registry_cert_update_status(reg, id, TC_REG_CERT_ACTIVE, &d),
        TC_ERR_REG_CERT_STATE);
    CHECK_EQ_INT(
        tc_registry_cert_update_status(reg, id, TC_REG_CERT_REVOKED, &d),
        TC_OK);
    CHECK_EQ_INT(tc_registry_cert_describe(reg, id, &c, &d), TC_OK);
    CHECK_EQ_INT(c.status, TC_REG_CERT_REVOKED);
    CHECK_EQ_INT(c.customer_version, 3);
    tc_reg_cert_clear(&c);
    CHECK_EQ_INT(tc_registry_cert_delete(reg, id, 0, &d), TC_OK);
    CHECK_EQ_INT(tc_registry_cert_delete(reg, id, 0, &d), TC_ERR_REG_NOT_FOUND);

    /* A chain after the certificate is kept; the system may register
     * PENDING_ACTIVATION (JITR). */
    chain = malloc(strlen(pem) + strlen(old) + 1);
    CHECK(chain != NULL);
    strcpy(chain, pem);
    strcat(chain, old);
    in.pem = chain;
    in.pem_len = strlen(chain);
    in.system = 1;
    in.status = TC_REG_CERT_PENDING_ACTIVATION;
    CHECK_EQ_INT(tc_registry_cert_register(reg, &in, id, &d), TC_OK);
    CHECK_EQ_INT(tc_registry_cert_describe(reg, id, &c, &d), TC_OK);
    CHECK(c.chain_pem != NULL);
    CHECK_EQ_INT(c.status, TC_REG_CERT_PENDING_ACTIVATION);
    tc_reg_cert_clear(&c);
    CHECK_EQ_INT(
        tc_registry_cert_update_status(reg, id, TC_REG_CERT_ACTIVE, &d), TC_OK);

    /* Garbage after the first certificate is an error. */
    strcpy(chain, pem);
    strcat(chain, "-----BEGIN CERTIFICATE-----\nAAAA\n"
                  "-----END CERTIFICATE-----\n");
    in.pem = chain;
    in.pem_len = strlen(chain);
    CHECK_EQ_INT(tc_registry_cert_register(reg, &in, id, &d),
                 TC_ERR_REG_CERT_VALIDATION);

    free(chain);
    free(pem);
    free(old);
    EVP_PKEY_free(k);
    tc_registry_close(reg);
}

TC_TEST(registry_cert_list_pages)
{
    struct tc_registry *reg = regt_open(NULL, 0);
    struct tc_reg_cert_list l = {0};
    struct tc_reg_page p = {0};
    struct tc_detail d;
    char ids[7][TC_REG_CERT_ID_LEN];
    char token[TC_REG_TOKEN_MAX];
    int i;

    CHECK(reg != NULL);
    for (i = 0; i < 7; i++) {
        CHECK_EQ_INT(regt_leaf(reg, TC_REG_CERT_ACTIVE, ids[i]), TC_OK);
    }
    p.limit = 3;
    CHECK_EQ_INT(tc_registry_cert_list(reg, &p, &l, &d), TC_OK);
    CHECK_EQ_INT(l.n, 3);
    CHECK_EQ_STR(l.items[0].id, ids[0]);
    CHECK(l.items[0].pem == NULL);
    snprintf(token, sizeof(token), "%s", l.next);
    tc_reg_cert_list_clear(&l);
    p.token = token;
    CHECK_EQ_INT(tc_registry_cert_list(reg, &p, &l, &d), TC_OK);
    CHECK_EQ_STR(l.items[0].id, ids[3]);
    tc_reg_cert_list_clear(&l);

    /* Descending: newest first. */
    p.token = NULL;
    p.descending = 1;
    CHECK_EQ_INT(tc_registry_cert_list(reg, &p, &l, &d), TC_OK);
    CHECK_EQ_STR(l.items[0].id, ids[6]);
    snprintf(token, sizeof(token), "%s", l.next);
    tc_reg_cert_list_clear(&l);
    p.token = token;
    CHECK_EQ_INT(tc_registry_cert_list(reg, &p, &l, &d), TC_OK);
    CHECK_EQ_STR(l.items[0].id, ids[3]);
    tc_reg_cert_list_clear(&l);

    /* A token that decodes to something else than a position. */
    p.token = "YWJj"; /* "abc" */
    CHECK_EQ_INT(tc_registry_cert_list(reg, &p, &l, &d),
                 TC_ERR_REG_INVALID_REQUEST);
    tc_registry_close(reg);
}

/* A registered DEFAULT-mode CA with its key. */
struct ca_fixture {
    EVP_PKEY *key;
    X509 *x;
    char *pem;
    char id[TC_REG_CERT_ID_LEN];
};

static int
make_ca(struct tc_registry *reg, const char *cn, struct ca_fixture *f, int mode,
        struct tc_detail *d)
{
    struct tc_reg_ca_register in = {0};
    char code[TC_REG_CODE_LEN];
    EVP_PKEY *vk = regt_key();
    char *vpem = NULL;
    int ret;

    f->key = regt_key();
    f->pem = regt_cert(cn, f->key, NULL, NULL, 1, -1, 365, &f->x);
    ret = tc_registry_registration_code(reg, code, d);
    if (ret != TC_OK) {
        goto cleanup;
    }
    vpem = regt_cert(code, vk, f->x, f->key, 0, -1, 30, NULL);
    in.ca_pem = f->pem;
    in.ca_pem_len = strlen(f->pem);
    in.mode = mode;
    if (mode == TC_REG_MODE_DEFAULT) {
        in.verification_pem = vpem;
        in.verification_pem_len = strlen(vpem);
    }
    in.set_active = 1;
    in.allow_auto_registration = 1;
    ret = tc_registry_ca_register(reg, &in, f->id, d);

cleanup:
    free(vpem);
    EVP_PKEY_free(vk);
    return ret;
}

static void
free_ca(struct ca_fixture *f)
{
    EVP_PKEY_free(f->key);
    X509_free(f->x);
    free(f->pem);
}

TC_TEST(registry_ca_proof_of_possession)
{
    struct tc_registry *reg = regt_open(NULL, 0);
    struct tc_reg_ca_register in = {0};
    struct tc_reg_ca ca = {0};
    struct tc_detail d;
    char code[TC_REG_CODE_LEN];
    char code2[TC_REG_CODE_LEN];
    EVP_PKEY *cak = regt_key();
    EVP_PKEY *other = regt_key();
    X509 *cax = NULL;
    char *capem = regt_cert("Test CA", cak, NULL, NULL, 1, -1, 365, &cax);
    char *leafpem = regt_cert("not a ca", other, NULL, NULL, 0, -1, 365, NULL);
    char *wrong_cn = regt_cert("hello", other, cax, cak, 0, -1, 30, NULL);
    char *wrong_key = NULL;
    char *good = NULL;
    char id[TC_REG_CERT_ID_LEN];
    size_t i;

    CHECK(reg != NULL && capem != NULL);
    CHECK_EQ_INT(tc_registry_registration_code(reg, code, &d), TC_OK);
    CHECK_EQ_INT(strlen(code), 64);
    for (i = 0; i < 64; i++) {
        CHECK(strchr("0123456789abcdef", code[i]) != NULL);
    }
    CHECK_EQ_INT(tc_registry_registration_code(reg, code2, &d), TC_OK);
    CHECK_EQ_STR(code, code2);

    /* Signed by some other key than the CA's. */
    wrong_key = regt_cert(code, other, cax, other, 0, -1, 30, NULL);
    good = regt_cert(code, other, cax, cak, 0, -1, 30, NULL);

    in.ca_pem = capem;
    in.ca_pem_len = strlen(capem);
    in.mode = TC_REG_MODE_DEFAULT;
    CHECK_EQ_INT(tc_registry_ca_register(reg, &in, id, &d),
                 TC_ERR_REG_INVALID_REQUEST);
    CHECK_EQ_STR(d.field, "verificationCertificate");
    in.verification_pem = wrong_cn;
    in.verification_pem_len = strlen(wrong_cn);
    CHECK_EQ_INT(tc_registry_ca_register(reg, &in, id, &d),
                 TC_ERR_REG_CODE_VALIDATION);
    in.verification_pem = wrong_key;
    in.verification_pem_len = strlen(wrong_key);
    CHECK_EQ_INT(tc_registry_ca_register(reg, &in, id, &d),
                 TC_ERR_REG_CERT_VALIDATION);

    /* Not a CA at all. */
    in.ca_pem = leafpem;
    in.ca_pem_len = strlen(leafpem);
    in.verification_pem = good;
    in.verification_pem_len = strlen(good);
    CHECK_EQ_INT(tc_registry_ca_register(reg, &in, id, &d),
                 TC_ERR_REG_CERT_VALIDATION);
    CHECK(strstr(d.text, "not a CA") != NULL);

    /* Bad registration config. */
    in.ca_pem = capem;
    in.ca_pem_len = strlen(capem);
    in.template_body = "[1]";
    CHECK_EQ_INT(tc_registry_ca_register(reg, &in, id, &d),
                 TC_ERR_REG_INVALID_REQUEST);
    in.template_body = "{\"Resources\":{}}";
    in.template_name = "missing";
    CHECK_EQ_INT(tc_registry_ca_register(reg, &in, id, &d),
                 TC_ERR_REG_NOT_FOUND);
    in.template_name = NULL;
    in.role_arn = "short";
    CHECK_EQ_INT(tc_registry_ca_register(reg, &in, id, &d),
                 TC_ERR_REG_INVALID_REQUEST);
    in.role_arn = "arn:aws:iam::123456789012:role/JITP";

    /* The good one, then again. */
    CHECK_EQ_INT(tc_registry_ca_register(reg, &in, id, &d), TC_OK);
    CHECK_EQ_INT(tc_registry_ca_describe(reg, id, &ca, &d), TC_OK);
    CHECK_EQ_INT(ca.status, TC_REG_CERT_INACTIVE);
    CHECK_EQ_INT(ca.auto_registration, 0);
    CHECK_EQ_INT(ca.mode, TC_REG_MODE_DEFAULT);
    CHECK_EQ_STR(ca.template_body, "{\"Resources\":{}}");
    CHECK_EQ_STR(ca.role_arn, "arn:aws:iam::123456789012:role/JITP");
    CHECK(ca.template_name == NULL);
    CHECK(strstr(ca.arn, ":cacert/") != NULL);
    tc_reg_ca_clear(&ca);
    CHECK_EQ_INT(tc_registry_ca_register(reg, &in, id, &d),
                 TC_ERR_REG_ALREADY_EXISTS);
    CHECK_EQ_STR(tc_registry_conflict_id(reg), id);

    free(capem);
    free(leafpem);
    free(wrong_cn);
    free(wrong_key);
    free(good);
    X509_free(cax);
    EVP_PKEY_free(cak);
    EVP_PKEY_free(other);
    tc_registry_close(reg);
}

TC_TEST(registry_ca_issued_certs)
{
    struct tc_registry *reg = regt_open(NULL, 0);
    struct ca_fixture a = {0};
    struct ca_fixture b = {0};
    struct tc_reg_cert_register in = {0};
    struct tc_reg_cert c = {0};
    struct tc_reg_cert_list l = {0};
    struct tc_reg_ca ca = {0};
    struct tc_reg_ca_list cl = {0};
    struct tc_reg_str_list pems = {0};
    struct tc_reg_ca_update u;
    struct tc_detail d;
    EVP_PKEY *k = regt_key();
    X509 *devx = NULL;
    char *dev = NULL;
    char *orphan = NULL;
    char id[TC_REG_CERT_ID_LEN];
    char id2[TC_REG_CERT_ID_LEN];
    unsigned char *der = NULL;
    int derlen;

    CHECK(reg != NULL);
    CHECK_EQ_INT(make_ca(reg, "CA A", &a, TC_REG_MODE_DEFAULT, &d), TC_OK);
    CHECK_EQ_INT(make_ca(reg, "CA B", &b, TC_REG_MODE_SNI_ONLY, &d), TC_OK);
    dev = regt_cert("0123456789ABCDEF01", k, a.x, a.key, 0, -1, 30, &devx);

    /* With the wrong CA given: rejected. */
    in.pem = dev;
    in.pem_len = strlen(dev);
    in.ca_pem = b.pem;
    in.ca_pem_len = strlen(b.pem);
    CHECK_EQ_INT(tc_registry_cert_register(reg, &in, id, &d),
                 TC_ERR_REG_CERT_VALIDATION);
    CHECK_EQ_STR(d.field, "caCertificatePem");
    in.without_ca = 1;
    CHECK_EQ_INT(tc_registry_cert_register(reg, &in, id, &d),
                 TC_ERR_REG_INVALID_REQUEST);
    in.without_ca = 0;

    /* With the right CA: its id and mode. */
    in.ca_pem = a.pem;
    in.ca_pem_len = strlen(a.pem);
    in.status = TC_REG_CERT_ACTIVE;
    CHECK_EQ_INT(tc_registry_cert_register(reg, &in, id, &d), TC_OK);
    CHECK_EQ_INT(tc_registry_cert_describe(reg, id, &c, &d), TC_OK);
    CHECK_EQ_STR(c.ca_id, a.id);
    CHECK_EQ_INT(c.mode, TC_REG_MODE_DEFAULT);
    tc_reg_cert_clear(&c);

    /* Without caCertificatePem the issuing CA is found by itself; a CA
     * given that is not registered is refused. */
    orphan = regt_cert("dev2", k, b.x, b.key, 0, -1, 30, NULL);
    in.pem = orphan;
    in.pem_len = strlen(orphan);
    in.ca_pem = NULL;
    CHECK_EQ_INT(tc_registry_cert_register(reg, &in, id2, &d), TC_OK);
    CHECK_EQ_INT(tc_registry_cert_describe(reg, id2, &c, &d), TC_OK);
    CHECK_EQ_STR(c.ca_id, b.id);
    CHECK_EQ_INT(c.mode, TC_REG_MODE_SNI_ONLY);
    tc_reg_cert_clear(&c);
    {
        EVP_PKEY *uk = regt_key();
        X509 *ux = NULL;
        char *upem =
            regt_cert("Unregistered CA", uk, NULL, NULL, 1, -1, 30, &ux);
        char *leaf = regt_cert("dev3", k, ux, uk, 0, -1, 30, NULL);

        in.pem = leaf;
        in.pem_len = strlen(leaf);
        in.ca_pem = upem;
        in.ca_pem_len = strlen(upem);
        CHECK_EQ_INT(tc_registry_cert_register(reg, &in, id2, &d),
                     TC_ERR_REG_CERT_VALIDATION);
        CHECK(strstr(d.text, "not registered") != NULL);
        free(upem);
        free(leaf);
        X509_free(ux);
        EVP_PKEY_free(uk);
    }

    /* ListCertificatesByCA. */
    CHECK_EQ_INT(tc_registry_cert_list_by_ca(reg, a.id, NULL, &l, &d), TC_OK);
    CHECK_EQ_INT(l.n, 1);
    CHECK_EQ_STR(l.items[0].id, id);
    tc_reg_cert_list_clear(&l);
    CHECK_EQ_INT(tc_registry_cert_list_by_ca(
                     reg,
                     "1111111111111111111111111111111111111111111111111111111"
                     "111111111",
                     NULL, &l, &d),
                 TC_ERR_REG_NOT_FOUND);

    /* The broker's lookups. */
    derlen = i2d_X509(devx, &der);
    CHECK(derlen > 0);
    CHECK_EQ_INT(tc_registry_ca_find_issuer(reg, der, (size_t)derlen, &ca, &d),
                 TC_OK);
    CHECK_EQ_STR(ca.id, a.id);
    CHECK_EQ_INT(ca.status, TC_REG_CERT_ACTIVE);
    CHECK_EQ_INT(ca.auto_registration, 1);
    tc_reg_ca_clear(&ca);
    CHECK_EQ_INT(
        tc_registry_ca_find_issuer(reg, der, (size_t)derlen - 1, &ca, &d),
        TC_ERR_REG_CERT_VALIDATION);
    OPENSSL_free(der);
    der = NULL;
    derlen = i2d_X509(a.x, &der); /* self-signed: no registered issuer */
    CHECK_EQ_INT(tc_registry_ca_find_issuer(reg, der, (size_t)derlen, &ca, &d),
                 TC_OK); /* A issued itself */
    tc_reg_ca_clear(&ca);
    OPENSSL_free(der);
    CHECK_EQ_INT(tc_registry_ca_active_pems(reg, &pems, &d), TC_OK);
    CHECK_EQ_INT(pems.n, 2);
    tc_reg_str_list_clear(&pems);

    /* Update, then delete rules. */
    tc_reg_ca_update_init(&u);
    u.new_status = TC_REG_CERT_REVOKED;
    CHECK_EQ_INT(tc_registry_ca_update(reg, a.id, &u, &d),
                 TC_ERR_REG_INVALID_REQUEST);
    u.new_status = TC_REG_CERT_INACTIVE;
    u.new_auto_registration = 0;
    CHECK_EQ_INT(tc_registry_ca_update(reg, a.id, &u, &d), TC_OK);
    CHECK_EQ_INT(tc_registry_ca_active_pems(reg, &pems, &d), TC_OK);
    CHECK_EQ_INT(pems.n, 1);
    tc_reg_str_list_clear(&pems);
    CHECK_EQ_INT(tc_registry_ca_delete(reg, b.id, &d), TC_ERR_REG_CERT_STATE);
    CHECK_EQ_INT(tc_registry_ca_delete(reg, a.id, &d),
                 TC_ERR_REG_DELETE_CONFLICT);
    CHECK_EQ_INT(
        tc_registry_cert_update_status(reg, id, TC_REG_CERT_INACTIVE, &d),
        TC_OK);
    CHECK_EQ_INT(tc_registry_cert_delete(reg, id, 0, &d), TC_OK);
    CHECK_EQ_INT(tc_registry_ca_delete(reg, a.id, &d), TC_OK);
    CHECK_EQ_INT(tc_registry_ca_describe(reg, a.id, &ca, &d),
                 TC_ERR_REG_NOT_FOUND);
    CHECK_EQ_INT(tc_registry_ca_list(reg, NULL, &cl, &d), TC_OK);
    CHECK_EQ_INT(cl.n, 1);
    CHECK_EQ_STR(cl.items[0].id, b.id);
    tc_reg_ca_list_clear(&cl);

    free(dev);
    free(orphan);
    X509_free(devx);
    EVP_PKEY_free(k);
    free_ca(&a);
    free_ca(&b);
    tc_registry_close(reg);
}
