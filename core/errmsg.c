// errmsg.c — formatting error lines safely (see errmsg.h).
#include "errmsg.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void errmsg_set(char *err, size_t errlen, const char *fmt, ...) {
    if (!err || errlen == 0) return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    if (n < 0) {
        snprintf(err, errlen, "could not format the error message");
        return;
    }
    size_t len = strlen(err);
    if ((size_t)n >= errlen && len > 0) {
        // step back over continuation bytes to the lead byte; drop the character if it is incomplete
        size_t start = len;
        while (start > 0 && len - start < 4 && ((unsigned char)err[start - 1] & 0xC0) == 0x80) start--;
        if (start > 0) {
            unsigned char lead = (unsigned char)err[start - 1];
            size_t want = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 1;
            if (want > len - (start - 1)) len = start - 1;
        }
        err[len] = '\0';
    }
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)err[i];
        if (c < 0x20 || c == 0x7F) err[i] = '?';
    }
}
