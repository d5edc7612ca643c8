/*
 * image_thumb.h — an image file made small enough to show: decoded (image_decode), fitted into a
 * box of W x H pixels with its aspect kept (image_resize's bilinear resampler, up or down), with
 * what the file is: format, stored size, colour mode, bytes on disk.
 *
 * Big JPEGs are decoded with TurboJPEG's DCT scaling (1/2..1/8) when the box is much smaller than
 * the picture, so a 12 MP photo costs a few milliseconds. The pixels are for looking at, not for
 * training: they are not Pillow's exact numbers. Each call makes its own decoder and scratch, so
 * calls on different threads do not interfere.
 */
#ifndef FROST_IMAGE_THUMB_H
#define FROST_IMAGE_THUMB_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    char format[8];      // "JPEG", "PNG", "PPM" ("" when unknown)
    char mode[8];        // Pillow's mode: "RGB", "L", "CMYK", "P", "RGBA", ...
    int width, height;   // as stored in the file
    long long bytes;     // file size
} thumb_info;

typedef struct {
    int width, height;   // the fitted size: <= the box, aspect kept, at least 1x1
    uint8_t *rgb;        // width*height*3 bytes, row-major RGB8, owned (image_thumb_free)
} image_thumb;

// Decodes path and fits it into max_w x max_h pixels. Returns 0, or -1 with one line in err
// (without the path). info is filled as far as the file could be read, even on failure; out is
// zeroed on failure. max_w and max_h must be >= 1.
int image_thumb_load(const char *path, int max_w, int max_h, image_thumb *out, thumb_info *info, char *err,
                     size_t errlen);
// Frees out->rgb and zeroes the struct; accepts a zeroed struct.
void image_thumb_free(image_thumb *t);

// The size of a w x h picture fitted into max_w x max_h with its aspect kept (each side >= 1).
void image_thumb_fit(int w, int h, int max_w, int max_h, int *out_w, int *out_h);

// "JPEG 500x374 RGB, 23.1 KB" into buf.
void image_thumb_describe(const thumb_info *info, char *buf, size_t buflen);

#endif
