/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * vmwatch.h - VM discovery through libvirt, with lifecycle events, on an
 * sd-event loop.
 *
 * Owns one read-only libvirt connection (virConnectOpenReadOnly: listing
 * domains and receiving events need no write access), its domain event
 * callbacks, its close callback, a reconnect timer on the caller's sd_event,
 * and a table of the running domains (struct vs_vm_info).  It never changes
 * a domain, never touches cgroups or /proc, and never logs: failures are
 * returned as -errno and libvirt's own message is kept for the caller
 * (vs_vmwatch_last_error()).  The caller owns the sd_event and must keep it
 * alive until every vs_vmwatch is freed.
 *
 * Event loop integration: libvirt delivers events only from an event loop
 * registered with virEventRegisterImpl().  This module registers one that
 * runs libvirt's handles and timeouts as sd-event io and time sources
 * ("vmwatch-lv-io", "vmwatch-lv-timer") of the sd_event passed to
 * vs_vmwatch_attach(), so everything runs on the caller's thread: no extra
 * thread, no locks, no eventfd hand-over.  We chose this over
 * virEventRegisterDefaultImpl() + a virEventRunDefaultImpl() thread because
 * that thread would invoke our callbacks concurrently with the sd-event
 * thread's own libvirt calls (list, refresh) and every hand-over would need a
 * queue and a lock.
 *
 * Process-wide side effects (libvirt has one global event loop and one global
 * error handler, we cannot scope them):
 *   - the first vs_vmwatch_attach() calls virEventRegisterImpl() (libvirt
 *     allows this once per process; do not call virEventRegisterDefaultImpl()
 *     elsewhere in the same process) and virSetErrorFunc() with a silent
 *     handler (libvirt otherwise prints every error to stderr);
 *   - the loop is bound to that attach's sd_event; attaching another
 *     vs_vmwatch to a different sd_event fails with -EBUSY while the first is
 *     alive.  The binding is dropped when the last vs_vmwatch is freed.
 *
 * Threading: single-threaded.  Every vs_vmwatch_* call, and any other
 * libvirt call made in the same process, must come from the thread that runs
 * the sd_event loop.  The callback runs on that thread, from inside
 * sd_event_run(); it may call vs_vmwatch_list()/vs_vmwatch_refresh() but must
 * not free the vs_vmwatch.
 *
 * Events (struct vs_vm_info is a copy, valid only during the callback):
 *   VS_VM_STARTED          a domain became active (booted, restored, incoming
 *                          migration, or found running after a reconnect);
 *   VS_VM_STOPPED          a domain stopped (shut down, destroyed, crashed
 *                          and stopped, saved) or vanished during a
 *                          disconnection; the info is the last one we knew;
 *   VS_VM_MIGRATED         the domain left this host by live migration (its
 *                          QEMU is gone: treat as STOPPED);
 *   VS_VM_VCPUS_CHANGED    the number of active vCPUs changed (vCPU hotplug;
 *                          seen through libvirt's tunable and device events,
 *                          or through vs_vmwatch_refresh());
 *   VS_VM_STATE_CHANGED    paused/resumed/shutting down/crashed (the domain
 *                          stays active);
 *   VS_VM_DISCONNECTED     vm == NULL: libvirtd went away (EOF, keepalive
 *                          timeout); the table is kept (QEMU processes survive
 *                          a libvirtd restart); reconnect attempts follow
 *                          after 1 s, 2 s, 4 s ... at most 60 s;
 *   VS_VM_RECONNECTED      vm == NULL: connected again (or for the first time
 *                          when libvirt was not reachable at attach); followed
 *                          by STARTED/STOPPED/VCPUS_CHANGED for whatever
 *                          changed meanwhile.
 *
 * QEMU's PID: libvirt has no API for it; the qemu driver writes
 * <state dir>/<name>.pid, which we read for local qemu:///system
 * (/run/libvirt/qemu) and qemu:///session ($XDG_RUNTIME_DIR/libvirt/qemu/run)
 * connections, or from the directory set with vs_vmwatch_set_pid_dir().
 * pid is 0 when unknown (other drivers, remote hosts, unreadable file).
 */
#pragma once

#include <stddef.h>
#include <sys/types.h>

#include <systemd/sd-event.h>

struct vs_vmwatch;

#define VS_VMWATCH_NAME_MAX 256
#define VS_VMWATCH_UUID_MAX 37          /* VIR_UUID_STRING_BUFLEN */

enum vs_vm_state {
        VS_VM_STATE_OTHER,
        VS_VM_STATE_RUNNING,            /* running or blocked */
        VS_VM_STATE_PAUSED,             /* paused or PM-suspended: vCPUs do not run */
        VS_VM_STATE_SHUTDOWN,           /* being shut down */
        VS_VM_STATE_CRASHED,            /* guest panicked, QEMU kept */
};

struct vs_vm_info {
        char name[VS_VMWATCH_NAME_MAX];
        char uuid[VS_VMWATCH_UUID_MAX];
        int id;                         /* libvirt domain id, -1 when inactive */
        pid_t pid;                      /* QEMU's PID, 0 when unknown */
        unsigned nvcpus;                /* active vCPUs */
        enum vs_vm_state state;
};

enum vs_vm_change {
        VS_VM_STARTED,
        VS_VM_STOPPED,
        VS_VM_MIGRATED,
        VS_VM_VCPUS_CHANGED,
        VS_VM_STATE_CHANGED,
        VS_VM_DISCONNECTED,
        VS_VM_RECONNECTED,
};

typedef void (*vs_vmwatch_cb)(struct vs_vmwatch *w, const struct vs_vm_info *vm,
                              enum vs_vm_change change, void *userdata);

/**
 * vs_vmwatch_new() - allocate a watcher; does not connect yet.
 * @uri: libvirt URI, copied; NULL means "qemu:///system".
 * Returns 0 and sets *@ret, or -ENOMEM.
 */
int vs_vmwatch_new(const char *uri, struct vs_vmwatch **ret);

/**
 * vs_vmwatch_set_pid_dir() - where to find <name>.pid files; NULL disables
 * PID lookup.  Overrides the directory derived from the URI.  Call before
 * vs_vmwatch_attach().  Returns 0 or -ENOMEM.
 */
int vs_vmwatch_set_pid_dir(struct vs_vmwatch *w, const char *dir);

/**
 * vs_vmwatch_attach() - bind libvirt's event loop to @e, connect, register
 * the event callbacks and read the list of running domains (no callbacks for
 * that first list: read it with vs_vmwatch_list()).
 * Returns 1 when connected; 0 when libvirt is not reachable yet (the reason
 * is in vs_vmwatch_last_error(), reconnect attempts are scheduled and @cb
 * gets VS_VM_RECONNECTED then VS_VM_STARTED for each domain once they
 * succeed); -EBUSY when libvirt's loop is bound to another sd_event or @w is
 * already attached; -ENOMEM, or another -errno from sd-event.
 */
int vs_vmwatch_attach(struct vs_vmwatch *w, sd_event *e, vs_vmwatch_cb cb, void *userdata);

/**
 * vs_vmwatch_list() - snapshot of the running domains as last known (also
 * while disconnected).  *@ret is a malloc()ed array the caller frees (NULL
 * when *@ret_n is 0).  Returns 0 or -ENOMEM.
 */
int vs_vmwatch_list(struct vs_vmwatch *w, struct vs_vm_info **ret, size_t *ret_n);

/**
 * vs_vmwatch_refresh() - list the domains again and report the differences
 * through the callback (STARTED/STOPPED/VCPUS_CHANGED/STATE_CHANGED), as after
 * a reconnect.  For a periodic safety sweep, or after an operation libvirt
 * raises no event for.  Returns the number of changes reported, -ENOTCONN
 * when disconnected, or a libvirt error as -errno.
 */
int vs_vmwatch_refresh(struct vs_vmwatch *w);

/* 1 when connected, 0 when not (before attach, or waiting to reconnect). */
int vs_vmwatch_is_connected(const struct vs_vmwatch *w);

/* The canonical URI of the open connection (e.g. "test:///default"), else the configured one. */
const char *vs_vmwatch_uri(const struct vs_vmwatch *w);

/*
 * The last libvirt failure seen: its message ("" when none) and its -errno
 * (0 when none).  Valid until the next vs_vmwatch_* call.
 */
const char *vs_vmwatch_last_error(const struct vs_vmwatch *w, int *ret_errno);

const char *vs_vm_change_to_string(enum vs_vm_change c);
const char *vs_vm_state_to_string(enum vs_vm_state s);

/* Disconnects, removes the sources, frees.  Accepts NULL; returns NULL. */
struct vs_vmwatch *vs_vmwatch_free(struct vs_vmwatch *w);

static inline void vs_vmwatch_freep(struct vs_vmwatch **w) {
        vs_vmwatch_free(*w);
}
