/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * schedstat.h - one thread's scheduler accounting as the kernel keeps it in
 * <proc>/<tgid>/task/<tid>/schedstat: "CPU_NS RUN_DELAY_NS TIMESLICES".
 *
 * Owns nothing but the parse of that one line; reads one file per call and
 * keeps no state (the caller decides how often: vschedd reads each vCPU
 * thread at most once per request or scrape).  No logging.
 *
 * What the numbers are (kernel/sched/stats.h, fs/proc/base.c):
 *  - cpu_ns: the thread's sum_exec_runtime, time on a CPU;
 *  - run_delay_ns: sched_info.run_delay, time spent runnable on a run queue
 *    without a CPU: from a wakeup or a preemption to the next time it runs.
 *    For a vCPU thread this is "CPU ready" (ESXi's %RDY): the guest wanted
 *    to run and the host gave the CPU to someone else.  A halted vCPU
 *    (HLT, idle guest) sleeps in the host and accrues none;
 *  - timeslices: sched_info.pcount, how many times it got a CPU.
 *
 * Steal: KVM's steal time, the figure a guest sees as "st" in top or
 * /proc/stat, is this same run_delay.  KVM's record_steal_time() publishes
 * to the guest the increase of current->sched_info.run_delay of the vCPU
 * thread since its last entry (arch/x86/kvm/x86.c; arm64 and riscv do the
 * same).  So the host has no second, different "steal" number to offer:
 * run delay is steal measured where it happens, whether or not the guest
 * enabled the steal-time MSR (if it did not, the guest sees none of it).
 *
 * What the kernel needs: CONFIG_SCHED_INFO, which CONFIG_SCHEDSTATS and
 * CONFIG_TASK_DELAY_ACCT select and, since Linux 5.14, KVM selects itself
 * (steal time reads run_delay; commit 63b3f96e1a98).  Since 5.14 (commit
 * c5895d3f06cb) the accounting is always on with CONFIG_SCHED_INFO: the kernel.sched_schedstats sysctl (CONFIG_SCHEDSTATS)
 * only switches the extra statistics of /proc/<pid>/sched and /proc/schedstat
 * and is not needed.  Before 5.14, a kernel without CONFIG_SCHEDSTATS counted
 * only while task delay accounting was on, and showed "0 0 0" otherwise.
 * Without CONFIG_SCHED_INFO the file does not exist (-EOPNOTSUPP below).
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

struct vs_schedstat {
        uint64_t cpu_ns;
        uint64_t run_delay_ns;
        uint64_t timeslices;
};

/*
 * vs_schedstat_parse - the first @len bytes of @text (one schedstat line):
 * three decimal numbers separated by spaces, an optional newline at the end.
 * Further numbers a later kernel may add are ignored.  Returns 0 with *@ret
 * set, -EBADMSG (empty, truncated: fewer than three numbers, not a number,
 * a sign, other characters, a NUL), -ERANGE (a number beyond 2^64 - 1).
 */
int vs_schedstat_parse(const char *text, size_t len, struct vs_schedstat *ret);

/*
 * vs_schedstat_read - <@proc_root>/<@tgid>/task/<@tid>/schedstat (@tgid <= 0:
 * @tid's own directory, which the kernel also has for a thread that is not a
 * group leader).  Going through the TGID means a TID reused by another
 * process reads as gone, not as the vCPU.  Returns 0 with *@ret set;
 * -EINVAL (@tid <= 0); -ESRCH the thread is gone (no task directory, or it
 * exited while read); -EOPNOTSUPP the thread is there but the kernel has no
 * schedstat file (no CONFIG_SCHED_INFO); the parse errors above; or the
 * open/read -errno (e.g. -EACCES).
 */
int vs_schedstat_read(const char *proc_root, int32_t tgid, int32_t tid, struct vs_schedstat *ret);
