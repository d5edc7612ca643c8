// gradcam.cpp — Grad-CAM for one image (see frost_torch.h): the forward interpreter captures the chosen
// module's output (model_tree.cpp, ft_model::capture), torch::autograd::grad gives dy/dA for that tensor
// alone, and the map is ReLU(sum_k mean_hw(dy/dA_k) A_k). Parameters' gradients are never asked for, so
// no .grad is written; the model's mode and the capture are put back whatever happens.
#include "shim_internal.hpp"

#include <torch/csrc/autograd/autograd.h>

#include <cstring>
#include <string>

using frost::make_status;

namespace {

namespace nn = torch::nn;

// Puts the model's mode back and ends the capture, on every way out.
struct Restore {
    ft_model &m;
    bool was_training;
    explicit Restore(ft_model &model) : m(model), was_training(model.root->is_training()) {}
    ~Restore() {
        m.capture = nullptr;
        m.captured = torch::Tensor();
        m.root->train(was_training);
    }
};

std::string default_layer(ft_model &m) {
    if (m.family == FT_FAMILY_RESNET) return "layer4";
    auto features = frost::find_module(m, "features");
    if (!features) return "";
    std::string last;
    for (const auto &c : features->named_children())
        if (m.info.at(c.value().get()).kind == frost::Kind::Conv2d) last = "features." + c.key();
    return last;
}

std::string shape_text(const torch::Tensor &t) {
    std::string s;
    for (int64_t d : t.sizes()) s += (s.empty() ? "" : "x") + std::to_string(d);
    return s;
}

}   // namespace

extern "C" {

const char *ft_model_gradcam_default_layer(ft_model *m) noexcept {
    if (!m || !m->root) return "";
    try {
        m->gradcam_layer = default_layer(*m);
        return m->gradcam_layer.c_str();
    } catch (...) {
        return "";
    }
}

ft_status *ft_model_gradcam(ft_model *m, const float *x, int64_t size, const char *layer, int64_t cls, float *map,
                            size_t map_len, int64_t *h, int64_t *w, int64_t *used_cls, float *logits_out) noexcept {
    if (!m || !m->root || !x || !h || !w || !used_cls || (!map && map_len))
        return make_status(FT_EINVAL, "ft_model_gradcam: NULL argument");
    if (size < 1 || size > 4096) return make_status(FT_EINVAL, "input size must be between 1 and 4096");
    if (cls < -1 || cls >= m->num_classes)
        return make_status(FT_EINVAL, "class " + std::to_string(cls) + " is out of range (the model has " +
                                          std::to_string(m->num_classes) + " classes: 0 to " +
                                          std::to_string(m->num_classes - 1) + ")");
    *h = *w = 0;
    FT_GUARD_BEGIN
    std::string path = layer && *layer ? layer : default_layer(*m);
    auto mod = frost::find_module(*m, path);
    if (!mod || path.empty())
        return make_status(FT_EINVAL, "'" + path + "' is not a module of " + m->arch + " (a module path such as " +
                                          default_layer(*m) + "; frost print lists them)");
    Restore restore(*m);
    m->root->eval();
    m->capture = mod.get();

    torch::Tensor logits, A;
    {
        // nothing records a graph until the captured module switches recording on (model_tree.cpp);
        // the guard puts the caller's setting back
        torch::AutoGradMode no_grad(false);
        auto in = torch::from_blob(const_cast<float *>(x), {1, 3, size, size}, torch::kFloat32);
        if (!m->device.is_cpu()) in = in.to(m->device);
        logits = frost::run_module(*m, *m->root, in, false);
        A = m->captured;
    }
    if (!A.defined()) return make_status(FT_EINVAL, "module '" + path + "' was not called by the forward pass");
    if (A.dim() != 4)
        return make_status(FT_EINVAL, "module '" + path + "' gives a " + std::to_string(A.dim()) +
                                          "-dimensional output (" + shape_text(A) +
                                          "); Grad-CAM needs a convolutional layer's N x C x H x W output");
    *h = A.size(2);
    *w = A.size(3);
    if (map_len < static_cast<size_t>(*h * *w))
        return make_status(FT_EINVAL, "the map buffer holds " + std::to_string(map_len) + " floats, " +
                                          std::to_string(*h * *w) + " needed");
    if (logits.dim() != 2 || logits.size(0) != 1 || logits.size(1) != m->num_classes)
        return make_status(FT_ETORCH, "unexpected output shape from the model");

    auto lc = logits.detach().to(torch::kCPU).contiguous();
    const float *lv = lc.data_ptr<float>();
    int64_t c = cls;
    if (c < 0) {
        c = 0;
        for (int64_t k = 1; k < m->num_classes; k++)
            if (lv[k] > lv[c]) c = k;
    }
    auto y = logits.select(0, 0).select(0, c);
    torch::Tensor g;
    if (y.requires_grad()) g = torch::autograd::grad({y}, {A}, {}, false, false, true)[0];
    if (!g.defined()) g = torch::zeros_like(A);   // y does not depend on the layer: no evidence there
    auto alpha = g.mean({2, 3}, true);
    auto cam = torch::relu((alpha * A.detach()).sum(1)).squeeze(0).to(torch::kCPU).contiguous();
    std::memcpy(map, cam.data_ptr<float>(), sizeof(float) * static_cast<size_t>(cam.numel()));
    if (logits_out) std::memcpy(logits_out, lv, sizeof(float) * static_cast<size_t>(m->num_classes));
    *used_cls = c;
    return nullptr;
    FT_GUARD_END
}

}   // extern "C"
