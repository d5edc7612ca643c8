// test_lr_find.c — core/lr_find on a problem whose good learning rates are known: stochastic gradient
// descent on f(w) = a/2 w^2, trained here one step per learning rate as the finder would. One step at
// lr multiplies w by (1 - lr a): the loss falls fastest at lr = 1/a, and diverges past 2/a. The good
// range here is [0.05/a, 1/a]: a step removes at least 10% of the loss ((1 - 0.05)^2 < 0.9) and does
// not overshoot the minimum. The suggestion must land in it: on a clean run, with a spike in the first
// steps (where the naive "steepest step" pick does not), with a run that diverges or turns to NaN.
// Also the sweep's learning rates, the smoothing, when the sweep stops, and the refusals.
#include <criterion/criterion.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "lr_find.h"

TestSuite(lr_find);

// ---------------------------------------------------------------------------------------------
// the problem

#define QA 4.0   // the curvature a: good learning rates [0.0125, 0.25], divergence past 0.5
#define GOOD_LO (0.05 / QA)
#define GOOD_HI (1.0 / QA)
#define FLOOR_LOSS 0.1    // the loss no step removes (a cross-entropy's floor)
#define GRAD_NOISE 0.3    // the mini-batch gradient's noise
#define LOSS_NOISE 0.05   // the mini-batch loss's, relative

// splitmix64 and Box-Muller: the same noise on every machine
typedef struct {
    uint64_t s;
} lrf_rng;

static double lrf_uniform(lrf_rng *r) {
    uint64_t z = (r->s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    z ^= z >> 31;
    return ((z >> 11) + 0.5) * 0x1.0p-53;   // in (0, 1)
}

static double lrf_gauss(lrf_rng *r) {
    double u = lrf_uniform(r), v = lrf_uniform(r);
    return sqrt(-2 * log(u)) * cos(6.283185307179586 * v);
}

typedef struct {
    int spike_steps;      // the first steps' losses are this many times ...
    double spike;         // ... multiplied by this
    double nan_above;     // a loss above this comes back NaN (0: never)
    double inf_instead;   // ... and inf when this is set
    double diverge;       // the finder's (0: its default)
} lrf_run;

// Trains w from 1 one step per learning rate of the sweep until the finder says stop. c is set up here.
static void lrf_train(lr_find_curve *c, const lrf_run *run, uint64_t seed) {
    lr_find_opts o;
    lr_find_opts_default(&o);
    if (run->diverge > 0) o.diverge = run->diverge;
    lr_find_curve_init(c, &o);
    lrf_rng r = {seed};
    double w = 1;
    for (int i = 0;; i++) {
        double lr = lr_find_lr(&o, i);
        w -= lr * (QA * w + GRAD_NOISE * lrf_gauss(&r));
        double loss = (QA / 2 * w * w + FLOOR_LOSS) * (1 + LOSS_NOISE * lrf_gauss(&r));
        if (i < run->spike_steps) loss *= run->spike;
        if (run->nan_above > 0 && loss > run->nan_above) loss = run->inf_instead ? INFINITY : NAN;
        int rc = lr_find_curve_add(c, lr, loss);
        cr_assert_neq(rc, -1);
        if (rc == 0) break;
    }
}

static double lrf_suggest(const lr_find_curve *c) {
    double lr = NAN;
    size_t index = 0;
    char why[200];
    cr_assert_eq(lr_find_suggest(c, &lr, &index, why, sizeof why), 0, "%s", why);
    cr_assert_lt(index, c->n);
    cr_assert_eq(lr, c->lr[index]);
    return lr;
}

// The naive pick: the steepest step of a curve on d loss / d log lr, from point skip on.
static double lrf_steepest(const lr_find_curve *c, const double *y, size_t skip) {
    size_t best = skip;
    double slope = INFINITY;
    for (size_t i = skip; i + 1 < c->n; i++) {
        double s = (y[i + 1] - y[i]) / (log(c->lr[i + 1]) - log(c->lr[i]));
        if (s < slope) slope = s, best = i;
    }
    return c->lr[best];
}

// ---------------------------------------------------------------------------------------------
// the sweep and the curve

Test(lr_find, defaults_and_exponential_sweep) {
    lr_find_opts o;
    lr_find_opts_default(&o);
    cr_assert_eq(o.start_lr, 1e-7);
    cr_assert_eq(o.end_lr, 10);
    cr_assert_eq(o.steps, 100);
    cr_assert_eq(o.beta, 0.98);
    cr_assert_eq(o.diverge, 4);
    cr_assert_eq(o.min_steps, 10);
    cr_assert_eq(lr_find_lr(&o, 0), 1e-7);   // exactly
    cr_assert_eq(lr_find_lr(&o, 99), 10);
    double ratio = pow(1e8, 1.0 / 99);
    for (int i = 1; i < o.steps; i++) {
        double q = lr_find_lr(&o, i) / lr_find_lr(&o, i - 1);
        cr_assert(fabs(q / ratio - 1) < 1e-12, "step %d: ratio %.17g, not %.17g", i, q, ratio);
    }
    cr_assert(fabs(lr_find_lr(&o, 33) / (1e-7 * pow(1e8, 33.0 / 99)) - 1) < 1e-14);
    o = (lr_find_opts){.start_lr = 1e-5, .end_lr = 1e-1, .steps = 5};   // one point a decade
    for (int i = 0; i < 5; i++) cr_assert(fabs(lr_find_lr(&o, i) / pow(10, i - 5) - 1) < 1e-14, "%d", i);
    cr_assert_eq(lr_find_lr(&o, 4), 1e-1);
}

Test(lr_find, smoothing_is_debiased) {
    lr_find_curve c;
    lr_find_curve_init(&c, NULL);
    for (int i = 0; i < 50; i++) cr_assert_eq(lr_find_curve_add(&c, lr_find_lr(&c.opts, i), 2.5), 1);
    for (size_t i = 0; i < c.n; i++) cr_assert(fabs(c.smooth[i] - 2.5) < 1e-12, "%zu: %g", i, c.smooth[i]);
    lr_find_curve_free(&c);
    lr_find_curve_init(&c, NULL);   // two losses: (0.98 * 0.02 * 1 + 0.02 * 3) / (1 - 0.98^2)
    lr_find_curve_add(&c, 1e-7, 1);
    lr_find_curve_add(&c, 2e-7, 3);
    cr_assert_eq(c.smooth[0], 1);
    cr_assert(fabs(c.smooth[1] - (0.98 * 0.02 + 0.06) / (1 - 0.98 * 0.98)) < 1e-12);
    lr_find_curve_free(&c);
}

Test(lr_find, stops) {
    lr_find_opts o;
    lr_find_opts_default(&o);
    o.steps = 30;
    lr_find_curve c;
    lr_find_curve_init(&c, &o);
    // the last step: done
    for (int i = 0; i < 29; i++) cr_assert_eq(lr_find_curve_add(&c, lr_find_lr(&o, i), 1), 1);
    cr_assert_eq(lr_find_curve_add(&c, lr_find_lr(&o, 29), 1), 0);
    cr_assert_eq(c.state, LR_FIND_DONE);
    cr_assert_eq(lr_find_curve_add(&c, 1, 1), 0);   // later calls change nothing
    cr_assert_eq(c.n, 30);
    lr_find_curve_free(&c);

    // the average passing 4 x its best stops it, at the point that passed
    lr_find_curve_init(&c, &o);
    int rc = 1, i = 0;
    while (rc == 1 && i < 30) rc = lr_find_curve_add(&c, lr_find_lr(&o, i), i < 15 ? 1 : 100), i++;
    cr_assert_eq(rc, 0);
    cr_assert_eq(c.state, LR_FIND_DIVERGED);
    cr_assert(fabs(c.best - 1) < 1e-12);
    cr_assert_gt(c.smooth[c.n - 1], 4);
    cr_assert_leq(c.smooth[c.n - 2], 4);
    lr_find_curve_free(&c);

    // a spike before min_steps (1000 x the loss at step 3) neither stops it at step min_steps, when the
    // average still holds much of the spike, nor later
    o.steps = 100;
    lr_find_curve_init(&c, &o);
    for (i = 0; i < 99; i++) cr_assert_eq(lr_find_curve_add(&c, lr_find_lr(&o, i), i == 3 ? 1000 : 1), 1, "%d", i);
    cr_assert_gt(c.smooth[10], 40);
    cr_assert_eq(c.state, LR_FIND_RUNNING);
    lr_find_curve_free(&c);

    // NaN and inf stop it and are not recorded
    double bad[] = {NAN, INFINITY, -INFINITY};
    for (int k = 0; k < 3; k++) {
        lr_find_curve_init(&c, &o);
        cr_assert_eq(lr_find_curve_add(&c, 1e-7, 1), 1);
        cr_assert_eq(lr_find_curve_add(&c, 2e-7, bad[k]), 0);
        cr_assert_eq(c.state, LR_FIND_NONFINITE);
        cr_assert_eq(c.n, 1);
        lr_find_curve_free(&c);
    }
    lr_find_curve_free(&c);   // twice: fine
    lr_find_curve_free(NULL);
}

Test(lr_find, grows_past_its_first_allocation) {
    lr_find_opts o;
    lr_find_opts_default(&o);
    o.steps = 1000;
    lr_find_curve c;
    lr_find_curve_init(&c, &o);
    for (int i = 0; i < 1000; i++) lr_find_curve_add(&c, lr_find_lr(&o, i), 1 + 1.0 / (i + 1));
    cr_assert_eq(c.n, 1000);
    cr_assert_eq(c.lr[999], o.end_lr);
    cr_assert_eq(c.loss[999], 1 + 1.0 / 1000);
    lr_find_curve_free(&c);
}

// ---------------------------------------------------------------------------------------------
// the suggestion

Test(lr_find, suggestion_in_the_good_range) {
    lrf_run run = {0};
    for (uint64_t seed = 1; seed <= 40; seed++) {
        lr_find_curve c;
        lrf_train(&c, &run, seed);
        cr_assert_eq(c.state, LR_FIND_DIVERGED, "seed %d: the loss explodes past 2/a", (int)seed);
        double lr = lrf_suggest(&c);
        cr_assert(lr >= GOOD_LO && lr <= GOOD_HI, "seed %d: %g not in [%g, %g]", (int)seed, lr, GOOD_LO, GOOD_HI);
        lr_find_curve_free(&c);
    }
}

// Losses ten times too large in the first three steps (a new head's first batches). The naive pick, the steepest
// step of the raw curve, is the step right after the spike: lr 1.7e-7, five decades below the good
// range. The average is no better, even skipping the first 10 points as Lightning does: it still
// carries the spike there and falls fastest while forgetting it.
Test(lr_find, suggestion_survives_an_early_spike) {
    lrf_run run = {.spike_steps = 3, .spike = 10};
    for (uint64_t seed = 1; seed <= 40; seed++) {
        lr_find_curve c;
        lrf_train(&c, &run, seed);
        double lr = lrf_suggest(&c);
        cr_assert(lr >= GOOD_LO && lr <= GOOD_HI, "seed %d: %g not in [%g, %g]", (int)seed, lr, GOOD_LO, GOOD_HI);
        double naive = lrf_steepest(&c, c.loss, 0);
        cr_assert_eq(naive, c.lr[2], "seed %d: the naive pick %g", (int)seed, naive);
        cr_assert_lt(naive, GOOD_LO / 1000);
        double averaged = lrf_steepest(&c, c.smooth, 10);
        cr_assert_lt(averaged, GOOD_LO, "seed %d: the average's pick %g", (int)seed, averaged);
        lr_find_curve_free(&c);
    }
}

// The sweep runs past 2/a, where each step multiplies w by more than 1: with the default check it stops
// on the average passing 4 x its best; with the check off, on the first NaN (or inf) loss.
Test(lr_find, suggestion_survives_divergence) {
    lrf_run runs[] = {
        {0},
        {.nan_above = 1e3, .diverge = 1e30},
        {.nan_above = 1e3, .inf_instead = 1, .diverge = 1e30},
        {.spike_steps = 3, .spike = 10, .nan_above = 1e3, .diverge = 1e30},
    };
    for (size_t k = 0; k < sizeof runs / sizeof runs[0]; k++) {
        lr_find_curve c;
        lrf_train(&c, &runs[k], 7 + k);
        cr_assert_eq(c.state, runs[k].nan_above > 0 ? LR_FIND_NONFINITE : LR_FIND_DIVERGED, "run %zu", k);
        cr_assert_lt(c.n, 100, "run %zu: it stopped before the sweep's end", k);
        cr_assert_gt(c.lr[c.n - 1], 2 / QA, "run %zu: and not before the loss exploded", k);
        for (size_t i = 0; i < c.n; i++) cr_assert(isfinite(c.loss[i]));
        if (runs[k].nan_above > 0) cr_assert_gt(c.loss[c.n - 1], 10, "run %zu: exploding losses are kept", k);
        double lr = lrf_suggest(&c);
        cr_assert(lr >= GOOD_LO && lr <= GOOD_HI, "run %zu: %g not in [%g, %g]", k, lr, GOOD_LO, GOOD_HI);
        lr_find_curve_free(&c);
    }
}

Test(lr_find, flat_curve_has_no_suggestion) {
    lr_find_curve c;
    char why[200];
    double lr = 123;
    size_t index = 456;
    // exactly flat
    lr_find_curve_init(&c, NULL);
    for (int i = 0; lr_find_curve_add(&c, lr_find_lr(&c.opts, i), 2.3) == 1; i++) {}
    cr_assert_eq(lr_find_suggest(&c, &lr, &index, why, sizeof why), -1);
    cr_assert(strstr(why, "never fell"), "%s", why);
    cr_assert_eq(lr, 123);   // untouched
    cr_assert_eq(index, 456);
    lr_find_curve_free(&c);
    // flat with 5% and 20% noise: a model whose lr range is far too small to move it
    double noise[] = {0.05, 0.2};
    for (int k = 0; k < 2; k++) {
        for (uint64_t seed = 1; seed <= 20; seed++) {
            lrf_rng r = {seed};
            lr_find_curve_init(&c, NULL);
            for (int i = 0;; i++)
                if (lr_find_curve_add(&c, lr_find_lr(&c.opts, i), 2.3 * (1 + noise[k] * lrf_gauss(&r))) != 1) break;
            why[0] = 'x';
            cr_assert_eq(lr_find_suggest(&c, &lr, NULL, why, sizeof why), -1, "noise %g seed %d", noise[k], (int)seed);
            cr_assert(strstr(why, "never fell"), "%s", why);
            cr_assert_null(strchr(why, '\n'));
            lr_find_curve_free(&c);
        }
    }
    // rising all the way
    lr_find_curve_init(&c, NULL);
    for (int i = 0; i < 40; i++) lr_find_curve_add(&c, lr_find_lr(&c.opts, i), 1 + 0.01 * i);
    cr_assert_eq(lr_find_suggest(&c, NULL, NULL, why, sizeof why), -1);
    lr_find_curve_free(&c);
}

Test(lr_find, short_curve_has_no_suggestion) {
    lr_find_curve c;
    char why[200];
    lr_find_curve_init(&c, NULL);
    cr_assert_eq(lr_find_suggest(&c, NULL, NULL, why, sizeof why), -1);
    cr_assert(strstr(why, "no losses"), "%s", why);
    for (int i = 0; i < 5; i++) lr_find_curve_add(&c, lr_find_lr(&c.opts, i), 2.0 - 0.3 * i);
    cr_assert_eq(lr_find_suggest(&c, NULL, NULL, why, sizeof why), -1);
    cr_assert(strstr(why, "5 steps"), "%s", why);
    cr_assert_eq(lr_find_suggest(&c, NULL, NULL, why, 0), -1);   // no room for why: fine
    lr_find_curve_free(&c);
}

// A clean descent (a smooth step down in log lr): the pick is where 80% of the fall is made.
Test(lr_find, pick_on_a_clean_descent) {
    lr_find_curve c;
    lr_find_curve_init(&c, NULL);
    for (int i = 0; i < 100; i++) {
        double t = (i - 50) / 4.0;   // the fall's middle at point 50
        if (lr_find_curve_add(&c, lr_find_lr(&c.opts, i), 1 + 1 / (1 + exp(t))) != 1) break;
    }
    size_t index;
    cr_assert_eq(lr_find_suggest(&c, NULL, &index, NULL, 0), 0);
    // 1 / (1 + e^t) = 0.2 at t = ln 4: point 50 + 4 ln 4 = 55.5, the first one past it 56
    cr_assert_eq(index, 56);
    lr_find_curve_free(&c);
}
