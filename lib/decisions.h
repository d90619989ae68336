/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * decisions.h - the decisions section: what an operator needs at the end of
 * a run, per VM, in words.
 *
 *  - preempted while waited on: for every IPI edge src -> dst of the VM
 *    whose IPIs found dst preempted or woken (runnable, not on a CPU), how
 *    often that happened (per second of the run) and how long src waited on
 *    dst then (the pair's preempted wait, analysis.h), also as a share of the
 *    run;
 *  - the classifier's verdict (policy.h: class, lever, trial and its before
 *    and after figures);
 *  - the decisions the policy took, gathered per VM, knob and kind (placement,
 *    co-scheduling turns, weights; any other reason, e.g. a release, stays
 *    as it is), each with what it did ("co-schedule vm2 vCPUs 0-1 in turns
 *    with vm1") and why: the policy's reason and the VM's strongest
 *    preempted-while-waited edge as evidence.
 *
 * Owns copies of what it gathers through vs_decisions_add() (VM names, per
 * vCPU the first old and last new value of each group); memory grows with
 * VMs x vCPUs x kinds of decision, never per decision, and shrinks when a
 * VM is forgotten.  Reads analysis.h and
 * policy.h at render time, changes neither.  No I/O but the FILE the printer
 * takes, no logging.
 */
#pragma once

#include <stdint.h>
#include <stdio.h>

#include <json-c/json.h>

#include "analysis.h"
#include "policy.h"

struct vs_decisions;

int vs_decisions_new(struct vs_decisions **ret);
void vs_decisions_free(struct vs_decisions *d);

/* Gather one decision (a vs_decision_cb's argument).  Returns 0 or -ENOMEM
 * (the decision is then not counted). */
int vs_decisions_add(struct vs_decisions *d, const struct vs_decision *dec);
/* The VM @vm is gone (its VMM exited): drop its groups, as the analysis and
 * the policy drop its model, so a long live run keeps what the VMs alive
 * need.  Returns the number of groups dropped. */
unsigned vs_decisions_forget_vm(struct vs_decisions *d, const char *vm);
/* Decisions gathered. */
uint64_t vs_decisions_count(const struct vs_decisions *d);

/* The section over every VM of @a (analysis finished by the caller); @pol
 * may be NULL (no policy ran: figures only).  JSON schema in man/vschedd.8,
 * DECISIONS.  NULL on -ENOMEM. */
struct json_object *vs_decisions_json(const struct vs_decisions *d, const struct vs_analysis *a,
                                      const struct vs_policy *pol);
/* The same as text. */
void vs_decisions_print(const struct vs_decisions *d, const struct vs_analysis *a, const struct vs_policy *pol,
                        FILE *f);
