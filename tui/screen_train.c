// screen_train.c — screen 3: the options of `frost train` as a form (prefilled with the seed's
// values), then the run itself, fed by the trainer thread's events: batch and epoch progress bars,
// running loss and accuracy bars for train and valid, images/s, ETA, a table of epochs and a log
// pane with the seed's lines. The trainer owns the model while it runs; this screen only reads events.
#include <curses.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "fetch.h"
#include "fetch_job.h"
#include "weights_table.h"
#include "chart.h"
#include "style.h"

// ---------------------------------------------------------------------------------------------
// the form

static const int EPOCHS[] = {1, 2, 3, 5, 10, 20};
static const int BATCHES[] = {4, 8, 16, 32, 64};
static const double LRS[] = {1e-5, 1e-4, 1e-3, 1e-2};
static const int SIZES[] = {64, 112, 160, 224};
#define COUNT(a) (int)(sizeof a / sizeof a[0])

enum { F_ARCH, F_EPOCHS, F_BATCH, F_LR, F_OPT, F_SIZE, F_BN, F_CACHE, F_DEVICE, F_WEIGHTS, F_NORM, N_FIELDS };

void train_defaults(app *a) {
    a->tr_epochs = 3;   // the seed's 5 is long on a CPU; 5 is one key press away
    a->tr_batch = 2;    // 16
    a->tr_lr = 0;       // 1e-5, the seed's
    a->tr_size = 3;     // 224
    a->tr_opt = 0;
    a->tr_bn = 0;
    a->tr_cache = 0;
    a->tr_device = 0;
}

static void field_text(const app *a, int f, char *buf, size_t len) {
    switch (f) {
    case F_ARCH: snprintf(buf, len, "%s", ft_arch_name(a->arch_index)); break;
    case F_EPOCHS: snprintf(buf, len, "%d", EPOCHS[a->tr_epochs]); break;
    case F_BATCH: snprintf(buf, len, "%d", BATCHES[a->tr_batch]); break;
    case F_LR: snprintf(buf, len, "%g", LRS[a->tr_lr]); break;
    case F_OPT: snprintf(buf, len, "%s", a->tr_opt ? "sgd (momentum 0.9)" : "adam"); break;
    case F_SIZE: snprintf(buf, len, "%dx%d", SIZES[a->tr_size], SIZES[a->tr_size]); break;
    case F_BN:
        snprintf(buf, len, "%s", a->tr_bn ? "train  (the seed: batch statistics, running statistics drift)"
                                          : "eval   (frozen BatchNorm keeps its running statistics)");
        break;
    case F_CACHE:
        snprintf(buf, len, "%s", a->tr_cache ? "off" : "auto   (backbone computed once per image when exact)");
        break;
    case F_WEIGHTS: {
        const weights_entry *e = weights_table_find(ft_arch_name(a->arch_index), NULL);
        char cached[4096];
        if (!a->tr_weights)
            snprintf(buf, len, "none   (random, as torchvision builds it)");
        else if (!e)
            snprintf(buf, len, "ImageNet: none known for %s", ft_arch_name(a->arch_index));
        else
            snprintf(buf, len, "ImageNet  %s %s, %s (%s)", e->source, e->tag, e->file,
                     fetch_find_cached(e, cached, sizeof cached) == 1 ? "cached" : "downloaded when training starts");
        break;
    }
    case F_NORM:
        snprintf(buf, len, "%s",
                 a->tr_norm == 1   ? "0.5    (the seed's mean and std)"
                 : a->tr_norm == 2 ? "ImageNet's mean and std"
                                   : "follows the weights (ImageNet's with ImageNet weights, else the seed's 0.5)");
        break;
    default: snprintf(buf, len, "%s", a->tr_device ? "cpu" : "auto (CUDA when there is a GPU)"); break;
    }
}

static const char *const FIELD_NAMES[N_FIELDS] = {"architecture", "epochs",    "batch",   "learning rate",
                                                  "optimizer",    "input size", "BatchNorm", "feature cache",
                                                  "device",       "weights",    "normalise"};

static void change(app *a, int f, int dir) {
#define CYCLE(v, n) (v) = ((v) + (dir) + (n)) % (n)
    switch (f) {
    case F_ARCH: a->arch_index = (a->arch_index + (size_t)(dir > 0 ? 1 : ft_arch_count() - 1)) % ft_arch_count(); break;
    case F_EPOCHS: CYCLE(a->tr_epochs, COUNT(EPOCHS)); break;
    case F_BATCH: CYCLE(a->tr_batch, COUNT(BATCHES)); break;
    case F_LR: CYCLE(a->tr_lr, COUNT(LRS)); break;
    case F_OPT: CYCLE(a->tr_opt, 2); break;
    case F_SIZE: CYCLE(a->tr_size, COUNT(SIZES)); break;
    case F_BN: CYCLE(a->tr_bn, 2); break;
    case F_CACHE: CYCLE(a->tr_cache, 2); break;
    case F_WEIGHTS: CYCLE(a->tr_weights, 2); break;
    case F_NORM: CYCLE(a->tr_norm, 3); break;
    default: CYCLE(a->tr_device, 2); break;
    }
#undef CYCLE
}

// ---------------------------------------------------------------------------------------------
// the run

static void log_line(app *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void log_line(app *a, const char *fmt, ...) {
    memmove(a->tr_log[0], a->tr_log[1], sizeof a->tr_log - sizeof a->tr_log[0]);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(a->tr_log[TR_LOG_LINES - 1], sizeof a->tr_log[0], fmt, ap);
    va_end(ap);
}

// Starts the trainer with weights (NULL: none).
static void launch(app *a, const char *weights) {
    trainer_config c;
    trainer_config_default(&c);
    snprintf(c.arch, sizeof c.arch, "%s", ft_arch_name(a->arch_index));
    c.epochs = EPOCHS[a->tr_epochs];
    c.batch_size = BATCHES[a->tr_batch];
    c.opt.lr = LRS[a->tr_lr];
    c.opt.kind = a->tr_opt ? FT_OPT_SGD : FT_OPT_ADAM;
    c.prep.tf.size = SIZES[a->tr_size];
    c.bn_eval = !a->tr_bn;
    c.cache = a->tr_cache ? 0 : -1;
    snprintf(c.device, sizeof c.device, "%s", a->tr_device ? "cpu" : "auto");
    model_trainable_spec(a, a->tr_trainable, sizeof a->tr_trainable);
    c.trainable = a->tr_trainable[0] ? a->tr_trainable : NULL;
    c.keep_model = 1;   // handed to the Predict screen when the run ends
    c.weights = weights;
    int imagenet_norm = a->tr_norm == 2 || (a->tr_norm == 0 && weights);
    if (imagenet_norm) {
        transform_params t;
        transform_params_imagenet(&t);
        memcpy(c.prep.tf.mean, t.mean, sizeof t.mean);
        memcpy(c.prep.tf.std, t.std, sizeof t.std);
    }
    if (!a->tr_events) a->tr_events = events_new();
    char err[512];
    a->tr = a->tr_events ? trainer_start(&c, &a->d, a->tr_events, err, sizeof err) : NULL;
    if (!a->tr) {
        snprintf(a->status, sizeof a->status, "cannot start: %.400s", a->tr_events ? err : "out of memory");
        return;
    }
    memset(a->tr_log, 0, sizeof a->tr_log);
    if (weights) log_line(a, "pretrained weights: %.130s", weights);
    log_line(a, "normalisation: %s", imagenet_norm ? "ImageNet's mean and std" : "mean and std 0.5 (the seed's)");
    memset(a->tr_epoch_rows, 0, sizeof a->tr_epoch_rows);
    a->tr_n_epoch_rows = 0;
    a->tr_last = (train_event){0};
    a->tr_phase_end[0] = a->tr_phase_end[1] = (train_event){0};
    a->tr_running = 1;
    a->tr_epochs_total = c.epochs;
    a->tr_prep = c.prep;
    snprintf(a->tr_device_name, sizeof a->tr_device_name, "%s",
             strcmp(c.device, "auto") == 0 ? (ft_cuda_available() ? "cuda" : "cpu") : c.device);
    snprintf(a->status, sizeof a->status, "training %s: p pauses, s stops", c.arch);
}

static void start_run(app *a) {
    if (!a->have_dataset || a->d.n_problems > 0) {
        snprintf(a->status, sizeof a->status, "no usable dataset: %.400s", a->have_dataset ? a->d.problems[0] : a->dataset_error);
        return;
    }
    if (!a->tr_weights) {
        launch(a, NULL);
        return;
    }
    const weights_entry *e = weights_table_find(ft_arch_name(a->arch_index), NULL);
    if (!e) {
        snprintf(a->status, sizeof a->status, "no known ImageNet weights for %s", ft_arch_name(a->arch_index));
        return;
    }
    // found in a cache, or downloaded on a thread first (train_poll starts the run when it is done)
    char err[512];
    a->tr_fetch = fetch_job_start(e, err, sizeof err);
    if (!a->tr_fetch) {
        snprintf(a->status, sizeof a->status, "%s", err);
        return;
    }
    a->tr_fetch_entry = e;
    snprintf(a->status, sizeof a->status, "getting %s (s cancels)", e->file);
}

// The download (or cache lookup) of the weights, once it is done: start the run, or say why not.
static void poll_fetch(app *a) {
    if (!a->tr_fetch || !fetch_job_done(a->tr_fetch)) return;
    fetch_result res;
    char err[1024];
    int rc = fetch_job_result(a->tr_fetch, &res, err, sizeof err);
    fetch_job_free(a->tr_fetch);
    a->tr_fetch = NULL;
    if (rc != 0) {
        log_line(a, "weights: %.150s", err);
        snprintf(a->status, sizeof a->status, "%.500s", err);
        return;
    }
    snprintf(a->tr_weights_path, sizeof a->tr_weights_path, "%s", res.path);
    launch(a, a->tr_weights_path);
}

void train_poll(app *a) {
    poll_fetch(a);
    if (!a->tr_events) return;
    train_event e;
    while (events_poll(a->tr_events, &e)) {
        switch (e.kind) {
        case EV_INFO: log_line(a, "%s", e.text); break;
        case EV_PHASE_START:
            if (e.phase == PHASE_TRAIN) log_line(a, "Epoch %d/%d", e.epoch, e.epochs);
            log_line(a, "%s", e.phase == PHASE_TRAIN ? "Training..." : "Validing...");
            break;
        case EV_BATCH: a->tr_last = e; break;
        case EV_PHASE_END:
            a->tr_phase_end[e.phase] = e;
            log_line(a, "%s Loss:%.6f ACC:%.4f", e.phase == PHASE_TRAIN ? "train" : "valid", e.running_loss, e.running_acc);
            break;
        case EV_EPOCH:
            if (a->tr_n_epoch_rows < TR_MAX_EPOCH_ROWS) a->tr_epoch_rows[a->tr_n_epoch_rows++] = e;
            break;
        case EV_SKIPPED: log_line(a, "skipped %s", e.text); break;
        case EV_SAVED: log_line(a, "saved %s", e.text); break;
        case EV_ERROR: log_line(a, "error: %s", e.text); break;
        case EV_FINISHED: {
            log_line(a, "%s after %.1f s", e.status == 0 ? "Training complete" : e.status == 1 ? "Stopped" : "Failed",
                     e.seconds);
            ft_model *m = NULL;
            trainer_join_model(a->tr, &m);
            a->tr = NULL;
            a->tr_running = 0;
            if (m && e.status >= 0 && a->tr_n_epoch_rows > 0) {
                char source[256];
                snprintf(source, sizeof source, "%s trained here, %d epoch%s", ft_model_arch(m), a->tr_n_epoch_rows,
                         a->tr_n_epoch_rows == 1 ? "" : "s");
                predict_set_model(a, m, source, &a->tr_prep.tf);
                m = NULL;
            }
            ft_model_free(m);
            snprintf(a->status, sizeof a->status, "%s",
                     e.status == 0 ? "training complete: 4 shows predictions" : "training ended");
            break;
        }
        }
    }
}

void train_stop_and_join(app *a) {
    fetch_job_free(a->tr_fetch);
    a->tr_fetch = NULL;
    if (a->tr) {
        trainer_stop(a->tr);
        trainer_join(a->tr);
        a->tr = NULL;
    }
    events_free(a->tr_events);
    a->tr_events = NULL;
}

// ---------------------------------------------------------------------------------------------
// drawing

static void bar(int row, int col, int width, double fraction, const char *label, ui_role role) {
    if (fraction < 0 || !isfinite(fraction)) fraction = 0;
    mvprintw(row, col, "%-14s ", label);
    style_bar(row, col + 15, width, fraction, role);
}

// Loss and accuracy per epoch, train and valid, with the running values of the epoch in progress.
static void draw_charts(app *a, int top, int rows, int cols) {
    enum { MAXP = TR_MAX_EPOCH_ROWS + 1 };
    double tl[MAXP], vl[MAXP], ta[MAXP], va[MAXP];
    int n = 0;
    for (int i = 0; i < a->tr_n_epoch_rows && n < MAXP; i++, n++) {
        const train_event *e = &a->tr_epoch_rows[i];
        tl[n] = e->train_loss, vl[n] = e->valid_loss, ta[n] = e->train_acc, va[n] = e->valid_acc;
    }
    const train_event *b = &a->tr_last;
    if (a->tr_running && b->epoch > a->tr_n_epoch_rows && n < MAXP) {   // the epoch in progress
        int valid = b->phase == PHASE_VALID;
        tl[n] = valid ? a->tr_phase_end[PHASE_TRAIN].running_loss : b->running_loss;
        ta[n] = valid ? a->tr_phase_end[PHASE_TRAIN].running_acc : b->running_acc;
        vl[n] = valid ? b->running_loss : NAN;
        va[n] = valid ? b->running_acc : NAN;
        n++;
    }
    // the loss axis spans the values seen (with a margin), so small changes show
    double lo = INFINITY, hi = -INFINITY;
    for (int i = 0; i < n; i++) {
        if (isfinite(tl[i])) lo = fmin(lo, tl[i]), hi = fmax(hi, tl[i]);
        if (isfinite(vl[i])) lo = fmin(lo, vl[i]), hi = fmax(hi, vl[i]);
    }
    if (!(hi >= lo)) lo = 0, hi = 1;
    double margin = hi > lo ? 0.1 * (hi - lo) : 0.01 * fabs(hi) + 1e-3;
    lo = fmax(0, lo - margin);
    hi += margin;
    int half = cols / 2;
    int x_max = a->tr_epochs_total > 1 ? a->tr_epochs_total - 1 : 1;
    mvprintw(top, 0, "loss per epoch (");
    attron(style(ROLE_TRAIN));
    addstr(style_unicode() ? "train" : "train *");
    attroff(style(ROLE_TRAIN));
    addstr(", ");
    attron(style(ROLE_VALID));
    addstr(style_unicode() ? "valid" : "valid o");
    attroff(style(ROLE_VALID));
    addstr(")");
    mvprintw(top, half, "accuracy %% per epoch");
    chart_series loss[2] = {{tl, n, ROLE_TRAIN, '*'}, {vl, n, ROLE_VALID, 'o'}};
    chart_series acc[2] = {{ta, n, ROLE_TRAIN, '*'}, {va, n, ROLE_VALID, 'o'}};
    chart_draw(top + 1, 0, rows - 1, half - 2, 7, loss, 2, x_max, lo, hi);
    chart_draw(top + 1, half, rows - 1, cols - half - 1, 7, acc, 2, x_max, 0, 100);
}

void train_draw(app *a, int top, int rows, int cols) {
    int r = top;
    for (int f = 0; f < N_FIELDS; f++, r++) {
        char value[160];
        field_text(a, f, value, sizeof value);
        attr_t at = a->tr_running ? style(ROLE_DIM) : f == a->tr_field ? style(ROLE_SELECTED) : A_NORMAL;
        attron(at);
        mvprintw(r, 0, "%-14s %s", FIELD_NAMES[f], value);
        attroff(at);
    }
    char spec[1024];
    if (a->tr_running)
        snprintf(spec, sizeof spec, "%s", a->tr_trainable);
    else
        model_trainable_spec(a, spec, sizeof spec);
    mvprintw(r++, 0, "%-14s ", "trainable");
    if (spec[0])
        printw("%.*s  (from the Model screen)", cols > 60 ? cols - 45 : 15, spec);
    else
        printw("the new head only, the rest frozen (the seed; change it on the Model screen)");
    r++;
    const train_event *b = &a->tr_last;
    int width = cols - 40 > 10 ? cols - 40 : 10;
    char label[64];
    if (a->tr_fetch) {   // the weights first
        uint64_t done, total;
        fetch_job_progress(a->tr_fetch, &done, &total);
        bar(r, 0, width, total ? (double)done / (double)total : 0, "download", ROLE_BAR);
        printw(" %.1f / %.1f MB", (double)done / 1e6, (double)total / 1e6);
        mvprintw(r + 1, 0, "%-14s %s", "", a->tr_fetch_entry ? a->tr_fetch_entry->url : "");
        return;
    }
    snprintf(label, sizeof label, "epoch %d/%d", b->epoch, a->tr_epochs_total);
    bar(r++, 0, width, a->tr_epochs_total ? (double)(b->epoch - (b->batch < b->batches)) / a->tr_epochs_total : 0, label,
        ROLE_BAR);
    snprintf(label, sizeof label, "%s %zu/%zu", b->phase == PHASE_TRAIN ? "train" : "valid", b->batch, b->batches);
    bar(r++, 0, width, b->batches ? (double)b->batch / (double)b->batches : 0, label, ROLE_BAR);
    // a loss bar is full at twice the loss of a uniform guess, ln(classes)
    double loss_scale = 2 * log((double)(a->have_dataset && a->d.n_classes > 1 ? a->d.n_classes : 2));
    for (int p = 0; p < 2; p++) {
        const train_event *live = b->phase == p && b->batch ? b : &a->tr_phase_end[p];
        double acc = live->running_acc, loss = live->running_loss;
        ui_role role = p ? ROLE_VALID : ROLE_TRAIN;
        snprintf(label, sizeof label, "%s acc", p ? "valid" : "train");
        bar(r, 0, width, acc / 100.0, label, role);
        printw(" %6.2f%%", isfinite(acc) ? acc : 0.0);
        r++;
        snprintf(label, sizeof label, "%s loss", p ? "valid" : "train");
        bar(r, 0, width, isfinite(loss) ? loss / loss_scale : 0, label, role);
        printw(" %.4f", isfinite(loss) ? loss : 0.0);
        r++;
    }
    int eta = (int)(b->eta_s + 0.5);
    const char *state = a->tr_running ? (a->tr && trainer_paused(a->tr) ? "PAUSED" : "running") : "idle";
    mvprintw(r++, 0, "%.1f images/s   ETA %d:%02d   device %s   ", b->images_per_s, eta / 60, eta % 60,
             a->tr_device_name[0] ? a->tr_device_name : "-");
    attron(style(a->tr_running && a->tr && trainer_paused(a->tr) ? ROLE_WARNING : ROLE_TEXT));
    addstr(state);
    attroff(style(a->tr_running && a->tr && trainer_paused(a->tr) ? ROLE_WARNING : ROLE_TEXT));
    r++;
    // the charts when there is room for them and a log of 4 lines
    int left = top + rows - r;
    if (left >= 9 + 4 && cols >= 60 && (a->tr_running || a->tr_n_epoch_rows > 0)) {
        int h = left - 4 > 10 ? 10 : left - 4 - 1;
        draw_charts(a, r, h, cols);
        r += h + 1;
    }
    // the log: its newest lines that fit
    int avail = top + rows - r, first = TR_LOG_LINES - avail;
    for (int i = first > 0 ? first : 0; i < TR_LOG_LINES && r < top + rows; i++)
        if (a->tr_log[i][0]) mvaddnstr(r++, 0, a->tr_log[i], cols - 1);
}

void train_act(app *a, app_action act) {
    switch (act) {
    case ACT_UP:
        if (!a->tr_running && a->tr_field > 0) a->tr_field--;
        break;
    case ACT_DOWN:
        if (!a->tr_running && a->tr_field < N_FIELDS - 1) a->tr_field++;
        break;
    case ACT_LEFT:
    case ACT_RIGHT:
        if (!a->tr_running) change(a, a->tr_field, act == ACT_RIGHT ? 1 : -1);
        break;
    case ACT_START:
        if (!a->tr_running && !a->tr_fetch) start_run(a);
        break;
    case ACT_PAUSE:
        if (a->tr) {
            if (trainer_paused(a->tr))
                trainer_resume(a->tr);
            else
                trainer_pause(a->tr);
            snprintf(a->status, sizeof a->status, "%s", trainer_paused(a->tr) ? "paused (p resumes)" : "running");
        }
        break;
    case ACT_STOP:
        if (a->tr_fetch) {
            fetch_job_cancel(a->tr_fetch);
            snprintf(a->status, sizeof a->status, "download cancelled (its .part is kept: it resumes next time)");
        }
        if (a->tr) {
            trainer_stop(a->tr);
            snprintf(a->status, sizeof a->status, "stopping at the end of this batch...");
        }
        break;
    default: break;
    }
}
