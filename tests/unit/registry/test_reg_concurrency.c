// SPDX-License-Identifier: Apache-2.0
/*
 * Two processes write the same registry file at once (the API and the
 * broker's just-in-time registration do), each through its own handle.
 * Both must succeed every time and leave a consistent file: every row
 * present, the event log gap-free and holding each change once.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../test.h"
#include "regtest.h"

#define ROUNDS 60

static const char *doc =
    "{\"Version\":\"2012-10-17\",\"Statement\":{\"Effect\":\"Allow\","
    "\"Action\":\"iot:*\",\"Resource\":\"*\"}}";

/* One writer's work: things, certificates, policies and attachments. */
static int
writer(const char *path, const char *who)
{
    struct tc_registry *reg = NULL;
    struct tc_detail d;
    char name[64];
    char id[TC_REG_CERT_ID_LEN];
    char arn[TC_REG_ARN_MAX];
    int i;
    int ret;

    ret = tc_registry_open(path, &reg, &d);
    if (ret != TC_OK) {
        fprintf(stderr, "%s open: %s %s\n", who, tc_strerror(ret), d.text);
        return 1;
    }
    tc_registry_set_actor(reg, who);
    snprintf(name, sizeof(name), "%s-policy", who);
    ret = tc_registry_policy_create(reg, name, doc, strlen(doc), NULL, &d);
    for (i = 0; ret == TC_OK && i < ROUNDS; i++) {
        snprintf(name, sizeof(name), "%s-%03d", who, i);
        ret = tc_registry_thing_create(reg, name, NULL, NULL, NULL, &d);
        if (ret == TC_OK) {
            ret = regt_leaf(reg, TC_REG_CERT_ACTIVE, id);
        }
        if (ret == TC_OK) {
            tc_registry_arn(reg, "cert", id, arn);
            ret = tc_registry_thing_principal_attach(reg, name, arn, 0, &d);
        }
        if (ret == TC_OK) {
            snprintf(name, sizeof(name), "%s-policy", who);
            ret = tc_registry_policy_attach(reg, name, arn, &d);
        }
    }
    if (ret != TC_OK) {
        fprintf(stderr, "%s round %d: %s %s\n", who, i, tc_strerror(ret),
                d.text);
    }
    tc_registry_close(reg);
    return ret == TC_OK ? 0 : 1;
}

struct tally {
    long long expect;
    int gaps;
    int creates;
};

static int
tally_cb(void *arg, const struct tc_reg_event *ev)
{
    struct tally *t = arg;

    if (ev->seq != t->expect) {
        t->gaps++;
    }
    t->expect = ev->seq + 1;
    if (strcmp(ev->kind, "thing.create") == 0) {
        t->creates++;
    }
    return 0;
}

TC_TEST(registry_two_processes)
{
    struct tc_registry *reg = NULL;
    struct tc_reg_thing_list l = {0};
    struct tc_reg_str_list sl = {0};
    struct tc_reg_cert_list cl = {0};
    struct tally t = {1, 0, 0};
    struct tc_detail d;
    char path[300];
    pid_t pid;
    int status = -1;
    int mine;

    /* Create the file first so both start from the same schema. */
    reg = regt_open(path, sizeof(path));
    CHECK(reg != NULL);
    tc_registry_close(reg);
    reg = NULL;

    pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        _exit(writer(path, "child"));
    }
    mine = writer(path, "parent");
    CHECK_EQ_INT(waitpid(pid, &status, 0), pid);
    CHECK_EQ_INT(mine, 0);
    CHECK(WIFEXITED(status));
    CHECK_EQ_INT(WEXITSTATUS(status), 0);

    /* Every row of both writers is there. */
    CHECK_EQ_INT(tc_registry_open(path, &reg, &d), TC_OK);
    CHECK_EQ_INT(tc_registry_thing_list(reg, NULL, NULL, &l, &d), TC_OK);
    CHECK_EQ_INT(l.n, 2 * ROUNDS);
    tc_reg_thing_list_clear(&l);
    CHECK_EQ_INT(tc_registry_cert_list(reg, NULL, &cl, &d), TC_OK);
    CHECK_EQ_INT(cl.n, 2 * ROUNDS);
    tc_reg_cert_list_clear(&cl);
    CHECK_EQ_INT(
        tc_registry_policy_list_targets(reg, "child-policy", NULL, &sl, &d),
        TC_OK);
    CHECK_EQ_INT(sl.n, ROUNDS);
    tc_reg_str_list_clear(&sl);
    CHECK_EQ_INT(
        tc_registry_thing_principal_list(reg, "parent-007", NULL, &sl, &d),
        TC_OK);
    CHECK_EQ_INT(sl.n, 1);
    tc_reg_str_list_clear(&sl);

    /* The log has no gap and each creation once. */
    CHECK_EQ_INT(
        tc_registry_events_since(reg, 0, 100000, tally_cb, &t, NULL, &d),
        TC_OK);
    CHECK_EQ_INT(t.gaps, 0);
    CHECK_EQ_INT(t.creates, 2 * ROUNDS);
    tc_registry_close(reg);
}
