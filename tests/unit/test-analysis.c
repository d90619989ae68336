/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Unit tests for analysis.c on small hand-computed traces: every figure is
 * worked out in the comments next to the events that produce it.
 *
 * VM "vm" (tgid 100): vCPU 0 = tid 101 APIC 0, vCPU 1 = tid 102 APIC 2,
 * vCPU 2 = tid 103 APIC 4 (sparse APIC IDs, as QEMU gives with some topologies).
 */
#include <malloc.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "analysis.h"
#include "histogram.h"
#include "topology.h"
#include "yield-hint.h"

#define V0 101
#define V1 102
#define V2 103
#define VEC 0xfb

static struct vs_topology *topo;
static struct vs_analysis *an;

static int setup(void **state) {
        static const struct { int32_t tid; const char *comm; int32_t apic; } th[] = {
                { V0, "CPU 0/KVM", 0 }, { V1, "CPU 1/KVM", 2 }, { V2, "CPU 2/KVM", 4 },
        };
        struct vs_analysis_config c;

        assert_int_equal(vs_topology_new(&topo), 0);
        for (size_t i = 0; i < 3; i++) {
                struct vs_thread_info ti = { .tid = th[i].tid, .tgid = 100, .comm = th[i].comm,
                                             .apic_id = th[i].apic, .vm_name = "vm" };
                assert_int_equal(vs_topology_learn_thread(topo, &ti), 0);
        }
        vs_analysis_config_default(&c);
        assert_int_equal(vs_analysis_new(&c, topo, &an), 0);
        return 0;
}

static int teardown(void **state) {
        vs_analysis_free(an);
        vs_topology_free(topo);
        return 0;
}

static void feed(const struct vs_event *ev) {
        assert_int_equal(vs_analysis_event(an, ev), 0);
}

static void sw(uint64_t ts, int cpu, int32_t prev, int64_t prev_state, int32_t next) {
        struct vs_event e = { .ts_ns = ts, .cpu = cpu, .tid = prev, .type = VS_EV_SWITCH };
        e.sw.prev_tid = prev;
        e.sw.prev_state = prev_state;
        e.sw.next_tid = next;
        feed(&e);
}

static void wake(uint64_t ts, int32_t waker, int32_t wakee, int cpu) {
        struct vs_event e = { .ts_ns = ts, .tid = waker, .type = VS_EV_WAKEUP };
        e.wakeup.wakee_tid = wakee;
        e.wakeup.target_cpu = cpu;
        feed(&e);
}

static void ipi(uint64_t ts, int32_t from, uint32_t icr, uint32_t dest) {
        struct vs_event e = { .ts_ns = ts, .tid = from };
        vs_event_set_icr(&e, icr, dest);
        feed(&e);
}

static void eoi(uint64_t ts, int32_t in, uint32_t apic, int vector) {
        struct vs_event e = { .ts_ns = ts, .tid = in, .type = VS_EV_EOI };
        e.eoi.apic_id = apic;
        e.eoi.vector = vector;
        feed(&e);
}

static void hc(uint64_t ts, int32_t from, uint32_t nr, uint64_t a0, uint64_t a1, uint64_t a2, uint64_t a3) {
        struct vs_event e = { .ts_ns = ts, .tid = from, .type = VS_EV_HYPERCALL };
        e.hc.nr = nr;
        e.hc.a0 = a0;
        e.hc.a1 = a1;
        e.hc.a2 = a2;
        e.hc.a3 = a3;
        feed(&e);
}

static const struct vs_an_vm *vm(void) {
        const struct vs_an_vm *m = vs_analysis_vm_by_name(an, "vm");
        assert_non_null(m);
        return m;
}

static const struct vs_an_pair *pair(unsigned s, unsigned d) {
        return vs_analysis_pair(vm(), s, d);
}

static void test_hist(void **state) {
        struct vs_hist h = {};

        assert_int_equal(vs_hist_bucket(0), 0);
        assert_int_equal(vs_hist_bucket(999), 0);
        assert_int_equal(vs_hist_bucket(1000), 1);
        assert_int_equal(vs_hist_bucket(1413), 1);
        assert_int_equal(vs_hist_bucket(1414), 2);
        assert_int_equal(vs_hist_bucket(50000000), 31);
        assert_int_equal(vs_hist_percentile(&h, 50), 0);
        /* 1000 -> bucket 1 [1000,1414), 3000 -> bucket 4 [2828,4000) */
        vs_hist_add(&h, 1000);
        vs_hist_add(&h, 3000);
        assert_int_equal(vs_hist_percentile(&h, 50), 1414);     /* rank 1 of 2 */
        assert_int_equal(vs_hist_percentile(&h, 99), 4000);     /* rank 2 of 2 */
        /* saturation halves all buckets and keeps the shape */
        for (int i = 0; i < 70000; i++)
                vs_hist_add(&h, 1000);
        assert_true(vs_hist_count(&h) < 70002);
        assert_int_equal(vs_hist_percentile(&h, 50), 1414);
}

/* Edge counts, receiver state at send, EOI matching by vector, coalescing. */
static void test_edges_and_eoi(void **state) {
        sw(1000, 1, V1, 0x100, 0);              /* vCPU1 preempted (R+) on CPU 1 */
        ipi(2000, V0, VEC, 2);                  /* 0 -> 1 (APIC 2) while 1 preempted */
        sw(3000, 1, 0, 0, V1);                  /* vCPU1 back: preempted 2000 ns */
        ipi(4000, V0, VEC, 2);                  /* 0 -> 1 while running */
        eoi(4500, V1, 2, 0xec);                 /* another vector: closes nothing */
        eoi(5000, V1, 2, VEC);                  /* closes both (IRR coalesces): 3000 and 1000 ns */

        const struct vs_an_pair *p = pair(0, 1);
        assert_non_null(p);
        assert_int_equal(p->ipis, 2);
        assert_int_equal(p->at_state[VS_AN_PREEMPTED], 1);
        assert_int_equal(p->at_state[VS_AN_RUNNING], 1);
        assert_int_equal(p->eoi_matched, 2);
        assert_int_equal(p->lat_sum_ns, 4000);
        assert_int_equal(p->lat_max_ns, 3000);
        /* the sender waited 3000 ns on a preempted receiver; the second IPI found it running */
        assert_int_equal(p->preempted_wait_ns, 3000);
        assert_int_equal(vs_analysis_first_ts(an), 1000);
        assert_int_equal(vs_analysis_last_ts(an), 5000);
        assert_int_equal(vs_hist_percentile(&p->lat, 50), 1414);
        assert_int_equal(vs_hist_percentile(&p->lat, 99), 4000);
        assert_int_equal(p->expired, 0);
        /* never an edge to a raw APIC ID: APIC 2 is vCPU 1, there is no pair 0 -> 2 */
        assert_null(pair(0, 2));
        const struct vs_an_vcpu *v1 = &vm()->vcpus[1];
        assert_int_equal(v1->preempted_ns, 2000);
        assert_int_equal(v1->preemptions, 1);
        assert_int_equal(v1->ipis_in, 2);
        assert_int_equal(v1->eois, 2);
        /* cause: only the IPI received while not running, 3000 ns */
        assert_int_equal(v1->cause_ns, 3000);
        assert_int_equal(vm()->vcpus[0].ipis_out, 2);
}

/* A halted receiver is not running but not preempted: its wait counts in
 * cause, not in the pair's preempted wait; a woken one (runnable, not on a
 * CPU yet) counts in both. */
static void test_preempted_wait_not_halted(void **state) {
        sw(1000, 1, V1, 1, 0);                  /* vCPU1 sleeps (S): halted */
        ipi(2000, V0, VEC, 2);                  /* 0 -> 1 while blocked */
        wake(2500, V0, V1, 1);                  /* woken, not running yet */
        ipi(2600, V0, VEC, 2);                  /* 0 -> 1 while woken */
        sw(3000, 1, 0, 0, V1);                  /* vCPU1 runs */
        eoi(4000, V1, 2, VEC);                  /* closes both: 2000 and 1400 ns */

        const struct vs_an_pair *p = pair(0, 1);
        assert_int_equal(p->at_state[VS_AN_BLOCKED], 1);
        assert_int_equal(p->at_state[VS_AN_WOKEN], 1);
        assert_int_equal(vm()->vcpus[1].cause_ns, 3400);
        assert_int_equal(p->preempted_wait_ns, 1400);
}

static void test_expiry_window(void **state) {
        /* exactly at the 50 ms window: still answered (inclusive) */
        ipi(1000, V0, VEC, 4);
        eoi(1000 + 50000000, V2, 4, VEC);
        /* one ns later: expired */
        ipi(100000000, V0, VEC, 4);
        eoi(100000000 + 50000001, V2, 4, VEC);
        const struct vs_an_pair *p = pair(0, 2);
        assert_int_equal(p->ipis, 2);
        assert_int_equal(p->eoi_matched, 1);
        assert_int_equal(p->expired, 1);
        assert_int_equal(p->lat_max_ns, 50000000);

        /* a pending IPI also expires when the next IPI to the receiver arrives after the window */
        ipi(300000000, V1, VEC, 4);
        ipi(300000000 + 50000001, V1, 0xec, 4);
        assert_int_equal(pair(1, 2)->expired, 1);
        /* and at the end of input once the window has passed */
        vs_analysis_finish(an, 300000000 + 50000001 + 50000001);
        assert_int_equal(pair(1, 2)->expired, 2);
}

static void test_multicast_and_unresolved(void **state) {
        ipi(1000, V0, VEC | (1u << 11), 0x6);           /* logical: multicast */
        ipi(2000, V0, VEC | (3u << 18), 0);             /* all-but-self */
        ipi(3000, V0, VEC | (1u << 18), 0);             /* self */
        ipi(4000, V0, 0x400, 2);                        /* NMI: neither an edge nor multicast */
        /* APIC 1: no vCPU has it, and index 1 belongs to APIC 2: unresolved, not vCPU 1 */
        ipi(5000, V0, VEC, 1);
        assert_int_equal(vm()->multicast, 3);
        assert_int_equal(vm()->vcpus[0].multicast_out, 3);
        assert_int_equal(vm()->unresolved, 1);
        assert_int_equal(vm()->n_pairs, 0);
}

static void test_pv_send_ipi(void **state) {
        /* bitmap from base APIC 2: bits 0 and 2 -> APICs 2 and 4 -> vCPUs 1 and 2 */
        hc(1000, V0, VS_HC_SEND_IPI, 0x5, 0, 2, VEC);
        assert_int_equal(pair(0, 1)->ipis, 1);
        assert_int_equal(pair(0, 1)->ipis_pv, 1);
        assert_int_equal(pair(0, 2)->ipis_pv, 1);
        /* the high word: bit 0 of a1 = base + 64, no such vCPU: unresolved */
        hc(2000, V0, VS_HC_SEND_IPI, 0, 1, 0, VEC);
        assert_int_equal(vm()->unresolved, 1);
        /* PV IPIs are answered by EOIs like any other */
        eoi(1500, V1, 2, VEC);
        assert_int_equal(pair(0, 1)->eoi_matched, 1);
        assert_int_equal(pair(0, 1)->lat_sum_ns, 500);
}

static void test_yield_oscillation(void **state) {
        /* sched_yield 0 -> 1 (a0 = APIC 2), then 1 -> 0 exactly 600 us later: oscillation */
        hc(10000, V0, VS_HC_SCHED_YIELD, 2, 0, 0, 0);
        hc(10000 + 600000, V1, VS_HC_SCHED_YIELD, 0, 0, 0, 0);
        /* kick 0 -> 2 (a1 = APIC 4), 2 -> 0 600 us + 1 ns later: not an oscillation */
        hc(2000000, V0, VS_HC_KICK_CPU, 0, 4, 0, 0);
        hc(2000000 + 600001, V2, VS_HC_SCHED_YIELD, 0, 0, 0, 0);
        /* one reversal counts once: a second 1 -> 0 right after does not count again */
        hc(10000 + 600000 + 10, V1, VS_HC_SCHED_YIELD, 0, 0, 0, 0);

        assert_int_equal(pair(0, 1)->oscillations, 1);
        assert_int_equal(pair(0, 2)->oscillations, 0);
        assert_int_equal(pair(0, 2)->kicks, 1);
        assert_int_equal(pair(0, 2)->yields, 1);
        assert_int_equal(pair(1, 0)->yields, 2);
        assert_int_equal(vm()->vcpus[0].yields_out, 2);
        assert_int_equal(vm()->vcpus[0].yields_in, 3);
        /* waste = yields_out x 50 us; cause = yields_in x 50 us */
        assert_int_equal(vm()->vcpus[0].waste_ns, 2 * 50000);
        assert_int_equal(vm()->vcpus[0].cause_ns, 3 * 50000);
        /* IPI edges are not yields: no IPI counted */
        assert_int_equal(pair(0, 1)->ipis, 0);
}

static void test_pause_ple(void **state) {
        struct vs_event e = { .ts_ns = 1000, .tid = V2, .type = VS_EV_EXIT_PAUSE };
        e.pause.isa = VS_ISA_SVM;
        e.pause.exit_reason = 0x77;
        feed(&e);
        feed(&e);
        struct vs_event p = { .ts_ns = 2000, .tid = V2, .type = VS_EV_PLE_WINDOW };
        p.ple.old_window = 4096;
        p.ple.new_window = 8192;
        feed(&p);
        p.ple.old_window = 8192;
        p.ple.new_window = 4096;
        feed(&p);
        const struct vs_an_vcpu *v = &vm()->vcpus[2];
        assert_int_equal(v->pause_exits, 2);
        assert_int_equal(v->ple_grows, 1);
        assert_int_equal(v->ple_max, 8192);
        assert_int_equal(v->waste_ns, 2 * 20000);
}

static void test_thread_exits(void **state) {
        sw(1000, 0, V2, 0, 0);                  /* vCPU2 preempted at 1000 on CPU 0 */
        ipi(2000, V0, VEC, 4);                  /* pending for vCPU2 */
        sw(3000, 0, 0, 0, V2);                  /* runs: 2000 ns preempted */
        sw(4000, 0, V2, 0x10, 0);               /* exits (X): pending IPI expired */
        assert_int_equal(pair(0, 2)->expired, 1);
        assert_int_equal(vm()->vcpus[2].state, VS_AN_EXITED);
        /* time after the exit is never preempted time */
        vs_analysis_finish(an, 1000000000);
        assert_int_equal(vm()->vcpus[2].preempted_ns, 2000);
        /* an IPI to the dead vCPU is still counted as an edge */
        ipi(1000000001, V0, VEC, 4);
        assert_int_equal(pair(0, 2)->at_state[VS_AN_EXITED], 1);
}

static void test_runqueue_depth(void **state) {
        /* CPU 0: vCPU1 preempted 0..1000, vCPU2 woken onto CPU 0 at 500, runs at 1500:
         * depth 1 over [0,500), 2 over [500,1000), 1 over [1000,1500), 0 after, until 2000.
         * integral = 500 + 1000 + 500 = 2000 over a span of 2000 ns -> 1.0 */
        sw(0, 0, V1, 0x100, V0);
        wake(500, V0, V2, 0);
        sw(1000, 0, V0, 1, V1);
        sw(1500, 0, V1, 1, V2);
        sw(2000, 0, V2, 1, 0);
        vs_analysis_finish(an, 2000);
        assert_true(vs_analysis_n_cpus(an) >= 1);
        assert_float_equal(vs_analysis_cpu_depth(an, 0), 1.0, 1e-9);
        assert_int_equal(vm()->vcpus[2].waiting_ns, 1000);
        assert_int_equal(vm()->vcpus[1].preempted_ns, 1000);
}

/* Stalls (what stays without IPI records): vCPU0 runs on CPU 1 from 0;
 * vCPU1 runs on CPU 0, is preempted by a host task at 1000 (a stall starts),
 * runs again at 3000; vCPU2 woken at 3500 onto CPU 1 waits while vCPU0 and
 * vCPU1 run (a stall starts) until vCPU0 leaves CPU 1 blocked at 4000 and
 * vCPU2 runs.  vCPU0 halting at 4000 (blocked) is no stall.  Stalled time:
 * [1000, 3000) + [3500, 4000) = 2500: vCPU1's 2000, vCPU2's 500. */
static void test_stalls(void **state) {
        sw(0, 1, 999, 1, V0);
        sw(0, 0, 998, 1, V1);
        sw(1000, 0, V1, 0, 997);
        sw(3000, 0, 997, 1, V1);
        wake(3500, V1, V2, 1);
        sw(4000, 1, V0, 1, V2);
        sw(5000, 0, V1, 1, 0);
        vs_analysis_finish(an, 6000);
        assert_int_equal(vm()->stalls, 2);
        assert_int_equal(vm()->stalled_ns, 2500);
        assert_int_equal(vm()->vcpus[0].stalled_ns, 0);
        assert_int_equal(vm()->vcpus[1].stalled_ns, 2000);
        assert_int_equal(vm()->vcpus[2].stalled_ns, 500);
        assert_null(pair(0, 1));                                /* no pairs: no direction known */
        struct json_object *r = vs_analysis_report_json(an), *vms, *v, *x;
        assert_true(json_object_object_get_ex(r, "vms", &vms));
        v = json_object_array_get_idx(vms, 0);
        assert_true(json_object_object_get_ex(v, "stalled_ns", &x));
        assert_int_equal(json_object_get_int64(x), 2500);
        assert_true(json_object_object_get_ex(v, "stalls", &x));
        assert_int_equal(json_object_get_int64(x), 2);
        assert_true(json_object_object_get_ex(v, "vcpu", &x));
        assert_true(json_object_object_get_ex(json_object_array_get_idx(x, 1), "stalled_ns", &x));
        assert_int_equal(json_object_get_int64(x), 2000);
        assert_true(json_object_object_get_ex(v, "edges", &x));
        assert_int_equal(json_object_array_length(x), 0);      /* stalls are not IPI edges */
        json_object_put(r);
}

/* A vCPU preempted by its sibling on the same CPU: the sibling runs while it
 * waits (a stall, counted once); its wait still open at the end counts. */
static void test_stalls_same_cpu(void **state) {
        sw(0, 0, 998, 1, V0);
        sw(100, 0, V0, 0, V1);         /* vCPU0 preempted by vCPU1 on the same CPU */
        sw(200, 0, V1, 1, V0);
        sw(300, 0, V0, 0, V1);
        vs_analysis_finish(an, 450);
        assert_int_equal(vm()->stalls, 2);
        assert_int_equal(vm()->stalled_ns, 250);
        assert_int_equal(vm()->vcpus[0].stalled_ns, 250);
        assert_int_equal(vm()->vcpus[0].vcpu_preemptions, 2);
}

/* The report lists only the CPUs a vCPU queued on, by number: CPU ids are
 * sparse, and one hostile "[65535]" must not make 65536 entries. */
static void test_report_sparse_cpus(void **state) {
        struct json_object *o, *cpus, *c;

        sw(0, 7, V1, 0x100, V0);
        wake(500, V0, V2, 7);
        sw(1500, 7, V1, 1, V2);
        sw(2000, 7, V2, 1, 0);
        vs_analysis_finish(an, 2000);
        assert_true(vs_analysis_n_cpus(an) >= 8);
        o = vs_analysis_report_json(an);
        assert_non_null(o);
        assert_true(json_object_object_get_ex(o, "cpus", &cpus));
        assert_int_equal(json_object_array_length(cpus), 1);
        c = json_object_array_get_idx(cpus, 0);
        assert_true(json_object_object_get_ex(c, "cpu", &c));
        assert_int_equal(json_object_get_int(c), 7);
        json_object_put(o);
}

static void dyield(uint64_t ts, int32_t spinner_tid, uint32_t spinner, uint32_t target, uint8_t reason,
                   int32_t result) {
        struct vs_event e = { .ts_ns = ts, .tid = spinner_tid, .type = VS_EV_DIRECTED_YIELD };
        e.dy.spinner = spinner;
        e.dy.target = target;
        e.dy.reason = reason;
        e.dy.result = result;
        feed(&e);
}

/* kvm_directed_yield (kernel/ patch): spinner and target are vcpu_ids (= APIC
 * IDs here), mapped to vCPU indexes; counted per reason, yielded or not. */
static void test_directed_yield(void **state) {
        struct json_object *o, *vms, *v, *dy, *by, *x, *edges, *e;

        dyield(1000, V0, 0, 2, VS_DY_IPI, 1);           /* vCPU 0 -> vCPU 1 (APIC 2) */
        dyield(2000, V0, 0, 2, VS_DY_IPI, 1);
        dyield(3000, V0, 0, 2, VS_DY_IPI, 0);           /* target ran meanwhile */
        dyield(4000, V2, 4, 0, VS_DY_HINT, 1);          /* vCPU 2 -> vCPU 0 */
        dyield(5000, V2, 4, 0, VS_DY_STOCK, -3);        /* -ESRCH */
        dyield(6000, V1, 2, 0, UINT8_MAX, 1);           /* unknown reason: ignored */
        dyield(7000, V1, 2, 6, VS_DY_PV, 1);            /* no vCPU has APIC 6: ignored */
        {
                /* the current series: the guest's target failed (skipped),
                 * nothing else tried; then the IPI receiver after a failed
                 * pv target and a skipped hint */
                struct vs_event d = { .ts_ns = 7500, .tid = V1, .type = VS_EV_DIRECTED_YIELD };
                d.dy.spinner = 2;
                d.dy.target = VS_DY_NO_TARGET;
                d.dy.reason = VS_DY_PV;
                d.dy.skipped = 1;
                d.dy.skipped_mask = 1u << VS_DY_PV;
                feed(&d);
                d.ts_ns = 7600;
                d.dy.target = 0;
                d.dy.reason = VS_DY_IPI;
                d.dy.result = 1;
                d.dy.skipped = 2;
                d.dy.skipped_mask = 1u << VS_DY_PV | 1u << VS_DY_HINT;
                feed(&d);
        }
        vs_analysis_finish(an, 8000);

        assert_int_equal(pair(0, 1)->dy[VS_DY_IPI][0], 2);
        assert_int_equal(pair(0, 1)->dy[VS_DY_IPI][1], 1);
        assert_int_equal(pair(2, 0)->dy[VS_DY_HINT][0], 1);
        assert_int_equal(pair(2, 0)->dy[VS_DY_STOCK][1], 1);
        assert_int_equal(pair(1, 0)->dy[VS_DY_IPI][0], 1);
        assert_int_equal(vm()->dy_no_target, 1);
        assert_int_equal(vm()->dy_skipped_total, 3);
        assert_int_equal(vm()->dy_skipped[VS_DY_PV], 2);
        assert_int_equal(vm()->dy_skipped[VS_DY_HINT], 1);
        assert_int_equal(vm()->dy_skipped[VS_DY_IPI], 0);
        assert_int_equal(vs_analysis_seen(an, VS_EV_DIRECTED_YIELD), 9);
        /* not a guest yield: the hypercall/PAUSE counters are untouched */
        assert_int_equal(vm()->vcpus[0].yields_out, 0);

        o = vs_analysis_report_json(an);
        assert_true(json_object_object_get_ex(o, "vms", &vms));
        v = json_object_array_get_idx(vms, 0);
        assert_true(json_object_object_get_ex(v, "directed_yields", &dy));
        assert_true(json_object_object_get_ex(dy, "by_reason", &by));
        assert_true(json_object_object_get_ex(by, "ipi", &x));
        assert_true(json_object_object_get_ex(x, "yielded", &e));
        assert_int_equal(json_object_get_int(e), 3);
        assert_true(json_object_object_get_ex(x, "failed", &e));
        assert_int_equal(json_object_get_int(e), 1);
        assert_true(json_object_object_get_ex(by, "hint", &x));
        assert_true(json_object_object_get_ex(x, "yielded", &e));
        assert_int_equal(json_object_get_int(e), 1);
        assert_true(json_object_object_get_ex(by, "pv", &x));
        assert_true(json_object_object_get_ex(x, "yielded", &e));
        assert_int_equal(json_object_get_int(e), 0);
        assert_true(json_object_object_get_ex(dy, "no_target", &x));
        assert_int_equal(json_object_get_int(x), 1);
        assert_true(json_object_object_get_ex(dy, "skipped", &x));
        assert_int_equal(json_object_get_int(x), 3);
        assert_true(json_object_object_get_ex(dy, "decisions_skipping", &by));
        assert_true(json_object_object_get_ex(by, "pv", &x));
        assert_int_equal(json_object_get_int(x), 2);
        assert_true(json_object_object_get_ex(dy, "edges", &edges));
        assert_int_equal(json_object_array_length(edges), 4);
        e = json_object_array_get_idx(edges, 0);
        assert_true(json_object_object_get_ex(e, "spinner", &x));
        assert_int_equal(json_object_get_int(x), 0);
        assert_true(json_object_object_get_ex(e, "target", &x));
        assert_int_equal(json_object_get_int(x), 1);
        assert_true(json_object_object_get_ex(e, "reason", &x));
        assert_string_equal(json_object_get_string(x), "ipi");
        json_object_put(o);
}

static void collect_hint(const struct vs_yield_hint *h, void *userdata) {
        struct vs_yield_hint *out = userdata;
        unsigned i = 0;
        while (out[i].vm)
                i++;
        out[i] = *h;
}

/* yield-hint.c: each vCPU that still waits for an IPI it sent, or wasted time
 * spinning/yielding, is pointed at its strongest out-edge. */
static void test_yield_hints(void **state) {
        struct vs_yield_hint h[8] = { 0 };

        /* vCPU 0 sends 3 IPIs to vCPU 1 and 1 to vCPU 2; the last to vCPU 1 is
         * still pending at the end.  vCPU 2 sent one to vCPU 0, answered: not
         * waiting, no PAUSE exits, no yields: no hint for it. */
        ipi(1000, V0, VEC, 2);
        eoi(2000, V1, 2, VEC);
        ipi(3000, V0, VEC, 2);
        eoi(4000, V1, 2, VEC);
        ipi(5000, V0, VEC, 4);
        eoi(6000, V2, 4, VEC);
        ipi(7000, V2, VEC, 0);
        eoi(8000, V0, 0, VEC);
        ipi(9000, V0, VEC, 2);
        assert_int_equal(vs_yield_hints(an, 10000, 0.0, collect_hint, h), 1);
        assert_string_equal(h[0].vm, "vm");
        assert_int_equal(h[0].src, 0);
        assert_int_equal(h[0].dst, 1);
        assert_true(h[0].rate > 0);
        /* a rate floor above every edge: nothing */
        assert_int_equal(vs_yield_hints(an, 10000, 1e12, NULL, NULL), 0);

        /* vCPU 1 spins (a PV yield costs waste) although it sent nothing: no edge, no hint */
        hc(11000, V1, 11, 0, 0, 0, 0);
        assert_int_equal(vs_yield_hints(an, 12000, 0.0, NULL, NULL), 1);
        /* once vCPU 1 answers, vCPU 0 waits no more; vCPU 2 yields: its edge is to vCPU 0 */
        eoi(13000, V1, 2, VEC);
        hc(14000, V2, 11, 0, 0, 0, 0);
        memset(h, 0, sizeof(h));
        assert_int_equal(vs_yield_hints(an, 15000, 0.0, collect_hint, h), 1);
        assert_int_equal(h[0].src, 2);
        assert_int_equal(h[0].dst, 0);
}

static void test_report_json(void **state) {
        struct json_object *o, *vms, *v, *edges, *e, *x;

        sw(1000, 1, V1, 0x100, 0);
        ipi(2000, V0, VEC, 2);
        eoi(5000, V1, 2, VEC);
        vs_analysis_finish(an, 6000);
        o = vs_analysis_report_json(an);
        assert_true(json_object_object_get_ex(o, "vms", &vms));
        v = json_object_array_get_idx(vms, 0);
        assert_true(json_object_object_get_ex(v, "vm", &x));
        assert_string_equal(json_object_get_string(x), "vm");
        assert_true(json_object_object_get_ex(v, "edges", &edges));
        e = json_object_array_get_idx(edges, 0);
        assert_true(json_object_object_get_ex(e, "src", &x));
        assert_int_equal(json_object_get_int(x), 0);
        assert_true(json_object_object_get_ex(e, "dst", &x));
        assert_int_equal(json_object_get_int(x), 1);
        assert_true(json_object_object_get_ex(e, "preempted", &x));
        assert_int_equal(json_object_get_int(x), 1);
        assert_true(json_object_object_get_ex(e, "eoi_latency_us", &x));
        assert_true(json_object_object_get_ex(x, "p50", &x));
        assert_float_equal(json_object_get_double(x), 4.0, 1e-9);     /* 3000 ns -> bucket [2828,4000) */
        assert_true(json_object_object_get_ex(o, "signals", &x));
        assert_true(json_object_object_get_ex(x, "mode", &x));
        assert_string_equal(json_object_get_string(x), "software-lapic");
        json_object_put(o);
}

/* A VM that exits is forgotten: its model and its report entry go, its
 * preempted vCPU leaves the run-queue depth, a second VM is untouched, and a
 * VM started later under the same name starts from zero. */
static void test_forget_vm(void **state) {
        struct vs_thread_info ti = { .tid = 201, .tgid = 200, .comm = "CPU 0/KVM", .apic_id = 0, .vm_name = "other" };

        assert_int_equal(vs_topology_learn_thread(topo, &ti), 0);
        sw(0, 0, V1, 0x100, V0);                /* vCPU 1 of "vm" preempted on CPU 0: depth 1 */
        ipi(100, V0, VEC, 2);
        sw(200, 1, 201, 1, 0);
        assert_int_equal(vs_analysis_n_vms(an), 2);
        assert_int_equal(vs_analysis_cpu(an, 0)->depth, 1);

        struct json_object *before = vs_analysis_report_json(an);
        assert_non_null(strstr(json_object_to_json_string_ext(before, JSON_C_TO_STRING_PLAIN), "\"vm\":\"vm\""));
        json_object_put(before);

        assert_int_equal(vs_topology_forget_tgid(topo, 100), 3);
        assert_int_equal(vs_analysis_forget_vm(an, "vm"), 1);
        assert_int_equal(vs_analysis_forget_vm(an, "vm"), 0);
        assert_int_equal(vs_analysis_n_vms(an), 1);
        assert_null(vs_analysis_vm_by_name(an, "vm"));
        assert_non_null(vs_analysis_vm_by_name(an, "other"));
        assert_int_equal(vs_analysis_cpu(an, 0)->depth, 0);
        struct json_object *rep = vs_analysis_report_json(an);
        assert_null(strstr(json_object_to_json_string_ext(rep, JSON_C_TO_STRING_PLAIN), "\"vm\":\"vm\""));
        json_object_put(rep);

        /* late events of the gone threads count nowhere */
        sw(300, 0, V0, 1, V1);
        ipi(310, V1, VEC, 0);
        assert_int_equal(vs_analysis_n_vms(an), 1);
        /* "other" still resolves after the caches were dropped */
        sw(400, 1, 0, 0, 201);
        assert_int_equal(vs_analysis_vm_by_name(an, "other")->vcpus[0].state, VS_AN_RUNNING);

        /* the same name again: a new VM, counters from zero */
        ti = (struct vs_thread_info) { .tid = 301, .tgid = 300, .comm = "CPU 0/KVM", .apic_id = 0, .vm_name = "vm" };
        assert_int_equal(vs_topology_learn_thread(topo, &ti), 0);
        sw(500, 0, 0, 0, 301);
        assert_int_equal(vs_analysis_n_vms(an), 2);
        assert_int_equal(vs_analysis_vm_by_name(an, "vm")->n_pairs, 0);
        assert_int_equal(vs_analysis_vm_by_name(an, "vm")->n_vcpus, 1);
}

/* A host's threads come and go: the TID cache stays bounded. */
static void test_cache_bounded(void **state) {
        size_t before = mallinfo2().uordblks;

        for (int32_t tid = 100000; tid < 160000; tid++)
                sw((uint64_t) tid, 0, tid, 1, tid + 1);
        /* unbounded, 60,000 TIDs would take a 131,072-slot table (3 MiB) */
        assert_true(mallinfo2().uordblks - before < 512 * 1024);
        sw(200000, 0, 0, 0, V0);
        assert_int_equal(vm()->vcpus[0].state, VS_AN_RUNNING);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_hist),
                cmocka_unit_test_setup_teardown(test_edges_and_eoi, setup, teardown),
                cmocka_unit_test_setup_teardown(test_preempted_wait_not_halted, setup, teardown),
                cmocka_unit_test_setup_teardown(test_expiry_window, setup, teardown),
                cmocka_unit_test_setup_teardown(test_multicast_and_unresolved, setup, teardown),
                cmocka_unit_test_setup_teardown(test_pv_send_ipi, setup, teardown),
                cmocka_unit_test_setup_teardown(test_yield_oscillation, setup, teardown),
                cmocka_unit_test_setup_teardown(test_pause_ple, setup, teardown),
                cmocka_unit_test_setup_teardown(test_thread_exits, setup, teardown),
                cmocka_unit_test_setup_teardown(test_runqueue_depth, setup, teardown),
                cmocka_unit_test_setup_teardown(test_stalls, setup, teardown),
                cmocka_unit_test_setup_teardown(test_stalls_same_cpu, setup, teardown),
                cmocka_unit_test_setup_teardown(test_report_sparse_cpus, setup, teardown),
                cmocka_unit_test_setup_teardown(test_directed_yield, setup, teardown),
                cmocka_unit_test_setup_teardown(test_yield_hints, setup, teardown),
                cmocka_unit_test_setup_teardown(test_report_json, setup, teardown),
                cmocka_unit_test_setup_teardown(test_forget_vm, setup, teardown),
                cmocka_unit_test_setup_teardown(test_cache_bounded, setup, teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
