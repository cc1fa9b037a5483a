/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The secure element emulator daemon: serves every chip image of a folder
 * at once, each on its own Unix socket DIR/<SERIAL>.sock and optionally on
 * a pseudo-terminal (linked from DIR/<SERIAL>.tty), speaking the kit
 * protocol (kit.h). One event loop, many clients; a chip whose state
 * changed is saved before the command is answered.
 *
 * It never logs itself: lines go to the caller's log function. It prints
 * one "serving" line per chip and a "ready" line to opts->out.
 *
 * Limitations: one process serves a folder (a second daemon on the same
 * folder refuses chips whose socket is live); clients of one chip are
 * served in turn, not in parallel; a pty is one serial line, so two hosts
 * opening it at once interleave their lines.
 */
#ifndef THINGCORE_SERVE_H
#define THINGCORE_SERVE_H

#include <stdio.h>

/* Log callback: level is an enum tc_log_level value, msg one line. */
typedef void (*tc_serve_log_fn)(void *arg, int level, const char *msg);

struct tc_serve_opts {
    const char *dir;        /* folder of chip images (borrowed) */
    int pty;                /* also serve each chip on a pty */
    const char *ready_file; /* written once every socket listens, or NULL */
    FILE *out;              /* "serving ..." and "ready" lines, or NULL */
    tc_serve_log_fn log;    /* or NULL */
    void *log_arg;
    /*
     * Non-zero: take SIGINT/SIGTERM (stop) and SIGHUP (rescan) through a
     * signalfd; the thread's signal mask is restored on return.
     */
    int signals;
    int stop_fd; /* readable (or hung up) => stop; -1 for none */
};

/*
 * Serve until stopped. Returns TC_OK after a clean stop (sockets and tty
 * links removed), or an error code when the folder cannot be served at
 * all (the reason is logged). A chip image that does not load is logged
 * and skipped.
 */
int tc_serve_run(const struct tc_serve_opts *opts);

#endif
