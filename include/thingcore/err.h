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
    X(TC_ERR_CERT_FORMAT, 200,                                                \
      "certificate: unknown compressed certificate format")                   \
    X(TC_ERR_CERT_DATE, 201, "certificate: date invalid or out of range")     \
    X(TC_ERR_CERT_TEMPLATE_ID, 202,                                           \
      "certificate: compressed certificate is for another template")          \
    X(TC_ERR_CERT_OTP_CODE, 203,                                              \
      "certificate: unknown OTP code, no certificate template")               \
    X(TC_ERR_CERT_MISMATCH, 204,                                              \
      "certificate: DER does not match its template")                         \
    X(TC_ERR_CERT_SIGNATURE, 205,                                             \
      "certificate: malformed signature encoding")                            \
    X(TC_ERR_CERT_CHAIN, 206, "certificate: chain does not verify")           \
    X(TC_ERR_CERT_ANCHOR, 207, "certificate: not a usable trust anchor")      \
    X(TC_ERR_CERT_KEY, 208, "certificate: invalid or mismatched P-256 key")   \
    X(TC_ERR_CERT_FIELD, 209, "certificate: field value does not fit")        \
    /* manifests: 300-399 */                                                  \
    X(TC_ERR_MANIFEST_NOT_ARRAY, 300, "manifest: file is not a JSON array")   \
    X(TC_ERR_MANIFEST_TRUNCATED, 301, "manifest: file ends inside the array") \
    X(TC_ERR_MANIFEST_EMPTY, 302, "manifest: file holds no entries")          \
    X(TC_ERR_MANIFEST_NOT_OBJECT, 303,                                        \
      "manifest: entry is not a JSON object")                                 \
    X(TC_ERR_MANIFEST_SHAPE, 304, "manifest: entry has the wrong fields")     \
    X(TC_ERR_MANIFEST_ALG, 305,                                               \
      "manifest: protected header alg is not ES256")                          \
    X(TC_ERR_MANIFEST_UNKNOWN_SIGNER, 306,                                    \
      "manifest: kid/x5t#S256 match no signer")                               \
    X(TC_ERR_MANIFEST_SIGNATURE, 307, "manifest: signature does not verify")  \
    X(TC_ERR_MANIFEST_SIGNER_VALIDITY, 308,                                   \
      "manifest: signer certificate not valid")                               \
    X(TC_ERR_MANIFEST_UNIQUEID, 309,                                          \
      "manifest: header and payload uniqueId differ")                         \
    X(TC_ERR_MANIFEST_VERSION, 310, "manifest: unsupported entry version")    \
    X(TC_ERR_MANIFEST_CHAIN, 311,                                             \
      "manifest: x5c does not chain to a trust anchor")                       \
    X(TC_ERR_MANIFEST_SERIAL, 312,                                            \
      "manifest: device certificate is not uniqueId's")                       \
    X(TC_ERR_MANIFEST_KEY, 313,                                               \
      "manifest: kid 0 key is not the certificate's key")                     \
    X(TC_ERR_MANIFEST_DATES, 314,                                             \
      "manifest: certificate outside its validity")                           \
    X(TC_ERR_MANIFEST_SIGNER_KEY, 315,                                        \
      "manifest: signer key does not match its certificate")                  \
    X(TC_ERR_MANIFEST_NO_SIGNER, 316,                                         \
      "manifest: no manifest signer configured")                              \
    X(TC_ERR_MANIFEST_CERT, 317,                                              \
      "manifest: certificate unusable in a manifest")                         \
    X(TC_ERR_MANIFEST_DUPLICATE, 318,                                         \
      "manifest: uniqueId already in an earlier entry")                       \
    /* registry: 400-499 */                                                   \
    X(TC_ERR_REG_NOT_FOUND, 400, "registry: resource not found")              \
    X(TC_ERR_REG_ALREADY_EXISTS, 401, "registry: resource already exists")    \
    X(TC_ERR_REG_DELETE_CONFLICT, 402, "registry: resource still in use")     \
    X(TC_ERR_REG_CERT_STATE, 403,                                             \
      "registry: certificate state forbids this")                             \
    X(TC_ERR_REG_CERT_VALIDATION, 404, "registry: certificate is invalid")    \
    X(TC_ERR_REG_VERSIONS_LIMIT, 405,                                         \
      "registry: policy has too many versions")                               \
    X(TC_ERR_REG_CODE_VALIDATION, 406,                                        \
      "registry: registration code does not match")                           \
    X(TC_ERR_REG_MALFORMED_POLICY, 407, "registry: policy is malformed")      \
    X(TC_ERR_REG_INVALID_REQUEST, 408, "registry: invalid request")           \
    X(TC_ERR_REG_VERSION_CONFLICT, 409, "registry: version conflict")         \
    X(TC_ERR_REG_CONFLICTING_UPDATE, 410,                                     \
      "registry: conflicting concurrent update")                              \
    X(TC_ERR_REG_LIMIT_EXCEEDED, 411, "registry: limit exceeded")             \
    X(TC_ERR_REG_DB, 412, "registry: database error")                         \
    X(TC_ERR_REG_SCHEMA, 413, "registry: database schema is newer")           \
    /* control-plane API: 500-599 */                                          \
    X(TC_ERR_API_UNSIGNED, 500, "api: request is not signed")                 \
    X(TC_ERR_API_AUTH_HEADER, 501, "api: malformed Authorization header")     \
    X(TC_ERR_API_UNKNOWN_KEY, 502, "api: unknown access key id")              \
    X(TC_ERR_API_SIGNATURE, 503, "api: signature does not match")             \
    X(TC_ERR_API_CLOCK_SKEW, 504, "api: request time outside allowed skew")   \
    X(TC_ERR_API_SCOPE, 505, "api: credential scope does not match")          \
    X(TC_ERR_API_PAYLOAD_HASH, 506, "api: payload hash does not match body")  \
    X(TC_ERR_API_NO_ROUTE, 507, "api: no such operation")                     \
    X(TC_ERR_API_BAD_REQUEST, 508, "api: invalid request")                    \
    X(TC_ERR_API_BODY_TOO_BIG, 509, "api: request body too large")            \
    X(TC_ERR_API_HTTP, 510, "api: malformed HTTP message")                    \
    X(TC_ERR_API_REMOTE, 511, "api: the server answered with an error")       \
    X(TC_ERR_API_CONNECT, 512, "api: cannot connect to the server")           \
    X(TC_ERR_API_TLS, 513, "api: TLS handshake or verification failed")       \
    X(TC_ERR_API_DATADIR, 514, "api: data directory missing or incomplete")   \
    X(TC_ERR_API_CONFIG, 515, "api: invalid configuration value")             \
    X(TC_ERR_API_PKI, 516, "api: key or certificate generation failed")       \
    X(TC_ERR_API_SERVER, 517, "api: cannot start the HTTP server")            \
    /* policy engine: 600-699 */                                              \
    X(TC_ERR_POLICY_MALFORMED, 600, "policy: malformed policy document")      \
    X(TC_ERR_POLICY_TOO_BIG, 601, "policy: document exceeds the size limit")  \
    X(TC_ERR_POLICY_TOO_MANY, 602, "policy: too many policies to compile")    \
    X(TC_ERR_POLICY_CONTEXT, 603, "policy: invalid connection context")       \
    X(TC_ERR_POLICY_ACTION, 604, "policy: unknown action name")               \
    /* broker plugin: 700-799 */                                              \
    X(TC_ERR_BROKER_SPAWN, 700, "broker: cannot start mosquitto")             \
    X(TC_ERR_BROKER_CONFIG, 701, "broker: invalid broker configuration")      \
    X(TC_ERR_BROKER_TRUST, 702, "broker: cannot update the CA directory")     \
    X(TC_ERR_BROKER_TEMPLATE, 703,                                            \
      "broker: malformed provisioning template")                              \
    X(TC_ERR_BROKER_TEMPLATE_PARAM, 704,                                      \
      "broker: provisioning template parameter has no value")                 \
    /* provisioning and device: 800-899 */                                    \
    X(TC_ERR_IMPORT_INTERRUPTED, 850, "import: interrupted before the end")   \
    X(TC_ERR_IMPORT_ANSWER, 851,                                              \
      "import: the core's answer does not match the batch")

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
