// SPDX-License-Identifier: Apache-2.0
/*
 * Hexadecimal and base64 (RFC 4648 sections 4 and 5). The decoders are
 * strict: one canonical text per byte string, so a signed value cannot be
 * re-spelled without changing its bytes.
 */
#include <string.h>

#include "thingcore/util.h"

static const char hex_lower[] = "0123456789abcdef";
static const char hex_upper[] = "0123456789ABCDEF";
static const char b64_std[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const char b64_url[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

void
tc_hex_encode(const uint8_t *in, size_t n, char *out, int upper)
{
    const char *digits = upper ? hex_upper : hex_lower;
    size_t i;

    for (i = 0; i < n; i++) {
        out[2 * i] = digits[in[i] >> 4];
        out[2 * i + 1] = digits[in[i] & 0x0f];
    }
    out[2 * n] = '\0';
}

static int
hex_value(char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

int
tc_hex_decode(const char *in, size_t n, uint8_t *out, size_t cap,
              size_t *outlen, struct tc_detail *d)
{
    size_t i;

    if (n % 2 != 0) {
        return tc_detail_set(d, TC_ERR_BAD_HEX, (long)n, NULL,
                             "odd number of hex digits (%zu)", n);
    }
    if (n / 2 > cap) {
        return tc_detail_set(d, TC_ERR_TOO_BIG, 0, NULL,
                             "%zu bytes of hex, room for %zu", n / 2, cap);
    }
    for (i = 0; i < n; i += 2) {
        int hi = hex_value(in[i]);
        int lo = hex_value(in[i + 1]);

        if (hi < 0 || lo < 0) {
            return tc_detail_set(d, TC_ERR_BAD_HEX, (long)(hi < 0 ? i : i + 1),
                                 NULL, "not a hex digit at offset %zu",
                                 hi < 0 ? i : i + 1);
        }
        out[i / 2] = (uint8_t)(hi << 4 | lo);
    }
    if (outlen != NULL) {
        *outlen = n / 2;
    }
    return TC_OK;
}

size_t
tc_base64_len(size_t n, int url)
{
    if (url) {
        return n / 3 * 4 + (n % 3 == 0 ? 0 : n % 3 + 1);
    }
    return (n + 2) / 3 * 4;
}

size_t
tc_base64_decoded_max(size_t n)
{
    return n / 4 * 3 + 3;
}

void
tc_base64_encode(const uint8_t *in, size_t n, char *out, int url)
{
    const char *a = url ? b64_url : b64_std;
    size_t i;
    size_t o = 0;

    for (i = 0; i + 3 <= n; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];

        out[o++] = a[v >> 18];
        out[o++] = a[(v >> 12) & 63];
        out[o++] = a[(v >> 6) & 63];
        out[o++] = a[v & 63];
    }

    /* The last one or two bytes, padded only in the standard alphabet. */
    if (n - i == 1) {
        uint32_t v = (uint32_t)in[i] << 16;

        out[o++] = a[v >> 18];
        out[o++] = a[(v >> 12) & 63];
        if (!url) {
            out[o++] = '=';
            out[o++] = '=';
        }
    } else if (n - i == 2) {
        uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8;

        out[o++] = a[v >> 18];
        out[o++] = a[(v >> 12) & 63];
        out[o++] = a[(v >> 6) & 63];
        if (!url) {
            out[o++] = '=';
        }
    }
    out[o] = '\0';
}

static int
b64_value(char c, int url)
{
    if (c >= 'A' && c <= 'Z') {
        return c - 'A';
    }
    if (c >= 'a' && c <= 'z') {
        return c - 'a' + 26;
    }
    if (c >= '0' && c <= '9') {
        return c - '0' + 52;
    }
    if (c == (url ? '-' : '+')) {
        return 62;
    }
    if (c == (url ? '_' : '/')) {
        return 63;
    }
    return -1;
}

int
tc_base64_decode(const char *in, size_t n, uint8_t *out, size_t cap,
                 size_t *outlen, int url, struct tc_detail *d)
{
    size_t chars = n;
    size_t o = 0;
    size_t i;
    uint32_t acc = 0;
    int bits = 0;

    /* Standard text is whole quanta with at most two '=' at the end. */
    if (!url) {
        if (n % 4 != 0) {
            return tc_detail_set(d, TC_ERR_BAD_BASE64, (long)n, NULL,
                                 "length %zu is not a multiple of 4", n);
        }
        if (chars > 0 && in[chars - 1] == '=') {
            chars--;
        }
        if (chars > 0 && in[chars - 1] == '=') {
            chars--;
        }
    } else if (n % 4 == 1) {
        return tc_detail_set(d, TC_ERR_BAD_BASE64, (long)n, NULL,
                             "length %zu cannot be base64url", n);
    }
    if (chars / 4 * 3 + (chars % 4 ? chars % 4 - 1 : 0) > cap) {
        return tc_detail_set(d, TC_ERR_TOO_BIG, 0, NULL,
                             "decoded size exceeds %zu bytes", cap);
    }

    for (i = 0; i < chars; i++) {
        int v = b64_value(in[i], url);

        if (v < 0) {
            return tc_detail_set(d, TC_ERR_BAD_BASE64, (long)i, NULL,
                                 "invalid base64%s character at offset %zu",
                                 url ? "url" : "", i);
        }
        acc = acc << 6 | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[o++] = (uint8_t)(acc >> bits);
            acc &= (1u << bits) - 1;
        }
    }

    /* Leftover bits must be zero: otherwise two texts decode alike. */
    if (acc != 0) {
        return tc_detail_set(d, TC_ERR_BAD_BASE64, (long)n - 1, NULL,
                             "non-zero padding bits in the last character");
    }
    if (outlen != NULL) {
        *outlen = o;
    }
    return TC_OK;
}
