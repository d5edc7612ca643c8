/*
 * fetch_job.h — fetch_weights on a thread of its own, for the interface (the shape of every
 * background job: job.h): it starts, the UI polls the bytes done and whether it is done, then reads
 * the result. Cancel stops the download (its .part is kept for the next fetch to resume). Nothing
 * here touches the terminal.
 */
#ifndef FROST_FETCH_JOB_H
#define FROST_FETCH_JOB_H

#include <stddef.h>
#include <stdint.h>

#include "fetch.h"

typedef struct fetch_job fetch_job;

// Starts finding or downloading e (which must outlive the job). NULL with err when no thread could start.
fetch_job *fetch_job_start(const weights_entry *e, char *err, size_t errlen);
void fetch_job_poll(fetch_job *j, uint64_t *done, uint64_t *total);   // bytes; total 0 while unknown
int fetch_job_done(fetch_job *j);                                     // 1 once finished (well or not)
void fetch_job_cancel(fetch_job *j);
const weights_entry *fetch_job_entry(const fetch_job *j);   // what it fetches
// After done: 0 with *res filled, or -1 with the one-line reason in err.
int fetch_job_result(fetch_job *j, fetch_result *res, char *err, size_t errlen);
// Cancels when still running, joins, frees. Accepts NULL.
void fetch_job_free(fetch_job *j);

#endif
