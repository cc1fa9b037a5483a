// SPDX-License-Identifier: Apache-2.0
/*
 * Revocation on live connections: on the broker's tick, at most five times
 * a second, the plugin reads the registry's event log from where it left
 * off and re-evaluates only the connections a change touches (certificate
 * status or deletion, policy attachment, a new default policy version,
 * thing principals, thing attributes). A connection no longer allowed is
 * kicked; the others get their policies recompiled. The registry is never
 * scanned as a whole.
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "plugin_int.h"
#include "thingcore/json.h"
#include "thingcore/util.h"

#define FOLLOW_PERIOD 0.2 /* seconds between the tick's looks */
#define FOLLOW_BATCH 1000 /* events read per look at most */
#define MAX_TOUCH 256     /* distinct objects remembered per look */

/* What one batch of events touched. */
struct touched {
    char certs[MAX_TOUCH][TC_REG_CERT_ID_LEN];
    size_t ncerts;
    char things[MAX_TOUCH][TC_REG_NAME_MAX];
    size_t nthings;
    int all; /* too much changed to track: re-evaluate everyone */
};

static void
add_cert(struct touched *t, const char *id)
{
    size_t i;

    if (id == NULL || strlen(id) != TC_REG_CERT_ID_LEN - 1) {
        return;
    }
    for (i = 0; i < t->ncerts; i++) {
        if (strcmp(t->certs[i], id) == 0) {
            return;
        }
    }
    if (t->ncerts == MAX_TOUCH) {
        t->all = 1;
        return;
    }
    memcpy(t->certs[t->ncerts++], id, TC_REG_CERT_ID_LEN);
}

static void
add_thing(struct touched *t, const char *name)
{
    size_t i;

    if (name == NULL || strlen(name) >= TC_REG_NAME_MAX) {
        return;
    }
    for (i = 0; i < t->nthings; i++) {
        if (strcmp(t->things[i], name) == 0) {
            return;
        }
    }
    if (t->nthings == MAX_TOUCH) {
        t->all = 1;
        return;
    }
    strcpy(t->things[t->nthings++], name);
}

/* Every certificate a policy is attached to. */
static void
add_policy_targets(struct touched *t, const char *policy)
{
    struct tc_reg_str_list l;
    struct tc_reg_page page;
    size_t i;
    const char *slash;

    memset(&page, 0, sizeof(page));
    memset(&l, 0, sizeof(l));
    page.limit = TC_REG_PAGE_MAX;
    do {
        if (tc_registry_policy_list_targets(pl.reg, policy, &page, &l, NULL) !=
            TC_OK) {
            break;
        }
        for (i = 0; i < l.n; i++) {
            slash = strrchr(l.items[i], '/');
            add_cert(t, slash != NULL ? slash + 1 : NULL);
        }
        if (l.next[0] == '\0') {
            break;
        }
        page.token = NULL;
        /* A policy on more certificates than one page: everyone. */
        t->all = 1;
    } while (0);
    tc_reg_str_list_clear(&l);
}

static int
on_event(void *arg, const struct tc_reg_event *ev)
{
    struct touched *t = arg;
    json_t *detail = NULL;
    const char *cert = NULL;

    if (ev->detail != NULL) {
        detail = json_loads(ev->detail, 0, NULL);
        cert = tc_json_str(detail, "certificateId");
    }
    if (strcmp(ev->kind, "certificate.status") == 0 ||
        strcmp(ev->kind, "certificate.delete") == 0) {
        add_cert(t, ev->object_id);
    } else if (strcmp(ev->kind, "policy.attach") == 0 ||
               strcmp(ev->kind, "policy.detach") == 0 ||
               strcmp(ev->kind, "principal.attach") == 0 ||
               strcmp(ev->kind, "principal.detach") == 0) {
        add_cert(t, cert);
        if (strncmp(ev->kind, "principal.", 10) == 0) {
            add_thing(t, ev->object_id);
        }
    } else if (strcmp(ev->kind, "policy.default_version") == 0 ||
               strcmp(ev->kind, "policy.version_create") == 0) {
        add_policy_targets(t, ev->object_id);
    } else if (strcmp(ev->kind, "thing.update") == 0 ||
               strcmp(ev->kind, "thing.delete") == 0) {
        add_thing(t, ev->object_id);
    }
    json_decref(detail);
    return 0;
}

static int
touches(const struct touched *t, const struct pl_conn *c)
{
    const char *cid;
    size_t i;

    if (t->all) {
        return 1;
    }
    for (i = 0; i < t->ncerts; i++) {
        if (strcmp(t->certs[i], c->cert_id) == 0) {
            return 1;
        }
    }
    cid = mosquitto_client_id(c->client);
    for (i = 0; cid != NULL && i < t->nthings; i++) {
        if (strcmp(t->things[i], cid) == 0) {
            return 1;
        }
    }
    return 0;
}

void
pl_follow(int force)
{
    struct touched *t = NULL;
    struct tc_detail d;
    struct pl_conn *c;
    char **kick = NULL;
    size_t nkick = 0;
    size_t i;
    long long before = pl.seq;
    long long mark[2] = {-1, -1};
    long long hint[4] = {-1, -1, -1, -1};
    int rc;

    /*
     * Every connection looks at the commit counter in SQLite's shared
     * write-ahead log index (a memory read); the tick looks five times a
     * second through SQLite's data version too. The log is read only
     * when a look saw a change.
     */
    if (pl.reg == NULL) {
        return;
    }
    if (force) {
        if (tc_registry_change_hint(pl.reg, hint) == TC_OK &&
            memcmp(hint, pl.hint, sizeof(hint)) == 0) {
            return;
        }
        tc_registry_change_mark(pl.reg, mark, NULL);
    } else {
        if (tc_monotonic() < pl.next_follow) {
            return;
        }
        pl.next_follow = tc_monotonic() + FOLLOW_PERIOD;
        if (tc_registry_change_mark(pl.reg, mark, NULL) == TC_OK &&
            memcmp(mark, pl.mark, sizeof(mark)) == 0) {
            return;
        }
        tc_registry_change_hint(pl.reg, hint);
    }
    t = calloc(1, sizeof(*t));
    if (t == NULL) {
        return;
    }
    tc_detail_clear(&d);
    rc = tc_registry_events_since(pl.reg, pl.seq, FOLLOW_BATCH, on_event, t,
                                  &pl.seq, &d);
    if (rc != TC_OK) {
        PL_LOG(PL_WARNING, "thingcore: event log: %s: %s", tc_strerror(rc),
               d.text);
        goto cleanup;
    }
    /* Read up to this mark; a batch cut short is read on at the next
     * look. */
    if (pl.seq - before < FOLLOW_BATCH) {
        memcpy(pl.mark, mark, sizeof(mark));
        memcpy(pl.hint, hint, sizeof(hint));
    }
    if (pl.seq == before || (t->ncerts == 0 && t->nthings == 0 && !t->all)) {
        goto cleanup;
    }

    /* Cached decisions for what changed are dropped first. */
    if (t->all) {
        pl_set_invalidate(NULL, NULL, 1);
    }
    for (i = 0; i < t->ncerts; i++) {
        pl_set_invalidate(t->certs[i], NULL, 0);
    }
    for (i = 0; i < t->nthings; i++) {
        pl_set_invalidate(NULL, t->things[i], 0);
    }

    /* Re-evaluate what changed; collect the kicks, since a kick runs the
     * DISCONNECT callback that edits the table being walked. */
    kick = calloc(pl.nconns + 1, sizeof(char *));
    if (kick == NULL) {
        goto cleanup;
    }
    for (i = 0; i < pl.nbuckets; i++) {
        for (c = pl.buckets[i]; c != NULL; c = c->next) {
            if (!touches(t, c) || pl_refresh(c)) {
                continue;
            }
            c->end = PL_END_SERVER;
            kick[nkick] = strdup(mosquitto_client_id(c->client));
            if (kick[nkick] != NULL) {
                nkick++;
            }
        }
    }
    for (i = 0; i < nkick; i++) {
        mosquitto_kick_client_by_clientid(kick[i], false);
        free(kick[i]);
    }

cleanup:
    free(kick);
    free(t);
}
