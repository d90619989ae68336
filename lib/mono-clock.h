/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * mono-clock.h - CLOCK_MONOTONIC in nanoseconds, the one clock vschedd's
 * timeouts, rates and progress displays measure wall durations with (the
 * trace clock is the kernel's, see source.h).
 */
#pragma once

#include <stdint.h>
#include <time.h>

static inline uint64_t vs_mono_ns(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000000000ull + (uint64_t) ts.tv_nsec;
}
