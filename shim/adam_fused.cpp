// adam_fused.cpp — libtorch's Adam step done as one pass over memory per parameter, in parallel.
//
// Why our own: libtorch 1.13's torch::optim::Adam::step runs mul_, add_, mul_, addcmul_, sqrt, div,
// add_ and addcdiv_ one after the other, each a full pass over the parameter (and three of them
// allocate a temporary as big as it). Over VGG16's 120M-value head that is ~8 passes over 480 MB
// per step: 15 s of a 98 s epoch on the 2-core machine. libtorch 1.13 has no fused CPU Adam
// (`_fused_adam` came in later PyTorch releases, and for CUDA only), so this file reads each value
// of parameter, gradient and both moments once, does the whole update in registers, and writes
// them back once.
//
// What stays libtorch's: the state. Each parameter's torch::optim::AdamParamState lives in
// opt.state() under libtorch's key, is created lazily as Adam::step creates it (step 0, zeroed
// moments), and holds the same step count and moments, so checkpoints, resume and the optimizer
// state export do not know which step ran, and a run may switch between the two at any step.
// The arithmetic is Adam::step's, in the same order: scalar coefficients in double, then rounded
// to float as ATen rounds a Scalar, element math in float, and a multiply-add rounded once where
// ATen's vectorised kernels fuse it (FMA). On x86 the results are libtorch's to the bit; elsewhere
// they may differ in the last bit.
//
// Limits: float32 contiguous CPU parameters, gradients and moments, no amsgrad; anything else is
// refused before any state changes (the caller then runs libtorch's step). The parallel loop is
// TensorIterator's: at::parallel_for is a header template whose OpenMP body compiles only in files
// built with -fopenmp, which the shim is not, so called from here it would run on one thread.
#include "shim_internal.hpp"

#include <ATen/TensorIterator.h>
#include <torch/optim/adam.h>

#include <cmath>
#include <cstdlib>
#include <cstring>
#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

namespace {

// One parameter's coefficients for this step, rounded to float where ATen rounds them.
struct Coeffs {
    float beta1, one_minus_beta1;   // exp_avg.mul_(beta1).add_(grad, 1 - beta1)
    float beta2, one_minus_beta2;   // exp_avg_sq.mul_(beta2).addcmul_(grad, grad, 1 - beta2)
    float weight_decay;             // grad.add(p, weight_decay), when not 0
    float sqrt_bc2, eps;            // denom = (exp_avg_sq.sqrt() / sqrt(bias_correction2)).add_(eps)
    float neg_step;                 // p.addcdiv_(exp_avg, denom, -lr / bias_correction1)
    bool decay;
};

// a * b + c as libtorch's CPU kernels compute it: rounded once on x86 CPUs with AVX2 and FMA, where
// ATen runs its AVX2 / AVX-512 kernels (Vectorized fmadd), twice in its default kernels.
template <bool kFused> inline float madd(float a, float b, float c) {
    if constexpr (kFused)
        return __builtin_fmaf(a, b, c);
    else
        return a * b + c;
}

// The update of n consecutive values; each line is one of Adam::step's tensor operations, with
// ATen's rounding.
template <bool kFused>
inline __attribute__((always_inline)) void adam_body(float *__restrict p, const float *__restrict g,
                                                     float *__restrict m, float *__restrict v, int64_t n,
                                                     const Coeffs &c) {
    for (int64_t i = 0; i < n; i++) {
        float grad = c.decay ? madd<kFused>(p[i], c.weight_decay, g[i]) : g[i];    // grad.add(p, wd)
        float mi = madd<kFused>(grad, c.one_minus_beta1, m[i] * c.beta1);          // mul_, add_
        float vi = madd<kFused>(c.one_minus_beta2 * grad, grad, v[i] * c.beta2);   // mul_, addcmul_
        float denom = std::sqrt(vi) / c.sqrt_bc2 + c.eps;                          // sqrt, div, add_
        p[i] = p[i] + c.neg_step * mi / denom;                                     // addcdiv_
        m[i] = mi;
        v[i] = vi;
    }
}

using ValuesFn = void (*)(float *, const float *, float *, float *, int64_t, const Coeffs &);

void adam_values_plain(float *p, const float *g, float *m, float *v, int64_t n, const Coeffs &c) {
    adam_body<false>(p, g, m, v, n, c);
}

#if defined(__x86_64__) || defined(__i386__)
// adam_body<true> eight values at a time, written out in AVX2: the compiler leaves the loop scalar
// (std::sqrt may set errno), which made the step compute-bound at a third of the memory bandwidth.
// Each operation is IEEE-rounded as the scalar one (and ATen's Vectorized kernels) rounds it, in the
// same order, so the results are the same bit for bit; the tail goes through adam_body.
__attribute__((target("avx2,fma"))) void adam_values_fma(float *p, const float *g, float *m, float *v, int64_t n,
                                                         const Coeffs &c) {
    const __m256 wd = _mm256_set1_ps(c.weight_decay), b1 = _mm256_set1_ps(c.beta1),
                 omb1 = _mm256_set1_ps(c.one_minus_beta1), b2 = _mm256_set1_ps(c.beta2),
                 omb2 = _mm256_set1_ps(c.one_minus_beta2), sbc2 = _mm256_set1_ps(c.sqrt_bc2),
                 eps = _mm256_set1_ps(c.eps), neg_step = _mm256_set1_ps(c.neg_step);
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256 pi = _mm256_loadu_ps(p + i), grad = _mm256_loadu_ps(g + i);
        if (c.decay) grad = _mm256_fmadd_ps(pi, wd, grad);
        __m256 mi = _mm256_fmadd_ps(grad, omb1, _mm256_mul_ps(_mm256_loadu_ps(m + i), b1));
        __m256 vi = _mm256_fmadd_ps(_mm256_mul_ps(omb2, grad), grad, _mm256_mul_ps(_mm256_loadu_ps(v + i), b2));
        __m256 denom = _mm256_add_ps(_mm256_div_ps(_mm256_sqrt_ps(vi), sbc2), eps);
        _mm256_storeu_ps(p + i, _mm256_add_ps(pi, _mm256_div_ps(_mm256_mul_ps(neg_step, mi), denom)));
        _mm256_storeu_ps(m + i, mi);
        _mm256_storeu_ps(v + i, vi);
    }
    adam_body<true>(p + i, g + i, m + i, v + i, n - i, c);
}
#endif

// The variant that rounds as libtorch's kernels do here: ATen picks AVX2 or AVX-512 kernels when the
// CPU has AVX2 and FMA, unless ATEN_CPU_CAPABILITY=default says otherwise.
ValuesFn pick_values() {
#if defined(__x86_64__) || defined(__i386__)
    const char *cap = std::getenv("ATEN_CPU_CAPABILITY");
    bool aten_default = cap && std::strcmp(cap, "default") == 0;
    if (!aten_default && __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return adam_values_fma;
#endif
    return adam_values_plain;
}

bool plain_float(const torch::Tensor &t) {
    return t.defined() && t.device().is_cpu() && t.layout() == torch::kStrided && t.scalar_type() == torch::kFloat32 &&
           t.is_contiguous();
}

// Whether every parameter that will be stepped (those with a gradient) is one adam_values handles,
// along with its gradient and whatever state it has already.
bool fusable(torch::optim::Adam &opt) {
    auto &state = opt.state();
    for (auto &group : opt.param_groups()) {
        auto &options = static_cast<torch::optim::AdamOptions &>(group.options());
        for (auto &p : group.params()) {
            const auto &grad = p.grad();
            if (!grad.defined()) continue;
            if (options.amsgrad() || !plain_float(p) || !plain_float(grad) || grad.sizes() != p.sizes()) return false;
            auto it = state.find(frost::optim_state_key(p));
            if (it == state.end()) continue;
            auto &s = static_cast<torch::optim::AdamParamState &>(*it->second);
            if (!plain_float(s.exp_avg()) || !plain_float(s.exp_avg_sq()) || s.exp_avg().sizes() != p.sizes() ||
                s.exp_avg_sq().sizes() != p.sizes())
                return false;
        }
    }
    return true;
}

// One parameter's step, split across libtorch's intra-op threads in pieces of at least
// at::internal::GRAIN_SIZE (32K) values.
void step_param(torch::Tensor &p, const torch::Tensor &grad, torch::optim::AdamParamState &s, const Coeffs &c) {
    auto iter = at::TensorIteratorConfig()
                    .add_output(p)
                    .add_output(s.exp_avg())
                    .add_output(s.exp_avg_sq())
                    .add_input(grad)
                    .resize_outputs(false)
                    .build();
    static const ValuesFn adam_values = pick_values();
    // The 2-d form of the loop (rows of n values; contiguous tensors coalesce to one row): the 1-d
    // form's adapter in TensorIterator.h trips GCC 14's -Wmaybe-uninitialized.
    constexpr int kTensors = 4;   // p, exp_avg, exp_avg_sq (outputs), grad
    iter.for_each([&c](char **base, const int64_t *strides, int64_t n, int64_t rows) {
        const int64_t f = sizeof(float);
        const bool unit = strides[0] == f && strides[1] == f && strides[2] == f && strides[3] == f;
        for (int64_t r = 0; r < rows; r++) {
            char *data[kTensors];
            for (int k = 0; k < kTensors; k++) data[k] = base[k] + r * strides[kTensors + k];
            if (unit) {
                adam_values(reinterpret_cast<float *>(data[0]), reinterpret_cast<const float *>(data[3]),
                            reinterpret_cast<float *>(data[1]), reinterpret_cast<float *>(data[2]), n, c);
                continue;
            }
            for (int64_t i = 0; i < n; i++)   // (contiguous tensors coalesce to unit strides: not expected)
                adam_values(reinterpret_cast<float *>(data[0] + i * strides[0]),
                            reinterpret_cast<const float *>(data[3] + i * strides[3]),
                            reinterpret_cast<float *>(data[1] + i * strides[1]),
                            reinterpret_cast<float *>(data[2] + i * strides[2]), 1, c);
        }
    });
    // in-place operations count as writes to autograd, as libtorch's would
    p.unsafeGetTensorImpl()->bump_version();
    s.exp_avg().unsafeGetTensorImpl()->bump_version();
    s.exp_avg_sq().unsafeGetTensorImpl()->bump_version();
}

}   // namespace

namespace frost {

bool adam_fused_default() {
    static const bool on = [] {
        const char *env = std::getenv("FROST_ADAM_FUSED");
        return !(env && std::strcmp(env, "0") == 0);
    }();
    return on;
}

bool adam_fused_step(torch::optim::Adam &opt) {
    torch::NoGradGuard no_grad;
    if (!fusable(opt)) return false;
    auto &state = opt.state();
    for (auto &group : opt.param_groups()) {
        auto &options = static_cast<torch::optim::AdamOptions &>(group.options());
        for (auto &p : group.params()) {
            const auto &grad = p.grad();
            if (!grad.defined()) continue;
            auto key = optim_state_key(p);
            auto it = state.find(key);
            if (it == state.end()) {   // as Adam::step creates it
                auto s = std::make_unique<torch::optim::AdamParamState>();
                s->step(0);
                s->exp_avg(torch::zeros_like(p, torch::MemoryFormat::Preserve));
                s->exp_avg_sq(torch::zeros_like(p, torch::MemoryFormat::Preserve));
                state[key] = std::move(s);
                it = state.find(key);
            }
            auto &s = static_cast<torch::optim::AdamParamState &>(*it->second);
            s.step(s.step() + 1);
            double beta1 = std::get<0>(options.betas()), beta2 = std::get<1>(options.betas());
            double bias_correction1 = 1 - std::pow(beta1, s.step());
            double bias_correction2 = 1 - std::pow(beta2, s.step());
            Coeffs c;
            c.beta1 = static_cast<float>(beta1);
            c.one_minus_beta1 = static_cast<float>(1 - beta1);
            c.beta2 = static_cast<float>(beta2);
            c.one_minus_beta2 = static_cast<float>(1 - beta2);
            c.decay = options.weight_decay() != 0;
            c.weight_decay = static_cast<float>(options.weight_decay());
            c.sqrt_bc2 = static_cast<float>(std::sqrt(bias_correction2));
            c.eps = static_cast<float>(options.eps());
            c.neg_step = static_cast<float>(-(options.lr() / bias_correction1));
            step_param(p, grad, s, c);
        }
    }
    return true;
}

}   // namespace frost
