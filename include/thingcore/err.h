/* SPDX-License-Identifier: Apache-2.0 */
/*
 * One error enum for the whole library, with a fixed text for every code.
 * Codes are grouped per module in ranges of 100; a module adds its codes in
 * its own section of TC_ERR_LIST. Where a person needs more than the code,
 * functions fill an optional struct tc_detail (field, offset, short text).
 *
 * Limitations: texts are English only.
 */
#ifndef THINGCORE_ERR_H
#define THINGCORE_ERR_H

#include <stddef.h>

/* X(name, value, text): the single list the enum and tc_strerror use. */
#define TC_ERR_LIST(X)                                                        \
    X(TC_OK, 0, "success")                                                    \
    /* general: 1-99 */                                                       \
    X(TC_ERR_NOMEM, 1, "out of memory")                                       \
    X(TC_ERR_ARG, 2, "invalid argument")                                      \
    X(TC_ERR_IO, 3, "input/output error")                                     \
    X(TC_ERR_TOO_BIG, 4, "input exceeds its size limit")                      \
    X(TC_ERR_PARSE, 5, "malformed input")                                     \
    X(TC_ERR_INTERNAL, 6, "internal error")                                   \
    X(TC_ERR_NOT_FOUND, 7, "not found")                                       \
    X(TC_ERR_EXISTS, 8, "already exists")                                     \
    X(TC_ERR_CRYPTO, 9, "cryptographic operation failed")                     \
    X(TC_ERR_TIMEOUT, 10, "timed out")                                        \
    X(TC_ERR_UNSUPPORTED, 11, "not supported")                                \
    X(TC_ERR_PERM, 12, "permission denied")                                   \
    X(TC_ERR_CLOSED, 13, "peer closed the connection")                        \
    X(TC_ERR_BAD_HEX, 14, "invalid hexadecimal text")                         \
    X(TC_ERR_BAD_BASE64, 15, "invalid base64 text")                           \
    X(TC_ERR_JSON_DEPTH, 16, "JSON nested too deeply")                        \
    /* secure element protocol and client: 100-199 */                        \
    X(TC_ERR_ATCA_MISCOMPARE, 100, "chip: verify or compare failed")          \
    X(TC_ERR_ATCA_PARSE, 101, "chip: command parse error")                    \
    X(TC_ERR_ATCA_ECC_FAULT, 102, "chip: ECC fault")                          \
    X(TC_ERR_ATCA_SELFTEST, 103, "chip: self-test error")                     \
    X(TC_ERR_ATCA_HEALTH, 104, "chip: health test error")                     \
    X(TC_ERR_ATCA_EXECUTION, 105, "chip: execution error")                    \
    X(TC_ERR_ATCA_AFTER_WAKE, 106, "chip: status after wake")                 \
    X(TC_ERR_ATCA_WATCHDOG, 107, "chip: watchdog about to expire")            \
    X(TC_ERR_ATCA_COMM, 108, "chip: CRC or communication error")             \
    X(TC_ERR_ATCA_BAD_CRC, 109, "chip: response CRC mismatch")                \
    X(TC_ERR_ATCA_BAD_RESPONSE, 110, "chip: malformed response")              \
    X(TC_ERR_ATCA_NO_DEVICE, 111, "chip: no device answers")                  \
    X(TC_ERR_ATCA_TRANSPORT, 112, "chip: bad transport string")               \
    X(TC_ERR_ATCA_UNKNOWN_STATUS, 113, "chip: unknown status byte")           \
    X(TC_ERR_ATCA_NOT_LOCKED, 114, "chip: zone not locked")                   \
    X(TC_ERR_ATCA_BAD_IMAGE, 115, "chip: corrupt chip image file")            \
    X(TC_ERR_ATCA_KIT, 116, "chip: kit protocol error")                       \
    /* certificates, compressed certificates, chains: 200-299 */             \
    /* manifests: 300-399 */                                                  \
    /* registry: 400-499 */                                                   \
    /* control-plane API: 500-599 */                                          \
    /* policy engine: 600-699 */                                              \
    /* broker plugin: 700-799 */                                              \
    /* provisioning and device: 800-899 */

enum tc_err {
#define TC_ERR_ENUM_(name, value, text) name = value,
    TC_ERR_LIST(TC_ERR_ENUM_)
#undef TC_ERR_ENUM_
};

/* The fixed text of a code; "unknown error" for a value not in the list. */
const char *tc_strerror(int err);

/* The symbolic name of a code ("TC_ERR_PARSE"), or "TC_ERR_UNKNOWN". */
const char *tc_errname(int err);

/*
 * Optional detail a caller can ask for. Every function that takes a
 * struct tc_detail * accepts NULL. field names the JSON key, slot, zone
 * or argument; offset is a byte offset into the input, or -1.
 */
struct tc_detail {
    long offset;
    char field[64];
    char text[256];
};

/* Clear d (NULL accepted). */
void tc_detail_clear(struct tc_detail *d);

/*
 * Fill d (NULL accepted) and return err, so callers can write
 * `return tc_detail_set(d, TC_ERR_PARSE, -1, "kid", "not a string");`.
 * field may be NULL.
 */
int tc_detail_set(struct tc_detail *d, int err, long offset, const char *field,
                  const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

#endif
