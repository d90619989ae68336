/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * test-dat-layout.c - the .dat layout check (lib/dat-layout.c) on real
 * files: whole ones pass, every cut through a v6 file is refused with the
 * section and offset named, odd versions are refused, v7 is left to
 * libtracecmd.
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
        assert_int_equal(vs_dat_check_layout(buf, len, err, sizeof(err)), 0);
        assert_string_equal(err, "");

        for (size_t cut = 0; cut < len; cut += cut < 4096 ? 1 : 4093) {
                _cleanup_free_ uint8_t *p = malloc(cut ? cut : 1);
                assert_non_null(p);
                memcpy(p, buf, cut);
                err[0] = 0;
                int r = vs_dat_check_layout(p, cut, err, sizeof(err));
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
        assert_int_equal(vs_dat_check_layout(buf, len, err, sizeof(err)), 0);
        assert_int_equal(vs_dat_check_layout(buf, 16, err, sizeof(err)), 0);
        assert_int_equal(vs_dat_check_layout(buf, 15, err, sizeof(err)), -EBADMSG);
}

static void test_versions(void **state) {
        char err[256];
        size_t len;
        _cleanup_free_ uint8_t *buf = slurp(TEST_DATADIR "/bundled.dat", &len);

        assert_int_equal(buf[10], '6');
        buf[10] = '8';
        assert_int_equal(vs_dat_check_layout(buf, len, err, sizeof(err)), -EBADMSG);
        assert_non_null(strstr(err, "unsupported trace-cmd file version '8'"));
        buf[10] = 'x';
        assert_int_equal(vs_dat_check_layout(buf, len, err, sizeof(err)), -EBADMSG);
        buf[10] = '7';                          /* sections: libtracecmd checks them */
        assert_int_equal(vs_dat_check_layout(buf, len, err, sizeof(err)), 0);
        buf[10] = '6';
        buf[11] = 'x';                          /* "6x": not a number */
        assert_int_equal(vs_dat_check_layout(buf, len, err, sizeof(err)), -EBADMSG);
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
        assert_int_equal(vs_dat_check_layout(buf, len, err, sizeof(err)), -EBADMSG);
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
        assert_int_equal(vs_dat_check_layout(buf, len, err, sizeof(err)), -EBADMSG);
        assert_non_null(strstr(err, "CPU 0 data: the ring-buffer page at offset"));
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_bundled),
                cmocka_unit_test(test_testbed),
                cmocka_unit_test(test_v7_left_to_libtracecmd),
                cmocka_unit_test(test_versions),
                cmocka_unit_test(test_section_named),
                cmocka_unit_test(test_backward_event),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
