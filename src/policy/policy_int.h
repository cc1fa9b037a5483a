/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Internals shared by the policy parser, compiler and matcher: the parsed
 * form of a document, condition keys, and the wildcard matcher. Nothing
 * here is part of the public interface.
 */
#ifndef THINGCORE_POLICY_INT_H
#define THINGCORE_POLICY_INT_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "thingcore/policy.h"

/*
 * A compiled pattern is an array of uint16_t: 0-255 a literal byte,
 * PAT_STAR any run of bytes (including '/'), PAT_ONE one character.
 */
#define PAT_STAR 256
#define PAT_ONE 257

/* Condition keys; every one is constant for a connection. */
enum pkey {
    KEY_CLIENT_ID,
    KEY_SOURCE_IP,
    KEY_THING_NAME,
    KEY_THING_TYPE,
    KEY_THING_ATTACHED,
    KEY_THING_ATTR,     /* arg: attribute name */
    KEY_SUBJECT,        /* arg: field name, first value */
    KEY_SUBJECT_LIST,   /* arg: field name, every value */
    KEY_ISSUER,
    KEY_ISSUER_LIST,
    KEY_CERT_SERIAL,
};

enum pop {
    OP_STRING_EQUALS,
    OP_STRING_EQUALS_IC,
    OP_STRING_LIKE,
    OP_BOOL,
    OP_ARN_LIKE,        /* ArnEquals and ArnLike behave alike, as in IAM */
    OP_IP_ADDRESS,
    OP_NULL,
};

enum pqual {
    QUAL_NONE,
    QUAL_ANY,           /* ForAnyValue: */
    QUAL_ALL,           /* ForAllValues: */
};

/* An IPv4 (family 4) or IPv6 (family 6) network. */
struct pnet {
    uint8_t family;
    uint8_t bits;
    uint8_t addr[16];
};

/* One key of one condition operator. Strings point into the JSON tree. */
struct pcond {
    uint8_t op;
    uint8_t qual;
    uint8_t negate;
    uint8_t if_exists;
    uint8_t key;
    const char *arg;
    size_t arg_len;
    const char **values;
    size_t *value_lens;
    size_t nvalues;
    struct pnet *nets;      /* OP_IP_ADDRESS: nvalues parsed networks */
};

struct pstmt {
    int deny;
    unsigned actions;       /* bit per enum tc_policy_action */
    int not_resource;
    const char **res;
    size_t *res_lens;
    size_t nres;
    struct pcond *conds;
    size_t nconds;
    const char *sid;
};

struct tc_policy_doc {
    json_t *root;           /* owns every string the statements point to */
    struct pstmt *st;
    size_t nst;
};

/*
 * Parse a condition key or variable name (n bytes) into *key and, for keys
 * that take one, *arg and *arg_len (pointing into name). Returns 1 when known.
 */
int tc_policy_key_parse(const char *name, size_t n, enum pkey *key,
                        const char **arg, size_t *arg_len);

/* Parse "a.b.c.d[/bits]" or an IPv6 form into *net; 1 on success. */
int tc_policy_net_parse(const char *s, size_t n, struct pnet *net);

/*
 * Match t (n bytes) against the whole pattern p (m entries). Stars match
 * any bytes; PAT_ONE matches one byte and the UTF-8 continuation bytes that
 * follow it. No allocation; time O(n * m) at worst.
 */
int tc_policy_glob(const uint16_t *p, size_t m, const uint8_t *t, size_t n);

#endif
