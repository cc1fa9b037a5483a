// SPDX-License-Identifier: Apache-2.0
/*
 * Certificate factory and registry setup for the registry tests. Every
 * certificate is made fresh with OpenSSL, so no vector can expire.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include "../test.h"
#include "regtest.h"

EVP_PKEY *
regt_key(void)
{
    return EVP_EC_gen("P-256");
}

static int
add_ext(X509 *x, X509 *issuer, int nid, const char *value)
{
    X509V3_CTX ctx;
    X509_EXTENSION *ext;
    int ok;

    X509V3_set_ctx(&ctx, issuer, x, NULL, NULL, 0);
    ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
    if (ext == NULL) {
        return 0;
    }
    ok = X509_add_ext(x, ext, -1);
    X509_EXTENSION_free(ext);
    return ok;
}

char *
regt_cert(const char *cn, EVP_PKEY *key, X509 *issuer, EVP_PKEY *issuer_key,
          int ca, int from_days, int to_days, X509 **out)
{
    X509 *x = X509_new();
    X509_NAME *name = X509_NAME_new();
    BIO *b = BIO_new(BIO_s_mem());
    ASN1_INTEGER *serial = ASN1_INTEGER_new();
    unsigned char rnd[8];
    char *pem = NULL;
    char *p = NULL;
    long len;

    if (x == NULL || name == NULL || b == NULL || serial == NULL) {
        goto cleanup;
    }
    RAND_bytes(rnd, sizeof(rnd));
    rnd[0] &= 0x7f;
    ASN1_INTEGER_set_uint64(serial, ((uint64_t)rnd[0] << 56) |
                                        ((uint64_t)rnd[1] << 48) | rnd[7]);
    X509_set_serialNumber(x, serial);
    X509_set_version(x, 2);
    X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC,
                               (const unsigned char *)"thingcore test", -1, -1,
                               0);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                               (const unsigned char *)cn, -1, -1, 0);
    X509_set_subject_name(x, name);
    X509_set_issuer_name(x,
                         issuer != NULL ? X509_get_subject_name(issuer) : name);
    X509_time_adj_ex(X509_getm_notBefore(x), from_days, 0, NULL);
    X509_time_adj_ex(X509_getm_notAfter(x), to_days, 0, NULL);
    X509_set_pubkey(x, key);
    add_ext(x, issuer != NULL ? issuer : x, NID_basic_constraints,
            ca ? "critical,CA:TRUE" : "CA:FALSE");
    if (X509_sign(x, issuer_key != NULL ? issuer_key : key, EVP_sha256()) <=
            0 ||
        PEM_write_bio_X509(b, x) != 1) {
        goto cleanup;
    }
    len = BIO_get_mem_data(b, &p);
    pem = malloc((size_t)len + 1);
    if (pem != NULL) {
        memcpy(pem, p, (size_t)len);
        pem[len] = '\0';
    }
    if (out != NULL) {
        *out = x;
        x = NULL;
    }

cleanup:
    X509_free(x);
    X509_NAME_free(name);
    BIO_free(b);
    ASN1_INTEGER_free(serial);
    return pem;
}

struct tc_registry *
regt_open(char *path_out, size_t cap)
{
    struct tc_registry *reg = NULL;
    char path[300];

    snprintf(path, sizeof(path), "%s/reg.db", tc_test_tmpdir());
    if (path_out != NULL) {
        snprintf(path_out, cap, "%s", path);
    }
    if (tc_registry_open(path, &reg, NULL) != TC_OK) {
        return NULL;
    }
    tc_registry_set_identity(reg, "eu-west-1", "123456789012", NULL);
    return reg;
}

int
regt_leaf(struct tc_registry *reg, int status, char *id_out)
{
    struct tc_reg_cert_register in = {0};
    EVP_PKEY *k = regt_key();
    char *pem = regt_cert("leaf", k, NULL, NULL, 0, -1, 30, NULL);
    int ret;

    in.pem = pem;
    in.pem_len = pem != NULL ? strlen(pem) : 0;
    in.status = status;
    in.without_ca = 1;
    ret = tc_registry_cert_register(reg, &in, id_out, NULL);
    free(pem);
    EVP_PKEY_free(k);
    return ret;
}
