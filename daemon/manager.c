/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * manager.c - the running daemon (see manager.h): the pipeline's events to
 * the output, the live source, the enforcer and libvirt on one sd-event
 * loop, the same loop for --replay --serve.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <systemd/sd-daemon.h>

#include "log.h"
#include "manager.h"
#include "mono-clock.h"
#include "output.h"
#include "overrides.h"

#define TICK_USEC (100 * 1000)                  /* poll the buffers this often too */
#define RESCAN_USEC (2 * 1000 * 1000)           /* /proc rescan */

static uint64_t mono_usec(void) {
        return vs_mono_ns() / 1000;
}

int manager_new(const struct options *o, struct vs_config *cfg, struct manager **ret) {
        struct manager *m = calloc(1, sizeof(*m));

        if (!m)
                return -ENOMEM;
        m->opts = o;
        m->cfg = *cfg;
        *cfg = (struct vs_config) {};
        m->summary = o->summary;
        m->duration = o->duration;
        *ret = m;
        return 0;
}

struct manager *manager_free(struct manager *m) {
        if (!m)
                return NULL;
        vs_source_free(m->src);
        vs_decisions_free(m->dlog);
        free(m->marked);
        vs_pipeline_free(m->pipe);
        vs_run_delay_done(&m->run_delay);
        vs_config_done(&m->cfg);
        free(m);
        return NULL;
}

uint64_t manager_uptime_usec(const struct manager *m) {
        return mono_usec() - m->started_usec;
}

static void on_decision(const struct vs_decision *d, void *userdata) {
        struct manager *m = userdata;

        if (m->print_decisions)
                output_decision(d, vs_pipeline_topology(m->pipe));
        if (m->dlog && vs_decisions_add(m->dlog, d) < 0)
                log_debug("decision of VM %s not gathered: out of memory", d->vm);
}

int manager_new_pipeline(struct manager *m, bool replay) {
        const struct options *o = m->opts;
        long cpus = replay ? 0 : sysconf(_SC_NPROCESSORS_ONLN);
        struct vs_pipeline_options po = {
                .cfg = &m->cfg,
                .analysis = o->report || o->dry_run || o->decisions || o->serve || o->svg_dir ||
                            o->mode != MODE_REPLAY,
                .timeline = o->svg_dir,
                .tl_start_ns = o->svg_start_ns,
                .tl_len_ns = o->svg_len_ns,
                .policy = (replay && o->dry_run) || o->decisions,
                .enforce_observed = replay || o->decisions,
                .n_cpus = cpus > 0 ? (unsigned) cpus : 0,
                .on_decision = on_decision,
                .userdata = m,
        };

        m->pipe = vs_pipeline_free(m->pipe);
        m->dlog = (vs_decisions_free(m->dlog), NULL);
        m->print_decisions = replay && o->dry_run;
        if (o->decisions && vs_decisions_new(&m->dlog) < 0)
                return -ENOMEM;
        return vs_pipeline_new(&po, &m->pipe);
}

int manager_event(struct manager *m, const struct vs_event *ev) {
        int r = vs_pipeline_event(m->pipe, ev);

        if (r < 0)
                return r;
        return output_event(ev, vs_pipeline_topology(m->pipe));
}

void manager_source_problems(struct manager *m, const char *name) {
        const struct vs_source_stats *st = vs_source_get_stats(m->src);

        if (st->malformed > 0)
                log_error("%s: %" PRIu64 " malformed record(s) skipped; first: %s", name, st->malformed,
                          vs_source_error(m->src) ? vs_source_error(m->src) : "(no detail)");
        if (st->lost > 0)
                log_error("%s: the kernel dropped %" PRIu64 " event(s) (ring buffer overrun)", name, st->lost);
}

void manager_print_results(struct manager *m) {
        const struct options *o = m->opts;
        struct vs_analysis *an = vs_pipeline_analysis(m->pipe);

        if (o->dry_run && !o->json)
                log_info("dry run: %" PRIu64 " decision(s), nothing written", vs_pipeline_decisions(m->pipe));
        if (o->dry_run && vs_pipeline_policy(m->pipe)) {
                /* the VMs the policy left alone whatever they did (reserved CPUs) */
                struct vs_topology *topo = vs_pipeline_topology(m->pipe);
                for (unsigned i = 0; i < vs_topology_n_vms(topo); i++) {
                        const struct vs_vm *vm = vs_topology_vm(topo, (int32_t) i);
                        struct vs_policy_vm_state st;
                        if (vm && vs_policy_vm_state(vs_pipeline_policy(m->pipe), vm->name, &st) == 0 && st.skipped)
                                log_notice("VM %s left alone: %s (reserved_cpus = %s)", vm->name, st.skipped,
                                           m->cfg.reserved_cpus);
                }
        }
        if (an && o->report) {
                vs_pipeline_finish(m->pipe);
                output_report(an);
        }
        output_flush();
        if (m->summary)
                output_summary(vs_pipeline_summary(m->pipe), vs_pipeline_topology(m->pipe),
                               m->src ? vs_source_get_stats(m->src) : NULL);
        if (an && o->decisions) {
                vs_pipeline_finish(m->pipe);
                output_decisions(m->dlog, an, vs_pipeline_policy(m->pipe));
        }
}

static void notify_status(struct manager *m) {
        struct vs_topology *topo = vs_pipeline_topology(m->pipe);
        unsigned vms = 0, vcpus = 0;

        for (unsigned i = 0; i < vs_topology_n_vms(topo); i++) {
                const struct vs_vm *vm = vs_topology_vm(topo, (int32_t) i);
                if (vm) {
                        vms++;
                        vcpus += vm->n_vcpus;
                }
        }
        (void) sd_notifyf(false, "STATUS=watching %u VM%s, %u vCPU%s, %s%s", vms, vms == 1 ? "" : "s", vcpus,
                          vcpus == 1 ? "" : "s", vs_mode_name(m->cfg.mode), m->opts->dry_run ? " (dry run)" : "");
}

/* ---------------------------------------------------------------- loop handlers */

/* Timer sources fire once; set the next expiry and switch them on again. */
static int rearm(sd_event_source *s, uint64_t usec) {
        int r = sd_event_source_set_time_relative(s, usec);
        if (r < 0)
                return r;
        return sd_event_source_set_enabled(s, SD_EVENT_ONESHOT);
}

static int stop(struct manager *m, sd_event_source *s, int r) {
        m->r = r;
        return sd_event_exit(sd_event_source_get_event(s), r);
}

static int on_trace_io(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        int r = manager_drain(userdata);

        return r < 0 ? stop(userdata, s, r) : 0;
}

/* Poll the buffers on a timer too: trace_pipe_raw only wakes pollers once a
 * page (or buffer_percent) fills, and a quiet host may take long for that.
 * Every policy epoch drains them as well and pushes this tick back, so it
 * only fires when an epoch is late by TICK_USEC (a long drain or policy). */
static int on_tick(sd_event_source *s, uint64_t usec, void *userdata) {
        struct manager *m = userdata;
        int r = manager_drain(m);

        if (r < 0)
                return stop(m, s, r);
        return rearm(s, TICK_USEC);
}

/* vCPU threads whose names do not say so (QEMU without debug-threads, learned
 * from kvm_entry) join the kernel's sched filters by TID; with no vCPU thread
 * at all the sched events are off (their filter alone costs every task's
 * context switch about a microsecond) until a scan finds a VM. */
void manager_watch_vcpus(struct manager *m) {
        struct vs_topology *topo = vs_pipeline_topology(m->pipe);
        unsigned n = vs_topology_n_threads(topo);
        _cleanup_free_ int32_t *tids = NULL, *all = NULL;
        size_t k = 0;
        int r;

        tids = n ? calloc(n, sizeof(*tids)) : NULL;
        all = n ? calloc(n, sizeof(*all)) : NULL;
        if (n && (!tids || !all))
                return;
        unsigned vcpus = 0;
        for (unsigned i = 0; i < n; i++) {
                const struct vs_thread *th = vs_topology_thread_at(topo, i);
                if (th && th->is_vcpu) {
                        all[vcpus++] = th->tid;
                        if (vs_vcpu_index_from_comm(th->comm) < 0)
                                tids[k++] = th->tid;
                }
        }
        (void) vs_source_live_sched_pause(m->src, vcpus == 0);
        if (vcpus > 0) {
                r = vs_source_live_watch_pids(m->src, all, vcpus);
                if (r < 0 && r != m->pids_err)
                        log_warning("cannot keep the trace to vCPU threads by pid (set_event_pid: %s): the name "
                                    "filters run on every context switch instead", strerror(-r));
                else if (r > 0)
                        log_debug("pid filter: %u vCPU thread(s) watched", vcpus);
                m->pids_err = r < 0 ? r : 0;
        }
        r = vs_source_live_watch_tids(m->src, tids, k);
        if (r < 0 && r != m->watch_err)
                log_warning("cannot filter sched events to %zu vCPU thread(s) by TID (%s): recording every task's",
                            k, strerror(-r));
        m->watch_err = r;
}

static int on_rescan(sd_event_source *s, uint64_t usec, void *userdata) {
        struct manager *m = userdata;

        (void) vs_topology_scan_proc(vs_pipeline_topology(m->pipe), "/proc");
        /* the kernel's lost-event counts: a file per CPU, so not on every tick
         * (on a 2-CPU host that was 60 of the idle daemon's 500 syscalls/s) */
        (void) vs_source_live_update_lost(m->src);
        vm_exits_sync(m->exits);
        manager_watch_vcpus(m);
        manager_mark_topology(m);
        notify_status(m);
        return rearm(s, RESCAN_USEC);
}

static int on_deadline(sd_event_source *s, uint64_t usec, void *userdata) {
        return sd_event_exit(sd_event_source_get_event(s), 0);
}

static int on_signal(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata) {
        if (si->ssi_signo == SIGHUP) {
                (void) manager_reload(userdata);
                return 0;
        }
        log_info("%s received, stopping", strsignal(si->ssi_signo));
        return sd_event_exit(sd_event_source_get_event(s), 0);
}

static int on_epoch(sd_event_source *s, uint64_t usec, void *userdata) {
        struct manager *m = userdata;
        struct vs_analysis *an = vs_pipeline_analysis(m->pipe);
        int r;

        manager_note_loop_latency(m, s, usec);
        r = manager_drain(m);
        if (r >= 0 && m->enf)
                r = enforcer_epoch(m->enf, an, manager_trace_now(m), manager_trigger_mono(m));
        if (r >= 0 && m->enf && m->opts->mode == MODE_LIVE) {     /* not in --auto's short look */
                enforcer_directed_yield(m->enf);
                enforcer_yield_hints(m->enf, an, manager_trace_now(m));
        }
        if (r < 0)
                return stop(m, s, r);
        /* epoch_ms while the policy holds something, its idle epoch otherwise
         * (then with a loose accuracy, so the kernel can batch the wakeup) */
        uint64_t next = m->enf ? enforcer_next_epoch_usec(m->enf) : (uint64_t) m->cfg.epoch_ms * 1000;
        if (next != m->epoch_usec) {
                char why[192];
                const char *holds = m->enf ? enforcer_policy_holds(m->enf, why, sizeof(why)) : NULL;
                log_debug("policy epochs every %" PRIu64 " ms (%s%s)", next / 1000,
                          holds ? "it holds " : "idle: it holds nothing", holds ? holds : "");
                m->epoch_usec = next;
        }
        (void) sd_event_source_set_time_accuracy(s, next > (uint64_t) m->cfg.epoch_ms * 1000 ? next / 10 : 500);
        /* the buffers were just drained and the next epoch drains them again:
         * the tick only fires when an epoch is a whole TICK_USEC late */
        if (m->tick)
                (void) rearm(m->tick, next + TICK_USEC);
        return rearm(s, next);
}

int manager_reload(struct manager *m) {
        const char *path = options_config_path(m->opts);
        _cleanup_free_ char *errors = NULL;
        enum vs_mode before = m->cfg.mode;
        int r;

        (void) sd_notify(false, "RELOADING=1");
        r = vs_config_load(&m->cfg, path, &errors);
        if (r == -ENOENT && !m->opts->config)
                r = 0;          /* the default file went away: keep what we run with */
        if (r < 0) {
                log_error_errno(r, "Reload rejected, keeping the running configuration: %s",
                                errors && *errors ? errors : strerror(-r));
        } else {
                overrides_apply_saved(&m->cfg);
                log_info("configuration reloaded from %s (mode %s)", path, vs_mode_name(m->cfg.mode));
                manager_metrics_listener_apply(m);
                if (m->enf)
                        enforcer_reserved_cpus(m->enf);
                if (before == VS_MODE_ENFORCE && m->cfg.mode != VS_MODE_ENFORCE && m->enf)
                        (void) enforcer_release(m->enf, manager_trace_now(m));
        }
        (void) sd_notify(false, "READY=1");
        notify_status(m);
        return r;
}

static void on_vm_forgotten(const char *vm, void *userdata) {
        struct manager *m = userdata;

        if (m->dlog)
                (void) vs_decisions_forget_vm(m->dlog, vm);
        notify_status(m);
}

static void on_vm_change(struct vs_vmwatch *w, const struct vs_vm_info *vm, enum vs_vm_change c, void *userdata) {
        struct manager *m = userdata;
        struct vs_log_fields f = { .vm = vm ? vm->name : NULL, .vcpu = -1 };

        switch (c) {
        case VS_VM_STARTED:
        case VS_VM_VCPUS_CHANGED:
                vs_log(LOG_INFO, 0, &f, "libvirt: %s (pid %d, %d vCPUs)", vs_vm_change_to_string(c), vm->pid,
                       vm->nvcpus);
                (void) vs_topology_scan_proc(vs_pipeline_topology(m->pipe), "/proc");
                vm_exits_sync(m->exits);
                manager_watch_vcpus(m);         /* its vCPU threads into the pid filter now */
                manager_mark_topology(m);
                notify_status(m);
                break;
        case VS_VM_STOPPED:
        case VS_VM_MIGRATED:
                vs_log(LOG_INFO, 0, &f, "libvirt: %s", vs_vm_change_to_string(c));
                /* libvirt's word comes first where libvirtd runs; the pidfd agrees later */
                vm_exits_gone(m->exits, vm->pid, "libvirt");
                notify_status(m);
                break;
        case VS_VM_DISCONNECTED:
                log_warning("libvirt connection lost (%s); following VMs through /proc until it is back",
                            vs_vmwatch_last_error(w, NULL) ? vs_vmwatch_last_error(w, NULL) : "closed");
                break;
        case VS_VM_RECONNECTED:
                log_info("libvirt connection back");
                break;
        default:
                vs_log(LOG_DEBUG, 0, &f, "libvirt: %s", vs_vm_change_to_string(c));
        }
}

/* ---------------------------------------------------------------- the loop */

static void block_signals(void) {
        sigset_t mask;

        sigemptyset(&mask);
        sigaddset(&mask, SIGINT);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGHUP);
        sigprocmask(SIG_BLOCK, &mask, NULL);
}

/* libvirt VM discovery, when configured; without it (or while libvirt is
 * away) the /proc rescans find VMs. */
static void watch_libvirt(struct manager *m) {
        const char *uri = m->cfg.libvirt_uri;
        int r;

        if (!uri || !uri[0])
                return;
        r = vs_vmwatch_new(uri, &m->vmwatch);
        if (r >= 0)
                r = vs_vmwatch_attach(m->vmwatch, m->event, on_vm_change, m);
        if (r == 0)
                log_info("libvirt (%s) not reachable yet (%s); retrying, /proc scan meanwhile", uri,
                         vs_vmwatch_last_error(m->vmwatch, NULL) ? vs_vmwatch_last_error(m->vmwatch, NULL) : "?");
        else if (r < 0) {
                log_warning_errno(r, "Cannot follow libvirt (%s), using /proc only: %m", uri);
                m->vmwatch = (vs_vmwatch_free(m->vmwatch), NULL);
        }
}

static int add_live_sources(struct manager *m) {
        sd_event *e = m->event;
        int r;

        r = vm_exits_new(e, m->pipe, m->enf, &m->cfg, on_vm_forgotten, m, &m->exits);
        if (r < 0)
                return log_error("cannot follow VM exits: %s", strerror(-r)), r;
        vm_exits_sync(m->exits);
        watch_libvirt(m);
        r = sd_event_add_io(e, &m->io, vs_source_fd(m->src), EPOLLIN, on_trace_io, m);
        if (r >= 0)
                r = sd_event_add_time_relative(e, &m->tick, CLOCK_MONOTONIC, TICK_USEC, 10 * 1000, on_tick, m);
        if (r >= 0)
                r = sd_event_add_time_relative(e, &m->rescan, CLOCK_MONOTONIC, RESCAN_USEC, 100 * 1000, on_rescan, m);
        if (r >= 0 && m->duration > 0)
                r = sd_event_add_time_relative(e, &m->deadline, CLOCK_MONOTONIC, (uint64_t) (m->duration * 1e6), 1000,
                                               on_deadline, m);
        return r;
}

/* The one loop builder: control socket, metrics listener and signals for
 * both; for a live run also the trace source, the timers, libvirt and the
 * policy epoch.  Returns 0 or -errno (logged when it is about the socket). */
static int loop_new(struct manager *m, bool live) {
        const char *socket = options_control_path(m->opts);
        int r;

        r = sd_event_new(&m->event);
        if (r < 0)
                return r;
        /* WatchdogSec= in the unit: sd-event pings the watchdog for us */
        if (live)
                (void) sd_event_set_watchdog(m->event, true);
        m->started_usec = mono_usec();
        overrides_apply_saved(&m->cfg);
        r = control_new(m->event, m->opts->control, &manager_ctl_ops, m, &m->ctl);
        if (r < 0 && !live)
                return log_error("--serve: no control socket at %s: %s", socket,
                                 r == -EADDRINUSE ? "another vschedd answers there" : strerror(-r)), r;
        if (r == -EADDRINUSE) {
                /* A one-shot run (--duration, --dump-events, --record) next to the
                 * service is fine without a socket; a second service is not. */
                bool one_shot = m->duration > 0 || m->opts->dump || m->opts->record;
                log_error("another vschedd answers on %s%s", socket,
                          one_shot ? "; continuing without a control socket" : "");
                if (!one_shot)
                        return r;
        }
        if (r < 0)
                log_warning_errno(r, "No control socket at %s (vschedctl will not reach this daemon): %m", socket);
        manager_metrics_listener_apply(m);
        if (live) {
                r = add_live_sources(m);
                if (r < 0)
                        return r;
        }
        for (size_t i = 0; i < ELEMENTSOF(m->sigs); i++) {
                r = sd_event_add_signal(m->event, &m->sigs[i], i == 0 ? SIGINT : i == 1 ? SIGTERM : SIGHUP,
                                        on_signal, m);
                if (r < 0)
                        return r;
        }
        if (!live)
                return 0;
        r = sd_event_add_time_relative(m->event, &m->epoch, CLOCK_MONOTONIC, (uint64_t) m->cfg.epoch_ms * 1000, 500,
                                       on_epoch, m);
        if (r < 0)
                return r;
        (void) sd_event_source_set_enabled(m->tick, SD_EVENT_ON);
        (void) sd_event_source_set_enabled(m->rescan, SD_EVENT_ON);
        (void) sd_event_source_set_enabled(m->epoch, SD_EVENT_ON);
        return 0;
}

static void loop_free(struct manager *m) {
        m->epoch = sd_event_source_unref(m->epoch);
        m->exits = vm_exits_free(m->exits);
        m->vmwatch = (vs_vmwatch_free(m->vmwatch), NULL);
        m->http = metrics_server_free(m->http);
        m->ctl = control_free(m->ctl);
        for (size_t i = 0; i < ELEMENTSOF(m->sigs); i++)
                m->sigs[i] = sd_event_source_unref(m->sigs[i]);
        m->deadline = sd_event_source_unref(m->deadline);
        m->rescan = sd_event_source_unref(m->rescan);
        m->tick = sd_event_source_unref(m->tick);
        m->io = sd_event_source_unref(m->io);
        m->event = sd_event_unref(m->event);
}

int manager_serve(struct manager *m) {
        int r;

        block_signals();
        vs_pipeline_finish(m->pipe);
        r = loop_new(m, false);
        if (r >= 0) {
                (void) sd_notify(false, "READY=1");
                log_info("replay done; serving on %s until SIGINT/SIGTERM", options_control_path(m->opts));
                r = sd_event_loop(m->event);
        }
        if (r < 0)
                log_error("--serve: %s", strerror(-r));
        loop_free(m);
        return r;
}

int manager_run_live(struct manager *m) {
        int r, n = 0;

        /* Signals first: a SIGTERM that arrives while the instance exists must
         * still go through cleanup. */
        block_signals();
        r = manager_open_live(m, &n);
        if (r < 0)
                return r;
        r = enforcer_new(&m->cfg, vs_pipeline_topology(m->pipe), m->opts->dry_run, &m->enf);
        if (r < 0) {
                log_error("cannot set up enforcement: %s", strerror(-r));
                goto out;
        }
        r = loop_new(m, true);
        if (r < 0)
                goto out;
        (void) sd_notify(false, "READY=1");
        notify_status(m);
        {
                struct vs_log_fields f = { .vcpu = -1, .message_id = VS_MSGID_STARTED };
                vs_log(LOG_INFO, 0, &f, "started in %s mode%s, %d VM(s)", vs_mode_name(m->cfg.mode),
                       m->opts->dry_run ? " (dry run: nothing is written)" : "", n > 0 ? n : 0);
        }

        r = sd_event_loop(m->event);
        (void) sd_notify(false, "STOPPING=1");
        if (r >= 0 && m->r >= 0) {
                /* what arrived between the last tick and stop: all of it, the
                 * writers stopped first so that the end is in sight under a flood */
                (void) vs_source_live_stop(m->src);
                r = manager_drain_for(m, UINT64_MAX);
        }
        if (r >= 0 && m->r < 0)
                r = m->r;
        if (r == -EPIPE) {
                /* the reader went away: a normal stop, no summary to a closed pipe */
                r = 0;
                m->summary = false;
        }
out:
        if (r < 0)
                log_error("live: %s", strerror(-r));
        /* every value we changed goes back before anything else is torn down */
        if (m->enf) {
                (void) enforcer_release(m->enf, manager_trace_now(m));
                enforcer_free(m->enf);
                m->enf = NULL;
        }
        loop_free(m);
        (void) vs_source_live_update_lost(m->src);
        manager_source_problems(m, "live");
        if (m->opts->record) {
                int k = manager_write_recording(m);
                if (k < 0 && r >= 0)
                        r = k;
        }
        if (r >= 0)
                manager_print_results(m);
        return r;
}
