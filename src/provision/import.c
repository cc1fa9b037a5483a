// SPDX-License-Identifier: Apache-2.0
/*
 * Bulk import: the manifest streams through the verifier on the calling
 * thread, verified devices are packed into batches (each under the core's
 * request body limit, the signer certificate carried once per batch), and
 * a sender thread posts them to BulkRegister while the next batch is being
 * verified. At most QUEUE_MAX batches wait, so memory stays bounded. It
 * decides nothing about registration; the core's one transaction per
 * batch does.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "thingcore/api.h"
#include "thingcore/import.h"
#include "thingcore/json.h"
#include "thingcore/provision.h"
#include "thingcore/registry.h"
#include "thingcore/util.h"

/* Batches verified but not yet sent, beside the one being sent. */
#define QUEUE_MAX 2
/* Distinct signer certificates one batch carries (the core's limit). */
#define CHAINS_MAX 16
/* What a batch's body may reach: the core's limit, less headroom for the
 * JSON escapes our estimate does not count exactly. */
#define BODY_BUDGET (TC_API_BODY_MAX - 16 * 1024)
/* BulkRegister is idempotent, so a lost answer is safely asked again. */
#define SEND_ATTEMPTS 3

/* An entry in a batch, as the report needs it. */
struct pending {
    size_t index;
    long offset;
    char unique_id[19];
    char thing[19];
};

struct batch {
    json_t *devices;
    json_t *chains;
    uint8_t *chain_der[CHAINS_MAX]; /* to recognise a signer seen before */
    size_t chain_len[CHAINS_MAX];
    size_t nchains;
    struct pending *p;
    size_t n;
    size_t bytes;
};

struct imp {
    struct tc_apiclient *api;
    const struct tc_import_opts *o;
    const char *policy;
    size_t batch_max;

    /* The queue between the verifying and the sending thread. */
    pthread_mutex_t lock;
    pthread_cond_t cond;
    struct batch *queue[QUEUE_MAX];
    size_t qhead;
    size_t qlen;
    int producer_done;
    int fail; /* the sender's error: stops everything */
    struct tc_detail fail_d;

    /* Counts and callbacks, shared by both threads under cb_lock. */
    pthread_mutex_t cb_lock;
    struct tc_import_progress prog;
    struct tc_import_summary *sum;
    double t0;

    struct batch *cur; /* being filled by the verifying thread */
};

static int
stopped(const struct imp *im)
{
    return im->o->stop != NULL && *im->o->stop != 0;
}

/* The sender's error, read under the queue lock. */
static int
failed(struct imp *im)
{
    int rc;

    pthread_mutex_lock(&im->lock);
    rc = im->fail;
    pthread_mutex_unlock(&im->lock);
    return rc;
}

static void
batch_free(struct batch *b)
{
    size_t i;

    if (b == NULL) {
        return;
    }
    json_decref(b->devices);
    json_decref(b->chains);
    for (i = 0; i < b->nchains; i++) {
        free(b->chain_der[i]);
    }
    free(b->p);
    free(b);
}

static struct batch *
batch_new(size_t cap)
{
    struct batch *b = calloc(1, sizeof(*b));

    if (b == NULL) {
        return NULL;
    }
    b->devices = json_array();
    b->chains = json_array();
    b->p = calloc(cap, sizeof(*b->p));
    if (b->devices == NULL || b->chains == NULL || b->p == NULL) {
        batch_free(b);
        return NULL;
    }
    return b;
}

/* DER as a PEM CERTIFICATE block (heap, NUL-ended); NULL on no memory. */
static char *
pem_of(const uint8_t *der, size_t len)
{
    static const char head[] = "-----BEGIN CERTIFICATE-----\n";
    static const char tail[] = "-----END CERTIFICATE-----\n";
    size_t b64 = tc_base64_len(len, 0);
    char *text = malloc(b64 + 1);
    char *out = malloc(sizeof(head) + b64 + b64 / 64 + 1 + sizeof(tail));
    size_t o = 0;
    size_t i;

    if (text == NULL || out == NULL) {
        free(text);
        free(out);
        return NULL;
    }
    tc_base64_encode(der, len, text, 0);
    memcpy(out, head, sizeof(head) - 1);
    o = sizeof(head) - 1;

    /* RFC 7468: lines of 64 characters. */
    for (i = 0; i < b64; i += 64) {
        size_t n = b64 - i < 64 ? b64 - i : 64;

        memcpy(out + o, text + i, n);
        o += n;
        out[o++] = '\n';
    }
    memcpy(out + o, tail, sizeof(tail));
    free(text);
    return out;
}

/* Deliver one entry's outcome and count it (under cb_lock). */
static void
deliver(struct imp *im, size_t index, const char *uid, const char *thing,
        enum tc_import_outcome outcome, int err, const char *reason)
{
    struct tc_import_entry e;

    e.index = index;
    e.unique_id = uid;
    e.thing_name = thing;
    e.outcome = outcome;
    e.err = err;
    e.reason = reason != NULL ? reason : "";
    im->prog.done++;
    if (outcome == TC_IMPORT_REGISTERED) {
        im->prog.registered++;
    } else if (outcome == TC_IMPORT_ALREADY) {
        im->prog.already++;
    } else {
        im->prog.rejected++;
    }
    if (im->o->on_entry != NULL) {
        im->o->on_entry(im->o->entry_ctx, &e);
    }
}

static void
report_progress(struct imp *im, long offset)
{
    if (offset > im->prog.bytes_done) {
        im->prog.bytes_done = offset;
    }
    im->prog.elapsed = tc_monotonic() - im->t0;
    if (im->o->on_progress != NULL) {
        im->o->on_progress(im->o->progress_ctx, &im->prog);
    }
}

/* ---- the sending thread ---- */

/* Post b, asking again only when no answer came back. */
static int
post(struct imp *im, const json_t *body, json_t **out, struct tc_detail *d)
{
    struct tc_apiclient_error err;
    int rc = TC_ERR_INTERNAL;
    int attempt;

    for (attempt = 0; attempt < SEND_ATTEMPTS; attempt++) {
        tc_detail_clear(d);
        rc = tc_apiclient_call(im->api, "POST", "/thingcore/bulk-register",
                               NULL, NULL, 0, body, out, &err, d);
        if (rc != TC_ERR_API_CONNECT && rc != TC_ERR_API_HTTP &&
            rc != TC_ERR_TIMEOUT && rc != TC_ERR_CLOSED) {
            break;
        }
    }
    if (rc == TC_ERR_API_NO_ROUTE) {
        tc_detail_set(d, rc, -1, "BulkRegister",
                      "the server has no /thingcore/bulk-register: bulk "
                      "import needs a thingcore core, not AWS IoT");
    }
    return rc;
}

static int
send_batch(struct imp *im, struct batch *b, struct tc_detail *d)
{
    json_t *body;
    json_t *out = NULL;
    json_t *results;
    size_t i;
    int rc;

    body = json_pack("{s:s, s:s, s:O, s:O}", "thingTypeName",
                     TC_PROVISION_THING_TYPE, "policyName", im->policy,
                     "chains", b->chains, "devices", b->devices);
    if (body == NULL) {
        return tc_detail_set(d, TC_ERR_NOMEM, -1, "batch", "no memory");
    }
    rc = post(im, body, &out, d);
    json_decref(body);
    if (rc != TC_OK) {
        return rc;
    }

    /* One result per device, in order, for the names we sent. */
    results = json_object_get(out, "results");
    if (!json_is_array(results) || json_array_size(results) != b->n) {
        json_decref(out);
        return tc_detail_set(d, TC_ERR_IMPORT_ANSWER, -1, "results",
                             "%zu results for %zu devices",
                             json_is_array(results)
                                 ? json_array_size(results)
                                 : 0,
                             b->n);
    }
    for (i = 0; i < b->n; i++) {
        json_t *r = json_array_get(results, i);
        const char *name = tc_json_str(r, "thingName");
        const char *st = tc_json_str(r, "status");

        if (name == NULL || st == NULL || strcmp(name, b->p[i].thing) != 0 ||
            (strcmp(st, "REGISTERED") != 0 &&
             strcmp(st, "ALREADY_PRESENT") != 0 &&
             strcmp(st, "REJECTED") != 0)) {
            json_decref(out);
            return tc_detail_set(d, TC_ERR_IMPORT_ANSWER, -1, "results",
                                 "result %zu does not answer device %s", i,
                                 b->p[i].thing);
        }
    }

    pthread_mutex_lock(&im->cb_lock);
    for (i = 0; i < b->n; i++) {
        json_t *r = json_array_get(results, i);
        const char *st = tc_json_str(r, "status");
        const char *msg = tc_json_str(r, "message");
        const char *code = tc_json_str(r, "errorCode");

        if (strcmp(st, "REGISTERED") == 0) {
            deliver(im, b->p[i].index, b->p[i].unique_id, b->p[i].thing,
                    TC_IMPORT_REGISTERED, TC_OK, NULL);
        } else if (strcmp(st, "ALREADY_PRESENT") == 0) {
            deliver(im, b->p[i].index, b->p[i].unique_id, b->p[i].thing,
                    TC_IMPORT_ALREADY, TC_OK, NULL);
        } else {
            deliver(im, b->p[i].index, b->p[i].unique_id, b->p[i].thing,
                    TC_IMPORT_REJECTED,
                    code != NULL ? tc_api_error_code(code)
                                 : TC_ERR_API_REMOTE,
                    msg != NULL ? msg : "rejected by the core");
        }
    }
    im->sum->batches++;
    report_progress(im, b->p[b->n - 1].offset);
    pthread_mutex_unlock(&im->cb_lock);
    json_decref(out);
    return TC_OK;
}

static void *
sender(void *arg)
{
    struct imp *im = arg;

    for (;;) {
        struct batch *b = NULL;
        struct tc_detail d;
        int rc;

        pthread_mutex_lock(&im->lock);
        while (im->qlen == 0 && !im->producer_done) {
            pthread_cond_wait(&im->cond, &im->lock);
        }
        if (im->qlen > 0) {
            b = im->queue[im->qhead];
            im->qhead = (im->qhead + 1) % QUEUE_MAX;
            im->qlen--;
        }
        pthread_cond_broadcast(&im->cond);
        pthread_mutex_unlock(&im->lock);
        if (b == NULL) {
            break;
        }

        /* After a stop or a failure, queued batches are dropped. */
        rc = TC_OK;
        if (failed(im) == TC_OK && !stopped(im)) {
            tc_detail_clear(&d);
            rc = send_batch(im, b, &d);
        }
        batch_free(b);
        if (rc != TC_OK) {
            pthread_mutex_lock(&im->lock);
            im->fail = rc;
            im->fail_d = d;
            pthread_cond_broadcast(&im->cond);
            pthread_mutex_unlock(&im->lock);
        }
    }
    return NULL;
}

/* ---- the verifying thread ---- */

/* Hand the batch being filled to the sender; waits while the queue is
 * full. Returns the sender's error, if any. */
static int
enqueue(struct imp *im)
{
    struct timespec ts;
    int rc;

    pthread_mutex_lock(&im->lock);
    while (im->qlen == QUEUE_MAX && !im->fail && !stopped(im)) {
        /* Timed: a signal sets *stop without waking us. */
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += 100 * 1000 * 1000;
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&im->cond, &im->lock, &ts);
    }
    rc = im->fail;
    if (rc == TC_OK && !stopped(im)) {
        im->queue[(im->qhead + im->qlen) % QUEUE_MAX] = im->cur;
        im->qlen++;
        im->cur = NULL;
        pthread_cond_broadcast(&im->cond);
    }
    pthread_mutex_unlock(&im->lock);
    batch_free(im->cur);
    im->cur = NULL;
    return rc;
}

/* The index in b->chains of the signer der, added when new; -1 if full. */
static int
chain_index(struct batch *b, const uint8_t *der, size_t len)
{
    char *pem;
    size_t i;

    for (i = 0; i < b->nchains; i++) {
        if (b->chain_len[i] == len && memcmp(b->chain_der[i], der, len) == 0) {
            return (int)i;
        }
    }
    if (b->nchains == CHAINS_MAX) {
        return -1;
    }
    pem = pem_of(der, len);
    b->chain_der[b->nchains] = malloc(len);
    if (pem == NULL || b->chain_der[b->nchains] == NULL) {
        free(pem);
        free(b->chain_der[b->nchains]);
        b->chain_der[b->nchains] = NULL;
        return -1;
    }
    memcpy(b->chain_der[b->nchains], der, len);
    b->chain_len[b->nchains] = len;
    json_array_append_new(b->chains, json_string(pem));
    b->bytes += strlen(pem) + strlen(pem) / 32 + 8;
    free(pem);
    return (int)b->nchains++;
}

/* Add a verified device to the batch being filled. */
static int
add_device(struct imp *im, const struct tc_manifest_result *r)
{
    struct pending *p;
    char *pem;
    int ci;
    size_t i;
    size_t cost;
    int rc = TC_OK;

    if (im->cur == NULL) {
        im->cur = batch_new(im->batch_max);
        if (im->cur == NULL) {
            return TC_ERR_NOMEM;
        }
    }
    pem = pem_of(r->device_der, r->device_len);
    if (pem == NULL) {
        return TC_ERR_NOMEM;
    }

    /* A batch full by count, bytes or signers goes first. */
    cost = strlen(pem) + strlen(pem) / 32 + 96;
    if (im->cur->n > 0 &&
        (im->cur->n == im->batch_max ||
         im->cur->bytes + cost + r->signer_len * 2 > BODY_BUDGET ||
         im->cur->nchains == CHAINS_MAX)) {
        rc = enqueue(im);
        if (rc == TC_OK && !stopped(im)) {
            im->cur = batch_new(im->batch_max);
            rc = im->cur == NULL ? TC_ERR_NOMEM : TC_OK;
        }
    }
    if (rc != TC_OK || stopped(im)) {
        free(pem);
        return rc != TC_OK ? rc : TC_ERR_IMPORT_INTERRUPTED;
    }
    ci = chain_index(im->cur, r->signer_der, r->signer_len);
    if (ci < 0) {
        free(pem);
        return TC_ERR_NOMEM;
    }

    p = &im->cur->p[im->cur->n++];
    p->index = r->index;
    p->offset = r->offset;
    snprintf(p->unique_id, sizeof(p->unique_id), "%s", r->unique_id);
    for (i = 0; r->unique_id[i] != '\0' && i < sizeof(p->thing) - 1; i++) {
        char c = r->unique_id[i];

        p->thing[i] = c >= 'a' && c <= 'z' ? (char)(c - 'a' + 'A') : c;
    }
    p->thing[i] = '\0';
    json_array_append_new(im->cur->devices,
                          json_pack("{s:s, s:s, s:i}", "thingName", p->thing,
                                    "certificatePem", pem, "chain", ci));
    im->cur->bytes += cost;
    free(pem);
    return TC_OK;
}

static int
on_result(void *ctx, const struct tc_manifest_result *r)
{
    struct imp *im = ctx;
    char reason[sizeof(r->detail.text) + sizeof(r->detail.field) + 8];

    if (stopped(im)) {
        return TC_ERR_IMPORT_INTERRUPTED;
    }
    if (failed(im) != TC_OK) {
        return failed(im);
    }
    if (r->err == TC_OK && r->device_der != NULL && r->signer_der != NULL) {
        return add_device(im, r);
    }

    /* Refused by the verifier: reported now, never sent. */
    if (r->err != TC_OK) {
        snprintf(reason, sizeof(reason), "%s%s%s",
                 r->detail.field[0] ? r->detail.field : "",
                 r->detail.field[0] ? ": " : "",
                 r->detail.text[0] ? r->detail.text : tc_strerror(r->err));
    } else {
        snprintf(reason, sizeof(reason),
                 "no device certificate in the entry (version %d without "
                 "publicKeySet)",
                 r->version);
    }
    pthread_mutex_lock(&im->cb_lock);
    deliver(im, r->index, r->unique_id, "",
            TC_IMPORT_REJECTED, r->err != TC_OK ? r->err : TC_ERR_NOT_FOUND,
            reason);
    pthread_mutex_unlock(&im->cb_lock);
    return TC_OK;
}

int
tc_import_run(struct tc_apiclient *api, struct tc_manifest_verifier *v,
              const char *path, const struct tc_import_opts *o,
              struct tc_import_summary *sum, struct tc_detail *d)
{
    struct tc_provision_opts po;
    struct tc_provision_result pres;
    struct tc_manifest_summary msum;
    struct imp im;
    struct stat st;
    pthread_t th;
    int started = 0;
    int rc = TC_ERR_INTERNAL;

    memset(sum, 0, sizeof(*sum));
    memset(&im, 0, sizeof(im));
    im.api = api;
    im.o = o;
    im.sum = sum;
    im.policy = o->policy_name != NULL ? o->policy_name : TC_PROVISION_POLICY;
    im.batch_max = o->batch != 0 ? o->batch : TC_IMPORT_BATCH_DEFAULT;
    if (im.batch_max > TC_REG_BULK_MAX) {
        return tc_detail_set(d, TC_ERR_ARG, -1, "batch",
                             "a batch holds 1 to %d devices, not %zu",
                             TC_REG_BULK_MAX, im.batch_max);
    }
    if (stat(path, &st) != 0) {
        return tc_detail_set(d, TC_ERR_IO, -1, "manifest",
                             "cannot read %s", path);
    }
    im.prog.bytes_total = (long)st.st_size;
    im.t0 = tc_monotonic();

    /* Thing type and policy once, as `thingcore register` makes them. */
    memset(&po, 0, sizeof(po));
    po.policy_name = im.policy;
    rc = tc_provision_prepare(api, &po, &pres, d);
    if (rc != TC_OK) {
        return rc;
    }

    pthread_mutex_init(&im.lock, NULL);
    pthread_mutex_init(&im.cb_lock, NULL);
    pthread_cond_init(&im.cond, NULL);
    if (pthread_create(&th, NULL, sender, &im) != 0) {
        rc = tc_detail_set(d, TC_ERR_NOMEM, -1, "thread",
                           "cannot start the sending thread");
        goto cleanup;
    }
    started = 1;

    /* Verify and pack; the last, partly filled batch goes too. */
    rc = tc_manifest_verify_file(v, path, on_result, &im, &msum, d);
    if (rc == TC_OK && im.cur != NULL && im.cur->n > 0) {
        rc = enqueue(&im);
    }

cleanup:
    pthread_mutex_lock(&im.lock);
    im.producer_done = 1;
    pthread_cond_broadcast(&im.cond);
    pthread_mutex_unlock(&im.lock);
    if (started) {
        pthread_join(th, NULL);
    }
    batch_free(im.cur);

    /* The sender's failure explains a stop better than the code it
     * caused in the verifier. */
    if (im.fail != TC_OK) {
        rc = im.fail;
        if (d != NULL) {
            *d = im.fail_d;
        }
    } else if (stopped(&im) && rc == TC_OK) {
        rc = TC_ERR_IMPORT_INTERRUPTED;
    }
    if (rc == TC_ERR_IMPORT_INTERRUPTED) {
        tc_detail_set(d, rc, -1, "import",
                      "stopped after %zu entries; run the same command "
                      "again to finish",
                      im.prog.done);
    }
    sum->entries = im.prog.done;
    sum->registered = im.prog.registered;
    sum->already = im.prog.already;
    sum->rejected = im.prog.rejected;
    sum->seconds = tc_monotonic() - im.t0;
    pthread_cond_destroy(&im.cond);
    pthread_mutex_destroy(&im.cb_lock);
    pthread_mutex_destroy(&im.lock);
    return rc;
}
