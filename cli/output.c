// output.c — what every command prints the same way: errors, skipped files, the end of its output.
#include <stdarg.h>
#include <stdio.h>

#include "cli.h"

int cli_fail(int code, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fputs("frost: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    return code;
}

const char *cli_fix_hint(frost_fix fix) {
    switch (fix) {
    case FIX_SMALLER_BATCH: return " (try a smaller --batch)";
    case FIX_BN_EVAL: return " (--bn eval, or --cache auto)";
    case FIX_TRAINABLE: return " (--trainable takes module paths as frost print ARCH names them)";
    case FIX_AS_WEIGHTS: return " (load it with --weights)";
    case FIX_DOCTOR: return " (frost doctor DATASET lists them all)";
    case FIX_NONE: break;
    }
    return "";
}

static void print_skipped(void *user, const char *path, const char *reason) {
    (void)user;
    fprintf(stderr, "frost: skipped %s: %s\n", path, reason);
}

void cli_print_skipped(badfile_list *l) { badfiles_each(l, 0, print_skipped, NULL); }

int cli_finish_output(void) {
    if (fflush(stdout) != 0 || ferror(stdout)) return cli_fail(CLI_FAILED, "could not write the output");
    return CLI_OK;
}
