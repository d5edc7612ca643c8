// trainer.c — the trainer as a job (see trainer.h for what a run does): starting it, its controls
// (pause, resume, cancel: atomics read at batch boundaries, pausing waits on a condition variable),
// its events out, its result; and the config's defaults and the numbers other programs reproduce (the
// epoch's order and seed, the settings a checkpoint records). The run itself is trainer_loop.c; the
// parts and the state each holds are listed in trainer_parts.h.
#include "trainer.h"

#include <assert.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "errmsg.h"
#include "job.h"
#include "loader.h"
#include "trainer_parts.h"

void trainer_post(trainer *t, train_event *e) {
    e->epochs = t->cfg.epochs;
    events_post(t->q, e);
}

void trainer_post_text(trainer *t, event_kind kind, const char *fmt, ...) {
    train_event e = {.kind = kind, .epoch = t->epoch};
    va_list ap;
    va_start(ap, fmt);
    errmsg_vset(e.text, sizeof e.text, fmt, ap);   // paths in it escaped: every front end shows it safely
    va_end(ap);
    trainer_post(t, &e);
}

int trainer_fail(trainer *t, frost_fix fix, const char *fmt, ...) {
    train_event e = {.kind = EV_ERROR, .epoch = t->epoch, .fix = fix};
    va_list ap;
    va_start(ap, fmt);
    errmsg_vset(e.text, sizeof e.text, fmt, ap);
    va_end(ap);
    trainer_post(t, &e);
    return RUN_FAILED;
}

int trainer_fail_status(trainer *t, const char *what, ft_status *s) {
    trainer_fail(t, ft_status_code(s) == FT_ENOMEM ? FIX_SMALLER_BATCH : FIX_NONE, "%s: %s", what,
                 ft_status_message(s));
    ft_status_free(s);
    return RUN_FAILED;
}

static void post_skipped(void *user, const char *path, const char *reason) {
    trainer_post_text(user, EV_SKIPPED, "%s: %s", path, reason);
}

void trainer_report_skipped(trainer *t) { t->bad_reported = badfiles_each(&t->bad, t->bad_reported, post_skipped, t); }

// At a batch boundary: 1 when the run must stop. Waits here while paused.
int trainer_should_stop(trainer *t) {
    if (atomic_load(&t->paused)) {
        pthread_mutex_lock(&t->mu);
        while (atomic_load(&t->paused) && !job_cancelled(&t->base)) pthread_cond_wait(&t->cv, &t->mu);
        pthread_mutex_unlock(&t->mu);
    }
    return job_cancelled(&t->base) || t->finder.stop;
}

// ---------------------------------------------------------------------------------------------
// what other programs reproduce of a run

// Each phase's loader shuffles with a seed of its own.
uint64_t trainer_phase_seed(const trainer_config *c, int phase) { return c->seed + (uint64_t)phase; }

void trainer_epoch_order(const trainer_config *c, int phase, int epoch, size_t *order, size_t n) {
    loader_epoch_order(trainer_phase_seed(c, phase), epoch - 1, 1, order, n);
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

int trainer_run_epochs(const trainer_config *c, const train_recipe *r, int *course) {
    int named = r->has_plan ? train_plan_epochs(&r->plan) : 0;
    int epochs = c->epochs > 0 ? c->epochs : r->has_plan && !train_plan_open_ended(&r->plan) ? named : 5;
    if (course) *course = named > epochs ? named : epochs;
    return epochs;
}

uint64_t trainer_epoch_seed(const trainer_config *c, int epoch) {
    return (c->seed * 1000003u + (uint64_t)epoch) & 0x7fffffffffffffffULL;
}

// ---------------------------------------------------------------------------------------------
// the config's defaults, and the job: start, events, controls, result

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
    trainer_layers_free(t);
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
    t->tune.epochs_given = c->epochs > 0;
    if (c->lr_find) {   // a sweep, not a run: nothing saved, measured or planned
        t->cfg.save = NULL;
        t->cfg.measure_every = 0;
        t->cfg.plan = t->cfg.schedule = NULL;
        lr_find_curve_init(&t->finder.curve, &c->find);
    }
    if (!t->tune.epochs_given) t->cfg.epochs = 5;
    if (train_recipe_set(&t->tune.recipe, t->cfg.plan, t->cfg.schedule, t->cfg.block_lr, t->cfg.class_weights, err,
                         errlen) != 0) {
        lr_find_curve_free(&t->finder.curve);
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
    if (job_start(&t->base, trainer_run_job, "training", err, errlen) != 0) {
        trainer_release(t);
        return NULL;
    }
    return t;
}

int trainer_poll(trainer *t, train_event *e) { return events_poll(t->q, e); }

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
    assert(t->status == RUN_DONE || t->status == RUN_STOPPED || t->status == RUN_FAILED);
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
