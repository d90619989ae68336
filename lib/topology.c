/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fileio.h"
#include "macro.h"
#include "topology.h"
#include "vm-infer.h"

struct vs_topology {
        struct vs_thread *threads;
        unsigned n_threads, cap_threads;
        int32_t *slots;                 /* tid hash: thread index + 1, 0 = empty */
        unsigned cap_slots;
        struct vs_vm *vms;
        unsigned n_vms, cap_vms;
        bool dirty;                     /* VM assignment must be recomputed */
        uint64_t generation;            /* bumped by every rebuild */
        /* (vm, APIC ID) -> thread and (vm, vCPU index) -> thread, rebuilt with the VMs */
        struct key_slot {
                int32_t vm;             /* -1 = empty */
                uint32_t key;
                int32_t thread;
        } *by_apic, *by_index;
        unsigned cap_keys;
        /* names from markers / proc, by tgid (applied when VMs are rebuilt) */
        struct name_hint {
                int32_t tgid;
                char name[VS_VM_NAME_MAX];
                char cgroup[256];
        } *hints;
        unsigned n_hints, cap_hints;
        /* live: unknown threads are placed from this /proc tree at once, and
         * VMs are only the processes found there (never inferred) */
        char *proc_root;
        /* evidence for grouping vCPU threads without TGID (lib/vm-infer.h) */
        struct vs_vm_infer *infer;
        unsigned n_orphans;             /* vCPU threads without TGID at the last rebuild */
};

int vs_topology_new(struct vs_topology **ret) {
        struct vs_topology *t = calloc(1, sizeof(*t));

        if (!t)
                return -ENOMEM;
        if (vs_vm_infer_new(&t->infer) < 0) {
                free(t);
                return -ENOMEM;
        }
        *ret = t;
        return 0;
}

void vs_topology_free(struct vs_topology *t) {
        if (!t)
                return;
        free(t->threads);
        free(t->slots);
        free(t->vms);
        free(t->hints);
        free(t->by_apic);
        free(t->by_index);
        free(t->proc_root);
        vs_vm_infer_free(t->infer);
        free(t);
}

int vs_topology_set_live(struct vs_topology *t, const char *proc_root) {
        char *p = NULL;

        if (proc_root && !(p = strdup(proc_root)))
                return -ENOMEM;
        free(t->proc_root);
        t->proc_root = p;
        t->dirty = true;
        return 0;
}

static inline unsigned hash_tid(int32_t tid, unsigned cap) {
        return ((uint32_t) tid * 2654435761u) & (cap - 1);
}

static struct vs_thread *find(const struct vs_topology *t, int32_t tid) {
        if (!t->cap_slots)
                return NULL;
        for (unsigned h = hash_tid(tid, t->cap_slots);; h = (h + 1) & (t->cap_slots - 1)) {
                int32_t s = t->slots[h];
                if (!s)
                        return NULL;
                if (t->threads[s - 1].tid == tid)
                        return &t->threads[s - 1];
        }
}

static int rehash(struct vs_topology *t, unsigned cap) {
        int32_t *slots = calloc(cap, sizeof(*slots));

        if (!slots)
                return -ENOMEM;
        for (unsigned i = 0; i < t->n_threads; i++) {
                unsigned h = hash_tid(t->threads[i].tid, cap);
                while (slots[h])
                        h = (h + 1) & (cap - 1);
                slots[h] = i + 1;
        }
        free(t->slots);
        t->slots = slots;
        t->cap_slots = cap;
        return 0;
}

static struct vs_thread *get(struct vs_topology *t, int32_t tid) {
        struct vs_thread *th = find(t, tid);
        unsigned h;

        if (th)
                return th;
        if (tid <= 0)
                return NULL;
        if (t->n_threads == t->cap_threads) {
                unsigned cap = t->cap_threads ? t->cap_threads * 2 : 64;
                struct vs_thread *n = realloc(t->threads, cap * sizeof(*n));
                if (!n)
                        return NULL;
                t->threads = n;
                t->cap_threads = cap;
        }
        if ((t->n_threads + 1) * 2 > t->cap_slots && rehash(t, t->cap_slots ? t->cap_slots * 2 : 128) < 0)
                return NULL;
        th = &t->threads[t->n_threads];
        *th = (struct vs_thread) { .tid = tid, .tgid = -1, .vcpu_index = -1, .apic_id = -1, .vm = -1 };
        h = hash_tid(tid, t->cap_slots);
        while (t->slots[h])
                h = (h + 1) & (t->cap_slots - 1);
        t->slots[h] = ++t->n_threads;
        return th;
}

static bool parse_uint(const char *s, size_t n, int32_t *ret) {
        long v = 0;

        if (n == 0 || n > 6)
                return false;
        for (size_t i = 0; i < n; i++) {
                if (!isdigit((unsigned char) s[i]))
                        return false;
                v = v * 10 + (s[i] - '0');
        }
        *ret = (int32_t) v;
        return true;
}

int vs_vcpu_index_from_comm(const char *comm) {
        int32_t n;
        size_t l;

        if (!comm)
                return -1;
        l = strlen(comm);
        /* QEMU: "CPU %d/KVM" (also "CPU %d/HVF", "/TCG" are not KVM: ignore) */
        if (l > 8 && strncmp(comm, "CPU ", 4) == 0 && strcmp(comm + l - 4, "/KVM") == 0)
                return parse_uint(comm + 4, l - 8, &n) ? n : -1;
        /* Firecracker: "fc_vcpu %d" */
        if (strncmp(comm, "fc_vcpu ", 8) == 0)
                return parse_uint(comm + 8, l - 8, &n) ? n : -1;
        /* crosvm: "crosvm_vcpu%d" */
        if (strncmp(comm, "crosvm_vcpu", 11) == 0)
                return parse_uint(comm + 11, l - 11, &n) ? n : -1;
        /* kvmtool: "kvm-vcpu-%d" */
        if (strncmp(comm, "kvm-vcpu-", 9) == 0)
                return parse_uint(comm + 9, l - 9, &n) ? n : -1;
        /* cloud-hypervisor: "vcpu%d" */
        if (strncmp(comm, "vcpu", 4) == 0)
                return parse_uint(comm + 4, l - 4, &n) ? n : -1;
        return -1;
}

static bool is_vmm_main_comm(const char *comm) {
        return strncmp(comm, "qemu", 4) == 0 || strcmp(comm, "kvm") == 0 ||
               strncmp(comm, "firecracker", 11) == 0 || strncmp(comm, "cloud-hyperviso", 15) == 0 ||
               strncmp(comm, "crosvm", 6) == 0 || strcmp(comm, "lkvm") == 0;
}

static struct name_hint *hint_of(const struct vs_topology *t, int32_t tgid) {
        for (unsigned i = 0; i < t->n_hints; i++)
                if (t->hints[i].tgid == tgid)
                        return &t->hints[i];
        return NULL;
}

static int add_hint(struct vs_topology *t, int32_t tgid, const char *name, const char *cgroup) {
        struct name_hint *h = hint_of(t, tgid);

        if (h && (!name || !name[0] || strncmp(h->name, name, sizeof(h->name) - 1) == 0) &&
            (!cgroup || !cgroup[0] || strncmp(h->cgroup, cgroup, sizeof(h->cgroup) - 1) == 0))
                return 0;       /* nothing new: no rebuild (the /proc rescan repeats every hint) */
        if (!h) {
                if (t->n_hints == t->cap_hints) {
                        unsigned cap = t->cap_hints ? t->cap_hints * 2 : 16;
                        struct name_hint *n = realloc(t->hints, cap * sizeof(*n));
                        if (!n)
                                return -ENOMEM;
                        t->hints = n;
                        t->cap_hints = cap;
                }
                h = &t->hints[t->n_hints++];
                memset(h, 0, sizeof(*h));
                h->tgid = tgid;
        }
        if (name && name[0])
                snprintf(h->name, sizeof(h->name), "%s", name);
        if (cgroup && cgroup[0])
                snprintf(h->cgroup, sizeof(h->cgroup), "%s", cgroup);
        t->dirty = true;
        return 0;
}

static int live_place(struct vs_topology *t, int32_t tid, bool kvm);

int vs_topology_learn_thread(struct vs_topology *t, const struct vs_thread_info *info) {
        struct vs_thread *th;

        if (!info || info->tid <= 0)
                return 0;
        if (t->proc_root && info->tgid <= 0 && !find(t, info->tid)) {
                /* live: a thread we do not know is placed from /proc at once,
                 * or not at all.  Only vCPU-named ones matter; the host's other
                 * threads are not kept, so memory follows the VMs. */
                if (vs_vcpu_index_from_comm(info->comm) < 0)
                        return 0;
                return live_place(t, info->tid, false);
        }
        th = get(t, info->tid);
        if (!th)
                return -ENOMEM;
        if (info->tgid > 0 && th->tgid > 0 && th->tgid != info->tgid) {
                /* The TID was reused by another process's thread: what was
                 * known about the old one (a vCPU, its ids) no longer holds. */
                if (th->is_vcpu)
                        t->dirty = true;
                th->is_vcpu = false;
                th->vcpu_index = -1;
                th->apic_id = -1;
                th->comm[0] = '\0';    /* re-read below from this thread's name */
        }
        if (info->comm && info->comm[0] && strncmp(th->comm, info->comm, sizeof(th->comm)) != 0) {
                int idx;
                snprintf(th->comm, sizeof(th->comm), "%s", info->comm);
                idx = vs_vcpu_index_from_comm(th->comm);
                if (idx >= 0) {
                        th->vcpu_index = idx;
                        th->is_vcpu = true;
                }
                /* Only vCPU threads and VMM main threads (the TGID guess of
                 * inferred VMs) shape the VMs: a host's other threads must not
                 * cost a rebuild each. */
                if (th->is_vcpu || is_vmm_main_comm(th->comm))
                        t->dirty = true;
        }
        if (info->tgid > 0 && th->tgid != info->tgid) {
                th->tgid = info->tgid;
                if (th->is_vcpu)
                        t->dirty = true;
        }
        if (info->apic_id >= 0 && th->apic_id != info->apic_id) {
                th->apic_id = info->apic_id;
                th->is_vcpu = true;
                t->dirty = true;
        }
        if (info->vm_name && info->vm_name[0] && info->tgid > 0)
                return add_hint(t, info->tgid, info->vm_name, NULL);
        return 0;
}

void vs_topology_thread_cb(const struct vs_thread_info *info, void *userdata) {
        (void) vs_topology_learn_thread(userdata, info);
}

static int mark_vcpu(struct vs_topology *t, int32_t tid, uint32_t vcpu_id) {
        struct vs_thread *th;

        if (t->proc_root && tid > 0 && !find(t, tid)) {
                int r = live_place(t, tid, true);
                if (r < 0)
                        return r;
                if (!find(t, tid))
                        return 0;       /* already gone: dropped, not invented into a VM */
        }
        th = get(t, tid);
        if (!th)
                return -ENOMEM;
        if (!th->is_vcpu) {
                th->is_vcpu = true;
                t->dirty = true;
        }
        if (vcpu_id != UINT32_MAX && vcpu_id <= INT32_MAX && th->apic_id != (int32_t) vcpu_id) {
                th->apic_id = (int32_t) vcpu_id;
                t->dirty = true;
        }
        return 0;
}

static int observe_identity(struct vs_topology *t, const struct vs_event *ev) {
        switch (ev->type) {
        case VS_EV_VCPU_ID:
                return mark_vcpu(t, ev->tid, ev->vcpu.vcpu_id);
        case VS_EV_EXIT_PAUSE:
                return mark_vcpu(t, ev->tid, ev->pause.vcpu_id);
        case VS_EV_PLE_WINDOW:
                return mark_vcpu(t, ev->tid, ev->ple.vcpu_id);
        case VS_EV_EOI:
                /* kvm_eoi fires in the receiver; its apicid is the receiver's vcpu_id */
                return mark_vcpu(t, ev->tid, ev->eoi.apic_id);
        case VS_EV_DIRECTED_YIELD:
                /* fires in the spinner; spinner is its vcpu_id */
                return mark_vcpu(t, ev->tid, ev->dy.spinner);
        case VS_EV_IPI:
        case VS_EV_HYPERCALL:
        case VS_EV_AVIC_INCOMPLETE_IPI:
                return mark_vcpu(t, ev->tid, UINT32_MAX);
        case VS_EV_WAKEUP:
                if (ev->flags & VS_EVF_KVM_WAKEUP)
                        return mark_vcpu(t, ev->tid, UINT32_MAX);
                return 0;
        default:
                /* fast path: nothing to learn from scheduler events */
                return 0;
        }
}

int vs_topology_observe(struct vs_topology *t, const struct vs_event *ev) {
        int r = observe_identity(t, ev);

        if (r < 0)
                return r;
        switch (ev->type) {
        case VS_EV_IPI:
        case VS_EV_EOI:
        case VS_EV_HYPERCALL:
        case VS_EV_WAKEUP:
                /* links between vCPU threads: they only matter while some vCPU
                 * threads have no TGID (a new such thread rebuilds anyway);
                 * never live, where nothing is inferred */
                if (t->proc_root)
                        return 0;
                if (ev->type == VS_EV_WAKEUP && (ev->flags & VS_EVF_KVM_WAKEUP)) {
                        const struct vs_thread *th = find(t, ev->tid);
                        r = vs_vm_infer_observe(t->infer, ev, th ? th->apic_id : -1);
                } else
                        r = vs_vm_infer_observe(t->infer, ev, -1);
                if (r < 0)
                        return r;
                if (r > 0 && t->n_orphans > 0)
                        t->dirty = true;
                return 0;
        default:
                return 0;
        }
}

void vs_topology_seal_evidence(struct vs_topology *t) {
        vs_vm_infer_seal(t->infer);
        /* regroup once from all of it: between two doublings of a link, its
         * rivals may have grown enough to change a join */
        if (t->n_orphans > 0)
                t->dirty = true;
}

/* ---------------------------------------------------------------- VM assignment */

static int vm_append(struct vs_topology *t, int32_t tgid, bool inferred) {
        struct vs_vm *vm;

        if (t->n_vms == t->cap_vms) {
                unsigned cap = t->cap_vms ? t->cap_vms * 2 : 8;
                struct vs_vm *n = realloc(t->vms, cap * sizeof(*n));
                if (!n)
                        return -ENOMEM;
                t->vms = n;
                t->cap_vms = cap;
        }
        vm = &t->vms[t->n_vms];
        memset(vm, 0, sizeof(*vm));
        vm->tgid = tgid;
        vm->inferred = inferred;
        for (unsigned i = 0; i < t->n_hints; i++)
                if (tgid > 0 && t->hints[i].tgid == tgid) {
                        if (t->hints[i].name[0]) {
                                snprintf(vm->name, sizeof(vm->name), "%s", t->hints[i].name);
                                vm->named = true;
                        }
                        snprintf(vm->cgroup, sizeof(vm->cgroup), "%s", t->hints[i].cgroup);
                }
        if (!vm->named)
                snprintf(vm->name, sizeof(vm->name), "qemu-%d", (int) tgid);
        /* two QEMUs started by hand with the same -name: keep names unique,
         * everything downstream is keyed by them */
        for (unsigned i = 0; i < t->n_vms; i++)
                if (strcmp(t->vms[i].name, vm->name) == 0) {
                        char tmp[VS_VM_NAME_MAX];
                        snprintf(tmp, sizeof(tmp), "%.100s-%d", vm->name, (int) tgid);
                        memcpy(vm->name, tmp, sizeof(tmp));
                        break;
                }
        return (int) t->n_vms++;
}

/* Name of inferred VM number @n: never a process ID (the trace has none), unique. */
static void inferred_name(struct vs_topology *t, struct vs_vm *vm, unsigned n) {
        for (unsigned k = 1;; k++) {
                bool taken = false;
                if (k == 1)
                        snprintf(vm->name, sizeof(vm->name), "inferred-%u", n);
                else
                        snprintf(vm->name, sizeof(vm->name), "inferred-%u.%u", n, k);
                for (unsigned i = 0; i < t->n_vms && !taken; i++)
                        taken = &t->vms[i] != vm && strcmp(t->vms[i].name, vm->name) == 0;
                if (!taken)
                        return;
        }
}

/* vCPU threads without TGID: grouped from the trace's own evidence (lib/vm-infer.h). */
static int rebuild_inferred(struct vs_topology *t) {
        _cleanup_free_ struct vs_vm_infer_thread *it = NULL;
        _cleanup_free_ struct vs_vm_infer_group *groups = NULL;
        _cleanup_free_ unsigned *pos = NULL;
        unsigned n = 0, first;
        int n_groups;

        t->n_orphans = 0;
        for (unsigned i = 0; i < t->n_threads; i++)
                n += t->threads[i].is_vcpu && t->threads[i].tgid <= 0;
        if (n == 0)
                return 0;
        it = malloc(n * sizeof(*it));
        groups = malloc(n * sizeof(*groups));
        pos = malloc(n * sizeof(*pos));
        if (!it || !groups || !pos)
                return -ENOMEM;
        n = 0;
        for (unsigned i = 0; i < t->n_threads; i++) {
                const struct vs_thread *th = &t->threads[i];
                if (!th->is_vcpu || th->tgid > 0)
                        continue;
                it[n] = (struct vs_vm_infer_thread) { th->tid, th->vcpu_index, th->apic_id, -1 };
                pos[n++] = i;
        }
        t->n_orphans = n;
        n_groups = vs_vm_infer_group(t->infer, it, n, groups);
        if (n_groups < 0)
                return n_groups;
        first = t->n_vms;
        for (int g = 0; g < n_groups; g++) {
                int r = vm_append(t, -1, true);
                if (r < 0)
                        return r;
                inferred_name(t, &t->vms[r], (unsigned) g + 1);
                t->vms[r].n_maybe_same = groups[g].n_maybe;
        }
        for (int g = 0; g < n_groups; g++) {
                struct vs_vm *vm = &t->vms[first + (unsigned) g];
                size_t len = 0;
                for (unsigned k = 0; k < groups[g].n_maybe && k < VS_VM_INFER_MAYBE_MAX; k++) {
                        int w = snprintf(vm->maybe_same + len, sizeof(vm->maybe_same) - len, "%s%s", k ? "," : "",
                                         t->vms[first + (unsigned) groups[g].maybe[k]].name);
                        if (w < 0 || (size_t) w >= sizeof(vm->maybe_same) - len)
                                break;
                        len += (size_t) w;
                }
        }
        for (unsigned k = 0; k < n; k++) {
                struct vs_thread *th = &t->threads[pos[k]];
                th->vm = (int32_t) (first + (unsigned) it[k].group);
                t->vms[th->vm].n_vcpus++;
        }
        return 0;
}

static int rebuild(struct vs_topology *t) {
        int r;

        t->n_vms = 0;
        t->dirty = false;

        /* 1. VMs with a known TGID, in order of first appearance of their tgid. */
        for (unsigned i = 0; i < t->n_threads; i++) {
                struct vs_thread *th = &t->threads[i];
                th->vm = -1;
                if (!th->is_vcpu || th->tgid <= 0)
                        continue;
                if (t->proc_root && !hint_of(t, th->tgid))
                        continue;       /* live: not a VMM process found in /proc */
                for (unsigned v = 0; v < t->n_vms; v++)
                        if (t->vms[v].tgid == th->tgid)
                                th->vm = (int32_t) v;
                if (th->vm < 0) {
                        r = vm_append(t, th->tgid, false);
                        if (r < 0)
                                return r;
                        th->vm = r;
                }
                t->vms[th->vm].n_vcpus++;
        }

        /* 2. vCPU threads without TGID: from the trace's evidence.
         *    Never live: there every thread's TGID is one read of /proc away. */
        if (t->proc_root)
                return 0;
        return rebuild_inferred(t);
}

const char *vs_grouping_note(bool inferred, unsigned n_maybe_same, const char *maybe_same, char *buf, size_t len) {
        int k;

        if (len == 0)
                return buf;
        buf[0] = 0;
        if (!inferred)
                return buf;
        if (n_maybe_same == 0) {
                snprintf(buf, len, "grouping inferred");
                return buf;
        }
        k = snprintf(buf, len, "grouping inferred; may be one VM with %s", maybe_same);
        if (k >= 0 && (size_t) k < len && n_maybe_same > (unsigned) VS_VM_INFER_MAYBE_MAX)
                k += snprintf(buf + k, len - (size_t) k, " and %u more", n_maybe_same - VS_VM_INFER_MAYBE_MAX);
        if (k >= 0 && (size_t) k < len)
                snprintf(buf + k, len - (size_t) k, ": nothing in the trace joins or separates them, their edges are kept apart");
        return buf;
}

static inline unsigned key_hash(int32_t vm, uint32_t key, unsigned cap) {
        return (((uint32_t) vm * 2654435761u) ^ (key * 40503u + 0x9e3779b9u)) & (cap - 1);
}

static void key_put(struct key_slot *tab, unsigned cap, int32_t vm, uint32_t key, int32_t thread) {
        unsigned h = key_hash(vm, key, cap);

        while (tab[h].vm >= 0) {
                if (tab[h].vm == vm && tab[h].key == key)
                        return;         /* first thread wins */
                h = (h + 1) & (cap - 1);
        }
        tab[h] = (struct key_slot) { vm, key, thread };
}

static const struct key_slot *key_get(const struct key_slot *tab, unsigned cap, int32_t vm, uint32_t key) {
        if (!tab || cap == 0)
                return NULL;
        for (unsigned h = key_hash(vm, key, cap);; h = (h + 1) & (cap - 1)) {
                if (tab[h].vm < 0)
                        return NULL;
                if (tab[h].vm == vm && tab[h].key == key)
                        return &tab[h];
        }
}

/* Per-VM lookup tables so IPI destinations resolve in O(1). */
static int build_keys(struct vs_topology *t) {
        unsigned cap = 64;

        while (cap < t->n_threads * 2 + 2)
                cap *= 2;
        if (cap != t->cap_keys) {
                struct key_slot *a = malloc(cap * sizeof(*a)), *b = malloc(cap * sizeof(*b));
                if (!a || !b) {
                        free(a);
                        free(b);
                        return -ENOMEM;
                }
                free(t->by_apic);
                free(t->by_index);
                t->by_apic = a;
                t->by_index = b;
                t->cap_keys = cap;
        }
        for (unsigned i = 0; i < cap; i++)
                t->by_apic[i].vm = t->by_index[i].vm = -1;
        for (unsigned v = 0; v < t->n_vms; v++)
                t->vms[v].apics_known = t->vms[v].n_vcpus > 0;
        for (unsigned i = 0; i < t->n_threads; i++) {
                const struct vs_thread *th = &t->threads[i];
                if (th->vm < 0 || !th->is_vcpu)
                        continue;
                if (th->apic_id < 0)
                        t->vms[th->vm].apics_known = false;
                if (th->apic_id >= 0)
                        key_put(t->by_apic, cap, th->vm, (uint32_t) th->apic_id, (int32_t) i);
                if (th->vcpu_index >= 0 && th->apic_id >= 0)
                        key_put(t->by_index, cap, th->vm, (uint32_t) th->vcpu_index, (int32_t) i);
        }
        return 0;
}

static void ensure(struct vs_topology *t) {
        if (!t->dirty)
                return;
        if (rebuild(t) < 0 || build_keys(t) < 0) {
                /* out of memory: lookups fall back to "unknown" until the next try */
                free(t->by_apic);
                free(t->by_index);
                t->by_apic = t->by_index = NULL;
                t->cap_keys = 0;
                t->dirty = true;
        }
        t->generation++;
}

uint64_t vs_topology_generation(struct vs_topology *t) {
        ensure(t);
        return t->generation;
}

const struct vs_thread *vs_topology_thread(struct vs_topology *t, int32_t tid) {
        ensure(t);
        return find(t, tid);
}

const struct vs_vm *vs_topology_vm(struct vs_topology *t, int32_t vm) {
        ensure(t);
        if (vm < 0 || (unsigned) vm >= t->n_vms)
                return NULL;
        return &t->vms[vm];
}

unsigned vs_topology_n_vms(struct vs_topology *t) {
        ensure(t);
        return t->n_vms;
}

unsigned vs_topology_n_threads(const struct vs_topology *t) {
        return t->n_threads;
}

const struct vs_thread *vs_topology_thread_at(struct vs_topology *t, unsigned i) {
        ensure(t);
        return i < t->n_threads ? &t->threads[i] : NULL;
}

int32_t vs_topology_vcpu_of(struct vs_topology *t, int32_t tid) {
        const struct vs_thread *th = vs_topology_thread(t, tid);

        if (!th || !th->is_vcpu)
                return -1;
        return th->vcpu_index >= 0 ? th->vcpu_index : th->apic_id;
}

const struct vs_thread *vs_topology_by_apic(struct vs_topology *t, int32_t vm, uint32_t apic) {
        const struct key_slot *k;

        ensure(t);
        if (vm < 0)
                return NULL;
        k = key_get(t->by_apic, t->cap_keys, vm, apic);
        return k ? &t->threads[k->thread] : NULL;
}

int32_t vs_topology_vcpu_of_apic(struct vs_topology *t, int32_t vm, uint32_t apic) {
        const struct vs_thread *th = vs_topology_by_apic(t, vm, apic);

        if (th)
                return th->vcpu_index >= 0 ? th->vcpu_index : th->apic_id;
        if (apic > INT32_MAX || vm < 0)
                return -1;
        /* No thread has this APIC ID.  When every vCPU thread of the VM has a
         * known APIC ID, there is no such vCPU.  Otherwise fall back to KVM's
         * vcpu_id, unless another thread already holds that index under a
         * different APIC ID (sparse APIC IDs): then we do not know. */
        if ((unsigned) vm < t->n_vms && t->vms[vm].apics_known)
                return -1;
        if (key_get(t->by_index, t->cap_keys, vm, apic))
                return -1;
        return (int32_t) apic;
}

/* ---------------------------------------------------------------- /proc */

static void chomp(char *s) {
        size_t l = strlen(s);
        while (l > 0 && (s[l - 1] == '\n' || s[l - 1] == '\r'))
                s[--l] = 0;
}

/* "-name guest=NAME,debug-threads=on" or "-name NAME" in a NUL-separated cmdline. */
static void name_from_cmdline(const char *cmd, size_t len, char *name, size_t nlen) {
        name[0] = 0;
        for (size_t i = 0; i < len;) {
                const char *arg = cmd + i;
                size_t al = strnlen(arg, len - i);
                if (strcmp(arg, "-name") == 0 && i + al + 1 < len) {
                        const char *v = arg + al + 1;
                        const char *g = strncmp(v, "guest=", 6) == 0 ? v + 6 : v;
                        size_t n = 0;
                        /* QEMU option syntax: ",," escapes a comma */
                        while (*g && n + 1 < nlen) {
                                if (g[0] == ',' && g[1] == ',') {
                                        name[n++] = ',';
                                        g += 2;
                                        continue;
                                }
                                if (g[0] == ',')
                                        break;
                                name[n++] = *g++;
                        }
                        name[n] = 0;
                        return;
                }
                i += al + 1;
        }
}

static void cgroup_of(const char *procdir, char *buf, size_t len) {
        char path[PATH_MAX], data[4096];
        const char *line;

        buf[0] = 0;
        snprintf(path, sizeof(path), "%s/cgroup", procdir);
        if (vs_read_small(path, data, sizeof(data)) < 0)
                return;
        /* prefer the unified hierarchy ("0::/path"), else the cpu controller's line */
        line = strstr(data, "0::");
        if (line && (line == data || line[-1] == '\n'))
                line += 3;
        else if ((line = strstr(data, ":cpu,")) || (line = strstr(data, ":cpu:")))
                line = strchr(line + 1, ':') + 1;
        else
                return;
        size_t n = strcspn(line, "\n");
        if (n >= len)
                n = len - 1;
        memcpy(buf, line, n);
        buf[n] = 0;
}

/* One process: when its main thread looks like a VMM (or @force: a kvm event
 * came from one of its threads), learn its vCPU-named threads and name it from
 * its command line.  Returns 1 when it is a VM, 0 when not (or gone), -ENOMEM. */
static int scan_process(struct vs_topology *t, const char *proc_root, int32_t tgid, bool force) {
        char procdir[1024], path[PATH_MAX], comm[VS_COMM_MAX];
        char cmdline[8192], name[VS_VM_NAME_MAX], cg[256];
        _cleanup_(closedirp_) DIR *td = NULL;
        struct dirent *te;
        int32_t nvcpu = 0;
        int n;

        snprintf(procdir, sizeof(procdir), "%s/%d", proc_root, (int) tgid);
        snprintf(path, sizeof(path), "%s/comm", procdir);
        if (vs_read_small(path, comm, sizeof(comm)) < 0)
                return 0;       /* vanished: skip */
        chomp(comm);
        if (!force && !is_vmm_main_comm(comm))
                return 0;
        snprintf(path, sizeof(path), "%s/task", procdir);
        td = opendir(path);
        if (!td)
                return 0;
        while ((te = readdir(td))) {
                char tcomm[VS_COMM_MAX];
                int32_t tid;
                if (!parse_uint(te->d_name, strlen(te->d_name), &tid) || tid <= 0)
                        continue;
                snprintf(path, sizeof(path), "%s/task/%s/comm", procdir, te->d_name);
                if (vs_read_small(path, tcomm, sizeof(tcomm)) < 0)
                        continue;
                chomp(tcomm);
                if (vs_vcpu_index_from_comm(tcomm) < 0)
                        continue;
                struct vs_thread_info ti = { .tid = tid, .tgid = tgid, .comm = tcomm, .apic_id = -1 };
                if (vs_topology_learn_thread(t, &ti) < 0)
                        return -ENOMEM;
                nvcpu++;
        }
        if (nvcpu == 0 && !force)
                return 0;
        snprintf(path, sizeof(path), "%s/cmdline", procdir);
        n = vs_read_small(path, cmdline, sizeof(cmdline));
        name_from_cmdline(cmdline, n > 0 ? (size_t) n : 0, name, sizeof(name));
        cgroup_of(procdir, cg, sizeof(cg));
        if (add_hint(t, tgid, name, cg) < 0)
                return -ENOMEM;
        return 1;
}

int vs_topology_scan_proc(struct vs_topology *t, const char *proc_root) {
        _cleanup_(closedirp_) DIR *d = NULL;
        struct dirent *de;
        int found = 0;

        if (!proc_root)
                proc_root = "/proc";
        d = opendir(proc_root);
        if (!d)
                return negative_errno();
        while ((de = readdir(d))) {
                int32_t tgid;
                int r;

                if (!parse_uint(de->d_name, strlen(de->d_name), &tgid) || tgid <= 0)
                        continue;
                r = scan_process(t, proc_root, tgid, false);
                if (r < 0)
                        return r;
                found += r;
        }
        return found;
}

/* ---------------------------------------------------------------- live */

/* The TGID of thread @tid from <proc>/<tid>/status.  -ESRCH when it is gone
 * or a zombie (exited, only the reaping is left); with @process, a zombie
 * leader whose other threads still run is a live process. */
static int proc_tgid(const char *proc_root, int32_t tid, bool process, int32_t *ret_tgid) {
        char path[PATH_MAX], buf[1024];
        const char *st, *tg, *nt;
        int32_t tgid;
        int r;

        snprintf(path, sizeof(path), "%s/%d/status", proc_root, (int) tid);
        r = vs_read_small(path, buf, sizeof(buf));
        if (r < 0)
                return r == -ENOENT || r == -ESRCH ? -ESRCH : r;
        st = strstr(buf, "\nState:");
        tg = strstr(buf, "\nTgid:");
        if (!tg)
                return -EBADMSG;
        if (st) {
                st += strlen("\nState:");
                st += strspn(st, " \t");
                nt = strstr(buf, "\nThreads:");
                if ((*st == 'Z' || *st == 'X') &&
                    !(process && nt && strtol(nt + strlen("\nThreads:"), NULL, 10) > 1))
                        return -ESRCH;
        }
        tg += strlen("\nTgid:");
        tg += strspn(tg, " \t");
        if (!parse_uint(tg, strspn(tg, "0123456789"), &tgid) || tgid <= 0)
                return -EBADMSG;
        *ret_tgid = tgid;
        return 0;
}

/* Live: place thread @tid (not in the table) from /proc: its process is
 * scanned as a VM when not known yet (@kvm: a kvm event proves it is one).
 * A thread that is gone is dropped.  Returns 0 or -ENOMEM. */
static int live_place(struct vs_topology *t, int32_t tid, bool kvm) {
        char path[PATH_MAX], comm[VS_COMM_MAX] = "";
        int32_t tgid;
        int r;

        r = proc_tgid(t->proc_root, tid, false, &tgid);
        if (r < 0)
                return 0;       /* gone or unreadable: never guessed */
        if (!hint_of(t, tgid) || kvm) {
                r = scan_process(t, t->proc_root, tgid, kvm);
                if (r < 0)
                        return r;
        }
        if (find(t, tid))
                return 0;
        /* Not a vCPU-named thread of a VMM process (or renamed since the
         * event): keep it with its TGID, so it is not looked up again; it
         * joins no VM unless its process is one (kvm events make it a vCPU). */
        snprintf(path, sizeof(path), "%s/%d/task/%d/comm", t->proc_root, (int) tgid, (int) tid);
        if (vs_read_small(path, comm, sizeof(comm)) < 0)
                return 0;       /* gone meanwhile */
        chomp(comm);
        return vs_topology_learn_thread(t, &(const struct vs_thread_info) {
                .tid = tid, .tgid = tgid, .comm = comm, .apic_id = -1 });
}

/* Re-insert every thread into the TID hash (after removals; no allocation). */
static void reindex(struct vs_topology *t) {
        if (!t->cap_slots)
                return;
        memset(t->slots, 0, t->cap_slots * sizeof(*t->slots));
        for (unsigned i = 0; i < t->n_threads; i++) {
                unsigned h = hash_tid(t->threads[i].tid, t->cap_slots);
                while (t->slots[h])
                        h = (h + 1) & (t->cap_slots - 1);
                t->slots[h] = (int32_t) i + 1;
        }
}

int vs_topology_forget_tgid(struct vs_topology *t, int32_t tgid) {
        unsigned k = 0, n = t->n_threads;
        bool hint = false;

        if (tgid <= 0)
                return 0;
        for (unsigned i = 0; i < n; i++)
                if (t->threads[i].tgid != tgid)
                        t->threads[k++] = t->threads[i];
        t->n_threads = k;
        for (unsigned i = 0; i < t->n_hints; i++)
                if (t->hints[i].tgid == tgid) {
                        t->hints[i] = t->hints[--t->n_hints];
                        hint = true;
                        break;
                }
        if (k == n && !hint)
                return 0;
        reindex(t);
        t->dirty = true;
        return (int) (n - k);
}

static bool has_tgid(const int32_t *a, size_t n, int32_t tgid) {
        for (size_t i = 0; i < n; i++)
                if (a[i] == tgid)
                        return true;
        return false;
}

int vs_topology_gone(struct vs_topology *t, int32_t **ret, size_t *ret_n) {
        _cleanup_free_ int32_t *all = NULL;
        int32_t *gone;
        size_t n_all = 0, n_gone = 0;

        *ret = NULL;
        *ret_n = 0;
        if (!t->proc_root)
                return 0;
        all = malloc((t->n_threads + t->n_hints + 1) * sizeof(*all));
        if (!all)
                return -ENOMEM;
        for (unsigned i = 0; i < t->n_hints; i++)
                if (!has_tgid(all, n_all, t->hints[i].tgid))
                        all[n_all++] = t->hints[i].tgid;
        for (unsigned i = 0; i < t->n_threads; i++)
                if (t->threads[i].tgid > 0 && !has_tgid(all, n_all, t->threads[i].tgid))
                        all[n_all++] = t->threads[i].tgid;
        gone = all;             /* filtered in place */
        for (size_t i = 0; i < n_all; i++) {
                int32_t tgid;
                int r = proc_tgid(t->proc_root, all[i], true, &tgid);
                if (r == -ESRCH || (r == 0 && tgid != all[i]))
                        gone[n_gone++] = all[i];
        }
        if (n_gone > 0) {
                *ret = TAKE_PTR(all);
                *ret_n = n_gone;
        }
        return (int) n_gone;
}

int32_t vs_topology_vm_of_tgid(struct vs_topology *t, int32_t tgid) {
        ensure(t);
        for (unsigned i = 0; tgid > 0 && i < t->n_vms; i++)
                if (t->vms[i].tgid == tgid)
                        return (int32_t) i;
        return -1;
}
