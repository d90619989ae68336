/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "event-json.h"
#include "macro.h"

static const char *const dm_names[8] = { "fixed", "lowprio", "smi", "res3", "nmi", "init", "sipi", "extint" };
static const char *const sh_names[4] = { "none", "self", "all", "all-but-self" };

static const char *hc_name(uint32_t nr) {
        switch (nr) {
        case VS_HC_KICK_CPU:
                return "kick_cpu";
        case VS_HC_SEND_IPI:
                return "send_ipi";
        case VS_HC_SCHED_YIELD:
                return "sched_yield";
        default:
                return "other";
        }
}

static const char *avic_reason(uint32_t id) {
        static const char *const n[] = { "invalid_int_type", "target_not_running", "invalid_target",
                                         "invalid_backing_page", "invalid_ipi_vector" };
        return id < ELEMENTSOF(n) ? n[id] : "unknown";
}

const char *vs_prev_state_str(int64_t st, char *buf, size_t len) {
        static const char letters[] = "SDTtXZPI";
        size_t n = 0;

        if (len < 2)
                return "";
        if ((st & 0xff) == 0)
                buf[n++] = 'R';
        for (int b = 0; b < 8 && n + 2 < len; b++) {
                if (!(st & (1 << b)))
                        continue;
                if (n > 0)
                        buf[n++] = '|';
                buf[n++] = letters[b];
        }
        if ((st & VS_TASK_REPORT_MAX) && n + 1 < len)
                buf[n++] = '+';
        buf[n] = 0;
        return buf;
}

static void add_int(struct json_object *o, const char *k, int64_t v) {
        json_object_object_add(o, k, json_object_new_int64(v));
}

static void add_u64(struct json_object *o, const char *k, uint64_t v) {
        json_object_object_add(o, k, json_object_new_uint64(v));
}

static void add_str(struct json_object *o, const char *k, const char *v) {
        json_object_object_add(o, k, v ? json_object_new_string(v) : NULL);
}

static void add_bool(struct json_object *o, const char *k, bool v) {
        json_object_object_add(o, k, json_object_new_boolean(v));
}

static void add_opt(struct json_object *o, const char *k, int64_t v) {
        json_object_object_add(o, k, v >= 0 ? json_object_new_int64(v) : NULL);
}

static int32_t vm_of(struct vs_topology *topo, int32_t tid) {
        const struct vs_thread *th = topo ? vs_topology_thread(topo, tid) : NULL;
        return th ? th->vm : -1;
}

static const char *vm_name(struct vs_topology *topo, int32_t vm) {
        const struct vs_vm *v = topo ? vs_topology_vm(topo, vm) : NULL;
        return v ? v->name : NULL;
}

static int32_t vcpu_of(struct vs_topology *topo, int32_t tid) {
        return topo ? vs_topology_vcpu_of(topo, tid) : -1;
}

static int32_t vcpu_of_apic(struct vs_topology *topo, int32_t vm, uint64_t apic) {
        if (!topo || vm < 0 || apic > UINT32_MAX)
                return -1;
        return vs_topology_vcpu_of_apic(topo, vm, (uint32_t) apic);
}

/* KVM_HC_SEND_IPI: a0/a1 = 128-bit APIC-ID bitmap, a2 = the lowest APIC ID. */
static void add_send_ipi_targets(struct json_object *o, const struct vs_event *ev, struct vs_topology *topo,
                                 int32_t vm) {
        struct json_object *apics = json_object_new_array(), *vcpus = json_object_new_array();

        for (int w = 0; w < 2; w++) {
                uint64_t bits = w == 0 ? ev->hc.a0 : ev->hc.a1;
                for (int b = 0; b < 64; b++) {
                        if (!(bits & (1ull << b)))
                                continue;
                        uint64_t apic = ev->hc.a2 + (uint64_t) (w * 64 + b);
                        int32_t v = vcpu_of_apic(topo, vm, apic);
                        json_object_array_add(apics, json_object_new_uint64(apic));
                        json_object_array_add(vcpus, v >= 0 ? json_object_new_int(v) : NULL);
                }
        }
        json_object_object_add(o, "dst_apics", apics);
        json_object_object_add(o, "dst_vcpus", vcpus);
}

struct json_object *vs_event_to_json(const struct vs_event *ev, struct vs_topology *topo) {
        struct json_object *o = json_object_new_object();
        int32_t vm = vm_of(topo, ev->tid);
        char buf[32];

        if (!o)
                return NULL;
        add_u64(o, "ts_ns", ev->ts_ns);
        add_int(o, "cpu", ev->cpu);
        add_int(o, "tid", ev->tid);
        add_str(o, "type", vs_event_type_name(ev->type));
        add_str(o, "vm", vm_name(topo, vm));
        add_opt(o, "vcpu", vcpu_of(topo, ev->tid));

        switch (ev->type) {
        case VS_EV_IPI:
                add_opt(o, "dst_vcpu", vs_ipi_is_unicast(ev) ? vcpu_of_apic(topo, vm, ev->ipi.dest_apic) : -1);
                add_u64(o, "dst_apic", ev->ipi.dest_apic);
                add_int(o, "vector", ev->ipi.vector);
                add_str(o, "delivery_mode", dm_names[ev->ipi.delivery_mode & 7]);
                add_bool(o, "logical", ev->ipi.logical);
                add_str(o, "shorthand", sh_names[ev->ipi.shorthand & 3]);
                add_u64(o, "icr_low", ev->ipi.icr_low);
                break;
        case VS_EV_EOI:
                add_u64(o, "apic_id", ev->eoi.apic_id);
                add_int(o, "vector", ev->eoi.vector);
                add_bool(o, "pv", ev->flags & VS_EVF_PV_EOI);
                break;
        case VS_EV_SWITCH: {
                int32_t pvm = vm_of(topo, ev->sw.prev_tid), nvm = vm_of(topo, ev->sw.next_tid);
                add_int(o, "prev_tid", ev->sw.prev_tid);
                add_int(o, "prev_state", ev->sw.prev_state);
                add_str(o, "prev_state_str", vs_prev_state_str(ev->sw.prev_state, buf, sizeof(buf)));
                add_bool(o, "preempted", vs_prev_state_runnable(ev->sw.prev_state));
                add_str(o, "prev_vm", vm_name(topo, pvm));
                add_opt(o, "prev_vcpu", vcpu_of(topo, ev->sw.prev_tid));
                add_int(o, "next_tid", ev->sw.next_tid);
                add_str(o, "next_vm", vm_name(topo, nvm));
                add_opt(o, "next_vcpu", vcpu_of(topo, ev->sw.next_tid));
                add_int(o, "prev_prio", ev->sw.prev_prio);
                add_int(o, "next_prio", ev->sw.next_prio);
                break;
        }
        case VS_EV_WAKEUP: {
                int32_t wvm = vm_of(topo, ev->wakeup.wakee_tid);
                add_str(o, "source", ev->flags & VS_EVF_KVM_WAKEUP ? "kvm_vcpu_wakeup" : "sched_wakeup");
                add_int(o, "wakee_tid", ev->wakeup.wakee_tid);
                add_str(o, "wakee_vm", vm_name(topo, wvm));
                add_opt(o, "wakee_vcpu", vcpu_of(topo, ev->wakeup.wakee_tid));
                if (ev->flags & VS_EVF_KVM_WAKEUP) {
                        add_u64(o, "wait_ns", ev->wakeup.wait_ns);
                        add_bool(o, "waited", ev->wakeup.waited);
                        add_bool(o, "valid", ev->wakeup.valid);
                } else
                        add_int(o, "target_cpu", ev->wakeup.target_cpu);
                break;
        }
        case VS_EV_EXIT_PAUSE:
                add_opt(o, "vcpu_id", ev->pause.vcpu_id == UINT32_MAX ? -1 : (int64_t) ev->pause.vcpu_id);
                add_u64(o, "exit_reason", ev->pause.exit_reason);
                add_str(o, "isa", ev->pause.isa == VS_ISA_VMX ? "vmx" : ev->pause.isa == VS_ISA_SVM ? "svm" : "unknown");
                break;
        case VS_EV_HYPERCALL:
                add_int(o, "nr", ev->hc.nr);
                add_str(o, "hypercall", hc_name(ev->hc.nr));
                add_u64(o, "a0", ev->hc.a0);
                add_u64(o, "a1", ev->hc.a1);
                add_u64(o, "a2", ev->hc.a2);
                add_u64(o, "a3", ev->hc.a3);
                if (ev->hc.nr == VS_HC_KICK_CPU || ev->hc.nr == VS_HC_SCHED_YIELD) {
                        uint64_t apic = ev->hc.nr == VS_HC_KICK_CPU ? ev->hc.a1 : ev->hc.a0;
                        add_u64(o, "dst_apic", apic);
                        add_opt(o, "dst_vcpu", vcpu_of_apic(topo, vm, apic));
                } else if (ev->hc.nr == VS_HC_SEND_IPI) {
                        add_send_ipi_targets(o, ev, topo, vm);
                        add_int(o, "vector", ev->hc.a3 & 0xff);
                }
                break;
        case VS_EV_PLE_WINDOW:
                add_u64(o, "vcpu_id", ev->ple.vcpu_id);
                add_u64(o, "old", ev->ple.old_window);
                add_u64(o, "new", ev->ple.new_window);
                add_bool(o, "grow", ev->ple.new_window > ev->ple.old_window);
                break;
        case VS_EV_AVIC_INCOMPLETE_IPI:
                add_u64(o, "vcpu_idx", ev->avic.vcpu_idx);
                add_u64(o, "icrh", ev->avic.icrh);
                add_u64(o, "icrl", ev->avic.icrl);
                add_u64(o, "id", ev->avic.id);
                add_str(o, "reason", avic_reason(ev->avic.id));
                add_u64(o, "index", ev->avic.index);
                add_int(o, "vector", ev->avic.icrl & 0xff);
                break;
        case VS_EV_VCPU_ID:
                add_u64(o, "vcpu_id", ev->vcpu.vcpu_id);
                add_str(o, "from", ev->flags & VS_EVF_FROM_EXIT ? "kvm_exit" : "kvm_entry");
                break;
        case VS_EV_DIRECTED_YIELD:
                add_u64(o, "spinner", ev->dy.spinner);
                if (ev->dy.target == VS_DY_NO_TARGET)
                        add_int(o, "target", -1);
                else {
                        add_u64(o, "target", ev->dy.target);
                        add_opt(o, "dst_vcpu", vcpu_of_apic(topo, vm, ev->dy.target));
                }
                add_str(o, "reason", vs_dy_reason_name(ev->dy.reason));
                add_int(o, "result", ev->dy.result);
                add_bool(o, "yielded", ev->dy.result > 0);
                add_u64(o, "skipped", ev->dy.skipped);
                add_u64(o, "skipped_mask", ev->dy.skipped_mask);
                break;
        default:
                break;
        }
        return o;
}

static int who(char *buf, size_t len, struct vs_topology *topo, int32_t tid) {
        int32_t vm = vm_of(topo, tid), v = vcpu_of(topo, tid);
        char esc[VS_VM_NAME_MAX * 4];
        const char *n = vm_name(topo, vm);

        if (n)
                n = vs_escape(n, esc, sizeof(esc));

        if (n && v >= 0)
                return snprintf(buf, len, "%s/vcpu%d", n, v);
        if (n)
                return snprintf(buf, len, "%s/tid%d", n, tid);
        return snprintf(buf, len, "tid%d", tid);
}

int vs_event_format(const struct vs_event *ev, struct vs_topology *topo, char *buf, size_t len) {
        char a[VS_VM_NAME_MAX * 4 + 32], b[VS_VM_NAME_MAX * 4 + 32], st[32];
        int32_t vm = vm_of(topo, ev->tid);
        int n;

        who(a, sizeof(a), topo, ev->tid);
        n = snprintf(buf, len, "%6" PRIu64 ".%09" PRIu64 " cpu%-3u %-10s %s", (uint64_t) (ev->ts_ns / 1000000000u),
                     (uint64_t) (ev->ts_ns % 1000000000u), ev->cpu, vs_event_type_name(ev->type), a);
        if (n < 0 || (size_t) n >= len)
                return n;
        buf += n;
        len -= n;

        switch (ev->type) {
        case VS_EV_IPI: {
                int32_t d = vs_ipi_is_unicast(ev) ? vcpu_of_apic(topo, vm, ev->ipi.dest_apic) : -1;
                if (d >= 0)
                        snprintf(b, sizeof(b), "vcpu%d", d);
                else
                        snprintf(b, sizeof(b), "?");
                return snprintf(buf, len, " -> %s (apic %#x) vec %u %s %s%s%s", b, ev->ipi.dest_apic,
                                ev->ipi.vector, dm_names[ev->ipi.delivery_mode & 7],
                                ev->ipi.logical ? "logical" : "physical",
                                ev->ipi.shorthand ? " shorthand=" : "",
                                ev->ipi.shorthand ? sh_names[ev->ipi.shorthand & 3] : "");
        }
        case VS_EV_EOI:
                return snprintf(buf, len, " apic %#x vec %d%s", ev->eoi.apic_id, ev->eoi.vector,
                                ev->flags & VS_EVF_PV_EOI ? " (pv)" : "");
        case VS_EV_SWITCH:
                who(a, sizeof(a), topo, ev->sw.prev_tid);
                who(b, sizeof(b), topo, ev->sw.next_tid);
                return snprintf(buf, len, " %s [%s] => %s", a,
                                vs_prev_state_str(ev->sw.prev_state, st, sizeof(st)), b);
        case VS_EV_WAKEUP:
                who(b, sizeof(b), topo, ev->wakeup.wakee_tid);
                if (ev->flags & VS_EVF_KVM_WAKEUP)
                        return snprintf(buf, len, " kvm %s after %" PRIu64 " ns", ev->wakeup.waited ? "wait" : "poll",
                                        ev->wakeup.wait_ns);
                return snprintf(buf, len, " wakes %s on cpu%d", b, ev->wakeup.target_cpu);
        case VS_EV_EXIT_PAUSE:
                return snprintf(buf, len, " PAUSE exit (%s)", ev->pause.isa == VS_ISA_SVM ? "svm" : "vmx");
        case VS_EV_HYPERCALL:
                return snprintf(buf, len, " %s a0=%#" PRIx64 " a1=%#" PRIx64, hc_name(ev->hc.nr), ev->hc.a0, ev->hc.a1);
        case VS_EV_PLE_WINDOW:
                return snprintf(buf, len, " ple window %u -> %u", ev->ple.old_window, ev->ple.new_window);
        case VS_EV_AVIC_INCOMPLETE_IPI:
                return snprintf(buf, len, " %s icr %#x:%08x", avic_reason(ev->avic.id), ev->avic.icrh, ev->avic.icrl);
        case VS_EV_VCPU_ID:
                return snprintf(buf, len, " vcpu_id %u", ev->vcpu.vcpu_id);
        case VS_EV_DIRECTED_YIELD: {
                int32_t d = vcpu_of_apic(topo, vm, ev->dy.target);
                if (d >= 0)
                        snprintf(b, sizeof(b), "vcpu%d", d);
                else
                        snprintf(b, sizeof(b), "?");
                return snprintf(buf, len, " -> %s (vcpu_id %u) %s result %d", b, ev->dy.target,
                                vs_dy_reason_name(ev->dy.reason), ev->dy.result);
        }
        default:
                return n;
        }
}

void vs_json_add_grouping(struct json_object *o, bool inferred, unsigned n, const char *maybe_same) {
        struct json_object *a = json_object_new_array();
        unsigned listed = 0;

        json_object_object_add(o, "inferred", json_object_new_boolean(inferred));
        if (!inferred) {
                json_object_put(a);
                return;
        }
        for (const char *p = maybe_same; p && *p;) {
                size_t l = strcspn(p, ",");
                json_object_array_add(a, json_object_new_string_len(p, (int) l));
                listed++;
                p += l + (p[l] == ',');
        }
        json_object_object_add(o, "maybe_same_vm", a);
        if (n > listed)
                json_object_object_add(o, "maybe_same_vm_count", json_object_new_int((int) n));
}
