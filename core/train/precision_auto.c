// precision_auto.c — see precision_auto.h.
#include "precision_auto.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "cost.h"
#include "errmsg.h"
#include "transfer.h"

const char *precision_name(ft_precision p) {
    return p == FT_PRECISION_BF16 ? "bf16" : p == FT_PRECISION_FAST ? "fast" : "fp32";
}

static double top1_share(const precision_figure *f) {
    return f->images ? (double)f->top1_agree / (double)f->images : 0.0;
}

static int qualifies(const precision_figure *f) {
    return f->precision == FT_PRECISION_FP32 || (f->images > 0 && top1_share(f) >= PRECISION_MIN_TOP1);
}

ft_precision precision_choose(const precision_figure *f, size_t n) {
    ft_precision pick = FT_PRECISION_FP32;
    double best = -1;
    for (size_t i = 0; i < n; i++) {
        if (!qualifies(&f[i]) || !(f[i].speedup > 0)) continue;
        double v = f[i].precision == FT_PRECISION_FP32 ? 1.0 : f[i].speedup;
        if (v > best || (v == best && f[i].precision < pick)) {
            best = v;
            pick = f[i].precision;
        }
    }
    return pick;
}

// ---------------------------------------------------------------------------------------------
// agreement

static int status_fail(ft_status *s, const char *what, char *err, size_t errlen) {
    errmsg_set(err, errlen, "%s: %s", what, ft_status_message(s));
    ft_status_free(s);
    return -1;
}

// The features of n images, a batch at a time, into out (n * feat floats).
static ft_status *features_of(ft_model *m, const float *x, size_t n, int batch, int size, size_t feat, float *out) {
    size_t sample = 3 * (size_t)size * (size_t)size;
    ft_status *s = NULL;
    for (size_t done = 0; !s && done < n; done += (size_t)batch) {
        size_t k = n - done < (size_t)batch ? n - done : (size_t)batch;
        s = ft_model_features(m, x + done * sample, (int64_t)k, 3, size, size, out + done * feat, k * feat);
    }
    return s;
}

int precision_agreement(ft_model *m, const float *x, size_t n, int batch, int size, ft_precision p, precision_figure *f,
                        char *err, size_t errlen) {
    f->precision = p;
    f->images = f->top1_agree = f->features_agree = 0;
    f->max_rel_diff = f->max_abs_diff = f->max_abs_f32 = 0;
    if (batch < 1) batch = 16;
    size_t feat = (size_t)ft_model_feature_size(m), classes = (size_t)ft_model_num_classes(m);
    size_t sample = 3 * (size_t)size * (size_t)size;
    float *f32 = malloc((n ? n : 1) * feat * sizeof *f32), *fp = malloc((n ? n : 1) * feat * sizeof *fp);
    float *logits = malloc((size_t)batch * classes * sizeof *logits);
    int64_t *top1 = malloc((n ? n : 1) * sizeof *top1);
    int rc = 0;
    ft_status *s = NULL;
    if (!f32 || !fp || !logits || !top1) {
        errmsg_set(err, errlen, "out of memory comparing precisions");
        rc = -1;
    }
    // fp32: the features and the whole network's top-1 class
    if (rc == 0) s = ft_model_set_precision(m, FT_PRECISION_FP32);
    if (rc == 0 && !s) s = features_of(m, x, n, batch, size, feat, f32);
    for (size_t done = 0; rc == 0 && !s && done < n; done += (size_t)batch) {
        size_t k = n - done < (size_t)batch ? n - done : (size_t)batch;
        s = ft_model_forward(m, x + done * sample, (int64_t)k, 3, size, size, logits, k * classes);
        for (size_t i = 0; !s && i < k; i++) {
            const float *row = logits + i * classes;
            size_t best = 0;
            for (size_t c = 1; c < classes; c++)
                if (row[c] > row[best]) best = c;
            top1[done + i] = (int64_t)best;
        }
    }
    // p: its features, and the head on them against fp32's classes
    if (rc == 0 && !s) s = ft_model_set_precision(m, p);
    if (rc == 0 && !s) s = features_of(m, x, n, batch, size, feat, fp);
    if (rc == 0 && !s) s = ft_model_set_precision(m, FT_PRECISION_FP32);
    for (size_t done = 0; rc == 0 && !s && done < n; done += (size_t)batch) {
        size_t k = n - done < (size_t)batch ? n - done : (size_t)batch;
        ft_step_result r;
        s = ft_head_eval_step(m, fp + done * feat, top1 + done, (int64_t)k, &r);
        if (!s) f->top1_agree += (size_t)r.correct;
    }
    if (s) rc = status_fail(s, precision_name(p), err, errlen);
    for (size_t i = 0; rc == 0 && i < n; i++) {
        double d2 = 0, v2 = 0;
        for (size_t j = 0; j < feat; j++) {
            double a = f32[i * feat + j], d = (double)fp[i * feat + j] - a;
            d2 += d * d;
            v2 += a * a;
            if (fabs(d) > f->max_abs_diff) f->max_abs_diff = fabs(d);
            if (fabs(a) > f->max_abs_f32) f->max_abs_f32 = fabs(a);
        }
        double rel = v2 > 0 ? sqrt(d2 / v2) : sqrt(d2);
        if (rel > f->max_rel_diff) f->max_rel_diff = rel;
        if (rel <= PRECISION_FEATURE_TOL) f->features_agree++;
    }
    if (rc == 0) f->images = n;
    free(f32);
    free(fp);
    free(logits);
    free(top1);
    return rc;
}

// ---------------------------------------------------------------------------------------------
// deciding

// The network on the run's weights with torchvision's 1000-class head (its classes are what top-1
// means before the new head has learnt anything), every parameter frozen, in eval mode.
static ft_model *reference_model(const precision_auto_spec *s, const char *dev, char *err, size_t errlen) {
    ft_model *m = NULL;
    transfer_spec ts = {.arch = s->arch, .classes = 0, .weights = s->weights};
    // without weights, torchvision's initialisation from libtorch's generator seeded here: the same
    // reference each time, so the interface's suggestion and a run's pick agree (a run reseeds the
    // generator as each epoch starts: nothing it draws depends on this)
    ft_manual_seed(0);
    if (transfer_build(&ts, &m, NULL, 0, err, errlen) != 0) return NULL;
    ft_status *st = ft_model_set_trainable(m, "", 0);
    if (!st) st = ft_model_to_device(m, dev);
    if (st) {
        status_fail(st, s->arch, err, errlen);
        ft_model_free(m);
        return NULL;
    }
    ft_model_set_mode(m, 0, 1);
    return m;
}

int precision_auto_decide(const precision_auto_spec *s, precision_auto_result *r, char *err, size_t errlen) {
    memset(r, 0, sizeof *r);
    r->pick = FT_PRECISION_FP32;
    const char *dev = s->device && strcmp(s->device, "auto") != 0 ? s->device : ft_cuda_available() ? "cuda" : "cpu";
    int size = s->prep->tf.size;
    ft_precision offered[3] = {FT_PRECISION_FP32, FT_PRECISION_FAST, FT_PRECISION_BF16};
    size_t n_offered = strcmp(dev, "cpu") != 0 || ft_cpu_has_bf16() ? 3 : 2;   // the shim knows the CPU

    // speeds: the calibration's, measured once per architecture, size, device and thread count
    double t0 = clock_seconds();
    cost_speed sp[3];
    for (size_t k = 0; k < n_offered; k++) {
        int measured = 0;
        if (cost_calibrate_precision(s->arch, size, dev, offered[k], &sp[k], &measured, err, errlen) != 0) return -1;
        r->measured |= measured;
        r->fig[k].precision = offered[k];
        r->fig[k].speedup = sp[0].forward / sp[k].forward;
    }
    r->n = n_offered;
    r->speed_seconds = clock_seconds() - t0;

    // agreement on the user's images
    t0 = clock_seconds();
    float *x = NULL;
    size_t n = 0;
    const dataset_split *splits[1] = {s->split};
    char why[768];
    if (pipeline_read_images(splits, 1, s->prep, s->batch, PRECISION_AUTO_IMAGES, &x, &n, why, sizeof why) != 0) {
        errmsg_set(err, errlen, "the %s images: %s", s->split->name, why);
        return -1;
    }
    ft_model *m = reference_model(s, dev, err, errlen);
    int rc = m ? 0 : -1;
    r->fig[0].images = r->fig[0].top1_agree = r->fig[0].features_agree = n;   // fp32 is the reference
    for (size_t k = 1; rc == 0 && k < n_offered; k++) {
        double speedup = r->fig[k].speedup;
        rc = precision_agreement(m, x, n, s->batch, size, offered[k], &r->fig[k], err, errlen);
        r->fig[k].speedup = speedup;
    }
    ft_model_free(m);
    free(x);
    r->agree_seconds = clock_seconds() - t0;
    if (rc == 0) r->pick = precision_choose(r->fig, r->n);
    return rc;
}

// ---------------------------------------------------------------------------------------------
// saying it

static const precision_figure *figure_of(const precision_auto_result *r, ft_precision p) {
    for (size_t i = 0; i < r->n; i++)
        if (r->fig[i].precision == p) return &r->fig[i];
    return NULL;
}

// The fastest figure other than the pick (what was passed over), or NULL.
static const precision_figure *fastest_other(const precision_auto_result *r) {
    const precision_figure *best = NULL;
    for (size_t i = 0; i < r->n; i++)
        if (r->fig[i].precision != r->pick && (!best || r->fig[i].speedup > best->speedup)) best = &r->fig[i];
    return best;
}

void precision_auto_summary(const precision_auto_result *r, char *buf, size_t len) {
    const precision_figure *f = figure_of(r, r->pick), *o = fastest_other(r);
    if (f && r->pick != FT_PRECISION_FP32)
        snprintf(buf, len, "%s: %.1fx faster here, top-1 unchanged on %.1f%%", precision_name(r->pick), f->speedup,
                 100.0 * top1_share(f));
    else if (o && o->speedup > 1.0)
        snprintf(buf, len, "fp32: %s %.1fx faster here but top-1 unchanged on only %.1f%%",
                 precision_name(o->precision), o->speedup, 100.0 * top1_share(o));
    else
        snprintf(buf, len, "fp32: nothing faster here");
}

void precision_auto_line(const precision_auto_result *r, char *buf, size_t len) {
    char sum[256];
    precision_auto_summary(r, sum, sizeof sum);
    size_t used = (size_t)snprintf(buf, len,
                                   "--precision auto: %s (the fastest keeping top-1 on %.0f%% of %zu images; "
                                   "measured here:",
                                   sum, 100.0 * PRECISION_MIN_TOP1, r->n ? r->fig[0].images : 0);
    for (size_t i = 0; i < r->n && used < len; i++) {
        const precision_figure *f = &r->fig[i];
        used += (size_t)snprintf(buf + used, len - used, "%s %s %.2fx, top-1 %.1f%%, features %.1f%%", i ? ";" : "",
                                 precision_name(f->precision), f->speedup, 100.0 * top1_share(f),
                                 f->images ? 100.0 * (double)f->features_agree / (double)f->images : 0.0);
    }
    if (used < len) snprintf(buf + used, len - used, "%s)", r->n < 3 ? "; bf16 not offered: no bf16 instructions" : "");
}
