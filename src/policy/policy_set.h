/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The layout of a compiled policy set, shared by the compiler that builds
 * it and the matcher that reads it. Private to src/policy.
 */
#ifndef THINGCORE_POLICY_SET_H
#define THINGCORE_POLICY_SET_H

#include <stdint.h>

#include "policy_int.h"

#define SID_NONE UINT32_MAX

/* Entry kinds, cheapest first: rules try their entries in this order. */
enum pentry_kind {
    ENTRY_ANY = 0,      /* every name */
    ENTRY_EXACT,        /* bytes[off..off+len) exactly */
    ENTRY_PREFIX,       /* bytes[off..off+len) then anything */
    ENTRY_GLOB,         /* pat[off..off+len) through tc_policy_glob */
};

/*
 * One way a resource pattern can match the name that follows the action's
 * constant ARN prefix. A pattern whose wildcards reach into that prefix
 * may yield several entries; the usual one yields exactly one.
 */
struct pentry {
    uint32_t kind;
    uint32_t off;
    uint32_t len;
    uint32_t head_off;  /* ENTRY_GLOB: its leading literal bytes, */
    uint32_t head_len;  /* compared first to reject most names cheaply */
};

/* One statement for one action; entries[first..first+count). */
struct prule {
    int32_t policy;
    int32_t statement;
    uint32_t negate;    /* NotResource: matches when no entry does */
    uint32_t first;
    uint32_t count;
    uint32_t sid;       /* offset into sids, or SID_NONE */
};

/*
 * Per action, the Deny rules then the Allow rules, each a run of rules[].
 * Every pool is allocated (never NULL) so offsets are always valid bases.
 */
struct tc_policy_set {
    size_t size; /* bytes of the one allocation holding all of it */
    struct prule *rules;
    struct pentry *entries;
    uint8_t *bytes;
    uint16_t *pat;
    char *sids;
    uint32_t deny_first[TC_POLICY_ACTION_COUNT];
    uint32_t deny_count[TC_POLICY_ACTION_COUNT];
    uint32_t allow_first[TC_POLICY_ACTION_COUNT];
    uint32_t allow_count[TC_POLICY_ACTION_COUNT];
};

#endif
