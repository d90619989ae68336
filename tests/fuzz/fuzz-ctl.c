/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * fuzz-ctl - one control-socket datagram through vs_ctl_request_parse() (the
 * daemon side, untrusted peer) and vs_ctl_response_parse() (the vschedctl
 * side, a daemon that may be of another version).
 *
 * Properties, from ctl-proto.h:
 *  - a request either parses to a command from the table whose arguments
 *    pass vs_ctl_validate_args(), or yields an error response whose status is
 *    not "ok" and which serializes within VS_CTL_MSG_MAX and parses back on
 *    the client side with the same status and an error text;
 *  - a parsed request, rebuilt with vs_ctl_request_new() and serialized,
 *    parses again to the same command and equal arguments (the wire format
 *    round-trips);
 *  - a read-only command never carries needs_write; vm-set style commands
 *    with needs_setting carry at least one optional argument;
 *  - the response parser returns 0 or one of -EBADMSG/-EMSGSIZE/-ENOMEM, and
 *    on 0 hands out a known status, an error only when not ok.
 */
#include <errno.h>
#include <string.h>

#include "ctl-proto.h"
#include "fuzz.h"

static void check_error_response(struct json_object *resp, int status) {
        char *wire = NULL, *err = NULL;
        size_t len = 0;
        enum vs_ctl_status st;
        struct json_object *data = NULL;

        FUZZ_ASSERT(resp, "status %d without a response", status);
        FUZZ_ASSERT(status > VS_CTL_OK && status < _VS_CTL_STATUS_MAX, "status %d out of range", status);
        FUZZ_ASSERT(vs_ctl_serialize(resp, &wire, &len) == 0, "error response does not serialize");
        FUZZ_ASSERT(len <= VS_CTL_MSG_MAX, "error response of %zu bytes", len);
        FUZZ_ASSERT(vs_ctl_response_parse(wire, len, &st, &err, &data) == 0,
                    "our own error response does not parse: %s", wire);
        FUZZ_ASSERT((int) st == status, "status %d came back as %d", status, (int) st);
        FUZZ_ASSERT(err && *err, "error response without text: %s", wire);
        FUZZ_ASSERT(!data, "error response with data: %s", wire);
        free(err);
        free(wire);
}

static void check_request(const struct vs_ctl_request *req) {
        const struct vs_ctl_command_info *cmd = req->command;
        struct vs_ctl_request again = { 0 };
        struct json_object *msg, *resp = NULL;
        char *wire = NULL;
        size_t len = 0;
        int r;

        FUZZ_ASSERT(cmd && vs_ctl_command_by_name(cmd->name) == cmd, "request with a command outside the table");
        FUZZ_ASSERT(json_object_is_type(req->args, json_type_object), "args not an object");
        FUZZ_ASSERT(vs_ctl_validate_args(cmd, req->args, NULL) == 0, "accepted args fail validation");
        if (cmd->needs_setting) {
                bool any = false;
                for (size_t i = 0; i < cmd->n_args; i++)
                        if (!cmd->args[i].required && json_object_object_get_ex(req->args, cmd->args[i].name, NULL))
                                any = true;
                FUZZ_ASSERT(any, "%s accepted without a setting", cmd->name);
        }

        /* round trip */
        msg = vs_ctl_request_new(cmd->name, req->args); /* takes its own reference */
        if (!msg)
                return;
        r = vs_ctl_serialize(msg, &wire, &len);
        json_object_put(msg);
        if (r == -ENOMEM)
                return;
        FUZZ_ASSERT(r == 0, "accepted request does not serialize: %d", r);
        r = vs_ctl_request_parse(wire, len, &again, &resp);
        if (r == -ENOMEM) {
                free(wire);
                return;
        }
        FUZZ_ASSERT(r == 0, "re-serialized request refused (%d): %s", r, wire);
        FUZZ_ASSERT(again.command == cmd, "command changed in the round trip: %s", wire);
        FUZZ_ASSERT(json_object_equal(again.args, req->args), "args changed in the round trip: %s", wire);
        vs_ctl_request_done(&again);
        json_object_put(resp);
        free(wire);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        struct vs_ctl_request req = { 0 };
        struct json_object *resp = NULL, *rdata = NULL;
        enum vs_ctl_status st;
        char *err = NULL;
        int r;

        /* daemon side */
        r = vs_ctl_request_parse(data, size, &req, &resp);
        if (r == 0) {
                FUZZ_ASSERT(!resp, "a parsed request also produced a response");
                check_request(&req);
                vs_ctl_request_done(&req);
        } else if (r > 0) {
                check_error_response(resp, r);
                json_object_put(resp);
        } else
                FUZZ_ASSERT(r == -ENOMEM, "vs_ctl_request_parse: unexpected %d", r);

        /* the length check alone: a datagram longer than the limit is refused
         * without looking at the bytes */
        r = vs_ctl_request_parse(data, (size_t) VS_CTL_MSG_MAX + 1 + size, &req, &resp);
        FUZZ_ASSERT(r == VS_CTL_BAD_LENGTH || r == -ENOMEM, "oversized datagram: %d", r);
        json_object_put(resp);

        /* client side: the same bytes as a response */
        r = vs_ctl_response_parse(data, size, &st, &err, &rdata);
        if (r == 0) {
                FUZZ_ASSERT((int) st >= 0 && st < _VS_CTL_STATUS_MAX, "response status %d", (int) st);
                FUZZ_ASSERT(st != VS_CTL_OK || !err, "ok response with an error text");
                free(err);
                json_object_put(rdata);
        } else
                FUZZ_ASSERT(r == -EBADMSG || r == -EMSGSIZE || r == -ENOMEM, "vs_ctl_response_parse: %d", r);
        return 0;
}
