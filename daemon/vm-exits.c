/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vm-exits.h"
#include "log.h"
#include "macro.h"
#include "overrides.h"
#include "pidwatch.h"

#define SWEEP_USEC (1000 * 1000)                /* with pidfds: stray threads only */
#define SWEEP_FALLBACK_USEC (250 * 1000)        /* without: exits seen within 0.25 s + a loop turn */

struct vm_exits {
        struct vs_pipeline *pipe;
        struct enforcer *enf;
        struct vs_config *cfg;
        vm_exits_cb cb;
        void *userdata;
        struct vs_pidwatch *pw;
        sd_event_source *sweep;
        bool no_pidfd;
        uint64_t gen;
        uint64_t forgotten;
};

void vm_exits_gone(struct vm_exits *x, pid_t pid, const char *why) {
        char name[VS_VM_NAME_MAX];

        if (!x || pid <= 0)
                return;
        (void) vs_pidwatch_remove(x->pw, pid);
        if (vs_pipeline_forget_tgid(x->pipe, pid, name, sizeof(name)) <= 0)
                return;
        enforcer_forget_vm(x->enf, name);
        if (overrides_forget(x->cfg, name) < 0)
                log_warning("Cannot drop the saved override of gone VM %s, ignoring", name);
        x->forgotten++;
        {
                struct vs_log_fields f = { .vm = name, .vcpu = -1 };
                vs_log(LOG_INFO, 0, &f, "VM gone (%s, pid %d): forgotten", why, (int) pid);
        }
        if (x->cb)
                x->cb(name, x->userdata);
}

static void on_exit_pid(struct vs_pidwatch *w, pid_t pid, void *userdata) {
        vm_exits_gone(userdata, pid, "process exited");
}

static void sweep(struct vm_exits *x) {
        _cleanup_free_ int32_t *gone = NULL;
        size_t n = 0;

        if (vs_topology_gone(vs_pipeline_topology(x->pipe), &gone, &n) <= 0)
                return;
        for (size_t i = 0; i < n; i++) {
                /* a process that was no VM leaves only its threads */
                if (vs_topology_vm_of_tgid(vs_pipeline_topology(x->pipe), gone[i]) < 0)
                        (void) vs_topology_forget_tgid(vs_pipeline_topology(x->pipe), gone[i]);
                else
                        vm_exits_gone(x, gone[i], "no longer in /proc");
        }
}

static int on_sweep(sd_event_source *s, uint64_t usec, void *userdata) {
        struct vm_exits *x = userdata;
        int r;

        sweep(x);
        vm_exits_sync(x);
        r = sd_event_source_set_time_relative(s, x->no_pidfd ? SWEEP_FALLBACK_USEC : SWEEP_USEC);
        if (r >= 0)
                r = sd_event_source_set_enabled(s, SD_EVENT_ONESHOT);
        return r;
}

void vm_exits_sync(struct vm_exits *x) {
        struct vs_topology *t;
        int32_t gone[64];
        unsigned n_gone = 0;
        uint64_t g;

        if (!x)
                return;
        t = vs_pipeline_topology(x->pipe);
        g = vs_topology_generation(t);
        if (g == x->gen || x->no_pidfd)
                return;
        x->gen = g;
        for (unsigned i = 0; i < vs_topology_n_vms(t); i++) {
                const struct vs_vm *vm = vs_topology_vm(t, (int32_t) i);
                int r;

                if (!vm || vm->tgid <= 0)
                        continue;
                r = vs_pidwatch_add(x->pw, vm->tgid);
                if (r == -ESRCH && n_gone < ELEMENTSOF(gone))
                        gone[n_gone++] = vm->tgid;      /* forgotten after the loop: it changes the table */
                else if (r == -ENOSYS) {
                        log_notice("No pidfd_open on this kernel: VM exits are found by a /proc sweep every %u ms",
                                   SWEEP_FALLBACK_USEC / 1000);
                        x->no_pidfd = true;
                        (void) sd_event_source_set_time_relative(x->sweep, SWEEP_FALLBACK_USEC);
                        break;
                } else if (r < 0 && r != -ESRCH)
                        log_debug("Cannot watch VM process %d (%s), the /proc sweep will notice its exit",
                                  (int) vm->tgid, strerror(-r));
        }
        for (unsigned i = 0; i < n_gone; i++)
                vm_exits_gone(x, gone[i], "exited before it was watched");
}

uint64_t vm_exits_forgotten(const struct vm_exits *x) {
        return x ? x->forgotten : 0;
}

int vm_exits_new(sd_event *e, struct vs_pipeline *pipe, struct enforcer *enf, struct vs_config *cfg,
                 vm_exits_cb cb, void *userdata, struct vm_exits **ret) {
        struct vm_exits *x = calloc(1, sizeof(*x));
        int r;

        if (!x)
                return -ENOMEM;
        *x = (struct vm_exits) { .pipe = pipe, .enf = enf, .cfg = cfg, .cb = cb, .userdata = userdata,
                                 .gen = UINT64_MAX };
        /* tests: the fallback of a kernel without pidfd_open (before 5.3) */
        x->no_pidfd = getenv("VSCHEDD_NO_PIDFD") != NULL;
        r = vs_pidwatch_new(e, on_exit_pid, x, &x->pw);
        if (r >= 0)
                r = sd_event_add_time_relative(e, &x->sweep, CLOCK_MONOTONIC,
                                               x->no_pidfd ? SWEEP_FALLBACK_USEC : SWEEP_USEC, 50 * 1000, on_sweep, x);
        if (r < 0) {
                vm_exits_free(x);
                return r;
        }
        (void) sd_event_source_set_description(x->sweep, "vm-exits-sweep");
        *ret = x;
        return 0;
}

struct vm_exits *vm_exits_free(struct vm_exits *x) {
        if (!x)
                return NULL;
        sd_event_source_disable_unref(x->sweep);
        vs_pidwatch_free(x->pw);
        free(x);
        return NULL;
}
