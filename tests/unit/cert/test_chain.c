// SPDX-License-Identifier: Apache-2.0
/*
 * Chain checks: a simulated chain verifies against its own root and fails
 * against the real Crypto Authentication Root CA 002, the signer is never
 * a trust anchor, and each failure names the link that broke.
 */
#include <stdint.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "../test.h"
#include "thingcore/cert.h"

struct chain {
    EVP_PKEY *root_key;
    EVP_PKEY *signer_key;
    X509 *root;
    X509 *signer;
    uint8_t signer_der[TC_CERT_DER_MAX];
    size_t signer_len;
    uint8_t device_der[TC_CERT_DER_MAX];
    size_t device_len;
    uint8_t signer_pub[64];
};

static const struct tc_cert_date when = {2023, 6, 1, 12};

/* Root, signer with the given id, one device from template 3. */
static int
chain_make(struct chain *c, EVP_PKEY *root_key, X509 *root, uint8_t id0)
{
    struct tc_cert_inputs in;
    EVP_PKEY *dev = NULL;
    uint8_t id[2] = {id0, 0x01};
    int rc = -1;

    memset(c, 0, sizeof(*c));
    memset(&in, 0, sizeof(in));
    if (root_key == NULL) {
        if (tc_cert_key_generate(&c->root_key, NULL) != TC_OK ||
            tc_cert_root_create(c->root_key, &when, &c->root, NULL) != TC_OK) {
            return -1;
        }
    } else {
        c->root_key = root_key;
        c->root = root;
        EVP_PKEY_up_ref(root_key);
        X509_up_ref(root);
    }
    if (tc_cert_key_generate(&c->signer_key, NULL) != TC_OK ||
        tc_cert_key_public(c->signer_key, c->signer_pub, NULL) != TC_OK ||
        tc_cert_key_public(c->root_key, in.ca_pubkey, NULL) != TC_OK) {
        return -1;
    }
    memcpy(in.pubkey, c->signer_pub, 64);
    if (tc_cert_issue(tc_cert_template_get(TC_CERT_SIGNER_1), &in, id, &when,
                      c->root_key, c->signer_der, sizeof(c->signer_der),
                      &c->signer_len, NULL, NULL) != TC_OK ||
        tc_cert_x509_from_der(c->signer_der, c->signer_len, &c->signer,
                              NULL) != TC_OK) {
        return -1;
    }

    memcpy(in.ca_pubkey, c->signer_pub, 64);
    memcpy(in.eui48, "0004A3000001", 13);
    in.sn[0] = 0x01;
    in.sn[1] = 0x23;
    if (tc_cert_key_generate(&dev, NULL) == TC_OK &&
        tc_cert_key_public(dev, in.pubkey, NULL) == TC_OK &&
        tc_cert_issue(tc_cert_template_get(TC_CERT_DEVICE_3), &in, id, &when,
                      c->signer_key, c->device_der, sizeof(c->device_der),
                      &c->device_len, NULL, NULL) == TC_OK) {
        rc = 0;
    }
    EVP_PKEY_free(dev);
    return rc;
}

static void
chain_free(struct chain *c)
{
    EVP_PKEY_free(c->root_key);
    EVP_PKEY_free(c->signer_key);
    X509_free(c->root);
    X509_free(c->signer);
}

/* 2030-01-01: inside every validity period of the chain. */
#define AT_2030 ((time_t)1893456000)
/* 2052-01-01: the device (28 y) has expired, the signer (31 y) not. */
#define AT_2052 ((time_t)2587680000)

TC_TEST(cert_chain_checks)
{
    struct chain a;
    struct chain b;
    X509 *real = NULL;
    X509 *anchors[2];
    struct tc_detail d;

    CHECK(chain_make(&a, NULL, NULL, 0xF6) == 0);
    CHECK(chain_make(&b, NULL, NULL, 0xF6) == 0);
    CHECK_EQ_INT(tc_cert_microchip_root(&real, NULL), TC_OK);

    /* The simulated root alone, and beside the real root. */
    CHECK_EQ_INT(tc_cert_verify_chain(a.device_der, a.device_len,
                                      a.signer_der, a.signer_len, &a.root, 1,
                                      AT_2030, &d),
                 TC_OK);
    anchors[0] = real;
    anchors[1] = a.root;
    CHECK_EQ_INT(tc_cert_verify_chain(a.device_der, a.device_len,
                                      a.signer_der, a.signer_len, anchors, 2,
                                      AT_2030, &d),
                 TC_OK);

    /* Same names, other key: the real root does not vouch for it. */
    CHECK_EQ_INT(tc_cert_verify_chain(a.device_der, a.device_len,
                                      a.signer_der, a.signer_len, &real, 1,
                                      AT_2030, &d),
                 TC_ERR_CERT_CHAIN);
    CHECK_EQ_STR(d.field, "signer");

    /* Another factory's root: the signer link fails too. */
    CHECK_EQ_INT(tc_cert_verify_chain(a.device_der, a.device_len,
                                      a.signer_der, a.signer_len, &b.root, 1,
                                      AT_2030, &d),
                 TC_ERR_CERT_CHAIN);
    CHECK_EQ_STR(d.field, "signer");

    /* A device from another signer with the same signer id. */
    CHECK_EQ_INT(tc_cert_verify_chain(b.device_der, b.device_len,
                                      a.signer_der, a.signer_len, &a.root, 1,
                                      AT_2030, &d),
                 TC_ERR_CERT_CHAIN);
    CHECK_EQ_STR(d.field, "device");

    /* Past the device's 28 years. */
    CHECK_EQ_INT(tc_cert_verify_chain(a.device_der, a.device_len,
                                      a.signer_der, a.signer_len, &a.root, 1,
                                      AT_2052, &d),
                 TC_ERR_CERT_CHAIN);
    CHECK_EQ_STR(d.field, "device");
    CHECK(strstr(d.text, "expired") != NULL);

    /* The signer is never an anchor; no anchors is no trust. */
    CHECK_EQ_INT(tc_cert_verify_chain(a.device_der, a.device_len,
                                      a.signer_der, a.signer_len, &a.signer,
                                      1, AT_2030, &d),
                 TC_ERR_CERT_ANCHOR);
    CHECK_EQ_INT(tc_cert_verify_chain(a.device_der, a.device_len,
                                      a.signer_der, a.signer_len, NULL, 0,
                                      AT_2030, &d),
                 TC_ERR_CERT_ANCHOR);

    /* Device given as signer: no chain of three. */
    CHECK_EQ_INT(tc_cert_verify_chain(a.device_der, a.device_len,
                                      a.device_der, a.device_len, &a.root, 1,
                                      AT_2030, &d),
                 TC_ERR_CERT_CHAIN);

    /* Garbage names its certificate. */
    CHECK_EQ_INT(tc_cert_verify_chain(a.device_der, 20, a.signer_der,
                                      a.signer_len, &a.root, 1, AT_2030, &d),
                 TC_ERR_PARSE);
    CHECK_EQ_STR(d.field, "device");
    CHECK_EQ_INT(tc_cert_verify_chain(a.device_der, a.device_len,
                                      a.signer_der, a.signer_len - 1, &a.root,
                                      1, AT_2030, &d),
                 TC_ERR_PARSE);
    CHECK_EQ_STR(d.field, "signer");

    X509_free(real);
    chain_free(&a);
    chain_free(&b);
}

/* Two signers under one root both verify (a factory has many signers). */
TC_TEST(cert_chain_two_signers_one_root)
{
    struct chain a;
    struct chain b;

    CHECK(chain_make(&a, NULL, NULL, 0xF6) == 0);
    CHECK(chain_make(&b, a.root_key, a.root, 0x2A) == 0);
    CHECK_EQ_INT(tc_cert_verify_chain(b.device_der, b.device_len,
                                      b.signer_der, b.signer_len, &a.root, 1,
                                      AT_2030, NULL),
                 TC_OK);
    CHECK_EQ_INT(tc_cert_verify_chain(b.device_der, b.device_len,
                                      a.signer_der, a.signer_len, &a.root, 1,
                                      AT_2030, NULL),
                 TC_ERR_CERT_CHAIN);
    chain_free(&a);
    chain_free(&b);
}

TC_TEST(cert_roots_real_and_simulated)
{
    static const uint8_t fingerprint[32] = {
        0xA5, 0xB8, 0x83, 0xBF, 0x22, 0x93, 0x3F, 0x43, 0xA9, 0x41, 0x4F,
        0xED, 0xCD, 0x4D, 0xA8, 0x7D, 0xD4, 0x68, 0xE7, 0x30, 0x1D, 0x87,
        0x5B, 0x86, 0xC5, 0xB7, 0x83, 0xF2, 0x2A, 0x01, 0x16, 0xBD};
    X509 *real = NULL;
    X509 *sim = NULL;
    EVP_PKEY *k = NULL;
    uint8_t md[32];
    unsigned int n = 0;
    int ok;

    CHECK_EQ_INT(tc_cert_microchip_root(&real, NULL), TC_OK);
    ok = X509_digest(real, EVP_sha256(), md, &n) == 1 && n == 32 &&
         memcmp(md, fingerprint, 32) == 0 && tc_cert_is_simulated(real) == 0;
    CHECK_EQ_INT(tc_cert_key_generate(&k, NULL), TC_OK);
    CHECK_EQ_INT(tc_cert_root_create(k, &when, &sim, NULL), TC_OK);

    /* Same name as the real root, different key, and labelled. */
    ok = ok && tc_cert_is_simulated(sim) == 1 &&
         X509_NAME_cmp(X509_get_subject_name(sim),
                       X509_get_subject_name(real)) == 0 &&
         X509_self_signed(sim, 1) == 1 && X509_check_ca(sim) == 1;
    X509_free(real);
    X509_free(sim);
    EVP_PKEY_free(k);
    CHECK(ok);
    CHECK_EQ_INT(tc_cert_is_simulated(NULL), 0);
    CHECK_EQ_INT(tc_cert_root_create(NULL, &when, &sim, NULL), TC_ERR_ARG);
}
