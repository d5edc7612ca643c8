// image_resize.h - Pillow 9.4's Image.resize(size, BILINEAR) on RGB8, bit for bit.
//
// Why our own: torchvision's Resize on a PIL image is Pillow's ImagingResample,
// and no C library reproduces its numbers - an antialiased triangle filter
// widened by the downscale factor, Pillow's own window rounding, 22-bit fixed
// point weights and a rounding to uint8 between the horizontal and the
// vertical pass. stb, swscale or OpenCV land several levels away, enough to
// move a trained model's outputs. So this is the same arithmetic, laid out
// for speed: weight tables padded to one tap count (no per-pixel bounds),
// cached per (in, out) size, eight rows interleaved for the horizontal pass
// and blocked rows for the vertical one, so the compiler vectorises both; on
// x86 an AVX2 build of those loops is picked at run time.
//
// Exactness: resize_rgb8 equals Pillow 9.4 byte for byte (tested against PIL
// on random images of many sizes and ratios and on dvc-mini photos: max
// difference 0). A window of the output can be computed alone (CenterCrop);
// it equals resizing everything and cropping, byte for byte.
//
// Speed, one thread, dvc-mini photos (about 400x360) to 224x224: 0.21 ms
// (AVX2) / 0.56 ms (plain SSE2 build) against Pillow's 0.75 ms; 12 MP to
// 224x224: 11 ms (AVX2) / 26 ms against Pillow's 29 ms.
//
// Fast mode: `fast` gives the exact result (max difference 0, mean 0). An
// inexact resize could at best save part of 0.21 ms, next to 0.53 ms of JPEG
// decoding for the same photo. The real saving for big photos belongs to the
// decoder (DCT scaling: decode a large JPEG at 1/2..1/8 size), not here.
//
// Limits: RGB8 only (3 bytes a pixel, rows may be padded); input sides
// 1..RESIZE_MAX_SIDE, output sides 1..RESIZE_MAX_OUT. One resize_scratch per
// thread.

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

// Weight tables kept per scratch, least recently used evicted. Building one
// costs microseconds, so this only matters for runs of same-size images.
#define RESIZE_CACHE_SLOTS 16

typedef struct resize_axis resize_axis;   // one axis' coefficient table (private)

// Caller-owned working memory: weight tables and the buffers of the passes.
// Grows to the largest image seen; after that nothing is allocated.
typedef struct {
    resize_axis *cache[RESIZE_CACHE_SLOTS];   // most recently used first
    int n_cached;
    uint8_t *tmp;   // horizontal pass output
    size_t tmp_cap;
    uint8_t *group;   // rows interleaved for the horizontal pass
    size_t group_cap;
    int plain;   // 1: skip the AVX2 build (tests compare both)
} resize_scratch;

// A rectangle of the output image: columns x..x+w-1, rows y..y+h-1.
typedef struct {
    int x, y, w, h;
} resize_rect;

// ---------------------------------------------------------------------------
// Functions

void resize_scratch_init(resize_scratch *s);
void resize_scratch_free(resize_scratch *s);   // accepts NULL; leaves s re-usable (init state)

// Resizes src (w x h RGB8, src_stride bytes a row, 0 = 3*w) to out_w x out_h
// as Pillow's BILINEAR resize does, and writes the part `win` of that output
// (NULL = all of it) to dst: win->h rows of win->w pixels, dst_stride bytes
// apart (0 = 3*win->w). `fast` changes nothing today; see above.
// src and dst must not overlap. Returns 0, or -1 with one line in err.
int resize_rgb8(const uint8_t *src, int w, int h, size_t src_stride, int out_w, int out_h, const resize_rect *win,
                uint8_t *dst, size_t dst_stride, int fast, resize_scratch *s, char *err, size_t errlen);

#endif
