/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Unit tests for kvm-dy.c: the state file's lines, the start time from a
 * stat line, and turning directed yield on against a /proc-like tree whose
 * PID/fd/N -> anon_inode:kvm-vm is a real pipe of this process or a child
 * (pidfd_getfd takes it; the pipe refuses KVM_ENABLE_CAP with ENOTTY, as a
 * file that is not a VM would).  What the patched kernel answers is checked
 * in the testbed (scenario dyield, phase vsdy).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "kvm-dy.h"
#include "macro.h"

static char root[256], proc[300], state[300];

static void sh(const char *fmt, const char *arg) {
        char cmd[1024];

        snprintf(cmd, sizeof(cmd), fmt, arg);
        assert_int_equal(system(cmd), 0);
}

static void put(const char *path, const char *content) {
        FILE *f = fopen(path, "we");

        assert_non_null(f);
        fputs(content, f);
        assert_int_equal(fclose(f), 0);
}

static bool exists(const char *path) {
        struct stat st;
        return stat(path, &st) == 0;
}

static int setup(void **s) {
        snprintf(root, sizeof(root), "%s/vs-kvm-dy.XXXXXX", getenv("TMPDIR") ?: "/tmp");
        assert_non_null(mkdtemp(root));
        snprintf(proc, sizeof(proc), "%s/proc", root);
        snprintf(state, sizeof(state), "%s/state", root);
        return 0;
}

static int teardown(void **s) {
        char cmd[300];
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
        return system(cmd);
}

/* @pid's entry in the tree: its real stat line, and fd @fd -> @link */
static void proc_pid(pid_t pid, int fd, const char *link) {
        char path[512], src[64];

        snprintf(path, sizeof(path), "%s/%d/fd", proc, (int) pid);
        sh("mkdir -p '%s'", path);
        snprintf(src, sizeof(src), "/proc/%d/stat", (int) pid);
        snprintf(path, sizeof(path), "%s/%d/stat", proc, (int) pid);
        {
                char cmd[700];
                snprintf(cmd, sizeof(cmd), "cp %s '%s'", src, path);
                assert_int_equal(system(cmd), 0);
        }
        if (fd >= 0) {
                snprintf(path, sizeof(path), "%s/%d/fd/%d", proc, (int) pid, fd);
                assert_int_equal(symlink(link, path), 0);
        }
}

static bool pidfd_getfd_works(int fd) {
        int pidfd = (int) syscall(SYS_pidfd_open, getpid(), 0), r;

        r = pidfd < 0 ? -1 : (int) syscall(SYS_pidfd_getfd, pidfd, fd, 0);
        if (pidfd >= 0)
                close(pidfd);
        if (r < 0) {
                print_message("pidfd_open/pidfd_getfd unavailable here (%s): skipped\n", strerror(errno));
                return false;
        }
        close(r);
        return true;
}

static void test_parse_line(void **s) {
        pid_t pid;
        uint64_t st;
        uint32_t f;

        assert_int_equal(vs_kvm_dy_parse_line("1234 987654321 3\n", &pid, &st, &f), 0);
        assert_int_equal(pid, 1234);
        assert_true(st == 987654321ull);
        assert_int_equal(f, 3);
        assert_int_equal(vs_kvm_dy_parse_line("1 0 1", &pid, &st, &f), 0);
        assert_int_equal(vs_kvm_dy_parse_line("", &pid, &st, &f), -EINVAL);
        assert_int_equal(vs_kvm_dy_parse_line("1234 5\n", &pid, &st, &f), -EINVAL);
        assert_int_equal(vs_kvm_dy_parse_line("0 5 1\n", &pid, &st, &f), -EINVAL);
        assert_int_equal(vs_kvm_dy_parse_line("12 5 0\n", &pid, &st, &f), -EINVAL);
        assert_int_equal(vs_kvm_dy_parse_line("12 5 256\n", &pid, &st, &f), -EINVAL);
        assert_int_equal(vs_kvm_dy_parse_line("12 5 1 x\n", &pid, &st, &f), -EINVAL);
        assert_int_equal(vs_kvm_dy_parse_line("4294967296 5 1\n", &pid, &st, &f), -EINVAL);
        assert_int_equal(vs_kvm_dy_parse_line("12 abc 1\n", &pid, &st, &f), -EINVAL);
        assert_string_equal(vs_kvm_dy_state_name(VS_KVM_DY_OFF), "off");
        assert_string_equal(vs_kvm_dy_state_name(VS_KVM_DY_ON), "on");
        assert_string_equal(vs_kvm_dy_state_name(VS_KVM_DY_VMM), "vmm");
        assert_string_equal(vs_kvm_dy_state_name(VS_KVM_DY_FAILED), "failed");
}

static void test_starttime(void **s) {
        char path[512];
        uint64_t st = 0, real = 0;

        /* a name with blanks and parentheses: fields count from the last ')' */
        sh("mkdir -p '%s/proc/42'", root);
        snprintf(path, sizeof(path), "%s/42/stat", proc);
        put(path, "42 (qemu (x) ) S 1 42 42 0 -1 4194560 100 0 0 0 5 6 0 0 20 0 3 0 777123 1000 10\n");
        assert_int_equal(vs_kvm_dy_starttime(proc, 42, &st), 0);
        assert_true(st == 777123ull);
        put(path, "42 (short) S 1 42\n");
        assert_int_equal(vs_kvm_dy_starttime(proc, 42, &st), -EINVAL);
        put(path, "no parenthesis\n");
        assert_int_equal(vs_kvm_dy_starttime(proc, 42, &st), -EINVAL);
        assert_int_equal(vs_kvm_dy_starttime(proc, 43, &st), -ENOENT);
        /* this process: the real /proc agrees with itself */
        assert_int_equal(vs_kvm_dy_starttime("/proc", getpid(), &real), 0);
        proc_pid(getpid(), -1, NULL);
        assert_int_equal(vs_kvm_dy_starttime(proc, getpid(), &st), 0);
        assert_true(st == real && st > 0);
}

static void test_on_refused(void **s) {
        struct vs_kvm_dy *d = NULL;
        char sf[512];
        int p[2], err = 0;
        uint32_t f = 99;

        snprintf(sf, sizeof(sf), "%s/%s", state, VS_KVM_DY_STATE_FILE);
        assert_int_equal(pipe(p), 0);
        if (!pidfd_getfd_works(p[1]))
                goto out;
        assert_int_equal(vs_kvm_dy_new(proc, state, &d), 0);
        assert_int_equal(vs_kvm_dy_on(d, getpid(), 0, 0, 0), -EINVAL);
        assert_int_equal(vs_kvm_dy_on(d, 0, 3, 0, 0), -EINVAL);

        /* a process without a VM file */
        proc_pid(getpid(), -1, NULL);
        assert_int_equal(vs_kvm_dy_on(d, getpid(), 3, 0, 1000), -ENOENT);
        assert_int_equal(vs_kvm_dy_state(d, getpid(), &err, &f), VS_KVM_DY_FAILED);
        assert_int_equal(err, -ENOENT);
        assert_int_equal(f, 0);
        assert_false(exists(sf));
        /* not tried again before the retry time; then it is */
        assert_int_equal(vs_kvm_dy_on(d, getpid(), 3, 999, 1000), -EAGAIN);

        /* a "VM file" that is not one: the ioctl is refused, nothing is left on
         * record (the write-ahead entry is taken back) */
        {
                char path[512];
                snprintf(path, sizeof(path), "%s/%d/fd/%d", proc, (int) getpid(), p[1]);
                assert_int_equal(symlink(VS_KVM_VM_FILE_LINK, path), 0);
        }
        assert_int_equal(vs_kvm_dy_on(d, getpid(), 3, 1000, 1000), -ENOTTY);
        assert_int_equal(vs_kvm_dy_state(d, getpid(), &err, NULL), VS_KVM_DY_FAILED);
        assert_int_equal(err, -ENOTTY);
        assert_false(exists(sf));
        assert_int_equal(vs_kvm_dy_n_on(d), 0);
        assert_int_equal(vs_kvm_dy_hint_fd(d, getpid()), -1);
        /* nothing of ours to turn off; a failed VM is tried again at once after */
        assert_int_equal(vs_kvm_dy_off(d, getpid()), 0);
        assert_int_equal(vs_kvm_dy_state(d, getpid(), NULL, NULL), VS_KVM_DY_OFF);
        assert_int_equal(vs_kvm_dy_on(d, getpid(), 1, 1001, 1000000), -ENOTTY);
        assert_int_equal(vs_kvm_dy_off_all(d, NULL), 0);
        /* a process that does not exist */
        assert_int_equal(vs_kvm_dy_on(d, 999999999, 1, 0, 0), -ENOENT);
        assert_int_equal(vs_kvm_dy_state(d, 999999999, NULL, NULL), VS_KVM_DY_OFF);
        assert_int_equal(vs_kvm_dy_gc(d), 0);
        vs_kvm_dy_free(d);
out:
        close(p[0]);
        close(p[1]);
}

static void test_gc(void **s) {
        struct vs_kvm_dy *d = NULL;
        int p[2], status;
        pid_t child;

        assert_int_equal(pipe(p), 0);
        if (!pidfd_getfd_works(p[1]))
                goto out;
        child = fork();
        assert_true(child >= 0);
        if (child == 0) {
                pause();
                _exit(0);
        }
        proc_pid(child, p[1], VS_KVM_VM_FILE_LINK);
        assert_int_equal(vs_kvm_dy_new(proc, state, &d), 0);
        assert_int_equal(vs_kvm_dy_on(d, child, 1, 0, 0), -ENOTTY);
        assert_int_equal(vs_kvm_dy_gc(d), 0);
        kill(child, SIGTERM);
        assert_int_equal(waitpid(child, &status, 0), child);
        assert_int_equal(vs_kvm_dy_gc(d), 1);
        assert_int_equal(vs_kvm_dy_state(d, child, NULL, NULL), VS_KVM_DY_OFF);
        vs_kvm_dy_free(d);
out:
        close(p[0]);
        close(p[1]);
}

static void test_recover(void **s) {
        char sf[512], buf[512];
        unsigned gone = 99, failed = 99;
        uint64_t st = 0;
        int p[2], status;
        pid_t dead;

        snprintf(sf, sizeof(sf), "%s/%s", state, VS_KVM_DY_STATE_FILE);
        /* no file: nothing to do */
        assert_int_equal(vs_kvm_dy_recover(proc, state, &gone, &failed), 0);
        assert_int_equal(gone, 99);

        assert_int_equal(pipe(p), 0);
        if (!pidfd_getfd_works(p[1]))
                goto out;
        dead = fork();
        assert_true(dead >= 0);
        if (dead == 0)
                _exit(0);
        assert_int_equal(waitpid(dead, &status, 0), dead);
        proc_pid(getpid(), p[1], VS_KVM_VM_FILE_LINK);
        assert_int_equal(vs_kvm_dy_starttime(proc, getpid(), &st), 0);
        sh("mkdir -p '%s'", state);
        snprintf(buf, sizeof(buf),
                 "%d 5 3\n"             /* a VMM that exited */
                 "%d %llu 3\n"          /* this PID, another process's start time: reused */
                 "%d %llu 3\n"          /* this process: its "VM file" refuses the ioctl */
                 "garbage\n",
                 (int) dead, (int) getpid(), (unsigned long long) st + 1, (int) getpid(), (unsigned long long) st);
        put(sf, buf);
        assert_int_equal(vs_kvm_dy_recover(proc, state, &gone, &failed), 0);
        assert_int_equal(gone, 2);
        assert_int_equal(failed, 2);
        assert_false(exists(sf));
out:
        close(p[0]);
        close(p[1]);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_parse_line),
                cmocka_unit_test_setup_teardown(test_starttime, setup, teardown),
                cmocka_unit_test_setup_teardown(test_on_refused, setup, teardown),
                cmocka_unit_test_setup_teardown(test_gc, setup, teardown),
                cmocka_unit_test_setup_teardown(test_recover, setup, teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
