// trainer_tune.c — fine-tuning beyond the tutorial's (train_recipe.h): the plan's stages thawing
// modules epoch by epoch, the optimizer with a parameter group per block, the lr schedule's step,
// the lr finder's sweep of lrs, the class weights of the loss. Its state: trainer_tune (trainer_parts.h).
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>

#include "class_weights.h"
#include "i18n.h"
#include "trainer_parts.h"

// Before training step b (0-based) of the epoch: each group's lr (and momentum) where the schedule
// has it. A constant schedule leaves the optimizer as it is.
ft_status *trainer_schedule_step(trainer *t, size_t b) {
    assert(t->tune.n_groups <= TRANSFER_MAX_BLOCKS + 1);   // base_lr holds one per group
    if (t->cfg.lr_find) {   // the sweep's next lr, each group keeping its ratio to the run's lr
        double f = lr_find_lr(&t->cfg.find, (int)t->finder.curve.n) / t->cfg.opt.lr;
        t->tune.lr_now = t->cfg.opt.lr * f;
        ft_status *s = NULL;
        for (size_t g = 0; !s && g < t->tune.n_groups; g++)
            s = ft_optimizer_group_set(t->opt, g, t->tune.base_lr[g] * f, -1);
        return s;
    }
    const lr_schedule *sc = &t->tune.recipe.schedule;
    long k = (long)(t->epoch - 1) * t->tune.steps_per_epoch + (long)b;
    double f = lr_schedule_factor(sc, k, t->tune.total_steps);
    t->tune.lr_now = t->cfg.opt.lr * f;
    if (sc->kind == LR_CONSTANT) return NULL;
    double fixed = t->cfg.opt.kind == FT_OPT_SGD ? t->cfg.opt.momentum : t->cfg.opt.beta1;
    double mom = lr_schedule_momentum(sc, k, t->tune.total_steps, fixed);
    ft_status *s = NULL;
    for (size_t g = 0; !s && g < t->tune.n_groups; g++)
        s = ft_optimizer_group_set(t->opt, g, t->tune.base_lr[g] * f, mom);
    return s;
}

// Applies stage s of the plan to the model. Its trainable list goes into list.
static int apply_stage(trainer *t, int s, char *list, size_t len) {
    char err[1024];
    if (train_plan_trainable(&t->tune.recipe.plan, s, t->m, list, len, err, sizeof err) != 0 ||
        transfer_apply_trainable(t->m, list, err, sizeof err) != 0)
        return trainer_fail(t, FIX_TRAINABLE, "plan stage %d (%s): %s", s + 1, t->tune.recipe.plan.stages[s].what, err);
    return RUN_DONE;
}

// The plan: the run's epochs, the blocks any stage trains (trains[]: each gets a parameter group from
// the start, so thawing needs no new optimizer), and the stage of the run's first epoch applied.
int trainer_plan_setup(trainer *t, unsigned char *trains) {
    const train_plan *p = &t->tune.recipe.plan;
    int named = train_plan_epochs(p);
    // the plan is the whole course; --epochs says how far this run goes (by default, to its end)
    trainer_config asked = t->cfg;
    if (!t->tune.epochs_given) asked.epochs = 0;
    t->cfg.epochs = trainer_run_epochs(&asked, &t->tune.recipe, &t->tune.course_epochs);
    if (train_plan_open_ended(p) && named >= t->cfg.epochs)
        return trainer_fail(t, FIX_NONE,
                            "the plan's stages before its last take %d epochs: the run has %d, none left for '%s'",
                            named, t->cfg.epochs, p->stages[p->n - 1].what);
    char list[4096], err[1024];
    if (train_recipe_plan_blocks(&t->tune.recipe, t->m, trains, err, sizeof err) != 0)
        return trainer_fail(t, FIX_TRAINABLE, "%s", err);
    t->tune.stage = train_plan_stage_at(p, t->start_epoch + 1);
    if (apply_stage(t, t->tune.stage, list, sizeof list) != RUN_DONE) return RUN_FAILED;
    char text[600];
    train_plan_format(p, text, sizeof text);
    trainer_post_text(t, EV_INFO, "plan: %s (%d stages, %d epochs%s)%s", text, p->n, t->tune.course_epochs,
                      t->tune.course_epochs > t->cfg.epochs ? _("; this run stops earlier") : "",
                      t->start_epoch > 0 ? _("; resumed in the stage its epoch belongs to") : "");
    t->tune.stage = -1 - t->tune.stage;   // not announced yet: enter_stage announces it
    return RUN_DONE;
}

// At the start of an epoch: the plan's stage for it. A new stage thaws (or freezes) its modules and
// is announced (EV_STAGE); the feature cache goes when the backbone no longer stays fixed.
int trainer_enter_stage(trainer *t) {
    if (!t->tune.recipe.has_plan) return RUN_DONE;
    const train_plan *p = &t->tune.recipe.plan;
    int s = train_plan_stage_at(p, t->epoch), announced = t->tune.stage >= 0;
    assert(s >= 0 && s < p->n);
    if (announced && s == t->tune.stage) return RUN_DONE;
    train_event e = {.kind = EV_STAGE, .epoch = t->epoch, .stage = s + 1, .stages = p->n};
    if (announced || -1 - t->tune.stage != s) {
        if (apply_stage(t, s, e.text, sizeof e.text) != RUN_DONE) return RUN_FAILED;
    } else {
        char err[1024];
        if (train_plan_trainable(p, s, t->m, e.text, sizeof e.text, err, sizeof err) != 0)
            return trainer_fail(t, FIX_TRAINABLE, "%s", err);
    }
    t->tune.stage = s;
    trainer_post(t, &e);
    if (t->cache.on && !trainer_cache_exact(t)) {
        trainer_drop_cache(t);
        trainer_post_text(t, EV_INFO, "feature cache dropped: from epoch %d the backbone trains, its output changes",
                          t->epoch);
    }
    return RUN_DONE;
}

// The class weights of the loss, from the recipe and the training split's counts.
int trainer_class_weights_setup(trainer *t) {
    char err[1024];
    free(t->tune.class_w);
    t->tune.class_w = malloc((t->d->n_classes ? t->d->n_classes : 1) * sizeof *t->tune.class_w);
    if (!t->tune.class_w) return trainer_fail(t, FIX_NONE, "out of memory");
    int rc = class_weights_resolve(t->tune.recipe.class_weights_text, t->d->train.class_counts, t->d->n_classes,
                                   t->tune.class_w, err, sizeof err);
    if (rc < 0) return trainer_fail(t, FIX_NONE, "%s", err);
    if (rc == 0) return RUN_DONE;
    ft_status *s = ft_model_set_class_weights(t->m, t->tune.class_w, (int64_t)t->d->n_classes);
    if (s) return trainer_fail_status(t, "class weights", s);
    char text[900];
    class_weights_describe(t->tune.class_w, (const char *const *)t->d->classes, t->d->n_classes, text, sizeof text);
    trainer_post_text(t, EV_INFO, "class weights in the loss: %s", text);
    return RUN_DONE;
}

// The optimizer: one group (the tutorial's), or a group per block that trains in any stage, each
// with its lr; then the schedule's step counts.
int trainer_make_optimizer(trainer *t, unsigned char *trains) {
    ft_status *s;
    char err[1024];
    if (train_recipe_optimizer(&t->tune.recipe, t->m, &t->cfg.opt, trains, &t->opt, err, sizeof err) != 0)
        return trainer_fail(t, FIX_NONE, "%s", err);
    t->tune.n_groups = ft_optimizer_group_count(t->opt);
    if (t->tune.n_groups > TRANSFER_MAX_BLOCKS + 1) t->tune.n_groups = TRANSFER_MAX_BLOCKS + 1;
    char text[900] = "";
    size_t used = 0;
    for (size_t g = 0; g < t->tune.n_groups; g++) {
        ft_group_info info;
        if ((s = ft_optimizer_group_get(t->opt, g, &info))) return trainer_fail_status(t, "optimizer", s);
        t->tune.base_lr[g] = info.lr;
        int w = snprintf(text + used, sizeof text - used, "%s%s %.3g", g ? ", " : "",
                         info.modules[0] ? info.modules : "trainable", info.lr);
        if (w > 0 && (size_t)w < sizeof text - used) used += (size_t)w;
    }
    if (train_recipe_groups(&t->tune.recipe)) trainer_post_text(t, EV_INFO, "learning rates by block: %s", text);
    const int B = t->cfg.batch_size;
    t->tune.steps_per_epoch = (long)((t->d->train.n_items + (size_t)B - 1) / (size_t)B);
    t->tune.total_steps =
        t->tune.steps_per_epoch * (t->tune.course_epochs > t->cfg.epochs ? t->tune.course_epochs : t->cfg.epochs);
    lr_schedule *sc = &t->tune.recipe.schedule;
    if (sc->warmup_steps < 0) sc->warmup_steps = t->tune.steps_per_epoch;
    t->tune.lr_now = t->cfg.opt.lr;
    if (sc->kind != LR_CONSTANT) {
        char name[64];
        lr_schedule_format(sc, name, sizeof name);
        trainer_post_text(t, EV_INFO, "lr schedule: %s over %ld steps (%ld per epoch)", name, t->tune.total_steps,
                          t->tune.steps_per_epoch);
    }
    return RUN_DONE;
}
