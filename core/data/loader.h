/*
 * loader.h — worker threads that turn a dataset split into ready batches.
 *
 * Workers take the split's items in a shuffled order (deterministic from seed and epoch) and load
 * each through a loader_source (decode + transform: see pipeline.h) straight into its place in a
 * batch: float32 NCHW, contiguous and 64-byte aligned, so the shim can wrap it without copying.
 * Samples are committed in order, so batch k of an epoch is always the same images for the same
 * seed, whatever the timing: a file that fails to load is skipped, recorded in the bad-file list,
 * and its place taken by the next good file. The last batch may be partial (drop_last off).
 *
 * Back-pressure: the batches live in a ring of prefetch + 2 (or more, for many workers); workers
 * stop claiming when the ring is full up to the oldest batch not yet given back. Stop is an atomic
 * flag, a broadcast and a join; it may be called from any thread at any moment.
 *
 * Taking turns (opts.turns): the workers claim no new file while the consumer holds a batch (from
 * loader_next until loader_release), so decoding and the consumer's work never run at once. On a
 * CPU whose every core runs the network that is the cheaper way to share them: a worker that
 * preempts one of libtorch's threads stalls all of them at the next barrier, so decoding beside the
 * network costs more than the same decoding on all cores in between (trainer.c measures both).
 */
#ifndef FROST_LOADER_H
#define FROST_LOADER_H

#include <stddef.h>
#include <stdint.h>

#include "badfiles.h"
#include "dataset.h"

typedef struct {
    // Creates one worker's private state (called on the worker's own thread); NULL on failure.
    void *(*worker_new)(void *user);
    void (*worker_free)(void *state);
    // Fills dst (sample_floats floats) from the file; 0, or -1 with one line in err.
    int (*load)(void *state, const char *path, float *dst, char *err, size_t errlen);
    void *user;
} loader_source;

typedef struct {
    int batch_size;         // default 16
    int shuffle;            // default 1
    uint64_t seed;          // default 0
    int workers;            // 0: the cores available to this process
    int prefetch;           // ready batches kept ahead; 0: 2
    int turns;              // 1: workers pause while the consumer holds a batch (see above); default 0
    size_t sample_floats;   // floats per sample (3 * S * S); required
} loader_opts;

typedef struct {
    float *data;       // n * sample_floats floats, NCHW
    int64_t *labels;   // n labels (int64, as cross-entropy wants)
    size_t *items;     // n indices into the split's items
    int n;             // samples in this batch: batch_size, or fewer for the last
    size_t index;      // batch number within the epoch
} loader_batch;

typedef struct loader loader;

void loader_opts_default(loader_opts *o);
int loader_default_workers(void);

// The split, the source and the bad-file list must outlive the loader. NULL with err when it cannot
// be made; errno is then ENOMEM when memory for the batch buffers ran out (smaller batches fit).
loader *loader_new(const dataset_split *split, const loader_opts *o, const loader_source *src, badfile_list *bad,
                   char *err, size_t errlen);
// Begins an epoch (stopping any unfinished one). Batches still held from an earlier epoch become
// invalid. 0, or -1 with err.
int loader_start_epoch(loader *l, int epoch, char *err, size_t errlen);
// Waits for the next batch. 1: *out is a batch (give it back with loader_release); 0: the epoch is
// over; -1: stopped, or an error (err says which: "stopped", or e.g. no readable image at all).
int loader_next(loader *l, loader_batch **out, char *err, size_t errlen);
void loader_release(loader *l, loader_batch *b);
// Stops the workers and joins them. Any thread, any moment, any number of times.
void loader_stop(loader *l);
void loader_free(loader *l);

// The order in which an epoch visits the split's items (what loader_start_epoch uses), for code that
// must replay an epoch without the loader: the trainer's feature cache.
void loader_epoch_order(uint64_t seed, int epoch, int shuffle, size_t *order, size_t n);

int loader_workers(const loader *l);
size_t loader_batches_per_epoch(const loader *l);   // assuming no file is skipped
size_t loader_skipped(loader *l);                   // files skipped so far in this epoch
double loader_busy_seconds(loader *l);              // worker time spent loading files, all epochs (profiling)

#endif
