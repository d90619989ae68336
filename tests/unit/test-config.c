/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests for config.c: defaults, every key, exact error lines, bounds, caps,
 * per-VM overrides, permissions, print round trip, hostile input. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <locale.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

/* by path: "config.h" alone would find autoconf's config.h through -I$(top_builddir) */
#include "vs-config.h"
#include "macro.h"

static char tmpdir[] = "/tmp/test-config.XXXXXX";
static unsigned file_counter;

/* Write @content (@len bytes, or strlen) to a fresh file with @mode; returns its path (static buffer). */
static const char *write_file_len(const char *content, size_t len, mode_t mode) {
        static char path[256];
        FILE *f;

        snprintf(path, sizeof(path), "%s/c%u.conf", tmpdir, file_counter++);
        f = fopen(path, "w");
        assert_non_null(f);
        assert_int_equal(fwrite(content, 1, len, f), len);
        assert_int_equal(fclose(f), 0);
        assert_int_equal(chmod(path, mode), 0);
        return path;
}

static const char *write_file(const char *content) {
        return write_file_len(content, strlen(content), 0644);
}

/* @tmpl with every "$F" replaced by @path. */
static char *subst(const char *tmpl, const char *path) {
        size_t n = 1;
        char *out, *o;

        for (const char *p = tmpl; *p; p++)
                n += (p[0] == '$' && p[1] == 'F') ? strlen(path) : 1;
        out = o = malloc(n);
        assert_non_null(out);
        for (const char *p = tmpl; *p; p++) {
                if (p[0] == '$' && p[1] == 'F') {
                        o = stpcpy(o, path);
                        p++;
                } else
                        *o++ = *p;
        }
        *o = '\0';
        return out;
}

/* Load @content; expect failure with exactly @expected ("$F" = the file name) and *c untouched. */
static void expect_errors(const char *content, const char *expected) {
        struct vs_config c;
        _cleanup_free_ char *errors = NULL, *want = NULL;
        const char *path = write_file(content);

        assert_int_equal(vs_config_init(&c), 0);
        c.epoch_ms = 777;       /* a marker: must survive the failed load */
        assert_int_equal(vs_config_load(&c, path, &errors), -EINVAL);
        assert_non_null(errors);
        want = subst(expected, path);
        if (strcmp(errors, want) != 0)
                fail_msg("errors differ:\n--- got\n%s\n--- want\n%s", errors, want);
        assert_int_equal(c.epoch_ms, 777);
        assert_int_equal(c.n_vms, 0);
        vs_config_done(&c);
}

static void load_ok(struct vs_config *c, const char *content) {
        _cleanup_free_ char *errors = NULL;
        const char *path = write_file(content);
        int r;

        assert_int_equal(vs_config_init(c), 0);
        r = vs_config_load(c, path, &errors);
        if (r != 0)
                fail_msg("load failed (%d):\n%s", r, errors ?: "(no text)");
        assert_null(errors);
}

static unsigned count_lines(const char *s) {
        unsigned n = 1;

        for (; *s; s++)
                n += *s == '\n';
        return n;
}

/* ---------------------------------------------------------------- */

static void test_defaults(void **state) {
        struct vs_config c, d;

        assert_int_equal(vs_config_init(&c), 0);
        assert_int_equal(c.mode, VS_MODE_OBSERVE);
        assert_int_equal(c.epoch_ms, 20);
        assert_string_equal(c.state_dir, "/run/vschedd");
        assert_string_equal(c.cgroup_root, "");
        assert_string_equal(c.instance, "vschedd");
        assert_int_equal(c.buffer_kb, 0);
        assert_int_equal(c.ipi_window_us, 50000);
        assert_int_equal(c.yield_window_us, 600);
        assert_int_equal(c.rate_half_life_ms, 1000);
        assert_true(c.placement);
        assert_true(c.coschedule);
        assert_false(c.weights);
        assert_true(c.trigger_preempted_share == 0.2);
        assert_int_equal(c.trigger_ipi_rate, 50);
        assert_int_equal(c.weight_min, 10);
        assert_int_equal(c.weight_max, 1000);
        const double caps[VS_CAPS] = { 6, 4, 2.5, 2, 1.5, 1 };
        for (int i = 0; i < VS_CAPS; i++)
                assert_true(c.caps[i] == caps[i]);
        assert_int_equal(c.write_interval_ms, 6);
        assert_int_equal(c.hysteresis_pct, 10);
        assert_int_equal(c.decay_half_life_ms, 500);
        assert_int_equal(c.turn_ms, 20);
        assert_int_equal(c.max_frozen_ms, 100);
        assert_int_equal(c.starvation_ms, 50);
        assert_false(c.pin_override);
        assert_true(c.classify);
        assert_true(c.halt_share == 0.1);
        assert_int_equal(c.trigger_spin_rate, 100);
        assert_int_equal(c.evaluate_ms, 1000);
        assert_int_equal(c.min_gain_pct, 5);
        assert_int_equal(c.retry_ms, 30000);
        assert_string_equal(c.reserved_cpus, "");
        assert_true(c.priority_factor == 2);
        assert_false(c.directed_yield);
        assert_int_equal(c.n_vms, 0);

        /* an empty file and a comments-only file give the defaults */
        load_ok(&d, "");
        assert_true(vs_config_equal(&c, &d));
        vs_config_done(&d);
        load_ok(&d, "# nothing\n; nothing either\n\n   \n[daemon]\n[policy]\n");
        assert_true(vs_config_equal(&c, &d));
        vs_config_done(&d);

        /* keys absent from the file go back to defaults, not to the old values */
        load_ok(&d, "[daemon]\nepoch_ms = 5\n");
        assert_int_equal(d.epoch_ms, 5);
        _cleanup_free_ char *errors = NULL;
        assert_int_equal(vs_config_load(&d, write_file("[policy]\nturn_ms=30\n"), &errors), 0);
        assert_int_equal(d.epoch_ms, 20);
        assert_int_equal(d.turn_ms, 30);
        vs_config_done(&d);

        vs_config_done(&c);
        vs_config_done(&c);     /* idempotent */
}

static const char full_config[] =
        "# every key, none at its default\n"
        "[daemon]\n"
        "mode = enforce\n"
        "epoch_ms = 40\n"
        "state_dir = /var/lib/vschedd\n"
        "cgroup_root = /sys/fs/cgroup/unified\n"
        "libvirt_uri = test:///default\n"
        "\n"
        "[trace]\n"
        "instance = vs-test\n"
        "buffer_kb = 4096\n"
        "\n"
        "[analysis]\n"
        "ipi_window_us = 25000\n"
        "yield_window_us = 1200\n"
        "rate_half_life_ms = 250\n"
        "\n"
        "[policy]\n"
        "placement = no\n"
        "coschedule = off\n"
        "coschedule_yielding = yes\n"
        "weights = TRUE\n"
        "trigger_preempted_share = 0.35\n"
        "trigger_ipi_rate = 0\n"
        "trigger_vcpu_contention = no\n"
        "weight_min = 20\n"
        "weight_max = 2000\n"
        "caps = 8, 5, 3, 2, 1.25, 0.5\n"
        "write_interval_ms = 12\n"
        "hysteresis_pct = 0\n"
        "decay_half_life_ms = 750\n"
        "turn_ms = 30\n"
        "max_frozen_ms = 90\n"
        "starvation_ms = 45\n"
        "pin_override = 1\n"
        "classify = no\n"
        "halt_share = 0.25\n"
        "trigger_spin_rate = 0\n"
        "evaluate_ms = 500\n"
        "min_gain_pct = 0\n"
        "retry_ms = 60000\n"
        "reserved_cpus = 0-1,4\n"
        "priority_factor = 1.5\n"
        "directed_yield = yes\n"
        "\n"
        "[metrics]\n"
        "listen = 127.0.0.1:9901\n"
        "\n"
        "[vm \"db-*\"]\n"
        "mode = off\n"
        "placement = yes\n"
        "coschedule = no\n"
        "weights = yes\n"
        "idle = yes\n"
        "weight_min = 50\n"
        "weight_max = 500\n"
        "pin_override = no\n"
        "priority = high\n"
        "directed_yield = no\n"
        "\n"
        "[vm \"batch[0-9]\"]   ; batch VMs\n"
        "idle = no\n"
        "mode = default\n"
        "weights = default\n"
        "pin_override = default\n"
        "priority = default\n";

static void test_every_key(void **state) {
        struct vs_config c;

        load_ok(&c, full_config);
        assert_int_equal(c.mode, VS_MODE_ENFORCE);
        assert_int_equal(c.epoch_ms, 40);
        assert_string_equal(c.state_dir, "/var/lib/vschedd");
        assert_string_equal(c.cgroup_root, "/sys/fs/cgroup/unified");
        assert_string_equal(c.libvirt_uri, "test:///default");
        assert_string_equal(c.instance, "vs-test");
        assert_int_equal(c.buffer_kb, 4096);
        assert_int_equal(c.ipi_window_us, 25000);
        assert_int_equal(c.yield_window_us, 1200);
        assert_int_equal(c.rate_half_life_ms, 250);
        assert_false(c.placement);
        assert_false(c.coschedule);
        assert_true(c.coschedule_yielding);
        assert_true(c.weights);
        assert_true(c.trigger_preempted_share == 0.35);
        assert_int_equal(c.trigger_ipi_rate, 0);
        assert_false(c.trigger_vcpu_contention);
        assert_int_equal(c.weight_min, 20);
        assert_int_equal(c.weight_max, 2000);
        const double caps[VS_CAPS] = { 8, 5, 3, 2, 1.25, 0.5 };
        for (int i = 0; i < VS_CAPS; i++)
                assert_true(c.caps[i] == caps[i]);
        assert_int_equal(c.write_interval_ms, 12);
        assert_int_equal(c.hysteresis_pct, 0);
        assert_int_equal(c.decay_half_life_ms, 750);
        assert_int_equal(c.turn_ms, 30);
        assert_int_equal(c.max_frozen_ms, 90);
        assert_int_equal(c.starvation_ms, 45);
        assert_true(c.pin_override);
        assert_false(c.classify);
        assert_true(c.halt_share == 0.25);
        assert_int_equal(c.trigger_spin_rate, 0);
        assert_int_equal(c.evaluate_ms, 500);
        assert_int_equal(c.min_gain_pct, 0);
        assert_int_equal(c.retry_ms, 60000);
        assert_string_equal(c.reserved_cpus, "0-1,4");
        assert_true(c.priority_factor == 1.5);
        assert_true(c.directed_yield);
        assert_string_equal(c.metrics_listen, "127.0.0.1:9901");

        assert_int_equal(c.n_vms, 2);
        assert_string_equal(c.vms[0].pattern, "db-*");
        assert_int_equal(c.vms[0].line, 49);
        assert_int_equal(c.vms[0].mode, VS_MODE_OFF);
        assert_int_equal(c.vms[0].placement, VS_YES);
        assert_int_equal(c.vms[0].coschedule, VS_NO);
        assert_int_equal(c.vms[0].weights, VS_YES);
        assert_int_equal(c.vms[0].idle, VS_YES);
        assert_int_equal(c.vms[0].weight_min, 50);
        assert_int_equal(c.vms[0].weight_max, 500);
        assert_true(c.vms[0].pin_override_set);
        assert_false(c.vms[0].pin_override);
        assert_int_equal(c.vms[0].priority, VS_PRIO_HIGH);
        assert_string_equal(c.vms[1].pattern, "batch[0-9]");
        assert_int_equal(c.vms[1].line, 61);
        assert_int_equal(c.vms[0].directed_yield, VS_NO);
        assert_int_equal(c.vms[1].directed_yield, VS_DEFAULT);
        assert_int_equal(c.vms[1].idle, VS_NO);
        assert_int_equal(c.vms[1].mode, VS_MODE_INHERIT);
        assert_int_equal(c.vms[1].weights, VS_DEFAULT);
        assert_false(c.vms[1].pin_override_set);
        assert_int_equal(c.vms[1].priority, VS_PRIO_INHERIT);
        assert_int_equal(c.vms[1].weight_min, 0);
        vs_config_done(&c);
}

/* "[section]" and "key = value" lines of vs_config_print(): the config
 * table's keys, in its order (the one list of keys: a new one shows here). */
struct printed_key {
        char section[256];
        char key[64];
        char line[512];
};

static size_t printed_keys(const struct vs_config *c, struct printed_key *out, size_t max) {
        _cleanup_free_ char *text = NULL;
        char section[sizeof(out->section)] = "";
        size_t len = 0, n = 0;
        FILE *f = open_memstream(&text, &len);

        assert_non_null(f);
        assert_int_equal(vs_config_print(c, f), 0);
        fclose(f);
        for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
                if (line[0] == '#')
                        continue;
                if (line[0] == '[') {
                        snprintf(section, sizeof(section), "%s", line);
                        continue;
                }
                assert_true(n < max);
                snprintf(out[n].section, sizeof(out[n].section), "%s", section);
                assert_int_equal(sscanf(line, "%63[a-z_]", out[n].key), 1);
                snprintf(out[n].line, sizeof(out[n].line), "%s", line);
                n++;
        }
        return n;
}

static const struct printed_key *find_key(const struct printed_key *k, size_t n, const char *section,
                                          const char *key) {
        for (size_t i = 0; i < n; i++)
                if (strcmp(k[i].section, section) == 0 && strcmp(k[i].key, key) == 0)
                        return &k[i];
        return NULL;
}

/* full_config sets every key the table knows, none at its default: the
 * list comes from vs_config_print() of the defaults plus a [vm] entry with
 * every field set (all bytes 1), not from this file. */
static void test_every_key_covered(void **state) {
        struct printed_key def[128], full[128];
        struct vs_config d, c;
        size_t nd, nf, n_vm = 0;

        assert_int_equal(vs_config_init(&d), 0);
        d.vms = calloc(1, sizeof(*d.vms));
        assert_non_null(d.vms);
        memset(d.vms, 1, sizeof(*d.vms));
        d.vms[0].pattern = strdup("every");
        assert_non_null(d.vms[0].pattern);
        d.n_vms = 1;
        nd = printed_keys(&d, def, ELEMENTSOF(def));
        vs_config_done(&d);
        load_ok(&c, full_config);
        nf = printed_keys(&c, full, ELEMENTSOF(full));
        vs_config_done(&c);

        assert_true(nd > 30);
        for (size_t i = 0; i < nd; i++) {
                if (strcmp(def[i].section, "[vm \"every\"]") == 0) {
                        n_vm++;
                        if (!find_key(full, nf, "[vm \"db-*\"]", def[i].key))
                                fail_msg("full_config's [vm \"db-*\"] does not set '%s'", def[i].key);
                        continue;
                }
                const struct printed_key *k = find_key(full, nf, def[i].section, def[i].key);
                assert_non_null(k);
                if (strcmp(k->line, def[i].line) == 0)
                        fail_msg("full_config leaves %s '%s' at its default (%s)", def[i].section, def[i].key,
                                 def[i].line);
        }
        assert_true(n_vm >= 9);
}

static void test_syntax(void **state) {
        struct vs_config c;

        /* inih details: inline ';' comments, ':' separator, CRLF, BOM, indented keys (no continuation) */
        load_ok(&c, "\xef\xbb\xbf[daemon]\r\n"
                    "  epoch_ms = 30 ; inline comment\r\n"
                    "\tstate_dir: /srv/vs\r\n"
                    "    [ trace ]  # comment after a header\n"
                    "        instance=x\n"
                    "[vm \"a very long pattern that inih itself would truncate at 49 bytes-*\"]\n"
                    "        idle = yes\n");
        assert_int_equal(c.epoch_ms, 30);
        assert_string_equal(c.state_dir, "/srv/vs");
        assert_string_equal(c.instance, "x");
        assert_int_equal(c.n_vms, 1);
        assert_string_equal(c.vms[0].pattern, "a very long pattern that inih itself would truncate at 49 bytes-*");
        vs_config_done(&c);

        /* a comment after the header that holds a quote */
        load_ok(&c, "[vm \"db\"] ; the \"main\" one\nidle=no\n");
        assert_string_equal(c.vms[0].pattern, "db");
        vs_config_done(&c);

        expect_errors("[daemon\n"
                      "[daemon] x\n"
                      "[policy]\n"
                      "just some words\n"
                      "= 5\n"
                      "weights = yes ; ok\n"
                      "placement = yes # not a comment here\n"
                      "[vm]\n"
                      "[vm db]\n"
                      "[vm \"db\" x]\n"
                      "[vm \"\"]\n"
                      "[vm \"a\x01\"]\n"
                      "[Daemon]\n",
                      "$F:1: invalid section header: missing ']'\n"
                      "$F:2: section [daemon]: unexpected text after ']'\n"
                      "$F:4: syntax error: expected 'key = value', '[section]' or a comment\n"
                      "$F:5: missing key name before '='\n"
                      "$F:7: key 'placement': invalid boolean 'yes # not a comment here' (yes/no, true/false, on/off, 1/0)\n"
                      "$F:8: section [vm]: expected [vm \"PATTERN\"]\n"
                      "$F:9: section [vm db]: expected [vm \"PATTERN\"]\n"
                      "$F:10: section [vm \"db\" x]: expected [vm \"PATTERN\"]\n"
                      "$F:11: section [vm \"\"]: empty VM pattern\n"
                      "$F:12: section [vm \"a\\x01\"]: VM pattern contains a control character\n"
                      "$F:13: section [Daemon]: unknown section (expected daemon, trace, analysis, policy, metrics or vm \"PATTERN\")");
}

static void test_error_lines(void **state) {
        /* line numbers stay right across comments, blank lines and sections */
        expect_errors("# vschedd.conf\n"                        /* 1 */
                      "\n"                                      /* 2 */
                      "[daemon]\n"                              /* 3 */
                      "; a comment\n"                           /* 4 */
                      "mode = fast\n"                           /* 5 */
                      "\n"                                      /* 6 */
                      "[trace]\n"                               /* 7 */
                      "buffer_kb = 12\n"                        /* 8 */
                      "\n"                                      /* 9 */
                      "# another comment\n"                     /* 10 */
                      "[policy]\n"                              /* 11 */
                      "weight_max = 20000\n"                    /* 12 */
                      "epoch_ms = 20\n",                        /* 13 */
                      "$F:5: key 'mode': invalid mode 'fast' (off, observe or enforce)\n"
                      "$F:8: key 'buffer_kb': value '12' out of range (0, or min 64, max 1048576)\n"
                      "$F:12: key 'weight_max': value '20000' out of range (min 1, max 10000)\n"
                      "$F:13: key 'epoch_ms': unknown key in section [policy]");

        /* three bad lines: three error lines */
        const char *three = "[daemon]\nepoch_ms = 0\n[policy]\nweights = maybe\nturn_ms = 20ms\n";
        struct vs_config c;
        _cleanup_free_ char *errors = NULL;
        assert_int_equal(vs_config_init(&c), 0);
        assert_int_equal(vs_config_load(&c, write_file(three), &errors), -EINVAL);
        assert_int_equal(count_lines(errors), 3);
        vs_config_done(&c);

        /* @errors may be NULL */
        assert_int_equal(vs_config_init(&c), 0);
        assert_int_equal(vs_config_load(&c, write_file(three), NULL), -EINVAL);
        vs_config_done(&c);
}

static void test_unknown_and_duplicates(void **state) {
        expect_errors("epoch_ms = 5\n"
                      "[daemon]\n"
                      "epoch = 5\n"
                      "[frobnicate]\n"
                      "anything = goes\n"               /* skipped: the section was reported */
                      "[daemon]\n"
                      "mode = off\n"
                      "mode = enforce\n"
                      "[policy]\n"
                      "weights = yes\n"
                      "[policy]\n"
                      "weights = no\n"
                      "[vm \"db\"]\n"
                      "idle = yes\n"
                      "idle = no\n"
                      "turn_ms = 5\n"
                      "[vm \"db\"]\n"
                      "[vm \"web\"]\n"
                      "idle = yes\n",
                      "$F:1: key 'epoch_ms': not in a section (add [daemon], [trace], ... above it)\n"
                      "$F:3: key 'epoch': unknown key in section [daemon]\n"
                      "$F:4: section [frobnicate]: unknown section (expected daemon, trace, analysis, policy, metrics or vm \"PATTERN\")\n"
                      "$F:8: key 'mode': already set at line 7\n"
                      "$F:12: key 'weights': already set at line 10\n"
                      "$F:15: key 'idle': already set at line 14\n"
                      "$F:16: key 'turn_ms': unknown key in section [vm \"db\"]\n"
                      "$F:17: section [vm \"db\"]: duplicate section (first at line 13)");
}

struct bound {
        const char *section, *key;
        unsigned long min, max;
};

static void test_bounds(void **state) {
        static const struct bound bounds[] = {
                { "daemon", "epoch_ms", 1, 1000 },
                { "trace", "buffer_kb", 64, 1048576 },
                { "analysis", "ipi_window_us", 1000, 1000000 },
                { "analysis", "yield_window_us", 1, 100000 },
                { "analysis", "rate_half_life_ms", 10, 60000 },
                { "policy", "trigger_ipi_rate", 0, 1000000 },
                { "policy", "weight_min", 1, 10000 },
                { "policy", "weight_max", 1, 10000 },
                { "policy", "write_interval_ms", 1, 10000 },
                { "policy", "hysteresis_pct", 0, 100 },
                { "policy", "decay_half_life_ms", 1, 600000 },
                { "policy", "turn_ms", 1, 10000 },
                { "policy", "max_frozen_ms", 1, 10000 },
                { "policy", "starvation_ms", 1, 10000 },
                { "policy", "trigger_spin_rate", 0, 1000000 },
                { "policy", "evaluate_ms", 100, 60000 },
                { "policy", "min_gain_pct", 0, 1000 },
                { "policy", "retry_ms", 0, 3600000 },
                { "vm \"x\"", "weight_min", 1, 10000 },
                { "vm \"x\"", "weight_max", 1, 10000 },
        };
        char buf[256], want[256];

        for (size_t i = 0; i < ELEMENTSOF(bounds); i++) {
                const struct bound *b = &bounds[i];
                /* keep cross-field checks quiet: pair the key with an agreeable partner */
                const char *extra = strcmp(b->key, "weight_min") == 0 ? "weight_max = 10000\n" :
                                    strcmp(b->key, "weight_max") == 0 ? "weight_min = 1\n" :
                                    strcmp(b->key, "turn_ms") == 0 ? "max_frozen_ms = 10000\n" :
                                    strcmp(b->key, "max_frozen_ms") == 0 ? "turn_ms = 1\n" :
                                    strcmp(b->key, "starvation_ms") == 0 ? "[daemon]\nepoch_ms = 1\n" :
                                    strcmp(b->key, "epoch_ms") == 0 ? "[policy]\nstarvation_ms = 10000\n" : "";
                struct vs_config c;

                snprintf(buf, sizeof(buf), "[%s]\n%s = %lu\n%s", b->section, b->key, b->min, extra);
                load_ok(&c, buf);
                vs_config_done(&c);
                snprintf(buf, sizeof(buf), "[%s]\n%s = %lu\n%s", b->section, b->key, b->max, extra);
                load_ok(&c, buf);
                vs_config_done(&c);

                snprintf(buf, sizeof(buf), "[%s]\n%s = %lu\n%s", b->section, b->key, b->max + 1, extra);
                snprintf(want, sizeof(want), "$F:2: key '%s': value '%lu' out of range (%smin %lu, max %lu)",
                         b->key, b->max + 1, strcmp(b->key, "buffer_kb") == 0 ? "0, or " : "", b->min, b->max);
                expect_errors(buf, want);
                if (b->min > 0 && strcmp(b->key, "buffer_kb") != 0) {
                        snprintf(buf, sizeof(buf), "[%s]\n%s = %lu\n%s", b->section, b->key, b->min - 1, extra);
                        snprintf(want, sizeof(want), "$F:2: key '%s': value '%lu' out of range (min %lu, max %lu)",
                                 b->key, b->min - 1, b->min, b->max);
                        expect_errors(buf, want);
                }
        }

        /* buffer_kb: 0 means the kernel default, 1..63 are errors */
        struct vs_config c;
        load_ok(&c, "[trace]\nbuffer_kb = 0\n");
        assert_int_equal(c.buffer_kb, 0);
        vs_config_done(&c);
        expect_errors("[trace]\nbuffer_kb = 63\n",
                      "$F:2: key 'buffer_kb': value '63' out of range (0, or min 64, max 1048576)");

        /* doubles */
        load_ok(&c, "[policy]\ntrigger_preempted_share = 0\n");
        assert_true(c.trigger_preempted_share == 0);
        vs_config_done(&c);
        load_ok(&c, "[policy]\ntrigger_preempted_share = 1\n");
        assert_true(c.trigger_preempted_share == 1);
        vs_config_done(&c);
        load_ok(&c, "[policy]\ntrigger_preempted_share = 1e-05\n");
        assert_true(c.trigger_preempted_share == 1e-05);
        vs_config_done(&c);
        load_ok(&c, "[policy]\ntrigger_preempted_share = .5\n");
        assert_true(c.trigger_preempted_share == 0.5);
        vs_config_done(&c);
        expect_errors("[policy]\n"
                      "trigger_preempted_share = 1.0001\n"
                      "[policy]\n",
                      "$F:2: key 'trigger_preempted_share': value '1.0001' out of range (min 0, max 1)");

        /* trailing garbage and foreign number syntaxes */
        expect_errors("[policy]\n"
                      "turn_ms = 20ms\n"
                      "write_interval_ms = -1\n"
                      "hysteresis_pct = +5\n"
                      "decay_half_life_ms = 0x10\n"
                      "starvation_ms = 1e3\n"
                      "max_frozen_ms = 4294967296\n"
                      "weight_min = 99999999999999999999999\n"
                      "trigger_preempted_share = 0.5x\n"
                      "[analysis]\n"
                      "ipi_window_us = \n"
                      "yield_window_us = 1 000\n"
                      "[daemon]\n"
                      "mode = Enforce\n"
                      "state_dir = run/vschedd\n"
                      "[trace]\n"
                      "instance = a/b\n",
                      "$F:2: key 'turn_ms': invalid integer '20ms'\n"
                      "$F:3: key 'write_interval_ms': invalid integer '-1'\n"
                      "$F:4: key 'hysteresis_pct': invalid integer '+5'\n"
                      "$F:5: key 'decay_half_life_ms': invalid integer '0x10'\n"
                      "$F:6: key 'starvation_ms': invalid integer '1e3'\n"
                      "$F:7: key 'max_frozen_ms': value '4294967296' out of range (min 1, max 10000)\n"
                      "$F:8: key 'weight_min': value '99999999999999999999999' out of range (min 1, max 10000)\n"
                      "$F:9: key 'trigger_preempted_share': invalid number '0.5x'\n"
                      "$F:11: key 'ipi_window_us': missing value\n"
                      "$F:12: key 'yield_window_us': invalid integer '1 000'\n"
                      "$F:14: key 'mode': invalid mode 'Enforce' (off, observe or enforce)\n"
                      "$F:15: key 'state_dir': 'run/vschedd' is not an absolute path\n"
                      "$F:17: key 'instance': 'a/b' must not contain '/'");
        expect_errors("[trace]\ninstance = ..\n[policy]\ntrigger_preempted_share = nan\ncaps = inf,4,3,2,1,1\n"
                      "[daemon]\nstate_dir =\n",
                      "$F:2: key 'instance': '..' is not a valid name\n"
                      "$F:4: key 'trigger_preempted_share': invalid number 'nan'\n"
                      "$F:5: key 'caps': invalid number 'inf' in the list\n"
                      "$F:7: key 'state_dir': missing value");
}

/* reserved_cpus: the kernel's CPU list syntax, kept in canonical form;
 * an error names the file, line and key and says what is wrong */
static void test_reserved_cpus(void **state) {
        struct vs_config c;

        load_ok(&c, "[policy]\nreserved_cpus = 4, 0-1 ,1\n");
        assert_string_equal(c.reserved_cpus, "0-1,4");
        vs_config_done(&c);
        load_ok(&c, "[policy]\nreserved_cpus =\n");
        assert_string_equal(c.reserved_cpus, "");
        vs_config_done(&c);
        load_ok(&c, "[policy]\nreserved_cpus = 8191\n");
        assert_string_equal(c.reserved_cpus, "8191");
        vs_config_done(&c);
        expect_errors("[policy]\n"
                      "reserved_cpus = 0-1,\n",
                      "$F:2: key 'reserved_cpus': invalid CPU list '0-1,': expected a CPU number");
        expect_errors("[daemon]\n"
                      "[policy]\n"
                      "reserved_cpus = 3-1\n",
                      "$F:3: key 'reserved_cpus': invalid CPU list '3-1': range ends before it starts");
        expect_errors("[policy]\n"
                      "reserved_cpus = 8192\n",
                      "$F:2: key 'reserved_cpus': invalid CPU list '8192': CPU number too large");
        expect_errors("[policy]\n"
                      "reserved_cpus = 0 1\n",
                      "$F:2: key 'reserved_cpus': invalid CPU list '0 1': expected ',' or '-' after a CPU number");
        expect_errors("[policy]\n"
                      "reserved_cpus = all\n",
                      "$F:2: key 'reserved_cpus': invalid CPU list 'all': expected a CPU number");
        expect_errors("[vm \"x\"]\n"
                      "reserved_cpus = 1\n",
                      "$F:2: key 'reserved_cpus': unknown key in section [vm \"x\"]");
}

/* [vm] priority: high, normal, low or default (normal); [policy]
 * priority_factor 1..10 */
static void test_priority(void **state) {
        struct vs_config c;
        struct vs_vm_policy p;

        load_ok(&c, "[policy]\npriority_factor = 3\n"
                    "[vm \"db-*\"]\npriority = high\n"
                    "[vm \"batch*\"]\npriority = low\n"
                    "[vm \"web\"]\npriority = normal\n"
                    "[vm \"x\"]\npriority = default\nmode = enforce\n");
        assert_true(c.priority_factor == 3);
        vs_config_vm(&c, "db-1", &p);
        assert_int_equal(p.priority, VS_PRIO_HIGH);
        vs_config_vm(&c, "batch7", &p);
        assert_int_equal(p.priority, VS_PRIO_LOW);
        vs_config_vm(&c, "web", &p);
        assert_int_equal(p.priority, VS_PRIO_NORMAL);
        vs_config_vm(&c, "x", &p);
        assert_int_equal(p.priority, VS_PRIO_NORMAL);
        vs_config_vm(&c, "unlisted", &p);
        assert_int_equal(p.priority, VS_PRIO_NORMAL);
        vs_config_done(&c);

        expect_errors("[vm \"a\"]\n"
                      "priority = urgent\n"
                      "[vm \"b\"]\n"
                      "priority = High\n"
                      "[policy]\n"
                      "priority = high\n"
                      "priority_factor = 0.5\n"
                      "priority_factor = 11\n",
                      "$F:2: key 'priority': invalid priority 'urgent' (high, normal, low or default)\n"
                      "$F:4: key 'priority': invalid priority 'High' (high, normal, low or default)\n"
                      "$F:6: key 'priority': unknown key in section [policy]\n"
                      "$F:7: key 'priority_factor': value '0.5' out of range (min 1, max 10)\n"
                      "$F:8: key 'priority_factor': already set at line 7");
        assert_string_equal(vs_priority_name(VS_PRIO_HIGH), "high");
        assert_null(vs_priority_name(VS_PRIO_INHERIT));
        assert_int_equal(vs_priority_from_name("low"), VS_PRIO_LOW);
        assert_int_equal(vs_priority_from_name("default"), -EINVAL);
        assert_int_equal(vs_priority_from_name(NULL), -EINVAL);
}

static void test_caps(void **state) {
        struct vs_config c;

        load_ok(&c, "[policy]\ncaps=6,4,2.5,2,1.5,1\n");
        vs_config_done(&c);
        load_ok(&c, "[policy]\ncaps = 3 , 3,3, 3 ,3,3\n");   /* equal is fine */
        assert_true(c.caps[5] == 3);
        vs_config_done(&c);
        load_ok(&c, "[policy]\ncaps = 100,1,1,1,1,0.001\n");
        vs_config_done(&c);

        expect_errors("[policy]\n"
                      "caps = 6,4,2.5,2,1.5\n"
                      "[policy]\n"
                      "caps = 6,4,2.5,2,1.5,1,1\n",
                      "$F:2: key 'caps': expected 6 comma-separated numbers, got 5\n"
                      "$F:4: key 'caps': already set at line 2");
        expect_errors("[policy]\ncaps = 6,4,2.5,2,1.5,1,1\n",
                      "$F:2: key 'caps': expected 6 comma-separated numbers, got 7");
        expect_errors("[policy]\ncaps = 6,4,5,2,1.5,1\n",
                      "$F:2: key 'caps': values must not increase: '5' after 4");
        expect_errors("[policy]\ncaps = 6,4,2.5,2,1.5,0\n",
                      "$F:2: key 'caps': value '0' out of range (more than 0, max 100)");
        expect_errors("[policy]\ncaps = 6,4,2.5,2,1.5,-1\n",
                      "$F:2: key 'caps': invalid number '-1' in the list");
        expect_errors("[policy]\ncaps = 101,4,2.5,2,1.5,1\n",
                      "$F:2: key 'caps': value '101' out of range (more than 0, max 100)");
        expect_errors("[policy]\ncaps = 6,4,2.5,2x,1.5,1\n",
                      "$F:2: key 'caps': invalid number '2x' in the list");
        expect_errors("[policy]\ncaps = 6,4,,2,1.5,1\n",
                      "$F:2: key 'caps': empty item in the list");
        expect_errors("[policy]\ncaps = 6 4 2.5 2 1.5 1\n",
                      "$F:2: key 'caps': expected 6 comma-separated numbers, got 1");
}

static void test_cross_field(void **state) {
        expect_errors("[policy]\nweight_min = 500\nweight_max = 100\n",
                      "$F:3: key 'weight_max': 100 is less than weight_min 500");
        expect_errors("[policy]\nweight_min = 5000\n",
                      "$F:2: key 'weight_min': 5000 is greater than weight_max 1000");
        expect_errors("[policy]\nturn_ms = 200\n",
                      "$F:2: key 'turn_ms': 200 is greater than max_frozen_ms 100");
        expect_errors("[policy]\nturn_ms = 50\nmax_frozen_ms = 40\n",
                      "$F:3: key 'max_frozen_ms': 40 is less than turn_ms 50");
        expect_errors("[daemon]\nepoch_ms = 100\n",
                      "$F:2: key 'epoch_ms': 100 is greater than starvation_ms 50");
        expect_errors("[policy]\nstarvation_ms = 10\n",
                      "$F:2: key 'starvation_ms': 10 is less than epoch_ms 20");
        /* per VM, after inheritance */
        expect_errors("[vm \"a\"]\nweight_min = 2000\n"
                      "[vm \"b\"]\nweight_max = 5\n"
                      "[vm \"c\"]\nweight_min = 300\nweight_max = 200\n",
                      "$F:2: key 'weight_min': 2000 is greater than weight_max 1000 (inherited from [policy])\n"
                      "$F:4: key 'weight_max': 5 is less than weight_min 10 (inherited from [policy])\n"
                      "$F:7: key 'weight_max': 200 is less than weight_min 300");
        /* a rejected value is not cross-checked again */
        expect_errors("[policy]\nweight_min = lots\nweight_max = 5\n",
                      "$F:2: key 'weight_min': invalid integer 'lots'");

        struct vs_config c;
        load_ok(&c, "[policy]\nweight_max = 5000\n[vm \"a\"]\nweight_min = 2000\n");
        vs_config_done(&c);
}

static void test_vm(void **state) {
        struct vs_config c;
        struct vs_vm_policy p;

        load_ok(&c, "[daemon]\nmode = observe\n"
                    "[policy]\nplacement = yes\ncoschedule = no\nweights = no\npin_override = yes\n"
                    "weight_min = 20\nweight_max = 800\ndirected_yield = yes\n"
                    "[vm \"db-prod\"]\nmode = enforce\ncoschedule = yes\n"
                    "[vm \"dy-off\"]\ndirected_yield = no\n"
                    "[vm \"db-*\"]\nmode = off\n"
                    "[vm \"batch[0-9]\"]\nidle = yes\nweight_min = 1\nweights = yes\npin_override = no\n"
                    "[vm \"*\"]\nplacement = no\nweight_max = 900\n");

        vs_config_vm(&c, "db-prod", &p);        /* first match wins over db-* and * */
        assert_int_equal(p.mode, VS_MODE_ENFORCE);
        assert_true(p.coschedule);
        assert_true(p.placement);               /* inherited, not from [vm "*"] */
        assert_false(p.weights);
        assert_true(p.pin_override);
        assert_int_equal(p.idle, -1);
        assert_int_equal(p.weight_min, 20);
        assert_int_equal(p.weight_max, 800);
        assert_true(p.directed_yield);          /* inherited from [policy] */

        vs_config_vm(&c, "dy-off", &p);
        assert_false(p.directed_yield);         /* its own section */
        assert_int_equal(p.mode, VS_MODE_OBSERVE);

        vs_config_vm(&c, "db-test", &p);
        assert_int_equal(p.mode, VS_MODE_OFF);

        vs_config_vm(&c, "batch7", &p);
        assert_int_equal(p.mode, VS_MODE_OBSERVE);
        assert_int_equal(p.idle, 1);
        assert_true(p.weights);
        assert_false(p.pin_override);
        assert_int_equal(p.weight_min, 1);
        assert_int_equal(p.weight_max, 800);

        vs_config_vm(&c, "batch10", &p);        /* [0-9] is one character: falls to "*" */
        assert_false(p.placement);
        assert_int_equal(p.weight_max, 900);
        assert_int_equal(p.idle, -1);
        vs_config_done(&c);

        /* no sections: the globals */
        load_ok(&c, "[daemon]\nmode = enforce\n");
        vs_config_vm(&c, "anything", &p);
        assert_int_equal(p.mode, VS_MODE_ENFORCE);
        assert_true(p.placement);
        assert_true(p.coschedule);
        assert_false(p.weights);
        assert_false(p.pin_override);
        assert_int_equal(p.idle, -1);
        assert_int_equal(p.weight_min, 10);
        assert_int_equal(p.weight_max, 1000);
        vs_config_done(&c);

        expect_errors("[vm \"x\"]\nidle = sometimes\nmode = on\npin_override = maybe\nplacement = 2\n",
                      "$F:2: key 'idle': invalid value 'sometimes' (yes, no or default)\n"
                      "$F:3: key 'mode': invalid mode 'on' (off, observe, enforce or default)\n"
                      "$F:4: key 'pin_override': invalid boolean 'maybe' (yes, no or default)\n"
                      "$F:5: key 'placement': invalid value '2' (yes, no or default)");
}

static void test_permissions(void **state) {
        _cleanup_free_ char *errors = NULL, *want = NULL;
        struct vs_config c;
        const char *path;

        assert_int_equal(vs_config_init(&c), 0);

        path = write_file_len("[daemon]\n", 9, 0666);
        assert_int_equal(vs_config_load(&c, path, &errors), -EPERM);
        want = subst("$F: refusing a world-writable configuration file (mode 0666)", path);
        assert_string_equal(errors, want);
        errors = mfree(errors);
        want = mfree(want);

        path = write_file_len("[daemon]\n", 9, 0602);
        assert_int_equal(vs_config_load(&c, path, NULL), -EPERM);

        /* group-writable: fine when root owns it, refused otherwise */
        path = write_file_len("[daemon]\nepoch_ms = 10\n", 23, 0664);
        if (geteuid() == 0) {
                assert_int_equal(vs_config_load(&c, path, &errors), 0);
                assert_null(errors);
                assert_int_equal(c.epoch_ms, 10);

                assert_int_equal(chown(path, 65534, 65534), 0);
                assert_int_equal(vs_config_load(&c, path, &errors), -EPERM);
                want = subst("$F: refusing a configuration file owned by uid 65534 (neither root nor the caller)", path);
                assert_string_equal(errors, want);
                errors = mfree(errors);
                want = mfree(want);
        } else {
                assert_int_equal(vs_config_load(&c, path, &errors), -EPERM);
                char tmpl[256];
                snprintf(tmpl, sizeof(tmpl),
                         "$F: refusing a group-writable configuration file not owned by root (mode 0664, uid %u)",
                         (unsigned) geteuid());
                want = subst(tmpl, path);
                assert_string_equal(errors, want);
                errors = mfree(errors);
                want = mfree(want);
                print_message("not root: skipping the owned-by-another-user checks\n");
        }

        /* missing file and directory */
        char missing[300];
        snprintf(missing, sizeof(missing), "%s/does-not-exist.conf", tmpdir);
        assert_int_equal(vs_config_load(&c, missing, &errors), -ENOENT);
        want = subst("$F: cannot open: No such file or directory", missing);
        assert_string_equal(errors, want);
        errors = mfree(errors);
        want = mfree(want);
        assert_int_equal(vs_config_load(&c, tmpdir, &errors), -EISDIR);
        errors = mfree(errors);
        assert_int_equal(vs_config_load(&c, "/dev/null", &errors), -EINVAL);
        assert_string_equal(errors, "/dev/null: not a regular file");

        vs_config_done(&c);
}

static void round_trip(const struct vs_config *c) {
        _cleanup_free_ char *errors = NULL, *text = NULL;
        char path[300];
        struct vs_config d;
        FILE *f;

        snprintf(path, sizeof(path), "%s/printed%u.conf", tmpdir, file_counter++);
        f = fopen(path, "w");
        assert_non_null(f);
        assert_int_equal(vs_config_print(c, f), 0);
        assert_int_equal(fclose(f), 0);

        assert_int_equal(vs_config_init(&d), 0);
        if (vs_config_load(&d, path, &errors) != 0)
                fail_msg("printed config does not load:\n%s", errors);
        assert_true(vs_config_equal(c, &d));
        vs_config_done(&d);
}

static void test_round_trip(void **state) {
        struct vs_config c;

        assert_int_equal(vs_config_init(&c), 0);
        round_trip(&c);
        vs_config_done(&c);

        load_ok(&c, full_config);
        round_trip(&c);
        vs_config_done(&c);

        /* awkward doubles and patterns */
        load_ok(&c, "[policy]\ntrigger_preempted_share = 0.1234567890123\n"
                    "caps = 99.999,33.3333333333333,0.3,1e-3,0.0001,0.00001\n"
                    "[vm \"web[!0-9]*\\\"x\"]\nidle = no\n[vm \" spaced \"]\nmode = enforce\n");
        assert_string_equal(c.vms[0].pattern, "web[!0-9]*\\\"x");
        assert_string_equal(c.vms[1].pattern, " spaced ");
        round_trip(&c);

        /* equal() really compares */
        struct vs_config d;
        load_ok(&d, "[policy]\ntrigger_preempted_share = 0.1234567890123\n"
                    "caps = 99.999,33.3333333333333,0.3,1e-3,0.0001,0.00001\n"
                    "[vm \"web[!0-9]*\\\"x\"]\nidle = no\n[vm \" spaced \"]\nmode = enforce\n");
        assert_true(vs_config_equal(&c, &d));
        d.vms[1].mode = VS_MODE_OFF;
        assert_false(vs_config_equal(&c, &d));
        d.vms[1].mode = VS_MODE_ENFORCE;
        d.caps[5] = 0.5;
        assert_false(vs_config_equal(&c, &d));
        vs_config_done(&d);

        /* unrepresentable strings are refused, not printed wrong */
        free(c.state_dir);
        c.state_dir = strdup("/run/x ;y");
        FILE *f = fopen("/dev/null", "w");
        assert_non_null(f);
        assert_int_equal(vs_config_print(&c, f), -EINVAL);
        fclose(f);
        vs_config_done(&c);
}

static void test_hostile(void **state) {
        _cleanup_free_ char *errors = NULL, *want = NULL;
        struct vs_config c;
        const char *path;
        char *buf;

        assert_int_equal(vs_config_init(&c), 0);

        /* NUL bytes, a 10 KB line, then a valid key: line numbers still right */
        const size_t big = 10240;
        buf = malloc(big + 200);
        assert_non_null(buf);
        size_t n = 0;
        memcpy(buf + n, "[daemon]\nmode\0=\0off\n", 20);
        n += 20;
        memset(buf + n, 'a', big);
        n += big;
        buf[n++] = '\n';
        n += (size_t) sprintf(buf + n, "epoch_ms = 0\n");
        path = write_file_len(buf, n, 0644);
        free(buf);
        assert_int_equal(vs_config_load(&c, path, &errors), -EINVAL);
        want = subst("$F:2: line contains a NUL byte\n"
                     "$F:3: line too long (10240 bytes, at most 199)\n"
                     "$F:4: key 'epoch_ms': value '0' out of range (min 1, max 1000)", path);
        assert_string_equal(errors, want);
        errors = mfree(errors);
        want = mfree(want);

        /* a line of exactly 199 bytes is fine, 200 is not */
        char line[300];
        memset(line, 0, sizeof(line));
        strcpy(line, "[daemon]\nstate_dir = /");
        size_t pre = strlen("state_dir = /");
        memset(line + strlen(line), 'x', 199 - pre);
        strcat(line, "\n");
        assert_int_equal(vs_config_load(&c, write_file(line), &errors), 0);
        assert_int_equal(strlen(c.state_dir), 199 - strlen("state_dir = "));
        line[strlen(line) - 1] = 'x';
        strcat(line, "\n");
        path = write_file(line);
        assert_int_equal(vs_config_load(&c, path, &errors), -EINVAL);
        want = subst("$F:2: line too long (200 bytes, at most 199)", path);
        assert_string_equal(errors, want);
        errors = mfree(errors);
        want = mfree(want);

        /* binary garbage: errors, capped, no crash (ASan/UBSan watch) */
        buf = malloc(65536);
        assert_non_null(buf);
        srand(42);
        for (size_t i = 0; i < 65536; i++)
                buf[i] = (char) (rand() & 0xff);
        path = write_file_len(buf, 65536, 0644);
        assert_int_equal(vs_config_load(&c, path, &errors), -EINVAL);
        assert_non_null(errors);
        assert_true(count_lines(errors) <= VS_CONFIG_MAX_ERRORS + 1);
        errors = mfree(errors);

        /* garbage that looks like INI: keys and sections with control bytes, many errors */
        n = 0;
        for (int i = 0; i < 300; i++)
                n += (size_t) snprintf(buf + n, 65536 - n, i % 3 == 0 ? "[s\x1b%d]\n" : i % 3 == 1 ? "k\x7f%d=\x01\n" : "[vm \"\x02\"]\n", i);
        path = write_file_len(buf, n, 0644);
        free(buf);
        assert_int_equal(vs_config_load(&c, path, &errors), -EINVAL);
        assert_int_equal(count_lines(errors), VS_CONFIG_MAX_ERRORS + 1);
        assert_non_null(strstr(errors, "section [s\\x1b0]: unknown section"));
        want = subst("\n$F: ... and ", path);
        assert_non_null(strstr(errors, want));
        errors = mfree(errors);

        /* everything above failed: c still has the defaults apart from the one good load */
        assert_int_equal(c.epoch_ms, 20);
        assert_int_equal(c.n_vms, 0);
        vs_config_done(&c);
}

static void test_locale(void **state) {
        struct vs_config c;

        /* a decimal-comma locale must not change how numbers are read */
        if (!setlocale(LC_NUMERIC, "de_DE.UTF-8") && !setlocale(LC_NUMERIC, "fr_FR.UTF-8")) {
                print_message("no decimal-comma locale installed: checking in C only\n");
        }
        load_ok(&c, "[policy]\ntrigger_preempted_share = 0.25\n");
        assert_true(c.trigger_preempted_share == 0.25);
        round_trip(&c);
        vs_config_done(&c);
        setlocale(LC_NUMERIC, "C");
}

static void test_mode_name(void **state) {
        assert_string_equal(vs_mode_name(VS_MODE_OFF), "off");
        assert_string_equal(vs_mode_name(VS_MODE_OBSERVE), "observe");
        assert_string_equal(vs_mode_name(VS_MODE_ENFORCE), "enforce");
        assert_null(vs_mode_name(VS_MODE_INHERIT));
        assert_null(vs_mode_name((enum vs_mode) 7));
        assert_int_equal(vs_mode_from_name("off"), VS_MODE_OFF);
        assert_int_equal(vs_mode_from_name("observe"), VS_MODE_OBSERVE);
        assert_int_equal(vs_mode_from_name("enforce"), VS_MODE_ENFORCE);
        assert_int_equal(vs_mode_from_name("default"), -EINVAL);
        assert_int_equal(vs_mode_from_name(""), -EINVAL);
        assert_int_equal(vs_mode_from_name(NULL), -EINVAL);
}

#ifdef TEST_DATADIR
static char *slurp(const char *path) {
        char *text = NULL;
        size_t n = 0;
        FILE *f = fopen(path, "r");

        if (!f)
                fail_msg("cannot open %s", path);
        assert_true(getdelim(&text, &n, '\0', f) > 0);
        fclose(f);
        return text;
}

/* conf/vschedd.conf and man/vschedd.conf.5 list every key, and the sample's defaults are the code's. */
static void test_docs(void **state) {
        _cleanup_free_ char *conf = slurp(TEST_DATADIR "/../../conf/vschedd.conf");
        _cleanup_free_ char *man = slurp(TEST_DATADIR "/../../man/vschedd.conf.5");
        _cleanup_free_ char *printed = NULL, *uncommented = NULL, *want = NULL;
        size_t n = 0;
        struct vs_config c;
        FILE *f;

        assert_int_equal(vs_config_init(&c), 0);
        f = open_memstream(&printed, &n);
        assert_non_null(f);
        assert_int_equal(vs_config_print(&c, f), 0);
        fclose(f);
        vs_config_done(&c);

        for (char *line = strtok(printed, "\n"); line; line = strtok(NULL, "\n")) {
                char key[64];

                if (line[0] == '#' || line[0] == '[')
                        continue;
                /* "#key = default" in the sample */
                want = realloc(want, strlen(line) + 4);
                sprintf(want, "\n#%s\n", line);
                if (!strstr(conf, want))
                        fail_msg("conf/vschedd.conf lacks '#%s'", line);
                /* ".B key" in the man page */
                assert_int_equal(sscanf(line, "%63[a-z_]", key), 1);
                want = realloc(want, strlen(key) + 8);
                sprintf(want, "\n.B %s\n", key);
                if (!strstr(man, want))
                        fail_msg("man/vschedd.conf.5 lacks '.B %s'", key);
        }
        static const char *const vm_keys[] = { "idle", "weight_min", "weight_max", "placement", "coschedule",
                                               "weights", "pin_override", "mode", "priority",
                                               "directed_yield" };
        const char *vm = strstr(man, ".SH SECTION [vm");
        assert_non_null(vm);
        for (size_t i = 0; i < ELEMENTSOF(vm_keys); i++)
                if (!strstr(vm, vm_keys[i]))
                        fail_msg("man/vschedd.conf.5 [vm] section lacks '%s'", vm_keys[i]);

        /* uncommenting every "#key" and "#[section]" line gives a valid file */
        uncommented = malloc(strlen(conf) + 1);
        assert_non_null(uncommented);
        char *o = uncommented;
        for (const char *p = conf; *p; p++) {
                if (p[0] == '#' && (p == conf || p[-1] == '\n') && (islower((unsigned char) p[1]) || p[1] == '['))
                        continue;
                *o++ = *p;
        }
        *o = '\0';
        load_ok(&c, uncommented);
        assert_int_equal(c.n_vms, 3);
        assert_string_equal(c.vms[0].pattern, "db-prod");
        vs_config_done(&c);

        /* and the sample as installed (all commented) gives the defaults */
        struct vs_config d;
        load_ok(&c, conf);
        assert_int_equal(vs_config_init(&d), 0);
        assert_true(vs_config_equal(&c, &d));
        vs_config_done(&c);
        vs_config_done(&d);
}
#endif

/* A runtime override (vschedctl vm set: an entry with no file line) goes
 * with its VM; the file's [vm] sections, of that name too, stay. */
static void test_forget_runtime_vm(void **state) {
        struct vs_config c;
        struct vs_vm_policy vp;

        load_ok(&c, "[vm \"db\"]\nmode = enforce\n[vm \"web*\"]\nidle = yes\n");
        struct vs_vm_override *n = realloc(c.vms, (c.n_vms + 2) * sizeof(*n));
        assert_non_null(n);
        c.vms = n;
        memmove(c.vms + 2, c.vms, c.n_vms * sizeof(*n));
        c.n_vms += 2;
        c.vms[0] = (struct vs_vm_override) { .pattern = strdup("web1"), .mode = VS_MODE_OFF, .idle = -1 };
        c.vms[1] = (struct vs_vm_override) { .pattern = strdup("db2"), .mode = VS_MODE_OFF, .idle = -1 };
        vs_config_vm(&c, "web1", &vp);
        assert_int_equal(vp.mode, VS_MODE_OFF);

        assert_int_equal(vs_config_forget_runtime_vm(&c, "web1"), 1);
        assert_int_equal(vs_config_forget_runtime_vm(&c, "web1"), 0);
        assert_int_equal(vs_config_forget_runtime_vm(&c, "db"), 0);          /* from the file */
        assert_int_equal(c.n_vms, 3);
        assert_string_equal(c.vms[0].pattern, "db2");
        assert_string_equal(c.vms[1].pattern, "db");
        vs_config_vm(&c, "web1", &vp);
        assert_int_equal(vp.idle, 1);                   /* the file's web* again */
        vs_config_vm(&c, "db", &vp);
        assert_int_equal(vp.mode, VS_MODE_ENFORCE);
        vs_config_done(&c);
}

static int setup(void **state) {
        return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state) {
        char cmd[64];

        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
        return system(cmd) == 0 ? 0 : -1;
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_defaults),
                cmocka_unit_test(test_every_key),
                cmocka_unit_test(test_every_key_covered),
                cmocka_unit_test(test_syntax),
                cmocka_unit_test(test_error_lines),
                cmocka_unit_test(test_unknown_and_duplicates),
                cmocka_unit_test(test_bounds),
                cmocka_unit_test(test_caps),
                cmocka_unit_test(test_reserved_cpus),
                cmocka_unit_test(test_priority),
                cmocka_unit_test(test_cross_field),
                cmocka_unit_test(test_vm),
                cmocka_unit_test(test_permissions),
                cmocka_unit_test(test_round_trip),
                cmocka_unit_test(test_forget_runtime_vm),
                cmocka_unit_test(test_hostile),
                cmocka_unit_test(test_locale),
                cmocka_unit_test(test_mode_name),
#ifdef TEST_DATADIR
                cmocka_unit_test(test_docs),
#endif
        };

        return cmocka_run_group_tests(tests, setup, teardown);
}
