// torch_compat.hpp — the one place that knows which libtorch the shim is built against: the C++ API
// differences between libtorch 1.13 (Debian 12), 2.6 (Debian 13) and the PyTorch 2.x a CUDA build
// uses, each behind a small helper so the rest of the shim reads the same on all of them. No other
// file tests TORCH_VERSION_*.
//
// Kept apart from shim_internal.hpp (which includes it) because cpu_allocator.cpp needs the allocator
// part alone: with torch/nn.h it would take ~45 s to compile instead of ~2.
//
// What changed, and where the shim meets it:
//   - Optimizer::state() is keyed by the parameter's TensorImpl address since 2.2 (PyTorch #108480),
//     by that address written out as a string before, and c10::guts::to_string went with it:
//     optim_state_key (adam_fused.cpp, train_api.cpp).
//   - torch::nn options hold std::variant since 2.2, c10::variant (its own type, with c10::get_if)
//     before: option_if (fast_backbone.cpp, module_info.cpp).
//   - Optimizer::zero_grad() sets gradients to undefined by default since 2.0, where 1.13 zeroed them in
//     place: zero_grad keeps 1.13's behaviour on both (train_api.cpp).
//   - c10::Allocator::allocate is no longer const since 2.3 (PyTorch #120969), and copy_data is a pure
//     virtual there: CpuAllocatorBase (cpu_allocator.cpp).
// Built and tested against 1.13 and 2.6; the thresholds in between come from PyTorch's history.
#pragma once

#include <c10/core/Allocator.h>
#include <torch/version.h>

#include <cstddef>
#include <variant>

#define FT_TORCH_AT_LEAST(major, minor) \
    (TORCH_VERSION_MAJOR > (major) || (TORCH_VERSION_MAJOR == (major) && TORCH_VERSION_MINOR >= (minor)))

#if !FT_TORCH_AT_LEAST(2, 2)
#include <c10/util/C++17.h>   // c10::guts::to_string
#include <c10/util/variant.h>
#endif

namespace frost {

// The key libtorch's optimizers file a parameter's state under in Optimizer::state(), for a tensor p
// (a template only so that this header needs no tensor headers).
template <class Tensor> auto optim_state_key(const Tensor &p) {
#if FT_TORCH_AT_LEAST(2, 2)
    return static_cast<void *>(p.unsafeGetTensorImpl());
#else
    return c10::guts::to_string(p.unsafeGetTensorImpl());
#endif
}

// The alternative T of an option held as a variant (a convolution's padding, its padding mode), or
// nullptr when the option holds another.
template <class T, class... Ts> const T *option_if(const std::variant<Ts...> &v) { return std::get_if<T>(&v); }
#if !FT_TORCH_AT_LEAST(2, 2)
template <class T, class... Ts> const T *option_if(const c10::variant<Ts...> &v) { return c10::get_if<T>(&v); }
#endif

// Zeroes the gradients of an optimizer's parameters in place, as 1.13's zero_grad() does (2.x's default
// drops them instead, so a parameter that gets no gradient in a step would skip the step).
template <class Optimizer> void zero_grad(Optimizer &opt) {
#if FT_TORCH_AT_LEAST(2, 0)
    opt.zero_grad(/*set_to_none=*/false);
#else
    opt.zero_grad();
#endif
}

// c10::Allocator with the members the libtorch at hand declares pure virtual filled in, for an
// allocator Impl that defines
//     c10::DataPtr allocate_block(size_t n) const;
// allocate forwards to it; copy_data (what Allocator::clone copies with) is a plain memcpy, as in
// libtorch's own CPU allocator.
template <class Impl> struct CpuAllocatorBase : c10::Allocator {
#if FT_TORCH_AT_LEAST(2, 3)
    c10::DataPtr allocate(size_t n) override { return static_cast<const Impl *>(this)->allocate_block(n); }
    void copy_data(void *dest, const void *src, std::size_t count) const override {
        default_copy_data(dest, src, count);
    }
#else
    c10::DataPtr allocate(size_t n) const override { return static_cast<const Impl *>(this)->allocate_block(n); }
#endif
};

}   // namespace frost
