// SPDX-License-Identifier: Apache-2.0
/*
 * Chain check for a Trust&GO device: device <- signer <- explicit anchor,
 * with OpenSSL's verifier. Only the anchors the caller passes are
 * trusted; the signer certificate read from a chip is never trusted on its
 * own, and no system store is consulted.
 */
#include <stdio.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/x509_vfy.h>

#include "cert_int.h"

/* A caller pins a few roots; it does not pass a CA bundle. */
#define ANCHORS_MAX 16

static const char *
link_name(int depth)
{
    if (depth <= 0) {
        return "device";
    }
    return depth == 1 ? "signer" : "anchor";
}

/* Say which certificate a parse error was in. */
static void
name_field(struct tc_detail *d, const char *which)
{
    if (d != NULL) {
        snprintf(d->field, sizeof(d->field), "%s", which);
    }
}

int
tc_cert_verify_chain(const uint8_t *device_der, size_t device_len,
                     const uint8_t *signer_der, size_t signer_len,
                     X509 *const *anchors, size_t n_anchors, time_t at,
                     struct tc_detail *d)
{
    int rc = TC_ERR_CERT_CHAIN;
    X509 *dev = NULL;
    X509 *signer = NULL;
    X509_STORE *store = NULL;
    X509_STORE_CTX *ctx = NULL;
    STACK_OF(X509) *untrusted = NULL;
    STACK_OF(X509) *chain = NULL;
    size_t i;

    if (device_der == NULL || signer_der == NULL ||
        (anchors == NULL && n_anchors != 0)) {
        return tc_detail_set(d, TC_ERR_ARG, -1, NULL, "NULL argument");
    }
    if (n_anchors == 0 || n_anchors > ANCHORS_MAX) {
        return tc_detail_set(d, TC_ERR_CERT_ANCHOR, -1, "anchor",
                             "%zu trust anchors given, need 1-%d",
                             n_anchors, ANCHORS_MAX);
    }
    rc = tc_cert_x509_from_der(device_der, device_len, &dev, d);
    if (rc != TC_OK) {
        name_field(d, "device");
        goto cleanup;
    }
    rc = tc_cert_x509_from_der(signer_der, signer_len, &signer, d);
    if (rc != TC_OK) {
        name_field(d, "signer");
        goto cleanup;
    }

    /* Trust only self-signed anchors, so none can be an intermediate. */
    rc = TC_ERR_NOMEM;
    store = X509_STORE_new();
    untrusted = sk_X509_new_null();
    if (store == NULL || untrusted == NULL ||
        sk_X509_push(untrusted, signer) <= 0) {
        goto cleanup;
    }
    for (i = 0; i < n_anchors; i++) {
        if (anchors[i] == NULL || X509_self_signed(anchors[i], 1) != 1) {
            ERR_clear_error();
            rc = tc_detail_set(d, TC_ERR_CERT_ANCHOR, (long)i, "anchor",
                               "trust anchor %zu is not a self-signed "
                               "certificate",
                               i);
            goto cleanup;
        }
        if (X509_cmp(anchors[i], signer) == 0) {
            rc = tc_detail_set(d, TC_ERR_CERT_ANCHOR, (long)i, "anchor",
                               "the signer certificate cannot be a trust "
                               "anchor");
            goto cleanup;
        }
        if (X509_STORE_add_cert(store, anchors[i]) != 1) {
            ERR_clear_error(); /* a duplicate anchor is harmless */
        }
    }

    ctx = X509_STORE_CTX_new();
    if (ctx == NULL || X509_STORE_CTX_init(ctx, store, dev, untrusted) != 1) {
        ERR_clear_error();
        goto cleanup;
    }
    if (at != 0) {
        X509_STORE_CTX_set_time(ctx, 0, at);
    }

    /* Verify, and name the link that broke. */
    if (X509_verify_cert(ctx) != 1) {
        int err = X509_STORE_CTX_get_error(ctx);
        int depth = X509_STORE_CTX_get_error_depth(ctx);

        ERR_clear_error();
        rc = tc_detail_set(d, TC_ERR_CERT_CHAIN, depth, link_name(depth),
                           "%s certificate: %s", link_name(depth),
                           X509_verify_cert_error_string(err));
        goto cleanup;
    }

    /* Exactly device, the given signer, an anchor. */
    chain = X509_STORE_CTX_get1_chain(ctx);
    if (chain == NULL || sk_X509_num(chain) != 3 ||
        X509_cmp(sk_X509_value(chain, 1), signer) != 0) {
        rc = tc_detail_set(d, TC_ERR_CERT_CHAIN, -1, "signer",
                           "chain has %d certificates, expected device, "
                           "signer, anchor",
                           chain != NULL ? sk_X509_num(chain) : 0);
        goto cleanup;
    }
    rc = TC_OK;

cleanup:
    sk_X509_pop_free(chain, X509_free);
    X509_STORE_CTX_free(ctx);
    sk_X509_free(untrusted);
    X509_STORE_free(store);
    X509_free(signer);
    X509_free(dev);
    return rc;
}
