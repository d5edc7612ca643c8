/*
 * cost.h — what a freeze choice costs before any training: memory, arithmetic and time, from the
 * leaf calls of one forward pass (ft_model_calls) and the model's trainable parameters.
 *
 *   forward    multiply-adds of every convolution and linear layer for one image (the count
 *              published for torchvision's models: resnet18 1.82 G, resnet50 4.11 G, vgg16 15.47 G)
 *   backward   from the first call that has a trainable parameter on: the gradient of every later
 *              call's input (as much arithmetic as its forward) and of every trainable call's weights
 *              (as much again); nothing before that first call
 *   kept       the tensors autograd keeps for the backward pass from that first call on, each once
 *              (an in-place ReLU's output is the next convolution's input), times the batch
 *   peak       the most memory a step holds besides the weights: gradients and optimizer state,
 *              plus the larger of the forward pass's peak (what is kept so far, and the running call's
 *              input and output) and the backward pass's (what is still kept, and the running call's
 *              output and input gradients), at the batch; plus the gradients once more: measured, not
 *              derived (libtorch's backward holds each new weight gradient beside the one it adds it to,
 *              and its convolutions' backward works on copies); without that term the estimate fell
 *              25% short of resnet18's measured peaks at 128x128, with it it is within 15% at 128 and 224
 *   gradients  4 bytes per trainable parameter; the optimizer's state: Adam 8 (two moments), SGD with
 *              momentum 4, without 0
 *   time       the arithmetic times this device's measured seconds per multiply-add, forward and
 *              backward apart (cost_calibrate: a forward pass of this architecture without gradients,
 *              and a training step with every parameter trainable; kept per architecture, size, device
 *              and thread count)
 */
#ifndef FROST_COST_H
#define FROST_COST_H

#include <stddef.h>
#include <stdint.h>

#include "frost_torch.h"

typedef struct {
    int size;                  // input S x S
    int batch;                 // images per step
    ft_opt_kind opt;           // Adam or SGD
    double momentum;           // SGD's
    int bn_eval;               // frozen BatchNorm layers in eval mode (frost's default)
    size_t n_train, n_valid;   // the dataset's images (0, 0: none known)
} cost_spec;

typedef struct {
    int64_t params, trainable;
    double fwd_macs, bwd_macs;   // per image
    double head_macs;            // the head's share of fwd_macs (what trains once cached)
    int64_t grad_bytes, optimizer_bytes;
    int64_t kept_bytes;              // at the batch
    int64_t activation_peak_bytes;   // activations and their gradients at the step's peak, at the batch
    int64_t peak_bytes;              // that, with gradients and optimizer state: a step's memory beyond the weights
    const char *first_trainable;     // the path of the first call with a trainable parameter ("" none)
    int cache;                       // 1 when the feature cache applies
    // with a calibration (speed not NULL): one training step per image, and epochs for the dataset's
    // images (NAN without a calibration or a dataset)
    double step_seconds_per_image;
    double epoch1_seconds, later_epoch_seconds;
} cost_report;

// The cost of training m as its trainable flags stand. 0, or -1 with err.
// This device's speed for an architecture: seconds per billion multiply-adds, forward and backward.
typedef struct {
    double forward, backward;
} cost_speed;

int cost_estimate(ft_model *m, const cost_spec *spec, const cost_speed *speed, cost_report *out, char *err,
                  size_t errlen);

// This device's speed for arch at size S: from the calibration file ($XDG_CACHE_HOME/frost/
// calibration.tsv, else ~/.cache/frost) when it holds this architecture, size, device and thread count,
// else measured now (a few images: seconds on this machine) and added there. *measured says which.
// The thread count is libtorch's as it stands: set it as a run would first (trainer_default_threads).
// 0, or -1 with err.
int cost_calibrate(const char *arch, int size, const char *device, cost_speed *speed, int *measured, char *err,
                   size_t errlen);

// The same at a precision of the frozen backbone (ft_model_set_precision): FP32 is cost_calibrate; FAST
// and BF16 measure the folded backbone's forward pass (every parameter frozen, as the feature cache runs
// it; its figure replaces the forward speed, the backward one is fp32's: training runs in float32), kept
// in the same file under the architecture's name and the precision's ("resnet18/bf16"). -1 with err on a
// CPU without bf16 instructions for BF16.
int cost_calibrate_precision(const char *arch, int size, const char *device, ft_precision p, cost_speed *speed,
                             int *measured, char *err, size_t errlen);

// "12.3 MB", "1.20 GB" (decimal units).
void cost_format_bytes(char *buf, size_t len, double bytes);

#endif
