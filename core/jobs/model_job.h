/*
 * model_job.h — the interface's slow model work on a thread of its own, so that its keys never wait
 * on it (the shape of every background job: job.h; there is no progress to poll, each is one call):
 *
 *   model_job_build    transfer_build: the Model screen's network (a VGG takes seconds)
 *   model_job_open     checkpoint_load: the Predict screen's checkpoint
 *   model_job_export   export_pytorch_config: the Train screen's run as a PyTorch folder
 *
 * Everything a job reads is copied when it starts, so the owner's buffers (and the dataset, which
 * cleaning may scan again meanwhile) can change under it. Nothing here touches the terminal.
 */
#ifndef FROST_MODEL_JOB_H
#define FROST_MODEL_JOB_H

#include <stddef.h>

#include "checkpoint.h"
#include "frost_torch.h"
#include "trainer.h"
#include "transfer.h"

// A job's rc when it was cancelled: nothing was kept (a model made meanwhile is freed, an export puts
// no file in place).
#define MODEL_JOB_CANCELLED (-100)

typedef struct model_job model_job;

// transfer_build(spec): spec's strings copied. NULL with err when no thread could start.
model_job *model_job_build(const transfer_spec *spec, char *err, size_t errlen);
// checkpoint_load(path): path copied.
model_job *model_job_open(const char *path, char *err, size_t errlen);
// export_pytorch_config(c, classes, n, dir, overwrite): c's strings, the class names and dir copied.
model_job *model_job_export(const trainer_config *c, char *const *classes, size_t n, const char *dir, int overwrite,
                            char *err, size_t errlen);

// 1 once the thread has finished.
int model_job_done(model_job *j);
// Asks it to stop: the work is one call, so it is not interrupted, but what it made is dropped (and an
// export checks between its steps, before any file is put in place). Returns at once.
void model_job_cancel(model_job *j);

typedef struct {
    int rc;                 // 0; the work's own code (-1, EXPORT_PYTORCH_EXISTS, ...); MODEL_JOB_CANCELLED
    ft_model *model;        // build, open: the model (the receiver owns it)
    checkpoint_meta meta;   // open: the checkpoint's metadata (init'ed for the others)
    char note[512];         // build: transfer_build's note ("" none)
    char err[1024];         // rc != 0: one line
} model_job_result;

// Once done: moves the result into *out (free it with model_job_result_free). Before done: rc -1 and
// "still working".
void model_job_take(model_job *j, model_job_result *out);
void model_job_result_free(model_job_result *r);
// The owner's poll in one call: when the job *j has finished, takes its result into *out, frees the
// job and sets *j to NULL, and returns 1; else (still running, or *j NULL) 0.
int model_job_collect(model_job **j, model_job_result *out);
// Waits for the thread when still running, frees (with a result not taken). Accepts NULL.
void model_job_free(model_job *j);

#endif
