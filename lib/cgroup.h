/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * cgroup.h - where a VM's and its vCPUs' cgroups are, and how a knob is
 * spelled on this host (cgroup v2, or the v1 controllers as a fallback).
 *
 * Owns the host's cgroup mount layout (from /proc/self/mountinfo) and the
 * mapping knob -> controller hierarchy -> file -> value format:
 *   weight  v2 cpu.weight (1..10000)       v1 cpu.shares = weight * 1024 / 100
 *   idle    v2 cpu.idle (0/1)              v1 cpu.idle (0/1), cpu hierarchy
 *   cpuset  v2 cpuset.cpus                 v1 cpuset.cpus, cpuset hierarchy
 *   freeze  v2 cgroup.freeze (0/1)         v1 freezer.state (FROZEN/THAWED)
 * Paths handed out are always below the detected mount points and below the
 * VM's own sub-tree: VM names are never turned into paths (the path comes
 * from the kernel's /proc/PID/cgroup), and a relative path with "..", "//" or
 * a control character is refused.  Never creates or removes cgroups.
 * No logging: functions return 0 or -errno.
 */
#pragma once

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>

enum vs_knob {
        VS_KNOB_WEIGHT,
        VS_KNOB_IDLE,
        VS_KNOB_CPUSET,
        VS_KNOB_FREEZE,
        _VS_KNOB_MAX,
};

struct vs_cg_host {
        /* mount point of the hierarchy that carries each knob's controller,
         * "" when the host has none (the knob is unavailable) */
        char mount[_VS_KNOB_MAX][PATH_MAX];
        bool v2[_VS_KNOB_MAX];          /* that hierarchy is cgroup2 */
};

/* Detect from a mountinfo file (normally "/proc/self/mountinfo"); for v2,
 * a knob counts as available only when its controller is listed in the root's
 * cgroup.controllers.  Returns 0 (even when nothing is available) or -errno. */
int vs_cg_host_detect(const char *mountinfo, struct vs_cg_host *ret);

const char *vs_knob_name(enum vs_knob k);                       /* "weight", "idle", "cpuset", "freeze" */
/* The file a knob lives in on this host ("cpu.weight" or "cpu.shares", ...), NULL if unavailable. */
const char *vs_cg_knob_file(const struct vs_cg_host *h, enum vs_knob k);
/* Logical value (weight 1..10000, idle/freeze 0/1, cpuset list "0-3,8") -> file text. */
int vs_cg_format(const struct vs_cg_host *h, enum vs_knob k, const char *logical, char *buf, size_t len);
/* File text -> logical value (inverse of vs_cg_format; v1 shares round to the nearest weight). */
int vs_cg_parse(const struct vs_cg_host *h, enum vs_knob k, const char *text, char *buf, size_t len);

/*
 * The directory of the cgroup that carries knob @k for a VM whose process
 * cgroup path (the part after "0::" or "N:cpu,cpuacct:" in /proc/PID/cgroup,
 * e.g. "/machine.slice/machine-qemu\x2d1\x2dweb.scope/libvirt/emulator") is
 * @proc_cgroup, for vCPU @vcpu (>= 0: ".../libvirt/vcpuK") or the VM itself
 * (@vcpu < 0: the libvirt sub-tree root ".../libvirt", never the systemd scope
 * or slice).  Returns 0, -ENOENT when the directory does not exist (no libvirt
 * sub-tree, VM gone), -EINVAL for a path that would leave the mount.
 */
int vs_cg_dir(const struct vs_cg_host *h, enum vs_knob k, const char *proc_cgroup, int vcpu, char *buf, size_t len);

/* Read/write one cgroup file (whole value, trailing newline stripped on read). */
int vs_cg_read(const char *dir, const char *file, char *buf, size_t len);
int vs_cg_write(const char *dir, const char *file, const char *value);
