// precision_job.c — see precision_job.h.
#include "precision_job.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "errmsg.h"
#include "job.h"
#include "trainer.h"

struct precision_job {
    job base;   // first: run() casts back
    char arch[32], device[16];
    char *weights;
    pipeline_opts prep;
    dataset_split split;   // the first images of the owner's split, their paths copied
    precision_auto_spec spec;
    int rc;
    precision_auto_result r;
    char err[1024];
};

static void run(job *base) {
    precision_job *j = (precision_job *)base;
    // on the threads a run starts with (the calibration is kept per thread count)
    ft_set_num_threads(trainer_default_threads(j->device));
    j->rc = precision_auto_decide(&j->spec, &j->r, j->err, sizeof j->err);
}

static void drop(precision_job *j) {
    for (size_t i = 0; i < j->split.n_items; i++) free(j->split.items[i].path);
    free(j->split.items);
    free(j->weights);
    free(j);
}

precision_job *precision_job_start(const precision_auto_spec *s, char *err, size_t errlen) {
    precision_job *j = calloc(1, sizeof *j);
    size_t n = s->split->n_items < PRECISION_AUTO_IMAGES ? s->split->n_items : PRECISION_AUTO_IMAGES;
    if (j) j->split.items = calloc(n ? n : 1, sizeof *j->split.items);
    if (!j || !j->split.items) {
        free(j);
        errmsg_set(err, errlen, "out of memory");
        return NULL;
    }
    int ok = 1;
    for (size_t i = 0; i < n && ok; i++) {
        j->split.items[i].label = s->split->items[i].label;
        ok = (j->split.items[i].path = strdup(s->split->items[i].path)) != NULL;
        j->split.n_items = i + 1;
    }
    if (s->weights && ok) ok = (j->weights = strdup(s->weights)) != NULL;
    if (!ok) {
        drop(j);
        errmsg_set(err, errlen, "out of memory");
        return NULL;
    }
    j->split.name = s->split->name;   // "train" or "valid": static strings
    snprintf(j->arch, sizeof j->arch, "%s", s->arch);
    snprintf(j->device, sizeof j->device, "%s", s->device ? s->device : "auto");
    j->prep = *s->prep;
    j->spec = (precision_auto_spec){.arch = j->arch,
                                    .weights = j->weights,
                                    .device = j->device,
                                    .batch = s->batch,
                                    .prep = &j->prep,
                                    .split = &j->split};
    if (job_start(&j->base, run, "a precision measurement", err, errlen) != 0) {
        drop(j);
        return NULL;
    }
    return j;
}

int precision_job_done(precision_job *j) { return job_done(&j->base); }

void precision_job_cancel(precision_job *j) { job_cancel(&j->base); }

int precision_job_result(precision_job *j, precision_auto_result *r, char *err, size_t errlen) {
    if (job_outcome(&j->base, &j->rc, j->err, err, errlen) != 0) return -1;
    *r = j->r;
    return 0;
}

void precision_job_free(precision_job *j) {
    if (!j) return;
    job_stop(&j->base);
    drop(j);
}
