// SPDX-License-Identifier: Apache-2.0
/*
 * Manifest creation: one flattened JWS per chip identity, written the way
 * Microchip's tools and the EduKit script write it (Python json.dumps
 * separators in the protected header and payload, payload keys in the
 * order the format lists, an indent=2 array). It checks the identity
 * against its certificates first, so it never signs an entry that its own
 * verifier would refuse.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "internal.h"
#include "thingcore/der.h"

void
tc_manifest_identity_init(struct tc_manifest_identity *id)
{
    memset(id, 0, sizeof(*id));
    id->version = 1;
    id->model = "ATECC608A";
    id->part_number = "ATECC608A-TNGTLS";
    id->manufacturer.name = "Microchip Technology Inc";
    id->manufacturer.unit = "Secure Products Group";
    id->provisioner = id->manufacturer;
    id->distributor.name = "Microchip Technology Inc";
    id->distributor.unit = "Microchip Direct";
}

int
tc_manifest_identity_from_certs(struct tc_manifest_identity *id,
                                const uint8_t *device_der, size_t device_len,
                                const uint8_t *signer_der, size_t signer_len,
                                struct tc_detail *d)
{
    struct tc_der_cert dc;
    struct tc_detail why;

    tc_detail_clear(&why);
    if (tc_der_cert_parse(device_der, device_len, &dc, &why) != TC_OK) {
        return tc_detail_set(d, TC_ERR_MANIFEST_CERT, -1, "device",
                             "device certificate is not a P-256 ECDSA DER "
                             "certificate: %.160s", why.text);
    }
    if (dc.cn.n == 0 || tc_mf_cn_sn(dc.cn.p, dc.cn.n, id->sn) != TC_OK) {
        return tc_detail_set(d, TC_ERR_MANIFEST_CERT, -1, "subject",
                             "device certificate CN is neither "
                             "\"sn<18 hex>\" nor \"<18 hex> ATECC\"");
    }
    memcpy(id->pubkeys[0], dc.xy, 64);
    id->device_der = device_der;
    id->device_len = device_len;
    id->signer_der = signer_der;
    id->signer_len = signer_len;
    id->npubkeys = 1;
    return TC_OK;
}

/*
 * A JSON string. Identity texts are ASCII without control characters, so
 * the output equals what json.dumps (ensure_ascii) writes for them.
 */
static int
put_str(struct tc_buf *b, const char *s, const char *field,
        struct tc_detail *d)
{
    const char *p;
    int rc;

    if (s == NULL) {
        return tc_detail_set(d, TC_ERR_ARG, -1, field, "%s is missing",
                             field);
    }
    for (p = s; *p != '\0'; p++) {
        if ((unsigned char)*p < 0x20 || (unsigned char)*p > 0x7e) {
            return tc_detail_set(d, TC_ERR_ARG, -1, field,
                                 "%s holds a non-printable or non-ASCII "
                                 "byte", field);
        }
    }
    rc = tc_buf_append(b, "\"", 1);
    for (p = s; rc == TC_OK && *p != '\0'; p++) {
        if (*p == '"' || *p == '\\') {
            rc = tc_buf_append(b, "\\", 1);
        }
        if (rc == TC_OK) {
            rc = tc_buf_append(b, p, 1);
        }
    }
    if (rc == TC_OK) {
        rc = tc_buf_append(b, "\"", 1);
    }
    return rc;
}

static int
put_org(struct tc_buf *b, const char *key, const struct tc_manifest_org *o,
        struct tc_detail *d)
{
    int rc = tc_buf_printf(b, ", \"%s\": {\"organizationName\": ", key);

    if (rc == TC_OK) {
        rc = put_str(b, o->name, key, d);
    }
    if (rc == TC_OK) {
        rc = tc_buf_append_str(b, ", \"organizationalUnitName\": ");
    }
    if (rc == TC_OK) {
        rc = put_str(b, o->unit, key, d);
    }
    if (rc == TC_OK) {
        rc = tc_buf_append_str(b, "}");
    }
    return rc;
}

/* base64 of n bytes appended to b (url: base64url unpadded). */
static int
put_b64(struct tc_buf *b, const uint8_t *p, size_t n, int url)
{
    size_t len = tc_base64_len(n, url);
    int rc = tc_buf_reserve(b, len + 1);

    if (rc != TC_OK) {
        return rc;
    }
    tc_base64_encode(p, n, (char *)b->data + b->len, url);
    b->len += len;
    b->data[b->len] = '\0';
    return TC_OK;
}

/* The payload JSON of one entry, keys in the format's order. */
static int
payload_of(const struct tc_manifest_identity *id, const char *timestamp,
           const char *uid, struct tc_buf *b, struct tc_detail *d)
{
    int rc;
    int k;
    const char *g;

    rc = tc_buf_printf(b, "{\"version\": %d, \"model\": ", id->version);
    if (rc == TC_OK) {
        rc = put_str(b, id->model, "model", d);
    }
    if (rc == TC_OK) {
        rc = tc_buf_append_str(b, ", \"partNumber\": ");
    }
    if (rc == TC_OK) {
        rc = put_str(b, id->part_number, "partNumber", d);
    }
    if (rc == TC_OK) {
        rc = put_org(b, "manufacturer", &id->manufacturer, d);
    }
    if (rc == TC_OK) {
        rc = put_org(b, "provisioner", &id->provisioner, d);
    }
    if (rc == TC_OK) {
        rc = put_org(b, "distributor", &id->distributor, d);
    }

    /* groupId: production manifests only, 16 upper-case letters/digits. */
    if (rc == TC_OK && id->group_id != NULL) {
        for (g = id->group_id; *g != '\0'; g++) {
            if (!((*g >= 'A' && *g <= 'Z') || (*g >= '0' && *g <= '9'))) {
                return tc_detail_set(d, TC_ERR_ARG, -1, "groupId",
                                     "groupId must be upper-case letters "
                                     "and digits");
            }
        }
        if (g == id->group_id || g - id->group_id > 64) {
            return tc_detail_set(d, TC_ERR_ARG, -1, "groupId",
                                 "groupId must be 1-64 characters");
        }
        rc = tc_buf_printf(b, ", \"groupId\": \"%s\"", id->group_id);
    }
    if (rc == TC_OK) {
        rc = tc_buf_printf(b,
                           ", \"provisioningTimestamp\": \"%s\", "
                           "\"uniqueId\": \"%s\"",
                           timestamp, uid);
    }

    /* Version 2 entries carry no key set. */
    if (rc == TC_OK && id->version == 1) {
        rc = tc_buf_append_str(b, ", \"publicKeySet\": {\"keys\": [");
        for (k = 0; rc == TC_OK && k < id->npubkeys; k++) {
            rc = tc_buf_printf(b,
                               "%s{\"kid\": \"%d\", \"kty\": \"EC\", "
                               "\"crv\": \"P-256\", \"x\": \"",
                               k > 0 ? ", " : "", k);
            if (rc == TC_OK) {
                rc = put_b64(b, id->pubkeys[k], 32, 1);
            }
            if (rc == TC_OK) {
                rc = tc_buf_append_str(b, "\", \"y\": \"");
            }
            if (rc == TC_OK) {
                rc = put_b64(b, id->pubkeys[k] + 32, 32, 1);
            }
            if (rc == TC_OK) {
                rc = tc_buf_append_str(b, "\"");
            }
            if (rc == TC_OK && k == 0) {
                rc = tc_buf_append_str(b, ", \"x5c\": [\"");
                if (rc == TC_OK) {
                    rc = put_b64(b, id->device_der, id->device_len, 0);
                }
                if (rc == TC_OK) {
                    rc = tc_buf_append_str(b, "\", \"");
                }
                if (rc == TC_OK) {
                    rc = put_b64(b, id->signer_der, id->signer_len, 0);
                }
                if (rc == TC_OK) {
                    rc = tc_buf_append_str(b, "\"]");
                }
            }
            if (rc == TC_OK) {
                rc = tc_buf_append_str(b, "}");
            }
        }
        if (rc == TC_OK) {
            rc = tc_buf_append_str(b, "]}");
        }
    }
    if (rc == TC_OK) {
        rc = tc_buf_append_str(b, "}");
    }
    return rc;
}

/* "%Y-%m-%dT%H:%M:%S.000Z" of a certificate time. */
static int
timestamp_of(int64_t t, char *out, size_t cap)
{
    time_t tt = (time_t)t;
    struct tm tm;

    if (gmtime_r(&tt, &tm) == NULL) {
        return 0;
    }
    return strftime(out, cap, "%Y-%m-%dT%H:%M:%S.000Z", &tm) > 0;
}

/*
 * Check an identity against its certificates before signing it, with the
 * same rules the verifier applies (verify.c): so create never signs an
 * entry its own verifier would refuse.
 */
static int
check_identity(const struct tc_manifest_identity *id,
               struct tc_der_cert *dev, struct tc_detail *d)
{
    struct tc_der_cert sig;
    struct tc_detail why;
    uint8_t sn[9];

    if (id->version != 1 && id->version != 2) {
        return tc_detail_set(d, TC_ERR_MANIFEST_VERSION, -1, "version",
                             "version %d: only 1 and 2 exist", id->version);
    }
    if (id->npubkeys < 1 || id->npubkeys > TC_MANIFEST_KEYS ||
        id->device_der == NULL || id->signer_der == NULL) {
        return tc_detail_set(d, TC_ERR_ARG, -1, "identity",
                             "identity needs both certificates and 1-5 "
                             "public keys");
    }
    tc_detail_clear(&why);
    if (tc_der_cert_parse(id->device_der, id->device_len, dev, &why) !=
        TC_OK) {
        return tc_detail_set(d, TC_ERR_MANIFEST_CERT, -1, "device",
                             "device certificate is not a P-256 ECDSA DER "
                             "certificate: %.160s", why.text);
    }
    if (tc_der_cert_parse(id->signer_der, id->signer_len, &sig, &why) !=
        TC_OK) {
        return tc_detail_set(d, TC_ERR_MANIFEST_CERT, -1, "signer",
                             "signer certificate is not a P-256 ECDSA DER "
                             "certificate: %.160s", why.text);
    }

    /* The entry must name the chip its device certificate names. */
    if (dev->cn.n == 0 || tc_mf_cn_sn(dev->cn.p, dev->cn.n, sn) != TC_OK) {
        return tc_detail_set(d, TC_ERR_MANIFEST_CERT, -1, "subject",
                             "device certificate CN is neither "
                             "\"sn<18 hex>\" nor \"<18 hex> ATECC\"");
    }
    if (memcmp(sn, id->sn, 9) != 0) {
        return tc_detail_set(d, TC_ERR_MANIFEST_SERIAL, -1, "uniqueId",
                             "serial number differs from the device "
                             "certificate's subject");
    }
    if (memcmp(dev->xy, id->pubkeys[0], 64) != 0) {
        return tc_detail_set(d, TC_ERR_MANIFEST_KEY, -1, "kid 0",
                             "slot 0 key differs from the device "
                             "certificate's key");
    }
    if (dev->issuer.n != sig.subject.n ||
        memcmp(dev->issuer.p, sig.subject.p, sig.subject.n) != 0 ||
        (dev->aki.n > 0 && sig.ski.n > 0 &&
         (dev->aki.n != sig.ski.n ||
          memcmp(dev->aki.p, sig.ski.p, sig.ski.n) != 0))) {
        return tc_detail_set(d, TC_ERR_MANIFEST_CHAIN, -1, "x5c",
                             "the signer certificate did not issue the device "
                             "certificate");
    }
    return TC_OK;
}

int
tc_manifest_entry_create(const struct tc_manifest_signer *s,
                         const struct tc_manifest_identity *id,
                         struct tc_buf *out, struct tc_detail *d)
{
    int rc = TC_ERR_INTERNAL;
    struct tc_der_cert dev;
    char ts[40];
    char uid[19];
    struct tc_buf pay;
    struct tc_buf prot;
    struct tc_buf input;
    uint8_t rs[64];

    tc_buf_init(&pay, TC_MANIFEST_ENTRY_MAX);
    tc_buf_init(&prot, 1024);
    tc_buf_init(&input, TC_MANIFEST_ENTRY_MAX);
    rc = check_identity(id, &dev, d);
    if (rc != TC_OK) {
        goto out;
    }
    if (!timestamp_of(dev.not_before, ts, sizeof(ts))) {
        rc = tc_detail_set(d, TC_ERR_MANIFEST_CERT, -1, "notBefore",
                           "device certificate notBefore is unreadable");
        goto out;
    }
    tc_hex_encode(id->sn, 9, uid, 0);

    /* Protected header and payload, as json.dumps writes them. */
    rc = tc_buf_printf(&prot,
                       "{\"typ\": \"JWT\", \"alg\": \"ES256\", "
                       "\"kid\": \"%s\", \"x5t#S256\": \"%s\"}",
                       s->kid, s->x5t);
    if (rc == TC_OK) {
        rc = payload_of(id, ts, uid, &pay, d);
    }

    /* Signing input: ASCII(b64url(protected) "." b64url(payload)). */
    if (rc == TC_OK) {
        rc = put_b64(&input, prot.data, prot.len, 1);
    }
    if (rc == TC_OK) {
        rc = tc_buf_append(&input, ".", 1);
    }
    if (rc == TC_OK) {
        rc = put_b64(&input, pay.data, pay.len, 1);
    }
    if (rc == TC_OK) {
        rc = tc_mf_sign(s->key, (const char *)input.data, input.len, rs, d);
    }
    if (rc != TC_OK) {
        goto out;
    }

    /* The element, indented as json.dump(..., indent=2) does. */
    rc = tc_buf_printf(out,
                       "  {\n    \"header\": {\n      \"uniqueId\": \"%s\"\n"
                       "    },\n    \"protected\": \"",
                       uid);
    if (rc == TC_OK) {
        rc = put_b64(out, prot.data, prot.len, 1);
    }
    if (rc == TC_OK) {
        rc = tc_buf_append_str(out, "\",\n    \"payload\": \"");
    }
    if (rc == TC_OK) {
        rc = put_b64(out, pay.data, pay.len, 1);
    }
    if (rc == TC_OK) {
        rc = tc_buf_append_str(out, "\",\n    \"signature\": \"");
    }
    if (rc == TC_OK) {
        rc = put_b64(out, rs, sizeof(rs), 1);
    }
    if (rc == TC_OK) {
        rc = tc_buf_append_str(out, "\"\n  }");
    }
out:
    tc_buf_clear(&pay, 0);
    tc_buf_clear(&prot, 0);
    tc_buf_clear(&input, 0);
    return rc;
}

int
tc_manifest_create(const struct tc_manifest_signer *s,
                   const struct tc_manifest_identity *ids, size_t n,
                   struct tc_buf *out, struct tc_detail *d)
{
    int rc;
    size_t i;

    if (n == 0 || n > TC_MANIFEST_CREATE_MAX) {
        return tc_detail_set(d, TC_ERR_ARG, -1, "identities",
                             "a manifest holds 1 to %d entries",
                             TC_MANIFEST_CREATE_MAX);
    }
    rc = tc_buf_append_str(out, "[\n");
    for (i = 0; rc == TC_OK && i < n; i++) {
        if (i > 0) {
            rc = tc_buf_append_str(out, ",\n");
        }
        if (rc == TC_OK) {
            rc = tc_manifest_entry_create(s, &ids[i], out, d);
            if (rc != TC_OK && d != NULL) {
                char prefix[32];

                snprintf(prefix, sizeof(prefix), "entry %zu: ", i);
                if (strlen(prefix) + strlen(d->text) < sizeof(d->text)) {
                    memmove(d->text + strlen(prefix), d->text,
                            strlen(d->text) + 1);
                    memcpy(d->text, prefix, strlen(prefix));
                }
            }
        }
    }
    if (rc == TC_OK) {
        rc = tc_buf_append_str(out, "\n]");
    }
    return rc;
}
