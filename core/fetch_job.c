// fetch_job.c — see fetch_job.h.
#include "fetch_job.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct fetch_job {
    const weights_entry *e;
    pthread_t thread;
    atomic_int cancel, done;
    _Atomic uint64_t bytes, total;
    int rc;
    fetch_result res;
    char err[1024];
};

static void on_progress(void *user, uint64_t done, uint64_t total) {
    fetch_job *j = user;
    atomic_store(&j->bytes, done);
    atomic_store(&j->total, total);
}

static void *run(void *arg) {
    fetch_job *j = arg;
    j->rc = fetch_weights(j->e, on_progress, j, &j->cancel, &j->res, j->err, sizeof j->err);
    atomic_store_explicit(&j->done, 1, memory_order_release);
    return NULL;
}

fetch_job *fetch_job_start(const weights_entry *e, char *err, size_t errlen) {
    fetch_job *j = calloc(1, sizeof *j);
    if (!j) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    j->e = e;
    int rc = pthread_create(&j->thread, NULL, run, j);
    if (rc != 0) {
        snprintf(err, errlen, "cannot start the download thread: %s", strerror(rc));
        free(j);
        return NULL;
    }
    return j;
}

int fetch_job_done(fetch_job *j) { return atomic_load_explicit(&j->done, memory_order_acquire); }

void fetch_job_progress(fetch_job *j, uint64_t *done, uint64_t *total) {
    *done = atomic_load(&j->bytes);
    *total = atomic_load(&j->total);
}

void fetch_job_cancel(fetch_job *j) { atomic_store(&j->cancel, 1); }

int fetch_job_result(fetch_job *j, fetch_result *res, char *err, size_t errlen) {
    if (!fetch_job_done(j)) {
        snprintf(err, errlen, "still running");
        return -1;
    }
    if (j->rc != 0) {
        snprintf(err, errlen, "%s", j->err);
        return -1;
    }
    *res = j->res;
    return 0;
}

void fetch_job_free(fetch_job *j) {
    if (!j) return;
    fetch_job_cancel(j);
    pthread_join(j->thread, NULL);
    free(j);
}
