/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * vs-datfilter - copies a trace-cmd .dat without the records of the events
 * named, e.g. a recording as a host with hardware IPI virtualisation (Intel
 * IPIv, AMD AVIC) would have made it, where kvm_apic_ipi and kvm_eoi stay
 * quiet:
 *
 *   vs-datfilter --drop kvm:kvm_apic_ipi,kvm:kvm_eoi IN.dat OUT.dat
 *
 * Reads IN through lib/dat-reader.h (trace-cmd file version 6 or 7, zstd or
 * zlib chunks), walks every CPU's pages with libtraceevent's kbuffer, and
 * re-encodes the records it keeps, unchanged and at their timestamps, with
 * tools/rb-page.h; writes OUT (version 6) with lib/dat-writer.h from the
 * format texts, header pages and saved cmdlines of IN itself (copied through
 * a temporary directory laid out like tracefs events/).  Every format of IN
 * stays in OUT (the tracepoints exist, they just did not fire).  Prints per
 * event how many records were kept and dropped.  kallsyms and printk formats
 * are not copied (vschedd reads neither).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <traceevent/event-parse.h>
#include <traceevent/kbuffer.h>

#include "dat-reader.h"
#include "dat-writer.h"
#include "fileio.h"
#include "macro.h"
#include "rb-page.h"

#define MAX_DROP 32
#define MAX_CPUS 1024

struct meta {
        char dir[64];                   /* temporary events/ directory */
        char **paths;                   /* files and directories made there, in order */
        size_t n_paths;
        char **events;                  /* "system:name", NULL-terminated */
        size_t n_events;
        char *cmdlines;
};

static int remember(char ***v, size_t *n, char *s) {
        char **x = realloc(*v, (*n + 2) * sizeof(*x));

        if (!x) {
                free(s);
                return -ENOMEM;
        }
        x[(*n)++] = s;
        x[*n] = NULL;
        *v = x;
        return 0;
}

static int put(struct meta *m, const char *rel, const void *text, uint64_t len) {
        _cleanup_close_ int fd = -1;
        char *path;

        if (asprintf(&path, "%s/%s", m->dir, rel) < 0)
                return -ENOMEM;
        fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
        if (fd < 0) {
                int r = -errno;
                free(path);
                return r == -EEXIST ? 0 : r;    /* the same format twice: keep the first */
        }
        int r = remember(&m->paths, &m->n_paths, path);
        return r < 0 ? r : vs_write_all(fd, text, (size_t) len);
}

static int mkdir_rel(struct meta *m, const char *rel) {
        char *path;

        if (asprintf(&path, "%s/%s", m->dir, rel) < 0)
                return -ENOMEM;
        if (mkdir(path, 0755) < 0) {
                int r = -errno;
                free(path);
                return r == -EEXIST ? 0 : r;
        }
        return remember(&m->paths, &m->n_paths, path);
}

static int on_header(void *ud, const char *name, const void *text, uint64_t len) {
        return put(ud, name, text, len);
}

static int on_format(void *ud, const char *system, const void *text, uint64_t len) {
        struct meta *m = ud;
        const char *t = text;
        char name[128], rel[300], *ev;
        size_t n = 0;
        int r;

        if (len < 6 || memcmp(t, "name: ", 6) != 0)
                return -EBADMSG;
        for (uint64_t i = 6; i < len && t[i] != '\n' && n < sizeof(name) - 1; i++)
                name[n++] = t[i];
        name[n] = 0;
        if (!n || strchr(name, '/') || strcmp(name, ".") == 0 || strcmp(name, "..") == 0 || strchr(system, '/') ||
            !system[0] || system[0] == '.')
                return -EBADMSG;
        snprintf(rel, sizeof(rel), "%s", system);
        if ((r = mkdir_rel(m, rel)) < 0)
                return r;
        snprintf(rel, sizeof(rel), "%s/%s", system, name);
        if ((r = mkdir_rel(m, rel)) < 0)
                return r;
        snprintf(rel, sizeof(rel), "%s/%s/format", system, name);
        if ((r = put(m, rel, text, len)) < 0)
                return r;
        for (size_t i = 0; i < m->n_events; i++)
                if (strncmp(m->events[i], system, strlen(system)) == 0 && m->events[i][strlen(system)] == ':' &&
                    strcmp(m->events[i] + strlen(system) + 1, name) == 0)
                        return 0;
        if (asprintf(&ev, "%s:%s", system, name) < 0)
                return -ENOMEM;
        return remember(&m->events, &m->n_events, ev);
}

static int on_cmdlines(void *ud, const void *text, uint64_t len) {
        struct meta *m = ud;

        free(m->cmdlines);
        m->cmdlines = malloc(len + 1);
        if (!m->cmdlines)
                return -ENOMEM;
        memcpy(m->cmdlines, text, len);
        m->cmdlines[len] = 0;
        return 0;
}

static void meta_done(struct meta *m) {
        for (size_t i = m->n_paths; i-- > 0;) {
                if (unlink(m->paths[i]) < 0)
                        (void) rmdir(m->paths[i]);
                free(m->paths[i]);
        }
        free(m->paths);
        if (m->dir[0])
                (void) rmdir(m->dir);
        for (size_t i = 0; i < m->n_events; i++)
                free(m->events[i]);
        free(m->events);
        free(m->cmdlines);
}

static bool want_all(const char *system, const char *name) {
        (void) system;
        (void) name;
        return true;
}

struct counts {
        int id;
        uint64_t kept, dropped;
};

static void usage(FILE *f) {
        fprintf(f, "Usage: vs-datfilter --drop SYSTEM:EVENT[,SYSTEM:EVENT...] IN.dat OUT.dat\n"
                   "Copy a trace-cmd .dat without the records of the events named.\n");
}

int main(int argc, char **argv) {
        static const struct option opts[] = {
                { "drop", required_argument, NULL, 'd' },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        char *drop[MAX_DROP];
        unsigned n_drop = 0;
        int c, r, ret = 1;

        while ((c = getopt_long(argc, argv, "d:h", opts, NULL)) >= 0)
                switch (c) {
                case 'd':
                        for (char *save = NULL, *t = strtok_r(optarg, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
                                if (n_drop == MAX_DROP || !strchr(t, ':')) {
                                        fprintf(stderr, "vs-datfilter: --drop: '%s': want SYSTEM:EVENT (at most %d)\n",
                                                t, MAX_DROP);
                                        return 2;
                                }
                                drop[n_drop++] = t;
                        }
                        break;
                case 'h':
                        usage(stdout);
                        return 0;
                default:
                        usage(stderr);
                        return 2;
                }
        if (argc - optind != 2 || n_drop == 0) {
                usage(stderr);
                return 2;
        }
        const char *in = argv[optind], *out = argv[optind + 1];

        _cleanup_close_ int fd = open(in, O_RDONLY | O_CLOEXEC);
        struct stat sb;
        if (fd < 0 || fstat(fd, &sb) < 0) {
                fprintf(stderr, "vs-datfilter: %s: %s\n", in, strerror(errno));
                return 1;
        }
        void *map = sb.st_size > 0 ? mmap(NULL, (size_t) sb.st_size, PROT_READ, MAP_PRIVATE, fd, 0) : MAP_FAILED;
        if (map == MAP_FAILED) {
                fprintf(stderr, "vs-datfilter: %s: cannot map: %s\n", in, sb.st_size ? strerror(errno) : "empty");
                return 1;
        }

        struct meta m = {};
        struct vs_dat_reader *rd = NULL;
        struct vs_rb_writer *w = NULL;
        struct vs_dat_cpu *cpus = NULL;
        struct counts *cnt = NULL;
        size_t n_cnt = 0;
        unsigned n_out = 0;
        struct kbuffer *kb = NULL;
        static const struct vs_dat_meta_ops ops = { on_header, on_format, on_cmdlines };

        snprintf(m.dir, sizeof(m.dir), "%s", "/tmp/vs-datfilter-XXXXXX");
        if (!mkdtemp(m.dir)) {
                fprintf(stderr, "vs-datfilter: mkdtemp: %s\n", strerror(errno));
                m.dir[0] = 0;
                goto out;
        }
        r = vs_dat_reader_open_meta(map, (uint64_t) sb.st_size, want_all, &ops, &m, &rd);
        if (r < 0) {
                fprintf(stderr, "vs-datfilter: %s: %s\n", in,
                        r == -EOPNOTSUPP ? "a trace-cmd file this reader does not take (see lib/dat-reader.h)" :
                        r == -EBADMSG ? "not a valid trace-cmd .dat" : strerror(-r));
                goto out;
        }
        struct tep_handle *tep = vs_dat_reader_tep(rd);
        if ((vs_dat_reader_kbuffer_endian(rd) == KBUFFER_ENDIAN_BIG) != (__BYTE_ORDER__ == __ORDER_BIG_ENDIAN__) ||
            vs_dat_reader_kbuffer_long(rd) != (sizeof(long) == 8 ? KBUFFER_LSIZE_8 : KBUFFER_LSIZE_4)) {
                fprintf(stderr, "vs-datfilter: %s: byte order or long size of another machine (not supported)\n", in);
                goto out;
        }
        for (unsigned d = 0; d < n_drop; d++) {
                char *colon = strchr(drop[d], ':');
                *colon = 0;
                if (!tep_find_event_by_name(tep, drop[d], colon + 1))
                        fprintf(stderr, "vs-datfilter: note: %s has no format for %s:%s\n", in, drop[d], colon + 1);
                *colon = ':';
        }
        unsigned n = vs_dat_reader_n_cpus(rd);
        for (unsigned i = 0; i < n; i++) {
                int id = vs_dat_reader_cpu_id(rd, i);
                if (id < 0 || id >= MAX_CPUS) {
                        fprintf(stderr, "vs-datfilter: %s: CPU %d out of range\n", in, id);
                        goto out;
                }
                if ((unsigned) id + 1 > n_out)
                        n_out = (unsigned) id + 1;
        }
        w = calloc(n_out ? n_out : 1, sizeof(*w));
        cpus = calloc(n_out ? n_out : 1, sizeof(*cpus));
        kb = kbuffer_alloc(vs_dat_reader_kbuffer_long(rd), vs_dat_reader_kbuffer_endian(rd));
        if (!w || !cpus || !kb)
                goto oom;
        for (unsigned i = 0; i < n_out; i++)
                if (vs_rb_writer_init(&w[i], vs_dat_reader_page_size(rd)) < 0) {
                        fprintf(stderr, "vs-datfilter: page size %u not supported\n", vs_dat_reader_page_size(rd));
                        goto out;
                }
        for (unsigned i = 0; i < n; i++) {
                int id = vs_dat_reader_cpu_id(rd, i);
                const void *page;
                uint64_t off;
                while ((r = vs_dat_reader_next_page(rd, i, &page, &off)) > 0) {
                        unsigned long long ts;
                        void *rec;
                        if (kbuffer_load_subbuffer(kb, (void *) page) < 0) {
                                fprintf(stderr, "vs-datfilter: %s: CPU %d: bad page at offset %" PRIu64 "\n", in, id, off);
                                goto out;
                        }
                        for (rec = kbuffer_read_event(kb, &ts); rec; rec = kbuffer_next_event(kb, &ts)) {
                                unsigned size = kbuffer_event_size(kb);
                                uint16_t type;
                                struct tep_event *ev;
                                bool dropped = false;
                                if (size < sizeof(type))
                                        continue;
                                memcpy(&type, rec, sizeof(type));
                                ev = tep_find_event(tep, type);
                                for (unsigned d = 0; ev && d < n_drop; d++) {
                                        const char *colon = strchr(drop[d], ':');
                                        if (strlen(ev->system) == (size_t) (colon - drop[d]) &&
                                            strncmp(ev->system, drop[d], (size_t) (colon - drop[d])) == 0 &&
                                            strcmp(ev->name, colon + 1) == 0)
                                                dropped = true;
                                }
                                size_t k;
                                for (k = 0; k < n_cnt && cnt[k].id != type; k++)
                                        ;
                                if (k == n_cnt) {
                                        struct counts *x = realloc(cnt, (n_cnt + 1) * sizeof(*x));
                                        if (!x)
                                                goto oom;
                                        cnt = x;
                                        cnt[n_cnt++] = (struct counts) { .id = type };
                                }
                                if (dropped) {
                                        cnt[k].dropped++;
                                        continue;
                                }
                                cnt[k].kept++;
                                r = vs_rb_writer_add(&w[id], ts, rec, size);
                                if (r < 0) {
                                        fprintf(stderr, "vs-datfilter: %s: CPU %d: record at %llu: %s\n", in, id, ts,
                                                strerror(-r));
                                        goto out;
                                }
                        }
                }
                if (r < 0) {
                        fprintf(stderr, "vs-datfilter: %s: CPU %d: %s\n", in, id,
                                r == -EBADMSG ? "data cut short or corrupt" : strerror(-r));
                        goto out;
                }
        }
        for (unsigned i = 0; i < n_out; i++) {
                r = vs_rb_writer_finish(&w[i], &cpus[i].data, &cpus[i].size);
                if (r < 0)
                        goto oom;
        }
        struct vs_dat_info info = {
                .events_dir = m.dir,
                .events = (const char *const *) m.events,
                .page_size = vs_dat_reader_page_size(rd),
                .n_cpus = n_out,
                .cpus = cpus,
                .cmdlines = m.cmdlines,
        };
        if (!m.events) {
                fprintf(stderr, "vs-datfilter: %s: no event formats\n", in);
                goto out;
        }
        r = vs_dat_write(out, &info);
        if (r < 0) {
                fprintf(stderr, "vs-datfilter: %s: %s\n", out, strerror(-r));
                goto out;
        }
        for (size_t k = 0; k < n_cnt; k++) {
                struct tep_event *ev = tep_find_event(tep, cnt[k].id);
                printf("%s:%s kept %" PRIu64 " dropped %" PRIu64 "\n", ev ? ev->system : "?",
                       ev ? ev->name : "?", cnt[k].kept, cnt[k].dropped);
        }
        ret = 0;
        goto out;
oom:
        fprintf(stderr, "vs-datfilter: out of memory\n");
out:
        if (kb)
                kbuffer_free(kb);
        for (unsigned i = 0; w && i < n_out; i++)
                vs_rb_writer_done(&w[i]);
        free(w);
        free(cpus);
        free(cnt);
        vs_dat_reader_free(rd);
        meta_done(&m);
        munmap(map, (size_t) sb.st_size);
        return ret;
}
