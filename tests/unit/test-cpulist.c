/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests for cpulist.c: the kernel's CPU list syntax both ways, its
 * errors, and the sysfs reader on a temporary tree (a missing file is the
 * empty set). */
#include <errno.h>
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

#include "cpulist.h"

static void roundtrip(const char *in, const char *want, unsigned count) {
        struct vs_cpumask m;
        char buf[256];

        assert_int_equal(vs_cpulist_parse(in, &m, NULL), 0);
        assert_int_equal(vs_cpumask_count(&m), count);
        assert_int_equal(vs_cpulist_format(&m, buf, sizeof(buf)), 0);
        assert_string_equal(buf, want);
}

static void bad(const char *in, int err, const char *why) {
        struct vs_cpumask m;
        const char *w = NULL;

        memset(&m, 0xaa, sizeof(m));
        assert_int_equal(vs_cpulist_parse(in, &m, &w), err);
        assert_non_null(w);
        assert_string_equal(w, why);
        assert_true(m.bits[0] == 0xaaaaaaaaaaaaaaaaull);        /* untouched */
}

static void test_parse(void **state) {
        struct vs_cpumask m;

        roundtrip("", "", 0);
        roundtrip("  ", "", 0);
        roundtrip("0", "0", 1);
        roundtrip("0-1,4", "0-1,4", 3);
        roundtrip("4,0-1", "0-1,4", 3);
        roundtrip(" 3 - 5 , 7 ,8\n", "3-5,7-8", 5);
        roundtrip("2,2,2-3", "2-3", 2);
        roundtrip("63-64,127-128", "63-64,127-128", 4);
        roundtrip("8191", "8191", 1);
        assert_int_equal(vs_cpulist_parse("0-3,8", &m, NULL), 0);
        assert_true(vs_cpumask_test(&m, 0) && vs_cpumask_test(&m, 3) && vs_cpumask_test(&m, 8));
        assert_false(vs_cpumask_test(&m, 4) || vs_cpumask_test(&m, 9) || vs_cpumask_test(&m, 100000));
        assert_int_equal(vs_cpulist_parse("1", NULL, NULL), 0);         /* validate only */

        bad("x", -EINVAL, "expected a CPU number");
        bad("-1", -EINVAL, "expected a CPU number");
        bad("1,", -EINVAL, "expected a CPU number");
        bad(",1", -EINVAL, "expected a CPU number");
        bad("1,,2", -EINVAL, "expected a CPU number");
        bad("3-1", -EINVAL, "range ends before it starts");
        bad("1-", -EINVAL, "expected a CPU number");
        bad("1 2", -EINVAL, "expected ',' or '-' after a CPU number");
        bad("0-7:2/4", -EINVAL, "expected ',' or '-' after a CPU number");
        bad("8192", -ERANGE, "CPU number too large");
        bad("0-99999999999999999999", -ERANGE, "CPU number too large");
        assert_int_equal(vs_cpulist_parse(NULL, &m, NULL), -EINVAL);
}

static void test_format(void **state) {
        struct vs_cpumask m = {};
        char small[4];

        vs_cpumask_set(&m, 10);
        vs_cpumask_set(&m, 12);
        vs_cpumask_set(&m, 100000);     /* out of range: ignored */
        assert_int_equal(vs_cpumask_count(&m), 2);
        assert_int_equal(vs_cpulist_format(&m, small, sizeof(small)), -ENOBUFS);
        assert_string_equal(small, "");
        char buf[8];
        assert_int_equal(vs_cpulist_format(&m, buf, sizeof(buf)), 0);
        assert_string_equal(buf, "10,12");

        struct vs_cpumask a = {}, b = {};
        vs_cpumask_set(&a, 1);
        vs_cpumask_set(&b, 2);
        vs_cpumask_or(&a, &b);
        assert_int_equal(vs_cpulist_format(&a, buf, sizeof(buf)), 0);
        assert_string_equal(buf, "1-2");
}

static void test_sysfs(void **state) {
        char root[] = "/tmp/test-cpulist.XXXXXX", path[256], buf[64];
        struct vs_cpumask m;
        FILE *f;

        assert_non_null(mkdtemp(root));
        snprintf(path, sizeof(path), "%s/devices", root);
        assert_int_equal(mkdir(path, 0755), 0);
        snprintf(path, sizeof(path), "%s/devices/system", root);
        assert_int_equal(mkdir(path, 0755), 0);
        snprintf(path, sizeof(path), "%s/devices/system/cpu", root);
        assert_int_equal(mkdir(path, 0755), 0);

        /* missing: the empty set */
        memset(&m, 0xff, sizeof(m));
        assert_int_equal(vs_cpulist_read_sysfs(root, "isolated", &m), 0);
        assert_int_equal(vs_cpumask_count(&m), 0);
        /* the kernel's empty file is a bare newline */
        snprintf(path, sizeof(path), "%s/devices/system/cpu/isolated", root);
        f = fopen(path, "w");
        assert_non_null(f);
        fputs("\n", f);
        fclose(f);
        assert_int_equal(vs_cpulist_read_sysfs(root, "isolated", &m), 0);
        assert_int_equal(vs_cpumask_count(&m), 0);
        f = fopen(path, "w");
        assert_non_null(f);
        fputs("2-3,6\n", f);
        fclose(f);
        assert_int_equal(vs_cpulist_read_sysfs(root, "isolated", &m), 0);
        assert_int_equal(vs_cpulist_format(&m, buf, sizeof(buf)), 0);
        assert_string_equal(buf, "2-3,6");
        f = fopen(path, "w");
        assert_non_null(f);
        fputs("garbage\n", f);
        fclose(f);
        assert_int_equal(vs_cpulist_read_sysfs(root, "isolated", &m), -EINVAL);
        assert_int_equal(vs_cpulist_read_sysfs(root, "../x", &m), -EINVAL);
        assert_int_equal(unlink(path), 0);

        /* this host's own files parse */
        assert_int_equal(vs_cpulist_read_sysfs("/sys", "online", &m), 0);
        assert_true(vs_cpumask_count(&m) >= 1);
        assert_int_equal(vs_cpulist_read_sysfs("/sys", "isolated", &m), 0);

        snprintf(path, sizeof(path), "%s/devices/system/cpu", root);
        assert_int_equal(rmdir(path), 0);
        snprintf(path, sizeof(path), "%s/devices/system", root);
        assert_int_equal(rmdir(path), 0);
        snprintf(path, sizeof(path), "%s/devices", root);
        assert_int_equal(rmdir(path), 0);
        assert_int_equal(rmdir(root), 0);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_parse),
                cmocka_unit_test(test_format),
                cmocka_unit_test(test_sysfs),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
