/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* lib/irq-virt: the interrupt virtualisation mode from module parameter
 * trees laid out like /sys (as KVM writes them: Y/N, older kvm_amd 1/0). */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <json-c/json.h>

#include "irq-virt.h"

static char root[256];

static void put(const char *rel, const char *content) {
        char path[512], cmd[700];
        FILE *f;

        snprintf(path, sizeof(path), "%s/module/%s", root, rel);
        snprintf(cmd, sizeof(cmd), "mkdir -p \"$(dirname '%s')\"", path);
        assert_int_equal(system(cmd), 0);
        f = fopen(path, "we");
        assert_non_null(f);
        fputs(content, f);
        assert_int_equal(fclose(f), 0);
}

static int setup(void **state) {
        snprintf(root, sizeof(root), "%s/vs-irq-virt.XXXXXX", getenv("TMPDIR") ?: "/tmp");
        assert_non_null(mkdtemp(root));
        return 0;
}

static int teardown(void **state) {
        char cmd[300];
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
        assert_int_equal(system(cmd), 0);
        return 0;
}

static enum vs_irq_virt_mode mode(void) {
        struct vs_irq_virt v;
        assert_int_equal(vs_irq_virt_probe(root, &v), 0);
        return v.mode;
}

static void test_none(void **state) {
        struct vs_irq_virt v;
        assert_int_equal(vs_irq_virt_probe(root, &v), 0);
        assert_int_equal(v.mode, VS_IRQV_NONE);
        assert_null(v.module);
        put("kvm/parameters/halt_poll_ns", "200000\n");        /* kvm alone: no VMs */
        assert_int_equal(mode(), VS_IRQV_NONE);
}

static void test_intel(void **state) {
        put("kvm_intel/parameters/enable_apicv", "N\n");
        put("kvm_intel/parameters/enable_ipiv", "N\n");
        assert_int_equal(mode(), VS_IRQV_SOFTWARE);
        put("kvm_intel/parameters/enable_apicv", "Y\n");
        assert_int_equal(mode(), VS_IRQV_APICV);
        put("kvm_intel/parameters/enable_ipiv", "Y\n");
        assert_int_equal(mode(), VS_IRQV_IPIV);
        struct vs_irq_virt v;
        assert_int_equal(vs_irq_virt_probe(root, &v), 0);
        struct json_object *o = vs_irq_virt_json(&v), *x;
        assert_true(json_object_object_get_ex(o, "mode", &x));
        assert_string_equal(json_object_get_string(x), "ipiv");
        assert_true(json_object_object_get_ex(o, "module", &x));
        assert_string_equal(json_object_get_string(x), "kvm_intel");
        assert_true(json_object_object_get_ex(o, "avic", &x));
        assert_null(x);                 /* not an AMD host */
        json_object_put(o);
        /* before 5.19 there is no enable_ipiv: APICv without IPIv */
        char cmd[400];
        snprintf(cmd, sizeof(cmd), "rm '%s/module/kvm_intel/parameters/enable_ipiv'", root);
        assert_int_equal(system(cmd), 0);
        assert_int_equal(mode(), VS_IRQV_APICV);
        put("kvm_intel/parameters/enable_apicv", "maybe\n");
        assert_int_equal(vs_irq_virt_probe(root, &v), -EBADMSG);
}

static void test_amd(void **state) {
        put("kvm_amd/parameters/avic", "N\n");
        assert_int_equal(mode(), VS_IRQV_SOFTWARE);
        put("kvm_amd/parameters/avic", "Y\n");
        assert_int_equal(mode(), VS_IRQV_AVIC);
        put("kvm_amd/parameters/avic", "1\n");         /* an int parameter before 5.x */
        assert_int_equal(mode(), VS_IRQV_AVIC);
        assert_string_equal(vs_irq_virt_mode_name(VS_IRQV_AVIC), "avic");
        assert_non_null(strstr(vs_irq_virt_expect(VS_IRQV_AVIC), "kvm_avic_incomplete_ipi"));
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_none, setup, teardown),
                cmocka_unit_test_setup_teardown(test_intel, setup, teardown),
                cmocka_unit_test_setup_teardown(test_amd, setup, teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
