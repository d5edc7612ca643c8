/*
 * thumb_job.h — image_thumb_load on a thread of its own, so that decoding a big picture for a
 * preview never stalls the interface's keys (the shape of every background job: job.h; it has no
 * progress to poll). Nothing here touches the terminal.
 */
#ifndef FROST_THUMB_JOB_H
#define FROST_THUMB_JOB_H

#include <stddef.h>

#include "image_thumb.h"

typedef struct thumb_job thumb_job;

// Starts decoding path (copied) fitted into max_w x max_h pixels. NULL with err when no thread could
// start.
thumb_job *thumb_job_start(const char *path, int max_w, int max_h, char *err, size_t errlen);
int thumb_job_done(thumb_job *j);
// A decode is not interrupted: cancelling only tells the owner's later free not to care.
void thumb_job_cancel(thumb_job *j);
// Once done: moves the picture into *out and the file's description into *info; 0, or -1 with the
// reason in err (out zeroed; info as far as the file could be read).
int thumb_job_result(thumb_job *j, image_thumb *out, thumb_info *info, char *err, size_t errlen);
// Waits for the decode when still running, frees (with a picture not taken). Accepts NULL.
void thumb_job_free(thumb_job *j);

#endif
