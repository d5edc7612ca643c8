// dataset_edit.c — the interface's cleaning keys (see dataset_edit.h).
#include "dataset_edit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clean.h"
#include "i18n.h"

// After a move: the dataset scanned again, or why not (the move itself stands: it is journalled).
static void reload(app *a, const char *done) {
    char err[600];
    if (app_dataset_reload(a, err, sizeof err) != 0)
        app_status(a, _("%.300s; the screens show it after the next scan: %.250s"), done, err);
    else
        app_status(a, _("%.500s (u undoes)"), done);
}

// 1 when cleaning may go on now; else says why.
static int can_edit(app *a) {
    if (!a->have_dataset) {
        app_status(a, "%s", _("no dataset to clean"));
        return 0;
    }
    if (a->run.training) {
        app_status(a, "%s", _("cleaning waits for the training run to end (s stops it): it reads these files"));
        return 0;
    }
    return 1;
}

void dataset_edit_relabel(app *a, const char *path) {
    if (!path || !can_edit(a)) return;
    char label[600], list[400] = "";
    size_t used = 0;
    for (size_t c = 0; c < a->d.n_classes && used < sizeof list; c++) {
        int w = snprintf(list + used, sizeof list - used, "%s%s", c ? ", " : "", a->d.classes[c]);
        if (w < 0) break;
        used += (size_t)w;
    }
    snprintf(label, sizeof label, _("move to class (%.380s): "), list);
    char cls[256] = "";
    if (!app_prompt(a, label, cls, sizeof cls)) {
        app_status(a, "%s", _("move: cancelled"));
        return;
    }
    char *moved = NULL, err[1024], done[1400];
    if (clean_relabel(a->root, path, cls, &moved, err, sizeof err) != 0) {
        app_status(a, _("move: %.480s"), err);
        return;
    }
    snprintf(done, sizeof done, _("moved to %.1000s"), moved);
    free(moved);
    reload(a, done);
}

void dataset_edit_set_aside(app *a, const char *path) {
    if (!path || !can_edit(a)) return;
    char *moved = NULL, err[1024], done[1400];
    if (clean_set_aside(a->root, path, &moved, err, sizeof err) != 0) {
        app_status(a, _("set aside: %.480s"), err);
        return;
    }
    snprintf(done, sizeof done, _("set aside as %.1000s"), moved);
    free(moved);
    reload(a, done);
}

void dataset_edit_undo(app *a) {
    if (!can_edit(a)) return;
    char what[1024], err[1024], done[1200];
    int rc = clean_undo(a->root, what, sizeof what, err, sizeof err);
    if (rc < 0) {
        app_status(a, _("undo: %.480s"), err);
        return;
    }
    if (rc == 0) {
        app_status(a, "%s", _("nothing to undo"));
        return;
    }
    snprintf(done, sizeof done, _("undone: %.1000s"), what);
    reload(a, done);
}
