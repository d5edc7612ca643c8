// image_resize.h - Pillow 9.4's Image.resize(size, BILINEAR) on RGB8, bit for bit.
//
// Why our own: torchvision's Resize on a PIL image is Pillow's ImagingResample,
// and no C library reproduces its numbers - an antialiased triangle filter
// widened by the downscale factor, Pillow's own window rounding, 22-bit fixed
// point coefficients and a uint8 rounding between the horizontal and the
// vertical pass. stb, swscale or OpenCV land several levels away, which is
// enough to move a trained model's outputs. So this is the same algorithm,
// written for speed: coefficient tables padded to a fixed tap count (no
// per-pixel branches), cached per (in, out) size, interleaved RGB, and a
// vertical pass laid out so the compiler vectorises it.
//
// Exactness: resize_rgb8 in exact mode equals Pillow 9.4 byte for byte (tested
// against PIL on random images of many sizes and on real photos). A window of
// the output can be computed alone (for CenterCrop); it equals resizing
// everything and cropping afterwards, byte for byte.
//
// Fast mode: measured and found not worth an inexact answer. The exact resize
// of a dvc-mini photo to 224x224 costs well under a millisecond - a fraction of
// what decoding the JPEG costs - so fast mode's speed comes from the decoder
// (DCT scaling), and fast mode here IS the exact resize (max difference 0).
//
// Limits: RGB8 only (3 bytes a pixel, rows may be padded); input sides
// 1..RESIZE_MAX_SIDE, output sides 1..RESIZE_MAX_OUT.
// Not thread-safe per scratch: use one resize_scratch per thread.

#ifndef FROST_IMAGE_RESIZE_H
#define FROST_IMAGE_RESIZE_H

#include <stddef.h>
#include <stdint.h>

// ---------------------------------------------------------------------------
// Types

// Input sides: JPEG's own limit; it also keeps every fixed-point sum inside
// an int32. Output sides may be larger (Resize(S) of a very long image), up to
// where one axis' table still fits in tens of megabytes.
#define RESIZE_MAX_SIDE 65500
#define RESIZE_MAX_OUT (1 << 20)

// Coefficient tables kept per scratch. A loader sees few distinct sizes (one
// per camera, say), and a table is small (out_size * taps ints).
#define RESIZE_CACHE_SLOTS 16

typedef struct resize_axis resize_axis;  // one axis' coefficient table (private)

// Caller-owned working memory: coefficient tables and the buffer between the
// two passes. Grows to the largest image seen, then nothing is allocated.
typedef struct {
    resize_axis *cache[RESIZE_CACHE_SLOTS];  // most recently used first
    int n_cached;
    uint8_t *tmp;                            // horizontal pass output
    size_t tmp_cap;
    uint8_t *quad;                           // four rows interleaved (horizontal pass)
    size_t quad_cap;
    int plain;                               // 1: never use the AVX2 build (tests set it)
} resize_scratch;

// A rectangle of the output image: columns x..x+w-1, rows y..y+h-1.
typedef struct {
    int x, y, w, h;
} resize_rect;

// ---------------------------------------------------------------------------
// Functions

void resize_scratch_init(resize_scratch *s);
void resize_scratch_free(resize_scratch *s);  // accepts NULL; leaves s re-usable (init state)

// Resizes src (w x h RGB8, src_stride bytes a row, 0 = 3*w) to out_w x out_h
// as Pillow's BILINEAR resize does, and writes the part `win` of that output
// (NULL = all of it) to dst: win->h rows of win->w pixels, dst_stride bytes
// apart (0 = 3*win->w). `fast` is accepted for API symmetry; see above.
// src and dst must not overlap. Returns 0, or -1 with one line in err.
int resize_rgb8(const uint8_t *src, int w, int h, size_t src_stride, int out_w, int out_h,
                const resize_rect *win, uint8_t *dst, size_t dst_stride, int fast,
                resize_scratch *s, char *err, size_t errlen);

#endif
