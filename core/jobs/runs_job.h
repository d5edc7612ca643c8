/*
 * runs_job.h — the run history's list (runs_list) read on a thread of its own, so that the Runs
 * screen shows its first page at once and the rest of a long history (10,000 runs: tens of
 * milliseconds and more on a loaded machine) arrives while the user looks (the shape of every
 * background job: job.h; no progress to poll). Nothing here touches the terminal.
 */
#ifndef FROST_RUNS_JOB_H
#define FROST_RUNS_JOB_H

#include <stddef.h>

#include "run_query.h"

typedef struct runs_job runs_job;

// Starts listing every run (runs_list: newest first, without the long texts), each row handed to
// each(user, row) on the job's thread: what user points to is the job's until runs_job_done says 1.
// NULL with err when no thread could start.
runs_job *runs_job_start(int (*each)(void *user, const run_row *r), void *user, char *err, size_t errlen);
int runs_job_done(runs_job *j);
// Stops the reading at its next row; returns at once.
void runs_job_cancel(runs_job *j);
// Once done: how many runs were read, or -1 with the reason in err ("cancelled" when it was).
long runs_job_result(runs_job *j, char *err, size_t errlen);
// Cancels it when still running, waits for the thread, frees. Accepts NULL.
void runs_job_free(runs_job *j);

#endif
