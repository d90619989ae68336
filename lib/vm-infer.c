/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"
#include "vm-infer.h"

#define EOI_WINDOW_NS (100ull * 1000 * 1000)    /* an EOI later than this after the IPI is not its EOI */
#define KICK_WINDOW_NS (1000ull * 1000)         /* IPI -> wake-up of the receiver, same CPU */
#define PENDING_MAX 8                           /* senders remembered per (APIC ID, vector) */
#define ANY_VECTOR 256                          /* pending by APIC ID alone, for polled wake-ups */
#define MAX_CPUS 8192
#define MAYBE_GROUPS_MAX 4096                   /* above this many groups, pairs are not listed */
#define DOMINANCE 2.0                           /* a link joins only if this much above its rivals */
#define MIN_JOIN 2.0                            /* ... and worth two observations at least */

struct link {
        uint64_t key;           /* lo TID << 32 | hi TID; 0 = empty */
        double w;
        double next;            /* weight at which the grouping may change again */
};

struct pending {
        uint32_t dest;
        int16_t vector;         /* -1 = empty slot */
        uint8_t n;
        struct {
                int32_t tid;
                uint64_t ts;
        } s[PENDING_MAX];
};

struct last_ipi {
        int32_t tid;            /* 0 = none */
        uint64_t ts;
};

struct vs_vm_infer {
        struct link *links;
        size_t n_links, cap_links;
        struct pending *pend;
        size_t n_pend, cap_pend;
        struct last_ipi *cpus;
        size_t n_cpus;
        bool sealed;
};

int vs_vm_infer_new(struct vs_vm_infer **ret) {
        struct vs_vm_infer *vi = calloc(1, sizeof(*vi));

        if (!vi)
                return -ENOMEM;
        *ret = vi;
        return 0;
}

void vs_vm_infer_free(struct vs_vm_infer *vi) {
        if (!vi)
                return;
        free(vi->links);
        free(vi->pend);
        free(vi->cpus);
        free(vi);
}

void vs_vm_infer_seal(struct vs_vm_infer *vi) {
        vi->sealed = true;
}

static inline size_t hash64(uint64_t k, size_t cap) {
        k ^= k >> 33;
        k *= 0xff51afd7ed558ccdull;
        k ^= k >> 33;
        return (size_t) k & (cap - 1);
}

static uint64_t link_key(int32_t a, int32_t b) {
        if (a > b) {
                int32_t t = a;
                a = b;
                b = t;
        }
        return (uint64_t) (uint32_t) a << 32 | (uint32_t) b;
}

static struct link *link_find(const struct vs_vm_infer *vi, uint64_t key) {
        if (!vi->cap_links)
                return NULL;
        for (size_t h = hash64(key, vi->cap_links);; h = (h + 1) & (vi->cap_links - 1)) {
                if (vi->links[h].key == key)
                        return &vi->links[h];
                if (vi->links[h].key == 0)
                        return NULL;
        }
}

static int links_grow(struct vs_vm_infer *vi) {
        size_t cap = vi->cap_links ? vi->cap_links * 2 : 256;
        struct link *n = calloc(cap, sizeof(*n));

        if (!n)
                return -ENOMEM;
        for (size_t i = 0; i < vi->cap_links; i++) {
                size_t h;
                if (!vi->links[i].key)
                        continue;
                for (h = hash64(vi->links[i].key, cap); n[h].key; h = (h + 1) & (cap - 1))
                        ;
                n[h] = vi->links[i];
        }
        free(vi->links);
        vi->links = n;
        vi->cap_links = cap;
        return 0;
}

/* Add @w to the link a-b.  1 when the grouping may change, 0 not, -ENOMEM. */
static int link_add(struct vs_vm_infer *vi, int32_t a, int32_t b, double w) {
        uint64_t key;
        struct link *l;
        size_t h;

        if (a <= 0 || b <= 0 || a == b)
                return 0;
        key = link_key(a, b);
        l = link_find(vi, key);
        if (!l) {
                if ((vi->n_links + 1) * 2 > vi->cap_links && links_grow(vi) < 0)
                        return -ENOMEM;
                for (h = hash64(key, vi->cap_links); vi->links[h].key; h = (h + 1) & (vi->cap_links - 1))
                        ;
                l = &vi->links[h];
                *l = (struct link) { .key = key, .next = 1.0 };
                vi->n_links++;
        }
        l->w += w;
        if (l->w + 1e-9 < l->next)
                return 0;
        while (l->next <= l->w + 1e-9)
                l->next *= 2;
        return 1;
}

double vs_vm_infer_link(const struct vs_vm_infer *vi, int32_t a, int32_t b) {
        const struct link *l = a > 0 && b > 0 && a != b ? link_find(vi, link_key(a, b)) : NULL;

        return l ? l->w : 0;
}

static struct pending *pending_find(struct vs_vm_infer *vi, uint32_t dest, uint16_t vector, bool create) {
        size_t h;

        if (vi->cap_pend) {
                for (h = hash64((uint64_t) dest << 9 | vector, vi->cap_pend);; h = (h + 1) & (vi->cap_pend - 1)) {
                        struct pending *p = &vi->pend[h];
                        if (p->vector < 0)
                                break;
                        if (p->dest == dest && p->vector == vector)
                                return p;
                }
        }
        if (!create)
                return NULL;
        if ((vi->n_pend + 1) * 2 > vi->cap_pend) {
                size_t cap = vi->cap_pend ? vi->cap_pend * 2 : 64;
                struct pending *n = malloc(cap * sizeof(*n));
                if (!n)
                        return NULL;
                for (size_t i = 0; i < cap; i++)
                        n[i].vector = -1;
                for (size_t i = 0; i < vi->cap_pend; i++) {
                        if (vi->pend[i].vector < 0)
                                continue;
                        for (h = hash64((uint64_t) vi->pend[i].dest << 9 | (uint16_t) vi->pend[i].vector, cap);
                             n[h].vector >= 0; h = (h + 1) & (cap - 1))
                                ;
                        n[h] = vi->pend[i];
                }
                free(vi->pend);
                vi->pend = n;
                vi->cap_pend = cap;
        }
        for (h = hash64((uint64_t) dest << 9 | vector, vi->cap_pend); vi->pend[h].vector >= 0;
             h = (h + 1) & (vi->cap_pend - 1))
                ;
        vi->pend[h] = (struct pending) { .dest = dest, .vector = (int16_t) vector };
        vi->n_pend++;
        return &vi->pend[h];
}

/* An IPI of @tid to (dest, vector): pending until an EOI of that vector at that APIC ID.
 * IPIs of one vector to one APIC coalesce in its IRR until acknowledged, so one
 * entry per sender, its latest send. */
static int ipi_sent(struct vs_vm_infer *vi, int32_t tid, uint32_t dest, uint16_t vector, uint64_t ts) {
        struct pending *p = pending_find(vi, dest, vector, true);
        unsigned oldest = 0;

        if (!p)
                return -ENOMEM;
        for (unsigned i = 0; i < p->n; i++) {
                if (p->s[i].tid == tid) {
                        p->s[i].ts = ts;
                        return 0;
                }
                if (p->s[i].ts < p->s[oldest].ts)
                        oldest = i;
        }
        if (p->n < PENDING_MAX)
                oldest = p->n++;
        p->s[oldest].tid = tid;
        p->s[oldest].ts = ts;
        return 0;
}

/* Thread @tid, APIC @apic, took one pending IPI of @vector (an EOI; or any
 * vector, ANY_VECTOR, for a polled wake-up) no older than @window. */
static int ipi_taken(struct vs_vm_infer *vi, int32_t tid, uint32_t apic, int32_t vector, uint64_t ts,
                     uint64_t window) {
        struct pending *p;
        int32_t cand[PENDING_MAX];
        unsigned k = 0, keep = 0;
        int r, changed = 0;

        if (vector < 0 || vector > ANY_VECTOR)
                return 0;
        p = pending_find(vi, apic, (uint16_t) vector, false);
        if (!p)
                return 0;
        for (unsigned i = 0; i < p->n; i++) {
                bool stale = p->s[i].ts > ts || ts - p->s[i].ts > window;
                if (!stale && p->s[i].tid != tid)
                        cand[k++] = p->s[i].tid;       /* consumed: one of them is this EOI's IPI */
                else if (!stale)
                        p->s[keep++] = p->s[i];         /* a self-IPI stays pending */
        }
        p->n = (uint8_t) keep;
        for (unsigned i = 0; i < k; i++) {
                r = link_add(vi, cand[i], tid, 1.0 / k);
                if (r < 0)
                        return r;
                changed |= r;
        }
        return changed;
}

static struct last_ipi *cpu_slot(struct vs_vm_infer *vi, unsigned cpu, bool grow) {
        if (cpu >= MAX_CPUS)
                return NULL;
        if (cpu >= vi->n_cpus) {
                size_t n = vi->n_cpus ? vi->n_cpus : 8;
                struct last_ipi *c;
                if (!grow)
                        return NULL;
                while (n <= cpu)
                        n *= 2;
                c = realloc(vi->cpus, n * sizeof(*c));
                if (!c)
                        return NULL;
                memset(c + vi->n_cpus, 0, (n - vi->n_cpus) * sizeof(*c));
                vi->cpus = c;
                vi->n_cpus = n;
        }
        return &vi->cpus[cpu];
}

int vs_vm_infer_observe(struct vs_vm_infer *vi, const struct vs_event *ev, int32_t vcpu_id) {
        struct last_ipi *c;
        int r;

        if (vi->sealed || ev->tid <= 0)
                return 0;
        switch (ev->type) {
        case VS_EV_IPI:
                c = cpu_slot(vi, ev->cpu, true);
                if (c)
                        *c = (struct last_ipi) { ev->tid, ev->ts_ns };
                if (!vs_ipi_is_unicast(ev))
                        return 0;
                r = ipi_sent(vi, ev->tid, ev->ipi.dest_apic, ev->ipi.vector, ev->ts_ns);
                if (r >= 0)
                        r = ipi_sent(vi, ev->tid, ev->ipi.dest_apic, ANY_VECTOR, ev->ts_ns);
                return r;
        case VS_EV_HYPERCALL:
                if (ev->hc.nr == VS_HC_SEND_IPI || ev->hc.nr == VS_HC_KICK_CPU) {
                        c = cpu_slot(vi, ev->cpu, true);
                        if (c)
                                *c = (struct last_ipi) { ev->tid, ev->ts_ns };
                }
                return 0;
        case VS_EV_EOI:
                return ipi_taken(vi, ev->tid, ev->eoi.apic_id, ev->eoi.vector, ev->ts_ns, EOI_WINDOW_NS);
        case VS_EV_WAKEUP:
                if (ev->flags & VS_EVF_KVM_WAKEUP) {
                        /* a sleeping receiver was woken by the sender's
                         * sched_wakeup already (below); a polling one was not */
                        if (ev->wakeup.waited || vcpu_id < 0)
                                return 0;
                        return ipi_taken(vi, ev->tid, (uint32_t) vcpu_id, ANY_VECTOR, ev->ts_ns, KICK_WINDOW_NS);
                }
                c = cpu_slot(vi, ev->cpu, false);
                if (!c || c->tid != ev->tid || ev->ts_ns < c->ts || ev->ts_ns - c->ts > KICK_WINDOW_NS)
                        return 0;
                return link_add(vi, ev->tid, ev->wakeup.wakee_tid, 1.0);
        default:
                return 0;
        }
}

/* ---------------------------------------------------------------- grouping */

struct set {
        int32_t *v;             /* sorted, distinct */
        unsigned n;
};

struct node {
        unsigned parent;
        int32_t min_tid;
        struct set idx, apic;
};

struct cand {
        unsigned a, b;
        double w;
        uint64_t key;
};

struct adj {
        unsigned to;
        double w;
};

/* One thread could stand where the other stands: same vCPU index or vcpu_id. */
static bool clash(const struct vs_vm_infer_thread *x, const struct vs_vm_infer_thread *y) {
        return (x->vcpu_index >= 0 && x->vcpu_index == y->vcpu_index) ||
               (x->apic_id >= 0 && x->apic_id == y->apic_id);
}

/* The links of @b to threads other than @a that could be @a (its vCPU in
 * another VM): the shares of @b's IPIs/EOIs the evidence gives rivals of @a;
 * the strongest into *max, all of them added into *sum. */
static void rivals(const struct vs_vm_infer_thread *th, const struct adj *adj, const unsigned *off, unsigned a,
                   unsigned b, double *max, double *sum) {
        for (unsigned k = off[b]; k < off[b + 1]; k++)
                if (adj[k].to != a && clash(&th[adj[k].to], &th[a])) {
                        *sum += adj[k].w;
                        if (adj[k].w > *max)
                                *max = adj[k].w;
                }
}

static unsigned root(struct node *nd, unsigned i) {
        while (nd[i].parent != i) {
                nd[i].parent = nd[nd[i].parent].parent;
                i = nd[i].parent;
        }
        return i;
}

static bool sets_meet(const struct set *a, const struct set *b) {
        for (unsigned i = 0, j = 0; i < a->n && j < b->n;) {
                if (a->v[i] == b->v[j])
                        return true;
                if (a->v[i] < b->v[j])
                        i++;
                else
                        j++;
        }
        return false;
}

static int sets_merge(struct set *into, struct set *from) {
        int32_t *v;
        unsigned n = 0, i = 0, j = 0;

        if (from->n == 0)
                return 0;
        v = malloc((into->n + from->n) * sizeof(*v));
        if (!v)
                return -ENOMEM;
        while (i < into->n || j < from->n) {
                if (j >= from->n || (i < into->n && into->v[i] < from->v[j]))
                        v[n++] = into->v[i++];
                else if (i >= into->n || from->v[j] < into->v[i])
                        v[n++] = from->v[j++];
                else {
                        v[n++] = into->v[i++];
                        j++;
                }
        }
        free(into->v);
        free(from->v);
        *into = (struct set) { v, n };
        *from = (struct set) { NULL, 0 };
        return 0;
}

static int set_one(struct set *s, int32_t x) {
        if (x < 0)
                return 0;
        s->v = malloc(sizeof(*s->v));
        if (!s->v)
                return -ENOMEM;
        s->v[0] = x;
        s->n = 1;
        return 0;
}

static int cmp_cand(const void *x, const void *y) {
        const struct cand *a = x, *b = y;

        if (a->w != b->w)
                return a->w < b->w ? 1 : -1;
        return (a->key > b->key) - (a->key < b->key);
}

static int cmp_tid_pos(const void *x, const void *y, void *arg) {
        const struct vs_vm_infer_thread *th = arg;
        int32_t a = th[*(const unsigned *) x].tid, b = th[*(const unsigned *) y].tid;

        return (a > b) - (a < b);
}

/* Position of @tid in @th through @order (sorted by TID), or -1. */
static long find_pos(const struct vs_vm_infer_thread *th, const unsigned *order, size_t n, int32_t tid) {
        size_t lo = 0, hi = n;

        while (lo < hi) {
                size_t mid = (lo + hi) / 2;
                if (th[order[mid]].tid < tid)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        return lo < n && th[order[lo]].tid == tid ? (long) order[lo] : -1;
}

static int cmp_root_tid(const void *x, const void *y, void *arg) {
        const struct node *nd = arg;
        int32_t a = nd[*(const unsigned *) x].min_tid, b = nd[*(const unsigned *) y].min_tid;

        return (a > b) - (a < b);
}

int vs_vm_infer_group(const struct vs_vm_infer *vi, struct vs_vm_infer_thread *th, size_t n,
                      struct vs_vm_infer_group *groups) {
        _cleanup_free_ struct node *nd = NULL;
        _cleanup_free_ unsigned *order = NULL, *roots = NULL;
        _cleanup_free_ int32_t *group_of_root = NULL;
        _cleanup_free_ struct cand *cand = NULL;
        _cleanup_free_ struct adj *adj = NULL;
        _cleanup_free_ unsigned *off = NULL;
        size_t n_cand = 0, n_pairs = 0;
        unsigned n_groups = 0;
        int r = 0;

        if (n == 0)
                return 0;
        if (n > INT32_MAX / 2)
                return -E2BIG;
        nd = calloc(n, sizeof(*nd));
        order = malloc(n * sizeof(*order));
        roots = malloc(n * sizeof(*roots));
        group_of_root = malloc(n * sizeof(*group_of_root));
        if (!nd || !order || !roots || !group_of_root)
                return -ENOMEM;
        for (unsigned i = 0; i < n; i++) {
                nd[i].parent = i;
                nd[i].min_tid = th[i].tid;
                order[i] = i;
                if (set_one(&nd[i].idx, th[i].vcpu_index) < 0 || set_one(&nd[i].apic, th[i].apic_id) < 0) {
                        r = -ENOMEM;
                        goto out;
                }
        }
        qsort_r(order, n, sizeof(*order), cmp_tid_pos, th);

        /* links between two of these threads (any weight: rivals), then the
         * candidates to join among them */
        cand = malloc((vi->n_links + 1) * sizeof(*cand));
        off = calloc(n + 1, sizeof(*off));
        if (!cand || !off) {
                r = -ENOMEM;
                goto out;
        }
        for (size_t i = 0; i < vi->cap_links; i++) {
                const struct link *l = &vi->links[i];
                long a, b;
                if (!l->key)
                        continue;
                a = find_pos(th, order, n, (int32_t) (l->key >> 32));
                b = find_pos(th, order, n, (int32_t) (uint32_t) l->key);
                if (a < 0 || b < 0)
                        continue;
                cand[n_pairs++] = (struct cand) { (unsigned) a, (unsigned) b, l->w, l->key };
                off[a + 1]++;
                off[b + 1]++;
        }
        for (unsigned i = 0; i < n; i++)
                off[i + 1] += off[i];
        adj = malloc((2 * n_pairs + 1) * sizeof(*adj));
        if (!adj) {
                r = -ENOMEM;
                goto out;
        }
        {
                _cleanup_free_ unsigned *fill = malloc((n + 1) * sizeof(*fill));
                if (!fill) {
                        r = -ENOMEM;
                        goto out;
                }
                memcpy(fill, off, n * sizeof(*fill));
                for (size_t k = 0; k < n_pairs; k++) {
                        adj[fill[cand[k].a]++] = (struct adj) { cand[k].b, cand[k].w };
                        adj[fill[cand[k].b]++] = (struct adj) { cand[k].a, cand[k].w };
                }
        }
        /* A link joins only when it stands out: an EOI at APIC ID D that
         * senders of several VMs were waiting for gave each a share, so the
         * pair's link must be worth MIN_JOIN, DOMINANCE times its strongest
         * rival's and more than all rivals' together, on either side, or the
         * two stay apart (and may be reported as possibly one VM). */
        for (size_t k = 0; k < n_pairs; k++) {
                double w = cand[k].w, max = 0, sum_a = 0, sum_b = 0;
                rivals(th, adj, off, cand[k].a, cand[k].b, &max, &sum_a);
                rivals(th, adj, off, cand[k].b, cand[k].a, &max, &sum_b);
                if (w + 1e-9 >= MIN_JOIN && w >= DOMINANCE * max && w > sum_a && w > sum_b)
                        cand[n_cand++] = cand[k];
        }
        qsort(cand, n_cand, sizeof(*cand), cmp_cand);

        /* strongest first; never two threads with one vCPU index or one vcpu_id in a group */
        for (size_t k = 0; k < n_cand; k++) {
                unsigned a = root(nd, cand[k].a), b = root(nd, cand[k].b);
                if (a == b || sets_meet(&nd[a].idx, &nd[b].idx) || sets_meet(&nd[a].apic, &nd[b].apic))
                        continue;
                if (nd[b].min_tid < nd[a].min_tid) {
                        unsigned t = a;
                        a = b;
                        b = t;
                }
                if (sets_merge(&nd[a].idx, &nd[b].idx) < 0 || sets_merge(&nd[a].apic, &nd[b].apic) < 0) {
                        r = -ENOMEM;
                        goto out;
                }
                nd[b].parent = a;
        }

        /* groups numbered by their lowest TID */
        for (unsigned i = 0; i < n; i++)
                if (root(nd, i) == i)
                        roots[n_groups++] = i;
        qsort_r(roots, n_groups, sizeof(*roots), cmp_root_tid, nd);
        for (unsigned g = 0; g < n_groups; g++)
                group_of_root[roots[g]] = (int32_t) g;
        for (unsigned i = 0; i < n; i++)
                th[i].group = group_of_root[root(nd, i)];
        if (groups) {
                memset(groups, 0, n_groups * sizeof(*groups));
                for (unsigned i = 0; i < n; i++)
                        groups[th[i].group].n_threads++;
                /* Groups nothing separates: no link joined them (a link of a
                 * whole observation between two compatible groups would have),
                 * so the trace cannot tell one VM from two. */
                for (unsigned g = 0; n_groups <= MAYBE_GROUPS_MAX && g < n_groups; g++)
                        for (unsigned h = g + 1; h < n_groups; h++) {
                                const struct node *x = &nd[roots[g]], *y = &nd[roots[h]];
                                if (sets_meet(&x->idx, &y->idx) || sets_meet(&x->apic, &y->apic))
                                        continue;
                                if (groups[g].n_maybe < VS_VM_INFER_MAYBE_MAX)
                                        groups[g].maybe[groups[g].n_maybe] = (int32_t) h;
                                if (groups[h].n_maybe < VS_VM_INFER_MAYBE_MAX)
                                        groups[h].maybe[groups[h].n_maybe] = (int32_t) g;
                                groups[g].n_maybe++;
                                groups[h].n_maybe++;
                        }
        }
        r = (int) n_groups;
out:
        for (unsigned i = 0; i < n; i++) {
                free(nd[i].idx.v);
                free(nd[i].apic.v);
        }
        return r;
}
