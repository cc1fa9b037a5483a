// SPDX-License-Identifier: Apache-2.0
/*
 * The DER certificate reader against OpenSSL's own decoding of the same
 * certificates (the vectors and Microchip's real signer certificates), and
 * one negative case per refusal: truncation at every length, trailing
 * bytes, non-minimal lengths, another algorithm or curve, an unknown
 * critical extension, a repeated extension; and the time conversions.
 */
#include <string.h>
#include <time.h>

#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "../test.h"
#include "thingcore/der.h"
#include "thingcore/util.h"

#define VEC "tests/vectors/manifest/"

/* DER of the first certificate of a PEM vector into out. */
static size_t
vec_der(const char *name, uint8_t *out, X509 **x)
{
    char path[256];
    struct tc_buf b;
    BIO *bio;
    uint8_t *p = out;
    int n;

    snprintf(path, sizeof(path), VEC "%s", name);
    tc_buf_init(&b, 1 << 16);
    if (tc_file_read(path, &b, NULL) != TC_OK) {
        return 0;
    }
    bio = BIO_new_mem_buf(b.data, (int)b.len);
    *x = PEM_read_bio_X509(bio, NULL, NULL, NULL);
    BIO_free(bio);
    tc_buf_clear(&b, 0);
    n = *x != NULL ? i2d_X509(*x, &p) : 0;
    return n > 0 ? (size_t)n : 0;
}

static int64_t
asn1_secs(const ASN1_TIME *t)
{
    struct tm tm;

    ASN1_TIME_to_tm(t, &tm);
    return (int64_t)timegm(&tm);
}

TC_TEST(der_reads_what_openssl_reads)
{
    static const char *const names[] = {"device-1.pem", "device-2.pem",
                                        "signer-ca.pem", "root.pem",
                                        "manifest-signer-005.pem"};
    struct tc_der_cert c;
    struct tc_detail d;
    uint8_t der[4096];
    uint8_t xy[65];
    size_t len;
    size_t i;
    X509 *x;

    for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        len = vec_der(names[i], der, &x);
        CHECK(len > 0);
        CHECK_EQ_INT(tc_der_cert_parse(der, len, &c, &d), TC_OK);
        CHECK_EQ_INT(c.version, 3);
        CHECK_EQ_INT(c.not_before, asn1_secs(X509_get0_notBefore(x)));
        CHECK_EQ_INT(c.not_after, asn1_secs(X509_get0_notAfter(x)));
        CHECK_EQ_INT(c.is_ca, X509_check_ca(x) != 0);
        {
            const uint8_t *name;
            size_t nlen;

            X509_NAME_get0_der(X509_get_subject_name(x), &name, &nlen);
            CHECK_EQ_INT(c.subject.n, nlen);
            CHECK_EQ_MEM(c.subject.p, name, nlen);
            X509_NAME_get0_der(X509_get_issuer_name(x), &name, &nlen);
            CHECK_EQ_INT(c.issuer.n, nlen);
            CHECK_EQ_MEM(c.issuer.p, name, nlen);
        }
        {
            EVP_PKEY *pk = X509_get0_pubkey(x);
            size_t n = 0;

            EVP_PKEY_get_octet_string_param(pk, "encoded-pub-key", xy,
                                            sizeof(xy), &n);
            CHECK_EQ_INT(n, 65);
            CHECK_EQ_MEM(c.xy, xy + 1, 64);
        }
        {
            const ASN1_OCTET_STRING *ski = X509_get0_subject_key_id(x);

            CHECK_EQ_INT(c.ski.n, (size_t)ASN1_STRING_length(ski));
        }
        {
            int cn = X509_NAME_get_index_by_NID(X509_get_subject_name(x),
                                                NID_commonName, -1);
            const ASN1_STRING *s = X509_NAME_ENTRY_get_data(
                X509_NAME_get_entry(X509_get_subject_name(x), cn));

            CHECK_EQ_INT(c.cn.n, (size_t)ASN1_STRING_length(s));
            CHECK_EQ_MEM(c.cn.p, ASN1_STRING_get0_data(s), c.cn.n);
        }
        X509_free(x);
    }
}

TC_TEST(der_refuses_malformed_certificates)
{
    struct tc_der_cert c;
    struct tc_detail d;
    uint8_t der[4096];
    uint8_t bad[4200];
    size_t len;
    size_t i;
    X509 *x;
    uint8_t *at;

    len = vec_der("device-1.pem", der, &x);
    X509_free(x);
    CHECK(len > 100);

    /* Every truncation fails, and so does one byte more. */
    for (i = 0; i < len; i++) {
        CHECK(tc_der_cert_parse(der, i, &c, &d) != TC_OK);
    }
    memcpy(bad, der, len);
    bad[len] = 0;
    CHECK_EQ_INT(tc_der_cert_parse(bad, len + 1, &c, &d), TC_ERR_PARSE);
    CHECK(strstr(d.text, "bytes after") != NULL);

    /* A length in long form that fits in short form is not DER. */
    bad[0] = 0x30;
    bad[1] = 0x81;
    bad[2] = 0x05;
    memset(bad + 3, 0, 5);
    CHECK_EQ_INT(tc_der_cert_parse(bad, 8, &c, &d), TC_ERR_PARSE);

    /* ecdsa-with-SHA384 instead of SHA256: another algorithm. */
    memcpy(bad, der, len);
    at = memmem(bad, len, "\x2a\x86\x48\xce\x3d\x04\x03\x02", 8);
    CHECK(at != NULL);
    at[7] = 0x03;
    CHECK_EQ_INT(tc_der_cert_parse(bad, len, &c, &d), TC_ERR_UNSUPPORTED);
    CHECK_EQ_STR(d.field, "signature");

    /* A P-384 curve OID in the key. */
    memcpy(bad, der, len);
    at = memmem(bad, len, "\x2a\x86\x48\xce\x3d\x03\x01\x07", 8);
    CHECK(at != NULL);
    at[7] = 0x08;
    CHECK_EQ_INT(tc_der_cert_parse(bad, len, &c, &d), TC_ERR_UNSUPPORTED);

    /* keyUsage (2.5.29.15) renamed to an unknown critical extension. */
    memcpy(bad, der, len);
    at = memmem(bad, len, "\x06\x03\x55\x1d\x0f\x01\x01\xff", 8);
    CHECK(at != NULL);
    at[4] = 0x7f;
    CHECK_EQ_INT(tc_der_cert_parse(bad, len, &c, &d), TC_ERR_UNSUPPORTED);
    CHECK(strstr(d.text, "critical") != NULL);

    /* keyUsage renamed to basicConstraints: the same extension twice. */
    at[4] = 0x13;
    CHECK(tc_der_cert_parse(bad, len, &c, &d) != TC_OK);

    /* A negative r in the signature. */
    memcpy(bad, der, len);
    at = bad + len - 1;
    while (at > bad && !(at[0] == 0x02 && (at[1] == 0x20 || at[1] == 0x21) &&
                         at - bad > (long)len - 80)) {
        at--;
    }
    CHECK(at > bad);
    at[2] = at[1] == 0x21 ? 0x80 : 0x80;
    if (at[1] == 0x21) {
        at[2] = 0xff;
    }
    CHECK(tc_der_cert_parse(bad, len, &c, &d) != TC_OK);
}

TC_TEST(der_times)
{
    static const struct {
        int tag;
        const char *s;
        int ok;
        int64_t t;
    } rows[] = {
        {0x17, "700101000000Z", 1, 0},
        {0x17, "491231235959Z", 1, 2524607999},
        {0x17, "500101000000Z", 1, -631152000},
        {0x18, "99991231235959Z", 1, 253402300799},
        {0x18, "20240229120000Z", 1, 1709208000},
        {0x18, "20230229120000Z", 0, 0},
        {0x17, "240230000000Z", 0, 0},
        {0x17, "241301000000Z", 0, 0},
        {0x17, "240101240000Z", 0, 0},
        {0x17, "240101000060Z", 0, 0},
        {0x17, "2401010000Z", 0, 0},
        {0x17, "240101000000+", 0, 0},
        {0x18, "2024010100000Z", 0, 0},
        {0x18, "2024-1-1000000Z", 0, 0},
        {0x17, "20240101000000Z", 0, 0},
        {0x04, "240101000000Z", 0, 0},
    };
    size_t i;
    int64_t t;

    for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        int rc = tc_der_time(rows[i].tag, (const uint8_t *)rows[i].s,
                             strlen(rows[i].s), &t);

        CHECK_EQ_INT(rc == 0, rows[i].ok);
        if (rows[i].ok) {
            CHECK_EQ_INT(t, rows[i].t);
        }
    }
}
