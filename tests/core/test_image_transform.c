// test_image_transform.c - Criterion tests for core/image_resize and core/image_transform.
//
// The reference is tests/oracle/pil_transform_oracle.py, run by `make test`
// into $FROST_ORACLE/transform/: raw RGB test images, Pillow's BILINEAR
// resize of each to many sizes, and torchvision's float32 tensors. Resizes
// must match byte for byte and tensors to 1e-6 (they match exactly; the
// largest difference seen is logged). Real photos (dvc-mini) are checked when
// ../shared/datasets/dvc-mini exists, and skipped with a reason otherwise.

#include <criterion/criterion.h>

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "image_resize.h"
#include "image_transform.h"
#include "testutil.h"

#define TENSOR_TOL 1e-6f   // the bar set for frost; we also demand identical bits, below
// Fast mode is the exact resize today (image_resize.h says why), so its bound is 0.
#define FAST_MAX_DIFF 0

// ---------------------------------------------------------------------------
// Oracle files

typedef struct {
    char name[64];
    int a, b;           // w,h (images) | out_w,out_h (resize) | -, S (tensor)
    char variant[16];   // tensor only
    char rel[160];      // the data file, relative to the oracle's transform/
} row_t;

// Reads transform/<tsv>: `kind` 'i' name w h [file], 'r' name ow oh rel,
// 't' name variant S rel. Returns the count; *rows is malloc'd.
static size_t read_tsv(const char *tsv, char kind, row_t **rows) {
    char rel[128];
    snprintf(rel, sizeof rel, "transform/%s", tsv);
    char *text = tu_read_file(tu_oracle(rel), NULL);
    cr_assert_not_null(text, "oracle file %s missing: run make test, which writes it", tu_oracle(rel));
    size_t n = tu_count_lines(text) + 1, k = 0;   // + 1: a last line without \n
    *rows = calloc(n, sizeof **rows);
    char *save = NULL;
    for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        row_t *r = &(*rows)[k];
        int got;
        if (kind == 'i')
            got = sscanf(line, "%63[^\t]\t%d\t%d", r->name, &r->a, &r->b) == 3;
        else if (kind == 'r')
            got = sscanf(line, "%63[^\t]\t%d\t%d\t%159s", r->name, &r->a, &r->b, r->rel) == 4;
        else
            got = sscanf(line, "%63[^\t]\t%15[^\t]\t%d\t%159s", r->name, r->variant, &r->b, r->rel) == 4;
        cr_assert(got, "bad line in %s: %s", tsv, line);
        k++;
    }
    free(text);
    return k;
}

// transform/<rel>, which must hold exactly `want` bytes.
static uint8_t *read_data(const char *rel, size_t want) {
    char path[256];
    snprintf(path, sizeof path, "transform/%s", rel);
    size_t len = 0;
    char *data = tu_read_file(tu_oracle(path), &len);
    cr_assert_not_null(data, "oracle file %s missing", tu_oracle(path));
    cr_assert_eq(len, want, "%s: %zu bytes, expected %zu", path, len, want);
    return (uint8_t *)data;
}

static uint8_t *read_image(const row_t *images, size_t n, const char *name, int *w, int *h) {
    for (size_t i = 0; i < n; i++) {
        if (strcmp(images[i].name, name) == 0) {
            char rel[128];
            snprintf(rel, sizeof rel, "img/%s.rgb", name);
            *w = images[i].a;
            *h = images[i].b;
            return read_data(rel, (size_t)*w * *h * 3);
        }
    }
    return NULL;
}

static int max_u8_diff(const uint8_t *a, const uint8_t *b, size_t n, double *mean) {
    int m = 0;
    double sum = 0;
    for (size_t i = 0; i < n; i++) {
        int d = abs((int)a[i] - (int)b[i]);
        m = d > m ? d : m;
        sum += d;
    }
    if (mean) *mean = n ? sum / (double)n : 0;
    return m;
}

static int dataset_present(void) {
    const char *p = tu_shared("datasets/dvc-mini/train/dog");
    struct stat st;
    return p && stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

// Skips the calling test unless there are photos to compare with.
static void need_photos(void) {
    if (!dataset_present()) cr_skip_test("../shared/datasets/dvc-mini is absent: no real photos to compare");
    size_t len = 0;
    char *text = tu_read_file(tu_oracle("transform/photos.tsv"), &len);
    free(text);
    // make test reruns the oracle when its script or the shared data changes (oracle/shared-data.state)
    cr_assert_gt(len, 0, "dvc-mini is here but the oracle's photos.tsv is empty: a stale oracle");
}

// ---------------------------------------------------------------------------
// Resize against Pillow

// Every resize.tsv case whose source is in `images_tsv`: exact must equal PIL
// byte for byte - both builds of the kernels, the one the CPU gets and the
// plain one - and fast must stay within FAST_MAX_DIFF. One scratch per build
// for all cases, so the coefficient cache is hit, missed and evicted.
static void check_resizes(const char *images_tsv, int min_cases) {
    row_t *images, *cases;
    size_t n_img = read_tsv(images_tsv, 'i', &images);
    size_t n_cases = read_tsv("resize.tsv", 'r', &cases);
    resize_scratch s, plain;
    resize_scratch_init(&s);
    resize_scratch_init(&plain);
    plain.plain = 1;
    char err[256];
    int checked = 0, worst = 0, worst_fast = 0;
    for (size_t i = 0; i < n_cases; i++) {
        const row_t *c = &cases[i];
        int w, h;
        uint8_t *src = read_image(images, n_img, c->name, &w, &h);
        if (!src) continue;
        size_t n = (size_t)c->a * c->b * 3;
        uint8_t *want = read_data(c->rel, n);
        uint8_t *got = malloc(n);
        for (int run = 0; run < 3; run++) {
            int fast = run == 2;
            const char *what = run == 0 ? "exact" : run == 1 ? "exact (plain build)" : "fast";
            memset(got, 0xAB, n);
            cr_assert_eq(
                resize_rgb8(src, w, h, 0, c->a, c->b, NULL, got, 0, fast, run == 1 ? &plain : &s, err, sizeof err), 0,
                "%s -> %dx%d: %s", c->name, c->a, c->b, err);
            double mean;
            int d = max_u8_diff(got, want, n, &mean);
            if (fast) {
                worst_fast = d > worst_fast ? d : worst_fast;
                cr_expect_leq(d, FAST_MAX_DIFF, "fast %s -> %dx%d: max diff %d", c->name, c->a, c->b, d);
            } else {
                worst = d > worst ? d : worst;
                cr_expect_eq(d, 0, "%s: %s (%dx%d) -> %dx%d: max diff %d, mean %.4f", what, c->name, w, h, c->a, c->b,
                             d, mean);
            }
        }
        checked++;
        free(got);
        free(want);
        free(src);
    }
    cr_log_info("%s: %d resizes vs PIL, max diff exact %d, fast %d", images_tsv, checked, worst, worst_fast);
    cr_assert_geq(checked, min_cases, "only %d resize cases found for %s", checked, images_tsv);
    resize_scratch_free(&s);
    resize_scratch_free(&plain);
    free(images);
    free(cases);
}

Test(transform, resize_matches_pil_synthetic) { check_resizes("images.tsv", 200); }

Test(transform, resize_matches_pil_photos) {
    need_photos();
    check_resizes("photos.tsv", 30);
}

// ---------------------------------------------------------------------------
// Tensors against torchvision

static void params_for(const char *variant, int size, transform_params *p) {
    if (strcmp(variant, "seed") == 0) {
        transform_params_seed(p);
    } else {
        transform_params_imagenet(p);
        if (strcmp(variant, "crop") == 0) p->fit = TRANSFORM_SHORT_CROP;
    }
    p->size = size;
}

// Every tensor.tsv case whose source is in `images_tsv`.
static void check_tensors(const char *images_tsv, int min_cases) {
    row_t *images, *cases;
    size_t n_img = read_tsv(images_tsv, 'i', &images);
    size_t n_cases = read_tsv("tensor.tsv", 't', &cases);
    transform_scratch s;
    transform_scratch_init(&s);
    char err[256];
    int checked = 0;
    float worst = 0;
    for (size_t i = 0; i < n_cases; i++) {
        const row_t *c = &cases[i];
        int w, h;
        uint8_t *src = read_image(images, n_img, c->name, &w, &h);
        if (!src) continue;
        int size = c->b;
        size_t n = (size_t)3 * size * size;
        float *want = (float *)read_data(c->rel, n * sizeof(float));
        float *got = malloc(n * sizeof(float));
        transform_params p;
        if (strcmp(c->variant, "pad") == 0) {
            // CenterCrop alone: "resize" to the image's own size (no pass runs).
            transform_params_imagenet(&p);
            transform_plan plan = {w, h, 0, 0, size};
            transform_center_crop(w, h, size, &plan.crop_x, &plan.crop_y);
            uint8_t *img = malloc(n);
            cr_assert_eq(transform_render_u8(&plan, 0, src, w, h, img, &s, err, sizeof err), 0, "%s", err);
            transform_to_tensor(p.mean, p.std, img, size, got, &s);
            free(img);
        } else {
            params_for(c->variant, size, &p);
            cr_assert_eq(transform_apply(&p, src, w, h, got, &s, err, sizeof err), 0, "%s %s %d: %s", c->name,
                         c->variant, size, err);
        }
        float m = 0;
        size_t at = 0;
        for (size_t j = 0; j < n; j++) {
            float d = fabsf(got[j] - want[j]);
            if (!(d <= m)) {
                m = d;
                at = j;
            }
        }
        worst = m > worst ? m : worst;
        // We repeat torch's float32 steps, so the bits should be identical;
        // 1e-6 would let e.g. a multiply by 1/255 through (7e-7 off).
        cr_expect_eq(memcmp(got, want, n * sizeof(float)), 0, "%s %s S=%d: tensor not bit-identical (max abs diff %g)",
                     c->name, c->variant, size, (double)m);
        cr_expect(m <= TENSOR_TOL, "%s (%dx%d) %s S=%d: max abs diff %g at %zu (%.9g vs %.9g)", c->name, w, h,
                  c->variant, size, (double)m, at, (double)got[at], (double)want[at]);
        checked++;
        free(got);
        free(want);
        free(src);
    }
    cr_log_info("%s: %d tensors vs torchvision, max abs diff %g", images_tsv, checked, (double)worst);
    cr_assert_geq(checked, min_cases, "only %d tensor cases found for %s", checked, images_tsv);
    transform_scratch_free(&s);
    free(images);
    free(cases);
}

Test(transform, tensors_match_torchvision_synthetic) { check_tensors("images.tsv", 150); }

Test(transform, tensors_match_torchvision_photos) {
    need_photos();
    check_tensors("photos.tsv", 30);
}

// ---------------------------------------------------------------------------
// Windows and crops

// A deterministic noise image (no oracle needed: these compare us with us).
static uint8_t *noise_image(int w, int h, uint32_t seed) {
    uint8_t *p = malloc((size_t)w * h * 3);
    for (size_t i = 0; i < (size_t)w * h * 3; i++) {
        seed = seed * 1664525u + 1013904223u;
        p[i] = (uint8_t)(seed >> 24);
    }
    return p;
}

// Any window of the output equals the same window cut from the full output,
// also with padded source and destination rows.
Test(transform, window_equals_resize_then_crop) {
    static const int cases[][4] = {
        {500, 375, 224, 224}, {375, 500, 298, 224}, {64, 48, 301, 77}, {17, 13, 17, 40},
        {40, 31, 13, 31},     {1, 9, 5, 9},         {9, 1, 9, 3},      {333, 500, 224, 336},
    };
    resize_scratch s;
    resize_scratch_init(&s);
    char err[256];
    uint32_t seed = 7;
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        int w = cases[c][0], h = cases[c][1], ow = cases[c][2], oh = cases[c][3];
        size_t sstride = (size_t)w * 3 + 5;   // padded source rows
        uint8_t *src = malloc(sstride * h);
        uint8_t *tight = noise_image(w, h, (uint32_t)c + 1);
        for (int y = 0; y < h; y++) memcpy(src + y * sstride, tight + (size_t)y * w * 3, (size_t)w * 3);
        uint8_t *full = malloc((size_t)ow * oh * 3);
        cr_assert_eq(resize_rgb8(tight, w, h, 0, ow, oh, NULL, full, 0, 0, &s, err, sizeof err), 0, "%s", err);
        for (int k = 0; k < 12; k++) {
            seed = seed * 1664525u + 1013904223u;
            resize_rect r;
            r.w = 1 + (int)(seed % (uint32_t)ow);
            r.h = 1 + (int)((seed >> 12) % (uint32_t)oh);
            r.x = (int)((seed >> 5) % (uint32_t)(ow - r.w + 1));
            r.y = (int)((seed >> 17) % (uint32_t)(oh - r.h + 1));
            size_t dstride = (size_t)r.w * 3 + 3;
            uint8_t *win = malloc(dstride * r.h);
            cr_assert_eq(resize_rgb8(src, w, h, sstride, ow, oh, &r, win, dstride, 0, &s, err, sizeof err), 0, "%s",
                         err);
            for (int y = 0; y < r.h; y++)
                cr_assert_eq(memcmp(win + y * dstride, full + ((size_t)(r.y + y) * ow + r.x) * 3, (size_t)r.w * 3), 0,
                             "%dx%d->%dx%d window %dx%d at (%d,%d) differs in row %d", w, h, ow, oh, r.w, r.h, r.x, r.y,
                             y);
            free(win);
        }
        free(full);
        free(tight);
        free(src);
    }
    resize_scratch_free(&s);
}

// SHORT_CROP's u8 image equals torchvision's recipe done the long way:
// resize the short side to S, then cut the centre with Python's rounding.
Test(transform, short_crop_equals_resize_then_crop) {
    static const int sizes[][2] = {{500, 375}, {375, 500}, {227, 224}, {224, 229}, {301, 300}, {64, 64}, {3, 1000}};
    transform_scratch s;
    transform_scratch_init(&s);
    char err[256];
    for (size_t c = 0; c < sizeof sizes / sizeof sizes[0]; c++) {
        int w = sizes[c][0], h = sizes[c][1];
        uint8_t *src = noise_image(w, h, 99 + (uint32_t)c);
        transform_params p;
        transform_params_imagenet(&p);
        p.fit = TRANSFORM_SHORT_CROP;
        int S = p.size;
        transform_plan plan;
        cr_assert_eq(transform_plan_make(&p, w, h, &plan, err, sizeof err), 0, "%s", err);
        int rw = w <= h ? S : (int)((double)S * w / h);
        int rh = w <= h ? (int)((double)S * h / w) : S;
        cr_assert(plan.resize_w == rw && plan.resize_h == rh, "%dx%d: plan %dx%d, want %dx%d", w, h, plan.resize_w,
                  plan.resize_h, rw, rh);
        uint8_t *full = malloc((size_t)rw * rh * 3);
        cr_assert_eq(resize_rgb8(src, w, h, 0, rw, rh, NULL, full, 0, 0, &s.resize, err, sizeof err), 0, "%s", err);
        // Python: int(round((side - S) / 2.0)), half to even.
        int top = (int)nearbyint((rh - S) / 2.0), left = (int)nearbyint((rw - S) / 2.0);
        uint8_t *got = malloc((size_t)S * S * 3);
        cr_assert_eq(transform_image_u8(&p, src, w, h, got, &s, err, sizeof err), 0, "%s", err);
        for (int y = 0; y < S; y++)
            cr_assert_eq(memcmp(got + (size_t)y * S * 3, full + ((size_t)(top + y) * rw + left) * 3, (size_t)S * 3), 0,
                         "%dx%d: crop row %d differs", w, h, y);
        free(got);
        free(full);
        free(src);
    }
    transform_scratch_free(&s);
}

Test(transform, center_crop_placement) {
    int x, y;
    transform_center_crop(224, 224, 224, &x, &y);
    cr_expect(x == 0 && y == 0);
    transform_center_crop(225, 227, 224, &x, &y);   // round(0.5) = 0, round(1.5) = 2
    cr_expect(x == 0 && y == 2, "got %d,%d", x, y);
    transform_center_crop(229, 298, 224, &x, &y);   // round(2.5) = 2, round(37.0) = 37
    cr_expect(x == 2 && y == 37, "got %d,%d", x, y);
    transform_center_crop(10, 13, 15, &x, &y);   // pad 5 -> 2 left; pad 2 -> 1 top
    cr_expect(x == -2 && y == -1, "got %d,%d", x, y);
}

// The fast flag gives the same bytes as exact (FAST_MAX_DIFF is 0 today).
Test(transform, fast_within_bound) {
    transform_scratch s;
    transform_scratch_init(&s);
    char err[256];
    uint8_t *src = noise_image(640, 480, 5);
    static uint8_t a[224 * 224 * 3], b[224 * 224 * 3];
    transform_params p;
    transform_params_seed(&p);
    cr_assert_eq(transform_image_u8(&p, src, 640, 480, a, &s, err, sizeof err), 0, "%s", err);
    p.fast = 1;
    cr_assert_eq(transform_image_u8(&p, src, 640, 480, b, &s, err, sizeof err), 0, "%s", err);
    cr_expect_leq(max_u8_diff(a, b, sizeof a, NULL), FAST_MAX_DIFF);
    free(src);
    transform_scratch_free(&s);
}

// ---------------------------------------------------------------------------
// Refusals

static void expect_one_line(const char *err) {
    cr_expect(err[0] != '\0', "no message");
    cr_expect_null(strchr(err, '\n'), "message spans lines: %s", err);
}

Test(transform, params_refused) {
    transform_params p;
    char err[256];
    transform_params_seed(&p);
    cr_expect_eq(transform_params_check(&p, err, sizeof err), 0, "%s", err);

    p.size = 0;
    err[0] = '\0';
    cr_expect_eq(transform_params_check(&p, err, sizeof err), -1);
    expect_one_line(err);
    cr_expect_not_null(strstr(err, "size"), "%s", err);

    p.size = 1 << 30;
    err[0] = '\0';
    cr_expect_eq(transform_params_check(&p, err, sizeof err), -1);
    expect_one_line(err);

    transform_params_seed(&p);
    p.std[1] = 0.0f;
    err[0] = '\0';
    cr_expect_eq(transform_params_check(&p, err, sizeof err), -1);
    expect_one_line(err);
    cr_expect_not_null(strstr(err, "std"), "%s", err);

    transform_params_seed(&p);
    p.mean[2] = NAN;
    err[0] = '\0';
    cr_expect_eq(transform_params_check(&p, err, sizeof err), -1);
    expect_one_line(err);

    transform_params_seed(&p);
    p.fit = (transform_fit)7;
    err[0] = '\0';
    cr_expect_eq(transform_params_check(&p, err, sizeof err), -1);
    expect_one_line(err);

    // transform_apply checks too, before touching anything.
    transform_scratch s;
    transform_scratch_init(&s);
    uint8_t px[3] = {1, 2, 3};
    float out[3];
    transform_params_seed(&p);
    p.std[0] = 0.0f;
    err[0] = '\0';
    cr_expect_eq(transform_apply(&p, px, 1, 1, out, &s, err, sizeof err), -1);
    expect_one_line(err);
    transform_params_seed(&p);
    p.size = 1;
    cr_expect_eq(transform_apply(&p, px, 0, 1, out, &s, err, sizeof err), -1);
    expect_one_line(err);
    cr_expect_eq(transform_apply(&p, px, 1, 1, out, &s, err, sizeof err), 0, "%s", err);
    transform_scratch_free(&s);
    transform_scratch_free(NULL);
}

Test(transform, resize_refuses_bad_sizes) {
    resize_scratch s;
    resize_scratch_init(&s);
    char err[256];
    uint8_t px[12] = {0}, out[12];
    resize_rect r = {1, 0, 2, 1};   // 2 wide at x=1 does not fit in a 2-wide output
    struct {
        int w, h, ow, oh;
        const resize_rect *win;
    } bad[] = {
        {0, 1, 1, 1, NULL},
        {1, -3, 1, 1, NULL},
        {RESIZE_MAX_SIDE + 1, 1, 1, 1, NULL},
        {1, 1, 0, 1, NULL},
        {1, 1, 1, RESIZE_MAX_OUT + 1, NULL},
        {2, 2, 2, 1, &r},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err[0] = '\0';
        cr_expect_eq(
            resize_rgb8(px, bad[i].w, bad[i].h, 0, bad[i].ow, bad[i].oh, bad[i].win, out, 0, 0, &s, err, sizeof err),
            -1, "case %zu accepted", i);
        expect_one_line(err);
    }
    cr_expect_eq(resize_rgb8(NULL, 1, 1, 0, 1, 1, NULL, out, 0, 0, &s, err, sizeof err), -1);
    resize_scratch_free(&s);
    resize_scratch_free(NULL);
}
