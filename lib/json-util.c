/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * json-util.c - shared json-c helpers (see json-util.h).
 */
#include "json-util.h"

const char *vs_json_line(struct json_object *o, size_t *ret_len) {
        size_t len = 0;
        const char *s = json_object_to_json_string_length(o, VS_JSON_LINE_FLAGS, &len);

        if (ret_len)
                *ret_len = len;
        return s;
}
