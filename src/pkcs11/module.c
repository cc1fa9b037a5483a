// SPDX-License-Identifier: Apache-2.0
/*
 * thingcore-pkcs11.so, the module half: C_Initialize and C_Finalize, the
 * configuration (THINGCORE_SE), locking, the library, slot, token and
 * mechanism information, and the function list. Each configured
 * transport is one slot; its token is present while the chip answers.
 * It does not talk to a chip itself beyond asking token.c to connect.
 */
#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "p11.h"
#include "thingcore/factory.h"
#include "thingcore/identity.h"
#include "thingcore/util.h"

static struct p11_module *module_state;

/* A parent's state seen after fork: kept, never used, never freed. */
static struct p11_module *parent_state;

struct p11_module *
p11_module(void)
{
    struct p11_module *m = module_state;

    /* A forked child inherits the parent's connections: not its own. */
    if (m == NULL || m->pid != getpid()) {
        return NULL;
    }
    return m;
}

/* ---- locking ---- */

static CK_RV
pt_create(void **out)
{
    pthread_mutex_t *mu = malloc(sizeof(*mu));

    if (mu == NULL) {
        return CKR_HOST_MEMORY;
    }
    if (pthread_mutex_init(mu, NULL) != 0) {
        free(mu);
        return CKR_CANT_LOCK;
    }
    *out = mu;
    return CKR_OK;
}

static CK_RV
pt_destroy(void *mu)
{
    pthread_mutex_destroy(mu);
    free(mu);
    return CKR_OK;
}

static CK_RV
pt_lock(void *mu)
{
    return pthread_mutex_lock(mu) == 0 ? CKR_OK : CKR_CANT_LOCK;
}

static CK_RV
pt_unlock(void *mu)
{
    return pthread_mutex_unlock(mu) == 0 ? CKR_OK : CKR_CANT_LOCK;
}

void
p11_lock(struct p11_module *m)
{
    (void)m->ops.lock(m->lock);
}

void
p11_unlock(struct p11_module *m)
{
    (void)m->ops.unlock(m->lock);
}

void
p11_token_lock(struct p11_module *m, struct p11_token *t)
{
    (void)m->ops.lock(t->lock);
}

void
p11_token_unlock(struct p11_module *m, struct p11_token *t)
{
    (void)m->ops.unlock(t->lock);
}

void
p11_pad(CK_UTF8CHAR *field, size_t width, const char *s)
{
    size_t n = strlen(s);

    memset(field, ' ', width);
    memcpy(field, s, n < width ? n : width);
}

/* ---- configuration ---- */

/* Add one transport (n bytes at p, already trimmed); -1 with err set. */
static int
add_transport(struct p11_module *m, const char *p, size_t n,
              const char *where, const char *unit, unsigned item, char *err,
              size_t cap)
{
    const char *colon = memchr(p, ':', n);
    size_t scheme = colon != NULL ? (size_t)(colon - p) : 0;
    size_t i;

    if (colon == NULL || colon + 1 == p + n) {
        snprintf(err, cap, "%s %s %u '%.*s': not a transport (use "
                 "unix:PATH, kit:DEVICE or i2c:/dev/i2c-N@ADDR)",
                 where, unit, item, (int)(n > 80 ? 80 : n), p);
        return -1;
    }
    if (!((scheme == 4 && memcmp(p, "unix", 4) == 0) ||
          (scheme == 3 && memcmp(p, "kit", 3) == 0) ||
          (scheme == 3 && memcmp(p, "i2c", 3) == 0))) {
        snprintf(err, cap, "%s %s %u '%.*s': unknown transport '%.*s' "
                 "(use unix, kit or i2c)",
                 where, unit, item, (int)(n > 80 ? 80 : n), p, (int)scheme,
                 p);
        return -1;
    }
    if (n >= P11_TRANSPORT_MAX) {
        snprintf(err, cap, "%s %s %u: longer than %d bytes", where, unit,
                 item, P11_TRANSPORT_MAX - 1);
        return -1;
    }
    for (i = 0; i < n; i++) {
        if (iscntrl((unsigned char)p[i])) {
            snprintf(err, cap, "%s %s %u: control character at byte %zu",
                     where, unit, item, i);
            return -1;
        }
    }
    for (i = 0; i < m->ntokens; i++) {
        if (strlen(m->tokens[i].transport) == n &&
            memcmp(m->tokens[i].transport, p, n) == 0) {
            snprintf(err, cap, "%s %s %u '%.*s': named twice", where,
                     unit, item, (int)n, p);
            return -1;
        }
    }
    if (m->ntokens == P11_MAX_TOKENS) {
        snprintf(err, cap, "%s: more than %d transports", where,
                 P11_MAX_TOKENS);
        return -1;
    }
    memcpy(m->tokens[m->ntokens].transport, p, n);
    m->tokens[m->ntokens].transport[n] = '\0';
    m->ntokens++;
    return 0;
}

/*
 * Grammar accepted (whitespace around entries is ignored):
 *   list  = entry *( "," entry )               (THINGCORE_SE)
 *   file  = *( ( entry / "#" comment / "" ) LF ) (a file it names)
 *   entry = scheme ":" rest, scheme = "unix" / "kit" / "i2c"
 * Empty entries are skipped.
 */
int
p11_config_parse(struct p11_module *m, const char *text, size_t len,
                 int from_file, const char *where, char *err, size_t cap)
{
    char sep = from_file ? '\n' : ',';
    const char *unit = from_file ? "line" : "entry";
    size_t pos = 0;
    unsigned item = 0;

    while (pos <= len) {
        const char *p = text + pos;
        const char *end = memchr(p, sep, len - pos);
        size_t n = end != NULL ? (size_t)(end - p) : len - pos;
        size_t next = pos + n + 1;

        item++;
        while (n > 0 && isspace((unsigned char)*p)) {
            p++;
            n--;
        }
        while (n > 0 && isspace((unsigned char)p[n - 1])) {
            n--;
        }
        if (n > 0 && !(from_file && p[0] == '#')) {
            if (memchr(p, '\0', n) != NULL) {
                snprintf(err, cap, "%s %s %u: NUL byte", where, unit, item);
                return -1;
            }
            if (add_transport(m, p, n, where, unit, item, err, cap) != 0) {
                return -1;
            }
        }
        pos = next;
    }
    return 0;
}

/* Read THINGCORE_SE: -1 with err set when it is unusable. */
static int
load_config(struct p11_module *m, char *err, size_t cap)
{
    const char *v = getenv("THINGCORE_SE");
    struct tc_detail d;
    struct tc_buf b;
    int rc;

    if (v == NULL || v[0] == '\0') {
        TC_LOG(TC_LOG_INFO, "THINGCORE_SE is not set: no slots");
        return 0;
    }
    if (strchr(v, ':') != NULL) {
        return p11_config_parse(m, v, strlen(v), 0, "THINGCORE_SE", err,
                                cap);
    }

    /* No ':' in it: a file of transports, one per line. */
    tc_buf_init(&b, P11_CONFIG_MAX);
    tc_detail_clear(&d);
    rc = tc_file_read(v, &b, &d);
    if (rc != TC_OK) {
        snprintf(err, cap, "THINGCORE_SE='%s' is neither a transport list "
                 "nor a readable file: %s%s%s",
                 v, tc_strerror(rc), d.text[0] ? ": " : "", d.text);
        tc_buf_clear(&b, 0);
        return -1;
    }
    rc = p11_config_parse(m, (const char *)b.data, b.len, 1, v, err, cap);
    tc_buf_clear(&b, 0);
    return rc;
}

/*
 * The roots a signer certificate is rebuilt against: Microchip's real
 * root, then a simulated factory's ($THINGCORE_FACTORY, else the default
 * factory folder). Without them a chip still presents its keys.
 */
static void
load_roots(struct p11_module *m)
{
    const char *dir = getenv("THINGCORE_FACTORY");
    char def[4096];
    struct tc_detail d;
    int rc;

    if (dir == NULL || dir[0] == '\0') {
        dir = tc_data_dir("factory", def, sizeof(def), NULL) == TC_OK ? def
                                                                    : NULL;
    }
    tc_detail_clear(&d);
    rc = tc_identity_default_roots(dir, &m->roots, &m->nroots, &d);
    if (rc != TC_OK) {
        TC_LOG(TC_LOG_WARNING, "no certificate roots (%s%s%s): tokens "
               "present keys only", tc_strerror(rc), d.text[0] ? ": " : "",
               d.text);
        m->roots = NULL;
        m->nroots = 0;
    }
    TC_LOG(TC_LOG_DEBUG, "%zu candidate root(s); factory folder %s",
           m->nroots, dir != NULL ? dir : "(none)");
}

/* ---- C_Initialize, C_Finalize ---- */

static void
module_free(struct p11_module *m)
{
    size_t i;

    while (m->sessions != NULL) {
        p11_session_free(m, m->sessions);
    }
    for (i = 0; i < m->ntokens; i++) {
        p11_token_clear(&m->tokens[i]);
        if (m->tokens[i].lock != NULL) {
            m->ops.destroy(m->tokens[i].lock);
        }
    }
    if (m->lock != NULL) {
        m->ops.destroy(m->lock);
    }
    tc_identity_roots_free(m->roots, m->nroots);
    free(m);
}

/* Choose the mutex operations as PKCS#11 2.40 section 5.4 lays out. */
static CK_RV
pick_locking(const CK_C_INITIALIZE_ARGS *a, struct p11_lock_ops *ops)
{
    int given = (a->CreateMutex != NULL) + (a->DestroyMutex != NULL) +
                (a->LockMutex != NULL) + (a->UnlockMutex != NULL);

    if (given != 0 && given != 4) {
        return CKR_ARGUMENTS_BAD;
    }
    if (given == 4 && !(a->flags & CKF_OS_LOCKING_OK)) {
        ops->create = a->CreateMutex;
        ops->destroy = a->DestroyMutex;
        ops->lock = a->LockMutex;
        ops->unlock = a->UnlockMutex;
    }
    return CKR_OK;
}

CK_RV
C_Initialize(CK_VOID_PTR init_args)
{
    const char *lv = getenv("THINGCORE_PKCS11_LOG");
    struct p11_lock_ops ops = {pt_create, pt_destroy, pt_lock, pt_unlock};
    struct p11_module *m;
    char err[512];
    size_t i;
    CK_RV rv;

    /* Silent unless asked: the host program owns stderr. */
    tc_log_init("thingcore-pkcs11", lv != NULL ? tc_log_level_parse(lv) : -1);

    if (module_state != NULL) {
        if (module_state->pid == getpid()) {
            return CKR_CRYPTOKI_ALREADY_INITIALIZED;
        }
        /*
         * The parent's state after fork: its connections and locks belong
         * to the parent, so it is left alone (not freed, not closed).
         */
        parent_state = module_state;
        module_state = NULL;
    }
    if (init_args != NULL) {
        const CK_C_INITIALIZE_ARGS *a = init_args;

        if (a->pReserved != NULL) {
            return CKR_ARGUMENTS_BAD;
        }
        rv = pick_locking(a, &ops);
        if (rv != CKR_OK) {
            return rv;
        }
    }

    m = calloc(1, sizeof(*m));
    if (m == NULL) {
        return CKR_HOST_MEMORY;
    }
    m->pid = getpid();
    m->ops = ops;
    m->next_handle = 1;
    if (load_config(m, err, sizeof(err)) != 0) {
        /* Said even when logging is off: nothing else would tell why. */
        fprintf(stderr, "thingcore-pkcs11: %s\n", err);
        free(m);
        return CKR_GENERAL_ERROR;
    }
    load_roots(m);
    rv = ops.create(&m->lock);
    for (i = 0; rv == CKR_OK && i < m->ntokens; i++) {
        m->tokens[i].roots = m->roots;
        m->tokens[i].nroots = m->nroots;
        atomic_init(&m->tokens[i].generation, 1);
        rv = ops.create(&m->tokens[i].lock);
    }
    if (rv != CKR_OK) {
        module_free(m);
        return rv;
    }
    TC_LOG(TC_LOG_DEBUG, "initialized with %zu slot(s)", m->ntokens);
    module_state = m;
    return CKR_OK;
}

CK_RV
C_Finalize(CK_VOID_PTR reserved)
{
    struct p11_module *m = p11_module();

    if (reserved != NULL) {
        return CKR_ARGUMENTS_BAD;
    }
    if (m == NULL) {
        return CKR_CRYPTOKI_NOT_INITIALIZED;
    }
    module_state = NULL;
    module_free(m);
    return CKR_OK;
}

CK_RV
C_GetInfo(CK_INFO_PTR info)
{
    if (p11_module() == NULL) {
        return CKR_CRYPTOKI_NOT_INITIALIZED;
    }
    if (info == NULL) {
        return CKR_ARGUMENTS_BAD;
    }
    memset(info, 0, sizeof(*info));
    info->cryptokiVersion.major = 2;
    info->cryptokiVersion.minor = 40;
    p11_pad(info->manufacturerID, sizeof(info->manufacturerID), "thingcore");
    p11_pad(info->libraryDescription, sizeof(info->libraryDescription),
            "thingcore secure element tokens");
    info->libraryVersion.major = 0;
    info->libraryVersion.minor = 1;
    return CKR_OK;
}

/* ---- slots and tokens ---- */

/* The token of a slot, or NULL for a slot that does not exist. */
static struct p11_token *
slot_token(struct p11_module *m, CK_SLOT_ID slot)
{
    return slot < m->ntokens ? &m->tokens[slot] : NULL;
}

/* Connect if needed; returns whether the chip answers. */
static int
token_present(struct p11_module *m, struct p11_token *t)
{
    CK_RV rv;

    p11_token_lock(m, t);
    rv = p11_token_connect(t);
    p11_token_unlock(m, t);
    return rv == CKR_OK;
}

CK_RV
C_GetSlotList(CK_BBOOL token_present_only, CK_SLOT_ID_PTR list,
              CK_ULONG_PTR count)
{
    struct p11_module *m = p11_module();
    CK_SLOT_ID ids[P11_MAX_TOKENS];
    CK_ULONG n = 0;
    size_t i;

    if (m == NULL) {
        return CKR_CRYPTOKI_NOT_INITIALIZED;
    }
    if (count == NULL) {
        return CKR_ARGUMENTS_BAD;
    }
    for (i = 0; i < m->ntokens; i++) {
        if (!token_present_only || token_present(m, &m->tokens[i])) {
            ids[n++] = i;
        }
    }
    if (list == NULL) {
        *count = n;
        return CKR_OK;
    }
    if (*count < n) {
        *count = n;
        return CKR_BUFFER_TOO_SMALL;
    }
    memcpy(list, ids, n * sizeof(ids[0]));
    *count = n;
    return CKR_OK;
}

CK_RV
C_GetSlotInfo(CK_SLOT_ID slot, CK_SLOT_INFO_PTR info)
{
    struct p11_module *m = p11_module();
    struct p11_token *t;
    char desc[80];

    if (m == NULL) {
        return CKR_CRYPTOKI_NOT_INITIALIZED;
    }
    t = slot_token(m, slot);
    if (t == NULL) {
        return CKR_SLOT_ID_INVALID;
    }
    if (info == NULL) {
        return CKR_ARGUMENTS_BAD;
    }
    memset(info, 0, sizeof(*info));
    snprintf(desc, sizeof(desc), "%s", t->transport);
    p11_pad(info->slotDescription, sizeof(info->slotDescription), desc);
    p11_pad(info->manufacturerID, sizeof(info->manufacturerID), "thingcore");
    info->flags = CKF_REMOVABLE_DEVICE | CKF_HW_SLOT;
    if (token_present(m, t)) {
        info->flags |= CKF_TOKEN_PRESENT;
    }
    info->hardwareVersion.major = 0;
    info->firmwareVersion.major = 0;
    info->firmwareVersion.minor = 1;
    return CKR_OK;
}

/* Sessions open on a slot (under the module lock). */
static CK_ULONG
count_sessions(struct p11_module *m, CK_SLOT_ID slot, int rw)
{
    const struct p11_session *s;
    CK_ULONG n = 0;

    for (s = m->sessions; s != NULL; s = s->next) {
        if (s->slot == slot && (!rw || (s->flags & CKF_RW_SESSION))) {
            n++;
        }
    }
    return n;
}

/*
 * The token manufacturer is the chip's maker, Microchip, as for the real
 * ATECC608 part; the library's manufacturer (C_GetInfo, slots) is
 * thingcore. A simulated chip says so in its signer certificate.
 */
CK_RV
C_GetTokenInfo(CK_SLOT_ID slot, CK_TOKEN_INFO_PTR info)
{
    struct p11_module *m = p11_module();
    struct p11_token *t;
    CK_RV rv;

    if (m == NULL) {
        return CKR_CRYPTOKI_NOT_INITIALIZED;
    }
    t = slot_token(m, slot);
    if (t == NULL) {
        return CKR_SLOT_ID_INVALID;
    }
    if (info == NULL) {
        return CKR_ARGUMENTS_BAD;
    }
    memset(info, 0, sizeof(*info));
    p11_lock(m);
    info->ulSessionCount = count_sessions(m, slot, 0);
    info->ulRwSessionCount = count_sessions(m, slot, 1);
    p11_unlock(m);

    p11_token_lock(m, t);
    rv = p11_token_connect(t);
    if (rv == CKR_OK) {
        char sn16[17];

        p11_pad(info->label, sizeof(info->label), t->sn_hex);
        p11_pad(info->manufacturerID, sizeof(info->manufacturerID),
                "Microchip Technology Inc");
        p11_pad(info->model, sizeof(info->model), "ATECC608");
        memcpy(sn16, t->sn_hex, 16);
        sn16[16] = '\0';
        p11_pad(info->serialNumber, sizeof(info->serialNumber), sn16);
        info->hardwareVersion.major = t->rev[2] >> 4;
        info->hardwareVersion.minor = t->rev[3];
    }
    p11_token_unlock(m, t);
    if (rv != CKR_OK) {
        return rv;
    }
    info->flags = CKF_RNG | CKF_WRITE_PROTECTED | CKF_TOKEN_INITIALIZED;
    info->ulMaxSessionCount = P11_MAX_SESSIONS;
    info->ulMaxRwSessionCount = CK_UNAVAILABLE_INFORMATION;
    info->ulMaxPinLen = 0;
    info->ulMinPinLen = 0;
    info->ulTotalPublicMemory = CK_UNAVAILABLE_INFORMATION;
    info->ulFreePublicMemory = CK_UNAVAILABLE_INFORMATION;
    info->ulTotalPrivateMemory = CK_UNAVAILABLE_INFORMATION;
    info->ulFreePrivateMemory = CK_UNAVAILABLE_INFORMATION;
    info->firmwareVersion.major = 0;
    info->firmwareVersion.minor = 1;
    memset(info->utcTime, ' ', sizeof(info->utcTime));
    return CKR_OK;
}

static const CK_MECHANISM_TYPE mechanisms[] = {CKM_ECDSA, CKM_ECDSA_SHA256};

CK_RV
C_GetMechanismList(CK_SLOT_ID slot, CK_MECHANISM_TYPE_PTR list,
                   CK_ULONG_PTR count)
{
    struct p11_module *m = p11_module();
    CK_ULONG n = sizeof(mechanisms) / sizeof(mechanisms[0]);

    if (m == NULL) {
        return CKR_CRYPTOKI_NOT_INITIALIZED;
    }
    if (slot_token(m, slot) == NULL) {
        return CKR_SLOT_ID_INVALID;
    }
    if (count == NULL) {
        return CKR_ARGUMENTS_BAD;
    }
    if (list == NULL) {
        *count = n;
        return CKR_OK;
    }
    if (*count < n) {
        *count = n;
        return CKR_BUFFER_TOO_SMALL;
    }
    memcpy(list, mechanisms, sizeof(mechanisms));
    *count = n;
    return CKR_OK;
}

CK_RV
C_GetMechanismInfo(CK_SLOT_ID slot, CK_MECHANISM_TYPE type,
                   CK_MECHANISM_INFO_PTR info)
{
    struct p11_module *m = p11_module();

    if (m == NULL) {
        return CKR_CRYPTOKI_NOT_INITIALIZED;
    }
    if (slot_token(m, slot) == NULL) {
        return CKR_SLOT_ID_INVALID;
    }
    if (info == NULL) {
        return CKR_ARGUMENTS_BAD;
    }
    if (type != CKM_ECDSA && type != CKM_ECDSA_SHA256) {
        return CKR_MECHANISM_INVALID;
    }
    info->ulMinKeySize = 256;
    info->ulMaxKeySize = 256;
    info->flags = CKF_HW | CKF_SIGN | CKF_EC_F_P | CKF_EC_NAMEDCURVE |
                  CKF_EC_UNCOMPRESS;
    return CKR_OK;
}

CK_RV
C_WaitForSlotEvent(CK_FLAGS flags, CK_SLOT_ID_PTR slot, CK_VOID_PTR reserved)
{
    return p11_module() == NULL ? CKR_CRYPTOKI_NOT_INITIALIZED
                                : CKR_FUNCTION_NOT_SUPPORTED;
}

CK_RV
C_InitToken(CK_SLOT_ID slot, CK_UTF8CHAR_PTR pin, CK_ULONG pin_len,
            CK_UTF8CHAR_PTR label)
{
    return p11_module() == NULL ? CKR_CRYPTOKI_NOT_INITIALIZED
                                : CKR_FUNCTION_NOT_SUPPORTED;
}

/* ---- the function list ---- */

static CK_FUNCTION_LIST function_list = {
    {2, 40},
    C_Initialize,
    C_Finalize,
    C_GetInfo,
    C_GetFunctionList,
    C_GetSlotList,
    C_GetSlotInfo,
    C_GetTokenInfo,
    C_GetMechanismList,
    C_GetMechanismInfo,
    C_InitToken,
    C_InitPIN,
    C_SetPIN,
    C_OpenSession,
    C_CloseSession,
    C_CloseAllSessions,
    C_GetSessionInfo,
    C_GetOperationState,
    C_SetOperationState,
    C_Login,
    C_Logout,
    C_CreateObject,
    C_CopyObject,
    C_DestroyObject,
    C_GetObjectSize,
    C_GetAttributeValue,
    C_SetAttributeValue,
    C_FindObjectsInit,
    C_FindObjects,
    C_FindObjectsFinal,
    C_EncryptInit,
    C_Encrypt,
    C_EncryptUpdate,
    C_EncryptFinal,
    C_DecryptInit,
    C_Decrypt,
    C_DecryptUpdate,
    C_DecryptFinal,
    C_DigestInit,
    C_Digest,
    C_DigestUpdate,
    C_DigestKey,
    C_DigestFinal,
    C_SignInit,
    C_Sign,
    C_SignUpdate,
    C_SignFinal,
    C_SignRecoverInit,
    C_SignRecover,
    C_VerifyInit,
    C_Verify,
    C_VerifyUpdate,
    C_VerifyFinal,
    C_VerifyRecoverInit,
    C_VerifyRecover,
    C_DigestEncryptUpdate,
    C_DecryptDigestUpdate,
    C_SignEncryptUpdate,
    C_DecryptVerifyUpdate,
    C_GenerateKey,
    C_GenerateKeyPair,
    C_WrapKey,
    C_UnwrapKey,
    C_DeriveKey,
    C_SeedRandom,
    C_GenerateRandom,
    C_GetFunctionStatus,
    C_CancelFunction,
    C_WaitForSlotEvent,
};

CK_RV
C_GetFunctionList(CK_FUNCTION_LIST_PTR_PTR out)
{
    if (out == NULL) {
        return CKR_ARGUMENTS_BAD;
    }
    *out = &function_list;
    return CKR_OK;
}
