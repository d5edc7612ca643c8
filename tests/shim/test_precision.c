// test_precision.c — ft_model_set_precision (shim/fast_backbone.cpp): the folded backbone gives
// ft_model_features the exact forward's numbers, at float rounding (FAST) or bfloat16's (BF16); going
// back to FP32 is bit for bit what it was; it is refused for a backbone that trains; whatever changes
// the model sends it back to FP32. The oracle is frost's own fp32 forward (test_fidelity checks that
// one against torchvision). The BatchNorm layers get random statistics first, so the fold has
// something to fold. Small inputs (4 x 3 x 64 x 64) keep it to a few seconds.
#include <criterion/criterion.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fixtures.h"
#include "frost_torch.h"

#define N 4
#define S 64

static ft_model *frozen(const char *arch) {
    ft_model *m = NULL;
    ft_status *s = ft_model_create(arch, &m);
    cr_assert_null(s, "%s", ft_status_message(s));
    cr_assert_null(ft_model_set_trainable(m, "", 0));
    ft_model_set_mode(m, 0, 1);
    return m;
}

// A number in [lo, hi) from a 64-bit LCG.
static double uniform(uint64_t *st, double lo, double hi) {
    *st = *st * 6364136223846793005ULL + 1442695040888963407ULL;
    return lo + (hi - lo) * (double)(*st >> 11) / 9007199254740992.0;
}

static void set_uniform(ft_model *m, const char *name, uint64_t *st, double lo, double hi) {
    size_t i = fx_state_index(m, name);
    ft_tensor_info info;
    cr_assert_null(ft_model_state_info(m, i, &info));
    size_t n = info.nbytes / sizeof(float);
    float *v = malloc(info.nbytes);
    for (size_t k = 0; k < n; k++) v[k] = (float)uniform(st, lo, hi);
    cr_assert_null(ft_model_state_set(m, i, v, info.nbytes));
    free(v);
}

// Every BatchNorm gets statistics and an affine transform that are not the identity's.
static void randomize_batchnorm(ft_model *m) {
    uint64_t st = 42;
    const char suffix[] = ".running_mean";
    size_t count = ft_model_state_count(m);
    for (size_t i = 0; i < count; i++) {
        ft_tensor_info info;
        cr_assert_null(ft_model_state_info(m, i, &info));
        size_t len = strlen(info.name), sl = strlen(suffix);
        if (len < sl || strcmp(info.name + len - sl, suffix) != 0) continue;
        char prefix[256], name[300];
        snprintf(prefix, sizeof prefix, "%.*s", (int)(len - sl), info.name);
        snprintf(name, sizeof name, "%s.running_mean", prefix);
        set_uniform(m, name, &st, -0.2, 0.2);
        snprintf(name, sizeof name, "%s.running_var", prefix);
        set_uniform(m, name, &st, 0.5, 2.0);
        snprintf(name, sizeof name, "%s.weight", prefix);
        set_uniform(m, name, &st, 0.5, 1.5);
        snprintf(name, sizeof name, "%s.bias", prefix);
        set_uniform(m, name, &st, -0.2, 0.2);
    }
}

static float *input(void) {
    float *x = malloc(sizeof(float) * N * 3 * S * S);
    uint64_t st = 7;
    for (size_t i = 0; i < (size_t)N * 3 * S * S; i++) x[i] = (float)uniform(&st, -2, 2);
    return x;
}

static float *features(ft_model *m, const float *x) {
    size_t n = (size_t)N * (size_t)ft_model_feature_size(m);
    float *f = malloc(n * sizeof *f);
    ft_status *s = ft_model_features(m, x, N, 3, S, S, f, n);
    cr_assert_null(s, "%s", ft_status_message(s));
    return f;
}

// max |a - b| over max |ref|
static double rel_diff(const float *a, const float *ref, size_t n) {
    double d = 0, scale = 0;
    for (size_t i = 0; i < n; i++) {
        d = fmax(d, fabs((double)a[i] - ref[i]));
        scale = fmax(scale, fabs((double)ref[i]));
    }
    cr_assert_gt(scale, 0, "the features are all zero: the test would prove nothing");
    return d / scale;
}

static void set_precision(ft_model *m, ft_precision p) {
    ft_status *s = ft_model_set_precision(m, p);
    cr_assert_null(s, "%s", ft_status_message(s));
    cr_assert_eq(ft_model_precision(m), p);
}

// FAST within float rounding of FP32, BF16 (when the CPU has it) within bfloat16's, FP32 again exact.
static void expect_precisions(const char *arch, double bf16_tol) {
    ft_model *m = frozen(arch);
    randomize_batchnorm(m);
    float *x = input();
    size_t n = (size_t)N * (size_t)ft_model_feature_size(m);
    float *exact = features(m, x);

    set_precision(m, FT_PRECISION_FAST);
    float *fast = features(m, x);
    double d_fast = rel_diff(fast, exact, n);
    cr_log_info("%s: fast differs from fp32 by %.2g of the feature scale", arch, d_fast);
    cr_expect_leq(d_fast, 1e-4, "%s: fast is %.3g off fp32 (relative to the largest feature)", arch, d_fast);
    cr_expect_eq(ft_model_precision(m), FT_PRECISION_FAST, "nothing changed: the folded copy stays");

    if (ft_cpu_has_bf16()) {
        set_precision(m, FT_PRECISION_BF16);
        float *bf = features(m, x);
        double d_bf = rel_diff(bf, exact, n);
        cr_log_info("%s: bf16 differs from fp32 by %.2g of the feature scale", arch, d_bf);
        cr_expect_leq(d_bf, bf16_tol, "%s: bf16 is %.3g off fp32", arch, d_bf);
        free(bf);
    } else {
        cr_log_info("%s: this CPU has no bf16 instructions; bf16 not checked", arch);
    }

    set_precision(m, FT_PRECISION_FP32);
    float *again = features(m, x);
    cr_expect(memcmp(again, exact, n * sizeof *exact) == 0, "%s: fp32 after fast is not bit-identical", arch);
    free(again);
    free(fast);
    free(exact);
    free(x);
    ft_model_free(m);
}

Test(precision, resnet18_fast_and_bf16, .timeout = 60) { expect_precisions("resnet18", 3e-2); }

Test(precision, vgg11_bn_fast_and_bf16, .timeout = 60) { expect_precisions("vgg11_bn", 3e-2); }

Test(precision, refused_for_a_training_backbone) {
    ft_model *m = NULL;
    cr_assert_null(ft_model_create("resnet18", &m));   // every parameter trainable
    ft_status *s = ft_model_set_precision(m, FT_PRECISION_FAST);
    cr_expect_eq(ft_status_code(s), FT_EINVAL);
    cr_expect(strstr(ft_status_message(s), "frozen") != NULL, "%s", ft_status_message(s));
    cr_expect(!strchr(ft_status_message(s), '\n'));
    ft_status_free(s);
    cr_expect_eq(ft_model_precision(m), FT_PRECISION_FP32);

    s = ft_model_set_precision(m, (ft_precision)7);
    cr_expect_eq(ft_status_code(s), FT_EINVAL);
    ft_status_free(s);
    cr_expect_null(ft_model_set_precision(m, FT_PRECISION_FP32), "FP32 needs nothing");
    cr_expect_eq(ft_model_precision(NULL), FT_PRECISION_FP32);
    cr_expect_eq(ft_status_code(ft_model_set_precision(NULL, FT_PRECISION_FAST)), FT_EINVAL);

    // only the head trains: that is a frozen backbone
    cr_assert_null(ft_model_set_trainable(m, "", 0));
    cr_assert_null(ft_model_set_trainable(m, "fc", 1));
    set_precision(m, FT_PRECISION_FAST);
    if (!ft_cpu_has_bf16()) {
        s = ft_model_set_precision(m, FT_PRECISION_BF16);
        cr_expect_eq(ft_status_code(s), FT_EINVAL);
        cr_expect(strstr(ft_status_message(s), "bf16") != NULL, "%s", ft_status_message(s));
        ft_status_free(s);
    }
    ft_model_free(m);
}

Test(precision, changing_the_model_goes_back_to_fp32) {
    ft_model *m = frozen("resnet18");
    set_precision(m, FT_PRECISION_FAST);
    cr_assert_null(ft_model_set_trainable(m, "layer4", 1));
    cr_expect_eq(ft_model_precision(m), FT_PRECISION_FP32, "set_trainable");
    cr_assert_null(ft_model_set_trainable(m, "layer4", 0));

    set_precision(m, FT_PRECISION_FAST);
    float one = 1.0f;
    cr_assert_null(ft_model_state_set(m, fx_state_index(m, "bn1.weight"), (float[64]){one}, 64 * sizeof(float)));
    cr_expect_eq(ft_model_precision(m), FT_PRECISION_FP32, "state_set (loading weights)");

    set_precision(m, FT_PRECISION_FAST);
    cr_assert_null(ft_model_replace_head(m, 3));
    cr_expect_eq(ft_model_precision(m), FT_PRECISION_FP32, "replace_head");

    set_precision(m, FT_PRECISION_FAST);
    cr_assert_null(ft_model_to_device(m, "cpu"));
    cr_expect_eq(ft_model_precision(m), FT_PRECISION_FP32, "to_device");

    // a training-mode forward (BatchNorm with batch statistics) runs the modules and moves the running
    // statistics: the copy notices and goes
    set_precision(m, FT_PRECISION_FAST);
    ft_model_set_mode(m, 1, 0);
    float *x = input();
    free(features(m, x));
    cr_expect_eq(ft_model_precision(m), FT_PRECISION_FP32, "running statistics updated");
    free(x);
    ft_model_free(m);
}
