/*
 * pipeline.h — what turns one image file into one sample: decode (image_decode) then resize,
 * ToTensor and Normalize (image_transform). It is the loader's source: each worker thread gets its
 * own decoder and scratch buffers, so the steady state allocates nothing.
 *
 * Modes: `exact` reproduces torchvision's Resize + ToTensor + Normalize on PIL images (the same
 * bytes as PIL before ToTensor); `fast` lets libjpeg-turbo scale large JPEGs in the DCT domain and
 * use its fast IDCT and upsampling, which moves pixels by a few levels (the README's benchmark table
 * gives the measured difference).
 */
#ifndef FROST_PIPELINE_H
#define FROST_PIPELINE_H

#include "image_decode.h"
#include "image_transform.h"
#include "loader.h"

typedef struct {
    transform_params tf;
    image_decode_opts dec;
} pipeline_opts;

// The seed's: 224x224, exact, mean/std 0.5.
void pipeline_opts_default(pipeline_opts *o);
// Sets tf.fast and the decoder's fast options together.
void pipeline_set_fast(pipeline_opts *o, int fast);
// 0, or -1 with one line in err.
int pipeline_opts_check(const pipeline_opts *o, char *err, size_t errlen);

// A loader_source reading with *o (which must outlive the loader).
loader_source pipeline_source(const pipeline_opts *o);
size_t pipeline_sample_floats(const pipeline_opts *o);

// The first `limit` images of the splits (in their order, unshuffled, one after the other), as training
// sees them with *o, into one new array (*out, n * sample_floats floats; the caller frees it): what a
// measurement on the user's own images runs on. Files that do not decode are passed over. 0 with *n > 0,
// or -1 with err (also when no image could be read).
int pipeline_read_images(const dataset_split *const *splits, int n_splits, const pipeline_opts *o, int batch,
                         size_t limit, float **out, size_t *n, char *err, size_t errlen);

#endif
