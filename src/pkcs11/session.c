// SPDX-License-Identifier: Apache-2.0
/*
 * Sessions and what is done in them: open and close, the no-PIN login,
 * signing with CKM_ECDSA and CKM_ECDSA_SHA256, and random bytes, every
 * signature and every random byte made by the chip. A session opened
 * before its token lost the chip is closed on its next use with
 * CKR_DEVICE_REMOVED; a new session reconnects.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "p11.h"
#include "thingcore/ec.h"

/* ---- the session list (module lock held) ---- */

static struct p11_session *
find(struct p11_module *m, CK_SESSION_HANDLE h)
{
    struct p11_session *s;

    for (s = m->sessions; s != NULL; s = s->next) {
        if (s->handle == h) {
            return s;
        }
    }
    return NULL;
}

void
p11_session_free(struct p11_module *m, struct p11_session *s)
{
    struct p11_session **pp;

    for (pp = &m->sessions; *pp != NULL; pp = &(*pp)->next) {
        if (*pp == s) {
            *pp = s->next;
            m->nsessions--;
            break;
        }
    }
    EVP_MD_CTX_free(s->md);
    free(s);
}

CK_RV
p11_session_get(struct p11_module *m, CK_SESSION_HANDLE h,
                struct p11_session **out)
{
    struct p11_session *s = find(m, h);
    struct p11_token *t;

    if (s == NULL) {
        return CKR_SESSION_HANDLE_INVALID;
    }
    t = &m->tokens[s->slot];
    if (s->generation != atomic_load(&t->generation)) {
        p11_session_free(m, s);
        return CKR_DEVICE_REMOVED;
    }
    *out = s;
    return CKR_OK;
}

/* Whether any session of slot remains (module lock held). */
static int
slot_has_sessions(struct p11_module *m, CK_SLOT_ID slot)
{
    const struct p11_session *s;

    for (s = m->sessions; s != NULL; s = s->next) {
        if (s->slot == slot) {
            return 1;
        }
    }
    return 0;
}

/* ---- opening and closing ---- */

CK_RV
C_OpenSession(CK_SLOT_ID slot, CK_FLAGS flags, CK_VOID_PTR app,
              CK_NOTIFY notify, CK_SESSION_HANDLE_PTR out)
{
    struct p11_module *m = p11_module();
    struct p11_session *s;
    struct p11_token *t;
    unsigned long gen;
    CK_RV rv;

    if (m == NULL) {
        return CKR_CRYPTOKI_NOT_INITIALIZED;
    }
    if (slot >= m->ntokens) {
        return CKR_SLOT_ID_INVALID;
    }
    if (!(flags & CKF_SERIAL_SESSION)) {
        return CKR_SESSION_PARALLEL_NOT_SUPPORTED;
    }
    if (out == NULL) {
        return CKR_ARGUMENTS_BAD;
    }

    /* Nothing on the token can be written, so no read-write session. */
    if (flags & CKF_RW_SESSION) {
        return CKR_TOKEN_WRITE_PROTECTED;
    }

    /* A chip that stopped answering is reconnected here, not later. */
    t = &m->tokens[slot];
    p11_token_lock(m, t);
    rv = p11_token_probe(t);
    gen = atomic_load(&t->generation);
    p11_token_unlock(m, t);
    if (rv != CKR_OK) {
        return rv;
    }

    s = calloc(1, sizeof(*s));
    if (s == NULL) {
        return CKR_HOST_MEMORY;
    }
    s->slot = slot;
    s->flags = CKF_SERIAL_SESSION;
    s->generation = gen;
    p11_lock(m);
    if (m->nsessions >= P11_MAX_SESSIONS) {
        p11_unlock(m);
        free(s);
        return CKR_SESSION_COUNT;
    }
    s->handle = m->next_handle++;
    s->next = m->sessions;
    m->sessions = s;
    m->nsessions++;
    *out = s->handle;
    p11_unlock(m);
    return CKR_OK;
}

CK_RV
C_CloseSession(CK_SESSION_HANDLE h)
{
    struct p11_module *m = p11_module();
    struct p11_session *s;
    CK_SLOT_ID slot;

    if (m == NULL) {
        return CKR_CRYPTOKI_NOT_INITIALIZED;
    }
    p11_lock(m);

    /* A session of a lost chip closes without complaint. */
    s = find(m, h);
    if (s == NULL) {
        p11_unlock(m);
        return CKR_SESSION_HANDLE_INVALID;
    }
    slot = s->slot;
    p11_session_free(m, s);
    if (!slot_has_sessions(m, slot)) {
        m->tokens[slot].logged_in = 0;
    }
    p11_unlock(m);
    return CKR_OK;
}

CK_RV
C_CloseAllSessions(CK_SLOT_ID slot)
{
    struct p11_module *m = p11_module();
    struct p11_session *s;
    struct p11_session *next;

    if (m == NULL) {
        return CKR_CRYPTOKI_NOT_INITIALIZED;
    }
    if (slot >= m->ntokens) {
        return CKR_SLOT_ID_INVALID;
    }
    p11_lock(m);
    for (s = m->sessions; s != NULL; s = next) {
        next = s->next;
        if (s->slot == slot) {
            p11_session_free(m, s);
        }
    }
    m->tokens[slot].logged_in = 0;
    p11_unlock(m);
    return CKR_OK;
}

CK_RV
C_GetSessionInfo(CK_SESSION_HANDLE h, CK_SESSION_INFO_PTR info)
{
    struct p11_module *m = p11_module();
    struct p11_session *s;
    CK_RV rv;

    if (m == NULL) {
        return CKR_CRYPTOKI_NOT_INITIALIZED;
    }
    if (info == NULL) {
        return CKR_ARGUMENTS_BAD;
    }
    p11_lock(m);
    rv = p11_session_get(m, h, &s);
    if (rv == CKR_OK) {
        int user = m->tokens[s->slot].logged_in;

        memset(info, 0, sizeof(*info));
        info->slotID = s->slot;
        info->flags = s->flags;
        if (s->flags & CKF_RW_SESSION) {
            info->state = user ? CKS_RW_USER_FUNCTIONS : CKS_RW_PUBLIC_SESSION;
        } else {
            info->state = user ? CKS_RO_USER_FUNCTIONS : CKS_RO_PUBLIC_SESSION;
        }
        info->ulDeviceError = 0;
    }
    p11_unlock(m);
    return rv;
}

/* ---- login: the chip has no PIN ---- */

/*
 * The token does not require a login (no CKF_LOGIN_REQUIRED), but tools
 * that log in anyway must not fail: a user login is accepted whatever
 * the PIN, since there is nothing to check it against. Who may sign is
 * decided by who may reach the chip's transport.
 */
CK_RV
C_Login(CK_SESSION_HANDLE h, CK_USER_TYPE user, CK_UTF8CHAR_PTR pin,
        CK_ULONG pin_len)
{
    struct p11_module *m = p11_module();
    struct p11_session *s;
    struct p11_token *t;
    CK_RV rv;

    if (m == NULL) {
        return CKR_CRYPTOKI_NOT_INITIALIZED;
    }
    p11_lock(m);
    rv = p11_session_get(m, h, &s);
    if (rv == CKR_OK) {
        t = &m->tokens[s->slot];
        if (user != CKU_USER && user != CKU_CONTEXT_SPECIFIC) {
            rv = CKR_USER_TYPE_INVALID;
        } else if (user == CKU_USER && t->logged_in) {
            rv = CKR_USER_ALREADY_LOGGED_IN;
        } else {
            t->logged_in = 1;
        }
    }
    p11_unlock(m);
    return rv;
}

CK_RV
C_Logout(CK_SESSION_HANDLE h)
{
    struct p11_module *m = p11_module();
    struct p11_session *s;
    CK_RV rv;

    if (m == NULL) {
        return CKR_CRYPTOKI_NOT_INITIALIZED;
    }
    p11_lock(m);
    rv = p11_session_get(m, h, &s);
    if (rv == CKR_OK) {
        if (!m->tokens[s->slot].logged_in) {
            rv = CKR_USER_NOT_LOGGED_IN;
        } else {
            m->tokens[s->slot].logged_in = 0;
        }
    }
    p11_unlock(m);
    return rv;
}

CK_RV
C_InitPIN(CK_SESSION_HANDLE h, CK_UTF8CHAR_PTR pin, CK_ULONG pin_len)
{
    return p11_module() == NULL ? CKR_CRYPTOKI_NOT_INITIALIZED
                                : CKR_FUNCTION_NOT_SUPPORTED;
}

CK_RV
C_SetPIN(CK_SESSION_HANDLE h, CK_UTF8CHAR_PTR old_pin, CK_ULONG old_len,
         CK_UTF8CHAR_PTR new_pin, CK_ULONG new_len)
{
    return p11_module() == NULL ? CKR_CRYPTOKI_NOT_INITIALIZED
                                : CKR_FUNCTION_NOT_SUPPORTED;
}

/* ---- signing ---- */

static void
sign_end(struct p11_session *s)
{
    s->sign_active = 0;
    s->sign_multi = 0;
    s->sign_busy = 0;
    EVP_MD_CTX_free(s->md);
    s->md = NULL;
}

CK_RV
C_SignInit(CK_SESSION_HANDLE h, CK_MECHANISM_PTR mech, CK_OBJECT_HANDLE key)
{
    struct p11_module *m = p11_module();
    const struct p11_object *o;
    const struct p11_attr *cls;
    struct p11_session *s;
    struct p11_token *t;
    CK_OBJECT_CLASS c = CKO_DATA;
    CK_SLOT_ID slot;
    CK_RV rv;

    if (m == NULL) {
        return CKR_CRYPTOKI_NOT_INITIALIZED;
    }
    if (mech == NULL) {
        return CKR_ARGUMENTS_BAD;
    }
    p11_lock(m);
    rv = p11_session_get(m, h, &s);
    if (rv == CKR_OK && s->sign_active) {
        rv = CKR_OPERATION_ACTIVE;
    }
    slot = rv == CKR_OK ? s->slot : 0;
    p11_unlock(m);
    if (rv != CKR_OK) {
        return rv;
    }
    if (mech->mechanism != CKM_ECDSA && mech->mechanism != CKM_ECDSA_SHA256) {
        return CKR_MECHANISM_INVALID;
    }
    if (mech->pParameter != NULL || mech->ulParameterLen != 0) {
        return CKR_MECHANISM_PARAM_INVALID;
    }

    /* Only the private key signs; the public key is not a signing key. */
    t = &m->tokens[slot];
    p11_token_lock(m, t);
    o = p11_object_get(m, key, slot);
    cls = o != NULL ? p11_object_attr(o, CKA_CLASS) : NULL;
    if (cls != NULL && cls->len == sizeof(c)) {
        memcpy(&c, cls->value, sizeof(c));
    }
    p11_token_unlock(m, t);
    if (c == CKO_PUBLIC_KEY) {
        return CKR_KEY_FUNCTION_NOT_PERMITTED;
    }
    if (c != CKO_PRIVATE_KEY) {
        return CKR_KEY_HANDLE_INVALID;
    }

    p11_lock(m);
    rv = p11_session_get(m, h, &s);
    if (rv == CKR_OK && s->sign_active) {
        rv = CKR_OPERATION_ACTIVE;
    }
    if (rv == CKR_OK && mech->mechanism == CKM_ECDSA_SHA256) {
        s->md = EVP_MD_CTX_new();
        if (s->md == NULL ||
            EVP_DigestInit_ex(s->md, EVP_sha256(), NULL) != 1) {
            EVP_MD_CTX_free(s->md);
            s->md = NULL;
            rv = CKR_HOST_MEMORY;
        }
    }
    if (rv == CKR_OK) {
        s->sign_active = 1;
        s->sign_multi = 0;
        s->sign_busy = 0;
        s->sign_mech = mech->mechanism;
        s->sign_key = key;
    }
    p11_unlock(m);
    return rv;
}

/*
 * CKM_ECDSA input is a digest, used as ECDSA uses a hash value (FIPS
 * 186-4 section 6.4): the leftmost 256 bits of a longer one, and a
 * shorter one as the integer it is, i.e. zero-padded on the left. Empty
 * input and input longer than a SHA-512 digest are refused.
 */
static CK_RV
ecdsa_input(const uint8_t *data, CK_ULONG len, uint8_t *digest)
{
    if (len == 0 || len > P11_ECDSA_INPUT_MAX) {
        return CKR_DATA_LEN_RANGE;
    }
    if (len >= P11_DIGEST_LEN) {
        memcpy(digest, data, P11_DIGEST_LEN);
    } else {
        memset(digest, 0, P11_DIGEST_LEN - len);
        memcpy(digest + P11_DIGEST_LEN - len, data, len);
    }
    return CKR_OK;
}

/*
 * The chip signs digest with the slot 0 key; the signature is checked
 * against the public key before it is handed out, so a faulty chip or a
 * corrupted reply never yields a bad (and possibly key-revealing)
 * signature.
 */
static CK_RV
chip_sign(struct p11_module *m, CK_SLOT_ID slot, unsigned long gen,
          const uint8_t *digest, uint8_t *sig)
{
    struct p11_token *t = &m->tokens[slot];
    struct tc_detail d;
    CK_RV rv = CKR_DEVICE_REMOVED;
    int rc;

    tc_detail_clear(&d);
    p11_token_lock(m, t);
    if (t->se != NULL && atomic_load(&t->generation) == gen) {
        rc = tc_se_sign(t->se, P11_KEY_SLOT, digest, sig, &d);
        if (rc != TC_OK) {
            rv = p11_token_failed(t, "sign", rc, &d);
        } else if (tc_ec_verify_digest(t->pkey, digest, sig) != TC_OK) {
            TC_LOG(TC_LOG_ERROR, "token %s: the chip's signature does not "
                   "verify with its public key; refused", t->sn_hex);
            OPENSSL_cleanse(sig, P11_SIG_LEN);
            rv = CKR_DEVICE_ERROR;
        } else {
            TC_LOG(TC_LOG_DEBUG, "token %s: signed", t->sn_hex);
            rv = CKR_OK;
        }
    }
    p11_token_unlock(m, t);
    return rv;
}

/*
 * The common tail of C_Sign and C_SignFinal. With the module lock held
 * and s active: answer a size query, or take the digest (from data for
 * C_Sign, from the running hash for C_SignFinal), sign it in the chip
 * with the module lock released, and end the operation.
 */
static CK_RV
sign_finish(struct p11_module *m, CK_SESSION_HANDLE h, struct p11_session *s,
            const uint8_t *data, CK_ULONG len, int final, CK_BYTE_PTR sig,
            CK_ULONG_PTR siglen)
{
    uint8_t digest[P11_DIGEST_LEN];
    uint8_t out[P11_SIG_LEN];
    unsigned int dlen = 0;
    CK_SLOT_ID slot;
    unsigned long gen;
    CK_RV rv;

    if (sig == NULL) {
        *siglen = P11_SIG_LEN;
        p11_unlock(m);
        return CKR_OK;
    }
    if (*siglen < P11_SIG_LEN) {
        *siglen = P11_SIG_LEN;
        p11_unlock(m);
        return CKR_BUFFER_TOO_SMALL;
    }

    /* From here on the operation ends, whatever happens. */
    if (final) {
        rv = EVP_DigestFinal_ex(s->md, digest, &dlen) == 1 &&
                     dlen == P11_DIGEST_LEN
                 ? CKR_OK
                 : CKR_GENERAL_ERROR;
    } else if (s->sign_mech == CKM_ECDSA) {
        rv = ecdsa_input(data, len, digest);
    } else {
        rv = EVP_DigestUpdate(s->md, data, len) == 1 &&
                     EVP_DigestFinal_ex(s->md, digest, &dlen) == 1 &&
                     dlen == P11_DIGEST_LEN
                 ? CKR_OK
                 : CKR_GENERAL_ERROR;
    }
    if (rv != CKR_OK) {
        sign_end(s);
        p11_unlock(m);
        return rv;
    }
    s->sign_busy = 1;
    slot = s->slot;
    gen = s->generation;
    p11_unlock(m);

    rv = chip_sign(m, slot, gen, digest, out);

    /* The session may be gone meanwhile (closed, or its chip lost). */
    p11_lock(m);
    if (p11_session_get(m, h, &s) == CKR_OK) {
        sign_end(s);
    }
    p11_unlock(m);
    if (rv == CKR_OK) {
        memcpy(sig, out, P11_SIG_LEN);
        *siglen = P11_SIG_LEN;
    }
    return rv;
}

/*
 * The session of a signing call, with the state checks every signing call
 * makes: an operation must have been started and not be running; C_Sign
 * (single part) may not follow C_SignUpdate.
 */
static CK_RV
signing_session(struct p11_module *m, CK_SESSION_HANDLE h,
                struct p11_session **s, int single_part)
{
    CK_RV rv = p11_session_get(m, h, s);

    if (rv != CKR_OK) {
        return rv;
    }
    if (!(*s)->sign_active) {
        return CKR_OPERATION_NOT_INITIALIZED;
    }
    if ((*s)->sign_busy || (single_part && (*s)->sign_multi)) {
        return CKR_OPERATION_ACTIVE;
    }
    return CKR_OK;
}

CK_RV
C_Sign(CK_SESSION_HANDLE h, CK_BYTE_PTR data, CK_ULONG len, CK_BYTE_PTR sig,
       CK_ULONG_PTR siglen)
{
    struct p11_module *m = p11_module();
    struct p11_session *s;
    CK_RV rv;

    if (m == NULL) {
        return CKR_CRYPTOKI_NOT_INITIALIZED;
    }
    p11_lock(m);
    rv = signing_session(m, h, &s, 1);
    if (rv == CKR_OK && (siglen == NULL || (data == NULL && len > 0))) {
        sign_end(s);
        rv = CKR_ARGUMENTS_BAD;
    }
    if (rv != CKR_OK) {
        p11_unlock(m);
        return rv;
    }
    return sign_finish(m, h, s, data, len, 0, sig, siglen);
}

/*
 * Multi-part signing is CKM_ECDSA_SHA256's alone; CKM_ECDSA signs one
 * digest, so C_SignUpdate with it ends the operation with
 * CKR_FUNCTION_NOT_SUPPORTED.
 */
CK_RV
C_SignUpdate(CK_SESSION_HANDLE h, CK_BYTE_PTR part, CK_ULONG len)
{
    struct p11_module *m = p11_module();
    struct p11_session *s;
    CK_RV rv;

    if (m == NULL) {
        return CKR_CRYPTOKI_NOT_INITIALIZED;
    }
    p11_lock(m);
    rv = signing_session(m, h, &s, 0);
    if (rv == CKR_OK && s->sign_mech != CKM_ECDSA_SHA256) {
        sign_end(s);
        rv = CKR_FUNCTION_NOT_SUPPORTED;
    } else if (rv == CKR_OK && part == NULL && len > 0) {
        sign_end(s);
        rv = CKR_ARGUMENTS_BAD;
    } else if (rv == CKR_OK) {
        if (EVP_DigestUpdate(s->md, part, len) == 1) {
            s->sign_multi = 1;
        } else {
            sign_end(s);
            rv = CKR_GENERAL_ERROR;
        }
    }
    p11_unlock(m);
    return rv;
}

CK_RV
C_SignFinal(CK_SESSION_HANDLE h, CK_BYTE_PTR sig, CK_ULONG_PTR siglen)
{
    struct p11_module *m = p11_module();
    struct p11_session *s;
    CK_RV rv;

    if (m == NULL) {
        return CKR_CRYPTOKI_NOT_INITIALIZED;
    }
    p11_lock(m);
    rv = signing_session(m, h, &s, 0);
    if (rv == CKR_OK &&
               (s->sign_mech != CKM_ECDSA_SHA256 || siglen == NULL)) {
        rv = siglen == NULL ? CKR_ARGUMENTS_BAD : CKR_FUNCTION_NOT_SUPPORTED;
        sign_end(s);
    }
    if (rv != CKR_OK) {
        p11_unlock(m);
        return rv;
    }
    return sign_finish(m, h, s, NULL, 0, 1, sig, siglen);
}

/* ---- random bytes from the chip ---- */

CK_RV
C_GenerateRandom(CK_SESSION_HANDLE h, CK_BYTE_PTR out, CK_ULONG len)
{
    struct p11_module *m = p11_module();
    struct p11_session *s;
    struct p11_token *t;
    struct tc_detail d;
    uint8_t block[32];
    unsigned long gen;
    CK_ULONG done = 0;
    CK_RV rv;
    int rc;

    if (m == NULL) {
        return CKR_CRYPTOKI_NOT_INITIALIZED;
    }
    if (out == NULL && len > 0) {
        return CKR_ARGUMENTS_BAD;
    }
    p11_lock(m);
    rv = p11_session_get(m, h, &s);
    t = rv == CKR_OK ? &m->tokens[s->slot] : NULL;
    gen = rv == CKR_OK ? s->generation : 0;
    p11_unlock(m);
    if (rv != CKR_OK) {
        return rv;
    }

    tc_detail_clear(&d);
    p11_token_lock(m, t);
    if (t->se == NULL || atomic_load(&t->generation) != gen) {
        rv = CKR_DEVICE_REMOVED;
    }
    while (rv == CKR_OK && done < len) {
        CK_ULONG n = len - done < sizeof(block) ? len - done : sizeof(block);

        rc = tc_se_random(t->se, block, &d);
        if (rc != TC_OK) {
            rv = p11_token_failed(t, "random", rc, &d);
            break;
        }
        memcpy(out + done, block, n);
        done += n;
    }
    p11_token_unlock(m, t);
    OPENSSL_cleanse(block, sizeof(block));
    return rv;
}

CK_RV
C_SeedRandom(CK_SESSION_HANDLE h, CK_BYTE_PTR seed, CK_ULONG len)
{
    struct p11_module *m = p11_module();
    struct p11_session *s;
    CK_RV rv;

    if (m == NULL) {
        return CKR_CRYPTOKI_NOT_INITIALIZED;
    }
    p11_lock(m);
    rv = p11_session_get(m, h, &s);
    p11_unlock(m);
    return rv == CKR_OK ? CKR_RANDOM_SEED_NOT_SUPPORTED : rv;
}
