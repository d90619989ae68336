/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * actuator-driver - a tiny CLI over lib/actuator.c and lib/cgroup.c for the
 * real-cgroup system tests (tests/system/110-*.sh).  A test fixture, not a
 * tool: it writes exactly the (dir, file) pairs it is given.
 *
 *   set STATE_DIR DIR FILE VALUE [DIR FILE VALUE]...
 *        write through a new actuator and exit WITHOUT restoring (the
 *        journal stays, as after a crash)
 *   hold STATE_DIR DIR FILE VALUE [DIR FILE VALUE]...
 *        the same, prints "ready", then re-applies every 50 ms (an epoch)
 *        until SIGTERM/SIGINT, then restores and exits 0; SIGKILL leaves the
 *        journal behind
 *   restore STATE_DIR
 *        vs_journal_restore(): prints "restored N skipped M"
 *   dir MOUNTINFO KNOB PROC_CGROUP VCPU
 *        vs_cg_host_detect() + vs_cg_dir(): prints "DIR FILE v1|v2"
 *
 * Exit: 0 ok, 1 an operation failed, 2 usage.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "actuator.h"
#include "cgroup.h"

static int usage(void) {
        fprintf(stderr,
                "usage: actuator-driver set|hold STATE_DIR DIR FILE VALUE [DIR FILE VALUE]...\n"
                "       actuator-driver restore STATE_DIR\n"
                "       actuator-driver dir MOUNTINFO weight|idle|cpuset|freeze PROC_CGROUP VCPU\n");
        return 2;
}

static int apply(struct vs_actuator *a, char **t, int n, bool quiet, bool *gone) {
        int failed = 0;

        for (int i = 0; i < n; i++) {
                const char *dir = t[3 * i], *file = t[3 * i + 1], *value = t[3 * i + 2];
                int r = vs_actuator_set(a, dir, file, value);

                if (r == 1)
                        printf("external change %s/%s: baseline now %s\n", dir, file,
                               vs_actuator_original(a, dir, file) ?: "?");
                else if (r == -ENOENT) {
                        if (!gone[i])
                                printf("gone %s/%s\n", dir, file);
                        gone[i] = true;
                } else if (r < 0) {
                        printf("set %s/%s %s: %s\n", dir, file, value, strerror(-r));
                        failed = 1;
                } else if (!quiet)
                        printf("set %s/%s %s: ok\n", dir, file, value);
        }
        return failed;
}

static int do_set(int argc, char **argv, bool hold) {
        struct vs_actuator *a;
        int n, r, failed;
        bool *gone;

        if (argc < 6 || (argc - 3) % 3 != 0)
                return usage();
        n = (argc - 3) / 3;

        sigset_t mask;
        sigemptyset(&mask);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGINT);
        if (hold)
                (void) sigprocmask(SIG_BLOCK, &mask, NULL);

        r = vs_actuator_new(argv[2], &a);
        if (r < 0) {
                printf("actuator %s: %s\n", argv[2], strerror(-r));
                return 1;
        }
        gone = calloc(n, sizeof(*gone));
        if (!gone) {
                vs_actuator_free(a);
                return 1;
        }
        failed = apply(a, argv + 3, n, false, gone);
        if (!hold) {
                printf("changed %zu\n", vs_actuator_n_changed(a));
                vs_actuator_free(a);    /* no restore: the journal stays */
                free(gone);
                return failed;
        }

        printf("ready\n");
        for (;;) {
                struct timespec ts = { 0, 50 * 1000 * 1000 };
                int sig = sigtimedwait(&mask, NULL, &ts);
                if (sig > 0)
                        break;
                (void) apply(a, argv + 3, n, true, gone);
        }
        size_t restored = 0, skipped = 0;
        r = vs_actuator_restore(a, &restored, &skipped);
        printf("restored %zu skipped %zu%s%s\n", restored, skipped, r < 0 ? ": " : "",
               r < 0 ? strerror(-r) : "");
        vs_actuator_free(a);
        free(gone);
        return r < 0;
}

static int do_restore(int argc, char **argv) {
        size_t skipped = 0;
        int r;

        if (argc != 3)
                return usage();
        r = vs_journal_restore(argv[2], &skipped);
        if (r < 0) {
                printf("restore %s: %s\n", argv[2], strerror(-r));
                return 1;
        }
        printf("restored %d skipped %zu\n", r, skipped);
        return 0;
}

static int do_dir(int argc, char **argv) {
        struct vs_cg_host *h;
        char buf[4096];
        int k, r;

        if (argc != 6)
                return usage();
        for (k = 0; k < _VS_KNOB_MAX; k++)
                if (strcmp(argv[3], vs_knob_name(k)) == 0)
                        break;
        if (k == _VS_KNOB_MAX)
                return usage();
        h = malloc(sizeof(*h));         /* ~32 KiB: not on the stack */
        if (!h)
                return 1;
        r = vs_cg_host_detect(argv[2], h);
        if (r >= 0)
                r = vs_cg_dir(h, k, argv[4], atoi(argv[5]), buf, sizeof(buf));
        if (r < 0)
                printf("error %s\n", strerror(-r));
        else
                printf("%s %s %s\n", buf, vs_cg_knob_file(h, k), h->v2[k] ? "v2" : "v1");
        free(h);
        return r < 0;
}

int main(int argc, char **argv) {
        setvbuf(stdout, NULL, _IOLBF, 0);
        if (argc < 3)
                return usage();
        if (strcmp(argv[1], "set") == 0)
                return do_set(argc, argv, false);
        if (strcmp(argv[1], "hold") == 0)
                return do_set(argc, argv, true);
        if (strcmp(argv[1], "restore") == 0)
                return do_restore(argc, argv);
        if (strcmp(argv[1], "dir") == 0)
                return do_dir(argc, argv);
        return usage();
}
