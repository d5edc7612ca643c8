/*
 * trainer.h — the seed's training loop, done right, on a background thread.
 *
 * One run: build the model (torchvision's, optional weights, every parameter frozen, the head
 * replaced for the dataset's classes, as the seed does), then for each epoch a train phase (train
 * mode, cross-entropy, backward, optimizer step) and a valid phase (eval mode, no gradients).
 * Progress comes as events (events.h), polled; pause, resume and cancel may be called from any
 * thread and act at the next batch boundary.
 *
 * Two choices the seed makes badly, as options:
 * - bn_eval: with a frozen backbone, BatchNorm layers stay in eval mode (fixed running statistics);
 *   0 reproduces the seed (batch statistics, running statistics drift although "frozen").
 * - cache: when nothing before the head is trainable or random (frozen backbone, BatchNorm in eval
 *   mode), the backbone's output is computed once per image in the first epoch and the head trains
 *   on the cached features afterwards. The losses are the same as without the cache, to float
 *   rounding.
 * - cache_disk: the feature cache is also kept on disk (feature_store.h), so the next run on the same
 *   images with the same backbone and preprocessing (another head, lr or schedule) trains on them
 *   from its first epoch: a split whose every image is on disk (or known not to decode) runs from
 *   the cache at once, with the batches and losses of a run that computed them. Not for the lr finder.
 */
#ifndef FROST_TRAINER_H
#define FROST_TRAINER_H

#include <stdint.h>

#include "dataset.h"
#include "events.h"
#include "frost_torch.h"
#include "layer_stats.h"
#include "lr_find.h"
#include "pipeline.h"
#include "train_recipe.h"

typedef struct {
    char arch[32];
    const char *weights;   // safetensors state_dict loaded before the head is replaced; NULL: none
    int epochs;            // 5; 0: the plan's epochs (when its stages name them all), else 5
    int batch_size;        // 16
    ft_opt_params opt;     // Adam, lr 1e-5
    uint64_t seed;         // 0
    char device[16];       // "auto", "cpu", "cuda", "cuda:N"
    int bn_eval;           // 1
    int cache;             // -1: on when exact; 0 off; 1 on (an error when it cannot be exact)
    int cache_disk;        // 1: the cache is kept on disk too (default; its cap 0 turns it off); 0 memory only
    int precision;         // 0 fp32 (ft_precision); TRAINER_PRECISION_AUTO: precision_auto.h decides as the run starts
    int workers;           // loader threads; 0: a quarter of the cores, at least 1
    int threads;           // libtorch intra-op threads; 0: the cores available
    pipeline_opts prep;    // the seed's: 224x224, exact, mean/std 0.5
    const char *save;      // checkpoint written after every epoch, and when stopped; NULL: none
    const char *resume;    // checkpoint (and its .optim) to continue from, with its architecture; NULL: none
    const char *trainable;   // NULL: the seed (only the new head trains); else comma-separated module paths
                             // ("layer4,fc"; "all": every parameter) that train, everything else frozen
    int keep_model;          // 1: trainer_result hands the trained model over instead of freeing it
    int profile;             // 1: at the end, EV_INFO lines "profile: ..." with where the time went
    // fine-tuning beyond the tutorial's (train_recipe.h); NULL: not asked (a resumed run takes the
    // checkpoint's, else the tutorial's: one stage, one constant lr, no class weights)
    const char *plan;            // staged unfreezing, "head:2,last1:3"; sets what trains (not with trainable)
    const char *schedule;        // "constant", "cosine", "one-cycle", "warmup"[":N" warm-up steps]
    const char *block_lr;        // "layer3=0.01,layer4=0.1" or "spread:R": parameter groups
    const char *class_weights;   // "none", "auto", "W1,W2,..."
    int lr_find;                 // 1: instead of epochs, the lr finder's sweep (lr_find.h): one training step per
                                 // lr of find, each posted as EV_LR_POINT, then EV_LR_SUGGEST; no validation,
                                 // no checkpoint, no measurements, no plan or schedule
    lr_find_opts find;
    int measure_every;   // 10: every this many training batches (and at each train phase's end) what
                         // training did to each module is measured (layer_stats.h) and posted as
                         // EV_LAYERS; 0: never
} trainer_config;

// trainer_config.precision: measured and picked (precision_auto.h)
#define TRAINER_PRECISION_AUTO (-1)

void trainer_config_default(trainer_config *c);

typedef struct trainer trainer;

// The run is a background job (job.h): start, poll its events, done, cancel, free.
//
// Starts the run on its own thread. The dataset and the strings in c must stay valid until
// trainer_free. NULL with err when the thread cannot start (the run's own failures arrive as
// EV_ERROR events).
trainer *trainer_start(const trainer_config *c, dataset *d, char *err, size_t errlen);
// The next event without waiting: 1, or 0 when there is none now. EV_FINISHED is the last one.
int trainer_poll(trainer *t, train_event *e);
// The same, waiting up to timeout_ms for one (for a command's main loop).
int trainer_wait(trainer *t, train_event *e, int timeout_ms);
// 1 once the run has ended (EV_FINISHED has been posted).
int trainer_done(trainer *t);
// Stops the run at the next batch boundary (a paused run too); returns at once.
void trainer_cancel(trainer *t);
// Pause and resume act at the next batch boundary; any thread may call them.
void trainer_pause(trainer *t);
void trainer_resume(trainer *t);
int trainer_paused(trainer *t);
// The run's end: 0 finished, 1 stopped, -1 failed; with keep_model, *model (may be NULL) takes the
// trained model (the caller frees it with ft_model_free; NULL when none was built). Call it once
// EV_FINISHED has arrived (or done is 1): it waits for the thread, which is then ending.
int trainer_result(trainer *t, ft_model **model);
// Cancels when still running, waits for the thread, frees (with a model not taken). Accepts NULL.
void trainer_free(trainer *t);
// The layer report an EV_LAYERS event names (its batch field), or NULL; valid until trainer_free.
// Measured against the model as the run started: what this run did. Two alarms come from them as
// EV_ALARM: frozen BatchNorm layers whose statistics drift (once, when first seen), and trainable
// units that moved less than LAYER_LEARNING_MIN in the run's first epoch (at its end).
const layer_report *trainer_layers(trainer *t, size_t k);

// libtorch's threads for a run on device ("cpu", "cuda", "auto"): every core on the CPU (the
// network's arithmetic is most of the work there), one on a GPU (the CPU's job is then decoding).
int trainer_default_threads(const char *device);

// The order in which a run with config c takes the items of a phase (PHASE_TRAIN, PHASE_VALID) in
// epoch (1-based): indices into the split's items, as its loader shuffles them. A run resumed at
// epoch E shuffles as the uninterrupted run did there.
void trainer_epoch_order(const trainer_config *c, int phase, int epoch, size_t *order, size_t n);
// The seed of libtorch's generator as epoch's train phase starts (its dropout masks come from it):
// seed * 1000003 + epoch. torch.manual_seed(it) there gives a PyTorch script the same masks.
uint64_t trainer_epoch_seed(const trainer_config *c, int epoch);
// The epochs a new run with config c and recipe r trains (c->epochs, or when not given (0) the plan's
// when it names them all, else 5), and into *course (may be NULL) its whole course, which the schedule
// spans (more when the plan names more: the run then stops earlier).
int trainer_run_epochs(const trainer_config *c, const train_recipe *r, int *course);
// The settings a checkpoint of c's run records (train_recipe.h), the course being course_epochs
// when it is more than c's epochs.
void trainer_settings(const trainer_config *c, int course_epochs, train_settings *s);

#endif
