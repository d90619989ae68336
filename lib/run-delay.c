/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * run-delay.c - CPU ready per VM and vCPU from schedstat or a trace (see
 * run-delay.h).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"
#include "run-delay.h"
#include "schedstat.h"

static int add_row(struct vs_run_delay *rd, size_t *cap, const char *vm, int32_t vcpu, int32_t tid, uint64_t ns) {
        struct vs_run_delay_row *row;

        if (rd->n_rows == *cap) {
                size_t n = *cap ? *cap * 2 : 16;
                struct vs_run_delay_row *q = reallocarray(rd->rows, n, sizeof(*q));
                if (!q)
                        return -ENOMEM;
                rd->rows = q;
                *cap = n;
        }
        row = &rd->rows[rd->n_rows++];
        memset(row, 0, sizeof(*row));
        strncpy(row->vm, vm, sizeof(row->vm) - 1);
        row->vcpu = vcpu;
        row->tid = tid;
        row->run_delay_ns = ns;
        return 0;
}

static int cmp_key(const char *vm_a, int32_t vcpu_a, const char *vm_b, int32_t vcpu_b) {
        int c = strcmp(vm_a, vm_b);
        return c ? c : (vcpu_a > vcpu_b) - (vcpu_a < vcpu_b);
}

static int cmp_rows(const void *a, const void *b) {
        const struct vs_run_delay_row *x = a, *y = b;
        int c = cmp_key(x->vm, x->vcpu, y->vm, y->vcpu);
        /* equal keys: the lower TID first, so which one is kept does not
         * depend on qsort's order */
        return c ? c : (x->tid > y->tid) - (x->tid < y->tid);
}

/* Sort and keep the first row of each (VM, vCPU); returns how many were dropped. */
static unsigned sort_unique(struct vs_run_delay *rd) {
        size_t o = 0;

        if (rd->n_rows == 0)
                return 0;
        qsort(rd->rows, rd->n_rows, sizeof(*rd->rows), cmp_rows);
        for (size_t i = 0; i < rd->n_rows; i++)
                if (o == 0 || cmp_key(rd->rows[o - 1].vm, rd->rows[o - 1].vcpu, rd->rows[i].vm, rd->rows[i].vcpu) != 0)
                        rd->rows[o++] = rd->rows[i];
        unsigned dropped = (unsigned) (rd->n_rows - o);
        rd->n_rows = o;
        return dropped;
}

int vs_run_delay_from_schedstat(struct vs_topology *topo, const char *proc_root, struct vs_run_delay *ret) {
        struct vs_run_delay rd = { .source = VS_RUN_DELAY_SCHEDSTAT };
        size_t cap = 0;
        int r;

        for (unsigned i = 0; i < vs_topology_n_threads(topo); i++) {
                const struct vs_thread *th = vs_topology_thread_at(topo, i);
                const struct vs_vm *vm;
                struct vs_schedstat st;
                int32_t vcpu;

                if (!th || !th->is_vcpu || th->vm < 0 || th->tid <= 0)
                        continue;
                vm = vs_topology_vm(topo, th->vm);
                vcpu = vs_topology_vcpu_of(topo, th->tid);
                if (!vm || vcpu < 0)
                        continue;
                r = vs_schedstat_read(proc_root, th->tgid, th->tid, &st);
                if (r == -ESRCH)
                        rd.gone++;
                else if (r == -EOPNOTSUPP)
                        rd.unsupported++;
                else if (r < 0)
                        rd.failed++;
                if (r < 0)
                        continue;
                /* topology's pointers may move on the next call: copy now */
                r = add_row(&rd, &cap, vm->name, vcpu, th->tid, st.run_delay_ns);
                if (r < 0) {
                        vs_run_delay_done(&rd);
                        return r;
                }
        }
        rd.failed += sort_unique(&rd);
        *ret = rd;
        return 0;
}

int vs_run_delay_from_trace(const struct vs_analysis *an, uint64_t now_ns, struct vs_run_delay *ret) {
        struct vs_run_delay rd = { .source = VS_RUN_DELAY_TRACE };
        size_t cap = 0;

        for (unsigned i = 0; an && i < vs_analysis_n_vms(an); i++) {
                const struct vs_an_vm *vm = vs_analysis_vm(an, i);
                for (unsigned c = 0; c < vm->n_vcpus; c++) {
                        const struct vs_an_vcpu *v = &vm->vcpus[c];
                        uint64_t run, delay, blocked;
                        int r;

                        if (!v->present)
                                continue;
                        vs_an_vcpu_times(v, now_ns, &run, &delay, &blocked);
                        r = add_row(&rd, &cap, vm->name, (int32_t) c, v->tid, delay);
                        if (r < 0) {
                                vs_run_delay_done(&rd);
                                return r;
                        }
                }
        }
        (void) sort_unique(&rd);
        *ret = rd;
        return 0;
}

void vs_run_delay_done(struct vs_run_delay *rd) {
        enum vs_run_delay_source s = rd->source;

        free(rd->rows);
        *rd = (struct vs_run_delay) { .source = s };
}

/* Index of the first row not before (@vm, @vcpu). */
static size_t lower_bound(const struct vs_run_delay *rd, const char *vm, int32_t vcpu) {
        size_t lo = 0, hi = rd->n_rows;

        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;
                if (cmp_key(rd->rows[mid].vm, rd->rows[mid].vcpu, vm, vcpu) < 0)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        return lo;
}

const struct vs_run_delay_row *vs_run_delay_find(const struct vs_run_delay *rd, const char *vm, int32_t vcpu) {
        size_t i;

        if (!rd || !vm)
                return NULL;
        i = lower_bound(rd, vm, vcpu);
        return i < rd->n_rows && cmp_key(rd->rows[i].vm, rd->rows[i].vcpu, vm, vcpu) == 0 ? &rd->rows[i] : NULL;
}

size_t vs_run_delay_vm_total(const struct vs_run_delay *rd, const char *vm, uint64_t *ret) {
        uint64_t sum = 0;
        size_t n = 0;

        if (rd && vm)
                for (size_t i = lower_bound(rd, vm, INT32_MIN); i < rd->n_rows && strcmp(rd->rows[i].vm, vm) == 0;
                     i++, n++)
                        sum += rd->rows[i].run_delay_ns;
        *ret = sum;
        return n;
}

const char *vs_run_delay_source_name(enum vs_run_delay_source s) {
        return s == VS_RUN_DELAY_SCHEDSTAT ? "schedstat" : "trace";
}
