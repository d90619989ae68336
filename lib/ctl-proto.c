/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ctl-proto.c - command table and validation of the control protocol.
 * See ctl-proto.h for the wire format.  No I/O, no logging, no globals
 * besides the constant tables.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ctl-proto.h"
#include "json-util.h"
#include "macro.h"

static const char *const status_names[_VS_CTL_STATUS_MAX] = {
        [VS_CTL_OK] = "ok",
        [VS_CTL_INVALID] = "invalid",
        [VS_CTL_BAD_VERSION] = "bad_version",
        [VS_CTL_BAD_LENGTH] = "bad_length",
        [VS_CTL_UNAUTH] = "unauth",
        [VS_CTL_UNKNOWN_COMMAND] = "unknown_command",
        [VS_CTL_ERROR] = "error",
};

static const char *const status_default_text[_VS_CTL_STATUS_MAX] = {
        [VS_CTL_OK] = "ok",
        [VS_CTL_INVALID] = "invalid request",
        [VS_CTL_BAD_VERSION] = "unsupported protocol version",
        [VS_CTL_BAD_LENGTH] = "bad request length",
        [VS_CTL_UNAUTH] = "permission denied",
        [VS_CTL_UNKNOWN_COMMAND] = "unknown command",
        [VS_CTL_ERROR] = "error",
};

static const char *const mode_values[] = { "off", "observe", "enforce", NULL };
static const char *const priority_values[] = { "high", "normal", "low", NULL };

static const struct vs_ctl_arg args_vm[] = {
        { .name = "name", .type = VS_CTL_ARG_STRING, .required = true, .help = "VM name" },
};

static const struct vs_ctl_arg args_vm_set[] = {
        { .name = "name", .type = VS_CTL_ARG_STRING, .required = true, .help = "VM name" },
        { .name = "mode", .type = VS_CTL_ARG_ENUM, .values = mode_values, .help = "off|observe|enforce" },
        { .name = "weight_min", .type = VS_CTL_ARG_UINT, .min = 1, .max = 10000, .help = "1..10000" },
        { .name = "weight_max", .type = VS_CTL_ARG_UINT, .min = 1, .max = 10000, .help = "1..10000" },
        { .name = "idle", .type = VS_CTL_ARG_BOOL, .help = "0|1" },
        { .name = "priority", .type = VS_CTL_ARG_ENUM, .values = priority_values, .help = "high|normal|low" },
};

/* Indexed by number - 1.  Append only. */
static const struct vs_ctl_command_info commands[] = {
        { VS_CTL_CMD_STATUS, "status", false, false, NULL, 0 },
        { VS_CTL_CMD_VMS, "vms", false, false, NULL, 0 },
        { VS_CTL_CMD_VM, "vm", false, false, args_vm, ELEMENTSOF(args_vm) },
        { VS_CTL_CMD_VM_SET, "vm-set", true, true, args_vm_set, ELEMENTSOF(args_vm_set) },
        { VS_CTL_CMD_RELOAD, "reload", true, false, NULL, 0 },
        { VS_CTL_CMD_METRICS, "metrics", false, false, NULL, 0 },
        { VS_CTL_CMD_TOP, "top", false, false, NULL, 0 },
};

_Static_assert(ELEMENTSOF(commands) == _VS_CTL_CMD_MAX - 1, "command table out of sync with enum");

const char *vs_ctl_status_to_string(enum vs_ctl_status s) {
        if ((unsigned) s >= _VS_CTL_STATUS_MAX)
                return NULL;
        return status_names[s];
}

int vs_ctl_status_from_string(const char *s) {
        if (!s)
                return -EINVAL;
        for (int i = 0; i < _VS_CTL_STATUS_MAX; i++)
                if (strcmp(status_names[i], s) == 0)
                        return i;
        return -EINVAL;
}

const struct vs_ctl_command_info *vs_ctl_commands(size_t *ret_n) {
        if (ret_n)
                *ret_n = ELEMENTSOF(commands);
        return commands;
}

const struct vs_ctl_command_info *vs_ctl_command_by_name(const char *name) {
        if (!name)
                return NULL;
        for (size_t i = 0; i < ELEMENTSOF(commands); i++)
                if (strcmp(commands[i].name, name) == 0)
                        return &commands[i];
        return NULL;
}

const struct vs_ctl_command_info *vs_ctl_command_by_id(enum vs_ctl_command id) {
        if (id < 1 || id >= _VS_CTL_CMD_MAX)
                return NULL;
        return &commands[id - 1];
}

const struct vs_ctl_arg *vs_ctl_command_arg(const struct vs_ctl_command_info *cmd, const char *name) {
        if (!cmd || !name)
                return NULL;
        for (size_t i = 0; i < cmd->n_args; i++)
                if (strcmp(cmd->args[i].name, name) == 0)
                        return &cmd->args[i];
        return NULL;
}

static int set_error(char **ret_error, const char *fmt, ...) _printf_(2, 3);
static int set_error(char **ret_error, const char *fmt, ...) {
        va_list ap;
        char *s;
        int n;

        if (!ret_error)
                return -EINVAL;
        va_start(ap, fmt);
        n = vasprintf(&s, fmt, ap);
        va_end(ap);
        if (n < 0)
                return -ENOMEM;
        free(*ret_error);
        *ret_error = s;
        return -EINVAL;
}

/* Strict UTF-8 (no overlong forms, surrogates or code points above
 * U+10FFFF), which json-c's JSON_TOKENER_VALIDATE_UTF8 does not fully check. */
static bool utf8_valid(const unsigned char *s, size_t len) {
        for (size_t i = 0; i < len;) {
                unsigned char c = s[i];
                size_t n;
                uint32_t cp;

                if (c < 0x80) {
                        i++;
                        continue;
                }
                if (c >= 0xc2 && c <= 0xdf)
                        n = 2, cp = c & 0x1f;
                else if (c >= 0xe0 && c <= 0xef)
                        n = 3, cp = c & 0x0f;
                else if (c >= 0xf0 && c <= 0xf4)
                        n = 4, cp = c & 0x07;
                else
                        return false;
                if (len - i < n)
                        return false;
                for (size_t k = 1; k < n; k++) {
                        if ((s[i + k] & 0xc0) != 0x80)
                                return false;
                        cp = (cp << 6) | (s[i + k] & 0x3f);
                }
                if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
                    (cp >= 0xd800 && cp <= 0xdfff))
                        return false;
                i += n;
        }
        return true;
}

/* A printable rendering of untrusted text for an error message: at most 64
 * bytes, cut only between characters; control characters, quotes and bytes
 * that are not part of a valid UTF-8 sequence (json-c decodes a lone
 * "\ud800" escape into such bytes) replaced by '?', so the error response
 * itself is always valid UTF-8 that vs_ctl_response_parse() accepts. */
static void quote_untrusted(const char *str, char out[static 68]) {
        const unsigned char *s = (const unsigned char *) str;
        size_t n = 0;

        while (*s) {
                size_t len = *s < 0x80 ? 1 : *s >= 0xf0 ? 4 : *s >= 0xe0 ? 3 : 2;
                size_t avail = strnlen((const char *) s, len);

                if (len > 1 && (avail < len || !utf8_valid(s, len)))
                        len = 1; /* a stray byte: one '?' */
                if (n + len > 64)
                        break;
                if (len == 1)
                        out[n++] = (*s < 0x20 || *s >= 0x7f || *s == '"' || *s == '\\') ? '?' : (char) *s;
                else {
                        memcpy(out + n, s, len);
                        n += len;
                }
                s += len;
        }
        if (*s) {
                memcpy(out + n, "...", 3);
                n += 3;
        }
        out[n] = 0;
}

static bool string_ok(struct json_object *v, const char **ret_why) {
        const char *s = json_object_get_string(v);
        size_t len = (size_t) json_object_get_string_len(v);

        if (len == 0) {
                *ret_why = "must not be empty";
                return false;
        }
        if (len > VS_CTL_STRING_MAX) {
                *ret_why = "is too long";
                return false;
        }
        if (strlen(s) != len) {
                *ret_why = "contains a NUL character";
                return false;
        }
        if (!utf8_valid((const unsigned char *) s, len)) {
                *ret_why = "is not valid UTF-8";
                return false;
        }
        for (size_t i = 0; i < len; i++)
                if ((unsigned char) s[i] < 0x20 || s[i] == 0x7f) {
                        *ret_why = "contains a control character";
                        return false;
                }
        return true;
}

static int check_arg(const struct vs_ctl_arg *a, struct json_object *v, char **ret_error) {
        const char *why;

        switch (a->type) {
        case VS_CTL_ARG_STRING:
                if (!json_object_is_type(v, json_type_string))
                        return set_error(ret_error, "argument '%s' must be a string", a->name);
                if (!string_ok(v, &why))
                        return set_error(ret_error, "argument '%s' %s", a->name, why);
                return 0;

        case VS_CTL_ARG_UINT: {
                uint64_t u;
                if (!json_object_is_type(v, json_type_int))
                        return set_error(ret_error, "argument '%s' must be an integer", a->name);
                if (json_object_get_int64(v) < 0)
                        return set_error(ret_error, "argument '%s' must be between %" PRIu64 " and %" PRIu64,
                                         a->name, a->min, a->max);
                u = json_object_get_uint64(v);
                if (u < a->min || u > a->max)
                        return set_error(ret_error, "argument '%s' must be between %" PRIu64 " and %" PRIu64,
                                         a->name, a->min, a->max);
                return 0;
        }

        case VS_CTL_ARG_BOOL:
                if (!json_object_is_type(v, json_type_boolean))
                        return set_error(ret_error, "argument '%s' must be true or false", a->name);
                return 0;

        case VS_CTL_ARG_ENUM: {
                const char *s;
                if (!json_object_is_type(v, json_type_string))
                        return set_error(ret_error, "argument '%s' must be a string", a->name);
                s = json_object_get_string(v);
                if (strlen(s) == (size_t) json_object_get_string_len(v))
                        for (size_t i = 0; a->values[i]; i++)
                                if (strcmp(a->values[i], s) == 0)
                                        return 0;
                return set_error(ret_error, "argument '%s' must be %s", a->name, a->help);
        }
        }
        return set_error(ret_error, "argument '%s' has an unknown type", a->name);
}

int vs_ctl_validate_args(const struct vs_ctl_command_info *cmd, struct json_object *args, char **ret_error) {
        size_t n_optional = 0;
        int r;

        if (!cmd)
                return -EINVAL;
        if (args && !json_object_is_type(args, json_type_object))
                return set_error(ret_error, "\"args\" must be an object");

        if (args) {
                json_object_object_foreach(args, key, val) {
                        const struct vs_ctl_arg *a = vs_ctl_command_arg(cmd, key);
                        if (!a) {
                                char q[68];
                                quote_untrusted(key, q);
                                return set_error(ret_error, "command '%s' has no argument '%s'", cmd->name, q);
                        }
                        r = check_arg(a, val, ret_error);
                        if (r < 0)
                                return r;
                        if (!a->required)
                                n_optional++;
                }
        }

        for (size_t i = 0; i < cmd->n_args; i++)
                if (cmd->args[i].required && !(args && json_object_object_get_ex(args, cmd->args[i].name, NULL)))
                        return set_error(ret_error, "command '%s' needs argument '%s'", cmd->name,
                                         cmd->args[i].name);

        if (cmd->needs_setting && n_optional == 0)
                return set_error(ret_error, "command '%s' needs at least one setting to change", cmd->name);

        return 0;
}

int vs_ctl_arg_from_string(const struct vs_ctl_arg *arg, const char *value, struct json_object **ret,
                           char **ret_error) {
        struct json_object *v = NULL;
        int r;

        if (!arg || !value || !ret)
                return -EINVAL;

        switch (arg->type) {
        case VS_CTL_ARG_STRING:
        case VS_CTL_ARG_ENUM:
                v = json_object_new_string(value);
                break;
        case VS_CTL_ARG_UINT: {
                char *end;
                unsigned long long u;
                if (value[0] < '0' || value[0] > '9')
                        return set_error(ret_error, "%s: '%s' is not a number", arg->name, value);
                errno = 0;
                u = strtoull(value, &end, 10);
                if (errno != 0 || *end != 0)
                        return set_error(ret_error, "%s: '%s' is not a number", arg->name, value);
                v = json_object_new_uint64(u);
                break;
        }
        case VS_CTL_ARG_BOOL:
                r = vs_parse_bool(value);
                if (r < 0)
                        return set_error(ret_error, "%s: '%s' is not a boolean (0/1, yes/no)", arg->name, value);
                v = json_object_new_boolean(r);
                break;
        }
        if (!v)
                return -ENOMEM;

        r = check_arg(arg, v, ret_error);
        if (r < 0) {
                json_object_put(v);
                return r;
        }
        *ret = v;
        return 0;
}

struct json_object *vs_ctl_request_new(const char *command_name, struct json_object *args) {
        struct json_object *o = json_object_new_object();
        if (!o)
                return NULL;
        if (json_object_object_add(o, "version", json_object_new_int(VS_CTL_PROTO_VERSION)) < 0 ||
            json_object_object_add(o, "command", json_object_new_string(command_name)) < 0) {
                json_object_put(o);
                return NULL;
        }
        if (args && json_object_object_add(o, "args", json_object_get(args)) < 0) {
                json_object_put(o);
                return NULL;
        }
        return o;
}

struct json_object *vs_ctl_response_new(enum vs_ctl_status status, const char *error, struct json_object *data) {
        struct json_object *o;

        if ((unsigned) status >= _VS_CTL_STATUS_MAX)
                status = VS_CTL_ERROR;
        o = json_object_new_object();
        if (!o)
                return NULL;
        if (json_object_object_add(o, "version", json_object_new_int(VS_CTL_PROTO_VERSION)) < 0 ||
            json_object_object_add(o, "status", json_object_new_string(status_names[status])) < 0)
                goto fail;
        if (status != VS_CTL_OK) {
                if (json_object_object_add(o, "error",
                                           json_object_new_string(error ?: status_default_text[status])) < 0)
                        goto fail;
        } else if (data) {
                if (json_object_object_add(o, "data", json_object_get(data)) < 0)
                        goto fail;
        }
        return o;
fail:
        json_object_put(o);
        return NULL;
}

int vs_ctl_serialize(struct json_object *msg, char **ret, size_t *ret_len) {
        const char *s;
        size_t len;
        char *copy;

        if (!msg || !ret || !ret_len)
                return -EINVAL;
        s = vs_json_line(msg, &len);
        if (!s)
                return -ENOMEM;
        if (len > VS_CTL_MSG_MAX)
                return -EMSGSIZE;
        copy = malloc(len + 1);
        if (!copy)
                return -ENOMEM;
        memcpy(copy, s, len + 1);
        *ret = copy;
        *ret_len = len;
        return 0;
}

static void tokener_freep(struct json_tokener **t) {
        if (*t)
                json_tokener_free(*t);
}

/* Parse one complete JSON object out of untrusted bytes.  Returns 0 and *ret,
 * or -EINVAL with a static reason, or -ENOMEM. */
static int parse_untrusted(const char *buf, size_t len, struct json_object **ret, const char **ret_why) {
        _cleanup_(tokener_freep) struct json_tokener *tok = NULL;
        _cleanup_json_ struct json_object *o = NULL;
        enum json_tokener_error jerr;
        size_t end;

        if (memchr(buf, 0, len)) {
                *ret_why = "request contains a NUL byte";
                return -EINVAL;
        }
        tok = json_tokener_new_ex(VS_CTL_DEPTH_MAX);
        if (!tok)
                return -ENOMEM;
        json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);

        o = json_tokener_parse_ex(tok, buf, (int) len);
        jerr = json_tokener_get_error(tok);
        if (!o || jerr != json_tokener_success) {
                if (jerr == json_tokener_continue || jerr == json_tokener_success)
                        *ret_why = "truncated JSON";
                else if (jerr == json_tokener_error_depth)
                        *ret_why = "JSON nested too deeply";
                else
                        *ret_why = "malformed JSON";
                return -EINVAL;
        }
        end = json_tokener_get_parse_end(tok);
        for (; end < len; end++)
                if (!strchr(" \t\r\n", buf[end])) {
                        *ret_why = "trailing bytes after the JSON object";
                        return -EINVAL;
                }
        if (!json_object_is_type(o, json_type_object)) {
                *ret_why = "request is not a JSON object";
                return -EINVAL;
        }
        *ret = TAKE_PTR(o);
        return 0;
}

static int error_response(enum vs_ctl_status status, const char *text, struct json_object **ret_response) {
        struct json_object *o = vs_ctl_response_new(status, text, NULL);
        if (!o)
                return -ENOMEM;
        *ret_response = o;
        return (int) status;
}

int vs_ctl_request_parse(const void *buf, size_t len, struct vs_ctl_request *ret_request,
                         struct json_object **ret_response) {
        _cleanup_json_ struct json_object *root = NULL;
        _cleanup_free_ char *err = NULL;
        struct json_object *v, *args = NULL;
        const struct vs_ctl_command_info *cmd;
        const char *why = NULL;
        char text[160];
        int r;

        if (!ret_request || !ret_response || (len > 0 && !buf))
                return -EINVAL;

        if (len == 0)
                return error_response(VS_CTL_BAD_LENGTH, "empty request", ret_response);
        if (len > VS_CTL_MSG_MAX) {
                snprintf(text, sizeof(text), "request of %zu bytes exceeds the maximum of %u", len, VS_CTL_MSG_MAX);
                return error_response(VS_CTL_BAD_LENGTH, text, ret_response);
        }

        r = parse_untrusted(buf, len, &root, &why);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                return error_response(VS_CTL_INVALID, why, ret_response);

        json_object_object_foreach(root, key, val) {
                (void) val;
                if (strcmp(key, "version") != 0 && strcmp(key, "command") != 0 && strcmp(key, "args") != 0) {
                        char q[68];
                        quote_untrusted(key, q);
                        snprintf(text, sizeof(text), "unknown field '%s' in request", q);
                        return error_response(VS_CTL_INVALID, text, ret_response);
                }
        }

        if (!json_object_object_get_ex(root, "version", &v) || !json_object_is_type(v, json_type_int))
                return error_response(VS_CTL_INVALID, "\"version\" missing or not an integer", ret_response);
        if (json_object_get_int64(v) != VS_CTL_PROTO_VERSION) {
                snprintf(text, sizeof(text), "protocol version %" PRIi64 " not supported (this daemon speaks %d)",
                         json_object_get_int64(v), VS_CTL_PROTO_VERSION);
                return error_response(VS_CTL_BAD_VERSION, text, ret_response);
        }

        if (!json_object_object_get_ex(root, "command", &v) || !json_object_is_type(v, json_type_string))
                return error_response(VS_CTL_INVALID, "\"command\" missing or not a string", ret_response);
        cmd = strlen(json_object_get_string(v)) == (size_t) json_object_get_string_len(v)
                      ? vs_ctl_command_by_name(json_object_get_string(v))
                      : NULL;
        if (!cmd) {
                char q[68];
                quote_untrusted(json_object_get_string(v), q);
                snprintf(text, sizeof(text), "unknown command '%s'", q);
                return error_response(VS_CTL_UNKNOWN_COMMAND, text, ret_response);
        }

        if (json_object_object_get_ex(root, "args", &args) && !json_object_is_type(args, json_type_object))
                return error_response(VS_CTL_INVALID, "\"args\" must be an object", ret_response);

        r = vs_ctl_validate_args(cmd, args, &err);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                return error_response(VS_CTL_INVALID, err ?: "invalid arguments", ret_response);

        args = args ? json_object_get(args) : json_object_new_object();
        if (!args)
                return -ENOMEM;
        *ret_request = (struct vs_ctl_request) { .command = cmd, .args = args };
        return 0;
}

void vs_ctl_request_done(struct vs_ctl_request *req) {
        if (!req)
                return;
        if (req->args)
                json_object_put(req->args);
        *req = (struct vs_ctl_request) {};
}

int vs_ctl_response_parse(const void *buf, size_t len, enum vs_ctl_status *ret_status, char **ret_error,
                          struct json_object **ret_data) {
        _cleanup_json_ struct json_object *root = NULL;
        struct json_object *v, *data = NULL;
        const char *why;
        char *error = NULL;
        int r, status;

        if (!buf || !ret_status || !ret_error || !ret_data)
                return -EINVAL;
        if (len == 0)
                return -EBADMSG;
        if (len > VS_CTL_MSG_MAX)
                return -EMSGSIZE;

        r = parse_untrusted(buf, len, &root, &why);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                return -EBADMSG;

        if (!json_object_object_get_ex(root, "version", &v) || !json_object_is_type(v, json_type_int) ||
            json_object_get_int64(v) != VS_CTL_PROTO_VERSION)
                return -EBADMSG;
        if (!json_object_object_get_ex(root, "status", &v) || !json_object_is_type(v, json_type_string))
                return -EBADMSG;
        status = vs_ctl_status_from_string(json_object_get_string(v));
        if (status < 0)
                return -EBADMSG;
        if (json_object_object_get_ex(root, "data", &data) && !json_object_is_type(data, json_type_object))
                return -EBADMSG;
        if (json_object_object_get_ex(root, "error", &v)) {
                /* the daemon never sends an error with "ok": such a reply is
                 * malformed (found by the fuzz-ctl smoke, 2026-11-26) */
                if (!json_object_is_type(v, json_type_string) || status == VS_CTL_OK)
                        return -EBADMSG;
                error = strdup(json_object_get_string(v));
                if (!error)
                        return -ENOMEM;
        }

        *ret_status = status;
        *ret_error = error;
        *ret_data = data ? json_object_get(data) : NULL;
        return 0;
}
