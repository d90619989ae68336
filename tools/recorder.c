/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include <tracefs.h>

#include "dat-writer.h"
#include "fileio.h"
#include "mono-clock.h"
#include "recorder.h"

struct cpu_buf {
        struct tracefs_cpu *tcpu;
        uint8_t *data;
        size_t len, alloc;
};

struct vs_recorder {
        struct tracefs_instance *inst;
        bool instance_alive;
        bool started, stopped;
        char *events_dir;
        char **events;          /* NULL-terminated */
        size_t n_events;
        unsigned n_cpus;
        struct cpu_buf *cpu;
        size_t page_size;
        void *scratch;
        int marker_fd;
        char *cmdlines;
        char *trace_clock;
        char *kallsyms;
        uint64_t lost;
};

static int add_event(struct vs_recorder *r, const char *sys, const char *event) {
        char **e;

        for (size_t i = 0; i < r->n_events; i++) {
                size_t n = strlen(sys);

                if (strncmp(r->events[i], sys, n) == 0 && r->events[i][n] == ':' &&
                    strcmp(r->events[i] + n + 1, event) == 0)
                        return 0;
        }
        e = realloc(r->events, (r->n_events + 2) * sizeof(char *));
        if (!e)
                return -ENOMEM;
        r->events = e;
        if (asprintf(&r->events[r->n_events], "%s:%s", sys, event) < 0) {
                r->events[r->n_events] = NULL;
                return -ENOMEM;
        }
        r->events[++r->n_events] = NULL;
        return 0;
}

/* The /proc/kallsyms lines of tracing_mark_write and the symbol after it, so
 * that readers print ftrace:print's ip by name.  Nothing when the addresses
 * are hidden (kptr_restrict) or the symbol is not there. */
static char *marker_kallsyms(void) {
        _cleanup_fclose_ FILE *f = NULL;
        char line[512], first[512] = "";
        unsigned long long addr = 0;
        char *s;

        f = fopen("/proc/kallsyms", "re");
        if (!f)
                return NULL;
        while (fgets(line, sizeof(line), f)) {
                unsigned long long a = strtoull(line, NULL, 16);

                if (!first[0]) {
                        const char *name = strrchr(line, ' ');

                        if (a != 0 && name && strcmp(name, " tracing_mark_write\n") == 0) {
                                snprintf(first, sizeof(first), "%s", line);
                                addr = a;
                        }
                        continue;
                }
                if (a > addr) {
                        if (asprintf(&s, "%s%s", first, line) < 0)
                                return NULL;
                        return s;
                }
        }
        return first[0] ? strdup(first) : NULL;
}

static int refresh_meta(struct vs_recorder *r) {
        _cleanup_free_ char *path = NULL;
        char *s;
        int r2;

        /* saved_cmdlines exists only at the top level; reading it does not touch the buffer */
        if (asprintf(&path, "%s/saved_cmdlines", tracefs_tracing_dir()) < 0)
                return -ENOMEM;
        r2 = vs_read_file(path, &s, NULL);
        if (r2 >= 0) {
                free(r->cmdlines);
                r->cmdlines = s;
        }
        s = tracefs_instance_file_read(r->inst, "trace_clock", NULL);
        if (s) {
                free(r->trace_clock);
                r->trace_clock = s;
        }

        r->lost = 0;
        for (unsigned c = 0; c < r->n_cpus; c++) {
                _cleanup_free_ char *stats = NULL, *rel = NULL;
                const char *o;

                if (asprintf(&rel, "per_cpu/cpu%u/stats", c) < 0)
                        return -ENOMEM;
                stats = tracefs_instance_file_read(r->inst, rel, NULL);
                if (stats && (o = strstr(stats, "overrun: ")))
                        r->lost += strtoull(o + 9, NULL, 10);
        }
        return 0;
}

int vs_recorder_new(const struct vs_recorder_options *opts, struct vs_recorder **ret) {
        _cleanup_recorder_ struct vs_recorder *r = NULL;
        _cleanup_free_ char *marker = NULL;
        long ncpu;
        int k;

        if (!opts || !opts->instance || !*opts->instance || strchr(opts->instance, '/') || !ret)
                return -EINVAL;
        if (!tracefs_tracing_dir())
                return -ENOENT;
        if (tracefs_instance_exists(opts->instance) && !opts->replace_stale)
                return -EEXIST;

        r = calloc(1, sizeof(*r));
        if (!r)
                return -ENOMEM;
        r->marker_fd = -1;

        r->inst = tracefs_instance_create(opts->instance);
        if (!r->inst)
                return negative_errno();
        r->instance_alive = true;

        if (tracefs_trace_off(r->inst) < 0)
                return negative_errno();
        if (opts->buffer_kb > 0 && tracefs_instance_set_buffer_size(r->inst, opts->buffer_kb, -1) < 0)
                return negative_errno();

        r->events_dir = tracefs_instance_get_file(r->inst, "events");
        if (!r->events_dir)
                return -ENOMEM;

        for (size_t i = 0; opts->events && opts->events[i]; i++) {
                _cleanup_free_ char *sys = strdup(opts->events[i]);
                char *event;

                if (!sys)
                        return -ENOMEM;
                event = strchr(sys, ':');
                if (!event || event == sys || !event[1])
                        return -EINVAL;
                *event++ = 0;
                if (strcmp(sys, "ftrace") == 0)
                        continue;       /* not enable-able; print is added below */
                if (!tracefs_event_file_exists(r->inst, sys, event, "enable"))
                        continue;
                if (tracefs_event_enable(r->inst, sys, event) < 0)
                        return negative_errno();
                k = add_event(r, sys, event);
                if (k < 0)
                        return k;
        }
        if (r->n_events == 0)
                return -ENOMEDIUM;
        k = add_event(r, "ftrace", "print");
        if (k < 0)
                return k;

        marker = tracefs_instance_get_file(r->inst, "trace_marker");
        if (!marker)
                return -ENOMEM;
        r->marker_fd = open(marker, O_WRONLY | O_CLOEXEC);
        if (r->marker_fd < 0)
                return negative_errno();

        ncpu = sysconf(_SC_NPROCESSORS_CONF);
        if (ncpu <= 0)
                return -EIO;
        r->n_cpus = (unsigned) ncpu;
        r->cpu = calloc(r->n_cpus, sizeof(*r->cpu));
        if (!r->cpu)
                return -ENOMEM;
        for (unsigned c = 0; c < r->n_cpus; c++) {
                r->cpu[c].tcpu = tracefs_cpu_open(r->inst, (int) c, true);
                if (!r->cpu[c].tcpu)
                        return negative_errno();
        }
        k = tracefs_cpu_read_size(r->cpu[0].tcpu);
        if (k <= 0)
                return -EIO;
        r->page_size = (size_t) k;
        r->scratch = calloc(1, r->page_size);
        if (!r->scratch)
                return -ENOMEM;

        k = refresh_meta(r);
        if (k < 0)
                return k;
        r->kallsyms = marker_kallsyms();

        *ret = TAKE_PTR(r);
        return 0;
}

int vs_recorder_destroy_instance(struct vs_recorder *r) {
        int k = 0;

        if (!r)
                return 0;
        for (unsigned c = 0; r->cpu && c < r->n_cpus; c++)
                if (r->cpu[c].tcpu) {
                        tracefs_cpu_close(r->cpu[c].tcpu);
                        r->cpu[c].tcpu = NULL;
                }
        if (r->marker_fd >= 0) {
                (void) close(r->marker_fd);
                r->marker_fd = -1;
        }
        if (r->inst && r->instance_alive) {
                (void) tracefs_trace_off(r->inst);
                if (tracefs_instance_destroy(r->inst) < 0)
                        k = negative_errno();
                r->instance_alive = false;
        }
        return k;
}

void vs_recorder_free(struct vs_recorder *r) {
        if (!r)
                return;
        (void) vs_recorder_destroy_instance(r);
        if (r->inst)
                tracefs_instance_free(r->inst);
        for (unsigned c = 0; r->cpu && c < r->n_cpus; c++)
                free(r->cpu[c].data);
        free(r->cpu);
        for (size_t i = 0; i < r->n_events; i++)
                free(r->events[i]);
        free(r->events);
        tracefs_put_tracing_file(r->events_dir);
        free(r->scratch);
        free(r->cmdlines);
        free(r->trace_clock);
        free(r->kallsyms);
        free(r);
}

int vs_recorder_start(struct vs_recorder *r) {
        if (!r->instance_alive)
                return -ESTALE;
        if (tracefs_trace_on(r->inst) < 0)
                return negative_errno();
        r->started = true;
        return 0;
}

int vs_recorder_marker_fd(struct vs_recorder *r) {
        return r->marker_fd;
}

int vs_recorder_mark(struct vs_recorder *r, const char *text) {
        size_t len = strlen(text);
        ssize_t n;

        if (r->marker_fd < 0)
                return -ESTALE;
        n = write(r->marker_fd, text, len);
        if (n < 0)
                return negative_errno();
        return (size_t) n == len ? 0 : -EIO;
}

int vs_recorder_markf(struct vs_recorder *r, const char *fmt, ...) {
        _cleanup_free_ char *s = NULL;
        va_list ap;
        int k;

        va_start(ap, fmt);
        k = vasprintf(&s, fmt, ap);
        va_end(ap);
        if (k < 0)
                return -ENOMEM;
        return vs_recorder_mark(r, s);
}

static int append_page(struct cpu_buf *b, const void *page, size_t len, size_t page_size) {
        if (b->len + page_size > b->alloc) {
                size_t n = b->alloc ? b->alloc * 2 : 64 * page_size;
                uint8_t *q = realloc(b->data, n);

                if (!q)
                        return -ENOMEM;
                b->data = q;
                b->alloc = n;
        }
        memcpy(b->data + b->len, page, len);
        memset(b->data + b->len + len, 0, page_size - len);
        b->len += page_size;
        return 0;
}

/* Read pages of one CPU; @flush takes the partial page too (after tracing is off). */
static int drain_cpu(struct vs_recorder *r, unsigned c, bool flush) {
        struct cpu_buf *b = &r->cpu[c];
        int pages = 0;

        if (!b->tcpu)
                return 0;
        for (;;) {
                int n, k;

                errno = 0;
                if (flush)
                        n = tracefs_cpu_flush(b->tcpu, r->scratch);
                else
                        n = tracefs_cpu_buffered_read(b->tcpu, r->scratch, true);
                if (n <= 0) {
                        if (n < 0 && errno != EAGAIN && errno != EINTR && errno != ENODATA && errno != 0)
                                return negative_errno();
                        return pages;
                }
                if ((size_t) n > r->page_size)
                        return -EIO;
                k = append_page(b, r->scratch, (size_t) n, r->page_size);
                if (k < 0)
                        return k;
                pages++;
        }
}

int vs_recorder_poll(struct vs_recorder *r) {
        int total = 0;

        if (r->stopped)
                return 0;
        for (unsigned c = 0; c < r->n_cpus; c++) {
                int k = drain_cpu(r, c, false);

                if (k < 0)
                        return k;
                total += k;
        }
        return total;
}

int vs_recorder_run(struct vs_recorder *r, uint64_t duration_ns, unsigned interval_ms,
                    const volatile sig_atomic_t *stop) {
        uint64_t end = duration_ns ? vs_mono_ns() + duration_ns : 0;
        int total = 0;

        if (interval_ms == 0)
                interval_ms = 100;
        for (;;) {
                struct timespec ts = { interval_ms / 1000, (long) (interval_ms % 1000) * 1000000L };
                int k = vs_recorder_poll(r);

                if (k < 0)
                        return k;
                total += k;
                if ((stop && *stop) || (end && vs_mono_ns() >= end))
                        return total;
                (void) nanosleep(&ts, NULL);
        }
}

int vs_recorder_stop(struct vs_recorder *r) {
        if (r->stopped)
                return 0;
        if (!r->instance_alive)
                return -ESTALE;
        if (tracefs_trace_off(r->inst) < 0)
                return negative_errno();
        r->stopped = true;
        for (unsigned c = 0; c < r->n_cpus; c++) {
                int k = drain_cpu(r, c, false);

                if (k >= 0)
                        k = drain_cpu(r, c, true);
                if (k < 0)
                        return k;
        }
        return refresh_meta(r);
}

unsigned vs_recorder_n_cpus(const struct vs_recorder *r) {
        return r->n_cpus;
}

size_t vs_recorder_page_size(const struct vs_recorder *r) {
        return r->page_size;
}

int vs_recorder_cpu_data(const struct vs_recorder *r, unsigned cpu, const void **ret_data, size_t *ret_size) {
        if (cpu >= r->n_cpus)
                return -ERANGE;
        *ret_data = r->cpu[cpu].data;
        *ret_size = r->cpu[cpu].len;
        return 0;
}

const char *const *vs_recorder_events(const struct vs_recorder *r) {
        return (const char *const *) r->events;
}

const char *vs_recorder_events_dir(const struct vs_recorder *r) {
        return r->events_dir;
}

const char *vs_recorder_cmdlines(const struct vs_recorder *r) {
        return r->cmdlines;
}

const char *vs_recorder_trace_clock(const struct vs_recorder *r) {
        return r->trace_clock;
}

const char *vs_recorder_kallsyms(const struct vs_recorder *r) {
        return r->kallsyms;
}

uint64_t vs_recorder_lost(const struct vs_recorder *r) {
        return r->lost;
}

int vs_recorder_write_dat(struct vs_recorder *r, const char *path, const char *extra_cmdlines) {
        _cleanup_free_ struct vs_dat_cpu *cpus = NULL;
        _cleanup_free_ char *cmdlines = NULL, *uts = NULL;
        struct utsname u;
        struct vs_dat_info info;

        if (!r->instance_alive)
                return -ESTALE;         /* the format files live in the instance */
        cpus = calloc(r->n_cpus, sizeof(*cpus));
        if (!cpus)
                return -ENOMEM;
        for (unsigned c = 0; c < r->n_cpus; c++)
                cpus[c] = (struct vs_dat_cpu) { r->cpu[c].data, r->cpu[c].len };
        if (asprintf(&cmdlines, "%s%s", r->cmdlines ? r->cmdlines : "", extra_cmdlines ? extra_cmdlines : "") < 0)
                return -ENOMEM;
        if (uname(&u) == 0 && asprintf(&uts, "%s %s %s %s", u.sysname, u.release, u.version, u.machine) < 0)
                return -ENOMEM;

        info = (struct vs_dat_info) {
                .events_dir = r->events_dir,
                .events = (const char *const *) r->events,
                .page_size = r->page_size,
                .n_cpus = r->n_cpus,
                .cpus = cpus,
                .cmdlines = cmdlines,
                .kallsyms = r->kallsyms,
                .trace_clock = r->trace_clock,
                .uname = uts,
        };
        return vs_dat_write(path, &info);
}
