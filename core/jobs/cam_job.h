/*
 * cam_job.h — Grad-CAM (gradcam.h) for one image on a thread of its own, for the interface: the map,
 * the class explained, and the overlay drawn on the picture fitted into a box of the size asked for
 * (the shape of every background job: job.h; there is no progress to poll: one forward and one
 * backward pass).
 *
 * The model is borrowed: while the job runs (from cam_job_start until cam_job_done reads 1, or
 * cam_job_free returns) NO OTHER THREAD MAY USE THE MODEL — no prediction, no training step, not even
 * a read of its node table — since the job sets it to eval mode, runs it, and puts its mode back. The
 * owner keeps the model alive until then. Nothing here touches the terminal.
 */
#ifndef FROST_CAM_JOB_H
#define FROST_CAM_JOB_H

#include <stddef.h>
#include <stdint.h>

#include "frost_torch.h"
#include "gradcam.h"
#include "image_transform.h"

typedef struct {
    gradcam_map map;            // the raw map at the layer's resolution, the class, the logits, the layer
    int picture_w, picture_h;   // the picture's own size
    int width, height;          // the overlay's: the picture fitted into the box, aspect kept
    uint8_t *rgb;               // width*height*3 bytes, RGB8, the overlay (alpha GRADCAM_ALPHA); owned
} cam_result;

typedef struct cam_job cam_job;

// Starts Grad-CAM of the image at path (copied) with model m, preprocessed with tf (copied) as a
// predictor does; layer (copied; NULL or "": the model's default) and cls (-1: the top class) as
// gradcam_compute takes them. The overlay is fitted into max_w x max_h pixels (0 x 0: the picture's
// own size). NULL with err when no thread could start.
cam_job *cam_job_start(ft_model *m, const transform_params *tf, const char *path, const char *layer, int64_t cls,
                       int max_w, int max_h, char *err, size_t errlen);
// 1 once the thread has finished.
int cam_job_done(cam_job *j);
// A computation is not interrupted: cancelling only tells the owner's later free not to care.
void cam_job_cancel(cam_job *j);
// Once done: moves the result into *out (free it with cam_result_free); 0, GRADCAM_EARG (an unknown
// layer or class) or -1 with one line in err (out zeroed). Before done: -1, "still working".
int cam_job_result(cam_job *j, cam_result *out, char *err, size_t errlen);
// Waits for the thread when still running, frees (with a result not taken). Accepts NULL.
void cam_job_free(cam_job *j);
void cam_result_free(cam_result *r);   // accepts a zeroed one

#endif
