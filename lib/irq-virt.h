/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * irq-virt.h - the host's interrupt virtualisation, from KVM's module
 * parameters: which of the IPI signals vschedd watches the host can deliver.
 *
 * Owns the reading of /sys/module/kvm_intel/parameters/{enable_apicv,
 * enable_ipiv} and /sys/module/kvm_amd/parameters/avic (KVM clears each at
 * load when the CPU lacks the feature, so they say what is in effect) and
 * the mode they mean:
 *  - software-lapic: no APICv/AVIC, every IPI (kvm_apic_ipi, in the sender)
 *    and EOI (kvm_eoi, in the receiver) traps;
 *  - apicv-no-eoi: Intel APICv without IPIv: IPIs trap, EOIs of
 *    edge-triggered IPIs do not;
 *  - ipiv: Intel IPIv: physical unicast IPIs do not trap either;
 *  - avic: AMD AVIC: IPIs to running vCPUs do not trap, those to vCPUs not
 *    running exit as kvm_avic_incomplete_ipi;
 *  - none: neither module loaded (no KVM VMs on this host).
 * The root is a parameter so tests run against a directory tree.  No logging.
 */
#pragma once

#include <stdbool.h>

struct json_object;

enum vs_irq_virt_mode {
        VS_IRQV_NONE = 0,
        VS_IRQV_SOFTWARE,
        VS_IRQV_APICV,
        VS_IRQV_IPIV,
        VS_IRQV_AVIC,
        _VS_IRQV_MAX,
};

struct vs_irq_virt {
        const char *module;             /* "kvm_intel", "kvm_amd" or NULL */
        int apicv, ipiv, avic;          /* 1 on, 0 off, -1 not known (parameter absent) */
        enum vs_irq_virt_mode mode;
};

/* Read the parameters under @sys_root ("/sys").  Returns 0 (mode NONE when
 * neither module is loaded), or -errno from a parameter file that exists
 * but cannot be read or holds neither Y/N nor 1/0 (-EBADMSG). */
int vs_irq_virt_probe(const char *sys_root, struct vs_irq_virt *ret);

/* "none", "software-lapic", "apicv-no-eoi", "ipiv", "avic" */
const char *vs_irq_virt_mode_name(enum vs_irq_virt_mode m);
/* What the mode leaves visible, in words (static string). */
const char *vs_irq_virt_expect(enum vs_irq_virt_mode m);
/* {"module", "apicv", "ipiv", "avic" (true/false/null), "mode", "expect"} */
struct json_object *vs_irq_virt_json(const struct vs_irq_virt *v);
