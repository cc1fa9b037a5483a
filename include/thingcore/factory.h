/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A simulated Trust&GO factory: makes virtual chips the way Microchip's
 * line does. The chip generates its keys inside; the factory asks it only
 * for public keys, issues the device certificate from device template 3
 * under a signer CA, writes the compressed certificates to slots 10-12,
 * the signer's public key to slot 11 and the EUI-48 to slot 5, and locks
 * the zones.
 *
 * A factory folder holds the simulated root CA (root.pem, root.key), one
 * signer CA (signer-XXXX.pem/.key, XXXX its signer id), and a SIMULATED
 * note. Every chip it makes is marked simulated in its image, and the root
 * carries the simulated label (cert.h), never to be mistaken for
 * Microchip's.
 *
 * Limitations: one signer CA per folder; the chip keys' slots 1-4 get keys
 * too but only slot 0 is certified, as on a real Trust&GO part.
 */
#ifndef THINGCORE_FACTORY_H
#define THINGCORE_FACTORY_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/x509.h>

#include "thingcore/chip.h"
#include "thingcore/err.h"

struct tc_factory;

/*
 * Open the factory in dir, creating root and signer CAs on first use when
 * create != 0. *out is handed to the caller (tc_factory_free).
 */
int tc_factory_open(const char *dir, int create, struct tc_factory **out,
                    struct tc_detail *d);
void tc_factory_free(struct tc_factory *f);

/* The root certificate (borrowed from f) and the folder's root.pem path. */
X509 *tc_factory_root(const struct tc_factory *f);
const char *tc_factory_root_path(const struct tc_factory *f);

/*
 * Make one chip: sn (9 bytes) or NULL for a random Trust&GO serial
 * (01 23 .. 01). *out is handed to the caller, ready to save.
 */
int tc_factory_make_chip(struct tc_factory *f, const uint8_t *sn,
                         struct tc_chip **out, struct tc_detail *d);

/*
 * Default folders: $XDG_DATA_HOME/thingcore/<sub>, else
 * ~/.local/share/thingcore/<sub>, into out (cap bytes).
 */
int tc_data_dir(const char *sub, char *out, size_t cap, struct tc_detail *d);

#endif
