// SPDX-License-Identifier: Apache-2.0
/*
 * thingcore manifest: create, verify and extract Trust&GO manifests, and
 * make or show the local manifest signer. Argument parsing, files and
 * printing live here; every decision is the manifest library's.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <jansson.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "cli.h"
#include "thingcore/identity.h"
#include "thingcore/manifest.h"
#include "thingcore/se.h"
#include "thingcore/util.h"

#define MAX_INPUTS 64
#define MAX_TRUST 16
#define CERT_FILE_MAX (1024 * 1024)

/* The value after option argv[*i], or NULL (usage error printed). */
static const char *
value(int argc, char **argv, int *i)
{
    if (*i + 1 >= argc) {
        fprintf(stderr, "thingcore manifest: %s needs a value\n", argv[*i]);
        return NULL;
    }
    (*i)++;
    return argv[*i];
}

/* One certificate file (PEM or DER) as DER, handed to the caller. */
static int
read_cert_der(const char *path, uint8_t **der, size_t *len, struct tc_detail *d)
{
    struct tc_buf b;
    BIO *bio = NULL;
    X509 *x = NULL;
    const uint8_t *q;
    int n;
    int rc;

    *der = NULL;
    tc_buf_init(&b, CERT_FILE_MAX);
    rc = tc_file_read(path, &b, d);
    if (rc != TC_OK) {
        goto out;
    }
    if (b.len > 0 && b.data[0] == 0x30) {
        q = b.data;
        x = d2i_X509(NULL, &q, (long)b.len);
    } else {
        bio = BIO_new_mem_buf(b.data, (int)b.len);
        x = bio != NULL ? PEM_read_bio_X509(bio, NULL, NULL, NULL) : NULL;
    }
    n = x != NULL ? i2d_X509(x, der) : -1;
    if (n <= 0) {
        rc = tc_detail_set(d, TC_ERR_PARSE, -1, "certificate",
                           "%s: no certificate", path);
        goto out;
    }
    *len = (size_t)n;
    rc = TC_OK;
out:
    ERR_clear_error();
    BIO_free(bio);
    X509_free(x);
    tc_buf_clear(&b, 0);
    return rc;
}

/*
 * Read one chip's identity through the secure element client and fill
 * mid from it (pointers into *chip, which the caller keeps). Candidate
 * roots for rebuilding the signer certificate: the real Microchip root,
 * the simulated factory's root.pem (--factory, else the default factory
 * folder) and every --trust file.
 */
static int
identity_from_chip(const char *transport, const char *fdir, char *const *trust,
                   int ntrust, struct tc_identity *chip,
                   struct tc_manifest_identity *mid, struct tc_detail *d)
{
    X509 *extra[MAX_TRUST];
    X509 **roots = NULL;
    size_t nroots = 0;
    size_t nextra = 0;
    int rc = TC_OK;
    int i;
    int k;

    /* The --trust roots help rebuild as well as verify. */
    for (i = 0; rc == TC_OK && i < ntrust && nextra < MAX_TRUST; i++) {
        rc = cli_load_cert(trust[i], &extra[nextra], d);
        if (rc == TC_OK) {
            nextra++;
        }
    }
    if (rc == TC_OK) {
        rc = cli_identity_read(transport, NULL, fdir, extra, nextra, chip,
                               &roots, &nroots, d);
    }
    if (rc == TC_OK) {
        memcpy(mid->sn, chip->sn, sizeof(mid->sn));
        mid->device_der = chip->device_der;
        mid->device_len = chip->device_len;
        mid->signer_der = chip->signer_der;
        mid->signer_len = chip->signer_len;
        for (k = 0; k < TC_MANIFEST_KEYS && k < TC_IDENTITY_KEYS; k++) {
            memcpy(mid->pubkeys[k], chip->pubkeys[k], 64);
        }
        mid->npubkeys = TC_MANIFEST_KEYS;
    }
    for (i = 0; i < (int)nextra; i++) {
        X509_free(extra[i]);
    }
    tc_identity_roots_free(roots, nroots);
    return rc;
}

/* A signer folder: --out/--dir or the default under the config folder. */
static int
signer_dir(const char *given, char *out, size_t cap, struct tc_detail *d)
{
    if (given != NULL) {
        if (strlen(given) >= cap) {
            return tc_detail_set(d, TC_ERR_TOO_BIG, -1, "dir", "path too long");
        }
        strcpy(out, given);
        return TC_OK;
    }
    return tc_manifest_signer_default_dir(out, cap, d);
}

static int
signer_paths(const char *dir, char *kpath, char *cpath, size_t cap)
{
    return snprintf(kpath, cap, "%s/%s", dir, TC_MANIFEST_SIGNER_KEY_FILE) <
               (int)cap &&
           snprintf(cpath, cap, "%s/%s", dir, TC_MANIFEST_SIGNER_CERT_FILE) <
               (int)cap;
}

static int
signer_new(int argc, char **argv)
{
    const char *out = NULL;
    const char *cn = "thingcore manifest signer";
    int days = 7300;
    int force = 0;
    char dir[4096];
    struct tc_detail d;
    int rc;
    int i;

    for (i = 1; i < argc; i++) {
        const char *a = argv[i];

        if (strcmp(a, "--out") == 0 || strcmp(a, "--cn") == 0 ||
            strcmp(a, "--days") == 0) {
            const char *v = value(argc, argv, &i);

            if (v == NULL) {
                return CLI_EXIT_USAGE;
            }
            if (a[2] == 'o') {
                out = v;
            } else if (a[2] == 'c') {
                cn = v;
            } else {
                days = atoi(v);
            }
        } else if (strcmp(a, "--force") == 0) {
            force = 1;
        } else {
            fprintf(stderr, "usage: thingcore manifest signer new [--out DIR] "
                            "[--cn CN] [--days N] [--force]\n");
            return strcmp(a, "--help") == 0 ? CLI_EXIT_OK : CLI_EXIT_USAGE;
        }
    }
    tc_detail_clear(&d);
    rc = signer_dir(out, dir, sizeof(dir), &d);
    if (rc == TC_OK) {
        rc = tc_manifest_signer_generate(dir, cn, days, force, &d);
    }
    if (rc != TC_OK) {
        return cli_fail("manifest signer new", rc, &d);
    }
    printf("manifest signer written to %s\n", dir);
    return CLI_EXIT_OK;
}

static int
signer_show(int argc, char **argv)
{
    const char *given = NULL;
    char dir[4096];
    char kpath[4200];
    char cpath[4200];
    struct tc_manifest_signer *s = NULL;
    struct tc_detail d;
    struct tc_buf b;
    uint8_t *der = NULL;
    size_t len = 0;
    uint8_t md[32];
    char hex[65];
    int rc;
    int i;

    for (i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--dir") == 0) {
            given = value(argc, argv, &i);
            if (given == NULL) {
                return CLI_EXIT_USAGE;
            }
        } else {
            fprintf(stderr, "usage: thingcore manifest signer show "
                            "[--dir DIR]\n");
            return CLI_EXIT_USAGE;
        }
    }
    tc_detail_clear(&d);
    tc_buf_init(&b, 0);
    rc = signer_dir(given, dir, sizeof(dir), &d);
    if (rc == TC_OK && !signer_paths(dir, kpath, cpath, sizeof(kpath))) {
        rc = tc_detail_set(&d, TC_ERR_TOO_BIG, -1, "dir", "path too long");
    }
    if (rc == TC_OK) {
        rc = tc_manifest_signer_load(kpath, cpath, &s, &d);
    }
    if (rc == TC_OK) {
        rc = read_cert_der(cpath, &der, &len, &d);
    }
    if (rc != TC_OK) {
        tc_buf_clear(&b, 0);
        if (rc == TC_ERR_NOT_FOUND) {
            fprintf(stderr,
                    "thingcore: no manifest signer in %s; make one "
                    "with 'thingcore manifest signer new'\n",
                    dir);
            return CLI_EXIT_FAIL;
        }
        return cli_fail("manifest signer show", rc, &d);
    }
    EVP_Digest(der, len, md, NULL, EVP_sha256(), NULL);
    tc_hex_encode(md, sizeof(md), hex, 0);
    printf("folder:       %s\nkey:          %s\ncertificate:  %s\n"
           "sha256:       %s\nkid:          %s\nx5t#S256:     %s\n",
           dir, kpath, cpath, hex, tc_manifest_signer_kid(s),
           tc_manifest_signer_x5t(s));
    OPENSSL_free(der);
    tc_manifest_signer_free(s);
    return CLI_EXIT_OK;
}

static const struct cli_command signer_commands[] = {
    {"new", signer_new, "make the local manifest signer (once)"},
    {"show", signer_show, "where the signer is and its fingerprint"},
    {NULL, NULL, NULL},
};

static int
manifest_signer(int argc, char **argv)
{
    return cli_dispatch("thingcore manifest signer", signer_commands, argc - 1,
                        argv + 1,
                        "usage: thingcore manifest signer COMMAND\n"
                        "The local key and certificate that sign "
                        "manifests.");
}

static const char create_usage[] =
    "usage: thingcore manifest create (--se T ... | --from-certs DEVICE "
    "SIGNER ...)\n"
    "         [--signer-key K --signer-cert C] [--model M] "
    "[--part-number P]\n"
    "         [--group-id G] [--version 1|2] [--trust ROOT.pem]... "
    "[--factory FDIR]\n"
    "         -o FILE\n"
    "--se reads each chip (serial number, certificates, keys of slots "
    "0-4);\n"
    "--trust and --factory add candidate roots for rebuilding its signer\n"
    "certificate. --from-certs gives uniqueId and kid 0 (with x5c) only.\n";

static int
manifest_create(int argc, char **argv)
{
    const char *dev_path[MAX_INPUTS];
    const char *sig_path[MAX_INPUTS];
    const char *se_path[MAX_INPUTS];
    char *trust[MAX_TRUST];
    int ntrust = 0;
    const char *fdir_opt = NULL;
    char fdir[4096];
    struct tc_identity *chips = NULL;
    const char *key_file = NULL;
    const char *cert_file = NULL;
    const char *out = NULL;
    const char *model = NULL;
    const char *part = NULL;
    const char *group = NULL;
    int version = 1;
    int nse = 0;
    int n = 0;
    int i;
    int rc = TC_ERR_INTERNAL;
    struct tc_manifest_identity ids[MAX_INPUTS];
    uint8_t *ders[2 * MAX_INPUTS];
    struct tc_manifest_signer *s = NULL;
    struct tc_detail d;
    struct tc_buf b;
    char dir[4096];
    char kpath[4200];
    char cpath[4200];

    memset(ders, 0, sizeof(ders));
    for (i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = NULL;

        if (strcmp(a, "--from-certs") == 0) {
            if (i + 2 >= argc || n >= MAX_INPUTS) {
                fprintf(stderr, "%s", create_usage);
                return CLI_EXIT_USAGE;
            }
            dev_path[n] = argv[++i];
            sig_path[n] = argv[++i];
            n++;
            continue;
        }
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            printf("%s", create_usage);
            return CLI_EXIT_OK;
        }
        v = value(argc, argv, &i);
        if (v == NULL) {
            return CLI_EXIT_USAGE;
        }
        if (strcmp(a, "--se") == 0) {
            if (n + nse >= MAX_INPUTS) {
                fprintf(stderr,
                        "thingcore manifest create: at most %d "
                        "chips and certificate pairs\n",
                        MAX_INPUTS);
                return CLI_EXIT_USAGE;
            }
            se_path[nse++] = v;
        } else if (strcmp(a, "--trust") == 0) {
            if (ntrust == MAX_TRUST) {
                fprintf(stderr,
                        "thingcore manifest create: at most %d "
                        "--trust\n",
                        MAX_TRUST);
                return CLI_EXIT_USAGE;
            }
            trust[ntrust++] = (char *)v;
        } else if (strcmp(a, "--factory") == 0) {
            fdir_opt = v;
        } else if (strcmp(a, "--signer-key") == 0) {
            key_file = v;
        } else if (strcmp(a, "--signer-cert") == 0) {
            cert_file = v;
        } else if (strcmp(a, "-o") == 0 || strcmp(a, "--out") == 0) {
            out = v;
        } else if (strcmp(a, "--model") == 0) {
            model = v;
        } else if (strcmp(a, "--part-number") == 0) {
            part = v;
        } else if (strcmp(a, "--group-id") == 0) {
            group = v;
        } else if (strcmp(a, "--version") == 0) {
            version = atoi(v);
        } else {
            fprintf(stderr,
                    "thingcore manifest create: unknown option "
                    "'%s'\n%s",
                    a, create_usage);
            return CLI_EXIT_USAGE;
        }
    }
    if (out == NULL || (n == 0 && nse == 0) ||
        (key_file == NULL) != (cert_file == NULL)) {
        fprintf(stderr, "%s", create_usage);
        return CLI_EXIT_USAGE;
    }
    if (n + nse > MAX_INPUTS) {
        fprintf(stderr,
                "thingcore manifest create: at most %d chips and "
                "certificate pairs\n",
                MAX_INPUTS);
        return CLI_EXIT_USAGE;
    }

    /* The signer: given, or the local one every run reuses. */
    tc_detail_clear(&d);
    tc_buf_init(&b, (size_t)MAX_INPUTS * TC_MANIFEST_ENTRY_MAX);
    if (key_file == NULL) {
        rc = tc_manifest_signer_default_dir(dir, sizeof(dir), &d);
        if (rc != TC_OK) {
            goto out;
        }
        if (!signer_paths(dir, kpath, cpath, sizeof(kpath))) {
            rc = tc_detail_set(&d, TC_ERR_TOO_BIG, -1, "dir", "path too long");
            goto out;
        }
        key_file = kpath;
        cert_file = cpath;
    }
    rc = tc_manifest_signer_load(key_file, cert_file, &s, &d);
    if (rc == TC_ERR_NOT_FOUND) {
        rc = tc_detail_set(&d, TC_ERR_MANIFEST_NO_SIGNER, -1, "signer",
                           "%s; make one with 'thingcore manifest signer "
                           "new' or pass --signer-key and --signer-cert",
                           d.text);
    }
    if (rc != TC_OK) {
        goto out;
    }

    /* One identity per certificate pair. */
    for (i = 0; i < n; i++) {
        size_t dl = 0;
        size_t sl = 0;

        tc_manifest_identity_init(&ids[i]);
        rc = read_cert_der(dev_path[i], &ders[2 * i], &dl, &d);
        if (rc == TC_OK) {
            rc = read_cert_der(sig_path[i], &ders[2 * i + 1], &sl, &d);
        }
        if (rc == TC_OK) {
            rc = tc_manifest_identity_from_certs(&ids[i], ders[2 * i], dl,
                                                 ders[2 * i + 1], sl, &d);
        }
        if (rc != TC_OK) {
            goto out;
        }
        ids[i].version = version;
        ids[i].group_id = group;
        if (model != NULL) {
            ids[i].model = model;
        }
        if (part != NULL) {
            ids[i].part_number = part;
        }
    }

    /* One identity per chip, read through the client. */
    if (nse > 0) {
        chips = calloc((size_t)nse, sizeof(*chips));
        if (chips == NULL) {
            rc = TC_ERR_NOMEM;
            goto out;
        }
        cli_factory_dir(fdir_opt, fdir, sizeof(fdir));
    }
    for (i = 0; i < nse; i++) {
        struct tc_manifest_identity *mid = &ids[n + i];

        tc_manifest_identity_init(mid);
        rc = identity_from_chip(se_path[i], fdir[0] != '\0' ? fdir : NULL,
                                trust, ntrust, &chips[i], mid, &d);
        if (rc != TC_OK) {
            char text[sizeof(d.text)];

            /* Name the chip: the transport string says which one. */
            snprintf(text, sizeof(text), "chip %.100s: %.140s", se_path[i],
                     d.text[0] != '\0' ? d.text : tc_strerror(rc));
            memcpy(d.text, text, sizeof(text));
            goto out;
        }
        mid->version = version;
        mid->group_id = group;
        if (model != NULL) {
            mid->model = model;
        }
        if (part != NULL) {
            mid->part_number = part;
        }
    }
    rc = tc_manifest_create(s, ids, (size_t)(n + nse), &b, &d);
    if (rc == TC_OK) {
        rc = tc_file_write_atomic(out, b.data, b.len, 0644, &d);
    }
    if (rc == TC_OK) {
        printf("%s: %d entr%s signed by kid %s\n", out, n + nse,
               n + nse == 1 ? "y" : "ies", tc_manifest_signer_kid(s));
    }
out:
    free(chips);
    for (i = 0; i < 2 * MAX_INPUTS; i++) {
        OPENSSL_free(ders[i]);
    }
    tc_manifest_signer_free(s);
    tc_buf_clear(&b, 0);
    if (rc != TC_OK) {
        return cli_fail("manifest create", rc, &d);
    }
    return CLI_EXIT_OK;
}

/* Options verify and extract share. */
struct vopts {
    const char *file;
    const char *out;
    int json;
    struct tc_manifest_verifier *v;
};

/* Add every certificate of a file as a signer (trust == 0) or anchor. */
int
cli_verifier_add_file(struct tc_manifest_verifier *v, const char *path,
                      int trust, struct tc_detail *d)
{
    struct tc_buf b;
    int rc;

    tc_buf_init(&b, CERT_FILE_MAX);
    rc = tc_file_read(path, &b, d);
    if (rc == TC_OK) {
        rc = trust ? tc_manifest_verifier_add_trust(v, b.data, b.len, d)
                   : tc_manifest_verifier_add_signer(v, b.data, b.len, d);
        if (rc != TC_OK && d != NULL) {
            char text[sizeof(d->text)];

            snprintf(text, sizeof(text), "%.100s: %.150s", path, d->text);
            memcpy(d->text, text, sizeof(text));
        }
    }
    tc_buf_clear(&b, 0);
    return rc;
}

/* "YYYY-MM-DDTHH:MM:SSZ" or seconds since the epoch. */
static int
parse_time(const char *s, time_t *t)
{
    struct tm tm;
    char *end;
    long long n;

    memset(&tm, 0, sizeof(tm));
    end = strptime(s, "%Y-%m-%dT%H:%M:%SZ", &tm);
    if (end != NULL && *end == '\0') {
        *t = timegm(&tm);
        return 1;
    }
    errno = 0;
    n = strtoll(s, &end, 10);
    if (errno == 0 && end != s && *end == '\0' && n >= 0) {
        *t = (time_t)n;
        return 1;
    }
    return 0;
}

/* Parse FILE --signer C... [--trust R...] [--at T] [--no-chain] [--json]. */
static int
parse_vopts(int argc, char **argv, struct vopts *o, int want_out,
            const char *usage)
{
    struct tc_detail d;
    int nsigners = 0;
    int rc;
    int i;
    time_t t;

    memset(o, 0, sizeof(*o));
    tc_detail_clear(&d);
    if (tc_manifest_verifier_new(&o->v) != TC_OK) {
        return cli_fail("manifest", TC_ERR_NOMEM, NULL);
    }
    for (i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *val;

        if (strcmp(a, "--json") == 0) {
            o->json = 1;
            continue;
        }
        if (strcmp(a, "--no-chain") == 0) {
            tc_manifest_verifier_skip_chain(o->v, 1);
            continue;
        }
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            printf("%s", usage);
            return CLI_EXIT_OK + 100;
        }
        if (a[0] != '-') {
            if (o->file != NULL) {
                fprintf(stderr, "%s", usage);
                return CLI_EXIT_USAGE;
            }
            o->file = a;
            continue;
        }
        val = value(argc, argv, &i);
        if (val == NULL) {
            return CLI_EXIT_USAGE;
        }
        if (strcmp(a, "--signer") == 0 || strcmp(a, "--trust") == 0) {
            rc = cli_verifier_add_file(o->v, val, a[2] == 't', &d);
            if (rc != TC_OK) {
                return cli_fail("manifest", rc, &d);
            }
            nsigners += a[2] == 's';
        } else if (strcmp(a, "--at") == 0) {
            if (!parse_time(val, &t)) {
                fprintf(stderr, "thingcore manifest: --at wants "
                                "YYYY-MM-DDTHH:MM:SSZ or epoch seconds\n");
                return CLI_EXIT_USAGE;
            }
            tc_manifest_verifier_set_time(o->v, t);
        } else if (want_out &&
                   (strcmp(a, "--out") == 0 || strcmp(a, "-o") == 0)) {
            o->out = val;
        } else {
            fprintf(stderr, "thingcore manifest: unknown option '%s'\n%s", a,
                    usage);
            return CLI_EXIT_USAGE;
        }
    }
    if (o->file == NULL || nsigners == 0 || (want_out && o->out == NULL)) {
        fprintf(stderr, "%s", usage);
        return CLI_EXIT_USAGE;
    }
    return CLI_EXIT_OK;
}

/* A JSON string for a value that may hold anything (uniqueId, reason). */
static void
put_json_str(FILE *f, const char *s)
{
    json_t *j = json_string(s != NULL ? s : "");
    char *t = j != NULL ? json_dumps(j, JSON_ENCODE_ANY) : NULL;

    fputs(t != NULL ? t : "\"\"", f);
    free(t);
    json_decref(j);
}

/* One result as a JSON object on f. */
static void
put_result(FILE *f, const struct tc_manifest_result *r)
{
    fprintf(f, "{\"index\": %zu, \"offset\": %ld, \"uniqueId\": ", r->index,
            r->offset);
    put_json_str(f, r->unique_id);
    fprintf(f, ", \"ok\": %s", r->err == TC_OK ? "true" : "false");
    if (r->err != TC_OK) {
        fprintf(f, ", \"code\": \"%s\", \"check\": ", tc_errname(r->err));
        put_json_str(f, r->detail.field);
        fputs(", \"reason\": ", f);
        put_json_str(f, r->detail.text[0] != '\0' ? r->detail.text
                                                  : tc_strerror(r->err));
    } else {
        fprintf(f, ", \"version\": %d, \"certificate\": %s", r->version,
                r->device_der != NULL ? "true" : "false");
    }
    fputs("}", f);
}

static void
print_failure(const struct tc_manifest_result *r)
{
    printf("entry %zu (uniqueId %s, byte %ld): %s [%s]: %s\n", r->index,
           r->unique_id[0] != '\0' ? r->unique_id : "unknown", r->offset,
           tc_strerror(r->err), r->detail.field,
           r->detail.text[0] != '\0' ? r->detail.text : "-");
}

struct verify_ctx {
    int json;
    size_t n;
};

static int
on_verify(void *ctx, const struct tc_manifest_result *r)
{
    struct verify_ctx *c = ctx;

    if (c->json) {
        fputs(c->n++ == 0 ? "\n  " : ",\n  ", stdout);
        put_result(stdout, r);
    } else if (r->err != TC_OK) {
        print_failure(r);
    }
    return TC_OK;
}

static const char verify_usage[] =
    "usage: thingcore manifest verify FILE --signer CERT... [--trust "
    "ROOT...]\n"
    "         [--at YYYY-MM-DDTHH:MM:SSZ] [--no-chain] [--json]\n"
    "Exit status 0 only when every entry passes every check.\n";

static int
manifest_verify(int argc, char **argv)
{
    struct vopts o;
    struct verify_ctx c = {0, 0};
    struct tc_manifest_summary sum;
    struct tc_detail d;
    int rc = parse_vopts(argc, argv, &o, 0, verify_usage);

    if (rc != CLI_EXIT_OK) {
        tc_manifest_verifier_free(o.v);
        return rc == CLI_EXIT_OK + 100 ? CLI_EXIT_OK : rc;
    }
    c.json = o.json;
    tc_detail_clear(&d);
    if (o.json) {
        fputs("{\"results\": [", stdout);
    }
    rc = tc_manifest_verify_file(o.v, o.file, on_verify, &c, &sum, &d);
    tc_manifest_verifier_free(o.v);
    if (o.json) {
        fprintf(stdout,
                "\n], \"entries\": %zu, \"passed\": %zu, "
                "\"failed\": %zu, \"error\": ",
                sum.entries, sum.passed, sum.failed);
        if (rc != TC_OK) {
            put_json_str(stdout, d.text[0] != '\0' ? d.text : tc_strerror(rc));
        } else {
            fputs("null", stdout);
        }
        fputs("}\n", stdout);
    }
    if (rc != TC_OK) {
        return cli_fail(o.file, rc, &d);
    }
    if (!o.json) {
        printf("%s: %zu entries: %zu passed, %zu failed\n", o.file, sum.entries,
               sum.passed, sum.failed);
    }
    return sum.failed == 0 ? CLI_EXIT_OK : CLI_EXIT_FAIL;
}

struct extract_ctx {
    const char *dir;
    FILE *summary;
    size_t written;
    size_t n;
    int io_err;
};

/* DER as PEM appended to f. */
static int
put_pem(FILE *f, const uint8_t *der, size_t len)
{
    const uint8_t *q = der;
    X509 *x = d2i_X509(NULL, &q, (long)len);
    BIO *bio = BIO_new_fp(f, BIO_NOCLOSE);
    int ok = x != NULL && bio != NULL && PEM_write_bio_X509(bio, x) == 1;

    BIO_free(bio);
    X509_free(x);
    ERR_clear_error();
    return ok;
}

static int
on_extract(void *ctx, const struct tc_manifest_result *r)
{
    struct extract_ctx *c = ctx;
    char path[4200];
    char tmp[4300];
    FILE *f;
    int ok;

    fputs(c->n++ == 0 ? "\n  " : ",\n  ", c->summary);
    if (r->err != TC_OK) {
        print_failure(r);
        put_result(c->summary, r);
        return TC_OK;
    }
    if (r->device_der == NULL) {
        put_result(c->summary, r);
        return TC_OK;
    }

    /* <uniqueId>.pem: the device certificate, then its signer. */
    snprintf(path, sizeof(path), "%s/%s.pem", c->dir, r->unique_id);
    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    f = fopen(tmp, "w");
    ok = f != NULL && put_pem(f, r->device_der, r->device_len) &&
         put_pem(f, r->signer_der, r->signer_len);
    if (f != NULL && fclose(f) != 0) {
        ok = 0;
    }
    if (!ok || rename(tmp, path) != 0) {
        fprintf(stderr, "thingcore: cannot write %s\n", path);
        c->io_err = 1;
        return TC_ERR_IO;
    }
    c->written++;
    fprintf(c->summary,
            "{\"index\": %zu, \"uniqueId\": \"%s\", \"ok\": true, "
            "\"version\": %d, \"certificate\": \"%s.pem\", "
            "\"provisioningTimestamp\": ",
            r->index, r->unique_id, r->version, r->unique_id);
    put_json_str(c->summary, r->timestamp);
    fputs(", \"model\": ", c->summary);
    put_json_str(c->summary, r->model);
    fputs(", \"partNumber\": ", c->summary);
    put_json_str(c->summary, r->part_number);
    fputs("}", c->summary);
    return TC_OK;
}

static const char extract_usage[] =
    "usage: thingcore manifest extract FILE --signer CERT... --trust "
    "ROOT... --out DIR\n"
    "         [--at YYYY-MM-DDTHH:MM:SSZ]\n"
    "Writes DIR/<uniqueId>.pem per verified entry and DIR/summary.json;\n"
    "entries that fail are reported and skipped (exit status 1).\n";

static int
manifest_extract(int argc, char **argv)
{
    struct vopts o;
    struct extract_ctx c;
    struct tc_manifest_summary sum;
    struct tc_detail d;
    char spath[4200];
    char stmp[4300];
    int rc = parse_vopts(argc, argv, &o, 1, extract_usage);

    if (rc != CLI_EXIT_OK) {
        tc_manifest_verifier_free(o.v);
        return rc == CLI_EXIT_OK + 100 ? CLI_EXIT_OK : rc;
    }
    memset(&c, 0, sizeof(c));
    memset(&sum, 0, sizeof(sum));
    tc_detail_clear(&d);
    c.dir = o.out;
    rc = tc_mkdir_p(o.out, 0755, &d);
    snprintf(spath, sizeof(spath), "%s/summary.json", o.out);
    snprintf(stmp, sizeof(stmp), "%s.tmp", spath);
    if (rc == TC_OK) {
        c.summary = fopen(stmp, "w");
        if (c.summary == NULL) {
            rc = tc_detail_set(&d, TC_ERR_IO, -1, "out", "cannot write %s",
                               stmp);
        }
    }
    if (rc == TC_OK) {
        fputs("{\"entries\": [", c.summary);
        rc = tc_manifest_verify_file(o.v, o.file, on_extract, &c, &sum, &d);
        fprintf(c.summary,
                "\n], \"total\": %zu, \"extracted\": %zu, \"failed\": %zu}\n",
                sum.entries, c.written, sum.failed);
        if (fclose(c.summary) != 0 || rename(stmp, spath) != 0) {
            rc = rc != TC_OK ? rc : TC_ERR_IO;
        }
    }
    tc_manifest_verifier_free(o.v);
    if (rc != TC_OK) {
        return cli_fail(o.file, rc, &d);
    }
    printf("%s: %zu entries: %zu certificate chains written to %s, %zu "
           "failed\n",
           o.file, sum.entries, c.written, o.out, sum.failed);
    return sum.failed == 0 ? CLI_EXIT_OK : CLI_EXIT_FAIL;
}

static const struct cli_command manifest_commands[] = {
    {"create", manifest_create, "sign a manifest for chips or certificates"},
    {"verify", manifest_verify, "verify every entry of a manifest"},
    {"extract", manifest_extract,
     "write the certificates of verified "
     "entries"},
    {"signer", manifest_signer, "make or show the local manifest signer"},
    {NULL, NULL, NULL},
};

int
cmd_manifest(int argc, char **argv)
{
    return cli_dispatch("thingcore manifest", manifest_commands, argc - 1,
                        argv + 1,
                        "usage: thingcore manifest COMMAND [OPTIONS]\n"
                        "Trust&GO manifests: create, verify, extract.");
}
