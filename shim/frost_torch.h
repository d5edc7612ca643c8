/*
 * frost_torch.h — the C face of frost's libtorch shim.
 *
 * This is the only door between frost's C code and libtorch. It compiles as plain C11 (a test proves
 * it) and as C++17. Everything behind it is C++ that builds torchvision's VGG and ResNet families
 * module for module, so parameter names, shapes, printed form and numbers match PyTorch 1.13 /
 * torchvision 0.14.
 *
 * Rules of the API
 * - Handles are opaque. The caller owns what a *_create returns and gives it back with *_free.
 *   Every *_free accepts NULL.
 * - Every function that can fail returns an ft_status*: NULL means success. A non-NULL status is owned
 *   by the caller (ft_status_free). Nothing here throws, aborts, prints or exits: C++ exceptions
 *   (c10::Error, std::exception, std::bad_alloc) are caught at the boundary and become a status.
 * - Strings returned by the shim (names, paths, messages) are owned by the object they come from and
 *   stay valid until that object is freed or changed as the function's comment says.
 * - Not thread-safe per model: one thread at a time may use a given ft_model.
 */
#ifndef FROST_TORCH_H
#define FROST_TORCH_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
#define FT_NOEXCEPT noexcept
extern "C" {
#else
#define FT_NOEXCEPT
#endif

// ---------------------------------------------------------------------------------------------
// status

typedef enum {
    FT_OK = 0,
    FT_EINVAL = 1,    // a bad argument: unknown name, bad size, wrong shape
    FT_ENOMEM = 2,    // an allocation failed (host or device memory)
    FT_EDEVICE = 3,   // the device asked for is not available
    FT_ETORCH = 4     // libtorch reported an error (its message, without backtrace)
} ft_code;

typedef struct ft_status ft_status;

ft_code ft_status_code(const ft_status *s) FT_NOEXCEPT;          // FT_OK for NULL
const char *ft_status_message(const ft_status *s) FT_NOEXCEPT;   // "" for NULL; owned by s
void ft_status_free(ft_status *s) FT_NOEXCEPT;

// ---------------------------------------------------------------------------------------------
// architectures

typedef enum { FT_FAMILY_NONE = 0, FT_FAMILY_VGG = 1, FT_FAMILY_RESNET = 2 } ft_family;

size_t ft_arch_count(void) FT_NOEXCEPT;
const char *ft_arch_name(size_t i) FT_NOEXCEPT;           // static string; NULL past the end
ft_family ft_arch_family(const char *arch) FT_NOEXCEPT;   // FT_FAMILY_NONE for an unknown name

// ---------------------------------------------------------------------------------------------
// models

typedef struct ft_model ft_model;

// Builds `arch` (see ft_arch_name) with 1000 classes and torchvision's default initialisation,
// on the CPU, in training mode, every parameter trainable. *out is set only on success.
ft_status *ft_model_create(const char *arch, ft_model **out) FT_NOEXCEPT;
void ft_model_free(ft_model *m) FT_NOEXCEPT;

const char *ft_model_arch(const ft_model *m) FT_NOEXCEPT;
int64_t ft_model_num_classes(const ft_model *m) FT_NOEXCEPT;
// The module that head replacement swaps: "classifier" (VGG) or "fc" (ResNet).
const char *ft_model_head_path(const ft_model *m) FT_NOEXCEPT;

// Replaces the head as the seed does, for n_classes >= 1. VGG: classifier becomes
// Linear(25088,4096), ReLU(), Dropout(p=0.5), Linear(4096,4096), ReLU(), Dropout(p=0.5),
// Linear(4096,n). ResNet: fc becomes Linear(in_features, n). The new layers are trainable and
// freshly initialised (PyTorch's Linear defaults); the rest keeps its requires_grad flags.
// Invalidates the node and state tables (call ft_model_nodes / ft_model_state_count again).
ft_status *ft_model_replace_head(ft_model *m, int64_t n_classes) FT_NOEXCEPT;

// Sets requires_grad on every parameter of the module at `path` and below. "" is the whole model.
ft_status *ft_model_set_trainable(ft_model *m, const char *path, int trainable) FT_NOEXCEPT;

// Train (1) or eval (0) mode for the whole model, as module.train(mode) in PyTorch.
void ft_model_set_training(ft_model *m, int training) FT_NOEXCEPT;

// ---------------------------------------------------------------------------------------------
// the module tree, in PyTorch's order (pre-order, children in registration order)

#define FT_MAX_DIMS 8

typedef struct {
    const char *path;    // "features.0"; "" for the root
    const char *key;     // the last part of the path ("0"); "" for the root
    const char *type;    // PyTorch's class name: "VGG", "Sequential", "Conv2d", "Bottleneck", ...
    const char *extra;   // extra_repr() as PyTorch writes it, one line, "" if none
    int depth;           // 0 for the root
    int n_children;
    int64_t params;      // parameters of this module and below (numel)
    int64_t trainable;   // of those, the ones with requires_grad
    int out_ndim;        // output shape from the last ft_model_trace; 0 when not traced
    int64_t out_shape[FT_MAX_DIMS];
} ft_node;

// Returns the node table, refreshed (parameter counts, trainable flags). The array and its strings
// belong to the model and stay valid until the next ft_model_nodes, ft_model_replace_head,
// ft_model_trace or ft_model_free.
ft_status *ft_model_nodes(ft_model *m, const ft_node **nodes, size_t *n) FT_NOEXCEPT;

// Runs a zero input of shape 1x3xSxS through the model in eval mode without gradients (the mode is
// restored afterwards) and records each module's output shape in the node table.
ft_status *ft_model_trace(ft_model *m, int64_t size) FT_NOEXCEPT;

// ---------------------------------------------------------------------------------------------
// devices

int ft_cuda_available(void) FT_NOEXCEPT;   // 1 when this libtorch has CUDA and a GPU is present
int ft_cuda_device_count(void) FT_NOEXCEPT;
void ft_set_num_threads(int n) FT_NOEXCEPT;   // libtorch's intra-op threads
int ft_get_num_threads(void) FT_NOEXCEPT;

// frost's CPU allocator (cpu_allocator.cpp): blocks of 1 MB and up have mappings of their own, and a
// freed one is kept for the next request of its size. All in bytes, counts since the process started.
typedef struct ft_cpu_memory {
    size_t in_use;       // mappings in use
    size_t kept;         // freed mappings kept (resident) for reuse
    size_t most_asked;   // the most their users have asked for at once: in_use + kept stays within it
    uint64_t mapped;     // requests met by a new mapping
    uint64_t reused;     // requests met by a kept one
    int active;          // 0 with FROST_HUGEPAGES=0 (libtorch's own allocator; the rest is 0)
} ft_cpu_memory;
void ft_cpu_memory_stats(ft_cpu_memory *out) FT_NOEXCEPT;
// A block of nbytes from the allocator tensors get their data from (frost's, or libtorch's own with
// FROST_HUGEPAGES=0), as a tensor of that size would get it: for the tests of what the sanitizers see
// inside tensor data. NULL when out of memory. ft_cpu_block_free gives it back; accepts NULL.
void *ft_cpu_block_new(size_t nbytes) FT_NOEXCEPT;
void ft_cpu_block_free(void *p) FT_NOEXCEPT;

// Moves parameters and buffers to "cpu", "cuda" or "cuda:N". Invalidates nothing.
ft_status *ft_model_to_device(ft_model *m, const char *device) FT_NOEXCEPT;
// The current device as text ("cpu", "cuda:0"); owned by the model, valid until the next move.
const char *ft_model_device(const ft_model *m) FT_NOEXCEPT;

// ---------------------------------------------------------------------------------------------
// forward

// Runs the model on a float32 NCHW batch (contiguous, host memory; read, never written or kept)
// without gradients, in the current mode, and writes n * num_classes logits to out (host memory,
// out_len floats at least).
ft_status *ft_model_forward(ft_model *m, const float *input, int64_t n, int64_t c, int64_t h, int64_t w, float *out,
                            size_t out_len) FT_NOEXCEPT;

// ---------------------------------------------------------------------------------------------
// state_dict: parameters and buffers, in PyTorch's state_dict order and with its names

typedef enum { FT_F32 = 0, FT_I64 = 1 } ft_dtype;

typedef struct {
    const char *name;   // "features.0.weight"; owned by the model
    ft_dtype dtype;
    int ndim;   // 0 for a scalar (num_batches_tracked)
    int64_t shape[FT_MAX_DIMS];
    size_t nbytes;
    int is_parameter;    // 0 for buffers (running_mean, running_var, num_batches_tracked)
    int requires_grad;   // a parameter that trains now (PyTorch's requires_grad); 0 for buffers
} ft_tensor_info;

// The table is rebuilt after ft_model_replace_head; indices are valid until then.
size_t ft_model_state_count(const ft_model *m) FT_NOEXCEPT;
ft_status *ft_model_state_info(const ft_model *m, size_t i, ft_tensor_info *out) FT_NOEXCEPT;
// Copies entry i to host memory dst (exactly nbytes, which must equal the entry's nbytes).
ft_status *ft_model_state_get(const ft_model *m, size_t i, void *dst, size_t nbytes) FT_NOEXCEPT;
// Copies nbytes from host memory src (any alignment) into entry i, on whatever device it lives.
ft_status *ft_model_state_set(ft_model *m, size_t i, const void *src, size_t nbytes) FT_NOEXCEPT;

// ---------------------------------------------------------------------------------------------
// training

// Train (1) or eval (0) mode, with the BatchNorm rule for frozen layers: when frozen_bn_eval is 1 and
// training is 1, every BatchNorm2d whose parameters are all frozen stays in eval mode (running
// statistics used and left unchanged, as Keras does). frozen_bn_eval 0 is PyTorch's (and the seed's)
// model.train(True): batch statistics, running statistics updated even when frozen.
void ft_model_set_mode(ft_model *m, int training, int frozen_bn_eval) FT_NOEXCEPT;

// 1 when no parameter outside the head is trainable.
int ft_model_backbone_frozen(const ft_model *m) FT_NOEXCEPT;
// Width of what the head reads: 25088 for VGG, 512 or 2048 for ResNet.
int64_t ft_model_feature_size(const ft_model *m) FT_NOEXCEPT;

// Class weights for the loss of every step (PyTorch's CrossEntropyLoss(weight=w)): n floats, one per
// class, finite and not negative; n == 0 (w NULL) goes back to the unweighted loss. Copied.
ft_status *ft_model_set_class_weights(ft_model *m, const float *w, int64_t n) FT_NOEXCEPT;

// Seeds libtorch's random generators (dropout masks, new head initialisation).
void ft_manual_seed(uint64_t seed) FT_NOEXCEPT;

typedef enum { FT_OPT_ADAM = 0, FT_OPT_SGD = 1 } ft_opt_kind;

typedef struct {
    ft_opt_kind kind;
    double lr;                  // Adam default 1e-5 (the seed's)
    double weight_decay;        // 0
    double momentum;            // SGD only; 0.9 by default
    double beta1, beta2, eps;   // Adam only: 0.9, 0.999, 1e-8
} ft_opt_params;

typedef struct ft_optimizer ft_optimizer;

void ft_opt_params_default(ft_opt_params *p) FT_NOEXCEPT;
// An optimizer over the parameters that are trainable now (the seed: the new head's).
ft_status *ft_optimizer_create(ft_model *m, const ft_opt_params *p, ft_optimizer **out) FT_NOEXCEPT;

// A parameter group: the parameters under some modules, with a learning rate of their own.
typedef struct {
    const char *modules;   // comma-separated module paths ("layer4", "features.24,features.26")
    double lr;
} ft_param_group;
// An optimizer with parameter groups (PyTorch's param_groups): each parameter joins the first group
// whose modules hold it, whether it is trainable now or not (a frozen parameter has no gradient and
// the optimizer passes over it, so thawing it later makes it train with its group's lr, as Python's
// optimizers do); the parameters trainable now that no group holds form one more group with p->lr.
// Groups that hold no parameter are left out; the groups keep the given order.
ft_status *ft_optimizer_create_groups(ft_model *m, const ft_opt_params *p, const ft_param_group *groups,
                                      size_t n_groups, ft_optimizer **out) FT_NOEXCEPT;

typedef struct {
    const char *modules;   // as asked ("" for the group of what no group held); owned by the optimizer
    double lr;
    double momentum;                 // SGD's momentum, or Adam's beta1
    size_t n_params;                 // parameter tensors in the group
    int64_t n_values, n_trainable;   // numbers in them, and of those the trainable ones
    double weight_decay;
} ft_group_info;
size_t ft_optimizer_group_count(const ft_optimizer *o) FT_NOEXCEPT;
ft_status *ft_optimizer_group_get(const ft_optimizer *o, size_t i, ft_group_info *out) FT_NOEXCEPT;
// The name of the optimizer's parameter i ("layer4.0.conv1.weight"), counting through the groups in
// their order (group 0's n_params first); NULL past the end. Owned by the optimizer.
const char *ft_optimizer_param_name(const ft_optimizer *o, size_t i) FT_NOEXCEPT;
// Sets group i's learning rate, and its momentum (Adam: beta1) when momentum >= 0.
ft_status *ft_optimizer_group_set(ft_optimizer *o, size_t i, double lr, double momentum) FT_NOEXCEPT;
void ft_optimizer_free(ft_optimizer *o) FT_NOEXCEPT;
// Adam's step as one parallel pass over each parameter (shim/adam_fused.cpp) instead of libtorch's
// eight: the same state objects and the same arithmetic (results agree with libtorch's to float
// rounding), so it can be switched at any step. On by default; FROST_ADAM_FUSED=0 in the environment
// makes libtorch's step every optimizer's default. on 0 gives this optimizer libtorch's step. Where
// the fused step cannot run (SGD; a parameter or gradient not float32 in host memory) libtorch's runs.
void ft_optimizer_set_fused(ft_optimizer *o, int on) FT_NOEXCEPT;
// The steps of this optimizer that the fused step took (0 for NULL): proof that it ran.
int64_t ft_optimizer_fused_steps(const ft_optimizer *o) FT_NOEXCEPT;

typedef struct {
    double loss;       // mean cross-entropy over the batch (weighted with the class weights, if set)
    int64_t correct;   // samples whose arg-max logit is the label
    int64_t n;
    // where the step's time went, in seconds (wall clock on the calling thread; on a GPU the work is
    // asynchronous, so the time shows up where the result is read: forward_s)
    double forward_s, backward_s, optimizer_s;
} ft_step_result;

// One training step: forward in the current mode, cross-entropy (mean), backward, optimizer step.
// x: n x c x h x w floats in host memory (wrapped, not copied, on the CPU); labels: n int64 in [0,
// num_classes).
ft_status *ft_train_step(ft_model *m, ft_optimizer *o, const float *x, const int64_t *labels, int64_t n, int64_t c,
                         int64_t h, int64_t w, ft_step_result *r) FT_NOEXCEPT;
// Forward without gradients in the current mode: loss and correct count.
ft_status *ft_eval_step(ft_model *m, const float *x, const int64_t *labels, int64_t n, int64_t c, int64_t h, int64_t w,
                        ft_step_result *r) FT_NOEXCEPT;

// The feature cache: the backbone's output (n x ft_model_feature_size floats into out), without
// gradients, in the current mode; then steps that run the head alone on such features.
ft_status *ft_model_features(ft_model *m, const float *x, int64_t n, int64_t c, int64_t h, int64_t w, float *out,
                             size_t out_len) FT_NOEXCEPT;
ft_status *ft_head_train_step(ft_model *m, ft_optimizer *o, const float *features, const int64_t *labels, int64_t n,
                              ft_step_result *r) FT_NOEXCEPT;
ft_status *ft_head_eval_step(ft_model *m, const float *features, const int64_t *labels, int64_t n,
                             ft_step_result *r) FT_NOEXCEPT;

// How ft_model_features runs the frozen backbone (shim/fast_backbone.cpp). Nothing else uses it: the
// training and eval steps on whole images, the head and ft_model_forward stay as built, in fp32.
// - FT_PRECISION_FP32: the modules as built (exact; the default).
// - FT_PRECISION_FAST: fp32, with each BatchNorm (in eval form: running statistics) folded into the
//   convolution before it, and activations in channels_last memory: the same arithmetic
//   re-associated, so features differ from FP32's at float rounding (about 1e-6 relative).
// - FT_PRECISION_BF16: FAST's form with weights and activations in bfloat16 (accumulation as oneDNN
//   does it), features returned as float: about 1e-2 relative. On the CPU it needs bf16 instructions
//   (ft_cpu_has_bf16); on CUDA it is allowed (cuDNN's bf16 wants an Ampere or newer GPU).
typedef enum { FT_PRECISION_FP32 = 0, FT_PRECISION_FAST = 1, FT_PRECISION_BF16 = 2 } ft_precision;

// Sets the precision. FAST and BF16 build the folded copy now, on the model's device, from the
// current weights and running statistics, and are refused (FT_EINVAL, one line) when the backbone is
// not frozen (ft_model_backbone_frozen), or (BF16) on a CPU without bf16 instructions. Going back to
// FP32 frees the copy. The copy is a snapshot, so whatever changes the model drops it and the
// precision goes back to FP32 (ft_model_precision tells): ft_model_state_set, ft_model_to_device,
// ft_model_set_trainable and ft_model_replace_head do so at once; ft_model_features does so when it
// finds a backbone weight or running statistic changed since the snapshot. While a backbone
// BatchNorm is in training mode (batch statistics: nothing to fold) ft_model_features runs the
// modules as built and keeps the copy for later.
ft_status *ft_model_set_precision(ft_model *m, ft_precision p) FT_NOEXCEPT;
ft_precision ft_model_precision(const ft_model *m) FT_NOEXCEPT;   // FT_PRECISION_FP32 for NULL
// 1 when this CPU has bfloat16 instructions (avx512_bf16 or amx_bf16, as /proc/cpuinfo lists them).
int ft_cpu_has_bf16(void) FT_NOEXCEPT;

// Optimizer state (Adam: step, exp_avg, exp_avg_sq; SGD: momentum_buffer), named
// "<parameter name>.<field>", so a resumed run finds it by parameter name whatever else changed.
// The table is rebuilt by ft_optimizer_state_count; entries exist once a step has run.
size_t ft_optimizer_state_count(ft_optimizer *o) FT_NOEXCEPT;
ft_status *ft_optimizer_state_info(ft_optimizer *o, size_t i, ft_tensor_info *out) FT_NOEXCEPT;
ft_status *ft_optimizer_state_get(ft_optimizer *o, size_t i, void *dst, size_t nbytes) FT_NOEXCEPT;
// Sets one named entry (creating the parameter's state when missing). Unknown parameter names and
// parameters the optimizer does not hold are ignored (returns NULL and sets *used to 0).
ft_status *ft_optimizer_state_set(ft_optimizer *o, const char *name, ft_dtype dtype, int ndim, const int64_t *shape,
                                  const void *src, size_t nbytes, int *used) FT_NOEXCEPT;

// ---------------------------------------------------------------------------------------------
// what a run changes (core/train/layer_stats.c sums these up the module tree)

typedef struct ft_snapshot ft_snapshot;

// A copy of every state entry a run can change: the trainable parameters and the BatchNorm running
// statistics. Frozen parameters are not copied: no optimizer holds them, nothing writes them.
ft_status *ft_snapshot_take(ft_model *m, ft_snapshot **out) FT_NOEXCEPT;
void ft_snapshot_free(ft_snapshot *s) FT_NOEXCEPT;

typedef struct {
    int tracked;        // 1 when the entry is in the snapshot (else it cannot have changed)
    int has_grad;       // 1 when a backward pass left a gradient in it
    double change_sq;   // a parameter: ||W - W0||^2; running_mean: sum (mu - mu0)^2 / (var0 + eps);
                        // running_var: sum ((var - var0) / (var0 + eps))^2 (eps: the layer's, 1e-5)
    double base_sq;     // a parameter: ||W0||^2; a running statistic: its number of elements
    double grad_sq;     // ||grad||^2 of the last backward pass (0 without one)
} ft_state_change;

// For every state entry (ft_model_state_count of them, in that order) against the snapshot, in
// double precision, in chunks (no full-size temporary).
ft_status *ft_model_changes(ft_model *m, const ft_snapshot *s, ft_state_change *out, size_t n) FT_NOEXCEPT;

// ---------------------------------------------------------------------------------------------
// the calls of a forward pass (core/model/cost.c estimates a freeze choice's cost from them)

typedef enum {
    FT_CALL_CONV,
    FT_CALL_BATCHNORM,
    FT_CALL_RELU,
    FT_CALL_MAXPOOL,
    FT_CALL_AVGPOOL,
    FT_CALL_LINEAR,
    FT_CALL_DROPOUT
} ft_call_kind;

typedef struct {
    size_t node;   // the module (an index into ft_model_nodes)
    ft_call_kind kind;
    int trainable;                 // 1 when the module has a trainable parameter
    int64_t params;                // the module's own parameters (a BatchNorm's: 2 per channel)
    int64_t macs;                  // multiply-adds for one image (convolutions and linear layers; else 0)
    int64_t in_elems, out_elems;   // the input's and output's elements, one image
    // what autograd keeps for the backward pass, one image, when the call records gradients: up to two
    // tensors, each with an identity (two calls keeping the same tensor keep it once) and its bytes
    uint64_t saved_id[2];
    int64_t saved_bytes[2];
} ft_call;

// Runs a zero 1x3xSxS input through the model in eval mode without gradients (the mode is restored)
// and lists every leaf module call in the order they run: a ResNet block's shared ReLU appears once
// per call. The table belongs to the model until the next ft_model_calls, ft_model_replace_head or
// ft_model_free; asked again at the same size, it is not run again (only the trainable flags are
// read anew).
ft_status *ft_model_calls(ft_model *m, int64_t size, const ft_call **calls, size_t *n) FT_NOEXCEPT;

// ---------------------------------------------------------------------------------------------
// a module's hyperparameters (core/export/onnx_export.c writes the graph from them)

typedef enum {
    FT_MOD_OTHER = 0,   // a container (VGG, ResNet, Sequential, BasicBlock, Bottleneck): see ft_node.type
    FT_MOD_CONV2D,
    FT_MOD_BATCHNORM2D,
    FT_MOD_RELU,
    FT_MOD_MAXPOOL2D,
    FT_MOD_ADAPTIVE_AVGPOOL2D,
    FT_MOD_LINEAR,
    FT_MOD_DROPOUT
} ft_module_kind;

// What a module was built with, as its PyTorch options say; the fields that do not apply to its kind
// are 0. Pairs are (height, width).
typedef struct {
    ft_module_kind kind;
    // Conv2d; kernel, stride, padding and dilation also MaxPool2d's
    int64_t in_channels, out_channels, groups;
    int64_t kernel[2], stride[2], padding[2], dilation[2];
    int bias;        // Conv2d, Linear: 1 when it has a bias
    int ceil_mode;   // MaxPool2d
    // BatchNorm2d
    int64_t num_features;
    double eps, momentum;   // momentum -1 when None (a cumulative average)
    int affine, track_running_stats;
    // AdaptiveAvgPool2d: the output size; -1 where it is None (the input's size is kept)
    int64_t output_size[2];
    // Linear
    int64_t in_features, out_features;
    double p;      // Dropout's probability
    int inplace;   // ReLU, Dropout
} ft_module_info;

// The hyperparameters of node `node` (an index into ft_model_nodes' table, valid until the table is
// rebuilt: ft_model_replace_head). A convolution padded by name ("same", "valid") or with a padding mode
// other than zeros is refused (FT_EINVAL): its padding has no number to give.
ft_status *ft_model_module_info(ft_model *m, size_t node, ft_module_info *out) FT_NOEXCEPT;

// ---------------------------------------------------------------------------------------------
// Grad-CAM: where in the picture a class's evidence lies (core/interpret/gradcam.c draws it)

// Grad-CAM (Selvaraju et al., 2017) for one image x (1 x 3 x size x size floats, host memory, read
// only) at the module `layer` (a module path such as "layer4" or "features.18"; NULL or "": the
// default below), for class cls (-1: the top class, ties to the lower index). The model runs in eval
// mode (its mode is restored afterwards); A = the layer's output for the image, y = the class's logit,
// alpha_k = the mean over the layer's h x w of dy/dA_k, and the map is ReLU(sum_k alpha_k A_k) at the
// layer's resolution, row-major, NOT normalised (its scale is the logit's). Gradients are taken with
// torch::autograd::grad on A alone: no parameter's .grad is touched, and nothing before the layer
// records a graph. A module called twice (a block's shared ReLU) is taken at its last call.
// Refused (FT_EINVAL, one line): a layer that is not a module path, a module whose output is not
// 4-dimensional (N x C x H x W), a class outside 0..num_classes-1. *h and *w are set once the layer's
// output is known, also when map_len < h*w refuses the call (FT_EINVAL): a caller may size its buffer
// from that. On success *used_cls is the class explained and logits_out (may be NULL; else
// num_classes floats) gets the image's logits.
ft_status *ft_model_gradcam(ft_model *m, const float *x, int64_t size, const char *layer, int64_t cls, float *map,
                            size_t map_len, int64_t *h, int64_t *w, int64_t *used_cls, float *logits_out) FT_NOEXCEPT;

// The layer Grad-CAM uses by default: the last convolutional stage's output. ResNet: "layer4"; VGG:
// the last Conv2d of features ("features.28" for vgg16), before its ReLU. Owned by the model, valid
// until the next call or ft_model_replace_head; "" for NULL.
const char *ft_model_gradcam_default_layer(ft_model *m) FT_NOEXCEPT;

#ifdef __cplusplus
}
#endif
#endif
