/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests for vmwatch.c against libvirt's in-process test driver
 * (test:///default: one running domain "test", 2 vCPUs).  Every
 * test:///default connection of one process shares one driver instance while
 * at least one stays open, so the test drives domains through its own
 * read-write connection and the watcher sees the events on its read-only one.
 * The loss of the connection is simulated by calling the close callback the
 * way libvirt's remote driver does (the test driver never closes);
 * tests/system/050-libvirtd-events.sh does it for real with a private
 * libvirtd.  Includes the .c for that static callback. */
#include "../../lib/vmwatch.c"

#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

struct rec {
        enum vs_vm_change change;
        bool has_vm;
        struct vs_vm_info vm;
};

static struct {
        sd_event *e;
        virConnectPtr rw;               /* the test's own connection to test:///default */
        struct rec recs[128];
        size_t n, seen;
} t;

static void record(struct vs_vmwatch *w, const struct vs_vm_info *vm, enum vs_vm_change c, void *userdata) {
        assert_ptr_equal(userdata, &t);
        assert_true(t.n < ELEMENTSOF(t.recs));
        t.recs[t.n] = (struct rec) { .change = c, .has_vm = vm != NULL };
        if (vm)
                t.recs[t.n].vm = *vm;
        t.n++;
}

/* Run the loop until the next unseen record is (c, name) or @timeout_s passes. */
static const struct rec *expect(enum vs_vm_change c, const char *name, unsigned timeout_s) {
        uint64_t start, now;

        assert_int_equal(sd_event_now(t.e, CLOCK_MONOTONIC, &start), 0);
        for (;;) {
                for (; t.seen < t.n; t.seen++) {
                        const struct rec *r = &t.recs[t.seen];

                        if (r->change == c && (name ? r->has_vm && streq(r->vm.name, name) : !r->has_vm)) {
                                t.seen++;
                                return r;
                        }
                }
                assert_true(sd_event_run(t.e, 100 * USEC_PER_MSEC) >= 0);
                assert_int_equal(sd_event_now(t.e, CLOCK_MONOTONIC, &now), 0);
                if (now - start > timeout_s * USEC_PER_SEC) {
                        fail_msg("no '%s' for %s within %u s (%zu records)", vs_vm_change_to_string(c),
                                 name ? name : "(connection)", timeout_s, t.n);
                        return NULL;
                }
        }
}

/* Let pending events arrive; nothing may be reported. */
static void expect_quiet(unsigned ms) {
        for (unsigned i = 0; i < ms / 50; i++)
                assert_true(sd_event_run(t.e, 50 * USEC_PER_MSEC) >= 0);
        if (t.seen < t.n)
                fail_msg("unexpected '%s' for %s", vs_vm_change_to_string(t.recs[t.seen].change),
                         t.recs[t.seen].has_vm ? t.recs[t.seen].vm.name : "(connection)");
}

static virDomainPtr create_domain(const char *name, unsigned vcpus, unsigned max_vcpus) {
        char xml[512];
        virDomainPtr d;

        (void) snprintf(xml, sizeof(xml),
                        "<domain type='test'><name>%s</name><memory>65536</memory>"
                        "<vcpu current='%u'>%u</vcpu><os><type>hvm</type></os></domain>",
                        name, vcpus, max_vcpus);
        d = virDomainCreateXML(t.rw, xml, 0);
        assert_non_null(d);
        return d;
}

static const struct vs_vm_info *find(const struct vs_vm_info *vms, size_t n, const char *name) {
        for (size_t i = 0; i < n; i++)
                if (streq(vms[i].name, name))
                        return &vms[i];
        return NULL;
}

static int setup(void **state) {
        if (sd_event_new(&t.e) < 0)
                return -1;
        return 0;
}

static int teardown(void **state) {
        t.e = sd_event_unref(t.e);
        return 0;
}

/* each test gets a fresh watcher first, then the test's own connection */
static int test_setup(void **state) {
        struct vs_vmwatch *w = NULL;

        t.n = t.seen = 0;
        if (vs_vmwatch_new("test:///default", &w) < 0)
                return -1;
        if (vs_vmwatch_attach(w, t.e, record, &t) != 1)
                return -1;
        t.rw = virConnectOpen("test:///default");
        if (!t.rw)
                return -1;
        *state = w;
        return 0;
}

static int test_teardown(void **state) {
        if (t.rw)
                (void) virConnectClose(t.rw);
        t.rw = NULL;
        vs_vmwatch_free(*state);
        /* all libvirt sources and their free callbacks are gone with the last watcher */
        assert_null(ev.live);
        assert_null(ev.dead);
        assert_null(ev.event);
        return 0;
}

static void test_initial_list(void **state) {
        struct vs_vmwatch *w = *state;
        _cleanup_free_ struct vs_vm_info *vms = NULL;
        const struct vs_vm_info *vm;
        size_t n = 0;

        assert_true(vs_vmwatch_is_connected(w));
        assert_string_equal(vs_vmwatch_uri(w), "test:///default");
        assert_int_equal(vs_vmwatch_list(w, &vms, &n), 0);
        assert_int_equal(n, 1);
        vm = find(vms, n, "test");
        assert_non_null(vm);
        assert_int_equal(vm->id, 1);
        assert_int_equal(vm->nvcpus, 2);
        assert_int_equal(vm->pid, 0);           /* test driver: no PID file */
        assert_int_equal(vm->state, VS_VM_STATE_RUNNING);
        assert_string_equal(vm->uuid, "6695eb01-f6a4-8304-79aa-97f2502e193f");
        expect_quiet(200);                      /* attach reports nothing by itself */
}

static void test_lifecycle(void **state) {
        struct vs_vmwatch *w = *state;
        virDomainPtr d;
        const struct rec *r;
        _cleanup_free_ struct vs_vm_info *vms = NULL;
        size_t n = 0;

        d = create_domain("vm1", 3, 3);
        r = expect(VS_VM_STARTED, "vm1", 5);
        assert_int_equal(r->vm.nvcpus, 3);
        assert_true(r->vm.id > 1);
        assert_int_equal(r->vm.state, VS_VM_STATE_RUNNING);
        assert_int_equal(vs_vmwatch_list(w, &vms, &n), 0);
        assert_int_equal(n, 2);
        assert_non_null(find(vms, n, "vm1"));

        assert_int_equal(virDomainSuspend(d), 0);
        r = expect(VS_VM_STATE_CHANGED, "vm1", 5);
        assert_int_equal(r->vm.state, VS_VM_STATE_PAUSED);
        assert_int_equal(virDomainResume(d), 0);
        r = expect(VS_VM_STATE_CHANGED, "vm1", 5);
        assert_int_equal(r->vm.state, VS_VM_STATE_RUNNING);

        assert_int_equal(virDomainDestroy(d), 0);
        r = expect(VS_VM_STOPPED, "vm1", 5);
        assert_int_equal(r->vm.nvcpus, 3);
        virDomainFree(d);

        /* define + start: STARTED; define/undefine alone: nothing */
        d = virDomainDefineXML(t.rw, "<domain type='test'><name>vm2</name><memory>65536</memory>"
                                     "<vcpu>1</vcpu><os><type>hvm</type></os></domain>");
        assert_non_null(d);
        expect_quiet(200);
        assert_int_equal(virDomainCreate(d), 0);
        expect(VS_VM_STARTED, "vm2", 5);
        assert_int_equal(virDomainShutdown(d), 0);
        expect(VS_VM_STOPPED, "vm2", 5);
        assert_int_equal(virDomainUndefine(d), 0);
        virDomainFree(d);
        expect_quiet(200);

        free(vms);
        vms = NULL;
        assert_int_equal(vs_vmwatch_list(w, &vms, &n), 0);
        assert_int_equal(n, 1);
}

static void test_vcpus(void **state) {
        struct vs_vmwatch *w = *state;
        virDomainPtr d;
        const struct rec *r;

        d = create_domain("hot", 1, 4);
        expect(VS_VM_STARTED, "hot", 5);
        assert_int_equal(virDomainSetVcpusFlags(d, 3, VIR_DOMAIN_AFFECT_LIVE), 0);
        /* the test driver raises no event for this: an explicit refresh finds it
         * (with qemu:///system the tunable/device events trigger the same check) */
        (void) sd_event_run(t.e, 50 * USEC_PER_MSEC);
        if (t.seen == t.n)
                assert_int_equal(vs_vmwatch_refresh(w), 1);
        r = expect(VS_VM_VCPUS_CHANGED, "hot", 5);
        assert_int_equal(r->vm.nvcpus, 3);
        assert_int_equal(vs_vmwatch_refresh(w), 0);     /* nothing changed since */

        /* what the tunable callback does, directly */
        assert_int_equal(virDomainSetVcpusFlags(d, 2, VIR_DOMAIN_AFFECT_LIVE), 0);
        on_tunable(w->conn, d, NULL, 0, w);
        r = expect(VS_VM_VCPUS_CHANGED, "hot", 5);
        assert_int_equal(r->vm.nvcpus, 2);

        assert_int_equal(virDomainDestroy(d), 0);
        expect(VS_VM_STOPPED, "hot", 5);
        virDomainFree(d);
}

static void test_reconnect(void **state) {
        struct vs_vmwatch *w = *state;
        virDomainPtr stays, goes, comes;
        const struct rec *r;
        _cleanup_free_ struct vs_vm_info *vms = NULL;
        size_t n = 0;
        int e;

        stays = create_domain("stays", 1, 1);
        goes = create_domain("goes", 2, 2);
        expect(VS_VM_STARTED, "stays", 5);
        expect(VS_VM_STARTED, "goes", 5);

        /* what libvirt's remote driver calls when libvirtd goes away */
        on_conn_closed(w->conn, VIR_CONNECT_CLOSE_REASON_EOF, w);
        assert_false(vs_vmwatch_is_connected(w));
        assert_int_equal(vs_vmwatch_refresh(w), -ENOTCONN);
        expect(VS_VM_DISCONNECTED, NULL, 5);
        assert_null(w->conn);
        assert_non_null(strstr(vs_vmwatch_last_error(w, &e), "EOF"));
        assert_int_equal(e, -ECONNRESET);

        /* the table survives the disconnection */
        assert_int_equal(vs_vmwatch_list(w, &vms, &n), 0);
        assert_int_equal(n, 3);

        /* meanwhile: one VM stops, another starts, unseen by the watcher */
        assert_int_equal(virDomainDestroy(goes), 0);
        comes = create_domain("comes", 1, 1);
        expect_quiet(300);

        expect(VS_VM_RECONNECTED, NULL, 5);     /* first retry after 1 s */
        assert_true(vs_vmwatch_is_connected(w));
        expect(VS_VM_STOPPED, "goes", 1);
        r = expect(VS_VM_STARTED, "comes", 1);
        assert_int_equal(r->vm.nvcpus, 1);
        expect_quiet(200);                      /* "stays" and "test": nothing */

        /* events flow again on the new connection */
        assert_int_equal(virDomainDestroy(stays), 0);
        expect(VS_VM_STOPPED, "stays", 5);
        assert_int_equal(virDomainDestroy(comes), 0);
        expect(VS_VM_STOPPED, "comes", 5);
        virDomainFree(stays);
        virDomainFree(goes);
        virDomainFree(comes);
}

static void test_pid_dir(void **state) {
        char dir[] = "/tmp/test-vmwatch.XXXXXX", path[PATH_MAX];
        struct vs_vmwatch *w = NULL;
        _cleanup_free_ struct vs_vm_info *vms = NULL;
        size_t n = 0;
        FILE *f;

        assert_non_null(mkdtemp(dir));
        (void) snprintf(path, sizeof(path), "%s/test.pid", dir);
        f = fopen(path, "we");
        assert_non_null(f);
        fputs("4242\n", f);
        assert_int_equal(fclose(f), 0);

        assert_int_equal(vs_vmwatch_new("test:///default", &w), 0);
        assert_int_equal(vs_vmwatch_set_pid_dir(w, dir), 0);
        assert_int_equal(vs_vmwatch_attach(w, t.e, record, &t), 1);
        assert_int_equal(vs_vmwatch_list(w, &vms, &n), 0);
        assert_int_equal(n, 1);
        assert_int_equal(vms[0].pid, 4242);
        vs_vmwatch_free(w);

        assert_int_equal(unlink(path), 0);
        assert_int_equal(rmdir(dir), 0);
}

static void test_unreachable(void **state) {
        struct vs_vmwatch *w = NULL;
        const char *msg;
        sd_event *other = NULL;
        int e;

        t.n = t.seen = 0;
        assert_int_equal(vs_vmwatch_new("qemu+unix:///system?socket=/nonexistent/vmwatch-sock", &w), 0);
        assert_int_equal(vs_vmwatch_attach(w, t.e, record, &t), 0);
        assert_false(vs_vmwatch_is_connected(w));
        msg = vs_vmwatch_last_error(w, &e);
        assert_int_equal(e, -ENOENT);
        assert_non_null(strstr(msg, "vmwatch-sock"));
        assert_int_equal(vs_vmwatch_attach(w, t.e, record, &t), -EBUSY);
        assert_int_equal(vs_vmwatch_refresh(w), -ENOTCONN);

        /* libvirt's loop is bound to t.e while w lives */
        assert_int_equal(sd_event_new(&other), 0);
        {
                struct vs_vmwatch *w2 = NULL;

                assert_int_equal(vs_vmwatch_new("test:///default", &w2), 0);
                assert_int_equal(vs_vmwatch_attach(w2, other, record, &t), -EBUSY);
                vs_vmwatch_free(w2);
        }
        other = sd_event_unref(other);

        /* retries back off: 1 s, then 2 s; no callbacks while it fails */
        expect_quiet(1300);
        assert_int_equal(w->backoff_usec, 2 * USEC_PER_SEC);
        vs_vmwatch_free(w);
        assert_null(ev.event);

        /* an unknown driver */
        assert_int_equal(vs_vmwatch_new("nosuchdriver:///x", &w), 0);
        assert_int_equal(vs_vmwatch_attach(w, t.e, record, &t), 0);
        (void) vs_vmwatch_last_error(w, &e);
        assert_true(e < 0);
        vs_vmwatch_free(w);
}

static void test_errors(void **state) {
        virError err = { .code = VIR_ERR_SYSTEM_ERROR, .int1 = ECONNREFUSED };

        assert_int_equal(vir_error_to_errno(NULL), -EIO);
        assert_int_equal(vir_error_to_errno(&err), -ECONNREFUSED);
        err.int1 = 0;
        assert_int_equal(vir_error_to_errno(&err), -EIO);
        err.code = VIR_ERR_NO_DOMAIN;
        assert_int_equal(vir_error_to_errno(&err), -ENOENT);
        err.code = VIR_ERR_ACCESS_DENIED;
        assert_int_equal(vir_error_to_errno(&err), -EACCES);
        err.code = VIR_ERR_NO_SUPPORT;
        assert_int_equal(vir_error_to_errno(&err), -EOPNOTSUPP);
        err.code = VIR_ERR_NO_MEMORY;
        assert_int_equal(vir_error_to_errno(&err), -ENOMEM);
        assert_string_equal(vs_vm_change_to_string(VS_VM_VCPUS_CHANGED), "vcpus-changed");
        assert_string_equal(vs_vm_change_to_string((enum vs_vm_change) 99), "unknown");
        assert_string_equal(vs_vm_state_to_string(VS_VM_STATE_PAUSED), "paused");
        assert_null(vs_vmwatch_free(NULL));
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_errors),
                cmocka_unit_test_setup_teardown(test_initial_list, test_setup, test_teardown),
                cmocka_unit_test_setup_teardown(test_lifecycle, test_setup, test_teardown),
                cmocka_unit_test_setup_teardown(test_vcpus, test_setup, test_teardown),
                cmocka_unit_test_setup_teardown(test_reconnect, test_setup, test_teardown),
                cmocka_unit_test(test_pid_dir),
                cmocka_unit_test(test_unreachable),
        };

        return cmocka_run_group_tests(tests, setup, teardown);
}
