// model_build.cpp — torchvision 0.14's VGG and ResNet families, rebuilt module for module.
//
// Each module is registered under torchvision's attribute name and in torchvision's order, so the
// parameter names, the state_dict order and the printed tree come out as PyTorch's. Next to each
// module we record its PyTorch class name and extra_repr() (ModuleInfo), written here from the same
// numbers the module is built from. Initialisation follows torchvision: VGG's kaiming-normal convs,
// N(0, 0.01) linears and zero biases; ResNet's kaiming-normal convs; BatchNorm weight 1, bias 0;
// everything else (the ResNet fc, a replaced head) keeps PyTorch's default reset_parameters().
// Limits: ResNet with groups=1 and width 64 only (no ResNeXt / wide variants), no dilation.
#include "arch_list.h"
#include "head_name.hpp"
#include "shim_internal.hpp"

#include <cmath>
#include <stdexcept>

namespace frost {
namespace {

namespace nn = torch::nn;
using ModulePtr = std::shared_ptr<nn::Module>;

// ---------------------------------------------------------------------------------------------
// registering a module together with its PyTorch description

template <typename Holder>
Holder add(ft_model &m, nn::Module &parent, const std::string &name, Holder h, Kind kind, const std::string &type,
           const std::string &extra) {
    parent.register_module(name, h);
    m.info[h.ptr().get()] = ModuleInfo{kind, type, extra};
    return h;
}

std::shared_ptr<BoxImpl> box(ft_model &m, const std::string &type, Kind kind) {
    auto b = std::make_shared<BoxImpl>(type);
    m.info[b.get()] = ModuleInfo{kind, type, ""};
    return b;
}

std::shared_ptr<BoxImpl> add_box(ft_model &m, nn::Module &parent, const std::string &name, const std::string &type,
                                 Kind kind) {
    auto b = box(m, type, kind);
    parent.register_module(name, b);
    return b;
}

std::string pair(int64_t v) { return "(" + std::to_string(v) + ", " + std::to_string(v) + ")"; }

nn::Conv2d conv(ft_model &m, nn::Module &parent, const std::string &name, int64_t in, int64_t out, int64_t k,
                int64_t stride, int64_t pad, bool bias) {
    std::string extra =
        std::to_string(in) + ", " + std::to_string(out) + ", kernel_size=" + pair(k) + ", stride=" + pair(stride);
    if (pad != 0) extra += ", padding=" + pair(pad);
    if (!bias) extra += ", bias=False";
    auto opts = nn::Conv2dOptions(in, out, k).stride(stride).padding(pad).bias(bias);
    return add(m, parent, name, nn::Conv2d(opts), Kind::Conv2d, "Conv2d", extra);
}

nn::BatchNorm2d batchnorm(ft_model &m, nn::Module &parent, const std::string &name, int64_t n) {
    std::string extra = std::to_string(n) + ", eps=1e-05, momentum=0.1, affine=True, track_running_stats=True";
    return add(m, parent, name, nn::BatchNorm2d(n), Kind::BatchNorm2d, "BatchNorm2d", extra);
}

nn::ReLU relu(ft_model &m, nn::Module &parent, const std::string &name, bool inplace) {
    return add(m, parent, name, nn::ReLU(nn::ReLUOptions(inplace)), Kind::ReLU, "ReLU", inplace ? "inplace=True" : "");
}

nn::MaxPool2d maxpool(ft_model &m, nn::Module &parent, const std::string &name, int64_t k, int64_t stride,
                      int64_t pad) {
    std::string extra = "kernel_size=" + std::to_string(k) + ", stride=" + std::to_string(stride) +
                        ", padding=" + std::to_string(pad) + ", dilation=1, ceil_mode=False";
    auto opts = nn::MaxPool2dOptions(k).stride(stride).padding(pad);
    return add(m, parent, name, nn::MaxPool2d(opts), Kind::MaxPool2d, "MaxPool2d", extra);
}

nn::AdaptiveAvgPool2d avgpool(ft_model &m, nn::Module &parent, const std::string &name, int64_t s) {
    return add(m, parent, name, nn::AdaptiveAvgPool2d(nn::AdaptiveAvgPool2dOptions({s, s})), Kind::AdaptiveAvgPool2d,
               "AdaptiveAvgPool2d", "output_size=" + pair(s));
}

nn::Linear linear(ft_model &m, nn::Module &parent, const std::string &name, int64_t in, int64_t out) {
    std::string extra = "in_features=" + std::to_string(in) + ", out_features=" + std::to_string(out) + ", bias=True";
    return add(m, parent, name, nn::Linear(in, out), Kind::Linear, "Linear", extra);
}

nn::Dropout dropout(ft_model &m, nn::Module &parent, const std::string &name, double p) {
    // PyTorch prints p with Python's float repr; 0.5 is the only value torchvision and the seed use.
    if (p != 0.5) throw std::invalid_argument("dropout other than 0.5 is not supported");
    return add(m, parent, name, nn::Dropout(nn::DropoutOptions(p)), Kind::Dropout, "Dropout", "p=0.5, inplace=False");
}

// ---------------------------------------------------------------------------------------------
// the architectures

struct ArchSpec {
    const char *name;
    ft_family family;
    int config;        // VGG: index into kVggCfg; ResNet: depth
    bool batch_norm;   // VGG only
};

#define FROST_ARCH_SPEC(name, family, config, batch_norm) {name, family, config, batch_norm != 0},
const ArchSpec kArchs[] = {FROST_ARCHS(FROST_ARCH_SPEC)};
#undef FROST_ARCH_SPEC

const ArchSpec *find_arch(const std::string &name) {
    for (const auto &a : kArchs)
        if (name == a.name) return &a;
    return nullptr;
}

// torchvision's cfgs "A", "B", "D", "E"; 0 stands for "M" (max pool).
const std::vector<int> kVggCfg[] = {
    {64, 0, 128, 0, 256, 256, 0, 512, 512, 0, 512, 512, 0},
    {64, 64, 0, 128, 128, 0, 256, 256, 0, 512, 512, 0, 512, 512, 0},
    {64, 64, 0, 128, 128, 0, 256, 256, 256, 0, 512, 512, 512, 0, 512, 512, 512, 0},
    {64, 64, 0, 128, 128, 0, 256, 256, 256, 256, 0, 512, 512, 512, 512, 0, 512, 512, 512, 512, 0},
};

void build_vgg(ft_model &m, const ArchSpec &spec) {
    auto root = box(m, "VGG", Kind::VGG);
    m.root = root;
    auto features = add_box(m, *root, "features", "Sequential", Kind::Sequential);
    int64_t in = 3, idx = 0;
    for (int v : kVggCfg[spec.config]) {
        if (v == 0) {
            maxpool(m, *features, std::to_string(idx++), 2, 2, 0);
            continue;
        }
        auto c = conv(m, *features, std::to_string(idx++), in, v, 3, 1, 1, true);
        torch::nn::init::kaiming_normal_(c->weight, 0, torch::kFanOut, torch::kReLU);
        torch::nn::init::zeros_(c->bias);
        if (spec.batch_norm) batchnorm(m, *features, std::to_string(idx++), v);
        relu(m, *features, std::to_string(idx++), true);
        in = v;
    }
    avgpool(m, *root, "avgpool", 7);
    auto cls = add_box(m, *root, "classifier", "Sequential", Kind::Sequential);
    const int64_t sizes[][2] = {{512 * 7 * 7, 4096}, {4096, 4096}, {4096, 1000}};
    for (int i = 0; i < 3; i++) {
        auto l = linear(m, *cls, std::to_string(3 * i), sizes[i][0], sizes[i][1]);
        torch::nn::init::normal_(l->weight, 0, 0.01);
        torch::nn::init::zeros_(l->bias);
        if (i == 2) break;
        relu(m, *cls, std::to_string(3 * i + 1), true);
        dropout(m, *cls, std::to_string(3 * i + 2), 0.5);
    }
}

void init_conv_kaiming(nn::Conv2d &c) { torch::nn::init::kaiming_normal_(c->weight, 0, torch::kFanOut, torch::kReLU); }

// BasicBlock (expansion 1) or Bottleneck (expansion 4), as torchvision's v1.5 ResNet: the stride
// sits on the 3x3 convolution.
void resnet_block(ft_model &m, nn::Module &parent, const std::string &name, bool bottleneck, int64_t inplanes,
                  int64_t planes, int64_t stride) {
    const int64_t expansion = bottleneck ? 4 : 1;
    auto b = add_box(m, parent, name, bottleneck ? "Bottleneck" : "BasicBlock",
                     bottleneck ? Kind::Bottleneck : Kind::BasicBlock);
    std::vector<nn::Conv2d> convs;
    if (bottleneck) {
        convs.push_back(conv(m, *b, "conv1", inplanes, planes, 1, 1, 0, false));
        batchnorm(m, *b, "bn1", planes);
        convs.push_back(conv(m, *b, "conv2", planes, planes, 3, stride, 1, false));
        batchnorm(m, *b, "bn2", planes);
        convs.push_back(conv(m, *b, "conv3", planes, planes * expansion, 1, 1, 0, false));
        batchnorm(m, *b, "bn3", planes * expansion);
        relu(m, *b, "relu", true);
    } else {
        convs.push_back(conv(m, *b, "conv1", inplanes, planes, 3, stride, 1, false));
        batchnorm(m, *b, "bn1", planes);
        relu(m, *b, "relu", true);
        convs.push_back(conv(m, *b, "conv2", planes, planes, 3, 1, 1, false));
        batchnorm(m, *b, "bn2", planes);
    }
    if (stride != 1 || inplanes != planes * expansion) {
        auto ds = add_box(m, *b, "downsample", "Sequential", Kind::Sequential);
        convs.push_back(conv(m, *ds, "0", inplanes, planes * expansion, 1, stride, 0, false));
        batchnorm(m, *ds, "1", planes * expansion);
    }
    for (auto &c : convs) init_conv_kaiming(c);
}

void build_resnet(ft_model &m, const ArchSpec &spec) {
    bool bottleneck = spec.config >= 50;
    std::vector<int> blocks;
    switch (spec.config) {
    case 18: blocks = {2, 2, 2, 2}; break;
    case 34: blocks = {3, 4, 6, 3}; break;
    case 50: blocks = {3, 4, 6, 3}; break;
    case 101: blocks = {3, 4, 23, 3}; break;
    default: blocks = {3, 8, 36, 3}; break;
    }
    auto root = box(m, "ResNet", Kind::ResNet);
    m.root = root;
    auto c1 = conv(m, *root, "conv1", 3, 64, 7, 2, 3, false);
    init_conv_kaiming(c1);
    batchnorm(m, *root, "bn1", 64);
    relu(m, *root, "relu", true);
    maxpool(m, *root, "maxpool", 3, 2, 1);
    int64_t inplanes = 64;
    const int64_t expansion = bottleneck ? 4 : 1;
    for (int l = 0; l < 4; l++) {
        int64_t planes = 64 << l;
        auto layer = add_box(m, *root, "layer" + std::to_string(l + 1), "Sequential", Kind::Sequential);
        for (int i = 0; i < blocks[l]; i++) {
            int64_t stride = (i == 0 && l > 0) ? 2 : 1;
            resnet_block(m, *layer, std::to_string(i), bottleneck, inplanes, planes, stride);
            inplanes = planes * expansion;
        }
    }
    avgpool(m, *root, "avgpool", 1);
    linear(m, *root, "fc", 512 * expansion, 1000);
}

}   // namespace

// ---------------------------------------------------------------------------------------------

void build_model(ft_model &m, const std::string &arch) {
    const ArchSpec *spec = find_arch(arch);
    if (!spec) throw std::invalid_argument("unknown architecture '" + arch + "'");
    torch::NoGradGuard no_grad;
    m.arch = arch;
    m.family = spec->family;
    m.num_classes = 1000;
    if (spec->family == FT_FAMILY_VGG)
        build_vgg(m, *spec);
    else
        build_resnet(m, *spec);
}

void replace_head(ft_model &m, int64_t n_classes) {
    if (n_classes < 1) throw std::invalid_argument("the number of classes must be at least 1");
    torch::NoGradGuard no_grad;
    // Forget the descriptions of the modules that go away.
    for (const auto &old : find_module(m, head_name(m.family))->modules()) m.info.erase(old.get());
    // The new head is built on the CPU with PyTorch's default Linear init, then moved to the
    // model's device, as `model.classifier = nn.Sequential(...)` followed by `.to(device)`.
    if (m.family == FT_FAMILY_VGG) {
        auto head = box(m, "Sequential", Kind::Sequential);
        linear(m, *head, "0", 512 * 7 * 7, 4096);
        relu(m, *head, "1", false);
        dropout(m, *head, "2", 0.5);
        linear(m, *head, "3", 4096, 4096);
        relu(m, *head, "4", false);
        dropout(m, *head, "5", 0.5);
        linear(m, *head, "6", 4096, n_classes);
        head->to(m.device);
        head->train(m.root->is_training());
        m.root->replace_module(head_name(m.family), std::static_pointer_cast<nn::Module>(head));
    } else {
        auto old = m.root->named_children()[head_name(m.family)];
        int64_t in = old->as<nn::Linear>()->options.in_features();
        auto tmp = std::make_shared<BoxImpl>("tmp");
        auto fc = linear(m, *tmp, "fc", in, n_classes);
        fc->to(m.device);
        fc->train(m.root->is_training());
        m.root->replace_module(head_name(m.family), fc.ptr());
    }
    m.num_classes = n_classes;
}

}   // namespace frost
