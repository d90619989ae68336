/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * cpulist.h - sets of host CPUs in the kernel's list syntax ("0-3,8,10-11",
 * as in /sys/devices/system/cpu/online and cpuset.cpus).
 *
 * Owns struct vs_cpumask (a fixed bitmap of CPUs 0..VS_CPU_MAX-1), its
 * parser and formatter, and the reader of the CPU lists the kernel publishes
 * under SYSFS/devices/system/cpu/ (online, isolated, nohz_full), the sysfs
 * root being a parameter so tests use a temporary tree.  No logging, no
 * allocation: functions return 0 or -errno.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define VS_CPU_MAX 8192         /* Debian's CONFIG_NR_CPUS on amd64 */

struct vs_cpumask {
        uint64_t bits[VS_CPU_MAX / 64];
};

static inline void vs_cpumask_set(struct vs_cpumask *m, unsigned cpu) {
        if (cpu < VS_CPU_MAX)
                m->bits[cpu / 64] |= 1ull << (cpu % 64);
}

static inline bool vs_cpumask_test(const struct vs_cpumask *m, unsigned cpu) {
        return cpu < VS_CPU_MAX && (m->bits[cpu / 64] >> (cpu % 64)) & 1;
}

/* The number of CPUs in @m. */
unsigned vs_cpumask_count(const struct vs_cpumask *m);
/* @a |= @b */
void vs_cpumask_or(struct vs_cpumask *a, const struct vs_cpumask *b);

/*
 * Parse a CPU list: items "N" or "N-M" (N <= M) separated by commas, blanks
 * allowed around items; "" (or only blanks) is the empty set.  On success
 * *ret holds the set (ret may be NULL to validate only).  Returns 0, -EINVAL
 * for bad syntax, -ERANGE for a CPU >= VS_CPU_MAX; then *ret_why (may be
 * NULL) is a static reason for an error message and *ret is untouched.
 */
int vs_cpulist_parse(const char *s, struct vs_cpumask *ret, const char **ret_why);

/* Format @m as a canonical list ("0-3,8"; "" when empty) into @buf.
 * Returns 0, or -ENOBUFS when @len is too small. */
int vs_cpulist_format(const struct vs_cpumask *m, char *buf, size_t len);

/*
 * Read @sysfs_root/devices/system/cpu/@name (e.g. "/sys", "isolated") into
 * *ret.  A missing file is the empty set (kernels without isolation support
 * lack "isolated"; "nohz_full" exists only with CONFIG_NO_HZ_FULL).
 * Returns 0, or -errno for a file that cannot be read or parsed.
 */
int vs_cpulist_read_sysfs(const char *sysfs_root, const char *name, struct vs_cpumask *ret);
