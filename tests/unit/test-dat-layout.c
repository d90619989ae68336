/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * test-dat-layout.c - the .dat layout check (lib/dat-layout.c) on real
 * files: whole ones pass, every cut through a v6 file is refused with the
 * section and offset named, odd versions are refused, v7 is left to
 * libtracecmd; corrupt ring-buffer pages (edited in place) are refused the
 * way kbuffer would misread them.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "dat-layout.h"
#include "macro.h"

#ifndef TEST_DATADIR
#define TEST_DATADIR "tests/data"
#endif

static uint8_t *slurp(const char *path, size_t *len) {
        FILE *f = fopen(path, "re");
        uint8_t *buf;
        long n;

        assert_non_null(f);
        assert_int_equal(fseek(f, 0, SEEK_END), 0);
        n = ftell(f);
        assert_true(n > 0);
        rewind(f);
        buf = malloc((size_t) n);
        assert_non_null(buf);
        assert_int_equal(fread(buf, 1, (size_t) n, f), (size_t) n);
        fclose(f);
        *len = (size_t) n;
        return buf;
}

/* Every prefix of a whole v6 file is refused: each cut lands in a section
 * or leaves some CPU's data past the end (checked on a copy of exactly the
 * prefix's size, so ASan sees any read beyond it). */
static void check_file(const char *name) {
        char path[512], err[256];
        size_t len;
        _cleanup_free_ uint8_t *buf = NULL;

        snprintf(path, sizeof(path), "%s/%s", TEST_DATADIR, name);
        buf = slurp(path, &len);
        err[0] = 0;
        assert_int_equal(vs_dat_check_layout(buf, len, 8, NULL, err, sizeof(err)), 0);
        assert_string_equal(err, "");

        for (size_t cut = 0; cut < len; cut += cut < 4096 ? 1 : 4093) {
                _cleanup_free_ uint8_t *p = malloc(cut ? cut : 1);
                assert_non_null(p);
                memcpy(p, buf, cut);
                err[0] = 0;
                int r = vs_dat_check_layout(p, cut, 8, NULL, err, sizeof(err));
                if (r != -EBADMSG)
                        fail_msg("%s cut at %zu of %zu: %d, want -EBADMSG", name, cut, len, r);
                assert_true(strstr(err, "cut short") || strstr(err, "runs past the end") ||
                            strstr(err, "too short") || strstr(err, "version"));
        }
}

static void test_bundled(void **state) {
        check_file("bundled.dat");              /* written by lib/dat-writer */
}

static void test_testbed(void **state) {
        check_file("testbed/2to1-vschedd.dat");         /* recorded live in the testbed's L1 */
}

/* trace-cmd 3.1 writes v7 (sections, zstd): libtracecmd checks those itself,
 * so any cut after the version passes here. */
static void test_v7_left_to_libtracecmd(void **state) {
        char err[256];
        size_t len;
        _cleanup_free_ uint8_t *buf = slurp(TEST_DATADIR "/testbed/2to1-trace-cmd.dat", &len);

        assert_memory_equal(buf + 10, "7", 2);
        assert_int_equal(vs_dat_check_layout(buf, len, 8, NULL, err, sizeof(err)), 0);
        assert_int_equal(vs_dat_check_layout(buf, 16, 8, NULL, err, sizeof(err)), 0);
        assert_int_equal(vs_dat_check_layout(buf, 15, 8, NULL, err, sizeof(err)), -EBADMSG);
}

static void test_versions(void **state) {
        char err[256];
        size_t len;
        _cleanup_free_ uint8_t *buf = slurp(TEST_DATADIR "/bundled.dat", &len);

        assert_int_equal(buf[10], '6');
        buf[10] = '8';
        assert_int_equal(vs_dat_check_layout(buf, len, 8, NULL, err, sizeof(err)), -EBADMSG);
        assert_non_null(strstr(err, "unsupported trace-cmd file version '8'"));
        buf[10] = 'x';
        assert_int_equal(vs_dat_check_layout(buf, len, 8, NULL, err, sizeof(err)), -EBADMSG);
        buf[10] = '7';                          /* sections: libtracecmd checks them */
        assert_int_equal(vs_dat_check_layout(buf, len, 8, NULL, err, sizeof(err)), 0);
        buf[10] = '6';
        buf[11] = 'x';                          /* "6x": not a number */
        assert_int_equal(vs_dat_check_layout(buf, len, 8, NULL, err, sizeof(err)), -EBADMSG);
}

/* Where what follows the NUL-terminated section name @name starts. */
static uint8_t *after_name(uint8_t *buf, size_t len, const char *name) {
        uint8_t *at = memmem(buf, len, name, strlen(name) + 1);

        assert_non_null(at);
        return at + strlen(name) + 1;
}

/* A section size that points past the end names the section and offset. */
static void test_section_named(void **state) {
        char err[256];
        size_t len;
        _cleanup_free_ uint8_t *buf = slurp(TEST_DATADIR "/bundled.dat", &len);

        memset(after_name(buf, len, "header_page"), 0xff, 8);   /* its 8-byte size */
        assert_int_equal(vs_dat_check_layout(buf, len, 8, NULL, err, sizeof(err)), -EBADMSG);
        assert_non_null(strstr(err, "header_page section at offset"));
}

/* An event whose length takes kbuffer backwards (libtraceevent loops on it
 * forever; found by fuzz-dat): the page is refused, naming CPU and offset.
 * bundled.dat's first CPU section starts at a page boundary: its first event
 * header follows the 16-byte page header. */
static void test_backward_event(void **state) {
        char err[256];
        size_t len;
        _cleanup_free_ uint8_t *buf = slurp(TEST_DATADIR "/bundled.dat", &len);
        uint64_t off = 0;

        memcpy(&off, after_name(buf, len, "flyrecord"), 8);     /* CPU 0 data offset (little endian host) */
        assert_true(off > 0 && off + 4096 <= len);
        uint8_t *ev = buf + off + 16;
        ev[0] = 0;                              /* type_len 0, delta 0 */
        ev[1] = ev[2] = ev[3] = 0;
        ev[4] = 0xfc;                           /* length word -4: next = pos + 8 - 8 = pos */
        ev[5] = ev[6] = ev[7] = 0xff;
        assert_int_equal(vs_dat_check_layout(buf, len, 8, NULL, err, sizeof(err)), -EBADMSG);
        assert_non_null(strstr(err, "CPU 0 data: the ring-buffer page at offset"));
        /* page_long 0: the layout alone, which is fine */
        assert_int_equal(vs_dat_check_layout(buf, len, 0, NULL, err, sizeof(err)), 0);
}

/* CPU 0's data offset in bundled.dat (little-endian host and file), and its
 * first page's header and first event header (16-byte page header). */
static uint64_t cpu0_off(uint8_t *buf, size_t len) {
        uint64_t off = 0;

        memcpy(&off, after_name(buf, len, "flyrecord"), 8);
        assert_true(off > 0 && off + 4096 <= len);
        return off;
}

/* libtracecmd reads a whole page wherever a CPU's data has bytes left, past
 * a short last page (this looped in tracecmd_read_data(); found by fuzz-dat):
 * data that does not come in whole pages is refused. */
static void test_partial_page(void **state) {
        char err[256];
        size_t len;
        _cleanup_free_ uint8_t *buf = slurp(TEST_DATADIR "/bundled.dat", &len);
        uint8_t *size0 = after_name(buf, len, "flyrecord") + 8;       /* CPU 0's data size */
        uint64_t n;

        memcpy(&n, size0, 8);
        assert_true(n >= 4096 && n % 4096 == 0);
        n -= 1;
        memcpy(size0, &n, 8);
        assert_int_equal(vs_dat_check_layout(buf, len, 8, NULL, err, sizeof(err)), -EBADMSG);
        assert_non_null(strstr(err, "ends inside a 4096-byte ring-buffer page"));
        n = 1;
        memcpy(size0, &n, 8);
        assert_int_equal(vs_dat_check_layout(buf, len, 8, NULL, err, sizeof(err)), -EBADMSG);
        n = 0;                                  /* an empty CPU is fine */
        memcpy(size0, &n, 8);
        assert_int_equal(vs_dat_check_layout(buf, len, 8, NULL, err, sizeof(err)), 0);
}

/* An absolute time stamp (type 31) is 8 bytes, and the walk goes on past it:
 * a backward event after one is refused (it hid there from the walk, and
 * kbuffer looped on it; found by fuzz-dat). */
static void test_walk_past_time_stamp(void **state) {
        char err[256];
        size_t len;
        _cleanup_free_ uint8_t *buf = slurp(TEST_DATADIR "/bundled.dat", &len);
        uint8_t *ev = buf + cpu0_off(buf, len) + 16;
        static const uint8_t stamp[8] = { 31, 0, 0, 0, 0, 0, 0, 0 };
        static const uint8_t back[8] = { 0, 0, 0, 0, 0xfc, 0xff, 0xff, 0xff };

        memcpy(ev, stamp, 8);
        memcpy(ev + 8, back, 8);
        assert_int_equal(vs_dat_check_layout(buf, len, 8, NULL, err, sizeof(err)), -EBADMSG);
        assert_non_null(strstr(err, "(event at byte 24)"));
}

/* A page that says a lost-event count is stored after its commit needs room
 * for it: kbuffer reads it there. */
static void test_missed_stored(void **state) {
        char err[256];
        size_t len;
        _cleanup_free_ uint8_t *buf = slurp(TEST_DATADIR "/bundled.dat", &len);
        uint8_t *commit = buf + cpu0_off(buf, len) + 8;
        uint64_t w;

        memcpy(&w, commit, 8);
        assert_true(w > 0 && w <= 4096 - 16 - 8);       /* room after it */
        w |= 3ull << 30;                        /* missed events, count stored */
        memcpy(commit, &w, 8);
        assert_int_equal(vs_dat_check_layout(buf, len, 8, NULL, err, sizeof(err)), 0);
        /* a padding event up to the page end, then no room for the count */
        uint64_t used = w & ((1u << 27) - 1);
        uint8_t *pad = buf + cpu0_off(buf, len) + 16 + used;
        uint32_t hdr = 29, plen = (uint32_t) (4096 - 16 - used - 4);
        memcpy(pad, &hdr, 4);
        memcpy(pad + 4, &plen, 4);
        w = (3ull << 30) | (4096 - 16);
        memcpy(commit, &w, 8);
        assert_int_equal(vs_dat_check_layout(buf, len, 8, NULL, err, sizeof(err)), -EBADMSG);
        assert_non_null(strstr(err, "(event at byte 8)"));
        w &= ~(1ull << 30);                     /* not stored: fine */
        memcpy(commit, &w, 8);
        assert_int_equal(vs_dat_check_layout(buf, len, 8, NULL, err, sizeof(err)), 0);
}

/* What the check reports on the way, and the commit-word size it is told
 * (0: no page walk). */
static void test_info(void **state) {
        char err[256];
        size_t len;
        _cleanup_free_ uint8_t *buf = slurp(TEST_DATADIR "/bundled.dat", &len);
        struct vs_dat_info info;
        static const char field[] = "\tfield: u64 timestamp;";

        assert_int_equal(vs_dat_check_layout(buf, len, 8, &info, err, sizeof(err)), 0);
        assert_int_equal(info.version, 6);
        assert_int_equal(info.long_size, 8);
        assert_true(info.header_page_len > sizeof(field) && info.header_page_off + info.header_page_len < len);
        assert_memory_equal(buf + info.header_page_off, field, sizeof(field) - 1);
        assert_non_null(memmem(buf + info.header_page_off, info.header_page_len, "local_t commit;", 15));
        assert_int_equal(vs_dat_check_layout(buf, len, 0, NULL, err, sizeof(err)), 0);
        assert_int_equal(vs_dat_check_layout(buf, len, 3, NULL, err, sizeof(err)), -EINVAL);
        /* read with 4-byte commit words, bundled.dat's first page starts with
         * the commit word's upper half (0): a data event whose length word is
         * the real first event's header, which does not fit the page */
        assert_int_equal(vs_dat_check_layout(buf, len, 4, &info, err, sizeof(err)), -EBADMSG);
        assert_non_null(strstr(err, "ring-buffer page"));
        assert_int_equal(info.long_size, 8);    /* still the file header's */
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_bundled),
                cmocka_unit_test(test_testbed),
                cmocka_unit_test(test_v7_left_to_libtracecmd),
                cmocka_unit_test(test_versions),
                cmocka_unit_test(test_section_named),
                cmocka_unit_test(test_backward_event),
                cmocka_unit_test(test_partial_page),
                cmocka_unit_test(test_walk_past_time_stamp),
                cmocka_unit_test(test_missed_stored),
                cmocka_unit_test(test_info),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
