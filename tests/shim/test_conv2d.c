// test_conv2d.c — shim/conv2d.cpp, every convolution frost's models run, against libtorch's own
// reference kernels: the same model, weights and input with oneDNN switched off (FROST_CONV=reference:
// libtorch's im2col and GEMM convolution, forward and backward, which no oneDNN release touches). On a
// ResNet-18 (three strided 1x1 downsample convolutions): the module forward's logits and one SGD step of
// every layer (NCHW, forward and backward), the fast backbone's features (channels_last, forward: it
// never trains) and a Grad-CAM map at layer1 (the gradient back through every downsample). Within float
// rounding of the reference.
//
// frost's side runs as FROST_CONV says when the test starts (unset: as users run it). On a CPU where
// oneDNN 3.x gets the strided 1x1 convolution wrong (shim/conv2d.cpp says which), FROST_CONV=onednn, the
// convolution without the workaround, fails fast_backbone_channels_last (0.5 of the feature scale apart).
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "fixtures.h"
#include "frost_torch.h"

enum { N = 2, S = 64, CLASSES = 3 };

static char frost_mode[32];   // FROST_CONV as the test found it ("" for unset)

static void save_mode(void) {
    const char *env = getenv("FROST_CONV");
    strncpy(frost_mode, env ? env : "", sizeof frost_mode - 1);
}

// Runs what follows as frost (reference 0) or as the oracle (reference 1).
static void as_reference(int reference) {
    if (reference)
        cr_assert_eq(setenv("FROST_CONV", "reference", 1), 0);
    else if (frost_mode[0])
        cr_assert_eq(setenv("FROST_CONV", frost_mode, 1), 0);
    else
        cr_assert_eq(unsetenv("FROST_CONV"), 0);
}

TestSuite(conv2d, .init = save_mode, .timeout = 120);

static ft_model *formula_resnet18(void) {
    ft_model *m = fx_model("resnet18", CLASSES);
    fx_formula_model(m);
    return m;
}

static float *formula_input(int64_t n) {
    float *x = malloc(sizeof(float) * (size_t)n * 3 * S * S);
    int64_t shape[4] = {n, 3, S, S};
    fx_formula_fill(x, shape, 4, 100000, FX_INPUT);
    return x;
}

// max |a - ref| over max |ref|, asserted within tol
static void expect_close(const char *what, const float *a, const float *ref, size_t n, double tol) {
    double d = 0, scale = 0;
    for (size_t i = 0; i < n; i++) {
        d = fmax(d, fabs((double)a[i] - ref[i]));
        scale = fmax(scale, fabs((double)ref[i]));
    }
    cr_assert_gt(scale, 0, "%s: all zero, the comparison would prove nothing", what);
    cr_log_info("%s: %.2g of the reference's scale apart", what, d / scale);
    cr_expect_leq(d, tol * scale, "%s: %.3g apart, the reference's largest %.3g", what, d, scale);
}

// The eval logits for the formula batch, then the state after one SGD step of every layer on it.
static unsigned char *logits_and_step(int reference, float *logits) {
    as_reference(reference);
    ft_model *m = formula_resnet18();
    cr_assert_null(ft_model_set_trainable(m, "", 1));
    float *x = formula_input(N);
    ft_model_set_training(m, 0);
    ft_status *s = ft_model_forward(m, x, N, 3, S, S, logits, N * CLASSES);
    cr_assert_null(s, "%s", ft_status_message(s));

    ft_opt_params p;
    ft_opt_params_default(&p);
    p.kind = FT_OPT_SGD;
    p.lr = 0.1;
    p.momentum = 0;
    ft_optimizer *o = NULL;
    cr_assert_null(ft_optimizer_create(m, &p, &o));
    ft_model_set_mode(m, 1, 1);
    const int64_t labels[N] = {0, 2};
    ft_step_result r;
    s = ft_train_step(m, o, x, labels, N, 3, S, S, &r);
    cr_assert_null(s, "%s", ft_status_message(s));
    size_t len;
    unsigned char *state = fx_state_bytes(m, &len);
    ft_optimizer_free(o);
    ft_model_free(m);
    free(x);
    return state;
}

Test(conv2d, module_forward_and_training_step_nchw) {
    float frost[N * CLASSES], ref[N * CLASSES];
    unsigned char *a = logits_and_step(0, frost), *b = logits_and_step(1, ref);
    expect_close("logits", frost, ref, N * CLASSES, 1e-5);

    // entry by entry, what the step changed (the gradient times the lr; the running statistics' move),
    // relative to the largest change in that entry
    ft_model *m = formula_resnet18();
    size_t len;
    unsigned char *before = fx_state_bytes(m, &len);
    size_t off = 0, compared = 0;
    double worst_all = 0;
    for (size_t i = 0; i < ft_model_state_count(m); i++) {
        ft_tensor_info info;
        cr_assert_null(ft_model_state_info(m, i, &info));
        if (info.dtype == FT_F32) {
            const float *fa = (const float *)(a + off), *fb = (const float *)(b + off),
                        *f0 = (const float *)(before + off);
            double worst = 0, big = 0;
            for (size_t j = 0; j < info.nbytes / sizeof(float); j++) {
                worst = fmax(worst, fabs((double)fa[j] - fb[j]));
                big = fmax(big, fabs((double)fb[j] - f0[j]));
            }
            cr_expect_leq(worst, 3e-4 * big + 1e-12, "%s: the step's changes %.3g apart (largest %.3g)", info.name,
                          worst, big);
            if (big > 0) worst_all = fmax(worst_all, worst / big);
            compared += big > 0;
        }
        off += info.nbytes;
    }
    cr_log_info("the step's changes: at most %.2g apart, relative to the largest in their entry", worst_all);
    cr_expect_gt(compared, 100, "every layer compared");
    ft_model_free(m);
    free(before);
    free(a);
    free(b);
}

// The frozen backbone's features in FT_PRECISION_FAST (channels_last, BatchNorm folded).
static float *fast_features(int reference, size_t *n) {
    as_reference(reference);
    ft_model *m = formula_resnet18();
    cr_assert_null(ft_model_set_trainable(m, "", 0));
    ft_model_set_mode(m, 0, 1);
    ft_status *s = ft_model_set_precision(m, FT_PRECISION_FAST);
    cr_assert_null(s, "%s", ft_status_message(s));
    float *x = formula_input(N);
    *n = (size_t)N * (size_t)ft_model_feature_size(m);
    float *f = malloc(*n * sizeof *f);
    s = ft_model_features(m, x, N, 3, S, S, f, *n);
    cr_assert_null(s, "%s", ft_status_message(s));
    ft_model_free(m);
    free(x);
    return f;
}

Test(conv2d, fast_backbone_channels_last) {
    size_t n, n_ref;
    float *frost = fast_features(0, &n), *ref = fast_features(1, &n_ref);
    cr_assert_eq(n, n_ref);
    expect_close("fast features", frost, ref, n, 1e-4);
    free(frost);
    free(ref);
}

// Grad-CAM at layer1 for class 1: its gradient goes back through every downsample.
static float *gradcam_map(int reference, int64_t *h, int64_t *w) {
    as_reference(reference);
    ft_model *m = formula_resnet18();
    float *x = formula_input(1), *map = malloc(sizeof(float) * S * S), logits[CLASSES];
    int64_t used = -1;
    ft_status *s = ft_model_gradcam(m, x, S, "layer1", 1, map, S * S, h, w, &used, logits);
    cr_assert_null(s, "%s", ft_status_message(s));
    cr_assert_eq(used, 1);
    ft_model_free(m);
    free(x);
    return map;
}

Test(conv2d, gradcam_backward_nchw) {
    int64_t h, w, h_ref, w_ref;
    float *frost = gradcam_map(0, &h, &w), *ref = gradcam_map(1, &h_ref, &w_ref);
    cr_assert(h == h_ref && w == w_ref && h * w > 1);
    expect_close("Grad-CAM map", frost, ref, (size_t)(h * w), 1e-4);
    free(frost);
    free(ref);
}
