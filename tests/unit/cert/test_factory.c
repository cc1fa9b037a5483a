// SPDX-License-Identifier: Apache-2.0
/*
 * The simulated factory against the host: certificates issued for many
 * fresh keys rebuild byte for byte from their compressed forms, OpenSSL
 * reads every value back independently, and chains verify against the
 * simulated root and only against it.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "../test.h"
#include "thingcore/cert.h"

struct factory {
    EVP_PKEY *root_key;
    X509 *root;
    EVP_PKEY *signer_key;
    uint8_t root_pub[64];
    uint8_t signer_pub[64];
    uint8_t signer_id[2];
    uint8_t signer_der[TC_CERT_DER_MAX];
    size_t signer_len;
    struct tc_cert_compressed signer_comp;
};

static const struct tc_cert_date issue_2024 = {2024, 3, 7, 10};

static void
factory_free(struct factory *f)
{
    EVP_PKEY_free(f->root_key);
    EVP_PKEY_free(f->signer_key);
    X509_free(f->root);
    memset(f, 0, sizeof(*f));
}

/* Root, then a signer CA with id F620 issued from signer template 1. */
static int
factory_make(struct factory *f)
{
    struct tc_cert_inputs in;

    memset(f, 0, sizeof(*f));
    f->signer_id[0] = 0xF6;
    f->signer_id[1] = 0x20;
    if (tc_cert_key_generate(&f->root_key, NULL) != TC_OK ||
        tc_cert_key_generate(&f->signer_key, NULL) != TC_OK ||
        tc_cert_key_public(f->root_key, f->root_pub, NULL) != TC_OK ||
        tc_cert_key_public(f->signer_key, f->signer_pub, NULL) != TC_OK ||
        tc_cert_root_create(f->root_key, &issue_2024, &f->root, NULL) !=
            TC_OK) {
        return -1;
    }
    memset(&in, 0, sizeof(in));
    memcpy(in.pubkey, f->signer_pub, 64);
    memcpy(in.ca_pubkey, f->root_pub, 64);
    return tc_cert_issue(tc_cert_template_get(TC_CERT_SIGNER_1), &in,
                         f->signer_id, &issue_2024, f->root_key,
                         f->signer_der, sizeof(f->signer_der),
                         &f->signer_len, &f->signer_comp, NULL) == TC_OK
               ? 0
               : -1;
}

/* A chip as the factory sees it: public key, serial number, EUI-48. */
static int
chip_make(struct factory *f, int i, struct tc_cert_inputs *in,
          EVP_PKEY **key)
{
    memset(in, 0, sizeof(*in));
    if (tc_cert_key_generate(key, NULL) != TC_OK ||
        tc_cert_key_public(*key, in->pubkey, NULL) != TC_OK) {
        return -1;
    }
    memcpy(in->ca_pubkey, f->signer_pub, 64);
    in->sn[0] = 0x01;
    in->sn[1] = 0x23;
    in->sn[2] = (uint8_t)(i >> 8);
    in->sn[3] = (uint8_t)i;
    in->sn[4] = 0xAB;
    in->sn[8] = 0x01;
    snprintf(in->eui48, sizeof(in->eui48), "0004A3%06X", (unsigned)i);
    return 0;
}

/* Independent reads with OpenSSL of what the certificate must say. */
static int
openssl_agrees(X509 *x, const struct tc_cert_inputs *in, int device)
{
    uint8_t id[20];
    unsigned int n = 0;
    const ASN1_OCTET_STRING *ski = X509_get0_subject_key_id(x);
    const ASN1_OCTET_STRING *aki = X509_get0_authority_key_id(x);
    EVP_PKEY *ca = NULL;
    char cn[64];
    char want[64];
    int ok = 1;

    if (X509_pubkey_digest(x, EVP_sha1(), id, &n) != 1 || ski == NULL ||
        ASN1_STRING_length(ski) != 20 ||
        memcmp(ASN1_STRING_get0_data(ski), id, 20) != 0 || aki == NULL) {
        return 0;
    }

    /* The certificate's signature verifies with the issuer key. */
    if (tc_cert_key_from_public(in->ca_pubkey, &ca, NULL) != TC_OK ||
        X509_verify(x, ca) != 1) {
        ok = 0;
    }
    EVP_PKEY_free(ca);

    if (device) {
        X509_NAME_get_text_by_NID(X509_get_subject_name(x), NID_commonName,
                                  cn, sizeof(cn));
        snprintf(want, sizeof(want),
                 "sn%02X%02X%02X%02X%02X%02X%02X%02X%02X", in->sn[0],
                 in->sn[1], in->sn[2], in->sn[3], in->sn[4], in->sn[5],
                 in->sn[6], in->sn[7], in->sn[8]);
        ok = ok && strcmp(cn, want) == 0;
    }
    return ok;
}

/*
 * 200 chips: issue, keep only the 72 raw bytes, decode them, rebuild,
 * compare. r and s vary in length, so the certificate length does too.
 */
TC_TEST(cert_issue_rebuild_identical_200_keys)
{
    struct factory f;
    const struct tc_cert_template *t = tc_cert_template_get(TC_CERT_DEVICE_3);
    size_t lengths[TC_CERT_DER_MAX] = {0};
    size_t distinct = 0;
    int i;

    CHECK(factory_make(&f) == 0);
    for (i = 0; i < 200; i++) {
        struct tc_cert_inputs in;
        struct tc_cert_compressed comp;
        struct tc_cert_compressed back;
        EVP_PKEY *key = NULL;
        uint8_t issued[TC_CERT_DER_MAX];
        uint8_t rebuilt[TC_CERT_DER_MAX];
        uint8_t raw[TC_CERT_COMPRESSED_LEN];
        size_t n_issued = 0;
        size_t n_rebuilt = 0;
        X509 *x = NULL;
        int ok;

        ok = chip_make(&f, i, &in, &key) == 0;
        EVP_PKEY_free(key);
        CHECK(ok);
        CHECK_EQ_INT(tc_cert_issue(t, &in, f.signer_id, &issue_2024,
                                   f.signer_key, issued, sizeof(issued),
                                   &n_issued, &comp, NULL),
                     TC_OK);
        lengths[n_issued]++;

        /* Only what a chip stores crosses over to the host. */
        memcpy(raw, comp.raw, sizeof(raw));
        CHECK_EQ_INT(tc_cert_compressed_decode(raw, &back, NULL), TC_OK);
        CHECK_EQ_INT(tc_cert_rebuild(t, &back, &in, rebuilt, sizeof(rebuilt),
                                     &n_rebuilt, NULL),
                     TC_OK);
        CHECK_EQ_INT(n_rebuilt, n_issued);
        CHECK_EQ_MEM(rebuilt, issued, n_issued);

        CHECK_EQ_INT(tc_cert_x509_from_der(rebuilt, n_rebuilt, &x, NULL),
                     TC_OK);
        ok = openssl_agrees(x, &in, 1);
        X509_free(x);
        CHECK(ok);
        if (i % 20 == 0) {
            CHECK_EQ_INT(tc_cert_verify_chain(rebuilt, n_rebuilt,
                                              f.signer_der, f.signer_len,
                                              &f.root, 1, 0, NULL),
                         TC_OK);
        }
    }
    for (i = 0; i < TC_CERT_DER_MAX; i++) {
        distinct += lengths[i] != 0;
    }
    factory_free(&f);
    CHECK(distinct >= 2);
}

/* The signer certificate and the other device templates, and their data. */
TC_TEST(cert_issue_rebuild_every_template)
{
    struct factory f;
    int k;

    CHECK(factory_make(&f) == 0);
    {
        struct tc_cert_inputs in;
        uint8_t der[TC_CERT_DER_MAX];
        size_t n = 0;
        struct tc_cert_compressed back;
        X509 *x = NULL;
        int ok;

        memset(&in, 0, sizeof(in));
        memcpy(in.pubkey, f.signer_pub, 64);
        memcpy(in.ca_pubkey, f.root_pub, 64);
        CHECK_EQ_INT(f.signer_comp.raw[69], 0x10);
        CHECK_EQ_INT(f.signer_comp.raw[70], 0xA0);
        CHECK_EQ_INT(tc_cert_compressed_decode(f.signer_comp.raw, &back,
                                               NULL),
                     TC_OK);
        CHECK_EQ_INT(tc_cert_rebuild(tc_cert_template_get(TC_CERT_SIGNER_1),
                                     &back, &in, der, sizeof(der), &n, NULL),
                     TC_OK);
        CHECK_EQ_INT(n, f.signer_len);
        CHECK_EQ_MEM(der, f.signer_der, n);
        CHECK_EQ_INT(tc_cert_x509_from_der(der, n, &x, NULL), TC_OK);
        ok = openssl_agrees(x, &in, 0) &&
             X509_check_ca(x) == 1 &&
             X509_check_issued(f.root, x) == X509_V_OK;
        X509_free(x);
        CHECK(ok);
    }

    for (k = TC_CERT_DEVICE_3; k < TC_CERT_KIND_COUNT; k++) {
        const struct tc_cert_template *t = tc_cert_template_get(k);
        struct tc_cert_inputs in;
        struct tc_cert_compressed comp;
        EVP_PKEY *key = NULL;
        uint8_t issued[TC_CERT_DER_MAX];
        uint8_t rebuilt[TC_CERT_DER_MAX];
        size_t n1 = 0;
        size_t n2 = 0;
        struct tc_cert_fields fields;
        int ok;

        ok = chip_make(&f, k, &in, &key) == 0;
        EVP_PKEY_free(key);
        CHECK(ok);
        CHECK_EQ_INT(tc_cert_issue(t, &in, f.signer_id, &issue_2024,
                                   f.signer_key, issued, sizeof(issued), &n1,
                                   &comp, NULL),
                     TC_OK);
        CHECK_EQ_INT(comp.raw[69], t->template_id << 4);
        CHECK_EQ_INT(tc_cert_rebuild(t, &comp, &in, rebuilt, sizeof(rebuilt),
                                     &n2, NULL),
                     TC_OK);
        CHECK_EQ_INT(n1, n2);
        CHECK_EQ_MEM(issued, rebuilt, n1);
        CHECK_EQ_INT(tc_cert_verify_chain(rebuilt, n2, f.signer_der,
                                          f.signer_len, &f.root, 1, 0, NULL),
                     TC_OK);

        /* The values read back are the chip's. */
        CHECK_EQ_INT(tc_cert_extract(t, rebuilt, n2, &fields, NULL), TC_OK);
        CHECK_EQ_MEM(fields.sn, in.sn, 9);
        CHECK_EQ_MEM(fields.pubkey, in.pubkey, 64);
        CHECK_EQ_MEM(fields.signer_id, f.signer_id, 2);
        CHECK_EQ_INT(fields.expire_years, 28);
        if (t->eui48.count != 0) {
            CHECK_EQ_STR(fields.eui48, in.eui48);
        }
    }
    factory_free(&f);
}

/* The SAN of template 3 names the EUI-48 as a dirName serialNumber. */
TC_TEST(cert_device_3_san_and_dates)
{
    struct factory f;
    struct tc_cert_inputs in;
    EVP_PKEY *key = NULL;
    uint8_t der[TC_CERT_DER_MAX];
    size_t n = 0;
    X509 *x = NULL;
    GENERAL_NAMES *san = NULL;
    char text[64] = "";
    char issuer[64] = "";
    struct tm tm;
    int ok;

    CHECK(factory_make(&f) == 0);
    ok = chip_make(&f, 7, &in, &key) == 0;
    EVP_PKEY_free(key);
    CHECK(ok);
    memcpy(in.eui48, "0004A31B2C3D", 13);
    CHECK_EQ_INT(tc_cert_issue(tc_cert_template_get(TC_CERT_DEVICE_3), &in,
                               f.signer_id, &issue_2024, f.signer_key, der,
                               sizeof(der), &n, NULL, NULL),
                 TC_OK);
    CHECK_EQ_INT(tc_cert_x509_from_der(der, n, &x, NULL), TC_OK);
    san = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
    ok = san != NULL && sk_GENERAL_NAME_num(san) == 1 &&
         sk_GENERAL_NAME_value(san, 0)->type == GEN_DIRNAME &&
         X509_NAME_get_text_by_NID(sk_GENERAL_NAME_value(san, 0)->d.dirn,
                                   NID_serialNumber, text,
                                   sizeof(text)) > 0;
    GENERAL_NAMES_free(san);
    ok = ok && ASN1_TIME_to_tm(X509_get0_notAfter(x), &tm) == 1 &&
         tm.tm_year + 1900 == 2052 && tm.tm_mon == 2 && tm.tm_mday == 7 &&
         tm.tm_hour == 10 && tm.tm_min == 0;
    X509_NAME_get_text_by_NID(X509_get_issuer_name(x), NID_commonName,
                              issuer, sizeof(issuer));
    X509_free(x);
    factory_free(&f);
    CHECK(ok);
    CHECK_EQ_STR(text, "eui48_0004A31B2C3D");
    CHECK_EQ_STR(issuer, "Crypto Authentication Signer F620");
}

/* Expire years 0: the signer certificate of a no-expiry compressed form. */
TC_TEST(cert_rebuild_no_expiry)
{
    struct factory f;
    struct tc_cert_compressed c;
    struct tc_cert_inputs in;
    uint8_t der[TC_CERT_DER_MAX];
    size_t n = 0;
    X509 *x = NULL;
    struct tm tm;
    int ok;

    CHECK(factory_make(&f) == 0);
    c = f.signer_comp;
    c.expire_years = 0;
    CHECK_EQ_INT(tc_cert_compressed_encode(&c, NULL), TC_OK);
    CHECK_EQ_INT(c.raw[66] & 0x1F, 0);
    memset(&in, 0, sizeof(in));
    memcpy(in.pubkey, f.signer_pub, 64);
    memcpy(in.ca_pubkey, f.root_pub, 64);
    CHECK_EQ_INT(tc_cert_rebuild(tc_cert_template_get(TC_CERT_SIGNER_1), &c,
                                 &in, der, sizeof(der), &n, NULL),
                 TC_OK);
    CHECK(memcmp(der + 143, "99991231235959Z", 15) == 0);
    CHECK_EQ_INT(tc_cert_x509_from_der(der, n, &x, NULL), TC_OK);
    ok = ASN1_TIME_to_tm(X509_get0_notAfter(x), &tm) == 1 &&
         tm.tm_year + 1900 == 9999 && tm.tm_sec == 59;
    X509_free(x);
    factory_free(&f);
    CHECK(ok);
}

TC_TEST(cert_rebuild_rejects_other_template)
{
    struct factory f;
    struct tc_cert_inputs in;
    struct tc_cert_compressed c;
    uint8_t der[TC_CERT_DER_MAX];
    size_t n = 0;
    struct tc_detail d;

    CHECK(factory_make(&f) == 0);
    memset(&in, 0, sizeof(in));
    c = f.signer_comp;

    /* A signer compressed form given to the device template. */
    CHECK_EQ_INT(tc_cert_rebuild(tc_cert_template_get(TC_CERT_DEVICE_3), &c,
                                 &in, der, sizeof(der), &n, &d),
                 TC_ERR_CERT_TEMPLATE_ID);
    CHECK_EQ_STR(d.field, "template_id");
    CHECK(strstr(d.text, "template 1") != NULL);

    /* Wrong chain id, wrong serial-number source, unknown format. */
    c.chain_id = 1;
    CHECK_EQ_INT(tc_cert_rebuild(tc_cert_template_get(TC_CERT_SIGNER_1), &c,
                                 &in, der, sizeof(der), &n, &d),
                 TC_ERR_CERT_TEMPLATE_ID);
    c = f.signer_comp;
    c.sn_source = 0;
    CHECK_EQ_INT(tc_cert_rebuild(tc_cert_template_get(TC_CERT_SIGNER_1), &c,
                                 &in, der, sizeof(der), &n, &d),
                 TC_ERR_CERT_TEMPLATE_ID);
    c = f.signer_comp;
    c.format_version = 2;
    CHECK_EQ_INT(tc_cert_rebuild(tc_cert_template_get(TC_CERT_SIGNER_1), &c,
                                 &in, der, sizeof(der), &n, &d),
                 TC_ERR_CERT_FORMAT);
    c = f.signer_comp;
    c.issue.month = 13;
    CHECK_EQ_INT(tc_cert_rebuild(tc_cert_template_get(TC_CERT_SIGNER_1), &c,
                                 &in, der, sizeof(der), &n, &d),
                 TC_ERR_CERT_DATE);
    factory_free(&f);
}

TC_TEST(cert_issue_rejects_wrong_keys)
{
    struct factory f;
    struct tc_cert_inputs in;
    uint8_t der[TC_CERT_DER_MAX];
    size_t n = 0;
    struct tc_detail d;
    EVP_PKEY *key = NULL;
    int ok;

    CHECK(factory_make(&f) == 0);
    ok = chip_make(&f, 1, &in, &key) == 0;
    EVP_PKEY_free(key);
    CHECK(ok);

    /* Signed by the root while naming the signer as issuer. */
    CHECK_EQ_INT(tc_cert_issue(tc_cert_template_get(TC_CERT_DEVICE_3), &in,
                               f.signer_id, &issue_2024, f.root_key, der,
                               sizeof(der), &n, NULL, &d),
                 TC_ERR_CERT_KEY);
    CHECK_EQ_STR(d.field, "ca_pubkey");

    /* A subject "key" that is no point on the curve. */
    memset(in.pubkey, 0x11, 64);
    CHECK_EQ_INT(tc_cert_issue(tc_cert_template_get(TC_CERT_DEVICE_3), &in,
                               f.signer_id, &issue_2024, f.signer_key, der,
                               sizeof(der), &n, NULL, &d),
                 TC_ERR_CERT_KEY);
    CHECK_EQ_STR(d.field, "pubkey");

    /* An issue date past the year field. */
    memcpy(in.pubkey, f.signer_pub, 64);
    memcpy(in.ca_pubkey, f.root_pub, 64);
    CHECK_EQ_INT(tc_cert_issue(tc_cert_template_get(TC_CERT_SIGNER_1), &in,
                               f.signer_id,
                               &(struct tc_cert_date){2032, 1, 1, 0},
                               f.root_key, der, sizeof(der), &n, NULL, &d),
                 TC_ERR_CERT_DATE);
    factory_free(&f);
}

TC_TEST(cert_key_helpers)
{
    uint8_t padded[72];
    uint8_t pub[64];
    uint8_t again[64];
    EVP_PKEY *k = NULL;
    EVP_PKEY *p = NULL;
    EVP_PKEY *rsa = NULL;
    int ok;

    CHECK_EQ_INT(tc_cert_key_generate(&k, NULL), TC_OK);
    ok = tc_cert_key_public(k, pub, NULL) == TC_OK &&
         tc_cert_key_from_public(pub, &p, NULL) == TC_OK &&
         tc_cert_key_public(p, again, NULL) == TC_OK &&
         memcmp(pub, again, 64) == 0 && EVP_PKEY_eq(k, p) == 1;
    EVP_PKEY_free(k);
    EVP_PKEY_free(p);
    CHECK(ok);

    memset(padded, 0, sizeof(padded));
    memcpy(padded + 4, pub, 32);
    memcpy(padded + 40, pub + 32, 32);
    CHECK_EQ_INT(tc_cert_pubkey_unpad(padded, again, NULL), TC_OK);
    CHECK_EQ_MEM(again, pub, 64);
    padded[37] = 1;
    CHECK_EQ_INT(tc_cert_pubkey_unpad(padded, again, NULL),
                 TC_ERR_CERT_FIELD);

    /* A key of another type is refused. */
    rsa = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)1024);
    CHECK(rsa != NULL);
    ok = tc_cert_key_public(rsa, pub, NULL) == TC_ERR_CERT_KEY;
    EVP_PKEY_free(rsa);
    CHECK(ok);
}
