// SPDX-License-Identifier: Apache-2.0
/*
 * thingcore-pkcs11.so driven through its function list, as an application
 * does: dlopen'd from beside the test program, talking to virtual chips
 * served by the real emulator daemon loop (tc_serve_run) on a thread of
 * this process. Covers configuration, slots, objects and attributes,
 * signing with both mechanisms, their refusals, two threads on two tokens,
 * a daemon restart under a live session, and C_Initialize after fork.
 */
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <p11-kit/pkcs11.h>

#include "../test.h"
#include "thingcore/chip.h"
#include "thingcore/ec.h"
#include "thingcore/factory.h"
#include "thingcore/se.h"
#include "thingcore/serve.h"
#include "thingcore/util.h"

/* Two chips: one from the simulated factory, one with a key only. */
static const uint8_t sn_cert[9] = {0x01, 0x23, 0x51, 0x52, 0x53,
                                   0x54, 0x55, 0x56, 0x01};
static const uint8_t sn_bare[9] = {0x01, 0x23, 0x61, 0x62, 0x63,
                                   0x64, 0x65, 0x66, 0x01};
#define LABEL_CERT "012351525354555601"
#define LABEL_BARE "012361626364656601"

struct daemon {
    char dir[PATH_MAX];
    char ready[PATH_MAX + 16];
    int stop[2];
    pthread_t thread;
    struct tc_serve_opts opts;
};

static void *
serve_main(void *arg)
{
    struct daemon *dm = arg;

    (void)tc_serve_run(&dm->opts);
    return NULL;
}

/* Start serving dm->dir; 0 once its sockets listen. */
static int
daemon_start(struct daemon *dm)
{
    struct stat st;
    int i;

    snprintf(dm->ready, sizeof(dm->ready), "%s/ready", dm->dir);
    unlink(dm->ready);
    if (pipe(dm->stop) != 0) {
        return -1;
    }
    memset(&dm->opts, 0, sizeof(dm->opts));
    dm->opts.dir = dm->dir;
    dm->opts.ready_file = dm->ready;
    dm->opts.stop_fd = dm->stop[0];
    if (pthread_create(&dm->thread, NULL, serve_main, dm) != 0) {
        return -1;
    }
    for (i = 0; i < 500; i++) {
        if (stat(dm->ready, &st) == 0) {
            return 0;
        }
        usleep(10000);
    }
    return -1;
}

static void
daemon_stop(struct daemon *dm)
{
    (void)write(dm->stop[1], "x", 1);
    pthread_join(dm->thread, NULL);
    close(dm->stop[0]);
    close(dm->stop[1]);
}

/* A chip with a key in slot 0 and no certificates, saved into dir. */
static int
make_bare_chip(const char *dir, uint8_t *pub)
{
    struct tc_chip *chip = tc_chip_new(sn_bare);
    struct tc_se *se = chip != NULL ? tc_se_from_chip(chip) : NULL;
    uint8_t key[TC_CHIP_WRAP_KEY_SIZE];
    char path[PATH_MAX + 48];
    char name[32];
    int rc = -1;

    if (se == NULL || tc_se_configure_trustngo(se, NULL) != TC_OK ||
        tc_se_lock_zone(se, 0, -1, NULL) != TC_OK ||
        tc_se_genkey(se, 0, pub, NULL) != TC_OK ||
        tc_se_lock_zone(se, 1, -1, NULL) != TC_OK ||
        tc_chip_folder_key(dir, 1, key, NULL) != TC_OK) {
        goto cleanup;
    }
    tc_chip_file_name(sn_bare, name);
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    rc = tc_chip_save(chip, path, key, NULL) == TC_OK ? 0 : -1;

cleanup:
    tc_se_close(se);
    tc_chip_free(chip);
    return rc;
}

static int
make_factory_chip(const char *dir, const char *fdir)
{
    struct tc_factory *f = NULL;
    struct tc_chip *chip = NULL;
    uint8_t key[TC_CHIP_WRAP_KEY_SIZE];
    char path[PATH_MAX + 48];
    char name[32];
    int rc = -1;

    if (tc_factory_open(fdir, 1, &f, NULL) != TC_OK ||
        tc_factory_make_chip(f, sn_cert, &chip, NULL) != TC_OK ||
        tc_chip_folder_key(dir, 1, key, NULL) != TC_OK) {
        goto cleanup;
    }
    tc_chip_file_name(sn_cert, name);
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    rc = tc_chip_save(chip, path, key, NULL) == TC_OK ? 0 : -1;

cleanup:
    tc_chip_free(chip);
    tc_factory_free(f);
    return rc;
}

/* ---- the module ---- */

static void *module;
static CK_FUNCTION_LIST_PTR p11;

/* Load the module built beside this program, once. */
static int
load_module(void)
{
    char self[PATH_MAX];
    char path[PATH_MAX + 32];
    CK_C_GetFunctionList get;
    ssize_t n;
    char *slash;

    if (p11 != NULL) {
        return 0;
    }
    n = readlink("/proc/self/exe", self, sizeof(self) - 1);
    if (n <= 0) {
        return -1;
    }
    self[n] = '\0';
    slash = strrchr(self, '/');
    if (slash == NULL) {
        return -1;
    }
    *slash = '\0';
    snprintf(path, sizeof(path), "%s/thingcore-pkcs11.so", self);
    module = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (module == NULL) {
        fprintf(stderr, "  cannot load %s: %s (run make first)\n", path,
                dlerror());
        return -1;
    }
    get = (CK_C_GetFunctionList)dlsym(module, "C_GetFunctionList");
    if (get == NULL || get(&p11) != CKR_OK) {
        return -1;
    }
    return 0;
}

/* A fixture: a folder with both chips served, the module initialized. */
struct fixture {
    struct daemon dm;
    char fdir[PATH_MAX];
    uint8_t bare_pub[64];
};

static int
fixture_up(struct fixture *fx)
{
    const char *tmp = tc_test_tmpdir();
    char env[2 * PATH_MAX + 64];

    memset(fx, 0, sizeof(*fx));
    snprintf(fx->dm.dir, sizeof(fx->dm.dir), "%s/chips", tmp);
    snprintf(fx->fdir, sizeof(fx->fdir), "%s/factory", tmp);
    if (mkdir(fx->dm.dir, 0700) != 0 || load_module() != 0 ||
        make_factory_chip(fx->dm.dir, fx->fdir) != 0 ||
        make_bare_chip(fx->dm.dir, fx->bare_pub) != 0 ||
        daemon_start(&fx->dm) != 0) {
        return -1;
    }
    snprintf(env, sizeof(env),
             "unix:%s/012351525354555601.sock, unix:%s/012361626364656601.sock",
             fx->dm.dir, fx->dm.dir);
    setenv("THINGCORE_SE", env, 1);
    setenv("THINGCORE_FACTORY", fx->fdir, 1);
    return p11->C_Initialize(NULL) == CKR_OK ? 0 : -1;
}

static void
fixture_down(struct fixture *fx)
{
    (void)p11->C_Finalize(NULL);
    daemon_stop(&fx->dm);
    unsetenv("THINGCORE_SE");
    unsetenv("THINGCORE_FACTORY");
}

/* The private key handle of a session's token, or 0. */
static CK_OBJECT_HANDLE
find_one(CK_SESSION_HANDLE s, CK_OBJECT_CLASS cls, const char *label)
{
    CK_ATTRIBUTE tmpl[2] = {
        {CKA_CLASS, &cls, sizeof(cls)},
        {CKA_LABEL, (void *)label, label != NULL ? strlen(label) : 0},
    };
    CK_OBJECT_HANDLE h = 0;
    CK_ULONG n = 0;

    if (p11->C_FindObjectsInit(s, tmpl, label != NULL ? 2 : 1) != CKR_OK) {
        return 0;
    }
    if (p11->C_FindObjects(s, &h, 1, &n) != CKR_OK || n != 1) {
        h = 0;
    }
    (void)p11->C_FindObjectsFinal(s);
    return h;
}

/* Verify r||s over a digest with the token's CKA_EC_POINT. */
static int
verify_with_token(CK_SESSION_HANDLE s, const uint8_t *digest,
                  const uint8_t *rs)
{
    CK_OBJECT_HANDLE pub = find_one(s, CKO_PUBLIC_KEY, NULL);
    uint8_t point[67];
    CK_ATTRIBUTE a = {CKA_EC_POINT, point, sizeof(point)};
    EVP_PKEY *k;
    int ok;

    if (pub == 0 || p11->C_GetAttributeValue(s, pub, &a, 1) != CKR_OK ||
        a.ulValueLen != 67 || point[0] != 0x04 || point[2] != 0x04) {
        return 0;
    }
    k = tc_ec_pubkey_from_xy(point + 3);
    ok = k != NULL && tc_ec_verify_digest(k, digest, rs) == TC_OK;
    EVP_PKEY_free(k);
    return ok;
}

/* Open a session on the token labelled label. */
static CK_RV
open_token(const char *label, CK_SESSION_HANDLE *s)
{
    CK_SLOT_ID slots[8];
    CK_ULONG n = 8;
    CK_ULONG i;
    CK_RV rv = p11->C_GetSlotList(CK_TRUE, slots, &n);

    for (i = 0; rv == CKR_OK && i < n; i++) {
        CK_TOKEN_INFO ti;

        if (p11->C_GetTokenInfo(slots[i], &ti) == CKR_OK &&
            memcmp(ti.label, label, 18) == 0) {
            return p11->C_OpenSession(slots[i], CKF_SERIAL_SESSION, NULL,
                                      NULL, s);
        }
    }
    return rv == CKR_OK ? CKR_TOKEN_NOT_PRESENT : rv;
}

static CK_RV
sign_digest(CK_SESSION_HANDLE s, const uint8_t *digest, CK_ULONG len,
            uint8_t *sig)
{
    CK_MECHANISM mech = {CKM_ECDSA, NULL, 0};
    CK_OBJECT_HANDLE key = find_one(s, CKO_PRIVATE_KEY, "device");
    CK_ULONG siglen = 64;
    CK_RV rv = p11->C_SignInit(s, &mech, key);

    if (rv == CKR_OK) {
        rv = p11->C_Sign(s, (CK_BYTE_PTR)digest, len, sig, &siglen);
    }
    return rv;
}

/* ---- tests ---- */

TC_TEST(pkcs11_exports_only_cryptoki)
{
    CK_INFO info;

    CHECK(load_module() == 0);
    CHECK(dlsym(module, "C_Sign") != NULL);
    CHECK(dlsym(module, "tc_se_open") == NULL);
    CHECK(dlsym(module, "p11_module") == NULL);
    CHECK_EQ_INT(p11->C_GetInfo(&info), CKR_CRYPTOKI_NOT_INITIALIZED);
    CHECK(p11->C_GenerateKeyPair != NULL && p11->C_WaitForSlotEvent != NULL);
    CHECK_EQ_INT(p11->version.major, 2);
    CHECK_EQ_INT(p11->version.minor, 40);
}

TC_TEST(pkcs11_config_errors)
{
    static const char *const bad[] = {
        "unix:/a,/b",          /* second entry names no transport */
        "tcp:1.2.3.4:5",       /* unknown scheme */
        "unix:/a, unix:/a",    /* named twice */
        "unix:",               /* nothing after the scheme */
        "/nonexistent/list",   /* no ':' and no such file */
    };
    const char *tmp = tc_test_tmpdir();
    char path[PATH_MAX];
    CK_SLOT_ID slots[8];
    CK_ULONG n;
    size_t i;
    FILE *f;

    CHECK(load_module() == 0);
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        setenv("THINGCORE_SE", bad[i], 1);
        CHECK_EQ_INT(p11->C_Initialize(NULL), CKR_GENERAL_ERROR);
    }

    /* A file of transports: comments and blank lines skipped. */
    snprintf(path, sizeof(path), "%s/tokens", tmp);
    f = fopen(path, "w");
    CHECK(f != NULL);
    fputs("# chips of this host\n\n  unix:/nowhere/a.sock  \n"
          "kit:/dev/null-kit\n# end\n",
          f);
    fclose(f);
    setenv("THINGCORE_SE", path, 1);
    CHECK_EQ_INT(p11->C_Initialize(NULL), CKR_OK);
    CHECK_EQ_INT(p11->C_Initialize(NULL), CKR_CRYPTOKI_ALREADY_INITIALIZED);
    n = 8;
    CHECK_EQ_INT(p11->C_GetSlotList(CK_FALSE, slots, &n), CKR_OK);
    CHECK_EQ_INT(n, 2);
    n = 8;
    CHECK_EQ_INT(p11->C_GetSlotList(CK_TRUE, slots, &n), CKR_OK);
    CHECK_EQ_INT(n, 0);
    {
        CK_TOKEN_INFO ti;
        CK_SLOT_INFO si;
        CK_SESSION_HANDLE s;

        CHECK_EQ_INT(p11->C_GetTokenInfo(0, &ti), CKR_TOKEN_NOT_PRESENT);
        CHECK_EQ_INT(p11->C_GetSlotInfo(0, &si), CKR_OK);
        CHECK(!(si.flags & CKF_TOKEN_PRESENT));
        CHECK_EQ_INT(p11->C_GetSlotInfo(2, &si), CKR_SLOT_ID_INVALID);
        CHECK_EQ_INT(p11->C_OpenSession(0, CKF_SERIAL_SESSION, NULL, NULL,
                                        &s),
                     CKR_TOKEN_NOT_PRESENT);
    }
    CHECK_EQ_INT(p11->C_Finalize(NULL), CKR_OK);
    CHECK_EQ_INT(p11->C_Finalize(NULL), CKR_CRYPTOKI_NOT_INITIALIZED);

    /* Locking callbacks must come all four or none. */
    {
        CK_C_INITIALIZE_ARGS a;

        memset(&a, 0, sizeof(a));
        a.CreateMutex = (CK_CREATEMUTEX)1;
        CHECK_EQ_INT(p11->C_Initialize(&a), CKR_ARGUMENTS_BAD);
        memset(&a, 0, sizeof(a));
        a.flags = CKF_OS_LOCKING_OK;
        CHECK_EQ_INT(p11->C_Initialize(&a), CKR_OK);
        CHECK_EQ_INT(p11->C_Finalize(NULL), CKR_OK);
    }
    unsetenv("THINGCORE_SE");
}

TC_TEST(pkcs11_tokens_and_objects)
{
    struct fixture fx;
    CK_SESSION_HANDLE s;
    CK_TOKEN_INFO ti;
    CK_SESSION_INFO si;
    CK_OBJECT_HANDLE priv;
    CK_OBJECT_HANDLE found[8];
    CK_ULONG n = 0;
    uint8_t id[20];
    uint8_t cert_id[20];
    uint8_t value[8];
    CK_BBOOL b = CK_TRUE;
    CK_ATTRIBUTE a[3];
    int ok = fixture_up(&fx) == 0;

    if (!ok) {
        CHECK(ok);
    }
    CHECK_EQ_INT(open_token(LABEL_CERT, &s), CKR_OK);
    CHECK_EQ_INT(p11->C_GetTokenInfo(0, &ti), CKR_OK);
    CHECK(memcmp(ti.label, "0123515253545556", 16) == 0);
    CHECK(ti.label[18] == ' ' && ti.label[31] == ' ');
    CHECK(memcmp(ti.serialNumber, "0123515253545556", 16) == 0);
    CHECK(memcmp(ti.model, "ATECC608        ", 16) == 0);
    CHECK(!(ti.flags & CKF_LOGIN_REQUIRED));
    CHECK(ti.flags & CKF_TOKEN_INITIALIZED);
    CHECK_EQ_INT(p11->C_GetSessionInfo(s, &si), CKR_OK);
    CHECK_EQ_INT(si.state, CKS_RO_PUBLIC_SESSION);

    /* Four objects: key pair and two certificates. */
    CHECK_EQ_INT(p11->C_FindObjectsInit(s, NULL, 0), CKR_OK);
    CHECK_EQ_INT(p11->C_FindObjectsInit(s, NULL, 0), CKR_OPERATION_ACTIVE);
    CHECK_EQ_INT(p11->C_FindObjects(s, found, 8, &n), CKR_OK);
    CHECK_EQ_INT(n, 4);
    CHECK_EQ_INT(p11->C_FindObjectsFinal(s), CKR_OK);
    CHECK_EQ_INT(p11->C_FindObjects(s, found, 8, &n),
                 CKR_OPERATION_NOT_INITIALIZED);

    /* The private key: sensitive, its CKA_ID the certificate's. */
    priv = find_one(s, CKO_PRIVATE_KEY, "device");
    CHECK(priv != 0);
    a[0] = (CK_ATTRIBUTE){CKA_VALUE, value, sizeof(value)};
    CHECK_EQ_INT(p11->C_GetAttributeValue(s, priv, a, 1),
                 CKR_ATTRIBUTE_SENSITIVE);
    CHECK_EQ_INT(a[0].ulValueLen, CK_UNAVAILABLE_INFORMATION);
    a[0] = (CK_ATTRIBUTE){CKA_ID, id, sizeof(id)};
    a[1] = (CK_ATTRIBUTE){CKA_SENSITIVE, &b, sizeof(b)};
    a[2] = (CK_ATTRIBUTE){CKA_MODULUS, NULL, 0};
    CHECK_EQ_INT(p11->C_GetAttributeValue(s, priv, a, 3),
                 CKR_ATTRIBUTE_TYPE_INVALID);
    CHECK_EQ_INT(a[0].ulValueLen, 20);
    CHECK_EQ_INT(b, CK_TRUE);
    CHECK_EQ_INT(a[2].ulValueLen, CK_UNAVAILABLE_INFORMATION);
    a[0] = (CK_ATTRIBUTE){CKA_EC_PARAMS, value, 4};
    CHECK_EQ_INT(p11->C_GetAttributeValue(s, priv, a, 1),
                 CKR_BUFFER_TOO_SMALL);
    a[0] = (CK_ATTRIBUTE){CKA_EXTRACTABLE, &b, sizeof(b)};
    CHECK_EQ_INT(p11->C_GetAttributeValue(s, priv, a, 1), CKR_OK);
    CHECK_EQ_INT(b, CK_FALSE);

    /* The device certificate carries the same CKA_ID, and its key. */
    {
        CK_OBJECT_HANDLE cert = find_one(s, CKO_CERTIFICATE, "device");
        CK_OBJECT_HANDLE signer = find_one(s, CKO_CERTIFICATE, "signer");
        uint8_t der[1024];
        const unsigned char *p = der;
        CK_ULONG cat = 0;
        X509 *x;

        CHECK(cert != 0 && signer != 0);
        a[0] = (CK_ATTRIBUTE){CKA_ID, cert_id, sizeof(cert_id)};
        a[1] = (CK_ATTRIBUTE){CKA_VALUE, der, sizeof(der)};
        CHECK_EQ_INT(p11->C_GetAttributeValue(s, cert, a, 2), CKR_OK);
        CHECK_EQ_MEM(cert_id, id, 20);
        x = d2i_X509(NULL, &p, (long)a[1].ulValueLen);
        CHECK(x != NULL);
        {
            const ASN1_OCTET_STRING *ski = X509_get0_subject_key_id(x);
            int same = ski != NULL && ASN1_STRING_length(ski) == 20 &&
                       memcmp(ASN1_STRING_get0_data(ski), id, 20) == 0;

            X509_free(x);
            CHECK(same);
        }
        a[0] = (CK_ATTRIBUTE){CKA_CERTIFICATE_CATEGORY, &cat, sizeof(cat)};
        CHECK_EQ_INT(p11->C_GetAttributeValue(s, signer, a, 1), CKR_OK);
        CHECK_EQ_INT(cat, 2);
    }
    CHECK_EQ_INT(p11->C_GetAttributeValue(s, 999, a, 1),
                 CKR_OBJECT_HANDLE_INVALID);
    CHECK_EQ_INT(p11->C_CloseSession(s), CKR_OK);
    CHECK_EQ_INT(p11->C_CloseSession(s), CKR_SESSION_HANDLE_INVALID);

    /* The bare chip: key objects only, the key from GenKey. */
    CHECK_EQ_INT(open_token(LABEL_BARE, &s), CKR_OK);
    CHECK_EQ_INT(p11->C_FindObjectsInit(s, NULL, 0), CKR_OK);
    CHECK_EQ_INT(p11->C_FindObjects(s, found, 8, &n), CKR_OK);
    CHECK_EQ_INT(p11->C_FindObjectsFinal(s), CKR_OK);
    CHECK_EQ_INT(n, 2);
    CHECK(find_one(s, CKO_CERTIFICATE, NULL) == 0);
    {
        CK_OBJECT_HANDLE pub = find_one(s, CKO_PUBLIC_KEY, NULL);
        uint8_t point[67];

        a[0] = (CK_ATTRIBUTE){CKA_EC_POINT, point, sizeof(point)};
        CHECK_EQ_INT(p11->C_GetAttributeValue(s, pub, a, 1), CKR_OK);
        CHECK_EQ_MEM(point + 3, fx.bare_pub, 64);
    }
    CHECK_EQ_INT(p11->C_CloseAllSessions(1), CKR_OK);
    fixture_down(&fx);
}

TC_TEST(pkcs11_sign_mechanisms)
{
    static const char msg[] = "thingcore pkcs11 test message";
    struct fixture fx;
    CK_SESSION_HANDLE s;
    CK_OBJECT_HANDLE key;
    CK_OBJECT_HANDLE pub;
    CK_MECHANISM ecdsa = {CKM_ECDSA, NULL, 0};
    CK_MECHANISM sha = {CKM_ECDSA_SHA256, NULL, 0};
    CK_MECHANISM rsa = {CKM_RSA_PKCS, NULL, 0};
    uint8_t digest[32];
    uint8_t sig[64];
    uint8_t small[8];
    CK_ULONG siglen;
    int ok = fixture_up(&fx) == 0;

    if (!ok) {
        CHECK(ok);
    }
    EVP_Digest(msg, strlen(msg), digest, NULL, EVP_sha256(), NULL);
    CHECK_EQ_INT(open_token(LABEL_CERT, &s), CKR_OK);
    key = find_one(s, CKO_PRIVATE_KEY, NULL);
    pub = find_one(s, CKO_PUBLIC_KEY, NULL);
    CHECK(key != 0 && pub != 0);

    /* Refusals. */
    CHECK_EQ_INT(p11->C_Sign(s, digest, 32, sig, &siglen),
                 CKR_OPERATION_NOT_INITIALIZED);
    CHECK_EQ_INT(p11->C_SignInit(s, &rsa, key), CKR_MECHANISM_INVALID);
    CHECK_EQ_INT(p11->C_SignInit(s, &ecdsa, pub),
                 CKR_KEY_FUNCTION_NOT_PERMITTED);
    CHECK_EQ_INT(p11->C_SignInit(s, &ecdsa, 12345), CKR_KEY_HANDLE_INVALID);
    {
        CK_MECHANISM with_param = {CKM_ECDSA, digest, 4};

        CHECK_EQ_INT(p11->C_SignInit(s, &with_param, key),
                     CKR_MECHANISM_PARAM_INVALID);
    }

    /* CKM_ECDSA: size query, too small, then the signature. */
    CHECK_EQ_INT(p11->C_SignInit(s, &ecdsa, key), CKR_OK);
    CHECK_EQ_INT(p11->C_SignInit(s, &ecdsa, key), CKR_OPERATION_ACTIVE);
    siglen = 0;
    CHECK_EQ_INT(p11->C_Sign(s, digest, 32, NULL, &siglen), CKR_OK);
    CHECK_EQ_INT(siglen, 64);
    siglen = sizeof(small);
    CHECK_EQ_INT(p11->C_Sign(s, digest, 32, small, &siglen),
                 CKR_BUFFER_TOO_SMALL);
    CHECK_EQ_INT(siglen, 64);
    CHECK_EQ_INT(p11->C_Sign(s, digest, 32, sig, &siglen), CKR_OK);
    CHECK_EQ_INT(siglen, 64);
    CHECK(verify_with_token(s, digest, sig));

    /* A tampered digest does not verify: the check can fail. */
    digest[0] ^= 1;
    CHECK(!verify_with_token(s, digest, sig));
    digest[0] ^= 1;

    /* A longer input is cut to its leftmost 32 bytes. */
    {
        uint8_t sha512ish[64];

        memcpy(sha512ish, digest, 32);
        memset(sha512ish + 32, 0xA5, 32);
        CHECK_EQ_INT(sign_digest(s, sha512ish, 64, sig), CKR_OK);
        CHECK(verify_with_token(s, digest, sig));
    }

    /* A shorter input is the same integer, zero-padded on the left. */
    {
        uint8_t padded[32];

        memset(padded, 0, 12);
        memcpy(padded + 12, digest, 20);
        CHECK_EQ_INT(sign_digest(s, digest, 20, sig), CKR_OK);
        CHECK(verify_with_token(s, padded, sig));
    }

    /* Empty and over-long input end the operation. */
    CHECK_EQ_INT(sign_digest(s, digest, 0, sig), CKR_DATA_LEN_RANGE);
    {
        uint8_t big[65];

        memset(big, 1, sizeof(big));
        CHECK_EQ_INT(sign_digest(s, big, sizeof(big), sig),
                     CKR_DATA_LEN_RANGE);
    }
    CHECK_EQ_INT(p11->C_Sign(s, digest, 32, sig, &siglen),
                 CKR_OPERATION_NOT_INITIALIZED);

    /* CKM_ECDSA is single-part. */
    CHECK_EQ_INT(p11->C_SignInit(s, &ecdsa, key), CKR_OK);
    CHECK_EQ_INT(p11->C_SignUpdate(s, digest, 32),
                 CKR_FUNCTION_NOT_SUPPORTED);
    CHECK_EQ_INT(p11->C_SignInit(s, &ecdsa, key), CKR_OK);
    siglen = sizeof(sig);
    CHECK_EQ_INT(p11->C_SignFinal(s, sig, &siglen),
                 CKR_FUNCTION_NOT_SUPPORTED);

    /* CKM_ECDSA_SHA256, single-part and in three parts. */
    CHECK_EQ_INT(p11->C_SignInit(s, &sha, key), CKR_OK);
    siglen = sizeof(sig);
    CHECK_EQ_INT(p11->C_Sign(s, (CK_BYTE_PTR)msg, strlen(msg), sig, &siglen),
                 CKR_OK);
    CHECK(verify_with_token(s, digest, sig));
    CHECK_EQ_INT(p11->C_SignInit(s, &sha, key), CKR_OK);
    CHECK_EQ_INT(p11->C_SignUpdate(s, (CK_BYTE_PTR)msg, 5), CKR_OK);
    CHECK_EQ_INT(p11->C_SignUpdate(s, (CK_BYTE_PTR)msg + 5, 0), CKR_OK);
    CHECK_EQ_INT(p11->C_SignUpdate(s, (CK_BYTE_PTR)msg + 5, strlen(msg) - 5),
                 CKR_OK);
    CHECK_EQ_INT(p11->C_Sign(s, digest, 32, sig, &siglen),
                 CKR_OPERATION_ACTIVE);
    siglen = 0;
    CHECK_EQ_INT(p11->C_SignFinal(s, NULL, &siglen), CKR_OK);
    CHECK_EQ_INT(siglen, 64);
    CHECK_EQ_INT(p11->C_SignFinal(s, sig, &siglen), CKR_OK);
    CHECK(verify_with_token(s, digest, sig));

    /* Random bytes from the chip; login accepted without a PIN. */
    {
        uint8_t r1[40];
        uint8_t r2[40];

        CHECK_EQ_INT(p11->C_GenerateRandom(s, r1, sizeof(r1)), CKR_OK);
        CHECK_EQ_INT(p11->C_GenerateRandom(s, r2, sizeof(r2)), CKR_OK);
        CHECK(memcmp(r1, r2, sizeof(r1)) != 0);
        CHECK_EQ_INT(p11->C_Login(s, CKU_SO, NULL, 0),
                     CKR_USER_TYPE_INVALID);
        CHECK_EQ_INT(p11->C_Login(s, CKU_USER, NULL, 0), CKR_OK);
        CHECK_EQ_INT(p11->C_Login(s, CKU_USER, NULL, 0),
                     CKR_USER_ALREADY_LOGGED_IN);
        CHECK_EQ_INT(p11->C_Logout(s), CKR_OK);
        CHECK_EQ_INT(p11->C_Logout(s), CKR_USER_NOT_LOGGED_IN);
    }

    /* Nothing on the token can be written. */
    {
        CK_SESSION_HANDLE rw;
        CK_OBJECT_HANDLE obj;

        CHECK_EQ_INT(p11->C_OpenSession(0, CKF_SERIAL_SESSION | CKF_RW_SESSION,
                                        NULL, NULL, &rw),
                     CKR_TOKEN_WRITE_PROTECTED);
        CHECK_EQ_INT(p11->C_CreateObject(s, NULL, 0, &obj),
                     CKR_FUNCTION_NOT_SUPPORTED);
        CHECK_EQ_INT(p11->C_DestroyObject(s, key),
                     CKR_FUNCTION_NOT_SUPPORTED);
        CHECK_EQ_INT(p11->C_OpenSession(0, 0, NULL, NULL, &rw),
                     CKR_SESSION_PARALLEL_NOT_SUPPORTED);
    }
    fixture_down(&fx);
}

/* Sign 20 times on one token from its own thread. */
struct worker {
    const char *label;
    int ok;
};

static void *
worker_main(void *arg)
{
    struct worker *w = arg;
    uint8_t digest[32];
    uint8_t sig[64];
    CK_SESSION_HANDLE s;
    int i;

    w->ok = open_token(w->label, &s) == CKR_OK;
    for (i = 0; w->ok && i < 20; i++) {
        memset(digest, i, sizeof(digest));
        w->ok = sign_digest(s, digest, 32, sig) == CKR_OK &&
                verify_with_token(s, digest, sig);
    }
    if (w->ok) {
        w->ok = p11->C_CloseSession(s) == CKR_OK;
    }
    return NULL;
}

TC_TEST(pkcs11_two_tokens_two_threads)
{
    struct fixture fx;
    struct worker w[2] = {{LABEL_CERT, 0}, {LABEL_BARE, 0}};
    pthread_t th[2];
    int ok = fixture_up(&fx) == 0;
    int i;

    if (!ok) {
        CHECK(ok);
    }
    for (i = 0; i < 2; i++) {
        CHECK(pthread_create(&th[i], NULL, worker_main, &w[i]) == 0);
    }
    for (i = 0; i < 2; i++) {
        pthread_join(th[i], NULL);
    }
    fixture_down(&fx);
    CHECK(w[0].ok);
    CHECK(w[1].ok);
}

TC_TEST(pkcs11_daemon_restart)
{
    struct fixture fx;
    CK_SESSION_HANDLE old;
    CK_SESSION_HANDLE fresh;
    CK_SESSION_INFO si;
    uint8_t digest[32];
    uint8_t sig[64];
    int ok = fixture_up(&fx) == 0;

    if (!ok) {
        CHECK(ok);
    }
    memset(digest, 0x5A, sizeof(digest));
    CHECK_EQ_INT(open_token(LABEL_BARE, &old), CKR_OK);
    CHECK_EQ_INT(sign_digest(old, digest, 32, sig), CKR_OK);

    /* The daemon goes away and comes back on the same sockets. */
    daemon_stop(&fx.dm);
    CHECK(daemon_start(&fx.dm) == 0);

    /* The old session learns the chip was lost, then is gone. */
    CHECK_EQ_INT(sign_digest(old, digest, 32, sig), CKR_DEVICE_REMOVED);
    CHECK_EQ_INT(p11->C_GetSessionInfo(old, &si), CKR_SESSION_HANDLE_INVALID);

    /* A new session reconnects and signs. */
    CHECK_EQ_INT(open_token(LABEL_BARE, &fresh), CKR_OK);
    CHECK_EQ_INT(sign_digest(fresh, digest, 32, sig), CKR_OK);
    CHECK(verify_with_token(fresh, digest, sig));

    /* A session the probe of another's opening found stale. */
    daemon_stop(&fx.dm);
    CHECK(daemon_start(&fx.dm) == 0);
    CHECK_EQ_INT(open_token(LABEL_BARE, &old), CKR_OK);
    CHECK_EQ_INT(p11->C_GetSessionInfo(fresh, &si), CKR_DEVICE_REMOVED);
    CHECK_EQ_INT(sign_digest(old, digest, 32, sig), CKR_OK);

    /* With the daemon gone for good, the token is absent. */
    daemon_stop(&fx.dm);
    CHECK_EQ_INT(sign_digest(old, digest, 32, sig), CKR_DEVICE_REMOVED);
    CHECK_EQ_INT(open_token(LABEL_BARE, &fresh), CKR_TOKEN_NOT_PRESENT);
    CHECK(daemon_start(&fx.dm) == 0);
    fixture_down(&fx);
}

TC_TEST(pkcs11_after_fork)
{
    struct fixture fx;
    CK_SESSION_HANDLE s;
    int status = -1;
    pid_t pid;
    int ok = fixture_up(&fx) == 0;

    if (!ok) {
        CHECK(ok);
    }
    CHECK_EQ_INT(open_token(LABEL_CERT, &s), CKR_OK);
    pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        uint8_t digest[32] = {1};
        uint8_t sig[64];
        CK_SESSION_HANDLE cs;
        int good;

        /* The parent's state is not the child's: initialize again. */
        good = p11->C_GetSessionInfo(s, &(CK_SESSION_INFO){0}) ==
                   CKR_CRYPTOKI_NOT_INITIALIZED &&
               p11->C_Initialize(NULL) == CKR_OK &&
               open_token(LABEL_CERT, &cs) == CKR_OK &&
               sign_digest(cs, digest, 32, sig) == CKR_OK &&
               verify_with_token(cs, digest, sig);
        _exit(good ? 0 : 1);
    }
    CHECK(waitpid(pid, &status, 0) == pid);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);

    /* The parent's session is untouched by the child. */
    {
        uint8_t digest[32] = {2};
        uint8_t sig[64];

        CHECK_EQ_INT(sign_digest(s, digest, 32, sig), CKR_OK);
        CHECK(verify_with_token(s, digest, sig));
    }
    fixture_down(&fx);
}
