// doctor_job.c — doctor_run on a background thread (see doctor_job.h). The thread owns the report
// until the job is done (job.h); after that nothing writes to it again, so the report and the
// per-item reasons are read without a lock.
#include "doctor_job.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "errmsg.h"
#include "job.h"
#include "loader.h"

struct doctor_job {
    job base;   // first: run() casts back
    dataset *d;
    int workers;
    atomic_size_t checked;
    int ok;
    char err[256];
    doctor_report report;
    const char **reason[2];   // per item of train / valid: a reason in report.bad, or NULL
};

typedef struct {
    const char *path, *reason;
} path_reason;

static int cmp_path(const void *a, const void *b) {
    return strcmp(((const path_reason *)a)->path, ((const path_reason *)b)->path);
}

// Each item's reason, found by path in the sorted bad-file list: n log n, not n * bad.
static void map_reasons(doctor_job *j) {
    badfile_list *bad = &j->report.bad;
    size_t nb = bad->n;
    path_reason *sorted = malloc((nb ? nb : 1) * sizeof *sorted);
    const dataset_split *splits[2] = {&j->d->train, &j->d->valid};
    for (int s = 0; s < 2; s++) j->reason[s] = calloc(splits[s]->n_items ? splits[s]->n_items : 1, sizeof(char *));
    if (!sorted || !j->reason[0] || !j->reason[1]) {
        free(sorted);
        return;
    }
    for (size_t i = 0; i < nb; i++) sorted[i] = (path_reason){bad->items[i].path, bad->items[i].reason};
    qsort(sorted, nb, sizeof *sorted, cmp_path);
    for (int s = 0; s < 2; s++)
        for (size_t i = 0; i < splits[s]->n_items && nb > 0; i++) {
            path_reason key = {splits[s]->items[i].path, NULL};
            const path_reason *hit = bsearch(&key, sorted, nb, sizeof *sorted, cmp_path);
            if (hit) j->reason[s][i] = hit->reason;
        }
    free(sorted);
}

static void run(job *base) {
    doctor_job *j = (doctor_job *)base;
    doctor_hooks h = {&j->checked, &j->base.cancel};
    j->ok = doctor_run_hooked(j->d, j->workers, &h, &j->report, j->err, sizeof j->err) == 0;
    if (j->ok) map_reasons(j);
}

doctor_job *doctor_job_start(dataset *d, int workers, char *err, size_t errlen) {
    doctor_job *j = calloc(1, sizeof *j);
    if (!j) {
        errmsg_set(err, errlen, "out of memory");
        return NULL;
    }
    j->d = d;
    if (workers <= 0) {
        workers = loader_default_workers() / 2;
        if (workers < 1) workers = 1;
    }
    j->workers = workers;
    atomic_init(&j->checked, 0);
    if (job_start(&j->base, run, "the dataset check", err, errlen) != 0) {
        free(j);
        return NULL;
    }
    return j;
}

void doctor_job_poll(doctor_job *j, size_t *checked, size_t *total) {
    *checked = atomic_load_explicit(&j->checked, memory_order_relaxed);
    *total = j->d->train.n_items + j->d->valid.n_items;
}

int doctor_job_done(doctor_job *j) { return job_done(&j->base); }

void doctor_job_cancel(doctor_job *j) { job_cancel(&j->base); }

const doctor_report *doctor_job_report(doctor_job *j, char *err, size_t errlen) {
    if (!doctor_job_done(j)) {
        errmsg_set(err, errlen, "the check is still running");
        return NULL;
    }
    if (!j->ok) {
        errmsg_set(err, errlen, "%s", j->err);
        return NULL;
    }
    return &j->report;
}

const char *doctor_job_reason(doctor_job *j, int split, size_t i) {
    if (split < 0 || split > 1 || !doctor_job_done(j) || !j->ok || !j->reason[split]) return NULL;
    const dataset_split *sp = split == 0 ? &j->d->train : &j->d->valid;
    return i < sp->n_items ? j->reason[split][i] : NULL;
}

void doctor_job_free(doctor_job *j) {
    if (!j) return;
    job_stop(&j->base);
    free(j->reason[0]);
    free(j->reason[1]);
    doctor_report_free(&j->report, j->d->n_classes);
    free(j);
}
