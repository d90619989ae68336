/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* lib/dlib: all or nothing, and a reason in words (real libraries: libm). */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "dlib.h"
#include "macro.h"

static struct {
        double (*cos)(double);
        double (*sqrt)(double);
} m;

static void test_loads(void **state) {
        const struct vs_dlib_sym syms[] = { { "cos", (void **) &m.cos }, { "sqrt", (void **) &m.sqrt } };
        char err[256] = "stale";

        memset(&m, 0, sizeof(m));
        assert_int_equal(vs_dlib_load("libm.so.6", "libc6", syms, ELEMENTSOF(syms), NULL, err, sizeof(err)), 0);
        assert_string_equal(err, "");
        assert_non_null(m.cos);
        assert_true(m.sqrt(16.0) == 4.0);
        assert_true(m.cos(0.0) == 1.0);
}

static void test_missing_symbol(void **state) {
        const struct vs_dlib_sym syms[] = { { "cos", (void **) &m.cos }, { "no_such_fn_vschedd", (void **) &m.sqrt } };
        char err[256];

        memset(&m, 0, sizeof(m));
        assert_int_equal(vs_dlib_load("libm.so.6", "libc6", syms, ELEMENTSOF(syms), "libm too old?", err, sizeof(err)),
                         -ENOSYS);
        assert_non_null(strstr(err, "libm.so.6 has no no_such_fn_vschedd: libm too old?"));
        assert_null(m.cos);     /* all or nothing */
        assert_null(m.sqrt);
}

static void test_missing_library(void **state) {
        const struct vs_dlib_sym syms[] = { { "cos", (void **) &m.cos } };
        char err[256];

        memset(&m, 0, sizeof(m));
        assert_int_equal(vs_dlib_load("libvschedd-nonexistent.so.9", "vschedd-nothing", syms, 1, NULL, err,
                                      sizeof(err)), -ENOENT);
        assert_non_null(strstr(err, "cannot load libvschedd-nonexistent.so.9 (Debian package vschedd-nothing): "));
        assert_null(m.cos);
        assert_int_equal(vs_dlib_load(NULL, NULL, syms, 1, NULL, err, sizeof(err)), -EINVAL);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_loads),
                cmocka_unit_test(test_missing_symbol),
                cmocka_unit_test(test_missing_library),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
