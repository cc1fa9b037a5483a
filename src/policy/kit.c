// SPDX-License-Identifier: Apache-2.0
/*
 * The default device policy: the EduKit lesson's Kit_Policy, written for
 * this core's region and account. It names the thing through
 * ${iot:Connection.Thing.ThingName}, never ${iot:ClientId}, so a device can
 * only use its own client ID and topics (the spoofing of the earlier
 * ClientId version cannot happen).
 */
#include <stdio.h>
#include <string.h>

#include "thingcore/policy.h"

#define THING "${iot:Connection.Thing.ThingName}"

static int
field_ok(const char *s)
{
    size_t i;

    if (s == NULL || s[0] == '\0' || strlen(s) > 64) {
        return 0;
    }
    for (i = 0; s[i] != '\0'; i++) {
        char c = s[i];

        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (c >= '0' && c <= '9') || c == '-' || c == '_')) {
            return 0;
        }
    }
    return 1;
}

int
tc_policy_kit_document(const char *region, const char *account, char *out,
                       size_t cap)
{
    int n;

    if (!field_ok(region) || !field_ok(account) || out == NULL) {
        return TC_ERR_ARG;
    }

    /* %1$s region, %2$s account; the four topic trees of the lesson. */
    n = snprintf(
        out, cap,
        "{\n"
        "  \"Version\": \"2012-10-17\",\n"
        "  \"Statement\": [\n"
        "    {\n"
        "      \"Effect\": \"Allow\",\n"
        "      \"Action\": \"iot:Connect\",\n"
        "      \"Resource\": \"arn:aws:iot:%1$s:%2$s:client/" THING "\"\n"
        "    },\n"
        "    {\n"
        "      \"Effect\": \"Allow\",\n"
        "      \"Action\": [\"iot:Publish\", \"iot:Receive\"],\n"
        "      \"Resource\": [\n"
        "        \"arn:aws:iot:%1$s:%2$s:topic/" THING "/*\",\n"
        "        \"arn:aws:iot:%1$s:%2$s:topic/$aws/things/" THING
        "/shadow/*\",\n"
        "        \"arn:aws:iot:%1$s:%2$s:topic/$aws/things/" THING
        "/streams/*\",\n"
        "        \"arn:aws:iot:%1$s:%2$s:topic/$aws/things/" THING
        "/jobs/*\"\n"
        "      ]\n"
        "    },\n"
        "    {\n"
        "      \"Effect\": \"Allow\",\n"
        "      \"Action\": \"iot:Subscribe\",\n"
        "      \"Resource\": [\n"
        "        \"arn:aws:iot:%1$s:%2$s:topicfilter/" THING "/*\",\n"
        "        \"arn:aws:iot:%1$s:%2$s:topicfilter/$aws/things/" THING
        "/shadow/*\",\n"
        "        \"arn:aws:iot:%1$s:%2$s:topicfilter/$aws/things/" THING
        "/streams/*\",\n"
        "        \"arn:aws:iot:%1$s:%2$s:topicfilter/$aws/things/" THING
        "/jobs/*\"\n"
        "      ]\n"
        "    },\n"
        "    {\n"
        "      \"Effect\": \"Allow\",\n"
        "      \"Action\": [\"iot:UpdateThingShadow\", "
        "\"iot:GetThingShadow\"],\n"
        "      \"Resource\": \"arn:aws:iot:%1$s:%2$s:topic/$aws/things/" THING
        "/shadow/*\"\n"
        "    }\n"
        "  ]\n"
        "}\n",
        region, account);
    if (n < 0 || (size_t)n >= cap) {
        return TC_ERR_TOO_BIG;
    }
    return TC_OK;
}
