// calls_api.cpp — the leaf module calls of one forward pass, with what each costs: multiply-adds
// (a convolution: its output elements times its kernel's in_channels/groups x kh x kw; a linear
// layer: its output elements times in_features — the count published for torchvision's models), its
// input and output sizes, and the tensors autograd keeps for the backward pass when the call records
// gradients, as libtorch 1.13 keeps them:
//   Conv2d, Linear, BatchNorm2d   the input (float)
//   ReLU (in place)               the output, which is the tensor it was given
//   MaxPool2d                     the input, and the indices of the maxima (int64, output-sized)
//   BatchNorm2d in train mode     also its batch's mean and inverse deviation (per channel: core adds
//                                 them, since they do not grow with the batch)
//   Dropout                       its mask (a float per element on the CPU); its output is a new
//                                 tensor (the interpreter copies it while it records: in eval mode
//                                 Dropout would hand its input through)
//   AdaptiveAvgPool2d             the input (its backward reads the input's shape from it)
// A tensor's identity is its memory: the interpreter keeps every call's tensors alive while it
// records, so no two live tensors share an address and two calls keeping one tensor keep it once.
#include "shim_internal.hpp"

#include <unordered_map>

using frost::make_status;

namespace {

constexpr uint64_t kOwnTensor = 1ull << 63;   // ids for tensors that are not a call's input or output

uint64_t id_of(const torch::Tensor &t) { return static_cast<uint64_t>(reinterpret_cast<uintptr_t>(t.data_ptr())); }

ft_call_kind kind_of(frost::Kind k) {
    switch (k) {
    case frost::Kind::Conv2d: return FT_CALL_CONV;
    case frost::Kind::BatchNorm2d: return FT_CALL_BATCHNORM;
    case frost::Kind::ReLU: return FT_CALL_RELU;
    case frost::Kind::MaxPool2d: return FT_CALL_MAXPOOL;
    case frost::Kind::AdaptiveAvgPool2d: return FT_CALL_AVGPOOL;
    case frost::Kind::Linear: return FT_CALL_LINEAR;
    default: return FT_CALL_DROPOUT;
    }
}

}   // namespace

extern "C" {

ft_status *ft_model_calls(ft_model *m, int64_t size, const ft_call **calls, size_t *n) noexcept {
    if (!m || !m->root || !calls || !n) return make_status(FT_EINVAL, "ft_model_calls: NULL argument");
    if (size < 16 || size > 4096) return make_status(FT_EINVAL, "input size must be between 16 and 4096");
    FT_GUARD_BEGIN
    if (m->call_size == size && m->call_modules.size() == m->call_table.size()) {
        // the same model at the same size: only the trainable flags may have changed since
        for (size_t i = 0; i < m->call_table.size(); i++) {
            m->call_table[i].trainable = 0;
            for (const auto &p : m->call_modules[i]->parameters(true))
                m->call_table[i].trainable |= p.requires_grad() ? 1 : 0;
        }
        *calls = m->call_table.data();
        *n = m->call_table.size();
        return nullptr;
    }
    std::unordered_map<const torch::nn::Module *, size_t> node_of;
    for (size_t i = 0; i < m->node_modules.size(); i++) node_of[m->node_modules[i].get()] = i;
    bool was_training = m->root->is_training();
    m->root->eval();
    m->calls.clear();
    m->record_calls = true;
    try {
        torch::NoGradGuard no_grad;
        auto x = torch::zeros({1, 3, size, size}, torch::TensorOptions().device(m->device));
        frost::run_module(*m, *m->root, x, true);
    } catch (...) {
        m->record_calls = false;
        m->calls.clear();
        m->root->train(was_training);
        throw;
    }
    m->record_calls = false;
    m->root->train(was_training);
    m->call_table.clear();
    m->call_modules.clear();
    uint64_t own = kOwnTensor;
    for (const frost::Call &c : m->calls) {
        ft_call t{};
        t.node = node_of.at(c.mod);
        t.kind = kind_of(c.kind);
        for (const auto &p : c.mod->parameters(true)) {
            t.trainable |= p.requires_grad() ? 1 : 0;
            t.params += p.numel();
        }
        t.in_elems = c.in.numel();
        t.out_elems = c.out.numel();
        auto keep = [&](int k, uint64_t id, int64_t bytes) {
            t.saved_id[k] = id;
            t.saved_bytes[k] = bytes;
        };
        switch (t.kind) {
        case FT_CALL_CONV: {
            torch::Tensor w = c.mod->parameters(false).at(0);   // [out, in/groups, kh, kw]
            t.macs = t.out_elems * (w.numel() / w.size(0));
            keep(0, id_of(c.in), t.in_elems * 4);
            break;
        }
        case FT_CALL_LINEAR: {
            torch::Tensor w = c.mod->parameters(false).at(0);   // [out, in]
            t.macs = t.out_elems * w.size(1);
            keep(0, id_of(c.in), t.in_elems * 4);
            break;
        }
        case FT_CALL_BATCHNORM: keep(0, id_of(c.in), t.in_elems * 4); break;
        case FT_CALL_RELU: keep(0, id_of(c.out), t.out_elems * 4); break;
        case FT_CALL_MAXPOOL:
            keep(0, id_of(c.in), t.in_elems * 4);
            keep(1, own++, t.out_elems * 8);
            break;
        case FT_CALL_DROPOUT: keep(0, own++, t.out_elems * 4); break;
        case FT_CALL_AVGPOOL: keep(0, id_of(c.in), t.in_elems * 4); break;
        }
        m->call_table.push_back(t);
        m->call_modules.push_back(c.mod);
    }
    m->calls.clear();   // the tensors go; the table stays
    m->call_size = size;
    *calls = m->call_table.data();
    *n = m->call_table.size();
    return nullptr;
    FT_GUARD_END
}

}   // extern "C"
