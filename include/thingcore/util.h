/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Small building blocks every module uses: hexadecimal, base64 and
 * base64url, a growable byte buffer with a hard maximum, whole-file reads
 * and atomic whole-file writes.
 *
 * Limitations: the decoders take the whole input at once (no streaming).
 */
#ifndef THINGCORE_UTIL_H
#define THINGCORE_UTIL_H

#include <stddef.h>
#include <stdint.h>

#include "thingcore/err.h"

/* Write 2*n hex digits and a NUL to out (borrowed, 2*n+1 bytes). */
void tc_hex_encode(const uint8_t *in, size_t n, char *out, int upper);

/*
 * Decode n hex digits (either case) into out (cap bytes). Odd length or a
 * non-hex character gives TC_ERR_BAD_HEX with the offset in d; more bytes
 * than cap gives TC_ERR_TOO_BIG. *outlen receives the byte count.
 */
int tc_hex_decode(const char *in, size_t n, uint8_t *out, size_t cap,
                  size_t *outlen, struct tc_detail *d);

/* Characters tc_base64_encode writes for n bytes (without the NUL). */
size_t tc_base64_len(size_t n, int url);

/*
 * Encode n bytes. url != 0 selects base64url without padding (RFC 4648
 * section 5, as JWS uses it); url == 0 the standard alphabet with padding.
 * out (borrowed) must hold tc_base64_len(n, url) + 1 bytes.
 */
void tc_base64_encode(const uint8_t *in, size_t n, char *out, int url);

/*
 * Decode strictly: standard input must be padded to a multiple of 4, url
 * input must not be padded; whitespace, a wrong alphabet, or non-zero
 * trailing bits are TC_ERR_BAD_BASE64 with the offset in d.
 */
int tc_base64_decode(const char *in, size_t n, uint8_t *out, size_t cap,
                     size_t *outlen, int url, struct tc_detail *d);

/* Upper bound on the bytes tc_base64_decode writes for n characters. */
size_t tc_base64_decoded_max(size_t n);

/*
 * A growable buffer that refuses to grow past max (TC_ERR_TOO_BIG), so input
 * from a socket or file can never exhaust memory. data is always
 * NUL-terminated after len bytes for convenience when it holds text.
 */
struct tc_buf {
    uint8_t *data;
    size_t len;
    size_t cap;
    size_t max;
};

void tc_buf_init(struct tc_buf *b, size_t max);
/* Free the storage; wipes it first when wipe != 0 (keys, secrets). */
void tc_buf_clear(struct tc_buf *b, int wipe);
int tc_buf_reserve(struct tc_buf *b, size_t extra);
int tc_buf_append(struct tc_buf *b, const void *p, size_t n);
int tc_buf_append_str(struct tc_buf *b, const char *s);
int tc_buf_printf(struct tc_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Drop the first n bytes (a consumed line, a sent packet). */
void tc_buf_consume(struct tc_buf *b, size_t n);

/*
 * Read a whole file into b (whose max bounds the size). Missing file is
 * TC_ERR_NOT_FOUND; d names the path.
 */
int tc_file_read(const char *path, struct tc_buf *b, struct tc_detail *d);

/*
 * Replace path atomically with n bytes: write a temporary file beside it
 * with the given mode, fsync it, rename it over path, fsync the folder.
 * A crash leaves either the old or the new content, never a mix.
 */
int tc_file_write_atomic(const char *path, const void *p, size_t n,
                         unsigned mode, struct tc_detail *d);

/* mkdir -p with the given mode for folders it creates. */
int tc_mkdir_p(const char *path, unsigned mode, struct tc_detail *d);

/*
 * Fill d with what ("cannot parse X") and OpenSSL's newest queued reason,
 * empty the queue, and return err. field may be NULL.
 */
int tc_detail_ossl(struct tc_detail *d, int err, const char *field,
                   const char *what);

/* Wall-clock seconds and monotonic seconds as doubles. */
double tc_now(void);
double tc_monotonic(void);

#endif
