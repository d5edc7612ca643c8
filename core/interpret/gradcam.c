// gradcam.c — Grad-CAM for an image file, the overlay and its PNG (see gradcam.h).
#include "gradcam.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <png.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "atomic_file.h"
#include "errmsg.h"
#include "pipeline.h"

void gradcam_map_free(gradcam_map *g) {
    if (!g) return;
    free(g->map);
    free(g->logits);
    memset(g, 0, sizeof *g);
}

// ---------------------------------------------------------------------------------------------
// the map

int gradcam_compute(ft_model *m, const float *x, int size, const char *layer, int64_t cls, gradcam_map *out, char *err,
                    size_t errlen) {
    memset(out, 0, sizeof *out);
    const int64_t C = ft_model_num_classes(m);
    if (!m || !x || size < 1 || C < 1) {
        errmsg_set(err, errlen, "Grad-CAM: no model or no input");
        return -1;
    }
    // every layer of these networks is at most as large as the input; a larger one is asked for again
    size_t cap = (size_t)size * (size_t)size;
    out->logits = malloc((size_t)C * sizeof *out->logits);
    out->map = malloc(cap * sizeof *out->map);
    ft_status *s = NULL;
    int64_t used = -1;
    int oom = !out->logits || !out->map;
    for (int attempt = 0; !oom && attempt < 2; attempt++) {
        s = ft_model_gradcam(m, x, size, layer, cls, out->map, cap, &out->h, &out->w, &used, out->logits);
        size_t need = (size_t)(out->h * out->w);
        if (!s || ft_status_code(s) != FT_EINVAL || need <= cap || attempt == 1) break;
        ft_status_free(s);
        s = NULL;
        float *grown = realloc(out->map, need * sizeof *grown);
        if (!grown)
            oom = 1;
        else
            out->map = grown, cap = need;
    }
    if (oom) {
        ft_status_free(s);
        gradcam_map_free(out);
        errmsg_set(err, errlen, "Grad-CAM: out of memory");
        return -1;
    }
    if (s) {
        int rc = ft_status_code(s) == FT_EINVAL ? GRADCAM_EARG : -1;
        errmsg_set(err, errlen, "Grad-CAM: %s", ft_status_message(s));
        ft_status_free(s);
        gradcam_map_free(out);
        return rc;
    }
    out->cls = used;
    out->n_classes = C;
    snprintf(out->layer, sizeof out->layer, "%s", layer && *layer ? layer : ft_model_gradcam_default_layer(m));
    return 0;
}

static int decode_exact(const image_decode_opts *o) { return o->dct_min_side == 0 && !o->fast_dct; }

int gradcam_file(ft_model *m, const transform_params *tf, const char *path, const char *layer, int64_t cls,
                 gradcam_map *out, image_rgb8 *picture, char *err, size_t errlen) {
    memset(out, 0, sizeof *out);
    if (picture) memset(picture, 0, sizeof *picture);
    // the predictor's decoding and transform (predictor_init)
    pipeline_opts po;
    pipeline_opts_default(&po);
    po.tf = *tf;
    pipeline_set_fast(&po, tf->fast);
    if (pipeline_opts_check(&po, err, errlen) != 0) return -1;
    image_rgb8 img = {0};
    if (image_load_file(path, &po.dec, &img, NULL, err, errlen) != 0) {
        image_free(&img);
        return -1;
    }
    const int S = po.tf.size;
    float *x = malloc(3 * (size_t)S * (size_t)S * sizeof *x);
    transform_scratch ts;
    transform_scratch_init(&ts);
    int rc = -1;
    if (!x)
        errmsg_set(err, errlen, "out of memory");
    else if (transform_apply(&po.tf, img.rgb, img.width, img.height, x, &ts, err, errlen) == 0)
        rc = gradcam_compute(m, x, S, layer, cls, out, err, errlen);
    transform_scratch_free(&ts);
    free(x);
    if (rc == 0 && picture) {
        // the overlay goes on the photo itself: decoded again at full size when the network's copy was not
        if (decode_exact(&po.dec)) {
            *picture = img;
            memset(&img, 0, sizeof img);
        } else if (image_load_file(path, NULL, picture, NULL, err, errlen) != 0) {
            image_free(picture);
            gradcam_map_free(out);
            rc = -1;
        }
    }
    image_free(&img);
    return rc;
}

// ---------------------------------------------------------------------------------------------
// the overlay

int gradcam_region(const transform_params *tf, int w, int h, gradcam_rect *r, char *err, size_t errlen) {
    transform_plan plan;
    if (transform_plan_make(tf, w, h, &plan, err, errlen) != 0) return -1;
    const double sx = (double)w / plan.resize_w, sy = (double)h / plan.resize_h;
    r->x0 = plan.crop_x * sx;
    r->y0 = plan.crop_y * sy;
    r->x1 = (plan.crop_x + plan.size) * sx;
    r->y1 = (plan.crop_y + plan.size) * sy;
    return 0;
}

static float clamp01(float v) { return v < 0 ? 0 : v > 1 ? 1 : v; }

void gradcam_colormap(float v, uint8_t rgb[3]) {
    v = clamp01(v);
    // the classic jet: each channel a trapezoid, red peaking at the top, blue at the bottom
    float r = clamp01(1.5f - fabsf(4 * v - 3)), g = clamp01(1.5f - fabsf(4 * v - 2)),
          b = clamp01(1.5f - fabsf(4 * v - 1));
    rgb[0] = (uint8_t)(255 * r + 0.5f);
    rgb[1] = (uint8_t)(255 * g + 0.5f);
    rgb[2] = (uint8_t)(255 * b + 0.5f);
}

// One output coordinate's two source indices and the weight of the second, as F.interpolate's
// bilinear with align_corners=False: source = (dst + 0.5) * in / out - 0.5, clamped at 0 and at the end.
typedef struct {
    int i0, i1;
    float l;
} tap;

static tap tap_at(double centre, double lo, double hi, int64_t n) {
    double src = (centre - lo) / (hi - lo) * (double)n - 0.5;
    if (src < 0) src = 0;
    tap t;
    t.i0 = (int)src;
    if (t.i0 > n - 1) t.i0 = (int)n - 1;
    t.i1 = t.i0 + 1 < n ? t.i0 + 1 : t.i0;
    t.l = t.i1 == t.i0 ? 0.0f : (float)(src - t.i0);
    return t;
}

void gradcam_overlay(const float *map, int64_t mh, int64_t mw, const gradcam_rect *region, const uint8_t *rgb, int w,
                     int h, float alpha, uint8_t *out) {
    if (w < 1 || h < 1 || mh < 1 || mw < 1) return;
    float max = 0;
    for (int64_t k = 0; k < mh * mw; k++)
        if (map[k] > max) max = map[k];   // NaN never wins
    const float scale = isfinite(max) && max > 0 ? 1.0f / max : 0.0f;
    alpha = !(alpha > 0) ? 0 : alpha > 1 ? 1 : alpha;
    gradcam_rect whole = {0, 0, w, h};
    const gradcam_rect *r = region ? region : &whole;
    for (int y = 0; y < h; y++) {
        const uint8_t *src = rgb + (size_t)y * (size_t)w * 3;
        uint8_t *dst = out + (size_t)y * (size_t)w * 3;
        const double cy = y + 0.5;
        if (cy < r->y0 || cy >= r->y1) {
            if (dst != src) memcpy(dst, src, (size_t)w * 3);
            continue;
        }
        const tap ty = tap_at(cy, r->y0, r->y1, mh);
        const float *row0 = map + ty.i0 * mw, *row1 = map + ty.i1 * mw;
        for (int x = 0; x < w; x++) {
            const double cx = x + 0.5;
            if (cx < r->x0 || cx >= r->x1) {
                memmove(dst + 3 * x, src + 3 * x, 3);
                continue;
            }
            const tap tx = tap_at(cx, r->x0, r->x1, mw);
            float top = row0[tx.i0] + tx.l * (row0[tx.i1] - row0[tx.i0]);
            float bottom = row1[tx.i0] + tx.l * (row1[tx.i1] - row1[tx.i0]);
            float v = (top + ty.l * (bottom - top)) * scale;
            uint8_t c[3];
            gradcam_colormap(isfinite(v) ? v : 0, c);
            for (int k = 0; k < 3; k++) dst[3 * x + k] = (uint8_t)((1 - alpha) * src[3 * x + k] + alpha * c[k] + 0.5f);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// the PNG, written atomically

typedef struct {
    char msg[200];
} png_errors;

static void on_png_error(png_structp png, png_const_charp msg) {
    png_errors *e = png_get_error_ptr(png);
    snprintf(e->msg, sizeof e->msg, "%s", msg);
    png_longjmp(png, 1);
}

static void on_png_warning(png_structp png, png_const_charp msg) {
    (void)png;
    (void)msg;
}

// libpng's part alone, so that only the pointers set before setjmp cross the longjmp. 0, or -1 with
// libpng's message in e.
static int encode_png(FILE *f, const uint8_t *rgb, int w, int h, png_errors *e) {
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, e, on_png_error, on_png_warning);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    if (!info) {
        png_destroy_write_struct(&png, NULL);
        snprintf(e->msg, sizeof e->msg, "out of memory");
        return -1;
    }
    if (setjmp(png_jmpbuf(png))) {
        png_destroy_write_struct(&png, &info);
        return -1;
    }
    png_init_io(png, f);
    png_set_IHDR(png, info, (png_uint_32)w, (png_uint_32)h, 8, PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE,
                 PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_write_info(png, info);
    for (int y = 0; y < h; y++) png_write_row(png, (png_const_bytep)(rgb + (size_t)y * (size_t)w * 3));
    png_write_end(png, info);
    png_destroy_write_struct(&png, &info);
    return 0;
}

int gradcam_write_png(const char *path, const uint8_t *rgb, int w, int h, char *err, size_t errlen) {
    if (!path || !*path || !rgb || w < 1 || h < 1) {
        errmsg_set(err, errlen, "no file name or no picture for the Grad-CAM image");
        return -1;
    }
    atomic_file af;
    FILE *f = atomic_file_open_stream(&af, path, err, errlen);
    if (!f) return -1;
    png_errors e = {{0}};
    errno = 0;
    if (encode_png(f, rgb, w, h, &e) != 0) {
        if (errno)
            errmsg_set(err, errlen, "%s: write failed: %s", path, strerror(errno));
        else
            errmsg_set(err, errlen, "%s: cannot write the PNG: %s", path, e.msg);
        atomic_file_abort(&af);
        return -1;
    }
    return atomic_file_commit(&af, 1, err, errlen);
}
