/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * kvm-hook.h - the companion kernel series (kernel/patches) as seen from
 * userspace: which directed-yield interface the running kvm.ko offers, and
 * writing per-vCPU directed-yield hints through it.  Two interfaces:
 *
 *  - "vm-file" (the current series): KVM_CHECK_EXTENSION on /dev/kvm reports
 *    KVM_CAP_DIRECTED_YIELD and its features.  Each VM opts in (its VMM
 *    enables the capability) and creates a write-only hint file
 *    (KVM_GET_DIRECTED_YIELD_FD, /proc/PID/fd/N -> anon_inode:kvm-directed-yield);
 *    vschedd takes a copy of that file from the VMM process (pidfd_getfd)
 *    and writes struct kvm_directed_yield_hint records to it.  Works under
 *    lockdown and without debugfs.
 *  - "debugfs" (the first series, superseded): module parameters under
 *    /sys/module/kvm/parameters and a per-vCPU debugfs file
 *    (<debugfs>/kvm/<pid>-<fd>/vcpu<vcpu_id>/directed_yield_hint).
 *
 * Owns the hint files it took (struct vs_kvm_hints); roots are parameters
 * so tests run against directory trees.  Hints are not cgroup values: they
 * expire in the kernel after their TTL, so nothing is journalled or
 * restored.  No logging.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

struct json_object;

#define VS_KVM_HOOK_HINT_MAX_TTL_US 1000000u    /* the kernel refuses longer */

/* kernel/patches: the capability and the hint file's name */
#define VS_KVM_CAP_DIRECTED_YIELD 1024
#define VS_KVM_DIRECTED_YIELD_IPI 0x1u
#define VS_KVM_DIRECTED_YIELD_HINT 0x2u
#define VS_KVM_HINT_FILE_LINK "anon_inode:kvm-directed-yield"

enum vs_kvm_hook_iface {
        VS_KVM_HOOK_NONE,       /* stock kvm.ko */
        VS_KVM_HOOK_VM_FILE,    /* KVM_CAP_DIRECTED_YIELD, per-VM hint files */
        VS_KVM_HOOK_DEBUGFS,    /* the first series: module parameters, debugfs hints */
};

struct vs_kvm_hook {
        enum vs_kvm_hook_iface iface;
        bool present;           /* iface != NONE */
        bool ipi;               /* vm-file: KVM offers the IPI candidate; debugfs: dy_ipi on */
        bool hint;              /* vm-file: KVM offers hints; debugfs: dy_hint on */
        uint64_t ipi_window_ns; /* debugfs: dy_ipi_window_ns (0: IPI candidate off); vm-file: 0 (per VM) */
};

/* Which interface is there: KVM_CHECK_EXTENSION on @kvm_dev ("/dev/kvm";
 * NULL: skip), else the parameters below @sys_root ("/sys", or a test tree).
 * Absence is not an error.  Returns 0 or -errno (an unreadable parameter
 * file that exists). */
int vs_kvm_hook_probe(const char *sys_root, const char *kvm_dev, struct vs_kvm_hook *ret);

/* true when the patch is loaded and at least one candidate is on (vm-file:
 * offered; each VM still opts in) */
bool vs_kvm_hook_active(const struct vs_kvm_hook *h);

/* "vm-file", "debugfs" or "none" */
const char *vs_kvm_hook_iface_name(enum vs_kvm_hook_iface i);

/* {"present":b,"active":b,"interface":s,"per_vm":b,"ipi":b,"hint":b,"ipi_window_ns":n}, or NULL on ENOMEM */
struct json_object *vs_kvm_hook_json(const struct vs_kvm_hook *h);

/* debugfs interface: name @target_vcpu_id (or -1: clear) as the
 * directed-yield target of vCPU @vcpu_id of the VM process @vm_pid for
 * @ttl_us (1 .. MAX_TTL_US), through the hint file below @debugfs_root
 * ("/sys/kernel/debug").  Returns 0, -ENOENT (no such VM/vCPU directory or
 * no hint file: unpatched kvm.ko), -EINVAL (bad arguments) or the write's
 * -errno. */
int vs_kvm_hook_write_hint(const char *debugfs_root, pid_t vm_pid, uint32_t vcpu_id, int32_t target_vcpu_id,
                           uint32_t ttl_us);

/* vm-file interface: find the hint file among the open files of process
 * @pid (below @proc_root, "/proc") and take a copy of it (pidfd_getfd).
 * Returns the new file descriptor (O_CLOEXEC), -ENOENT (the VMM did not
 * create one: the VM did not opt in), or -errno (e.g. -EPERM: no ptrace
 * access to the VMM). */
int vs_kvm_hook_take_hint_file(const char *proc_root, pid_t pid);

/* vm-file interface: write one hint record to hint file @fd (vcpu_id,
 * target_id or -1: clear, ttl_us 1 .. MAX_TTL_US).  Returns 0, -EINVAL (bad
 * arguments, or the kernel refused the record: unknown vCPU id) or the
 * write's -errno. */
int vs_kvm_hook_write_hint_fd(int fd, uint32_t vcpu_id, int32_t target_vcpu_id, uint32_t ttl_us);

/* The hint files of the VMs vschedd writes hints to, one per VMM process,
 * taken on first use and held until the process exits; the interface of
 * @hook decides how hints are written. */
struct vs_kvm_hints;

/* Returns 0 or -ENOMEM.  @proc_root/@debugfs_root as above (copied). */
int vs_kvm_hints_new(const char *proc_root, const char *debugfs_root, struct vs_kvm_hints **ret);
void vs_kvm_hints_free(struct vs_kvm_hints *h);

/* Write one hint for the VM process @vm_pid through @hook's interface.
 * Returns 0, -ENOENT (this VM offers no hint file: it did not opt in; not
 * asked again for a few seconds), -EOPNOTSUPP (@hook offers no hints) or
 * -errno. */
int vs_kvm_hints_write(struct vs_kvm_hints *h, const struct vs_kvm_hook *hook, pid_t vm_pid, uint32_t vcpu_id,
                       int32_t target_vcpu_id, uint32_t ttl_us, uint64_t now_usec);

/* Drop the files of VMM processes that exited.  Returns how many it closed. */
unsigned vs_kvm_hints_gc(struct vs_kvm_hints *h);

/* How many VMs' hint files are held now */
unsigned vs_kvm_hints_n_files(const struct vs_kvm_hints *h);
