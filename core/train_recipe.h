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

// Fills *r from the texts (each NULL when not given). 0, or -1 with a one-line message.
int train_recipe_set(train_recipe *r, const char *plan, const char *schedule, const char *block_lrs,
                     const char *class_weights, char *err, size_t errlen);
// The recipe as JSON text (malloc'd; NULL when out of memory), for the checkpoint.
char *train_recipe_json(const train_recipe *r);
// Takes what r does not have yet from a checkpoint's JSON (NULL: nothing). 0, or -1 with err.
int train_recipe_merge_json(train_recipe *r, const char *json, char *err, size_t errlen);
// 1 when the optimizer needs parameter groups (a plan or per-block lrs).
int train_recipe_groups(const train_recipe *r);

#endif
