// SPDX-License-Identifier: Apache-2.0
/*
 * Signatures per second through the emulator daemon's Unix socket: one
 * client on one chip, then two clients on two chips at once, next to the
 * chip's own rate in this process and the machine's OpenSSL ECDSA P-256
 * sign rate (`openssl speed ecdsap256`) as the ceiling. Starts its own
 * `thingcore se serve` child from the build folder; prints figures only.
 *
 * usage: se_sign [SECONDS]   (THINGCORE_BIN overrides the daemon binary)
 */
#include <errno.h>
#include <libgen.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "thingcore/chip.h"
#include "thingcore/se.h"
#include "thingcore/util.h"

static double run_seconds = 2.0;

/* A chip with a key in slot 2, saved under the folder's key. */
static int
make_chip(const char *dir, const uint8_t *key, uint8_t last)
{
    uint8_t sn[TC_ATCA_SN_SIZE] = {0x01, 0x23, 0xBE, 0x4C, 0, 0, 0, 0, 0};
    uint8_t pub[64];
    char name[32];
    char path[512];
    struct tc_chip *chip;
    struct tc_se *se;
    int rc = TC_ERR_INTERNAL;

    sn[8] = last;
    chip = tc_chip_new(sn);
    se = chip != NULL ? tc_se_from_chip(chip) : NULL;
    if (se != NULL && tc_se_configure_trustngo(se, NULL) == TC_OK &&
        tc_se_lock_zone(se, 0, -1, NULL) == TC_OK &&
        tc_se_lock_zone(se, 1, -1, NULL) == TC_OK &&
        tc_se_genkey(se, 2, pub, NULL) == TC_OK) {
        tc_chip_file_name(sn, name);
        snprintf(path, sizeof(path), "%s/%s", dir, name);
        rc = tc_chip_save(chip, path, key, NULL);
    }
    tc_se_close(se);
    tc_chip_free(chip);
    return rc;
}

struct worker {
    struct tc_se *se;
    long count;
    int rc;
};

/* Sign for run_seconds; count what was signed. */
static void *
sign_loop(void *arg)
{
    struct worker *w = arg;
    uint8_t digest[32] = {0x42};
    uint8_t sig[64];
    double end = tc_monotonic() + run_seconds;

    w->count = 0;
    w->rc = TC_OK;
    while (tc_monotonic() < end) {
        w->rc = tc_se_sign(w->se, 2, digest, sig, NULL);
        if (w->rc != TC_OK) {
            break;
        }
        digest[1]++;
        w->count++;
    }
    return NULL;
}

/* Run n workers at once; returns signatures per second in total. */
static double
measure(struct worker *w, int n)
{
    pthread_t th[4];
    double start = tc_monotonic();
    double took;
    long total = 0;
    int i;

    for (i = 0; i < n; i++) {
        pthread_create(&th[i], NULL, sign_loop, &w[i]);
    }
    for (i = 0; i < n; i++) {
        pthread_join(th[i], NULL);
        if (w[i].rc != TC_OK) {
            fprintf(stderr, "se_sign: sign failed: %s\n",
                    tc_strerror(w[i].rc));
            return 0;
        }
        total += w[i].count;
    }
    took = tc_monotonic() - start;
    return total / took;
}

/* OpenSSL's ECDSA P-256 sign/s on this machine, or 0. */
static double
openssl_rate(void)
{
    char cmd[64];
    char line[512];
    double rate = 0;
    FILE *p;

    snprintf(cmd, sizeof(cmd), "openssl speed -seconds %d ecdsap256 2>&1",
             (int)run_seconds);
    p = popen(cmd, "r");
    while (p != NULL && fgets(line, sizeof(line), p) != NULL) {
        double t1;
        double t2;
        double s;

        /* " 256 bits ecdsa (nistp256)   0.0000s   0.0001s  31830.0 ..." */
        if (sscanf(line, " %*d bits ecdsa (nistp256) %lfs %lfs %lf", &t1,
                   &t2, &s) == 3) {
            rate = s;
        }
    }
    if (p != NULL) {
        pclose(p);
    }
    return rate;
}

static pid_t
start_daemon(const char *bin, const char *dir)
{
    char ready[512];
    pid_t pid;
    int i;

    snprintf(ready, sizeof(ready), "%s/ready", dir);
    pid = fork();
    if (pid == 0) {
        if (freopen("/dev/null", "w", stdout) == NULL) {
            _exit(127);
        }
        execl(bin, bin, "se", "serve", "--dir", dir, "--ready-file", ready,
              (char *)NULL);
        _exit(127);
    }
    for (i = 0; pid > 0 && i < 100; i++) {
        if (access(ready, F_OK) == 0) {
            return pid;
        }
        usleep(100000);
    }
    if (pid > 0) {
        kill(pid, SIGTERM);
        waitpid(pid, NULL, 0);
    }
    return -1;
}

int
main(int argc, char **argv)
{
    char dir[] = "/tmp/tc-bench-sign.XXXXXX";
    char bin[1024];
    char path[2][600];
    uint8_t key[TC_CHIP_WRAP_KEY_SIZE];
    struct worker w[2];
    struct tc_chip *chip = NULL;
    double ceiling;
    double inproc;
    double one;
    double two;
    pid_t pid;
    int i;

    if (argc > 1) {
        run_seconds = atof(argv[1]) > 0 ? atof(argv[1]) : 2.0;
    }
    if (getenv("THINGCORE_BIN") != NULL) {
        snprintf(bin, sizeof(bin), "%s", getenv("THINGCORE_BIN"));
    } else {
        char self[900];

        snprintf(self, sizeof(self), "%s", argv[0]);
        snprintf(bin, sizeof(bin), "%s/../thingcore", dirname(self));
    }
    if (mkdtemp(dir) == NULL ||
        tc_chip_folder_key(dir, 1, key, NULL) != TC_OK ||
        make_chip(dir, key, 0x01) != TC_OK ||
        make_chip(dir, key, 0x02) != TC_OK) {
        fprintf(stderr, "se_sign: cannot make chips in %s\n", dir);
        return 1;
    }

    /* The chip alone, in this process: the floor of the daemon's cost. */
    snprintf(path[0], sizeof(path[0]), "%s/0123BE4C00000000%02X.chip", dir,
             0x01);
    if (tc_chip_load(path[0], key, &chip, NULL) != TC_OK) {
        fprintf(stderr, "se_sign: cannot load %s\n", path[0]);
        return 1;
    }
    w[0].se = tc_se_from_chip(chip);
    inproc = measure(w, 1);
    tc_se_close(w[0].se);
    tc_chip_free(chip);

    pid = start_daemon(bin, dir);
    if (pid < 0) {
        fprintf(stderr, "se_sign: daemon %s did not start\n", bin);
        return 1;
    }
    for (i = 0; i < 2; i++) {
        snprintf(path[i], sizeof(path[i]), "unix:%s/0123BE4C00000000%02X.sock",
                 dir, i + 1);
        if (tc_se_open(path[i], &w[i].se, NULL) != TC_OK) {
            fprintf(stderr, "se_sign: cannot open %s\n", path[i]);
            kill(pid, SIGTERM);
            return 1;
        }
    }
    one = measure(w, 1);
    two = measure(w, 2);
    for (i = 0; i < 2; i++) {
        tc_se_close(w[i].se);
    }
    kill(pid, SIGTERM);
    waitpid(pid, NULL, 0);

    ceiling = openssl_rate();
    printf("se_sign: %.1f s per figure\n", run_seconds);
    printf("  openssl ecdsap256 sign          %9.0f sign/s (ceiling)\n",
           ceiling);
    printf("  chip in process (no socket)     %9.0f sign/s\n", inproc);
    printf("  daemon, 1 client on 1 chip      %9.0f sign/s  %5.1f%% of "
           "ceiling\n",
           one, ceiling > 0 ? 100 * one / ceiling : 0);
    printf("  daemon, 2 clients on 2 chips    %9.0f sign/s  %5.1f%% of "
           "ceiling\n",
           two, ceiling > 0 ? 100 * two / ceiling : 0);
    /* The daemon's rate is the better of one and two clients. */
    printf("  target (half the ceiling)       %9.0f sign/s: %s\n",
           ceiling / 2,
           (one > two ? one : two) >= ceiling / 2 ? "met" : "missed");

    /* Leave nothing behind. */
    snprintf(path[0], sizeof(path[0]), "rm -rf '%s'", dir);
    if (system(path[0]) != 0) {
        fprintf(stderr, "se_sign: could not remove %s\n", dir);
    }
    return 0;
}
