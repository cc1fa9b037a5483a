// SPDX-License-Identifier: Apache-2.0
/*
 * The simulated factory line: CA material kept in a folder, and chips made
 * through their own command set (configure, lock, GenKey, Write, Lock), so
 * the factory holds public keys only. Certificates come from cert.h.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <dirent.h>
#include <time.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rand.h>

#include "thingcore/cert.h"
#include "thingcore/factory.h"
#include "thingcore/se.h"
#include "thingcore/util.h"

/* OTP code naming device template 3 (reference: TNG client reads). */
static const char template3_code[8] = {'K', 'Q', 'p', '2',
                                       'Z', 'k', 'D', '8'};

struct tc_factory {
    char dir[4096];
    char root_path[4200];
    EVP_PKEY *root_key;
    X509 *root;
    EVP_PKEY *signer_key;
    uint8_t signer_id[2];
    uint8_t signer_pub[TC_CERT_PUBKEY_LEN];
    uint8_t signer_der[TC_CERT_DER_MAX];
    size_t signer_len;
    struct tc_cert_compressed signer_comp;
};

static const char simulated_note[] =
    "This folder is a simulated Trust&GO factory made by thingcore.\n"
    "root.pem is a simulated root CA, not Microchip's Crypto Authentication\n"
    "Root CA 002, although the Trust&GO templates make it carry that name.\n"
    "Trust it only for chips this folder made (thingcore se manufacture).\n";

int
tc_data_dir(const char *sub, char *out, size_t cap, struct tc_detail *d)
{
    const char *xdg = getenv("XDG_DATA_HOME");
    const char *home = getenv("HOME");
    int n;

    if (xdg != NULL && xdg[0] == '/') {
        n = snprintf(out, cap, "%s/thingcore/%s", xdg, sub);
    } else if (home != NULL && home[0] != '\0') {
        n = snprintf(out, cap, "%s/.local/share/thingcore/%s", home, sub);
    } else {
        return tc_detail_set(d, TC_ERR_NOT_FOUND, -1, "HOME",
                             "neither XDG_DATA_HOME nor HOME is set");
    }
    if (n < 0 || (size_t)n >= cap) {
        return tc_detail_set(d, TC_ERR_ARG, -1, NULL, "path too long");
    }
    return TC_OK;
}

static int
ossl_fail(struct tc_detail *d, const char *path, const char *what)
{
    char text[300];

    snprintf(text, sizeof(text), "%s %s", what, path);
    return tc_detail_ossl(d, TC_ERR_CRYPTO, path, text);
}

static int
write_key(const char *path, EVP_PKEY *key, struct tc_detail *d)
{
    BIO *bio = BIO_new(BIO_s_mem());
    char *mem;
    long len;
    int rc;

    if (bio == NULL ||
        !PEM_write_bio_PrivateKey(bio, key, NULL, NULL, 0, NULL, NULL)) {
        BIO_free(bio);
        return ossl_fail(d, path, "cannot encode");
    }
    len = BIO_get_mem_data(bio, &mem);
    rc = tc_file_write_atomic(path, mem, (size_t)len, 0600, d);
    BIO_free_all(bio);
    return rc;
}

static int
write_cert(const char *path, X509 *cert, struct tc_detail *d)
{
    BIO *bio = BIO_new(BIO_s_mem());
    char *mem;
    long len;
    int rc;

    if (bio == NULL || !PEM_write_bio_X509(bio, cert)) {
        BIO_free(bio);
        return ossl_fail(d, path, "cannot encode");
    }
    len = BIO_get_mem_data(bio, &mem);
    rc = tc_file_write_atomic(path, mem, (size_t)len, 0644, d);
    BIO_free_all(bio);
    return rc;
}

static int
read_key(const char *path, EVP_PKEY **out, struct tc_detail *d)
{
    FILE *f = fopen(path, "r");

    if (f == NULL) {
        return tc_detail_set(d, errno == ENOENT ? TC_ERR_NOT_FOUND : TC_ERR_IO,
                             -1, path, "cannot open %s: %s", path,
                             strerror(errno));
    }
    *out = PEM_read_PrivateKey(f, NULL, NULL, NULL);
    fclose(f);
    return *out != NULL ? TC_OK : ossl_fail(d, path, "cannot read key");
}

static int
read_cert(const char *path, X509 **out, struct tc_detail *d)
{
    FILE *f = fopen(path, "r");

    if (f == NULL) {
        return tc_detail_set(d, errno == ENOENT ? TC_ERR_NOT_FOUND : TC_ERR_IO,
                             -1, path, "cannot open %s: %s", path,
                             strerror(errno));
    }
    *out = PEM_read_X509(f, NULL, NULL, NULL);
    fclose(f);
    return *out != NULL ? TC_OK
                        : ossl_fail(d, path, "cannot read certificate");
}

/* Create root and signer CAs in an empty factory folder. */
static int
create_cas(struct tc_factory *f, struct tc_detail *d)
{
    const struct tc_cert_template *t = tc_cert_template_get(TC_CERT_SIGNER_1);
    struct tc_cert_inputs in;
    struct tc_cert_date issue;
    char path[4200];
    X509 *signer = NULL;
    int rc;

    memset(&in, 0, sizeof(in));
    rc = tc_cert_date_from_time(time(NULL), &issue, d);
    if (rc == TC_OK) {
        rc = tc_cert_key_generate(&f->root_key, d);
    }
    if (rc == TC_OK) {
        rc = tc_cert_root_create(f->root_key, &issue, &f->root, d);
    }
    if (rc == TC_OK) {
        rc = tc_cert_key_generate(&f->signer_key, d);
    }
    if (rc != TC_OK) {
        return rc;
    }

    /* The signer id is two random bytes; its CN ends in their hex. */
    if (RAND_bytes(f->signer_id, 2) != 1) {
        return tc_detail_set(d, TC_ERR_CRYPTO, -1, NULL, "no randomness");
    }
    rc = tc_cert_key_public(f->signer_key, in.pubkey, d);
    if (rc == TC_OK) {
        rc = tc_cert_key_public(f->root_key, in.ca_pubkey, d);
    }
    if (rc == TC_OK) {
        rc = tc_cert_issue(t, &in, f->signer_id, &issue, f->root_key,
                           f->signer_der, sizeof(f->signer_der),
                           &f->signer_len, NULL, d);
    }
    if (rc == TC_OK) {
        rc = tc_cert_x509_from_der(f->signer_der, f->signer_len, &signer, d);
    }
    if (rc != TC_OK) {
        return rc;
    }

    /* Keys first: a folder with certificates but no keys is unusable. */
    snprintf(path, sizeof(path), "%s/root.key", f->dir);
    rc = write_key(path, f->root_key, d);
    if (rc == TC_OK) {
        snprintf(path, sizeof(path), "%s/signer-%02X%02X.key", f->dir,
                 f->signer_id[0], f->signer_id[1]);
        rc = write_key(path, f->signer_key, d);
    }
    if (rc == TC_OK) {
        snprintf(path, sizeof(path), "%s/signer-%02X%02X.pem", f->dir,
                 f->signer_id[0], f->signer_id[1]);
        rc = write_cert(path, signer, d);
    }
    if (rc == TC_OK) {
        snprintf(path, sizeof(path), "%s/SIMULATED", f->dir);
        rc = tc_file_write_atomic(path, simulated_note,
                                  sizeof(simulated_note) - 1, 0644, d);
    }
    if (rc == TC_OK) {
        rc = write_cert(f->root_path, f->root, d);
    }
    X509_free(signer);
    return rc;
}

/* Find signer-XXXX.key in the folder and load it with its certificate. */
static int
load_cas(struct tc_factory *f, struct tc_detail *d)
{
    const struct tc_cert_template *t = tc_cert_template_get(TC_CERT_SIGNER_1);
    struct tc_cert_fields fields;
    char path[4200];
    DIR *dir;
    struct dirent *e;
    X509 *signer = NULL;
    unsigned char *der = NULL;
    int len;
    int rc;

    snprintf(path, sizeof(path), "%s/root.key", f->dir);
    rc = read_key(path, &f->root_key, d);
    if (rc == TC_OK) {
        rc = read_cert(f->root_path, &f->root, d);
    }
    if (rc != TC_OK) {
        return rc;
    }
    dir = opendir(f->dir);
    rc = tc_detail_set(d, TC_ERR_NOT_FOUND, -1, f->dir,
                       "%s has a root but no signer-XXXX.key", f->dir);
    while (dir != NULL && (e = readdir(dir)) != NULL) {
        unsigned id;

        if (strlen(e->d_name) != 15 ||
            sscanf(e->d_name, "signer-%4X.key", &id) != 1 ||
            strcmp(e->d_name + 11, ".key") != 0) {
            continue;
        }
        f->signer_id[0] = (uint8_t)(id >> 8);
        f->signer_id[1] = (uint8_t)id;
        snprintf(path, sizeof(path), "%s/%.32s", f->dir, e->d_name);
        rc = read_key(path, &f->signer_key, d);
        if (rc == TC_OK) {
            snprintf(path, sizeof(path), "%s/signer-%04X.pem", f->dir, id);
            rc = read_cert(path, &signer, d);
        }
        break;
    }
    if (dir != NULL) {
        closedir(dir);
    }
    if (rc != TC_OK) {
        return rc;
    }
    len = i2d_X509(signer, &der);
    X509_free(signer);
    if (len <= 0 || (size_t)len > sizeof(f->signer_der)) {
        OPENSSL_free(der);
        return tc_detail_set(d, TC_ERR_CERT_FORMAT, -1, f->dir,
                             "the signer certificate in %s is unusable",
                             f->dir);
    }
    memcpy(f->signer_der, der, (size_t)len);
    f->signer_len = (size_t)len;
    OPENSSL_free(der);
    return tc_cert_extract(t, f->signer_der, f->signer_len, &fields, d);
}

int
tc_factory_open(const char *dir, int create, struct tc_factory **out,
                struct tc_detail *d)
{
    const struct tc_cert_template *t = tc_cert_template_get(TC_CERT_SIGNER_1);
    struct tc_factory *f = calloc(1, sizeof(*f));
    struct tc_cert_fields fields;
    struct stat st;
    int rc;

    *out = NULL;
    if (f == NULL) {
        return TC_ERR_NOMEM;
    }
    snprintf(f->dir, sizeof(f->dir), "%s", dir);
    snprintf(f->root_path, sizeof(f->root_path), "%s/root.pem", dir);
    if (stat(f->root_path, &st) == 0) {
        rc = load_cas(f, d);
    } else if (!create) {
        rc = tc_detail_set(d, TC_ERR_NOT_FOUND, -1, dir,
                           "%s is not a factory folder (no root.pem)", dir);
    } else {
        rc = tc_mkdir_p(dir, 0700, d);
        if (rc == TC_OK) {
            rc = create_cas(f, d);
        }
    }

    /* The compressed form of the signer certificate, for slot 12. */
    if (rc == TC_OK) {
        rc = tc_cert_extract(t, f->signer_der, f->signer_len, &fields, d);
    }
    if (rc == TC_OK) {
        memset(&f->signer_comp, 0, sizeof(f->signer_comp));
        memcpy(f->signer_comp.signature, fields.signature, 64);
        f->signer_comp.issue = fields.issue;
        f->signer_comp.expire_years = fields.expire_years;
        memcpy(f->signer_comp.signer_id, fields.signer_id, 2);
        f->signer_comp.template_id = t->template_id;
        f->signer_comp.chain_id = t->chain_id;
        f->signer_comp.sn_source = TC_CERT_SNSRC_PUB_KEY_HASH;
        rc = tc_cert_compressed_encode(&f->signer_comp, d);
    }
    if (rc == TC_OK) {
        rc = tc_cert_key_public(f->signer_key, f->signer_pub, d);
    }
    if (rc != TC_OK) {
        tc_factory_free(f);
        return rc;
    }
    *out = f;
    return TC_OK;
}

void
tc_factory_free(struct tc_factory *f)
{
    if (f == NULL) {
        return;
    }
    EVP_PKEY_free(f->root_key);
    EVP_PKEY_free(f->signer_key);
    X509_free(f->root);
    free(f);
}

X509 *
tc_factory_root(const struct tc_factory *f)
{
    return f->root;
}

const char *
tc_factory_root_path(const struct tc_factory *f)
{
    return f->root_path;
}

/* 72 bytes: the stored form of a public key, each half after 4 zeros. */
static void
pad_pubkey(const uint8_t *pub, uint8_t *out)
{
    memset(out, 0, 72);
    memcpy(out + 4, pub, 32);
    memcpy(out + 40, pub + 32, 32);
}

int
tc_factory_make_chip(struct tc_factory *f, const uint8_t *sn_in,
                     struct tc_chip **out, struct tc_detail *d)
{
    const struct tc_cert_template *t = tc_cert_template_get(TC_CERT_DEVICE_3);
    struct tc_cert_inputs in;
    struct tc_cert_compressed comp;
    struct tc_cert_date issue;
    uint8_t sn[TC_ATCA_SN_SIZE];
    uint8_t otp[TC_ATCA_OTP_SIZE];
    uint8_t slot5[16];
    uint8_t padded[72];
    uint8_t pub[TC_ATCA_PUBKEY_SIZE];
    uint8_t der[TC_CERT_DER_MAX];
    uint8_t mac[6];
    size_t der_len;
    struct tc_chip *chip = NULL;
    struct tc_se *se = NULL;
    unsigned slot;
    int rc;

    *out = NULL;
    if (sn_in != NULL) {
        memcpy(sn, sn_in, sizeof(sn));
    } else {
        sn[0] = 0x01;
        sn[1] = 0x23;
        sn[8] = 0x01;
        if (RAND_bytes(sn + 2, 6) != 1) {
            return tc_detail_set(d, TC_ERR_CRYPTO, -1, NULL, "no randomness");
        }
    }

    /* A locally administered EUI-48, so it cannot clash with a real one. */
    if (RAND_bytes(mac, sizeof(mac)) != 1) {
        return tc_detail_set(d, TC_ERR_CRYPTO, -1, NULL, "no randomness");
    }
    mac[0] = (uint8_t)((mac[0] & 0xFC) | 0x02);
    memset(&in, 0, sizeof(in));
    tc_hex_encode(mac, sizeof(mac), in.eui48, 1);
    memcpy(in.sn, sn, sizeof(sn));
    memcpy(in.ca_pubkey, f->signer_pub, sizeof(in.ca_pubkey));

    chip = tc_chip_new(sn);
    se = chip != NULL ? tc_se_from_chip(chip) : NULL;
    if (se == NULL) {
        rc = TC_ERR_NOMEM;
        goto out;
    }
    tc_chip_set_simulated(chip, 1);

    /* Configure and lock, then let the chip make its keys. */
    rc = tc_se_configure_trustngo(se, d);
    if (rc == TC_OK) {
        rc = tc_se_lock_zone(se, 0, tc_chip_lock_crc(chip, 0), d);
    }
    for (slot = 0; rc == TC_OK && slot < 5; slot++) {
        rc = tc_se_genkey(se, slot, slot == 0 ? in.pubkey : pub, d);
    }

    /* The device certificate, issued on the public key alone. */
    if (rc == TC_OK) {
        rc = tc_cert_date_from_time(time(NULL), &issue, d);
    }
    if (rc == TC_OK) {
        rc = tc_cert_issue(t, &in, f->signer_id, &issue, f->signer_key, der,
                           sizeof(der), &der_len, &comp, d);
    }

    /* OTP names the template; slots 5, 10, 11, 12 hold the rest. */
    memset(otp, 0, sizeof(otp));
    memcpy(otp, template3_code, sizeof(template3_code));
    memset(slot5, 0, sizeof(slot5));
    memcpy(slot5, in.eui48, TC_CERT_EUI48_LEN);
    if (rc == TC_OK) {
        rc = tc_se_write(se, TC_ATCA_ZONE_OTP, 0, 0, otp, sizeof(otp), d);
    }
    if (rc == TC_OK) {
        rc = tc_se_write(se, TC_ATCA_ZONE_DATA, 5, 0, slot5, sizeof(slot5), d);
    }
    if (rc == TC_OK) {
        rc = tc_se_write(se, TC_ATCA_ZONE_DATA, 10, 0, comp.raw,
                         TC_CERT_COMPRESSED_LEN, d);
    }
    if (rc == TC_OK) {
        pad_pubkey(f->signer_pub, padded);
        rc = tc_se_write(se, TC_ATCA_ZONE_DATA, 11, 0, padded, 72, d);
    }
    if (rc == TC_OK) {
        rc = tc_se_write(se, TC_ATCA_ZONE_DATA, 12, 0, f->signer_comp.raw,
                         TC_CERT_COMPRESSED_LEN, d);
    }
    if (rc == TC_OK) {
        rc = tc_se_lock_zone(se, 1, tc_chip_lock_crc(chip, 1), d);
    }
    if (rc == TC_OK) {
        *out = chip;
        chip = NULL;
    }
out:
    tc_se_close(se);
    tc_chip_free(chip);
    return rc;
}
