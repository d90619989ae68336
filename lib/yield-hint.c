/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "analysis.h"
#include "yield-hint.h"

/* The senders of IPIs still pending (not EOIed) in @vm: pending entries
 * live on the receiver and name the pair. */
static void pending_senders(const struct vs_an_vm *vm, bool *ret) {
        for (unsigned d = 0; d < vm->n_vcpus; d++) {
                const struct vs_an_vcpu *c = &vm->vcpus[d];
                if (!c->present)
                        continue;
                for (unsigned k = 0; k < VS_AN_PENDING; k++) {
                        int32_t pi = c->pending[k].pair;
                        if (pi >= 0 && (unsigned) pi < vm->n_pairs && vm->pairs[pi].src < VS_AN_MAX_VCPUS)
                                ret[vm->pairs[pi].src] = true;
                }
        }
}

unsigned vs_yield_hints(const struct vs_analysis *a, uint64_t now, double min_rate, vs_yield_hint_cb cb,
                        void *userdata) {
        unsigned n = 0;

        for (unsigned i = 0; i < vs_analysis_n_vms(a); i++) {
                const struct vs_an_vm *vm = vs_analysis_vm(a, i);
                bool sent[VS_AN_MAX_VCPUS] = { false };

                pending_senders(vm, sent);
                for (unsigned s = 0; s < vm->n_vcpus && s < VS_AN_MAX_VCPUS; s++) {
                        const struct vs_an_vcpu *c = &vm->vcpus[s];
                        struct vs_yield_hint best = { .vm = vm->name, .vm_index = i, .src = s, .rate = -1 };

                        /* waited in the last or the current epoch, or still waits */
                        if (!c->present || !(c->last_waste_ns || c->epoch_waste_ns || sent[s]))
                                continue;
                        for (unsigned d = 0; d < vm->n_vcpus; d++) {
                                const struct vs_an_pair *p = d == s ? NULL : vs_analysis_pair(vm, s, d);
                                double r;

                                if (!p || !p->ipis || !vm->vcpus[d].present)
                                        continue;
                                r = vs_analysis_pair_rate(a, p, now);
                                if (r > best.rate) {
                                        best.rate = r;
                                        best.dst = d;
                                }
                        }
                        if (best.rate >= min_rate && best.rate >= 0) {
                                n++;
                                if (cb)
                                        cb(&best, userdata);
                        }
                }
        }
        return n;
}
