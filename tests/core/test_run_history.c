// test_run_history.c — core/history/ without training: a run recorded from events (as the front
// ends hand them over) and read back, replay's comparison to the bit, runs whose process died marked
// interrupted, the schema's version, the CSV export, a writer waiting for another's write.
#include <criterion/criterion.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "run_query.h"
#include "run_record.h"
#include "run_settings.h"
#include "runs_db.h"
#include "testutil.h"

static char *dir, path[4096];
static sqlite3 *db;
static dataset d;
static char *classes[2] = {"cat", "dog"};

static void setup(void) {
    dir = tu_tmpdir();
    snprintf(path, sizeof path, "%s/runs.db", dir);
    char err[512];
    cr_assert_eq(runs_db_open_at(&db, path, 1, err, sizeof err), 0, "%s", err);
    memset(&d, 0, sizeof d);
    d.root = dir;
    d.classes = classes;
    d.n_classes = 2;
}

static void teardown(void) {
    runs_db_close(db);
    tu_rmtree(dir);
    free(dir);
}

TestSuite(run_history, .init = setup, .fini = teardown);

// A run of `epochs` epochs of 3 train batches and 1 valid batch, the train losses from loss(epoch,
// batch); its id.
static long long record(int epochs, double (*loss)(int, int), int status) {
    trainer_config c;
    trainer_config_default(&c);
    snprintf(c.arch, sizeof c.arch, "resnet18");
    c.epochs = epochs;
    run_origin o = {.origin = "cli", .command = "frost train x", .version = "test"};
    char note[512];
    run_record *r = run_record_start_in(db, &c, &d, &o, note, sizeof note);
    cr_assert_not_null(r, "%s", note);
    for (int e = 1; e <= epochs; e++) {
        for (int b = 1; b <= 4; b++) {
            train_event ev = {.kind = EV_BATCH,
                              .epoch = e,
                              .phase = b <= 3 ? PHASE_TRAIN : PHASE_VALID,
                              .batch = (size_t)b,
                              .loss = b <= 3 ? loss(e, b) : 0.5,
                              .lr = 1e-3,
                              .images_per_s = 10};
            cr_assert_eq(run_record_event(r, &ev, note, sizeof note), 0, "%s", note);
        }
        train_event ev = {.kind = EV_EPOCH,
                          .epoch = e,
                          .train_loss = 1.0 / e,
                          .train_acc = 50,
                          .valid_loss = 2.0 / e,
                          .valid_acc = e == 2 ? 90 : 60 + e,
                          .seconds = 1.5};
        cr_assert_eq(run_record_event(r, &ev, note, sizeof note), 0, "%s", note);
    }
    train_event end = {.kind = EV_FINISHED, .status = status, .seconds = 4.5};
    cr_assert_eq(run_record_event(r, &end, note, sizeof note), 0, "%s", note);
    long long id = run_record_id(r);
    run_record_free(r);
    return id;
}

static double smooth(int e, int b) { return 1.0 / (e * 10 + b); }
static double bumped(int e, int b) { return e == 2 && b == 3 ? nextafter(smooth(e, b), 1) : smooth(e, b); }

Test(run_history, a_run_recorded_from_events_reads_back) {
    long long id = record(3, smooth, 0);
    run_row r;
    run_epoch *e;
    size_t n;
    char err[512];
    cr_assert_eq(runs_get(db, id, &r, &e, &n, err, sizeof err), 1, "%s", err);
    cr_expect_str_eq(r.status, "completed");
    cr_expect_eq(r.epochs_done, 3);
    cr_expect_eq(n, 3);
    cr_expect_eq(r.best_epoch, 2, "the best valid accuracy was epoch 2's");
    cr_expect_eq(r.best_valid_acc, 90);
    cr_expect_eq(r.final_valid_acc, 63);
    cr_expect_eq(r.batches, 12);
    cr_expect_eq(e[1].lr, 1e-3);
    cr_expect_eq(e[2].valid_loss, 2.0 / 3);
    cr_expect_str_eq(r.dataset, dir);
    cr_expect_str_eq(r.classes, "cat,dog");
    free(e);
    // its settings give back the config they came from
    run_settings s;
    cr_assert_eq(run_settings_parse(&s, r.settings, err, sizeof err), 0, "%s", err);
    cr_expect_str_eq(s.cfg.arch, "resnet18");
    cr_expect_eq(s.cfg.epochs, 3);
    cr_expect_str_eq(s.dataset, dir);
    run_row_free(&r);
    long long failed = record(1, smooth, -1), stopped = record(1, smooth, 1);
    cr_assert_eq(runs_get(db, failed, &r, NULL, NULL, err, sizeof err), 1);
    cr_expect_str_eq(r.status, "failed");
    run_row_free(&r);
    cr_assert_eq(runs_get(db, stopped, &r, NULL, NULL, err, sizeof err), 1);
    cr_expect_str_eq(r.status, "stopped");
    run_row_free(&r);
    run_filter f = {.status = "completed"};
    cr_expect_eq(runs_list(db, &f, NULL, NULL, err, sizeof err), 1);
    cr_expect_eq(runs_list(db, NULL, NULL, NULL, err, sizeof err), 3);
}

Test(run_history, replay_is_compared_to_the_bit) {
    long long a = record(2, smooth, 0), b = record(2, smooth, 0), c = record(2, bumped, 0);
    char said[512];
    cr_expect_eq(runs_compare_losses(db, a, b, said, sizeof said), 1, "%s", said);
    cr_expect_str_eq(said, "identical to run 1: every one of its 8 batch losses to the bit");
    // one ulp in one batch's loss is a difference, and where it is is said
    cr_expect_eq(runs_compare_losses(db, a, c, said, sizeof said), 0, "%s", said);
    cr_expect(strstr(said, "differs from run 1: the losses part at epoch 2, batch 3"), "%s", said);
    cr_expect_eq(runs_compare_losses(db, a, 99, said, sizeof said), -1);
}

Test(run_history, a_run_whose_process_died_is_marked_interrupted) {
    long long dead = record(1, smooth, 0), alive = record(1, smooth, 0);
    pid_t child = fork();
    if (child == 0) _exit(0);
    int st;
    waitpid(child, &st, 0);
    char sql[256];
    snprintf(sql, sizeof sql, "UPDATE runs SET status = 'running', pid = %d WHERE id = %lld", (int)child, dead);
    cr_assert_eq(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
    snprintf(sql, sizeof sql, "UPDATE runs SET status = 'running' WHERE id = %lld", alive);   // this process's
    cr_assert_eq(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
    char err[512];
    cr_assert_eq(runs_db_mark_interrupted(db, err, sizeof err), 0, "%s", err);
    run_row r;
    cr_assert_eq(runs_get(db, dead, &r, NULL, NULL, err, sizeof err), 1);
    cr_expect_str_eq(r.status, "interrupted");
    run_row_free(&r);
    cr_assert_eq(runs_get(db, alive, &r, NULL, NULL, err, sizeof err), 1);
    cr_expect_str_eq(r.status, "running", "its process is this one, alive");
    run_row_free(&r);
}

Test(run_history, a_newer_schema_is_refused_and_left_alone) {
    cr_assert_eq(sqlite3_exec(db, "PRAGMA user_version = 99", NULL, NULL, NULL), SQLITE_OK);
    runs_db_close(db);
    db = NULL;
    size_t len;
    char *before = tu_read_file(path, &len);
    cr_assert_not_null(before);
    sqlite3 *again;
    char err[512];
    cr_expect_eq(runs_db_open_at(&again, path, 1, err, sizeof err), -1);
    cr_expect(strstr(err, "written by a newer frost (schema 99; this one knows 1)"), "%s", err);
    size_t len2;
    char *after = tu_read_file(path, &len2);
    cr_expect(after && len2 == len && memcmp(before, after, len) == 0);
    free(before);
    free(after);
    cr_assert_eq(runs_db_open_at(&db, path, 0, err, sizeof err), -1);   // teardown closes NULL
}

Test(run_history, csv_export_quotes_what_needs_it) {
    trainer_config c;
    trainer_config_default(&c);
    run_origin o = {.origin = "cli", .command = "frost train 'a, \"b\"'", .version = "test"};
    char note[512];
    run_record *r = run_record_start_in(db, &c, &d, &o, note, sizeof note);
    cr_assert_not_null(r);
    run_record_free(r);
    char csv[4200], err[512];
    snprintf(csv, sizeof csv, "%s/runs.csv", dir);
    cr_assert_eq(runs_export_csv(db, csv, 0, err, sizeof err), 1, "%s", err);
    char *text = tu_read_file(csv, NULL);
    cr_assert_not_null(text);
    cr_expect(strncmp(text, "id,started_utc,", 15) == 0, "%s", text);
    cr_expect(strstr(text, ",\"frost train 'a, \"\"b\"\"'\"\n"), "%s", text);
    free(text);
}

// Another process writing the history (here a second connection holding its write lock for 300 ms):
// the recorder waits for it (the busy timeout) and its epoch is written, not lost.
static void *release_later(void *arg) {
    struct timespec ts = {0, 300000000};
    nanosleep(&ts, NULL);
    sqlite3_exec(arg, "COMMIT", NULL, NULL, NULL);
    return NULL;
}

Test(run_history, a_writer_waits_for_another_process_write) {
    trainer_config c;
    trainer_config_default(&c);
    run_origin o = {.origin = "cli", .command = "frost train x", .version = "test"};
    char note[512], err[512];
    run_record *r = run_record_start_in(db, &c, &d, &o, note, sizeof note);
    cr_assert_not_null(r, "%s", note);
    sqlite3 *other;
    cr_assert_eq(runs_db_open_at(&other, path, 0, err, sizeof err), 0, "%s", err);
    cr_assert_eq(sqlite3_exec(other, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
    pthread_t t;
    cr_assert_eq(pthread_create(&t, NULL, release_later, other), 0);
    train_event ev = {.kind = EV_EPOCH, .epoch = 1, .train_loss = 1, .valid_acc = 50};
    int rc = run_record_event(r, &ev, note, sizeof note);
    pthread_join(t, NULL);
    runs_db_close(other);
    cr_expect_eq(rc, 0, "the epoch waited for the other writer: %s", note);
    run_row row;
    cr_assert_eq(runs_get(db, run_record_id(r), &row, NULL, NULL, err, sizeof err), 1);
    cr_expect_eq(row.epochs_done, 1);
    run_row_free(&row);
    run_record_free(r);
}
