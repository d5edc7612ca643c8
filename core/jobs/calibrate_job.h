/*
 * calibrate_job.h — cost_calibrate on a thread of its own, for the interface: measuring an
 * architecture's speed takes seconds (a forward pass and a training step), so the Model screen
 * starts it and polls (the shape of every background job: job.h). Nothing here touches the terminal.
 */
#ifndef FROST_CALIBRATE_JOB_H
#define FROST_CALIBRATE_JOB_H

#include <stddef.h>

#include "cost.h"

typedef struct calibrate_job calibrate_job;

// Starts calibrating arch (copied) at size on device ("auto", "cpu", ...), the frozen backbone at
// precision p (cost_calibrate_precision). NULL with err when no thread could start.
calibrate_job *calibrate_job_start(const char *arch, int size, const char *device, ft_precision p, char *err,
                                   size_t errlen);
int calibrate_job_done(calibrate_job *j);
// A measurement is not interrupted: cancelling only tells the owner's later free not to care.
void calibrate_job_cancel(calibrate_job *j);
// Once done: the speed, 0; or -1 with the reason in err.
int calibrate_job_result(calibrate_job *j, cost_speed *speed, char *err, size_t errlen);
// Waits for the measurement when still running, frees. Accepts NULL.
void calibrate_job_free(calibrate_job *j);

#endif
