// cam_job.c — see cam_job.h.
#include "cam_job.h"

#include <stdlib.h>
#include <string.h>

#include "errmsg.h"
#include "image_resize.h"
#include "image_thumb.h"
#include "job.h"

struct cam_job {
    job base;   // first: run() casts back
    ft_model *model;
    transform_params tf;
    char *path, *layer;
    int64_t cls;
    int max_w, max_h;
    int rc;
    cam_result res;
    char err[512];
};

// The picture fitted into the box, then the map drawn over it (cheaper than drawing at full size).
static int draw(cam_job *j, const image_rgb8 *pic) {
    cam_result *r = &j->res;
    r->picture_w = pic->width;
    r->picture_h = pic->height;
    if (j->max_w > 0 && j->max_h > 0)
        image_thumb_fit(pic->width, pic->height, j->max_w, j->max_h, &r->width, &r->height);
    else
        r->width = pic->width, r->height = pic->height;
    gradcam_rect region;
    if (gradcam_region(&j->tf, pic->width, pic->height, &region, j->err, sizeof j->err) != 0) return -1;
    const double sx = (double)r->width / pic->width, sy = (double)r->height / pic->height;
    region.x0 *= sx, region.x1 *= sx, region.y0 *= sy, region.y1 *= sy;
    if (!(r->rgb = malloc((size_t)r->width * (size_t)r->height * 3))) {
        errmsg_set(j->err, sizeof j->err, "out of memory");
        return -1;
    }
    if (r->width == pic->width && r->height == pic->height) {
        memcpy(r->rgb, pic->rgb, (size_t)r->width * (size_t)r->height * 3);
    } else {
        resize_scratch s;
        resize_scratch_init(&s);
        int rc = resize_rgb8(pic->rgb, pic->width, pic->height, 0, r->width, r->height, NULL, r->rgb, 0, 0, &s, j->err,
                             sizeof j->err);
        resize_scratch_free(&s);
        if (rc != 0) return -1;
    }
    gradcam_overlay(r->map.map, r->map.h, r->map.w, &region, r->rgb, r->width, r->height, GRADCAM_ALPHA, r->rgb);
    return 0;
}

static void run(job *base) {
    cam_job *j = (cam_job *)base;
    image_rgb8 pic = {0};
    j->rc = gradcam_file(j->model, &j->tf, j->path, j->layer, j->cls, &j->res.map, &pic, j->err, sizeof j->err);
    if (j->rc == 0 && !job_cancelled(base) && draw(j, &pic) != 0) j->rc = -1;
    if (j->rc != 0) cam_result_free(&j->res);
    image_free(&pic);
}

cam_job *cam_job_start(ft_model *m, const transform_params *tf, const char *path, const char *layer, int64_t cls,
                       int max_w, int max_h, char *err, size_t errlen) {
    cam_job *j = calloc(1, sizeof *j);
    if (j) {
        j->path = strdup(path ? path : "");
        j->layer = layer && *layer ? strdup(layer) : NULL;
    }
    if (!j || !j->path || (layer && *layer && !j->layer)) {
        if (j) free(j->path), free(j->layer);
        free(j);
        errmsg_set(err, errlen, "out of memory");
        return NULL;
    }
    j->model = m;
    j->tf = *tf;
    j->cls = cls;
    j->max_w = max_w;
    j->max_h = max_h;
    if (job_start(&j->base, run, "Grad-CAM", err, errlen) != 0) {
        free(j->path);
        free(j->layer);
        free(j);
        return NULL;
    }
    return j;
}

int cam_job_done(cam_job *j) { return job_done(&j->base); }

void cam_job_cancel(cam_job *j) { job_cancel(&j->base); }

int cam_job_result(cam_job *j, cam_result *out, char *err, size_t errlen) {
    memset(out, 0, sizeof *out);
    if (!cam_job_done(j)) {
        errmsg_set(err, errlen, "still working");
        return -1;
    }
    if (j->rc != 0) {
        errmsg_set(err, errlen, "%s", j->err[0] ? j->err : "cancelled");
        return j->rc;
    }
    if (!j->res.rgb) {
        errmsg_set(err, errlen, "cancelled");
        return -1;
    }
    *out = j->res;
    memset(&j->res, 0, sizeof j->res);
    return 0;
}

void cam_job_free(cam_job *j) {
    if (!j) return;
    job_stop(&j->base);
    cam_result_free(&j->res);
    free(j->path);
    free(j->layer);
    free(j);
}

void cam_result_free(cam_result *r) {
    if (!r) return;
    gradcam_map_free(&r->map);
    free(r->rgb);
    memset(r, 0, sizeof *r);
}
