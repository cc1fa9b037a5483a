// SPDX-License-Identifier: Apache-2.0
/*
 * thingcore se: the secure element subcommands that talk to a chip through
 * the client (info, configure, lock, genkey, pubkey, sign, random) and make
 * blank virtual chips (create). The daemon is `se serve` (cmd_se_serve.c).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/rand.h>

#include "cli.h"
#include "thingcore/chip.h"
#include "thingcore/ec.h"
#include "thingcore/identity.h"
#include "thingcore/se.h"
#include "thingcore/util.h"

/* Options shared by the client subcommands. */
struct se_opts {
    const char *se;
    int slot;
    const char *out;
    const char *zone;
    long crc;
    int help;
};

enum { OPT_CRC = 256 };

static const struct option client_options[] = {
    {"se", required_argument, NULL, 's'},
    {"slot", required_argument, NULL, 'n'},
    {"out", required_argument, NULL, 'o'},
    {"zone", required_argument, NULL, 'z'},
    {"crc", required_argument, NULL, OPT_CRC},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

static int
parse_slot(const char *s, int *slot)
{
    char *end;
    long v = strtol(s, &end, 10);

    if (*s == '\0' || *end != '\0' || v < 0 || v >= TC_ATCA_SLOTS) {
        fprintf(stderr, "thingcore se: --slot '%s': use a slot 0-15\n", s);
        return -1;
    }
    *slot = (int)v;
    return 0;
}

/*
 * Parse the client options; -1 on a usage error (already reported). The
 * transport defaults to $THINGCORE_SE.
 */
static int
parse_client(int argc, char **argv, struct se_opts *o)
{
    int c;

    memset(o, 0, sizeof(*o));
    o->slot = -1;
    o->crc = -1;
    o->se = getenv("THINGCORE_SE");
    optind = 1;
    opterr = 1;
    while ((c = getopt_long(argc, argv, "s:n:o:z:h", client_options, NULL)) !=
           -1) {
        switch (c) {
        case 's':
            o->se = optarg;
            break;
        case 'n':
            if (parse_slot(optarg, &o->slot) != 0) {
                return -1;
            }
            break;
        case 'o':
            o->out = optarg;
            break;
        case 'z':
            o->zone = optarg;
            break;
        case OPT_CRC: {
            char *end;

            o->crc = strtol(optarg, &end, 16);
            if (*optarg == '\0' || *end != '\0' || o->crc < 0 ||
                o->crc > 0xFFFF) {
                fprintf(stderr, "thingcore se: --crc '%s': use 4 hex "
                                "digits\n",
                        optarg);
                return -1;
            }
            break;
        }
        case 'h':
            o->help = 1;
            break;
        default:
            return -1;
        }
    }
    return 0;
}

/*
 * The common start of a client subcommand: parse the options (nargs
 * operands expected), answer --help, report a usage error. Returns 1 when
 * the caller goes on, 0 when it returns *status.
 */
static int
client_begin(int argc, char **argv, const char *usage, int nargs,
             struct se_opts *o, int *status)
{
    if (parse_client(argc, argv, o) != 0 ||
        (!o->help && argc - optind != nargs)) {
        fputs(usage, stderr);
        *status = CLI_EXIT_USAGE;
        return 0;
    }
    if (o->help) {
        fputs(usage, stdout);
        *status = CLI_EXIT_OK;
        return 0;
    }
    return 1;
}

static int
open_se(const struct se_opts *o, struct tc_se **se)
{
    struct tc_detail d;
    int rc;

    tc_detail_clear(&d);
    if (o->se == NULL) {
        fprintf(stderr, "thingcore se: no chip named: give --se TRANSPORT "
                        "(unix:PATH, kit:DEVICE, i2c:/dev/i2c-N@ADDR) or set "
                        "THINGCORE_SE\n");
        return CLI_EXIT_USAGE;
    }
    rc = tc_se_open(o->se, se, &d);
    if (rc != TC_OK) {
        return cli_fail(o->se, rc, &d);
    }
    return CLI_EXIT_OK;
}

static int
need_slot(const struct se_opts *o, const char *cmd)
{
    if (o->slot < 0) {
        fprintf(stderr, "thingcore se %s: --slot N is required\n", cmd);
        return -1;
    }
    return 0;
}

/* ---- create ---- */

static const char create_usage[] =
    "usage: thingcore se create --dir DIR [--serial HEX] [--count N]\n"
    "Create blank chip images (config unlocked, no keys) in DIR, as they\n"
    "leave the wafer. The serial number is 18 hex digits starting 0123;\n"
    "without --serial each chip gets a random one. Serve them with\n"
    "'thingcore se serve --dir DIR'.\n";

static int
se_create(int argc, char **argv)
{
    static const struct option opts[] = {
        {"dir", required_argument, NULL, 'd'},
        {"serial", required_argument, NULL, 's'},
        {"count", required_argument, NULL, 'c'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *dir = NULL;
    const char *serial = NULL;
    uint8_t key[TC_CHIP_WRAP_KEY_SIZE];
    struct tc_detail d;
    long count = 1;
    long i;
    int c;
    int rc;

    optind = 1;
    while ((c = getopt_long(argc, argv, "d:s:c:h", opts, NULL)) != -1) {
        switch (c) {
        case 'd':
            dir = optarg;
            break;
        case 's':
            serial = optarg;
            break;
        case 'c':
            count = strtol(optarg, NULL, 10);
            if (count < 1 || count > 100000) {
                fprintf(stderr, "thingcore se create: --count '%s': use "
                                "1-100000\n",
                        optarg);
                return CLI_EXIT_USAGE;
            }
            break;
        case 'h':
            fputs(create_usage, stdout);
            return CLI_EXIT_OK;
        default:
            fputs(create_usage, stderr);
            return CLI_EXIT_USAGE;
        }
    }
    if (dir == NULL || optind != argc || (serial != NULL && count != 1)) {
        fputs(create_usage, stderr);
        return CLI_EXIT_USAGE;
    }
    tc_detail_clear(&d);
    rc = tc_chip_folder_key(dir, 1, key, &d);
    if (rc != TC_OK) {
        return cli_fail(dir, rc, &d);
    }
    for (i = 0; i < count; i++) {
        uint8_t sn[TC_ATCA_SN_SIZE];
        char name[32];
        char path[4096];
        struct tc_chip *chip;
        size_t n = 0;

        if (serial != NULL) {
            rc = tc_hex_decode(serial, strlen(serial), sn, sizeof(sn), &n,
                               &d);
            if (rc != TC_OK || n != TC_ATCA_SN_SIZE || sn[0] != 0x01 ||
                sn[1] != 0x23) {
                fprintf(stderr, "thingcore se create: --serial '%s': use 18 "
                                "hex digits starting 0123\n",
                        serial);
                return CLI_EXIT_USAGE;
            }
        } else {
            /* Trust&GO serials read 01 23 ... 01. */
            sn[0] = 0x01;
            sn[1] = 0x23;
            if (RAND_bytes(sn + 2, 6) != 1) {
                return cli_fail("random", TC_ERR_CRYPTO, NULL);
            }
            sn[8] = 0x01;
        }
        tc_chip_file_name(sn, name);
        snprintf(path, sizeof(path), "%s/%s", dir, name);
        chip = tc_chip_new(sn);
        if (chip == NULL) {
            return cli_fail("create", TC_ERR_NOMEM, NULL);
        }
        rc = tc_chip_save(chip, path, key, &d);
        tc_chip_free(chip);
        if (rc != TC_OK) {
            return cli_fail(path, rc, &d);
        }
        printf("%.*s %s\n", 2 * TC_ATCA_SN_SIZE, name, path);
    }
    return CLI_EXIT_OK;
}

/* ---- info ---- */

/* The Trust&GO part of `se info`, when the chip holds an identity. */
static void
print_identity(struct tc_se *se)
{
    struct tc_identity id;
    struct tc_detail d;
    X509 **roots = NULL;
    size_t n = 0;
    int rc;

    tc_detail_clear(&d);
    rc = cli_identity_read(NULL, se, NULL, NULL, 0, &id, &roots, &n, &d);
    if (rc == TC_OK) {
        cli_print_identity(&id);
    } else {
        printf("identity:      none readable (%s: %s)\n", tc_strerror(rc),
               d.text);
    }
    tc_identity_roots_free(roots, n);
}

static int
se_info(int argc, char **argv)
{
    static const char usage[] =
        "usage: thingcore se info [--se TRANSPORT]\n"
        "Print the chip's serial number, revision and lock state; for a\n"
        "Trust&GO chip also its certificate template, subject, validity\n"
        "and whether a simulated factory made it.\n";
    struct se_opts o;
    struct tc_se *se = NULL;
    struct tc_se_locks locks;
    struct tc_detail d;
    uint8_t rev[4];
    uint8_t sn[TC_ATCA_SN_SIZE];
    uint8_t config[TC_ATCA_CONFIG_SIZE];
    char hex[2 * TC_ATCA_SN_SIZE + 1];
    int rc;
    int i;

    if (!client_begin(argc, argv, usage, 0, &o, &rc)) {
        return rc;
    }
    rc = open_se(&o, &se);
    if (rc != CLI_EXIT_OK) {
        return rc;
    }
    tc_detail_clear(&d);
    rc = tc_se_info(se, rev, &d);
    if (rc == TC_OK) {
        rc = tc_se_read_config(se, config, &d);
    }
    if (rc == TC_OK) {
        rc = tc_se_lock_status(se, &locks, &d);
    }
    if (rc != TC_OK) {
        tc_se_close(se);
        return cli_fail(o.se, rc, &d);
    }
    memcpy(sn, config, 4);
    memcpy(sn + 4, config + 8, 5);
    tc_hex_encode(sn, sizeof(sn), hex, 1);
    printf("serial number: %s\n", hex);
    printf("revision:      %02x %02x %02x %02x%s\n", rev[0], rev[1], rev[2],
           rev[3], rev[2] == 0x60 ? " (ATECC608)" : "");
    printf("i2c address:   0x%02X (7-bit 0x%02X)\n", config[16],
           config[16] >> 1);
    printf("config zone:   %s\n", locks.config_locked ? "locked" : "unlocked");
    printf("data zone:     %s\n", locks.data_locked ? "locked" : "unlocked");
    printf("locked slots: ");
    for (i = 0; i < TC_ATCA_SLOTS; i++) {
        if (locks.slot_locked & (1u << i)) {
            printf(" %d", i);
        }
    }
    printf("%s\n", locks.slot_locked ? "" : " none");
    if (locks.config_locked && locks.data_locked) {
        print_identity(se);
    }
    tc_se_close(se);
    return CLI_EXIT_OK;
}

/* ---- configure ---- */

static int
se_configure(int argc, char **argv)
{
    static const char usage[] =
        "usage: thingcore se configure [--se TRANSPORT]\n"
        "Write the Trust&GO slot and key configuration (and I2C address\n"
        "0x6A) into a chip whose config zone is still unlocked.\n";
    struct se_opts o;
    struct tc_se *se = NULL;
    struct tc_detail d;
    int rc;

    if (!client_begin(argc, argv, usage, 0, &o, &rc)) {
        return rc;
    }
    rc = open_se(&o, &se);
    if (rc != CLI_EXIT_OK) {
        return rc;
    }
    tc_detail_clear(&d);
    rc = tc_se_configure_trustngo(se, &d);
    tc_se_close(se);
    if (rc != TC_OK) {
        if (rc == TC_ERR_ATCA_EXECUTION) {
            snprintf(d.text, sizeof(d.text),
                     "the chip refused the write: is its config zone "
                     "already locked?");
        }
        return cli_fail("configure", rc, &d);
    }
    printf("wrote the Trust&GO configuration\n");
    return CLI_EXIT_OK;
}

/* ---- lock ---- */

static int
se_lock(int argc, char **argv)
{
    static const char usage[] =
        "usage: thingcore se lock [--se TRANSPORT] --zone config|data|slot "
        "[--slot N] [--crc HEX]\n"
        "Lock a zone for good. For the config zone the summary CRC is\n"
        "computed from the zone as read back; for the data zone give --crc\n"
        "(the CRC of what you wrote) or it locks without the check.\n";
    struct se_opts o;
    struct tc_se *se = NULL;
    struct tc_detail d;
    int rc;

    if (!client_begin(argc, argv, usage, 0, &o, &rc)) {
        return rc;
    }
    if (o.zone == NULL) {
        fputs(usage, stderr);
        return CLI_EXIT_USAGE;
    }
    if (strcmp(o.zone, "config") != 0 && strcmp(o.zone, "data") != 0 &&
        strcmp(o.zone, "slot") != 0) {
        fprintf(stderr, "thingcore se lock: --zone '%s': use config, data "
                        "or slot\n",
                o.zone);
        return CLI_EXIT_USAGE;
    }
    if (strcmp(o.zone, "slot") == 0 && need_slot(&o, "lock") != 0) {
        return CLI_EXIT_USAGE;
    }
    rc = open_se(&o, &se);
    if (rc != CLI_EXIT_OK) {
        return rc;
    }
    tc_detail_clear(&d);
    if (strcmp(o.zone, "config") == 0) {
        uint8_t cfg[TC_ATCA_CONFIG_SIZE];

        rc = tc_se_read_config(se, cfg, &d);
        if (rc == TC_OK) {
            long crc = o.crc >= 0 ? o.crc
                                  : tc_atca_crc(cfg, TC_ATCA_CONFIG_SIZE);

            rc = tc_se_lock_zone(se, 0, crc, &d);
        }
    } else if (strcmp(o.zone, "data") == 0) {
        rc = tc_se_lock_zone(se, 1, o.crc, &d);
    } else {
        rc = tc_se_lock_slot(se, (unsigned)o.slot, &d);
    }
    tc_se_close(se);
    if (rc != TC_OK) {
        return cli_fail("lock", rc, &d);
    }
    printf("locked %s%s\n", o.zone, strcmp(o.zone, "slot") == 0 ? "" : " zone");
    return CLI_EXIT_OK;
}

/* ---- genkey, pubkey ---- */

static int
print_pubkey(const uint8_t *pub, const char *out)
{
    char pem[512];
    int rc = tc_ec_pubkey_pem(pub, pem, sizeof(pem));

    if (rc != TC_OK) {
        return cli_fail("public key", rc, NULL);
    }
    if (out == NULL) {
        fputs(pem, stdout);
        return CLI_EXIT_OK;
    }
    rc = tc_file_write_atomic(out, pem, strlen(pem), 0644, NULL);
    return rc == TC_OK ? CLI_EXIT_OK : cli_fail(out, rc, NULL);
}

static int
se_key(int argc, char **argv, int generate)
{
    static const char gen_usage[] =
        "usage: thingcore se genkey [--se TRANSPORT] --slot N [-o PEM]\n"
        "Create a new private key inside the chip in slot N and print its\n"
        "public key (PEM). The private key never leaves the chip.\n";
    static const char pub_usage[] =
        "usage: thingcore se pubkey [--se TRANSPORT] --slot N [-o PEM]\n"
        "Print the public key of the private key in slot N (PEM).\n";
    const char *usage = generate ? gen_usage : pub_usage;
    struct se_opts o;
    struct tc_se *se = NULL;
    struct tc_detail d;
    uint8_t pub[TC_ATCA_PUBKEY_SIZE];
    int rc;

    if (!client_begin(argc, argv, usage, 0, &o, &rc)) {
        return rc;
    }
    if (need_slot(&o, argv[0]) != 0) {
        return CLI_EXIT_USAGE;
    }
    rc = open_se(&o, &se);
    if (rc != CLI_EXIT_OK) {
        return rc;
    }
    tc_detail_clear(&d);
    rc = generate ? tc_se_genkey(se, (unsigned)o.slot, pub, &d)
                  : tc_se_pubkey(se, (unsigned)o.slot, pub, &d);
    tc_se_close(se);
    if (rc != TC_OK) {
        return cli_fail(argv[0], rc, &d);
    }
    return print_pubkey(pub, o.out);
}

static int
se_genkey(int argc, char **argv)
{
    return se_key(argc, argv, 1);
}

static int
se_pubkey(int argc, char **argv)
{
    return se_key(argc, argv, 0);
}

/* ---- sign ---- */

static int
sha256_file(const char *path, uint8_t *digest)
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    uint8_t chunk[65536];
    FILE *f = fopen(path, "rb");
    size_t n;
    int rc = TC_ERR_IO;

    if (f == NULL || ctx == NULL ||
        !EVP_DigestInit_ex(ctx, EVP_sha256(), NULL)) {
        goto out;
    }
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
        if (!EVP_DigestUpdate(ctx, chunk, n)) {
            goto out;
        }
    }
    if (!ferror(f) && EVP_DigestFinal_ex(ctx, digest, NULL)) {
        rc = TC_OK;
    }
out:
    if (f != NULL) {
        fclose(f);
    }
    EVP_MD_CTX_free(ctx);
    return rc;
}

static int
se_sign(int argc, char **argv)
{
    static const char usage[] =
        "usage: thingcore se sign [--se TRANSPORT] --slot N -o SIG FILE\n"
        "Sign the SHA-256 of FILE with the key in slot N, inside the chip,\n"
        "and write the DER ECDSA signature to SIG, as 'openssl dgst -sha256\n"
        "-verify PUBKEY -signature SIG FILE' checks it.\n";
    struct se_opts o;
    struct tc_se *se = NULL;
    struct tc_detail d;
    uint8_t digest[32];
    uint8_t rs[TC_ATCA_SIG_SIZE];
    uint8_t der[TC_EC_SIG_DER_MAX];
    size_t der_len;
    int rc;

    if (!client_begin(argc, argv, usage, 1, &o, &rc)) {
        return rc;
    }
    if (need_slot(&o, "sign") != 0) {
        return CLI_EXIT_USAGE;
    }
    if (o.out == NULL) {
        fprintf(stderr, "thingcore se sign: -o SIG is required\n");
        return CLI_EXIT_USAGE;
    }
    if (sha256_file(argv[optind], digest) != TC_OK) {
        fprintf(stderr, "thingcore se sign: cannot read %s\n", argv[optind]);
        return CLI_EXIT_FAIL;
    }
    rc = open_se(&o, &se);
    if (rc != CLI_EXIT_OK) {
        return rc;
    }
    tc_detail_clear(&d);
    rc = tc_se_sign(se, (unsigned)o.slot, digest, rs, &d);
    tc_se_close(se);
    if (rc != TC_OK) {
        return cli_fail("sign", rc, &d);
    }
    der_len = tc_ec_sig_rs_to_der(rs, der);
    rc = der_len > 0 ? tc_file_write_atomic(o.out, der, der_len, 0644, &d)
                     : TC_ERR_CRYPTO;
    if (rc != TC_OK) {
        return cli_fail(o.out, rc, &d);
    }
    return CLI_EXIT_OK;
}

/* ---- read ---- */

static int
se_read(int argc, char **argv)
{
    static const char usage[] =
        "usage: thingcore se read [--se TRANSPORT] --zone config|otp|data\n"
        "                         [--slot N] [--offset O] [--length L]\n"
        "Read bytes through the chip's Read command and print them as hex.\n"
        "The chip decides what may be read: secret slots and private keys\n"
        "are refused with its execution-error status.\n";
    struct se_opts o;
    struct tc_se *se = NULL;
    struct tc_detail d;
    uint8_t buf[416];
    char hex[2 * 32 + 1];
    long offset = 0;
    long length = -1;
    int zone;
    size_t size;
    size_t i;
    int rc;

    /* --offset and --length are taken out before the common options. */
    for (i = 1; i + 1 < (size_t)argc; i++) {
        long *dst = strcmp(argv[i], "--offset") == 0   ? &offset
                    : strcmp(argv[i], "--length") == 0 ? &length
                                                       : NULL;
        char *end;

        if (dst == NULL) {
            continue;
        }
        *dst = strtol(argv[i + 1], &end, 0);
        if (*argv[i + 1] == '\0' || *end != '\0' || *dst < 0) {
            fprintf(stderr, "thingcore se read: %s '%s': not a count\n",
                    argv[i], argv[i + 1]);
            return CLI_EXIT_USAGE;
        }
        memmove(argv + i, argv + i + 2, (argc - i - 2) * sizeof(*argv));
        argc -= 2;
        i--;
    }
    if (!client_begin(argc, argv, usage, 0, &o, &rc)) {
        return rc;
    }
    if (o.zone == NULL) {
        fputs(usage, stderr);
        return CLI_EXIT_USAGE;
    }
    if (strcmp(o.zone, "config") == 0) {
        zone = TC_ATCA_ZONE_CONFIG;
        size = TC_ATCA_CONFIG_SIZE;
    } else if (strcmp(o.zone, "otp") == 0) {
        zone = TC_ATCA_ZONE_OTP;
        size = TC_ATCA_OTP_SIZE;
    } else if (strcmp(o.zone, "data") == 0) {
        if (need_slot(&o, "read") != 0) {
            return CLI_EXIT_USAGE;
        }
        zone = TC_ATCA_ZONE_DATA;
        size = tc_atca_slot_size((unsigned)o.slot);
    } else {
        fprintf(stderr, "thingcore se read: --zone '%s': use config, otp or "
                        "data\n",
                o.zone);
        return CLI_EXIT_USAGE;
    }
    if (length < 0) {
        length = offset < (long)size ? (long)size - offset : 0;
    }
    if ((size_t)offset > size || (size_t)length > size - (size_t)offset) {
        fprintf(stderr, "thingcore se read: bytes %ld..%ld are outside the "
                        "%zu-byte %s\n",
                offset, offset + length, size, o.zone);
        return CLI_EXIT_USAGE;
    }
    rc = open_se(&o, &se);
    if (rc != CLI_EXIT_OK) {
        return rc;
    }
    tc_detail_clear(&d);
    rc = tc_se_read(se, zone, o.slot < 0 ? 0 : (unsigned)o.slot,
                    (size_t)offset, buf, (size_t)length, &d);
    tc_se_close(se);
    if (rc != TC_OK) {
        return cli_fail("read", rc, &d);
    }
    for (i = 0; i < (size_t)length; i += 32) {
        size_t n = (size_t)length - i < 32 ? (size_t)length - i : 32;

        tc_hex_encode(buf + i, n, hex, 0);
        printf("%04zx: %s\n", (size_t)offset + i, hex);
    }
    return CLI_EXIT_OK;
}

/* ---- random ---- */

static int
se_random(int argc, char **argv)
{
    static const char usage[] =
        "usage: thingcore se random [--se TRANSPORT]\n"
        "Print 32 random bytes from the chip's generator (hex). Before the\n"
        "config zone is locked the chip answers a fixed test pattern.\n";
    struct se_opts o;
    struct tc_se *se = NULL;
    struct tc_detail d;
    uint8_t r[32];
    char hex[65];
    int rc;

    if (!client_begin(argc, argv, usage, 0, &o, &rc)) {
        return rc;
    }
    rc = open_se(&o, &se);
    if (rc != CLI_EXIT_OK) {
        return rc;
    }
    tc_detail_clear(&d);
    rc = tc_se_random(se, r, &d);
    tc_se_close(se);
    if (rc != TC_OK) {
        return cli_fail("random", rc, &d);
    }
    tc_hex_encode(r, sizeof(r), hex, 0);
    printf("%s\n", hex);
    return CLI_EXIT_OK;
}

static const struct cli_command se_commands[] = {
    {"create", se_create, "create blank virtual chip images"},
    {"manufacture", cmd_se_manufacture, "make simulated Trust&GO chips"},
    {"certs", cmd_se_certs, "device and signer certificates, chain check"},
    {"info", se_info, "serial number, revision and lock state"},
    {"configure", se_configure, "write the Trust&GO slot configuration"},
    {"lock", se_lock, "lock the config zone, the data zone or a slot"},
    {"genkey", se_genkey, "create a private key inside the chip"},
    {"pubkey", se_pubkey, "public key of a slot (PEM)"},
    {"sign", se_sign, "sign a file's SHA-256 inside the chip"},
    {"random", se_random, "32 random bytes from the chip"},
    {"read", se_read, "read config, OTP or slot bytes (hex)"},
    {"serve", cmd_se_serve, "serve a folder of virtual chips"},
    {NULL, NULL, NULL},
};

int
cmd_se(int argc, char **argv)
{
    return cli_dispatch("thingcore se", se_commands, argc - 1, argv + 1,
                        "usage: thingcore se COMMAND [OPTIONS]\n"
                        "Secure elements: virtual chips and the client that "
                        "talks to them.\n"
                        "TRANSPORT is unix:PATH (the emulator), kit:DEVICE "
                        "or i2c:/dev/i2c-N@ADDR;\n"
                        "--se defaults to $THINGCORE_SE.");
}
