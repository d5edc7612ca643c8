// image_resize.c - Pillow 9.4's bilinear (antialiased triangle) resize on RGB8, bit-exact.
//
// The algorithm, as Pillow runs it (ImagingResample, 8 bits a channel):
//   - Per axis, scale = in / out and filterscale = max(scale, 1); the triangle
//     filter's support (1) is widened to support = filterscale, which is what
//     makes a downscale antialiased.
//   - Output pixel i is centred at (i + 0.5) * scale; it reads input pixels
//     [(int)(center - support + 0.5), (int)(center + support + 0.5)) clamped to
//     the image, each weighted tri((j - center + 0.5) / filterscale), the
//     weights divided by their sum, then rounded to fixed point with 22
//     fractional bits (half away from zero).
//   - A sum starts at 1 << 21 (so the final >> 22 rounds), and is clipped to
//     0..255. The horizontal pass runs first, only over the input rows the
//     vertical pass will read, and its output is rounded to uint8; a pass whose
//     size does not change is skipped.
// Every double operation below is done in Pillow's order, because the
// coefficients must round to the same integers. That also needs IEEE double
// without contraction into FMA: -std=c11 (not gnu11) keeps GCC from fusing.
//
// Our changes are layout only, never arithmetic: each output's taps are
// padded with zero weights to one count per table (the window slid left where
// it would run off the image), so the loops have no per-pixel bounds - adding
// pixel * 0 changes no sum - and the sums are 32-bit integers, so however the
// compiler vectorises or reorders them the bytes stay Pillow's.
// Limits: see image_resize.h.

#include "image_resize.h"

#include "errmsg.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

// ---------------------------------------------------------------------------
// Coefficient tables

#define PRECISION_BITS 22
#define HALF (1 << (PRECISION_BITS - 1))

struct resize_axis {
    int in_size, out_size;
    int taps;        // weights per output, the same for every output
    int *start;      // [out_size] first input index read; start + taps <= in_size
    int32_t *coef;   // [out_size * taps] fixed-point weights
};

static double triangle(double x) {
    if (x < 0.0) x = -x;
    return x < 1.0 ? 1.0 - x : 0.0;
}

// Pillow's rounding to fixed point: half away from zero, then truncation.
static int32_t to_fixed(double k) {
    return k < 0 ? (int32_t)(-0.5 + k * (1 << PRECISION_BITS)) : (int32_t)(0.5 + k * (1 << PRECISION_BITS));
}

static void axis_bounds(int in_size, int i, double scale, double support, double *center, int *lo, int *n) {
    // in0 = 0, so Pillow's in0 + (i + 0.5) * scale is just this.
    *center = (i + 0.5) * scale;
    int xmin = (int)(*center - support + 0.5);
    if (xmin < 0) xmin = 0;
    int xmax = (int)(*center + support + 0.5);
    if (xmax > in_size) xmax = in_size;
    *lo = xmin;
    *n = xmax - xmin;
}

static resize_axis *axis_build(int in_size, int out_size) {
    // Pillow computes (double)((float)in - (float)0) / out: the same number
    // for sides below 2^24.
    double scale = (double)in_size / out_size;
    double filterscale = scale < 1.0 ? 1.0 : scale;
    double support = 1.0 * filterscale;
    double ss = 1.0 / filterscale;

    // First pass: the widest window decides the padded tap count.
    int taps = 1;
    for (int i = 0; i < out_size; i++) {
        double center;
        int lo, n;
        axis_bounds(in_size, i, scale, support, &center, &lo, &n);
        if (n > taps) taps = n;
    }

    size_t n_coef = (size_t)out_size * taps;
    resize_axis *a = malloc(sizeof *a + sizeof(int) * (size_t)out_size + sizeof(int32_t) * n_coef);
    double *w = malloc(sizeof(double) * (size_t)taps);
    if (!a || !w) {
        free(a);
        free(w);
        return NULL;
    }
    a->in_size = in_size;
    a->out_size = out_size;
    a->taps = taps;
    a->start = (int *)(a + 1);
    a->coef = (int32_t *)(a->start + out_size);

    for (int i = 0; i < out_size; i++) {
        double center;
        int lo, n;
        axis_bounds(in_size, i, scale, support, &center, &lo, &n);
        double ww = 0.0;
        for (int j = 0; j < n; j++) {
            w[j] = triangle((j + lo - center + 0.5) * ss);
            ww += w[j];
        }
        for (int j = 0; j < n; j++)
            if (ww != 0.0) w[j] /= ww;

        // Slide the window left where the padded taps would pass the last
        // pixel; the weights move right by as much, zeros in front.
        int first = lo + taps > in_size ? in_size - taps : lo;
        int shift = lo - first;
        int32_t *k = a->coef + (size_t)i * taps;
        for (int j = 0; j < taps; j++) k[j] = 0;
        for (int j = 0; j < n; j++) k[j + shift] = to_fixed(w[j]);
        a->start[i] = first;
    }
    free(w);
    return a;
}

// The table for (in_size -> out_size), from the cache or built and cached.
static const resize_axis *axis_get(resize_scratch *s, int in_size, int out_size) {
    for (int i = 0; i < s->n_cached; i++) {
        resize_axis *a = s->cache[i];
        if (a->in_size == in_size && a->out_size == out_size) {
            // Move to front so the least recently used one is evicted first.
            memmove(&s->cache[1], &s->cache[0], sizeof s->cache[0] * (size_t)i);
            s->cache[0] = a;
            return a;
        }
    }
    // A miss evicts the last entry; the table just returned for the other
    // axis sits at the front, so it survives this call.
    resize_axis *a = axis_build(in_size, out_size);
    if (!a) return NULL;
    if (s->n_cached == RESIZE_CACHE_SLOTS) free(s->cache[--s->n_cached]);
    memmove(&s->cache[1], &s->cache[0], sizeof s->cache[0] * (size_t)s->n_cached);
    s->cache[0] = a;
    s->n_cached++;
    return a;
}

// ---------------------------------------------------------------------------
// Passes

// Bilinear sums are never negative and stay below 256 << 22, but clamp as
// Pillow does rather than lean on that; min/max compile to no branches.
static inline uint8_t clip8(int32_t v) {
    v >>= PRECISION_BITS;
    v = v < 0 ? 0 : v;
    return (uint8_t)(v > 255 ? 255 : v);
}

// The kernels below are written once and compiled twice: for the baseline
// ISA and, on x86 with GCC or Clang, for AVX2, picked at run time. Both give
// the same bytes - integer sums do not care how they are vectorised - but
// SSE2 has no 32-bit multiply, so only AVX2 (or NEON) makes the lanes pay.
// The attribute is the one non-standard piece; other compilers get plain C.
#if defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__))
#define RESIZE_AVX2 1
#endif
#define KERNEL static inline __attribute__((always_inline))

// The horizontal pass takes HROWS rows at once. Their pixels are first
// interleaved as q[column][row][4] (RGB plus a spare byte), so that one tap
// is a single HLANES-wide multiply-add for all of them - the shape a compiler
// vectorises; the spare lanes are computed and thrown away. Eight rows fill
// AVX2's 32 byte lanes: four ran a quarter slower, sixteen ran out of
// registers (dvc-mini photos to 224x224).
#define HROWS 8
#define HLANES (HROWS * 4)

// Columns c0..c1-1 of `rows` into q.
KERNEL void hgroup_interleave(const uint8_t *const rows[HROWS], int c0, int c1, uint8_t *restrict q) {
    int m = c1 - c0 - 1;
    for (int r = 0; r < HROWS; r++) {
        const uint8_t *p = rows[r] + (size_t)c0 * 3;
        uint8_t *d = q + 4 * r;
        // 4-byte copies (the next pixel's red rides along into the spare
        // byte), except the last pixel, whose next byte may not exist.
        for (int x = 0; x < m; x++) memcpy(d + (size_t)x * HLANES, p + (size_t)x * 3, 4);
        memcpy(d + (size_t)m * HLANES, p + (size_t)m * 3, 3);
        d[(size_t)m * HLANES + 3] = 0;
    }
}

// Output pixel x of the group: v[4 * r + channel] for row r.
KERNEL void hgroup_pixel(const uint8_t *restrict q, const int *restrict start, const int32_t *restrict coef, int taps,
                         int c0, int x, uint8_t v[HLANES]) {
    const uint8_t *restrict p = q + (size_t)(start[x] - c0) * HLANES;
    const int32_t *restrict k = coef + (size_t)x * taps;
    int32_t acc[HLANES];
    for (int i = 0; i < HLANES; i++) acc[i] = HALF;
    for (int t = 0; t < taps; t++) {
        int32_t c = k[t];
        for (int i = 0; i < HLANES; i++) acc[i] += p[HLANES * t + i] * c;
    }
    for (int i = 0; i < HLANES; i++) v[i] = clip8(acc[i]);
}

// All n output pixels of the group's rows.
KERNEL void hgroup_taps(const uint8_t *restrict q, uint8_t *const out[HROWS], const int *restrict start,
                        const int32_t *restrict coef, int n, int taps, int c0) {
    uint8_t v[HLANES];
    int x = 0;
    // 4-byte stores: the spare byte lands on the next pixel's red, which the
    // next x overwrites; the last pixel of a row gets exactly 3.
    for (; x < n - 1; x++) {
        hgroup_pixel(q, start, coef, taps, c0, x, v);
        for (int r = 0; r < HROWS; r++) memcpy(out[r] + (size_t)x * 3, v + 4 * r, 4);
    }
    hgroup_pixel(q, start, coef, taps, c0, x, v);
    for (int r = 0; r < HROWS; r++) memcpy(out[r] + (size_t)x * 3, v + 4 * r, 3);
}

// `rows` input rows -> `rows` output rows of n pixels, using table entries
// start/coef (already offset to the first output column wanted). q holds
// HLANES bytes per input column read.
KERNEL void hpass(const uint8_t *in, size_t in_stride, uint8_t *out, size_t out_stride, int rows, const int *start,
                  const int32_t *coef, int n, int taps, uint8_t *q) {
    int c0 = start[0], c1 = start[n - 1] + taps;
    for (int y = 0; y < rows; y += HROWS) {
        // A last group of fewer rows repeats its last row: the copies compute
        // and store that row's own values again, which is harmless.
        int nrows = rows - y < HROWS ? rows - y : HROWS;
        const uint8_t *src[HROWS];
        uint8_t *dst[HROWS];
        for (int r = 0; r < HROWS; r++) {
            int rr = r < nrows ? r : nrows - 1;
            src[r] = in + (size_t)(y + rr) * in_stride;
            dst[r] = out + (size_t)(y + rr) * out_stride;
        }
        hgroup_interleave(src, c0, c1, q);
        // A constant tap count lets the tap loop unroll; photos need 2 to 5.
        switch (taps) {
        case 2: hgroup_taps(q, dst, start, coef, n, 2, c0); break;
        case 3: hgroup_taps(q, dst, start, coef, n, 3, c0); break;
        case 4: hgroup_taps(q, dst, start, coef, n, 4, c0); break;
        case 5: hgroup_taps(q, dst, start, coef, n, 5, c0); break;
        default: hgroup_taps(q, dst, start, coef, n, taps, c0); break;
        }
    }
}

// One output row, vertically: out[j] = sum_t in[(first + t) row][j] * k[t],
// over n bytes (channels need no distinction here). Blocks of a fixed width
// let GCC vectorise at -O2 (its cheap cost model wants known trip counts);
// the accumulators stay in registers across the taps.
#define VBLOCK 32
KERNEL void vpass_row(const uint8_t *in, size_t in_stride, const int32_t *restrict k, int taps, uint8_t *restrict out,
                      int n) {
    int j = 0;
    for (; j + VBLOCK <= n; j += VBLOCK) {
        int32_t acc[VBLOCK];
        for (int i = 0; i < VBLOCK; i++) acc[i] = HALF;
        for (int t = 0; t < taps; t++) {
            const uint8_t *restrict r = in + (size_t)t * in_stride + j;
            int32_t c = k[t];
            for (int i = 0; i < VBLOCK; i++) acc[i] += r[i] * c;
        }
        for (int i = 0; i < VBLOCK; i++) out[j + i] = clip8(acc[i]);
    }
    for (; j < n; j++) {
        int32_t acc = HALF;
        for (int t = 0; t < taps; t++) acc += in[(size_t)t * in_stride + j] * k[t];
        out[j] = clip8(acc);
    }
}

// Everything one resize does once the tables and buffers are ready.
typedef struct {
    const uint8_t *src;   // source row row0, column 0
    size_t src_stride;
    const resize_axis *ax, *ay;   // NULL where that pass is skipped
    resize_rect r;                // output window
    int row0, row1;               // source rows read
    uint8_t *tmp, *q;             // scratch: intermediate image, interleaved rows
    uint8_t *dst;
    size_t dst_stride;
} job_t;

KERNEL void run_job(const job_t *j) {
    const resize_rect r = j->r;
    // What the vertical pass reads, from source row row0 on.
    const uint8_t *mid = j->src + (size_t)r.x * 3;
    size_t mid_stride = j->src_stride;
    if (j->ax) {
        const int *start = j->ax->start + r.x;
        const int32_t *coef = j->ax->coef + (size_t)r.x * j->ax->taps;
        if (!j->ay) {   // no vertical pass: straight into dst
            hpass(j->src, j->src_stride, j->dst, j->dst_stride, r.h, start, coef, r.w, j->ax->taps, j->q);
            return;
        }
        mid_stride = (size_t)r.w * 3;
        hpass(j->src, j->src_stride, j->tmp, mid_stride, j->row1 - j->row0, start, coef, r.w, j->ax->taps, j->q);
        mid = j->tmp;
    }
    if (!j->ay) {
        for (int y = 0; y < r.h; y++)
            memcpy(j->dst + (size_t)y * j->dst_stride, mid + (size_t)y * mid_stride, (size_t)r.w * 3);
        return;
    }
    const resize_axis *ay = j->ay;
    for (int y = 0; y < r.h; y++) {
        int yy = r.y + y;
        vpass_row(mid + (size_t)(ay->start[yy] - j->row0) * mid_stride, mid_stride, ay->coef + (size_t)yy * ay->taps,
                  ay->taps, j->dst + (size_t)y * j->dst_stride, r.w * 3);
    }
}

static void run_job_plain(const job_t *j) { run_job(j); }

#ifdef RESIZE_AVX2
__attribute__((target("avx2"))) static void run_job_avx2(const job_t *j) { run_job(j); }
#endif

// ---------------------------------------------------------------------------
// Public

void resize_scratch_init(resize_scratch *s) { memset(s, 0, sizeof *s); }

void resize_scratch_free(resize_scratch *s) {
    if (!s) return;
    for (int i = 0; i < s->n_cached; i++) free(s->cache[i]);
    free(s->tmp);
    free(s->group);
    resize_scratch_init(s);
}

static int grow(uint8_t **buf, size_t *cap, size_t need) {
    if (need <= *cap) return 0;
    uint8_t *p = realloc(*buf, need);
    if (!p) return -1;
    *buf = p;
    *cap = need;
    return 0;
}

int resize_rgb8(const uint8_t *src, int w, int h, size_t src_stride, int out_w, int out_h, const resize_rect *win,
                uint8_t *dst, size_t dst_stride, int fast, resize_scratch *s, char *err, size_t errlen) {
    (void)fast;   // exact either way: see image_resize.h
    if (!src || !dst || !s) {
        errmsg_set(err, errlen, "resize: NULL image, output or scratch");
        return -1;
    }
    if (w < 1 || h < 1 || w > RESIZE_MAX_SIDE || h > RESIZE_MAX_SIDE) {
        errmsg_set(err, errlen, "resize: input size %dx%d outside 1..%d", w, h, RESIZE_MAX_SIDE);
        return -1;
    }
    if (out_w < 1 || out_h < 1 || out_w > RESIZE_MAX_OUT || out_h > RESIZE_MAX_OUT) {
        errmsg_set(err, errlen, "resize: output size %dx%d outside 1..%d", out_w, out_h, RESIZE_MAX_OUT);
        return -1;
    }
    resize_rect all = {0, 0, out_w, out_h};
    const resize_rect r = win ? *win : all;
    if (r.w < 1 || r.h < 1 || r.x < 0 || r.y < 0 || r.x > out_w - r.w || r.y > out_h - r.h) {
        errmsg_set(err, errlen, "resize: window %dx%d at (%d,%d) not inside the %dx%d output", r.w, r.h, r.x, r.y,
                   out_w, out_h);
        return -1;
    }
    if (src_stride == 0) src_stride = (size_t)w * 3;
    if (dst_stride == 0) dst_stride = (size_t)r.w * 3;
    if (src_stride < (size_t)w * 3 || dst_stride < (size_t)r.w * 3) {
        errmsg_set(err, errlen, "resize: row stride shorter than a row");
        return -1;
    }

    int need_h = out_w != w, need_v = out_h != h;
    const resize_axis *ax = need_h ? axis_get(s, w, out_w) : NULL;
    const resize_axis *ay = need_v ? axis_get(s, h, out_h) : NULL;
    if ((need_h && !ax) || (need_v && !ay)) {
        errmsg_set(err, errlen, "resize: out of memory for coefficient tables");
        return -1;
    }

    // Input rows the vertical pass reads for output rows r.y..r.y+r.h-1
    // (all of them, one per output row, when there is no vertical pass).
    int row0 = need_v ? ay->start[r.y] : r.y;
    int row1 = need_v ? ay->start[r.y + r.h - 1] + ay->taps : r.y + r.h;

    job_t job = {
        .src = src + (size_t)row0 * src_stride,
        .src_stride = src_stride,
        .ax = ax,
        .ay = ay,
        .r = r,
        .row0 = row0,
        .row1 = row1,
        .dst = dst,
        .dst_stride = dst_stride,
    };
    if (need_h) {
        int c0 = ax->start[r.x], c1 = ax->start[r.x + r.w - 1] + ax->taps;
        size_t rows = need_v ? (size_t)(row1 - row0) : 0;
        if (rows && (size_t)r.w * 3 > SIZE_MAX / rows) {
            errmsg_set(err, errlen, "resize: a %dx%d intermediate does not fit in memory", r.w, row1 - row0);
            return -1;
        }
        size_t tmp_need = (size_t)r.w * 3 * rows;
        if (grow(&s->tmp, &s->tmp_cap, tmp_need) || grow(&s->group, &s->group_cap, (size_t)(c1 - c0) * HLANES)) {
            errmsg_set(err, errlen, "resize: out of memory for a %dx%d intermediate", r.w, row1 - row0);
            return -1;
        }
        job.tmp = s->tmp;
        job.q = s->group;
    }
#ifdef RESIZE_AVX2
    if (!s->plain && __builtin_cpu_supports("avx2")) {
        run_job_avx2(&job);
        return 0;
    }
#endif
    run_job_plain(&job);
    return 0;
}
