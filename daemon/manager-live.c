/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * manager-live.c - the manager's live trace source: opening the private
 * tracefs instance, draining it into the pipeline, the trace clock, and
 * --record (topology markers into the instance, the .dat file at the end).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "manager.h"
#include "mono-clock.h"
#include "output.h"

/* --record: tell the recording which thread is which vCPU of which VM, through
 * the instance's trace_marker, so a replay of the file names VMs as we do. */
void manager_mark_topology(struct manager *m) {
        struct vs_topology *topo = vs_pipeline_topology(m->pipe);
        unsigned n = vs_topology_n_threads(topo);

        if (!m->opts->record)
                return;
        for (unsigned i = 0; i < n; i++) {
                const struct vs_thread *th = vs_topology_thread_at(topo, i);
                const struct vs_vm *vm = th ? vs_topology_vm(topo, th->vm) : NULL;
                char msg[512];
                bool seen = false;

                if (!th || !th->is_vcpu || th->tgid <= 0 || !vm)
                        continue;
                for (size_t k = 0; k < m->n_marked; k++)
                        if (m->marked[k] == th->tid)
                                seen = true;
                if (seen)
                        continue;
                if (m->n_marked == m->cap_marked) {
                        size_t cap = m->cap_marked ? m->cap_marked * 2 : 64;
                        int32_t *a = realloc(m->marked, cap * sizeof(*a));
                        if (!a)
                                return;
                        m->marked = a;
                        m->cap_marked = cap;
                }
                m->marked[m->n_marked++] = th->tid;
                if (vs_format_topology_marker(msg, sizeof(msg), th->tid, th->tgid, th->apic_id,
                                              vm->named ? vm->name : NULL, th->comm) < 0)
                        continue;
                (void) vs_source_live_mark(m->src, msg);
        }
}

int manager_write_recording(struct manager *m) {
        struct vs_topology *topo = vs_pipeline_topology(m->pipe);
        _cleanup_free_ char *extra = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&extra, &len);
        bool truncated = false;
        int r;

        if (!f)
                return -ENOMEM;
        /* thread names from /proc: the kernel's saved_cmdlines may have evicted them */
        for (unsigned i = 0; i < vs_topology_n_threads(topo); i++) {
                const struct vs_thread *th = vs_topology_thread_at(topo, i);
                if (th && th->comm[0] && !strchr(th->comm, '\n'))
                        fprintf(f, "%d %s\n", th->tid, th->comm);
        }
        fclose(f);
        r = vs_source_live_write_dat(m->src, m->opts->record, extra, &truncated);
        if (r < 0)
                return log_error("cannot write %s: %s", m->opts->record, strerror(-r)), r;
        if (truncated)
                log_error("%s: recording stopped at --record-max-mb=%u MiB; later events are not in the file",
                          m->opts->record, m->opts->record_max_mb);
        log_info("recorded to %s", m->opts->record);
        return 0;
}

/* "now" on the trace clock (the kernel's local clock, close to but not the
 * same as CLOCK_MONOTONIC): learned from the first event read. */
uint64_t manager_trace_now(struct manager *m) {
        int64_t now = (int64_t) vs_mono_ns();
        return m->have_offset ? (uint64_t) (now + m->trace_offset) : (uint64_t) now;
}

/* The newest event read, on CLOCK_MONOTONIC (0: none yet): what set off an
 * epoch's decisions, for the decision latency (vschedd(8), METRICS). */
uint64_t manager_trigger_mono(struct manager *m) {
        if (!m->have_lat_offset || (int64_t) m->newest_ts - m->lat_offset <= 0)
                return 0;
        return (uint64_t) ((int64_t) m->newest_ts - m->lat_offset);
}

/* One drain reads for at most this long, then returns to the loop, so that
 * its timers (--duration, policy epochs, the watchdog) and signals run under
 * an event flood too; the io source stays readable and is called again. */
#define DRAIN_BUDGET_NS (50 * 1000 * 1000ull)

int manager_drain(struct manager *m) {
        return manager_drain_for(m, DRAIN_BUDGET_NS);
}

int manager_drain_for(struct manager *m, uint64_t budget_ns) {
        struct vs_event ev;
        bool any = false;
        uint64_t now = vs_mono_ns();
        uint64_t deadline = budget_ns > UINT64_MAX - now ? UINT64_MAX : now + budget_ns;
        unsigned n = 0;
        int r;

        while ((r = vs_source_next(m->src, &ev)) > 0) {
                if (!m->have_offset) {
                        m->trace_offset = (int64_t) ev.ts_ns - (int64_t) vs_mono_ns();
                        m->have_offset = true;
                }
                if (ev.ts_ns > m->newest_ts)
                        m->newest_ts = ev.ts_ns;
                any = true;
                r = manager_event(m, &ev);
                if (r < 0)
                        return r;
                if ((++n & 255) == 0 && vs_mono_ns() >= deadline) {
                        r = 0;          /* the rest on the next call */
                        break;
                }
        }
        if (any) {
                /* every event read happened before now, so this is at most
                 * the true offset, and the closest of them the best bound */
                int64_t off = (int64_t) m->newest_ts - (int64_t) vs_mono_ns();
                if (!m->have_lat_offset || off > m->lat_offset) {
                        m->lat_offset = off;
                        m->have_lat_offset = true;
                }
        }
        vm_exits_sync(m->exits);        /* vCPU threads placed from /proc meanwhile */
        if (m->opts->dump)
                output_flush();
        return r;
}

int manager_open_live(struct manager *m, int *ret_vms) {
        const struct options *o = m->opts;
        struct vs_live_options lo = {
                .instance = o->instance,
                .tracefs = o->tracefs,
                .buffer_kb = o->buffer_kb,
                .record_max_mb = o->record ? o->record_max_mb : 0,
        };
        char err[256] = "", line[1024];
        size_t len;
        int r, n;

        /* live: every thread's TGID is one read of /proc away, never guessed */
        r = vs_topology_set_live(vs_pipeline_topology(m->pipe), "/proc");
        if (r < 0)
                return r;
        n = vs_topology_scan_proc(vs_pipeline_topology(m->pipe), "/proc");
        r = vs_source_live_open(&lo, &m->src, err, sizeof(err));
        if (r < 0) {
                log_error("cannot start live tracing: %s", err[0] ? err : strerror(-r));
                if (r == -EACCES || r == -EPERM)
                        log_error("live tracing needs root (CAP_SYS_ADMIN or CAP_PERFMON on tracefs)");
                return r;
        }
        vs_source_set_thread_cb(m->src, vs_topology_thread_cb, vs_pipeline_topology(m->pipe));
        manager_watch_vcpus(m);
        manager_mark_topology(m);
        len = (size_t) snprintf(line, sizeof(line), "live on tracefs instance '%s', %d VM(s) found in /proc; events:",
                                o->instance ? o->instance : "vschedd", n > 0 ? n : 0);
        for (const char *const *evs = vs_source_live_events(m->src); evs && *evs && len < sizeof(line); evs++)
                len += (size_t) snprintf(line + len, sizeof(line) - len, " %s", *evs);
        log_info("%s", line);
        if (!vs_source_live_sched_filtered(m->src))
                log_warning("the kernel refused the sched event filters: every task's switches and "
                            "wake-ups are recorded, not only vCPU threads' (more CPU for watching)");
        *ret_vms = n;
        return 0;
}
