/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "actuator.h"
#include "cgroup.h"
#include "cpulist.h"
#include "enforce.h"
#include "kvm-dy.h"
#include "kvm-hook.h"
#include "log.h"
#include "mono-clock.h"
#include "policy.h"
#include "yield-hint.h"

struct enforcer {
        const struct vs_config *cfg;
        struct vs_topology *topo;
        bool dry_run;
        struct vs_cg_host host;
        struct vs_policy *pol;
        struct vs_actuator *act;        /* opened at the first write */
        char **based;                   /* VM names whose baselines were read */
        size_t n_based;
        struct enforcer_stats st;
        uint64_t trigger_mono;          /* of the epoch running, 0: unknown */
        struct vs_kvm_hook hook;        /* the companion kernel patch, probed every 5 s */
        uint64_t hook_probed_usec;
        struct seen_class *classes;     /* the classifier's last verdict per VM, logged on change */
        size_t n_classes;
        struct vs_kvm_hints *hints;     /* the VMs' hint files, taken at the first hint */
        char reserved_text[256];        /* the reserved CPUs, for messages */
        struct vs_kvm_dy *dy;           /* the VMs vschedd turned directed yield on for (directed_yield) */
        uint64_t dy_checked_usec;
};

struct seen_class {
        char vm[VS_VM_NAME_MAX];
        enum vs_vm_class cls;
        enum vs_lever lever;
        enum vs_trial trial;
        const char *skipped;
};

/* One log line per VM whose class, lever or trial changed (the classifier
 * decides once per evaluate_ms, so this is rare), and one when the reserved
 * CPUs leave a VM no CPU (or stop doing so). */
static void log_classes(struct enforcer *e, uint64_t now) {
        for (unsigned i = 0; i < vs_topology_n_vms(e->topo); i++) {
                const struct vs_vm *v = vs_topology_vm(e->topo, (int32_t) i);
                struct vs_policy_vm_state st;
                struct seen_class *c = NULL;

                if (!v || vs_policy_vm_state(e->pol, v->name, &st) < 0 || (st.windows == 0 && !st.skipped))
                        continue;
                for (size_t k = 0; k < e->n_classes; k++)
                        if (strcmp(e->classes[k].vm, v->name) == 0)
                                c = &e->classes[k];
                if (!c) {
                        struct seen_class *n = realloc(e->classes, (e->n_classes + 1) * sizeof(*n));
                        if (!n)
                                return;
                        e->classes = n;
                        c = &n[e->n_classes++];
                        snprintf(c->vm, sizeof(c->vm), "%s", v->name);
                        c->cls = VS_CLASS_NONE;         /* first verdict: logged unless nothing to say */
                        c->lever = VS_LEVER_NONE;
                        c->trial = VS_TRIAL_NONE;
                        c->skipped = NULL;
                }
                if (c->skipped != st.skipped) {
                        /* once per change: the reserved CPUs leave this VM nowhere to go */
                        struct vs_log_fields f = { .vm = v->name, .vcpu = -1, .reason = st.skipped };
                        if (st.skipped)
                                vs_log(LOG_NOTICE, 0, &f, "leaving the VM alone: %s (reserved: %s)", st.skipped,
                                       e->reserved_text);
                        else if (c->skipped)
                                vs_log(LOG_INFO, 0, &f, "the VM may use unreserved CPUs again: acting on it");
                        c->skipped = st.skipped;
                }
                if (!e->cfg->classify || st.windows == 0)
                        continue;
                if (c->cls == st.cls && c->lever == st.lever && c->trial == st.trial)
                        continue;
                c->cls = st.cls;
                c->lever = st.lever;
                c->trial = st.trial;
                struct vs_log_fields f = { .vm = v->name, .vcpu = -1 };
                static const char *const figure[] = {
                        [VS_FIGURE_ANSWERED] = "answered IPIs/s",
                        [VS_FIGURE_SPIN] = "PAUSE exits + PV yields/s",
                        [VS_FIGURE_STALLED] = "stalled share",
                };
                char sig[96], fig_after[64], fig_before[64];
                const char *ff = (unsigned) st.figure < ELEMENTSOF(figure) ? figure[st.figure] : figure[0];
                snprintf(fig_after, sizeof(fig_after), st.figure == VS_FIGURE_STALLED ? "%s %.2f" : "%s %.0f", ff, st.after);
                snprintf(fig_before, sizeof(fig_before), st.figure == VS_FIGURE_STALLED ? "%.2f" : "%.0f", st.before);
                vs_signals_format(st.signals, sig, sizeof(sig));
                char why[224] = "";
                if (st.cls == VS_CLASS_SPIN && st.halted_until > now)
                        snprintf(why, sizeof(why), " (it halted within retry_ms)");
                else if (st.cls == VS_CLASS_SPIN && st.halt_share * 2 >= e->cfg->halt_share)
                        snprintf(why, sizeof(why), " (halted half of halt_share or more)");
                else if (st.banned_until[VS_LEVER_COSCHEDULE] > now || st.banned_until[VS_LEVER_PLACEMENT] > now)
                        /* the last trial's figures: what the release was judged on */
                        snprintf(why, sizeof(why), " (a lever that did not help waits for retry_ms; last trial: %s, before %s)",
                                 fig_after, fig_before);
                if (st.lever == VS_LEVER_NONE)
                        vs_log(LOG_INFO, 0, &f, "classified %s (halted %.0f%% of the time, %.0f PV kicks/s; signals: %s): no lever%s",
                               vs_vm_class_name(st.cls), st.halt_share * 100, st.kick_rate, sig[0] ? sig : "none", why);
                else if (st.trial == VS_TRIAL_KEPT)
                        vs_log(LOG_INFO, 0, &f, "classified %s (halted %.0f%% of the time, %.0f PV kicks/s; signals: %s): %s kept, %s with it, before %s",
                               vs_vm_class_name(st.cls), st.halt_share * 100, st.kick_rate, sig[0] ? sig : "none",
                               vs_lever_name(st.lever), fig_after, fig_before);
                else
                        vs_log(LOG_INFO, 0, &f, "classified %s (halted %.0f%% of the time, %.0f PV kicks/s; signals: %s): %s on trial, before %s",
                               vs_vm_class_name(st.cls), st.halt_share * 100, st.kick_rate, sig[0] ? sig : "none",
                               vs_lever_name(st.lever), fig_before);
        }
}

static int online_cpus(unsigned *cpus, unsigned max) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        unsigned k = 0;
        FILE *f = fopen("/sys/devices/system/cpu/online", "re");

        if (f) {
                unsigned a, b;
                char sep;
                while (k < max && fscanf(f, "%u", &a) == 1) {
                        b = a;
                        if (fscanf(f, "%c", &sep) == 1 && sep == '-') {
                                if (fscanf(f, "%u", &b) != 1)
                                        break;
                                (void) !fscanf(f, "%c", &sep);
                        }
                        for (unsigned c = a; c <= b && k < max; c++)
                                cpus[k++] = c;
                        if (sep != ',')
                                break;
                }
                fclose(f);
        }
        if (k == 0)
                for (long c = 0; c < (n > 0 ? n : 1) && k < max; c++)
                        cpus[k++] = (unsigned) c;
        return (int) k;
}

/* The CPUs the kernel keeps out of load balancing (isolcpus=, domain) are
 * reserved like [policy] reserved_cpus.  nohz_full alone is not: the
 * scheduler still balances onto those CPUs (with isolcpus= they are in
 * "isolated" anyway). */
void enforcer_reserved_cpus(struct enforcer *e) {
        struct vs_cpumask iso = {}, all = {};
        char cfg_list[128] = "", iso_list[128] = "";
        int r;

        r = vs_cpulist_read_sysfs("/sys", "isolated", &iso);
        if (r < 0) {
                log_warning_errno(r, "Cannot read /sys/devices/system/cpu/isolated, reserving only reserved_cpus: %m");
                iso = (struct vs_cpumask) {};
        }
        vs_policy_set_host_reserved(e->pol, &iso);
        (void) vs_cpulist_format(&iso, iso_list, sizeof(iso_list));
        if (vs_cpulist_parse(e->cfg->reserved_cpus ? e->cfg->reserved_cpus : "", &all, NULL) < 0)
                all = (struct vs_cpumask) {};
        (void) vs_cpulist_format(&all, cfg_list, sizeof(cfg_list));
        vs_cpumask_or(&all, &iso);
        if (vs_cpumask_count(&all) == 0) {
                snprintf(e->reserved_text, sizeof(e->reserved_text), "none");
                return;
        }
        snprintf(e->reserved_text, sizeof(e->reserved_text), "%s%s%s%s%s", cfg_list[0] ? cfg_list : "",
                 cfg_list[0] ? " (reserved_cpus)" : "", cfg_list[0] && iso_list[0] ? ", " : "",
                 iso_list[0] ? iso_list : "", iso_list[0] ? " (isolated by the kernel)" : "");
        log_info("reserved CPUs: %s; no vCPU is placed there, emulator threads stay where libvirt put them",
                 e->reserved_text);
}

int enforcer_restore_journal(const char *state_dir) {
        size_t skipped = 0;
        unsigned gone = 0, left = 0;
        int r = vs_journal_restore(state_dir, &skipped), k;

        if (r < 0)
                return log_error_errno(r, "Failed to restore the journal in %s: %m", state_dir);
        if (r > 0 || skipped > 0) {
                struct vs_log_fields f = { .vcpu = -1, .message_id = VS_MSGID_RESTORED };
                vs_log(LOG_NOTICE, 0, &f, "restored %d cgroup value(s) left by a previous run (%zu gone)", r,
                       skipped);
        }
        /* directed yield a killed predecessor turned on (directed_yield) */
        k = vs_kvm_dy_recover("/proc", state_dir, &gone, &left);
        if (k < 0)
                log_warning_errno(k, "Cannot read %s/%s, directed yield a previous run turned on stays on: %m",
                                  state_dir, VS_KVM_DY_STATE_FILE);
        else if (k > 0 || gone > 0 || left > 0) {
                struct vs_log_fields f = { .vcpu = -1, .message_id = VS_MSGID_RESTORED };
                vs_log(LOG_NOTICE, 0, &f,
                       "turned off directed yield in %d VM(s) a previous run left it on in (%u gone, %u changed "
                       "meanwhile or never turned on: left as they are)", k, gone, left);
        }
        return r;
}

int enforcer_new(const struct vs_config *cfg, struct vs_topology *topo, bool dry_run, struct enforcer **ret) {
        struct enforcer *e;
        unsigned cpus[1024];
        int r, n;

        e = calloc(1, sizeof(*e));
        if (!e)
                return -ENOMEM;
        e->cfg = cfg;
        e->topo = topo;
        e->dry_run = dry_run;
        r = vs_cg_host_detect("/proc/self/mountinfo", &e->host);
        if (r < 0)
                log_warning_errno(r, "Cannot read the cgroup mounts, acting on nothing: %m");
        for (int k = 0; k < _VS_KNOB_MAX; k++)
                log_debug("knob %s: %s", vs_knob_name(k),
                          vs_cg_knob_file(&e->host, k) ? vs_cg_knob_file(&e->host, k) : "unavailable");
        if (!dry_run) {
                /* a journal left by a crashed or killed predecessor comes first */
                r = enforcer_restore_journal(cfg->state_dir);
                if (r < 0 && r != -ENOENT) {
                        free(e);
                        return r;
                }
        }
        n = online_cpus(cpus, 1024);
        r = vs_policy_new(cfg, cpus, (unsigned) n, &e->pol);
        if (r < 0) {
                free(e);
                return r;
        }
        enforcer_reserved_cpus(e);
        *ret = e;
        return 0;
}

/* /proc/TGID/cgroup of the VM's QEMU, for knob @k */
static int vm_proc_cgroup(struct enforcer *e, const char *vm, enum vs_knob k, int32_t *ret_tgid, char *buf,
                          size_t len) {
        for (unsigned i = 0; i < vs_topology_n_vms(e->topo); i++) {
                const struct vs_vm *v = vs_topology_vm(e->topo, (int32_t) i);
                char path[64];
                if (!v || strcmp(v->name, vm) != 0 || v->tgid <= 0 || v->inferred)
                        continue;
                snprintf(path, sizeof(path), "/proc/%d/cgroup", v->tgid);
                if (ret_tgid)
                        *ret_tgid = v->tgid;
                return vs_cg_proc_cgroup(&e->host, k, path, buf, len);
        }
        return -ENOENT;
}

static int knob_dir(struct enforcer *e, const char *vm, int vcpu, enum vs_knob k, char *dir, size_t len) {
        char proc[PATH_MAX];
        int r = vm_proc_cgroup(e, vm, k, NULL, proc, sizeof(proc));

        if (r < 0)
                return r;
        return vs_cg_dir(&e->host, k, proc, vcpu, dir, len);
}

/* Read the current values of a new VM's vCPU cgroups: they are what the
 * policy returns to. */
static void load_baselines(struct enforcer *e) {
        for (unsigned i = 0; i < vs_topology_n_vms(e->topo); i++) {
                const struct vs_vm *v = vs_topology_vm(e->topo, (int32_t) i);
                bool seen = false;

                if (!v || v->tgid <= 0 || v->inferred)
                        continue;
                for (size_t b = 0; b < e->n_based; b++)
                        if (strcmp(e->based[b], v->name) == 0)
                                seen = true;
                if (seen)
                        continue;
                char **nb = realloc(e->based, (e->n_based + 1) * sizeof(*nb));
                if (!nb)
                        return;
                e->based = nb;
                e->based[e->n_based] = strdup(v->name);
                if (!e->based[e->n_based])
                        return;
                e->n_based++;
                for (unsigned t = 0; t < vs_topology_n_threads(e->topo); t++) {
                        const struct vs_thread *th = vs_topology_thread_at(e->topo, t);
                        if (!th || th->vm != (int32_t) i || th->vcpu_index < 0)
                                continue;
                        for (int k = 0; k < _VS_KNOB_MAX; k++) {
                                char dir[PATH_MAX], raw[128], val[VS_VALUE_MAX];
                                const char *file = vs_cg_knob_file(&e->host, k);
                                if (k == VS_KNOB_FREEZE || !file ||
                                    knob_dir(e, v->name, th->vcpu_index, k, dir, sizeof(dir)) < 0 ||
                                    vs_cg_read(dir, file, raw, sizeof(raw)) < 0 ||
                                    vs_cg_parse(&e->host, k, raw, val, sizeof(val)) < 0)
                                        continue;
                                (void) vs_policy_set_baseline(e->pol, v->name, th->vcpu_index, k, val);
                        }
                }
        }
}

static void apply(const struct vs_decision *d, void *userdata) {
        struct enforcer *e = userdata;
        struct vs_log_fields f = { .vm = d->vm, .vcpu = d->vcpu, .reason = d->reason,
                                   .message_id = VS_MSGID_DECISION };
        char dir[PATH_MAX], val[VS_VALUE_MAX];
        const char *file = vs_cg_knob_file(&e->host, d->knob);
        int r;

        e->st.decisions++;
        if (e->dry_run) {
                vs_log(LOG_INFO, 0, &f, "%s %s -> %s (dry run: %s)", vs_knob_v2_file(d->knob), d->old, d->new, d->reason);
                return;
        }
        if (!file) {
                vs_log(LOG_DEBUG, 0, &f, "%s unavailable on this host, skipping", vs_knob_name(d->knob));
                return;
        }
        r = knob_dir(e, d->vm, d->vcpu, d->knob, dir, sizeof(dir));
        if (r < 0) {
                e->st.vanished++;
                vs_log(LOG_DEBUG, r, &f, "no cgroup for %s (no libvirt sub-tree, or the VM is gone), skipping: %m",
                       file);
                return;
        }
        f.cgroup = dir;
        r = vs_cg_format(&e->host, d->knob, d->new, val, sizeof(val));
        if (r < 0) {
                vs_log(LOG_WARNING, r, &f, "cannot express %s=%s here, skipping: %m", file, d->new);
                (void) vs_policy_set_current(e->pol, d->vm, d->vcpu, d->knob, d->old);
                return;
        }
        if (!e->act) {
                r = vs_actuator_new(e->cfg->state_dir, &e->act);
                if (r < 0) {
                        e->st.write_errors++;
                        vs_log(LOG_ERR, r, &f, "cannot open the journal in %s, writing nothing: %m",
                               e->cfg->state_dir);
                        return;
                }
        }
        r = vs_actuator_set(e->act, dir, file, val);
        if (r == 1) {
                char raw[128], logical[VS_VALUE_MAX];
                e->st.external++;
                f.message_id = VS_MSGID_EXTERNAL;
                if (vs_cg_read(dir, file, raw, sizeof(raw)) >= 0 &&
                    vs_cg_parse(&e->host, d->knob, raw, logical, sizeof(logical)) >= 0) {
                        (void) vs_policy_set_baseline(e->pol, d->vm, d->vcpu, d->knob, logical);
                        vs_log(LOG_NOTICE, 0, &f, "%s was changed by someone else to %s: that is the baseline now",
                               file, logical);
                }
                return;
        }
        if (r == -ENOENT) {
                e->st.vanished++;
                vs_log(LOG_INFO, r, &f, "cgroup gone (VM stopped?), skipping %s", file);
                return;
        }
        if (r == -EBUSY) {
                e->st.skipped_busy++;
                vs_log(LOG_DEBUG, r, &f, "%s busy, skipping this epoch: %m", file);
                return;
        }
        if (r < 0) {
                e->st.write_errors++;
                vs_log(LOG_WARNING, r, &f, "cannot write %s=%s: %m", file, val);
                (void) vs_policy_set_current(e->pol, d->vm, d->vcpu, d->knob, d->old);
                return;
        }
        e->st.writes++;
        if (e->trigger_mono) {
                uint64_t now = vs_mono_ns();
                vs_lat_hist_add(&e->st.latency, now > e->trigger_mono ? now - e->trigger_mono : 0);
        }
        vs_log(LOG_DEBUG, 0, &f, "%s %s -> %s (%s)", file, d->old, d->new, d->reason);
}

int enforcer_epoch(struct enforcer *e, struct vs_analysis *an, uint64_t now, uint64_t trigger_mono) {
        load_baselines(e);
        e->trigger_mono = trigger_mono;
        int r = vs_policy_epoch(e->pol, an, now, apply, e);
        e->trigger_mono = 0;            /* releases and the like: no trigger event */
        if (r >= 0)
                log_classes(e, now);
        return r < 0 ? r : 0;
}

uint64_t enforcer_next_epoch_usec(const struct enforcer *e) {
        return vs_policy_next_epoch_ns(e->pol) / 1000;
}

const char *enforcer_policy_holds(const struct enforcer *e, char *buf, size_t len) {
        return vs_policy_holds(e->pol, buf, len);
}

/* Turn directed yield off in every VM vschedd turned it on for. */
static void dy_release(struct enforcer *e) {
        unsigned failed = 0, off;

        if (!e->dy || vs_kvm_dy_n_on(e->dy) == 0)
                return;
        off = vs_kvm_dy_off_all(e->dy, &failed);
        struct vs_log_fields f = { .vcpu = -1, .message_id = VS_MSGID_RESTORED };
        vs_log(failed ? LOG_WARNING : LOG_INFO, 0, &f,
               "directed yield turned off again in %u VM(s)%s", off,
               failed ? ", some changed meanwhile or unreachable: left as they are" : "");
}

int enforcer_release(struct enforcer *e, uint64_t now) {
        size_t restored = 0, skipped = 0;
        int r;

        (void) vs_policy_release(e->pol, now, apply, e);
        dy_release(e);
        if (!e->act)
                return 0;
        r = vs_actuator_restore(e->act, &restored, &skipped);
        if (r < 0)
                return log_error_errno(r, "Failed to restore every cgroup value (journal kept for --restore): %m");
        if (restored || skipped) {
                struct vs_log_fields f = { .vcpu = -1, .message_id = VS_MSGID_RESTORED };
                vs_log(LOG_INFO, 0, &f, "restored %zu cgroup value(s), %zu gone", restored, skipped);
        }
        return 0;
}

/* Companion kernel patch (kernel/): point each spinning vCPU of an enforced
 * VM at its strongest waiting edge through the VM's hint file (or the first
 * version's debugfs file).  Hints expire in the kernel (TTL: two epochs at
 * the policy's cadence), so they are not journalled. */
struct hint_ctx {
        struct enforcer *e;
        uint64_t now_usec;
        uint32_t ttl_us;
        unsigned written;
};

static void write_hint(const struct vs_yield_hint *h, void *userdata) {
        struct hint_ctx *c = userdata;
        struct vs_topology *t = c->e->topo;
        struct vs_vm_policy vp;
        int32_t vm = -1, src = -1, dst = -1;
        int r, fd;

        vs_config_vm(c->e->cfg, h->vm, &vp);
        if (vp.mode != VS_MODE_ENFORCE)
                return;
        for (unsigned i = 0; i < vs_topology_n_vms(t) && vm < 0; i++)
                if (strcmp(vs_topology_vm(t, (int32_t) i)->name, h->vm) == 0 && vs_topology_vm(t, (int32_t) i)->tgid > 0)
                        vm = (int32_t) i;
        for (unsigned i = 0; vm >= 0 && i < vs_topology_n_threads(t); i++) {
                const struct vs_thread *th = vs_topology_thread_at(t, i);
                int32_t idx = th->vm == vm ? vs_topology_vcpu_of(t, th->tid) : -1;
                if (idx >= 0 && (unsigned) idx == h->src)
                        src = th->apic_id;
                else if (idx >= 0 && (unsigned) idx == h->dst)
                        dst = th->apic_id;
        }
        if (src < 0 || dst < 0)
                return;
        /* a VM vschedd turned directed yield on for: the hint file it made */
        fd = c->e->dy ? vs_kvm_dy_hint_fd(c->e->dy, vs_topology_vm(t, vm)->tgid) : -1;
        if (fd >= 0)
                r = vs_kvm_hook_write_hint_fd(fd, (uint32_t) src, dst, c->ttl_us);
        else
                r = vs_kvm_hints_write(c->e->hints, &c->e->hook, vs_topology_vm(t, vm)->tgid, (uint32_t) src, dst,
                                       c->ttl_us, c->now_usec);
        if (r < 0)
                log_debug("yield hint %s vCPU %u -> %u: %s, ignoring", h->vm, h->src, h->dst, strerror(-r));
        else
                c->written++;
}

/* the companion kernel patch, probed again every 5 s */
static void probe_hook(struct enforcer *e, uint64_t mono) {
        if (!e->hook_probed_usec || mono - e->hook_probed_usec > 5 * 1000000ull) {
                if (vs_kvm_hook_probe("/sys", "/dev/kvm", &e->hook) < 0)
                        e->hook.present = false;
                e->hook_probed_usec = mono;
        }
}

#define DY_CHECK_USEC (1000000ull)      /* new VMs and changed settings: looked at every second */
#define DY_RETRY_USEC (30000000ull)     /* a VM where turning it on failed: tried again after */

/* One VM: directed yield on when @want and off again when not. */
static void dy_vm(struct enforcer *e, const struct vs_vm *v, bool want, uint32_t features, uint64_t mono) {
        struct vs_log_fields f = { .vm = v->name, .vcpu = -1 };
        int err0 = 0, r;
        enum vs_kvm_dy_state s = vs_kvm_dy_state(e->dy, v->tgid, &err0, NULL);

        if (!want) {
                if (s != VS_KVM_DY_ON)
                        return;
                r = vs_kvm_dy_off(e->dy, v->tgid);
                if (r < 0)
                        vs_log(LOG_NOTICE, r, &f, "directed yield was changed by someone else meanwhile, left on: %m");
                else
                        vs_log(LOG_INFO, 0, &f, "directed yield off again (directed_yield = no, or not enforced)");
                return;
        }
        if (s == VS_KVM_DY_ON || s == VS_KVM_DY_VMM)
                return;
        r = vs_kvm_dy_on(e->dy, v->tgid, features, mono, DY_RETRY_USEC);
        if (r == -EAGAIN)
                return;
        if (r == VS_KVM_DY_ON)
                vs_log(LOG_INFO, 0, &f, "directed yield on (KVM_CAP_DIRECTED_YIELD:%s%s, turned on by vschedd%s)",
                       features & VS_KVM_DIRECTED_YIELD_IPI ? " ipi" : "",
                       features & VS_KVM_DIRECTED_YIELD_HINT ? " hint" : "",
                       features & VS_KVM_DIRECTED_YIELD_HINT && vs_kvm_dy_hint_fd(e->dy, v->tgid) < 0 ?
                               "; no hint file" : "");
        else if (r == VS_KVM_DY_VMM)
                vs_log(LOG_INFO, 0, &f, "directed yield already on by its VMM: left as the VMM set it");
        else if (r == -EIO)
                vs_log(s == VS_KVM_DY_FAILED && err0 == r ? LOG_DEBUG : LOG_NOTICE, r, &f,
                       "cannot turn directed yield on: the kernel refuses a process other than the VMM "
                       "(the series without its patch 4), leaving it off");
        else
                vs_log(s == VS_KVM_DY_FAILED && err0 == r ? LOG_DEBUG : LOG_WARNING, r, &f,
                       "cannot turn directed yield on (pid %d), leaving it off: %m", (int) v->tgid);
}

void enforcer_directed_yield(struct enforcer *e) {
        uint64_t mono = vs_mono_ns() / 1000;
        uint32_t features = 0;
        int r;

        if (e->dry_run || (e->dy_checked_usec && mono - e->dy_checked_usec < DY_CHECK_USEC))
                return;
        e->dy_checked_usec = mono;
        probe_hook(e, mono);
        if (e->hook.present && e->hook.iface == VS_KVM_HOOK_VM_FILE)
                features = (e->hook.ipi ? VS_KVM_DIRECTED_YIELD_IPI : 0) | (e->hook.hint ? VS_KVM_DIRECTED_YIELD_HINT : 0);
        if (!e->dy) {
                if (!features)
                        return;
                r = vs_kvm_dy_new("/proc", e->cfg->state_dir, &e->dy);
                if (r < 0) {
                        log_debug("directed yield: %s, not turned on anywhere", strerror(-r));
                        return;
                }
        }
        (void) vs_kvm_dy_gc(e->dy);
        for (unsigned i = 0; i < vs_topology_n_vms(e->topo); i++) {
                const struct vs_vm *v = vs_topology_vm(e->topo, (int32_t) i);
                struct vs_vm_policy vp;

                if (!v || v->tgid <= 0 || v->inferred)
                        continue;
                vs_config_vm(e->cfg, v->name, &vp);
                dy_vm(e, v, features && vp.mode == VS_MODE_ENFORCE && vp.directed_yield, features, mono);
        }
}

int enforcer_vm_directed_yield(const struct enforcer *e, const char *vm, int *err) {
        if (!e || !e->dy)
                return VS_KVM_DY_OFF;
        for (unsigned i = 0; i < vs_topology_n_vms(e->topo); i++) {
                const struct vs_vm *v = vs_topology_vm(e->topo, (int32_t) i);
                if (v && v->tgid > 0 && !v->inferred && strcmp(v->name, vm) == 0)
                        return (int) vs_kvm_dy_state(e->dy, v->tgid, err, NULL);
        }
        return VS_KVM_DY_OFF;
}

void enforcer_yield_hints(struct enforcer *e, struct vs_analysis *an, uint64_t now) {
        struct hint_ctx c = { .e = e };
        uint64_t mono = vs_mono_ns() / 1000;
        int r;

        if (e->dry_run)
                return;
        probe_hook(e, mono);
        if (!e->hook.present || !e->hook.hint)
                return;
        if (!e->hints) {
                r = vs_kvm_hints_new("/proc", "/sys/kernel/debug", &e->hints);
                if (r < 0) {
                        log_debug("yield hints: %s, none written", strerror(-r));
                        return;
                }
        }
        (void) vs_kvm_hints_gc(e->hints);
        c.now_usec = mono;
        /* two epochs at the policy's current cadence (100 ms apart when idle) */
        uint64_t ttl = 2 * enforcer_next_epoch_usec(e);
        c.ttl_us = ttl > UINT32_MAX ? UINT32_MAX : (uint32_t) ttl;
        if (c.ttl_us > VS_KVM_HOOK_HINT_MAX_TTL_US)
                c.ttl_us = VS_KVM_HOOK_HINT_MAX_TTL_US;
        (void) vs_yield_hints(an, now, 1.0, write_hint, &c);
}

void enforcer_get_stats(const struct enforcer *e, struct enforcer_stats *ret) {
        *ret = e->st;
        ret->journalled = e->act ? vs_actuator_n_changed(e->act) : 0;
}

void enforcer_forget_vm(struct enforcer *e, const char *vm) {
        if (!e)
                return;
        (void) vs_policy_forget_vm(e->pol, vm);
        for (size_t i = 0; i < e->n_based; i++)
                if (strcmp(e->based[i], vm) == 0) {
                        free(e->based[i]);
                        e->based[i] = e->based[--e->n_based];
                        break;
                }
        for (size_t i = 0; i < e->n_classes; i++)
                if (strcmp(e->classes[i].vm, vm) == 0) {
                        e->classes[i] = e->classes[--e->n_classes];
                        break;
                }
}

int enforcer_vm_state(const struct enforcer *e, const char *vm, struct vs_policy_vm_state *ret) {
        if (!e || !e->cfg->classify)
                return -ENOENT;
        return vs_policy_vm_state(e->pol, vm, ret);
}

const char *enforcer_left_alone(const struct enforcer *e, const char *vm) {
        struct vs_policy_vm_state st;

        if (!e || vs_policy_vm_state(e->pol, vm, &st) < 0)
                return NULL;
        return st.skipped;
}

const char *enforcer_value(const struct enforcer *e, const char *vm, int vcpu, enum vs_knob k) {
        return vs_policy_value(e->pol, vm, vcpu, k);
}

const char *enforcer_baseline(const struct enforcer *e, const char *vm, int vcpu, enum vs_knob k) {
        return vs_policy_baseline(e->pol, vm, vcpu, k);
}

void enforcer_free(struct enforcer *e) {
        if (!e)
                return;
        (void) enforcer_release(e, 0);
        vs_actuator_free(e->act);
        vs_policy_free(e->pol);
        free(e->classes);
        vs_kvm_hints_free(e->hints);
        vs_kvm_dy_free(e->dy);
        for (size_t i = 0; i < e->n_based; i++)
                free(e->based[i]);
        free(e->based);
        free(e);
}
