// SPDX-License-Identifier: Apache-2.0
/*
 * Policy document validation and parsing. Refuses anything AWS IoT would
 * refuse as malformed, plus condition keys that are not constant for a
 * connection, with a message that names the reason, the element path and
 * the line and column. It does not resolve variables or evaluate
 * conditions; compile.c does that per connection.
 */
#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "policy_int.h"
#include "thingcore/json.h"

/*
 * The grammar accepted (AWS IoT developer guide, "AWS IoT Core policies"):
 *
 *   document  = { "Version": "2012-10-17", ["Id": string,]
 *                 "Statement": statement | [statement, ...] }
 *   statement = { ["Sid": string,] "Effect": "Allow" | "Deny",
 *                 "Action" | "NotAction": name | [name, ...],
 *                 "Resource" | "NotResource": arn | [arn, ...],
 *                 ["Condition": { operator: { key: value | [value, ...] }}] }
 *   name      = "*" | service ":" pattern       e.g. iot:Publish, iot:*
 *   arn       = "*" | "arn:" 5 colon-separated fields, the last one free
 *   operator  = ["ForAnyValue:" | "ForAllValues:"] op ["IfExists"] | "Null"
 */
#define MAX_DEPTH 8
#define MAX_PATH 8

static const char *const action_names[TC_POLICY_ACTION_COUNT] = {
    "iot:connect", "iot:publish", "iot:subscribe", "iot:receive",
    "iot:retainpublish",
};

/* Where validation currently stands, for the error position. */
struct vstep {
    const char *key;    /* NULL: an array index */
    size_t index;
};

struct vctx {
    const char *text;
    size_t n;
    struct tc_detail *d;
    struct vstep path[MAX_PATH];
    int depth;
};

static void
push_key(struct vctx *v, const char *key)
{
    if (v->depth < MAX_PATH) {
        v->path[v->depth].key = key;
        v->path[v->depth].index = 0;
    }
    v->depth++;
}

static void
push_index(struct vctx *v, size_t index)
{
    if (v->depth < MAX_PATH) {
        v->path[v->depth].key = NULL;
        v->path[v->depth].index = index;
    }
    v->depth++;
}

static void
pop(struct vctx *v)
{
    v->depth--;
}

/* ---- locating a path in the text (already validated by jansson) ---- */

static size_t
skip_ws(const char *s, size_t n, size_t i)
{
    while (i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == '\r' ||
                     s[i] == '\n')) {
        i++;
    }
    return i;
}

/* End of the string that starts at s[i] == '"'. */
static size_t
skip_string(const char *s, size_t n, size_t i)
{
    for (i++; i < n; i++) {
        if (s[i] == '\\') {
            i++;
        } else if (s[i] == '"') {
            return i + 1;
        }
    }
    return n;
}

/* End of the value at i (a string, a container, or a bare literal). */
static size_t
skip_value(const char *s, size_t n, size_t i)
{
    int depth = 0;

    if (i < n && s[i] == '"') {
        return skip_string(s, n, i);
    }
    if (i < n && s[i] != '{' && s[i] != '[') {
        while (i < n && strchr(",}] \t\r\n", s[i]) == NULL) {
            i++;
        }
        return i;
    }
    while (i < n) {
        if (s[i] == '"') {
            i = skip_string(s, n, i);
            continue;
        }
        if (s[i] == '{' || s[i] == '[') {
            depth++;
        } else if (s[i] == '}' || s[i] == ']') {
            if (--depth == 0) {
                return i + 1;
            }
        }
        i++;
    }
    return n;
}

/*
 * Byte offset of the value the path names, or of the deepest container
 * found when a key is written with escapes and cannot be compared raw.
 */
static size_t
locate(const struct vctx *v)
{
    const char *s = v->text;
    size_t n = v->n;
    size_t i = skip_ws(s, n, 0);
    int k;
    int depth = v->depth < MAX_PATH ? v->depth : MAX_PATH;

    for (k = 0; k < depth; k++) {
        const struct vstep *st = &v->path[k];
        size_t at = i;
        size_t index = 0;
        int found = 0;

        if (i >= n || (s[i] != '{' && s[i] != '[')) {
            return at;
        }
        i = skip_ws(s, n, i + 1);
        while (i < n && s[i] != '}' && s[i] != ']') {
            if (s[i] == '"' && st->key != NULL && s[at] == '{') {
                size_t end = skip_string(s, n, i);
                size_t klen = strlen(st->key);
                int match = end - i - 2 == klen &&
                            memcmp(s + i + 1, st->key, klen) == 0;

                i = skip_ws(s, n, end);
                i = skip_ws(s, n, i + 1); /* the ':' */
                if (match) {
                    found = 1;
                    break;
                }
            } else if (st->key == NULL && s[at] == '[' &&
                       index == st->index) {
                found = 1;
                break;
            }
            i = skip_ws(s, n, skip_value(s, n, i));
            if (i < n && s[i] == ',') {
                i = skip_ws(s, n, i + 1);
            }
            index++;
        }
        if (!found) {
            return at;
        }
    }
    return i;
}

/* Statement[1].Condition.StringLike["iot:ClientId"][0] */
static void
format_path(const struct vctx *v, char *out, size_t cap)
{
    size_t len = 0;
    int k;
    int depth = v->depth < MAX_PATH ? v->depth : MAX_PATH;

    out[0] = '\0';
    for (k = 0; k < depth && len < cap; k++) {
        const struct vstep *st = &v->path[k];
        int w;

        if (st->key == NULL) {
            w = snprintf(out + len, cap - len, "[%zu]", st->index);
        } else if (strpbrk(st->key, ":.[]") != NULL) {
            w = snprintf(out + len, cap - len, "[\"%s\"]", st->key);
        } else {
            w = snprintf(out + len, cap - len, "%s%s", k > 0 ? "." : "",
                         st->key);
        }
        if (w < 0) {
            break;
        }
        len += (size_t)w;
    }
    if (out[0] == '\0') {
        snprintf(out, cap, "(document)");
    }
}

static void
line_col(const char *s, size_t off, long *line, long *col)
{
    size_t i;

    *line = 1;
    *col = 1;
    for (i = 0; i < off; i++) {
        if (s[i] == '\n') {
            (*line)++;
            *col = 1;
        } else {
            (*col)++;
        }
    }
}

/* Refuse with the reason at the current path; returns the error code. */
__attribute__((format(printf, 2, 3))) static int
fail(struct vctx *v, const char *fmt, ...)
{
    char reason[160];
    char where[64];
    size_t off;
    long line;
    long col;
    va_list ap;

    if (v->d == NULL) {
        return TC_ERR_POLICY_MALFORMED;
    }
    va_start(ap, fmt);
    vsnprintf(reason, sizeof(reason), fmt, ap);
    va_end(ap);
    format_path(v, where, sizeof(where));
    off = locate(v);
    line_col(v->text, off, &line, &col);
    return tc_detail_set(v->d, TC_ERR_POLICY_MALFORMED, (long)off, where,
                         "Policy document is malformed: %s: %s "
                         "(line %ld, column %ld)",
                         where, reason, line, col);
}

/* ---- small checks ---- */

/* A JSON string without NUL bytes, into *s and *n. */
static int
get_string(const json_t *j, const char **s, size_t *n)
{
    if (!json_is_string(j)) {
        return 0;
    }
    *s = json_string_value(j);
    *n = json_string_length(j);
    return memchr(*s, '\0', *n) == NULL;
}

static int
is_ident_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c >= '0' && c <= '9') || c == '-';
}

/* Lower-case pattern of an action name, for case-insensitive matching. */
static unsigned
action_mask(const char *s, size_t n)
{
    uint16_t pat[256];
    unsigned mask = 0;
    size_t i;
    int a;

    if (n > sizeof(pat) / sizeof(pat[0])) {
        return 0;
    }
    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];

        if (c == '*') {
            pat[i] = PAT_STAR;
        } else if (c == '?') {
            pat[i] = PAT_ONE;
        } else {
            pat[i] = (uint16_t)(c >= 'A' && c <= 'Z' ? c + 32 : c);
        }
    }
    for (a = 0; a < TC_POLICY_ACTION_COUNT; a++) {
        if (tc_policy_glob(pat, n, (const uint8_t *)action_names[a],
                           strlen(action_names[a]))) {
            mask |= 1u << a;
        }
    }
    return mask;
}

/* "*" or service ":" name, name made of letters, digits, * and ?. */
static int
action_ok(const char *s, size_t n)
{
    size_t i = 0;

    if (n == 1 && s[0] == '*') {
        return 1;
    }
    while (i < n && is_ident_char(s[i])) {
        i++;
    }
    if (i == 0 || i >= n || s[i] != ':' || i + 1 == n) {
        return 0;
    }
    for (i++; i < n; i++) {
        if (!is_ident_char(s[i]) && s[i] != '*' && s[i] != '?') {
            return 0;
        }
    }
    return n <= 128;
}

/* "*" or "arn:" with at least five more colons (the resource may hold more). */
static int
resource_ok(const char *s, size_t n)
{
    size_t colons = 0;
    size_t i;

    if (n == 1 && s[0] == '*') {
        return 1;
    }
    if (n < 4 || memcmp(s, "arn:", 4) != 0) {
        return 0;
    }
    for (i = 0; i < n; i++) {
        colons += s[i] == ':';
    }
    return colons >= 5;
}

static int
prefix_ci(const char *s, size_t n, const char *p)
{
    size_t k = strlen(p);

    return n >= k && strncasecmp(s, p, k) == 0;
}

int
tc_policy_key_parse(const char *name, size_t n, enum pkey *key,
                    const char **arg, size_t *arg_len)
{
    static const struct {
        const char *name;
        enum pkey key;
    } fixed[] = {
        {"iot:ClientId", KEY_CLIENT_ID},
        {"aws:SourceIp", KEY_SOURCE_IP},
        {"iot:Connection.Thing.ThingName", KEY_THING_NAME},
        {"iot:Connection.Thing.ThingTypeName", KEY_THING_TYPE},
        {"iot:Connection.Thing.IsAttached", KEY_THING_ATTACHED},
        {"iot:Certificate.SerialNumber", KEY_CERT_SERIAL},
    };
    static const char attr[] = "iot:Connection.Thing.Attributes[";
    static const char subj[] = "iot:Certificate.Subject.";
    static const char iss[] = "iot:Certificate.Issuer.";
    size_t i;
    const char *field;
    size_t flen;
    int list;

    *arg = NULL;
    *arg_len = 0;
    for (i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++) {
        if (strlen(fixed[i].name) == n &&
            strncasecmp(name, fixed[i].name, n) == 0) {
            *key = fixed[i].key;
            return 1;
        }
    }

    /* Attributes[name]: the name is case-sensitive, as thing attributes. */
    if (prefix_ci(name, n, attr) && n > sizeof(attr) &&
        name[n - 1] == ']') {
        *key = KEY_THING_ATTR;
        *arg = name + sizeof(attr) - 1;
        *arg_len = n - sizeof(attr);
        return memchr(*arg, ']', *arg_len) == NULL;
    }

    /* Subject.Field or Issuer.Field, optionally .List */
    if (prefix_ci(name, n, subj)) {
        field = name + sizeof(subj) - 1;
        flen = n - (sizeof(subj) - 1);
        *key = KEY_SUBJECT;
    } else if (prefix_ci(name, n, iss)) {
        field = name + sizeof(iss) - 1;
        flen = n - (sizeof(iss) - 1);
        *key = KEY_ISSUER;
    } else {
        return 0;
    }
    list = flen > 5 && strncasecmp(field + flen - 5, ".List", 5) == 0;
    if (list) {
        flen -= 5;
        *key = *key == KEY_SUBJECT ? KEY_SUBJECT_LIST : KEY_ISSUER_LIST;
    }
    if (flen == 0 || flen > 64) {
        return 0;
    }
    for (i = 0; i < flen; i++) {
        if (!((field[i] >= 'a' && field[i] <= 'z') ||
              (field[i] >= 'A' && field[i] <= 'Z'))) {
            return 0;
        }
    }
    *arg = field;
    *arg_len = flen;
    return 1;
}

int
tc_policy_net_parse(const char *s, size_t n, struct pnet *net)
{
    char buf[64];
    const char *slash;
    size_t alen;
    long bits;
    int max;

    if (n == 0 || n >= sizeof(buf)) {
        return 0;
    }
    memcpy(buf, s, n);
    buf[n] = '\0';
    slash = strchr(buf, '/');
    alen = slash != NULL ? (size_t)(slash - buf) : n;
    buf[alen] = '\0';
    memset(net, 0, sizeof(*net));
    if (inet_pton(AF_INET, buf, net->addr) == 1) {
        net->family = 4;
        max = 32;
    } else if (inet_pton(AF_INET6, buf, net->addr) == 1) {
        net->family = 6;
        max = 128;
    } else {
        return 0;
    }
    bits = max;
    if (slash != NULL) {
        char *end = NULL;
        const char *b = slash + 1;

        if (*b < '0' || *b > '9' || strlen(b) > 3) {
            return 0;
        }
        bits = strtol(b, &end, 10);
        if (*end != '\0' || bits > max) {
            return 0;
        }
    }
    net->bits = (uint8_t)bits;
    return 1;
}

/* ---- the document ---- */

/* A string or a non-empty array of strings, into (ptrs, lens, count). */
static int
string_list(struct vctx *v, const json_t *j, const char *what,
            int allow_bool, const char ***out, size_t **lens, size_t *count)
{
    size_t n = json_is_array(j) ? json_array_size(j) : 1;
    size_t i;

    if (json_is_array(j) && n == 0) {
        return fail(v, "%s must not be an empty list", what);
    }
    if (json_is_array(j) && n > 512) {
        return fail(v, "%s lists more than 512 values", what);
    }
    *out = calloc(n, sizeof(**out));
    *lens = calloc(n, sizeof(**lens));
    *count = n;
    if (*out == NULL || *lens == NULL) {
        return TC_ERR_NOMEM;
    }
    for (i = 0; i < n; i++) {
        const json_t *e = json_is_array(j) ? json_array_get(j, i) : j;
        int rc = TC_OK;

        if (json_is_array(j)) {
            push_index(v, i);
        }
        if (allow_bool && json_is_boolean(e)) {
            (*out)[i] = json_is_true(e) ? "true" : "false";
            (*lens)[i] = strlen((*out)[i]);
        } else if (!get_string(e, &(*out)[i], &(*lens)[i])) {
            rc = fail(v, "%s must be a string or a list of strings", what);
        }
        if (json_is_array(j)) {
            pop(v);
        }
        if (rc != TC_OK) {
            return rc;
        }
    }
    return TC_OK;
}

static int
parse_operator(struct vctx *v, const char *name, struct pcond *c)
{
    static const struct {
        const char *name;
        enum pop op;
        int negate;
    } ops[] = {
        {"StringEquals", OP_STRING_EQUALS, 0},
        {"StringNotEquals", OP_STRING_EQUALS, 1},
        {"StringEqualsIgnoreCase", OP_STRING_EQUALS_IC, 0},
        {"StringNotEqualsIgnoreCase", OP_STRING_EQUALS_IC, 1},
        {"StringLike", OP_STRING_LIKE, 0},
        {"StringNotLike", OP_STRING_LIKE, 1},
        {"Bool", OP_BOOL, 0},
        {"ArnEquals", OP_ARN_LIKE, 0},
        {"ArnLike", OP_ARN_LIKE, 0},
        {"ArnNotEquals", OP_ARN_LIKE, 1},
        {"ArnNotLike", OP_ARN_LIKE, 1},
        {"IpAddress", OP_IP_ADDRESS, 0},
        {"NotIpAddress", OP_IP_ADDRESS, 1},
        {"Null", OP_NULL, 0},
    };
    const char *s = name;
    size_t n = strlen(name);
    size_t i;

    c->qual = QUAL_NONE;
    if (strncmp(s, "ForAnyValue:", 12) == 0) {
        c->qual = QUAL_ANY;
        s += 12;
        n -= 12;
    } else if (strncmp(s, "ForAllValues:", 13) == 0) {
        c->qual = QUAL_ALL;
        s += 13;
        n -= 13;
    }
    c->if_exists = n > 8 && strcmp(s + n - 8, "IfExists") == 0;
    if (c->if_exists) {
        n -= 8;
    }
    for (i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
        if (strlen(ops[i].name) == n && strncmp(s, ops[i].name, n) == 0) {
            c->op = (uint8_t)ops[i].op;
            c->negate = (uint8_t)ops[i].negate;
            if (c->op == OP_NULL && (c->qual != QUAL_NONE || c->if_exists)) {
                return fail(v, "Null takes no qualifier or IfExists");
            }
            return TC_OK;
        }
    }
    return fail(v, "unsupported condition operator \"%s\"", name);
}

static int
parse_condition_key(struct vctx *v, const char *opname, const char *keyname,
                    const json_t *val, struct pcond *c)
{
    enum pkey key;
    size_t i;
    int rc;

    rc = parse_operator(v, opname, c);
    if (rc != TC_OK) {
        return rc;
    }
    if (!tc_policy_key_parse(keyname, strlen(keyname), &key, &c->arg,
                             &c->arg_len)) {
        return fail(v,
                    "unsupported condition key \"%s\" (supported: "
                    "iot:ClientId, aws:SourceIp, iot:Connection.Thing.*, "
                    "iot:Certificate.*)",
                    keyname);
    }
    c->key = (uint8_t)key;
    if ((key == KEY_SUBJECT_LIST || key == KEY_ISSUER_LIST) &&
        c->qual == QUAL_NONE && c->op != OP_NULL) {
        return fail(v, "the list key \"%s\" needs ForAnyValue: or "
                       "ForAllValues:",
                    keyname);
    }
    rc = string_list(v, val, "a condition value", 1, &c->values,
                     &c->value_lens, &c->nvalues);
    if (rc != TC_OK) {
        return rc;
    }

    /* Bool and Null compare with "true" or "false" only. */
    for (i = 0; i < c->nvalues && (c->op == OP_BOOL || c->op == OP_NULL);
         i++) {
        if (strcasecmp(c->values[i], "true") != 0 &&
            strcasecmp(c->values[i], "false") != 0) {
            if (json_is_array(val)) {
                push_index(v, i);
            }
            return fail(v, "%s needs \"true\" or \"false\", not \"%s\"",
                        c->op == OP_BOOL ? "Bool" : "Null", c->values[i]);
        }
    }

    /* Networks are parsed once here, not per connection. */
    if (c->op == OP_IP_ADDRESS) {
        c->nets = calloc(c->nvalues, sizeof(*c->nets));
        if (c->nets == NULL) {
            return TC_ERR_NOMEM;
        }
        for (i = 0; i < c->nvalues; i++) {
            if (!tc_policy_net_parse(c->values[i], c->value_lens[i],
                                     &c->nets[i])) {
                if (json_is_array(val)) {
                    push_index(v, i);
                }
                return fail(v, "\"%s\" is not an IP address or CIDR block",
                            c->values[i]);
            }
        }
    }
    return TC_OK;
}

static int
parse_conditions(struct vctx *v, const json_t *cj, struct pstmt *st)
{
    const char *opname;
    const json_t *keys;
    size_t total = 0;
    int rc = TC_OK;

    if (!json_is_object(cj) || json_object_size(cj) == 0) {
        return fail(v, "Condition must be a non-empty object");
    }
    json_object_foreach((json_t *)cj, opname, keys) {
        if (!json_is_object(keys) || json_object_size(keys) == 0) {
            push_key(v, opname);
            rc = fail(v, "a condition operator needs an object of keys");
            pop(v);
            return rc;
        }
        total += json_object_size(keys);
    }
    if (total > 64) {
        return fail(v, "more than 64 condition keys");
    }
    st->conds = calloc(total, sizeof(*st->conds));
    if (st->conds == NULL) {
        return TC_ERR_NOMEM;
    }
    json_object_foreach((json_t *)cj, opname, keys) {
        const char *keyname;
        const json_t *val;

        push_key(v, opname);
        json_object_foreach((json_t *)keys, keyname, val) {
            push_key(v, keyname);
            rc = parse_condition_key(v, opname, keyname, val,
                                     &st->conds[st->nconds]);
            st->nconds++;
            pop(v);
            if (rc != TC_OK) {
                break;
            }
        }
        pop(v);
        if (rc != TC_OK) {
            return rc;
        }
    }
    return TC_OK;
}

/* Exactly one of two mutually exclusive elements. */
static int
one_of(struct vctx *v, const json_t *sj, const char *a, const char *b,
       const json_t **val, int *is_b)
{
    const json_t *ja = json_object_get(sj, a);
    const json_t *jb = json_object_get(sj, b);

    if (ja != NULL && jb != NULL) {
        return fail(v, "%s and %s cannot both appear", a, b);
    }
    if (ja == NULL && jb == NULL) {
        return fail(v, "%s or %s is required", a, b);
    }
    *val = ja != NULL ? ja : jb;
    *is_b = ja == NULL;
    return TC_OK;
}

static int
parse_statement(struct vctx *v, const json_t *sj, struct pstmt *st)
{
    static const char *const known[] = {
        "Sid", "Effect", "Action", "NotAction", "Resource", "NotResource",
        "Condition",
    };
    const char *k;
    const json_t *val;
    const char *s;
    size_t n;
    size_t i;
    int not_action = 0;
    int rc;

    if (!json_is_object(sj)) {
        return fail(v, "a statement must be an object");
    }

    /* Elements: known ones only; Principal has no meaning in AWS IoT. */
    json_object_foreach((json_t *)sj, k, val) {
        int ok = 0;

        for (i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
            ok |= strcmp(k, known[i]) == 0;
        }
        if (!ok) {
            push_key(v, k);
            rc = strcmp(k, "Principal") == 0 || strcmp(k, "NotPrincipal") == 0
                     ? fail(v, "%s is not allowed in an AWS IoT policy", k)
                     : fail(v, "unknown element \"%s\"", k);
            pop(v);
            return rc;
        }
    }

    val = json_object_get(sj, "Sid");
    if (val != NULL) {
        push_key(v, "Sid");
        if (!get_string(val, &s, &n) || n > 128) {
            rc = fail(v, "Sid must be a string of at most 128 characters");
            pop(v);
            return rc;
        }
        pop(v);
        st->sid = s;
    }

    val = json_object_get(sj, "Effect");
    if (val == NULL) {
        return fail(v, "Effect is required");
    }
    push_key(v, "Effect");
    if (!get_string(val, &s, &n) ||
        (strcmp(s, "Allow") != 0 && strcmp(s, "Deny") != 0)) {
        rc = fail(v, "Effect must be \"Allow\" or \"Deny\"");
        pop(v);
        return rc;
    }
    pop(v);
    st->deny = strcmp(s, "Deny") == 0;

    /* Actions resolve to the five MQTT actions right away. */
    rc = one_of(v, sj, "Action", "NotAction", &val, &not_action);
    if (rc != TC_OK) {
        return rc;
    }
    push_key(v, not_action ? "NotAction" : "Action");
    {
        const char **names = NULL;
        size_t *lens = NULL;
        size_t count = 0;

        rc = string_list(v, val, "an action", 0, &names, &lens, &count);
        for (i = 0; i < count && rc == TC_OK; i++) {
            if (!action_ok(names[i], lens[i])) {
                if (json_is_array(val)) {
                    push_index(v, i);
                }
                rc = fail(v, "\"%s\" is not an action name like iot:Publish",
                          names[i]);
                if (json_is_array(val)) {
                    pop(v);
                }
                break;
            }
            st->actions |= action_mask(names[i], lens[i]);
        }
        free(names);
        free(lens);
    }
    pop(v);
    if (rc != TC_OK) {
        return rc;
    }
    if (not_action) {
        st->actions = ~st->actions & ((1u << TC_POLICY_ACTION_COUNT) - 1);
    }

    rc = one_of(v, sj, "Resource", "NotResource", &val, &st->not_resource);
    if (rc != TC_OK) {
        return rc;
    }
    push_key(v, st->not_resource ? "NotResource" : "Resource");
    rc = string_list(v, val, "a resource", 0, &st->res, &st->res_lens,
                     &st->nres);
    for (i = 0; i < st->nres && rc == TC_OK; i++) {
        if (!resource_ok(st->res[i], st->res_lens[i])) {
            if (json_is_array(val)) {
                push_index(v, i);
            }
            rc = fail(v, "\"%s\" is not \"*\" or an ARN like "
                         "arn:aws:iot:REGION:ACCOUNT:topic/NAME",
                      st->res[i]);
            if (json_is_array(val)) {
                pop(v);
            }
        }
    }
    pop(v);
    if (rc != TC_OK) {
        return rc;
    }

    val = json_object_get(sj, "Condition");
    if (val != NULL) {
        push_key(v, "Condition");
        rc = parse_conditions(v, val, st);
        pop(v);
    }
    return rc;
}

/* Characters outside white space, as UTF-8 code points. */
static size_t
count_chars(const char *s, size_t n, size_t limit, size_t *over_at)
{
    size_t count = 0;
    size_t i;

    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];

        if (c == ' ' || c == '\t' || c == '\r' || c == '\n' ||
            (c & 0xC0) == 0x80) {
            continue;
        }
        if (++count == limit + 1) {
            *over_at = i;
        }
    }
    return count;
}

static void
free_statements(struct pstmt *st, size_t nst)
{
    size_t i;
    size_t k;

    for (i = 0; st != NULL && i < nst; i++) {
        for (k = 0; k < st[i].nconds; k++) {
            free(st[i].conds[k].values);
            free(st[i].conds[k].value_lens);
            free(st[i].conds[k].nets);
        }
        free(st[i].conds);
        free(st[i].res);
        free(st[i].res_lens);
    }
    free(st);
}

void
tc_policy_doc_free(struct tc_policy_doc *doc)
{
    if (doc == NULL) {
        return;
    }
    free_statements(doc->st, doc->nst);
    json_decref(doc->root);
    free(doc);
}

int
tc_policy_doc_parse(const char *text, size_t len, struct tc_policy_doc **out,
                    struct tc_detail *d)
{
    struct vctx v;
    struct tc_policy_doc *doc = NULL;
    const json_t *val;
    const char *k;
    size_t chars;
    size_t over_at = 0;
    size_t i;
    int rc = TC_ERR_POLICY_MALFORMED;

    *out = NULL;
    tc_detail_clear(d);
    memset(&v, 0, sizeof(v));
    v.text = text;
    v.n = len;
    v.d = d;
    if (text == NULL) {
        return tc_detail_set(d, TC_ERR_POLICY_MALFORMED, 0, NULL,
                             "Policy document is malformed: empty document");
    }

    /* Size first, as AWS counts it, so padding never reaches the parser. */
    if (len > TC_POLICY_MAX_BYTES) {
        return tc_detail_set(d, TC_ERR_POLICY_TOO_BIG,
                             (long)TC_POLICY_MAX_BYTES, NULL,
                             "Policy document is %zu bytes; at most %d "
                             "bytes are accepted",
                             len, TC_POLICY_MAX_BYTES);
    }
    chars = count_chars(text, len, TC_POLICY_MAX_CHARS, &over_at);
    if (chars > TC_POLICY_MAX_CHARS) {
        long line;
        long col;

        line_col(text, over_at, &line, &col);
        return tc_detail_set(d, TC_ERR_POLICY_TOO_BIG, (long)over_at, NULL,
                             "Policy document has %zu characters excluding "
                             "white space; the limit of %d is passed at "
                             "line %ld, column %ld",
                             chars, TC_POLICY_MAX_CHARS, line, col);
    }

    doc = calloc(1, sizeof(*doc));
    if (doc == NULL) {
        rc = TC_ERR_NOMEM;
        goto cleanup;
    }
    {
        struct tc_detail jd;
        int jerr = TC_ERR_PARSE;
        long line;
        long col;

        tc_detail_clear(&jd);
        doc->root = tc_json_parse(text, len, TC_POLICY_MAX_BYTES, MAX_DEPTH,
                                  &jerr, &jd);
        if (doc->root == NULL) {
            /* jansson reports the bytes read: the last one is the culprit. */
            size_t off = jd.offset > 0 && (size_t)jd.offset <= len
                             ? (size_t)jd.offset - 1
                             : jd.offset == 0 ? 0 : len;
            const char *why = strstr(jd.text, ": ");

            /* Its text repeats the line and column; keep the reason. */
            why = strncmp(jd.text, "line ", 5) == 0 && why != NULL ? why + 2
                                                                   : jd.text;
            line_col(text, off, &line, &col);
            rc = tc_detail_set(d, TC_ERR_POLICY_MALFORMED, (long)off, NULL,
                               "Policy document is malformed: not valid "
                               "JSON at line %ld, column %ld: %s",
                               line, col,
                               jerr == TC_ERR_JSON_DEPTH
                                   ? "nested too deeply"
                                   : why);
            goto cleanup;
        }
    }

    if (!json_is_object(doc->root)) {
        rc = fail(&v, "the document must be a JSON object");
        goto cleanup;
    }
    json_object_foreach(doc->root, k, val) {
        if (strcmp(k, "Version") != 0 && strcmp(k, "Statement") != 0 &&
            strcmp(k, "Id") != 0) {
            push_key(&v, k);
            rc = fail(&v, "unknown element \"%s\"", k);
            goto cleanup;
        }
    }

    /* Policy variables exist only in the 2012-10-17 language. */
    val = json_object_get(doc->root, "Version");
    push_key(&v, "Version");
    if (val == NULL || !json_is_string(val) ||
        strcmp(json_string_value(val), "2012-10-17") != 0) {
        rc = fail(&v, "Version must be \"2012-10-17\"");
        goto cleanup;
    }
    pop(&v);
    val = json_object_get(doc->root, "Id");
    if (val != NULL && !json_is_string(val)) {
        push_key(&v, "Id");
        rc = fail(&v, "Id must be a string");
        goto cleanup;
    }

    val = json_object_get(doc->root, "Statement");
    if (val == NULL) {
        rc = fail(&v, "Statement is required");
        goto cleanup;
    }
    push_key(&v, "Statement");
    if (json_is_array(val) && json_array_size(val) == 0) {
        rc = fail(&v, "Statement must not be an empty list");
        goto cleanup;
    }
    if (!json_is_array(val) && !json_is_object(val)) {
        rc = fail(&v, "Statement must be an object or a list of objects");
        goto cleanup;
    }
    doc->nst = json_is_array(val) ? json_array_size(val) : 1;
    doc->st = calloc(doc->nst, sizeof(*doc->st));
    if (doc->st == NULL) {
        rc = TC_ERR_NOMEM;
        goto cleanup;
    }
    for (i = 0; i < doc->nst; i++) {
        const json_t *sj = json_is_array(val) ? json_array_get(val, i) : val;

        if (json_is_array(val)) {
            push_index(&v, i);
        }
        rc = parse_statement(&v, sj, &doc->st[i]);
        if (rc != TC_OK) {
            goto cleanup;
        }
        if (json_is_array(val)) {
            pop(&v);
        }
    }

    *out = doc;
    doc = NULL;
    rc = TC_OK;

cleanup:
    tc_policy_doc_free(doc);
    return rc;
}

int
tc_policy_validate(const char *text, size_t len, struct tc_detail *d)
{
    struct tc_policy_doc *doc = NULL;
    int rc = tc_policy_doc_parse(text, len, &doc, d);

    tc_policy_doc_free(doc);
    return rc;
}

const char *
tc_policy_action_name(enum tc_policy_action a)
{
    static const char *const names[TC_POLICY_ACTION_COUNT] = {
        "iot:Connect", "iot:Publish", "iot:Subscribe", "iot:Receive",
        "iot:RetainPublish",
    };

    return (unsigned)a < TC_POLICY_ACTION_COUNT ? names[a] : "?";
}

int
tc_policy_action_parse(const char *name, enum tc_policy_action *a)
{
    int i;

    if (name == NULL) {
        return TC_ERR_POLICY_ACTION;
    }
    for (i = 0; i < TC_POLICY_ACTION_COUNT; i++) {
        if (strcasecmp(name, action_names[i]) == 0 ||
            strcasecmp(name, action_names[i] + 4) == 0) {
            *a = (enum tc_policy_action)i;
            return TC_OK;
        }
    }
    return TC_ERR_POLICY_ACTION;
}
