// test_runs.c — the run history as users meet it: `frost train` recorded and read back by Debian's
// sqlite3 shell (the independent reader of what is stored), two frost processes training at once, a
// run killed with SIGKILL, a corrupt database, one locked by another process past the busy timeout,
// one on a full disk, and `frost runs again` replaying a run to the bit.
#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fixtures.h"
#include "testutil.h"

static char *root, data_home[2048], db[4096];

static void setup(void) {
    root = tu_tmpdir();
    snprintf(data_home, sizeof data_home, "%s/share", root);
    snprintf(db, sizeof db, "%s/frost/runs.db", data_home);
    setenv("XDG_DATA_HOME", data_home, 1);
    setenv("FROST_RUNS", "1", 1);
}

static void teardown(void) {
    tu_small_disk_end(data_home);   // the full-disk test's tmpfs, also when that test failed midway
    setenv("FROST_RUNS", "0", 1);   // the suite's (fixtures.c)
    unsetenv("XDG_DATA_HOME");
    tu_rmtree(root);
    free(root);
}

TestSuite(runs, .init = setup, .fini = teardown);

// What the sqlite3 shell prints for sql on the history (stdout and stderr), trailing newline cut.
static char *sql(const char *query) {
    char cmd[8192];
    snprintf(cmd, sizeof cmd, "sqlite3 -batch '%s' \"%s\" 2>&1", db, query);
    FILE *p = popen(cmd, "r");
    cr_assert_not_null(p);
    static char out[65536];
    size_t n = fread(out, 1, sizeof out - 1, p);
    out[n] = '\0';
    cr_assert_eq(pclose(p), 0, "sqlite3 failed: %s\n%s", query, out);
    while (n && out[n - 1] == '\n') out[--n] = '\0';
    return out;
}

// A tiny run's arguments: resnet18 at 32x32 on the CPU, 2 epochs of batches of 4.
#define TINY_RUN(DATA) "train", (DATA), "--arch", "resnet18", "--size", "32", "--batch", "4", "--device", "cpu"

Test(runs, train_is_recorded_and_sqlite3_reads_it, .timeout = 120) {
    fx_two_class_dataset(root, 4, 2, 32);
    char json[4096], ckpt[4096];
    snprintf(json, sizeof json, "%s/events.jsonl", root);
    snprintf(ckpt, sizeof ckpt, "%s/model.safetensors", root);
    tu_run_result r;
    tu_run_frost(&r, (const char *[]){TINY_RUN(root), "--epochs", "2", "--json", json, "--save", ckpt, NULL});
    cr_assert_eq(r.status, 0, "%s", r.err);
    cr_expect_eq(r.err[0], '\0', "nothing said of the history when it works: %s", r.err);
    tu_run_free(&r);
    // the file as SQLite sees it: intact, WAL, schema 1
    cr_expect_str_eq(sql("PRAGMA integrity_check"), "ok");
    cr_expect_str_eq(sql("PRAGMA journal_mode"), "wal");
    cr_expect_str_eq(sql("PRAGMA user_version"), "1");
    cr_expect_str_eq(sql("SELECT status, origin, arch, trainable, epochs, epochs_done, batches, lr FROM runs"),
                     "completed|cli|resnet18|head|2|2|6|1.0e-05");
    cr_expect_str_eq(sql("SELECT json_extract(settings, '$.size') || ' ' || json_extract(settings, '$.batch') || ' ' ||"
                         " json_extract(settings, '$.device') || ' ' || json_extract(settings, '$.classes') FROM runs"),
                     "32 4 cpu [\"cold\",\"warm\"]");
    char *command = sql("SELECT command FROM runs");
    cr_expect(strstr(command, "frost train ") == command && strstr(command, "--size 32"), "%s", command);
    char q[8192];
    snprintf(q, sizeof q, "SELECT checkpoint FROM runs");
    cr_expect_str_eq(sql(q), ckpt);
    cr_expect(strncmp(sql("SELECT checkpoint_digest FROM runs"), "sha256:", 7) == 0);
    cr_expect_str_eq(sql("SELECT peak_rss_kb > 10000, wall_s > 0, length(losses_digest) FROM runs"), "1|1|71");
    // every epoch's numbers as the run's own JSON log gave them, to the last digit of the double
    char *events = tu_read_file(json, NULL);
    cr_assert_not_null(events);
    int epochs = 0;
    for (const char *e = events; (e = strstr(e, "\"event\":\"epoch\"")) != NULL; e++) {
        int epoch;
        double tl, vl;
        const char *p = strstr(e, "\"epoch\":");
        cr_assert(p && sscanf(p, "\"epoch\":%d", &epoch) == 1);
        p = strstr(e, "\"train_loss\":");
        cr_assert(p && sscanf(p, "\"train_loss\":%lf", &tl) == 1);
        p = strstr(e, "\"valid_loss\":");
        cr_assert(p && sscanf(p, "\"valid_loss\":%lf", &vl) == 1);
        snprintf(q, sizeof q,
                 "SELECT abs(train_loss - %.17g) <= 1e-6 * abs(train_loss), abs(valid_loss - %.17g) <= 1e-6 * "
                 "abs(valid_loss), length(batch_losses) FROM epochs WHERE epoch = %d",
                 tl, vl, epoch);
        cr_expect_str_eq(sql(q), "1|1|16", "epoch %d", epoch);   // 2 train batches of 8 bytes
        epochs++;
    }
    free(events);
    cr_expect_eq(epochs, 2);
    // frost runs --json says what the shell reads
    tu_run_frost(&r, (const char *[]){"runs", "--json", NULL});
    cr_assert_eq(r.status, 0, "%s", r.err);
    cr_expect(strstr(r.out, "\"status\": \"completed\"") && strstr(r.out, "\"arch\": \"resnet18\"") &&
                  strstr(r.out, "\"epochs_done\": 2"),
              "%s", r.out);
    tu_run_free(&r);
    // a filter that matches nothing, one that matches
    tu_run_frost(&r, (const char *[]){"runs", "--arch", "vgg16", "--json", NULL});
    cr_expect_str_eq(r.out, "[]\n");
    tu_run_free(&r);
    tu_run_frost(&r, (const char *[]){"runs", "--status", "completed", NULL});
    cr_expect_eq(tu_count_lines(r.out), 2, "%s", r.out);
    tu_run_free(&r);
    // the CSV export: a header and one row, read back by the shell's CSV import
    char csv[4096];
    snprintf(csv, sizeof csv, "%s/epochs.csv", root);
    tu_run_frost(&r, (const char *[]){"runs", "export", "--csv", csv, "--epochs", NULL});
    cr_expect_eq(r.status, 0, "%s", r.err);
    tu_run_free(&r);
    char *text = tu_read_file(csv, NULL);
    cr_assert_not_null(text);
    cr_expect_eq(tu_count_lines(text), 3, "%s", text);
    free(text);
    // rm: gone from the file
    tu_run_frost(&r, (const char *[]){"runs", "rm", "1", NULL});
    cr_expect_eq(r.status, 0, "%s", r.err);
    tu_run_free(&r);
    cr_expect_str_eq(sql("SELECT count(*) FROM runs"), "0");
    cr_expect_str_eq(sql("SELECT count(*) FROM epochs"), "0");
}

Test(runs, two_processes_at_once_are_both_recorded, .timeout = 120) {
    fx_two_class_dataset(root, 4, 2, 32);
    char out[2][4096];
    pid_t pid[2];
    for (int k = 0; k < 2; k++) {
        snprintf(out[k], sizeof out[k], "%s/out%d.txt", root, k);
        pid[k] = tu_spawn_frost(out[k], (const char *[]){TINY_RUN(root), "--epochs", "2", NULL});
        cr_assert_gt(pid[k], 0);
    }
    for (int k = 0; k < 2; k++) {
        int st;
        cr_assert_eq(waitpid(pid[k], &st, 0), pid[k]);
        char *text = tu_read_file(out[k], NULL);
        cr_expect(WIFEXITED(st) && WEXITSTATUS(st) == 0, "%s", text ? text : "");
        cr_expect(text && !strstr(text, "run history off"), "%s", text ? text : "");
        free(text);
    }
    cr_expect_str_eq(sql("SELECT group_concat(status || ':' || epochs_done || ':' || batches, ' ') FROM runs"),
                     "completed:2:6 completed:2:6");
    cr_expect_str_eq(sql("SELECT count(*) FROM epochs"), "4");
    cr_expect_str_eq(sql("SELECT count(DISTINCT pid) FROM runs"), "2");
}

Test(runs, a_killed_run_is_found_and_marked_interrupted, .timeout = 120) {
    fx_two_class_dataset(root, 16, 2, 32);
    char out[4096];
    snprintf(out, sizeof out, "%s/out.txt", root);
    pid_t pid = tu_spawn_frost(out, (const char *[]){TINY_RUN(root), "--epochs", "10000", NULL});
    cr_assert_gt(pid, 0);
    // until its first epoch is in the file
    int seen = 0;
    for (int k = 0; k < 600 && !seen; k++) {
        struct timespec ts = {0, 100000000};
        nanosleep(&ts, NULL);
        char cmd[8192];
        snprintf(cmd, sizeof cmd, "sqlite3 -batch '%s' 'SELECT epochs_done FROM runs' 2>/dev/null", db);
        FILE *p = popen(cmd, "r");
        int n = 0;
        seen = p && fscanf(p, "%d", &n) == 1 && n >= 1;
        if (p) pclose(p);
    }
    kill(pid, SIGKILL);
    int st;
    waitpid(pid, &st, 0);
    cr_assert(seen, "the run's first epoch never reached the history");
    cr_expect_str_eq(sql("SELECT status FROM runs"), "running", "nothing has looked yet");
    tu_run_result r;
    tu_run_frost(&r, (const char *[]){"runs", "--json", NULL});
    cr_expect_eq(r.status, 0, "%s", r.err);
    cr_expect(strstr(r.out, "\"status\": \"interrupted\""), "%s", r.out);
    tu_run_free(&r);
    cr_expect_str_eq(sql("PRAGMA integrity_check"), "ok");
    cr_expect_str_eq(sql("SELECT status, epochs_done >= 1, finished IS NULL FROM runs"), "interrupted|1|1");
}

Test(runs, a_corrupt_database_costs_one_line_and_is_left_as_it_was, .timeout = 120) {
    fx_two_class_dataset(root, 4, 2, 32);
    tu_mkdirs_for(db);
    unsigned char *junk = fx_random_bytes(8192, 7);
    cr_assert_eq(tu_write_file(db, junk, 8192), 0);
    tu_run_result r;
    tu_run_frost(&r, (const char *[]){TINY_RUN(root), "--epochs", "1", NULL});
    cr_expect_eq(r.status, 0, "the run goes on: %s", r.err);
    cr_expect_eq(tu_count_lines(r.err), 1, "%s", r.err);
    cr_expect(strstr(r.err, "frost: run history off for this run: ") == r.err && strstr(r.err, db), "%s", r.err);
    cr_expect(strstr(r.out, "Training complete in "), "%s", r.out);
    tu_run_free(&r);
    fx_expect_file_is(db, junk, 8192);
    char side[4200];
    snprintf(side, sizeof side, "%s-wal", db);
    cr_expect(!fx_exists(side), "no journal made beside it");
    // the commands say the same in one line, and change nothing either
    tu_expect_one_line_error((const char *[]){"runs", "show", "1", NULL}, 1, "runs.db");
    fx_expect_file_is(db, junk, 8192);
    free(junk);
}

Test(runs, again_replays_a_run_to_the_bit_on_the_cpu, .timeout = 120) {
    fx_two_class_dataset(root, 4, 2, 32);
    tu_run_result r;
    tu_run_frost(&r, (const char *[]){TINY_RUN(root), "--epochs", "2", "--lr", "0.01", NULL});
    cr_assert_eq(r.status, 0, "%s", r.err);
    tu_run_free(&r);
    tu_run_frost(&r, (const char *[]){"runs", "again", "1", NULL});
    cr_assert_eq(r.status, 0, "%s", r.err);
    cr_expect(strstr(r.out, "run 2 identical to run 1: every one of its 6 batch losses to the bit"), "%s", r.out);
    tu_run_free(&r);
    cr_expect_str_eq(sql("SELECT repeats, status, replay LIKE 'identical to run 1%', command FROM runs WHERE id = 2"),
                     "1|completed|1|frost runs again 1");
    cr_expect_str_eq(sql("SELECT a.losses_digest = b.losses_digest FROM runs a, runs b WHERE a.id = 1 AND b.id = 2"),
                     "1");
    // the same settings, bit for bit, and the diff says so
    tu_run_frost(&r, (const char *[]){"runs", "diff", "1", "2", NULL});
    cr_expect_eq(r.status, 0, "%s", r.err);
    cr_expect(strstr(r.out, "settings that differ\n") && strstr(r.out, "(none)"), "%s", r.out);
    tu_run_free(&r);
    tu_run_frost(&r, (const char *[]){"runs", "show", "2", NULL});
    cr_expect_eq(r.status, 0, "%s", r.err);
    cr_expect(strstr(r.out, "repeats          run 1") && strstr(r.out, "  lr               0.01"), "%s", r.out);
    tu_run_free(&r);
}

// Another process holds the history's write lock past frost's busy timeout (RUNS_DB_BUSY_MS, 5 s):
// the run goes on and completes, one line says the history is off for it, and the file keeps what it
// had (read by the sqlite3 shell once the lock is let go).
Test(runs, a_database_locked_past_the_timeout_costs_one_line, .timeout = 120) {
    fx_two_class_dataset(root, 4, 2, 32);
    tu_run_result r;
    tu_run_frost(&r, (const char *[]){TINY_RUN(root), "--epochs", "1", NULL});
    cr_assert_eq(r.status, 0, "%s", r.err);
    tu_run_free(&r);
    // the lock: a sqlite3 shell in a transaction that has written, told to end only after frost ran
    char said[4200], cmd[12000];
    snprintf(said, sizeof said, "%s/shell.out", root);
    snprintf(cmd, sizeof cmd, "sqlite3 -batch '%s' > '%s' 2>&1", db, said);
    FILE *shell = popen(cmd, "w");
    cr_assert_not_null(shell);
    fputs("BEGIN EXCLUSIVE;\nUPDATE runs SET message = message;\nSELECT 'holding';\n", shell);
    fflush(shell);
    int holding = 0;
    for (int k = 0; k < 300 && !holding; k++) {   // up to 30 s for the shell to take the lock
        char *out = tu_read_file(said, NULL);
        holding = out && strstr(out, "holding");
        free(out);
        if (!holding) nanosleep(&(struct timespec){0, 100000000}, NULL);
    }
    if (holding) tu_run_frost(&r, (const char *[]){TINY_RUN(root), "--epochs", "1", NULL});
    fputs("ROLLBACK;\n.quit\n", shell);
    int shell_status = pclose(shell);   // the shell ends here, whatever the checks below say
    cr_assert(holding, "the sqlite3 shell never took the lock");
    cr_expect_eq(shell_status, 0);
    cr_expect_eq(r.status, 0, "the run goes on: %s", r.err);
    cr_expect(strstr(r.out, "Training complete in "), "%s", r.out);
    cr_expect_eq(tu_count_lines(r.err), 1, "%s", r.err);
    cr_expect(strstr(r.err, "frost: run history off for this run: ") == r.err && strstr(r.err, "locked"), "%s", r.err);
    tu_run_free(&r);
    cr_expect_str_eq(sql("PRAGMA integrity_check"), "ok");
    cr_expect_str_eq(sql("SELECT count(*), status FROM runs"), "1|completed");
}

// The history's disk is full when a run starts (a small tmpfs, filled): the run goes on and
// completes, one line says the history is off for it, and once there is room again the file is
// valid with the earlier run whole.
Test(runs, a_full_disk_costs_one_line_and_keeps_the_history, .timeout = 120) {
    char data[4200];
    snprintf(data, sizeof data, "%s/data", root);
    fx_two_class_dataset(data, 4, 2, 32);
    if (tu_small_disk(data_home, 4LL << 20) != 0) {
        cr_assert(!tu_in_ci(), "no tmpfs can be mounted here, and CI needs this test");
        cr_log_info("no tmpfs can be mounted here: this test did not run");
        return;
    }
    tu_run_result r;
    tu_run_frost(&r, (const char *[]){TINY_RUN(data), "--epochs", "1", NULL});
    int first = r.status;
    tu_run_free(&r);
    // fill what is left (the last pages too: a byte at a time at the end)
    char filler[4200];
    snprintf(filler, sizeof filler, "%s/filler", data_home);
    FILE *f = fopen(filler, "w");
    static char block[65536];
    if (f) {
        setvbuf(f, NULL, _IONBF, 0);
        while (fwrite(block, 1, sizeof block, f) == sizeof block) {}
        while (fwrite(block, 1, 1, f) == 1) {}
        fclose(f);
    }
    tu_run_frost(&r, (const char *[]){TINY_RUN(data), "--epochs", "1", NULL});
    unlink(filler);
    char *shell = first == 0 ? strdup(sql("PRAGMA integrity_check")) : NULL;
    char *rows = first == 0 ? strdup(sql("SELECT status FROM runs WHERE id = 1")) : NULL;
    tu_small_disk_end(data_home);
    cr_assert_eq(first, 0, "the first run");
    cr_assert_not_null(f, "the filler could not be made");
    cr_expect_eq(r.status, 0, "the run goes on: %s", r.err);
    cr_expect(strstr(r.out, "Training complete in "), "%s", r.out);
    cr_expect_eq(tu_count_lines(r.err), 1, "%s", r.err);
    cr_expect(strstr(r.err, "frost: run history off for this run: ") == r.err && strstr(r.err, "full"), "%s", r.err);
    tu_run_free(&r);
    cr_expect_str_eq(shell, "ok");
    cr_expect_str_eq(rows, "completed");
    free(shell);
    free(rows);
}
