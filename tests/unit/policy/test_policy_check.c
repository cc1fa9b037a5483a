// SPDX-License-Identifier: Apache-2.0
/*
 * Decision vectors for the policy engine: one table row per rule of the
 * language, the traps called out in AWS IoT's documentation, and the
 * Kit_Policy a registered device receives. Each row compiles its policy for
 * one of a few connection contexts and checks one action.
 */
#include <stdlib.h>

#include "../test.h"
#include "thingcore/policy.h"

#define SN "0123ABCDEF01234567"
#define ARN "arn:aws:iot:us-east-1:123456789012:"
#define DOC(stmts) "{\"Version\":\"2012-10-17\",\"Statement\":[" stmts "]}"
#define ALLOW(act, res) \
    "{\"Effect\":\"Allow\",\"Action\":" act ",\"Resource\":" res "}"
#define DENY(act, res) \
    "{\"Effect\":\"Deny\",\"Action\":" act ",\"Resource\":" res "}"

enum ctxv {
    CTX_DEVICE,     /* client = thing = SN, attached, full certificate */
    CTX_PLUS,       /* client ID "+", no thing */
    CTX_DETACHED,   /* client = thing = SN, thing not attached */
    CTX_DEV1,       /* client "dev1", no thing, IPv6 source */
    CTX_DOLLAR,     /* client "a$b" */
    CTX_BARE,       /* client "bare", nothing else known */
};

static const struct tc_policy_pair attrs[] = {
    {"room", "kitchen"},
    {"floor", "2"},
    {"owner", "arn:aws:iam::123456789012:user/alice"},
};
static const struct tc_policy_pair subject[] = {
    {"CommonName", SN},
    {"Organization", "Acme"},
    {"OrganizationalUnit", "sensors"},
    {"OrganizationalUnit", "lab"},
};
static const struct tc_policy_pair issuer[] = {
    {"CommonName", "Crypto Authentication Signer 2C00"},
    {"Organization", "Microchip Technology Inc"},
};

static struct tc_policy_ctx
make_ctx(enum ctxv v)
{
    struct tc_policy_ctx c;

    memset(&c, 0, sizeof(c));
    c.region = "us-east-1";
    c.account = "123456789012";
    switch (v) {
    case CTX_DEVICE:
    case CTX_DETACHED:
        c.client_id = SN;
        c.thing_name = SN;
        c.is_attached = v == CTX_DEVICE;
        c.thing_type = "microchip-tng";
        c.attrs = attrs;
        c.nattrs = 3;
        c.subject = subject;
        c.nsubject = 4;
        c.issuer = issuer;
        c.nissuer = 2;
        c.cert_serial = "5A3F09";
        c.source_ip = "10.1.2.3";
        break;
    case CTX_PLUS:
        c.client_id = "+";
        break;
    case CTX_DEV1:
        c.client_id = "dev1";
        c.source_ip = "2001:db8::7";
        break;
    case CTX_DOLLAR:
        c.client_id = "a$b";
        break;
    case CTX_BARE:
        c.client_id = "bare";
        break;
    }
    return c;
}

struct row {
    const char *policy;
    enum ctxv ctx;
    enum tc_policy_action action;
    const char *name;
    enum tc_policy_decision want;
};

#define C TC_POLICY_CONNECT
#define P TC_POLICY_PUBLISH
#define S TC_POLICY_SUBSCRIBE
#define R TC_POLICY_RECEIVE
#define RP TC_POLICY_RETAIN_PUBLISH
#define OK TC_POLICY_ALLOWED
#define NO TC_POLICY_DEFAULT_DENY
#define XD TC_POLICY_EXPLICIT_DENY

static const char p_clientid_filter[] = DOC(
    ALLOW("\"iot:Subscribe\"", "\"" ARN "topicfilter/my/${iot:ClientId}\""));
static const char p_star[] = DOC(ALLOW("\"iot:Publish\"", "\"" ARN
                                                          "topic/a/*\""));
static const char p_one[] = DOC(ALLOW("\"iot:Publish\"", "\"" ARN
                                                         "topic/a/?\""));
static const char p_mid[] = DOC(ALLOW("\"iot:Publish\"",
                                      "\"" ARN "topic/a/*/x?z/*/end\""));
static const char p_plus[] = DOC(ALLOW(
    "[\"iot:Subscribe\",\"iot:Publish\"]",
    "[\"" ARN "topicfilter/a/+\",\"" ARN "topic/b/#\"]"));
static const char p_escape[] = DOC(ALLOW(
    "\"iot:Publish\"",
    "[\"" ARN "topic/e/$(*)\",\"" ARN "topic/q/$(?)\",\"" ARN
    "topic/d/$($)x\",\"" ARN "topic/i/${*}\",\"" ARN "topic/$aws/x\"]"));
static const char p_deny_unresolved[] = DOC(
    ALLOW("\"iot:Publish\"", "\"" ARN "topic/*\"") ","
    DENY("\"iot:Publish\"",
         "\"" ARN "topic/${iot:Connection.Thing.Attributes[room]}/*\""));
static const char p_deny_missing_attr[] = DOC(
    ALLOW("\"iot:Publish\"", "\"" ARN "topic/*\"") ","
    DENY("\"iot:Publish\"",
         "\"" ARN "topic/${iot:Connection.Thing.Attributes[nope]}/*\""));
static const char p_thing_vars[] = DOC(
    ALLOW("\"iot:Publish\"",
          "\"" ARN "topic/${iot:Connection.Thing.ThingTypeName}/*\"") ","
    ALLOW("\"iot:Publish\"",
          "\"" ARN "topic/room/${iot:Connection.Thing.Attributes[room]}\"")
    "," ALLOW("\"iot:Publish\"",
              "\"" ARN "topic/att/${iot:Connection.Thing.IsAttached}\""));
static const char p_cert_vars[] = DOC(
    ALLOW("\"iot:Connect\"",
          "\"" ARN "client/${iot:Certificate.Subject.CommonName}\"") ","
    ALLOW("\"iot:Publish\"",
          "[\"" ARN "topic/org/${iot:Certificate.Subject.Organization}\","
          "\"" ARN "topic/ou/${iot:Certificate.Subject.OrganizationalUnit}\","
          "\"" ARN "topic/sn/${iot:Certificate.SerialNumber}\","
          "\"" ARN "topic/iss/${iot:Certificate.Issuer.Organization}\","
          "\"" ARN "topic/ip/${aws:SourceIp}\"]"));
static const char p_regions[] = DOC(
    ALLOW("\"iot:Publish\"",
          "[\"arn:aws:iot:eu-west-1:123456789012:topic/r/*\","
          "\"arn:aws:iot:us-east-1:999999999999:topic/r/*\","
          "\"arn:aws:iot:*:123456789012:topic/w/*\","
          "\"arn:aws:iot:us-east-?:*:topic/q/*\"]"));
static const char p_everything[] = DOC(ALLOW("\"*\"", "\"*\""));
static const char p_types[] = DOC(
    ALLOW("\"iot:*\"", "\"" ARN "topic/*\""));
static const char p_actions[] = DOC(
    ALLOW("[\"IOT:publish\",\"iot:Sub*\",\"iot:?eceive\"]", "\"*\""));
static const char p_not_action[] = DOC(
    "{\"Effect\":\"Allow\",\"NotAction\":\"iot:Publish\",\"Resource\":\"*\"}");
static const char p_not_resource[] = DOC(
    "{\"Effect\":\"Allow\",\"Action\":\"iot:Publish\","
    "\"NotResource\":[\"" ARN "topic/private/*\",\"" ARN "topic/x\"]}");
static const char p_deny_wins[] = DOC(
    ALLOW("\"iot:*\"", "\"*\"") ","
    "{\"Sid\":\"NoSecrets\",\"Effect\":\"Deny\",\"Action\":\"iot:Publish\","
    "\"Resource\":\"" ARN "topic/secret/*\"}");
static const char p_object_statement[] =
    "{\"Version\":\"2012-10-17\",\"Statement\":{\"Effect\":\"Allow\","
    "\"Action\":\"iot:Connect\",\"Resource\":\"" ARN "client/bare\"}}";
static const char p_dollar_client[] = DOC(
    ALLOW("\"iot:Publish\"", "\"" ARN "topic/c/${iot:ClientId}\""));
static const char p_unknown_var[] = DOC(
    ALLOW("\"iot:Publish\"", "\"" ARN "topic/u/${aws:username}\"") ","
    ALLOW("\"iot:Publish\"", "\"" ARN "topic/v/${iot:ClientId\""));

/* Conditions */
static const char p_cond_list[] = DOC(
    "{\"Effect\":\"Allow\",\"Action\":\"iot:Connect\",\"Resource\":\"*\","
    "\"Condition\":{\"StringEquals\":{\"iot:ClientId\":[\"dev1\",\"dev2\"]}}}");
static const char p_cond_like[] = DOC(
    "{\"Effect\":\"Allow\",\"Action\":\"iot:Connect\",\"Resource\":\"*\","
    "\"Condition\":{\"StringLike\":{\"iot:ClientId\":\"dev?\"},"
    "\"StringNotLike\":{\"iot:ClientId\":\"dev9\"}}}");
static const char p_cond_not_equals[] = DOC(
    "{\"Effect\":\"Deny\",\"Action\":\"iot:Connect\",\"Resource\":\"*\","
    "\"Condition\":{\"StringNotEquals\":{\"iot:ClientId\":"
    "\"${iot:Connection.Thing.ThingName}\"}}},"
    ALLOW("\"iot:Connect\"", "\"*\""));
static const char p_cond_bool[] = DOC(
    "{\"Effect\":\"Allow\",\"Action\":\"iot:Connect\",\"Resource\":\"*\","
    "\"Condition\":{\"Bool\":{\"iot:Connection.Thing.IsAttached\":true}}}");
static const char p_cond_ip[] = DOC(
    "{\"Effect\":\"Allow\",\"Action\":\"iot:Connect\",\"Resource\":\"*\","
    "\"Condition\":{\"IpAddress\":{\"aws:SourceIp\":[\"10.0.0.0/8\","
    "\"2001:db8::/32\"]},\"NotIpAddress\":{\"aws:SourceIp\":"
    "\"10.9.0.0/16\"}}}");
static const char p_cond_any[] = DOC(
    "{\"Effect\":\"Allow\",\"Action\":\"iot:Publish\",\"Resource\":\"*\","
    "\"Condition\":{\"ForAnyValue:StringEquals\":{"
    "\"iot:Certificate.Subject.OrganizationalUnit.List\":[\"lab\",\"x\"]}}}");
static const char p_cond_all[] = DOC(
    "{\"Effect\":\"Allow\",\"Action\":\"iot:Subscribe\",\"Resource\":\"*\","
    "\"Condition\":{\"ForAllValues:StringLike\":{"
    "\"iot:Certificate.Subject.OrganizationalUnit.List\":[\"sens*\","
    "\"l?b\"]}}},"
    "{\"Effect\":\"Allow\",\"Action\":\"iot:Receive\",\"Resource\":\"*\","
    "\"Condition\":{\"ForAllValues:StringEquals\":{"
    "\"iot:Certificate.Subject.OrganizationalUnit.List\":\"lab\"}}}");
static const char p_cond_arn[] = DOC(
    "{\"Effect\":\"Allow\",\"Action\":\"iot:Connect\",\"Resource\":\"*\","
    "\"Condition\":{\"ArnLike\":{\"iot:Connection.Thing.Attributes[owner]\":"
    "\"arn:aws:iam::*:user/*\"}}}");
static const char p_cond_arn_role[] = DOC(
    "{\"Effect\":\"Allow\",\"Action\":\"iot:Connect\",\"Resource\":\"*\","
    "\"Condition\":{\"ArnEquals\":{\"iot:Connection.Thing.Attributes[owner]\":"
    "[\"arn:aws:iam::*:role/*\",\"arn:*:user/alice\"]}}}");
static const char p_cond_misc[] = DOC(
    "{\"Effect\":\"Allow\",\"Action\":\"iot:Connect\",\"Resource\":\"*\","
    "\"Condition\":{\"StringEqualsIgnoreCase\":{"
    "\"iot:Certificate.Issuer.Organization\":\"MICROCHIP TECHNOLOGY INC\"},"
    "\"StringEqualsIfExists\":{\"iot:Connection.Thing.ThingTypeName\":"
    "\"microchip-tng\"},"
    "\"Null\":{\"iot:Certificate.SerialNumber\":\"false\"}}}");
static const char p_cond_ifexists_absent[] = DOC(
    "{\"Effect\":\"Allow\",\"Action\":\"iot:Publish\",\"Resource\":\"*\","
    "\"Condition\":{\"StringEqualsIfExists\":{"
    "\"iot:Connection.Thing.ThingTypeName\":\"microchip-tng\"}}}");
static const char p_cond_unresolved_value[] = DOC(
    "{\"Effect\":\"Deny\",\"Action\":\"iot:Publish\",\"Resource\":\"*\","
    "\"Condition\":{\"StringLike\":{\"iot:ClientId\":"
    "\"${iot:Connection.Thing.Attributes[nope]}\"}}},"
    ALLOW("\"iot:Publish\"", "\"*\""));

static char kit[4096];

static const struct row rows[] = {
    /* client ID "+" is not substituted: my/+ is not granted. */
    {p_clientid_filter, CTX_PLUS, S, "my/+", NO},
    {p_clientid_filter, CTX_DEV1, S, "my/dev1", OK},
    {p_clientid_filter, CTX_DEV1, S, "my/+", NO},
    {p_clientid_filter, CTX_DEV1, P, "my/dev1", NO},

    /* * crosses topic levels; ? is exactly one character. */
    {p_star, CTX_BARE, P, "a/b/c/d", OK},
    {p_star, CTX_BARE, P, "a/", OK},
    {p_star, CTX_BARE, P, "a", NO},
    {p_star, CTX_BARE, P, "b/a/c", NO},
    {p_one, CTX_BARE, P, "a/b", OK},
    {p_one, CTX_BARE, P, "a/\xc3\xa9", OK},
    {p_one, CTX_BARE, P, "a/bc", NO},
    {p_one, CTX_BARE, P, "a/", NO},
    {p_one, CTX_BARE, P, "a//", OK},
    {p_mid, CTX_BARE, P, "a/1/xyz/2/end", OK},
    {p_mid, CTX_BARE, P, "a/xyz/xqz/9/end", OK},
    {p_mid, CTX_BARE, P, "a/1/xz/2/end", NO},
    {p_mid, CTX_BARE, P, "a/1/xyz/2/end/", NO},

    /* MQTT wildcards are plain characters in policies. */
    {p_plus, CTX_BARE, S, "a/+", OK},
    {p_plus, CTX_BARE, S, "a/b", NO},
    {p_plus, CTX_BARE, P, "b/#", OK},
    {p_plus, CTX_BARE, P, "b/c", NO},

    /* Escapes name the wildcard characters literally. */
    {p_escape, CTX_BARE, P, "e/*", OK},
    {p_escape, CTX_BARE, P, "e/x", NO},
    {p_escape, CTX_BARE, P, "q/?", OK},
    {p_escape, CTX_BARE, P, "q/x", NO},
    {p_escape, CTX_BARE, P, "d/$x", OK},
    {p_escape, CTX_BARE, P, "i/*", OK},
    {p_escape, CTX_BARE, P, "i/y", NO},
    {p_escape, CTX_BARE, P, "$aws/x", OK},

    /* A Deny whose variable cannot be resolved does not apply. */
    {p_deny_missing_attr, CTX_DEVICE, P, "x/y", OK},
    {p_deny_unresolved, CTX_BARE, P, "kitchen/y", OK},
    {p_deny_unresolved, CTX_DETACHED, P, "kitchen/y", OK},
    {p_deny_unresolved, CTX_DEVICE, P, "kitchen/y", XD},
    {p_deny_unresolved, CTX_DEVICE, P, "hall/y", OK},
    {p_cond_unresolved_value, CTX_BARE, P, "x", OK},

    /* Thing and certificate variables. */
    {p_thing_vars, CTX_DEVICE, P, "microchip-tng/a", OK},
    {p_thing_vars, CTX_DEVICE, P, "room/kitchen", OK},
    {p_thing_vars, CTX_DEVICE, P, "att/true", OK},
    {p_thing_vars, CTX_DETACHED, P, "room/kitchen", NO},
    {p_thing_vars, CTX_BARE, P, "att/false", OK},
    {p_cert_vars, CTX_DEVICE, C, SN, OK},
    {p_cert_vars, CTX_DEVICE, C, "other", NO},
    {p_cert_vars, CTX_DEVICE, P, "org/Acme", OK},
    {p_cert_vars, CTX_DEVICE, P, "ou/sensors", OK},
    {p_cert_vars, CTX_DEVICE, P, "ou/lab", NO},
    {p_cert_vars, CTX_DEVICE, P, "sn/5A3F09", OK},
    {p_cert_vars, CTX_DEVICE, P, "iss/Microchip Technology Inc", OK},
    {p_cert_vars, CTX_DEVICE, P, "ip/10.1.2.3", OK},
    {p_cert_vars, CTX_BARE, P, "org/Acme", NO},
    {p_dollar_client, CTX_DOLLAR, P, "c/a$b", NO},
    {p_dollar_client, CTX_DEV1, P, "c/dev1", OK},
    {p_unknown_var, CTX_BARE, P, "u/bare", NO},
    {p_unknown_var, CTX_BARE, P, "u/${aws:username}", NO},
    {p_unknown_var, CTX_BARE, P, "v/${iot:ClientId", OK},

    /* ARNs of another region or account never match. */
    {p_regions, CTX_BARE, P, "r/1", NO},
    {p_regions, CTX_BARE, P, "w/1", OK},
    {p_regions, CTX_BARE, P, "q/1", OK},
    {p_everything, CTX_BARE, RP, "anything", OK},
    {p_everything, CTX_BARE, C, "", OK},

    /* Resource types belong to their actions. */
    {p_types, CTX_BARE, P, "t", OK},
    {p_types, CTX_BARE, R, "t", OK},
    {p_types, CTX_BARE, RP, "t", OK},
    {p_types, CTX_BARE, C, "t", NO},
    {p_types, CTX_BARE, S, "t", NO},

    /* Action names: case-insensitive, with wildcards. */
    {p_actions, CTX_BARE, P, "x", OK},
    {p_actions, CTX_BARE, S, "x", OK},
    {p_actions, CTX_BARE, R, "x", OK},
    {p_actions, CTX_BARE, C, "x", NO},
    {p_actions, CTX_BARE, RP, "x", NO},
    {p_not_action, CTX_BARE, S, "x", OK},
    {p_not_action, CTX_BARE, C, "bare", OK},
    {p_not_action, CTX_BARE, P, "x", NO},
    {p_not_resource, CTX_BARE, P, "public/a", OK},
    {p_not_resource, CTX_BARE, P, "private/a", NO},
    {p_not_resource, CTX_BARE, P, "x", NO},
    {p_not_resource, CTX_BARE, P, "xy", OK},
    {p_not_resource, CTX_BARE, S, "public/a", NO},
    {p_deny_wins, CTX_BARE, P, "secret/k", XD},
    {p_deny_wins, CTX_BARE, P, "open/k", OK},
    {p_deny_wins, CTX_BARE, S, "secret/k", OK},
    {p_object_statement, CTX_BARE, C, "bare", OK},
    {p_object_statement, CTX_BARE, C, "bar", NO},

    /* Conditions, including lists of values and of context values. */
    {p_cond_list, CTX_DEV1, C, "dev1", OK},
    {p_cond_list, CTX_BARE, C, "bare", NO},
    {p_cond_like, CTX_DEV1, C, "dev1", OK},
    {p_cond_like, CTX_BARE, C, "bare", NO},
    {p_cond_not_equals, CTX_DEVICE, C, SN, OK},
    /* The Deny's value names an absent thing: it cannot apply. */
    {p_cond_not_equals, CTX_BARE, C, "bare", OK},
    {p_cond_bool, CTX_DEVICE, C, SN, OK},
    {p_cond_bool, CTX_DETACHED, C, SN, NO},
    {p_cond_ip, CTX_DEVICE, C, SN, OK},
    {p_cond_ip, CTX_DEV1, C, "dev1", OK},
    {p_cond_ip, CTX_BARE, C, "bare", NO},
    {p_cond_any, CTX_DEVICE, P, "x", OK},
    {p_cond_any, CTX_BARE, P, "x", NO},
    {p_cond_all, CTX_DEVICE, S, "x", OK},
    {p_cond_all, CTX_BARE, S, "x", OK},
    {p_cond_all, CTX_DEVICE, R, "x", NO},
    {p_cond_arn, CTX_DEVICE, C, SN, OK},
    {p_cond_arn, CTX_DETACHED, C, SN, NO},
    {p_cond_arn_role, CTX_DEVICE, C, SN, NO},
    {p_cond_misc, CTX_DEVICE, C, SN, OK},
    {p_cond_misc, CTX_BARE, C, "bare", NO},
    {p_cond_ifexists_absent, CTX_BARE, P, "x", OK},
    {p_cond_ifexists_absent, CTX_DEVICE, P, "x", OK},

    /* Kit_Policy (kit[] is filled in by the test before use). */
    {kit, CTX_DEVICE, C, SN, OK},
    {kit, CTX_DEVICE, C, "0123ABCDEF01234568", NO},
    {kit, CTX_DEVICE, P, SN "/", OK},
    {kit, CTX_DEVICE, P, SN "/blink", OK},
    {kit, CTX_DEVICE, P, SN, NO},
    {kit, CTX_DEVICE, P, SN "X/a", NO},
    {kit, CTX_DEVICE, P, "0123ABCDEF01234568/", NO},
    {kit, CTX_DEVICE, P, "$aws/things/" SN "/shadow/update", OK},
    {kit, CTX_DEVICE, P, "$aws/things/" SN "/streams/s1/data/json", OK},
    {kit, CTX_DEVICE, P, "$aws/things/" SN "/jobs/get", OK},
    {kit, CTX_DEVICE, P, "$aws/things/" SN "/tunnels/notify", NO},
    {kit, CTX_DEVICE, P, "$aws/things/OTHER/shadow/update", NO},
    {kit, CTX_DEVICE, R, SN "/blink", OK},
    {kit, CTX_DEVICE, R, "OTHER/blink", NO},
    {kit, CTX_DEVICE, S, SN "/#", OK},
    {kit, CTX_DEVICE, S, "$aws/things/" SN "/shadow/#", OK},
    {kit, CTX_DEVICE, S, "#", NO},
    {kit, CTX_DEVICE, S, "+/blink", NO},
    {kit, CTX_DEVICE, RP, SN "/x", NO},
    {kit, CTX_DETACHED, C, SN, NO},
    {kit, CTX_DETACHED, P, SN "/", NO},
    {kit, CTX_BARE, C, "bare", NO},
};

TC_TEST(policy_check_vectors)
{
    size_t i;
    size_t failures = 0;

    CHECK_EQ_INT(tc_policy_kit_document("us-east-1", "123456789012", kit,
                                        sizeof(kit)),
                 TC_OK);
    for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        const struct row *r = &rows[i];
        struct tc_policy_ctx ctx = make_ctx(r->ctx);
        struct tc_policy_set *set = NULL;
        struct tc_policy_why why;
        struct tc_detail d;
        size_t len = strlen(r->policy);
        int rc;
        int got;

        rc = tc_policy_compile(&r->policy, &len, 1, &ctx, &set, &d);
        if (rc != TC_OK) {
            tc_test_fail(__FILE__, __LINE__, "row %zu: compile: %s", i,
                         d.text);
            failures++;
            continue;
        }
        got = tc_policy_check(set, r->action, r->name, strlen(r->name),
                              &why);
        if (got != (r->want == TC_POLICY_ALLOWED) || why.decision != r->want) {
            tc_test_fail(__FILE__, __LINE__,
                         "row %zu: %s \"%s\": got %d/%d, want %d", i,
                         tc_policy_action_name(r->action), r->name, got,
                         (int)why.decision, (int)r->want);
            failures++;
        }
        tc_policy_set_free(set);
    }
    CHECK_EQ_INT(failures, 0);
}

TC_TEST(policy_check_why_names_the_statement)
{
    const char *docs[2] = {
        DOC(ALLOW("\"iot:Publish\"", "\"" ARN "topic/a\"") ","
            ALLOW("\"iot:Publish\"", "\"" ARN "topic/*\"")),
        p_deny_wins,
    };
    size_t lens[2] = {strlen(docs[0]), strlen(docs[1])};
    struct tc_policy_ctx ctx = make_ctx(CTX_BARE);
    struct tc_policy_set *set = NULL;
    struct tc_policy_why why;

    CHECK_EQ_INT(tc_policy_compile(docs, lens, 2, &ctx, &set, NULL), TC_OK);

    CHECK_EQ_INT(tc_policy_check(set, P, "secret/x", 8, &why), 0);
    CHECK_EQ_INT(why.decision, XD);
    CHECK_EQ_INT(why.policy, 1);
    CHECK_EQ_INT(why.statement, 1);
    CHECK_EQ_STR(why.sid, "NoSecrets");

    CHECK_EQ_INT(tc_policy_check(set, P, "a", 1, &why), 1);
    CHECK_EQ_INT(why.decision, OK);
    CHECK_EQ_INT(why.policy, 0);
    CHECK(why.sid == NULL);

    CHECK_EQ_INT(tc_policy_check(set, C, "bare", 4, &why), 1);
    CHECK_EQ_INT(why.policy, 1);
    CHECK_EQ_INT(why.statement, 0);

    /* Anything the set cannot answer denies. */
    CHECK_EQ_INT(tc_policy_check(NULL, P, "a", 1, &why), 0);
    CHECK_EQ_INT(why.decision, NO);
    CHECK_EQ_INT(why.policy, -1);
    CHECK_EQ_INT(tc_policy_check(set, (enum tc_policy_action)9, "a", 1, &why),
                 0);
    CHECK_EQ_INT(tc_policy_check(set, P, NULL, 3, NULL), 0);
    CHECK_EQ_INT(tc_policy_check(set, P, "a\0b", 3, NULL), 1);
    tc_policy_set_free(set);
}

TC_TEST(policy_check_empty_set_denies)
{
    struct tc_policy_ctx ctx = make_ctx(CTX_DEVICE);
    struct tc_policy_set *set = NULL;
    struct tc_policy_why why;
    int a;

    CHECK_EQ_INT(tc_policy_compile(NULL, NULL, 0, &ctx, &set, NULL), TC_OK);
    for (a = 0; a < TC_POLICY_ACTION_COUNT; a++) {
        CHECK_EQ_INT(tc_policy_check(set, (enum tc_policy_action)a, "x", 1,
                                     &why),
                     0);
        CHECK_EQ_INT(why.decision, NO);
    }
    tc_policy_set_free(set);
    tc_policy_set_free(NULL);
}

TC_TEST(policy_compile_rejects_bad_context)
{
    const char *doc = p_star;
    size_t len = strlen(doc);
    struct tc_policy_ctx ctx = make_ctx(CTX_DEVICE);
    struct tc_policy_set *set = NULL;
    struct tc_detail d;
    const char *docs[TC_POLICY_MAX_DOCS + 1];
    size_t lens[TC_POLICY_MAX_DOCS + 1];
    char *big;
    size_t i;

    ctx.region = "us-east-1:x";
    CHECK_EQ_INT(tc_policy_compile(&doc, &len, 1, &ctx, &set, &d),
                 TC_ERR_POLICY_CONTEXT);
    CHECK(set == NULL);
    ctx.region = NULL;
    CHECK_EQ_INT(tc_policy_compile(&doc, &len, 1, &ctx, &set, &d),
                 TC_ERR_POLICY_CONTEXT);
    ctx = make_ctx(CTX_DEVICE);
    ctx.account = "*";
    CHECK_EQ_INT(tc_policy_compile(&doc, &len, 1, &ctx, &set, &d),
                 TC_ERR_POLICY_CONTEXT);

    ctx = make_ctx(CTX_DEVICE);
    ctx.source_ip = "10.0.0.0/8";
    CHECK_EQ_INT(tc_policy_compile(&doc, &len, 1, &ctx, &set, &d),
                 TC_ERR_POLICY_CONTEXT);
    CHECK(strstr(d.text, "not an IP address") != NULL);
    ctx.source_ip = "host.example";
    CHECK_EQ_INT(tc_policy_compile(&doc, &len, 1, &ctx, &set, &d),
                 TC_ERR_POLICY_CONTEXT);

    big = malloc(TC_POLICY_MAX_CTX_VALUE + 2);
    CHECK(big != NULL);
    memset(big, 'a', TC_POLICY_MAX_CTX_VALUE + 1);
    big[TC_POLICY_MAX_CTX_VALUE + 1] = '\0';
    ctx = make_ctx(CTX_DEVICE);
    ctx.client_id = big;
    i = (size_t)tc_policy_compile(&doc, &len, 1, &ctx, &set, &d);
    free(big);
    CHECK_EQ_INT(i, TC_ERR_POLICY_CONTEXT);

    ctx = make_ctx(CTX_DEVICE);
    ctx.nattrs = 1;
    ctx.attrs = NULL;
    CHECK_EQ_INT(tc_policy_compile(&doc, &len, 1, &ctx, &set, &d),
                 TC_ERR_POLICY_CONTEXT);
    CHECK_EQ_INT(tc_policy_compile(&doc, &len, 1, NULL, &set, &d),
                 TC_ERR_POLICY_CONTEXT);

    ctx = make_ctx(CTX_DEVICE);
    for (i = 0; i <= TC_POLICY_MAX_DOCS; i++) {
        docs[i] = doc;
        lens[i] = len;
    }
    CHECK_EQ_INT(tc_policy_compile(docs, lens, TC_POLICY_MAX_DOCS + 1, &ctx,
                                   &set, &d),
                 TC_ERR_POLICY_TOO_MANY);
    CHECK_EQ_INT(tc_policy_compile(docs, lens, TC_POLICY_MAX_DOCS, &ctx, &set,
                                   &d),
                 TC_OK);
    tc_policy_set_free(set);

    /* A malformed document fails the whole compile and says which. */
    docs[1] = "{\"Version\":\"2012-10-17\"}";
    lens[1] = strlen(docs[1]);
    CHECK_EQ_INT(tc_policy_compile(docs, lens, 2, &ctx, &set, &d),
                 TC_ERR_POLICY_MALFORMED);
    CHECK(strncmp(d.text, "policy 1: ", 10) == 0);
    CHECK(set == NULL);
}

TC_TEST(policy_parsed_docs_are_shared_between_connections)
{
    struct tc_policy_doc *doc = NULL;
    struct tc_policy_ctx a = make_ctx(CTX_DEVICE);
    struct tc_policy_ctx b = make_ctx(CTX_DEV1);
    struct tc_policy_set *sa = NULL;
    struct tc_policy_set *sb = NULL;
    const struct tc_policy_doc *docs[1];

    CHECK_EQ_INT(tc_policy_doc_parse(p_dollar_client, strlen(p_dollar_client),
                                     &doc, NULL),
                 TC_OK);
    docs[0] = doc;
    CHECK_EQ_INT(tc_policy_compile_docs(docs, 1, &a, &sa, NULL), TC_OK);
    CHECK_EQ_INT(tc_policy_compile_docs(docs, 1, &b, &sb, NULL), TC_OK);
    tc_policy_doc_free(doc);
    CHECK_EQ_INT(tc_policy_check(sa, P, "c/" SN, strlen("c/" SN), NULL), 1);
    CHECK_EQ_INT(tc_policy_check(sa, P, "c/dev1", 6, NULL), 0);
    CHECK_EQ_INT(tc_policy_check(sb, P, "c/dev1", 6, NULL), 1);
    tc_policy_set_free(sa);
    tc_policy_set_free(sb);
}

TC_TEST(policy_action_names)
{
    enum tc_policy_action a = TC_POLICY_CONNECT;

    CHECK_EQ_INT(tc_policy_action_parse("iot:Publish", &a), TC_OK);
    CHECK_EQ_INT(a, P);
    CHECK_EQ_INT(tc_policy_action_parse("RETAINPUBLISH", &a), TC_OK);
    CHECK_EQ_INT(a, RP);
    CHECK_EQ_INT(tc_policy_action_parse("iot:Pub*", &a),
                 TC_ERR_POLICY_ACTION);
    CHECK_EQ_INT(tc_policy_action_parse(NULL, &a), TC_ERR_POLICY_ACTION);
    CHECK_EQ_STR(tc_policy_action_name(S), "iot:Subscribe");
    CHECK_EQ_STR(tc_policy_action_name((enum tc_policy_action)7), "?");
}

TC_TEST(policy_kit_document)
{
    char small[64];

    CHECK_EQ_INT(tc_policy_kit_document("us-east-1", "12", small,
                                        sizeof(small)),
                 TC_ERR_TOO_BIG);
    CHECK_EQ_INT(tc_policy_kit_document("us:east", "12", kit, sizeof(kit)),
                 TC_ERR_ARG);
    CHECK_EQ_INT(tc_policy_kit_document("eu-west-1", "", kit, sizeof(kit)),
                 TC_ERR_ARG);
    CHECK_EQ_INT(tc_policy_kit_document("eu-west-1", "000000000000", kit,
                                        sizeof(kit)),
                 TC_OK);
    CHECK_EQ_INT(tc_policy_validate(kit, strlen(kit), NULL), TC_OK);
    CHECK(strstr(kit, "arn:aws:iot:eu-west-1:000000000000:client/") != NULL);
    CHECK(strstr(kit, "iot:ClientId") == NULL);
}
