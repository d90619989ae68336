/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * timeline.c - vCPU state spans and IPI arrows in a window (timeline.h).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"
#include "timeline.h"

struct vs_timeline {
        struct vs_topology *topo;
        uint64_t start_ns, len_ns;
        bool started, finished;
        uint64_t first, wstart, wend, last;
        struct vs_tl_vm *vms;
        unsigned n_vms;
        int32_t *map;                   /* topology VM index -> ours, -1 = not yet */
        unsigned n_map;
        uint64_t map_gen;
};

int vs_timeline_new(struct vs_topology *topo, uint64_t start_ns, uint64_t len_ns, struct vs_timeline **ret) {
        struct vs_timeline *t;

        if (len_ns == 0)
                return -EINVAL;
        t = calloc(1, sizeof(*t));
        if (!t)
                return -ENOMEM;
        t->topo = topo;
        t->start_ns = start_ns;
        t->len_ns = len_ns;
        t->map_gen = UINT64_MAX;
        *ret = t;
        return 0;
}

void vs_timeline_free(struct vs_timeline *t) {
        if (!t)
                return;
        for (unsigned i = 0; i < t->n_vms; i++) {
                for (unsigned k = 0; k < t->vms[i].n_lanes; k++)
                        free(t->vms[i].lanes[k].spans);
                free(t->vms[i].lanes);
                free(t->vms[i].ipis);
        }
        free(t->vms);
        free(t->map);
        free(t);
}

/* Our VM for topology VM @tvm, created on first sight; NULL on -ENOMEM. */
static struct vs_tl_vm *vm_of(struct vs_timeline *t, int32_t tvm) {
        const struct vs_vm *tv;
        uint64_t gen = vs_topology_generation(t->topo);
        unsigned i;

        if (gen != t->map_gen || (unsigned) tvm >= t->n_map) {
                unsigned n = vs_topology_n_vms(t->topo);
                int32_t *m = realloc(t->map, (n + 1) * sizeof(*m));
                if (!m)
                        return NULL;
                for (unsigned k = 0; k <= n; k++)
                        m[k] = -1;
                t->map = m;
                t->n_map = n;
                t->map_gen = gen;
        }
        if ((unsigned) tvm >= t->n_map)
                return NULL;
        if (t->map[tvm] >= 0)
                return &t->vms[t->map[tvm]];
        tv = vs_topology_vm(t->topo, tvm);
        if (!tv)
                return NULL;
        for (i = 0; i < t->n_vms; i++)
                if (strcmp(t->vms[i].name, tv->name) == 0)
                        break;
        if (i == t->n_vms) {
                struct vs_tl_vm *v = realloc(t->vms, (t->n_vms + 1) * sizeof(*v));
                if (!v)
                        return NULL;
                t->vms = v;
                memset(&v[i], 0, sizeof(v[i]));
                snprintf(v[i].name, sizeof(v[i].name), "%s", tv->name);
                t->n_vms++;
        }
        t->map[tvm] = (int32_t) i;
        return &t->vms[i];
}

static struct vs_tl_lane *lane_of(struct vs_tl_vm *vm, int32_t idx) {
        if (idx < 0 || idx >= VS_TL_MAX_VCPUS)
                return NULL;
        if ((unsigned) idx >= vm->n_lanes) {
                unsigned n = (unsigned) idx + 1;
                struct vs_tl_lane *l = realloc(vm->lanes, n * sizeof(*l));
                if (!l)
                        return NULL;
                memset(l + vm->n_lanes, 0, (n - vm->n_lanes) * sizeof(*l));
                vm->lanes = l;
                vm->n_lanes = n;
        }
        vm->lanes[idx].present = true;
        return &vm->lanes[idx];
}

/* The (vm, lane) of a vCPU thread; false if @tid is none (or on -ENOMEM, *ret_oom). */
static bool resolve(struct vs_timeline *t, int32_t tid, struct vs_tl_vm **ret_vm, int32_t *ret_idx, bool *ret_oom) {
        const struct vs_thread *th;
        int32_t idx;

        if (tid <= 0)
                return false;
        th = vs_topology_thread(t->topo, tid);
        if (!th || !th->is_vcpu || th->vm < 0)
                return false;
        idx = vs_topology_vcpu_of(t->topo, tid);
        if (idx < 0 || idx >= VS_TL_MAX_VCPUS)
                return false;
        *ret_vm = vm_of(t, th->vm);
        if (!*ret_vm || !lane_of(*ret_vm, idx)) {
                *ret_oom = true;
                return false;
        }
        *ret_idx = idx;
        return true;
}

/* Close the lane's current state at @ts: its span, clipped to the window. */
static int close_span(struct vs_timeline *t, struct vs_tl_vm *vm, struct vs_tl_lane *l, uint64_t ts) {
        uint64_t a = l->since > t->wstart ? l->since : t->wstart, b = ts < t->wend ? ts : t->wend;

        if (l->state == VS_TL_UNKNOWN || a >= b)
                return 0;
        if (l->n_spans > 0 && l->spans[l->n_spans - 1].state == l->state && l->spans[l->n_spans - 1].end == a) {
                l->spans[l->n_spans - 1].end = b;
                return 0;
        }
        if (vm->truncated || vm->n_items >= VS_TL_MAX_ITEMS) {
                vm->truncated = true;
                return 0;
        }
        if (l->n_spans == l->cap_spans) {
                size_t cap = l->cap_spans ? l->cap_spans * 2 : 64;
                struct vs_tl_span *s = realloc(l->spans, cap * sizeof(*s));
                if (!s)
                        return -ENOMEM;
                l->spans = s;
                l->cap_spans = cap;
        }
        vm->n_items++;
        l->spans[l->n_spans++] = (struct vs_tl_span) { .start = a, .end = b, .state = l->state };
        return 0;
}

static int set_state(struct vs_timeline *t, struct vs_tl_vm *vm, struct vs_tl_lane *l, enum vs_tl_state st,
                     uint64_t ts) {
        int r;

        if (l->state == st)
                return 0;
        r = close_span(t, vm, l, ts);
        if (r < 0)
                return r;
        l->state = st;
        l->since = ts;
        return 0;
}

static int add_ipi(struct vs_timeline *t, struct vs_tl_vm *vm, int32_t src, int32_t dst, uint64_t ts, bool pv) {
        if (dst < 0 || dst >= VS_TL_MAX_VCPUS || ts < t->wstart || ts >= t->wend)
                return 0;
        if (!lane_of(vm, dst))
                return -ENOMEM;
        if (vm->truncated || vm->n_items >= VS_TL_MAX_ITEMS) {
                vm->truncated = true;
                return 0;
        }
        if (vm->n_ipis == vm->cap_ipis) {
                size_t cap = vm->cap_ipis ? vm->cap_ipis * 2 : 64;
                struct vs_tl_ipi *p = realloc(vm->ipis, cap * sizeof(*p));
                if (!p)
                        return -ENOMEM;
                vm->ipis = p;
                vm->cap_ipis = cap;
        }
        vm->n_items++;
        vm->ipis[vm->n_ipis++] = (struct vs_tl_ipi) { .ts = ts, .src = (uint16_t) src, .dst = (uint16_t) dst, .pv = pv };
        return 0;
}

static int on_ipis(struct vs_timeline *t, const struct vs_event *ev, struct vs_tl_vm *vm, int32_t src) {
        const struct vs_thread *th = vs_topology_thread(t->topo, ev->tid);
        int32_t tvm = th ? th->vm : -1;
        int r = 0;

        if (ev->type == VS_EV_IPI && vs_ipi_is_unicast(ev))
                return add_ipi(t, vm, src, vs_topology_vcpu_of_apic(t->topo, tvm, ev->ipi.dest_apic), ev->ts_ns,
                               false);
        if (ev->type != VS_EV_HYPERCALL || ev->hc.nr != VS_HC_SEND_IPI)
                return 0;
        /* a0/a1: 128-bit bitmap of APIC IDs from a2 (as analysis.c expands it) */
        for (unsigned w = 0; w < 2 && r >= 0; w++)
                for (uint64_t bits = w ? ev->hc.a1 : ev->hc.a0; bits && r >= 0; bits &= bits - 1) {
                        uint64_t apic = ev->hc.a2 + w * 64 + (unsigned) __builtin_ctzll(bits);
                        if (apic <= UINT32_MAX)
                                r = add_ipi(t, vm, src, vs_topology_vcpu_of_apic(t->topo, tvm, (uint32_t) apic),
                                            ev->ts_ns, true);
                }
        return r;
}

int vs_timeline_event(struct vs_timeline *t, const struct vs_event *ev) {
        struct vs_tl_vm *vm;
        int32_t idx;
        bool oom = false;
        int r = 0;

        if (!t->started) {
                t->started = true;
                t->first = ev->ts_ns;
                t->wstart = ev->ts_ns + t->start_ns;
                t->wend = t->wstart + t->len_ns < t->wstart ? UINT64_MAX : t->wstart + t->len_ns;
        }
        if (ev->ts_ns >= t->wend) {
                t->last = t->wend;
                return 0;
        }
        if (ev->ts_ns > t->last)
                t->last = ev->ts_ns;

        switch (ev->type) {
        case VS_EV_SWITCH:
                if (resolve(t, ev->sw.prev_tid, &vm, &idx, &oom)) {
                        int64_t st = ev->sw.prev_state;
                        enum vs_tl_state s = st & 0x30                         ? VS_TL_UNKNOWN /* exits */
                                             : vs_prev_state_runnable(st) ? VS_TL_PREEMPTED
                                                                          : VS_TL_HALTED;
                        r = set_state(t, vm, &vm->lanes[idx], s, ev->ts_ns);
                }
                if (r >= 0 && resolve(t, ev->sw.next_tid, &vm, &idx, &oom))
                        r = set_state(t, vm, &vm->lanes[idx], VS_TL_RUNNING, ev->ts_ns);
                break;
        case VS_EV_WAKEUP:
                if (ev->flags & VS_EVF_KVM_WAKEUP)
                        break;          /* fires in the running vCPU itself */
                if (resolve(t, ev->wakeup.wakee_tid, &vm, &idx, &oom)) {
                        struct vs_tl_lane *l = &vm->lanes[idx];
                        if (l->state == VS_TL_HALTED || l->state == VS_TL_UNKNOWN)
                                r = set_state(t, vm, l, VS_TL_WOKEN, ev->ts_ns);
                }
                break;
        default:
                /* KVM events fire in the vCPU's own thread: it is on a CPU */
                if (!resolve(t, ev->tid, &vm, &idx, &oom))
                        break;
                if (vm->lanes[idx].state == VS_TL_UNKNOWN)
                        r = set_state(t, vm, &vm->lanes[idx], VS_TL_RUNNING, ev->ts_ns);
                if (r >= 0)
                        r = on_ipis(t, ev, vm, idx);
        }
        if (oom)
                return -ENOMEM;
        return r;
}

void vs_timeline_finish(struct vs_timeline *t) {
        if (t->finished || !t->started)
                return;
        t->finished = true;
        for (unsigned i = 0; i < t->n_vms; i++)
                for (unsigned k = 0; k < t->vms[i].n_lanes; k++) {
                        struct vs_tl_lane *l = &t->vms[i].lanes[k];
                        (void) close_span(t, &t->vms[i], l, t->last);
                        l->since = t->last;
                }
}

void vs_timeline_window(const struct vs_timeline *t, uint64_t *ret_first, uint64_t *ret_start, uint64_t *ret_end) {
        *ret_first = t->first;
        *ret_start = t->wstart;
        *ret_end = t->wend;
}

unsigned vs_timeline_n_vms(const struct vs_timeline *t) {
        return t->n_vms;
}

const struct vs_tl_vm *vs_timeline_vm(const struct vs_timeline *t, unsigned i) {
        return i < t->n_vms ? &t->vms[i] : NULL;
}

const struct vs_tl_vm *vs_timeline_vm_by_name(const struct vs_timeline *t, const char *name) {
        for (unsigned i = 0; i < t->n_vms; i++)
                if (strcmp(t->vms[i].name, name) == 0)
                        return &t->vms[i];
        return NULL;
}

const char *vs_tl_state_name(enum vs_tl_state s) {
        static const char *const names[_VS_TL_STATE_MAX] = {
                [VS_TL_UNKNOWN] = "unknown", [VS_TL_RUNNING] = "running", [VS_TL_PREEMPTED] = "preempted",
                [VS_TL_WOKEN] = "woken",     [VS_TL_HALTED] = "halted",
        };
        return (unsigned) s < _VS_TL_STATE_MAX ? names[s] : "?";
}
