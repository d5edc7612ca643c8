/*
 * errmsg.h — the one-line error messages that core/ functions hand back in a caller's buffer.
 */
#ifndef FROST_ERRMSG_H
#define FROST_ERRMSG_H

#include <stdarg.h>
#include <stddef.h>

// printf into err (errlen bytes; nothing when err is NULL or errlen 0), in the user's language (fmt
// is looked up in the catalogue, i18n.h; the build takes errmsg_set's literal formats into it), kept
// to one printable line: control bytes (a newline or a terminal escape in a hostile file name) are
// escaped by text_escape (\n, \x1b), and a message cut short by the buffer ends on a whole character.
void errmsg_set(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

// errmsg_set with a va_list (for functions that take a format of their own).
void errmsg_vset(char *err, size_t errlen, const char *fmt, va_list ap);

#endif
