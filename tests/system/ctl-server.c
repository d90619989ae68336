/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ctl-server - a test fixture: daemon/control.c on an sd-event loop with
 * canned control_ops, so tests/system/120-control.sh can drive vschedctl
 * without the real daemon.
 *
 *   ctl-server [--group NAME] PATH
 *
 * Prints "ready" on stdout once listening; on SIGTERM/SIGINT prints its
 * control_stats on stdout ("stats accepted=N ...") and exits 0.  Canned
 * state: VMs "web1" (4 vCPUs) and "db\"1\\x" (2 vCPUs); "huge" answers with
 * more than a datagram; vm-set changes mode/weights of a known VM and refuses
 * weight_min > weight_max; reload succeeds and counts.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include <json-c/json.h>
#include <systemd/sd-event.h>

#include "control.h"
#include "ctl-proto.h"
#include "macro.h"
#include "metrics.h"

struct fake_vm {
        const char *name;
        unsigned vcpus;
        char mode[16];
        uint64_t weight_min, weight_max;
        bool idle;
};

static struct fake_vm vms[] = {
        { "web1", 4, "enforce", 50, 400, false },
        { "db\"1\\x", 2, "observe", 1, 10000, false },
};

static unsigned reloads;
static struct control *ctl;

static struct fake_vm *find_vm(const char *name) {
        for (size_t i = 0; i < ELEMENTSOF(vms); i++)
                if (strcmp(vms[i].name, name) == 0)
                        return &vms[i];
        return NULL;
}

static struct json_object *edge(unsigned src, unsigned dst, uint64_t count, double share) {
        struct json_object *o = json_object_new_object();
        json_object_object_add(o, "src", json_object_new_int((int) src));
        json_object_object_add(o, "dst", json_object_new_int((int) dst));
        json_object_object_add(o, "count", json_object_new_uint64(count));
        json_object_object_add(o, "preempted_share", json_object_new_double(share));
        return o;
}

static struct json_object *vm_json(const struct fake_vm *v, bool details) {
        struct json_object *o = json_object_new_object(), *edges = json_object_new_array(),
                           *adj = json_object_new_array(), *a;

        json_object_object_add(o, "vm", json_object_new_string(v->name));
        json_object_object_add(o, "vcpus", json_object_new_int((int) v->vcpus));
        json_object_object_add(o, "mode", json_object_new_string(v->mode));
        if (details) {
                json_object_object_add(o, "weight_min", json_object_new_uint64(v->weight_min));
                json_object_object_add(o, "weight_max", json_object_new_uint64(v->weight_max));
                json_object_object_add(o, "idle", json_object_new_boolean(v->idle));
        }
        for (unsigned i = 0; i < v->vcpus; i++)
                json_object_array_add(edges, edge(i, (i + 1) % v->vcpus, 1000u * (i + 1), 0.05 * i));
        json_object_object_add(o, "edges", edges);
        a = json_object_new_object();
        json_object_object_add(a, "vcpu", json_object_new_int(1));
        json_object_object_add(a, "file", json_object_new_string("cpu.weight"));
        json_object_object_add(a, "value", json_object_new_string("150"));
        json_object_object_add(a, "baseline", json_object_new_string("100"));
        json_object_array_add(adj, a);
        json_object_object_add(o, "adjustments", adj);
        return o;
}

static int op_status(void *ud, struct json_object **ret) {
        struct json_object *o = json_object_new_object(), *sig = json_object_new_object(),
                           *ev = json_object_new_object(), *arr = json_object_new_array();

        json_object_object_add(o, "mode", json_object_new_string("observe"));
        json_object_object_add(o, "uptime_s", json_object_new_uint64(3723));
        json_object_object_add(sig, "mode", json_object_new_string("ipi+eoi (no APICv)"));
        json_object_object_add(ev, "kvm_apic_ipi", json_object_new_uint64(12345));
        json_object_object_add(ev, "kvm_eoi", json_object_new_uint64(12000));
        json_object_object_add(ev, "sched_switch", json_object_new_uint64(99999));
        json_object_object_add(sig, "events", ev);
        json_object_object_add(o, "signals", sig);
        json_object_object_add(o, "events_per_s", json_object_new_double(1234.5));
        json_object_object_add(o, "lost", json_object_new_uint64(0));
        json_object_object_add(o, "reloads", json_object_new_int((int) reloads));
        for (size_t i = 0; i < ELEMENTSOF(vms); i++)
                json_object_array_add(arr, vm_json(&vms[i], false));
        json_object_object_add(o, "vms", arr);
        *ret = o;
        return 0;
}

static int op_vms(void *ud, struct json_object **ret) {
        struct json_object *o = json_object_new_object(), *arr = json_object_new_array();

        for (size_t i = 0; i < ELEMENTSOF(vms); i++) {
                struct json_object *v = json_object_new_object();
                json_object_object_add(v, "vm", json_object_new_string(vms[i].name));
                json_object_object_add(v, "vcpus", json_object_new_int((int) vms[i].vcpus));
                json_object_object_add(v, "mode", json_object_new_string(vms[i].mode));
                json_object_object_add(v, "ipis_per_s", json_object_new_double(10.5 * (double) (i + 1)));
                json_object_array_add(arr, v);
        }
        json_object_object_add(o, "vms", arr);
        *ret = o;
        return 0;
}

static int op_vm(void *ud, const char *name, struct json_object **ret) {
        const struct fake_vm *v;

        if (strcmp(name, "huge") == 0) {
                struct json_object *o = json_object_new_object();
                char *s = malloc(100000);
                if (!s)
                        return -ENOMEM;
                memset(s, 'x', 99999);
                s[99999] = 0;
                json_object_object_add(o, "blob", json_object_new_string(s));
                free(s);
                *ret = o;
                return 0;
        }
        v = find_vm(name);
        if (!v)
                return -ENOENT;
        *ret = vm_json(v, true);
        return 0;
}

static int op_vm_set(void *ud, const char *name, struct json_object *args, char **ret_error) {
        struct fake_vm *v = find_vm(name);
        struct json_object *o;
        uint64_t wmin, wmax;

        if (!v)
                return -ENOENT;
        wmin = json_object_object_get_ex(args, "weight_min", &o) ? json_object_get_uint64(o) : v->weight_min;
        wmax = json_object_object_get_ex(args, "weight_max", &o) ? json_object_get_uint64(o) : v->weight_max;
        if (wmin > wmax) {
                if (asprintf(ret_error, "weight_min %llu is above weight_max %llu", (unsigned long long) wmin,
                             (unsigned long long) wmax) < 0)
                        *ret_error = NULL;
                return -EINVAL;
        }
        v->weight_min = wmin;
        v->weight_max = wmax;
        if (json_object_object_get_ex(args, "mode", &o))
                snprintf(v->mode, sizeof(v->mode), "%s", json_object_get_string(o));
        if (json_object_object_get_ex(args, "idle", &o))
                v->idle = json_object_get_boolean(o);
        return 0;
}

static int op_reload(void *ud, char **ret_error) {
        reloads++;
        return 0;
}

static int op_metrics(void *ud, char **ret_text) {
        struct vs_metrics *m = NULL;
        struct control_stats st;
        int r;

        control_get_stats(ctl, &st);
        r = vs_metrics_new(&m);
        if (r < 0)
                return r;
        r = vs_metrics_family(m, "vschedd_events", VS_METRIC_COUNTER, "Trace events by type.");
        if (r >= 0)
                r = vs_metrics_sample_u64(m, (const struct vs_metric_label[]) { { "type", "kvm_apic_ipi" } }, 1, 12345);
        if (r >= 0)
                r = vs_metrics_family(m, "vschedd_ipis", VS_METRIC_COUNTER, "IPIs by VM.");
        for (size_t i = 0; r >= 0 && i < ELEMENTSOF(vms); i++)
                r = vs_metrics_sample_u64(m, (const struct vs_metric_label[]) { { "vm", vms[i].name } }, 1,
                                          100 * (i + 1));
        if (r >= 0)
                r = vs_metrics_sample_u64(m, (const struct vs_metric_label[]) { { "vm", "new\nline" } }, 1, 1);
        if (r >= 0)
                r = vs_metrics_family(m, "vschedd_control_requests", VS_METRIC_COUNTER, "Valid control requests.");
        if (r >= 0)
                r = vs_metrics_sample_u64(m, NULL, 0, st.requests);
        if (r >= 0)
                r = vs_metrics_family(m, "vschedd_preempted_receiver_share", VS_METRIC_GAUGE,
                                      "Share of IPIs sent to a preempted vCPU.");
        if (r >= 0)
                r = vs_metrics_sample_double(m, (const struct vs_metric_label[]) { { "vm", "web1" } }, 1, 0.125);
        if (r >= 0)
                r = vs_metrics_finish(m, ret_text);
        vs_metrics_free(m);
        return r;
}

static void op_log(void *ud, int priority, const char *message) {
        fprintf(stderr, "ctl-server: <%d> %s\n", priority, message);
}

static const struct control_ops ops = {
        .status = op_status,
        .vms = op_vms,
        .vm = op_vm,
        .vm_set = op_vm_set,
        .reload = op_reload,
        .metrics = op_metrics,
        .log = op_log,
};

int main(int argc, char **argv) {
        sd_event *e = NULL;
        const char *group = VS_CTL_GROUP;
        struct control_stats st;
        int r;

        if (argc == 4 && strcmp(argv[1], "--group") == 0) {
                group = argv[2];
                argv += 2;
                argc -= 2;
        }
        if (argc != 2) {
                fprintf(stderr, "usage: ctl-server [--group NAME] PATH\n");
                return 2;
        }

        r = sd_event_default(&e);
        if (r >= 0)
                r = sd_event_add_signal(e, NULL, SIGTERM | SD_EVENT_SIGNAL_PROCMASK, NULL, NULL);
        if (r >= 0)
                r = sd_event_add_signal(e, NULL, SIGINT | SD_EVENT_SIGNAL_PROCMASK, NULL, NULL);
        if (r < 0) {
                fprintf(stderr, "ctl-server: event loop: %s\n", strerror(-r));
                return 1;
        }
        r = control_new_with_group(e, argv[1], group, &ops, NULL, &ctl);
        if (r < 0) {
                fprintf(stderr, "ctl-server: %s: %s\n", argv[1], strerror(-r));
                sd_event_unref(e);
                return r == -EADDRINUSE ? 3 : 1;
        }
        printf("ready\n");
        fflush(stdout);

        r = sd_event_loop(e);

        control_get_stats(ctl, &st);
        printf("stats connections=%u accepted=%llu refused_unauth=%llu refused_limit=%llu requests=%llu "
               "bad_requests=%llu timeouts=%llu\n",
               st.connections, (unsigned long long) st.accepted, (unsigned long long) st.refused_unauth,
               (unsigned long long) st.refused_limit, (unsigned long long) st.requests,
               (unsigned long long) st.bad_requests, (unsigned long long) st.timeouts);
        control_free(ctl);
        sd_event_unref(e);
        return r < 0 ? 1 : 0;
}
