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

#endif
