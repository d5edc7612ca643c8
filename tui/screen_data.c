// screen_data.c — screen 1: the dataset. Left, the split/class tree with image counts and a bar
// each; right, the files of the selected class (Tab moves the focus there) and a preview of the
// selected file with its format, size, colour mode and bytes. frost doctor's check runs on a
// background thread (core/doctor_job) from the first tick; data_poll reads its progress, and once
// it is done bad files are marked with their reason.
#include <curses.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "doctor_job.h"
#include "preview.h"
#include "style.h"

struct data_view {
    int focus;              // 0: the class tree, 1: the file list
    int tree_top;           // first tree line shown
    int file_sel, file_top; // in the selected class's files
    int files_for;          // the data_sel `files` was built for (-1: none)
    size_t *files;          // item indices of the selected split and class
    size_t n_files;
    doctor_job *job;
    char job_err[256];
    int summarised;         // the job's result has been counted
    size_t *bad;            // per class row (split * n_classes + class): bad files
    size_t n_bad;           // all bad entries of the report (files, and folders the scan skipped)
};

static size_t class_rows(const app *a) { return a->have_dataset ? 2 * a->d.n_classes : 0; }

static const dataset_split *split_of(const app *a, int s) { return s == 0 ? &a->d.train : &a->d.valid; }

static void sel_split_class(const app *a, int *s, int *c) {
    int nc = (int)(a->d.n_classes ? a->d.n_classes : 1);
    *s = a->data_sel / nc;
    *c = a->data_sel % nc;
}

static struct data_view *view(app *a) {
    if (!a->dv) {
        a->dv = calloc(1, sizeof *a->dv);
        if (a->dv) a->dv->files_for = -1;
    }
    return a->dv;
}

// The selected class's files (item indices), rebuilt when the class changes.
static void build_files(app *a, struct data_view *v) {
    if (v->files_for == a->data_sel) return;
    int s, c;
    sel_split_class(a, &s, &c);
    const dataset_split *sp = split_of(a, s);
    free(v->files);
    v->files = malloc((sp->n_items ? sp->n_items : 1) * sizeof *v->files);
    v->n_files = 0;
    for (size_t i = 0; v->files && i < sp->n_items; i++)
        if (sp->items[i].label == c) v->files[v->n_files++] = i;
    v->files_for = a->data_sel;
    v->file_sel = v->file_top = 0;
}

static const char *base_name(const char *path) {
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

// ---------------------------------------------------------------------------------------------
// The background check

void data_poll(app *a) {
    struct data_view *v = view(a);
    if (!v || !a->have_dataset) return;
    if (!v->job && !v->job_err[0]) {
        v->job = doctor_job_start(&a->d, 0, v->job_err, sizeof v->job_err);
        if (!v->job && !v->job_err[0]) snprintf(v->job_err, sizeof v->job_err, "the check could not start");
    }
    if (!v->job || v->summarised || !doctor_job_done(v->job)) return;
    v->summarised = 1;
    const doctor_report *r = doctor_job_report(v->job, v->job_err, sizeof v->job_err);
    if (!r) return;
    v->n_bad = badfiles_count((badfile_list *)&r->bad);
    v->bad = calloc(class_rows(a) ? class_rows(a) : 1, sizeof *v->bad);
    for (int s = 0; v->bad && s < 2; s++) {
        const dataset_split *sp = split_of(a, s);
        for (size_t i = 0; i < sp->n_items; i++)
            if (doctor_job_reason(v->job, s, i)) v->bad[(size_t)s * a->d.n_classes + (size_t)sp->items[i].label]++;
    }
}

void data_free(app *a) {
    struct data_view *v = a->dv;
    if (!v) return;
    doctor_job_free(v->job);
    free(v->files);
    free(v->bad);
    free(v);
    a->dv = NULL;
    preview_reset();
}

// One line under the totals: how far the check is, or what it found.
static void draw_check_line(app *a, struct data_view *v, int y, int cols) {
    char line[512];
    ui_role role = ROLE_DIM;
    if (v->job_err[0]) {
        snprintf(line, sizeof line, "frost doctor: %s", v->job_err);
        role = ROLE_ERROR;
    } else if (!v->job || !v->summarised) {
        snprintf(line, sizeof line, "frost doctor: checking the files... %zu/%zu", v->job ? doctor_job_checked(v->job) : 0,
                 v->job ? doctor_job_total(v->job) : 0);
    } else {
        const doctor_report *r = doctor_job_report(v->job, NULL, 0);
        int n = snprintf(line, sizeof line, "frost doctor: %zu files checked, ", r->checked);
        if (v->n_bad == 0) {
            snprintf(line + n, sizeof line - (size_t)n, "no bad files");
            role = ROLE_GOOD;
        } else {
            snprintf(line + n, sizeof line - (size_t)n, "%zu bad file%s (skipped in training)", v->n_bad,
                     v->n_bad == 1 ? "" : "s");
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

// The tree: "train/", its classes, "valid/", its classes. Line k of it: k == 0 and
// k == n_classes + 1 are the headings.
static void draw_tree(app *a, struct data_view *v, int top, int rows, int width) {
    const dataset *d = &a->d;
    int nc = (int)d->n_classes, lines = 2 * nc + 2;
    int s_sel, c_sel;
    sel_split_class(a, &s_sel, &c_sel);
    int sel_line = s_sel * (nc + 1) + 1 + c_sel;
    if (sel_line < v->tree_top) v->tree_top = sel_line - (c_sel == 0);   // show the heading too
    if (sel_line >= v->tree_top + rows) v->tree_top = sel_line - rows + 1;
    if (v->tree_top < 0) v->tree_top = 0;
    size_t max = 1;
    for (size_t c = 0; c < d->n_classes; c++) {
        if (d->train.class_counts[c] > max) max = d->train.class_counts[c];
        if (d->valid.class_counts[c] > max) max = d->valid.class_counts[c];
    }
    int bar_w = width - 2 - 14 - 1 - 6 - 1 - 6;   // indent, name, count, mark of bad files
    if (bar_w < 4) bar_w = 4;
    for (int k = v->tree_top; k < lines && k - v->tree_top < rows; k++) {
        int y = top + k - v->tree_top, s = k <= nc ? 0 : 1, c = k - s * (nc + 1) - 1;
        const dataset_split *sp = split_of(a, s);
        if (c < 0) {
            attron(style(ROLE_TITLE));
            mvprintw(y, 0, "%s/ (%zu)", sp->name, sp->n_items);
            attroff(style(ROLE_TITLE));
            continue;
        }
        int row = s * nc + c;
        attr_t at = row == a->data_sel ? (v->focus == 0 ? style(ROLE_SELECTED) : A_BOLD) : A_NORMAL;
        attron(at);
        mvprintw(y, 2, "%-14.14s %6zu ", d->classes[c], sp->class_counts[c]);
        attroff(at);
        style_bar(y, 2 + 14 + 1 + 6 + 1, bar_w, (double)sp->class_counts[c] / (double)max, s == 0 ? ROLE_TRAIN : ROLE_VALID);
        if (v->bad && v->bad[row] > 0) {
            attron(style(ROLE_WARNING));
            mvprintw(y, 2 + 14 + 1 + 6 + 1 + bar_w + 1, "%s%zu", glyph(GL_BAD), v->bad[row]);
            attroff(style(ROLE_WARNING));
        }
    }
}

// The selected class's files, from (top, x), rows x width; the last two rows are left for
// draw_reason.
static void draw_files(app *a, struct data_view *v, int top, int x, int rows, int width) {
    int s, c;
    sel_split_class(a, &s, &c);
    const dataset_split *sp = split_of(a, s);
    size_t nbad = v->bad ? v->bad[a->data_sel] : 0;
    attron(style(ROLE_TITLE));
    if (nbad)
        mvprintw(top, x, "%s/%.40s: %zu files, %zu bad", sp->name, a->d.classes[c], v->n_files, nbad);
    else
        mvprintw(top, x, "%s/%.40s: %zu files", sp->name, a->d.classes[c], v->n_files);
    attroff(style(ROLE_TITLE));
    int list_rows = rows - 3;
    if (list_rows < 1) list_rows = 1;
    if (v->file_sel < v->file_top) v->file_top = v->file_sel;
    if (v->file_sel >= v->file_top + list_rows) v->file_top = v->file_sel - list_rows + 1;
    for (int k = 0; k < list_rows && (size_t)(v->file_top + k) < v->n_files; k++) {
        int i = v->file_top + k, y = top + 1 + k;
        size_t item = v->files[i];
        const char *why = v->job ? doctor_job_reason(v->job, s, item) : NULL;
        attr_t at = i == v->file_sel ? (v->focus == 1 ? style(ROLE_SELECTED) : A_BOLD) : A_NORMAL;
        if (why) at |= style(ROLE_WARNING);
        attron(at);
        mvaddstr(y, x, why ? glyph(GL_BAD) : " ");
        addstr(" ");
        addnstr(base_name(sp->items[item].path), width - 3);
        attroff(at);
    }
}

// Why the selected file is bad, when it is, on the last two rows of the box (word-wrapped, cut).
static void draw_reason(app *a, struct data_view *v, int top, int x, int rows, int width) {
    if (v->n_files == 0 || !v->job || rows < 2 || width < 8) return;
    int s, c;
    sel_split_class(a, &s, &c);
    size_t item = v->files[v->file_sel];
    const char *why = doctor_job_reason(v->job, s, item);
    if (!why) return;
    char line[700];
    snprintf(line, sizeof line, "%s %s: %s", glyph(GL_BAD), base_name(split_of(a, s)->items[item].path), why);
    attron(style(ROLE_WARNING));
    int len = (int)strlen(line), cut = len;
    if (len > width) {   // break at the last space that fits
        for (cut = width; cut > width / 2 && line[cut] != ' '; cut--) {
        }
        if (line[cut] != ' ') cut = width;
    }
    mvaddnstr(top + rows - 2, x, line, cut);
    if (cut < len) mvaddnstr(top + rows - 1, x, line + cut + (line[cut] == ' '), width);
    attroff(style(ROLE_WARNING));
}

static void draw_preview(app *a, struct data_view *v, int top, int x, int rows, int width) {
    if (v->n_files == 0 || rows < 2 || width < 4) return;
    int s, c;
    sel_split_class(a, &s, &c);
    const char *path = split_of(a, s)->items[v->files[v->file_sel]].path;
    char info[512];
    // the picture first (it fills info), then the info line above it
    preview_draw(path, top + 1, x, rows - 1, width, info, sizeof info);
    attron(style(ROLE_DIM));
    mvaddnstr(top, x, info, width);
    attroff(style(ROLE_DIM));
}

void data_draw(app *a, int top, int rows, int cols) {
    if (!a->have_dataset) {
        mvaddnstr(top, 2, a->dataset_error, cols - 4);
        return;
    }
    struct data_view *v = view(a);
    if (!v) return;
    build_files(a, v);
    const dataset *d = &a->d;
    mvprintw(top, 0, "%zu classes, %zu training and %zu validation images", d->n_classes, d->train.n_items,
             d->valid.n_items);
    draw_check_line(a, v, top + 1, cols);
    if (d->n_classes == 0) {
        attron(style(ROLE_ERROR));
        mvaddnstr(top + 3, 2, d->n_problems ? d->problems[0] : "no class folders here", cols - 4);
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
    sel_split_class(a, &s, &c);
    for (size_t i = 0; i < v->n_files; i++) {
        int w = (int)strlen(base_name(split_of(a, s)->items[v->files[i]].path)) + 3;
        if (w > fw) fw = w;
    }
    if (fw < (int)strlen(a->d.classes[c]) + 20) fw = (int)strlen(a->d.classes[c]) + 20;   // its heading
    if (fw > 40) fw = 40;
    if (rw - fw - 2 >= 16) {   // files and picture side by side
        draw_files(a, v, body, rx, body_rows, fw);
        draw_preview(a, v, body, rx + fw + 2, body_rows - 2, rw - fw - 2);
        draw_reason(a, v, body, rx, body_rows, rw);
    } else {                   // a narrow window: the picture under the files
        int fr = body_rows / 2;
        draw_files(a, v, body, rx, fr, rw);
        draw_preview(a, v, body + fr, rx, body_rows - fr - 2, rw);
        draw_reason(a, v, body, rx, body_rows, rw);
    }
}

// ---------------------------------------------------------------------------------------------
// Keys

static int moved(int sel, int n, app_action act, int page) {
    switch (act) {
    case ACT_UP: sel--; break;
    case ACT_DOWN: sel++; break;
    case ACT_PAGE_UP: sel -= page; break;
    case ACT_PAGE_DOWN: sel += page; break;
    case ACT_HOME: sel = 0; break;
    case ACT_END: sel = n - 1; break;
    default: break;
    }
    return sel < 0 ? 0 : sel >= n ? (n > 0 ? n - 1 : 0) : sel;
}

void data_act(app *a, app_action act, int rows) {
    struct data_view *v = view(a);
    int n = (int)class_rows(a);
    if (n == 0 || !v) return;
    build_files(a, v);
    int page = rows / 2 > 1 ? rows / 2 : 1;
    if (act == ACT_SWITCH_PANE) {
        v->focus = v->focus == 0 && v->n_files > 0 ? 1 : 0;
        return;
    }
    if (v->focus == 1)
        v->file_sel = moved(v->file_sel, (int)v->n_files, act, page);
    else
        a->data_sel = moved(a->data_sel, n, act, page);
}
