// screen_train.c — screen 3: the options of `frost train` as a form (prefilled with the tutorial's
// values), then the run itself, fed by the trainer thread's events: batch and epoch progress bars,
// running loss and accuracy bars for train and valid, images/s, ETA, charts per epoch and a log pane
// with the tutorial's lines (core's train_log, as `frost train` prints them). The trainer owns the
// model while it runs; this screen only reads events, then offers the model to the Predict screen.
#include <curses.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "app.h"
#include "chart.h"
#include "event_json.h"
#include "export_pytorch.h"
#include "fetch.h"
#include "fetch_job.h"
#include "i18n.h"
#include "list_view.h"
#include "lr_finder_view.h"
#include "model_job.h"
#include "paragraph.h"
#include "precision_job.h"
#include "run_query.h"
#include "run_record.h"
#include "run_settings.h"
#include "runs_db.h"
#include "style.h"
#include "text_wrap.h"
#include "train_form.h"
#include "train_log.h"
#include "train_plan.h"
#include "trainer.h"
#include "weights_table.h"

#define LOG_LINES 12
#define MAX_EPOCH_ROWS 64

typedef struct {
    // the form (train_form.h; the architecture and BatchNorm are the app's run_state)
    train_form f;
    list_view form;   // the selected field
    // --precision auto's suggestion for the form's network, size and images, measured in the background;
    // Enter while it measures starts the run when it ends (the two would draw from libtorch's one
    // random generator in turn, by chance)
    precision_job *pjob;
    char pkey[4400];             // what it was measured for ("" nothing yet)
    int start_after;             // Enter came while it measured
    char plan_text[64];          // the run's plan, as the trainer reads it ("" none)
    lr_finder_view *finder;      // the lr finder (its curve stays after it ends)
    int fetch_for_finder;        // the weights being fetched are for the finder
    int fetch_for_export;        // ... for an export (export_dir)
    char export_dir[1024];       // where x writes the form's run as a PyTorch folder
    model_job *export;           // the export being written, on a thread (core/jobs/model_job)
    trainer_config export_cfg;   // what it writes (asked again, overwriting, after "replace it?")
    char export_weights[4096];
    int export_ask;   // it found an earlier export there: "replace it?" is asked at the next chance
    // the run
    trainer *tr;
    run_record *rec;    // the run in the history (NULL: off for this run)
    fetch_job *fetch;   // getting the weights before a run
    int running, epochs_total;
    train_event last, phase_end[2];
    double lr_now;       // the lr of the run's last step
    int stage, stages;   // the plan's stage now (0: no plan)
    train_event epoch_rows[MAX_EPOCH_ROWS];
    int n_epoch_rows;
    char log[LOG_LINES][640];   // (an alarm with its advice, whole)
    char trainable[1024];       // what the run trains, as given to the trainer ("" = the tutorial's)
    char device_name[32];
    char weights_path[4096];
    pipeline_opts prep;   // the run's preprocessing (for predicting with its model)
    trainer_config cfg;   // the run's settings (the JSON log's sample orders come from them)
    // the previous run on this dataset (the history's), drawn faint behind the run's curves
    long long prev_id;
    int prev_n;
    double prev_loss[MAX_EPOCH_ROWS], prev_acc[MAX_EPOCH_ROWS];
    unsigned load_seen;   // the app's load_seq this form has taken (the Runs screen's Enter)
} train_view;

// ---------------------------------------------------------------------------------------------
// the form

static void form_config(app *a, train_view *v, const char *weights, trainer_config *out);

// Tells the app what the Model screen's cost line needs (train_form_publish), and the form's run as it
// stands (the code pane's; its weights are named, not loaded).
static void publish(app *a, train_view *v) {
    train_form_publish(&v->f, &a->run);
    form_config(a, v, NULL, &a->run.form);
    transform_params_set_norm(&a->run.form.prep.tf, train_form_norm(&v->f, v->f.weights));
    a->run.form_pretrained = v->f.weights;
}

static void *create(app *a) {
    train_view *v = calloc(1, sizeof *v);
    if (!v) return NULL;
    a->run.precision_pick = -1;
    // the user's config file says the weights and the device
    train_form_init(&v->f, a->opts->weights, a->opts->device && strcmp(a->opts->device, "cpu") == 0);
    publish(a, v);
    return v;
}

// ---------------------------------------------------------------------------------------------
// the run

static void add_log(train_view *v, const char *line) {
    memmove(v->log[0], v->log[1], sizeof v->log - sizeof v->log[0]);
    snprintf(v->log[LOG_LINES - 1], sizeof v->log[0], "%s", line);
}

static void log_line(train_view *v, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void log_line(train_view *v, const char *fmt, ...) {
    char line[sizeof v->log[0]];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    add_log(v, line);
}

static void log_tutorial_line(void *user, const char *line) { add_log(user, line); }

// What the interface says to get past a run's error (the command line says it with a flag).
static const char *fix_hint(frost_fix fix) {
    switch (fix) {
    case FIX_SMALLER_BATCH: return " (choose a smaller batch)";
    case FIX_BN_EVAL: return " (BatchNorm: eval)";
    case FIX_TRAINABLE: return " (change the freeze marks on the Model screen)";
    case FIX_BN_FIXED: return " (BatchNorm: eval keeps them fixed)";
    case FIX_HIGHER_LR: return " (choose a higher learning rate, or more epochs)";
    case FIX_CLASS_WEIGHTS: return " (set class weights to auto)";
    default: return "";
    }
}

// The run the form describes, with weights (NULL: none); the Model screen's marks say what trains.
static void form_config(app *a, train_view *v, const char *weights, trainer_config *out) {
    snprintf(v->trainable, sizeof v->trainable, "%s", app_trainable(a));
    train_form_config(&v->f, &a->run, v->trainable, weights, v->plan_text, sizeof v->plan_text, out);
    if (a->opts->workers > 0) out->workers = a->opts->workers;
    out->keep_model = 1;   // offered to the Predict screen when the run ends
}

// The newest earlier run on this dataset in the history, for its faint curves (none when the history
// is off or has none).
static void previous_run(app *a, train_view *v) {
    v->prev_id = 0;
    v->prev_n = 0;
    sqlite3 *db;
    if (!v->rec || runs_db_open(&db, 0, NULL, 0) != 0) return;
    long long id = runs_previous(db, a->root, run_record_id(v->rec));
    run_row r;
    run_epoch *e = NULL;
    size_t n = 0;
    if (id && runs_get(db, id, &r, &e, &n, NULL, 0) == 1) {
        for (size_t k = 0; k < n && k < MAX_EPOCH_ROWS; k++) {
            v->prev_loss[k] = e[k].valid_loss;
            v->prev_acc[k] = e[k].valid_acc;
        }
        v->prev_n = n < MAX_EPOCH_ROWS ? (int)n : MAX_EPOCH_ROWS;
        v->prev_id = id;
        run_row_free(&r);
        free(e);
    }
    runs_db_close(db);
}

// Starts the trainer with weights (NULL: none).
static void launch(app *a, train_view *v, const char *weights) {
    trainer_config c;
    form_config(a, v, weights, &c);
    int imagenet_norm = train_form_norm(&v->f, weights != NULL) == TRANSFORM_NORM_IMAGENET;
    char err[512];
    lr_finder_free(v->finder);   // its curve gives way to the run's charts
    v->finder = NULL;
    v->tr = trainer_start(&c, &a->d, err, sizeof err);
    if (!v->tr) {
        app_status(a, _("cannot start: %.400s"), err);
        return;
    }
    memset(v->log, 0, sizeof v->log);
    run_origin origin = {.origin = "interface", .command = "frost (the Train screen)", .version = a->opts->version};
    char note[1400];
    v->rec = run_record_start(&c, &a->d, &origin, note, sizeof note);
    if (note[0]) log_line(v, "%s", note);
    previous_run(a, v);
    layer_report_free(&a->run.layers);   // the meters and alarms are the new run's from now on
    a->run.alarms[0][0] = a->run.alarms[1][0] = '\0';
    if (weights) log_line(v, "pretrained weights: %.130s", weights);
    log_line(v, "normalisation: %s", imagenet_norm ? "ImageNet's mean and std" : "mean and std 0.5 (the tutorial's)");
    memset(v->epoch_rows, 0, sizeof v->epoch_rows);
    v->n_epoch_rows = 0;
    v->last = (train_event){0};
    v->phase_end[0] = v->phase_end[1] = (train_event){0};
    v->lr_now = c.opt.lr;
    v->stage = v->stages = 0;
    a->run.stage_trainable[0] = '\0';
    a->run.stage = a->run.stages = 0;
    v->running = 1;
    a->run.training = 1;
    a->shown.epochs_done = 0;
    v->epochs_total = c.epochs;
    v->prep = c.prep;
    v->cfg = c;
    snprintf(v->device_name, sizeof v->device_name, "%s",
             strcmp(c.device, "auto") == 0 ? (ft_cuda_available() ? "cuda" : "cpu") : c.device);
    app_status(a, _("training %s: p pauses, s stops"), c.arch);
}

// Starts the lr finder on the form's run with weights (NULL: none).
static void launch_finder(app *a, train_view *v, const char *weights) {
    trainer_config c;
    form_config(a, v, weights, &c);
    c.plan = NULL;   // the finder sweeps the first stage: what trains at the start
    if (v->plan_text[0]) c.trainable = NULL;
    char err[512];
    lr_finder_free(v->finder);
    v->finder = lr_finder_start(&c, &a->d, a->json_log, err, sizeof err);
    if (!v->finder) {
        app_status(a, _("cannot start the lr finder: %.400s"), err);
        return;
    }
    app_status(a, _("lr finder: %d steps from %.0e to %.0e (s stops)"), c.find.steps, c.find.start_lr, c.find.end_lr);
}

// The lr finder's end: its suggestion becomes the form's learning rate.
static void poll_finder(app *a, train_view *v) {
    double lr = 0;
    char msg[600];
    if (!v->finder || !lr_finder_poll(v->finder, &lr, msg, sizeof msg)) return;
    if (lr > 0) {
        v->f.lr_found = lr;
        publish(a, v);
        app_status(a, _("lr finder: %.300s; now the learning rate (Left/Right on it: the list)"), msg);
    } else {
        app_status(a, _("lr finder: %.400s"), msg);
    }
}

// Starts writing the run of cfg as a PyTorch folder (export_pytorch.h) in v->export_dir, on a thread.
static void export_start(app *a, train_view *v, int overwrite) {
    char err[1024];
    v->export =
        model_job_export(&v->export_cfg, a->d.classes, a->d.n_classes, v->export_dir, overwrite, err, sizeof err);
    if (!v->export) {
        app_status(a, _("export: %.400s"), err);
        return;
    }
    app_status(a, _("exporting to %.300s... (s stops)"), v->export_dir);   // (no "exported " in it)
}

// The form's run, before any training, as a PyTorch folder in v->export_dir; an earlier export there
// is replaced only when the user says so (asked when the first try finds it).
static void export_run(app *a, train_view *v, const char *weights) {
    snprintf(v->export_weights, sizeof v->export_weights, "%s", weights ? weights : "");
    form_config(a, v, weights ? v->export_weights : NULL, &v->export_cfg);
    export_start(a, v, 0);
}

// The export has ended: said, or "replace it?" asked (the writer's code for an existing export).
static void poll_export(app *a, train_view *v) {
    model_job_result r;
    if (model_job_collect(&v->export, &r)) {
        if (r.rc == EXPORT_PYTORCH_EXISTS) {
            v->export_ask = 1;
        } else if (r.rc == MODEL_JOB_CANCELLED) {
            app_status(a, _("export stopped: nothing written to %.300s"), v->export_dir);
        } else if (r.rc != 0) {
            app_status(a, _("export: %.400s"), r.err);
        } else {
            log_line(v,
                     "exported to %.120s: python3 %.120s/train.py --data %.120s (or torchrun --nproc_per_node N ...)",
                     v->export_dir, v->export_dir, a->d.root);
            app_status(a, _("exported %.300s/train.py, the weights and a README"), v->export_dir);
        }
        model_job_result_free(&r);
    }
    if (v->export) app_busy(a);
    // asked when no other prompt is open and the screen that started it is in front
    if (!v->export_ask || a->prompt || !app_in_front(a, &screen_train)) return;
    v->export_ask = 0;
    char answer[8] = "";
    char label[1200];
    snprintf(label, sizeof label, _("%.1000s holds an export: replace it? (y/n) "), v->export_dir);
    if (!app_prompt(a, label, answer, sizeof answer) || (answer[0] != 'y' && answer[0] != 'Y'))
        app_status(a, _("export: %.300s kept as it was"), v->export_dir);
    else
        export_start(a, v, 1);
}

static void start_run(app *a, train_view *v) {
    if (v->pjob) {
        v->start_after = 1;
        app_status(a, "%s", _("starting when the precision measurement ends (seconds)"));
        return;
    }
    if (!a->have_dataset || a->d.n_problems > 0) {
        app_status(a, _("no usable dataset: %.400s"), a->have_dataset ? a->d.problems[0] : a->dataset_error);
        return;
    }
    if (!v->f.weights) {
        if (v->fetch_for_export)
            export_run(a, v, NULL);
        else if (v->fetch_for_finder)
            launch_finder(a, v, NULL);
        else
            launch(a, v, NULL);
        return;
    }
    const weights_entry *e = weights_table_find(ft_arch_name(a->run.arch_index), NULL);
    if (!e) {
        app_status(a, _("no known ImageNet weights for %s"), ft_arch_name(a->run.arch_index));
        return;
    }
    // found in a cache, or downloaded on a thread first (poll starts the run when it is done)
    char err[512];
    v->fetch = fetch_job_start(e, err, sizeof err);
    if (!v->fetch) {
        app_status(a, "%s", err);
        return;
    }
    app_status(a, _("getting %s (s cancels)"), e->file);
}

// The download (or cache lookup) of the weights, once it is done: start the run, or say why not.
static void poll_fetch(app *a, train_view *v) {
    if (!v->fetch || !fetch_job_done(v->fetch)) return;
    int for_finder = v->fetch_for_finder, for_export = v->fetch_for_export;
    v->fetch_for_finder = v->fetch_for_export = 0;
    fetch_result res;
    char err[1024];
    int rc = fetch_job_result(v->fetch, &res, err, sizeof err);
    fetch_job_free(v->fetch);
    v->fetch = NULL;
    if (rc != 0) {   // said, and the choice left to the user: the field falls back to random weights
        log_line(v, "weights: %.300s", err);
        log_line(v, "weights set to none: Enter trains from random weights (expect near-chance accuracy)");
        app_status(a, _("no ImageNet weights (%s from random ones instead): %.400s"),
                   for_export ? "x exports a run" : "Enter trains", err);
        v->f.weights = 0;
        publish(a, v);
        return;
    }
    snprintf(v->weights_path, sizeof v->weights_path, "%s", res.path);
    if (for_export)
        export_run(a, v, v->weights_path);
    else if (for_finder)
        launch_finder(a, v, v->weights_path);
    else
        launch(a, v, v->weights_path);
}

// The event into the --json log, if there is one; when the log cannot be written it is closed and
// the run goes on (what is on the screen is not lost).
static void write_json(app *a, train_view *v, const train_event *e) {
    if (!a->json_log || event_json_write(a->json_log, e, &v->cfg, &a->d,
                                         e->kind == EV_LAYERS ? trainer_layers(v->tr, e->batch) : NULL) == 0)
        return;
    char why[128];
    snprintf(why, sizeof why, "%s", strerror(errno));
    fclose(a->json_log);
    a->json_log = NULL;
    log_line(v, "the JSON log stopped: %.120s: %s", a->opts->json, why);
    app_status(a, _("%.300s: cannot write the JSON log: %s; training goes on"), a->opts->json, why);
}

// A layer report of the run, kept in the app for the Model screen's meters.
static void keep_layers(app *a, train_view *v, size_t k) {
    const layer_report *r = trainer_layers(v->tr, k);
    if (!r) return;
    layer_report_free(&a->run.layers);
    if (layer_report_copy(&a->run.layers, r) != 0) return;
    snprintf(a->run.layers_arch, sizeof a->run.layers_arch, "%s", v->cfg.arch);
    snprintf(a->run.layers_trainable, sizeof a->run.layers_trainable, "%s", v->trainable);
}

// The run has ended: its model goes to the Predict screen (through the app).
static void finish(app *a, train_view *v, const train_event *e) {
    ft_model *m = NULL;
    trainer_result(v->tr, &m);
    trainer_free(v->tr);
    v->tr = NULL;
    run_record_free(v->rec);
    v->rec = NULL;
    v->running = 0;
    a->run.training = 0;
    if (m && e->status >= 0 && v->n_epoch_rows > 0) {
        char source[256];
        snprintf(source, sizeof source,
                 ngettext("%s trained here, %d epoch", "%s trained here, %d epochs", (unsigned long)v->n_epoch_rows),
                 ft_model_arch(m), v->n_epoch_rows);
        app_offer_model(a, m, source, &v->prep.tf);
        m = NULL;
    }
    ft_model_free(m);
    // an alarm said during the run may have scrolled away: the last word says there were some
    int warnings = (a->run.alarms[0][0] != '\0') + (a->run.alarms[1][0] != '\0');
    if (warnings > 0)
        app_status(a,
                   ngettext("%s with %d warning (2 Model shows it with what the run did to each module)%s",
                            "%s with %d warnings (2 Model shows them with what the run did to each module)%s",
                            (unsigned long)warnings),
                   e->status == 0 ? _("training complete") : _("training ended"), warnings,
                   e->status == 0 ? _("; 4 shows predictions") : "");
    else
        app_status(a, "%s", e->status == 0 ? _("training complete: 4 shows predictions") : _("training ended"));
}

// auto's suggestion for the form as it stands (network, size, weights when cached, normalisation,
// device, images), measured in the background while the precision field is selected or set to auto
// and no run is going (a run would skew the speeds), again when any of those change.
static void poll_precision(app *a, train_view *v) {
    char err[1024];
    if (v->pjob && precision_job_done(v->pjob)) {
        precision_auto_result r;
        if (precision_job_result(v->pjob, &r, err, sizeof err) == 0) {
            precision_auto_summary(&r, a->run.precision_said, sizeof a->run.precision_said);
            a->run.precision_pick = (int)r.pick;
        } else {
            snprintf(a->run.precision_said, sizeof a->run.precision_said, _("not measured: %.200s"), err);
            a->run.precision_pick = -1;
        }
        precision_job_free(v->pjob);
        v->pjob = NULL;
        publish(a, v);
        if (v->start_after) {
            v->start_after = 0;
            start_run(a, v);
        }
    }
    if (v->pjob) app_busy(a);
    int wanted = v->form.sel == train_form_count() - 1 || train_form_precision(&v->f) == TRAINER_PRECISION_AUTO;
    if (v->pjob || !wanted || v->running || a->run.training || !a->have_dataset || !app_in_front(a, &screen_train))
        return;
    const weights_entry *e = v->f.weights ? weights_table_find(ft_arch_name(a->run.arch_index), NULL) : NULL;
    char cached[4096] = "";
    if (!e || fetch_find_cached(e, cached, sizeof cached) != 1) cached[0] = '\0';
    trainer_config c;
    form_config(a, v, cached[0] ? cached : NULL, &c);
    char key[sizeof v->pkey];
    snprintf(key, sizeof key, "%s %d %s %s %.3f %zu %s", c.arch, c.prep.tf.size, c.device, cached, c.prep.tf.mean[0],
             a->d.train.n_items, a->root);
    if (strcmp(key, v->pkey) == 0) return;
    snprintf(v->pkey, sizeof v->pkey, "%s", key);
    precision_auto_spec spec = {.arch = c.arch,
                                .weights = c.weights,
                                .device = c.device,
                                .batch = c.batch_size,
                                .prep = &c.prep,
                                .split = a->d.train.n_items ? &a->d.train : &a->d.valid};
    a->run.precision_pick = -1;
    publish(a, v);
    v->pjob = precision_job_start(&spec, err, sizeof err);
    snprintf(a->run.precision_said, sizeof a->run.precision_said, "%.200s", v->pjob ? "measuring..." : err);
}

static void poll(app *a, void *state) {
    train_view *v = state;
    poll_precision(a, v);
    poll_fetch(a, v);
    poll_finder(a, v);
    poll_export(a, v);
    a->shown.lr_found = v->f.lr_found > 0;
    train_event e;
    while (v->tr && trainer_poll(v->tr, &e)) {
        char note[1400];
        if (run_record_event(v->rec, &e, note, sizeof note) != 0) {   // the run goes on without it
            log_line(v, "%s", note);
            app_status(a, "%.500s", note);
        }
        train_log_lines(&e, 0, log_tutorial_line, v);
        write_json(a, v, &e);
        switch (e.kind) {
        case EV_BATCH:
            v->last = e;
            if (e.phase == PHASE_TRAIN && e.lr > 0) v->lr_now = e.lr;
            break;
        case EV_STAGE:   // the plan's next stage: the Model screen's marks follow it
            v->stage = e.stage;
            v->stages = e.stages;
            snprintf(a->run.stage_trainable, sizeof a->run.stage_trainable, "%s", e.text);
            snprintf(a->run.stage_arch, sizeof a->run.stage_arch, "%s", v->cfg.arch);
            a->run.stage = e.stage;
            a->run.stages = e.stages;
            a->run.stage_seq++;
            break;
        case EV_PHASE_END: v->phase_end[e.phase] = e; break;
        case EV_EPOCH:
            if (v->n_epoch_rows < MAX_EPOCH_ROWS) v->epoch_rows[v->n_epoch_rows++] = e;
            a->shown.epochs_done = e.epoch;
            break;
        case EV_SKIPPED: log_line(v, "skipped %s", e.text); break;
        case EV_LAYERS: keep_layers(a, v, e.batch); break;
        case EV_ALARM:
            log_line(v, "warning: %s%s", e.text, fix_hint(e.fix));
            app_status(a, _("warning: %.400s%s"), e.text, fix_hint(e.fix));
            snprintf(a->run.alarms[e.fix == FIX_BN_FIXED ? 0 : 1], sizeof a->run.alarms[0], "%.500s%s", e.text,
                     fix_hint(e.fix));
            break;
        case EV_ERROR: log_line(v, "error: %s%s", e.text, fix_hint(e.fix)); break;
        case EV_FINISHED: finish(a, v, &e); break;
        default: break;
        }
    }
}

static void destroy(app *a, void *state) {
    train_view *v = state;
    precision_job_free(v->pjob);   // (waits for a measurement in flight: the way out)
    fetch_job_free(v->fetch);
    lr_finder_free(v->finder);
    model_job_free(v->export);   // (cancelled: waits for its current step, puts no file in place)
    if (v->tr) {                 // stopped cleanly, at its next batch boundary
        app_status(a, "%s", _("stopping the training run..."));
        app_draw(a);
        trainer_cancel(v->tr);
        // its end goes into the history as stopped: the events up to EV_FINISHED are recorded
        for (train_event e; v->rec;) {
            if (!trainer_poll(v->tr, &e)) {
                nanosleep(&(struct timespec){0, 20000000}, NULL);
                continue;
            }
            (void)run_record_event(v->rec, &e, NULL, 0);
            if (e.kind == EV_FINISHED) break;
        }
        trainer_free(v->tr);
    }
    run_record_free(v->rec);
    free(v);
}

// ---------------------------------------------------------------------------------------------
// drawing

static void bar(int row, int col, int width, double fraction, const char *label, ui_role role) {
    if (fraction < 0 || !isfinite(fraction)) fraction = 0;
    char padded[128];
    mvprintw(row, col, "%s ", text_pad(padded, sizeof padded, label, 14));
    style_bar(row, col + 15, width, fraction, role);
}

// Loss and accuracy per epoch, train and valid, with the running values of the epoch in progress.
static void draw_charts(train_view *v, int top, int rows, int cols) {
    enum { MAXP = MAX_EPOCH_ROWS + 1 };
    double tl[MAXP], vl[MAXP], ta[MAXP], va[MAXP];
    int n = 0;
    for (int i = 0; i < v->n_epoch_rows && n < MAXP; i++, n++) {
        const train_event *e = &v->epoch_rows[i];
        tl[n] = e->train_loss, vl[n] = e->valid_loss, ta[n] = e->train_acc, va[n] = e->valid_acc;
    }
    const train_event *b = &v->last;
    if (v->running && b->epoch > v->n_epoch_rows && n < MAXP) {   // the epoch in progress
        int valid = b->phase == PHASE_VALID;
        tl[n] = valid ? v->phase_end[PHASE_TRAIN].running_loss : b->running_loss;
        ta[n] = valid ? v->phase_end[PHASE_TRAIN].running_acc : b->running_acc;
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
    for (int i = 0; i < v->prev_n; i++)
        if (isfinite(v->prev_loss[i])) lo = fmin(lo, v->prev_loss[i]), hi = fmax(hi, v->prev_loss[i]);
    if (!(hi >= lo)) lo = 0, hi = 1;
    double margin = hi > lo ? 0.1 * (hi - lo) : 0.01 * fabs(hi) + 1e-3;
    lo = fmax(0, lo - margin);
    hi += margin;
    int half = cols / 2;
    int x_max = v->epochs_total > 1 ? v->epochs_total - 1 : 1;
    if (v->prev_n - 1 > x_max) x_max = v->prev_n - 1;
    mvprintw(top, 0, "%s", _("loss per epoch ("));
    attron(style(ROLE_TRAIN));
    addstr(style_unicode() ? "train" : "train *");
    attroff(style(ROLE_TRAIN));
    addstr(", ");
    attron(style(ROLE_VALID));
    addstr(style_unicode() ? "valid" : "valid o");
    attroff(style(ROLE_VALID));
    if (v->prev_n) {   // the previous run's valid curves, faint, behind (drawn first: the run's own win a cell)
        attron(style(ROLE_DIM));
        printw(", run %lld's valid%s", v->prev_id, style_unicode() ? "" : " .");
        attroff(style(ROLE_DIM));
    }
    addstr(")");
    mvprintw(top, half, _("accuracy %% per epoch"));
    chart_series loss[3] = {
        {v->prev_loss, v->prev_n, ROLE_DIM, '.'}, {tl, n, ROLE_TRAIN, '*'}, {vl, n, ROLE_VALID, 'o'}};
    chart_series acc[3] = {{v->prev_acc, v->prev_n, ROLE_DIM, '.'}, {ta, n, ROLE_TRAIN, '*'}, {va, n, ROLE_VALID, 'o'}};
    int first = v->prev_n ? 0 : 1;
    chart_draw(top + 1, 0, rows - 1, half - 2, 7, loss + first, 3 - first, x_max, lo, hi);
    chart_draw(top + 1, half, rows - 1, cols - half - 1, 7, acc + first, 3 - first, x_max, 0, 100);
}

// The plan as a timeline: each stage's share of the epochs, what it trains, and where the run is.
static void draw_timeline(const train_view *v, const char *text, int row, int cols) {
    train_plan p;
    char err[256];
    char name[64];
    mvprintw(row, 0, "%s ", text_pad(name, sizeof name, _("plan"), 14));
    if (train_plan_parse(text, &p, err, sizeof err) != 0) {
        printw("%s", err);
        return;
    }
    int epochs = v->running ? v->epochs_total : train_form_epochs(&v->f);
    int width = cols - 16 - 2, x = 16;
    if (width < 10 || epochs < 1) return;
    int now = v->running ? v->last.epoch : 0;
    for (int s = 0; s < p.n; s++) {
        int first = train_plan_stage_start(&p, s);
        int last = p.stages[s].epochs ? first + p.stages[s].epochs - 1 : epochs;
        if (last > epochs) last = epochs;
        if (first > epochs) break;
        int x1 = 16 + (int)((double)last / epochs * width);
        int current = v->running && v->stage == s + 1;
        char label[128], what[64];
        const char *w = p.stages[s].what;
        if (strcmp(w, "head") == 0)
            snprintf(what, sizeof what, "%s", _("head only"));
        else if (strcmp(w, "all") == 0)
            snprintf(what, sizeof what, "%s", _("every layer"));
        else if (strncmp(w, "last", 4) == 0)
            snprintf(what, sizeof what,
                     ngettext("head + last %d block", "head + last %d blocks", strtoul(w + 4, NULL, 10)),
                     (int)strtol(w + 4, NULL, 10));
        else
            snprintf(what, sizeof what, "%.60s", w);
        int n = first == last ? snprintf(label, sizeof label, _("%s: epoch %d"), what, first)
                              : snprintf(label, sizeof label, _("%s: epochs %d-%d"), what, first, last);
        // (the stage comes before its epoch's first batch: until then the epoch is the stage's first)
        if (current && now > 0)
            snprintf(label + n, sizeof label - (size_t)n, _(" (now %d)"), now < first ? first : now);
        // the stage: its label, then a rule to where it ends, in its colour (the current one bold)
        attr_t at = style(s % 2 ? ROLE_VALID : ROLE_TRAIN) | (current ? A_BOLD : 0);
        attron(at);
        mvaddstr(row, x, style_unicode() ? "\u251c" : "|");
        int room = x1 - x - 1;
        if (room > 0) printw("%-*.*s", room, room, label);
        int filled = x + 1 + (int)strlen(label);
        for (int c = filled + 1; c < x1; c++) mvaddstr(row, c, style_unicode() ? "\u2500" : "-");
        attroff(at);
        x = x1;
    }
}

// What a frozen random backbone means for a run, and what helps.
#define NOTE_RANDOM                                                                                                \
    N_("note: the frozen layers are random: expect near-chance accuracy; ImageNet weights, thawing blocks (Model " \
       "screen) or a larger learning rate help")

// What the rate line's figure counts (images/s with the backbone, over the run) and, on cached
// features, the head's own rate apart: a rate no network reaches, so never the figure.
static void rate_text(const train_view *v, char *buf, size_t len) {
    const train_event *b = &v->last;
    if (!b->batches)
        snprintf(buf, len, "%s", "");
    else if (b->from_cache && !(b->backbone_images_per_s > 0))   // every phase from the cache on disk
        snprintf(buf, len,
                 _("(images/s: the backbone has not run in this run, its features came from the cache on disk; this "
                   "phase runs the head alone, %.0f images/s)"),
                 b->images_per_s);
    else if (b->from_cache)
        snprintf(buf, len,
                 _("(images/s: with the backbone, over the run; this phase runs the head alone on cached features, "
                   "%.0f images/s)"),
                 b->images_per_s);
    else
        snprintf(buf, len, "%s", _("(images/s: with the backbone, over the run, wall clock)"));
}

static void draw(app *a, void *state, int top, int rows, int cols) {
    train_view *v = state;
    const char *spec = v->running ? v->trainable : app_trainable(a);
    char plan[64];
    if (v->running)
        snprintf(plan, sizeof plan, "%s", v->plan_text);
    else
        train_form_plan(&v->f, plan, sizeof plan);
    // below the form: what trains, the note on random weights, the plan's timeline, 2 progress bars, 4
    // accuracy and loss bars, the rate line and what it counts. The texts are wrapped, not cut (their
    // advice is at their end), and the form scrolls when the window is short so that all of it stays
    char what[1200];
    if (plan[0])
        snprintf(what, sizeof what, "%s", v->stage ? a->run.stage_trainable : "the plan's stages say (below)");
    else if (spec[0])
        snprintf(what, sizeof what, _("%s  (from the Model screen)"), spec);
    else
        snprintf(what, sizeof what, "%s",
                 _("the new head only, the rest frozen (the tutorial's; change it on the Model screen)"));
    const char *note = !v->running && !v->f.weights && strcmp(spec, "all") != 0 ? _(NOTE_RANDOM) : NULL;
    char rate_note[256];
    rate_text(v, rate_note, sizeof rate_note);
    // (wrapped text stops short of the last column: a row that reaches it was cut)
    int text_w = cols - 2, what_w = cols - 17 > 10 ? cols - 17 : 10;
    int what_rows = paragraph_rows(what, what_w), note_rows = note ? paragraph_rows(note, text_w) : 0;
    if (what_rows > 3) what_rows = 3;   // a long list of module paths: its first lines
    int below = what_rows + note_rows + (plan[0] != '\0') + 2 + 4 + 1 + paragraph_rows(rate_note, text_w);
    int n_fields = train_form_count();
    int form_rows = rows - below < n_fields ? rows - below : n_fields;
    list_view_layout(&v->form, n_fields, top, 0, form_rows > 3 ? form_rows : 3, cols);
    int r = top;
    for (int f = v->form.top; f < v->form.top + v->form.rows && f < n_fields; f++, r++) {
        char value[300], name[64], line[400];
        train_form_text(&v->f, &a->run, f, value, sizeof value);
        snprintf(line, sizeof line, "%s %s", text_pad(name, sizeof name, train_form_name(f), 14), value);
        attr_t at = v->running ? style(ROLE_DIM) : f == v->form.sel ? style(ROLE_SELECTED) : A_NORMAL;
        attron(at);
        mvaddnstr(r, 0, line,
                  (int)text_fit(line, cols - 1, NULL));   // clipped: wrapped, it would spill onto the next field
        attroff(at);
    }
    char name[64];
    mvprintw(r, 0, "%s ", text_pad(name, sizeof name, _("trainable"), 14));
    r += paragraph_draw(r, 15, what_w, what_rows, what);
    // before a run: what a frozen random backbone means for it (the trainer says it again in the log)
    if (note) {
        attron(style(ROLE_WARNING));
        r += paragraph_draw(r, 0, text_w, note_rows, note);
        attroff(style(ROLE_WARNING));
    }
    if (plan[0]) draw_timeline(v, plan, r++, cols);
    const train_event *b = &v->last;
    int width = cols - 40 > 10 ? cols - 40 : 10;
    char label[64];
    if (v->fetch) {   // the weights first
        uint64_t done, total;
        fetch_job_poll(v->fetch, &done, &total);
        bar(r, 0, width, total ? (double)done / (double)total : 0, "download", ROLE_BAR);
        printw(" %.1f / %.1f MB", (double)done / 1e6, (double)total / 1e6);
        mvprintw(r + 1, 0, "%-14s %s", "", fetch_job_entry(v->fetch)->url);
        return;
    }
    snprintf(label, sizeof label, _("epoch %d/%d"), b->epoch, v->epochs_total);
    bar(r++, 0, width, v->epochs_total ? (double)(b->epoch - (b->batch < b->batches)) / v->epochs_total : 0, label,
        ROLE_BAR);
    snprintf(label, sizeof label, "%s %zu/%zu", b->phase == PHASE_TRAIN ? _("train") : _("valid"), b->batch,
             b->batches);
    bar(r++, 0, width, b->batches ? (double)b->batch / (double)b->batches : 0, label, ROLE_BAR);
    // a loss bar is full at twice the loss of a uniform guess, ln(classes)
    double loss_scale = 2 * log((double)(a->have_dataset && a->d.n_classes > 1 ? a->d.n_classes : 2));
    for (int p = 0; p < 2; p++) {
        const train_event *live = b->phase == p && b->batch ? b : &v->phase_end[p];
        double acc = live->running_acc, loss = live->running_loss;
        ui_role role = p ? ROLE_VALID : ROLE_TRAIN;
        snprintf(label, sizeof label, "%s", p ? _("valid acc") : _("train acc"));
        bar(r, 0, width, acc / 100.0, label, role);
        printw(" %6.2f%%", isfinite(acc) ? acc : 0.0);
        r++;
        snprintf(label, sizeof label, "%s", p ? _("valid loss") : _("train loss"));
        bar(r, 0, width, isfinite(loss) ? loss / loss_scale : 0, label, role);
        printw(" %.4f", isfinite(loss) ? loss : 0.0);
        r++;
    }
    int eta = (int)(b->eta_s + 0.5);
    int paused = v->running && v->tr && trainer_paused(v->tr);
    char figure[32] = "-";   // (no backbone pass yet: no figure)
    if (b->backbone_images_per_s > 0 || !b->batches) snprintf(figure, sizeof figure, "%.1f", b->backbone_images_per_s);
    mvprintw(r++, 0, _("%s images/s   ETA %d:%02d   device %s   "), figure, eta / 60, eta % 60,
             v->device_name[0] ? v->device_name : "-");
    if (b->batches) printw("lr %.3g   ", v->lr_now);
    attron(style(paused ? ROLE_WARNING : ROLE_TEXT));
    addstr(v->running ? (paused ? _("PAUSED") : _("running")) : _("idle"));
    attroff(style(paused ? ROLE_WARNING : ROLE_TEXT));
    attron(style(ROLE_DIM));
    r += paragraph_draw(r, 0, text_w, top + rows - r, rate_note);
    attroff(style(ROLE_DIM));
    // the charts when there is room for them and a log of 4 lines
    int left = top + rows - r;
    if (v->finder && !v->running && left >= 8 && cols >= 60) {   // the lr finder's curve, while and after it runs
        int h = left - 4 > 14 ? 14 : left - 4 > 6 ? left - 4 : 6;
        lr_finder_draw(v->finder, r, h, cols);
        r += h;
    } else if (left >= 9 + 4 && cols >= 60 && (v->running || v->n_epoch_rows > 0)) {
        int h = left - 4 > 10 ? 10 : left - 4 - 1;
        draw_charts(v, r, h, cols);
        r += h + 1;
    }
    // the log: its newest lines that fit, each wrapped over the rows it needs
    int avail = top + rows - r, first = LOG_LINES;
    for (int used = 0; first > 0; first--) {
        int need = paragraph_rows(v->log[first - 1], text_w);
        if (used + need > avail) break;
        used += need;
    }
    for (int i = first; i < LOG_LINES; i++) r += paragraph_draw(r, 0, text_w, top + rows - r, v->log[i]);
}

static void act(app *a, void *state, app_action action) {
    train_view *v = state;
    switch (action) {
    case ACT_UP:
    case ACT_DOWN:
    case ACT_HOME:
    case ACT_END:
    case ACT_MOUSE:
        if (!v->running) list_view_act(&v->form, action, a->mouse_y, a->mouse_x);
        break;
    case ACT_LEFT:
    case ACT_RIGHT:
        if (!v->running) {
            train_form_change(&v->f, &a->run, v->form.sel, action == ACT_RIGHT ? 1 : -1);
            publish(a, v);
        }
        break;
    case ACT_START:
        if (lr_finder_running(v->finder))
            app_status(a, "%s", _("the lr finder is running (s stops it)"));
        else if (v->export || v->export_ask)
            app_status(a, "%s", _("an export is being written (s stops it)"));
        else if (!v->running && !v->fetch)
            start_run(a, v);
        break;
    case ACT_LR_FIND:
        if (v->running || v->fetch || lr_finder_running(v->finder)) {
            app_status(a, "%s", _("the lr finder runs before a training run, not during one"));
        } else if (v->export || v->export_ask) {
            app_status(a, "%s", _("an export is being written (s stops it)"));
        } else {
            v->fetch_for_finder = 1;
            start_run(a, v);
            v->fetch_for_finder = v->fetch != NULL;   // a download first: the finder starts after it
        }
        break;
    case ACT_EXPORT:
        if (v->fetch || lr_finder_running(v->finder)) {
            app_status(a, "%s", _("export: wait for the download or the lr finder (s stops them)"));
        } else if (v->export || v->export_ask) {
            app_status(a, "%s", _("an export is being written (s stops it)"));
        } else if (!v->running) {   // what the form says now; a run's checkpoint: frost export CKPT --pytorch DIR
            if (!v->export_dir[0]) snprintf(v->export_dir, sizeof v->export_dir, "frost-export");
            if (!app_prompt(a, _("export the run as a PyTorch folder: "), v->export_dir, sizeof v->export_dir)) {
                app_status(a, "%s", _("export: cancelled"));
                break;
            }
            v->fetch_for_export = 1;
            start_run(a, v);
            v->fetch_for_export = v->fetch != NULL;   // a download first: the export follows it
        } else {
            app_status(
                a, "export writes the form's run before training; for a trained one: frost export CKPT --pytorch DIR");
        }
        break;
    case ACT_PAUSE:
        if (v->tr) {
            if (trainer_paused(v->tr))
                trainer_resume(v->tr);
            else
                trainer_pause(v->tr);
            app_status(a, "%s", trainer_paused(v->tr) ? "paused (p resumes)" : "running");
        }
        break;
    case ACT_STOP:
        if (v->fetch) {
            fetch_job_cancel(v->fetch);
            app_status(a, "%s", _("download cancelled (its .part is kept: it resumes next time)"));
        }
        if (v->tr) {
            trainer_cancel(v->tr);
            app_status(a, "%s", _("stopping at the end of this batch..."));
        }
        if (lr_finder_running(v->finder)) lr_finder_cancel(v->finder);
        if (v->export) {
            model_job_cancel(v->export);   // said when it has ended (poll)
            app_status(a, "%s", _("stopping the export..."));
        }
        break;
    default: break;
    }
}

// ---------------------------------------------------------------------------------------------
// a recorded run's settings (the Runs screen's Enter)

static void take_settings(app *a, train_view *v) {
    v->load_seen = a->load_seq;
    static run_settings s;   // large
    char err[256], missed[512] = "";
    if (!a->load_settings || run_settings_parse(&s, a->load_settings, err, sizeof err) != 0) {
        app_status(a, _("run %lld: %.200s"), a->load_run, a->load_settings ? err : _("no settings"));
        return;
    }
    train_form_take(&v->f, &a->run, &s.cfg, missed, sizeof missed);
    publish(a, v);
    if (missed[0])
        app_status(a, _("run %lld's settings in the form; it has no %.300s (the nearest is set)"), a->load_run, missed);
    else
        app_status(a, _("run %lld's settings in the form: Enter runs it again"), a->load_run);
}

static void enter(app *a, void *state) {
    train_view *v = state;
    if (a->load_seq != v->load_seen && !v->running) take_settings(a, v);
}

const screen screen_train = {
    .title = N_("3 Train"),
    .wheel_lines = 1,
    .enter = enter,
    .create = create,
    .poll = poll,
    .draw = draw,
    .act = act,
    .destroy = destroy,
};
