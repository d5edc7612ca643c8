// test_screen_runs.c — the interface's Runs screen (5), end to end in tmux, on a history the test
// records itself (core/history/'s recorder, fed the events a run would post): every row the screen
// shows checked against `frost runs --json` (the oracle for the screen), the filter, two runs marked
// and their settings diff, Enter putting a run's settings in the Train form, and a delete that asks
// first and is then gone from `frost runs --json` too.
#include <criterion/criterion.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fixtures.h"
#include "run_record.h"
#include "runs_db.h"
#include "testutil.h"
#include "tmux_util.h"

static char *dir, data_home[2048], env[4600];

static void setup(void) {
    dir = tu_tmpdir();
    snprintf(data_home, sizeof data_home, "%s/share", dir);
    snprintf(env, sizeof env, "XDG_DATA_HOME=%s FROST_RUNS=1", data_home);
}

static void teardown(void) {
    tmux_stop();
    unsetenv("XDG_DATA_HOME");
    tu_rmtree(dir);
    free(dir);
}

TestSuite(tui_runs, .init = setup, .fini = teardown, .timeout = 120);

// A run of `epochs` epochs on the dataset at root recorded as the front ends record one: arch, lr,
// its valid accuracy rising to best.
static void record_on(sqlite3 *db, const char *root, const char *arch, double lr, int epochs, double best) {
    char *classes[2] = {"cold", "warm"};
    char real[PATH_MAX];
    cr_assert_not_null(realpath(root, real));
    dataset d = {.root = real, .classes = classes, .n_classes = 2};
    trainer_config c;
    trainer_config_default(&c);
    snprintf(c.arch, sizeof c.arch, "%s", arch);
    c.opt.lr = lr;
    c.epochs = epochs;
    run_origin o = {.origin = "cli", .command = "frost train", .version = "test"};
    char note[512];
    run_record *r = run_record_start_in(db, &c, &d, &o, note, sizeof note);
    cr_assert_not_null(r, "%s", note);
    for (int e = 1; e <= epochs; e++) {
        train_event b = {.kind = EV_BATCH, .epoch = e, .phase = PHASE_TRAIN, .loss = 1.0 / e, .lr = lr};
        cr_assert_eq(run_record_event(r, &b, note, sizeof note), 0);
        train_event ev = {.kind = EV_EPOCH,
                          .epoch = e,
                          .train_loss = 1.0 / e,
                          .train_acc = 50,
                          .valid_loss = 1.2 / e,
                          .valid_acc = best * e / epochs,
                          .seconds = 2};
        cr_assert_eq(run_record_event(r, &ev, note, sizeof note), 0);
    }
    train_event end = {.kind = EV_FINISHED, .status = 0, .seconds = 2.0 * epochs};
    cr_assert_eq(run_record_event(r, &end, note, sizeof note), 0);
    run_record_free(r);
}

static void record(sqlite3 *db, const char *arch, double lr, int epochs, double best) {
    record_on(db, dir, arch, lr, epochs, best);
}

// The screen's line of run id (it starts with the id after the mark column), or NULL.
static const char *line_of(const char *screen, long long id) {
    char start[32];
    int n = snprintf(start, sizeof start, "\n  %lld ", id);
    const char *p = strstr(screen, start);
    if (!p) {   // a marked one
        snprintf(start, sizeof start, "\n* %lld ", id);
        p = strstr(screen, start);
    }
    (void)n;
    return p ? p + 1 : NULL;
}

static json_t *runs_json(void) {
    tu_run_result r;
    tu_run_frost(&r, (const char *[]){"runs", "--json", NULL});
    cr_assert_eq(r.status, 0, "%s", r.err);
    json_error_t je;
    json_t *all = json_loads(r.out, 0, &je);
    cr_assert(json_is_array(all), "%s: %s", je.text, r.out);
    tu_run_free(&r);
    return all;
}

Test(tui_runs, the_table_is_the_history_and_its_keys_work) {
    char path[4200], err[512];
    snprintf(path, sizeof path, "%s/frost/runs.db", data_home);
    sqlite3 *db;
    cr_assert_eq(runs_db_open_at(&db, path, 1, err, sizeof err), 0, "%s", err);
    record(db, "resnet18", 1e-5, 3, 62.5);
    record(db, "vgg11", 1e-3, 5, 87.25);
    record(db, "resnet18", 1e-3, 2, 40);
    runs_db_close(db);
    setenv("XDG_DATA_HOME", data_home, 1);   // for frost runs --json (FROST_RUNS only turns recording off)
    json_t *all = runs_json();
    cr_assert_eq(json_array_size(all), 3);

    tmux_start(dir, 140, 45, env);
    cr_assert(tmux_wait_for("1 Data", 60), "%s", tmux_screen(0));
    tmux_keys("5");
    cr_assert(tmux_wait_for("IDv", 30), "%s", tmux_screen(0));
    const char *screen = tmux_screen(0);
    // every run as frost runs --json says it, newest first
    const char *prev = NULL;
    for (size_t k = 0; k < json_array_size(all); k++) {
        json_t *o = json_array_get(all, k);
        long long id = json_integer_value(json_object_get(o, "id"));
        const char *line = line_of(screen, id);
        cr_assert_not_null(line, "run %lld not on the screen:\n%s", id, screen);
        cr_expect(!prev || line > prev, "newest first:\n%s", screen);
        prev = line;
        char row[512], want[64];
        snprintf(row, sizeof row, "%.*s", (int)(strchr(line, '\n') - line), line);
        const char *arch = json_string_value(json_object_get(o, "arch"));
        cr_expect(strstr(row, arch), "%s in '%s'", arch, row);
        snprintf(want, sizeof want, " %.3g ", json_real_value(json_object_get(o, "lr")));
        cr_expect(strstr(row, want), "'%s' in '%s'", want, row);
        snprintf(want, sizeof want, " %.2f%% ", json_real_value(json_object_get(o, "best_valid_acc")));
        cr_expect(strstr(row, want), "'%s' in '%s'", want, row);
        snprintf(want, sizeof want, " %lld/%lld ", (long long)json_integer_value(json_object_get(o, "epochs_done")),
                 (long long)json_integer_value(json_object_get(o, "epochs")));
        cr_expect(strstr(row, want), "'%s' in '%s'", want, row);
        cr_expect(strstr(row, json_string_value(json_object_get(o, "status"))), "%s", row);
    }
    json_decref(all);
    // sorted by best accuracy (s seven times from ID: WHEN DATASET ARCH TRAINABLE LR EPOCHS BEST)
    tmux_keys("s s s s s s s");
    cr_assert(tmux_wait_for("BEST ACCv", 30), "%s", tmux_screen(0));
    screen = tmux_screen(0);
    cr_expect(line_of(screen, 2) < line_of(screen, 1) && line_of(screen, 1) < line_of(screen, 3), "%s", screen);
    // the filter
    tmux_keys("/");
    tmux_text("vgg");
    tmux_keys("Enter");
    cr_assert(tmux_wait_for("filter: vgg", 30), "%s", tmux_screen(0));
    screen = tmux_screen(0);
    cr_expect(line_of(screen, 2) && !line_of(screen, 1) && !line_of(screen, 3), "%s", screen);
    tmux_keys("/");
    tmux_keys("C-u Enter");
    cr_assert(tmux_wait_gone("filter: vgg", 30), "%s", tmux_screen(0));
    // two marked: overlaid, with what differs in their settings (run 2 then run 1 in this order)
    tmux_keys("Home Space Down Space");
    cr_assert(tmux_wait_for("settings that differ", 30), "%s", tmux_screen(0));
    screen = tmux_screen_flat();
    cr_expect(strstr(screen, "arch vgg11 resnet18") && strstr(screen, "lr 0.001 1e-05") && strstr(screen, "epochs 5 3"),
              "%s", screen);
    // delete asks first; n keeps it
    tmux_keys("d");
    cr_assert(tmux_wait_for("(y to delete)", 30), "%s", tmux_screen(0));
    tmux_keys("n Enter");
    cr_assert(tmux_wait_for("run 1 kept", 30), "%s", tmux_screen(0));
    tmux_keys("d");
    cr_assert(tmux_wait_for("(y to delete)", 30), "%s", tmux_screen(0));
    tmux_keys("y Enter");
    cr_assert(tmux_wait_for("run 1 deleted", 30), "%s", tmux_screen(0));
    all = runs_json();
    cr_expect_eq(json_array_size(all), 2);
    for (size_t k = 0; k < json_array_size(all); k++)
        cr_expect_neq(json_integer_value(json_object_get(json_array_get(all, k), "id")), 1);
    json_decref(all);
    // Enter: run 2's settings (vgg11, lr 1e-3, 5 epochs) in the Train form
    tmux_keys("Home Enter");
    cr_assert(tmux_wait_for("run 2's settings in the form", 30), "%s", tmux_screen(0));
    screen = tmux_screen(0);
    cr_expect(strstr(screen, "[3 Train]") && strstr(screen, "vgg11") && strstr(screen, "learning rate  0.001") &&
                  strstr(screen, "epochs         5"),
              "%s", screen);
    tmux_keys("q");
    cr_expect(tmux_wait_for("EXITED 0", 60), "%s", tmux_screen(0));
}

// A history longer than the first page the screen reads at once (the rest comes from a background
// job): the oldest run is there at the end of the table, and sorting takes in every run, as frost
// runs --json lists them.
Test(tui_runs, a_long_history_arrives_whole) {
    char path[4200], err[512];
    snprintf(path, sizeof path, "%s/frost/runs.db", data_home);
    sqlite3 *db;
    cr_assert_eq(runs_db_open_at(&db, path, 1, err, sizeof err), 0, "%s", err);
    enum { RUNS = 420 };
    for (int k = 1; k <= RUNS; k++) record(db, "resnet18", 1e-4, 1, k == 7 ? 99.5 : 10 + k % 50);
    runs_db_close(db);
    setenv("XDG_DATA_HOME", data_home, 1);
    json_t *all = runs_json();
    cr_assert_eq(json_array_size(all), RUNS);
    long long oldest = 0, best_id = 0;
    double best = -1;
    for (size_t k = 0; k < json_array_size(all); k++) {
        json_t *o = json_array_get(all, k);
        long long id = json_integer_value(json_object_get(o, "id"));
        double b = json_real_value(json_object_get(o, "best_valid_acc"));
        if (!oldest || id < oldest) oldest = id;
        if (b > best) best = b, best_id = id;
    }
    json_decref(all);

    tmux_start(dir, 140, 45, env);
    cr_assert(tmux_wait_for("1 Data", 60), "%s", tmux_screen(0));
    tmux_keys("5");
    cr_assert(tmux_wait_for("IDv", 30), "%s", tmux_screen(0));
    cr_assert(tmux_wait_gone("(reading the rest)", 30), "%s", tmux_screen(0));
    tmux_keys("End");
    cr_assert(tmux_wait_for("\n  1 ", 30), "the oldest run at the table's end:\n%s", tmux_screen(0));
    cr_expect_not_null(line_of(tmux_screen(0), oldest), "%s", tmux_screen(0));
    // sorted by best accuracy, highest first: the old run with the best of all on top (the selection
    // stays on the run it was on, so Home after the sort)
    tmux_keys("s s s s s s s");
    cr_assert(tmux_wait_for("BEST ACCv", 30), "%s", tmux_screen(0));
    tmux_keys("Home");
    char at_top[32];
    snprintf(at_top, sizeof at_top, "run %lld: loss", best_id);
    cr_assert(tmux_wait_for(at_top, 30), "%s", tmux_screen(0));
    const char *screen = tmux_screen(0);
    const char *top = strstr(screen, "BEST ACCv");
    char want[32];
    snprintf(want, sizeof want, "\n  %lld ", best_id);
    const char *first = top ? strstr(top, "\n  ") : NULL;
    cr_expect(first && strncmp(first, want, strlen(want)) == 0, "run %lld first:\n%s", best_id, screen);
    tmux_keys("q");
    cr_expect(tmux_wait_for("EXITED 0", 60), "%s", tmux_screen(0));
}

// The Train screen draws the previous run on the same dataset faintly behind the live one: which run
// that is comes from `frost runs --json`, never from the screen; a newer run on another dataset is
// not it, and a dataset with no earlier run draws none.
// The id of the newest run on dataset (frost runs --dataset D --json), 0 when none.
static long long newest_on(const char *data) {
    tu_run_result r;
    tu_run_frost(&r, (const char *[]){"runs", "--dataset", data, "--json", NULL});
    cr_assert_eq(r.status, 0, "%s", r.err);
    json_error_t je;
    json_t *all = json_loads(r.out, 0, &je);
    cr_assert(json_is_array(all), "%s: %s", je.text, r.out);
    long long id = json_array_size(all) ? json_integer_value(json_object_get(json_array_get(all, 0), "id")) : 0;
    json_decref(all);
    tu_run_free(&r);
    return id;
}

// frost on dataset, a run started from the Train screen with the form's values, until it is done.
static const char *train_on(const char *data) {
    char args[2400];
    snprintf(args, sizeof args, "%s --arch resnet18", data);
    tmux_start(args, 140, 50, env);
    cr_assert(tmux_wait_for("2 classes", 60), "%s", tmux_screen(0));
    tmux_keys("3");
    cr_assert(tmux_wait_for("learning rate", 60), "%s", tmux_screen(0));
    tmux_keys("Enter");
    cr_assert(tmux_wait_for("Training complete in", 200), "the run finishes:\n%s", tmux_screen(0));
    return tmux_screen(0);
}

Test(tui_runs, the_earlier_run_on_the_same_dataset_is_drawn_behind, .timeout = 240) {
    char here[2100], other[2100], path[4200], err[512];
    snprintf(here, sizeof here, "%s/here", dir);
    snprintf(other, sizeof other, "%s/other", dir);
    fx_two_class_dataset(here, 4, 2, 32);
    fx_two_class_dataset(other, 4, 2, 32);
    snprintf(path, sizeof path, "%s/frost/runs.db", data_home);
    sqlite3 *db;
    cr_assert_eq(runs_db_open_at(&db, path, 1, err, sizeof err), 0, "%s", err);
    record_on(db, here, "resnet18", 1e-5, 3, 90);
    record_on(db, other, "resnet18", 1e-5, 3, 90);   // newer, on another dataset: not the one to draw
    runs_db_close(db);
    setenv("XDG_DATA_HOME", data_home, 1);
    long long before = newest_on(here);
    cr_assert_gt(before, 0);
    cr_assert_neq(before, newest_on(other));

    const char *screen = train_on(here);
    char legend[64];
    snprintf(legend, sizeof legend, "run %lld's valid", before);
    cr_expect(strstr(screen, legend), "'%s' in the chart's legend:\n%s", legend, screen);
    // the run just made is in the history now, on this dataset, newer than the one drawn
    tmux_keys("q");
    cr_expect(tmux_wait_for("EXITED 0", 60), "%s", tmux_screen(0));
    tmux_stop();
    cr_expect_gt(newest_on(here), before);
}

Test(tui_runs, a_dataset_with_no_earlier_run_draws_none, .timeout = 240) {
    char fresh[2100];
    snprintf(fresh, sizeof fresh, "%s/fresh", dir);
    fx_two_class_dataset(fresh, 4, 2, 32);
    setenv("XDG_DATA_HOME", data_home, 1);
    const char *screen = train_on(fresh);
    cr_expect(strstr(screen, "valid)") && !strstr(screen, "'s valid"), "no earlier run in the legend:\n%s", screen);
    tmux_keys("q");
    cr_expect(tmux_wait_for("EXITED 0", 60), "%s", tmux_screen(0));
}
