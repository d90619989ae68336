/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests for dat-reader.c on a real trace-cmd recording (the testbed's
 * 2to1-trace-cmd.dat: file version 7, zstd, 2 CPUs): its pages per CPU as
 * the file's chunks hold them, only the asked-for formats parsed (fields
 * kept, print fmt dropped), the cmdlines, and a copy cut short refused. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <traceevent/event-parse.h>
#include <traceevent/kbuffer.h>

#include "dat-reader.h"

#define DAT TEST_DATADIR "/testbed/2to1-trace-cmd.dat"

static bool want_sched(const char *system, const char *name) {
        return strcmp(system, "sched") == 0 && strcmp(name, "sched_switch") == 0;
}

static void *map_file(const char *path, size_t *len) {
        struct stat st;
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        void *p;

        assert_true(fd >= 0);
        assert_int_equal(fstat(fd, &st), 0);
        p = mmap(NULL, st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
        close(fd);
        assert_true(p != MAP_FAILED);
        *len = st.st_size;
        return p;
}

static void test_v7_zstd(void **state) {
        struct vs_dat_reader *r = NULL;
        size_t len;
        void *buf = map_file(DAT, &len);
        unsigned pages[2] = {}, events = 0;

        (void) state;
        assert_int_equal(vs_dat_reader_open(buf, len, want_sched, &r), 0);
        assert_int_equal(vs_dat_reader_n_cpus(r), 2);
        assert_int_equal(vs_dat_reader_cpu_id(r, 1), 1);
        assert_int_equal(vs_dat_reader_page_size(r), 4096);
        struct tep_handle *tep = vs_dat_reader_tep(r);
        struct tep_event *sw = tep_find_event_by_name(tep, "sched", "sched_switch");
        assert_non_null(sw);
        assert_non_null(tep_find_field(sw, "next_pid"));
        assert_null(tep_find_event_by_name(tep, "sched", "sched_wakeup"));     /* not asked for */
        assert_null(tep_find_event_by_name(tep, "kvm", "kvm_exit"));
        /* the saved cmdlines name the vCPU threads */
        bool vcpu_named = false;
        for (int pid = 1; pid < 4096 && !vcpu_named; pid++)
                vcpu_named = strstr(tep_data_comm_from_pid(tep, pid), "/KVM") != NULL;
        assert_true(vcpu_named);

        struct kbuffer *kb = kbuffer_alloc(vs_dat_reader_kbuffer_long(r), vs_dat_reader_kbuffer_endian(r));
        assert_non_null(kb);
        for (unsigned i = 0; i < 2; i++) {
                const void *page;
                uint64_t off, last = 0;
                int k;
                while ((k = vs_dat_reader_next_page(r, i, &page, &off)) > 0) {
                        unsigned long long ts;
                        assert_true(off >= last && off < len);  /* compressed: its chunk's */
                        last = off;
                        pages[i]++;
                        assert_int_equal(kbuffer_load_subbuffer(kb, (void *) page), 0);
                        for (void *e = kbuffer_read_event(kb, &ts); e; e = kbuffer_next_event(kb, &ts))
                                events++;
                }
                assert_int_equal(k, 0);
        }
        kbuffer_free(kb);
        /* CPU 0: 10 chunks of 10 pages and one of 1; CPU 1: 7 and 1 */
        assert_int_equal(pages[0], 101);
        assert_int_equal(pages[1], 71);
        assert_true(events > 15000);    /* trace-cmd report shows 15,533 */
        vs_dat_reader_free(r);

        /* cut short: CPU 1's chunks, or the metadata sections, past the end */
        assert_int_equal(vs_dat_reader_open(buf, len - 300, want_sched, &r), -EBADMSG);
        assert_int_equal(vs_dat_reader_open(buf, 7000, want_sched, &r), -EBADMSG);
        munmap(buf, len);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_v7_zstd),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
