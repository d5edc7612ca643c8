/*
 * lr_schedule.h — learning-rate schedules, per optimizer step, as factors of each parameter group's base lr
 * (so one schedule serves several groups with different lrs), matching PyTorch 1.13's schedulers.
 *
 * The PyTorch equivalent of each, the scheduler stepped once after every optimizer.step(); the factor for
 * step k (0-based) times a group's base lr is what optimizer.param_groups[g]['lr'] holds before the k-th
 * step (tests/core/test_lr_schedule.c checks it to 1e-9 against tests/oracle/live/lr_schedule.py):
 *   constant   1.
 *   cosine     CosineAnnealingLR(T_max=total, eta_min=min_factor*base). With W = warmup_steps > 0:
 *              SequentialLR([LinearLR(start_factor=warmup_start, end_factor=1, total_iters=W),
 *              CosineAnnealingLR(T_max=total-W, eta_min=...)], milestones=[W]).
 *   one-cycle  OneCycleLR(max_lr=[base lrs], total_steps=total, pct_start, anneal_strategy='cos', div_factor,
 *              final_div_factor, three_phase=False, cycle_momentum, base_momentum, max_momentum); the
 *              momentum it cycles is SGD's momentum or Adam's betas[0] (lr_schedule_momentum).
 *   warmup     LinearLR(start_factor=warmup_start, end_factor=1, total_iters=W), then 1.
 *
 * Computed in closed form with doubles; PyTorch computes LinearLR and CosineAnnealingLR recursively (each
 * lr from the last), which differs only by rounding (~1e-15 here). What PyTorch 1.13 does that this does
 * not copy, and what it does that is easy to get wrong:
 *   - SequentialLR at the milestone calls the cosine scheduler's step(0) (an epoch argument, so it warns
 *     that this is deprecated) and gets its closed form at epoch 0: the factor goes from the warm-up's
 *     last value, warmup_start + (1-warmup_start)*(W-1)/W, straight to the cosine's start, exactly 1, at
 *     step W; the cosine's T_max is total-W. This module does the same.
 *   - LinearLR with total_iters=0 keeps start_factor for ever (its recursive step leaves the lr as it
 *     is); here W = 0 means no warm-up: factor 1.
 *   - LinearLR with start_factor=0 divides by zero at its second step (ZeroDivisionError); here
 *     warmup_start = 0 is fine, the warm-up starts from 0.
 *   - OneCycleLR divides by zero when pct_start*total is exactly 1 (its first phase ends at step 0);
 *     here step 0 then gets the phase's start. With pct_start*total < 1 every step is in the second
 *     phase, as in PyTorch (total = 1: the one step gets the final lr, base/(div*final_div)).
 * Edge cases: step < 0 counts as 0. For cosine and one-cycle, step >= total gives step total-1's factor
 * (the run's last lr is kept, where PyTorch's cosine would rise again and OneCycleLR raise), and
 * total <= 0 (no known length) gives 1 after any warm-up. W >= total: cosine is all warm-up, as in
 * PyTorch (the milestone is never reached). The warmup kind does not depend on total at all.
 */
#ifndef FROST_LR_SCHEDULE_H
#define FROST_LR_SCHEDULE_H

#include <stddef.h>

typedef enum { LR_CONSTANT = 0, LR_COSINE, LR_ONE_CYCLE, LR_WARMUP } lr_schedule_kind;

typedef struct {
    lr_schedule_kind kind;
    // Linear warm-up steps: LR_WARMUP's length; before LR_COSINE too when > 0 (0: none). -1 means "one
    // epoch": the caller replaces it with its steps per epoch before lr_schedule_factor, which treats any
    // negative count as 0. Ignored by constant and one-cycle.
    long warmup_steps;
    double warmup_start;   // the factor the warm-up starts from (LinearLR's start_factor), in [0, 1]; 0.1
    double min_factor;     // cosine's eta_min as a fraction of the base lr; 0
    // one-cycle: pct_start 0.3, div_factor 25, final_div_factor 1e4 (OneCycleLR's defaults; the peak
    // factor is 1, the start 1/div_factor, the end 1/(div_factor*final_div_factor))
    double pct_start, div_factor, final_div_factor;
    int cycle_momentum;                   // one-cycle: cycle the momentum inversely to the lr; 1
    double base_momentum, max_momentum;   // one-cycle: 0.85 at the lr's peak, 0.95 at its ends
} lr_schedule;

// Constant, every other field at its default above (warmup_steps 0).
void lr_schedule_default(lr_schedule *s);

// Parses "constant", "cosine", "one-cycle" (also "onecycle") or "warmup", with an optional ":N" suffix of
// warm-up steps for cosine and warmup ("warmup:100"; "cosine:100" = 100 warm-up steps then cosine), or
// ":epoch" for -1 (one epoch). Sets kind and warmup_steps only ("warmup" alone: -1, "cosine" alone: 0),
// so call lr_schedule_default first. 0, or -1 with a one-line message in err and *s untouched.
int lr_schedule_parse(const char *text, lr_schedule *s, char *err, size_t errlen);

// "constant", "cosine", "one-cycle", "warmup"; "?" for a value outside the enum.
const char *lr_schedule_name(lr_schedule_kind k);

// The kind and warm-up steps as text lr_schedule_parse accepts and turns back into the same two fields
// ("cosine:5", "warmup" for warmup -1, "cosine:epoch" for cosine -1). The other fields are not written.
void lr_schedule_format(const lr_schedule *s, char *out, size_t outlen);

// The factor of the base lr for optimizer step `step` (0-based) of `total` steps in the whole run.
double lr_schedule_factor(const lr_schedule *s, long step, long total);

// One-cycle with cycle_momentum: the momentum (SGD's momentum, or Adam's beta1) for step `step` of
// `total` (same clamping as lr_schedule_factor). Otherwise, or when total <= 0, `fixed`.
double lr_schedule_momentum(const lr_schedule *s, long step, long total, double fixed);

#endif
