// progress.c — a download's progress on stderr, for `frost weights fetch` and `frost train
// --pretrained`: a bar redrawn in place on a terminal, a line per 10% otherwise, so that stdout
// holds only the result.
#include <stdio.h>
#include <unistd.h>

#include "cli.h"

void cli_fetch_progress(void *user, uint64_t done, uint64_t total) {
    cli_progress *p = user;
    int tty = isatty(STDERR_FILENO);
    if (tty) {
        long long step = (long long)(done / 100000);
        if (p->shown && step == p->last_step && done != total) return;
        p->last_step = step;
        const int width = 30;
        int filled = total ? (int)((double)done / (double)total * width) : 0;
        if (filled > width) filled = width;
        fprintf(stderr, "\r%s [", p->name);
        for (int k = 0; k < width; k++) fputc(k < filled ? '#' : '.', stderr);
        if (total)
            fprintf(stderr, "] %.1f/%.1f MB %3d%%\033[K", (double)done / 1e6, (double)total / 1e6,
                    (int)((double)done * 100.0 / (double)total));
        else
            fprintf(stderr, "] %.1f MB\033[K", (double)done / 1e6);
        p->shown = 1;
    } else if (total) {
        int tenth = (int)((double)done * 10.0 / (double)total);
        if (!p->shown || tenth > p->last_tenth) {
            fprintf(stderr, "%s: %.1f/%.1f MB (%d%%)\n", p->name, (double)done / 1e6, (double)total / 1e6, tenth * 10);
            p->last_tenth = tenth;
            p->shown = 1;
        }
    }
    fflush(stderr);
}

void cli_fetch_progress_end(cli_progress *p) {
    if (p->shown && isatty(STDERR_FILENO)) fputs("\n", stderr);
    p->shown = 0;
}
