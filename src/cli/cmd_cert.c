// SPDX-License-Identifier: Apache-2.0
/*
 * thingcore cert: compressed certificates and Trust&GO chains from the
 * command line. decode shows a 72-byte compressed certificate; rebuild
 * turns one plus chip data into the certificate; verify checks a chain
 * against explicit roots; factory runs a simulated factory into a folder.
 * Reading a real chip is `thingcore se`'s business, not this file's.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/pem.h>
#include <openssl/x509.h>

#include "cli.h"
#include "thingcore/cert.h"
#include "thingcore/util.h"

#define FILE_MAX (64 * 1024)

static const char usage[] =
    "usage: thingcore cert COMMAND [OPTIONS]\n"
    "Trust&GO compressed certificates, templates and chains.";

/* Read a whole file of at most FILE_MAX bytes. */
static int
slurp(const char *path, struct tc_buf *b)
{
    struct tc_detail d;
    int rc;

    tc_buf_init(b, FILE_MAX);
    rc = tc_file_read(path, b, &d);
    if (rc != TC_OK) {
        cli_fail(path, rc, &d);
        tc_buf_clear(b, 0);
        return -1;
    }
    return 0;
}

/* A file holding exactly n bytes, raw or as 2n hex digits (+ newline). */
static int
read_exact(const char *path, uint8_t *out, size_t n)
{
    struct tc_buf b;
    struct tc_detail d;
    size_t len = 0;
    size_t got = 0;
    size_t size = 0;
    int ok = 0;

    if (slurp(path, &b) != 0) {
        return -1;
    }
    len = b.len;
    size = b.len;
    while (len > 0 && (b.data[len - 1] == '\n' || b.data[len - 1] == '\r')) {
        len--;
    }
    if (b.len == n) {
        memcpy(out, b.data, n);
        ok = 1;
    } else if (len == 2 * n &&
               tc_hex_decode((const char *)b.data, len, out, n, &got, &d) ==
                   TC_OK &&
               got == n) {
        ok = 1;
    }
    tc_buf_clear(&b, 0);
    if (!ok) {
        fprintf(stderr,
                "thingcore cert: %s: expected %zu bytes or %zu hex digits, "
                "found %zu bytes\n",
                path, n, 2 * n, size);
        return -1;
    }
    return 0;
}

static int
write_file(const char *dir, const char *name, const void *p, size_t n)
{
    char path[4096];
    struct tc_detail d;
    int rc;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    rc = tc_file_write_atomic(path, p, n, 0644, &d);
    if (rc != TC_OK) {
        cli_fail(path, rc, &d);
        return -1;
    }
    return 0;
}

/* Write a certificate as PEM into dir/name. */
static int
write_pem(const char *dir, const char *name, X509 *x)
{
    BIO *b = BIO_new(BIO_s_mem());
    char *p = NULL;
    long n;
    int rc = -1;

    if (b != NULL && PEM_write_bio_X509(b, x) == 1) {
        n = BIO_get_mem_data(b, &p);
        rc = write_file(dir, name, p, (size_t)n);
    }
    BIO_free(b);
    return rc;
}

static const struct tc_cert_template *
template_named(const char *name)
{
    int k;

    for (k = 0; k < TC_CERT_KIND_COUNT; k++) {
        const struct tc_cert_template *t = tc_cert_template_get(k);

        /* The full name, or without its family: "device-template-3". */
        const char *short_name = strchr(t->name, '-');

        if (strcmp(name, t->name) == 0 ||
            (short_name != NULL && strcmp(name, short_name + 1) == 0)) {
            return t;
        }
    }
    fprintf(stderr,
            "thingcore cert: unknown template '%s' (signer-template-1, "
            "device-template-3, device-template-2, device-template-4)\n",
            name);
    return NULL;
}

/* ---- decode ------------------------------------------------------- */

static int
cert_decode(int argc, char **argv)
{
    uint8_t raw[TC_CERT_COMPRESSED_LEN];
    struct tc_cert_compressed c;
    struct tc_detail d;
    char hex[129];
    char utc[14];
    char gen[16];
    int rc;

    if (argc != 2 || argv[1][0] == '-') {
        fprintf(stderr, "usage: thingcore cert decode FILE\n"
                        "Show a compressed certificate (72 bytes, raw or "
                        "hex).\n");
        return argc == 2 && strcmp(argv[1], "--help") == 0 ? CLI_EXIT_OK
                                                           : CLI_EXIT_USAGE;
    }
    if (read_exact(argv[1], raw, sizeof(raw)) != 0) {
        return CLI_EXIT_FAIL;
    }
    rc = tc_cert_compressed_decode(raw, &c, &d);
    if (rc != TC_OK) {
        return cli_fail(argv[1], rc, &d);
    }
    tc_cert_format_dates(&c.issue, c.expire_years, utc, gen, NULL);
    tc_hex_encode(c.signature, 64, hex, 0);
    printf("signature:      %s\n", hex);
    printf("issue_date:     %04d-%02d-%02d %02d:00:00 UTC (%s)\n",
           c.issue.year, c.issue.month, c.issue.day, c.issue.hour, utc);
    printf("expire_years:   %u (%s)\n", c.expire_years, gen);
    printf("signer_id:      %02X%02X\n", c.signer_id[0], c.signer_id[1]);
    printf("template_id:    %u\n", c.template_id);
    printf("chain_id:       %u\n", c.chain_id);
    printf("sn_source:      0x%X\n", c.sn_source);
    printf("format_version: %u\n", c.format_version);
    return CLI_EXIT_OK;
}

/* ---- rebuild ------------------------------------------------------ */

static const struct option rebuild_options[] = {
    {"template", required_argument, NULL, 't'},
    {"comp", required_argument, NULL, 'c'},
    {"pubkey", required_argument, NULL, 'p'},
    {"ca-pubkey", required_argument, NULL, 'a'},
    {"sn", required_argument, NULL, 's'},
    {"eui48", required_argument, NULL, 'e'},
    {"otp", required_argument, NULL, 'O'},
    {"out", required_argument, NULL, 'o'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

static const char rebuild_usage[] =
    "usage: thingcore cert rebuild (--template NAME | --otp CODE)\n"
    "         --comp FILE --pubkey FILE --ca-pubkey FILE [--sn HEX18]\n"
    "         [--eui48 TEXT12] --out FILE.der\n"
    "Rebuild a certificate from its compressed form (72 bytes), the\n"
    "subject public key and the issuer public key (64 bytes X||Y each,\n"
    "raw or hex). Device templates need --sn; template 3 needs --eui48.\n";

static int
cert_rebuild(int argc, char **argv)
{
    const struct tc_cert_template *t = NULL;
    const char *comp = NULL;
    const char *pub = NULL;
    const char *capub = NULL;
    const char *out = NULL;
    struct tc_cert_inputs in;
    struct tc_cert_compressed c;
    uint8_t raw[TC_CERT_COMPRESSED_LEN];
    uint8_t der[TC_CERT_DER_MAX];
    size_t n = 0;
    size_t got = 0;
    struct tc_detail d;
    int opt;
    int rc;

    memset(&in, 0, sizeof(in));
    optind = 1;
    while ((opt = getopt_long(argc, argv, "t:c:p:a:s:e:O:o:h",
                              rebuild_options, NULL)) != -1) {
        switch (opt) {
        case 't':
            t = template_named(optarg);
            if (t == NULL) {
                return CLI_EXIT_USAGE;
            }
            break;
        case 'O':
            if (strlen(optarg) != 8) {
                fprintf(stderr, "thingcore cert: --otp takes 8 characters\n");
                return CLI_EXIT_USAGE;
            }
            rc = tc_cert_template_for_otp((const uint8_t *)optarg, &t, &d);
            if (rc != TC_OK) {
                return cli_fail("--otp", rc, &d);
            }
            break;
        case 'c':
            comp = optarg;
            break;
        case 'o':
            out = optarg;
            break;
        case 'p':
            pub = optarg;
            break;
        case 'a':
            capub = optarg;
            break;
        case 's':
            if (tc_hex_decode(optarg, strlen(optarg), in.sn, sizeof(in.sn),
                              &got, &d) != TC_OK ||
                got != sizeof(in.sn)) {
                fprintf(stderr, "thingcore cert: --sn takes 18 hex digits\n");
                return CLI_EXIT_USAGE;
            }
            break;
        case 'e':
            if (strlen(optarg) != TC_CERT_EUI48_LEN) {
                fprintf(stderr, "thingcore cert: --eui48 takes 12 "
                                "characters\n");
                return CLI_EXIT_USAGE;
            }
            memcpy(in.eui48, optarg, TC_CERT_EUI48_LEN + 1);
            break;
        case 'h':
            fputs(rebuild_usage, stdout);
            return CLI_EXIT_OK;
        default:
            fputs(rebuild_usage, stderr);
            return CLI_EXIT_USAGE;
        }
    }
    if (t == NULL || comp == NULL || pub == NULL || capub == NULL ||
        out == NULL || optind != argc) {
        fputs(rebuild_usage, stderr);
        return CLI_EXIT_USAGE;
    }
    if (read_exact(comp, raw, sizeof(raw)) != 0 ||
        read_exact(pub, in.pubkey, 64) != 0 ||
        read_exact(capub, in.ca_pubkey, 64) != 0) {
        return CLI_EXIT_FAIL;
    }
    rc = tc_cert_compressed_decode(raw, &c, &d);
    if (rc == TC_OK) {
        rc = tc_cert_rebuild(t, &c, &in, der, sizeof(der), &n, &d);
    }
    if (rc != TC_OK) {
        return cli_fail(comp, rc, &d);
    }
    rc = tc_file_write_atomic(out, der, n, 0644, &d);
    if (rc != TC_OK) {
        return cli_fail(out, rc, &d);
    }
    return CLI_EXIT_OK;
}

/* ---- verify ------------------------------------------------------- */

static int
cert_verify(int argc, char **argv)
{
    static const struct option opts[] = {
        {"root", required_argument, NULL, 'r'},
        {"microchip-root", no_argument, NULL, 'm'},
        {"signer", required_argument, NULL, 's'},
        {"device", required_argument, NULL, 'd'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    static const char help[] =
        "usage: thingcore cert verify (--root PEM ... | --microchip-root)\n"
        "         --signer FILE.der --device FILE.der\n"
        "Check device <- signer <- root, trusting only the roots given.\n";
    X509 *anchors[8];
    size_t n_anchors = 0;
    struct tc_buf sig;
    struct tc_buf dev;
    const char *signer = NULL;
    const char *device = NULL;
    struct tc_detail d;
    int rc = CLI_EXIT_USAGE;
    int opt;
    size_t i;

    tc_buf_init(&sig, FILE_MAX);
    tc_buf_init(&dev, FILE_MAX);
    optind = 1;
    while ((opt = getopt_long(argc, argv, "r:ms:d:h", opts, NULL)) != -1) {
        X509 *x = NULL;
        struct tc_buf b;

        if ((opt == 'r' || opt == 'm') &&
            n_anchors == sizeof(anchors) / sizeof(anchors[0])) {
            fprintf(stderr, "thingcore cert: too many roots\n");
            goto cleanup;
        }
        switch (opt) {
        case 'r':
            if (slurp(optarg, &b) != 0) {
                rc = CLI_EXIT_FAIL;
                goto cleanup;
            }
            if (tc_cert_x509_from_pem((const char *)b.data, b.len, &x, &d) !=
                TC_OK) {
                tc_buf_clear(&b, 0);
                rc = cli_fail(optarg, TC_ERR_PARSE, &d);
                goto cleanup;
            }
            tc_buf_clear(&b, 0);
            anchors[n_anchors++] = x;
            if (tc_cert_is_simulated(x)) {
                fprintf(stderr, "thingcore cert: note: %s is a simulated "
                                "factory root\n",
                        optarg);
            }
            break;
        case 'm':
            if (tc_cert_microchip_root(&x, &d) != TC_OK) {
                rc = cli_fail("microchip root", TC_ERR_PARSE, &d);
                goto cleanup;
            }
            anchors[n_anchors++] = x;
            break;
        case 's':
            signer = optarg;
            break;
        case 'd':
            device = optarg;
            break;
        case 'h':
            fputs(help, stdout);
            rc = CLI_EXIT_OK;
            goto cleanup;
        default:
            fputs(help, stderr);
            goto cleanup;
        }
    }
    if (signer == NULL || device == NULL || n_anchors == 0 ||
        optind != argc) {
        fputs(help, stderr);
        goto cleanup;
    }
    if (slurp(signer, &sig) != 0 || slurp(device, &dev) != 0) {
        rc = CLI_EXIT_FAIL;
        goto cleanup;
    }
    opt = tc_cert_verify_chain(dev.data, dev.len, sig.data, sig.len, anchors,
                               n_anchors, 0, &d);
    if (opt != TC_OK) {
        rc = cli_fail("chain", opt, &d);
        goto cleanup;
    }
    printf("chain ok\n");
    rc = CLI_EXIT_OK;

cleanup:
    for (i = 0; i < n_anchors; i++) {
        X509_free(anchors[i]);
    }
    tc_buf_clear(&sig, 0);
    tc_buf_clear(&dev, 0);
    return rc;
}

/* ---- factory ------------------------------------------------------ */

static const char factory_usage[] =
    "usage: thingcore cert factory --out DIR [--devices N] [--template NAME]\n"
    "         [--signer-id HEX4]\n"
    "Run a simulated factory: a simulated root, a signer CA, and N device\n"
    "certificates (default 1, template device-template-3). Writes for each\n"
    "device the compressed form (.comp), public key (.pub), serial number\n"
    "(.sn), EUI-48 (.eui48) and the issued certificate (.der); private keys\n"
    "of chips are generated and discarded, as inside a chip. The root's\n"
    "key is written to simulated-root.key (mode 0600).\n";

/* One simulated chip: key made and dropped, certificate issued. */
static int
factory_device(const char *dir, int i, const struct tc_cert_template *t,
               EVP_PKEY *signer_key, const uint8_t *signer_pub,
               const uint8_t *signer_id, const struct tc_cert_date *when)
{
    struct tc_cert_inputs in;
    struct tc_cert_compressed comp;
    EVP_PKEY *chip = NULL;
    uint8_t der[TC_CERT_DER_MAX];
    size_t n = 0;
    char name[64];
    char sn[2 * TC_CERT_SN_LEN + 2];
    struct tc_detail d;
    int rc;

    memset(&in, 0, sizeof(in));
    rc = tc_cert_key_generate(&chip, &d);
    if (rc == TC_OK) {
        rc = tc_cert_key_public(chip, in.pubkey, &d);
    }
    EVP_PKEY_free(chip);
    if (rc != TC_OK) {
        return cli_fail("chip key", rc, &d);
    }
    memcpy(in.ca_pubkey, signer_pub, 64);
    in.sn[0] = 0x01;
    in.sn[1] = 0x23;
    in.sn[2] = (uint8_t)(i >> 24);
    in.sn[3] = (uint8_t)(i >> 16);
    in.sn[4] = (uint8_t)(i >> 8);
    in.sn[5] = (uint8_t)i;
    in.sn[8] = 0x01;
    snprintf(in.eui48, sizeof(in.eui48), "0004A3%06X", (unsigned)i & 0xFFFFFF);
    rc = tc_cert_issue(t, &in, signer_id, when, signer_key, der, sizeof(der),
                       &n, &comp, &d);
    if (rc != TC_OK) {
        return cli_fail("issue", rc, &d);
    }
    tc_hex_encode(in.sn, TC_CERT_SN_LEN, sn, 1);
    sn[2 * TC_CERT_SN_LEN] = '\n';
    snprintf(name, sizeof(name), "device-%d.der", i);
    if (write_file(dir, name, der, n) != 0) {
        return -1;
    }
    snprintf(name, sizeof(name), "device-%d.comp", i);
    if (write_file(dir, name, comp.raw, sizeof(comp.raw)) != 0) {
        return -1;
    }
    snprintf(name, sizeof(name), "device-%d.pub", i);
    if (write_file(dir, name, in.pubkey, 64) != 0) {
        return -1;
    }
    snprintf(name, sizeof(name), "device-%d.sn", i);
    if (write_file(dir, name, sn, 2 * TC_CERT_SN_LEN + 1) != 0) {
        return -1;
    }
    snprintf(name, sizeof(name), "device-%d.eui48", i);
    return write_file(dir, name, in.eui48, TC_CERT_EUI48_LEN);
}

static int
cert_factory(int argc, char **argv)
{
    static const struct option opts[] = {
        {"out", required_argument, NULL, 'o'},
        {"devices", required_argument, NULL, 'n'},
        {"template", required_argument, NULL, 't'},
        {"signer-id", required_argument, NULL, 'i'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const struct tc_cert_template *t = tc_cert_template_get(TC_CERT_DEVICE_3);
    const char *dir = NULL;
    long count = 1;
    uint8_t signer_id[2] = {0xF6, 0x20};
    EVP_PKEY *root_key = NULL;
    EVP_PKEY *signer_key = NULL;
    X509 *root = NULL;
    struct tc_cert_inputs in;
    struct tc_cert_compressed comp;
    struct tc_cert_date when;
    uint8_t der[TC_CERT_DER_MAX];
    size_t n = 0;
    size_t got = 0;
    struct tc_detail d;
    BIO *kb = NULL;
    char *kp = NULL;
    long kn;
    char *end = NULL;
    int rc = CLI_EXIT_USAGE;
    int opt;
    long i;

    memset(&in, 0, sizeof(in));
    optind = 1;
    while ((opt = getopt_long(argc, argv, "o:n:t:i:h", opts, NULL)) != -1) {
        switch (opt) {
        case 'o':
            dir = optarg;
            break;
        case 'n':
            count = strtol(optarg, &end, 10);
            if (*optarg == '\0' || *end != '\0' || count < 1 ||
                count > 100000) {
                fprintf(stderr, "thingcore cert: --devices takes 1-100000\n");
                return CLI_EXIT_USAGE;
            }
            break;
        case 't':
            t = template_named(optarg);
            if (t == NULL || !t->is_device) {
                fprintf(stderr, "thingcore cert: --template: need a device "
                                "template\n");
                return CLI_EXIT_USAGE;
            }
            break;
        case 'i':
            if (strlen(optarg) != 4 ||
                tc_hex_decode(optarg, 4, signer_id, 2, &got, &d) != TC_OK) {
                fprintf(stderr, "thingcore cert: --signer-id takes 4 hex "
                                "digits\n");
                return CLI_EXIT_USAGE;
            }
            break;
        case 'h':
            fputs(factory_usage, stdout);
            return CLI_EXIT_OK;
        default:
            fputs(factory_usage, stderr);
            return CLI_EXIT_USAGE;
        }
    }
    if (dir == NULL || optind != argc) {
        fputs(factory_usage, stderr);
        return CLI_EXIT_USAGE;
    }
    rc = tc_mkdir_p(dir, 0755, &d);
    if (rc != TC_OK) {
        return cli_fail(dir, rc, &d);
    }

    /* Root and signer, all issued at the current hour. */
    rc = tc_cert_date_from_time(time(NULL), &when, &d);
    if (rc == TC_OK) {
        rc = tc_cert_key_generate(&root_key, &d);
    }
    if (rc == TC_OK) {
        rc = tc_cert_key_generate(&signer_key, &d);
    }
    if (rc == TC_OK) {
        rc = tc_cert_root_create(root_key, &when, &root, &d);
    }
    if (rc == TC_OK) {
        rc = tc_cert_key_public(root_key, in.ca_pubkey, &d);
    }
    if (rc == TC_OK) {
        rc = tc_cert_key_public(signer_key, in.pubkey, &d);
    }
    if (rc == TC_OK) {
        rc = tc_cert_issue(tc_cert_template_get(TC_CERT_SIGNER_1), &in,
                           signer_id, &when, root_key, der, sizeof(der), &n,
                           &comp, &d);
    }
    if (rc != TC_OK) {
        rc = cli_fail("factory", rc, &d);
        goto cleanup;
    }
    rc = CLI_EXIT_FAIL;
    kb = BIO_new(BIO_s_mem());
    if (kb == NULL ||
        PEM_write_bio_PrivateKey(kb, root_key, NULL, NULL, 0, NULL, NULL) !=
            1) {
        fprintf(stderr, "thingcore cert: cannot encode the root key\n");
        goto cleanup;
    }
    kn = BIO_get_mem_data(kb, &kp);
    {
        char path[4096];

        snprintf(path, sizeof(path), "%s/simulated-root.key", dir);
        if (tc_file_write_atomic(path, kp, (size_t)kn, 0600, &d) != TC_OK) {
            cli_fail(path, TC_ERR_IO, &d);
            goto cleanup;
        }
    }
    if (write_pem(dir, "simulated-root.pem", root) != 0 ||
        write_file(dir, "signer.der", der, n) != 0 ||
        write_file(dir, "signer.comp", comp.raw, sizeof(comp.raw)) != 0 ||
        write_file(dir, "signer.pub", in.pubkey, 64) != 0 ||
        write_file(dir, "root.pub", in.ca_pubkey, 64) != 0) {
        goto cleanup;
    }
    for (i = 0; i < count; i++) {
        if (factory_device(dir, (int)i, t, signer_key, in.pubkey, signer_id,
                           &when) != 0) {
            goto cleanup;
        }
    }
    printf("simulated factory: root, signer %02X%02X, %ld %s certificates "
           "in %s\n",
           signer_id[0], signer_id[1], count, t->name, dir);
    rc = CLI_EXIT_OK;

cleanup:
    BIO_free(kb);
    X509_free(root);
    EVP_PKEY_free(root_key);
    EVP_PKEY_free(signer_key);
    return rc;
}

static const struct cli_command cert_commands[] = {
    {"decode", cert_decode, "show a compressed certificate"},
    {"rebuild", cert_rebuild, "rebuild a certificate from compressed form"},
    {"verify", cert_verify, "check device <- signer <- explicit root"},
    {"factory", cert_factory, "issue a simulated root, signer and devices"},
    {NULL, NULL, NULL},
};

int
cmd_cert(int argc, char **argv)
{
    return cli_dispatch("thingcore cert", cert_commands, argc - 1, argv + 1,
                        usage);
}
