// trainer_loop.c — the run on the trainer's thread: set up (trainer_setup.c, trainer_cache.c), then
// epochs of a train and a valid phase, or the lr finder's sweep; each phase runs from the loader
// (decoding images) or, once the feature cache is filled, from the cache, replaying the loader's order
// for that epoch so batches are the same either way. Also the checkpoint saves and --profile's lines.
// Its own state is the loop's part of struct trainer (trainer_parts.h).
#include <assert.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checkpoint.h"
#include "clock.h"
#include "errmsg.h"
#include "i18n.h"
#include "loader.h"
#include "trainer_parts.h"

typedef struct {
    double loss_sum;
    int64_t correct, seen;
    double seconds;
} phase_stats;

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

// A step on x (images, or cached features when features is 1); b: the batch's index in the phase.
static ft_status *step(trainer *t, int phase, int features, const float *x, const int64_t *labels, int n, size_t b,
                       ft_step_result *r) {
    const int64_t S = t->prep.tf.size;
    ft_status *s;
    if (phase == PHASE_TRAIN && (s = trainer_schedule_step(t, b))) return s;
    if (features)
        s = phase == PHASE_TRAIN ? ft_head_train_step(t->m, t->opt, x, labels, n, r)
                                 : ft_head_eval_step(t->m, x, labels, n, r);
    else
        s = phase == PHASE_TRAIN ? ft_train_step(t->m, t->opt, x, labels, n, 3, S, S, r)
                                 : ft_eval_step(t->m, x, labels, n, 3, S, S, r);
    if (!s) {
        t->prof.forward += r->forward_s;
        t->prof.backward += r->backward_s;
        t->prof.optimizer += r->optimizer_s;
    }
    return s;
}

static void batch_event(trainer *t, int phase, size_t batch, size_t batches, const ft_step_result *r,
                        const phase_stats *st, double start, int from_cache) {
    assert(st->seen > 0 && batch >= 1 && batch <= batches);
    double t0 = clock_seconds(), elapsed = t0 - start;
    train_event e = {.kind = EV_BATCH,
                     .epoch = t->epoch,
                     .phase = phase,
                     .batch = batch,
                     .batches = batches,
                     .from_cache = from_cache};
    if (phase == PHASE_TRAIN) e.lr = t->tune.lr_now, e.lr_moves = t->tune.recipe.schedule.kind != LR_CONSTANT;
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
    trainer_post(t, &e);
    t->prof.events += clock_seconds() - t0;
}

// After a training batch: the lr finder's point, or a measurement when one is due.
static void after_step(trainer *t, size_t batch, const ft_step_result *r) {
    t->steps++;
    assert(!t->cfg.lr_find || !t->layers.snap);   // a sweep measures nothing
    if (t->cfg.lr_find) {
        int go = lr_find_curve_add(&t->finder.curve, t->tune.lr_now, r->loss);
        if (go != 1) t->finder.stop = 1;
        if (go < 0) return;
        train_event e = {
            .kind = EV_LR_POINT, .epoch = t->epoch, .batch = t->steps, .lr = t->tune.lr_now, .loss = r->loss};
        e.running_loss = t->finder.curve.n ? t->finder.curve.smooth[t->finder.curve.n - 1] : NAN;
        trainer_post(t, &e);
        return;
    }
    trainer_measure_due(t, batch);
}

// FROST_WARMUP=1: the first batch's one-time set-up (oneDNN creates its kernels and lays out the
// weights) made while the loader decodes that batch, instead of after it: the backbone once on one
// image of zeros at the run's size and precision. Off by default: measured on a loaded 2-core machine
// it did not pay. The most it can save is the first batch's decoding (0.2-0.3 s on dvc-mini), since the
// thread split's probe (trainer_setup.c) has already run the backbone, set-up and all, before the
// loaders start; and the warm-up's own shape pays a set-up of its own. Kept for measuring it on other
// machines. Only where the feature cache computes the backbone: that pass has no gradients and, in eval
// mode, changes nothing (no weight, optimizer state, BatchNorm statistic, or draw from libtorch's
// generator; the loader's shuffle has its own): the run is the same, bit for bit (a test checks).
static void warm_up(trainer *t) {
    t->warmed = 1;
    const char *env = getenv("FROST_WARMUP");
    if (!env || strcmp(env, "1") != 0 || !t->cache.on || t->cache.feat <= 0) return;
    const int64_t S = t->prep.tf.size;
    float *x = calloc(3 * (size_t)S * (size_t)S, sizeof *x);
    if (!x) return;   // only time is lost
    double t0 = clock_seconds();
    ft_model_set_mode(t->m, 0, t->cfg.bn_eval);
    // into the gather buffer (B rows): the first batch's own features overwrite it
    ft_status *s = ft_model_features(t->m, x, 1, 3, S, S, t->gather, (size_t)t->cache.feat);
    ft_status_free(s);   // a failure here shows again, with its message, on the batch itself
    t->prof.warmup += clock_seconds() - t0;
    free(x);
}

static int run_phase(trainer *t, int phase, phase_stats *st) {
    const dataset_split *split = phase == PHASE_TRAIN ? &t->d->train : &t->d->valid;
    const int B = t->cfg.batch_size;
    memset(st, 0, sizeof *st);
    ft_model_set_mode(t->m, phase == PHASE_TRAIN, t->cfg.bn_eval);
    // the epoch's random draws (dropout masks) start from a seed of its own: the same whether the run
    // was resumed here or not, and the same for any script that seeds torch with it (--json says it)
    if (phase == PHASE_TRAIN) ft_manual_seed(trainer_epoch_seed(&t->cfg, t->epoch));
    int from_cache = t->cache.on && t->cache.filled[phase];
    // a filled split has its rows and their states (trainer_drop_cache clears filled with them)
    assert(!from_cache || (t->cache.rows[phase] && t->cache.cached[phase] && t->cache.feat > 0));
    size_t n_good = split->n_items;
    if (from_cache) {
        trainer_epoch_order(&t->cfg, phase, t->epoch, t->order, split->n_items);
        n_good = 0;
        for (size_t i = 0; i < split->n_items; i++)
            if (t->cache.cached[phase][t->order[i]] == CACHED_FEATURES) t->order[n_good++] = t->order[i];
    }
    size_t batches = (n_good + (size_t)B - 1) / (size_t)B;
    train_event e = {.kind = EV_PHASE_START, .epoch = t->epoch, .phase = phase, .batches = batches};
    trainer_post(t, &e);
    double start = clock_seconds();
    char err[1024];
    ft_step_result r;
    int status = RUN_DONE;

    if (from_cache) {
        for (size_t b = 0; b < batches && status == RUN_DONE; b++) {
            if (trainer_should_stop(t)) {
                status = RUN_STOPPED;
                break;
            }
            int n = (int)((b + 1) * (size_t)B <= n_good ? (size_t)B : n_good - b * (size_t)B);
            assert(n >= 1 && n <= B);
            double c0 = clock_seconds();
            for (int k = 0; k < n; k++) {
                size_t item = t->order[b * (size_t)B + (size_t)k];
                assert(item < split->n_items && t->cache.cached[phase][item] == CACHED_FEATURES);
                memcpy(t->gather + (size_t)k * (size_t)t->cache.feat,
                       t->cache.rows[phase] + item * (size_t)t->cache.feat, (size_t)t->cache.feat * sizeof(float));
                t->gather_labels[k] = split->items[item].label;
            }
            t->prof.copy += clock_seconds() - c0;
            ft_status *s = step(t, phase, 1, t->gather, t->gather_labels, n, b, &r);
            if (s) return trainer_fail_status(t, phase == PHASE_TRAIN ? "training step" : "validation step", s);
            st->loss_sum += r.loss * (double)r.n;
            st->correct += r.correct;
            st->seen += r.n;
            batch_event(t, phase, b + 1, batches, &r, st, start, 1);
            if (phase == PHASE_TRAIN) after_step(t, b + 1, &r);
        }
    } else {
        loader *l = t->loaders[phase];
        if (loader_start_epoch(l, t->epoch - 1, err, sizeof err) != 0) return trainer_fail(t, FIX_NONE, "%s", err);
        if (!t->warmed) {   // the workers decode the first batch meanwhile
            warm_up(t);
            ft_model_set_mode(t->m, phase == PHASE_TRAIN, t->cfg.bn_eval);
        }
        loader_batch *lb;
        int got;
        size_t b = 0;
        double w0 = clock_seconds();
        while ((got = loader_next(l, &lb, err, sizeof err)) == 1) {
            double waited = clock_seconds() - w0;
            t->prof.wait += waited;
            t->prof.loaded += (size_t)lb->n;
            assert(lb->n >= 1 && lb->n <= B);   // gather holds B rows
            ft_status *s = NULL;
            if (t->cache.on) {
                // compute the backbone once, keep it, and run the head on it: the same numbers as a
                // whole forward pass, since nothing before the head is trainable or random
                // (a batch whose every image came from the disk cache needs no backbone at all)
                float *dst = t->gather;
                const int64_t S = t->prep.tf.size;
                const size_t width = (size_t)t->cache.feat;
                int known = 1;
                for (int k = 0; k < lb->n && known; k++)
                    known = t->cache.cached[phase][lb->items[k]] == CACHED_FEATURES;
                double f0 = clock_seconds();
                if (known) {
                    for (int k = 0; k < lb->n; k++)
                        memcpy(dst + (size_t)k * width, t->cache.rows[phase] + lb->items[k] * width,
                               width * sizeof(float));
                } else {
                    s = ft_model_features(t->m, lb->data, lb->n, 3, S, S, dst, (size_t)B * width);
                }
                double f1 = clock_seconds();
                if (!known && !t->prof.firsts) {
                    t->prof.firsts = 1;
                    t->prof.first_wait = waited;
                    t->prof.first_features = f1 - f0;
                }
                t->prof.features += known ? 0 : f1 - f0;
                for (int k = 0; !s && !known && k < lb->n; k++) {
                    memcpy(t->cache.rows[phase] + lb->items[k] * width, dst + (size_t)k * width, width * sizeof(float));
                    t->cache.cached[phase][lb->items[k]] = CACHED_FEATURES;
                }
                t->prof.copy += clock_seconds() - (known ? f0 : f1);
                if (!s) s = step(t, phase, 1, dst, lb->labels, lb->n, b, &r);
            } else {
                s = step(t, phase, 0, lb->data, lb->labels, lb->n, b, &r);
            }
            loader_release(l, lb);
            if (s) {
                loader_stop(l);
                return trainer_fail_status(t, phase == PHASE_TRAIN ? "training step" : "validation step", s);
            }
            st->loss_sum += r.loss * (double)r.n;
            st->correct += r.correct;
            st->seen += r.n;
            batch_event(t, phase, ++b, batches, &r, st, start, 0);
            if (phase == PHASE_TRAIN) after_step(t, b, &r);
            trainer_report_skipped(t);
            if (trainer_should_stop(t)) {
                status = RUN_STOPPED;
                break;
            }
            w0 = clock_seconds();
        }
        loader_stop(l);
        trainer_report_skipped(t);
        if (got < 0 && status == RUN_DONE) return trainer_fail(t, FIX_NONE, "%s", err);
        if (status == RUN_DONE && t->cache.on) {
            t->cache.filled[phase] = 1;
            trainer_disk_save(t, phase);
        }
    }
    st->seconds = clock_seconds() - start;
    if (!from_cache) t->backbone_images += (double)st->seen, t->backbone_seconds += st->seconds;
    if (status == RUN_DONE && phase == PHASE_TRAIN) trainer_after_train_phase(t);
    if (status == RUN_DONE) {
        train_event end = {.kind = EV_PHASE_END, .epoch = t->epoch, .phase = phase, .batches = batches};
        end.running_loss = st->seen ? st->loss_sum / (double)st->seen : NAN;
        end.running_acc = st->seen ? 100.0 * (double)st->correct / (double)st->seen : NAN;
        end.seconds = st->seconds;
        if (phase == PHASE_TRAIN) end.lr = t->tune.lr_now, end.lr_moves = t->tune.recipe.schedule.kind != LR_CONSTANT;
        trainer_post(t, &end);
    }
    return status;
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
    trainer_settings(&t->cfg, t->tune.course_epochs, &run);
    char *recipe = train_recipe_json_settings(&t->tune.recipe, &run);
    if (!recipe) return trainer_fail(t, FIX_NONE, "out of memory");
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
    if (rc != 0) return trainer_fail(t, FIX_NONE, "saving %s: %s", t->cfg.save, err);
    trainer_post_text(t, EV_SAVED, "%s", t->cfg.save);
    return RUN_DONE;
}

// --profile: the breakdown of the run's wall time, as EV_INFO lines.
static void post_profile(trainer *t) {
    double busy = 0;
    for (int p = 0; p < 2; p++)
        if (t->loaders[p]) busy += loader_busy_seconds(t->loaders[p]);
    double wall = clock_seconds() - t->run_start;
    double known = t->prof.wait + t->prof.features + t->prof.forward + t->prof.backward + t->prof.optimizer +
                   t->prof.copy + t->prof.events + t->prof.measure + t->prof.warmup;
    trainer_post_text(t, EV_INFO, "profile: where the %.2f s of the run went (trainer thread)", wall);
    trainer_post_text(t, EV_INFO,
                      ngettext("profile:   waiting for batches      %8.2f s  (decode + resize ran on %d worker: "
                               "%.2f s of its time, %.1f ms per image)",
                               "profile:   waiting for batches      %8.2f s  (decode + resize ran on %d workers: "
                               "%.2f s of their time, %.1f ms per image)",
                               (unsigned long)t->cfg.workers),
                      t->prof.wait, t->cfg.workers, busy, t->prof.loaded ? 1e3 * busy / (double)t->prof.loaded : 0.0);
    trainer_post_text(t, EV_INFO, "profile:   backbone (cache fill)    %8.2f s", t->prof.features);
    trainer_post_text(t, EV_INFO,
                      "profile:     first batch: waited %.2f s for it, its backbone %.2f s; warm-up beside the "
                      "decoding %.2f s%s",
                      t->prof.first_wait, t->prof.first_features, t->prof.warmup,
                      t->prof.warmup == 0 ? _(" (none: FROST_WARMUP=1 makes one)") : "");
    trainer_post_text(t, EV_INFO, "profile:   forward                  %8.2f s", t->prof.forward);
    trainer_post_text(t, EV_INFO, "profile:   backward                 %8.2f s", t->prof.backward);
    trainer_post_text(t, EV_INFO, "profile:   optimizer                %8.2f s", t->prof.optimizer);
    trainer_post_text(t, EV_INFO, "profile:   copies (feature cache)   %8.2f s", t->prof.copy);
    trainer_post_text(t, EV_INFO, "profile:   events (UI, log)         %8.2f s", t->prof.events);
    trainer_post_text(t, EV_INFO, "profile:   layer measurements       %8.2f s", t->prof.measure);
    trainer_post_text(t, EV_INFO, "profile:   model build, other       %8.2f s", wall - known > 0 ? wall - known : 0.0);
}

// The lr finder: training steps at the sweep's learning rates, epoch after epoch (the feature cache
// serves from the second on), until the sweep ends or the loss diverges; then the suggestion.
static int run_lr_find(trainer *t) {
    long steps = t->cfg.find.steps, per_epoch = t->tune.steps_per_epoch > 0 ? t->tune.steps_per_epoch : 1;
    t->cfg.epochs = (int)((steps + per_epoch - 1) / per_epoch);
    trainer_post_text(t, EV_INFO, "lr finder: %ld steps from %.3g to %.3g", steps, t->cfg.find.start_lr,
                      t->cfg.find.end_lr);
    int rc = RUN_DONE;
    phase_stats tr;
    for (t->epoch = 1; rc == RUN_DONE && !t->finder.stop; t->epoch++) rc = run_phase(t, PHASE_TRAIN, &tr);
    t->epoch--;
    if (rc == RUN_FAILED || job_cancelled(&t->base)) return rc == RUN_FAILED ? RUN_FAILED : RUN_STOPPED;
    train_event e = {.kind = EV_LR_SUGGEST, .epoch = t->epoch};
    double lr;
    size_t at;
    char why[512];
    if (lr_find_suggest(&t->finder.curve, &lr, &at, why, sizeof why) == 0) {
        e.lr = lr;
        e.batch = at + 1;
        errmsg_set(e.text, sizeof e.text, "suggested lr %.3g (step %zu of %zu%s)", lr, at + 1, t->finder.curve.n,
                   t->finder.curve.state == LR_FIND_DIVERGED ? _("; the loss diverged after") : "");
    } else {
        errmsg_set(e.text, sizeof e.text, "no suggestion: %s", why);
    }
    trainer_post(t, &e);
    return RUN_DONE;
}

static int run(trainer *t) {
    // libtorch's threads while the model is built; trainer_choose_split() sets the run's split after
    int gpu = strcmp(t->cfg.device, "cpu") != 0 && ft_cuda_available();
    ft_set_num_threads(trainer_run_threads(t));
    ft_manual_seed(t->cfg.seed);
    int rc = trainer_build_model(t);
    if (rc == RUN_DONE) rc = trainer_decide_cache(t);
    if (rc == RUN_DONE) trainer_choose_split(t, gpu);
    if (rc == RUN_DONE) rc = trainer_make_loaders(t);
    if (rc == RUN_DONE) trainer_take_snapshot(t);
    if (t->cfg.lr_find) return rc == RUN_DONE ? run_lr_find(t) : rc;
    phase_stats tr = {0}, va = {0};
    for (t->epoch = t->start_epoch + 1; rc == RUN_DONE && t->epoch <= t->cfg.epochs; t->epoch++) {
        double epoch_start = clock_seconds();
        rc = trainer_enter_stage(t);
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
        trainer_post(t, &e);
        rc = save(t, &tr, &va, t->epoch);
    }
    if (rc == RUN_STOPPED && save(t, NULL, NULL, t->epoch - 1) != RUN_DONE) rc = RUN_FAILED;
    if (t->cfg.profile) post_profile(t);
    return rc;
}

void trainer_run_job(job *base) {
    trainer *t = (trainer *)base;
    t->run_start = clock_seconds();
    int rc = run(t);
    for (int p = 0; p < 2; p++) loader_free(t->loaders[p]);
    trainer_drop_cache(t);
    trainer_disk_free(t);
    free(t->order);
    free(t->gather);
    free(t->gather_labels);
    free(t->tune.class_w);
    t->tune.class_w = NULL;
    free(t->tune.ckpt_recipe);
    t->tune.ckpt_recipe = NULL;
    lr_find_curve_free(&t->finder.curve);
    ft_optimizer_free(t->opt);
    t->opt = NULL;
    ft_snapshot_free(t->layers.snap);
    t->layers.snap = NULL;
    if (!t->cfg.keep_model) {
        ft_model_free(t->m);
        t->m = NULL;
    }
    trainer_report_skipped(t);
    assert(rc == RUN_DONE || rc == RUN_STOPPED || rc == RUN_FAILED);
    t->status = rc;
    train_event e = {.kind = EV_FINISHED, .epoch = t->epoch, .status = rc, .seconds = clock_seconds() - t->run_start};
    trainer_post(t, &e);
}
