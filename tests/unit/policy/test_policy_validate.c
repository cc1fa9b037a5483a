// SPDX-License-Identifier: Apache-2.0
/*
 * Validation vectors: every way a document is refused, with the reason, the
 * element path and the line and column the message must carry; plus the
 * size limits, counted as AWS IoT counts them.
 */
#include <stdlib.h>

#include "../test.h"
#include "thingcore/policy.h"

#define V "\"Version\":\"2012-10-17\","
#define ST(body) "{" V "\"Statement\":[{" body "}]}"
#define OKS "\"Effect\":\"Allow\",\"Action\":\"iot:Connect\",\"Resource\":\"*\""

struct vrow {
    const char *doc;
    int rc;
    const char *path;   /* d.field, or NULL when not checked */
    const char *text;   /* a substring of d.text */
};

static const struct vrow rows[] = {
    /* Well-formed documents. */
    {ST(OKS), TC_OK, NULL, NULL},
    {"{" V "\"Id\":\"x\",\"Statement\":{" OKS "}}", TC_OK, NULL, NULL},
    {ST("\"Sid\":\"A1\"," OKS ",\"Condition\":{\"StringLike\":"
        "{\"iot:ClientId\":[\"a*\",\"b\"]},\"Bool\":"
        "{\"iot:Connection.Thing.IsAttached\":true}}"),
     TC_OK, NULL, NULL},
    {ST("\"Effect\":\"Deny\",\"NotAction\":[\"iot:*\",\"greengrass:*\"],"
        "\"NotResource\":\"arn:aws:iot:*:*:topic/x:y\""),
     TC_OK, NULL, NULL},

    /* JSON itself. */
    {"", TC_ERR_POLICY_MALFORMED, "", "not valid JSON at line 1"},
    {"{" V "\"Statement\":[{" OKS "},]}", TC_ERR_POLICY_MALFORMED, "",
     "not valid JSON at line 1"},
    {"{" V "\n\"Statement\":[{" OKS ", \"Effect\":\"Deny\"}]}",
     TC_ERR_POLICY_MALFORMED, "", "line 2"},
    {"{" V "\"Statement\":[[[[[[[[[[1]]]]]]]]]]}", TC_ERR_POLICY_MALFORMED, "",
     "nested too deeply"},

    /* The document. */
    {"[]", TC_ERR_POLICY_MALFORMED, "(document)", "must be a JSON object"},
    {"{" V "\"Statement\":[{" OKS "}],\"Extra\":1}", TC_ERR_POLICY_MALFORMED,
     "Extra", "unknown element \"Extra\""},
    {"{\"Statement\":[{" OKS "}]}", TC_ERR_POLICY_MALFORMED, "Version",
     "Version must be \"2012-10-17\""},
    {"{\"Version\":\"2008-10-17\",\"Statement\":[{" OKS "}]}",
     TC_ERR_POLICY_MALFORMED, "Version", "(line 1, column 12)"},
    {"{" V "\"Id\":5,\"Statement\":[{" OKS "}]}", TC_ERR_POLICY_MALFORMED,
     "Id", "Id must be a string"},
    {"{" V "\"Stmt\":[]}", TC_ERR_POLICY_MALFORMED, "Stmt",
     "unknown element"},
    {"{\"Version\":\"2012-10-17\"}", TC_ERR_POLICY_MALFORMED, "(document)",
     "Statement is required"},
    {"{" V "\"Statement\":[]}", TC_ERR_POLICY_MALFORMED, "Statement",
     "must not be an empty list"},
    {"{" V "\"Statement\":\"x\"}", TC_ERR_POLICY_MALFORMED, "Statement",
     "object or a list of objects"},
    {"{" V "\"Statement\":[{" OKS "},7]}", TC_ERR_POLICY_MALFORMED,
     "Statement[1]", "a statement must be an object"},

    /* Statement elements. */
    {ST(OKS ",\"Principal\":\"*\""), TC_ERR_POLICY_MALFORMED,
     "Statement[0].Principal", "not allowed in an AWS IoT policy"},
    {ST(OKS ",\"Effects\":\"Allow\""), TC_ERR_POLICY_MALFORMED,
     "Statement[0].Effects", "unknown element"},
    {ST("\"Sid\":3," OKS), TC_ERR_POLICY_MALFORMED, "Statement[0].Sid",
     "Sid must be a string"},
    {ST("\"Action\":\"iot:Connect\",\"Resource\":\"*\""),
     TC_ERR_POLICY_MALFORMED, "Statement[0]", "Effect is required"},
    {ST("\"Effect\":\"allow\",\"Action\":\"iot:Connect\",\"Resource\":\"*\""),
     TC_ERR_POLICY_MALFORMED, "Statement[0].Effect",
     "Effect must be \"Allow\" or \"Deny\" (line 1, column 48)"},
    {ST("\"Effect\":\"Allow\",\"Resource\":\"*\""), TC_ERR_POLICY_MALFORMED,
     "Statement[0]", "Action or NotAction is required"},
    {ST(OKS ",\"NotAction\":\"iot:Publish\""), TC_ERR_POLICY_MALFORMED,
     "Statement[0]", "cannot both appear"},
    {ST("\"Effect\":\"Allow\",\"Action\":[],\"Resource\":\"*\""),
     TC_ERR_POLICY_MALFORMED, "Statement[0].Action", "empty list"},
    {ST("\"Effect\":\"Allow\",\"Action\":42,\"Resource\":\"*\""),
     TC_ERR_POLICY_MALFORMED, "Statement[0].Action", "must be a string"},
    {ST("\"Effect\":\"Allow\",\"Action\":[\"iot:Connect\",\"Publish\"],"
        "\"Resource\":\"*\""),
     TC_ERR_POLICY_MALFORMED, "Statement[0].Action[1]",
     "\"Publish\" is not an action name"},
    {ST("\"Effect\":\"Allow\",\"Action\":\"iot:Pub lish\","
        "\"Resource\":\"*\""),
     TC_ERR_POLICY_MALFORMED, "Statement[0].Action", "not an action name"},
    {ST("\"Effect\":\"Allow\",\"Action\":\"iot:\",\"Resource\":\"*\""),
     TC_ERR_POLICY_MALFORMED, "Statement[0].Action", "not an action name"},
    {ST("\"Effect\":\"Allow\",\"Action\":\"iot:Connect\""),
     TC_ERR_POLICY_MALFORMED, "Statement[0]",
     "Resource or NotResource is required"},
    {ST(OKS ",\"NotResource\":\"*\""), TC_ERR_POLICY_MALFORMED,
     "Statement[0]", "cannot both appear"},
    {ST("\"Effect\":\"Allow\",\"Action\":\"iot:Connect\","
        "\"Resource\":\"topic/a\""),
     TC_ERR_POLICY_MALFORMED, "Statement[0].Resource",
     "\"topic/a\" is not \"*\" or an ARN"},
    {ST("\"Effect\":\"Allow\",\"Action\":\"iot:Connect\","
        "\"Resource\":[\"*\",\"arn:aws:iot:topic/a\"]"),
     TC_ERR_POLICY_MALFORMED, "Statement[0].Resource[1]", "not \"*\""},
    {ST("\"Effect\":\"Allow\",\"Action\":\"iot:Connect\","
        "\"Resource\":[]"),
     TC_ERR_POLICY_MALFORMED, "Statement[0].Resource", "empty list"},
    {ST("\"Effect\":\"Allow\",\"Action\":\"iot:Connect\","
        "\"Resource\":\"arn:aws:iot:r:a:topic/\\u0000\""),
     TC_ERR_POLICY_MALFORMED, "Statement[0].Resource", "must be a string"},

    /* Conditions. */
    {ST(OKS ",\"Condition\":[]"), TC_ERR_POLICY_MALFORMED,
     "Statement[0].Condition", "non-empty object"},
    {ST(OKS ",\"Condition\":{\"StringEquals\":[]}"), TC_ERR_POLICY_MALFORMED,
     "Statement[0].Condition.StringEquals", "needs an object of keys"},
    {ST(OKS ",\"Condition\":{\"NumericEquals\":{\"iot:ClientId\":\"1\"}}"),
     TC_ERR_POLICY_MALFORMED,
     "Statement[0].Condition.NumericEquals[\"iot:ClientId\"]",
     "unsupported condition operator \"NumericEquals\""},
    {ST(OKS ",\"Condition\":{\"StringEquals\":{\"aws:CurrentTime\":\"1\"}}"),
     TC_ERR_POLICY_MALFORMED, NULL,
     "unsupported condition key \"aws:CurrentTime\""},
    {ST(OKS ",\"Condition\":{\"StringEquals\":"
            "{\"iot:Certificate.Subject.OrganizationalUnit.List\":\"a\"}}"),
     TC_ERR_POLICY_MALFORMED, NULL, "needs ForAnyValue: or ForAllValues:"},
    {ST(OKS ",\"Condition\":{\"Bool\":"
            "{\"iot:Connection.Thing.IsAttached\":\"yes\"}}"),
     TC_ERR_POLICY_MALFORMED, NULL, "Bool needs \"true\" or \"false\""},
    {ST(OKS ",\"Condition\":{\"IpAddress\":{\"aws:SourceIp\":"
            "[\"10.0.0.0/8\",\"300.1.1.1\"]}}"),
     TC_ERR_POLICY_MALFORMED,
     "Statement[0].Condition.IpAddress[\"aws:SourceIp\"][1]",
     "\"300.1.1.1\" is not an IP address"},
    {ST(OKS ",\"Condition\":{\"IpAddress\":{\"aws:SourceIp\":\"10.0.0.0/33\""
            "}}"),
     TC_ERR_POLICY_MALFORMED, NULL, "not an IP address or CIDR"},
    {ST(OKS ",\"Condition\":{\"StringEquals\":{\"iot:ClientId\":1}}"),
     TC_ERR_POLICY_MALFORMED, NULL, "must be a string"},
    {ST(OKS ",\"Condition\":{\"ForAnyValue:Null\":{\"iot:ClientId\":"
            "\"true\"}}"),
     TC_ERR_POLICY_MALFORMED, NULL, "Null takes no qualifier"},
    {ST(OKS ",\"Condition\":{\"StringEquals\":{"
            "\"iot:Connection.Thing.Attributes[]\":\"x\"}}"),
     TC_ERR_POLICY_MALFORMED, NULL, "unsupported condition key"},
};

TC_TEST(policy_validate_vectors)
{
    size_t i;
    size_t failures = 0;

    for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        const struct vrow *r = &rows[i];
        struct tc_detail d;
        int rc = tc_policy_validate(r->doc, strlen(r->doc), &d);
        int bad = rc != r->rc;

        if (!bad && r->rc != TC_OK) {
            bad |= r->path != NULL && strcmp(d.field, r->path) != 0;
            bad |= strstr(d.text, r->text) == NULL;
            bad |= d.offset < 0 || (size_t)d.offset > strlen(r->doc);
            bad |= strstr(d.text, "line ") == NULL;
        }
        if (bad) {
            tc_test_fail(__FILE__, __LINE__,
                         "row %zu: rc %d (want %d) field \"%s\" text \"%s\"",
                         i, rc, r->rc, d.field, d.text);
            failures++;
        }
    }
    CHECK_EQ_INT(failures, 0);
}

/* The offset points at the offending value itself. */
TC_TEST(policy_validate_offset_points_at_the_value)
{
    static const char doc[] = "{\n"
                              "  \"Version\": \"2012-10-17\",\n"
                              "  \"Statement\": [\n"
                              "    {\"Effect\": \"Allow\", \"Action\": "
                              "\"iot:Connect\", \"Resource\": \"*\"},\n"
                              "    {\"Effect\": \"Alow\",\n"
                              "     \"Action\": \"iot:Connect\",\n"
                              "     \"Resource\": \"*\"}\n"
                              "  ]\n"
                              "}\n";
    struct tc_detail d;

    CHECK_EQ_INT(tc_policy_validate(doc, strlen(doc), &d),
                 TC_ERR_POLICY_MALFORMED);
    CHECK_EQ_STR(d.field, "Statement[1].Effect");
    CHECK(d.offset > 0);
    CHECK(strncmp(doc + d.offset, "\"Alow\"", 6) == 0);
    CHECK(strstr(d.text, "(line 5, column 16)") != NULL);
    CHECK(strncmp(d.text, "Policy document is malformed: ", 30) == 0);
}

/* 2048 characters excluding white space; then the raw byte bound. */
TC_TEST(policy_validate_size_limits)
{
    static const char head[] = "{\"Version\":\"2012-10-17\",\"Statement\":"
                               "{\"Effect\":\"Allow\",\"Action\":"
                               "\"iot:Connect\",\"Resource\":\""
                               "arn:aws:iot:r:a:client/";
    static const char tail[] = "\"}}";
    size_t fixed = strlen(head) + strlen(tail);
    size_t cap = TC_POLICY_MAX_BYTES + 16;
    char *doc = malloc(cap);
    struct tc_detail d;
    size_t n;
    int rc;

    CHECK(doc != NULL);

    /* Exactly at the limit, padded with white space: accepted. */
    n = 0;
    memcpy(doc, head, strlen(head));
    n += strlen(head);
    memset(doc + n, 'x', TC_POLICY_MAX_CHARS - fixed);
    n += TC_POLICY_MAX_CHARS - fixed;
    memcpy(doc + n, tail, strlen(tail));
    n += strlen(tail);
    memset(doc + n, ' ', 4000);
    n += 4000;
    rc = tc_policy_validate(doc, n, &d);
    if (rc != TC_OK) {
        free(doc);
    }
    CHECK_EQ_INT(rc, TC_OK);

    /* One more character: refused, at the position of that character. */
    n = 0;
    memcpy(doc, head, strlen(head));
    n += strlen(head);
    memset(doc + n, 'x', TC_POLICY_MAX_CHARS - fixed + 1);
    n += TC_POLICY_MAX_CHARS - fixed + 1;
    memcpy(doc + n, tail, strlen(tail));
    n += strlen(tail);
    rc = tc_policy_validate(doc, n, &d);
    if (rc != TC_ERR_POLICY_TOO_BIG) {
        free(doc);
    }
    CHECK_EQ_INT(rc, TC_ERR_POLICY_TOO_BIG);
    CHECK(strstr(d.text, "2049 characters") != NULL);
    CHECK_EQ_INT(d.offset, TC_POLICY_MAX_CHARS);

    /* Multi-byte characters count once each. */
    n = 0;
    memcpy(doc, head, strlen(head));
    n += strlen(head);
    for (size_t i = 0; i < TC_POLICY_MAX_CHARS - fixed; i++) {
        doc[n++] = (char)0xC3;
        doc[n++] = (char)0xA9;
    }
    memcpy(doc + n, tail, strlen(tail));
    n += strlen(tail);
    rc = tc_policy_validate(doc, n, &d);
    if (rc != TC_OK) {
        free(doc);
    }
    CHECK_EQ_INT(rc, TC_OK);

    /* Past the raw byte bound, even if it is all white space. */
    memset(doc, ' ', cap);
    rc = tc_policy_validate(doc, TC_POLICY_MAX_BYTES + 1, &d);
    free(doc);
    CHECK_EQ_INT(rc, TC_ERR_POLICY_TOO_BIG);
    CHECK(strstr(d.text, "65536") != NULL);
}

TC_TEST(policy_validate_accepts_null_detail)
{
    CHECK_EQ_INT(tc_policy_validate("[]", 2, NULL), TC_ERR_POLICY_MALFORMED);
    CHECK_EQ_INT(tc_policy_validate(NULL, 0, NULL), TC_ERR_POLICY_MALFORMED);
    CHECK_EQ_INT(tc_policy_validate(ST(OKS), strlen(ST(OKS)), NULL), TC_OK);
}
