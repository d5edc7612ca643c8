/*
 * text_buf.h — text that grows as it is written (printf-style), for the writers of whole files and
 * programs (the PyTorch script of an export, the code the interface shows). A failure (out of memory)
 * is remembered, and the text is then given up as a whole.
 */
#ifndef FROST_TEXT_BUF_H
#define FROST_TEXT_BUF_H

#include <stddef.h>

typedef struct {
    char *buf;   // NUL-terminated once anything was written; NULL before
    size_t len, cap;
    int failed;
} text_buf;

// Appends the formatted text (nothing once failed).
void text_buf_put(text_buf *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
// x as Python writes a float: the shortest decimal that reads back as x ("0.001", "1e-05", "2.0"),
// into buf (32 bytes are enough); returns buf.
const char *text_float(char *buf, size_t len, double x);
// Appends text_float(x).
void text_buf_float(text_buf *t, double x);
// The text (malloc'd, the caller frees it; "" when nothing was written), or NULL when a write failed.
// t is empty afterwards.
char *text_buf_take(text_buf *t);

#endif
