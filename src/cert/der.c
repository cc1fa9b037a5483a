// SPDX-License-Identifier: Apache-2.0
/*
 * The strict DER certificate reader of der.h. It walks the certificate
 * once, checking every tag and length against its parent, and keeps
 * pointers to the fields a verifier needs. It decodes no public key into
 * OpenSSL objects and verifies no signature; callers do that with the
 * spans it returns.
 *
 * Grammar accepted (RFC 5280 section 4.1, X.690 DER; only P-256 ECDSA):
 *   Certificate  ::= SEQUENCE { tbsCertificate TBSCertificate,
 *                               signatureAlgorithm AlgorithmIdentifier,
 *                               signatureValue BIT STRING }
 *   TBSCertificate ::= SEQUENCE {
 *       version         [0] EXPLICIT INTEGER (v3 = 2) -- or absent (v1)
 *       serialNumber    INTEGER,
 *       signature       AlgorithmIdentifier,   -- = signatureAlgorithm
 *       issuer          Name,
 *       validity        SEQUENCE { notBefore Time, notAfter Time },
 *       subject         Name,
 *       subjectPublicKeyInfo SEQUENCE { algorithm AlgorithmIdentifier,
 *                                       subjectPublicKey BIT STRING },
 *       issuerUniqueID  [1] IMPLICIT BIT STRING OPTIONAL,  -- skipped
 *       subjectUniqueID [2] IMPLICIT BIT STRING OPTIONAL,  -- skipped
 *       extensions      [3] EXPLICIT SEQUENCE SIZE (1..MAX) OF Extension
 *                       -- v3 only }
 *   Time         ::= UTCTime | GeneralizedTime
 *   Name         ::= SEQUENCE OF SET SIZE (1..MAX) OF
 *                    SEQUENCE { type OBJECT IDENTIFIER, value ANY }
 *   Extension    ::= SEQUENCE { extnID OBJECT IDENTIFIER,
 *                               critical BOOLEAN DEFAULT FALSE,
 *                               extnValue OCTET STRING }
 *   BasicConstraints ::= SEQUENCE { cA BOOLEAN DEFAULT FALSE,
 *                                   pathLenConstraint INTEGER OPTIONAL }
 *   KeyUsage     ::= BIT STRING
 *   SubjectKeyIdentifier ::= OCTET STRING
 *   AuthorityKeyIdentifier ::= SEQUENCE {
 *       keyIdentifier [0] IMPLICIT OCTET STRING OPTIONAL,
 *       authorityCertIssuer [1] IMPLICIT GeneralNames OPTIONAL,
 *       authorityCertSerialNumber [2] IMPLICIT INTEGER OPTIONAL }
 *   ECDSA-Sig-Value ::= SEQUENCE { r INTEGER, s INTEGER }  (RFC 5480)
 * with, for P-256 (RFC 5480, RFC 5758), these exact encodings:
 *   AlgorithmIdentifier ecdsa-with-SHA256: 30 0a 06 08 2a 86 48 ce 3d 04
 *       03 02 (no parameters)
 *   SubjectPublicKeyInfo: 30 59 30 13 06 07 2a 86 48 ce 3d 02 01 06 08 2a
 *       86 48 ce 3d 03 01 07 03 42 00 04 || X || Y
 */
#include <string.h>

#include "thingcore/der.h"

/* Universal tags used here. */
#define T_BOOLEAN 0x01
#define T_INTEGER 0x02
#define T_BIT_STRING 0x03
#define T_OCTET_STRING 0x04
#define T_OID 0x06
#define T_UTF8 0x0c
#define T_PRINTABLE 0x13
#define T_T61 0x14
#define T_IA5 0x16
#define T_UTCTIME 0x17
#define T_GENTIME 0x18
#define T_SEQUENCE 0x30
#define T_SET 0x31

static const uint8_t ALG_ECDSA_SHA256[] = {0x30, 0x0a, 0x06, 0x08, 0x2a,
                                           0x86, 0x48, 0xce, 0x3d, 0x04,
                                           0x03, 0x02};
static const uint8_t SPKI_P256_PREFIX[] = {
    0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d,
    0x02, 0x01, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01,
    0x07, 0x03, 0x42, 0x00, 0x04};

/* Attribute types (2.5.4.x) and extensions (2.5.29.x), content only. */
static const uint8_t OID_CN[] = {0x55, 0x04, 0x03};
static const uint8_t OID_SERIAL[] = {0x55, 0x04, 0x05};
static const uint8_t OID_SKI[] = {0x55, 0x1d, 0x0e};
static const uint8_t OID_KU[] = {0x55, 0x1d, 0x0f};
static const uint8_t OID_SAN[] = {0x55, 0x1d, 0x11};
static const uint8_t OID_BC[] = {0x55, 0x1d, 0x13};
static const uint8_t OID_AKI[] = {0x55, 0x1d, 0x23};
static const uint8_t OID_EKU[] = {0x55, 0x1d, 0x25};

/* Where the reader is: [p, end) inside the buffer that starts at base. */
struct rd {
    const uint8_t *base;
    const uint8_t *p;
    const uint8_t *end;
    struct tc_detail *d;
};

/* One element read: its tag, content and whole encoding. */
struct tlv {
    int tag;
    struct tc_der_span c;
    struct tc_der_span all;
};

static int
bad(struct rd *r, const uint8_t *at, int code, const char *field,
    const char *why)
{
    long off = (long)(at - r->base);

    return tc_detail_set(r->d, code, off, field, "%s at byte %ld: %s", field,
                         off, why);
}

/*
 * The next element of r. Tags are one byte (no high tag numbers in a
 * certificate); lengths definite and minimal, and within r's end.
 */
static int
next(struct rd *r, struct tlv *t, const char *field)
{
    const uint8_t *start = r->p;
    const uint8_t *p = r->p;
    size_t len;
    size_t k;

    memset(t, 0, sizeof(*t));
    if (r->end - p < 2) {
        return bad(r, start, TC_ERR_PARSE, field, "truncated");
    }
    t->tag = p[0];
    if ((t->tag & 0x1f) == 0x1f) {
        return bad(r, start, TC_ERR_PARSE, field, "high tag number");
    }
    len = p[1];
    p += 2;
    if (len & 0x80) {
        k = len & 0x7f;

        /* Long form: 1-3 length bytes, no leading zero, at least 128. */
        if (k == 0 || k > 3 || (size_t)(r->end - p) < k || p[0] == 0) {
            return bad(r, start, TC_ERR_PARSE, field, "bad length");
        }
        len = 0;
        while (k-- > 0) {
            len = (len << 8) | *p++;
        }
        if (len < 0x80) {
            return bad(r, start, TC_ERR_PARSE, field, "length not minimal");
        }
    }
    if ((size_t)(r->end - p) < len) {
        return bad(r, start, TC_ERR_PARSE, field,
                   "length runs past its container");
    }
    t->c.p = p;
    t->c.n = len;
    t->all.p = start;
    t->all.n = (size_t)(p - start) + len;
    r->p = p + len;
    return TC_OK;
}

/* The next element, which must carry tag. */
static int
expect(struct rd *r, int tag, struct tlv *t, const char *field)
{
    const uint8_t *at = r->p;
    int rc = next(r, t, field);

    if (rc == TC_OK && t->tag != tag) {
        return bad(r, at, TC_ERR_PARSE, field, "unexpected tag");
    }
    return rc;
}

/* A reader over the content of t. */
static struct rd
inside(const struct rd *r, const struct tlv *t)
{
    struct rd in = {r->base, t->c.p, t->c.p + t->c.n, r->d};

    return in;
}

static int
peek(const struct rd *r)
{
    return r->p < r->end ? r->p[0] : -1;
}

/* A DER INTEGER's content: non-empty and minimal. */
static int
integer_ok(const struct tc_der_span *c)
{
    if (c->n == 0) {
        return 0;
    }
    if (c->n > 1 && ((c->p[0] == 0x00 && c->p[1] < 0x80) ||
                     (c->p[0] == 0xff && c->p[1] >= 0x80))) {
        return 0;
    }
    return 1;
}

static int
span_is(const struct tc_der_span *s, const uint8_t *v, size_t n)
{
    return s->n == n && memcmp(s->p, v, n) == 0;
}

/* Days since 1970-01-01 of a proleptic Gregorian date. */
static int64_t
days_from_civil(int64_t y, int m, int d)
{
    int64_t era;
    int64_t yoe;
    int64_t doy;
    int64_t doe;

    y -= m <= 2;
    era = (y >= 0 ? y : y - 399) / 400;
    yoe = y - era * 400;
    doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

/* n decimal digits at s, or -1. */
static int
digits(const uint8_t *s, int n)
{
    int v = 0;
    int i;

    for (i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') {
            return -1;
        }
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

int
tc_der_time(int tag, const uint8_t *s, size_t n, int64_t *t)
{
    static const int mdays[12] = {31, 29, 31, 30, 31, 30,
                                  31, 31, 30, 31, 30, 31};
    int y;
    int mo;
    int dd;
    int h;
    int mi;
    int se;
    int leap;

    /* UTCTime YYMMDDHHMMSSZ (RFC 5280: YY < 50 is 20YY), else 4 digits. */
    if (tag == T_UTCTIME && n == 13) {
        y = digits(s, 2);
        y = y < 0 ? -1 : (y < 50 ? 2000 + y : 1900 + y);
        s += 2;
    } else if (tag == T_GENTIME && n == 15) {
        y = digits(s, 4);
        s += 4;
    } else {
        return -1;
    }
    mo = digits(s, 2);
    dd = digits(s + 2, 2);
    h = digits(s + 4, 2);
    mi = digits(s + 6, 2);
    se = digits(s + 8, 2);
    if (y < 0 || s[10] != 'Z' || mo < 1 || mo > 12 || dd < 1 || h < 0 ||
        h > 23 || mi < 0 || mi > 59 || se < 0 || se > 59) {
        return -1;
    }
    leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if (dd > mdays[mo - 1] || (mo == 2 && dd == 29 && !leap)) {
        return -1;
    }
    *t = days_from_civil(y, mo, dd) * 86400 + h * 3600 + mi * 60 + se;
    return 0;
}

static int
read_time(struct rd *r, int64_t *t, const char *field)
{
    struct tlv e;
    int rc = next(r, &e, field);

    if (rc != TC_OK) {
        return rc;
    }
    if (tc_der_time(e.tag, e.c.p, e.c.n, t) != 0) {
        return bad(r, e.all.p, TC_ERR_PARSE, field,
                   "not a UTCTime or GeneralizedTime in Z form");
    }
    return TC_OK;
}

/*
 * A Name: every RDN a non-empty SET of (OID, value) sequences. The first
 * CN and serialNumber string values are kept.
 */
static int
read_name(struct rd *r, struct tlv *name, struct tc_der_span *cn,
          struct tc_der_span *serial, const char *field)
{
    struct tlv set;
    struct tlv atv;
    struct tlv oid;
    struct tlv val;
    struct rd in;
    struct rd sin;
    struct rd ain;
    int rc = expect(r, T_SEQUENCE, name, field);

    if (rc != TC_OK) {
        return rc;
    }
    in = inside(r, name);
    while (rc == TC_OK && in.p < in.end) {
        rc = expect(&in, T_SET, &set, field);
        if (rc == TC_OK && set.c.n == 0) {
            rc = bad(r, set.all.p, TC_ERR_PARSE, field, "empty RDN");
        }
        sin = inside(&in, &set);
        while (rc == TC_OK && sin.p < sin.end) {
            rc = expect(&sin, T_SEQUENCE, &atv, field);
            ain = inside(&sin, &atv);
            if (rc == TC_OK) {
                rc = expect(&ain, T_OID, &oid, field);
            }
            if (rc == TC_OK) {
                rc = next(&ain, &val, field);
            }
            if (rc == TC_OK && (ain.p != ain.end || oid.c.n == 0)) {
                rc = bad(r, atv.all.p, TC_ERR_PARSE, field,
                         "attribute is not one type and one value");
            }
            if (rc != TC_OK) {
                break;
            }
            if (cn != NULL && cn->n == 0 &&
                span_is(&oid.c, OID_CN, sizeof(OID_CN))) {
                *cn = val.c;
            } else if (serial != NULL && serial->n == 0 &&
                       span_is(&oid.c, OID_SERIAL, sizeof(OID_SERIAL))) {
                *serial = val.c;
            } else {
                continue;
            }
            if (val.tag != T_UTF8 && val.tag != T_PRINTABLE &&
                val.tag != T_T61 && val.tag != T_IA5) {
                rc = bad(r, val.all.p, TC_ERR_PARSE, field,
                         "CN or serialNumber is not a string");
            }
        }
    }
    return rc;
}

/* ECDSA-Sig-Value into rs: two positive minimal INTEGERs of <= 32 bytes. */
static int
read_sig(struct rd *r, const struct tlv *bits, struct tc_der_cert *c)
{
    struct rd in;
    struct rd sin;
    struct tlv seq;
    struct tlv v;
    int i;
    int rc;

    if (bits->c.n < 1 || bits->c.p[0] != 0) {
        return bad(r, bits->all.p, TC_ERR_PARSE, "signatureValue",
                   "unused bits in the signature BIT STRING");
    }
    in.base = r->base;
    in.p = bits->c.p + 1;
    in.end = bits->c.p + bits->c.n;
    in.d = r->d;
    rc = expect(&in, T_SEQUENCE, &seq, "signatureValue");
    if (rc == TC_OK && in.p != in.end) {
        rc = bad(r, in.p, TC_ERR_PARSE, "signatureValue",
                 "bytes after the ECDSA-Sig-Value");
    }
    sin = inside(&in, &seq);
    for (i = 0; rc == TC_OK && i < 2; i++) {
        const uint8_t *q;
        size_t n;

        rc = expect(&sin, T_INTEGER, &v, "signatureValue");
        if (rc != TC_OK) {
            break;
        }
        q = v.c.p;
        n = v.c.n;
        if (!integer_ok(&v.c) || (q[0] & 0x80) != 0) {
            return bad(r, v.all.p, TC_ERR_PARSE, "signatureValue",
                       "r or s is not a minimal positive INTEGER");
        }
        if (n > 1 && q[0] == 0) {
            q++;
            n--;
        }
        if (n > 32 || (n == 1 && q[0] == 0)) {
            return bad(r, v.all.p, TC_ERR_PARSE, "signatureValue",
                       "r or s is zero or wider than 32 bytes");
        }
        memset(c->sig_rs + 32 * i, 0, 32 - n);
        memcpy(c->sig_rs + 32 * i + 32 - n, q, n);
    }
    if (rc == TC_OK && sin.p != sin.end) {
        rc = bad(r, sin.p, TC_ERR_PARSE, "signatureValue",
                 "bytes after s");
    }
    c->sig = seq.all;
    return rc;
}

/* The value of one extension the reader understands. */
static int
read_ext_value(struct rd *r, const struct tc_der_span *id,
               const struct tlv *oct, struct tc_der_cert *c, int *known)
{
    struct rd in = {r->base, oct->c.p, oct->c.p + oct->c.n, r->d};
    struct rd sin;
    struct tlv v;
    struct tlv e;
    int rc = TC_OK;
    size_t i;

    *known = 1;
    if (span_is(id, OID_BC, sizeof(OID_BC))) {
        rc = expect(&in, T_SEQUENCE, &v, "basicConstraints");
        sin = inside(&in, &v);
        if (rc == TC_OK && peek(&sin) == T_BOOLEAN) {
            rc = next(&sin, &e, "basicConstraints");
            if (rc == TC_OK && (e.c.n != 1 || (e.c.p[0] != 0 &&
                                               e.c.p[0] != 0xff))) {
                return bad(r, e.all.p, TC_ERR_PARSE, "basicConstraints",
                           "cA is not a DER BOOLEAN");
            }
            c->is_ca = rc == TC_OK && e.c.p[0] == 0xff;
        }
        if (rc == TC_OK && peek(&sin) == T_INTEGER) {
            rc = next(&sin, &e, "basicConstraints");
            if (rc == TC_OK && !integer_ok(&e.c)) {
                return bad(r, e.all.p, TC_ERR_PARSE, "basicConstraints",
                           "pathLenConstraint is not an INTEGER");
            }
        }
        if (rc == TC_OK && sin.p != sin.end) {
            return bad(r, sin.p, TC_ERR_PARSE, "basicConstraints",
                       "unexpected member");
        }
        c->has_basic_constraints = 1;
    } else if (span_is(id, OID_KU, sizeof(OID_KU))) {
        rc = expect(&in, T_BIT_STRING, &v, "keyUsage");
        if (rc == TC_OK && (v.c.n < 2 || v.c.n > 3 || v.c.p[0] > 7)) {
            return bad(r, v.all.p, TC_ERR_PARSE, "keyUsage",
                       "not a BIT STRING of 1 or 2 bytes");
        }
        for (i = 0; rc == TC_OK && i < 16 && i / 8 + 1 < v.c.n; i++) {
            if (v.c.p[1 + i / 8] & (0x80 >> (i % 8))) {
                c->key_usage |= 1u << i;
            }
        }
        c->has_key_usage = 1;
    } else if (span_is(id, OID_SKI, sizeof(OID_SKI))) {
        rc = expect(&in, T_OCTET_STRING, &v, "subjectKeyIdentifier");
        c->ski = v.c;
    } else if (span_is(id, OID_AKI, sizeof(OID_AKI))) {
        rc = expect(&in, T_SEQUENCE, &v, "authorityKeyIdentifier");
        sin = inside(&in, &v);
        while (rc == TC_OK && sin.p < sin.end) {
            rc = next(&sin, &e, "authorityKeyIdentifier");
            if (rc == TC_OK && e.tag == 0x80) {
                c->aki = e.c;
            }
        }
    } else if (!span_is(id, OID_EKU, sizeof(OID_EKU)) &&
               !span_is(id, OID_SAN, sizeof(OID_SAN))) {
        *known = 0;
        return TC_OK;
    } else {
        /* extKeyUsage and subjectAltName: one element, not looked into. */
        rc = next(&in, &v, "extension");
    }
    if (rc == TC_OK && in.p != in.end) {
        rc = bad(r, in.p, TC_ERR_PARSE, "extension",
                 "bytes after the extension value");
    }
    return rc;
}

/* [3] EXPLICIT Extensions: known ones read, duplicates refused. */
static int
read_extensions(struct rd *r, const struct tlv *ctx3, struct tc_der_cert *c)
{
    struct rd in = inside(r, ctx3);
    struct rd lin;
    struct rd ein;
    struct tlv list;
    struct tlv ext;
    struct tlv oid;
    struct tlv crit;
    struct tlv oct;
    struct tc_der_span seen[32];
    size_t nseen = 0;
    size_t i;
    int known;
    int rc = expect(&in, T_SEQUENCE, &list, "extensions");

    if (rc == TC_OK && (in.p != in.end || list.c.n == 0)) {
        return bad(r, ctx3->all.p, TC_ERR_PARSE, "extensions",
                   "not one non-empty SEQUENCE");
    }
    lin = inside(&in, &list);
    while (rc == TC_OK && lin.p < lin.end) {
        int critical = 0;

        rc = expect(&lin, T_SEQUENCE, &ext, "extension");
        ein = inside(&lin, &ext);
        if (rc == TC_OK) {
            rc = expect(&ein, T_OID, &oid, "extension");
        }
        if (rc == TC_OK && peek(&ein) == T_BOOLEAN) {
            rc = next(&ein, &crit, "extension");
            if (rc == TC_OK && (crit.c.n != 1 || (crit.c.p[0] != 0 &&
                                                  crit.c.p[0] != 0xff))) {
                return bad(r, crit.all.p, TC_ERR_PARSE, "extension",
                           "critical is not a DER BOOLEAN");
            }
            critical = rc == TC_OK && crit.c.p[0] == 0xff;
        }
        if (rc == TC_OK) {
            rc = expect(&ein, T_OCTET_STRING, &oct, "extension");
        }
        if (rc == TC_OK && (ein.p != ein.end || oid.c.n == 0)) {
            rc = bad(r, ext.all.p, TC_ERR_PARSE, "extension",
                     "not (extnID, critical, extnValue)");
        }
        if (rc != TC_OK) {
            break;
        }

        /* RFC 5280 4.2: at most one instance of an extension. */
        for (i = 0; i < nseen; i++) {
            if (span_is(&seen[i], oid.c.p, oid.c.n)) {
                return bad(r, ext.all.p, TC_ERR_PARSE, "extension",
                           "the same extension twice");
            }
        }
        if (nseen == sizeof(seen) / sizeof(seen[0])) {
            return bad(r, ext.all.p, TC_ERR_PARSE, "extension",
                       "more than 32 extensions");
        }
        seen[nseen++] = oid.c;
        rc = read_ext_value(r, &oid.c, &oct, c, &known);
        if (rc == TC_OK && critical && !known) {
            rc = bad(r, ext.all.p, TC_ERR_UNSUPPORTED, "extension",
                     "unknown critical extension");
        }
    }
    return rc;
}

int
tc_der_cert_parse(const uint8_t *der, size_t n, struct tc_der_cert *c,
                  struct tc_detail *d)
{
    struct rd r = {der, der, der + n, d};
    struct rd cin;
    struct rd tin;
    struct rd vin;
    struct tlv cert;
    struct tlv tbs;
    struct tlv e;
    struct tlv alg;
    struct tlv bits;
    int rc = TC_ERR_INTERNAL;

    memset(c, 0, sizeof(*c));
    if (n > TC_DER_CERT_MAX) {
        return tc_detail_set(d, TC_ERR_TOO_BIG, 0, "certificate",
                             "certificate larger than %d bytes",
                             TC_DER_CERT_MAX);
    }

    /* One Certificate SEQUENCE filling the buffer. */
    rc = expect(&r, T_SEQUENCE, &cert, "certificate");
    if (rc == TC_OK && r.p != r.end) {
        return bad(&r, r.p, TC_ERR_PARSE, "certificate",
                   "bytes after the certificate");
    }
    cin = inside(&r, &cert);
    if (rc == TC_OK) {
        rc = expect(&cin, T_SEQUENCE, &tbs, "tbsCertificate");
    }
    if (rc != TC_OK) {
        return rc;
    }
    c->tbs = tbs.all;
    tin = inside(&cin, &tbs);

    /* version: v3 explicit, or absent for v1 (DER omits the default). */
    c->version = 1;
    if (peek(&tin) == 0xa0) {
        rc = next(&tin, &e, "version");
        vin = inside(&tin, &e);
        if (rc == TC_OK) {
            rc = expect(&vin, T_INTEGER, &e, "version");
        }
        if (rc == TC_OK && (vin.p != vin.end || e.c.n != 1 ||
                            e.c.p[0] != 2)) {
            return bad(&r, e.all.p, TC_ERR_UNSUPPORTED, "version",
                       "only version 3 is written explicitly");
        }
        c->version = 3;
    }
    if (rc == TC_OK) {
        rc = expect(&tin, T_INTEGER, &e, "serialNumber");
    }
    if (rc == TC_OK && (!integer_ok(&e.c) || e.c.n > 32)) {
        return bad(&r, e.all.p, TC_ERR_PARSE, "serialNumber",
                   "not a minimal INTEGER of at most 32 bytes");
    }
    c->serial = e.c;

    /* The TBS signature algorithm: ecdsa-with-SHA256, no parameters. */
    if (rc == TC_OK) {
        rc = expect(&tin, T_SEQUENCE, &alg, "signature");
    }
    if (rc == TC_OK && !span_is(&alg.all, ALG_ECDSA_SHA256,
                                sizeof(ALG_ECDSA_SHA256))) {
        return bad(&r, alg.all.p, TC_ERR_UNSUPPORTED, "signature",
                   "signature algorithm is not ecdsa-with-SHA256");
    }
    if (rc == TC_OK) {
        rc = read_name(&tin, &e, NULL, NULL, "issuer");
        c->issuer = e.all;
    }

    /* Validity. */
    if (rc == TC_OK) {
        rc = expect(&tin, T_SEQUENCE, &e, "validity");
    }
    if (rc == TC_OK) {
        vin = inside(&tin, &e);
        rc = read_time(&vin, &c->not_before, "notBefore");
        if (rc == TC_OK) {
            rc = read_time(&vin, &c->not_after, "notAfter");
        }
        if (rc == TC_OK && vin.p != vin.end) {
            rc = bad(&r, vin.p, TC_ERR_PARSE, "validity",
                     "more than two times");
        }
    }
    if (rc == TC_OK) {
        rc = read_name(&tin, &e, &c->cn, &c->serial_attr, "subject");
        c->subject = e.all;
    }

    /* The key: a P-256 point, uncompressed, in its one exact encoding. */
    if (rc == TC_OK) {
        rc = expect(&tin, T_SEQUENCE, &e, "subjectPublicKeyInfo");
    }
    if (rc == TC_OK) {
        if (e.all.n != sizeof(SPKI_P256_PREFIX) + 64 ||
            memcmp(e.all.p, SPKI_P256_PREFIX, sizeof(SPKI_P256_PREFIX)) !=
                0) {
            return bad(&r, e.all.p, TC_ERR_UNSUPPORTED,
                       "subjectPublicKeyInfo",
                       "key is not an uncompressed P-256 point");
        }
        c->point.p = e.all.p + sizeof(SPKI_P256_PREFIX) - 1;
        c->point.n = 65;
        memcpy(c->xy, c->point.p + 1, 64);
    }

    /* Unique identifiers are skipped; extensions only in v3. */
    if (rc == TC_OK && c->version == 3 && peek(&tin) == 0x81) {
        rc = next(&tin, &e, "issuerUniqueID");
    }
    if (rc == TC_OK && c->version == 3 && peek(&tin) == 0x82) {
        rc = next(&tin, &e, "subjectUniqueID");
    }
    if (rc == TC_OK && c->version == 3 && peek(&tin) == 0xa3) {
        rc = next(&tin, &e, "extensions");
        if (rc == TC_OK) {
            rc = read_extensions(&tin, &e, c);
        }
    }
    if (rc == TC_OK && tin.p != tin.end) {
        return bad(&r, tin.p, TC_ERR_PARSE, "tbsCertificate",
                   "unexpected element");
    }

    /* The outer algorithm equals the inner one; then the signature. */
    if (rc == TC_OK) {
        rc = expect(&cin, T_SEQUENCE, &alg, "signatureAlgorithm");
    }
    if (rc == TC_OK && !span_is(&alg.all, ALG_ECDSA_SHA256,
                                sizeof(ALG_ECDSA_SHA256))) {
        return bad(&r, alg.all.p, TC_ERR_UNSUPPORTED, "signatureAlgorithm",
                   "signature algorithm is not ecdsa-with-SHA256");
    }
    if (rc == TC_OK) {
        rc = expect(&cin, T_BIT_STRING, &bits, "signatureValue");
    }
    if (rc == TC_OK) {
        rc = read_sig(&cin, &bits, c);
    }
    if (rc == TC_OK && cin.p != cin.end) {
        rc = bad(&r, cin.p, TC_ERR_PARSE, "certificate",
                 "bytes after the signature");
    }
    return rc;
}
