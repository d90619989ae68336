/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * dat-layout.c - the trace-cmd v6 file layout check (dat-layout.h): a bounded
 * walk over the header, format and option sections and the per-CPU data
 * offsets, on bytes in memory.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dat-layout.h"

struct rd {
        const uint8_t *p;
        uint64_t size, off;
        bool le;
};

static bool rd_bytes(struct rd *r, uint64_t n) {
        if (n > r->size - r->off)
                return false;
        r->off += n;
        return true;
}

static bool rd_u(struct rd *r, unsigned width, uint64_t *ret) {
        uint64_t v = 0;
        if (width > r->size - r->off)
                return false;
        for (unsigned i = 0; i < width; i++) {
                unsigned b = r->le ? width - 1 - i : i;
                v = (v << 8) | r->p[r->off + b];
        }
        r->off += width;
        *ret = v;
        return true;
}

static bool rd_str(struct rd *r, const char *want) {
        size_t n = strlen(want) + 1;
        if (n > r->size - r->off || memcmp(r->p + r->off, want, n) != 0)
                return false;
        r->off += n;
        return true;
}

static bool rd_cstr(struct rd *r) {
        const void *z = memchr(r->p + r->off, 0, r->size - r->off);
        if (!z)
                return false;
        r->off = (const uint8_t *) z - r->p + 1;
        return true;
}

/* a length-prefixed blob: width-byte size then that many bytes */
static bool rd_blob(struct rd *r, unsigned width) {
        uint64_t n;
        return rd_u(r, width, &n) && rd_bytes(r, n);
}

/*
 * One ring-buffer page as libtraceevent's kbuffer walks it (translate_data()
 * and update_pointers() in kbuffer-parse.c, with its int lengths): every
 * event must end after it starts and inside the page's commit.  kbuffer
 * itself loops forever on an event whose length takes it back (a type-0
 * length word below 4, a negative padding length: found by fuzz-dat), and
 * hands out data past the commit for one that ends beyond it.  Returns the
 * bad event's offset in the page, or 0 when the page is fine.
 */
#define RB_COMMIT_MASK ((1u << 27) - 1)
#define RB_MISSED_EVENTS (1u << 31)
#define RB_MISSED_STORED (1u << 30)

static uint64_t bad_event(const struct rd *r, const uint8_t *page, uint64_t page_size, unsigned long_size) {
        struct rd h = { .p = page, .size = page_size, .off = 8, .le = r->le };
        uint64_t commit, flags, start = 8 + long_size;
        int64_t pos = 0, next;

        if (!rd_u(&h, long_size, &commit))
                return 8;
        flags = commit;
        commit &= RB_COMMIT_MASK;
        if (commit > page_size - start)
                return 8;
        /* kbuffer reads a stored lost-event count right after the commit;
         * the kernel stores one only where it fits in the page */
        if ((flags & RB_MISSED_EVENTS) && (flags & RB_MISSED_STORED) && commit + long_size > page_size - start)
                return 8;
        while ((uint64_t) pos < commit) {
                uint64_t w, v;
                unsigned type_len;

                h.off = start + (uint64_t) pos;
                if (!rd_u(&h, 4, &w))
                        return start + (uint64_t) pos;
                type_len = r->le ? (unsigned) (w & 31) : (unsigned) (w >> 27);
                switch (type_len) {
                case 29:                        /* padding: length in the next word */
                        if (!rd_u(&h, 4, &v))
                                return start + (uint64_t) pos;
                        next = pos + 4 + (int32_t) (uint32_t) v;
                        break;
                case 30:                        /* time extend */
                case 31:                        /* absolute time stamp: the same 8 bytes
                                                 * in every libtraceevent (since the
                                                 * 2020 fix in its kbuffer, before 1.0) */
                        next = pos + 8;
                        break;
                case 0:                         /* data, length (+4) in the next word */
                        if (!rd_u(&h, 4, &v))
                                return start + (uint64_t) pos;
                        /* in 64 bits: kbuffer's int wraps where this goes
                         * negative, and both fail the check below */
                        next = pos + 8 + (((int64_t) (int32_t) (uint32_t) v - 4 + 3) & ~(int64_t) 3);
                        break;
                default:
                        next = pos + 4 + 4 * (int64_t) type_len;
                        break;
                }
                if (next <= pos || (uint64_t) next > commit)
                        return start + (uint64_t) pos;
                pos = next;
        }
        return 0;
}

int vs_dat_check_layout(const void *buf, uint64_t size, unsigned page_long, struct vs_dat_info *info, char *err,
                        size_t errlen) {
        const uint8_t *map = buf;
        struct rd r = {};
        uint64_t n, cpus, m, page_size;
        const char *what = "header";
        struct vs_dat_info dummy;

        if (!info)
                info = &dummy;
        *info = (struct vs_dat_info) {};
        if (page_long != 0 && page_long != 4 && page_long != 8) {
                snprintf(err, errlen, "no ring-buffer page has %u-byte commit words", page_long);
                return -EINVAL;
        }

        if (size < 16) {
                snprintf(err, errlen, "file is %llu bytes, too short for a trace-cmd header",
                         (unsigned long long) size);
                return -EBADMSG;
        }
        r.p = map;
        r.size = size;
        r.off = 10;                             /* magic, checked by the caller */
        if (!rd_cstr(&r))
                goto bad;
        {
                /* libtracecmd reads the version as a number ("06" is 6): so do we.
                 * 7 and later use sections libtracecmd checks itself; anything
                 * else is not a file we (or it) can read safely. */
                char *end;
                const char *vs = (const char *) map + 10;
                long v = strtol(vs, &end, 10);
                if (end == vs || *end || v < 1 || v > 7) {
                        snprintf(err, errlen, "unsupported trace-cmd file version '%.8s'", vs);
                        return -EBADMSG;
                }
                info->version = (unsigned) v;
                if (v == 7)
                        return 0;
        }
        if (r.off + 6 > r.size)
                goto bad;
        r.le = map[r.off] == 0;                 /* 0 = little endian file */
        if (map[r.off] > 1 || (map[r.off + 1] != 4 && map[r.off + 1] != 8))
                goto bad;
        info->long_size = map[r.off + 1];
        r.off += 2;                             /* endian, long size */
        if (!rd_u(&r, 4, &page_size))
                goto bad;
        if (page_size < 64 || page_size > (1u << 24) || (page_size & (page_size - 1))) {
                snprintf(err, errlen, "page size %llu is not a power of two in 64..16M",
                         (unsigned long long) page_size);
                return -EBADMSG;
        }
        what = "header_page";
        if (!rd_str(&r, "header_page") || !rd_u(&r, 8, &n) || n > r.size - r.off)
                goto bad;
        info->header_page_off = r.off;
        info->header_page_len = n;
        r.off += n;
        what = "header_event";
        if (!rd_str(&r, "header_event") || !rd_blob(&r, 8))
                goto bad;
        what = "ftrace event formats";
        if (!rd_u(&r, 4, &n))
                goto bad;
        for (uint64_t i = 0; i < n; i++)
                if (!rd_blob(&r, 8))
                        goto bad;
        what = "event formats";
        if (!rd_u(&r, 4, &n))
                goto bad;
        for (uint64_t i = 0; i < n; i++) {
                if (!rd_cstr(&r) || !rd_u(&r, 4, &m))
                        goto bad;
                for (uint64_t j = 0; j < m; j++)
                        if (!rd_blob(&r, 8))
                                goto bad;
        }
        what = "kallsyms";
        if (!rd_blob(&r, 4))
                goto bad;
        what = "printk formats";
        if (!rd_blob(&r, 4))
                goto bad;
        what = "cmdlines";
        if (!rd_blob(&r, 8))
                goto bad;
        what = "cpu count";
        if (!rd_u(&r, 4, &cpus) || cpus > 65536)
                goto bad;
        if (r.off + 10 <= r.size && memcmp(map + r.off, "options  ", 10) == 0) {
                uint64_t id;
                r.off += 10;
                what = "options";
                for (;;) {
                        if (!rd_u(&r, 2, &id))
                                goto bad;
                        if (id == 0)
                                break;
                        if (!rd_blob(&r, 4))
                                goto bad;
                }
        }
        what = "flyrecord";
        if (r.off + 10 <= r.size && memcmp(map + r.off, "latency  ", 10) == 0)
                return 0;
        if (!rd_str(&r, "flyrecord"))
                goto bad;
        for (uint64_t c = 0; c < cpus; c++) {
                uint64_t off, len;
                if (!rd_u(&r, 8, &off) || !rd_u(&r, 8, &len))
                        goto bad;
                if (off > r.size || len > r.size - off) {
                        snprintf(err, errlen,
                                 "CPU %llu data at offset %llu (%llu bytes) runs past the end of the file "
                                 "(%llu bytes): truncated?",
                                 (unsigned long long) c, (unsigned long long) off, (unsigned long long) len,
                                 (unsigned long long) r.size);
                        return -EBADMSG;
                }
                /* libtracecmd loads a whole page wherever a CPU's data has
                 * bytes left, reading past a short last page (file bytes,
                 * zeros or SIGBUS, depending on the mapping); trace-cmd and
                 * vschedd write whole pages */
                if (len % page_size) {
                        snprintf(err, errlen,
                                 "CPU %llu data at offset %llu (%llu bytes) ends inside a %llu-byte "
                                 "ring-buffer page",
                                 (unsigned long long) c, (unsigned long long) off, (unsigned long long) len,
                                 (unsigned long long) page_size);
                        return -EBADMSG;
                }
                /* the pages libtracecmd will hand to kbuffer */
                for (uint64_t p = 0; page_long && p + page_size <= len; p += page_size) {
                        uint64_t at = bad_event(&r, map + off + p, page_size, page_long);
                        if (at) {
                                snprintf(err, errlen,
                                         "CPU %llu data: the ring-buffer page at offset %llu is corrupt "
                                         "(event at byte %llu)",
                                         (unsigned long long) c, (unsigned long long) (off + p),
                                         (unsigned long long) at);
                                return -EBADMSG;
                        }
                }
        }
        return 0;
bad:
        snprintf(err, errlen, "%s section at offset %llu is cut short or corrupt", what,
                 (unsigned long long) r.off);
        return -EBADMSG;
}
