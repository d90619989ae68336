/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * kvm-dy.h - vschedd turning the companion kernel series' per-VM directed
 * yield (KVM_CAP_DIRECTED_YIELD, kernel/patches) on and off for VMs whose
 * VMM does not (stock QEMU never does).  With ptrace access to the VMM
 * (root), it takes a copy of the VMM's VM file (/proc/PID/fd/N ->
 * anon_inode:kvm-vm, pidfd_getfd), compare-and-sets the capability
 * (KVM_DIRECTED_YIELD_EXPECT, patch 4: only where nothing is on; a VMM's
 * own setting is left alone), takes the VM's hint file
 * (KVM_GET_DIRECTED_YIELD_FD) when hints are on, and turns off exactly what
 * it turned on, only if nobody changed it meanwhile.
 *
 * A write-ahead state file (STATE_DIR/directed-yield, one "PID STARTTIME
 * FEATURES" line per VM turned on, written before the ioctl, removed when
 * empty) lets a successor or `vschedd --restore` turn off what a killed run
 * left on (vs_kvm_dy_recover).
 *
 * Owns the VM files it took, the hint files it made and the state file.
 * Roots are parameters so tests run against directory trees.  No logging.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#define VS_KVM_DY_STATE_FILE "directed-yield"
#define VS_KVM_VM_FILE_LINK "anon_inode:kvm-vm"

enum vs_kvm_dy_state {
        VS_KVM_DY_OFF = 0,      /* not turned on by vschedd (nothing known, or turned off again) */
        VS_KVM_DY_ON,           /* on: vschedd turned it on */
        VS_KVM_DY_VMM,          /* on: someone else (the VMM) turned it on; left alone */
        VS_KVM_DY_FAILED,       /* vschedd tried and failed (the error is kept) */
};

/* "off", "on", "vmm", "failed" */
const char *vs_kvm_dy_state_name(enum vs_kvm_dy_state s);

struct vs_kvm_dy;

/* @proc_root ("/proc") and @state_dir (made 0700 if missing, one level) are
 * copied.  Returns 0 or -ENOMEM. */
int vs_kvm_dy_new(const char *proc_root, const char *state_dir, struct vs_kvm_dy **ret);
/* Closes the files; turns nothing off (vs_kvm_dy_off_all() first). */
void vs_kvm_dy_free(struct vs_kvm_dy *d);

/* Turn KVM_CAP_DIRECTED_YIELD features @features (KVM_DIRECTED_YIELD_* mask,
 * not 0) on for the VM of VMM process @pid, with KVM's IPI window, unless
 * something is on there.  Returns VS_KVM_DY_ON (on, by vschedd: now or
 * before), VS_KVM_DY_VMM (someone else's setting is on: nothing changed), or
 * -errno: -ENOENT (no such process, or no VM file in it), -EPERM (no ptrace
 * access to it), -EIO (the kernel refuses a process other than the VM's
 * owner: the series without patch 4), -EINVAL (the kernel refused the
 * request), -EAGAIN (it failed less than @retry_usec ago: not tried again
 * yet, see vs_kvm_dy_state()).  @now_usec: a monotonic clock. */
int vs_kvm_dy_on(struct vs_kvm_dy *d, pid_t pid, uint32_t features, uint64_t now_usec, uint64_t retry_usec);

/* Turn off what vschedd turned on for @pid: 0 (off now, or nothing to do),
 * -EBUSY (someone changed it meanwhile: left as it is) or -errno. */
int vs_kvm_dy_off(struct vs_kvm_dy *d, pid_t pid);

/* Off for every VM vschedd turned on.  Returns how many were turned off;
 * *failed (may be NULL): how many could not be (left as they are). */
unsigned vs_kvm_dy_off_all(struct vs_kvm_dy *d, unsigned *failed);

/* What vschedd knows about @pid's VM; *err (may be NULL): the error of
 * VS_KVM_DY_FAILED, else 0.  *features (may be NULL): what is on by vschedd. */
enum vs_kvm_dy_state vs_kvm_dy_state(const struct vs_kvm_dy *d, pid_t pid, int *err, uint32_t *features);

/* The hint file vschedd made for @pid's VM (on by vschedd, with
 * KVM_DIRECTED_YIELD_HINT), or -1.  Owned by @d. */
int vs_kvm_dy_hint_fd(const struct vs_kvm_dy *d, pid_t pid);

/* Forget VMM processes that exited (their VMs are gone; nothing to turn
 * off).  Returns how many. */
unsigned vs_kvm_dy_gc(struct vs_kvm_dy *d);

/* How many VMs vschedd has on now */
unsigned vs_kvm_dy_n_on(const struct vs_kvm_dy *d);

/* A predecessor's state file in @state_dir: for every VM it turned on whose
 * VMM still runs (same PID and start time), turn the features off again
 * (with KVM_DIRECTED_YIELD_EXPECT: only if they are still what it set).
 * Removes the file.  Returns how many were turned off (0 when there is no
 * file) or -errno (the file cannot be read); *gone: entries whose VMM is
 * gone, *failed: entries that could not be turned off (changed meanwhile,
 * or an error); both may be NULL. */
int vs_kvm_dy_recover(const char *proc_root, const char *state_dir, unsigned *gone, unsigned *failed);

/* The state file's lines, for tests: "PID STARTTIME FEATURES" (decimal,
 * features 1..255).  Parse: 0 or -EINVAL. */
int vs_kvm_dy_parse_line(const char *line, pid_t *pid, uint64_t *starttime, uint32_t *features);

/* The start time (field 22 of @proc_root/PID/stat, clock ticks since boot)
 * of @pid: 0 or -errno (-ENOENT: gone). */
int vs_kvm_dy_starttime(const char *proc_root, pid_t pid, uint64_t *ret);
