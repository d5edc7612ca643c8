// module_info.cpp — a module's hyperparameters for C (ft_model_module_info), read off the options
// libtorch keeps in the module itself, so what the exporter writes is what the forward pass runs with,
// not what the builder meant to build.
#include "shim_internal.hpp"

#include <cstring>

using frost::make_status;

namespace {

namespace nn = torch::nn;

template <typename Array> void pair(int64_t dst[2], const Array &a) {
    dst[0] = a->at(0);
    dst[1] = a->at(1);
}

// Fills out from mod's options; returns an error message, or "" when done.
std::string describe(const frost::ModuleInfo &inf, nn::Module &mod, ft_module_info *out) {
    switch (inf.kind) {
    case frost::Kind::Conv2d: {
        const auto &o = mod.as<nn::Conv2d>()->options;
        if (!frost::option_if<torch::ExpandingArray<2>>(o.padding()))
            return "its padding is given by name (same/valid)";
        if (!frost::option_if<torch::enumtype::kZeros>(o.padding_mode())) return "its padding mode is not zeros";
        if (o.transposed()) return "it is a transposed convolution";
        out->kind = FT_MOD_CONV2D;
        out->in_channels = o.in_channels();
        out->out_channels = o.out_channels();
        out->groups = o.groups();
        pair(out->kernel, o.kernel_size());
        pair(out->stride, o.stride());
        pair(out->padding, *frost::option_if<torch::ExpandingArray<2>>(o.padding()));
        pair(out->dilation, o.dilation());
        out->bias = o.bias() ? 1 : 0;
        return "";
    }
    case frost::Kind::BatchNorm2d: {
        const auto &o = mod.as<nn::BatchNorm2d>()->options;
        out->kind = FT_MOD_BATCHNORM2D;
        out->num_features = o.num_features();
        out->eps = o.eps();
        out->momentum = o.momentum() ? *o.momentum() : -1.0;
        out->affine = o.affine() ? 1 : 0;
        out->track_running_stats = o.track_running_stats() ? 1 : 0;
        return "";
    }
    case frost::Kind::ReLU:
        out->kind = FT_MOD_RELU;
        out->inplace = mod.as<nn::ReLU>()->options.inplace() ? 1 : 0;
        return "";
    case frost::Kind::MaxPool2d: {
        const auto &o = mod.as<nn::MaxPool2d>()->options;
        out->kind = FT_MOD_MAXPOOL2D;
        pair(out->kernel, o.kernel_size());
        pair(out->stride, o.stride());
        pair(out->padding, o.padding());
        pair(out->dilation, o.dilation());
        out->ceil_mode = o.ceil_mode() ? 1 : 0;
        return "";
    }
    case frost::Kind::AdaptiveAvgPool2d: {
        const auto &size = mod.as<nn::AdaptiveAvgPool2d>()->options.output_size();
        out->kind = FT_MOD_ADAPTIVE_AVGPOOL2D;
        for (int d = 0; d < 2; d++) out->output_size[d] = size->at(d) ? *size->at(d) : -1;
        return "";
    }
    case frost::Kind::Linear: {
        const auto &o = mod.as<nn::Linear>()->options;
        out->kind = FT_MOD_LINEAR;
        out->in_features = o.in_features();
        out->out_features = o.out_features();
        out->bias = o.bias() ? 1 : 0;
        return "";
    }
    case frost::Kind::Dropout: {
        const auto &o = mod.as<nn::Dropout>()->options;
        out->kind = FT_MOD_DROPOUT;
        out->p = o.p();
        out->inplace = o.inplace() ? 1 : 0;
        return "";
    }
    default: out->kind = FT_MOD_OTHER; return "";
    }
}

}   // namespace

extern "C" {

ft_status *ft_model_module_info(ft_model *m, size_t node, ft_module_info *out) noexcept {
    if (!m || !m->root || !out) return make_status(FT_EINVAL, "ft_model_module_info: NULL argument");
    if (node >= m->node_modules.size())
        return make_status(FT_EINVAL, "module index " + std::to_string(node) + " out of range (the model has " +
                                          std::to_string(m->node_modules.size()) + ")");
    FT_GUARD_BEGIN
    std::memset(out, 0, sizeof *out);
    nn::Module &mod = *m->node_modules[node];
    std::string why = describe(m->info.at(&mod), mod, out);
    if (!why.empty()) {
        std::memset(out, 0, sizeof *out);
        return make_status(FT_EINVAL,
                           "module '" + m->node_strings[4 * node] + "' (" + m->info.at(&mod).type + "): " + why);
    }
    return nullptr;
    FT_GUARD_END
}

}   // extern "C"
