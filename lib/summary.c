/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"
#include "event-json.h"
#include "summary.h"

#define MAX_EDGES 4096

struct edge {
        int32_t src, dst;
        uint64_t count;
};

struct vm_acc {
        char name[VS_VM_NAME_MAX];
        uint64_t by_type[_VS_EV_MAX];
        uint64_t ipi_unicast, ipi_multicast, preempted, blocked;
        struct edge *edges;
        unsigned n_edges, cap_edges;
};

struct vs_summary {
        struct vm_acc *vms;
        unsigned n_vms, cap_vms;
        uint64_t by_type[_VS_EV_MAX];
        uint64_t first_ts, last_ts, events;
};

int vs_summary_new(struct vs_summary **ret) {
        struct vs_summary *s = calloc(1, sizeof(*s));
        if (!s)
                return -ENOMEM;
        *ret = s;
        return 0;
}

void vs_summary_free(struct vs_summary *s) {
        if (!s)
                return;
        for (unsigned i = 0; i < s->n_vms; i++)
                free(s->vms[i].edges);
        free(s->vms);
        free(s);
}

static struct vm_acc *acc(struct vs_summary *s, struct vs_topology *topo, int32_t tid) {
        const struct vs_thread *th = vs_topology_thread(topo, tid);
        const struct vs_vm *vm;

        if (!th || th->vm < 0 || !(vm = vs_topology_vm(topo, th->vm)))
                return NULL;
        for (unsigned i = 0; i < s->n_vms; i++)
                if (strcmp(s->vms[i].name, vm->name) == 0)
                        return &s->vms[i];
        if (s->n_vms == s->cap_vms) {
                unsigned cap = s->cap_vms ? s->cap_vms * 2 : 8;
                struct vm_acc *n = realloc(s->vms, cap * sizeof(*n));
                if (!n)
                        return NULL;
                s->vms = n;
                s->cap_vms = cap;
        }
        struct vm_acc *a = &s->vms[s->n_vms++];
        memset(a, 0, sizeof(*a));
        snprintf(a->name, sizeof(a->name), "%s", vm->name);
        return a;
}

int vs_summary_forget_vm(struct vs_summary *s, const char *name) {
        for (unsigned i = 0; i < s->n_vms; i++) {
                if (strcmp(s->vms[i].name, name) != 0)
                        continue;
                free(s->vms[i].edges);
                memmove(&s->vms[i], &s->vms[i + 1], (s->n_vms - i - 1) * sizeof(*s->vms));
                s->n_vms--;
                return 1;
        }
        return 0;
}

static int add_edge(struct vm_acc *a, int32_t src, int32_t dst) {
        for (unsigned i = 0; i < a->n_edges; i++)
                if (a->edges[i].src == src && a->edges[i].dst == dst) {
                        a->edges[i].count++;
                        return 0;
                }
        if (a->n_edges >= MAX_EDGES)
                return 0;
        if (a->n_edges == a->cap_edges) {
                unsigned cap = a->cap_edges ? a->cap_edges * 2 : 16;
                struct edge *n = realloc(a->edges, cap * sizeof(*n));
                if (!n)
                        return -ENOMEM;
                a->edges = n;
                a->cap_edges = cap;
        }
        a->edges[a->n_edges++] = (struct edge) { src, dst, 1 };
        return 0;
}

int vs_summary_add(struct vs_summary *s, const struct vs_event *ev, struct vs_topology *topo) {
        struct vm_acc *a;

        if (ev->type >= _VS_EV_MAX)
                return 0;
        if (s->events++ == 0)
                s->first_ts = ev->ts_ns;
        if (ev->ts_ns > s->last_ts)
                s->last_ts = ev->ts_ns;
        s->by_type[ev->type]++;

        if (ev->type == VS_EV_SWITCH) {
                /* Preemption is about the thread switched out, not the context. */
                a = acc(s, topo, ev->sw.prev_tid);
                if (a) {
                        if (vs_prev_state_runnable(ev->sw.prev_state))
                                a->preempted++;
                        else
                                a->blocked++;
                }
                a = acc(s, topo, ev->tid);
                if (a)
                        a->by_type[ev->type]++;
                return 0;
        }
        a = acc(s, topo, ev->tid);
        if (!a)
                return 0;
        a->by_type[ev->type]++;
        if (ev->type == VS_EV_IPI) {
                if (vs_ipi_is_unicast(ev)) {
                        const struct vs_thread *th = vs_topology_thread(topo, ev->tid);
                        a->ipi_unicast++;
                        return add_edge(a, vs_topology_vcpu_of(topo, ev->tid),
                                        vs_topology_vcpu_of_apic(topo, th->vm, ev->ipi.dest_apic));
                }
                a->ipi_multicast++;
        }
        return 0;
}

static int cmp_edge(const void *x, const void *y) {
        const struct edge *a = x, *b = y;
        if (a->count != b->count)
                return a->count < b->count ? 1 : -1;
        if (a->src != b->src)
                return a->src - b->src;
        return a->dst - b->dst;
}

static void sorted_edges(const struct vm_acc *a, struct edge *out) {
        if (a->n_edges == 0)
                return;
        memcpy(out, a->edges, a->n_edges * sizeof(*out));
        qsort(out, a->n_edges, sizeof(*out), cmp_edge);
}

static const struct vs_vm *vm_by_name(struct vs_topology *topo, const char *name) {
        for (unsigned i = 0; i < vs_topology_n_vms(topo); i++) {
                const struct vs_vm *vm = vs_topology_vm(topo, i);
                if (strcmp(vm->name, name) == 0)
                        return vm;
        }
        return NULL;
}

void vs_summary_print(const struct vs_summary *s, struct vs_topology *topo, const struct vs_source_stats *st,
                      FILE *f) {
        double secs = s->events ? (s->last_ts - s->first_ts) / 1e9 : 0;

        fprintf(f, "\n%" PRIu64 " events over %.3f s", s->events, secs);
        if (st)
                fprintf(f, " (%" PRIu64 " records: %" PRIu64 " not ours, %" PRIu64 " filtered, %" PRIu64
                           " malformed, %" PRIu64 " lost)",
                        st->records, st->unknown, st->filtered, st->malformed, st->lost);
        fprintf(f, "\n  by type:");
        for (int t = 1; t < _VS_EV_MAX; t++)
                if (s->by_type[t])
                        fprintf(f, " %s=%" PRIu64, vs_event_type_name(t), s->by_type[t]);
        fprintf(f, "\n");
        if (s->n_vms == 0) {
                fprintf(f, "  no VM vCPU threads seen\n");
                return;
        }
        for (unsigned i = 0; i < s->n_vms; i++) {
                const struct vm_acc *a = &s->vms[i];
                const struct vs_vm *vm = vm_by_name(topo, a->name);
                _cleanup_free_ struct edge *e = malloc((a->n_edges + 1) * sizeof(*e));

                char esc[VS_VM_NAME_MAX * 4];
                fprintf(f, "\nVM %s", vs_escape(a->name, esc, sizeof(esc)));
                if (vm && vm->tgid > 0)
                        fprintf(f, " (tgid %d, %u vCPUs)", vm->tgid, vm->n_vcpus);
                else if (vm) {
                        char note[512];
                        fprintf(f, " (%u vCPUs%s%s)", vm->n_vcpus, vm->inferred ? ", " : "",
                                vs_grouping_note(vm->inferred, vm->n_maybe_same, vm->maybe_same, note, sizeof(note)));
                }
                fprintf(f, "\n  IPIs: %" PRIu64 " unicast, %" PRIu64 " multicast/shorthand; EOIs: %" PRIu64
                           "; PAUSE exits: %" PRIu64 "; PV hypercalls: %" PRIu64 "\n",
                        a->ipi_unicast, a->ipi_multicast, a->by_type[VS_EV_EOI], a->by_type[VS_EV_EXIT_PAUSE],
                        a->by_type[VS_EV_HYPERCALL]);
                fprintf(f, "  vCPU threads switched out: %" PRIu64 " preempted (runnable), %" PRIu64 " blocked\n",
                        a->preempted, a->blocked);
                if (!e || a->n_edges == 0)
                        continue;
                sorted_edges(a, e);
                fprintf(f, "  top IPI edges:");
                for (unsigned k = 0; k < a->n_edges && k < 6; k++) {
                        char src[16], dst[16];
                        snprintf(src, sizeof(src), e[k].src >= 0 ? "vcpu%d" : "?", e[k].src);
                        snprintf(dst, sizeof(dst), e[k].dst >= 0 ? "vcpu%d" : "?", e[k].dst);
                        fprintf(f, " %s->%s x%" PRIu64, src, dst, e[k].count);
                }
                fprintf(f, "\n");
        }
}

struct json_object *vs_summary_json(const struct vs_summary *s, struct vs_topology *topo,
                                    const struct vs_source_stats *st) {
        struct json_object *o = json_object_new_object(), *types = json_object_new_object();
        struct json_object *vms = json_object_new_array();

        json_object_object_add(o, "type", json_object_new_string("summary"));
        json_object_object_add(o, "events", json_object_new_uint64(s->events));
        json_object_object_add(o, "duration_ns",
                               json_object_new_uint64(s->events ? s->last_ts - s->first_ts : 0));
        for (int t = 1; t < _VS_EV_MAX; t++)
                json_object_object_add(types, vs_event_type_name(t), json_object_new_uint64(s->by_type[t]));
        json_object_object_add(o, "by_type", types);
        if (st) {
                struct json_object *so = json_object_new_object();
                json_object_object_add(so, "records", json_object_new_uint64(st->records));
                json_object_object_add(so, "unknown", json_object_new_uint64(st->unknown));
                json_object_object_add(so, "filtered", json_object_new_uint64(st->filtered));
                json_object_object_add(so, "malformed", json_object_new_uint64(st->malformed));
                json_object_object_add(so, "lost", json_object_new_uint64(st->lost));
                json_object_object_add(o, "source", so);
        }
        for (unsigned i = 0; i < s->n_vms; i++) {
                const struct vm_acc *a = &s->vms[i];
                const struct vs_vm *vm = vm_by_name(topo, a->name);
                struct json_object *v = json_object_new_object(), *edges = json_object_new_array();
                _cleanup_free_ struct edge *e = malloc((a->n_edges + 1) * sizeof(*e));

                json_object_object_add(v, "vm", json_object_new_string(a->name));
                json_object_object_add(v, "tgid", vm && vm->tgid > 0 ? json_object_new_int(vm->tgid) : NULL);
                vs_json_add_grouping(v, vm && vm->inferred, vm ? vm->n_maybe_same : 0, vm ? vm->maybe_same : "");
                json_object_object_add(v, "vcpus", json_object_new_int(vm ? (int) vm->n_vcpus : 0));
                json_object_object_add(v, "ipi_unicast", json_object_new_uint64(a->ipi_unicast));
                json_object_object_add(v, "ipi_multicast", json_object_new_uint64(a->ipi_multicast));
                json_object_object_add(v, "eoi", json_object_new_uint64(a->by_type[VS_EV_EOI]));
                json_object_object_add(v, "exit_pause", json_object_new_uint64(a->by_type[VS_EV_EXIT_PAUSE]));
                json_object_object_add(v, "hypercall", json_object_new_uint64(a->by_type[VS_EV_HYPERCALL]));
                json_object_object_add(v, "preempted", json_object_new_uint64(a->preempted));
                json_object_object_add(v, "blocked", json_object_new_uint64(a->blocked));
                if (e) {
                        sorted_edges(a, e);
                        for (unsigned k = 0; k < a->n_edges; k++) {
                                struct json_object *x = json_object_new_object();
                                json_object_object_add(x, "src_vcpu", e[k].src >= 0 ? json_object_new_int(e[k].src) : NULL);
                                json_object_object_add(x, "dst_vcpu", e[k].dst >= 0 ? json_object_new_int(e[k].dst) : NULL);
                                json_object_object_add(x, "count", json_object_new_uint64(e[k].count));
                                json_object_array_add(edges, x);
                        }
                }
                json_object_object_add(v, "ipi_edges", edges);
                json_object_array_add(vms, v);
        }
        json_object_object_add(o, "vms", vms);
        return o;
}
