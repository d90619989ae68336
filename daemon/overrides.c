/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * overrides.c - runtime VM overrides (see overrides.h).
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "log.h"
#include "overrides.h"

int override_apply(struct vs_config *c, const char *name, struct json_object *args, char **ret_error) {
        struct vs_vm_override *o = NULL;
        struct json_object *x;

        for (size_t i = 0; i < c->n_vms; i++)
                if (strcmp(c->vms[i].pattern, name) == 0)
                        o = &c->vms[i];
        if (!o) {
                struct vs_vm_override *n = realloc(c->vms, (c->n_vms + 1) * sizeof(*n));
                if (!n)
                        return -ENOMEM;
                c->vms = n;
                memmove(c->vms + 1, c->vms, c->n_vms * sizeof(*n));
                c->n_vms++;
                o = &c->vms[0];
                *o = (struct vs_vm_override) { .mode = VS_MODE_INHERIT, .placement = VS_DEFAULT,
                                               .coschedule = VS_DEFAULT, .weights = VS_DEFAULT, .idle = -1,
                                               .priority = VS_PRIO_INHERIT, .directed_yield = VS_DEFAULT };
                o->pattern = strdup(name);
                if (!o->pattern)
                        return -ENOMEM;
        }
        struct vs_vm_override saved = *o;
        if (json_object_object_get_ex(args, "mode", &x)) {
                int m = vs_mode_from_name(json_object_get_string(x));
                if (m < 0) {
                        if (ret_error)
                                *ret_error = strdup("mode must be off, observe or enforce");
                        return -EINVAL;
                }
                o->mode = m;
        }
        if (json_object_object_get_ex(args, "weight_min", &x))
                o->weight_min = (uint32_t) json_object_get_int(x);
        if (json_object_object_get_ex(args, "weight_max", &x))
                o->weight_max = (uint32_t) json_object_get_int(x);
        if (json_object_object_get_ex(args, "idle", &x))
                o->idle = json_object_get_boolean(x) ? 1 : 0;
        if (json_object_object_get_ex(args, "priority", &x)) {
                int p = vs_priority_from_name(json_object_get_string(x));
                if (p < 0) {
                        *o = saved;
                        if (ret_error)
                                *ret_error = strdup("priority must be high, normal or low");
                        return -EINVAL;
                }
                o->priority = p;
        }
        struct vs_vm_policy vp;
        vs_config_vm(c, name, &vp);
        if (vp.weight_min > vp.weight_max) {
                *o = saved;
                if (ret_error)
                        *ret_error = strdup("weight-min is larger than weight-max");
                return -EINVAL;
        }
        return 0;
}

void overrides_apply_saved(struct vs_config *c) {
        char path[PATH_MAX];
        struct json_object *all;

        snprintf(path, sizeof(path), "%s/overrides.json", c->state_dir);
        all = json_object_from_file(path);
        if (!all)
                return;
        json_object_object_foreach(all, name, args)
                if (override_apply(c, name, args, NULL) < 0)
                        log_warning("%s: ignoring the saved override for '%s'", path, name);
        json_object_put(all);
}

int override_save(const char *state_dir, const char *name, struct json_object *args) {
        char path[PATH_MAX], tmp[PATH_MAX];
        struct json_object *all, *cur;

        snprintf(path, sizeof(path), "%s/overrides.json", state_dir);
        snprintf(tmp, sizeof(tmp), "%s/.overrides.json.tmp", state_dir);
        (void) mkdir(state_dir, 0755);
        all = json_object_from_file(path);
        if (!all || !json_object_is_type(all, json_type_object)) {
                json_object_put(all);
                all = json_object_new_object();
        }
        if (!json_object_object_get_ex(all, name, &cur)) {
                cur = json_object_new_object();
                json_object_object_add(all, name, cur);
        }
        json_object_object_foreach(args, k, v)
                if (strcmp(k, "name") != 0)
                        json_object_object_add(cur, k, json_object_get(v));
        int r = json_object_to_file_ext(tmp, all, JSON_C_TO_STRING_PRETTY) < 0 ? -EIO : 0;
        json_object_put(all);
        if (r == 0 && rename(tmp, path) < 0)
                r = -errno;
        return r;
}

int overrides_forget(struct vs_config *c, const char *name) {
        char path[PATH_MAX], tmp[PATH_MAX];
        struct json_object *all, *x;
        int r = 0;

        (void) vs_config_forget_runtime_vm(c, name);
        if (!c->state_dir)
                return 0;
        snprintf(path, sizeof(path), "%s/overrides.json", c->state_dir);
        snprintf(tmp, sizeof(tmp), "%s/.overrides.json.tmp", c->state_dir);
        all = json_object_from_file(path);
        if (!all)
                return 0;
        if (json_object_is_type(all, json_type_object) && json_object_object_get_ex(all, name, &x)) {
                json_object_object_del(all, name);
                r = json_object_to_file_ext(tmp, all, JSON_C_TO_STRING_PRETTY) < 0 ? -EIO : 1;
                if (r > 0 && rename(tmp, path) < 0)
                        r = -errno;
        }
        json_object_put(all);
        return r;
}
