/* SPDX-License-Identifier: Apache-2.0 */
/*
 * AWS IoT policy documents: validation with MalformedPolicyException-style
 * messages, and a decision engine split in two steps. Compiling takes the
 * policies attached to a certificate plus the connection context, resolves
 * every policy variable and every condition (all supported keys are
 * constant for a connection), and leaves an immutable set of patterns per
 * action. Checking one connect, publish, subscribe, delivery or retained
 * publish against that set is then a pure function: no allocation, no
 * locking, safe from any number of threads at once.
 *
 * Decision: default deny; any matching Allow grants; any matching Deny
 * wins, across every compiled policy.
 *
 * Caveats, stated plainly:
 * - A policy variable that cannot be resolved, or whose value contains one
 *   of * ? + # $, makes its whole statement unable to match, as in AWS IoT.
 *   For a Deny statement that means the Deny does not apply.
 * - Only connection-constant condition keys are supported (iot:ClientId,
 *   aws:SourceIp, iot:Connection.Thing.*, iot:Certificate.*); a document
 *   using another key is refused as malformed rather than silently
 *   evaluated against a missing value.
 * - "?" matches one character: one byte plus the UTF-8 continuation bytes
 *   that follow it. Topics are expected to be valid UTF-8 (MQTT requires it).
 * - Publishing with the retain flag needs both iot:Publish and
 *   iot:RetainPublish; asking both is the caller's job.
 */
#ifndef THINGCORE_POLICY_H
#define THINGCORE_POLICY_H

#include <stddef.h>

#include "thingcore/err.h"

/*
 * AWS IoT's quota: at most 2048 characters excluding white space. Characters
 * are counted as UTF-8 code points outside JSON white space (space, tab,
 * CR, LF). The raw byte bound keeps padding from reaching the parser.
 */
#define TC_POLICY_MAX_CHARS 2048
#define TC_POLICY_MAX_BYTES 65536
/* AWS IoT attaches at most 10 policies to one certificate. */
#define TC_POLICY_MAX_DOCS 10
/* Longest string accepted from the connection context. */
#define TC_POLICY_MAX_CTX_VALUE 1024

enum tc_policy_action {
    TC_POLICY_CONNECT = 0,
    TC_POLICY_PUBLISH,
    TC_POLICY_SUBSCRIBE,
    TC_POLICY_RECEIVE,
    TC_POLICY_RETAIN_PUBLISH,
};
#define TC_POLICY_ACTION_COUNT 5

/* What decided a check. */
enum tc_policy_decision {
    TC_POLICY_DEFAULT_DENY = 0, /* no statement matched */
    TC_POLICY_EXPLICIT_DENY,    /* a Deny statement matched */
    TC_POLICY_ALLOWED,          /* an Allow statement matched, no Deny */
};

/*
 * Why a check decided as it did. policy is the index of the document in
 * the array given to compile, statement the index inside its Statement
 * array (0 when Statement is an object); both are -1 for the default deny.
 * sid is the statement's Sid or NULL; it is borrowed from the set and valid
 * while the set lives.
 */
struct tc_policy_why {
    enum tc_policy_decision decision;
    int policy;
    int statement;
    const char *sid;
};

/* A (name, value) pair of the context; both borrowed. */
struct tc_policy_pair {
    const char *key;
    const char *value;
};

/*
 * The connection context, filled by the caller; every pointer is borrowed
 * for the duration of the compile call only (nothing is kept). NULL means
 * "not known", which leaves the matching variables unresolvable and the
 * matching condition keys absent.
 *
 * thing_name is the thing whose name equals the client ID; is_attached says
 * whether that thing is attached to the presented certificate. The
 * iot:Connection.Thing.* variables resolve only when both hold, as in AWS
 * IoT. subject and issuer hold the certificate's distinguished name fields
 * under AWS's names ("CommonName", "Organization", "OrganizationalUnit",
 * "Country", "State", "SerialNumber", ...); a name may appear more than once
 * (the first value is the single value, all of them form the .List key).
 * source_ip is IPv4 or IPv6 text. region and account form the ARNs that
 * resources are matched against and are required.
 */
struct tc_policy_ctx {
    const char *region;
    const char *account;
    const char *client_id;
    const char *thing_name;
    int is_attached;
    const char *thing_type;
    const struct tc_policy_pair *attrs;
    size_t nattrs;
    const struct tc_policy_pair *subject;
    size_t nsubject;
    const struct tc_policy_pair *issuer;
    size_t nissuer;
    const char *cert_serial;
    const char *source_ip;
};

/* A parsed, validated document; immutable and shareable between threads. */
struct tc_policy_doc;

/* The compiled decision set of one connection; immutable. */
struct tc_policy_set;

/*
 * Validate a policy document (len bytes, borrowed), as CreatePolicy and
 * CreatePolicyVersion must. Returns TC_OK, TC_ERR_POLICY_TOO_BIG or
 * TC_ERR_POLICY_MALFORMED; d->text then holds a MalformedPolicyException
 * message naming the reason and the position (line, column and the path
 * such as Statement[1].Effect), d->offset the byte offset, d->field the
 * path.
 */
int tc_policy_validate(const char *doc, size_t len, struct tc_detail *d);

/*
 * Parse and validate a document into *out, handed over to the caller (free
 * with tc_policy_doc_free). doc is borrowed. Errors as tc_policy_validate.
 */
int tc_policy_doc_parse(const char *doc, size_t len,
                        struct tc_policy_doc **out, struct tc_detail *d);

/* Free a parsed document; NULL accepted. */
void tc_policy_doc_free(struct tc_policy_doc *doc);

/*
 * Compile parsed documents (borrowed; they may be freed afterwards) for one
 * connection. *out is handed over to the caller, free with
 * tc_policy_set_free. Errors: TC_ERR_POLICY_TOO_MANY for more than
 * TC_POLICY_MAX_DOCS documents, TC_ERR_POLICY_CONTEXT for a missing or
 * malformed region or account, a bad source_ip or an overlong context
 * value, TC_ERR_NOMEM. A caller that cannot compile must deny.
 */
int tc_policy_compile_docs(const struct tc_policy_doc *const *docs,
                           size_t ndocs, const struct tc_policy_ctx *ctx,
                           struct tc_policy_set **out, struct tc_detail *d);

/*
 * Parse and compile in one call: docs[i] is lens[i] bytes (all borrowed).
 * A malformed document fails the whole compile (d names which one).
 */
int tc_policy_compile(const char *const *docs, const size_t *lens,
                      size_t ndocs, const struct tc_policy_ctx *ctx,
                      struct tc_policy_set **out, struct tc_detail *d);

/* Free a compiled set; NULL accepted. */
/* Bytes a compiled set occupies (one allocation), for memory accounting. */
size_t tc_policy_set_size(const struct tc_policy_set *set);

void tc_policy_set_free(struct tc_policy_set *set);

/*
 * Decide one action. resource_name (len bytes, borrowed) is the client ID
 * for TC_POLICY_CONNECT, the topic for PUBLISH, RECEIVE and RETAIN_PUBLISH,
 * the topic filter for SUBSCRIBE; it is matched against
 * arn:aws:iot:REGION:ACCOUNT:client/, topic/ or topicfilter/ followed by the
 * name. Returns 1 to allow, 0 to deny; a NULL set or an unknown action
 * denies. why (optional) receives what decided. Allocates nothing and
 * writes only to why.
 */
int tc_policy_check(const struct tc_policy_set *set, enum tc_policy_action a,
                    const char *resource_name, size_t len,
                    struct tc_policy_why *why);

/* "iot:Connect", ... for an action; "?" for a value out of range. */
const char *tc_policy_action_name(enum tc_policy_action a);

/*
 * Parse an action name ("iot:Publish", case-insensitive, or the short form
 * "publish") into *a. TC_ERR_POLICY_ACTION for anything else.
 */
int tc_policy_action_parse(const char *name, enum tc_policy_action *a);

/*
 * Write the default device policy, the lesson's Kit_Policy, for the given
 * region and account (both borrowed) into out (borrowed, cap bytes), NUL
 * terminated. Returns TC_OK, TC_ERR_ARG for a bad region or account, or
 * TC_ERR_TOO_BIG when cap is too small.
 */
int tc_policy_kit_document(const char *region, const char *account,
                           char *out, size_t cap);

#endif
