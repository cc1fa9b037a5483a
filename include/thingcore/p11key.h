/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Private keys held in secure elements, for OpenSSL: thingcore's PKCS#11
 * module loaded through OpenSSL's pkcs11 engine (libengine-pkcs11-openssl),
 * so that an SSL_CTX signs its handshakes inside the chip. The key object
 * is found by its PKCS#11 URI; nothing here sees key material.
 *
 * Limitations: OpenSSL 3 reaches PKCS#11 through the engine interface,
 * which OpenSSL deprecates; it is confined to src/device/p11key.c.
 */
#ifndef THINGCORE_P11KEY_H
#define THINGCORE_P11KEY_H

#include <openssl/evp.h>

#include "thingcore/err.h"

struct tc_p11;

/*
 * Load the pkcs11 engine with module (a path to thingcore-pkcs11.so, or
 * NULL: $THINGCORE_PKCS11_MODULE, else thingcore-pkcs11.so beside the
 * running program) serving the chips named by transports (the module's
 * THINGCORE_SE list; NULL keeps the environment's). *out is handed to the
 * caller (tc_p11_close).
 */
int tc_p11_open(const char *module, const char *transports,
                struct tc_p11 **out, struct tc_detail *d);
void tc_p11_close(struct tc_p11 *p);

/* The module path in use (borrowed from p). */
const char *tc_p11_module(const struct tc_p11 *p);

/*
 * The private key of the token labelled serial (18 upper-case hex),
 * i.e. pkcs11:token=<serial>;type=private. *out is handed to the caller
 * (EVP_PKEY_free); every signature it makes is made by the chip.
 */
int tc_p11_private_key(struct tc_p11 *p, const char *serial, EVP_PKEY **out,
                       struct tc_detail *d);

#endif
