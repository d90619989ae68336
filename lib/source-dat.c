/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * source-dat.c - trace-cmd .dat files through libtracecmd, in a child.
 *
 * libtracecmd 3.1.6 crashes on some corrupt files and libtraceevent loops
 * forever on some corrupt pages (found by fuzzing, SECURITY.md), so neither
 * reads a file in our process.  At open we check the layout we can check
 * (dat-layout.h) and fork a child that walks the pages (v6), reads the
 * file's pages per CPU through kbuffer (dat-reader.h: only the formats we
 * decode; what it leaves to libtracecmd goes through tracecmd_read_data()
 * record by record instead), merges the CPUs by timestamp (one pending
 * record per CPU, so the output is globally time ordered like `trace-cmd
 * report`), decodes them with tep-decode.c (the code the live source runs)
 * and streams what it got through a pipe: the
 * vs_events, the thread announcements between them and, at the end, its
 * statistics.  We read that stream.  A child that crashes, fails, or makes no
 * progress for CHILD_TIMEOUT_S refuses the file with a message, at open or
 * later; the isolation costs a fork and the pipe's copy (about 50 bytes an
 * event), not a second parse of the file.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <signal.h>
#include <stdbool.h>
#include <unistd.h>

#include <trace-cmd/trace-cmd.h>
#include <traceevent/kbuffer.h>

#include "dat-layout.h"
#include "dat-reader.h"
#include "macro.h"
#include "source-internal.h"
#include "tep-decode.h"

/* Threads we already told topology about (open addressing, tid > 0). */
struct tid_set {
        int32_t *slots;
        size_t cap, n;
};

/* The stream from the child: a tag byte, then a fixed part (host layout: the
 * child is this very program), then for W_THREAD the strings. */
enum {
        W_OPENED = 'O',         /* the file opened: events follow */
        W_REFUSED = 'X',        /* u16 length + a reason: a corrupt page (then exit 4) */
        W_EVENT = 'E',          /* struct vs_event */
        W_THREAD = 'T',         /* struct w_thread + comm + vm name */
        W_PROGRESS = 'P',       /* u64: file offset reached */
        W_END = 'S',            /* struct w_end: the last record */
};

#define W_NO_STRING 0xffffu
#define W_MAX_STRING 1024u      /* longer comms / VM names are cut */

struct w_thread {
        int32_t tid, tgid, apic_id;
        uint16_t comm_len, vm_len;      /* W_NO_STRING: NULL */
};

struct w_end {
        struct vs_source_stats stats;
        uint64_t first_malformed_at;
        char error[256];
};

#define W_BUF (64u << 10)

/* ---------------------------------------------------------------- child */

/* The comm last announced per thread. */
#define COMM_CACHE_LEN 32
struct comm_cache {
        int32_t *tids;
        char (*comms)[COMM_CACHE_LEN];
        size_t cap, n;
};

struct dat_decoder {
        struct vs_source s;     /* its stats and thread callback */
        struct tracecmd_input *in;
        struct tep_handle *tep;
        struct vs_tep_decoder *dec;
        struct tep_record **peek; /* one pending record per CPU */
        int ncpus;
        struct tid_set seen;
        struct comm_cache comms;
        int fd;
        size_t len;
        uint8_t buf[W_BUF];
};

/* A child that makes no progress (nothing decoded onto the stream) for this
 * long is stuck in a corrupt file. */
#define CHILD_TIMEOUT_S 60

static void child_flush(struct dat_decoder *c) {
        size_t done = 0;

        /* blocked on a slow reader is no hang */
        alarm(0);
        while (done < c->len) {
                ssize_t n = write(c->fd, c->buf + done, c->len - done);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        _exit(0);       /* the reader went away */
                done += (size_t) n;
        }
        c->len = 0;
        alarm(CHILD_TIMEOUT_S);
}

static void child_put(struct dat_decoder *c, int tag, const void *p, size_t n, const void *p2, size_t n2,
                      const void *p3, size_t n3) {
        if (c->len + 1 + n + n2 + n3 > sizeof(c->buf))
                child_flush(c);
        c->buf[c->len++] = (uint8_t) tag;
        if (n)
                memcpy(c->buf + c->len, p, n);
        c->len += n;
        if (n2)
                memcpy(c->buf + c->len, p2, n2);
        c->len += n2;
        if (n3)
                memcpy(c->buf + c->len, p3, n3);
        c->len += n3;
}

static uint16_t w_len(const char *s) {
        size_t n;

        if (!s)
                return W_NO_STRING;
        n = strlen(s);
        return (uint16_t) (n > W_MAX_STRING ? W_MAX_STRING : n);
}

/* Whether @ti only repeats the comm last announced for its thread (every
 * sched_switch names both threads): then it would change nothing in
 * topology (no tgid, APIC ID or VM name, same comm), so it is not sent.
 * Remembers @ti's comm otherwise.  Open addressing on tid > 0. */
static bool comm_repeated(struct comm_cache *cc, const struct vs_thread_info *ti) {
        size_t len, h;

        if (ti->tid <= 0 || !ti->comm || ti->tgid > 0 || ti->apic_id >= 0 || ti->vm_name)
                return false;
        len = strlen(ti->comm);
        if (len >= sizeof(cc->comms[0]))
                return false;
        if (cc->n * 2 >= cc->cap) {
                size_t ncap = cc->cap ? cc->cap * 2 : 256;
                int32_t *nt = calloc(ncap, sizeof(*nt));
                char (*nc)[COMM_CACHE_LEN] = calloc(ncap, sizeof(*nc));
                if (!nt || !nc) {
                        free(nt);
                        free(nc);
                        return false;
                }
                for (size_t i = 0; i < cc->cap; i++) {
                        if (cc->tids[i] <= 0)
                                continue;
                        h = ((uint32_t) cc->tids[i] * 2654435761u) & (ncap - 1);
                        while (nt[h])
                                h = (h + 1) & (ncap - 1);
                        nt[h] = cc->tids[i];
                        memcpy(nc[h], cc->comms[i], sizeof(nc[h]));
                }
                free(cc->tids);
                free(cc->comms);
                cc->tids = nt;
                cc->comms = nc;
                cc->cap = ncap;
        }
        h = ((uint32_t) ti->tid * 2654435761u) & (cc->cap - 1);
        while (cc->tids[h] && cc->tids[h] != ti->tid)
                h = (h + 1) & (cc->cap - 1);
        if (cc->tids[h] == ti->tid && memcmp(cc->comms[h], ti->comm, len + 1) == 0)
                return true;
        if (!cc->tids[h]) {
                cc->tids[h] = ti->tid;
                cc->n++;
        }
        memcpy(cc->comms[h], ti->comm, len + 1);
        return false;
}

static void child_thread(const struct vs_thread_info *ti, void *userdata) {
        struct dat_decoder *c = userdata;

        if (comm_repeated(&c->comms, ti))
                return;
        struct w_thread w = {
                .tid = ti->tid,
                .tgid = ti->tgid,
                .apic_id = ti->apic_id,
                .comm_len = w_len(ti->comm),
                .vm_len = w_len(ti->vm_name),
        };

        child_put(c, W_THREAD, &w, sizeof(w), ti->comm, w.comm_len == W_NO_STRING ? 0 : w.comm_len, ti->vm_name,
                  w.vm_len == W_NO_STRING ? 0 : w.vm_len);
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
static void announce(struct dat_decoder *d, int32_t tid) {
        const char *comm;

        if (tid <= 0 || tid_set_add(&d->seen, tid) <= 0)
                return;
        comm = tep_data_comm_from_pid(d->tep, tid);
        if (!comm || comm[0] == '<')    /* "<...>": not in the cmdlines */
                return;
        struct vs_thread_info ti = { .tid = tid, .tgid = -1, .comm = comm, .apic_id = -1 };
        vs_source_emit_thread(&d->s, &ti);
}

static void announce_event(struct dat_decoder *d, const struct vs_event *ev) {
        announce(d, ev->tid);
        if (ev->type == VS_EV_SWITCH) {
                announce(d, ev->sw.prev_tid);
                announce(d, ev->sw.next_tid);
        } else if (ev->type == VS_EV_WAKEUP)
                announce(d, ev->wakeup.wakee_tid);
}

/* Every record of every CPU, merged by timestamp, decoded onto the stream. */
static void child_decode(struct dat_decoder *d) {
        uint64_t n = 0;

        for (;;) {
                int best = -1;
                struct tep_record *r;
                struct vs_event ev;
                int k;

                for (int i = 0; i < d->ncpus; i++) {
                        if (!d->peek[i])
                                continue;
                        if (best < 0 || d->peek[i]->ts < d->peek[best]->ts)
                                best = i;
                }
                if (best < 0)
                        return;
                r = d->peek[best];
                d->peek[best] = tracecmd_read_data(d->in, best);
                if (r->missed_events > 0)
                        d->s.stats.lost += r->missed_events;
                k = vs_tep_decode(d->dec, r->data, r->size, r->ts, best, r->offset, &d->s, &ev);
                if ((++n & 4095) == 0) {
                        uint64_t off = (uint64_t) r->offset;
                        child_put(d, W_PROGRESS, &off, sizeof(off), NULL, 0, NULL, 0);
                }
                tracecmd_free_record(r);
                if (k > 0) {
                        announce_event(d, &ev);
                        child_put(d, W_EVENT, &ev, sizeof(ev), NULL, 0, NULL, 0);
                }
        }
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

/* The end of the stream: the statistics, then exit. */
static _Noreturn void child_end(struct dat_decoder *d) {
        struct w_end end = { .stats = d->s.stats, .first_malformed_at = d->s.first_malformed_at };

        memcpy(end.error, d->s.error, sizeof(end.error));
        child_put(d, W_END, &end, sizeof(end), NULL, 0, NULL, 0);
        child_flush(d);
        _exit(0);
}

/* One CPU of the page-level reader: its kbuffer and the pending record. */
struct page_cpu {
        struct kbuffer *kb;
        void *rec;              /* NULL: this CPU is done */
        unsigned long long ts;
        uint64_t page_off;
};

/* The next non-empty page of CPU @i into its kbuffer; false at its end. */
static bool page_load(struct dat_decoder *d, struct vs_dat_reader *rd, struct page_cpu *c, unsigned i) {
        const void *page;
        int k;

        for (;;) {
                c->rec = NULL;
                k = vs_dat_reader_next_page(rd, i, &page, &c->page_off);
                if (k < 0) {
                        d->s.stats.malformed++;
                        if (!d->s.error[0]) {
                                snprintf(d->s.error, sizeof(d->s.error),
                                         "CPU %d data: a compressed chunk after offset %" PRIu64
                                         " does not decompress; the CPU's later data skipped",
                                         vs_dat_reader_cpu_id(rd, i), c->page_off);
                                d->s.first_malformed_at = c->page_off;
                        }
                        return false;
                }
                if (k == 0)
                        return false;
                if (kbuffer_load_subbuffer(c->kb, (void *) page) < 0)
                        continue;
                int missed = kbuffer_missed_events(c->kb);
                if (missed > 0)
                        d->s.stats.lost += (uint64_t) missed;
                c->rec = kbuffer_read_event(c->kb, &c->ts);
                if (c->rec)
                        return true;
        }
}

/* Every record of every CPU through kbuffer, merged by timestamp, decoded
 * onto the stream (as child_decode(), without libtracecmd). */
static int child_decode_pages(struct dat_decoder *d, struct vs_dat_reader *rd) {
        unsigned n = vs_dat_reader_n_cpus(rd);
        _cleanup_free_ struct page_cpu *cpus = calloc(n ? n : 1, sizeof(*cpus));
        uint64_t count = 0;

        if (!cpus)
                return -ENOMEM;
        for (unsigned i = 0; i < n; i++) {
                cpus[i].kb = kbuffer_alloc(vs_dat_reader_kbuffer_long(rd), vs_dat_reader_kbuffer_endian(rd));
                if (!cpus[i].kb)
                        return -ENOMEM;
                (void) page_load(d, rd, &cpus[i], i);
        }
        child_put(d, W_OPENED, NULL, 0, NULL, 0, NULL, 0);
        child_flush(d);
        for (;;) {
                struct page_cpu *c;
                struct vs_event ev;
                int best = -1, k;

                for (unsigned i = 0; i < n; i++) {
                        if (!cpus[i].rec)
                                continue;
                        if (best < 0 || cpus[i].ts < cpus[best].ts)
                                best = (int) i;
                }
                if (best < 0)
                        break;
                c = &cpus[best];
                uint64_t off = c->page_off + (uint64_t) kbuffer_curr_offset(c->kb);
                k = vs_tep_decode(d->dec, c->rec, kbuffer_event_size(c->kb), c->ts, vs_dat_reader_cpu_id(rd, best),
                                  off, &d->s, &ev);
                if ((++count & 4095) == 0)
                        child_put(d, W_PROGRESS, &off, sizeof(off), NULL, 0, NULL, 0);
                if (k > 0) {
                        announce_event(d, &ev);
                        child_put(d, W_EVENT, &ev, sizeof(ev), NULL, 0, NULL, 0);
                }
                c->rec = kbuffer_next_event(c->kb, &c->ts);
                if (!c->rec)
                        (void) page_load(d, rd, c, (unsigned) best);
        }
        /* (the child exits next: the kbuffers go with it) */
        return 0;
}

/* Exit codes of the child: 0 done, 2 libtracecmd cannot open the file, 3
 * crashed (our handler), 4 a page is corrupt (W_REFUSED said why), 5 out of
 * memory. */
/* (not inlined: tools/bench counts its instructions, the child's own work) */
__attribute__((noinline)) static _Noreturn void child_main(const char *path, const struct dat_map *m, int fd) {
        static struct dat_decoder d;
        struct sigaction sa = { .sa_handler = child_crashed };
        char msg[256] = "";

        /* our handler, not a sanitizer's or a fuzzer's inherited one: the
         * child's crash is an answer, not a finding */
        for (int sig = SIGILL; sig <= SIGSEGV; sig++)
                (void) sigaction(sig, &sa, NULL);
        (void) sigaction(SIGBUS, &sa, NULL);
        (void) signal(SIGPIPE, SIG_IGN);
        alarm(CHILD_TIMEOUT_S);
        child_limit_memory();
        d.fd = fd;
        if (child_check_pages(m, msg, sizeof(msg)) < 0) {
                uint16_t n = (uint16_t) strlen(msg);
                child_put(&d, W_REFUSED, &n, sizeof(n), msg, n, NULL, 0);
                child_flush(&d);
                _exit(4);
        }
        vs_source_set_thread_cb(&d.s, child_thread, &d);
        /* Pages through kbuffer, metadata through dat-reader: only the
         * formats we decode, no allocation per record.  What it leaves to
         * libtracecmd (corrupt metadata included, for libtracecmd's verdict)
         * goes the libtracecmd way below. */
        struct vs_dat_reader *rd = NULL;
        if (m->map && !getenv("VSCHEDD_DAT_LIBTRACECMD") &&
            vs_dat_reader_open(m->map, m->size, vs_tep_decoder_wants, &rd) >= 0) {
                d.tep = vs_dat_reader_tep(rd);
                if (vs_tep_decoder_new(d.tep, &d.dec) < 0 || child_decode_pages(&d, rd) < 0)
                        _exit(5);
                child_end(&d);
        }

        tracecmd_set_loglevel(TEP_LOG_NONE);
        /* No plugins: we decode fields ourselves, and plugins only change printing. */
        d.in = tracecmd_open(path, TRACECMD_FL_LOAD_NO_PLUGINS);
        if (!d.in)
                _exit(2);
        d.tep = tracecmd_get_tep(d.in);
        d.ncpus = tep_get_cpus(d.tep);
        if (d.ncpus <= 0 || d.ncpus > 65536)
                _exit(2);
        if (vs_tep_decoder_new(d.tep, &d.dec) < 0)
                _exit(5);
        d.peek = calloc(d.ncpus, sizeof(*d.peek));
        if (!d.peek)
                _exit(5);
        for (int i = 0; i < d.ncpus; i++)
                d.peek[i] = tracecmd_read_cpu_first(d.in, i);
        child_put(&d, W_OPENED, NULL, 0, NULL, 0, NULL, 0);
        child_flush(&d);
        child_decode(&d);
        child_end(&d);
}

/* --------------------------------------------------------------- parent */

static void close_fd(int fd) {
        if (fd >= 0)
                close(fd);
}

struct dat_source {
        struct vs_source s;     /* must be first */
        int fd;                 /* the child's stream */
        pid_t pid;              /* 0 once reaped */
        bool ended;
        uint8_t *buf;
        size_t pos, len;
        uint64_t offset, file_size;
};

static int reap(struct dat_source *d, bool kill_it) {
        int status = 0;

        if (d->pid <= 0)
                return 0;
        if (kill_it)
                (void) kill(d->pid, SIGKILL);
        while (waitpid(d->pid, &status, 0) < 0)
                if (errno != EINTR) {
                        status = 0;
                        break;
                }
        d->pid = 0;
        return status;
}

static void dat_free(struct vs_source *src) {
        struct dat_source *d = (struct dat_source *) src;

        (void) reap(d, true);
        close_fd(d->fd);
        free(d->buf);
        free(d);
}

/* At least @need bytes of the stream buffered from d->pos: 1, 0 at its end
 * (or a record cut short: the child died), -errno. */
static int fill(struct dat_source *d, size_t need) {
        if (d->len - d->pos >= need)
                return 1;
        memmove(d->buf, d->buf + d->pos, d->len - d->pos);
        d->len -= d->pos;
        d->pos = 0;
        while (d->len < need) {
                ssize_t n = read(d->fd, d->buf + d->len, W_BUF - d->len);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return negative_errno();
                if (n == 0)
                        return 0;
                d->len += (size_t) n;
        }
        return 1;
}

/* Why the child stopped (@status from waitpid) before the end of its
 * stream; @opening: before it had opened the file. */
static void death_message(int status, bool opening, char *msg, size_t len) {
        if (WIFSIGNALED(status) && WTERMSIG(status) == SIGALRM)
                snprintf(msg, len,
                         opening ? "corrupt trace-cmd file: libtracecmd did not open it within %d s"
                                 : "corrupt trace-cmd file: libtracecmd made no progress reading it for %d s",
                         CHILD_TIMEOUT_S);
        else if (WIFSIGNALED(status))
                snprintf(msg, len, "corrupt trace-cmd file: libtracecmd crashes reading it (signal %d)",
                         WTERMSIG(status));
        else if (WIFEXITED(status) && WEXITSTATUS(status) == 2)
                snprintf(msg, len, "corrupt trace-cmd file: libtracecmd cannot open it");
        else if (WIFEXITED(status) && WEXITSTATUS(status) == 5)
                snprintf(msg, len, "out of memory reading it");
        else
                /* under a sanitizer or a fuzzer the child's crash handler exits
                 * instead of dying from the signal */
                snprintf(msg, len, "corrupt trace-cmd file: libtracecmd fails reading it");
}

/* The stream stopped short: the child is gone or going; say why. */
static int stream_broken(struct dat_source *d, int r) {
        int status = reap(d, true);

        d->ended = true;
        if (r < 0) {
                snprintf(d->s.error, sizeof(d->s.error), "reading the decoder's stream: %s", strerror(-r));
                return r;
        }
        death_message(status, false, d->s.error, sizeof(d->s.error));
        return -EBADMSG;
}

static int dat_next(struct vs_source *src, struct vs_event *ev) {
        struct dat_source *d = (struct dat_source *) src;

        while (!d->ended) {
                int r = fill(d, 1);
                if (r <= 0)
                        return stream_broken(d, r);
                switch (d->buf[d->pos]) {
                case W_EVENT:
                        r = fill(d, 1 + sizeof(*ev));
                        if (r <= 0)
                                return stream_broken(d, r);
                        memcpy(ev, d->buf + d->pos + 1, sizeof(*ev));
                        d->pos += 1 + sizeof(*ev);
                        return 1;
                case W_THREAD: {
                        struct w_thread w;
                        char comm[W_MAX_STRING + 1], vm[W_MAX_STRING + 1];
                        r = fill(d, 1 + sizeof(w));
                        if (r <= 0)
                                return stream_broken(d, r);
                        memcpy(&w, d->buf + d->pos + 1, sizeof(w));
                        size_t cl = w.comm_len == W_NO_STRING ? 0 : w.comm_len;
                        size_t vl = w.vm_len == W_NO_STRING ? 0 : w.vm_len;
                        if (cl > W_MAX_STRING || vl > W_MAX_STRING)
                                return stream_broken(d, -EPROTO);
                        r = fill(d, 1 + sizeof(w) + cl + vl);
                        if (r <= 0)
                                return stream_broken(d, r);
                        memcpy(comm, d->buf + d->pos + 1 + sizeof(w), cl);
                        comm[cl] = 0;
                        memcpy(vm, d->buf + d->pos + 1 + sizeof(w) + cl, vl);
                        vm[vl] = 0;
                        d->pos += 1 + sizeof(w) + cl + vl;
                        struct vs_thread_info ti = {
                                .tid = w.tid,
                                .tgid = w.tgid,
                                .apic_id = w.apic_id,
                                .comm = w.comm_len == W_NO_STRING ? NULL : comm,
                                .vm_name = w.vm_len == W_NO_STRING ? NULL : vm,
                        };
                        vs_source_emit_thread(&d->s, &ti);
                        break;
                }
                case W_PROGRESS:
                        r = fill(d, 1 + sizeof(d->offset));
                        if (r <= 0)
                                return stream_broken(d, r);
                        memcpy(&d->offset, d->buf + d->pos + 1, sizeof(d->offset));
                        d->pos += 1 + sizeof(d->offset);
                        break;
                case W_END: {
                        struct w_end end;
                        r = fill(d, 1 + sizeof(end));
                        if (r <= 0)
                                return stream_broken(d, r);
                        memcpy(&end, d->buf + d->pos + 1, sizeof(end));
                        d->pos += 1 + sizeof(end);
                        d->s.stats = end.stats;
                        d->s.first_malformed_at = end.first_malformed_at;
                        memcpy(d->s.error, end.error, sizeof(d->s.error));
                        d->s.error[sizeof(d->s.error) - 1] = 0;
                        d->ended = true;
                        d->offset = d->file_size;
                        (void) reap(d, false);
                        break;
                }
                default:
                        return stream_broken(d, -EPROTO);
                }
        }
        return 0;
}

static uint64_t dat_progress(struct vs_source *src, uint64_t *total) {
        struct dat_source *d = (struct dat_source *) src;

        *total = d->file_size;
        return d->offset;
}

static const struct vs_source_ops dat_ops = {
        .next = dat_next,
        .free = dat_free,
        .progress = dat_progress,
};

/* Start the child on @path and wait until it opened the file (0) or refused
 * it (-EBADMSG, the reason set as the open error). */
static int start_child(const char *path, const struct dat_map *m, struct dat_source *d) {
        char msg[256] = "";
        int fds[2], r;

        if (pipe2(fds, O_CLOEXEC) < 0)
                return check_failed(path, "pipe");
        d->pid = fork();
        if (d->pid < 0) {
                r = check_failed(path, "fork");
                d->pid = 0;
                close_fd(fds[0]);
                close_fd(fds[1]);
                return r;
        }
        if (d->pid == 0) {
                close(fds[0]);
                child_main(path, m, fds[1]);
        }
        close(fds[1]);
        d->fd = fds[0];
        (void) fcntl(d->fd, F_SETPIPE_SZ, 1 << 20);     /* fewer wake-ups; the default will do */

        r = fill(d, 1);
        if (r > 0 && d->buf[d->pos] == W_OPENED) {
                d->pos++;
                return 0;
        }
        if (r > 0 && d->buf[d->pos] == W_REFUSED) {
                uint16_t n = 0;
                if (fill(d, 1 + sizeof(n)) > 0) {
                        memcpy(&n, d->buf + d->pos + 1, sizeof(n));
                        if (n >= sizeof(msg) || fill(d, 1 + sizeof(n) + n) <= 0)
                                n = 0;
                        memcpy(msg, d->buf + d->pos + 1 + sizeof(n), n);
                        msg[n] = 0;
                }
                (void) reap(d, true);
                vs_source_set_open_error(path, msg[0] ? msg : "corrupt trace-cmd file: a ring-buffer page");
                return -EBADMSG;
        }
        if (r < 0)
                return check_failed(path, "reading its answer");
        death_message(reap(d, true), true, msg, sizeof(msg));
        vs_source_set_open_error(path, msg);
        return -EBADMSG;
}

int vs_source_dat_open(const char *path, struct vs_source **ret) {
        struct dat_map m = {};
        struct dat_source *d;
        char err[256] = "";
        int r;

        r = dat_precheck(path, &m, err, sizeof(err));
        if (r < 0) {
                if (err[0])
                        vs_source_set_open_error(path, err);
                return r;
        }
        d = calloc(1, sizeof(*d));
        if (!d) {
                dat_unmap(&m);
                return -ENOMEM;
        }
        d->fd = -1;
        d->s.ops = &dat_ops;
        d->s.kind = VS_SOURCE_DAT;
        d->file_size = m.size;
        d->buf = malloc(W_BUF);
        r = d->buf ? start_child(path, &m, d) : -ENOMEM;
        dat_unmap(&m);
        if (r < 0) {
                dat_free(&d->s);
                return r;
        }
        *ret = &d->s;
        return 0;
}
