/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * replay.h - vschedd --replay and --auto, driving the manager's pipeline.
 */
#pragma once

#include "manager.h"

/* Replay @path ('-': text on stdin), print the results, write --svg pictures. */
int replay_run(struct manager *m, const char *path);
/* --auto: watch live when KVM VMs run here, else replay the bundled recording. */
int replay_auto(struct manager *m);
