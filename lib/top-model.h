/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * top-model.h - the numbers behind `vschedctl top`, without a terminal: turns
 * the daemon's "top" answers (lib/ctl-proto.h, command 7) into snapshots,
 * two successive snapshots into rows of rates, sorts rows and formats cells.
 *
 * Owns its snapshots and row arrays (free with vs_top_snapshot_free() and
 * free()).  Knows nothing of ncurses, sockets or the daemon's state: the view
 * (daemon/vschedctl-top.c) fetches, draws and reads keys.  No I/O, no logging.
 *
 * Definitions:
 *  - a rate is (counter now - counter before) / (uptime_s now - uptime_s
 *    before), both from the daemon's answers (its monotonic clock, so the
 *    client's scheduling delays do not distort it); NAN ("-") on the first
 *    snapshot, for a row that is new, or when a counter went backwards (the
 *    daemon restarted).
 *  - preempted share: of the IPIs a vCPU (a VM: its vCPUs) received, the share
 *    sent while the receiver was not running (preempted, woken, blocked), over
 *    the interval; since start when the interval had no IPIs in (or on the
 *    first snapshot); NAN when it never received one.
 *  - ready share (CPU ready, ESXi's %RDY): of the interval's wall time, the
 *    share a vCPU thread was runnable but waiting for a host CPU (the
 *    difference of two "run_delay_ns" over the difference of the uptimes);
 *    a VM's row is the sum over its vCPUs, so it may exceed 100% (2 vCPUs
 *    each waiting half the time: 100%); NAN when either answer lacks it.
 *  - EOI p99: the daemon's IPI->EOI latency percentile since start (a
 *    histogram, lib/histogram.h), 0 = no EOI matched yet ("-").
 *  - weight: the cpu.weight vschedd holds (enforcer) or, in a dry-run replay,
 *    would hold (policy), against its baseline; -1 = unknown.
 *
 * Rows come VM first, then its vCPUs; sorting keeps that grouping (VMs are
 * ordered by their own row's value, vCPUs within a VM by theirs), as htop's
 * tree view does.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#define VS_TOP_NAME_MAX 128

enum vs_top_col {
        VS_TOP_COL_NAME = 0,
        VS_TOP_COL_IPI_IN,
        VS_TOP_COL_IPI_OUT,
        VS_TOP_COL_PREEMPTED,
        VS_TOP_COL_READY,
        VS_TOP_COL_EOI_P99,
        VS_TOP_COL_PAUSE,
        VS_TOP_COL_YIELD,
        VS_TOP_COL_WEIGHT,
        VS_TOP_COL_MODE,
        VS_TOP_COL_STATE,
        _VS_TOP_COL_MAX,
};

/* Raw counters of one VM (vcpu == -1) or vCPU, as the daemon sent them. */
struct vs_top_counters {
        char vm[VS_TOP_NAME_MAX];
        int vcpu;
        char mode[16];
        char state[16];                 /* vCPU scheduling state, "" for a VM */
        uint64_t ipis_in, ipis_out, ipis_in_not_running;
        uint64_t pause_exits, yields_out;
        uint64_t eoi_p99_ns;
        int64_t weight, weight_baseline;        /* -1 unknown */
        bool has_run_delay;                     /* "run_delay_ns" was a number */
        uint64_t run_delay_ns;
};

struct vs_top_snapshot {
        double uptime_s;
        char mode[16];                  /* the daemon's default mode */
        bool dry_run;
        struct vs_top_counters *items;  /* VM, its vCPUs, next VM, ... */
        size_t n_items;
};

struct vs_top_row {
        char vm[VS_TOP_NAME_MAX];
        int vcpu;                       /* -1: the VM's own row */
        char mode[16];
        char state[16];
        double ipi_in_rate, ipi_out_rate;       /* IPIs/s, NAN unknown */
        double preempted_share;                 /* 0..1, NAN unknown */
        double ready_share;                     /* >= 0 (a VM: up to its vCPU count), NAN unknown */
        uint64_t eoi_p99_ns;                    /* 0 unknown */
        double pause_rate, yield_rate;          /* /s, NAN unknown */
        int64_t weight, weight_baseline;        /* -1 unknown */
};

/*
 * vs_top_snapshot_from_json - read the "data" of a "top" answer.  Unknown
 * keys are ignored, missing counters read as 0, missing weights as unknown
 * (so a newer or older daemon still works).  Returns 0 with *ret (free with
 * vs_top_snapshot_free), -EBADMSG when @data is not an object with a "vms"
 * array of objects each having a string "vm", or -ENOMEM.
 */
int vs_top_snapshot_from_json(struct json_object *data, struct vs_top_snapshot **ret);
/* Accepts NULL, returns NULL. */
struct vs_top_snapshot *vs_top_snapshot_free(struct vs_top_snapshot *s);

/*
 * vs_top_rows - the rows of @cur, with rates against @prev (NULL: first
 * snapshot, every rate unknown), in the daemon's order.  Returns 0 with
 * *ret_rows (malloc'd, NULL when there are none) and *ret_n, or -ENOMEM.
 */
int vs_top_rows(const struct vs_top_snapshot *prev, const struct vs_top_snapshot *cur, struct vs_top_row **ret_rows,
                size_t *ret_n);

/*
 * vs_top_sort - order @rows by @col, keeping each VM's vCPUs right after it.
 * Numeric columns sort biggest first unless @reverse, text columns (name,
 * mode, state) A to Z unless @reverse; unknown values (NAN, -1, 0 p99) go
 * last either way; ties keep name order.  Rows must come grouped (as
 * vs_top_rows() makes them).  Returns 0 or -ENOMEM.
 */
int vs_top_sort(struct vs_top_row *rows, size_t n, enum vs_top_col col, bool reverse);

/* Column title (e.g. "IPI-IN/s"), the key that sorts by it, and a display
 * width.  NULL / 0 for an out-of-range column. */
const char *vs_top_col_title(enum vs_top_col col);
char vs_top_col_key(enum vs_top_col col);
int vs_top_col_width(enum vs_top_col col);
/* The column whose sort key is @key, or -1. */
int vs_top_col_from_key(int key);

/*
 * vs_top_format_cell - the text of @col for @row in @buf (always
 * NUL-terminated, truncated to @len - 1): rates as "12.3", "4.5k", "1.2M";
 * shares as "42%" (ready share: "3.5%" below 10%); latencies as "850us", "1.2ms"; weight as "CUR/BASE";
 * names "VM" or "  vcpuN" with control characters and non-ASCII shown as '?';
 * unknown values as "-".
 */
void vs_top_format_cell(const struct vs_top_row *row, enum vs_top_col col, char *buf, size_t len);
