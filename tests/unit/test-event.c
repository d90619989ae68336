/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests for event.c, event-json.c and the topology marker parser. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "event-json.h"
#include "event.h"
#include "source.h"
#include "topology.h"

static void test_icr_decode(void **state) {
        struct vs_event ev = {};

        /* vector 251, fixed, physical, edge, no shorthand: a plain unicast IPI */
        vs_event_set_icr(&ev, 0x000040fb, 3);
        assert_int_equal(ev.type, VS_EV_IPI);
        assert_int_equal(ev.ipi.vector, 251);
        assert_int_equal(ev.ipi.delivery_mode, VS_DM_FIXED);
        assert_int_equal(ev.ipi.logical, 0);
        assert_int_equal(ev.ipi.shorthand, VS_SH_NONE);
        assert_int_equal(ev.ipi.dest_apic, 3);
        assert_true(vs_ipi_is_unicast(&ev));

        /* logical destination mode (bit 11) */
        vs_event_set_icr(&ev, 0x000048fd, 0x0f);
        assert_int_equal(ev.ipi.logical, 1);
        assert_int_equal(ev.ipi.vector, 0xfd);
        assert_false(vs_ipi_is_unicast(&ev));

        /* all-but-self shorthand (bits 18-19 = 3) */
        vs_event_set_icr(&ev, 0x000c00fb, 0);
        assert_int_equal(ev.ipi.shorthand, VS_SH_ALL_BUT_SELF);
        assert_false(vs_ipi_is_unicast(&ev));

        /* self shorthand */
        vs_event_set_icr(&ev, 0x000400f0, 0);
        assert_int_equal(ev.ipi.shorthand, VS_SH_SELF);

        /* NMI and INIT delivery modes are not fixed IPIs */
        vs_event_set_icr(&ev, 0x00000400, 1);
        assert_int_equal(ev.ipi.delivery_mode, VS_DM_NMI);
        assert_false(vs_ipi_is_unicast(&ev));
        vs_event_set_icr(&ev, 0x00000500, 1);
        assert_int_equal(ev.ipi.delivery_mode, VS_DM_INIT);

        /* x2APIC destination IDs are 32 bits wide */
        vs_event_set_icr(&ev, 0xfb, 0x1000a);
        assert_int_equal(ev.ipi.dest_apic, 0x1000a);
}

static void test_exit_is_pause(void **state) {
        assert_true(vs_exit_is_pause(VS_ISA_VMX, 40));
        assert_false(vs_exit_is_pause(VS_ISA_VMX, 12));          /* HLT */
        assert_false(vs_exit_is_pause(VS_ISA_VMX, 0x77));
        assert_false(vs_exit_is_pause(VS_ISA_VMX, 0x80000028));  /* failed entry flag */
        assert_true(vs_exit_is_pause(VS_ISA_SVM, 0x77));
        assert_false(vs_exit_is_pause(VS_ISA_SVM, 40));           /* SVM 0x28 = write_dr8, not pause */
        assert_false(vs_exit_is_pause(VS_ISA_SVM, 0x78));         /* hlt */
        assert_true(vs_exit_is_pause(VS_ISA_UNKNOWN, 40));
        assert_true(vs_exit_is_pause(VS_ISA_UNKNOWN, 0x77));
        assert_false(vs_exit_is_pause(VS_ISA_UNKNOWN, 1));
}

static void test_prev_state(void **state) {
        char buf[32];

        assert_true(vs_prev_state_runnable(0));
        assert_true(vs_prev_state_runnable(0x100));    /* R+ : preempted */
        assert_false(vs_prev_state_runnable(1));       /* S */
        assert_false(vs_prev_state_runnable(2));       /* D */
        assert_false(vs_prev_state_runnable(0x80));    /* I */
        assert_string_equal(vs_prev_state_str(0, buf, sizeof(buf)), "R");
        assert_string_equal(vs_prev_state_str(0x100, buf, sizeof(buf)), "R+");
        assert_string_equal(vs_prev_state_str(1, buf, sizeof(buf)), "S");
        assert_string_equal(vs_prev_state_str(3, buf, sizeof(buf)), "S|D");
        assert_string_equal(vs_prev_state_str(0x80, buf, sizeof(buf)), "I");
}

static void test_type_names(void **state) {
        assert_string_equal(vs_event_type_name(VS_EV_IPI), "ipi");
        assert_string_equal(vs_event_type_name(VS_EV_EXIT_PAUSE), "exit_pause");
        assert_string_equal(vs_event_type_name(VS_EV_AVIC_INCOMPLETE_IPI), "avic_incomplete_ipi");
        assert_string_equal(vs_event_type_name((enum vs_event_type) 200), "invalid");
}

static void test_marker(void **state) {
        struct vs_thread_info ti;
        char vm[32], comm[32];

        assert_int_equal(vs_parse_topology_marker("vschedd-topology: tid=4243 tgid=4242 apic=2 vm=db comm=CPU 1/KVM",
                                                  &ti, vm, sizeof(vm), comm, sizeof(comm)), 1);
        assert_int_equal(ti.tid, 4243);
        assert_int_equal(ti.tgid, 4242);
        assert_int_equal(ti.apic_id, 2);
        assert_string_equal(ti.vm_name, "db");
        assert_string_equal(ti.comm, "CPU 1/KVM");

        /* trace_marker lines end in a newline */
        assert_int_equal(vs_parse_topology_marker("vschedd-topology: tid=5 comm=x\n", &ti, vm, sizeof(vm), comm,
                                                  sizeof(comm)), 1);
        assert_string_equal(ti.comm, "x");
        assert_int_equal(ti.tgid, -1);
        assert_null(ti.vm_name);

        /* not a marker, bad or missing tid, overlong values are truncated safely */
        assert_int_equal(vs_parse_topology_marker("hello world", &ti, vm, sizeof(vm), comm, sizeof(comm)), 0);
        assert_int_equal(vs_parse_topology_marker("vschedd-topology: tgid=1", &ti, vm, sizeof(vm), comm, sizeof(comm)), 0);
        assert_int_equal(vs_parse_topology_marker("vschedd-topology: tid=-4", &ti, vm, sizeof(vm), comm, sizeof(comm)), 0);
        assert_int_equal(vs_parse_topology_marker("vschedd-topology: tid=12x", &ti, vm, sizeof(vm), comm, sizeof(comm)), 0);
        assert_int_equal(vs_parse_topology_marker("vschedd-topology: tid=99999999999", &ti, vm, sizeof(vm), comm,
                                                  sizeof(comm)), 0);
        assert_int_equal(vs_parse_topology_marker("vschedd-topology: tid=7 vm=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
                                                  &ti, vm, sizeof(vm), comm, sizeof(comm)), 1);
        assert_int_equal(strlen(ti.vm_name), sizeof(vm) - 1);
        /* "xtid=" must not match "tid=" */
        assert_int_equal(vs_parse_topology_marker("vschedd-topology: xtid=3", &ti, vm, sizeof(vm), comm, sizeof(comm)), 0);
}

static void test_marker_roundtrip(void **state) {
        struct vs_thread_info ti;
        char buf[256], vm[64], comm[64];

        /* a VM name with spaces, '%', '=' and a newline survives the marker */
        assert_true(vs_format_topology_marker(buf, sizeof(buf), 4243, 4242, 2, "db prod%1=x\ny", "CPU 1/KVM") > 0);
        assert_non_null(strchr(buf, '\n'));
        assert_int_equal(vs_parse_topology_marker(buf, &ti, vm, sizeof(vm), comm, sizeof(comm)), 1);
        assert_int_equal(ti.tid, 4243);
        assert_int_equal(ti.tgid, 4242);
        assert_int_equal(ti.apic_id, 2);
        assert_string_equal(ti.vm_name, "db prod%1=x\ny");
        assert_string_equal(ti.comm, "CPU 1/KVM");

        /* no apic, no vm */
        assert_true(vs_format_topology_marker(buf, sizeof(buf), 7, 6, -1, NULL, "vcpu0") > 0);
        assert_int_equal(vs_parse_topology_marker(buf, &ti, vm, sizeof(vm), comm, sizeof(comm)), 1);
        assert_int_equal(ti.apic_id, -1);
        assert_null(ti.vm_name);
        assert_string_equal(ti.comm, "vcpu0");

        /* too small a buffer is an error, never an overflow */
        assert_int_equal(vs_format_topology_marker(buf, 20, 7, 6, -1, "x", "y"), -ENOBUFS);
        assert_int_equal(vs_format_topology_marker(buf, 40, 7, 6, 1, "a-long-vm-name", "CPU 0/KVM"), -ENOBUFS);
}

static struct vs_topology *sparse_vm(void) {
        struct vs_topology *t;
        struct vs_thread_info a = { .tid = 101, .tgid = 100, .comm = "CPU 0/KVM", .apic_id = 0, .vm_name = "db" };
        struct vs_thread_info b = { .tid = 102, .tgid = 100, .comm = "CPU 1/KVM", .apic_id = 2, .vm_name = "db" };

        assert_int_equal(vs_topology_new(&t), 0);
        assert_int_equal(vs_topology_learn_thread(t, &a), 0);
        assert_int_equal(vs_topology_learn_thread(t, &b), 0);
        return t;
}

static void test_json_ipi_sparse(void **state) {
        struct vs_topology *t = sparse_vm();
        struct vs_event ev = { .ts_ns = 1500000001, .tid = 101, .cpu = 1 };
        struct json_object *o, *v;

        vs_event_set_icr(&ev, 0xfb, 2);
        o = vs_event_to_json(&ev, t);
        assert_non_null(o);
        assert_true(json_object_object_get_ex(o, "type", &v));
        assert_string_equal(json_object_get_string(v), "ipi");
        assert_true(json_object_object_get_ex(o, "vm", &v));
        assert_string_equal(json_object_get_string(v), "db");
        assert_true(json_object_object_get_ex(o, "vcpu", &v));
        assert_int_equal(json_object_get_int(v), 0);
        /* APIC 2 is vCPU 1 (sparse): never dst_vcpu 2 */
        assert_true(json_object_object_get_ex(o, "dst_vcpu", &v));
        assert_int_equal(json_object_get_int(v), 1);
        assert_true(json_object_object_get_ex(o, "dst_apic", &v));
        assert_int_equal(json_object_get_int(v), 2);
        assert_true(json_object_object_get_ex(o, "ts_ns", &v));
        assert_int_equal(json_object_get_uint64(v), 1500000001);
        json_object_put(o);

        /* a multicast IPI has no dst_vcpu */
        vs_event_set_icr(&ev, 0xc00fb, 0);
        o = vs_event_to_json(&ev, t);
        assert_true(json_object_object_get_ex(o, "dst_vcpu", &v));
        assert_null(v);
        assert_true(json_object_object_get_ex(o, "shorthand", &v));
        assert_string_equal(json_object_get_string(v), "all-but-self");
        json_object_put(o);
        vs_topology_free(t);
}

static void test_json_send_ipi_bitmap(void **state) {
        struct vs_topology *t = sparse_vm();
        struct vs_event ev = { .type = VS_EV_HYPERCALL, .tid = 102 };
        struct json_object *o, *v;

        /* KVM_HC_SEND_IPI: bitmap bits 0 and 2 from base APIC 0 -> APICs 0 and 2 -> vCPUs 0 and 1 */
        ev.hc.nr = VS_HC_SEND_IPI;
        ev.hc.a0 = 0x5;
        ev.hc.a1 = 0;
        ev.hc.a2 = 0;
        ev.hc.a3 = 0xfb;
        o = vs_event_to_json(&ev, t);
        assert_true(json_object_object_get_ex(o, "dst_apics", &v));
        assert_int_equal(json_object_array_length(v), 2);
        assert_int_equal(json_object_get_int(json_object_array_get_idx(v, 1)), 2);
        assert_true(json_object_object_get_ex(o, "dst_vcpus", &v));
        assert_int_equal(json_object_get_int(json_object_array_get_idx(v, 1)), 1);
        json_object_put(o);

        /* KVM_HC_SCHED_YIELD: a0 is the target APIC */
        ev.hc.nr = VS_HC_SCHED_YIELD;
        ev.hc.a0 = 0;
        o = vs_event_to_json(&ev, t);
        assert_true(json_object_object_get_ex(o, "dst_vcpu", &v));
        assert_int_equal(json_object_get_int(v), 0);
        assert_true(json_object_object_get_ex(o, "hypercall", &v));
        assert_string_equal(json_object_get_string(v), "sched_yield");
        json_object_put(o);
        vs_topology_free(t);
}

static void test_format_line(void **state) {
        struct vs_topology *t = sparse_vm();
        struct vs_event ev = { .ts_ns = 2000000123, .tid = 101, .cpu = 0 };
        char buf[256];

        vs_event_set_icr(&ev, 0xfb, 2);
        vs_event_format(&ev, t, buf, sizeof(buf));
        assert_non_null(strstr(buf, "db/vcpu0"));
        assert_non_null(strstr(buf, "-> vcpu1 (apic 0x2)"));
        assert_non_null(strstr(buf, "2.000000123"));
        vs_topology_free(t);
}

/* vs_escape(): what the daemon's log lines (daemon/log.c), the text event
 * format and the reports do with names guests' operators choose. */
static void test_escape(void **state) {
        char buf[64];

        /* a newline cannot start a forged log line; ESC cannot reach a terminal */
        assert_string_equal(vs_escape("evil\nvschedd: forged line", buf, sizeof(buf)),
                            "evil\\x0avschedd: forged line");
        assert_string_equal(vs_escape("\033[31mred\r\t", buf, sizeof(buf)), "\\x1b[31mred\\x0d\\x09");
        assert_string_equal(vs_escape("\x01\x1f\x7f", buf, sizeof(buf)), "\\x01\\x1f\\x7f");
        /* a backslash is doubled, so an escape cannot be faked by the name */
        assert_string_equal(vs_escape("web\\x2d1", buf, sizeof(buf)), "web\\\\x2d1");
        /* printable ASCII and UTF-8 pass unchanged */
        assert_string_equal(vs_escape("q\"uo'te {}[] \xc3\xbc\xe2\x82\xac", buf, sizeof(buf)),
                            "q\"uo'te {}[] \xc3\xbc\xe2\x82\xac");
        assert_string_equal(vs_escape(NULL, buf, sizeof(buf)), "");
        assert_string_equal(vs_escape("", buf, sizeof(buf)), "");
        /* truncated to @len, always terminated, never inside an escape */
        assert_string_equal(vs_escape("abcdef", buf, 4), "abc");
        assert_string_equal(vs_escape("ab\ncd", buf, 6), "ab");
        assert_string_equal(vs_escape("ab\ncd", buf, 7), "ab\\x0a");
        assert_string_equal(vs_escape("a\\b", buf, 3), "a");
        assert_string_equal(vs_escape("abc", buf, 1), "");
        /* len 0: nothing written */
        buf[0] = 'X';
        assert_ptr_equal(vs_escape("abc", buf, 0), buf);
        assert_int_equal(buf[0], 'X');
}

/* A VM's grouping in JSON: "maybe_same_vm" only for inferred VMs, with a
 * count when more than the listed names exist; the text says the same. */
static void test_json_grouping(void **state) {
        struct json_object *o = json_object_new_object(), *v;
        char note[512];

        (void) state;
        vs_json_add_grouping(o, false, 0, "");
        assert_string_equal(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN), "{\"inferred\":false}");
        json_object_put(o);
        o = json_object_new_object();
        vs_json_add_grouping(o, true, 0, "");
        assert_string_equal(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN),
                            "{\"inferred\":true,\"maybe_same_vm\":[]}");
        json_object_put(o);
        o = json_object_new_object();
        vs_json_add_grouping(o, true, 6, "inferred-2,inferred-3,inferred-4,inferred-5");
        assert_true(json_object_object_get_ex(o, "maybe_same_vm", &v));
        assert_int_equal(json_object_array_length(v), 4);
        assert_string_equal(json_object_get_string(json_object_array_get_idx(v, 3)), "inferred-5");
        assert_true(json_object_object_get_ex(o, "maybe_same_vm_count", &v));
        assert_int_equal(json_object_get_int(v), 6);
        json_object_put(o);
        vs_grouping_note(true, 6, "inferred-2,inferred-3,inferred-4,inferred-5", note, sizeof(note));
        assert_string_equal(note, "grouping inferred; may be one VM with inferred-2,inferred-3,inferred-4,inferred-5 "
                                  "and 2 more: nothing in the trace joins or separates them, their edges are kept apart");
        vs_grouping_note(true, 0, "", note, sizeof(note));
        assert_string_equal(note, "grouping inferred");
        vs_grouping_note(true, 1, "inferred-2", note, 10);
        assert_int_equal(strlen(note), 9);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_icr_decode),
                cmocka_unit_test(test_exit_is_pause),
                cmocka_unit_test(test_prev_state),
                cmocka_unit_test(test_type_names),
                cmocka_unit_test(test_marker),
                cmocka_unit_test(test_marker_roundtrip),
                cmocka_unit_test(test_json_grouping),
                cmocka_unit_test(test_json_ipi_sparse),
                cmocka_unit_test(test_json_send_ipi_bitmap),
                cmocka_unit_test(test_format_line),
                cmocka_unit_test(test_escape),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
