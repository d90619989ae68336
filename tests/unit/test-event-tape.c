/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests for event-tape.c: a recorded .dat (through the real dat source
 * and its decoding child) plays back exactly what a second decode yields,
 * events and thread announcements in the same order, with the source's
 * stats; and the cap stops recording. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "event-tape.h"
#include "source-internal.h"     /* reads the played source's kind and stats */

#define DAT TEST_DATADIR "/testbed/2to1-trace-cmd.dat"

/* What a source yielded, one line per event or announcement. */
struct log {
        char *buf;
        size_t len, alloc;
        struct vs_tape *tape;   /* also record here when set */
};

static void logf_(struct log *l, const char *fmt, ...) {
        va_list ap;
        char line[512];
        int n;

        va_start(ap, fmt);
        n = vsnprintf(line, sizeof(line), fmt, ap);
        va_end(ap);
        assert_true(n > 0 && (size_t) n < sizeof(line));
        if (l->len + n + 1 > l->alloc) {
                l->alloc = (l->len + n + 1) * 2;
                l->buf = realloc(l->buf, l->alloc);
                assert_non_null(l->buf);
        }
        memcpy(l->buf + l->len, line, n + 1);
        l->len += n;
}

static void on_thread(const struct vs_thread_info *ti, void *userdata) {
        struct log *l = userdata;

        logf_(l, "T %d %d %d %s %s\n", ti->tid, ti->tgid, ti->apic_id, ti->comm ? ti->comm : "(null)",
              ti->vm_name ? ti->vm_name : "(null)");
        if (l->tape)
                assert_int_equal(vs_tape_add_thread(l->tape, ti), 0);
}

static void drain(struct vs_source *s, struct log *l) {
        struct vs_event ev;
        int r;

        vs_source_set_thread_cb(s, on_thread, l);
        while ((r = vs_source_next(s, &ev)) > 0) {
                const unsigned char *b = (const unsigned char *) &ev;
                logf_(l, "E");
                for (size_t i = 0; i < sizeof(ev); i++)
                        logf_(l, "%02x", b[i]);
                logf_(l, "\n");
                if (l->tape)
                        assert_int_equal(vs_tape_add_event(l->tape, &ev), 0);
        }
        assert_int_equal(r, 0);
}

static void test_tape_plays_the_decode(void **state) {
        struct vs_source *src = NULL, *again = NULL, *play = NULL;
        struct log first = {}, second = {}, played = {};
        struct vs_tape *t = NULL;

        (void) state;
        assert_int_equal(vs_tape_new(64u << 20, &t), 0);
        first.tape = t;
        assert_int_equal(vs_source_open_file(DAT, &src), 0);
        drain(src, &first);
        assert_int_equal(vs_source_open_file(DAT, &again), 0);
        drain(again, &second);
        assert_true(first.len > 100000);
        assert_string_equal(first.buf, second.buf);     /* the decode is deterministic */
        assert_true(strstr(first.buf, "\nT ") != NULL); /* announcements are on it */

        assert_int_equal(vs_tape_source_new(t, src, &play), 0);
        assert_int_equal(play->kind, VS_SOURCE_DAT);
        assert_memory_equal(&play->stats, &src->stats, sizeof(src->stats));
        assert_true(play->stats.events > 10000);
        drain(play, &played);
        assert_string_equal(played.buf, first.buf);
        uint64_t total, done = vs_source_progress(play, &total);
        assert_int_equal(done, total);
        assert_int_equal(total, vs_tape_entries(t));

        vs_source_free(play);
        vs_source_free(again);
        vs_source_free(src);
        vs_tape_free(t);
        free(first.buf);
        free(second.buf);
        free(played.buf);
}

static void test_cap(void **state) {
        struct vs_event ev = { .type = VS_EV_SWITCH };
        struct vs_thread_info ti = { .tid = 7, .tgid = -1, .comm = "CPU 0/KVM", .apic_id = -1 };
        struct vs_tape *t = NULL;
        size_t n = 0;
        int r;

        (void) state;
        assert_int_equal(vs_tape_new(8u << 20, &t), 0);
        assert_int_equal(vs_tape_add_thread(t, &ti), 0);
        while ((r = vs_tape_add_event(t, &ev)) == 0)
                n++;
        assert_int_equal(r, -E2BIG);
        assert_true(vs_tape_bytes(t) <= 8u << 20);
        assert_true(n > 100000);
        assert_int_equal(vs_tape_entries(t), n + 1);
        vs_tape_free(t);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_tape_plays_the_decode),
                cmocka_unit_test(test_cap),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
