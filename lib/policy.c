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
};

struct pvm {
        char name[VS_VM_NAME_MAX];
        unsigned n;                     /* pvcpu slots */
        struct pvcpu *v;
        struct knob_state vmk[_VS_KNOB_MAX];
        uint64_t snap_ipis, snap_notrun, snap_osc, snap_vpre, snap_pvy;
        unsigned contended;             /* epochs left of the last vCPU-on-vCPU preemption's hold */
        unsigned yielding;              /* epochs left: the guest directs its own yields */
        bool active;                    /* waiting persists (or held after it) */
        unsigned quiet;                 /* epochs without the trigger */
        bool placed, weighted;
        unsigned placed_n;              /* vCPUs present when placed */
        bool frozen;
        uint64_t frozen_since;
        bool cos_candidate;
};

struct vs_policy {
        const struct vs_config *cfg;
        unsigned *cpus;
        unsigned n_cpus;
        struct pvm *vms;
        unsigned n_vms, cap_vms;
        uint64_t last_epoch;
        double *snap_depth;             /* per host CPU: depth_ns integral at the last epoch */
        unsigned n_snap_depth;
        bool enforce_observed;
        /* co-scheduling rotation */
        char cos_current[VS_VM_NAME_MAX];
        uint64_t cos_turn_start;
};

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

/* Spread the VM's present vCPUs over min(n, CPUs) disjoint CPU groups so that
 * vCPUs exchanging IPIs land in different groups (greedy colouring by edge
 * weight when vCPUs outnumber CPUs). */
static void place(struct vs_policy *p, struct pvm *m, const struct vs_an_vm *vm, const struct vs_vm_policy *vp,
                  uint64_t now, struct emit *e) {
        unsigned n_present = 0, groups;
        _cleanup_free_ uint64_t *load = NULL;
        _cleanup_free_ unsigned *order = NULL;
        char all[VS_VALUE_MAX];

        cpulist(p->cpus, p->n_cpus, all, sizeof(all));
        for (unsigned i = 0; i < vm->n_vcpus; i++)
                if (vm->vcpus[i].present) {
                        struct pvcpu *v = pvcpu_get(m, i);
                        if (!v)
                                return;
                        /* the operator pinned this vCPU: leave the VM alone ("" = a
                         * v2 group that inherits its parent's CPUs: not pinned) */
                        const char *b = base_of(p, &v->k[VS_KNOB_CPUSET], VS_KNOB_CPUSET);
                        if (!vp->pin_override && b[0] && strcmp(b, all) != 0)
                                return;
                        n_present++;
                }
        if (n_present < 2)
                return;
        /* sticky: an assignment stands while the VM keeps its vCPUs; moving
         * vCPUs every epoch would cost more than it gains */
        if (m->placed && m->placed_n == n_present)
                return;
        groups = n_present < p->n_cpus ? n_present : p->n_cpus;
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
                                w += (x ? x->ipis : 0) + (y ? y->ipis : 0) + 1;
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
                                        const struct vs_an_pair *x;
                                        uint64_t wi = 0, wj = 0;
                                        if ((x = vs_analysis_pair(vm, i, k)))
                                                wi += x->ipis;
                                        if ((x = vs_analysis_pair(vm, k, i)))
                                                wi += x->ipis;
                                        if ((x = vs_analysis_pair(vm, j, k)))
                                                wj += x->ipis;
                                        if ((x = vs_analysis_pair(vm, k, j)))
                                                wj += x->ipis;
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

        /* group g gets CPUs g, g + groups, g + 2 * groups, ... of the allowed list */
        for (unsigned a = 0; a < no; a++) {
                unsigned i = order[a], sel[p->n_cpus], ns = 0;
                char list[VS_VALUE_MAX];
                for (unsigned c = m->v[i].group; c < p->n_cpus; c += groups)
                        sel[ns++] = p->cpus[c];
                cpulist(sel, ns, list, sizeof(list));
                set_knob(p, m, (int32_t) i, VS_KNOB_CPUSET, list, now, false, "placement: IPI partners apart", e);
        }
        m->placed = true;
        m->placed_n = n_present;
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
                total += base[n];
                n++;
        }
        if (n < 2)
                return;

        if (m->active && max_cause > 0 && cap > 1) {
                for (unsigned k = 0; k < n; k++)
                        w[k] = base[k] * (1 + (cap - 1) * cause[k] / max_cause);
        } else {
                /* decay toward baseline */
                double f = p->cfg->decay_half_life_ms ? exp2(-dt_ns / (p->cfg->decay_half_life_ms * 1e6)) : 0;
                bool at_base = true;
                for (unsigned k = 0; k < n; k++) {
                        double cur = m->v[idx[k]].weight;
                        w[k] = base[k] + (cur - base[k]) * f;
                        if (fabs(w[k] - base[k]) >= 0.5)
                                at_base = false;
                }
                if (at_base) {
                        for (unsigned k = 0; k < n; k++)
                                w[k] = base[k];
                        if (!m->weighted && !starving)
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
        if ((n - 1) * turn > bound)
                turn = bound / (n - 1);
        if (cur == UINT32_MAX || now - p->cos_turn_start >= turn) {
                /* next candidate after the current one, in table order */
                unsigned start = cur == UINT32_MAX ? p->n_vms - 1 : cur;
                for (unsigned k = 1; k <= p->n_vms; k++) {
                        unsigned i = (start + k) % p->n_vms;
                        if (p->vms[i].cos_candidate) {
                                cur = i;
                                break;
                        }
                }
                snprintf(p->cos_current, sizeof(p->cos_current), "%s", p->vms[cur].name);
                p->cos_turn_start = now;
        }
        for (unsigned i = 0; i < p->n_vms; i++) {
                struct pvm *m = &p->vms[i];
                bool freeze = m->cos_candidate && i != cur;
                if (freeze && m->frozen && now - m->frozen_since > bound)
                        freeze = false;         /* the frozen-time bound wins over the rotation */
                if (freeze == m->frozen && (freeze || !m->vmk[VS_KNOB_FREEZE].managed))
                        continue;
                set_knob(p, m, -1, VS_KNOB_FREEZE, freeze ? "1" : "0", now, true,
                         freeze ? "co-scheduling: another VM's turn" : "co-scheduling: this VM's turn", e);
                if (freeze && !m->frozen)
                        m->frozen_since = now;
                m->frozen = freeze;
        }
}

int vs_policy_epoch(struct vs_policy *p, const struct vs_analysis *a, uint64_t now, vs_decision_cb cb, void *ud) {
        struct emit e = { cb, ud, 0 };
        double dt = p->last_epoch && now > p->last_epoch ? (double) (now - p->last_epoch) : p->cfg->epoch_ms * 1e6;
        double entities = host_entities(p, a, dt);
        unsigned hold = p->cfg->epoch_ms ? p->cfg->decay_half_life_ms / p->cfg->epoch_ms : 1;

        p->last_epoch = now;
        if (hold < 1)
                hold = 1;
        /* oversubscribed: more live vCPU threads than CPUs they may use */
        unsigned host_vcpus = 0;
        for (unsigned i = 0; i < vs_analysis_n_vms(a); i++) {
                const struct vs_an_vm *vm = vs_analysis_vm(a, i);
                for (unsigned k = 0; k < vm->n_vcpus; k++)
                        host_vcpus += vm->vcpus[k].present && vm->vcpus[k].state != VS_AN_EXITED;
        }
        bool oversubscribed = host_vcpus > p->n_cpus;
        for (unsigned i = 0; i < vs_analysis_n_vms(a); i++) {
                const struct vs_an_vm *vm = vs_analysis_vm(a, i);
                struct vs_vm_policy vp;
                struct pvm *m = pvm_get(p, vm->name, true);
                uint64_t ipis = 0, notrun = 0, osc = 0, vpre = 0, pvy = 0;
                unsigned present = 0;

                if (!m)
                        return -ENOMEM;
                m->cos_candidate = false;
                vs_config_vm(p->cfg, vm->name, &vp);
                if (p->enforce_observed && vp.mode == VS_MODE_OBSERVE)
                        vp.mode = VS_MODE_ENFORCE;
                for (unsigned k = 0; k < vm->n_pairs; k++) {
                        const struct vs_an_pair *pr = &vm->pairs[k];
                        ipis += pr->ipis;
                        notrun += vs_an_pair_not_running(pr);
                        osc += pr->oscillations;
                        pvy += pr->yields - pr->kicks;  /* hypercall 11 only, not PV-spinlock kicks */
                }
                for (unsigned k = 0; k < vm->n_vcpus; k++) {
                        present += vm->vcpus[k].present;
                        vpre += vm->vcpus[k].vcpu_preemptions;
                }
                /* counters since the previous epoch (since the start for a new VM) */
                uint64_t d_ipis = ipis - m->snap_ipis, d_notrun = notrun - m->snap_notrun;
                bool oscillating = osc > m->snap_osc;
                if (vpre > m->snap_vpre)
                        m->contended = hold;
                else if (m->contended > 0)
                        m->contended--;
                /* A guest that makes a directed PV yield (hypercall 11) for every
                 * IPI it sends already hands its CPU to the receiver it waits
                 * for; freezing turns then only add their cost (testbed, 2:1,
                 * bench/results.md): no co-scheduling for it unless
                 * coschedule_yielding. */
                uint64_t d_pvy = pvy - m->snap_pvy;
                if (d_pvy > 0 && d_pvy >= d_ipis)
                        m->yielding = hold;
                else if (m->yielding > 0)
                        m->yielding--;
                m->snap_pvy = pvy;
                m->snap_ipis = ipis;
                m->snap_notrun = notrun;
                m->snap_osc = osc;
                m->snap_vpre = vpre;

                if (vp.mode != VS_MODE_ENFORCE) {
                        release_vm(p, m, now, "mode is not enforce", &e);
                        continue;
                }
                /* cpu.idle only as the operator asks */
                if (vp.idle >= 0)
                        for (unsigned k = 0; k < vm->n_vcpus; k++)
                                if (vm->vcpus[k].present)
                                        set_knob(p, m, (int32_t) k, VS_KNOB_IDLE, vp.idle ? "1" : "0", now, false,
                                                 "idle as configured", &e);

                double rate = d_ipis / (dt / 1e9);
                /* Waiting alone is not enough: when the vCPUs fit on the CPUs
                 * (the balancer then gives each its own) or only host tasks
                 * preempt them, placement, turns and weights cannot help and
                 * were measured to cost (testbed, 1:1); act only on an
                 * oversubscribed host while vCPU threads preempt vCPU threads
                 * (trigger_vcpu_contention). */
                bool trig = d_ipis > 0 && rate >= p->cfg->trigger_ipi_rate &&
                            (double) d_notrun >= p->cfg->trigger_preempted_share * (double) d_ipis &&
                            (!p->cfg->trigger_vcpu_contention || (oversubscribed && m->contended > 0));
                /* An engaged VM stays engaged while it keeps exchanging IPIs (or is
                 * frozen by us): the levers remove the very symptom (preempted
                 * receivers) that triggered them, so that alone must not release
                 * them.  Released after `hold` epochs without traffic. */
                bool traffic = rate >= p->cfg->trigger_ipi_rate || m->frozen;
                /* ... but not once the host stops being oversubscribed (a VM left) */
                bool still_contended = !p->cfg->trigger_vcpu_contention || oversubscribed;
                m->quiet = trig || (m->active && traffic && still_contended) ? 0 : m->quiet + 1;
                m->active = trig || (m->active && m->quiet < hold);

                if (vp.placement && m->active)
                        place(p, m, vm, &vp, now, &e);
                else if (m->placed && !m->active)
                        unplace(p, m, now, "placement released: no waiting", &e);
                if (vp.weights)
                        weigh(p, m, vm, &vp, entities, oscillating, dt, now, &e);
                else if (m->weighted)
                        release_vm(p, m, now, "weights disabled", &e);
                m->cos_candidate = vp.coschedule && m->active && present <= p->n_cpus && present > 0 &&
                                   (p->cfg->coschedule_yielding || m->yielding == 0);
        }
        coschedule(p, now, &e);
        return e.n;
}

int vs_policy_release(struct vs_policy *p, uint64_t now, vs_decision_cb cb, void *ud) {
        struct emit e = { cb, ud, 0 };

        for (unsigned i = 0; i < p->n_vms; i++)
                release_vm(p, &p->vms[i], now, "release: back to baseline", &e);
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
