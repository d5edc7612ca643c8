// test_adam_fused.c — shim/adam_fused.cpp, Adam's step in one pass, against libtorch's own step: the same
// model trained twice from the same weights on the same batches, once with each step, ends with the same
// parameters, BatchNorm statistics and optimizer state (within 1e-6; on x86 they are equal to the bit), with
// weight decay and two parameter groups with different learning rates; a run may switch step kinds at any
// step (each continues the state the other made); SGD keeps libtorch's step.
#include <criterion/criterion.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "frost_torch.h"

TestSuite(adam_fused, .timeout = 60);

enum { N = 4, C = 3, S = 64, STEPS = 3 };
static const double TOL = 1e-6;

// resnet18 with a 3-class head; layer4 and the head train (layer4's BatchNorms update their statistics).
static ft_model *make_model(void) {
    ft_model *m = NULL;
    ft_status *s = ft_model_create("resnet18", &m);
    cr_assert_null(s, "%s", ft_status_message(s));
    cr_assert_null(ft_model_set_trainable(m, "", 0));
    cr_assert_null(ft_model_replace_head(m, C));
    cr_assert_null(ft_model_set_trainable(m, "layer4", 1));
    return m;
}

// A second model with the first one's weights and statistics.
static ft_model *copy_model(ft_model *a) {
    ft_model *b = make_model();
    for (size_t i = 0; i < ft_model_state_count(a); i++) {
        ft_tensor_info info;
        cr_assert_null(ft_model_state_info(a, i, &info));
        void *buf = malloc(info.nbytes);
        cr_assert_null(ft_model_state_get(a, i, buf, info.nbytes));
        cr_assert_null(ft_model_state_set(b, i, buf, info.nbytes));
        free(buf);
    }
    return b;
}

// Adam with weight decay; layer4 in a group of its own with a tenth of the head's lr.
static ft_optimizer *make_adam(ft_model *m) {
    ft_opt_params p;
    ft_opt_params_default(&p);
    p.lr = 1e-3;
    p.weight_decay = 0.01;
    ft_param_group g = {.modules = "layer4", .lr = 1e-4};
    ft_optimizer *o = NULL;
    ft_status *s = ft_optimizer_create_groups(m, &p, &g, 1, &o);
    cr_assert_null(s, "%s", ft_status_message(s));
    cr_assert_eq(ft_optimizer_group_count(o), 2);
    return o;
}

// Training steps on fixed batches, step k fused when fused[k] is 1.
static void train(ft_model *m, ft_optimizer *o, const int *fused, int steps) {
    float *x = malloc(sizeof(float) * N * 3 * S * S);
    const int64_t labels[N] = {0, 1, 2, 1};
    ft_model_set_mode(m, 1, 1);
    for (int k = 0; k < steps; k++) {
        for (int i = 0; i < N * 3 * S * S; i++) x[i] = (float)sin(0.37 * i + k) * 2.0f;
        ft_optimizer_set_fused(o, fused[k]);
        ft_step_result r;
        ft_status *s = ft_train_step(m, o, x, labels, N, 3, S, S, &r);
        cr_assert_null(s, "%s", ft_status_message(s));
    }
    free(x);
}

// Largest |a - b| over n bytes of float32 or int64 values.
static double max_diff(ft_dtype t, const void *a, const void *b, size_t nbytes) {
    double d = 0;
    if (t == FT_I64) {
        for (size_t i = 0; i < nbytes / sizeof(int64_t); i++)
            d = fmax(d, fabs((double)((const int64_t *)a)[i] - (double)((const int64_t *)b)[i]));
    } else {
        for (size_t i = 0; i < nbytes / sizeof(float); i++)
            d = fmax(d, fabs((double)((const float *)a)[i] - (double)((const float *)b)[i]));
    }
    return d;
}

// Every model state entry and every optimizer state entry of a within TOL of b's.
static void expect_same_state(ft_model *a, ft_optimizer *oa, ft_model *b, ft_optimizer *ob) {
    size_t n = ft_model_state_count(a);
    cr_assert_eq(n, ft_model_state_count(b));
    for (size_t i = 0; i < n; i++) {
        ft_tensor_info ia, ib;
        cr_assert_null(ft_model_state_info(a, i, &ia));
        cr_assert_null(ft_model_state_info(b, i, &ib));
        cr_assert_str_eq(ia.name, ib.name);
        void *va = malloc(ia.nbytes), *vb = malloc(ia.nbytes);
        cr_assert_null(ft_model_state_get(a, i, va, ia.nbytes));
        cr_assert_null(ft_model_state_get(b, i, vb, ia.nbytes));
        double d = max_diff(ia.dtype, va, vb, ia.nbytes);
        cr_expect_leq(d, TOL, "%s differs by %g", ia.name, d);
        free(va);
        free(vb);
    }
    size_t k = ft_optimizer_state_count(oa);
    cr_assert_eq(k, ft_optimizer_state_count(ob));
    cr_assert_gt(k, 0);
    for (size_t i = 0; i < k; i++) {
        ft_tensor_info ia, ib;
        cr_assert_null(ft_optimizer_state_info(oa, i, &ia));
        cr_assert_null(ft_optimizer_state_info(ob, i, &ib));
        cr_assert_str_eq(ia.name, ib.name);
        cr_assert_eq(ia.nbytes, ib.nbytes);
        void *va = malloc(ia.nbytes), *vb = malloc(ia.nbytes);
        cr_assert_null(ft_optimizer_state_get(oa, i, va, ia.nbytes));
        cr_assert_null(ft_optimizer_state_get(ob, i, vb, ia.nbytes));
        double d = max_diff(ia.dtype, va, vb, ia.nbytes);
        cr_expect_leq(d, TOL, "optimizer state %s differs by %g", ia.name, d);
        free(va);
        free(vb);
    }
}

// The first value of state entry `name` (the test's check that training moved it).
static float first_value(ft_model *m, const char *name) {
    for (size_t i = 0; i < ft_model_state_count(m); i++) {
        ft_tensor_info info;
        cr_assert_null(ft_model_state_info(m, i, &info));
        if (strcmp(info.name, name) != 0) continue;
        float *v = malloc(info.nbytes), first;
        cr_assert_null(ft_model_state_get(m, i, v, info.nbytes));
        first = v[0];
        free(v);
        return first;
    }
    cr_assert_fail("no state entry %s", name);
    return 0;
}

// Trains a copy of one model with the step kinds in `fused` and another with libtorch's step alone,
// then compares them.
static void expect_as_libtorch(const int *fused, int64_t want_fused) {
    static const int libtorch[STEPS] = {0};
    ft_model *a = make_model(), *b = copy_model(a);
    float before = first_value(a, "fc.weight"), before4 = first_value(a, "layer4.1.conv2.weight");
    ft_optimizer *oa = make_adam(a), *ob = make_adam(b);
    train(a, oa, fused, STEPS);
    train(b, ob, libtorch, STEPS);
    cr_assert_eq(ft_optimizer_fused_steps(oa), want_fused, "the fused step ran %lld times",
                 (long long)ft_optimizer_fused_steps(oa));
    cr_assert_eq(ft_optimizer_fused_steps(ob), 0);
    cr_expect_neq(first_value(a, "fc.weight"), before, "the head did not train");
    cr_expect_neq(first_value(a, "layer4.1.conv2.weight"), before4, "layer4 did not train");
    expect_same_state(a, oa, b, ob);
    ft_optimizer_free(oa);
    ft_optimizer_free(ob);
    ft_model_free(a);
    ft_model_free(b);
}

// ---------------------------------------------------------------------------------------------

Test(adam_fused, matches_libtorch) {
    static const int fused[STEPS] = {1, 1, 1};
    expect_as_libtorch(fused, STEPS);
}

// The fused step makes the state, libtorch's continues it, the fused one goes on from libtorch's.
Test(adam_fused, switching_midrun_matches_libtorch) {
    static const int fused[STEPS] = {1, 0, 1};
    expect_as_libtorch(fused, 2);
}

Test(adam_fused, sgd_keeps_libtorchs_step) {
    ft_model *m = make_model();
    ft_opt_params p;
    ft_opt_params_default(&p);
    p.kind = FT_OPT_SGD;
    ft_optimizer *o = NULL;
    cr_assert_null(ft_optimizer_create(m, &p, &o));
    static const int on[1] = {1};
    train(m, o, on, 1);
    cr_expect_eq(ft_optimizer_fused_steps(o), 0);
    cr_expect_eq(ft_optimizer_fused_steps(NULL), 0);
    ft_optimizer_set_fused(NULL, 1);   // accepted, does nothing
    ft_optimizer_free(o);
    ft_model_free(m);
}
