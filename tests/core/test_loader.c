// test_loader.c — the loader's threads with a synthetic source (no images): every item exactly
// once per epoch, deterministic batches whatever the timing, bad files skipped and replaced by the
// next good one, and stop at any moment without a hang.
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "loader.h"

#define F 12   // floats per sample

typedef struct {
    unsigned seed;
} worker_state;

static void *w_new(void *user) {
    (void)user;
    return calloc(1, sizeof(worker_state));
}
static void w_free(void *s) { free(s); }

// "item-N" fills the sample with N; "bad-N" fails; each load sleeps a little, unevenly, so workers
// finish out of order.
static int w_load(void *state, const char *path, float *dst, char *err, size_t errlen) {
    worker_state *w = state;
    struct timespec ts = {0, (long)(rand_r(&w->seed) % 200) * 1000};
    nanosleep(&ts, NULL);
    int id;
    if (sscanf(path, "bad-%d", &id) == 1) {
        snprintf(err, errlen, "corrupt on purpose");
        return -1;
    }
    sscanf(path, "item-%d", &id);
    for (int k = 0; k < F; k++) dst[k] = (float)id;
    return 0;
}

static const loader_source SRC = {w_new, w_free, w_load, NULL};

static dataset_split make_split(int n, const int *bad, int n_bad) {
    dataset_split s = {.name = "train"};
    s.items = calloc((size_t)n, sizeof *s.items);
    s.n_items = (size_t)n;
    for (int i = 0; i < n; i++) {
        char name[32];
        int is_bad = 0;
        for (int k = 0; k < n_bad; k++) is_bad |= bad[k] == i;
        snprintf(name, sizeof name, "%s-%d", is_bad ? "bad" : "item", i);
        s.items[i] = (dataset_item){strdup(name), i % 3};
    }
    return s;
}

static void free_split(dataset_split *s) {
    for (size_t i = 0; i < s->n_items; i++) free(s->items[i].path);
    free(s->items);
}

static loader *make_loader(dataset_split *s, badfile_list *bad, int workers, uint64_t seed, int shuffle) {
    loader_opts o;
    loader_opts_default(&o);
    o.sample_floats = F;
    o.workers = workers;
    o.seed = seed;
    o.shuffle = shuffle;
    char err[256];
    loader *l = loader_new(s, &o, &SRC, bad, err, sizeof err);
    cr_assert_not_null(l, "%s", err);
    return l;
}

// Runs one epoch; writes the item sequence into seq (returns its length).
static size_t run_epoch(loader *l, int epoch, int *seq, size_t cap, int *batch_sizes, size_t *n_batches) {
    char err[256];
    cr_assert_eq(loader_start_epoch(l, epoch, err, sizeof err), 0, "%s", err);
    size_t n = 0, nb = 0;
    loader_batch *b;
    int rc;
    while ((rc = loader_next(l, &b, err, sizeof err)) == 1) {
        cr_assert_eq(b->index, nb, "batches come in order");
        for (int k = 0; k < b->n; k++) {
            int id = (int)b->data[(size_t)k * F];
            cr_assert_eq(b->data[(size_t)k * F + F - 1], (float)id, "sample data is whole");
            cr_assert_eq((size_t)id, b->items[k], "data belongs to the item");
            cr_assert_eq(b->labels[k], id % 3, "label belongs to the item");
            cr_assert_lt(n, cap);
            seq[n++] = id;
        }
        if (batch_sizes) batch_sizes[nb] = b->n;
        nb++;
        loader_release(l, b);
    }
    cr_assert_eq(rc, 0, "epoch ends cleanly: %s", err);
    if (n_batches) *n_batches = nb;
    return n;
}

Test(loader, every_item_once_in_full_batches) {
    dataset_split s = make_split(100, NULL, 0);
    badfile_list bad;
    badfiles_init(&bad);
    loader *l = make_loader(&s, &bad, 3, 1, 1);
    int seq[100], sizes[16];
    size_t nb;
    cr_assert_eq(run_epoch(l, 0, seq, 100, sizes, &nb), 100);
    cr_expect_eq(nb, 7);
    cr_expect_eq(loader_batches_per_epoch(l), 7);
    for (size_t k = 0; k < 6; k++) cr_expect_eq(sizes[k], 16);
    cr_expect_eq(sizes[6], 4, "drop_last off: the last batch holds the remaining 4");
    int seen[100] = {0}, in_order = 1;
    for (int i = 0; i < 100; i++) {
        seen[seq[i]]++;
        in_order &= seq[i] == i;
    }
    for (int i = 0; i < 100; i++) cr_expect_eq(seen[i], 1, "item %d seen %d times", i, seen[i]);
    cr_expect(!in_order, "shuffled");
    loader_free(l);
    badfiles_free(&bad);
    free_split(&s);
}

Test(loader, batches_are_deterministic) {
    dataset_split s = make_split(64, NULL, 0);
    badfile_list bad;
    badfiles_init(&bad);
    int a[64], b[64], c[64], d[64];
    loader *l1 = make_loader(&s, &bad, 1, 42, 1), *l4 = make_loader(&s, &bad, 4, 42, 1);
    run_epoch(l1, 0, a, 64, NULL, NULL);
    run_epoch(l4, 0, b, 64, NULL, NULL);
    cr_expect(memcmp(a, b, sizeof a) == 0, "1 worker and 4 workers give the same batches");
    run_epoch(l4, 1, c, 64, NULL, NULL);
    cr_expect(memcmp(a, c, sizeof a) != 0, "another epoch, another order");
    loader *plain = make_loader(&s, &bad, 2, 42, 0);
    run_epoch(plain, 0, d, 64, NULL, NULL);
    for (int i = 0; i < 64; i++) cr_expect_eq(d[i], i, "no shuffle: dataset order");
    loader_free(l1);
    loader_free(l4);
    loader_free(plain);
    badfiles_free(&bad);
    free_split(&s);
}

Test(loader, bad_files_are_skipped_and_replaced) {
    const int bad_ids[] = {0, 5, 17, 18, 63};
    dataset_split s = make_split(64, bad_ids, 5);
    badfile_list bad;
    badfiles_init(&bad);
    loader *l = make_loader(&s, &bad, 2, 3, 0);
    int seq[64], sizes[8];
    size_t nb;
    cr_assert_eq(run_epoch(l, 0, seq, 64, sizes, &nb), 59);
    cr_expect_eq(nb, 4);
    cr_expect(sizes[0] == 16 && sizes[1] == 16 && sizes[2] == 16 && sizes[3] == 11,
              "full batches, filled from the next file");
    cr_expect_eq(seq[0], 1);
    cr_expect_eq(seq[4], 6, "item 5 skipped");
    cr_expect_eq(loader_skipped(l), 5);
    cr_expect_eq(badfiles_count(&bad), 5);
    char path[64], reason[64];
    badfiles_get(&bad, 0, path, sizeof path, reason, sizeof reason);
    cr_expect_str_eq(path, "bad-0");
    cr_expect_str_eq(reason, "corrupt on purpose");
    // a second epoch meets the same files: counted again, listed once
    run_epoch(l, 1, seq, 64, NULL, NULL);
    cr_expect_eq(badfiles_count(&bad), 5);
    loader_free(l);
    badfiles_free(&bad);
    free_split(&s);
}

Test(loader, a_split_with_no_readable_file_is_an_error) {
    const int bad_ids[] = {0, 1, 2};
    dataset_split s = make_split(3, bad_ids, 3);
    badfile_list bad;
    badfiles_init(&bad);
    loader *l = make_loader(&s, &bad, 2, 0, 1);
    char err[256];
    cr_assert_eq(loader_start_epoch(l, 0, err, sizeof err), 0);
    loader_batch *b;
    cr_expect_eq(loader_next(l, &b, err, sizeof err), -1);
    cr_expect(strstr(err, "no readable image") != NULL, "%s", err);
    loader_free(l);
    badfiles_free(&bad);
    free_split(&s);
}

static void *stop_later(void *arg) {
    usleep(2000);
    loader_stop(arg);
    return NULL;
}

Test(loader, stop_at_any_moment, .timeout = 30) {
    dataset_split s = make_split(200, NULL, 0);
    badfile_list bad;
    badfiles_init(&bad);
    loader *l = make_loader(&s, &bad, 4, 9, 1);
    char err[256];
    loader_batch *b;
    for (int round = 0; round < 40; round++) {
        cr_assert_eq(loader_start_epoch(l, round, err, sizeof err), 0);
        switch (round % 4) {
        case 0:   // right after the start
            loader_stop(l);
            break;
        case 1:   // holding the first batch, never releasing it
            cr_assert_eq(loader_next(l, &b, err, sizeof err), 1);
            loader_stop(l);
            break;
        case 2: {   // from another thread while this one waits for batches it never gives back
            pthread_t t;
            pthread_create(&t, NULL, stop_later, l);
            int rc;
            while ((rc = loader_next(l, &b, err, sizeof err)) == 1) {}
            cr_expect_eq(rc, -1);
            cr_expect_str_eq(err, "stopped");
            pthread_join(t, NULL);
            break;
        }
        default:   // twice in a row
            loader_stop(l);
            loader_stop(l);
        }
        cr_expect_eq(loader_next(l, &b, err, sizeof err), -1, "a stopped loader gives no batch");
    }
    // and it still runs a whole epoch afterwards
    int seq[200];
    cr_expect_eq(run_epoch(l, 0, seq, 200, NULL, NULL), 200);
    loader_free(l);
    badfiles_free(&bad);
    free_split(&s);
}

Test(loader, defaults) {
    loader_opts o;
    loader_opts_default(&o);
    cr_expect_eq(o.batch_size, 16);
    cr_expect_eq(o.shuffle, 1);
    cr_expect_geq(loader_default_workers(), 1);
    cr_expect_eq(loader_default_workers(), (int)sysconf(_SC_NPROCESSORS_ONLN));
}

Test(loader, long_runs_of_bad_files_do_not_stall, .timeout = 30) {
    // 70 bad files in a row: more than the loader's ring holds (4 batches of 16)
    int bad_ids[80], n_bad = 0;
    for (int i = 10; i < 80; i++) bad_ids[n_bad++] = i;
    bad_ids[n_bad++] = 95;
    dataset_split s = make_split(100, bad_ids, n_bad);
    badfile_list bad;
    badfiles_init(&bad);
    int one[100], many[100];
    loader *l1 = make_loader(&s, &bad, 1, 11, 0), *l3 = make_loader(&s, &bad, 3, 11, 0);
    size_t n1 = run_epoch(l1, 0, one, 100, NULL, NULL), n3 = run_epoch(l3, 0, many, 100, NULL, NULL);
    cr_expect_eq(n1, 29);
    cr_expect_eq(n3, 29);
    cr_expect(memcmp(one, many, n1 * sizeof *one) == 0, "same batches with 1 and 3 workers");
    cr_expect_eq(one[9], 9);
    cr_expect_eq(one[10], 80, "the next good file after the run of bad ones");
    // shuffled, with scattered bad files, still the same for any number of workers
    loader *a = make_loader(&s, &bad, 1, 12, 1), *b = make_loader(&s, &bad, 4, 12, 1);
    n1 = run_epoch(a, 3, one, 100, NULL, NULL);
    n3 = run_epoch(b, 3, many, 100, NULL, NULL);
    cr_expect(n1 == 29 && n3 == 29 && memcmp(one, many, n1 * sizeof *one) == 0);
    loader_free(l1);
    loader_free(l3);
    loader_free(a);
    loader_free(b);
    badfiles_free(&bad);
    free_split(&s);
}
