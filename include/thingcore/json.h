/* SPDX-License-Identifier: Apache-2.0 */
/*
 * JSON through jansson, with the limits untrusted input needs: a maximum
 * size and a maximum nesting depth checked before jansson sees the text,
 * and errors that carry the line, column and byte offset.
 *
 * Limitations: the depth pre-scan costs one extra pass over the text.
 */
#ifndef THINGCORE_JSON_H
#define THINGCORE_JSON_H

#include <stddef.h>

#include <jansson.h>

#include "thingcore/err.h"

/*
 * Parse text (n bytes, borrowed). Returns a new reference the caller frees
 * with json_decref, or NULL with *err set to TC_ERR_TOO_BIG,
 * TC_ERR_JSON_DEPTH or TC_ERR_PARSE and d filled.
 */
json_t *tc_json_parse(const char *text, size_t n, size_t max_size,
                      int max_depth, int *err, struct tc_detail *d);

/* Field accessors that return NULL when the key is absent or mistyped. */
const char *tc_json_str(const json_t *obj, const char *key);

#endif
