/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * kvm-hook.h - the companion kernel patch (kernel/patches) as seen from
 * userspace: whether the running kvm.ko has it and which parts are on (its
 * module parameters under /sys/module/kvm/parameters), and the per-vCPU
 * directed-yield hint file in KVM's debugfs
 * (<debugfs>/kvm/<pid>-<fd>/vcpu<vcpu_id>/directed_yield_hint).
 *
 * Owns nothing but what it reads and writes; roots are parameters so tests
 * run against a directory tree.  Hints are not cgroup values: they expire in
 * the kernel after their TTL, so nothing is journalled or restored.
 * No logging.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

struct json_object;

#define VS_KVM_HOOK_HINT_MAX_TTL_US 1000000u    /* the kernel refuses longer */

struct vs_kvm_hook {
        bool present;           /* kvm.ko has the patch (its parameters exist) */
        bool ipi;               /* dy_ipi: IPI-receiver-first candidate */
        bool hint;              /* dy_hint: the debugfs hint is used */
        uint64_t ipi_window_ns; /* dy_ipi_window_ns (0: IPI candidate off) */
};

/* Read the parameters below @sys_root ("/sys", or a test tree).  Absent
 * parameters mean "not present" and are not an error.  Returns 0 or -errno
 * (-ENOMEM, or an unreadable parameter file that exists). */
int vs_kvm_hook_probe(const char *sys_root, struct vs_kvm_hook *ret);

/* true when the patch is loaded and at least one candidate is on */
bool vs_kvm_hook_active(const struct vs_kvm_hook *h);

/* {"present":b,"active":b,"ipi":b,"hint":b,"ipi_window_ns":n}, or NULL on ENOMEM */
struct json_object *vs_kvm_hook_json(const struct vs_kvm_hook *h);

/* Name @target_vcpu_id (or -1: clear) as the directed-yield target of vCPU
 * @vcpu_id of the VM process @vm_pid for @ttl_us (1 .. MAX_TTL_US), through
 * the hint file below @debugfs_root ("/sys/kernel/debug").  Returns 0,
 * -ENOENT (no such VM/vCPU directory or no hint file: unpatched kvm.ko),
 * -EINVAL (bad arguments) or the write's -errno. */
int vs_kvm_hook_write_hint(const char *debugfs_root, pid_t vm_pid, uint32_t vcpu_id, int32_t target_vcpu_id,
                           uint32_t ttl_us);
