/*
 * layer_stats.h — what a training run does to every module of the printed tree, measured against
 * a snapshot taken when the run starts (ft_snapshot_take), summed up the tree:
 *
 *   change  ||W - W0|| / ||W0|| over the module's trainable parameters at and below it: how far
 *           training has moved them, relative to their size (NAN when none trains; a frozen
 *           parameter is held by no optimizer, so it cannot move)
 *   grad    the norm of the last step's gradient over those parameters (NAN before a step)
 *   drift   for a BatchNorm layer, how far its running statistics have moved from where they started:
 *           the larger of the mean's RMS shift in units of the layer's starting standard deviation,
 *           sqrt(mean_c (mu_c - mu0_c)^2 / (var0_c + eps)), and the variance's RMS relative change,
 *           sqrt(mean_c ((var_c - var0_c) / (var0_c + eps))^2); for a module above BatchNorm layers,
 *           the largest of theirs (NAN when there are none)
 *
 * and the two alarms drawn from them: frozen layers that change anyway (a BatchNorm whose statistics
 * drift because it runs in train mode) and trainable layers that do not learn (their change after the
 * first epoch stays under LAYER_LEARNING_MIN).
 */
#ifndef FROST_LAYER_STATS_H
#define FROST_LAYER_STATS_H

#include <stddef.h>

#include "frost_torch.h"

// A trainable module whose parameters moved by less than this, relative to their size, over the
// first epoch is "not learning". Measured on sample_data, resnet18 from scratch, Adam, 224x224, batch
// 16 (8 steps an epoch), the head after epoch 1: lr 1e-5 (the tutorial's) 0.22% — that run ends at
// 33.33%, every image in one class —, lr 1e-4 2.1%, lr 1e-3 12.9%.
#define LAYER_LEARNING_MIN 0.01

typedef struct {
    double change, grad, drift;
    int64_t params, trainable;   // of the module and below (the node table's)
    int batchnorm;               // 1 for a BatchNorm2d
    int depth;                   // in the printed tree (0: the root)
    char type[24];               // PyTorch's class name
} layer_stat;

typedef struct {
    int epoch;     // the epoch in which it was measured (1-based)
    size_t step;   // optimizer steps since the run started
    size_t n;      // one row per node of ft_model_nodes, in that order
    layer_stat *rows;
    char **paths;   // each row's module path ("" for the root)
} layer_report;

// Measures m against s (a snapshot of the same model, whose tables have not changed since): 0, or -1
// with err.
int layer_report_measure(ft_model *m, const ft_snapshot *s, int epoch, size_t step, layer_report *out, char *err,
                         size_t errlen);
// A deep copy: 0, or -1 when out of memory (dst then empty).
int layer_report_copy(layer_report *dst, const layer_report *src);
void layer_report_free(layer_report *r);   // accepts a zeroed report

// The row of a module path, or -1.
long layer_report_find(const layer_report *r, const char *path);

// Frozen BatchNorm layers (no trainable parameter) whose statistics moved: their count, and their paths
// in names ("layer1.0.bn1, layer1.0.bn2 and 18 more", up to len).
size_t layer_report_frozen_moving(const layer_report *r, char *names, size_t len);
// The trainable units — the highest modules all of whose parameters train — whose change is under
// LAYER_LEARNING_MIN: their count, and their paths in names.
size_t layer_report_not_learning(const layer_report *r, char *names, size_t len);

#endif
