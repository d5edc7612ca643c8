/*
 * job.h — the one shape of frost's background work.
 *
 * A job is one function run on a thread of its own. The owner (the interface's UI thread, or a
 * command) never waits on it while it runs: it polls. Every background job of core — doctor_job
 * (checking a dataset), fetch_job (downloading weights), predict_job (a model over images),
 * thumb_job (a preview decoded), and the trainer — offers the same verbs:
 *
 *   X_start(...)      starts it; NULL with a one-line err when no thread could start
 *   X_poll(j, ...)    how far it is (counters, or the trainer's next event), without waiting
 *   X_done(j)         1 once it has finished, well or not; its results may be read from then on
 *   X_cancel(j)       asks it to stop early (at its next check); returns at once
 *   X_free(j)         cancels it when still running, waits for the thread, frees; accepts NULL
 *
 * This file is the shell they share: the thread, the done flag (set last by the thread with release
 * order, read with acquire, so everything the work wrote is visible to the owner once done reads 1)
 * and the cancel flag the work reads.
 */
#ifndef FROST_JOB_H
#define FROST_JOB_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>

typedef struct job {
    pthread_t thread;
    atomic_int done, cancel;
    int started;   // owner only: a thread to join
    void (*run)(struct job *);
} job;

// Starts run(j) on a new thread (j is usually the first member of a bigger struct, which run casts
// back). 0, or -1 with "cannot start a thread for WHAT: reason" in err.
int job_start(job *j, void (*run)(job *), const char *what, char *err, size_t errlen);
int job_done(job *j);
void job_cancel(job *j);
int job_cancelled(job *j);   // for the work: 1 once cancel was asked
// Waits for the thread (when one was started; once). After it, done is 1.
void job_join(job *j);
// job_cancel, then job_join.
void job_stop(job *j);
// For X_result: -1 with "still working" in err while it runs; once done, -1 with the work's own
// message (work_err) when it failed (*work_rc != 0), else 0. The work's fields are passed by address
// and read only once the job is done: the thread writes them until then.
int job_outcome(job *j, const int *work_rc, const char *work_err, char *err, size_t errlen);

#endif
