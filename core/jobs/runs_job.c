// runs_job.c — see runs_job.h.
#include "runs_job.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "errmsg.h"
#include "job.h"
#include "runs_db.h"

struct runs_job {
    job base;   // first: run() casts back
    int (*each)(void *user, const run_row *r);
    void *user;
    long n;
    int cancelled;
    char err[640];
};

// the owner's each, and a stop when cancel was asked
static int each_row(void *user, const run_row *r) {
    runs_job *j = user;
    if (job_cancelled(&j->base)) {
        j->cancelled = 1;
        return 1;
    }
    return j->each(j->user, r);
}

static void run(job *base) {
    runs_job *j = (runs_job *)base;
    sqlite3 *db;
    if (runs_db_open(&db, 0, j->err, sizeof j->err) != 0) {
        j->n = -1;
        return;
    }
    j->n = runs_list(db, NULL, each_row, j, j->err, sizeof j->err);
    runs_db_close(db);
    if (j->cancelled) {
        j->n = -1;
        snprintf(j->err, sizeof j->err, "cancelled");
    }
}

runs_job *runs_job_start(int (*each)(void *user, const run_row *r), void *user, char *err, size_t errlen) {
    runs_job *j = calloc(1, sizeof *j);
    if (!j) {
        errmsg_set(err, errlen, "out of memory");
        return NULL;
    }
    j->each = each;
    j->user = user;
    if (job_start(&j->base, run, "the run history", err, errlen) != 0) {
        free(j);
        return NULL;
    }
    return j;
}

int runs_job_done(runs_job *j) { return job_done(&j->base); }

void runs_job_cancel(runs_job *j) { job_cancel(&j->base); }

long runs_job_result(runs_job *j, char *err, size_t errlen) {
    if (!runs_job_done(j)) {
        errmsg_set(err, errlen, "still reading");
        return -1;
    }
    if (j->n < 0) errmsg_set(err, errlen, "%s", j->err);
    return j->n;
}

void runs_job_free(runs_job *j) {
    if (!j) return;
    job_stop(&j->base);
    free(j);
}
