/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Private to the PKCS#11 module: the module state (configured tokens and
 * open sessions), the objects a token presents, and the helpers the C_*
 * files share. Nothing here is exported from thingcore-pkcs11.so; the
 * version script (exports.map) lets only the standard C_* names out.
 *
 * Locking: the module lock guards the session list and every session's
 * fields; a token's lock guards its chip handle and its objects, and is
 * held for the whole of a chip command. The order is module lock, then
 * token lock, never the reverse; chip commands run with the token lock
 * only, so two tokens sign in parallel.
 */
#ifndef THINGCORE_PKCS11_P11_H
#define THINGCORE_PKCS11_P11_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <p11-kit/pkcs11.h>

#include "thingcore/atca.h"
#include "thingcore/log.h"
#include "thingcore/se.h"

/* Bounds on what a configuration and its users can make the module hold. */
#define P11_MAX_TOKENS 64
#define P11_MAX_SESSIONS 1024
#define P11_TRANSPORT_MAX 256
#define P11_CONFIG_MAX 65536
#define P11_ATTR_MAX 40

/* Longest input CKM_ECDSA accepts: a SHA-512 digest. */
#define P11_ECDSA_INPUT_MAX 64
#define P11_SIG_LEN 64
#define P11_DIGEST_LEN 32

/* The slot whose private key the token presents (Trust&GO device key). */
#define P11_KEY_SLOT 0

/* The objects of a token; an object handle is token index * 8 + kind. */
enum p11_kind {
    P11_OBJ_PRIVATE = 1,
    P11_OBJ_PUBLIC = 2,
    P11_OBJ_DEVICE_CERT = 3,
    P11_OBJ_SIGNER_CERT = 4,
};
#define P11_KINDS 5

struct p11_attr {
    CK_ATTRIBUTE_TYPE type;
    uint8_t *value; /* owned; NULL with len 0 for an empty value */
    size_t len;
    int sensitive; /* present, but never revealed */
};

struct p11_object {
    int present;
    size_t nattr;
    struct p11_attr attr[P11_ATTR_MAX];
};

/* Mutex operations: the application's (C_Initialize args) or pthread's. */
struct p11_lock_ops {
    CK_CREATEMUTEX create;
    CK_DESTROYMUTEX destroy;
    CK_LOCKMUTEX lock;
    CK_UNLOCKMUTEX unlock;
};

struct p11_token {
    char transport[P11_TRANSPORT_MAX];
    void *lock;
    /* Candidate roots of the signer certificate (the module's). */
    X509 *const *roots;
    size_t nroots;

    /* Under the token lock. */
    struct tc_se *se; /* NULL while the chip does not answer */
    uint8_t rev[4];
    uint8_t sn[TC_ATCA_SN_SIZE];
    char sn_hex[2 * TC_ATCA_SN_SIZE + 1];
    uint8_t pub[TC_ATCA_PUBKEY_SIZE];
    EVP_PKEY *pkey; /* the slot 0 public key, to check each signature */
    struct p11_object obj[P11_KINDS];

    /* Under the module lock: C_Login was called (there is no PIN). */
    int logged_in;

    /*
     * Bumped each time the chip is lost. A session remembers the value it
     * was opened under; read without the token lock, hence atomic.
     */
    atomic_ulong generation;
};

struct p11_session {
    CK_SESSION_HANDLE handle;
    CK_SLOT_ID slot;
    CK_FLAGS flags;
    unsigned long generation;

    int find_active;
    size_t nfound;
    size_t found_pos;
    CK_OBJECT_HANDLE found[P11_KINDS];

    int sign_active;
    int sign_multi; /* C_SignUpdate was called */
    int sign_busy;  /* a chip command for it is running */
    CK_MECHANISM_TYPE sign_mech;
    CK_OBJECT_HANDLE sign_key;
    EVP_MD_CTX *md; /* CKM_ECDSA_SHA256 only */

    struct p11_session *next;
};

struct p11_module {
    pid_t pid; /* a forked child must C_Initialize again */
    struct p11_lock_ops ops;
    void *lock;
    X509 **roots;
    size_t nroots;
    size_t ntokens;
    struct p11_token tokens[P11_MAX_TOKENS];
    struct p11_session *sessions;
    size_t nsessions;
    CK_SESSION_HANDLE next_handle;
};

/* The initialized module of this process, or NULL. */
struct p11_module *p11_module(void);

void p11_lock(struct p11_module *m);
void p11_unlock(struct p11_module *m);
void p11_token_lock(struct p11_module *m, struct p11_token *t);
void p11_token_unlock(struct p11_module *m, struct p11_token *t);

/* Copy s into a fixed-width PKCS#11 text field, padded with blanks. */
void p11_pad(CK_UTF8CHAR *field, size_t width, const char *s);

/*
 * Parse the configuration text: transports separated by commas (from
 * THINGCORE_SE) or, when from_file != 0, one per line with '#' comment
 * lines. Fills m->tokens[].transport and m->ntokens. On a bad entry it
 * returns -1 with a message naming the entry in err (cap bytes). where
 * names the source for messages ("THINGCORE_SE" or a file name).
 */
int p11_config_parse(struct p11_module *m, const char *text, size_t len,
                     int from_file, const char *where, char *err,
                     size_t cap);

/*
 * Token, under its lock: connect and read the chip if not connected.
 * CKR_OK when the chip answers (objects loaded), CKR_TOKEN_NOT_PRESENT
 * when not.
 */
CK_RV p11_token_connect(struct p11_token *t);

/*
 * Token, under its lock: the chip answers a cheap command, or the
 * connection is dropped as lost and opened afresh.
 */
CK_RV p11_token_probe(struct p11_token *t);

/*
 * Token, under its lock: a command failed with rc. A transport failure
 * drops the connection, bumps the generation and logs; the return value
 * is the PKCS#11 code for the caller.
 */
CK_RV p11_token_failed(struct p11_token *t, const char *what, int rc,
                       const struct tc_detail *d);

/* Token, under its lock: release the chip handle and objects. */
void p11_token_clear(struct p11_token *t);

/* An object of a token by handle, or NULL (under the token lock). */
struct p11_object *p11_object_get(struct p11_module *m,
                                  CK_OBJECT_HANDLE h, CK_SLOT_ID slot);
const struct p11_attr *p11_object_attr(const struct p11_object *o,
                                       CK_ATTRIBUTE_TYPE type);

/*
 * The session by handle, under the module lock. A session whose token
 * lost its chip after the session was opened is closed here and the call
 * gets CKR_DEVICE_REMOVED.
 */
CK_RV p11_session_get(struct p11_module *m, CK_SESSION_HANDLE h,
                      struct p11_session **out);
void p11_session_free(struct p11_module *m, struct p11_session *s);

#endif
