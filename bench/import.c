// SPDX-License-Identifier: Apache-2.0
/*
 * Bulk import throughput, end to end: makes a manifest of N Trust&GO
 * entries (default 10000; device certificates from template 3 under a
 * simulated signer CA and root, each entry signed by a manifest signer),
 * serves the control-plane API over HTTPS in this process with a fresh
 * data directory (or uses the core of --data DIR), and times
 * tc_import_run: streaming verification and BulkRegister batches. Prints
 * devices per second for a fresh import and for a second run (all already
 * present), beside the verification alone and its ceiling: two ECDSA
 * P-256 verifications per entry at `openssl speed ecdsap256`'s rate,
 * measured in the same run.
 *
 *   import [ENTRIES] [--data DIR] [--batch N]
 *   import make DIR ENTRIES [--bad]    write a test manifest and its
 *       anchors into DIR (root.pem, signer-ca.pem, manifest-signer.pem,
 *       manifest.json); --bad spoils entry 3 (tampered signature), 5 (a
 *       chain to another root, foreign-root.pem) and 7 (uniqueId of 6).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/x509.h>

#include "thingcore/api.h"
#include "thingcore/apiclient.h"
#include "thingcore/cert.h"
#include "thingcore/datadir.h"
#include "thingcore/import.h"
#include "thingcore/manifest.h"
#include "thingcore/pki.h"
#include "thingcore/util.h"

/* Device keys reused round-robin: certificates differ by serial number. */
#define KEYS 32

/* A root and a signer CA under it, as a simulated factory has them. */
struct ca {
    EVP_PKEY *root_key;
    X509 *root;
    EVP_PKEY *key;
    uint8_t pub[64];
    uint8_t id[2];
    uint8_t der[TC_CERT_DER_MAX];
    size_t len;
};

static int
ca_make(struct ca *c, uint8_t id_hi, struct tc_detail *d)
{
    struct tc_cert_inputs in;
    struct tc_cert_date issue;
    int rc;

    memset(c, 0, sizeof(*c));
    memset(&in, 0, sizeof(in));
    c->id[0] = id_hi;
    c->id[1] = 0x01;
    rc = tc_cert_date_from_time(time(NULL) - 3600, &issue, d);
    if (rc == TC_OK) {
        rc = tc_cert_key_generate(&c->root_key, d);
    }
    if (rc == TC_OK) {
        rc = tc_cert_root_create(c->root_key, &issue, &c->root, d);
    }
    if (rc == TC_OK) {
        rc = tc_cert_key_generate(&c->key, d);
    }
    if (rc == TC_OK) {
        rc = tc_cert_key_public(c->key, c->pub, d);
    }
    if (rc == TC_OK) {
        memcpy(in.pubkey, c->pub, 64);
        rc = tc_cert_key_public(c->root_key, in.ca_pubkey, d);
    }
    if (rc == TC_OK) {
        rc = tc_cert_issue(tc_cert_template_get(TC_CERT_SIGNER_1), &in,
                           c->id, &issue, c->root_key, c->der,
                           sizeof(c->der), &c->len, NULL, d);
    }
    return rc;
}

static void
ca_free(struct ca *c)
{
    EVP_PKEY_free(c->root_key);
    EVP_PKEY_free(c->key);
    X509_free(c->root);
}

static int
write_pem(const char *dir, const char *name, X509 *x, const uint8_t *der,
          size_t len, struct tc_detail *d)
{
    struct tc_buf b;
    char path[4200];
    X509 *own = NULL;
    int rc = TC_OK;

    if (x == NULL) {
        rc = tc_cert_x509_from_der(der, len, &own, d);
        x = own;
    }
    tc_buf_init(&b, 1 << 16);
    if (rc == TC_OK) {
        rc = tc_pki_cert_to_pem(x, &b, d);
    }
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    if (rc == TC_OK) {
        rc = tc_file_write_atomic(path, b.data, b.len, 0644, d);
    }
    tc_buf_clear(&b, 0);
    X509_free(own);
    return rc;
}

/* One signed entry for serial number sn under ca, appended to out. */
static int
entry(const struct tc_manifest_signer *ms, const struct ca *ca,
      EVP_PKEY *key, const uint8_t sn[9], struct tc_buf *out,
      struct tc_detail *d)
{
    struct tc_manifest_identity id;
    struct tc_cert_inputs in;
    struct tc_cert_date issue;
    uint8_t der[TC_CERT_DER_MAX];
    size_t len = 0;
    int rc;

    memset(&in, 0, sizeof(in));
    memcpy(in.sn, sn, 9);
    memcpy(in.ca_pubkey, ca->pub, 64);
    snprintf(in.eui48, sizeof(in.eui48), "02%02X%02X%02X%02X%02X", sn[3],
             sn[4], sn[5], sn[6], sn[7]);
    rc = tc_cert_key_public(key, in.pubkey, d);
    if (rc == TC_OK) {
        rc = tc_cert_date_from_time(time(NULL) - 3600, &issue, d);
    }
    if (rc == TC_OK) {
        rc = tc_cert_issue(tc_cert_template_get(TC_CERT_DEVICE_3), &in,
                           ca->id, &issue, ca->key, der, sizeof(der), &len,
                           NULL, d);
    }
    tc_manifest_identity_init(&id);
    if (rc == TC_OK) {
        rc = tc_manifest_identity_from_certs(&id, der, len, ca->der, ca->len,
                                             d);
    }
    if (rc == TC_OK) {
        rc = tc_manifest_entry_create(ms, &id, out, d);
    }
    return rc;
}

/* Flip one character in the middle of the entry's signature. */
static void
tamper(struct tc_buf *e)
{
    char *sig = strstr((char *)e->data, "\"signature\"");
    char *q = sig != NULL ? strchr(sig + 12, '"') : NULL;

    if (q != NULL && q[20] != '\0') {
        q[20] = q[20] == 'A' ? 'B' : 'A';
    }
}

/* The test manifest; see the header. *path_out names the file. */
static int
make_manifest(const char *dir, long n, int bad, char *path_out, size_t cap,
              struct tc_detail *d)
{
    struct tc_manifest_signer *ms = NULL;
    struct ca ca;
    struct ca foreign;
    struct tc_buf e;
    struct tc_buf prev;
    EVP_PKEY *keys[KEYS] = {0};
    char kp[4200];
    char cp[4200];
    uint8_t run[2];
    FILE *f = NULL;
    long i;
    int rc;

    memset(&foreign, 0, sizeof(foreign));
    tc_buf_init(&e, TC_MANIFEST_ENTRY_MAX);
    tc_buf_init(&prev, TC_MANIFEST_ENTRY_MAX);
    rc = tc_mkdir_p(dir, 0700, d);
    if (rc == TC_OK) {
        rc = ca_make(&ca, 0x2A, d);
    }
    if (rc == TC_OK && bad) {
        rc = ca_make(&foreign, 0x3B, d);
    }
    if (rc == TC_OK) {
        rc = write_pem(dir, "root.pem", ca.root, NULL, 0, d);
    }
    if (rc == TC_OK) {
        rc = write_pem(dir, "signer-ca.pem", NULL, ca.der, ca.len, d);
    }
    if (rc == TC_OK && bad) {
        rc = write_pem(dir, "foreign-root.pem", foreign.root, NULL, 0, d);
    }

    /* The manifest signer: its certificate is what --signer names. */
    snprintf(kp, sizeof(kp), "%s/ms", dir);
    if (rc == TC_OK) {
        rc = tc_manifest_signer_generate(kp, "Bench Manifest Signer", 30, 1,
                                         d);
    }
    snprintf(kp, sizeof(kp), "%s/ms/" TC_MANIFEST_SIGNER_KEY_FILE, dir);
    snprintf(cp, sizeof(cp), "%s/ms/" TC_MANIFEST_SIGNER_CERT_FILE, dir);
    if (rc == TC_OK) {
        rc = tc_manifest_signer_load(kp, cp, &ms, d);
    }
    for (i = 0; rc == TC_OK && i < KEYS; i++) {
        rc = tc_cert_key_generate(&keys[i], d);
    }
    if (rc == TC_OK && RAND_bytes(run, 2) != 1) {
        rc = tc_detail_set(d, TC_ERR_CRYPTO, -1, NULL, "no randomness");
    }
    snprintf(path_out, cap, "%s/manifest.json", dir);
    if (rc == TC_OK) {
        f = fopen(path_out, "w");
        rc = f != NULL ? TC_OK
                       : tc_detail_set(d, TC_ERR_IO, -1, NULL,
                                       "cannot write %s", path_out);
    }
    if (rc == TC_OK) {
        fputs("[\n", f);
    }

    /* Serial numbers 01 23 RR RR <index, 4 bytes> 01: distinct per run. */
    for (i = 0; rc == TC_OK && i < n; i++) {
        uint8_t sn[9] = {0x01, 0x23, run[0], run[1], (uint8_t)(i >> 24),
                         (uint8_t)(i >> 16), (uint8_t)(i >> 8), (uint8_t)i,
                         0x01};

        e.len = 0;
        if (bad && i == 7 && prev.len > 0) {
            rc = tc_buf_append(&e, prev.data, prev.len);
        } else {
            rc = entry(ms, bad && i == 5 ? &foreign : &ca, keys[i % KEYS], sn,
                       &e, d);
        }
        if (rc == TC_OK) {
            prev.len = 0;
            rc = tc_buf_append(&prev, e.data, e.len);
        }
        if (rc == TC_OK && tc_buf_append(&e, "", 1) == TC_OK) {
            e.len--;
            if (bad && i == 3) {
                tamper(&e);
            }
            fputs(i > 0 ? ",\n" : "", f);
            fwrite(e.data, 1, e.len, f);
        }
    }
    if (f != NULL) {
        fputs("\n]\n", f);
        if (fclose(f) != 0 && rc == TC_OK) {
            rc = tc_detail_set(d, TC_ERR_IO, -1, NULL, "cannot write %s",
                               path_out);
        }
    }
    if (rc == TC_OK) {
        snprintf(kp, sizeof(kp), "cp '%s/ms/" TC_MANIFEST_SIGNER_CERT_FILE
                                 "' '%s/manifest-signer.pem'",
                 dir, dir);
        rc = system(kp) == 0 ? TC_OK
                             : tc_detail_set(d, TC_ERR_IO, -1, NULL,
                                             "cannot copy the signer");
    }
    for (i = 0; i < KEYS; i++) {
        EVP_PKEY_free(keys[i]);
    }
    tc_manifest_signer_free(ms);
    ca_free(&ca);
    ca_free(&foreign);
    tc_buf_clear(&e, 0);
    tc_buf_clear(&prev, 0);
    return rc;
}

/* verify/s from `openssl speed -mr ecdsap256` ("+F4:n:256:sign:verify"). */
static double
verify_rate(void)
{
    FILE *p = popen("openssl speed -seconds 2 -mr ecdsap256 2>/dev/null",
                    "r");
    char line[256];
    double rate = 0;

    while (p != NULL && fgets(line, sizeof(line), p) != NULL) {
        const char *f = line;
        int colons = 0;

        if (strncmp(line, "+F4:", 4) != 0) {
            continue;
        }
        while (*f != '\0' && colons < 4) {
            colons += *f++ == ':';
        }
        rate = colons == 4 ? atof(f) : 0;
    }
    if (p != NULL) {
        pclose(p);
    }
    return rate;
}

static int
load_verifier(const char *dir, struct tc_manifest_verifier **v,
              struct tc_detail *d)
{
    static const char *const files[2] = {"manifest-signer.pem", "root.pem"};
    struct tc_buf b;
    char path[4200];
    int rc = tc_manifest_verifier_new(v);
    int i;

    for (i = 0; rc == TC_OK && i < 2; i++) {
        tc_buf_init(&b, 1 << 16);
        snprintf(path, sizeof(path), "%s/%s", dir, files[i]);
        rc = tc_file_read(path, &b, d);
        if (rc == TC_OK && i == 0) {
            rc = tc_manifest_verifier_add_signer(*v, b.data, b.len, d);
        } else if (rc == TC_OK) {
            rc = tc_manifest_verifier_add_trust(*v, b.data, b.len, d);
        }
        tc_buf_clear(&b, 0);
    }
    return rc;
}

static int
count_ok(void *ctx, const struct tc_manifest_result *r)
{
    *(size_t *)ctx += r->err == TC_OK;
    return TC_OK;
}

/* One import into the core; devices/s, or 0 on failure. */
static double
import_once(struct tc_apiclient *api, const char *dir, const char *path,
            size_t batch, struct tc_import_summary *sum)
{
    struct tc_manifest_verifier *v = NULL;
    struct tc_import_opts o;
    struct tc_detail d;
    int rc;

    memset(&o, 0, sizeof(o));
    o.batch = batch;
    tc_detail_clear(&d);
    rc = load_verifier(dir, &v, &d);
    if (rc == TC_OK) {
        rc = tc_import_run(api, v, path, &o, sum, &d);
    }
    tc_manifest_verifier_free(v);
    if (rc != TC_OK || sum->rejected != 0 || sum->seconds <= 0) {
        fprintf(stderr, "import failed: %s (%s), %zu rejected\n",
                tc_strerror(rc), d.text, sum->rejected);
        return 0;
    }
    return (double)sum->entries / sum->seconds;
}

static int
bench(long n, const char *data, size_t batch)
{
    struct tc_api_server_config cfg;
    struct tc_api_server *srv = NULL;
    struct tc_apiclient *api = NULL;
    struct tc_manifest_verifier *v = NULL;
    struct tc_manifest_summary ms;
    struct tc_import_summary s1;
    struct tc_import_summary s2;
    struct tc_datadir dd;
    struct tc_detail d;
    char dir[] = "/tmp/tc-bench-import.XXXXXX";
    char core[128];
    char path[4200];
    char url[64];
    size_t ok = 0;
    double t0;
    double vrate;
    double r1;
    double r2;
    double vps;
    int rc;

    if (mkdtemp(dir) == NULL) {
        perror("mkdtemp");
        return 1;
    }
    memset(&dd, 0, sizeof(dd));
    tc_detail_clear(&d);
    t0 = tc_monotonic();
    rc = make_manifest(dir, n, 0, path, sizeof(path), &d);
    if (rc != TC_OK) {
        fprintf(stderr, "bench: manifest: %s\n", d.text);
        return 1;
    }
    fprintf(stderr, "made %ld entries in %.1f s\n", n, tc_monotonic() - t0);

    /* The core: the one named, or HTTPS served here. */
    if (data != NULL) {
        rc = tc_datadir_load(data, &dd, &d);
        if (rc == TC_OK) {
            rc = tc_apiclient_for_datadir(&dd, NULL, &api, &d);
        }
    } else {
        snprintf(core, sizeof(core), "%s/core", dir);
        rc = tc_datadir_create(core, NULL, &dd, NULL, &d);
        memset(&cfg, 0, sizeof(cfg));
        cfg.dd = &dd;
        dd.api_port = 0;
        if (rc == TC_OK) {
            rc = tc_api_server_start(&cfg, &srv, &d);
        }
        if (rc == TC_OK) {
            snprintf(url, sizeof(url), "https://127.0.0.1:%d",
                     tc_api_server_port(srv));
            rc = tc_apiclient_for_datadir(&dd, url, &api, &d);
        }
    }
    if (rc != TC_OK) {
        fprintf(stderr, "bench: core: %s\n", d.text);
        return 1;
    }

    /* Verification alone, then the ceiling, then the imports. */
    rc = load_verifier(dir, &v, &d);
    t0 = tc_monotonic();
    if (rc == TC_OK) {
        rc = tc_manifest_verify_file(v, path, count_ok, &ok, &ms, &d);
    }
    vrate = (double)ok / (tc_monotonic() - t0);
    tc_manifest_verifier_free(v);
    vps = verify_rate();
    r1 = import_once(api, dir, path, batch, &s1);
    r2 = r1 > 0 ? import_once(api, dir, path, batch, &s2) : 0;

    printf("bulk import, %ld entries, %s core, HTTPS + SigV4, batches of "
           "%zu, %ld CPUs\n",
           n, data != NULL ? "a running" : "an in-process",
           batch != 0 ? batch : (size_t)TC_IMPORT_BATCH_DEFAULT,
           sysconf(_SC_NPROCESSORS_ONLN));
    printf("  import (fresh):        %8.0f devices/s  (%zu registered in "
           "%.2f s, %zu batches)\n",
           r1, r1 > 0 ? s1.registered : 0, r1 > 0 ? s1.seconds : 0.0,
           r1 > 0 ? s1.batches : 0);
    printf("  import (again):        %8.0f devices/s  (%zu already "
           "present)\n",
           r2, r2 > 0 ? s2.already : 0);
    printf("  verify only:           %8.0f entries/s  (%zu of %zu passed, "
           "one core)\n",
           rc == TC_OK ? vrate : 0.0, ok, ms.entries);
    printf("  verify ceiling:        %8.0f entries/s  (openssl speed "
           "ecdsap256: %.0f verify/s, 2 per entry)\n",
           vps / 2, vps);
    printf("  target:                %8d devices/s  %s\n", 2000,
           r1 >= 2000 ? "met" : "NOT met");

    tc_apiclient_free(api);
    tc_api_server_stop(srv);
    tc_datadir_clear(&dd);
    snprintf(path, sizeof(path), "rm -rf '%s'", dir);
    if (system(path) != 0) {
        fprintf(stderr, "bench: could not remove %s\n", dir);
    }
    return r1 > 0 && r2 > 0 ? 0 : 1;
}

int
main(int argc, char **argv)
{
    const char *data = NULL;
    long n = 10000;
    long batch = 0;
    int i;

    if (argc >= 4 && strcmp(argv[1], "make") == 0) {
        char path[4200];
        struct tc_detail d;
        int bad = argc > 4 && strcmp(argv[4], "--bad") == 0;

        n = atol(argv[3]);
        tc_detail_clear(&d);
        if (n < 1 || n > TC_MANIFEST_CREATE_MAX ||
            make_manifest(argv[2], n, bad, path, sizeof(path), &d) !=
                TC_OK) {
            fprintf(stderr, "import make: %s\n",
                    d.text[0] ? d.text : "give 1 to 100000 entries");
            return 1;
        }
        printf("%s\n", path);
        return 0;
    }
    for (i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--data") == 0 && i + 1 < argc) {
            data = argv[++i];
        } else if (strcmp(argv[i], "--batch") == 0 && i + 1 < argc) {
            batch = atol(argv[++i]);
        } else if (argv[i][0] != '-') {
            n = atol(argv[i]);
        } else {
            n = 0;
        }
    }
    if (n < 1 || n > TC_MANIFEST_CREATE_MAX || batch < 0 || batch > 500) {
        fprintf(stderr, "usage: import [ENTRIES] [--data DIR] [--batch N]\n"
                        "       import make DIR ENTRIES [--bad]\n");
        return 2;
    }
    return bench(n, data, (size_t)batch);
}
