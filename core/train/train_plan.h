/*
 * train_plan.h — staged unfreezing: which modules train in which epochs.
 *
 * A plan is a list of stages, each a set of modules and a number of epochs, written
 * "head:2,last1:3": the new head alone for 2 epochs, then the last block before it with the head
 * for 3 more (fastai's fine_tune, Lightning's BackboneFinetuning). A stage's set is
 *   head     the new head (the tutorial's choice)
 *   lastK    the last K blocks before the head, and the head (transfer.h's blocks: ResNet's conv1,
 *            bn1, layer1..layer4; VGG's stages of features)
 *   all      every parameter
 *   A+B+...  module paths, as the trainable list names them ("layer3+layer4+fc")
 * The last stage may leave out its epochs ("head:2,all"): it runs for the rest of the run.
 *
 * The stage of an epoch follows from the plan and the epoch alone, so a run resumed in the middle
 * of a plan is in the stage the uninterrupted run was in (the plan travels in the checkpoint).
 */
#ifndef FROST_TRAIN_PLAN_H
#define FROST_TRAIN_PLAN_H

#include <stddef.h>

#include "frost_torch.h"

#define TRAIN_PLAN_MAX_STAGES 8

typedef struct {
    int epochs;       // 0: the rest of the run (last stage only)
    char what[256];   // "head", "lastK", "all", or module paths joined with '+'
} plan_stage;

typedef struct {
    plan_stage stages[TRAIN_PLAN_MAX_STAGES];
    int n;
} train_plan;

// Parses text into *p. 0, or -1 with a one-line message.
int train_plan_parse(const char *text, train_plan *p, char *err, size_t errlen);
// The plan as text parse reads back.
void train_plan_format(const train_plan *p, char *buf, size_t len);
// The epochs the stages name (the open last stage counts 0).
int train_plan_epochs(const train_plan *p);
// 1 when the last stage has no count of its own.
int train_plan_open_ended(const train_plan *p);
// The stage (0-based) that epoch (1-based) trains in.
int train_plan_stage_at(const train_plan *p, int epoch);
// The first epoch (1-based) of stage s.
int train_plan_stage_start(const train_plan *p, int s);
// Stage s's modules as a trainable list (transfer_apply_trainable's form) for model m. 0, or -1 with
// err (a K past the blocks the model has).
int train_plan_trainable(const train_plan *p, int s, ft_model *m, char *buf, size_t len, char *err, size_t errlen);

#endif
