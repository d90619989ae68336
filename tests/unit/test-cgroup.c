/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests for cgroup.c on fake mountinfo files and fake cgroup trees in a
 * temp dir: hybrid (this host's layout), pure v2 with and without the cpu
 * controller, pure v1; libvirt paths with a literal "\x2d"; refusals. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1          /* asprintf(); config.h defines it in the real build */
#endif
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "cgroup.h"
#include "macro.h"

#define SCOPE "/machine.slice/machine-qemu\\x2d1\\x2dweb.scope"

static char tmp[PATH_MAX];

/* snprintf that must not truncate (and that -Wformat-truncation leaves alone) */
static void fmt(char *buf, size_t len, const char *f, ...) _printf_(3, 4);
static void fmt(char *buf, size_t len, const char *f, ...) {
        va_list ap;
        int n;

        va_start(ap, f);
        n = vsnprintf(buf, len, f, ap);
        va_end(ap);
        assert_true(n >= 0 && (size_t) n < len);
}

static void mkdirs(const char *f, ...) _printf_(1, 2);
static void mkdirs(const char *f, ...) {
        char p[PATH_MAX];
        va_list ap;

        va_start(ap, f);
        vsnprintf(p, sizeof(p), f, ap);
        va_end(ap);
        for (char *s = p + 1; *s; s++)
                if (*s == '/') {
                        *s = 0;
                        (void) mkdir(p, 0755);
                        *s = '/';
                }
        assert_true(mkdir(p, 0755) == 0 || errno == EEXIST);
}

static void put(const char *path, const char *text) {
        FILE *f = fopen(path, "we");

        assert_non_null(f);
        fputs(text, f);
        assert_int_equal(fclose(f), 0);
}

static void putf(const char *content, const char *f, ...) _printf_(2, 3);
static void putf(const char *content, const char *f, ...) {
        char p[PATH_MAX];
        va_list ap;

        va_start(ap, f);
        vsnprintf(p, sizeof(p), f, ap);
        va_end(ap);
        put(p, content);
}

static int rm_one(const char *p, const struct stat *st, int type, struct FTW *ftw) {
        return remove(p);
}

static int setup(void **state) {
        fmt(tmp, sizeof(tmp), "%s/test-cgroup.XXXXXX", getenv("TMPDIR") ?: "/tmp");
        return mkdtemp(tmp) ? 0 : -1;
}

static int teardown(void **state) {
        return nftw(tmp, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* a libvirt VM tree (scope/libvirt/{emulator,vcpu0,vcpu1}) under @mnt */
static void vm_tree(const char *mnt) {
        mkdirs("%s%s/libvirt/emulator", mnt, SCOPE);
        mkdirs("%s%s/libvirt/vcpu0", mnt, SCOPE);
        mkdirs("%s%s/libvirt/vcpu1", mnt, SCOPE);
}

static void write_mountinfo(const char *body) {
        char p[PATH_MAX];

        fmt(p, sizeof(p), "%s/mountinfo", tmp);
        put(p, body);
}

static void detect(struct vs_cg_host *h) {
        char p[PATH_MAX];

        fmt(p, sizeof(p), "%s/mountinfo", tmp);
        assert_int_equal(vs_cg_host_detect(p, h), 0);
}

static void expect_knob(const struct vs_cg_host *h, enum vs_knob k, const char *sub, bool v2, const char *file) {
        char want[PATH_MAX];

        if (!sub) {
                assert_string_equal(h->mount[k], "");
                assert_null(vs_cg_knob_file(h, k));
                return;
        }
        fmt(want, sizeof(want), "%s/%s", tmp, sub);
        assert_string_equal(h->mount[k], want);
        assert_int_equal(h->v2[k], v2);
        assert_string_equal(vs_cg_knob_file(h, k), file);
}

/* This host: tmpfs at cgroup/, v1 cpu,cpuacct / cpuset / freezer, and a
 * cgroup2 "unified" with only hugetlb. */
static void hybrid(void) {
        char *mi;

        mkdirs("%s/cg/cpu,cpuacct", tmp);
        mkdirs("%s/cg/cpuset", tmp);
        mkdirs("%s/cg/freezer", tmp);
        mkdirs("%s/cg/memory", tmp);
        mkdirs("%s/cg/unified/init.scope", tmp);
        putf("hugetlb\n", "%s/cg/unified/cgroup.controllers", tmp);
        putf("0\n", "%s/cg/unified/init.scope/cgroup.freeze", tmp);
        assert_true(asprintf(&mi,
                             "31 23 0:28 / %1$s/cg rw,relatime - tmpfs tmpfs rw,mode=755\n"
                             "32 31 0:29 / %1$s/cg/cpu,cpuacct rw,relatime shared:9 - cgroup cgroup rw,cpu,cpuacct\n"
                             "34 31 0:31 / %1$s/cg/cpuset rw,relatime - cgroup cgroup rw,cpuset\n"
                             "35 31 0:32 / %1$s/cg/memory rw,relatime - cgroup cgroup rw,memory\n"
                             "37 31 0:34 / %1$s/cg/freezer rw,relatime - cgroup cgroup rw,freezer\n"
                             "40 31 0:37 / %1$s/cg/systemd rw,relatime - cgroup cgroup rw,xattr,name=systemd\n"
                             "41 31 0:38 / %1$s/cg/unified rw,relatime - cgroup2 cgroup2 rw,nsdelegate\n",
                             tmp) > 0);
        write_mountinfo(mi);
        free(mi);
}

static void test_hybrid(void **state) {
        struct vs_cg_host h;

        hybrid();
        detect(&h);
        expect_knob(&h, VS_KNOB_WEIGHT, "cg/cpu,cpuacct", false, "cpu.shares");
        expect_knob(&h, VS_KNOB_IDLE, "cg/cpu,cpuacct", false, "cpu.idle");
        expect_knob(&h, VS_KNOB_CPUSET, "cg/cpuset", false, "cpuset.cpus");
        /* cgroup.freeze exists in unified, but libvirt's tree is in v1 freezer */
        expect_knob(&h, VS_KNOB_FREEZE, "cg/freezer", false, "freezer.state");
        assert_string_equal(h.root[VS_KNOB_WEIGHT], "/");
}

static void test_pure_v2_cpu(void **state) {
        struct vs_cg_host h;
        char *mi;

        mkdirs("%s/cg2/system.slice", tmp);
        putf("cpuset cpu io memory pids\n", "%s/cg2/cgroup.controllers", tmp);
        putf("0\n", "%s/cg2/system.slice/cgroup.freeze", tmp);
        assert_true(asprintf(&mi, "25 21 0:22 / %s/cg2 rw,nosuid - cgroup2 cgroup2 rw,nsdelegate\n", tmp) > 0);
        write_mountinfo(mi);
        free(mi);
        detect(&h);
        expect_knob(&h, VS_KNOB_WEIGHT, "cg2", true, "cpu.weight");
        expect_knob(&h, VS_KNOB_IDLE, "cg2", true, "cpu.idle");
        expect_knob(&h, VS_KNOB_CPUSET, "cg2", true, "cpuset.cpus");
        expect_knob(&h, VS_KNOB_FREEZE, "cg2", true, "cgroup.freeze");
}

static void test_pure_v2_no_cpu(void **state) {
        struct vs_cg_host h;
        char *mi;

        mkdirs("%s/cg2/system.slice", tmp);
        putf("io memory pids\n", "%s/cg2/cgroup.controllers", tmp);
        putf("0\n", "%s/cg2/system.slice/cgroup.freeze", tmp);
        assert_true(asprintf(&mi, "25 21 0:22 / %s/cg2 rw - cgroup2 cgroup2 rw\n", tmp) > 0);
        write_mountinfo(mi);
        free(mi);
        detect(&h);
        expect_knob(&h, VS_KNOB_WEIGHT, NULL, false, NULL);
        expect_knob(&h, VS_KNOB_IDLE, NULL, false, NULL);
        expect_knob(&h, VS_KNOB_CPUSET, NULL, false, NULL);
        expect_knob(&h, VS_KNOB_FREEZE, "cg2", true, "cgroup.freeze");

        char buf[64];
        assert_int_equal(vs_cg_format(&h, VS_KNOB_WEIGHT, "100", buf, sizeof(buf)), -EOPNOTSUPP);
        assert_int_equal(vs_cg_dir(&h, VS_KNOB_WEIGHT, SCOPE "/libvirt/emulator", 0, buf, sizeof(buf)),
                         -EOPNOTSUPP);

        /* an old kernel (< 5.2): no cgroup.freeze anywhere -> no freeze */
        char p[PATH_MAX];
        fmt(p, sizeof(p), "%s/cg2/system.slice/cgroup.freeze", tmp);
        assert_int_equal(unlink(p), 0);
        detect(&h);
        expect_knob(&h, VS_KNOB_FREEZE, NULL, false, NULL);
}

static void test_pure_v1(void **state) {
        struct vs_cg_host h;
        char *mi;

        /* mount points with a space (escaped \040 in mountinfo) */
        mkdirs("%s/v 1/cpu", tmp);
        mkdirs("%s/v 1/cpuset", tmp);
        mkdirs("%s/v 1/freezer", tmp);
        assert_true(asprintf(&mi,
                             "32 31 0:29 / %1$s/v\\0401/cpu rw - cgroup cgroup rw,cpu\n"
                             "34 31 0:31 / %1$s/v\\0401/cpuset rw - cgroup cgroup rw,cpuset,noprefix\n"
                             "37 31 0:34 / %1$s/v\\0401/freezer rw - cgroup cgroup rw,freezer\n"
                             "garbage line without separator\n",
                             tmp) > 0);
        write_mountinfo(mi);
        free(mi);
        detect(&h);
        expect_knob(&h, VS_KNOB_WEIGHT, "v 1/cpu", false, "cpu.shares");
        expect_knob(&h, VS_KNOB_IDLE, "v 1/cpu", false, "cpu.idle");
        expect_knob(&h, VS_KNOB_CPUSET, "v 1/cpuset", false, "cpuset.cpus");
        expect_knob(&h, VS_KNOB_FREEZE, "v 1/freezer", false, "freezer.state");
}

static void test_nothing(void **state) {
        struct vs_cg_host h;

        write_mountinfo("22 1 8:1 / / rw - ext4 /dev/sda1 rw\n");
        detect(&h);
        for (unsigned k = 0; k < _VS_KNOB_MAX; k++)
                assert_null(vs_cg_knob_file(&h, k));
        assert_int_equal(vs_cg_host_detect("/nonexistent/mountinfo", &h), -ENOENT);
        assert_string_equal(vs_knob_name(VS_KNOB_WEIGHT), "weight");
        assert_string_equal(vs_knob_name(VS_KNOB_FREEZE), "freeze");
        assert_null(vs_knob_name(_VS_KNOB_MAX));
}

static void test_real_host(void **state) {
        struct vs_cg_host h;

        /* whatever this host has: it must parse */
        if (access("/proc/self/mountinfo", R_OK) < 0)
                skip();
        assert_int_equal(vs_cg_host_detect(NULL, &h), 0);
}

static void test_format_parse(void **state) {
        struct vs_cg_host v1 = {}, v2 = {};
        char buf[64];

        for (unsigned k = 0; k < _VS_KNOB_MAX; k++) {
                strcpy(v1.mount[k], "/x");
                strcpy(v2.mount[k], "/y");
                v2.v2[k] = true;
        }
        /* weight */
        assert_int_equal(vs_cg_format(&v2, VS_KNOB_WEIGHT, "100", buf, sizeof(buf)), 0);
        assert_string_equal(buf, "100");
        assert_int_equal(vs_cg_format(&v1, VS_KNOB_WEIGHT, "100", buf, sizeof(buf)), 0);
        assert_string_equal(buf, "1024");
        assert_int_equal(vs_cg_format(&v1, VS_KNOB_WEIGHT, "1", buf, sizeof(buf)), 0);
        assert_string_equal(buf, "10");
        assert_int_equal(vs_cg_format(&v1, VS_KNOB_WEIGHT, "10000", buf, sizeof(buf)), 0);
        assert_string_equal(buf, "102400");
        assert_int_equal(vs_cg_format(&v1, VS_KNOB_WEIGHT, "0", buf, sizeof(buf)), -ERANGE);
        assert_int_equal(vs_cg_format(&v2, VS_KNOB_WEIGHT, "10001", buf, sizeof(buf)), -ERANGE);
        assert_int_equal(vs_cg_format(&v2, VS_KNOB_WEIGHT, "12a", buf, sizeof(buf)), -EINVAL);
        assert_int_equal(vs_cg_format(&v2, VS_KNOB_WEIGHT, "-5", buf, sizeof(buf)), -EINVAL);
        assert_int_equal(vs_cg_format(&v2, VS_KNOB_WEIGHT, "100", buf, 3), -ENOBUFS);
        /* every weight survives format -> parse on v1 */
        for (unsigned w = 1; w <= 10000; w++) {
                char in[16], txt[32], back[16];
                fmt(in, sizeof(in), "%u", w);
                assert_int_equal(vs_cg_format(&v1, VS_KNOB_WEIGHT, in, txt, sizeof(txt)), 0);
                assert_int_equal(vs_cg_parse(&v1, VS_KNOB_WEIGHT, txt, back, sizeof(back)), 0);
                assert_string_equal(back, in);
        }
        assert_int_equal(vs_cg_parse(&v1, VS_KNOB_WEIGHT, "1024\n", buf, sizeof(buf)), 0);
        assert_string_equal(buf, "100");
        assert_int_equal(vs_cg_parse(&v1, VS_KNOB_WEIGHT, "2", buf, sizeof(buf)), 0);
        assert_string_equal(buf, "1");          /* clamped */
        assert_int_equal(vs_cg_parse(&v1, VS_KNOB_WEIGHT, "262144", buf, sizeof(buf)), 0);
        assert_string_equal(buf, "10000");
        assert_int_equal(vs_cg_parse(&v1, VS_KNOB_WEIGHT, "1000", buf, sizeof(buf)), 0);
        assert_string_equal(buf, "98");         /* 97.66 -> 98 */
        assert_int_equal(vs_cg_parse(&v2, VS_KNOB_WEIGHT, "250\n", buf, sizeof(buf)), 0);
        assert_string_equal(buf, "250");
        /* idle */
        assert_int_equal(vs_cg_format(&v1, VS_KNOB_IDLE, "1", buf, sizeof(buf)), 0);
        assert_string_equal(buf, "1");
        assert_int_equal(vs_cg_format(&v2, VS_KNOB_IDLE, "2", buf, sizeof(buf)), -EINVAL);
        assert_int_equal(vs_cg_parse(&v2, VS_KNOB_IDLE, "0\n", buf, sizeof(buf)), 0);
        assert_string_equal(buf, "0");
        /* cpuset */
        assert_int_equal(vs_cg_format(&v1, VS_KNOB_CPUSET, "8,0-3", buf, sizeof(buf)), 0);
        assert_string_equal(buf, "0-3,8");
        assert_int_equal(vs_cg_format(&v2, VS_KNOB_CPUSET, "0,1,2,5,4", buf, sizeof(buf)), 0);
        assert_string_equal(buf, "0-2,4-5");
        /* "" on v2 = inherit the parent's CPUs (a fresh vcpuK group): restorable; v1 has no such value */
        assert_int_equal(vs_cg_format(&v2, VS_KNOB_CPUSET, "", buf, sizeof(buf)), 0);
        assert_string_equal(buf, "");
        assert_int_equal(vs_cg_format(&v1, VS_KNOB_CPUSET, "", buf, sizeof(buf)), -EINVAL);
        assert_int_equal(vs_cg_format(&v2, VS_KNOB_CPUSET, "3-1", buf, sizeof(buf)), -EINVAL);
        assert_int_equal(vs_cg_format(&v2, VS_KNOB_CPUSET, "1,,2", buf, sizeof(buf)), -EINVAL);
        assert_int_equal(vs_cg_format(&v2, VS_KNOB_CPUSET, "a", buf, sizeof(buf)), -EINVAL);
        assert_int_equal(vs_cg_parse(&v2, VS_KNOB_CPUSET, "\n", buf, sizeof(buf)), 0);
        assert_string_equal(buf, "");           /* a v2 child's default */
        assert_int_equal(vs_cg_parse(&v1, VS_KNOB_CPUSET, "0-1,3\n", buf, sizeof(buf)), 0);
        assert_string_equal(buf, "0-1,3");
        /* freeze */
        assert_int_equal(vs_cg_format(&v1, VS_KNOB_FREEZE, "1", buf, sizeof(buf)), 0);
        assert_string_equal(buf, "FROZEN");
        assert_int_equal(vs_cg_format(&v1, VS_KNOB_FREEZE, "0", buf, sizeof(buf)), 0);
        assert_string_equal(buf, "THAWED");
        assert_int_equal(vs_cg_format(&v2, VS_KNOB_FREEZE, "1", buf, sizeof(buf)), 0);
        assert_string_equal(buf, "1");
        assert_int_equal(vs_cg_parse(&v1, VS_KNOB_FREEZE, "FREEZING\n", buf, sizeof(buf)), 0);
        assert_string_equal(buf, "1");
        assert_int_equal(vs_cg_parse(&v1, VS_KNOB_FREEZE, "THAWED\n", buf, sizeof(buf)), 0);
        assert_string_equal(buf, "0");
        assert_int_equal(vs_cg_parse(&v1, VS_KNOB_FREEZE, "1", buf, sizeof(buf)), -EINVAL);
        assert_int_equal(vs_cg_parse(&v2, VS_KNOB_FREEZE, "FROZEN", buf, sizeof(buf)), -EINVAL);

        /* normalize: what the actuator compares */
        assert_int_equal(vs_cg_normalize("freezer.state", "FREEZING\n", buf, sizeof(buf)), 0);
        assert_string_equal(buf, "FROZEN");
        assert_int_equal(vs_cg_normalize("cpuset.cpus", " 2,0,1\n", buf, sizeof(buf)), 0);
        assert_string_equal(buf, "0-2");
        assert_int_equal(vs_cg_normalize("cpu.shares", "1024\n", buf, sizeof(buf)), 0);
        assert_string_equal(buf, "1024");
        assert_int_equal(vs_cg_normalize("cpu.max", "max 100000", buf, sizeof(buf)), 0);
        assert_string_equal(buf, "max 100000");
}

static void dir_ok(const struct vs_cg_host *h, enum vs_knob k, const char *proc, int vcpu, const char *want_rel) {
        char buf[PATH_MAX], want[PATH_MAX];

        assert_int_equal(vs_cg_dir(h, k, proc, vcpu, buf, sizeof(buf)), 0);
        fmt(want, sizeof(want), "%s%s", h->mount[k], want_rel);
        assert_string_equal(buf, want);
}

static void dir_err(const struct vs_cg_host *h, enum vs_knob k, const char *proc, int vcpu, int err) {
        char buf[PATH_MAX];

        assert_int_equal(vs_cg_dir(h, k, proc, vcpu, buf, sizeof(buf)), err);
}

static void test_dir_hybrid(void **state) {
        struct vs_cg_host h;
        char p[PATH_MAX];

        hybrid();
        detect(&h);
        vm_tree(h.mount[VS_KNOB_WEIGHT]);
        vm_tree(h.mount[VS_KNOB_FREEZE]);

        /* from the emulator, a vCPU thread, the libvirt dir itself */
        dir_ok(&h, VS_KNOB_WEIGHT, SCOPE "/libvirt/emulator", 1, SCOPE "/libvirt/vcpu1");
        dir_ok(&h, VS_KNOB_WEIGHT, SCOPE "/libvirt/vcpu0", 1, SCOPE "/libvirt/vcpu1");
        dir_ok(&h, VS_KNOB_WEIGHT, SCOPE "/libvirt/vcpu0", -1, SCOPE "/libvirt");
        dir_ok(&h, VS_KNOB_IDLE, SCOPE "/libvirt", 0, SCOPE "/libvirt/vcpu0");
        dir_ok(&h, VS_KNOB_FREEZE, SCOPE "/libvirt/emulator", -1, SCOPE "/libvirt");
        /* the literal backslash is kept: the directory really is named that */
        fmt(p, sizeof(p), "%s/machine.slice/machine-qemu\\x2d1\\x2dweb.scope/libvirt/vcpu0",
                 h.mount[VS_KNOB_WEIGHT]);
        assert_int_equal(access(p, F_OK), 0);
        /* the process in the scope itself: its libvirt child */
        dir_ok(&h, VS_KNOB_WEIGHT, SCOPE, 0, SCOPE "/libvirt/vcpu0");
        dir_ok(&h, VS_KNOB_WEIGHT, SCOPE "/", -1, SCOPE "/libvirt");
        /* no such vCPU / no such VM / no libvirt sub-tree / hierarchy root */
        dir_err(&h, VS_KNOB_WEIGHT, SCOPE "/libvirt/emulator", 7, -ENOENT);
        dir_err(&h, VS_KNOB_WEIGHT, "/machine.slice/machine-qemu\\x2d2\\x2dgone.scope/libvirt/emulator", -1,
                -ENOENT);
        mkdirs("%s/system.slice/qemu-plain.scope", h.mount[VS_KNOB_WEIGHT]);
        dir_err(&h, VS_KNOB_WEIGHT, "/system.slice/qemu-plain.scope", -1, -ENOENT);
        dir_err(&h, VS_KNOB_WEIGHT, "/system.slice/qemu-plain.scope", 0, -ENOENT);
        dir_err(&h, VS_KNOB_WEIGHT, "/", -1, -ENOENT);
        /* "libvirt" somewhere libvirt never puts a process */
        dir_err(&h, VS_KNOB_WEIGHT, SCOPE "/libvirt/other", -1, -ENOENT);
        dir_err(&h, VS_KNOB_WEIGHT, SCOPE "/libvirt/emulator/x", -1, -ENOENT);
        /* cpuset has no VM tree in this fake host */
        dir_err(&h, VS_KNOB_CPUSET, SCOPE "/libvirt/emulator", 0, -ENOENT);
}

static void test_dir_refusals(void **state) {
        struct vs_cg_host h;
        char p[PATH_MAX], q[PATH_MAX];

        hybrid();
        detect(&h);
        vm_tree(h.mount[VS_KNOB_WEIGHT]);
        mkdirs("%s/outside/libvirt/vcpu0", tmp);

        dir_err(&h, VS_KNOB_WEIGHT, SCOPE "/../../outside/libvirt/emulator", 0, -EINVAL);
        dir_err(&h, VS_KNOB_WEIGHT, "/../outside/libvirt", 0, -EINVAL);
        dir_err(&h, VS_KNOB_WEIGHT, SCOPE "/./libvirt", 0, -EINVAL);
        dir_err(&h, VS_KNOB_WEIGHT, "/machine.slice//machine-qemu\\x2d1\\x2dweb.scope/libvirt", 0, -EINVAL);
        dir_err(&h, VS_KNOB_WEIGHT, SCOPE "/libvirt\n/vcpu0", -1, -EINVAL);
        dir_err(&h, VS_KNOB_WEIGHT, SCOPE "/lib\tvirt", -1, -EINVAL);
        dir_err(&h, VS_KNOB_WEIGHT, "machine.slice/x.scope/libvirt", 0, -EINVAL);        /* relative */
        dir_err(&h, VS_KNOB_WEIGHT, "", 0, -EINVAL);
        /* a symlink inside the mount that leads out of it (cannot happen on
         * cgroupfs, can on a tampered tree) */
        fmt(p, sizeof(p), "%s/machine.slice/evil.scope", h.mount[VS_KNOB_WEIGHT]);
        assert_int_equal(mkdir(p, 0755), 0);
        fmt(p, sizeof(p), "%s/machine.slice/evil.scope/libvirt", h.mount[VS_KNOB_WEIGHT]);
        fmt(q, sizeof(q), "%s/outside/libvirt", tmp);
        assert_int_equal(symlink(q, p), 0);
        dir_err(&h, VS_KNOB_WEIGHT, "/machine.slice/evil.scope/libvirt/emulator", 0, -EINVAL);
        dir_err(&h, VS_KNOB_WEIGHT, "/machine.slice/evil.scope/libvirt/emulator", -1, -EINVAL);
        /* a vcpuK that is a file, not a directory */
        fmt(p, sizeof(p), "%s%s/libvirt/vcpu9", h.mount[VS_KNOB_WEIGHT], SCOPE);
        put(p, "");
        dir_err(&h, VS_KNOB_WEIGHT, SCOPE "/libvirt/emulator", 9, -ENOENT);
        /* too small a buffer */
        char small[8];
        assert_int_equal(vs_cg_dir(&h, VS_KNOB_WEIGHT, SCOPE "/libvirt/emulator", 0, small, sizeof(small)),
                         -ENOBUFS);
}

/* A v1 hierarchy bind-mounted from a sub-tree (mountinfo root != "/"): the
 * process paths are hierarchy paths and lose the prefix. */
static void test_dir_subtree_mount(void **state) {
        struct vs_cg_host h;
        char *mi;

        mkdirs("%s/ct/cpu", tmp);
        vm_tree(strcat(strcpy((char[PATH_MAX]) {}, tmp), "/ct/cpu"));
        assert_true(asprintf(&mi, "50 40 0:29 /lxc/c1 %s/ct/cpu rw - cgroup cgroup rw,cpu,cpuacct\n", tmp) > 0);
        write_mountinfo(mi);
        free(mi);
        detect(&h);
        assert_string_equal(h.root[VS_KNOB_WEIGHT], "/lxc/c1");
        dir_ok(&h, VS_KNOB_WEIGHT, "/lxc/c1" SCOPE "/libvirt/emulator", 0, SCOPE "/libvirt/vcpu0");
        dir_err(&h, VS_KNOB_WEIGHT, "/lxc/c2" SCOPE "/libvirt/emulator", 0, -ENOENT);
        dir_err(&h, VS_KNOB_WEIGHT, "/lxc/c1x" SCOPE "/libvirt/emulator", 0, -ENOENT);
}

static void test_proc_cgroup(void **state) {
        struct vs_cg_host h;
        char p[PATH_MAX], buf[PATH_MAX];

        hybrid();
        detect(&h);
        fmt(p, sizeof(p), "%s/pid-cgroup", tmp);
        put(p,
            "12:freezer:" SCOPE "/libvirt/vcpu0\n"
            "4:cpu,cpuacct:" SCOPE "/libvirt/vcpu0\n"
            "3:cpuset:" SCOPE "/libvirt/emulator\n"
            "1:name=systemd:" SCOPE "\n"
            "0::" SCOPE "\n");
        assert_int_equal(vs_cg_proc_cgroup(&h, VS_KNOB_WEIGHT, p, buf, sizeof(buf)), 0);
        assert_string_equal(buf, SCOPE "/libvirt/vcpu0");
        assert_int_equal(vs_cg_proc_cgroup(&h, VS_KNOB_CPUSET, p, buf, sizeof(buf)), 0);
        assert_string_equal(buf, SCOPE "/libvirt/emulator");
        assert_int_equal(vs_cg_proc_cgroup(&h, VS_KNOB_FREEZE, p, buf, sizeof(buf)), 0);
        assert_string_equal(buf, SCOPE "/libvirt/vcpu0");

        struct vs_cg_host v2 = h;
        v2.v2[VS_KNOB_WEIGHT] = true;
        assert_int_equal(vs_cg_proc_cgroup(&v2, VS_KNOB_WEIGHT, p, buf, sizeof(buf)), 0);
        assert_string_equal(buf, SCOPE);

        put(p, "1:name=systemd:/\n");
        assert_int_equal(vs_cg_proc_cgroup(&h, VS_KNOB_WEIGHT, p, buf, sizeof(buf)), -ENOENT);
}

static void test_read_write(void **state) {
        char d[PATH_MAX], p[PATH_MAX], buf[16];

        fmt(d, sizeof(d), "%s/g", tmp);
        mkdirs("%s", d);
        fmt(p, sizeof(p), "%s/cpu.shares", d);
        put(p, "1024\n");
        assert_int_equal(vs_cg_read(d, "cpu.shares", buf, sizeof(buf)), 0);
        assert_string_equal(buf, "1024");
        assert_int_equal(vs_cg_write(d, "cpu.shares", "20"), 0);
        assert_int_equal(vs_cg_read(d, "cpu.shares", buf, sizeof(buf)), 0);
        assert_string_equal(buf, "20");         /* truncated, no leftover "24" */
        assert_int_equal(vs_cg_read(d, "cpu.shares", buf, 3), -ENOBUFS);
        assert_int_equal(vs_cg_read(d, "cpu.weight", buf, sizeof(buf)), -ENOENT);
        assert_int_equal(vs_cg_write(d, "cpu.weight", "1"), -ENOENT);   /* never created */
        assert_int_equal(vs_cg_write(d, "../x", "1"), -EINVAL);
        assert_int_equal(vs_cg_read(d, "", buf, sizeof(buf)), -EINVAL);
        fmt(p, sizeof(p), "%s/gone", tmp);
        assert_int_equal(vs_cg_read(p, "cpu.shares", buf, sizeof(buf)), -ENOENT);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_hybrid, setup, teardown),
                cmocka_unit_test_setup_teardown(test_pure_v2_cpu, setup, teardown),
                cmocka_unit_test_setup_teardown(test_pure_v2_no_cpu, setup, teardown),
                cmocka_unit_test_setup_teardown(test_pure_v1, setup, teardown),
                cmocka_unit_test_setup_teardown(test_nothing, setup, teardown),
                cmocka_unit_test(test_real_host),
                cmocka_unit_test(test_format_parse),
                cmocka_unit_test_setup_teardown(test_dir_hybrid, setup, teardown),
                cmocka_unit_test_setup_teardown(test_dir_refusals, setup, teardown),
                cmocka_unit_test_setup_teardown(test_dir_subtree_mount, setup, teardown),
                cmocka_unit_test_setup_teardown(test_proc_cgroup, setup, teardown),
                cmocka_unit_test_setup_teardown(test_read_write, setup, teardown),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
