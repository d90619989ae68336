/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * test-text.c - unit tests for lib/source-text.c (ftrace text traces).
 *
 * kvm lines are built from this host's print fmts (6.18,
 * /sys/kernel/tracing/events/kvm/<event>/format); sched lines are real captures
 * from a private tracefs instance (with and without options/record-tgid) and
 * from `trace-cmd report` (with and without -t) of a `trace-cmd extract -B`.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "event.h"
#include "macro.h"
#include "source-internal.h"     /* a backend test: reads the source's base */

#ifndef TEST_DATADIR
#define TEST_DATADIR "tests/data"
#endif

/* ------------------------------------------------------------ helpers */

#define MAX_THREADS 64

struct seen_thread {
        int32_t tid, tgid, apic_id;
        char comm[64];
        char vm[64];
        bool has_comm, has_vm;
};

static struct seen_thread threads[MAX_THREADS];
static size_t n_threads;

static void on_thread(const struct vs_thread_info *info, void *userdata) {
        struct seen_thread *st;

        (void) userdata;
        assert_true(n_threads < MAX_THREADS);
        st = &threads[n_threads++];
        *st = (struct seen_thread) { .tid = info->tid, .tgid = info->tgid, .apic_id = info->apic_id };
        if (info->comm) {
                st->has_comm = true;
                snprintf(st->comm, sizeof(st->comm), "%s", info->comm);
        }
        if (info->vm_name) {
                st->has_vm = true;
                snprintf(st->vm, sizeof(st->vm), "%s", info->vm_name);
        }
}

static const struct seen_thread *find_thread(int32_t tid) {
        const struct seen_thread *r = NULL;

        for (size_t i = 0; i < n_threads; i++)
                if (threads[i].tid == tid)
                        r = &threads[i];        /* the latest */
        return r;
}

/* Open a source on @len bytes of @text (a private copy: fmemopen wants a writable buffer). */
static struct vs_source *open_mem(const char *text, size_t len) {
        struct vs_source *s = NULL;
        static char *bufs[64];
        static size_t n_bufs;
        char *copy;
        FILE *f;

        copy = malloc(len + 1);
        assert_non_null(copy);
        memcpy(copy, text, len);
        copy[len] = '\0';
        if (n_bufs == ELEMENTSOF(bufs)) {
                for (size_t i = 0; i < n_bufs; i++)
                        free(bufs[i]);
                n_bufs = 0;
        }
        bufs[n_bufs++] = copy;

        f = fmemopen(copy, len > 0 ? len : 1, "r");
        assert_non_null(f);
        assert_int_equal(vs_source_text_open_stream(f, "mem", &s), 0);
        assert_non_null(s);
        assert_int_equal(s->kind, VS_SOURCE_TEXT);
        n_threads = 0;
        vs_source_set_thread_cb(s, on_thread, NULL);
        return s;
}

static struct vs_source *open_str(const char *text) {
        return open_mem(text, strlen(text));
}

/* Exactly one event in @text; returns it. */
static struct vs_event one_event(const char *text) {
        _cleanup_source_ struct vs_source *s = open_str(text);
        struct vs_event ev, extra;

        assert_int_equal(vs_source_next(s, &ev), 1);
        assert_int_equal(vs_source_next(s, &extra), 0);
        assert_int_equal(s->stats.events, 1);
        assert_int_equal(s->stats.malformed, 0);
        return ev;
}

/* No event in @text; returns the stats. */
static struct vs_source_stats no_event(const char *text) {
        _cleanup_source_ struct vs_source *s = open_str(text);
        struct vs_event ev;

        assert_int_equal(vs_source_next(s, &ev), 0);
        return s->stats;
}

/* The three line layouts, same task "CPU 0/KVM"-4242 (tgid 4200) on CPU 3. */
enum { FMT_TRACE, FMT_TGID, FMT_REPORT, _FMT_MAX };

static const char *const headers[_FMT_MAX] = {
        [FMT_TRACE] = "       CPU 0/KVM-4242    [003] d..2.  1234.567890: ",
        [FMT_TGID] = "       CPU 0/KVM-4242    (   4200) [003] ....  1234.567890: ",
        [FMT_REPORT] = "       CPU 0/KVM-4242  [003]  1234.567890123: ",
};

static const uint64_t header_ts[_FMT_MAX] = {
        [FMT_TRACE] = 1234567890000ull,
        [FMT_TGID] = 1234567890000ull,
        [FMT_REPORT] = 1234567890123ull,
};

static char *mkline(int fmt, const char *event, const char *body) {
        static char buf[1024];

        snprintf(buf, sizeof(buf), "%s%s: %s%s\n", headers[fmt], event,
                 fmt == FMT_REPORT ? "        " : "", body);   /* trace-cmd pads the name */
        return buf;
}

static struct vs_event ev_fmt(int fmt, const char *event, const char *body) {
        struct vs_event ev = one_event(mkline(fmt, event, body));

        assert_int_equal(ev.ts_ns, header_ts[fmt]);
        assert_int_equal(ev.tid, 4242);
        assert_int_equal(ev.cpu, 3);
        return ev;
}

/* ------------------------------------------------------------ kvm_apic_ipi */

static void check_ipi(const char *body, uint32_t dest, uint32_t icr) {
        for (int fmt = 0; fmt < _FMT_MAX; fmt++) {
                struct vs_event ev = ev_fmt(fmt, "kvm_apic_ipi", body);

                assert_int_equal(ev.type, VS_EV_IPI);
                assert_int_equal(ev.ipi.dest_apic, dest);
                assert_int_equal(ev.ipi.icr_low, icr);
                assert_int_equal(ev.ipi.vector, icr & 0xff);
                assert_int_equal(ev.ipi.delivery_mode, (icr >> 8) & 7);
                assert_int_equal(ev.ipi.logical, !!(icr & (1u << 11)));
                assert_int_equal(ev.ipi.shorthand, (icr >> 18) & 3);
        }
}

static void test_ipi(void **state) {
        (void) state;
        /* "dst %x vec %u (%s|%s|%s|%s|%s)" */
        check_ipi("dst 1 vec 251 (Fixed|physical|assert|edge|dst)", 1, 0x40fb);
        /* sparse APIC IDs: dest is hex */
        check_ipi("dst 1a vec 251 (Fixed|physical|assert|edge|dst)", 0x1a, 0x40fb);
        check_ipi("dst ff vec 236 (Fixed|physical|assert|edge|dst)", 0xff, 0x40ec);
        /* logical destination mode (mask) */
        check_ipi("dst 3 vec 252 (Fixed|logical|assert|edge|dst)", 3, 0x48fc);
        check_ipi("dst 10 vec 34 (LowPrio|logical|assert|edge|dst)", 0x10, 0x4922);
        /* shorthands */
        check_ipi("dst 0 vec 253 (Fixed|physical|assert|edge|self)", 0, 0x440fd);
        check_ipi("dst 0 vec 253 (Fixed|physical|assert|edge|all)", 0, 0x840fd);
        check_ipi("dst 0 vec 251 (Fixed|physical|assert|edge|all-but-self)", 0, 0xc40fb);
        /* other delivery modes */
        check_ipi("dst 2 vec 0 (INIT|physical|assert|level|dst)", 2, 0xc500);
        check_ipi("dst 2 vec 0 (INIT|physical|de-assert|level|all-but-self)", 2, 0xc8500);
        check_ipi("dst 2 vec 154 (SIPI|physical|assert|edge|dst)", 2, 0x469a);
        check_ipi("dst 5 vec 2 (NMI|physical|assert|edge|dst)", 5, 0x4402);
        check_ipi("dst 5 vec 0 (SMI|physical|assert|edge|dst)", 5, 0x4200);
        check_ipi("dst 5 vec 0 (Res3|physical|assert|edge|dst)", 5, 0x4300);
        check_ipi("dst 5 vec 0 (ExtINT|physical|de-assert|edge|dst)", 5, 0x0700);

        struct vs_event ev = ev_fmt(FMT_REPORT, "kvm_apic_ipi", "dst 1 vec 251 (Fixed|physical|assert|edge|dst)");
        assert_true(vs_ipi_is_unicast(&ev));
        /* raw key=value (a full icr_low; trace-cmd 3.1.6 -R prints it (u8)-cast, see below) */
        ev = ev_fmt(FMT_REPORT, "kvm_apic_ipi", "icr_low=0x840fd dest_id=7");
        assert_int_equal(ev.ipi.icr_low, 0x840fd);
        assert_int_equal(ev.ipi.dest_apic, 7);
        assert_int_equal(ev.ipi.shorthand, VS_SH_ALL);
}

/* ------------------------------------------------------------ kvm_eoi / kvm_pv_eoi */

static void test_eoi(void **state) {
        (void) state;
        for (int fmt = 0; fmt < _FMT_MAX; fmt++) {
                struct vs_event ev = ev_fmt(fmt, "kvm_eoi", "apicid 1a vector 251");

                assert_int_equal(ev.type, VS_EV_EOI);
                assert_int_equal(ev.eoi.apic_id, 0x1a);
                assert_int_equal(ev.eoi.vector, 251);
                assert_int_equal(ev.flags & VS_EVF_PV_EOI, 0);

                ev = ev_fmt(fmt, "kvm_pv_eoi", "apicid 0 vector 236");
                assert_int_equal(ev.type, VS_EV_EOI);
                assert_int_equal(ev.eoi.apic_id, 0);
                assert_int_equal(ev.eoi.vector, 236);
                assert_true(ev.flags & VS_EVF_PV_EOI);
        }
}

/* ------------------------------------------------------------ kvm_vcpu_wakeup */

static void test_vcpu_wakeup(void **state) {
        (void) state;
        for (int fmt = 0; fmt < _FMT_MAX; fmt++) {
                /* "%s time %lld ns, polling %s" */
                struct vs_event ev = ev_fmt(fmt, "kvm_vcpu_wakeup", "wait time 123456 ns, polling valid");

                assert_int_equal(ev.type, VS_EV_WAKEUP);
                assert_true(ev.flags & VS_EVF_KVM_WAKEUP);
                assert_int_equal(ev.wakeup.wakee_tid, 4242);
                assert_int_equal(ev.wakeup.target_cpu, -1);
                assert_int_equal(ev.wakeup.wait_ns, 123456);
                assert_int_equal(ev.wakeup.waited, 1);
                assert_int_equal(ev.wakeup.valid, 1);

                ev = ev_fmt(fmt, "kvm_vcpu_wakeup", "poll time 900 ns, polling invalid");
                assert_int_equal(ev.wakeup.wait_ns, 900);
                assert_int_equal(ev.wakeup.waited, 0);
                assert_int_equal(ev.wakeup.valid, 0);
        }
        /* pre-4.x: no polling part */
        struct vs_event ev = ev_fmt(FMT_TRACE, "kvm_vcpu_wakeup", "wait time 77 ns");
        assert_int_equal(ev.wakeup.wait_ns, 77);
        assert_int_equal(ev.wakeup.waited, 1);
}

/* ------------------------------------------------------------ kvm_exit / kvm_entry */

#define EXIT_TAIL " rip 0xffffffff81b2c3d4 info1 0x0000000000000000 info2 0x0000000000000000 " \
                  "intr_info 0x00000000 error_code 0x00000000 requests 0x0000000000000000"

static void test_exit(void **state) {
        (void) state;
        for (int fmt = 0; fmt < _FMT_MAX; fmt++) {
                /* 6.x print fmt, VMX PAUSE */
                struct vs_event ev = ev_fmt(fmt, "kvm_exit", "vcpu 1 reason PAUSE_INSTRUCTION" EXIT_TAIL);
                assert_int_equal(ev.type, VS_EV_EXIT_PAUSE);
                assert_int_equal(ev.pause.vcpu_id, 1);
                assert_int_equal(ev.pause.isa, VS_ISA_VMX);
                assert_int_equal(ev.pause.exit_reason, VS_VMX_EXIT_PAUSE_INSTRUCTION);

                /* SVM PAUSE */
                ev = ev_fmt(fmt, "kvm_exit", "vcpu 12 reason pause" EXIT_TAIL);
                assert_int_equal(ev.type, VS_EV_EXIT_PAUSE);
                assert_int_equal(ev.pause.vcpu_id, 12);
                assert_int_equal(ev.pause.isa, VS_ISA_SVM);
                assert_int_equal(ev.pause.exit_reason, VS_SVM_EXIT_PAUSE);

                /* other exits are filtered, vcpu or not (kvm_entry carries the
                 * vcpu_id; every source drops them the same way) */
                struct vs_stats_probe { const char *body; } others[] = {
                        { "vcpu 2 reason HLT" EXIT_TAIL }, { "vcpu 3 reason npf" EXIT_TAIL },
                        { "vcpu 4 reason DE excp" EXIT_TAIL },  /* SVM name with a blank */
                        { "vcpu 5 reason PAUSE_INSTRUCTION FAILED_VMENTRY" EXIT_TAIL }, /* not a PAUSE */
                };
                for (size_t i = 0; i < sizeof(others) / sizeof(others[0]); i++) {
                        struct vs_source_stats st = no_event(mkline(fmt, "kvm_exit", others[i].body));
                        assert_int_equal(st.filtered, 1);
                        assert_int_equal(st.malformed, 0);
                }
        }

        /* unknown reasons are printed as hex by the kernel: either PAUSE code is accepted */
        struct vs_event ev = ev_fmt(FMT_TRACE, "kvm_exit", "vcpu 6 reason 0x77" EXIT_TAIL);
        assert_int_equal(ev.type, VS_EV_EXIT_PAUSE);
        assert_int_equal(ev.pause.isa, VS_ISA_UNKNOWN);
        assert_int_equal(ev.pause.exit_reason, 0x77);
        assert_int_equal(no_event(mkline(FMT_TRACE, "kvm_exit", "vcpu 6 reason 0x55" EXIT_TAIL)).filtered, 1);

        /* old kernels: "reason %s rip 0x%lx info %llx %llx", no vcpu */
        ev = ev_fmt(FMT_TRACE, "kvm_exit", "reason PAUSE_INSTRUCTION rip 0xffffffff8106b3f6 info 0 0");
        assert_int_equal(ev.type, VS_EV_EXIT_PAUSE);
        assert_int_equal(ev.pause.vcpu_id, UINT32_MAX);
        assert_int_equal(ev.pause.isa, VS_ISA_VMX);

        /* trace-cmd report with plugin_kvm: SVM names carry EXIT_, unknown as "UNKNOWN (n)" */
        ev = ev_fmt(FMT_REPORT, "kvm_exit", "reason EXIT_PAUSE rip 0xffffffff8106b3f6 info 0 0");
        assert_int_equal(ev.type, VS_EV_EXIT_PAUSE);
        assert_int_equal(ev.pause.isa, VS_ISA_SVM);
        assert_int_equal(ev.pause.vcpu_id, UINT32_MAX);
        ev = ev_fmt(FMT_REPORT, "kvm_exit", "reason PAUSE_INSTRUCTION rip 0xffffffff8106b3f6 info 0 0");
        assert_int_equal(ev.type, VS_EV_EXIT_PAUSE);
        assert_int_equal(ev.pause.isa, VS_ISA_VMX);
        ev = ev_fmt(FMT_REPORT, "kvm_exit", "reason UNKNOWN (40) rip 0xffffffff8106b3f6 info 0 0");
        assert_int_equal(ev.type, VS_EV_EXIT_PAUSE);
        assert_int_equal(ev.pause.exit_reason, 40);
        /* trace-cmd report -R */
        ev = ev_fmt(FMT_REPORT, "kvm_exit", "exit_reason=119 guest_rip=0xffffffff8106b3f6 isa=2 info1=0 info2=0 "
                    "intr_info=0 error_code=0 vcpu_id=7 requests=0");
        assert_int_equal(ev.type, VS_EV_EXIT_PAUSE);
        assert_int_equal(ev.pause.isa, VS_ISA_SVM);
        assert_int_equal(ev.pause.vcpu_id, 7);

        /* non-PAUSE exits without a vcpu are filtered */
        struct vs_source_stats st = no_event(mkline(FMT_REPORT, "kvm_exit",
                                                    "reason EXTERNAL_INTERRUPT rip 0xffffffff8106b3f6 info 0 800000f6"));
        assert_int_equal(st.filtered, 1);
        assert_int_equal(st.records, 1);
        assert_int_equal(st.malformed, 0);
        st = no_event(mkline(FMT_TRACE, "kvm_exit", "reason hlt rip 0xffffffff8106b3f6 info 0 0"));
        assert_int_equal(st.filtered, 1);
}

static void test_entry(void **state) {
        (void) state;
        for (int fmt = 0; fmt < _FMT_MAX; fmt++) {
                /* "vcpu %u, rip 0x%lx intr_info 0x%08x error_code 0x%08x%s" */
                struct vs_event ev = ev_fmt(fmt, "kvm_entry",
                                            "vcpu 3, rip 0xffffffff81b2c3d4 intr_info 0x00000000 error_code 0x00000000");
                assert_int_equal(ev.type, VS_EV_VCPU_ID);
                assert_int_equal(ev.flags & VS_EVF_FROM_EXIT, 0);
                assert_int_equal(ev.vcpu.vcpu_id, 3);
        }
        /* older kernels */
        assert_int_equal(ev_fmt(FMT_TRACE, "kvm_entry", "vcpu 17").vcpu.vcpu_id, 17);
        assert_int_equal(ev_fmt(FMT_TRACE, "kvm_entry", "vcpu 9, rip 0xffffffff81b2c3d4").vcpu.vcpu_id, 9);
        /* plugin_kvm: " vcpu %u rip 0x%llx" */
        assert_int_equal(ev_fmt(FMT_REPORT, "kvm_entry", " vcpu 11 rip 0xffffffff81b2c3d4").vcpu.vcpu_id, 11);
        assert_int_equal(ev_fmt(FMT_REPORT, "kvm_entry", "vcpu_id=12 rip=0xffffffff81b2c3d4").vcpu.vcpu_id, 12);
}

/* ------------------------------------------------------------ kvm_hypercall */

static void test_hypercall(void **state) {
        (void) state;
        for (int fmt = 0; fmt < _FMT_MAX; fmt++) {
                /* "nr 0x%lx a0 0x%lx a1 0x%lx a2 0x%lx a3 0x%lx" */
                struct vs_event ev = ev_fmt(fmt, "kvm_hypercall", "nr 0x5 a0 0x0 a1 0x1a a2 0x0 a3 0x0");
                assert_int_equal(ev.type, VS_EV_HYPERCALL);
                assert_int_equal(ev.hc.nr, VS_HC_KICK_CPU);
                assert_int_equal(ev.hc.a1, 0x1a);

                ev = ev_fmt(fmt, "kvm_hypercall", "nr 0xa a0 0xffffffff a1 0x0 a2 0x0 a3 0xff");
                assert_int_equal(ev.hc.nr, VS_HC_SEND_IPI);
                assert_int_equal(ev.hc.a0, 0xffffffffu);
                assert_int_equal(ev.hc.a3, 0xff);

                ev = ev_fmt(fmt, "kvm_hypercall", "nr 0xb a0 0x3 a1 0x0 a2 0x0 a3 0x0");
                assert_int_equal(ev.hc.nr, VS_HC_SCHED_YIELD);
                assert_int_equal(ev.hc.a0, 3);

                struct vs_source_stats st = no_event(mkline(fmt, "kvm_hypercall", "nr 0x1 a0 0x0 a1 0x0 a2 0x0 a3 0x0"));
                assert_int_equal(st.filtered, 1);
                assert_int_equal(st.malformed, 0);
        }
}

/* ------------------------------------------------------------ kvm_ple_window_update */

static void test_ple(void **state) {
        (void) state;
        for (int fmt = 0; fmt < _FMT_MAX; fmt++) {
                /* "vcpu %u old %u new %u (%s)" */
                struct vs_event ev = ev_fmt(fmt, "kvm_ple_window_update", "vcpu 2 old 4096 new 8192 (growed)");
                assert_int_equal(ev.type, VS_EV_PLE_WINDOW);
                assert_int_equal(ev.ple.vcpu_id, 2);
                assert_int_equal(ev.ple.old_window, 4096);
                assert_int_equal(ev.ple.new_window, 8192);
        }
        /* before 4.19: "vcpu %u: ple_window %u (%s %u)" = new, then old */
        struct vs_event ev = ev_fmt(FMT_TRACE, "kvm_ple_window_update", "vcpu 1: ple_window 4096 (shrink 8192)");
        assert_int_equal(ev.ple.vcpu_id, 1);
        assert_int_equal(ev.ple.new_window, 4096);
        assert_int_equal(ev.ple.old_window, 8192);
}

/* ------------------------------------------------------------ kvm_directed_yield */

static void test_directed_yield(void **state) {
        static const struct {
                const char *body;
                uint32_t spinner, target;
                uint8_t reason;
                int32_t result;
                uint16_t skipped;
                uint8_t mask;
        } cases[] = {
                /* the first series: no skipped/mask */
                { "spinner 1 target 0 reason ipi result 1", 1, 0, VS_DY_IPI, 1, 0, 0 },
                { "spinner 0 target 2 reason hint result 0", 0, 2, VS_DY_HINT, 0, 0, 0 },
                { "spinner 3 target 1 reason stock result -3", 3, 1, VS_DY_STOCK, -3, 0, 0 },
                { "spinner 2 target 0 reason pv result 1", 2, 0, VS_DY_PV, 1, 0, 0 },
                /* __print_symbolic of a reason a newer kernel added */
                { "spinner 2 target 0 reason 0x9 result 1", 2, 0, UINT8_MAX, 1, 0, 0 },
                /* trace-cmd report -R */
                { "spinner=1 target=0 reason=2 result=-3", 1, 0, VS_DY_HINT, -3, 0, 0 },
                /* the current series */
                { "spinner 0 target 1 reason kick result 1 skipped 0 mask 0x0", 0, 1, VS_DY_KICK, 1, 0, 0 },
                { "spinner 1 target -1 reason pv result 0 skipped 1 mask 0x8", 1, VS_DY_NO_TARGET, VS_DY_PV, 0, 1, 8 },
                { "spinner 1 target 0 reason ipi result 1 skipped 2 mask 0xc", 1, 0, VS_DY_IPI, 1, 2, 0xc },
                { "spinner=1 target=-1 reason=3 result=0 skipped=1 skipped_reasons=8", 1, VS_DY_NO_TARGET, VS_DY_PV, 0,
                  1, 8 },
        };

        (void) state;
        for (size_t i = 0; i < ELEMENTSOF(cases); i++)
                for (int fmt = 0; fmt < _FMT_MAX; fmt++) {
                        struct vs_event ev = ev_fmt(fmt, "kvm_directed_yield", cases[i].body);
                        assert_int_equal(ev.type, VS_EV_DIRECTED_YIELD);
                        assert_int_equal(ev.dy.spinner, cases[i].spinner);
                        assert_int_equal(ev.dy.target, cases[i].target);
                        assert_int_equal(ev.dy.reason, cases[i].reason);
                        assert_int_equal(ev.dy.result, cases[i].result);
                        assert_int_equal(ev.dy.skipped, cases[i].skipped);
                        assert_int_equal(ev.dy.skipped_mask, cases[i].mask);
                }
        assert_int_equal(no_event(mkline(FMT_TRACE, "kvm_directed_yield", "spinner 1 target 0 reason bogus result 1"))
                                 .malformed,
                         1);
        assert_int_equal(no_event(mkline(FMT_TRACE, "kvm_directed_yield", "spinner 1 target 0 reason ipi")).malformed,
                         1);
        assert_int_equal(no_event(mkline(FMT_TRACE, "kvm_directed_yield",
                                         "spinner 1 target -2 reason ipi result 1 skipped 0 mask 0x0"))
                                 .malformed,
                         1);
        assert_int_equal(no_event(mkline(FMT_TRACE, "kvm_directed_yield",
                                         "spinner 1 target 0 reason ipi result 1 skipped 0 mask 0x100"))
                                 .malformed,
                         1);
}

/* ------------------------------------------------------------ kvm_avic_incomplete_ipi */

static void test_avic(void **state) {
        (void) state;
        for (int fmt = 0; fmt < _FMT_MAX; fmt++) {
                /* "vcpu=%u, icrh:icrl=%#010x:%08x, id=%u, index=%u" */
                struct vs_event ev = ev_fmt(fmt, "kvm_avic_incomplete_ipi",
                                            "vcpu=3, icrh:icrl=0x01000000:000040fb, id=1, index=0");
                assert_int_equal(ev.type, VS_EV_AVIC_INCOMPLETE_IPI);
                assert_int_equal(ev.avic.vcpu_idx, 3);
                assert_int_equal(ev.avic.icrh, 0x01000000);
                assert_int_equal(ev.avic.icrl, 0x40fb);
                assert_int_equal(ev.avic.id, 1);
                assert_int_equal(ev.avic.index, 0);
        }
        /* %#010x of 0 has no 0x prefix */
        struct vs_event ev = ev_fmt(FMT_TRACE, "kvm_avic_incomplete_ipi",
                                    "vcpu=0, icrh:icrl=0000000000:000c00fd, id=3, index=2");
        assert_int_equal(ev.avic.icrh, 0);
        assert_int_equal(ev.avic.icrl, 0xc00fd);
        assert_int_equal(ev.avic.id, 3);
        assert_int_equal(ev.avic.index, 2);
}

/* ------------------------------------------------------------ trace-cmd report renderings of kvm events */

static void test_report_kvm_real(void **state) {
        (void) state;
        /* `trace-cmd report -t` (plugin_kvm loaded), -N and -R of tests/data/bundled.dat */
        _cleanup_source_ struct vs_source *s = open_str(
                "       CPU 0/KVM-6173  [000]   841.405334940: kvm_apic_ipi:         dst 2 vec 251 (Fixed|physical|assert|edge|dst)\n"
                "       CPU 1/KVM-6169  [001]   841.405364499: kvm_eoi:              apicid 1 vector 251\n"
                "       CPU 1/KVM-6174  [000]   841.405859677: kvm_pv_eoi:           apicid 2 vector 251\n"
                "       CPU 0/KVM-6173  [000]   841.405110250: kvm_exit:             reason EXIT_HLT rip 0xffffffff81fa6850 info 0 0\n"
                "       CPU 0/KVM-6173  [000]   841.405106538: kvm_entry:             vcpu 0 rip 0xffffffff84dadeb0\n"
                "       CPU 1/KVM-6174  [000]   841.406004408: kvm_hypercall:        nr 0xa a0 0x1 a1 0x0 a2 0x0 a3 0xfb\n"
                "       CPU 2/KVM-6170  [000]   841.405435832: kvm_ple_window_update: vcpu 2 old 3000 new 6000 (growed)\n"
                "       CPU 0/KVM-6173  [000]   841.405183291: kvm_vcpu_wakeup:      wait time 70041 ns, polling valid\n"
                "       CPU 2/KVM-6170  [000]   841.414295026: kvm_avic_incomplete_ipi: vcpu=2, icrh:icrl=0x03000000:000040fb, id=1, index=3\n"
                "       CPU 2/KVM-6170  [000]   841.405391704: kvm_exit:             reason EXIT_PAUSE rip 0xffffffff81959c30 info 0 0\n"
                "       CPU 1/KVM-6169  [000]   841.425509144: kvm_exit:             reason PAUSE_INSTRUCTION rip 0xffffffff863dd2b0 info 0 0\n"
                "       CPU 2/KVM-6170  [000]   841.408204207: kvm_apic_ipi:         dst 8 vec 251 (Fixed|logical|assert|edge|dst)\n"
                /* -N */
                "       CPU 1/KVM-6169  [000]   841.425509: kvm_exit:             vcpu 1 reason PAUSE_INSTRUCTION rip 0xffffffff863dd2b0 info1 0x0000000000000000 info2 0x0000000000000000 intr_info 0x00000000 error_code 0x00000000 requests 0x0000000000000000\n"
                "              as-6175  [001]   841.468148: sched_switch:         prev_comm=as prev_pid=6175 prev_prio=120 prev_state=R+ ==> next_comm=CPU 1/KVM next_pid=6174 next_prio=120\n"
                /* -R */
                "       CPU 0/KVM-6173  [000]   841.405335: kvm_apic_ipi:          icr_low=251 dest_id=2\n"  /* lossy: malformed */
                "       CPU 0/KVM-6173  [000]   841.405335: kvm_apic_ipi:          icr_low=16635 dest_id=1a\n"
                "       CPU 1/KVM-6169  [001]   841.405364: kvm_eoi:               apicid=1a vector=251\n"
                "       CPU 2/KVM-6170  [000]   841.405392: kvm_exit:              exit_reason=119 guest_rip=0xffffffff81959c30 isa=2 info1=0x0000000000000000 info2=0x0000000000000000 intr_info=0x00000000 error_code=0x00000000 vcpu_id=2 requests=0x0000000000000000\n"
                "       CPU 0/KVM-6173  [000]   841.405107: kvm_entry:             vcpu_id=0 rip=0xffffffff84dadeb0 immediate_exit=0 intr_info=0x00000000 error_code=0x00000000\n"
                "       CPU 1/KVM-6174  [000]   841.406004: kvm_hypercall:         nr=0xa a0=0x1 a1=0x0 a2=0x0 a3=0xfb\n"
                "       CPU 2/KVM-6170  [000]   841.405436: kvm_ple_window_update:  vcpu_id=2 new=6000 old=3000\n"
                "       CPU 0/KVM-6173  [000]   841.405183: kvm_vcpu_wakeup:       ns=70041 waited=1 valid=1\n"
                "       CPU 2/KVM-6170  [000]   841.414295: kvm_avic_incomplete_ipi:  vcpu=2 icrh=0x03000000 icrl=000040fb id=1 index=3\n");
        struct vs_event ev;

#define NEXT(t) do { assert_int_equal(vs_source_next(s, &ev), 1); assert_int_equal(ev.type, t); } while (0)
        NEXT(VS_EV_IPI);
        assert_int_equal(ev.ts_ns, 841405334940ull);
        assert_int_equal(ev.tid, 6173);
        assert_int_equal(ev.ipi.dest_apic, 2);
        assert_int_equal(ev.ipi.icr_low, 0x40fb);
        NEXT(VS_EV_EOI);
        assert_int_equal(ev.eoi.apic_id, 1);
        NEXT(VS_EV_EOI);
        assert_true(ev.flags & VS_EVF_PV_EOI);
        /* (EXIT_HLT without vcpu: filtered) */
        NEXT(VS_EV_VCPU_ID);
        assert_int_equal(ev.vcpu.vcpu_id, 0);
        NEXT(VS_EV_HYPERCALL);
        assert_int_equal(ev.hc.nr, VS_HC_SEND_IPI);
        assert_int_equal(ev.hc.a3, 0xfb);
        NEXT(VS_EV_PLE_WINDOW);
        assert_int_equal(ev.ple.new_window, 6000);
        NEXT(VS_EV_WAKEUP);
        assert_int_equal(ev.wakeup.wait_ns, 70041);
        NEXT(VS_EV_AVIC_INCOMPLETE_IPI);
        assert_int_equal(ev.avic.icrh, 0x03000000);
        assert_int_equal(ev.avic.index, 3);
        NEXT(VS_EV_EXIT_PAUSE);
        assert_int_equal(ev.pause.isa, VS_ISA_SVM);
        assert_int_equal(ev.pause.vcpu_id, UINT32_MAX);
        NEXT(VS_EV_EXIT_PAUSE);
        assert_int_equal(ev.pause.isa, VS_ISA_VMX);
        NEXT(VS_EV_IPI);
        assert_true(ev.ipi.logical);
        assert_int_equal(ev.ipi.dest_apic, 8);

        NEXT(VS_EV_EXIT_PAUSE);
        assert_int_equal(ev.pause.vcpu_id, 1);
        assert_int_equal(ev.pause.exit_reason, 40);
        NEXT(VS_EV_SWITCH);
        assert_int_equal(ev.sw.prev_state, 0x100);

        NEXT(VS_EV_IPI);
        assert_int_equal(ev.ipi.icr_low, 0x40fb);
        assert_int_equal(ev.ipi.dest_apic, 0x1a);       /* %x field: hex without 0x */
        NEXT(VS_EV_EOI);
        assert_int_equal(ev.eoi.apic_id, 0x1a);
        assert_int_equal(ev.eoi.vector, 251);
        NEXT(VS_EV_EXIT_PAUSE);
        assert_int_equal(ev.pause.vcpu_id, 2);
        assert_int_equal(ev.pause.exit_reason, 0x77);
        NEXT(VS_EV_VCPU_ID);
        NEXT(VS_EV_HYPERCALL);
        assert_int_equal(ev.hc.a3, 0xfb);
        NEXT(VS_EV_PLE_WINDOW);
        assert_int_equal(ev.ple.old_window, 3000);
        assert_int_equal(ev.ple.new_window, 6000);
        NEXT(VS_EV_WAKEUP);
        assert_int_equal(ev.wakeup.wakee_tid, 6173);
        assert_int_equal(ev.wakeup.waited, 1);
        NEXT(VS_EV_AVIC_INCOMPLETE_IPI);
        assert_int_equal(ev.avic.icrl, 0x40fb);
        assert_int_equal(ev.avic.vcpu_idx, 2);
#undef NEXT
        assert_int_equal(vs_source_next(s, &ev), 0);
        assert_int_equal(s->stats.filtered, 1);
        assert_int_equal(s->stats.malformed, 1);
        assert_non_null(strstr(vs_source_error(s), "mem:15: kvm_apic_ipi: raw icr_low truncated"));
}

/* ------------------------------------------------------------ sched_switch */

static void test_switch_real_trace(void **state) {
        (void) state;
        /* real, kernel 6.18 trace, no TGID */
        _cleanup_source_ struct vs_source *s = open_str(
                "# tracer: nop\n"
                "#\n"
                "# entries-in-buffer/entries-written: 426/426   #P:2\n"
                "#           TASK-PID     CPU#  |||||  TIMESTAMP  FUNCTION\n"
                "#              | |         |   |||||     |         |\n"
                "          <idle>-0       [000] d..2.   447.122664: sched_switch: prev_comm=swapper/0 prev_pid=0 prev_prio=120 prev_state=R ==> next_comm=bash next_pid=3726 next_prio=120\n"
                "            bash-3723    [001] d..2.   447.122680: sched_switch: prev_comm=bash prev_pid=3723 prev_prio=120 prev_state=S ==> next_comm=swapper/1 next_pid=0 next_prio=120\n"
                "     rcu_preempt-15      [001] d..2.   447.128813: sched_switch: prev_comm=rcu_preempt prev_pid=15 prev_prio=120 prev_state=I ==> next_comm=swapper/1 next_pid=0 next_prio=120\n"
                "         timeout-3775    [001] d..2.   450.854176: sched_switch: prev_comm=bash prev_pid=3775 prev_prio=120 prev_state=R+ ==> next_comm=migration/1 next_pid=21 next_prio=0\n"
                "         timeout-3774    [000] d..2.   450.854036: sched_switch: prev_comm=bash prev_pid=3774 prev_prio=120 prev_state=D ==> next_comm=swapper/0 next_pid=0 next_prio=120\n"
                "          <idle>-0       [001] d.s4.   447.128775: sched_waking: comm=rcu_preempt pid=15 prio=120 target_cpu=000\n");
        struct vs_event ev;

        assert_int_equal(vs_source_next(s, &ev), 1);
        assert_int_equal(ev.type, VS_EV_SWITCH);
        assert_int_equal(ev.ts_ns, 447122664000ull);
        assert_int_equal(ev.cpu, 0);
        assert_int_equal(ev.tid, 0);
        assert_int_equal(ev.sw.prev_tid, 0);
        assert_int_equal(ev.sw.next_tid, 3726);
        assert_int_equal(ev.sw.prev_state, 0);
        assert_int_equal(ev.sw.prev_prio, 120);
        assert_int_equal(ev.sw.next_prio, 120);
        assert_true(vs_prev_state_runnable(ev.sw.prev_state));

        assert_int_equal(vs_source_next(s, &ev), 1);
        assert_int_equal(ev.tid, 3723);
        assert_int_equal(ev.cpu, 1);
        assert_int_equal(ev.sw.prev_state, 1);
        assert_false(vs_prev_state_runnable(ev.sw.prev_state));

        assert_int_equal(vs_source_next(s, &ev), 1);
        assert_int_equal(ev.sw.prev_state, 0x80);               /* I */

        assert_int_equal(vs_source_next(s, &ev), 1);
        assert_int_equal(ev.sw.prev_state, VS_TASK_REPORT_MAX); /* R+ */
        assert_true(vs_prev_state_runnable(ev.sw.prev_state));
        assert_int_equal(ev.sw.next_tid, 21);
        assert_int_equal(ev.sw.next_prio, 0);

        assert_int_equal(vs_source_next(s, &ev), 1);
        assert_int_equal(ev.sw.prev_state, 2);                  /* D */

        assert_int_equal(vs_source_next(s, &ev), 0);
        assert_int_equal(s->stats.records, 6);
        assert_int_equal(s->stats.events, 5);
        assert_int_equal(s->stats.unknown, 1);                  /* sched_waking */
        assert_int_equal(s->stats.malformed, 0);

        /* thread info: comms learned, <idle>/0 never reported */
        assert_null(find_thread(0));
        assert_string_equal(find_thread(3726)->comm, "bash");
        assert_string_equal(find_thread(21)->comm, "migration/1");
        assert_string_equal(find_thread(15)->comm, "rcu_preempt");
        assert_int_equal(find_thread(15)->tgid, -1);
}

static void test_switch_states(void **state) {
        static const struct {
                const char *s;
                int64_t v;
        } states[] = {
                { "R", 0 }, { "R+", 0x100 }, { "S", 1 }, { "D", 2 }, { "T", 4 }, { "t", 8 },
                { "X", 0x10 }, { "Z", 0x20 }, { "P", 0x40 }, { "I", 0x80 }, { "D|K", -1 },
                { "S|D", 3 }, { "D|W", -1 }, { "S+", 0x101 }, { "1", 1 }, { "256", 0x100 },
        };
        char body[256];

        (void) state;
        for (size_t i = 0; i < ELEMENTSOF(states); i++) {
                snprintf(body, sizeof(body),
                         "prev_comm=CPU 1/KVM prev_pid=4243 prev_prio=120 prev_state=%s ==> next_comm=swapper/1 next_pid=0 next_prio=120",
                         states[i].s);
                if (states[i].v < 0) {
                        struct vs_source_stats st = no_event(mkline(FMT_TRACE, "sched_switch", body));
                        assert_int_equal(st.malformed, 1);
                        continue;
                }
                struct vs_event ev = ev_fmt(FMT_TRACE, "sched_switch", body);
                assert_int_equal(ev.sw.prev_state, states[i].v);
                assert_int_equal(ev.sw.prev_tid, 4243);
        }
}

static void test_switch_tgid(void **state) {
        (void) state;
        /* real, record-tgid */
        _cleanup_source_ struct vs_source *s = open_str(
                "#           TASK-PID       TGID    CPU#  |||||  TIMESTAMP  FUNCTION\n"
                "            bash-3721    (   3721) [001] d..2.   447.457427: sched_switch: prev_comm=bash prev_pid=3721 prev_prio=120 prev_state=S ==> next_comm=bash next_pid=3752 next_prio=120\n"
                "          <idle>-0       (-------) [001] dNs5.   447.457982: sched_wakeup: comm=sleep pid=3752 prio=120 target_cpu=001\n"
                " memfd:sealed-91-2628    (   2628) [000] d..2.   447.501108: sched_switch: prev_comm=memfd:sealed-91 prev_pid=2628 prev_prio=120 prev_state=S ==> next_comm=swapper/0 next_pid=0 next_prio=120\n"
                "       CPU 0/KVM-4242    (-------) [003] d..2.   447.600000: sched_switch: prev_comm=CPU 0/KVM prev_pid=4242 prev_prio=120 prev_state=R+ ==> next_comm=kworker/u8:2-ev next_pid=77 next_prio=120\n");
        struct vs_event ev;
        const struct seen_thread *th;

        assert_int_equal(vs_source_next(s, &ev), 1);
        assert_int_equal(ev.tid, 3721);
        assert_int_equal(ev.sw.next_tid, 3752);
        th = find_thread(3721);
        assert_non_null(th);
        assert_int_equal(th->tgid, 3721);
        assert_string_equal(th->comm, "bash");
        assert_int_equal(find_thread(3752)->tgid, -1);  /* next: never from the column */

        assert_int_equal(vs_source_next(s, &ev), 1);
        assert_int_equal(ev.type, VS_EV_WAKEUP);
        assert_int_equal(ev.tid, 0);
        assert_int_equal(ev.wakeup.wakee_tid, 3752);
        assert_int_equal(ev.wakeup.target_cpu, 1);
        assert_string_equal(find_thread(3752)->comm, "sleep");

        assert_int_equal(vs_source_next(s, &ev), 1);
        assert_int_equal(ev.tid, 2628);
        th = find_thread(2628);
        assert_string_equal(th->comm, "memfd:sealed-91");
        assert_int_equal(th->tgid, 2628);

        assert_int_equal(vs_source_next(s, &ev), 1);
        assert_int_equal(ev.tid, 4242);
        assert_int_equal(ev.sw.prev_state, 0x100);
        assert_int_equal(ev.sw.next_tid, 77);
        th = find_thread(4242);
        assert_string_equal(th->comm, "CPU 0/KVM");
        assert_int_equal(th->tgid, -1);
        assert_string_equal(find_thread(77)->comm, "kworker/u8:2-ev");

        assert_int_equal(vs_source_next(s, &ev), 0);
        assert_int_equal(s->stats.malformed, 0);
}

static void test_switch_report(void **state) {
        (void) state;
        /* real `trace-cmd report` of an instance buffer (plugin_sched_switch),
         * -t for ns, and -N (no plugin) / -R (raw) */
        _cleanup_source_ struct vs_source *s = open_str(
                "cpus=2\n"
                "vs-texttest-tc:             bash-3957  [000]   471.540361: sched_switch:         bash:3957 [120] S ==> swapper/0:0 [120]\n"
                "vs-texttest-tc:            sleep-3960  [001]   471.540755: sched_wakeup:         rcu_preempt:15 [120] CPU:001\n"
                "vs-texttest-tc:           <idle>-0     [000]   471.540787: sched_switch:         swapper/0:0 [120] R ==> rcu_preempt:15 [120]\n"
                "vs-texttest-tc:      rcu_preempt-15    [000]   471.540798: sched_switch:         rcu_preempt:15 [120] W ==> swapper/0:0 [120]\n"
                "vs-texttest-tc:           <idle>-0     [000]   471.573088811: sched_wakeup:         memfd:sealed-91:2628 [120] CPU:000\n"
                "vs-texttest-tc:             bash-3957  [000]   471.540361: sched_switch:         prev_comm=bash prev_pid=3957 prev_prio=120 prev_state=S ==> next_comm=swapper/0 next_pid=0 next_prio=120\n"
                "vs-texttest-tc:             bash-3957  [000]   471.540361: sched_switch:          prev_comm=bash prev_pid=3957 prev_prio=120 prev_state=1 next_comm=swapper/0 next_pid=0 next_prio=120\n"
                "          CPU 0/KVM-4242  [003]  1234.567890123: sched_switch:         CPU 0/KVM:4242 [120] R ==> CPU 1/KVM:4243 [120]\n"
                "          CPU 0/KVM-4242  [003]  1234.567890124: sched_switch:         CPU 0/KVM:4242 [120] S|D ==> kworker/u8:2-ev:77 [120]\n"
                "          CPU 0/KVM-4242  [003]  1234.567890125: sched_wakeup:         CPU 1/KVM:4243 [120] success=1 CPU:002\n");
        struct vs_event ev;

        assert_int_equal(vs_source_next(s, &ev), 1);
        assert_int_equal(ev.type, VS_EV_SWITCH);
        assert_int_equal(ev.ts_ns, 471540361000ull);
        assert_int_equal(ev.tid, 3957);
        assert_int_equal(ev.sw.prev_tid, 3957);
        assert_int_equal(ev.sw.prev_state, 1);
        assert_int_equal(ev.sw.next_tid, 0);
        assert_string_equal(find_thread(3957)->comm, "bash");   /* instance prefix stripped */

        assert_int_equal(vs_source_next(s, &ev), 1);
        assert_int_equal(ev.type, VS_EV_WAKEUP);
        assert_int_equal(ev.tid, 3960);
        assert_int_equal(ev.wakeup.wakee_tid, 15);
        assert_int_equal(ev.wakeup.target_cpu, 1);
        assert_string_equal(find_thread(3960)->comm, "sleep");

        assert_int_equal(vs_source_next(s, &ev), 1);
        assert_int_equal(ev.sw.prev_state, 0);
        assert_int_equal(ev.sw.next_tid, 15);

        assert_int_equal(vs_source_next(s, &ev), 1);
        assert_int_equal(ev.sw.prev_state, 0x80);       /* plugin "W" = bit 7 = I(dle) */

        assert_int_equal(vs_source_next(s, &ev), 1);
        assert_int_equal(ev.ts_ns, 471573088811ull);
        assert_int_equal(ev.wakeup.wakee_tid, 2628);
        assert_string_equal(find_thread(2628)->comm, "memfd:sealed-91");

        for (int i = 0; i < 2; i++) {
                assert_int_equal(vs_source_next(s, &ev), 1);
                assert_int_equal(ev.sw.prev_tid, 3957);
                assert_int_equal(ev.sw.prev_state, 1);
                assert_int_equal(ev.sw.next_prio, 120);
        }

        assert_int_equal(vs_source_next(s, &ev), 1);
        assert_int_equal(ev.ts_ns, 1234567890123ull);
        assert_int_equal(ev.sw.prev_tid, 4242);
        assert_int_equal(ev.sw.next_tid, 4243);
        assert_string_equal(find_thread(4242)->comm, "CPU 0/KVM");
        assert_string_equal(find_thread(4243)->comm, "CPU 1/KVM");

        assert_int_equal(vs_source_next(s, &ev), 1);
        assert_int_equal(ev.sw.prev_state, 3);
        assert_int_equal(ev.sw.next_tid, 77);
        assert_string_equal(find_thread(77)->comm, "kworker/u8:2-ev");

        assert_int_equal(vs_source_next(s, &ev), 1);
        assert_int_equal(ev.wakeup.wakee_tid, 4243);
        assert_int_equal(ev.wakeup.target_cpu, 2);

        assert_int_equal(vs_source_next(s, &ev), 0);
        assert_int_equal(s->stats.records, 10);
        assert_int_equal(s->stats.events, 10);
        assert_int_equal(s->stats.malformed, 0);
}

static void test_wakeup_formats(void **state) {
        (void) state;
        for (int fmt = 0; fmt < _FMT_MAX; fmt++) {
                struct vs_event ev = ev_fmt(fmt, "sched_wakeup", "comm=CPU 1/KVM pid=4243 prio=120 target_cpu=002");

                assert_int_equal(ev.type, VS_EV_WAKEUP);
                assert_int_equal(ev.flags, 0);
                assert_int_equal(ev.wakeup.wakee_tid, 4243);
                assert_int_equal(ev.wakeup.target_cpu, 2);
                assert_int_equal(ev.wakeup.wait_ns, 0);
        }
        /* pre-4.3 with success= */
        struct vs_event ev = ev_fmt(FMT_TRACE, "sched_wakeup", "comm=qemu-system-x86 pid=99 prio=120 success=1 target_cpu=010");
        assert_int_equal(ev.wakeup.wakee_tid, 99);
        assert_int_equal(ev.wakeup.target_cpu, 10);
        assert_non_null(find_thread(99));
        assert_string_equal(find_thread(99)->comm, "qemu-system-x86");
}

/* ------------------------------------------------------------ header variants */

static void test_headers(void **state) {
        struct vs_event ev;

        (void) state;
        /* old kernel: no flags column */
        ev = one_event("           bash-123   [001]  1234.567890: kvm_entry: vcpu 1\n");
        assert_int_equal(ev.ts_ns, 1234567890000ull);
        assert_int_equal(ev.cpu, 1);
        assert_int_equal(ev.tid, 123);
        /* 4-char flags */
        ev = one_event("  qemu-system-x86-9876  [012] d...  5.000001: kvm_entry: vcpu 1\n");
        assert_int_equal(ev.ts_ns, 5000001000ull);
        assert_int_equal(ev.cpu, 12);
        assert_int_equal(ev.tid, 9876);
        assert_string_equal(find_thread(9876)->comm, "qemu-system-x86");
        /* raw counter clock (x86-tsc / counter) */
        ev = one_event("  bash-123  [001] d..2. 98765432101234: kvm_entry: vcpu 1\n");
        assert_int_equal(ev.ts_ns, 98765432101234ull);
        /* ns; more than 9 fraction digits are truncated, fewer are scaled */
        ev = one_event("  bash-123  [001] 1.1234567891: kvm_entry: vcpu 1\n");
        assert_int_equal(ev.ts_ns, 1123456789ull);
        ev = one_event("  bash-123  [001] 0.5: kvm_entry: vcpu 1\n");
        assert_int_equal(ev.ts_ns, 500000000ull);
        /* CRLF */
        ev = one_event("  bash-123  [001] d..2. 2.000000: kvm_entry: vcpu 4\r\n");
        assert_int_equal(ev.vcpu.vcpu_id, 4);
        /* no trailing newline */
        ev = one_event("  bash-123  [001] d..2. 2.000000: kvm_entry: vcpu 5");
        assert_int_equal(ev.vcpu.vcpu_id, 5);
        /* comm with brackets, dashes and a (tgid) */
        ev = one_event("  a [7] -b-55    (     50) [002] .... 3.000000: kvm_entry: vcpu 6\n");
        assert_int_equal(ev.tid, 55);
        assert_int_equal(ev.cpu, 2);
        assert_string_equal(find_thread(55)->comm, "a [7] -b");
        assert_int_equal(find_thread(55)->tgid, 50);
        /* unknown comm */
        ev = one_event("  <...>-321  [002] .... 3.000000: kvm_entry: vcpu 6\n");
        assert_int_equal(ev.tid, 321);
        assert_false(find_thread(321)->has_comm);
        /* non-UTF-8 comm bytes */
        ev = one_event("  \xff\xfe\x80-322  [002] .... 3.000000: kvm_entry: vcpu 6\n");
        assert_int_equal(ev.tid, 322);
}

/* trace-cmd's kvm plugin prints kvm_exit without its vcpu: a PAUSE exit
 * takes the vcpu_id the thread's last kvm_entry showed. */
static void test_exit_vcpu_from_entry(void **state) {
        (void) state;
        _cleanup_source_ struct vs_source *s = open_str(
                "  CPU 1/KVM-4243  [003]  1.000000001: kvm_exit: reason EXIT_PAUSE rip 0xffffffff8106b3f6 info 0 0\n"
                "  CPU 1/KVM-4243  [003]  1.000000002: kvm_entry: vcpu 2 rip 0xffffffff8106b3f6\n"
                "  CPU 1/KVM-4243  [003]  1.000000003: kvm_exit: reason EXIT_PAUSE rip 0xffffffff8106b3f6 info 0 0\n"
                "  CPU 0/KVM-4242  [002]  1.000000004: kvm_exit: reason EXIT_PAUSE rip 0xffffffff8106b3f6 info 0 0\n");
        struct vs_event ev;

        assert_int_equal(vs_source_next(s, &ev), 1);
        assert_int_equal(ev.type, VS_EV_EXIT_PAUSE);
        assert_int_equal(ev.pause.vcpu_id, UINT32_MAX);         /* nothing known yet */
        assert_int_equal(vs_source_next(s, &ev), 1);
        assert_int_equal(ev.type, VS_EV_VCPU_ID);
        assert_int_equal(vs_source_next(s, &ev), 1);
        assert_int_equal(ev.type, VS_EV_EXIT_PAUSE);
        assert_int_equal(ev.pause.vcpu_id, 2);
        assert_int_equal(vs_source_next(s, &ev), 1);
        assert_int_equal(ev.pause.vcpu_id, UINT32_MAX);         /* another thread */
        assert_int_equal(vs_source_next(s, &ev), 0);
}

static void test_thread_dedup(void **state) {
        (void) state;
        _cleanup_source_ struct vs_source *s = open_str(
                "  CPU 0/KVM-4242  (   4200) [003] .... 1.000000: kvm_entry: vcpu 0\n"
                "  CPU 0/KVM-4242  (   4200) [003] .... 1.000001: kvm_exit: vcpu 0 reason HLT" EXIT_TAIL "\n"
                "  CPU 0/KVM-4242  (-------) [003] .... 1.000002: kvm_entry: vcpu 0\n"
                "  CPU 0/KVM-4242  [003] .... 1.000003: kvm_entry: vcpu 0\n"
                /* a stale header comm (saved_cmdlines) never overrides a known one ... */
                "  qemu-kvm-4242  [003] .... 1.000004: kvm_entry: vcpu 0\n"
                /* ... a payload comm does */
                "  qemu-kvm-4242  [003] d..2. 1.000005: sched_switch: prev_comm=CPU 0/KVM prev_pid=4242 prev_prio=120 prev_state=S ==> next_comm=CPU 1/KVM next_pid=4243 next_prio=120\n"
                "  CPU 1/KVM-4243  [003] d..2. 1.000006: sched_switch: prev_comm=vcpu1 prev_pid=4243 prev_prio=120 prev_state=S ==> next_comm=CPU 0/KVM next_pid=4242 next_prio=120\n");
        struct vs_event ev;
        int n = 0;

        while (vs_source_next(s, &ev) > 0)
                n++;
        assert_int_equal(n, 6);         /* the HLT exit is filtered */
        assert_int_equal(n_threads, 3);
        assert_int_equal(threads[0].tid, 4242);
        assert_int_equal(threads[0].tgid, 4200);
        assert_string_equal(threads[0].comm, "CPU 0/KVM");
        assert_int_equal(threads[1].tid, 4243);
        assert_string_equal(threads[1].comm, "CPU 1/KVM");
        assert_int_equal(threads[1].tgid, -1);
        assert_int_equal(threads[2].tid, 4243);
        assert_string_equal(threads[2].comm, "vcpu1");
}

/* ------------------------------------------------------------ markers */

static void test_marker(void **state) {
        (void) state;
        for (int fmt = 0; fmt < _FMT_MAX; fmt++) {
                _cleanup_source_ struct vs_source *s = NULL;
                const char *line;
                struct vs_event ev;
                const struct seen_thread *th;

                if (fmt == FMT_REPORT)
                        line = mkline(fmt, "print",
                                      "tracing_mark_write: vschedd-topology: tid=4243 tgid=4200 apic=26 vm=guest1 comm=CPU 1/KVM");
                else
                        line = mkline(fmt, "tracing_mark_write",
                                      "vschedd-topology: tid=4243 tgid=4200 apic=26 vm=guest1 comm=CPU 1/KVM");
                s = open_str(line);
                assert_int_equal(vs_source_next(s, &ev), 0);
                assert_int_equal(s->stats.records, 1);
                assert_int_equal(s->stats.events, 0);
                assert_int_equal(s->stats.malformed, 0);
                th = find_thread(4243);
                assert_non_null(th);
                assert_int_equal(th->tgid, 4200);
                assert_int_equal(th->apic_id, 26);
                assert_string_equal(th->vm, "guest1");
                assert_string_equal(th->comm, "CPU 1/KVM");
        }

        /* trace-cmd report form, and -R */
        _cleanup_source_ struct vs_source *s = open_str(
                "vs-texttest-tc:             bash-3957  [000]   471.642533: print:                tracing_mark_write: vschedd-topology: tid=5 tgid=5 apic=1 vm=vm1 comm=CPU 0/KVM\n"
                "vs-texttest-tc:             bash-3957  [000]   471.642533: print:                 ip=tracing_mark_write buf=vschedd-topology: tid=6 tgid=5 apic=2 vm=vm1 comm=CPU 1/KVM\n"
                "            bash-3721    (   3721) [001] ...1.   447.760012: tracing_mark_write: hello world\n");
        struct vs_event ev;

        assert_int_equal(vs_source_next(s, &ev), 0);
        assert_int_equal(find_thread(5)->apic_id, 1);
        assert_string_equal(find_thread(5)->comm, "CPU 0/KVM");
        assert_int_equal(find_thread(6)->apic_id, 2);
        assert_string_equal(find_thread(6)->vm, "vm1");
        assert_int_equal(s->stats.filtered, 1);         /* an ordinary marker */
        assert_int_equal(s->stats.malformed, 0);
}

/* ------------------------------------------------------------ lost, meta, unknown */

static void test_lost_and_meta(void **state) {
        struct vs_source_stats st;

        (void) state;
        st = no_event("version = 6\n"
                      "cpus=8\n"
                      "CPU 3 is empty\n"
                      "\n"
                      "   \t \n"
                      "# tracer: nop\n"
                      "##### CPU 2 buffer started ####\n"
                      "CPU:1 [LOST 123 EVENTS]\n"
                      "[LOST 5 EVENTS]\n"
                      "CPU:7 [204600 EVENTS DROPPED]\n"
                      "CPU:2 [EVENTS DROPPED]\n"
                      "  bash-1  [000] .... 1.000000: sched_waking: comm=a pid=2 prio=120 target_cpu=000\n"
                      "  bash-1  [000] .... 1.000000: kvm_mmio: mmio write len 4 gpa 0xfee000b0 val 0x0\n");
        assert_int_equal(st.lost, 123 + 5 + 204600);
        assert_int_equal(st.records, 2);
        assert_int_equal(st.unknown, 2);
        assert_int_equal(st.malformed, 0);
        assert_int_equal(st.events, 0);
}

/* ------------------------------------------------------------ malformed */

static void test_malformed(void **state) {
        (void) state;
        _cleanup_source_ struct vs_source *s = open_str(
                "# header\n"                                                                     /* 1 */
                "  bash-1  [000] .... 1.000000: kvm_entry: vcpu 1\n"                             /* 2 ok */
                "  bash-1  [000] .... 1.0000\n"                                                  /* 3 truncated */
                "asdf qwer zxcv\n"                                                               /* 4 garbage */
                "  bash-1x  [000] .... 1.000000: kvm_entry: vcpu 1\n"                            /* 5 bad pid */
                "  bash-1  [000] .... 1.2.3: kvm_entry: vcpu 1\n"                                /* 6 bad ts */
                "  bash-1  [000] .... 99999999999999999999.0: kvm_entry: vcpu 1\n"               /* 7 ts overflow */
                "  bash-1  [000] .... 1.000000: kvm_apic_ipi: dst 1 vec 251 (Fast|physical|assert|edge|dst)\n" /* 8 */
                "  bash-1  [000] .... 1.000000: kvm_apic_ipi: dst 1 vec 999 (Fixed|physical|assert|edge|dst)\n" /* 9 */
                "  bash-1  [000] .... 1.000000: kvm_apic_ipi: dst zz vec 1 (Fixed|physical|assert|edge|dst)\n" /* 10 */
                "  bash-1  [000] .... 1.000000: kvm_apic_ipi: dst 1 vec 251 (Fixed|physical|assert\n"         /* 11 */
                "  bash-1  [000] .... 1.000000: kvm_exit: vcpu 1 reason PAUSE_INSTRUCTION\n"     /* 12 truncated */
                "  bash-1  [000] .... 1.000000: kvm_eoi: apicid 1 vector\n"                      /* 13 */
                "  bash-1  [000] .... 1.000000: kvm_hypercall: nr 0x5 a0 0x0 a1\n"               /* 14 */
                "  bash-1  [000] .... 1.000000: sched_switch: prev_comm=a prev_pid=1 prev_prio=120 prev_state=S ==> next_comm=b next_pid=2\n" /* 15 */
                "  bash-1  [000] .... 1.000000: sched_switch: prev_comm=a prev_pid=1 prev_prio=1z0 prev_state=S ==> next_comm=b next_pid=2 next_prio=1\n" /* 16 */
                "  bash-1  [000] .... 1.000000: sched_wakeup: comm=a pid=x prio=1 target_cpu=000\n" /* 17 */
                "  bash-1  [999999] .... 1.000000: kvm_entry: vcpu 1\n"                          /* 18 bad cpu */
                "  bash-1  (abc) [000] .... 1.000000: kvm_entry: vcpu 1\n"                       /* 19 bad tgid */
                "  bash-1  [000] .... 1.000000: kvm_entry: vcpu 99999999999\n"                   /* 20 */
                "  bash-1  [000] .... 1.000000: kvm_vcpu_wakeup: sleep time 1 ns\n"              /* 21 */
                "  bash-1  [000] .... 1.000000: kvm_avic_incomplete_ipi: vcpu=1, icrh:icrl=0x0\n" /* 22 */
                "  bash-1  [000] .... 1.000000: kvm_ple_window_update: vcpu 1 old\n"             /* 23 */
                "  bash-1  [000] .... 1.000000: tracing_mark_write: vschedd-topology: garbage\n" /* 24 */
                "  bash-1  [000] .... 1.000000:\n"                                               /* 25 no event */
                "  bash-1  [000] .... 1.000000: kvm_entry: vcpu 2\n");                           /* 26 ok */
        struct vs_event ev;

        assert_int_equal(vs_source_next(s, &ev), 1);
        assert_int_equal(ev.vcpu.vcpu_id, 1);
        assert_int_equal(vs_source_next(s, &ev), 1);
        assert_int_equal(ev.vcpu.vcpu_id, 2);
        assert_int_equal(vs_source_next(s, &ev), 0);

        assert_int_equal(s->stats.records, 25);
        assert_int_equal(s->stats.events, 2);
        assert_int_equal(s->stats.malformed, 23);
        assert_int_equal(s->first_malformed_at, 3);
        assert_non_null(vs_source_error(s));
        assert_non_null(strstr(vs_source_error(s), "mem:3: "));
}

static void test_hostile(void **state) {
        static const char nul_line[] = "  bash-1  [000] .... 1.000000: kvm_entry: vcpu 1\0 evil\n"
                                       "  bash-1  [000] .... 1.000000: kvm_entry: vcpu 7\n";
        struct vs_event ev;
        char *big;
        size_t n = 4u << 20;

        (void) state;
        {
                _cleanup_source_ struct vs_source *s = open_mem(nul_line, sizeof(nul_line) - 1);

                assert_int_equal(vs_source_next(s, &ev), 1);
                assert_int_equal(ev.vcpu.vcpu_id, 7);
                assert_int_equal(s->stats.malformed, 1);
                assert_int_equal(s->first_malformed_at, 1);
                assert_non_null(strstr(vs_source_error(s), "mem:1: NUL"));
        }

        /* a 4 MiB line of '[' and '-', then a good one */
        big = malloc(n + 100);
        assert_non_null(big);
        for (size_t i = 0; i < n; i++)
                big[i] = "[-0] "[i % 5];
        strcpy(big + n, "\n  bash-1  [000] .... 1.000000: kvm_entry: vcpu 8\n");
        {
                _cleanup_source_ struct vs_source *s = open_mem(big, strlen(big));

                assert_int_equal(vs_source_next(s, &ev), 1);
                assert_int_equal(ev.vcpu.vcpu_id, 8);
                assert_int_equal(s->stats.malformed, 1);
        }
        free(big);

        /* every prefix of a valid line: never crashes, never an event from a cut line */
        {
                static const char full[] =
                        "       CPU 0/KVM-4242    (   4200) [003] d..2.  1234.567890: sched_switch: "
                        "prev_comm=CPU 0/KVM prev_pid=4242 prev_prio=120 prev_state=R+ ==> next_comm=b next_pid=2 next_prio=120";
                for (size_t len = 0; len < sizeof(full) - 1; len++) {
                        _cleanup_source_ struct vs_source *s = open_mem(full, len);

                        while (vs_source_next(s, &ev) > 0)
                                /* the cut "next_prio=12" still parses as prio 12, "1" as 1 */
                                assert_true(len >= sizeof(full) - 1 - 2);
                }
        }
}

static void test_data_file(void **state) {
        _cleanup_source_ struct vs_source *s = NULL;
        struct vs_event ev;
        unsigned n = 0;

        (void) state;
        assert_int_equal(vs_source_text_open(TEST_DATADIR "/malformed.txt", &s), 0);
        while (vs_source_next(s, &ev) > 0)
                n++;
        assert_int_equal(n, s->stats.events);
        assert_int_equal(s->stats.events, 8);
        assert_int_equal(s->stats.malformed, 5);
        assert_int_equal(s->stats.unknown, 1);
        assert_int_equal(s->stats.filtered, 1);
        assert_int_equal(s->stats.lost, 42);
        assert_int_equal(s->first_malformed_at, 9);
        assert_non_null(strstr(vs_source_error(s), "malformed.txt:9: "));

        struct vs_source *none = NULL;
        assert_int_equal(vs_source_text_open(TEST_DATADIR "/does-not-exist.txt", &none), -ENOENT);
        assert_null(none);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_ipi),
                cmocka_unit_test(test_eoi),
                cmocka_unit_test(test_vcpu_wakeup),
                cmocka_unit_test(test_exit),
                cmocka_unit_test(test_entry),
                cmocka_unit_test(test_hypercall),
                cmocka_unit_test(test_ple),
                cmocka_unit_test(test_avic),
                cmocka_unit_test(test_directed_yield),
                cmocka_unit_test(test_report_kvm_real),
                cmocka_unit_test(test_switch_real_trace),
                cmocka_unit_test(test_switch_states),
                cmocka_unit_test(test_switch_tgid),
                cmocka_unit_test(test_switch_report),
                cmocka_unit_test(test_wakeup_formats),
                cmocka_unit_test(test_headers),
                cmocka_unit_test(test_exit_vcpu_from_entry),
                cmocka_unit_test(test_thread_dedup),
                cmocka_unit_test(test_marker),
                cmocka_unit_test(test_lost_and_meta),
                cmocka_unit_test(test_malformed),
                cmocka_unit_test(test_hostile),
                cmocka_unit_test(test_data_file),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
