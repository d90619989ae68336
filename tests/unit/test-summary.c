/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests for summary.c: per-VM counters, and forgetting a VM that exited. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "summary.h"
#include "topology.h"

static void learn(struct vs_topology *t, int32_t tid, int32_t tgid, const char *comm, const char *vm) {
        struct vs_thread_info ti = { .tid = tid, .tgid = tgid, .comm = comm, .apic_id = 0, .vm_name = vm };
        assert_int_equal(vs_topology_learn_thread(t, &ti), 0);
}

static void sw(struct vs_summary *s, struct vs_topology *t, int32_t prev, int64_t st, int32_t next) {
        struct vs_event e = { .ts_ns = 1, .tid = prev, .type = VS_EV_SWITCH };
        e.sw.prev_tid = prev;
        e.sw.prev_state = st;
        e.sw.next_tid = next;
        assert_int_equal(vs_summary_add(s, &e, t), 0);
}

/* The VMs the summary reports, as "name,name," */
static void vms(struct vs_summary *s, struct vs_topology *t, char *buf, size_t len) {
        struct json_object *o = vs_summary_json(s, t, NULL), *a, *v, *n;

        buf[0] = 0;
        assert_true(json_object_object_get_ex(o, "vms", &a));
        for (size_t i = 0; i < json_object_array_length(a); i++) {
                v = json_object_array_get_idx(a, i);
                assert_true(json_object_object_get_ex(v, "vm", &n));
                strncat(buf, json_object_get_string(n), len - strlen(buf) - 2);
                strcat(buf, ",");
        }
        json_object_put(o);
}

static void test_forget_vm(void **state) {
        struct vs_topology *t;
        struct vs_summary *s;
        char buf[256];

        assert_int_equal(vs_topology_new(&t), 0);
        assert_int_equal(vs_summary_new(&s), 0);
        learn(t, 11, 10, "CPU 0/KVM", "a");
        learn(t, 21, 20, "CPU 0/KVM", "b");
        sw(s, t, 11, 0x100, 21);
        sw(s, t, 21, 1, 11);
        vms(s, t, buf, sizeof(buf));
        assert_string_equal(buf, "a,b,");

        assert_int_equal(vs_summary_forget_vm(s, "a"), 1);
        assert_int_equal(vs_summary_forget_vm(s, "a"), 0);
        vms(s, t, buf, sizeof(buf));
        assert_string_equal(buf, "b,");
        /* the same name later starts from zero */
        sw(s, t, 11, 0x100, 21);
        struct json_object *o = vs_summary_json(s, t, NULL), *a, *v, *p;
        assert_true(json_object_object_get_ex(o, "vms", &a));
        v = json_object_array_get_idx(a, 1);
        assert_true(json_object_object_get_ex(v, "preempted", &p));
        assert_int_equal(json_object_get_int(p), 1);
        json_object_put(o);
        vs_summary_free(s);
        vs_topology_free(t);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_forget_vm),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
