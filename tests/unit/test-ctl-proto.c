/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Unit tests for ctl-proto.c: the command table, request validation before
 * dispatch (length, NUL bytes, JSON syntax, depth, version, command, argument
 * names and types) on hostile input, responses, and a mutation fuzz loop.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ctl-proto.h"
#include "macro.h"

/* Parse @len bytes of @s; return the status (0 = valid) and the error text in @err. */
static int parse_n(const char *s, size_t len, char *err, size_t errsz, struct vs_ctl_request *ret_req) {
        struct vs_ctl_request req = {};
        struct json_object *resp = NULL;
        int r;

        r = vs_ctl_request_parse(s, len, &req, &resp);
        assert_true(r >= 0);
        if (err)
                err[0] = 0;
        if (r == 0) {
                assert_null(resp);
                assert_non_null(req.command);
                assert_true(json_object_is_type(req.args, json_type_object));
                if (ret_req)
                        *ret_req = req;
                else
                        vs_ctl_request_done(&req);
                return 0;
        }
        assert_non_null(resp);
        {
                /* the error response must itself be a valid response */
                char *wire = NULL, *e = NULL;
                size_t wlen;
                enum vs_ctl_status st;
                struct json_object *data = NULL;

                assert_int_equal(vs_ctl_serialize(resp, &wire, &wlen), 0);
                assert_int_equal(vs_ctl_response_parse(wire, wlen, &st, &e, &data), 0);
                assert_int_equal((int) st, r);
                assert_null(data);
                assert_non_null(e);
                if (err)
                        snprintf(err, errsz, "%s", e);
                free(e);
                free(wire);
        }
        json_object_put(resp);
        return r;
}

static int parse(const char *s, char *err, size_t errsz) {
        return parse_n(s, strlen(s), err, errsz, NULL);
}

static void test_table(void **state) {
        size_t n;
        const struct vs_ctl_command_info *t = vs_ctl_commands(&n);

        assert_int_equal(n, _VS_CTL_CMD_MAX - 1);
        for (size_t i = 0; i < n; i++) {
                assert_int_equal(t[i].id, (int) i + 1);
                assert_ptr_equal(vs_ctl_command_by_name(t[i].name), &t[i]);
                assert_ptr_equal(vs_ctl_command_by_id(t[i].id), &t[i]);
                for (size_t j = 0; j < i; j++)
                        assert_string_not_equal(t[i].name, t[j].name);
        }
        /* the numbers are the protocol: never renumbered */
        assert_string_equal(vs_ctl_command_by_id(1)->name, "status");
        assert_string_equal(vs_ctl_command_by_id(2)->name, "vms");
        assert_string_equal(vs_ctl_command_by_id(3)->name, "vm");
        assert_string_equal(vs_ctl_command_by_id(4)->name, "vm-set");
        assert_string_equal(vs_ctl_command_by_id(5)->name, "reload");
        assert_string_equal(vs_ctl_command_by_id(6)->name, "metrics");
        assert_null(vs_ctl_command_by_id(0));
        assert_null(vs_ctl_command_by_id(_VS_CTL_CMD_MAX));
        assert_null(vs_ctl_command_by_name("nope"));
        assert_true(vs_ctl_command_by_name("vm-set")->needs_write);
        assert_true(vs_ctl_command_by_name("reload")->needs_write);
        assert_false(vs_ctl_command_by_name("status")->needs_write);
        assert_false(vs_ctl_command_by_name("metrics")->needs_write);

        for (int s = 0; s < _VS_CTL_STATUS_MAX; s++)
                assert_int_equal(vs_ctl_status_from_string(vs_ctl_status_to_string(s)), s);
        assert_int_equal(vs_ctl_status_from_string("OK"), -EINVAL);
        assert_null(vs_ctl_status_to_string(_VS_CTL_STATUS_MAX));
}

static void test_valid(void **state) {
        struct vs_ctl_request req;
        const char *s;
        struct json_object *v;

        assert_int_equal(parse("{\"version\":1,\"command\":\"status\"}", NULL, 0), 0);
        assert_int_equal(parse("{\"version\":1,\"command\":\"status\",\"args\":{}}", NULL, 0), 0);
        assert_int_equal(parse(" {\"command\":\"metrics\",\"version\":1}\n", NULL, 0), 0);

        s = "{\"version\":1,\"command\":\"vm\",\"args\":{\"name\":\"web 1\"}}";
        assert_int_equal(parse_n(s, strlen(s), NULL, 0, &req), 0);
        assert_int_equal(req.command->id, VS_CTL_CMD_VM);
        assert_true(json_object_object_get_ex(req.args, "name", &v));
        assert_string_equal(json_object_get_string(v), "web 1");
        vs_ctl_request_done(&req);
        assert_null(req.args);

        s = "{\"version\":1,\"command\":\"vm-set\",\"args\":{\"name\":\"db\",\"mode\":\"enforce\","
            "\"weight_min\":50,\"weight_max\":10000,\"idle\":false}}";
        assert_int_equal(parse_n(s, strlen(s), NULL, 0, &req), 0);
        assert_int_equal(req.command->id, VS_CTL_CMD_VM_SET);
        assert_true(req.command->needs_write);
        vs_ctl_request_done(&req);

        /* UTF-8 VM names are fine */
        assert_int_equal(parse("{\"version\":1,\"command\":\"vm\",\"args\":{\"name\":\"v\xc3\xa9m\"}}", NULL, 0), 0);
}

static void test_length(void **state) {
        char err[256];
        char *big;
        size_t n = VS_CTL_MSG_MAX;
        const char *head = "{\"version\":1,\"command\":\"status\"}";

        assert_int_equal(parse_n("", 0, err, sizeof(err), NULL), VS_CTL_BAD_LENGTH);

        /* exactly the maximum is accepted (padded with whitespace) */
        big = malloc(n + 2);
        assert_non_null(big);
        memset(big, ' ', n + 1);
        memcpy(big, head, strlen(head));
        assert_int_equal(parse_n(big, n, err, sizeof(err), NULL), 0);
        /* one more byte is not, and the bytes are not even looked at */
        assert_int_equal(parse_n(big, n + 1, err, sizeof(err), NULL), VS_CTL_BAD_LENGTH);
        assert_non_null(strstr(err, "exceeds"));
        /* a huge string argument inside the limit is refused by the schema */
        memset(big, 'a', n);
        memcpy(big, "{\"version\":1,\"command\":\"vm\",\"args\":{\"name\":\"", 44);
        memcpy(big + n - 4, "\"}}", 4);
        assert_int_equal(parse_n(big, n - 1, err, sizeof(err), NULL), VS_CTL_INVALID);
        assert_non_null(strstr(err, "too long"));
        free(big);
}

static void test_malformed(void **state) {
        char err[256];

        assert_int_equal(parse("{\"version\":1,\"command\":\"sta", err, sizeof(err)), VS_CTL_INVALID);
        assert_string_equal(err, "truncated JSON");
        assert_int_equal(parse("{\"version\":1,", err, sizeof(err)), VS_CTL_INVALID);
        assert_int_equal(parse("{", err, sizeof(err)), VS_CTL_INVALID);
        assert_int_equal(parse("}", err, sizeof(err)), VS_CTL_INVALID);
        assert_int_equal(parse("[1,2]", err, sizeof(err)), VS_CTL_INVALID);
        assert_string_equal(err, "request is not a JSON object");
        assert_int_equal(parse("\"status\"", err, sizeof(err)), VS_CTL_INVALID);
        assert_int_equal(parse("null", err, sizeof(err)), VS_CTL_INVALID);
        assert_int_equal(parse("status", err, sizeof(err)), VS_CTL_INVALID);
        assert_int_equal(parse("{\"version\":1,\"command\":\"status\"}{}", err, sizeof(err)), VS_CTL_INVALID);
        /* json-c's strict mode or our end check, either way refused */
        assert_true(strcmp(err, "trailing bytes after the JSON object") == 0 || strcmp(err, "malformed JSON") == 0);
        assert_int_equal(parse("{\"version\":1,\"command\":\"status\"} x", err, sizeof(err)), VS_CTL_INVALID);
        /* strict mode: no single quotes, no trailing commas, no comments */
        assert_int_equal(parse("{'version':1,'command':'status'}", err, sizeof(err)), VS_CTL_INVALID);
        assert_int_equal(parse("{\"version\":1,\"command\":\"status\",}", err, sizeof(err)), VS_CTL_INVALID);
        assert_int_equal(parse("{/*x*/\"version\":1,\"command\":\"status\"}", err, sizeof(err)), VS_CTL_INVALID);
        /* invalid UTF-8 */
        assert_int_equal(parse("{\"version\":1,\"command\":\"vm\",\"args\":{\"name\":\"\xff\xfe\"}}", err, sizeof(err)),
                         VS_CTL_INVALID);
        assert_int_equal(parse("{\"version\":1,\"command\":\"vm\",\"args\":{\"name\":\"\xc0\xaf\"}}", err, sizeof(err)),
                         VS_CTL_INVALID);
}

static void test_nul(void **state) {
        char err[256];
        static const char raw[] = "{\"version\":1,\"command\":\"status\"}\0garbage";
        static const char in_string[] = "{\"version\":1,\"command\":\"vm\",\"args\":{\"name\":\"a\0b\"}}";

        assert_int_equal(parse_n(raw, sizeof(raw) - 1, err, sizeof(err), NULL), VS_CTL_INVALID);
        assert_string_equal(err, "request contains a NUL byte");
        assert_int_equal(parse_n(in_string, sizeof(in_string) - 1, err, sizeof(err), NULL), VS_CTL_INVALID);
        /* a trailing NUL as C programs tend to send */
        assert_int_equal(parse_n("{\"version\":1,\"command\":\"status\"}", 34, err, sizeof(err), NULL), VS_CTL_INVALID);
        /* escaped NUL: valid JSON, refused by the schema */
        assert_int_equal(parse("{\"version\":1,\"command\":\"vm\",\"args\":{\"name\":\"a\\u0000b\"}}", err, sizeof(err)),
                         VS_CTL_INVALID);
        assert_non_null(strstr(err, "NUL"));
        assert_int_equal(parse("{\"version\":1,\"command\":\"stat\\u0000us\"}", err, sizeof(err)),
                         VS_CTL_UNKNOWN_COMMAND);
        /* control characters in names */
        assert_int_equal(parse("{\"version\":1,\"command\":\"vm\",\"args\":{\"name\":\"a\\nb\"}}", err, sizeof(err)),
                         VS_CTL_INVALID);
        assert_non_null(strstr(err, "control character"));
}

static void test_depth(void **state) {
        char err[256];
        char buf[1024];
        size_t n = 0;

        n += (size_t) snprintf(buf, sizeof(buf), "{\"version\":1,\"command\":\"status\",\"args\":{\"x\":");
        for (int i = 0; i < 200; i++)
                buf[n++] = '[';
        for (int i = 0; i < 200; i++)
                buf[n++] = ']';
        n += (size_t) snprintf(buf + n, sizeof(buf) - n, "}}");
        assert_int_equal(parse_n(buf, n, err, sizeof(err), NULL), VS_CTL_INVALID);
        assert_string_equal(err, "JSON nested too deeply");

        /* shallow nesting in an unknown argument: refused by name, not depth */
        assert_int_equal(parse("{\"version\":1,\"command\":\"status\",\"args\":{\"x\":[[1]]}}", err, sizeof(err)),
                         VS_CTL_INVALID);
        assert_non_null(strstr(err, "no argument 'x'"));
}

static void test_version(void **state) {
        char err[256];

        assert_int_equal(parse("{\"version\":2,\"command\":\"status\"}", err, sizeof(err)), VS_CTL_BAD_VERSION);
        assert_non_null(strstr(err, "version 2"));
        assert_int_equal(parse("{\"version\":0,\"command\":\"status\"}", err, sizeof(err)), VS_CTL_BAD_VERSION);
        assert_int_equal(parse("{\"version\":-1,\"command\":\"status\"}", err, sizeof(err)), VS_CTL_BAD_VERSION);
        assert_int_equal(parse("{\"version\":99999999999999999999,\"command\":\"status\"}", err, sizeof(err)),
                         VS_CTL_BAD_VERSION);
        assert_int_equal(parse("{\"version\":\"1\",\"command\":\"status\"}", err, sizeof(err)), VS_CTL_INVALID);
        assert_int_equal(parse("{\"version\":1.0,\"command\":\"status\"}", err, sizeof(err)), VS_CTL_INVALID);
        assert_int_equal(parse("{\"command\":\"status\"}", err, sizeof(err)), VS_CTL_INVALID);
        /* version is checked before the command */
        assert_int_equal(parse("{\"version\":3,\"command\":\"frobnicate\"}", err, sizeof(err)), VS_CTL_BAD_VERSION);
}

static void test_command_and_args(void **state) {
        char err[256];

        assert_int_equal(parse("{\"version\":1,\"command\":\"frobnicate\"}", err, sizeof(err)), VS_CTL_UNKNOWN_COMMAND);
        assert_string_equal(err, "unknown command 'frobnicate'");
        assert_int_equal(parse("{\"version\":1,\"command\":\"STATUS\"}", err, sizeof(err)), VS_CTL_UNKNOWN_COMMAND);
        assert_int_equal(parse("{\"version\":1,\"command\":\"\"}", err, sizeof(err)), VS_CTL_UNKNOWN_COMMAND);
        /* hostile text is not echoed raw */
        assert_int_equal(parse("{\"version\":1,\"command\":\"a\\\"b\\nc\"}", err, sizeof(err)), VS_CTL_UNKNOWN_COMMAND);
        assert_null(strchr(err, '\n'));
        assert_int_equal(parse("{\"version\":1,\"command\":1}", err, sizeof(err)), VS_CTL_INVALID);
        assert_int_equal(parse("{\"version\":1,\"command\":null}", err, sizeof(err)), VS_CTL_INVALID);
        assert_int_equal(parse("{\"version\":1,\"command\":[\"status\"]}", err, sizeof(err)), VS_CTL_INVALID);
        assert_int_equal(parse("{\"version\":1}", err, sizeof(err)), VS_CTL_INVALID);
        assert_int_equal(parse("{\"version\":1,\"command\":\"status\",\"extra\":1}", err, sizeof(err)), VS_CTL_INVALID);
        assert_non_null(strstr(err, "unknown field 'extra'"));

        assert_int_equal(parse("{\"version\":1,\"command\":\"status\",\"args\":[]}", err, sizeof(err)), VS_CTL_INVALID);
        assert_int_equal(parse("{\"version\":1,\"command\":\"status\",\"args\":null}", err, sizeof(err)), VS_CTL_INVALID);
        assert_int_equal(parse("{\"version\":1,\"command\":\"status\",\"args\":{\"name\":\"x\"}}", err, sizeof(err)),
                         VS_CTL_INVALID);
        assert_int_equal(parse("{\"version\":1,\"command\":\"vm\"}", err, sizeof(err)), VS_CTL_INVALID);
        assert_string_equal(err, "command 'vm' needs argument 'name'");
        assert_int_equal(parse("{\"version\":1,\"command\":\"vm\",\"args\":{\"name\":5}}", err, sizeof(err)), VS_CTL_INVALID);
        assert_string_equal(err, "argument 'name' must be a string");
        assert_int_equal(parse("{\"version\":1,\"command\":\"vm\",\"args\":{\"name\":\"\"}}", err, sizeof(err)), VS_CTL_INVALID);
        assert_int_equal(parse("{\"version\":1,\"command\":\"vm\",\"args\":{\"name\":{}}}", err, sizeof(err)), VS_CTL_INVALID);

#define SET(x) "{\"version\":1,\"command\":\"vm-set\",\"args\":{\"name\":\"a\"" x "}}"
        assert_int_equal(parse(SET(""), err, sizeof(err)), VS_CTL_INVALID);
        assert_non_null(strstr(err, "at least one setting"));
        assert_int_equal(parse(SET(",\"weight_min\":\"10\""), err, sizeof(err)), VS_CTL_INVALID);
        assert_string_equal(err, "argument 'weight_min' must be an integer");
        assert_int_equal(parse(SET(",\"weight_min\":0"), err, sizeof(err)), VS_CTL_INVALID);
        assert_string_equal(err, "argument 'weight_min' must be between 1 and 10000");
        assert_int_equal(parse(SET(",\"weight_max\":10001"), err, sizeof(err)), VS_CTL_INVALID);
        assert_int_equal(parse(SET(",\"weight_max\":-5"), err, sizeof(err)), VS_CTL_INVALID);
        assert_int_equal(parse(SET(",\"weight_max\":18446744073709551615"), err, sizeof(err)), VS_CTL_INVALID);
        assert_int_equal(parse(SET(",\"weight_max\":100.5"), err, sizeof(err)), VS_CTL_INVALID);
        assert_int_equal(parse(SET(",\"idle\":1"), err, sizeof(err)), VS_CTL_INVALID);
        assert_string_equal(err, "argument 'idle' must be true or false");
        assert_int_equal(parse(SET(",\"mode\":\"fast\""), err, sizeof(err)), VS_CTL_INVALID);
        assert_string_equal(err, "argument 'mode' must be off|observe|enforce");
        assert_int_equal(parse(SET(",\"mode\":true"), err, sizeof(err)), VS_CTL_INVALID);
        assert_int_equal(parse(SET(",\"mode\":\"off\",\"colour\":\"red\""), err, sizeof(err)), VS_CTL_INVALID);
        assert_int_equal(parse(SET(",\"idle\":true"), err, sizeof(err)), 0);
        assert_int_equal(parse(SET(",\"mode\":\"observe\""), err, sizeof(err)), 0);
        assert_int_equal(parse("{\"version\":1,\"command\":\"vm-set\",\"args\":{\"idle\":true}}", err, sizeof(err)),
                         VS_CTL_INVALID);
#undef SET
}

static void test_arg_from_string(void **state) {
        const struct vs_ctl_command_info *cmd = vs_ctl_command_by_name("vm-set");
        struct json_object *v = NULL;
        char *err = NULL;

        assert_int_equal(vs_ctl_arg_from_string(vs_ctl_command_arg(cmd, "weight_min"), "100", &v, &err), 0);
        assert_int_equal(json_object_get_int64(v), 100);
        json_object_put(v);
        assert_int_equal(vs_ctl_arg_from_string(vs_ctl_command_arg(cmd, "weight_min"), "0", &v, &err), -EINVAL);
        assert_string_equal(err, "argument 'weight_min' must be between 1 and 10000");
        assert_int_equal(vs_ctl_arg_from_string(vs_ctl_command_arg(cmd, "weight_min"), "-1", &v, &err), -EINVAL);
        assert_int_equal(vs_ctl_arg_from_string(vs_ctl_command_arg(cmd, "weight_min"), "12x", &v, &err), -EINVAL);
        assert_int_equal(vs_ctl_arg_from_string(vs_ctl_command_arg(cmd, "weight_min"), "", &v, &err), -EINVAL);
        assert_int_equal(vs_ctl_arg_from_string(vs_ctl_command_arg(cmd, "weight_min"), "99999999999999999999999", &v,
                                                &err),
                         -EINVAL);
        assert_int_equal(vs_ctl_arg_from_string(vs_ctl_command_arg(cmd, "idle"), "yes", &v, &err), 0);
        assert_true(json_object_get_boolean(v));
        json_object_put(v);
        assert_int_equal(vs_ctl_arg_from_string(vs_ctl_command_arg(cmd, "idle"), "0", &v, &err), 0);
        assert_false(json_object_get_boolean(v));
        json_object_put(v);
        assert_int_equal(vs_ctl_arg_from_string(vs_ctl_command_arg(cmd, "idle"), "maybe", &v, &err), -EINVAL);
        assert_int_equal(vs_ctl_arg_from_string(vs_ctl_command_arg(cmd, "mode"), "enforce", &v, &err), 0);
        json_object_put(v);
        assert_int_equal(vs_ctl_arg_from_string(vs_ctl_command_arg(cmd, "mode"), "Enforce", &v, &err), -EINVAL);
        free(err);
}

static void test_responses(void **state) {
        struct json_object *data = json_object_new_object(), *resp, *got = NULL, *v;
        char *wire = NULL, *err = NULL;
        enum vs_ctl_status st;
        size_t len;

        json_object_object_add(data, "mode", json_object_new_string("observe"));
        resp = vs_ctl_response_new(VS_CTL_OK, NULL, data);
        assert_int_equal(vs_ctl_serialize(resp, &wire, &len), 0);
        assert_int_equal(len, strlen(wire));
        assert_int_equal(vs_ctl_response_parse(wire, len, &st, &err, &got), 0);
        assert_int_equal(st, VS_CTL_OK);
        assert_null(err);
        assert_true(json_object_object_get_ex(got, "mode", &v));
        assert_string_equal(json_object_get_string(v), "observe");
        json_object_put(got);
        json_object_put(resp);
        free(wire);

        /* an error response carries no data even when given some */
        resp = vs_ctl_response_new(VS_CTL_UNAUTH, NULL, data);
        assert_int_equal(vs_ctl_serialize(resp, &wire, &len), 0);
        assert_int_equal(vs_ctl_response_parse(wire, len, &st, &err, &got), 0);
        assert_int_equal(st, VS_CTL_UNAUTH);
        assert_string_equal(err, "permission denied");
        assert_null(got);
        free(err);
        free(wire);
        json_object_put(resp);
        json_object_put(data);

        /* malformed responses */
        assert_int_equal(vs_ctl_response_parse("{}", 2, &st, &err, &got), -EBADMSG);
        assert_int_equal(vs_ctl_response_parse("{\"version\":2,\"status\":\"ok\"}", 27, &st, &err, &got), -EBADMSG);
        assert_int_equal(vs_ctl_response_parse("{\"version\":1,\"status\":\"great\"}", 30, &st, &err, &got), -EBADMSG);
        assert_int_equal(vs_ctl_response_parse("{\"version\":1,\"status\":\"ok\",\"data\":3}", 36, &st, &err, &got),
                         -EBADMSG);
        assert_int_equal(vs_ctl_response_parse("{\"version\":1,\"status\":\"ok\"", 26, &st, &err, &got), -EBADMSG);
        assert_int_equal(vs_ctl_response_parse("x", VS_CTL_MSG_MAX + 1, &st, &err, &got), -EMSGSIZE);

        /* a response that does not fit a datagram is refused by serialize */
        data = json_object_new_object();
        {
                char *s = malloc(VS_CTL_MSG_MAX + 1);
                memset(s, 'x', VS_CTL_MSG_MAX);
                s[VS_CTL_MSG_MAX] = 0;
                json_object_object_add(data, "text", json_object_new_string(s));
                free(s);
        }
        resp = vs_ctl_response_new(VS_CTL_OK, NULL, data);
        assert_int_equal(vs_ctl_serialize(resp, &wire, &len), -EMSGSIZE);
        json_object_put(resp);
        json_object_put(data);

        /* request builder round trip through the validator */
        data = json_object_new_object();
        json_object_object_add(data, "name", json_object_new_string("web\"1"));
        resp = vs_ctl_request_new("vm", data);
        json_object_put(data);
        assert_int_equal(vs_ctl_serialize(resp, &wire, &len), 0);
        assert_int_equal(parse_n(wire, len, NULL, 0, NULL), 0);
        free(wire);
        json_object_put(resp);
}

/* Random bytes and random mutations of valid requests: never a crash or a
 * leak, always either a valid request or a well-formed error response. */
static void test_fuzz(void **state) {
        static const char *const seeds[] = {
                "{\"version\":1,\"command\":\"status\"}",
                "{\"version\":1,\"command\":\"vm\",\"args\":{\"name\":\"web1\"}}",
                "{\"version\":1,\"command\":\"vm-set\",\"args\":{\"name\":\"a\",\"weight_min\":5,\"idle\":true}}",
        };
        char buf[512];
        unsigned seed = 12345;

        for (int iter = 0; iter < 20000; iter++) {
                const char *s = seeds[iter % ELEMENTSOF(seeds)];
                size_t len = strlen(s);
                int kind = iter % 4;

                memcpy(buf, s, len);
                if (kind == 0) {
                        len = (size_t) (rand_r(&seed) % sizeof(buf));
                        for (size_t i = 0; i < len; i++)
                                buf[i] = (char) rand_r(&seed);
                } else if (kind == 1) {
                        len = (size_t) rand_r(&seed) % (len + 1);
                } else {
                        int flips = 1 + rand_r(&seed) % 4;
                        for (int k = 0; k < flips; k++)
                                buf[rand_r(&seed) % len] = (char) (kind == 2 ? rand_r(&seed) : "{}[]\",:\\0"[rand_r(&seed) % 10]);
                }
                (void) parse_n(buf, len, NULL, 0, NULL);
        }
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_table),
                cmocka_unit_test(test_valid),
                cmocka_unit_test(test_length),
                cmocka_unit_test(test_malformed),
                cmocka_unit_test(test_nul),
                cmocka_unit_test(test_depth),
                cmocka_unit_test(test_version),
                cmocka_unit_test(test_command_and_args),
                cmocka_unit_test(test_arg_from_string),
                cmocka_unit_test(test_responses),
                cmocka_unit_test(test_fuzz),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
