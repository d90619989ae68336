/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests for vm-infer.c: links from crafted event sequences, and the
 * grouping they give (clashes, ambiguity, "may be one VM"). */
#include <errno.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "vm-infer.h"

#define US 1000ull
#define MS 1000000ull

static struct vs_vm_infer *vi;

static int setup(void **state) {
        (void) state;
        return vs_vm_infer_new(&vi);
}

static int teardown(void **state) {
        (void) state;
        vs_vm_infer_free(vi);
        vi = NULL;
        return 0;
}

static int feed(const struct vs_event *ev) {
        int r = vs_vm_infer_observe(vi, ev, -1);
        assert_true(r == 0 || r == 1);
        return r;
}

static int ipi(uint64_t ts, uint16_t cpu, int32_t tid, uint32_t dest, uint8_t vector) {
        struct vs_event e = { .ts_ns = ts, .tid = tid, .cpu = cpu, .type = VS_EV_IPI };

        vs_event_set_icr(&e, 0x4000u | vector, dest);
        return feed(&e);
}

static int eoi(uint64_t ts, int32_t tid, uint32_t apic, int32_t vector) {
        struct vs_event e = { .ts_ns = ts, .tid = tid, .type = VS_EV_EOI };

        e.eoi.apic_id = apic;
        e.eoi.vector = vector;
        return feed(&e);
}

static int wakeup(uint64_t ts, uint16_t cpu, int32_t waker, int32_t wakee) {
        struct vs_event e = { .ts_ns = ts, .tid = waker, .cpu = cpu, .type = VS_EV_WAKEUP };

        e.wakeup.wakee_tid = wakee;
        e.wakeup.target_cpu = 1;
        return feed(&e);
}

static void group(struct vs_vm_infer_thread *th, size_t n, struct vs_vm_infer_group *g, int expect_groups) {
        assert_int_equal(vs_vm_infer_group(vi, th, n, g), expect_groups);
}

/* An IPI pairs with the EOI of its vector at its destination APIC; other
 * vectors, other APICs and EOIs too late pair with nothing. */
static void test_ipi_eoi_links(void **state) {
        (void) state;
        assert_int_equal(ipi(1 * MS, 0, 10, 1, 0xfb), 0);
        assert_int_equal(eoi(2 * MS, 11, 1, 0xfc), 0);         /* other vector */
        assert_int_equal(eoi(2 * MS, 12, 2, 0xfb), 0);         /* other APIC */
        assert_int_equal(eoi(3 * MS, 11, 1, 0xfb), 1);         /* a new link */
        assert_true(vs_vm_infer_link(vi, 10, 11) == 1.0);
        assert_true(vs_vm_infer_link(vi, 11, 10) == 1.0);
        /* consumed: a second EOI has no IPI left */
        assert_int_equal(eoi(4 * MS, 11, 1, 0xfb), 0);
        assert_true(vs_vm_infer_link(vi, 10, 11) == 1.0);
        /* IPIs of one vector to one APIC coalesce: two sends, one EOI, one link */
        ipi(5 * MS, 0, 10, 1, 0xfb);
        ipi(6 * MS, 0, 10, 1, 0xfb);
        assert_int_equal(eoi(7 * MS, 11, 1, 0xfb), 1);          /* weight 2: may regroup */
        assert_true(vs_vm_infer_link(vi, 10, 11) == 2.0);
        assert_int_equal(eoi(8 * MS, 11, 1, 0xfb), 0);
        /* 3rd observation: weight 3, below the next doubling: no regroup needed */
        ipi(9 * MS, 0, 10, 1, 0xfb);
        assert_int_equal(eoi(10 * MS, 11, 1, 0xfb), 0);
        /* an EOI more than 100 ms after the IPI is not its EOI */
        ipi(20 * MS, 0, 10, 1, 0xfb);
        assert_int_equal(eoi(200 * MS, 11, 1, 0xfb), 0);
        assert_true(vs_vm_infer_link(vi, 10, 11) == 3.0);
        /* multicast IPIs name no single receiver */
        struct vs_event m = { .ts_ns = 300 * MS, .tid = 10, .type = VS_EV_IPI };
        vs_event_set_icr(&m, 0xc40fb, 0);                       /* all-but-self shorthand */
        feed(&m);
        assert_int_equal(eoi(301 * MS, 13, 0, 0xfb), 0);
        assert_true(vs_vm_infer_link(vi, 10, 13) == 0);
}

/* Several senders pending at one APIC ID/vector when the EOI comes: each
 * gets a share, and all are consumed. */
static void test_ambiguous_eoi(void **state) {
        (void) state;
        ipi(1 * MS, 0, 10, 0, 0x40);
        ipi(2 * MS, 1, 20, 0, 0x40);
        eoi(3 * MS, 11, 0, 0x40);
        assert_true(vs_vm_infer_link(vi, 10, 11) == 0.5);
        assert_true(vs_vm_infer_link(vi, 20, 11) == 0.5);
        eoi(4 * MS, 21, 0, 0x40);
        assert_true(vs_vm_infer_link(vi, 20, 21) == 0);
        /* a half link alone joins nothing */
        struct vs_vm_infer_thread th[] = { { 10, 1, -1, -1 }, { 11, 0, 0, -1 } };
        group(th, 2, NULL, 2);
}

/* A sender that wakes a thread on its CPU right after its IPI (kvm_vcpu_kick
 * of a halted receiver) links the two; later or elsewhere, it does not. */
static void test_ipi_wakeup(void **state) {
        struct vs_event hc = { .ts_ns = 10 * MS, .tid = 30, .cpu = 1, .type = VS_EV_HYPERCALL };

        (void) state;
        ipi(1 * MS, 0, 10, 1, 0xfb);
        assert_int_equal(wakeup(1 * MS + 5 * US, 0, 10, 11), 1);
        assert_true(vs_vm_infer_link(vi, 10, 11) == 1.0);
        assert_int_equal(wakeup(1 * MS + 6 * US, 1, 10, 12), 0);        /* other CPU */
        assert_int_equal(wakeup(3 * MS, 0, 10, 12), 0);                 /* 2 ms later */
        assert_int_equal(wakeup(1 * MS + 7 * US, 0, 99, 12), 0);        /* not the sender */
        assert_true(vs_vm_infer_link(vi, 10, 12) == 0);
        /* the PV send-IPI hypercall kicks as well */
        hc.hc.nr = VS_HC_SEND_IPI;
        feed(&hc);
        assert_int_equal(wakeup(10 * MS + 3 * US, 1, 30, 31), 1);
        assert_true(vs_vm_infer_link(vi, 30, 31) == 1.0);
}

static int kvm_wakeup(uint64_t ts, int32_t tid, int32_t vcpu_id, bool waited) {
        struct vs_event e = { .ts_ns = ts, .tid = tid, .type = VS_EV_WAKEUP, .flags = VS_EVF_KVM_WAKEUP };
        int r;

        e.wakeup.wakee_tid = tid;
        e.wakeup.target_cpu = -1;
        e.wakeup.waited = waited;
        e.wakeup.valid = 1;
        r = vs_vm_infer_observe(vi, &e, vcpu_id);
        assert_true(r == 0 || r == 1);
        return r;
}

/* An IPI to APIC ID D, then halt polling ends (kvm_vcpu_wakeup "poll") in
 * the thread with vcpu_id D within 1 ms: sender and receiver linked, shared
 * when several senders wait at D.  A sleeping receiver's wake-up ("wait")
 * counts through the sender's sched_wakeup only; an unknown vcpu_id, another
 * APIC ID or a later one pairs with nothing. */
static void test_polled_wakeup(void **state) {
        (void) state;
        ipi(1 * MS, 0, 10, 1, 0xfb);
        assert_int_equal(kvm_wakeup(1 * MS + 20 * US, 11, 1, false), 1);
        assert_true(vs_vm_infer_link(vi, 10, 11) == 1.0);
        assert_int_equal(kvm_wakeup(1 * MS + 30 * US, 11, 1, false), 0);         /* consumed */
        ipi(2 * MS, 0, 10, 1, 0xfb);
        assert_int_equal(kvm_wakeup(2 * MS + 20 * US, 11, 1, true), 0);          /* slept: not here */
        assert_int_equal(kvm_wakeup(2 * MS + 30 * US, 11, -1, false), 0);        /* vcpu_id unknown */
        assert_int_equal(kvm_wakeup(2 * MS + 40 * US, 12, 2, false), 0);         /* other APIC ID */
        assert_int_equal(kvm_wakeup(4 * MS, 11, 1, false), 0);                   /* 2 ms later */
        assert_true(vs_vm_infer_link(vi, 10, 11) == 1.0);
        ipi(10 * MS, 0, 10, 1, 0xfb);
        ipi(10 * MS + 10 * US, 1, 20, 1, 0xfc);                                  /* another VM's sender */
        kvm_wakeup(10 * MS + 50 * US, 11, 1, false);
        assert_true(vs_vm_infer_link(vi, 10, 11) == 1.5);
        assert_true(vs_vm_infer_link(vi, 20, 11) == 0.5);
}

/* Two QEMUs started together: TIDs interleave, APIC IDs and vCPU indexes
 * are the same in both.  Ping-pong in A, holder in B (B's vCPU 1 always
 * waits at APIC 0, so most EOIs at APIC 0 are ambiguous between A's vCPU 1
 * and B's).  The grouping follows the links, not the TIDs. */
static void test_interleaved(void **state) {
        enum { A0 = 200, B0 = 206, A1 = 211, B1 = 216 };
        uint64_t ts = 0;
        struct vs_vm_infer_thread th[] = {
                { A0, 0, 0, -1 }, { B0, 0, 0, -1 }, { A1, 1, 1, -1 }, { B1, 1, 1, -1 },
        };
        struct vs_vm_infer_group g[4];

        (void) state;
        for (int i = 0; i < 50; i++) {
                ipi(ts += MS, 1, B1, 0, 0x40);                  /* B's holder: always pending */
                ipi(ts += MS, 0, A0, 1, 0x40);                  /* A: 0 -> 1 */
                eoi(ts += MS, A1, 1, 0x40);
                ipi(ts += MS, 0, A1, 0, 0x40);                  /* A: 1 -> 0, ambiguous with B1 */
                eoi(ts += MS, A0, 0, 0x40);
                ipi(ts += MS, 1, B1, 0, 0x40);
                eoi(ts += MS, B0, 0, 0x40);                     /* B alone pending: unambiguous */
        }
        /* the cross-VM share is real: A0's EOIs were claimed by B1 too */
        assert_true(vs_vm_infer_link(vi, B1, A0) > 0);
        group(th, 4, g, 2);
        assert_int_equal(th[0].group, 0);                       /* A0 has the lowest TID */
        assert_int_equal(th[2].group, 0);
        assert_int_equal(th[1].group, 1);
        assert_int_equal(th[3].group, 1);
        assert_int_equal(g[0].n_threads, 2);
        assert_int_equal(g[0].n_maybe, 0);                      /* one clash each way: apart for sure */
        assert_int_equal(g[1].n_maybe, 0);
}

/* Threads with one vCPU index, or one vcpu_id, never share a group, however
 * strong the link; groups nothing links or separates are reported as
 * possibly one VM. */
static void test_clash_and_maybe(void **state) {
        uint64_t ts = 0;
        struct vs_vm_infer_thread th[] = {
                { 100, 0, -1, -1 },     /* vCPU 0 */
                { 101, 0, -1, -1 },     /* another vCPU 0: never with 100 */
                { 102, -1, 5, -1 },     /* no name, vcpu_id 5 */
                { 103, -1, 5, -1 },     /* vcpu_id 5 again: never with 102 */
                { 104, 7, -1, -1 },     /* no link at all */
        };
        struct vs_vm_infer_group g[5];

        (void) state;
        for (int i = 0; i < 10; i++) {
                ipi(ts += MS, 0, 100, 9, 0x30);
                eoi(ts += MS, 101, 9, 0x30);
                ipi(ts += MS, 0, 102, 9, 0x31);
                eoi(ts += MS, 103, 9, 0x31);
        }
        /* weaker link 100 - 102 (two observations): joins them */
        for (int i = 0; i < 2; i++) {
                ipi(ts += MS, 0, 100, 5, 0x32);
                eoi(ts += MS, 102, 5, 0x32);
        }
        group(th, 5, g, 4);
        assert_int_equal(th[0].group, th[2].group);
        assert_int_not_equal(th[0].group, th[1].group);
        assert_int_not_equal(th[2].group, th[3].group);
        /* {100,102} | {101} | {103} | {104}: 101 and 103 (index 0 / vcpu_id 5
         * vs nothing known) may be one VM, and 104 may be with anyone */
        int g101 = th[1].group, g103 = th[3].group, g104 = th[4].group, g100 = th[0].group;
        assert_int_equal(g[g100].n_maybe, 1);
        assert_int_equal(g[g100].maybe[0], g104);
        assert_int_equal(g[g101].n_maybe, 2);
        assert_int_equal(g[g104].n_maybe, 3);
        assert_int_equal(g[g103].n_maybe, 2);
        assert_int_equal(g[g104].n_threads, 1);
        /* groups numbered by lowest TID */
        assert_int_equal(g100, 0);
        assert_int_equal(g101, 1);
        assert_int_equal(g103, 2);
        assert_int_equal(g104, 3);
}

/* Sealed: a second pass over the same trace adds nothing. */
static void test_seal(void **state) {
        (void) state;
        ipi(1 * MS, 0, 10, 1, 0xfb);
        eoi(2 * MS, 11, 1, 0xfb);
        vs_vm_infer_seal(vi);
        assert_int_equal(ipi(1 * MS, 0, 10, 1, 0xfb), 0);
        assert_int_equal(eoi(2 * MS, 11, 1, 0xfb), 0);
        assert_true(vs_vm_infer_link(vi, 10, 11) == 1.0);
}

/* One observation is not enough; two are (with no rival). */
static void test_min_join(void **state) {
        struct vs_vm_infer_thread th[] = { { 10, 0, 0, -1 }, { 11, 1, 1, -1 } };

        (void) state;
        ipi(1 * MS, 0, 10, 1, 0xfb);
        eoi(2 * MS, 11, 1, 0xfb);
        group(th, 2, NULL, 2);
        ipi(3 * MS, 0, 10, 1, 0xfb);
        eoi(4 * MS, 11, 1, 0xfb);
        group(th, 2, NULL, 1);
}

/* Two VMs whose senders always wait at one APIC ID together: every EOI is
 * shared, the true and the false pairs weigh the same, nothing separates
 * them: no join, and each group is reported as possibly one VM with the
 * other VM's groups it does not clash with. */
static void test_inseparable(void **state) {
        enum { A0 = 10, A1 = 11, B0 = 20, B1 = 21 };
        struct vs_vm_infer_thread th[] = {
                { A0, 0, 0, -1 }, { A1, 1, 1, -1 }, { B0, 0, 0, -1 }, { B1, 1, 1, -1 },
        };
        struct vs_vm_infer_group g[4];
        uint64_t ts = 0;

        (void) state;
        for (int i = 0; i < 20; i++) {
                ipi(ts += MS, 0, A0, 1, 0xfb);
                ipi(ts += MS, 1, B0, 1, 0xfb);
                eoi(ts += MS, i % 2 ? A1 : B1, 1, 0xfb);
        }
        assert_true(vs_vm_infer_link(vi, A0, A1) == vs_vm_infer_link(vi, B0, A1));
        group(th, 4, g, 4);
        /* A0 may be with A1 or B1 (no clash), not with B0 */
        assert_int_equal(g[th[0].group].n_maybe, 2);
        assert_int_equal(g[th[2].group].n_maybe, 2);
}

/* Many VMs, fully interleaved TIDs, neighbours' IPIs pending at the same
 * APIC ID half of the time: every VM found whole, no VM mixed, no quadratic
 * blow-up. */
static void test_many(void **state) {
        enum { VMS = 500, VCPUS = 8 };
        struct vs_vm_infer_thread *th = calloc(VMS * VCPUS, sizeof(*th));
        struct vs_vm_infer_group *g = calloc(VMS * VCPUS, sizeof(*g));
        uint64_t ts = 0;

        (void) state;
        assert_non_null(th);
        assert_non_null(g);
#define TID(v, k) (1000 + (k) * VMS + (v))      /* VM v's vCPU k: fully interleaved */
        for (int round = 0; round < 8; round++)
                for (int v = 0; v < VMS; v++)
                        for (int k = 0; k < VCPUS; k++) {
                                uint32_t d = (uint32_t) (k + 1) % VCPUS;
                                ipi(ts += US, 0, TID(v, k), d, 0xfb);
                                if (round < 4)  /* the next VM's same vCPU waits at the same APIC ID */
                                        ipi(ts += US, 1, TID((v + 1) % VMS, k), d, 0xfb);
                                eoi(ts += US, TID(v, (int) d), d, 0xfb);
                        }
        for (int v = 0; v < VMS; v++)
                for (int k = 0; k < VCPUS; k++)
                        th[v * VCPUS + k] = (struct vs_vm_infer_thread) { TID(v, k), k, k, -1 };
        group(th, VMS * VCPUS, g, VMS);
        for (int v = 0; v < VMS; v++)
                for (int k = 1; k < VCPUS; k++)
                        assert_int_equal(th[v * VCPUS + k].group, th[v * VCPUS].group);
        for (int v = 0; v < VMS; v++)
                assert_int_equal(g[v].n_maybe, 0);
#undef TID
        free(th);
        free(g);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_ipi_eoi_links, setup, teardown),
                cmocka_unit_test_setup_teardown(test_ambiguous_eoi, setup, teardown),
                cmocka_unit_test_setup_teardown(test_ipi_wakeup, setup, teardown),
                cmocka_unit_test_setup_teardown(test_polled_wakeup, setup, teardown),
                cmocka_unit_test_setup_teardown(test_interleaved, setup, teardown),
                cmocka_unit_test_setup_teardown(test_clash_and_maybe, setup, teardown),
                cmocka_unit_test_setup_teardown(test_seal, setup, teardown),
                cmocka_unit_test_setup_teardown(test_min_join, setup, teardown),
                cmocka_unit_test_setup_teardown(test_inseparable, setup, teardown),
                cmocka_unit_test_setup_teardown(test_many, setup, teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
