/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What the registry's files share and nothing outside src/registry sees:
 * the handle, the transaction runner, the one SQLite error mapping, event
 * appends, pagination tokens and certificate parsing helpers. db.c owns
 * the connection, migrations and transactions; the object files run their
 * statements with SQLite's prepare/bind/column calls.
 */
#ifndef THINGCORE_REGPRIV_H
#define THINGCORE_REGPRIV_H

#include <stdint.h>

#include <sqlite3.h>

#include <openssl/x509.h>

#include "thingcore/registry.h"

/* Prepared statements kept for reuse, keyed by their SQL text. */
#define REG_STMT_CACHE 128

struct reg_stmt {
    const char *sql; /* the caller's pointer: a quick first test only */
    sqlite3_stmt *st;
    int in_use;
};

struct tc_registry {
    sqlite3 *db;
    struct reg_stmt cache[REG_STMT_CACHE];
    int ncache;
    char actor[TC_REG_ACTOR_MAX];
    char region[TC_REG_REGION_MAX];
    char account[TC_REG_ACCOUNT_LEN];
    char conflict_id[TC_REG_ARN_MAX];
    char conflict_arn[TC_REG_ARN_MAX];
    int busy; /* the last failure was SQLITE_BUSY: worth a retry */
    const volatile uint32_t *walidx; /* SQLite's shared WAL index */
    int walidx_looked;
};

/* Turn an SQLite result code into ours, with what was being done. */
int reg_sql_err(struct tc_registry *reg, int rc, const char *what,
                struct tc_detail *d);

/*
 * Prepare sql on reg's connection, reusing a cached statement for the same
 * text; the caller hands it back with reg_finalize (never
 * sqlite3_finalize), which resets a cached one and finalizes the rest.
 */
int reg_prepare(struct tc_registry *reg, sqlite3_stmt **st, const char *sql,
                struct tc_detail *d);
void reg_finalize(struct tc_registry *reg, sqlite3_stmt *st);

/* Run statements without results (sql may hold several). */
int reg_exec(struct tc_registry *reg, const char *sql, struct tc_detail *d);

/* Run one statement without results, prepared once (sql: a literal). */
int reg_exec1(struct tc_registry *reg, const char *sql, struct tc_detail *d);

/* Bind text (NULL binds SQL NULL). */
int reg_bind_text(sqlite3_stmt *st, int i, const char *s);

/*
 * Step a statement expected to change rows or to return at most one row:
 * TC_OK with *row = 1 for SQLITE_ROW, 0 for SQLITE_DONE.
 */
int reg_step(struct tc_registry *reg, sqlite3_stmt *st, int *row,
             const char *what, struct tc_detail *d);

/* A heap copy of a text column, or NULL for SQL NULL / no memory. */
char *reg_col_dup(sqlite3_stmt *st, int i);
/* Copy a text column into out (cap bytes), "" for NULL. */
void reg_col_copy(sqlite3_stmt *st, int i, char *out, size_t cap);

typedef int (*reg_tx_fn)(struct tc_registry *reg, void *arg,
                         struct tc_detail *d);

/*
 * Run fn inside one transaction: BEGIN IMMEDIATE when write != 0 (the
 * write lock is taken up front, so no later statement can fail on a lock
 * upgrade), a deferred read transaction otherwise. fn's TC_OK commits,
 * anything else rolls back. A busy database is retried a bounded number
 * of times before TC_ERR_REG_CONFLICTING_UPDATE.
 */
int reg_tx(struct tc_registry *reg, int write, reg_tx_fn fn, void *arg,
           struct tc_detail *d);

/*
 * Append one event row in the current transaction. detail (may be NULL)
 * is a JSON object whose reference this function takes.
 */
int reg_event(struct tc_registry *reg, const char *kind,
              const char *object_type, const char *object_id, json_t *detail,
              struct tc_detail *d);

/* Read and write the meta table inside a transaction. */
int reg_meta_get(struct tc_registry *reg, const char *key, char *out,
                 size_t cap, int *found, struct tc_detail *d);
int reg_meta_set(struct tc_registry *reg, const char *key, const char *value,
                 struct tc_detail *d);

/* Record the object an ALREADY_EXISTS points at, and return the code. */
int reg_conflict(struct tc_registry *reg, const char *type, const char *id,
                 struct tc_detail *d, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/* A random version 4 UUID. */
void reg_uuid(char out[TC_REG_UUID_LEN]);

/*
 * Pagination. reg_page_start checks the limit and decodes the token into
 * key (cap bytes; "" when no token); reg_page_token encodes a key.
 */
int reg_page_start(const struct tc_reg_page *page, int *limit, char *key,
                   size_t cap, struct tc_detail *d);
void reg_page_token(const char *key, char out[TC_REG_TOKEN_MAX]);

/* Grow a list array by one zeroed element of size sz; NULL on no memory. */
void *reg_list_push(void **items, size_t *n, size_t sz);

/* strdup that accepts NULL. */
char *reg_strdup(const char *s);

/* Validate a certificate id (64 hex) and lower-case it into out. */
int reg_cert_id_norm(const char *id, char out[TC_REG_CERT_ID_LEN],
                     const char *field, struct tc_detail *d);

/*
 * Parse a certificate ARN of this region and account into its id:
 * INVALID_REQUEST for anything else.
 */
int reg_cert_arn_parse(struct tc_registry *reg, const char *arn,
                       char id[TC_REG_CERT_ID_LEN], const char *field,
                       struct tc_detail *d);

/* ---- certificates (x509.c) ---- */

/*
 * Parse PEM text (n bytes): the first certificate into *cert (caller
 * frees), any further certificates re-encoded into *chain (heap, or NULL
 * when there are none; may be NULL to refuse a chain). CERT_VALIDATION
 * names field when the text holds no certificate.
 */
int reg_x509_parse(const char *pem, size_t n, X509 **cert, char **chain,
                   const char *field, struct tc_detail *d);
/* Lower-case hex SHA-256 of the DER; TC_ERR_CRYPTO on failure. */
int reg_x509_id(X509 *x, char out[TC_REG_CERT_ID_LEN]);
/* The certificate as one PEM block (heap). */
char *reg_x509_pem(X509 *x);
/* notBefore/notAfter as epoch seconds. */
int reg_x509_validity(X509 *x, long long *nb, long long *na,
                      struct tc_detail *d);
/* CERT_VALIDATION unless now lies within the validity period. */
int reg_x509_check_time(X509 *x, const char *field, struct tc_detail *d);
/* 1 if issuer's subject equals cert's issuer and its key verifies cert. */
int reg_x509_issued_by(X509 *cert, X509 *issuer);
/* DER of the subject (or issuer) name into *out (OPENSSL_free), *len. */
int reg_x509_name_der(X509 *x, int issuer, unsigned char **out, int *len);

/* ---- policies (policy.c) ---- */
int reg_policy_check_document(const char *doc, size_t len, struct tc_detail *d);

/*
 * Steps that run inside a transaction the caller opened with reg_tx, so
 * a multi-step operation (JITP) is one transaction. Each takes the
 * argument struct its public function fills.
 */
struct cert_reg {
    const struct tc_reg_cert_register *in;
    X509 *x;
    X509 *ca;
    char *pem;
    char *chain;
    char id[TC_REG_CERT_ID_LEN];
    int status;
};
int reg_do_cert_register(struct tc_registry *reg, void *arg,
                         struct tc_detail *d);

struct cert_status {
    char id[TC_REG_CERT_ID_LEN];
    int status;
    int force;
};
int reg_do_cert_status(struct tc_registry *reg, void *arg, struct tc_detail *d);

struct thing_create {
    const char *name;
    const char *type_name;
    const struct tc_reg_attrs *attrs;
    struct tc_reg_thing *out;
    int keep_existing; /* an existing thing is fine whatever its config */
};
int reg_do_thing_create(struct tc_registry *reg, void *arg,
                        struct tc_detail *d);

struct principal_arg {
    const char *thing;
    char cert[TC_REG_CERT_ID_LEN];
    const char *arn;
    int type;
};
int reg_do_principal_attach(struct tc_registry *reg, void *arg,
                            struct tc_detail *d);

struct pol_arg {
    const char *name;
    const char *doc;
    size_t len;
    int set_default;
    int reuse_same; /* create: an equal default document is success */
    long long version;
    char cert[TC_REG_CERT_ID_LEN];
    const char *target;
    const struct tc_reg_page *page;
    struct tc_reg_policy *out;
    struct tc_reg_policy_version *vout;
    struct tc_reg_policy_list *list;
    struct tc_reg_str_list *slist;
    struct tc_reg_policy_version_list *vlist;
};
int reg_do_policy_create(struct tc_registry *reg, void *arg,
                         struct tc_detail *d);
int reg_do_policy_attach(struct tc_registry *reg, void *arg,
                         struct tc_detail *d);
int reg_policy_must_load(struct tc_registry *reg, const char *name,
                         struct tc_reg_policy *p, struct tc_detail *d);

/* ---- checks (check.c) ---- */
int reg_check_json_object(const char *text, size_t max, const char *field,
                          struct tc_detail *d);

#endif
