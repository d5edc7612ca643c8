// lr_schedule.c — PyTorch 1.13's LinearLR, CosineAnnealingLR (alone or after a LinearLR warm-up) and
// OneCycleLR in closed form, as factors of the base lr; the schedule's name as text and back.
#include "lr_schedule.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "errmsg.h"

// Python's math.pi, to the last bit.
static const double lr_schedule_pi = 3.141592653589793;

void lr_schedule_default(lr_schedule *s) {
    *s = (lr_schedule){.kind = LR_CONSTANT,
                       .warmup_steps = 0,
                       .warmup_start = 0.1,
                       .min_factor = 0.0,
                       .pct_start = 0.3,
                       .div_factor = 25.0,
                       .final_div_factor = 1e4,
                       .cycle_momentum = 1,
                       .base_momentum = 0.85,
                       .max_momentum = 0.95};
}

// ---------------------------------------------------------------------------------------------
// names

static const struct {
    const char *name;
    lr_schedule_kind kind;
} lr_schedule_names[] = {
    {"constant", LR_CONSTANT},  {"cosine", LR_COSINE}, {"one-cycle", LR_ONE_CYCLE},
    {"onecycle", LR_ONE_CYCLE}, {"warmup", LR_WARMUP},
};

const char *lr_schedule_name(lr_schedule_kind k) {
    switch (k) {
    case LR_CONSTANT: return "constant";
    case LR_COSINE: return "cosine";
    case LR_ONE_CYCLE: return "one-cycle";
    case LR_WARMUP: return "warmup";
    }
    return "?";
}

// A count of warm-up steps: "epoch" (-1), or digits only, at most 18 of them (no overflow). 0 when it is one.
static int lr_schedule_steps(const char *t, long *steps) {
    size_t n = strlen(t);
    if (!strcmp(t, "epoch")) {
        *steps = -1;
        return 0;
    }
    if (n == 0 || n > 18 || strspn(t, "0123456789") != n) return -1;
    long v = 0;
    for (size_t i = 0; i < n; i++) v = v * 10 + (t[i] - '0');
    *steps = v;
    return 0;
}

int lr_schedule_parse(const char *text, lr_schedule *s, char *err, size_t errlen) {
    if (!text) text = "";
    const char *colon = strchr(text, ':');
    size_t len = colon ? (size_t)(colon - text) : strlen(text);
    const size_t count = sizeof lr_schedule_names / sizeof *lr_schedule_names;
    size_t i = 0;
    while (i < count && !(strlen(lr_schedule_names[i].name) == len && !strncmp(text, lr_schedule_names[i].name, len)))
        i++;
    if (i == count) {
        errmsg_set(err, errlen, "unknown schedule '%.*s' (constant, cosine, one-cycle, warmup)",
                   (int)(len > 40 ? 40 : len), text);
        return -1;
    }
    lr_schedule_kind kind = lr_schedule_names[i].kind;
    long steps = kind == LR_WARMUP ? -1 : 0;
    if (colon && kind != LR_COSINE && kind != LR_WARMUP) {
        errmsg_set(err, errlen, "schedule '%s' takes no warm-up steps (cosine:N and warmup:N do)",
                   lr_schedule_name(kind));
        return -1;
    }
    if (colon && lr_schedule_steps(colon + 1, &steps)) {
        errmsg_set(err, errlen, "warm-up steps '%.40s' are not a whole number (e.g. %s:100, or %s:epoch)", colon + 1,
                   lr_schedule_name(kind), lr_schedule_name(kind));
        return -1;
    }
    s->kind = kind;
    s->warmup_steps = steps;
    return 0;
}

void lr_schedule_format(const lr_schedule *s, char *out, size_t outlen) {
    const char *name = lr_schedule_name(s->kind);
    long w = s->warmup_steps, bare = s->kind == LR_WARMUP ? -1 : 0;   // what the name alone parses to
    if ((s->kind != LR_COSINE && s->kind != LR_WARMUP) || w == bare)
        snprintf(out, outlen, "%s", name);
    else if (w < 0)
        snprintf(out, outlen, "%s:epoch", name);
    else
        snprintf(out, outlen, "%s:%ld", name, w);
}

// ---------------------------------------------------------------------------------------------
// factors

// LinearLR's closed form for step < w: start_factor + (end_factor - start_factor) * step / total_iters.
static double lr_schedule_warm(const lr_schedule *s, long step, long w) {
    return s->warmup_start + (1.0 - s->warmup_start) * (double)step / (double)w;
}

// OneCycleLR's _annealing_cos, term for term: from start (pct 0) to end (pct 1).
static double lr_schedule_anneal(double start, double end, double pct) {
    return end + (start - end) / 2.0 * (cos(lr_schedule_pi * pct) + 1.0);
}

// Which of OneCycleLR's two phases step is in (0 rising, 1 falling) and how far through it, as its get_lr
// computes them: phase 0 ends at float(pct_start*total) - 1, phase 1 at total - 1. total > 0,
// 0 <= step < total.
static int lr_schedule_phase(const lr_schedule *s, long step, long total, double *pct) {
    double end0 = s->pct_start * (double)total - 1.0, x = (double)step;
    if (x <= end0) {
        *pct = end0 > 0.0 ? x / end0 : 0.0;   // PyTorch divides 0 by 0 when end0 is 0
        return 0;
    }
    *pct = (x - end0) / ((double)(total - 1) - end0);   // > 0: end0 < x <= total - 1
    return 1;
}

double lr_schedule_factor(const lr_schedule *s, long step, long total) {
    long w = s->warmup_steps > 0 ? s->warmup_steps : 0;
    if (step < 0) step = 0;
    switch (s->kind) {
    case LR_CONSTANT: return 1.0;
    case LR_WARMUP: return step < w ? lr_schedule_warm(s, step, w) : 1.0;
    case LR_COSINE: {
        if (total > 0 && step >= total) step = total - 1;
        if (step < w) return lr_schedule_warm(s, step, w);
        if (total <= 0) return 1.0;
        // CosineAnnealingLR over the steps after the warm-up, its epoch 0 at step w (SequentialLR's step(0))
        double m = s->min_factor, t = (double)(total - w), j = (double)(step - w);
        return m + (1.0 - m) * (1.0 + cos(j * lr_schedule_pi / t)) / 2.0;
    }
    case LR_ONE_CYCLE: {
        if (total <= 0) return 1.0;
        if (step >= total) step = total - 1;
        double pct, start = 1.0 / s->div_factor, end = start / s->final_div_factor;
        if (lr_schedule_phase(s, step, total, &pct) == 0) return lr_schedule_anneal(start, 1.0, pct);
        return lr_schedule_anneal(1.0, end, pct);
    }
    }
    return 1.0;
}

double lr_schedule_momentum(const lr_schedule *s, long step, long total, double fixed) {
    if (s->kind != LR_ONE_CYCLE || !s->cycle_momentum || total <= 0) return fixed;
    if (step < 0) step = 0;
    if (step >= total) step = total - 1;
    double pct;
    if (lr_schedule_phase(s, step, total, &pct) == 0) return lr_schedule_anneal(s->max_momentum, s->base_momentum, pct);
    return lr_schedule_anneal(s->base_momentum, s->max_momentum, pct);
}
