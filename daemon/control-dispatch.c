/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * control-dispatch.c - one validated control request to the daemon's
 * handlers (struct control_ops) and their answer or error to a response
 * (see control.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "control.h"
#include "ctl-proto.h"
#include "macro.h"

static int map_error(int r, const char *what, const char *op_error, enum vs_ctl_status *ret_status,
                     char *text, size_t textsz) {
        switch (r) {
        case -ENOENT:
                *ret_status = VS_CTL_ERROR;
                if (op_error)
                        snprintf(text, textsz, "%s", op_error);
                else if (what)
                        snprintf(text, textsz, "no such VM '%s'", what);
                else
                        snprintf(text, textsz, "not found");
                return 0;
        case -EINVAL:
                *ret_status = VS_CTL_INVALID;
                break;
        case -EPERM:
        case -EACCES:
                *ret_status = VS_CTL_UNAUTH;
                break;
        case -EOPNOTSUPP:
                *ret_status = VS_CTL_ERROR;
                snprintf(text, textsz, "%s", op_error ?: "not supported by this daemon");
                return 0;
        default:
                *ret_status = VS_CTL_ERROR;
                break;
        }
        snprintf(text, textsz, "%s", op_error ?: strerror(-r));
        return 0;
}

struct json_object *control_dispatch(const struct control_ops *ops, void *userdata, const struct vs_ctl_request *req,
                                     char *failed, size_t failed_len) {
        struct json_object *data = NULL, *v, *resp;
        _cleanup_free_ char *op_error = NULL, *text = NULL;
        const char *name = NULL;
        enum vs_ctl_status status;
        char msg[512];
        int r = -EOPNOTSUPP;

        failed[0] = 0;
        if (json_object_object_get_ex(req->args, "name", &v))
                name = json_object_get_string(v);

        switch (req->command->id) {
        case VS_CTL_CMD_STATUS:
                if (ops->status)
                        r = ops->status(userdata, &data);
                break;
        case VS_CTL_CMD_VMS:
                if (ops->vms)
                        r = ops->vms(userdata, &data);
                break;
        case VS_CTL_CMD_VM:
                if (ops->vm)
                        r = ops->vm(userdata, name, &data);
                break;
        case VS_CTL_CMD_VM_SET:
                if (ops->vm_set)
                        r = ops->vm_set(userdata, name, req->args, &op_error);
                break;
        case VS_CTL_CMD_RELOAD:
                if (ops->reload)
                        r = ops->reload(userdata, &op_error);
                break;
        case VS_CTL_CMD_METRICS:
                if (ops->metrics)
                        r = ops->metrics(userdata, &text);
                if (r >= 0) {
                        data = json_object_new_object();
                        if (!data || json_object_object_add(data, "text", json_object_new_string(text ?: "")) < 0)
                                r = -ENOMEM;
                }
                break;
        case VS_CTL_CMD_TOP:
                if (ops->top)
                        r = ops->top(userdata, &data);
                break;
        default:
                break;
        }

        if (r >= 0 && data && !json_object_is_type(data, json_type_object)) {
                json_object_put(data);
                data = NULL;
                r = -EBADMSG;
                free(op_error);
                op_error = strdup("internal error: the daemon's answer is not a JSON object");
        }
        if (r < 0) {
                if (data)
                        json_object_put(data);
                map_error(r, name, op_error, &status, msg, sizeof(msg));
                snprintf(failed, failed_len, "%s", msg);
                return vs_ctl_response_new(status, msg, NULL);
        }
        resp = vs_ctl_response_new(VS_CTL_OK, NULL, data);
        if (data)
                json_object_put(data);
        return resp;
}
