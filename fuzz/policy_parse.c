// SPDX-License-Identifier: Apache-2.0
/*
 * Fuzz target for the policy parser: any input is validated; a document
 * that passes is compiled for a device connection and checked against
 * every action with names taken from the input, so the compiler and the
 * matcher see whatever the parser lets through. Aborts when a refusal
 * lacks its message or its position falls outside the input.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "thingcore/policy.h"

static const struct tc_policy_pair subject[] = {
    {"CommonName", "0123ABCDEF01234567"},
    {"OrganizationalUnit", "a"},
    {"OrganizationalUnit", "b"},
};
static const struct tc_policy_pair attrs[] = {
    {"room", "kitchen"},
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct tc_policy_doc *doc = NULL;
    struct tc_policy_set *set = NULL;
    const struct tc_policy_doc *docs[1];
    struct tc_policy_ctx ctx;
    struct tc_detail d;
    int rc;
    int a;

    rc = tc_policy_doc_parse((const char *)data, size, &doc, &d);
    if (rc != TC_OK) {
        if (doc != NULL || d.text[0] == '\0' || d.offset < 0 ||
            (size_t)d.offset > (size > TC_POLICY_MAX_BYTES
                                    ? TC_POLICY_MAX_BYTES
                                    : size)) {
            abort();
        }
        return 0;
    }

    memset(&ctx, 0, sizeof(ctx));
    ctx.region = "us-east-1";
    ctx.account = "123456789012";
    ctx.client_id = "0123ABCDEF01234567";
    ctx.thing_name = "0123ABCDEF01234567";
    ctx.is_attached = 1;
    ctx.thing_type = "microchip-tng";
    ctx.attrs = attrs;
    ctx.nattrs = 1;
    ctx.subject = subject;
    ctx.nsubject = 3;
    ctx.source_ip = "192.0.2.1";
    docs[0] = doc;
    if (tc_policy_compile_docs(docs, 1, &ctx, &set, NULL) != TC_OK) {
        abort();
    }
    for (a = 0; a < TC_POLICY_ACTION_COUNT; a++) {
        struct tc_policy_why why;
        int allow = tc_policy_check(set, (enum tc_policy_action)a,
                                    (const char *)data, size / 2, &why);

        if (allow != (why.decision == TC_POLICY_ALLOWED)) {
            abort();
        }
        tc_policy_check(set, (enum tc_policy_action)a, "0123ABCDEF01234567/x",
                        20, NULL);
    }
    tc_policy_set_free(set);
    tc_policy_doc_free(doc);
    return 0;
}
