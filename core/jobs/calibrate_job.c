// calibrate_job.c — see calibrate_job.h.
#include "calibrate_job.h"

#include <stdio.h>
#include <stdlib.h>

#include "errmsg.h"
#include "job.h"

struct calibrate_job {
    job base;   // first: run() casts back
    char arch[32], device[16];
    int size, rc;
    ft_precision precision;
    cost_speed speed;
    char err[512];
};

static void run(job *base) {
    calibrate_job *j = (calibrate_job *)base;
    j->rc = cost_calibrate_precision(j->arch, j->size, j->device, j->precision, &j->speed, NULL, j->err, sizeof j->err);
}

calibrate_job *calibrate_job_start(const char *arch, int size, const char *device, ft_precision p, char *err,
                                   size_t errlen) {
    calibrate_job *j = calloc(1, sizeof *j);
    if (!j) {
        errmsg_set(err, errlen, "out of memory");
        return NULL;
    }
    snprintf(j->arch, sizeof j->arch, "%s", arch);
    snprintf(j->device, sizeof j->device, "%s", device ? device : "auto");
    j->size = size;
    j->precision = p;
    if (job_start(&j->base, run, "a calibration", err, errlen) != 0) {
        free(j);
        return NULL;
    }
    return j;
}

int calibrate_job_done(calibrate_job *j) { return job_done(&j->base); }

void calibrate_job_cancel(calibrate_job *j) { job_cancel(&j->base); }

int calibrate_job_result(calibrate_job *j, cost_speed *speed, char *err, size_t errlen) {
    if (job_outcome(&j->base, &j->rc, j->err, err, errlen) != 0) return -1;
    *speed = j->speed;
    return 0;
}

void calibrate_job_free(calibrate_job *j) {
    if (!j) return;
    job_stop(&j->base);
    free(j);
}
