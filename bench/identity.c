// SPDX-License-Identifier: Apache-2.0
/*
 * Benchmark: simulated Trust&GO chips manufactured per second (the whole
 * factory line through each chip's own commands: configure, lock, five
 * GenKeys, certificate issue, writes, lock), then identity reads per
 * second (serial, locks, OTP, slots 5/10/11/12, five public keys, both
 * certificates rebuilt) on those chips in this process. Prints its
 * figures; asserts nothing about time.
 *
 * usage: identity [CHIPS]
 */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "thingcore/factory.h"
#include "thingcore/identity.h"
#include "thingcore/se.h"
#include "thingcore/util.h"

int
main(int argc, char **argv)
{
    int count = argc > 1 ? atoi(argv[1]) : 300;
    char dir[] = "/tmp/thingcore-bench-identity.XXXXXX";
    struct tc_factory *f = NULL;
    struct tc_chip **chips;
    struct tc_detail d;
    struct tc_identity id;
    X509 *root;
    double t0;
    double made;
    double read;
    long reads = 0;
    int i;
    int rc;

    if (count < 1) {
        count = 1;
    }
    chips = calloc((size_t)count, sizeof(*chips));
    if (chips == NULL || mkdtemp(dir) == NULL) {
        perror("identity");
        return 1;
    }
    rc = tc_factory_open(dir, 1, &f, &d);
    if (rc != TC_OK) {
        fprintf(stderr, "factory: %s: %s\n", tc_strerror(rc), d.text);
        return 1;
    }
    root = tc_factory_root(f);

    /* The factory line, chip by chip. */
    t0 = tc_monotonic();
    for (i = 0; i < count; i++) {
        rc = tc_factory_make_chip(f, NULL, &chips[i], &d);
        if (rc != TC_OK) {
            fprintf(stderr, "chip %d: %s: %s\n", i, tc_strerror(rc), d.text);
            return 1;
        }
    }
    made = tc_monotonic() - t0;

    /* Identity reads, several rounds over every chip. */
    t0 = tc_monotonic();
    while (tc_monotonic() - t0 < 2.0) {
        for (i = 0; i < count; i++) {
            struct tc_se *se = tc_se_from_chip(chips[i]);

            rc = tc_identity_read(se, &root, 1, &id, &d);
            tc_se_close(se);
            if (rc != TC_OK) {
                fprintf(stderr, "read %d: %s: %s\n", i, tc_strerror(rc),
                        d.text);
                return 1;
            }
            reads++;
        }
    }
    read = tc_monotonic() - t0;

    printf("identity: %d simulated Trust&GO chips, one core\n", count);
    printf("  manufactured:    %8.0f chips/s (%.3f ms per chip)\n",
           count / made, 1000 * made / count);
    printf("  identity reads:  %8.0f reads/s (%.3f ms per read, chip in "
           "process)\n",
           reads / read, 1000 * read / (double)reads);
    for (i = 0; i < count; i++) {
        tc_chip_free(chips[i]);
    }
    free(chips);
    tc_factory_free(f);
    {
        char cmd[128];

        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
        if (system(cmd) != 0) {
            fprintf(stderr, "cannot remove %s\n", dir);
        }
    }
    return 0;
}
