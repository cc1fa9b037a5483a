// SPDX-License-Identifier: Apache-2.0
/*
 * The 72-byte compressed certificate and its packed dates: decode, encode,
 * and the date texts a certificate carries. It knows nothing of templates
 * or keys; template.c puts the decoded values into a certificate.
 */
#include <string.h>

#include "cert_int.h"

/* Byte offsets inside the compressed certificate. */
#define OFF_DATES 64
#define OFF_SIGNER_ID 67
#define OFF_TEMPLATE 69
#define OFF_SN_SOURCE 70
#define OFF_RESERVED 71

static int
is_leap(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int
days_in_month(int y, int m)
{
    static const int days[12] = {31, 28, 31, 30, 31, 30,
                                 31, 31, 30, 31, 30, 31};

    if (m == 2 && is_leap(y)) {
        return 29;
    }
    return days[m - 1];
}

int
tc_cert_date_check(const struct tc_cert_date *date, const char *field,
                   long offset, struct tc_detail *d)
{
    /* The year field holds year - 2000 in 5 bits. */
    if (date->year < 2000 || date->year > 2031) {
        return tc_detail_set(d, TC_ERR_CERT_DATE, offset, field,
                             "year %d outside 2000-2031", date->year);
    }
    if (date->month < 1 || date->month > 12) {
        return tc_detail_set(d, TC_ERR_CERT_DATE, offset, field,
                             "month %d outside 1-12", date->month);
    }
    if (date->day < 1 || date->day > days_in_month(date->year, date->month)) {
        return tc_detail_set(d, TC_ERR_CERT_DATE, offset, field,
                             "day %d invalid in %04d-%02d", date->day,
                             date->year, date->month);
    }
    if (date->hour < 0 || date->hour > 23) {
        return tc_detail_set(d, TC_ERR_CERT_DATE, offset, field,
                             "hour %d outside 0-23", date->hour);
    }
    return TC_OK;
}

/*
 * Expiry keeps month, day and hour and adds whole years, so 29 February
 * plus a year count that lands outside a leap year names no day. Such a
 * certificate would not parse; refuse it where it is made or read.
 */
static int
expiry_check(const struct tc_cert_date *issue, unsigned expire_years,
             long offset, struct tc_detail *d)
{
    int y = issue->year + (int)expire_years;

    if (expire_years > 31) {
        return tc_detail_set(d, TC_ERR_CERT_DATE, offset, "expire_years",
                             "%u does not fit 5 bits", expire_years);
    }
    if (expire_years != 0 && issue->month == 2 && issue->day == 29 &&
        !is_leap(y)) {
        return tc_detail_set(d, TC_ERR_CERT_DATE, offset, "expire_years",
                             "29 February plus %u years is no date in %d",
                             expire_years, y);
    }
    return TC_OK;
}

/*
 * Packed dates, most significant bit first over the 3 bytes:
 *   year-2000:5 | month:4 | day:5 | hour:5 | expire_years:5
 */
void
tc_cert_dates_pack(const struct tc_cert_date *issue, unsigned expire_years,
                   uint8_t *out3)
{
    unsigned y = (unsigned)(issue->year - 2000) & 0x1F;
    unsigned m = (unsigned)issue->month & 0x0F;
    unsigned dd = (unsigned)issue->day & 0x1F;
    unsigned h = (unsigned)issue->hour & 0x1F;

    out3[0] = (uint8_t)((y << 3) | (m >> 1));
    out3[1] = (uint8_t)(((m & 1) << 7) | (dd << 2) | (h >> 3));
    out3[2] = (uint8_t)(((h & 7) << 5) | (expire_years & 0x1F));
}

int
tc_cert_compressed_decode(const uint8_t *raw, struct tc_cert_compressed *out,
                          struct tc_detail *d)
{
    int rc = TC_ERR_INTERNAL;
    const uint8_t *dt;

    if (raw == NULL || out == NULL) {
        return tc_detail_set(d, TC_ERR_ARG, -1, NULL, "NULL argument");
    }
    memset(out, 0, sizeof(*out));
    memcpy(out->raw, raw, TC_CERT_COMPRESSED_LEN);

    /* Only format 0 exists on Trust&GO parts; others change the layout. */
    out->format_version = raw[OFF_SN_SOURCE] & 0x0F;
    if (out->format_version != 0) {
        return tc_detail_set(d, TC_ERR_CERT_FORMAT, OFF_SN_SOURCE,
                             "format_version",
                             "format version %u (byte 70 = 0x%02x), "
                             "only 0 is known",
                             out->format_version, raw[OFF_SN_SOURCE]);
    }
    out->sn_source = raw[OFF_SN_SOURCE] >> 4;
    out->template_id = raw[OFF_TEMPLATE] >> 4;
    out->chain_id = raw[OFF_TEMPLATE] & 0x0F;
    memcpy(out->signature, raw, 64);
    memcpy(out->signer_id, raw + OFF_SIGNER_ID, 2);

    /* Unpack the dates, then check them as any other input. */
    dt = raw + OFF_DATES;
    out->issue.year = 2000 + (dt[0] >> 3);
    out->issue.month = ((dt[0] & 0x07) << 1) | (dt[1] >> 7);
    out->issue.day = (dt[1] >> 2) & 0x1F;
    out->issue.hour = ((dt[1] & 0x03) << 3) | (dt[2] >> 5);
    out->expire_years = dt[2] & 0x1F;
    rc = tc_cert_date_check(&out->issue, "issue_date", OFF_DATES, d);
    if (rc != TC_OK) {
        return rc;
    }
    return expiry_check(&out->issue, out->expire_years, OFF_DATES + 2, d);
}

int
tc_cert_compressed_encode(struct tc_cert_compressed *c, struct tc_detail *d)
{
    int rc = TC_ERR_INTERNAL;

    if (c == NULL) {
        return tc_detail_set(d, TC_ERR_ARG, -1, NULL, "NULL argument");
    }
    rc = tc_cert_date_check(&c->issue, "issue_date", OFF_DATES, d);
    if (rc != TC_OK) {
        return rc;
    }
    rc = expiry_check(&c->issue, c->expire_years, OFF_DATES + 2, d);
    if (rc != TC_OK) {
        return rc;
    }
    if (c->template_id > 15 || c->chain_id > 15 || c->sn_source > 15) {
        return tc_detail_set(d, TC_ERR_ARG, OFF_TEMPLATE, "template_id",
                             "template id, chain id and serial-number "
                             "source must each fit 4 bits");
    }
    if (c->format_version != 0) {
        return tc_detail_set(d, TC_ERR_CERT_FORMAT, OFF_SN_SOURCE,
                             "format_version", "only format 0 is written");
    }

    memcpy(c->raw, c->signature, 64);
    tc_cert_dates_pack(&c->issue, c->expire_years, c->raw + OFF_DATES);
    memcpy(c->raw + OFF_SIGNER_ID, c->signer_id, 2);
    c->raw[OFF_TEMPLATE] = (uint8_t)((c->template_id << 4) | c->chain_id);
    c->raw[OFF_SN_SOURCE] = (uint8_t)((c->sn_source << 4) |
                                      c->format_version);
    c->raw[OFF_RESERVED] = 0;
    return TC_OK;
}

int
tc_cert_date_from_time(time_t t, struct tc_cert_date *out,
                       struct tc_detail *d)
{
    struct tm tm;

    if (out == NULL || gmtime_r(&t, &tm) == NULL) {
        return tc_detail_set(d, TC_ERR_ARG, -1, "time", "no UTC time");
    }
    out->year = tm.tm_year + 1900;
    out->month = tm.tm_mon + 1;
    out->day = tm.tm_mday;
    out->hour = tm.tm_hour;
    return tc_cert_date_check(out, "time", -1, d);
}

/* n decimal digits of v (0 <= v < 10^n), no NUL. */
static void
put_digits(char *out, int v, int n)
{
    int i;

    for (i = n - 1; i >= 0; i--) {
        out[i] = (char)('0' + v % 10);
        v /= 10;
    }
}

int
tc_cert_format_dates(const struct tc_cert_date *issue, unsigned expire_years,
                     char *utc_issue, char *gen_expire, struct tc_detail *d)
{
    int rc = tc_cert_date_check(issue, "issue_date", -1, d);

    if (rc != TC_OK) {
        return rc;
    }
    rc = expiry_check(issue, expire_years, -1, d);
    if (rc != TC_OK) {
        return rc;
    }

    /* UTCTime carries two year digits; 2000-2031 is always "20YY". */
    put_digits(utc_issue, issue->year % 100, 2);
    put_digits(utc_issue + 2, issue->month, 2);
    put_digits(utc_issue + 4, issue->day, 2);
    put_digits(utc_issue + 6, issue->hour, 2);
    memcpy(utc_issue + 8, "0000Z", 6);

    /* RFC 5280 4.1.2.5: no well-defined expiry is 99991231235959Z. */
    if (expire_years == 0) {
        memcpy(gen_expire, "99991231235959Z", 16);
    } else {
        put_digits(gen_expire, issue->year + (int)expire_years, 4);
        put_digits(gen_expire + 4, issue->month, 2);
        put_digits(gen_expire + 6, issue->day, 2);
        put_digits(gen_expire + 8, issue->hour, 2);
        memcpy(gen_expire + 10, "0000Z", 6);
    }
    return TC_OK;
}
