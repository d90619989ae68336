/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Unit tests for kvm-hook.c against real directory trees in a temporary
 * directory laid out as sysfs (module/kvm/parameters) and KVM's debugfs
 * (kvm/<pid>-<fd>/vcpuN/directed_yield_hint) are.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

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
        assert_int_equal(vs_kvm_hook_probe(root, &h), 0);
        assert_false(h.present);
        assert_false(vs_kvm_hook_active(&h));
        /* no kvm module at all */
        assert_int_equal(vs_kvm_hook_probe("/nonexistent-vs-root", &h), 0);
        assert_false(h.present);
}

static void test_probe_present(void **state) {
        struct vs_kvm_hook h;
        struct json_object *o, *x;

        put("module/kvm/parameters/dy_ipi", "Y\n");
        put("module/kvm/parameters/dy_hint", "N\n");
        put("module/kvm/parameters/dy_ipi_window_ns", "50000000\n");
        assert_int_equal(vs_kvm_hook_probe(root, &h), 0);
        assert_true(h.present);
        assert_true(h.ipi);
        assert_false(h.hint);
        assert_int_equal(h.ipi_window_ns, 50000000);
        assert_true(vs_kvm_hook_active(&h));

        o = vs_kvm_hook_json(&h);
        assert_true(json_object_object_get_ex(o, "active", &x));
        assert_true(json_object_get_boolean(x));
        assert_true(json_object_object_get_ex(o, "hint", &x));
        assert_false(json_object_get_boolean(x));
        json_object_put(o);

        /* window 0 and hint off: loaded but nothing acts */
        put("module/kvm/parameters/dy_ipi_window_ns", "0\n");
        assert_int_equal(vs_kvm_hook_probe(root, &h), 0);
        assert_true(h.present);
        assert_false(vs_kvm_hook_active(&h));
        put("module/kvm/parameters/dy_hint", "Y\n");
        assert_int_equal(vs_kvm_hook_probe(root, &h), 0);
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

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_probe_absent, setup, teardown),
                cmocka_unit_test_setup_teardown(test_probe_present, setup, teardown),
                cmocka_unit_test_setup_teardown(test_write_hint, setup, teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
