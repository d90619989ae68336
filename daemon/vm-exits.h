/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * vm-exits.h - wires VMM exits to forgetting, live.  Notices a VM's exit
 * through a pidfd on its process (lib/pidwatch.h: within a loop iteration,
 * no libvirt needed), through libvirt's STOPPED where libvirtd runs (the
 * caller passes it on, it comes first there), and through a /proc sweep
 * (vs_topology_gone(): the fallback without pidfd_open, and the stray threads
 * of processes that were no VM).  A gone VM is dropped from the pipeline
 * (topology, summary, analysis), the enforcer's policy and the runtime
 * overrides (the configuration and STATE_DIR/overrides.json), so memory and
 * metric series follow the VMs alive.  The journal keeps what it restores at
 * stop, as for any VM.  Owns the pidwatch and the sweep timer
 * ("vm-exits-sweep") on the caller's sd_event.
 */
#pragma once

#include <sys/types.h>

#include <systemd/sd-event.h>

#include "pipeline.h"
#include "enforce.h"
#include "vs-config.h"

struct vm_exits;

/* Called after a VM was forgotten (e.g. to update the service status). */
typedef void (*vm_exits_cb)(const char *vm, void *userdata);

/* @pipe, @enf (may be NULL) and @cfg must outlive it.  Returns 0 or -errno. */
int vm_exits_new(sd_event *e, struct vs_pipeline *pipe, struct enforcer *enf, struct vs_config *cfg,
                 vm_exits_cb cb, void *userdata, struct vm_exits **ret);
/* After topology may have changed: watch every VM's process (cheap when the
 * topology generation did not move); one already gone is forgotten at once. */
void vm_exits_sync(struct vm_exits *x);
/* Process @pid is gone (e.g. libvirt said so): forget its VM now. */
void vm_exits_gone(struct vm_exits *x, pid_t pid, const char *why);
/* VMs forgotten so far. */
uint64_t vm_exits_forgotten(const struct vm_exits *x);
struct vm_exits *vm_exits_free(struct vm_exits *x);
