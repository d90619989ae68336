/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * yield-hint.h - which vCPU each spinning vCPU should yield to, for the
 * companion kernel patch's per-vCPU directed-yield hint (kvm-hook.h writes
 * it).  For every vCPU that waited in the last complete epoch (PAUSE exits
 * or PV yields/kicks: waste_ns > 0) or has IPIs it sent still pending, the
 * hint is its strongest waiting edge: the vCPU it sends IPIs to at the
 * highest decayed rate (ties: the lower vCPU index), if that rate is at
 * least @min_rate.
 *
 * Pure: reads the analysis model, owns nothing, no I/O, no logging.
 */
#pragma once

#include <stdint.h>

struct vs_analysis;

struct vs_yield_hint {
        const char *vm;         /* the analysis VM's name (valid until the next event) */
        unsigned vm_index;      /* vs_analysis_vm() index */
        unsigned src, dst;      /* vCPU indexes: src should yield to dst */
        double rate;            /* IPIs/s src -> dst (decayed) */
};

typedef void (*vs_yield_hint_cb)(const struct vs_yield_hint *h, void *userdata);

/* Calls @cb once per hint at trace time @now.  Returns the number of hints. */
unsigned vs_yield_hints(const struct vs_analysis *a, uint64_t now, double min_rate, vs_yield_hint_cb cb,
                        void *userdata);
