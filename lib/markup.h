/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * markup.h - untrusted text (VM names are chosen by whoever names VMs) made
 * safe for the formats the pictures are written in: XML/SVG character data
 * and attributes, Graphviz dot double-quoted strings, and file names.
 *
 * Owns no state and does no I/O beyond writing to the FILE it is given.
 * Display text first: bytes that are not printable valid UTF-8 (control
 * characters, DEL, malformed or overlong sequences, surrogates, U+FFFE/FFFF)
 * become the four characters \xNN and a backslash becomes \\, as vs_escape()
 * prints them on a terminal; then each format's own quoting applies.  The
 * result is always valid UTF-8 without control characters, so XML 1.0 (which
 * cannot carry most control characters even as entities) and dot accept it.
 */
#pragma once

#include <stddef.h>
#include <stdio.h>

/* @s as XML text or attribute value: display text with & < > " ' as entities. */
void vs_markup_xml(FILE *f, const char *s);

/* @s inside a Graphviz double-quoted string: display text with " and \ escaped.
 * (Graphviz expands \N, \G, \n... in labels; every backslash is doubled, so
 * none of those can be smuggled in.) */
void vs_markup_dot(FILE *f, const char *s);

/* @s inside a Graphviz HTML-like label (<...>): XML entities as
 * vs_markup_xml(), and every backslash doubled once more (Graphviz turns \\
 * into \ in HTML-like labels too, even when written as &#92;). */
void vs_markup_dot_html(FILE *f, const char *s);

/* Display text of @s into @buf (always terminated, cut at a character
 * boundary to fit @len).  Returns @buf. */
const char *vs_markup_display(const char *s, char *buf, size_t len);

/* A file name for @name, unique per name: [A-Za-z0-9_-] and '.' (not first)
 * are kept, every other byte is %XX (so '/', "..", newlines and non-ASCII
 * cannot reach the file system), "" is "%".  Longer than 160 bytes: cut at
 * 160 and "~" plus the 64-bit FNV-1a hash of @name in hex appended (at most
 * 177 bytes, leaving room for a suffix within NAME_MAX).  Returns 0, or
 * -ENOBUFS when @len < VS_SAFE_NAME_MAX. */
#define VS_SAFE_NAME_MAX 180
int vs_markup_file_name(const char *name, char *buf, size_t len);
