/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Bulk import of a manufacturer manifest into a core: every entry is
 * verified (the caller's verifier: signers, trust anchors), and the
 * verified devices are registered through the core's BulkRegister
 * extension (POST /thingcore/bulk-register, docs/import.md) in batches,
 * each applied by the core in one transaction. Verification and
 * registration overlap: the manifest streams through the verifier on the
 * calling thread while a second thread sends the previous batch.
 *
 * Each device ends as `thingcore register` (MAR) leaves it: certificate
 * registered without CA with its chain, ACTIVE, the policy attached, thing
 * <uniqueId upper-case> of type microchip-tng, certificate attached to it.
 * Because each batch commits whole, an import cut short at any moment
 * (Ctrl-C, kill -9, a lost connection) leaves every device registered or
 * untouched; run again, it reports those done as already present.
 *
 * Caveats:
 * - it speaks to a thingcore core only: AWS IoT has no such operation
 *   (against AWS, register devices one by one with tc_provision_register);
 * - an entry without a device certificate (manifest version 2 without
 *   publicKeySet) is rejected: there is nothing to register;
 * - memory stays bounded (a few batches in flight) whatever the manifest
 *   size.
 */
#ifndef THINGCORE_IMPORT_H
#define THINGCORE_IMPORT_H

#include <signal.h>
#include <stddef.h>

#include "thingcore/apiclient.h"
#include "thingcore/err.h"
#include "thingcore/manifest.h"

/* Devices per BulkRegister call by default; the core takes at most 500. */
#define TC_IMPORT_BATCH_DEFAULT 250

enum tc_import_outcome {
    TC_IMPORT_REGISTERED = 0, /* created or completed by this run */
    TC_IMPORT_ALREADY,        /* found whole: nothing changed */
    TC_IMPORT_REJECTED,       /* failed verification or registration */
};

/* One entry's fate; pointers borrowed for the callback only. */
struct tc_import_entry {
    size_t index;          /* 0-based position in the manifest */
    const char *unique_id; /* "" when the entry had none */
    const char *thing_name;
    enum tc_import_outcome outcome;
    int err;            /* TC_OK unless rejected */
    const char *reason; /* why rejected ("" otherwise) */
};

/* Running counts, after every batch the core answered. */
struct tc_import_progress {
    size_t done; /* entries with an outcome */
    size_t registered;
    size_t already;
    size_t rejected;
    long bytes_done; /* manifest bytes behind the entries done */
    long bytes_total;
    double elapsed; /* seconds since the start */
};

typedef void (*tc_import_entry_fn)(void *ctx,
                                   const struct tc_import_entry *e);
typedef void (*tc_import_progress_fn)(void *ctx,
                                      const struct tc_import_progress *p);

struct tc_import_opts {
    const char *policy_name; /* NULL: Kit_Policy */
    size_t batch;            /* devices per call; 0: the default */
    tc_import_entry_fn on_entry; /* every entry, from either thread, */
    void *entry_ctx;             /* never two calls at once */
    tc_import_progress_fn on_progress;
    void *progress_ctx;
    /* When *stop becomes non-zero (a signal handler), no further batch is
     * sent; the one in flight is answered first. May be NULL. */
    volatile sig_atomic_t *stop;
};

struct tc_import_summary {
    size_t entries; /* entries given an outcome */
    size_t registered;
    size_t already;
    size_t rejected;
    size_t batches;
    double seconds;
};

/*
 * Import the manifest at path (borrowed) with verifier v (borrowed) into
 * the core api talks to (borrowed; used by one thread at a time, so the
 * caller must not use it meanwhile). The thing type and policy are made
 * first if absent (tc_provision_prepare). TC_OK when every entry got an
 * outcome (some may be rejected: see sum); TC_ERR_IMPORT_INTERRUPTED when
 * *stop ended the run; otherwise the file-level or API error, d naming it.
 * sum counts what was done in every case.
 */
int tc_import_run(struct tc_apiclient *api, struct tc_manifest_verifier *v,
                  const char *path, const struct tc_import_opts *o,
                  struct tc_import_summary *sum, struct tc_detail *d);

#endif
