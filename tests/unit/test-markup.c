/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Unit tests for markup.c: XML and dot escaping of hostile VM names, and
 * file names that cannot leave the directory or collide.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "markup.h"

static char *capture(void (*fn)(FILE *, const char *), const char *s) {
        static char *buf;
        size_t len;
        FILE *f;

        free(buf);
        buf = NULL;
        f = open_memstream(&buf, &len);
        assert_non_null(f);
        fn(f, s);
        assert_int_equal(fclose(f), 0);
        return buf;
}

static void test_xml(void **state) {
        assert_string_equal(capture(vs_markup_xml, "web-1"), "web-1");
        assert_string_equal(capture(vs_markup_xml, "<a&b>\"'"), "&lt;a&amp;b&gt;&quot;&#39;");
        /* control characters cannot appear in XML 1.0 even as entities: shown as text */
        assert_string_equal(capture(vs_markup_xml, "a\nb\x01\x7f"), "a\\x0ab\\x01\\x7f");
        assert_string_equal(capture(vs_markup_xml, "a\\b"), "a\\\\b");
        /* valid UTF-8 passes; malformed, overlong, surrogate and non-characters do not */
        assert_string_equal(capture(vs_markup_xml, "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"),
                            "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80");
        assert_string_equal(capture(vs_markup_xml, "\xff"), "\\xff");
        assert_string_equal(capture(vs_markup_xml, "\xc0\xaf"), "\\xc0\\xaf");
        assert_string_equal(capture(vs_markup_xml, "\xed\xa0\x80"), "\\xed\\xa0\\x80");
        assert_string_equal(capture(vs_markup_xml, "\xef\xbf\xbe"), "\\xef\\xbf\\xbe");
        assert_string_equal(capture(vs_markup_xml, "\xe2\x82"), "\\xe2\\x82");      /* cut short */
        assert_string_equal(capture(vs_markup_xml, NULL), "");
}

static void test_dot(void **state) {
        assert_string_equal(capture(vs_markup_dot, "web"), "web");
        /* quote and backslash escaped; \N-style label escapes cannot be formed */
        assert_string_equal(capture(vs_markup_dot, "a\"b"), "a\\\"b");
        assert_string_equal(capture(vs_markup_dot, "\\N"), "\\\\\\\\N");
        assert_string_equal(capture(vs_markup_dot, "x\ny"), "x\\\\x0ay");
        assert_string_equal(capture(vs_markup_dot, "<b>&"), "<b>&");
}

static void test_dot_html(void **state) {
        assert_string_equal(capture(vs_markup_dot_html, "<b>&\"'"), "&lt;b&gt;&amp;&quot;&#39;");
        /* Graphviz halves backslashes in HTML-like labels: shown as \\ and \x0a */
        assert_string_equal(capture(vs_markup_dot_html, "a\\b\n"), "a\\\\\\\\b\\\\x0a");
}

static void test_display(void **state) {
        char buf[8];

        assert_string_equal(vs_markup_display("a\nb", buf, sizeof(buf)), "a\\x0ab");
        /* never cut inside a character or an escape */
        assert_string_equal(vs_markup_display("abcdef\xc3\xa9", buf, sizeof(buf)), "abcdef");
        assert_string_equal(vs_markup_display("abcd\n", buf, sizeof(buf)), "abcd");
        assert_string_equal(vs_markup_display("abcd\xc3\xa9", buf, sizeof(buf)), "abcd\xc3\xa9");
}

static void test_file_name(void **state) {
        char buf[VS_SAFE_NAME_MAX], other[VS_SAFE_NAME_MAX], small[16];
        char long_a[301], long_b[301];

        assert_int_equal(vs_markup_file_name("web-1.prod_2", buf, sizeof(buf)), 0);
        assert_string_equal(buf, "web-1.prod_2");
        assert_int_equal(vs_markup_file_name("..", buf, sizeof(buf)), 0);
        assert_string_equal(buf, "%2E.");
        assert_int_equal(vs_markup_file_name("../../etc/passwd", buf, sizeof(buf)), 0);
        assert_string_equal(buf, "%2E.%2F..%2Fetc%2Fpasswd");
        assert_int_equal(vs_markup_file_name("a b\n%\xc3\xa9~", buf, sizeof(buf)), 0);
        assert_string_equal(buf, "a%20b%0A%25%C3%A9%7E");
        assert_int_equal(vs_markup_file_name("", buf, sizeof(buf)), 0);
        assert_string_equal(buf, "%");
        assert_int_equal(vs_markup_file_name("x", small, sizeof(small)), -ENOBUFS);

        /* long names: cut, plus a hash of the whole name */
        memset(long_a, 'a', 300);
        long_a[300] = 0;
        memcpy(long_b, long_a, sizeof(long_a));
        long_b[299] = 'b';
        assert_int_equal(vs_markup_file_name(long_a, buf, sizeof(buf)), 0);
        assert_int_equal(vs_markup_file_name(long_b, other, sizeof(other)), 0);
        assert_int_equal(strlen(buf), 177);
        assert_int_equal(buf[160], '~');
        assert_int_equal(strncmp(buf, long_a, 160), 0);
        assert_string_not_equal(buf, other);
}

/* Random byte strings: only safe characters, never a dot first, no two alike. */
static void test_file_name_random(void **state) {
        enum { N = 2000 };
        static char names[N][VS_SAFE_NAME_MAX];
        unsigned seed = 12345;

        for (int i = 0; i < N; i++) {
                char in[64];
                size_t len = 1 + (size_t) (rand_r(&seed) % 60);
                for (size_t k = 0; k < len; k++)
                        in[k] = (char) (1 + rand_r(&seed) % 255);
                in[len] = 0;
                /* make duplicates of the input impossible */
                snprintf(in + (len > 8 ? len - 8 : 0), 9, "%08d", i);
                assert_int_equal(vs_markup_file_name(in, names[i], sizeof(names[i])), 0);
                assert_true(names[i][0] != '.');
                assert_int_equal(strspn(names[i], "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-%~"),
                                 strlen(names[i]));
                for (int j = 0; j < i; j++)
                        assert_string_not_equal(names[i], names[j]);
        }
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_xml),
                cmocka_unit_test(test_dot),
                cmocka_unit_test(test_dot_html),
                cmocka_unit_test(test_display),
                cmocka_unit_test(test_file_name),
                cmocka_unit_test(test_file_name_random),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
