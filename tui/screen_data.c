// screen_data.c — screen 1: the dataset. Left, the split/class tree with image counts and a bar
// each; right, the files of the selected class (Tab moves the focus there) and a preview of the
// selected file with its format, size, colour mode and bytes. frost doctor's check runs on a
// background thread (core/jobs/doctor_job) from the first tick; data_poll reads its progress, and once
// it is done bad files are marked with their reason.
#include <curses.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "dataset_edit.h"
#include "doctor_job.h"
#include "i18n.h"
#include "list_view.h"
#include "path.h"
#include "preview.h"
#include "style.h"
#include "text_wrap.h"

typedef struct {
    int focus;            // 0: the class tree, 1: the file list
    list_view tree;       // its lines: "train/", train's classes, "valid/", valid's classes
    list_view files;      // the selected class's files
    int files_for;        // the class row `file_items` was built for (-1: none)
    size_t *file_items;   // item indices of the selected split and class
    size_t n_files;
    doctor_job *job;
    char job_err[256];
    int summarised;   // the job's result has been counted
    size_t *bad;      // per class row (split * n_classes + class): bad files
    size_t n_bad;     // all bad entries of the report (files, and folders the scan skipped)
} data_view;

static const dataset_split *split_of(const app *a, int s) { return s == 0 ? &a->d.train : &a->d.valid; }

// Tree line k: 0 and n_classes + 1 are the headings; the others a split's class.
static int is_heading(const app *a, int k) { return k == 0 || k == (int)a->d.n_classes + 1; }

// The split and class of the selected tree line.
static void sel_split_class(const app *a, const data_view *v, int *s, int *c) {
    int nc = (int)a->d.n_classes;
    *s = v->tree.sel <= nc ? 0 : 1;
    *c = v->tree.sel - *s * (nc + 1) - 1;
    if (*c < 0) *c = 0;
}

static int class_row(const app *a, const data_view *v) {
    int s, c;
    sel_split_class(a, v, &s, &c);
    return s * (int)a->d.n_classes + c;
}

// The selected class's files (item indices), rebuilt when the class changes.
static void build_files(app *a, data_view *v) {
    int row = class_row(a, v);
    if (v->files_for == row) return;
    int s, c;
    sel_split_class(a, v, &s, &c);
    const dataset_split *sp = split_of(a, s);
    free(v->file_items);
    v->file_items = malloc((sp->n_items ? sp->n_items : 1) * sizeof *v->file_items);
    v->n_files = 0;
    for (size_t i = 0; v->file_items && i < sp->n_items; i++)
        if (sp->items[i].label == c) v->file_items[v->n_files++] = i;
    v->files_for = row;
    v->files.sel = v->files.top = 0;
}

static const char *selected_path(const app *a, const data_view *v) {
    int s, c;
    sel_split_class(a, v, &s, &c);
    return split_of(a, s)->items[v->file_items[v->files.sel]].path;
}

static void *create(app *a) {
    (void)a;
    data_view *v = calloc(1, sizeof *v);
    if (!v) return NULL;
    v->files_for = -1;
    v->tree.sel = 1;   // the first class of train/
    return v;
}

// ---------------------------------------------------------------------------------------------
// The background check

static void poll(app *a, void *state) {
    data_view *v = state;
    if (!a->have_dataset) return;
    if (!v->job && !v->job_err[0]) {
        v->job = doctor_job_start(&a->d, 0, v->job_err, sizeof v->job_err);
        if (!v->job && !v->job_err[0]) snprintf(v->job_err, sizeof v->job_err, "%s", _("the check could not start"));
    }
    if (!v->job || v->summarised || !doctor_job_done(v->job)) return;
    v->summarised = 1;
    const doctor_report *r = doctor_job_report(v->job, v->job_err, sizeof v->job_err);
    if (!r) return;
    v->n_bad = badfiles_count((badfile_list *)&r->bad);
    v->bad = calloc(a->d.n_classes ? 2 * a->d.n_classes : 1, sizeof *v->bad);
    for (int s = 0; v->bad && s < 2; s++) {
        const dataset_split *sp = split_of(a, s);
        for (size_t i = 0; i < sp->n_items; i++)
            if (doctor_job_reason(v->job, s, i)) v->bad[(size_t)s * a->d.n_classes + (size_t)sp->items[i].label]++;
    }
}

static void destroy(app *a, void *state) {
    (void)a;
    data_view *v = state;
    doctor_job_free(v->job);
    free(v->file_items);
    free(v->bad);
    free(v);
    preview_reset();
}

// One line under the totals: how far the check is, or what it found.
static void draw_check_line(app *a, data_view *v, int y, int cols) {
    char line[512];
    ui_role role = ROLE_DIM;
    if (v->job_err[0]) {
        snprintf(line, sizeof line, _("frost doctor: %s"), v->job_err);
        role = ROLE_ERROR;
    } else if (!v->job || !v->summarised) {
        size_t checked = 0, total = 0;
        if (v->job) doctor_job_poll(v->job, &checked, &total);
        snprintf(line, sizeof line, _("frost doctor: checking the files... %zu/%zu"), checked, total);
    } else {
        const doctor_report *r = doctor_job_report(v->job, NULL, 0);
        int n = snprintf(line, sizeof line, _("frost doctor: %zu files checked, "), r->checked);
        if (v->n_bad == 0) {
            snprintf(line + n, sizeof line - (size_t)n, "%s", _("no bad files"));
            role = ROLE_GOOD;
        } else {
            snprintf(line + n, sizeof line - (size_t)n,
                     ngettext("%zu bad file (skipped in training)", "%zu bad files (skipped in training)", v->n_bad),
                     v->n_bad);
            role = ROLE_WARNING;
        }
        if (r->imbalance && r->n_problems == 0) {   // what to do about it, in the Train screen's terms
            size_t len = strlen(line);
            snprintf(line + len, sizeof line - len, _("; %s (class weights: auto on the Train screen balances it)"),
                     r->warnings[r->imbalance - 1]);
            role = ROLE_WARNING;
        }
        if (r->n_problems > 0 && a->d.n_classes > 0) {
            size_t len = strlen(line);
            snprintf(line + len, sizeof line - len, "; %s", r->problems[0]);
            role = ROLE_ERROR;
        }
    }
    attron(style(role));
    mvaddnstr(y, 0, line, cols);
    attroff(style(role));
}

// ---------------------------------------------------------------------------------------------
// Drawing

// The tree: "train/", its classes, "valid/", its classes.
static void draw_tree(app *a, data_view *v, int top, int rows, int width) {
    const dataset *d = &a->d;
    int nc = (int)d->n_classes, lines = 2 * nc + 2;
    list_view_layout(&v->tree, lines, top, 0, rows, width);
    if (v->tree.top == v->tree.sel && v->tree.sel > 0 && is_heading(a, v->tree.sel - 1))
        v->tree.top--;   // its heading too
    size_t max = 1;
    for (size_t c = 0; c < d->n_classes; c++) {
        if (d->train.class_counts[c] > max) max = d->train.class_counts[c];
        if (d->valid.class_counts[c] > max) max = d->valid.class_counts[c];
    }
    int bar_w = width - 2 - 14 - 1 - 6 - 1 - 6;   // indent, name, count, mark of bad files
    if (bar_w < 4) bar_w = 4;
    for (int k = v->tree.top; k < lines && k - v->tree.top < rows; k++) {
        int y = top + k - v->tree.top, s = k <= nc ? 0 : 1, c = k - s * (nc + 1) - 1;
        const dataset_split *sp = split_of(a, s);
        if (c < 0) {
            attron(style(ROLE_TITLE));
            mvprintw(y, 0, "%s/ (%zu)", sp->name, sp->n_items);
            attroff(style(ROLE_TITLE));
            continue;
        }
        int row = s * nc + c;
        attr_t at = k == v->tree.sel ? (v->focus == 0 ? style(ROLE_SELECTED) : A_BOLD) : A_NORMAL;
        attron(at);
        char name[128];
        mvprintw(y, 2, "%s %6zu ", text_pad(name, sizeof name, d->classes[c], 14), sp->class_counts[c]);
        attroff(at);
        style_bar(y, 2 + 14 + 1 + 6 + 1, bar_w, (double)sp->class_counts[c] / (double)max,
                  s == 0 ? ROLE_TRAIN : ROLE_VALID);
        if (v->bad && v->bad[row] > 0) {
            attron(style(ROLE_WARNING));
            mvprintw(y, 2 + 14 + 1 + 6 + 1 + bar_w + 1, "%s%zu", glyph(GL_BAD), v->bad[row]);
            attroff(style(ROLE_WARNING));
        }
    }
}

// The selected class's files, from (top, x), rows x width; the last two rows are left for
// draw_reason.
static void draw_files(app *a, data_view *v, int top, int x, int rows, int width) {
    int s, c;
    sel_split_class(a, v, &s, &c);
    const dataset_split *sp = split_of(a, s);
    size_t nbad = v->bad ? v->bad[class_row(a, v)] : 0;
    int name_len = (int)text_fit(a->d.classes[c], 40, NULL);   // (40 columns of it, whole characters)
    attron(style(ROLE_TITLE));
    if (nbad)
        mvprintw(top, x, _("%s/%.*s: %zu files, %zu bad"), sp->name, name_len, a->d.classes[c], v->n_files, nbad);
    else
        mvprintw(top, x, _("%s/%.*s: %zu files"), sp->name, name_len, a->d.classes[c], v->n_files);
    attroff(style(ROLE_TITLE));
    int list_rows = rows - 3;
    if (list_rows < 1) list_rows = 1;
    list_view_layout(&v->files, (int)v->n_files, top + 1, x, list_rows, width);
    for (int k = 0; k < list_rows && (size_t)(v->files.top + k) < v->n_files; k++) {
        int i = v->files.top + k, y = top + 1 + k;
        size_t item = v->file_items[i];
        const char *why = v->job ? doctor_job_reason(v->job, s, item) : NULL;
        attr_t at = i == v->files.sel ? (v->focus == 1 ? style(ROLE_SELECTED) : A_BOLD) : A_NORMAL;
        if (why) at |= style(ROLE_WARNING);
        attron(at);
        mvaddstr(y, x, why ? glyph(GL_BAD) : " ");
        addstr(" ");
        const char *base = path_base(sp->items[item].path);
        addnstr(base, (int)text_fit(base, width - 3, NULL));
        attroff(at);
    }
}

// Why the selected file is bad, when it is, on the last two rows of the box (word-wrapped, cut).
static void draw_reason(app *a, data_view *v, int top, int x, int rows, int width) {
    if (v->n_files == 0 || !v->job || rows < 2 || width < 8) return;
    int s, c;
    sel_split_class(a, v, &s, &c);
    size_t item = v->file_items[v->files.sel];
    const char *why = doctor_job_reason(v->job, s, item);
    if (!why) return;
    char line[700];
    snprintf(line, sizeof line, "%s %s: %s", glyph(GL_BAD), path_base(split_of(a, s)->items[item].path), why);
    attron(style(ROLE_WARNING));
    size_t next, n = text_wrap_line(line, width, &next);   // two rows, broken at a space that fits
    mvaddnstr(top + rows - 2, x, line, (int)n);
    if (line[next]) mvaddnstr(top + rows - 1, x, line + next, (int)text_fit(line + next, width, NULL));
    attroff(style(ROLE_WARNING));
}

static void draw_preview(app *a, data_view *v, int top, int x, int rows, int width) {
    if (v->n_files == 0 || rows < 2 || width < 4) return;
    const char *path = selected_path(a, v);
    char info[512];
    // the picture first (it fills info), then the info line above it
    preview_draw(path, top + 1, x, rows - 1, width, info, sizeof info);
    attron(style(ROLE_DIM));
    mvaddnstr(top, x, info, width);
    attroff(style(ROLE_DIM));
}

static void draw(app *a, void *state, int top, int rows, int cols) {
    if (!a->have_dataset) {
        mvaddnstr(top, 2, a->dataset_error, cols - 4);
        return;
    }
    data_view *v = state;
    build_files(a, v);
    const dataset *d = &a->d;
    mvprintw(top, 0, _("%zu classes, %zu training and %zu validation images"), d->n_classes, d->train.n_items,
             d->valid.n_items);
    draw_check_line(a, v, top + 1, cols);
    if (d->n_classes == 0) {
        attron(style(ROLE_ERROR));
        mvaddnstr(top + 3, 2, d->n_problems ? d->problems[0] : _("no class folders here"), cols - 4);
        attroff(style(ROLE_ERROR));
        return;
    }
    int body = top + 3, body_rows = rows - 3;
    if (body_rows < 3) return;
    int left = cols * 2 / 5;
    if (left < 36) left = 36;
    if (left > 56) left = 56;
    if (left > cols - 20) left = cols - 20;
    draw_tree(a, v, body, body_rows, left - 1);
    int rx = left + 1, rw = cols - rx;
    // the file column as wide as its longest name (16..40 cells), the picture gets the rest
    int s, c, fw = 16;
    sel_split_class(a, v, &s, &c);
    for (size_t i = 0; i < v->n_files; i++) {
        const char *base = path_base(split_of(a, s)->items[v->file_items[i]].path);
        int w = text_columns(base, strlen(base)) + 3;
        if (w > fw) fw = w;
    }
    int class_w = text_columns(a->d.classes[c], strlen(a->d.classes[c]));
    if (fw < class_w + 20) fw = class_w + 20;   // its heading
    if (fw > 40) fw = 40;
    if (rw - fw - 2 >= 16) {   // files and picture side by side
        draw_files(a, v, body, rx, body_rows, fw);
        draw_preview(a, v, body, rx + fw + 2, body_rows - 2, rw - fw - 2);
        draw_reason(a, v, body, rx, body_rows, rw);
    } else {   // a narrow window: the picture under the files
        int fr = body_rows / 2;
        draw_files(a, v, body, rx, fr, rw);
        draw_preview(a, v, body + fr, rx, body_rows - fr - 2, rw);
        draw_reason(a, v, body, rx, body_rows, rw);
    }
}

// ---------------------------------------------------------------------------------------------
// Keys

static void act(app *a, void *state, app_action action) {
    data_view *v = state;
    if (!a->have_dataset || a->d.n_classes == 0) return;
    build_files(a, v);
    if (action == ACT_SWITCH_PANE) {
        v->focus = v->focus == 0 && v->n_files > 0 ? 1 : 0;
        return;
    }
    if (action == ACT_MOUSE) {   // a click selects in the list it lands on, and moves the focus there
        if (list_view_hit(&v->files, a->mouse_y, a->mouse_x) && v->n_files > 0)
            v->focus = 1;
        else if (list_view_hit(&v->tree, a->mouse_y, a->mouse_x))
            v->focus = 0;
        else
            return;
    }
    if (action == ACT_UNDO) {
        dataset_edit_undo(a);
        return;
    }
    if (action == ACT_RELABEL || action == ACT_SET_ASIDE) {   // the selected file
        if (v->focus != 1 || v->n_files == 0) {
            app_status(a, "%s", _("choose a file first (Tab: the file list)"));
        } else {
            char path[4096];
            snprintf(path, sizeof path, "%s", selected_path(a, v));   // the scan it points into is replaced
            if (action == ACT_RELABEL)
                dataset_edit_relabel(a, path);
            else
                dataset_edit_set_aside(a, path);
        }
        return;
    }
    if (v->focus == 1) {
        list_view_act(&v->files, action, a->mouse_y, a->mouse_x);
        return;
    }
    int before = v->tree.sel;
    if (!list_view_act(&v->tree, action, a->mouse_y, a->mouse_x)) return;
    // headings are not selected: step over them, the way the selection moved (down from the top)
    if (is_heading(a, v->tree.sel)) v->tree.sel += v->tree.sel < before && v->tree.sel > 0 ? -1 : 1;
}

// A new scan (cleaning moved files): the check runs again on it, the lists are rebuilt, the
// selection kept where it was as far as it still exists.
static void dataset_changed(app *a, void *state, const dataset *old) {
    (void)old;
    data_view *v = state;
    doctor_job_free(v->job);   // it reads the old scan: stopped before that is freed
    v->job = NULL;
    v->job_err[0] = '\0';
    v->summarised = 0;
    free(v->bad);
    v->bad = NULL;
    v->n_bad = 0;
    int sel = v->files.sel;
    v->files_for = -1;
    build_files(a, v);
    v->files.sel = sel < (int)v->n_files ? sel : (int)v->n_files - 1;
    if (v->files.sel < 0) v->files.sel = 0;
    if (v->n_files == 0) v->focus = 0;
}

const screen screen_data = {
    .title = N_("1 Data"),
    .wheel_lines = 3,
    .create = create,
    .poll = poll,
    .draw = draw,
    .act = act,
    .destroy = destroy,
    .dataset_changed = dataset_changed,
};
