// SPDX-License-Identifier: Apache-2.0
/*
 * A token and its objects: connecting to the chip, reading its identity
 * (serial number, slot 0 public key, device and signer certificates), and
 * presenting them as PKCS#11 objects whose attributes C_GetAttributeValue
 * and C_FindObjects read. A chip that holds a key but no Trust&GO
 * certificates presents its two key objects only. Objects are read-only:
 * nothing here writes to a chip.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/decoder.h>
#include <openssl/err.h>
#include <openssl/x509.h>

#include "p11.h"
#include "thingcore/ec.h"
#include "thingcore/identity.h"
#include "thingcore/util.h"

/* CKA_ID length: a SHA-1. */
#define ID_LEN 20

/* DER of the prime256v1 OID, CKA_EC_PARAMS of every key here. */
static const uint8_t p256_oid[] = {0x06, 0x08, 0x2A, 0x86, 0x48,
                                   0xCE, 0x3D, 0x03, 0x01, 0x07};

static const CK_MECHANISM_TYPE key_mechs[] = {CKM_ECDSA, CKM_ECDSA_SHA256};

/* ---- building objects ---- */

static void
object_clear(struct p11_object *o)
{
    size_t i;

    for (i = 0; i < o->nattr; i++) {
        free(o->attr[i].value);
    }
    memset(o, 0, sizeof(*o));
}

/* Append an attribute with a copy of its value; -1 when out of memory. */
static int
put(struct p11_object *o, CK_ATTRIBUTE_TYPE type, const void *v, size_t n)
{
    struct p11_attr *a;

    if (o->nattr == P11_ATTR_MAX) {
        return -1;
    }
    a = &o->attr[o->nattr];
    a->type = type;
    a->len = n;
    a->sensitive = 0;
    a->value = NULL;
    if (n > 0) {
        a->value = malloc(n);
        if (a->value == NULL) {
            return -1;
        }
        memcpy(a->value, v, n);
    }
    o->nattr++;
    return 0;
}

static int
put_bool(struct p11_object *o, CK_ATTRIBUTE_TYPE type, int v)
{
    CK_BBOOL b = v ? CK_TRUE : CK_FALSE;

    return put(o, type, &b, sizeof(b));
}

static int
put_ulong(struct p11_object *o, CK_ATTRIBUTE_TYPE type, CK_ULONG v)
{
    return put(o, type, &v, sizeof(v));
}

static int
put_str(struct p11_object *o, CK_ATTRIBUTE_TYPE type, const char *s)
{
    return put(o, type, s, strlen(s));
}

/* Attributes every object here has: storage, never modifiable. */
static int
put_common(struct p11_object *o, CK_OBJECT_CLASS cls, const char *label)
{
    int rc = 0;

    rc |= put_ulong(o, CKA_CLASS, cls);
    rc |= put_bool(o, CKA_TOKEN, 1);
    rc |= put_bool(o, CKA_PRIVATE, 0);
    rc |= put_bool(o, CKA_MODIFIABLE, 0);
    rc |= put_bool(o, CKA_COPYABLE, 0);
    rc |= put_bool(o, CKA_DESTROYABLE, 0);
    rc |= put_str(o, CKA_LABEL, label);
    return rc;
}

/* Attributes both key objects have. */
static int
put_key(struct p11_object *o, const uint8_t *id, const uint8_t *subject,
        size_t subject_len, const uint8_t *spki, size_t spki_len)
{
    int rc = 0;

    rc |= put_ulong(o, CKA_KEY_TYPE, CKK_EC);
    rc |= put(o, CKA_ID, id, ID_LEN);
    rc |= put(o, CKA_START_DATE, NULL, 0);
    rc |= put(o, CKA_END_DATE, NULL, 0);
    rc |= put_bool(o, CKA_DERIVE, 0);
    rc |= put_bool(o, CKA_LOCAL, 1);
    rc |= put_ulong(o, CKA_KEY_GEN_MECHANISM, CKM_EC_KEY_PAIR_GEN);
    rc |= put(o, CKA_ALLOWED_MECHANISMS, key_mechs, sizeof(key_mechs));
    rc |= put(o, CKA_EC_PARAMS, p256_oid, sizeof(p256_oid));
    rc |= put(o, CKA_SUBJECT, subject, subject_len);
    rc |= put(o, CKA_PUBLIC_KEY_INFO, spki, spki_len);
    return rc;
}

/* The parts of a certificate its object carries, as DER. */
struct cert_parts {
    uint8_t *subject;
    int subject_len;
    uint8_t *issuer;
    int issuer_len;
    uint8_t *serial;
    int serial_len;
    uint8_t *spki;
    int spki_len;
    uint8_t pub[TC_ATCA_PUBKEY_SIZE];
    int pub_ok;
};

static void
cert_parts_clear(struct cert_parts *c)
{
    OPENSSL_free(c->subject);
    OPENSSL_free(c->issuer);
    OPENSSL_free(c->serial);
    OPENSSL_free(c->spki);
    memset(c, 0, sizeof(*c));
}

/* Split a certificate; -1 when OpenSSL cannot parse it. */
static int
cert_parts(const uint8_t *der, size_t len, struct cert_parts *c)
{
    const unsigned char *p = der;
    X509 *x = d2i_X509(NULL, &p, (long)len);
    EVP_PKEY *k;
    int rc = -1;

    memset(c, 0, sizeof(*c));
    if (x == NULL || p != der + len) {
        goto cleanup;
    }
    c->subject_len = i2d_X509_NAME(X509_get_subject_name(x), &c->subject);
    c->issuer_len = i2d_X509_NAME(X509_get_issuer_name(x), &c->issuer);
    c->serial_len = i2d_ASN1_INTEGER(X509_get0_serialNumber(x), &c->serial);
    c->spki_len = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(x), &c->spki);
    if (c->subject_len <= 0 || c->issuer_len <= 0 || c->serial_len <= 0 ||
        c->spki_len <= 0) {
        goto cleanup;
    }
    k = X509_get0_pubkey(x);
    c->pub_ok = k != NULL && tc_ec_pubkey_to_xy(k, c->pub) == TC_OK;
    rc = 0;

cleanup:
    X509_free(x);
    ERR_clear_error();
    if (rc != 0) {
        cert_parts_clear(c);
    }
    return rc;
}

/* CKA_ID: SHA-1 of 04||X||Y, the certificate's subject key identifier. */
static void
key_id(const uint8_t *xy, uint8_t *id)
{
    uint8_t point[1 + TC_ATCA_PUBKEY_SIZE];

    point[0] = 0x04;
    memcpy(point + 1, xy, TC_ATCA_PUBKEY_SIZE);
    /* SHA-1 is what RFC 5280 4.2.1.2 method 1 names; it is no MAC here. */
    (void)EVP_Digest(point, sizeof(point), id, NULL, EVP_sha1(), NULL);
}

static int
build_cert(struct p11_object *o, const char *label, CK_ULONG category,
           const uint8_t *der, size_t len, const struct cert_parts *c,
           const uint8_t *id)
{
    uint8_t sha1[ID_LEN];
    int rc = 0;

    (void)EVP_Digest(der, len, sha1, NULL, EVP_sha1(), NULL);
    rc |= put_common(o, CKO_CERTIFICATE, label);
    rc |= put_ulong(o, CKA_CERTIFICATE_TYPE, CKC_X_509);
    rc |= put_bool(o, CKA_TRUSTED, 0);
    rc |= put_ulong(o, CKA_CERTIFICATE_CATEGORY, category);
    rc |= put(o, CKA_CHECK_VALUE, sha1, 3);
    rc |= put(o, CKA_START_DATE, NULL, 0);
    rc |= put(o, CKA_END_DATE, NULL, 0);
    rc |= put(o, CKA_PUBLIC_KEY_INFO, c->spki, (size_t)c->spki_len);
    rc |= put(o, CKA_SUBJECT, c->subject, (size_t)c->subject_len);
    rc |= put(o, CKA_ID, id, ID_LEN);
    rc |= put(o, CKA_ISSUER, c->issuer, (size_t)c->issuer_len);
    rc |= put(o, CKA_SERIAL_NUMBER, c->serial, (size_t)c->serial_len);
    rc |= put(o, CKA_VALUE, der, len);
    rc |= put(o, CKA_URL, NULL, 0);
    rc |= put(o, CKA_HASH_OF_SUBJECT_PUBLIC_KEY, NULL, 0);
    rc |= put(o, CKA_HASH_OF_ISSUER_PUBLIC_KEY, NULL, 0);
    rc |= put_ulong(o, CKA_JAVA_MIDP_SECURITY_DOMAIN, 0);
    rc |= put_ulong(o, CKA_NAME_HASH_ALGORITHM, CKM_SHA_1);
    if (rc == 0) {
        o->present = 1;
    }
    return rc;
}

/*
 * The four objects from what was read. A certificate that does not parse,
 * or a device certificate for another key, is left out with a warning:
 * the token never pairs a key with a certificate that is not its own.
 */
static CK_RV
build_objects(struct p11_token *t, const uint8_t *dev, size_t dev_len,
              const uint8_t *signer, size_t signer_len)
{
    struct cert_parts dc;
    struct cert_parts sc;
    uint8_t id[ID_LEN];
    uint8_t sid[ID_LEN];
    uint8_t point[3 + TC_ATCA_PUBKEY_SIZE];
    uint8_t *spki = NULL;
    int spki_len;
    struct p11_object *o;
    int rc = 0;

    memset(&dc, 0, sizeof(dc));
    memset(&sc, 0, sizeof(sc));
    key_id(t->pub, id);
    spki_len = i2d_PUBKEY(t->pkey, &spki);
    if (spki_len <= 0) {
        return CKR_HOST_MEMORY;
    }
    if (dev_len > 0) {
        if (cert_parts(dev, dev_len, &dc) != 0) {
            TC_LOG(TC_LOG_WARNING, "token %s: device certificate does not "
                   "parse; presenting the key alone", t->sn_hex);
            dev_len = 0;
        } else if (!dc.pub_ok ||
                   memcmp(dc.pub, t->pub, TC_ATCA_PUBKEY_SIZE) != 0) {
            TC_LOG(TC_LOG_WARNING, "token %s: device certificate is for "
                   "another key than slot %d's; left out", t->sn_hex,
                   P11_KEY_SLOT);
            dev_len = 0;
        }
    }
    if (signer_len > 0 && cert_parts(signer, signer_len, &sc) != 0) {
        TC_LOG(TC_LOG_WARNING, "token %s: signer certificate does not "
               "parse; left out", t->sn_hex);
        signer_len = 0;
    }

    /* The private key: signs, and nothing about it can be read out. */
    o = &t->obj[P11_OBJ_PRIVATE];
    rc |= put_common(o, CKO_PRIVATE_KEY, "device");
    rc |= put_key(o, id, dc.subject, dev_len > 0 ? (size_t)dc.subject_len : 0,
                  spki, (size_t)spki_len);
    rc |= put_bool(o, CKA_SENSITIVE, 1);
    rc |= put_bool(o, CKA_DECRYPT, 0);
    rc |= put_bool(o, CKA_SIGN, 1);
    rc |= put_bool(o, CKA_SIGN_RECOVER, 0);
    rc |= put_bool(o, CKA_UNWRAP, 0);
    rc |= put_bool(o, CKA_EXTRACTABLE, 0);
    rc |= put_bool(o, CKA_ALWAYS_SENSITIVE, 1);
    rc |= put_bool(o, CKA_NEVER_EXTRACTABLE, 1);
    rc |= put_bool(o, CKA_WRAP_WITH_TRUSTED, 0);
    rc |= put_bool(o, CKA_ALWAYS_AUTHENTICATE, 0);
    rc |= put(o, CKA_VALUE, NULL, 0);
    if (rc == 0) {
        o->attr[o->nattr - 1].sensitive = 1;
        o->present = 1;
    }

    /* The public key, as CKA_EC_POINT: DER OCTET STRING of 04||X||Y. */
    point[0] = 0x04;
    point[1] = 1 + TC_ATCA_PUBKEY_SIZE;
    point[2] = 0x04;
    memcpy(point + 3, t->pub, TC_ATCA_PUBKEY_SIZE);
    o = &t->obj[P11_OBJ_PUBLIC];
    rc |= put_common(o, CKO_PUBLIC_KEY, "device");
    rc |= put_key(o, id, dc.subject, dev_len > 0 ? (size_t)dc.subject_len : 0,
                  spki, (size_t)spki_len);
    rc |= put_bool(o, CKA_ENCRYPT, 0);
    rc |= put_bool(o, CKA_VERIFY, 0);
    rc |= put_bool(o, CKA_VERIFY_RECOVER, 0);
    rc |= put_bool(o, CKA_WRAP, 0);
    rc |= put_bool(o, CKA_TRUSTED, 0);
    rc |= put(o, CKA_EC_POINT, point, sizeof(point));
    if (rc == 0) {
        o->present = 1;
    }

    if (rc == 0 && dev_len > 0) {
        rc |= build_cert(&t->obj[P11_OBJ_DEVICE_CERT], "device", 1, dev,
                         dev_len, &dc, id);
    }
    if (rc == 0 && signer_len > 0) {
        /* The signer's CKA_ID is its own key's, its SKI. */
        if (sc.pub_ok) {
            key_id(sc.pub, sid);
        } else {
            memset(sid, 0, sizeof(sid));
        }
        rc |= build_cert(&t->obj[P11_OBJ_SIGNER_CERT], "signer", 2, signer,
                         signer_len, &sc, sid);
    }
    OPENSSL_free(spki);
    cert_parts_clear(&dc);
    cert_parts_clear(&sc);
    return rc == 0 ? CKR_OK : CKR_HOST_MEMORY;
}

/*
 * X||Y as an EVP_PKEY, through the SubjectPublicKeyInfo decoder rather
 * than tc_ec_pubkey_from_xy: inside a program that made an ENGINE (the
 * pkcs11 engine itself) the default for EC keys, EVP_PKEY_fromdata is
 * routed to the engine and fails, while the decoder is not. The decoder
 * refuses a point that is not on the curve. Handed to the caller.
 */
static EVP_PKEY *
pubkey_from_xy(const uint8_t *xy)
{
    /* SEQUENCE { SEQUENCE { id-ecPublicKey, prime256v1 }, BIT STRING } */
    static const uint8_t prefix[] = {
        0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2A, 0x86, 0x48,
        0xCE, 0x3D, 0x02, 0x01, 0x06, 0x08, 0x2A, 0x86, 0x48,
        0xCE, 0x3D, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00, 0x04,
    };
    uint8_t der[sizeof(prefix) + TC_ATCA_PUBKEY_SIZE];
    const unsigned char *p = der;
    size_t left = sizeof(der);
    OSSL_DECODER_CTX *dc;
    EVP_PKEY *pkey = NULL;

    memcpy(der, prefix, sizeof(prefix));
    memcpy(der + sizeof(prefix), xy, TC_ATCA_PUBKEY_SIZE);
    dc = OSSL_DECODER_CTX_new_for_pkey(&pkey, "DER", "SubjectPublicKeyInfo",
                                       "EC", EVP_PKEY_PUBLIC_KEY, NULL,
                                       NULL);
    if (dc == NULL || !OSSL_DECODER_from_data(dc, &p, &left) || left != 0) {
        EVP_PKEY_free(pkey);
        pkey = NULL;
    }
    OSSL_DECODER_CTX_free(dc);
    ERR_clear_error();
    return pkey;
}

/* ---- connecting ---- */

/* Failures of the path to the chip rather than of the chip. */
static int
transport_error(int rc)
{
    return rc == TC_ERR_IO || rc == TC_ERR_CLOSED || rc == TC_ERR_TIMEOUT ||
           rc == TC_ERR_ATCA_NO_DEVICE || rc == TC_ERR_ATCA_KIT ||
           rc == TC_ERR_ATCA_TRANSPORT || rc == TC_ERR_ATCA_COMM ||
           rc == TC_ERR_ATCA_BAD_CRC || rc == TC_ERR_ATCA_BAD_RESPONSE;
}

void
p11_token_clear(struct p11_token *t)
{
    size_t i;

    tc_se_close(t->se);
    t->se = NULL;
    EVP_PKEY_free(t->pkey);
    t->pkey = NULL;
    for (i = 0; i < P11_KINDS; i++) {
        object_clear(&t->obj[i]);
    }
}

/*
 * Read the identity. The Trust&GO read gives everything; when it fails
 * for a reason other than the transport (no certificates, zones not
 * locked), the serial number and slot 0's public key are read alone.
 */
static int
read_identity(struct p11_token *t, struct tc_identity *id, int *has_certs,
              struct tc_detail *d)
{
    int rc;

    *has_certs = 0;
    rc = tc_identity_read(t->se, t->roots, t->nroots, id, d);
    if (rc == TC_OK) {
        *has_certs = 1;
        memcpy(t->sn, id->sn, TC_ATCA_SN_SIZE);
        memcpy(t->pub, id->pubkeys[P11_KEY_SLOT], TC_ATCA_PUBKEY_SIZE);
        return TC_OK;
    }
    if (transport_error(rc)) {
        return rc;
    }
    TC_LOG(TC_LOG_INFO, "%s: no Trust&GO certificates (%s%s%s); "
           "presenting the keys only", t->transport, tc_strerror(rc),
           d->text[0] ? ": " : "", d->text);
    tc_detail_clear(d);
    rc = tc_se_read_serial(t->se, t->sn, d);
    if (rc == TC_OK) {
        rc = tc_se_pubkey(t->se, P11_KEY_SLOT, t->pub, d);
    }
    return rc;
}

CK_RV
p11_token_connect(struct p11_token *t)
{
    struct tc_identity *id = NULL;
    struct tc_detail d;
    int has_certs = 0;
    CK_RV rv = CKR_TOKEN_NOT_PRESENT;
    int rc;

    if (t->se != NULL) {
        return CKR_OK;
    }
    tc_detail_clear(&d);
    rc = tc_se_open(t->transport, &t->se, &d);
    if (rc != TC_OK) {
        TC_LOG(TC_LOG_DEBUG, "%s: %s: %s", t->transport, tc_strerror(rc),
               d.text);
        return CKR_TOKEN_NOT_PRESENT;
    }
    id = calloc(1, sizeof(*id));
    if (id == NULL) {
        rv = CKR_HOST_MEMORY;
        goto cleanup;
    }
    rc = tc_se_info(t->se, t->rev, &d);
    if (rc == TC_OK) {
        rc = read_identity(t, id, &has_certs, &d);
    }
    if (rc != TC_OK) {
        TC_LOG(TC_LOG_WARNING, "%s: chip unusable: %s%s%s", t->transport,
               tc_strerror(rc), d.text[0] ? ": " : "", d.text);
        goto cleanup;
    }
    tc_hex_encode(t->sn, TC_ATCA_SN_SIZE, t->sn_hex, 1);
    t->pkey = pubkey_from_xy(t->pub);
    if (t->pkey == NULL) {
        TC_LOG(TC_LOG_WARNING, "%s: slot %d public key is not a P-256 point",
               t->transport, P11_KEY_SLOT);
        goto cleanup;
    }
    rv = build_objects(t, has_certs ? id->device_der : NULL,
                       has_certs ? id->device_len : 0,
                       has_certs ? id->signer_der : NULL,
                       has_certs ? id->signer_len : 0);
    if (rv == CKR_OK) {
        TC_LOG(TC_LOG_DEBUG, "%s: token %s%s", t->transport, t->sn_hex,
               has_certs ? " with certificates" : "");
    }

cleanup:
    free(id);
    if (rv != CKR_OK) {
        p11_token_clear(t);
    }
    return rv;
}

CK_RV
p11_token_failed(struct p11_token *t, const char *what, int rc,
                 const struct tc_detail *d)
{
    if (!transport_error(rc)) {
        TC_LOG(TC_LOG_ERROR, "token %s: %s: %s%s%s", t->sn_hex, what,
               tc_strerror(rc), d->text[0] ? ": " : "", d->text);
        return CKR_DEVICE_ERROR;
    }
    TC_LOG(TC_LOG_ERROR, "token %s (%s): %s: chip lost: %s%s%s; its "
           "sessions are closed, new sessions reconnect",
           t->sn_hex, t->transport, what, tc_strerror(rc),
           d->text[0] ? ": " : "", d->text);
    p11_token_clear(t);
    atomic_fetch_add(&t->generation, 1);
    return CKR_DEVICE_REMOVED;
}

CK_RV
p11_token_probe(struct p11_token *t)
{
    struct tc_detail d;
    uint8_t rev[4];
    int rc;

    if (t->se != NULL) {
        tc_detail_clear(&d);
        rc = tc_se_info(t->se, rev, &d);
        if (rc != TC_OK) {
            (void)p11_token_failed(t, "probe", rc, &d);
        }
    }
    return p11_token_connect(t);
}

/* ---- objects ---- */

struct p11_object *
p11_object_get(struct p11_module *m, CK_OBJECT_HANDLE h, CK_SLOT_ID slot)
{
    CK_ULONG kind = h % 8;
    struct p11_token *t;

    if (h / 8 != slot || slot >= m->ntokens || kind == 0 ||
        kind >= P11_KINDS) {
        return NULL;
    }
    t = &m->tokens[slot];
    return t->obj[kind].present ? &t->obj[kind] : NULL;
}

const struct p11_attr *
p11_object_attr(const struct p11_object *o, CK_ATTRIBUTE_TYPE type)
{
    size_t i;

    for (i = 0; i < o->nattr; i++) {
        if (o->attr[i].type == type) {
            return &o->attr[i];
        }
    }
    return NULL;
}

/*
 * Look up the session and its token, and take the token lock; on success
 * the caller unlocks the token. The module lock is released either way.
 */
static CK_RV
session_token(struct p11_module *m, CK_SESSION_HANDLE h,
              struct p11_session **s, struct p11_token **t)
{
    CK_RV rv;

    p11_lock(m);
    rv = p11_session_get(m, h, s);
    if (rv == CKR_OK) {
        *t = &m->tokens[(*s)->slot];
    }
    p11_unlock(m);
    if (rv == CKR_OK) {
        p11_token_lock(m, *t);
    }
    return rv;
}

CK_RV
C_GetAttributeValue(CK_SESSION_HANDLE h, CK_OBJECT_HANDLE obj,
                    CK_ATTRIBUTE_PTR tmpl, CK_ULONG count)
{
    struct p11_module *m = p11_module();
    struct p11_session *s;
    struct p11_token *t;
    struct p11_object *o;
    CK_ULONG i;
    CK_RV rv;

    if (m == NULL) {
        return CKR_CRYPTOKI_NOT_INITIALIZED;
    }
    if (tmpl == NULL && count > 0) {
        return CKR_ARGUMENTS_BAD;
    }
    rv = session_token(m, h, &s, &t);
    if (rv != CKR_OK) {
        return rv;
    }
    o = p11_object_get(m, obj, t - m->tokens);
    if (o == NULL) {
        p11_token_unlock(m, t);
        return CKR_OBJECT_HANDLE_INVALID;
    }

    /* Every attribute is answered; the return code is the last problem. */
    for (i = 0; i < count; i++) {
        const struct p11_attr *a = p11_object_attr(o, tmpl[i].type);

        if (a == NULL) {
            tmpl[i].ulValueLen = CK_UNAVAILABLE_INFORMATION;
            rv = CKR_ATTRIBUTE_TYPE_INVALID;
        } else if (a->sensitive) {
            tmpl[i].ulValueLen = CK_UNAVAILABLE_INFORMATION;
            rv = CKR_ATTRIBUTE_SENSITIVE;
        } else if (tmpl[i].pValue == NULL) {
            tmpl[i].ulValueLen = a->len;
        } else if (tmpl[i].ulValueLen < a->len) {
            tmpl[i].ulValueLen = CK_UNAVAILABLE_INFORMATION;
            rv = CKR_BUFFER_TOO_SMALL;
        } else {
            if (a->len > 0) {
                memcpy(tmpl[i].pValue, a->value, a->len);
            }
            tmpl[i].ulValueLen = a->len;
        }
    }
    p11_token_unlock(m, t);
    return rv;
}

CK_RV
C_GetObjectSize(CK_SESSION_HANDLE h, CK_OBJECT_HANDLE obj, CK_ULONG_PTR size)
{
    struct p11_module *m = p11_module();
    struct p11_session *s;
    struct p11_token *t;
    struct p11_object *o;
    CK_ULONG n = 0;
    size_t i;
    CK_RV rv;

    if (m == NULL) {
        return CKR_CRYPTOKI_NOT_INITIALIZED;
    }
    if (size == NULL) {
        return CKR_ARGUMENTS_BAD;
    }
    rv = session_token(m, h, &s, &t);
    if (rv != CKR_OK) {
        return rv;
    }
    o = p11_object_get(m, obj, t - m->tokens);
    if (o == NULL) {
        rv = CKR_OBJECT_HANDLE_INVALID;
    } else {
        for (i = 0; i < o->nattr; i++) {
            n += o->attr[i].len;
        }
        *size = n;
    }
    p11_token_unlock(m, t);
    return rv;
}

/* Whether o has every attribute of tmpl with exactly that value. */
static int
matches(const struct p11_object *o, const CK_ATTRIBUTE *tmpl, CK_ULONG count)
{
    CK_ULONG i;

    for (i = 0; i < count; i++) {
        const struct p11_attr *a = p11_object_attr(o, tmpl[i].type);

        if (a == NULL || a->sensitive || a->len != tmpl[i].ulValueLen) {
            return 0;
        }
        if (a->len > 0 &&
            (tmpl[i].pValue == NULL ||
             memcmp(a->value, tmpl[i].pValue, a->len) != 0)) {
            return 0;
        }
    }
    return 1;
}

CK_RV
C_FindObjectsInit(CK_SESSION_HANDLE h, CK_ATTRIBUTE_PTR tmpl, CK_ULONG count)
{
    struct p11_module *m = p11_module();
    CK_OBJECT_HANDLE found[P11_KINDS];
    struct p11_session *s;
    struct p11_token *t;
    CK_SLOT_ID slot;
    size_t n = 0;
    size_t k;
    CK_RV rv;

    if (m == NULL) {
        return CKR_CRYPTOKI_NOT_INITIALIZED;
    }
    if (tmpl == NULL && count > 0) {
        return CKR_ARGUMENTS_BAD;
    }
    rv = session_token(m, h, &s, &t);
    if (rv != CKR_OK) {
        return rv;
    }
    slot = (CK_SLOT_ID)(t - m->tokens);
    for (k = 1; k < P11_KINDS; k++) {
        if (t->obj[k].present && matches(&t->obj[k], tmpl, count)) {
            found[n++] = slot * 8 + k;
        }
    }
    p11_token_unlock(m, t);

    p11_lock(m);
    rv = p11_session_get(m, h, &s);
    if (rv == CKR_OK && s->find_active) {
        rv = CKR_OPERATION_ACTIVE;
    } else if (rv == CKR_OK) {
        s->find_active = 1;
        memcpy(s->found, found, n * sizeof(found[0]));
        s->nfound = n;
        s->found_pos = 0;
    }
    p11_unlock(m);
    return rv;
}

CK_RV
C_FindObjects(CK_SESSION_HANDLE h, CK_OBJECT_HANDLE_PTR out, CK_ULONG max,
              CK_ULONG_PTR count)
{
    struct p11_module *m = p11_module();
    struct p11_session *s;
    CK_ULONG n = 0;
    CK_RV rv;

    if (m == NULL) {
        return CKR_CRYPTOKI_NOT_INITIALIZED;
    }
    if ((out == NULL && max > 0) || count == NULL) {
        return CKR_ARGUMENTS_BAD;
    }
    p11_lock(m);
    rv = p11_session_get(m, h, &s);
    if (rv == CKR_OK && !s->find_active) {
        rv = CKR_OPERATION_NOT_INITIALIZED;
    }
    if (rv == CKR_OK) {
        while (n < max && s->found_pos < s->nfound) {
            out[n++] = s->found[s->found_pos++];
        }
        *count = n;
    }
    p11_unlock(m);
    return rv;
}

CK_RV
C_FindObjectsFinal(CK_SESSION_HANDLE h)
{
    struct p11_module *m = p11_module();
    struct p11_session *s;
    CK_RV rv;

    if (m == NULL) {
        return CKR_CRYPTOKI_NOT_INITIALIZED;
    }
    p11_lock(m);
    rv = p11_session_get(m, h, &s);
    if (rv == CKR_OK && !s->find_active) {
        rv = CKR_OPERATION_NOT_INITIALIZED;
    }
    if (rv == CKR_OK) {
        s->find_active = 0;
        s->nfound = 0;
    }
    p11_unlock(m);
    return rv;
}
