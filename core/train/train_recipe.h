/*
 * train_recipe.h — how a run fine-tunes, beyond the tutorial's one stage at one constant lr: the
 * staged-unfreezing plan (train_plan.h), the lr schedule (lr_schedule.h), the per-block learning
 * rates (block_lr.h) and the class weights (class_weights.h), each as the text the user gave.
 *
 * The recipe travels in the checkpoint (frost.train, as JSON), so a resumed run goes on with the
 * plan, schedule and groups it was started with; what the resuming command gives itself wins.
 */
#ifndef FROST_TRAIN_RECIPE_H
#define FROST_TRAIN_RECIPE_H

#include <stddef.h>

#include "block_lr.h"
#include "lr_schedule.h"
#include "train_plan.h"

typedef struct {
    // as given; "" when not given
    char plan_text[512], schedule_text[64], block_lr_text[512], class_weights_text[512];
    // parsed
    int has_plan;
    train_plan plan;
    lr_schedule schedule;   // constant when not given
    int has_blocks;         // per-block lrs asked for
    block_lr blocks;
} train_recipe;

// What else shaped a run, kept beside the recipe in frost.train so that a checkpoint says how it was
// trained (`frost export --pytorch` writes it into a script). Not merged on resume: there the command
// line and the defaults decide these, as before.
typedef struct {
    int known;           // 1: read from a checkpoint that has them (0: an older one; the defaults)
    char optimizer[8];   // "adam" | "sgd"
    double lr, momentum, weight_decay, beta1, beta2, eps;
    int batch;
    unsigned long long seed;
    int bn_eval;   // 1: BatchNorm layers whose parameters are all frozen stay in eval mode
    int epochs;    // the run's whole course (a plan's epochs when it names more)
} train_settings;

// The tutorial's (trainer_config_default's): Adam at 1e-5, batch 16, seed 0, BatchNorm eval, 5 epochs.
void train_settings_default(train_settings *s);

// Fills *r from the texts (each NULL when not given). 0, or -1 with a one-line message.
int train_recipe_set(train_recipe *r, const char *plan, const char *schedule, const char *block_lrs,
                     const char *class_weights, char *err, size_t errlen);
// The recipe as JSON text (malloc'd; NULL when out of memory), for the checkpoint.
char *train_recipe_json(const train_recipe *r);
// The same with the run's settings in it too (s NULL: as train_recipe_json).
char *train_recipe_json_settings(const train_recipe *r, const train_settings *s);
// The settings a checkpoint's frost.train holds (json NULL or without them: the defaults, known 0).
void train_settings_from_json(const char *json, train_settings *s);
// Takes what r does not have yet from a checkpoint's JSON (NULL: nothing). 0, or -1 with err.
int train_recipe_merge_json(train_recipe *r, const char *json, char *err, size_t errlen);
// 1 when the optimizer needs parameter groups (a plan or per-block lrs).
int train_recipe_groups(const train_recipe *r);

// The blocks (transfer_blocks' entries of m) that train in some stage of r's plan, marked in
// trains[] (TRANSFER_MAX_BLOCKS): each stage is applied to m in turn, so m is left in the last one.
// 0, or -1 with err ("plan stage 2 (last9): ...").
int train_recipe_plan_blocks(const train_recipe *r, ft_model *m, unsigned char *trains, char *err, size_t errlen);

// The optimizer a run with recipe r makes for m (the trainer's, and the code the interface shows):
// the tutorial's one group of what trains now, or (train_recipe_groups) a group per block that
// trains in some stage, with its lr (block_lr.h). trains[] holds the plan's blocks
// (train_recipe_plan_blocks); without a plan the blocks that train now are marked in it here.
// 0 with *out, or -1 with err.
int train_recipe_optimizer(const train_recipe *r, ft_model *m, const ft_opt_params *p, unsigned char *trains,
                           ft_optimizer **out, char *err, size_t errlen);

#endif
