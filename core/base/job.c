// job.c — see job.h.
#include "job.h"

#include <string.h>

#include "errmsg.h"

static void *job_thread(void *arg) {
    job *j = arg;
    j->run(j);
    atomic_store_explicit(&j->done, 1, memory_order_release);
    return NULL;
}

int job_start(job *j, void (*run)(job *), const char *what, char *err, size_t errlen) {
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
