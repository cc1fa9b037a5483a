// SPDX-License-Identifier: Apache-2.0
/*
 * Runs the registered unit tests in registration order and prints one line
 * per failure and a closing "N passed, N failed".
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "test.h"

#define MAX_TESTS 4096

struct test {
    const char *name;
    const char *file;
    tc_test_fn fn;
};

static struct test tests[MAX_TESTS];
static int ntests;
static int failed_current;
static char tmpdir[256];

void
tc_test_register(const char *name, const char *file, tc_test_fn fn)
{
    if (ntests == MAX_TESTS) {
        fprintf(stderr, "too many tests\n");
        exit(2);
    }
    tests[ntests].name = name;
    tests[ntests].file = file;
    tests[ntests].fn = fn;
    ntests++;
}

void
tc_test_fail(const char *file, int line, const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "  %s:%d: check failed: ", file, line);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    failed_current = 1;
}

const char *
tc_test_tmpdir(void)
{
    char cmd[300];

    if (tmpdir[0] != '\0') {
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
        if (system(cmd) != 0) {
            fprintf(stderr, "cannot clean %s\n", tmpdir);
        }
    }
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/thingcore-unit-XXXXXX");
    if (mkdtemp(tmpdir) == NULL) {
        perror("mkdtemp");
        exit(2);
    }
    return tmpdir;
}

static int
selected(const char *name, int argc, char **argv)
{
    int i;

    if (argc < 2) {
        return 1;
    }
    for (i = 1; i < argc; i++) {
        if (strstr(name, argv[i]) != NULL) {
            return 1;
        }
    }
    return 0;
}

int
main(int argc, char **argv)
{
    int passed = 0;
    int failed = 0;
    int i;

    for (i = 0; i < ntests; i++) {
        if (!selected(tests[i].name, argc, argv)) {
            continue;
        }
        failed_current = 0;
        tests[i].fn();
        if (failed_current) {
            fprintf(stderr, "FAIL %s (%s)\n", tests[i].name, tests[i].file);
            failed++;
        } else {
            if (getenv("TC_TEST_VERBOSE") != NULL) {
                fprintf(stderr, "ok   %s\n", tests[i].name);
            }
            passed++;
        }
        if (tmpdir[0] != '\0') {
            char cmd[300];

            snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
            if (system(cmd) != 0) {
                fprintf(stderr, "cannot clean %s\n", tmpdir);
            }
            tmpdir[0] = '\0';
        }
    }
    printf("unit: %d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}
