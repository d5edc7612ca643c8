// screen_predict.c — screen 4: what a trained model says about the dataset's images.
//
// The model comes from the Train screen (offered through the app), from --checkpoint on the first visit,
// or from 'o' (a path typed on the status line). Left: the valid split's images, then train's;
// right: the selected image's preview and its top-k classes as bars. 'e' evaluates the whole valid
// split; the results pane shows the accuracy, the confusion matrix and the most confidently wrong
// images. Every prediction runs as a core/interpret/predict job on its own thread; this file only starts,
// polls and draws them, and keeps each image's result (the model does not change under it: a new
// model clears the results). Only one job runs at a time, so the model is never used by two threads.
// A checkpoint is opened on a thread too (core/jobs/model_job), its own new model; s stops it.
#include <curses.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "cam_job.h"
#include "checkpoint.h"
#include "dataset_edit.h"
#include "i18n.h"
#include "list_view.h"
#include "model_job.h"
#include "predict.h"
#include "preview.h"
#include "style.h"
#include "text_escape.h"
#include "text_wrap.h"
#include "transfer.h"

#define TOP_K 5
#define PREVIEW_AHEAD 8   // a preview job predicts the selected image and the next ones not yet done
#define WRONG_KEPT 50
#define CELL_NAME 10   // confusion matrix: class names cut to this
#define ACC_W 9        // its per-class accuracy column
#define MOST_CONFUSED 8

enum { JOB_NONE, JOB_PREVIEW, JOB_EVAL };
enum { FOCUS_LIST, FOCUS_RESULTS };

typedef struct {
    int checkpoint_tried;   // opts->checkpoint opened (or tried) once
    char open_path[1024];   // a checkpoint to open ("" none): when no open is in flight
    model_job *opening;     // the checkpoint being opened, on a thread (opening_path); NULL none
    char opening_path[1024];
    int open_stopped;    // s stopped it: what it loads is dropped when it ends
    char notice[600];    // why there is no model to use (a load error, classes that do not fit)
    ft_model *model;     // the model to predict with (owned)
    char source[1024];   // where it came from, as shown
    predictor pred;
    int have_pred;
    // the images: valid first, then train (pointers into a->d)
    size_t n_images, n_valid;
    const dataset_item **items;
    predict_outcome *cache;   // per image; ok or error once predicted
    list_view images;         // the list of images (the selected one is previewed)
    list_view wrongs;         // the evaluation's most confident mistakes
    int focus;
    // the job in flight
    predict_job *job;
    int job_kind;
    size_t *job_map;   // job item -> image index
    int eval_wanted;   // 'e' pressed while a preview job ran
    // Grad-CAM over the preview (g): asked for the image drawn, cam_class and cam_layer; one job at a
    // time, never while a prediction job uses the model (nor one while it does)
    int cam_on;
    int64_t cam_class;     // -1: the top class
    char cam_layer[256];   // "": the model's default layer
    long cam_want;         // the image drawn now (-1: none), and the preview box it is drawn in
    int cam_box_w, cam_box_h;
    cam_job *cam;
    struct {   // what the job in flight, or the result, was asked for
        long image;
        int64_t cls;
        char layer[256];
        int box_w, box_h;
    } cam_asked;
    int have_cam;   // cam_res holds the result for cam_asked (or cam_err says why there is none)
    cam_result cam_res;
    char cam_err[400];
    unsigned cam_id;   // the overlay's picture id for the preview's colour pairs
    // the last evaluation
    int have_eval;
    predict_score score;
    size_t *wrong_image;   // score.wrong[k] -> image index
} predict_view;

// ---------------------------------------------------------------------------------------------
// state

static void *create(app *a) {
    predict_view *v = calloc(1, sizeof *v);
    if (!v) return NULL;
    v->cam_class = -1;
    v->cam_want = v->cam_asked.image = -1;
    if (a->have_dataset && a->d.valid.n_items + a->d.train.n_items > 0) {
        size_t n = a->d.valid.n_items + a->d.train.n_items;
        v->items = calloc(n, sizeof *v->items);
        v->cache = calloc(n, sizeof *v->cache);
        if (!v->items || !v->cache) {
            free(v->items), free(v->cache);
            free(v);
            return NULL;
        }
        for (size_t i = 0; i < a->d.valid.n_items; i++) v->items[i] = &a->d.valid.items[i];
        for (size_t i = 0; i < a->d.train.n_items; i++) v->items[a->d.valid.n_items + i] = &a->d.train.items[i];
        v->n_images = n;
        v->n_valid = a->d.valid.n_items;
    }
    return v;
}

static void outcome_clear(predict_outcome *o) {
    free(o->probs);
    free(o->order);
    free(o->error);
    memset(o, 0, sizeof *o);
}

// Waits for the job in flight (cancelled first) and drops its results.
static void job_drop(predict_view *v) {
    if (!v->job) return;
    predict_job_free(v->job);
    v->job = NULL;
    v->job_kind = JOB_NONE;
    free(v->job_map);
    v->job_map = NULL;
}

// Forgets every result (a new model, or none).
static void results_clear(predict_view *v) {
    for (size_t i = 0; v->cache && i < v->n_images; i++) outcome_clear(&v->cache[i]);
    predict_score_free(&v->score);
    free(v->wrong_image);
    v->wrong_image = NULL;
    v->have_eval = 0;
    v->eval_wanted = 0;
    v->wrongs.sel = v->wrongs.top = 0;
    v->focus = FOCUS_LIST;
}

// Drops the Grad-CAM job (waiting for it: it uses the model) and its result.
static void cam_drop(predict_view *v) {
    cam_job_free(v->cam);
    v->cam = NULL;
    cam_result_free(&v->cam_res);
    v->have_cam = 0;
    v->cam_err[0] = '\0';
}

static void model_drop(predict_view *v) {
    cam_drop(v);
    job_drop(v);
    results_clear(v);
    if (v->have_pred) predictor_free(&v->pred);
    v->have_pred = 0;
    ft_model_free(v->model);
    v->model = NULL;
    v->source[0] = '\0';
}

// Takes m (owned by the screen from now on) with its class names and preprocessing.
static int model_take(app *a, predict_view *v, ft_model *m, const char *const *names, int64_t n,
                      const transform_params *tf, const char *source) {
    model_drop(v);
    v->model = m;
    snprintf(v->source, sizeof v->source, "%s", source ? source : "");
    char err[512];
    if (predictor_init(&v->pred, m, names, n, tf, source, err, sizeof err) != 0) {
        snprintf(v->notice, sizeof v->notice, "%s", err);
        app_status(a, "%s", err);
        return -1;
    }
    v->have_pred = 1;
    v->notice[0] = '\0';
    return 0;
}

// The model the Train screen offered after a run; its classes are the dataset's.
static void take_offer(app *a, predict_view *v) {
    ft_model *m = a->offer.model;
    a->offer.model = NULL;
    if (!a->have_dataset) {   // no class names to give it
        model_drop(v);
        ft_model_free(m);
        snprintf(v->notice, sizeof v->notice, "%s", _("no dataset, so no class names for the trained model"));
        return;
    }
    model_take(a, v, m, (const char *const *)a->d.classes, (int64_t)a->d.n_classes, &a->offer.tf, a->offer.source);
}

// Starts opening the checkpoint asked for (open_path) on a thread; the screen answers meanwhile.
static void start_open(app *a, predict_view *v) {
    snprintf(v->opening_path, sizeof v->opening_path, "%s", v->open_path);
    v->open_path[0] = '\0';
    v->open_stopped = 0;
    char err[512];
    v->opening = model_job_open(v->opening_path, err, sizeof err);
    if (!v->opening) {
        snprintf(v->notice, sizeof v->notice, "%s", err);
        app_status(a, "%s", err);
        return;
    }
    app_status(a, _("opening %.400s ... (s stops)"), v->opening_path);
}

// Once the checkpoint is loaded (or not): its classes must be the dataset's, in the same order.
static void finish_open(app *a, predict_view *v) {
    model_job_result r;
    if (!model_job_collect(&v->opening, &r)) return;
    const char *path = v->opening_path;
    if (v->open_stopped || r.rc == MODEL_JOB_CANCELLED) {
        model_job_result_free(&r);
        return;   // said when s was pressed
    }
    if (r.rc != 0) {
        snprintf(v->notice, sizeof v->notice, "%.500s", r.err);
        app_status(a, "%.500s", r.err);
        model_job_result_free(&r);
        return;
    }
    const checkpoint_meta *meta = &r.meta;
    if (a->have_dataset) {
        int fits = transfer_classes_match((const char *const *)meta->class_names, (size_t)meta->num_classes,
                                          (const char *const *)a->d.classes, a->d.n_classes);
        if (!fits) {
            snprintf(v->notice, sizeof v->notice,
                     _("%.300s does not fit this dataset: its %lld classes are not the dataset's %zu (same names, same "
                       "order)"),
                     path, (long long)meta->num_classes, a->d.n_classes);
            app_status(a, "%.500s", v->notice);
            model_job_result_free(&r);
            return;
        }
    }
    ft_model *m = r.model;
    r.model = NULL;   // the screen's from here on
    if (model_take(a, v, m, (const char *const *)meta->class_names, meta->num_classes, &meta->tf, path) == 0)
        app_status(a, _("opened %.400s (%s, %lld classes, %dx%d input)"), path, meta->arch,
                   (long long)meta->num_classes, meta->tf.size, meta->tf.size);
    model_job_result_free(&r);
}

// ---------------------------------------------------------------------------------------------
// jobs

static void start_job(app *a, predict_view *v, int kind, const size_t *images, size_t n) {
    const char **paths = calloc(n, sizeof *paths);
    int *labels = calloc(n, sizeof *labels);
    size_t *map = calloc(n, sizeof *map);
    if (!paths || !labels || !map) {
        app_status(a, "%s", _("predict: out of memory"));
        free(paths), free(labels), free(map);
        return;
    }
    for (size_t k = 0; k < n; k++) {
        map[k] = images[k];
        paths[k] = v->items[images[k]]->path;
        labels[k] = v->items[images[k]]->label;
    }
    char err[512];
    v->job = predict_job_start(&v->pred, paths, labels, n, kind == JOB_EVAL ? WRONG_KEPT : 0, err, sizeof err);
    free(paths);
    free(labels);
    if (!v->job) {
        free(map);
        app_status(a, "%s", err);
        return;
    }
    v->job_kind = kind;
    v->job_map = map;
}

static void start_eval(app *a, predict_view *v) {
    v->eval_wanted = 0;
    if (v->n_valid == 0) {
        app_status(a, "%s", _("no valid split to evaluate"));
        return;
    }
    size_t *all = malloc(v->n_valid * sizeof *all);
    if (!all) return;
    for (size_t i = 0; i < v->n_valid; i++) all[i] = i;
    start_job(a, v, JOB_EVAL, all, v->n_valid);
    free(all);
    if (v->job) app_status(a, "%s", _("evaluating the valid split (e again: stop)"));
}

// The selected image and the next few without a result.
static void start_preview(app *a, predict_view *v) {
    if (v->images.sel < 0 || (size_t)v->images.sel >= v->n_images) return;
    size_t want[PREVIEW_AHEAD], n = 0;
    for (size_t i = (size_t)v->images.sel; i < v->n_images && n < PREVIEW_AHEAD; i++) {
        const predict_outcome *o = &v->cache[i];
        if (!o->ok && !o->error)
            want[n++] = i;
        else if (i == (size_t)v->images.sel)
            return;   // already known
    }
    if (n) start_job(a, v, JOB_PREVIEW, want, n);
}

// The job has finished: its results go into the cache (and the score, for an evaluation).
static void finish_job(app *a, predict_view *v) {
    predict_results res;
    int kind = v->job_kind;
    int rc = predict_job_result(v->job, &res);
    predict_job_free(v->job);
    v->job = NULL;
    v->job_kind = JOB_NONE;
    for (size_t k = 0; k < res.n; k++) {
        predict_outcome *o = &res.images[k], *c = &v->cache[v->job_map[k]];
        if (!o->ok && !o->error) continue;   // not reached (cancelled)
        outcome_clear(c);
        *c = *o;
        memset(o, 0, sizeof *o);
    }
    if (rc < 0) {
        app_status(a, "%s", res.error);
    } else if (kind == JOB_EVAL && rc == 1) {
        app_status(a, "%s", _("evaluation stopped"));
    } else if (kind == JOB_EVAL) {
        predict_score_free(&v->score);
        free(v->wrong_image);
        v->score = res.score;
        memset(&res.score, 0, sizeof res.score);
        v->wrong_image = calloc(v->score.n_wrong ? v->score.n_wrong : 1, sizeof *v->wrong_image);
        for (size_t k = 0; v->wrong_image && k < v->score.n_wrong; k++)
            v->wrong_image[k] = v->job_map[v->score.wrong[k].item];
        v->have_eval = v->wrong_image != NULL;
        v->wrongs.sel = v->wrongs.top = 0;
        v->focus = FOCUS_RESULTS;
        app_status(a, _("valid split: accuracy %.2f%% (%zu of %zu images)"),
                   v->score.images ? 100.0 * (double)v->score.correct / (double)v->score.images : 0.0, v->score.correct,
                   v->score.images);
    }
    free(v->job_map);
    v->job_map = NULL;
    predict_results_free(&res);
}

// 1 when the overlay is on and what the screen draws is not what the result (or the job) is for.
static int cam_wanted(const predict_view *v) {
    if (!v->cam_on || v->cam_want < 0 || v->cam_box_w < 1 || v->cam_box_h < 1) return 0;
    return !(v->cam_asked.image == v->cam_want && v->cam_asked.cls == v->cam_class &&
             strcmp(v->cam_asked.layer, v->cam_layer) == 0 && v->cam_asked.box_w == v->cam_box_w &&
             v->cam_asked.box_h == v->cam_box_h && (v->have_cam || v->cam));
}

static void cam_start(app *a, predict_view *v) {
    cam_result_free(&v->cam_res);
    v->have_cam = 0;
    v->cam_err[0] = '\0';
    v->cam_asked.image = v->cam_want;
    v->cam_asked.cls = v->cam_class;
    snprintf(v->cam_asked.layer, sizeof v->cam_asked.layer, "%s", v->cam_layer);
    v->cam_asked.box_w = v->cam_box_w;
    v->cam_asked.box_h = v->cam_box_h;
    char err[400];
    v->cam = cam_job_start(v->model, &v->pred.popts.tf, v->items[v->cam_want]->path, v->cam_layer, v->cam_class,
                           v->cam_box_w, v->cam_box_h, err, sizeof err);
    if (!v->cam) {
        snprintf(v->cam_err, sizeof v->cam_err, "%s", err);
        v->have_cam = 1;
        app_status(a, _("Grad-CAM: %.400s"), err);
    }
}

// The first time it comes to the front, --checkpoint is opened (on a thread, started at the next tick).
static void enter(app *a, void *state) {
    predict_view *v = state;
    if (v->checkpoint_tried) return;
    v->checkpoint_tried = 1;
    if (a->opts && a->opts->checkpoint && !v->model)
        snprintf(v->open_path, sizeof v->open_path, "%s", a->opts->checkpoint);
}

static void poll(app *a, void *state) {
    predict_view *v = state;
    if (a->offer.model) take_offer(a, v);
    finish_open(a, v);
    if (v->open_path[0] && !v->opening) start_open(a, v);   // (one at a time: a stopped one ends first)
    if (v->opening && !v->open_stopped) app_busy(a);
    if (v->job && predict_job_done(v->job)) finish_job(a, v);
    a->shown.evaluated = v->have_eval;
    a->shown.mistake_shown =
        app_in_front(a, &screen_predict) && v->focus == FOCUS_RESULTS && v->have_eval && v->score.n_wrong > 0;
    a->shown.cam_shown = app_in_front(a, &screen_predict) && v->cam_on;
    if (v->cam && cam_job_done(v->cam)) {
        cam_result_free(&v->cam_res);
        v->cam_err[0] = '\0';
        if (cam_job_result(v->cam, &v->cam_res, v->cam_err, sizeof v->cam_err) != 0 && !v->cam_err[0])
            snprintf(v->cam_err, sizeof v->cam_err, "%s", _("Grad-CAM failed"));
        cam_job_free(v->cam);
        v->cam = NULL;
        v->have_cam = 1;
        v->cam_id = preview_new_id();
    }
    if (v->cam || v->job || !v->have_pred || !v->cache) return;   // one job on the model at a time
    if (v->eval_wanted)
        start_eval(a, v);
    else if (cam_wanted(v))
        cam_start(a, v);
    else if (app_in_front(a, &screen_predict))
        start_preview(a, v);
}

static void destroy(app *a, void *state) {
    (void)a;
    predict_view *v = state;
    model_job_free(v->opening);   // (waits for a load in flight: the way out)
    model_drop(v);
    v->cam_on = 0;
    free(v->cache);
    free(v->items);
    free(v);
}

// ---------------------------------------------------------------------------------------------
// drawing

// Text with control bytes escaped (text_escape), cut to n columns (text_fit: a UTF-8 sequence is
// never split).
static void put_clean(int y, int x, const char *s, int n) {
    if (n <= 0 || x < 0) return;
    char buf[4096];
    text_escape(buf, sizeof buf, s);   // a hostile name shows as \x1b, as the command line prints it
    buf[text_fit(buf, n, NULL)] = '\0';
    mvaddstr(y, x, buf);
}

// The column where the pane being drawn ends (exclusive): put_fmt cuts its text there, so nothing
// wraps into the next line or the other pane. UI thread only, set by each pane before it draws.
static int g_right;

static void put_fmt(int y, int x, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void put_fmt(int y, int x, const char *fmt, ...) {
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    int right = g_right < COLS ? g_right : COLS;
    put_clean(y, x, buf, right - x);
}

// The image's path as shown: below the dataset root.
static const char *shown_path(const app *a, const char *path) {
    size_t n = strlen(a->d.root);
    if (strncmp(path, a->d.root, n) == 0 && path[n] == '/') return path + n + 1;
    return path;
}

static const char *class_name(const predict_view *v, int c) {
    return c >= 0 && c < v->pred.n_classes ? v->pred.class_names[c] : "?";
}

// The columns class c's name takes on the screen.
static int name_columns(const predict_view *v, int c) {
    const char *name = class_name(v, c);
    return text_columns(name, strlen(name));
}

// A name (a class's, a column's) right-aligned in width columns at (y, x), cut to CELL_NAME columns.
static void put_right(int y, int x, int width, const char *name) {
    int cols;
    size_t n = text_fit(name, width < CELL_NAME ? width : CELL_NAME, &cols);
    put_fmt(y, x, "%*s%.*s", width - cols, "", (int)n, name);
}

static void draw_list(app *a, predict_view *v, int top, int rows, int width) {
    g_right = width;
    attron(style(ROLE_TITLE));
    put_fmt(top, 0, _("images: valid %zu, train %zu"), v->n_valid, v->n_images - v->n_valid);
    attroff(style(ROLE_TITLE));
    int shown = rows - 1;
    if (shown < 1) return;
    list_view_layout(&v->images, (int)v->n_images, top + 1, 0, shown, width);
    for (int r = 0; r < shown && (size_t)(v->images.top + r) < v->n_images; r++) {
        size_t i = (size_t)(v->images.top + r);
        int y = top + 1 + r;
        const predict_outcome *o = &v->cache[i];
        const char *mark = " ";
        ui_role role = ROLE_TEXT;
        if (o->ok) {
            int right = o->order[0] == v->items[i]->label;
            mark = right ? "+" : glyph(GL_BAD);
            role = right ? ROLE_GOOD : ROLE_ERROR;
        } else if (o->error) {
            mark = "?";
            role = ROLE_WARNING;
        }
        attron(style(role));
        mvaddstr(y, 0, mark);
        attroff(style(role));
        attr_t sel = (int)i == v->images.sel ? (v->focus == FOCUS_LIST ? style(ROLE_SELECTED) : A_BOLD) : 0;
        attron(sel);
        put_clean(y, 2, shown_path(a, v->items[i]->path), width - 3);
        attroff(sel);
    }
}

// The top-k classes of an outcome as bars, from row y; returns the next row.
static int draw_topk(predict_view *v, const predict_outcome *o, int truth, int y, int x, int width, int last) {
    int k_max = v->pred.n_classes < TOP_K ? (int)v->pred.n_classes : TOP_K;
    int name_w = 4;
    for (int k = 0; k < k_max; k++) {
        int w = name_columns(v, o->order[k]);
        if (w > name_w) name_w = w;
    }
    if (name_w > 20) name_w = 20;
    int bar_w = width - name_w - 14;
    if (bar_w > 40) bar_w = 40;
    attron(style(ROLE_TITLE));
    put_fmt(y++, x, _("top %d"), k_max);
    attroff(style(ROLE_TITLE));
    for (int k = 0; k < k_max && y <= last; k++, y++) {
        int c = o->order[k];
        double p = o->probs[c];
        attr_t at = c == truth ? style(ROLE_GOOD) | A_BOLD : 0;
        attron(at);
        char name[128];
        put_fmt(y, x, "%s", text_pad(name, sizeof name, class_name(v, c), name_w));
        attroff(at);
        if (bar_w >= 4) style_bar(y, x + name_w + 1, bar_w, p, k == 0 ? ROLE_BAR : ROLE_DIM);
        put_fmt(y, x + name_w + 2 + (bar_w >= 4 ? bar_w : 0), "%6.2f%%", 100.0 * p);
    }
    return y;
}

// The preview of image i and what the model says about it, in the box (top, left, rows, width).
static void draw_image(app *a, predict_view *v, size_t i, int top, int left, int rows, int width) {
    const dataset_item *it = v->items[i];
    g_right = left + width;
    int k_rows = (v->pred.n_classes < TOP_K ? (int)v->pred.n_classes : TOP_K) + 3;
    int box = rows - k_rows - 2;
    char info[512] = "";
    int cam_line = v->cam_on ? 1 : 0;
    box -= cam_line;
    v->cam_want = box >= 3 ? (long)i : -1;
    v->cam_box_w = width;
    v->cam_box_h = 2 * box;
    int cam_ready = v->cam_on && v->have_cam && !v->cam_err[0] && v->cam_asked.image == (long)i &&
                    v->cam_asked.cls == v->cam_class && strcmp(v->cam_asked.layer, v->cam_layer) == 0;
    if (box >= 3) {
        if (cam_ready)
            preview_draw_rgb(v->cam_res.rgb, v->cam_res.width, v->cam_res.height, v->cam_id, top, left, width);
        else
            preview_draw(it->path, top, left, box, width, info, sizeof info);
    } else {
        box = 0;
    }
    int y = top + box;
    if (cam_line) {   // what the overlay shows, or why it is not there yet
        char line[700];
        if (cam_ready)
            snprintf(line, sizeof line, _("Grad-CAM: %.60s%s from %.100s (G class, L layer)"),
                     class_name(v, (int)v->cam_res.map.cls), v->cam_class < 0 ? _(" (top)") : "", v->cam_res.map.layer);
        else if (v->have_cam && v->cam_err[0] && v->cam_asked.image == (long)i)
            snprintf(line, sizeof line, _("Grad-CAM: %.500s"), v->cam_err);
        else
            snprintf(line, sizeof line, "%s", _("Grad-CAM: computing..."));
        attron(style(cam_ready ? ROLE_TITLE : ROLE_DIM));
        put_clean(y++, left, line, width);
        attroff(style(cam_ready ? ROLE_TITLE : ROLE_DIM));
    }
    if (!cam_ready) put_clean(y, left, info, width);
    y++;
    put_clean(y++, left, shown_path(a, it->path), width);
    if (it->label >= 0) {
        attron(style(ROLE_DIM));
        put_fmt(y++, left, _("true class: %.*s"), width - 12 > 0 ? width - 12 : 0, class_name(v, it->label));
        attroff(style(ROLE_DIM));
    }
    const predict_outcome *o = &v->cache[i];
    if (o->ok) {
        draw_topk(v, o, it->label, y, left, width, top + rows - 1);
    } else if (o->error) {
        attron(style(ROLE_WARNING));
        put_fmt(y, left, "%s", _("cannot predict: "));
        put_clean(y, left + 16, o->error, width - 16);
        attroff(style(ROLE_WARNING));
    } else {
        attron(style(ROLE_DIM));
        mvaddnstr(y, left, v->job_kind == JOB_EVAL ? _("waiting for the evaluation...") : _("predicting..."), width);
        attroff(style(ROLE_DIM));
    }
}

static void draw_results(app *a, predict_view *v, int top, int rows, int width) {
    const predict_score *s = &v->score;
    int y = top, last = top + rows - 1;
    g_right = width;
    attron(style(ROLE_TITLE));
    put_fmt(y++, 0, _("valid split: accuracy %.2f%% (%zu of %zu images)"),
            s->images ? 100.0 * (double)s->correct / (double)s->images : 0.0, s->correct, s->images);
    attroff(style(ROLE_TITLE));
    y++;
    // the confusion matrix, as many columns as fit
    int64_t C = s->classes;
    int name_w = 5;
    for (int64_t c = 0; c < C; c++) {
        int w = name_columns(v, (int)c);
        if (w > name_w) name_w = w;
    }
    if (name_w > CELL_NAME) name_w = CELL_NAME;
    char digits[32];
    int cell = snprintf(digits, sizeof digits, "%zu", s->images);
    if (cell < name_w) cell = name_w;
    int fit = (width - name_w - 2 - ACC_W) / (cell + 1);
    if (fit < 1) fit = 1;
    int64_t cols_shown = C < fit ? C : fit;
    put_fmt(y++, 0, _("confusion matrix (rows: true class, columns: predicted)%s"),
            cols_shown < C ? _("; wider window for every column") : "");
    if (y > last) return;
    for (int64_t p = 0; p < cols_shown; p++)
        put_right(y, name_w + 2 + (int)p * (cell + 1), cell, class_name(v, (int)p));
    int acc_x = name_w + 2 + (int)cols_shown * (cell + 1);
    put_right(y, acc_x, ACC_W, _("accuracy"));
    y++;
    for (int64_t t = 0; t < C && y <= last - 2; t++, y++) {
        char name[128];
        put_fmt(y, 0, "%s", text_pad(name, sizeof name, class_name(v, (int)t), name_w));
        for (int64_t p = 0; p < cols_shown; p++) {
            long long n = s->confusion[t * C + p];
            attr_t at = t == p ? style(ROLE_GOOD) | A_BOLD : n ? style(ROLE_WARNING) : style(ROLE_DIM);
            attron(at);
            put_fmt(y, name_w + 2 + (int)p * (cell + 1), "%*lld", cell, n);
            attroff(at);
        }
        long long row = predict_score_row(s, t);   // per-class accuracy: the diagonal over the row
        if (row)
            put_fmt(y, acc_x, "%*.1f%%", ACC_W - 1, 100.0 * (double)s->confusion[t * C + t] / (double)row);
        else
            put_fmt(y, acc_x, "%*s", ACC_W, "-");
    }
    // the pairs of classes mixed up most (fastai's most_confused), as many as the line holds
    predict_confused pairs[MOST_CONFUSED];
    size_t n_pairs = predict_most_confused(s, 1, pairs, MOST_CONFUSED);
    if (y <= last) {
        char line[1024];
        int used = snprintf(line, sizeof line, _("most confused: %s"), n_pairs ? "" : _("none"));
        for (size_t k = 0; k < n_pairs && used > 0 && (size_t)used < sizeof line; k++) {
            char item[160];
            int w = snprintf(item, sizeof item, "%s%.30s -> %.30s (%lld)", k ? ", " : "", class_name(v, pairs[k].truth),
                             class_name(v, pairs[k].pred), pairs[k].count);
            if (used + w >= width || (size_t)(used + w) >= sizeof line) break;
            memcpy(line + used, item, (size_t)w + 1);
            used += w;
        }
        put_clean(y++, 0, line, width);
    }
    y++;
    if (y > last) return;
    attron(style(ROLE_TITLE));
    put_fmt(y++, 0, _("most confidently wrong: confidence, true -> predicted, image (%zu)"), s->n_wrong);
    attroff(style(ROLE_TITLE));
    if (s->n_wrong == 0) {
        if (y <= last) mvaddstr(y, 2, _("none: every image is right"));
        return;
    }
    int shown = last - y + 1;
    if (shown < 1) return;
    list_view_layout(&v->wrongs, (int)s->n_wrong, y, 0, shown, width);
    for (int r = 0; r < shown && (size_t)(v->wrongs.top + r) < s->n_wrong; r++, y++) {
        size_t k = (size_t)(v->wrongs.top + r);
        const predict_wrong *w = &s->wrong[k];
        char line[1024];
        snprintf(line, sizeof line, "%6.2f%%  %s -> %s  %s", 100.0 * w->prob, class_name(v, w->truth),
                 class_name(v, w->pred), shown_path(a, v->items[v->wrong_image[k]]->path));
        attr_t at = (int)k == v->wrongs.sel && v->focus == FOCUS_RESULTS ? style(ROLE_SELECTED) : 0;
        attron(at);
        put_clean(y, 2, line, width - 2);
        attroff(at);
    }
}

static void draw(app *a, void *state, int top, int rows, int cols) {
    predict_view *v = state;
    g_right = cols;
    if (v->open_path[0] || (v->opening && !v->open_stopped)) {
        put_fmt(top, 2, _("opening %.*s ... (s stops)"), cols - 26 > 0 ? cols - 26 : 0,
                v->open_path[0] ? v->open_path : v->opening_path);
        return;
    }
    if (!v->have_pred) {
        int y = top;
        if (v->notice[0]) {
            attron(style(ROLE_ERROR));
            put_clean(y++, 2, v->notice, cols - 4);
            attroff(style(ROLE_ERROR));
            y++;
        }
        mvaddnstr(y++, 2, _("No model to predict with yet."), cols - 4);
        mvaddnstr(y++, 2, _("Train one on screen 3 (it comes here when the run ends),"), cols - 4);
        mvaddnstr(y++, 2, _("or press o to open a checkpoint (frost train ... --save FILE makes one)."), cols - 4);
        return;
    }
    // the header: the model, and the evaluation's progress
    attron(style(ROLE_DIM));
    put_fmt(top, 0, "%s", _("model: "));
    attroff(style(ROLE_DIM));
    put_clean(top, 7, v->source, cols / 2 - 8);
    if (v->job_kind == JOB_EVAL) {
        size_t done, total;
        predict_job_poll(v->job, &done, &total);
        int x = cols / 2;
        put_fmt(top, x, _("evaluating %zu/%zu "), done, total);
        style_bar(top, x + 22, cols - x - 24, total ? (double)done / (double)total : 0, ROLE_BAR);
    } else if (v->have_eval) {
        put_fmt(top, cols / 2, _("valid accuracy %.2f%%   Tab: %s"),
                v->score.images ? 100.0 * (double)v->score.correct / (double)v->score.images : 0.0,
                v->focus == FOCUS_LIST ? _("results") : _("images"));
    }
    int body = top + 2, brows = rows - 2;
    if (!v->cache) {
        mvaddnstr(body, 2, a->have_dataset ? _("The dataset has no images.") : a->dataset_error, cols - 4);
        return;
    }
    int left_w = cols * 2 / 5;
    if (v->focus == FOCUS_RESULTS && v->have_eval) {
        int res_w = cols * 3 / 5;
        draw_results(a, v, body, brows, res_w - 1);
        if (v->score.n_wrong) draw_image(a, v, v->wrong_image[v->wrongs.sel], body, res_w + 1, brows, cols - res_w - 2);
        return;
    }
    draw_list(a, v, body, brows, left_w);
    draw_image(a, v, (size_t)v->images.sel, body, left_w + 1, brows, cols - left_w - 2);
}

// ---------------------------------------------------------------------------------------------
// keys

// The image the pane in front has selected (an index into items), or -1.
static long selected_image(const predict_view *v) {
    if (v->focus == FOCUS_RESULTS && v->have_eval) {
        if (v->score.n_wrong == 0 || v->wrongs.sel < 0 || (size_t)v->wrongs.sel >= v->score.n_wrong) return -1;
        return (long)v->wrong_image[v->wrongs.sel];
    }
    return v->images.sel >= 0 && (size_t)v->images.sel < v->n_images ? (long)v->images.sel : -1;
}

static void act(app *a, void *state, app_action action) {
    predict_view *v = state;
    if (action == ACT_OPEN) {
        char path[1024] = "";
        if (v->source[0]) snprintf(path, sizeof path, "%s", v->source);
        if (app_prompt(a, _("open checkpoint: "), path, sizeof path)) {
            snprintf(v->open_path, sizeof v->open_path, "%s", path);   // started at the next poll
            if (v->opening && !v->open_stopped) {                      // the one in flight gives way (it ends first)
                model_job_cancel(v->opening);
                v->open_stopped = 1;
            }
            app_status(a, _("opening %s ..."), path);
        } else {
            app_status(a, "%s", _("open: cancelled"));
        }
        return;
    }
    if (action == ACT_STOP) {   // the checkpoint being opened, or the evaluation
        if (v->opening && !v->open_stopped) {
            model_job_cancel(v->opening);   // it ends on its own: the next poll frees it
            v->open_stopped = 1;
            app_status(a, _("open of %.400s stopped"), v->opening_path);
        } else if (v->open_path[0]) {
            app_status(a, _("open of %.400s stopped"), v->open_path);
            v->open_path[0] = '\0';
        } else if (v->job_kind == JOB_EVAL) {
            predict_job_cancel(v->job);   // finished (and reported) at the next poll
        } else {
            app_status(a, "%s", _("nothing to stop"));
        }
        return;
    }
    if (action == ACT_UNDO) {
        dataset_edit_undo(a);
        return;
    }
    if (action == ACT_RELABEL || action == ACT_SET_ASIDE) {   // the image selected in the pane in front
        long sel = selected_image(v);
        if (sel < 0) {
            app_status(a, "%s", _("no image selected"));
            return;
        }
        char path[4096];
        snprintf(path, sizeof path, "%s", v->items[sel]->path);   // the scan it points into is replaced
        if (action == ACT_RELABEL)
            dataset_edit_relabel(a, path);
        else
            dataset_edit_set_aside(a, path);
        return;
    }
    if (!v->have_pred) {
        if (action == ACT_EVALUATE) app_status(a, "%s", _("no model yet: train one (3) or open a checkpoint (o)"));
        return;
    }
    if (action == ACT_EVALUATE) {
        if (v->job_kind == JOB_EVAL) {
            predict_job_cancel(v->job);   // finished (and reported) at the next poll
        } else if (v->job || v->cam) {
            v->eval_wanted = 1;
            app_status(a, "%s", _("evaluating the valid split next"));
        } else {
            start_eval(a, v);
        }
        return;
    }
    if (action == ACT_CAM) {
        v->cam_on = !v->cam_on;
        app_status(a, "%s",
                   v->cam_on ? _("Grad-CAM on: where the model looked for the class (G: next class, L: layer)")
                             : _("Grad-CAM off"));
        return;
    }
    if (action == ACT_CAM_CLASS) {
        v->cam_class = v->cam_class + 1 >= v->pred.n_classes ? -1 : v->cam_class + 1;
        v->cam_on = 1;
        app_status(a, _("Grad-CAM for %.300s"),
                   v->cam_class < 0 ? _("the top class") : class_name(v, (int)v->cam_class));
        return;
    }
    if (action == ACT_CAM_LAYER) {
        char layer[256];
        snprintf(layer, sizeof layer, "%s", v->cam_layer[0] ? v->cam_layer : ft_model_gradcam_default_layer(v->model));
        if (app_prompt(a, _("Grad-CAM layer (a module path, as the Model screen shows it): "), layer, sizeof layer)) {
            snprintf(v->cam_layer, sizeof v->cam_layer, "%s",
                     strcmp(layer, ft_model_gradcam_default_layer(v->model)) == 0 ? "" : layer);
            v->cam_on = 1;
        }
        return;
    }
    if (action == ACT_SWITCH_PANE) {
        if (v->have_eval)
            v->focus = v->focus == FOCUS_LIST ? FOCUS_RESULTS : FOCUS_LIST;
        else
            app_status(a, "%s", _("no results yet: e evaluates the valid split"));
        return;
    }
    list_view_act(v->focus == FOCUS_RESULTS ? &v->wrongs : &v->images, action, a->mouse_y, a->mouse_x);
}

static const dataset_item **g_sorting;   // the list cmp_path_index sorts indices of (UI thread only)

static int cmp_path_index(const void *x, const void *y) {
    return strcmp(g_sorting[*(const size_t *)x]->path, g_sorting[*(const size_t *)y]->path);
}

// A new scan (cleaning moved files): the image list rebuilt from it, each image keeping the result it
// had when its file is still where it was (a moved image is predicted again, under its new label);
// the evaluation is out of date and goes (e runs it again).
static void dataset_changed(app *a, void *state, const dataset *old) {
    (void)old;
    predict_view *v = state;
    job_drop(v);               // its map points at the old list
    v->cam_asked.image = -1;   // indices change: the overlay is made again for what is drawn
    v->have_cam = 0;
    const char *sel_path = NULL;
    char keep[4096] = "";
    if (v->items && v->images.sel >= 0 && (size_t)v->images.sel < v->n_images) {
        snprintf(keep, sizeof keep, "%s", v->items[v->images.sel]->path);
        sel_path = keep;
    }
    size_t n_old = v->n_images;
    const dataset_item **old_items = v->items;
    predict_outcome *old_cache = v->cache;
    size_t *by_path = malloc((n_old ? n_old : 1) * sizeof *by_path);
    for (size_t i = 0; by_path && i < n_old; i++) by_path[i] = i;
    g_sorting = old_items;
    if (by_path && n_old) qsort(by_path, n_old, sizeof *by_path, cmp_path_index);
    size_t n = a->d.valid.n_items + a->d.train.n_items;
    v->items = calloc(n ? n : 1, sizeof *v->items);
    v->cache = calloc(n ? n : 1, sizeof *v->cache);
    v->n_images = v->n_valid = 0;
    if (!v->items || !v->cache || !by_path) {
        free(v->items), free(v->cache);
        v->items = NULL, v->cache = NULL;
        app_status(a, "%s", _("out of memory"));
    } else {
        for (size_t i = 0; i < a->d.valid.n_items; i++) v->items[i] = &a->d.valid.items[i];
        for (size_t i = 0; i < a->d.train.n_items; i++) v->items[a->d.valid.n_items + i] = &a->d.train.items[i];
        v->n_images = n;
        v->n_valid = a->d.valid.n_items;
        long found = -1;   // where the selected file is now
        for (size_t i = 0; i < n; i++) {
            if (sel_path && strcmp(v->items[i]->path, sel_path) == 0) found = (long)i;
            size_t lo = 0, hi = n_old;   // the same file in the old list: its result stays
            while (lo < hi) {
                size_t mid = (lo + hi) / 2;
                int c = strcmp(old_items[by_path[mid]]->path, v->items[i]->path);
                if (c == 0) {
                    predict_outcome *o = &old_cache[by_path[mid]];
                    if (old_items[by_path[mid]]->label == v->items[i]->label) {
                        v->cache[i] = *o;
                        memset(o, 0, sizeof *o);
                    }
                    break;
                }
                if (c < 0)
                    lo = mid + 1;
                else
                    hi = mid;
            }
        }
        // the same file when it is still listed, else the same place in the list
        if (found >= 0)
            v->images.sel = (int)found;
        else if (v->images.sel < 0 || (size_t)v->images.sel >= n)
            v->images.sel = 0;
    }
    for (size_t i = 0; old_cache && i < n_old; i++) outcome_clear(&old_cache[i]);
    free(old_cache);
    free(old_items);
    free(by_path);
    if (v->have_eval) app_status(a, "%s", _("the dataset changed: e evaluates it again"));
    predict_score_free(&v->score);
    free(v->wrong_image);
    v->wrong_image = NULL;
    v->have_eval = 0;
    v->focus = FOCUS_LIST;
}

const screen screen_predict = {
    .title = N_("4 Predict"),
    .wheel_lines = 3,
    .create = create,
    .enter = enter,
    .poll = poll,
    .draw = draw,
    .act = act,
    .destroy = destroy,
    .dataset_changed = dataset_changed,
};
