// SPDX-License-Identifier: Apache-2.0
/*
 * Templates: the offset table against the template DER, each real
 * template reproducing itself from its own values, signature encodings of
 * every length, and the rejections of fill, extract and the OTP lookup.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <openssl/x509.h>

#include "../test.h"
#include "thingcore/cert.h"

/* Check the bytes in front of a field: the DER header that frames it. */
static int
framed(const struct tc_cert_template *t, struct tc_cert_loc loc,
       const char *before, size_t n)
{
    return loc.offset >= n &&
           memcmp(t->der + loc.offset - n, before, n) == 0;
}

TC_TEST(cert_template_offsets_match_der)
{
    int k;

    for (k = 0; k < TC_CERT_KIND_COUNT; k++) {
        const struct tc_cert_template *t = tc_cert_template_get(k);

        CHECK(t != NULL);
        CHECK_EQ_INT(t->kind, k);
        CHECK_EQ_INT(t->der[0], 0x30);
        CHECK_EQ_INT(t->der[1], 0x82);
        CHECK_EQ_INT((t->der[2] << 8 | t->der[3]) + 4, t->der_len);
        CHECK_EQ_INT(t->tbs.offset, 4);
        CHECK_EQ_INT((t->der[6] << 8 | t->der[7]) + 4, t->tbs.count);
        CHECK(framed(t, t->pubkey, "\x03\x42\x00\x04", 4));
        CHECK_EQ_INT(t->der[t->signature.offset], 0x03);
        CHECK_EQ_INT(t->signature.offset + t->signature.count, t->der_len);
        CHECK_EQ_INT(t->tbs.offset + t->tbs.count + 12, t->signature.offset);
        CHECK(framed(t, t->serial, "\x02\x10", 2));
        CHECK(framed(t, t->issue_date, "\x17\x0d", 2));
        CHECK(framed(t, t->expire_date, "\x18\x0f", 2));
        CHECK(framed(t, t->ski, "\x04\x14", 2));
        CHECK(framed(t, t->aki, "\x80\x14", 2));
        CHECK(memcmp(t->der + t->signer_id.offset, "FFFF", 4) == 0);
        CHECK(framed(t, t->signer_id, "Crypto Authentication Signer ", 29));
        CHECK_EQ_INT(t->is_device, t->kind != TC_CERT_SIGNER_1);
        if (t->kind == TC_CERT_DEVICE_3 || t->kind == TC_CERT_TFLX_4) {
            CHECK(framed(t, t->sn_high, "\x0c\x14sn", 4));
        }
        if (t->kind == TC_CERT_DEVICE_2) {
            CHECK(framed(t, t->sn_high, "\x0c\x18", 2));
            CHECK(memcmp(t->der + t->sn_low.offset + 10, " ATECC", 6) == 0);
        }
        if (t->is_device) {
            CHECK_EQ_INT(t->sn_low.offset, t->sn_high.offset + 8);
            CHECK_EQ_INT(t->expire_years, 28);
        } else {
            CHECK_EQ_INT(t->expire_years, 31);
            CHECK_EQ_INT(t->sn_high.count, 0);
        }
        if (t->kind == TC_CERT_DEVICE_3) {
            CHECK(framed(t, t->eui48, "eui48_", 6));
        } else {
            CHECK_EQ_INT(t->eui48.count, 0);
        }
    }
    CHECK(tc_cert_template_get(TC_CERT_KIND_COUNT) == NULL);
    CHECK(tc_cert_template_get((enum tc_cert_kind) - 1) == NULL);
}

/* Each real template, refilled with its own values, is itself. */
TC_TEST(cert_template_reproduces_itself)
{
    int k;

    for (k = 0; k < TC_CERT_KIND_COUNT; k++) {
        const struct tc_cert_template *t = tc_cert_template_get(k);
        struct tc_cert_fields f;
        struct tc_detail d;
        uint8_t der[TC_CERT_DER_MAX];
        size_t n = 0;

        CHECK_EQ_INT(tc_cert_extract(t, t->der, t->der_len, &f, &d), TC_OK);
        CHECK_EQ_INT(f.expire_years, t->expire_years);
        CHECK_EQ_INT(f.issue.year, 2018);
        CHECK_EQ_INT(tc_cert_fill(t, &f, der, sizeof(der), &n, &d), TC_OK);
        CHECK_EQ_INT(n, t->der_len);
        CHECK_EQ_MEM(der, t->der, n);
    }
}

/* r and s chosen to hit every length: leading zeros, top bit set. */
TC_TEST(cert_signature_lengths_round_trip)
{
    const struct tc_cert_template *t = tc_cert_template_get(TC_CERT_DEVICE_3);
    struct tc_cert_fields f;
    int shape;
    size_t seen[80] = {0};
    size_t distinct = 0;
    size_t i;

    CHECK_EQ_INT(tc_cert_extract(t, t->der, t->der_len, &f, NULL), TC_OK);
    for (shape = 0; shape < 16; shape++) {
        struct tc_cert_fields back;
        uint8_t der[TC_CERT_DER_MAX];
        size_t n = 0;
        const unsigned char *p = der;
        X509 *x = NULL;
        int half;

        for (half = 0; half < 2; half++) {
            uint8_t *v = f.signature + 32 * half;
            int s = half == 0 ? shape & 3 : shape >> 2;

            memset(v, 0x5A, 32);
            if (s == 1) {
                v[0] = 0xC3; /* top bit: a 0x00 is prepended */
            } else if (s == 2) {
                v[0] = 0x00; /* one byte shorter */
                v[1] = 0x00; /* two bytes shorter */
            } else if (s == 3) {
                memset(v, 0, 31); /* the shortest: one byte */
                v[31] = 0x80;
            }
        }
        CHECK_EQ_INT(tc_cert_fill(t, &f, der, sizeof(der), &n, NULL), TC_OK);
        CHECK(n - t->signature.offset < sizeof(seen) / sizeof(seen[0]));
        seen[n - t->signature.offset]++;

        /* OpenSSL reads the whole thing as one certificate. */
        x = d2i_X509(NULL, &p, (long)n);
        CHECK(x != NULL);
        X509_free(x);
        CHECK(p == der + n);

        CHECK_EQ_INT(tc_cert_extract(t, der, n, &back, NULL), TC_OK);
        CHECK_EQ_MEM(back.signature, f.signature, 64);
    }
    for (i = 0; i < sizeof(seen) / sizeof(seen[0]); i++) {
        distinct += seen[i] != 0;
    }
    CHECK(distinct >= 5);
}

struct fill_row {
    const char *what;
    int expect;
    const char *field;
};

TC_TEST(cert_fill_rejects_bad_values)
{
    const struct tc_cert_template *t = tc_cert_template_get(TC_CERT_DEVICE_3);
    struct tc_cert_fields good;
    struct tc_cert_fields f;
    struct tc_detail d;
    uint8_t der[TC_CERT_DER_MAX];
    size_t n = 0;

    CHECK_EQ_INT(tc_cert_extract(t, t->der, t->der_len, &good, NULL), TC_OK);

    f = good;
    memcpy(f.eui48, "68271900000G", 13);
    CHECK_EQ_INT(tc_cert_fill(t, &f, der, sizeof(der), &n, &d),
                 TC_ERR_CERT_FIELD);
    CHECK_EQ_STR(d.field, "eui48");

    f = good;
    f.eui48[5] = '\0';
    CHECK_EQ_INT(tc_cert_fill(t, &f, der, sizeof(der), &n, &d),
                 TC_ERR_CERT_FIELD);

    f = good;
    f.serial[0] = 0x80;
    CHECK_EQ_INT(tc_cert_fill(t, &f, der, sizeof(der), &n, &d),
                 TC_ERR_CERT_FIELD);
    CHECK_EQ_STR(d.field, "serial");

    f = good;
    f.serial[0] = 0x00;
    f.serial[1] = 0x12;
    CHECK_EQ_INT(tc_cert_fill(t, &f, der, sizeof(der), &n, &d),
                 TC_ERR_CERT_FIELD);

    f = good;
    f.issue.year = 2032;
    CHECK_EQ_INT(tc_cert_fill(t, &f, der, sizeof(der), &n, &d),
                 TC_ERR_CERT_DATE);

    f = good;
    CHECK_EQ_INT(tc_cert_fill(t, &f, der, 100, &n, &d), TC_ERR_TOO_BIG);
    CHECK_EQ_INT(tc_cert_fill(NULL, &f, der, sizeof(der), &n, &d),
                 TC_ERR_ARG);

    /* The signer template has no EUI-48, so the field is not looked at. */
    f = good;
    f.eui48[0] = '\0';
    CHECK_EQ_INT(tc_cert_fill(tc_cert_template_get(TC_CERT_SIGNER_1), &f, der,
                              sizeof(der), &n, &d),
                 TC_OK);
}

/* Change one byte of the template DER; extract must say what is wrong. */
struct extract_row {
    size_t offset; /* into template 3 */
    uint8_t value;
    int expect;
    const char *field;
};

static const struct extract_row extract_rows[] = {
    {60, 'X', TC_ERR_CERT_MISMATCH, "der"},    /* issuer O text */
    {3, 0x1f, TC_ERR_CERT_MISMATCH, "der"},    /* outer length */
    {15, 0x95, TC_ERR_CERT_FIELD, "serial"},   /* negative serial */
    {128, 'A', TC_ERR_CERT_DATE, "issue_date"}, /* not a digit */
    {136, '1', TC_ERR_CERT_DATE, "issue_date"}, /* minutes not 00 */
    {130, '2', TC_ERR_CERT_DATE, "issue_date"}, /* month 21 */
    {143, '1', TC_ERR_CERT_DATE, "expire_date"}, /* 1046 */
    {149, '2', TC_ERR_CERT_DATE, "expire_date"}, /* another day */
    {120, 'f', TC_ERR_CERT_FIELD, "signer_id"}, /* lower case */
    {210, 'g', TC_ERR_CERT_FIELD, "sn"},
    {358, ' ', TC_ERR_CERT_FIELD, "eui48"},
    {474, 0x46, TC_ERR_CERT_SIGNATURE, "signature"}, /* BIT STRING len */
    {475, 0x01, TC_ERR_CERT_SIGNATURE, "signature"}, /* unused bits */
    {476, 0x31, TC_ERR_CERT_SIGNATURE, "signature"}, /* not SEQUENCE */
    {478, 0x03, TC_ERR_CERT_SIGNATURE, "signature.r"},
};

TC_TEST(cert_extract_rejects_mismatches)
{
    const struct tc_cert_template *t = tc_cert_template_get(TC_CERT_DEVICE_3);
    uint8_t der[TC_CERT_DER_MAX];
    struct tc_cert_fields f;
    struct tc_detail d;
    size_t i;

    for (i = 0; i < sizeof(extract_rows) / sizeof(extract_rows[0]); i++) {
        const struct extract_row *r = &extract_rows[i];

        memcpy(der, t->der, t->der_len);
        der[r->offset] = r->value;
        CHECK_EQ_INT(tc_cert_extract(t, der, t->der_len, &f, &d), r->expect);
        if (strcmp(d.field, r->field) != 0) {
            printf("row %zu: field %s, text %s\n", i, d.field, d.text);
        }
        CHECK_EQ_STR(d.field, r->field);
    }

    /* A byte too many after the signature, too short, another template. */
    memcpy(der, t->der, t->der_len);
    der[t->der_len] = 0;
    CHECK_EQ_INT(tc_cert_extract(t, der, t->der_len + 1, &f, &d),
                 TC_ERR_CERT_MISMATCH);
    CHECK_EQ_INT(tc_cert_extract(t, der, 100, &f, &d), TC_ERR_CERT_MISMATCH);
    CHECK_EQ_INT(tc_cert_extract(tc_cert_template_get(TC_CERT_DEVICE_2),
                                 t->der, t->der_len, &f, &d),
                 TC_ERR_CERT_MISMATCH);
    CHECK(d.offset >= 0);
}

TC_TEST(cert_template_for_otp_codes)
{
    static const struct {
        const char *code;
        enum tc_cert_kind kind;
    } rows[] = {
        {"KQp2ZkD8", TC_CERT_DEVICE_3}, {"x6tjuZMy", TC_CERT_DEVICE_3},
        {"wdNxAjae", TC_CERT_DEVICE_2}, {"Rsuy5YJh", TC_CERT_DEVICE_2},
        {"MKMwyhP1", TC_CERT_TFLX_4},
    };
    const struct tc_cert_template *t = NULL;
    struct tc_detail d;
    size_t i;

    for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        CHECK_EQ_INT(tc_cert_template_for_otp((const uint8_t *)rows[i].code,
                                              &t, NULL),
                     TC_OK);
        CHECK_EQ_INT(t->kind, rows[i].kind);
    }

    CHECK_EQ_INT(tc_cert_template_for_otp((const uint8_t *)"kQp2ZkD8", &t,
                                          &d),
                 TC_ERR_CERT_OTP_CODE);
    CHECK(t == NULL);
    CHECK(strstr(d.text, "\"kQp2ZkD8\"") != NULL);
    CHECK_EQ_STR(d.field, "otp_block0");

    CHECK_EQ_INT(tc_cert_template_for_otp(
                     (const uint8_t *)"\x00\xff" "ABCDEF", &t, &d),
                 TC_ERR_CERT_OTP_CODE);
    CHECK(strstr(d.text, "\\x00\\xffABCDEF") != NULL);
}
