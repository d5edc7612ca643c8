// lr_find.c — see lr_find.h.
#include "lr_find.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "errmsg.h"

void lr_find_opts_default(lr_find_opts *o) {
    *o = (lr_find_opts){.start_lr = 1e-7, .end_lr = 10, .steps = 100, .beta = 0.98, .diverge = 4, .min_steps = 10};
}

double lr_find_lr(const lr_find_opts *o, int i) {
    if (i <= 0 || o->steps < 2) return o->start_lr;
    if (i >= o->steps - 1) return o->end_lr;   // exactly, not through pow's rounding
    return o->start_lr * pow(o->end_lr / o->start_lr, (double)i / (o->steps - 1));
}

// ---------------------------------------------------------------------------------------------
// the running curve

void lr_find_curve_init(lr_find_curve *c, const lr_find_opts *o) {
    memset(c, 0, sizeof *c);
    if (o)
        c->opts = *o;
    else
        lr_find_opts_default(&c->opts);
    c->best = INFINITY;
    c->state = LR_FIND_RUNNING;
}

void lr_find_curve_free(lr_find_curve *c) {
    if (!c) return;
    free(c->lr);
    free(c->loss);
    free(c->smooth);
    lr_find_opts o = c->opts;
    lr_find_curve_init(c, &o);
}

static int curve_grow(lr_find_curve *c) {
    size_t cap = c->cap ? 2 * c->cap : 128;
    double **arrays[] = {&c->lr, &c->loss, &c->smooth};
    for (int k = 0; k < 3; k++) {
        double *p = realloc(*arrays[k], cap * sizeof *p);
        if (!p) return -1;   // those grown so far hold the same points: cap, the smallest, stays right
        *arrays[k] = p;
    }
    c->cap = cap;
    return 0;
}

int lr_find_curve_add(lr_find_curve *c, double lr, double loss) {
    if (c->state != LR_FIND_RUNNING) return 0;
    if (!isfinite(loss)) {
        c->state = LR_FIND_NONFINITE;
        return 0;
    }
    if (c->n == c->cap && curve_grow(c) < 0) return -1;
    double beta = c->opts.beta;
    c->avg = beta * c->avg + (1 - beta) * loss;
    double s = c->avg / (1 - pow(beta, (double)(c->n + 1)));
    c->lr[c->n] = lr;
    c->loss[c->n] = loss;
    c->smooth[c->n] = s;
    c->n++;
    if ((int)c->n > c->opts.min_steps) {   // step min_steps on
        if (c->best > 0 && s > c->opts.diverge * c->best) {
            c->state = LR_FIND_DIVERGED;
            return 0;
        }
        if (s < c->best) c->best = s;
    }
    if (c->opts.steps > 0 && c->n >= (size_t)c->opts.steps) {
        c->state = LR_FIND_DONE;
        return 0;
    }
    return 1;
}

// ---------------------------------------------------------------------------------------------
// the suggestion

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

// The median of a[lo .. lo+len) (len <= LR_FIND_MEDIAN), a left as it is.
static double median_of(const double *a, size_t lo, size_t len) {
    double w[LR_FIND_MEDIAN];
    memcpy(w, a + lo, len * sizeof *w);
    qsort(w, len, sizeof *w, cmp_double);
    return len % 2 ? w[len / 2] : (w[len / 2 - 1] + w[len / 2]) / 2;
}

// clean[i]: the running median of loss around i, the window slid inside [0, m) at the ends.
static void running_median(const double *loss, size_t m, double *clean) {
    size_t len = m < LR_FIND_MEDIAN ? m : LR_FIND_MEDIAN, h = LR_FIND_MEDIAN / 2;
    for (size_t i = 0; i < m; i++) {
        size_t lo = i > h ? i - h : 0;
        if (lo + len > m) lo = m - len;
        clean[i] = median_of(loss, lo, len);
    }
}

// The losses' noise, as a standard deviation: from the median step between neighbours (robust to the
// spikes, and to the trend, which moves a step far less than the noise does). tmp: m - 1 doubles.
static double noise_level(const double *loss, size_t m, double *tmp) {
    for (size_t i = 0; i + 1 < m; i++) tmp[i] = fabs(loss[i + 1] - loss[i]);
    qsort(tmp, m - 1, sizeof *tmp, cmp_double);
    return tmp[(m - 1) / 2] / (0.6745 * sqrt(2.0));   // a normal's median |x| is 0.6745 sigma; a step's sigma, sqrt 2
}

// The valley: from the highest point *vs before the curve's lowest point *ve to that lowest point.
static void find_valley(const double *clean, size_t m, size_t *vs, size_t *ve) {
    size_t e = 0, s = 0;
    for (size_t i = 1; i < m; i++)
        if (clean[i] < clean[e]) e = i;
    for (size_t i = 1; i <= e; i++)
        if (clean[i] > clean[s]) s = i;
    *vs = s;
    *ve = e;
}

int lr_find_suggest(const lr_find_curve *c, double *lr, size_t *index, char *why, size_t whylen) {
    if (whylen) why[0] = 0;
    size_t m = c->n;
    if (c->state == LR_FIND_DIVERGED && m > 0) m--;   // 1. cut: the point that stopped the sweep
    if (m < LR_FIND_MIN_POINTS) {
        if (c->n > 0)
            errmsg_set(why, whylen,
                       "the sweep stopped after %zu steps (at lr %.1e): too few to suggest a learning rate", c->n,
                       c->lr[c->n - 1]);
        else
            errmsg_set(why, whylen, "no losses recorded: nothing to suggest");
        return -1;
    }
    double *clean = malloc(2 * m * sizeof *clean);
    if (!clean) {
        errmsg_set(why, whylen, "out of memory");
        return -1;
    }
    running_median(c->loss, m, clean);   // 2. clean
    double noise = noise_level(c->loss, m, clean + m);
    size_t vs, ve;
    find_valley(clean, m, &vs, &ve);   // 3. valley
    double drop = clean[vs] - clean[ve];
    if (!(drop > 0 && drop >= LR_FIND_MIN_DROP * clean[vs] && drop >= LR_FIND_MIN_NOISE * noise)) {
        errmsg_set(why, whylen,
                   "the loss never fell (by %.0f%%, above its noise) between lr %.1e and %.1e: no learning "
                   "rate to suggest",
                   100 * LR_FIND_MIN_DROP, c->lr[0], c->lr[m - 1]);
        free(clean);
        return -1;
    }
    size_t pick = vs;   // 4. pick: the first point LR_FIND_FALL of the way down
    while (pick < ve && clean[pick] > clean[vs] - LR_FIND_FALL * drop) pick++;
    free(clean);
    if (lr) *lr = c->lr[pick];
    if (index) *index = pick;
    return 0;
}
