/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Helpers the registry tests share: keys and certificates made with
 * OpenSSL on the fly (a CA, certificates it issues, expired ones), and a
 * fresh registry file in the test's temporary folder.
 */
#ifndef THINGCORE_REGTEST_H
#define THINGCORE_REGTEST_H

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "thingcore/registry.h"

/* A new P-256 key; caller frees with EVP_PKEY_free. */
EVP_PKEY *regt_key(void);

/*
 * A certificate for key with subject CN cn, signed by issuer/issuer_key
 * (NULL: self-signed), CA:TRUE when ca, valid from now+from_days to
 * now+to_days. Returns heap PEM text (free) and *out (X509_free) if wanted.
 */
char *regt_cert(const char *cn, EVP_PKEY *key, X509 *issuer,
                EVP_PKEY *issuer_key, int ca, int from_days, int to_days,
                X509 **out);

/* Open a registry at <tmpdir>/reg.db; NULL on failure. */
struct tc_registry *regt_open(char *path_out, size_t cap);

/* Register a fresh self-signed leaf without CA; id_out gets its id. */
int regt_leaf(struct tc_registry *reg, int status, char *id_out);

#endif
