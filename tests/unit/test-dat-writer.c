/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * test-dat-writer.c - .dat files written by lib/dat-writer (pages from
 * tools/rb-page) open with libtracecmd and yield exactly the records written;
 * the bundled trace opens and holds every event kind it promises.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <event-parse.h>
#include <trace-cmd.h>

#include "dat-writer.h"
#include "macro.h"
#include "rb-page.h"

#ifndef TEST_DATADIR
#define TEST_DATADIR "tests/data"
#endif

#define N_RECS 2000

struct seen {
        unsigned n;
        unsigned long long last_ts;
        int bad;
        unsigned kinds[8];
        unsigned preempted;
};

static unsigned long long field(struct tep_event *ev, struct tep_record *rec, const char *name) {
        unsigned long long v = ~0ull;

        assert_int_equal(tep_get_any_field_val(NULL, ev, name, rec, &v, 0), 0);
        return v;
}

static int check_cb(struct tracecmd_input *h, struct tep_record *rec, int cpu, void *data) {
        struct seen *s = data;
        struct tep_handle *tep = tracecmd_get_tep(h);
        struct tep_event *ev = tep_find_event_by_record(tep, rec);
        unsigned i = s->n++;

        /* record i was written on cpu i % 2 at 1000 + i * 977 ns */
        if (!ev || strcmp(ev->name, "kvm_apic_ipi") != 0 || rec->ts != 1000 + i * 977ull || cpu != (int) (i % 2) ||
            field(ev, rec, "dest_id") != i % 7 || field(ev, rec, "icr_low") != (0xfbu | (i << 8 & 0x700)) ||
            (unsigned) tep_data_pid(tep, rec) != 100 + i % 3)
                s->bad++;
        return 0;
}

static uint16_t format_id(const char *rel) {
        char path[512], line[256];
        FILE *f;
        int id = -1;

        snprintf(path, sizeof(path), "%s/formats/%s/format", TEST_DATADIR, rel);
        f = fopen(path, "re");
        assert_non_null(f);
        while (fgets(line, sizeof(line), f))
                if (sscanf(line, "ID: %d", &id) == 1)
                        break;
        fclose(f);
        assert_true(id > 0);
        return (uint16_t) id;
}

static void test_roundtrip(void **state) {
        static const char *const events[] = { "ftrace:print", "kvm:kvm_apic_ipi", "sched:sched_switch", NULL };
        struct vs_rb_writer w[2] = {};
        struct vs_dat_cpu cpus[2];
        char path[] = "/tmp/test-dat-writer.XXXXXX";
        struct tracecmd_input *h;
        struct seen s = {};
        struct vs_dat_info info;
        int fd;

        /* kvm_apic_ipi: id from the format file, common_pid at 4, icr_low at 8, dest_id at 12 */
        uint16_t type = format_id("kvm/kvm_apic_ipi");

        for (int c = 0; c < 2; c++)
                assert_int_equal(vs_rb_writer_init(&w[c], 4096), 0);
        for (unsigned i = 0; i < N_RECS; i++) {
                uint8_t rec[16] = {};
                int32_t pid = (int32_t) (100 + i % 3);
                uint32_t icr = 0xfbu | (i << 8 & 0x700), dest = i % 7;

                memcpy(rec, &type, 2);
                memcpy(rec + 4, &pid, 4);
                memcpy(rec + 8, &icr, 4);
                memcpy(rec + 12, &dest, 4);
                assert_int_equal(vs_rb_writer_add(&w[i % 2], 1000 + i * 977ull, rec, sizeof(rec)), 0);
        }
        for (int c = 0; c < 2; c++)
                assert_int_equal(vs_rb_writer_finish(&w[c], &cpus[c].data, &cpus[c].size), 0);

        info = (struct vs_dat_info) {
                .events_dir = TEST_DATADIR "/formats",
                .events = events,
                .page_size = 4096,
                .n_cpus = 2,
                .cpus = cpus,
                .cmdlines = "100 CPU 0/KVM\n101 CPU 1/KVM\n102 qemu-system-x86\n",
        };
        fd = mkstemp(path);
        assert_true(fd >= 0);
        assert_int_equal(vs_dat_write_fd(fd, &info), 0);
        close(fd);

        h = tracecmd_open(path, 0);
        assert_non_null(h);
        assert_int_equal(tep_find_event_by_name(tracecmd_get_tep(h), "kvm", "kvm_apic_ipi")->id, type);
        assert_string_equal(tep_data_comm_from_pid(tracecmd_get_tep(h), 100), "CPU 0/KVM");
        assert_true(tracecmd_iterate_events(h, NULL, 0, check_cb, &s) >= 0);
        assert_int_equal(s.n, N_RECS);
        assert_int_equal(s.bad, 0);
        tracecmd_close(h);
        unlink(path);
        for (int c = 0; c < 2; c++)
                vs_rb_writer_done(&w[c]);
}

static void test_bad_input(void **state) {
        static const char *const events[] = { "kvm:no_such_event", NULL };
        struct vs_dat_cpu cpu = { "x", 1 };
        struct vs_dat_info info = {
                .events_dir = TEST_DATADIR "/formats", .events = events, .page_size = 4096,
                .n_cpus = 1, .cpus = &cpu,
        };
        char path[] = "/tmp/test-dat-writer.XXXXXX";
        int fd = mkstemp(path);

        assert_true(fd >= 0);
        assert_int_equal(vs_dat_write_fd(fd, &info), -EINVAL);     /* not whole pages */
        cpu.size = 0;
        assert_int_equal(vs_dat_write_fd(fd, &info), -ENOENT);     /* missing format */
        close(fd);
        unlink(path);
}

static const char *const kinds[] = {
        "kvm_apic_ipi", "kvm_eoi", "kvm_entry", "kvm_exit", "kvm_hypercall", "kvm_pv_eoi",
        "kvm_vcpu_wakeup", "kvm_avic_incomplete_ipi",
};

static int bundled_cb(struct tracecmd_input *h, struct tep_record *rec, int cpu, void *data) {
        struct seen *s = data;
        struct tep_event *ev = tep_find_event_by_record(tracecmd_get_tep(h), rec);

        s->n++;
        if (!ev || rec->ts < s->last_ts)
                s->bad++;
        s->last_ts = rec->ts;
        for (unsigned i = 0; ev && i < ELEMENTSOF(kinds); i++)
                if (strcmp(ev->name, kinds[i]) == 0)
                        s->kinds[i]++;
        if (ev && strcmp(ev->name, "sched_switch") == 0 && field(ev, rec, "prev_state") == 0x100)
                s->preempted++;
        return 0;
}

static void test_bundled(void **state) {
        struct tracecmd_input *h = tracecmd_open(TEST_DATADIR "/bundled.dat", 0);
        struct seen s = {};

        assert_non_null(h);
        assert_true(tracecmd_iterate_events(h, NULL, 0, bundled_cb, &s) >= 0);
        assert_true(s.n > 1000);
        assert_int_equal(s.bad, 0);
        for (unsigned i = 0; i < ELEMENTSOF(kinds); i++)
                assert_true(s.kinds[i] > 0);
        assert_true(s.preempted > 0);
        tracecmd_close(h);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_roundtrip),
                cmocka_unit_test(test_bad_input),
                cmocka_unit_test(test_bundled),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
