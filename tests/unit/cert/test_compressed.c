// SPDX-License-Identifier: Apache-2.0
/*
 * Compressed certificates: the reference date vector, dates at the edges
 * of the 5-bit fields, and every rejection of a corrupt compressed form.
 */
#include <stdint.h>
#include <string.h>

#include "../test.h"
#include "thingcore/cert.h"

/* reference/trustngo-atecc608.md: 2020-11-10 18:00, 28 y, signer F620. */
TC_TEST(cert_compressed_reference_date_vector)
{
    static const uint8_t expect[8] = {0xa5, 0xaa, 0x5c, 0xf6,
                                      0x20, 0x30, 0xa0, 0x00};
    struct tc_cert_compressed c;
    struct tc_cert_compressed back;
    size_t i;

    memset(&c, 0, sizeof(c));
    for (i = 0; i < 64; i++) {
        c.signature[i] = (uint8_t)(i * 7 + 1);
    }
    c.issue = (struct tc_cert_date){2020, 11, 10, 18};
    c.expire_years = 28;
    c.signer_id[0] = 0xF6;
    c.signer_id[1] = 0x20;
    c.template_id = 3;
    c.chain_id = 0;
    c.sn_source = TC_CERT_SNSRC_PUB_KEY_HASH;
    CHECK_EQ_INT(tc_cert_compressed_encode(&c, NULL), TC_OK);
    CHECK_EQ_MEM(c.raw + 64, expect, 8);
    CHECK_EQ_MEM(c.raw, c.signature, 64);

    CHECK_EQ_INT(tc_cert_compressed_decode(c.raw, &back, NULL), TC_OK);
    CHECK_EQ_INT(back.issue.year, 2020);
    CHECK_EQ_INT(back.issue.month, 11);
    CHECK_EQ_INT(back.issue.day, 10);
    CHECK_EQ_INT(back.issue.hour, 18);
    CHECK_EQ_INT(back.expire_years, 28);
    CHECK_EQ_INT(back.template_id, 3);
    CHECK_EQ_INT(back.chain_id, 0);
    CHECK_EQ_INT(back.sn_source, 0xA);
    CHECK_EQ_INT(back.format_version, 0);
    CHECK_EQ_MEM(back.signer_id, c.signer_id, 2);
    CHECK_EQ_MEM(back.signature, c.signature, 64);
}

struct date_row {
    struct tc_cert_date issue;
    unsigned years;
    int expect;
    const char *utc;
    const char *gen;
};

static const struct date_row date_rows[] = {
    {{2031, 12, 31, 23}, 31, TC_OK, "311231230000Z", "20621231230000Z"},
    {{2000, 1, 1, 0}, 0, TC_OK, "000101000000Z", "99991231235959Z"},
    {{2031, 1, 1, 0}, 0, TC_OK, "310101000000Z", "99991231235959Z"},
    {{2024, 2, 29, 5}, 28, TC_OK, "240229050000Z", "20520229050000Z"},
    {{2032, 1, 1, 0}, 28, TC_ERR_CERT_DATE, NULL, NULL},
    {{1999, 12, 31, 23}, 28, TC_ERR_CERT_DATE, NULL, NULL},
    {{2020, 0, 1, 0}, 28, TC_ERR_CERT_DATE, NULL, NULL},
    {{2020, 13, 1, 0}, 28, TC_ERR_CERT_DATE, NULL, NULL},
    {{2021, 2, 29, 0}, 28, TC_ERR_CERT_DATE, NULL, NULL},
    {{2020, 4, 31, 0}, 28, TC_ERR_CERT_DATE, NULL, NULL},
    {{2020, 1, 0, 0}, 28, TC_ERR_CERT_DATE, NULL, NULL},
    {{2020, 1, 1, 24}, 28, TC_ERR_CERT_DATE, NULL, NULL},
    {{2024, 2, 29, 5}, 31, TC_ERR_CERT_DATE, NULL, NULL},
    {{2024, 2, 29, 5}, 32, TC_ERR_CERT_DATE, NULL, NULL},
};

TC_TEST(cert_compressed_date_edges_round_trip)
{
    size_t i;

    for (i = 0; i < sizeof(date_rows) / sizeof(date_rows[0]); i++) {
        const struct date_row *r = &date_rows[i];
        struct tc_cert_compressed c;
        struct tc_cert_compressed back;
        struct tc_detail d;
        char utc[14];
        char gen[16];

        memset(&c, 0, sizeof(c));
        c.issue = r->issue;
        c.expire_years = r->years;
        c.template_id = 1;
        c.sn_source = 0xA;
        CHECK_EQ_INT(tc_cert_compressed_encode(&c, &d), r->expect);
        if (r->expect != TC_OK) {
            CHECK(d.field[0] != '\0' && d.text[0] != '\0');
            continue;
        }
        CHECK_EQ_INT(tc_cert_compressed_decode(c.raw, &back, NULL), TC_OK);
        CHECK_EQ_MEM(&back.issue, &r->issue, sizeof(r->issue));
        CHECK_EQ_INT(back.expire_years, r->years);
        CHECK_EQ_MEM(back.raw, c.raw, TC_CERT_COMPRESSED_LEN);
        CHECK_EQ_INT(tc_cert_format_dates(&back.issue, back.expire_years,
                                          utc, gen, NULL),
                     TC_OK);
        CHECK_EQ_STR(utc, r->utc);
        CHECK_EQ_STR(gen, r->gen);
    }
}

/* Bytes 64..71 of corrupt compressed forms and the error each gives. */
struct bad_row {
    uint8_t tail[8];
    int expect;
    const char *field;
};

static const struct bad_row bad_rows[] = {
    /* format version 1 and 15 */
    {{0xa5, 0xaa, 0x5c, 0xf6, 0x20, 0x30, 0xa1, 0x00}, TC_ERR_CERT_FORMAT,
     "format_version"},
    {{0xa5, 0xaa, 0x5c, 0xf6, 0x20, 0x30, 0xaf, 0x00}, TC_ERR_CERT_FORMAT,
     "format_version"},
    /* month 0: year 20, month bits 0000 */
    {{0xa0, 0x2a, 0x5c, 0xf6, 0x20, 0x30, 0xa0, 0x00}, TC_ERR_CERT_DATE,
     "issue_date"},
    /* month 15 */
    {{0xa7, 0xaa, 0x5c, 0xf6, 0x20, 0x30, 0xa0, 0x00}, TC_ERR_CERT_DATE,
     "issue_date"},
    /* day 0 */
    {{0xa5, 0x82, 0x5c, 0xf6, 0x20, 0x30, 0xa0, 0x00}, TC_ERR_CERT_DATE,
     "issue_date"},
    /* hour 31 */
    {{0xa5, 0xab, 0xfc, 0xf6, 0x20, 0x30, 0xa0, 0x00}, TC_ERR_CERT_DATE,
     "issue_date"},
    /* 30 November is fine, 31 November is not */
    {{0xa5, 0xfe, 0x5c, 0xf6, 0x20, 0x30, 0xa0, 0x00}, TC_ERR_CERT_DATE,
     "issue_date"},
};

TC_TEST(cert_compressed_decode_rejects_corruption)
{
    size_t i;
    uint8_t raw[TC_CERT_COMPRESSED_LEN];
    struct tc_cert_compressed c;
    struct tc_detail d;

    memset(raw, 0x11, 64);
    for (i = 0; i < sizeof(bad_rows) / sizeof(bad_rows[0]); i++) {
        memcpy(raw + 64, bad_rows[i].tail, 8);
        CHECK_EQ_INT(tc_cert_compressed_decode(raw, &c, &d),
                     bad_rows[i].expect);
        CHECK_EQ_STR(d.field, bad_rows[i].field);
        CHECK(d.offset >= 64 && d.offset <= 71);
    }

    /* 30 November decodes (the row above differs only in the day). */
    memcpy(raw + 64,
           (const uint8_t[]){0xa5, 0xfa, 0x5c, 0xf6, 0x20, 0x30, 0xa0, 0x00},
           8);
    CHECK_EQ_INT(tc_cert_compressed_decode(raw, &c, NULL), TC_OK);
    CHECK_EQ_INT(c.issue.day, 30);

    /* NULL arguments. */
    CHECK_EQ_INT(tc_cert_compressed_decode(NULL, &c, NULL), TC_ERR_ARG);
    CHECK_EQ_INT(tc_cert_compressed_encode(NULL, NULL), TC_ERR_ARG);
}

TC_TEST(cert_compressed_encode_rejects_wide_fields)
{
    struct tc_cert_compressed c;

    memset(&c, 0, sizeof(c));
    c.issue = (struct tc_cert_date){2020, 1, 1, 0};
    c.template_id = 16;
    CHECK_EQ_INT(tc_cert_compressed_encode(&c, NULL), TC_ERR_ARG);
    c.template_id = 3;
    c.format_version = 1;
    CHECK_EQ_INT(tc_cert_compressed_encode(&c, NULL), TC_ERR_CERT_FORMAT);
}

TC_TEST(cert_date_from_time_truncates_to_hour)
{
    struct tc_cert_date dt;

    /* 2020-11-10 18:59:59 UTC */
    CHECK_EQ_INT(tc_cert_date_from_time((time_t)1605034799, &dt, NULL),
                 TC_OK);
    CHECK_EQ_INT(dt.year, 2020);
    CHECK_EQ_INT(dt.month, 11);
    CHECK_EQ_INT(dt.day, 10);
    CHECK_EQ_INT(dt.hour, 18);
    /* 2032-01-01: past the year field */
    CHECK_EQ_INT(tc_cert_date_from_time((time_t)1956528000, &dt, NULL),
                 TC_ERR_CERT_DATE);
}
