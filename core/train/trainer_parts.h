/*
 * trainer_parts.h — the trainer's insides, shared by its parts only (trainer.h is the interface).
 *
 * A run's state is one struct trainer, in pieces each owned by one file:
 *   trainer.c           the job and its controls (start, poll, pause, cancel, result), events out
 *   trainer_loop.c      the run: epochs, phases, steps, the lr finder's sweep, saves, the profile
 *   trainer_setup.c     the model built (or resumed), the threads split, the loaders
 *   trainer_tune.c      fine-tuning: the plan's stages, parameter groups, the schedule, class weights
 *   trainer_cache.c     the feature cache, in memory and on disk
 *   trainer_layers.c    what training does to each module, and the alarms that come from it
 * Every function here runs on the trainer's thread unless it says otherwise.
 */
#ifndef FROST_TRAINER_PARTS_H
#define FROST_TRAINER_PARTS_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "badfiles.h"
#include "job.h"
#include "loader.h"
#include "trainer.h"
#include "transfer.h"

enum { RUN_DONE = 0, RUN_STOPPED = 1, RUN_FAILED = -1 };
enum { CACHED_FEATURES = 1, CACHED_BAD = 2 };

// The feature cache in memory (trainer_cache.c): the backbone's output per image, by split.
typedef struct {
    int on;
    int64_t feat;               // floats per cached sample
    float *rows[2];             // n_items x feat per split
    unsigned char *cached[2];   // per item: CACHED_FEATURES, CACHED_BAD (known from disk not to decode), or 0
    int filled[2];              // the split's every item is known: its phases run from the cache
} trainer_cache;

// The feature cache on disk (feature_store.h, trainer_cache.c): on when asked and its cap is not 0.
typedef struct {
    int on;
    long long cap;
    char *dir, *key, *root;   // the folder, the model's key, the dataset's real path
    char *path[2];            // the entry of each split
    uint8_t *ids[2];          // n_items x FEATURE_ID_LEN: each image's identity
    unsigned char *id_ok[2];
} trainer_disk;

// --profile: where the run's time went (trainer thread, seconds).
typedef struct {
    double wait, features, forward, backward, optimizer, copy, events, measure;
    size_t loaded;   // images that came through the loaders
    // the first batch that ran the backbone: the wait for it, and its backbone's seconds (the one-time
    // set-up of the kernels for its shape, unless the warm-up made them); the warm-up's own seconds
    double first_wait, first_features, warmup;
    int firsts;   // 1 once the first batch is counted
} trainer_profile;

// What training does to each module (layer_stats.h, trainer_layers.c): the snapshot it is measured
// against, and the reports (each allocated once, never moved: trainer_layers hands them out under mu).
typedef struct {
    ft_snapshot *snap;
    layer_report **reports;
    size_t n, cap;
    int alarmed_frozen;
} trainer_measurements;

// Fine-tuning (train_recipe.h, trainer_tune.c): the plan's stage now, the groups' learning rates
// before the schedule, the schedule's step count.
typedef struct {
    train_recipe recipe;
    char *ckpt_recipe;   // the resumed checkpoint's recipe (JSON), until merged
    int stage;           // the stage now; -1 - s: stage s applied but not announced yet
    double base_lr[TRANSFER_MAX_BLOCKS + 1];
    size_t n_groups;
    long steps_per_epoch, total_steps;
    int epochs_given;    // the config named the epochs (0 there: the plan's, or 5)
    int course_epochs;   // the plan's epochs, when more than this run's: the schedule spans them
    double lr_now;
    float *class_w;
} trainer_tune;

// The lr finder's sweep (lr_find.h).
typedef struct {
    lr_find_curve curve;   // its points
    int stop;              // the finder has what it needs
} trainer_finder;

struct trainer {
    job base;   // first: run_job() casts back; base.cancel is the stop flag
    trainer_config cfg;
    dataset *d;
    event_queue *q;
    atomic_int paused;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int status;   // RUN_*, once done

    // the run (trainer thread only)
    ft_model *m;
    ft_optimizer *opt;
    pipeline_opts prep;
    loader *loaders[2];
    badfile_list bad;
    size_t bad_reported;
    float *gather;   // batch_size x feat, for replayed batches
    int64_t *gather_labels;
    size_t *order;
    size_t steps;
    double run_start, last_epoch_seconds;
    int epoch, start_epoch;
    int turns;    // the loader decodes only while the trainer waits (thread_split.h)
    int warmed;   // the warm-up has run (or is not wanted): see warm_up in trainer_loop.c
    // the phases that ran the backbone (not from the feature cache) so far: images and seconds
    double backbone_images, backbone_seconds;

    trainer_cache cache;
    trainer_disk disk;
    trainer_profile prof;
    trainer_measurements layers;
    trainer_tune tune;
    trainer_finder finder;
};

// trainer.c: events out, controls in
void trainer_post(trainer *t, train_event *e);
void trainer_post_text(trainer *t, event_kind kind, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
// Fails the run: an EV_ERROR with what would fix it. Returns RUN_FAILED.
int trainer_fail(trainer *t, frost_fix fix, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
// Fails the run with a shim status (freed here); memory running out is fixed by smaller batches.
int trainer_fail_status(trainer *t, const char *what, ft_status *s);
// Each file skipped since the last call, as an EV_SKIPPED event.
void trainer_report_skipped(trainer *t);
// At a batch boundary: 1 when the run must stop. Waits here while paused.
int trainer_should_stop(trainer *t);
// Each phase's loader shuffles with a seed of its own.
uint64_t trainer_phase_seed(const trainer_config *c, int phase);

// trainer_loop.c: the job's body
void trainer_run_job(job *base);

// trainer_setup.c
int trainer_build_model(trainer *t);
// The cores shared between decoding and the network; posts the run's threads and device.
void trainer_choose_split(trainer *t, int gpu);
int trainer_make_loaders(trainer *t);
// libtorch's threads as asked (--threads), else the device's default.
int trainer_run_threads(const trainer *t);

// trainer_tune.c
int trainer_plan_setup(trainer *t, unsigned char *trains);
int trainer_enter_stage(trainer *t);
int trainer_class_weights_setup(trainer *t);
int trainer_make_optimizer(trainer *t, unsigned char *trains);
// Before training step b (0-based) of the epoch: each group's lr (and momentum).
ft_status *trainer_schedule_step(trainer *t, size_t b);

// trainer_cache.c
int trainer_decide_cache(trainer *t);
// 1 when the feature cache gives the same numbers as running the backbone.
int trainer_cache_exact(trainer *t);
// Frees the feature cache; the run goes on without it.
void trainer_drop_cache(trainer *t);
// After a phase filled the memory cache from images: its rows to disk. A failure is said, never fatal.
void trainer_disk_save(trainer *t, int phase);
void trainer_disk_free(trainer *t);

// trainer_layers.c
void trainer_take_snapshot(trainer *t);
// After training batch `batch` (1-based): a measurement when one is due.
void trainer_measure_due(trainer *t, size_t batch);
void trainer_after_train_phase(trainer *t);
void trainer_random_backbone_note(trainer *t);
void trainer_layers_free(trainer *t);

#endif
