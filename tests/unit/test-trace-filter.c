/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests for trace-filter.c: the live source's kernel-side filter texts. */
#include <errno.h>
#include <fnmatch.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "topology.h"
#include "trace-filter.h"

static int count(const char *hay, const char *needle) {
        int n = 0;
        for (const char *p = strstr(hay, needle); p; p = strstr(p + 1, needle))
                n++;
        return n;
}

static bool glob_matches(const char *comm) {
        for (size_t g = 0; vs_trace_filter_vcpu_globs[g]; g++)
                if (fnmatch(vs_trace_filter_vcpu_globs[g], comm, 0) == 0)
                        return true;
        return false;
}

/* Every name topology takes for a vCPU passes the kernel filter's globs. */
static void test_globs_cover_vcpu_names(void **state) {
        static const char *const vcpus[] = {
                "CPU 0/KVM", "CPU 15/KVM", "CPU 255/KVM", "fc_vcpu 0", "fc_vcpu 31", "crosvm_vcpu2",
                "kvm-vcpu-7", "vcpu0", "vcpu12",
        };
        static const char *const others[] = {
                "qemu-system-x86", "CPU 0/TCG", "kworker/0:1", "bash", "swapper/1", "IO mon_iothread",
        };

        for (size_t i = 0; i < sizeof(vcpus) / sizeof(vcpus[0]); i++) {
                assert_true(vs_vcpu_index_from_comm(vcpus[i]) >= 0);
                assert_true(glob_matches(vcpus[i]));
        }
        for (size_t i = 0; i < sizeof(others) / sizeof(others[0]); i++) {
                assert_true(vs_vcpu_index_from_comm(others[i]) < 0);
                assert_false(glob_matches(others[i]));
        }
}

static void test_switch_and_wakeup_text(void **state) {
        char buf[VS_TRACE_FILTER_MAX + 1];
        int32_t tids[] = { 4242, 0, -3, 4242, 77 };
        int n;

        n = vs_trace_filter_vcpus(VS_TF_SCHED_SWITCH, NULL, 0, buf, sizeof(buf));
        assert_int_equal(n, (int) strlen(buf));
        assert_non_null(strstr(buf, "prev_comm ~ \"CPU */KVM\""));
        assert_non_null(strstr(buf, "next_comm ~ \"CPU */KVM\""));
        assert_null(strstr(buf, "pid =="));

        n = vs_trace_filter_vcpus(VS_TF_SCHED_SWITCH, tids, 5, buf, sizeof(buf));
        assert_true(n > 0);
        assert_non_null(strstr(buf, " || prev_pid == 4242 || next_pid == 4242"));
        assert_non_null(strstr(buf, " || prev_pid == 77 || next_pid == 77"));
        /* the duplicate and the non-TIDs are left out */
        assert_int_equal(count(buf, "prev_pid == 4242"), 1);
        assert_int_equal(count(buf, "comm ~"), 10);
        assert_null(strstr(buf, "== 0"));
        assert_null(strstr(buf, "== -3"));

        n = vs_trace_filter_vcpus(VS_TF_SCHED_WAKEUP, tids, 5, buf, sizeof(buf));
        assert_true(n > 0);
        assert_true(strncmp(buf, "comm ~ \"CPU */KVM\"", 18) == 0);
        assert_non_null(strstr(buf, " || pid == 4242 || pid == 77"));
        assert_null(strstr(buf, "prev_"));
        assert_int_equal(vs_trace_filter_vcpus(42, NULL, 0, buf, sizeof(buf)), -EINVAL);
}

/* More TIDs than a page holds: refused whole, never cut in the middle. */
static void test_too_long(void **state) {
        static int32_t tids[400];
        char buf[2 * VS_TRACE_FILTER_MAX];
        char small[64];

        for (size_t i = 0; i < 400; i++)
                tids[i] = (int32_t) (100000 + i);
        assert_int_equal(vs_trace_filter_vcpus(VS_TF_SCHED_SWITCH, tids, 400, buf, sizeof(buf)), -E2BIG);
        assert_string_equal(buf, "");
        assert_int_equal(vs_trace_filter_vcpus(VS_TF_SCHED_SWITCH, NULL, 0, small, sizeof(small)), -E2BIG);
        /* 40 TIDs fit */
        assert_true(vs_trace_filter_vcpus(VS_TF_SCHED_SWITCH, tids, 40, buf, sizeof(buf)) > 0);
        assert_true(strlen(buf) <= VS_TRACE_FILTER_MAX);
}

static void test_fixed(void **state) {
        assert_string_equal(vs_trace_filter_fixed("kvm", "kvm_exit"), "exit_reason == 40 || exit_reason == 119");
        assert_string_equal(vs_trace_filter_fixed("kvm", "kvm_hypercall"), "nr == 5 || nr == 10 || nr == 11");
        assert_null(vs_trace_filter_fixed("kvm", "kvm_apic_ipi"));
        assert_null(vs_trace_filter_fixed("sched", "kvm_exit"));
        assert_null(vs_trace_filter_fixed(NULL, NULL));
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_globs_cover_vcpu_names),
                cmocka_unit_test(test_switch_and_wakeup_text),
                cmocka_unit_test(test_too_long),
                cmocka_unit_test(test_fixed),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
