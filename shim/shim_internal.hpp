// shim_internal.hpp — what the shim's C++ files share: the model object behind the opaque handle,
// the per-module description that printing and the forward interpreter read, and the boundary guard
// that turns C++ exceptions into ft_status. Never included from C.
#pragma once

#include "frost_torch.h"
#include "torch_compat.hpp"

#include <torch/nn.h>

#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

namespace frost {

// What a module is, for the forward interpreter (one switch instead of virtual forward methods, so
// that containers can be plain torch::nn::Module and every call can be traced).
enum class Kind {
    Sequential,
    VGG,
    ResNet,
    Bottleneck,
    BasicBlock,
    Conv2d,
    BatchNorm2d,
    ReLU,
    MaxPool2d,
    AdaptiveAvgPool2d,
    Linear,
    Dropout
};

struct ModuleInfo {
    Kind kind;
    std::string type;    // PyTorch class name
    std::string extra;   // PyTorch extra_repr()
};

// A container with a PyTorch class name ("VGG", "Sequential", "Bottleneck"): its children are
// registered in torchvision's order, so named_parameters() yields torchvision's names.
struct BoxImpl : torch::nn::Module {
    explicit BoxImpl(std::string cls) : torch::nn::Module(std::move(cls)) {}
};

// One leaf module call recorded by the interpreter (ft_model_calls): the tensors stay referenced
// while the record lives, so no later tensor reuses their memory and identities stay distinct.
struct Call {
    const torch::nn::Module *mod;
    Kind kind;
    torch::Tensor in, out;
};

// The backbone folded for inference (fast_backbone.cpp), behind ft_model_set_precision.
struct Prepared;
struct PreparedDelete {
    void operator()(Prepared *p) const noexcept;
};

}   // namespace frost

namespace torch::optim {
class Adam;
}

struct ft_model {
    std::string arch;
    ft_family family = FT_FAMILY_NONE;
    int64_t num_classes = 0;
    std::shared_ptr<torch::nn::Module> root;
    std::unordered_map<const torch::nn::Module *, frost::ModuleInfo> info;
    torch::Device device{torch::kCPU};
    std::string device_name = "cpu";

    // node table (ft_model_nodes): strings live in node_strings, 4 per node
    std::vector<std::shared_ptr<torch::nn::Module>> node_modules;
    std::vector<std::string> node_strings;
    std::vector<ft_node> nodes;
    std::unordered_map<const torch::nn::Module *, std::vector<int64_t>> traced;
    // leaf calls (ft_model_calls): recorded while record_calls is set, then the C table
    bool record_calls = false;
    std::vector<frost::Call> calls;
    std::vector<ft_call> call_table;
    std::vector<const torch::nn::Module *> call_modules;   // per entry of call_table
    int64_t call_size = 0;                                 // the size call_table was made for (0: none)

    // state_dict table
    std::vector<std::string> state_names;
    std::vector<torch::Tensor> state_tensors;
    std::vector<int> state_is_param;

    // the loss's class weights (ft_model_set_class_weights); undefined: unweighted
    torch::Tensor class_weight;

    // Grad-CAM (gradcam.cpp): while capture is set, the interpreter turns that module's output into a
    // leaf that requires gradients (kept in captured), switches gradient recording on from there and
    // hands a copy on, so that an in-place ReLU after the module leaves the leaf as it was
    const torch::nn::Module *capture = nullptr;
    torch::Tensor captured;
    std::string gradcam_layer;   // ft_model_gradcam_default_layer's answer, owned here

    // ft_model_set_precision's folded backbone (FT_PRECISION_FAST, _BF16); null: FP32, the modules as
    // built. A snapshot of the weights: what changes the model calls frost::drop_prepared.
    std::unique_ptr<frost::Prepared, frost::PreparedDelete> prepared;
};

namespace frost {

// model_build.cpp
void build_model(ft_model &m, const std::string &arch);   // throws std::invalid_argument
void replace_head(ft_model &m, int64_t n_classes);

// model_tree.cpp
void rebuild_tables(ft_model &m);
torch::Tensor run_module(ft_model &m, torch::nn::Module &mod, torch::Tensor x, bool trace);
std::shared_ptr<torch::nn::Module> find_module(ft_model &m, const std::string &path);
// Everything before the head, flattened (what the head reads), and the head alone. Together they
// compute the same as run_module on the root.
torch::Tensor run_backbone(ft_model &m, torch::Tensor x);
torch::Tensor run_head(ft_model &m, torch::Tensor features);

// fast_backbone.cpp
// Back to FP32: frees the folded backbone (what changes weights, device or trainability calls it).
void drop_prepared(ft_model &m) noexcept;
// The backbone's output as run_backbone's, through the folded copy when one is set and still valid:
// float, contiguous, on the model's device. Without one (or with a BatchNorm in training mode) it is
// run_backbone itself.
torch::Tensor run_backbone_prepared(ft_model &m, const torch::Tensor &x);

// conv2d.cpp
// torch::conv2d (the module's forward, for a Conv2d), with a strided 1x1 convolution run on the
// subsampled input where oneDNN gets it wrong (see there): the same numbers.
torch::Tensor conv2d(const torch::Tensor &x, const torch::Tensor &w, const torch::Tensor &b, torch::IntArrayRef stride,
                     torch::IntArrayRef padding, torch::IntArrayRef dilation, int64_t groups);
torch::Tensor conv2d(torch::nn::Conv2dImpl &conv, const torch::Tensor &x);

// adam_fused.cpp
// Adam::step as one parallel pass per parameter, with libtorch's state and arithmetic. False, with
// nothing changed, when it cannot (amsgrad; a parameter, gradient or moment that is not a float32
// contiguous CPU tensor): the caller then runs opt.step().
bool adam_fused_step(torch::optim::Adam &opt);
// Whether optimizers use it by default: yes, unless FROST_ADAM_FUSED=0 (read once).
bool adam_fused_default();

// status.cpp
ft_status *make_status(ft_code code, const std::string &msg) noexcept;
ft_status *status_from_current_exception() noexcept;

}   // namespace frost

// Every exported function body goes inside FT_GUARD_BEGIN / FT_GUARD_END: exceptions become a status.
#define FT_GUARD_BEGIN try {
#define FT_GUARD_END                                   \
    }                                                  \
    catch (...) {                                      \
        return frost::status_from_current_exception(); \
    }
