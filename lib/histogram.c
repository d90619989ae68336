/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdbool.h>
#include <string.h>

#include "histogram.h"

/* lo(b) for b = 1..31: 1000 * 2^((b-1)/2), integer ns (floor); lo(0) = 0 */
static const uint64_t bucket_lo[VS_HIST_BUCKETS] = {
        0,        1000,     1414,     2000,     2828,     4000,     5656,     8000,
        11313,    16000,    22627,    32000,    45254,    64000,    90509,    128000,
        181019,   256000,   362038,   512000,   724077,   1024000,  1448154,  2048000,
        2896309,  4096000,  5792618,  8192000,  11585237, 16384000, 23170475, 32768000,
};

unsigned vs_hist_bucket(uint64_t ns) {
        unsigned lo = 0, hi = VS_HIST_BUCKETS - 1;

        /* largest b with bucket_lo[b] <= ns */
        while (lo < hi) {
                unsigned mid = (lo + hi + 1) / 2;
                if (bucket_lo[mid] <= ns)
                        lo = mid;
                else
                        hi = mid - 1;
        }
        return lo;
}

uint64_t vs_hist_bucket_lo(unsigned b) {
        return b < VS_HIST_BUCKETS ? bucket_lo[b] : bucket_lo[VS_HIST_BUCKETS - 1];
}

void vs_hist_add(struct vs_hist *h, uint64_t ns) {
        unsigned b = vs_hist_bucket(ns);

        if (h->b[b] == UINT16_MAX)
                for (unsigned i = 0; i < VS_HIST_BUCKETS; i++)
                        h->b[i] = (uint16_t) ((h->b[i] + 1) / 2);
        h->b[b]++;
}

void vs_hist_merge(struct vs_hist *dst, const struct vs_hist *src) {
        struct vs_hist s = *src;

        for (;;) {
                bool fits = true;
                for (unsigned i = 0; i < VS_HIST_BUCKETS; i++)
                        fits = fits && (uint32_t) dst->b[i] + s.b[i] <= UINT16_MAX;
                if (fits)
                        break;
                for (unsigned i = 0; i < VS_HIST_BUCKETS; i++) {
                        dst->b[i] = (uint16_t) ((dst->b[i] + 1) / 2);
                        s.b[i] = (uint16_t) ((s.b[i] + 1) / 2);
                }
        }
        for (unsigned i = 0; i < VS_HIST_BUCKETS; i++)
                dst->b[i] = (uint16_t) (dst->b[i] + s.b[i]);
}

uint64_t vs_hist_count(const struct vs_hist *h) {
        uint64_t n = 0;

        for (unsigned i = 0; i < VS_HIST_BUCKETS; i++)
                n += h->b[i];
        return n;
}

uint64_t vs_hist_percentile(const struct vs_hist *h, double pct) {
        uint64_t n = vs_hist_count(h), seen = 0, rank;

        if (n == 0 || !(pct > 0))
                return 0;
        if (pct > 100)
                pct = 100;
        /* nearest-rank: the smallest value with at least pct % of samples at or below it */
        rank = (uint64_t) (pct / 100.0 * (double) n + 0.999999);
        if (rank == 0)
                rank = 1;
        for (unsigned i = 0; i < VS_HIST_BUCKETS; i++) {
                seen += h->b[i];
                if (seen >= rank)
                        return i + 1 < VS_HIST_BUCKETS ? bucket_lo[i + 1] : bucket_lo[i];
        }
        return bucket_lo[VS_HIST_BUCKETS - 1];
}

const uint64_t VS_LAT_BOUNDS_NS[VS_LAT_BUCKETS] = {
        50000, 100000, 250000, 500000, 1000000, 2500000, 5000000,
        10000000, 25000000, 50000000, 100000000, 250000000, 1000000000,
};

void vs_lat_hist_add(struct vs_lat_hist *h, uint64_t ns) {
        unsigned b = 0;

        while (b < VS_LAT_BUCKETS && ns > VS_LAT_BOUNDS_NS[b])
                b++;
        h->b[b]++;
        h->count++;
        h->sum_ns += ns;
}

uint64_t vs_lat_hist_percentile(const struct vs_lat_hist *h, double pct) {
        uint64_t want, seen = 0;

        if (!h->count)
                return 0;
        want = (uint64_t) ((double) h->count * pct / 100.0 + 0.999999);
        if (want < 1)
                want = 1;
        for (unsigned b = 0; b < VS_LAT_BUCKETS; b++) {
                seen += h->b[b];
                if (seen >= want)
                        return VS_LAT_BOUNDS_NS[b];
        }
        return UINT64_MAX;
}
