// SPDX-License-Identifier: Apache-2.0
/*
 * thingcore register: the lesson's register_thing step for one chip. Reads
 * the chip's identity, checks its chain against explicit anchors, signs a
 * manifest with the machine's one manifest signer and verifies it, runs
 * the registration steps through the control-plane API, and writes the
 * endpoint and its root CA into the firmware project.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/pem.h>

#include "cli.h"
#include "thingcore/apiclient.h"
#include "thingcore/datadir.h"
#include "thingcore/identity.h"
#include "thingcore/manifest.h"
#include "thingcore/project.h"
#include "thingcore/provision.h"
#include "thingcore/util.h"

#define MAX_TRUST 16

struct reg_opts {
    const char *se;
    const char *project;
    const char *factory;
    const char *endpoint_url;
    const char *data;
    const char *endpoint_ca;
    const char *stop_after;
    enum tc_provision_mode mode;
    int update_policy;
    int port;
    X509 *trust[MAX_TRUST];
    int ntrust;
};

/* Progress: one line per step, numbered. */
struct progress {
    int n;
    const char *stop_after;
};

static void
line(struct progress *p, const char *step, const char *object,
     const char *what, const char *note)
{
    printf("[%2d] %-24s %-20.64s %s%s%s\n", ++p->n, step, object, what,
           note != NULL && note[0] ? ": " : "", note != NULL ? note : "");
    fflush(stdout);
}

/* --stop-after: end the run as a crash would, right after a step. */
static void
maybe_stop(struct progress *p, const char *step)
{
    if (p->stop_after != NULL && strcmp(p->stop_after, step) == 0) {
        printf("stopping after '%s' as asked (--stop-after)\n", step);
        fflush(stdout);
        _exit(CLI_EXIT_FAIL);
    }
}

static void
on_step(void *ctx, const char *step, const char *object,
        enum tc_provision_outcome outcome, const char *note)
{
    struct progress *p = ctx;

    line(p, step, object,
         outcome == TC_PROVISION_DONE      ? "done"
         : outcome == TC_PROVISION_ALREADY ? "already registered"
         : outcome == TC_PROVISION_CHECKED ? "ok"
                                           : "FAILED",
         outcome == TC_PROVISION_FAILED ? NULL : note);
    if (outcome != TC_PROVISION_FAILED) {
        maybe_stop(p, step);
    }
}

static char *
der_to_pem(const uint8_t *der, size_t len)
{
    const unsigned char *p = der;
    X509 *x = d2i_X509(NULL, &p, (long)len);
    BIO *bio = BIO_new(BIO_s_mem());
    char *out = NULL;
    char *mem;
    long n;

    if (x != NULL && bio != NULL && PEM_write_bio_X509(bio, x)) {
        n = BIO_get_mem_data(bio, &mem);
        out = malloc((size_t)n + 1);
        if (out != NULL) {
            memcpy(out, mem, (size_t)n);
            out[n] = '\0';
        }
    }
    BIO_free(bio);
    X509_free(x);
    return out;
}

/* The endpoint's root CA PEM for the firmware, and the MQTT port. */
static int
endpoint_ca(const struct reg_opts *o, const struct tc_datadir *dd,
            int have_dd, struct tc_buf *pem, int *port, struct tc_detail *d)
{
    const char *file = o->endpoint_ca;
    const char *env_port = getenv("THINGCORE_MQTT_PORT");
    char path[4096];

    *port = o->port > 0 ? o->port : 0;
    if (*port == 0 && env_port != NULL) {
        *port = atoi(env_port);
    }
    if (*port == 0 && have_dd) {
        *port = dd->mqtt_port;
    }
    if (*port == 0) {
        struct tc_datadir other;
        char dpath[4096];

        /* Variables set by `thingcore env`: the same data directory. */
        memset(&other, 0, sizeof(other));
        if (tc_datadir_default_path(o->data, dpath, sizeof(dpath), NULL) ==
                TC_OK &&
            tc_datadir_load(dpath, &other, NULL) == TC_OK) {
            *port = other.mqtt_port;
        }
        tc_datadir_clear(&other);
    }
    if (*port <= 0 || *port > 65535) {
        *port = 8883;
    }
    if (file == NULL) {
        file = getenv("THINGCORE_MQTT_CA");
    }
    if (file == NULL && have_dd &&
        tc_datadir_file(dd, TC_DATADIR_CA_CERT, path, sizeof(path)) ==
            TC_OK) {
        file = path;
    }
    if (file == NULL) {
        file = getenv("AWS_CA_BUNDLE");
    }
    if (file == NULL) {
        return tc_detail_set(d, TC_ERR_NOT_FOUND, -1, "endpoint-ca",
                             "no root CA for the MQTT endpoint: give "
                             "--endpoint-ca FILE or set THINGCORE_MQTT_CA");
    }
    return tc_file_read(file, pem, d);
}

/* The machine's manifest signer; made on first use, CN = the code. */
static int
manifest_signer(struct tc_apiclient *api, struct progress *p,
                struct tc_manifest_signer **out, struct tc_detail *d)
{
    char dir[4096];
    char key[4200];
    char cert[4200];
    char code[128];
    struct stat st;
    int made = 0;
    int rc = tc_manifest_signer_default_dir(dir, sizeof(dir), d);

    if (rc != TC_OK) {
        return rc;
    }
    snprintf(key, sizeof(key), "%s/%s", dir, TC_MANIFEST_SIGNER_KEY_FILE);
    snprintf(cert, sizeof(cert), "%s/%s", dir, TC_MANIFEST_SIGNER_CERT_FILE);

    /* Reused for every later chip: a new one would orphan old manifests. */
    if (stat(key, &st) != 0) {
        rc = tc_provision_registration_code(api, code, sizeof(code), d);
        if (rc == TC_OK) {
            rc = tc_manifest_signer_generate(dir, code, 3650, 0, d);
        }
        if (rc != TC_OK) {
            return rc;
        }
        made = 1;
    }
    rc = tc_manifest_signer_load(key, cert, out, d);
    if (rc == TC_OK) {
        line(p, "manifest signer", dir, made ? "done" : "already registered",
             made ? "new, CN = the registration code" : "reused");
    }
    return rc;
}

/* Build this chip's manifest, write it, and verify it as import would. */
static int
manifest(const struct reg_opts *o, const struct tc_identity *id,
         const struct tc_manifest_signer *signer, X509 *root,
         struct progress *p, struct tc_detail *d)
{
    struct tc_manifest_identity mi;
    struct tc_manifest_verifier *v = NULL;
    struct tc_manifest_summary sum;
    struct tc_buf buf;
    unsigned char *der = NULL;
    char dir[4096];
    char path[4200];
    int existing = 0;
    int len;
    int k;
    int rc;

    tc_manifest_identity_init(&mi);
    memcpy(mi.sn, id->sn, sizeof(mi.sn));
    mi.device_der = id->device_der;
    mi.device_len = id->device_len;
    mi.signer_der = id->signer_der;
    mi.signer_len = id->signer_len;
    for (k = 0; k < TC_MANIFEST_KEYS; k++) {
        memcpy(mi.pubkeys[k], id->pubkeys[k], 64);
    }
    mi.npubkeys = TC_MANIFEST_KEYS;
    tc_buf_init(&buf, 1 << 20);
    snprintf(dir, sizeof(dir), "%s/output_files", o->project);
    snprintf(path, sizeof(path), "%s/%s_manifest.json", dir, id->sn_hex);

    /* A manifest from an earlier run is kept if it still verifies. */
    rc = tc_file_read(path, &buf, NULL);
    if (rc == TC_OK) {
        existing = 1;
    } else {
        tc_buf_clear(&buf, 0);
        tc_buf_init(&buf, 1 << 20);
        rc = tc_manifest_create(signer, &mi, 1, &buf, d);
        if (rc == TC_OK) {
            rc = tc_mkdir_p(dir, 0755, d);
        }
        if (rc == TC_OK) {
            rc = tc_file_write_atomic(path, buf.data, buf.len, 0644, d);
        }
    }

    /* The same checks a bulk import makes, on the stored bytes. */
    if (rc == TC_OK) {
        rc = tc_manifest_verifier_new(&v);
    }
    if (rc == TC_OK) {
        char signer_path[4200];

        tc_manifest_signer_default_dir(signer_path, sizeof(signer_path),
                                       NULL);
        strncat(signer_path, "/" TC_MANIFEST_SIGNER_CERT_FILE,
                sizeof(signer_path) - strlen(signer_path) - 1);
        rc = cli_verifier_add_file(v, signer_path, 0, d);
    }
    len = rc == TC_OK ? i2d_X509(root, &der) : 0;
    if (rc == TC_OK && len > 0) {
        rc = tc_manifest_verifier_add_trust(v, der, (size_t)len, d);
    }
    OPENSSL_free(der);
    if (rc == TC_OK) {
        rc = tc_manifest_verify_mem(v, (const char *)buf.data, buf.len, NULL,
                                    NULL, &sum, d);
    }
    if (rc == TC_OK && (sum.passed != 1 || sum.entries != 1)) {
        rc = tc_detail_set(d, TC_ERR_MANIFEST_CHAIN, -1, "manifest",
                           "%s does not verify with this machine's signer "
                           "(move it away to make a new one)",
                           path);
    }
    tc_manifest_verifier_free(v);
    tc_buf_clear(&buf, 0);
    if (rc == TC_OK) {
        line(p, "manifest", id->sn_hex,
             existing ? "already registered" : "done", path);
    }
    return rc;
}

static int
parse_opts(int argc, char **argv, struct reg_opts *o)
{
    static const struct option opts[] = {
        {"se", required_argument, NULL, 's'},
        {"project", required_argument, NULL, 'p'},
        {"mode", required_argument, NULL, 'M'},
        {"trust", required_argument, NULL, 't'},
        {"factory", required_argument, NULL, 'f'},
        {"update-policy", no_argument, NULL, 'u'},
        {"endpoint-url", required_argument, NULL, 'e'},
        {"data", required_argument, NULL, 'd'},
        {"port", required_argument, NULL, 'P'},
        {"endpoint-ca", required_argument, NULL, 'c'},
        {"stop-after", required_argument, NULL, 'S'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int c;

    optind = 1;
    while ((c = getopt_long(argc, argv, "s:p:M:t:f:ue:d:P:c:S:h", opts,
                            NULL)) != -1) {
        switch (c) {
        case 's':
            o->se = optarg;
            break;
        case 'p':
            o->project = optarg;
            break;
        case 'M':
            if (strcmp(optarg, "mar") == 0) {
                o->mode = TC_PROVISION_MAR;
            } else if (strcmp(optarg, "jitr") == 0) {
                o->mode = TC_PROVISION_JITR;
            } else if (strcmp(optarg, "jitp") == 0) {
                o->mode = TC_PROVISION_JITP;
            } else {
                fprintf(stderr, "thingcore register: --mode '%s': use mar, "
                                "jitr or jitp\n",
                        optarg);
                return -1;
            }
            break;
        case 't': {
            struct tc_detail d;
            int rc;

            if (o->ntrust == MAX_TRUST) {
                return -1;
            }
            tc_detail_clear(&d);
            rc = cli_load_cert(optarg, &o->trust[o->ntrust], &d);
            if (rc != TC_OK) {
                cli_fail(optarg, rc, &d);
                return -1;
            }
            o->ntrust++;
            break;
        }
        case 'f':
            o->factory = optarg;
            break;
        case 'u':
            o->update_policy = 1;
            break;
        case 'e':
            o->endpoint_url = optarg;
            break;
        case 'd':
            o->data = optarg;
            break;
        case 'P':
            o->port = atoi(optarg);
            if (o->port < 1 || o->port > 65535) {
                fprintf(stderr, "thingcore register: --port '%s'\n", optarg);
                return -1;
            }
            break;
        case 'c':
            o->endpoint_ca = optarg;
            break;
        case 'S':
            o->stop_after = optarg;
            break;
        case 'h':
            return 1;
        default:
            return -1;
        }
    }
    return optind == argc ? 0 : -1;
}

static const char register_usage[] =
    "usage: thingcore register [--se TRANSPORT] --project DIR\n"
    "                          [--mode mar|jitr|jitp] [--trust ROOT.pem]...\n"
    "                          [--update-policy] [--endpoint-url URL]\n"
    "                          [--data DIR] [--port P] [--endpoint-ca FILE]\n"
    "                          [--factory FDIR] [--stop-after STEP]\n"
    "Register the device whose secure element is TRANSPORT (default\n"
    "$THINGCORE_SE) with the core, and point the firmware project DIR at\n"
    "it. Steps: read the chip; verify its chain to a trusted manufacturer\n"
    "root (the real Microchip root, or each --trust ROOT, e.g. a simulated\n"
    "factory's root.pem); sign and verify a manifest with this machine's\n"
    "manifest signer (made once, reused); then through the API: endpoint,\n"
    "thing type microchip-tng, Kit_Policy (created if absent; replaced only\n"
    "with --update-policy), and by mode:\n"
    "  mar   certificate registered without CA with its chain, policy\n"
    "        attached, ACTIVE, thing <SERIAL> created and attached (default)\n"
    "  jitr  root and signer CA registered, auto-registration on: the first\n"
    "        connection registers the certificate PENDING_ACTIVATION\n"
    "  jitp  as jitr, with a template that provisions on first connection\n"
    "Everything is read back and compared. Re-running changes nothing and\n"
    "says 'already registered'; a run that failed half-way completes.\n"
    "Credentials: the AWS_* variables and THINGCORE_ENDPOINT_URL that\n"
    "'thingcore env' prints, or --data DIR. --stop-after STEP ends the run\n"
    "right after that step, as a crash would (for recovery tests).\n";

int
cmd_register(int argc, char **argv)
{
    struct reg_opts o;
    struct progress prog;
    struct tc_identity id;
    struct tc_datadir dd;
    struct tc_apiclient *api = NULL;
    struct tc_manifest_signer *signer = NULL;
    struct tc_provision_device dev;
    struct tc_provision_opts po;
    struct tc_provision_result res;
    struct tc_project_changes ch;
    struct tc_detail d;
    struct tc_buf ca;
    X509 **roots = NULL;
    X509 *anchors[MAX_TRUST + 1];
    size_t nroots = 0;
    size_t nanchors = 0;
    char *device_pem = NULL;
    char *signer_pem = NULL;
    char *root_pem = NULL;
    char fdir[4096];
    int have_dd = 0;
    int status = CLI_EXIT_FAIL;
    int port = 8883;
    int rc;
    int i;

    memset(&o, 0, sizeof(o));
    memset(&prog, 0, sizeof(prog));
    memset(&dd, 0, sizeof(dd));
    o.se = getenv("THINGCORE_SE");
    rc = parse_opts(argc, argv, &o);
    if (rc == 1) {
        fputs(register_usage, stdout);
        status = CLI_EXIT_OK;
        goto out;
    }
    if (rc != 0 || o.project == NULL || o.se == NULL) {
        if (rc == 0 && o.se == NULL) {
            fprintf(stderr, "thingcore register: give --se TRANSPORT or set "
                            "THINGCORE_SE\n");
        }
        fputs(register_usage, stderr);
        status = CLI_EXIT_USAGE;
        goto out;
    }
    prog.stop_after = o.stop_after;
    tc_detail_clear(&d);
    tc_buf_init(&ca, 1 << 20);

    /* The project first: a typo in its path should cost nothing. */
    {
        struct tc_project pj;

        rc = tc_project_read(o.project, &pj, &d);
        if (rc != TC_OK) {
            cli_fail("project", rc, &d);
            goto out;
        }
    }

    /* 1. the chip */
    cli_factory_dir(o.factory, fdir, sizeof(fdir));
    rc = cli_identity_read(o.se, NULL, o.factory, NULL, 0, &id, &roots,
                           &nroots, &d);
    if (rc != TC_OK) {
        line(&prog, "read chip", o.se, "FAILED", NULL);
        cli_fail("read chip", rc, &d);
        if (rc == TC_ERR_ATCA_NOT_LOCKED) {
            fprintf(stderr, "fix: only a provisioned Trust&GO chip (config "
                            "and data zones locked) can be registered\n");
        }
        goto out;
    }
    line(&prog, "read chip", id.sn_hex, "ok",
         id.simulated ? "Trust&GO, from a simulated factory" : "Trust&GO");
    maybe_stop(&prog, "read chip");

    /* 2. the chain, against explicit anchors only */
    anchors[nanchors++] = roots[0];
    for (i = 0; i < o.ntrust; i++) {
        anchors[nanchors++] = o.trust[i];
    }
    rc = tc_cert_verify_chain(id.device_der, id.device_len, id.signer_der,
                              id.signer_len, anchors, nanchors, 0, &d);
    if (rc != TC_OK) {
        line(&prog, "verify chain", id.sn_hex, "FAILED", NULL);
        if (id.simulated) {
            fprintf(stderr,
                    "thingcore register: the chain of %s is not trusted: "
                    "the chip comes from a simulated factory\nfix: trust "
                    "that factory's root explicitly: --trust %s/root.pem\n",
                    id.sn_hex, fdir[0] ? fdir : "FDIR");
        } else {
            cli_fail("verify chain", rc, &d);
            fprintf(stderr, "fix: the chain must end at Microchip's Crypto "
                            "Authentication Root CA 002 or a root given "
                            "with --trust\n");
        }
        goto out;
    }
    line(&prog, "verify chain", id.sn_hex, "ok",
         id.simulated ? "to the simulated factory root" : "to Microchip");

    /* The root the chain ends at, for JITR's trust store. */
    {
        X509 *root = id.root_index >= 0 ? roots[id.root_index] : roots[0];
        BIO *bio = BIO_new(BIO_s_mem());
        char *mem;
        long n;

        if (bio != NULL && PEM_write_bio_X509(bio, root)) {
            n = BIO_get_mem_data(bio, &mem);
            root_pem = strndup(mem, (size_t)n);
        }
        BIO_free(bio);
    }

    /* 3. the API, then the manifest signed by this machine's signer */
    rc = cli_api_open(o.endpoint_url, o.data, &dd, &have_dd, &api, &d);
    if (rc == TC_OK) {
        rc = manifest_signer(api, &prog, &signer, &d);
    }
    if (rc == TC_OK) {
        rc = manifest(&o, &id, signer,
                      id.root_index >= 0 ? roots[id.root_index] : roots[0],
                      &prog, &d);
    }
    if (rc != TC_OK) {
        cli_fail("register", rc, &d);
        goto out;
    }
    maybe_stop(&prog, "manifest");

    /* 4. the registration steps */
    device_pem = der_to_pem(id.device_der, id.device_len);
    signer_pem = der_to_pem(id.signer_der, id.signer_len);
    if (device_pem == NULL || signer_pem == NULL || root_pem == NULL) {
        cli_fail("register", TC_ERR_NOMEM, NULL);
        goto out;
    }
    dev.thing_name = id.sn_hex;
    dev.device_pem = device_pem;
    dev.signer_pem = signer_pem;
    dev.root_pem = root_pem;
    memset(&po, 0, sizeof(po));
    po.mode = o.mode;
    po.update_policy = o.update_policy;
    po.report = on_step;
    po.report_ctx = &prog;
    rc = tc_provision_register(api, &dev, &po, &res, &d);
    if (rc != TC_OK) {
        fprintf(stderr, "thingcore register: %s\n", d.text);
        goto out;
    }

    /* 5. the firmware configuration */
    rc = endpoint_ca(&o, &dd, have_dd, &ca, &port, &d);
    if (rc == TC_OK) {
        rc = tc_project_set_endpoint(o.project, res.endpoint, port,
                                     (const char *)ca.data, &ch, &d);
    }
    if (rc != TC_OK) {
        line(&prog, "firmware configuration", o.project, "FAILED", NULL);
        cli_fail("firmware configuration", rc, &d);
        goto out;
    }
    if (ch.host_changed || ch.port_changed || ch.ca_changed) {
        char note[600];

        snprintf(note, sizeof(note), "%s:%d%s%.255s%s%s%s", res.endpoint,
                 port, ch.old_host[0] ? " (was " : "", ch.old_host,
                 ch.old_host[0] ? ")" : "",
                 ch.ca_changed ? ", root CA written" : "",
                 ch.removed_sdkconfig || ch.removed_build
                     ? ", stale build configuration removed"
                     : "");
        line(&prog, "firmware configuration", o.project, "done", note);
    } else {
        line(&prog, "firmware configuration", o.project,
             "already registered", "endpoint and root CA as they should be");
    }
    printf("registered %s (%s)\n", id.sn_hex,
           o.mode == TC_PROVISION_MAR    ? "MAR"
           : o.mode == TC_PROVISION_JITR ? "JITR: the first connection "
                                           "registers the certificate"
                                         : "JITP: the first connection "
                                           "provisions the thing");
    status = CLI_EXIT_OK;
out:
    free(device_pem);
    free(signer_pem);
    free(root_pem);
    tc_buf_clear(&ca, 0);
    tc_manifest_signer_free(signer);
    tc_apiclient_free(api);
    tc_datadir_clear(&dd);
    tc_identity_roots_free(roots, nroots);
    for (i = 0; i < o.ntrust; i++) {
        X509_free(o.trust[i]);
    }
    return status;
}
