// text_buf.c — text that grows as it is written (see text_buf.h).
#include "text_buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void text_buf_put(text_buf *t, const char *fmt, ...) {
    if (t->failed) return;
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(t->buf ? t->buf + t->len : NULL, t->buf ? t->cap - t->len : 0, fmt, ap);
        va_end(ap);
        if (n < 0) {
            t->failed = 1;
            return;
        }
        if (t->buf && t->len + (size_t)n < t->cap) {
            t->len += (size_t)n;
            return;
        }
        size_t cap = (t->cap ? t->cap * 2 : 4096) + (size_t)n;
        char *b = realloc(t->buf, cap);
        if (!b) {
            t->failed = 1;
            return;
        }
        t->buf = b;
        t->cap = cap;
    }
}

const char *text_float(char *buf, size_t len, double x) {
    char s[40];
    for (int p = 1; p <= 17; p++) {
        snprintf(s, sizeof s, "%.*g", p, x);
        if (strtod(s, NULL) == x) break;
    }
    snprintf(buf, len, "%s%s", s, strpbrk(s, ".eninf") ? "" : ".0");
    return buf;
}

void text_buf_float(text_buf *t, double x) {
    char s[48];
    text_buf_put(t, "%s", text_float(s, sizeof s, x));
}

char *text_buf_take(text_buf *t) {
    char *s = t->failed ? NULL : t->buf ? t->buf : strdup("");
    if (t->failed) free(t->buf);
    memset(t, 0, sizeof *t);
    return s;
}
