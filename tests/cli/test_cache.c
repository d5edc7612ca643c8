// test_cache.c — the feature cache on disk as a user meets it: a second `frost train` on the same
// images with another --lr takes its features from disk and trains from the first epoch on them, with
// the losses of a run that computed them (--cache memory: frost's own run without the disk cache, the
// equivalence the cache promises; the features themselves are checked against PyTorch elsewhere);
// `frost cache list` shows the entries, a damaged entry is recomputed and said, `frost cache clear`
// empties it, a bad command line is one line.
#include <criterion/criterion.h>
#include <dirent.h>
#include <fcntl.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fixtures.h"
#include "testutil.h"

static char *root;
static char data[4096], features[4200];

static void setup(void) {
    root = tu_tmpdir();
    char cache[1024];
    fx_private_caches(root, cache, sizeof cache);   // frost's cache under root: the children inherit it
    snprintf(features, sizeof features, "%s/features", cache);
    setenv("XDG_CONFIG_HOME", root, 1);          // no config file of the user's
    setenv("FROST_FEATURE_CACHE_MB", "64", 1);   // on (the suite has it off for every other test)
    snprintf(data, sizeof data, "%s/data", root);
}

static void teardown(void) {
    tu_rmtree(root);
    free(root);
}

TestSuite(cli_cache, .init = setup, .fini = teardown);

typedef struct {
    double train[8], valid[8];   // epoch 1's batch losses
    int n_train, n_valid;
    int from_cache;    // epoch 1's batches that ran on cached features
    char info[8192];   // the info lines, one per line
} run_log;

// frost train on the dataset (resnet18, 32x32, one epoch, batches of 4, on the CPU) with extra args;
// expects success and reads its --json log.
static void train(run_log *L, const char *lr, const char *cache) {
    char json[4200];
    snprintf(json, sizeof json, "%s/log.jsonl", root);
    tu_run_result r;
    tu_run_frost(&r, (const char *[]){"train", data,      "--arch",  "resnet18", "--size", "32",        "--epochs",
                                      "1",     "--batch", "4",       "--device", "cpu",    "--threads", "2",
                                      "--lr",  lr,        "--cache", cache,      "--json", json,        NULL});
    cr_assert_eq(r.status, 0, "frost train --lr %s --cache %s: %s", lr, cache, r.err);
    tu_run_free(&r);
    memset(L, 0, sizeof *L);
    char *text = tu_read_file(json, NULL);
    cr_assert_not_null(text);
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
        json_t *e = json_loads(line, 0, NULL);
        cr_assert_not_null(e, "%s", line);
        const char *kind = json_string_value(json_object_get(e, "event"));
        if (strcmp(kind, "info") == 0) {
            size_t used = strlen(L->info);
            snprintf(L->info + used, sizeof L->info - used, "%s\n", json_string_value(json_object_get(e, "text")));
        } else if (strcmp(kind, "batch") == 0 && json_integer_value(json_object_get(e, "epoch")) == 1) {
            int valid = strcmp(json_string_value(json_object_get(e, "phase")), "valid") == 0;
            double loss = json_real_value(json_object_get(e, "loss"));
            if (valid && L->n_valid < 8) L->valid[L->n_valid++] = loss;
            if (!valid && L->n_train < 8) L->train[L->n_train++] = loss;
            L->from_cache += json_is_true(json_object_get(e, "from_cache"));
        }
        json_decref(e);
    }
    free(text);
}

static void expect_same_losses(const run_log *a, const run_log *b, const char *what) {
    cr_assert_eq(a->n_train, b->n_train, "%s", what);
    cr_assert_eq(a->n_valid, b->n_valid, "%s", what);
    for (int i = 0; i < a->n_train; i++)
        cr_expect_leq(fabs(a->train[i] - b->train[i]), 1e-6, "%s: train batch %d: %.9f, %.9f", what, i + 1, a->train[i],
                      b->train[i]);
    for (int i = 0; i < a->n_valid; i++)
        cr_expect_leq(fabs(a->valid[i] - b->valid[i]), 1e-6, "%s: valid batch %d: %.9f, %.9f", what, i + 1, a->valid[i],
                      b->valid[i]);
}

// The entry of split in the features folder (its path into out), and how many entries there are.
static int entries(const char *split, char *out, size_t len) {
    DIR *d = opendir(features);
    int n = 0;
    struct dirent *de;
    while (d && (de = readdir(d)) != NULL) {
        size_t k = strlen(de->d_name);
        if (k < 12 || strcmp(de->d_name + k - 12, ".safetensors") != 0) continue;
        n++;
        if (split && strstr(de->d_name, split)) snprintf(out, len, "%s/%s", features, de->d_name);
    }
    if (d) closedir(d);
    return n;
}

Test(cli_cache, second_run_trains_on_features_from_disk, .timeout = 240) {
    fx_two_class_dataset(data, 4, 2, 32);   // 8 train, 4 valid images
    run_log first, second, memory, again;
    train(&first, "1e-3", "auto");
    cr_expect(strstr(first.info, "feature cache: wrote ") && strstr(first.info, "8 train images"), "%s", first.info);
    cr_expect(strstr(first.info, "from disk") == NULL, "%s", first.info);
    cr_expect_eq(first.from_cache, 0, "the first run computes its first epoch");
    cr_expect_eq(entries(NULL, NULL, 0), 2, "an entry for train and one for valid");

    train(&second, "1e-2", "auto");
    cr_expect(strstr(second.info, "feature cache: 8 of 8 train images from disk") &&
                  strstr(second.info, "feature cache: 4 of 4 valid images from disk"),
              "%s", second.info);
    cr_expect(strstr(second.info, "wrote") == NULL, "nothing new to write:\n%s", second.info);
    cr_expect_eq(second.from_cache, 2 + 1, "every batch of epoch 1 on features from disk");

    train(&memory, "1e-2", "memory");
    cr_expect(strstr(memory.info, "from disk") == NULL && strstr(memory.info, "wrote") == NULL, "%s", memory.info);
    cr_expect_eq(memory.from_cache, 0);
    expect_same_losses(&second, &memory, "from disk vs computed");

    // the list: both entries, their dataset, the total and the cap
    tu_run_result r;
    tu_run_frost(&r, (const char *[]){"cache", "list", NULL});
    cr_assert_eq(r.status, 0, "%s", r.err);
    char *real = realpath(data, NULL);
    cr_expect(strstr(r.out, "resnet18") && strstr(r.out, "train") && strstr(r.out, "valid") && strstr(r.out, real) &&
                  strstr(r.out, "2 entries") && strstr(r.out, "of the 64 MB cap (FROST_FEATURE_CACHE_MB)"),
              "%s", r.out);
    free(real);
    tu_run_free(&r);

    // a damaged entry: said, recomputed, replaced; the losses as before
    char train_entry[4400] = "";
    entries("-train-", train_entry, sizeof train_entry);
    cr_assert(train_entry[0]);
    size_t len = 0;
    char *bytes = tu_read_file(train_entry, &len);
    cr_assert(bytes && len > 64);
    memset(bytes + len - 40, 0x5a, 16);   // in the rows' data
    cr_assert_eq(tu_write_file(train_entry, bytes, len), 0);
    free(bytes);
    train(&again, "1e-2", "auto");
    cr_expect(strstr(again.info, "is damaged") && strstr(again.info, "computing it again") &&
                  strstr(again.info, "wrote ") && strstr(again.info, "4 of 4 valid images from disk"),
              "%s", again.info);
    cr_expect_eq(again.from_cache, 1, "the train phase computed, the valid phase from disk");
    expect_same_losses(&again, &memory, "recomputed vs computed");

    // clear: every entry gone, what it freed said
    tu_run_frost(&r, (const char *[]){"cache", "clear", NULL});
    cr_assert_eq(r.status, 0, "%s", r.err);
    cr_expect(strstr(r.out, "removed 2 entries, ") && strstr(r.out, "B freed"), "%s", r.out);
    tu_run_free(&r);
    cr_expect_eq(entries(NULL, NULL, 0), 0);

    // a bad command line: one line, the usage status
    tu_expect_one_line_error((const char *[]){"cache", "list", "extra", NULL}, 2, "no arguments");
    tu_expect_one_line_error((const char *[]){"train", data, "--cache", "disk", NULL}, 2, "memory");
}
