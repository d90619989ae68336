/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * trace-filter.c - ftrace filter texts for vCPU threads (see trace-filter.h).
 *
 * Hand-built strings rather than a library: libtracefs 1.6's
 * tracefs_filter_string_append() builds the same text but needs a tep event
 * handle per call and allocates; a fixed grammar of ORed terms into a caller's
 * buffer is simpler and cannot fail half-way.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "trace-filter.h"

/* vs_vcpu_index_from_comm()'s patterns (QEMU, Firecracker, crosvm, kvmtool,
 * cloud-hypervisor); a glob may be wider than the parser, never narrower
 * (tests/unit/test-trace-filter checks both against the same names). */
const char *const vs_trace_filter_vcpu_globs[] = {
        "CPU */KVM", "fc_vcpu *", "crosvm_vcpu*", "kvm-vcpu-*", "vcpu*", NULL,
};

const char *vs_trace_filter_fixed(const char *system, const char *event) {
        if (!system || !event || strcmp(system, "kvm") != 0)
                return NULL;
        if (strcmp(event, "kvm_exit") == 0)
                return "exit_reason == 40 || exit_reason == 119";
        if (strcmp(event, "kvm_hypercall") == 0)
                return "nr == 5 || nr == 10 || nr == 11";
        return NULL;
}

struct out {
        char *buf;
        size_t size, len;
        bool full;
};

static void put(struct out *o, const char *fmt, ...) {
        va_list ap;
        int n;

        if (o->full)
                return;
        va_start(ap, fmt);
        n = vsnprintf(o->buf + o->len, o->size - o->len, fmt, ap);
        va_end(ap);
        if (n < 0 || (size_t) n >= o->size - o->len) {
                o->full = true;
                return;
        }
        o->len += (size_t) n;
}

static bool seen_before(const int32_t *tids, size_t i) {
        for (size_t k = 0; k < i; k++)
                if (tids[k] == tids[i])
                        return true;
        return false;
}

int vs_trace_filter_vcpus(enum vs_trace_filter_event event, const int32_t *tids, size_t n, char *buf,
                          size_t size) {
        static const char *const sw[] = { "prev", "next" };
        const char *const *prefix;
        size_t n_prefix;
        struct out o = { .buf = buf, .size = size };
        const char *sep = "";

        switch (event) {
        case VS_TF_SCHED_SWITCH:
                prefix = sw;
                n_prefix = 2;
                break;
        case VS_TF_SCHED_WAKEUP:
                prefix = NULL;
                n_prefix = 1;
                break;
        default:
                return -EINVAL;
        }
        if (!buf || size == 0)
                return -EINVAL;
        buf[0] = '\0';
        for (size_t p = 0; p < n_prefix; p++)
                for (size_t g = 0; vs_trace_filter_vcpu_globs[g]; g++) {
                        put(&o, "%s%s%scomm ~ \"%s\"", sep, prefix ? prefix[p] : "", prefix ? "_" : "",
                            vs_trace_filter_vcpu_globs[g]);
                        sep = " || ";
                }
        for (size_t i = 0; i < n && tids && !o.full; i++) {
                if (tids[i] <= 0 || seen_before(tids, i))
                        continue;
                for (size_t p = 0; p < n_prefix; p++)
                        put(&o, " || %s%spid == %d", prefix ? prefix[p] : "", prefix ? "_" : "", tids[i]);
        }
        if (o.full || o.len > VS_TRACE_FILTER_MAX) {
                buf[0] = '\0';
                return -E2BIG;
        }
        return (int) o.len;
}
