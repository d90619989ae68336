/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Unit tests for schedstat.c and run-delay.c (CPU ready per vCPU):
 *  - the parser on good lines and hostile ones (truncated, empty, signs,
 *    tabs, NULs, garbage, 2^64 - 1 and 2^64, a longer line of a later kernel);
 *  - reads in a fake /proc tree: a vanished thread (-ESRCH), a kernel without
 *    the file (-EOPNOTSUPP), a truncated or oversized file;
 *  - reads of real threads of this host: two threads spinning on one CPU
 *    must each wait for it (run delay > 0 and growing), an exited thread is
 *    gone;
 *  - the run-delay table from schedstat (topology threads, skipped threads
 *    counted by reason, duplicates, lookups) and from a trace (analysis of
 *    sched_switch/sched_wakeup: preempted + woken time, the open interval).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "analysis.h"
#include "run-delay.h"
#include "schedstat.h"
#include "topology.h"

static int parse(const char *s, struct vs_schedstat *st) {
        return vs_schedstat_parse(s, strlen(s), st);
}

static void test_parse_good(void **state) {
        struct vs_schedstat st;

        assert_int_equal(parse("123 456 7\n", &st), 0);
        assert_int_equal(st.cpu_ns, 123);
        assert_int_equal(st.run_delay_ns, 456);
        assert_int_equal(st.timeslices, 7);
        /* no newline; a later kernel's extra numbers; "0 0 0" (accounting off) */
        assert_int_equal(parse("1 2 3", &st), 0);
        assert_int_equal(st.run_delay_ns, 2);
        assert_int_equal(parse("1 2 3 4 5\n", &st), 0);
        assert_int_equal(st.timeslices, 3);
        assert_int_equal(parse("0 0 0\n", &st), 0);
        assert_int_equal(st.cpu_ns + st.run_delay_ns + st.timeslices, 0);
        /* the largest value there is */
        assert_int_equal(parse("18446744073709551615 18446744073709551615 1\n", &st), 0);
        assert_true(st.run_delay_ns == UINT64_MAX);
        assert_int_equal(parse("00000000000000000000000000000000001 2 3\n", &st), 0);
        assert_int_equal(st.cpu_ns, 1);
}

static void test_parse_hostile(void **state) {
        static const char *const bad[] = {
                "", "\n", "1", "1 2", "1 2 ", "1 2\n", " 1 2 3", "1  2 3x", "1 2 3x", "1 2 3\n\n", "1\t2\t3",
                "-1 2 3", "+1 2 3", "1 -2 3", "1 2 3.5", "1,2,3", "0x10 2 3", "one two three", "1 2 3\n4 5 6\n",
                "1 2 3 junk\n",
        };
        struct vs_schedstat st = { 9, 9, 9 };

        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                int r = parse(bad[i], &st);
                if (r != -EBADMSG)
                        fail_msg("'%s': got %d, want -EBADMSG", bad[i], r);
        }
        /* a NUL inside the bytes read */
        assert_int_equal(vs_schedstat_parse("1 2 3\0", 6, &st), -EBADMSG);
        assert_int_equal(vs_schedstat_parse("1 2\0 3", 6, &st), -EBADMSG);
        /* the length is respected: "1 2 3" cut to "1 2" */
        assert_int_equal(vs_schedstat_parse("1 2 3", 3, &st), -EBADMSG);
        assert_int_equal(vs_schedstat_parse(NULL, 0, &st), -EBADMSG);
        /* 2^64 and beyond */
        assert_int_equal(parse("18446744073709551616 1 1\n", &st), -ERANGE);
        assert_int_equal(parse("1 99999999999999999999999999999 1\n", &st), -ERANGE);
        assert_int_equal(parse("1 2 184467440737095516150\n", &st), -ERANGE);
        /* failures leave the output alone */
        assert_int_equal(st.cpu_ns, 9);
        assert_int_equal(st.run_delay_ns, 9);
}

/* ---------------------------------------------------------------- fake /proc */

static void mkdirs(const char *root, const char *fmt, ...) {
        char sub[256], path[512], *p;
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(sub, sizeof(sub), fmt, ap);
        va_end(ap);
        snprintf(path, sizeof(path), "%s/%s", root, sub);
        for (p = path + strlen(root) + 1; (p = strchr(p, '/')); p++) {
                *p = 0;
                assert_true(mkdir(path, 0755) == 0 || errno == EEXIST);
                *p = '/';
        }
        assert_true(mkdir(path, 0755) == 0 || errno == EEXIST);
}

static void put(const char *root, int tgid, int tid, const char *data, size_t len) {
        char path[512];
        FILE *f;

        mkdirs(root, "%d/task/%d", tgid, tid);
        snprintf(path, sizeof(path), "%s/%d/task/%d/schedstat", root, tgid, tid);
        f = fopen(path, "w");
        assert_non_null(f);
        assert_int_equal(fwrite(data, 1, len, f), len);
        fclose(f);
}

static void rm_rf(const char *path) {
        char cmd[600];
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", path);
        assert_int_equal(system(cmd), 0);
}

static void test_read_fake_tree(void **state) {
        char root[] = "/tmp/vs-schedstat-XXXXXX";
        struct vs_schedstat st = { 0 };
        char big[1000];

        assert_non_null(mkdtemp(root));
        put(root, 100, 101, "5000 7000 3\n", 12);
        assert_int_equal(vs_schedstat_read(root, 100, 101, &st), 0);
        assert_int_equal(st.run_delay_ns, 7000);
        /* the TGID matters: the same TID under another process is not there */
        assert_int_equal(vs_schedstat_read(root, 200, 101, &st), -ESRCH);
        /* no TGID: the TID's own directory */
        put(root, 102, 102, "1 2 3\n", 6);
        assert_int_equal(vs_schedstat_read(root, -1, 102, &st), 0);
        assert_int_equal(st.run_delay_ns, 2);
        /* vanished thread; no proc tree at all */
        assert_int_equal(vs_schedstat_read(root, 100, 999, &st), -ESRCH);
        assert_int_equal(vs_schedstat_read("/nonexistent-proc-root", 100, 101, &st), -ESRCH);
        /* the thread is there but the kernel has no schedstat file */
        mkdirs(root, "100/task/103");
        assert_int_equal(vs_schedstat_read(root, 100, 103, &st), -EOPNOTSUPP);
        /* truncated, empty, oversized */
        put(root, 100, 104, "5000 70", 7);
        assert_int_equal(vs_schedstat_read(root, 100, 104, &st), -EBADMSG);
        put(root, 100, 105, "", 0);
        assert_int_equal(vs_schedstat_read(root, 100, 105, &st), -EBADMSG);
        memset(big, '1', sizeof(big));
        big[3] = big[7] = ' ';
        put(root, 100, 106, big, sizeof(big));
        assert_int_equal(vs_schedstat_read(root, 100, 106, &st), -EBADMSG);
        /* bad TID */
        assert_int_equal(vs_schedstat_read(root, 100, 0, &st), -EINVAL);
        assert_int_equal(vs_schedstat_read(root, 100, -5, &st), -EINVAL);
        /* nothing above changed the last good value */
        assert_int_equal(st.run_delay_ns, 2);
        rm_rf(root);
}

/* ---------------------------------------------------------------- real threads */

struct spinner {
        pthread_barrier_t *go;
        volatile int *stop;
        pid_t tid;
        int cpu;
};

static void *spin(void *arg) {
        struct spinner *s = arg;
        cpu_set_t set;

        CPU_ZERO(&set);
        CPU_SET(s->cpu, &set);
        (void) pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
        s->tid = (pid_t) syscall(SYS_gettid);
        pthread_barrier_wait(s->go);
        while (!*s->stop)
                ;
        return NULL;
}

static uint64_t now_ns(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000000000u + (uint64_t) ts.tv_nsec;
}

static void sleep_ms(unsigned ms) {
        struct timespec ts = { ms / 1000, (long) (ms % 1000) * 1000000L };
        nanosleep(&ts, NULL);
}

static void test_read_real_threads(void **state) {
        pthread_barrier_t go;
        volatile int stop = 0;
        struct spinner s[2];
        pthread_t th[2];
        struct vs_schedstat a[2], b[2], self;
        cpu_set_t mine;
        int cpu = 0, r;

        /* this very thread */
        r = vs_schedstat_read("/proc", getpid(), (int32_t) syscall(SYS_gettid), &self);
        if (r == -EOPNOTSUPP)
                skip();         /* a kernel without CONFIG_SCHED_INFO */
        assert_int_equal(r, 0);
        assert_true(self.cpu_ns > 0);
        assert_true(self.timeslices > 0);

        /* two threads spinning on one CPU of ours: each waits while the
         * other runs, so each one's run delay grows */
        assert_int_equal(sched_getaffinity(0, sizeof(mine), &mine), 0);
        while (cpu < CPU_SETSIZE && !CPU_ISSET(cpu, &mine))
                cpu++;
        assert_int_equal(pthread_barrier_init(&go, NULL, 3), 0);
        for (int i = 0; i < 2; i++) {
                s[i] = (struct spinner) { .go = &go, .stop = &stop, .cpu = cpu };
                assert_int_equal(pthread_create(&th[i], NULL, spin, &s[i]), 0);
        }
        uint64_t start = now_ns();
        pthread_barrier_wait(&go);
        /* On a loaded host a spinner may get no CPU for a while: wait (up
         * to 10 s) until both have run and waited, rather than assume
         * 150 ms is enough. */
        for (int tries = 0;; tries++) {
                sleep_ms(50);
                for (int i = 0; i < 2; i++)
                        assert_int_equal(vs_schedstat_read(NULL, getpid(), s[i].tid, &a[i]), 0);
                if ((a[0].run_delay_ns > 0 && a[1].run_delay_ns > 0) || tries >= 200)
                        break;
        }
        uint64_t t0 = now_ns();
        for (int tries = 0;; tries++) {
                sleep_ms(tries ? 50 : 150);
                for (int i = 0; i < 2; i++)
                        assert_int_equal(vs_schedstat_read("/proc", getpid(), s[i].tid, &b[i]), 0);
                if ((b[0].timeslices > a[0].timeslices && b[1].timeslices > a[1].timeslices &&
                     b[0].run_delay_ns > a[0].run_delay_ns && b[1].run_delay_ns > a[1].run_delay_ns) ||
                    tries >= 200)
                        break;
        }
        uint64_t dt = now_ns() - t0, since_start = now_ns() - start;
        stop = 1;
        for (int i = 0; i < 2; i++)
                assert_int_equal(pthread_join(th[i], NULL), 0);
        for (int i = 0; i < 2; i++) {
                print_message("spinner %d on CPU %d: run delay %.1f ms -> %.1f ms (+%.1f ms in %.1f ms), "
                              "cpu +%.1f ms, timeslices +%llu\n",
                              i, cpu, a[i].run_delay_ns / 1e6, b[i].run_delay_ns / 1e6,
                              (b[i].run_delay_ns - a[i].run_delay_ns) / 1e6, dt / 1e6,
                              (b[i].cpu_ns - a[i].cpu_ns) / 1e6, (unsigned long long) (b[i].timeslices - a[i].timeslices));
                assert_true(a[i].run_delay_ns > 0);
                assert_true(b[i].run_delay_ns > a[i].run_delay_ns);
                assert_true(b[i].cpu_ns >= a[i].cpu_ns);
                assert_true(b[i].timeslices > a[i].timeslices);
                /* never more waiting than wall time went by (a wait is
                 * counted when it ends, so one that began before the first
                 * read may land in the interval: bound by the threads' life) */
                assert_true(b[i].run_delay_ns - a[i].run_delay_ns <= since_start);
        }
        /* both shared one CPU: together they waited a good part of the interval
         * (each waits while the other runs; other load only adds to it) */
        assert_true((b[0].run_delay_ns - a[0].run_delay_ns) + (b[1].run_delay_ns - a[1].run_delay_ns) > dt / 4);

        /* joined: gone */
        assert_int_equal(vs_schedstat_read("/proc", getpid(), s[0].tid, &a[0]), -ESRCH);
        pthread_barrier_destroy(&go);
}

/* ---------------------------------------------------------------- the table */

static void learn(struct vs_topology *t, int32_t tid, int32_t tgid, const char *comm, const char *vm) {
        struct vs_thread_info ti = { .tid = tid, .tgid = tgid, .comm = comm, .apic_id = -1, .vm_name = vm };
        assert_int_equal(vs_topology_learn_thread(t, &ti), 0);
}

static void test_table_from_schedstat(void **state) {
        char root[] = "/tmp/vs-schedstat-XXXXXX";
        struct vs_topology *t;
        struct vs_run_delay rd;
        const struct vs_run_delay_row *row;
        uint64_t total;

        assert_non_null(mkdtemp(root));
        assert_int_equal(vs_topology_new(&t), 0);
        learn(t, 101, 100, "CPU 0/KVM", "web");
        learn(t, 102, 100, "CPU 1/KVM", "web");
        learn(t, 103, 100, "CPU 2/KVM", "web");        /* vanished */
        learn(t, 104, 100, "CPU 3/KVM", "web");        /* truncated file */
        learn(t, 201, 200, "CPU 0/KVM", "db");
        learn(t, 202, 200, "CPU 1/KVM", "db");         /* kernel without the file */
        learn(t, 100, 100, "qemu-system-x86", "web");  /* not a vCPU: not read */
        put(root, 100, 101, "10 1000 1\n", 10);
        put(root, 100, 102, "10 2000 1\n", 10);
        put(root, 100, 104, "10 20", 5);
        put(root, 200, 201, "10 18446744073709551615 1\n", 26);
        mkdirs(root, "200/task/202");
        put(root, 100, 100, "10 99999 1\n", 11);

        assert_int_equal(vs_run_delay_from_schedstat(t, root, &rd), 0);
        assert_int_equal(rd.source, VS_RUN_DELAY_SCHEDSTAT);
        assert_string_equal(vs_run_delay_source_name(rd.source), "schedstat");
        assert_int_equal(rd.n_rows, 3);
        assert_int_equal(rd.gone, 1);
        assert_int_equal(rd.unsupported, 1);
        assert_int_equal(rd.failed, 1);
        /* sorted: db before web */
        assert_string_equal(rd.rows[0].vm, "db");
        row = vs_run_delay_find(&rd, "web", 1);
        assert_non_null(row);
        assert_int_equal(row->tid, 102);
        assert_int_equal(row->run_delay_ns, 2000);
        assert_null(vs_run_delay_find(&rd, "web", 2));
        assert_null(vs_run_delay_find(&rd, "nosuch", 0));
        assert_int_equal(vs_run_delay_vm_total(&rd, "web", &total), 2);
        assert_int_equal(total, 3000);
        assert_int_equal(vs_run_delay_vm_total(&rd, "db", &total), 1);
        assert_true(total == UINT64_MAX);
        assert_int_equal(vs_run_delay_vm_total(&rd, "nosuch", &total), 0);
        assert_int_equal(total, 0);
        vs_run_delay_done(&rd);
        assert_null(rd.rows);
        assert_int_equal(rd.n_rows, 0);

        /* no proc tree: every vCPU gone, an empty table */
        assert_int_equal(vs_run_delay_from_schedstat(t, "/nonexistent-proc-root", &rd), 0);
        assert_int_equal(rd.n_rows, 0);
        assert_int_equal(rd.gone, 6);
        vs_run_delay_done(&rd);
        vs_topology_free(t);
        rm_rf(root);
}

static void sw(struct vs_analysis *an, uint64_t ts, int32_t prev, int64_t prev_state, int32_t next) {
        struct vs_event e = { .ts_ns = ts, .cpu = 0, .tid = prev, .type = VS_EV_SWITCH };
        e.sw.prev_tid = prev;
        e.sw.prev_state = prev_state;
        e.sw.next_tid = next;
        assert_int_equal(vs_analysis_event(an, &e), 0);
}

static void wake(struct vs_analysis *an, uint64_t ts, int32_t wakee) {
        struct vs_event e = { .ts_ns = ts, .tid = 1, .type = VS_EV_WAKEUP };
        e.wakeup.wakee_tid = wakee;
        e.wakeup.target_cpu = 0;
        assert_int_equal(vs_analysis_event(an, &e), 0);
}

static void test_table_from_trace(void **state) {
        struct vs_topology *t;
        struct vs_analysis *an;
        struct vs_analysis_config c;
        struct vs_run_delay rd;
        uint64_t total;

        assert_int_equal(vs_topology_new(&t), 0);
        learn(t, 101, 100, "CPU 0/KVM", "web");
        learn(t, 102, 100, "CPU 1/KVM", "web");
        vs_analysis_config_default(&c);
        assert_int_equal(vs_analysis_new(&c, t, &an), 0);
        /* vCPU 0 runs, is preempted at 1 ms by vCPU 1 (runnable: R = 0),
         * runs again at 4 ms: 3 ms ready; vCPU 1 blocks at 4 ms (S = 1),
         * is woken at 5 ms and still waits at 7 ms: 2 ms ready, open */
        sw(an, 0, 9999, 1, 101);
        sw(an, 1000000, 101, 0, 102);
        sw(an, 4000000, 102, 1, 101);
        wake(an, 5000000, 102);

        assert_int_equal(vs_run_delay_from_trace(an, 7000000, &rd), 0);
        assert_string_equal(vs_run_delay_source_name(rd.source), "trace");
        assert_int_equal(rd.n_rows, 2);
        assert_int_equal(vs_run_delay_find(&rd, "web", 0)->run_delay_ns, 3000000);
        assert_int_equal(vs_run_delay_find(&rd, "web", 0)->tid, 101);
        assert_int_equal(vs_run_delay_find(&rd, "web", 1)->run_delay_ns, 2000000);
        assert_int_equal(vs_run_delay_vm_total(&rd, "web", &total), 2);
        assert_int_equal(total, 5000000);
        vs_run_delay_done(&rd);
        /* nothing analysed: an empty table */
        assert_int_equal(vs_run_delay_from_trace(NULL, 0, &rd), 0);
        assert_int_equal(rd.n_rows, 0);
        vs_run_delay_done(&rd);
        vs_analysis_free(an);
        vs_topology_free(t);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_parse_good),
                cmocka_unit_test(test_parse_hostile),
                cmocka_unit_test(test_read_fake_tree),
                cmocka_unit_test(test_read_real_threads),
                cmocka_unit_test(test_table_from_schedstat),
                cmocka_unit_test(test_table_from_trace),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
