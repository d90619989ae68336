/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * vschedctl-print.h - vschedctl's rendering of the daemon's JSON answers on
 * stdout: one JSON line, or aligned text (nested objects indented, arrays
 * of objects as tables, the top @top_n rows of edge tables, units from the
 * key names; untrusted text with control bytes escaped).
 */
#pragma once

#include <stdbool.h>

#include <json-c/json.h>

/* Returns 0, or -EIO when stdout could not be written. */
int vschedctl_print(struct json_object *data, unsigned top_n, bool json);
