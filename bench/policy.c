// SPDX-License-Identifier: Apache-2.0
/*
 * Policy engine throughput on one core: checks per second and nanoseconds
 * per check for the Kit_Policy a device receives, and for 50 statements
 * spread over 10 policies (AWS's 2048-character limit keeps one document
 * far below 50 statements). Also the cost of compiling per connection.
 * Prints figures only; it asserts nothing about time.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "thingcore/policy.h"

#define SN "0123ABCDEF01234567"
#define ITER 5000000

static double
now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static volatile int sink;

static void
run(const char *label, const struct tc_policy_set *set,
    enum tc_policy_action a, const char *name, int want)
{
    size_t len = strlen(name);
    double t0;
    double t;
    long i;
    int acc = 0;

    if (tc_policy_check(set, a, name, len, NULL) != want) {
        fprintf(stderr, "bench: %s: unexpected decision\n", label);
        exit(1);
    }
    t0 = now();
    for (i = 0; i < ITER; i++) {
        acc += tc_policy_check(set, a, name, len, NULL);
    }
    t = now() - t0;
    sink = acc;
    printf("%-44s %8.1f ns/check %12.0f checks/s\n", label, t * 1e9 / ITER,
           ITER / t);
}

/* Ten documents of five statements: prefixes, wildcard ARNs, ?, Denies. */
static void
fifty(char docs[10][2048], size_t lens[10])
{
    int p;
    int s;

    for (p = 0; p < 10; p++) {
        size_t n = 0;

        n += (size_t)snprintf(docs[p] + n, 2048 - n,
                              "{\"Version\":\"2012-10-17\",\"Statement\":[");
        for (s = 0; s < 5; s++) {
            int k = p * 5 + s;
            const char *arn = k % 3 == 0 ? "arn:aws:iot:*:*"
                                         : "arn:aws:iot:us-east-1:"
                                           "123456789012";
            const char *shape = k % 4 == 0   ? "fleet/%d/*/status"
                                : k % 4 == 1 ? "fleet/%d/sensor?/*"
                                : k % 4 == 2 ? "fleet/%d/*"
                                             : "fleet/%d/cmd";

            n += (size_t)snprintf(docs[p] + n, 2048 - n,
                                  "%s{\"Effect\":\"%s\",\"Action\":"
                                  "[\"iot:Publish\",\"iot:Receive\"],"
                                  "\"Resource\":\"%s:topic/",
                                  s > 0 ? "," : "",
                                  k % 10 == 9 ? "Deny" : "Allow", arn);
            n += (size_t)snprintf(docs[p] + n, 2048 - n, shape, k);
            n += (size_t)snprintf(docs[p] + n, 2048 - n, "\"}");
        }
        n += (size_t)snprintf(docs[p] + n, 2048 - n, "]}");
        lens[p] = n;
    }
}

int
main(void)
{
    char kit[4096];
    const char *docs[10];
    size_t lens[10];
    static char big[10][2048];
    struct tc_policy_ctx ctx;
    struct tc_policy_set *set = NULL;
    struct tc_detail d;
    double t0;
    double t;
    int i;

    memset(&ctx, 0, sizeof(ctx));
    ctx.region = "us-east-1";
    ctx.account = "123456789012";
    ctx.client_id = SN;
    ctx.thing_name = SN;
    ctx.is_attached = 1;

    if (tc_policy_kit_document("us-east-1", "123456789012", kit,
                               sizeof(kit)) != TC_OK) {
        return 1;
    }
    docs[0] = kit;
    lens[0] = strlen(kit);

    /* Compiling happens once per connection. */
    t0 = now();
    for (i = 0; i < 20000; i++) {
        if (tc_policy_compile(docs, lens, 1, &ctx, &set, &d) != TC_OK) {
            fprintf(stderr, "bench: %s\n", d.text);
            return 1;
        }
        tc_policy_set_free(set);
    }
    t = now() - t0;
    printf("%-44s %8.2f us/compile\n", "Kit_Policy: parse + compile",
           t * 1e6 / 20000);

    if (tc_policy_compile(docs, lens, 1, &ctx, &set, &d) != TC_OK) {
        return 1;
    }
    run("Kit_Policy: publish own topic (allow)", set, TC_POLICY_PUBLISH,
        SN "/hello", 1);
    run("Kit_Policy: publish shadow update (allow)", set, TC_POLICY_PUBLISH,
        "$aws/things/" SN "/shadow/update", 1);
    run("Kit_Policy: publish other thing (deny)", set, TC_POLICY_PUBLISH,
        "0123ABCDEF01234568/hello", 0);
    run("Kit_Policy: subscribe own filter (allow)", set,
        TC_POLICY_SUBSCRIBE, SN "/#", 1);
    run("Kit_Policy: connect (allow)", set, TC_POLICY_CONNECT, SN, 1);
    tc_policy_set_free(set);

    fifty(big, lens);
    for (i = 0; i < 10; i++) {
        docs[i] = big[i];
    }
    t0 = now();
    for (i = 0; i < 2000; i++) {
        if (tc_policy_compile(docs, lens, 10, &ctx, &set, &d) != TC_OK) {
            fprintf(stderr, "bench: %s\n", d.text);
            return 1;
        }
        tc_policy_set_free(set);
    }
    t = now() - t0;
    printf("%-44s %8.2f us/compile\n", "50 statements: parse + compile",
           t * 1e6 / 2000);
    if (tc_policy_compile(docs, lens, 10, &ctx, &set, &d) != TC_OK) {
        return 1;
    }
    run("50 statements: publish, first statement", set, TC_POLICY_PUBLISH,
        "fleet/1/sensorA/t", 1);
    run("50 statements: publish, last statement", set, TC_POLICY_PUBLISH,
        "fleet/47/cmd", 1);
    run("50 statements: explicit deny", set, TC_POLICY_PUBLISH,
        "fleet/49/cmd", 0);
    run("50 statements: no match (scans all)", set, TC_POLICY_PUBLISH,
        "elsewhere/a/b/c", 0);
    tc_policy_set_free(set);
    return 0;
}
