// model_api.cpp — the exported C functions for models: create, head, freeze, tree, devices,
// forward, and state_dict access. Each body runs inside FT_GUARD so no exception crosses into C. (The
// architectures' names and families are answered by torch_load.c from arch_list.h, without libtorch.)
#include "cpu_allocator.h"
#include "head_name.hpp"
#include "shim_internal.hpp"

#include <torch/cuda.h>
#include <torch/utils.h>

#include <cstring>
#include <stdexcept>

using frost::make_status;

namespace {

bool valid_model(const ft_model *m) { return m && m->root; }

ft_status *bad_arg(const std::string &msg) { return make_status(FT_EINVAL, msg); }

}   // namespace

extern "C" {

// ---------------------------------------------------------------------------------------------
// models

ft_status *ft_model_create(const char *arch, ft_model **out) noexcept {
    if (!arch || !out) return bad_arg("ft_model_create: NULL argument");
    FT_GUARD_BEGIN
    auto m = std::make_unique<ft_model>();
    frost::build_model(*m, arch);
    frost::rebuild_tables(*m);
    *out = m.release();
    return nullptr;
    FT_GUARD_END
}

void ft_model_free(ft_model *m) noexcept {
    try {
        delete m;
    } catch (...) {}
    frost_cpu_cache_release();   // the activations' blocks kept for this model's next batch
}

const char *ft_model_arch(const ft_model *m) noexcept { return m ? m->arch.c_str() : ""; }

int64_t ft_model_num_classes(const ft_model *m) noexcept { return m ? m->num_classes : 0; }

const char *ft_model_head_path(const ft_model *m) noexcept {
    if (!m) return "";
    return frost::head_name(m->family);
}

ft_status *ft_model_replace_head(ft_model *m, int64_t n_classes) noexcept {
    if (!valid_model(m)) return bad_arg("ft_model_replace_head: no model");
    FT_GUARD_BEGIN
    frost::drop_prepared(*m);
    frost::replace_head(*m, n_classes);
    m->class_weight = torch::Tensor();
    m->traced.clear();
    frost::rebuild_tables(*m);
    return nullptr;
    FT_GUARD_END
}

ft_status *ft_model_set_trainable(ft_model *m, const char *path, int trainable) noexcept {
    if (!valid_model(m) || !path) return bad_arg("ft_model_set_trainable: NULL argument");
    FT_GUARD_BEGIN
    auto mod = frost::find_module(*m, path);
    if (!mod) return bad_arg(std::string("no module named '") + path + "'");
    frost::drop_prepared(*m);   // what trains may change: the folded backbone would go stale
    for (auto &p : mod->parameters(true)) p.set_requires_grad(trainable != 0);
    return nullptr;
    FT_GUARD_END
}

void ft_model_set_training(ft_model *m, int training) noexcept {
    if (!valid_model(m)) return;
    try {
        m->root->train(training != 0);
    } catch (...) {}
}

// ---------------------------------------------------------------------------------------------
// the module tree

ft_status *ft_model_nodes(ft_model *m, const ft_node **nodes, size_t *n) noexcept {
    if (!valid_model(m) || !nodes || !n) return bad_arg("ft_model_nodes: NULL argument");
    FT_GUARD_BEGIN
    for (size_t i = 0; i < m->nodes.size(); i++) {
        ft_node &node = m->nodes[i];
        const auto &mod = m->node_modules[i];
        node.params = node.trainable = 0;
        for (const auto &p : mod->parameters(true)) {
            node.params += p.numel();
            if (p.requires_grad()) node.trainable += p.numel();
        }
        auto it = m->traced.find(mod.get());
        node.out_ndim = 0;
        if (it != m->traced.end() && it->second.size() <= FT_MAX_DIMS) {
            node.out_ndim = static_cast<int>(it->second.size());
            for (size_t d = 0; d < it->second.size(); d++) node.out_shape[d] = it->second[d];
        }
    }
    *nodes = m->nodes.data();
    *n = m->nodes.size();
    return nullptr;
    FT_GUARD_END
}

ft_status *ft_model_trace(ft_model *m, int64_t size) noexcept {
    if (!valid_model(m)) return bad_arg("ft_model_trace: no model");
    if (size < 1 || size > 4096) return bad_arg("input size must be between 1 and 4096");
    FT_GUARD_BEGIN
    bool was_training = m->root->is_training();
    m->root->eval();
    m->traced.clear();
    try {
        torch::NoGradGuard no_grad;
        auto x = torch::zeros({1, 3, size, size}, torch::TensorOptions().device(m->device));
        frost::run_module(*m, *m->root, x, true);
    } catch (...) {
        m->root->train(was_training);
        m->traced.clear();
        throw;
    }
    m->root->train(was_training);
    return nullptr;
    FT_GUARD_END
}

// ---------------------------------------------------------------------------------------------
// devices

int ft_cuda_available(void) noexcept {
    try {
        return torch::cuda::is_available() ? 1 : 0;
    } catch (...) {
        return 0;
    }
}

int ft_cuda_device_count(void) noexcept {
    try {
        return static_cast<int>(torch::cuda::device_count());
    } catch (...) {
        return 0;
    }
}

void ft_set_num_threads(int n) noexcept {
    try {
        if (n > 0) torch::set_num_threads(n);
    } catch (...) {}
}

int ft_get_num_threads(void) noexcept {
    try {
        return torch::get_num_threads();
    } catch (...) {
        return 1;
    }
}

ft_status *ft_model_to_device(ft_model *m, const char *device) noexcept {
    if (!valid_model(m) || !device) return bad_arg("ft_model_to_device: NULL argument");
    FT_GUARD_BEGIN
    std::string name = device;
    if (name != "cpu" && name.rfind("cuda", 0) != 0)
        return bad_arg("unknown device '" + name + "' (expected cpu, cuda or cuda:N)");
    torch::Device dev(name);   // throws c10::Error on a malformed "cuda:x"
    if (dev.is_cuda()) {
        if (!torch::cuda::is_available())
            return make_status(FT_EDEVICE, "CUDA is not available (this libtorch has no CUDA, or no GPU is visible)");
        int count = static_cast<int>(torch::cuda::device_count());
        int index = dev.has_index() ? dev.index() : 0;
        if (index >= count)
            return make_status(FT_EDEVICE,
                               "no CUDA device " + std::to_string(index) + " (found " + std::to_string(count) + ")");
        dev = torch::Device(torch::kCUDA, static_cast<c10::DeviceIndex>(index));
    }
    frost::drop_prepared(*m);
    m->root->to(dev);
    m->device = dev;
    m->device_name = dev.str();
    frost::rebuild_tables(*m);
    return nullptr;
    FT_GUARD_END
}

const char *ft_model_device(const ft_model *m) noexcept { return m ? m->device_name.c_str() : ""; }

// ---------------------------------------------------------------------------------------------
// forward

ft_status *ft_model_forward(ft_model *m, const float *input, int64_t n, int64_t c, int64_t h, int64_t w, float *out,
                            size_t out_len) noexcept {
    if (!valid_model(m) || !input || !out) return bad_arg("ft_model_forward: NULL argument");
    if (n < 1 || c != 3 || h < 1 || w < 1)
        return bad_arg("input must be N x 3 x H x W with N, H, W >= 1 (got " + std::to_string(n) + "x" +
                       std::to_string(c) + "x" + std::to_string(h) + "x" + std::to_string(w) + ")");
    if (out_len < static_cast<size_t>(n * m->num_classes))
        return bad_arg("output buffer holds " + std::to_string(out_len) + " floats, " +
                       std::to_string(n * m->num_classes) + " needed");
    FT_GUARD_BEGIN
    torch::NoGradGuard no_grad;
    // from_blob wraps the caller's memory without copying; nothing writes to it (ReLU's in-place
    // variant only ever sees the convolution's fresh output).
    auto x = torch::from_blob(const_cast<float *>(input), {n, c, h, w}, torch::kFloat32);
    if (!m->device.is_cpu()) x = x.to(m->device);
    auto y = frost::run_module(*m, *m->root, x, false).to(torch::kCPU).contiguous();
    if (y.dim() != 2 || y.size(0) != n || y.size(1) != m->num_classes)
        return make_status(FT_ETORCH, "unexpected output shape from the model");
    std::memcpy(out, y.data_ptr<float>(), sizeof(float) * static_cast<size_t>(y.numel()));
    return nullptr;
    FT_GUARD_END
}

// ---------------------------------------------------------------------------------------------
// state_dict

size_t ft_model_state_count(const ft_model *m) noexcept { return m ? m->state_names.size() : 0; }

ft_status *ft_model_state_info(const ft_model *m, size_t i, ft_tensor_info *out) noexcept {
    if (!valid_model(m) || !out) return bad_arg("ft_model_state_info: NULL argument");
    if (i >= m->state_names.size()) return bad_arg("state index out of range");
    FT_GUARD_BEGIN
    const torch::Tensor &t = m->state_tensors[i];
    std::memset(out, 0, sizeof *out);
    out->name = m->state_names[i].c_str();
    if (t.scalar_type() == torch::kFloat32)
        out->dtype = FT_F32;
    else if (t.scalar_type() == torch::kInt64)
        out->dtype = FT_I64;
    else
        return make_status(FT_ETORCH, "tensor '" + m->state_names[i] + "' has an unsupported dtype");
    if (t.dim() > FT_MAX_DIMS) return make_status(FT_ETORCH, "tensor has too many dimensions");
    out->ndim = static_cast<int>(t.dim());
    for (int d = 0; d < out->ndim; d++) out->shape[d] = t.size(d);
    out->nbytes = static_cast<size_t>(t.numel()) * t.element_size();
    out->is_parameter = m->state_is_param[i];
    out->requires_grad = m->state_is_param[i] && t.requires_grad();
    return nullptr;
    FT_GUARD_END
}

ft_status *ft_model_state_get(const ft_model *m, size_t i, void *dst, size_t nbytes) noexcept {
    if (!valid_model(m) || !dst) return bad_arg("ft_model_state_get: NULL argument");
    if (i >= m->state_names.size()) return bad_arg("state index out of range");
    FT_GUARD_BEGIN
    auto t = m->state_tensors[i].detach().to(torch::kCPU).contiguous();
    size_t have = static_cast<size_t>(t.numel()) * t.element_size();
    if (have != nbytes)
        return bad_arg("'" + m->state_names[i] + "' holds " + std::to_string(have) + " bytes, not " +
                       std::to_string(nbytes));
    std::memcpy(dst, t.data_ptr(), nbytes);
    return nullptr;
    FT_GUARD_END
}

ft_status *ft_model_state_set(ft_model *m, size_t i, const void *src, size_t nbytes) noexcept {
    if (!valid_model(m) || (!src && nbytes)) return bad_arg("ft_model_state_set: NULL argument");
    if (i >= m->state_names.size()) return bad_arg("state index out of range");
    FT_GUARD_BEGIN
    torch::NoGradGuard no_grad;
    torch::Tensor &t = m->state_tensors[i];
    size_t want = static_cast<size_t>(t.numel()) * t.element_size();
    if (want != nbytes)
        return bad_arg("'" + m->state_names[i] + "' needs " + std::to_string(want) + " bytes, got " +
                       std::to_string(nbytes));
    frost::drop_prepared(*m);   // a memcpy leaves no version count for the folded copy to notice
    if (t.is_cpu() && t.is_contiguous()) {
        // memcpy, not from_blob: src points into an mmap'd file and may be unaligned
        if (nbytes) std::memcpy(t.data_ptr(), src, nbytes);
    } else {
        auto host = torch::empty(t.sizes(), t.options().device(torch::kCPU));
        if (nbytes) std::memcpy(host.data_ptr(), src, nbytes);
        t.copy_(host);
    }
    return nullptr;
    FT_GUARD_END
}

}   // extern "C"
