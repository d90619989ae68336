/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Unit tests for policy.c on models built from constructed event streams:
 * weight conservation and bounds (property test over random models), caps by
 * contention, halving on oscillation, rate limit, decay, starvation guard,
 * placement, co-scheduling turns and the frozen-time bound.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "analysis.h"
#include "vs-config.h"
#include "policy.h"
#include "topology.h"

#define MS 1000000ull
#define VEC 0xfb

struct world {
        struct vs_config cfg;
        struct vs_topology *topo;
        struct vs_analysis *an;
        struct vs_policy *pol;
        /* decisions of the last epoch, and the current value per (vm, vcpu, knob) */
        unsigned n_dec;
        struct vs_decision dec[4096];
        char vm_names[4096][VS_VM_NAME_MAX];
};

static struct world W;

static void on_decision(const struct vs_decision *d, void *userdata) {
        struct world *w = userdata;
        if (w->n_dec < 4096) {
                w->dec[w->n_dec] = *d;
                snprintf(w->vm_names[w->n_dec], VS_VM_NAME_MAX, "%s", d->vm);
                w->dec[w->n_dec].vm = w->vm_names[w->n_dec];
                w->n_dec++;
        }
}

static void world_init(unsigned n_cpus, bool weights, bool placement, bool cos) {
        unsigned cpus[64];

        memset(&W, 0, sizeof(W));
        assert_int_equal(vs_config_init(&W.cfg), 0);
        W.cfg.mode = VS_MODE_ENFORCE;
        W.cfg.weights = weights;
        W.cfg.placement = placement;
        W.cfg.coschedule = cos;
        W.cfg.trigger_ipi_rate = 1;
        W.cfg.trigger_preempted_share = 0.1;
        W.cfg.classify = false;         /* the levers' mechanics; the classifier has its own tests */
        for (unsigned i = 0; i < n_cpus; i++)
                cpus[i] = i;
        assert_int_equal(vs_topology_new(&W.topo), 0);
        assert_int_equal(vs_analysis_new(NULL, W.topo, &W.an), 0);
        assert_int_equal(vs_policy_new(&W.cfg, cpus, n_cpus, &W.pol), 0);
}

static void world_done(void) {
        vs_policy_free(W.pol);
        vs_analysis_free(W.an);
        vs_topology_free(W.topo);
        vs_config_done(&W.cfg);
}

/* VM @name: vCPU k = tid base + k, APIC ID k */
static void add_vm(const char *name, int32_t base, unsigned n) {
        char comm[32];
        for (unsigned k = 0; k < n; k++) {
                snprintf(comm, sizeof(comm), "CPU %u/KVM", k);
                struct vs_thread_info ti = { .tid = base + (int32_t) k, .tgid = base - 1, .comm = comm,
                                             .apic_id = (int32_t) k, .vm_name = name };
                assert_int_equal(vs_topology_learn_thread(W.topo, &ti), 0);
        }
}

static void ev(const struct vs_event *e) {
        assert_int_equal(vs_analysis_event(W.an, e), 0);
}

static void sw(uint64_t ts, int cpu, int32_t prev, int64_t st, int32_t next) {
        struct vs_event e = { .ts_ns = ts, .cpu = cpu, .tid = prev, .type = VS_EV_SWITCH };
        e.sw.prev_tid = prev;
        e.sw.prev_state = st;
        e.sw.next_tid = next;
        ev(&e);
}

static void ipi(uint64_t ts, int32_t from, uint32_t to_apic) {
        struct vs_event e = { .ts_ns = ts, .tid = from };
        vs_event_set_icr(&e, VEC, to_apic);
        ev(&e);
}

static void eoi(uint64_t ts, int32_t in, uint32_t apic) {
        struct vs_event e = { .ts_ns = ts, .tid = in, .type = VS_EV_EOI };
        e.eoi.apic_id = apic;
        e.eoi.vector = VEC;
        ev(&e);
}

static void yield(uint64_t ts, int32_t from, uint32_t to_apic) {
        struct vs_event e = { .ts_ns = ts, .tid = from, .type = VS_EV_HYPERCALL };
        e.hc.nr = VS_HC_SCHED_YIELD;
        e.hc.a0 = to_apic;
        ev(&e);
}

/* a PV kick (hypercall 5, a1 = target APIC): a PV-spinlock unlocker wakes a halted waiter */
static void kick(uint64_t ts, int32_t from, uint32_t to_apic) {
        struct vs_event e = { .ts_ns = ts, .tid = from, .type = VS_EV_HYPERCALL };
        e.hc.nr = VS_HC_KICK_CPU;
        e.hc.a1 = to_apic;
        ev(&e);
}

static int epoch(uint64_t now) {
        W.n_dec = 0;
        int r = vs_policy_epoch(W.pol, W.an, now, on_decision, &W);
        assert_true(r >= 0);
        return r;
}

static long weight(const char *vm, int32_t vcpu) {
        const char *v = vs_policy_value(W.pol, vm, vcpu, VS_KNOB_WEIGHT);
        return v ? strtol(v, NULL, 10) : 100;
}

/* One epoch of traffic in [t, t + 20 ms): vCPU @recv of VM (tids base..) is
 * preempted on CPU 0 for the whole epoch while the others IPI it; it answers
 * at the end.  @waiting extra threads sit preempted on CPU 0 too (contention). */
static void waiting_epoch(uint64_t t, int32_t base, unsigned n, unsigned recv, unsigned waiting) {
        /* another vCPU of the VM takes CPU 0 from the receiver: vCPU contention */
        int32_t intruder = base + (recv == 0 ? 1 : 0);

        sw(t, 0, base + (int32_t) recv, 0x100, intruder);
        for (unsigned k = 0; k < waiting; k++)
                sw(t, 0, 900000 + (int32_t) k, 0x100, 0);      /* non-vCPU noise is ignored */
        for (unsigned k = 0; k < n; k++)
                if (k != recv)
                        ipi(t + 1 * MS + k, base + (int32_t) k, recv);
        sw(t + 15 * MS, 0, intruder, 1, base + (int32_t) recv);
        eoi(t + 16 * MS, base + (int32_t) recv, recv);
}

/* ---------------------------------------------------------------- weights */

static void test_weights_receiver_first(void **state) {
        world_init(2, true, false, false);
        add_vm("a", 1000, 4);
        /* every vCPU is a vCPU thread the analysis knows: run each once */
        for (int k = 0; k < 4; k++)
                sw(1 + k, 1, 0, 0, 1000 + k);
        waiting_epoch(1 * MS, 1000, 4, 1, 0);
        epoch(21 * MS);
        waiting_epoch(21 * MS, 1000, 4, 1, 0);
        epoch(41 * MS);
        long w[4], sum = 0;
        for (int k = 0; k < 4; k++) {
                w[k] = weight("a", k);
                sum += w[k];
        }
        assert_int_equal(sum, 400);                     /* conserved */
        assert_true(w[1] > w[0] && w[1] > w[2] && w[1] > w[3]);
        /* depth: one vCPU waiting on CPU 0 -> 2 entities -> cap 6x */
        double ratio = (double) w[1] / w[0];
        assert_true(ratio <= 6.1);             /* integer rounding of 266.7 / 44.4 */
        assert_true(ratio >= 5.5);
        for (unsigned i = 0; i < W.n_dec; i++) {
                assert_int_equal(W.dec[i].knob, VS_KNOB_WEIGHT);
                assert_string_equal(W.dec[i].vm, "a");
        }
        world_done();
}

static void test_caps_by_contention(void **state) {
        /* 3 more vCPU threads of another VM waiting on CPU 0: 4 waiting + 1 -> 5 entities -> 2.5x */
        world_init(2, true, false, false);
        add_vm("a", 1000, 2);
        add_vm("b", 2000, 3);
        sw(1, 1, 0, 0, 1000);
        sw(2, 1, 1000, 1, 1001);
        for (uint64_t e = 0; e < 3; e++) {
                uint64_t t = 1 * MS + e * 20 * MS;
                for (int k = 0; k < 3; k++)
                        sw(t, 0, 2000 + k, 0x100, 0);
                sw(t, 0, 1001, 0x100, 2000);   /* a vCPU of b takes CPU 0 from a's vCPU 1 */
                ipi(t + MS, 1000, 1);
                sw(t + 15 * MS, 0, 0, 0, 1001);
                eoi(t + 16 * MS, 1001, 1);
                for (int k = 0; k < 3; k++)
                        sw(t + 19 * MS, 1, 0, 0, 2000 + k);
                epoch(t + 20 * MS);
        }
        double ratio = (double) weight("a", 1) / weight("a", 0);
        assert_true(ratio <= 2.5 + 0.05);
        assert_true(ratio >= 2.0);
        assert_int_equal(weight("a", 0) + weight("a", 1), 200);
        world_done();
}

static void test_oscillation_halves(void **state) {
        world_init(1, true, false, false); /* 2 vCPUs on 1 CPU */
        add_vm("a", 1000, 2);
        sw(1, 1, 0, 0, 1000);
        sw(2, 1, 1000, 1, 1001);
        for (uint64_t e = 0; e < 3; e++) {
                uint64_t t = 1 * MS + e * 20 * MS;
                waiting_epoch(t, 1000, 2, 1, 0);
                /* 0 -> 1 and 1 -> 0 directed yields 100 us apart: an oscillation each epoch */
                yield(t + 2 * MS, 1000, 1);
                yield(t + 2 * MS + 100000, 1001, 0);
                epoch(t + 20 * MS);
        }
        /* depth 2 entities: cap 6, halved: 1 + 5/2 = 3.5 */
        double ratio = (double) weight("a", 1) / weight("a", 0);
        assert_true(ratio <= 3.5 + 0.05);
        assert_true(ratio >= 3.0);
        world_done();
}

static void test_rate_limit_and_decay(void **state) {
        world_init(1, true, false, false); /* 2 vCPUs on 1 CPU */
        W.cfg.write_interval_ms = 50;
        W.cfg.decay_half_life_ms = 40;
        add_vm("a", 1000, 2);
        sw(1, 1, 0, 0, 1000);
        sw(2, 1, 1000, 1, 1001);
        waiting_epoch(1 * MS, 1000, 2, 1, 0);
        epoch(21 * MS);
        assert_true(W.n_dec > 0);
        long first = weight("a", 1);
        /* a different target 20 ms later: inside the 50 ms interval, deferred */
        waiting_epoch(21 * MS, 1000, 2, 0, 0);
        epoch(41 * MS);
        assert_int_equal(W.n_dec, 0);
        assert_int_equal(weight("a", 1), first);
        /* the signal stops: weights decay to baseline and end exactly there */
        uint64_t t = 41 * MS;
        for (int e = 0; e < 30; e++) {
                t += 20 * MS;
                sw(t - MS, 1, 0, 0, 1000);      /* time moves on, no IPIs */
                epoch(t);
        }
        assert_int_equal(weight("a", 0), 100);
        assert_int_equal(weight("a", 1), 100);
        world_done();
}

static void test_starvation_guard(void **state) {
        world_init(1, true, false, false); /* 2 vCPUs on 1 CPU */
        W.cfg.write_interval_ms = 1000;         /* the guard ignores the rate limit */
        W.cfg.starvation_ms = 30;
        add_vm("a", 1000, 2);
        sw(1, 1, 0, 0, 1000);
        sw(2, 1, 1000, 1, 1001);
        waiting_epoch(1 * MS, 1000, 2, 1, 0);
        epoch(21 * MS);
        assert_true(weight("a", 0) < 100);      /* vCPU 0 (the waiter) was lowered */
        /* vCPU 0 is preempted from 22 ms on and never runs again: at 60 ms it has
         * waited 38 ms > 30 ms: at least its baseline, at once */
        sw(22 * MS, 1, 1000, 0x100, 0);
        epoch(41 * MS);
        epoch(61 * MS);
        assert_true(weight("a", 0) >= 100);
        assert_int_equal(weight("a", 0) + weight("a", 1), 200);
        bool guard = false;
        for (unsigned i = 0; i < W.n_dec; i++)
                guard |= strcmp(W.dec[i].reason, "starvation guard") == 0;
        assert_true(guard);
        world_done();
}

static unsigned rnd(uint64_t *seed) {
        *seed = *seed * 6364136223846793005ull + 1442695040888963407ull;
        return (unsigned) (*seed >> 33);
}

/* Property: over many random models, every epoch keeps each VM's weight sum
 * and every weight within bounds; a preempted receiver never ends below the
 * vCPUs that wait for it. */
static void test_property_conservation(void **state) {
        uint64_t seed = 42;
        #define RND() rnd(&seed)

        for (int c = 0; c < 200; c++) {
                unsigned n = 2 + RND() % 15, ncpu = 1 + RND() % 8;
                world_init(ncpu, true, false, false);
                W.cfg.weight_min = 1 + RND() % 50;
                W.cfg.weight_max = 150 + RND() % 2000;
                W.cfg.hysteresis_pct = RND() % 20;
                W.cfg.write_interval_ms = RND() % 30;
                add_vm("p", 5000, n);
                for (unsigned k = 0; k < n; k++)
                        sw(1 + k, 1, 0, 0, 5000 + (int32_t) k);
                uint64_t t = 1 * MS;
                for (int e = 0; e < 8; e++) {
                        unsigned events = 5 + RND() % 60;
                        for (unsigned i = 0; i < events; i++) {
                                uint64_t ts = t + (uint64_t) (RND() % 19000) * 1000;
                                int32_t a = 5000 + (int32_t) (RND() % n), b = (int32_t) (RND() % n);
                                switch (RND() % 5) {
                                case 0:
                                        sw(ts, (int) (RND() % ncpu), a, RND() % 2 ? 0x100 : 1, 0);
                                        break;
                                case 1:
                                        sw(ts, (int) (RND() % ncpu), 0, 0, a);
                                        break;
                                case 2:
                                        ipi(ts, a, (uint32_t) b);
                                        break;
                                case 3:
                                        eoi(ts, 5000 + b, (uint32_t) b);
                                        break;
                                default:
                                        yield(ts, a, (uint32_t) b);
                                }
                        }
                        t += 20 * MS;
                        epoch(t);
                        long sum = 0;
                        for (unsigned k = 0; k < n; k++) {
                                long w = weight("p", (int32_t) k);
                                assert_true(w >= (long) W.cfg.weight_min);
                                assert_true(w <= (long) W.cfg.weight_max);
                                sum += w;
                        }
                        assert_int_equal(sum, 100 * (long) n);
                        /* when the VM's weights were (re)decided this epoch, no preempted
                         * receiver sits below a vCPU that waited for it */
                        if (W.n_dec == 0 || W.cfg.write_interval_ms > 20)
                                continue;
                        const struct vs_an_vm *vm = vs_analysis_vm_by_name(W.an, "p");
                        for (unsigned a = 0; vm && a < n; a++)
                                for (unsigned b = 0; b < n; b++) {
                                        const struct vs_an_pair *pr = vs_analysis_pair(vm, a, b);
                                        const struct vs_an_vcpu *va = &vm->vcpus[a];
                                        bool a_starving = (va->state == VS_AN_PREEMPTED || va->state == VS_AN_WOKEN) &&
                                                          t - va->state_since > W.cfg.starvation_ms * MS;
                                        if (a != b && pr && pr->at_state[VS_AN_PREEMPTED] && !a_starving &&
                                            weight("p", (int32_t) b) + 1 < weight("p", (int32_t) a)) {
                                                fprintf(stderr, "case %d epoch %d n %u: %u->%u w %ld %ld\n", c, e, n, a, b,
                                                        weight("p", (int32_t) a), weight("p", (int32_t) b));
                                                for (unsigned k = 0; k < n; k++)
                                                        fprintf(stderr, " %ld", weight("p", (int32_t) k));
                                                fprintf(stderr, "\n");
                                                fail();
                                        }
                                }
                }
                world_done();
        }
}

/* ---------------------------------------------------------------- placement */

static void test_placement_apart(void **state) {
        world_init(4, false, true, false);
        add_vm("a", 1000, 4);
        add_vm("other", 5000, 2);               /* 6 vCPUs on 4 CPUs: oversubscribed */
        for (int k = 0; k < 4; k++)
                sw(1 + k, 1, 0, 0, 1000 + k);
        for (int k = 0; k < 2; k++)
                sw(6 + k, 2, 0, 0, 5000 + k);
        waiting_epoch(1 * MS, 1000, 4, 2, 0);
        epoch(21 * MS);
        const char *c[4];
        for (int k = 0; k < 4; k++) {
                c[k] = vs_policy_value(W.pol, "a", k, VS_KNOB_CPUSET);
                assert_non_null(c[k]);
        }
        /* room for everyone: four distinct single CPUs */
        for (int a = 0; a < 4; a++)
                for (int b = a + 1; b < 4; b++)
                        assert_string_not_equal(c[a], c[b]);
        world_done();

        /* 4 vCPUs on 2 CPUs: the heavy pairs 0<->1 and 2<->3 land apart */
        world_init(2, false, true, false);
        add_vm("b", 2000, 4);
        for (int k = 0; k < 4; k++)
                sw(1 + k, 1, 0, 0, 2000 + k);
        sw(MS, 0, 2001, 0x100, 2000);  /* stacked on CPU 0: vCPU contention */
        sw(MS, 0, 2003, 0x100, 2002);
        for (int i = 0; i < 20; i++) {
                ipi(2 * MS + i * 1000, 2000, 1);
                ipi(2 * MS + i * 1000 + 10, 2002, 3);
        }
        epoch(21 * MS);
        assert_string_not_equal(vs_policy_value(W.pol, "b", 0, VS_KNOB_CPUSET),
                                vs_policy_value(W.pol, "b", 1, VS_KNOB_CPUSET));
        assert_string_not_equal(vs_policy_value(W.pol, "b", 2, VS_KNOB_CPUSET),
                                vs_policy_value(W.pol, "b", 3, VS_KNOB_CPUSET));
        world_done();
}

/* The epoch cadence: a policy that knows no VM runs its epochs evaluate_ms
 * apart, an idle one (nothing held) VS_POLICY_IDLE_EPOCH_MS apart, one that
 * holds a lever every epoch_ms, and
 * it is idle again once the lever is released; an epoch_ms above the idle
 * epoch wins. */
static void test_idle_cadence(void **state) {
        world_init(2, false, true, false);
        W.cfg.epoch_ms = 20;
        /* no VM known yet: evaluate_ms apart */
        assert_int_equal(vs_policy_next_epoch_ns(W.pol), (uint64_t) W.cfg.evaluate_ms * MS);
        add_vm("b", 2000, 4);
        for (int k = 0; k < 4; k++)
                sw(1 + k, 1, 0, 0, 2000 + k);
        epoch(1 * MS);
        assert_int_equal(vs_policy_next_epoch_ns(W.pol), VS_POLICY_IDLE_EPOCH_MS * MS);
        sw(MS, 0, 2001, 0x100, 2000);  /* stacked on CPU 0: vCPU contention */
        sw(MS, 0, 2003, 0x100, 2002);
        for (int i = 0; i < 20; i++) {
                ipi(2 * MS + i * 1000, 2000, 1);
                ipi(2 * MS + i * 1000 + 10, 2002, 3);
        }
        assert_true(epoch(21 * MS) > 0);        /* placed */
        assert_int_equal(vs_policy_next_epoch_ns(W.pol), 20 * MS);
        char why[192];
        assert_string_equal(vs_policy_holds(W.pol, why, sizeof(why)), "b: placed");
        /* no traffic any more: released after the hold, idle again */
        uint64_t t = 21 * MS;
        for (int i = 0; i < 100 && vs_policy_value(W.pol, "b", 0, VS_KNOB_CPUSET) &&
                                  strcmp(vs_policy_value(W.pol, "b", 0, VS_KNOB_CPUSET), "0-1") != 0; i++) {
                t += vs_policy_next_epoch_ns(W.pol);
                epoch(t);
        }
        assert_string_equal(vs_policy_value(W.pol, "b", 0, VS_KNOB_CPUSET), "0-1");
        assert_true(t - 21 * MS >= W.cfg.decay_half_life_ms * MS);     /* the hold, in time */
        assert_int_equal(vs_policy_next_epoch_ns(W.pol), VS_POLICY_IDLE_EPOCH_MS * MS);
        assert_null(vs_policy_holds(W.pol, why, sizeof(why)));
        W.cfg.epoch_ms = 250;
        assert_int_equal(vs_policy_next_epoch_ns(W.pol), 250 * MS);
        world_done();
}

/* Two VMs at 2:1 engage placement; when one VM's vCPU threads exit, the host
 * is no longer oversubscribed and the other VM's placement is released after
 * the hold, although its traffic goes on. */
static void test_release_when_no_longer_oversubscribed(void **state) {
        uint64_t t = 1 * MS;
        world_init(2, false, true, false);
        W.cfg.decay_half_life_ms = 60;          /* hold: 3 epochs */
        add_vm("a", 1000, 2);
        add_vm("b", 2000, 2);
        sw(1, 1, 0, 0, 2000);
        sw(1, 1, 2000, 1, 2001);
        sw(1, 1, 2001, 1, 1000);
        for (int e = 0; e < 2; e++, t += 20 * MS) {
                sw(t, 0, 1001, 0x100, 2000);    /* b's vCPU takes CPU 0 from a's vCPU 1 */
                for (int i = 0; i < 10; i++)
                        ipi(t + MS + (uint64_t) i * 1000, 1000, 1);
                sw(t + 15 * MS, 0, 2000, 1, 1001);
                eoi(t + 16 * MS, 1001, 1);
                epoch(t + 20 * MS);
        }
        assert_non_null(vs_policy_value(W.pol, "a", 0, VS_KNOB_CPUSET));
        /* b exits: its threads die (prev_state X) */
        sw(t, 1, 2000, 0x10, 0);
        sw(t, 1, 2001, 0x10, 0);
        bool released = false;
        for (int e = 0; e < 8; e++, t += 20 * MS) {
                for (int i = 0; i < 10; i++)
                        ipi(t + MS + (uint64_t) i * 1000, 1000, 1);
                eoi(t + 16 * MS, 1001, 1);
                epoch(t + 20 * MS);
                for (unsigned i = 0; i < W.n_dec; i++)
                        released |= W.dec[i].knob == VS_KNOB_CPUSET && strcmp(W.dec[i].vm, "a") == 0;
        }
        assert_true(released);
        world_done();
}

static void test_placement_respects_pinning(void **state) {
        world_init(2, false, true, false);
        add_vm("a", 1000, 2);
        add_vm("other", 5000, 2);               /* 4 vCPUs on 2 CPUs: oversubscribed */
        sw(1, 1, 0, 0, 5000);
        sw(1, 1, 5000, 1, 5001);
        sw(1, 1, 5001, 1, 0);
        /* the operator pinned vCPU 0 to CPU 1 */
        assert_int_equal(vs_policy_set_baseline(W.pol, "a", 0, VS_KNOB_CPUSET, "1"), 0);
        sw(1, 1, 0, 0, 1000);
        sw(2, 1, 1000, 1, 1001);
        waiting_epoch(1 * MS, 1000, 2, 1, 0);
        epoch(21 * MS);
        assert_int_equal(W.n_dec, 0);
        world_done();
}

/* One VM alone on its CPUs, its receiver preempted only by a host task: the
 * trigger's share and rate are met, but no lever can help, so nothing is
 * written unless trigger_vcpu_contention is off. */
static void host_noise_epochs(unsigned n_epochs) {
        for (unsigned e = 0; e < n_epochs; e++) {
                uint64_t t = 1 * MS + (uint64_t) e * 20 * MS;
                sw(t, 0, 1001, 0x100, 900000);          /* a host thread, not a vCPU */
                for (int i = 0; i < 10; i++)
                        ipi(t + MS + (uint64_t) i * 1000, 1000, 1);
                sw(t + 15 * MS, 0, 900000, 1, 1001);
                eoi(t + 16 * MS, 1001, 1);
                epoch(t + 20 * MS);
        }
}

static void test_no_vcpu_contention_no_action(void **state) {
        unsigned total = 0;

        world_init(2, true, true, true);
        add_vm("alone", 1000, 2);
        sw(1, 1, 0, 0, 1000);
        for (unsigned e = 0; e < 5; e++) {
                host_noise_epochs(1);
                total += W.n_dec;
        }
        assert_int_equal(total, 0);
        assert_null(vs_policy_value(W.pol, "alone", 0, VS_KNOB_CPUSET));
        world_done();

        /* the same trace with the gate off: placement acts */
        world_init(2, true, true, true);
        W.cfg.trigger_vcpu_contention = false;
        add_vm("alone", 1000, 2);
        sw(1, 1, 0, 0, 1000);
        host_noise_epochs(2);
        assert_non_null(vs_policy_value(W.pol, "alone", 0, VS_KNOB_CPUSET));
        assert_non_null(vs_policy_value(W.pol, "alone", 1, VS_KNOB_CPUSET));
        world_done();

        /* gate on, one vCPU-on-vCPU preemption (two vCPUs stacked on CPU 0),
         * but the VM's 2 vCPUs fit on the 2 CPUs: the balancer's business */
        world_init(2, false, true, false);
        add_vm("alone", 1000, 2);
        sw(1, 1, 0, 0, 1000);
        sw(2, 0, 1001, 0x100, 1000);
        for (int i = 0; i < 10; i++)
                ipi(MS + (uint64_t) i * 1000, 1000, 1);
        epoch(21 * MS);
        assert_int_equal(W.n_dec, 0);
        world_done();

        /* the same with a third vCPU (oversubscribed): the levers engage */
        world_init(2, false, true, false);
        add_vm("three", 1000, 3);
        sw(1, 1, 0, 0, 1002);                   /* the analysis learns a vCPU when it runs */
        sw(1, 1, 1002, 1, 1000);
        sw(2, 0, 1001, 0x100, 1000);
        for (int i = 0; i < 10; i++)
                ipi(MS + (uint64_t) i * 1000, 1000, 1);
        epoch(21 * MS);
        assert_non_null(vs_policy_value(W.pol, "three", 0, VS_KNOB_CPUSET));
        world_done();
}

/* ---------------------------------------------------------------- co-scheduling */

static void test_coschedule_turns(void **state) {
        world_init(2, false, false, true);
        W.cfg.turn_ms = 20;
        W.cfg.max_frozen_ms = 40;
        const char *names[3] = { "x", "y", "z" };
        for (int v = 0; v < 3; v++)
                add_vm(names[v], 1000 * (v + 1), 2);
        unsigned thawed_turns[3] = {};
        uint64_t frozen_for[3] = {};
        for (int e = 0; e < 30; e++) {
                uint64_t t = 1 * MS + (uint64_t) e * 20 * MS;
                for (int v = 0; v < 3; v++) {
                        int32_t base = 1000 * (v + 1);
                        int32_t other = 1000 * ((v + 1) % 3 + 1);
                        sw(t, 1, 0, 0, base);
                        sw(t + 1, 0, base + 1, 0x100, other);   /* another VM's vCPU takes CPU 0 */
                        ipi(t + 2, base, 1);
                        sw(t + 3 * MS, 0, other, 1, base + 1);
                        eoi(t + 4 * MS, base + 1, 1);
                }
                epoch(t + 20 * MS);
                unsigned thawed = 0;
                for (int v = 0; v < 3; v++) {
                        const char *f = vs_policy_value(W.pol, names[v], -1, VS_KNOB_FREEZE);
                        bool frozen = f && strcmp(f, "1") == 0;
                        if (!frozen) {
                                thawed++;
                                thawed_turns[v]++;
                                frozen_for[v] = 0;
                        } else {
                                frozen_for[v] += 20;
                                /* the frozen-time bound (at epoch granularity) */
                                assert_true(frozen_for[v] <= W.cfg.max_frozen_ms);
                        }
                }
                if (e > 0)
                        assert_int_equal(thawed, 1);    /* one VM runs at a time */
        }
        /* shares kept: every VM got the same number of turns (+-1) */
        for (int v = 0; v < 3; v++)
                assert_true(thawed_turns[v] >= 9 && thawed_turns[v] <= 11);
        /* release thaws everything */
        W.n_dec = 0;
        vs_policy_release(W.pol, 700 * MS, on_decision, &W);
        for (int v = 0; v < 3; v++)
                assert_string_equal(vs_policy_value(W.pol, names[v], -1, VS_KNOB_FREEZE), "0");
        world_done();
}

/* Two contending VMs whose guests make a directed PV yield for every IPI:
 * no turns (they steer their own waiting) unless coschedule_yielding. */
static unsigned yielding_epochs(bool pv_yield) {
        unsigned freezes = 0;
        for (int e = 0; e < 6; e++) {
                uint64_t t = 1 * MS + (uint64_t) e * 20 * MS;
                for (int v = 0; v < 2; v++) {
                        int32_t base = 1000 * (v + 1), other = 1000 * (2 - v);
                        sw(t, 1, 0, 0, base);
                        sw(t + 1, 0, base + 1, 0x100, other);
                        ipi(t + 2, base, 1);
                        if (pv_yield)
                                yield(t + 3, base, 1);
                        sw(t + 3 * MS, 0, other, 1, base + 1);
                        eoi(t + 4 * MS, base + 1, 1);
                }
                epoch(t + 20 * MS);
                for (unsigned i = 0; i < W.n_dec; i++)
                        freezes += W.dec[i].knob == VS_KNOB_FREEZE;
        }
        return freezes;
}

static void test_coschedule_not_for_yielding_guests(void **state) {
        world_init(2, false, false, true);
        add_vm("x", 1000, 2);
        add_vm("y", 2000, 2);
        assert_int_equal(yielding_epochs(true), 0);
        world_done();

        world_init(2, false, false, true);
        W.cfg.coschedule_yielding = true;
        add_vm("x", 1000, 2);
        add_vm("y", 2000, 2);
        assert_true(yielding_epochs(true) > 0);
        world_done();

        /* the same traffic without yields is co-scheduled (the control) */
        world_init(2, false, false, true);
        add_vm("x", 1000, 2);
        add_vm("y", 2000, 2);
        assert_true(yielding_epochs(false) > 0);
        world_done();
}

/* The input of test_weights_receiver_first (a 4-vCPU VM on 2 CPUs, one vCPU
 * preempted by another while its siblings IPI it: oversubscribed, vCPU
 * contention) in @mode with every lever on: the number of decisions over two
 * epochs, and whether any knob holds a value. */
static unsigned contended_input(enum vs_mode mode, bool *any_value, uint64_t *next_epoch) {
        unsigned total = 0;

        world_init(2, true, true, true);
        W.cfg.mode = mode;
        add_vm("a", 1000, 4);
        for (int k = 0; k < 4; k++)
                sw(1 + k, 1, 0, 0, 1000 + k);
        waiting_epoch(1 * MS, 1000, 4, 1, 0);
        epoch(21 * MS);
        total += W.n_dec;
        waiting_epoch(21 * MS, 1000, 4, 1, 0);
        epoch(41 * MS);
        total += W.n_dec;
        *any_value = false;
        for (int k = 0; k < 4; k++)
                for (enum vs_knob kn = 0; kn < _VS_KNOB_MAX; kn++)
                        if (vs_policy_value(W.pol, "a", k, kn))
                                *any_value = true;
        *next_epoch = vs_policy_next_epoch_ns(W.pol);
        world_done();
        return total;
}

static void test_observe_mode_writes_nothing(void **state) {
        bool any;
        uint64_t next;

        /* the control: this input makes enforce write (and hold: epoch_ms) */
        assert_true(contended_input(VS_MODE_ENFORCE, &any, &next) > 0);
        assert_true(any);
        assert_int_equal(next, 20 * MS);
        /* the same input observed: no decision, no value, and nothing that
         * keeps the policy at epoch_ms (the idle cadence) */
        assert_int_equal(contended_input(VS_MODE_OBSERVE, &any, &next), 0);
        assert_false(any);
        assert_int_equal(next, VS_POLICY_IDLE_EPOCH_MS * MS);
}

/* A VM that exits in the middle of co-scheduling turns (it holds the turn):
 * the policy forgets it, never decides for it again, and the two left take
 * turns between them. */
static void test_forget_vm(void **state) {
        world_init(2, false, false, true);
        W.cfg.turn_ms = 20;
        W.cfg.max_frozen_ms = 40;
        const char *names[3] = { "x", "y", "z" };
        const char *gone = NULL;
        for (int v = 0; v < 3; v++)
                add_vm(names[v], 1000 * (v + 1), 2);
        for (int e = 0; e < 20; e++) {
                uint64_t t = 1 * MS + (uint64_t) e * 20 * MS;
                for (int v = 0; v < 3; v++) {
                        int32_t base = 1000 * (v + 1);
                        int32_t other = 1000 * ((v + 1) % 3 + 1);
                        if (gone && strcmp(names[v], gone) == 0)
                                continue;
                        if (gone && strcmp(names[(v + 1) % 3], gone) == 0)
                                other = 1000 * ((v + 2) % 3 + 1);
                        sw(t, 1, 0, 0, base);
                        sw(t + 1, 0, base + 1, 0x100, other);
                        ipi(t + 2, base, 1);
                        sw(t + 3 * MS, 0, other, 1, base + 1);
                        eoi(t + 4 * MS, base + 1, 1);
                }
                epoch(t + 20 * MS);
                unsigned thawed = 0;
                for (int v = 0; v < 3; v++) {
                        const char *f = vs_policy_value(W.pol, names[v], -1, VS_KNOB_FREEZE);
                        if (gone && strcmp(names[v], gone) == 0) {
                                assert_null(f);
                                continue;
                        }
                        thawed += !(f && strcmp(f, "1") == 0);
                }
                for (unsigned i = 0; gone && i < W.n_dec; i++)
                        assert_string_not_equal(W.dec[i].vm, gone);
                if (e > 0)
                        assert_int_equal(thawed, 1);
                if (e == 5) {
                        /* the VM holding the turn exits */
                        for (int v = 0; v < 3; v++) {
                                const char *f = vs_policy_value(W.pol, names[v], -1, VS_KNOB_FREEZE);
                                if (!(f && strcmp(f, "1") == 0))
                                        gone = names[v];
                        }
                        int idx = gone[0] - 'x';
                        assert_int_equal(vs_topology_forget_tgid(W.topo, 1000 * (idx + 1) - 1), 2);
                        assert_int_equal(vs_analysis_forget_vm(W.an, gone), 1);
                        assert_int_equal(vs_policy_forget_vm(W.pol, gone), 1);
                        assert_int_equal(vs_policy_forget_vm(W.pol, gone), 0);
                        assert_null(vs_policy_baseline(W.pol, gone, -1, VS_KNOB_FREEZE));
                }
        }
        W.n_dec = 0;
        vs_policy_release(W.pol, 700 * MS, on_decision, &W);
        for (unsigned i = 0; i < W.n_dec; i++)
                assert_string_not_equal(W.dec[i].vm, gone);
        world_done();
}


/* ---------------------------------------------------------------- classifier */

static void wake(uint64_t ts, int32_t tid, int cpu) {
        struct vs_event e = { .ts_ns = ts, .cpu = cpu, .tid = 0, .type = VS_EV_WAKEUP };
        e.wakeup.wakee_tid = tid;
        e.wakeup.target_cpu = cpu;
        ev(&e);
}

static bool frozen_now(const char *vm) {
        const char *f = vs_policy_value(W.pol, vm, -1, VS_KNOB_FREEZE);
        return f && strcmp(f, "1") == 0;
}

/* One 20 ms epoch at @t of two 2-vCPU VMs, x (tids 1000, 1001) and y (2000,
 * 2001), on 2 CPUs (4 vCPU threads: oversubscribed).  VM v's vCPU 0 sends
 * @trips[v] IPIs to its vCPU 1 in the VM's 10 ms slot.  @preempted: the
 * receiver sits preempted by the other VM's vCPU 1 meanwhile (vCPU contention)
 * and answers them all when it is back (at most 8); else it runs and answers
 * each at once.  @halt: vCPU 0 then halts (blocks) for the rest of the epoch.
 * A VM the policy froze has both vCPUs blocked for the whole epoch instead;
 * the others' vCPUs are woken at the epoch's start (as a thaw wakes them). */
static void two_vm_epoch(uint64_t t, const unsigned trips[2], bool preempted, bool halt) {
        static const char *const names[2] = { "x", "y" };
        for (int v = 0; v < 2; v++) {
                int32_t b = 1000 * (v + 1), o = 1000 * (2 - v);
                uint64_t tv = t + (uint64_t) v * 10 * MS;
                if (frozen_now(names[v])) {
                        sw(tv, 1, b, 1, 0);
                        sw(tv + 1, 0, b + 1, 1, 0);
                        continue;
                }
                /* thawed at the epoch's start: runnable from then on (a halted
                 * vCPU 0 sleeps on until the VM's slot) */
                if (!halt)
                        wake(t, b, 1);
                wake(t, b + 1, 0);
                sw(tv, 1, 0, 0, b);
                if (preempted) {
                        sw(tv + 1, 0, b + 1, 0x100, o + 1);
                        for (unsigned j = 0; j < trips[v] && j < 8; j++)
                                ipi(tv + 2 + j * 1000, b, 1);
                        sw(tv + 5 * MS, 0, o + 1, 0x100, b + 1);
                        eoi(tv + 5 * MS + 1, b + 1, 1);
                } else {
                        sw(tv + 1, 0, 0, 0, b + 1);
                        for (unsigned j = 0; j < trips[v]; j++) {
                                ipi(tv + 2 + j * 20000, b, 1);
                                eoi(tv + 2 + j * 20000 + 10000, b + 1, 1);
                        }
                }
                if (halt)
                        sw(tv + 6 * MS, 1, b, 1, 0);
        }
}

static void classify_init(bool placement, bool cos, bool weights) {
        world_init(2, weights, placement, cos);
        W.cfg.classify = true;
        W.cfg.evaluate_ms = 100;        /* 5 epochs */
        W.cfg.retry_ms = 1000;
        W.cfg.min_gain_pct = 5;
        W.cfg.halt_share = 0.1;
        add_vm("x", 1000, 2);
        add_vm("y", 2000, 2);
}

static struct vs_policy_vm_state vm_state(const char *vm) {
        struct vs_policy_vm_state st;
        assert_int_equal(vs_policy_vm_state(W.pol, vm, &st), 0);
        return st;
}

/* Run epochs [*e, *e + n) of two_vm_epoch(); returns the decisions made and
 * counts those whose reason is @reason (when not NULL) into *hits. */
static unsigned run_epochs(int *e, int n, unsigned trips, bool preempted, bool halt, const char *reason,
                           unsigned *hits) {
        unsigned dec = 0;
        const unsigned tr[2] = { trips, trips };
        for (int k = 0; k < n; k++, (*e)++) {
                uint64_t t = 1 * MS + (uint64_t) *e * 20 * MS;
                two_vm_epoch(t, tr, preempted, halt);
                dec += (unsigned) epoch(t + 20 * MS);
                for (unsigned i = 0; reason && hits && i < W.n_dec; i++)
                        *hits += strcmp(W.dec[i].reason, reason) == 0;
        }
        return dec;
}

/* Spin-waiting VMs (vCPUs runnable while their IPIs find the receiver
 * preempted) get a lever after one window, co-scheduling as they are two;
 * one that then answers twice as many IPIs keeps it. */
static void test_classify_spinning_gets_lever(void **state) {
        int e = 0;
        classify_init(true, true, false);
        /* the first window: classified, nothing done before its end */
        assert_int_equal(run_epochs(&e, 5, 8, true, false, NULL, NULL), 0);
        assert_int_equal(vm_state("x").lever, VS_LEVER_NONE);
        run_epochs(&e, 1, 8, true, false, NULL, NULL);
        struct vs_policy_vm_state sx = vm_state("x"), sy = vm_state("y");
        assert_int_equal(sx.cls, VS_CLASS_SPIN);
        assert_int_equal(sy.cls, VS_CLASS_SPIN);
        assert_true(sx.halt_share < 0.01);
        assert_int_equal(sx.lever, VS_LEVER_COSCHEDULE);
        assert_int_equal(sy.lever, VS_LEVER_COSCHEDULE);
        assert_int_equal(sx.trial, VS_TRIAL_RUNNING);
        assert_true(sx.before > 300 && sx.before < 500);        /* 8 answered per 20 ms */
        /* the lever is on: one VM thawed at a time, partners apart */
        assert_true(frozen_now("x") != frozen_now("y"));
        assert_non_null(vs_policy_value(W.pol, "x", 0, VS_KNOB_CPUSET));
        assert_string_not_equal(vs_policy_value(W.pol, "x", 0, VS_KNOB_CPUSET),
                                vs_policy_value(W.pol, "x", 1, VS_KNOB_CPUSET));
        /* with it, each VM answers 24 per turn it runs (12 per epoch on
         * average, 1.5 times the 8 before): kept; its frozen epochs (vCPUs
         * blocked by us) are no halting */
        unsigned released = 0;
        run_epochs(&e, 10, 24, false, false, "lever released: it did not help", &released);
        assert_int_equal(released, 0);
        sx = vm_state("x");
        assert_int_equal(sx.cls, VS_CLASS_SPIN);
        assert_int_equal(sx.trial, VS_TRIAL_KEPT);
        assert_int_equal(sx.lever, VS_LEVER_COSCHEDULE);
        assert_true(sx.after > sx.before * 1.3);
        assert_true(frozen_now("x") != frozen_now("y"));
        world_done();
}

/* Halting VMs (vCPU 0 blocked most of each epoch), the same IPIs to a
 * preempted receiver: the triggers fire, the classifier says halting,
 * nothing is ever written.  The control run (classify = no) acts on the
 * same input, so this test can fail. */
static void test_classify_halting_left_alone(void **state) {
        int e = 0;
        classify_init(true, true, false);
        assert_int_equal(run_epochs(&e, 40, 4, true, true, NULL, NULL), 0);
        struct vs_policy_vm_state sx = vm_state("x");
        assert_int_equal(sx.cls, VS_CLASS_HALT);
        assert_int_equal(sx.lever, VS_LEVER_NONE);
        assert_true(sx.halt_share > 0.2);
        assert_null(vs_policy_value(W.pol, "x", -1, VS_KNOB_FREEZE));
        world_done();

        e = 0;
        classify_init(true, true, false);
        W.cfg.classify = false;
        assert_true(run_epochs(&e, 40, 4, true, true, NULL, NULL) > 0);
        world_done();
}

/* A spin-waiting VM that starts halting: its lever goes at the end of the
 * window that says so (placement here).  A co-scheduled one is not judged
 * halting (its vCPUs sleep frozen half the time, and live the trace's lag
 * smears that into its turns): its turns go when they do not help. */
static void test_classify_spin_then_halt_released(void **state) {
        int e = 0;
        unsigned halts = 0;
        classify_init(true, false, false);
        run_epochs(&e, 6, 8, true, false, NULL, NULL);
        assert_int_equal(vm_state("x").lever, VS_LEVER_PLACEMENT);
        run_epochs(&e, 6, 8, true, true, "lever released: the guest halts", &halts);
        assert_true(halts > 0);
        assert_int_equal(vm_state("x").cls, VS_CLASS_HALT);
        assert_int_equal(vm_state("x").lever, VS_LEVER_NONE);
        assert_string_equal(vs_policy_value(W.pol, "x", 0, VS_KNOB_CPUSET), "0-1");
        assert_string_equal(vs_policy_value(W.pol, "x", 1, VS_KNOB_CPUSET), "0-1");
        world_done();

        e = 0;
        unsigned released = 0;
        classify_init(true, true, false);
        W.cfg.evaluate_ms = 120;        /* 6 epochs: 3 turns each */
        run_epochs(&e, 7, 8, true, false, NULL, NULL);
        assert_int_equal(vm_state("x").lever, VS_LEVER_COSCHEDULE);
        run_epochs(&e, 6, 16, false, true, "lever released: it did not help", &released);
        assert_true(released > 0);
        assert_int_equal(vm_state("x").lever, VS_LEVER_NONE);
        assert_false(frozen_now("x") || frozen_now("y"));
        world_done();
}

/* No IPI records (a host with Intel IPIv or AMD AVIC: kvm_apic_ipi and
 * kvm_eoi quiet): the same spin-waiting VMs, their receivers preempted by the
 * other VM's vCPU while the sender runs, are classified from the stalls and
 * get co-scheduling; the decisions and the verdict name the signal. */
static void test_classify_without_ipis(void **state) {
        int e = 0;
        unsigned named = 0;
        classify_init(true, true, false);
        assert_int_equal(run_epochs(&e, 5, 0, true, false, NULL, NULL), 0);
        run_epochs(&e, 1, 0, true, false, "co-scheduling: another VM's turn (no IPI records; signals: preemption)",
                   &named);
        struct vs_policy_vm_state sx = vm_state("x"), sy = vm_state("y");
        assert_int_equal(sx.cls, VS_CLASS_SPIN);
        assert_int_equal(sy.cls, VS_CLASS_SPIN);
        assert_int_equal(sx.lever, VS_LEVER_COSCHEDULE);
        assert_int_equal(sx.signals, VS_SIG_PREEMPTION);
        assert_int_equal(sx.figure, VS_FIGURE_STALLED);
        assert_true(sx.before > 0.1 && sx.before <= 1);
        assert_int_equal(named, 1);
        assert_true(frozen_now("x") != frozen_now("y"));
        char buf[64];
        assert_string_equal(vs_signals_format(VS_SIG_PREEMPTION | VS_SIG_PAUSE, buf, sizeof(buf)), "pause, preemption");
        /* with it, nothing stalls any more (both vCPUs of the VM whose turn it
         * is run): the stalled share fell, kept */
        unsigned released = 0;
        for (int k = 0; k < 10; k++, e++) {
                uint64_t t = 1 * MS + (uint64_t) e * 20 * MS;
                const unsigned tr[2] = { 0, 0 };
                two_vm_epoch(t, tr, false, false);
                epoch(t + 20 * MS);
                for (unsigned i = 0; i < W.n_dec; i++)
                        released += strcmp(W.dec[i].reason, "lever released: it did not help") == 0;
        }
        assert_int_equal(released, 0);
        assert_int_equal(vm_state("x").trial, VS_TRIAL_KEPT);
        assert_true(vm_state("x").after < vm_state("x").before);
        world_done();

        /* halting guests without IPI records: still nothing */
        e = 0;
        classify_init(true, true, false);
        assert_int_equal(run_epochs(&e, 40, 0, true, true, NULL, NULL), 0);
        assert_int_equal(vm_state("x").cls, VS_CLASS_HALT);
        world_done();

        /* IPIs trap on this host (x sends some): y, which sends none, is not
         * judged from stalls alone */
        e = 0;
        classify_init(true, true, false);
        for (int k = 0; k < 12; k++, e++) {
                uint64_t t = 1 * MS + (uint64_t) e * 20 * MS;
                const unsigned tr[2] = { 8, 0 };
                two_vm_epoch(t, tr, true, false);
                epoch(t + 20 * MS);
        }
        assert_int_equal(vm_state("x").cls, VS_CLASS_SPIN);
        assert_int_equal(vm_state("x").signals & VS_SIG_IPI, VS_SIG_IPI);
        assert_int_equal(vm_state("y").cls, VS_CLASS_NONE);
        world_done();
}

/* AMD AVIC: an IPI to a vCPU that is not running exits as
 * kvm_avic_incomplete_ipi (id 1), which names the target: counted with the
 * stalls, and named in the verdict and the decisions. */
static void test_classify_avic(void **state) {
        int e = 0;
        unsigned named = 0;
        classify_init(true, true, false);
        for (int k = 0; k < 6; k++, e++) {
                uint64_t t = 1 * MS + (uint64_t) e * 20 * MS;
                const unsigned tr[2] = { 0, 0 };
                two_vm_epoch(t, tr, true, false);
                for (int v = 0; v < 2; v++) {
                        struct vs_event a = { .ts_ns = t + (uint64_t) v * 10 * MS + 2 * MS, .tid = 1000 * (v + 1),
                                              .type = VS_EV_AVIC_INCOMPLETE_IPI };
                        a.avic.icrh = 1u << 24;         /* xAPIC destination: APIC ID 1 */
                        a.avic.icrl = VEC;
                        a.avic.id = 1;                  /* AVIC_IPI_FAILURE_TARGET_NOT_RUNNING */
                        ev(&a);
                }
                epoch(t + 20 * MS);
                for (unsigned i = 0; i < W.n_dec; i++)
                        named += strstr(W.dec[i].reason, "(no IPI records; signals: avic, preemption)") != NULL;
        }
        assert_int_equal(vm_state("x").cls, VS_CLASS_SPIN);
        assert_int_equal(vm_state("x").signals, VS_SIG_AVIC | VS_SIG_PREEMPTION);
        assert_true(named > 0);
        assert_int_equal(vs_analysis_pair(vs_analysis_vm_by_name(W.an, "x"), 0, 1)->avic_not_running, 6);
        world_done();
}

/* A lever that did not help is released after its window (hysteresis: one
 * whole window, min_gain_pct), not tried again for retry_ms; the next lever
 * (placement) is tried from a clean window, released too, and co-scheduling
 * comes back only once retry_ms has passed. */
static void test_classify_no_gain_released(void **state) {
        int e = 0;
        unsigned released = 0;
        classify_init(true, true, false);
        W.cfg.evaluate_ms = 120;        /* 6 epochs: 3 turns each when co-scheduled */
        run_epochs(&e, 7, 8, true, false, NULL, NULL);  /* engaged at 141 ms */
        assert_int_equal(vm_state("x").lever, VS_LEVER_COSCHEDULE);
        /* with the lever each VM answers 16 per turn it runs: 8 per epoch,
         * as many as before */
        run_epochs(&e, 5, 16, false, false, "lever released: it did not help", &released);
        assert_int_equal(released, 0);  /* not before the window ends */
        assert_int_equal(vm_state("x").trial, VS_TRIAL_RUNNING);
        run_epochs(&e, 1, 16, false, false, "lever released: it did not help", &released);
        assert_true(released > 0);
        struct vs_policy_vm_state sx = vm_state("x");
        assert_int_equal(sx.lever, VS_LEVER_NONE);
        assert_int_equal(vm_state("y").lever, VS_LEVER_NONE);
        assert_true(sx.after < sx.before * 1.05);
        assert_true(sx.banned_until[VS_LEVER_COSCHEDULE] > 0);
        assert_false(frozen_now("x") || frozen_now("y"));
        assert_string_equal(vs_policy_value(W.pol, "x", 0, VS_KNOB_CPUSET), "0-1");
        /* a clean window, still spinning: placement now (co-scheduling waits) */
        run_epochs(&e, 6, 8, true, false, NULL, NULL);
        assert_int_equal(vm_state("x").lever, VS_LEVER_PLACEMENT);
        assert_false(frozen_now("x") || frozen_now("y"));
        /* no better with placement (the same 8 per epoch): released too */
        released = 0;
        run_epochs(&e, 6, 8, true, false, "lever released: it did not help", &released);
        assert_true(released > 0);
        assert_int_equal(vm_state("x").lever, VS_LEVER_NONE);
        /* nothing left to try until retry_ms (1 s from the first release, at 261 ms) */
        unsigned dec = run_epochs(&e, 36, 8, true, false, NULL, NULL);     /* up to 1221 ms */
        assert_int_equal(dec, 0);
        assert_int_equal(vm_state("x").lever, VS_LEVER_NONE);
        run_epochs(&e, 6, 8, true, false, NULL, NULL);                      /* the window at 1341 ms */
        assert_int_equal(vm_state("x").lever, VS_LEVER_COSCHEDULE);
        world_done();
}

/* A spin-waiting VM starved by contention sends few IPIs (here one every
 * other epoch: 25/s, below trigger_ipi_rate 50), but each waits long for its
 * preempted receiver (5 ms: 12.5 % of the time): it is still contended and
 * spin-waiting; with so few IPIs its "before" takes the longest (3 windows)
 * before a lever is tried.  One IPI every fourth epoch (12.5/s, 6 % of the
 * time spent waiting) is too little: not contended. */
static void test_classify_starved_spinner(void **state) {
        for (int period = 2; period <= 4; period += 2) {
                classify_init(true, true, false);
                W.cfg.trigger_ipi_rate = 50;
                W.cfg.evaluate_ms = 120;
                for (int e = 0; e < 19; e++) {
                        if (e == 13 && period == 2) {   /* two windows: spinning, no lever yet */
                                assert_int_equal(vm_state("x").cls, VS_CLASS_SPIN);
                                assert_int_equal(vm_state("x").lever, VS_LEVER_NONE);
                        }
                        uint64_t t = 1 * MS + (uint64_t) e * 20 * MS;
                        const unsigned tr[2] = { (unsigned) (e % period == 0), (unsigned) (e % period == 0) };
                        two_vm_epoch(t, tr, true, false);
                        epoch(t + 20 * MS);
                }
                struct vs_policy_vm_state sx = vm_state("x");
                if (period == 2) {
                        assert_int_equal(sx.cls, VS_CLASS_SPIN);
                        assert_int_equal(sx.lever, VS_LEVER_COSCHEDULE);
                } else {
                        assert_int_equal(sx.cls, VS_CLASS_NONE);
                        assert_int_equal(sx.lever, VS_LEVER_NONE);
                }
                world_done();
        }
}

/* Hysteresis of the class: a spin-waiting VM stays so through one window
 * without evidence (borderline contention flaps), its "before" sample kept;
 * two such windows make it not contended. */
static void test_classify_hysteresis(void **state) {
        int e = 0;
        classify_init(true, true, false);
        run_epochs(&e, 6, 4, true, false, NULL, NULL);  /* 24 answered: not enough to judge yet */
        assert_int_equal(vm_state("x").cls, VS_CLASS_SPIN);
        assert_int_equal(vm_state("x").lever, VS_LEVER_NONE);
        run_epochs(&e, 5, 4, false, false, NULL, NULL); /* no contention this window */
        assert_int_equal(vm_state("x").cls, VS_CLASS_SPIN);
        assert_int_equal(vm_state("x").lever, VS_LEVER_NONE);
        run_epochs(&e, 5, 4, true, false, NULL, NULL);  /* 24 more: 48 sampled, engaged */
        assert_int_equal(vm_state("x").cls, VS_CLASS_SPIN);
        assert_int_equal(vm_state("x").lever, VS_LEVER_COSCHEDULE);
        world_done();

        e = 0;
        classify_init(true, true, false);
        run_epochs(&e, 6, 4, true, false, NULL, NULL);
        run_epochs(&e, 10, 4, false, false, NULL, NULL);        /* two windows without */
        assert_int_equal(vm_state("x").cls, VS_CLASS_NONE);
        run_epochs(&e, 5, 4, true, false, NULL, NULL);  /* the sample starts again: 24, not enough */
        assert_int_equal(vm_state("x").lever, VS_LEVER_NONE);
        world_done();
}

/* With classify, weights still keep the configured bounds and the VM's sum,
 * and the starvation guard still restores a starving vCPU at once. */
static void test_classify_weight_bounds_and_guard(void **state) {
        int e = 0;
        classify_init(false, false, true);
        W.cfg.weight_min = 60;
        W.cfg.weight_max = 140;
        W.cfg.starvation_ms = 30;
        for (int k = 0; k < 8; k++) {
                run_epochs(&e, 1, 8, true, false, NULL, NULL);
                for (int v = 0; v < 2; v++) {
                        const char *n = v ? "y" : "x";
                        long w0 = weight(n, 0), w1 = weight(n, 1);
                        assert_true(w0 >= 60 && w0 <= 140 && w1 >= 60 && w1 <= 140);
                        assert_int_equal(w0 + w1, 200);
                }
        }
        assert_int_equal(vm_state("x").lever, VS_LEVER_WEIGHTS);        /* the one lever enabled */
        assert_true(weight("x", 1) > 100);      /* the receiver first */
        assert_true(weight("x", 0) < 100);
        /* x's vCPU 0 (lowered) is preempted and never runs again: within
         * starvation_ms + one epoch it is back at its baseline at least */
        uint64_t t = 1 * MS + (uint64_t) e * 20 * MS;
        sw(t, 1, 1000, 0x100, 2000);
        bool guard = false;
        for (int k = 0; k < 3; k++) {
                t += 20 * MS;
                epoch(t);
                for (unsigned i = 0; i < W.n_dec; i++)
                        guard |= strcmp(W.dec[i].reason, "starvation guard") == 0;
        }
        assert_true(guard);
        assert_true(weight("x", 0) >= 100);
        assert_int_equal(weight("x", 0) + weight("x", 1), 200);
        world_done();
}

/* ---------------------------------------------------------------- reserved CPUs */

static void set_reserved(const char *list) {
        free(W.cfg.reserved_cpus);
        W.cfg.reserved_cpus = strdup(list);
        assert_non_null(W.cfg.reserved_cpus);
}

static bool list_has(const char *list, unsigned cpu) {
        struct vs_cpumask m;
        assert_int_equal(vs_cpulist_parse(list, &m, NULL), 0);
        return vs_cpumask_test(&m, cpu);
}

/* Property: over many random hosts, reserved sets and traffic (every lever
 * on, classify on or off), no cpuset the policy decides holds a reserved
 * CPU, except a return to the baseline the VM had (vschedd restores what it
 * found, it never widens it), and no cpuset is ever decided for a VM's own
 * cgroup (the libvirt directory above the emulator group).  The isolated
 * CPUs (vs_policy_set_host_reserved) count the same.  Placements must occur,
 * or the property checked nothing. */
static void test_reserved_never_placed(void **state) {
        uint64_t seed = 7;
        unsigned placements = 0, cases_placed = 0;

        for (int c = 0; c < 300; c++) {
                unsigned ncpu = 2 + RND() % 7, n_vms = 1 + RND() % 3, n[3];
                char list[64] = "";
                struct vs_cpumask host = {}, all = {};
                world_init(ncpu, RND() % 2, true, RND() % 2);
                W.cfg.classify = RND() % 4 == 0;
                W.cfg.evaluate_ms = 100;
                W.cfg.write_interval_ms = RND() % 30;
                /* a reserved set that leaves at least one CPU, from the file or the kernel */
                unsigned nres = 1 + RND() % (ncpu - 1);
                for (unsigned k = 0; k < nres; k++) {
                        unsigned cpu = RND() % ncpu;
                        if (RND() % 3 == 0)
                                vs_cpumask_set(&host, cpu);
                        else
                                vs_cpumask_set(&all, cpu);
                }
                assert_int_equal(vs_cpulist_format(&all, list, sizeof(list)), 0);
                set_reserved(list);
                vs_policy_set_host_reserved(W.pol, &host);
                vs_cpumask_or(&all, &host);
                for (unsigned v = 0; v < n_vms; v++) {
                        char name[8];
                        snprintf(name, sizeof(name), "v%u", v);
                        n[v] = 2 + RND() % 5;
                        add_vm(name, 10000 * (int32_t) (v + 1), n[v]);
                        for (unsigned k = 0; k < n[v]; k++) {
                                sw(1 + k, 0, 0, 0, 10000 * (int32_t) (v + 1) + (int32_t) k);
                                if (RND() % 4 == 0)     /* a v2 group inheriting its parent's CPUs */
                                        assert_int_equal(vs_policy_set_baseline(W.pol, name, (int32_t) k,
                                                                                VS_KNOB_CPUSET, ""), 0);
                        }
                }
                uint64_t t = 1 * MS;
                bool placed = false;
                for (int e = 0; e < 12; e++) {
                        unsigned events = 10 + RND() % 60;
                        for (unsigned i = 0; i < events; i++) {
                                uint64_t ts = t + (uint64_t) (RND() % 19000) * 1000;
                                unsigned v = RND() % n_vms;
                                int32_t base = 10000 * (int32_t) (v + 1);
                                unsigned ov = RND() % n_vms;
                                int32_t a = base + (int32_t) (RND() % n[v]), b = (int32_t) (RND() % n[v]);
                                int32_t other = 10000 * (int32_t) (ov + 1) + (int32_t) (RND() % n[ov]);
                                switch (RND() % 5) {
                                case 0:         /* a vCPU preempted by a vCPU: contention */
                                        sw(ts, (int) (RND() % ncpu), a, 0x100, other);
                                        break;
                                case 1:
                                        sw(ts, (int) (RND() % ncpu), 0, 0, a);
                                        break;
                                case 2:
                                case 3:
                                        ipi(ts, a, (uint32_t) b);
                                        break;
                                default:
                                        eoi(ts, base + b, (uint32_t) b);
                                }
                        }
                        t += 20 * MS;
                        epoch(t);
                        for (unsigned i = 0; i < W.n_dec; i++) {
                                const struct vs_decision *d = &W.dec[i];
                                if (d->knob != VS_KNOB_CPUSET)
                                        continue;
                                assert_true(d->vcpu >= 0);
                                const char *base = vs_policy_baseline(W.pol, d->vm, d->vcpu, VS_KNOB_CPUSET);
                                if (base && strcmp(d->new, base) == 0)
                                        continue;       /* back to what the VM had */
                                placements++;
                                placed = true;
                                assert_true(d->new[0] != '\0');
                                for (unsigned cpu = 0; cpu < ncpu; cpu++)
                                        if (vs_cpumask_test(&all, cpu) && list_has(d->new, cpu))
                                                fail_msg("case %d: %s vCPU %d placed on %s, reserved %s + host",
                                                         c, d->vm, d->vcpu, d->new, list);
                        }
                }
                cases_placed += placed;
                W.n_dec = 0;
                vs_policy_release(W.pol, t + 20 * MS, on_decision, &W);
                world_done();
        }
        /* the property was exercised, not vacuously true */
        assert_true(cases_placed >= 30);
        assert_true(placements >= 100);
}

/* The test_placement_apart input (4 CPUs, a 4-vCPU VM waiting, 6 vCPU
 * threads) with CPU 0 reserved: the four vCPUs share CPUs 1-3, none gets
 * CPU 0; with every CPU reserved nothing is decided and the VM says why; a
 * reserved set that appears later (a reload) takes back what was placed. */
static void test_reserved_placement(void **state) {
        struct vs_policy_vm_state st;

        world_init(4, false, true, false);
        set_reserved("0");
        add_vm("a", 1000, 4);
        add_vm("other", 5000, 2);
        for (int k = 0; k < 4; k++)
                sw(1 + k, 1, 0, 0, 1000 + k);
        for (int k = 0; k < 2; k++)
                sw(6 + k, 2, 0, 0, 5000 + k);
        waiting_epoch(1 * MS, 1000, 4, 2, 0);
        epoch(21 * MS);
        unsigned used[4] = {};
        for (int k = 0; k < 4; k++) {
                const char *c = vs_policy_value(W.pol, "a", k, VS_KNOB_CPUSET);
                assert_non_null(c);
                for (unsigned cpu = 0; cpu < 4; cpu++)
                        used[cpu] += list_has(c, cpu);
        }
        assert_int_equal(used[0], 0);
        assert_true(used[1] >= 1 && used[2] >= 1 && used[3] >= 1);
        assert_int_equal(vs_policy_vm_state(W.pol, "a", &st), 0);
        assert_null(st.skipped);

        /* reload: CPUs 1-3 reserved as well (via the kernel's list): "a" has
         * nowhere to go, its cpusets go back to the baseline, and it says why */
        struct vs_cpumask iso = {};
        for (unsigned cpu = 1; cpu < 4; cpu++)
                vs_cpumask_set(&iso, cpu);
        vs_policy_set_host_reserved(W.pol, &iso);
        waiting_epoch(21 * MS, 1000, 4, 2, 0);
        epoch(41 * MS);
        unsigned back = 0;
        for (unsigned i = 0; i < W.n_dec; i++)
                if (W.dec[i].knob == VS_KNOB_CPUSET) {
                        assert_string_equal(W.dec[i].new, "0-3");
                        assert_string_equal(W.dec[i].reason, "every CPU it may use is reserved");
                        back++;
                }
        assert_int_equal(back, 4);
        assert_int_equal(vs_policy_vm_state(W.pol, "a", &st), 0);
        assert_string_equal(st.skipped, "every CPU it may use is reserved");
        for (int e = 0; e < 5; e++) {
                waiting_epoch(41 * MS + (uint64_t) e * 20 * MS, 1000, 4, 2, 0);
                assert_int_equal(epoch(61 * MS + (uint64_t) e * 20 * MS), 0);
        }
        /* the kernel's list is gone again: "a" acts once more */
        vs_policy_set_host_reserved(W.pol, NULL);
        waiting_epoch(141 * MS, 1000, 4, 2, 0);
        epoch(161 * MS);
        assert_int_equal(vs_policy_vm_state(W.pol, "a", &st), 0);
        assert_null(st.skipped);
        for (int k = 0; k < 4; k++)
                assert_false(list_has(vs_policy_value(W.pol, "a", k, VS_KNOB_CPUSET), 0));
        world_done();
}

/* A VM pinned (by the operator) to reserved CPUs only is left alone, turns
 * included; a VM whose baseline is exactly the unreserved CPUs is not
 * pinned: it is placed there. */
static void test_reserved_pinned_vm(void **state) {
        struct vs_policy_vm_state st;

        world_init(2, false, false, true);
        set_reserved("1");
        W.cfg.max_frozen_ms = 40;
        const char *names[3] = { "x", "y", "z" };
        for (int v = 0; v < 3; v++)
                add_vm(names[v], 1000 * (v + 1), 1);
        /* x's only vCPU is pinned to CPU 1, which is reserved */
        assert_int_equal(vs_policy_set_baseline(W.pol, "x", 0, VS_KNOB_CPUSET, "1"), 0);
        for (int e = 0; e < 20; e++) {
                uint64_t t = 1 * MS + (uint64_t) e * 20 * MS;
                for (int v = 0; v < 3; v++) {
                        int32_t base = 1000 * (v + 1), other = 1000 * ((v + 1) % 3 + 1);
                        sw(t, 0, base, 0x100, other);
                        ipi(t + 2, base, 0);
                        sw(t + 3 * MS, 0, other, 1, base);
                        eoi(t + 4 * MS, base, 0);
                }
                epoch(t + 20 * MS);
                for (unsigned i = 0; i < W.n_dec; i++)
                        assert_string_not_equal(W.dec[i].vm, "x");
        }
        assert_int_equal(vs_policy_vm_state(W.pol, "x", &st), 0);
        assert_string_equal(st.skipped, "every CPU it may use is reserved");
        assert_int_equal(vs_policy_vm_state(W.pol, "y", &st), 0);
        assert_null(st.skipped);
        world_done();

        /* the operator keeps a VM off CPU 0 (baseline "1-3"), reserved_cpus = 0:
         * not a pin, placement acts within 1-3 */
        world_init(4, false, true, false);
        set_reserved("0");
        add_vm("a", 1000, 4);
        add_vm("other", 5000, 2);
        for (int k = 0; k < 4; k++) {
                assert_int_equal(vs_policy_set_baseline(W.pol, "a", k, VS_KNOB_CPUSET, "1-3"), 0);
                sw(1 + k, 1, 0, 0, 1000 + k);
        }
        for (int k = 0; k < 2; k++)
                sw(6 + k, 2, 0, 0, 5000 + k);
        waiting_epoch(1 * MS, 1000, 4, 2, 0);
        epoch(21 * MS);
        unsigned placed = 0;
        for (unsigned i = 0; i < W.n_dec; i++)
                if (W.dec[i].knob == VS_KNOB_CPUSET) {
                        assert_false(list_has(W.dec[i].new, 0));
                        placed++;
                }
        assert_true(placed >= 3);
        world_done();
}

/* Epochs [*e, *e + n) of two_vm_epoch() where the VMs halt in the first
 * @halting of every 5 (one halting epoch = 14 of the VM's 40 vCPU-ms blocked:
 * 1 of 5 makes 7 %, 2 of 5 14 %, the Linux pbzip2 guests' figures at 3:1 in
 * the testbed), and with @kicks a PV kick from vCPU 0 to vCPU 1 per epoch. */
static unsigned pv_epochs(int *e, int n, unsigned trips, unsigned halting, bool kicks) {
        const unsigned tr[2] = { trips, trips };
        unsigned dec = 0;
        for (int k = 0; k < n; k++, (*e)++) {
                uint64_t t = 1 * MS + (uint64_t) *e * 20 * MS;
                two_vm_epoch(t, tr, true, (unsigned) (*e % 5) < halting);
                if (kicks) {
                        kick(t + 3 * MS, 1000, 1);
                        kick(t + 13 * MS, 2000, 1);
                }
                dec += (unsigned) epoch(t + 20 * MS);
        }
        return dec;
}

/* A PV guest (a Linux one: PV spinlocks) whose vCPUs happen to halt little
 * in the window (here not at all) but whose unlockers kick halted lock
 * waiters is halting: no lever.  Without the kicks the same input gets one. */
static void test_classify_pv_kicks_halting(void **state) {
        for (int kicks = 1; kicks >= 0; kicks--) {
                int e = 0;
                classify_init(true, true, false);
                unsigned dec = pv_epochs(&e, 6, 8, 0, kicks);      /* the second window: engaged unless halting */
                struct vs_policy_vm_state sx = vm_state("x");
                assert_true(sx.halt_share < 0.01);
                if (kicks) {
                        assert_int_equal(sx.cls, VS_CLASS_HALT);
                        assert_true(sx.kick_rate > 40 && sx.kick_rate < 60);    /* 1 per 20 ms */
                        assert_int_equal(sx.lever, VS_LEVER_NONE);
                        assert_int_equal(dec + pv_epochs(&e, 40, 8, 0, kicks), 0);
                        assert_int_equal(vm_state("x").cls, VS_CLASS_HALT);
                } else {
                        assert_int_equal(sx.cls, VS_CLASS_SPIN);
                        assert_int_equal(sx.lever, VS_LEVER_COSCHEDULE);
                        assert_true(dec > 0);
                }
                world_done();
        }
}

/* The testbed's Linux pbzip2 guests at 3:1 halted 11-30 % of one window
 * ("halting") and 1-10 % of the next, and the committed classifier placed
 * and co-scheduled them in such a window (0.34x default).  A VM classified
 * halting gets no lever for retry_ms whatever the next windows say; one
 * that keeps spin-waiting that long gets one then. */
static void test_classify_halt_memory(void **state) {
        int e = 0;
        classify_init(true, true, false);
        pv_epochs(&e, 6, 8, 2, false);                  /* 14 %: halting */
        assert_int_equal(vm_state("x").cls, VS_CLASS_HALT);
        pv_epochs(&e, 40, 8, 1, false);                 /* 7 %, 8 windows: spin-waiting, no lever */
        struct vs_policy_vm_state sx = vm_state("x");
        assert_int_equal(sx.cls, VS_CLASS_SPIN);
        assert_true(sx.halt_share > 0.05 && sx.halt_share < 0.1);
        assert_int_equal(sx.lever, VS_LEVER_NONE);
        assert_null(vs_policy_value(W.pol, "x", -1, VS_KNOB_FREEZE));
        assert_null(vs_policy_value(W.pol, "x", 0, VS_KNOB_CPUSET));
        /* one more halting window: the memory starts again (1 s from it) */
        pv_epochs(&e, 5, 8, 2, false);
        assert_int_equal(vm_state("x").cls, VS_CLASS_HALT);
        pv_epochs(&e, 45, 8, 0, false);                 /* 900 ms spinning, halting 0 % */
        assert_int_equal(vm_state("x").lever, VS_LEVER_NONE);
        pv_epochs(&e, 5, 8, 0, false);                  /* the window at 2021 ms: retry_ms passed */
        assert_int_equal(vm_state("x").cls, VS_CLASS_SPIN);
        assert_int_equal(vm_state("x").lever, VS_LEVER_COSCHEDULE);
        assert_int_equal(vm_state("x").trial, VS_TRIAL_RUNNING);
        world_done();
}

/* Hysteresis of the halt share: a VM spin-waiting by the class (halted 7 %
 * in every window, below halt_share 10 %) but never seen halting gets no
 * lever either: the windows before a first lever must be calm (halted under
 * 5 %).  Windows halted 7 % and 0 % in turn: the calm ones count, it gets
 * one. */
static void test_classify_calm_before_lever(void **state) {
        for (int pct = 7; pct >= 4; pct -= 3) {
                int e = 0;
                classify_init(true, true, false);
                /* 7 %: 1 halting epoch in every window of 5; else 1 in every other window */
                const unsigned tr[2] = { 8, 8 };
                for (int k = 0; k < 40; k++, e++) {
                        uint64_t t = 1 * MS + (uint64_t) e * 20 * MS;
                        two_vm_epoch(t, tr, true, pct == 7 ? e % 5 == 1 : e % 10 == 1);
                        epoch(t + 20 * MS);
                }
                struct vs_policy_vm_state sx = vm_state("x");
                assert_int_equal(sx.cls, VS_CLASS_SPIN);
                assert_int_equal(sx.halted_until, 0);    /* never classified halting */
                if (pct == 7) {
                        assert_true(sx.halt_share > 0.05 && sx.halt_share < 0.1);
                        assert_int_equal(sx.lever, VS_LEVER_NONE);
                        assert_null(vs_policy_value(W.pol, "x", -1, VS_KNOB_FREEZE));
                        assert_null(vs_policy_value(W.pol, "x", 0, VS_KNOB_CPUSET));
                } else {
                        assert_true(sx.windows > 0);
                        assert_non_null(vs_policy_value(W.pol, "x", -1, VS_KNOB_FREEZE));
                }
                world_done();
        }
}

/* A lever under which the VM answers fewer IPIs than before is released at
 * the end of its first window, even with too few IPIs to call a gain (the
 * old rule waited up to five windows), and not tried again for retry_ms;
 * the next failure of the same lever on that VM waits twice as long. */
static void test_classify_worse_released_in_one_window(void **state) {
        int e = 0;
        unsigned worse = 0;
        classify_init(false, true, false);              /* co-scheduling the only lever */
        run_epochs(&e, 11, 4, true, false, NULL, NULL); /* 2 windows, 40 answered: engaged at 221 ms */
        assert_int_equal(vm_state("x").lever, VS_LEVER_COSCHEDULE);
        double before = vm_state("x").before;
        assert_true(before > 150 && before < 250);
        /* with turns each VM answers 4 per turn it runs: 2 per epoch, 10 or
         * 12 in the window (too few to call a gain) */
        run_epochs(&e, 4, 4, false, false, "lever released: the VM did worse with it", &worse);
        assert_int_equal(worse, 0);
        assert_int_equal(vm_state("x").trial, VS_TRIAL_RUNNING);
        run_epochs(&e, 1, 4, false, false, NULL, NULL);
        /* (x held its turn: the release wrote nothing for it, y was frozen) */
        assert_true(worse > 0 || strcmp(W.dec[0].vm, "y") == 0);
        struct vs_policy_vm_state sx = vm_state("x");
        assert_int_equal(sx.lever, VS_LEVER_NONE);
        assert_int_equal(sx.trial, VS_TRIAL_NONE);
        assert_true(sx.after < before);
        assert_false(frozen_now("x") || frozen_now("y"));
        uint64_t released_at = 1 * MS + (uint64_t) e * 20 * MS;
        assert_true(sx.banned_until[VS_LEVER_COSCHEDULE] + 20 * MS >= released_at + 1000 * MS &&
                    sx.banned_until[VS_LEVER_COSCHEDULE] <= released_at + 1000 * MS);
        assert_int_equal(sx.failed[VS_LEVER_COSCHEDULE], 1);
        /* nothing written until retry_ms has passed */
        assert_int_equal(run_epochs(&e, 45, 4, true, false, NULL, NULL), 0);    /* up to 1241 ms */
        run_epochs(&e, 5, 4, true, false, NULL, NULL);                          /* the window at 1341 ms */
        assert_int_equal(vm_state("x").lever, VS_LEVER_COSCHEDULE);
        /* worse again: released after one window, the ban doubles */
        for (int k = 0; k < 6 && vm_state("x").lever != VS_LEVER_NONE; k++)
                run_epochs(&e, 1, 4, false, false, NULL, NULL);
        assert_int_equal(vm_state("x").lever, VS_LEVER_NONE);
        released_at = 1 * MS + (uint64_t) e * 20 * MS;
        sx = vm_state("x");
        assert_int_equal(sx.failed[VS_LEVER_COSCHEDULE], 2);
        assert_true(sx.banned_until[VS_LEVER_COSCHEDULE] + 20 * MS >= released_at + 2000 * MS &&
                    sx.banned_until[VS_LEVER_COSCHEDULE] <= released_at + 2000 * MS);
        world_done();
}

/* ---------------------------------------------------------------- priority */

/* A [vm "PATTERN"] section with only priority set. */
static void set_priority(const char *pattern, enum vs_priority pr) {
        struct vs_vm_override *n = realloc(W.cfg.vms, (W.cfg.n_vms + 1) * sizeof(*n));
        assert_non_null(n);
        W.cfg.vms = n;
        n[W.cfg.n_vms] = (struct vs_vm_override) { .pattern = strdup(pattern), .mode = VS_MODE_INHERIT,
                                                   .placement = VS_DEFAULT, .coschedule = VS_DEFAULT,
                                                   .weights = VS_DEFAULT, .idle = -1, .priority = pr };
        assert_non_null(n[W.cfg.n_vms].pattern);
        W.cfg.n_vms++;
}

/* Weights scale by class (factor 2: high x2, low /2, normal untouched), the
 * bounds always hold, and the starvation guard gives a starving vCPU of a
 * low VM at least its real baseline at once. */
static void test_priority_weights(void **state) {
        world_init(2, true, false, false);
        set_priority("h", VS_PRIO_HIGH);
        set_priority("l", VS_PRIO_LOW);
        add_vm("h", 1000, 2);
        add_vm("n", 2000, 2);
        add_vm("l", 3000, 2);
        for (int v = 0; v < 3; v++)
                for (int k = 0; k < 2; k++)
                        sw(1 + (uint64_t) (v * 2 + k), 1, 0, 0, 1000 * (v + 1) + k);
        sw(10, 1, 0, 0, 0);
        epoch(21 * MS);
        for (int k = 0; k < 2; k++) {
                assert_int_equal(weight("h", k), 200);
                assert_int_equal(weight("l", k), 50);
        }
        assert_int_equal(weight("n", 0), 100);   /* normal: untouched (no decision, below) */
        assert_int_equal(weight("n", 1), 100);
        bool reason = false;
        for (unsigned i = 0; i < W.n_dec; i++) {
                assert_string_not_equal(W.dec[i].vm, "n");
                reason |= strcmp(W.dec[i].reason, "weights: low priority") == 0;
        }
        assert_true(reason);
        /* stable: nothing more to decide */
        epoch(41 * MS);
        assert_int_equal(W.n_dec, 0);
        world_done();

        /* the bounds win over the class */
        world_init(2, true, false, false);
        W.cfg.weight_min = 70;
        W.cfg.weight_max = 150;
        W.cfg.priority_factor = 4;
        set_priority("h", VS_PRIO_HIGH);
        set_priority("l", VS_PRIO_LOW);
        add_vm("h", 1000, 2);
        add_vm("l", 3000, 1);                   /* one vCPU: the class applies too */
        sw(1, 1, 0, 0, 1000);
        sw(2, 1, 1000, 1, 1001);
        sw(3, 1, 1001, 1, 3000);
        sw(4, 1, 3000, 1, 0);
        epoch(21 * MS);
        assert_int_equal(weight("h", 0), 150);
        assert_int_equal(weight("h", 1), 150);
        assert_int_equal(weight("l", 0), 70);

        /* l's vCPU waits runnable past starvation_ms: its real baseline at once */
        sw(22 * MS, 1, 0, 0, 0);
        struct vs_event wk = { .ts_ns = 22 * MS, .cpu = 1, .type = VS_EV_WAKEUP };
        wk.wakeup.wakee_tid = 3000;
        wk.wakeup.target_cpu = 1;
        ev(&wk);
        epoch(41 * MS);
        epoch(81 * MS);
        assert_true(weight("l", 0) >= 100);
        bool guard = false;
        for (unsigned i = 0; i < W.n_dec; i++)
                guard |= strcmp(W.dec[i].vm, "l") == 0 && strcmp(W.dec[i].reason, "starvation guard") == 0;
        assert_true(guard);
        world_done();
}

/* Three VMs of two vCPUs take turns on 2 CPUs (as test_coschedule_turns):
 * high gets the first turn and the longest ones, low the shortest, and a
 * low VM is never frozen longer than max_frozen_ms, also when the classes'
 * turns have to shrink to fit it. */
static void priority_turns(uint32_t turn_ms, uint32_t max_frozen_ms, unsigned thawed[3], uint64_t longest[3]) {
        world_init(2, false, false, true);
        W.cfg.turn_ms = turn_ms;
        W.cfg.max_frozen_ms = max_frozen_ms;
        set_priority("h", VS_PRIO_HIGH);
        set_priority("l", VS_PRIO_LOW);
        const char *names[3] = { "l", "n", "h" };     /* high last in table order */
        for (int v = 0; v < 3; v++)
                add_vm(names[v], 1000 * (v + 1), 2);
        uint64_t frozen_for[3] = {};
        for (int e = 0; e < 70; e++) {
                uint64_t t = 1 * MS + (uint64_t) e * 20 * MS;
                for (int v = 0; v < 3; v++) {
                        int32_t base = 1000 * (v + 1), other = 1000 * ((v + 1) % 3 + 1);
                        sw(t, 1, 0, 0, base);
                        sw(t + 1, 0, base + 1, 0x100, other);
                        ipi(t + 2, base, 1);
                        sw(t + 3 * MS, 0, other, 1, base + 1);
                        eoi(t + 4 * MS, base + 1, 1);
                }
                epoch(t + 20 * MS);
                if (e == 0) {
                        /* the rotation starts with the high VM */
                        assert_false(frozen_now("h"));
                        assert_true(frozen_now("l") && frozen_now("n"));
                }
                for (int v = 0; v < 3; v++) {
                        if (!frozen_now(names[v])) {
                                thawed[v]++;
                                frozen_for[v] = 0;
                        } else {
                                frozen_for[v] += 20;
                                if (frozen_for[v] > longest[v])
                                        longest[v] = frozen_for[v];
                        }
                }
        }
        world_done();
}

static void test_priority_turns(void **state) {
        unsigned thawed[3] = {};
        uint64_t longest[3] = {};

        /* factor 2, turn 40: h 80 ms, n 40, l 20 (bound 200 ms not reached) */
        priority_turns(40, 200, thawed, longest);
        assert_true(thawed[2] > thawed[1]);
        assert_true(thawed[1] > thawed[0]);
        assert_true(thawed[0] >= 8);            /* low still gets its turns */
        for (int v = 0; v < 3; v++)
                assert_true(longest[v] <= 200);

        /* a tight bound: the turns shrink together, nobody (low included)
         * waits longer than max_frozen_ms */
        memset(thawed, 0, sizeof(thawed));
        memset(longest, 0, sizeof(longest));
        priority_turns(40, 60, thawed, longest);
        assert_true(thawed[2] > thawed[0]);
        assert_true(thawed[0] >= 15);
        for (int v = 0; v < 3; v++)
                assert_true(longest[v] <= 60);
}

/* One epoch of VM "h" (3 vCPUs, tids 1000..): vCPU 0 sends 10 IPIs each to
 * vCPUs 1 and 2 while vCPU 1 sits preempted by vCPU 2 on CPU @cpu. */
static void h_epoch(uint64_t t, int cpu) {
        sw(t, cpu, 1001, 0x100, 1002);
        for (int i = 0; i < 10; i++) {
                ipi(t + MS + (uint64_t) i * 1000, 1000, 1);
                ipi(t + MS + (uint64_t) i * 1000 + 500, 1000, 2);
        }
        sw(t + 15 * MS, cpu, 1002, 1, 1001);
        eoi(t + 16 * MS, 1001, 1);
        eoi(t + 16 * MS + 1, 1002, 2);
}

/* One epoch of VM "l" (6 vCPUs, tids 5000..): vCPU 0 preempted by vCPU 1 on
 * CPU @cpu while the others IPI it (vCPU 0 is its busiest). */
static void l_epoch(uint64_t t, int cpu) {
        sw(t, cpu, 5000, 0x100, 5001);
        for (int k = 1; k < 6; k++)
                ipi(t + 1 * MS + (uint64_t) k, 5000 + k, 0);
        sw(t + 15 * MS, cpu, 5001, 1, 5000);
        eoi(t + 16 * MS, 5000, 0);
}

static void place_init(bool classes) {
        world_init(6, false, true, false);
        if (classes) {
                set_priority("h", VS_PRIO_HIGH);
                set_priority("l", VS_PRIO_LOW);
        }
        add_vm("l", 5000, 6);                   /* 9 vCPU threads on 6 CPUs */
        add_vm("h", 1000, 3);
        for (int k = 0; k < 6; k++)
                sw(1 + (uint64_t) k, 5, 0, 0, 5000 + k);
        for (int k = 0; k < 3; k++)
                sw(10 + (uint64_t) k, 4, 0, 0, 1000 + k);
}

/* Placement: a higher class picks its CPUs first; a lower-class VM's
 * busiest vCPU goes where the higher class's busiest vCPUs are not; a
 * higher-class VM placed later never moves, the lower one moves instead. */
static void test_priority_placement(void **state) {
        /* control, every VM normal: both VMs' busiest vCPUs get CPU 0 */
        place_init(false);
        h_epoch(1 * MS, 0);
        l_epoch(1 * MS, 1);
        epoch(21 * MS);
        assert_string_equal(vs_policy_value(W.pol, "h", 0, VS_KNOB_CPUSET), "0,3");
        assert_string_equal(vs_policy_value(W.pol, "l", 0, VS_KNOB_CPUSET), "0");
        world_done();

        /* h high, l low, both waiting at once: h as if alone, l's busiest
         * vCPU avoids CPUs 0 and 3 (h's busiest vCPU) */
        place_init(true);
        h_epoch(1 * MS, 0);
        l_epoch(1 * MS, 1);
        epoch(21 * MS);
        assert_string_equal(vs_policy_value(W.pol, "h", 0, VS_KNOB_CPUSET), "0,3");
        const char *l0 = vs_policy_value(W.pol, "l", 0, VS_KNOB_CPUSET);
        assert_non_null(l0);
        assert_false(list_has(l0, 0) || list_has(l0, 3));
        world_done();

        /* l placed first (h quiet), then h starts waiting: h is placed as
         * if l were not there, and l is the one that moves */
        place_init(true);
        l_epoch(1 * MS, 1);
        epoch(21 * MS);
        assert_string_equal(vs_policy_value(W.pol, "l", 0, VS_KNOB_CPUSET), "0");
        assert_null(vs_policy_value(W.pol, "h", 0, VS_KNOB_CPUSET));
        char h_first[3][VS_VALUE_MAX];
        bool moved = false;
        for (int e = 1; e < 8; e++) {
                uint64_t t = 1 * MS + (uint64_t) e * 20 * MS;
                h_epoch(t, 0);
                l_epoch(t, 1);
                epoch(t + 20 * MS);
                for (unsigned i = 0; i < W.n_dec; i++)
                        moved |= strcmp(W.dec[i].vm, "l") == 0 &&
                                 strcmp(W.dec[i].reason, "placement: moved for a higher-priority VM") == 0;
                for (int k = 0; k < 3; k++) {
                        const char *c = vs_policy_value(W.pol, "h", k, VS_KNOB_CPUSET);
                        assert_non_null(c);
                        if (e == 1)
                                snprintf(h_first[k], sizeof(h_first[k]), "%s", c);
                        else
                                assert_string_equal(c, h_first[k]);     /* never moved */
                }
        }
        assert_string_equal(h_first[0], "0,3");
        assert_true(moved);
        l0 = vs_policy_value(W.pol, "l", 0, VS_KNOB_CPUSET);
        assert_false(list_has(l0, 0) || list_has(l0, 3));
        world_done();
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_weights_receiver_first),
                cmocka_unit_test(test_idle_cadence),
                cmocka_unit_test(test_caps_by_contention),
                cmocka_unit_test(test_oscillation_halves),
                cmocka_unit_test(test_rate_limit_and_decay),
                cmocka_unit_test(test_starvation_guard),
                cmocka_unit_test(test_property_conservation),
                cmocka_unit_test(test_placement_apart),
                cmocka_unit_test(test_placement_respects_pinning),
                cmocka_unit_test(test_release_when_no_longer_oversubscribed),
                cmocka_unit_test(test_no_vcpu_contention_no_action),
                cmocka_unit_test(test_coschedule_turns),
                cmocka_unit_test(test_coschedule_not_for_yielding_guests),
                cmocka_unit_test(test_observe_mode_writes_nothing),
                cmocka_unit_test(test_forget_vm),
                cmocka_unit_test(test_classify_spinning_gets_lever),
                cmocka_unit_test(test_classify_halting_left_alone),
                cmocka_unit_test(test_classify_without_ipis),
                cmocka_unit_test(test_classify_avic),
                cmocka_unit_test(test_classify_spin_then_halt_released),
                cmocka_unit_test(test_classify_no_gain_released),
                cmocka_unit_test(test_classify_weight_bounds_and_guard),
                cmocka_unit_test(test_classify_starved_spinner),
                cmocka_unit_test(test_classify_hysteresis),
                cmocka_unit_test(test_reserved_never_placed),
                cmocka_unit_test(test_reserved_placement),
                cmocka_unit_test(test_reserved_pinned_vm),
                cmocka_unit_test(test_classify_pv_kicks_halting),
                cmocka_unit_test(test_classify_halt_memory),
                cmocka_unit_test(test_classify_calm_before_lever),
                cmocka_unit_test(test_classify_worse_released_in_one_window),
                cmocka_unit_test(test_priority_weights),
                cmocka_unit_test(test_priority_turns),
                cmocka_unit_test(test_priority_placement),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
