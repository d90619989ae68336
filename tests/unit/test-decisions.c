/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Unit tests for decisions.c: a hand-made run of VM "vm" (vCPU 0 = tid 101
 * APIC 0, vCPU 1 = tid 102 APIC 1) and VM "vm2" (tid 201), 2 s long, in
 * which vCPU 0 sends vCPU 1 ten IPIs while vCPU 1 is preempted, each
 * answered 40 ms later: 5.0 times/s, 400 ms of waiting = 20 % of the run.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "analysis.h"
#include "decisions.h"
#include "topology.h"

#define V0 101
#define V1 102
#define W0 201
#define VEC 0xfb
#define T0 1000000000ull
#define MS 1000000ull

static struct vs_topology *topo;
static struct vs_analysis *an;
static struct vs_decisions *dl;

static int setup(void **state) {
        static const struct { int32_t tid, tgid; const char *comm, *vm; int32_t apic; } th[] = {
                { V0, 100, "CPU 0/KVM", "vm", 0 }, { V1, 100, "CPU 1/KVM", "vm", 1 },
                { W0, 200, "CPU 0/KVM", "vm2", 0 },
        };
        struct vs_analysis_config c;

        assert_int_equal(vs_topology_new(&topo), 0);
        for (size_t i = 0; i < 3; i++) {
                struct vs_thread_info ti = { .tid = th[i].tid, .tgid = th[i].tgid, .comm = th[i].comm,
                                             .apic_id = th[i].apic, .vm_name = th[i].vm };
                assert_int_equal(vs_topology_learn_thread(topo, &ti), 0);
        }
        vs_analysis_config_default(&c);
        assert_int_equal(vs_analysis_new(&c, topo, &an), 0);
        assert_int_equal(vs_decisions_new(&dl), 0);
        return 0;
}

static int teardown(void **state) {
        vs_decisions_free(dl);
        vs_analysis_free(an);
        vs_topology_free(topo);
        return 0;
}

static void feed(struct vs_event *e) {
        assert_int_equal(vs_topology_observe(topo, e), 0);
        assert_int_equal(vs_analysis_event(an, e), 0);
}

static void sw(uint64_t ts, int cpu, int32_t prev, int64_t prev_state, int32_t next) {
        struct vs_event e = { .ts_ns = ts, .cpu = cpu, .tid = prev, .type = VS_EV_SWITCH };
        e.sw.prev_tid = prev;
        e.sw.prev_state = prev_state;
        e.sw.next_tid = next;
        feed(&e);
}

static void ipi(uint64_t ts, int32_t from, uint32_t dest) {
        struct vs_event e = { .ts_ns = ts, .tid = from };
        vs_event_set_icr(&e, VEC, dest);
        feed(&e);
}

static void eoi(uint64_t ts, int32_t in, uint32_t apic) {
        struct vs_event e = { .ts_ns = ts, .tid = in, .type = VS_EV_EOI };
        e.eoi.apic_id = apic;
        e.eoi.vector = VEC;
        feed(&e);
}

static void run_trace(void) {
        sw(T0, 0, 0, 0, W0);                    /* vm2 runs: the run starts */
        for (unsigned k = 0; k < 10; k++) {
                uint64_t t = T0 + k * 200 * MS;
                sw(t + 1, 1, V1, 0x100, 0);     /* vCPU 1 preempted (R+) */
                ipi(t + 10 * MS, V0, 1);        /* 0 -> 1 while preempted */
                sw(t + 40 * MS, 1, 0, 0, V1);   /* vCPU 1 back */
                eoi(t + 50 * MS, V1, 1);        /* answered: 40 ms */
        }
        ipi(T0 + 1900 * MS, V0, 1);             /* one more while it runs: not a preempted wait */
        eoi(T0 + 1901 * MS, V1, 1);
        sw(T0 + 2000 * MS, 0, W0, 1, 0);        /* the run ends: 2 s */
        vs_analysis_finish(an, vs_analysis_last_ts(an));
}

static void decide(uint64_t ms, const char *vm, int32_t vcpu, enum vs_knob k, const char *old, const char *new,
                   const char *reason) {
        struct vs_decision d = { .ts_ns = T0 + ms * MS, .vm = vm, .vcpu = vcpu, .knob = k, .reason = reason };

        snprintf(d.old, sizeof(d.old), "%s", old);
        snprintf(d.new, sizeof(d.new), "%s", new);
        assert_int_equal(vs_decisions_add(dl, &d), 0);
}

static char *print(void) {
        char *buf = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&buf, &len);

        assert_non_null(f);
        vs_decisions_print(dl, an, NULL, f);
        assert_int_equal(fclose(f), 0);
        return buf;
}

static struct json_object *get(struct json_object *o, const char *key) {
        struct json_object *v = NULL;
        assert_true(json_object_object_get_ex(o, key, &v));
        return v;
}

static struct json_object *vm_of(struct json_object *root, const char *name) {
        struct json_object *vms = get(root, "vms");
        for (size_t i = 0; i < json_object_array_length(vms); i++) {
                struct json_object *v = json_object_array_get_idx(vms, i);
                if (strcmp(json_object_get_string(get(v, "vm")), name) == 0)
                        return v;
        }
        fail_msg("VM %s not in the section", name);
        return NULL;
}

/* The figures: rate and time of the preempted waits, per edge. */
static void test_preempted_while_waited(void **state) {
        struct json_object *root, *w, *x;
        char *text;

        run_trace();
        root = vs_decisions_json(dl, an, NULL);
        assert_non_null(root);
        assert_int_equal(json_object_get_uint64(get(root, "span_ns")), 2000 * MS - 0);
        assert_false(json_object_get_boolean(get(root, "policy")));
        assert_null(get(root, "note"));         /* no policy, no trial */
        w = get(vm_of(root, "vm"), "preempted_while_waited");
        assert_int_equal(json_object_array_length(w), 1);
        x = json_object_array_get_idx(w, 0);
        assert_int_equal(json_object_get_int(get(x, "vcpu")), 1);
        assert_int_equal(json_object_get_int(get(x, "waiter")), 0);
        assert_int_equal(json_object_get_uint64(get(x, "times")), 10);
        assert_int_equal(json_object_get_uint64(get(x, "ipis")), 11);
        assert_int_equal(json_object_get_uint64(get(x, "wait_ns")), 400 * MS);
        assert_true(json_object_get_double(get(x, "per_s")) > 4.99 && json_object_get_double(get(x, "per_s")) < 5.01);
        assert_true(json_object_get_double(get(x, "wait_share")) > 0.199 &&
                    json_object_get_double(get(x, "wait_share")) < 0.201);
        assert_string_equal(json_object_get_string(get(x, "text")),
                            "vCPU 1 was preempted when vCPU 0 needed it: 5.0 times/s (10 of 11 IPIs), vCPU 0 waited "
                            "400 ms on it (20 % of its time)");
        /* vm2 was never waited on */
        assert_int_equal(json_object_array_length(get(vm_of(root, "vm2"), "preempted_while_waited")), 0);
        assert_null(get(vm_of(root, "vm"), "class"));
        json_object_put(root);

        text = print();
        assert_non_null(strstr(text, "== Decisions (none: no policy ran) over 2.0 s of trace"));
        assert_non_null(strstr(text, "\nVM vm (2 vCPUs)\n  vCPU 1 was preempted when vCPU 0 needed it: 5.0 times/s"));
        assert_non_null(strstr(text, "\nVM vm2 (1 vCPU)\n  no vCPU was preempted while a sibling waited on it\n"));
        free(text);
}

/* Decisions gathered per VM, knob and kind, each with what it did and why. */
static void test_grouped_with_reasons(void **state) {
        struct json_object *root, *decs, *x;
        char *text;

        run_trace();
        decide(1000, "vm", 0, VS_KNOB_CPUSET, "0-1", "0", "placement: IPI partners apart");
        decide(1000, "vm", 1, VS_KNOB_CPUSET, "0-1", "1", "placement: IPI partners apart");
        for (unsigned k = 0; k < 3; k++) {
                decide(1200 + 40 * k, "vm", -1, VS_KNOB_FREEZE, "0", "1", "co-scheduling: another VM's turn");
                decide(1220 + 40 * k, "vm", -1, VS_KNOB_FREEZE, "1", "0", "co-scheduling: this VM's turn");
                decide(1220 + 40 * k, "vm2", -1, VS_KNOB_FREEZE, "0", "1", "co-scheduling: another VM's turn");
                decide(1240 + 40 * k, "vm2", -1, VS_KNOB_FREEZE, "1", "0", "co-scheduling: this VM's turn");
        }
        decide(1900, "vm", 1, VS_KNOB_CPUSET, "1", "0-1", "lever released: it did not help");
        decide(1900, "vm", 0, VS_KNOB_CPUSET, "0", "0-1", "lever released: it did not help");
        assert_int_equal(vs_decisions_count(dl), 16);

        root = vs_decisions_json(dl, an, NULL);
        assert_non_null(root);
        decs = get(vm_of(root, "vm"), "decisions");
        assert_int_equal(json_object_array_length(decs), 3);
        x = json_object_array_get_idx(decs, 0);
        assert_string_equal(json_object_get_string(get(x, "action")), "place");
        assert_int_equal(json_object_get_uint64(get(x, "count")), 2);
        assert_string_equal(json_object_get_string(get(x, "text")),
                            "place vm vCPU 0 on CPU 0, vCPU 1 on CPU 1 (cpuset.cpus, at 1.00 s): IPI partners apart; "
                            "vCPU 1 was preempted 5.0 times/s while vCPU 0 waited on it (20 % of its time)");
        x = json_object_array_get_idx(decs, 1);
        assert_string_equal(json_object_get_string(get(x, "action")), "coschedule");
        assert_int_equal(json_object_get_uint64(get(x, "count")), 6);
        assert_string_equal(json_object_get_string(json_object_array_get_idx(get(x, "with"), 0)), "vm2");
        assert_string_equal(json_object_get_string(get(x, "text")),
                            "co-schedule vm vCPUs 0-1 in turns with vm2 (cgroup.freeze: frozen for another VM's turn "
                            "3 times, from 1.20 s to 1.30 s): vCPU 1 was preempted 5.0 times/s while vCPU 0 waited on it "
                            "(20 % of its time)");
        /* a release keeps the policy's reason, values in vCPU order whatever the order of the decisions */
        x = json_object_array_get_idx(decs, 2);
        assert_string_equal(json_object_get_string(get(x, "action")), "change");
        assert_string_equal(json_object_get_string(get(x, "text")),
                            "cpuset.cpus of vm vCPU 0 0 -> 0-1, vCPU 1 1 -> 0-1 (2 changes at 1.90 s): lever released: "
                            "it did not help");
        /* vm2's turns: no preempted wait in vm2, so the classifier's word stands for the evidence */
        decs = get(vm_of(root, "vm2"), "decisions");
        assert_int_equal(json_object_array_length(decs), 1);
        assert_string_equal(json_object_get_string(get(json_object_array_get_idx(decs, 0), "text")),
                            "co-schedule vm2 vCPU 0 in turns with vm (cgroup.freeze: frozen for another VM's turn 3 "
                            "times, from 1.22 s to 1.32 s): the classifier found it spin-waiting");
        json_object_put(root);

        text = print();
        assert_non_null(strstr(text, "  decision: place vm vCPU 0 on CPU 0, vCPU 1 on CPU 1"));
        assert_non_null(strstr(text, "  decision: co-schedule vm2 vCPU 0 in turns with vm"));
        free(text);
}

/* The policy's reason may live only as long as the callback (built per VM):
 * it is copied; a turn's parenthesis (the signals that drove it without
 * IPIs) is its why. */
static void test_reasons_copied(void **state) {
        char reason[160];
        struct vs_decision d = { .ts_ns = T0 + 1200 * MS, .vm = "vm2", .vcpu = -1, .knob = VS_KNOB_FREEZE,
                                 .reason = reason, .old = "0", .new = "1" };
        struct json_object *root, *x;

        run_trace();
        snprintf(reason, sizeof(reason), "co-scheduling: another VM's turn (no IPI records; signals: preemption)");
        assert_int_equal(vs_decisions_add(dl, &d), 0);
        memset(reason, 'x', sizeof(reason) - 1);       /* the policy's buffer reused */
        reason[sizeof(reason) - 1] = 0;
        d.vm = "vm";
        d.vcpu = 0;
        d.knob = VS_KNOB_CPUSET;
        assert_int_equal(vs_decisions_add(dl, &d), 0);
        d.ts_ns += MS;
        assert_int_equal(vs_decisions_add(dl, &d), 0);  /* same reason: same group */
        root = vs_decisions_json(dl, an, NULL);
        x = json_object_array_get_idx(get(vm_of(root, "vm2"), "decisions"), 0);
        assert_string_equal(json_object_get_string(get(x, "reason")),
                            "co-scheduling: another VM's turn (no IPI records; signals: preemption)");
        assert_string_equal(json_object_get_string(get(x, "text")),
                            "co-schedule vm2 vCPU 0 (cgroup.freeze: frozen for another VM's turn 1 time, at 1.20 s): "
                            "no IPI records; signals: preemption");
        assert_int_equal(json_object_array_length(get(vm_of(root, "vm"), "decisions")), 1);
        x = json_object_array_get_idx(get(vm_of(root, "vm"), "decisions"), 0);
        assert_int_equal(json_object_get_uint64(get(x, "count")), 2);
        assert_int_equal(strlen(json_object_get_string(get(x, "reason"))), 159);
        assert_int_equal(json_object_get_uint64(get(root, "ipi_records")), 11);
        json_object_put(root);
}

/* Weights: first old and last new value per vCPU; no decision, no change. */
static void test_weights_and_bad_input(void **state) {
        struct vs_decision d = { .ts_ns = T0, .vm = "vm", .vcpu = 0, .knob = VS_KNOB_WEIGHT,
                                 .reason = "weights: IPI receivers first", .old = "100", .new = "300" };
        struct json_object *root, *x;

        run_trace();
        assert_int_equal(vs_decisions_add(dl, &d), 0);
        d.ts_ns = T0 + 500 * MS;
        snprintf(d.new, sizeof(d.new), "250");
        assert_int_equal(vs_decisions_add(dl, &d), 0);
        root = vs_decisions_json(dl, an, NULL);
        x = json_object_array_get_idx(get(vm_of(root, "vm"), "decisions"), 0);
        assert_string_equal(json_object_get_string(get(x, "text")),
                            "weight vm vCPU 0 100 -> 250 (cpu.weight, 2 changes from 0.00 s to 0.50 s): IPI receivers "
                            "first; vCPU 1 was preempted 5.0 times/s while vCPU 0 waited on it (20 % of its time)");
        json_object_put(root);
        assert_int_equal(vs_decisions_add(dl, NULL), -EINVAL);

        /* a VM gone: its groups go, the others stay */
        d.vm = "vm2";
        assert_int_equal(vs_decisions_add(dl, &d), 0);
        assert_int_equal(vs_decisions_forget_vm(dl, "vm"), 1);
        assert_int_equal(vs_decisions_forget_vm(dl, "vm"), 0);
        root = vs_decisions_json(dl, an, NULL);
        assert_int_equal(json_object_array_length(get(vm_of(root, "vm"), "decisions")), 0);
        assert_int_equal(json_object_array_length(get(vm_of(root, "vm2"), "decisions")), 1);
        json_object_put(root);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_preempted_while_waited, setup, teardown),
                cmocka_unit_test_setup_teardown(test_grouped_with_reasons, setup, teardown),
                cmocka_unit_test_setup_teardown(test_weights_and_bad_input, setup, teardown),
                cmocka_unit_test_setup_teardown(test_reasons_copied, setup, teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
