// SPDX-License-Identifier: Apache-2.0
/*
 * What the verifier reads of an entry and of its payload, as flat views
 * (internal.h), filled two ways. The fast reader takes the text as it is
 * and handles the subset every real manifest uses; the moment it meets
 * anything outside that subset it gives up, and the entry goes through
 * jansson instead, whose tree fills the same views. So every input ends
 * with jansson's verdict, and the common one costs a single pass with no
 * allocation rather than two trees (which cost as much as one of the
 * entry's two signature checks).
 *
 * The subset (RFC 8259, narrowed): strings of printable ASCII with no
 * backslash; integers 0 or [1-9][0-9]{0,17}; true, false, null; objects
 * of at most 32 members, no key twice; arrays; nesting of at most
 * TC_MANIFEST_DEPTH_MAX; whitespace of space, tab, CR, LF. Outside it
 * (escapes, non-ASCII, fractions, exponents, minus signs, malformed text)
 * the reader returns 0 and decides nothing.
 */
#include <string.h>

#include "internal.h"

/* Members of one object remembered to refuse a key given twice. */
#define MEMBERS_MAX 32
/* Nesting the fast reader takes: short of the limit, so it never accepts
 * what the limit would refuse. */
#define FAST_DEPTH (TC_MANIFEST_DEPTH_MAX - 2)

struct js {
    const char *p;
    const char *end;
};

static void
ws(struct js *s)
{
    while (s->p < s->end && (*s->p == ' ' || *s->p == '\n' ||
                             *s->p == '\r' || *s->p == '\t')) {
        s->p++;
    }
}

/* A string without escapes: out spans its content. */
static int
str(struct js *s, struct tc_mf_sv *out)
{
    const char *q;

    if (s->p >= s->end || *s->p != '"') {
        return 0;
    }
    for (q = s->p + 1; q < s->end && *q != '"'; q++) {
        if (*q == '\\' || (unsigned char)*q < 0x20 ||
            (unsigned char)*q > 0x7e) {
            return 0;
        }
    }
    if (q >= s->end) {
        return 0;
    }
    out->type = TC_MF_STRING;
    out->p = s->p + 1;
    out->n = (size_t)(q - s->p - 1);
    s->p = q + 1;
    return 1;
}

/* A small non-negative integer, not followed by a fraction or exponent. */
static int
num(struct js *s, struct tc_mf_sv *out)
{
    const char *q = s->p;
    long long v = 0;

    if (q >= s->end || *q < '0' || *q > '9') {
        return 0;
    }
    if (*q == '0') {
        q++;
    } else {
        while (q < s->end && *q >= '0' && *q <= '9') {
            if (q - s->p >= 18) {
                return 0;
            }
            v = v * 10 + (*q++ - '0');
        }
    }
    if (q < s->end && (*q == '.' || *q == 'e' || *q == 'E' ||
                       (*q >= '0' && *q <= '9'))) {
        return 0;
    }
    out->type = TC_MF_INTEGER;
    out->p = s->p;
    out->n = (size_t)(q - s->p);
    out->i = v;
    s->p = q;
    return 1;
}

static int
lit(struct js *s, const char *word)
{
    size_t n = strlen(word);

    if ((size_t)(s->end - s->p) < n || memcmp(s->p, word, n) != 0) {
        return 0;
    }
    s->p += n;
    return 1;
}

/* Iteration over an object's members; keys kept to refuse repeats. */
struct obj {
    struct tc_mf_sv keys[MEMBERS_MAX];
    size_t n;
    int first;
};

static int
obj_open(struct js *s, struct obj *o)
{
    ws(s);
    if (s->p >= s->end || *s->p != '{') {
        return 0;
    }
    s->p++;
    o->n = 0;
    o->first = 1;
    return 1;
}

/*
 * The next member's key, leaving s at its value: 1 with *key set, 2 at
 * the closing brace, 0 to give up.
 */
static int
obj_next(struct js *s, struct obj *o, struct tc_mf_sv *key)
{
    size_t i;

    ws(s);
    if (s->p < s->end && *s->p == '}') {
        s->p++;
        return 2;
    }
    if (!o->first) {
        if (s->p >= s->end || *s->p != ',') {
            return 0;
        }
        s->p++;
        ws(s);
    }
    o->first = 0;
    if (!str(s, key) || o->n == MEMBERS_MAX) {
        return 0;
    }
    for (i = 0; i < o->n; i++) {
        if (o->keys[i].n == key->n &&
            memcmp(o->keys[i].p, key->p, key->n) == 0) {
            return 0;
        }
    }
    o->keys[o->n++] = *key;
    ws(s);
    if (s->p >= s->end || *s->p != ':') {
        return 0;
    }
    s->p++;
    ws(s);
    return 1;
}

static int
is_key(const struct tc_mf_sv *k, const char *name)
{
    return k->n == strlen(name) && memcmp(k->p, name, k->n) == 0;
}

/* Any value, checked and passed over; out says what it was. */
static int
value(struct js *s, int depth, struct tc_mf_sv *out)
{
    struct tc_mf_sv tmp;
    struct tc_mf_sv key;
    struct obj o;
    int first = 1;
    int rc;

    ws(s);
    memset(out, 0, sizeof(*out));
    if (s->p >= s->end) {
        return 0;
    }
    switch (*s->p) {
    case '"':
        return str(s, out);
    case '{':
        if (depth >= FAST_DEPTH || !obj_open(s, &o)) {
            return 0;
        }
        while ((rc = obj_next(s, &o, &key)) == 1) {
            if (!value(s, depth + 1, &tmp)) {
                return 0;
            }
        }
        out->type = TC_MF_OTHER;
        return rc == 2;
    case '[':
        if (depth >= FAST_DEPTH) {
            return 0;
        }
        s->p++;
        for (;;) {
            ws(s);
            if (s->p < s->end && *s->p == ']') {
                s->p++;
                out->type = TC_MF_OTHER;
                return 1;
            }
            if (!first) {
                if (s->p >= s->end || *s->p != ',') {
                    return 0;
                }
                s->p++;
            }
            first = 0;
            if (!value(s, depth + 1, &tmp)) {
                return 0;
            }
        }
    case 't':
        out->type = TC_MF_OTHER;
        return lit(s, "true");
    case 'f':
        out->type = TC_MF_OTHER;
        return lit(s, "false");
    case 'n':
        out->type = TC_MF_OTHER;
        return lit(s, "null");
    default:
        return num(s, out);
    }
}

/* Nothing but whitespace may follow the value. */
static int
at_end(struct js *s)
{
    ws(s);
    return s->p == s->end;
}

int
tc_mf_env_fast(const char *text, size_t n, struct tc_mf_env *e)
{
    struct js s = {text, text + n};
    struct js h;
    struct tc_mf_sv key;
    struct tc_mf_sv val;
    struct tc_mf_sv hkey;
    struct obj o;
    struct obj ho;
    int rc;

    memset(e, 0, sizeof(*e));
    if (!obj_open(&s, &o)) {
        return 0;
    }
    while ((rc = obj_next(&s, &o, &key)) == 1) {
        h = s;
        if (!value(&s, 1, &val)) {
            return 0;
        }
        if (is_key(&key, "protected")) {
            e->prot = val;
        } else if (is_key(&key, "payload")) {
            e->pay = val;
        } else if (is_key(&key, "signature")) {
            e->sig = val;
        } else if (is_key(&key, "header")) {
            /* Read the header object again for its uniqueId. */
            e->header_object = *h.p == '{';
            if (e->header_object && obj_open(&h, &ho)) {
                while ((rc = obj_next(&h, &ho, &hkey)) == 1) {
                    if (!value(&h, 2, &val)) {
                        return 0;
                    }
                    e->header_size++;
                    if (is_key(&hkey, "uniqueId")) {
                        e->uid = val;
                    }
                }
            }
        } else if (e->unknown.n == 0 && e->unknown.type == TC_MF_ABSENT) {
            e->unknown = key;
        }
    }
    return rc == 2 && at_end(&s);
}

/* One key of publicKeySet.keys. */
static int
key_fast(struct js *s, struct tc_mf_key *k)
{
    struct tc_mf_sv key;
    struct tc_mf_sv val;
    struct obj o;
    struct js a;
    int rc;
    int i;

    memset(k, 0, sizeof(*k));
    ws(s);
    if (s->p >= s->end || *s->p != '{') {
        return value(s, 4, &val);
    }
    k->is_object = 1;
    if (!obj_open(s, &o)) {
        return 0;
    }
    while ((rc = obj_next(s, &o, &key)) == 1) {
        a = *s;
        if (!value(s, 5, &val)) {
            return 0;
        }
        if (is_key(&key, "kid")) {
            k->kid = val;
        } else if (is_key(&key, "kty")) {
            k->kty = val;
        } else if (is_key(&key, "crv")) {
            k->crv = val;
        } else if (is_key(&key, "x")) {
            k->x = val;
        } else if (is_key(&key, "y")) {
            k->y = val;
        } else if (is_key(&key, "x5c")) {
            k->x5c_present = 1;

            /*
             * Exactly two strings, or not usable. value() above checked
             * the whole array, so this second look only reads.
             */
            k->x5c_ok = *a.p == '[';
            a.p++;
            for (i = 0; k->x5c_ok && i < 2; i++) {
                ws(&a);
                if (i == 1) {
                    k->x5c_ok = *a.p == ',';
                    a.p++;
                    ws(&a);
                }
                k->x5c_ok = k->x5c_ok && str(&a, &k->x5c[i]);
            }
            if (k->x5c_ok) {
                ws(&a);
                k->x5c_ok = *a.p == ']';
            }
        } else {
            k->unknown = 1;
        }
    }
    return rc == 2;
}

int
tc_mf_pay_fast(const char *text, size_t n, struct tc_mf_pay *pv)
{
    struct js s = {text, text + n};
    struct tc_mf_sv key;
    struct tc_mf_sv val;
    struct obj o;
    struct obj so;
    int first;
    int rc;

    memset(pv, 0, sizeof(*pv));
    ws(&s);
    if (s.p >= s.end || *s.p != '{') {
        return value(&s, 0, &val) && at_end(&s);
    }
    pv->is_object = 1;
    if (!obj_open(&s, &o)) {
        return 0;
    }
    while ((rc = obj_next(&s, &o, &key)) == 1) {
        if (!is_key(&key, "publicKeySet")) {
            if (!value(&s, 1, &val)) {
                return 0;
            }
            if (is_key(&key, "version")) {
                pv->version = val;
            } else if (is_key(&key, "model")) {
                pv->model = val;
            } else if (is_key(&key, "partNumber")) {
                pv->part = val;
            } else if (is_key(&key, "provisioningTimestamp")) {
                pv->ts = val;
            } else if (is_key(&key, "uniqueId")) {
                pv->uid = val;
            }
            continue;
        }

        /* publicKeySet: {"keys": [key, ...]} read into the view. */
        pv->set_present = 1;
        ws(&s);
        if (s.p >= s.end || *s.p != '{') {
            if (!value(&s, 1, &val)) {
                return 0;
            }
            continue;
        }
        if (!obj_open(&s, &so)) {
            return 0;
        }
        while ((rc = obj_next(&s, &so, &key)) == 1) {
            ws(&s);
            if (!is_key(&key, "keys") || s.p >= s.end || *s.p != '[') {
                if (!value(&s, 2, &val)) {
                    return 0;
                }
                continue;
            }
            s.p++;
            pv->keys_array = 1;
            for (first = 1;; first = 0) {
                ws(&s);
                if (s.p < s.end && *s.p == ']') {
                    s.p++;
                    break;
                }
                if (!first) {
                    if (s.p >= s.end || *s.p != ',') {
                        return 0;
                    }
                    s.p++;
                }
                if (pv->nkeys < TC_MF_KEYS_MAX) {
                    if (!key_fast(&s, &pv->keys[pv->nkeys])) {
                        return 0;
                    }
                } else if (!value(&s, 3, &val)) {
                    return 0;
                }
                pv->nkeys++;
            }
        }
        if (rc != 2) {
            return 0;
        }
    }
    return rc == 2 && at_end(&s);
}

/* A jansson value as a view: strings and integers kept, others typed. */
static void
sv_of(const json_t *j, struct tc_mf_sv *out)
{
    memset(out, 0, sizeof(*out));
    if (j == NULL) {
        return;
    }
    if (json_is_string(j)) {
        out->type = TC_MF_STRING;
        out->p = json_string_value(j);
        out->n = json_string_length(j);
    } else if (json_is_integer(j)) {
        out->type = TC_MF_INTEGER;
        out->i = json_integer_value(j);
    } else {
        out->type = TC_MF_OTHER;
    }
}

void
tc_mf_env_json(const json_t *entry, struct tc_mf_env *e)
{
    const json_t *header = json_object_get(entry, "header");
    const char *key;
    json_t *val;

    memset(e, 0, sizeof(*e));
    json_object_foreach((json_t *)entry, key, val) {
        if (strcmp(key, "header") != 0 && strcmp(key, "protected") != 0 &&
            strcmp(key, "payload") != 0 && strcmp(key, "signature") != 0) {
            e->unknown.type = TC_MF_STRING;
            e->unknown.p = key;
            e->unknown.n = strlen(key);
            break;
        }
    }
    e->header_object = json_is_object(header);
    if (e->header_object) {
        e->header_size = json_object_size(header);
        sv_of(json_object_get(header, "uniqueId"), &e->uid);
    }
    sv_of(json_object_get(entry, "protected"), &e->prot);
    sv_of(json_object_get(entry, "payload"), &e->pay);
    sv_of(json_object_get(entry, "signature"), &e->sig);
}

void
tc_mf_pay_json(const json_t *pay, struct tc_mf_pay *pv)
{
    static const char *const names[] = {"kid", "kty", "crv", "x", "y",
                                        "x5c", NULL};
    const json_t *set;
    const json_t *keys;
    const json_t *x5c;
    const char *name;
    json_t *val;
    size_t i;
    size_t j;

    memset(pv, 0, sizeof(*pv));
    pv->is_object = json_is_object(pay);
    if (!pv->is_object) {
        return;
    }
    sv_of(json_object_get(pay, "version"), &pv->version);
    sv_of(json_object_get(pay, "model"), &pv->model);
    sv_of(json_object_get(pay, "partNumber"), &pv->part);
    sv_of(json_object_get(pay, "provisioningTimestamp"), &pv->ts);
    sv_of(json_object_get(pay, "uniqueId"), &pv->uid);
    set = json_object_get(pay, "publicKeySet");
    pv->set_present = set != NULL;
    keys = json_is_object(set) ? json_object_get(set, "keys") : NULL;
    pv->keys_array = json_is_array(keys);
    pv->nkeys = pv->keys_array ? json_array_size(keys) : 0;
    for (i = 0; i < pv->nkeys && i < TC_MF_KEYS_MAX; i++) {
        const json_t *k = json_array_get(keys, i);
        struct tc_mf_key *kv = &pv->keys[i];

        kv->is_object = json_is_object(k);
        if (!kv->is_object) {
            continue;
        }
        json_object_foreach((json_t *)k, name, val) {
            for (j = 0; names[j] != NULL && strcmp(name, names[j]) != 0;
                 j++) {
            }
            kv->unknown |= names[j] == NULL;
        }
        sv_of(json_object_get(k, "kid"), &kv->kid);
        sv_of(json_object_get(k, "kty"), &kv->kty);
        sv_of(json_object_get(k, "crv"), &kv->crv);
        sv_of(json_object_get(k, "x"), &kv->x);
        sv_of(json_object_get(k, "y"), &kv->y);
        x5c = json_object_get(k, "x5c");
        kv->x5c_present = x5c != NULL;
        kv->x5c_ok = json_is_array(x5c) && json_array_size(x5c) == 2 &&
                     json_is_string(json_array_get(x5c, 0)) &&
                     json_is_string(json_array_get(x5c, 1));
        if (kv->x5c_ok) {
            sv_of(json_array_get(x5c, 0), &kv->x5c[0]);
            sv_of(json_array_get(x5c, 1), &kv->x5c[1]);
        }
    }
}
