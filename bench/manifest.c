// SPDX-License-Identifier: Apache-2.0
/*
 * Manifest verification throughput: builds a manifest of N entries (default
 * 100000, each its own chip and device certificate) from a test chain,
 * streams it through tc_manifest_verify_file on one core ROUNDS times
 * (default 3), and prints entries verified per second (each round, best,
 * worst) beside the ceiling measured in the same run: two ECDSA P-256
 * verifications per entry at the rate `openssl speed -seconds 2
 * ecdsap256` reports, taken before and after the rounds. Also prints the
 * peak resident memory. Pin it to one core: taskset -c 0.
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

/* Device keys shared round-robin; every entry has its own certificate. */
#define KEYS 64

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

/* One pass of verification over path; entries/s, or 0 on failure. */
static double
verify_once(struct tc_manifest_verifier *v, const char *path, size_t *bad,
            struct tc_manifest_summary *sum)
{
    double t0 = tc_monotonic();
    double took;
    int rc;

    *bad = 0;
    rc = tc_manifest_verify_file(v, path, on_result, bad, sum, NULL);
    took = tc_monotonic() - t0;
    if (rc != TC_OK || *bad != 0 || took <= 0) {
        fprintf(stderr, "verification failed: rc %d, %zu entries failed\n",
                rc, *bad);
        return 0;
    }
    return (double)sum->entries / took;
}

int
main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 100000;
    int rounds = argc > 2 ? atoi(argv[2]) : 3;
    char dir[] = "/tmp/thingcore-bench-XXXXXX";
    char path[128];
    char kp[128];
    char cp[128];
    EVP_PKEY *rk = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    EVP_PKEY *ck = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    X509 *root = cert(rk, "Bench Root", NULL, NULL, 1);
    X509 *ca = cert(ck, "Crypto Authentication Signer 2A00", root, rk, 1);
    EVP_PKEY *keys[KEYS];
    uint8_t *cader = NULL;
    size_t calen;
    struct tc_manifest_signer *ms = NULL;
    struct tc_manifest_verifier *v = NULL;
    struct tc_manifest_summary sum;
    struct tc_buf entry;
    struct rusage ru;
    size_t bad = 0;
    double rate[16];
    double best = 0;
    double worst = 0;
    double vps0;
    double vps1;
    double vps;
    double t0;
    FILE *f;
    long i;
    int ok = 1;

    if (n < 1 || n > TC_MANIFEST_UNIQUE_MAX || rounds < 1 || rounds > 16 ||
        mkdtemp(dir) == NULL) {
        fprintf(stderr, "usage: manifest [ENTRIES [ROUNDS (1-16)]]\n");
        return 2;
    }
    calen = (size_t)i2d_X509(ca, &cader);
    for (i = 0; i < KEYS; i++) {
        keys[i] = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    }

    /* The manifest signer, then n chips with distinct serial numbers. */
    snprintf(kp, sizeof(kp), "%s/ms/" TC_MANIFEST_SIGNER_KEY_FILE, dir);
    snprintf(cp, sizeof(cp), "%s/ms/" TC_MANIFEST_SIGNER_CERT_FILE, dir);
    snprintf(path, sizeof(path), "%s/ms", dir);
    if (tc_manifest_signer_generate(path, "bench", 30, 0, NULL) != TC_OK ||
        tc_manifest_signer_load(kp, cp, &ms, NULL) != TC_OK) {
        fprintf(stderr, "cannot make the manifest signer\n");
        return 1;
    }
    snprintf(path, sizeof(path), "%s/manifest.json", dir);
    f = fopen(path, "w");
    if (f == NULL) {
        fprintf(stderr, "cannot write %s\n", path);
        return 1;
    }
    fputs("[\n", f);
    tc_buf_init(&entry, TC_MANIFEST_ENTRY_MAX);
    t0 = tc_monotonic();
    for (i = 0; i < n; i++) {
        struct tc_manifest_identity id;
        uint8_t *der = NULL;
        size_t len;
        char cn[32];
        X509 *d;

        snprintf(cn, sizeof(cn), "sn0123%012lX01", i);
        d = cert(keys[i % KEYS], cn, ca, ck, 0);
        len = (size_t)i2d_X509(d, &der);
        tc_manifest_identity_init(&id);
        entry.len = 0;
        if (tc_manifest_identity_from_certs(&id, der, len, cader, calen,
                                            NULL) != TC_OK ||
            tc_manifest_entry_create(ms, &id, &entry, NULL) != TC_OK) {
            fprintf(stderr, "cannot sign entry %ld\n", i);
            return 1;
        }
        fputs(i > 0 ? ",\n" : "", f);
        fwrite(entry.data, 1, entry.len, f);
        OPENSSL_free(der);
        X509_free(d);
    }
    fputs("\n]", f);
    fclose(f);
    tc_buf_clear(&entry, 0);
    fprintf(stderr, "made %ld entries (distinct uniqueIds) in %.1f s\n", n,
            tc_monotonic() - t0);

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

    /* The ceiling before and after the runs; the higher one counts. */
    vps0 = speed_verify();
    for (i = 0; i < rounds; i++) {
        rate[i] = verify_once(v, path, &bad, &sum);
        ok = ok && rate[i] > 0;
        best = i == 0 || rate[i] > best ? rate[i] : best;
        worst = i == 0 || rate[i] < worst ? rate[i] : worst;
    }
    vps1 = speed_verify();
    vps = vps0 > vps1 ? vps0 : vps1;
    getrusage(RUSAGE_SELF, &ru);

    printf("manifest verify, %zu entries, one core, %d rounds\n",
           sum.entries, rounds);
    for (i = 0; i < rounds; i++) {
        printf("  round %ld:   %.0f entries/s\n", i + 1, rate[i]);
    }
    printf("  verified:  %.0f entries/s best, %.0f worst (spread %.1f%%)\n",
           best, worst, best > 0 ? 100.0 * (best - worst) / best : 0.0);
    if (vps > 0) {
        printf("  ceiling:   %.0f entries/s (openssl speed ecdsap256: %.0f "
               "and %.0f verify/s before and after; 2 per entry)\n",
               vps / 2, vps0, vps1);
        printf("  ratio:     %.0f%% of the ceiling best, %.0f%% worst "
               "(target 70%%)\n",
               100.0 * best / (vps / 2), 100.0 * worst / (vps / 2));
    } else {
        printf("  ceiling:   unknown (openssl speed did not run)\n");
    }
    printf("  peak RSS:  %ld KiB\n", ru.ru_maxrss);

    unlink(path);
    snprintf(path, sizeof(path), "rm -rf '%s'", dir);
    if (system(path) != 0) {
        fprintf(stderr, "cannot remove %s\n", dir);
    }
    for (i = 0; i < KEYS; i++) {
        EVP_PKEY_free(keys[i]);
    }
    OPENSSL_free(cader);
    tc_manifest_signer_free(ms);
    tc_manifest_verifier_free(v);
    X509_free(root);
    X509_free(ca);
    EVP_PKEY_free(rk);
    EVP_PKEY_free(ck);
    return ok ? 0 : 1;
}
