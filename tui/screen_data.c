// screen_data.c — screen 1: the dataset's splits and classes with image counts and a bar each, and
// the files of the selected class.
#include <curses.h>
#include <string.h>

#include "app.h"

static size_t class_rows(const app *a) { return a->have_dataset ? 2 * a->d.n_classes : 0; }

void data_draw(app *a, int top, int rows, int cols) {
    if (!a->have_dataset) {
        mvaddnstr(top, 2, a->dataset_error, cols - 4);
        return;
    }
    const dataset *d = &a->d;
    size_t max = 1;
    for (size_t c = 0; c < d->n_classes; c++) {
        if (d->train.class_counts[c] > max) max = d->train.class_counts[c];
        if (d->valid.class_counts[c] > max) max = d->valid.class_counts[c];
    }
    int left = cols / 2 - 1, bar_w = left - 30 > 4 ? left - 30 : 4;
    mvprintw(top, 0, "%zu classes, %zu training and %zu validation images", d->n_classes, d->train.n_items,
             d->valid.n_items);
    const dataset_split *splits[2] = {&d->train, &d->valid};
    int r = top + 2;
    for (int s = 0; s < 2 && r < top + rows; s++) {
        mvprintw(r++, 0, "%s/", splits[s]->name);
        for (size_t c = 0; c < d->n_classes && r < top + rows; c++, r++) {
            int row_index = (int)((size_t)s * d->n_classes + c);
            if (row_index == a->data_sel) attron(A_REVERSE);
            mvprintw(r, 2, "%-14.14s %6zu ", d->classes[c], splits[s]->class_counts[c]);
            int n = (int)((splits[s]->class_counts[c] * (size_t)bar_w + max - 1) / max);
            for (int k = 0; k < n; k++) addstr("\u2588");
            if (row_index == a->data_sel) attroff(A_REVERSE);
        }
    }
    // the files of the selected class
    int s = a->data_sel / (int)(d->n_classes ? d->n_classes : 1);
    int c = a->data_sel % (int)(d->n_classes ? d->n_classes : 1);
    const dataset_split *sp = splits[s];
    mvprintw(top + 2, left + 2, "%s/%s:", sp->name, d->n_classes ? d->classes[c] : "");
    int fr = top + 3;
    for (size_t i = 0; i < sp->n_items && fr < top + rows; i++) {
        if (sp->items[i].label != c) continue;
        const char *slash = strrchr(sp->items[i].path, '/');
        mvaddnstr(fr++, left + 4, slash ? slash + 1 : sp->items[i].path, cols - left - 5);
    }
}

void data_act(app *a, app_action act, int rows) {
    int n = (int)class_rows(a);
    if (n == 0) return;
    switch (act) {
    case ACT_UP: a->data_sel--; break;
    case ACT_DOWN: a->data_sel++; break;
    case ACT_PAGE_UP: a->data_sel -= rows / 2; break;
    case ACT_PAGE_DOWN: a->data_sel += rows / 2; break;
    case ACT_HOME: a->data_sel = 0; break;
    case ACT_END: a->data_sel = n - 1; break;
    default: return;
    }
    if (a->data_sel < 0) a->data_sel = 0;
    if (a->data_sel >= n) a->data_sel = n - 1;
}

void data_poll(app *a) { (void)a; }
void data_free(app *a) { (void)a; }
