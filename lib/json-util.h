/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * json-util.h - json-c helpers every JSON writer shares: a cleanup
 * attribute for json_object references, and the one wire/line form of a
 * JSON value (one line, no whitespace, '/' not escaped) that vschedd's
 * stdout, vschedctl and the control protocol use.
 */
#pragma once

#include <stddef.h>

#include <json-c/json.h>

#include "macro.h"

static inline void json_putp(struct json_object **o) {
        if (*o)
                json_object_put(*o);
}
#define _cleanup_json_ _cleanup_(json_putp)

#define VS_JSON_LINE_FLAGS (JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE)

/* @o as one line ("null" for NULL), owned by @o; @ret_len may be NULL. NULL on OOM. */
const char *vs_json_line(struct json_object *o, size_t *ret_len);
