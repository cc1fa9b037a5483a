/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A small test harness: TC_TEST(name) defines a test that registers itself
 * before main runs, so a new test file needs no list to be edited. The
 * runner (runner.c) runs every test, or those whose names contain an
 * argument, and ends with "N passed, N failed".
 */
#ifndef THINGCORE_TEST_H
#define THINGCORE_TEST_H

#include <stdio.h>
#include <string.h>

typedef void (*tc_test_fn)(void);

void tc_test_register(const char *name, const char *file, tc_test_fn fn);
void tc_test_fail(const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* A fresh empty folder for this test, removed after the run. */
const char *tc_test_tmpdir(void);

#define TC_TEST(name)                                                         \
    static void test_##name(void);                                            \
    __attribute__((constructor)) static void register_##name(void)            \
    {                                                                         \
        tc_test_register(#name, __FILE__, test_##name);                       \
    }                                                                         \
    static void test_##name(void)

/* Each CHECK records a failure and returns from the test. */
#define CHECK(cond)                                                           \
    do {                                                                      \
        if (!(cond)) {                                                        \
            tc_test_fail(__FILE__, __LINE__, "%s", #cond);                    \
            return;                                                           \
        }                                                                     \
    } while (0)

#define CHECK_EQ_INT(a, b)                                                    \
    do {                                                                      \
        long long a_ = (long long)(a);                                        \
        long long b_ = (long long)(b);                                        \
        if (a_ != b_) {                                                       \
            tc_test_fail(__FILE__, __LINE__, "%s == %s (%lld != %lld)", #a,   \
                         #b, a_, b_);                                         \
            return;                                                           \
        }                                                                     \
    } while (0)

#define CHECK_EQ_STR(a, b)                                                    \
    do {                                                                      \
        const char *a_ = (a);                                                 \
        const char *b_ = (b);                                                 \
        if (a_ == NULL || b_ == NULL || strcmp(a_, b_) != 0) {                \
            tc_test_fail(__FILE__, __LINE__, "%s == %s (\"%s\" != \"%s\")",   \
                         #a, #b, a_ ? a_ : "(null)", b_ ? b_ : "(null)");     \
            return;                                                           \
        }                                                                     \
    } while (0)

#define CHECK_EQ_MEM(a, b, n)                                                 \
    do {                                                                      \
        if (memcmp((a), (b), (n)) != 0) {                                     \
            tc_test_fail(__FILE__, __LINE__, "%s == %s (%zu bytes differ)",   \
                         #a, #b, (size_t)(n));                                \
            return;                                                           \
        }                                                                     \
    } while (0)

#endif
