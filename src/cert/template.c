// SPDX-License-Identifier: Apache-2.0
/*
 * Microchip's certificate templates as data, and the two operations on
 * them: fill (values into a template, giving DER) and extract (DER back
 * into values, checking every other byte against the template). Rebuild
 * from a compressed certificate derives the values and fills. Signing
 * lives in factory.c; this file holds no private key.
 */
#include <string.h>

#include <openssl/evp.h>

#include "cert_int.h"

#define L(o, c)                                                               \
    {                                                                         \
        (o), (c)                                                              \
    }
#define NONE L(0, 0)

/*
 * Offsets from data/microchip/README.md (signer 1, device 3) and from
 * `openssl asn1parse` of the template DER (device 2, TrustFLEX 4); a unit
 * test checks each against the DER around it.
 */
static const struct tc_cert_template templates[TC_CERT_KIND_COUNT] = {
    {TC_CERT_SIGNER_1, "tngtls-signer-template-1", tc_cert_tmpl_signer_1,
     sizeof(tc_cert_tmpl_signer_1), 1, 0, 31, 0, 12, L(4, 430), L(266, 64),
     L(446, 74), L(128, 13), L(143, 15), L(235, 4), L(15, 16), L(414, 20),
     L(381, 20), NONE, NONE, NONE},
    {TC_CERT_DEVICE_3, "tngtls-device-template-3", tc_cert_tmpl_device_3,
     sizeof(tc_cert_tmpl_device_3), 3, 0, 28, 1, 10, L(4, 457), L(253, 64),
     L(473, 73), L(128, 13), L(143, 15), L(120, 4), L(15, 16), L(441, 20),
     L(408, 20), L(208, 8), L(216, 10), L(355, 12)},
    {TC_CERT_DEVICE_2, "tngtls-device-template-2", tc_cert_tmpl_device_2,
     sizeof(tc_cert_tmpl_device_2), 2, 0, 28, 1, 10, L(4, 415), L(257, 64),
     L(431, 74), L(128, 13), L(143, 15), L(120, 4), L(15, 16), L(399, 20),
     L(366, 20), L(206, 8), L(214, 10), NONE},
    {TC_CERT_TFLX_4, "tflxtls-device-template-4", tc_cert_tmpl_tflx_4,
     sizeof(tc_cert_tmpl_tflx_4), 3, 0, 28, 1, 10, L(4, 411), L(253, 64),
     L(427, 73), L(128, 13), L(143, 15), L(120, 4), L(15, 16), L(395, 20),
     L(362, 20), L(208, 8), L(216, 10), NONE},
};

/* OTP block 0 codes (cryptoauthlib's tng_atca.c map) to templates. */
static const struct {
    const char code[9];
    enum tc_cert_kind kind;
} otp_codes[] = {
    {"KQp2ZkD8", TC_CERT_DEVICE_3}, {"x6tjuZMy", TC_CERT_DEVICE_3},
    {"wdNxAjae", TC_CERT_DEVICE_2}, {"Rsuy5YJh", TC_CERT_DEVICE_2},
    {"MKMwyhP1", TC_CERT_TFLX_4},
};

/* The largest signature element: 03 len 00 30 len (02 21 00 r)(02 21 00 s) */
#define SIG_MAX 75

const struct tc_cert_template *
tc_cert_template_get(enum tc_cert_kind kind)
{
    if ((int)kind < 0 || kind >= TC_CERT_KIND_COUNT) {
        return NULL;
    }
    return &templates[kind];
}

int
tc_cert_template_for_otp(const uint8_t *otp_code,
                         const struct tc_cert_template **out,
                         struct tc_detail *d)
{
    size_t i;
    char shown[8 * 4 + 1];
    size_t n = 0;

    if (otp_code == NULL || out == NULL) {
        return tc_detail_set(d, TC_ERR_ARG, -1, NULL, "NULL argument");
    }
    *out = NULL;
    for (i = 0; i < sizeof(otp_codes) / sizeof(otp_codes[0]); i++) {
        if (memcmp(otp_code, otp_codes[i].code, 8) == 0) {
            *out = &templates[otp_codes[i].kind];
            return TC_OK;
        }
    }

    /* Quote what was seen, printable bytes as is, others as \xNN. */
    for (i = 0; i < 8; i++) {
        uint8_t b = otp_code[i];

        if (b >= 0x20 && b < 0x7F && b != '\\' && b != '"') {
            shown[n++] = (char)b;
        } else {
            static const char hx[] = "0123456789abcdef";

            shown[n++] = '\\';
            shown[n++] = 'x';
            shown[n++] = hx[b >> 4];
            shown[n++] = hx[b & 15];
        }
    }
    shown[n] = '\0';
    return tc_detail_set(d, TC_ERR_CERT_OTP_CODE, 0, "otp_block0",
                         "OTP code \"%s\" names no known device template",
                         shown);
}

int
tc_cert_key_id(const uint8_t *pub64, uint8_t *id20)
{
    uint8_t point[65];
    unsigned int n = 0;

    point[0] = 0x04;
    memcpy(point + 1, pub64, 64);
    if (EVP_Digest(point, sizeof(point), id20, &n, EVP_sha1(), NULL) != 1 ||
        n != 20) {
        return TC_ERR_CRYPTO;
    }
    return TC_OK;
}

/* ---- hex text fields ---------------------------------------------- */

static void
hex_upper(const uint8_t *in, size_t n, uint8_t *out)
{
    static const char hx[] = "0123456789ABCDEF";
    size_t i;

    for (i = 0; i < n; i++) {
        out[2 * i] = (uint8_t)hx[in[i] >> 4];
        out[2 * i + 1] = (uint8_t)hx[in[i] & 15];
    }
}

/* Upper-case only, so that what extract accepts, fill writes back. */
static int
unhex_upper(const uint8_t *text, size_t n, uint8_t *out)
{
    size_t i;

    for (i = 0; i < n; i++) {
        uint8_t c = text[i];
        int v;

        if (c >= '0' && c <= '9') {
            v = c - '0';
        } else if (c >= 'A' && c <= 'F') {
            v = c - 'A' + 10;
        } else {
            return -1;
        }
        if (i % 2 == 0) {
            out[i / 2] = (uint8_t)(v << 4);
        } else {
            out[i / 2] |= (uint8_t)v;
        }
    }
    return 0;
}

/* The EUI-48 is copied from slot 5 as text; hex digits of either case. */
static int
eui48_ok(const char *s)
{
    size_t i;

    for (i = 0; i < TC_CERT_EUI48_LEN; i++) {
        char c = s[i];

        if (!((c >= '0' && c <= '9') || (c >= 'A' && c <= 'F') ||
              (c >= 'a' && c <= 'f'))) {
            return 0;
        }
    }
    return s[TC_CERT_EUI48_LEN] == '\0';
}

/* ---- signature -------------------------------------------------- */

/* A minimal positive DER INTEGER of a 32-byte big-endian value. */
static size_t
int_encode(const uint8_t *v, uint8_t *out)
{
    size_t skip = 0;
    size_t n = 0;

    while (skip < 31 && v[skip] == 0) {
        skip++;
    }
    out[n++] = 0x02;
    out[n++] = 0; /* length, set below */
    if (v[skip] & 0x80) {
        out[n++] = 0x00;
    }
    memcpy(out + n, v + skip, 32 - skip);
    n += 32 - skip;
    out[1] = (uint8_t)(n - 2);
    return n;
}

/*
 * BIT STRING { 0 unused bits, SEQUENCE { INTEGER r, INTEGER s } } from
 * r||s. The content never reaches 128 bytes, so every length is one byte;
 * it shrinks by one for each leading zero byte and grows by one for each
 * integer with its top bit set.
 */
static size_t
sig_encode(const uint8_t *rs, uint8_t *out)
{
    size_t n = 5;

    n += int_encode(rs, out + n);
    n += int_encode(rs + 32, out + n);
    out[0] = 0x03;
    out[1] = (uint8_t)(n - 2);
    out[2] = 0x00;
    out[3] = 0x30;
    out[4] = (uint8_t)(n - 5);
    return n;
}

/*
 * INTEGER ::= 02 len content, strict DER: positive, minimal, at most 32
 * value bytes. Returns the bytes consumed or 0 on any violation.
 */
static size_t
int_decode(const uint8_t *p, size_t avail, uint8_t *v32)
{
    const uint8_t *v;
    size_t len;
    size_t vlen;

    if (avail < 3 || p[0] != 0x02) {
        return 0;
    }
    len = p[1];
    if (len < 1 || len > 33 || len + 2 > avail) {
        return 0;
    }
    v = p + 2;
    if (v[0] & 0x80) {
        return 0; /* negative */
    }
    if (len > 1 && v[0] == 0x00 && !(v[1] & 0x80)) {
        return 0; /* not minimal */
    }
    vlen = len;
    if (len == 33) {
        if (v[0] != 0x00) {
            return 0; /* more than 256 bits */
        }
        v++;
        vlen--;
    }
    memset(v32, 0, 32);
    memcpy(v32 + 32 - vlen, v, vlen);
    return len + 2;
}

/*
 * Signature element grammar (RFC 5480 section 2.2.3 in a BIT STRING):
 *   BIT STRING { 00, SEQUENCE { INTEGER r, INTEGER s } }
 * which must end exactly at end.
 */
static int
sig_decode(const uint8_t *p, size_t avail, uint8_t *rs, long base,
           struct tc_detail *d)
{
    size_t n;
    size_t m;

    if (avail < 5 || p[0] != 0x03 || p[1] & 0x80 || p[2] != 0x00 ||
        p[3] != 0x30 || p[4] & 0x80) {
        return tc_detail_set(d, TC_ERR_CERT_SIGNATURE, base, "signature",
                             "not a BIT STRING holding a SEQUENCE");
    }
    if ((size_t)p[1] + 2 != avail || (size_t)p[4] + 5 != avail) {
        return tc_detail_set(d, TC_ERR_CERT_SIGNATURE, base, "signature",
                             "lengths %u/%u do not end the certificate "
                             "(%zu bytes left)",
                             p[1], p[4], avail);
    }
    n = int_decode(p + 5, avail - 5, rs);
    if (n == 0) {
        return tc_detail_set(d, TC_ERR_CERT_SIGNATURE, base + 5,
                             "signature.r", "not a minimal positive "
                             "INTEGER of at most 32 bytes");
    }
    m = int_decode(p + 5 + n, avail - 5 - n, rs + 32);
    if (m == 0 || 5 + n + m != avail) {
        return tc_detail_set(d, TC_ERR_CERT_SIGNATURE, base + 5 + (long)n,
                             "signature.s", "not a minimal positive "
                             "INTEGER of at most 32 bytes ending the "
                             "signature");
    }
    return TC_OK;
}

/* ---- fill -------------------------------------------------------- */

static int
serial_ok(const uint8_t *sn)
{
    /* A 16-byte DER INTEGER: positive and without a redundant 00. */
    return !(sn[0] & 0x80) && !(sn[0] == 0x00 && !(sn[1] & 0x80));
}

static void
put(uint8_t *der, struct tc_cert_loc loc, const void *p)
{
    if (loc.count != 0) {
        memcpy(der + loc.offset, p, loc.count);
    }
}

int
tc_cert_fill(const struct tc_cert_template *t, const struct tc_cert_fields *f,
             uint8_t *der, size_t cap, size_t *der_len, struct tc_detail *d)
{
    int rc = TC_ERR_INTERNAL;
    char issue[14];
    char expire[16];
    uint8_t text[20];
    uint8_t sig[SIG_MAX];
    size_t sig_len;
    size_t total;

    if (t == NULL || f == NULL || der == NULL || der_len == NULL) {
        return tc_detail_set(d, TC_ERR_ARG, -1, NULL, "NULL argument");
    }
    rc = tc_cert_format_dates(&f->issue, f->expire_years, issue, expire, d);
    if (rc != TC_OK) {
        return rc;
    }
    if (!serial_ok(f->serial)) {
        return tc_detail_set(d, TC_ERR_CERT_FIELD, t->serial.offset,
                             "serial", "16-byte serial number must be a "
                             "positive minimal INTEGER");
    }
    if (t->eui48.count != 0 && !eui48_ok(f->eui48)) {
        return tc_detail_set(d, TC_ERR_CERT_FIELD, t->eui48.offset, "eui48",
                             "EUI-48 must be 12 hex digits");
    }

    /* The signature's length decides the certificate's. */
    sig_len = sig_encode(f->signature, sig);
    total = t->signature.offset + sig_len;
    if (total > cap) {
        return tc_detail_set(d, TC_ERR_TOO_BIG, -1, "der",
                             "certificate needs %zu bytes, buffer has %zu",
                             total, cap);
    }

    /* Everything before the signature, then each variable field. */
    memcpy(der, t->der, t->signature.offset);
    put(der, t->serial, f->serial);
    put(der, t->issue_date, issue);
    put(der, t->expire_date, expire);
    hex_upper(f->signer_id, 2, text);
    put(der, t->signer_id, text);
    put(der, t->pubkey, f->pubkey);
    put(der, t->ski, f->ski);
    put(der, t->aki, f->aki);
    hex_upper(f->sn, 4, text);
    put(der, t->sn_high, text);
    hex_upper(f->sn + 4, 5, text);
    put(der, t->sn_low, text);
    put(der, t->eui48, f->eui48);
    memcpy(der + t->signature.offset, sig, sig_len);

    /* Outer SEQUENCE: 30 82 hi lo, the long form every template uses. */
    der[2] = (uint8_t)((total - 4) >> 8);
    der[3] = (uint8_t)((total - 4) & 0xFF);
    *der_len = total;
    return TC_OK;
}

/* ---- extract ------------------------------------------------------ */

static int
all_digits(const uint8_t *p, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9') {
            return 0;
        }
    }
    return 1;
}

/* Value of n (at most 4) digits already checked by all_digits. */
static int
num(const uint8_t *p, size_t n)
{
    int v = 0;
    size_t i;

    for (i = 0; i < n; i++) {
        v = v * 10 + (p[i] - '0');
    }
    return v;
}

/*
 * Issue: UTCTime YYMMDDhh0000Z (RFC 5280 4.1.2.5.1, YY < 50 is 20YY).
 * Expiry: GeneralizedTime YYYYMMDDhh0000Z with the issue's month, day
 * and hour, or 99991231235959Z for no expiry.
 */
static int
dates_decode(const struct tc_cert_template *t, const uint8_t *der,
             struct tc_cert_fields *f, struct tc_detail *d)
{
    const uint8_t *u = der + t->issue_date.offset;
    const uint8_t *g = der + t->expire_date.offset;
    int yy;
    int year;

    if (!all_digits(u, 12) || u[12] != 'Z' || memcmp(u + 8, "0000", 4) != 0) {
        return tc_detail_set(d, TC_ERR_CERT_DATE, t->issue_date.offset,
                             "issue_date", "not YYMMDDhh0000Z");
    }
    yy = num(u, 2);
    f->issue.year = yy < 50 ? 2000 + yy : 1900 + yy;
    f->issue.month = num(u + 2, 2);
    f->issue.day = num(u + 4, 2);
    f->issue.hour = num(u + 6, 2);
    if (tc_cert_date_check(&f->issue, "issue_date", t->issue_date.offset,
                           d) != TC_OK) {
        return TC_ERR_CERT_DATE;
    }

    if (memcmp(g, "99991231235959Z", 15) == 0) {
        f->expire_years = 0;
        return TC_OK;
    }
    if (!all_digits(g, 14) || g[14] != 'Z' || memcmp(g + 10, "0000", 4) != 0) {
        return tc_detail_set(d, TC_ERR_CERT_DATE, t->expire_date.offset,
                             "expire_date", "not YYYYMMDDhh0000Z");
    }
    year = num(g, 4);
    if (num(g + 4, 2) != f->issue.month || num(g + 6, 2) != f->issue.day ||
        num(g + 8, 2) != f->issue.hour || year - f->issue.year < 1 ||
        year - f->issue.year > 31) {
        return tc_detail_set(d, TC_ERR_CERT_DATE, t->expire_date.offset,
                             "expire_date",
                             "expiry is not the issue date plus 1-31 "
                             "whole years");
    }
    f->expire_years = (unsigned)(year - f->issue.year);

    /* The formatter refuses 29 February landing outside a leap year. */
    {
        char a[14];
        char b[16];

        return tc_cert_format_dates(&f->issue, f->expire_years, a, b, d);
    }
}

static void
mask_loc(uint8_t *mask, struct tc_cert_loc loc)
{
    if (loc.count != 0) {
        memset(mask + loc.offset, 1, loc.count);
    }
}

int
tc_cert_extract(const struct tc_cert_template *t, const uint8_t *der,
                size_t der_len, struct tc_cert_fields *out,
                struct tc_detail *d)
{
    int rc = TC_ERR_INTERNAL;
    uint8_t mask[TC_CERT_DER_MAX];
    size_t i;
    size_t so;

    if (t == NULL || der == NULL || out == NULL) {
        return tc_detail_set(d, TC_ERR_ARG, -1, NULL, "NULL argument");
    }
    memset(out, 0, sizeof(*out));
    so = t->signature.offset;
    if (der_len > TC_CERT_DER_MAX || der_len < so + 2) {
        return tc_detail_set(d, TC_ERR_CERT_MISMATCH, -1, "der",
                             "%zu bytes cannot be a %s certificate", der_len,
                             t->name);
    }

    /* Every fixed byte before the signature must be the template's. */
    memset(mask, 0, so);
    mask[2] = 1;
    mask[3] = 1;
    mask_loc(mask, t->serial);
    mask_loc(mask, t->issue_date);
    mask_loc(mask, t->expire_date);
    mask_loc(mask, t->signer_id);
    mask_loc(mask, t->pubkey);
    mask_loc(mask, t->ski);
    mask_loc(mask, t->aki);
    mask_loc(mask, t->sn_high);
    mask_loc(mask, t->sn_low);
    mask_loc(mask, t->eui48);
    for (i = 0; i < so; i++) {
        if (!mask[i] && der[i] != t->der[i]) {
            return tc_detail_set(d, TC_ERR_CERT_MISMATCH, (long)i, "der",
                                 "byte %zu is 0x%02x, template %s has "
                                 "0x%02x",
                                 i, der[i], t->name, t->der[i]);
        }
    }
    if (((size_t)der[2] << 8 | der[3]) != der_len - 4) {
        return tc_detail_set(d, TC_ERR_CERT_MISMATCH, 2, "der",
                             "outer SEQUENCE length %u, certificate has "
                             "%zu bytes",
                             (unsigned)der[2] << 8 | der[3], der_len);
    }
    rc = sig_decode(der + so, der_len - so, out->signature, (long)so, d);
    if (rc != TC_OK) {
        return rc;
    }

    /* The variable fields, each checked so that fill writes it back. */
    memcpy(out->serial, der + t->serial.offset, 16);
    if (!serial_ok(out->serial)) {
        return tc_detail_set(d, TC_ERR_CERT_FIELD, t->serial.offset,
                             "serial", "serial number is not a positive "
                             "minimal 16-byte INTEGER");
    }
    rc = dates_decode(t, der, out, d);
    if (rc != TC_OK) {
        return rc;
    }
    if (unhex_upper(der + t->signer_id.offset, 4, out->signer_id) != 0) {
        return tc_detail_set(d, TC_ERR_CERT_FIELD, t->signer_id.offset,
                             "signer_id", "not 4 upper-case hex digits");
    }
    memcpy(out->pubkey, der + t->pubkey.offset, 64);
    memcpy(out->ski, der + t->ski.offset, 20);
    memcpy(out->aki, der + t->aki.offset, 20);
    if (t->sn_high.count != 0 &&
        (unhex_upper(der + t->sn_high.offset, 8, out->sn) != 0 ||
         unhex_upper(der + t->sn_low.offset, 10, out->sn + 4) != 0)) {
        return tc_detail_set(d, TC_ERR_CERT_FIELD, t->sn_high.offset, "sn",
                             "serial number is not upper-case hex");
    }
    if (t->eui48.count != 0) {
        memcpy(out->eui48, der + t->eui48.offset, TC_CERT_EUI48_LEN);
        out->eui48[TC_CERT_EUI48_LEN] = '\0';
        if (!eui48_ok(out->eui48)) {
            return tc_detail_set(d, TC_ERR_CERT_FIELD, t->eui48.offset,
                                 "eui48", "not 12 hex digits");
        }
    }
    return TC_OK;
}

/* ---- rebuild ------------------------------------------------------ */

/* Values of a certificate from its compressed form and the chip data. */
static int
derive(const struct tc_cert_template *t, const struct tc_cert_compressed *c,
       const struct tc_cert_inputs *in, struct tc_cert_fields *f,
       struct tc_detail *d)
{
    uint8_t msg[64 + 3];
    uint8_t hash[32];
    unsigned int n = 0;
    int rc = TC_ERR_INTERNAL;

    if (c->template_id != t->template_id || c->chain_id != t->chain_id ||
        c->sn_source != TC_CERT_SNSRC_PUB_KEY_HASH) {
        return tc_detail_set(d, TC_ERR_CERT_TEMPLATE_ID, 69, "template_id",
                             "compressed certificate has template %u chain "
                             "%u sn source 0x%x; %s needs %u, %u, 0x%x",
                             c->template_id, c->chain_id, c->sn_source,
                             t->name, t->template_id, t->chain_id,
                             TC_CERT_SNSRC_PUB_KEY_HASH);
    }
    if (c->format_version != 0) {
        return tc_detail_set(d, TC_ERR_CERT_FORMAT, 70, "format_version",
                             "format version %u, only 0 is known",
                             c->format_version);
    }
    rc = tc_cert_date_check(&c->issue, "issue_date", 64, d);
    if (rc != TC_OK) {
        return rc;
    }

    memset(f, 0, sizeof(*f));
    f->issue = c->issue;
    f->expire_years = c->expire_years;
    memcpy(f->signer_id, c->signer_id, 2);
    memcpy(f->signature, c->signature, 64);
    memcpy(f->pubkey, in->pubkey, 64);
    memcpy(f->sn, in->sn, TC_CERT_SN_LEN);
    memcpy(f->eui48, in->eui48, sizeof(f->eui48));
    f->eui48[TC_CERT_EUI48_LEN] = '\0';

    /*
     * Serial number source 0xA: SHA-256 over the subject key and the
     * packed dates, first 16 bytes, forced positive and with a non-zero
     * top byte so the INTEGER always takes exactly 16 bytes.
     */
    memcpy(msg, in->pubkey, 64);
    tc_cert_dates_pack(&c->issue, c->expire_years, msg + 64);
    if (EVP_Digest(msg, sizeof(msg), hash, &n, EVP_sha256(), NULL) != 1) {
        return tc_detail_set(d, TC_ERR_CRYPTO, -1, "serial", "SHA-256");
    }
    memcpy(f->serial, hash, 16);
    f->serial[0] = (uint8_t)((f->serial[0] & 0x7F) | 0x40);

    if (tc_cert_key_id(in->pubkey, f->ski) != TC_OK ||
        tc_cert_key_id(in->ca_pubkey, f->aki) != TC_OK) {
        return tc_detail_set(d, TC_ERR_CRYPTO, -1, "key_id", "SHA-1");
    }
    return TC_OK;
}

int
tc_cert_rebuild(const struct tc_cert_template *t,
                const struct tc_cert_compressed *c,
                const struct tc_cert_inputs *in, uint8_t *der, size_t cap,
                size_t *der_len, struct tc_detail *d)
{
    struct tc_cert_fields f;
    int rc = TC_ERR_INTERNAL;

    if (t == NULL || c == NULL || in == NULL) {
        return tc_detail_set(d, TC_ERR_ARG, -1, NULL, "NULL argument");
    }
    rc = derive(t, c, in, &f, d);
    if (rc != TC_OK) {
        return rc;
    }
    return tc_cert_fill(t, &f, der, cap, der_len, d);
}

int
tc_cert_derive_fields(const struct tc_cert_template *t,
                      const struct tc_cert_compressed *c,
                      const struct tc_cert_inputs *in,
                      struct tc_cert_fields *f, struct tc_detail *d)
{
    return derive(t, c, in, f, d);
}
