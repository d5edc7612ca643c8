// job.c — see job.h.
#include "job.h"

#include <assert.h>
#include <stdio.h>
#include <string.h>

#include "errmsg.h"

static void *job_thread(void *arg) {
    job *j = arg;
    j->run(j);
    // done is set by this thread only (job_join sets it too, but only after this thread ended)
    assert(!atomic_load(&j->done));
    atomic_store_explicit(&j->done, 1, memory_order_release);
    return NULL;
}

int job_start(job *j, void (*run)(job *), const char *what, char *err, size_t errlen) {
    // one thread per job at a time: a job that ran is joined before it starts again
    assert(j && run && !j->started);
    atomic_init(&j->done, 0);
    atomic_init(&j->cancel, 0);
    j->run = run;
    j->started = 0;
    int rc = pthread_create(&j->thread, NULL, job_thread, j);
    if (rc != 0) {
        errmsg_set(err, errlen, "cannot start a thread for %s: %s", what, strerror(rc));
        return -1;
    }
    j->started = 1;
    return 0;
}

int job_done(job *j) { return atomic_load_explicit(&j->done, memory_order_acquire); }

void job_cancel(job *j) { atomic_store(&j->cancel, 1); }

int job_cancelled(job *j) { return atomic_load(&j->cancel); }

void job_join(job *j) {
    if (j->started) pthread_join(j->thread, NULL);
    j->started = 0;
    atomic_store_explicit(&j->done, 1, memory_order_release);
}

void job_stop(job *j) {
    job_cancel(j);
    job_join(j);
}

int job_outcome(job *j, const int *work_rc, const char *work_err, char *err, size_t errlen) {
    if (!job_done(j)) {
        snprintf(err, errlen, "still working");
        return -1;
    }
    if (*work_rc != 0) {
        snprintf(err, errlen, "%s", work_err);
        return -1;
    }
    return 0;
}
