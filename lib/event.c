/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdio.h>
#include <string.h>

#include "event.h"

static const char *const type_names[_VS_EV_MAX] = {
        [VS_EV_NONE] = "none",
        [VS_EV_IPI] = "ipi",
        [VS_EV_EOI] = "eoi",
        [VS_EV_SWITCH] = "switch",
        [VS_EV_WAKEUP] = "wakeup",
        [VS_EV_EXIT_PAUSE] = "exit_pause",
        [VS_EV_HYPERCALL] = "hypercall",
        [VS_EV_PLE_WINDOW] = "ple_window",
        [VS_EV_AVIC_INCOMPLETE_IPI] = "avic_incomplete_ipi",
        [VS_EV_VCPU_ID] = "vcpu_id",
        [VS_EV_DIRECTED_YIELD] = "directed_yield",
};

static const char *const dy_reason_names[_VS_DY_MAX] = {
        [VS_DY_STOCK] = "stock",
        [VS_DY_IPI] = "ipi",
        [VS_DY_HINT] = "hint",
        [VS_DY_KICK] = "kick",
        [VS_DY_PV] = "pv",
};

const char *vs_dy_reason_name(unsigned reason) {
        return reason < _VS_DY_MAX ? dy_reason_names[reason] : "unknown";
}

int vs_dy_reason_from_name(const char *name, size_t len) {
        for (unsigned i = 0; i < _VS_DY_MAX; i++)
                if (strlen(dy_reason_names[i]) == len && memcmp(dy_reason_names[i], name, len) == 0)
                        return (int) i;
        return -1;
}

const char *vs_event_type_name(enum vs_event_type t) {
        if ((unsigned) t >= _VS_EV_MAX)
                return "invalid";
        return type_names[t];
}

void vs_event_set_icr(struct vs_event *ev, uint32_t icr_low, uint32_t dest_id) {
        ev->type = VS_EV_IPI;
        ev->ipi.icr_low = icr_low;
        ev->ipi.dest_apic = dest_id;
        ev->ipi.vector = icr_low & 0xff;
        ev->ipi.delivery_mode = (icr_low >> 8) & 7;
        ev->ipi.logical = !!(icr_low & (1u << 11));
        ev->ipi.shorthand = (icr_low >> 18) & 3;
}

bool vs_exit_is_pause(uint8_t isa, uint32_t exit_reason) {
        switch (isa) {
        case VS_ISA_VMX:
                /* basic exit reason is the low 16 bits; bit 31 = failed entry */
                return (exit_reason & 0xffff) == VS_VMX_EXIT_PAUSE_INSTRUCTION &&
                       !(exit_reason & 0x80000000u);
        case VS_ISA_SVM:
                return exit_reason == VS_SVM_EXIT_PAUSE;
        default:
                /* No isa field (kernels before 5.7 print one reason table per
                 * vendor module): 40 is not an SVM reason we would see in an
                 * exit (SVM_EXIT_READ_DR8 does not exist), and 0x77 is not a
                 * valid VMX basic exit reason, so both are unambiguous. */
                return exit_reason == VS_VMX_EXIT_PAUSE_INSTRUCTION || exit_reason == VS_SVM_EXIT_PAUSE;
        }
}

const char *vs_escape(const char *in, char *buf, size_t len) {
        size_t o = 0;

        if (len == 0)
                return buf;
        for (const unsigned char *p = (const unsigned char *) (in ? in : ""); *p && o + 1 < len; p++) {
                if (*p < 0x20 || *p == 0x7f || *p == '\\') {
                        if (o + 5 > len)
                                break;
                        if (*p == '\\') {
                                buf[o++] = '\\';
                                buf[o++] = '\\';
                        } else
                                o += (size_t) snprintf(buf + o, len - o, "\\x%02x", *p);
                } else
                        buf[o++] = (char) *p;
        }
        buf[o] = 0;
        return buf;
}
