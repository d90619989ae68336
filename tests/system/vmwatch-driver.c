/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * vmwatch-driver - a test fixture: watch a libvirt URI with lib/vmwatch on an
 * sd-event loop and print one line per event, flushed, for a shell test:
 *
 *   attached 1|0 <uri>                 (1 = connected)
 *   vm <name> <id> <nvcpus> <pid> <state>            (the initial list)
 *   <change> <name> <id> <nvcpus> <pid> <state>      (started, stopped, ...)
 *   disconnected | reconnected
 *
 * Usage: vmwatch-driver URI [SECONDS]; exits 0 on SIGTERM/SIGINT or after
 * SECONDS (default 120).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <systemd/sd-event.h>

#include "vmwatch.h"

static void print_vm(const char *what, const struct vs_vm_info *vm) {
        printf("%s %s %d %u %d %s\n", what, vm->name, vm->id, vm->nvcpus, (int) vm->pid,
               vs_vm_state_to_string(vm->state));
}

static void on_vm(struct vs_vmwatch *w, const struct vs_vm_info *vm, enum vs_vm_change c, void *userdata) {
        if (vm)
                print_vm(vs_vm_change_to_string(c), vm);
        else
                printf("%s\n", vs_vm_change_to_string(c));
        fflush(stdout);
}

static int on_exit_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        return sd_event_exit(sd_event_source_get_event(s), 0);
}

int main(int argc, char **argv) {
        struct vs_vmwatch *w = NULL;
        struct vs_vm_info *vms = NULL;
        sd_event *e = NULL;
        sd_event_source *timer = NULL, *sigs[2] = {};
        unsigned seconds = argc > 2 ? (unsigned) strtoul(argv[2], NULL, 10) : 120;
        const char *msg;
        sigset_t mask;
        size_t n = 0;
        int r, err;

        if (argc < 2) {
                fprintf(stderr, "usage: %s URI [SECONDS]\n", argv[0]);
                return 2;
        }
        sigemptyset(&mask);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGINT);
        (void) sigprocmask(SIG_BLOCK, &mask, NULL);

        r = sd_event_new(&e);
        if (r >= 0)
                r = sd_event_add_signal(e, &sigs[0], SIGTERM, NULL, NULL);
        if (r >= 0)
                r = sd_event_add_signal(e, &sigs[1], SIGINT, NULL, NULL);
        if (r >= 0)
                r = sd_event_add_time_relative(e, &timer, CLOCK_MONOTONIC, seconds * 1000000ULL, 0,
                                               on_exit_timer, NULL);
        if (r >= 0)
                r = vs_vmwatch_new(argv[1], &w);
        if (r >= 0)
                r = vs_vmwatch_attach(w, e, on_vm, NULL);
        if (r < 0) {
                fprintf(stderr, "vmwatch-driver: %s\n", strerror(-r));
                goto out;
        }
        msg = vs_vmwatch_last_error(w, &err);
        if (r == 0)
                fprintf(stderr, "vmwatch-driver: not connected yet (%s): %s\n", strerror(-err), msg);
        printf("attached %d %s\n", r, vs_vmwatch_uri(w));
        r = vs_vmwatch_list(w, &vms, &n);
        if (r < 0)
                goto out;
        for (size_t i = 0; i < n; i++)
                print_vm("vm", &vms[i]);
        free(vms);
        fflush(stdout);

        r = sd_event_loop(e);
out:
        vs_vmwatch_free(w);
        sd_event_source_unref(timer);
        sd_event_source_unref(sigs[0]);
        sd_event_source_unref(sigs[1]);
        sd_event_unref(e);
        return r < 0 ? 1 : 0;
}
