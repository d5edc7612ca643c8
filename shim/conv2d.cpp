// conv2d.cpp — the shim's 2-d convolution: torch::conv2d, except for a 1x1 convolution with a stride on
// a CPU where oneDNN computes that one wrong.
//
// Why: oneDNN 3.x (libtorch 2.x's CPU convolutions: Debian 13's 3.6) sizes its x64 kernels' blocking
// from the caches CPUID describes, and on an AMD CPU it reads them from leaf 0x8000001D alone. Some
// hypervisors leave that leaf empty (this project's 2-core AMD EPYC machines do), and every cache then
// counts one byte. A 1x1 convolution with stride 2 (a ResNet's downsample) then comes out wrong in
// channels_last (ResNet-18's layer4, 0.47 of its scale; SIGFPE from 512 channels up), and in NCHW its
// backward pass for the input divides by zero from 512 input channels up (ResNet-50 training layer3 or
// deeper; 448 and fewer, all of ResNet-18's and -34's, come out right); NCHW's forward pass and its
// gradient for the weight alone are right. PyTorch itself does the same there. Debian 12's oneDNN 2.7
// reads no such leaf and is right. On such a CPU, where the result would be wrong that convolution runs
// as what it is: a 1x1 convolution of stride 1 over every stride-th pixel, which oneDNN gets right; the
// subsampled copy is a quarter of the input. Elsewhere nothing changes, so frost's numbers stay bit for
// bit PyTorch's there (the python oracles' training of a ResNet-18, every NCHW forward pass).
//
// FROST_CONV (tests, benchmarks) forces the choice: "subsample" (wherever oneDNN 3.x would be wrong, on
// any CPU), "onednn" (never: torch::conv2d as it is), "reference" (never, and oneDNN off altogether:
// libtorch's own im2col and GEMM kernels, forward and backward; tests/shim/test_conv2d.c's oracle, slow).
#include "shim_internal.hpp"

#include <ATen/Context.h>

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <dlfcn.h>
#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif

namespace frost {
namespace {

// The oneDNN libtorch runs on, major version (0: none found). Its C API is in the process as a
// dependency of libtorch_cpu; not linked by name, since a libtorch may come without it.
int onednn_major() {
    struct version {
        int major, minor, patch;
        const char *hash;
        unsigned cpu_runtime, gpu_runtime;
    };
    auto fn = reinterpret_cast<const version *(*)()>(dlsym(RTLD_DEFAULT, "dnnl_version"));
    const version *v = fn ? fn() : nullptr;
    return v ? v->major : 0;
}

// An AMD CPU whose CPUID leaf 0x8000001D (cache topology) describes no cache.
bool amd_without_cache_leaf() {
#if defined(__x86_64__) || defined(__i386__)
    unsigned a, b, c, d;
    if (!__get_cpuid(0, &a, &b, &c, &d)) return false;
    if (!(b == 0x68747541 && d == 0x69746e65 && c == 0x444d4163)) return false;   // "AuthenticAMD"
    __cpuid_count(0x8000001D, 0, a, b, c, d);
    return (a & 0x1f) == 0;   // cache type of its first entry: 0, no cache
#else
    return false;
#endif
}

enum class Mode { automatic, subsample, onednn, reference };

// FROST_CONV's choice, read at each call (a test compares them in one process); oneDNN switched off
// for "reference" and on again after it (the switch is libtorch's, global: it holds for the backward
// pass too, run later).
Mode mode() {
    static std::atomic<bool> switched_off{false};
    const char *env = std::getenv("FROST_CONV");
    Mode m = !env                                 ? Mode::automatic
             : std::strcmp(env, "subsample") == 0 ? Mode::subsample
             : std::strcmp(env, "onednn") == 0    ? Mode::onednn
             : std::strcmp(env, "reference") == 0 ? Mode::reference
                                                  : Mode::automatic;
    bool off = m == Mode::reference;
    if (switched_off.exchange(off) != off) at::globalContext().setUserEnabledMkldnn(!off);
    return m;
}

bool subsample_strided_1x1() {
    static const bool needed = onednn_major() >= 3 && amd_without_cache_leaf();
    switch (mode()) {
    case Mode::subsample: return true;
    case Mode::onednn:
    case Mode::reference: return false;
    case Mode::automatic: break;
    }
    return needed;
}

}   // namespace

torch::Tensor conv2d(const torch::Tensor &x, const torch::Tensor &w, const torch::Tensor &b, torch::IntArrayRef stride,
                     torch::IntArrayRef padding, torch::IntArrayRef dilation, int64_t groups) {
    bool strided_1x1 = w.dim() == 4 && w.size(2) == 1 && w.size(3) == 1 && stride.size() == 2 &&
                       (stride[0] > 1 || stride[1] > 1) && padding.size() == 2 && padding[0] == 0 && padding[1] == 0;
    bool wrong_there = x.suggest_memory_format() == torch::MemoryFormat::ChannelsLast ||
                       w.suggest_memory_format() == torch::MemoryFormat::ChannelsLast ||
                       (x.requires_grad() && torch::GradMode::is_enabled() && x.size(1) > 448);
    if (!subsample_strided_1x1() || !strided_1x1 || !wrong_there)
        return torch::conv2d(x, w, b, stride, padding, dilation, groups);
    using torch::indexing::Slice;
    torch::Tensor every = x.index(
        {Slice(), Slice(), Slice(0, torch::indexing::None, stride[0]), Slice(0, torch::indexing::None, stride[1])});
    const int64_t one[2] = {1, 1}, zero[2] = {0, 0};
    return torch::conv2d(every, w, b, one, zero, one, groups);
}

torch::Tensor conv2d(torch::nn::Conv2dImpl &conv, const torch::Tensor &x) {
    const auto &o = conv.options;
    const auto *padding = option_if<torch::ExpandingArray<2>>(o.padding());
    if (!padding || !option_if<torch::enumtype::kZeros>(o.padding_mode())) return conv.forward(x);
    return conv2d(x, conv.weight, conv.bias, *o.stride(), **padding, *o.dilation(), o.groups());
}

}   // namespace frost
