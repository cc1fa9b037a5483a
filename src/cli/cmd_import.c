// SPDX-License-Identifier: Apache-2.0
/*
 * thingcore import: a manufacturer manifest (a reel of Trust&GO chips)
 * verified entry by entry and registered in bulk into a running core,
 * with a progress bar on a terminal and a final table. Interrupted and
 * run again, it finishes the job; the library and the core's one
 * transaction per batch make that safe.
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "cli.h"
#include "thingcore/datadir.h"
#include "thingcore/import.h"
#include "thingcore/util.h"

/* Certificate files are small; a bundle of signers stays well below. */
#define CERT_FILE_MAX (1 << 20)
/* Rejected entries listed in the table, and in --json. */
#define LIST_TEXT 20
#define LIST_JSON 1000

static volatile sig_atomic_t stop_flag;

static void
on_signal(int sig)
{
    (void)sig;
    stop_flag = 1;
}

/* A rejected entry kept for the report. */
struct rejected {
    size_t index;
    char unique_id[19];
    int err;
    char reason[256];
};

struct report {
    int json;
    int bar; /* a progress bar on stderr */
    size_t cap;
    struct rejected *list; /* the cap lowest indices, sorted */
    size_t n;
    size_t more; /* rejected but not kept */
    double last_draw;
};

/* Keep the rejected entries of lowest index, sorted, at most cap. */
static void
on_entry(void *ctx, const struct tc_import_entry *e)
{
    struct report *r = ctx;
    struct rejected *slot;
    size_t at;

    if (e->outcome != TC_IMPORT_REJECTED) {
        return;
    }
    at = r->n;
    while (at > 0 && r->list[at - 1].index > e->index) {
        at--;
    }
    if (r->n == r->cap) {
        r->more++;
        if (at == r->cap) {
            return;
        }
        r->n--;
    }
    memmove(&r->list[at + 1], &r->list[at], (r->n - at) * sizeof(*r->list));
    slot = &r->list[at];
    slot->index = e->index;
    snprintf(slot->unique_id, sizeof(slot->unique_id), "%s", e->unique_id);
    slot->err = e->err;
    snprintf(slot->reason, sizeof(slot->reason), "%s", e->reason);
    r->n++;
}

/* "[#####.....]  1200 done  1850/s  ETA 0:03", at most 10 times a second. */
static void
on_progress(void *ctx, const struct tc_import_progress *p)
{
    struct report *r = ctx;
    double frac = p->bytes_total > 0
                      ? (double)p->bytes_done / (double)p->bytes_total
                      : 0;
    double rate = p->elapsed > 0 ? (double)p->done / p->elapsed : 0;
    double eta = frac > 0 ? p->elapsed * (1 - frac) / frac : 0;
    char bar[31];
    int i;

    if (!r->bar || p->elapsed - r->last_draw < 0.1) {
        return;
    }
    r->last_draw = p->elapsed;
    for (i = 0; i < 30; i++) {
        bar[i] = i < (int)(frac * 30) ? '#' : '.';
    }
    bar[30] = '\0';
    fprintf(stderr, "\r[%s] %7zu done %6.0f/s  ETA %d:%02d ", bar, p->done,
            rate, (int)eta / 60, (int)eta % 60);
    fflush(stderr);
}

static void
print_table(const char *file, const struct tc_import_summary *s,
            const struct report *r, int rc)
{
    size_t i;

    printf("import %s: %zu entries in %.1f s (%.0f devices/s)%s\n", file,
           s->entries, s->seconds,
           s->seconds > 0 ? (double)s->entries / s->seconds : 0.0,
           rc == TC_ERR_IMPORT_INTERRUPTED ? ", interrupted" : "");
    printf("  %-16s %8zu\n", "registered", s->registered);
    printf("  %-16s %8zu\n", "already present", s->already);
    printf("  %-16s %8zu\n", "rejected", s->rejected);
    if (r->n == 0) {
        return;
    }
    printf("rejected:\n  %-7s %-18s %s\n", "index", "uniqueId", "reason");
    for (i = 0; i < r->n; i++) {
        printf("  %-7zu %-18s %s\n", r->list[i].index,
               r->list[i].unique_id[0] ? r->list[i].unique_id : "-",
               r->list[i].reason);
    }
    if (r->more > 0) {
        printf("  ... and %zu more\n", r->more);
    }
}

static void
print_json(const char *file, const struct tc_import_summary *s,
           const struct report *r, int rc)
{
    json_t *list = json_array();
    json_t *o;
    char *text;
    size_t i;

    for (i = 0; i < r->n; i++) {
        json_array_append_new(
            list, json_pack("{s:I, s:s, s:s, s:s}", "index",
                            (json_int_t)r->list[i].index, "uniqueId",
                            r->list[i].unique_id, "code",
                            tc_errname(r->list[i].err), "reason",
                            r->list[i].reason));
    }
    o = json_pack("{s:s, s:I, s:I, s:I, s:I, s:f, s:b, s:o, s:I}",
                  "manifest", file, "entries", (json_int_t)s->entries,
                  "registered", (json_int_t)s->registered, "alreadyPresent",
                  (json_int_t)s->already, "rejected",
                  (json_int_t)s->rejected, "seconds", s->seconds,
                  "interrupted", rc == TC_ERR_IMPORT_INTERRUPTED,
                  "rejectedEntries", list, "rejectedNotListed",
                  (json_int_t)r->more);
    text = o != NULL ? json_dumps(o, JSON_INDENT(2)) : NULL;
    if (text != NULL) {
        printf("%s\n", text);
    }
    free(text);
    json_decref(o);
}

static const char import_usage[] =
    "usage: thingcore import MANIFEST --signer CERT... --trust ROOT...\n"
    "                        [--batch N] [--policy NAME] [--data DIR]\n"
    "                        [--endpoint-url URL] [--json]\n"
    "Register every device of a manufacturer manifest with the core.\n"
    "Each entry is verified first (its signature by a --signer manifest\n"
    "signer, its certificate chain to a --trust root, as 'thingcore\n"
    "manifest verify' checks them); verified devices are registered in\n"
    "batches of N (default 250, at most 500), each applied by the core in\n"
    "one transaction: certificate without CA with its chain, ACTIVE,\n"
    "policy NAME (default Kit_Policy) attached, thing <SERIAL> of type\n"
    "microchip-tng, certificate attached, as 'thingcore register' does.\n"
    "Prints a table: registered, already present, rejected with reasons.\n"
    "Interrupted (Ctrl-C, a crash) and run again, it finishes the job: no\n"
    "device is ever left half registered. Exit status 0 when no entry was\n"
    "rejected, 1 otherwise. Credentials: as for 'thingcore register'.\n"
    "Needs a thingcore core: AWS IoT has no bulk registration operation.\n";

int
cmd_import(int argc, char **argv)
{
    static const struct option opts[] = {
        {"signer", required_argument, NULL, 's'},
        {"trust", required_argument, NULL, 't'},
        {"batch", required_argument, NULL, 'b'},
        {"policy", required_argument, NULL, 'p'},
        {"data", required_argument, NULL, 'd'},
        {"endpoint-url", required_argument, NULL, 'e'},
        {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct tc_manifest_verifier *v = NULL;
    struct tc_apiclient *api = NULL;
    struct tc_import_opts io;
    struct tc_import_summary sum;
    struct tc_datadir dd;
    struct tc_detail d;
    struct report rep;
    struct sigaction sa;
    struct sigaction old_int;
    struct sigaction old_term;
    const char *data = NULL;
    const char *url = NULL;
    const char *file;
    int have_dd = 0;
    int nsigners = 0;
    int ntrust = 0;
    int status = CLI_EXIT_USAGE;
    int rc = TC_OK;
    int c;

    memset(&io, 0, sizeof(io));
    memset(&rep, 0, sizeof(rep));
    memset(&dd, 0, sizeof(dd));
    tc_detail_clear(&d);
    if (tc_manifest_verifier_new(&v) != TC_OK) {
        return cli_fail("import", TC_ERR_NOMEM, NULL);
    }
    optind = 1;
    while ((c = getopt_long(argc, argv, "s:t:b:p:d:e:jh", opts, NULL)) !=
           -1) {
        if (c == 's' || c == 't') {
            rc = cli_verifier_add_file(v, optarg, c == 't', &d);
            if (rc != TC_OK) {
                status = cli_fail(optarg, rc, &d);
                goto out;
            }
            nsigners += c == 's';
            ntrust += c == 't';
        } else if (c == 'b') {
            char *end = NULL;
            long n = strtol(optarg, &end, 10);

            if (end == optarg || *end != '\0' || n < 1 || n > 500) {
                fprintf(stderr, "thingcore import: --batch '%s': give 1 to "
                                "500\n",
                        optarg);
                goto out;
            }
            io.batch = (size_t)n;
        } else if (c == 'p') {
            io.policy_name = optarg;
        } else if (c == 'd') {
            data = optarg;
        } else if (c == 'e') {
            url = optarg;
        } else if (c == 'j') {
            rep.json = 1;
        } else if (c == 'h') {
            fputs(import_usage, stdout);
            status = CLI_EXIT_OK;
            goto out;
        } else {
            fputs(import_usage, stderr);
            goto out;
        }
    }

    /* Without anchors nothing could be trusted: say so before any work. */
    if (optind + 1 != argc || nsigners == 0 || ntrust == 0) {
        if (optind + 1 == argc) {
            fprintf(stderr, "thingcore import: give at least one --signer "
                            "(the manifest signer) and one --trust (the "
                            "manufacturer's root)\n");
        }
        fputs(import_usage, stderr);
        goto out;
    }
    file = argv[optind];
    status = CLI_EXIT_FAIL;
    rc = cli_api_open(url, data, &dd, &have_dd, &api, &d);
    if (rc != TC_OK) {
        cli_fail("import", rc, &d);
        goto out;
    }

    rep.cap = rep.json ? LIST_JSON : LIST_TEXT;
    rep.list = calloc(rep.cap, sizeof(*rep.list));
    if (rep.list == NULL) {
        cli_fail("import", TC_ERR_NOMEM, NULL);
        goto out;
    }
    rep.bar = !rep.json && isatty(STDERR_FILENO);
    io.on_entry = on_entry;
    io.entry_ctx = &rep;
    io.on_progress = on_progress;
    io.progress_ctx = &rep;
    io.stop = &stop_flag;

    /* The first Ctrl-C finishes the batch in flight; a second one kills,
     * which is safe too. */
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sa.sa_flags = SA_RESETHAND;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);
    rc = tc_import_run(api, v, file, &io, &sum, &d);
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    if (rep.bar) {
        fputs("\r\033[K", stderr);
    }

    if (rep.json) {
        print_json(file, &sum, &rep, rc);
    } else {
        print_table(file, &sum, &rep, rc);
    }
    if (rc != TC_OK) {
        cli_fail("import", rc, &d);
    } else if (sum.rejected == 0) {
        status = CLI_EXIT_OK;
    }

out:
    free(rep.list);
    tc_apiclient_free(api);
    tc_datadir_clear(&dd);
    tc_manifest_verifier_free(v);
    return status;
}
