/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * test-rb-page.c - round-trips records through tools/rb-page and libtraceevent's
 * kbuffer: small and large payloads (type_len 0 above 112 bytes), small and
 * huge time gaps (time extends), page breaks, and error cases.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <kbuffer.h>

#include "macro.h"
#include "rb-page.h"

struct rec {
        uint64_t ts;
        size_t len;
        uint8_t data[512];
};

static void fill(struct rec *r, uint64_t ts, size_t len, unsigned seed) {
        r->ts = ts;
        r->len = len;
        for (size_t i = 0; i < len; i++)
                r->data[i] = (uint8_t) (seed * 31 + i * 7 + 1);
}

/* Encode @n records, then decode all pages with kbuffer and compare. */
static void roundtrip(const struct rec *recs, size_t n, size_t page_size, size_t *ret_pages) {
        _cleanup_rb_writer_ struct vs_rb_writer w = {};
        struct kbuffer *kb;
        const void *pages;
        size_t size, k = 0;

        assert_int_equal(vs_rb_writer_init(&w, page_size), 0);
        for (size_t i = 0; i < n; i++)
                assert_int_equal(vs_rb_writer_add(&w, recs[i].ts, recs[i].data, recs[i].len), 0);
        assert_int_equal(vs_rb_writer_finish(&w, &pages, &size), 0);
        assert_int_equal(size % page_size, 0);

        kb = kbuffer_alloc(KBUFFER_LSIZE_8, KBUFFER_ENDIAN_SAME_AS_HOST);
        assert_non_null(kb);

        for (size_t off = 0; off < size; off += page_size) {
                unsigned long long ts;
                void *data;

                assert_int_equal(kbuffer_load_subbuffer(kb, (uint8_t *) pages + off), 0);
                for (data = kbuffer_read_event(kb, &ts); data; data = kbuffer_next_event(kb, &ts)) {
                        size_t want = recs[k].len ? (recs[k].len + 3) & ~(size_t) 3 : 4;

                        assert_true(k < n);
                        assert_int_equal(ts, recs[k].ts);
                        assert_int_equal(kbuffer_event_size(kb), want);
                        if (recs[k].len)
                                assert_memory_equal(data, recs[k].data, recs[k].len);
                        k++;
                }
        }
        assert_int_equal(k, n);
        kbuffer_free(kb);
        if (ret_pages)
                *ret_pages = size / page_size;
}

static void test_small_gaps(void **state) {
        static struct rec recs[200];
        uint64_t ts = 1000000000ull;

        for (size_t i = 0; i < ELEMENTSOF(recs); i++) {
                ts += i % 5;            /* includes zero deltas */
                fill(&recs[i], ts, 4 + (i % 28) * 4, (unsigned) i);
        }
        roundtrip(recs, ELEMENTSOF(recs), 4096, NULL);
}

static void test_sizes(void **state) {
        /* every length from 1 to 300: odd sizes, exactly 112 (type_len 28),
         * 113.. (type_len 0 with array[0] = aligned length + 4) */
        static struct rec recs[300];
        size_t pages;

        for (size_t i = 0; i < ELEMENTSOF(recs); i++)
                fill(&recs[i], 5000 + i * 100, i + 1, (unsigned) i);
        roundtrip(recs, ELEMENTSOF(recs), 4096, &pages);
        assert_true(pages > 1);
}

static void test_large_gaps(void **state) {
        static struct rec recs[64];
        uint64_t ts = 123;
        static const uint64_t gaps[] = {
                0, 1, (1u << 27) - 1, 1u << 27, (1u << 27) + 1, 1000000000ull,
                3600ull * 1000000000ull, (1ull << 40) + 12345, 7,
        };

        for (size_t i = 0; i < ELEMENTSOF(recs); i++) {
                ts += gaps[i % ELEMENTSOF(gaps)];
                fill(&recs[i], ts, i % 2 ? 200 : 24, (unsigned) i);
        }
        roundtrip(recs, ELEMENTSOF(recs), 4096, NULL);
}

static void test_gap_beyond_extend(void **state) {
        /* a gap that does not fit 27 + 32 bits forces a new page */
        static struct rec recs[3];
        size_t pages;

        fill(&recs[0], 10, 16, 1);
        fill(&recs[1], 10 + (1ull << 60), 16, 2);
        fill(&recs[2], 11 + (1ull << 60), 16, 3);
        roundtrip(recs, ELEMENTSOF(recs), 4096, &pages);
        assert_int_equal(pages, 2);
}

static void test_page_fill(void **state) {
        /* 4080 data bytes per page: 40-byte events (4 + 36) fill exactly 102 per page */
        static struct rec recs[1000];
        size_t pages;

        for (size_t i = 0; i < ELEMENTSOF(recs); i++)
                fill(&recs[i], 100 + i * 3, 36, (unsigned) i);
        roundtrip(recs, ELEMENTSOF(recs), 4096, &pages);
        assert_int_equal(pages, (1000 + 101) / 102);
}

static void test_small_page(void **state) {
        static struct rec recs[50];

        for (size_t i = 0; i < ELEMENTSOF(recs); i++)
                fill(&recs[i], i * 1000000000ull, 1 + i * 5, (unsigned) i);
        roundtrip(recs, ELEMENTSOF(recs), 512, NULL);
}

static void test_errors(void **state) {
        _cleanup_rb_writer_ struct vs_rb_writer w = {};
        static uint8_t big[5000];
        const void *p;
        size_t size;

        assert_int_equal(vs_rb_writer_init(&w, 1000), -EINVAL);
        assert_int_equal(vs_rb_writer_init(&w, 4096), 0);
        assert_int_equal(vs_rb_writer_finish(&w, &p, &size), 0);
        assert_int_equal(size, 0);
        vs_rb_writer_done(&w);

        assert_int_equal(vs_rb_writer_init(&w, 4096), 0);
        assert_int_equal(vs_rb_writer_add(&w, 100, big, sizeof(big)), -E2BIG);
        assert_int_equal(vs_rb_writer_add(&w, 100, big, 4080 - 8), 0);     /* exactly one full page */
        assert_int_equal(vs_rb_writer_add(&w, 99, big, 8), -ERANGE);
        assert_int_equal(vs_rb_writer_add(&w, 101, big, 8), 0);
        assert_int_equal(vs_rb_writer_finish(&w, &p, &size), 0);
        assert_int_equal(size, 2 * 4096);
        assert_int_equal(vs_rb_writer_add(&w, 102, big, 8), -ESTALE);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_small_gaps),
                cmocka_unit_test(test_sizes),
                cmocka_unit_test(test_large_gaps),
                cmocka_unit_test(test_gap_beyond_extend),
                cmocka_unit_test(test_page_fill),
                cmocka_unit_test(test_small_page),
                cmocka_unit_test(test_errors),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
