/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * dat-reader.c - a .dat file's pages per CPU and the formats we decode (see
 * dat-reader.h).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif
#include <dlfcn.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <traceevent/event-parse.h>
#include <traceevent/kbuffer.h>

#include "dat-reader.h"
#include "macro.h"

enum { COMP_NONE, COMP_ZSTD, COMP_ZLIB };

/* v7 option ids (trace-cmd.dat.v7(5)) */
enum {
        OPT_DONE = 0,
        OPT_BUFFER = 3,
        OPT_OFFSET = 7,
        OPT_TIME_SHIFT = 12,
        OPT_TSC2NSEC = 14,
        OPT_HEADER_INFO = 16,
        OPT_FTRACE_EVENTS = 17,
        OPT_EVENT_FORMATS = 18,
        OPT_CMDLINES = 21,
        OPT_BUFFER_TEXT = 22,
};

struct cpu_data {
        int id;
        uint64_t off, size;             /* this CPU's data in the file */
        uint64_t end;                   /* its end (compressed: the chunk count is not in size) */
        uint64_t pos;                   /* next page (plain) or chunk header (compressed) */
        uint32_t chunks_left;
        uint8_t *chunk;                 /* the decompressed chunk */
        size_t chunk_len, chunk_alloc, chunk_pos;
        uint64_t chunk_off;             /* file offset of its header */
};

struct vs_dat_reader {
        const uint8_t *buf;
        uint64_t size;
        unsigned version;
        bool big;
        unsigned long_size, page_size;
        int comp;
        struct tep_handle *tep;
        vs_dat_want_fn want;
        const struct vs_dat_meta_ops *meta;     /* NULL: nobody asked for the texts */
        void *meta_ud;
        struct cpu_data *cpus;
        unsigned n_cpus, file_cpus;
};

/* ------------------------------------------------------------ decompression */

static struct {
        size_t (*zstd_decompress)(void *dst, size_t dst_len, const void *src, size_t src_len);
        unsigned (*zstd_is_error)(size_t code);
        int (*uncompress)(unsigned char *dst, unsigned long *dst_len, const unsigned char *src,
                          unsigned long src_len);
} lib;

static int load_lib(int comp) {
        void *h;

        if (comp == COMP_ZSTD && !lib.zstd_decompress) {
                h = dlopen("libzstd.so.1", RTLD_NOW | RTLD_LOCAL);
                if (!h)
                        return -EOPNOTSUPP;
                lib.zstd_is_error = (unsigned (*)(size_t)) dlsym(h, "ZSTD_isError");
                lib.zstd_decompress = (size_t (*)(void *, size_t, const void *, size_t)) dlsym(h, "ZSTD_decompress");
                if (!lib.zstd_is_error || !lib.zstd_decompress) {
                        lib.zstd_decompress = NULL;
                        return -EOPNOTSUPP;
                }
        } else if (comp == COMP_ZLIB && !lib.uncompress) {
                h = dlopen("libz.so.1", RTLD_NOW | RTLD_LOCAL);
                if (!h)
                        return -EOPNOTSUPP;
                lib.uncompress = (int (*)(unsigned char *, unsigned long *, const unsigned char *, unsigned long))
                        dlsym(h, "uncompress");
                if (!lib.uncompress)
                        return -EOPNOTSUPP;
        }
        return 0;
}

/* Exactly @dst_len bytes out of @src, or -EBADMSG. */
static int decompress(const struct vs_dat_reader *r, const uint8_t *src, size_t src_len, uint8_t *dst,
                      size_t dst_len) {
        if (r->comp == COMP_ZSTD) {
                size_t n = lib.zstd_decompress(dst, dst_len, src, src_len);
                return lib.zstd_is_error(n) || n != dst_len ? -EBADMSG : 0;
        }
        if (r->comp == COMP_ZLIB) {
                unsigned long n = dst_len;
                return lib.uncompress(dst, &n, src, src_len) != 0 || n != dst_len ? -EBADMSG : 0;
        }
        return -EINVAL;
}

/* ------------------------------------------------------------------ reading */

static bool have(const struct vs_dat_reader *r, uint64_t off, uint64_t n) {
        return off <= r->size && n <= r->size - off;
}

static uint16_t v16(const struct vs_dat_reader *r, const uint8_t *p) {
        uint16_t v;
        memcpy(&v, p, sizeof(v));
        return r->big ? __builtin_bswap16(v) : v;
}

static uint32_t v32(const struct vs_dat_reader *r, const uint8_t *p) {
        uint32_t v;
        memcpy(&v, p, sizeof(v));
        return r->big ? __builtin_bswap32(v) : v;
}

static uint64_t v64(const struct vs_dat_reader *r, const uint8_t *p) {
        uint64_t v;
        memcpy(&v, p, sizeof(v));
        return r->big ? __builtin_bswap64(v) : v;
}

/* A bounded cursor over metadata (the file, or a decompressed section). */
struct cur {
        const uint8_t *p, *end;
        bool bad;
};

static const uint8_t *take(struct cur *c, uint64_t n) {
        const uint8_t *p = c->p;

        if (c->bad || n > (uint64_t) (c->end - c->p)) {
                c->bad = true;
                return NULL;
        }
        c->p += n;
        return p;
}

static uint32_t take32(const struct vs_dat_reader *r, struct cur *c) {
        const uint8_t *p = take(c, 4);
        return p ? v32(r, p) : 0;
}

static uint64_t take64(const struct vs_dat_reader *r, struct cur *c) {
        const uint8_t *p = take(c, 8);
        return p ? v64(r, p) : 0;
}

static const char *take_str(struct cur *c) {
        const uint8_t *z;

        if (c->bad)
                return NULL;
        z = memchr(c->p, 0, (size_t) (c->end - c->p));
        if (!z) {
                c->bad = true;
                return NULL;
        }
        return (const char *) take(c, (uint64_t) (z - c->p) + 1);
}

/* "name: X\n" of a format text: whether @want takes (@system, X). */
static bool wanted(const struct vs_dat_reader *r, const char *system, const uint8_t *text, uint64_t len) {
        char name[128];
        size_t n = 0;

        if (len < 6 || memcmp(text, "name: ", 6) != 0)
                return true;    /* let libtraceevent judge it */
        for (uint64_t i = 6; i < len && text[i] != '\n' && n < sizeof(name) - 1; i++)
                name[n++] = (char) text[i];
        name[n] = 0;
        return r->want(system, name);
}

/* The fields of one format text into the tep.  Its print fmt (which only
 * printing reads; kvm_exit's lists every exit reason) is left out: parsing
 * it cost most of an open.  libtraceevent keeps the event and its fields
 * when the print fmt does not parse. */
static int parse_event(struct vs_dat_reader *r, const uint8_t *text, uint64_t len, const char *system) {
        static const char tail[] = "print fmt: \"\"\n";
        const uint8_t *pf = memmem(text, (size_t) len, "\nprint fmt:", 11);
        uint64_t keep = pf ? (uint64_t) (pf - text) + 1 : len;
        _cleanup_free_ char *copy = NULL;

        if (!pf || keep + sizeof(tail) > (64u << 10))
                return tep_parse_event(r->tep, (const char *) text, (unsigned long) len, system);
        copy = malloc(keep + sizeof(tail));
        if (!copy)
                return -ENOMEM;
        memcpy(copy, text, keep);
        memcpy(copy + keep, tail, sizeof(tail));
        return tep_parse_event(r->tep, copy, (unsigned long) (keep + sizeof(tail) - 1), system);
}

/* @count format files ("8-byte size, text") of @system. */
static int parse_formats(struct vs_dat_reader *r, struct cur *c, const char *system, uint32_t count) {
        for (uint32_t i = 0; i < count; i++) {
                uint64_t len = take64(r, c);
                const uint8_t *text = take(c, len);
                if (!text)
                        return -EBADMSG;
                if (r->meta && r->meta->format) {
                        int k = r->meta->format(r->meta_ud, system, text, len);
                        if (k < 0)
                                return k;
                }
                if (!wanted(r, system, text, len))
                        continue;
                /* a format libtraceevent cannot parse is an event we do not decode */
                (void) parse_event(r, text, len, system);
        }
        return 0;
}

static int parse_events(struct vs_dat_reader *r, struct cur *c) {
        uint32_t n = take32(r, c);

        for (uint32_t i = 0; i < n && !c->bad; i++) {
                const char *system = take_str(c);
                uint32_t count = take32(r, c);
                if (!system || parse_formats(r, c, system, count) < 0)
                        return -EBADMSG;
        }
        return c->bad ? -EBADMSG : 0;
}

static int parse_header_info(struct vs_dat_reader *r, struct cur *c) {
        const uint8_t *tag = take(c, 12);
        uint64_t len = take64(r, c);
        const uint8_t *text = take(c, len);

        if (!tag || memcmp(tag, "header_page", 12) != 0 || !text)
                return -EBADMSG;
        if (tep_parse_header_page(r->tep, (char *) text, (unsigned long) len, (int) r->long_size) < 0)
                return -EBADMSG;
        if (r->meta && r->meta->header) {
                int k = r->meta->header(r->meta_ud, "header_page", text, len);
                if (k < 0)
                        return k;
        }
        tag = take(c, 13);
        len = take64(r, c);
        if (!tag || memcmp(tag, "header_event", 13) != 0 || !(text = take(c, len)))
                return -EBADMSG;
        if (r->meta && r->meta->header)
                return r->meta->header(r->meta_ud, "header_event", text, len);
        return 0;
}

/* "pid comm\n" lines. */
static int parse_cmdlines(struct vs_dat_reader *r, const uint8_t *p, uint64_t len) {
        const uint8_t *end = p + len;

        if (r->meta && r->meta->cmdlines) {
                int k = r->meta->cmdlines(r->meta_ud, p, len);
                if (k < 0)
                        return k;
        }

        while (p < end) {
                const uint8_t *nl = memchr(p, '\n', (size_t) (end - p));
                const uint8_t *e = nl ? nl : end;
                char line[256];
                size_t n = (size_t) (e - p) < sizeof(line) - 1 ? (size_t) (e - p) : sizeof(line) - 1;
                char *sp;

                memcpy(line, p, n);
                line[n] = 0;
                p = nl ? nl + 1 : end;
                sp = strchr(line, ' ');
                if (!sp || sp == line)
                        continue;
                *sp = 0;
                char *endp;
                long pid = strtol(line, &endp, 10);
                if (*endp || pid <= 0 || pid > INT32_MAX || !sp[1])
                        continue;
                if (tep_register_comm(r->tep, sp + 1, (int) pid) < 0)
                        return -ENOMEM;
        }
        return 0;
}

/* ------------------------------------------------------------------ v6 */

static int open_v6(struct vs_dat_reader *r, struct cur *c) {
        const uint8_t *p;
        uint64_t len;
        int k;

        k = parse_header_info(r, c);
        if (k < 0)
                return k;
        k = parse_formats(r, c, "ftrace", take32(r, c));
        if (k < 0)
                return k;
        k = parse_events(r, c);
        if (k < 0)
                return k;
        len = take32(r, c);             /* kallsyms */
        take(c, len);
        len = take32(r, c);             /* printk formats */
        take(c, len);
        len = take64(r, c);             /* cmdlines */
        p = take(c, len);
        if (!p)
                return -EBADMSG;
        k = parse_cmdlines(r, p, len);
        if (k < 0)
                return k;
        r->file_cpus = take32(r, c);
        p = take(c, 10);
        if (!p)
                return -EBADMSG;
        if (memcmp(p, "options  ", 10) == 0) {
                for (;;) {
                        const uint8_t *q = take(c, 2);
                        if (!q)
                                return -EBADMSG;
                        uint16_t id = v16(r, q);
                        if (id == OPT_DONE)
                                break;
                        uint32_t olen = take32(r, c);
                        if (!take(c, olen))
                                return -EBADMSG;
                        /* BUFFER: more instances than the top one */
                        if (id == OPT_OFFSET || id == OPT_TSC2NSEC || id == OPT_TIME_SHIFT || id == OPT_BUFFER)
                                return -EOPNOTSUPP;
                }
                p = take(c, 10);
                if (!p)
                        return -EBADMSG;
        }
        if (memcmp(p, "flyrecord", 10) != 0)
                return -EOPNOTSUPP;     /* latency: text */
        if (r->file_cpus == 0 || r->file_cpus > 65536)
                return -EBADMSG;
        r->cpus = calloc(r->file_cpus, sizeof(*r->cpus));
        if (!r->cpus)
                return -ENOMEM;
        for (unsigned i = 0; i < r->file_cpus; i++) {
                struct cpu_data *d = &r->cpus[r->n_cpus];
                d->off = take64(r, c);
                d->size = take64(r, c);
                if (c->bad || !have(r, d->off, d->size))
                        return -EBADMSG;
                d->id = (int) i;
                d->pos = d->off;
                d->end = d->off + d->size;
                r->n_cpus++;
        }
        return 0;
}

/* ------------------------------------------------------------------ v7 */

/* The v7 section at @off with id @id: its (decompressed) data in *c; *freep
 * to free. */
static int section(struct vs_dat_reader *r, uint64_t off, uint16_t id, struct cur *c, uint8_t **freep) {
        const uint8_t *h;
        uint64_t size;

        *freep = NULL;
        if (!have(r, off, 16))
                return -EBADMSG;
        h = r->buf + off;
        if (v16(r, h) != id)
                return -EBADMSG;
        size = v64(r, h + 8);
        if (!have(r, off + 16, size))
                return -EBADMSG;
        if (!(v16(r, h + 2) & 1)) {
                *c = (struct cur) { .p = r->buf + off + 16, .end = r->buf + off + 16 + size };
                return 0;
        }
        if (r->comp == COMP_NONE || size < 8)
                return -EBADMSG;
        uint32_t clen = v32(r, h + 16), ulen = v32(r, h + 20);
        if (clen > size - 8)
                return -EBADMSG;
        *freep = malloc(ulen ? ulen : 1);
        if (!*freep)
                return -ENOMEM;
        if (decompress(r, h + 24, clen, *freep, ulen) < 0)
                return -EBADMSG;
        *c = (struct cur) { .p = *freep, .end = *freep + ulen };
        return 0;
}

static int parse_buffer_option(struct vs_dat_reader *r, const uint8_t *p, uint32_t len) {
        struct cur c = { .p = p, .end = p + len };
        const char *name, *clock;
        uint32_t page_size, n;

        (void) take64(r, &c);           /* the flyrecord section: the CPUs' offsets are absolute */
        name = take_str(&c);
        clock = take_str(&c);
        page_size = take32(r, &c);
        n = take32(r, &c);
        if (c.bad || !name || !clock)
                return -EBADMSG;
        if (name[0])
                return -EOPNOTSUPP;     /* another instance than the top one */
        if (r->cpus)
                return -EOPNOTSUPP;     /* two top buffers? */
        if (page_size != r->page_size || n == 0 || n > 65536)
                return -EBADMSG;
        r->cpus = calloc(n, sizeof(*r->cpus));
        if (!r->cpus)
                return -ENOMEM;
        for (uint32_t i = 0; i < n; i++) {
                struct cpu_data *d = &r->cpus[i];
                d->id = (int) take32(r, &c);
                d->off = take64(r, &c);
                d->size = take64(r, &c);
                if (c.bad || !have(r, d->off, d->size) || d->id < 0)
                        return -EBADMSG;
                d->pos = d->off;
                d->end = d->off + d->size;
                if (r->comp != COMP_NONE && d->size > 0) {
                        /* a chunk count, then chunks of d->size bytes in all */
                        if (!have(r, d->off, d->size + 4))
                                return -EBADMSG;
                        d->chunks_left = v32(r, r->buf + d->off);
                        d->pos = d->off + 4;
                        d->end = d->pos + d->size;
                }
        }
        r->n_cpus = n;
        return 0;
}

static int open_v7(struct vs_dat_reader *r, struct cur *c) {
        uint64_t header_info = 0, ftrace = 0, events = 0, cmdlines = 0, opts;
        const char *comp = take_str(c);
        unsigned sections = 0;
        int k;

        if (!comp || !take_str(c))
                return -EBADMSG;
        if (strcmp(comp, "none") == 0)
                r->comp = COMP_NONE;
        else if (strcmp(comp, "zstd") == 0)
                r->comp = COMP_ZSTD;
        else if (strcmp(comp, "zlib") == 0)
                r->comp = COMP_ZLIB;
        else
                return -EOPNOTSUPP;
        k = load_lib(r->comp);
        if (k < 0)
                return k;
        opts = take64(r, c);
        if (c->bad)
                return -EBADMSG;
        while (opts) {
                _cleanup_free_ uint8_t *mem = NULL;
                struct cur oc;
                if (++sections > 64)
                        return -EBADMSG;
                k = section(r, opts, 0, &oc, &mem);
                if (k < 0)
                        return k;
                opts = 0;
                for (;;) {
                        const uint8_t *q = take(&oc, 2);
                        uint32_t len = take32(r, &oc);
                        const uint8_t *d = take(&oc, len);
                        if (!q || !d)
                                return -EBADMSG;
                        uint16_t id = v16(r, q);
                        if (id == OPT_DONE) {
                                if (len != 8)
                                        return -EBADMSG;
                                opts = v64(r, d);
                                break;
                        }
                        switch (id) {
                        case OPT_OFFSET:
                        case OPT_TSC2NSEC:
                        case OPT_TIME_SHIFT:
                        case OPT_BUFFER_TEXT:
                                return -EOPNOTSUPP;
                        case OPT_BUFFER:
                                k = parse_buffer_option(r, d, len);
                                if (k < 0)
                                        return k;
                                break;
                        case OPT_HEADER_INFO:
                        case OPT_FTRACE_EVENTS:
                        case OPT_EVENT_FORMATS:
                        case OPT_CMDLINES:
                                if (len != 8)
                                        return -EBADMSG;
                                *(id == OPT_HEADER_INFO ? &header_info : id == OPT_FTRACE_EVENTS ? &ftrace
                                  : id == OPT_EVENT_FORMATS ? &events : &cmdlines) = v64(r, d);
                                break;
                        }
                }
        }
        if (!header_info || !r->cpus)
                return -EBADMSG;
        struct {
                uint64_t off;
                uint16_t id;
        } secs[] = { { header_info, OPT_HEADER_INFO }, { ftrace, OPT_FTRACE_EVENTS },
                     { events, OPT_EVENT_FORMATS }, { cmdlines, OPT_CMDLINES } };
        for (unsigned i = 0; i < ELEMENTSOF(secs); i++) {
                _cleanup_free_ uint8_t *mem = NULL;
                struct cur sc;
                if (!secs[i].off)
                        continue;
                k = section(r, secs[i].off, secs[i].id, &sc, &mem);
                if (k < 0)
                        return k;
                switch (secs[i].id) {
                case OPT_HEADER_INFO:
                        k = parse_header_info(r, &sc);
                        break;
                case OPT_FTRACE_EVENTS:
                        k = parse_formats(r, &sc, "ftrace", take32(r, &sc));
                        break;
                case OPT_EVENT_FORMATS:
                        k = parse_events(r, &sc);
                        break;
                default: {
                        uint64_t len = take64(r, &sc);
                        const uint8_t *p = take(&sc, len);
                        k = p ? parse_cmdlines(r, p, len) : -EBADMSG;
                }
                }
                if (k < 0)
                        return k;
        }
        return 0;
}

/* ------------------------------------------------------------------ API */

int vs_dat_reader_open(const void *buf, uint64_t size, vs_dat_want_fn want, struct vs_dat_reader **ret) {
        return vs_dat_reader_open_meta(buf, size, want, NULL, NULL, ret);
}

int vs_dat_reader_open_meta(const void *buf, uint64_t size, vs_dat_want_fn want, const struct vs_dat_meta_ops *meta,
                            void *userdata, struct vs_dat_reader **ret) {
        struct vs_dat_reader *r;
        struct cur c = { .p = buf, .end = (const uint8_t *) buf + size };
        const uint8_t *p;
        const char *version;
        int k;

        r = calloc(1, sizeof(*r));
        if (!r)
                return -ENOMEM;
        r->buf = buf;
        r->size = size;
        r->want = want;
        r->meta = meta;
        r->meta_ud = userdata;
        k = -EBADMSG;
        if (!take(&c, 10) || !(version = take_str(&c)) || !(p = take(&c, 6)))
                goto fail;
        r->version = strcmp(version, "6") == 0 ? 6 : strcmp(version, "7") == 0 ? 7 : 0;
        k = -EOPNOTSUPP;
        if (!r->version || p[0] > 1 || (p[1] != 4 && p[1] != 8))
                goto fail;
        r->big = p[0] == 1;
        r->long_size = p[1];
        r->page_size = v32(r, p + 2);
        k = -EBADMSG;
        if (r->page_size < 64 || r->page_size > (1u << 24) || (r->page_size & (r->page_size - 1)))
                goto fail;
        k = -ENOMEM;
        r->tep = tep_alloc();
        if (!r->tep)
                goto fail;
        tep_set_file_bigendian(r->tep, r->big ? TEP_BIG_ENDIAN : TEP_LITTLE_ENDIAN);
        tep_set_long_size(r->tep, (int) r->long_size);
        tep_set_page_size(r->tep, (int) r->page_size);
        k = r->version == 6 ? open_v6(r, &c) : open_v7(r, &c);
        if (k < 0)
                goto fail;
        k = -EOPNOTSUPP;
        if (tep_is_old_format(r->tep))
                goto fail;
        tep_set_cpus(r->tep, (int) (r->file_cpus ? r->file_cpus : r->n_cpus));
        *ret = r;
        return 0;
fail:
        vs_dat_reader_free(r);
        return k;
}

void vs_dat_reader_free(struct vs_dat_reader *r) {
        if (!r)
                return;
        for (unsigned i = 0; i < r->n_cpus; i++)
                free(r->cpus[i].chunk);
        free(r->cpus);
        tep_free(r->tep);
        free(r);
}

struct tep_handle *vs_dat_reader_tep(struct vs_dat_reader *r) {
        return r->tep;
}

unsigned vs_dat_reader_n_cpus(const struct vs_dat_reader *r) {
        return r->n_cpus;
}

int vs_dat_reader_cpu_id(const struct vs_dat_reader *r, unsigned i) {
        return i < r->n_cpus ? r->cpus[i].id : -1;
}

unsigned vs_dat_reader_page_size(const struct vs_dat_reader *r) {
        return r->page_size;
}

int vs_dat_reader_kbuffer_long(const struct vs_dat_reader *r) {
        return tep_get_header_page_size(r->tep) == 8 ? KBUFFER_LSIZE_8 : KBUFFER_LSIZE_4;
}

int vs_dat_reader_kbuffer_endian(const struct vs_dat_reader *r) {
        return r->big ? KBUFFER_ENDIAN_BIG : KBUFFER_ENDIAN_LITTLE;
}

int vs_dat_reader_next_page(struct vs_dat_reader *r, unsigned i, const void **ret_page, uint64_t *ret_offset) {
        struct cpu_data *d;

        if (i >= r->n_cpus)
                return -EINVAL;
        d = &r->cpus[i];
        if (r->comp == COMP_NONE) {
                if (d->pos + r->page_size > d->end)
                        return 0;       /* (a partial last page: the layout check refuses those) */
                *ret_page = r->buf + d->pos;
                *ret_offset = d->pos;
                d->pos += r->page_size;
                return 1;
        }
        while (d->chunk_pos + r->page_size > d->chunk_len) {
                if (!d->chunks_left)
                        return 0;
                if (d->pos + 8 > d->end)
                        return -EBADMSG;
                uint32_t clen = v32(r, r->buf + d->pos), ulen = v32(r, r->buf + d->pos + 4);
                if (clen > d->end - d->pos - 8 || ulen > (256u << 20))
                        return -EBADMSG;
                if (ulen > d->chunk_alloc) {
                        uint8_t *n = realloc(d->chunk, ulen);
                        if (!n)
                                return -ENOMEM;
                        d->chunk = n;
                        d->chunk_alloc = ulen;
                }
                if (decompress(r, r->buf + d->pos + 8, clen, d->chunk, ulen) < 0)
                        return -EBADMSG;
                d->chunk_off = d->pos;
                d->chunk_len = ulen;
                d->chunk_pos = 0;
                d->pos += 8 + (uint64_t) clen;
                d->chunks_left--;
        }
        *ret_page = d->chunk + d->chunk_pos;
        *ret_offset = d->chunk_off;
        d->chunk_pos += r->page_size;
        return 1;
}
