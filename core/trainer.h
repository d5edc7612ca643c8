/*
 * trainer.h — the seed's training loop, done right, on a background thread.
 *
 * One run: build the model (torchvision's, optional weights, every parameter frozen, the head
 * replaced for the dataset's classes, as the seed does), then for each epoch a train phase (train
 * mode, cross-entropy, backward, optimizer step) and a valid phase (eval mode, no gradients).
 * Progress goes to an event_queue (events.h); pause, resume and stop may be called from any thread
 * and act at the next batch boundary.
 *
 * Two choices the seed makes badly, as options:
 * - bn_eval: with a frozen backbone, BatchNorm layers stay in eval mode (fixed running statistics);
 *   0 reproduces the seed (batch statistics, running statistics drift although "frozen").
 * - cache: when nothing before the head is trainable or random (frozen backbone, BatchNorm in eval
 *   mode), the backbone's output is computed once per image in the first epoch and the head trains
 *   on the cached features afterwards. The losses are the same as without the cache, to float
 *   rounding.
 */
#ifndef FROST_TRAINER_H
#define FROST_TRAINER_H

#include <stdint.h>

#include "dataset.h"
#include "events.h"
#include "frost_torch.h"
#include "pipeline.h"

typedef struct {
    char arch[32];
    const char *weights;   // safetensors state_dict loaded before the head is replaced; NULL: none
    int epochs;            // 5
    int batch_size;        // 16
    ft_opt_params opt;     // Adam, lr 1e-5
    uint64_t seed;         // 0
    char device[16];       // "auto", "cpu", "cuda", "cuda:N"
    int bn_eval;           // 1
    int cache;             // -1: on when exact; 0 off; 1 on (an error when it cannot be exact)
    int workers;           // loader threads; 0: a quarter of the cores, at least 1
    int threads;           // libtorch intra-op threads; 0: the cores available
    pipeline_opts prep;    // the seed's: 224x224, exact, mean/std 0.5
    const char *save;      // checkpoint written after every epoch, and when stopped; NULL: none
    const char *resume;    // checkpoint (and its .optim) to continue from, with its architecture; NULL: none
    const char *trainable; // NULL: the seed (only the new head trains); else comma-separated module paths
                           // ("layer4,fc"; "all": every parameter) that train, everything else frozen
    int keep_model;        // 1: trainer_join_model hands the trained model over instead of freeing it
    int profile;           // 1: at the end, EV_INFO lines "profile: ..." with where the time went
} trainer_config;

void trainer_config_default(trainer_config *c);

typedef struct trainer trainer;

// Starts the run on its own thread. The dataset, the queue and the strings in c must stay valid
// until trainer_join returns. NULL with err when the thread cannot start (the run's own failures
// arrive as EV_ERROR events).
trainer *trainer_start(const trainer_config *c, dataset *d, event_queue *q, char *err, size_t errlen);
void trainer_pause(trainer *t);
void trainer_resume(trainer *t);
void trainer_stop(trainer *t);
int trainer_paused(trainer *t);
// Waits for the thread and frees t. Returns 0 finished, 1 stopped, -1 failed.
int trainer_join(trainer *t);
// trainer_join that also hands over the trained model (with keep_model set and a model built; else
// *model is NULL). The caller frees it with ft_model_free.
int trainer_join_model(trainer *t, ft_model **model);

// Applies a `trainable` spec (see trainer_config) to m: everything frozen, then each listed module
// thawed. Returns 0, or -1 with the unknown module named in err.
int trainer_apply_trainable(ft_model *m, const char *spec, char *err, size_t errlen);

#endif
