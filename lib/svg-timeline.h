/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * svg-timeline.h - draws one VM's timeline (timeline.h) as plain SVG 1.1:
 * a lane per vCPU with its running / preempted / woken / halted spans as
 * coloured bars, each IPI inside the window as an arrow from the sender's
 * lane to the receiver's at the time it was sent (dashed: a PV send-IPI
 * bit), a time axis in ms from the start of the trace, a legend and a title
 * with the VM name (XML-escaped through markup.h).
 *
 * Hand-written rather than through a library: the drawing is a few hundred
 * rects and lines, and no Debian library writes SVG without pulling in a
 * rendering stack (cairo).  Owns nothing; writes to the FILE given; no
 * logging.  Elements carry classes for scripts: rect.state-NAME,
 * line.ipi (data-src, data-dst, data-ts-ns).
 */
#pragma once

#include <stdio.h>

#include "timeline.h"

#define VS_SVG_TL_WIDTH 1200

/* Write the SVG document for @vm, a VM of @t.  Returns 0 or -EIO. */
int vs_svg_timeline_write(const struct vs_timeline *t, const struct vs_tl_vm *vm, FILE *f);
