/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests for topology.c: thread names, sparse APIC IDs, VM grouping, /proc scan. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "topology.h"

static void learn(struct vs_topology *t, int32_t tid, int32_t tgid, const char *comm, int32_t apic, const char *vm) {
        struct vs_thread_info ti = { .tid = tid, .tgid = tgid, .comm = comm, .apic_id = apic, .vm_name = vm };
        assert_int_equal(vs_topology_learn_thread(t, &ti), 0);
}

static void test_comm_patterns(void **state) {
        assert_int_equal(vs_vcpu_index_from_comm("CPU 0/KVM"), 0);
        assert_int_equal(vs_vcpu_index_from_comm("CPU 17/KVM"), 17);
        assert_int_equal(vs_vcpu_index_from_comm("fc_vcpu 3"), 3);
        assert_int_equal(vs_vcpu_index_from_comm("vcpu12"), 12);
        assert_int_equal(vs_vcpu_index_from_comm("crosvm_vcpu2"), 2);
        assert_int_equal(vs_vcpu_index_from_comm("kvm-vcpu-5"), 5);
        assert_int_equal(vs_vcpu_index_from_comm("CPU 0/TCG"), -1);
        assert_int_equal(vs_vcpu_index_from_comm("CPU x/KVM"), -1);
        assert_int_equal(vs_vcpu_index_from_comm("CPU /KVM"), -1);
        assert_int_equal(vs_vcpu_index_from_comm("CPU 1234567/KVM"), -1);
        assert_int_equal(vs_vcpu_index_from_comm("vcpu"), -1);
        assert_int_equal(vs_vcpu_index_from_comm("qemu-system-x86"), -1);
        assert_int_equal(vs_vcpu_index_from_comm(""), -1);
        assert_int_equal(vs_vcpu_index_from_comm(NULL), -1);
}

static void test_sparse_apic(void **state) {
        struct vs_topology *t;

        assert_int_equal(vs_topology_new(&t), 0);
        /* VM "db": vCPU 0 = APIC 0, vCPU 1 = APIC 2, learned from kvm_entry */
        learn(t, 201, 200, "CPU 0/KVM", -1, "db");
        learn(t, 202, 200, "CPU 1/KVM", -1, NULL);
        struct vs_event e = { .type = VS_EV_VCPU_ID, .tid = 202, .vcpu.vcpu_id = 2 };
        assert_int_equal(vs_topology_observe(t, &e), 0);
        e.tid = 201;
        e.vcpu.vcpu_id = 0;
        assert_int_equal(vs_topology_observe(t, &e), 0);

        const struct vs_thread *th = vs_topology_thread(t, 202);
        assert_non_null(th);
        assert_int_equal(th->apic_id, 2);
        assert_int_equal(th->vcpu_index, 1);
        assert_int_equal(vs_topology_vcpu_of(t, 202), 1);
        assert_int_equal(vs_topology_vcpu_of_apic(t, th->vm, 2), 1);
        assert_int_equal(vs_topology_vcpu_of_apic(t, th->vm, 0), 0);
        /* APIC 1 exists nowhere, and index 1 belongs to APIC 2: unknown, not 1 */
        assert_int_equal(vs_topology_vcpu_of_apic(t, th->vm, 1), -1);
        /* APIC 7: every vCPU's APIC ID is known and none is 7: no such vCPU */
        assert_int_equal(vs_topology_vcpu_of_apic(t, th->vm, 7), -1);
        /* a third vCPU whose APIC ID is not known yet: now KVM's vcpu_id is the best answer */
        learn(t, 203, 200, "CPU 2/KVM", -1, NULL);
        assert_false(vs_topology_vm(t, th->vm)->apics_known);
        assert_int_equal(vs_topology_vcpu_of_apic(t, vs_topology_thread(t, 203)->vm, 7), 7);
        assert_int_equal(vs_topology_vcpu_of_apic(t, vs_topology_thread(t, 203)->vm, 1), -1);
        th = vs_topology_thread(t, 202);
        assert_string_equal(vs_topology_vm(t, th->vm)->name, "db");
        assert_true(vs_topology_vm(t, th->vm)->named);
        assert_int_equal(vs_topology_vm(t, th->vm)->n_vcpus, 3);
        vs_topology_free(t);
}

static void test_eoi_teaches_apic(void **state) {
        struct vs_topology *t;
        struct vs_event e = { .type = VS_EV_EOI, .tid = 301, .eoi.apic_id = 5, .eoi.vector = 251 };

        assert_int_equal(vs_topology_new(&t), 0);
        learn(t, 301, 300, "CPU 3/KVM", -1, NULL);
        assert_int_equal(vs_topology_observe(t, &e), 0);
        assert_int_equal(vs_topology_thread(t, 301)->apic_id, 5);
        assert_int_equal(vs_topology_vcpu_of_apic(t, vs_topology_thread(t, 301)->vm, 5), 3);
        /* unnamed VM is qemu-<tgid> */
        assert_string_equal(vs_topology_vm(t, 0)->name, "qemu-300");
        assert_false(vs_topology_vm(t, 0)->inferred);

        /* a thread with kvm events but an odd name is still a vCPU; index = vcpu_id */
        struct vs_event x = { .type = VS_EV_VCPU_ID, .tid = 302, .vcpu.vcpu_id = 9 };
        learn(t, 302, 300, "worker thread", -1, NULL);
        assert_int_equal(vs_topology_observe(t, &x), 0);
        assert_int_equal(vs_topology_vcpu_of(t, 302), 9);
        /* a non-vCPU thread has no vcpu */
        learn(t, 303, 300, "IO mon_iothread", -1, NULL);
        assert_int_equal(vs_topology_vcpu_of(t, 303), -1);
        assert_int_equal(vs_topology_thread(t, 303)->vm, -1);
        /* unknown tid */
        assert_null(vs_topology_thread(t, 99999));
        vs_topology_free(t);
}

static void observe(struct vs_topology *t, const struct vs_event *ev) {
        assert_int_equal(vs_topology_observe(t, ev), 0);
}

/* one IPI from @src to APIC @dest, acknowledged by @dst (kvm_eoi, apicid @dest) */
static void ipi_eoi(struct vs_topology *t, uint64_t *ts, int32_t src, int32_t dst, uint32_t dest) {
        struct vs_event ipi = { .ts_ns = (*ts += 1000), .tid = src, .type = VS_EV_IPI };
        struct vs_event eoi = { .ts_ns = (*ts += 1000), .tid = dst, .type = VS_EV_EOI };

        vs_event_set_icr(&ipi, 0x40fb, dest);
        eoi.eoi.apic_id = dest;
        eoi.eoi.vector = 0xfb;
        observe(t, &ipi);
        observe(t, &eoi);
}

static void test_inferred_grouping(void **state) {
        struct vs_topology *t;
        uint64_t ts = 1000;
        char note[512];

        assert_int_equal(vs_topology_new(&t), 0);
        /* A plain .dat: no TGIDs.  Two QEMUs started together: their vCPU
         * threads interleave (VM A: 258, 262; VM B: 257, 261), and a third
         * vCPU thread (300) that never exchanges an IPI. */
        learn(t, 250, -1, "qemu-system-x86", -1, NULL);
        learn(t, 251, -1, "qemu-system-x86", -1, NULL);
        learn(t, 257, -1, "CPU 0/KVM", -1, NULL);
        learn(t, 258, -1, "CPU 0/KVM", -1, NULL);
        learn(t, 261, -1, "CPU 1/KVM", -1, NULL);
        learn(t, 262, -1, "CPU 1/KVM", -1, NULL);
        learn(t, 300, -1, "CPU 2/KVM", -1, NULL);
        for (int i = 0; i < 5; i++) {
                ipi_eoi(t, &ts, 258, 262, 1);
                ipi_eoi(t, &ts, 262, 258, 0);
                ipi_eoi(t, &ts, 257, 261, 1);
        }

        assert_int_equal(vs_topology_n_vms(t), 3);
        const struct vs_thread *a0 = vs_topology_thread(t, 258), *a1 = vs_topology_thread(t, 262),
                               *b0 = vs_topology_thread(t, 257), *b1 = vs_topology_thread(t, 261),
                               *c = vs_topology_thread(t, 300);
        assert_int_equal(a0->vm, a1->vm);
        assert_int_equal(b0->vm, b1->vm);
        assert_int_not_equal(a0->vm, b0->vm);
        /* names claim no process ID: numbered by lowest vCPU TID */
        assert_string_equal(vs_topology_vm(t, b0->vm)->name, "inferred-1");
        assert_string_equal(vs_topology_vm(t, a0->vm)->name, "inferred-2");
        assert_string_equal(vs_topology_vm(t, c->vm)->name, "inferred-3");
        assert_int_equal(vs_topology_vm(t, a0->vm)->tgid, -1);
        assert_true(vs_topology_vm(t, a0->vm)->inferred);
        assert_int_equal(vs_topology_vm(t, a0->vm)->n_vcpus, 2);
        /* APIC IDs resolve inside the right VM */
        assert_int_equal(vs_topology_by_apic(t, a0->vm, 1)->tid, 262);
        assert_int_equal(vs_topology_by_apic(t, b0->vm, 1)->tid, 261);
        /* vCPU 2 could belong to either VM: said so, not guessed */
        assert_int_equal(vs_topology_vm(t, c->vm)->n_maybe_same, 2);
        assert_string_equal(vs_topology_vm(t, c->vm)->maybe_same, "inferred-1,inferred-2");
        assert_int_equal(vs_topology_vm(t, a0->vm)->n_maybe_same, 1);
        assert_string_equal(vs_topology_vm(t, a0->vm)->maybe_same, "inferred-3");
        vs_grouping_note(true, 1, "inferred-3", note, sizeof(note));
        assert_string_equal(note, "grouping inferred; may be one VM with inferred-3: nothing in the trace joins or "
                                  "separates them, their edges are kept apart");
        vs_grouping_note(false, 0, "", note, sizeof(note));
        assert_string_equal(note, "");

        /* a replay's second pass over the same events adds no evidence */
        vs_topology_seal_evidence(t);
        uint64_t gen = vs_topology_generation(t);
        ts = 1000;
        for (int i = 0; i < 5; i++)
                ipi_eoi(t, &ts, 300, 258, 0);
        assert_int_equal(vs_topology_generation(t), gen);
        assert_int_not_equal(vs_topology_thread(t, 300)->vm, vs_topology_thread(t, 258)->vm);

        /* once a TGID is known it wins over the inference */
        learn(t, 257, 251, NULL, -1, "db");
        learn(t, 261, 251, NULL, -1, NULL);
        b0 = vs_topology_thread(t, 261);
        assert_string_equal(vs_topology_vm(t, b0->vm)->name, "db");
        assert_false(vs_topology_vm(t, b0->vm)->inferred);
        assert_int_equal(vs_topology_vm(t, b0->vm)->tgid, 251);
        assert_string_equal(vs_topology_vm(t, vs_topology_thread(t, 258)->vm)->name, "inferred-1");
        vs_topology_free(t);
}

static void test_many_threads(void **state) {
        struct vs_topology *t;
        char comm[32];

        assert_int_equal(vs_topology_new(&t), 0);
        for (int vm = 0; vm < 200; vm++)
                for (int v = 0; v < 16; v++) {
                        snprintf(comm, sizeof(comm), "CPU %d/KVM", v);
                        learn(t, 10000 + vm * 100 + v, 10000 + vm * 100 - 1, comm, v * 2, NULL);
                }
        assert_int_equal(vs_topology_n_vms(t), 200);
        assert_int_equal(vs_topology_n_threads(t), 3200);
        const struct vs_thread *th = vs_topology_thread(t, 10000 + 150 * 100 + 7);
        assert_non_null(th);
        assert_int_equal(th->vcpu_index, 7);
        assert_int_equal(vs_topology_vcpu_of_apic(t, th->vm, 14), 7);
        vs_topology_free(t);
}

static void write_file(const char *dir, const char *name, const char *data, size_t len) {
        char path[512];
        FILE *f;

        snprintf(path, sizeof(path), "%s/%s", dir, name);
        f = fopen(path, "w");
        assert_non_null(f);
        assert_int_equal(fwrite(data, 1, len, f), len);
        fclose(f);
}

static void mk(const char *fmt, const char *root, const char *sub) {
        char path[512];
        (void) fmt;     /* always "%s/%s" */
        snprintf(path, sizeof(path), "%s/%s", root, sub);
        assert_true(mkdir(path, 0755) == 0 || errno == EEXIST);
}

static void test_scan_proc(void **state) {
        char root[] = "/tmp/vs-proc-XXXXXX", d[512];
        static const char cmdline[] = "/usr/bin/qemu-system-x86_64\0-name\0guest=web,,prod,debug-threads=on\0-smp\0002";
        static const char cg[] = "12:cpu,cpuacct:/machine.slice/x\n0::/machine.slice/machine-qemu\\x2d1\\x2dweb.scope/libvirt/emulator\n";
        struct vs_topology *t;

        assert_non_null(mkdtemp(root));
        mk("%s/%s", root, "4242");
        snprintf(d, sizeof(d), "%s/4242", root);
        write_file(d, "comm", "qemu-system-x86\n", 16);
        write_file(d, "cmdline", cmdline, sizeof(cmdline));
        write_file(d, "cgroup", cg, sizeof(cg) - 1);
        mk("%s/%s", d, "task");
        mk("%s/%s", d, "task/4242");
        mk("%s/%s", d, "task/4243");
        mk("%s/%s", d, "task/4244");
        write_file(d, "task/4242/comm", "qemu-system-x86\n", 16);
        write_file(d, "task/4243/comm", "CPU 0/KVM\n", 10);
        write_file(d, "task/4244/comm", "CPU 1/KVM\n", 10);
        /* a process that vanished mid-scan (no comm), and a non-VMM process */
        mk("%s/%s", root, "77");
        mk("%s/%s", root, "88");
        snprintf(d, sizeof(d), "%s/88", root);
        write_file(d, "comm", "bash\n", 5);
        mk("%s/%s", root, "self");

        assert_int_equal(vs_topology_new(&t), 0);
        assert_int_equal(vs_topology_scan_proc(t, root), 1);
        const struct vs_thread *th = vs_topology_thread(t, 4244);
        assert_non_null(th);
        assert_int_equal(th->tgid, 4242);
        assert_int_equal(th->vcpu_index, 1);
        const struct vs_vm *vm = vs_topology_vm(t, th->vm);
        assert_string_equal(vm->name, "web,prod");
        assert_string_equal(vm->cgroup, "/machine.slice/machine-qemu\\x2d1\\x2dweb.scope/libvirt/emulator");
        assert_int_equal(vm->n_vcpus, 2);
        /* the main thread is not a vCPU */
        assert_null(vs_topology_thread(t, 4242));
        vs_topology_free(t);

        assert_int_equal(vs_topology_new(&t), 0);
        assert_int_equal(vs_topology_scan_proc(t, "/nonexistent-proc-root"), -ENOENT);
        vs_topology_free(t);

        char cmd[600];
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
        assert_int_equal(system(cmd), 0);
}

/* A fake /proc entry for a thread: <root>/<tid>/status (and, for the
 * leader, comm, cmdline and task/<tid>/comm of every thread). */
static void fake_status(const char *root, int tid, int tgid, char state) {
        char d[512], sub[32], st[128];
        int n;

        snprintf(sub, sizeof(sub), "%d", tid);
        mk("%s/%s", root, sub);
        snprintf(d, sizeof(d), "%s/%d", root, tid);
        n = snprintf(st, sizeof(st), "Name:\tx\nUmask:\t0022\nState:\t%c (x)\nTgid:\t%d\nPid:\t%d\nThreads:\t1\n",
                     state, tgid, tid);
        write_file(d, "status", st, (size_t) n);
}

static void fake_process(const char *root, int tgid, const char *comm, const char *guest, const char *const *threads,
                         int n_threads) {
        char d[512], sub[64], line[128];
        int n;

        fake_status(root, tgid, tgid, 'S');
        snprintf(d, sizeof(d), "%s/%d", root, tgid);
        n = snprintf(line, sizeof(line), "%s\n", comm);
        write_file(d, "comm", line, (size_t) n);
        n = snprintf(line, sizeof(line), "%s%c-name%cguest=%s,debug-threads=on%c", comm, 0, 0, guest ? guest : "x", 0);
        write_file(d, "cmdline", line, guest ? (size_t) n : strlen(comm) + 1);
        write_file(d, "cgroup", "0::/\n", 5);
        mk("%s/%s", d, "task");
        for (int i = 0; i <= n_threads; i++) {
                int tid = tgid + i;
                snprintf(sub, sizeof(sub), "task/%d", tid);
                mk("%s/%s", d, sub);
                snprintf(sub, sizeof(sub), "task/%d/comm", tid);
                n = snprintf(line, sizeof(line), "%s\n", i == 0 ? comm : threads[i - 1]);
                write_file(d, sub, line, (size_t) n);
                if (i > 0)
                        fake_status(root, tid, tgid, 'S');
        }
}

static void rm_rf(const char *path) {
        char cmd[700];
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", path);
        assert_int_equal(system(cmd), 0);
}

static void test_live_never_guesses(void **state) {
        char root[] = "/tmp/vs-proc-XXXXXX";
        static const char *const qemu[] = { "CPU 0/KVM", "CPU 1/KVM" };
        static const char *const other[] = { "vcpu0" };
        static const char *const fc[] = { "worker" };
        struct vs_topology *t, *replay;
        const struct vs_thread *th;

        assert_non_null(mkdtemp(root));
        fake_process(root, 500, "qemu-system-x86", "alpha", qemu, 2);   /* 501, 502 */
        fake_process(root, 600, "bash", NULL, other, 1);                /* 601: vCPU-named, not a VMM */
        fake_process(root, 1000, "myvmm", NULL, fc, 1);                 /* 1001 fires kvm events */
        fake_status(root, 800, 800, 'Z');                               /* exited, not reaped */

        assert_int_equal(vs_topology_new(&t), 0);
        assert_int_equal(vs_topology_set_live(t, root), 0);
        assert_int_equal(vs_topology_new(&replay), 0);

        /* the scheduler names a vCPU thread before any scan placed it: its
         * process is found at once, with all its vCPUs and its name */
        learn(t, 501, -1, "CPU 0/KVM", -1, NULL);
        learn(replay, 501, -1, "CPU 0/KVM", -1, NULL);
        assert_int_equal(vs_topology_n_vms(t), 1);
        th = vs_topology_thread(t, 502);
        assert_non_null(th);
        assert_int_equal(th->tgid, 500);
        assert_string_equal(vs_topology_vm(t, th->vm)->name, "alpha");
        assert_false(vs_topology_vm(t, th->vm)->inferred);
        assert_int_equal(vs_topology_vm(t, th->vm)->n_vcpus, 2);
        assert_int_equal(vs_topology_vm_of_tgid(t, 500), th->vm);

        /* threads already gone (700: no /proc entry; 800: zombie) are dropped,
         * by name or by kvm event; replay would invent VMs for them */
        learn(t, 700, -1, "CPU 3/KVM", -1, NULL);
        learn(replay, 700, -1, "CPU 3/KVM", -1, NULL);
        struct vs_event e = { .type = VS_EV_VCPU_ID, .tid = 800, .vcpu.vcpu_id = 1 };
        assert_int_equal(vs_topology_observe(t, &e), 0);
        assert_int_equal(vs_topology_observe(replay, &e), 0);
        assert_null(vs_topology_thread(t, 700));
        assert_null(vs_topology_thread(t, 800));
        assert_int_equal(vs_topology_n_vms(t), 1);
        /* replay infers: no link between them, so each is its own VM, said to
         * be possibly one with the others (lib/vm-infer.h) */
        assert_int_equal(vs_topology_n_vms(replay), 3);
        assert_true(vs_topology_vm(replay, vs_topology_thread(replay, 700)->vm)->inferred);
        assert_int_equal(vs_topology_vm(replay, vs_topology_thread(replay, 700)->vm)->n_maybe_same, 2);

        /* a vCPU-named thread of a process that is no VMM: kept (not looked up
         * again) but in no VM; host threads with other names are not kept */
        learn(t, 601, -1, "vcpu0", -1, NULL);
        th = vs_topology_thread(t, 601);
        assert_non_null(th);
        assert_int_equal(th->tgid, 600);
        assert_int_equal(th->vm, -1);
        unsigned n = vs_topology_n_threads(t);
        learn(t, 4321, -1, "bash", -1, NULL);
        assert_int_equal(vs_topology_n_threads(t), n);
        assert_int_equal(vs_topology_n_vms(t), 1);

        /* a kvm event proves a VM whatever the VMM's name */
        e = (struct vs_event) { .type = VS_EV_VCPU_ID, .tid = 1001, .vcpu.vcpu_id = 0 };
        assert_int_equal(vs_topology_observe(t, &e), 0);
        assert_int_equal(vs_topology_n_vms(t), 2);
        th = vs_topology_thread(t, 1001);
        assert_int_equal(th->tgid, 1000);
        assert_int_equal(th->apic_id, 0);
        assert_string_equal(vs_topology_vm(t, th->vm)->name, "qemu-1000");

        /* nothing gone yet; then bash (600) and the VMM 1000 exit */
        int32_t *gone;
        size_t n_gone;
        assert_int_equal(vs_topology_gone(t, &gone, &n_gone), 0);
        assert_null(gone);
        char d[600];
        snprintf(d, sizeof(d), "%s/600", root);
        rm_rf(d);
        snprintf(d, sizeof(d), "%s/1000", root);
        fake_status(root, 1000, 1000, 'Z');
        assert_int_equal(vs_topology_gone(t, &gone, &n_gone), 2);
        assert_int_equal(n_gone, 2);
        assert_true((gone[0] == 600 && gone[1] == 1000) || (gone[0] == 1000 && gone[1] == 600));
        for (size_t i = 0; i < n_gone; i++)
                assert_int_equal(vs_topology_forget_tgid(t, gone[i]), 1);
        free(gone);
        assert_int_equal(vs_topology_n_vms(t), 1);
        assert_null(vs_topology_thread(t, 601));
        assert_int_equal(vs_topology_vm_of_tgid(t, 1000), -1);

        /* the VM exits (pidfd): everything of it goes; the others stay found */
        assert_int_equal(vs_topology_forget_tgid(t, 500), 2);
        assert_int_equal(vs_topology_forget_tgid(t, 500), 0);
        assert_int_equal(vs_topology_n_vms(t), 0);
        assert_int_equal(vs_topology_n_threads(t), 0);
        assert_null(vs_topology_thread(t, 501));

        vs_topology_free(t);
        vs_topology_free(replay);
        rm_rf(root);
}

/* Thousands of VMs that come and go: the tables end where they started. */
static void test_live_churn(void **state) {
        char root[] = "/tmp/vs-proc-XXXXXX";
        static const char *const qemu[] = { "CPU 0/KVM", "CPU 1/KVM", "CPU 2/KVM" };
        struct vs_topology *t;

        assert_non_null(mkdtemp(root));
        assert_int_equal(vs_topology_new(&t), 0);
        assert_int_equal(vs_topology_set_live(t, root), 0);
        for (int wave = 0; wave < 20; wave++) {
                for (int i = 0; i < 50; i++) {
                        int tgid = 20000 + (wave * 50 + i) * 10;
                        char guest[32];
                        snprintf(guest, sizeof(guest), "vm%d", wave * 50 + i);
                        fake_process(root, tgid, "qemu-system-x86", guest, qemu, 3);
                        learn(t, tgid + 2, -1, "CPU 1/KVM", -1, NULL);
                }
                assert_int_equal(vs_topology_n_vms(t), 50);
                assert_int_equal(vs_topology_n_threads(t), 150);
                for (int i = 0; i < 50; i++)
                        assert_int_equal(vs_topology_forget_tgid(t, 20000 + (wave * 50 + i) * 10), 3);
                assert_int_equal(vs_topology_n_vms(t), 0);
                assert_int_equal(vs_topology_n_threads(t), 0);
        }
        vs_topology_free(t);
        rm_rf(root);
}

/* A TID reused by another process's thread is a new thread: the old vCPU
 * (and its APIC ID) must not stick to it. */
static void test_tid_reuse(void **state) {
        struct vs_topology *t;

        assert_int_equal(vs_topology_new(&t), 0);
        learn(t, 301, 300, "CPU 0/KVM", -1, "web");
        struct vs_event e = { .type = VS_EV_VCPU_ID, .tid = 301, .vcpu.vcpu_id = 4 };
        assert_int_equal(vs_topology_observe(t, &e), 0);
        const struct vs_thread *th = vs_topology_thread(t, 301);
        assert_true(th->is_vcpu);
        assert_int_equal(th->apic_id, 4);
        /* same TID, another process, an ordinary name */
        learn(t, 301, 900, "python3", -1, NULL);
        th = vs_topology_thread(t, 301);
        assert_non_null(th);
        assert_false(th->is_vcpu);
        assert_int_equal(th->apic_id, -1);
        assert_int_equal(th->vcpu_index, -1);
        assert_int_equal(vs_topology_vcpu_of(t, 301), -1);
        /* and reused again by a vCPU thread of a third VM: a vCPU again */
        learn(t, 301, 950, "CPU 1/KVM", -1, "db");
        th = vs_topology_thread(t, 301);
        assert_true(th->is_vcpu);
        assert_int_equal(th->vcpu_index, 1);
        assert_int_equal(th->apic_id, -1);
        vs_topology_free(t);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_comm_patterns),
                cmocka_unit_test(test_sparse_apic),
                cmocka_unit_test(test_eoi_teaches_apic),
                cmocka_unit_test(test_inferred_grouping),
                cmocka_unit_test(test_many_threads),
                cmocka_unit_test(test_scan_proc),
                cmocka_unit_test(test_live_never_guesses),
                cmocka_unit_test(test_live_churn),
                cmocka_unit_test(test_tid_reuse),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
