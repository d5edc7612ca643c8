// image_transform.c - Resize / CenterCrop / ToTensor / Normalize as torchvision 0.14 on PIL.
//
// The geometry follows torchvision's Python line by line (the short-side
// arithmetic in double, Python's round-half-to-even for the crop, zero padding
// split floor/ceil); the resampling is image_resize.c, asked only for the
// cropped window. ToTensor + Normalize is a 256-entry float table per channel:
// torch computes ((float)u / 255 - mean) / std in float32 with one rounding
// per step, so tabulating the same float expressions gives the same bits.
// That needs FLT_EVAL_METHOD 0 (SSE on x86-64, any AArch64): x87 excess
// precision would change last bits, so it is refused at compile time.
// Limits: see image_transform.h.

#include "image_transform.h"

#include "errmsg.h"

#include <float.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if !defined(FLT_EVAL_METHOD) || FLT_EVAL_METHOD != 0
#error "image_transform.c needs float arithmetic evaluated in float (FLT_EVAL_METHOD 0)"
#endif

// ---------------------------------------------------------------------------
// Parameters

void transform_params_set_norm(transform_params *p, transform_norm norm) {
    static const float seed[3] = {0.5f, 0.5f, 0.5f};
    static const float imagenet_mean[3] = {0.485f, 0.456f, 0.406f};
    static const float imagenet_std[3] = {0.229f, 0.224f, 0.225f};
    memcpy(p->mean, norm == TRANSFORM_NORM_IMAGENET ? imagenet_mean : seed, sizeof p->mean);
    memcpy(p->std, norm == TRANSFORM_NORM_IMAGENET ? imagenet_std : seed, sizeof p->std);
}

void transform_params_seed(transform_params *p) {
    p->size = 224;
    p->fit = TRANSFORM_SQUARE;
    p->fast = 0;
    transform_params_set_norm(p, TRANSFORM_NORM_SEED);
}

transform_norm transform_norm_default(int pretrained) {
    return pretrained ? TRANSFORM_NORM_IMAGENET : TRANSFORM_NORM_SEED;
}

void transform_params_imagenet(transform_params *p) {
    transform_params_seed(p);
    transform_params_set_norm(p, TRANSFORM_NORM_IMAGENET);
}

int transform_params_check(const transform_params *p, char *err, size_t errlen) {
    if (!p) {
        errmsg_set(err, errlen, "transform: no parameters");
        return -1;
    }
    if (p->size < 1 || p->size > TRANSFORM_MAX_SIZE) {
        errmsg_set(err, errlen, "transform: size %d outside 1..%d", p->size, TRANSFORM_MAX_SIZE);
        return -1;
    }
    if (p->fit != TRANSFORM_SQUARE && p->fit != TRANSFORM_SHORT_CROP) {
        errmsg_set(err, errlen, "transform: unknown fit %d", (int)p->fit);
        return -1;
    }
    for (int c = 0; c < 3; c++) {
        if (!isfinite(p->mean[c]) || !isfinite(p->std[c])) {
            errmsg_set(err, errlen, "transform: mean/std of channel %d is not a finite number", c);
            return -1;
        }
        // torchvision's Normalize refuses a zero std the same way.
        if (p->std[c] == 0.0f) {
            errmsg_set(err, errlen, "transform: std of channel %d is 0 (division by zero)", c);
            return -1;
        }
    }
    return 0;
}

// ---------------------------------------------------------------------------
// Scratch

void transform_scratch_init(transform_scratch *s) {
    memset(s, 0, sizeof *s);
    resize_scratch_init(&s->resize);
}

void transform_scratch_free(transform_scratch *s) {
    if (!s) return;
    resize_scratch_free(&s->resize);
    free(s->img);
    transform_scratch_init(s);
}

// ---------------------------------------------------------------------------
// Geometry

// One axis of CenterCrop: torchvision pads (want - have) // 2 before and the
// rest after when the image is smaller, then crops at round((have - want) / 2)
// with Python's round, which sends halves to the even neighbour.
static int crop_origin(int have, int want) {
    if (want > have) return -((want - have) / 2);
    int d = have - want;
    int q = d / 2;
    if (d % 2 && q % 2) q++;
    return q;
}

void transform_center_crop(int w, int h, int size, int *x, int *y) {
    *x = crop_origin(w, size);
    *y = crop_origin(h, size);
}

int transform_plan_make(const transform_params *p, int w, int h, transform_plan *plan, char *err, size_t errlen) {
    if (transform_params_check(p, err, errlen)) return -1;
    if (w < 1 || h < 1 || w > RESIZE_MAX_SIDE || h > RESIZE_MAX_SIDE) {
        errmsg_set(err, errlen, "transform: image size %dx%d outside 1..%d", w, h, RESIZE_MAX_SIDE);
        return -1;
    }
    int s = p->size;
    plan->size = s;
    if (p->fit == TRANSFORM_SQUARE) {
        plan->resize_w = plan->resize_h = s;
        plan->crop_x = plan->crop_y = 0;
        return 0;
    }
    // int(S * long / short): an exact integer product, one correctly rounded
    // division (as Python's int / int for numbers below 2**53), truncation.
    int shorter = w <= h ? w : h, longer = w <= h ? h : w;
    double l = (double)((long long)s * longer) / (double)shorter;
    if (l > RESIZE_MAX_OUT) {
        errmsg_set(err, errlen, "transform: a %dx%d image resized to short side %d is too long", w, h, s);
        return -1;
    }
    int new_long = (int)l;
    plan->resize_w = w <= h ? s : new_long;
    plan->resize_h = w <= h ? new_long : s;
    transform_center_crop(plan->resize_w, plan->resize_h, s, &plan->crop_x, &plan->crop_y);
    return 0;
}

static int grow(uint8_t **buf, size_t *cap, size_t need) {
    if (need <= *cap) return 0;
    uint8_t *q = realloc(*buf, need);
    if (!q) return -1;
    *buf = q;
    *cap = need;
    return 0;
}

int transform_render_u8(const transform_plan *plan, int fast, const uint8_t *rgb, int w, int h, uint8_t *dst,
                        transform_scratch *s, char *err, size_t errlen) {
    if (!plan || !rgb || !dst || !s) {
        errmsg_set(err, errlen, "transform: NULL plan, image, output or scratch");
        return -1;
    }
    int n = plan->size;
    if (n < 1 || n > TRANSFORM_MAX_SIZE) {
        errmsg_set(err, errlen, "transform: size %d outside 1..%d", n, TRANSFORM_MAX_SIZE);
        return -1;
    }
    // The part of the crop that lies on the resized image; the rest is padding.
    // (64-bit so a hostile plan cannot overflow the sums.)
    long long x0 = plan->crop_x < 0 ? -(long long)plan->crop_x : 0;
    long long y0 = plan->crop_y < 0 ? -(long long)plan->crop_y : 0;
    long long x1 = (long long)plan->resize_w - plan->crop_x;
    long long y1 = (long long)plan->resize_h - plan->crop_y;
    x1 = x1 > n ? n : x1;
    y1 = y1 > n ? n : y1;
    size_t row = (size_t)n * 3;
    if (x0 >= x1 || y0 >= y1) {
        memset(dst, 0, row * (size_t)n);
        return 0;
    }
    if (x0 > 0 || y0 > 0 || x1 < n || y1 < n) {
        memset(dst, 0, row * (size_t)n);   // padding: rare, so the simple way
    }
    resize_rect win = {(int)(plan->crop_x + x0), (int)(plan->crop_y + y0), (int)(x1 - x0), (int)(y1 - y0)};
    return resize_rgb8(rgb, w, h, 0, plan->resize_w, plan->resize_h, &win, dst + (size_t)y0 * row + (size_t)x0 * 3, row,
                       fast, &s->resize, err, errlen);
}

// ---------------------------------------------------------------------------
// ToTensor + Normalize

static void lut_update(transform_scratch *s, const float mean[3], const float std[3]) {
    if (s->lut_valid && memcmp(s->lut_mean, mean, sizeof s->lut_mean) == 0 &&
        memcmp(s->lut_std, std, sizeof s->lut_std) == 0)
        return;
    for (int c = 0; c < 3; c++) {
        for (int u = 0; u < 256; u++) {
            float v = (float)u / 255.0f;   // ToTensor: .div(255) in float32
            float d = v - mean[c];         // Normalize: sub_(mean)
            s->lut[c][u] = d / std[c];     //            div_(std)
        }
    }
    memcpy(s->lut_mean, mean, sizeof s->lut_mean);
    memcpy(s->lut_std, std, sizeof s->lut_std);
    s->lut_valid = 1;
}

void transform_to_tensor(const float mean[3], const float std[3], const uint8_t *hwc, int size, float *dst,
                         transform_scratch *s) {
    lut_update(s, mean, std);
    size_t plane = (size_t)size * size;
    const float *l0 = s->lut[0], *l1 = s->lut[1], *l2 = s->lut[2];
    float *restrict d0 = dst, *restrict d1 = dst + plane, *restrict d2 = dst + 2 * plane;
    for (size_t i = 0; i < plane; i++) {
        d0[i] = l0[hwc[3 * i + 0]];
        d1[i] = l1[hwc[3 * i + 1]];
        d2[i] = l2[hwc[3 * i + 2]];
    }
}

// ---------------------------------------------------------------------------
// The whole transform

int transform_image_u8(const transform_params *p, const uint8_t *rgb, int w, int h, uint8_t *dst, transform_scratch *s,
                       char *err, size_t errlen) {
    transform_plan plan;
    if (transform_plan_make(p, w, h, &plan, err, errlen)) return -1;
    return transform_render_u8(&plan, p->fast, rgb, w, h, dst, s, err, errlen);
}

int transform_apply(const transform_params *p, const uint8_t *rgb, int w, int h, float *dst, transform_scratch *s,
                    char *err, size_t errlen) {
    if (!s || !dst) {
        errmsg_set(err, errlen, "transform: NULL output or scratch");
        return -1;
    }
    transform_plan plan;
    if (transform_plan_make(p, w, h, &plan, err, errlen)) return -1;
    size_t n = (size_t)plan.size * plan.size * 3;
    if (grow(&s->img, &s->img_cap, n)) {
        errmsg_set(err, errlen, "transform: out of memory for a %dx%d image", plan.size, plan.size);
        return -1;
    }
    if (transform_render_u8(&plan, p->fast, rgb, w, h, s->img, s, err, errlen)) return -1;
    transform_to_tensor(p->mean, p->std, s->img, plan.size, dst, s);
    return 0;
}
