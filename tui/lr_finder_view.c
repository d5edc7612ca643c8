// lr_finder_view.c — the lr finder on the Train screen (see lr_finder_view.h).
#include "lr_finder_view.h"

#include <curses.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chart.h"
#include "curve_plot.h"
#include "errmsg.h"
#include "event_json.h"
#include "i18n.h"
#include "style.h"

struct lr_finder_view {
    trainer *t;
    trainer_config cfg;
    dataset *d;
    FILE *json;
    int steps;
    double *lr, *smooth;
    size_t n, cap;
    double suggestion;
    char verdict[1100];
    int ended;
};

lr_finder_view *lr_finder_start(const trainer_config *c, dataset *d, FILE *json, char *err, size_t errlen) {
    lr_finder_view *f = calloc(1, sizeof *f);
    if (!f) {
        errmsg_set(err, errlen, "out of memory");
        return NULL;
    }
    trainer_config cfg = *c;
    cfg.lr_find = 1;
    cfg.keep_model = 0;
    f->steps = cfg.find.steps;
    f->cfg = cfg;
    f->d = d;
    f->json = json;
    if (!(f->t = trainer_start(&cfg, d, err, errlen))) {
        free(f);
        return NULL;
    }
    return f;
}

static void add(lr_finder_view *f, double lr, double smooth) {
    if (f->n == f->cap) {
        size_t cap = f->cap ? 2 * f->cap : 128;
        double *a = realloc(f->lr, cap * sizeof *a), *b = a ? realloc(f->smooth, cap * sizeof *b) : NULL;
        if (a) f->lr = a;
        if (!b) return;
        f->smooth = b;
        f->cap = cap;
    }
    f->lr[f->n] = lr;
    f->smooth[f->n++] = smooth;
}

int lr_finder_poll(lr_finder_view *f, double *suggestion, char *msg, size_t msglen) {
    train_event e;
    while (f->t && trainer_poll(f->t, &e)) {
        if (f->json && event_json_write(f->json, &e, &f->cfg, f->d, NULL) != 0) f->json = NULL;
        switch (e.kind) {
        case EV_LR_POINT: add(f, e.lr, e.running_loss); break;
        case EV_LR_SUGGEST:
            f->suggestion = e.lr;
            snprintf(f->verdict, sizeof f->verdict, "%s", e.text);
            break;
        case EV_ERROR: snprintf(f->verdict, sizeof f->verdict, "%s", e.text); break;
        case EV_FINISHED:
            if (e.status == 1) snprintf(f->verdict, sizeof f->verdict, "stopped");
            trainer_free(f->t);
            f->t = NULL;
            f->ended = 1;
            *suggestion = f->suggestion;
            snprintf(msg, msglen, "%s", f->verdict);
            return 1;
        default: break;
        }
    }
    return 0;
}

int lr_finder_running(const lr_finder_view *f) { return f && f->t; }

void lr_finder_cancel(lr_finder_view *f) {
    if (f && f->t) trainer_cancel(f->t);
}

void lr_finder_draw(const lr_finder_view *f, int top, int rows, int cols) {
    if (rows < 3 || cols < 30) return;
    attron(style(ROLE_TITLE));
    mvprintw(top, 0, _("lr finder: smoothed loss against the learning rate (log scale), %zu of %d steps%s"), f->n,
             f->steps, f->t ? "..." : "");
    attroff(style(ROLE_TITLE));
    if (f->n < 2) return;
    int h = rows - 2, w = cols - CURVE_PLOT_LEFT - 2;
    if (style_unicode()) {
        curve_plot_opts o = {.width = w, .height = h, .log_x = 1, .mark = f->suggestion > 0, .mark_x = f->suggestion};
        char **lines = NULL;
        int n = curve_plot(f->lr, f->smooth, f->n, &o, &lines);
        attron(style(ROLE_TRAIN));
        for (int i = 0; i < n && i < rows - 1; i++) mvaddstr(top + 1 + i, 0, lines[i]);
        attroff(style(ROLE_TRAIN));
        curve_plot_free(lines, n);
        return;
    }
    // ASCII: the sweep's steps are evenly spaced in log lr, so the step is the x axis
    double lo = INFINITY, hi = -INFINITY;
    for (size_t i = 0; i < f->n; i++)
        if (isfinite(f->smooth[i])) lo = fmin(lo, f->smooth[i]), hi = fmax(hi, f->smooth[i]);
    if (!(hi > lo)) hi = lo + 1;
    chart_series s = {f->smooth, (int)f->n, ROLE_TRAIN, '*'};
    chart_draw(top + 1, 0, rows - 2, cols - 1, 8, &s, 1, f->steps > 1 ? f->steps - 1 : 1, lo, hi);
    mvprintw(top + rows - 1, 0, _("lr %.0e .. %.0e%s"), f->lr[0], f->lr[f->n - 1], f->suggestion > 0 ? "" : "");
    if (f->suggestion > 0) printw("   suggested %.2g", f->suggestion);
}

void lr_finder_free(lr_finder_view *f) {
    if (!f) return;
    trainer_free(f->t);
    free(f->lr);
    free(f->smooth);
    free(f);
}
