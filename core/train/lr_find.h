/*
 * lr_find.h — the learning-rate finder's arithmetic: the sweep's learning rates, the losses it
 * records with a smoothed copy, when to stop, and which learning rate to suggest. No training here:
 * the caller takes one optimizer step at each learning rate and hands the loss in.
 *
 * The sweep: lr_i = start * (end / start)^(i / (steps - 1)), i = 0 .. steps-1, one step each, the
 * model carried from step to step (fastai's lr_find, Lightning's LearningRateFinder, Smith's "LR range
 * test").
 *
 * Smoothing and stopping: a debiased exponential moving average of the loss, s_i = m_i / (1 - beta^(i+1))
 * with m_i = beta m_(i-1) + (1 - beta) loss_i. The sweep stops when s_i exceeds `diverge` times the
 * lowest s so far, at a non-finite loss (not recorded), or after the last step. Both the check and the
 * lowest s start at step min_steps: the first averages rest on a few losses, and a spike among them
 * would otherwise stay in the average long enough to pass 4 x the loss before it and stop the sweep.
 * Losses are >= 0 (a cross-entropy).
 *
 * The suggestion. Not the steepest point of the raw or the averaged curve: noise makes the raw
 * curve's steepest step a coin toss, and a spike in the first steps (a new head's first batches, a
 * batch of hard images) puts the steepest drop right after the spike, at the bottom of the sweep
 * (Lightning issue #1767); the debiased average does not help, since it weighs its first losses most
 * and takes tens of steps to forget a spike (at beta 0.98 a loss's weight fades by 2% a step). A
 * slope is a difference of two noisy values, so anything steepest-based stays noisy; a level crossing
 * is not. So:
 *
 *   1. cut    the point that stopped a diverged sweep is dropped (the non-finite one was never kept);
 *   2. clean  a running median of the raw losses over LR_FIND_MEDIAN points, its window slid inside
 *             the curve at the ends: a spike of up to LR_FIND_MEDIAN / 2 consecutive steps, the first
 *             steps included, leaves no trace, and unlike the average it does not lag;
 *   3. valley from the clean curve's highest point before its lowest point to that lowest point. It
 *             must fall by LR_FIND_MIN_DROP of its start and by LR_FIND_MIN_NOISE standard deviations
 *             of the losses' noise (from the median step between neighbours), else the loss never
 *             fell: the clean curve of a flat noisy one spans about 2.5 of them over 100 steps. Not
 *             "the longest falling stretch": with noise tolerated, a plateau that drifts down can be
 *             longer than the real descent, and with 5% noise it was, on curves like the test's;
 *   4. pick   the first point at which the clean curve has made LR_FIND_FALL of the valley's fall:
 *             late enough that the learning rate trains fast (the plateau's are too small to move the
 *             weights), early enough to stay below the bottom, past which the lr trains unstably (the
 *             loss turns up, then diverges). It lands between "steepest" (Lightning) and "the bottom"
 *             and is typically a few times below the bottom.
 *
 * Checked (tests/core/test_lr_find.c) on gradient descent over a quadratic a/2 w^2 with noisy losses,
 * where the good range is [0.05/a, 1/a] (a step removes at least 10% of the loss and does not
 * overshoot the minimum): the pick lands in it, with a spike in the first steps and with a sweep that
 * diverges into NaN. Over 200 seeds each of such curves (a = 1 and 4, with and without the spike) every
 * pick landed in range up to 10% noise on each loss, and all but one at 20%; at 30% the fall starts to
 * drown in the noise, and the finder more often says so (-1) or misses.
 */
#ifndef FROST_LR_FIND_H
#define FROST_LR_FIND_H

#include <stddef.h>

#define LR_FIND_MEDIAN 7        // points in the running median (odd)
#define LR_FIND_FALL 0.8        // the pick: this fraction of the valley's fall made
#define LR_FIND_MIN_DROP 0.10   // a valley lowers the loss by at least this fraction of its start
#define LR_FIND_MIN_NOISE 4     // and by this many standard deviations of the losses' noise
#define LR_FIND_MIN_POINTS 10   // fewer usable points than this: no suggestion

typedef struct {
    double start_lr, end_lr;   // the sweep's first and last learning rate (0 < start < end)
    int steps;                 // learning rates in the sweep (>= 2)
    double beta;               // the moving average's weight on its past, 0 <= beta < 1
    double diverge;            // stop when the average exceeds this times its lowest value so far
    int min_steps;             // the divergence check starts at this step
} lr_find_opts;

// fastai's and Lightning's defaults: 1e-7 to 10 over 100 steps, beta 0.98, diverge 4, check from step 10.
void lr_find_opts_default(lr_find_opts *o);

// The i-th learning rate of the sweep (0 <= i < steps): exactly start_lr at 0 and end_lr at steps - 1.
double lr_find_lr(const lr_find_opts *o, int i);

typedef enum {
    LR_FIND_RUNNING,     // go on
    LR_FIND_DONE,        // the sweep's last step is in
    LR_FIND_DIVERGED,    // the average passed diverge times its lowest value (that point is recorded)
    LR_FIND_NONFINITE,   // a loss was NaN or infinite (not recorded)
} lr_find_state;

// A sweep in progress, fed one loss at a time. Owns its arrays; all fields are read-only to callers.
typedef struct {
    lr_find_opts opts;
    double *lr, *loss, *smooth;   // n points each: the learning rate, its loss, the smoothed loss
    size_t n, cap;
    double avg;    // the moving average before debiasing
    double best;   // the lowest smoothed loss from step min_steps on (+inf before)
    lr_find_state state;
} lr_find_curve;

// An empty curve with o's settings (NULL: the defaults).
void lr_find_curve_init(lr_find_curve *c, const lr_find_opts *o);

// Records the loss after the step at lr. 1: go on; 0: stop (c->state says why; later calls change
// nothing and return 0); -1: out of memory (the point is not recorded).
int lr_find_curve_add(lr_find_curve *c, double lr, double loss);

// Frees the arrays and leaves an empty curve; NULL is fine.
void lr_find_curve_free(lr_find_curve *c);

// The learning rate to train at: 0 with *lr and *index (the point in c; either pointer may be NULL), or
// -1 with why (one line: the curve is too short, or the loss never fell).
int lr_find_suggest(const lr_find_curve *c, double *lr, size_t *index, char *why, size_t whylen);

#endif
