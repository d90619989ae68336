/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * source-text.c - a vs_source over ftrace TEXT traces.
 *
 * Reads, line by line, and auto-detects per line:
 *   - the kernel's trace / trace_pipe output, with or without the TGID column
 *     (options/record-tgid), with or without the flags column;
 *   - `trace-cmd report` output (optionally with -t, -R or -N, and with the
 *     "instance: " prefix trace-cmd prints for -B buffers), including the
 *     libtraceevent sched_switch/sched_wakeup/kvm plugin renderings.
 * Timestamps are "sec.frac" (any number of fraction digits, converted exactly to
 * ns without floating point) or a raw counter (trace_clock counter / x86-tsc).
 *
 * Owns the FILE (on success), the line buffer and a small thread cache that keeps
 * on_thread callbacks to one per change of (tid, comm, tgid).  Events are
 * returned in file order.  Unparseable lines are counted (stats.malformed) and
 * skipped, never fatal; the first one is remembered in first_malformed_at and
 * s->error ("name:line: reason").  No logging.
 *
 * Hostile input: lines of any length (getline), NUL bytes (malformed), CRLF,
 * non-UTF-8; all scanning is bounded by the line end.
 */

#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1          /* memmem(); config.h defines it in the real build */
#endif

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdio_ext.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "event.h"
#include "macro.h"
#include "source-internal.h"

#define THREAD_CACHE_SIZE 1024u        /* power of two */
#define VCPU_CACHE_SIZE 4096u         /* power of two */
#define COMM_MAX 16u                   /* cached comms: TASK_COMM_LEN - 1 chars */

struct thread_slot {
        int32_t tid;                    /* 0 = empty (tid 0 is never reported) */
        int32_t tgid;
        uint8_t comm_len;               /* 0 = comm unknown */
        char comm[COMM_MAX];
};

struct text_source {
        struct vs_source base;          /* must stay first */
        FILE *f;
        char *name;
        char *line;
        size_t line_size;
        uint64_t lineno;
        uint64_t bytes_read;            /* progress */
        uint64_t bytes_total;           /* 0 unless a regular file */
        struct thread_slot threads[THREAD_CACHE_SIZE];
        /* tid -> vcpu_id from kvm_entry, so a kvm_exit printed without its
         * vcpu (trace-cmd's kvm plugin) still names it; direct mapped. */
        struct { int32_t tid; uint32_t vcpu_id; } vcpus[VCPU_CACHE_SIZE];
};

/* What the line header told us; body is [body, end), *end == '\0'. */
struct line_ctx {
        const char *comm;
        size_t comm_len;
        int32_t pid;
        int32_t tgid;                   /* -1: no column or "(-------)" */
        const char *body;
        const char *end;
        const char *why;                /* malformed reason, set by parsers */
};

/* ------------------------------------------------------------ scanning helpers */

static inline bool is_digit(char c) {
        return c >= '0' && c <= '9';
}

static inline bool is_space(char c) {
        return c == ' ' || c == '\t';
}

static inline int hex_val(char c) {
        if (c >= '0' && c <= '9')
                return c - '0';
        if (c >= 'a' && c <= 'f')
                return c - 'a' + 10;
        if (c >= 'A' && c <= 'F')
                return c - 'A' + 10;
        return -1;
}

static inline const char *skip_ws(const char *p, const char *e) {
        while (p < e && is_space(*p))
                p++;
        return p;
}

static inline const char *rtrim(const char *b, const char *e) {
        while (e > b && is_space(e[-1]))
                e--;
        return e;
}

/* Does [p, e) start with the literal @s? Advances *pp past it when it does. */
static inline bool eat(const char **pp, const char *e, const char *s, size_t n) {
        if ((size_t) (e - *pp) < n || memcmp(*pp, s, n) != 0)
                return false;
        *pp += n;
        return true;
}
#define EAT(pp, e, lit) eat(pp, e, lit, sizeof(lit) - 1)

static inline bool starts_with(const char *p, const char *e, const char *s, size_t n) {
        return (size_t) (e - p) >= n && memcmp(p, s, n) == 0;
}
#define STARTS(p, e, lit) starts_with(p, e, lit, sizeof(lit) - 1)

/* Last occurrence of needle in [b, e), or NULL. */
static const char *rfind(const char *b, const char *e, const char *needle, size_t n) {
        if ((size_t) (e - b) < n)
                return NULL;
        for (const char *p = e - n; p >= b; p--)
                if (*p == needle[0] && memcmp(p, needle, n) == 0)
                        return p;
        return NULL;
}
#define RFIND(b, e, lit) rfind(b, e, lit, sizeof(lit) - 1)

static const char *rfind_char(const char *b, const char *e, char c) {
        while (e > b) {
                e--;
                if (*e == c)
                        return e;
        }
        return NULL;
}

/* First occurrence of needle in [b, e), or NULL. */
static const char *find(const char *b, const char *e, const char *needle, size_t n) {
        if (n == 0 || (size_t) (e - b) < n)
                return NULL;
        return memmem(b, (size_t) (e - b), needle, n);
}
#define FIND(b, e, lit) find(b, e, lit, sizeof(lit) - 1)

static bool parse_dec(const char **pp, const char *e, uint64_t *ret) {
        const char *p = *pp;
        uint64_t v = 0;

        if (p >= e || !is_digit(*p))
                return false;
        for (; p < e && is_digit(*p); p++) {
                unsigned d = (unsigned) (*p - '0');
                if (v > (UINT64_MAX - d) / 10)
                        return false;
                v = v * 10 + d;
        }
        *pp = p;
        *ret = v;
        return true;
}

/* Hex digits, with an optional 0x/0X prefix. */
static bool parse_hex(const char **pp, const char *e, uint64_t *ret) {
        const char *p = *pp;
        uint64_t v = 0;
        int d;

        if (e - p >= 3 && p[0] == '0' && (p[1] == 'x' || p[1] == 'X') && hex_val(p[2]) >= 0)
                p += 2;
        if (p >= e || hex_val(*p) < 0)
                return false;
        for (; p < e && (d = hex_val(*p)) >= 0; p++) {
                if (v >> 60)
                        return false;
                v = (v << 4) | (uint64_t) d;
        }
        *pp = p;
        *ret = v;
        return true;
}

/* 0x-prefixed hex or decimal. */
static bool parse_num(const char **pp, const char *e, uint64_t *ret) {
        const char *p = *pp;

        if (e - p >= 3 && p[0] == '0' && (p[1] == 'x' || p[1] == 'X'))
                return parse_hex(pp, e, ret);
        return parse_dec(pp, e, ret);
}

static bool parse_s64(const char **pp, const char *e, int64_t *ret) {
        const char *p = *pp;
        bool neg = false;
        uint64_t v;

        if (p < e && *p == '-') {
                neg = true;
                p++;
        }
        if (!parse_dec(&p, e, &v))
                return false;
        if (neg ? v > (uint64_t) INT64_MAX + 1 : v > (uint64_t) INT64_MAX)
                return false;
        *ret = neg ? (int64_t) (0 - v) : (int64_t) v;
        *pp = p;
        return true;
}

static bool parse_s32(const char **pp, const char *e, int32_t *ret) {
        const char *p = *pp;
        int64_t v;

        if (!parse_s64(&p, e, &v) || v < INT32_MIN || v > INT32_MAX)
                return false;
        *ret = (int32_t) v;
        *pp = p;
        return true;
}

static bool parse_u32_dec(const char **pp, const char *e, uint32_t *ret) {
        const char *p = *pp;
        uint64_t v;

        if (!parse_dec(&p, e, &v) || v > UINT32_MAX)
                return false;
        *ret = (uint32_t) v;
        *pp = p;
        return true;
}

static bool parse_u32_hex(const char **pp, const char *e, uint32_t *ret) {
        const char *p = *pp;
        uint64_t v;

        if (!parse_hex(&p, e, &v) || v > UINT32_MAX)
                return false;
        *ret = (uint32_t) v;
        *pp = p;
        return true;
}

/* A whole [b, e) (after trimming) is one decimal int32. */
static bool parse_s32_all(const char *b, const char *e, int32_t *ret) {
        b = skip_ws(b, e);
        e = rtrim(b, e);
        return parse_s32(&b, e, ret) && b == e;
}

/* Only trailing blanks left? */
static inline bool at_end(const char *p, const char *e) {
        return skip_ws(p, e) == e;
}

/* "sec.frac" (1+ fraction digits, exact) or a raw counter, to ns. */
static bool parse_timestamp(const char *p, const char *e, uint64_t *ret) {
        uint64_t sec, frac = 0;
        unsigned digits = 0;

        if (!parse_dec(&p, e, &sec))
                return false;
        if (p == e) {
                *ret = sec;                     /* counter / x86-tsc clocks */
                return true;
        }
        if (*p != '.')
                return false;
        p++;
        if (p == e)
                return false;
        for (; p < e; p++) {
                if (!is_digit(*p))
                        return false;
                if (digits < 9) {
                        frac = frac * 10 + (uint64_t) (*p - '0');
                        digits++;
                }
        }
        for (; digits < 9; digits++)
                frac *= 10;
        if (sec > (UINT64_MAX - frac) / 1000000000u)
                return false;
        *ret = sec * 1000000000u + frac;
        return true;
}

/* ------------------------------------------------------------ bookkeeping */

static void malformed(struct text_source *t, const char *why) {
        struct vs_source *s = &t->base;

        s->stats.malformed++;
        if (s->first_malformed_at == 0) {
                s->first_malformed_at = t->lineno;
                (void) snprintf(s->error, sizeof(s->error), "%s:%" PRIu64 ": %s",
                                t->name, t->lineno, why ?: "malformed line");
        }
}

/* Report (tid, tgid, comm) unless the cache says nothing changed.  @weak: the comm
 * comes from a line header (the kernel's saved_cmdlines, may be stale), so it never
 * replaces a comm we already hold for @tid; comms from event payloads do. */
static void emit_thread(struct text_source *t, int32_t tid, int32_t tgid, const char *comm, size_t comm_len,
                        bool weak) {
        struct thread_slot *slot;
        char buf[64];
        bool cacheable;

        if (!t->base.thread_cb || tid <= 0)
                return;

        if (comm && ((comm_len == 5 && memcmp(comm, "<...>", 5) == 0) || comm_len == 0))
                comm = NULL;
        if (!comm)
                comm_len = 0;
        cacheable = comm_len < COMM_MAX;

        slot = &t->threads[((uint32_t) tid * 2654435761u) & (THREAD_CACHE_SIZE - 1)];
        if (cacheable && slot->tid == tid) {
                bool same_tgid, same_comm;

                if (weak && slot->comm_len > 0) {
                        comm = NULL;
                        comm_len = 0;
                }
                same_tgid = tgid < 0 || tgid == slot->tgid;
                same_comm = !comm || (comm_len == slot->comm_len && memcmp(comm, slot->comm, comm_len) == 0);

                if (same_tgid && same_comm)
                        return;
                /* merge what we knew */
                if (tgid < 0)
                        tgid = slot->tgid;
                if (!comm && slot->comm_len > 0) {
                        comm = slot->comm;
                        comm_len = slot->comm_len;
                }
        }

        if (cacheable) {
                char tmp[COMM_MAX];

                if (comm)
                        memcpy(tmp, comm, comm_len);    /* comm may alias slot->comm */
                slot->tid = tid;
                slot->tgid = tgid;
                slot->comm_len = (uint8_t) comm_len;
                if (comm)
                        memcpy(slot->comm, tmp, comm_len);
        }

        if (comm) {
                if (comm_len >= sizeof(buf))
                        comm_len = sizeof(buf) - 1;
                memcpy(buf, comm, comm_len);
                buf[comm_len] = '\0';
        }

        vs_source_emit_thread(&t->base, &(const struct vs_thread_info) {
                .tid = tid,
                .tgid = tgid,
                .comm = comm ? buf : NULL,
                .vm_name = NULL,
                .apic_id = -1,
        });
}

/* ------------------------------------------------------------ sched events */

/* Kernel prev_state letters (sched_switch print fmt, 4.14+). */
static bool parse_state_kernel(const char *p, const char *e, int64_t *ret) {
        int64_t v = 0;
        bool any = false;
        uint64_t n;

        p = skip_ws(p, e);
        e = rtrim(p, e);
        if (p == e)
                return false;

        if (is_digit(*p)) {             /* trace-cmd report -R: raw number */
                if (!parse_num(&p, e, &n) || p != e || n > INT64_MAX)
                        return false;
                *ret = (int64_t) n;
                return true;
        }

        for (;;) {
                switch (*p) {
                case 'R': break;
                case 'S': v |= 0x01; break;
                case 'D': v |= 0x02; break;
                case 'T': v |= 0x04; break;
                case 't': v |= 0x08; break;
                case 'X': v |= 0x10; break;
                case 'Z': v |= 0x20; break;
                case 'P': v |= 0x40; break;
                case 'I': v |= 0x80; break;
                default: return false;
                }
                any = true;
                p++;
                if (p == e)
                        break;
                if (*p == '+' && p + 1 == e) {
                        v |= VS_TASK_REPORT_MAX;
                        break;
                }
                if (*p != '|' || ++p == e)
                        return false;
        }
        if (!any)
                return false;
        *ret = v;
        return true;
}

/* libtraceevent's plugin_sched_switch write_state(): bit i -> "SDTtZXxW"[i], none -> 'R'. */
static bool parse_state_plugin(const char *p, const char *e, int64_t *ret) {
        static const char states[] = "SDTtZXxW";
        int64_t v = 0;

        if (p == e)
                return false;
        if (e - p == 1 && *p == 'R') {
                *ret = 0;
                return true;
        }
        for (;;) {
                const char *c = memchr(states, *p, sizeof(states) - 1);

                if (!c)
                        return false;
                v |= (int64_t) 1 << (c - states);
                p++;
                if (p == e)
                        break;
                if (*p != '|' || ++p == e)
                        return false;
        }
        *ret = v;
        return true;
}

/* "comm:pid" (plugin forms), split at the last ':' */
static bool split_comm_pid(const char *b, const char *e, const char **comm, size_t *comm_len, int32_t *pid) {
        const char *colon;

        b = skip_ws(b, e);
        e = rtrim(b, e);
        colon = rfind_char(b, e, ':');
        if (!colon || !parse_s32_all(colon + 1, e, pid))
                return false;
        *comm = b;
        *comm_len = (size_t) (colon - b);
        return true;
}

/* "comm [prio]" tail helper: [b, e) ends with " [prio]". */
static bool split_prio(const char *b, const char **e, int32_t *prio) {
        const char *end = rtrim(b, *e), *lb;

        if (end == b || end[-1] != ']')
                return false;
        lb = RFIND(b, end, " [");
        if (!lb || !parse_s32_all(lb + 2, end - 1, prio))
                return false;
        *e = lb;
        return true;
}

static int parse_sched_switch(struct text_source *t, struct line_ctx *c, struct vs_event *ev) {
        const char *b = c->body, *e = c->end;
        const char *prev_comm, *next_comm;
        size_t prev_len, next_len;
        int32_t prev_pid, next_pid, prev_prio, next_prio;
        int64_t state;

        if (STARTS(b, e, "prev_comm=")) {
                /* kernel print fmt (and trace-cmd -N / -R): parse from the right,
                 * comms may contain anything */
                const char *np, *nc, *ps, *pr, *pp, *p, *left_end;

                np = RFIND(b, e, " next_pid=");
                if (!np)
                        return c->why = "sched_switch: no next_pid", -1;
                p = np + 10;
                if (!parse_s32(&p, e, &next_pid) || !EAT(&p, e, " next_prio=") ||
                    !parse_s32(&p, e, &next_prio) || !at_end(p, e))
                        return c->why = "sched_switch: bad next_pid/next_prio", -1;

                nc = RFIND(b, np, " next_comm=");
                if (!nc)
                        return c->why = "sched_switch: no next_comm", -1;
                next_comm = nc + 11;
                next_len = (size_t) (np - next_comm);

                left_end = nc;
                if (left_end - b >= 4 && memcmp(left_end - 4, " ==>", 4) == 0)
                        left_end -= 4;

                ps = RFIND(b, left_end, " prev_state=");
                if (!ps || !parse_state_kernel(ps + 12, left_end, &state))
                        return c->why = "sched_switch: bad prev_state", -1;
                pr = RFIND(b, ps, " prev_prio=");
                if (!pr || !parse_s32_all(pr + 11, ps, &prev_prio))
                        return c->why = "sched_switch: bad prev_prio", -1;
                pp = RFIND(b, pr, " prev_pid=");
                if (!pp || !parse_s32_all(pp + 10, pr, &prev_pid))
                        return c->why = "sched_switch: bad prev_pid", -1;
                prev_comm = b + 10;
                if (pp < prev_comm)
                        return c->why = "sched_switch: bad prev_comm", -1;
                prev_len = (size_t) (pp - prev_comm);
        } else {
                /* plugin_sched_switch: "comm:pid [prio] S ==> comm:pid [prio]" */
                const char *arrow = RFIND(b, e, " ==> "), *le, *sp;

                if (!arrow)
                        return c->why = "sched_switch: unrecognised format", -1;

                e = rtrim(arrow + 5, e);
                if (!split_prio(arrow + 5, &e, &next_prio) ||
                    !split_comm_pid(arrow + 5, e, &next_comm, &next_len, &next_pid))
                        return c->why = "sched_switch: bad next task", -1;

                le = rtrim(b, arrow);
                sp = rfind_char(b, le, ' ');
                if (!sp || !parse_state_plugin(sp + 1, le, &state))
                        return c->why = "sched_switch: bad prev_state", -1;
                if (!split_prio(b, &sp, &prev_prio) ||
                    !split_comm_pid(b, sp, &prev_comm, &prev_len, &prev_pid))
                        return c->why = "sched_switch: bad prev task", -1;
        }

        emit_thread(t, prev_pid, prev_pid == c->pid ? c->tgid : -1, prev_comm, prev_len, false);
        emit_thread(t, next_pid, -1, next_comm, next_len, false);

        ev->type = VS_EV_SWITCH;
        ev->sw.prev_tid = prev_pid;
        ev->sw.next_tid = next_pid;
        ev->sw.prev_state = state;
        ev->sw.prev_prio = prev_prio;
        ev->sw.next_prio = next_prio;
        return 1;
}

/* Strip a trailing " success=N" (kernels before 4.3). */
static const char *strip_success(const char *b, const char *e) {
        const char *s = RFIND(b, e, " success=");
        int32_t v;

        if (s && parse_s32_all(s + 9, e, &v))
                return s;
        return e;
}

static int parse_sched_wakeup(struct text_source *t, struct line_ctx *c, struct vs_event *ev) {
        const char *b = c->body, *e = rtrim(c->body, c->end);
        const char *comm;
        size_t comm_len;
        int32_t pid, prio, target_cpu = -1;

        if (STARTS(b, e, "comm=")) {
                /* "comm=%s pid=%d prio=%d [success=%d ]target_cpu=%03d" */
                const char *tc = RFIND(b, e, " target_cpu="), *pr, *pp;

                if (tc) {
                        if (!parse_s32_all(tc + 12, e, &target_cpu))
                                return c->why = "sched_wakeup: bad target_cpu", -1;
                        e = tc;
                }
                e = strip_success(b, e);
                pr = RFIND(b, e, " prio=");
                if (!pr || !parse_s32_all(pr + 6, e, &prio))
                        return c->why = "sched_wakeup: bad prio", -1;
                pp = RFIND(b, pr, " pid=");
                if (!pp || !parse_s32_all(pp + 5, pr, &pid))
                        return c->why = "sched_wakeup: bad pid", -1;
                comm = b + 5;
                if (pp < comm)
                        return c->why = "sched_wakeup: bad comm", -1;
                comm_len = (size_t) (pp - comm);
        } else {
                /* plugin: "comm:pid [prio][ success=N][ CPU:%03d]" */
                const char *cpu = RFIND(b, e, " CPU:");

                if (cpu) {
                        if (!parse_s32_all(cpu + 5, e, &target_cpu))
                                return c->why = "sched_wakeup: bad CPU", -1;
                        e = cpu;
                }
                e = strip_success(b, e);
                if (!split_prio(b, &e, &prio) || !split_comm_pid(b, e, &comm, &comm_len, &pid))
                        return c->why = "sched_wakeup: unrecognised format", -1;
        }

        emit_thread(t, pid, pid == c->pid ? c->tgid : -1, comm, comm_len, false);

        ev->type = VS_EV_WAKEUP;
        ev->wakeup.wakee_tid = pid;
        ev->wakeup.target_cpu = target_cpu;
        ev->wakeup.wait_ns = 0;
        ev->wakeup.waited = 0;
        ev->wakeup.valid = 0;
        return 1;
}

/* ------------------------------------------------------------ raw (-R) key=value helper */

/* Find "key=" at the start of [b, e) or after a blank, parse its number.  `trace-cmd
 * report -R` prints each field with its print fmt conversion ("icrl=000040fb" for
 * %08x), so @hex fields (%x in the kernel fmt) are hex with or without 0x; others
 * are 0x-prefixed hex or decimal, optionally negative. */
static bool kv_num_base(const char *b, const char *e, const char *key, bool hex, uint64_t *ret) {
        size_t n = strlen(key);

        for (const char *p = b; (p = find(p, e, key, n)); p += n) {
                const char *v = p + n;

                if (p != b && !is_space(p[-1]))
                        continue;
                if (v < e && *v == '=') {
                        int64_t s;

                        v++;
                        if (v < e && *v == '-') {
                                if (!parse_s64(&v, e, &s))
                                        return false;
                                *ret = (uint64_t) s;
                                return v == e || is_space(*v) || *v == ',';
                        }
                        if (!(hex ? parse_hex(&v, e, ret) : parse_num(&v, e, ret)))
                                return false;
                        return v == e || is_space(*v) || *v == ',';
                }
        }
        return false;
}

static bool kv_num(const char *b, const char *e, const char *key, uint64_t *ret) {
        return kv_num_base(b, e, key, false, ret);
}

static bool kv_u32_base(const char *b, const char *e, const char *key, bool hex, uint32_t *ret) {
        uint64_t v;

        if (!kv_num_base(b, e, key, hex, &v) || v > UINT32_MAX)
                return false;
        *ret = (uint32_t) v;
        return true;
}

static bool kv_u32(const char *b, const char *e, const char *key, uint32_t *ret) {
        uint64_t v;

        if (!kv_num(b, e, key, &v) || v > UINT32_MAX)
                return false;
        *ret = (uint32_t) v;
        return true;
}

/* ------------------------------------------------------------ kvm events */

static int parse_kvm_apic_ipi(_unused_ struct text_source *t, struct line_ctx *c, struct vs_event *ev) {
        static const char *const dm_names[8] = {
                "Fixed", "LowPrio", "SMI", "Res3", "NMI", "INIT", "SIPI", "ExtINT",
        };
        static const char *const sh_names[4] = { "dst", "self", "all", "all-but-self" };
        const char *p = c->body, *e = rtrim(c->body, c->end), *parts[6];
        uint32_t dest, vec, icr = 0;
        size_t lens[5];
        unsigned i, k;

        if (STARTS(p, e, "icr_low=")) {         /* trace-cmd report -R */
                if (!kv_u32(p, e, "icr_low", &icr) || !kv_u32_base(p, e, "dest_id", true, &dest))
                        return c->why = "kvm_apic_ipi: bad raw fields", -1;
                /* libtraceevent prints icr_low through the fmt's (u8) cast: only the
                 * vector survives; refuse rather than call every IPI fixed/physical/unicast */
                if (icr <= 0xff)
                        return c->why = "kvm_apic_ipi: raw icr_low truncated to the vector (trace-cmd report -R)", -1;
                vs_event_set_icr(ev, icr, dest);
                return 1;
        }

        if (!EAT(&p, e, "dst ") || !parse_u32_hex(&p, e, &dest) ||
            !EAT(&p, e, " vec ") || !parse_u32_dec(&p, e, &vec) || vec > 0xff ||
            !EAT(&p, e, " (") || e - p < 2 || e[-1] != ')')
                return c->why = "kvm_apic_ipi: bad dst/vec", -1;

        /* "Fixed|physical|assert|edge|dst" */
        parts[0] = p;
        for (k = 1; k < 5; k++) {
                const char *bar = memchr(parts[k - 1], '|', (size_t) (e - 1 - parts[k - 1]));

                if (!bar)
                        return c->why = "kvm_apic_ipi: truncated flags", -1;
                lens[k - 1] = (size_t) (bar - parts[k - 1]);
                parts[k] = bar + 1;
        }
        lens[4] = (size_t) (e - 1 - parts[4]);

#define PART_IS(k, s) (lens[k] == strlen(s) && memcmp(parts[k], s, lens[k]) == 0)
        for (i = 0; i < 8; i++)
                if (PART_IS(0, dm_names[i]))
                        break;
        if (i == 8)
                return c->why = "kvm_apic_ipi: bad delivery mode", -1;
        icr = vec | i << 8;

        if (PART_IS(1, "logical"))
                icr |= 1u << 11;
        else if (!PART_IS(1, "physical"))
                return c->why = "kvm_apic_ipi: bad destination mode", -1;

        if (PART_IS(2, "assert"))
                icr |= 1u << 14;
        else if (!PART_IS(2, "de-assert"))
                return c->why = "kvm_apic_ipi: bad level", -1;

        if (PART_IS(3, "level"))
                icr |= 1u << 15;
        else if (!PART_IS(3, "edge"))
                return c->why = "kvm_apic_ipi: bad trigger mode", -1;

        for (i = 0; i < 4; i++)
                if (PART_IS(4, sh_names[i]))
                        break;
        if (i == 4)
                return c->why = "kvm_apic_ipi: bad shorthand", -1;
        icr |= i << 18;
#undef PART_IS

        vs_event_set_icr(ev, icr, dest);
        return 1;
}

static int parse_kvm_eoi(_unused_ struct text_source *t, struct line_ctx *c, struct vs_event *ev) {
        const char *p = c->body, *e = c->end;
        uint32_t apic;
        int32_t vector;

        if (STARTS(p, e, "apicid=")) {
                uint64_t v;

                if (!kv_u32_base(p, e, "apicid", true, &apic) || !kv_num(p, e, "vector", &v))
                        return c->why = "kvm_eoi: bad raw fields", -1;
                vector = (int32_t) v;
        } else if (!EAT(&p, e, "apicid ") || !parse_u32_hex(&p, e, &apic) ||
                   !EAT(&p, e, " vector ") || !parse_s32(&p, e, &vector) || !at_end(p, e))
                return c->why = "kvm_eoi: bad apicid/vector", -1;

        ev->type = VS_EV_EOI;
        ev->eoi.apic_id = apic;
        ev->eoi.vector = vector;
        return 1;
}

static int parse_kvm_pv_eoi(struct text_source *t, struct line_ctx *c, struct vs_event *ev) {
        int r = parse_kvm_eoi(t, c, ev);

        if (r < 0)
                c->why = "kvm_pv_eoi: bad apicid/vector";
        else
                ev->flags |= VS_EVF_PV_EOI;
        return r;
}

static int parse_kvm_vcpu_wakeup(_unused_ struct text_source *t, struct line_ctx *c, struct vs_event *ev) {
        const char *p = c->body, *e = c->end;
        uint64_t ns;
        bool waited, valid = true;

        if (STARTS(p, e, "ns=")) {
                uint64_t w, v = 1;

                if (!kv_num(p, e, "ns", &ns) || !kv_num(p, e, "waited", &w))
                        return c->why = "kvm_vcpu_wakeup: bad raw fields", -1;
                (void) kv_num(p, e, "valid", &v);
                waited = w != 0;
                valid = v != 0;
        } else {
                if (EAT(&p, e, "wait"))
                        waited = true;
                else if (EAT(&p, e, "poll"))
                        waited = false;
                else
                        return c->why = "kvm_vcpu_wakeup: expected wait|poll", -1;
                if (!EAT(&p, e, " time ") || !parse_dec(&p, e, &ns) || !EAT(&p, e, " ns"))
                        return c->why = "kvm_vcpu_wakeup: bad time", -1;
                if (EAT(&p, e, ", polling ")) {
                        if (EAT(&p, e, "valid"))
                                valid = true;
                        else if (EAT(&p, e, "invalid"))
                                valid = false;
                        else
                                return c->why = "kvm_vcpu_wakeup: bad polling", -1;
                }
                if (!at_end(p, e))
                        return c->why = "kvm_vcpu_wakeup: trailing garbage", -1;
        }

        ev->type = VS_EV_WAKEUP;
        ev->flags |= VS_EVF_KVM_WAKEUP;
        ev->wakeup.wakee_tid = c->pid;
        ev->wakeup.target_cpu = -1;
        ev->wakeup.wait_ns = ns;
        ev->wakeup.waited = waited;
        ev->wakeup.valid = valid;
        return 1;
}

/* Classify a printed exit reason [b, e).  Returns false if it is not recognisable. */
static bool classify_exit_reason(const char *b, const char *e, uint8_t *isa, uint32_t *reason) {
        const char *p = b;
        uint64_t v;

        if (b == e)
                return false;

        /* plugin_kvm: "UNKNOWN (123)"; kernel: unknown symbol printed as 0x.. */
        if (EAT(&p, e, "UNKNOWN (")) {
                if (!parse_dec(&p, e, &v) || v > UINT32_MAX || !EAT(&p, e, ")") || p != e)
                        return false;
                *isa = VS_ISA_UNKNOWN;
                *reason = (uint32_t) v;
                return true;
        }
        if (is_digit(*p)) {
                if (!parse_num(&p, e, &v) || v > UINT32_MAX || p != e)
                        return false;
                *isa = VS_ISA_UNKNOWN;
                *reason = (uint32_t) v;
                return true;
        }

#define IS(lit) ((size_t) (e - b) == sizeof(lit) - 1 && memcmp(b, lit, sizeof(lit) - 1) == 0)
        if (IS("PAUSE_INSTRUCTION")) {
                *isa = VS_ISA_VMX;
                *reason = VS_VMX_EXIT_PAUSE_INSTRUCTION;
        } else if (IS("pause") || IS("EXIT_PAUSE")) {
                *isa = VS_ISA_SVM;
                *reason = VS_SVM_EXIT_PAUSE;
        } else {
                /* Any other symbolic name ("HLT", "npf", "DE excp", "X FAILED_VMENTRY",
                 * "UNKNOWN-ISA"): not a PAUSE; the exact code is not needed. */
                *isa = VS_ISA_UNKNOWN;
                *reason = UINT32_MAX;
        }
#undef IS
        return true;
}

static int parse_kvm_exit(struct text_source *t, struct line_ctx *c, struct vs_event *ev) {
        const char *p = c->body, *e = c->end, *rip, *q;
        uint32_t vcpu = UINT32_MAX, reason;
        uint8_t isa;
        uint64_t v;

        if (STARTS(p, e, "exit_reason=")) {     /* trace-cmd report -R */
                uint64_t isa_raw = VS_ISA_UNKNOWN;

                if (!kv_u32(p, e, "exit_reason", &reason) || !kv_num_base(p, e, "guest_rip", true, &v))
                        return c->why = "kvm_exit: bad raw fields", -1;
                (void) kv_num(p, e, "isa", &isa_raw);
                (void) kv_u32(p, e, "vcpu_id", &vcpu);
                isa = isa_raw <= VS_ISA_SVM ? (uint8_t) isa_raw : VS_ISA_UNKNOWN;
        } else {
                if (EAT(&p, e, "vcpu ")) {
                        if (!parse_u32_dec(&p, e, &vcpu) || !EAT(&p, e, " "))
                                return c->why = "kvm_exit: bad vcpu", -1;
                }
                if (!EAT(&p, e, "reason "))
                        return c->why = "kvm_exit: no reason", -1;
                rip = FIND(p, e, " rip ");
                if (!rip)
                        return c->why = "kvm_exit: truncated (no rip)", -1;
                q = rip + 5;
                if (!parse_hex(&q, e, &v) || (q < e && !is_space(*q)))
                        return c->why = "kvm_exit: bad rip", -1;
                if (!classify_exit_reason(p, rtrim(p, rip), &isa, &reason))
                        return c->why = "kvm_exit: bad reason", -1;
        }

        if (vs_exit_is_pause(isa, reason)) {
                if (vcpu == UINT32_MAX) {
                        unsigned h = (uint32_t) c->pid & (VCPU_CACHE_SIZE - 1);
                        if (t->vcpus[h].tid == c->pid && c->pid > 0)
                                vcpu = t->vcpus[h].vcpu_id;
                }
                ev->type = VS_EV_EXIT_PAUSE;
                ev->pause.vcpu_id = vcpu;
                ev->pause.exit_reason = reason;
                ev->pause.isa = isa;
                return 1;
        }
        /* Other exits carry nothing kvm_entry does not, the live source
         * filters them in the kernel and the .dat source drops them: same
         * stream from every source. */
        t->base.stats.filtered++;
        return 0;
}

static int parse_kvm_entry(struct text_source *t, struct line_ctx *c, struct vs_event *ev) {
        const char *p = c->body, *e = c->end;
        uint32_t vcpu;

        if (STARTS(p, e, "vcpu_id=")) {
                if (!kv_u32(p, e, "vcpu_id", &vcpu))
                        return c->why = "kvm_entry: bad raw vcpu_id", -1;
        } else if (!EAT(&p, e, "vcpu ") || !parse_u32_dec(&p, e, &vcpu) ||
                   (p < e && *p != ',' && !is_space(*p)))
                return c->why = "kvm_entry: bad vcpu", -1;

        if (c->pid > 0) {
                unsigned h = (uint32_t) c->pid & (VCPU_CACHE_SIZE - 1);
                t->vcpus[h].tid = c->pid;
                t->vcpus[h].vcpu_id = vcpu;
        }
        ev->type = VS_EV_VCPU_ID;
        ev->vcpu.vcpu_id = vcpu;
        return 1;
}

static int parse_kvm_hypercall(struct text_source *t, struct line_ctx *c, struct vs_event *ev) {
        const char *p = c->body, *e = c->end;
        uint64_t nr, a[4];

        if (STARTS(p, e, "nr=")) {
                if (!kv_num_base(p, e, "nr", true, &nr) || !kv_num_base(p, e, "a0", true, &a[0]) ||
                    !kv_num_base(p, e, "a1", true, &a[1]) || !kv_num_base(p, e, "a2", true, &a[2]) ||
                    !kv_num_base(p, e, "a3", true, &a[3]))
                        return c->why = "kvm_hypercall: bad raw fields", -1;
        } else if (!EAT(&p, e, "nr ") || !parse_hex(&p, e, &nr) ||
                   !EAT(&p, e, " a0 ") || !parse_hex(&p, e, &a[0]) ||
                   !EAT(&p, e, " a1 ") || !parse_hex(&p, e, &a[1]) ||
                   !EAT(&p, e, " a2 ") || !parse_hex(&p, e, &a[2]) ||
                   !EAT(&p, e, " a3 ") || !parse_hex(&p, e, &a[3]) || !at_end(p, e))
                return c->why = "kvm_hypercall: bad fields", -1;

        if (nr != VS_HC_KICK_CPU && nr != VS_HC_SEND_IPI && nr != VS_HC_SCHED_YIELD) {
                t->base.stats.filtered++;
                return 0;
        }
        ev->type = VS_EV_HYPERCALL;
        ev->hc.nr = (uint32_t) nr;
        ev->hc.a0 = a[0];
        ev->hc.a1 = a[1];
        ev->hc.a2 = a[2];
        ev->hc.a3 = a[3];
        return 1;
}

static int parse_kvm_ple_window_update(_unused_ struct text_source *t, struct line_ctx *c, struct vs_event *ev) {
        const char *p = c->body, *e = c->end;
        uint32_t vcpu, old_w, new_w;

        if (STARTS(p, e, "vcpu_id=")) {
                if (!kv_u32(p, e, "vcpu_id", &vcpu) || !kv_u32(p, e, "old", &old_w) || !kv_u32(p, e, "new", &new_w))
                        return c->why = "kvm_ple_window_update: bad raw fields", -1;
        } else {
                if (!EAT(&p, e, "vcpu ") || !parse_u32_dec(&p, e, &vcpu))
                        return c->why = "kvm_ple_window_update: bad vcpu", -1;
                if (EAT(&p, e, " old ")) {
                        /* "vcpu %u old %u new %u (%s)" */
                        if (!parse_u32_dec(&p, e, &old_w) || !EAT(&p, e, " new ") ||
                            !parse_u32_dec(&p, e, &new_w) || !EAT(&p, e, " ("))
                                return c->why = "kvm_ple_window_update: bad old/new", -1;
                } else if (EAT(&p, e, ": ple_window ")) {
                        /* before 4.19: "vcpu %u: ple_window %u (%s %u)", new then old */
                        const char *sp;

                        if (!parse_u32_dec(&p, e, &new_w) || !EAT(&p, e, " ("))
                                return c->why = "kvm_ple_window_update: bad ple_window", -1;
                        e = rtrim(p, e);
                        if (e == p || e[-1] != ')' || !(sp = rfind_char(p, e - 1, ' ')))
                                return c->why = "kvm_ple_window_update: bad old window", -1;
                        sp++;
                        if (!parse_u32_dec(&sp, e - 1, &old_w) || sp != e - 1)
                                return c->why = "kvm_ple_window_update: bad old window", -1;
                } else
                        return c->why = "kvm_ple_window_update: unrecognised format", -1;
        }

        ev->type = VS_EV_PLE_WINDOW;
        ev->ple.vcpu_id = vcpu;
        ev->ple.old_window = old_w;
        ev->ple.new_window = new_w;
        return 1;
}

static int parse_kvm_avic_incomplete_ipi(_unused_ struct text_source *t, struct line_ctx *c, struct vs_event *ev) {
        const char *p = c->body, *e = c->end;
        uint32_t vcpu, icrh, icrl, id, idx;

        if (STARTS(p, e, "icrh=") || (STARTS(p, e, "vcpu=") && !FIND(p, e, "icrh:icrl="))) {
                if (!kv_u32_base(p, e, "icrh", true, &icrh) || !kv_u32_base(p, e, "icrl", true, &icrl) ||
                    !kv_u32(p, e, "id", &id) || !kv_u32(p, e, "index", &idx) || !kv_u32(p, e, "vcpu", &vcpu))
                        return c->why = "kvm_avic_incomplete_ipi: bad raw fields", -1;
        } else if (!EAT(&p, e, "vcpu=") || !parse_u32_dec(&p, e, &vcpu) ||
                   !EAT(&p, e, ", icrh:icrl=") || !parse_u32_hex(&p, e, &icrh) ||
                   !EAT(&p, e, ":") || !parse_u32_hex(&p, e, &icrl) ||
                   !EAT(&p, e, ", id=") || !parse_u32_dec(&p, e, &id) ||
                   !EAT(&p, e, ", index=") || !parse_u32_dec(&p, e, &idx) || !at_end(p, e))
                return c->why = "kvm_avic_incomplete_ipi: bad fields", -1;

        ev->type = VS_EV_AVIC_INCOMPLETE_IPI;
        ev->avic.vcpu_idx = vcpu;
        ev->avic.icrh = icrh;
        ev->avic.icrl = icrl;
        ev->avic.id = id;
        ev->avic.index = idx;
        return 1;
}

/* kernel/ patch: "spinner %u target %d reason %s result %d skipped %u mask
 * 0x%x" (the first series: "target %u", no skipped/mask), the reason one of
 * stock ipi hint pv kick (or a number a newer kernel added), target -1: no
 * target tried; -R: "spinner=1 target=0 reason=1 result=1 skipped=0
 * skipped_reasons=0". */
static int parse_kvm_directed_yield(_unused_ struct text_source *t, struct line_ctx *c, struct vs_event *ev) {
        const char *p = c->body, *e = c->end, *r;
        uint32_t spinner, target, skipped = 0, mask = 0;
        uint64_t reason;
        int32_t result;

        if (STARTS(p, e, "spinner=")) {
                uint64_t v, tv, sk = 0, mk = 0;

                if (!kv_u32(p, e, "spinner", &spinner) || !kv_num(p, e, "target", &tv) ||
                    ((int64_t) tv < -1 || (int64_t) tv > UINT32_MAX) || !kv_num(p, e, "reason", &reason) ||
                    !kv_num(p, e, "result", &v) || (int64_t) v < INT32_MIN || (int64_t) v > INT32_MAX)
                        return c->why = "kvm_directed_yield: bad raw fields", -1;
                (void) kv_num(p, e, "skipped", &sk);
                (void) kv_num(p, e, "skipped_reasons", &mk);
                if (sk > UINT16_MAX || mk > UINT8_MAX)
                        return c->why = "kvm_directed_yield: bad raw skipped fields", -1;
                target = (int64_t) tv == -1 ? VS_DY_NO_TARGET : (uint32_t) tv;
                result = (int32_t) (int64_t) v;
                skipped = (uint32_t) sk;
                mask = (uint32_t) mk;
        } else {
                int32_t st;
                int n;

                if (!EAT(&p, e, "spinner ") || !parse_u32_dec(&p, e, &spinner) || !EAT(&p, e, " target "))
                        return c->why = "kvm_directed_yield: bad spinner/target", -1;
                if (EAT(&p, e, "-1"))
                        target = VS_DY_NO_TARGET;
                else if (!parse_u32_dec(&p, e, &target))
                        return c->why = "kvm_directed_yield: bad spinner/target", -1;
                if (!EAT(&p, e, " reason "))
                        return c->why = "kvm_directed_yield: bad spinner/target", -1;
                for (r = p; p < e && !is_space(*p); p++)
                        ;
                n = vs_dy_reason_from_name(r, (size_t) (p - r));
                if (n >= 0)
                        reason = (uint64_t) n;
                else if (!parse_num(&r, p, &reason) || r != p)
                        return c->why = "kvm_directed_yield: bad reason", -1;
                if (!EAT(&p, e, " result ") || !parse_s32(&p, e, &result))
                        return c->why = "kvm_directed_yield: bad result", -1;
                if (!at_end(p, e)) {
                        const char *m;
                        uint64_t mv;

                        if (!EAT(&p, e, " skipped ") || !parse_s32(&p, e, &st) || st < 0 || st > UINT16_MAX ||
                            !EAT(&p, e, " mask "))
                                return c->why = "kvm_directed_yield: bad skipped", -1;
                        for (m = p; p < e && !is_space(*p); p++)
                                ;
                        if (!parse_num(&m, p, &mv) || m != p || mv > UINT8_MAX || !at_end(p, e))
                                return c->why = "kvm_directed_yield: bad mask", -1;
                        skipped = (uint32_t) st;
                        mask = (uint32_t) mv;
                }
        }
        ev->type = VS_EV_DIRECTED_YIELD;
        ev->dy.spinner = spinner;
        ev->dy.target = target;
        ev->dy.reason = reason < _VS_DY_MAX ? (uint8_t) reason : UINT8_MAX;
        ev->dy.result = result;
        ev->dy.skipped = (uint16_t) skipped;
        ev->dy.skipped_mask = (uint8_t) mask;
        return 1;
}

/* ------------------------------------------------------------ ftrace print */

static int handle_marker(struct text_source *t, struct line_ctx *c, const char *msg) {
        char vm[128], comm[64];
        struct vs_thread_info info;
        const char *e = c->end;

        msg = skip_ws(msg, e);
        if (!STARTS(msg, e, VS_TOPOLOGY_MARKER)) {
                t->base.stats.filtered++;
                return 0;
        }
        /* msg..end is NUL terminated (the line buffer) */
        if (vs_parse_topology_marker(msg, &info, vm, sizeof(vm), comm, sizeof(comm)) <= 0)
                return c->why = "bad vschedd-topology marker", -1;
        vs_source_emit_thread(&t->base, &info);
        return 0;
}

/* Kernel trace: "tracing_mark_write: <msg>" (the event is shown by its %ps). */
static int parse_tracing_mark_write(struct text_source *t, struct line_ctx *c, _unused_ struct vs_event *ev) {
        return handle_marker(t, c, c->body);
}

/* trace-cmd report: "print: tracing_mark_write: <msg>", -R: "ip=... buf=<msg>" */
static int parse_print(struct text_source *t, struct line_ctx *c, _unused_ struct vs_event *ev) {
        const char *b = c->body, *e = c->end, *m;

        if (STARTS(b, e, "ip=")) {
                m = FIND(b, e, " buf=");
                m = m ? m + 5 : e;
        } else {
                m = FIND(b, e, ": ");
                m = m ? m + 2 : b;
        }
        return handle_marker(t, c, m);
}

/* ------------------------------------------------------------ lines */

typedef int (*event_parser)(struct text_source *t, struct line_ctx *c, struct vs_event *ev);

static const struct {
        const char *name;
        size_t len;
        event_parser parse;
} parsers[] = {
#define P(n) { #n, sizeof(#n) - 1, parse_##n }
        P(sched_switch),
        P(kvm_exit),
        P(kvm_entry),
        P(kvm_apic_ipi),
        P(kvm_eoi),
        P(kvm_pv_eoi),
        P(sched_wakeup),
        P(kvm_vcpu_wakeup),
        P(kvm_hypercall),
        P(kvm_ple_window_update),
        P(kvm_avic_incomplete_ipi),
        P(kvm_directed_yield),
        P(tracing_mark_write),
        P(print),
#undef P
};

/* "cpus=N", "version = N", "CPU N is empty": trace-cmd report preamble. */
static bool is_meta_line(const char *p, const char *e) {
        uint64_t v;

        if (EAT(&p, e, "cpus=") || EAT(&p, e, "version = "))
                return parse_dec(&p, e, &v) && at_end(p, e);
        if (EAT(&p, e, "CPU ") && parse_dec(&p, e, &v) && EAT(&p, e, " is empty"))
                return at_end(p, e);
        return false;
}

/* "CPU:N [LOST n EVENTS]" (kernel), "CPU:N [n EVENTS DROPPED]" / "[EVENTS DROPPED]"
 * (trace-cmd), with or without the CPU prefix.  Returns true if it was one. */
static bool handle_lost_line(struct text_source *t, const char *p, const char *e) {
        uint64_t v, n = 0;

        if (EAT(&p, e, "CPU:") && (!parse_dec(&p, e, &v) || !EAT(&p, e, " ")))
                return false;
        if (!EAT(&p, e, "["))
                return false;
        if (EAT(&p, e, "LOST ")) {
                if (!parse_dec(&p, e, &n) || !EAT(&p, e, " EVENTS]"))
                        return false;
        } else if (!EAT(&p, e, "EVENTS DROPPED]")) {
                if (!parse_dec(&p, e, &n) || !EAT(&p, e, " EVENTS DROPPED]"))
                        return false;
        }
        if (!at_end(p, e))
                return false;
        t->base.stats.lost += n;
        return true;
}

/* After "[cpu]": "[flags ]timestamp: event: body".  Fills ts, name and body. */
static bool parse_after_cpu(const char *p, const char *e, uint64_t *ts,
                            const char **name, size_t *name_len, const char **body, const char **why) {
        const char *tok, *tok_end;

        if (p < e && !is_space(*p))
                return *why = "bad [cpu] column", false;
        p = skip_ws(p, e);

        tok = p;
        while (p < e && !is_space(*p))
                p++;
        tok_end = p;
        if (tok_end == tok)
                return *why = "truncated after [cpu]", false;
        if (tok_end[-1] != ':' || !parse_timestamp(tok, tok_end - 1, ts)) {
                /* that was the flags column ("d..2.", "....", "dNh4") */
                if (tok_end - tok > 8)
                        return *why = "bad flags or timestamp", false;
                p = skip_ws(p, e);
                tok = p;
                while (p < e && !is_space(*p))
                        p++;
                tok_end = p;
                if (tok_end == tok)
                        return *why = "truncated: no timestamp", false;
                if (tok_end[-1] != ':' || !parse_timestamp(tok, tok_end - 1, ts))
                        return *why = "bad timestamp", false;
        }

        p = skip_ws(p, e);
        *name = p;
        while (p < e && (is_digit(*p) || (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || *p == '_'))
                p++;
        if (p == *name || p == e || *p != ':')
                return *why = "truncated: no event name", false;
        *name_len = (size_t) (p - *name);
        *body = skip_ws(p + 1, e);
        return true;
}

/* The "comm-pid[ (tgid)]" part in front of the [cpu] column, possibly behind a
 * trace-cmd "instance: " prefix. */
static bool parse_task(const char *b, const char *e, struct line_ctx *c) {
        const char *dash, *colon;

        b = skip_ws(b, e);
        e = rtrim(b, e);

        c->tgid = -1;
        if (e > b && e[-1] == ')') {
                const char *lp = rfind_char(b, e - 1, '(');
                const char *q, *qe;

                if (!lp)
                        return c->why = "bad tgid column", false;
                q = skip_ws(lp + 1, e - 1);
                qe = rtrim(q, e - 1);
                if (q == qe)
                        return c->why = "bad tgid column", false;
                if (*q == '-') {
                        for (const char *x = q; x < qe; x++)
                                if (*x != '-')
                                        return c->why = "bad tgid column", false;
                } else if (!parse_s32_all(q, qe, &c->tgid) || c->tgid < 0)
                        return c->why = "bad tgid column", false;
                e = rtrim(b, lp);
        }

        dash = rfind_char(b, e, '-');
        if (!dash)
                return c->why = "no comm-pid", false;
        if (!parse_s32_all(dash + 1, e, &c->pid) || c->pid < 0 || dash + 1 == e || dash[1] == '-' ||
            !is_digit(dash[1]))
                return c->why = "bad pid", false;

        /* trace-cmd report -B buffers: "name: " + comm right-aligned in 16 columns,
         * so the comm is preceded by at least two blanks after the colon. */
        colon = FIND(b, dash, ":  ");
        if (colon && !memchr(b, ' ', (size_t) (colon - b)))
                b = skip_ws(colon + 1, dash);

        c->comm = b;
        c->comm_len = (size_t) (dash - b);
        return true;
}

static int parse_line(struct text_source *t, char *line, size_t n, struct vs_event *ev) {
        struct vs_source *s = &t->base;
        const char *p, *e, *q, *name = NULL, *body = NULL;
        const char *why = "no [cpu] column";
        struct line_ctx c = {};
        size_t name_len = 0;
        uint64_t ts = 0, cpu = 0;
        bool found = false;
        int r;

        while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
                n--;
        line[n] = '\0';
        p = line;
        e = line + n;

        p = skip_ws(p, e);
        if (p == e || *p == '#')
                return 0;
        if (is_meta_line(p, e) || handle_lost_line(t, p, e))
                return 0;

        s->stats.records++;

        if (memchr(line, '\0', n)) {
                malformed(t, "NUL byte in line");
                return 0;
        }

        /* The [cpu] column: the first "[digits]" after which a timestamp follows
         * (a comm may itself contain brackets). */
        for (q = p; (q = memchr(q, '[', (size_t) (e - q))); q++) {
                const char *d = q + 1, *why2 = NULL;

                if (!parse_dec(&d, e, &cpu) || d >= e || *d != ']')
                        continue;
                if (!parse_after_cpu(d + 1, e, &ts, &name, &name_len, &body, &why2)) {
                        if (!found)
                                why = why2;
                        found = true;
                        continue;
                }
                if (cpu > UINT16_MAX) {
                        malformed(t, "bad cpu number");
                        return 0;
                }
                found = true;
                break;
        }
        if (!q) {
                malformed(t, why);
                return 0;
        }

        c.end = e;
        c.body = body;
        if (!parse_task(p, q, &c)) {
                malformed(t, c.why);
                return 0;
        }

        emit_thread(t, c.pid, c.tgid, c.comm, c.comm_len, true);

        for (size_t i = 0; i < ELEMENTSOF(parsers); i++) {
                if (parsers[i].len != name_len || memcmp(parsers[i].name, name, name_len) != 0)
                        continue;

                *ev = (struct vs_event) {
                        .ts_ns = ts,
                        .tid = c.pid,
                        .cpu = (uint16_t) cpu,
                };
                r = parsers[i].parse(t, &c, ev);
                if (r < 0) {
                        malformed(t, c.why);
                        return 0;
                }
                return r;
        }

        s->stats.unknown++;
        return 0;
}

/* ------------------------------------------------------------ vs_source ops */

static int text_next(struct vs_source *s, struct vs_event *ret) {
        struct text_source *t = (struct text_source *) s;

        if (!t->f)
                return 0;

        for (;;) {
                struct vs_event ev;
                ssize_t n;
                int r;

                errno = 0;
                n = getline(&t->line, &t->line_size, t->f);
                if (n < 0) {
                        if (ferror(t->f) || errno == ENOMEM) {
                                r = errno == ENOMEM ? -ENOMEM : -EIO;
                                (void) snprintf(s->error, sizeof(s->error), "%s:%" PRIu64 ": read error: %s",
                                                t->name, t->lineno + 1, strerror(-r));
                                clearerr(t->f);
                                return r;
                        }
                        return 0;
                }
                t->lineno++;
                t->bytes_read += (uint64_t) n;

                r = parse_line(t, t->line, (size_t) n, &ev);
                if (r > 0) {
                        s->stats.events++;
                        *ret = ev;
                        return 1;
                }
        }
}

static uint64_t text_progress(struct vs_source *s, uint64_t *total) {
        struct text_source *t = (struct text_source *) s;

        *total = t->bytes_total;
        return t->bytes_read;
}

static void text_free(struct vs_source *s) {
        struct text_source *t = (struct text_source *) s;

        if (!t)
                return;
        if (t->f)
                (void) fclose(t->f);
        free(t->line);
        free(t->name);
        free(t);
}

static const struct vs_source_ops text_ops = {
        .next = text_next,
        .fd = NULL,
        .free = text_free,
        .progress = text_progress,
};

/* Takes ownership of @file on success only; on failure the caller still owns it. */
int vs_source_text_open_stream(void *file, const char *name, struct vs_source **ret) {
        struct text_source *t;
        struct stat st;
        int fd;

        if (!file || !ret)
                return -EINVAL;

        t = calloc(1, sizeof(*t));
        if (!t)
                return -ENOMEM;
        t->name = strdup(name ?: "<stream>");
        if (!t->name) {
                free(t);
                return -ENOMEM;
        }

        t->base.ops = &text_ops;
        t->base.kind = VS_SOURCE_TEXT;
        t->f = file;
        fd = fileno(t->f);      /* -1 for fmemopen() and friends */
        if (fd >= 0 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
                off_t pos = ftello(t->f);

                t->bytes_total = (uint64_t) st.st_size;
                t->bytes_read = pos > 0 ? (uint64_t) pos : 0;
        }
        /* single reader: skip stdio locking on the hot getline() path */
        (void) __fsetlocking(t->f, FSETLOCKING_BYCALLER);

        *ret = &t->base;
        return 0;
}

int vs_source_text_open(const char *path, struct vs_source **ret) {
        _cleanup_fclose_ FILE *f = NULL;
        int r;

        if (!path || !ret)
                return -EINVAL;

        f = fopen(path, "re");
        if (!f)
                return negative_errno();
        (void) setvbuf(f, NULL, _IOFBF, 256 * 1024);

        r = vs_source_text_open_stream(f, path, ret);
        if (r < 0)
                return r;
        TAKE_PTR(f);
        return 0;
}
