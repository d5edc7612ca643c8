// test_previous_run.c — the Train screen draws the previous run on the same dataset faintly behind
// the live one (the run history's, core/history/): which run that is comes from `frost runs --json`
// (the oracle), never from the screen; a newer run on another dataset is not it, and a dataset with
// no earlier run draws none.
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

TestSuite(tui_previous_run, .init = setup, .fini = teardown, .timeout = 240);

// A finished run of 3 epochs on the dataset at root, recorded as the front ends record one.
static void record(sqlite3 *db, const char *root) {
    char *classes[2] = {"cold", "warm"};
    char real[PATH_MAX];
    cr_assert_not_null(realpath(root, real));
    dataset d = {.root = real, .classes = classes, .n_classes = 2};
    trainer_config c;
    trainer_config_default(&c);
    snprintf(c.arch, sizeof c.arch, "resnet18");
    c.epochs = 3;
    run_origin o = {.origin = "cli", .command = "frost train", .version = "test"};
    char note[512];
    run_record *r = run_record_start_in(db, &c, &d, &o, note, sizeof note);
    cr_assert_not_null(r, "%s", note);
    for (int e = 1; e <= 3; e++) {
        train_event ev = {.kind = EV_EPOCH,
                          .epoch = e,
                          .train_loss = 1.0 / e,
                          .train_acc = 50,
                          .valid_loss = 0.9 / e,
                          .valid_acc = 30.0 * e,
                          .seconds = 1};
        cr_assert_eq(run_record_event(r, &ev, note, sizeof note), 0, "%s", note);
    }
    train_event end = {.kind = EV_FINISHED, .status = 0, .seconds = 3};
    cr_assert_eq(run_record_event(r, &end, note, sizeof note), 0, "%s", note);
    run_record_free(r);
}

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

Test(tui_previous_run, the_earlier_run_on_the_same_dataset_is_drawn_behind) {
    char here[2100], other[2100], path[4200], err[512];
    snprintf(here, sizeof here, "%s/here", dir);
    snprintf(other, sizeof other, "%s/other", dir);
    fx_two_class_dataset(here, 4, 2, 32);
    fx_two_class_dataset(other, 4, 2, 32);
    snprintf(path, sizeof path, "%s/frost/runs.db", data_home);
    sqlite3 *db;
    cr_assert_eq(runs_db_open_at(&db, path, 1, err, sizeof err), 0, "%s", err);
    record(db, here);
    record(db, other);   // newer, on another dataset: not the one to draw
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

Test(tui_previous_run, a_dataset_with_no_earlier_run_draws_none) {
    char fresh[2100];
    snprintf(fresh, sizeof fresh, "%s/fresh", dir);
    fx_two_class_dataset(fresh, 4, 2, 32);
    setenv("XDG_DATA_HOME", data_home, 1);
    const char *screen = train_on(fresh);
    cr_expect(strstr(screen, "valid)") && !strstr(screen, "'s valid"), "no earlier run in the legend:\n%s", screen);
    tmux_keys("q");
    cr_expect(tmux_wait_for("EXITED 0", 60), "%s", tmux_screen(0));
}
