/*
 * text_wrap.h — text broken into lines that fit a width, at spaces: the interface's advice and
 * warnings (a message cut at the right edge loses its advice) and `frost CMD --help`'s option texts.
 *
 * Widths are terminal columns, not bytes: text is read as UTF-8 and each character counts wcwidth's
 * columns in the current locale (a character it does not know, as every non-ASCII one in the C
 * locale, counts 1). A "\n" in the text always ends a line; a word wider than the line is cut at a
 * character boundary.
 */
#ifndef FROST_TEXT_WRAP_H
#define FROST_TEXT_WRAP_H

#include <stddef.h>

// The first line of text that fits in width columns (at least one character when text is not empty):
// its length in bytes (the spaces at the break not counted), and in *next the offset where the next
// line starts (past those spaces and a "\n"). *next == strlen(text) after the last line.
size_t text_wrap_line(const char *text, int width, size_t *next);

// How many lines text takes at width columns (0 for "").
int text_wrap_count(const char *text, int width);

// The columns the first n bytes of s take.
int text_columns(const char *s, size_t n);

// The longest start of s made of whole characters that fits in width columns: its length in bytes,
// and in *cols (may be NULL) the columns it takes.
size_t text_fit(const char *s, int width, int *cols);

// s in exactly width columns, as printf's "%-*.*s" does in bytes: cut at a whole character that fits,
// then spaces (a wide character that would straddle the edge leaves a space instead). Into out (len
// bytes); returns out.
char *text_pad(char *out, size_t len, const char *s, int width);

#endif
