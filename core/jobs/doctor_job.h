/*
 * doctor_job.h — frost doctor's check run on a thread of its own, for the interface (the shape of
 * every background job: job.h). The UI polls how far it is and whether it is done, then reads the
 * report and each file's reason. Nothing here touches the terminal.
 *
 * The dataset must stay unchanged and alive until doctor_job_free; cancelling (or freeing) stops the
 * check early (the workers stop taking files).
 */
#ifndef FROST_DOCTOR_JOB_H
#define FROST_DOCTOR_JOB_H

#include <stddef.h>

#include "dataset.h"
#include "doctor.h"

typedef struct doctor_job doctor_job;

// Starts checking every image of d with `workers` decoding threads (0: half the cores, at least
// one, so the interface keeps a core). NULL with err when no thread could start.
doctor_job *doctor_job_start(dataset *d, int workers, char *err, size_t errlen);
// Files checked so far, and in all.
void doctor_job_poll(doctor_job *j, size_t *checked, size_t *total);
// 1 once the report (or the error) is ready; 0 while it runs.
int doctor_job_done(doctor_job *j);
void doctor_job_cancel(doctor_job *j);
// After done: the report (owned by the job), or NULL with the error in err.
const doctor_report *doctor_job_report(doctor_job *j, char *err, size_t errlen);
// After done: why item i of a split (0 train, 1 valid) is bad, or NULL when it decoded (also NULL
// before done and out of range).
const char *doctor_job_reason(doctor_job *j, int split, size_t i);
// Stops it (early when still running), joins, frees. Accepts NULL.
void doctor_job_free(doctor_job *j);

#endif
