/*
 * precision_auto.h — `--precision auto`: which precision of the frozen backbone (ft_model_set_precision)
 * to run on this machine, decided once, in one place, for the command line and the interface.
 *
 * For each precision this machine offers (bf16 only where the CPU has bfloat16 instructions), two
 * figures: its speed against fp32's (the backbone's forward pass, from the cost calibration: measured
 * once, a few images, and kept under the XDG cache with it, cost.h), and on the user's own images how
 * often it keeps fp32's answers: the top-1 class (of the network's 1000-class head, on the run's
 * weights) and the features (relative difference within PRECISION_FEATURE_TOL). The pick is the
 * fastest whose top-1 agreement is at least PRECISION_MIN_TOP1; fp32, the exact one, is the reference
 * and always qualifies. Nothing here prints.
 */
#ifndef FROST_PRECISION_AUTO_H
#define FROST_PRECISION_AUTO_H

#include <stddef.h>

#include "dataset.h"
#include "frost_torch.h"
#include "pipeline.h"

#define PRECISION_MIN_TOP1 0.99      // the share of images whose top-1 class must not change
#define PRECISION_FEATURE_TOL 0.05   // an image's features agree: ||f - f32|| <= this * ||f32||
#define PRECISION_AUTO_IMAGES 32     // images compared, at most

typedef struct {
    ft_precision precision;
    double speedup;                     // fp32's forward seconds over this one's (1 for fp32)
    size_t images;                      // images compared (0: none)
    size_t top1_agree;                  // of them, those whose top-1 class is fp32's
    size_t features_agree;              // of them, those whose features are within PRECISION_FEATURE_TOL
    double max_rel_diff;                // the largest ||f - f32|| / ||f32|| seen
    double max_abs_diff, max_abs_f32;   // the largest |f - f32| of any feature, and the largest |f32|
} precision_figure;

// The rule: the fastest figure whose top-1 agreement is at least PRECISION_MIN_TOP1 (fp32 always
// qualifies); equal speeds go to the more exact precision (fp32, then fast, then bf16); nothing that
// qualifies: fp32.
ft_precision precision_choose(const precision_figure *f, size_t n);

// On m (every parameter frozen, eval mode, any head), the n images x (n * 3*S*S floats) at fp32 and
// at p, a batch at a time: top-1 and feature agreement into f (its speedup left alone). Leaves m at
// fp32. 0, or -1 with err.
int precision_agreement(ft_model *m, const float *x, size_t n, int batch, int size, ft_precision p, precision_figure *f,
                        char *err, size_t errlen);

typedef struct {
    const char *arch;
    const char *weights;          // the run's (NULL: torchvision's initialisation)
    const char *device;           // "auto", "cpu", ...
    int batch;                    // the run's batch
    const pipeline_opts *prep;    // the run's preprocessing (its size is the calibration's)
    const dataset_split *split;   // the user's images (the first PRECISION_AUTO_IMAGES of it)
} precision_auto_spec;

typedef struct {
    precision_figure fig[3];   // fp32 first, then the others this machine offers
    size_t n;
    ft_precision pick;
    int measured;                          // 1: a speed was measured now; 0: all read from the calibration file
    double speed_seconds, agree_seconds;   // what finding each cost
} precision_auto_result;

// Measures (speeds from the calibration file when it has them) and picks. 0, or -1 with err.
int precision_auto_decide(const precision_auto_spec *s, precision_auto_result *r, char *err, size_t errlen);

// "fp32", "fast", "bf16".
const char *precision_name(ft_precision p);
// The pick in a few words, for beside the Train screen's field: "bf16: 2.4x faster here, top-1
// unchanged on 99.4%"; "fp32: bf16 2.4x faster but top-1 unchanged on only 95.0%".
void precision_auto_summary(const precision_auto_result *r, char *buf, size_t len);
// The pick, why, and every figure, on one line (the command line's): "--precision auto: bf16 (...)".
void precision_auto_line(const precision_auto_result *r, char *buf, size_t len);

#endif
