/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * source-dat.c - trace-cmd .dat files through libtracecmd.
 *
 * libtracecmd parses the file's headers, format files and per-CPU page
 * sections; we pull records per CPU with tracecmd_read_data() and merge the
 * CPUs by timestamp ourselves (one peeked record per CPU), so the output is
 * globally time ordered like `trace-cmd report`.  Decoding is tep-decode.c,
 * the same code the live source runs.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <signal.h>
#include <unistd.h>

#include <trace-cmd/trace-cmd.h>

#include "dat-layout.h"
#include "macro.h"
#include "source.h"
#include "tep-decode.h"

/* Threads we already told topology about (open addressing, tid > 0). */
struct tid_set {
        int32_t *slots;
        size_t cap, n;
};

struct dat_source {
        struct vs_source s;     /* must be first */
        struct tracecmd_input *in;
        struct tep_handle *tep;
        struct vs_tep_decoder *dec;
        struct tep_record **peek; /* one pending record per CPU */
        int ncpus;
        struct tid_set seen;
        uint64_t file_size;
};

static void dat_free(struct vs_source *src) {
        struct dat_source *d = (struct dat_source *) src;

        if (d->peek) {
                for (int i = 0; i < d->ncpus; i++)
                        if (d->peek[i])
                                tracecmd_free_record(d->peek[i]);
                free(d->peek);
        }
        vs_tep_decoder_free(d->dec);
        free(d->seen.slots);
        if (d->in)
                tracecmd_close(d->in);
        free(d);
}

static int tid_set_add(struct tid_set *t, int32_t tid) {
        if (t->n * 2 >= t->cap) {
                size_t ncap = t->cap ? t->cap * 2 : 256;
                int32_t *ns = calloc(ncap, sizeof(*ns));
                if (!ns)
                        return -ENOMEM;
                for (size_t i = 0; i < t->cap; i++) {
                        if (t->slots[i] <= 0)
                                continue;
                        size_t h = ((uint32_t) t->slots[i] * 2654435761u) & (ncap - 1);
                        while (ns[h])
                                h = (h + 1) & (ncap - 1);
                        ns[h] = t->slots[i];
                }
                free(t->slots);
                t->slots = ns;
                t->cap = ncap;
        }
        size_t h = ((uint32_t) tid * 2654435761u) & (t->cap - 1);
        while (t->slots[h]) {
                if (t->slots[h] == tid)
                        return 0;
                h = (h + 1) & (t->cap - 1);
        }
        t->slots[h] = tid;
        t->n++;
        return 1;
}

/* The .dat's saved cmdlines name threads that may never appear in a
 * sched_switch (e.g. a vCPU seen only through kvm events): announce each
 * thread's comm the first time one of its events shows up. */
static void announce(struct dat_source *d, int32_t tid) {
        const char *comm;

        if (tid <= 0 || !d->s.thread_cb || tid_set_add(&d->seen, tid) <= 0)
                return;
        comm = tep_data_comm_from_pid(d->tep, tid);
        if (!comm || comm[0] == '<')    /* "<...>": not in the cmdlines */
                return;
        struct vs_thread_info ti = { .tid = tid, .tgid = -1, .comm = comm, .apic_id = -1 };
        vs_source_emit_thread(&d->s, &ti);
}

static void announce_event(struct dat_source *d, const struct vs_event *ev) {
        announce(d, ev->tid);
        if (ev->type == VS_EV_SWITCH) {
                announce(d, ev->sw.prev_tid);
                announce(d, ev->sw.next_tid);
        } else if (ev->type == VS_EV_WAKEUP)
                announce(d, ev->wakeup.wakee_tid);
}

static int dat_next(struct vs_source *src, struct vs_event *ev) {
        struct dat_source *d = (struct dat_source *) src;

        for (;;) {
                int best = -1;
                struct tep_record *r;
                int k;

                for (int i = 0; i < d->ncpus; i++) {
                        if (!d->peek[i])
                                continue;
                        if (best < 0 || d->peek[i]->ts < d->peek[best]->ts)
                                best = i;
                }
                if (best < 0)
                        return 0;
                r = d->peek[best];
                d->peek[best] = tracecmd_read_data(d->in, best);
                if (r->missed_events > 0)
                        d->s.stats.lost += r->missed_events;
                k = vs_tep_decode(d->dec, r->data, r->size, r->ts, best, r->offset, &d->s, ev);
                tracecmd_free_record(r);
                if (k > 0)
                        announce_event(d, ev);
                if (k != 0)
                        return k;
        }
}

static uint64_t dat_progress(struct vs_source *src, uint64_t *total) {
        struct dat_source *d = (struct dat_source *) src;
        uint64_t pos = 0;

        *total = d->file_size;
        for (int i = 0; i < d->ncpus; i++)
                if (d->peek[i] && d->peek[i]->offset > pos)
                        pos = d->peek[i]->offset;
        return pos;
}


/* The file mapped for the layout checks (map NULL: not a regular file). */
struct dat_map {
        void *map;
        uint64_t size;
        struct vs_dat_info info;
};

static void dat_unmap(struct dat_map *m) {
        if (m->map)
                munmap(m->map, m->size);
        m->map = NULL;
}

/* Map @path and check its layout (dat-layout.h) before libtracecmd sees it. */
static int dat_precheck(const char *path, struct dat_map *m, char *err, size_t errlen) {
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
        struct stat st;
        void *map;
        int r;

        if (fd < 0)
                return negative_errno();
        if (fstat(fd, &st) < 0)
                return negative_errno();
        if (!S_ISREG(st.st_mode))
                return 0;       /* a pipe or device: nothing to check up front */
        if (st.st_size < 16)
                return vs_dat_check_layout(NULL, (uint64_t) st.st_size, 0, NULL, err, errlen);
        map = mmap(NULL, st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
        if (map == MAP_FAILED)
                return negative_errno();
        r = vs_dat_check_layout(map, (uint64_t) st.st_size, 0, &m->info, err, errlen);
        if (r < 0) {
                munmap(map, st.st_size);
                return r;
        }
        m->map = map;
        m->size = (uint64_t) st.st_size;
        return 0;
}

static const struct vs_source_ops dat_ops = {
        .next = dat_next,
        .free = dat_free,
        .progress = dat_progress,
};


/*
 * Walk every ring-buffer page the way kbuffer will (dat-layout.h).  kbuffer
 * reads a page's commit word with the size libtracecmd takes from the
 * header_page text's "commit" field, not the file header's long size (they
 * differ for a 32-bit trace-cmd on a 64-bit kernel, or in a corrupt file).
 * That size comes from libtraceevent's own parser, tep_parse_header_page(),
 * the call libtracecmd makes; it runs here in the child because the text is
 * hostile.  Returns 0, or -EBADMSG with @err set.
 */
static int child_check_pages(const struct dat_map *m, char *err, size_t errlen) {
        const struct vs_dat_info *info = &m->info;
        struct tep_handle *tep;
        unsigned page_long;
        char *text, why[200] = "";
        int r;

        if (!m->map || info->version >= 7 || !info->long_size)
                return 0;
        page_long = info->long_size;    /* unless libtraceevent can tell */
        tep = tep_alloc();
        text = malloc(info->header_page_len + 1);
        if (tep && text) {
                memcpy(text, (const char *) m->map + info->header_page_off, info->header_page_len);
                (void) tep_parse_header_page(tep, text, info->header_page_len, (int) info->long_size);
                page_long = tep_get_header_page_size(tep) == 8 ? 8 : 4;
        }
        free(text);
        tep_free(tep);

        r = vs_dat_check_layout(m->map, m->size, page_long, NULL, why, sizeof(why));
        if (r < 0 && page_long != info->long_size)
                snprintf(err, errlen, "header_page gives %u-byte commit words (the file header's long is %u): %s",
                         page_long, info->long_size, why);
        else if (r < 0)
                snprintf(err, errlen, "%s", why);
        return r;
}

/*
 * libtracecmd 3.1.6 crashes in the error paths of tracecmd_open() on some
 * corrupt files our layout pre-check cannot recognise (found by fuzzing),
 * and libtraceevent loops forever on some corrupt pages.  In a throwaway
 * child, walk the pages (child_check_pages()), then open the file and read
 * the first record of every CPU: a file that fails or kills the child is
 * refused with a message instead of hanging or killing us.  Costs one fork
 * per file opened.  Exit codes: 0 fine, 2 libtracecmd cannot open it, 3
 * crashed (our handler), 4 a page is corrupt (the reason on @fds[1]).
 */
#define CHILD_TIMEOUT_S 60

/*
 * libtracecmd 3.1.6 callocs whatever count a corrupt option asks for, and
 * its error path then walks the array: an 8 KB file found by fuzz-dat had it
 * calloc 909,670,432 x 16 bytes (14.5 GB of zero pages, 10 s of page faults)
 * before giving up.  The child maps the file read-only, which RLIMIT_DATA
 * does not count, so 1 GiB of private memory over what it holds at the fork
 * is plenty for opening any real file and reading one record per CPU; past
 * that, allocations fail at once and libtracecmd refuses the file.  (Relative
 * to VmData, so it works under ASan's shadow mappings too.)
 */
#define CHILD_DATA_HEADROOM (1ull << 30)

static void child_limit_memory(void) {
        _cleanup_fclose_ FILE *f = fopen("/proc/self/status", "re");
        unsigned long long kb = 0;
        struct rlimit rl;
        char line[256];

        if (!f || getrlimit(RLIMIT_DATA, &rl) < 0)
                return;
        while (fgets(line, sizeof(line), f))
                if (sscanf(line, "VmData: %llu kB", &kb) == 1)
                        break;
        if (!kb || kb > (RLIM_INFINITY - CHILD_DATA_HEADROOM) / 1024)
                return;
        rlim_t want = (rlim_t) (kb * 1024 + CHILD_DATA_HEADROOM);
        if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur <= want)
                return;
        rl.rlim_cur = want;
        (void) setrlimit(RLIMIT_DATA, &rl);
}

static void child_crashed(int sig) {
        _exit(3);
}

/* The child could not be run: refuse the file (errno says why). */
static int check_failed(const char *path, const char *what) {
        int r = negative_errno();
        char msg[128];

        snprintf(msg, sizeof(msg), "cannot check the file first: %s: %s", what, strerror(-r));
        vs_source_set_open_error(path, msg);
        return r;
}

static int open_in_child(const char *path, const struct dat_map *m) {
        _cleanup_close_ int rfd = -1;
        char msg[256] = "";
        int fds[2], status;
        pid_t pid;

        /* no check, no reading: the page walk runs only in the child */
        if (pipe2(fds, O_CLOEXEC) < 0)
                return check_failed(path, "pipe");
        rfd = fds[0];
        pid = fork();
        if (pid < 0) {
                int r = check_failed(path, "fork");
                close(fds[1]);
                return r;
        }
        if (pid == 0) {
                struct tracecmd_input *in;
                struct sigaction sa = { .sa_handler = child_crashed };
                /* our handler, not a sanitizer's or a fuzzer's inherited one:
                 * the child's crash is an answer, not a finding */
                for (int sig = SIGILL; sig <= SIGSEGV; sig++)
                        (void) sigaction(sig, &sa, NULL);
                (void) sigaction(SIGBUS, &sa, NULL);
                alarm(CHILD_TIMEOUT_S);
                child_limit_memory();
                if (child_check_pages(m, msg, sizeof(msg)) < 0) {
                        /* shorter than PIPE_BUF: one write, never blocks */
                        if (write(fds[1], msg, strlen(msg)) < 0)
                                _exit(3);
                        _exit(4);
                }
                in = tracecmd_open(path, TRACECMD_FL_LOAD_NO_PLUGINS);
                if (!in)
                        _exit(2);
                int n = tep_get_cpus(tracecmd_get_tep(in));
                for (int i = 0; i < n && i < 65536; i++) {
                        struct tep_record *rec = tracecmd_read_cpu_first(in, i);
                        if (rec)
                                tracecmd_free_record(rec);
                }
                tracecmd_close(in);     /* not needed before _exit, but keeps memcheck quiet */
                _exit(0);
        }
        close(fds[1]);
        while (waitpid(pid, &status, 0) < 0)
                if (errno != EINTR)
                        return check_failed(path, "waitpid");
        if (WIFSIGNALED(status)) {
                if (WTERMSIG(status) == SIGALRM)
                        snprintf(msg, sizeof(msg),
                                 "corrupt trace-cmd file: libtracecmd did not open it within %d s",
                                 CHILD_TIMEOUT_S);
                else
                        snprintf(msg, sizeof(msg),
                                 "corrupt trace-cmd file: libtracecmd crashes reading it (signal %d)",
                                 WTERMSIG(status));
                vs_source_set_open_error(path, msg);
                return -EBADMSG;
        }
        switch (WEXITSTATUS(status)) {
        case 0:
                return 0;
        case 2:
                vs_source_set_open_error(path, "corrupt trace-cmd file: libtracecmd cannot open it");
                return -EBADMSG;
        case 4: {
                ssize_t n = read(rfd, msg, sizeof(msg) - 1);
                msg[n > 0 ? n : 0] = 0;
                vs_source_set_open_error(path, msg[0] ? msg : "corrupt trace-cmd file: a ring-buffer page");
                return -EBADMSG;
        }
        default:
                /* under a sanitizer or a fuzzer the child's crash handler exits
                 * instead of dying from the signal */
                vs_source_set_open_error(path, "corrupt trace-cmd file: libtracecmd fails reading it");
                return -EBADMSG;
        }
}

int vs_source_dat_open(const char *path, struct vs_source **ret) {
        struct dat_map m = {};
        struct dat_source *d;
        struct stat st;
        char err[256] = "";
        int r;

        r = dat_precheck(path, &m, err, sizeof(err));
        if (r < 0) {
                if (err[0])
                        vs_source_set_open_error(path, err);
                return r;
        }

        /* No plugins: we decode fields ourselves, and plugins only change printing. */
        tracecmd_set_loglevel(TEP_LOG_NONE);
        /* before anything is allocated here: the child exits holding nothing of ours */
        r = open_in_child(path, &m);
        dat_unmap(&m);
        if (r < 0)
                return r;

        d = calloc(1, sizeof(*d));
        if (!d)
                return -ENOMEM;
        d->s.ops = &dat_ops;
        d->s.kind = VS_SOURCE_DAT;
        if (stat(path, &st) == 0)
                d->file_size = st.st_size;
        d->in = tracecmd_open(path, TRACECMD_FL_LOAD_NO_PLUGINS);
        if (!d->in) {
                r = errno > 0 && errno != ENOENT ? -errno : -EBADMSG;
                if (access(path, R_OK) < 0)
                        r = negative_errno();
                free(d);
                return r;
        }
        d->tep = tracecmd_get_tep(d->in);
        d->ncpus = tep_get_cpus(d->tep);
        if (d->ncpus <= 0 || d->ncpus > 65536) {
                dat_free(&d->s);
                return -EBADMSG;
        }
        r = vs_tep_decoder_new(d->tep, &d->dec);
        if (r < 0) {
                dat_free(&d->s);
                return r;
        }
        d->peek = calloc(d->ncpus, sizeof(*d->peek));
        if (!d->peek) {
                dat_free(&d->s);
                return -ENOMEM;
        }
        for (int i = 0; i < d->ncpus; i++)
                d->peek[i] = tracecmd_read_cpu_first(d->in, i);
        *ret = &d->s;
        return 0;
}

