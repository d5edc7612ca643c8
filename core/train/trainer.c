// trainer.c — the training thread (see trainer.h for what a run does).
//
// Structure: trainer_main builds the model and the loaders, then runs epochs; run_phase runs one
// phase from the loader (decoding images) or, once the feature cache is filled, from the cache,
// replaying the loader's order for that epoch so batches are the same either way. Controls are
// atomics read at batch boundaries; pausing waits on a condition variable.
#define _GNU_SOURCE   // sysconf(_SC_PHYS_PAGES)
#include "trainer.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "checkpoint.h"
#include "class_weights.h"
#include "clock.h"
#include "errmsg.h"
#include "feature_store.h"
#include "job.h"
#include "loader.h"
#include "path.h"
#include "thread_split.h"
#include "train_recipe.h"
#include "transfer.h"

enum { RUN_DONE = 0, RUN_STOPPED = 1, RUN_FAILED = -1 };
enum { CACHED_FEATURES = 1, CACHED_BAD = 2 };

struct trainer {
    job base;   // first: run_job() casts back; base.cancel is the stop flag
    trainer_config cfg;
    dataset *d;
    event_queue *q;
    atomic_int paused;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int status;   // RUN_*, once done

    // the run (trainer thread only)
    ft_model *m;
    ft_optimizer *opt;
    pipeline_opts prep;
    loader *loaders[2];
    badfile_list bad;
    size_t bad_reported;
    int cache_on;
    int64_t feat;               // floats per cached sample
    float *cache[2];            // n_items x feat per split
    unsigned char *cached[2];   // per item: CACHED_FEATURES, CACHED_BAD (known from disk not to decode), or 0
    int cache_filled[2];
    // the feature cache on disk (feature_store.h): on when asked and its cap is not 0
    int disk_on;
    long long disk_cap;
    char *disk_dir, *disk_key, *disk_root;   // the folder, the model's key, the dataset's real path
    char *disk_path[2];                      // the entry of each split
    uint8_t *ids[2];                         // n_items x FEATURE_ID_LEN: each image's identity
    unsigned char *id_ok[2];
    float *gather;   // batch_size x feat, for replayed batches
    int64_t *gather_labels;
    size_t *order;
    // --profile: where the run's time went (trainer thread, seconds)
    double p_wait, p_features, p_forward, p_backward, p_optimizer, p_copy, p_events;
    size_t p_loaded;    // images that came through the loaders
    double p_measure;   // layer measurements
    // what training does to each module (layer_stats.h): the snapshot it is measured against, and the
    // reports (each allocated once, never moved: trainer_layers hands them out under mu)
    ft_snapshot *snap;
    layer_report **reports;
    size_t n_reports, cap_reports;
    size_t steps;
    int alarmed_frozen;
    double run_start, last_epoch_seconds;
    int epoch, start_epoch;
    // fine-tuning (train_recipe.h): the plan's stage now, the groups' learning rates before the
    // schedule, the schedule's step count
    train_recipe recipe;
    char *ckpt_recipe;   // the resumed checkpoint's recipe (JSON), until merged
    int stage;
    double base_lr[TRANSFER_MAX_BLOCKS + 1];
    size_t n_groups;
    long steps_per_epoch, total_steps;
    int epochs_given;    // the config named the epochs (0 there: the plan's, or 5)
    int course_epochs;   // the plan's epochs, when more than this run's: the schedule spans them
    double lr_now;
    float *class_w;
    lr_find_curve curve;   // the lr finder's points
    int find_stop;         // the finder has what it needs
    int turns;             // the loader decodes only while the trainer waits (thread_split.h)
    // the phases that ran the backbone (not from the feature cache) so far: images and seconds
    double backbone_images, backbone_seconds;
};

typedef struct {
    double loss_sum;
    int64_t correct, seen;
    double seconds;
} phase_stats;

// ---------------------------------------------------------------------------------------------

static void post(trainer *t, train_event *e) {
    e->epochs = t->cfg.epochs;
    events_post(t->q, e);
}

static void post_text(trainer *t, event_kind kind, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void post_text(trainer *t, event_kind kind, const char *fmt, ...) {
    train_event e = {.kind = kind, .epoch = t->epoch};
    va_list ap;
    va_start(ap, fmt);
    errmsg_vset(e.text, sizeof e.text, fmt, ap);   // paths in it escaped: every front end shows it safely
    va_end(ap);
    post(t, &e);
}

// Fails the run: an EV_ERROR with what would fix it. Returns RUN_FAILED.
static int fail(trainer *t, frost_fix fix, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(trainer *t, frost_fix fix, const char *fmt, ...) {
    train_event e = {.kind = EV_ERROR, .epoch = t->epoch, .fix = fix};
    va_list ap;
    va_start(ap, fmt);
    errmsg_vset(e.text, sizeof e.text, fmt, ap);
    va_end(ap);
    post(t, &e);
    return RUN_FAILED;
}

// Fails the run with a shim status (freed here); memory running out is fixed by smaller batches.
static int fail_status(trainer *t, const char *what, ft_status *s) {
    fail(t, ft_status_code(s) == FT_ENOMEM ? FIX_SMALLER_BATCH : FIX_NONE, "%s: %s", what, ft_status_message(s));
    ft_status_free(s);
    return RUN_FAILED;
}

static void post_skipped(void *user, const char *path, const char *reason) {
    post_text(user, EV_SKIPPED, "%s: %s", path, reason);
}

// Each file skipped since the last call, as an EV_SKIPPED event.
static void report_skipped(trainer *t) { t->bad_reported = badfiles_each(&t->bad, t->bad_reported, post_skipped, t); }

// At a batch boundary: 1 when the run must stop. Waits here while paused.
static int should_stop(trainer *t) {
    if (atomic_load(&t->paused)) {
        pthread_mutex_lock(&t->mu);
        while (atomic_load(&t->paused) && !job_cancelled(&t->base)) pthread_cond_wait(&t->cv, &t->mu);
        pthread_mutex_unlock(&t->mu);
    }
    return job_cancelled(&t->base) || t->find_stop;
}

// ---------------------------------------------------------------------------------------------
// one phase

// Each phase's loader shuffles with a seed of its own.
static uint64_t phase_seed(const trainer_config *c, int phase) { return c->seed + (uint64_t)phase; }

void trainer_epoch_order(const trainer_config *c, int phase, int epoch, size_t *order, size_t n) {
    loader_epoch_order(phase_seed(c, phase), epoch - 1, 1, order, n);
}

int trainer_default_threads(const char *device) {
    int gpu = strcmp(device, "cpu") != 0 && ft_cuda_available();
    return gpu ? 1 : loader_default_workers();
}

void trainer_settings(const trainer_config *c, int course_epochs, train_settings *s) {
    train_settings_default(s);
    snprintf(s->optimizer, sizeof s->optimizer, "%s", c->opt.kind == FT_OPT_SGD ? "sgd" : "adam");
    s->lr = c->opt.lr;
    s->momentum = c->opt.momentum;
    s->weight_decay = c->opt.weight_decay;
    s->beta1 = c->opt.beta1;
    s->beta2 = c->opt.beta2;
    s->eps = c->opt.eps;
    s->batch = c->batch_size;
    s->seed = c->seed;
    s->bn_eval = c->bn_eval;
    s->epochs = course_epochs > c->epochs ? course_epochs : c->epochs;
}

uint64_t trainer_epoch_seed(const trainer_config *c, int epoch) {
    return (c->seed * 1000003u + (uint64_t)epoch) & 0x7fffffffffffffffULL;
}

static double eta(trainer *t, int phase, size_t done, size_t total, double phase_elapsed) {
    double rest_of_phase = done ? phase_elapsed / (double)done * (double)(total - done) : 0;
    int epochs_left = t->cfg.epochs - t->epoch;
    double per_epoch = t->last_epoch_seconds;
    if (per_epoch <= 0 && done) {   // first epoch: guess from this phase's pace
        size_t n_all = t->d->train.n_items + t->d->valid.n_items;
        per_epoch = phase_elapsed / (double)done * (double)n_all;
    }
    double rest_of_epoch = rest_of_phase;
    if (phase == PHASE_TRAIN && t->d->valid.n_items && done)
        rest_of_epoch += phase_elapsed / (double)done * (double)t->d->valid.n_items;
    return rest_of_epoch + per_epoch * epochs_left;
}

// Before training step b (0-based) of the epoch: each group's lr (and momentum) where the schedule
// has it. A constant schedule leaves the optimizer as it is.
static ft_status *schedule_step(trainer *t, size_t b) {
    if (t->cfg.lr_find) {   // the sweep's next lr, each group keeping its ratio to the run's lr
        double f = lr_find_lr(&t->cfg.find, (int)t->curve.n) / t->cfg.opt.lr;
        t->lr_now = t->cfg.opt.lr * f;
        ft_status *s = NULL;
        for (size_t g = 0; !s && g < t->n_groups; g++) s = ft_optimizer_group_set(t->opt, g, t->base_lr[g] * f, -1);
        return s;
    }
    const lr_schedule *sc = &t->recipe.schedule;
    long k = (long)(t->epoch - 1) * t->steps_per_epoch + (long)b;
    double f = lr_schedule_factor(sc, k, t->total_steps);
    t->lr_now = t->cfg.opt.lr * f;
    if (sc->kind == LR_CONSTANT) return NULL;
    double fixed = t->cfg.opt.kind == FT_OPT_SGD ? t->cfg.opt.momentum : t->cfg.opt.beta1;
    double mom = lr_schedule_momentum(sc, k, t->total_steps, fixed);
    ft_status *s = NULL;
    for (size_t g = 0; !s && g < t->n_groups; g++) s = ft_optimizer_group_set(t->opt, g, t->base_lr[g] * f, mom);
    return s;
}

// A step on x (images, or cached features when features is 1); b: the batch's index in the phase.
static ft_status *step(trainer *t, int phase, int features, const float *x, const int64_t *labels, int n, size_t b,
                       ft_step_result *r) {
    const int64_t S = t->prep.tf.size;
    ft_status *s;
    if (phase == PHASE_TRAIN && (s = schedule_step(t, b))) return s;
    if (features)
        s = phase == PHASE_TRAIN ? ft_head_train_step(t->m, t->opt, x, labels, n, r)
                                 : ft_head_eval_step(t->m, x, labels, n, r);
    else
        s = phase == PHASE_TRAIN ? ft_train_step(t->m, t->opt, x, labels, n, 3, S, S, r)
                                 : ft_eval_step(t->m, x, labels, n, 3, S, S, r);
    if (!s) {
        t->p_forward += r->forward_s;
        t->p_backward += r->backward_s;
        t->p_optimizer += r->optimizer_s;
    }
    return s;
}

static void batch_event(trainer *t, int phase, size_t batch, size_t batches, const ft_step_result *r,
                        const phase_stats *st, double start, int from_cache) {
    double t0 = clock_seconds(), elapsed = t0 - start;
    train_event e = {.kind = EV_BATCH,
                     .epoch = t->epoch,
                     .phase = phase,
                     .batch = batch,
                     .batches = batches,
                     .from_cache = from_cache};
    if (phase == PHASE_TRAIN) e.lr = t->lr_now, e.lr_moves = t->recipe.schedule.kind != LR_CONSTANT;
    e.loss = r->loss;
    e.running_loss = st->loss_sum / (double)st->seen;
    e.running_acc = 100.0 * (double)st->correct / (double)st->seen;
    e.images_per_s = elapsed > 0 ? (double)st->seen / elapsed : 0;
    // the rate a user can compare with another run or program: with the backbone, over the run (a
    // phase on cached features runs the head alone, orders of magnitude faster)
    double images = t->backbone_images + (from_cache ? 0 : (double)st->seen);
    double seconds = t->backbone_seconds + (from_cache ? 0 : elapsed);
    e.backbone_images_per_s = seconds > 0 ? images / seconds : 0;
    e.eta_s = eta(t, phase, batch, batches, elapsed);
    post(t, &e);
    t->p_events += clock_seconds() - t0;
}

// ---------------------------------------------------------------------------------------------
// what training does to each module

// The snapshot the run's layer reports are measured against: the model as the run starts.
static void take_snapshot(trainer *t) {
    if (t->cfg.measure_every <= 0) return;
    ft_status *s = ft_snapshot_take(t->m, &t->snap);
    if (s) {
        post_text(t, EV_INFO, "layer measurements off: %s", ft_status_message(s));
        ft_status_free(s);
        t->snap = NULL;
    }
}

// The alarms a report raises (each said once a run).
static void alarms(trainer *t, const layer_report *r, int phase_end) {
    char names[512];
    size_t n;
    if (!t->alarmed_frozen && (n = layer_report_frozen_moving(r, names, sizeof names)) > 0) {
        t->alarmed_frozen = 1;
        train_event e = {.kind = EV_ALARM, .epoch = t->epoch, .fix = FIX_BN_FIXED};
        errmsg_set(e.text, sizeof e.text,
                   "frozen but changing: %zu BatchNorm layer%s (%s) %s running statistics in train mode, although "
                   "no parameter of %s trains",
                   n, n == 1 ? "" : "s", names, n == 1 ? "updates its" : "update their", n == 1 ? "it" : "theirs");
        post(t, &e);
    }
    if (phase_end && t->epoch == t->start_epoch + 1 && (n = layer_report_not_learning(r, names, sizeof names)) > 0) {
        double largest = 0;
        for (size_t i = 0; i < r->n; i++)
            if (r->rows[i].params > 0 && r->rows[i].trainable == r->rows[i].params && isfinite(r->rows[i].change) &&
                r->rows[i].change < LAYER_LEARNING_MIN && r->rows[i].change > largest)
                largest = r->rows[i].change;
        train_event e = {.kind = EV_ALARM, .epoch = t->epoch, .fix = FIX_HIGHER_LR};
        errmsg_set(e.text, sizeof e.text,
                   "trainable but not learning: %s moved %.2g%% of %s size in the first epoch (under %g%%)", names,
                   100.0 * largest, n == 1 ? "its" : "their", 100.0 * LAYER_LEARNING_MIN);
        post(t, &e);
    }
}

// Measures what training has done to each module so far, keeps the report and posts EV_LAYERS.
static void measure(trainer *t, int phase_end) {
    if (!t->snap) return;
    double t0 = clock_seconds();
    layer_report *r = calloc(1, sizeof *r);
    char err[512] = "out of memory";
    if (!r || layer_report_measure(t->m, t->snap, t->epoch, t->steps, r, err, sizeof err) != 0) {
        free(r);
        post_text(t, EV_INFO, "layer measurements stopped: %s", err);
        ft_snapshot_free(t->snap);
        t->snap = NULL;
        return;
    }
    pthread_mutex_lock(&t->mu);
    int kept = 0;
    if (t->n_reports == t->cap_reports) {
        size_t cap = t->cap_reports ? 2 * t->cap_reports : 16;
        layer_report **grown = realloc(t->reports, cap * sizeof *grown);
        if (grown) t->reports = grown, t->cap_reports = cap;
    }
    size_t k = t->n_reports;
    if (t->n_reports < t->cap_reports) t->reports[t->n_reports++] = r, kept = 1;
    pthread_mutex_unlock(&t->mu);
    if (!kept) {
        layer_report_free(r);
        free(r);
        return;
    }
    train_event e = {.kind = EV_LAYERS, .epoch = t->epoch, .batch = k};
    post(t, &e);
    alarms(t, r, phase_end);
    t->p_measure += clock_seconds() - t0;
}

// After a training batch: the lr finder's point, or a measurement when one is due.
static void after_step(trainer *t, size_t batch, const ft_step_result *r) {
    t->steps++;
    if (t->cfg.lr_find) {
        int go = lr_find_curve_add(&t->curve, t->lr_now, r->loss);
        if (go != 1) t->find_stop = 1;
        if (go < 0) return;
        train_event e = {.kind = EV_LR_POINT, .epoch = t->epoch, .batch = t->steps, .lr = t->lr_now, .loss = r->loss};
        e.running_loss = t->curve.n ? t->curve.smooth[t->curve.n - 1] : NAN;
        post(t, &e);
        return;
    }
    if (t->snap && batch % (size_t)t->cfg.measure_every == 0) measure(t, 0);
}

// At the end of a train phase: a measurement of where it ended (unless its last batch was just
// measured), with the alarms that wait for a whole epoch.
static void after_train_phase(trainer *t) {
    if (!t->snap) return;
    const layer_report *last = t->n_reports ? t->reports[t->n_reports - 1] : NULL;
    if (last && last->step == t->steps && last->epoch == t->epoch)
        alarms(t, last, 1);
    else
        measure(t, 1);
}

// A new run from random weights with part of the network frozen: what to expect, said before it starts.
// The frozen part computes random features that training never changes, so the head learns little
// from them (the tutorial's settings on sample_data end near chance: every image in one class).
static void random_backbone_note(trainer *t) {
    const ft_node *nodes = NULL;
    size_t n = 0;
    ft_status *s = ft_model_nodes(t->m, &nodes, &n);
    if (s) {
        ft_status_free(s);
        return;
    }
    if (n == 0 || nodes[0].trainable >= nodes[0].params) return;
    post_text(t, EV_INFO,
              "note: %.4g%% of the network is frozen at random weights: expect accuracy near chance. ImageNet weights, "
              "more trainable blocks or a larger learning rate change that",
              100.0 * (double)(nodes[0].params - nodes[0].trainable) / (double)nodes[0].params);
}

// ---------------------------------------------------------------------------------------------
// the feature cache on disk (feature_store.h): read at decide_cache, written when a phase filled it

static const char *split_name(int phase) { return phase == PHASE_TRAIN ? "train" : "valid"; }

static const dataset_split *split_of(trainer *t, int phase) {
    return phase == PHASE_TRAIN ? &t->d->train : &t->d->valid;
}

static double mbytes(long long b) { return (double)b / 1e6; }

static void disk_free(trainer *t) {
    for (int p = 0; p < 2; p++) {
        free(t->disk_path[p]);
        free(t->ids[p]);
        free(t->id_ok[p]);
        t->disk_path[p] = NULL;
        t->ids[p] = NULL;
        t->id_ok[p] = NULL;
    }
    free(t->disk_dir);
    free(t->disk_key);
    free(t->disk_root);
    t->disk_dir = t->disk_key = t->disk_root = NULL;
    t->disk_on = 0;
}

// What identifies an image apart from its label: its path inside its class folder (a relabelled image,
// moved to another class, keeps its features).
static const char *identity_name(trainer *t, const dataset_split *split, const dataset_item *it) {
    const char *base = split->dir ? split->dir : t->d->root;
    char *cdir = path_join(base, t->d->classes[it->label]);
    const char *name = it->path;
    size_t n = cdir ? strlen(cdir) : 0;
    if (cdir && strncmp(it->path, cdir, n) == 0 && it->path[n] == '/') name = it->path + n + 1;
    free(cdir);
    return name;
}

// The model's key, each split's entry and each image's identity. Off (said why) when it cannot be had.
static void disk_setup(trainer *t) {
    char from[4200], err[1024] = "";
    t->disk_cap = feature_store_cap(from, sizeof from, err, sizeof err);
    if (err[0]) post_text(t, EV_INFO, "feature cache: %s", err);
    if (t->disk_cap <= 0) return;   // turned off: memory only, as asked
    char dir[4096], weights[128], key[2048];
    const char *wpath = t->cfg.resume ? t->cfg.resume : t->cfg.weights;
    const char *dev = ft_model_device(t->m);
    feature_model fm = {.arch = t->cfg.arch,
                        .weights = weights,
                        .device = strncmp(dev, "cuda", 4) == 0 ? "cuda" : dev,
                        .tf = &t->prep.tf,
                        .dec = &t->prep.dec,
                        .bn_eval = t->cfg.bn_eval,
                        .precision = t->cfg.precision,
                        .feat = t->feat};
    if (feature_store_dir(dir, sizeof dir, err, sizeof err) != 0 ||
        feature_weights_digest(wpath, t->cfg.seed, t->d->n_classes, weights, sizeof weights, err, sizeof err) != 0 ||
        (feature_model_key(&fm, key, sizeof key) != 0 && (errmsg_set(err, sizeof err, "its key is too long"), 1))) {
        post_text(t, EV_INFO, "feature cache: memory only: %s", err);
        return;
    }
    t->disk_dir = strdup(dir);
    t->disk_key = strdup(key);
    // the dataset by its real path: "data", "./data/" and "/home/me/data" are one dataset
    t->disk_root = realpath(t->d->root, NULL);
    if (!t->disk_root) t->disk_root = strdup(t->d->root);
    for (int p = 0; p < 2 && t->disk_dir && t->disk_key && t->disk_root; p++) {
        const dataset_split *split = split_of(t, p);
        size_t n = split->n_items ? split->n_items : 1;
        char path[4600];
        if (feature_entry_path(dir, key, t->cfg.arch, t->disk_root, split_name(p), path, sizeof path) != 0) break;
        t->disk_path[p] = strdup(path);
        t->ids[p] = malloc(n * FEATURE_ID_LEN);
        t->id_ok[p] = calloc(n, 1);
        if (!t->disk_path[p] || !t->ids[p] || !t->id_ok[p]) break;
        for (size_t i = 0; i < split->n_items; i++)
            t->id_ok[p][i] = feature_file_id(split->items[i].path, identity_name(t, split, &split->items[i]),
                                             t->ids[p] + i * FEATURE_ID_LEN) == 0;
    }
    t->disk_on = 1;
    for (int p = 0; p < 2; p++) t->disk_on &= t->disk_path[p] && t->ids[p] && t->id_ok[p];
    if (!t->disk_on) {
        disk_free(t);
        post_text(t, EV_INFO, "feature cache: memory only: out of memory");
    }
}

// The split's rows from its entry into the memory cache. When every image is there (features, or known
// not to decode), the phase runs from the cache from the first epoch on.
static void disk_load(trainer *t, int phase) {
    const dataset_split *split = split_of(t, phase);
    if (!t->disk_on || split->n_items == 0) return;
    feature_entry *e = NULL;
    char err[1024];
    feature_entry_info info = {.key = t->disk_key, .root = t->disk_root, .split = split_name(phase), .feat = t->feat};
    int rc = feature_entry_open(t->disk_path[phase], &info, &e, err, sizeof err);
    if (rc < 0)
        post_text(t, EV_INFO, "feature cache: the %s entry %s is %s: computing it again", split_name(phase),
                  t->disk_path[phase], err);
    if (rc <= 0) return;
    size_t served = 0, bad = 0, width = (size_t)t->feat;
    for (size_t i = 0; i < split->n_items; i++) {
        const float *row = NULL;
        const char *reason = NULL;
        int found = t->id_ok[phase][i] ? feature_entry_find(e, t->ids[phase] + i * FEATURE_ID_LEN, &row, &reason) : 0;
        if (found == 1) {
            memcpy(t->cache[phase] + i * width, row, width * sizeof(float));
            t->cached[phase][i] = CACHED_FEATURES;
            served++;
        } else if (found == 2) {
            t->cached[phase][i] = CACHED_BAD;
            badfiles_add(&t->bad, split->items[i].path, reason);
            bad++;
        }
    }
    feature_entry_close(e);
    char known_bad[64] = "";
    if (bad) snprintf(known_bad, sizeof known_bad, " and %zu known not to decode", bad);
    if (served + bad == split->n_items) {
        t->cache_filled[phase] = 1;
        post_text(t, EV_INFO, "feature cache: %zu of %zu %s images from disk%s (%s)", served, split->n_items,
                  split_name(phase), known_bad, t->disk_path[phase]);
        report_skipped(t);
    } else {
        post_text(t, EV_INFO, "feature cache: %zu of %zu %s images from disk%s; the backbone computes the other %zu",
                  served, split->n_items, split_name(phase), known_bad, split->n_items - served - bad);
    }
}

// The reason a file of the split was skipped, from the run's list, or NULL.
static char *bad_reason(trainer *t, const char *path) {
    char p[4096], r[1024];
    for (size_t k = 0; badfiles_get(&t->bad, k, p, sizeof p, r, sizeof r) == 0; k++)
        if (strcmp(p, path) == 0) return strdup(r);
    return NULL;
}

// After a phase filled the memory cache from images: its rows into the split's entry (replacing what
// was there), then the oldest entries evicted down to the cap. A failure is said, never fatal.
static void disk_save(trainer *t, int phase) {
    const dataset_split *split = split_of(t, phase);
    if (!t->disk_on || split->n_items == 0) return;
    size_t n = 0, good = 0, width = (size_t)t->feat;
    feature_row *rows = calloc(split->n_items, sizeof *rows);
    char **reasons = calloc(split->n_items, sizeof *reasons);
    if (!rows || !reasons) {
        free(rows);
        free(reasons);
        post_text(t, EV_INFO, "feature cache: not written to disk: out of memory");
        return;
    }
    for (size_t i = 0; i < split->n_items; i++) {
        if (!t->id_ok[phase][i]) continue;
        feature_row *r = &rows[n];
        r->id = t->ids[phase] + i * FEATURE_ID_LEN;
        if (t->cached[phase][i] == CACHED_FEATURES) {
            r->row = t->cache[phase] + i * width;
            good++;
        } else if ((reasons[i] = bad_reason(t, split->items[i].path)) != NULL) {
            r->reason = reasons[i];
        } else {
            continue;   // neither loaded nor skipped: not known, not written
        }
        n++;
    }
    long long need = (long long)(good * width * sizeof(float)), free_bytes = feature_store_free_bytes(t->disk_dir);
    char err[1024];
    long long bytes = 0;
    if (need > t->disk_cap) {
        post_text(t, EV_INFO, "feature cache: not written to disk: the %s split's %.1f MB exceed the cap of %.0f MB",
                  split_name(phase), mbytes(need), mbytes(t->disk_cap));
    } else if (free_bytes >= 0 && need > free_bytes / 2) {
        post_text(t, EV_INFO, "feature cache: not written to disk: %.1f MB would take over half of the %.1f MB free",
                  mbytes(need), mbytes(free_bytes));
    } else {
        feature_entry_info info = {
            .key = t->disk_key, .root = t->disk_root, .split = split_name(phase), .feat = t->feat};
        if (feature_entry_write(t->disk_path[phase], &info, rows, n, &bytes, err, sizeof err) != 0) {
            post_text(t, EV_INFO, "feature cache: not written to disk: %s", err);
        } else {
            post_text(t, EV_INFO, "feature cache: wrote %.1f MB for %zu %s images (%s)", mbytes(bytes), n,
                      split_name(phase), t->disk_path[phase]);
            long long freed = 0;
            size_t removed = 0;
            if (feature_store_evict(t->disk_dir, t->disk_cap, &freed, &removed, err, sizeof err) != 0)
                post_text(t, EV_INFO, "feature cache: %s", err);
            else if (removed)
                post_text(t, EV_INFO,
                          "feature cache: %zu least recently used entr%s removed (%.1f MB) to stay under %.0f MB",
                          removed, removed == 1 ? "y" : "ies", mbytes(freed), mbytes(t->disk_cap));
        }
    }
    for (size_t i = 0; i < split->n_items; i++) free(reasons[i]);
    free(reasons);
    free(rows);
}

static int run_phase(trainer *t, int phase, phase_stats *st) {
    const dataset_split *split = phase == PHASE_TRAIN ? &t->d->train : &t->d->valid;
    const int B = t->cfg.batch_size;
    memset(st, 0, sizeof *st);
    ft_model_set_mode(t->m, phase == PHASE_TRAIN, t->cfg.bn_eval);
    // the epoch's random draws (dropout masks) start from a seed of its own: the same whether the run
    // was resumed here or not, and the same for any script that seeds torch with it (--json says it)
    if (phase == PHASE_TRAIN) ft_manual_seed(trainer_epoch_seed(&t->cfg, t->epoch));
    int from_cache = t->cache_on && t->cache_filled[phase];
    size_t n_good = split->n_items;
    if (from_cache) {
        trainer_epoch_order(&t->cfg, phase, t->epoch, t->order, split->n_items);
        n_good = 0;
        for (size_t i = 0; i < split->n_items; i++)
            if (t->cached[phase][t->order[i]] == CACHED_FEATURES) t->order[n_good++] = t->order[i];
    }
    size_t batches = (n_good + (size_t)B - 1) / (size_t)B;
    train_event e = {.kind = EV_PHASE_START, .epoch = t->epoch, .phase = phase, .batches = batches};
    post(t, &e);
    double start = clock_seconds();
    char err[1024];
    ft_step_result r;
    int status = RUN_DONE;

    if (from_cache) {
        for (size_t b = 0; b < batches && status == RUN_DONE; b++) {
            if (should_stop(t)) {
                status = RUN_STOPPED;
                break;
            }
            int n = (int)((b + 1) * (size_t)B <= n_good ? (size_t)B : n_good - b * (size_t)B);
            double c0 = clock_seconds();
            for (int k = 0; k < n; k++) {
                size_t item = t->order[b * (size_t)B + (size_t)k];
                memcpy(t->gather + (size_t)k * (size_t)t->feat, t->cache[phase] + item * (size_t)t->feat,
                       (size_t)t->feat * sizeof(float));
                t->gather_labels[k] = split->items[item].label;
            }
            t->p_copy += clock_seconds() - c0;
            ft_status *s = step(t, phase, 1, t->gather, t->gather_labels, n, b, &r);
            if (s) return fail_status(t, phase == PHASE_TRAIN ? "training step" : "validation step", s);
            st->loss_sum += r.loss * (double)r.n;
            st->correct += r.correct;
            st->seen += r.n;
            batch_event(t, phase, b + 1, batches, &r, st, start, 1);
            if (phase == PHASE_TRAIN) after_step(t, b + 1, &r);
        }
    } else {
        loader *l = t->loaders[phase];
        if (loader_start_epoch(l, t->epoch - 1, err, sizeof err) != 0) return fail(t, FIX_NONE, "%s", err);
        loader_batch *lb;
        int got;
        size_t b = 0;
        double w0 = clock_seconds();
        while ((got = loader_next(l, &lb, err, sizeof err)) == 1) {
            t->p_wait += clock_seconds() - w0;
            t->p_loaded += (size_t)lb->n;
            ft_status *s = NULL;
            if (t->cache_on) {
                // compute the backbone once, keep it, and run the head on it: the same numbers as a
                // whole forward pass, since nothing before the head is trainable or random
                // (a batch whose every image came from the disk cache needs no backbone at all)
                float *dst = t->gather;
                const int64_t S = t->prep.tf.size;
                const size_t width = (size_t)t->feat;
                int known = 1;
                for (int k = 0; k < lb->n && known; k++) known = t->cached[phase][lb->items[k]] == CACHED_FEATURES;
                double f0 = clock_seconds();
                if (known) {
                    for (int k = 0; k < lb->n; k++)
                        memcpy(dst + (size_t)k * width, t->cache[phase] + lb->items[k] * width, width * sizeof(float));
                } else {
                    s = ft_model_features(t->m, lb->data, lb->n, 3, S, S, dst, (size_t)B * width);
                }
                double f1 = clock_seconds();
                t->p_features += known ? 0 : f1 - f0;
                for (int k = 0; !s && !known && k < lb->n; k++) {
                    memcpy(t->cache[phase] + lb->items[k] * width, dst + (size_t)k * width, width * sizeof(float));
                    t->cached[phase][lb->items[k]] = CACHED_FEATURES;
                }
                t->p_copy += clock_seconds() - (known ? f0 : f1);
                if (!s) s = step(t, phase, 1, dst, lb->labels, lb->n, b, &r);
            } else {
                s = step(t, phase, 0, lb->data, lb->labels, lb->n, b, &r);
            }
            loader_release(l, lb);
            if (s) {
                loader_stop(l);
                return fail_status(t, phase == PHASE_TRAIN ? "training step" : "validation step", s);
            }
            st->loss_sum += r.loss * (double)r.n;
            st->correct += r.correct;
            st->seen += r.n;
            batch_event(t, phase, ++b, batches, &r, st, start, 0);
            if (phase == PHASE_TRAIN) after_step(t, b, &r);
            report_skipped(t);
            if (should_stop(t)) {
                status = RUN_STOPPED;
                break;
            }
            w0 = clock_seconds();
        }
        loader_stop(l);
        report_skipped(t);
        if (got < 0 && status == RUN_DONE) return fail(t, FIX_NONE, "%s", err);
        if (status == RUN_DONE && t->cache_on) {
            t->cache_filled[phase] = 1;
            disk_save(t, phase);
        }
    }
    st->seconds = clock_seconds() - start;
    if (!from_cache) t->backbone_images += (double)st->seen, t->backbone_seconds += st->seconds;
    if (status == RUN_DONE && phase == PHASE_TRAIN) after_train_phase(t);
    if (status == RUN_DONE) {
        train_event end = {.kind = EV_PHASE_END, .epoch = t->epoch, .phase = phase, .batches = batches};
        end.running_loss = st->seen ? st->loss_sum / (double)st->seen : NAN;
        end.running_acc = st->seen ? 100.0 * (double)st->correct / (double)st->seen : NAN;
        end.seconds = st->seconds;
        if (phase == PHASE_TRAIN) end.lr = t->lr_now, end.lr_moves = t->recipe.schedule.kind != LR_CONSTANT;
        post(t, &end);
    }
    return status;
}

// ---------------------------------------------------------------------------------------------
// setting up

// 1 when the model has a BatchNorm layer.
static int model_has_batchnorm(ft_model *m) {
    const ft_node *nodes;
    size_t n;
    ft_status *s = ft_model_nodes(m, &nodes, &n);
    int found = !s && transfer_has_batchnorm(nodes, n);
    ft_status_free(s);
    return found;
}

// 1 when the feature cache gives the same numbers as running the backbone: nothing before the head
// trains, and no BatchNorm there uses batch statistics.
static int cache_exact(trainer *t) {
    return ft_model_backbone_frozen(t->m) && (t->cfg.bn_eval || !model_has_batchnorm(t->m));
}

// Frees the feature cache; the run goes on without it.
static void drop_cache(trainer *t) {
    for (int k = 0; k < 2; k++) {
        free(t->cache[k]);
        free(t->cached[k]);
        t->cache[k] = NULL;
        t->cached[k] = NULL;
        t->cache_filled[k] = 0;
    }
    t->cache_on = 0;
}

// ---------------------------------------------------------------------------------------------
// fine-tuning: the plan's stages, parameter groups, the schedule, class weights

// Marks in trains[] (per transfer_blocks entry) the blocks with a trainable parameter now.
static int mark_trained_blocks(trainer *t, unsigned char *trains) {
    const ft_node *nodes;
    size_t n;
    ft_status *s = ft_model_nodes(t->m, &nodes, &n);
    if (s) return fail_status(t, "model", s);
    transfer_block blocks[TRANSFER_MAX_BLOCKS];
    size_t nb = transfer_blocks(nodes, n, blocks);
    for (size_t k = 0; k < nb; k++) trains[k] |= blocks[k].trainable > 0;
    return RUN_DONE;
}

// Applies stage s of the plan to the model. Its trainable list goes into list.
static int apply_stage(trainer *t, int s, char *list, size_t len) {
    char err[1024];
    if (train_plan_trainable(&t->recipe.plan, s, t->m, list, len, err, sizeof err) != 0 ||
        transfer_apply_trainable(t->m, list, err, sizeof err) != 0)
        return fail(t, FIX_TRAINABLE, "plan stage %d (%s): %s", s + 1, t->recipe.plan.stages[s].what, err);
    return RUN_DONE;
}

// The plan: the run's epochs, the blocks any stage trains (trains[]: each gets a parameter group from
// the start, so thawing needs no new optimizer), and the stage of the run's first epoch applied.
static int plan_setup(trainer *t, unsigned char *trains) {
    const train_plan *p = &t->recipe.plan;
    int named = train_plan_epochs(p);
    // the plan is the whole course; --epochs says how far this run goes (by default, to its end)
    if (!t->epochs_given && !train_plan_open_ended(p)) t->cfg.epochs = named;
    if (train_plan_open_ended(p) && named >= t->cfg.epochs)
        return fail(t, FIX_NONE, "the plan's stages before its last take %d epochs: the run has %d, none left for '%s'",
                    named, t->cfg.epochs, p->stages[p->n - 1].what);
    t->course_epochs = named > t->cfg.epochs ? named : t->cfg.epochs;
    char list[4096];
    for (int s = 0; s < p->n; s++)
        if (apply_stage(t, s, list, sizeof list) != RUN_DONE || mark_trained_blocks(t, trains) != RUN_DONE)
            return RUN_FAILED;
    t->stage = train_plan_stage_at(p, t->start_epoch + 1);
    if (apply_stage(t, t->stage, list, sizeof list) != RUN_DONE) return RUN_FAILED;
    char text[600];
    train_plan_format(p, text, sizeof text);
    post_text(t, EV_INFO, "plan: %s (%d stages, %d epochs%s)%s", text, p->n, t->course_epochs,
              t->course_epochs > t->cfg.epochs ? "; this run stops earlier" : "",
              t->start_epoch > 0 ? "; resumed in the stage its epoch belongs to" : "");
    t->stage = -1 - t->stage;   // not announced yet: enter_stage announces it
    return RUN_DONE;
}

// At the start of an epoch: the plan's stage for it. A new stage thaws (or freezes) its modules and
// is announced (EV_STAGE); the feature cache goes when the backbone no longer stays fixed.
static int enter_stage(trainer *t) {
    if (!t->recipe.has_plan) return RUN_DONE;
    const train_plan *p = &t->recipe.plan;
    int s = train_plan_stage_at(p, t->epoch), announced = t->stage >= 0;
    if (announced && s == t->stage) return RUN_DONE;
    train_event e = {.kind = EV_STAGE, .epoch = t->epoch, .stage = s + 1, .stages = p->n};
    if (announced || -1 - t->stage != s) {
        if (apply_stage(t, s, e.text, sizeof e.text) != RUN_DONE) return RUN_FAILED;
    } else {
        char err[1024];
        if (train_plan_trainable(p, s, t->m, e.text, sizeof e.text, err, sizeof err) != 0)
            return fail(t, FIX_TRAINABLE, "%s", err);
    }
    t->stage = s;
    post(t, &e);
    if (t->cache_on && !cache_exact(t)) {
        drop_cache(t);
        post_text(t, EV_INFO, "feature cache dropped: from epoch %d the backbone trains, its output changes", t->epoch);
    }
    return RUN_DONE;
}

// The class weights of the loss, from the recipe and the training split's counts.
static int class_weights_setup(trainer *t) {
    char err[1024];
    free(t->class_w);
    t->class_w = malloc((t->d->n_classes ? t->d->n_classes : 1) * sizeof *t->class_w);
    if (!t->class_w) return fail(t, FIX_NONE, "out of memory");
    int rc = class_weights_resolve(t->recipe.class_weights_text, t->d->train.class_counts, t->d->n_classes, t->class_w,
                                   err, sizeof err);
    if (rc < 0) return fail(t, FIX_NONE, "%s", err);
    if (rc == 0) return RUN_DONE;
    ft_status *s = ft_model_set_class_weights(t->m, t->class_w, (int64_t)t->d->n_classes);
    if (s) return fail_status(t, "class weights", s);
    char text[900];
    class_weights_describe(t->class_w, (const char *const *)t->d->classes, t->d->n_classes, text, sizeof text);
    post_text(t, EV_INFO, "class weights in the loss: %s", text);
    return RUN_DONE;
}

// The optimizer: one group (the tutorial's), or a group per block that trains in any stage, each
// with its lr; then the schedule's step counts.
static int make_optimizer(trainer *t, unsigned char *trains) {
    ft_status *s;
    char err[1024];
    if (!train_recipe_groups(&t->recipe)) {
        if ((s = ft_optimizer_create(t->m, &t->cfg.opt, &t->opt))) return fail_status(t, "optimizer", s);
    } else {
        if (!t->recipe.has_plan && mark_trained_blocks(t, trains) != RUN_DONE) return RUN_FAILED;
        ft_param_group groups[TRANSFER_MAX_BLOCKS];
        block_lr_paths *paths = malloc(TRANSFER_MAX_BLOCKS * sizeof *paths);   // the optimizer copies them
        if (!paths) return fail(t, FIX_NONE, "out of memory");
        int n = block_lr_groups(t->recipe.has_blocks ? &t->recipe.blocks : NULL, t->m, trains, t->cfg.opt.lr, groups,
                                paths, err, sizeof err);
        s = n < 0 ? NULL : ft_optimizer_create_groups(t->m, &t->cfg.opt, groups, (size_t)n, &t->opt);
        free(paths);
        if (n < 0) return fail(t, FIX_NONE, "%s", err);
        if (s) return fail_status(t, "optimizer", s);
    }
    t->n_groups = ft_optimizer_group_count(t->opt);
    if (t->n_groups > TRANSFER_MAX_BLOCKS + 1) t->n_groups = TRANSFER_MAX_BLOCKS + 1;
    char text[900] = "";
    size_t used = 0;
    for (size_t g = 0; g < t->n_groups; g++) {
        ft_group_info info;
        if ((s = ft_optimizer_group_get(t->opt, g, &info))) return fail_status(t, "optimizer", s);
        t->base_lr[g] = info.lr;
        int w = snprintf(text + used, sizeof text - used, "%s%s %.3g", g ? ", " : "",
                         info.modules[0] ? info.modules : "trainable", info.lr);
        if (w > 0 && (size_t)w < sizeof text - used) used += (size_t)w;
    }
    if (train_recipe_groups(&t->recipe)) post_text(t, EV_INFO, "learning rates by block: %s", text);
    const int B = t->cfg.batch_size;
    t->steps_per_epoch = (long)((t->d->train.n_items + (size_t)B - 1) / (size_t)B);
    t->total_steps = t->steps_per_epoch * (t->course_epochs > t->cfg.epochs ? t->course_epochs : t->cfg.epochs);
    lr_schedule *sc = &t->recipe.schedule;
    if (sc->warmup_steps < 0) sc->warmup_steps = t->steps_per_epoch;
    t->lr_now = t->cfg.opt.lr;
    if (sc->kind != LR_CONSTANT) {
        char name[64];
        lr_schedule_format(sc, name, sizeof name);
        post_text(t, EV_INFO, "lr schedule: %s over %ld steps (%ld per epoch)", name, t->total_steps,
                  t->steps_per_epoch);
    }
    return RUN_DONE;
}

static int build_model(trainer *t) {
    char err[1024];
    ft_status *s;
    if (t->cfg.resume) {
        checkpoint_meta meta;
        int rc = checkpoint_load(t->cfg.resume, &t->m, &meta, err, sizeof err);
        if (rc != 0) return fail(t, rc == CHECKPOINT_E_WEIGHTS ? FIX_AS_WEIGHTS : FIX_NONE, "%s", err);
        // the checkpoint decides the architecture; the classes must be the dataset's
        snprintf(t->cfg.arch, sizeof t->cfg.arch, "%s", meta.arch);
        int fits = transfer_classes_match((const char *const *)meta.class_names, (size_t)meta.num_classes,
                                          (const char *const *)t->d->classes, t->d->n_classes);
        t->start_epoch = meta.epoch;
        // preprocess as the run that wrote the checkpoint did (the fast flag stays this run's, and its
        // decoder settings follow the checkpoint's size: --resize fast shrinks JPEGs down to it)
        int fast = t->prep.tf.fast;
        t->prep.tf = meta.tf;
        pipeline_set_fast(&t->prep, fast);
        char arch[32];
        snprintf(arch, sizeof arch, "%s", meta.arch);
        t->ckpt_recipe = meta.train_config;   // merged with this run's own below
        meta.train_config = NULL;
        checkpoint_meta_free(&meta);
        if (!fits)
            return fail(t, FIX_NONE, "%s: a %s checkpoint for other classes than %s has (%zu classes)", t->cfg.resume,
                        arch, t->d->root, t->d->n_classes);
    } else {
        transfer_spec spec = {
            .arch = t->cfg.arch, .classes = (int64_t)t->d->n_classes, .weights = t->cfg.weights, .weights_whole = 1};
        if (transfer_build(&spec, &t->m, NULL, 0, err, sizeof err) != 0) return fail(t, FIX_NONE, "%s", err);
        if (t->cfg.weights)
            post_text(t, EV_INFO, "weights %s loaded; their 1000-class head replaced by a new %zu-class one",
                      t->cfg.weights, t->d->n_classes);
    }
    if (train_recipe_merge_json(&t->recipe, t->ckpt_recipe, err, sizeof err) != 0)
        return fail(t, FIX_NONE, "%s: %s", t->cfg.resume, err);
    if (t->recipe.has_plan && t->cfg.trainable)
        return fail(t, FIX_NONE, "a plan of stages says what trains: a trainable list cannot come with it");
    if (t->cfg.trainable) {
        if (transfer_apply_trainable(t->m, t->cfg.trainable, err, sizeof err) != 0)
            return fail(t, FIX_TRAINABLE, "%s", err);
        post_text(t, EV_INFO, "trainable: %s; everything else frozen", t->cfg.trainable);
    }
    unsigned char trains[TRANSFER_MAX_BLOCKS] = {0};
    if (t->recipe.has_plan && plan_setup(t, trains) != RUN_DONE) return RUN_FAILED;
    if (class_weights_setup(t) != RUN_DONE) return RUN_FAILED;
    if (!t->cfg.resume && !t->cfg.weights) random_backbone_note(t);
    if (t->cfg.save) {   // find now what the first save would refuse: a class name that is not UTF-8, a bad target
        checkpoint_meta meta;
        checkpoint_meta_init(&meta);
        meta.num_classes = (int64_t)t->d->n_classes;
        meta.class_names = t->d->classes;
        meta.head_replaced = 1;
        meta.tf = t->prep.tf;
        if (checkpoint_meta_check(&meta, err, sizeof err) != 0)
            return fail(t, FIX_NONE, "cannot save to %s: %s", t->cfg.save, err);
        if (checkpoint_check_target(t->cfg.save, err, sizeof err) != 0)
            return fail(t, FIX_NONE, "cannot save: %s", err);
    }
    const char *dev = t->cfg.device;
    if (strcmp(dev, "auto") == 0) dev = ft_cuda_available() ? "cuda" : "cpu";
    if ((s = ft_model_to_device(t->m, dev))) return fail_status(t, "device", s);
    if (make_optimizer(t, trains) != RUN_DONE) return RUN_FAILED;
    if (t->cfg.resume) {
        size_t restored = 0;
        if (checkpoint_load_optimizer(t->cfg.resume, t->opt, &restored, err, sizeof err) != 0)
            return fail(t, FIX_NONE, "%s", err);
        post_text(t, EV_INFO, "resuming %s after epoch %d (%zu optimizer tensors restored)", t->cfg.resume,
                  t->start_epoch, restored);
    }
    return RUN_DONE;
}

static int decide_cache(trainer *t) {
    int exact = cache_exact(t);
    if (t->cfg.cache == 1 && !exact) {
        return fail(t, FIX_BN_EVAL, "the feature cache needs a frozen backbone with BatchNorm in eval mode");
    }
    t->cache_on = t->cfg.cache != 0 && exact;
    if (!t->cache_on) {
        if (t->cfg.precision != FT_PRECISION_FP32)
            return fail(t, t->cfg.cache == 0 ? FIX_NONE : FIX_BN_EVAL,
                        "--precision fast or bf16 is for the frozen backbone the feature cache runs; this run has no "
                        "cache (%s)",
                        t->cfg.cache == 0 ? "--cache off" : "the backbone trains, or BatchNorm runs in train mode");
        post_text(t, EV_INFO, "feature cache off: %s", t->cfg.cache == 0 ? "asked" : "the backbone is not fixed");
        return RUN_DONE;
    }
    if (t->cfg.precision != FT_PRECISION_FP32) {
        ft_status *s = ft_model_set_precision(t->m, (ft_precision)t->cfg.precision);
        if (s) return fail_status(t, "--precision", s);
        post_text(
            t, EV_INFO, "precision: the frozen backbone runs %s",
            t->cfg.precision == FT_PRECISION_BF16
                ? "in bfloat16 with BatchNorm folded into the convolutions, channels_last (the head stays float32)"
                : "with BatchNorm folded into the convolutions, channels_last (float32: rounding differs from "
                  "the exact path)");
    }
    t->feat = ft_model_feature_size(t->m);
    size_t items[2] = {t->d->train.n_items, t->d->valid.n_items};
    double bytes = (double)(items[0] + items[1]) * (double)t->feat * sizeof(float);
    double phys = (double)sysconf(_SC_PHYS_PAGES) * (double)sysconf(_SC_PAGESIZE);
    if (phys > 0 && bytes > phys / 4) {
        if (t->cfg.cache == 1) {
            return fail(t, FIX_NONE, "the feature cache would need %.0f MB, more than a quarter of memory",
                        bytes / 1e6);
        }
        t->cache_on = 0;
        post_text(t, EV_INFO, "feature cache off: it would need %.0f MB", bytes / 1e6);
        return RUN_DONE;
    }
    for (int p = 0; p < 2; p++) {
        t->cache[p] = malloc((items[p] ? items[p] : 1) * (size_t)t->feat * sizeof(float));
        t->cached[p] = calloc(items[p] ? items[p] : 1, 1);
        if (!t->cache[p] || !t->cached[p]) {
            return fail(t, FIX_NONE, "out of memory for the feature cache (%.0f MB)", bytes / 1e6);
        }
    }
    post_text(t, EV_INFO, "feature cache on: the backbone runs once per image (%.1f MB of features)", bytes / 1e6);
    if (t->cfg.cache_disk && !t->cfg.lr_find) {
        disk_setup(t);
        for (int p = 0; p < 2; p++) disk_load(t, p);
    }
    return RUN_DONE;
}

// One image through the backbone on `threads` threads, in milliseconds: what epoch 1 costs per image
// with the feature cache, a lower bound without it (training adds the backward pass), which leans
// towards giving the network the cores. A small batch first warms up (libtorch's pool, oneDNN's
// primitives for that thread count), then the best of the timed rounds is kept, so one slow pass
// (another process, a page fault) does not decide the split: two rounds, more while the probe has
// spent under 0.3 s (cheap networks, small inputs, where one pass is noisiest), at most eight. -1 when
// a pass fails. Eval mode: nothing in the model changes.
static double probe_network(trainer *t, int threads) {
    const int64_t n = 4, S = t->prep.tf.size;
    size_t in = (size_t)n * 3 * (size_t)S * (size_t)S, out = (size_t)n * (size_t)ft_model_feature_size(t->m);
    float *x = malloc(in * sizeof *x), *f = malloc((out ? out : 1) * sizeof *f);
    double best = -1;
    if (x && f) {
        for (size_t i = 0; i < in; i++) x[i] = (float)(i % 251) / 125.0f - 1.0f;
        ft_set_num_threads(threads);
        ft_model_set_mode(t->m, 0, t->cfg.bn_eval);
        ft_status *s = ft_model_features(t->m, x, n, 3, S, S, f, out);
        double began = clock_seconds();
        for (int round = 0; !s && round < 8 && (round < 2 || clock_seconds() - began < 0.3); round++) {
            double t0 = clock_seconds();
            s = ft_model_features(t->m, x, n, 3, S, S, f, out);
            double ms = 1e3 * (clock_seconds() - t0) / (double)n;
            if (!s && (best < 0 || ms < best)) best = ms;
        }
        if (s) best = -1;
        ft_status_free(s);
    }
    free(x);
    free(f);
    return best;
}

// The cores shared between decoding and the network (thread_split.h), from what both cost here:
// one image's decoding timed on this thread, and the backbone's forward pass (probe_network).
// --threads and --workers, when given, are kept as asked, with the loader decoding beside the network as before.
// libtorch's threads as asked (--threads), else the device's default.
static int run_threads(const trainer *t) {
    return t->cfg.threads > 0 ? t->cfg.threads : trainer_default_threads(t->cfg.device);
}

static void choose_split(trainer *t, int gpu) {
    int cores = loader_default_workers();
    thread_split sp;
    const char *env = getenv("FROST_THREAD_SPLIT");
    if (env && strcmp(env, "quarter") == 0) {
        thread_split_quarter(cores, gpu, &sp);
    } else if (t->cache_on && t->cache_filled[PHASE_TRAIN] &&
               (t->cache_filled[PHASE_VALID] || t->d->valid.n_items == 0)) {
        sp = (thread_split){.threads = run_threads(t), .workers = 1};
        snprintf(sp.why, sizeof sp.why, "every image's features come from disk, nothing to decode");
    } else if (t->cfg.threads > 0 || t->cfg.workers > 0) {
        sp = (thread_split){.threads = run_threads(t), .workers = t->cfg.workers > 0 ? t->cfg.workers : 1};
        snprintf(sp.why, sizeof sp.why, "as asked");
    } else {
        split_costs c = {.cores = cores, .gpu = gpu, .decode_ms = -1, .network_ms = -1, .network_half_ms = -1};
        if (!gpu) {
            const dataset_split *s = t->d->train.n_items ? &t->d->train : &t->d->valid;
            c.decode_ms = thread_split_probe_decode(s, &t->prep, 6);
            c.network_ms = probe_network(t, cores);
            // the half-cores probe (the slowest part) only when a split could gain enough to matter
            if (thread_split_worth_probing(&c)) c.network_half_ms = probe_network(t, cores / 2);
        }
        thread_split_choose(&c, &sp);
    }
    t->cfg.threads = sp.threads;
    t->cfg.workers = sp.workers;
    t->turns = sp.turns;
    ft_set_num_threads(sp.threads);
    post_text(t, EV_INFO, "threads: %d for libtorch, %d loader worker%s%s: %s (%d cores)", sp.threads, sp.workers,
              sp.workers == 1 ? "" : "s", sp.turns ? ", taking turns" : "", sp.why, cores);
    post_text(t, EV_INFO, "%s on %s, %d libtorch threads, %d loader workers; BatchNorm %s", t->cfg.arch,
              ft_model_device(t->m), ft_get_num_threads(), t->cfg.workers,
              t->cfg.bn_eval ? "in eval mode where frozen (running statistics fixed)"
                             : "in train mode (batch statistics; running statistics updated, as the tutorial's)");
}

static int make_loaders(trainer *t) {
    loader_opts lo;
    loader_opts_default(&lo);
    lo.batch_size = t->cfg.batch_size;
    lo.workers = t->cfg.workers;
    lo.turns = t->turns;
    lo.sample_floats = pipeline_sample_floats(&t->prep);
    loader_source src = pipeline_source(&t->prep);
    char err[1024];
    const dataset_split *splits[2] = {&t->d->train, &t->d->valid};
    for (int p = 0; p < 2; p++) {
        lo.seed = phase_seed(&t->cfg, p);
        t->loaders[p] = loader_new(splits[p], &lo, &src, &t->bad, err, sizeof err);
        if (!t->loaders[p]) return fail(t, errno == ENOMEM ? FIX_SMALLER_BATCH : FIX_NONE, "%s", err);
    }
    size_t most = t->d->train.n_items > t->d->valid.n_items ? t->d->train.n_items : t->d->valid.n_items;
    t->order = malloc((most ? most : 1) * sizeof *t->order);
    size_t width = (size_t)(t->feat > 0 ? t->feat : 1);
    t->gather = malloc((size_t)t->cfg.batch_size * width * sizeof(float));
    t->gather_labels = malloc((size_t)t->cfg.batch_size * sizeof *t->gather_labels);
    if (!t->order || !t->gather || !t->gather_labels) {
        return fail(t, FIX_SMALLER_BATCH, "out of memory");
    }
    return RUN_DONE;
}

// Saves the checkpoint when asked to; a save that fails fails the run (the user asked for the file).
static int save(trainer *t, const phase_stats *tr, const phase_stats *va, int epoch_done) {
    if (!t->cfg.save) return RUN_DONE;
    checkpoint_meta meta;
    checkpoint_meta_init(&meta);
    snprintf(meta.arch, sizeof meta.arch, "%s", t->cfg.arch);
    meta.num_classes = (int64_t)t->d->n_classes;
    meta.class_names = t->d->classes;
    meta.head_replaced = 1;
    meta.tf = t->prep.tf;
    meta.epoch = epoch_done;
    train_settings run;
    trainer_settings(&t->cfg, t->course_epochs, &run);
    char *recipe = train_recipe_json_settings(&t->recipe, &run);
    if (!recipe) return fail(t, FIX_NONE, "out of memory");
    meta.train_config = recipe;
    if (tr && tr->seen) {
        meta.train_loss = tr->loss_sum / (double)tr->seen;
        meta.train_acc = (double)tr->correct / (double)tr->seen;
    }
    if (va && va->seen) {
        meta.valid_loss = va->loss_sum / (double)va->seen;
        meta.valid_acc = (double)va->correct / (double)va->seen;
    }
    char err[1024];
    int rc = checkpoint_save(t->cfg.save, t->m, t->opt, &meta, err, sizeof err);
    free(recipe);
    if (rc != 0) return fail(t, FIX_NONE, "saving %s: %s", t->cfg.save, err);
    post_text(t, EV_SAVED, "%s", t->cfg.save);
    return RUN_DONE;
}

// --profile: the breakdown of the run's wall time, as EV_INFO lines.
static void post_profile(trainer *t) {
    double busy = 0;
    for (int p = 0; p < 2; p++)
        if (t->loaders[p]) busy += loader_busy_seconds(t->loaders[p]);
    double wall = clock_seconds() - t->run_start;
    double known = t->p_wait + t->p_features + t->p_forward + t->p_backward + t->p_optimizer + t->p_copy + t->p_events +
                   t->p_measure;
    post_text(t, EV_INFO, "profile: where the %.2f s of the run went (trainer thread)", wall);
    post_text(t, EV_INFO,
              "profile:   waiting for batches      %8.2f s  (decode + resize ran on %d worker%s: %.2f s of "
              "their time, %.1f ms per image)",
              t->p_wait, t->cfg.workers, t->cfg.workers == 1 ? "" : "s", busy,
              t->p_loaded ? 1e3 * busy / (double)t->p_loaded : 0.0);
    post_text(t, EV_INFO, "profile:   backbone (cache fill)    %8.2f s", t->p_features);
    post_text(t, EV_INFO, "profile:   forward                  %8.2f s", t->p_forward);
    post_text(t, EV_INFO, "profile:   backward                 %8.2f s", t->p_backward);
    post_text(t, EV_INFO, "profile:   optimizer                %8.2f s", t->p_optimizer);
    post_text(t, EV_INFO, "profile:   copies (feature cache)   %8.2f s", t->p_copy);
    post_text(t, EV_INFO, "profile:   events (UI, log)         %8.2f s", t->p_events);
    post_text(t, EV_INFO, "profile:   layer measurements       %8.2f s", t->p_measure);
    post_text(t, EV_INFO, "profile:   model build, other       %8.2f s", wall - known > 0 ? wall - known : 0.0);
}

// The lr finder: training steps at the sweep's learning rates, epoch after epoch (the feature cache
// serves from the second on), until the sweep ends or the loss diverges; then the suggestion.
static int run_lr_find(trainer *t) {
    long steps = t->cfg.find.steps, per_epoch = t->steps_per_epoch > 0 ? t->steps_per_epoch : 1;
    t->cfg.epochs = (int)((steps + per_epoch - 1) / per_epoch);
    post_text(t, EV_INFO, "lr finder: %ld steps from %.3g to %.3g", steps, t->cfg.find.start_lr, t->cfg.find.end_lr);
    int rc = RUN_DONE;
    phase_stats tr;
    for (t->epoch = 1; rc == RUN_DONE && !t->find_stop; t->epoch++) rc = run_phase(t, PHASE_TRAIN, &tr);
    t->epoch--;
    if (rc == RUN_FAILED || job_cancelled(&t->base)) return rc == RUN_FAILED ? RUN_FAILED : RUN_STOPPED;
    train_event e = {.kind = EV_LR_SUGGEST, .epoch = t->epoch};
    double lr;
    size_t at;
    char why[512];
    if (lr_find_suggest(&t->curve, &lr, &at, why, sizeof why) == 0) {
        e.lr = lr;
        e.batch = at + 1;
        errmsg_set(e.text, sizeof e.text, "suggested lr %.3g (step %zu of %zu%s)", lr, at + 1, t->curve.n,
                   t->curve.state == LR_FIND_DIVERGED ? "; the loss diverged after" : "");
    } else {
        errmsg_set(e.text, sizeof e.text, "no suggestion: %s", why);
    }
    post(t, &e);
    return RUN_DONE;
}

static int run(trainer *t) {
    // libtorch's threads while the model is built; choose_split() sets the run's split after
    int gpu = strcmp(t->cfg.device, "cpu") != 0 && ft_cuda_available();
    ft_set_num_threads(run_threads(t));
    ft_manual_seed(t->cfg.seed);
    int rc = build_model(t);
    if (rc == RUN_DONE) rc = decide_cache(t);
    if (rc == RUN_DONE) choose_split(t, gpu);
    if (rc == RUN_DONE) rc = make_loaders(t);
    if (rc == RUN_DONE) take_snapshot(t);
    if (t->cfg.lr_find) return rc == RUN_DONE ? run_lr_find(t) : rc;
    phase_stats tr = {0}, va = {0};
    for (t->epoch = t->start_epoch + 1; rc == RUN_DONE && t->epoch <= t->cfg.epochs; t->epoch++) {
        double epoch_start = clock_seconds();
        rc = enter_stage(t);
        if (rc == RUN_DONE) rc = run_phase(t, PHASE_TRAIN, &tr);
        memset(&va, 0, sizeof va);
        if (rc == RUN_DONE && t->d->valid.n_items > 0) rc = run_phase(t, PHASE_VALID, &va);
        if (rc != RUN_DONE) break;
        t->last_epoch_seconds = clock_seconds() - epoch_start;
        train_event e = {.kind = EV_EPOCH, .epoch = t->epoch, .seconds = t->last_epoch_seconds};
        e.train_loss = tr.seen ? tr.loss_sum / (double)tr.seen : NAN;
        e.train_acc = tr.seen ? 100.0 * (double)tr.correct / (double)tr.seen : NAN;
        e.valid_loss = va.seen ? va.loss_sum / (double)va.seen : NAN;
        e.valid_acc = va.seen ? 100.0 * (double)va.correct / (double)va.seen : NAN;
        post(t, &e);
        rc = save(t, &tr, &va, t->epoch);
    }
    if (rc == RUN_STOPPED && save(t, NULL, NULL, t->epoch - 1) != RUN_DONE) rc = RUN_FAILED;
    if (t->cfg.profile) post_profile(t);
    return rc;
}

static void run_job(job *base) {
    trainer *t = (trainer *)base;
    t->run_start = clock_seconds();
    int rc = run(t);
    for (int p = 0; p < 2; p++) loader_free(t->loaders[p]);
    drop_cache(t);
    disk_free(t);
    free(t->order);
    free(t->gather);
    free(t->gather_labels);
    free(t->class_w);
    t->class_w = NULL;
    free(t->ckpt_recipe);
    t->ckpt_recipe = NULL;
    lr_find_curve_free(&t->curve);
    ft_optimizer_free(t->opt);
    t->opt = NULL;
    ft_snapshot_free(t->snap);
    t->snap = NULL;
    if (!t->cfg.keep_model) {
        ft_model_free(t->m);
        t->m = NULL;
    }
    report_skipped(t);
    t->status = rc;
    train_event e = {.kind = EV_FINISHED, .epoch = t->epoch, .status = rc, .seconds = clock_seconds() - t->run_start};
    post(t, &e);
}

// ---------------------------------------------------------------------------------------------

void trainer_config_default(trainer_config *c) {
    memset(c, 0, sizeof *c);
    snprintf(c->arch, sizeof c->arch, "vgg16");
    c->epochs = 5;
    c->batch_size = 16;
    ft_opt_params_default(&c->opt);
    lr_find_opts_default(&c->find);
    snprintf(c->device, sizeof c->device, "auto");
    c->bn_eval = 1;
    c->cache = -1;
    c->cache_disk = 1;
    c->measure_every = 10;
    pipeline_opts_default(&c->prep);
}

static void trainer_release(trainer *t) {
    for (size_t k = 0; k < t->n_reports; k++) {
        layer_report_free(t->reports[k]);
        free(t->reports[k]);
    }
    free(t->reports);
    badfiles_free(&t->bad);
    events_free(t->q);
    pthread_mutex_destroy(&t->mu);
    pthread_cond_destroy(&t->cv);
    free(t);
}

trainer *trainer_start(const trainer_config *c, dataset *d, char *err, size_t errlen) {
    if (c->epochs < 0 || c->batch_size < 1) {
        errmsg_set(err, errlen, "epochs and batch size must be at least 1");
        return NULL;
    }
    trainer *t = calloc(1, sizeof *t);
    if (!t || !(t->q = events_new())) {
        free(t);
        errmsg_set(err, errlen, "out of memory");
        return NULL;
    }
    t->cfg = *c;
    t->prep = c->prep;
    t->epochs_given = c->epochs > 0;
    if (c->lr_find) {   // a sweep, not a run: nothing saved, measured or planned
        t->cfg.save = NULL;
        t->cfg.measure_every = 0;
        t->cfg.plan = t->cfg.schedule = NULL;
        lr_find_curve_init(&t->curve, &c->find);
    }
    if (!t->epochs_given) t->cfg.epochs = 5;
    if (train_recipe_set(&t->recipe, t->cfg.plan, t->cfg.schedule, t->cfg.block_lr, t->cfg.class_weights, err,
                         errlen) != 0) {
        lr_find_curve_free(&t->curve);
        events_free(t->q);
        free(t);
        return NULL;
    }
    t->d = d;
    badfiles_init(&t->bad);
    // what the scan could not follow (broken symlinks, loops) is reported with the loader's skips
    badfiles_add_all(&t->bad, &d->skipped);
    pthread_mutex_init(&t->mu, NULL);
    pthread_cond_init(&t->cv, NULL);
    if (job_start(&t->base, run_job, "training", err, errlen) != 0) {
        trainer_release(t);
        return NULL;
    }
    return t;
}

int trainer_poll(trainer *t, train_event *e) { return events_poll(t->q, e); }

const layer_report *trainer_layers(trainer *t, size_t k) {
    pthread_mutex_lock(&t->mu);
    const layer_report *r = k < t->n_reports ? t->reports[k] : NULL;
    pthread_mutex_unlock(&t->mu);
    return r;
}

int trainer_wait(trainer *t, train_event *e, int timeout_ms) { return events_wait(t->q, e, timeout_ms); }

int trainer_done(trainer *t) { return job_done(&t->base); }

void trainer_cancel(trainer *t) {
    pthread_mutex_lock(&t->mu);
    job_cancel(&t->base);
    pthread_cond_broadcast(&t->cv);   // a paused run wakes up to stop
    pthread_mutex_unlock(&t->mu);
}

void trainer_pause(trainer *t) { atomic_store(&t->paused, 1); }

void trainer_resume(trainer *t) {
    pthread_mutex_lock(&t->mu);
    atomic_store(&t->paused, 0);
    pthread_cond_broadcast(&t->cv);
    pthread_mutex_unlock(&t->mu);
}

int trainer_paused(trainer *t) { return atomic_load(&t->paused); }

int trainer_result(trainer *t, ft_model **model) {
    if (model) *model = NULL;
    job_join(&t->base);   // at once after EV_FINISHED: the thread is ending
    if (model) {
        *model = t->m;
        t->m = NULL;
    }
    return t->status;
}

void trainer_free(trainer *t) {
    if (!t) return;
    trainer_cancel(t);
    job_stop(&t->base);
    ft_model_free(t->m);
    trainer_release(t);
}
