/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Unit tests for pidwatch.c with real child processes on a real sd_event:
 * an exit by SIGKILL is seen within the loop iteration, a zombie (exited
 * before the watch) at once, a reaped one is refused, and watches are
 * one-shot and removable.
 */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "pidwatch.h"

static pid_t seen[8];
static unsigned n_seen;

static void on_exit_cb(struct vs_pidwatch *w, pid_t pid, void *userdata) {
        (void) userdata;
        assert_false(vs_pidwatch_has(w, pid));  /* one-shot: gone before the callback */
        if (n_seen < 8)
                seen[n_seen++] = pid;
}

static pid_t child(void) {
        pid_t p = fork();

        assert_true(p >= 0);
        if (p == 0) {
                for (;;)
                        pause();
        }
        return p;
}

static uint64_t now_us(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000000u + (uint64_t) ts.tv_nsec / 1000u;
}

/* Run the loop until @n exits were seen, 5 s at most. */
static void run_until(sd_event *e, unsigned n) {
        uint64_t deadline = now_us() + 5000000u;
        while (n_seen < n && now_us() < deadline)
                assert_true(sd_event_run(e, 100000) >= 0);
}

static void test_exits(void **state) {
        struct vs_pidwatch *w;
        sd_event *e;
        pid_t a = child(), b = child(), c = child();

        n_seen = 0;
        assert_int_equal(sd_event_new(&e), 0);
        assert_int_equal(vs_pidwatch_new(e, on_exit_cb, NULL, &w), 0);
        assert_int_equal(vs_pidwatch_add(w, a), 1);
        assert_int_equal(vs_pidwatch_add(w, a), 0);
        assert_int_equal(vs_pidwatch_add(w, b), 1);
        assert_int_equal(vs_pidwatch_add(w, c), 1);
        assert_int_equal(vs_pidwatch_count(w), 3);
        assert_int_equal(vs_pidwatch_add(w, 0), -EINVAL);

        /* nothing exits: no callback */
        assert_true(sd_event_run(e, 50000) >= 0);
        assert_int_equal(n_seen, 0);

        /* SIGKILL: seen in the next iteration, long before a second */
        uint64_t t0 = now_us();
        assert_int_equal(kill(b, SIGKILL), 0);
        run_until(e, 1);
        assert_int_equal(n_seen, 1);
        assert_int_equal(seen[0], b);
        assert_true(now_us() - t0 < 1000000u);
        assert_false(vs_pidwatch_has(w, b));
        assert_int_equal(vs_pidwatch_count(w), 2);
        assert_int_equal(waitpid(b, NULL, 0), b);

        /* removed: no callback for its exit */
        assert_int_equal(vs_pidwatch_remove(w, c), 1);
        assert_int_equal(vs_pidwatch_remove(w, c), 0);
        assert_int_equal(kill(c, SIGKILL), 0);
        assert_int_equal(waitpid(c, NULL, 0), c);
        assert_true(sd_event_run(e, 50000) >= 0);
        assert_int_equal(n_seen, 1);

        /* exited before the watch (a zombie, not reaped): reported at once;
         * reaped: refused, the caller knows it is gone */
        pid_t z = child();
        assert_int_equal(kill(z, SIGKILL), 0);
        assert_int_equal(waitid(P_PID, (id_t) z, NULL, WEXITED | WNOWAIT), 0);
        assert_int_equal(vs_pidwatch_add(w, z), 1);
        run_until(e, 2);
        assert_int_equal(seen[1], z);
        assert_int_equal(waitpid(z, NULL, 0), z);
        assert_int_equal(vs_pidwatch_add(w, z), -ESRCH);

        /* freeing with a watch left closes it; the child is not touched */
        assert_int_equal(vs_pidwatch_count(w), 1);
        vs_pidwatch_free(w);
        assert_int_equal(kill(a, 0), 0);
        assert_int_equal(kill(a, SIGKILL), 0);
        assert_int_equal(waitpid(a, NULL, 0), a);
        sd_event_unref(e);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_exits),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
