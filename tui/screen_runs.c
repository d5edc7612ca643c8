// screen_runs.c — screen 5: the run history (core/history/). A table of every recorded run (sorted by
// any column: s picks the column, r reverses; / filters by typed text), the selected run's loss and
// accuracy curves below it; space marks runs, and with two marked their curves are overlaid in two
// colours with a legend and the settings that differ. Enter hands the selected run's settings to the
// Train form (through the app); d deletes the selected run after asking. The history is read when the
// screen comes to the front (a run recorded meanwhile appears then).
#include <curses.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "chart.h"
#include "i18n.h"
#include "list_view.h"
#include "run_query.h"
#include "run_settings.h"
#include "runs_db.h"
#include "runs_job.h"
#include "style.h"
#include "text_escape.h"
#include "text_wrap.h"

enum {
    COL_ID,
    COL_WHEN,
    COL_DATASET,
    COL_ARCH,
    COL_TRAINABLE,
    COL_LR,
    COL_EPOCHS,
    COL_BEST,
    COL_STATUS,
    COL_TIME,
    N_COLS
};
static const char *const COL_NAMES[N_COLS] = {N_("ID"), N_("WHEN"),   N_("DATASET"),  N_("ARCH"),   N_("TRAINABLE"),
                                              N_("LR"), N_("EPOCHS"), N_("BEST ACC"), N_("STATUS"), N_("TIME")};
static const int COL_WIDTHS[N_COLS] = {5, 16, 14, 10, 10, 8, 7, 8, 11, 8};

typedef struct {
    long long id;
    char when[17], dataset[64], arch[32], trainable[64], status[16];
    double lr, best, wall;
    int epochs, epochs_done;
} run_brief;

// One run's curves and settings, read when it is selected or marked.
typedef struct {
    long long id;   // 0: none
    run_epoch *e;
    size_t n;
    char *settings;
} run_curves;

// rows read from the history
typedef struct {
    run_brief *rows;
    size_t n, cap;
} run_table;

// The first page's worth of runs is read on entering the screen, at once; a longer history is read
// whole by a background job, which replaces the first rows when it is done (sorting and filtering
// meanwhile apply to the rows read so far).
enum { FIRST_ROWS = 200 };

typedef struct {
    list_view list;
    run_brief *rows;
    size_t n, cap;
    runs_job *job;   // reading the whole history into incoming, when it is longer than FIRST_ROWS
    run_table incoming;
    size_t *shown;   // indices of rows that pass the filter, in the sort's order
    size_t n_shown;
    int sort_col, sort_desc;
    char filter[128];
    long long marked[2];
    int n_marked;
    run_curves sel, mark[2];
    char error[640];
} runs_view;

static void curves_free(run_curves *c) {
    free(c->e);
    free(c->settings);
    memset(c, 0, sizeof *c);
}

// Reads run id's epochs and settings into c (kept when it is already that run).
static void curves_load(run_curves *c, long long id) {
    if (c->id == id) return;
    curves_free(c);
    if (!id) return;
    sqlite3 *db;
    char err[512];
    if (runs_db_open(&db, 0, err, sizeof err) != 0) return;
    run_row r;
    if (runs_get(db, id, &r, &c->e, &c->n, err, sizeof err) == 1) {
        c->id = id;
        c->settings = r.settings;
        r.settings = NULL;
        run_row_free(&r);
    }
    runs_db_close(db);
}

// ---------------------------------------------------------------------------------------------
// the table: read, filtered, sorted

// one row into a table (on the job's thread for the whole history: only its own table)
static int table_add(run_table *t, const run_row *r) {
    if (t->n == t->cap) {
        size_t cap = t->cap ? 2 * t->cap : 256;
        run_brief *grown = realloc(t->rows, cap * sizeof *grown);
        if (!grown) return 1;
        t->rows = grown;
        t->cap = cap;
    }
    run_brief *b = &t->rows[t->n++];
    b->id = r->id;
    snprintf(b->when, sizeof b->when, "%.16s", r->started);
    text_escape(b->dataset, sizeof b->dataset, run_row_dataset_name(r));
    text_escape(b->arch, sizeof b->arch, r->arch);
    text_escape(b->trainable, sizeof b->trainable, r->trainable);
    snprintf(b->status, sizeof b->status, "%s", r->status);
    b->lr = r->lr;
    b->best = r->best_valid_acc;
    b->wall = r->wall_s;
    b->epochs = r->epochs;
    b->epochs_done = r->epochs_done;
    return 0;
}

static int keep_row(void *user, const run_row *r) { return table_add(user, r); }

// the first page: stops once FIRST_ROWS are in
static int keep_first(void *user, const run_row *r) {
    run_table *t = user;
    return table_add(t, r) || t->n >= FIRST_ROWS;
}

static int g_sort_col, g_sort_desc;   // qsort's comparison reads them (the UI thread only)
static const run_brief *g_rows;

static int cmp_double(double a, double b) {   // NaN (none) first
    if (isnan(a) || isnan(b)) return isnan(b) - isnan(a);
    return (a > b) - (a < b);
}

static int compare(const void *pa, const void *pb) {
    const run_brief *a = &g_rows[*(const size_t *)pa], *b = &g_rows[*(const size_t *)pb];
    int c = 0;
    switch (g_sort_col) {
    case COL_WHEN:
    case COL_ID: c = (a->id > b->id) - (a->id < b->id); break;
    case COL_DATASET: c = strcmp(a->dataset, b->dataset); break;
    case COL_ARCH: c = strcmp(a->arch, b->arch); break;
    case COL_TRAINABLE: c = strcmp(a->trainable, b->trainable); break;
    case COL_LR: c = cmp_double(a->lr, b->lr); break;
    case COL_EPOCHS: c = (a->epochs_done > b->epochs_done) - (a->epochs_done < b->epochs_done); break;
    case COL_BEST: c = cmp_double(a->best, b->best); break;
    case COL_STATUS: c = strcmp(a->status, b->status); break;
    default: c = cmp_double(a->wall, b->wall); break;
    }
    if (!c) c = (a->id > b->id) - (a->id < b->id);
    return g_sort_desc ? -c : c;
}

static int passes(const runs_view *v, const run_brief *b) {
    if (!v->filter[0]) return 1;
    char id[24];
    snprintf(id, sizeof id, "%lld", b->id);
    const char *fields[] = {id, b->when, b->dataset, b->arch, b->trainable, b->status};
    for (size_t k = 0; k < sizeof fields / sizeof *fields; k++)
        if (strstr(fields[k], v->filter)) return 1;
    return 0;
}

// The rows shown: those passing the filter, sorted; the selection stays on the run it was on.
static void arrange(runs_view *v) {
    long long keep = v->n_shown && v->list.sel < (int)v->n_shown ? v->rows[v->shown[v->list.sel]].id : 0;
    free(v->shown);
    v->shown = malloc((v->n ? v->n : 1) * sizeof *v->shown);
    v->n_shown = 0;
    if (!v->shown) return;
    for (size_t i = 0; i < v->n; i++)
        if (passes(v, &v->rows[i])) v->shown[v->n_shown++] = i;
    g_sort_col = v->sort_col;
    g_sort_desc = v->sort_desc;
    g_rows = v->rows;
    qsort(v->shown, v->n_shown, sizeof *v->shown, compare);
    v->list.sel = 0;
    for (size_t k = 0; k < v->n_shown; k++)
        if (v->rows[v->shown[k]].id == keep) v->list.sel = (int)k;
}

static void stop_reading(runs_view *v) {
    runs_job_free(v->job);
    v->job = NULL;
    free(v->incoming.rows);
    memset(&v->incoming, 0, sizeof v->incoming);
}

// The first page now; the rest, when there may be more, by the job (poll takes it in).
static void reload(runs_view *v) {
    stop_reading(v);
    run_table t = {v->rows, 0, v->cap};
    v->error[0] = '\0';
    sqlite3 *db;
    char err[600];
    if (runs_db_open(&db, 0, err, sizeof err) != 0) {
        snprintf(v->error, sizeof v->error, "%s", err);
    } else {
        if (runs_list(db, NULL, keep_first, &t, err, sizeof err) < 0) snprintf(v->error, sizeof v->error, "%s", err);
        runs_db_close(db);
    }
    v->rows = t.rows, v->n = t.n, v->cap = t.cap;
    if (!v->error[0] && v->n >= FIRST_ROWS) {
        v->job = runs_job_start(keep_row, &v->incoming, err, sizeof err);
        if (!v->job) snprintf(v->error, sizeof v->error, "%s", err);
    }
    arrange(v);
}

// The whole history, once the job has read it, in place of the first page.
static void take_incoming(app *a, runs_view *v) {
    if (!v->job || !runs_job_done(v->job)) return;
    char err[640];
    if (runs_job_result(v->job, err, sizeof err) < 0) {
        app_status(a, _("the run history: %.500s"), err);
    } else {
        free(v->rows);
        v->rows = v->incoming.rows, v->n = v->incoming.n, v->cap = v->incoming.cap;
        memset(&v->incoming, 0, sizeof v->incoming);
        arrange(v);
    }
    stop_reading(v);
}

static long long selected_id(const runs_view *v) {
    return v->n_shown && v->list.sel < (int)v->n_shown ? v->rows[v->shown[v->list.sel]].id : 0;
}

// ---------------------------------------------------------------------------------------------
// the screen

static void *create(app *a) {
    (void)a;
    runs_view *v = calloc(1, sizeof *v);
    if (v) v->sort_desc = 1;   // newest first
    return v;
}

static void enter(app *a, void *state) {
    (void)a;
    reload(state);
}

static void poll(app *a, void *state) { take_incoming(a, state); }

static void cell(int y, int x, const char *s, int width, attr_t at) {
    char text[512];
    attron(at);
    mvaddstr(y, x, text_pad(text, sizeof text, s, width));
    attroff(at);
}

static void draw_row(const run_brief *b, int y, int cols, attr_t at) {
    char buf[N_COLS][64];
    snprintf(buf[COL_ID], 64, "%lld", b->id);
    snprintf(buf[COL_WHEN], 64, "%s", b->when);
    snprintf(buf[COL_DATASET], 64, "%s", b->dataset);
    snprintf(buf[COL_ARCH], 64, "%s", b->arch);
    snprintf(buf[COL_TRAINABLE], 64, "%s", b->trainable);
    snprintf(buf[COL_LR], 64, "%.3g", b->lr);
    snprintf(buf[COL_EPOCHS], 64, "%d/%d", b->epochs_done, b->epochs);
    if (isfinite(b->best))
        snprintf(buf[COL_BEST], 64, "%.2f%%", b->best);
    else
        snprintf(buf[COL_BEST], 64, "-");
    snprintf(buf[COL_STATUS], 64, "%s", b->status);
    if (isfinite(b->wall))
        snprintf(buf[COL_TIME], 64, "%d:%02d", (int)(b->wall + 0.5) / 60, (int)(b->wall + 0.5) % 60);
    else
        snprintf(buf[COL_TIME], 64, "-");
    int x = 2;
    for (int c = 0; c < N_COLS && x < cols; c++) {
        int w = COL_WIDTHS[c] < cols - x ? COL_WIDTHS[c] : cols - x;
        cell(y, x, buf[c], w, at);
        x += COL_WIDTHS[c] + 1;
    }
}

static int is_marked(const runs_view *v, long long id) {
    for (int k = 0; k < v->n_marked; k++)
        if (v->marked[k] == id) return 1;
    return 0;
}

// Loss and accuracy per epoch: the selected run's train and valid; with two runs marked, each one's
// valid curves in a colour of its own.
static void draw_curves(runs_view *v, int top, int rows, int cols) {
    int two = v->n_marked == 2;
    run_curves *c[2] = {two ? &v->mark[0] : &v->sel, two ? &v->mark[1] : NULL};
    enum { MAXE = 1000 };
    static double loss[4][MAXE], acc[4][MAXE];
    chart_series ls[4], as[4];
    int ns = 0, x_max = 1;
    double hi = 0;
    for (int k = 0; k < 2; k++) {
        if (!c[k] || !c[k]->id) continue;
        int n = c[k]->n < MAXE ? (int)c[k]->n : MAXE;
        if (n - 1 > x_max) x_max = n - 1;
        for (int pass = 0; pass < (two ? 1 : 2); pass++) {   // two runs: valid only; one: train and valid
            int valid = two || pass == 1;
            for (int i = 0; i < n; i++) {
                loss[ns][i] = valid ? c[k]->e[i].valid_loss : c[k]->e[i].train_loss;
                acc[ns][i] = valid ? c[k]->e[i].valid_acc : c[k]->e[i].train_acc;
                if (isfinite(loss[ns][i]) && loss[ns][i] > hi) hi = loss[ns][i];
            }
            ui_role role = two ? (k == 0 ? ROLE_TRAIN : ROLE_VALID) : (valid ? ROLE_VALID : ROLE_TRAIN);
            char mark = two ? (k == 0 ? '*' : 'o') : (valid ? 'o' : '*');
            ls[ns] = (chart_series){loss[ns], n, role, mark};
            as[ns] = (chart_series){acc[ns], n, role, mark};
            ns++;
        }
    }
    if (!ns) return;
    // the legend: which colour is which
    move(top, 0);
    if (two) {
        addstr(_("valid loss and accuracy: "));
        for (int k = 0; k < 2; k++) {
            attron(style(k == 0 ? ROLE_TRAIN : ROLE_VALID));
            printw(_("run %lld%s"), v->marked[k], style_unicode() ? "" : (k == 0 ? " *" : " o"));
            attroff(style(k == 0 ? ROLE_TRAIN : ROLE_VALID));
            if (k == 0) addstr("  ");
        }
    } else {
        printw(_("run %lld: loss and accuracy per epoch ("), v->sel.id);
        attron(style(ROLE_TRAIN));
        addstr(style_unicode() ? _("train") : _("train *"));
        attroff(style(ROLE_TRAIN));
        addstr(", ");
        attron(style(ROLE_VALID));
        addstr(style_unicode() ? _("valid") : _("valid o"));
        attroff(style(ROLE_VALID));
        addstr(")");
    }
    int half = cols / 2;
    chart_draw(top + 1, 0, rows - 1, half - 2, 7, ls, ns, x_max, 0, hi > 0 ? hi * 1.05 : 1);
    chart_draw(top + 1, half, rows - 1, cols - half - 1, 7, as, ns, x_max, 0, 100);
}

typedef struct {
    int y, last, cols;
} diff_draw;

static void diff_line(void *user, const char *key, const char *va, const char *vb) {
    diff_draw *d = user;
    if (d->y > d->last) return;
    char text[512];
    mvprintw(d->y, 2, "%s ", text_pad(text, sizeof text, key, 16));
    attron(style(ROLE_TRAIN));
    printw("%s ", text_pad(text, sizeof text, va, 30));
    attroff(style(ROLE_TRAIN));
    attron(style(ROLE_VALID));
    addnstr(vb, (int)text_fit(vb, d->cols > 52 ? d->cols - 52 : 0, NULL));
    attroff(style(ROLE_VALID));
    d->y++;
}

static void draw(app *a, void *state, int top, int rows, int cols) {
    (void)a;
    runs_view *v = state;
    if (v->error[0]) {
        mvprintw(top + 1, 2, "%.*s", cols - 4, v->error);
        return;
    }
    // the header: the sorted column marked, the filter
    int x = 2;
    for (int c = 0; c < N_COLS && x < cols; c++) {
        char h[32];
        snprintf(h, sizeof h, "%s%s", _(COL_NAMES[c]), c == v->sort_col ? (v->sort_desc ? "v" : "^") : "");
        // (the column's gap takes the order's mark)
        cell(top, x, h, COL_WIDTHS[c] + 1 < cols - x ? COL_WIDTHS[c] + 1 : cols - x, style(ROLE_TITLE));
        x += COL_WIDTHS[c] + 1;
    }
    if (v->filter[0]) mvprintw(top, cols - 30 > x ? x : cols - 30, _(" filter: %.20s"), v->filter);
    if (v->job && !v->filter[0]) mvaddstr(top, cols - 22 > x ? x : cols - 22, _(" (reading the rest)"));
    int two = v->n_marked == 2;
    int table_rows = rows / 2 - 1;
    if (table_rows < 3) table_rows = 3;
    list_view_layout(&v->list, (int)v->n_shown, top + 1, 0, table_rows, cols);
    for (int i = v->list.top; i < v->list.top + v->list.rows && i < (int)v->n_shown; i++) {
        const run_brief *b = &v->rows[v->shown[i]];
        int y = top + 1 + i - v->list.top;
        if (is_marked(v, b->id)) mvaddstr(y, 0, "*");
        draw_row(b, y, cols, i == v->list.sel ? style(ROLE_SELECTED) : A_NORMAL);
    }
    if (!v->n_shown) mvaddstr(top + 2, 2, v->n ? _("no run matches the filter") : _("no runs recorded yet"));
    // below: the curves (and with two marked, what differs in their settings)
    curves_load(&v->sel, selected_id(v));
    for (int k = 0; k < 2; k++) curves_load(&v->mark[k], k < v->n_marked ? v->marked[k] : 0);
    int below = top + 1 + table_rows + 1, left = rows - (below - top);
    int diff_rows = two ? (left > 12 ? left / 3 : 0) : 0;
    draw_curves(v, below, left - diff_rows, cols);
    if (diff_rows > 1 && v->mark[0].settings && v->mark[1].settings) {
        int y = below + left - diff_rows;
        mvprintw(y, 0, _("settings that differ: run %lld, run %lld"), v->marked[0], v->marked[1]);
        diff_draw d = {y + 1, top + rows - 1, cols};
        if (run_settings_diff(v->mark[0].settings, v->mark[1].settings, diff_line, &d) == 0)
            mvprintw(y + 1, 2, "(none)");
    }
}

static void delete_selected(app *a, runs_view *v) {
    long long id = selected_id(v);
    if (!id) return;
    char label[96], answer[8] = "";
    snprintf(label, sizeof label, _("delete run %lld from the history? (y to delete): "), id);
    if (!app_prompt(a, label, answer, sizeof answer) || strcmp(answer, "y") != 0) {
        app_status(a, _("run %lld kept"), id);
        return;
    }
    sqlite3 *db;
    char err[600];
    int rc = runs_db_open(&db, 0, err, sizeof err);
    if (rc == 0) {
        rc = runs_remove(db, id, err, sizeof err) == 1 ? 0 : -1;
        runs_db_close(db);
    }
    if (rc != 0) {
        app_status(a, _("run %lld not deleted: %.400s"), id, err);
        return;
    }
    for (int k = 0; k < v->n_marked; k++)
        if (v->marked[k] == id) v->marked[k] = v->marked[--v->n_marked];
    reload(v);
    app_status(a, _("run %lld deleted"), id);
}

static void act(app *a, void *state, app_action action) {
    runs_view *v = state;
    if (list_view_act(&v->list, action, a->mouse_y, a->mouse_x)) return;
    long long id = selected_id(v);
    switch (action) {
    case ACT_SORT:
        v->sort_col = (v->sort_col + 1) % N_COLS;
        arrange(v);
        app_status(a, _("sorted by %s"), _(COL_NAMES[v->sort_col]));
        break;
    case ACT_SORT_REVERSE:
        v->sort_desc = !v->sort_desc;
        arrange(v);
        break;
    case ACT_FILTER: {
        char text[128];
        snprintf(text, sizeof text, "%s", v->filter);
        v->filter[0] = '\0';
        if (app_prompt(a, _("filter runs (id, date, dataset, arch, trainable, status): "), text, sizeof text))
            snprintf(v->filter, sizeof v->filter, "%s", text);
        arrange(v);
        break;
    }
    case ACT_MARK:
        if (!id) break;
        if (is_marked(v, id)) {
            for (int k = 0; k < v->n_marked; k++)
                if (v->marked[k] == id) v->marked[k] = v->marked[--v->n_marked];
        } else {
            if (v->n_marked == 2) v->marked[0] = v->marked[1], v->n_marked = 1;   // the older mark gives way
            v->marked[v->n_marked++] = id;
        }
        if (v->n_marked == 2)
            app_status(a, _("runs %lld and %lld overlaid"), v->marked[0], v->marked[1]);
        else
            app_status(a, "%d run marked (mark two to compare)", v->n_marked);
        break;
    case ACT_START:
        curves_load(&v->sel, id);
        if (!v->sel.settings) break;
        if (app_load_settings(a, v->sel.settings, id) == 0) app_show(a, SCREEN_TRAIN);
        break;
    case ACT_DELETE: delete_selected(a, v); break;
    default: break;
    }
}

static void destroy(app *a, void *state) {
    (void)a;
    runs_view *v = state;
    stop_reading(v);   // the job writes into v->incoming: stopped before v goes
    curves_free(&v->sel);
    for (int k = 0; k < 2; k++) curves_free(&v->mark[k]);
    free(v->rows);
    free(v->shown);
    free(v);
}

const screen screen_runs = {
    .title = N_("5 Runs"),
    .wheel_lines = 3,
    .create = create,
    .enter = enter,
    .poll = poll,
    .draw = draw,
    .act = act,
    .destroy = destroy,
};
