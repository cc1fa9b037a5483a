/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Logging for programs (the library itself never logs). One macro checks the
 * level before any formatting is done.
 *
 * Limitations: writes to stderr only; no syslog.
 */
#ifndef THINGCORE_LOG_H
#define THINGCORE_LOG_H

enum tc_log_level {
    TC_LOG_ERROR = 0,
    TC_LOG_WARNING,
    TC_LOG_NOTICE,
    TC_LOG_INFO,
    TC_LOG_DEBUG,
};

extern int tc_log_level;

/* Set the program name printed on each line (borrowed, must outlive use). */
void tc_log_init(const char *program, int level);
/* Parse "error", "warning", ... ; returns -1 for an unknown name. */
int tc_log_level_parse(const char *name);
void tc_log_write(int level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#define TC_LOG(level, ...)                                                    \
    do {                                                                      \
        if ((level) <= tc_log_level) {                                        \
            tc_log_write((level), __VA_ARGS__);                               \
        }                                                                     \
    } while (0)

#endif
