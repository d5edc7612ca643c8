/*
 * gradcam.h — "why did it say that": Grad-CAM (Selvaraju et al., 2017) for one image, and the picture
 * that shows it. What `frost predict --cam` and the interface's explanation (cam_job.h) share.
 *
 * The map comes from the shim (ft_model_gradcam): at a convolutional layer (default: ResNet's layer4,
 * VGG's last Conv2d), ReLU(sum_k alpha_k A_k) with alpha_k the spatial mean of d logit / d A_k, at the
 * layer's resolution (7x7 for a ResNet at 224, 14x14 for a VGG), not normalised. The image is decoded
 * and preprocessed as a predictor does (the checkpoint's transform_params, exact decoding unless
 * tf.fast), so the class explained is the one `frost predict` reports.
 *
 * The overlay is drawn on the original picture at its own size, so what the user sees is the photo:
 * the map divided by its maximum (an all-zero map stays zero), upsampled bilinearly as PyTorch's
 * F.interpolate(mode="bilinear", align_corners=False) does onto the part of the picture the network
 * saw (all of it for Resize([S,S]); the centre crop for Resize(S)+CenterCrop(S), the rest left as it
 * is), coloured with a jet colormap (blue 0, cyan, yellow, red 1) and alpha-blended onto the pixels.
 *
 * Nothing here prints; errors are one line in an err buffer. While a computation runs, no other
 * thread may use the model.
 */
#ifndef FROST_GRADCAM_H
#define FROST_GRADCAM_H

#include <stddef.h>
#include <stdint.h>

#include "frost_torch.h"
#include "image_decode.h"
#include "image_transform.h"

#define GRADCAM_ALPHA 0.5f   // the overlay's weight in the blend, by default
// A return value: the layer or class asked for is not the model's (the caller's mistake, not the
// work's: the command line exits 2 for it).
#define GRADCAM_EARG (-2)

typedef struct {
    int64_t h, w;        // the layer's resolution
    float *map;          // h*w, row-major: ReLU(sum_k alpha_k A_k), not normalised; owned
    int64_t cls;         // the class explained
    int64_t n_classes;   // of the model
    float *logits;       // n_classes: the model's outputs for the image (eval mode); owned
    char layer[256];     // the module path used ("layer4")
} gradcam_map;

// Frees the arrays and zeroes the struct; accepts a zeroed one.
void gradcam_map_free(gradcam_map *g);

// The map for an input already preprocessed: 3 x size x size floats (CHW). layer: a module path, NULL
// or "" for the model's default; cls: a class index, -1 for the top class. 0; GRADCAM_EARG with err
// for an unknown layer, a layer whose output is not N x C x H x W, or a class out of range; -1 with
// err otherwise. out is zeroed on failure.
int gradcam_compute(ft_model *m, const float *x, int size, const char *layer, int64_t cls, gradcam_map *out, char *err,
                    size_t errlen);

// The map for an image file, decoded and preprocessed with tf as a predictor does. picture (may be
// NULL) gets the file decoded exactly at its own size (the overlay's background); the caller frees it
// with image_free. Returns as gradcam_compute; a file that cannot be read is -1, err without the path.
int gradcam_file(ft_model *m, const transform_params *tf, const char *path, const char *layer, int64_t cls,
                 gradcam_map *out, image_rgb8 *picture, char *err, size_t errlen);

// ---------------------------------------------------------------------------------------------
// the overlay

// Where the network's input lies on a w x h picture, in the picture's pixels (x1, y1 exclusive): the
// whole picture for Resize([S,S]), the centre crop mapped back for Resize(S)+CenterCrop(S) (it may
// reach past the picture where the crop was padded).
typedef struct {
    double x0, y0, x1, y1;
} gradcam_rect;

// 0, or -1 with err (a size the transform refuses).
int gradcam_region(const transform_params *tf, int w, int h, gradcam_rect *r, char *err, size_t errlen);

// The jet colormap: v in 0..1 (clamped) to RGB8.
void gradcam_colormap(float v, uint8_t rgb[3]);

// Draws map (mh x mw, as gradcam_map holds it) over rgb (w x h RGB8, rows packed) into out (w*h*3
// bytes; may be rgb itself): inside region, out = (1 - alpha) * pixel + alpha * jet(map / max(map))
// with the map upsampled bilinearly (align_corners=False; the region's pixel centres sampled);
// outside region, the pixel as it is. alpha is clamped to 0..1.
void gradcam_overlay(const float *map, int64_t mh, int64_t mw, const gradcam_rect *region, const uint8_t *rgb, int w,
                     int h, float alpha, uint8_t *out);

// Writes w x h RGB8 as an 8-bit RGB PNG, atomically (core/base/atomic_file: a temporary file in the same
// folder, fsync, rename over path, the folder synced; only over a regular file: atomic_file_check
// says before any work whether path can be written). 0, or -1 with one line in err naming path; then no file was
// made or changed (the temporary is removed).
int gradcam_write_png(const char *path, const uint8_t *rgb, int w, int h, char *err, size_t errlen);

#endif
