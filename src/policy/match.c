// SPDX-License-Identifier: Apache-2.0
/*
 * The per-packet half of the policy engine: the wildcard matcher and
 * tc_policy_check over a compiled set. Everything here reads the set and
 * the caller's bytes only; it allocates nothing, takes no lock and keeps no
 * state, so any number of threads may check against one set at once.
 */
#include <string.h>

#include "policy_set.h"

/* The byte after a character that starts at i: one byte, then its UTF-8
 * continuation bytes. */
static size_t
next_char(const uint8_t *t, size_t n, size_t i)
{
    i++;
    while (i < n && (t[i] & 0xC0) == 0x80) {
        i++;
    }
    return i;
}

/*
 * Match the star-free segment p[0..m) at t[pos..]. The consumed length is
 * fully decided by the start, and grows with it, which is what makes the
 * leftmost placement of each segment below correct.
 */
static int
seg_at(const uint16_t *p, size_t m, const uint8_t *t, size_t n, size_t pos,
       size_t *end)
{
    size_t k;

    for (k = 0; k < m; k++) {
        if (pos >= n) {
            return 0;
        }
        if (p[k] == PAT_ONE) {
            pos = next_char(t, n, pos);
        } else if (p[k] != t[pos]) {
            return 0;
        } else {
            pos++;
        }
    }
    *end = pos;
    return 1;
}

/* Length of the star-free run at p[i..m). */
static size_t
seg_len(const uint16_t *p, size_t m, size_t i)
{
    size_t k = i;

    while (k < m && p[k] != PAT_STAR) {
        k++;
    }
    return k - i;
}

static int
has_one(const uint16_t *p, size_t m)
{
    size_t k;

    for (k = 0; k < m; k++) {
        if (p[k] == PAT_ONE) {
            return 1;
        }
    }
    return 0;
}

/*
 * The pattern is segments separated by star runs. The first segment is
 * anchored at the start unless a star leads; the last at the end unless a
 * star trails; each middle segment is placed at its leftmost occurrence,
 * since a later placement can only leave less room for what follows.
 */
int
tc_policy_glob(const uint16_t *p, size_t m, const uint8_t *t, size_t n)
{
    size_t i = 0;
    size_t pos = 0;
    size_t len;

    /* Anchored head. */
    len = seg_len(p, m, 0);
    if (len == m) {
        return seg_at(p, m, t, n, 0, &pos) && pos == n;
    }
    if (len > 0 && !seg_at(p, len, t, n, 0, &pos)) {
        return 0;
    }
    i = len;

    for (;;) {
        size_t start;
        size_t end = 0;
        int found = 0;

        while (i < m && p[i] == PAT_STAR) {
            i++;
        }
        if (i == m) {
            return 1; /* a trailing star takes the rest */
        }
        len = seg_len(p, m, i);

        /* The last segment must end exactly at the end of t. */
        if (i + len == m) {
            if (!has_one(p + i, len)) {
                return n >= pos + len &&
                       seg_at(p + i, len, t, n, n - len, &end);
            }
            for (start = pos; start <= n; start++) {
                if (seg_at(p + i, len, t, n, start, &end) && end == n) {
                    return 1;
                }
            }
            return 0;
        }
        for (start = pos; start < n; start++) {
            /* Jump to the next place the first literal byte occurs. */
            if (p[i] != PAT_ONE) {
                const uint8_t *hit = memchr(t + start, p[i], n - start);

                if (hit == NULL) {
                    return 0;
                }
                start = (size_t)(hit - t);
            }
            if (seg_at(p + i, len, t, n, start, &end)) {
                found = 1;
                break;
            }
        }
        if (!found) {
            return 0;
        }
        pos = end;
        i += len;
    }
}

static int
entry_match(const struct tc_policy_set *s, const struct pentry *e,
            const uint8_t *t, size_t n)
{
    switch (e->kind) {
    case ENTRY_ANY:
        return 1;
    case ENTRY_EXACT:
        return n == e->len && memcmp(t, s->bytes + e->off, n) == 0;
    case ENTRY_PREFIX:
        return n >= e->len && memcmp(t, s->bytes + e->off, e->len) == 0;
    case ENTRY_GLOB:
        if (n < e->head_len ||
            memcmp(t, s->bytes + e->head_off, e->head_len) != 0) {
            return 0;
        }
        return tc_policy_glob(s->pat + e->off, e->len, t, n);
    default:
        return 0;
    }
}

/* A Resource rule matches when any entry does; NotResource when none. */
static int
rule_match(const struct tc_policy_set *s, const struct prule *r,
           const uint8_t *t, size_t n)
{
    const struct pentry *e = s->entries + r->first;
    const struct pentry *stop = e + r->count;

    for (; e < stop; e++) {
        if (entry_match(s, e, t, n)) {
            return !r->negate;
        }
    }
    return r->negate;
}

static void
set_why(struct tc_policy_why *why, const struct tc_policy_set *s,
        const struct prule *r, enum tc_policy_decision decision)
{
    if (why == NULL) {
        return;
    }
    why->decision = decision;
    why->policy = r != NULL ? r->policy : -1;
    why->statement = r != NULL ? r->statement : -1;
    why->sid = r != NULL && r->sid != SID_NONE ? s->sids + r->sid : NULL;
}

int
tc_policy_check(const struct tc_policy_set *s, enum tc_policy_action a,
                const char *resource_name, size_t len,
                struct tc_policy_why *why)
{
    const uint8_t *t = (const uint8_t *)resource_name;
    const struct prule *r;
    const struct prule *stop;

    /* Anything the set cannot answer denies. */
    set_why(why, s, NULL, TC_POLICY_DEFAULT_DENY);
    if (s == NULL || (unsigned)a >= TC_POLICY_ACTION_COUNT ||
        (t == NULL && len != 0)) {
        return 0;
    }
    if (t == NULL) {
        t = (const uint8_t *)"";
    }

    /* Any explicit Deny wins over every Allow, so it is looked at first. */
    r = s->rules + s->deny_first[a];
    stop = r + s->deny_count[a];
    for (; r < stop; r++) {
        if (rule_match(s, r, t, len)) {
            set_why(why, s, r, TC_POLICY_EXPLICIT_DENY);
            return 0;
        }
    }
    r = s->rules + s->allow_first[a];
    stop = r + s->allow_count[a];
    for (; r < stop; r++) {
        if (rule_match(s, r, t, len)) {
            set_why(why, s, r, TC_POLICY_ALLOWED);
            return 1;
        }
    }
    return 0;
}
