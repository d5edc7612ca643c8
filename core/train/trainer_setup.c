// trainer_setup.c — what a run needs before its first batch: the model (built, or resumed from a
// checkpoint with its preprocessing and recipe), the save target checked, the device, the cores split
// between decoding and the network (thread_split.h, from what both cost here), and the loaders.
#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checkpoint.h"
#include "clock.h"
#include "i18n.h"
#include "loader.h"
#include "thread_split.h"
#include "trainer_parts.h"

int trainer_build_model(trainer *t) {
    char err[1024];
    ft_status *s;
    if (t->cfg.resume) {
        checkpoint_meta meta;
        int rc = checkpoint_load(t->cfg.resume, &t->m, &meta, err, sizeof err);
        if (rc != 0) return trainer_fail(t, rc == CHECKPOINT_E_WEIGHTS ? FIX_AS_WEIGHTS : FIX_NONE, "%s", err);
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
        t->tune.ckpt_recipe = meta.train_config;   // merged with this run's own below
        meta.train_config = NULL;
        checkpoint_meta_free(&meta);
        if (!fits)
            return trainer_fail(t, FIX_NONE, "%s: a %s checkpoint for other classes than %s has (%zu classes)",
                                t->cfg.resume, arch, t->d->root, t->d->n_classes);
    } else {
        transfer_spec spec = {
            .arch = t->cfg.arch, .classes = (int64_t)t->d->n_classes, .weights = t->cfg.weights, .weights_whole = 1};
        if (transfer_build(&spec, &t->m, NULL, 0, err, sizeof err) != 0) return trainer_fail(t, FIX_NONE, "%s", err);
        if (t->cfg.weights)
            trainer_post_text(t, EV_INFO, "weights %s loaded; their 1000-class head replaced by a new %zu-class one",
                              t->cfg.weights, t->d->n_classes);
    }
    if (train_recipe_merge_json(&t->tune.recipe, t->tune.ckpt_recipe, err, sizeof err) != 0)
        return trainer_fail(t, FIX_NONE, "%s: %s", t->cfg.resume, err);
    if (t->tune.recipe.has_plan && t->cfg.trainable)
        return trainer_fail(t, FIX_NONE, "a plan of stages says what trains: a trainable list cannot come with it");
    if (t->cfg.trainable) {
        if (transfer_apply_trainable(t->m, t->cfg.trainable, err, sizeof err) != 0)
            return trainer_fail(t, FIX_TRAINABLE, "%s", err);
        trainer_post_text(t, EV_INFO, "trainable: %s; everything else frozen", t->cfg.trainable);
    }
    unsigned char trains[TRANSFER_MAX_BLOCKS] = {0};
    if (t->tune.recipe.has_plan && trainer_plan_setup(t, trains) != RUN_DONE) return RUN_FAILED;
    if (trainer_class_weights_setup(t) != RUN_DONE) return RUN_FAILED;
    if (!t->cfg.resume && !t->cfg.weights) trainer_random_backbone_note(t);
    if (t->cfg.save) {   // find now what the first save would refuse: a class name that is not UTF-8, a bad target
        checkpoint_meta meta;
        checkpoint_meta_init(&meta);
        meta.num_classes = (int64_t)t->d->n_classes;
        meta.class_names = t->d->classes;
        meta.head_replaced = 1;
        meta.tf = t->prep.tf;
        if (checkpoint_meta_check(&meta, err, sizeof err) != 0)
            return trainer_fail(t, FIX_NONE, "cannot save to %s: %s", t->cfg.save, err);
        if (checkpoint_check_target(t->cfg.save, err, sizeof err) != 0)
            return trainer_fail(t, FIX_NONE, "cannot save: %s", err);
    }
    const char *dev = t->cfg.device;
    if (strcmp(dev, "auto") == 0) dev = ft_cuda_available() ? "cuda" : "cpu";
    if ((s = ft_model_to_device(t->m, dev))) return trainer_fail_status(t, "device", s);
    if (trainer_make_optimizer(t, trains) != RUN_DONE) return RUN_FAILED;
    if (t->cfg.resume) {
        size_t restored = 0;
        if (checkpoint_load_optimizer(t->cfg.resume, t->opt, &restored, err, sizeof err) != 0)
            return trainer_fail(t, FIX_NONE, "%s", err);
        trainer_post_text(t, EV_INFO, "resuming %s after epoch %d (%zu optimizer tensors restored)", t->cfg.resume,
                          t->start_epoch, restored);
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

// libtorch's threads as asked (--threads), else the device's default.
int trainer_run_threads(const trainer *t) {
    return t->cfg.threads > 0 ? t->cfg.threads : trainer_default_threads(t->cfg.device);
}

// The cores shared between decoding and the network (thread_split.h), from what both cost here:
// one image's decoding timed on this thread, and the backbone's forward pass (probe_network).
// --threads and --workers, when given, are kept as asked, with the loader decoding beside the network as before.
void trainer_choose_split(trainer *t, int gpu) {
    int cores = loader_default_workers();
    thread_split sp;
    const char *env = getenv("FROST_THREAD_SPLIT");
    if (env && strcmp(env, "quarter") == 0) {
        thread_split_quarter(cores, gpu, &sp);
    } else if (t->cache.on && t->cache.filled[PHASE_TRAIN] &&
               (t->cache.filled[PHASE_VALID] || t->d->valid.n_items == 0)) {
        sp = (thread_split){.threads = trainer_run_threads(t), .workers = 1};
        snprintf(sp.why, sizeof sp.why, "every image's features come from disk, nothing to decode");
    } else if (t->cfg.threads > 0 || t->cfg.workers > 0) {
        sp = (thread_split){.threads = trainer_run_threads(t), .workers = t->cfg.workers > 0 ? t->cfg.workers : 1};
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
    trainer_post_text(t, EV_INFO,
                      ngettext("threads: %d for libtorch, %d loader worker%s: %s (%d cores)",
                               "threads: %d for libtorch, %d loader workers%s: %s (%d cores)",
                               (unsigned long)sp.workers),
                      sp.threads, sp.workers, sp.turns ? _(", taking turns") : "", sp.why, cores);
    trainer_post_text(t, EV_INFO, "%s on %s, %d libtorch threads, %d loader workers; BatchNorm %s", t->cfg.arch,
                      ft_model_device(t->m), ft_get_num_threads(), t->cfg.workers,
                      t->cfg.bn_eval
                          ? _("in eval mode where frozen (running statistics fixed)")
                          : _("in train mode (batch statistics; running statistics updated, as the tutorial's)"));
}

int trainer_make_loaders(trainer *t) {
    loader_opts lo;
    loader_opts_default(&lo);
    assert(t->cfg.batch_size >= 1);   // trainer_start refuses less
    lo.batch_size = t->cfg.batch_size;
    lo.workers = t->cfg.workers;
    lo.turns = t->turns;
    lo.sample_floats = pipeline_sample_floats(&t->prep);
    loader_source src = pipeline_source(&t->prep);
    char err[1024];
    const dataset_split *splits[2] = {&t->d->train, &t->d->valid};
    for (int p = 0; p < 2; p++) {
        lo.seed = trainer_phase_seed(&t->cfg, p);
        t->loaders[p] = loader_new(splits[p], &lo, &src, &t->bad, err, sizeof err);
        if (!t->loaders[p]) return trainer_fail(t, errno == ENOMEM ? FIX_SMALLER_BATCH : FIX_NONE, "%s", err);
    }
    size_t most = t->d->train.n_items > t->d->valid.n_items ? t->d->train.n_items : t->d->valid.n_items;
    t->order = malloc((most ? most : 1) * sizeof *t->order);
    size_t width = (size_t)(t->cache.feat > 0 ? t->cache.feat : 1);
    t->gather = malloc((size_t)t->cfg.batch_size * width * sizeof(float));
    t->gather_labels = malloc((size_t)t->cfg.batch_size * sizeof *t->gather_labels);
    if (!t->order || !t->gather || !t->gather_labels) {
        return trainer_fail(t, FIX_SMALLER_BATCH, "out of memory");
    }
    return RUN_DONE;
}
