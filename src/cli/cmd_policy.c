// SPDX-License-Identifier: Apache-2.0
/*
 * thingcore policy: validate policy documents as CreatePolicy does, decide
 * one action the way the broker will (and say which statement decided), and
 * print the default device policy. The decision itself is the library's
 * tc_policy_check; this file only gathers the context from flags.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "thingcore/policy.h"
#include "thingcore/util.h"

/* Deny is a result, not a failure: it gets its own status. */
#define POLICY_EXIT_DENY 3
#define MAX_PAIRS 64
#define DEFAULT_REGION "us-east-1"
#define DEFAULT_ACCOUNT "123456789012"

static const char check_usage[] =
    "usage: thingcore policy check --policy FILE [--policy FILE ...]\n"
    "           --client-id ID --action ACTION [--topic TOPIC]\n"
    "           [--thing NAME [--not-attached] [--thing-type TYPE]\n"
    "            [--attr NAME=VALUE ...]]\n"
    "           [--subject FIELD=VALUE ...] [--issuer FIELD=VALUE ...]\n"
    "           [--cert-serial SERIAL] [--source-ip ADDRESS]\n"
    "           [--region REGION] [--account ACCOUNT]\n"
    "Decide one action for one connection against up to 10 policies, as\n"
    "the broker does, and name the statement that decided.\n"
    "  ACTION      iot:Connect, iot:Publish, iot:Subscribe, iot:Receive or\n"
    "              iot:RetainPublish (the iot: prefix is optional)\n"
    "  --topic     the topic (Publish, Receive, RetainPublish), the topic\n"
    "              filter (Subscribe) or the client ID (Connect; defaults\n"
    "              to --client-id)\n"
    "  --thing     the thing named by the client ID, attached to the\n"
    "              certificate unless --not-attached is given\n"
    "  --subject   a certificate subject field by its AWS name, such as\n"
    "              CommonName=X or OrganizationalUnit=Y; repeat as needed\n"
    "  --region, --account  default " DEFAULT_REGION " and " DEFAULT_ACCOUNT
    "\n"
    "Prints Allow or Deny and what decided. Exit status: 0 Allow, 3 Deny,\n"
    "1 a policy could not be read or is malformed, 2 usage error.\n";

static const char validate_usage[] =
    "usage: thingcore policy validate FILE...\n"
    "Check policy documents as CreatePolicy and CreatePolicyVersion do: the\n"
    "2048-character limit (white space excluded), the JSON, and every\n"
    "element. Prints FILE: ok, or the MalformedPolicyException message with\n"
    "its line and column. Exit status: 0 all valid, 1 any refused, 2 usage.\n";

static const char kit_usage[] =
    "usage: thingcore policy kit [--region REGION] [--account ACCOUNT]\n"
    "Print the default device policy (the lesson's Kit_Policy) for this\n"
    "core's region and account (default " DEFAULT_REGION " and "
    DEFAULT_ACCOUNT ").\n";

static int
is_help(const char *a)
{
    return strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0;
}

/* Read a policy file, bounded one byte past what validation accepts. */
static int
read_policy(const char *path, struct tc_buf *b)
{
    struct tc_detail d;
    int rc;

    tc_detail_clear(&d);
    tc_buf_init(b, TC_POLICY_MAX_BYTES + 1);
    rc = tc_file_read(path, b, &d);
    if (rc == TC_ERR_TOO_BIG) {
        fprintf(stderr, "thingcore: %s: Policy document is larger than %d "
                        "bytes\n",
                path, TC_POLICY_MAX_BYTES);
        return rc;
    }
    if (rc != TC_OK) {
        cli_fail(path, rc, &d);
    }
    return rc;
}

/* NAME=VALUE into a pair pointing into arg (the '=' is overwritten). */
static int
split_pair(char *arg, struct tc_policy_pair *p)
{
    char *eq = strchr(arg, '=');

    if (eq == NULL || eq == arg) {
        return 0;
    }
    *eq = '\0';
    p->key = arg;
    p->value = eq + 1;
    return 1;
}

struct check_args {
    const char *files[TC_POLICY_MAX_DOCS];
    size_t nfiles;
    const char *action;
    const char *topic;
    struct tc_policy_ctx ctx;
    struct tc_policy_pair attrs[MAX_PAIRS];
    struct tc_policy_pair subject[MAX_PAIRS];
    struct tc_policy_pair issuer[MAX_PAIRS];
};

static int
usage_error(const char *usage, const char *fmt, const char *arg)
{
    fprintf(stderr, "thingcore policy: ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, "\n%s", usage);
    return CLI_EXIT_USAGE;
}

static int
add_pair(struct tc_policy_pair *pairs, size_t *n, char *arg, const char *opt)
{
    if (*n >= MAX_PAIRS) {
        return usage_error(check_usage, "too many %s options", opt);
    }
    if (!split_pair(arg, &pairs[*n])) {
        return usage_error(check_usage, "%s needs NAME=VALUE", opt);
    }
    (*n)++;
    return CLI_EXIT_OK;
}

static int
parse_check(int argc, char **argv, struct check_args *a)
{
    int i;
    int rc;

    memset(a, 0, sizeof(*a));
    a->ctx.region = DEFAULT_REGION;
    a->ctx.account = DEFAULT_ACCOUNT;
    a->ctx.is_attached = 1;
    a->ctx.attrs = a->attrs;
    a->ctx.subject = a->subject;
    a->ctx.issuer = a->issuer;
    for (i = 1; i < argc; i++) {
        const char *opt = argv[i];
        char *val = i + 1 < argc ? argv[i + 1] : NULL;

        if (is_help(opt)) {
            fputs(check_usage, stdout);
            return -1;
        }
        if (strcmp(opt, "--not-attached") == 0) {
            a->ctx.is_attached = 0;
            continue;
        }
        if (strncmp(opt, "--", 2) != 0) {
            return usage_error(check_usage, "unexpected argument '%s'", opt);
        }
        if (val == NULL) {
            return usage_error(check_usage, "%s needs a value", opt);
        }
        i++;
        rc = CLI_EXIT_OK;
        if (strcmp(opt, "--policy") == 0) {
            if (a->nfiles >= TC_POLICY_MAX_DOCS) {
                return usage_error(check_usage, "at most 10 %s options",
                                   opt);
            }
            a->files[a->nfiles++] = val;
        } else if (strcmp(opt, "--client-id") == 0) {
            a->ctx.client_id = val;
        } else if (strcmp(opt, "--action") == 0) {
            a->action = val;
        } else if (strcmp(opt, "--topic") == 0 ||
                   strcmp(opt, "--resource") == 0) {
            a->topic = val;
        } else if (strcmp(opt, "--thing") == 0) {
            a->ctx.thing_name = val;
        } else if (strcmp(opt, "--thing-type") == 0) {
            a->ctx.thing_type = val;
        } else if (strcmp(opt, "--attr") == 0) {
            rc = add_pair(a->attrs, &a->ctx.nattrs, val, opt);
        } else if (strcmp(opt, "--subject") == 0) {
            rc = add_pair(a->subject, &a->ctx.nsubject, val, opt);
        } else if (strcmp(opt, "--issuer") == 0) {
            rc = add_pair(a->issuer, &a->ctx.nissuer, val, opt);
        } else if (strcmp(opt, "--cert-serial") == 0) {
            a->ctx.cert_serial = val;
        } else if (strcmp(opt, "--source-ip") == 0) {
            a->ctx.source_ip = val;
        } else if (strcmp(opt, "--region") == 0) {
            a->ctx.region = val;
        } else if (strcmp(opt, "--account") == 0) {
            a->ctx.account = val;
        } else {
            return usage_error(check_usage, "unknown option '%s'", opt);
        }
        if (rc != CLI_EXIT_OK) {
            return rc;
        }
    }
    if (a->nfiles == 0) {
        return usage_error(check_usage, "%s", "--policy FILE is required");
    }
    if (a->ctx.client_id == NULL) {
        return usage_error(check_usage, "%s", "--client-id is required");
    }
    if (a->action == NULL) {
        return usage_error(check_usage, "%s", "--action is required");
    }
    return CLI_EXIT_OK;
}

static const char *const type_of[TC_POLICY_ACTION_COUNT] = {
    "client", "topic", "topicfilter", "topic", "topic",
};

static int
policy_check(int argc, char **argv)
{
    struct check_args a;
    struct tc_buf bufs[TC_POLICY_MAX_DOCS];
    const char *docs[TC_POLICY_MAX_DOCS];
    size_t lens[TC_POLICY_MAX_DOCS];
    struct tc_policy_set *set = NULL;
    struct tc_policy_why why;
    struct tc_detail d;
    enum tc_policy_action action;
    const char *name;
    size_t i;
    size_t nread = 0;
    int allow;
    int rc;
    int status = CLI_EXIT_FAIL;

    rc = parse_check(argc, argv, &a);
    if (rc != CLI_EXIT_OK) {
        return rc < 0 ? CLI_EXIT_OK : rc;
    }
    if (tc_policy_action_parse(a.action, &action) != TC_OK) {
        return usage_error(check_usage,
                           "unknown action '%s' (iot:Connect, iot:Publish, "
                           "iot:Subscribe, iot:Receive, iot:RetainPublish)",
                           a.action);
    }
    name = a.topic;
    if (name == NULL && action == TC_POLICY_CONNECT) {
        name = a.ctx.client_id;
    }
    if (name == NULL) {
        return usage_error(check_usage, "%s needs --topic",
                           tc_policy_action_name(action));
    }

    /* Each file is validated on its own so the message names it. */
    for (i = 0; i < a.nfiles; i++) {
        if (read_policy(a.files[i], &bufs[i]) != TC_OK) {
            tc_buf_clear(&bufs[i], 0);
            goto cleanup;
        }
        nread++;
        docs[i] = (const char *)bufs[i].data;
        lens[i] = bufs[i].len;
        rc = tc_policy_validate(docs[i], lens[i], &d);
        if (rc != TC_OK) {
            fprintf(stderr, "thingcore: %s: %s\n", a.files[i], d.text);
            goto cleanup;
        }
    }
    rc = tc_policy_compile(docs, lens, a.nfiles, &a.ctx, &set, &d);
    if (rc != TC_OK) {
        cli_fail("policy check", rc, &d);
        goto cleanup;
    }

    allow = tc_policy_check(set, action, name, strlen(name), &why);
    printf("%s\n", allow ? "Allow" : "Deny");
    if (why.decision == TC_POLICY_DEFAULT_DENY) {
        printf("decided by: no statement allows %s on "
               "arn:aws:iot:%s:%s:%s/%s (default deny)\n",
               tc_policy_action_name(action), a.ctx.region, a.ctx.account,
               type_of[action], name);
    } else {
        printf("decided by: %s statement %d%s%s%s: %s %s on "
               "arn:aws:iot:%s:%s:%s/%s\n",
               a.files[why.policy], why.statement,
               why.sid != NULL ? " (Sid \"" : "",
               why.sid != NULL ? why.sid : "", why.sid != NULL ? "\")" : "",
               why.decision == TC_POLICY_ALLOWED ? "Allow" : "explicit Deny",
               tc_policy_action_name(action), a.ctx.region, a.ctx.account,
               type_of[action], name);
    }
    status = allow ? CLI_EXIT_OK : POLICY_EXIT_DENY;

cleanup:
    tc_policy_set_free(set);
    for (i = 0; i < nread; i++) {
        tc_buf_clear(&bufs[i], 0);
    }
    return status;
}

static int
policy_validate(int argc, char **argv)
{
    int i;
    int bad = 0;

    if (argc < 2) {
        fputs(validate_usage, stderr);
        return CLI_EXIT_USAGE;
    }
    for (i = 1; i < argc; i++) {
        if (is_help(argv[i])) {
            fputs(validate_usage, stdout);
            return CLI_EXIT_OK;
        }
    }
    for (i = 1; i < argc; i++) {
        struct tc_buf b;
        struct tc_detail d;
        int rc;

        if (read_policy(argv[i], &b) != TC_OK) {
            tc_buf_clear(&b, 0);
            bad = 1;
            continue;
        }
        rc = tc_policy_validate((const char *)b.data, b.len, &d);
        tc_buf_clear(&b, 0);
        if (rc == TC_OK) {
            printf("%s: ok\n", argv[i]);
        } else {
            fprintf(stderr, "%s: %s\n", argv[i], d.text);
            bad = 1;
        }
    }
    return bad ? CLI_EXIT_FAIL : CLI_EXIT_OK;
}

static int
policy_kit(int argc, char **argv)
{
    const char *region = DEFAULT_REGION;
    const char *account = DEFAULT_ACCOUNT;
    char doc[4096];
    int i;

    for (i = 1; i < argc; i++) {
        if (is_help(argv[i])) {
            fputs(kit_usage, stdout);
            return CLI_EXIT_OK;
        }
        if (i + 1 < argc && strcmp(argv[i], "--region") == 0) {
            region = argv[++i];
        } else if (i + 1 < argc && strcmp(argv[i], "--account") == 0) {
            account = argv[++i];
        } else {
            return usage_error(kit_usage, "unexpected argument '%s'",
                               argv[i]);
        }
    }
    if (tc_policy_kit_document(region, account, doc, sizeof(doc)) != TC_OK) {
        fprintf(stderr, "thingcore policy kit: region and account must be "
                        "letters, digits, '-' or '_'\n");
        return CLI_EXIT_USAGE;
    }
    fputs(doc, stdout);
    return CLI_EXIT_OK;
}

static const struct cli_command policy_commands[] = {
    {"check", policy_check, "decide one action, name the deciding statement"},
    {"validate", policy_validate, "check documents as CreatePolicy does"},
    {"kit", policy_kit, "print the default device policy (Kit_Policy)"},
    {NULL, NULL, NULL},
};

int
cmd_policy(int argc, char **argv)
{
    return cli_dispatch("thingcore policy", policy_commands, argc - 1,
                        argv + 1,
                        "usage: thingcore policy COMMAND [OPTIONS]\n"
                        "AWS IoT policies: validation and decisions.");
}
