/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * histogram.h - a 64-byte latency histogram with half-octave buckets.
 *
 * Owns nothing but its 32 counters.  Bucket 0 holds values below 1 us;
 * bucket b >= 1 holds [lo(b), lo(b+1)) with lo(1) = 1 us and each bucket
 * sqrt(2) times wider than the last (lo(b) = 1000 ns * 2^((b-1)/2), rounded
 * down), so bucket 31 starts at ~32.8 ms and takes everything above: enough
 * for IPI->EOI latencies, which expire at 50 ms.  Percentiles are reported as
 * the upper edge of the bucket holding them (bucket 31: its lower edge), i.e.
 * a conservative estimate within 41 %.
 *
 * Counters are 16 bits: when one would overflow, every counter is halved,
 * which keeps the shape (and the percentiles) of a long-running histogram.
 * Fixed size, no allocation: cheap enough to keep one per IPI edge.
 *
 * Also struct vs_lat_hist: the other shape, for an OpenMetrics histogram
 * (never halved, so its counts only grow): 64-bit counts on fixed upper
 * bounds from 50 us to 1 s (VS_LAT_BOUNDS_NS) plus +Inf, the count and the
 * sum in ns.
 */
#pragma once

#include <stdint.h>

#define VS_HIST_BUCKETS 32

struct vs_hist {
        uint16_t b[VS_HIST_BUCKETS];
};

/* Bucket index of a value in ns. */
unsigned vs_hist_bucket(uint64_t ns);
/* Lower edge of bucket @b in ns. */
uint64_t vs_hist_bucket_lo(unsigned b);
void vs_hist_add(struct vs_hist *h, uint64_t ns);
/* Add every count of @src to @dst (both halved first while a sum would
 * overflow a counter, as vs_hist_add does): the histogram of both inputs. */
void vs_hist_merge(struct vs_hist *dst, const struct vs_hist *src);
/* Total count (after any halving). */
uint64_t vs_hist_count(const struct vs_hist *h);
/* The @pct percentile (0 < pct <= 100) in ns, as described above; 0 when empty. */
uint64_t vs_hist_percentile(const struct vs_hist *h, double pct);

/* Upper bounds (inclusive, as OpenMetrics' "le") of vs_lat_hist's buckets, ns. */
#define VS_LAT_BUCKETS 13
extern const uint64_t VS_LAT_BOUNDS_NS[VS_LAT_BUCKETS];

struct vs_lat_hist {
        uint64_t b[VS_LAT_BUCKETS + 1]; /* per bucket (not cumulative); the last: above every bound */
        uint64_t count, sum_ns;
};

void vs_lat_hist_add(struct vs_lat_hist *h, uint64_t ns);
/* The @pct percentile (0 < pct <= 100) as the upper bound of the bucket
 * holding it (UINT64_MAX: above the last bound); 0 when empty. */
uint64_t vs_lat_hist_percentile(const struct vs_lat_hist *h, double pct);
