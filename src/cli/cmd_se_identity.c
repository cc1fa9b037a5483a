// SPDX-License-Identifier: Apache-2.0
/*
 * thingcore se manufacture and se certs: making simulated Trust&GO chips,
 * and reading a chip's certificates back with the chain check against
 * explicit trust anchors.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/pem.h>
#include <openssl/x509.h>

#include "cli.h"
#include "thingcore/factory.h"
#include "thingcore/identity.h"
#include "thingcore/util.h"

#define MAX_TRUST 16

static const char manufacture_usage[] =
    "usage: thingcore se manufacture --out DIR [--factory FDIR] [--count N]\n"
    "                                [--serial HEX]\n"
    "Make simulated Trust&GO chips in DIR the way Microchip's factory does:\n"
    "keys generated inside each chip, device certificate issued from\n"
    "template 3 by the factory's signer CA, compressed certificates in\n"
    "slots 10-12, zones locked. FDIR (default: the data directory's\n"
    "factory/) keeps the simulated root and signer CAs; FDIR/root.pem is\n"
    "the root to trust for these chips, and it is labelled simulated.\n";

int
cmd_se_manufacture(int argc, char **argv)
{
    static const struct option opts[] = {
        {"out", required_argument, NULL, 'o'},
        {"factory", required_argument, NULL, 'f'},
        {"count", required_argument, NULL, 'c'},
        {"serial", required_argument, NULL, 's'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *out = NULL;
    const char *fdir_opt = NULL;
    const char *serial = NULL;
    char fdir[4096];
    uint8_t key[TC_CHIP_WRAP_KEY_SIZE];
    uint8_t sn[TC_ATCA_SN_SIZE];
    struct tc_factory *f = NULL;
    struct tc_detail d;
    int progress = isatty(STDERR_FILENO);
    double start;
    long count = 1;
    long i;
    int c;
    int rc;

    optind = 1;
    while ((c = getopt_long(argc, argv, "o:f:c:s:h", opts, NULL)) != -1) {
        switch (c) {
        case 'o':
            out = optarg;
            break;
        case 'f':
            fdir_opt = optarg;
            break;
        case 'c':
            count = strtol(optarg, NULL, 10);
            if (count < 1 || count > 1000000) {
                fprintf(stderr, "thingcore se manufacture: --count '%s': use "
                                "1-1000000\n",
                        optarg);
                return CLI_EXIT_USAGE;
            }
            break;
        case 's':
            serial = optarg;
            break;
        case 'h':
            fputs(manufacture_usage, stdout);
            return CLI_EXIT_OK;
        default:
            fputs(manufacture_usage, stderr);
            return CLI_EXIT_USAGE;
        }
    }
    if (out == NULL || optind != argc || (serial != NULL && count != 1)) {
        fputs(manufacture_usage, stderr);
        return CLI_EXIT_USAGE;
    }
    tc_detail_clear(&d);
    if (serial != NULL) {
        size_t n = 0;

        if (tc_hex_decode(serial, strlen(serial), sn, sizeof(sn), &n, &d) !=
                TC_OK ||
            n != sizeof(sn) || sn[0] != 0x01 || sn[1] != 0x23) {
            fprintf(stderr, "thingcore se manufacture: --serial '%s': use 18 "
                            "hex digits starting 0123\n",
                    serial);
            return CLI_EXIT_USAGE;
        }
    }
    cli_factory_dir(fdir_opt, fdir, sizeof(fdir));
    if (fdir[0] == '\0') {
        fprintf(stderr, "thingcore se manufacture: no data directory: give "
                        "--factory FDIR\n");
        return CLI_EXIT_USAGE;
    }
    rc = tc_factory_open(fdir, 1, &f, &d);
    if (rc != TC_OK) {
        return cli_fail(fdir, rc, &d);
    }
    rc = tc_chip_folder_key(out, 1, key, &d);
    if (rc != TC_OK) {
        tc_factory_free(f);
        return cli_fail(out, rc, &d);
    }

    start = tc_monotonic();
    for (i = 0; i < count; i++) {
        struct tc_chip *chip = NULL;
        char name[32];
        char path[4200];

        rc = tc_factory_make_chip(f, serial != NULL ? sn : NULL, &chip, &d);
        if (rc == TC_OK) {
            uint8_t chip_sn[TC_ATCA_SN_SIZE];

            tc_chip_serial(chip, chip_sn);
            tc_chip_file_name(chip_sn, name);
            snprintf(path, sizeof(path), "%s/%s", out, name);
            rc = tc_chip_save(chip, path, key, &d);
            tc_chip_free(chip);
        }
        if (rc != TC_OK) {
            if (progress) {
                fputc('\n', stderr);
            }
            tc_factory_free(f);
            return cli_fail("manufacture", rc, &d);
        }
        printf("%.*s %s\n", 2 * TC_ATCA_SN_SIZE, name, path);
        if (progress && (i % 25 == 24 || i + 1 == count)) {
            double took = tc_monotonic() - start;

            fprintf(stderr, "\rmanufactured %ld/%ld chips (%.0f/s)", i + 1,
                    count, took > 0 ? (i + 1) / took : 0.0);
        }
    }
    if (progress) {
        fputc('\n', stderr);
    }
    fprintf(stderr,
            "made %ld simulated chip%s in %s in %.2f s; trust root: %s\n",
            count, count == 1 ? "" : "s", out, tc_monotonic() - start,
            tc_factory_root_path(f));
    tc_factory_free(f);
    return CLI_EXIT_OK;
}

/* ---- certs ---- */

static int
load_pem_cert(const char *path, X509 **out)
{
    struct tc_detail d;
    int rc;

    tc_detail_clear(&d);
    rc = cli_load_cert(path, out, &d);
    if (rc != TC_OK) {
        cli_fail(path, rc, &d);
    }
    return rc;
}

static void
print_name(const char *label, X509_NAME *name)
{
    char buf[512];

    X509_NAME_oneline(name, buf, sizeof(buf));
    printf("%s%s\n", label, buf);
}

static void
print_time(const char *label, const ASN1_TIME *t)
{
    BIO *bio = BIO_new_fp(stdout, BIO_NOCLOSE);

    printf("%s", label);
    ASN1_TIME_print(bio, t);
    BIO_free(bio);
    printf("\n");
}

static const char *
kind_name(enum tc_cert_kind kind)
{
    const struct tc_cert_template *t = tc_cert_template_get(kind);

    return t != NULL ? t->name : "unknown";
}

void
cli_print_identity(const struct tc_identity *id)
{
    const unsigned char *p = id->device_der;
    X509 *device = d2i_X509(NULL, &p, (long)id->device_len);

    printf("template:      %s\n", kind_name(id->device_kind));
    if (id->eui48[0] != '\0') {
        printf("eui-48:        %s\n", id->eui48);
    }
    if (device != NULL) {
        print_name("subject:       ", X509_get_subject_name(device));
        print_name("issuer:        ", X509_get_issuer_name(device));
        print_time("not before:    ", X509_get0_notBefore(device));
        print_time("not after:     ", X509_get0_notAfter(device));
    }
    printf("simulated:     %s\n",
           id->simulated ? "yes (made by a simulated factory)" : "no");
    X509_free(device);
}

static const char certs_usage[] =
    "usage: thingcore se certs [--se TRANSPORT] [--trust ROOT.pem]...\n"
    "                          [--factory FDIR] [--format pem|der]\n"
    "                          [--out DIR]\n"
    "Rebuild the chip's device and signer certificates from their\n"
    "compressed forms and check the chain device <- signer <- anchor.\n"
    "Anchors: the real Crypto Authentication Root CA 002 and each --trust\n"
    "ROOT; the chip's signer certificate is never an anchor. Prints PEM\n"
    "(device, then signer) or writes device.pem/signer.pem (or .der) into\n"
    "DIR. Exit status 1 when the chain does not verify.\n";

int
cmd_se_certs(int argc, char **argv)
{
    static const struct option opts[] = {
        {"se", required_argument, NULL, 's'},
        {"trust", required_argument, NULL, 't'},
        {"factory", required_argument, NULL, 'f'},
        {"format", required_argument, NULL, 'F'},
        {"out", required_argument, NULL, 'o'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *transport = getenv("THINGCORE_SE");
    const char *fdir_opt = NULL;
    const char *format = "pem";
    const char *outdir = NULL;
    X509 *trust[MAX_TRUST + 1];
    int ntrust = 0;
    X509 **roots = NULL;
    size_t nroots = 0;
    char fdir[4096];
    struct tc_identity id;
    struct tc_se *se = NULL;
    struct tc_detail d;
    int status = CLI_EXIT_FAIL;
    int c;
    int rc;
    int i;

    optind = 1;
    while ((c = getopt_long(argc, argv, "s:t:f:F:o:h", opts, NULL)) != -1) {
        switch (c) {
        case 's':
            transport = optarg;
            break;
        case 't':
            if (ntrust == MAX_TRUST) {
                fprintf(stderr, "thingcore se certs: at most %d --trust\n",
                        MAX_TRUST);
                goto usage;
            }
            if (load_pem_cert(optarg, &trust[ntrust]) != TC_OK) {
                goto done;
            }
            ntrust++;
            break;
        case 'f':
            fdir_opt = optarg;
            break;
        case 'F':
            format = optarg;
            break;
        case 'o':
            outdir = optarg;
            break;
        case 'h':
            fputs(certs_usage, stdout);
            status = CLI_EXIT_OK;
            goto done;
        default:
            goto usage;
        }
    }
    if (optind != argc ||
        (strcmp(format, "pem") != 0 && strcmp(format, "der") != 0)) {
        goto usage;
    }
    if (strcmp(format, "der") == 0 && outdir == NULL) {
        fprintf(stderr, "thingcore se certs: --format der needs --out DIR\n");
        goto usage;
    }
    if (transport == NULL) {
        fprintf(stderr, "thingcore se certs: give --se TRANSPORT or set "
                        "THINGCORE_SE\n");
        goto usage;
    }
    cli_factory_dir(fdir_opt, fdir, sizeof(fdir));
    tc_detail_clear(&d);
    rc = cli_identity_read(transport, NULL, fdir_opt, trust, (size_t)ntrust,
                           &id, &roots, &nroots, &d);
    if (rc != TC_OK) {
        cli_fail(transport, rc, &d);
        goto done;
    }

    /* Output first, so a failing chain can still be inspected. */
    {
        const uint8_t *ders[2] = {id.device_der, id.signer_der};
        size_t lens[2] = {id.device_len, id.signer_len};
        const char *names[2] = {"device", "signer"};

        for (i = 0; i < 2; i++) {
            const unsigned char *p = ders[i];
            X509 *x = d2i_X509(NULL, &p, (long)lens[i]);
            BIO *bio = BIO_new(BIO_s_mem());
            char path[4200];
            char *mem;
            long len;

            if (x == NULL || bio == NULL || !PEM_write_bio_X509(bio, x)) {
                X509_free(x);
                BIO_free(bio);
                cli_fail(names[i], TC_ERR_CRYPTO, NULL);
                goto done;
            }
            len = BIO_get_mem_data(bio, &mem);
            if (outdir == NULL) {
                fwrite(mem, 1, (size_t)len, stdout);
            } else {
                int der = strcmp(format, "der") == 0;

                snprintf(path, sizeof(path), "%s/%s.%s", outdir, names[i],
                         format);
                rc = tc_file_write_atomic(path, der ? (const void *)ders[i]
                                                    : (const void *)mem,
                                          der ? lens[i] : (size_t)len, 0644,
                                          &d);
                if (rc != TC_OK) {
                    X509_free(x);
                    BIO_free(bio);
                    cli_fail(path, rc, &d);
                    goto done;
                }
            }
            X509_free(x);
            BIO_free(bio);
        }
    }

    /* The chain, against explicit anchors only. */
    {
        X509 *anchors[MAX_TRUST + 1];
        size_t nanchors = 0;

        anchors[nanchors++] = roots[0];
        for (i = 0; i < ntrust; i++) {
            anchors[nanchors++] = trust[i];
        }
        rc = tc_cert_verify_chain(id.device_der, id.device_len,
                                  id.signer_der, id.signer_len, anchors,
                                  nanchors, 0, &d);
    }
    if (rc == TC_OK) {
        fprintf(stderr, "chain: verified (%s root)\n",
                id.simulated ? "simulated factory" : "Microchip");
        status = CLI_EXIT_OK;
    } else if (id.simulated && id.root_index >= 0) {
        fprintf(stderr,
                "chain: NOT trusted: the chip comes from a simulated "
                "factory; trust its root explicitly with --trust "
                "%s/root.pem\n",
                fdir[0] ? fdir : "FDIR");
    } else {
        fprintf(stderr, "chain: NOT trusted: %s: %s\n", tc_strerror(rc),
                d.text);
    }
    goto done;

usage:
    fputs(certs_usage, stderr);
    status = CLI_EXIT_USAGE;
done:
    for (i = 0; i < ntrust; i++) {
        X509_free(trust[i]);
    }
    tc_identity_roots_free(roots, nroots);
    tc_se_close(se);
    return status;
}
