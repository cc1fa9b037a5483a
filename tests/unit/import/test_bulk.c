// SPDX-License-Identifier: Apache-2.0
/*
 * tc_registry_bulk_register: a batch leaves each device as the single
 * operations would (certificate ACTIVE without CA, policy, thing of the
 * type, principal) with their event rows; a second batch changes nothing;
 * a refused entry is rolled back alone and names its reason; batch-wide
 * errors write nothing.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../registry/regtest.h"
#include "../test.h"
#include "thingcore/registry.h"

#define TYPE "microchip-tng"
#define POLICY "Kit_Policy"
#define NDEV 4

static const char *doc =
    "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\","
    "\"Action\":\"iot:Connect\",\"Resource\":\"*\"}]}";

struct fixture {
    struct tc_registry *reg;
    EVP_PKEY *ca_key;
    X509 *ca;
    char *ca_pem;
    char *pem[NDEV];
    char name[NDEV][32];
    struct tc_reg_bulk_entry e[NDEV];
};

static int
count_cb(void *arg, const struct tc_reg_event *ev)
{
    (*(long long *)arg)++;
    return 0;
}

static long long
events(struct tc_registry *reg)
{
    long long n = 0;

    tc_registry_events_since(reg, 0, 100000, count_cb, &n, NULL, NULL);
    return n;
}

/* A registry with the type and policy, and NDEV devices under one CA. */
static int
setup(struct fixture *f)
{
    int i;

    memset(f, 0, sizeof(*f));
    f->reg = regt_open(NULL, 0);
    if (f->reg == NULL ||
        tc_registry_thing_type_create(f->reg, TYPE, NULL, NULL, 0, NULL,
                                      NULL) != TC_OK ||
        tc_registry_policy_create(f->reg, POLICY, doc, strlen(doc), NULL,
                                  NULL) != TC_OK) {
        return -1;
    }
    f->ca_key = regt_key();
    f->ca_pem = regt_cert("signer", f->ca_key, NULL, NULL, 1, -1, 30, &f->ca);
    for (i = 0; i < NDEV; i++) {
        EVP_PKEY *k = regt_key();
        char *leaf;
        size_t n;

        snprintf(f->name[i], sizeof(f->name[i]), "0123%012X01", i + 1);
        leaf = regt_cert(f->name[i], k, f->ca, f->ca_key, 0, -1, 30, NULL);
        EVP_PKEY_free(k);
        if (leaf == NULL) {
            return -1;
        }
        n = strlen(leaf) + strlen(f->ca_pem) + 1;
        f->pem[i] = malloc(n);
        snprintf(f->pem[i], n, "%s%s", leaf, f->ca_pem);
        free(leaf);
        f->e[i].thing_name = f->name[i];
        f->e[i].cert_pem = f->pem[i];
        f->e[i].cert_pem_len = strlen(f->pem[i]);
    }
    return 0;
}

static void
teardown(struct fixture *f)
{
    int i;

    for (i = 0; i < NDEV; i++) {
        free(f->pem[i]);
    }
    free(f->ca_pem);
    X509_free(f->ca);
    EVP_PKEY_free(f->ca_key);
    tc_registry_close(f->reg);
}

/* Whether r's certificate is ACTIVE, SNI_ONLY, chained, with the policy. */
static int
whole(struct fixture *f, const struct tc_reg_bulk_result *r)
{
    struct tc_reg_cert c = {0};
    struct tc_reg_policy_list pl = {0};
    char arn[TC_REG_ARN_MAX];
    int ok = 0;

    tc_registry_arn(f->reg, "cert", r->cert_id, arn);
    if (tc_registry_cert_describe(f->reg, r->cert_id, &c, NULL) == TC_OK &&
        c.status == TC_REG_CERT_ACTIVE && c.mode == TC_REG_MODE_SNI_ONLY &&
        c.chain_pem != NULL &&
        tc_registry_policy_list_attached(f->reg, arn, NULL, &pl, NULL) ==
            TC_OK &&
        pl.n == 1 && strcmp(pl.items[0].name, POLICY) == 0) {
        ok = 1;
    }
    tc_reg_cert_clear(&c);
    tc_reg_policy_list_clear(&pl);
    return ok;
}

static int
thing_ok(struct fixture *f, int i, const char *cert_id)
{
    struct tc_reg_thing t = {0};
    struct tc_reg_str_list pr = {0};
    char arn[TC_REG_ARN_MAX];
    int ok;

    tc_registry_arn(f->reg, "cert", cert_id, arn);
    ok = tc_registry_thing_describe(f->reg, f->name[i], &t, NULL) == TC_OK &&
         strcmp(t.type_name, TYPE) == 0 &&
         tc_registry_thing_principal_list(f->reg, f->name[i], NULL, &pr,
                                          NULL) == TC_OK &&
         pr.n == 1 && strcmp(pr.items[0], arn) == 0;
    tc_reg_thing_clear(&t);
    tc_reg_str_list_clear(&pr);
    return ok;
}

TC_TEST(bulk_registers_then_already_present)
{
    struct fixture f;
    struct tc_reg_bulk_result r[NDEV];
    long long before;
    long long after;
    int i;

    CHECK_EQ_INT(setup(&f), 0);
    before = events(f.reg);
    CHECK_EQ_INT(tc_registry_bulk_register(f.reg, TYPE, POLICY, f.e, NDEV, r,
                                           NULL),
                 TC_OK);
    for (i = 0; i < NDEV; i++) {
        CHECK_EQ_INT(r[i].outcome, TC_REG_BULK_REGISTERED);
        CHECK_EQ_INT(strlen(r[i].cert_id), 64);
        CHECK(whole(&f, &r[i]));
        CHECK(thing_ok(&f, i, r[i].cert_id));
    }

    /* The single operations' rows: certificate, policy, thing, principal. */
    after = events(f.reg);
    CHECK_EQ_INT(after - before, 4 * NDEV);

    /* Again: nothing changes, not even the log. */
    CHECK_EQ_INT(tc_registry_bulk_register(f.reg, TYPE, POLICY, f.e, NDEV, r,
                                           NULL),
                 TC_OK);
    for (i = 0; i < NDEV; i++) {
        CHECK_EQ_INT(r[i].outcome, TC_REG_BULK_ALREADY);
        CHECK_EQ_INT(r[i].err, TC_OK);
    }
    CHECK_EQ_INT(events(f.reg), after);
    teardown(&f);
}

TC_TEST(bulk_rejects_entries_alone)
{
    struct fixture f;
    struct tc_reg_bulk_result r[NDEV];
    struct tc_reg_bulk_entry e[NDEV];
    char revoked[TC_REG_CERT_ID_LEN];
    struct tc_reg_cert_register in = {0};
    struct tc_reg_cert c = {0};
    int i;

    CHECK_EQ_INT(setup(&f), 0);
    memcpy(e, f.e, sizeof(e));

    /* 0: its certificate was REVOKED; 1: its thing has no type;
     * 2: not a certificate; 3: fine. */
    in.pem = f.pem[0];
    in.pem_len = strlen(f.pem[0]);
    in.without_ca = 1;
    in.status = TC_REG_CERT_ACTIVE;
    CHECK_EQ_INT(tc_registry_cert_register(f.reg, &in, revoked, NULL), TC_OK);
    CHECK_EQ_INT(tc_registry_cert_update_status(f.reg, revoked,
                                                TC_REG_CERT_REVOKED, NULL),
                 TC_OK);
    CHECK_EQ_INT(tc_registry_thing_create(f.reg, f.name[1], NULL, NULL, NULL,
                                          NULL),
                 TC_OK);
    e[2].cert_pem = "-----BEGIN CERTIFICATE-----\nAAAA\n"
                    "-----END CERTIFICATE-----\n";
    e[2].cert_pem_len = strlen(e[2].cert_pem);

    CHECK_EQ_INT(tc_registry_bulk_register(f.reg, TYPE, POLICY, e, NDEV, r,
                                           NULL),
                 TC_OK);
    CHECK_EQ_INT(r[0].outcome, TC_REG_BULK_REJECTED);
    CHECK_EQ_INT(r[0].err, TC_ERR_REG_CERT_STATE);
    CHECK(strstr(r[0].reason, "REVOKED") != NULL);
    CHECK_EQ_INT(r[1].outcome, TC_REG_BULK_REJECTED);
    CHECK_EQ_INT(r[1].err, TC_ERR_REG_ALREADY_EXISTS);
    CHECK(strstr(r[1].reason, "thing type") != NULL);
    CHECK_EQ_INT(r[2].outcome, TC_REG_BULK_REJECTED);
    CHECK_EQ_INT(r[2].err, TC_ERR_REG_CERT_VALIDATION);
    CHECK_EQ_STR(r[2].cert_id, "");
    CHECK_EQ_INT(r[3].outcome, TC_REG_BULK_REGISTERED);
    CHECK(whole(&f, &r[3]));

    /* Rejected means untouched: 1's certificate was not registered. */
    CHECK_EQ_INT(tc_registry_cert_describe(f.reg, r[1].cert_id, &c, NULL),
                 TC_ERR_REG_NOT_FOUND);
    CHECK_EQ_INT(tc_registry_cert_describe(f.reg, revoked, &c, NULL), TC_OK);
    CHECK_EQ_INT(c.status, TC_REG_CERT_REVOKED);
    tc_reg_cert_clear(&c);

    /* A bad thing name and an expired certificate. */
    for (i = 0; i < NDEV; i++) {
        e[i] = f.e[i];
    }
    e[0].thing_name = "bad name!";
    {
        EVP_PKEY *k = regt_key();
        char *old = regt_cert("old", k, NULL, NULL, 0, -30, -1, NULL);

        e[1].cert_pem = old;
        e[1].cert_pem_len = strlen(old);
        CHECK_EQ_INT(tc_registry_bulk_register(f.reg, TYPE, POLICY, e, 2, r,
                                               NULL),
                     TC_OK);
        free(old);
        EVP_PKEY_free(k);
    }
    CHECK_EQ_INT(r[0].err, TC_ERR_REG_INVALID_REQUEST);
    CHECK_EQ_INT(r[1].err, TC_ERR_REG_CERT_VALIDATION);
    teardown(&f);
}

TC_TEST(bulk_completes_a_partial_device)
{
    struct fixture f;
    struct tc_reg_bulk_result r[1];
    struct tc_reg_cert_register in = {0};
    char id[TC_REG_CERT_ID_LEN];

    /* As a single registration cut short: certificate INACTIVE only. */
    CHECK_EQ_INT(setup(&f), 0);
    in.pem = f.pem[0];
    in.pem_len = strlen(f.pem[0]);
    in.without_ca = 1;
    CHECK_EQ_INT(tc_registry_cert_register(f.reg, &in, id, NULL), TC_OK);
    CHECK_EQ_INT(tc_registry_bulk_register(f.reg, TYPE, POLICY, f.e, 1, r,
                                           NULL),
                 TC_OK);
    CHECK_EQ_INT(r[0].outcome, TC_REG_BULK_REGISTERED);
    CHECK_EQ_STR(r[0].cert_id, id);
    CHECK(whole(&f, &r[0]));
    CHECK(thing_ok(&f, 0, id));
    teardown(&f);
}

TC_TEST(bulk_batch_errors_write_nothing)
{
    struct fixture f;
    struct tc_reg_bulk_result r[NDEV];
    struct tc_detail d;
    long long before;

    CHECK_EQ_INT(setup(&f), 0);
    before = events(f.reg);
    CHECK_EQ_INT(tc_registry_bulk_register(f.reg, TYPE, "NoSuchPolicy", f.e,
                                           NDEV, r, &d),
                 TC_ERR_REG_NOT_FOUND);
    CHECK(strstr(d.text, "NoSuchPolicy") != NULL);
    CHECK_EQ_INT(tc_registry_bulk_register(f.reg, "no-type", POLICY, f.e,
                                           NDEV, r, &d),
                 TC_ERR_REG_NOT_FOUND);
    CHECK(strstr(d.text, "no-type") != NULL);
    CHECK_EQ_INT(tc_registry_bulk_register(f.reg, "bad type!", POLICY, f.e,
                                           NDEV, r, &d),
                 TC_ERR_REG_INVALID_REQUEST);
    CHECK_EQ_INT(tc_registry_bulk_register(f.reg, TYPE, POLICY, f.e,
                                           TC_REG_BULK_MAX + 1, r, &d),
                 TC_ERR_REG_INVALID_REQUEST);
    CHECK_EQ_INT(tc_registry_thing_type_deprecate(f.reg, TYPE, 0, NULL),
                 TC_OK);
    CHECK_EQ_INT(tc_registry_bulk_register(f.reg, TYPE, POLICY, f.e, NDEV, r,
                                           &d),
                 TC_ERR_REG_INVALID_REQUEST);
    CHECK(strstr(d.text, "deprecated") != NULL);
    CHECK_EQ_INT(events(f.reg), before + 1); /* the deprecation only */
    teardown(&f);
}
