// SPDX-License-Identifier: Apache-2.0
/*
 * Differential fuzz target for the matcher. The input picks a resource
 * pattern, a topic and a statement shape; the engine's answer (compiled,
 * with its ARN prefix consumed ahead of time and its fast paths) must equal
 * a plain dynamic-programming match of the whole ARN against the whole
 * pattern, written here independently. Aborts on any disagreement.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "thingcore/policy.h"

#define MAXP 256
#define MAXT 256
#define STAR 256
#define ONE 257

/* Resource prefixes; several put wildcards where the ARN prefix is. */
static const char *const heads[] = {
    "arn:aws:iot:r1:a1:topic/", "arn:aws:iot:*:a1:topic/",
    "arn:aws:iot:r?:*:topic/",  "arn:aws:iot:r1:a1:*",
    "arn:*:*:*:*:",             "arn:aws:iot:r1:a1:topicfilter/",
    "arn:aws:iot:r1:a1:top*",   "arn:aws:iot:r1:a2:topic/",
};

/* Alphabets that make matches likely; "\xc3\xa9" is one character. */
static const char *const pat_chars[] = {
    "a", "b", "/", "*", "?", "+", "#", "$", "(", ")", "{", "}", "\xc3\xa9",
    ":",
};
static const char *const topic_chars[] = {
    "a", "b", "/", "+", "#", "$", "*", "?", "\xc3\xa9", ":",
};

/* Expand the template as AWS IoT does; 0 when a variable is unresolvable
 * (no variable is resolvable from this alphabet). */
static int
expand(const char *s, size_t n, uint16_t *out, size_t *m)
{
    size_t i = 0;

    *m = 0;
    while (i < n) {
        if (s[i] == '$' && i + 3 < n && (s[i + 1] == '(' || s[i + 1] == '{') &&
            (s[i + 2] == '*' || s[i + 2] == '?' || s[i + 2] == '$') &&
            s[i + 3] == (s[i + 1] == '(' ? ')' : '}')) {
            out[(*m)++] = (unsigned char)s[i + 2];
            i += 4;
            continue;
        }
        if (s[i] == '$' && i + 1 < n && s[i + 1] == '{' &&
            memchr(s + i + 2, '}', n - i - 2) != NULL) {
            return 0;
        }
        out[(*m)++] = s[i] == '*'   ? STAR
                      : s[i] == '?' ? ONE
                                    : (unsigned char)s[i];
        i++;
    }
    return 1;
}

static size_t
next_char(const uint8_t *t, size_t n, size_t j)
{
    j++;
    while (j < n && (t[j] & 0xC0) == 0x80) {
        j++;
    }
    return j;
}

/* ok[i][j]: p[i..] matches t[j..]. */
static int
dp_match(const uint16_t *p, size_t m, const uint8_t *t, size_t n)
{
    static uint8_t ok[MAXP + 64][MAXT + 64];
    size_t i;
    size_t j;

    for (i = m + 1; i-- > 0;) {
        for (j = n + 1; j-- > 0;) {
            int r;

            if (i == m) {
                r = j == n;
            } else if (p[i] == STAR) {
                r = ok[i + 1][j] || (j < n && ok[i][j + 1]);
            } else if (p[i] == ONE) {
                r = j < n && ok[i + 1][next_char(t, n, j)];
            } else {
                r = j < n && t[j] == p[i] && ok[i + 1][j + 1];
            }
            ok[i][j] = (uint8_t)r;
        }
    }
    return ok[0][0];
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char pat[MAXP];
    char res[MAXP + 40];
    uint8_t topic[MAXT];
    uint8_t full[MAXT + 40];
    uint16_t exp[MAXP + 40];
    size_t pn = 0;
    size_t tn = 0;
    size_t en = 0;
    size_t i;
    const char *head;
    int not_resource;
    int deny;
    int want;
    int got;
    json_t *doc;
    char *text;
    struct tc_policy_ctx ctx;
    struct tc_policy_set *set = NULL;
    struct tc_detail d;
    size_t len;

    if (size < 1 || size > 120) {
        return 0;
    }
    head = heads[data[0] & 7];
    not_resource = (data[0] >> 3) & 1;
    deny = (data[0] >> 4) & 1;

    /* Bytes up to the first 0xFF form the pattern, the rest the topic. */
    for (i = 1; i < size && data[i] != 0xFF; i++) {
        const char *c = pat_chars[data[i] % 14];

        memcpy(pat + pn, c, strlen(c));
        pn += strlen(c);
    }
    for (i++; i < size; i++) {
        const char *c = topic_chars[data[i] % 10];

        memcpy(topic + tn, c, strlen(c));
        tn += strlen(c);
    }
    snprintf(res, sizeof(res), "%s%.*s", head, (int)pn, pat);

    /* The reference answer over the whole ARN. */
    memcpy(full, "arn:aws:iot:r1:a1:topic/", 24);
    memcpy(full + 24, topic, tn);
    want = expand(res, strlen(res), exp, &en) &&
           (dp_match(exp, en, full, 24 + tn) != not_resource);
    want = deny ? 0 : want;

    doc = json_pack("{s:s,s:[{s:s,s:s,s:s}]}", "Version", "2012-10-17",
                    "Statement", "Effect", deny ? "Deny" : "Allow", "Action",
                    "iot:Publish", not_resource ? "NotResource" : "Resource",
                    res);
    if (doc == NULL) {
        return 0; /* not valid UTF-8 cannot happen; be safe */
    }
    text = json_dumps(doc, 0);
    json_decref(doc);
    if (text == NULL) {
        abort();
    }
    memset(&ctx, 0, sizeof(ctx));
    ctx.region = "r1";
    ctx.account = "a1";
    ctx.client_id = "c";
    len = strlen(text);
    if (tc_policy_compile((const char *const *)&text, &len, 1, &ctx, &set,
                          &d) != TC_OK) {
        /* Every resource built here is an ARN: none may be refused. */
        fprintf(stderr, "refused \"%s\": %s\n", res, d.text);
        abort();
    }
    free(text);
    got = tc_policy_check(set, TC_POLICY_PUBLISH, (const char *)topic, tn,
                          NULL);
    tc_policy_set_free(set);
    if (got != want) {
        fprintf(stderr, "mismatch: resource \"%s\" topic \"%.*s\" got %d\n",
                res, (int)tn, (const char *)topic, got);
        abort();
    }
    return 0;
}
