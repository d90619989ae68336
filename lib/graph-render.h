/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * graph-render.h - lays out and renders dot text with Graphviz by running
 * dot(1) ("dot -T FORMAT") as a child: dot text on its stdin, the picture
 * from its stdout, its stderr kept for the error message.
 *
 * Owns the child for the duration of one call (always reaped, killed after
 * VS_GRAPH_RENDER_TIMEOUT_MS); no state kept between calls, no logging.
 * $VSCHEDD_DOT names another dot binary (tests).
 */
#pragma once

#include <stddef.h>

#define VS_GRAPH_RENDER_TIMEOUT_MS 30000
#define VS_GRAPH_RENDER_MAX (64u << 20)         /* largest picture accepted */

/* Render @dot in @format ("svg", "png", "dot"...).  On success *ret is a
 * malloc'd, NUL-terminated buffer of *ret_len bytes (caller frees).
 * Returns 0; -ENOENT when dot(1) is not installed (Debian package graphviz);
 * -EINVAL for a format that is not [a-z0-9:]+; -EBADMSG when dot failed
 * (its stderr in *ret_error, malloc'd, when @ret_error is non-NULL);
 * -ETIMEDOUT; -EFBIG; -ENOMEM or another -errno. */
int vs_graph_render(const char *dot, const char *format, char **ret, size_t *ret_len, char **ret_error);
