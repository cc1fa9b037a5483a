// SPDX-License-Identifier: Apache-2.0
/*
 * OpenSSL's pkcs11 engine in front of thingcore's PKCS#11 module. This is
 * the one file that uses the ENGINE interface: OpenSSL 3 has no other way
 * to reach a PKCS#11 token that Debian ships.
 */
#define OPENSSL_API_COMPAT 0x10100000L
#define OPENSSL_SUPPRESS_DEPRECATED

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/engine.h>
#include <openssl/err.h>

#include "thingcore/p11key.h"
#include "thingcore/util.h"

struct tc_p11 {
    ENGINE *engine;
    char module[PATH_MAX];
};

static int
engine_fail(struct tc_detail *d, const char *what)
{
    return tc_detail_ossl(d, TC_ERR_CRYPTO, NULL, what);
}

/* thingcore-pkcs11.so beside /proc/self/exe. */
static int
module_beside_program(char *out, size_t cap)
{
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    char *slash;

    if (n <= 0) {
        return -1;
    }
    exe[n] = '\0';
    slash = strrchr(exe, '/');
    if (slash == NULL) {
        return -1;
    }
    *slash = '\0';
    return snprintf(out, cap, "%s/thingcore-pkcs11.so", exe) < (int)cap ? 0
                                                                         : -1;
}

int
tc_p11_open(const char *module, const char *transports, struct tc_p11 **out,
            struct tc_detail *d)
{
    struct tc_p11 *p = calloc(1, sizeof(*p));
    const char *env = getenv("THINGCORE_PKCS11_MODULE");
    int rc = TC_ERR_CRYPTO;

    *out = NULL;
    if (p == NULL) {
        return TC_ERR_NOMEM;
    }
    if (module != NULL) {
        snprintf(p->module, sizeof(p->module), "%s", module);
    } else if (env != NULL && env[0] != '\0') {
        snprintf(p->module, sizeof(p->module), "%s", env);
    } else if (module_beside_program(p->module, sizeof(p->module)) != 0) {
        free(p);
        return tc_detail_set(d, TC_ERR_NOT_FOUND, -1, "module",
                             "cannot find thingcore-pkcs11.so: give "
                             "--pkcs11-module or THINGCORE_PKCS11_MODULE");
    }
    if (access(p->module, R_OK) != 0) {
        rc = tc_detail_set(d, TC_ERR_NOT_FOUND, -1, "module",
                           "PKCS#11 module %s is not readable", p->module);
        free(p);
        return rc;
    }

    /* The module reads its chip list when the engine initializes it. */
    if (transports != NULL && setenv("THINGCORE_SE", transports, 1) != 0) {
        free(p);
        return tc_detail_set(d, TC_ERR_NOMEM, -1, NULL, "setenv failed");
    }
    ENGINE_load_builtin_engines();
    p->engine = ENGINE_by_id("pkcs11");
    if (p->engine == NULL) {
        rc = engine_fail(d, "OpenSSL's pkcs11 engine is not installed "
                            "(Debian package libengine-pkcs11-openssl)");
        goto fail;
    }
    if (!ENGINE_ctrl_cmd_string(p->engine, "MODULE_PATH", p->module, 0)) {
        rc = engine_fail(d, "pkcs11 engine refused MODULE_PATH");
        goto fail;
    }
    if (!ENGINE_init(p->engine)) {
        rc = engine_fail(d, "pkcs11 engine could not initialize the module");
        goto fail;
    }
    *out = p;
    return TC_OK;

fail:
    if (p->engine != NULL) {
        ENGINE_free(p->engine);
    }
    free(p);
    return rc;
}

void
tc_p11_close(struct tc_p11 *p)
{
    if (p == NULL) {
        return;
    }
    ENGINE_finish(p->engine);
    ENGINE_free(p->engine);
    free(p);
}

const char *
tc_p11_module(const struct tc_p11 *p)
{
    return p->module;
}

int
tc_p11_private_key(struct tc_p11 *p, const char *serial, EVP_PKEY **out,
                   struct tc_detail *d)
{
    char uri[128];

    snprintf(uri, sizeof(uri), "pkcs11:token=%s;type=private", serial);
    *out = ENGINE_load_private_key(p->engine, uri, NULL, NULL);
    if (*out == NULL) {
        return engine_fail(d, uri);
    }
    return TC_OK;
}
