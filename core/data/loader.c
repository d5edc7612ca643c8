// loader.c — the loader's threads (see loader.h for what it promises).
//
// Shape: one ring of K batch windows of B samples each (R = K*B sample slots), float32 NCHW, every
// window 64-byte aligned (the ring on 2 MB pages where the kernel allows). Final sample f (the f-th good sample of the epoch) lives in slot f % R, so
// batch t is window t % K, contiguous: the consumer gets it without a copy. Workers claim positions
// of the epoch's order and decode straight into their slot, without the lock; position p goes to
// slot (p - off) % R, where off is the number of skipped files when nothing was last in flight. With
// no bad file off stays equal to the skips, every sample lands where it belongs and nothing is
// copied; after a skip, the committer moves later samples down to their final slot until the next
// quiet moment re-bases off.
//
// Whichever thread finishes the sample at the commit position becomes the committer: it takes
// finished samples in order (moving them when needed, skipping bad ones) and queues full batches.
// Committing in order keeps batches deterministic whatever the decode timing. Workers may claim
// while (p - off) < released + R: the slots between the oldest batch not yet given back and the
// newest claim never overlap. One mutex guards the counters; condition variables: work (room to
// claim, or progress) and ready (a batch is queued).
#define _GNU_SOURCE   // sched_getaffinity, CPU_COUNT
#include "loader.h"

#include <assert.h>
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "clock.h"
#include "errmsg.h"
#include "rng.h"

enum { SLOT_FREE, SLOT_BUSY, SLOT_OK, SLOT_BAD };

struct loader {
    const dataset_split *split;
    loader_opts o;
    loader_source src;
    badfile_list *bad;
    size_t n;   // items in the split
    size_t *order;

    pthread_mutex_t mu;
    pthread_cond_t cv_work, cv_ready;
    atomic_int stop;

    // the ring
    size_t B, K, R, F;   // batch size, windows, slots, floats per sample
    size_t stride;       // floats per window (B*F rounded up to 64 bytes)
    float *ring;
    unsigned char *state;      // R: SLOT_* of the position decoding into that slot
    char (*reason)[256];       // R: why that position failed
    loader_batch *batches;     // K descriptors: batch t is batches[t % K]
    unsigned char *returned;   // K: given back by the consumer, not yet counted in released
    size_t *ready;             // FIFO of window numbers
    size_t ready_head, ready_len;

    size_t next_claim, next_commit, good, skipped, off, released;
    int held;   // batches the consumer holds (handed out, not given back): workers wait with turns
    int committing;
    size_t batch_counter;
    double busy_s;   // time the workers spent loading files (decode + transform), all epochs
    int finished;
    char error[256];

    pthread_t *threads;
    int n_threads, running;
    // one per worker, made on the worker's first epoch and kept for the next ones, so decoder
    // buffers and resize tables stay warm across epochs
    void **states;
    struct worker_arg {
        loader *l;
        int index;
    } * args;
    pthread_mutex_t join_mu;   // serialises joins between concurrent stoppers
};

// ---------------------------------------------------------------------------------------------

void loader_opts_default(loader_opts *o) {
    *o = (loader_opts){.batch_size = 16, .shuffle = 1, .seed = 0, .workers = 0, .prefetch = 2, .sample_floats = 0};
}

int loader_default_workers(void) {
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) == 0) {
        int n = CPU_COUNT(&set);
        if (n > 0) return n;
    }
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (int)n : 1;
}

// Slot x (a final index, or a position minus off) in the ring.
static float *slot_data(const loader *l, size_t x) {
    return l->ring + ((x / l->B) % l->K) * l->stride + (x % l->B) * l->F;
}

// ---------------------------------------------------------------------------------------------
// committing (called with mu held)

// Queues final batch t with n samples.
static void push_ready(loader *l, size_t t, int n) {
    // batches come out in order, and the FIFO never holds more than the K windows of the ring
    assert(t == l->batch_counter && l->ready_len < l->K && n >= 1 && (size_t)n <= l->B);
    loader_batch *b = &l->batches[t % l->K];
    b->n = n;
    b->index = l->batch_counter++;
    l->ready[(l->ready_head + l->ready_len) % l->K] = t % l->K;
    l->ready_len++;
    pthread_cond_broadcast(&l->cv_ready);
}

static void commit_ready(loader *l) {
    if (l->committing) return;
    l->committing = 1;
    while (!atomic_load(&l->stop) && l->next_commit < l->n) {
        size_t p = l->next_commit, tent = p - l->off, ts = tent % l->R;
        if (l->state[ts] != SLOT_OK && l->state[ts] != SLOT_BAD) break;
        size_t item = l->order[p];
        // final indices never run ahead of positions: a sample only ever moves down the ring
        assert(l->good <= tent);
        if (l->state[ts] == SLOT_BAD) {
            l->skipped++;
            badfiles_add(l->bad, l->split->items[item].path, l->reason[ts]);
        } else {
            size_t f = l->good;
            if (f != tent) {
                // a file before this one was skipped: move the sample down to its final slot (free:
                // every position that used it is committed, and no claim reaches it yet)
                pthread_mutex_unlock(&l->mu);
                memcpy(slot_data(l, f), slot_data(l, tent), l->F * sizeof(float));
                pthread_mutex_lock(&l->mu);
            }
            loader_batch *b = &l->batches[(f / l->B) % l->K];
            b->labels[f % l->B] = l->split->items[item].label;
            b->items[f % l->B] = item;
            l->good++;
            if (l->good % l->B == 0) push_ready(l, f / l->B, (int)l->B);
        }
        l->state[ts] = SLOT_FREE;
        l->next_commit++;
        pthread_cond_broadcast(&l->cv_work);
    }
    if (l->next_commit == l->n && !l->finished && !atomic_load(&l->stop)) {
        if (l->good % l->B) push_ready(l, l->good / l->B, (int)(l->good % l->B));
        l->finished = 1;
        pthread_cond_broadcast(&l->cv_ready);
    }
    l->committing = 0;
}

// ---------------------------------------------------------------------------------------------
// workers

static void fail(loader *l, const char *msg) {
    // with mu held: the first error wins, and it stops the epoch
    if (!l->error[0]) snprintf(l->error, sizeof l->error, "%s", msg);
    atomic_store(&l->stop, 1);
    pthread_cond_broadcast(&l->cv_work);
    pthread_cond_broadcast(&l->cv_ready);
}

static void *worker_main(void *arg) {
    loader *l = ((struct worker_arg *)arg)->l;
    void **slot_state = &l->states[((struct worker_arg *)arg)->index];
    if (!*slot_state && l->src.worker_new) *slot_state = l->src.worker_new(l->src.user);
    void *state = *slot_state;
    pthread_mutex_lock(&l->mu);
    if (l->src.worker_new && !state) {
        fail(l, "a loader worker could not start (out of memory)");
        pthread_mutex_unlock(&l->mu);
        return NULL;
    }
    for (;;) {
        if (atomic_load(&l->stop) || l->next_claim >= l->n) break;
        if (l->next_claim == l->next_commit) l->off = l->next_commit - l->good;   // quiet: re-base
        if (l->next_claim - l->off >= l->released + l->R || (l->o.turns && l->held > 0)) {
            pthread_cond_wait(&l->cv_work, &l->mu);
            continue;
        }
        size_t p = l->next_claim++, ts = (p - l->off) % l->R;
        // the slots between the oldest batch not given back and the newest claim never overlap: the
        // slot claimed holds nothing still being decoded or waiting to be committed
        assert(l->released <= l->good && l->state[ts] == SLOT_FREE);
        float *dst = slot_data(l, p - l->off);
        l->state[ts] = SLOT_BUSY;
        const char *path = l->split->items[l->order[p]].path;
        char *reason = l->reason[ts];
        pthread_mutex_unlock(&l->mu);

        reason[0] = '\0';
        double t0 = clock_seconds();
        int rc = l->src.load(state, path, dst, reason, sizeof l->reason[0]);
        if (rc != 0 && !reason[0]) snprintf(reason, sizeof l->reason[0], "could not be loaded");
        double t1 = clock_seconds();

        pthread_mutex_lock(&l->mu);
        l->busy_s += t1 - t0;
        l->state[ts] = rc == 0 ? SLOT_OK : SLOT_BAD;
        commit_ready(l);
    }
    pthread_mutex_unlock(&l->mu);
    return NULL;
}

// ---------------------------------------------------------------------------------------------

loader *loader_new(const dataset_split *split, const loader_opts *o, const loader_source *src, badfile_list *bad,
                   char *err, size_t errlen) {
    if (!o || o->sample_floats == 0 || o->batch_size < 1 || !src || !src->load || !bad) {
        errmsg_set(err, errlen, "loader: bad options (batch size %d)", o ? o->batch_size : 0);
        return NULL;
    }
    loader *l = calloc(1, sizeof *l);
    if (!l) goto oom;
    l->split = split;
    l->o = *o;
    if (l->o.workers <= 0) l->o.workers = loader_default_workers();
    if (l->o.prefetch <= 0) l->o.prefetch = 2;
    l->src = *src;
    l->bad = bad;
    l->n = split->n_items;
    pthread_mutex_init(&l->mu, NULL);
    pthread_mutex_init(&l->join_mu, NULL);
    pthread_cond_init(&l->cv_work, NULL);
    pthread_cond_init(&l->cv_ready, NULL);

    l->B = (size_t)o->batch_size;
    l->F = o->sample_floats;
    // prefetch ready + one with the consumer + one being filled; and room for every worker
    l->K = (size_t)l->o.prefetch + 2;
    while (l->K * l->B < 2 * (size_t)l->o.workers + l->B) l->K++;
    l->R = l->K * l->B;
    l->stride = (l->B * l->F + 15) / 16 * 16;
    l->order = malloc((l->n ? l->n : 1) * sizeof *l->order);
    // the ring is tens of MB written once per sample: on 2 MB pages it costs a few page faults
    // instead of thousands
    size_t ring_bytes = (l->K * l->stride * sizeof(float) + (2u << 20) - 1) & ~(size_t)((2u << 20) - 1);
    if (posix_memalign((void **)&l->ring, 2u << 20, ring_bytes) != 0) l->ring = NULL;
#ifdef MADV_HUGEPAGE
    if (l->ring) madvise(l->ring, ring_bytes, MADV_HUGEPAGE);
#endif
    l->state = calloc(l->R, 1);
    l->reason = calloc(l->R, sizeof *l->reason);
    l->batches = calloc(l->K, sizeof *l->batches);
    l->returned = calloc(l->K, 1);
    l->ready = calloc(l->K, sizeof *l->ready);
    l->threads = calloc((size_t)l->o.workers, sizeof *l->threads);
    l->states = calloc((size_t)l->o.workers, sizeof *l->states);
    l->args = calloc((size_t)l->o.workers, sizeof *l->args);
    if (!l->order || !l->ring || !l->state || !l->reason || !l->batches || !l->returned || !l->ready || !l->threads ||
        !l->states || !l->args)
        goto oom;
    for (int i = 0; i < l->o.workers; i++) l->args[i] = (struct worker_arg){l, i};
    for (size_t w = 0; w < l->K; w++) {
        loader_batch *b = &l->batches[w];
        b->data = l->ring + w * l->stride;
        b->labels = malloc(l->B * sizeof *b->labels);
        b->items = malloc(l->B * sizeof *b->items);
        if (!b->labels || !b->items) goto oom;
    }
    return l;
oom:
    loader_free(l);
    errmsg_set(err, errlen, "out of memory for the loader's buffers (batch %d of %zu floats)", o->batch_size,
               o->sample_floats);
    errno = ENOMEM;   // after loader_free and the message, which may have changed it (loader.h)
    return NULL;
}

void loader_epoch_order(uint64_t seed, int epoch, int shuffle, size_t *order, size_t n) {
    for (size_t i = 0; i < n; i++) order[i] = i;
    if (shuffle) {
        rng r;
        rng_seed(&r, seed ^ (0x9e3779b97f4a7c15ULL * (uint64_t)(epoch + 1)));
        rng_shuffle(&r, order, n);
    }
}

static void join_workers(loader *l) {
    pthread_mutex_lock(&l->join_mu);
    if (l->running) {
        for (int i = 0; i < l->n_threads; i++) pthread_join(l->threads[i], NULL);
        l->running = 0;
        l->n_threads = 0;
    }
    pthread_mutex_unlock(&l->join_mu);
}

int loader_start_epoch(loader *l, int epoch, char *err, size_t errlen) {
    loader_stop(l);
    atomic_store(&l->stop, 0);
    loader_epoch_order(l->o.seed, epoch, l->o.shuffle, l->order, l->n);
    memset(l->state, SLOT_FREE, l->R);
    memset(l->returned, 0, l->K);
    l->next_claim = l->next_commit = l->good = l->skipped = l->off = l->released = 0;
    l->committing = 0;
    l->held = 0;
    l->ready_head = l->ready_len = 0;
    l->batch_counter = 0;
    l->finished = l->n == 0;
    l->error[0] = '\0';

    pthread_mutex_lock(&l->join_mu);
    l->running = 1;
    for (int i = 0; i < l->o.workers; i++) {
        int rc = pthread_create(&l->threads[i], NULL, worker_main, &l->args[i]);
        if (rc != 0) {
            pthread_mutex_unlock(&l->join_mu);
            errmsg_set(err, errlen, "cannot start loader threads: %s", strerror(rc));
            loader_stop(l);
            return -1;
        }
        l->n_threads = i + 1;
    }
    pthread_mutex_unlock(&l->join_mu);
    return 0;
}

int loader_next(loader *l, loader_batch **out, char *err, size_t errlen) {
    pthread_mutex_lock(&l->mu);
    while (!atomic_load(&l->stop) && l->ready_len == 0 && !l->finished) pthread_cond_wait(&l->cv_ready, &l->mu);
    int rc;
    if (l->error[0]) {
        errmsg_set(err, errlen, "%s", l->error);
        rc = -1;
    } else if (atomic_load(&l->stop)) {
        errmsg_set(err, errlen, "stopped");
        rc = -1;
    } else if (l->ready_len > 0) {
        *out = &l->batches[l->ready[l->ready_head]];
        l->ready_head = (l->ready_head + 1) % l->K;
        l->ready_len--;
        l->held++;
        rc = 1;
    } else if (l->good == 0 && l->n > 0) {
        errmsg_set(err, errlen, "no readable image in %s: all %zu files were skipped",
                   l->split->dir ? l->split->dir : l->split->name, l->n);
        rc = -1;
    } else {
        rc = 0;
    }
    pthread_mutex_unlock(&l->mu);
    return rc;
}

void loader_release(loader *l, loader_batch *b) {
    if (!b) return;
    pthread_mutex_lock(&l->mu);
    // one of the ring's K batches, given back once
    assert(b >= l->batches && b < l->batches + l->K && !l->returned[(size_t)(b - l->batches)]);
    l->returned[(size_t)(b - l->batches)] = 1;
    if (l->held > 0) l->held--;
    // the slots free up in order: up to the oldest batch still out
    while (l->returned[(l->released / l->B) % l->K]) {
        l->returned[(l->released / l->B) % l->K] = 0;
        l->released += l->B;
    }
    pthread_cond_broadcast(&l->cv_work);
    pthread_mutex_unlock(&l->mu);
}

void loader_stop(loader *l) {
    if (!l) return;
    atomic_store(&l->stop, 1);
    pthread_mutex_lock(&l->mu);
    pthread_cond_broadcast(&l->cv_work);
    pthread_cond_broadcast(&l->cv_ready);
    pthread_mutex_unlock(&l->mu);
    join_workers(l);
}

void loader_free(loader *l) {
    if (!l) return;
    if (l->threads) loader_stop(l);
    if (l->batches)
        for (size_t w = 0; w < l->K; w++) {
            free(l->batches[w].labels);
            free(l->batches[w].items);
        }
    free(l->batches);
    free(l->ring);
    free(l->state);
    free(l->reason);
    free(l->returned);
    free(l->ready);
    if (l->states && l->src.worker_free)
        for (int i = 0; i < l->o.workers; i++) l->src.worker_free(l->states[i]);
    free(l->states);
    free(l->args);
    free(l->threads);
    free(l->order);
    pthread_mutex_destroy(&l->mu);
    pthread_mutex_destroy(&l->join_mu);
    pthread_cond_destroy(&l->cv_work);
    pthread_cond_destroy(&l->cv_ready);
    free(l);
}

int loader_workers(const loader *l) { return l->o.workers; }

size_t loader_batches_per_epoch(const loader *l) {
    return (l->n + (size_t)l->o.batch_size - 1) / (size_t)l->o.batch_size;
}

size_t loader_skipped(loader *l) {
    pthread_mutex_lock(&l->mu);
    size_t n = l->skipped;
    pthread_mutex_unlock(&l->mu);
    return n;
}

double loader_busy_seconds(loader *l) {
    pthread_mutex_lock(&l->mu);
    double s = l->busy_s;
    pthread_mutex_unlock(&l->mu);
    return s;
}
