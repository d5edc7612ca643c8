/*
 * run_record.h — recording one training run into the history, from the trainer's events: both
 * front ends (frost train, the Train screen) start a recorder beside the trainer and hand it every
 * event they drain. May use: libsqlite3, core/ below it (trainer events, dataset, feature_store's
 * weights digest).
 *
 * The run row is written when the run starts (status running, with this process's pid and start
 * time, so that a run whose process dies is found later and marked interrupted), an epoch row at
 * each epoch's end, and the end (completed, stopped, failed with its message; final and best
 * metrics, checkpoint and its digest, peak RSS, wall time, the digest of every batch's loss) when
 * EV_FINISHED comes. A history that cannot be written never stops the run: the recorder turns
 * itself off and hands back one line saying so.
 */
#ifndef FROST_HISTORY_RUN_RECORD_H
#define FROST_HISTORY_RUN_RECORD_H

#include <sqlite3.h>
#include <stddef.h>

#include "dataset.h"
#include "events.h"
#include "trainer.h"

typedef struct {
    const char *origin;    // "cli" or "interface"
    const char *command;   // the command line, or a line naming the form
    const char *version;   // frost's
    long long repeats;     // the run this one repeats (frost runs again), 0: none
} run_origin;

typedef struct run_record run_record;

// Starts recording c's run on d (after trainer_start). NULL when the history is off (FROST_RUNS=0,
// the config file; note "") or cannot be written (note: "run history off for this run: WHY (...)").
// A lr finder's sweep is no run: NULL, note "".
run_record *run_record_start(const trainer_config *c, const dataset *d, const run_origin *o, char *note,
                             size_t notelen);
// The same into an open database (tests, the benchmark); db stays the caller's.
run_record *run_record_start_in(sqlite3 *db, const trainer_config *c, const dataset *d, const run_origin *o, char *note,
                                size_t notelen);
// Each of the run's events, in order. 0; or -1 when the history just turned off (note: one line to
// show); the recorder then ignores what follows. Accepts NULL (0).
int run_record_event(run_record *r, const train_event *e, char *note, size_t notelen);
// The run's id in the history (0 for NULL).
long long run_record_id(const run_record *r);
// Closes; a run whose EV_FINISHED never came stays running until its process is found gone.
// Accepts NULL.
void run_record_free(run_record *r);

// The line every front end shows when the history is off for a run.
#define RUN_RECORD_OFF "run history off for this run: "

#endif
