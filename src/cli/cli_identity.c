// SPDX-License-Identifier: Apache-2.0
/*
 * Reading a chip's identity the same way in every command: candidate roots
 * for rebuilding its certificates are Microchip's root, the simulated
 * factory's root.pem (the folder given, else the default one) and any
 * roots the person named. Rebuilding is not trusting: commands check the
 * chain against explicit anchors themselves.
 */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "thingcore/cert.h"
#include "thingcore/factory.h"
#include "thingcore/identity.h"
#include "thingcore/se.h"
#include "thingcore/util.h"

int
cli_load_cert(const char *path, X509 **out, struct tc_detail *d)
{
    struct tc_buf b;
    int rc;

    *out = NULL;
    tc_buf_init(&b, 1 << 20);
    rc = tc_file_read(path, &b, d);
    if (rc == TC_OK) {
        rc = tc_cert_x509_from_pem((const char *)b.data, b.len, out, d);
    }
    tc_buf_clear(&b, 0);
    return rc;
}

void
cli_factory_dir(const char *given, char *out, size_t cap)
{
    if (given != NULL) {
        snprintf(out, cap, "%s", given);
    } else if (tc_data_dir("factory", out, cap, NULL) != TC_OK) {
        out[0] = '\0';
    }
}

int
cli_identity_read(const char *transport, struct tc_se *se,
                  const char *factory, X509 *const *extra, size_t n_extra,
                  struct tc_identity *id, X509 ***roots, size_t *nroots,
                  struct tc_detail *d)
{
    struct tc_se *own = NULL;
    char fdir[4096];
    size_t i;
    int rc;

    *roots = NULL;
    *nroots = 0;
    cli_factory_dir(factory, fdir, sizeof(fdir));
    rc = tc_identity_default_roots(fdir[0] ? fdir : NULL, roots, nroots, d);
    for (i = 0; rc == TC_OK && i < n_extra; i++) {
        X509 **grown = realloc(*roots, (*nroots + 1) * sizeof(X509 *));

        if (grown == NULL) {
            rc = TC_ERR_NOMEM;
            break;
        }
        X509_up_ref(extra[i]);
        grown[(*nroots)++] = extra[i];
        *roots = grown;
    }
    if (rc == TC_OK && se == NULL) {
        rc = tc_se_open(transport, &own, d);
        se = own;
    }
    if (rc == TC_OK) {
        rc = tc_identity_read(se, *roots, *nroots, id, d);
    }
    tc_se_close(own);
    return rc;
}
