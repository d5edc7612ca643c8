// image_transform.h - torchvision's eval transform, RGB8 in, float32 CHW out, bit for bit.
//
// Reproduces, on a PIL RGB image, torchvision 0.14's
//   TRANSFORM_SQUARE:     Compose([Resize([S,S]), ToTensor(), Normalize(mean, std)])
//   TRANSFORM_SHORT_CROP: Compose([Resize(S), CenterCrop(S), ToTensor(), Normalize(mean, std)])
// Resize is Pillow's BILINEAR resize (image_resize.h, exact). Resize(S) sets
// the short side to S and the long side to int(S * long / short); CenterCrop
// puts its top-left at int(round((side - S) / 2.0)) (round half to even) and
// pads with zeros where the image is smaller than the crop. Only the cropped
// pixels are resampled. ToTensor + Normalize is ((float)u / 255 - mean) / std
// in float32, one rounding per operation as torch does, so a 256-entry table
// per channel holds every possible value; the tensors equal torchvision's
// exactly (tested: max abs difference 0).
//
// Speed, one thread, dvc-mini photos (about 400x360) to 3x224x224: 0.25 ms
// (0.60 ms without AVX2) against torchvision's 1.0 ms for the same transform.
//
// Why our own: see image_resize.h - nothing outside Pillow gives Pillow's
// pixels, and a model trained on torchvision's tensors should see the same.
// Limits: S in 1..TRANSFORM_MAX_SIZE; input sides 1..RESIZE_MAX_SIDE. One
// transform_scratch per thread; nothing is allocated once it has grown.

#ifndef FROST_IMAGE_TRANSFORM_H
#define FROST_IMAGE_TRANSFORM_H

#include <stddef.h>
#include <stdint.h>

#include "image_resize.h"

// ---------------------------------------------------------------------------
// Parameters

#define TRANSFORM_MAX_SIZE 4096

typedef enum {
    TRANSFORM_SQUARE,      // Resize([S,S])
    TRANSFORM_SHORT_CROP   // Resize(S) + CenterCrop(S)
} transform_fit;

typedef struct {
    int size;   // S: the output is 3 x S x S
    transform_fit fit;
    int fast;   // allow an inexact resize (today: the same as exact)
    float mean[3], std[3];
} transform_params;

// size 224, SQUARE, exact, mean 0.5 std 0.5 (the seed's transform).
void transform_params_seed(transform_params *p);
// size 224, SQUARE, exact, ImageNet mean 0.485,0.456,0.406 std 0.229,0.224,0.225.
void transform_params_imagenet(transform_params *p);
typedef enum { TRANSFORM_NORM_SEED, TRANSFORM_NORM_IMAGENET } transform_norm;
// Sets mean and std only: the seed's 0.5 for every channel, or ImageNet's (what torchvision's
// pretrained weights expect). The one place frost keeps these numbers.
void transform_params_set_norm(transform_params *p, transform_norm norm);
// The normalisation a run gets when the user chose none, decided here only: ImageNet's mean and std
// for pretrained weights (what they were trained with), else the tutorial's 0.5.
transform_norm transform_norm_default(int pretrained);
// 0, or -1 with a line in err: size outside 1..TRANSFORM_MAX_SIZE, unknown
// fit, a mean or std that is not finite, or a std of 0.
int transform_params_check(const transform_params *p, char *err, size_t errlen);

// ---------------------------------------------------------------------------
// Scratch

typedef struct {
    resize_scratch resize;
    uint8_t *img;   // the S x S RGB8 image before ToTensor
    size_t img_cap;
    float lut[3][256];   // ToTensor + Normalize for lut_mean / lut_std
    float lut_mean[3], lut_std[3];
    int lut_valid;
} transform_scratch;

void transform_scratch_init(transform_scratch *s);
void transform_scratch_free(transform_scratch *s);   // accepts NULL; leaves s in init state

// ---------------------------------------------------------------------------
// The whole transform

// rgb: w x h RGB8, rows packed (3*w bytes). dst: 3*S*S floats, CHW.
int transform_apply(const transform_params *p, const uint8_t *rgb, int w, int h, float *dst, transform_scratch *s,
                    char *err, size_t errlen);

// The same image before ToTensor: S x S RGB8 (HWC, 3*S*S bytes) - for
// measuring pixel differences against PIL.
int transform_image_u8(const transform_params *p, const uint8_t *rgb, int w, int h, uint8_t *dst, transform_scratch *s,
                       char *err, size_t errlen);

// ---------------------------------------------------------------------------
// The pieces (the loader and tests use them)

// Where the output comes from: resize to resize_w x resize_h, then take the
// size x size square whose top-left is (crop_x, crop_y) in the resized image;
// negative or overhanging parts are zero padding.
typedef struct {
    int resize_w, resize_h;
    int crop_x, crop_y;
    int size;
} transform_plan;

int transform_plan_make(const transform_params *p, int w, int h, transform_plan *plan, char *err, size_t errlen);

// torchvision's CenterCrop(size) placement on a w x h image: the crop's
// top-left (negative where the image is padded).
void transform_center_crop(int w, int h, int size, int *x, int *y);

// Carries out a plan: S x S RGB8 into dst (3*S*S bytes).
int transform_render_u8(const transform_plan *plan, int fast, const uint8_t *rgb, int w, int h, uint8_t *dst,
                        transform_scratch *s, char *err, size_t errlen);

// ToTensor + Normalize of an S x S RGB8 image into 3*S*S floats, CHW.
void transform_to_tensor(const float mean[3], const float std[3], const uint8_t *hwc, int size, float *dst,
                         transform_scratch *s);

#endif
