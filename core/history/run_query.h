/*
 * run_query.h — reading the run history: the list (filtered, newest first), one run with its
 * epochs, removing runs, comparing two runs' batch losses (a replay), the CSV export. May use:
 * libsqlite3, core/ below it.
 */
#ifndef FROST_HISTORY_RUN_QUERY_H
#define FROST_HISTORY_RUN_QUERY_H

#include <sqlite3.h>
#include <stddef.h>

typedef struct {
    long long id, repeats;   // repeats: the run this one repeats, 0 none
    char started[24];        // local time, "YYYY-MM-DD HH:MM:SS"
    char started_utc[24], finished_utc[24];
    char status[16];
    char arch[32];
    char *dataset, *trainable, *message, *command, *settings, *classes, *origin, *version;
    char *checkpoint, *checkpoint_digest, *losses_digest, *dataset_digest;
    char *replay;   // a repeated run's comparison with the run it repeats ("identical to run 3: ..."), or ""
    double lr, wall_s;
    double final_train_loss, final_train_acc, final_valid_loss, final_valid_acc, best_valid_acc;   // NAN: none
    int epochs, epochs_done, best_epoch;
    long long batches, peak_rss_kb;
} run_row;

typedef struct {
    int epoch;
    double train_loss, train_acc, valid_loss, valid_acc, lr, seconds, images_per_s;   // NAN: none
} run_epoch;

typedef struct {
    const char *dataset;   // a folder (its real path) or a name its path ends with; NULL: any
    const char *arch;
    const char *status;
} run_filter;

void run_row_free(run_row *r);
// The dataset's folder name (the last part of its path), for tables.
const char *run_row_dataset_name(const run_row *r);

// Every run that passes f (NULL: all), newest first, each handed to each(user, row) (the row is
// valid during the call; a non-zero return stops), without its long texts (command, settings and
// classes are "": runs_get has them). The count, or -1 with err.
long runs_list(sqlite3 *db, const run_filter *f, int (*each)(void *user, const run_row *r), void *user, char *err,
               size_t errlen);
// One run; with epochs non-NULL, its epochs too (malloc'd, *n of them). 1 found, 0 no such run, -1
// with err.
int runs_get(sqlite3 *db, long long id, run_row *r, run_epoch **epochs, size_t *n, char *err, size_t errlen);
// The newest run on the dataset at root (its real path) with an epoch done, older than run `before`
// (0: any); 0 when there is none.
long long runs_previous(sqlite3 *db, const char *root, long long before);
// Removes the run and its epochs (runs repeating it keep their own). 1 removed, 0 no such run, -1.
int runs_remove(sqlite3 *db, long long id, char *err, size_t errlen);

// Compares run b's every batch loss with run a's: 1 identical to the bit (out: "identical to run
// A"), 0 different (out: where they first part and by how much), -1 with err in out.
int runs_compare_losses(sqlite3 *db, long long a, long long b, char *out, size_t len);

// Records what a repeated run's losses were against the run it repeats (runs_compare_losses's text).
// 0, or -1 with err.
int runs_set_replay(sqlite3 *db, long long id, const char *text, char *err, size_t errlen);

// Every run as one CSV row (epochs 0), or every epoch of every run as one (epochs 1), written to
// path atomically. The rows written, or -1 with err.
long runs_export_csv(sqlite3 *db, const char *path, int epochs, char *err, size_t errlen);

#endif
