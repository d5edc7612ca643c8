// loader.c — the loader's threads (see loader.h for what it promises).
//
// Shape: a reorder buffer of R sample slots sits between the workers and the batches. Workers claim
// positions of the epoch's order (position p uses slot p % R, so they may run at most R - 1 ahead of
// the oldest unfinished sample) and fill them without holding the lock. Whichever thread finishes
// the sample at the commit position becomes the committer: it copies finished samples, in order,
// into the batch being filled, skipping the bad ones, and queues full batches. Committing in order is
// what keeps batches deterministic while files take different times to decode. One mutex guards the
// shared counters; condition variables: work (a slot is free), ready (a batch is queued), spare (a
// batch buffer came back).
#define _GNU_SOURCE   // sched_getaffinity, CPU_COUNT
#include "loader.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rng.h"

enum { SLOT_FREE, SLOT_BUSY, SLOT_OK, SLOT_BAD };

typedef struct {
    float *data;
    int state;
    char reason[256];
} slot;

struct loader {
    const dataset_split *split;
    loader_opts o;
    loader_source src;
    badfile_list *bad;
    size_t n;          // items in the split
    size_t *order;

    pthread_mutex_t mu;
    pthread_cond_t cv_work, cv_ready, cv_spare;
    atomic_int stop;

    slot *slots;
    size_t n_slots;
    size_t next_claim, next_commit;
    int committing;

    loader_batch *batches;   // the pool
    int n_batches;
    loader_batch **spare;    // stack of free buffers
    int n_spare;
    loader_batch **ready;    // FIFO ring
    int ready_head, ready_len;
    loader_batch *filling;
    size_t batch_counter, good, skipped;
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
    } *args;
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

static void *aligned(size_t bytes) {
    void *p = NULL;
    return posix_memalign(&p, 64, bytes ? bytes : 64) == 0 ? p : NULL;
}

// ---------------------------------------------------------------------------------------------
// committing (called with mu held)

static void push_ready(loader *l, loader_batch *b) {
    b->index = l->batch_counter++;
    l->ready[(l->ready_head + l->ready_len) % l->n_batches] = b;
    l->ready_len++;
    pthread_cond_broadcast(&l->cv_ready);
}

static void commit_ready(loader *l) {
    if (l->committing) return;
    l->committing = 1;
    const size_t F = l->o.sample_floats;
    while (!atomic_load(&l->stop) && l->next_commit < l->n) {
        slot *s = &l->slots[l->next_commit % l->n_slots];
        if (s->state != SLOT_OK && s->state != SLOT_BAD) break;
        size_t item = l->order[l->next_commit];
        if (s->state == SLOT_BAD) {
            l->skipped++;
            badfiles_add(l->bad, l->split->items[item].path, s->reason);
        } else {
            while (!l->filling && l->n_spare == 0 && !atomic_load(&l->stop)) pthread_cond_wait(&l->cv_spare, &l->mu);
            if (atomic_load(&l->stop)) break;
            if (!l->filling) {
                l->filling = l->spare[--l->n_spare];
                l->filling->n = 0;
            }
            loader_batch *b = l->filling;
            int k = b->n;
            // the slot cannot be reused until next_commit moves, and only the committer fills b
            pthread_mutex_unlock(&l->mu);
            memcpy(b->data + (size_t)k * F, s->data, F * sizeof(float));
            pthread_mutex_lock(&l->mu);
            b->labels[k] = l->split->items[item].label;
            b->items[k] = item;
            b->n = k + 1;
            l->good++;
            if (b->n == l->o.batch_size) {
                push_ready(l, b);
                l->filling = NULL;
            }
        }
        s->state = SLOT_FREE;
        l->next_commit++;
        pthread_cond_broadcast(&l->cv_work);
    }
    if (l->next_commit == l->n && !l->finished && !atomic_load(&l->stop)) {
        if (l->filling && l->filling->n > 0) push_ready(l, l->filling);
        l->filling = NULL;
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
    pthread_cond_broadcast(&l->cv_spare);
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
        while (!atomic_load(&l->stop) && l->next_claim < l->n && l->next_claim >= l->next_commit + l->n_slots)
            pthread_cond_wait(&l->cv_work, &l->mu);
        if (atomic_load(&l->stop) || l->next_claim >= l->n) break;
        size_t p = l->next_claim++;
        slot *s = &l->slots[p % l->n_slots];
        s->state = SLOT_BUSY;
        const char *path = l->split->items[l->order[p]].path;
        pthread_mutex_unlock(&l->mu);

        s->reason[0] = '\0';
        int rc = l->src.load(state, path, s->data, s->reason, sizeof s->reason);
        if (rc != 0 && !s->reason[0]) snprintf(s->reason, sizeof s->reason, "could not be loaded");

        pthread_mutex_lock(&l->mu);
        s->state = rc == 0 ? SLOT_OK : SLOT_BAD;
        commit_ready(l);
    }
    pthread_mutex_unlock(&l->mu);
    return NULL;
}

// ---------------------------------------------------------------------------------------------

loader *loader_new(const dataset_split *split, const loader_opts *o, const loader_source *src, badfile_list *bad,
                   char *err, size_t errlen) {
    if (!o || o->sample_floats == 0 || o->batch_size < 1 || !src || !src->load || !bad) {
        snprintf(err, errlen, "loader: bad options (batch size %d)", o ? o->batch_size : 0);
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
    pthread_cond_init(&l->cv_spare, NULL);

    const size_t F = o->sample_floats, B = (size_t)o->batch_size;
    l->order = malloc((l->n ? l->n : 1) * sizeof *l->order);
    l->n_slots = 4 * (size_t)l->o.workers;
    l->slots = calloc(l->n_slots, sizeof *l->slots);
    // prefetch ready + one with the consumer + one being filled
    l->n_batches = l->o.prefetch + 2;
    l->batches = calloc((size_t)l->n_batches, sizeof *l->batches);
    l->spare = calloc((size_t)l->n_batches, sizeof *l->spare);
    l->ready = calloc((size_t)l->n_batches, sizeof *l->ready);
    l->threads = calloc((size_t)l->o.workers, sizeof *l->threads);
    l->states = calloc((size_t)l->o.workers, sizeof *l->states);
    l->args = calloc((size_t)l->o.workers, sizeof *l->args);
    if (!l->order || !l->slots || !l->batches || !l->spare || !l->ready || !l->threads || !l->states || !l->args) goto oom;
    for (int i = 0; i < l->o.workers; i++) l->args[i] = (struct worker_arg){l, i};
    for (size_t i = 0; i < l->n_slots; i++)
        if (!(l->slots[i].data = aligned(F * sizeof(float)))) goto oom;
    for (int i = 0; i < l->n_batches; i++) {
        loader_batch *b = &l->batches[i];
        b->data = aligned(B * F * sizeof(float));
        b->labels = malloc(B * sizeof *b->labels);
        b->items = malloc(B * sizeof *b->items);
        if (!b->data || !b->labels || !b->items) goto oom;
    }
    return l;
oom:
    loader_free(l);
    snprintf(err, errlen, "out of memory for the loader's buffers (batch %d of %zu floats)", o->batch_size, o->sample_floats);
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
    for (size_t i = 0; i < l->n_slots; i++) l->slots[i].state = SLOT_FREE;
    l->next_claim = l->next_commit = 0;
    l->committing = 0;
    l->n_spare = 0;
    for (int i = 0; i < l->n_batches; i++) l->spare[l->n_spare++] = &l->batches[i];
    l->ready_head = l->ready_len = 0;
    l->filling = NULL;
    l->batch_counter = l->good = l->skipped = 0;
    l->finished = l->n == 0;
    l->error[0] = '\0';

    pthread_mutex_lock(&l->join_mu);
    l->running = 1;
    for (int i = 0; i < l->o.workers; i++) {
        int rc = pthread_create(&l->threads[i], NULL, worker_main, &l->args[i]);
        if (rc != 0) {
            pthread_mutex_unlock(&l->join_mu);
            snprintf(err, errlen, "cannot start loader threads: %s", strerror(rc));
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
        snprintf(err, errlen, "%s", l->error);
        rc = -1;
    } else if (atomic_load(&l->stop)) {
        snprintf(err, errlen, "stopped");
        rc = -1;
    } else if (l->ready_len > 0) {
        *out = l->ready[l->ready_head];
        l->ready_head = (l->ready_head + 1) % l->n_batches;
        l->ready_len--;
        rc = 1;
    } else if (l->good == 0 && l->n > 0) {
        snprintf(err, errlen, "no readable image in %s: all %zu files were skipped", l->split->dir ? l->split->dir : l->split->name,
                 l->n);
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
    l->spare[l->n_spare++] = b;
    pthread_cond_broadcast(&l->cv_spare);
    pthread_mutex_unlock(&l->mu);
}

void loader_stop(loader *l) {
    if (!l) return;
    atomic_store(&l->stop, 1);
    pthread_mutex_lock(&l->mu);
    pthread_cond_broadcast(&l->cv_work);
    pthread_cond_broadcast(&l->cv_ready);
    pthread_cond_broadcast(&l->cv_spare);
    pthread_mutex_unlock(&l->mu);
    join_workers(l);
}

void loader_free(loader *l) {
    if (!l) return;
    if (l->threads) loader_stop(l);
    if (l->slots)
        for (size_t i = 0; i < l->n_slots; i++) free(l->slots[i].data);
    if (l->batches)
        for (int i = 0; i < l->n_batches; i++) {
            free(l->batches[i].data);
            free(l->batches[i].labels);
            free(l->batches[i].items);
        }
    free(l->slots);
    free(l->batches);
    free(l->spare);
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
    pthread_cond_destroy(&l->cv_spare);
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
