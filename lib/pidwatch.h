/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * pidwatch.h - notices, on the caller's sd-event loop, when watched processes
 * exit: the VMM processes of a host without libvirt (plain QEMU, Proxmox VE,
 * Firecracker, Kata), whose exits nothing else announces.
 *
 * Owns one pidfd (pidfd_open(2), Linux 5.3) per watched process and its io
 * source ("pidwatch") on the sd_event given to vs_pidwatch_new().  A pidfd
 * becomes readable once the whole process has exited (every thread; before
 * its parent reaps it), so the callback runs within one loop iteration of the
 * exit, whatever killed it (SIGKILL included).  A watch is one-shot: it is
 * gone when its callback runs.  Never signals, waits for or reaps a process;
 * reads nothing in /proc; no logging.  The caller keeps the sd_event alive
 * until the vs_pidwatch is freed.
 *
 * PIDs are recycled: a PID that exited and was reused between the caller
 * finding it and vs_pidwatch_add() is watched as the new process.  Callers add
 * a process right after /proc showed it, which keeps that window small.
 *
 * Threading: single-threaded, the sd_event's thread.  The callback may add
 * and remove watches, not free the vs_pidwatch.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include <systemd/sd-event.h>

struct vs_pidwatch;

typedef void (*vs_pidwatch_cb)(struct vs_pidwatch *w, pid_t pid, void *userdata);

/* Returns 0 and sets *@ret, or -ENOMEM.  @cb runs once per watched exit. */
int vs_pidwatch_new(sd_event *e, vs_pidwatch_cb cb, void *userdata, struct vs_pidwatch **ret);

/*
 * vs_pidwatch_add() - watch process @pid (a TGID).
 * Returns 1 when now watched, 0 when it was already, -ESRCH when it is gone
 * already (no callback: the caller knows it now), -ENOSYS when the kernel has
 * no pidfd_open (the caller must poll /proc instead), -ENOMEM or another
 * -errno from pidfd_open/sd-event.
 */
int vs_pidwatch_add(struct vs_pidwatch *w, pid_t pid);

/* Stop watching @pid (no callback).  Returns 1 when it was watched, 0 when not. */
int vs_pidwatch_remove(struct vs_pidwatch *w, pid_t pid);

bool vs_pidwatch_has(const struct vs_pidwatch *w, pid_t pid);
size_t vs_pidwatch_count(const struct vs_pidwatch *w);

/* Closes every pidfd, removes the sources, frees.  Accepts NULL; returns NULL. */
struct vs_pidwatch *vs_pidwatch_free(struct vs_pidwatch *w);
