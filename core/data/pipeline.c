// pipeline.c — one image file to one normalised CHW sample, per worker thread.
#include "pipeline.h"

#include <stdio.h>
#include <stdlib.h>

typedef struct {
    const pipeline_opts *o;
    image_decoder *dec;
    image_rgb8 img;
    transform_scratch scratch;
} worker;

void pipeline_opts_default(pipeline_opts *o) {
    transform_params_seed(&o->tf);
    o->dec = (image_decode_opts){0};
}

void pipeline_set_fast(pipeline_opts *o, int fast) {
    o->tf.fast = fast;
    o->dec.fast_dct = fast;
    o->dec.dct_min_side = fast ? o->tf.size : 0;
}

int pipeline_opts_check(const pipeline_opts *o, char *err, size_t errlen) {
    return transform_params_check(&o->tf, err, errlen);
}

size_t pipeline_sample_floats(const pipeline_opts *o) { return 3 * (size_t)o->tf.size * (size_t)o->tf.size; }

static void *worker_new(void *user) {
    worker *w = calloc(1, sizeof *w);
    if (!w) return NULL;
    w->o = user;
    w->dec = image_decoder_new();
    transform_scratch_init(&w->scratch);
    if (!w->dec) {
        free(w);
        return NULL;
    }
    return w;
}

static void worker_free(void *state) {
    worker *w = state;
    if (!w) return;
    image_decoder_free(w->dec);
    image_free(&w->img);
    transform_scratch_free(&w->scratch);
    free(w);
}

static int load(void *state, const char *path, float *dst, char *err, size_t errlen) {
    worker *w = state;
    if (image_decoder_load_file(w->dec, path, &w->o->dec, &w->img, NULL, err, errlen) != 0) return -1;
    return transform_apply(&w->o->tf, w->img.rgb, w->img.width, w->img.height, dst, &w->scratch, err, errlen);
}

loader_source pipeline_source(const pipeline_opts *o) {
    return (loader_source){.worker_new = worker_new, .worker_free = worker_free, .load = load, .user = (void *)o};
}
