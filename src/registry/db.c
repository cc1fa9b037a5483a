// SPDX-License-Identifier: Apache-2.0
/*
 * The registry's storage layer on SQLite: opening and migrating the file,
 * transactions that survive a second writer, the one place SQLite result
 * codes become ours, the meta table, the event log, and the small helpers
 * the object files share. It knows no AWS rule; those live beside it.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/rand.h>

#include "regpriv.h"
#include "thingcore/util.h"

/* How long one statement waits for another writer before SQLITE_BUSY. */
#define BUSY_TIMEOUT_MS 5000
/* Whole-transaction retries after SQLITE_BUSY escaped the busy timeout. */
#define TX_RETRIES 8

/*
 * Schema migrations, applied in order; PRAGMA user_version counts those
 * applied. Append new steps, never edit a released one. The SQL keeps to
 * what PostgreSQL also accepts, except AUTOINCREMENT and the triggers.
 */
static const char *const migrations[] = {
    /* 1: the initial schema */
    "CREATE TABLE meta ("
    "  key TEXT PRIMARY KEY,"
    "  value TEXT NOT NULL);"
    "CREATE TABLE thing_types ("
    "  name TEXT PRIMARY KEY,"
    "  id TEXT NOT NULL UNIQUE,"
    "  description TEXT,"
    "  searchable TEXT NOT NULL DEFAULT '[]',"
    "  deprecated INTEGER NOT NULL DEFAULT 0,"
    "  deprecation_date REAL NOT NULL DEFAULT 0,"
    "  created REAL NOT NULL);"
    "CREATE TABLE things ("
    "  name TEXT PRIMARY KEY,"
    "  id TEXT NOT NULL UNIQUE,"
    "  type_name TEXT REFERENCES thing_types(name),"
    "  version INTEGER NOT NULL,"
    "  created REAL NOT NULL,"
    "  modified REAL NOT NULL);"
    "CREATE INDEX things_type ON things(type_name);"
    "CREATE TABLE thing_attrs ("
    "  thing TEXT NOT NULL REFERENCES things(name) ON DELETE CASCADE,"
    "  name TEXT NOT NULL,"
    "  value TEXT NOT NULL,"
    "  PRIMARY KEY (thing, name));"
    "CREATE TABLE templates ("
    "  name TEXT PRIMARY KEY,"
    "  description TEXT,"
    "  body TEXT NOT NULL,"
    "  role_arn TEXT NOT NULL,"
    "  enabled INTEGER NOT NULL,"
    "  type TEXT NOT NULL,"
    "  created REAL NOT NULL,"
    "  modified REAL NOT NULL);"
    "CREATE TABLE cacerts ("
    "  id TEXT PRIMARY KEY,"
    "  seq INTEGER NOT NULL UNIQUE,"
    "  pem TEXT NOT NULL,"
    "  subject BLOB NOT NULL,"
    "  status TEXT NOT NULL,"
    "  auto_registration INTEGER NOT NULL,"
    "  mode TEXT NOT NULL,"
    "  created REAL NOT NULL,"
    "  modified REAL NOT NULL,"
    "  not_before INTEGER NOT NULL,"
    "  not_after INTEGER NOT NULL,"
    "  customer_version INTEGER NOT NULL,"
    "  generation_id TEXT NOT NULL,"
    "  template_body TEXT,"
    "  role_arn TEXT,"
    "  template_name TEXT REFERENCES templates(name));"
    "CREATE INDEX cacerts_subject ON cacerts(subject);"
    "CREATE TABLE certs ("
    "  id TEXT PRIMARY KEY,"
    "  seq INTEGER NOT NULL UNIQUE,"
    "  pem TEXT NOT NULL,"
    "  chain_pem TEXT,"
    "  ca_id TEXT REFERENCES cacerts(id),"
    "  status TEXT NOT NULL,"
    "  mode TEXT NOT NULL,"
    "  created REAL NOT NULL,"
    "  modified REAL NOT NULL,"
    "  not_before INTEGER NOT NULL,"
    "  not_after INTEGER NOT NULL,"
    "  customer_version INTEGER NOT NULL,"
    "  generation_id TEXT NOT NULL);"
    "CREATE INDEX certs_ca ON certs(ca_id, seq);"
    "CREATE TABLE policies ("
    "  name TEXT PRIMARY KEY,"
    "  default_version INTEGER NOT NULL,"
    "  next_version INTEGER NOT NULL,"
    "  created REAL NOT NULL,"
    "  modified REAL NOT NULL,"
    "  generation_id TEXT NOT NULL);"
    "CREATE TABLE policy_versions ("
    "  policy TEXT NOT NULL REFERENCES policies(name) ON DELETE CASCADE,"
    "  version INTEGER NOT NULL,"
    "  document TEXT NOT NULL,"
    "  created REAL NOT NULL,"
    "  generation_id TEXT NOT NULL,"
    "  PRIMARY KEY (policy, version));"
    "CREATE TABLE policy_targets ("
    "  policy TEXT NOT NULL REFERENCES policies(name),"
    "  cert_id TEXT NOT NULL REFERENCES certs(id),"
    "  created REAL NOT NULL,"
    "  PRIMARY KEY (policy, cert_id));"
    "CREATE INDEX policy_targets_cert ON policy_targets(cert_id, policy);"
    "CREATE TABLE thing_principals ("
    "  thing TEXT NOT NULL REFERENCES things(name),"
    "  cert_id TEXT NOT NULL REFERENCES certs(id),"
    "  exclusive INTEGER NOT NULL,"
    "  created REAL NOT NULL,"
    "  PRIMARY KEY (thing, cert_id));"
    "CREATE INDEX thing_principals_cert ON thing_principals(cert_id, thing);"
    "CREATE TABLE events ("
    "  seq INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  time REAL NOT NULL,"
    "  actor TEXT NOT NULL,"
    "  kind TEXT NOT NULL,"
    "  object_type TEXT NOT NULL,"
    "  object_id TEXT NOT NULL,"
    "  detail TEXT NOT NULL);"
    "CREATE TRIGGER events_append_only_u BEFORE UPDATE ON events "
    "  BEGIN SELECT RAISE(ABORT, 'the event log is append-only'); END;"
    "CREATE TRIGGER events_append_only_d BEFORE DELETE ON events "
    "  BEGIN SELECT RAISE(ABORT, 'the event log is append-only'); END;",
};

#define SCHEMA_VERSION ((int)(sizeof(migrations) / sizeof(migrations[0])))

int
reg_sql_err(struct tc_registry *reg, int rc, const char *what,
            struct tc_detail *d)
{
    const char *msg = reg != NULL && reg->db != NULL ? sqlite3_errmsg(reg->db)
                                                     : sqlite3_errstr(rc);

    /* The primary code decides; extended codes only refine the text. */
    switch (rc & 0xff) {
    case SQLITE_OK:
    case SQLITE_ROW:
    case SQLITE_DONE:
        return TC_OK;
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
        if (reg != NULL) {
            reg->busy = 1;
        }
        return tc_detail_set(d, TC_ERR_REG_CONFLICTING_UPDATE, -1, what,
                             "the registry is busy with another writer: %s",
                             msg);
    case SQLITE_NOMEM:
        return tc_detail_set(d, TC_ERR_NOMEM, -1, what, "%s", msg);
    case SQLITE_CONSTRAINT:
        /* Rules are checked before writing; a constraint that still
         * fires means a concurrent change slipped past them. */
        return tc_detail_set(d, TC_ERR_REG_CONFLICTING_UPDATE, -1, what,
                             "constraint failed: %s", msg);
    default:
        return tc_detail_set(d, TC_ERR_REG_DB, -1, what, "%s (%s)", msg,
                             sqlite3_errstr(rc));
    }
}

int
reg_prepare(struct tc_registry *reg, sqlite3_stmt **st, const char *sql,
            struct tc_detail *d)
{
    struct reg_stmt *free_slot = NULL;
    int i;
    int rc;

    /*
     * Preparing costs more than most of what the registry then does with
     * a statement, so each text is prepared once per connection. The
     * pointer is only a hint: the text itself must match too.
     */
    for (i = 0; i < reg->ncache; i++) {
        struct reg_stmt *c = &reg->cache[i];

        if (c->sql == sql && !c->in_use &&
            strcmp(sqlite3_sql(c->st), sql) == 0) {
            c->in_use = 1;
            *st = c->st;
            return TC_OK;
        }
    }
    if (reg->ncache < REG_STMT_CACHE) {
        free_slot = &reg->cache[reg->ncache];
    }
    rc = sqlite3_prepare_v3(reg->db, sql, -1,
                            free_slot != NULL ? SQLITE_PREPARE_PERSISTENT : 0,
                            st, NULL);
    if (rc != SQLITE_OK) {
        *st = NULL;
        return reg_sql_err(reg, rc, "prepare", d);
    }
    if (free_slot != NULL) {
        free_slot->sql = sql;
        free_slot->st = *st;
        free_slot->in_use = 1;
        reg->ncache++;
    }
    return TC_OK;
}

void
reg_finalize(struct tc_registry *reg, sqlite3_stmt *st)
{
    int i;

    if (st == NULL) {
        return;
    }
    for (i = 0; i < reg->ncache; i++) {
        if (reg->cache[i].st == st) {
            sqlite3_reset(st);
            sqlite3_clear_bindings(st);
            reg->cache[i].in_use = 0;
            return;
        }
    }
    sqlite3_finalize(st);
}

/*
 * One statement through the statement cache: the transaction and
 * savepoint statements run on every operation, and parsing them each
 * time cost more than many of the operations themselves.
 */
int
reg_exec1(struct tc_registry *reg, const char *sql, struct tc_detail *d)
{
    sqlite3_stmt *st = NULL;
    int row = 0;
    int ret = reg_prepare(reg, &st, sql, d);

    if (ret == TC_OK) {
        ret = reg_step(reg, st, &row, "transaction", d);
    }
    reg_finalize(reg, st);
    return ret;
}

int
reg_exec(struct tc_registry *reg, const char *sql, struct tc_detail *d)
{
    int rc = sqlite3_exec(reg->db, sql, NULL, NULL, NULL);

    if (rc != SQLITE_OK) {
        return reg_sql_err(reg, rc, "exec", d);
    }
    return TC_OK;
}

int
reg_bind_text(sqlite3_stmt *st, int i, const char *s)
{
    if (s == NULL) {
        return sqlite3_bind_null(st, i);
    }
    return sqlite3_bind_text(st, i, s, -1, SQLITE_TRANSIENT);
}

int
reg_step(struct tc_registry *reg, sqlite3_stmt *st, int *row, const char *what,
         struct tc_detail *d)
{
    int rc = sqlite3_step(st);

    if (rc == SQLITE_ROW || rc == SQLITE_DONE) {
        if (row != NULL) {
            *row = rc == SQLITE_ROW;
        }
        return TC_OK;
    }
    return reg_sql_err(reg, rc, what, d);
}

char *
reg_col_dup(sqlite3_stmt *st, int i)
{
    const unsigned char *t = sqlite3_column_text(st, i);

    if (t == NULL) {
        return NULL;
    }
    return strdup((const char *)t);
}

void
reg_col_copy(sqlite3_stmt *st, int i, char *out, size_t cap)
{
    const unsigned char *t = sqlite3_column_text(st, i);

    snprintf(out, cap, "%s", t != NULL ? (const char *)t : "");
}

char *
reg_strdup(const char *s)
{
    return s != NULL ? strdup(s) : NULL;
}

/* Sleep a short, growing, slightly random time between retries. */
static void
backoff(int attempt)
{
    unsigned char r = 0;
    struct timespec ts;

    (void)RAND_bytes(&r, 1);
    ts.tv_sec = 0;
    ts.tv_nsec = (long)(1 + attempt * 4 + (r % 8)) * 1000000L;
    nanosleep(&ts, NULL);
}

int
reg_tx(struct tc_registry *reg, int write, reg_tx_fn fn, void *arg,
       struct tc_detail *d)
{
    int ret = TC_ERR_INTERNAL;
    int attempt;

    for (attempt = 0; attempt < TX_RETRIES; attempt++) {
        tc_detail_clear(d);
        reg->conflict_id[0] = '\0';
        reg->conflict_arn[0] = '\0';
        reg->busy = 0;

        ret = reg_exec1(reg, write ? "BEGIN IMMEDIATE" : "BEGIN", d);
        if (ret == TC_OK) {
            ret = fn(reg, arg, d);
            if (ret == TC_OK) {
                ret = reg_exec1(reg, "COMMIT", d);
            }
            if (ret != TC_OK && !sqlite3_get_autocommit(reg->db)) {
                sqlite3_exec(reg->db, "ROLLBACK", NULL, NULL, NULL);
            }
        }

        /* Only a busy database is worth another attempt, and only for a
         * writer: a reader already waited out the busy timeout. */
        if (ret != TC_ERR_REG_CONFLICTING_UPDATE || !reg->busy || !write) {
            return ret;
        }
        backoff(attempt);
    }
    return ret;
}

int
reg_event(struct tc_registry *reg, const char *kind, const char *object_type,
          const char *object_id, json_t *detail, struct tc_detail *d)
{
    sqlite3_stmt *st = NULL;
    char *text = NULL;
    int ret = TC_ERR_INTERNAL;

    if (detail == NULL) {
        detail = json_object();
    }
    if (detail != NULL) {
        text = json_dumps(detail, JSON_COMPACT | JSON_SORT_KEYS);
    }
    if (text == NULL) {
        ret = tc_detail_set(d, TC_ERR_NOMEM, -1, "event", "no memory");
        goto cleanup;
    }

    ret = reg_prepare(reg, &st,
                      "INSERT INTO events (time, actor, kind, object_type, "
                      "object_id, detail) VALUES (?, ?, ?, ?, ?, ?)",
                      d);
    if (ret != TC_OK) {
        goto cleanup;
    }
    sqlite3_bind_double(st, 1, tc_now());
    reg_bind_text(st, 2, reg->actor);
    reg_bind_text(st, 3, kind);
    reg_bind_text(st, 4, object_type);
    reg_bind_text(st, 5, object_id);
    reg_bind_text(st, 6, text);
    ret = reg_step(reg, st, NULL, "event", d);

cleanup:
    reg_finalize(reg, st);
    free(text);
    json_decref(detail);
    return ret;
}

int
reg_meta_get(struct tc_registry *reg, const char *key, char *out, size_t cap,
             int *found, struct tc_detail *d)
{
    sqlite3_stmt *st = NULL;
    int ret;
    int row = 0;

    *found = 0;
    ret = reg_prepare(reg, &st, "SELECT value FROM meta WHERE key = ?", d);
    if (ret != TC_OK) {
        return ret;
    }
    reg_bind_text(st, 1, key);
    ret = reg_step(reg, st, &row, "meta", d);
    if (ret == TC_OK && row) {
        reg_col_copy(st, 0, out, cap);
        *found = 1;
    }
    reg_finalize(reg, st);
    return ret;
}

int
reg_meta_set(struct tc_registry *reg, const char *key, const char *value,
             struct tc_detail *d)
{
    sqlite3_stmt *st = NULL;
    int ret;

    ret = reg_prepare(reg, &st,
                      "INSERT INTO meta (key, value) VALUES (?, ?) "
                      "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                      d);
    if (ret != TC_OK) {
        return ret;
    }
    reg_bind_text(st, 1, key);
    reg_bind_text(st, 2, value);
    ret = reg_step(reg, st, NULL, "meta", d);
    reg_finalize(reg, st);
    return ret;
}

int
reg_conflict(struct tc_registry *reg, const char *type, const char *id,
             struct tc_detail *d, const char *fmt, ...)
{
    va_list ap;

    snprintf(reg->conflict_id, sizeof(reg->conflict_id), "%s", id);
    tc_registry_arn(reg, type, id, reg->conflict_arn);
    tc_detail_clear(d);
    if (d != NULL) {
        snprintf(d->field, sizeof(d->field), "%s", type);
        va_start(ap, fmt);
        vsnprintf(d->text, sizeof(d->text), fmt, ap);
        va_end(ap);
    }
    return TC_ERR_REG_ALREADY_EXISTS;
}

void
reg_uuid(char out[TC_REG_UUID_LEN])
{
    unsigned char b[16];
    char hex[33];

    if (RAND_bytes(b, sizeof(b)) != 1) {
        /* The ids are names, not secrets; the clock still makes them
         * unique enough when the random generator fails. */
        double t = tc_now();

        memcpy(b, &t, sizeof(t));
        memset(b + sizeof(t), 0x5a, sizeof(b) - sizeof(t));
    }
    b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
    tc_hex_encode(b, sizeof(b), hex, 0);
    snprintf(out, TC_REG_UUID_LEN, "%.8s-%.4s-%.4s-%.4s-%.12s", hex, hex + 8,
             hex + 12, hex + 16, hex + 20);
}

int
reg_page_start(const struct tc_reg_page *page, int *limit, char *key,
               size_t cap, struct tc_detail *d)
{
    uint8_t raw[TC_REG_TOKEN_MAX];
    size_t n = 0;
    size_t len;
    int ret;

    key[0] = '\0';
    *limit = TC_REG_PAGE_DEFAULT;
    if (page == NULL) {
        return TC_OK;
    }
    if (page->limit != 0) {
        if (page->limit < 1 || page->limit > TC_REG_PAGE_MAX) {
            return tc_detail_set(d, TC_ERR_REG_INVALID_REQUEST, -1,
                                 "maxResults",
                                 "page size must be 1 to %d, not %d",
                                 TC_REG_PAGE_MAX, page->limit);
        }
        *limit = page->limit;
    }
    if (page->token == NULL || page->token[0] == '\0') {
        return TC_OK;
    }

    /* A token is base64 of the last key of the previous page. */
    len = strlen(page->token);
    if (len >= TC_REG_TOKEN_MAX) {
        return tc_detail_set(d, TC_ERR_REG_INVALID_REQUEST, -1, "nextToken",
                             "the pagination token is too long");
    }
    ret = tc_base64_decode(page->token, len, raw, sizeof(raw), &n, 0, NULL);
    if (ret != TC_OK || n == 0 || n >= cap || memchr(raw, 0, n) != NULL) {
        return tc_detail_set(d, TC_ERR_REG_INVALID_REQUEST, -1, "nextToken",
                             "the pagination token is not valid");
    }
    memcpy(key, raw, n);
    key[n] = '\0';
    return TC_OK;
}

void
reg_page_token(const char *key, char out[TC_REG_TOKEN_MAX])
{
    size_t n = strlen(key);

    if (tc_base64_len(n, 0) + 1 > TC_REG_TOKEN_MAX) {
        out[0] = '\0';
        return;
    }
    tc_base64_encode((const uint8_t *)key, n, out, 0);
}

void *
reg_list_push(void **items, size_t *n, size_t sz)
{
    unsigned char *p = realloc(*items, (*n + 1) * sz);

    if (p == NULL) {
        return NULL;
    }
    *items = p;
    memset(p + *n * sz, 0, sz);
    (*n)++;
    return p + (*n - 1) * sz;
}

int
reg_cert_id_norm(const char *id, char out[TC_REG_CERT_ID_LEN],
                 const char *field, struct tc_detail *d)
{
    size_t i;

    if (id == NULL || strlen(id) != TC_REG_CERT_ID_LEN - 1) {
        return tc_detail_set(d, TC_ERR_REG_INVALID_REQUEST, -1, field,
                             "a certificate id is 64 hexadecimal digits");
    }
    for (i = 0; i < TC_REG_CERT_ID_LEN - 1; i++) {
        char c = id[i];

        if (c >= 'A' && c <= 'F') {
            c = (char)(c - 'A' + 'a');
        }
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
            return tc_detail_set(d, TC_ERR_REG_INVALID_REQUEST, (long)i, field,
                                 "a certificate id is 64 hexadecimal digits");
        }
        out[i] = c;
    }
    out[TC_REG_CERT_ID_LEN - 1] = '\0';
    return TC_OK;
}

int
reg_cert_arn_parse(struct tc_registry *reg, const char *arn,
                   char id[TC_REG_CERT_ID_LEN], const char *field,
                   struct tc_detail *d)
{
    char prefix[TC_REG_ARN_MAX];
    size_t n;

    tc_registry_arn(reg, "cert", "", prefix);
    n = strlen(prefix);
    if (arn == NULL || strncmp(arn, prefix, n) != 0) {
        return tc_detail_set(d, TC_ERR_REG_INVALID_REQUEST, -1, field,
                             "not a certificate ARN of this account: %.120s",
                             arn != NULL ? arn : "(none)");
    }
    return reg_cert_id_norm(arn + n, id, field, d);
}

/* ---- opening, migrating, identity ---- */

struct open_arg {
    int from;
};

static int
migrate(struct tc_registry *reg, void *arg, struct tc_detail *d)
{
    struct open_arg *oa = arg;
    sqlite3_stmt *st = NULL;
    char sql[64];
    int version = 0;
    int row = 0;
    int ret;
    int i;

    /* Read the version again under the write lock: another process may
     * have migrated the file since we first looked. */
    ret = reg_prepare(reg, &st, "PRAGMA user_version", d);
    if (ret != TC_OK) {
        return ret;
    }
    ret = reg_step(reg, st, &row, "user_version", d);
    if (ret == TC_OK && row) {
        version = sqlite3_column_int(st, 0);
    }
    reg_finalize(reg, st);
    if (ret != TC_OK) {
        return ret;
    }
    oa->from = version;
    if (version > SCHEMA_VERSION) {
        return tc_detail_set(d, TC_ERR_REG_SCHEMA, -1, "user_version",
                             "schema version %d is newer than this "
                             "program's %d",
                             version, SCHEMA_VERSION);
    }

    for (i = version; i < SCHEMA_VERSION; i++) {
        ret = reg_exec(reg, migrations[i], d);
        if (ret != TC_OK) {
            return ret;
        }
    }
    if (version == SCHEMA_VERSION) {
        return TC_OK;
    }
    snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", SCHEMA_VERSION);
    ret = reg_exec(reg, sql, d);
    if (ret != TC_OK) {
        return ret;
    }
    return reg_event(
        reg, "registry.migrate", "meta", "schema",
        json_pack("{s:i, s:i}", "from", version, "to", SCHEMA_VERSION), d);
}

/* Load region and account, creating defaults on first open. */
static int
load_identity(struct tc_registry *reg, void *arg, struct tc_detail *d)
{
    unsigned char r[12];
    int found = 0;
    int ret;
    int i;

    ret = reg_meta_get(reg, "region", reg->region, sizeof(reg->region), &found,
                       d);
    if (ret != TC_OK) {
        return ret;
    }
    if (!found) {
        snprintf(reg->region, sizeof(reg->region), "us-east-1");
        ret = reg_meta_set(reg, "region", reg->region, d);
        if (ret != TC_OK) {
            return ret;
        }
    }
    ret = reg_meta_get(reg, "account", reg->account, sizeof(reg->account),
                       &found, d);
    if (ret != TC_OK || found) {
        return ret;
    }
    if (RAND_bytes(r, sizeof(r)) != 1) {
        return tc_detail_set(d, TC_ERR_CRYPTO, -1, "account",
                             "no random bytes for the account number");
    }
    for (i = 0; i < 12; i++) {
        reg->account[i] = (char)('0' + r[i] % 10);
    }
    reg->account[0] = (char)('1' + r[0] % 9);
    reg->account[12] = '\0';
    return reg_meta_set(reg, "account", reg->account, d);
}

int
tc_registry_open(const char *path, struct tc_registry **out,
                 struct tc_detail *d)
{
    struct tc_registry *reg = NULL;
    struct open_arg oa = {0};
    int ret = TC_ERR_INTERNAL;
    int rc;

    *out = NULL;
    reg = calloc(1, sizeof(*reg));
    if (reg == NULL) {
        return tc_detail_set(d, TC_ERR_NOMEM, -1, "registry", "no memory");
    }
    snprintf(reg->actor, sizeof(reg->actor), "local");

    rc = sqlite3_open_v2(
        path, &reg->db,
        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc != SQLITE_OK) {
        ret = tc_detail_set(d, TC_ERR_REG_DB, -1, "path", "%s: %s", path,
                            reg->db != NULL ? sqlite3_errmsg(reg->db)
                                            : sqlite3_errstr(rc));
        goto cleanup;
    }
    sqlite3_extended_result_codes(reg->db, 1);
    sqlite3_busy_timeout(reg->db, BUSY_TIMEOUT_MS);

    /* WAL lets the broker read while the API writes; foreign keys are
     * per connection in SQLite and must be switched on every time. */
    ret = reg_exec(reg, "PRAGMA journal_mode = WAL", d);
    if (ret == TC_OK) {
        ret = reg_exec(reg, "PRAGMA foreign_keys = ON", d);
    }
    if (ret == TC_OK) {
        ret = reg_exec(reg, "PRAGMA synchronous = NORMAL", d);
    }
    if (ret == TC_OK) {
        ret = reg_tx(reg, 1, migrate, &oa, d);
    }
    if (ret == TC_OK) {
        ret = reg_tx(reg, 1, load_identity, NULL, d);
    }
    if (ret != TC_OK) {
        if (d != NULL && d->field[0] == '\0') {
            snprintf(d->field, sizeof(d->field), "path");
        }
        goto cleanup;
    }
    *out = reg;
    reg = NULL;

cleanup:
    tc_registry_close(reg);
    return ret;
}

void
tc_registry_close(struct tc_registry *reg)
{
    int i;

    if (reg == NULL) {
        return;
    }
    for (i = 0; i < reg->ncache; i++) {
        sqlite3_finalize(reg->cache[i].st);
    }
    sqlite3_close_v2(reg->db);
    free(reg);
}

void
tc_registry_set_actor(struct tc_registry *reg, const char *actor)
{
    snprintf(reg->actor, sizeof(reg->actor), "%s",
             actor != NULL && actor[0] != '\0' ? actor : "local");
}

struct identity_arg {
    const char *region;
    const char *account;
};

static int
set_identity(struct tc_registry *reg, void *arg, struct tc_detail *d)
{
    struct identity_arg *ia = arg;
    int ret = TC_OK;

    if (ia->region != NULL) {
        ret = reg_meta_set(reg, "region", ia->region, d);
    }
    if (ret == TC_OK && ia->account != NULL) {
        ret = reg_meta_set(reg, "account", ia->account, d);
    }
    if (ret == TC_OK) {
        ret = reg_event(reg, "meta.identity", "meta", "identity",
                        json_pack("{s:s?, s:s?}", "region", ia->region,
                                  "account", ia->account),
                        d);
    }
    return ret;
}

int
tc_registry_set_identity(struct tc_registry *reg, const char *region,
                         const char *account, struct tc_detail *d)
{
    struct identity_arg ia = {region, account};
    size_t i;
    int ret;

    if (region != NULL) {
        size_t n = strlen(region);

        if (n == 0 || n >= TC_REG_REGION_MAX) {
            return tc_detail_set(d, TC_ERR_ARG, -1, "region",
                                 "a region is 1 to %d characters",
                                 TC_REG_REGION_MAX - 1);
        }
        for (i = 0; i < n; i++) {
            char c = region[i];

            if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                  c == '-')) {
                return tc_detail_set(d, TC_ERR_ARG, (long)i, "region",
                                     "a region holds only a-z, 0-9 and -");
            }
        }
    }
    if (account != NULL) {
        if (strlen(account) != TC_REG_ACCOUNT_LEN - 1 ||
            strspn(account, "0123456789") != TC_REG_ACCOUNT_LEN - 1) {
            return tc_detail_set(d, TC_ERR_ARG, -1, "account",
                                 "an account is 12 decimal digits");
        }
    }
    ret = reg_tx(reg, 1, set_identity, &ia, d);
    if (ret != TC_OK) {
        return ret;
    }
    if (region != NULL) {
        snprintf(reg->region, sizeof(reg->region), "%s", region);
    }
    if (account != NULL) {
        snprintf(reg->account, sizeof(reg->account), "%s", account);
    }
    return TC_OK;
}

const char *
tc_registry_region(const struct tc_registry *reg)
{
    return reg->region;
}

const char *
tc_registry_account(const struct tc_registry *reg)
{
    return reg->account;
}

const char *
tc_registry_conflict_id(const struct tc_registry *reg)
{
    return reg->conflict_id;
}

const char *
tc_registry_conflict_arn(const struct tc_registry *reg)
{
    return reg->conflict_arn;
}

void
tc_registry_arn(const struct tc_registry *reg, const char *type,
                const char *name, char out[TC_REG_ARN_MAX])
{
    snprintf(out, TC_REG_ARN_MAX, "arn:aws:iot:%s:%s:%s/%s", reg->region,
             reg->account, type, name);
}

/* ---- the event log, read side ---- */

struct events_arg {
    long long after;
    size_t max;
    tc_registry_event_fn fn;
    void *fnarg;
    long long last;
    int stopped;
};

static int
read_events(struct tc_registry *reg, void *arg, struct tc_detail *d)
{
    struct events_arg *ea = arg;
    sqlite3_stmt *st = NULL;
    struct tc_reg_event ev;
    int ret;
    int row = 0;

    ret = reg_prepare(reg, &st,
                      "SELECT seq, time, actor, kind, object_type, "
                      "object_id, detail FROM events WHERE seq > ? "
                      "ORDER BY seq LIMIT ?",
                      d);
    if (ret != TC_OK) {
        return ret;
    }
    sqlite3_bind_int64(st, 1, ea->after);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)ea->max);
    for (;;) {
        ret = reg_step(reg, st, &row, "events", d);
        if (ret != TC_OK || !row) {
            break;
        }
        ev.seq = sqlite3_column_int64(st, 0);
        ev.time = sqlite3_column_double(st, 1);
        ev.actor = (const char *)sqlite3_column_text(st, 2);
        ev.kind = (const char *)sqlite3_column_text(st, 3);
        ev.object_type = (const char *)sqlite3_column_text(st, 4);
        ev.object_id = (const char *)sqlite3_column_text(st, 5);
        ev.detail = (const char *)sqlite3_column_text(st, 6);
        ea->last = ev.seq;
        ea->stopped = ea->fn(ea->fnarg, &ev);
        if (ea->stopped != 0) {
            break;
        }
    }
    reg_finalize(reg, st);
    return ret;
}

int
tc_registry_events_since(struct tc_registry *reg, long long after, size_t max,
                         tc_registry_event_fn fn, void *arg, long long *last,
                         struct tc_detail *d)
{
    struct events_arg ea = {after, max, fn, arg, after, 0};
    int ret;

    if (fn == NULL) {
        return tc_detail_set(d, TC_ERR_ARG, -1, "fn", "no callback");
    }
    if (max > (size_t)INT32_MAX) {
        ea.max = (size_t)INT32_MAX;
    }
    ret = reg_tx(reg, 0, read_events, &ea, d);
    if (last != NULL) {
        *last = ea.last;
    }
    if (ret == TC_OK && ea.stopped != 0) {
        return ea.stopped;
    }
    return ret;
}

static int
read_max_seq(struct tc_registry *reg, void *arg, struct tc_detail *d)
{
    long long *out = arg;
    sqlite3_stmt *st = NULL;
    int row = 0;
    int ret;

    ret = reg_prepare(reg, &st, "SELECT COALESCE(MAX(seq), 0) FROM events", d);
    if (ret != TC_OK) {
        return ret;
    }
    ret = reg_step(reg, st, &row, "events", d);
    if (ret == TC_OK && row) {
        *out = sqlite3_column_int64(st, 0);
    }
    reg_finalize(reg, st);
    return ret;
}

int
tc_registry_events_max_seq(struct tc_registry *reg, long long *out,
                           struct tc_detail *d)
{
    *out = 0;
    return reg_tx(reg, 0, read_max_seq, out, d);
}

/*
 * SQLite's wal-index, the shared memory every connection to a database in
 * WAL mode maps: its header (the first of two 48-byte copies; SQLite's
 * documented file format, fixed because every SQLite version that opens
 * the file shares it) holds a counter each commit moves, then the last
 * valid frame and the log's salt. Writers fill the second copy first, so
 * a new counter in the first means a finished commit.
 */
#define WALIDX_REGION 32768 /* the size SQLite maps the index in */
#define WALIDX_VERSION 3007000u
#define WALIDX_CHANGE 2 /* header words: iChange */
#define WALIDX_INIT 12  /* isInit: a byte */
#define WALIDX_FRAME 4  /* mxFrame */
#define WALIDX_SALT 8   /* aSalt[0] */

/* Our connection's own mapping of the index, found once; NULL when the
 * database is not in WAL mode or its VFS shares no memory. */
static const volatile uint32_t *
wal_index(struct tc_registry *reg)
{
    sqlite3_file *f = NULL;
    sqlite3_stmt *st = NULL;
    void volatile *p = NULL;
    const unsigned char *mode;
    int row = 0;
    int wal = 0;

    if (reg->walidx_looked) {
        return reg->walidx;
    }
    reg->walidx_looked = 1;
    if (reg_prepare(reg, &st, "PRAGMA journal_mode", NULL) == TC_OK &&
        reg_step(reg, st, &row, "journal_mode", NULL) == TC_OK && row) {
        mode = sqlite3_column_text(st, 0);
        wal = mode != NULL && strcmp((const char *)mode, "wal") == 0;
    }
    reg_finalize(reg, st);
    if (!wal) {
        return NULL;
    }
    /* Opening ran transactions, so SQLite has mapped the region: this
     * asks for the same one and never grows the file. */
    if (sqlite3_file_control(reg->db, "main", SQLITE_FCNTL_FILE_POINTER, &f) !=
            SQLITE_OK ||
        f == NULL || f->pMethods == NULL || f->pMethods->iVersion < 2 ||
        f->pMethods->xShmMap == NULL ||
        f->pMethods->xShmMap(f, 0, WALIDX_REGION, 0, &p) != SQLITE_OK ||
        p == NULL) {
        return NULL;
    }
    reg->walidx = (const volatile uint32_t *)p;
    return reg->walidx;
}

int
tc_registry_change_hint(struct tc_registry *reg, long long hint[4])
{
    const volatile uint32_t *h = wal_index(reg);

    hint[3] = (long long)sqlite3_total_changes64(reg->db);
    if (h == NULL || h[0] != WALIDX_VERSION ||
        ((const volatile uint8_t *)h)[WALIDX_INIT] == 0) {
        hint[0] = hint[1] = hint[2] = -1;
        return TC_ERR_IO;
    }
    hint[0] = h[WALIDX_CHANGE];
    hint[1] = h[WALIDX_FRAME];
    hint[2] = h[WALIDX_SALT];
    return TC_OK;
}

int
tc_registry_change_mark(struct tc_registry *reg, long long mark[2],
                        struct tc_detail *d)
{
    sqlite3_stmt *st = NULL;
    int row = 0;
    int ret;

    /* data_version moves when another connection commits; this
     * connection's own writes move its change count. */
    ret = reg_prepare(reg, &st, "PRAGMA data_version", d);
    if (ret == TC_OK) {
        ret = reg_step(reg, st, &row, "data_version", d);
    }
    mark[0] = ret == TC_OK && row ? sqlite3_column_int64(st, 0) : -1;
    mark[1] = (long long)sqlite3_total_changes64(reg->db);
    reg_finalize(reg, st);
    return ret;
}
