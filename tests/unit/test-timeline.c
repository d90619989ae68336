/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Unit tests for timeline.c (spans and IPIs in a window) and svg-timeline.c.
 *
 * VM "vm" (tgid 100): vCPU 0 = tid 101 APIC 0, vCPU 1 = tid 102 APIC 2,
 * vCPU 2 = tid 103 APIC 4.  Times in ms from the first event at 1 ms.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "svg-timeline.h"
#include "timeline.h"
#include "topology.h"

#define V0 101
#define V1 102
#define V2 103
#define MS 1000000ull

static struct vs_topology *topo;
static struct vs_timeline *tl;

static void make_topo(const char *name) {
        static const struct { int32_t tid; const char *comm; int32_t apic; } th[] = {
                { V0, "CPU 0/KVM", 0 }, { V1, "CPU 1/KVM", 2 }, { V2, "CPU 2/KVM", 4 },
        };

        assert_int_equal(vs_topology_new(&topo), 0);
        for (size_t i = 0; i < 3; i++) {
                struct vs_thread_info ti = { .tid = th[i].tid, .tgid = 100, .comm = th[i].comm,
                                             .apic_id = th[i].apic, .vm_name = name };
                assert_int_equal(vs_topology_learn_thread(topo, &ti), 0);
        }
}

static int teardown(void **state) {
        vs_timeline_free(tl);
        vs_topology_free(topo);
        tl = NULL;
        topo = NULL;
        return 0;
}

static void feed(const struct vs_event *ev) {
        assert_int_equal(vs_timeline_event(tl, ev), 0);
}

static void sw(uint64_t ts, int32_t prev, int64_t prev_state, int32_t next) {
        struct vs_event e = { .ts_ns = ts, .tid = prev, .type = VS_EV_SWITCH };
        e.sw.prev_tid = prev;
        e.sw.prev_state = prev_state;
        e.sw.next_tid = next;
        feed(&e);
}

static void wake(uint64_t ts, int32_t waker, int32_t wakee) {
        struct vs_event e = { .ts_ns = ts, .tid = waker, .type = VS_EV_WAKEUP };
        e.wakeup.wakee_tid = wakee;
        e.wakeup.target_cpu = 0;
        feed(&e);
}

static void ipi(uint64_t ts, int32_t from, uint32_t dest_apic) {
        struct vs_event e = { .ts_ns = ts, .tid = from };
        vs_event_set_icr(&e, 0xfb, dest_apic);   /* fixed, physical, no shorthand */
        feed(&e);
}

#define S_SLEEP 1       /* TASK_INTERRUPTIBLE */
#define S_RUN 0         /* preempted */

/* The scenario of the header, through 12 ms. */
static void scenario(void) {
        sw(1 * MS, 0, S_SLEEP, V0);             /* 0 runs */
        sw(2 * MS, V0, S_RUN, V1);              /* 0 preempted, 1 runs */
        ipi(3 * MS, V1, 0);                     /* 1 -> 0 */
        sw(4 * MS, V1, S_SLEEP, V0);            /* 1 halts, 0 runs */
        wake(5 * MS, V0, V1);                   /* 1 woken */
        sw(6 * MS, V0, S_RUN, V1);              /* 0 preempted, 1 runs */
        sw(12 * MS, V1, S_RUN, V0);             /* after a 10 ms window: ignored */
}

static void expect_span(const struct vs_tl_lane *l, size_t i, uint64_t a, uint64_t b, enum vs_tl_state s) {
        assert_true(i < l->n_spans);
        assert_int_equal(l->spans[i].start, a);
        assert_int_equal(l->spans[i].end, b);
        assert_int_equal(l->spans[i].state, s);
}

static void test_spans(void **state) {
        const struct vs_tl_vm *vm;
        uint64_t first, ws, we;

        make_topo("vm");
        assert_int_equal(vs_timeline_new(topo, 0, 10 * MS, &tl), 0);
        scenario();
        vs_timeline_finish(tl);
        vs_timeline_finish(tl);                 /* idempotent */
        vs_timeline_window(tl, &first, &ws, &we);
        assert_int_equal(first, 1 * MS);
        assert_int_equal(ws, 1 * MS);
        assert_int_equal(we, 11 * MS);
        assert_int_equal(vs_timeline_n_vms(tl), 1);
        vm = vs_timeline_vm_by_name(tl, "vm");
        assert_non_null(vm);
        assert_int_equal(vm->n_lanes, 2);       /* vCPU 2 never appeared */
        assert_int_equal(vm->lanes[0].n_spans, 4);
        expect_span(&vm->lanes[0], 0, 1 * MS, 2 * MS, VS_TL_RUNNING);
        expect_span(&vm->lanes[0], 1, 2 * MS, 4 * MS, VS_TL_PREEMPTED);
        expect_span(&vm->lanes[0], 2, 4 * MS, 6 * MS, VS_TL_RUNNING);
        expect_span(&vm->lanes[0], 3, 6 * MS, 11 * MS, VS_TL_PREEMPTED);
        assert_int_equal(vm->lanes[1].n_spans, 4);
        expect_span(&vm->lanes[1], 0, 2 * MS, 4 * MS, VS_TL_RUNNING);
        expect_span(&vm->lanes[1], 1, 4 * MS, 5 * MS, VS_TL_HALTED);
        expect_span(&vm->lanes[1], 2, 5 * MS, 6 * MS, VS_TL_WOKEN);
        expect_span(&vm->lanes[1], 3, 6 * MS, 11 * MS, VS_TL_RUNNING);
        assert_int_equal(vm->n_ipis, 1);
        assert_int_equal(vm->ipis[0].ts, 3 * MS);
        assert_int_equal(vm->ipis[0].src, 1);
        assert_int_equal(vm->ipis[0].dst, 0);
        assert_false(vm->ipis[0].pv);
}

/* A window that starts later: states from before it carry in, earlier IPIs do not. */
static void test_window_offset(void **state) {
        const struct vs_tl_vm *vm;

        make_topo("vm");
        assert_int_equal(vs_timeline_new(topo, 3 * MS, 2 * MS, &tl), 0);   /* [4, 6) ms */
        scenario();
        vs_timeline_finish(tl);
        vm = vs_timeline_vm(tl, 0);
        assert_int_equal(vm->lanes[0].n_spans, 1);
        expect_span(&vm->lanes[0], 0, 4 * MS, 6 * MS, VS_TL_RUNNING);
        assert_int_equal(vm->lanes[1].n_spans, 2);
        expect_span(&vm->lanes[1], 0, 4 * MS, 5 * MS, VS_TL_HALTED);
        expect_span(&vm->lanes[1], 1, 5 * MS, 6 * MS, VS_TL_WOKEN);
        assert_int_equal(vm->n_ipis, 0);
        assert_int_equal(vs_timeline_new(topo, 0, 0, &(struct vs_timeline *) { NULL }), -EINVAL);
}

/* A KVM event in a thread never switched yet: running from then; PV send-IPI bits become arrows. */
static void test_pv_and_inferred(void **state) {
        const struct vs_tl_vm *vm;
        struct vs_event e = { .ts_ns = 2 * MS, .tid = V2, .type = VS_EV_HYPERCALL };

        make_topo("vm");
        assert_int_equal(vs_timeline_new(topo, 0, 10 * MS, &tl), 0);
        sw(1 * MS, 0, S_SLEEP, V0);
        e.hc.nr = 10;                           /* KVM_HC_SEND_IPI: APIC IDs 0 and 2 */
        e.hc.a0 = (1u << 0) | (1u << 2);
        e.hc.a2 = 0;
        e.hc.a3 = 0xfb;
        feed(&e);
        sw(5 * MS, V0, S_SLEEP, 0);
        vs_timeline_finish(tl);
        vm = vs_timeline_vm(tl, 0);
        assert_int_equal(vm->n_lanes, 3);
        assert_int_equal(vm->n_ipis, 2);
        assert_true(vm->ipis[0].pv && vm->ipis[1].pv);
        assert_int_equal(vm->ipis[0].src, 2);
        assert_int_equal(vm->ipis[0].dst, 0);
        assert_int_equal(vm->ipis[1].dst, 1);
        assert_int_equal(vm->lanes[2].n_spans, 1);
        expect_span(&vm->lanes[2], 0, 2 * MS, 5 * MS, VS_TL_RUNNING);
}

static void test_truncated(void **state) {
        const struct vs_tl_vm *vm;

        make_topo("vm");
        assert_int_equal(vs_timeline_new(topo, 0, 1000 * MS, &tl), 0);
        sw(1 * MS, 0, S_SLEEP, V0);
        for (uint64_t i = 0; i < VS_TL_MAX_ITEMS + 10; i++)
                ipi(1 * MS + i, V0, 2);
        vm = vs_timeline_vm(tl, 0);
        assert_true(vm->truncated);
        assert_int_equal(vm->n_ipis, VS_TL_MAX_ITEMS);
        assert_int_equal(vm->n_items, VS_TL_MAX_ITEMS);
}

static size_t count(const char *hay, const char *needle) {
        size_t n = 0;
        for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle))
                n++;
        return n;
}

static void test_svg(void **state) {
        const struct vs_tl_vm *vm;
        char *buf = NULL;
        size_t len = 0;
        FILE *f;

        make_topo("a<b>&\"c\n");
        assert_int_equal(vs_timeline_new(topo, 0, 10 * MS, &tl), 0);
        scenario();
        vs_timeline_finish(tl);
        vm = vs_timeline_vm(tl, 0);
        f = open_memstream(&buf, &len);
        assert_non_null(f);
        assert_int_equal(vs_svg_timeline_write(tl, vm, f), 0);
        assert_int_equal(fclose(f), 0);
        assert_non_null(strstr(buf, "<svg xmlns=\"http://www.w3.org/2000/svg\""));
        assert_non_null(strstr(buf, "VM a&lt;b&gt;&amp;&quot;c\\x0a: vCPU timeline, 0.000 to 10.000 ms of the trace, 1 IPI"));
        assert_null(strstr(buf, "a<b"));
        assert_int_equal(count(buf, "class=\"ipi\" data-src=\"1\" data-dst=\"0\" data-ts-ns=\"3000000\""), 1);
        assert_int_equal(count(buf, "class=\"state-running\""), 4);
        assert_int_equal(count(buf, "class=\"state-preempted\""), 2);
        assert_int_equal(count(buf, "class=\"state-halted\""), 1);
        assert_int_equal(count(buf, "class=\"state-woken\""), 1);
        assert_int_equal(count(buf, ">vCPU "), 2);
        /* 1 ms ticks over 10 ms: 0..10 */
        assert_non_null(strstr(buf, ">10</text>"));
        assert_non_null(strstr(buf, "</svg>\n"));
        free(buf);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_teardown(test_spans, teardown),
                cmocka_unit_test_teardown(test_window_offset, teardown),
                cmocka_unit_test_teardown(test_pv_and_inferred, teardown),
                cmocka_unit_test_teardown(test_truncated, teardown),
                cmocka_unit_test_teardown(test_svg, teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
