/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ctl-proto.h - the control protocol between vschedd and vschedctl: the one
 * header both sides include (as chrony's candm.h).  Versioned and
 * append-only.
 *
 * Owns the wire format, the command table (name, read/write, argument
 * schema) and the validation of untrusted requests.  Knows nothing about
 * sockets, peers or the daemon's state: daemon/control.c does the I/O and
 * the permission check, the daemon fills the "data" of responses.
 *
 * Wire format: one JSON object per SOCK_SEQPACKET datagram, at most
 * VS_CTL_MSG_MAX bytes, UTF-8, no NUL bytes.
 *
 *   request:  {"version":1,"command":NAME,"args":{...}}      ("args" optional)
 *   response: {"version":1,"status":STATUS,"error":TEXT,"data":{...}}
 *             ("error" only when status != "ok", "data" only when "ok")
 *
 *   STATUS: "ok" "invalid" "bad_version" "bad_length" "unauth"
 *           "unknown_command" "error"
 *
 * Commands (the wire carries the name; the number is its stable identity in
 * both programs; neither is ever reused or renumbered: a changed command is a
 * new one, e.g. VS_CTL_CMD_VM_SET2 "vm-set2"):
 *
 *   1 status   ro  {}
 *   2 vms      ro  {}
 *   3 vm       ro  {"name": string}
 *   4 vm-set   rw  {"name": string, "mode": "off"|"observe"|"enforce",
 *                   "weight_min": 1..10000, "weight_max": 1..10000,
 *                   "idle": bool}  (name and at least one setting)
 *   5 reload   rw  {}
 *   6 metrics  ro  {}   -> data {"text": OpenMetrics text}
 *   7 top      ro  {}   -> data: per VM and vCPU counters for `vschedctl top`
 *                  (protocol 1 since vschedd 0.1.0; schema below)
 *
 * "top" data (counters are totals since the daemon started or the replay
 * began, so a client's rate is the difference of two answers divided by the
 * difference of their "uptime_s"; keys may be added, never renamed):
 *   {"uptime_s": num, "mode": str, "dry_run": bool, "run_delay_source": str,
 *    "vms": [{"vm": str, "mode": str, "vcpus": int, COUNTERS, WEIGHT,
 *             "vcpu": [{"vcpu": int, "state": str, COUNTERS, WEIGHT}]}]}
 *   COUNTERS: "ipis_in", "ipis_out" (unicast, incl. PV), "ipis_in_not_running"
 *             (received while preempted/woken/blocked), "pause_exits",
 *             "yields_out" (directed yields and kicks), "eoi_p99_ns" (IPI->EOI
 *             latency p99 of the IPIs received, 0 = none matched),
 *             "run_delay_ns" (CPU ready: time runnable without a CPU, a VM's
 *             summed over its vCPUs; from "run_delay_source": "schedstat",
 *             the kernel's per-thread counter (live), or "trace", the sched
 *             events (a replay); null when unknown, e.g. the thread is gone)
 *   WEIGHT:   "weight", "weight_baseline": cpu.weight held (or, dry-run
 *             replay, decided) and its baseline; null when unknown
 *   "state": running, preempted, woken, blocked, exited or unknown
 *
 * Validation order, all before dispatch: length (1..VS_CTL_MSG_MAX), NUL
 * bytes, JSON syntax (strict, UTF-8 checked, nesting <= VS_CTL_DEPTH_MAX, no
 * trailing bytes), top-level shape (object; only version/command/args),
 * version, command name, argument names and types against the table.
 * Unknown arguments are rejected, so an old daemon tells a newer client which
 * argument it does not understand instead of silently ignoring it.
 *
 * Why JSON through json-c rather than a packed binary struct: every byte here
 * comes from another process, and string escaping and the parsing of
 * untrusted input belong in a maintained, fuzzed library, not in a
 * hand-written parser of ours; JSON also gives `vschedctl --json` for free.
 *
 * Memory: every json_object handed out is owned by the caller (json_object_put).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#define VS_CTL_PROTO_VERSION 1
/* Largest request or response datagram, in bytes. */
#define VS_CTL_MSG_MAX (64u * 1024u)
/* Deepest JSON nesting accepted in a request (ours need 3). */
#define VS_CTL_DEPTH_MAX 8
/* Longest string argument (a VM name, libvirt allows much less in practice). */
#define VS_CTL_STRING_MAX 256u
#define VS_CTL_SOCKET_PATH "/run/vschedd/control"
#define VS_CTL_GROUP "vschedd"

/* Append only.  Never reuse or renumber. */
enum vs_ctl_command {
        VS_CTL_CMD_STATUS = 1,
        VS_CTL_CMD_VMS = 2,
        VS_CTL_CMD_VM = 3,
        VS_CTL_CMD_VM_SET = 4,
        VS_CTL_CMD_RELOAD = 5,
        VS_CTL_CMD_METRICS = 6,
        VS_CTL_CMD_TOP = 7,
        _VS_CTL_CMD_MAX,
};

/* Append only; the wire carries vs_ctl_status_to_string(). */
enum vs_ctl_status {
        VS_CTL_OK = 0,
        VS_CTL_INVALID,
        VS_CTL_BAD_VERSION,
        VS_CTL_BAD_LENGTH,
        VS_CTL_UNAUTH,
        VS_CTL_UNKNOWN_COMMAND,
        VS_CTL_ERROR,
        _VS_CTL_STATUS_MAX,
};

enum vs_ctl_arg_type {
        VS_CTL_ARG_STRING,      /* non-empty, <= VS_CTL_STRING_MAX bytes, no NUL, no control characters */
        VS_CTL_ARG_UINT,        /* JSON integer within [min, max] */
        VS_CTL_ARG_BOOL,        /* JSON true/false */
        VS_CTL_ARG_ENUM,        /* JSON string, one of values[] */
};

struct vs_ctl_arg {
        const char *name;
        enum vs_ctl_arg_type type;
        bool required;
        uint64_t min, max;              /* VS_CTL_ARG_UINT */
        const char *const *values;      /* VS_CTL_ARG_ENUM, NULL-terminated */
        const char *help;               /* for vschedctl's help and man page */
};

struct vs_ctl_command_info {
        enum vs_ctl_command id;
        const char *name;
        bool needs_write;               /* root only */
        bool needs_setting;             /* at least one optional argument must be present */
        const struct vs_ctl_arg *args;  /* may be NULL when n_args == 0 */
        size_t n_args;
};

/* A validated request: command found in the table, args checked against its schema. */
struct vs_ctl_request {
        const struct vs_ctl_command_info *command;
        struct json_object *args;       /* owned, always an object (empty when none were sent) */
};

const char *vs_ctl_status_to_string(enum vs_ctl_status s);
/* Returns the status, or -EINVAL for an unknown string. */
int vs_ctl_status_from_string(const char *s);

/* The command table, in command-number order.  Never NULL. */
const struct vs_ctl_command_info *vs_ctl_commands(size_t *ret_n);
/* Look up by wire name or number; NULL when unknown. */
const struct vs_ctl_command_info *vs_ctl_command_by_name(const char *name);
const struct vs_ctl_command_info *vs_ctl_command_by_id(enum vs_ctl_command id);
/* The schema entry for argument @name of @cmd, or NULL. */
const struct vs_ctl_arg *vs_ctl_command_arg(const struct vs_ctl_command_info *cmd, const char *name);

/*
 * vs_ctl_validate_args - check @args (an object, or NULL for none) against
 * @cmd's schema.  Returns 0, or -EINVAL with *ret_error (if non-NULL) set to
 * a malloc'd explanation naming the argument, or -ENOMEM.
 */
int vs_ctl_validate_args(const struct vs_ctl_command_info *cmd, struct json_object *args, char **ret_error);

/*
 * vs_ctl_arg_from_string - convert command-line text "value" to the JSON type
 * of @arg ("1", "yes"/"no"/"true"/"false"/"on"/"off", enum names).  Returns
 * 0 and *ret, or -EINVAL (*ret_error set if non-NULL) or -ENOMEM.
 */
int vs_ctl_arg_from_string(const struct vs_ctl_arg *arg, const char *value, struct json_object **ret,
                           char **ret_error);

/*
 * vs_ctl_request_parse - turn the raw bytes of one datagram into a validated
 * request, or into the ready error response to send back.
 *
 * @len is the real datagram length (may exceed what was read: pass the
 * MSG_TRUNC length; @buf is then not looked at).  Returns:
 *   0                     *ret_request filled (free with vs_ctl_request_done)
 *   > 0 (vs_ctl_status)   *ret_response is an error response for the peer
 *   -ENOMEM
 */
int vs_ctl_request_parse(const void *buf, size_t len, struct vs_ctl_request *ret_request,
                         struct json_object **ret_response);
void vs_ctl_request_done(struct vs_ctl_request *req);

/*
 * vs_ctl_request_new - build a request object for @command_name with @args
 * (reference taken, may be NULL).  Does not validate.  NULL on ENOMEM.
 */
struct json_object *vs_ctl_request_new(const char *command_name, struct json_object *args);

/*
 * vs_ctl_response_new - build a response.  @error (copied) is used when
 * @status != VS_CTL_OK (a default text when NULL); @data (reference taken,
 * may be NULL) only when VS_CTL_OK.  NULL on ENOMEM.
 */
struct json_object *vs_ctl_response_new(enum vs_ctl_status status, const char *error, struct json_object *data);

/*
 * vs_ctl_serialize - the wire bytes of @msg (no trailing NUL counted).
 * Returns 0, -EMSGSIZE when longer than VS_CTL_MSG_MAX, or -ENOMEM.
 */
int vs_ctl_serialize(struct json_object *msg, char **ret, size_t *ret_len);

/*
 * vs_ctl_response_parse - parse a response datagram (vschedctl side).
 * Returns 0 with *ret_status, *ret_error (malloc'd or NULL) and *ret_data
 * (a reference or NULL) set; -EBADMSG for a malformed response or a version
 * this client does not speak; -EMSGSIZE when @len > VS_CTL_MSG_MAX; -ENOMEM.
 */
int vs_ctl_response_parse(const void *buf, size_t len, enum vs_ctl_status *ret_status, char **ret_error,
                          struct json_object **ret_data);
