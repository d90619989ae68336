/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"
#include "policy.h"

struct knob_state {
        bool managed;                   /* we decided a value here at least once */
        bool has_base;
        char base[VS_VALUE_MAX];
        char cur[VS_VALUE_MAX];         /* what the cgroup holds (as far as we know) */
        uint64_t last_write;
};

struct pvcpu {
        bool present;
        struct knob_state k[_VS_KNOB_MAX];
        double weight;                  /* current weight as a real number (for decay) */
        uint64_t snap_cause;
        uint32_t group;                 /* placement group */
        double load;                    /* its share of the VM's IPI traffic when placed (claims) */
};

struct pvm {
        char name[VS_VM_NAME_MAX];
        unsigned n;                     /* pvcpu slots */
        struct pvcpu *v;
        struct knob_state vmk[_VS_KNOB_MAX];
        uint64_t snap_ipis, snap_notrun, snap_osc, snap_vpre, snap_pvy;
        /* holds of decay_half_life_ms, in trace time (not in epochs: an idle
         * policy runs its epochs further apart, vs_policy_next_epoch_ns()) */
        uint64_t contended_until;       /* the last vCPU-on-vCPU preemption's hold ends */
        uint64_t yielding_until;        /* the guest directs its own yields until then */
        bool active;                    /* waiting persists (or held after it) */
        uint64_t busy_at;               /* the last epoch with the trigger (or traffic while active) */
        bool placed, weighted;
        unsigned placed_n;              /* vCPUs present when placed */
        bool frozen;
        uint64_t frozen_since;
        bool cos_candidate;
        bool oscillating;               /* this epoch */
        bool want_frozen;               /* coschedule() scratch */
        unsigned present;               /* vCPUs present this epoch */
        /* classifier (classify = yes): totals at the last epoch ... */
        uint64_t snap_run, snap_delay, snap_blocked, snap_wait, snap_answered, snap_spin, snap_cause, snap_kicks;
        /* ... and sums over the current evaluate_ms window */
        uint64_t w_run, w_delay, w_blocked, w_unfrozen;  /* w_blocked, w_unfrozen: intervals not frozen by us */
        uint64_t w_ipis, w_wait, w_answered, w_spin, w_cause, w_kicks;
        /* signals that stay when IPIs and EOIs do not trap (analysis.h: stalls) */
        uint64_t snap_stalls, snap_stall_ns, snap_avic, snap_pause;
        uint64_t w_stalls, w_stall_ns, w_avic, w_pause;
        bool w_frozen;                  /* frozen by us at some point of the window */
        uint64_t w_start;
        bool before_spin_only;          /* the trial is judged on spinning (no IPIs answered before) */
        bool before_stall_only;         /* ... on the stalled share (neither IPIs answered nor spinning) */
        bool engage, fresh;             /* window_close() scratch */
        /* the "before" figure of a spin-waiting VM without a lever, and the
         * trial's figure, summed over windows until they hold enough IPIs */
        uint64_t b_ans, b_ns, b_spin, t_ans, t_ns, t_spin, b_stall_ns, t_stall_ns;
        unsigned b_windows, t_windows;
        bool held;                      /* classified spin-waiting once more without evidence (hysteresis) */
        bool no_cpus;                   /* every CPU it may use is reserved: left alone */
        enum vs_priority prio;          /* [vm] priority, this epoch */
        bool displaced;                 /* a higher-priority VM was placed: place again */
        const char *release_reason;     /* a lever released at the last window's end (static string) */
        /* decision reasons that name the signals (VS_SIG_*) without IPI records */
        char why_place[160], why_turn[160], why_frozen[160];
        struct vs_policy_vm_state st;
};

struct vs_policy {
        const struct vs_config *cfg;
        unsigned *cpus;
        unsigned n_cpus;
        /* reserved CPUs: [policy] reserved_cpus (re-read when the text
         * changes: reload) and the host's (kernel-isolated), and what is
         * left of cpus for vCPUs */
        char *reserved_seen;
        struct vs_cpumask host_reserved, reserved;
        bool reserved_dirty;
        unsigned *allowed;
        unsigned n_allowed;
        struct pvm *vms;
        unsigned n_vms, cap_vms;
        uint64_t last_epoch;
        double *snap_depth;             /* per host CPU: depth_ns integral at the last epoch */
        unsigned n_snap_depth;
        bool enforce_observed;
        /* co-scheduling rotation */
        char cos_current[VS_VM_NAME_MAX];
        uint64_t cos_turn_start;
        uint64_t window_start;          /* classifier window, shared by every VM */
        bool ipis_seen;                 /* a unicast IPI edge was ever seen: IPIs trap on this host */
};

static const char *const class_names[_VS_CLASS_MAX] = {
        [VS_CLASS_NONE] = "none",
        [VS_CLASS_SPIN] = "spin-waiting",
        [VS_CLASS_HALT] = "halting",
};

static const char *const lever_names[_VS_LEVER_MAX] = {
        [VS_LEVER_NONE] = "none",
        [VS_LEVER_COSCHEDULE] = "coschedule",
        [VS_LEVER_PLACEMENT] = "placement",
        [VS_LEVER_WEIGHTS] = "weights",
};

static const char *const signal_names[] = {
        "ipi", "eoi", "pause", "pv-yield", "avic", "preemption",
};

const char *vs_signal_name(unsigned bit) {
        for (unsigned i = 0; i < ELEMENTSOF(signal_names); i++)
                if (bit == 1u << i)
                        return signal_names[i];
        return "?";
}

const char *vs_signals_format(unsigned signals, char *buf, size_t len) {
        size_t o = 0;

        if (len)
                buf[0] = 0;
        for (unsigned i = 0; i < ELEMENTSOF(signal_names) && len; i++)
                if (signals & (1u << i)) {
                        int k = snprintf(buf + o, len - o, "%s%s", o ? ", " : "", signal_names[i]);
                        if (k < 0 || (size_t) k >= len - o)
                                break;
                        o += (size_t) k;
                }
        return buf;
}

const char *vs_vm_class_name(enum vs_vm_class c) {
        return (unsigned) c < _VS_CLASS_MAX ? class_names[c] : "?";
}

const char *vs_lever_name(enum vs_lever l) {
        return (unsigned) l < _VS_LEVER_MAX ? lever_names[l] : "?";
}

/* ---------------------------------------------------------------- helpers */

static void cpulist(const unsigned *cpus, unsigned n, char *buf, size_t len) {
        size_t o = 0;

        buf[0] = 0;
        for (unsigned i = 0; i < n && o + 24 < len;) {
                unsigned j = i;
                while (j + 1 < n && cpus[j + 1] == cpus[j] + 1)
                        j++;
                if (j > i)
                        o += snprintf(buf + o, len - o, "%s%u-%u", o ? "," : "", cpus[i], cpus[j]);
                else
                        o += snprintf(buf + o, len - o, "%s%u", o ? "," : "", cpus[i]);
                i = j + 1;
        }
}

static int cmp_uint(const void *a, const void *b) {
        unsigned x = *(const unsigned *) a, y = *(const unsigned *) b;
        return (x > y) - (x < y);
}

int vs_policy_new(const struct vs_config *cfg, const unsigned *cpus, unsigned n_cpus, struct vs_policy **ret) {
        struct vs_policy *p;

        if (!cfg || !cpus || n_cpus == 0)
                return -EINVAL;
        p = calloc(1, sizeof(*p));
        if (!p)
                return -ENOMEM;
        p->cfg = cfg;
        p->cpus = malloc(n_cpus * sizeof(*cpus));
        if (!p->cpus) {
                free(p);
                return -ENOMEM;
        }
        memcpy(p->cpus, cpus, n_cpus * sizeof(*cpus));
        qsort(p->cpus, n_cpus, sizeof(*cpus), cmp_uint);
        p->n_cpus = n_cpus;
        p->allowed = malloc(n_cpus * sizeof(*cpus));
        if (!p->allowed) {
                free(p->cpus);
                free(p);
                return -ENOMEM;
        }
        memcpy(p->allowed, p->cpus, n_cpus * sizeof(*cpus));
        p->n_allowed = n_cpus;
        p->reserved_dirty = true;
        *ret = p;
        return 0;
}

void vs_policy_free(struct vs_policy *p) {
        if (!p)
                return;
        for (unsigned i = 0; i < p->n_vms; i++)
                free(p->vms[i].v);
        free(p->vms);
        free(p->cpus);
        free(p->allowed);
        free(p->reserved_seen);
        free(p->snap_depth);
        free(p);
}

static struct pvm *pvm_get(struct vs_policy *p, const char *name, bool create) {
        for (unsigned i = 0; i < p->n_vms; i++)
                if (strcmp(p->vms[i].name, name) == 0)
                        return &p->vms[i];
        if (!create)
                return NULL;
        if (p->n_vms == p->cap_vms) {
                unsigned cap = p->cap_vms ? p->cap_vms * 2 : 8;
                struct pvm *n = realloc(p->vms, cap * sizeof(*n));
                if (!n)
                        return NULL;
                p->vms = n;
                p->cap_vms = cap;
        }
        struct pvm *m = &p->vms[p->n_vms++];
        memset(m, 0, sizeof(*m));
        snprintf(m->name, sizeof(m->name), "%s", name);
        m->prio = VS_PRIO_NORMAL;
        return m;
}

int vs_policy_forget_vm(struct vs_policy *p, const char *vm) {
        for (unsigned i = 0; i < p->n_vms; i++) {
                if (strcmp(p->vms[i].name, vm) != 0)
                        continue;
                free(p->vms[i].v);
                memmove(&p->vms[i], &p->vms[i + 1], (p->n_vms - i - 1) * sizeof(*p->vms));
                p->n_vms--;
                if (strcmp(p->cos_current, vm) == 0) {
                        /* its turn ends: the next epoch hands the turn on */
                        p->cos_current[0] = 0;
                        p->cos_turn_start = 0;
                }
                return 1;
        }
        return 0;
}

static struct pvcpu *pvcpu_get(struct pvm *m, unsigned idx) {
        if (idx >= VS_AN_MAX_VCPUS)
                return NULL;
        if (idx >= m->n) {
                unsigned n = idx + 1;
                struct pvcpu *v = realloc(m->v, n * sizeof(*v));
                if (!v)
                        return NULL;
                memset(v + m->n, 0, (n - m->n) * sizeof(*v));
                m->v = v;
                m->n = n;
        }
        return &m->v[idx];
}

/* ---------------------------------------------------------------- reserved CPUs */

void vs_policy_set_host_reserved(struct vs_policy *p, const struct vs_cpumask *cpus) {
        p->host_reserved = cpus ? *cpus : (struct vs_cpumask) {};
        p->reserved_dirty = true;
}

/* Recompute the reserved set and the allowed CPUs when [policy]
 * reserved_cpus or the host's set changed.  The loader validated the text;
 * one set by hand that does not parse reserves nothing. */
static void refresh_reserved(struct vs_policy *p) {
        const char *text = p->cfg->reserved_cpus ? p->cfg->reserved_cpus : "";
        struct vs_cpumask m = {};

        if (!p->reserved_dirty && p->reserved_seen && strcmp(p->reserved_seen, text) == 0)
                return;
        char *copy = strdup(text);
        if (!copy)
                return;                 /* keep the old set; tried again next epoch */
        free(p->reserved_seen);
        p->reserved_seen = copy;
        p->reserved_dirty = false;
        if (vs_cpulist_parse(text, &m, NULL) < 0)
                m = (struct vs_cpumask) {};
        vs_cpumask_or(&m, &p->host_reserved);
        p->reserved = m;
        p->n_allowed = 0;
        for (unsigned i = 0; i < p->n_cpus; i++)
                if (!vs_cpumask_test(&p->reserved, p->cpus[i]))
                        p->allowed[p->n_allowed++] = p->cpus[i];
}

/* A cpuset value as a set: "" (a v2 group that inherits its parent's CPUs)
 * is every CPU of the host. */
static void cpuset_of(const struct vs_policy *p, const char *value, struct vs_cpumask *ret) {
        if (value && value[0] && vs_cpulist_parse(value, ret, NULL) == 0)
                return;
        *ret = (struct vs_cpumask) {};
        for (unsigned i = 0; i < p->n_cpus; i++)
                vs_cpumask_set(ret, p->cpus[i]);
}

/* Whether every CPU the VM may use (the union of its present vCPUs'
 * baseline cpusets, on the host's CPUs) is reserved. */
static bool vm_all_reserved(const struct vs_policy *p, const struct pvm *m, const struct vs_an_vm *vm) {
        struct vs_cpumask may = {};
        bool any = false;

        if (p->n_allowed == p->n_cpus)
                return false;
        for (unsigned i = 0; i < vm->n_vcpus; i++) {
                struct vs_cpumask b;
                const struct knob_state *ks = i < m->n ? &m->v[i].k[VS_KNOB_CPUSET] : NULL;
                if (!vm->vcpus[i].present)
                        continue;
                any = true;
                cpuset_of(p, ks && ks->has_base ? ks->base : NULL, &b);
                vs_cpumask_or(&may, &b);
        }
        if (!any)
                return false;           /* no vCPU seen yet: nothing to say about it */
        for (unsigned i = 0; i < p->n_allowed; i++)
                if (vs_cpumask_test(&may, p->allowed[i]))
                        return false;
        return true;
}

/* ---------------------------------------------------------------- priority */

/* What a VM's class multiplies its co-scheduling turn and its weights by:
 * high priority_factor, normal 1, low 1 / priority_factor. */
static double prio_mult(const struct vs_policy *p, enum vs_priority pr) {
        double f = p->cfg->priority_factor >= 1 ? p->cfg->priority_factor : 1;
        return pr == VS_PRIO_HIGH ? f : pr == VS_PRIO_LOW ? 1 / f : 1;
}

static void default_base(const struct vs_policy *p, enum vs_knob k, char *buf, size_t len) {
        switch (k) {
        case VS_KNOB_WEIGHT:
                snprintf(buf, len, "100");
                break;
        case VS_KNOB_CPUSET:
                cpulist(p->cpus, p->n_cpus, buf, len);
                break;
        default:
                snprintf(buf, len, "0");
        }
}

static struct knob_state *knob(struct pvm *m, int32_t vcpu, enum vs_knob k) {
        if (vcpu < 0)
                return &m->vmk[k];
        struct pvcpu *v = pvcpu_get(m, (unsigned) vcpu);
        return v ? &v->k[k] : NULL;
}

static const char *base_of(const struct vs_policy *p, struct knob_state *ks, enum vs_knob k) {
        if (!ks->has_base) {
                default_base(p, k, ks->base, sizeof(ks->base));
                ks->has_base = true;
                if (!ks->managed)
                        snprintf(ks->cur, sizeof(ks->cur), "%s", ks->base);
        }
        return ks->base;
}

int vs_policy_set_baseline(struct vs_policy *p, const char *vm, int32_t vcpu, enum vs_knob k, const char *value) {
        struct pvm *m = pvm_get(p, vm, true);
        struct knob_state *ks;

        if (!m || !(ks = knob(m, vcpu, k)))
                return -ENOMEM;
        snprintf(ks->base, sizeof(ks->base), "%s", value);
        ks->has_base = true;
        if (!ks->managed)
                snprintf(ks->cur, sizeof(ks->cur), "%s", value);
        if (k == VS_KNOB_WEIGHT && vcpu >= 0)
                m->v[vcpu].weight = strtod(value, NULL);
        return 0;
}

const char *vs_policy_value(const struct vs_policy *p, const char *vm, int32_t vcpu, enum vs_knob k) {
        struct pvm *m = pvm_get((struct vs_policy *) p, vm, false);
        struct knob_state *ks;

        if (!m || (vcpu >= 0 && (unsigned) vcpu >= m->n))
                return NULL;
        ks = vcpu < 0 ? &m->vmk[k] : &m->v[vcpu].k[k];
        return ks->managed || ks->has_base ? ks->cur : NULL;
}

struct emit {
        vs_decision_cb cb;
        void *ud;
        int n;
};

/* Decide @value for a knob; returns false when the rate limit deferred it. */
static bool set_knob(struct vs_policy *p, struct pvm *m, int32_t vcpu, enum vs_knob k, const char *value,
                     uint64_t now, bool urgent, const char *reason, struct emit *e) {
        struct knob_state *ks = knob(m, vcpu, k);
        uint64_t interval = (uint64_t) p->cfg->write_interval_ms * 1000000ull;

        if (!ks)
                return false;
        (void) base_of(p, ks, k);
        if (strcmp(ks->cur, value) == 0)
                return true;
        if (!urgent && ks->managed && now - ks->last_write < interval)
                return false;
        struct vs_decision d = { .ts_ns = now, .vm = m->name, .vcpu = vcpu, .knob = k, .reason = reason };
        snprintf(d.old, sizeof(d.old), "%s", ks->cur);
        snprintf(d.new, sizeof(d.new), "%s", value);
        snprintf(ks->cur, sizeof(ks->cur), "%s", value);
        ks->managed = true;
        ks->last_write = now;
        e->n++;
        if (e->cb)
                e->cb(&d, e->ud);
        return true;
}

static bool deferred(struct vs_policy *p, struct pvm *m, int32_t vcpu, enum vs_knob k, uint64_t now) {
        struct knob_state *ks = knob(m, vcpu, k);
        uint64_t interval = (uint64_t) p->cfg->write_interval_ms * 1000000ull;
        return ks && ks->managed && now - ks->last_write < interval;
}

/* ---------------------------------------------------------------- placement */

/* How strongly a pair of vCPUs interacts, for placement: its IPIs; on a host
 * whose IPIs do not trap (none seen yet), its directed yields,
 * AVIC's target-not-running exits. */
static uint64_t pair_w(const struct vs_policy *p, const struct vs_an_pair *x) {
        if (!x)
                return 0;
        if (p->ipis_seen)
                return x->ipis;
        return x->ipis + x->yields + x->avic_not_running;
}

/* Spread the VM's present vCPUs over min(n, CPUs) disjoint CPU groups so that
 * vCPUs exchanging IPIs land in different groups (greedy colouring by edge
 * weight when vCPUs outnumber CPUs). */
static void place(struct vs_policy *p, struct pvm *m, const struct vs_an_vm *vm, const struct vs_vm_policy *vp,
                  uint64_t now, struct emit *e) {
        unsigned n_present = 0, groups;
        _cleanup_free_ uint64_t *load = NULL;
        _cleanup_free_ unsigned *order = NULL;
        char all[VS_VALUE_MAX];
        const bool reserving = p->n_allowed < p->n_cpus;

        if (p->n_allowed == 0)
                return;
        cpulist(p->cpus, p->n_cpus, all, sizeof(all));
        for (unsigned i = 0; i < vm->n_vcpus; i++)
                if (vm->vcpus[i].present) {
                        struct pvcpu *v = pvcpu_get(m, i);
                        if (!v)
                                return;
                        /* the operator pinned this vCPU: leave the VM alone ("" = a
                         * v2 group that inherits its parent's CPUs: not pinned) */
                        const char *b = base_of(p, &v->k[VS_KNOB_CPUSET], VS_KNOB_CPUSET);
                        if (!vp->pin_override && b[0] && strcmp(b, all) != 0) {
                                /* with reserved CPUs, a set that holds every
                                 * allowed CPU is not a pin either (the
                                 * operator keeps VMs off the reserved ones) */
                                struct vs_cpumask bm;
                                bool covers = reserving;
                                cpuset_of(p, b, &bm);
                                for (unsigned c = 0; covers && c < p->n_allowed; c++)
                                        covers = vs_cpumask_test(&bm, p->allowed[c]);
                                if (!covers)
                                        return;
                        }
                        n_present++;
                }
        if (n_present < 2)
                return;
        /* sticky: an assignment stands while the VM keeps its vCPUs; moving
         * vCPUs every epoch would cost more than it gains */
        if (m->placed && m->placed_n == n_present && !m->displaced)
                return;
        groups = n_present < p->n_allowed ? n_present : p->n_allowed;
        load = calloc(groups, sizeof(*load));
        order = calloc(vm->n_vcpus, sizeof(*order));
        if (!load || !order)
                return;

        /* order vCPUs by IPI traffic (heaviest first), ties by index */
        unsigned no = 0;
        for (unsigned i = 0; i < vm->n_vcpus; i++)
                if (vm->vcpus[i].present)
                        order[no++] = i;
        for (unsigned a = 0; a < no; a++)
                for (unsigned b = a + 1; b < no; b++) {
                        const struct vs_an_vcpu *x = &vm->vcpus[order[a]], *y = &vm->vcpus[order[b]];
                        if (y->ipis_in + y->ipis_out > x->ipis_in + x->ipis_out) {
                                unsigned t = order[a];
                                order[a] = order[b];
                                order[b] = t;
                        }
                }
        unsigned *count = calloc(groups, sizeof(*count));
        if (!count)
                return;
        for (unsigned a = 0; a < no; a++) {
                unsigned i = order[a], best = 0;
                uint64_t best_w = UINT64_MAX;
                for (unsigned g = 0; g < groups; g++) {
                        uint64_t w = 0;
                        /* IPI weight to vCPUs already in g */
                        for (unsigned b = 0; b < a; b++) {
                                unsigned j = order[b];
                                if (m->v[j].group != g)
                                        continue;
                                const struct vs_an_pair *x = vs_analysis_pair(vm, i, j), *y = vs_analysis_pair(vm, j, i);
                                w += pair_w(p, x) + pair_w(p, y) + 1;
                        }
                        /* prefer the emptiest group among equals */
                        w = w * 1024 + count[g];
                        if (w < best_w) {
                                best_w = w;
                                best = g;
                        }
                }
                m->v[i].group = best;
                count[best]++;
        }
        free(count);

        /* improve the greedy result: swap vCPUs between groups while that lowers
         * the IPI traffic inside groups (group sizes stay as they are) */
        for (unsigned pass = 0; pass < 8 * no; pass++) {
                bool better = false;
                for (unsigned a = 0; a < no; a++)
                        for (unsigned b = a + 1; b < no; b++) {
                                unsigned i = order[a], j = order[b], gi = m->v[i].group, gj = m->v[j].group;
                                int64_t before = 0, after = 0;
                                if (gi == gj)
                                        continue;
                                for (unsigned c = 0; c < no; c++) {
                                        unsigned k = order[c];
                                        if (k == i || k == j)
                                                continue;
                                        uint64_t wi = 0, wj = 0;
                                        wi += pair_w(p, vs_analysis_pair(vm, i, k)) + pair_w(p, vs_analysis_pair(vm, k, i));
                                        wj += pair_w(p, vs_analysis_pair(vm, j, k)) + pair_w(p, vs_analysis_pair(vm, k, j));
                                        unsigned gk = m->v[k].group;
                                        before += (gk == gi ? (int64_t) wi : 0) + (gk == gj ? (int64_t) wj : 0);
                                        after += (gk == gj ? (int64_t) wi : 0) + (gk == gi ? (int64_t) wj : 0);
                                }
                                if (after < before) {
                                        m->v[i].group = gj;
                                        m->v[j].group = gi;
                                        better = true;
                                }
                        }
                if (!better)
                        break;
        }

        /* Claims of the placed VMs of a higher class (high gets first pick):
         * each of their vCPUs weighs its share of its VM's IPI traffic, spread
         * over its CPUs.  The allowed CPUs are taken least claimed first, so
         * this VM's busiest vCPUs (group 0 first) avoid theirs.  No claims
         * (every VM normal, the default): the allowed list in order. */
        unsigned cord[p->n_allowed];
        double claim[p->n_allowed];
        double traffic = 0;
        for (unsigned c = 0; c < p->n_allowed; c++) {
                cord[c] = c;
                claim[c] = 0;
        }
        for (unsigned o = 0; o < p->n_vms; o++) {
                const struct pvm *h = &p->vms[o];
                if (h == m || !h->placed || h->prio <= m->prio)
                        continue;
                for (unsigned i = 0; i < h->n; i++) {
                        const struct knob_state *ks = &h->v[i].k[VS_KNOB_CPUSET];
                        struct vs_cpumask cm;
                        unsigned cnt = 0;
                        if (!ks->managed || !ks->cur[0] || vs_cpulist_parse(ks->cur, &cm, NULL) < 0)
                                continue;
                        for (unsigned c = 0; c < p->n_allowed; c++)
                                cnt += vs_cpumask_test(&cm, p->allowed[c]);
                        for (unsigned c = 0; cnt && c < p->n_allowed; c++)
                                if (vs_cpumask_test(&cm, p->allowed[c]))
                                        claim[c] += h->v[i].load / cnt;
                }
        }
        for (unsigned c = 1; c < p->n_allowed; c++)     /* stable: equal claims keep CPU order */
                for (unsigned d = c; d > 0 && claim[cord[d]] < claim[cord[d - 1]]; d--) {
                        unsigned t = cord[d];
                        cord[d] = cord[d - 1];
                        cord[d - 1] = t;
                }
        for (unsigned a = 0; a < no; a++)
                traffic += (double) (vm->vcpus[order[a]].ipis_in + vm->vcpus[order[a]].ipis_out + 1);

        /* group g gets CPUs g, g + groups, g + 2 * groups, ... of the
         * allowed list (the host's CPUs less the reserved ones), in claim order */
        for (unsigned a = 0; a < no; a++) {
                unsigned i = order[a], sel[p->n_allowed], ns = 0;
                char list[VS_VALUE_MAX];
                for (unsigned c = m->v[i].group; c < p->n_allowed; c += groups)
                        sel[ns++] = p->allowed[cord[c]];
                qsort(sel, ns, sizeof(*sel), cmp_uint);
                cpulist(sel, ns, list, sizeof(list));
                m->v[i].load = (double) (vm->vcpus[i].ipis_in + vm->vcpus[i].ipis_out + 1) / traffic;
                set_knob(p, m, (int32_t) i, VS_KNOB_CPUSET, list, now, false,
                         m->displaced ? "placement: moved for a higher-priority VM" :
                         m->why_place[0] ? m->why_place : "placement: IPI partners apart", e);
        }
        m->placed = true;
        m->placed_n = n_present;
        m->displaced = false;
        /* a VM of a lower class placed before takes its pick again, around
         * this one: the higher class is never the one moved */
        for (unsigned o = 0; o < p->n_vms; o++)
                if (&p->vms[o] != m && p->vms[o].placed && p->vms[o].prio < m->prio)
                        p->vms[o].displaced = true;
}

static void unplace(struct vs_policy *p, struct pvm *m, uint64_t now, const char *reason, struct emit *e) {
        bool all = true;

        for (unsigned i = 0; i < m->n; i++) {
                struct knob_state *ks = &m->v[i].k[VS_KNOB_CPUSET];
                if (ks->managed && !set_knob(p, m, (int32_t) i, VS_KNOB_CPUSET, base_of(p, ks, VS_KNOB_CPUSET), now,
                                            false, reason, e))
                        all = false;
        }
        if (all)
                m->placed = false;
}

/* ---------------------------------------------------------------- weights */

static double cap_for_depth(const struct vs_config *c, double entities) {
        if (entities < 1.5)
                return 1.0;             /* nobody to compete with: nothing to prefer */
        if (entities < 2.5)
                return c->caps[0];
        if (entities < 3.5)
                return c->caps[1];
        if (entities < 6.5)
                return c->caps[2];
        if (entities < 8.5)
                return c->caps[3];
        if (entities < 12.5)
                return c->caps[4];
        return c->caps[5];
}

/* Scale @w (n values) to sum @total, then clamp into [floor_i, hi] (floor_i =
 * max(lo, floors[i])) by water-filling, then round to integers keeping the sum
 * (largest remainder). */
static void conserve(double *w, long *out, unsigned n, double total, double lo_all, double hi, const double *floors) {
        bool fixed[n];
        memset(fixed, 0, sizeof(fixed));
#define LO(i) (floors && floors[i] > lo_all ? floors[i] : lo_all)

        for (int iter = 0; iter < 64; iter++) {
                double free_sum = 0, rest = total;
                bool changed = false;
                for (unsigned i = 0; i < n; i++) {
                        if (fixed[i])
                                rest -= w[i];
                        else
                                free_sum += w[i];
                }
                if (free_sum <= 0)
                        break;
                for (unsigned i = 0; i < n; i++)
                        if (!fixed[i])
                                w[i] = w[i] * rest / free_sum;
                for (unsigned i = 0; i < n; i++) {
                        if (fixed[i])
                                continue;
                        if (w[i] < LO(i)) {
                                w[i] = LO(i);
                                fixed[i] = changed = true;
                        } else if (w[i] > hi) {
                                w[i] = hi;
                                fixed[i] = changed = true;
                        }
                }
                if (!changed)
                        break;
        }
        /* integers with the same sum: floor, then hand out the remainder by largest fraction */
        long sum = 0, want = lround(total);
        for (unsigned i = 0; i < n; i++) {
                out[i] = (long) floor(w[i]);
                if (out[i] < (long) ceil(LO(i)))
                        out[i] = (long) ceil(LO(i));
                if (out[i] > (long) hi)
                        out[i] = (long) hi;
                sum += out[i];
        }
        while (sum != want) {
                int best = -1;
                double bf = sum < want ? -1 : 2;
                for (unsigned i = 0; i < n; i++) {
                        double f = w[i] - floor(w[i]);
                        if (sum < want && out[i] < (long) hi && f > bf) {
                                bf = f;
                                best = (int) i;
                        } else if (sum > want && out[i] > (long) ceil(LO(i)) && f < bf) {
                                bf = f;
                                best = (int) i;
                        }
                }
                if (best < 0)
                        break;          /* the bounds make the sum unreachable */
                out[best] += sum < want ? 1 : -1;
                sum += sum < want ? 1 : -1;
        }
#undef LO
}

static void weigh(struct vs_policy *p, struct pvm *m, const struct vs_an_vm *vm, const struct vs_vm_policy *vp,
                  double entities, bool oscillating, double dt_ns, uint64_t now, struct emit *e) {
        unsigned idx[VS_AN_MAX_VCPUS], n = 0;
        double cause[VS_AN_MAX_VCPUS], base[VS_AN_MAX_VCPUS], w[VS_AN_MAX_VCPUS], total = 0, max_cause = 0;
        long out[VS_AN_MAX_VCPUS];
        double cap = cap_for_depth(p->cfg, entities);
        bool starving = false, starve[VS_AN_MAX_VCPUS];
        uint64_t starve_ns = (uint64_t) p->cfg->starvation_ms * 1000000ull;
        /* the VM's class scales its weights (cls_base); the
         * bounds still hold, and the starvation guard still restores the
         * real baseline */
        const double mult = prio_mult(p, m->prio);
        double cls_base[VS_AN_MAX_VCPUS];

        if (oscillating)
                cap = 1 + (cap - 1) / 2;
        for (unsigned i = 0; i < vm->n_vcpus && n < VS_AN_MAX_VCPUS; i++) {
                const struct vs_an_vcpu *c = &vm->vcpus[i];
                struct pvcpu *v;
                if (!c->present || !(v = pvcpu_get(m, i)))
                        continue;
                idx[n] = i;
                base[n] = strtod(base_of(p, &v->k[VS_KNOB_WEIGHT], VS_KNOB_WEIGHT), NULL);
                if (!(base[n] >= 1))
                        base[n] = 100;
                if (!(v->weight >= 1))
                        v->weight = base[n];
                cause[n] = c->cause_ns >= v->snap_cause ? (double) (c->cause_ns - v->snap_cause) : 0;
                v->snap_cause = c->cause_ns;
                if (cause[n] > max_cause)
                        max_cause = cause[n];
                starve[n] = (c->state == VS_AN_PREEMPTED || c->state == VS_AN_WOKEN) && now > c->state_since &&
                            now - c->state_since > starve_ns;
                starving |= starve[n];
                cls_base[n] = base[n] * mult;
                total += cls_base[n];
                n++;
        }
        if (n == 0 || (n < 2 && mult == 1))
                return;

        const bool boost = m->active && max_cause > 0 && cap > 1;
        if (boost) {
                for (unsigned k = 0; k < n; k++)
                        w[k] = cls_base[k] * (1 + (cap - 1) * cause[k] / max_cause);
        } else {
                /* decay toward the (class) baseline; a high or low VM goes
                 * straight to its class's weights */
                double f = p->cfg->decay_half_life_ms && mult == 1 ?
                                   exp2(-dt_ns / (p->cfg->decay_half_life_ms * 1e6)) : 0;
                bool at_base = true;
                for (unsigned k = 0; k < n; k++) {
                        double cur = m->v[idx[k]].weight;
                        w[k] = cls_base[k] + (cur - cls_base[k]) * f;
                        if (fabs(w[k] - cls_base[k]) >= 0.5)
                                at_base = false;
                }
                if (at_base) {
                        for (unsigned k = 0; k < n; k++)
                                w[k] = cls_base[k];
                        if (!m->weighted && !starving && mult == 1)
                                return;
                }
        }
        /* starvation guard: at least the baseline, at once */
        double floors[VS_AN_MAX_VCPUS];
        for (unsigned k = 0; k < n; k++) {
                floors[k] = starve[k] ? base[k] : 0;
                if (starve[k] && w[k] < base[k])
                        w[k] = base[k];
        }
        conserve(w, out, n, total, vp->weight_min, vp->weight_max, floors);

        /* a preempted receiver never ends below the vCPUs waiting for it (within
         * 1 for rounding): average each violating pair, which keeps the sum and
         * the bounds; repeat until stable (mutual pairs end equal) */
        for (unsigned pass = 0; pass < 64 * n; pass++) {
                bool fixed = false;
                for (unsigned a = 0; a < n; a++)
                        for (unsigned b = 0; b < n; b++) {
                                const struct vs_an_pair *pr = vs_analysis_pair(vm, idx[a], idx[b]);
                                if (a == b || !pr || !pr->at_state[VS_AN_PREEMPTED] || out[b] + 1 >= out[a] ||
                                    starve[a])
                                        continue;
                                long s = out[a] + out[b];
                                out[b] = s - s / 2;
                                out[a] = s / 2;
                                fixed = true;
                        }
                if (!fixed)
                        break;
        }

        /* hysteresis and rate limit apply to the VM's weights as a whole, so the
         * sum stays conserved: all of them change, or none */
        bool big = false;
        for (unsigned k = 0; k < n; k++) {
                const char *cur = m->v[idx[k]].k[VS_KNOB_WEIGHT].cur;
                double c = strtod(cur[0] ? cur : "100", NULL);
                if (fabs((double) out[k] - c) * 100.0 > p->cfg->hysteresis_pct * c || (starve[k] && out[k] > c))
                        big = true;
                if (!starving && deferred(p, m, (int32_t) idx[k], VS_KNOB_WEIGHT, now))
                        return;
        }
        /* the values in place break the receiver rule: not a small change */
        for (unsigned a = 0; a < n && !big; a++)
                for (unsigned b = 0; b < n; b++) {
                        const struct vs_an_pair *pr = vs_analysis_pair(vm, idx[a], idx[b]);
                        const char *ca = m->v[idx[a]].k[VS_KNOB_WEIGHT].cur, *cb = m->v[idx[b]].k[VS_KNOB_WEIGHT].cur;
                        if (a != b && pr && pr->at_state[VS_AN_PREEMPTED] &&
                            strtol(cb[0] ? cb : "100", NULL, 10) + 1 < strtol(ca[0] ? ca : "100", NULL, 10)) {
                                big = true;
                                break;
                        }
                }
        bool back_to_base = true;
        for (unsigned k = 0; k < n; k++)
                if (out[k] != lround(base[k]))
                        back_to_base = false;
        if (!big && !back_to_base)
                return;
        for (unsigned k = 0; k < n; k++) {
                char val[24];
                snprintf(val, sizeof(val), "%ld", out[k]);
                m->v[idx[k]].weight = (double) out[k];
                set_knob(p, m, (int32_t) idx[k], VS_KNOB_WEIGHT, val, now, starving,
                         starving ? "starvation guard" : back_to_base ? "decay to baseline" :
                         !boost && mult > 1 ? "weights: high priority" : !boost && mult < 1 ? "weights: low priority" :
                         oscillating ? "weights, halved: yields oscillate" : "weights: IPI receivers first", e);
        }
        m->weighted = !back_to_base;
}

/* ---------------------------------------------------------------- epoch */

static void release_vm(struct vs_policy *p, struct pvm *m, uint64_t now, const char *reason, struct emit *e) {
        for (unsigned i = 0; i < m->n; i++)
                for (int k = 0; k < _VS_KNOB_MAX; k++) {
                        struct knob_state *ks = &m->v[i].k[k];
                        if (ks->managed)
                                set_knob(p, m, (int32_t) i, k, base_of(p, ks, k), now, true, reason, e);
                        if (k == VS_KNOB_WEIGHT)
                                m->v[i].weight = strtod(ks->base[0] ? ks->base : "100", NULL);
                }
        for (int k = 0; k < _VS_KNOB_MAX; k++)
                if (m->vmk[k].managed)
                        set_knob(p, m, -1, k, base_of(p, &m->vmk[k], k), now, true, reason, e);
        m->placed = m->weighted = m->frozen = false;
}

static double host_entities(struct vs_policy *p, const struct vs_analysis *a, double dt) {
        unsigned n = vs_analysis_n_cpus(a);
        double worst = 0;

        if (n > p->n_snap_depth) {
                double *s = realloc(p->snap_depth, n * sizeof(*s));
                if (!s)
                        return 0;
                memset(s + p->n_snap_depth, 0, (n - p->n_snap_depth) * sizeof(*s));
                p->snap_depth = s;
                p->n_snap_depth = n;
        }
        for (unsigned c = 0; c < n; c++) {
                const struct vs_an_cpu *cpu = vs_analysis_cpu(a, c);
                double d = dt > 0 ? (cpu->depth_ns - p->snap_depth[c]) / dt : 0;
                p->snap_depth[c] = cpu->depth_ns;
                if (d > worst)
                        worst = d;
        }
        /* queued entities = the waiting vCPU threads + the one running */
        return worst + 1;
}

static void coschedule(struct vs_policy *p, uint64_t now, struct emit *e) {
        unsigned n = 0, cur = UINT32_MAX;
        uint64_t turn = (uint64_t) p->cfg->turn_ms * 1000000ull, bound = (uint64_t) p->cfg->max_frozen_ms * 1000000ull;

        for (unsigned i = 0; i < p->n_vms; i++)
                if (p->vms[i].cos_candidate) {
                        if (strcmp(p->vms[i].name, p->cos_current) == 0)
                                cur = i;
                        n++;
                }
        if (n < 2) {
                for (unsigned i = 0; i < p->n_vms; i++)
                        if (p->vms[i].frozen || p->vms[i].vmk[VS_KNOB_FREEZE].managed) {
                                set_knob(p, &p->vms[i], -1, VS_KNOB_FREEZE, "0", now, true,
                                         "co-scheduling off: fewer than two VMs contend", e);
                                p->vms[i].frozen = false;
                        }
                p->cos_current[0] = 0;
                return;
        }
        /* Turns: in the ratio of the VMs' classes (priority_factor from one
         * class to the next), the lowest class taking part getting turn_ms,
         * counted in whole epochs (at least one: the policy acts once per
         * epoch); the longest ones shrink, an epoch at a time, until no VM
         * waits longer than max_frozen_ms while the others take theirs.  All
         * of one class (every VM normal, the default): max_frozen_ms / (VMs
         * - 1), as before classes. */
        uint64_t ep = (uint64_t) p->cfg->epoch_ms * 1000000ull, eturn[p->n_vms];
        double low = 0;
        bool classes = false;
        int first_prio = -1;
        for (unsigned i = 0; i < p->n_vms; i++)
                if (p->vms[i].cos_candidate) {
                        double mu = prio_mult(p, p->vms[i].prio);
                        if (low == 0 || mu < low)
                                low = mu;
                        if (first_prio < 0)
                                first_prio = (int) p->vms[i].prio;
                        else if ((int) p->vms[i].prio != first_prio)
                                classes = true;
                }
        if (classes) {
                uint64_t sum = 0;
                if (ep == 0)
                        ep = 1;
                for (unsigned i = 0; i < p->n_vms; i++) {
                        eturn[i] = 0;
                        if (!p->vms[i].cos_candidate)
                                continue;
                        eturn[i] = (uint64_t) ceil((double) turn * prio_mult(p, p->vms[i].prio) / low / (double) ep);
                        if (eturn[i] < 1)
                                eturn[i] = 1;
                        sum += eturn[i];
                }
                for (;;) {
                        uint64_t worst = 0;
                        unsigned longest = UINT32_MAX;
                        for (unsigned i = 0; i < p->n_vms; i++) {
                                if (!p->vms[i].cos_candidate)
                                        continue;
                                if (sum - eturn[i] > worst)
                                        worst = sum - eturn[i];
                                if (eturn[i] > 1 && (longest == UINT32_MAX || eturn[i] > eturn[longest]))
                                        longest = i;
                        }
                        if (worst * ep <= bound || longest == UINT32_MAX)
                                break;
                        eturn[longest]--;
                        sum--;
                }
        } else if ((n - 1) * turn > bound)
                turn = bound / (n - 1);
#define TURN(i) (classes ? eturn[i] * ep : turn)
        if (cur == UINT32_MAX || now - p->cos_turn_start >= TURN(cur)) {
                if (cur == UINT32_MAX) {
                        /* a rotation starts: the highest class first, then table order */
                        for (unsigned i = 0; i < p->n_vms; i++)
                                if (p->vms[i].cos_candidate && (cur == UINT32_MAX || p->vms[i].prio > p->vms[cur].prio))
                                        cur = i;
                } else {
                        /* next candidate after the current one, in table order */
                        for (unsigned k = 1; k <= p->n_vms; k++) {
                                unsigned i = (cur + k) % p->n_vms;
                                if (p->vms[i].cos_candidate) {
                                        cur = i;
                                        break;
                                }
                        }
                }
                snprintf(p->cos_current, sizeof(p->cos_current), "%s", p->vms[cur].name);
                p->cos_turn_start = now;
        }
#undef TURN
        /* thaws first, then freezes (as a hand-set gang does): the CPUs are
         * never left to nobody between two turns */
        for (unsigned i = 0; i < p->n_vms; i++) {
                struct pvm *m = &p->vms[i];
                m->want_frozen = m->cos_candidate && i != cur;
                if (m->want_frozen && m->frozen && now - m->frozen_since > bound)
                        m->want_frozen = false;         /* the frozen-time bound wins over the rotation */
        }
        for (unsigned pass = 0; pass < 2; pass++)
        for (unsigned i = 0; i < p->n_vms; i++) {
                struct pvm *m = &p->vms[i];
                bool freeze = m->want_frozen;
                if (freeze != (pass == 1))
                        continue;
                if (freeze == m->frozen && (freeze || !m->vmk[VS_KNOB_FREEZE].managed))
                        continue;
                set_knob(p, m, -1, VS_KNOB_FREEZE, freeze ? "1" : "0", now, true,
                         freeze ? (m->why_frozen[0] ? m->why_frozen : "co-scheduling: another VM's turn")
                                : (m->why_turn[0] ? m->why_turn : "co-scheduling: this VM's turn"), e);
                if (freeze && !m->frozen)
                        m->frozen_since = now;
                m->frozen = freeze;
        }
}

/* ---------------------------------------------------------------- classifier */

/* Add the epoch just ended to the VM's window sums.  @was_frozen: the VM was
 * frozen by us during it, so its blocked time is our doing, not a halt. */
static void classify_accumulate(struct pvm *m, const struct vs_an_vm *vm, uint64_t now, uint64_t ipis,
                                uint64_t wait, uint64_t answered, uint64_t spin, uint64_t kicks, bool was_frozen) {
        uint64_t run = 0, delay = 0, blocked = 0, cause = 0, stalls = vm->stalls, avic = 0, pause = 0;

        for (unsigned k = 0; k < vm->n_pairs; k++) {
                avic += vm->pairs[k].avic_not_running;
        }
        for (unsigned k = 0; k < vm->n_vcpus; k++) {
                uint64_t r, d, b;
                if (!vm->vcpus[k].present)
                        continue;
                cause += vm->vcpus[k].cause_ns;
                pause += vm->vcpus[k].pause_exits;
                vs_an_vcpu_times(&vm->vcpus[k], now, &r, &d, &b);
                run += r;
                delay += d;
                blocked += b;
        }
#define DELTA(cur, snap) ((cur) >= (snap) ? (cur) - (snap) : 0)
        uint64_t d_run = DELTA(run, m->snap_run), d_delay = DELTA(delay, m->snap_delay),
                 d_blocked = DELTA(blocked, m->snap_blocked);
        m->w_run += d_run;
        m->w_delay += d_delay;
        if (was_frozen)
                m->w_frozen = true;
        else {
                m->w_blocked += d_blocked;
                m->w_unfrozen += d_run + d_delay + d_blocked;
        }
        m->w_ipis += DELTA(ipis, m->snap_ipis);
        m->w_wait += DELTA(wait, m->snap_wait);
        m->w_answered += DELTA(answered, m->snap_answered);
        m->w_spin += DELTA(spin, m->snap_spin);
        m->w_cause += DELTA(cause, m->snap_cause);
        m->w_kicks += DELTA(kicks, m->snap_kicks);
        m->w_stalls += DELTA(stalls, m->snap_stalls);
        m->w_stall_ns += DELTA(vm->stalled_ns, m->snap_stall_ns);
        m->w_avic += DELTA(avic, m->snap_avic);
        m->w_pause += DELTA(pause, m->snap_pause);
#undef DELTA
        m->snap_kicks = kicks;
        m->snap_stalls = stalls;
        m->snap_stall_ns = vm->stalled_ns;
        m->snap_avic = avic;
        m->snap_pause = pause;
        m->snap_cause = cause;
        m->snap_run = run;
        m->snap_delay = delay;
        m->snap_blocked = blocked;
        m->snap_wait = wait;
        m->snap_answered = answered;
        m->snap_spin = spin;
}

/* The reasons of the VM's placement and co-scheduling decisions: the usual
 * ones when IPIs drove them, else they name the signals that did. */
static void reasons_for(struct pvm *m, bool quiet) {
        char sig[96];
        const char *no = quiet ? "no IPI records; " : "";

        if (m->st.signals & VS_SIG_IPI) {
                m->why_place[0] = m->why_turn[0] = m->why_frozen[0] = 0;
                return;
        }
        vs_signals_format(m->st.signals, sig, sizeof(sig));
        snprintf(m->why_place, sizeof(m->why_place), "placement: waiting partners apart (%ssignals: %s)", no, sig);
        snprintf(m->why_turn, sizeof(m->why_turn), "co-scheduling: this VM's turn (%ssignals: %s)", no, sig);
        snprintf(m->why_frozen, sizeof(m->why_frozen), "co-scheduling: another VM's turn (%ssignals: %s)", no, sig);
}

static void window_reset(struct pvm *m) {
        m->w_run = m->w_delay = m->w_blocked = m->w_unfrozen = 0;
        m->w_ipis = m->w_wait = m->w_answered = m->w_spin = m->w_cause = m->w_kicks = 0;
        m->w_stalls = m->w_stall_ns = m->w_avic = m->w_pause = 0;
        m->w_frozen = false;
}

static bool vm_enforced(const struct vs_policy *p, const char *name, struct vs_vm_policy *vp) {
        vs_config_vm(p->cfg, name, vp);
        if (p->enforce_observed && vp->mode == VS_MODE_OBSERVE)
                vp->mode = VS_MODE_ENFORCE;
        return vp->mode == VS_MODE_ENFORCE;
}

/* A before or after figure is judged once it holds this many answered IPIs
 * (1 s at the testbed's starved 2:1 rates holds a handful: a coin flip), or
 * after this many windows (before: also the longest a spin-waiting VM that
 * could take turns waits for a partner). */
#define MIN_ANSWERED            30
#define MAX_BEFORE_WINDOWS      3
#define MAX_TRIAL_WINDOWS       5
/* PV kicks in one window that make a VM halting (see window_close()) */
#define MIN_KICKS               1

/* A window calm enough to count toward a first lever: halted less than half
 * of halt_share (tb-vmm's spinning guests: 0 %; the testbed's Linux guests
 * classified spin-waiting: 3-10 %). */
static bool calm(const struct vs_config *c, const struct vs_policy_vm_state *st) {
        return st->halt_share * 2 < c->halt_share;
}

static bool cos_fits(const struct vs_policy *p, const struct pvm *m, const struct vs_vm_policy *vp, uint64_t now) {
        return vp->coschedule && !m->no_cpus && m->present > 0 && m->present <= p->n_allowed &&
               (p->cfg->coschedule_yielding || now >= m->yielding_until) && m->st.banned_until[VS_LEVER_COSCHEDULE] <= now;
}

/* End of an evaluate_ms window: classify every VM from the window's figures,
 * judge the levers on trial, release what did not help or no longer fits,
 * and engage a lever on the spin-waiting VMs that have none. */
static void window_close(struct vs_policy *p, uint64_t now, double secs, bool oversubscribed) {
        const struct vs_config *c = p->cfg;
        double gain = 1.0 + c->min_gain_pct / 100.0;
        unsigned n_cos = 0, n_new_cos = 0;

        for (unsigned i = 0; i < p->n_vms; i++) {
                struct pvm *m = &p->vms[i];
                struct vs_policy_vm_state *st = &m->st;
                double vsecs = m->w_start && now > m->w_start ? (double) (now - m->w_start) / 1e9 : secs;
                double ipi_rate = m->w_ipis / vsecs, spin_rate = m->w_spin / vsecs;
                bool gate = !c->trigger_vcpu_contention || (oversubscribed && now < m->contended_until);
                /* waits: enough of its IPIs find the receiver preempted, and
                 * they are many (trigger_ipi_rate) or its vCPUs spent at least
                 * a tenth of the window waiting for not-running receivers
                 * (a VM starved by contention sends few IPIs: those it sends
                 * wait long) */
                bool waits = m->w_ipis > 0 &&
                             (double) m->w_wait >= c->trigger_preempted_share * (double) m->w_ipis &&
                             (ipi_rate >= c->trigger_ipi_rate || (double) m->w_cause >= 0.1 * vsecs * 1e9);
                bool spins = c->trigger_spin_rate > 0 && spin_rate >= c->trigger_spin_rate;
                /* Without IPI records (no unicast IPI seen on this host: Intel
                 * IPIv, AMD AVIC, or a recording without them) the waits are
                 * read from what stays visible: AVIC's target-not-running
                 * exits name the vCPU waited on; stalls (a vCPU
                 * preempted or delayed while a sibling runs) say a sibling may
                 * spin on it.  Together at trigger_ipi_rate, or stalled for a
                 * tenth of the window.  Whether the guest spins or halts while
                 * it waits is still the halt share's call below. */
                bool quiet = !p->ipis_seen;
                uint64_t q_events = m->w_avic + m->w_stalls;   /* PV kicks make it halting (below) */
                bool waits_quiet = quiet && q_events > 0 &&
                                   (q_events / vsecs >= c->trigger_ipi_rate || (double) m->w_stall_ns >= 0.1 * vsecs * 1e9);
                bool engaged = st->lever != VS_LEVER_NONE;
                /* a lever removes the very symptom (receivers preempted) that
                 * engaged it: an engaged VM stays classified while it keeps
                 * exchanging IPIs (or spinning, or is frozen by us) on an
                 * oversubscribed host */
                bool evidence = engaged ? (m->w_ipis > 0 || spins || m->w_frozen || (quiet && q_events > 0)) &&
                                                  (!c->trigger_vcpu_contention || oversubscribed)
                                        : gate && (waits || spins || waits_quiet);
                /* the signals this window's verdict rests on (kept from the last
                 * window that had any) */
                unsigned sig = 0;
                if (m->w_ipis > 0 && (waits || engaged))
                        sig |= VS_SIG_IPI | (m->w_answered ? VS_SIG_EOI : 0);
                if (spins || (engaged && m->w_spin))
                        sig |= (m->w_pause ? VS_SIG_PAUSE : 0) | (m->w_spin > m->w_pause ? VS_SIG_PV_YIELD : 0);
                if (waits_quiet || (engaged && quiet && q_events))
                        sig |= (m->w_avic ? VS_SIG_AVIC : 0) | (m->w_stalls ? VS_SIG_PREEMPTION : 0);
                if (evidence && sig) {
                        st->signals = sig;
                        reasons_for(m, quiet);
                }

                st->halt_share = m->w_unfrozen ? (double) m->w_blocked / (double) m->w_unfrozen : 0;
                st->kick_rate = m->w_kicks / vsecs;
                /* hysteresis: a spin-waiting VM stays so through one window
                 * without evidence (borderline contention flaps from window to
                 * window); it is not engaged nor sampled in that window */
                bool hold = !evidence && st->cls == VS_CLASS_SPIN && !m->held;
                m->held = hold;
                /* a VM we froze in this window is not judged halting: its
                 * vCPUs sleep frozen, and live the trace's lag smears that
                 * sleep past the thaw into its turns (the testbed saw spinning
                 * guests at 25-29 %); the judge below still releases turns
                 * that do not help */
                /* PV kicks (hypercall 5) mean the guest's lock waiters
                 * halted (PV spinlocks' slow path) and are woken by the
                 * unlocker: a guest that waits by halting, whatever share of
                 * the window its vCPUs happened to sleep (the testbed's Linux
                 * guests flapped between 1 and 30 %) */
                bool halting = (st->halt_share >= c->halt_share || m->w_kicks >= MIN_KICKS) && !m->w_frozen;
                st->cls = hold ? VS_CLASS_SPIN :
                          !evidence ? VS_CLASS_NONE : halting ? VS_CLASS_HALT : VS_CLASS_SPIN;
                st->windows++;
                /* memory: a VM seen halting under contention gets no lever
                 * for retry_ms, whatever the next windows say (its guest
                 * waits by halting; a borderline window must not buy it a
                 * gang or a pin) */
                if (st->cls == VS_CLASS_HALT)
                        st->halted_until = now + (uint64_t) c->retry_ms * 1000000ull;
                m->release_reason = NULL;
                if (engaged && st->cls != VS_CLASS_SPIN) {
                        m->release_reason = st->cls == VS_CLASS_HALT ? "lever released: the guest halts" :
                                                                       "lever released: no longer contended";
                        st->lever = VS_LEVER_NONE;
                        st->trial = VS_TRIAL_NONE;
                        m->t_ans = m->t_ns = m->t_spin = m->t_windows = m->t_stall_ns = 0;
                } else if (engaged && st->trial == VS_TRIAL_RUNNING) {
                        m->t_ans += m->w_answered;
                        m->t_ns += (uint64_t) (vsecs * 1e9);
                        m->t_spin += m->w_spin;
                        m->t_stall_ns += m->w_stall_ns;
                        m->t_windows++;
                        double t_secs = m->t_ns / 1e9, a_rate = m->t_ans / t_secs, s_rate = m->t_spin / t_secs;
                        double st_share = m->t_stall_ns / (double) m->t_ns;
                        /* lower is better for spinning and stalls, higher for answered IPIs */
                        bool lower_better = m->before_spin_only || m->before_stall_only;
                        double lower = m->before_stall_only ? st_share : s_rate;
                        /* worse than before already: released at the end of
                         * this window, however few IPIs it holds */
                        bool worse = lower_better ? lower > st->before : a_rate < st->before;
                        if (worse || lower_better || m->t_ans >= MIN_ANSWERED || m->t_windows >= MAX_TRIAL_WINDOWS) {
                                bool helped = lower_better ? lower * gain <= st->before && lower < st->before
                                                           : a_rate >= st->before * gain && a_rate > st->before;
                                st->after = m->before_stall_only ? st_share : m->before_spin_only ? s_rate : a_rate;
                                if (helped && !worse)
                                        st->trial = VS_TRIAL_KEPT;
                                else {
                                        /* backoff: retry_ms, doubled with each
                                         * failed trial of the lever on this VM
                                         * (up to 32 times) */
                                        unsigned f = st->failed[st->lever] < 5 ? st->failed[st->lever] : 5;
                                        m->release_reason = worse ? "lever released: the VM did worse with it" :
                                                                    "lever released: it did not help";
                                        st->banned_until[st->lever] = now + ((uint64_t) c->retry_ms * 1000000ull << f);
                                        st->failed[st->lever]++;
                                        st->lever = VS_LEVER_NONE;
                                        st->trial = VS_TRIAL_NONE;
                                }
                        }
                }
                /* the figures before any lever, over the spin-waiting windows
                 * without one: what a trial is judged against.  Only calm
                 * windows count (halted less than half of halt_share: the
                 * class's hysteresis, enter below half, leave at halt_share);
                 * any other window starts the sample again */
                if (m->held)
                        ;               /* neither sampled nor reset */
                else if (st->lever == VS_LEVER_NONE && st->cls == VS_CLASS_SPIN && !m->release_reason &&
                         st->halted_until <= now && calm(c, st)) {
                        m->b_ans += m->w_answered;
                        m->b_ns += (uint64_t) (vsecs * 1e9);
                        m->b_spin += m->w_spin;
                        m->b_stall_ns += m->w_stall_ns;
                        m->b_windows++;
                } else if (st->lever == VS_LEVER_NONE)
                        m->b_ans = m->b_ns = m->b_spin = m->b_windows = m->b_stall_ns = 0;
                window_reset(m);
                m->w_start = now;
        }

        /* engage: co-scheduling needs two VMs to take turns.  Partners: the
         * VMs co-scheduled already, the spin-waiting VMs without a lever, and
         * spin-waiting VMs on placement that could take turns (a VM classified
         * a window later than its partner moves them to co-scheduling; the
         * trial starts again against its lever-free "before"). */
        unsigned n_pending_cos = 0;
        for (unsigned i = 0; i < p->n_vms; i++) {
                struct pvm *m = &p->vms[i];
                struct vs_vm_policy vp;
                m->engage = false;
                if (m->st.lever == VS_LEVER_COSCHEDULE)
                        n_cos++;
                if (m->st.cls != VS_CLASS_SPIN || m->release_reason || m->no_cpus || !vm_enforced(p, m->name, &vp) ||
                    m->st.lever == VS_LEVER_COSCHEDULE || m->st.halted_until > now ||
                    (m->st.lever == VS_LEVER_NONE && !m->held && !calm(c, &m->st)))
                        continue;       /* a lever released now: the next window is the clean "before" */
                if (m->held) {
                        n_pending_cos += m->st.lever == VS_LEVER_NONE && cos_fits(p, m, &vp, now);
                        continue;
                }
                if (m->st.lever == VS_LEVER_NONE) {
                        bool ready = m->b_windows > 0 && (m->b_ans >= MIN_ANSWERED || m->b_windows >= MAX_BEFORE_WINDOWS ||
                                                          (m->b_ans == 0 && m->b_spin > 0) ||
                                                          (m->b_ans == 0 && m->b_spin == 0 && m->b_stall_ns > 0));
                        if (!ready) {
                                n_pending_cos += cos_fits(p, m, &vp, now);
                                continue;       /* its "before" needs more IPIs */
                        }
                        m->engage = true;
                        m->fresh = true;
                        if (cos_fits(p, m, &vp, now))
                                n_new_cos++;
                } else if (cos_fits(p, m, &vp, now)) {
                        m->engage = true;       /* on placement: may move to co-scheduling */
                        m->fresh = false;
                        n_new_cos++;
                }
        }
        bool cos = n_cos + n_new_cos >= 2 && n_new_cos > 0;
        for (unsigned i = 0; i < p->n_vms; i++) {
                struct pvm *m = &p->vms[i];
                struct vs_vm_policy vp;
                if (!m->engage)
                        continue;
                m->engage = false;
                (void) vm_enforced(p, m->name, &vp);
                if (cos && cos_fits(p, m, &vp, now))
                        m->st.lever = VS_LEVER_COSCHEDULE;
                else if (!m->fresh)
                        continue;       /* stays on placement */
                else if (cos_fits(p, m, &vp, now) && n_pending_cos > 0 && m->b_windows < MAX_BEFORE_WINDOWS)
                        continue;       /* a partner to take turns with is being classified: wait for it */
                else if (vp.placement && m->st.banned_until[VS_LEVER_PLACEMENT] <= now)
                        m->st.lever = VS_LEVER_PLACEMENT;
                else if (!vp.placement && !vp.coschedule && vp.weights &&
                         m->st.banned_until[VS_LEVER_WEIGHTS] <= now)
                        m->st.lever = VS_LEVER_WEIGHTS;
                else
                        continue;       /* nothing left to try on it */
                m->st.trial = VS_TRIAL_RUNNING;
                m->st.after = 0;
                m->t_ans = m->t_ns = m->t_spin = m->t_windows = m->t_stall_ns = 0;
                if (!m->fresh)
                        continue;       /* judged against the windows before its first lever */
                double b_secs = m->b_ns ? m->b_ns / 1e9 : 1;
                /* the figure: answered IPIs/s; without answered IPIs, PAUSE
                 * exits + PV yields/s; without those, the stalled share */
                m->before_stall_only = m->b_ans == 0 && m->b_spin == 0 && m->b_stall_ns > 0;
                m->before_spin_only = m->b_ans == 0 && !m->before_stall_only;
                m->st.figure = m->before_stall_only ? VS_FIGURE_STALLED : m->before_spin_only ? VS_FIGURE_SPIN
                                                                                               : VS_FIGURE_ANSWERED;
                m->st.before = m->before_stall_only ? m->b_stall_ns / (b_secs * 1e9)
                               : m->before_spin_only ? m->b_spin / b_secs : m->b_ans / b_secs;
                m->b_ans = m->b_ns = m->b_spin = m->b_windows = m->b_stall_ns = 0;
        }
}

int vs_policy_vm_state(const struct vs_policy *p, const char *vm, struct vs_policy_vm_state *ret) {
        struct pvm *m = pvm_get((struct vs_policy *) p, vm, false);

        if (!m)
                return -ENOENT;
        *ret = m->st;
        return 0;
}

/* ---------------------------------------------------------------- epoch */

/* What keeps the policy at epoch_ms: NULL when nothing, else a static
 * description, and in *@ret_vm the VM that holds it (NULL for a rotation). */
static const char *holding(const struct vs_policy *p, const struct pvm **ret_vm) {
        *ret_vm = NULL;
        if (p->cos_current[0])
                return "a co-scheduling rotation";
        for (unsigned i = 0; i < p->n_vms; i++) {
                const struct pvm *m = &p->vms[i];
                const char *what = m->frozen ? "frozen" : m->placed ? "placed" : m->weighted ? "weighted" :
                                   m->cos_candidate ? "a co-scheduling candidate" :
                                   m->st.trial != VS_TRIAL_NONE ? "a lever on trial or kept" :
                                   m->st.lever != VS_LEVER_NONE ? "a lever" :
                                   m->active ? "waiting (its levers held)" : NULL;
                if (what) {
                        *ret_vm = m;
                        return what;
                }
        }
        return NULL;
}

const char *vs_policy_holds(const struct vs_policy *p, char *buf, size_t len) {
        const struct pvm *m;
        const char *what = holding(p, &m);

        if (!what)
                return NULL;
        if (m)
                snprintf(buf, len, "%s: %s", m->name, what);
        else
                snprintf(buf, len, "%s (%s's turn)", what, p->cos_current);
        return buf;
}

uint64_t vs_policy_next_epoch_ns(const struct vs_policy *p) {
        const struct vs_config *c = p->cfg;
        uint64_t ep = c->epoch_ms, idle = VS_POLICY_IDLE_EPOCH_MS;
        const struct pvm *m;

        if (c->evaluate_ms && idle > c->evaluate_ms)
                idle = c->evaluate_ms;
        if (idle < ep)
                idle = ep;
        /* (the test only: no description is formatted on every epoch) */
        if (holding(p, &m))
                return ep * 1000000ull;
        /* no VM at all: nothing to decide until one appears (the /proc
         * rescan and libvirt find it; its first epoch comes within
         * evaluate_ms, as a window's verdict would) */
        if (p->n_vms == 0 && c->evaluate_ms > idle)
                return (uint64_t) c->evaluate_ms * 1000000ull;
        return idle * 1000000ull;
}

int vs_policy_epoch(struct vs_policy *p, const struct vs_analysis *a, uint64_t now, vs_decision_cb cb, void *ud) {
        struct emit e = { cb, ud, 0 };
        double dt = p->last_epoch && now > p->last_epoch ? (double) (now - p->last_epoch) : p->cfg->epoch_ms * 1e6;
        double entities = host_entities(p, a, dt);
        /* the holds: decay_half_life_ms, at least one epoch */
        uint64_t hold = (uint64_t) (p->cfg->decay_half_life_ms > p->cfg->epoch_ms ? p->cfg->decay_half_life_ms
                                                                                 : p->cfg->epoch_ms) * 1000000ull;
        const bool classify = p->cfg->classify;

        p->last_epoch = now;
        refresh_reserved(p);
        if (!p->window_start)
                p->window_start = now;
        /* oversubscribed: more live vCPU threads than CPUs they may use */
        unsigned host_vcpus = 0;
        for (unsigned i = 0; i < vs_analysis_n_vms(a); i++) {
                const struct vs_an_vm *vm = vs_analysis_vm(a, i);
                for (unsigned k = 0; k < vm->n_vcpus; k++)
                        host_vcpus += vm->vcpus[k].present && vm->vcpus[k].state != VS_AN_EXITED;
        }
        bool oversubscribed = host_vcpus > p->n_allowed;

        /* 1: what each VM did since the previous epoch */
        for (unsigned i = 0; i < vs_analysis_n_vms(a); i++) {
                const struct vs_an_vm *vm = vs_analysis_vm(a, i);
                struct pvm *m = pvm_get(p, vm->name, true);
                uint64_t ipis = 0, notrun = 0, osc = 0, vpre = 0, pvy = 0, wait = 0, answered = 0, spin = 0, kicks = 0;
                unsigned present = 0;

                if (!m)
                        return -ENOMEM;
                if (!m->w_start)
                        m->w_start = now > p->cfg->epoch_ms * 1000000ull ? now - p->cfg->epoch_ms * 1000000ull : 1;
                for (unsigned k = 0; k < vm->n_pairs; k++) {
                        const struct vs_an_pair *pr = &vm->pairs[k];
                        ipis += pr->ipis;
                        notrun += vs_an_pair_not_running(pr);
                        wait += (uint64_t) pr->at_state[VS_AN_PREEMPTED] + pr->at_state[VS_AN_WOKEN];
                        answered += pr->eoi_matched;
                        osc += pr->oscillations;
                        pvy += pr->yields - pr->kicks;  /* hypercall 11 only, not PV-spinlock kicks */
                        kicks += pr->kicks;
                }
                for (unsigned k = 0; k < vm->n_vcpus; k++) {
                        present += vm->vcpus[k].present;
                        vpre += vm->vcpus[k].vcpu_preemptions;
                        spin += vm->vcpus[k].pause_exits;
                }
                spin += pvy;
                m->present = present;
                struct vs_vm_policy cls_vp;
                vs_config_vm(p->cfg, vm->name, &cls_vp);
                m->prio = cls_vp.priority;
                m->no_cpus = vm_all_reserved(p, m, vm);
                m->st.skipped = m->no_cpus ? "every CPU it may use is reserved" : NULL;
                if (ipis > 0)
                        p->ipis_seen = true;
                if (classify)
                        classify_accumulate(m, vm, now, ipis, wait, answered, spin, kicks, m->frozen);
                /* counters since the previous epoch (since the start for a new VM) */
                uint64_t d_ipis = ipis - m->snap_ipis, d_notrun = notrun - m->snap_notrun;
                m->oscillating = osc > m->snap_osc;
                if (vpre > m->snap_vpre)
                        m->contended_until = now + hold;
                /* A guest that makes a directed PV yield (hypercall 11) for every
                 * IPI it sends already hands its CPU to the receiver it waits
                 * for; freezing turns then only add their cost (testbed, 2:1,
                 * bench/results.md): no co-scheduling for it unless
                 * coschedule_yielding. */
                uint64_t d_pvy = pvy - m->snap_pvy;
                if (d_pvy > 0 && d_pvy >= d_ipis)
                        m->yielding_until = now + hold;
                m->snap_pvy = pvy;
                m->snap_ipis = ipis;
                m->snap_notrun = notrun;
                m->snap_osc = osc;
                m->snap_vpre = vpre;

                if (classify)
                        continue;
                double rate = d_ipis / (dt / 1e9);
                /* Waiting alone is not enough: when the vCPUs fit on the CPUs
                 * (the balancer then gives each its own) or only host tasks
                 * preempt them, placement, turns and weights cannot help and
                 * were measured to cost (testbed, 1:1); act only on an
                 * oversubscribed host while vCPU threads preempt vCPU threads
                 * (trigger_vcpu_contention). */
                bool trig = d_ipis > 0 && rate >= p->cfg->trigger_ipi_rate &&
                            (double) d_notrun >= p->cfg->trigger_preempted_share * (double) d_ipis &&
                            (!p->cfg->trigger_vcpu_contention || (oversubscribed && now < m->contended_until));
                /* An engaged VM stays engaged while it keeps exchanging IPIs (or is
                 * frozen by us): the levers remove the very symptom (preempted
                 * receivers) that triggered them, so that alone must not release
                 * them.  Released `hold` after the last epoch with traffic. */
                bool traffic = rate >= p->cfg->trigger_ipi_rate || m->frozen;
                /* ... but not once the host stops being oversubscribed (a VM left) */
                bool still_contended = !p->cfg->trigger_vcpu_contention || oversubscribed;
                if (trig || (m->active && traffic && still_contended))
                        m->busy_at = now;
                m->active = trig || (m->active && now - m->busy_at < hold);
        }

        /* 2: the classifier's window */
        if (classify && now - p->window_start >= (uint64_t) p->cfg->evaluate_ms * 1000000ull) {
                window_close(p, now, (double) (now - p->window_start) / 1e9, oversubscribed);
                p->window_start = now;
        }

        /* 3: levers, the higher classes first (they pick their CPUs first);
         * within a class in the model's order */
        unsigned n_an = vs_analysis_n_vms(a);
        _cleanup_free_ unsigned *by_prio = malloc((n_an ? n_an : 1) * sizeof(*by_prio));
        if (!by_prio)
                return -ENOMEM;
        unsigned n_by = 0;
        for (int pr = _VS_PRIO_MAX - 1; pr >= VS_PRIO_LOW; pr--)
                for (unsigned i = 0; i < n_an; i++) {
                        const struct pvm *m = pvm_get(p, vs_analysis_vm(a, i)->name, false);
                        if ((m ? (int) m->prio : VS_PRIO_NORMAL) == pr)
                                by_prio[n_by++] = i;
                }
        for (unsigned j = 0; j < n_by; j++) {
                const struct vs_an_vm *vm = vs_analysis_vm(a, by_prio[j]);
                struct vs_vm_policy vp;
                struct pvm *m = pvm_get(p, vm->name, false);

                if (!m)
                        continue;
                m->cos_candidate = false;
                if (m->no_cpus) {
                        /* nowhere to put its vCPUs: no lever at all (turns and
                         * weights included), whatever it held goes back */
                        release_vm(p, m, now, "every CPU it may use is reserved", &e);
                        m->st.lever = VS_LEVER_NONE;
                        m->st.trial = VS_TRIAL_NONE;
                        m->active = false;
                        continue;
                }
                if (!vm_enforced(p, vm->name, &vp)) {
                        release_vm(p, m, now, "mode is not enforce", &e);
                        m->st.lever = VS_LEVER_NONE;
                        m->st.trial = VS_TRIAL_NONE;
                        /* nothing will act on its waiting (classify = no):
                         * it must not keep the policy at epoch_ms either */
                        m->active = false;
                        continue;
                }
                /* cpu.idle only as the operator asks */
                if (vp.idle >= 0)
                        for (unsigned k = 0; k < vm->n_vcpus; k++)
                                if (vm->vcpus[k].present)
                                        set_knob(p, m, (int32_t) k, VS_KNOB_IDLE, vp.idle ? "1" : "0", now, false,
                                                 "idle as configured", &e);

                bool want_place, want_cos;
                const char *unplace_why = "placement released: no waiting";
                if (classify) {
                        enum vs_lever l = m->st.lever;
                        m->active = l != VS_LEVER_NONE;
                        want_place = vp.placement && (l == VS_LEVER_PLACEMENT || l == VS_LEVER_COSCHEDULE);
                        want_cos = l == VS_LEVER_COSCHEDULE && vp.coschedule;
                        if (m->release_reason)
                                unplace_why = m->release_reason;
                } else {
                        want_place = vp.placement && m->active;
                        want_cos = vp.coschedule && m->active && (p->cfg->coschedule_yielding || now >= m->yielding_until);
                }
                if (want_place)
                        place(p, m, vm, &vp, now, &e);
                else if (m->placed && !m->active)
                        unplace(p, m, now, unplace_why, &e);
                else if (m->placed && classify && !want_place)
                        unplace(p, m, now, unplace_why, &e);
                if (vp.weights)
                        weigh(p, m, vm, &vp, entities, m->oscillating, dt, now, &e);
                else if (m->weighted)
                        release_vm(p, m, now, "weights disabled", &e);
                m->cos_candidate = want_cos && m->present <= p->n_allowed && m->present > 0;
        }
        coschedule(p, now, &e);
        return e.n;
}

int vs_policy_release(struct vs_policy *p, uint64_t now, vs_decision_cb cb, void *ud) {
        struct emit e = { cb, ud, 0 };

        for (unsigned i = 0; i < p->n_vms; i++) {
                release_vm(p, &p->vms[i], now, "release: back to baseline", &e);
                p->vms[i].st.lever = VS_LEVER_NONE;
                p->vms[i].st.trial = VS_TRIAL_NONE;
        }
        p->cos_current[0] = 0;
        return e.n;
}

void vs_policy_enforce_observed(struct vs_policy *p, bool on) {
        p->enforce_observed = on;
}

const char *vs_policy_baseline(const struct vs_policy *p, const char *vm, int32_t vcpu, enum vs_knob k) {
        struct pvm *m = pvm_get((struct vs_policy *) p, vm, false);
        struct knob_state *ks;

        if (!m || (vcpu >= 0 && (unsigned) vcpu >= m->n))
                return NULL;
        ks = vcpu < 0 ? &m->vmk[k] : &m->v[vcpu].k[k];
        return ks->has_base ? ks->base : NULL;
}

int vs_policy_set_current(struct vs_policy *p, const char *vm, int32_t vcpu, enum vs_knob k, const char *value) {
        struct pvm *m = pvm_get(p, vm, false);
        struct knob_state *ks;

        if (!m || !(ks = knob(m, vcpu, k)))
                return -ENOENT;
        snprintf(ks->cur, sizeof(ks->cur), "%s", value);
        return 0;
}
