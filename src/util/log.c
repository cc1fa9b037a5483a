// SPDX-License-Identifier: Apache-2.0
/*
 * Program logging to stderr: time, program, level, message. The library
 * proper never calls this; programs do.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "thingcore/log.h"

int tc_log_level = TC_LOG_NOTICE;
static const char *log_program = "thingcore";

static const char *const level_names[] = {
    "error", "warning", "notice", "info", "debug",
};

void
tc_log_init(const char *program, int level)
{
    log_program = program;
    tc_log_level = level;
}

int
tc_log_level_parse(const char *name)
{
    int i;

    for (i = 0; i <= TC_LOG_DEBUG; i++) {
        if (strcmp(name, level_names[i]) == 0) {
            return i;
        }
    }
    return -1;
}

void
tc_log_write(int level, const char *fmt, ...)
{
    char stamp[32];
    struct timespec ts;
    struct tm tm;
    va_list ap;

    if (level < 0 || level > TC_LOG_DEBUG) {
        level = TC_LOG_ERROR;
    }
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);

    /* One fprintf per line keeps lines whole when processes share stderr. */
    {
        char msg[1024];

        va_start(ap, fmt);
        vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        fprintf(stderr, "%s.%03ldZ %s %s: %s\n", stamp, ts.tv_nsec / 1000000,
                log_program, level_names[level], msg);
    }
}
