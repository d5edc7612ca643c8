// fast_backbone.cpp — the frozen backbone prepared for inference: ft_model_set_precision and what
// ft_model_features runs when it is set.
//
// The feature cache runs everything before the head once per image, with nothing trained there, so
// that part can be rewritten for speed: each BatchNorm (eval: running statistics) is folded into the
// convolution before it, w' = w * g / sqrt(v + eps) and b' = (b - m) * g / sqrt(v + eps) + beta
// (computed in double, then cast), and activations flow in channels_last memory (oneDNN's fast
// layout on the CPU, cuDNN's tensor-core layout on a GPU); FT_PRECISION_BF16 also stores weights and
// activations in bfloat16. The copy is a flat list of ops (convolution with its folded bias, in-place
// ReLU, max pool, adaptive average pool, a residual block) run with torch's functional calls; it walks
// the model as run_backbone and run_block do: VGG's features then avgpool, ResNet's conv1, bn1, relu,
// maxpool, layer1..4 (BasicBlock, Bottleneck, downsample = Sequential(conv, bn)) and avgpool.
//
// Limits. The copy is a snapshot of the weights. ft_model_state_set, ft_model_to_device,
// ft_model_set_trainable and ft_model_replace_head drop it (drop_prepared); as a second line, each run
// checks that no source tensor was replaced or written in place (libtorch's version counter: optimizer
// steps, copy_) and that the BatchNorm running statistics equal the snapshot's (a training-mode
// forward updates them without counting a version), and drops the copy otherwise. A BatchNorm in
// training mode normalises with batch statistics, which cannot be folded: that run goes through the
// modules as built. Only ft_model_features uses the copy; steps on whole images and the head stay
// fp32 and exact. bf16 on the CPU needs avx512_bf16 or amx_bf16 (oneDNN emulates it otherwise, slower
// than fp32); on CUDA bf16 is allowed and left to cuDNN.
#include "shim_internal.hpp"

#include <fstream>
#include <sstream>
#include <stdexcept>

using frost::make_status;

namespace frost {
namespace {

namespace nn = torch::nn;
using ModulePtr = std::shared_ptr<nn::Module>;

// A convolution with its BatchNorm folded in.
struct Conv {
    torch::Tensor w, b;
    std::vector<int64_t> stride, padding, dilation;
    int64_t groups = 1;
};

struct Op {
    enum class Type { Conv, ReLU, MaxPool, AvgPool, Block } type;
    Conv conv;                          // Conv
    std::vector<Conv> body;             // Block: conv1, conv2(, conv3), a ReLU after each but the last
    std::unique_ptr<Conv> downsample;   // Block: the identity's convolution, if any
    std::vector<int64_t> kernel, stride, padding, dilation;   // MaxPool
    bool ceil_mode = false;                                   // MaxPool
    std::vector<int64_t> out_size;                            // AvgPool (-1 would be None: refused)
};

// A source tensor as the snapshot saw it.
struct Watched {
    torch::Tensor t;
    const void *data;
    int64_t version;
    torch::Tensor copy;   // small tensors (BatchNorm statistics): their values, compared at each run
};

}   // namespace

struct Prepared {
    ft_precision precision = FT_PRECISION_FP32;
    torch::ScalarType dtype = torch::kFloat32;
    torch::Device device{torch::kCPU};
    std::vector<Op> ops;
    std::vector<ModulePtr> batchnorms;   // folded away: each must stay in eval mode
    std::vector<Watched> watched;
};

void PreparedDelete::operator()(Prepared *p) const noexcept { delete p; }

namespace {

ModulePtr child(nn::Module &m, const char *name) {
    auto children = m.named_children();   // a dict by value: alive while its entry is read
    auto *p = children.find(name);
    if (!p) throw std::logic_error(std::string("module has no child '") + name + "'");
    return *p;
}

Kind kind_of(const ft_model &m, const ModulePtr &mod) { return m.info.at(mod.get()).kind; }

void watch(Prepared &p, const torch::Tensor &t, bool by_value) {
    if (!t.defined()) return;
    p.watched.push_back(Watched{t, t.data_ptr(), t._version(), by_value ? t.detach().clone() : torch::Tensor()});
}

// Conv2d `conv` with BatchNorm2d `bn` (may be null) folded in, in p's dtype and layout.
Conv fold(Prepared &p, const ModulePtr &conv_mod, const ModulePtr &bn_mod) {
    auto *c = conv_mod->as<nn::Conv2d>();
    const auto &o = c->options;
    if (!frost::option_if<torch::ExpandingArray<2>>(o.padding()) ||
        !frost::option_if<torch::enumtype::kZeros>(o.padding_mode()))
        throw std::invalid_argument("a convolution padded by name or not with zeros cannot be prepared");
    torch::Tensor w = c->weight.detach().to(torch::kDouble);
    torch::Tensor b = c->bias.defined() ? c->bias.detach().to(torch::kDouble) : torch::zeros({w.size(0)}, w.options());
    watch(p, c->weight, false);
    watch(p, c->bias, false);
    if (bn_mod) {
        auto *bn = bn_mod->as<nn::BatchNorm2d>();
        if (!bn->options.track_running_stats() || !bn->running_mean.defined())
            throw std::invalid_argument("a BatchNorm without running statistics cannot be folded");
        torch::Tensor scale = (bn->running_var.detach().to(torch::kDouble) + bn->options.eps()).rsqrt();
        torch::Tensor shift = torch::zeros_like(scale);
        if (bn->options.affine()) {
            scale = scale * bn->weight.detach().to(torch::kDouble);
            shift = bn->bias.detach().to(torch::kDouble);
        }
        w = w * scale.view({-1, 1, 1, 1});
        b = (b - bn->running_mean.detach().to(torch::kDouble)) * scale + shift;
        for (const torch::Tensor &t : {bn->weight, bn->bias, bn->running_mean, bn->running_var}) watch(p, t, true);
        p.batchnorms.push_back(bn_mod);
    }
    Conv out;
    out.w = w.to(p.device, p.dtype).contiguous(torch::MemoryFormat::ChannelsLast);
    out.b = b.to(p.device, p.dtype);
    auto pair = [](const torch::ExpandingArray<2> &a) { return std::vector<int64_t>{a->at(0), a->at(1)}; };
    out.stride = pair(o.stride());
    out.padding = pair(*frost::option_if<torch::ExpandingArray<2>>(o.padding()));
    out.dilation = pair(o.dilation());
    out.groups = o.groups();
    return out;
}

Op conv_op(Prepared &p, const ModulePtr &conv, const ModulePtr &bn) {
    Op op{Op::Type::Conv, fold(p, conv, bn), {}, nullptr, {}, {}, {}, {}, false, {}};
    return op;
}

Op simple_op(Op::Type type) { return Op{type, Conv{}, {}, nullptr, {}, {}, {}, {}, false, {}}; }

// One leaf module (not a Conv2d or BatchNorm2d: those are folded by the caller).
Op leaf_op(const ft_model &m, const ModulePtr &mod) {
    switch (kind_of(m, mod)) {
    case Kind::ReLU: return simple_op(Op::Type::ReLU);
    case Kind::MaxPool2d: {
        const auto &o = mod->as<nn::MaxPool2d>()->options;
        Op op = simple_op(Op::Type::MaxPool);
        for (int d = 0; d < 2; d++) {
            op.kernel.push_back(o.kernel_size()->at(d));
            op.stride.push_back(o.stride()->at(d));
            op.padding.push_back(o.padding()->at(d));
            op.dilation.push_back(o.dilation()->at(d));
        }
        op.ceil_mode = o.ceil_mode();
        return op;
    }
    case Kind::AdaptiveAvgPool2d: {
        const auto &size = mod->as<nn::AdaptiveAvgPool2d>()->options.output_size();
        Op op = simple_op(Op::Type::AvgPool);
        for (int d = 0; d < 2; d++) {
            if (!size->at(d)) throw std::invalid_argument("an AdaptiveAvgPool2d with a None size cannot be prepared");
            op.out_size.push_back(*size->at(d));
        }
        return op;
    }
    default: throw std::invalid_argument("the backbone holds a module the prepared form does not run");
    }
}

// A Sequential of plain layers (VGG's features): each Conv2d takes the BatchNorm2d right after it.
void add_sequential(const ft_model &m, Prepared &p, nn::Module &seq) {
    auto children = seq.children();
    for (size_t i = 0; i < children.size(); i++) {
        Kind k = kind_of(m, children[i]);
        if (k == Kind::Conv2d) {
            bool bn = i + 1 < children.size() && kind_of(m, children[i + 1]) == Kind::BatchNorm2d;
            p.ops.push_back(conv_op(p, children[i], bn ? children[i + 1] : nullptr));
            if (bn) i++;
        } else if (k == Kind::BatchNorm2d) {
            throw std::invalid_argument("a BatchNorm2d that follows no convolution cannot be folded");
        } else {
            p.ops.push_back(leaf_op(m, children[i]));
        }
    }
}

// A ResNet stage: a Sequential of BasicBlock or Bottleneck.
void add_layer(const ft_model &m, Prepared &p, nn::Module &layer) {
    for (const auto &b : layer.children()) {
        Kind k = kind_of(m, b);
        if (k != Kind::BasicBlock && k != Kind::Bottleneck)
            throw std::invalid_argument("a ResNet stage holds something other than residual blocks");
        Op op = simple_op(Op::Type::Block);
        int n = k == Kind::Bottleneck ? 3 : 2;
        for (int i = 1; i <= n; i++) {
            std::string conv = "conv" + std::to_string(i), bn = "bn" + std::to_string(i);
            op.body.push_back(fold(p, child(*b, conv.c_str()), child(*b, bn.c_str())));
        }
        if (b->named_children().contains("downsample")) {
            auto down = child(*b, "downsample")->children();
            if (down.size() != 2 || kind_of(m, down[0]) != Kind::Conv2d || kind_of(m, down[1]) != Kind::BatchNorm2d)
                throw std::invalid_argument("a downsample other than Sequential(Conv2d, BatchNorm2d)");
            op.downsample = std::make_unique<Conv>(fold(p, down[0], down[1]));
        }
        p.ops.push_back(std::move(op));
    }
}

std::unique_ptr<Prepared, PreparedDelete> prepare(ft_model &m, ft_precision precision) {
    std::unique_ptr<Prepared, PreparedDelete> p(new Prepared);
    p->precision = precision;
    p->dtype = precision == FT_PRECISION_BF16 ? torch::kBFloat16 : torch::kFloat32;
    p->device = m.device;
    torch::NoGradGuard no_grad;
    nn::Module &root = *m.root;
    if (m.family == FT_FAMILY_VGG) {
        add_sequential(m, *p, *child(root, "features"));
        p->ops.push_back(leaf_op(m, child(root, "avgpool")));
    } else {
        p->ops.push_back(conv_op(*p, child(root, "conv1"), child(root, "bn1")));
        p->ops.push_back(leaf_op(m, child(root, "relu")));
        p->ops.push_back(leaf_op(m, child(root, "maxpool")));
        for (const char *name : {"layer1", "layer2", "layer3", "layer4"}) add_layer(m, *p, *child(root, name));
        p->ops.push_back(leaf_op(m, child(root, "avgpool")));
    }
    return p;
}

torch::Tensor conv(const Conv &c, const torch::Tensor &x) {
    return frost::conv2d(x, c.w, c.b, c.stride, c.padding, c.dilation, c.groups);
}

torch::Tensor run_ops(const Prepared &p, torch::Tensor x) {
    for (const Op &op : p.ops) {
        switch (op.type) {
        case Op::Type::Conv: x = conv(op.conv, x); break;
        case Op::Type::ReLU: x.relu_(); break;   // every op's output is a fresh tensor: in place is safe
        case Op::Type::MaxPool:
            x = torch::max_pool2d(x, op.kernel, op.stride, op.padding, op.dilation, op.ceil_mode);
            break;
        case Op::Type::AvgPool: x = torch::adaptive_avg_pool2d(x, op.out_size); break;
        case Op::Type::Block: {
            torch::Tensor out = x;
            for (size_t i = 0; i < op.body.size(); i++) {
                out = conv(op.body[i], out);
                if (i + 1 < op.body.size()) out.relu_();
            }
            out.add_(op.downsample ? conv(*op.downsample, x) : x);
            x = out.relu_();
            break;
        }
        }
    }
    return x;
}

// 1 while every source tensor is the one the snapshot read, unwritten.
bool still_valid(const Prepared &p) {
    for (const Watched &w : p.watched) {
        if (w.t.data_ptr() != w.data || w.t._version() != w.version) return false;
        if (w.copy.defined() && !torch::equal(w.t, w.copy)) return false;
    }
    return true;
}

bool read_cpu_bf16() {
    std::ifstream f("/proc/cpuinfo");
    std::string line;
    while (std::getline(f, line)) {
        if (line.rfind("flags", 0) != 0) continue;
        std::istringstream words(line);
        std::string w;
        while (words >> w)
            if (w == "avx512_bf16" || w == "amx_bf16") return true;
        return false;   // the first processor's flags stand for all
    }
    return false;
}

}   // namespace

void drop_prepared(ft_model &m) noexcept { m.prepared.reset(); }

torch::Tensor run_backbone_prepared(ft_model &m, const torch::Tensor &x) {
    Prepared *p = m.prepared.get();
    if (p && (p->device != m.device || !still_valid(*p))) {
        drop_prepared(m);   // the weights moved on: back to FP32, as ft_model_precision now says
        p = nullptr;
    }
    bool folded = p != nullptr;
    for (size_t i = 0; folded && i < p->batchnorms.size(); i++) folded = !p->batchnorms[i]->is_training();
    if (!folded) {
        torch::Tensor f = run_backbone(m, x);
        if (p && !still_valid(*p)) drop_prepared(m);   // batch statistics moved the running ones
        return f;
    }
    torch::Tensor in = x.to(p->dtype).contiguous(torch::MemoryFormat::ChannelsLast);
    // NCHW order before flattening, so VGG's 512x7x7 features come in the order its head reads
    return torch::flatten(run_ops(*p, in).to(torch::kFloat32).contiguous(), 1);
}

}   // namespace frost

extern "C" {

int ft_cpu_has_bf16(void) noexcept {
    try {
        static const bool has = frost::read_cpu_bf16();
        return has ? 1 : 0;
    } catch (...) {
        return 0;
    }
}

ft_precision ft_model_precision(const ft_model *m) noexcept {
    return m && m->prepared ? m->prepared->precision : FT_PRECISION_FP32;
}

ft_status *ft_model_set_precision(ft_model *m, ft_precision p) noexcept {
    if (!m || !m->root) return make_status(FT_EINVAL, "ft_model_set_precision: no model");
    if (p != FT_PRECISION_FP32 && p != FT_PRECISION_FAST && p != FT_PRECISION_BF16)
        return make_status(FT_EINVAL, "unknown precision " + std::to_string(static_cast<int>(p)));
    FT_GUARD_BEGIN
    frost::drop_prepared(*m);
    if (p == FT_PRECISION_FP32) return nullptr;
    const char *name = p == FT_PRECISION_FAST ? "fast" : "bf16";
    if (!ft_model_backbone_frozen(m))
        return make_status(FT_EINVAL, std::string("precision ") + name +
                                          " needs a frozen backbone (only the head trainable): it folds the "
                                          "backbone's weights once");
    if (p == FT_PRECISION_BF16 && m->device.is_cpu() && !ft_cpu_has_bf16())
        return make_status(FT_EINVAL, "precision bf16 needs a CPU with bfloat16 instructions (avx512_bf16 or "
                                      "amx_bf16), which this one lacks; fast (fp32) is the quick choice here");
    m->prepared = frost::prepare(*m, p);
    return nullptr;
    FT_GUARD_END
}

}   // extern "C"
