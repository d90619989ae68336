/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * vs-gentrace - writes a synthetic trace-cmd .dat at any scale, for scale
 * tests and benchmarks: N VMs x M vCPUs on C host CPUs, every record laid out
 * from the kernel's real format files (tests/data/formats), so the file reads
 * back through libtracecmd, `trace-cmd report` and `vschedd --replay`.
 *
 *   vs-gentrace --out FILE.dat [--vms N] [--vcpus M] [--cpus C] [--events E]
 *               [--pattern mixed|pingpong|shootdown|convoy] [--preempt PCT]
 *               [--formats DIR] [--seed S] [--sparse] [--no-markers]
 *
 * Patterns: pingpong = vCPU pairs IPI each other; shootdown = all-to-all TLB
 * shootdowns (all-but-self shorthand plus unicast answers); convoy = every
 * vCPU IPIs a lock holder (vCPU 0) and spins (PAUSE exits, sched_yield to it);
 * mixed = all three.  --preempt sets how often a switch-out is a preemption.
 * Topology markers name the VMs ("genvmN") as vschedd --record does;
 * --no-markers leaves them out (a plain trace-cmd file: no TGIDs, so replay
 * groups the vCPU threads from the trace's evidence, lib/vm-infer.h).
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <traceevent/event-parse.h>

#include "dat-writer.h"
#include "macro.h"
#include "progress.h"
#include "rb-page.h"
#include "source.h"

#define MAX_CPUS 256

static struct tep_handle *tep;
static uint64_t rng = 88172645463325252ull;

static inline uint64_t rnd(void) {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        return rng;
}

struct rec {
        uint8_t b[256];
        int size;
        struct tep_event *e;
};

static int load_format(const char *dir, const char *sys, const char *name) {
        char path[4096];
        _cleanup_fclose_ FILE *f = NULL;
        char buf[65536];
        size_t n;

        snprintf(path, sizeof(path), "%s/%s/%s/format", dir, sys, name);
        f = fopen(path, "re");
        if (!f)
                return negative_errno();
        n = fread(buf, 1, sizeof(buf) - 1, f);
        buf[n] = 0;
        return tep_parse_event(tep, buf, n, sys) == 0 ? 0 : -EBADMSG;
}

static struct tep_event *ev_ipi, *ev_eoi, *ev_switch, *ev_wakeup, *ev_entry, *ev_exit, *ev_hc, *ev_print;

static void start(struct rec *r, struct tep_event *e, int32_t pid) {
        uint16_t id = (uint16_t) e->id;

        memset(r->b, 0, sizeof(r->b));
        r->e = e;
        r->size = 0;
        memcpy(r->b, &id, 2);
        memcpy(r->b + 4, &pid, 4);
        for (struct tep_format_field *f = e->format.fields; f; f = f->next)
                if (f->offset + f->size > r->size)
                        r->size = f->offset + f->size;
}

static void put(struct rec *r, const char *field, uint64_t v) {
        struct tep_format_field *f = tep_find_field(r->e, field);
        if (f && f->size <= 8)
                memcpy(r->b + f->offset, &v, (size_t) f->size);
}

static void put_str(struct rec *r, const char *field, const char *s) {
        struct tep_format_field *f = tep_find_field(r->e, field);
        if (!f)
                return;
        if (f->size == 0) {
                size_t l = strlen(s);
                if (f->offset + l + 1 > sizeof(r->b))
                        l = sizeof(r->b) - f->offset - 1;
                memcpy(r->b + f->offset, s, l);
                r->b[f->offset + l] = 0;
                r->size = f->offset + (int) l + 1;
        } else
                strncpy((char *) r->b + f->offset, s, (size_t) f->size);
}

static struct vs_rb_writer cpus[MAX_CPUS];
static unsigned n_cpus = 2;
static uint64_t ts = 1000000000ull;

static int emit(struct rec *r, unsigned cpu) {
        int size = (r->size + 3) & ~3;
        return vs_rb_writer_add(&cpus[cpu % n_cpus], ts, r->b, (size_t) size);
}

int main(int argc, char **argv) {
        static const struct option opts[] = {
                { "out", required_argument, NULL, 'o' }, { "vms", required_argument, NULL, 'v' },
                { "vcpus", required_argument, NULL, 'm' }, { "cpus", required_argument, NULL, 'c' },
                { "events", required_argument, NULL, 'e' }, { "pattern", required_argument, NULL, 'p' },
                { "preempt", required_argument, NULL, 'P' }, { "formats", required_argument, NULL, 'f' },
                { "seed", required_argument, NULL, 's' }, { "sparse", no_argument, NULL, 'S' },
                { "no-markers", no_argument, NULL, 'M' }, {}
        };
        const char *out = NULL, *formats = "tests/data/formats", *pattern = "mixed";
        unsigned vms = 10, vcpus = 4, preempt = 30;
        uint64_t events = 1000000, done = 0;
        bool sparse = false, markers = true;
        int c, r;

        while ((c = getopt_long(argc, argv, "o:v:m:c:e:p:P:f:s:SM", opts, NULL)) >= 0)
                switch (c) {
                case 'o': out = optarg; break;
                case 'v': vms = (unsigned) atoi(optarg); break;
                case 'm': vcpus = (unsigned) atoi(optarg); break;
                case 'c': n_cpus = (unsigned) atoi(optarg); break;
                case 'e': events = strtoull(optarg, NULL, 10); break;
                case 'p': pattern = optarg; break;
                case 'P': preempt = (unsigned) atoi(optarg); break;
                case 'f': formats = optarg; break;
                case 's': rng = strtoull(optarg, NULL, 10) | 1; break;
                case 'S': sparse = true; break;
                case 'M': markers = false; break;
                default:
                        fprintf(stderr, "usage: vs-gentrace --out FILE.dat [--vms N] [--vcpus M] [--cpus C] "
                                        "[--events E] [--pattern mixed|pingpong|shootdown|convoy] [--preempt PCT] "
                                        "[--formats DIR] [--seed S] [--sparse] [--no-markers]\n");
                        return 2;
                }
        if (!out || vms == 0 || vcpus < 2 || vcpus > 256 || n_cpus == 0 || n_cpus > MAX_CPUS || preempt > 100 ||
            (strcmp(pattern, "mixed") && strcmp(pattern, "pingpong") && strcmp(pattern, "shootdown") &&
             strcmp(pattern, "convoy"))) {
                fprintf(stderr, "vs-gentrace: bad arguments (need --out; vcpus 2..256, cpus 1..%d)\n", MAX_CPUS);
                return 2;
        }

        tep = tep_alloc();
        tep_set_long_size(tep, 8);
        static const char *const evs[][2] = {
                { "kvm", "kvm_apic_ipi" }, { "kvm", "kvm_eoi" }, { "sched", "sched_switch" },
                { "sched", "sched_wakeup" }, { "kvm", "kvm_entry" }, { "kvm", "kvm_exit" },
                { "kvm", "kvm_hypercall" }, { "ftrace", "print" },
        };
        for (size_t i = 0; i < ELEMENTSOF(evs); i++)
                if ((r = load_format(formats, evs[i][0], evs[i][1])) < 0) {
                        fprintf(stderr, "vs-gentrace: %s/%s/%s/format: %s\n", formats, evs[i][0], evs[i][1],
                                strerror(-r));
                        return 1;
                }
        ev_ipi = tep_find_event_by_name(tep, "kvm", "kvm_apic_ipi");
        ev_eoi = tep_find_event_by_name(tep, "kvm", "kvm_eoi");
        ev_switch = tep_find_event_by_name(tep, "sched", "sched_switch");
        ev_wakeup = tep_find_event_by_name(tep, "sched", "sched_wakeup");
        ev_entry = tep_find_event_by_name(tep, "kvm", "kvm_entry");
        ev_exit = tep_find_event_by_name(tep, "kvm", "kvm_exit");
        ev_hc = tep_find_event_by_name(tep, "kvm", "kvm_hypercall");
        ev_print = tep_find_event_by_name(tep, "ftrace", "print");
        for (unsigned i = 0; i < n_cpus; i++)
                if (vs_rb_writer_init(&cpus[i], 4096) < 0)
                        return 1;

        /* cmdlines and topology markers */
        size_t cl_cap = (size_t) vms * (vcpus + 1) * 40 + 64, cl_len = 0;
        _cleanup_free_ char *cmdlines = malloc(cl_cap);
        if (!cmdlines)
                return 1;
        cmdlines[0] = 0;
        for (unsigned v = 0; v < vms; v++) {
                int32_t tgid = (int32_t) (100000 + v * 1000);
                char vm[32], msg[256];
                snprintf(vm, sizeof(vm), "genvm%u", v);
                cl_len += (size_t) snprintf(cmdlines + cl_len, cl_cap - cl_len, "%d qemu-system-x86\n", tgid);
                for (unsigned k = 0; k < vcpus; k++) {
                        char comm[32];
                        struct rec rec;
                        snprintf(comm, sizeof(comm), "CPU %u/KVM", k);
                        cl_len += (size_t) snprintf(cmdlines + cl_len, cl_cap - cl_len, "%d %s\n",
                                                    tgid + 1 + (int32_t) k, comm);
                        if (!markers)
                                continue;
                        vs_format_topology_marker(msg, sizeof(msg), tgid + 1 + (int32_t) k, tgid,
                                                  (int32_t) (sparse ? 2 * k : k), vm, comm);
                        start(&rec, ev_print, 1);
                        put_str(&rec, "buf", msg);
                        ts += 100;
                        if (emit(&rec, 0) < 0)
                                return 1;
                }
        }

        struct vs_progress prog;
        vs_progress_init(&prog, "vs-gentrace");
        while (done < events) {
                uint64_t x = rnd();
                unsigned v = (unsigned) (x % vms), k = (unsigned) ((x >> 16) % vcpus);
                unsigned cpu = (unsigned) ((x >> 24) % n_cpus);
                int32_t tgid = (int32_t) (100000 + v * 1000), tid = tgid + 1 + (int32_t) k;
                unsigned apic_of_k = sparse ? 2 * k : k;
                const char *pat = pattern;
                struct rec rec;

                if (strcmp(pattern, "mixed") == 0)
                        pat = (x >> 40) % 3 == 0 ? "pingpong" : (x >> 40) % 3 == 1 ? "shootdown" : "convoy";
                ts += 50 + ((x >> 48) & 0xff);
                unsigned dst = strcmp(pat, "pingpong") == 0 ? k ^ 1 : strcmp(pat, "convoy") == 0 ? 0 :
                                                                      (unsigned) ((x >> 32) % vcpus);
                if (dst >= vcpus || dst == k)
                        dst = (k + 1) % vcpus;
                unsigned dst_apic = sparse ? 2 * dst : dst;
                int32_t dst_tid = tgid + 1 + (int32_t) dst;

                char comm_k[16], comm_d[16];
                snprintf(comm_k, sizeof(comm_k), "CPU %u/KVM", k % 1000);
                snprintf(comm_d, sizeof(comm_d), "CPU %u/KVM", dst % 1000);
                switch ((x >> 56) % 10) {
                case 0:         /* switch: this vCPU out (preempted or asleep), the receiver in */
                        start(&rec, ev_switch, tid);
                        put_str(&rec, "prev_comm", comm_k);
                        put(&rec, "prev_pid", (uint64_t) tid);
                        put(&rec, "prev_prio", 120);
                        put(&rec, "prev_state", (x >> 8) % 100 < preempt ? 0x100 : 1);
                        put_str(&rec, "next_comm", comm_d);
                        put(&rec, "next_pid", (uint64_t) dst_tid);
                        put(&rec, "next_prio", 120);
                        break;
                case 1:
                        start(&rec, ev_wakeup, tid);
                        put_str(&rec, "comm", comm_d);
                        put(&rec, "pid", (uint64_t) dst_tid);
                        put(&rec, "prio", 120);
                        put(&rec, "target_cpu", cpu);
                        break;
                case 2:
                case 3:
                        start(&rec, ev_ipi, tid);
                        if (strcmp(pat, "shootdown") == 0 && (x & 3) == 0)
                                put(&rec, "icr_low", 0xfd | (3u << 18));        /* all-but-self */
                        else
                                put(&rec, "icr_low", 0xfb);
                        put(&rec, "dest_id", dst_apic);
                        break;
                case 4:
                case 5:
                        start(&rec, ev_eoi, tid);
                        put(&rec, "apicid", apic_of_k);
                        put(&rec, "vector", 0xfb);
                        break;
                case 6:
                case 7:
                        start(&rec, ev_entry, tid);
                        put(&rec, "vcpu_id", apic_of_k);
                        break;
                case 8:
                        start(&rec, ev_exit, tid);
                        put(&rec, "exit_reason", strcmp(pat, "convoy") == 0 ? 0x77 : 0x78);
                        put(&rec, "isa", 2);
                        put(&rec, "vcpu_id", apic_of_k);
                        break;
                default:
                        start(&rec, ev_hc, tid);
                        put(&rec, "nr", 11);
                        put(&rec, "a0", dst_apic);
                        break;
                }
                if ((r = emit(&rec, cpu)) < 0) {
                        fprintf(stderr, "vs-gentrace: %s\n", strerror(-r));
                        return 1;
                }
                if ((++done & 0xfffff) == 0)
                        vs_progress_update(&prog, done, events, done);
        }
        vs_progress_done(&prog);

        struct vs_dat_cpu dc[MAX_CPUS];
        for (unsigned i = 0; i < n_cpus; i++) {
                const void *d;
                size_t n;
                if (vs_rb_writer_finish(&cpus[i], &d, &n) < 0)
                        return 1;
                dc[i] = (struct vs_dat_cpu) { n ? d : NULL, n };
        }
        static const char *const list[] = { "kvm:kvm_apic_ipi", "kvm:kvm_eoi", "sched:sched_switch",
                                             "sched:sched_wakeup", "kvm:kvm_entry", "kvm:kvm_exit",
                                             "kvm:kvm_hypercall", "ftrace:print", NULL };
        struct vs_dat_info info = { .events_dir = formats, .events = list, .page_size = 4096, .n_cpus = n_cpus,
                                    .cpus = dc, .cmdlines = cmdlines };
        r = vs_dat_write(out, &info);
        if (r < 0) {
                fprintf(stderr, "vs-gentrace: writing %s: %s\n", out, strerror(-r));
                return 1;
        }
        for (unsigned i = 0; i < n_cpus; i++)
                vs_rb_writer_done(&cpus[i]);
        tep_free(tep);
        if (isatty(2))
                fprintf(stderr, "vs-gentrace: %" PRIu64 " events, %u VMs x %u vCPUs on %u CPUs -> %s\n", done, vms,
                        vcpus, n_cpus, out);
        return 0;
}
