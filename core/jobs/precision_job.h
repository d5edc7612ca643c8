/*
 * precision_job.h — precision_auto_decide on a thread of its own, for the interface: measuring each
 * precision's speed (once per machine: the calibration file keeps it) and its agreement with fp32 on
 * the user's images takes seconds, so the Train screen starts it and polls (the shape of every
 * background job: job.h). It works on a copy of what it is given: the images' paths, the strings; and
 * on libtorch's threads as a run starts with (trainer_default_threads), which it sets.
 */
#ifndef FROST_PRECISION_JOB_H
#define FROST_PRECISION_JOB_H

#include <stddef.h>

#include "precision_auto.h"

typedef struct precision_job precision_job;

// Starts deciding for s (copied, with the first PRECISION_AUTO_IMAGES items of its split). NULL with
// err when no thread could start.
precision_job *precision_job_start(const precision_auto_spec *s, char *err, size_t errlen);
int precision_job_done(precision_job *j);
// A measurement is not interrupted: cancelling only tells the owner's later free not to care.
void precision_job_cancel(precision_job *j);
// Once done: the decision, 0; or -1 with the reason in err.
int precision_job_result(precision_job *j, precision_auto_result *r, char *err, size_t errlen);
// Waits for the measurement when still running, frees. Accepts NULL.
void precision_job_free(precision_job *j);

#endif
