/*
 * text_escape.h — names and paths made safe to print: the one function every name, path and message
 * goes through before it reaches a terminal, a log or an error line.
 *
 * A file or folder name can hold any byte but '/' and NUL: an escape sequence (ESC [ ...) that
 * recolours, moves or retitles the terminal, a carriage return that overwrites the line, a newline
 * that forges a line of output, a bell, a C1 control (0x9b is CSI on 8-bit terminals). Each such byte
 * is written as a visible escape instead: \n \r \t, else \xHH; so are bytes that are not UTF-8 and
 * the UTF-8 spellings of C1 controls (U+0080..U+009F). Everything else — printable ASCII and valid
 * UTF-8 — passes unchanged, so ordinary names (é, 狗) print as they are.
 */
#ifndef FROST_TEXT_ESCAPE_H
#define FROST_TEXT_ESCAPE_H

#include <stddef.h>

// Writes the escaped form of in into out (outlen bytes, NUL-terminated; cut on a whole character or
// escape when it does not fit). Returns the length written.
size_t text_escape(char *out, size_t outlen, const char *in);

// The length of the valid UTF-8 character at s that needs no escape (1..4), or 0 when the byte at s
// must be escaped.
size_t text_plain_char(const unsigned char *s);

#endif
