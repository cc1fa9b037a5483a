// SPDX-License-Identifier: Apache-2.0
/*
 * Reading a Trust&GO identity out of a chip, the way Microchip's host
 * library does: OTP block 0 names the template, config gives the serial
 * number, slot 5 the EUI-48, slots 10-12 the compressed certificates and
 * the signer key, GenKey mode 0 the public keys. Certificates are rebuilt
 * by cert.h; nothing here trusts anything.
 */
#include <dirent.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/x509.h>

#include "thingcore/ec.h"
#include "thingcore/identity.h"
#include "thingcore/util.h"

/* Rebuild a certificate; the slot is named in d on failure. */
static int
rebuild(const struct tc_cert_template *t, const uint8_t *raw,
        const struct tc_cert_inputs *in, uint8_t *der, size_t *len,
        unsigned slot, struct tc_detail *d)
{
    struct tc_cert_compressed comp;
    int rc = tc_cert_compressed_decode(raw, &comp, d);

    if (rc == TC_OK) {
        rc = tc_cert_rebuild(t, &comp, in, der, TC_CERT_DER_MAX, len, d);
    }
    if (rc != TC_OK && d != NULL) {
        char text[sizeof(d->text)];

        snprintf(text, sizeof(text), "slot %u: %.200s", slot, d->text);
        tc_detail_set(d, rc, d->offset, "slot", "%s", text);
    }
    return rc;
}

/* 1 when the certificate's signature verifies with issuer's key. */
static int
signed_by(const uint8_t *der, size_t len, EVP_PKEY *issuer)
{
    const unsigned char *p = der;
    X509 *cert = d2i_X509(NULL, &p, (long)len);
    int ok = cert != NULL && X509_verify(cert, issuer) == 1;

    X509_free(cert);
    return ok;
}

int
tc_identity_read(struct tc_se *se, X509 *const *roots, size_t n,
                 struct tc_identity *id, struct tc_detail *d)
{
    const struct tc_cert_template *device_t;
    const struct tc_cert_template *signer_t =
        tc_cert_template_get(TC_CERT_SIGNER_1);
    struct tc_se_locks locks;
    struct tc_cert_inputs in;
    uint8_t otp[32];
    uint8_t slot5[12];
    uint8_t device_comp[72];
    uint8_t signer_comp[72];
    uint8_t signer_padded[72];
    size_t i;
    unsigned slot;
    int rc;

    memset(id, 0, sizeof(*id));
    id->root_index = -1;
    rc = tc_se_read_serial(se, id->sn, d);
    if (rc == TC_OK) {
        rc = tc_se_info(se, id->revision, d);
    }
    if (rc == TC_OK) {
        rc = tc_se_lock_status(se, &locks, d);
    }
    if (rc != TC_OK) {
        return rc;
    }
    tc_hex_encode(id->sn, sizeof(id->sn), id->sn_hex, 1);
    id->config_locked = locks.config_locked;
    id->data_locked = locks.data_locked;
    if (!locks.config_locked || !locks.data_locked) {
        return tc_detail_set(d, TC_ERR_ATCA_NOT_LOCKED, -1, "zone",
                             "chip %s: the %s zone is not locked, so it "
                             "holds no Trust&GO identity yet",
                             id->sn_hex,
                             locks.config_locked ? "data" : "config");
    }

    /* The template, from the code at the start of OTP block 0. */
    rc = tc_se_read(se, TC_ATCA_ZONE_OTP, 0, 0, otp, sizeof(otp), d);
    if (rc == TC_OK) {
        rc = tc_cert_template_for_otp(otp, &device_t, d);
    }
    if (rc != TC_OK) {
        return rc;
    }
    id->device_kind = device_t->kind;

    for (slot = 0; rc == TC_OK && slot < TC_IDENTITY_KEYS; slot++) {
        rc = tc_se_pubkey(se, slot, id->pubkeys[slot], d);
    }
    if (rc == TC_OK && device_t->eui48.count != 0) {
        rc = tc_se_read(se, TC_ATCA_ZONE_DATA, 5, 0, slot5, sizeof(slot5), d);
        memcpy(id->eui48, slot5, sizeof(slot5));
        id->eui48[sizeof(slot5)] = '\0';
    }
    if (rc == TC_OK) {
        rc = tc_se_read(se, TC_ATCA_ZONE_DATA, 10, 0, device_comp, 72, d);
    }
    if (rc == TC_OK) {
        rc = tc_se_read(se, TC_ATCA_ZONE_DATA, 11, 0, signer_padded, 72, d);
    }
    if (rc == TC_OK) {
        rc = tc_se_read(se, TC_ATCA_ZONE_DATA, 12, 0, signer_comp, 72, d);
    }
    if (rc == TC_OK) {
        rc = tc_cert_pubkey_unpad(signer_padded, id->signer_pubkey, d);
    }
    if (rc != TC_OK) {
        return rc;
    }

    /* Signer: try each candidate root as its issuer. */
    memset(&in, 0, sizeof(in));
    memcpy(in.pubkey, id->signer_pubkey, sizeof(in.pubkey));
    rc = tc_detail_set(d, TC_ERR_CERT_CHAIN, -1, "signer",
                       "no known root issued signer %02X%02X (give the "
                       "root with --trust, or the factory folder)",
                       signer_comp[67], signer_comp[68]);
    for (i = 0; i < n; i++) {
        EVP_PKEY *root_key = X509_get0_pubkey(roots[i]);
        struct tc_detail ignored;

        if (root_key == NULL ||
            tc_ec_pubkey_to_xy(root_key, in.ca_pubkey) != TC_OK) {
            continue;
        }
        if (rebuild(signer_t, signer_comp, &in, id->signer_der,
                    &id->signer_len, 12, &ignored) != TC_OK) {
            continue;
        }
        if (signed_by(id->signer_der, id->signer_len, root_key)) {
            id->root_index = (int)i;
            id->simulated = tc_cert_is_simulated(roots[i]);
            rc = TC_OK;
            break;
        }
    }
    if (rc != TC_OK) {
        /* Decode once more for a precise error if slot 12 is corrupt. */
        struct tc_cert_compressed comp;

        if (tc_cert_compressed_decode(signer_comp, &comp, NULL) != TC_OK) {
            return rebuild(signer_t, signer_comp, &in, id->signer_der,
                           &id->signer_len, 12, d);
        }
        return rc;
    }

    /* Device: issued by the signer whose key sits in slot 11. */
    memcpy(in.pubkey, id->pubkeys[0], sizeof(in.pubkey));
    memcpy(in.ca_pubkey, id->signer_pubkey, sizeof(in.ca_pubkey));
    memcpy(in.sn, id->sn, sizeof(in.sn));
    memcpy(in.eui48, id->eui48, sizeof(in.eui48));
    return rebuild(device_t, device_comp, &in, id->device_der,
                   &id->device_len, 10, d);
}

static int
push_root(X509 ***roots, size_t *n, X509 *cert)
{
    X509 **grown = realloc(*roots, (*n + 1) * sizeof(**roots));

    if (grown == NULL) {
        X509_free(cert);
        return TC_ERR_NOMEM;
    }
    grown[*n] = cert;
    *roots = grown;
    (*n)++;
    return TC_OK;
}

int
tc_identity_default_roots(const char *factory_dir, X509 ***out, size_t *n,
                          struct tc_detail *d)
{
    X509 **roots = NULL;
    X509 *cert = NULL;
    size_t count = 0;
    int rc = tc_cert_microchip_root(&cert, d);

    if (rc == TC_OK) {
        rc = push_root(&roots, &count, cert);
    }
    if (rc == TC_OK && factory_dir != NULL) {
        char path[4200];
        struct tc_buf pem;

        snprintf(path, sizeof(path), "%s/root.pem", factory_dir);
        tc_buf_init(&pem, 64 * 1024);
        if (tc_file_read(path, &pem, NULL) == TC_OK &&
            tc_cert_x509_from_pem((const char *)pem.data, pem.len, &cert,
                                  NULL) == TC_OK) {
            rc = push_root(&roots, &count, cert);
        }
        tc_buf_clear(&pem, 0);
    }
    if (rc != TC_OK) {
        tc_identity_roots_free(roots, count);
        return rc;
    }
    *out = roots;
    *n = count;
    return TC_OK;
}

void
tc_identity_roots_free(X509 **roots, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++) {
        X509_free(roots[i]);
    }
    free(roots);
}
