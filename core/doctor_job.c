// doctor_job.c — doctor_run on a background thread (see doctor_job.h). The thread owns the report
// until it sets `done` (release); after the UI reads `done` (acquire) nothing writes to it again,
// so the report and the per-item reasons are read without a lock.
#include "doctor_job.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "loader.h"

struct doctor_job {
    dataset *d;
    int workers;
    pthread_t thread;
    atomic_size_t checked;
    atomic_int cancel;
    atomic_int done;
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

static void *job_main(void *arg) {
    doctor_job *j = arg;
    doctor_hooks h = {&j->checked, &j->cancel};
    j->ok = doctor_run_hooked(j->d, j->workers, &h, &j->report, j->err, sizeof j->err) == 0;
    if (j->ok) map_reasons(j);
    atomic_store_explicit(&j->done, 1, memory_order_release);
    return NULL;
}

doctor_job *doctor_job_start(dataset *d, int workers, char *err, size_t errlen) {
    doctor_job *j = calloc(1, sizeof *j);
    if (!j) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    j->d = d;
    if (workers <= 0) {
        workers = loader_default_workers() / 2;
        if (workers < 1) workers = 1;
    }
    j->workers = workers;
    atomic_init(&j->checked, 0);
    atomic_init(&j->cancel, 0);
    atomic_init(&j->done, 0);
    if (pthread_create(&j->thread, NULL, job_main, j) != 0) {
        free(j);
        snprintf(err, errlen, "cannot start a thread for the check");
        return NULL;
    }
    return j;
}

int doctor_job_done(doctor_job *j) { return atomic_load_explicit(&j->done, memory_order_acquire); }

size_t doctor_job_checked(doctor_job *j) { return atomic_load_explicit(&j->checked, memory_order_relaxed); }

size_t doctor_job_total(const doctor_job *j) { return j->d->train.n_items + j->d->valid.n_items; }

const doctor_report *doctor_job_report(doctor_job *j, char *err, size_t errlen) {
    if (!doctor_job_done(j)) {
        snprintf(err, errlen, "the check is still running");
        return NULL;
    }
    if (!j->ok) {
        snprintf(err, errlen, "%s", j->err);
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
    atomic_store(&j->cancel, 1);
    pthread_join(j->thread, NULL);
    free(j->reason[0]);
    free(j->reason[1]);
    doctor_report_free(&j->report, j->d->n_classes);
    free(j);
}
