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

static void test_inferred_grouping(void **state) {
        struct vs_topology *t;

        assert_int_equal(vs_topology_new(&t), 0);
        /* A plain .dat: no TGIDs. Two QEMUs, vCPU threads created in order. */
        learn(t, 1000, -1, "qemu-system-x86", -1, NULL);
        learn(t, 1003, -1, "CPU 0/KVM", -1, NULL);
        learn(t, 1004, -1, "CPU 1/KVM", -1, NULL);
        learn(t, 1007, -1, "CPU 2/KVM", -1, NULL);
        learn(t, 2000, -1, "qemu-system-x86", -1, NULL);
        learn(t, 2005, -1, "CPU 0/KVM", -1, NULL);
        learn(t, 2006, -1, "CPU 1/KVM", -1, NULL);
        /* a third VM without a main thread in the trace */
        learn(t, 3001, -1, "CPU 0/KVM", -1, NULL);

        assert_int_equal(vs_topology_n_vms(t), 3);
        const struct vs_thread *a = vs_topology_thread(t, 1007), *b = vs_topology_thread(t, 2006),
                               *c = vs_topology_thread(t, 1003), *d = vs_topology_thread(t, 3001);
        assert_int_equal(a->vm, c->vm);
        assert_int_not_equal(a->vm, b->vm);
        assert_string_equal(vs_topology_vm(t, a->vm)->name, "qemu-1000");
        assert_string_equal(vs_topology_vm(t, b->vm)->name, "qemu-2000");
        assert_string_equal(vs_topology_vm(t, d->vm)->name, "vm-tid3001");
        assert_true(vs_topology_vm(t, a->vm)->inferred);
        assert_int_equal(vs_topology_vm(t, a->vm)->n_vcpus, 3);

        /* once a TGID is known it wins over the guess */
        learn(t, 2005, 2000, NULL, -1, "db");
        learn(t, 2006, 2000, NULL, -1, NULL);
        b = vs_topology_thread(t, 2006);
        assert_string_equal(vs_topology_vm(t, b->vm)->name, "db");
        assert_false(vs_topology_vm(t, b->vm)->inferred);
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

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_comm_patterns),
                cmocka_unit_test(test_sparse_apic),
                cmocka_unit_test(test_eoi_teaches_apic),
                cmocka_unit_test(test_inferred_grouping),
                cmocka_unit_test(test_many_threads),
                cmocka_unit_test(test_scan_proc),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
