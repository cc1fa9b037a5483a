// SPDX-License-Identifier: Apache-2.0
/*
 * The per-connection half of the policy engine. Compiling resolves every
 * policy variable and evaluates every condition against the connection
 * context (all supported keys are constant for a connection), matches the
 * Action lists against the five MQTT actions, and pre-consumes each
 * resource pattern's ARN prefix, so that a check only has to compare the
 * client ID, topic or topic filter with a short list of entries. It never
 * changes a set once built.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "policy_set.h"

/* A growable array with a fixed element size. */
struct vec {
    void *p;
    size_t n;
    size_t cap;
    size_t elem;
};

static void
vec_init(struct vec *v, size_t elem)
{
    v->p = NULL;
    v->n = 0;
    v->cap = 0;
    v->elem = elem;
}

static int
vec_reserve(struct vec *v, size_t extra)
{
    size_t want = v->n + extra;
    size_t cap = v->cap > 0 ? v->cap : 16;
    void *p;

    if (want <= v->cap && v->p != NULL) {
        return TC_OK;
    }
    if (want > UINT32_MAX / 2) {
        return TC_ERR_NOMEM;
    }
    while (cap < want) {
        cap *= 2;
    }
    p = realloc(v->p, cap * v->elem);
    if (p == NULL) {
        return TC_ERR_NOMEM;
    }
    v->p = p;
    v->cap = cap;
    return TC_OK;
}

static int
vec_push(struct vec *v, const void *e, size_t count)
{
    if (vec_reserve(v, count) != TC_OK) {
        return TC_ERR_NOMEM;
    }
    memcpy((char *)v->p + v->n * v->elem, e, count * v->elem);
    v->n += count;
    return TC_OK;
}

static int
vec_push16(struct vec *v, uint16_t x)
{
    return vec_push(v, &x, 1);
}

struct builder {
    const struct tc_policy_ctx *ctx;
    int thing_ok;               /* the Connection.Thing variables resolve */
    struct pnet source;         /* aws:SourceIp, when source_ok */
    int source_ok;
    char prefix[TC_POLICY_ACTION_COUNT][200];
    struct vec rules[TC_POLICY_ACTION_COUNT][2]; /* [a][0] Deny, [1] Allow */
    struct vec entries;         /* struct pentry */
    struct vec bytes;           /* uint8_t */
    struct vec pat;             /* uint16_t */
    struct vec sids;            /* char */
    struct vec exp;             /* uint16_t: expanded templates */
    struct vec exp_off;         /* size_t: start of each in exp */
    struct vec on;              /* uint8_t: NFA state sets */
};

static const char *const resource_type[TC_POLICY_ACTION_COUNT] = {
    "client/", "topic/", "topicfilter/", "topic/", "topic/",
};

/* ---- the connection context ---- */

static int
pair_key_eq(const char *key, const char *arg, size_t arg_len, int ci)
{
    if (strlen(key) != arg_len) {
        return 0;
    }
    return ci ? strncasecmp(key, arg, arg_len) == 0
              : memcmp(key, arg, arg_len) == 0;
}

/* The idx-th value of the pairs named arg, or NULL. */
static const char *
pair_nth(const struct tc_policy_pair *pairs, size_t n, const char *arg,
         size_t arg_len, int ci, size_t idx)
{
    size_t i;

    for (i = 0; i < n; i++) {
        if (pair_key_eq(pairs[i].key, arg, arg_len, ci)) {
            if (idx == 0) {
                return pairs[i].value;
            }
            idx--;
        }
    }
    return NULL;
}

/*
 * The idx-th value of a key for this connection, or NULL when there is no
 * such value. Single-valued keys have at most one.
 */
static const char *
resolve(const struct builder *b, enum pkey key, const char *arg,
        size_t arg_len, size_t idx)
{
    const struct tc_policy_ctx *c = b->ctx;

    switch (key) {
    case KEY_SUBJECT_LIST:
        return pair_nth(c->subject, c->nsubject, arg, arg_len, 1, idx);
    case KEY_ISSUER_LIST:
        return pair_nth(c->issuer, c->nissuer, arg, arg_len, 1, idx);
    default:
        break;
    }
    if (idx > 0) {
        return NULL;
    }
    switch (key) {
    case KEY_CLIENT_ID:
        return c->client_id;
    case KEY_SOURCE_IP:
        return c->source_ip;
    case KEY_THING_NAME:
        return b->thing_ok ? c->thing_name : NULL;
    case KEY_THING_TYPE:
        return b->thing_ok ? c->thing_type : NULL;
    case KEY_THING_ATTACHED:
        return b->thing_ok ? "true" : "false";
    case KEY_THING_ATTR:
        return b->thing_ok ? pair_nth(c->attrs, c->nattrs, arg, arg_len, 0, 0)
                           : NULL;
    case KEY_SUBJECT:
        return pair_nth(c->subject, c->nsubject, arg, arg_len, 1, 0);
    case KEY_ISSUER:
        return pair_nth(c->issuer, c->nissuer, arg, arg_len, 1, 0);
    case KEY_CERT_SERIAL:
        return c->cert_serial;
    default:
        return NULL;
    }
}

static int
value_ok(const char *s)
{
    return s == NULL || strnlen(s, TC_POLICY_MAX_CTX_VALUE + 1) <=
                            TC_POLICY_MAX_CTX_VALUE;
}

static int
pairs_ok(const struct tc_policy_pair *p, size_t n)
{
    size_t i;

    if (n > 0 && p == NULL) {
        return 0;
    }
    for (i = 0; i < n; i++) {
        if (p[i].key == NULL || p[i].value == NULL || !value_ok(p[i].key) ||
            !value_ok(p[i].value)) {
            return 0;
        }
    }
    return n <= 256;
}

static int
arn_field_ok(const char *s)
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

static int
check_ctx(struct builder *b, const struct tc_policy_ctx *c,
          struct tc_detail *d)
{
    int a;

    if (c == NULL) {
        return tc_detail_set(d, TC_ERR_POLICY_CONTEXT, -1, NULL,
                             "no connection context");
    }
    if (!arn_field_ok(c->region) || !arn_field_ok(c->account)) {
        return tc_detail_set(d, TC_ERR_POLICY_CONTEXT, -1, "region",
                             "region and account must be 1-64 letters, "
                             "digits, '-' or '_'");
    }
    if (!value_ok(c->client_id) || !value_ok(c->thing_name) ||
        !value_ok(c->thing_type) || !value_ok(c->cert_serial) ||
        !pairs_ok(c->attrs, c->nattrs) ||
        !pairs_ok(c->subject, c->nsubject) ||
        !pairs_ok(c->issuer, c->nissuer)) {
        return tc_detail_set(d, TC_ERR_POLICY_CONTEXT, -1, NULL,
                             "a context value is missing or longer than %d "
                             "bytes, or there are more than 256 pairs",
                             TC_POLICY_MAX_CTX_VALUE);
    }
    if (c->source_ip != NULL) {
        size_t n = strnlen(c->source_ip, 64);

        if (memchr(c->source_ip, '/', n) != NULL ||
            !tc_policy_net_parse(c->source_ip, n, &b->source)) {
            return tc_detail_set(d, TC_ERR_POLICY_CONTEXT, -1, "source_ip",
                                 "source address \"%.64s\" is not an IP "
                                 "address",
                                 c->source_ip);
        }
        b->source_ok = 1;
    }
    b->ctx = c;
    b->thing_ok = c->thing_name != NULL && c->is_attached;
    for (a = 0; a < TC_POLICY_ACTION_COUNT; a++) {
        snprintf(b->prefix[a], sizeof(b->prefix[a]), "arn:aws:iot:%s:%s:%s",
                 c->region, c->account, resource_type[a]);
    }
    return TC_OK;
}

/* ---- templates: variables, escapes and wildcards ---- */

/*
 * Expand a Resource or condition value into b->exp. Grammar:
 *
 *   template = *( escape / variable / char )
 *   escape   = "$(" c ")" / "${" c "}"    with c one of * ? $ : c literally
 *   variable = "${" name "}"              name from tc_policy_key_parse
 *   char     = any byte; * and ? are wildcards when glob is set
 *
 * Returns 1, 0 when a variable is unknown, has no value, or has a value
 * holding * ? + # or $ (AWS IoT then leaves the statement unable to
 * match), or TC_ERR_NOMEM as a negative number.
 */
static int
expand(struct builder *b, const char *s, size_t n, int glob)
{
    size_t i = 0;

    while (i < n) {
        unsigned char c = (unsigned char)s[i];

        if (c == '$' && i + 3 < n && (s[i + 1] == '(' || s[i + 1] == '{') &&
            strchr("*?$", s[i + 2]) != NULL && s[i + 2] != '\0' &&
            s[i + 3] == (s[i + 1] == '(' ? ')' : '}')) {
            if (vec_push16(&b->exp, (unsigned char)s[i + 2]) != TC_OK) {
                return -TC_ERR_NOMEM;
            }
            i += 4;
            continue;
        }
        if (c == '$' && i + 1 < n && s[i + 1] == '{') {
            const char *close = memchr(s + i + 2, '}', n - i - 2);
            enum pkey key;
            const char *arg;
            size_t arg_len;
            const char *val;
            size_t k;

            if (close != NULL) {
                size_t len = (size_t)(close - (s + i + 2));

                if (!tc_policy_key_parse(s + i + 2, len, &key, &arg,
                                         &arg_len) ||
                    key == KEY_SUBJECT_LIST || key == KEY_ISSUER_LIST) {
                    return 0;
                }
                val = resolve(b, key, arg, arg_len, 0);
                if (val == NULL || strpbrk(val, "*?+#$") != NULL) {
                    return 0;
                }
                for (k = 0; val[k] != '\0'; k++) {
                    if (vec_push16(&b->exp, (unsigned char)val[k]) != TC_OK) {
                        return -TC_ERR_NOMEM;
                    }
                }
                i = (size_t)(close - s) + 1;
                continue;
            }
        }
        if (vec_push16(&b->exp, glob && c == '*'   ? PAT_STAR
                                : glob && c == '?' ? PAT_ONE
                                                   : c) != TC_OK) {
            return -TC_ERR_NOMEM;
        }
        i++;
    }
    return 1;
}

/*
 * Expand values[0..n) one after the other; b->exp_off receives each start
 * (and the end as a last element). Returns as expand.
 */
static int
expand_all(struct builder *b, const char *const *values, const size_t *lens,
           size_t n, int glob)
{
    size_t i;
    int rc;

    b->exp.n = 0;
    b->exp_off.n = 0;
    for (i = 0; i < n; i++) {
        size_t at = b->exp.n;

        if (vec_push(&b->exp_off, &at, 1) != TC_OK) {
            return -TC_ERR_NOMEM;
        }
        rc = expand(b, values[i], lens[i], glob);
        if (rc != 1) {
            return rc;
        }
    }
    if (vec_push(&b->exp_off, &b->exp.n, 1) != TC_OK) {
        return -TC_ERR_NOMEM;
    }
    return 1;
}

/* ---- conditions ---- */

static int
net_contains(const struct pnet *net, const struct pnet *ip)
{
    int full = net->bits / 8;
    int rest = net->bits % 8;

    if (net->family != ip->family) {
        return 0;
    }
    if (memcmp(net->addr, ip->addr, (size_t)full) != 0) {
        return 0;
    }
    if (rest == 0) {
        return 1;
    }
    return ((net->addr[full] ^ ip->addr[full]) &
            (uint8_t)(0xFF << (8 - rest))) == 0;
}

/* An IPv4 address written as IPv6 (::ffff:a.b.c.d) compares as IPv4. */
static void
unmap_v4(struct pnet *ip)
{
    static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
                                       0xFF, 0xFF};

    if (ip->family == 6 && memcmp(ip->addr, mapped, 12) == 0) {
        memmove(ip->addr, ip->addr + 12, 4);
        memset(ip->addr + 4, 0, 12);
        ip->family = 4;
        ip->bits = 32;
    }
}

static int
literal_eq(const uint16_t *p, size_t m, const char *v, size_t n, int ci)
{
    size_t i;

    if (m != n) {
        return 0;
    }
    for (i = 0; i < n; i++) {
        unsigned x = p[i];
        unsigned y = (unsigned char)v[i];

        if (ci) {
            x = x >= 'A' && x <= 'Z' ? x + 32 : x;
            y = y >= 'A' && y <= 'Z' ? y + 32 : y;
        }
        if (x != y) {
            return 0;
        }
    }
    return 1;
}

/*
 * ArnLike: the six colon-separated fields are matched one by one, so a
 * wildcard never crosses a ':' before the resource field (IAM's rule).
 */
static int
arn_like(const uint16_t *p, size_t m, const char *v, size_t n)
{
    size_t pi = 0;
    size_t vi = 0;
    int field;

    for (field = 0; field < 6; field++) {
        size_t pe = pi;
        size_t ve = vi;

        if (field < 5) {
            while (pe < m && p[pe] != ':') {
                pe++;
            }
            while (ve < n && v[ve] != ':') {
                ve++;
            }
            if (pe == m || ve == n) {
                return 0;
            }
        } else {
            pe = m;
            ve = n;
        }
        if (!tc_policy_glob(p + pi, pe - pi, (const uint8_t *)v + vi,
                            ve - vi)) {
            return 0;
        }
        pi = pe + 1;
        vi = ve + 1;
    }
    return 1;
}

/* Whether one context value matches any of the expanded policy values. */
static int
value_matches(const struct builder *b, const struct pcond *c, const char *v)
{
    const uint16_t *exp = b->exp.p;
    const size_t *off = b->exp_off.p;
    size_t n = strlen(v);
    size_t i;
    struct pnet ip;

    if (c->op == OP_IP_ADDRESS) {
        if (c->key == KEY_SOURCE_IP && b->source_ok) {
            ip = b->source;
        } else if (memchr(v, '/', n) != NULL ||
                   !tc_policy_net_parse(v, n, &ip)) {
            return 0;
        }
        unmap_v4(&ip);
        for (i = 0; i < c->nvalues; i++) {
            struct pnet net = c->nets[i];

            if (net.family == 6 && net.bits >= 96) {
                struct pnet tmp = net;

                unmap_v4(&tmp);
                if (tmp.family == 4) {
                    tmp.bits = (uint8_t)(net.bits - 96);
                    net = tmp;
                }
            }
            if (net_contains(&net, &ip)) {
                return 1;
            }
        }
        return 0;
    }
    for (i = 0; i < c->nvalues; i++) {
        const uint16_t *p = exp + off[i];
        size_t m = off[i + 1] - off[i];
        int hit = 0;

        switch (c->op) {
        case OP_STRING_EQUALS:
            hit = literal_eq(p, m, v, n, 0);
            break;
        case OP_STRING_EQUALS_IC:
        case OP_BOOL:
            hit = literal_eq(p, m, v, n, 1);
            break;
        case OP_STRING_LIKE:
            hit = tc_policy_glob(p, m, (const uint8_t *)v, n);
            break;
        case OP_ARN_LIKE:
            hit = arn_like(p, m, v, n);
            break;
        default:
            break;
        }
        if (hit) {
            return 1;
        }
    }
    return 0;
}

/*
 * One condition key for this connection: 1 holds, 0 does not, negative for
 * no memory. A value with an unresolvable variable cannot hold.
 *
 * Absent key: false, except IfExists (true), a negated operator (true, as
 * IAM), ForAllValues (true, the empty set) and ForAnyValue (false).
 */
static int
cond_holds(struct builder *b, const struct pcond *c)
{
    const char *first = resolve(b, (enum pkey)c->key, c->arg, c->arg_len, 0);
    int glob = c->op == OP_STRING_LIKE || c->op == OP_ARN_LIKE;
    size_t idx;
    int rc;

    if (c->op == OP_NULL) {
        size_t i;

        for (i = 0; i < c->nvalues; i++) {
            int want_null = strcasecmp(c->values[i], "true") == 0;

            if (want_null == (first == NULL)) {
                return 1;
            }
        }
        return 0;
    }
    if (first == NULL) {
        if (c->if_exists || c->qual == QUAL_ALL) {
            return 1;
        }
        return c->qual == QUAL_NONE && c->negate;
    }
    if (c->op != OP_IP_ADDRESS) {
        rc = expand_all(b, c->values, c->value_lens, c->nvalues, glob);
        if (rc != 1) {
            return rc;
        }
    }
    for (idx = 0;; idx++) {
        const char *v = resolve(b, (enum pkey)c->key, c->arg, c->arg_len,
                                idx);
        int m;

        if (v == NULL) {
            break;
        }
        m = value_matches(b, c, v);
        if (c->negate) {
            m = !m;
        }
        if (c->qual == QUAL_NONE) {
            return m;
        }
        if (c->qual == QUAL_ANY && m) {
            return 1;
        }
        if (c->qual == QUAL_ALL && !m) {
            return 0;
        }
    }
    return c->qual == QUAL_ALL;
}

/* ---- resources ---- */

/*
 * The literal text p[0..n) (characters below 256) in the bytes pool, at
 * *off: a text already there is shared (Publish and Receive name the same
 * topics), so a compiled set stays small.
 */
static int
put_bytes(struct builder *b, const uint16_t *p, size_t n, uint32_t *off)
{
    uint8_t text[512];
    const uint8_t *found;
    size_t k;

    if (n <= sizeof(text) && n > 0 && b->bytes.n >= n) {
        for (k = 0; k < n; k++) {
            text[k] = (uint8_t)p[k];
        }
        found = memmem(b->bytes.p, b->bytes.n, text, n);
        if (found != NULL) {
            *off = (uint32_t)(found - (const uint8_t *)b->bytes.p);
            return TC_OK;
        }
    }
    *off = (uint32_t)b->bytes.n;
    if (vec_reserve(&b->bytes, n) != TC_OK) {
        return TC_ERR_NOMEM;
    }
    for (k = 0; k < n; k++) {
        ((uint8_t *)b->bytes.p)[b->bytes.n++] = (uint8_t)p[k];
    }
    return TC_OK;
}

/*
 * Append the entry for pattern p[0..m) (already past the ARN prefix),
 * picking the cheapest kind that matches exactly the same names.
 */
static int
add_entry(struct builder *b, const uint16_t *p, size_t m)
{
    struct pentry e = {0, 0, 0, 0, 0};
    size_t lit = 0;
    size_t k;
    int only_stars = 1;

    while (lit < m && p[lit] < 256) {
        lit++;
    }
    for (k = lit; k < m; k++) {
        only_stars &= p[k] == PAT_STAR;
    }
    if (lit == m || (only_stars && lit < m)) {
        e.kind = lit == m ? ENTRY_EXACT : lit == 0 ? ENTRY_ANY : ENTRY_PREFIX;
        e.len = (uint32_t)lit;
        if (put_bytes(b, p, lit, &e.off) != TC_OK) {
            return TC_ERR_NOMEM;
        }
    } else {
        e.head_len = (uint32_t)lit;
        if (put_bytes(b, p, lit, &e.head_off) != TC_OK) {
            return TC_ERR_NOMEM;
        }

        /* A run of stars is one star. */
        e.kind = ENTRY_GLOB;
        e.off = (uint32_t)b->pat.n;
        for (k = 0; k < m; k++) {
            if (p[k] == PAT_STAR && k > 0 && p[k - 1] == PAT_STAR) {
                continue;
            }
            if (vec_push16(&b->pat, p[k]) != TC_OK) {
                return TC_ERR_NOMEM;
            }
        }
        e.len = (uint32_t)(b->pat.n - e.off);
    }
    return vec_push(&b->entries, &e, 1);
}

/* Add every state of set `on` to itself that a star lets it skip to. */
static void
closure(const uint16_t *p, size_t m, uint8_t *on)
{
    size_t k;

    for (k = 0; k < m; k++) {
        if (on[k] && p[k] == PAT_STAR) {
            on[k + 1] = 1;
        }
    }
}

/*
 * Entries for one resource pattern and one action. The pattern matches the
 * whole ARN, prefix + name; the prefix is the same for every check, so it
 * is consumed here, by running the pattern as an automaton over it. Each
 * state left afterwards is one way the name may continue the match. A
 * state just after a star that is itself live adds nothing (the star's
 * entry already covers it) and is dropped.
 */
static int
add_resource(struct builder *b, const char *prefix, const uint16_t *p,
             size_t m)
{
    size_t plen = strlen(prefix);
    uint8_t *on;
    uint8_t *nx;
    size_t i;
    size_t k;
    int live = 1;

    /*
     * While the pattern is literal it has exactly one state: walk it
     * directly. Most resources spell the prefix out and end here.
     */
    for (i = 0; i < plen && i < m && p[i] < 256; i++) {
        if (p[i] != (unsigned char)prefix[i]) {
            return TC_OK;
        }
    }
    if (i == plen) {
        return add_entry(b, p + plen, m - plen);
    }
    if (i == m) {
        return TC_OK; /* the pattern ends inside the prefix */
    }

    b->on.n = 0;
    if (vec_reserve(&b->on, 2 * (m + 1)) != TC_OK) {
        return TC_ERR_NOMEM;
    }
    on = b->on.p;
    nx = on + m + 1;
    memset(on, 0, m + 1);
    on[i] = 1;
    closure(p, m, on);
    for (; i < plen && live; i++) {
        uint16_t c = (unsigned char)prefix[i];

        memset(nx, 0, m + 1);
        live = 0;
        for (k = 0; k < m; k++) {
            if (!on[k]) {
                continue;
            }
            if (p[k] == PAT_STAR) {
                nx[k] = 1;
                live = 1;
            } else if (p[k] == PAT_ONE || p[k] == c) {
                nx[k + 1] = 1;
                live = 1;
            }
        }
        closure(p, m, nx);
        memcpy(on, nx, m + 1);
    }
    if (!live) {
        return TC_OK;
    }
    for (k = 0; k <= m; k++) {
        if (!on[k] || (k > 0 && p[k - 1] == PAT_STAR && on[k - 1])) {
            continue;
        }
        if (add_entry(b, p + k, m - k) != TC_OK) {
            return TC_ERR_NOMEM;
        }
    }
    return TC_OK;
}

/* Cheapest entries first; the runs are short, insertion sort will do. */
static void
sort_entries(struct pentry *e, size_t n)
{
    size_t i;
    size_t j;

    for (i = 1; i < n; i++) {
        struct pentry x = e[i];

        for (j = i; j > 0 && e[j - 1].kind > x.kind; j--) {
            e[j] = e[j - 1];
        }
        e[j] = x;
    }
}

static int
add_statement(struct builder *b, size_t pi, size_t si, const struct pstmt *st)
{
    uint32_t sid = SID_NONE;
    size_t i;
    int a;
    int rc;

    if (st->actions == 0) {
        return TC_OK;
    }

    /* Conditions first: a statement that cannot apply adds nothing. */
    for (i = 0; i < st->nconds; i++) {
        rc = cond_holds(b, &st->conds[i]);
        if (rc < 0) {
            return -rc;
        }
        if (rc == 0) {
            return TC_OK;
        }
    }

    /* Any unresolvable variable in a resource disables the statement. */
    rc = expand_all(b, st->res, st->res_lens, st->nres, 1);
    if (rc < 0) {
        return -rc;
    }
    if (rc == 0) {
        return TC_OK;
    }

    if (st->sid != NULL) {
        sid = (uint32_t)b->sids.n;
        if (vec_push(&b->sids, st->sid, strlen(st->sid) + 1) != TC_OK) {
            return TC_ERR_NOMEM;
        }
    }
    for (a = 0; a < TC_POLICY_ACTION_COUNT; a++) {
        struct prule r;
        const size_t *off = b->exp_off.p;

        if (!(st->actions & (1u << a))) {
            continue;
        }
        r.policy = (int32_t)pi;
        r.statement = (int32_t)si;
        r.negate = (uint32_t)st->not_resource;
        r.first = (uint32_t)b->entries.n;
        r.sid = sid;
        for (i = 0; i < st->nres; i++) {
            rc = add_resource(b, b->prefix[a],
                              (const uint16_t *)b->exp.p + off[i],
                              off[i + 1] - off[i]);
            if (rc != TC_OK) {
                return rc;
            }
        }
        r.count = (uint32_t)(b->entries.n - r.first);
        sort_entries((struct pentry *)b->entries.p + r.first, r.count);
        if (r.count == 0 && !r.negate) {
            continue; /* no resource can name this action's ARN */
        }
        if (vec_push(&b->rules[a][st->deny ? 0 : 1], &r, 1) != TC_OK) {
            return TC_ERR_NOMEM;
        }
    }
    return TC_OK;
}

/* ---- the set ---- */

size_t
tc_policy_set_size(const struct tc_policy_set *set)
{
    return set != NULL ? set->size : 0;
}

void
tc_policy_set_free(struct tc_policy_set *set)
{
    if (set == NULL) {
        return;
    }
    /* One allocation holds the set and all its pools (see finish). */
    free(set);
}

static void
builder_clear(struct builder *b)
{
    int a;

    for (a = 0; a < TC_POLICY_ACTION_COUNT; a++) {
        free(b->rules[a][0].p);
        free(b->rules[a][1].p);
    }
    free(b->entries.p);
    free(b->bytes.p);
    free(b->pat.p);
    free(b->sids.p);
    free(b->exp.p);
    free(b->exp_off.p);
    free(b->on.p);
}

/* Round up to 8 so every pool in the block is aligned. */
static size_t
align8(size_t n)
{
    return (n + 7) & ~(size_t)7;
}

/*
 * Lay the per-action rule lists end to end and copy every pool into one
 * exact-size block after the set itself: a connection's compiled policy
 * is one allocation, as small as its content (a broker keeps one per
 * connected device).
 */
static int
finish(struct builder *b, struct tc_policy_set **out)
{
    struct tc_policy_set *s;
    size_t total = 0;
    size_t at = 0;
    size_t off_rules = align8(sizeof(*s));
    size_t off_entries;
    size_t off_pat;
    size_t off_bytes;
    size_t off_sids;
    size_t size;
    uint8_t *block;
    int a;
    int e;

    for (a = 0; a < TC_POLICY_ACTION_COUNT; a++) {
        total += b->rules[a][0].n + b->rules[a][1].n;
    }
    off_entries = align8(off_rules + total * sizeof(*s->rules));
    off_pat = align8(off_entries + b->entries.n * sizeof(*s->entries));
    off_bytes = align8(off_pat + b->pat.n * sizeof(*s->pat));
    off_sids = off_bytes + b->bytes.n;
    size = off_sids + b->sids.n + 1;
    block = calloc(1, size);
    if (block == NULL) {
        return TC_ERR_NOMEM;
    }
    s = (struct tc_policy_set *)(void *)block;
    s->size = size;
    s->rules = (struct prule *)(void *)(block + off_rules);
    s->entries = (struct pentry *)(void *)(block + off_entries);
    s->pat = (uint16_t *)(void *)(block + off_pat);
    s->bytes = block + off_bytes;
    s->sids = (char *)block + off_sids;
    for (a = 0; a < TC_POLICY_ACTION_COUNT; a++) {
        for (e = 0; e < 2; e++) {
            const struct vec *v = &b->rules[a][e];

            if (v->n > 0) {
                memcpy(s->rules + at, v->p, v->n * sizeof(*s->rules));
            }
            if (e == 0) {
                s->deny_first[a] = (uint32_t)at;
                s->deny_count[a] = (uint32_t)v->n;
            } else {
                s->allow_first[a] = (uint32_t)at;
                s->allow_count[a] = (uint32_t)v->n;
            }
            at += v->n;
        }
    }
    if (b->entries.n > 0) {
        memcpy(s->entries, b->entries.p, b->entries.n * sizeof(*s->entries));
    }
    if (b->pat.n > 0) {
        memcpy(s->pat, b->pat.p, b->pat.n * sizeof(*s->pat));
    }
    if (b->bytes.n > 0) {
        memcpy(s->bytes, b->bytes.p, b->bytes.n);
    }
    if (b->sids.n > 0) {
        memcpy(s->sids, b->sids.p, b->sids.n);
    }
    *out = s;
    return TC_OK;
}

int
tc_policy_compile_docs(const struct tc_policy_doc *const *docs, size_t ndocs,
                       const struct tc_policy_ctx *ctx,
                       struct tc_policy_set **out, struct tc_detail *d)
{
    struct builder b;
    size_t pi;
    size_t si;
    int a;
    int rc = TC_ERR_INTERNAL;

    *out = NULL;
    tc_detail_clear(d);
    memset(&b, 0, sizeof(b));
    for (a = 0; a < TC_POLICY_ACTION_COUNT; a++) {
        vec_init(&b.rules[a][0], sizeof(struct prule));
        vec_init(&b.rules[a][1], sizeof(struct prule));
    }
    vec_init(&b.entries, sizeof(struct pentry));
    vec_init(&b.bytes, 1);
    vec_init(&b.pat, sizeof(uint16_t));
    vec_init(&b.sids, 1);
    vec_init(&b.exp, sizeof(uint16_t));
    vec_init(&b.exp_off, sizeof(size_t));
    vec_init(&b.on, 1);

    if (ndocs > TC_POLICY_MAX_DOCS) {
        rc = tc_detail_set(d, TC_ERR_POLICY_TOO_MANY, -1, NULL,
                           "%zu policies; at most %d apply to one "
                           "certificate",
                           ndocs, TC_POLICY_MAX_DOCS);
        goto cleanup;
    }
    if (ndocs > 0 && docs == NULL) {
        rc = tc_detail_set(d, TC_ERR_ARG, -1, NULL, "no documents");
        goto cleanup;
    }
    rc = check_ctx(&b, ctx, d);
    if (rc != TC_OK) {
        goto cleanup;
    }
    for (pi = 0; pi < ndocs; pi++) {
        if (docs[pi] == NULL) {
            rc = tc_detail_set(d, TC_ERR_ARG, -1, NULL, "document %zu is "
                               "missing", pi);
            goto cleanup;
        }
        for (si = 0; si < docs[pi]->nst; si++) {
            rc = add_statement(&b, pi, si, &docs[pi]->st[si]);
            if (rc != TC_OK) {
                goto cleanup;
            }
        }
    }
    rc = finish(&b, out);

cleanup:
    builder_clear(&b);
    return rc;
}

int
tc_policy_compile(const char *const *docs, const size_t *lens, size_t ndocs,
                  const struct tc_policy_ctx *ctx, struct tc_policy_set **out,
                  struct tc_detail *d)
{
    struct tc_policy_doc *parsed[TC_POLICY_MAX_DOCS] = {NULL};
    size_t i;
    int rc = TC_ERR_INTERNAL;

    *out = NULL;
    if (ndocs > TC_POLICY_MAX_DOCS) {
        return tc_detail_set(d, TC_ERR_POLICY_TOO_MANY, -1, NULL,
                             "%zu policies; at most %d apply to one "
                             "certificate",
                             ndocs, TC_POLICY_MAX_DOCS);
    }
    if (ndocs > 0 && (docs == NULL || lens == NULL)) {
        return tc_detail_set(d, TC_ERR_ARG, -1, NULL, "no documents");
    }
    for (i = 0; i < ndocs; i++) {
        rc = tc_policy_doc_parse(docs[i], lens[i], &parsed[i], d);
        if (rc != TC_OK) {
            if (d != NULL) {
                char text[sizeof(d->text)];

                memcpy(text, d->text, sizeof(text));
                tc_detail_set(d, rc, d->offset, d->field, "policy %zu: %s",
                              i, text);
            }
            goto cleanup;
        }
    }
    rc = tc_policy_compile_docs((const struct tc_policy_doc *const *)parsed,
                                ndocs, ctx, out, d);

cleanup:
    for (i = 0; i < ndocs; i++) {
        tc_policy_doc_free(parsed[i]);
    }
    return rc;
}
