/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * vs-config.h - /etc/vschedd.conf: the typed configuration and its parser.
 *
 * Owns struct vs_config (every knob with its default, bounds in one
 * declarative table in config.c) and the per-VM override list.  Parsing goes
 * through libinih with our own line-counting reader so every error names
 * file:line and key; all errors are collected, then the parse fails as a whole
 * (a bad config never half-applies).  Unknown sections and keys are errors.
 * No logging: errors are returned as text lines.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum vs_mode {
        VS_MODE_INHERIT = -1,   /* per-VM only: use the [daemon] mode */
        VS_MODE_OFF = 0,        /* ignore the VM entirely */
        VS_MODE_OBSERVE,        /* model and report, write nothing */
        VS_MODE_ENFORCE,        /* act */
};

enum vs_tristate {
        VS_DEFAULT = -1,        /* per-VM: inherit the [policy] value */
        VS_NO = 0,
        VS_YES = 1,
};

/* A VM's class ([vm] priority): what it gets first when VMs compete. */
enum vs_priority {
        VS_PRIO_INHERIT = -1,   /* per-VM only: normal */
        VS_PRIO_LOW = 0,
        VS_PRIO_NORMAL,
        VS_PRIO_HIGH,
        _VS_PRIO_MAX,
};

#define VS_CAPS 6               /* run-queue depth classes: 2, 3, 4-6, 7-8, 9-12, >12 */

struct vs_vm_override {
        char *pattern;          /* VM name or fnmatch(3) pattern, from [vm "PATTERN"] */
        enum vs_mode mode;      /* -1 = inherit [daemon] mode */
        int placement;          /* enum vs_tristate */
        int coschedule;         /* enum vs_tristate */
        int weights;            /* enum vs_tristate */
        int idle;               /* -1 = leave alone, 0/1 = set cpu.idle of the VM's vCPU cgroups */
        int directed_yield;     /* enum vs_tristate */
        uint32_t weight_min;    /* 0 = inherit */
        uint32_t weight_max;    /* 0 = inherit */
        bool pin_override;      /* may override the operator's pinning (vcpupin/cpuset) */
        bool pin_override_set;  /* false = inherit [policy] pin_override */
        int priority;           /* enum vs_priority; VS_PRIO_INHERIT = normal */
        unsigned line;          /* where the section starts, for messages; 0 = not from
                                 * the file (a runtime override, vschedctl vm set) */
};

struct vs_config {
        /* [daemon] */
        enum vs_mode mode;                      /* default observe */
        uint32_t epoch_ms;                      /* 20, 1..1000 */
        char *state_dir;                        /* "/run/vschedd" (journal lives here) */
        char *cgroup_root;                      /* "" = autodetect (/sys/fs/cgroup) */
        char *libvirt_uri;                      /* "qemu:///system"; "" = no libvirt, /proc only */
        /* [trace] */
        char *instance;                         /* "vschedd" */
        uint32_t buffer_kb;                     /* 0 = kernel default, else 64..1048576 */
        /* [analysis] */
        uint32_t ipi_window_us;                 /* 50000 */
        uint32_t yield_window_us;               /* 600 */
        uint32_t rate_half_life_ms;             /* 1000 */
        /* [policy] */
        bool placement;                         /* yes */
        bool coschedule;                        /* yes: for spin-waiting VMs (classify) */
        bool coschedule_yielding;               /* no: not for VMs whose guests direct-yield as often as they IPI */
        bool weights;                           /* no (measured to hurt without PLE) */
        double trigger_preempted_share;         /* 0.2: share of a VM's IPIs sent to a not-running receiver */
        uint32_t trigger_ipi_rate;              /* 50 IPIs/s per VM before anything is done */
        bool trigger_vcpu_contention;           /* yes: ... and only while vCPUs preempt vCPUs */
        uint32_t weight_min;                    /* 10, 1..10000 */
        uint32_t weight_max;                    /* 1000, weight_min..10000 */
        double caps[VS_CAPS];                   /* 6, 4, 2.5, 2, 1.5, 1 */
        uint32_t write_interval_ms;             /* 6: at most one write per cgroup file per interval */
        uint32_t hysteresis_pct;                /* 10: skip weight changes smaller than this */
        uint32_t decay_half_life_ms;            /* 500: weights drift back to the baseline */
        uint32_t turn_ms;                       /* 20: co-scheduling turn */
        uint32_t max_frozen_ms;                 /* 100: no VM stays frozen longer */
        uint32_t starvation_ms;                 /* 50: a vCPU waiting longer is restored at once */
        bool pin_override;                      /* no */
        bool classify;                          /* yes: act only on VMs classified spin-waiting, keep what helps */
        double halt_share;                      /* 0.1: halted at least this share of the time = halting guest */
        uint32_t trigger_spin_rate;             /* 100: PAUSE exits + PV yields per second = spinning */
        uint32_t evaluate_ms;                   /* 1000: classification / before-after window */
        uint32_t min_gain_pct;                  /* 5: a lever must raise answered IPIs/s this much to stay */
        uint32_t retry_ms;                      /* 30000: a lever that did not help is not tried again for this long */
        char *reserved_cpus;                    /* "": host CPUs no vCPU is placed on (canonical CPU list) */
        double priority_factor;                 /* 2: high VMs' turns and weights x this, low ones / this */
        bool directed_yield;                    /* no: turn the companion kernel series' directed yield on per
                                                 * enforced VM (KVM_CAP_DIRECTED_YIELD) where the VMM did not */
        /* [metrics] */
        char *metrics_listen;                   /* "" = no HTTP listener; else IPV4:PORT or [IPV6]:PORT */
        /* [vm "PATTERN"] sections, in file order; first match wins */
        struct vs_vm_override *vms;
        size_t n_vms;
};

/* Defaults for every field (strings allocated). Returns 0 or -ENOMEM. */
int vs_config_init(struct vs_config *c);
void vs_config_done(struct vs_config *c);

/*
 * Parse @path into *c (which must be vs_config_init()ed; on failure it is left
 * untouched).  Keys absent from the file get their defaults, not the values
 * *c had.  Every problem is appended to @errors as one line
 * "FILE:LINE: key 'KEY': REASON" (the caller frees *errors).  Returns 0,
 * -EINVAL when the file has errors, -errno when it cannot be read (a missing
 * file is -ENOENT: the caller decides whether defaults are fine).  Refuses a
 * world-writable file, a group-writable one not owned by root, or one not
 * owned by root or the caller (-EPERM).  @errors may be NULL; otherwise
 * *errors is set on every return (NULL when there is nothing to say).
 * Error lines: "FILE:LINE: key 'KEY': REASON", "FILE:LINE: section [S]: REASON",
 * "FILE:LINE: REASON" (syntax) and "FILE: REASON" (the file as a whole);
 * at most VS_CONFIG_MAX_ERRORS lines, then one "FILE: ... and N more errors"
 * line.  A directory is -EISDIR, another non-regular file -EINVAL.
 */
#define VS_CONFIG_MAX_ERRORS 100
int vs_config_load(struct vs_config *c, const char *path, char **errors);

/* The effective settings for VM @name: mode and levers after overrides. */
struct vs_vm_policy {
        enum vs_mode mode;
        bool placement, coschedule, weights, pin_override, directed_yield;
        int idle;               /* -1 leave alone, 0/1 */
        uint32_t weight_min, weight_max;
        enum vs_priority priority;      /* normal unless [vm] priority says otherwise */
};
void vs_config_vm(const struct vs_config *c, const char *name, struct vs_vm_policy *ret);

/* The VM @name is gone: drop the overrides made for it at runtime (line 0,
 * pattern exactly @name); the file's [vm] sections stay.  Returns how many. */
int vs_config_forget_runtime_vm(struct vs_config *c, const char *name);

/*
 * Write the configuration in INI form (what --print-config prints): every
 * global key with its effective value, then each [vm "PATTERN"] section with
 * the keys it sets.  vs_config_load() reads the output back to an equal
 * config.  Returns 0, -EINVAL if a string cannot be written as an INI value
 * (control characters, surrounding blanks, " ;"), -EIO on a write error.
 */
int vs_config_print(const struct vs_config *c, void *file /* FILE* */);

/*
 * True if @a and @b hold the same settings (the VM sections' source lines
 * are not compared).  For reload ("nothing changed") and the round-trip test.
 */
bool vs_config_equal(const struct vs_config *a, const struct vs_config *b);

/* "off", "observe", "enforce"; NULL for anything else (VS_MODE_INHERIT too). */
const char *vs_mode_name(enum vs_mode m);
/* The reverse: the enum value, or -EINVAL. */
int vs_mode_from_name(const char *s);

/* "low", "normal", "high"; NULL for anything else (VS_PRIO_INHERIT too). */
const char *vs_priority_name(enum vs_priority p);
/* The reverse: the enum value, or -EINVAL. */
int vs_priority_from_name(const char *s);
