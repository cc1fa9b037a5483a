// SPDX-License-Identifier: Apache-2.0
/*
 * The compiled policy set cache: one entry per (certificate, client ID,
 * source address), shared by reference between the connections it
 * decides for, and kept after they close so a reconnecting device is
 * authorized from memory. Invalidation comes only from the registry's
 * event log (follow.c), never from time; the number of entries no
 * connection uses is bounded, and past that bound they are all dropped.
 */
#include <malloc.h>
#include <stdlib.h>
#include <string.h>

#include "plugin_int.h"

#define NBUCKETS 4096
#define MAX_IDLE 8192 /* cached entries no connection uses */

static struct pl_set *buckets[NBUCKETS];
static size_t idle;

/* The fingerprint is already a uniform hash: four of its bytes serve. */
static uint32_t
key_hash(const uint8_t fp[PL_FP_LEN], const char *cid, const char *ip)
{
    uint32_t h = (uint32_t)fp[0] << 24 | (uint32_t)fp[1] << 16 |
                 (uint32_t)fp[2] << 8 | fp[3];

    return h ^ (pl_hash_str(cid) * 31u) ^ (pl_hash_str(ip) * 131u);
}

static int
same(const struct pl_set *e, uint32_t h, const uint8_t fp[PL_FP_LEN],
     const char *cid, const char *ip)
{
    return e->hash == h && memcmp(e->fp, fp, PL_FP_LEN) == 0 &&
           strcmp(e->key, cid) == 0 &&
           strcmp(e->key + strlen(e->key) + 1, ip) == 0;
}

static void
entry_free(struct pl_set *e)
{
    pl.set_bytes -= e->bytes;
    pl.nsets--;
    tc_policy_set_free(e->set);
    free(e);
}

/* Take e out of its chain; it lives on while referenced. */
static void
unlink_entry(struct pl_set *e)
{
    struct pl_set **pp;

    for (pp = &buckets[e->hash % NBUCKETS]; *pp != NULL; pp = &(*pp)->next) {
        if (*pp == e) {
            *pp = e->next;
            break;
        }
    }
    e->cached = 0;
    e->next = NULL;
    if (e->refs == 0) {
        idle--;
        entry_free(e);
    }
}

struct pl_set *
pl_set_get(const uint8_t fp[PL_FP_LEN], const char *cid, const char *ip)
{
    uint32_t h = key_hash(fp, cid, ip != NULL ? ip : "");
    struct pl_set *e;

    for (e = buckets[h % NBUCKETS]; e != NULL; e = e->next) {
        if (same(e, h, fp, cid, ip != NULL ? ip : "")) {
            if (e->refs++ == 0) {
                idle--;
            }
            return e;
        }
    }
    return NULL;
}

struct pl_set *
pl_set_put(const uint8_t fp[PL_FP_LEN], const char *cert_id, const char *cid,
           const char *ip, struct tc_policy_set *set, size_t set_bytes)
{
    size_t lc = strlen(cid);
    size_t li;
    struct pl_set *e;
    struct pl_set *old;
    uint32_t h;

    ip = ip != NULL ? ip : "";
    li = strlen(ip);
    h = key_hash(fp, cid, ip);
    e = malloc(sizeof(*e) + lc + li + 2);
    if (e == NULL) {
        return NULL;
    }
    e->set = set;
    e->bytes = malloc_usable_size(e) + set_bytes;
    pl.set_bytes += e->bytes;
    pl.nsets++;
    e->hash = h;
    e->refs = 1;
    e->cached = 1;
    memcpy(e->fp, fp, PL_FP_LEN);
    memcpy(e->cert_id, cert_id, TC_REG_CERT_ID_LEN);
    memcpy(e->key, cid, lc + 1);
    memcpy(e->key + lc + 1, ip, li + 1);

    /* A newer compile replaces the entry of the same key. */
    for (old = buckets[h % NBUCKETS]; old != NULL; old = old->next) {
        if (same(old, h, fp, cid, ip)) {
            unlink_entry(old);
            break;
        }
    }
    if (idle > MAX_IDLE) {
        pl_set_invalidate(NULL, NULL, 2);
    }
    e->next = buckets[h % NBUCKETS];
    buckets[h % NBUCKETS] = e;
    return e;
}

void
pl_set_release(struct pl_set *ps)
{
    if (ps == NULL || --ps->refs > 0) {
        return;
    }
    if (ps->cached) {
        idle++;
        return;
    }
    entry_free(ps);
}

/*
 * Drop entries of a certificate, of a client ID, every entry (all 1), or
 * only the unused ones (all 2).
 */
void
pl_set_invalidate(const char *cert_id, const char *cid, int all)
{
    struct pl_set *e;
    struct pl_set *next;
    size_t i;

    for (i = 0; i < NBUCKETS; i++) {
        for (e = buckets[i]; e != NULL; e = next) {
            next = e->next;
            if (all == 1 || (all == 2 && e->refs == 0) ||
                (cert_id != NULL && strcmp(e->cert_id, cert_id) == 0) ||
                (cid != NULL && strcmp(e->key, cid) == 0)) {
                unlink_entry(e);
            }
        }
    }
}

void
pl_set_clear(void)
{
    pl_set_invalidate(NULL, NULL, 1);
    idle = 0;
}
