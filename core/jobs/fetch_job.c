// fetch_job.c — see fetch_job.h.
#include "fetch_job.h"

#include <stdatomic.h>
#include <stdlib.h>

#include "errmsg.h"
#include "job.h"

struct fetch_job {
    job base;   // first: run() casts back
    const weights_entry *e;
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

static void run(job *base) {
    fetch_job *j = (fetch_job *)base;
    j->rc = fetch_weights(j->e, on_progress, j, &j->base.cancel, &j->res, j->err, sizeof j->err);
}

fetch_job *fetch_job_start(const weights_entry *e, char *err, size_t errlen) {
    fetch_job *j = calloc(1, sizeof *j);
    if (!j) {
        errmsg_set(err, errlen, "out of memory");
        return NULL;
    }
    j->e = e;
    if (job_start(&j->base, run, "the download", err, errlen) != 0) {
        free(j);
        return NULL;
    }
    return j;
}

void fetch_job_poll(fetch_job *j, uint64_t *done, uint64_t *total) {
    *done = atomic_load(&j->bytes);
    *total = atomic_load(&j->total);
}

int fetch_job_done(fetch_job *j) { return job_done(&j->base); }

void fetch_job_cancel(fetch_job *j) { job_cancel(&j->base); }

const weights_entry *fetch_job_entry(const fetch_job *j) { return j->e; }

int fetch_job_result(fetch_job *j, fetch_result *res, char *err, size_t errlen) {
    if (!fetch_job_done(j)) {
        errmsg_set(err, errlen, "still running");
        return -1;
    }
    if (j->rc != 0) {
        errmsg_set(err, errlen, "%s", j->err);
        return -1;
    }
    *res = j->res;
    return 0;
}

void fetch_job_free(fetch_job *j) {
    if (!j) return;
    job_stop(&j->base);
    free(j);
}
