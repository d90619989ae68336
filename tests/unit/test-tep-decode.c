/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Unit tests for tep-decode.c: binary records laid out byte for byte as the
 * kernel writes them, using the real format files in tests/data/formats
 * (copied from a 6.18 kernel's tracefs), plus an old-kernel kvm_exit format.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <traceevent/event-parse.h>

#include "macro.h"
#include "source.h"
#include "tep-decode.h"

static struct tep_handle *tep;
static struct vs_tep_decoder *dec;
static struct vs_source src;            /* only stats/error/thread_cb are used */

struct seen_thread {
        int32_t tid, tgid, apic;
        char comm[64], vm[64];
};
static struct seen_thread seen[16];
static unsigned n_seen;

static void on_thread(const struct vs_thread_info *ti, void *userdata) {
        if (n_seen >= ELEMENTSOF(seen))
                return;
        seen[n_seen] = (struct seen_thread) { .tid = ti->tid, .tgid = ti->tgid, .apic = ti->apic_id };
        snprintf(seen[n_seen].comm, sizeof(seen[n_seen].comm), "%s", ti->comm ? ti->comm : "");
        snprintf(seen[n_seen].vm, sizeof(seen[n_seen].vm), "%s", ti->vm_name ? ti->vm_name : "");
        n_seen++;
}

static char *slurp(const char *path, size_t *len) {
        FILE *f = fopen(path, "re");
        char *buf;
        long n;

        assert_non_null(f);
        fseek(f, 0, SEEK_END);
        n = ftell(f);
        fseek(f, 0, SEEK_SET);
        buf = malloc(n + 1);
        assert_int_equal(fread(buf, 1, n, f), (size_t) n);
        buf[n] = 0;
        fclose(f);
        *len = n;
        return buf;
}

static void load(const char *sys, const char *name) {
        char path[512];
        size_t len;
        _cleanup_free_ char *buf = NULL;

        snprintf(path, sizeof(path), "%s/formats/%s/%s/format", TEST_DATADIR, sys, name);
        buf = slurp(path, &len);
        assert_int_equal(tep_parse_event(tep, buf, len, sys), 0);
}

static int setup(void **state) {
        static const char *const evs[][2] = {
                { "sched", "sched_switch" }, { "sched", "sched_wakeup" }, { "kvm", "kvm_apic_ipi" },
                { "kvm", "kvm_eoi" }, { "kvm", "kvm_pv_eoi" }, { "kvm", "kvm_exit" }, { "kvm", "kvm_entry" },
                { "kvm", "kvm_hypercall" }, { "kvm", "kvm_ple_window_update" },
                { "kvm", "kvm_avic_incomplete_ipi" }, { "kvm", "kvm_vcpu_wakeup" }, { "ftrace", "print" },
                { "kvm", "kvm_directed_yield" },
        };

        tep = tep_alloc();
        tep_set_long_size(tep, 8);
        tep_set_file_bigendian(tep, TEP_LITTLE_ENDIAN);
        tep_set_local_bigendian(tep, TEP_LITTLE_ENDIAN);
        for (size_t i = 0; i < ELEMENTSOF(evs); i++)
                load(evs[i][0], evs[i][1]);
        assert_int_equal(vs_tep_decoder_new(tep, &dec), 0);
        return 0;
}

static int teardown(void **state) {
        vs_tep_decoder_free(dec);
        tep_free(tep);
        return 0;
}

static int reset(void **state) {
        memset(&src, 0, sizeof(src));
        src.thread_cb = on_thread;
        n_seen = 0;
        return 0;
}

/* A record as the ring buffer holds it: common header + fields at the
 * offsets the format file names. */
struct rec {
        uint8_t b[256];
        int size;
        struct tep_event *e;
};

static struct rec mkrec(const char *sys, const char *name, int pid) {
        struct rec r = {};
        uint16_t id;

        r.e = tep_find_event_by_name(tep, sys, name);
        assert_non_null(r.e);
        id = (uint16_t) r.e->id;
        memcpy(r.b, &id, 2);
        memcpy(r.b + 4, &pid, 4);
        /* size = end of the last field */
        for (struct tep_format_field *f = r.e->format.fields; f; f = f->next)
                if (f->offset + f->size > r.size)
                        r.size = f->offset + f->size;
        return r;
}

static void put(struct rec *r, const char *field, uint64_t v) {
        struct tep_format_field *f = tep_find_field(r->e, field);
        assert_non_null(f);
        memcpy(r->b + f->offset, &v, f->size);  /* little endian host */
}

static void put_str(struct rec *r, const char *field, const char *s) {
        struct tep_format_field *f = tep_find_field(r->e, field);
        assert_non_null(f);
        if (f->size == 0) {             /* flexible array: runs to the record's end */
                strcpy((char *) r->b + f->offset, s);
                r->size = f->offset + strlen(s) + 1;
        } else
                strncpy((char *) r->b + f->offset, s, f->size);
}

static int dec1(struct rec *r, struct vs_event *ev) {
        return vs_tep_decode(dec, r->b, r->size, 123456789, 1, 4096, &src, ev);
}

static void test_ipi_layout(void **state) {
        struct vs_event ev;
        struct rec r = mkrec("kvm", "kvm_apic_ipi", 4242);
        uint32_t icr = 0x000040fb, dest = 2;

        /* byte for byte: the 6.18 format puts icr_low at 8 and dest_id at 12 */
        memcpy(r.b + 8, &icr, 4);
        memcpy(r.b + 12, &dest, 4);
        assert_int_equal(r.size, 16);
        assert_int_equal(dec1(&r, &ev), 1);
        assert_int_equal(ev.type, VS_EV_IPI);
        assert_int_equal(ev.tid, 4242);
        assert_int_equal(ev.cpu, 1);
        assert_int_equal(ev.ts_ns, 123456789);
        assert_int_equal(ev.ipi.vector, 0xfb);
        assert_int_equal(ev.ipi.dest_apic, 2);
        assert_true(vs_ipi_is_unicast(&ev));

        put(&r, "icr_low", 0x48fd);             /* logical */
        assert_int_equal(dec1(&r, &ev), 1);
        assert_int_equal(ev.ipi.logical, 1);
        put(&r, "icr_low", 0xc00fb);            /* all-but-self */
        assert_int_equal(dec1(&r, &ev), 1);
        assert_int_equal(ev.ipi.shorthand, VS_SH_ALL_BUT_SELF);
        put(&r, "dest_id", 0x1a);               /* sparse APIC ID */
        put(&r, "icr_low", 0xfb);
        assert_int_equal(dec1(&r, &ev), 1);
        assert_int_equal(ev.ipi.dest_apic, 0x1a);
        assert_int_equal(src.stats.events, 4);
}

static void test_eoi(void **state) {
        struct vs_event ev;
        struct rec r = mkrec("kvm", "kvm_eoi", 7);

        put(&r, "apicid", 3);
        put(&r, "vector", 251);
        assert_int_equal(dec1(&r, &ev), 1);
        assert_int_equal(ev.type, VS_EV_EOI);
        assert_int_equal(ev.eoi.apic_id, 3);
        assert_int_equal(ev.eoi.vector, 251);
        assert_false(ev.flags & VS_EVF_PV_EOI);

        r = mkrec("kvm", "kvm_pv_eoi", 7);
        put(&r, "apicid", 2);
        put(&r, "vector", 236);
        assert_int_equal(dec1(&r, &ev), 1);
        assert_int_equal(ev.type, VS_EV_EOI);
        assert_true(ev.flags & VS_EVF_PV_EOI);
        assert_int_equal(ev.eoi.vector, 236);
}

static void test_switch_and_comms(void **state) {
        struct vs_event ev;
        struct rec r = mkrec("sched", "sched_switch", 101);

        put_str(&r, "prev_comm", "CPU 0/KVM");
        put(&r, "prev_pid", 101);
        put(&r, "prev_prio", 120);
        put(&r, "prev_state", 0x100);           /* R+ : preempted */
        put_str(&r, "next_comm", "kworker/u8:2-ev");
        put(&r, "next_pid", 55);
        put(&r, "next_prio", 120);
        assert_int_equal(dec1(&r, &ev), 1);
        assert_int_equal(ev.type, VS_EV_SWITCH);
        assert_int_equal(ev.sw.prev_tid, 101);
        assert_int_equal(ev.sw.next_tid, 55);
        assert_int_equal(ev.sw.prev_state, 0x100);
        assert_true(vs_prev_state_runnable(ev.sw.prev_state));
        assert_int_equal(n_seen, 2);
        assert_string_equal(seen[0].comm, "CPU 0/KVM");
        assert_int_equal(seen[0].tid, 101);
        assert_string_equal(seen[1].comm, "kworker/u8:2-ev");

        /* a full 16-byte comm without NUL must not overrun */
        put_str(&r, "prev_comm", "0123456789abcdefXXXX");
        put(&r, "prev_state", 1);
        n_seen = 0;
        assert_int_equal(dec1(&r, &ev), 1);
        assert_string_equal(seen[0].comm, "0123456789abcdef");
        assert_false(vs_prev_state_runnable(ev.sw.prev_state));
}

static void test_wakeups(void **state) {
        struct vs_event ev;
        struct rec r = mkrec("sched", "sched_wakeup", 101);

        put_str(&r, "comm", "CPU 1/KVM");
        put(&r, "pid", 102);
        put(&r, "target_cpu", 1);
        assert_int_equal(dec1(&r, &ev), 1);
        assert_int_equal(ev.type, VS_EV_WAKEUP);
        assert_int_equal(ev.wakeup.wakee_tid, 102);
        assert_int_equal(ev.wakeup.target_cpu, 1);
        assert_false(ev.flags & VS_EVF_KVM_WAKEUP);

        r = mkrec("kvm", "kvm_vcpu_wakeup", 102);
        put(&r, "ns", 250000);
        put(&r, "waited", 1);
        put(&r, "valid", 1);
        assert_int_equal(dec1(&r, &ev), 1);
        assert_int_equal(ev.type, VS_EV_WAKEUP);
        assert_true(ev.flags & VS_EVF_KVM_WAKEUP);
        assert_int_equal(ev.wakeup.wakee_tid, 102);
        assert_int_equal(ev.wakeup.wait_ns, 250000);
        assert_int_equal(ev.wakeup.waited, 1);
}

static void test_exits(void **state) {
        struct vs_event ev;
        struct rec r = mkrec("kvm", "kvm_exit", 101);

        put(&r, "exit_reason", 0x77);
        put(&r, "isa", 2);
        put(&r, "vcpu_id", 2);
        assert_int_equal(dec1(&r, &ev), 1);
        assert_int_equal(ev.type, VS_EV_EXIT_PAUSE);
        assert_int_equal(ev.pause.vcpu_id, 2);
        assert_int_equal(ev.pause.isa, VS_ISA_SVM);

        put(&r, "exit_reason", 40);
        put(&r, "isa", 1);
        assert_int_equal(dec1(&r, &ev), 1);
        assert_int_equal(ev.type, VS_EV_EXIT_PAUSE);
        assert_int_equal(ev.pause.exit_reason, 40);

        /* a HLT exit is not ours: filtered, no event */
        put(&r, "exit_reason", 0x78);
        put(&r, "isa", 2);
        assert_int_equal(dec1(&r, &ev), 0);
        assert_int_equal(src.stats.filtered, 1);

        r = mkrec("kvm", "kvm_entry", 101);
        put(&r, "vcpu_id", 5);
        assert_int_equal(dec1(&r, &ev), 1);
        assert_int_equal(ev.type, VS_EV_VCPU_ID);
        assert_int_equal(ev.vcpu.vcpu_id, 5);
}

static void test_hypercalls(void **state) {
        struct vs_event ev;
        struct rec r = mkrec("kvm", "kvm_hypercall", 101);

        put(&r, "nr", 5);
        put(&r, "a1", 2);
        assert_int_equal(dec1(&r, &ev), 1);
        assert_int_equal(ev.type, VS_EV_HYPERCALL);
        assert_int_equal(ev.hc.nr, 5);
        assert_int_equal(ev.hc.a1, 2);

        put(&r, "nr", 10);
        put(&r, "a0", 0x5);
        put(&r, "a1", 0);
        put(&r, "a2", 0);
        put(&r, "a3", 0xfb);
        assert_int_equal(dec1(&r, &ev), 1);
        assert_int_equal(ev.hc.nr, 10);
        assert_int_equal(ev.hc.a0, 5);
        assert_int_equal(ev.hc.a3, 0xfb);

        put(&r, "nr", 11);
        put(&r, "a0", 3);
        assert_int_equal(dec1(&r, &ev), 1);
        assert_int_equal(ev.hc.nr, 11);

        put(&r, "nr", 9);       /* KVM_HC_CLOCK_PAIRING: not ours */
        assert_int_equal(dec1(&r, &ev), 0);
        assert_int_equal(src.stats.filtered, 1);
}

static void test_ple_avic(void **state) {
        struct vs_event ev;
        struct rec r = mkrec("kvm", "kvm_ple_window_update", 101);

        put(&r, "vcpu_id", 1);
        put(&r, "old", 4096);
        put(&r, "new", 8192);
        assert_int_equal(dec1(&r, &ev), 1);
        assert_int_equal(ev.type, VS_EV_PLE_WINDOW);
        assert_int_equal(ev.ple.old_window, 4096);
        assert_int_equal(ev.ple.new_window, 8192);

        r = mkrec("kvm", "kvm_avic_incomplete_ipi", 101);
        put(&r, "vcpu", 1);
        put(&r, "icrh", 0x02000000);
        put(&r, "icrl", 0x40fb);
        put(&r, "id", 1);
        put(&r, "index", 0);
        assert_int_equal(dec1(&r, &ev), 1);
        assert_int_equal(ev.type, VS_EV_AVIC_INCOMPLETE_IPI);
        assert_int_equal(ev.avic.icrh, 0x02000000);
        assert_int_equal(ev.avic.id, 1);
}

/* kernel/ patch's tracepoint; format file from the testbed L1 with the patched kvm.ko */
static void test_directed_yield(void **state) {
        struct vs_event ev;
        struct rec r = mkrec("kvm", "kvm_directed_yield", 4243);
        uint32_t spinner = 1;
        int32_t target = 0, result = -3;
        uint8_t reason = 1, mask = 0x8;
        uint16_t skipped = 2;

        /* byte for byte (the current series): spinner at 8, target at 12,
         * reason at 16, skipped_reasons at 17, skipped at 18, result at 20 */
        memcpy(r.b + 8, &spinner, 4);
        memcpy(r.b + 12, &target, 4);
        memcpy(r.b + 16, &reason, 1);
        memcpy(r.b + 17, &mask, 1);
        memcpy(r.b + 18, &skipped, 2);
        memcpy(r.b + 20, &result, 4);
        assert_int_equal(r.size, 24);
        assert_int_equal(dec1(&r, &ev), 1);
        assert_int_equal(ev.type, VS_EV_DIRECTED_YIELD);
        assert_int_equal(ev.tid, 4243);
        assert_int_equal(ev.dy.spinner, 1);
        assert_int_equal(ev.dy.target, 0);
        assert_int_equal(ev.dy.reason, VS_DY_IPI);
        assert_int_equal(ev.dy.result, -3);
        assert_int_equal(ev.dy.skipped, 2);
        assert_int_equal(ev.dy.skipped_mask, 0x8);

        put(&r, "reason", 2);
        put(&r, "result", 1);
        assert_int_equal(dec1(&r, &ev), 1);
        assert_int_equal(ev.dy.reason, VS_DY_HINT);
        assert_int_equal(ev.dy.result, 1);
        put(&r, "reason", 4);
        put(&r, "target", -1);                  /* no target tried */
        assert_int_equal(dec1(&r, &ev), 1);
        assert_int_equal(ev.dy.reason, VS_DY_KICK);
        assert_string_equal(vs_dy_reason_name(ev.dy.reason), "kick");
        assert_int_equal(ev.dy.target, VS_DY_NO_TARGET);
        put(&r, "reason", 7);                   /* a reason a newer kernel added */
        assert_int_equal(dec1(&r, &ev), 1);
        assert_int_equal(ev.dy.reason, UINT8_MAX);
        assert_string_equal(vs_dy_reason_name(ev.dy.reason), "unknown");
        r.size = 20;                            /* truncated: result missing */
        assert_int_equal(dec1(&r, &ev), 0);
        assert_int_equal(src.stats.malformed, 1);
}

static void test_marker(void **state) {
        struct vs_event ev;
        struct rec r = mkrec("ftrace", "print", 9);

        put_str(&r, "buf", "vschedd-topology: tid=101 tgid=100 apic=2 vm=db comm=CPU 1/KVM\n");
        assert_int_equal(dec1(&r, &ev), 0);
        assert_int_equal(n_seen, 1);
        assert_int_equal(seen[0].tid, 101);
        assert_int_equal(seen[0].tgid, 100);
        assert_int_equal(seen[0].apic, 2);
        assert_string_equal(seen[0].vm, "db");
        assert_string_equal(seen[0].comm, "CPU 1/KVM");

        put_str(&r, "buf", "some other marker\n");
        assert_int_equal(dec1(&r, &ev), 0);
        assert_int_equal(n_seen, 1);
}

static void test_bad_records(void **state) {
        struct vs_event ev;
        struct rec r = mkrec("kvm", "kvm_apic_ipi", 1);
        uint16_t bogus = 9999;

        /* truncated: named by offset, counted, not fatal */
        assert_int_equal(vs_tep_decode(dec, r.b, 10, 1, 0, 777, &src, &ev), 0);
        assert_int_equal(src.stats.malformed, 1);
        assert_int_equal(src.first_malformed_at, 777);
        assert_non_null(strstr(src.error, "offset 777"));
        assert_non_null(strstr(src.error, "kvm_apic_ipi"));

        /* shorter than a common header */
        assert_int_equal(vs_tep_decode(dec, r.b, 1, 1, 0, 900, &src, &ev), 0);
        assert_int_equal(src.stats.malformed, 2);
        assert_int_equal(src.first_malformed_at, 777);

        /* unknown event id */
        memcpy(r.b, &bogus, 2);
        assert_int_equal(vs_tep_decode(dec, r.b, 16, 1, 0, 1000, &src, &ev), 0);
        assert_int_equal(src.stats.unknown, 1);

        /* a print record whose string runs off the end still decodes safely */
        r = mkrec("ftrace", "print", 9);
        memset(r.b + 16, 'A', 100);
        assert_int_equal(vs_tep_decode(dec, r.b, 116, 1, 0, 0, &src, &ev), 0);
        assert_int_equal(src.stats.records, 4);
}

/* Kernels before 5.7 had no isa field and before 5.10 no vcpu_id in kvm_exit. */
static void test_old_kvm_exit_format(void **state) {
        static const char fmt[] =
                "name: kvm_exit\nID: 900\nformat:\n"
                "\tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;\n"
                "\tfield:unsigned char common_flags;\toffset:2;\tsize:1;\tsigned:0;\n"
                "\tfield:unsigned char common_preempt_count;\toffset:3;\tsize:1;\tsigned:0;\n"
                "\tfield:int common_pid;\toffset:4;\tsize:4;\tsigned:1;\n\n"
                "\tfield:unsigned int exit_reason;\toffset:8;\tsize:4;\tsigned:0;\n"
                "\tfield:unsigned long guest_rip;\toffset:16;\tsize:8;\tsigned:0;\n\n"
                "print fmt: \"reason %d rip 0x%lx\", REC->exit_reason, REC->guest_rip\n";
        struct tep_handle *old = tep_alloc();
        struct vs_tep_decoder *d;
        struct vs_event ev;
        uint8_t b[24] = {};
        uint16_t id = 900;
        int32_t pid = 77;
        uint32_t reason = 40;

        tep_set_long_size(old, 8);
        assert_int_equal(tep_parse_event(old, fmt, sizeof(fmt) - 1, "kvm"), 0);
        assert_int_equal(vs_tep_decoder_new(old, &d), 0);
        memcpy(b, &id, 2);
        memcpy(b + 4, &pid, 4);
        memcpy(b + 8, &reason, 4);
        assert_int_equal(vs_tep_decode(d, b, sizeof(b), 5, 0, 0, &src, &ev), 1);
        assert_int_equal(ev.type, VS_EV_EXIT_PAUSE);
        assert_int_equal(ev.pause.vcpu_id, UINT32_MAX);
        assert_int_equal(ev.pause.isa, VS_ISA_UNKNOWN);
        vs_tep_decoder_free(d);
        tep_free(old);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup(test_ipi_layout, reset),
                cmocka_unit_test_setup(test_eoi, reset),
                cmocka_unit_test_setup(test_switch_and_comms, reset),
                cmocka_unit_test_setup(test_wakeups, reset),
                cmocka_unit_test_setup(test_exits, reset),
                cmocka_unit_test_setup(test_hypercalls, reset),
                cmocka_unit_test_setup(test_ple_avic, reset),
                cmocka_unit_test_setup(test_directed_yield, reset),
                cmocka_unit_test_setup(test_marker, reset),
                cmocka_unit_test_setup(test_bad_records, reset),
                cmocka_unit_test_setup(test_old_kvm_exit_format, reset),
        };
        return cmocka_run_group_tests(tests, setup, teardown);
}
