/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * config.c - /etc/vschedd.conf parser.  See config.h for the contract.
 *
 * libinih splits "key = value" lines and strips comments; everything else is
 * ours.  inih reads through reader(), which:
 *   - counts lines into struct parse_ctx, so the handler knows FILE:LINE
 *     (Debian builds inih without INI_HANDLER_LINENO);
 *   - rejects lines longer than inih's buffer (INI_MAX_LINE, 200 on Debian,
 *     where fgets() would silently split them) and lines with NUL bytes;
 *   - strips leading blanks, so inih never sees a Python-style continuation
 *     line (INI_ALLOW_MULTILINE is 1 on Debian);
 *   - parses "[section]" headers itself, because inih truncates section names
 *     to 49 bytes and stops at the first ']' (which breaks fnmatch brackets in
 *     [vm "db[0-9]"]), and reports lines without '=' itself, because inih only
 *     returns the first such line.
 * Lines the reader has dealt with are handed to inih as empty lines, so its
 * own line count stays in step with ours.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <ini.h>
#include <inttypes.h>
#include <locale.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vs-config.h"
#include "cpulist.h"
#include "macro.h"
#include "metrics-http.h"

enum section {
        SEC_NONE = 0,   /* before the first header */
        SEC_DAEMON,
        SEC_TRACE,
        SEC_ANALYSIS,
        SEC_POLICY,
        SEC_METRICS,
        SEC_VM,
        SEC_BAD,        /* a rejected header (already reported): its keys are skipped */
        _SEC_MAX,
};

static const char *const section_names[_SEC_MAX] = {
        [SEC_DAEMON] = "daemon",
        [SEC_TRACE] = "trace",
        [SEC_ANALYSIS] = "analysis",
        [SEC_POLICY] = "policy",
        [SEC_METRICS] = "metrics",
        [SEC_VM] = "vm",
};

enum type {
        T_BOOL,         /* bool; with F_DEFAULT "default" clears the bool at .set_offset */
        T_TRISTATE,     /* int: VS_YES, VS_NO, VS_DEFAULT */
        T_MODE,         /* enum vs_mode; with F_DEFAULT "default" = VS_MODE_INHERIT */
        T_UINT32,       /* uint32_t in [min, max]; with F_ZERO also 0 */
        T_DOUBLE,       /* double in [min, max] */
        T_STRING,       /* char *, see F_ABSOLUTE, F_EMPTY, F_FILENAME */
        T_CAPS,         /* double[VS_CAPS], each in (0, max], non-increasing */
        T_PRIORITY,     /* int: enum vs_priority; "default" = VS_PRIO_INHERIT */
};

enum {
        F_DEFAULT = 1 << 0,     /* accepts "default" (per-VM: inherit) */
        F_ZERO = 1 << 1,        /* 0 is allowed besides [min, max] */
        F_EMPTY = 1 << 2,       /* the empty string is allowed */
        F_ABSOLUTE = 1 << 3,    /* an absolute path */
        F_FILENAME = 1 << 4,    /* one path component: no '/', not "." or ".." */
        F_LISTEN = 1 << 5,      /* a numeric listen address (lib/metrics-http.h) */
        F_CPULIST = 1 << 6,     /* a CPU list (lib/cpulist.h), stored in canonical form */
};

struct item {
        enum section section;
        const char *key;
        enum type type;
        size_t offset;          /* into struct vs_config, or struct vs_vm_override for SEC_VM */
        double min, max;
        unsigned flags;
        size_t set_offset;      /* T_BOOL with F_DEFAULT: the "was set" bool */
};

#define G(f) offsetof(struct vs_config, f)
#define V(f) offsetof(struct vs_vm_override, f)
#define ITEM(s, k, t, o, lo, hi, fl) \
        { .section = s, .key = k, .type = t, .offset = o, .min = lo, .max = hi, .flags = fl }

/* The one place that knows every key.  Keep man/vschedd.conf.5 and conf/vschedd.conf in step. */
static const struct item table[] = {
        /*    section       key                        type        field                        min   max      flags */
        ITEM(SEC_DAEMON,   "mode",                    T_MODE,     G(mode),                     0,    0,       0),
        ITEM(SEC_DAEMON,   "epoch_ms",                T_UINT32,   G(epoch_ms),                 1,    1000,    0),
        ITEM(SEC_DAEMON,   "state_dir",               T_STRING,   G(state_dir),                0,    0,       F_ABSOLUTE),
        ITEM(SEC_DAEMON,   "cgroup_root",             T_STRING,   G(cgroup_root),              0,    0,       F_ABSOLUTE | F_EMPTY),
        ITEM(SEC_DAEMON,   "libvirt_uri",             T_STRING,   G(libvirt_uri),              0,    0,       F_EMPTY),
        ITEM(SEC_TRACE,    "instance",                T_STRING,   G(instance),                 0,    0,       F_FILENAME),
        ITEM(SEC_TRACE,    "buffer_kb",               T_UINT32,   G(buffer_kb),                64,   1048576, F_ZERO),
        ITEM(SEC_ANALYSIS, "ipi_window_us",           T_UINT32,   G(ipi_window_us),            1000, 1000000, 0),
        ITEM(SEC_ANALYSIS, "yield_window_us",         T_UINT32,   G(yield_window_us),          1,    100000,  0),
        ITEM(SEC_ANALYSIS, "rate_half_life_ms",       T_UINT32,   G(rate_half_life_ms),        10,   60000,   0),
        ITEM(SEC_POLICY,   "placement",               T_BOOL,     G(placement),                0,    0,       0),
        ITEM(SEC_POLICY,   "coschedule",              T_BOOL,     G(coschedule),               0,    0,       0),
        ITEM(SEC_POLICY,   "coschedule_yielding",     T_BOOL,     G(coschedule_yielding),      0,    0,       0),
        ITEM(SEC_POLICY,   "weights",                 T_BOOL,     G(weights),                  0,    0,       0),
        ITEM(SEC_POLICY,   "trigger_preempted_share", T_DOUBLE,   G(trigger_preempted_share),  0,    1,       0),
        ITEM(SEC_POLICY,   "trigger_ipi_rate",        T_UINT32,   G(trigger_ipi_rate),         0,    1000000, 0),
        ITEM(SEC_POLICY,   "trigger_vcpu_contention", T_BOOL,     G(trigger_vcpu_contention),  0,    0,       0),
        ITEM(SEC_POLICY,   "weight_min",              T_UINT32,   G(weight_min),               1,    10000,   0),
        ITEM(SEC_POLICY,   "weight_max",              T_UINT32,   G(weight_max),               1,    10000,   0),
        ITEM(SEC_POLICY,   "caps",                    T_CAPS,     G(caps),                     0,    100,     0),
        ITEM(SEC_POLICY,   "write_interval_ms",       T_UINT32,   G(write_interval_ms),        1,    10000,   0),
        ITEM(SEC_POLICY,   "hysteresis_pct",          T_UINT32,   G(hysteresis_pct),           0,    100,     0),
        ITEM(SEC_POLICY,   "decay_half_life_ms",      T_UINT32,   G(decay_half_life_ms),       1,    600000,  0),
        ITEM(SEC_POLICY,   "turn_ms",                 T_UINT32,   G(turn_ms),                  1,    10000,   0),
        ITEM(SEC_POLICY,   "max_frozen_ms",           T_UINT32,   G(max_frozen_ms),            1,    10000,   0),
        ITEM(SEC_POLICY,   "starvation_ms",           T_UINT32,   G(starvation_ms),            1,    10000,   0),
        ITEM(SEC_POLICY,   "pin_override",            T_BOOL,     G(pin_override),             0,    0,       0),
        ITEM(SEC_POLICY,   "classify",                T_BOOL,     G(classify),                 0,    0,       0),
        ITEM(SEC_POLICY,   "halt_share",              T_DOUBLE,   G(halt_share),               0,    1,       0),
        ITEM(SEC_POLICY,   "trigger_spin_rate",       T_UINT32,   G(trigger_spin_rate),        0,    1000000, 0),
        ITEM(SEC_POLICY,   "evaluate_ms",             T_UINT32,   G(evaluate_ms),              100,  60000,   0),
        ITEM(SEC_POLICY,   "min_gain_pct",            T_UINT32,   G(min_gain_pct),             0,    1000,    0),
        ITEM(SEC_POLICY,   "retry_ms",                T_UINT32,   G(retry_ms),                 0,    3600000, 0),
        ITEM(SEC_POLICY,   "priority_factor",         T_DOUBLE,   G(priority_factor),          1,    10,      0),
        ITEM(SEC_POLICY,   "reserved_cpus",           T_STRING,   G(reserved_cpus),            0,    0,       F_EMPTY | F_CPULIST),
        ITEM(SEC_POLICY,   "directed_yield",          T_BOOL,     G(directed_yield),           0,    0,       0),
        ITEM(SEC_METRICS,  "listen",                  T_STRING,   G(metrics_listen),           0,    0,       F_EMPTY | F_LISTEN),
        ITEM(SEC_VM,       "mode",                    T_MODE,     V(mode),                     0,    0,       F_DEFAULT),
        ITEM(SEC_VM,       "placement",               T_TRISTATE, V(placement),                0,    0,       0),
        ITEM(SEC_VM,       "coschedule",              T_TRISTATE, V(coschedule),               0,    0,       0),
        ITEM(SEC_VM,       "weights",                 T_TRISTATE, V(weights),                  0,    0,       0),
        ITEM(SEC_VM,       "idle",                    T_TRISTATE, V(idle),                     0,    0,       0),
        ITEM(SEC_VM,       "directed_yield",          T_TRISTATE, V(directed_yield),           0,    0,       0),
        ITEM(SEC_VM,       "weight_min",              T_UINT32,   V(weight_min),               1,    10000,   0),
        ITEM(SEC_VM,       "weight_max",              T_UINT32,   V(weight_max),               1,    10000,   0),
        { .section = SEC_VM, .key = "pin_override", .type = T_BOOL, .offset = V(pin_override),
          .flags = F_DEFAULT, .set_offset = V(pin_override_set) },
        ITEM(SEC_VM,       "priority",                T_PRIORITY, V(priority),                 0,    0,       0),
};

#define N_ITEMS ELEMENTSOF(table)

struct key_state {
        unsigned line[N_ITEMS];         /* where the key was set, 0 = not set */
        bool bad[N_ITEMS];              /* set, but the value was rejected */
};

struct parse_ctx {
        const char *path;
        FILE *f;
        unsigned line;
        enum section section;
        struct vs_config *cfg;          /* the temporary being filled */
        struct key_state global;
        struct key_state *vm_keys;      /* parallel to cfg->vms */

        char *errors;
        size_t errors_len;
        unsigned n_errors;
        unsigned n_dropped;
        int oom;                        /* -ENOMEM once an allocation failed */
        int read_error;                 /* -errno from reading the file */
        bool uncapped;                  /* for the final "... and N more errors" line */
};

static const struct item *item_find(enum section s, const char *key) {
        for (size_t i = 0; i < N_ITEMS; i++)
                if (table[i].section == s && strcmp(table[i].key, key) == 0)
                        return &table[i];
        return NULL;
}

static size_t item_index(enum section s, const char *key) {
        const struct item *it = item_find(s, key);

        return it ? (size_t) (it - table) : 0;
}

static bool is_blank(char c) {
        return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

static bool has_control(const char *s) {
        for (; *s; s++)
                if ((unsigned char) *s < 0x20 || *s == 0x7f)
                        return true;
        return false;
}

/* A copy safe to print on one line: control and non-ASCII bytes as \xNN. */
static char *escape(const char *s) {
        size_t n = strlen(s);
        char *e = malloc(n * 4 + 1), *p = e;

        if (!e)
                return NULL;
        for (; *s; s++) {
                unsigned char ch = *s;
                if (ch < 0x20 || ch >= 0x7f)
                        p += sprintf(p, "\\x%02x", ch);
                else
                        *p++ = ch;
        }
        *p = '\0';
        return e;
}

/* Append "FILE:LINE: " (or "FILE: " for line 0) + message as one error line. */
_printf_(3, 4)
static void add_error(struct parse_ctx *ctx, unsigned line, const char *fmt, ...) {
        _cleanup_free_ char *msg = NULL, *full = NULL;
        va_list ap;
        int n;

        if (ctx->n_errors >= VS_CONFIG_MAX_ERRORS && !ctx->uncapped) {
                ctx->n_dropped++;
                return;
        }

        va_start(ap, fmt);
        n = vasprintf(&msg, fmt, ap);
        va_end(ap);
        if (n < 0) {
                msg = NULL;
                ctx->oom = -ENOMEM;
                return;
        }

        if (line > 0)
                n = asprintf(&full, "%s%s:%u: %s", ctx->errors ? "\n" : "", ctx->path, line, msg);
        else
                n = asprintf(&full, "%s%s: %s", ctx->errors ? "\n" : "", ctx->path, msg);
        if (n < 0) {
                full = NULL;
                ctx->oom = -ENOMEM;
                return;
        }

        char *grown = realloc(ctx->errors, ctx->errors_len + (size_t) n + 1);
        if (!grown) {
                ctx->oom = -ENOMEM;
                return;
        }
        memcpy(grown + ctx->errors_len, full, (size_t) n + 1);
        ctx->errors = grown;
        ctx->errors_len += (size_t) n;
        ctx->n_errors++;
}

/* "FILE:LINE: key 'KEY': REASON" */
_printf_(4, 5)
static void key_error(struct parse_ctx *ctx, unsigned line, const char *key, const char *fmt, ...) {
        _cleanup_free_ char *reason = NULL, *k = NULL;
        va_list ap;
        int n;

        va_start(ap, fmt);
        n = vasprintf(&reason, fmt, ap);
        va_end(ap);
        k = escape(key);
        if (n < 0 || !k) {
                if (n < 0)
                        reason = NULL;
                ctx->oom = -ENOMEM;
                return;
        }
        add_error(ctx, line, "key '%s': %s", k, reason);
}

/* ---------------------------------------------------------------- values */

/* Digits only (no sign, blanks, or base prefix), within uint32_t. */
static int parse_u32(const char *v, uint32_t *ret) {
        unsigned long long x;
        char *end;

        if (!isdigit((unsigned char) v[0]))
                return -EINVAL;
        errno = 0;
        x = strtoull(v, &end, 10);
        if (*end != '\0')
                return -EINVAL;
        if (errno == ERANGE || x > UINT32_MAX)
                return -ERANGE;
        *ret = (uint32_t) x;
        return 0;
}

/*
 * A finite decimal number, optionally with an exponent ("0.2", "1e-05"): no
 * sign, no blanks, no inf/nan/hex.  The caller runs in the C numeric locale.
 */
static int parse_number(const char *v, double *ret) {
        char *end;
        double d;

        if (!isdigit((unsigned char) v[0]) && !(v[0] == '.' && isdigit((unsigned char) v[1])))
                return -EINVAL;
        if (v[strspn(v, "0123456789.eE+-")] != '\0')
                return -EINVAL;
        errno = 0;
        d = strtod(v, &end);
        if (*end != '\0' || errno == ERANGE || !isfinite(d))
                return -EINVAL;
        *ret = d;
        return 0;
}

static bool out_of_range(const struct item *it, double x) {
        if ((it->flags & F_ZERO) && x == 0)
                return false;
        return x < it->min || x > it->max;
}

static void range_error(struct parse_ctx *ctx, const struct item *it, const char *key, const char *v) {
        _cleanup_free_ char *e = escape(v);

        if (!e) {
                ctx->oom = -ENOMEM;
                return;
        }
        if (it->type == T_DOUBLE)
                key_error(ctx, ctx->line, key, "value '%s' out of range (min %g, max %g)", e, it->min, it->max);
        else if (it->flags & F_ZERO)
                key_error(ctx, ctx->line, key, "value '%s' out of range (0, or min %.0f, max %.0f)", e,
                          it->min, it->max);
        else
                key_error(ctx, ctx->line, key, "value '%s' out of range (min %.0f, max %.0f)", e, it->min, it->max);
}

static int parse_caps(struct parse_ctx *ctx, const struct item *it, const char *key, const char *v, double *ret) {
        _cleanup_free_ char *copy = strdup(v), *e = NULL;
        double caps[VS_CAPS];
        size_t n = 0;
        char *tok, *save = NULL;

        if (!copy)
                return (ctx->oom = -ENOMEM);

        /* count first: "expected 6 numbers, got N" is the clearest message */
        for (const char *p = v; *p; p++)
                n += *p == ',';
        if (n + 1 != VS_CAPS) {
                key_error(ctx, ctx->line, key, "expected %d comma-separated numbers, got %zu", VS_CAPS, n + 1);
                return -EINVAL;
        }

        n = 0;
        for (char *s = copy;; s = NULL) {
                tok = strtok_r(s, ",", &save);
                if (!tok)
                        break;
                while (is_blank(*tok))
                        tok++;
                for (char *t = tok + strlen(tok); t > tok && is_blank(t[-1]); t--)
                        t[-1] = '\0';

                e = escape(tok);
                if (!e)
                        return (ctx->oom = -ENOMEM);
                if (parse_number(tok, &caps[n]) < 0) {
                        key_error(ctx, ctx->line, key, "invalid number '%s' in the list", e);
                        return -EINVAL;
                }
                if (caps[n] <= 0 || caps[n] > it->max) {
                        key_error(ctx, ctx->line, key, "value '%s' out of range (more than 0, max %g)", e, it->max);
                        return -EINVAL;
                }
                if (n > 0 && caps[n] > caps[n - 1]) {
                        key_error(ctx, ctx->line, key, "values must not increase: '%s' after %g", e, caps[n - 1]);
                        return -EINVAL;
                }
                free(e);
                e = NULL;
                n++;
        }
        if (n != VS_CAPS) { /* empty items: ",,", leading or trailing ',' */
                key_error(ctx, ctx->line, key, "empty item in the list");
                return -EINVAL;
        }
        memcpy(ret, caps, sizeof(caps));
        return 0;
}

static int parse_value(struct parse_ctx *ctx, const struct item *it, void *base, const char *key, const char *v) {
        _cleanup_free_ char *e = escape(v);
        void *field = (char *) base + it->offset;
        bool dflt = (it->flags & F_DEFAULT) && strcmp(v, "default") == 0;
        int r;

        if (!e)
                return (ctx->oom = -ENOMEM);

        if (v[0] == '\0' && !(it->type == T_STRING && (it->flags & F_EMPTY))) {
                key_error(ctx, ctx->line, key, "missing value");
                return -EINVAL;
        }

        switch (it->type) {
        case T_BOOL:
                if (dflt) {
                        *(bool *) ((char *) base + it->set_offset) = false;
                        *(bool *) field = false;
                        return 0;
                }
                r = vs_parse_bool(v);
                if (r < 0) {
                        key_error(ctx, ctx->line, key, "invalid boolean '%s' (%s)", e,
                                  it->flags & F_DEFAULT ? "yes, no or default" : "yes/no, true/false, on/off, 1/0");
                        return r;
                }
                *(bool *) field = r;
                if (it->flags & F_DEFAULT)
                        *(bool *) ((char *) base + it->set_offset) = true;
                return 0;

        case T_TRISTATE:
                if (strcmp(v, "default") == 0) {
                        *(int *) field = VS_DEFAULT;
                        return 0;
                }
                r = vs_parse_bool(v);
                if (r < 0) {
                        key_error(ctx, ctx->line, key, "invalid value '%s' (yes, no or default)", e);
                        return r;
                }
                *(int *) field = r ? VS_YES : VS_NO;
                return 0;

        case T_MODE:
                if (dflt) {
                        *(enum vs_mode *) field = VS_MODE_INHERIT;
                        return 0;
                }
                r = vs_mode_from_name(v);
                if (r < 0) {
                        key_error(ctx, ctx->line, key, "invalid mode '%s' (off, observe%s enforce%s)", e,
                                  it->flags & F_DEFAULT ? "," : " or", it->flags & F_DEFAULT ? " or default" : "");
                        return r;
                }
                *(enum vs_mode *) field = r;
                return 0;

        case T_UINT32: {
                uint32_t x;

                r = parse_u32(v, &x);
                if (r == -EINVAL) {
                        key_error(ctx, ctx->line, key, "invalid integer '%s'", e);
                        return r;
                }
                if (r < 0 || out_of_range(it, x)) {
                        range_error(ctx, it, key, v);
                        return -ERANGE;
                }
                *(uint32_t *) field = x;
                return 0;
        }

        case T_DOUBLE: {
                double d;

                r = parse_number(v, &d);
                if (r < 0) {
                        key_error(ctx, ctx->line, key, "invalid number '%s'", e);
                        return r;
                }
                if (out_of_range(it, d)) {
                        range_error(ctx, it, key, v);
                        return -ERANGE;
                }
                *(double *) field = d;
                return 0;
        }

        case T_STRING: {
                char *s;

                if (has_control(v)) {
                        key_error(ctx, ctx->line, key, "'%s' contains a control character", e);
                        return -EINVAL;
                }
                if ((it->flags & F_ABSOLUTE) && v[0] != '\0' && v[0] != '/') {
                        key_error(ctx, ctx->line, key, "'%s' is not an absolute path", e);
                        return -EINVAL;
                }
                if ((it->flags & F_FILENAME) && strchr(v, '/')) {
                        key_error(ctx, ctx->line, key, "'%s' must not contain '/'", e);
                        return -EINVAL;
                }
                if ((it->flags & F_FILENAME) && (strcmp(v, ".") == 0 || strcmp(v, "..") == 0)) {
                        key_error(ctx, ctx->line, key, "'%s' is not a valid name", e);
                        return -EINVAL;
                }
                if ((it->flags & F_LISTEN) && v[0] != '\0') {
                        const char *why = NULL;
                        if (vs_listen_address_parse(v, NULL, NULL, &why) < 0) {
                                key_error(ctx, ctx->line, key, "invalid listen address '%s': %s", e, why);
                                return -EINVAL;
                        }
                }
                if (it->flags & F_CPULIST) {
                        struct vs_cpumask m;
                        char canon[4096];
                        const char *why = NULL;
                        if (vs_cpulist_parse(v, &m, &why) < 0) {
                                key_error(ctx, ctx->line, key, "invalid CPU list '%s': %s", e, why);
                                return -EINVAL;
                        }
                        if (vs_cpulist_format(&m, canon, sizeof(canon)) < 0) {
                                key_error(ctx, ctx->line, key, "CPU list '%s' too long", e);
                                return -EINVAL;
                        }
                        s = strdup(canon);
                } else
                        s = strdup(v);
                if (!s)
                        return (ctx->oom = -ENOMEM);
                free(*(char **) field);
                *(char **) field = s;
                return 0;
        }

        case T_CAPS:
                return parse_caps(ctx, it, key, v, field);

        case T_PRIORITY:
                if (strcmp(v, "default") == 0) {
                        *(int *) field = VS_PRIO_INHERIT;
                        return 0;
                }
                r = vs_priority_from_name(v);
                if (r < 0) {
                        key_error(ctx, ctx->line, key, "invalid priority '%s' (high, normal, low or default)", e);
                        return r;
                }
                *(int *) field = r;
                return 0;
        }
        return -EINVAL;
}

/* ---------------------------------------------------------------- inih glue */

static int handler(void *user, const char *section, const char *name, const char *value) {
        struct parse_ctx *ctx = user;
        struct key_state *ks;
        const struct item *it;
        void *base;
        size_t i;

        /* inih's @section is unused: the reader tracks sections (see the top of the file) */
        if (ctx->section == SEC_BAD)
                return 1;
        if (name[0] == '\0') {
                add_error(ctx, ctx->line, "missing key name before '='");
                return 1;
        }
        if (ctx->section == SEC_NONE) {
                key_error(ctx, ctx->line, name, "not in a section (add [daemon], [trace], ... above it)");
                return 1;
        }

        if (ctx->section == SEC_VM) {
                ks = &ctx->vm_keys[ctx->cfg->n_vms - 1];
                base = &ctx->cfg->vms[ctx->cfg->n_vms - 1];
        } else {
                ks = &ctx->global;
                base = ctx->cfg;
        }

        it = item_find(ctx->section, name);
        if (!it) {
                if (ctx->section == SEC_VM) {
                        _cleanup_free_ char *p = escape(ctx->cfg->vms[ctx->cfg->n_vms - 1].pattern);
                        if (!p) {
                                ctx->oom = -ENOMEM;
                                return 1;
                        }
                        key_error(ctx, ctx->line, name, "unknown key in section [vm \"%s\"]", p);
                } else
                        key_error(ctx, ctx->line, name, "unknown key in section [%s]",
                                  section_names[ctx->section]);
                return 1;
        }

        i = (size_t) (it - table);
        if (ks->line[i] > 0) {
                key_error(ctx, ctx->line, name, "already set at line %u", ks->line[i]);
                return 1;
        }
        ks->line[i] = ctx->line;
        if (parse_value(ctx, it, base, name, value) < 0)
                ks->bad[i] = true;
        return 1;
}

static int vm_section_new(struct parse_ctx *ctx, const char *pattern) {
        struct vs_vm_override *vms;
        struct key_state *ks;
        char *p;

        p = strdup(pattern);
        if (!p)
                return -ENOMEM;
        vms = reallocarray(ctx->cfg->vms, ctx->cfg->n_vms + 1, sizeof(*vms));
        if (!vms) {
                free(p);
                return -ENOMEM;
        }
        ctx->cfg->vms = vms;
        ks = reallocarray(ctx->vm_keys, ctx->cfg->n_vms + 1, sizeof(*ks));
        if (!ks) {
                free(p);
                return -ENOMEM;
        }
        ctx->vm_keys = ks;

        vms[ctx->cfg->n_vms] = (struct vs_vm_override) {
                .pattern = p,
                .mode = VS_MODE_INHERIT,
                .placement = VS_DEFAULT,
                .coschedule = VS_DEFAULT,
                .weights = VS_DEFAULT,
                .idle = VS_DEFAULT,
                .priority = VS_PRIO_INHERIT,
                .directed_yield = VS_DEFAULT,
                .line = ctx->line,
        };
        ks[ctx->cfg->n_vms] = (struct key_state) {};
        ctx->cfg->n_vms++;
        return 0;
}

/* @p points at '['.  Sets ctx->section; SEC_BAD after an error. */
static void parse_section(struct parse_ctx *ctx, char *p) {
        _cleanup_free_ char *e = NULL;
        char *name, *end, *rest;

        ctx->section = SEC_BAD;
        p++;
        while (is_blank(*p))
                p++;

        if (strncmp(p, "vm", 2) == 0 && (is_blank(p[2]) || p[2] == '"')) {
                char *open = p + 2, *close = NULL;

                while (is_blank(*open))
                        open++;
                /* the pattern ends at the last '"' followed (after blanks) by ']' */
                for (char *q = open + 1; *open == '"' && *q; q++)
                        if (*q == '"') {
                                char *r = q + 1;
                                while (is_blank(*r))
                                        r++;
                                if (*r == ']')
                                        close = q;
                        }
                if (!close) {
                        end = strrchr(p, ']');
                        if (end)
                                *end = '\0';
                        e = escape(p);
                        if (!e)
                                goto oom;
                        add_error(ctx, ctx->line, "section [%s]: expected [vm \"PATTERN\"]", e);
                        return;
                }
                *close = '\0';
                name = open + 1;
                rest = strchr(close + 1, ']') + 1;
                e = escape(name);
                if (!e)
                        goto oom;
                while (is_blank(*rest))
                        rest++;
                if (*rest != '\0' && *rest != ';' && *rest != '#') {
                        add_error(ctx, ctx->line, "section [vm \"%s\"]: unexpected text after ']'", e);
                        return;
                }
                if (name[0] == '\0') {
                        add_error(ctx, ctx->line, "section [vm \"\"]: empty VM pattern");
                        return;
                }
                if (has_control(name)) {
                        add_error(ctx, ctx->line, "section [vm \"%s\"]: VM pattern contains a control character", e);
                        return;
                }
                for (size_t i = 0; i < ctx->cfg->n_vms; i++)
                        if (strcmp(ctx->cfg->vms[i].pattern, name) == 0) {
                                add_error(ctx, ctx->line, "section [vm \"%s\"]: duplicate section (first at line %u)",
                                          e, ctx->cfg->vms[i].line);
                                return;
                        }
                if (vm_section_new(ctx, name) < 0)
                        goto oom;
                ctx->section = SEC_VM;
                return;
        }

        end = strchr(p, ']');
        if (!end) {
                add_error(ctx, ctx->line, "invalid section header: missing ']'");
                return;
        }
        *end = '\0';
        rest = end + 1;
        name = p;
        while (end > name && is_blank(end[-1]))
                *--end = '\0';
        e = escape(name);
        if (!e)
                goto oom;
        while (is_blank(*rest))
                rest++;
        if (*rest != '\0' && *rest != ';' && *rest != '#') {
                add_error(ctx, ctx->line, "section [%s]: unexpected text after ']'", e);
                return;
        }
        if (strcmp(name, "vm") == 0 || strncmp(name, "vm ", 3) == 0) {
                add_error(ctx, ctx->line, "section [%s]: expected [vm \"PATTERN\"]", e);
                return;
        }
        for (enum section s = SEC_DAEMON; s < SEC_VM; s++)
                if (strcmp(name, section_names[s]) == 0) {
                        ctx->section = s;
                        return;
                }
        add_error(ctx, ctx->line,
                  "section [%s]: unknown section (expected daemon, trace, analysis, policy, metrics or vm \"PATTERN\")", e);
        return;
oom:
        ctx->oom = -ENOMEM;
}

/* inih's separator search: the first '=' or ':' before an inline ';' comment. */
static bool has_separator(const char *s) {
        bool was_blank = false;

        for (; *s; s++) {
                if (*s == '=' || *s == ':')
                        return true;
                if (was_blank && *s == ';')
                        return false;
                was_blank = is_blank(*s);
        }
        return false;
}

/* fgets()-like, see the top of the file. */
static char *reader(char *str, int num, void *stream) {
        struct parse_ctx *ctx = stream;
        size_t len = 0, cap = num > 0 ? (size_t) num : 1;
        bool nul = false, any = false;
        char *p;
        int ch;

        while ((ch = getc(ctx->f)) != EOF) {
                any = true;
                if (ch == '\n')
                        break;
                if (ch == '\0')
                        nul = true;
                if (len + 1 < cap)
                        str[len] = (char) ch;
                len++;
        }
        if (ch == EOF && ferror(ctx->f)) {
                ctx->read_error = negative_errno();
                return NULL;
        }
        if (!any)
                return NULL;
        ctx->line++;
        str[len + 1 < cap ? len : cap - 1] = '\0';

        if (nul) {
                add_error(ctx, ctx->line, "line contains a NUL byte");
                str[0] = '\0';
                return str;
        }
        if (len + 1 > cap) {
                add_error(ctx, ctx->line, "line too long (%zu bytes, at most %zu)", len, cap - 1);
                str[0] = '\0';
                return str;
        }

        p = str;
        if (ctx->line == 1 && strncmp(p, "\xef\xbb\xbf", 3) == 0)
                p += 3;
        while (is_blank(*p))
                p++;
        memmove(str, p, strlen(p) + 1);        /* no leading blanks: no continuation lines */

        if (str[0] == '\0' || str[0] == ';' || str[0] == '#')
                return str;
        if (str[0] == '[') {
                parse_section(ctx, str);
                str[0] = '\0';
                return str;
        }
        if (!has_separator(str)) {
                add_error(ctx, ctx->line, "syntax error: expected 'key = value', '[section]' or a comment");
                str[0] = '\0';
        }
        return str;
}

/* ---------------------------------------------------------------- cross-field checks */

/* The line of the key to blame: @a if set in the file, else @b. 0 if neither (defaults never conflict). */
static unsigned blame(const struct key_state *ks, size_t a, size_t b, size_t *ret) {
        if (ks->line[a] > 0) {
                *ret = a;
                return ks->line[a];
        }
        *ret = b;
        return ks->line[b];
}

static void check_order(struct parse_ctx *ctx, enum section s, const char *lo_key, const char *hi_key,
                        uint32_t lo, uint32_t hi) {
        size_t lo_i = item_index(s, lo_key), hi_i = item_index(s, hi_key), i;
        unsigned line;

        if (lo <= hi || ctx->global.bad[lo_i] || ctx->global.bad[hi_i])
                return;
        line = blame(&ctx->global, hi_i, lo_i, &i);
        if (line == 0)
                return;
        if (i == hi_i)
                key_error(ctx, line, hi_key, "%" PRIu32 " is less than %s %" PRIu32, hi, lo_key, lo);
        else
                key_error(ctx, line, lo_key, "%" PRIu32 " is greater than %s %" PRIu32, lo, hi_key, hi);
}

static void cross_check(struct parse_ctx *ctx) {
        const struct vs_config *c = ctx->cfg;
        size_t min_i = item_index(SEC_POLICY, "weight_min"), max_i = item_index(SEC_POLICY, "weight_max");
        size_t vmin_i = item_index(SEC_VM, "weight_min"), vmax_i = item_index(SEC_VM, "weight_max");

        check_order(ctx, SEC_POLICY, "weight_min", "weight_max", c->weight_min, c->weight_max);
        check_order(ctx, SEC_POLICY, "turn_ms", "max_frozen_ms", c->turn_ms, c->max_frozen_ms);
        /* the starvation guard runs once per epoch */
        if (c->starvation_ms < c->epoch_ms && !ctx->global.bad[item_index(SEC_POLICY, "starvation_ms")] &&
            !ctx->global.bad[item_index(SEC_DAEMON, "epoch_ms")]) {
                unsigned sl = ctx->global.line[item_index(SEC_POLICY, "starvation_ms")];
                unsigned el = ctx->global.line[item_index(SEC_DAEMON, "epoch_ms")];

                if (sl > 0)
                        key_error(ctx, sl, "starvation_ms", "%" PRIu32 " is less than epoch_ms %" PRIu32,
                                  c->starvation_ms, c->epoch_ms);
                else if (el > 0)
                        key_error(ctx, el, "epoch_ms", "%" PRIu32 " is greater than starvation_ms %" PRIu32,
                                  c->epoch_ms, c->starvation_ms);
        }

        /* per VM, after inheritance; skipped when a global bound is itself wrong */
        if (ctx->global.bad[min_i] || ctx->global.bad[max_i] || c->weight_min > c->weight_max)
                return;
        for (size_t v = 0; v < c->n_vms; v++) {
                const struct vs_vm_override *o = &c->vms[v];
                const struct key_state *ks = &ctx->vm_keys[v];
                uint32_t lo = o->weight_min ?: c->weight_min, hi = o->weight_max ?: c->weight_max;
                size_t i;
                unsigned line;

                if (lo <= hi || ks->bad[vmin_i] || ks->bad[vmax_i])
                        continue;
                line = blame(ks, vmax_i, vmin_i, &i);
                if (line == 0)
                        continue;
                if (i == vmin_i)
                        key_error(ctx, line, "weight_min", "%" PRIu32 " is greater than weight_max %" PRIu32 "%s",
                                  lo, hi, o->weight_max ? "" : " (inherited from [policy])");
                else
                        key_error(ctx, line, "weight_max", "%" PRIu32 " is less than weight_min %" PRIu32 "%s",
                                  hi, lo, o->weight_min ? "" : " (inherited from [policy])");
        }
}

/* ---------------------------------------------------------------- public */

int vs_config_init(struct vs_config *c) {
        static const double caps[VS_CAPS] = { 6, 4, 2.5, 2, 1.5, 1 };

        *c = (struct vs_config) {
                .mode = VS_MODE_OBSERVE,
                .epoch_ms = 20,
                .state_dir = strdup("/run/vschedd"),
                .cgroup_root = strdup(""),
                .libvirt_uri = strdup("qemu:///system"),
                .metrics_listen = strdup(""),
                .reserved_cpus = strdup(""),
                .instance = strdup("vschedd"),
                .buffer_kb = 0,
                .ipi_window_us = 50000,
                .yield_window_us = 600,
                .rate_half_life_ms = 1000,
                .placement = true,
                .coschedule = true,
                .coschedule_yielding = false,
                .weights = false,
                .trigger_preempted_share = 0.2,
                .trigger_ipi_rate = 50,
                .trigger_vcpu_contention = true,
                .weight_min = 10,
                .weight_max = 1000,
                .write_interval_ms = 6,
                .hysteresis_pct = 10,
                .decay_half_life_ms = 500,
                .turn_ms = 20,
                .max_frozen_ms = 100,
                .starvation_ms = 50,
                .pin_override = false,
                .classify = true,
                .halt_share = 0.1,
                .trigger_spin_rate = 100,
                .evaluate_ms = 1000,
                .min_gain_pct = 5,
                .retry_ms = 30000,
                .priority_factor = 2,
                .directed_yield = false,
        };
        memcpy(c->caps, caps, sizeof(caps));
        if (!c->state_dir || !c->cgroup_root || !c->instance || !c->libvirt_uri || !c->metrics_listen ||
            !c->reserved_cpus) {
                vs_config_done(c);
                return -ENOMEM;
        }
        return 0;
}

void vs_config_done(struct vs_config *c) {
        if (!c)
                return;
        free(c->state_dir);
        free(c->cgroup_root);
        free(c->libvirt_uri);
        free(c->instance);
        free(c->metrics_listen);
        free(c->reserved_cpus);
        for (size_t i = 0; i < c->n_vms; i++)
                free(c->vms[i].pattern);
        free(c->vms);
        *c = (struct vs_config) {};
}

int vs_config_forget_runtime_vm(struct vs_config *c, const char *name) {
        size_t k = 0, n = c->n_vms;

        for (size_t i = 0; i < n; i++) {
                if (c->vms[i].line == 0 && c->vms[i].pattern && strcmp(c->vms[i].pattern, name) == 0) {
                        free(c->vms[i].pattern);
                        continue;
                }
                c->vms[k++] = c->vms[i];
        }
        c->n_vms = k;
        return (int) (n - k);
}

static void set_errors(char **errors, char *text) {
        if (errors)
                *errors = text;
        else
                free(text);
}

_printf_(3, 4)
static int file_error(char **errors, int r, const char *fmt, ...) {
        char *text = NULL;
        va_list ap;

        va_start(ap, fmt);
        errno = -r;     /* for %m */
        if (vasprintf(&text, fmt, ap) < 0)
                text = NULL;
        va_end(ap);
        set_errors(errors, text);
        return r;
}

int vs_config_load(struct vs_config *c, const char *path, char **errors) {
        _cleanup_close_ int fd = -EBADF;
        _cleanup_fclose_ FILE *f = NULL;
        _cleanup_free_ struct key_state *vm_keys = NULL;
        struct vs_config tmp;
        struct stat st;
        locale_t cloc, old;
        int r, ir;

        if (errors)
                *errors = NULL;

        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return file_error(errors, negative_errno(), "%s: cannot open: %m", path);
        if (fstat(fd, &st) < 0)
                return file_error(errors, negative_errno(), "%s: cannot stat: %m", path);
        if (S_ISDIR(st.st_mode))
                return file_error(errors, -EISDIR, "%s: is a directory", path);
        if (!S_ISREG(st.st_mode))
                return file_error(errors, -EINVAL, "%s: not a regular file", path);
        /* the daemon runs as root: whoever can write the file steers it */
        if (st.st_mode & S_IWOTH)
                return file_error(errors, -EPERM, "%s: refusing a world-writable configuration file (mode %04o)",
                                  path, (unsigned) (st.st_mode & 07777));
        if (st.st_uid != 0 && st.st_uid != geteuid())
                return file_error(errors, -EPERM,
                                  "%s: refusing a configuration file owned by uid %u (neither root nor the caller)",
                                  path, (unsigned) st.st_uid);
        if ((st.st_mode & S_IWGRP) && st.st_uid != 0)
                return file_error(errors, -EPERM,
                                  "%s: refusing a group-writable configuration file not owned by root (mode %04o, uid %u)",
                                  path, (unsigned) (st.st_mode & 07777), (unsigned) st.st_uid);

        f = fdopen(fd, "r");
        if (!f)
                return file_error(errors, negative_errno(), "%s: %m", path);
        TAKE_FD(fd);

        r = vs_config_init(&tmp);
        if (r < 0)
                return r;

        struct parse_ctx ctx = {
                .path = path,
                .f = f,
                .cfg = &tmp,
        };

        /* numbers are parsed and formatted the same whatever the caller's LC_NUMERIC */
        cloc = newlocale(LC_NUMERIC_MASK, "C", (locale_t) 0);
        if (cloc == (locale_t) 0) {
                vs_config_done(&tmp);
                return -ENOMEM;
        }
        old = uselocale(cloc);
        ir = ini_parse_stream(reader, &ctx, handler, &ctx);
        if (ir > 0 && ctx.n_errors == 0)        /* cannot happen, but never lose an error */
                add_error(&ctx, (unsigned) ir, "syntax error");
        if (ir == -2)
                ctx.oom = -ENOMEM;
        cross_check(&ctx);
        uselocale(old);
        freelocale(cloc);
        vm_keys = ctx.vm_keys;

        if (ctx.oom < 0 || ctx.read_error < 0) {
                vs_config_done(&tmp);
                free(ctx.errors);
                if (ctx.oom < 0)
                        return ctx.oom;
                return file_error(errors, ctx.read_error, "%s: read error: %m", path);
        }
        if (ctx.n_dropped > 0) {
                ctx.uncapped = true;
                add_error(&ctx, 0, "... and %u more errors", ctx.n_dropped);
                if (ctx.oom < 0) {
                        vs_config_done(&tmp);
                        free(ctx.errors);
                        return ctx.oom;
                }
        }
        if (ctx.n_errors > 0) {
                vs_config_done(&tmp);
                set_errors(errors, ctx.errors);
                return -EINVAL;
        }

        vs_config_done(c);
        *c = tmp;
        return 0;
}

void vs_config_vm(const struct vs_config *c, const char *name, struct vs_vm_policy *ret) {
        const struct vs_vm_override *o = NULL;

        for (size_t i = 0; i < c->n_vms; i++)
                if (fnmatch(c->vms[i].pattern, name, 0) == 0) {
                        o = &c->vms[i];
                        break;
                }

        *ret = (struct vs_vm_policy) {
                .mode = c->mode,
                .placement = c->placement,
                .coschedule = c->coschedule,
                .weights = c->weights,
                .pin_override = c->pin_override,
                .directed_yield = c->directed_yield,
                .idle = -1,
                .weight_min = c->weight_min,
                .weight_max = c->weight_max,
                .priority = VS_PRIO_NORMAL,
        };
        if (!o)
                return;
        if (o->priority >= VS_PRIO_LOW && o->priority < _VS_PRIO_MAX)
                ret->priority = o->priority;
        if (o->mode != VS_MODE_INHERIT)
                ret->mode = o->mode;
        if (o->placement != VS_DEFAULT)
                ret->placement = o->placement;
        if (o->coschedule != VS_DEFAULT)
                ret->coschedule = o->coschedule;
        if (o->weights != VS_DEFAULT)
                ret->weights = o->weights;
        if (o->pin_override_set)
                ret->pin_override = o->pin_override;
        if (o->idle != VS_DEFAULT)
                ret->idle = o->idle;
        if (o->directed_yield != VS_DEFAULT)
                ret->directed_yield = o->directed_yield;
        if (o->weight_min > 0)
                ret->weight_min = o->weight_min;
        if (o->weight_max > 0)
                ret->weight_max = o->weight_max;
}

/* ---------------------------------------------------------------- print */

/* The shortest %g form that reads back to the same double. */
static void format_double(char buf[static 32], double d) {
        for (int prec = 1; prec <= 17; prec++) {
                snprintf(buf, 32, "%.*g", prec, d);
                if (strtod(buf, NULL) == d)
                        return;
        }
}

/* Can inih hand @s back unchanged as a value? */
static bool printable_value(const char *s) {
        size_t n;

        if (!s)
                return true;
        n = strlen(s);
        if (has_control(s) || (n > 0 && (is_blank(s[0]) || is_blank(s[n - 1]))))
                return false;
        /* printed after "key = ": a leading ';' would follow a blank and
         * load back as an inline comment (found by fuzz-config) */
        if (s[0] == ';')
                return false;
        for (size_t i = 1; i < n; i++)
                if (s[i] == ';' && is_blank(s[i - 1]))
                        return false;
        return true;
}

static bool vm_key_set(const struct vs_vm_override *o, const struct item *it) {
        const void *field = (const char *) o + it->offset;

        switch (it->type) {
        case T_MODE:
                return *(const enum vs_mode *) field != VS_MODE_INHERIT;
        case T_TRISTATE:
                return *(const int *) field != VS_DEFAULT;
        case T_UINT32:
                return *(const uint32_t *) field != 0;
        case T_BOOL:
                return *(const bool *) ((const char *) o + it->set_offset);
        case T_PRIORITY:
                return *(const int *) field != VS_PRIO_INHERIT;
        default:
                return true;
        }
}

static void print_items(FILE *f, enum section s, const void *base) {
        char buf[32];

        for (size_t i = 0; i < N_ITEMS; i++) {
                const struct item *it = &table[i];
                const void *field = (const char *) base + it->offset;

                if (it->section != s)
                        continue;
                if (s == SEC_VM && !vm_key_set(base, it))
                        continue;

                fprintf(f, "%s =%s", it->key,
                        it->type == T_STRING && !(*(char *const *) field && **(char *const *) field) ? "" : " ");
                switch (it->type) {
                case T_BOOL:
                        fputs(*(const bool *) field ? "yes" : "no", f);
                        break;
                case T_TRISTATE:
                        fputs(*(const int *) field == VS_DEFAULT ? "default" : *(const int *) field ? "yes" : "no", f);
                        break;
                case T_MODE:
                        fputs(vs_mode_name(*(const enum vs_mode *) field) ?: "default", f);
                        break;
                case T_UINT32:
                        fprintf(f, "%" PRIu32, *(const uint32_t *) field);
                        break;
                case T_DOUBLE:
                        format_double(buf, *(const double *) field);
                        fputs(buf, f);
                        break;
                case T_STRING:
                        fputs(*(char *const *) field ?: "", f);
                        break;
                case T_CAPS:
                        for (size_t k = 0; k < VS_CAPS; k++) {
                                format_double(buf, ((const double *) field)[k]);
                                fprintf(f, "%s%s", k ? "," : "", buf);
                        }
                        break;
                case T_PRIORITY:
                        fputs(vs_priority_name(*(const int *) field) ?: "default", f);
                        break;
                }
                fputc('\n', f);
        }
}

/* The longest line the loader takes: inih's buffer less its NUL (reader()). */
#define LINE_MAX_PRINTED ((size_t) INI_MAX_LINE - 1)

int vs_config_print(const struct vs_config *c, void *file) {
        FILE *f = file;
        locale_t cloc, old;

        /* strings INI cannot carry, or lines the loader would refuse as too
         * long ("key = value" is longer than a "key=value" that loaded; found
         * by fuzz-config) */
        for (size_t i = 0; i < N_ITEMS; i++) {
                const struct item *it = &table[i];
                const char *v;

                if (it->type != T_STRING || it->section == SEC_VM)
                        continue;
                v = *(char *const *) ((const char *) c + it->offset);
                if (!printable_value(v) || (v && strlen(it->key) + strlen(" = ") + strlen(v) > LINE_MAX_PRINTED))
                        return -EINVAL;
        }
        for (size_t i = 0; i < c->n_vms; i++)
                if (!c->vms[i].pattern || !c->vms[i].pattern[0] || has_control(c->vms[i].pattern) ||
                    strlen("[vm \"\"]") + strlen(c->vms[i].pattern) > LINE_MAX_PRINTED)
                        return -EINVAL;

        cloc = newlocale(LC_NUMERIC_MASK, "C", (locale_t) 0);
        if (cloc == (locale_t) 0)
                return -ENOMEM;
        old = uselocale(cloc);

        fputs("# vschedd configuration: effective values (vschedd --print-config)\n", f);
        for (enum section s = SEC_DAEMON; s < SEC_VM; s++) {
                fprintf(f, "\n[%s]\n", section_names[s]);
                print_items(f, s, c);
        }
        for (size_t i = 0; i < c->n_vms; i++) {
                fprintf(f, "\n[vm \"%s\"]\n", c->vms[i].pattern);
                print_items(f, SEC_VM, &c->vms[i]);
        }

        uselocale(old);
        freelocale(cloc);
        if (fflush(f) != 0 || ferror(f))
                return -EIO;
        return 0;
}

static bool streq_null(const char *a, const char *b) {
        return (!a || !b) ? a == b : strcmp(a, b) == 0;
}

bool vs_config_equal(const struct vs_config *a, const struct vs_config *b) {
        for (size_t i = 0; i < N_ITEMS; i++) {
                const struct item *it = &table[i];
                const void *fa = (const char *) a + it->offset, *fb = (const char *) b + it->offset;

                if (it->section == SEC_VM)
                        continue;
                switch (it->type) {
                case T_BOOL:
                        if (*(const bool *) fa != *(const bool *) fb)
                                return false;
                        break;
                case T_TRISTATE:
                        if (*(const int *) fa != *(const int *) fb)
                                return false;
                        break;
                case T_MODE:
                        if (*(const enum vs_mode *) fa != *(const enum vs_mode *) fb)
                                return false;
                        break;
                case T_UINT32:
                        if (*(const uint32_t *) fa != *(const uint32_t *) fb)
                                return false;
                        break;
                case T_DOUBLE:
                        if (*(const double *) fa != *(const double *) fb)
                                return false;
                        break;
                case T_STRING:
                        if (!streq_null(*(char *const *) fa, *(char *const *) fb))
                                return false;
                        break;
                case T_CAPS:
                        for (size_t k = 0; k < VS_CAPS; k++)
                                if (((const double *) fa)[k] != ((const double *) fb)[k])
                                        return false;
                        break;
                case T_PRIORITY:        /* per-VM only */
                        break;
                }
        }

        if (a->n_vms != b->n_vms)
                return false;
        for (size_t i = 0; i < a->n_vms; i++) {
                const struct vs_vm_override *x = &a->vms[i], *y = &b->vms[i];

                if (!streq_null(x->pattern, y->pattern) || x->mode != y->mode || x->placement != y->placement ||
                    x->coschedule != y->coschedule || x->weights != y->weights || x->idle != y->idle ||
                    x->directed_yield != y->directed_yield ||
                    x->weight_min != y->weight_min || x->weight_max != y->weight_max ||
                    x->pin_override_set != y->pin_override_set || x->priority != y->priority ||
                    (x->pin_override_set && x->pin_override != y->pin_override))
                        return false;
        }
        return true;
}

const char *vs_mode_name(enum vs_mode m) {
        switch (m) {
        case VS_MODE_OFF:
                return "off";
        case VS_MODE_OBSERVE:
                return "observe";
        case VS_MODE_ENFORCE:
                return "enforce";
        default:
                return NULL;
        }
}

const char *vs_priority_name(enum vs_priority p) {
        switch (p) {
        case VS_PRIO_LOW:
                return "low";
        case VS_PRIO_NORMAL:
                return "normal";
        case VS_PRIO_HIGH:
                return "high";
        default:
                return NULL;
        }
}

int vs_priority_from_name(const char *s) {
        if (!s)
                return -EINVAL;
        for (enum vs_priority p = VS_PRIO_LOW; p < _VS_PRIO_MAX; p++)
                if (strcmp(s, vs_priority_name(p)) == 0)
                        return p;
        return -EINVAL;
}

int vs_mode_from_name(const char *s) {
        if (!s)
                return -EINVAL;
        for (enum vs_mode m = VS_MODE_OFF; m <= VS_MODE_ENFORCE; m++)
                if (strcmp(s, vs_mode_name(m)) == 0)
                        return m;
        return -EINVAL;
}
