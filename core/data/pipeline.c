// pipeline.c — one image file to one normalised CHW sample, per worker thread.
#include "pipeline.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "errmsg.h"

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

int pipeline_read_images(const dataset_split *const *splits, int n_splits, const pipeline_opts *o, int batch,
                         size_t limit, float **out, size_t *n, char *err, size_t errlen) {
    loader_opts lo;
    loader_opts_default(&lo);
    lo.batch_size = batch > 0 ? batch : 16;
    lo.shuffle = 0;
    lo.sample_floats = pipeline_sample_floats(o);
    loader_source src = pipeline_source(o);
    badfile_list bad;
    badfiles_init(&bad);
    size_t total = 0;
    for (int k = 0; k < n_splits; k++) total += splits[k]->n_items;
    if (limit < total) total = limit;
    float *x = malloc((total ? total : 1) * lo.sample_floats * sizeof *x);
    int rc = x ? 0 : -1;
    if (!x) errmsg_set(err, errlen, "out of memory for %zu images", total);
    size_t got_n = 0;
    for (int k = 0; rc == 0 && k < n_splits && got_n < total; k++) {
        if (splits[k]->n_items == 0) continue;
        loader *l = loader_new(splits[k], &lo, &src, &bad, err, errlen);
        if (!l || loader_start_epoch(l, 0, err, errlen) != 0) {
            rc = -1;
        } else {
            loader_batch *b;
            int got;
            while ((got = loader_next(l, &b, err, errlen)) == 1) {
                size_t take = (size_t)b->n < total - got_n ? (size_t)b->n : total - got_n;
                memcpy(x + got_n * lo.sample_floats, b->data, take * lo.sample_floats * sizeof *x);
                got_n += take;
                loader_release(l, b);
                if (got_n == total) break;
            }
            if (got < 0) rc = -1;
        }
        loader_free(l);
    }
    badfiles_free(&bad);
    if (rc == 0 && got_n == 0) {
        errmsg_set(err, errlen, "no readable image");
        rc = -1;
    }
    if (rc != 0) {
        free(x);
        return -1;
    }
    *out = x;
    *n = got_n;
    return 0;
}
