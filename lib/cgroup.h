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
        /* the hierarchy path the mount shows (mountinfo "root" field, "/" unless
         * a sub-tree is bind-mounted); stripped from /proc/PID/cgroup paths */
        char root[_VS_KNOB_MAX][PATH_MAX];
};

/* Detect from a mountinfo file (normally "/proc/self/mountinfo"; NULL means
 * that); for v2, a knob counts as available only when its controller is listed
 * in the root's cgroup.controllers.  Freeze: v1 freezer.state whenever a v1
 * freezer hierarchy is mounted (on hybrid hosts libvirt builds its tree only in
 * the v1 hierarchies), else v2 cgroup.freeze when the mount or one of its
 * children has it (kernel >= 5.2).  Returns 0 (even when nothing is available)
 * or -errno. */
int vs_cg_host_detect(const char *mountinfo, struct vs_cg_host *ret);

const char *vs_knob_name(enum vs_knob k);                       /* "weight", "idle", "cpuset", "freeze" */
/* The knob's cgroup v2 file name ("cpu.weight", "cpuset.cpus", ...): how
 * decisions are named where no host is involved (replay, status, logs). */
const char *vs_knob_v2_file(enum vs_knob k);
/* The file a knob lives in on this host ("cpu.weight" or "cpu.shares", ...), NULL if unavailable. */
const char *vs_cg_knob_file(const struct vs_cg_host *h, enum vs_knob k);
/* Logical value (weight 1..10000, idle/freeze 0/1, cpuset list "0-3,8") -> file text.
 * Returns 0, -EINVAL/-ERANGE for a bad value, -EOPNOTSUPP when the knob is
 * unavailable on this host, -ENOBUFS when @len is too small. */
int vs_cg_format(const struct vs_cg_host *h, enum vs_knob k, const char *logical, char *buf, size_t len);
/* File text -> logical value (inverse of vs_cg_format; v1 shares round to the nearest weight;
 * v1 "FREEZING" reads as 1).  Same returns as vs_cg_format. */
int vs_cg_parse(const struct vs_cg_host *h, enum vs_knob k, const char *text, char *buf, size_t len);

/*
 * The directory of the cgroup that carries knob @k for a VM whose process
 * cgroup path (the part after "0::" or "N:cpu,cpuacct:" in /proc/PID/cgroup,
 * e.g. "/machine.slice/machine-qemu\x2d1\x2dweb.scope/libvirt/emulator") is
 * @proc_cgroup, for vCPU @vcpu (>= 0: ".../libvirt/vcpuK") or the VM itself
 * (@vcpu < 0: the libvirt sub-tree root ".../libvirt", never the systemd scope
 * or slice).  Returns 0, -ENOENT when the directory does not exist (no libvirt
 * sub-tree, VM gone), -EINVAL for a path that would leave the mount.
 * A process path that ends at the scope (no "libvirt" component, as on hybrid
 * hosts) uses the scope's "libvirt" child when it exists.  Also -EOPNOTSUPP
 * when the knob is unavailable, -ENAMETOOLONG, -ENOBUFS (@len too small).
 */
int vs_cg_dir(const struct vs_cg_host *h, enum vs_knob k, const char *proc_cgroup, int vcpu, char *buf, size_t len);

/* From a /proc/PID/cgroup file, the process's path in the hierarchy that
 * carries knob @k ("0::" line for v2, the line listing the v1 controller
 * otherwise): what vs_cg_dir() takes.  Returns 0, -ENOENT (no such line),
 * -EOPNOTSUPP (knob unavailable), -errno from reading. */
int vs_cg_proc_cgroup(const struct vs_cg_host *h, enum vs_knob k, const char *proc_cgroup_file, char *buf, size_t len);

/* A value as read from (or meant for) cgroup file @file, in the form to
 * compare and to write back: whitespace trimmed, cpu lists canonical
 * ("2,0-1" -> "0-2", as the kernel prints them), v1 "FREEZING" -> "FROZEN"
 * (the state that was asked for).  Returns 0, -ENOBUFS, -ENOMEM. */
int vs_cg_normalize(const char *file, const char *text, char *buf, size_t len);

/* Files whose value the kernel changes when @written is written in the same
 * cgroup (cpu.idle -> cpu.shares, cpu.weight, cpu.weight.nice: setting idle
 * makes the weight the minimum, clearing it resets the weight to the
 * default); a NULL-terminated static list, or NULL. */
const char *const *vs_cg_affected_files(const char *written);
/* 1 when @file is a weight file (cpu.shares, cpu.weight, cpu.weight.nice) and
 * @dir's cpu.idle is 1: the kernel refuses weight writes then (EINVAL) and the
 * value read is not the group's own.  0 otherwise (also without cpu.idle), or
 * -errno from reading cpu.idle. */
int vs_cg_weight_blocked(const char *dir, const char *file);

/* Read/write one cgroup file (whole value, trailing newline stripped on read;
 * written as one write(2) of "value\n").  A removed cgroup (ENOENT, or ENODEV
 * from the kernel) is -ENOENT; -ENOBUFS when the value does not fit @len. */
int vs_cg_read(const char *dir, const char *file, char *buf, size_t len);
int vs_cg_write(const char *dir, const char *file, const char *value);
