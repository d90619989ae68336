/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * overrides.h - runtime VM overrides (vschedctl vm set): applied over the
 * configuration at once, kept in STATE_DIR/overrides.json and applied again
 * at start and after every reload, so they survive a restart of the daemon
 * (not a reboot: /run is a tmpfs).  The file format: one JSON object, VM
 * name -> { "mode", "weight_min", "weight_max", "idle", "priority" }.
 */
#pragma once

#include <json-c/json.h>

#include "vs-config.h"

/* Apply @args (mode, weight_min, weight_max, idle, priority) for VM @name to @c.
 * Refused (-EINVAL, @ret_error says why, @c unchanged) when invalid. */
int override_apply(struct vs_config *c, const char *name, struct json_object *args, char **ret_error);
/* Merge @args into the saved overrides of @name (atomic rename). */
int override_save(const char *state_dir, const char *name, struct json_object *args);
/* Apply every saved override to @c (a bad one is skipped with a warning). */
void overrides_apply_saved(struct vs_config *c);
/* VM @name is gone: drop its runtime overrides from @c and from the saved
 * file (the file's [vm] sections stay).  Returns 1 when the file changed, 0
 * when it had none for @name, -errno when it could not be rewritten. */
int overrides_forget(struct vs_config *c, const char *name);
