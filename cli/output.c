// output.c — what every command prints the same way: errors, skipped files, the end of its output.
#include <stdarg.h>
#include <stdio.h>

#include "cli.h"
#include "i18n.h"
#include "text_escape.h"

// fmt is translated here (the build's xgettext takes cli_fail's literal formats into the catalogue).
int cli_fail(int code, const char *fmt, ...) {
    char text[8192];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, i18n_text(fmt), ap);
    va_end(ap);
    fprintf(stderr, "frost: %s\n", cli_safe(text));
    return code;
}

const char *cli_safe(const char *s) {
    static char buf[8][16384];
    static int k;
    k = (k + 1) % 8;
    text_escape(buf[k], sizeof buf[k], s);
    return buf[k];
}

// in the user's language, like the message it ends
const char *cli_fix_hint(frost_fix fix) {
    switch (fix) {
    case FIX_SMALLER_BATCH: return _(" (try a smaller --batch)");
    case FIX_BN_EVAL: return _(" (--bn eval, or --cache auto)");
    case FIX_TRAINABLE: return _(" (--trainable takes module paths as frost print ARCH names them)");
    case FIX_AS_WEIGHTS: return _(" (load it with --weights)");
    case FIX_DOCTOR: return _(" (frost doctor DATASET lists them all)");
    case FIX_BN_FIXED: return _(" (--bn eval keeps them fixed)");
    case FIX_HIGHER_LR: return _(" (try a higher --lr, or more epochs)");
    case FIX_CLASS_WEIGHTS: return _(" (train with --class-weights auto to weigh each class as if balanced)");
    case FIX_NONE: break;
    }
    return "";
}

static void print_skipped(void *user, const char *path, const char *reason) {
    (void)user;
    fprintf(stderr, "frost: skipped %s: %s\n", cli_safe(path), cli_safe(reason));
}

void cli_print_skipped(badfile_list *l) { badfiles_each(l, 0, print_skipped, NULL); }
