// stress_threads.c — a thread stress test to run under ThreadSanitizer (make stress SANITIZE=thread):
// a plain program, since Criterion's sandbox cannot start under TSan. It hammers the three places
// where frost's threads meet:
//   1. the event queue: 8 producers post 20,000 events each while one consumer polls and another waits;
//      every event arrives once, each producer's in order;
//   2. the loader: a synthetic source (no images), 200 epochs started and stopped at random moments
//      (before the first batch, in the middle, after the last), from the consumer and from another thread;
//   3. the trainer: pause / resume / stop storms from 3 threads during runs on sample_data/, a stop
//      before the first batch and one at the last.
// Exit 0 when every check holds; TSan (halt_on_error=1) ends it with a report otherwise.
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "dataset.h"
#include "events.h"
#include "loader.h"
#include "trainer.h"

#define CHECK(cond, ...)                                            \
    do {                                                            \
        if (!(cond)) {                                              \
            fprintf(stderr, "stress: %s:%d: ", __FILE__, __LINE__); \
            fprintf(stderr, __VA_ARGS__);                           \
            fputc('\n', stderr);                                    \
            exit(1);                                                \
        }                                                           \
    } while (0)

static void nap_us(long us) {
    struct timespec t = {us / 1000000, (us % 1000000) * 1000};
    nanosleep(&t, NULL);
}

// ---------------------------------------------------------------------------------------------
// 1. the event queue

enum { PRODUCERS = 8, PER_PRODUCER = 20000 };
static event_queue *q;
static atomic_int producers_left;

static void *produce(void *arg) {
    int id = (int)(intptr_t)arg;
    for (int i = 0; i < PER_PRODUCER; i++) {
        train_event e = {.kind = EV_BATCH, .epoch = id, .batch = (size_t)i};
        CHECK(events_post(q, &e) == 0, "post failed");
    }
    atomic_fetch_sub(&producers_left, 1);
    return NULL;
}

static long next_batch[PRODUCERS];
static pthread_mutex_t seen_mu = PTHREAD_MUTEX_INITIALIZER;
static long total_seen;

static void seen(const train_event *e) {
    pthread_mutex_lock(&seen_mu);
    CHECK(e->epoch >= 0 && e->epoch < PRODUCERS, "bad producer %d", e->epoch);
    CHECK((long)e->batch == next_batch[e->epoch], "producer %d: event %zu after %ld", e->epoch, e->batch,
          next_batch[e->epoch] - 1);
    next_batch[e->epoch]++;
    total_seen++;
    pthread_mutex_unlock(&seen_mu);
}

// Two consumers would reorder each other's events between taking and checking them; one polls,
// one waits, and they take turns under a lock so that "in order" stays checkable.
static pthread_mutex_t take_mu = PTHREAD_MUTEX_INITIALIZER;
static void *consume(void *arg) {
    int waiting = (int)(intptr_t)arg;
    for (;;) {
        train_event e;
        pthread_mutex_lock(&take_mu);
        int got = waiting ? events_wait(q, &e, 1) : events_poll(q, &e);
        if (got) seen(&e);
        pthread_mutex_unlock(&take_mu);
        if (!got && atomic_load(&producers_left) == 0) {
            pthread_mutex_lock(&seen_mu);
            long n = total_seen;
            pthread_mutex_unlock(&seen_mu);
            if (n == (long)PRODUCERS * PER_PRODUCER) return NULL;
        }
    }
}

static void stress_events(void) {
    q = events_new();
    CHECK(q != NULL, "events_new");
    atomic_store(&producers_left, PRODUCERS);
    pthread_t p[PRODUCERS], c[2];
    for (int i = 0; i < PRODUCERS; i++) pthread_create(&p[i], NULL, produce, (void *)(intptr_t)i);
    for (int i = 0; i < 2; i++) pthread_create(&c[i], NULL, consume, (void *)(intptr_t)i);
    for (int i = 0; i < PRODUCERS; i++) pthread_join(p[i], NULL);
    for (int i = 0; i < 2; i++) pthread_join(c[i], NULL);
    CHECK(total_seen == (long)PRODUCERS * PER_PRODUCER, "%ld events of %d", total_seen, PRODUCERS * PER_PRODUCER);
    events_free(q);
    printf("stress: event queue: %ld events from %d producers, each in order\n", total_seen, PRODUCERS);
}

// ---------------------------------------------------------------------------------------------
// 2. the loader

static void *src_new(void *user) {
    (void)user;
    return malloc(1);
}
static void src_free(void *s) { free(s); }
static int src_load(void *state, const char *path, float *dst, char *err, size_t errlen) {
    (void)state;
    if (strncmp(path, "bad", 3) == 0) {
        snprintf(err, errlen, "bad on purpose");
        return -1;
    }
    dst[0] = (float)atoi(path + 5);
    if (rand() % 8 == 0) nap_us(50);
    return 0;
}

static loader *L;
static void *stop_later(void *arg) {
    nap_us((long)(intptr_t)arg);
    loader_stop(L);
    return NULL;
}

static void stress_loader(void) {
    enum { N = 300 };
    dataset_split split = {.name = "train"};
    split.items = calloc(N, sizeof *split.items);
    char names[N][16];
    for (int i = 0; i < N; i++) {
        snprintf(names[i], sizeof names[i], i % 37 == 5 ? "bad-%d" : "item-%d", i);
        split.items[i] = (dataset_item){names[i], i % 3};
    }
    split.n_items = N;
    loader_opts o;
    loader_opts_default(&o);
    o.batch_size = 7;
    o.workers = 4;
    o.sample_floats = 4;
    loader_source src = {src_new, src_free, src_load, NULL};
    badfile_list bad;
    badfiles_init(&bad);
    char err[256];
    L = loader_new(&split, &o, &src, &bad, err, sizeof err);
    CHECK(L != NULL, "%s", err);
    int full = 0, stopped = 0;
    for (int epoch = 0; epoch < 200; epoch++) {
        CHECK(loader_start_epoch(L, epoch, err, sizeof err) == 0, "%s", err);
        int mode =
            epoch %
            4;   // 0: whole epoch; 1: stop from here mid-epoch; 2: stop from another thread; 3: stop before the first batch
        pthread_t t;
        if (mode == 2) pthread_create(&t, NULL, stop_later, (void *)(intptr_t)(rand() % 3000));
        if (mode == 3) loader_stop(L);
        loader_batch *b;
        int got, batches = 0;
        while ((got = loader_next(L, &b, err, sizeof err)) == 1) {
            loader_release(L, b);
            if (mode == 1 && ++batches == 1 + epoch % 40) loader_stop(L);
        }
        if (mode == 2) pthread_join(t, NULL);
        if (got == 0)
            full++;
        else
            stopped++;
    }
    loader_free(L);
    badfiles_free(&bad);
    free(split.items);
    printf("stress: loader: 200 epochs (%d to the end, %d stopped at random moments)\n", full, stopped);
    CHECK(full >= 50, "only %d epochs ran to the end", full);
}

// ---------------------------------------------------------------------------------------------
// 3. the trainer's controls

static trainer *T;
static atomic_int storm_on;

static void *storm(void *arg) {
    unsigned seed = (unsigned)(intptr_t)arg;
    while (atomic_load(&storm_on)) {
        seed = seed * 1103515245u + 12345u;
        if ((seed >> 16) % 2)
            trainer_pause(T);
        else
            trainer_resume(T);
        (void)trainer_paused(T);
        nap_us((seed >> 8) % 2000);
    }
    return NULL;
}

// Runs a short training; stop_after: stop once this many batch events arrived (-1: never, 0: at once).
static int run_training(dataset *d, int stop_after, int with_storm) {
    trainer_config c;
    trainer_config_default(&c);
    snprintf(c.arch, sizeof c.arch, "resnet18");
    snprintf(c.device, sizeof c.device, "cpu");
    c.prep.tf.size = 32;
    c.epochs = 2;
    c.batch_size = 16;
    c.threads = 2;
    c.workers = 2;
    c.cache = 0;
    char err[256];
    T = trainer_start(&c, d, err, sizeof err);
    CHECK(T != NULL, "%s", err);
    if (stop_after == 0) trainer_cancel(T);
    pthread_t s[3];
    atomic_store(&storm_on, with_storm);
    if (with_storm)
        for (int i = 0; i < 3; i++) pthread_create(&s[i], NULL, storm, (void *)(intptr_t)(i + 1));
    int batches = 0, status = -2;
    while (status == -2) {
        train_event e;
        if (!trainer_wait(T, &e, 50)) continue;
        if (e.kind == EV_BATCH && ++batches == stop_after) trainer_cancel(T);
        if (e.kind == EV_FINISHED) status = e.status;
    }
    atomic_store(&storm_on, 0);
    if (with_storm)
        for (int i = 0; i < 3; i++) pthread_join(s[i], NULL);
    trainer_resume(T);
    CHECK(trainer_result(T, NULL) == status, "the result disagrees with the finished event");
    CHECK(trainer_done(T), "done once the result is read");
    trainer_free(T);
    return status;
}

static void stress_trainer(void) {
    dataset d;
    char err[512];
    CHECK(dataset_scan(&d, "sample_data", NULL, err, sizeof err) == 0, "%s", err);
    CHECK(run_training(&d, 0, 0) == 1, "a stop before the first batch ends the run as stopped");
    int status = run_training(&d, -1, 1);
    CHECK(status == 0, "a run under a pause/resume storm finishes (status %d)", status);
    size_t batches = 2 * ((d.train.n_items + 15) / 16 + (d.valid.n_items + 15) / 16);
    status = run_training(&d, (int)batches, 1);
    CHECK(status == 0 || status == 1, "a stop at the last batch: finished or stopped (status %d)", status);
    CHECK(run_training(&d, 3, 1) == 1, "a stop mid-run under the storm ends it as stopped");
    dataset_free(&d);
    printf("stress: trainer: stop before the first batch, pause/resume storms from 3 threads, stops mid-run and at the "
           "last batch\n");
}

int main(void) {
    srand(7);
    stress_events();
    stress_loader();
    stress_trainer();
    printf("stress: all checks held\n");
    return 0;
}
