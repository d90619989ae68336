/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * source-live.c - live events from a private tracefs instance.
 *
 * Owns the tracefs instance (default "vschedd"): creates it (removing a stale
 * one a killed predecessor left), enables only the events this kernel has,
 * reads the per-CPU raw buffers (trace_pipe_raw) page by page, and removes
 * the instance on free.  Never touches the top-level buffer other tools use.
 *
 * Records of all CPUs are merged by timestamp among the pages read so far;
 * a record arriving later on an idle CPU may be a little out of order
 * across CPUs, never within a CPU.
 *
 * Volume control: kvm_exit fires on every VM exit, so it is filtered in the
 * kernel to PAUSE exits; kvm_entry (needed only to learn vcpu_id <-> TID) is
 * enabled for a learning window and then switched off; vs_source_live_relearn()
 * opens a new window when topology meets a vCPU thread it cannot place.
 * sched_switch and sched_wakeup are filtered in the kernel to vCPU threads
 * (trace-filter.h: VMM thread names, plus the TIDs vs_source_live_watch_tids()
 * names), so the switches of every other task on the host are neither
 * written nor read; a host with no VM costs next to nothing to watch.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include <traceevent/event-parse.h>
#include <traceevent/kbuffer.h>
#include <tracefs/tracefs.h>

#include "macro.h"
#include "mono-clock.h"
#include "source-internal.h"
#include "dat-writer.h"
#include "tep-decode.h"
#include "trace-filter.h"

struct live_cpu {
        int cpu;
        int fd;
        struct tracefs_cpu *tcpu;
        struct kbuffer *kbuf;
        void *page;
        bool loaded;            /* kbuf holds a page with a current record */
        void *rec;              /* current record data, or NULL */
        unsigned long long ts;
        uint64_t empty_at;      /* CLOCK_MONOTONIC ns of its last empty read, 0 = none */
        uint64_t pages;
        /* --record: copies of every page read, whole pages */
        uint8_t *rec_buf;
        size_t rec_size, rec_cap;
};

struct live_source {
        struct vs_source s;     /* must be first */
        struct tracefs_instance *inst;
        char *name;
        struct tep_handle *tep;
        struct vs_tep_decoder *dec;
        struct live_cpu *cpus;
        int ncpus;
        int epfd;
        int page_size;
        bool keep_instance;
        const char *enabled[24];
        unsigned n_enabled;
        bool entry_on;
        bool sched_filtered;    /* the sched filters are in place */
        bool sched_paused;      /* sched events off: no vCPU thread to watch */
        int32_t *watch_tids;    /* the TIDs in the sched filters, sorted */
        size_t n_watch_tids;
        uint64_t entry_off_at;  /* CLOCK_MONOTONIC ns when the learning window closes */
        uint64_t learn_ns;
        size_t record_max;      /* bytes of pages kept for --record, 0 = not recording */
        size_t recorded;
        bool record_full;
        bool mono;              /* the instance's trace_clock is "mono": comparable with vs_mono_ns() */
        bool pid_fork;          /* options/event-fork is on (set_event_pid in use) */
        char *events_dir;
};

/* Events we subscribe to; kvm ones are optional (no KVM on this kernel). */
static const struct {
        const char *system, *event, *alt;
        bool required;
} wanted[] = {
        { "sched", "sched_switch", NULL, true },
        { "sched", "sched_wakeup", NULL, false },
        { "kvm", "kvm_apic_ipi", NULL, false },
        { "kvm", "kvm_eoi", NULL, false },
        { "kvm", "kvm_pv_eoi", NULL, false },
        { "kvm", "kvm_exit", NULL, false },
        { "kvm", "kvm_entry", NULL, false },
        { "kvm", "kvm_hypercall", NULL, false },
        { "kvm", "kvm_ple_window_update", "kvm_ple_window", false },
        { "kvm", "kvm_avic_incomplete_ipi", NULL, false },
        { "kvm", "kvm_vcpu_wakeup", NULL, false },
        { "kvm", "kvm_directed_yield", NULL, false },   /* kernel/ patch only */
};

static void set_err(struct vs_source *s, int r, const char *what) {
        snprintf(s->error, sizeof(s->error), "%s: %s", what, strerror(r < 0 ? -r : r));
}

static void live_free(struct vs_source *src) {
        struct live_source *l = (struct live_source *) src;

        if (l->inst) {
                /* Stop writers first so nothing is left half-enabled if destroy fails. */
                (void) tracefs_trace_off(l->inst);
                (void) tracefs_event_disable(l->inst, NULL, NULL);
        }
        for (int i = 0; l->cpus && i < l->ncpus; i++) {
                if (l->cpus[i].tcpu)
                        tracefs_cpu_free_fd(l->cpus[i].tcpu);
                if (l->cpus[i].fd >= 0)
                        close(l->cpus[i].fd);
                if (l->cpus[i].kbuf)
                        kbuffer_free(l->cpus[i].kbuf);
                free(l->cpus[i].page);
                free(l->cpus[i].rec_buf);
        }
        free(l->cpus);
        free(l->watch_tids);
        if (l->epfd >= 0)
                close(l->epfd);
        vs_tep_decoder_free(l->dec);
        if (l->tep)
                tep_free(l->tep);
        if (l->inst) {
                if (!l->keep_instance)
                        (void) tracefs_instance_destroy(l->inst);
                tracefs_instance_free(l->inst);
        }
        free(l->name);
        free(l->events_dir);
        free(l);
}

static void keep_page(struct live_source *l, struct live_cpu *c) {
        if (l->recorded + l->page_size > l->record_max) {
                l->record_full = true;
                return;
        }
        if (c->rec_size + l->page_size > c->rec_cap) {
                size_t cap = c->rec_cap ? c->rec_cap * 2 : (size_t) l->page_size * 64;
                uint8_t *n = realloc(c->rec_buf, cap);
                if (!n) {
                        l->record_full = true;
                        return;
                }
                c->rec_buf = n;
                c->rec_cap = cap;
        }
        memcpy(c->rec_buf + c->rec_size, c->page, l->page_size);
        c->rec_size += l->page_size;
        l->recorded += l->page_size;
}

/* Load the next page of @c that holds a record into its kbuffer; false when
 * the CPU has nothing now.  A page without records (only padding or a time
 * extend, or one that does not parse) does not mean the CPU is drained:
 * the next page is read at once. */
static bool load_page(struct live_source *l, struct live_cpu *c) {
        for (;;) {
                int n, missed;

                n = tracefs_cpu_read(c->tcpu, c->page, true);
                if (n <= 0)
                        return false;
                if (n < l->page_size)
                        memset((uint8_t *) c->page + n, 0, l->page_size - n);
                if (l->record_max && !l->record_full)
                        keep_page(l, c);
                if (kbuffer_load_subbuffer(c->kbuf, c->page) < 0) {
                        l->s.stats.malformed++;
                        continue;
                }
                c->pages++;
                missed = kbuffer_missed_events(c->kbuf);
                if (missed > 0)
                        l->s.stats.lost += missed;
                c->rec = kbuffer_read_event(c->kbuf, &c->ts);
                if (c->rec)
                        return true;
        }
}

/*
 * Enable or disable exactly one event of the instance through its own
 * events/SYSTEM/EVENT/enable file.  Not tracefs_event_enable(): it takes
 * system and event as regular expressions and looks at every system and
 * event directory of tracefs to match them (3000+ lookups on a Debian
 * kernel: 0.3 s of a 0.5 s start here, and most of a 5 s start in the nested
 * testbed, where eventfs lookups are slow), and we always name one event.
 */
static int event_set(struct tracefs_instance *inst, const char *system, const char *event, bool on) {
        char path[256];

        if (snprintf(path, sizeof(path), "events/%s/%s/enable", system, event) >= (int) sizeof(path))
                return -ENAMETOOLONG;
        errno = 0;
        if (tracefs_instance_file_write(inst, path, on ? "1" : "0") < 0)
                return negative_errno();
        return 0;
}

static void learning_window(struct live_source *l) {
        if (!l->entry_on || l->learn_ns == 0)
                return;
        if (vs_mono_ns() < l->entry_off_at)
                return;
        (void) event_set(l->inst, "kvm", "kvm_entry", false);
        l->entry_on = false;
}

/* Try to load a page of a CPU that has no current record; remember when it
 * was found empty (with the mono trace clock: anything written to it later
 * has a later timestamp). */
static bool refill(struct live_source *l, struct live_cpu *c) {
        if (load_page(l, c)) {
                c->empty_at = 0;
                return true;
        }
        c->empty_at = l->mono ? vs_mono_ns() : 0;
        return false;
}

/*
 * The oldest record of all CPUs, merged by timestamp.  A CPU found empty is
 * not read again while the record about to be returned is older than the
 * moment it was found empty: whatever it holds now was written later, so the
 * merge order is the same, and draining a backlog on one CPU no longer costs
 * a failed read(2) of every idle CPU per record (it did: most of vschedd's
 * time at 100 k events/s went to those reads).
 */
static int live_next(struct vs_source *src, struct vs_event *ev) {
        struct live_source *l = (struct live_source *) src;

        learning_window(l);
        for (;;) {
                struct live_cpu *best = NULL;
                int k, size;
                void *data;

                for (int i = 0; i < l->ncpus; i++) {
                        struct live_cpu *c = &l->cpus[i];
                        if (!c->rec && (c->empty_at || !refill(l, c)))
                                continue;
                        if (!best || c->ts < best->ts)
                                best = c;
                }
                for (int i = 0; i < l->ncpus; i++) {
                        struct live_cpu *c = &l->cpus[i];
                        if (c->rec || !c->empty_at || (best && best->ts < c->empty_at))
                                continue;
                        if (refill(l, c) && (!best || c->ts < best->ts))
                                best = c;
                }
                if (!best)
                        return 0;
                data = best->rec;
                size = kbuffer_event_size(best->kbuf);
                k = vs_tep_decode(l->dec, data, size, best->ts, best->cpu,
                                  kbuffer_curr_offset(best->kbuf), &l->s, ev);
                best->rec = kbuffer_next_event(best->kbuf, &best->ts);
                if (k != 0)
                        return k;
        }
}

static int live_fd(struct vs_source *src) {
        return ((struct live_source *) src)->epfd;
}

static const struct vs_source_ops live_ops = {
        .next = live_next,
        .fd = live_fd,
        .free = live_free,
};

int vs_source_live_relearn(struct vs_source *src, unsigned ms) {
        struct live_source *l = (struct live_source *) src;
        int r;

        if (src->kind != VS_SOURCE_LIVE)
                return -EINVAL;
        if (!tracefs_event_file_exists(l->inst, "kvm", "kvm_entry", "enable"))
                return -EOPNOTSUPP;
        r = event_set(l->inst, "kvm", "kvm_entry", true);
        if (r < 0)
                return r;
        l->entry_on = true;
        l->learn_ns = (uint64_t) ms * 1000000ull;
        l->entry_off_at = vs_mono_ns() + l->learn_ns;
        return 0;
}

const char *const *vs_source_live_events(struct vs_source *src) {
        struct live_source *l = (struct live_source *) src;
        return src->kind == VS_SOURCE_LIVE ? l->enabled : NULL;
}

int vs_source_live_update_lost(struct vs_source *src) {
        struct live_source *l = (struct live_source *) src;
        uint64_t total = 0;

        if (src->kind != VS_SOURCE_LIVE)
                return -EINVAL;
        for (int i = 0; i < l->ncpus; i++) {
                char path[64];
                _cleanup_free_ char *stats = NULL;
                const char *p;

                snprintf(path, sizeof(path), "per_cpu/cpu%d/stats", l->cpus[i].cpu);
                stats = tracefs_instance_file_read(l->inst, path, NULL);
                if (!stats)
                        continue;
                p = strstr(stats, "overrun:");
                if (p)
                        total += strtoull(p + 8, NULL, 10);
                p = strstr(stats, "dropped events:");
                if (p)
                        total += strtoull(p + 15, NULL, 10);
        }
        if (total > l->s.stats.lost)
                l->s.stats.lost = total;
        return 0;
}

/*
 * A tep holding only the formats we decode.  tracefs_local_events_system()
 * would also parse every event of the systems and load /proc/kallsyms
 * (megabytes, seconds under ASan) that a decoder of fixed fields never uses.
 */
static int load_formats(struct live_source *l) {
        struct tep_handle *tep = tep_alloc();
        _cleanup_free_ char *hp = NULL;
        int size = 0;

        if (!tep)
                return -ENOMEM;
        tep_set_long_size(tep, sizeof(long));
        tep_set_page_size(tep, getpagesize());
        tep_set_file_bigendian(tep, tep_is_local_bigendian(tep) ? TEP_BIG_ENDIAN : TEP_LITTLE_ENDIAN);
        hp = tracefs_instance_file_read(NULL, "events/header_page", &size);
        if (hp && size > 0)
                (void) tep_parse_header_page(tep, hp, size, sizeof(long));
        for (size_t i = 0; i < ELEMENTSOF(wanted); i++) {
                for (int alt = 0; alt < 2; alt++) {
                        const char *ev = alt ? wanted[i].alt : wanted[i].event;
                        _cleanup_free_ char *fmt = NULL;
                        int n = 0;

                        if (!ev)
                                continue;
                        fmt = tracefs_event_file_read(NULL, wanted[i].system, ev, "format", &n);
                        if (!fmt || n <= 0)
                                continue;
                        (void) tep_parse_event(tep, fmt, n, wanted[i].system);
                }
        }
        /* topology markers written into our own trace_marker (--record) */
        {
                _cleanup_free_ char *fmt = NULL;
                int n = 0;
                fmt = tracefs_event_file_read(NULL, "ftrace", "print", "format", &n);
                if (fmt && n > 0)
                        (void) tep_parse_event(tep, fmt, n, "ftrace");
        }
        l->tep = tep;
        return 0;
}

/* Write the vCPU filter of sched event @ev ("sched_switch"/"sched_wakeup"). */
static int set_sched_filter(struct live_source *l, const char *ev, const int32_t *tids, size_t n) {
        char f[VS_TRACE_FILTER_MAX + 1], path[64];
        enum vs_trace_filter_event which;
        int r;

        if (strcmp(ev, "sched_switch") == 0)
                which = VS_TF_SCHED_SWITCH;
        else if (strcmp(ev, "sched_wakeup") == 0)
                which = VS_TF_SCHED_WAKEUP;
        else
                return -EINVAL;
        r = vs_trace_filter_vcpus(which, tids, n, f, sizeof(f));
        if (r < 0)
                return r;
        snprintf(path, sizeof(path), "events/sched/%s/filter", ev);
        errno = 0;
        if (tracefs_instance_file_write(l->inst, path, f) < 0)
                return negative_errno();
        return 0;
}

static int cmp_tid(const void *a, const void *b) {
        int32_t x = *(const int32_t *) a, y = *(const int32_t *) b;
        return (x > y) - (x < y);
}

int vs_source_live_watch_tids(struct vs_source *src, const int32_t *tids, size_t n) {
        struct live_source *l = (struct live_source *) src;
        _cleanup_free_ int32_t *sorted = NULL;
        size_t m = 0;
        int r = 0;

        if (src->kind != VS_SOURCE_LIVE)
                return -EINVAL;
        if (n > 0) {
                sorted = malloc(n * sizeof(*sorted));
                if (!sorted)
                        return -ENOMEM;
                for (size_t i = 0; i < n; i++)
                        if (tids[i] > 0)
                                sorted[m++] = tids[i];
                qsort(sorted, m, sizeof(*sorted), cmp_tid);
                size_t k = 0;
                for (size_t i = 0; i < m; i++)                  /* unique */
                        if (k == 0 || sorted[i] != sorted[k - 1])
                                sorted[k++] = sorted[i];
                m = k;
        }
        if (l->sched_filtered && m == l->n_watch_tids &&
            (m == 0 || memcmp(sorted, l->watch_tids, m * sizeof(*sorted)) == 0))
                return 0;       /* unchanged: no tracefs write */
        for (size_t i = 0; i < l->n_enabled; i++) {
                const char *ev = l->enabled[i];
                int k;

                if (strcmp(ev, "sched_switch") != 0 && strcmp(ev, "sched_wakeup") != 0)
                        continue;
                k = set_sched_filter(l, ev, sorted, m);
                if (k == -E2BIG) {
                        /* too many odd-named vCPU threads for one filter: watch every task */
                        char path[64];
                        snprintf(path, sizeof(path), "events/sched/%s/filter", ev);
                        (void) tracefs_instance_file_write(l->inst, path, "0");
                }
                if (k < 0 && r == 0)
                        r = k;
        }
        l->sched_filtered = r == 0;
        free(l->watch_tids);
        l->watch_tids = r == 0 ? TAKE_PTR(sorted) : NULL;
        l->n_watch_tids = r == 0 ? m : 0;
        return r;
}

/* The TIDs of the instance's set_event_pid (sorted, unique) into @ret. */
static int read_event_pids(struct live_source *l, int32_t **ret, size_t *ret_n) {
        _cleanup_free_ char *text = NULL;
        _cleanup_free_ int32_t *v = NULL;
        size_t n = 0, cap = 0;
        int size = 0;

        errno = 0;
        text = tracefs_instance_file_read(l->inst, "set_event_pid", &size);
        if (!text)
                return errno ? negative_errno() : 0;    /* empty: nothing listed */
        for (char *p = text, *end; *p; p = end) {
                long t;

                while (*p == ' ' || *p == '\n' || *p == '\t')
                        p++;
                if (!*p)
                        break;
                errno = 0;
                t = strtol(p, &end, 10);
                if (end == p || errno || t <= 0 || t > INT32_MAX)
                        return -EBADMSG;
                if (n == cap) {
                        size_t c = cap ? cap * 2 : 64;
                        int32_t *nv = realloc(v, c * sizeof(*nv));
                        if (!nv)
                                return -ENOMEM;
                        v = nv;
                        cap = c;
                }
                v[n++] = (int32_t) t;
        }
        if (n)
                qsort(v, n, sizeof(*v), cmp_tid);
        *ret = TAKE_PTR(v);
        *ret_n = n;
        return 0;
}

int vs_source_live_watch_pids(struct vs_source *src, const int32_t *tids, size_t n) {
        struct live_source *l = (struct live_source *) src;
        _cleanup_free_ int32_t *have = NULL;
        _cleanup_free_ char *add = NULL;
        size_t n_have = 0, len = 0, cap = 0;
        int r;

        if (!src || src->kind != VS_SOURCE_LIVE)
                return -EINVAL;
        if (!l->pid_fork) {
                /* exited threads leave the list by themselves (sched_process_free) */
                if (tracefs_option_enable(l->inst, TRACEFS_OPTION_EVENT_FORK) < 0)
                        return -EOPNOTSUPP;
                l->pid_fork = true;
        }
        r = read_event_pids(l, &have, &n_have);
        if (r < 0)
                return r;
        for (size_t i = 0; i < n; i++) {
                int32_t t = tids[i];

                if (t <= 0 || (n_have && bsearch(&t, have, n_have, sizeof(*have), cmp_tid)))
                        continue;
                if (len + 16 > cap) {
                        size_t c = cap ? cap * 2 : 256;
                        char *na = realloc(add, c);
                        if (!na)
                                return -ENOMEM;
                        add = na;
                        cap = c;
                }
                len += (size_t) snprintf(add + len, cap - len, "%d ", t);
        }
        if (!len)
                return 0;
        errno = 0;
        if (tracefs_instance_file_append(l->inst, "set_event_pid", add) < 0)
                return errno ? negative_errno() : -EIO;
        return 1;
}

int vs_source_live_sched_pause(struct vs_source *src, bool paused) {
        struct live_source *l = (struct live_source *) src;
        int r = 0;

        if (!src || src->kind != VS_SOURCE_LIVE)
                return -EINVAL;
        if (l->sched_paused == paused)
                return 0;
        for (size_t i = 0; i < l->n_enabled; i++) {
                const char *ev = l->enabled[i];
                int k;

                if (strcmp(ev, "sched_switch") != 0 && strcmp(ev, "sched_wakeup") != 0)
                        continue;
                k = event_set(l->inst, "sched", ev, !paused);
                if (k < 0 && r == 0)
                        r = k;
        }
        if (r == 0)
                l->sched_paused = paused;
        return r;
}

int vs_source_live_stop(struct vs_source *src) {
        struct live_source *l = (struct live_source *) src;

        if (!src || src->kind != VS_SOURCE_LIVE)
                return -EINVAL;
        errno = 0;
        if (tracefs_trace_off(l->inst) < 0)
                return negative_errno();
        return 0;
}

bool vs_source_live_sched_filtered(struct vs_source *src) {
        return src->kind == VS_SOURCE_LIVE && ((struct live_source *) src)->sched_filtered;
}

static int enable_events(struct live_source *l) {
        for (size_t i = 0; i < ELEMENTSOF(wanted); i++) {
                const char *ev = wanted[i].event;

                if (!tracefs_event_file_exists(l->inst, wanted[i].system, ev, "enable")) {
                        if (wanted[i].alt && tracefs_event_file_exists(l->inst, wanted[i].system,
                                                                       wanted[i].alt, "enable"))
                                ev = wanted[i].alt;
                        else if (wanted[i].required) {
                                snprintf(l->s.error, sizeof(l->s.error),
                                         "tracepoint %s:%s does not exist on this kernel",
                                         wanted[i].system, ev);
                                return -EOPNOTSUPP;
                        } else
                                continue;
                }
                if (strcmp(wanted[i].system, "sched") == 0 &&
                    set_sched_filter(l, ev, NULL, 0) == 0)
                        l->sched_filtered = true;
                const char *f = vs_trace_filter_fixed(wanted[i].system, ev);
                if (f) {
                        char path[128];
                        snprintf(path, sizeof(path), "events/%s/%s/filter", wanted[i].system, ev);
                        if (tracefs_instance_file_write(l->inst, path, f) < 0 && strcmp(ev, "kvm_exit") == 0)
                                continue;   /* every VM exit would flood the buffer: do without PAUSE exits */
                }
                int r = event_set(l->inst, wanted[i].system, ev, true);
                if (r < 0) {
                        if (wanted[i].required) {
                                set_err(&l->s, r, "enabling sched:sched_switch");
                                return r;
                        }
                        continue;
                }
                if (strcmp(ev, "kvm_entry") == 0)
                        l->entry_on = true;
                if (l->n_enabled < ELEMENTSOF(l->enabled) - 1)
                        l->enabled[l->n_enabled++] = ev;
        }
        return 0;
}

static int open_cpus(struct live_source *l) {
        long n = sysconf(_SC_NPROCESSORS_CONF);

        if (n <= 0)
                n = 1;
        l->cpus = calloc(n, sizeof(*l->cpus));
        if (!l->cpus)
                return -ENOMEM;
        l->epfd = epoll_create1(EPOLL_CLOEXEC);
        if (l->epfd < 0)
                return negative_errno();
        l->page_size = getpagesize();
        for (long i = 0; i < n; i++) {
                struct live_cpu *c = &l->cpus[l->ncpus];
                char path[64];

                snprintf(path, sizeof(path), "per_cpu/cpu%ld/trace_pipe_raw", i);
                c->cpu = (int) i;
                c->fd = tracefs_instance_file_open(l->inst, path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
                if (c->fd < 0)
                        continue;       /* offline / absent CPU */
                c->tcpu = tracefs_cpu_alloc_fd(c->fd, l->page_size, true);
                c->kbuf = kbuffer_alloc(sizeof(long) == 8 ? KBUFFER_LSIZE_8 : KBUFFER_LSIZE_4,
                                        KBUFFER_ENDIAN_SAME_AS_HOST);
                c->page = malloc(l->page_size);
                if (!c->tcpu || !c->kbuf || !c->page) {
                        if (c->tcpu)
                                tracefs_cpu_free_fd(c->tcpu);
                        close(c->fd);
                        if (c->kbuf)
                                kbuffer_free(c->kbuf);
                        free(c->page);
                        memset(c, 0, sizeof(*c));
                        return -ENOMEM;
                }
                struct epoll_event ee = { .events = EPOLLIN, .data.u32 = (uint32_t) i };
                (void) epoll_ctl(l->epfd, EPOLL_CTL_ADD, c->fd, &ee);
                l->ncpus++;
        }
        if (l->ncpus == 0) {
                snprintf(l->s.error, sizeof(l->s.error), "no per-CPU trace_pipe_raw in the tracefs instance");
                return -ENODEV;
        }
        return 0;
}

int vs_source_live_open(const struct vs_live_options *opts, struct vs_source **ret, char *err, size_t errlen) {
        struct vs_live_options o = {};
        struct live_source *l;
        const char *dir = NULL;
        int r;

        if (opts)
                o = *opts;
        if (!o.instance)
                o.instance = "vschedd";

        l = calloc(1, sizeof(*l));
        if (!l)
                return -ENOMEM;
        l->s.ops = &live_ops;
        l->s.kind = VS_SOURCE_LIVE;
        l->epfd = -1;
        l->keep_instance = o.keep_instance;
        l->learn_ns = 5000ull * 1000000ull;
        l->record_max = o.record_max_mb ? (size_t) o.record_max_mb << 20 : 0;
        l->name = strdup(o.instance);
        if (!l->name) {
                r = -ENOMEM;
                goto fail;
        }

        if (o.tracefs) {
                _cleanup_free_ char *t = strdup(o.tracefs);
                if (!t || tracefs_set_tracing_dir(t) < 0) {
                        r = t ? negative_errno() : -ENOMEM;
                        set_err(&l->s, r, o.tracefs);
                        goto fail;
                }
        } else if (tracefs_tracing_dir_is_mounted(true, &dir) < 0) {
                r = negative_errno();
                set_err(&l->s, r, "mounting tracefs at /sys/kernel/tracing");
                goto fail;
        }

        if (tracefs_instance_exists(l->name)) {
                /* A predecessor was killed before it could clean up. */
                struct tracefs_instance *stale = tracefs_instance_create(l->name);
                if (stale) {
                        (void) tracefs_event_disable(stale, NULL, NULL);
                        (void) tracefs_instance_destroy(stale);
                        tracefs_instance_free(stale);
                }
        }
        l->inst = tracefs_instance_create(l->name);
        if (!l->inst) {
                r = negative_errno();
                set_err(&l->s, r, "creating tracefs instance");
                goto fail;
        }
        (void) tracefs_trace_off(l->inst);
        /* CLOCK_MONOTONIC timestamps (ktime_get_mono_fast_ns): comparable
         * with our own clock, which live_next() uses to skip idle CPUs, and
         * one clock for every CPU.  An instance that refuses keeps "local". */
        l->mono = tracefs_instance_file_write(l->inst, "trace_clock", "mono") > 0;
        if (o.buffer_kb > 0)
                (void) tracefs_instance_set_buffer_size(l->inst, o.buffer_kb, -1);

        r = load_formats(l);
        if (r < 0) {
                set_err(&l->s, r, "reading event formats from tracefs");
                goto fail;
        }
        r = vs_tep_decoder_new(l->tep, &l->dec);
        if (r < 0)
                goto fail;
        r = enable_events(l);
        if (r < 0)
                goto fail;
        if (l->entry_on)
                l->entry_off_at = vs_mono_ns() + l->learn_ns;
        r = open_cpus(l);
        if (r < 0)
                goto fail;
        if (asprintf(&l->events_dir, "%s/events", tracefs_tracing_dir()) < 0) {
                l->events_dir = NULL;
                r = -ENOMEM;
                goto fail;
        }
        if (tracefs_trace_on(l->inst) < 0) {
                r = negative_errno();
                set_err(&l->s, r, "tracing_on");
                goto fail;
        }
        *ret = &l->s;
        return 0;
fail:
        if (!l->s.error[0])
                set_err(&l->s, r, "live source");
        if (err && errlen)
                snprintf(err, errlen, "%s", l->s.error);
        live_free(&l->s);
        return r;
}

int vs_source_live_mark(struct vs_source *src, const char *text) {
        struct live_source *l = (struct live_source *) src;

        if (src->kind != VS_SOURCE_LIVE || !text)
                return -EINVAL;
        if (tracefs_instance_file_write(l->inst, "trace_marker", text) < 0)
                return negative_errno();
        return 0;
}

/* A whole small file from the top-level tracefs dir, or NULL. */
static char *read_top(const char *file) {
        int size = 0;
        return tracefs_instance_file_read(NULL, file, &size);
}

int vs_source_live_write_dat(struct vs_source *src, const char *path, const char *extra_cmdlines,
                             bool *ret_truncated) {
        struct live_source *l = (struct live_source *) src;
        _cleanup_free_ struct vs_dat_cpu *cpus = NULL;
        _cleanup_free_ char *saved = NULL, *cmdlines = NULL, *clock = NULL;
        const char *events[ELEMENTSOF(l->enabled) + 2];
        char names[ELEMENTSOF(l->enabled)][96];
        unsigned n = 0, max_cpu = 0;
        struct utsname u;
        char uts[4 * 65 + 4] = "";

        if (src->kind != VS_SOURCE_LIVE || !l->record_max)
                return -EINVAL;
        for (unsigned i = 0; i < l->n_enabled; i++) {
                const char *sys = strncmp(l->enabled[i], "sched_", 6) == 0 ? "sched" : "kvm";
                snprintf(names[n], sizeof(names[n]), "%s:%s", sys, l->enabled[i]);
                events[n] = names[n];
                n++;
        }
        events[n++] = "ftrace:print";
        events[n] = NULL;

        /* CPUs are numbered as in the kernel: a .dat has one slot per CPU up to the highest. */
        for (int i = 0; i < l->ncpus; i++)
                if ((unsigned) l->cpus[i].cpu + 1 > max_cpu)
                        max_cpu = l->cpus[i].cpu + 1;
        cpus = calloc(max_cpu ? max_cpu : 1, sizeof(*cpus));
        if (!cpus)
                return -ENOMEM;
        for (int i = 0; i < l->ncpus; i++)
                cpus[l->cpus[i].cpu] = (struct vs_dat_cpu) { l->cpus[i].rec_buf, l->cpus[i].rec_size };

        saved = read_top("saved_cmdlines");
        if (asprintf(&cmdlines, "%s%s", saved ? saved : "", extra_cmdlines ? extra_cmdlines : "") < 0)
                return -ENOMEM;
        clock = tracefs_instance_file_read(l->inst, "trace_clock", NULL);
        if (uname(&u) == 0)
                snprintf(uts, sizeof(uts), "%s %s %s %s", u.sysname, u.release, u.version, u.machine);

        struct vs_dat_info info = {
                .events_dir = l->events_dir,
                .events = events,
                .page_size = l->page_size,
                .n_cpus = max_cpu,
                .cpus = cpus,
                .cmdlines = cmdlines,
                .trace_clock = clock,
                .uname = uts[0] ? uts : NULL,
        };
        if (ret_truncated)
                *ret_truncated = l->record_full;
        return vs_dat_write(path, &info);
}
