// SPDX-License-Identifier: Apache-2.0
/*
 * Registry tests for policies and their versions and attachments,
 * provisioning templates, and just-in-time provisioning in one
 * transaction.
 */
#include <stdlib.h>
#include <string.h>

#include "../test.h"
#include "regtest.h"

static const char *doc_ok =
    "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\","
    "\"Action\":\"iot:Connect\",\"Resource\":\"*\"}]}";

TC_TEST(registry_policy_documents)
{
    static const struct {
        const char *doc;
        const char *field;
    } bad[] = {
        /* the policy engine decides; its path names the element */
        {"", "policyDocument"},
        {"{", "policyDocument"},
        {"[]", "(document)"},
        {"{\"Statement\":[]}", "Version"},
        {"{\"Version\":\"2012-10-17\",\"Statement\":[]}", "Statement"},
        {"{\"Version\":\"2012-10-17\",\"Statement\":{\"Effect\":\"Maybe\","
         "\"Action\":\"iot:Connect\",\"Resource\":\"*\"}}",
         "Statement.Effect"},
        {"{\"Version\":\"2012-10-17\",\"Statement\":{\"Effect\":"
         "\"Allow\",\"Resource\":\"*\"}}",
         "Statement"},
        {"{\"Version\":\"2012-10-17\",\"Statement\":{\"Effect\":"
         "\"Allow\",\"Action\":[1],"
         "\"Resource\":\"*\"}}",
         "Statement.Action[0]"},
        {"{\"Version\":\"2012-10-17\",\"Statement\":{\"Effect\":"
         "\"Allow\",\"Action\":\"iot:Connect\"}}",
         "Statement"},
        {"{\"Version\":\"2012-10-17\",\"Statement\":{\"Effect\":"
         "\"Deny\",\"Action\":\"iot:Connect\","
         "\"Resource\":\"*\",\"Condition\":[]}}",
         "Statement.Condition"},
        {"{\"Version\":1,\"Statement\":{}}", "Version"},
    };
    struct tc_registry *reg = regt_open(NULL, 0);
    struct tc_detail d;
    char *big;
    size_t i;

    CHECK(reg != NULL);
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        CHECK_EQ_INT(tc_registry_policy_create(reg, "p", bad[i].doc,
                                               strlen(bad[i].doc), NULL, &d),
                     TC_ERR_REG_MALFORMED_POLICY);
        CHECK_EQ_STR(d.field, bad[i].field);
    }

    /* 2048 characters besides whitespace; spaces do not count. */
    big = malloc(5000);
    CHECK(big != NULL);
    snprintf(big, 5000,
             "{\"Version\":\"2012-10-17\",\"Statement\":{\"Effect\":"
             "\"Allow\",\"Action\":\"iot:Connect\",\"Resource\":"
             "\"arn:aws:iot:us-east-1:123456789012:topic/%0*d\"}}",
             2048 - 92 - 41, 0);
    CHECK_EQ_INT(strlen(big), 2048);
    CHECK_EQ_INT(
        tc_registry_policy_create(reg, "big", big, strlen(big), NULL, &d),
        TC_OK);
    memmove(big + 1, big, strlen(big) + 1);
    big[0] = 'x';
    CHECK_EQ_INT(
        tc_registry_policy_create(reg, "big2", big, strlen(big), NULL, &d),
        TC_ERR_REG_MALFORMED_POLICY);
    big[0] = ' ';
    CHECK_EQ_INT(
        tc_registry_policy_create(reg, "big2", big, strlen(big), NULL, &d),
        TC_OK);
    free(big);
    CHECK_EQ_INT(tc_registry_policy_create(reg, "bad name", doc_ok,
                                           strlen(doc_ok), NULL, &d),
                 TC_ERR_REG_INVALID_REQUEST);
    tc_registry_close(reg);
}

TC_TEST(registry_policy_versions)
{
    struct tc_registry *reg = regt_open(NULL, 0);
    struct tc_reg_policy p = {0};
    struct tc_reg_policy_version v = {0};
    struct tc_reg_policy_version_list vl = {0};
    struct tc_detail d;
    int i;

    CHECK(reg != NULL);
    CHECK_EQ_INT(tc_registry_policy_create(reg, "Kit_Policy", doc_ok,
                                           strlen(doc_ok), &p, &d),
                 TC_OK);
    CHECK_EQ_STR(p.default_version, "1");
    CHECK_EQ_STR(p.arn, "arn:aws:iot:eu-west-1:123456789012:policy/Kit_Policy");
    CHECK_EQ_STR(p.document, doc_ok);
    tc_reg_policy_clear(&p);
    CHECK_EQ_INT(tc_registry_policy_create(reg, "Kit_Policy", doc_ok,
                                           strlen(doc_ok), NULL, &d),
                 TC_ERR_REG_ALREADY_EXISTS);
    CHECK_EQ_STR(tc_registry_conflict_id(reg), "Kit_Policy");

    /* Versions 2..5, then the limit. */
    for (i = 2; i <= 5; i++) {
        CHECK_EQ_INT(tc_registry_policy_version_create(reg, "Kit_Policy",
                                                       doc_ok, strlen(doc_ok),
                                                       i == 3, &v, &d),
                     TC_OK);
        CHECK_EQ_INT(atoi(v.version_id), i);
        CHECK_EQ_INT(v.is_default, i == 3);
        tc_reg_policy_version_clear(&v);
    }
    CHECK_EQ_INT(tc_registry_policy_version_create(reg, "Kit_Policy", doc_ok,
                                                   strlen(doc_ok), 0, NULL, &d),
                 TC_ERR_REG_VERSIONS_LIMIT);
    CHECK_EQ_INT(tc_registry_policy_version_create(reg, "nope", doc_ok,
                                                   strlen(doc_ok), 0, NULL, &d),
                 TC_ERR_REG_NOT_FOUND);
    CHECK_EQ_INT(tc_registry_policy_version_create(reg, "Kit_Policy", "{}", 2,
                                                   0, NULL, &d),
                 TC_ERR_REG_MALFORMED_POLICY);
    CHECK_EQ_INT(tc_registry_policy_get(reg, "Kit_Policy", &p, &d), TC_OK);
    CHECK_EQ_STR(p.default_version, "3");
    tc_reg_policy_clear(&p);

    /* The default version cannot go; others can, ids are not reused. */
    CHECK_EQ_INT(tc_registry_policy_version_delete(reg, "Kit_Policy", "3", &d),
                 TC_ERR_REG_DELETE_CONFLICT);
    CHECK_EQ_INT(tc_registry_policy_version_delete(reg, "Kit_Policy", "9", &d),
                 TC_ERR_REG_NOT_FOUND);
    CHECK_EQ_INT(tc_registry_policy_version_delete(reg, "Kit_Policy", "x", &d),
                 TC_ERR_REG_INVALID_REQUEST);
    CHECK_EQ_INT(tc_registry_policy_version_delete(reg, "Kit_Policy", "5", &d),
                 TC_OK);
    CHECK_EQ_INT(tc_registry_policy_version_create(reg, "Kit_Policy", doc_ok,
                                                   strlen(doc_ok), 0, &v, &d),
                 TC_OK);
    CHECK_EQ_STR(v.version_id, "6");
    tc_reg_policy_version_clear(&v);
    CHECK_EQ_INT(
        tc_registry_policy_version_set_default(reg, "Kit_Policy", "6", &d),
        TC_OK);
    CHECK_EQ_INT(
        tc_registry_policy_version_set_default(reg, "Kit_Policy", "5", &d),
        TC_ERR_REG_NOT_FOUND);
    CHECK_EQ_INT(tc_registry_policy_version_get(reg, "Kit_Policy", "6", &v, &d),
                 TC_OK);
    CHECK_EQ_INT(v.is_default, 1);
    tc_reg_policy_version_clear(&v);
    CHECK_EQ_INT(tc_registry_policy_version_list(reg, "Kit_Policy", &vl, &d),
                 TC_OK);
    CHECK_EQ_INT(vl.n, 5);
    CHECK_EQ_STR(vl.items[0].version_id, "6");
    CHECK_EQ_INT(vl.items[0].is_default, 1);
    tc_reg_policy_version_list_clear(&vl);

    /* Delete needs only the default version left. */
    CHECK_EQ_INT(tc_registry_policy_delete(reg, "Kit_Policy", &d),
                 TC_ERR_REG_DELETE_CONFLICT);
    CHECK_EQ_INT(tc_registry_policy_version_delete(reg, "Kit_Policy", "1", &d),
                 TC_OK);
    CHECK_EQ_INT(tc_registry_policy_version_delete(reg, "Kit_Policy", "2", &d),
                 TC_OK);
    CHECK_EQ_INT(tc_registry_policy_version_delete(reg, "Kit_Policy", "3", &d),
                 TC_OK);
    CHECK_EQ_INT(tc_registry_policy_version_delete(reg, "Kit_Policy", "4", &d),
                 TC_OK);
    CHECK_EQ_INT(tc_registry_policy_delete(reg, "Kit_Policy", &d), TC_OK);
    CHECK_EQ_INT(tc_registry_policy_get(reg, "Kit_Policy", &p, &d),
                 TC_ERR_REG_NOT_FOUND);
    CHECK_EQ_INT(tc_registry_policy_delete(reg, "Kit_Policy", &d),
                 TC_ERR_REG_NOT_FOUND);
    tc_registry_close(reg);
}

TC_TEST(registry_policy_attachments)
{
    struct tc_registry *reg = regt_open(NULL, 0);
    struct tc_reg_policy_list pl = {0};
    struct tc_reg_str_list sl = {0};
    struct tc_reg_page page = {0};
    struct tc_detail d;
    char id[TC_REG_CERT_ID_LEN];
    char arn[TC_REG_ARN_MAX];
    char name[16];
    int i;

    CHECK(reg != NULL);
    CHECK_EQ_INT(regt_leaf(reg, TC_REG_CERT_ACTIVE, id), TC_OK);
    tc_registry_arn(reg, "cert", id, arn);
    for (i = 0; i < 11; i++) {
        snprintf(name, sizeof(name), "p%02d", i);
        CHECK_EQ_INT(tc_registry_policy_create(reg, name, doc_ok,
                                               strlen(doc_ok), NULL, &d),
                     TC_OK);
    }
    for (i = 0; i < 10; i++) {
        snprintf(name, sizeof(name), "p%02d", i);
        CHECK_EQ_INT(tc_registry_policy_attach(reg, name, arn, &d), TC_OK);
    }
    CHECK_EQ_INT(tc_registry_policy_attach(reg, "p00", arn, &d), TC_OK);
    CHECK_EQ_INT(tc_registry_policy_attach(reg, "p10", arn, &d),
                 TC_ERR_REG_LIMIT_EXCEEDED);
    CHECK_EQ_INT(tc_registry_policy_attach(reg, "zz", arn, &d),
                 TC_ERR_REG_NOT_FOUND);
    CHECK_EQ_INT(tc_registry_policy_attach(reg, "p00", "thing/x", &d),
                 TC_ERR_REG_INVALID_REQUEST);

    /* Lists, paged. */
    page.limit = 4;
    CHECK_EQ_INT(tc_registry_policy_list_attached(reg, arn, &page, &pl, &d),
                 TC_OK);
    CHECK_EQ_INT(pl.n, 4);
    CHECK_EQ_STR(pl.items[3].name, "p03");
    CHECK(pl.next[0] != '\0');
    tc_reg_policy_list_clear(&pl);
    CHECK_EQ_INT(tc_registry_policy_list_targets(reg, "p01", NULL, &sl, &d),
                 TC_OK);
    CHECK_EQ_INT(sl.n, 1);
    CHECK_EQ_STR(sl.items[0], arn);
    tc_reg_str_list_clear(&sl);
    CHECK_EQ_INT(tc_registry_policy_list_targets(reg, "zz", NULL, &sl, &d),
                 TC_ERR_REG_NOT_FOUND);
    CHECK_EQ_INT(tc_registry_policy_list(reg, NULL, &pl, &d), TC_OK);
    CHECK_EQ_INT(pl.n, 11);
    tc_reg_policy_list_clear(&pl);
    page.limit = 0;
    page.descending = 1;
    CHECK_EQ_INT(tc_registry_policy_list(reg, &page, &pl, &d), TC_OK);
    CHECK_EQ_STR(pl.items[0].name, "p10");
    tc_reg_policy_list_clear(&pl);

    /* The broker's view: documents of the default versions. */
    CHECK_EQ_INT(tc_registry_policies_for_cert(reg, id, &pl, &d), TC_OK);
    CHECK_EQ_INT(pl.n, 10);
    CHECK_EQ_STR(pl.items[0].document, doc_ok);
    tc_reg_policy_list_clear(&pl);

    /* Attached policies block deletion of both sides. */
    CHECK_EQ_INT(tc_registry_policy_delete(reg, "p00", &d),
                 TC_ERR_REG_DELETE_CONFLICT);
    CHECK_EQ_INT(
        tc_registry_cert_update_status(reg, id, TC_REG_CERT_INACTIVE, &d),
        TC_OK);
    CHECK_EQ_INT(tc_registry_cert_delete(reg, id, 0, &d),
                 TC_ERR_REG_DELETE_CONFLICT);
    CHECK_EQ_INT(tc_registry_policy_detach(reg, "p00", arn, &d), TC_OK);
    CHECK_EQ_INT(tc_registry_policy_detach(reg, "p00", arn, &d), TC_OK);
    CHECK_EQ_INT(tc_registry_policy_delete(reg, "p00", &d), TC_OK);

    /* forceDelete detaches the rest in the same transaction. */
    CHECK_EQ_INT(tc_registry_cert_delete(reg, id, 1, &d), TC_OK);
    CHECK_EQ_INT(tc_registry_policy_list_targets(reg, "p01", NULL, &sl, &d),
                 TC_OK);
    CHECK_EQ_INT(sl.n, 0);
    tc_reg_str_list_clear(&sl);
    CHECK_EQ_INT(tc_registry_policies_for_cert(reg, id, &pl, &d), TC_OK);
    CHECK_EQ_INT(pl.n, 0);
    tc_registry_close(reg);
}

TC_TEST(registry_templates)
{
    struct tc_registry *reg = regt_open(NULL, 0);
    struct tc_reg_template t = {0};
    struct tc_reg_template got = {0};
    struct tc_reg_template_list l = {0};
    struct tc_reg_template_update u = {NULL, NULL, -1};
    struct tc_reg_ca_update cu;
    struct tc_detail d;

    CHECK(reg != NULL);
    snprintf(t.name, sizeof(t.name), "jitp-1");
    t.body = "{\"Resources\":{}}";
    t.role_arn = "arn:aws:iam::123456789012:role/JITP";
    t.type = TC_REG_TEMPLATE_JITP;
    t.enabled = 1;
    CHECK_EQ_INT(tc_registry_template_create(reg, &t, &d), TC_OK);
    CHECK_EQ_INT(tc_registry_template_create(reg, &t, &d),
                 TC_ERR_REG_ALREADY_EXISTS);
    CHECK(strstr(tc_registry_conflict_arn(reg),
                 ":provisioningtemplate/jitp-1") != NULL);
    snprintf(t.name, sizeof(t.name), "bad");
    t.body = "[]";
    CHECK_EQ_INT(tc_registry_template_create(reg, &t, &d),
                 TC_ERR_REG_INVALID_REQUEST);
    CHECK_EQ_STR(d.field, "templateBody");
    t.body = "{";
    CHECK_EQ_INT(tc_registry_template_create(reg, &t, &d),
                 TC_ERR_REG_INVALID_REQUEST);
    t.body = "{}";
    t.role_arn = "short";
    CHECK_EQ_INT(tc_registry_template_create(reg, &t, &d),
                 TC_ERR_REG_INVALID_REQUEST);
    t.role_arn = "arn:aws:iam::123456789012:role/JITP";
    t.type = 5;
    CHECK_EQ_INT(tc_registry_template_create(reg, &t, &d),
                 TC_ERR_REG_INVALID_REQUEST);
    t.type = 0;
    t.description = "bad\x01";
    CHECK_EQ_INT(tc_registry_template_create(reg, &t, &d),
                 TC_ERR_REG_INVALID_REQUEST);

    CHECK_EQ_INT(tc_registry_template_describe(reg, "jitp-1", &got, &d), TC_OK);
    CHECK_EQ_INT(got.type, TC_REG_TEMPLATE_JITP);
    CHECK_EQ_INT(got.enabled, 1);
    CHECK_EQ_STR(got.body, "{\"Resources\":{}}");
    tc_reg_template_clear(&got);
    u.enabled = 0;
    u.description = "off";
    CHECK_EQ_INT(tc_registry_template_update(reg, "jitp-1", &u, &d), TC_OK);
    CHECK_EQ_INT(tc_registry_template_describe(reg, "jitp-1", &got, &d), TC_OK);
    CHECK_EQ_INT(got.enabled, 0);
    CHECK_EQ_STR(got.description, "off");
    tc_reg_template_clear(&got);
    CHECK_EQ_INT(tc_registry_template_update(reg, "nope", &u, &d),
                 TC_ERR_REG_NOT_FOUND);
    CHECK_EQ_INT(tc_registry_template_list(reg, NULL, &l, &d), TC_OK);
    CHECK_EQ_INT(l.n, 1);
    tc_reg_template_list_clear(&l);

    /* A CA naming the template keeps it alive. */
    {
        EVP_PKEY *k = regt_key();
        char *pem = regt_cert("SNI CA", k, NULL, NULL, 1, -1, 30, NULL);
        struct tc_reg_ca_register in = {0};
        char id[TC_REG_CERT_ID_LEN];

        in.ca_pem = pem;
        in.ca_pem_len = strlen(pem);
        in.mode = TC_REG_MODE_SNI_ONLY;
        in.template_name = "jitp-1";
        CHECK_EQ_INT(tc_registry_ca_register(reg, &in, id, &d), TC_OK);
        CHECK_EQ_INT(tc_registry_template_delete(reg, "jitp-1", &d),
                     TC_ERR_REG_DELETE_CONFLICT);
        tc_reg_ca_update_init(&cu);
        cu.remove_auto_registration = 1;
        CHECK_EQ_INT(tc_registry_ca_update(reg, id, &cu, &d), TC_OK);
        free(pem);
        EVP_PKEY_free(k);
    }
    CHECK_EQ_INT(tc_registry_template_delete(reg, "jitp-1", &d), TC_OK);
    CHECK_EQ_INT(tc_registry_template_delete(reg, "jitp-1", &d),
                 TC_ERR_REG_NOT_FOUND);
    tc_registry_close(reg);
}

TC_TEST(registry_jitp_one_transaction)
{
    struct tc_registry *reg = regt_open(NULL, 0);
    struct tc_reg_jitp j = {0};
    struct tc_reg_cert c = {0};
    struct tc_reg_thing t = {0};
    struct tc_reg_str_list sl = {0};
    struct tc_detail d;
    EVP_PKEY *cak = regt_key();
    EVP_PKEY *k = regt_key();
    X509 *cax = NULL;
    char *capem = regt_cert("Signer", cak, NULL, NULL, 1, -1, 30, &cax);
    char *dev = regt_cert("0123ABCD", k, cax, cak, 0, -1, 30, NULL);
    char *withchain = NULL;
    char id[TC_REG_CERT_ID_LEN];
    long long before = 0;
    long long after = 0;

    CHECK(reg != NULL && dev != NULL);
    withchain = malloc(strlen(dev) + strlen(capem) + 1);
    CHECK(withchain != NULL);
    strcpy(withchain, dev);
    strcat(withchain, capem);

    /* A policy that exists with another document: the whole thing rolls
     * back, including certificate and thing. */
    CHECK_EQ_INT(tc_registry_policy_create(reg, "Kit_Policy", doc_ok,
                                           strlen(doc_ok), NULL, &d),
                 TC_OK);
    CHECK_EQ_INT(tc_registry_events_max_seq(reg, &before, &d), TC_OK);
    j.cert_pem = withchain;
    j.cert_pem_len = strlen(withchain);
    j.thing_name = "0123ABCD";
    j.policy_name = "Kit_Policy";
    j.policy_doc = "{\"Version\":\"2012-10-17\",\"Statement\":{"
                   "\"Effect\":\"Deny\",\"Action\":\"*\",\"Resource\":\"*\"}}";
    j.policy_doc_len = strlen(j.policy_doc);
    CHECK_EQ_INT(tc_registry_jitp_apply(reg, &j, id, &d),
                 TC_ERR_REG_ALREADY_EXISTS);
    CHECK_EQ_INT(tc_registry_cert_describe(reg, id, &c, &d),
                 TC_ERR_REG_NOT_FOUND);
    CHECK_EQ_INT(tc_registry_thing_describe(reg, "0123ABCD", &t, &d),
                 TC_ERR_REG_NOT_FOUND);
    CHECK_EQ_INT(tc_registry_events_max_seq(reg, &after, &d), TC_OK);
    CHECK_EQ_INT(after, before);

    /* The same document: reused, everything applied. */
    j.policy_doc = doc_ok;
    j.policy_doc_len = strlen(doc_ok);
    CHECK_EQ_INT(tc_registry_jitp_apply(reg, &j, id, &d), TC_OK);
    CHECK_EQ_INT(tc_registry_cert_describe(reg, id, &c, &d), TC_OK);
    CHECK_EQ_INT(c.status, TC_REG_CERT_ACTIVE);
    tc_reg_cert_clear(&c);
    CHECK_EQ_INT(
        tc_registry_thing_principal_list(reg, "0123ABCD", NULL, &sl, &d),
        TC_OK);
    CHECK_EQ_INT(sl.n, 1);
    tc_reg_str_list_clear(&sl);
    {
        struct tc_reg_policy_list pl = {0};

        CHECK_EQ_INT(tc_registry_policies_for_cert(reg, id, &pl, &d), TC_OK);
        CHECK_EQ_INT(pl.n, 1);
        CHECK_EQ_STR(pl.items[0].document, doc_ok);
        tc_reg_policy_list_clear(&pl);
    }
    CHECK_EQ_INT(tc_registry_cert_chain_pems(reg, &sl, &d), TC_OK);
    CHECK_EQ_INT(sl.n, 1);
    CHECK(strstr(capem, "BEGIN") != NULL);
    tc_reg_str_list_clear(&sl);

    /* Once ACTIVE, it cannot be provisioned again. */
    CHECK_EQ_INT(tc_registry_jitp_apply(reg, &j, id, &d),
                 TC_ERR_REG_ALREADY_EXISTS);

    free(withchain);
    free(capem);
    free(dev);
    X509_free(cax);
    EVP_PKEY_free(cak);
    EVP_PKEY_free(k);
    tc_registry_close(reg);
}
