// SPDX-License-Identifier: Apache-2.0
/*
 * The simulated factory and the identity read: chips made the factory's
 * way, read back through chip commands only, certificates rebuilt and
 * checked against the factory root with OpenSSL.
 */
#include <stdlib.h>

#include <openssl/x509.h>

#include "../../../src/atca/chip_internal.h"
#include "../test.h"
#include "thingcore/chip.h"
#include "thingcore/factory.h"
#include "thingcore/identity.h"
#include "thingcore/util.h"

static X509 *
parse(const uint8_t *der, size_t len)
{
    const unsigned char *p = der;

    return d2i_X509(NULL, &p, (long)len);
}

TC_TEST(identity_factory_chips_rebuild_and_chain)
{
    const char *dir = tc_test_tmpdir();
    struct tc_factory *f = NULL;
    struct tc_factory *again = NULL;
    struct tc_identity id;
    struct tc_detail d;
    X509 **roots = NULL;
    size_t nroots = 0;
    int i;

    CHECK_EQ_INT(tc_factory_open(dir, 0, &f, &d), TC_ERR_NOT_FOUND);
    CHECK_EQ_INT(tc_factory_open(dir, 1, &f, &d), TC_OK);
    CHECK_EQ_INT(tc_identity_default_roots(dir, &roots, &nroots, NULL),
                 TC_OK);
    CHECK_EQ_INT(nroots, 2);
    CHECK(tc_cert_is_simulated(roots[1]));
    CHECK(!tc_cert_is_simulated(roots[0]));

    /* enough chips that signature and serial lengths vary */
    for (i = 0; i < 40; i++) {
        struct tc_chip *chip = NULL;
        struct tc_se *se;
        X509 *device;
        X509 *root = tc_factory_root(f);
        X509_NAME *subject;
        char cn[64];
        char want[64];

        CHECK_EQ_INT(tc_factory_make_chip(f, NULL, &chip, &d), TC_OK);
        CHECK(tc_chip_simulated(chip));
        se = tc_se_from_chip(chip);
        CHECK_EQ_INT(tc_identity_read(se, roots, nroots, &id, &d), TC_OK);
        CHECK_EQ_INT(id.root_index, 1);
        CHECK(id.simulated);
        CHECK_EQ_INT(id.device_kind, TC_CERT_DEVICE_3);
        CHECK_EQ_INT(strlen(id.eui48), 12);
        CHECK_EQ_INT(tc_cert_verify_chain(id.device_der, id.device_len,
                                          id.signer_der, id.signer_len, &root,
                                          1, 0, &d),
                     TC_OK);
        /* the chain to the real Microchip root must fail */
        CHECK_EQ_INT(tc_cert_verify_chain(id.device_der, id.device_len,
                                          id.signer_der, id.signer_len,
                                          roots, 1, 0, &d),
                     TC_ERR_CERT_CHAIN);
        device = parse(id.device_der, id.device_len);
        CHECK(device != NULL);
        subject = X509_get_subject_name(device);
        X509_NAME_get_text_by_NID(subject, NID_commonName, cn, sizeof(cn));
        snprintf(want, sizeof(want), "sn%s", id.sn_hex);
        CHECK_EQ_STR(cn, want);
        X509_free(device);
        tc_se_close(se);
        tc_chip_free(chip);
    }

    /* reopening the folder reuses the same CAs */
    CHECK_EQ_INT(tc_factory_open(dir, 1, &again, &d), TC_OK);
    CHECK(X509_cmp(tc_factory_root(f), tc_factory_root(again)) == 0);
    tc_factory_free(again);
    tc_factory_free(f);
    tc_identity_roots_free(roots, nroots);
}

TC_TEST(identity_refuses_unlocked_unknown_and_corrupt_chips)
{
    const char *dir = tc_test_tmpdir();
    static const uint8_t sn[9] = {0x01, 0x23, 9, 9, 9, 9, 9, 9, 0x01};
    struct tc_factory *f = NULL;
    struct tc_chip *chip = NULL;
    struct tc_chip *blank = tc_chip_new(sn);
    struct tc_se *se;
    struct tc_identity id;
    struct tc_detail d;
    X509 **roots = NULL;
    size_t nroots = 0;

    CHECK_EQ_INT(tc_factory_open(dir, 1, &f, NULL), TC_OK);
    CHECK_EQ_INT(tc_identity_default_roots(dir, &roots, &nroots, NULL),
                 TC_OK);

    se = tc_se_from_chip(blank);
    CHECK_EQ_INT(tc_identity_read(se, roots, nroots, &id, &d),
                 TC_ERR_ATCA_NOT_LOCKED);
    CHECK(strstr(d.text, "config") != NULL);
    tc_se_close(se);

    /* an untrusted factory: only the real root is a candidate */
    CHECK_EQ_INT(tc_factory_make_chip(f, sn, &chip, NULL), TC_OK);
    se = tc_se_from_chip(chip);
    CHECK_EQ_INT(tc_identity_read(se, roots, 1, &id, &d), TC_ERR_CERT_CHAIN);
    CHECK_EQ_STR(d.field, "signer");

    /* a corrupt compressed certificate in slot 10 (format nibble) */
    chip->data[tc_atca_slot_offset(10) + 70] = 0xAF;
    CHECK(tc_identity_read(se, roots, nroots, &id, &d) != TC_OK);
    CHECK(strstr(d.text, "slot 10") != NULL);

    /* an OTP code no template knows */
    chip->data[tc_atca_slot_offset(10) + 70] = 0xA0;
    memcpy(chip->otp, "NOTACODE", 8);
    CHECK_EQ_INT(tc_identity_read(se, roots, nroots, &id, &d),
                 TC_ERR_CERT_OTP_CODE);
    tc_se_close(se);
    tc_chip_free(chip);
    tc_chip_free(blank);
    tc_factory_free(f);
    tc_identity_roots_free(roots, nroots);
}
