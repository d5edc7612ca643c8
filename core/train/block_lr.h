/*
 * block_lr.h — a learning rate per block: the optimizer's parameter groups.
 *
 * Discriminative learning rates (fastai's, timm's layer decay): the blocks near the input, whose
 * ImageNet features are the most general, move less than the ones near the head. Written either as
 * multipliers of the run's lr by block name, "layer3=0.01,layer4=0.1" (the blocks transfer.h names:
 * ResNet's conv1, bn1, layer1..layer4, fc; VGG's features stages such as "features.24-30", and
 * classifier; "head" stands for the head's block; unnamed blocks: 1), or as a geometric spread,
 * "spread:R": the head keeps the lr, the first block that trains gets lr/R, the blocks between
 * evenly spaced on a log scale.
 *
 * Every block that trains in any stage of the run gets a group of its own (ft_param_group), so a
 * block thawed later trains with its own lr, and the groups are the same before and after a resume.
 */
#ifndef FROST_BLOCK_LR_H
#define FROST_BLOCK_LR_H

#include <stddef.h>

#include "frost_torch.h"
#include "transfer.h"

typedef struct {
    int spread;     // 1: geometric spread by ratio; 0: multipliers by name
    double ratio;   // spread: the head's lr over the first trained block's
    size_t n;       // multipliers
    char names[TRANSFER_MAX_BLOCKS][64];
    double mult[TRANSFER_MAX_BLOCKS];
} block_lr;

// Parses text (NULL or "": every block at the run's lr). 0, or -1 with a one-line message.
int block_lr_parse(const char *text, block_lr *b, char *err, size_t errlen);

// The groups for model m: one per block whose flag in trains[] (per transfer_blocks entry) is set, in
// the model's order, with lr times its multiplier. groups[] and paths[] hold TRANSFER_MAX_BLOCKS;
// groups[i].modules points into paths[i]. Returns the count, or -1 with err (a block name the model
// does not have).
typedef char block_lr_paths[2048];
int block_lr_groups(const block_lr *b, ft_model *m, const unsigned char *trains, double lr, ft_param_group *groups,
                    block_lr_paths *paths, char *err, size_t errlen);

#endif
