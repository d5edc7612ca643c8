// test_thread_split.c — the cores shared between decoding and the network: the choice from the
// measured costs (thread_split.h), and the loader taking turns (no decoding while a batch is held).
#include <criterion/criterion.h>
#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "loader.h"
#include "thread_split.h"

Test(thread_split, a_gpu_leaves_the_cores_to_decoding) {
    thread_split s;
    thread_split_choose(&(split_costs){.cores = 8, .gpu = 1, .decode_ms = 5, .network_ms = 1, .network_half_ms = 1},
                        &s);
    cr_expect_eq(s.threads, 1);
    cr_expect_eq(s.workers, 7);
    cr_expect_eq(s.turns, 0);
}

Test(thread_split, unknown_costs_take_turns_on_every_core) {
    thread_split s;
    thread_split_choose(&(split_costs){.cores = 2, .decode_ms = -1, .network_ms = -1, .network_half_ms = -1}, &s);
    cr_expect(s.turns && s.threads == 2 && s.workers == 2, "%d %d %d", s.threads, s.workers, s.turns);
}

// Amdahl's law through the two timings: on 2 cores, 10 ms on 2 threads and 19 on 1 gives 19 on 1
// and 10 on 2; 4 cores with 8 ms on 4 and 8 on 2 (no gain from threads) gives 8 on 1.
Test(thread_split, network_time_on_fewer_threads) {
    split_costs c = {.cores = 2, .decode_ms = 1, .network_ms = 10, .network_half_ms = 19};
    cr_expect_float_eq(thread_split_network_ms(&c, 1), 19.0, 1e-9);
    cr_expect_float_eq(thread_split_network_ms(&c, 2), 10.0, 1e-9);
    split_costs flat = {.cores = 4, .decode_ms = 1, .network_ms = 8, .network_half_ms = 8};
    cr_expect_float_eq(thread_split_network_ms(&flat, 1), 8.0, 1e-9);
    // without the second timing: proportional to the threads
    split_costs lin = {.cores = 4, .decode_ms = 1, .network_ms = 8, .network_half_ms = -1};
    cr_expect_float_eq(thread_split_network_ms(&lin, 2), 16.0, 1e-9);
}

// A network that scales with its threads and cheap decoding: take turns (10 + 1/2 ms per image
// against 19 with a core given to decoding).
Test(thread_split, cheap_decoding_takes_turns) {
    thread_split s;
    split_costs c = {.cores = 2, .decode_ms = 1, .network_ms = 10, .network_half_ms = 19};
    thread_split_choose(&c, &s);
    cr_expect(s.turns && s.threads == 2 && s.workers == 2);
    cr_expect_float_eq(s.predicted_ms, 10.5, 1e-9);
    cr_expect(strstr(s.why, "decoding 1.0 ms") != NULL, "%s", s.why);
}

// A network that gains little from a second thread and costly decoding: a core decodes beside it
// (max(11, 12) = 12 ms per image against 10 + 12/2 = 16 taking turns).
Test(thread_split, costly_decoding_gets_its_own_core) {
    thread_split s;
    split_costs c = {.cores = 2, .decode_ms = 12, .network_ms = 10, .network_half_ms = 11};
    thread_split_choose(&c, &s);
    cr_expect(!s.turns && s.threads == 1 && s.workers == 1, "%d %d %d", s.threads, s.workers, s.turns);
    cr_expect_float_eq(s.predicted_ms, 12.0, 1e-9);
}

// The network on half the cores is timed only when a split could gain 5% or more: decoding that
// taking turns adds (decode / cores per image) over 5% of the network's time. dvc-mini's photos on
// 2 cores (1.3 ms to decode, 55 ms through ResNet50): no; 2048x1536 photos (15 ms): yes.
Test(thread_split, the_half_cores_probe_only_when_a_split_could_pay) {
    cr_expect_not(thread_split_worth_probing(&(split_costs){.cores = 2, .decode_ms = 1.3, .network_ms = 55}));
    cr_expect(thread_split_worth_probing(&(split_costs){.cores = 2, .decode_ms = 15, .network_ms = 55}));
    cr_expect_not(thread_split_worth_probing(&(split_costs){.cores = 1, .decode_ms = 15, .network_ms = 55}));
    cr_expect_not(thread_split_worth_probing(&(split_costs){.cores = 8, .gpu = 1, .decode_ms = 15, .network_ms = 5}));
    // not worth it: turns, whatever the half-cores time would have said
    thread_split s;
    thread_split_choose(&(split_costs){.cores = 2, .decode_ms = 1.3, .network_ms = 55, .network_half_ms = -1}, &s);
    cr_expect(s.turns && s.threads == 2 && s.workers == 2, "%d %d %d", s.threads, s.workers, s.turns);
    cr_expect(strstr(s.why, "under 5%") != NULL, "%s", s.why);
}

Test(thread_split, the_old_rule_for_benchmarks) {
    thread_split s;
    thread_split_quarter(16, 0, &s);
    cr_expect(s.threads == 16 && s.workers == 4 && !s.turns);
    thread_split_quarter(2, 0, &s);
    cr_expect(s.threads == 2 && s.workers == 1 && !s.turns);
}

// ---------------------------------------------------------------------------------------------
// the loader taking turns: while the consumer holds a batch, no new file is started

static atomic_int loads_started;

static int count_load(void *state, const char *path, float *dst, char *err, size_t errlen) {
    (void)state, (void)path, (void)err, (void)errlen;
    atomic_fetch_add(&loads_started, 1);
    struct timespec ts = {0, 1000 * 1000};
    nanosleep(&ts, NULL);
    dst[0] = 1;
    return 0;
}

// Files started while the first batch is held for 120 ms, with or without turns: counted after the
// first 20 ms with turns (a file claimed just before the hand-over may start late), from the
// hand-over without (the ring has room for 36 more files, 18 ms of work for the two workers).
static int started_while_held(int turns) {
    enum { N = 64, B = 4 };
    dataset_split s = {.name = "train", .n_items = N};
    s.items = calloc(N, sizeof *s.items);
    for (int i = 0; i < N; i++) s.items[i] = (dataset_item){strdup("x"), 0};
    loader_opts o;
    loader_opts_default(&o);
    o.batch_size = B;
    o.workers = 2;
    o.sample_floats = 1;
    o.turns = turns;
    o.prefetch = 8;
    badfile_list bad;
    badfiles_init(&bad);
    char err[256];
    loader_source src = {.load = count_load};
    loader *l = loader_new(&s, &o, &src, &bad, err, sizeof err);
    cr_assert_not_null(l, "%s", err);
    atomic_store(&loads_started, 0);
    cr_assert_eq(loader_start_epoch(l, 0, err, sizeof err), 0, "%s", err);
    loader_batch *b;
    cr_assert_eq(loader_next(l, &b, err, sizeof err), 1, "%s", err);
    int handed = atomic_load(&loads_started);
    struct timespec ts = {0, 20 * 1000 * 1000};
    nanosleep(&ts, NULL);
    int settled = atomic_load(&loads_started);
    ts.tv_nsec = 100 * 1000 * 1000;
    nanosleep(&ts, NULL);
    int during = atomic_load(&loads_started) - (turns ? settled : handed);
    loader_release(l, b);
    size_t seen = (size_t)b->n;
    int got;
    while ((got = loader_next(l, &b, err, sizeof err)) == 1) {
        seen += (size_t)b->n;
        loader_release(l, b);
    }
    cr_expect_eq(got, 0, "%s", err);
    cr_expect_eq(seen, (size_t)N, "every file once, taking turns or not");
    loader_free(l);
    badfiles_free(&bad);
    for (int i = 0; i < N; i++) free(s.items[i].path);
    free(s.items);
    return during;
}

Test(thread_split, the_loader_waits_while_a_batch_is_held) {
    cr_expect_eq(started_while_held(1), 0, "taking turns: nothing decoded while the consumer holds a batch");
    cr_expect_gt(started_while_held(0), 0, "without turns the workers fill the ring meanwhile");
}
