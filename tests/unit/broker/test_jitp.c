// SPDX-License-Identifier: Apache-2.0
/*
 * The JITP template evaluator: a table of templates with the plan or the
 * error each must give for one Trust&GO-shaped certificate, every error
 * code included.
 */
#include <stdlib.h>
#include <string.h>

#include "../test.h"
#include "thingcore/broker.h"
#include "thingcore/registry.h"

static const struct tc_jitp_params params = {
    .common_name = "sn0123456789ABCDEF01",
    .id = "00ff",
    .organization = "Microchip Technology Inc",
};

struct row {
    const char *body;
    int rc;
    const char *thing;  /* expected thing name, or NULL */
    const char *policy; /* expected policy name, or NULL */
    const char *field;  /* expected detail field on error, or NULL */
};

#define THING(expr)                                                            \
    "{\"Resources\":{\"t\":{\"Type\":\"AWS::IoT::Thing\",\"Properties\":{"     \
    "\"ThingName\":" expr "}}}}"

static const struct row rows[] = {
    /* The Trust&GO serial out of the CN. */
    {THING("{\"Fn::Select\":[1,{\"Fn::Split\":[\"sn\",{\"Ref\":"
           "\"AWS::IoT::Certificate::CommonName\"}]}]}"),
     TC_OK, "0123456789ABCDEF01", NULL, NULL},
    {THING("{\"Fn::Join\":[\"-\",[\"a\",{\"Ref\":"
           "\"AWS::IoT::Certificate::Organization\"}]]}"),
     TC_OK, "a-Microchip Technology Inc", NULL, NULL},
    {THING("{\"Fn::Sub\":\"x-${AWS::IoT::Certificate::Id}\"}"), TC_OK, "x-00ff",
     NULL, NULL},
    {THING("{\"Fn::Select\":[\"0\",{\"Fn::Split\":[\",\",\"p,q\"]}]}"), TC_OK,
     "p", NULL, NULL},
    /* A Default stands in for a field the certificate lacks. */
    {"{\"Parameters\":{\"AWS::IoT::Certificate::Country\":{\"Type\":"
     "\"String\",\"Default\":\"FR\"}},\"Resources\":{\"t\":{\"Type\":"
     "\"AWS::IoT::Thing\",\"Properties\":{\"ThingName\":{\"Ref\":"
     "\"AWS::IoT::Certificate::Country\"}}}}}",
     TC_OK, "FR", NULL, NULL},
    {"{\"Resources\":{\"p\":{\"Type\":\"AWS::IoT::Policy\",\"Properties\":{"
     "\"PolicyName\":\"Kit_Policy\"}}}}",
     TC_OK, NULL, "Kit_Policy", NULL},
    /* Errors. */
    {THING("{\"Ref\":\"AWS::IoT::Certificate::Country\"}"),
     TC_ERR_BROKER_TEMPLATE_PARAM, NULL, NULL, "Resources.thing.ThingName"},
    {THING("{\"Fn::Split\":[\"\",\"abc\"]}"), TC_ERR_BROKER_TEMPLATE, NULL,
     NULL, "Resources.thing.ThingName"},
    {THING("{\"Fn::Select\":[5,{\"Fn::Split\":[\"s\",\"a\"]}]}"),
     TC_ERR_BROKER_TEMPLATE, NULL, NULL, NULL},
    {THING("{\"Fn::Split\":[\",\",\"a,b\"]}"), TC_ERR_BROKER_TEMPLATE, NULL,
     NULL, NULL},
    {THING("{\"Fn::GetAtt\":[\"a\",\"b\"]}"), TC_ERR_BROKER_TEMPLATE, NULL,
     NULL, NULL},
    {THING("{\"Fn::Sub\":\"${\"}"), TC_ERR_BROKER_TEMPLATE, NULL, NULL, NULL},
    {"{\"Resources\":{\"c\":{\"Type\":\"AWS::IoT::Certificate\","
     "\"Properties\":{\"Status\":\"REVOKED\"}}}}",
     TC_ERR_BROKER_TEMPLATE, NULL, NULL, "Resources.certificate.Status"},
    {"{\"Resources\":{\"x\":{\"Type\":\"AWS::S3::Bucket\",\"Properties\":{}}"
     "}}",
     TC_ERR_BROKER_TEMPLATE, NULL, NULL, "Resources"},
    {"{\"Resources\":{\"p\":{\"Type\":\"AWS::IoT::Policy\",\"Properties\":{"
     "}}}}",
     TC_ERR_BROKER_TEMPLATE, NULL, NULL, "Resources.policy"},
    {"{\"Parameters\":{}}", TC_ERR_BROKER_TEMPLATE, NULL, NULL, "Resources"},
    {"{\"Resources\":", TC_ERR_PARSE, NULL, NULL, NULL},
};

TC_TEST(jitp_table)
{
    size_t i;

    for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        struct tc_jitp_plan plan;
        struct tc_detail d;
        int rc;

        tc_detail_clear(&d);
        rc = tc_jitp_evaluate(rows[i].body, strlen(rows[i].body), &params,
                              &plan, &d);
        if (rc != rows[i].rc) {
            fprintf(stderr, "row %zu: %d (%s)\n", i, rc, d.text);
        }
        CHECK_EQ_INT(rc, rows[i].rc);
        if (rows[i].field != NULL) {
            CHECK_EQ_STR(d.field, rows[i].field);
        }
        if (rc != TC_OK) {
            CHECK(plan.thing_name == NULL && plan.policy_name == NULL);
            continue;
        }
        if (rows[i].thing != NULL) {
            CHECK(plan.thing_name != NULL);
            CHECK_EQ_STR(plan.thing_name, rows[i].thing);
        }
        if (rows[i].policy != NULL) {
            CHECK(plan.policy_name != NULL);
            CHECK_EQ_STR(plan.policy_name, rows[i].policy);
        }
        CHECK_EQ_INT(plan.cert_status, TC_REG_CERT_ACTIVE);
        tc_jitp_plan_clear(&plan);
    }
}

/* A policy given by document only gets the document's SHA-256 as name. */
TC_TEST(jitp_policy_document_named_by_hash)
{
    static const char body[] =
        "{\"Resources\":{\"p\":{\"Type\":\"AWS::IoT::Policy\",\"Properties\""
        ":{\"PolicyDocument\":\"{}\"}},\"t\":{\"Type\":\"AWS::IoT::Thing\","
        "\"Properties\":{\"ThingName\":\"d\",\"AttributePayload\":{\"a\":"
        "\"1\",\"b\":{\"Ref\":\"AWS::IoT::Certificate::Id\"}}}}}}";
    struct tc_jitp_plan plan;

    CHECK_EQ_INT(tc_jitp_evaluate(body, strlen(body), &params, &plan, NULL),
                 TC_OK);
    /* sha256("{}") */
    CHECK_EQ_STR(plan.policy_name, "44136fa355b3678a1146ad16f7e8649e94fb4fc2"
                                   "1fe77e8310c060f61caaff8a");
    CHECK_EQ_STR(plan.policy_doc, "{}");
    CHECK_EQ_INT((int)plan.n_attrs, 2);
    CHECK_EQ_STR(plan.attr_values[1], "00ff");
    tc_jitp_plan_clear(&plan);
    CHECK(plan.policy_name == NULL);
}

/* Bounds: a list or a string that grows past its limit is refused. */
TC_TEST(jitp_bounds)
{
    char body[12000];
    char big[TC_JITP_VALUE_MAX + 16];
    struct tc_jitp_plan plan;
    struct tc_detail d;
    int i;
    int n;

    /* 200 commas split into more than TC_JITP_LIST_MAX values. */
    n = snprintf(body, sizeof(body), "%s",
                 "{\"Resources\":{\"t\":{\"Type\":\"AWS::IoT::Thing\","
                 "\"Properties\":{\"ThingName\":{\"Fn::Select\":[0,"
                 "{\"Fn::Split\":[\",\",\"");
    for (i = 0; i < 200; i++) {
        body[n++] = ',';
    }
    snprintf(body + n, sizeof(body) - (size_t)n, "\"]}]}}}}}");
    CHECK_EQ_INT(tc_jitp_evaluate(body, strlen(body), &params, &plan, &d),
                 TC_ERR_TOO_BIG);

    /* A join of two strings of 3000 bytes is longer than the limit. */
    memset(big, 'a', 3000);
    big[3000] = '\0';
    snprintf(body, sizeof(body),
             "{\"Resources\":{\"t\":{\"Type\":\"AWS::IoT::Thing\","
             "\"Properties\":{\"ThingName\":{\"Fn::Join\":[\"\",[\"%s\","
             "\"%s\"]]}}}}}",
             big, big);
    CHECK_EQ_INT(tc_jitp_evaluate(body, strlen(body), &params, &plan, &d),
                 TC_ERR_TOO_BIG);
}
