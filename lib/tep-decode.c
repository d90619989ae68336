/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <traceevent/event-parse.h>

#include "macro.h"
#include "tep-decode.h"

enum dec_kind {
        K_NONE = 0,
        K_SWITCH,
        K_WAKEUP,
        K_IPI,
        K_EOI,
        K_PV_EOI,
        K_EXIT,
        K_ENTRY,
        K_HYPERCALL,
        K_PLE,
        K_AVIC,
        K_VCPU_WAKEUP,
        K_DYIELD,
        K_PRINT,
        _K_MAX,
};

#define MAX_FIELDS 8

struct fld {
        int32_t off;
        int32_t size;           /* 0 = absent */
        bool sign;
        bool dynamic;           /* __data_loc / __rel_loc string */
        bool relative;
};

struct dec {
        const char *system;
        const char *name;
        const char *alt_name;   /* older kernels' name for the same event, or NULL */
        enum dec_kind kind;
        const char *fields[MAX_FIELDS];
        /* resolved */
        bool present;
        int id;
        struct fld f[MAX_FIELDS];
        struct fld pid;
        int32_t min_size;       /* smallest record that holds every required field */
};

/* Field names per kind; a NULL-named or absent optional field reads as 0. */
#define D(sys, ev, alt, k, ...) \
        { .system = sys, .name = ev, .alt_name = alt, .kind = k, .fields = { __VA_ARGS__ } }

static const struct dec dec_template[] = {
        D("sched", "sched_switch", NULL, K_SWITCH, "prev_comm", "prev_pid", "prev_prio", "prev_state", "next_comm", "next_pid", "next_prio"),
        D("sched", "sched_wakeup", NULL, K_WAKEUP, "comm", "pid", "prio", "target_cpu"),
        D("kvm", "kvm_apic_ipi", NULL, K_IPI, "icr_low", "dest_id"),
        D("kvm", "kvm_eoi", NULL, K_EOI, "apicid", "vector"),
        D("kvm", "kvm_pv_eoi", NULL, K_PV_EOI, "apicid", "vector"),
        D("kvm", "kvm_exit", NULL, K_EXIT, "exit_reason", "isa", "vcpu_id"),
        D("kvm", "kvm_entry", NULL, K_ENTRY, "vcpu_id"),
        D("kvm", "kvm_hypercall", NULL, K_HYPERCALL, "nr", "a0", "a1", "a2", "a3"),
        D("kvm", "kvm_ple_window_update", "kvm_ple_window", K_PLE, "vcpu_id", "old", "new"),
        D("kvm", "kvm_avic_incomplete_ipi", NULL, K_AVIC, "vcpu", "icrh", "icrl", "id", "index"),
        D("kvm", "kvm_vcpu_wakeup", NULL, K_VCPU_WAKEUP, "ns", "waited", "valid"),
        D("kvm", "kvm_directed_yield", NULL, K_DYIELD, "spinner", "target", "reason", "result", "skipped",
          "skipped_reasons"),
        D("ftrace", "print", NULL, K_PRINT, "buf"),
};

/* Fields that must be present for the event to be decodable at all. */
static bool field_required(enum dec_kind k, unsigned i) {
        switch (k) {
        case K_SWITCH:
                return i == 1 || i == 3 || i == 5; /* prev_pid, prev_state, next_pid */
        case K_WAKEUP:
                return i == 1;
        case K_EXIT:
                return i == 0;                     /* isa (5.7+) and vcpu_id (5.10+) are optional */
        case K_PLE:
                return i == 0 || i == 2;
        case K_VCPU_WAKEUP:
                return i == 0;
        case K_DYIELD:
                return i < 4;                      /* skipped, skipped_reasons: the current series only */
        default:
                return true;
        }
}

struct vs_tep_decoder {
        struct tep_handle *tep;
        bool swap;
        struct dec decs[ELEMENTSOF(dec_template)];
        uint8_t *by_id;         /* event id -> index+1 into decs, 0 = unknown */
        unsigned max_id;
        struct fld common_type;
};

static void fld_from(struct fld *f, const struct tep_format_field *tf) {
        f->off = tf->offset;
        f->size = tf->size;
        f->sign = !!(tf->flags & TEP_FIELD_IS_SIGNED);
        f->dynamic = !!(tf->flags & TEP_FIELD_IS_DYNAMIC);
        f->relative = !!(tf->flags & TEP_FIELD_IS_RELATIVE);
        if (f->size == 0 && !f->dynamic)
                f->size = -1;   /* flexible array ("char buf[]"): runs to the end of the record */
}

bool vs_tep_decoder_wants(const char *system, const char *name) {
        for (unsigned i = 0; i < ELEMENTSOF(dec_template); i++) {
                const struct dec *dc = &dec_template[i];
                if (strcmp(dc->system, system) == 0 &&
                    (strcmp(dc->name, name) == 0 || (dc->alt_name && strcmp(dc->alt_name, name) == 0)))
                        return true;
        }
        return false;
}

int vs_tep_decoder_new(struct tep_handle *tep, struct vs_tep_decoder **ret) {
        _cleanup_free_ struct vs_tep_decoder *d = NULL;
        unsigned max_id = 0;

        d = calloc(1, sizeof(*d));
        if (!d)
                return -ENOMEM;
        d->tep = tep;
        d->swap = tep_is_file_bigendian(tep) != tep_is_local_bigendian(tep);
        memcpy(d->decs, dec_template, sizeof(dec_template));

        for (unsigned i = 0; i < ELEMENTSOF(d->decs); i++) {
                struct dec *dc = &d->decs[i];
                struct tep_event *e = tep_find_event_by_name(tep, dc->system, dc->name);
                struct tep_format_field *tf;
                bool ok = true;

                if (!e && dc->alt_name)
                        e = tep_find_event_by_name(tep, dc->system, dc->alt_name);
                if (!e)
                        continue;
                tf = tep_find_common_field(e, "common_pid");
                if (!tf)
                        continue;
                fld_from(&dc->pid, tf);
                dc->min_size = dc->pid.off + dc->pid.size;
                if (d->common_type.size == 0) {
                        tf = tep_find_common_field(e, "common_type");
                        if (tf)
                                fld_from(&d->common_type, tf);
                }
                for (unsigned j = 0; j < MAX_FIELDS && dc->fields[j]; j++) {
                        tf = tep_find_field(e, dc->fields[j]);
                        if (!tf) {
                                if (field_required(dc->kind, j))
                                        ok = false;
                                continue;
                        }
                        fld_from(&dc->f[j], tf);
                        if (dc->f[j].size > 0 && field_required(dc->kind, j) &&
                            dc->f[j].off + dc->f[j].size > dc->min_size)
                                dc->min_size = dc->f[j].off + dc->f[j].size;
                }
                if (!ok)
                        continue;
                /* common_type is 16 bits wide: ids above that cannot occur */
                if (e->id < 0 || e->id > 0xffff)
                        continue;
                dc->present = true;
                dc->id = e->id;
                if ((unsigned) e->id > max_id)
                        max_id = e->id;
        }

        if (d->common_type.size == 0) {
                d->common_type.off = 0;
                d->common_type.size = 2;
        }
        d->max_id = max_id;
        d->by_id = calloc(max_id + 1, 1);
        if (!d->by_id)
                return -ENOMEM;
        for (unsigned i = 0; i < ELEMENTSOF(d->decs); i++)
                if (d->decs[i].present)
                        d->by_id[d->decs[i].id] = i + 1;
        *ret = TAKE_PTR(d);
        return 0;
}

void vs_tep_decoder_free(struct vs_tep_decoder *d) {
        if (!d)
                return;
        free(d->by_id);
        free(d);
}

unsigned vs_tep_decoder_known(const struct vs_tep_decoder *d, const char **names, unsigned max) {
        unsigned n = 0;

        for (unsigned i = 0; i < ELEMENTSOF(d->decs); i++) {
                if (!d->decs[i].present)
                        continue;
                if (n < max)
                        names[n] = d->decs[i].name;
                n++;
        }
        return n;
}

static inline uint64_t bswap_n(uint64_t v, int size) {
        switch (size) {
        case 2:
                return __builtin_bswap16((uint16_t) v);
        case 4:
                return __builtin_bswap32((uint32_t) v);
        case 8:
                return __builtin_bswap64(v);
        default:
                return v;
        }
}

/* Load an integer field; absent fields read as 0.  Bounds were checked by
 * the caller against min_size for required fields; optional fields are
 * checked here. */
static inline uint64_t rd(const struct vs_tep_decoder *d, const struct fld *f, const uint8_t *p, int size) {
        uint64_t v = 0;

        if (f->size <= 0 || f->off + f->size > size)
                return 0;
        switch (f->size) {
        case 1: {
                uint8_t x;
                memcpy(&x, p + f->off, 1);
                return f->sign ? (uint64_t) (int64_t) (int8_t) x : x;
        }
        case 2: {
                uint16_t x;
                memcpy(&x, p + f->off, 2);
                if (d->swap)
                        x = bswap_n(x, 2);
                return f->sign ? (uint64_t) (int64_t) (int16_t) x : x;
        }
        case 4: {
                uint32_t x;
                memcpy(&x, p + f->off, 4);
                if (d->swap)
                        x = bswap_n(x, 4);
                return f->sign ? (uint64_t) (int64_t) (int32_t) x : x;
        }
        case 8:
                memcpy(&v, p + f->off, 8);
                if (d->swap)
                        v = bswap_n(v, 8);
                return v;
        default:
                return 0;
        }
}

/* Copy a fixed char[] or __data_loc string field into buf (always terminated).
 * Returns false when it does not fit in the record. */
static bool rd_str(const struct vs_tep_decoder *d, const struct fld *f, const uint8_t *p, int size,
                   char *buf, size_t len) {
        int off, n;

        buf[0] = 0;
        if (f->size == 0)
                return false;
        if (f->dynamic) {
                uint32_t loc;
                if (f->off + 4 > size)
                        return false;
                memcpy(&loc, p + f->off, 4);
                if (d->swap)
                        loc = bswap_n(loc, 4);
                off = loc & 0xffff;
                n = loc >> 16;
                if (f->relative)
                        off += f->off + 4;
        } else if (f->size < 0) {
                off = f->off;
                n = size - f->off;
        } else {
                off = f->off;
                n = f->size;
        }
        if (off < 0 || n < 0 || off > size || n > size - off)
                return false;
        if ((size_t) n >= len)
                n = len - 1;
        memcpy(buf, p + off, n);
        buf[n] = 0;
        buf[strnlen(buf, n)] = 0;
        return true;
}

static void emit_comm(struct vs_source *s, int32_t tid, const char *comm) {
        struct vs_thread_info ti = { .tid = tid, .tgid = -1, .comm = comm, .apic_id = -1 };

        if (tid <= 0 || !comm[0] || !s->thread_cb)
                return;
        s->thread_cb(&ti, s->thread_userdata);
}

static int malformed(struct vs_source *s, const struct dec *dc, uint64_t offset, int size) {
        if (s->stats.malformed++ == 0) {
                s->first_malformed_at = offset;
                snprintf(s->error, sizeof(s->error),
                         "record at offset %llu: %s:%s is %d bytes, too short for its format",
                         (unsigned long long) offset, dc->system, dc->name, size);
        }
        return 0;
}

int vs_tep_decode(struct vs_tep_decoder *d, const void *data, int size, uint64_t ts_ns, int cpu,
                  uint64_t offset, struct vs_source *s, struct vs_event *ev) {
        const uint8_t *p = data;
        const struct dec *dc;
        unsigned id;

        s->stats.records++;
        if (size < d->common_type.off + d->common_type.size) {
                s->stats.malformed++;
                if (s->stats.malformed == 1) {
                        s->first_malformed_at = offset;
                        snprintf(s->error, sizeof(s->error), "record at offset %llu: only %d bytes",
                                 (unsigned long long) offset, size);
                }
                return 0;
        }
        id = rd(d, &d->common_type, p, size);
        if (id > d->max_id || d->by_id[id] == 0) {
                s->stats.unknown++;
                return 0;
        }
        dc = &d->decs[d->by_id[id] - 1];
        if (size < dc->min_size)
                return malformed(s, dc, offset, size);

        memset(ev, 0, sizeof(*ev));
        ev->ts_ns = ts_ns;
        ev->cpu = cpu;
        ev->tid = (int32_t) rd(d, &dc->pid, p, size);

        switch (dc->kind) {
        case K_SWITCH: {
                char comm[17];
                ev->type = VS_EV_SWITCH;
                ev->sw.prev_tid = (int32_t) rd(d, &dc->f[1], p, size);
                ev->sw.prev_prio = (int32_t) rd(d, &dc->f[2], p, size);
                ev->sw.prev_state = (int64_t) rd(d, &dc->f[3], p, size);
                ev->sw.next_tid = (int32_t) rd(d, &dc->f[5], p, size);
                ev->sw.next_prio = (int32_t) rd(d, &dc->f[6], p, size);
                if (s->thread_cb) {
                        if (rd_str(d, &dc->f[0], p, size, comm, sizeof(comm)))
                                emit_comm(s, ev->sw.prev_tid, comm);
                        if (rd_str(d, &dc->f[4], p, size, comm, sizeof(comm)))
                                emit_comm(s, ev->sw.next_tid, comm);
                }
                break;
        }
        case K_WAKEUP: {
                char comm[17];
                ev->type = VS_EV_WAKEUP;
                ev->wakeup.wakee_tid = (int32_t) rd(d, &dc->f[1], p, size);
                ev->wakeup.target_cpu = dc->f[3].size ? (int32_t) rd(d, &dc->f[3], p, size) : -1;
                if (s->thread_cb && rd_str(d, &dc->f[0], p, size, comm, sizeof(comm)))
                        emit_comm(s, ev->wakeup.wakee_tid, comm);
                break;
        }
        case K_IPI:
                vs_event_set_icr(ev, (uint32_t) rd(d, &dc->f[0], p, size), (uint32_t) rd(d, &dc->f[1], p, size));
                break;
        case K_EOI:
        case K_PV_EOI:
                ev->type = VS_EV_EOI;
                ev->flags = dc->kind == K_PV_EOI ? VS_EVF_PV_EOI : 0;
                ev->eoi.apic_id = (uint32_t) rd(d, &dc->f[0], p, size);
                ev->eoi.vector = (int32_t) rd(d, &dc->f[1], p, size);
                break;
        case K_EXIT: {
                uint32_t reason = (uint32_t) rd(d, &dc->f[0], p, size);
                uint8_t isa = (uint8_t) rd(d, &dc->f[1], p, size);
                uint32_t vcpu = dc->f[2].size > 0 ? (uint32_t) rd(d, &dc->f[2], p, size) : UINT32_MAX;

                if (vs_exit_is_pause(isa, reason)) {
                        ev->type = VS_EV_EXIT_PAUSE;
                        ev->pause.vcpu_id = vcpu;
                        ev->pause.exit_reason = reason;
                        ev->pause.isa = isa;
                } else {
                        /* Other exits carry nothing kvm_entry does not (the live
                         * source filters them out in the kernel), and trace-cmd's
                         * kvm plugin prints them without vcpu_id: drop them so
                         * every source yields the same stream. */
                        s->stats.filtered++;
                        return 0;
                }
                break;
        }
        case K_ENTRY:
                ev->type = VS_EV_VCPU_ID;
                ev->vcpu.vcpu_id = (uint32_t) rd(d, &dc->f[0], p, size);
                break;
        case K_HYPERCALL: {
                uint64_t nr = rd(d, &dc->f[0], p, size);
                if (nr != VS_HC_KICK_CPU && nr != VS_HC_SEND_IPI && nr != VS_HC_SCHED_YIELD) {
                        s->stats.filtered++;
                        return 0;
                }
                ev->type = VS_EV_HYPERCALL;
                ev->hc.nr = (uint32_t) nr;
                ev->hc.a0 = rd(d, &dc->f[1], p, size);
                ev->hc.a1 = rd(d, &dc->f[2], p, size);
                ev->hc.a2 = rd(d, &dc->f[3], p, size);
                ev->hc.a3 = rd(d, &dc->f[4], p, size);
                break;
        }
        case K_PLE:
                ev->type = VS_EV_PLE_WINDOW;
                ev->ple.vcpu_id = (uint32_t) rd(d, &dc->f[0], p, size);
                ev->ple.old_window = (uint32_t) rd(d, &dc->f[1], p, size);
                ev->ple.new_window = (uint32_t) rd(d, &dc->f[2], p, size);
                break;
        case K_AVIC:
                ev->type = VS_EV_AVIC_INCOMPLETE_IPI;
                ev->avic.vcpu_idx = (uint32_t) rd(d, &dc->f[0], p, size);
                ev->avic.icrh = (uint32_t) rd(d, &dc->f[1], p, size);
                ev->avic.icrl = (uint32_t) rd(d, &dc->f[2], p, size);
                ev->avic.id = (uint32_t) rd(d, &dc->f[3], p, size);
                ev->avic.index = (uint32_t) rd(d, &dc->f[4], p, size);
                break;
        case K_VCPU_WAKEUP:
                ev->type = VS_EV_WAKEUP;
                ev->flags = VS_EVF_KVM_WAKEUP;
                ev->wakeup.wakee_tid = ev->tid;
                ev->wakeup.target_cpu = -1;
                ev->wakeup.wait_ns = rd(d, &dc->f[0], p, size);
                ev->wakeup.waited = !!rd(d, &dc->f[1], p, size);
                ev->wakeup.valid = !!rd(d, &dc->f[2], p, size);
                break;
        case K_DYIELD: {
                int64_t reason = (int64_t) rd(d, &dc->f[2], p, size);

                ev->type = VS_EV_DIRECTED_YIELD;
                ev->dy.spinner = (uint32_t) rd(d, &dc->f[0], p, size);
                ev->dy.target = (uint32_t) rd(d, &dc->f[1], p, size);
                ev->dy.reason = reason >= 0 && reason < _VS_DY_MAX ? (uint8_t) reason : UINT8_MAX;
                ev->dy.result = (int32_t) rd(d, &dc->f[3], p, size);
                /* the first series has neither */
                ev->dy.skipped = dc->f[4].size ? (uint16_t) rd(d, &dc->f[4], p, size) : 0;
                ev->dy.skipped_mask = dc->f[5].size ? (uint8_t) rd(d, &dc->f[5], p, size) : 0;
                break;
        }
        case K_PRINT: {
                char msg[512], vm[128], comm[64];
                struct vs_thread_info ti;

                if (!rd_str(d, &dc->f[0], p, size, msg, sizeof(msg)))
                        return malformed(s, dc, offset, size);
                if (vs_parse_topology_marker(msg, &ti, vm, sizeof(vm), comm, sizeof(comm)) > 0)
                        vs_source_emit_thread(s, &ti);
                else
                        s->stats.filtered++;
                return 0;
        }
        default:
                s->stats.unknown++;
                return 0;
        }
        s->stats.events++;
        return 1;
}
