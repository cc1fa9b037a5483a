// SPDX-License-Identifier: Apache-2.0
/*
 * The broker supervisor's pure parts: the generated mosquitto
 * configuration (and the values it refuses), the operator policy, and the
 * hashed CA directory kept from a real registry (new CAs added, chains
 * completed from explicit anchors, nothing duplicated).
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/pem.h>
#include <openssl/x509.h>

#include "../test.h"
#include "thingcore/broker.h"
#include "thingcore/pki.h"
#include "thingcore/policy.h"
#include "thingcore/registry.h"
#include "thingcore/util.h"

TC_TEST(broker_config_written)
{
    struct tc_broker_config c;
    struct tc_buf b;
    char path[512];

    memset(&c, 0, sizeof(c));
    c.data_dir = tc_test_tmpdir();
    c.port = 18884;
    c.plugin = "/opt/thingcore-plugin.so";
    c.bind = "127.0.0.1";
    snprintf(path, sizeof(path), "%s/mosquitto.conf", tc_test_tmpdir());
    CHECK_EQ_INT(tc_broker_write_config(&c, path, NULL), TC_OK);
    tc_buf_init(&b, 65536);
    CHECK_EQ_INT(tc_file_read(path, &b, NULL), TC_OK);
    CHECK(strstr((char *)b.data, "listener 18884 127.0.0.1\n") != NULL);
    CHECK(strstr((char *)b.data, "require_certificate true\n") != NULL);
    CHECK(strstr((char *)b.data, "use_identity_as_username false\n") != NULL);
    CHECK(strstr((char *)b.data, "tls_version tlsv1.2\n") != NULL);
    CHECK(strstr((char *)b.data, "per_listener_settings false\n") != NULL);
    CHECK(strstr((char *)b.data, "plugin /opt/thingcore-plugin.so\n") != NULL);
    CHECK(strstr((char *)b.data, "capath ") != NULL);
    CHECK(strstr((char *)b.data, "persistence false\n") != NULL);
    tc_buf_clear(&b, 0);
}

TC_TEST(broker_config_refuses_bad_values)
{
    struct tc_broker_config c;
    struct tc_detail d;
    char path[512];

    snprintf(path, sizeof(path), "%s/bad.conf", tc_test_tmpdir());
    memset(&c, 0, sizeof(c));
    c.data_dir = tc_test_tmpdir();
    c.plugin = "/p.so";
    c.port = 0;
    CHECK_EQ_INT(tc_broker_write_config(&c, path, &d), TC_ERR_BROKER_CONFIG);
    c.port = 70000;
    CHECK_EQ_INT(tc_broker_write_config(&c, path, &d), TC_ERR_BROKER_CONFIG);
    c.port = 8883;
    c.plugin = "/p.so\nallow_anonymous true";
    CHECK_EQ_INT(tc_broker_write_config(&c, path, &d), TC_ERR_BROKER_CONFIG);
    c.plugin = NULL;
    CHECK_EQ_INT(tc_broker_write_config(&c, path, &d), TC_ERR_BROKER_CONFIG);
}

TC_TEST(broker_start_refuses_missing_plugin)
{
    struct tc_broker_config c;
    struct tc_broker *b = NULL;
    struct tc_detail d;

    memset(&c, 0, sizeof(c));
    c.data_dir = tc_test_tmpdir();
    c.port = 18885;
    c.plugin = "/nonexistent/thingcore-plugin.so";
    CHECK_EQ_INT(tc_broker_start(&c, &b, &d), TC_ERR_BROKER_CONFIG);
    CHECK(b == NULL);
    CHECK_EQ_STR(d.field, "plugin");
}

TC_TEST(broker_operator_policy_valid)
{
    char doc[1024];
    char small[16];

    CHECK_EQ_INT(tc_broker_operator_policy("us-east-1", "123456789012", doc,
                                           sizeof(doc)),
                 TC_OK);
    CHECK_EQ_INT(tc_policy_validate(doc, strlen(doc), NULL), TC_OK);
    CHECK_EQ_INT(tc_broker_operator_policy("us-east-1", "123456789012", small,
                                           sizeof(small)),
                 TC_ERR_TOO_BIG);
}

static int
count_files(const char *dir)
{
    DIR *dh = opendir(dir);
    struct dirent *e;
    int n = 0;

    while (dh != NULL && (e = readdir(dh)) != NULL) {
        n += e->d_name[0] != '.';
    }
    if (dh != NULL) {
        closedir(dh);
    }
    return n;
}

/* A CA key pair: self-signed, or issued by (icert, ikey). */
static void
make_ca(const char *cn, X509 *icert, EVP_PKEY *ikey, X509 **cert,
        EVP_PKEY **key)
{
    struct tc_pki_cert_spec spec;

    memset(&spec, 0, sizeof(spec));
    spec.common_name = cn;
    spec.is_ca = 1;
    spec.days = 30;
    *key = NULL;
    *cert = NULL;
    if (tc_pki_key_generate(key, NULL) == TC_OK) {
        tc_pki_cert_issue(&spec, *key, icert, ikey, cert, NULL);
    }
}

static char *
to_pem(X509 *x)
{
    struct tc_buf b;
    char *s;

    tc_buf_init(&b, 65536);
    tc_pki_cert_to_pem(x, &b, NULL);
    s = strdup((char *)b.data);
    tc_buf_clear(&b, 0);
    return s;
}

/*
 * An intermediate CA registered ACTIVE (no proof of possession in SNI_ONLY
 * mode) is written with its root from the anchors folder; syncing again
 * adds nothing; an unrelated anchor is not trusted.
 */
TC_TEST(broker_trust_sync_chain)
{
    const char *tmp = tc_test_tmpdir();
    char dbpath[512];
    char dir[512];
    char anchors[512];
    char file[600];
    struct tc_registry *reg = NULL;
    struct tc_reg_ca_register in;
    X509 *root = NULL;
    X509 *signer = NULL;
    X509 *other = NULL;
    EVP_PKEY *rk = NULL;
    EVP_PKEY *sk = NULL;
    EVP_PKEY *ok = NULL;
    char *spem = NULL;
    char *rpem = NULL;
    char *opem = NULL;
    int added = -1;

    snprintf(dbpath, sizeof(dbpath), "%s/r.db", tmp);
    snprintf(dir, sizeof(dir), "%s/trust.d", tmp);
    snprintf(anchors, sizeof(anchors), "%s/anchors", tmp);
    CHECK_EQ_INT(tc_registry_open(dbpath, &reg, NULL), TC_OK);

    make_ca("Test Root", NULL, NULL, &root, &rk);
    make_ca("Test Signer", root, rk, &signer, &sk);
    make_ca("Unrelated Root", NULL, NULL, &other, &ok);
    CHECK(root != NULL && signer != NULL && other != NULL);
    spem = to_pem(signer);
    rpem = to_pem(root);
    opem = to_pem(other);

    /* Empty registry: nothing to trust. */
    CHECK_EQ_INT(tc_broker_trust_sync(reg, dir, NULL, anchors, 1, &added, NULL),
                 TC_OK);
    CHECK_EQ_INT(added, 0);

    memset(&in, 0, sizeof(in));
    in.ca_pem = spem;
    in.ca_pem_len = strlen(spem);
    in.mode = TC_REG_MODE_SNI_ONLY;
    in.set_active = 1;
    CHECK_EQ_INT(tc_registry_ca_register(reg, &in, NULL, NULL), TC_OK);
    CHECK_EQ_INT(tc_mkdir_p(anchors, 0755, NULL), TC_OK);
    snprintf(file, sizeof(file), "%s/root.pem", anchors);
    CHECK_EQ_INT(tc_file_write_atomic(file, rpem, strlen(rpem), 0644, NULL),
                 TC_OK);
    snprintf(file, sizeof(file), "%s/other.pem", anchors);
    CHECK_EQ_INT(tc_file_write_atomic(file, opem, strlen(opem), 0644, NULL),
                 TC_OK);

    CHECK_EQ_INT(tc_broker_trust_sync(reg, dir, NULL, anchors, 0, &added, NULL),
                 TC_OK);
    CHECK_EQ_INT(added, 2);
    CHECK_EQ_INT(count_files(dir), 2);
    snprintf(file, sizeof(file), "%s/%08lx.0", dir,
             X509_NAME_hash_ex(X509_get_subject_name(root), NULL, NULL, NULL));
    CHECK(access(file, R_OK) == 0);

    /* Again: nothing new. A rebuild writes the same two files. */
    CHECK_EQ_INT(tc_broker_trust_sync(reg, dir, NULL, anchors, 0, &added, NULL),
                 TC_OK);
    CHECK_EQ_INT(added, 0);
    CHECK_EQ_INT(tc_broker_trust_sync(reg, dir, NULL, anchors, 1, &added, NULL),
                 TC_OK);
    CHECK_EQ_INT(added, 2);
    CHECK_EQ_INT(count_files(dir), 2);

    free(spem);
    free(rpem);
    free(opem);
    X509_free(root);
    X509_free(signer);
    X509_free(other);
    EVP_PKEY_free(rk);
    EVP_PKEY_free(sk);
    EVP_PKEY_free(ok);
    tc_registry_close(reg);
}
