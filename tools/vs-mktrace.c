/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * vs-mktrace - generates the bundled test trace (tests/data/bundled.dat/.txt).
 *
 * Records REAL sched_switch/sched_wakeup (and the ftrace:print topology
 * markers) live through tools/recorder.h while two fake VMMs ("web": 4 vCPU
 * threads, APIC IDs 0-3; "db": 2 vCPU threads, sparse APIC IDs 0 and 2) run
 * a ping-pong workload, then inserts synthetic kvm:* records consistent with
 * that scheduling, laid out byte for byte from this kernel's format files
 * (offsets and sizes from each tep_format_field), re-encodes every CPU with
 * tools/rb-page.h and writes the .dat with lib/dat-writer.h.  kvm tracepoints
 * cannot fire on the generating host (no VMs), hence the synthesis.
 *
 * The text form comes from `trace-cmd report -t` when trace-cmd is installed.
 * Helpers used only here live in this file.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <event-parse.h>
#include <kbuffer.h>
#include <tracefs.h>

#include "dat-writer.h"
#include "macro.h"
#include "rb-page.h"
#include "recorder.h"

/* ------------------------------------------------------------------ setup */

#define MAX_VCPUS 4
#define IPI_VECTOR 0xfbu        /* Linux CALL_FUNCTION_SINGLE_VECTOR... any fixed vector will do */

struct vm_desc {
        const char *name;
        unsigned n_vcpus;
        int apic[MAX_VCPUS];
        unsigned tokens;        /* concurrent ping-pong tokens */
};

static const struct vm_desc vms[] = {
        { "web", 4, { 0, 1, 2, 3 }, 2 },
        { "db", 2, { 0, 2 }, 1 },
};
#define N_VMS ELEMENTSOF(vms)

struct vthread {
        int tid, tgid;
        unsigned vm, idx;
        int apic;
        char comm[16];
        /* synthesis state */
        bool ipi_pending;
        bool slept;
        uint64_t sleep_ts;
};

static struct vthread threads[N_VMS * MAX_VCPUS];
static unsigned n_threads;
static pid_t vmm_pid[N_VMS];

static volatile sig_atomic_t stop_flag;
static bool progress;

static void on_signal(int sig) {
        stop_flag = 1;
}

static uint64_t mono_ns(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000000000ull + (uint64_t) ts.tv_nsec;
}

static void sleep_ns(uint64_t ns) {
        struct timespec ts = { (time_t) (ns / 1000000000ull), (long) (ns % 1000000000ull) };

        while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
                ;
}

static void spin_ns(uint64_t ns) {
        uint64_t end = mono_ns() + ns;

        while (mono_ns() < end)
                __asm__ volatile("" ::: "memory");
}

/* xorshift64*: deterministic pseudo-randomness for the workload and synthesis */
static uint64_t rnd_state;
static uint64_t rnd(void) {
        rnd_state ^= rnd_state >> 12;
        rnd_state ^= rnd_state << 25;
        rnd_state ^= rnd_state >> 27;
        return rnd_state * 0x2545f4914f6cdd1dull;
}

/* ------------------------------------------------------------ fake VMMs */

struct vmm {
        const struct vm_desc *desc;
        int pipe[MAX_VCPUS][2];
        atomic_int done;
        int report_fd;
        uint64_t seed;
};

struct vcpu_arg {
        struct vmm *vmm;
        unsigned idx;
};

#define ZBUF_SIZE (4u << 20)

struct tid_report {
        int32_t tid;
        int32_t idx;
};

static void put_token(struct vmm *m, unsigned idx, char c) {
        while (write(m->pipe[idx][1], &c, 1) < 0 && errno == EINTR)
                ;
}

static void *vcpu_main(void *p) {
        struct vcpu_arg *a = p;
        struct vmm *m = a->vmm;
        struct tid_report rep = { (int32_t) syscall(SYS_gettid), (int32_t) a->idx };
        uint64_t st = m->seed ^ ((uint64_t) a->idx * 0x100000001b3ull) ^ 0x5bd1e995u;
        char name[16];
        unsigned round = 0;
        _cleanup_free_ void *zbuf = malloc(ZBUF_SIZE);
        _cleanup_close_ int zero_fd = open("/dev/zero", O_RDONLY | O_CLOEXEC);

        snprintf(name, sizeof(name), "CPU %u/KVM", a->idx);
        (void) prctl(PR_SET_NAME, name, 0, 0, 0);
        if (write(m->report_fd, &rep, sizeof(rep)) != sizeof(rep))
                return NULL;

        for (;;) {
                unsigned target;
                char c;
                ssize_t n = read(m->pipe[a->idx][0], &c, 1);

                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0 || c == 'Q' || atomic_load(&m->done))
                        break;
                if (c == 'B') {
                        /* everybody busy at once, more runnable threads than CPUs, and
                         * mostly inside the kernel (copying from /dev/zero) so that the
                         * tick preempts them there: sched_switch prev_state "R+" */
                        uint64_t end = mono_ns() + 15 * 1000000ull;

                        while (mono_ns() < end) {
                                if (zero_fd >= 0 && read(zero_fd, zbuf, ZBUF_SIZE) < 0)
                                        break;
                                spin_ns(20000);
                        }
                        continue;
                }

                st ^= st >> 12;
                st ^= st << 25;
                st ^= st >> 27;
                round++;
                spin_ns(100000 + (st >> 40) % 200000);         /* 100..300 us of "guest work" */
                if (round % 4 == 0)
                        sched_yield();
                if (round % 2 == 0)
                        sleep_ns(2000000 + (st >> 20) % 2000000); /* idle a little (timer wakeup) */
                if (atomic_load(&m->done))
                        break;

                target = (a->idx + 1) % m->desc->n_vcpus;
                if (m->desc->n_vcpus > 2 && round % 5 == 0)
                        target = (a->idx + 2) % m->desc->n_vcpus;
                put_token(m, target, 'T');
        }
        return NULL;
}

/* The child process: one fake VMM.  Reports its vCPU TIDs on @report_fd,
 * waits for a byte on @go_fd, runs the workload for @duration_ns. */
static int vmm_main(const struct vm_desc *d, int report_fd, int go_fd, uint64_t duration_ns, uint64_t seed) {
        struct vmm m = { .desc = d, .report_fd = report_fd, .seed = seed };
        struct vcpu_arg args[MAX_VCPUS];
        pthread_t t[MAX_VCPUS];
        uint64_t start;
        char c;

        (void) prctl(PR_SET_NAME, "qemu-system-x86", 0, 0, 0);
        (void) prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
        for (unsigned i = 0; i < d->n_vcpus; i++)
                if (pipe2(m.pipe[i], O_CLOEXEC) < 0)
                        return 1;
        for (unsigned i = 0; i < d->n_vcpus; i++) {
                args[i] = (struct vcpu_arg) { &m, i };
                if (pthread_create(&t[i], NULL, vcpu_main, &args[i]) != 0)
                        return 1;
        }

        while (read(go_fd, &c, 1) < 0 && errno == EINTR)
                ;
        start = mono_ns();
        for (unsigned k = 0; k < d->tokens; k++)
                put_token(&m, k * (d->n_vcpus / d->tokens), 'T');

        /* a burst of contention at 40% of the run */
        sleep_ns(duration_ns * 2 / 5);
        for (unsigned i = 0; i < d->n_vcpus; i++)
                put_token(&m, i, 'B');

        while (mono_ns() < start + duration_ns)
                sleep_ns(1000000);
        atomic_store(&m.done, 1);
        for (unsigned i = 0; i < d->n_vcpus; i++)
                put_token(&m, i, 'Q');
        for (unsigned i = 0; i < d->n_vcpus; i++)
                pthread_join(t[i], NULL);
        return 0;
}

static int thread_cmp(const void *a, const void *b) {
        const struct vthread *x = a, *y = b;

        return x->vm != y->vm ? (int) x->vm - (int) y->vm : (int) x->idx - (int) y->idx;
}

static int spawn_vmms(int go_fd_read, uint64_t duration_ns, uint64_t seed) {
        for (unsigned v = 0; v < N_VMS; v++) {
                int rep[2];
                pid_t pid;

                if (pipe2(rep, O_CLOEXEC) < 0)
                        return negative_errno();
                pid = fork();
                if (pid < 0)
                        return negative_errno();
                if (pid == 0) {
                        (void) close(rep[0]);
                        _exit(vmm_main(&vms[v], rep[1], go_fd_read, duration_ns, seed + v));
                }
                (void) close(rep[1]);
                vmm_pid[v] = pid;

                for (unsigned i = 0; i < vms[v].n_vcpus; i++) {
                        struct tid_report r;
                        struct vthread *t;

                        if (read(rep[0], &r, sizeof(r)) != sizeof(r) || r.idx < 0 ||
                            (unsigned) r.idx >= vms[v].n_vcpus) {
                                (void) close(rep[0]);
                                return -EIO;
                        }
                        t = &threads[n_threads++];
                        *t = (struct vthread) {
                                .tid = r.tid, .tgid = pid, .vm = v, .idx = (unsigned) r.idx,
                                .apic = vms[v].apic[r.idx],
                        };
                        snprintf(t->comm, sizeof(t->comm), "CPU %u/KVM", (unsigned) r.idx % 1000u);
                }
                (void) close(rep[0]);
        }
        qsort(threads, n_threads, sizeof(threads[0]), thread_cmp);   /* markers in a stable order */
        return 0;
}

static void kill_vmms(void) {
        for (unsigned v = 0; v < N_VMS; v++)
                if (vmm_pid[v] > 0) {
                        (void) kill(vmm_pid[v], SIGKILL);
                        (void) waitpid(vmm_pid[v], NULL, 0);
                        vmm_pid[v] = 0;
                }
}

static struct vthread *find_thread(int tid) {
        for (unsigned i = 0; i < n_threads; i++)
                if (threads[i].tid == tid)
                        return &threads[i];
        return NULL;
}

static struct vthread *find_vcpu(unsigned vm, int apic) {
        for (unsigned i = 0; i < n_threads; i++)
                if (threads[i].vm == vm && threads[i].apic == apic)
                        return &threads[i];
        return NULL;
}

/* ---------------------------------------------------------------- records */

struct rec {
        uint64_t ts;
        uint32_t size;
        bool synthetic;
        uint8_t *data;
};

struct cpu_recs {
        struct rec *r;
        size_t n, alloc;
};

static int recs_push(struct cpu_recs *c, uint64_t ts, const void *data, size_t size, bool synthetic) {
        if (c->n == c->alloc) {
                size_t n = c->alloc ? c->alloc * 2 : 1024;
                struct rec *q = realloc(c->r, n * sizeof(*q));

                if (!q)
                        return -ENOMEM;
                c->r = q;
                c->alloc = n;
        }
        c->r[c->n] = (struct rec) { .ts = ts, .size = (uint32_t) size, .synthetic = synthetic };
        c->r[c->n].data = malloc(size ? size : 1);
        if (!c->r[c->n].data)
                return -ENOMEM;
        memcpy(c->r[c->n].data, data, size);
        c->n++;
        return 0;
}

static void recs_free(struct cpu_recs *c) {
        for (size_t i = 0; i < c->n; i++)
                free(c->r[i].data);
        free(c->r);
        *c = (struct cpu_recs) {};
}

static int decode_pages(const void *pages, size_t size, size_t page_size, struct cpu_recs *out) {
        struct kbuffer *kb = kbuffer_alloc(KBUFFER_LSIZE_8, KBUFFER_ENDIAN_SAME_AS_HOST);
        int k = 0;

        if (!kb)
                return -ENOMEM;
        for (size_t off = 0; off < size && k >= 0; off += page_size) {
                unsigned long long ts;
                void *d;

                if (kbuffer_load_subbuffer(kb, (uint8_t *) pages + off) < 0) {
                        k = -EBADMSG;
                        break;
                }
                for (d = kbuffer_read_event(kb, &ts); d && k >= 0; d = kbuffer_next_event(kb, &ts))
                        k = recs_push(out, ts, d, (size_t) kbuffer_event_size(kb), false);
        }
        kbuffer_free(kb);
        return k;
}

/* ------------------------------------------------------- kvm record layout */

enum {
        K_APIC_IPI, K_EOI, K_PV_EOI, K_ENTRY, K_EXIT, K_PLE, K_HYPERCALL,
        K_VCPU_WAKEUP, K_AVIC_IPI, _K_MAX,
};

static const char *const kvm_names[_K_MAX] = {
        [K_APIC_IPI] = "kvm_apic_ipi",
        [K_EOI] = "kvm_eoi",
        [K_PV_EOI] = "kvm_pv_eoi",
        [K_ENTRY] = "kvm_entry",
        [K_EXIT] = "kvm_exit",
        [K_PLE] = "kvm_ple_window_update",
        [K_HYPERCALL] = "kvm_hypercall",
        [K_VCPU_WAKEUP] = "kvm_vcpu_wakeup",
        [K_AVIC_IPI] = "kvm_avic_incomplete_ipi",
};

static struct tep_event *kvm_ev[_K_MAX];
static uint64_t kvm_count[_K_MAX];

/* sizeof(struct trace_event_raw_<event>): end of the last field rounded up
 * to the largest scalar alignment, as the compiler lays out the kernel struct */
static size_t event_struct_size(struct tep_event *ev) {
        size_t end = 0, align = 1;

        for (int common = 0; common < 2; common++) {
                struct tep_format_field *f = common ? ev->format.common_fields : ev->format.fields;

                for (; f; f = f->next) {
                        size_t a = (f->flags & TEP_FIELD_IS_ARRAY) ? f->elementsize : (size_t) f->size;

                        if ((size_t) (f->offset + f->size) > end)
                                end = (size_t) (f->offset + f->size);
                        if (a > align && a <= 8 && !(f->flags & TEP_FIELD_IS_DYNAMIC))
                                align = a;
                }
        }
        return (end + align - 1) & ~(align - 1);
}

static int put_field(struct tep_event *ev, uint8_t *data, const char *name, uint64_t v) {
        struct tep_format_field *f = tep_find_any_field(ev, name);

        if (!f)
                return -ENOENT;
        switch (f->size) {
        case 1: { uint8_t x = (uint8_t) v; memcpy(data + f->offset, &x, 1); break; }
        case 2: { uint16_t x = (uint16_t) v; memcpy(data + f->offset, &x, 2); break; }
        case 4: { uint32_t x = (uint32_t) v; memcpy(data + f->offset, &x, 4); break; }
        case 8: memcpy(data + f->offset, &v, 8); break;
        default: return -EINVAL;
        }
        return 0;
}

/* A pending synthetic record: up to 6 named fields. */
struct syn {
        int kind;
        int tid;
        struct {
                const char *name;
                uint64_t v;
        } f[6];
};

static int syn_encode(const struct syn *s, uint8_t *buf, size_t *ret_size) {
        struct tep_event *ev = kvm_ev[s->kind];
        size_t size = event_struct_size(ev);
        int k;

        memset(buf, 0, size);
        k = put_field(ev, buf, "common_type", (uint64_t) ev->id);
        if (k >= 0)
                k = put_field(ev, buf, "common_pid", (uint64_t) (uint32_t) s->tid);
        /* vcpu_run: preemption disabled, entry/exit with IRQs off */
        if (k >= 0)
                k = put_field(ev, buf, "common_preempt_count", 1);
        if (k >= 0 && (s->kind == K_ENTRY || s->kind == K_EXIT))
                k = put_field(ev, buf, "common_flags", 1);
        for (size_t i = 0; k >= 0 && i < ELEMENTSOF(s->f) && s->f[i].name; i++)
                k = put_field(ev, buf, s->f[i].name, s->f[i].v);
        if (k < 0)
                return k;
        *ret_size = size;
        return 0;
}

/* -------------------------------------------------------------- synthesis */

/* kvm_exit reasons used; isa 2 = SVM (this host is AMD-like), one VMX record */
#define SVM_EXIT_INTR 0x060
#define SVM_EXIT_PAUSE 0x077
#define SVM_EXIT_HLT 0x078
#define SVM_EXIT_MSR 0x07c
#define SVM_EXIT_VMMCALL 0x081
#define SVM_EXIT_NPF 0x400
#define SVM_EXIT_AVIC_INCOMPLETE_IPI 0x401
#define SVM_EXIT_AVIC_UNACCEL 0x402
#define VMX_EXIT_PAUSE 40
#define ISA_VMX 1
#define ISA_SVM 2

#define ICR_LOGICAL (1u << 11)
#define ICR_ASSERT (1u << 14)
#define ICR_ALL_BUT_SELF (3u << 18)

/* Synthetic records of one gap between two real records on a CPU, in order:
 * head (right after the earlier record), mid (spread out), tail (right
 * before the later one). */
struct gap {
        struct syn head[8], mid[8], tail[8];
        unsigned nh, nm, nt;
};

static struct syn *gap_add(struct syn *arr, unsigned *n, unsigned max) {
        if (*n >= max)
                return NULL;
        arr[*n] = (struct syn) {};
        return &arr[(*n)++];
}
#define HEAD(g) gap_add((g)->head, &(g)->nh, ELEMENTSOF((g)->head))
#define MID(g) gap_add((g)->mid, &(g)->nm, ELEMENTSOF((g)->mid))
#define TAIL(g) gap_add((g)->tail, &(g)->nt, ELEMENTSOF((g)->tail))

static uint64_t guest_rip(void) {
        return 0xffffffff81000000ull + (rnd() % 0x800000) * 16;
}

static void syn_exit(struct syn *s, int tid, int apic, uint32_t reason, uint32_t isa) {
        if (!s)
                return;
        *s = (struct syn) { K_EXIT, tid, {
                { "exit_reason", reason }, { "guest_rip", guest_rip() }, { "isa", isa },
                { "info1", reason == SVM_EXIT_NPF ? 0x100000000ull | (rnd() % 4096) * 8 : 0 },
                { "vcpu_id", (uint64_t) apic },
        } };
}

static void syn_entry(struct syn *s, int tid, int apic) {
        if (!s)
                return;
        *s = (struct syn) { K_ENTRY, tid, { { "vcpu_id", (uint64_t) apic }, { "rip", guest_rip() } } };
}

static void syn_simple(struct syn *s, int kind, int tid, const char *n1, uint64_t v1, const char *n2, uint64_t v2,
                       const char *n3, uint64_t v3) {
        if (!s)
                return;
        *s = (struct syn) { kind, tid, { { n1, v1 }, { n2, v2 }, { n3, v3 } } };
}

struct synth_ctx {
        struct tep_handle *tep;
        struct tep_event *ev_switch, *ev_wakeup;
        uint64_t n_wakeups_ipi;
        bool did_vmx_pause, did_logical, did_allbutself, did_sparse, did_hc5, did_hc10, did_hc11, did_avic;
        unsigned gap_counter;
};

static int64_t field_val(struct tep_event *ev, const char *name, const void *data) {
        struct tep_format_field *f = tep_find_any_field(ev, name);
        unsigned long long v = 0;

        if (!f || tep_read_number_field(f, data, &v) < 0)
                return -1;
        if (f->size == 4 && (f->flags & TEP_FIELD_IS_SIGNED))
                return (int32_t) v;
        return (int64_t) v;
}

static int rec_type(struct synth_ctx *x, const struct rec *r) {
        uint16_t t;

        memcpy(&t, r->data, sizeof(t));
        return t;
}

static int rec_pid(const struct rec *r) {
        int32_t p;

        memcpy(&p, r->data + 4, sizeof(p));
        return p;
}

/* The sender side of a wakeup X -> Y: the IPI (or its paravirt form) in X's
 * context right before the sched_wakeup record. */
static void synth_ipi(struct synth_ctx *x, struct gap *g, struct vthread *X, struct vthread *Y) {
        unsigned n = (unsigned) x->n_wakeups_ipi++;
        uint32_t icr = IPI_VECTOR | ICR_ASSERT;
        uint32_t dest = (uint32_t) Y->apic;

        if (!x->did_hc10 && n == 3) {
                /* PV send-IPI: bitmap relative to the lowest APIC ID */
                uint64_t min = (uint64_t) (Y->apic < X->apic ? Y->apic : 0);

                syn_exit(TAIL(g), X->tid, X->apic, SVM_EXIT_VMMCALL, ISA_SVM);
                *TAIL(g) = (struct syn) { K_HYPERCALL, X->tid, {
                        { "nr", 10 }, { "a0", 1ull << (Y->apic - min) }, { "a1", 0 },
                        { "a2", min }, { "a3", IPI_VECTOR } } };
                x->did_hc10 = true;
                Y->ipi_pending = true;
                return;
        }
        if (!x->did_hc5 && n == 7) {
                /* PV kick of a halted vCPU: a0 flags, a1 APIC ID */
                syn_exit(TAIL(g), X->tid, X->apic, SVM_EXIT_VMMCALL, ISA_SVM);
                syn_simple(TAIL(g), K_HYPERCALL, X->tid, "nr", 5, "a0", 0, "a1", (uint64_t) Y->apic);
                x->did_hc5 = true;
                return;
        }
        if (!x->did_logical && n == 5) {
                icr |= ICR_LOGICAL;
                dest = 1u << Y->apic;
                x->did_logical = true;
        } else if (!x->did_allbutself && n >= 9 && vms[X->vm].n_vcpus == 2) {
                /* a 2-vCPU VM: all-but-self reaches exactly Y */
                icr |= ICR_ALL_BUT_SELF;
                dest = 0;
                x->did_allbutself = true;
        }

        if (!x->did_avic && n == 11) {
                /* AVIC could not deliver (target not running): the exit, then KVM emulates the ICR write */
                syn_exit(TAIL(g), X->tid, X->apic, SVM_EXIT_AVIC_INCOMPLETE_IPI, ISA_SVM);
                *TAIL(g) = (struct syn) { K_AVIC_IPI, X->tid, {
                        { "vcpu", (uint64_t) X->apic }, { "icrh", (uint64_t) Y->apic << 24 },
                        { "icrl", icr }, { "id", 1 /* AVIC_IPI_FAILURE_TARGET_NOT_RUNNING */ },
                        { "index", (uint64_t) Y->apic } } };
                x->did_avic = true;
        } else {
                syn_exit(TAIL(g), X->tid, X->apic, SVM_EXIT_MSR, ISA_SVM);  /* x2APIC ICR write */
        }
        syn_simple(TAIL(g), K_APIC_IPI, X->tid, "icr_low", icr, "dest_id", dest, NULL, 0);
        if (vms[Y->vm].apic[Y->idx] != (int) Y->idx)
                x->did_sparse = true;
        Y->ipi_pending = true;
}

/* Per-CPU position while merging: real record i of @in goes to @out
 * followed by the synthetic records of the gap after it. */
struct cursor {
        struct cpu_recs *in, *out;
        size_t i;
        int running;    /* tid current on this CPU after record i, -1 unknown */
};

/* Process one real record; called in global timestamp order so that the
 * per-thread state (slept, pending IPI) follows real time across CPUs. */
static int synth_step(struct synth_ctx *x, struct cursor *cu) {
        struct cpu_recs *in = cu->in, *out = cu->out;
        size_t i = cu->i++;
        int k;

        {
                struct rec *r = &in->r[i];
                struct rec *nx = i + 1 < in->n ? &in->r[i + 1] : NULL;
                int type = rec_type(x, r);
                struct vthread *cur;
                struct gap g = {};
                uint64_t t0 = r->ts, len;

                k = recs_push(out, r->ts, r->data, r->size, false);
                if (k < 0)
                        return k;

                if (type == x->ev_switch->id) {
                        struct vthread *prev = find_thread((int) field_val(x->ev_switch, "prev_pid", r->data));
                        int64_t state = field_val(x->ev_switch, "prev_state", r->data);

                        cu->running = (int) field_val(x->ev_switch, "next_pid", r->data);
                        if (prev && (state & 0xff) != 0) {
                                prev->slept = true;
                                prev->sleep_ts = r->ts;
                        }
                } else if (cu->running < 0) {
                        cu->running = rec_pid(r);
                }

                if (!nx)
                        return 0;
                cur = find_thread(cu->running);

                /* the records of the next real record's sender side go into the tail */
                if (nx && rec_type(x, nx) == x->ev_wakeup->id) {
                        struct vthread *X = find_thread(rec_pid(nx));
                        struct vthread *Y = find_thread((int) field_val(x->ev_wakeup, "pid", nx->data));

                        if (X && Y && X == cur && X->vm == Y->vm && X != Y)
                                synth_ipi(x, &g, X, Y);
                }

                if (cur) {
                        len = nx->ts - t0;

                        if (type == x->ev_switch->id && cu->running == cur->tid) {
                                /* switched in: wakeup from halt, VM entry, EOI of the pending IPI */
                                if (cur->slept)
                                        syn_simple(HEAD(&g), K_VCPU_WAKEUP, cur->tid,
                                                   "ns", r->ts - cur->sleep_ts, "waited", 1, "valid", 1);
                                cur->slept = false;
                                syn_entry(HEAD(&g), cur->tid, cur->apic);
                                if (cur->ipi_pending) {
                                        cur->ipi_pending = false;
                                        if (x->gap_counter % 3 == 2) {
                                                syn_exit(HEAD(&g), cur->tid, cur->apic, SVM_EXIT_INTR, ISA_SVM);
                                                syn_simple(HEAD(&g), K_PV_EOI, cur->tid, "apicid", (uint64_t) cur->apic,
                                                           "vector", IPI_VECTOR, NULL, 0);
                                        } else {
                                                syn_exit(HEAD(&g), cur->tid, cur->apic, SVM_EXIT_AVIC_UNACCEL, ISA_SVM);
                                                syn_simple(HEAD(&g), K_EOI, cur->tid, "apicid", (uint64_t) cur->apic,
                                                           "vector", IPI_VECTOR, NULL, 0);
                                        }
                                        syn_entry(HEAD(&g), cur->tid, cur->apic);
                                }
                        }

                        /* while running: exits and re-entries so vcpu_id <-> TID is learnable */
                        if (len > 100000 && x->gap_counter++ % 2 == 0) {
                                unsigned sel = (x->gap_counter / 2) % 6;

                                if (sel == 1 || sel == 4) {
                                        /* spinning on a lock: PAUSE exit, window grows, maybe yield */
                                        if (!x->did_vmx_pause && x->gap_counter > 30) {
                                                syn_exit(MID(&g), cur->tid, cur->apic, VMX_EXIT_PAUSE, ISA_VMX);
                                                x->did_vmx_pause = true;
                                        } else {
                                                syn_exit(MID(&g), cur->tid, cur->apic, SVM_EXIT_PAUSE, ISA_SVM);
                                        }
                                        *MID(&g) = (struct syn) { K_PLE, cur->tid, {
                                                { "vcpu_id", (uint64_t) cur->apic },
                                                { "old", 3000 }, { "new", 6000 } } };
                                        if (sel == 4) {
                                                struct vthread *other = find_vcpu(cur->vm,
                                                        vms[cur->vm].apic[(cur->idx + 1) % vms[cur->vm].n_vcpus]);

                                                syn_entry(MID(&g), cur->tid, cur->apic);
                                                syn_exit(MID(&g), cur->tid, cur->apic, SVM_EXIT_VMMCALL, ISA_SVM);
                                                syn_simple(MID(&g), K_HYPERCALL, cur->tid, "nr", 11,
                                                           "a0", other ? (uint64_t) other->apic : 0, NULL, 0);
                                                x->did_hc11 = true;
                                        }
                                        syn_entry(MID(&g), cur->tid, cur->apic);
                                } else {
                                        static const uint32_t reasons[] = { SVM_EXIT_NPF, SVM_EXIT_MSR, SVM_EXIT_INTR };

                                        syn_exit(MID(&g), cur->tid, cur->apic, reasons[rnd() % 3], ISA_SVM);
                                        syn_entry(MID(&g), cur->tid, cur->apic);
                                }
                        }

                        /* leaving the CPU: a HLT exit before sleeping, an interrupt exit when preempted */
                        if (rec_type(x, nx) == x->ev_switch->id &&
                            field_val(x->ev_switch, "prev_pid", nx->data) == cur->tid) {
                                int64_t state = field_val(x->ev_switch, "prev_state", nx->data);

                                syn_exit(TAIL(&g), cur->tid, cur->apic,
                                         (state & 0xff) ? SVM_EXIT_HLT : SVM_EXIT_INTR, ISA_SVM);
                        }
                }

                /* place the gap's records between r->ts and nx->ts */
                {
                        unsigned n = g.nh + g.nm + g.nt;
                        uint64_t gapns = nx->ts - r->ts, step, span;

                        if (n == 0)
                                return 0;
                        step = gapns / (n + 1);
                        if (step > 1500)
                                step = 1500;
                        span = gapns - step * (g.nh + g.nt + 1);
                        for (unsigned j = 0; j < n; j++) {
                                const struct syn *s;
                                uint64_t ts;
                                uint8_t buf[256];
                                size_t size;

                                if (j < g.nh) {
                                        s = &g.head[j];
                                        ts = r->ts + step * (j + 1);
                                } else if (j < g.nh + g.nm) {
                                        unsigned m = j - g.nh;

                                        s = &g.mid[m];
                                        ts = r->ts + step * g.nh + span * (m + 1) / (g.nm + 1);
                                } else {
                                        unsigned t = j - g.nh - g.nm;

                                        s = &g.tail[t];
                                        ts = nx->ts - step * (g.nt - t);
                                }
                                k = syn_encode(s, buf, &size);
                                if (k < 0)
                                        return k;
                                k = recs_push(out, ts, buf, size, true);
                                if (k < 0)
                                        return k;
                                kvm_count[s->kind]++;
                        }
                }
        }
        return 0;
}

static int synth_all(struct synth_ctx *x, struct cpu_recs *in, struct cpu_recs *out, unsigned n_cpus) {
        _cleanup_free_ struct cursor *cu = calloc(n_cpus, sizeof(*cu));

        if (!cu)
                return -ENOMEM;
        for (unsigned c = 0; c < n_cpus; c++)
                cu[c] = (struct cursor) { &in[c], &out[c], 0, -1 };
        for (;;) {
                struct cursor *best = NULL;
                int k;

                for (unsigned c = 0; c < n_cpus; c++)
                        if (cu[c].i < cu[c].in->n &&
                            (!best || cu[c].in->r[cu[c].i].ts < best->in->r[best->i].ts))
                                best = &cu[c];
                if (!best)
                        return 0;
                k = synth_step(x, best);
                if (k < 0)
                        return k;
        }
}

/* ------------------------------------------------------------------ output */

static int mkdir_p(const char *path) {
        _cleanup_free_ char *p = strdup(path);

        if (!p)
                return -ENOMEM;
        for (char *s = p + 1; *s; s++)
                if (*s == '/') {
                        *s = 0;
                        if (mkdir(p, 0755) < 0 && errno != EEXIST)
                                return negative_errno();
                        *s = '/';
                }
        if (mkdir(p, 0755) < 0 && errno != EEXIST)
                return negative_errno();
        return 0;
}

static int copy_file(const char *from, const char *to) {
        _cleanup_fclose_ FILE *in = NULL, *out = NULL;
        char buf[65536];
        size_t n;

        in = fopen(from, "re");
        if (!in)
                return negative_errno();
        out = fopen(to, "we");
        if (!out)
                return negative_errno();
        while ((n = fread(buf, 1, sizeof(buf), in)) > 0)
                if (fwrite(buf, 1, n, out) != n)
                        return -EIO;
        if (ferror(in) || fflush(out) != 0)
                return -EIO;
        return 0;
}

static int copy_formats(const char *events_dir, const char *const *events, const char *dest) {
        int k = mkdir_p(dest);

        for (unsigned i = 0; k >= 0 && i < 2; i++) {
                _cleanup_free_ char *a = NULL, *b = NULL;
                const char *f = i ? "header_event" : "header_page";

                if (asprintf(&a, "%s/%s", events_dir, f) < 0 || asprintf(&b, "%s/%s", dest, f) < 0)
                        return -ENOMEM;
                k = copy_file(a, b);
        }
        for (size_t i = 0; k >= 0 && events[i]; i++) {
                _cleanup_free_ char *rel = strdup(events[i]), *a = NULL, *d = NULL, *b = NULL;
                char *c;

                if (!rel)
                        return -ENOMEM;
                c = strchr(rel, ':');
                if (!c)
                        return -EINVAL;
                *c = '/';
                if (asprintf(&a, "%s/%s/format", events_dir, rel) < 0 || asprintf(&d, "%s/%s", dest, rel) < 0 ||
                    asprintf(&b, "%s/format", d) < 0)
                        return -ENOMEM;
                k = mkdir_p(d);
                if (k >= 0)
                        k = copy_file(a, b);
        }
        return k;
}

static int write_report(const char *dat, const char *txt, bool no_plugins) {
        pid_t pid;
        int status, fd;

        pid = fork();
        if (pid < 0)
                return negative_errno();
        if (pid == 0) {
                fd = open(txt, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
                if (fd < 0 || dup2(fd, STDOUT_FILENO) < 0)
                        _exit(126);
                if (no_plugins)
                        execlp("trace-cmd", "trace-cmd", "report", "-t", "-N", dat, (char *) NULL);
                else
                        execlp("trace-cmd", "trace-cmd", "report", "-t", dat, (char *) NULL);
                _exit(127);
        }
        if (waitpid(pid, &status, 0) < 0)
                return negative_errno();
        if (WIFEXITED(status) && WEXITSTATUS(status) == 127) {
                (void) unlink(txt);
                return -ENOENT;
        }
        return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -EIO;
}

/* saved_cmdlines without our fake threads (re-added with their final names) */
static char *build_cmdlines(const char *saved) {
        _cleanup_free_ char *out = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&out, &len);

        if (!f)
                return NULL;
        for (const char *p = saved ? saved : ""; *p;) {
                const char *e = strchrnul(p, '\n');
                int pid = atoi(p);
                bool ours = find_thread(pid) != NULL;

                for (unsigned v = 0; v < N_VMS; v++)
                        ours = ours || pid == vmm_pid[v];
                if (!ours && e > p)
                        fprintf(f, "%.*s\n", (int) (e - p), p);
                p = *e ? e + 1 : e;
        }
        for (unsigned v = 0; v < N_VMS; v++)
                fprintf(f, "%d qemu-system-x86\n", (int) vmm_pid[v]);
        for (unsigned i = 0; i < n_threads; i++)
                fprintf(f, "%d %s\n", threads[i].tid, threads[i].comm);
        if (fclose(f) != 0)
                return NULL;
        return TAKE_PTR(out);
}

/* -------------------------------------------------------------------- main */

static void help(void) {
        printf("vs-mktrace [OPTIONS]\n\n"
               "Record live sched events of two fake VMMs and add synthetic kvm records\n"
               "in this kernel's binary formats; writes PREFIX.dat and PREFIX.txt.\n\n"
               "  -o, --out PREFIX      output prefix (default tests/data/bundled)\n"
               "  -d, --duration SEC    workload duration (default 0.4)\n"
               "  -f, --formats DIR     copy the used format files to DIR (default: none)\n"
               "  -s, --seed N          seed of the synthetic choices (default 1)\n"
               "  -i, --instance NAME   tracefs instance (default vschedd-mktrace)\n"
               "  -N, --no-plugins      PREFIX.txt from `trace-cmd report -t -N` (kernel print formats)\n"
               "  -q, --quiet           no progress output\n"
               "  -h, --help\n");
}

int main(int argc, char **argv) {
        static const struct option longopts[] = {
                { "out", required_argument, NULL, 'o' },
                { "duration", required_argument, NULL, 'd' },
                { "formats", required_argument, NULL, 'f' },
                { "seed", required_argument, NULL, 's' },
                { "instance", required_argument, NULL, 'i' },
                { "quiet", no_argument, NULL, 'q' },
                { "no-plugins", no_argument, NULL, 'N' },
                { "help", no_argument, NULL, 'h' },
                {}
        };
        static const char *const rec_events[] = { "sched:sched_switch", "sched:sched_wakeup", NULL };
        const char *prefix = "tests/data/bundled", *formats = NULL, *instance = "vschedd-mktrace";
        const char *systems[] = { "sched", "kvm", "ftrace", NULL };
        _cleanup_recorder_ struct vs_recorder *rec = NULL;
        _cleanup_free_ char *dat = NULL, *txt = NULL, *events_dir = NULL, *cmdlines = NULL;
        _cleanup_free_ struct cpu_recs *in = NULL, *out = NULL;
        _cleanup_free_ struct vs_dat_cpu *cpus = NULL;
        _cleanup_free_ void **pagebufs = NULL;
        struct vs_recorder_options ropts = { .events = rec_events };
        struct tep_handle *tep = NULL;
        struct synth_ctx x = {};
        const char *all_events[32];
        double duration = 0.4;
        bool no_plugins = false;
        uint64_t seed = 1, duration_ns, n_real = 0, n_syn = 0;
        unsigned n_cpus, n_all = 0;
        size_t page_size;
        struct sigaction sa = { .sa_handler = on_signal };
        int go[2] = { -1, -1 }, c, k;

        progress = isatty(STDERR_FILENO);
        while ((c = getopt_long(argc, argv, "o:d:f:s:i:qNh", longopts, NULL)) >= 0)
                switch (c) {
                case 'o': prefix = optarg; break;
                case 'd': duration = strtod(optarg, NULL); break;
                case 'f': formats = optarg; break;
                case 's': seed = strtoull(optarg, NULL, 0); break;
                case 'i': instance = optarg; break;
                case 'q': progress = false; break;
                case 'N': no_plugins = true; break;
                case 'h': help(); return 0;
                default: return 2;
                }
        if (duration <= 0.05 || duration > 600) {
                fprintf(stderr, "vs-mktrace: --duration must be in (0.05, 600] seconds\n");
                return 2;
        }
        duration_ns = (uint64_t) (duration * 1e9);
        rnd_state = 0x9e3779b97f4a7c15ull + seed * 0xbf58476d1ce4e5b9ull;
        if (rnd_state == 0)
                rnd_state = 1;
        if (asprintf(&dat, "%s.dat", prefix) < 0 || asprintf(&txt, "%s.txt", prefix) < 0)
                return 1;

        (void) sigaction(SIGINT, &sa, NULL);
        (void) sigaction(SIGTERM, &sa, NULL);
        (void) sigaction(SIGHUP, &sa, NULL);

        ropts.instance = instance;
        ropts.buffer_kb = 4096;
        k = vs_recorder_new(&ropts, &rec);
        if (k < 0) {
                fprintf(stderr, "vs-mktrace: cannot set up tracefs instance '%s': %s\n", instance, strerror(-k));
                return 1;
        }

        if (pipe2(go, O_CLOEXEC) < 0) {
                perror("vs-mktrace: pipe");
                return 1;
        }
        k = spawn_vmms(go[0], duration_ns, seed);
        if (k < 0) {
                fprintf(stderr, "vs-mktrace: cannot start the fake VMMs: %s\n", strerror(-k));
                kill_vmms();
                return 1;
        }

        k = vs_recorder_start(rec);
        for (unsigned i = 0; k >= 0 && i < n_threads; i++)
                k = vs_recorder_markf(rec, "vschedd-topology: tid=%d tgid=%d apic=%d vm=%s comm=%s",
                                      threads[i].tid, threads[i].tgid, threads[i].apic,
                                      vms[threads[i].vm].name, threads[i].comm);
        if (k < 0) {
                fprintf(stderr, "vs-mktrace: cannot start recording: %s\n", strerror(-k));
                kill_vmms();
                return 1;
        }
        for (unsigned v = 0; v < N_VMS; v++)
                if (write(go[1], "g", 1) != 1)
                        k = -EIO;

        {
                uint64_t start = mono_ns(), end = start + duration_ns + 50000000ull;

                while (k >= 0 && !stop_flag && mono_ns() < end) {
                        k = vs_recorder_run(rec, 100000000ull, 20, &stop_flag);
                        if (progress)
                                fprintf(stderr, "\rvs-mktrace: recording %.1f/%.1f s", (mono_ns() - start) / 1e9,
                                        duration);
                }
                if (progress)
                        fputc('\n', stderr);
        }
        kill_vmms();
        if (k >= 0)
                k = vs_recorder_stop(rec);
        if (k < 0 || stop_flag) {
                fprintf(stderr, "vs-mktrace: recording %s\n", stop_flag ? "interrupted" : strerror(-k));
                return 1;
        }
        if (vs_recorder_lost(rec) > 0)
                fprintf(stderr, "vs-mktrace: warning: the kernel dropped %" PRIu64 " events\n", vs_recorder_lost(rec));

        /* decode the live pages, with the formats of this kernel */
        if (asprintf(&events_dir, "%s/events", tracefs_tracing_dir()) < 0)
                return 1;
        tep = tracefs_local_events_system(NULL, systems);
        if (!tep) {
                fprintf(stderr, "vs-mktrace: cannot load the event formats\n");
                return 1;
        }
        x.tep = tep;
        x.ev_switch = tep_find_event_by_name(tep, "sched", "sched_switch");
        x.ev_wakeup = tep_find_event_by_name(tep, "sched", "sched_wakeup");
        for (unsigned i = 0; i < _K_MAX; i++) {
                kvm_ev[i] = tep_find_event_by_name(tep, "kvm", kvm_names[i]);
                if (!kvm_ev[i]) {
                        fprintf(stderr, "vs-mktrace: this kernel has no kvm:%s format\n", kvm_names[i]);
                        tep_free(tep);
                        return 1;
                }
        }
        if (!x.ev_switch || !x.ev_wakeup) {
                tep_free(tep);
                return 1;
        }

        n_cpus = vs_recorder_n_cpus(rec);
        page_size = vs_recorder_page_size(rec);
        in = calloc(n_cpus, sizeof(*in));
        out = calloc(n_cpus, sizeof(*out));
        cpus = calloc(n_cpus, sizeof(*cpus));
        pagebufs = calloc(n_cpus, sizeof(void *));
        if (!in || !out || !cpus || !pagebufs)
                return 1;

        for (unsigned cpu = 0; cpu < n_cpus; cpu++) {
                const void *data;
                size_t size;

                (void) vs_recorder_cpu_data(rec, cpu, &data, &size);
                k = decode_pages(data, size, page_size, &in[cpu]);
                if (k < 0)
                        break;
                n_real += in[cpu].n;
                /* sanity: our struct-size rule must reproduce the kernel's record sizes */
                for (size_t i = 0; i < in[cpu].n; i++) {
                        struct tep_event *e = rec_type(&x, &in[cpu].r[i]) == x.ev_switch->id ? x.ev_switch :
                                              rec_type(&x, &in[cpu].r[i]) == x.ev_wakeup->id ? x.ev_wakeup : NULL;

                        if (e && ((event_struct_size(e) + 3) & ~(size_t) 3) != in[cpu].r[i].size) {
                                fprintf(stderr, "vs-mktrace: %s record is %u bytes, layout says %zu\n",
                                        e->name, in[cpu].r[i].size, event_struct_size(e));
                                k = -EBADMSG;
                        }
                }
                if (k < 0)
                        break;
        }
        if (k >= 0)
                k = synth_all(&x, in, out, n_cpus);

        /* re-encode in the kernel's page format */
        for (unsigned cpu = 0; k >= 0 && cpu < n_cpus; cpu++) {
                _cleanup_rb_writer_ struct vs_rb_writer w = {};

                k = vs_rb_writer_init(&w, page_size);
                for (size_t i = 0; k >= 0 && i < out[cpu].n; i++) {
                        k = vs_rb_writer_add(&w, out[cpu].r[i].ts, out[cpu].r[i].data, out[cpu].r[i].size);
                        n_syn += out[cpu].r[i].synthetic;
                }
                if (k >= 0) {
                        pagebufs[cpu] = vs_rb_writer_steal(&w, &cpus[cpu].size);
                        cpus[cpu].data = pagebufs[cpu];
                }
        }
        if (k < 0) {
                fprintf(stderr, "vs-mktrace: building the trace failed: %s\n", strerror(-k));
                goto finish;
        }

        /* every event that appears */
        all_events[n_all++] = "ftrace:print";
        all_events[n_all++] = "sched:sched_switch";
        all_events[n_all++] = "sched:sched_wakeup";
        for (unsigned i = 0; i < _K_MAX; i++) {
                static char names[_K_MAX][64];

                snprintf(names[i], sizeof(names[i]), "kvm:%s", kvm_names[i]);
                all_events[n_all++] = names[i];
        }
        all_events[n_all] = NULL;

        cmdlines = build_cmdlines(vs_recorder_cmdlines(rec));
        {
                struct vs_dat_info info = {
                        .events_dir = events_dir,
                        .events = all_events,
                        .page_size = page_size,
                        .n_cpus = n_cpus,
                        .cpus = cpus,
                        .cmdlines = cmdlines,
                        .kallsyms = vs_recorder_kallsyms(rec),
                        .trace_clock = vs_recorder_trace_clock(rec),
                };

                k = vs_dat_write(dat, &info);
        }
        if (k < 0) {
                fprintf(stderr, "vs-mktrace: cannot write %s: %s\n", dat, strerror(-k));
                goto finish;
        }
        if (formats) {
                k = copy_formats(events_dir, all_events, formats);
                if (k < 0) {
                        fprintf(stderr, "vs-mktrace: cannot copy formats to %s: %s\n", formats, strerror(-k));
                        goto finish;
                }
        }
        (void) vs_recorder_destroy_instance(rec);

        k = write_report(dat, txt, no_plugins);
        if (k == -ENOENT)
                fprintf(stderr, "vs-mktrace: trace-cmd not installed, %s not written\n", txt);
        else if (k < 0)
                fprintf(stderr, "vs-mktrace: trace-cmd report failed for %s\n", dat);

        fprintf(stderr, "vs-mktrace: %s: %" PRIu64 " real records, %" PRIu64 " synthetic kvm records, %u cpus\n",
                dat, n_real, n_syn, n_cpus);
        {
                for (unsigned i = 0; i < _K_MAX; i++)
                        fprintf(stderr, "  kvm:%-24s %" PRIu64 "\n", kvm_names[i], kvm_count[i]);
                fprintf(stderr, "  ipi wakeups %" PRIu64 ", sparse-apic ipi %s, logical %s, all-but-self %s, "
                        "hc5 %s, hc10 %s, hc11 %s, avic %s, vmx pause %s\n",
                        x.n_wakeups_ipi, x.did_sparse ? "yes" : "NO", x.did_logical ? "yes" : "NO",
                        x.did_allbutself ? "yes" : "NO", x.did_hc5 ? "yes" : "NO", x.did_hc10 ? "yes" : "NO",
                        x.did_hc11 ? "yes" : "NO", x.did_avic ? "yes" : "NO", x.did_vmx_pause ? "yes" : "NO");
        }
        k = (x.did_sparse && x.did_logical && x.did_allbutself && x.did_hc5 && x.did_hc10 && x.did_hc11 &&
             x.did_avic && x.did_vmx_pause) ? 0 : -EAGAIN;
        if (k < 0)
                fprintf(stderr, "vs-mktrace: warning: not every record kind could be placed; run longer\n");

finish:
        for (unsigned cpu = 0; cpu < n_cpus; cpu++) {
                recs_free(&in[cpu]);
                recs_free(&out[cpu]);
                free(pagebufs[cpu]);
        }
        tep_free(tep);
        return k < 0 && k != -EAGAIN ? 1 : (k == -EAGAIN ? 3 : 0);
}
