/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "rb-page.h"

#define TYPE_TIME_EXTEND 30u
#define TS_MASK ((UINT64_C(1) << VS_RB_TS_SHIFT) - 1)
#define MAX_EXTEND_DELTA (UINT64_C(1) << (VS_RB_TS_SHIFT + 32))
#define ALIGN4(x) (((x) + 3) & ~(size_t) 3)

int vs_rb_writer_init(struct vs_rb_writer *w, size_t page_size) {
        if (!w || page_size < 64 || (page_size & (page_size - 1)))
                return -EINVAL;
        *w = (struct vs_rb_writer) { .page_size = page_size };
        return 0;
}

void vs_rb_writer_done(struct vs_rb_writer *w) {
        if (!w)
                return;
        free(w->buf);
        *w = (struct vs_rb_writer) { .page_size = w->page_size };
}

static uint8_t *last_page(struct vs_rb_writer *w) {
        return w->buf + (w->n_pages - 1) * w->page_size;
}

static void put_u32(uint8_t *p, uint32_t v) {
        memcpy(p, &v, sizeof(v));
}

static void put_u64(uint8_t *p, uint64_t v) {
        memcpy(p, &v, sizeof(v));
}

static void seal_page(struct vs_rb_writer *w) {
        if (w->n_pages > 0)
                put_u64(last_page(w) + 8, w->used);
}

static int new_page(struct vs_rb_writer *w, uint64_t ts) {
        seal_page(w);

        if (w->n_pages == w->alloc_pages) {
                size_t n = w->alloc_pages ? w->alloc_pages * 2 : 16;
                uint8_t *b;

                if (n > SIZE_MAX / w->page_size)
                        return -ENOMEM;
                b = realloc(w->buf, n * w->page_size);
                if (!b)
                        return -ENOMEM;
                w->buf = b;
                w->alloc_pages = n;
        }

        w->n_pages++;
        memset(last_page(w), 0, w->page_size);
        put_u64(last_page(w), ts);
        w->used = 0;
        w->last_ts = ts;
        return 0;
}

/* Bytes an event of @len payload bytes takes on the page, header included. */
static size_t event_size(size_t len) {
        if (len == 0)
                len = 1;        /* the kernel never stores zero-length events */
        if (len > VS_RB_MAX_SMALL_DATA)
                return 8 + ALIGN4(len);
        return 4 + ALIGN4(len);
}

int vs_rb_writer_add(struct vs_rb_writer *w, uint64_t ts_ns, const void *data, size_t len) {
        size_t room = w->page_size - VS_RB_PAGE_HEADER_SIZE;
        size_t need = event_size(len), extend = 0;
        uint64_t delta = 0;
        uint8_t *p;
        int r;

        if (w->finished)
                return -ESTALE;
        if (!data && len > 0)
                return -EINVAL;
        if (need > room)
                return -E2BIG;

        if (w->n_pages > 0) {
                if (ts_ns < w->last_ts)
                        return -ERANGE;
                delta = ts_ns - w->last_ts;
                if (delta > TS_MASK)
                        extend = 8;
        }

        if (w->n_pages == 0 || delta >= MAX_EXTEND_DELTA || w->used + extend + need > room) {
                r = new_page(w, ts_ns);
                if (r < 0)
                        return r;
                delta = 0;
                extend = 0;
        }

        p = last_page(w) + VS_RB_PAGE_HEADER_SIZE + w->used;

        if (extend) {
                /* like rb_add_time_stamp(): low 27 bits in the header, the rest in array[0] */
                put_u32(p, TYPE_TIME_EXTEND | (uint32_t) ((delta & TS_MASK) << 5));
                put_u32(p + 4, (uint32_t) (delta >> VS_RB_TS_SHIFT));
                p += 8;
                delta = 0;
        }

        if (len > VS_RB_MAX_SMALL_DATA) {
                /* type_len 0: array[0] holds the length of array[0] + data, as rb_update_event() */
                put_u32(p, (uint32_t) (delta << 5));
                put_u32(p + 4, (uint32_t) (ALIGN4(len) + 4));
                memcpy(p + 8, data, len);
        } else {
                size_t dlen = len ? ALIGN4(len) : 4;

                put_u32(p, (uint32_t) (dlen / 4) | (uint32_t) (delta << 5));
                if (len)
                        memcpy(p + 4, data, len);
        }

        w->used += extend + need;
        w->last_ts = ts_ns;
        w->n_records++;
        return 0;
}

int vs_rb_writer_finish(struct vs_rb_writer *w, const void **ret_data, size_t *ret_size) {
        if (!w->finished) {
                seal_page(w);
                w->finished = true;
        }
        if (ret_data)
                *ret_data = w->buf;
        if (ret_size)
                *ret_size = w->n_pages * w->page_size;
        return 0;
}

void *vs_rb_writer_steal(struct vs_rb_writer *w, size_t *ret_size) {
        void *b;

        (void) vs_rb_writer_finish(w, NULL, ret_size);
        b = w->buf;
        w->buf = NULL;
        w->n_pages = w->alloc_pages = 0;
        w->used = 0;
        return b;
}
