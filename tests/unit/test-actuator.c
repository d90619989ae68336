/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests for actuator.c on fake cgroup dirs (plain files in a temp dir
 * stand in for cgroup files): journal before write, only changes written,
 * external changes adopted, exact restore, restore after a simulated crash,
 * vanished cgroups, and a journal that cannot be written (no cgroup write). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1          /* unshare(); config.h defines it in the real build */
#endif
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "actuator.h"
#include "macro.h"

static char tmp[256];
static char state[PATH_MAX];

static void fmt(char *buf, size_t len, const char *f, ...) _printf_(3, 4);
static void fmt(char *buf, size_t len, const char *f, ...) {
        va_list ap;
        int n;

        va_start(ap, f);
        n = vsnprintf(buf, len, f, ap);
        va_end(ap);
        assert_true(n >= 0 && (size_t) n < len);
}

static void put(const char *dir, const char *file, const char *text) {
        char p[PATH_MAX];
        FILE *f;

        fmt(p, sizeof(p), "%s/%s", dir, file);
        f = fopen(p, "we");
        assert_non_null(f);
        fputs(text, f);
        assert_int_equal(fclose(f), 0);
}

/* the whole raw file, newline included */
static char *slurp(const char *dir, const char *file) {
        static char buf[4096];
        char p[PATH_MAX];
        FILE *f;
        size_t n;

        fmt(p, sizeof(p), "%s/%s", dir, file);
        f = fopen(p, "re");
        if (!f)
                return NULL;
        n = fread(buf, 1, sizeof(buf) - 1, f);
        buf[n] = 0;
        fclose(f);
        return buf;
}

static bool journal_exists(void) {
        char p[PATH_MAX];

        fmt(p, sizeof(p), "%s/journal", state);
        return access(p, F_OK) == 0;
}

/* a fake vCPU cgroup: DIR/NAME with cpu.shares 1024 and cpu.idle 0 */
static void mkcg(char *buf, size_t len, const char *name) {
        fmt(buf, len, "%s/%s", tmp, name);
        assert_int_equal(mkdir(buf, 0755), 0);
        put(buf, "cpu.shares", "1024\n");
        put(buf, "cpu.idle", "0\n");
}

static int rm_one(const char *p, const struct stat *st, int type, struct FTW *ftw) {
        return remove(p);
}

static int setup(void **s) {
        fmt(tmp, sizeof(tmp), "%s/test-actuator.XXXXXX", getenv("TMPDIR") ?: "/tmp");
        if (!mkdtemp(tmp))
                return -1;
        fmt(state, sizeof(state), "%s/state", tmp);
        return 0;
}

static int teardown(void **s) {
        return nftw(tmp, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static void test_journal_then_write(void **s) {
        struct vs_actuator *a;
        char d[PATH_MAX], j[PATH_MAX];
        struct stat st;

        /* libvirt names its scopes with a literal "\x2d" */
        mkcg(d, sizeof(d), "machine-qemu\\x2d1\\x2dweb.scope");
        assert_int_equal(vs_actuator_new(state, &a), 0);
        assert_int_equal(stat(state, &st), 0);
        assert_int_equal(st.st_mode & 0777, 0700);
        assert_false(journal_exists());

        assert_int_equal(vs_actuator_set(a, d, "cpu.shares", "512"), 0);
        assert_string_equal(slurp(d, "cpu.shares"), "512\n");
        assert_int_equal(vs_actuator_n_changed(a), 1);
        assert_string_equal(vs_actuator_original(a, d, "cpu.shares"), "1024");
        assert_null(vs_actuator_original(a, d, "cpu.idle"));

        /* the journal holds the original, the backslashes escaped */
        char want[PATH_MAX * 2];
        fmt(want, sizeof(want), "vschedd-journal 1\n%s/machine-qemu\\\\x2d1\\\\x2dweb.scope\tcpu.shares\t1024\n",
            tmp);
        fmt(j, sizeof(j), "%s", state);
        assert_string_equal(slurp(j, "journal"), want);
        assert_null(slurp(j, "journal.tmp"));

        /* a second actuator on the same state dir is refused while this one lives */
        struct vs_actuator *b;
        assert_int_equal(vs_actuator_new(state, &b), -EBUSY);
        assert_int_equal(vs_journal_restore(state, NULL), -EBUSY);

        size_t restored, skipped;
        assert_int_equal(vs_actuator_restore(a, &restored, &skipped), 0);
        assert_int_equal(restored, 1);
        assert_int_equal(skipped, 0);
        assert_string_equal(slurp(d, "cpu.shares"), "1024\n");
        assert_false(journal_exists());
        assert_int_equal(vs_actuator_n_changed(a), 0);
        vs_actuator_free(a);

        /* bad arguments */
        assert_int_equal(vs_actuator_new(state, &a), 0);
        assert_int_equal(vs_actuator_set(a, "relative", "cpu.shares", "1"), -EINVAL);
        assert_int_equal(vs_actuator_set(a, d, "../cpu.shares", "1"), -EINVAL);
        assert_int_equal(vs_actuator_set(a, d, "cpu.shares", NULL), -EINVAL);
        assert_false(journal_exists());
        vs_actuator_free(a);
}

static void test_only_changes(void **s) {
        struct vs_actuator *a;
        char d[PATH_MAX];

        mkcg(d, sizeof(d), "vcpu0");
        assert_int_equal(vs_actuator_new(state, &a), 0);

        /* equal to the current value: nothing written, nothing journalled */
        put(d, "cpu.shares", "1024\t\n");
        assert_int_equal(vs_actuator_set(a, d, "cpu.shares", "1024"), 0);
        assert_string_equal(slurp(d, "cpu.shares"), "1024\t\n");        /* untouched */
        assert_int_equal(vs_actuator_n_changed(a), 0);
        assert_false(journal_exists());

        assert_int_equal(vs_actuator_set(a, d, "cpu.shares", "512"), 0);
        assert_string_equal(slurp(d, "cpu.shares"), "512\n");
        /* the same value again: no write (a marker the actuator would overwrite) */
        put(d, "cpu.shares", "512 \n");
        assert_int_equal(vs_actuator_set(a, d, "cpu.shares", "512"), 0);
        assert_string_equal(slurp(d, "cpu.shares"), "512 \n");
        assert_int_equal(vs_actuator_set(a, d, "cpu.shares", "256"), 0);
        assert_string_equal(slurp(d, "cpu.shares"), "256\n");
        assert_string_equal(vs_actuator_original(a, d, "cpu.shares"), "1024");
        assert_int_equal(vs_actuator_n_changed(a), 1);

        /* cpu lists compare as sets, as the kernel prints them */
        put(d, "cpuset.cpus", "0-3\n");
        assert_int_equal(vs_actuator_set(a, d, "cpuset.cpus", "2,0,1"), 0);
        assert_string_equal(slurp(d, "cpuset.cpus"), "0-2\n");
        put(d, "cpuset.cpus", "0,1,2\n");                       /* same set, other spelling */
        assert_int_equal(vs_actuator_set(a, d, "cpuset.cpus", "0-2"), 0);
        assert_string_equal(slurp(d, "cpuset.cpus"), "0,1,2\n");

        /* v1 freezer: FREEZING after our FROZEN is not someone else's change */
        put(d, "freezer.state", "THAWED\n");
        assert_int_equal(vs_actuator_set(a, d, "freezer.state", "FROZEN"), 0);
        put(d, "freezer.state", "FREEZING\n");
        assert_int_equal(vs_actuator_set(a, d, "freezer.state", "FROZEN"), 0);
        assert_string_equal(slurp(d, "freezer.state"), "FREEZING\n");
        assert_int_equal(vs_actuator_set(a, d, "freezer.state", "THAWED"), 0);
        assert_string_equal(slurp(d, "freezer.state"), "THAWED\n");
        assert_string_equal(vs_actuator_original(a, d, "freezer.state"), "THAWED");

        assert_int_equal(vs_actuator_n_changed(a), 3);
        assert_int_equal(vs_actuator_restore(a, NULL, NULL), 0);
        assert_string_equal(slurp(d, "cpu.shares"), "1024\n");
        assert_string_equal(slurp(d, "cpuset.cpus"), "0-3\n");
        assert_string_equal(slurp(d, "freezer.state"), "THAWED\n");
        vs_actuator_free(a);
}

static void test_external_change(void **s) {
        struct vs_actuator *a;
        char d[PATH_MAX], want[PATH_MAX];

        mkcg(d, sizeof(d), "vcpu0");
        assert_int_equal(vs_actuator_new(state, &a), 0);
        assert_int_equal(vs_actuator_set(a, d, "cpu.shares", "512"), 0);

        /* virsh schedinfo / systemctl set-property wrote 300 */
        put(d, "cpu.shares", "300\n");
        assert_int_equal(vs_actuator_set(a, d, "cpu.shares", "512"), 1);
        assert_string_equal(slurp(d, "cpu.shares"), "300\n");          /* skipped */
        assert_string_equal(vs_actuator_original(a, d, "cpu.shares"), "300");
        fmt(want, sizeof(want), "vschedd-journal 1\n%s\tcpu.shares\t300\n", d);
        assert_string_equal(slurp(state, "journal"), want);

        /* next epoch: 300 is what we last saw, so we may write again */
        assert_int_equal(vs_actuator_set(a, d, "cpu.shares", "512"), 0);
        assert_string_equal(slurp(d, "cpu.shares"), "512\n");
        /* changed to exactly what we want: still someone else's baseline */
        put(d, "cpu.shares", "2048\n");
        assert_int_equal(vs_actuator_set(a, d, "cpu.shares", "2048"), 1);
        assert_string_equal(vs_actuator_original(a, d, "cpu.shares"), "2048");
        assert_int_equal(vs_actuator_set(a, d, "cpu.shares", "512"), 0);

        /* a crash now restores the operator's value, not the pre-vschedd one */
        vs_actuator_free(a);
        assert_int_equal(vs_journal_restore(state, NULL), 1);
        assert_string_equal(slurp(d, "cpu.shares"), "2048\n");
        assert_false(journal_exists());
}

static void test_restore_exact(void **s) {
        struct vs_actuator *a;
        char d0[PATH_MAX], d1[PATH_MAX], d2[PATH_MAX];
        size_t restored, skipped;

        mkcg(d0, sizeof(d0), "vcpu0");
        mkcg(d1, sizeof(d1), "odd\tname\\x2d");
        mkcg(d2, sizeof(d2), "vcpu2");
        put(d2, "cpu.shares", "777\n");
        put(d2, "weird", "two\nlines\\t\n");    /* escaping round trip of a value */

        assert_int_equal(vs_actuator_new(state, &a), 0);
        assert_int_equal(vs_actuator_set(a, d0, "cpu.shares", "2048"), 0);
        assert_int_equal(vs_actuator_set(a, d1, "cpu.shares", "10"), 0);
        assert_int_equal(vs_actuator_set(a, d2, "cpu.shares", "4096"), 0);
        assert_int_equal(vs_actuator_set(a, d2, "weird", "x"), 0);
        assert_int_equal(vs_actuator_set(a, d0, "cpu.shares", "100"), 0);
        assert_int_equal(vs_actuator_set(a, d0, "cpu.idle", "1"), 0);
        assert_int_equal(vs_actuator_n_changed(a), 5);
        assert_string_equal(vs_actuator_original(a, d1, "cpu.shares"), "1024");
        assert_string_equal(vs_actuator_original(a, d2, "weird"), "two\nlines\\t");

        assert_int_equal(vs_actuator_restore(a, &restored, &skipped), 0);
        assert_int_equal(restored, 5);
        assert_int_equal(skipped, 0);
        assert_string_equal(slurp(d0, "cpu.shares"), "1024\n");
        assert_string_equal(slurp(d0, "cpu.idle"), "0\n");
        assert_string_equal(slurp(d1, "cpu.shares"), "1024\n");
        assert_string_equal(slurp(d2, "cpu.shares"), "777\n");
        assert_string_equal(slurp(d2, "weird"), "two\nlines\\t\n");
        assert_false(journal_exists());

        /* the actuator goes on after a restore (reload) */
        assert_int_equal(vs_actuator_set(a, d0, "cpu.shares", "512"), 0);
        assert_true(journal_exists());
        assert_int_equal(vs_actuator_restore(a, NULL, NULL), 0);
        assert_string_equal(slurp(d0, "cpu.shares"), "1024\n");
        vs_actuator_free(a);
}

static void test_crash_restore(void **s) {
        struct vs_actuator *a;
        char d0[PATH_MAX], d1[PATH_MAX];
        size_t skipped = 99;

        assert_int_equal(vs_journal_restore(state, &skipped), 0);    /* nothing to do */
        assert_int_equal(skipped, 0);

        mkcg(d0, sizeof(d0), "machine-qemu\\x2d3\\x2ddb.scope");
        mkcg(d1, sizeof(d1), "vcpu1");
        assert_int_equal(vs_actuator_new(state, &a), 0);
        assert_int_equal(vs_actuator_set(a, d0, "cpu.shares", "3000"), 0);
        assert_int_equal(vs_actuator_set(a, d1, "cpu.shares", "20"), 0);
        assert_int_equal(vs_actuator_set(a, d1, "cpu.idle", "1"), 0);
        vs_actuator_free(a);            /* SIGKILL: no restore */
        assert_true(journal_exists());
        assert_string_equal(slurp(d0, "cpu.shares"), "3000\n");

        /* the next start refuses until the leftover journal is restored */
        assert_int_equal(vs_actuator_new(state, &a), -EEXIST);
        assert_int_equal(vs_journal_restore(state, &skipped), 3);
        assert_int_equal(skipped, 0);
        assert_string_equal(slurp(d0, "cpu.shares"), "1024\n");
        assert_string_equal(slurp(d1, "cpu.idle"), "0\n");
        assert_string_equal(slurp(d1, "cpu.shares"), "1024\n");
        assert_false(journal_exists());
        assert_int_equal(vs_actuator_new(state, &a), 0);
        vs_actuator_free(a);

        /* a stale temp file of a save that never completed is ignored */
        put(state, "journal.tmp", "vschedd-journal 1\n/x\ty\tz\n");
        assert_int_equal(vs_journal_restore(state, NULL), 0);
        assert_int_equal(vs_actuator_new(state, &a), 0);
        assert_null(slurp(state, "journal.tmp"));
        vs_actuator_free(a);
}

static void test_bad_journal(void **s) {
        char d[PATH_MAX], line[PATH_MAX];

        mkcg(d, sizeof(d), "vcpu0");
        assert_int_equal(mkdir(state, 0700), 0);
        /* "@" stands for the cgroup dir */
        static const char *const bad[] = {
                "",
                "not-a-journal\n",
                "vschedd-journal 1\n@\tcpu.shares\n",              /* two fields */
                "vschedd-journal 1\n@\tcpu.shares\t1\textra\n",
                "vschedd-journal 1\n@\tcpu.shares\t5\\q\n",       /* unknown escape */
                "vschedd-journal 1\n@\tcpu.shares\t5",              /* torn line */
                "vschedd-journal 1\n@\tsub/cpu.shares\t5\n",
                "vschedd-journal 1\nrelative@\tcpu.shares\t5\n",
        };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                const char *at = strchr(bad[i], '@');
                if (at)
                        fmt(line, sizeof(line), "%.*s%s%s", (int) (at - bad[i]), bad[i], d, at + 1);
                else
                        fmt(line, sizeof(line), "%s", bad[i]);
                put(state, "journal", line);
                assert_int_equal(vs_journal_restore(state, NULL), -EBADMSG);
                assert_true(journal_exists());                  /* kept for the operator */
                assert_string_equal(slurp(d, "cpu.shares"), "1024\n");
        }
        struct vs_actuator *a;
        assert_int_equal(vs_actuator_new(state, &a), -EEXIST);
}

static void test_vanished(void **s) {
        struct vs_actuator *a;
        char d0[PATH_MAX], d1[PATH_MAX], p[PATH_MAX];
        size_t restored, skipped;

        mkcg(d0, sizeof(d0), "vcpu0");
        mkcg(d1, sizeof(d1), "vcpu1");
        assert_int_equal(vs_actuator_new(state, &a), 0);

        /* a cgroup that is already gone */
        fmt(p, sizeof(p), "%s/vcpu9", tmp);
        assert_int_equal(vs_actuator_set(a, p, "cpu.shares", "512"), -ENOENT);
        assert_int_equal(vs_actuator_n_changed(a), 0);
        assert_false(journal_exists());

        assert_int_equal(vs_actuator_set(a, d0, "cpu.shares", "512"), 0);
        assert_int_equal(vs_actuator_set(a, d1, "cpu.shares", "512"), 0);
        assert_int_equal(vs_actuator_set(a, d1, "cpu.idle", "1"), 0);

        /* the VM stops: libvirt removes its cgroups */
        fmt(p, sizeof(p), "%s/cpu.shares", d1);
        assert_int_equal(unlink(p), 0);
        fmt(p, sizeof(p), "%s/cpu.idle", d1);
        assert_int_equal(unlink(p), 0);
        assert_int_equal(rmdir(d1), 0);
        assert_int_equal(vs_actuator_set(a, d1, "cpu.shares", "256"), -ENOENT);

        assert_int_equal(vs_actuator_restore(a, &restored, &skipped), 0);
        assert_int_equal(restored, 1);
        assert_int_equal(skipped, 2);
        assert_string_equal(slurp(d0, "cpu.shares"), "1024\n");
        assert_false(journal_exists());
        vs_actuator_free(a);

        /* the same after a crash */
        mkcg(d1, sizeof(d1), "vcpu1");
        assert_int_equal(vs_actuator_new(state, &a), 0);
        assert_int_equal(vs_actuator_set(a, d0, "cpu.shares", "512"), 0);
        assert_int_equal(vs_actuator_set(a, d1, "cpu.shares", "512"), 0);
        vs_actuator_free(a);
        fmt(p, sizeof(p), "%s/cpu.shares", d0);
        assert_int_equal(unlink(p), 0);
        assert_int_equal(vs_journal_restore(state, &skipped), 1);
        assert_int_equal(skipped, 1);
        assert_string_equal(slurp(d1, "cpu.shares"), "1024\n");
        assert_false(journal_exists());
}

/* The kernel refused a restore write: the entry stays journalled. */
static void test_restore_failure_kept(void **s) {
        struct vs_actuator *a;
        char d[PATH_MAX], p[PATH_MAX];
        size_t restored, skipped;

        mkcg(d, sizeof(d), "vcpu0");
        assert_int_equal(vs_actuator_new(state, &a), 0);
        assert_int_equal(vs_actuator_set(a, d, "cpu.shares", "512"), 0);
        assert_int_equal(vs_actuator_set(a, d, "cpu.idle", "1"), 0);
        /* cpu.idle becomes unwritable: a directory stands in for EISDIR */
        fmt(p, sizeof(p), "%s/cpu.idle", d);
        assert_int_equal(unlink(p), 0);
        assert_int_equal(mkdir(p, 0755), 0);
        assert_int_equal(vs_actuator_restore(a, &restored, &skipped), -EISDIR);
        assert_int_equal(restored, 1);
        assert_int_equal(vs_actuator_n_changed(a), 1);
        assert_non_null(vs_actuator_original(a, d, "cpu.idle"));
        assert_null(vs_actuator_original(a, d, "cpu.shares"));
        assert_true(journal_exists());
        char want[PATH_MAX];
        fmt(want, sizeof(want), "vschedd-journal 1\n%s\tcpu.idle\t0\n", d);
        assert_string_equal(slurp(state, "journal"), want);
        /* fixed: the retry succeeds */
        assert_int_equal(rmdir(p), 0);
        put(d, "cpu.idle", "1\n");
        assert_int_equal(vs_actuator_restore(a, &restored, &skipped), 0);
        assert_string_equal(slurp(d, "cpu.idle"), "0\n");
        assert_false(journal_exists());
        vs_actuator_free(a);
}

/* cpu.idle = 1: the kernel shows the minimum weight and refuses weight writes */
static void test_idle_blocks_weight(void **s) {
        struct vs_actuator *a;
        char d[PATH_MAX];
        size_t restored, skipped;

        mkcg(d, sizeof(d), "vcpu0");
        assert_int_equal(vs_actuator_new(state, &a), 0);
        assert_int_equal(vs_actuator_set(a, d, "cpu.shares", "512"), 0);

        /* the operator made the group idle: shares reads 3 (kernel) */
        put(d, "cpu.idle", "1\n");
        put(d, "cpu.shares", "3\n");
        assert_int_equal(vs_actuator_set(a, d, "cpu.shares", "256"), -EBUSY);
        assert_string_equal(slurp(d, "cpu.shares"), "3\n");             /* untouched */
        assert_string_equal(vs_actuator_original(a, d, "cpu.shares"), "1024");  /* 3 not adopted */
        assert_int_equal(vs_actuator_set(a, d, "cpu.weight", "50"), -EBUSY);
        assert_int_equal(vs_actuator_n_changed(a), 1);
        /* a weight blocked by someone else's idle has nothing to restore */
        assert_int_equal(vs_actuator_restore(a, &restored, &skipped), 0);
        assert_int_equal(restored, 1);
        assert_string_equal(slurp(d, "cpu.shares"), "3\n");
        assert_false(journal_exists());

        /* our own idle, older than the weight entry: restored first, then the weight */
        put(d, "cpu.idle", "0\n");
        put(d, "cpu.shares", "2000\n");
        assert_int_equal(vs_actuator_set(a, d, "cpu.idle", "1"), 0);
        assert_int_equal(vs_actuator_set(a, d, "cpu.shares", "10"), -EBUSY);
        put(d, "cpu.idle", "0\n");                                      /* as if cleared */
        assert_int_equal(vs_actuator_set(a, d, "cpu.idle", "1"), 1);     /* someone else did */
        assert_int_equal(vs_actuator_set(a, d, "cpu.shares", "10"), 0);
        assert_int_equal(vs_actuator_set(a, d, "cpu.idle", "1"), 0);
        assert_string_equal(slurp(d, "cpu.idle"), "1\n");
        assert_int_equal(vs_actuator_restore(a, &restored, &skipped), 0);
        assert_int_equal(restored, 2);
        assert_string_equal(slurp(d, "cpu.idle"), "0\n");
        assert_string_equal(slurp(d, "cpu.shares"), "2000\n");
        vs_actuator_free(a);
}

/* Writing cpu.idle = 1 destroys the group's weight in the kernel: the weight
 * is journalled with it (before it), and restored after it. */
static void test_idle_journals_weight(void **s) {
        struct vs_actuator *a;
        char d[PATH_MAX], want[PATH_MAX];
        size_t restored, skipped;

        mkcg(d, sizeof(d), "vcpu0");
        put(d, "cpu.shares", "2000\n");
        assert_int_equal(vs_actuator_new(state, &a), 0);
        assert_int_equal(vs_actuator_set(a, d, "cpu.idle", "1"), 0);
        assert_int_equal(vs_actuator_n_changed(a), 2);
        assert_string_equal(vs_actuator_original(a, d, "cpu.shares"), "2000");
        fmt(want, sizeof(want), "vschedd-journal 1\n%s\tcpu.shares\t2000\n%s\tcpu.idle\t0\n", d, d);
        assert_string_equal(slurp(state, "journal"), want);
        put(d, "cpu.shares", "3\n");           /* what the kernel shows now */
        vs_actuator_free(a);                    /* crash */

        /* restore: idle first (the kernel would reset shares to 1024), then shares */
        assert_int_equal(vs_journal_restore(state, &skipped), 2);
        assert_string_equal(slurp(d, "cpu.idle"), "0\n");
        assert_string_equal(slurp(d, "cpu.shares"), "2000\n");

        /* no cpu.idle-less surprise: a dir without the weight file still works */
        char p[PATH_MAX];
        fmt(p, sizeof(p), "%s/cpu.shares", d);
        assert_int_equal(unlink(p), 0);
        assert_int_equal(vs_actuator_new(state, &a), 0);
        assert_int_equal(vs_actuator_set(a, d, "cpu.idle", "1"), 0);
        assert_int_equal(vs_actuator_n_changed(a), 1);
        assert_int_equal(vs_actuator_restore(a, &restored, &skipped), 0);
        assert_int_equal(restored, 1);
        vs_actuator_free(a);
}

/* Journal cannot be written (no root needed): journal.tmp is a directory. */
static void test_journal_failure(void **s) {
        struct vs_actuator *a;
        char d[PATH_MAX], p[PATH_MAX];

        mkcg(d, sizeof(d), "vcpu0");
        assert_int_equal(vs_actuator_new(state, &a), 0);
        fmt(p, sizeof(p), "%s/journal.tmp", state);
        assert_int_equal(mkdir(p, 0700), 0);

        assert_int_equal(vs_actuator_set(a, d, "cpu.shares", "512"), -EIO);
        assert_string_equal(slurp(d, "cpu.shares"), "1024\n");          /* untouched */
        assert_int_equal(vs_actuator_n_changed(a), 0);
        assert_false(journal_exists());

        /* works again once the journal can be written */
        assert_int_equal(rmdir(p), 0);
        assert_int_equal(vs_actuator_set(a, d, "cpu.shares", "512"), 0);
        assert_string_equal(slurp(d, "cpu.shares"), "512\n");

        /* an external change that cannot be journalled is not adopted */
        assert_int_equal(mkdir(p, 0700), 0);
        put(d, "cpu.shares", "300\n");
        assert_int_equal(vs_actuator_set(a, d, "cpu.shares", "512"), -EIO);
        assert_string_equal(vs_actuator_original(a, d, "cpu.shares"), "1024");
        assert_string_equal(slurp(d, "cpu.shares"), "300\n");
        assert_int_equal(rmdir(p), 0);
        assert_int_equal(vs_actuator_set(a, d, "cpu.shares", "512"), 1);
        assert_string_equal(vs_actuator_original(a, d, "cpu.shares"), "300");
        assert_int_equal(vs_actuator_restore(a, NULL, NULL), 0);
        assert_string_equal(slurp(d, "cpu.shares"), "300\n");
        vs_actuator_free(a);
}

/*
 * The state dir on a full tmpfs and on a read-only one: needs root, done in
 * a child in its own mount namespace, so the host's mounts never change and
 * the tmpfs disappears with the child.  Exit codes: 0 ok, 77 skip, else the
 * line that failed.
 */
#define CHECK(x)                                                                        \
        do {                                                                            \
                if (!(x)) {                                                             \
                        fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #x); \
                        _exit(__LINE__ % 200 + 1);                                      \
                }                                                                       \
        } while (0)

static void full_fs_child(bool read_only) {
        struct vs_actuator *a;
        char d[PATH_MAX], mnt[PATH_MAX], p[PATH_MAX], sd[PATH_MAX];
        int r;

        if (unshare(CLONE_NEWNS) < 0)
                _exit(77);
        if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
                _exit(77);
        mkcg(d, sizeof(d), "vcpu0");
        fmt(mnt, sizeof(mnt), "%s/small", tmp);
        CHECK(mkdir(mnt, 0700) == 0);
        if (mount("vschedd-test", mnt, "tmpfs", MS_NOSUID | MS_NODEV, "size=4k,mode=0700") < 0)
                _exit(77);
        fmt(sd, sizeof(sd), "%s/state", mnt);
        CHECK(vs_actuator_new(sd, &a) == 0);
        if (read_only)
                CHECK(mount(NULL, mnt, NULL, MS_REMOUNT | MS_RDONLY, NULL) == 0);
        else {
                /* fill it */
                fmt(p, sizeof(p), "%s/filler", mnt);
                FILE *f = fopen(p, "we");
                CHECK(f);
                static char block[1024];
                memset(block, 'x', sizeof(block));
                while (fwrite(block, 1, sizeof(block), f) == sizeof(block) && fflush(f) == 0)
                        ;
                fclose(f);
        }
        r = vs_actuator_set(a, d, "cpu.shares", "512");
        fprintf(stderr, "%s state dir: vs_actuator_set() = %d\n", read_only ? "read-only" : "full", r);
        CHECK(r == (read_only ? -EIO : -ENOSPC));
        CHECK(slurp(d, "cpu.shares") && strcmp(slurp(d, "cpu.shares"), "1024\n") == 0);
        CHECK(vs_actuator_n_changed(a) == 0);
        vs_actuator_free(a);
        CHECK(umount(mnt) == 0);
        _exit(0);
}

/* why a root-only case skipped ("" = none did): main() then exits 77, so the
 * skip shows in the test summary (tools/test fails it where root is there) */
static const char *skipped_why = "";

static void run_child(bool read_only) {
        pid_t pid;
        int status;

        if (geteuid() != 0) {
                skipped_why = "not root";
                fprintf(stderr, "SKIP: the %s state dir case needs root\n", read_only ? "read-only" : "full");
                skip();
        }
        pid = fork();
        assert_true(pid >= 0);
        if (pid == 0)
                full_fs_child(read_only);
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFEXITED(status));
        if (WEXITSTATUS(status) == 77) {
                skipped_why = "no private mount namespace or tmpfs";
                fprintf(stderr, "SKIP: the %s state dir case: cannot unshare the mount namespace or mount a tmpfs\n",
                        read_only ? "read-only" : "full");
                skip();
        }
        assert_int_equal(WEXITSTATUS(status), 0);
}

static void test_full_state_dir(void **s) {
        run_child(false);
}

static void test_read_only_state_dir(void **s) {
        run_child(true);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_journal_then_write, setup, teardown),
                cmocka_unit_test_setup_teardown(test_only_changes, setup, teardown),
                cmocka_unit_test_setup_teardown(test_external_change, setup, teardown),
                cmocka_unit_test_setup_teardown(test_restore_exact, setup, teardown),
                cmocka_unit_test_setup_teardown(test_crash_restore, setup, teardown),
                cmocka_unit_test_setup_teardown(test_bad_journal, setup, teardown),
                cmocka_unit_test_setup_teardown(test_vanished, setup, teardown),
                cmocka_unit_test_setup_teardown(test_restore_failure_kept, setup, teardown),
                cmocka_unit_test_setup_teardown(test_idle_blocks_weight, setup, teardown),
                cmocka_unit_test_setup_teardown(test_idle_journals_weight, setup, teardown),
                cmocka_unit_test_setup_teardown(test_journal_failure, setup, teardown),
                cmocka_unit_test_setup_teardown(test_full_state_dir, setup, teardown),
                cmocka_unit_test_setup_teardown(test_read_only_state_dir, setup, teardown),
        };

        int r = cmocka_run_group_tests(tests, NULL, NULL);
        if (r == 0 && skipped_why[0]) {
                fprintf(stderr, "SKIP: root-only cases skipped (%s); all others passed\n", skipped_why);
                return 77;
        }
        return r;
}
