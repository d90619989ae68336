/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Unit tests for kvm-hook.c against real directory trees in a temporary
 * directory laid out as sysfs (module/kvm/parameters) and KVM's debugfs
 * (kvm/<pid>-<fd>/vcpuN/directed_yield_hint) are, and, for the vm-file
 * interface, a /proc-like tree (PID/fd/N -> anon_inode:kvm-directed-yield)
 * whose N is a real pipe of this process or a child: pidfd_getfd takes it,
 * and the hint records written arrive at the pipe's other end.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <json-c/json.h>

#include "kvm-hook.h"
#include "macro.h"

static char root[256];

static void put(const char *rel, const char *content) {
        char path[512], cmd[600];
        FILE *f;

        snprintf(path, sizeof(path), "%s/%s", root, rel);
        snprintf(cmd, sizeof(cmd), "mkdir -p \"$(dirname '%s')\"", path);
        assert_int_equal(system(cmd), 0);
        f = fopen(path, "we");
        assert_non_null(f);
        fputs(content, f);
        assert_int_equal(fclose(f), 0);
}

static char *get(const char *rel) {
        static char buf[128];
        char path[512];
        FILE *f;
        size_t n;

        snprintf(path, sizeof(path), "%s/%s", root, rel);
        f = fopen(path, "re");
        assert_non_null(f);
        n = fread(buf, 1, sizeof(buf) - 1, f);
        buf[n] = 0;
        fclose(f);
        return buf;
}

static int setup(void **state) {
        snprintf(root, sizeof(root), "%s/vs-kvm-hook.XXXXXX", getenv("TMPDIR") ?: "/tmp");
        assert_non_null(mkdtemp(root));
        return 0;
}

static int teardown(void **state) {
        char cmd[300];
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
        return system(cmd);
}

static void test_probe_absent(void **state) {
        struct vs_kvm_hook h = { .present = true, .ipi = true };

        /* stock kvm.ko: other parameters, none of ours */
        put("module/kvm/parameters/halt_poll_ns", "200000\n");
        assert_int_equal(vs_kvm_hook_probe(root, "/dev/null", &h), 0);
        assert_false(h.present);
        assert_false(vs_kvm_hook_active(&h));
        assert_int_equal(h.iface, VS_KVM_HOOK_NONE);
        /* no kvm module at all */
        assert_int_equal(vs_kvm_hook_probe("/nonexistent-vs-root", NULL, &h), 0);
        assert_false(h.present);
}

static void test_probe_present(void **state) {
        struct vs_kvm_hook h;
        struct json_object *o, *x;

        put("module/kvm/parameters/dy_ipi", "Y\n");
        put("module/kvm/parameters/dy_hint", "N\n");
        put("module/kvm/parameters/dy_ipi_window_ns", "50000000\n");
        assert_int_equal(vs_kvm_hook_probe(root, "/dev/null", &h), 0);
        assert_true(h.present);
        assert_int_equal(h.iface, VS_KVM_HOOK_DEBUGFS);
        assert_true(h.ipi);
        assert_false(h.hint);
        assert_int_equal(h.ipi_window_ns, 50000000);
        assert_true(vs_kvm_hook_active(&h));

        o = vs_kvm_hook_json(&h);
        assert_true(json_object_object_get_ex(o, "active", &x));
        assert_true(json_object_get_boolean(x));
        assert_true(json_object_object_get_ex(o, "hint", &x));
        assert_false(json_object_get_boolean(x));
        assert_true(json_object_object_get_ex(o, "interface", &x));
        assert_string_equal(json_object_get_string(x), "debugfs");
        json_object_put(o);

        /* window 0 and hint off: loaded but nothing acts */
        put("module/kvm/parameters/dy_ipi_window_ns", "0\n");
        assert_int_equal(vs_kvm_hook_probe(root, "/dev/null", &h), 0);
        assert_true(h.present);
        assert_false(vs_kvm_hook_active(&h));
        put("module/kvm/parameters/dy_hint", "Y\n");
        assert_int_equal(vs_kvm_hook_probe(root, "/dev/null", &h), 0);
        assert_true(vs_kvm_hook_active(&h));
}

static void test_write_hint(void **state) {
        put("kvm/4242-11/vcpu0/directed_yield_hint", "-1 0\n");
        put("kvm/4242-11/vcpu2/directed_yield_hint", "-1 0\n");
        put("kvm/42-12/vcpu0/directed_yield_hint", "-1 0\n");     /* pid 42 is not 4242 */
        put("kvm/4242-11/vcpu1/pid", "4244\n");                    /* unpatched: no hint file */

        assert_int_equal(vs_kvm_hook_write_hint(root, 4242, 0, 2, 20000), 0);
        assert_string_equal(get("kvm/4242-11/vcpu0/directed_yield_hint"), "2 20000\n");
        assert_int_equal(vs_kvm_hook_write_hint(root, 4242, 2, -1, 0), 0);
        assert_string_equal(get("kvm/4242-11/vcpu2/directed_yield_hint"), "-1\n");
        assert_string_equal(get("kvm/42-12/vcpu0/directed_yield_hint"), "-1 0\n");

        assert_int_equal(vs_kvm_hook_write_hint(root, 4242, 1, 0, 1000), -ENOENT);
        assert_int_equal(vs_kvm_hook_write_hint(root, 4242, 7, 0, 1000), -ENOENT);
        assert_int_equal(vs_kvm_hook_write_hint(root, 999, 0, 1, 1000), -ENOENT);
        assert_int_equal(vs_kvm_hook_write_hint("/nonexistent-vs-root", 4242, 0, 1, 1000), -ENOENT);
        assert_int_equal(vs_kvm_hook_write_hint(root, 4242, 0, 1, 0), -EINVAL);
        assert_int_equal(vs_kvm_hook_write_hint(root, 4242, 0, 1, VS_KVM_HOOK_HINT_MAX_TTL_US + 1), -EINVAL);
        assert_int_equal(vs_kvm_hook_write_hint(root, 4242, 0, -2, 1000), -EINVAL);
        assert_int_equal(vs_kvm_hook_write_hint(root, 0, 0, 1, 1000), -EINVAL);
        assert_string_equal(get("kvm/4242-11/vcpu0/directed_yield_hint"), "2 20000\n");
}

/* the fake /proc entry PID/fd/FD -> LINK */
static void proc_fd(pid_t pid, int fd, const char *link) {
        char path[512], cmd[600];

        snprintf(path, sizeof(path), "%s/proc/%d/fd", root, (int) pid);
        snprintf(cmd, sizeof(cmd), "mkdir -p '%s'", path);
        assert_int_equal(system(cmd), 0);
        snprintf(path, sizeof(path), "%s/proc/%d/fd/%d", root, (int) pid, fd);
        assert_int_equal(symlink(link, path), 0);
}

/* one struct kvm_directed_yield_hint from the pipe */
static void expect_record(int rfd, uint32_t vcpu, uint32_t target, uint32_t ttl) {
        uint32_t rec[4];

        assert_int_equal(read(rfd, rec, sizeof(rec)), (ssize_t) sizeof(rec));
        assert_int_equal(rec[0], vcpu);
        assert_int_equal(rec[1], target);
        assert_int_equal(rec[2], ttl);
        assert_int_equal(rec[3], 0);
}

/* pidfd_getfd on this process (seccomp or an old kernel may refuse it) */
static bool pidfd_getfd_works(int fd) {
        int pidfd = (int) syscall(SYS_pidfd_open, getpid(), 0), r;

        r = pidfd < 0 ? -1 : (int) syscall(SYS_pidfd_getfd, pidfd, fd, 0);
        if (r < 0) {
                print_message("pidfd_open/pidfd_getfd unavailable here (%s): vm-file checks skipped\n",
                              strerror(errno));
                if (pidfd >= 0)
                        close(pidfd);
                return false;
        }
        close(r);
        close(pidfd);
        return true;
}

static void test_vm_file(void **state) {
        char proc[512];
        int p[2], fd;
        struct vs_kvm_hook h;

        assert_int_equal(pipe(p), 0);
        proc_fd(getpid(), 0, "/dev/null");
        proc_fd(getpid(), p[1], VS_KVM_HINT_FILE_LINK);
        snprintf(proc, sizeof(proc), "%s/proc", root);
        /* /dev/null answers no KVM ioctl: not the vm-file interface */
        assert_int_equal(vs_kvm_hook_probe(root, "/dev/null", &h), 0);
        assert_int_not_equal(h.iface, VS_KVM_HOOK_VM_FILE);
        if (!pidfd_getfd_works(p[1]))
                goto out;

        fd = vs_kvm_hook_take_hint_file(proc, getpid());
        assert_true(fd >= 0);
        assert_int_not_equal(fd, p[1]);
        assert_int_equal(vs_kvm_hook_write_hint_fd(fd, 2, 4, 20000), 0);
        expect_record(p[0], 2, 4, 20000);
        assert_int_equal(vs_kvm_hook_write_hint_fd(fd, 4, -1, 123), 0);
        expect_record(p[0], 4, 0xffffffffu, 0);
        assert_int_equal(vs_kvm_hook_write_hint_fd(fd, 4, 2, 0), -EINVAL);
        assert_int_equal(vs_kvm_hook_write_hint_fd(fd, 4, 2, VS_KVM_HOOK_HINT_MAX_TTL_US + 1), -EINVAL);
        assert_int_equal(vs_kvm_hook_write_hint_fd(fd, 4, -2, 10), -EINVAL);
        close(fd);
        /* a process without the file (the VM did not opt in), or none at all */
        assert_int_equal(vs_kvm_hook_take_hint_file(proc, getppid()), -ENOENT);
        assert_int_equal(vs_kvm_hook_take_hint_file(proc, 0), -EINVAL);
out:
        close(p[0]);
        close(p[1]);
}

static void test_hints(void **state) {
        struct vs_kvm_hook none = { 0 }, vmfile = { .iface = VS_KVM_HOOK_VM_FILE, .present = true, .hint = true },
                           noh = { .iface = VS_KVM_HOOK_VM_FILE, .present = true, .ipi = true },
                           dfs = { .iface = VS_KVM_HOOK_DEBUGFS, .present = true, .hint = true };
        struct vs_kvm_hints *hs = NULL;
        char proc[512], dbg[512];
        int p[2], status;
        pid_t child;

        assert_int_equal(pipe(p), 0);
        if (!pidfd_getfd_works(p[1]))
                goto out;
        child = fork();
        assert_true(child >= 0);
        if (child == 0) {       /* a "VMM" holding the pipe's write end */
                close(p[0]);
                pause();
                _exit(0);
        }
        proc_fd(child, p[1], VS_KVM_HINT_FILE_LINK);
        put("dbg/kvm/777-3/vcpu1/directed_yield_hint", "-1 0\n");
        snprintf(proc, sizeof(proc), "%s/proc", root);
        snprintf(dbg, sizeof(dbg), "%s/dbg", root);
        assert_int_equal(vs_kvm_hints_new(proc, dbg, &hs), 0);

        assert_int_equal(vs_kvm_hints_write(hs, &none, child, 0, 1, 1000, 0), -EOPNOTSUPP);
        assert_int_equal(vs_kvm_hints_write(hs, &noh, child, 0, 1, 1000, 0), -EOPNOTSUPP);
        assert_int_equal(vs_kvm_hints_n_files(hs), 0);
        assert_int_equal(vs_kvm_hints_write(hs, &vmfile, child, 0, 1, 40000, 0), 0);
        assert_int_equal(vs_kvm_hints_write(hs, &vmfile, child, 1, 0, 40000, 10), 0);
        expect_record(p[0], 0, 1, 40000);
        expect_record(p[0], 1, 0, 40000);
        assert_int_equal(vs_kvm_hints_n_files(hs), 1);
        /* a live VM that did not opt in: -ENOENT, remembered */
        assert_int_equal(vs_kvm_hints_write(hs, &vmfile, getpid(), 0, 1, 1000, 0), -ENOENT);
        assert_int_equal(vs_kvm_hints_write(hs, &vmfile, getpid(), 0, 1, 1000, 1000), -ENOENT);
        assert_int_equal(vs_kvm_hints_n_files(hs), 1);
        /* the first series: the debugfs file */
        assert_int_equal(vs_kvm_hints_write(hs, &dfs, 777, 1, 0, 5000, 0), 0);
        assert_string_equal(get("dbg/kvm/777-3/vcpu1/directed_yield_hint"), "0 5000\n");

        /* the VMM exits: its file is dropped */
        assert_int_equal(vs_kvm_hints_gc(hs), 0);
        close(p[1]);
        p[1] = -1;
        kill(child, SIGTERM);
        assert_int_equal(waitpid(child, &status, 0), child);
        assert_int_equal(vs_kvm_hints_gc(hs), 1);
        assert_int_equal(vs_kvm_hints_n_files(hs), 0);
        assert_int_equal(vs_kvm_hints_write(hs, &vmfile, child, 0, 1, 1000, 0), -ENOENT);
        vs_kvm_hints_free(hs);
out:
        close(p[0]);
        if (p[1] >= 0)
                close(p[1]);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_probe_absent, setup, teardown),
                cmocka_unit_test_setup_teardown(test_probe_present, setup, teardown),
                cmocka_unit_test_setup_teardown(test_write_hint, setup, teardown),
                cmocka_unit_test_setup_teardown(test_vm_file, setup, teardown),
                cmocka_unit_test_setup_teardown(test_hints, setup, teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
