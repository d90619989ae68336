/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "analysis.h"
#include "macro.h"

/* largest TID cache (entries; 24 bytes each): cleared, not grown, beyond */
#define VS_AN_CACHE_MAX 8192

/* saturating increment of a 32-bit counter */
#define INC32(x) do { if ((x) != UINT32_MAX) (x)++; } while (0)

/* tid -> (analysis VM, vCPU index), refreshed when topology's generation moves */
struct tid_slot {
        int32_t tid;            /* 0 = empty */
        int32_t vm;             /* index into a->vms, -1 = not a vCPU thread */
        int32_t vcpu;
        uint64_t gen;
};


struct vs_analysis {
        struct vs_analysis_config cfg;
        struct vs_topology *topo;
        struct vs_an_vm *vms;
        unsigned n_vms, cap_vms;
        struct vs_an_cpu *cpus;
        unsigned n_cpus;
        struct tid_slot *cache;         /* open addressing, grows with the threads seen */
        unsigned cache_cap, cache_n;
        uint64_t seen[_VS_EV_MAX];
        bool started;
        uint64_t first_ts, last_ts, epoch_start;
        uint64_t topo_vm_map_gen;
        int32_t *topo_vm_map;   /* topology VM index -> analysis VM index */
        unsigned topo_vm_map_n;
};

void vs_analysis_config_default(struct vs_analysis_config *c) {
        *c = (struct vs_analysis_config) {
                .ipi_window_ns = 50ull * 1000 * 1000,
                .yield_window_ns = 600ull * 1000,
                .rate_half_life_ns = 1000ull * 1000 * 1000,
                .epoch_ns = 20ull * 1000 * 1000,
                .yield_cost_ns = 50ull * 1000,
                .pause_cost_ns = 20ull * 1000,
        };
}

int vs_analysis_new(const struct vs_analysis_config *c, struct vs_topology *topo, struct vs_analysis **ret) {
        struct vs_analysis *a = calloc(1, sizeof(*a));

        if (!a)
                return -ENOMEM;
        if (c)
                a->cfg = *c;
        else
                vs_analysis_config_default(&a->cfg);
        if (a->cfg.rate_half_life_ns == 0)
                a->cfg.rate_half_life_ns = 1;
        a->topo = topo;
        *ret = a;
        return 0;
}

static void vm_free(struct vs_an_vm *vm) {
        free(vm->vcpus);
        free(vm->pair_idx);
        free(vm->pairs);
}

void vs_analysis_free(struct vs_analysis *a) {
        if (!a)
                return;
        for (unsigned i = 0; i < a->n_vms; i++)
                vm_free(&a->vms[i]);
        free(a->vms);
        free(a->cpus);
        free(a->topo_vm_map);
        free(a->cache);
        free(a);
}

/* ---------------------------------------------------------------- lookup */

static int vm_get(struct vs_analysis *a, const struct vs_vm *tv) {
        for (unsigned i = 0; i < a->n_vms; i++)
                if (strcmp(a->vms[i].name, tv->name) == 0) {
                        a->vms[i].inferred = tv->inferred;
                        a->vms[i].n_maybe_same = tv->n_maybe_same;
                        memcpy(a->vms[i].maybe_same, tv->maybe_same, sizeof(tv->maybe_same));
                        return (int) i;
                }
        if (a->n_vms == a->cap_vms) {
                unsigned cap = a->cap_vms ? a->cap_vms * 2 : 8;
                struct vs_an_vm *n = realloc(a->vms, cap * sizeof(*n));
                if (!n)
                        return -ENOMEM;
                a->vms = n;
                a->cap_vms = cap;
        }
        struct vs_an_vm *vm = &a->vms[a->n_vms];
        memset(vm, 0, sizeof(*vm));
        snprintf(vm->name, sizeof(vm->name), "%s", tv->name);
        vm->inferred = tv->inferred;
        vm->n_maybe_same = tv->n_maybe_same;
        memcpy(vm->maybe_same, tv->maybe_same, sizeof(tv->maybe_same));
        return (int) a->n_vms++;
}

/* Make room for vCPU index @idx: grow the vCPU array and the pair matrix. */
static int vm_reserve(struct vs_an_vm *vm, unsigned idx) {
        unsigned cap = vm->cap_vcpus ? vm->cap_vcpus : 4;
        struct vs_an_vcpu *v;
        int32_t *m;

        if (idx >= VS_AN_MAX_VCPUS)
                return -E2BIG;
        if (idx < vm->cap_vcpus)
                return 0;
        while (cap <= idx)
                cap *= 2;
        v = realloc(vm->vcpus, cap * sizeof(*v));
        if (!v)
                return -ENOMEM;
        vm->vcpus = v;
        memset(v + vm->cap_vcpus, 0, (cap - vm->cap_vcpus) * sizeof(*v));
        m = malloc((size_t) cap * cap * sizeof(*m));
        if (!m)
                return -ENOMEM;
        for (size_t i = 0; i < (size_t) cap * cap; i++)
                m[i] = -1;
        for (unsigned s = 0; s < vm->cap_vcpus; s++)
                for (unsigned d = 0; d < vm->cap_vcpus; d++)
                        m[s * cap + d] = vm->pair_idx[s * vm->cap_vcpus + d];
        free(vm->pair_idx);
        vm->pair_idx = m;
        for (unsigned i = vm->cap_vcpus; i < cap; i++) {
                v[i].queue_cpu = -1;
                for (unsigned k = 0; k < VS_AN_PENDING; k++)
                        v[i].pending[k].pair = -1;
        }
        vm->cap_vcpus = cap;
        return 0;
}

static bool delayed(enum vs_an_state st) {
        return st == VS_AN_PREEMPTED || st == VS_AN_WOKEN;
}

/* Integrate the VM's stall clocks up to @ts from its running/delayed counts
 * (constant since the last call): any_run_ns, the time some vCPU ran (a
 * delayed vCPU's stalled_ns is its growth while it waits), and stalled_ns. */
static void stall_advance(struct vs_an_vm *m, uint64_t ts) {
        if (m->stall_ts && ts > m->stall_ts && m->n_running) {
                m->any_run_ns += ts - m->stall_ts;
                if (m->n_delayed)
                        m->stalled_ns += ts - m->stall_ts;
        }
        if (ts > m->stall_ts)
                m->stall_ts = ts;
}

/* A vCPU of @m leaves state @old / enters state @st (counts and its own
 * stalled time); @ts already integrated. */
static void stall_leave(struct vs_an_vm *m, struct vs_an_vcpu *v, enum vs_an_state old) {
        if (old == VS_AN_RUNNING && m->n_running)
                m->n_running--;
        else if (delayed(old)) {
                if (m->n_delayed)
                        m->n_delayed--;
                v->stalled_ns += m->any_run_ns - v->stall_mark;
        }
}

static void stall_enter(struct vs_an_vm *m, struct vs_an_vcpu *v, enum vs_an_state st) {
        if (st == VS_AN_RUNNING) {
                if (m->n_delayed)
                        m->stalls++;            /* runs while a sibling waits */
                m->n_running++;
        } else if (delayed(st)) {
                if (m->n_running)
                        m->stalls++;            /* waits while a sibling runs */
                m->n_delayed++;
                v->stall_mark = m->any_run_ns;
        }
}

static struct vs_an_vcpu *vcpu_get(struct vs_an_vm *vm, unsigned idx, int32_t tid) {
        if (vm_reserve(vm, idx) < 0)
                return NULL;
        struct vs_an_vcpu *v = &vm->vcpus[idx];
        if (!v->present) {
                v->present = true;
                v->tid = tid;
                v->queue_cpu = -1;
                if (idx + 1 > vm->n_vcpus)
                        vm->n_vcpus = idx + 1;
        } else if (tid > 0 && v->tid != tid) {
                /* first sight of the thread (the vCPU was known as an IPI target),
                 * or a new thread took this vCPU (hotplug, VM restarted): its
                 * scheduling state starts unknown; queue_cpu stays so the next
                 * state change still balances the run-queue depth */
                if (v->tid > 0) {
                        stall_leave(vm, v, v->state);
                        v->state = VS_AN_UNKNOWN;
                }
                v->tid = tid;
        }
        return v;
}

static int32_t pair_get(struct vs_an_vm *vm, unsigned src, unsigned dst) {
        int32_t *slot;

        if (src >= vm->cap_vcpus || dst >= vm->cap_vcpus)
                return -1;
        slot = &vm->pair_idx[src * vm->cap_vcpus + dst];
        if (*slot >= 0)
                return *slot;
        if (vm->n_pairs == vm->cap_pairs) {
                unsigned cap = vm->cap_pairs ? vm->cap_pairs * 2 : 8;
                struct vs_an_pair *n = realloc(vm->pairs, cap * sizeof(*n));
                if (!n)
                        return -1;
                vm->pairs = n;
                vm->cap_pairs = cap;
        }
        struct vs_an_pair *p = &vm->pairs[vm->n_pairs];
        memset(p, 0, sizeof(*p));
        p->src = (uint16_t) src;
        p->dst = (uint16_t) dst;
        *slot = (int32_t) vm->n_pairs++;
        return *slot;
}

/* topology VM index -> analysis VM index, rebuilt when the generation moves */
static int32_t map_vm(struct vs_analysis *a, int32_t tvm, uint64_t gen) {
        if (tvm < 0)
                return -1;
        if (a->topo_vm_map_gen != gen || (unsigned) tvm >= a->topo_vm_map_n) {
                unsigned n = vs_topology_n_vms(a->topo);
                int32_t *m = realloc(a->topo_vm_map, (n + 1) * sizeof(*m));
                if (!m)
                        return -1;
                a->topo_vm_map = m;
                a->topo_vm_map_n = n;
                for (unsigned i = 0; i < n; i++)
                        m[i] = -2;      /* not looked up yet */
                a->topo_vm_map_gen = gen;
        }
        if ((unsigned) tvm >= a->topo_vm_map_n)
                return -1;
        if (a->topo_vm_map[tvm] == -2) {
                const struct vs_vm *tv = vs_topology_vm(a->topo, tvm);
                a->topo_vm_map[tvm] = tv ? vm_get(a, tv) : -1;
        }
        return a->topo_vm_map[tvm];
}

static inline unsigned tid_hash(int32_t tid, unsigned cap) {
        return ((uint32_t) tid * 2654435761u) & (cap - 1);
}

/* Forget every cached TID (keeps the table): after a VM was dropped, or when
 * the cache is full at its largest size. */
static void cache_clear(struct vs_analysis *a) {
        if (a->cache)
                memset(a->cache, 0, a->cache_cap * sizeof(*a->cache));
        a->cache_n = 0;
}

static struct tid_slot *cache_slot(struct vs_analysis *a, int32_t tid) {
        if ((a->cache_n + 1) * 2 > a->cache_cap && a->cache_cap >= VS_AN_CACHE_MAX)
                /* A host's threads come and go; the cache must not grow with
                 * every TID ever seen.  Entries are refilled from topology. */
                cache_clear(a);
        if ((a->cache_n + 1) * 2 > a->cache_cap) {
                unsigned cap = a->cache_cap ? a->cache_cap * 2 : 1024;
                struct tid_slot *n = calloc(cap, sizeof(*n));
                if (!n)
                        return NULL;
                for (unsigned i = 0; i < a->cache_cap; i++) {
                        if (!a->cache[i].tid)
                                continue;
                        unsigned h = tid_hash(a->cache[i].tid, cap);
                        while (n[h].tid)
                                h = (h + 1) & (cap - 1);
                        n[h] = a->cache[i];
                }
                free(a->cache);
                a->cache = n;
                a->cache_cap = cap;
        }
        unsigned h = tid_hash(tid, a->cache_cap);
        while (a->cache[h].tid && a->cache[h].tid != tid)
                h = (h + 1) & (a->cache_cap - 1);
        if (!a->cache[h].tid) {
                a->cache[h].tid = tid;
                a->cache[h].gen = UINT64_MAX;
                a->cache_n++;
        }
        return &a->cache[h];
}

/* Resolve a TID to (vm, vcpu) through the cache; false if not a vCPU thread. */
static bool resolve(struct vs_analysis *a, int32_t tid, int32_t *ret_vm, int32_t *ret_vcpu) {
        uint64_t gen;
        struct tid_slot *s;
        const struct vs_thread *th;

        if (tid <= 0)
                return false;
        gen = vs_topology_generation(a->topo);
        s = cache_slot(a, tid);
        if (!s)
                return false;
        if (s->gen == gen) {
                *ret_vm = s->vm;
                *ret_vcpu = s->vcpu;
                return s->vm >= 0;
        }
        s->gen = gen;
        s->vm = s->vcpu = -1;
        th = vs_topology_thread(a->topo, tid);
        if (th && th->is_vcpu && th->vm >= 0) {
                int32_t idx = vs_topology_vcpu_of(a->topo, tid);
                int vm = idx >= 0 && idx < VS_AN_MAX_VCPUS ? map_vm(a, th->vm, gen) : -1;
                if (vm >= 0 && vcpu_get(&a->vms[vm], (unsigned) idx, tid)) {
                        s->vm = vm;
                        s->vcpu = idx;
                }
        }
        *ret_vm = s->vm;
        *ret_vcpu = s->vcpu;
        return s->vm >= 0;
}

/* The analysis VM of a topology VM index (for resolving APIC IDs to vCPUs). */
static int32_t topo_vm_of(struct vs_analysis *a, int32_t tid) {
        const struct vs_thread *th = vs_topology_thread(a->topo, tid);
        return th ? th->vm : -1;
}

/* ---------------------------------------------------------------- run queues */

static struct vs_an_cpu *cpu_get(struct vs_analysis *a, int32_t cpu) {
        if (cpu < 0 || cpu >= 65536)
                return NULL;
        if ((unsigned) cpu >= a->n_cpus) {
                unsigned n = (unsigned) cpu + 1;
                struct vs_an_cpu *c = realloc(a->cpus, n * sizeof(*c));
                if (!c)
                        return NULL;
                memset(c + a->n_cpus, 0, (n - a->n_cpus) * sizeof(*c));
                a->cpus = c;
                a->n_cpus = n;
        }
        return &a->cpus[cpu];
}

static void depth_advance(struct vs_an_cpu *c, uint64_t ts) {
        if (!c->started) {
                c->started = true;
                c->last_ts = ts;
                return;
        }
        if (ts > c->last_ts) {
                double d = (double) c->depth * (double) (ts - c->last_ts);
                c->depth_ns += d;
                c->epoch_depth_ns += d;
        }
        if (ts > c->last_ts)
                c->last_ts = ts;
}

static void queue_enter(struct vs_analysis *a, struct vs_an_vcpu *v, int32_t cpu, uint64_t ts) {
        struct vs_an_cpu *c = cpu_get(a, cpu);

        if (!c || v->queue_cpu >= 0)
                return;
        depth_advance(c, ts);
        c->depth++;
        c->queued = true;
        v->queue_cpu = cpu;
}

static void queue_leave(struct vs_analysis *a, struct vs_an_vcpu *v, uint64_t ts) {
        struct vs_an_cpu *c;

        if (v->queue_cpu < 0)
                return;
        c = cpu_get(a, v->queue_cpu);
        v->queue_cpu = -1;
        if (!c)
                return;
        depth_advance(c, ts);
        if (c->depth > 0)
                c->depth--;
}

/* ---------------------------------------------------------------- state */

static void leave_state(struct vs_analysis *a, struct vs_an_vcpu *v, uint64_t ts) {
        uint64_t d = ts > v->state_since ? ts - v->state_since : 0;

        if (v->state == VS_AN_PREEMPTED)
                v->preempted_ns += d;
        else if (v->state == VS_AN_WOKEN)
                v->waiting_ns += d;
        else if (v->state == VS_AN_RUNNING)
                v->running_ns += d;
        else if (v->state == VS_AN_BLOCKED)
                v->blocked_ns += d;
        queue_leave(a, v, ts);
}

static void set_state(struct vs_analysis *a, struct vs_an_vcpu *v, enum vs_an_state st, uint64_t ts) {
        leave_state(a, v, ts);
        v->state = st;
        v->state_since = ts;
}

/* set_state() for a vCPU of VM @m, with the stall bookkeeping: O(1). */
static void vcpu_set_state(struct vs_analysis *a, struct vs_an_vm *m, unsigned idx, enum vs_an_state st, uint64_t ts) {
        struct vs_an_vcpu *v = &m->vcpus[idx];

        stall_advance(m, ts);
        stall_leave(m, v, v->state);
        set_state(a, v, st, ts);
        stall_enter(m, v, st);
}

static void expire_pending(struct vs_analysis *a, struct vs_an_vm *vm, struct vs_an_vcpu *v, uint64_t ts,
                           bool all) {
        for (unsigned k = 0; k < VS_AN_PENDING; k++) {
                struct vs_an_pending *p = &v->pending[k];
                if (p->pair < 0)
                        continue;
                if (all || ts - p->ts > a->cfg.ipi_window_ns) {
                        INC32(vm->pairs[p->pair].expired);
                        p->pair = -1;
                }
        }
}

static void on_switch(struct vs_analysis *a, const struct vs_event *ev) {
        int32_t vm, idx, nvm, nidx;
        bool next_vcpu = resolve(a, ev->sw.next_tid, &nvm, &nidx);

        if (resolve(a, ev->sw.prev_tid, &vm, &idx)) {
                struct vs_an_vm *m = &a->vms[vm];
                struct vs_an_vcpu *v = &m->vcpus[idx];
                int64_t st = ev->sw.prev_state;

                if (st & 0x30) {                        /* X (dead) or Z (zombie): the thread exits */
                        vcpu_set_state(a, m, (unsigned) idx, VS_AN_EXITED, ev->ts_ns);
                        expire_pending(a, m, v, ev->ts_ns, true);
                } else if (vs_prev_state_runnable(st)) {
                        vcpu_set_state(a, m, (unsigned) idx, VS_AN_PREEMPTED, ev->ts_ns);
                        v->preemptions++;
                        if (next_vcpu)
                                v->vcpu_preemptions++;
                        queue_enter(a, v, ev->cpu, ev->ts_ns);
                } else
                        vcpu_set_state(a, m, (unsigned) idx, VS_AN_BLOCKED, ev->ts_ns);
        }
        if (next_vcpu)
                vcpu_set_state(a, &a->vms[nvm], (unsigned) nidx, VS_AN_RUNNING, ev->ts_ns);
}

static void on_wakeup(struct vs_analysis *a, const struct vs_event *ev) {
        int32_t vm, idx;
        struct vs_an_vcpu *v;

        if (ev->flags & VS_EVF_KVM_WAKEUP)
                return;         /* fires in the vCPU itself, which is running */
        if (!resolve(a, ev->wakeup.wakee_tid, &vm, &idx))
                return;
        v = &a->vms[vm].vcpus[idx];
        if (v->state == VS_AN_RUNNING || v->state == VS_AN_PREEMPTED || v->state == VS_AN_WOKEN)
                return;         /* already runnable: a spurious or repeated wakeup */
        vcpu_set_state(a, &a->vms[vm], (unsigned) idx, VS_AN_WOKEN, ev->ts_ns);
        queue_enter(a, v, ev->wakeup.target_cpu, ev->ts_ns);
}

static void rate_bump(struct vs_analysis *a, struct vs_an_pair *p, uint64_t ts) {
        if (p->rate_ts && ts > p->rate_ts)
                p->rate_acc *= (float) exp2(-(double) (ts - p->rate_ts) / (double) a->cfg.rate_half_life_ns);
        p->rate_acc += 1.0f;
        if (ts > p->rate_ts)
                p->rate_ts = ts;
}

/* One IPI src -> dst (unicast or a PV bitmap bit). */
static void ipi_edge(struct vs_analysis *a, struct vs_an_vm *m, int32_t src, int32_t dst, uint8_t vector,
                     uint64_t ts, bool pv) {
        struct vs_an_vcpu *s = &m->vcpus[src], *d;
        struct vs_an_pair *p;
        int32_t pi;
        unsigned slot = 0;
        uint64_t oldest = UINT64_MAX;

        if (!vcpu_get(m, (unsigned) dst, 0)) {
                m->unresolved++;
                s->unresolved_out++;
                return;
        }
        s = &m->vcpus[src];     /* vcpu_get may have moved the array */
        d = &m->vcpus[dst];
        pi = pair_get(m, (unsigned) src, (unsigned) dst);
        if (pi < 0)
                return;
        p = &m->pairs[pi];
        p->ipis++;
        if (pv)
                INC32(p->ipis_pv);
        INC32(p->at_state[d->state]);
        rate_bump(a, p, ts);
        s->ipis_out++;
        d->ipis_in++;

        expire_pending(a, m, d, ts, false);
        for (unsigned k = 0; k < VS_AN_PENDING; k++) {
                if (d->pending[k].pair < 0) {
                        slot = k;
                        oldest = 0;
                        break;
                }
                if (d->pending[k].ts < oldest) {
                        oldest = d->pending[k].ts;
                        slot = k;
                }
        }
        if (d->pending[slot].pair >= 0)
                INC32(m->pairs[d->pending[slot].pair].expired);     /* overflow: drop the oldest */
        d->pending[slot] = (struct vs_an_pending) {
                .ts = ts, .pair = pi, .vector = vector, .not_running = d->state != VS_AN_RUNNING,
                .runnable = d->state == VS_AN_PREEMPTED || d->state == VS_AN_WOKEN,
        };
}

static void on_ipi(struct vs_analysis *a, const struct vs_event *ev) {
        int32_t vm, src, dst;
        struct vs_an_vm *m;

        if (!resolve(a, ev->tid, &vm, &src))
                return;
        m = &a->vms[vm];
        if (!vs_ipi_is_unicast(ev)) {
                if (ev->ipi.delivery_mode == VS_DM_FIXED || ev->ipi.delivery_mode == VS_DM_LOWPRIO) {
                        m->multicast++;
                        m->vcpus[src].multicast_out++;
                }
                return;
        }
        dst = vs_topology_vcpu_of_apic(a->topo, topo_vm_of(a, ev->tid), ev->ipi.dest_apic);
        if (dst < 0 || dst >= VS_AN_MAX_VCPUS) {
                m->unresolved++;
                m->vcpus[src].unresolved_out++;
                return;
        }
        ipi_edge(a, m, src, dst, ev->ipi.vector, ev->ts_ns, false);
}

static void on_eoi(struct vs_analysis *a, const struct vs_event *ev) {
        int32_t vm, idx;
        struct vs_an_vm *m;
        struct vs_an_vcpu *v;

        if (!resolve(a, ev->tid, &vm, &idx))
                return;
        m = &a->vms[vm];
        v = &m->vcpus[idx];
        v->eois++;
        for (unsigned k = 0; k < VS_AN_PENDING; k++) {
                struct vs_an_pending *p = &v->pending[k];
                struct vs_an_pair *pr;
                uint64_t lat;

                if (p->pair < 0 || p->vector != (uint8_t) ev->eoi.vector || ev->eoi.vector < 0 ||
                    ev->eoi.vector > 255)
                        continue;
                pr = &m->pairs[p->pair];
                lat = ev->ts_ns >= p->ts ? ev->ts_ns - p->ts : 0;
                if (lat > a->cfg.ipi_window_ns) {
                        INC32(pr->expired);
                } else {
                        INC32(pr->eoi_matched);
                        pr->lat_sum_ns += lat;
                        if (lat > pr->lat_max_ns)
                                pr->lat_max_ns = (uint32_t) lat;      /* <= the window, 50 ms */
                        vs_hist_add(&pr->lat, lat);
                        if (p->runnable)
                                pr->preempted_wait_ns += lat;
                        if (p->not_running) {
                                v->cause_ns += lat;
                                v->epoch_cause_ns += lat;
                        }
                }
                p->pair = -1;
        }
}

static void yield_edge(struct vs_analysis *a, struct vs_an_vm *m, int32_t src, int32_t dst, uint64_t ts,
                       bool kick) {
        struct vs_an_pair *p, *rev;
        int32_t pi, ri;

        if (dst < 0 || dst >= VS_AN_MAX_VCPUS || !vcpu_get(m, (unsigned) dst, 0))
                return;
        pi = pair_get(m, (unsigned) src, (unsigned) dst);
        ri = pair_get(m, (unsigned) dst, (unsigned) src);
        if (pi < 0 || ri < 0)
                return;
        p = &m->pairs[pi];
        rev = &m->pairs[ri];
        if (kick)
                INC32(p->kicks);
        INC32(p->yields);
        m->vcpus[src].yields_out++;
        m->vcpus[src].waste_ns += a->cfg.yield_cost_ns;
        m->vcpus[src].epoch_waste_ns += a->cfg.yield_cost_ns;
        m->vcpus[dst].yields_in++;
        m->vcpus[dst].cause_ns += a->cfg.yield_cost_ns;
        m->vcpus[dst].epoch_cause_ns += a->cfg.yield_cost_ns;
        if (src != dst && rev->yield_last_ts && ts >= rev->yield_last_ts &&
            ts - rev->yield_last_ts <= a->cfg.yield_window_ns) {
                INC32((src < dst ? p : rev)->oscillations);
                rev->yield_last_ts = 0;         /* one reversal counts once */
        }
        p->yield_last_ts = ts ? ts : 1;
}

static void on_hypercall(struct vs_analysis *a, const struct vs_event *ev) {
        int32_t vm, src, tvm;
        struct vs_an_vm *m;

        if (!resolve(a, ev->tid, &vm, &src))
                return;
        m = &a->vms[vm];
        tvm = topo_vm_of(a, ev->tid);
        switch (ev->hc.nr) {
        case VS_HC_KICK_CPU:
        case VS_HC_SCHED_YIELD: {
                uint64_t apic = ev->hc.nr == VS_HC_KICK_CPU ? ev->hc.a1 : ev->hc.a0;
                if (apic > UINT32_MAX)
                        return;
                yield_edge(a, m, src, vs_topology_vcpu_of_apic(a->topo, tvm, (uint32_t) apic), ev->ts_ns,
                           ev->hc.nr == VS_HC_KICK_CPU);
                return;
        }
        case VS_HC_SEND_IPI:
                /* a0/a1: 128-bit bitmap of APIC IDs from a2 (min); a3: ICR (vector in the low byte) */
                for (unsigned w = 0; w < 2; w++) {
                        uint64_t bits = w ? ev->hc.a1 : ev->hc.a0;
                        while (bits) {
                                unsigned b = (unsigned) __builtin_ctzll(bits);
                                uint64_t apic = ev->hc.a2 + w * 64 + b;
                                int32_t dst;
                                bits &= bits - 1;
                                if (apic > UINT32_MAX)
                                        continue;
                                dst = vs_topology_vcpu_of_apic(a->topo, tvm, (uint32_t) apic);
                                if (dst < 0 || dst >= VS_AN_MAX_VCPUS) {
                                        m->unresolved++;
                                        m->vcpus[src].unresolved_out++;
                                        continue;
                                }
                                ipi_edge(a, m, src, dst, (uint8_t) ev->hc.a3, ev->ts_ns, true);
                                m = &a->vms[vm];
                        }
                }
                return;
        default:
                return;
        }
}

static void on_avic(struct vs_analysis *a, const struct vs_event *ev) {
        int32_t vm, src, dst;
        struct vs_an_vm *m;
        uint32_t icrl = ev->avic.icrl;

        if (ev->avic.id != 1 /* AVIC_IPI_FAILURE_TARGET_NOT_RUNNING */ || !resolve(a, ev->tid, &vm, &src))
                return;
        if ((icrl & (1u << 11)) || ((icrl >> 18) & 3))
                return;         /* logical / shorthand: no single target */
        m = &a->vms[vm];
        /* xAPIC destination in ICR high bits 31:24; x2APIC uses the whole word */
        dst = vs_topology_vcpu_of_apic(a->topo, topo_vm_of(a, ev->tid),
                                       ev->avic.icrh > 0xffffff ? ev->avic.icrh >> 24 : ev->avic.icrh);
        if (dst < 0 || dst >= VS_AN_MAX_VCPUS || !vcpu_get(m, (unsigned) dst, 0))
                return;
        int32_t pi = pair_get(m, (unsigned) src, (unsigned) dst);
        if (pi >= 0)
                INC32(m->pairs[pi].avic_not_running);
}

/* kernel/ patch: the spinner (the thread it fires in) yielded to target */
static void on_directed_yield(struct vs_analysis *a, const struct vs_event *ev) {
        int32_t vm, src, dst, pi;
        struct vs_an_vm *m;

        if (ev->dy.reason >= _VS_DY_MAX || !resolve(a, ev->tid, &vm, &src))
                return;
        m = &a->vms[vm];
        m->dy_skipped_total += ev->dy.skipped;
        for (unsigned r = 0; r < _VS_DY_MAX; r++)
                if (ev->dy.skipped_mask & (1u << r))
                        m->dy_skipped[r]++;
        if (ev->dy.target == VS_DY_NO_TARGET) {
                m->dy_no_target++;
                return;
        }
        dst = vs_topology_vcpu_of_apic(a->topo, topo_vm_of(a, ev->tid), ev->dy.target);
        if (dst < 0 || dst >= VS_AN_MAX_VCPUS || !vcpu_get(m, (unsigned) dst, 0))
                return;
        pi = pair_get(m, (unsigned) src, (unsigned) dst);
        if (pi >= 0)
                INC32(m->pairs[pi].dy[ev->dy.reason][ev->dy.result > 0 ? 0 : 1]);
}

static void epoch_roll(struct vs_analysis *a, uint64_t ts) {
        double len = (double) (ts - a->epoch_start);

        for (unsigned i = 0; i < a->n_vms; i++) {
                struct vs_an_vm *m = &a->vms[i];
                for (unsigned v = 0; v < m->n_vcpus; v++) {
                        struct vs_an_vcpu *c = &m->vcpus[v];
                        c->last_cause_ns = c->epoch_cause_ns;
                        c->last_waste_ns = c->epoch_waste_ns;
                        c->epoch_cause_ns = c->epoch_waste_ns = 0;
                }
        }
        for (unsigned i = 0; i < a->n_cpus; i++) {
                struct vs_an_cpu *c = &a->cpus[i];
                depth_advance(c, ts);
                c->last_epoch_avg = len > 0 ? c->epoch_depth_ns / len : 0;
                c->epoch_depth_ns = 0;
        }
        a->epoch_start = ts;
}

int vs_analysis_event(struct vs_analysis *a, const struct vs_event *ev) {
        int32_t vm, idx;

        if (ev->type >= _VS_EV_MAX)
                return 0;
        a->seen[ev->type]++;
        if (!a->started) {
                a->started = true;
                a->first_ts = a->last_ts = ev->ts_ns;
                a->epoch_start = ev->ts_ns;
        }
        if (ev->ts_ns > a->last_ts)
                a->last_ts = ev->ts_ns;
        if (a->cfg.epoch_ns && ev->ts_ns >= a->epoch_start + a->cfg.epoch_ns)
                epoch_roll(a, ev->ts_ns);

        switch (ev->type) {
        case VS_EV_SWITCH:
                on_switch(a, ev);
                break;
        case VS_EV_WAKEUP:
                on_wakeup(a, ev);
                break;
        case VS_EV_IPI:
                on_ipi(a, ev);
                break;
        case VS_EV_EOI:
                on_eoi(a, ev);
                break;
        case VS_EV_HYPERCALL:
                on_hypercall(a, ev);
                break;
        case VS_EV_AVIC_INCOMPLETE_IPI:
                on_avic(a, ev);
                break;
        case VS_EV_DIRECTED_YIELD:
                on_directed_yield(a, ev);
                break;
        case VS_EV_EXIT_PAUSE:
                if (resolve(a, ev->tid, &vm, &idx)) {
                        struct vs_an_vcpu *v = &a->vms[vm].vcpus[idx];
                        v->pause_exits++;
                        v->waste_ns += a->cfg.pause_cost_ns;
                        v->epoch_waste_ns += a->cfg.pause_cost_ns;
                }
                break;
        case VS_EV_PLE_WINDOW:
                if (resolve(a, ev->tid, &vm, &idx)) {
                        struct vs_an_vcpu *v = &a->vms[vm].vcpus[idx];
                        if (ev->ple.new_window > ev->ple.old_window)
                                v->ple_grows++;
                        if (ev->ple.new_window > v->ple_max)
                                v->ple_max = ev->ple.new_window;
                }
                break;
        default:
                break;
        }
        return 0;
}

void vs_analysis_finish(struct vs_analysis *a, uint64_t ts) {
        if (ts < a->last_ts)
                ts = a->last_ts;
        for (unsigned i = 0; i < a->n_vms; i++) {
                struct vs_an_vm *m = &a->vms[i];
                stall_advance(m, ts);
                for (unsigned v = 0; v < m->n_vcpus; v++) {
                        struct vs_an_vcpu *c = &m->vcpus[v];
                        if (!c->present)
                                continue;
                        if (delayed(c->state)) {
                                c->stalled_ns += m->any_run_ns - c->stall_mark;
                                c->stall_mark = m->any_run_ns;
                        }
                        leave_state(a, c, ts);
                        c->state_since = ts;
                        /* an IPI still pending at the end has not been answered yet:
                         * count it expired only when the window has passed */
                        expire_pending(a, m, c, ts, false);
                }
        }
        epoch_roll(a, ts);
}

/* ---------------------------------------------------------------- forgetting */

int vs_analysis_forget_vm(struct vs_analysis *a, const char *name) {
        unsigned i;

        for (i = 0; i < a->n_vms; i++)
                if (strcmp(a->vms[i].name, name) == 0)
                        break;
        if (i == a->n_vms)
                return 0;
        /* its vCPUs leave the run queues they were counted in */
        for (unsigned v = 0; v < a->vms[i].n_vcpus; v++)
                if (a->vms[i].vcpus[v].present)
                        queue_leave(a, &a->vms[i].vcpus[v], a->last_ts);
        vm_free(&a->vms[i]);
        memmove(&a->vms[i], &a->vms[i + 1], (a->n_vms - i - 1) * sizeof(*a->vms));
        a->n_vms--;
        /* analysis VM indices moved: the caches are looked up again */
        cache_clear(a);
        a->topo_vm_map_gen = UINT64_MAX;
        if (a->n_vms == 0) {
                free(a->vms);
                a->vms = NULL;
                a->cap_vms = 0;
        }
        return 1;
}

/* ---------------------------------------------------------------- queries */

unsigned vs_analysis_n_vms(const struct vs_analysis *a) {
        return a->n_vms;
}

const struct vs_an_vm *vs_analysis_vm(const struct vs_analysis *a, unsigned i) {
        return i < a->n_vms ? &a->vms[i] : NULL;
}

const struct vs_an_vm *vs_analysis_vm_by_name(const struct vs_analysis *a, const char *name) {
        for (unsigned i = 0; i < a->n_vms; i++)
                if (strcmp(a->vms[i].name, name) == 0)
                        return &a->vms[i];
        return NULL;
}

const struct vs_an_pair *vs_analysis_pair(const struct vs_an_vm *vm, unsigned src, unsigned dst) {
        if (src >= vm->cap_vcpus || dst >= vm->cap_vcpus)
                return NULL;
        int32_t i = vm->pair_idx[src * vm->cap_vcpus + dst];
        return i >= 0 ? &vm->pairs[i] : NULL;
}

void vs_an_vcpu_times(const struct vs_an_vcpu *v, uint64_t now, uint64_t *run, uint64_t *delay, uint64_t *blocked) {
        uint64_t d = v->present && now > v->state_since ? now - v->state_since : 0;

        *run = v->running_ns + (v->state == VS_AN_RUNNING ? d : 0);
        *delay = v->preempted_ns + v->waiting_ns + (v->state == VS_AN_PREEMPTED || v->state == VS_AN_WOKEN ? d : 0);
        *blocked = v->blocked_ns + (v->state == VS_AN_BLOCKED ? d : 0);
}

uint64_t vs_an_pair_not_running(const struct vs_an_pair *p) {
        return (uint64_t) p->at_state[VS_AN_PREEMPTED] + p->at_state[VS_AN_WOKEN] + p->at_state[VS_AN_BLOCKED];
}

double vs_analysis_pair_rate(const struct vs_analysis *a, const struct vs_an_pair *p, uint64_t ts) {
        double acc = p->rate_acc;

        if (p->rate_ts && ts > p->rate_ts)
                acc *= exp2(-(double) (ts - p->rate_ts) / (double) a->cfg.rate_half_life_ns);
        /* a decayed count with half-life H approximates rate * H / ln 2 */
        return acc * M_LN2 / ((double) a->cfg.rate_half_life_ns / 1e9);
}

unsigned vs_analysis_n_cpus(const struct vs_analysis *a) {
        return a->n_cpus;
}

double vs_analysis_cpu_depth(const struct vs_analysis *a, unsigned cpu) {
        double span = (double) (a->last_ts - a->first_ts);

        if (cpu >= a->n_cpus || span <= 0)
                return 0;
        return a->cpus[cpu].depth_ns / span;
}

uint64_t vs_analysis_seen(const struct vs_analysis *a, enum vs_event_type t) {
        return (unsigned) t < _VS_EV_MAX ? a->seen[t] : 0;
}

uint64_t vs_analysis_last_ts(const struct vs_analysis *a) {
        return a->last_ts;
}

uint64_t vs_analysis_first_ts(const struct vs_analysis *a) {
        return a->first_ts;
}

const struct vs_an_cpu *vs_analysis_cpu(const struct vs_analysis *a, unsigned cpu) {
        return cpu < a->n_cpus ? &a->cpus[cpu] : NULL;
}
