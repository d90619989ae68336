/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * bench-analysis - events/s of the analysis alone (topology lookups included)
 * on a large synthetic event stream, and the memory it holds.
 *
 *   bench-analysis [VMS [VCPUS [MEVENTS]]]      default 1000 16 10
 *
 * The stream mimics a dense host: per VM, vCPUs send unicast IPIs to each
 * other (mostly to a neighbour, sometimes anywhere), EOIs answer them, vCPU
 * threads are switched out preempted or blocked and woken, and some spin
 * (PAUSE exits) or yield (hypercall 11).  Events are generated into a 64 K
 * buffer ahead of each timed chunk, so generation is not measured.
 * Prints one line per figure: name value unit.
 */
#include <inttypes.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "analysis.h"
#include "progress.h"
#include "topology.h"

#define CHUNK (1u << 16)

static uint64_t rng = 0x9e3779b97f4a7c15ull;
static inline uint64_t next(void) {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        return rng;
}

static uint64_t mono_ns(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

int main(int argc, char **argv) {
        unsigned vms = argc > 1 ? (unsigned) atoi(argv[1]) : 1000;
        unsigned vcpus = argc > 2 ? (unsigned) atoi(argv[2]) : 16;
        uint64_t total = (argc > 3 ? (uint64_t) atoll(argv[3]) : 10) * 1000000ull;
        struct vs_topology *topo;
        struct vs_analysis *an;
        struct vs_event *buf;
        struct vs_progress prog;
        uint64_t ts = 1000000000ull, done = 0, ns = 0;
        size_t heap_before, heap_after;
        struct rusage ru;
        char comm[32];

        if (vms == 0 || vcpus == 0 || vcpus > 64 || total == 0) {
                fprintf(stderr, "usage: bench-analysis [VMS [VCPUS(<=64) [MEVENTS]]]\n");
                return 2;
        }
        heap_before = mallinfo2().uordblks;
        if (vs_topology_new(&topo) < 0 || vs_analysis_new(NULL, topo, &an) < 0)
                return 1;
        /* vCPU k of VM v: tid 100000 + v * 100 + k, APIC ID k */
        for (unsigned v = 0; v < vms; v++)
                for (unsigned k = 0; k < vcpus; k++) {
                        char name[32];
                        snprintf(comm, sizeof(comm), "CPU %u/KVM", k);
                        snprintf(name, sizeof(name), "vm%u", v);
                        struct vs_thread_info ti = { .tid = (int32_t) (100000 + v * 100 + k),
                                                     .tgid = (int32_t) (100000 + v * 100 + 99), .comm = comm,
                                                     .apic_id = (int32_t) k, .vm_name = name };
                        if (vs_topology_learn_thread(topo, &ti) < 0)
                                return 1;
                }
        buf = malloc(CHUNK * sizeof(*buf));
        if (!buf)
                return 1;
        vs_progress_init(&prog, "bench-analysis");

        while (done < total) {
                unsigned n = total - done < CHUNK ? (unsigned) (total - done) : CHUNK;
                for (unsigned i = 0; i < n; i++) {
                        uint64_t r = next();
                        unsigned v = (unsigned) (r % vms), k = (unsigned) ((r >> 20) % vcpus);
                        int32_t tid = (int32_t) (100000 + v * 100 + k);
                        struct vs_event *e = &buf[i];
                        memset(e, 0, sizeof(*e));
                        ts += 100 + (r >> 58);
                        e->ts_ns = ts;
                        e->tid = tid;
                        e->cpu = (uint16_t) ((r >> 40) % 64);
                        switch ((r >> 32) % 16) {
                        case 0 ... 4: {         /* unicast IPI, mostly to the next vCPU */
                                unsigned d = (r >> 48) % 8 ? (k + 1) % vcpus : (unsigned) ((r >> 50) % vcpus);
                                vs_event_set_icr(e, 0xfb, d);
                                break;
                        }
                        case 5 ... 8:           /* EOI */
                                e->type = VS_EV_EOI;
                                e->eoi.apic_id = k;
                                e->eoi.vector = 0xfb;
                                break;
                        case 9 ... 12:          /* switch out, preempted or blocked, next another vCPU */
                                e->type = VS_EV_SWITCH;
                                e->sw.prev_tid = tid;
                                e->sw.prev_state = (r >> 47) & 1 ? 0x100 : 1;
                                e->sw.next_tid = (int32_t) (100000 + ((v + 1) % vms) * 100 + k);
                                break;
                        case 13:
                                e->type = VS_EV_WAKEUP;
                                e->tid = 0;
                                e->wakeup.wakee_tid = tid;
                                e->wakeup.target_cpu = e->cpu;
                                break;
                        case 14:
                                e->type = VS_EV_EXIT_PAUSE;
                                e->pause.isa = VS_ISA_SVM;
                                e->pause.exit_reason = 0x77;
                                break;
                        default:
                                e->type = VS_EV_HYPERCALL;
                                e->hc.nr = VS_HC_SCHED_YIELD;
                                e->hc.a0 = (k + 1) % vcpus;
                                break;
                        }
                }
                uint64_t t0 = mono_ns();
                for (unsigned i = 0; i < n; i++)
                        if (vs_analysis_event(an, &buf[i]) < 0)
                                return 1;
                ns += mono_ns() - t0;
                done += n;
                vs_progress_update(&prog, done, total, done);
        }
        vs_progress_done(&prog);
        vs_analysis_finish(an, ts);
        free(buf);
        heap_after = mallinfo2().uordblks;
        getrusage(RUSAGE_SELF, &ru);

        printf("analysis_events %" PRIu64 " events\n", done);
        printf("analysis_rate %.0f events/s\n", done / (ns / 1e9));
        printf("analysis_ns_per_event %.1f ns\n", (double) ns / done);
        printf("model_heap %.1f MiB\n", (heap_after - heap_before) / 1048576.0);
        printf("peak_rss %.1f MiB\n", ru.ru_maxrss / 1024.0);
        printf("vms %u vcpus %u\n", vms, vcpus);
        vs_analysis_free(an);
        vs_topology_free(topo);
        return 0;
}
