// errmsg.c — formatting error lines safely (see errmsg.h).
#include "errmsg.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "i18n.h"
#include "text_escape.h"

void errmsg_vset(char *err, size_t errlen, const char *fmt, va_list ap) {
    if (!err || errlen == 0) return;
    fmt = i18n_text(fmt);   // the user's language (the build's xgettext takes errmsg_set's formats)
    char small[1024], *text = small;
    va_list again;
    va_copy(again, ap);
    int n = vsnprintf(small, sizeof small, fmt, ap);
    if (n < 0) {
        snprintf(err, errlen, "could not format the error message");
    } else {
        if ((size_t)n >= sizeof small && (text = malloc((size_t)n + 1)) != NULL)   // a long one: format it whole
            vsnprintf(text, (size_t)n + 1, fmt, again);
        text_escape(err, errlen, text ? text : small);
        if (text != small) free(text);
    }
    va_end(again);
}

void errmsg_set(char *err, size_t errlen, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    errmsg_vset(err, errlen, fmt, ap);
    va_end(ap);
}
