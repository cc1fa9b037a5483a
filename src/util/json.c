// SPDX-License-Identifier: Apache-2.0
/*
 * jansson with limits. The size and depth are checked by a pre-scan so a
 * hostile document never reaches the recursive parser.
 */
#include <string.h>

#include "thingcore/json.h"

/*
 * Depth of [ and { outside strings. Strings are skipped with their escapes;
 * the scan does not validate anything else (jansson does).
 */
static int
max_depth_of(const char *s, size_t n, int limit, size_t *where)
{
    int depth = 0;
    int in_string = 0;
    size_t i;

    for (i = 0; i < n; i++) {
        char c = s[i];

        if (in_string) {
            if (c == '\\') {
                i++;
            } else if (c == '"') {
                in_string = 0;
            }
            continue;
        }
        if (c == '"') {
            in_string = 1;
        } else if (c == '[' || c == '{') {
            if (++depth > limit) {
                *where = i;
                return depth;
            }
        } else if (c == ']' || c == '}') {
            depth--;
        }
    }
    return 0;
}

json_t *
tc_json_parse(const char *text, size_t n, size_t max_size, int max_depth,
              int *err, struct tc_detail *d)
{
    json_error_t je;
    json_t *j;
    size_t where = 0;

    if (n > max_size) {
        *err = tc_detail_set(d, TC_ERR_TOO_BIG, (long)max_size, NULL,
                             "JSON text of %zu bytes exceeds the %zu-byte limit",
                             n, max_size);
        return NULL;
    }
    if (max_depth_of(text, n, max_depth, &where) > max_depth) {
        *err = tc_detail_set(d, TC_ERR_JSON_DEPTH, (long)where, NULL,
                             "nesting deeper than %d at byte %zu", max_depth,
                             where);
        return NULL;
    }
    j = json_loadb(text, n, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &je);
    if (j == NULL) {
        *err = tc_detail_set(d, TC_ERR_PARSE, (long)je.position, NULL,
                             "line %d column %d: %s", je.line, je.column,
                             je.text);
        return NULL;
    }
    *err = TC_OK;
    return j;
}

const char *
tc_json_str(const json_t *obj, const char *key)
{
    const json_t *v = json_object_get(obj, key);

    return json_is_string(v) ? json_string_value(v) : NULL;
}
