/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * actuator.h - writes cgroup values, journalled so the host is always restored.
 *
 * Owns the journal file STATE_DIR/journal: before the first write to any
 * (dir, file) the original value is appended to it and the journal is made
 * durable (write to a temp file, fsync, rename, fsync the directory); only
 * then is the cgroup file written.  If the journal cannot be written, the
 * cgroup is not touched (-EIO/-ENOSPC returned).  Restore writes every
 * original back (skipping cgroups that vanished) and removes the journal.
 * A journal left behind by a killed or crashed daemon is restored by
 * vs_journal_restore() at the next start and by `vschedd --restore`.
 *
 * Writes only what changed (it remembers what it last wrote); when the
 * current value differs from what it last wrote, someone else (virsh
 * schedinfo, systemctl set-property) changed it: the write is skipped, the
 * new value becomes the baseline to restore, and 1 is returned so the caller
 * can log it.  No logging here.
 *
 * cpu.idle: the kernel gives an idle group the minimum weight, refuses
 * weight writes while idle and resets the weight to the default when idle is
 * cleared.  So a weight file (cpu.shares/cpu.weight) in a group whose cpu.idle
 * is 1 is answered -EBUSY (nothing read as a baseline, nothing written), and
 * the first write to a cpu.idle journals the group's weight too (before it).
 * The state directory is flock()ed by the actuator and by vs_journal_restore().
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

struct vs_actuator;

/* @state_dir is created (0700) if missing.  Fails with -EEXIST when a journal
 * from a previous run is still there: restore it first; -EBUSY when another
 * actuator or restore holds @state_dir. */
int vs_actuator_new(const char *state_dir, struct vs_actuator **ret);
void vs_actuator_free(struct vs_actuator *a);   /* does NOT restore */

/*
 * Make @dir/@file hold @value.  Returns 0 when written (or already equal),
 * 1 when skipped because someone else changed the value since our last write
 * (the new value is now the baseline), -ENOENT when the cgroup is gone,
 * -EBUSY for a weight while the group's cpu.idle is 1,
 * -EBUSY/-EINVAL/... from the kernel, -EIO/-ENOSPC when the journal cannot be
 * made durable (nothing written).
 */
int vs_actuator_set(struct vs_actuator *a, const char *dir, const char *file, const char *value);

/* The original (pre-vschedd) value of @dir/@file if we changed it, else NULL. */
const char *vs_actuator_original(struct vs_actuator *a, const char *dir, const char *file);

/* Number of (dir, file) entries currently journalled. */
size_t vs_actuator_n_changed(const struct vs_actuator *a);

/* Write every original value back, newest first; vanished cgroups are
 * skipped and counted in *ret_skipped.  Removes the journal when every
 * entry is restored or vanished.  Returns 0 or the first -errno. */
int vs_actuator_restore(struct vs_actuator *a, size_t *ret_restored, size_t *ret_skipped);

/* Restore a journal left in @state_dir by a previous run (no-op, 0, when there
 * is none).  Returns the number of entries restored, or -errno: -EBADMSG for a
 * journal that is not ours (left in place, nothing written), -EBUSY when a
 * running actuator holds @state_dir. */
int vs_journal_restore(const char *state_dir, size_t *ret_skipped);
