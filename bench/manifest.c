// SPDX-License-Identifier: Apache-2.0
/*
 * Manifest verification throughput: builds a manifest of N entries (default
 * 100000) from a test chain, streams it through tc_manifest_verify_file on
 * one core, and prints entries verified per second beside the ceiling
 * measured in the same run: two ECDSA P-256 verifications per entry at the
 * rate `openssl speed -seconds 2 ecdsap256` reports. Also prints the peak
 * resident memory, which must not grow with N.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/x509v3.h>

#include "thingcore/manifest.h"
#include "thingcore/util.h"

#define DEVICES 256

static X509 *
cert(EVP_PKEY *key, const char *cn, X509 *issuer, EVP_PKEY *ikey, int ca)
{
    X509 *x = X509_new();
    X509_NAME *name = X509_NAME_new();
    X509V3_CTX ctx;
    X509_EXTENSION *e;
    const char *ext[4][2] = {
        {"basicConstraints", ca ? "critical,CA:TRUE" : "critical,CA:FALSE"},
        {"keyUsage", ca ? "critical,keyCertSign,cRLSign"
                        : "critical,digitalSignature,keyAgreement"},
        {"subjectKeyIdentifier", "hash"},
        {"authorityKeyIdentifier", "keyid:always"},
    };
    int i;

    X509_set_version(x, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x), rand() + 1);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                               (const unsigned char *)cn, -1, -1, 0);
    X509_set_subject_name(x, name);
    X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : name);
    X509_gmtime_adj(X509_getm_notBefore(x), -86400);
    X509_gmtime_adj(X509_getm_notAfter(x), 86400L * 3650);
    X509_set_pubkey(x, key);
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, issuer ? issuer : x, x, NULL, NULL, 0);
    for (i = 0; i < 4; i++) {
        e = X509V3_EXT_conf(NULL, &ctx, ext[i][0], ext[i][1]);
        X509_add_ext(x, e, -1);
        X509_EXTENSION_free(e);
    }
    X509_sign(x, ikey ? ikey : key, EVP_sha256());
    X509_NAME_free(name);
    return x;
}

/* verify/s of `openssl speed ecdsap256`, or 0. */
static double
speed_verify(void)
{
    FILE *p = popen("openssl speed -seconds 2 ecdsap256 2>/dev/null", "r");
    char line[512];
    double sign = 0;
    double verify = 0;

    while (p != NULL && fgets(line, sizeof(line), p) != NULL) {
        char *at = strstr(line, "ecdsa (nistp256)");

        if (at != NULL) {
            double ts;
            double tv;

            if (sscanf(at, "ecdsa (nistp256) %lfs %lfs %lf %lf", &ts, &tv,
                       &sign, &verify) != 4) {
                verify = 0;
            }
        }
    }
    if (p != NULL) {
        pclose(p);
    }
    return verify;
}

static int
on_result(void *ctx, const struct tc_manifest_result *r)
{
    size_t *bad = ctx;

    *bad += r->err != TC_OK;
    return TC_OK;
}

int
main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 100000;
    char dir[] = "/tmp/thingcore-bench-XXXXXX";
    char path[128];
    char kp[128];
    char cp[128];
    EVP_PKEY *rk = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    EVP_PKEY *ck = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    X509 *root = cert(rk, "Bench Root", NULL, NULL, 1);
    X509 *ca = cert(ck, "Crypto Authentication Signer 2A00", root, rk, 1);
    uint8_t *devder[DEVICES];
    size_t devlen[DEVICES];
    uint8_t *cader = NULL;
    size_t calen;
    struct tc_manifest_identity ids[DEVICES];
    struct tc_manifest_signer *ms = NULL;
    struct tc_manifest_verifier *v = NULL;
    struct tc_manifest_summary sum;
    struct tc_buf entries[DEVICES];
    struct rusage ru;
    size_t bad = 0;
    double t0;
    double took;
    double vps;
    FILE *f;
    long i;
    int rc;

    if (n < 1 || mkdtemp(dir) == NULL) {
        fprintf(stderr, "usage: manifest [ENTRIES]\n");
        return 2;
    }
    calen = (size_t)i2d_X509(ca, &cader);

    /* DEVICES chips, each signed once; the file repeats their entries. */
    snprintf(kp, sizeof(kp), "%s/ms/" TC_MANIFEST_SIGNER_KEY_FILE, dir);
    snprintf(cp, sizeof(cp), "%s/ms/" TC_MANIFEST_SIGNER_CERT_FILE, dir);
    snprintf(path, sizeof(path), "%s/ms", dir);
    if (tc_manifest_signer_generate(path, "bench", 30, 0, NULL) != TC_OK ||
        tc_manifest_signer_load(kp, cp, &ms, NULL) != TC_OK) {
        fprintf(stderr, "cannot make the manifest signer\n");
        return 1;
    }
    for (i = 0; i < DEVICES; i++) {
        EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
        char cn[32];
        X509 *d;

        snprintf(cn, sizeof(cn), "sn0123%012lX01", i);
        d = cert(k, cn, ca, ck, 0);
        devder[i] = NULL;
        devlen[i] = (size_t)i2d_X509(d, &devder[i]);
        tc_manifest_identity_init(&ids[i]);
        tc_manifest_identity_from_certs(&ids[i], devder[i], devlen[i], cader,
                                        calen, NULL);
        tc_buf_init(&entries[i], TC_MANIFEST_ENTRY_MAX);
        if (tc_manifest_entry_create(ms, &ids[i], &entries[i], NULL) !=
            TC_OK) {
            fprintf(stderr, "cannot sign entry %ld\n", i);
            return 1;
        }
        X509_free(d);
        EVP_PKEY_free(k);
    }
    snprintf(path, sizeof(path), "%s/manifest.json", dir);
    f = fopen(path, "w");
    fputs("[\n", f);
    for (i = 0; i < n; i++) {
        fputs(i > 0 ? ",\n" : "", f);
        fwrite(entries[i % DEVICES].data, 1, entries[i % DEVICES].len, f);
    }
    fputs("\n]", f);
    fclose(f);

    /* The ceiling, measured now on this machine. */
    vps = speed_verify();

    tc_manifest_verifier_new(&v);
    {
        uint8_t *der = NULL;
        int len = i2d_X509(root, &der);

        tc_manifest_verifier_add_trust(v, der, (size_t)len, NULL);
        OPENSSL_free(der);
    }
    {
        struct tc_buf b;

        tc_buf_init(&b, 1 << 16);
        tc_file_read(cp, &b, NULL);
        tc_manifest_verifier_add_signer(v, b.data, b.len, NULL);
        tc_buf_clear(&b, 0);
    }
    t0 = tc_monotonic();
    rc = tc_manifest_verify_file(v, path, on_result, &bad, &sum, NULL);
    took = tc_monotonic() - t0;
    getrusage(RUSAGE_SELF, &ru);

    printf("manifest verify: %zu entries in %.2f s, %zu failed (rc %d)\n",
           sum.entries, took, bad, rc);
    printf("  verified:  %.0f entries/s on one core\n", sum.entries / took);
    if (vps > 0) {
        printf("  ceiling:   %.0f entries/s (openssl speed: %.0f P-256 "
               "verify/s, 2 per entry)\n", vps / 2, vps);
        printf("  ratio:     %.0f%% of the ceiling (target 70%%)\n",
               100.0 * (sum.entries / took) / (vps / 2));
    } else {
        printf("  ceiling:   unknown (openssl speed did not run)\n");
    }
    printf("  peak RSS:  %ld KiB\n", ru.ru_maxrss);

    unlink(path);
    snprintf(path, sizeof(path), "rm -rf '%s'", dir);
    if (system(path) != 0) {
        fprintf(stderr, "cannot remove %s\n", dir);
    }
    for (i = 0; i < DEVICES; i++) {
        OPENSSL_free(devder[i]);
        tc_buf_clear(&entries[i], 0);
    }
    OPENSSL_free(cader);
    tc_manifest_signer_free(ms);
    tc_manifest_verifier_free(v);
    X509_free(root);
    X509_free(ca);
    EVP_PKEY_free(rk);
    EVP_PKEY_free(ck);
    return rc == TC_OK && bad == 0 ? 0 : 1;
}
