// test_class_weights.c — the loss with class weights is PyTorch's CrossEntropyLoss(weight=w): frost's
// train and eval steps on a batch give the loss python3-torch computes from the same logits, labels
// and weights (within 1e-6), for weights given and for "auto" (inverse frequency); none is the plain
// loss; bad weights are refused.
#include <criterion/criterion.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "class_weights.h"
#include "frost_torch.h"
#include "testutil.h"
#include "transfer.h"

static char *dir;
static void setup(void) { dir = tu_tmpdir(); }
static void teardown(void) {
    tu_rmtree(dir);
    free(dir);
}
TestSuite(class_weights, .init = setup, .fini = teardown, .timeout = 120);

enum { N = 6, C = 3, S = 32 };

// PyTorch's loss for the logits and labels with weights w (NULL: none).
static double torch_loss(const float *logits, const int64_t *labels, const float *w) {
    json_t *o = json_object(), *rows = json_array(), *ls = json_array();
    for (int i = 0; i < N; i++) {
        json_t *row = json_array();
        for (int c = 0; c < C; c++) json_array_append_new(row, json_real(logits[i * C + c]));
        json_array_append_new(rows, row);
        json_array_append_new(ls, json_integer(labels[i]));
    }
    json_object_set_new(o, "logits", rows);
    json_object_set_new(o, "labels", ls);
    json_t *wj = json_null();
    if (w) {
        wj = json_array();
        for (int c = 0; c < C; c++) json_array_append_new(wj, json_real(w[c]));
    }
    json_object_set_new(o, "weight", wj);
    char in[1100], cmd[2400];
    snprintf(in, sizeof in, "%s/in.json", dir);
    cr_assert_eq(json_dump_file(o, in, JSON_REAL_PRECISION(17)), 0);
    json_decref(o);
    snprintf(cmd, sizeof cmd, "/usr/bin/python3 tests/oracle/live/cross_entropy.py '%s'", in);
    FILE *p = popen(cmd, "r");
    cr_assert_not_null(p);
    double loss = NAN;
    cr_assert_eq(fscanf(p, "%lf", &loss), 1, "the PyTorch oracle printed no loss (needs python3-torch)");
    cr_assert_eq(pclose(p), 0);
    return loss;
}

static void check(const char *spec) {
    ft_model *m = NULL;
    char err[1024];
    transfer_spec ts = {.arch = "resnet18", .classes = C};
    cr_assert_eq(transfer_build(&ts, &m, NULL, 0, err, sizeof err), 0, "%s", err);
    ft_model_set_mode(m, 0, 1);
    float *x = malloc(sizeof(float) * N * 3 * S * S), logits[N * C];
    for (int i = 0; i < N * 3 * S * S; i++) x[i] = (float)sin(0.37 * i) * 2.0f;
    const int64_t labels[N] = {0, 0, 0, 1, 2, 0};   // class 0 four times: auto weighs it least
    cr_assert_null(ft_model_forward(m, x, N, 3, S, S, logits, N * C));
    const size_t counts[C] = {4, 1, 1};
    float w[C];
    int has = class_weights_resolve(spec, counts, C, w, err, sizeof err);
    cr_assert_geq(has, 0, "%s", err);
    if (has) cr_assert_null(ft_model_set_class_weights(m, w, C));
    double want = torch_loss(logits, labels, has ? w : NULL);

    ft_step_result r;
    cr_assert_null(ft_eval_step(m, x, labels, N, 3, S, S, &r));
    cr_expect_leq(fabs(r.loss - want), 1e-6 * fabs(want), "%s: eval loss %.9g, PyTorch %.9g", spec, r.loss, want);
    // a training step reports the loss before its update, the same one
    ft_optimizer *o = NULL;
    ft_opt_params p;
    ft_opt_params_default(&p);
    cr_assert_null(ft_optimizer_create(m, &p, &o));
    ft_model_set_mode(m, 1, 1);
    cr_assert_null(ft_train_step(m, o, x, labels, N, 3, S, S, &r));
    cr_expect_leq(fabs(r.loss - want), 1e-6 * fabs(want), "%s: train loss %.9g, PyTorch %.9g", spec, r.loss, want);
    ft_optimizer_free(o);
    ft_model_free(m);
    free(x);
}

Test(class_weights, given_weights_match_pytorch) { check("2,0.5,1"); }
Test(class_weights, auto_weights_match_pytorch) { check("auto"); }
Test(class_weights, none_is_the_plain_loss) { check("none"); }

Test(class_weights, auto_is_inverse_frequency) {
    const size_t counts[3] = {30, 10, 0};
    float w[3];
    char err[256];
    cr_assert_eq(class_weights_resolve("auto", counts, 3, w, err, sizeof err), 1);
    cr_expect_float_eq(w[0], 40.0f / (3 * 30), 1e-6);
    cr_expect_float_eq(w[1], 40.0f / (3 * 10), 1e-6);
    cr_expect_eq(w[2], 0.0f, "a class with no images never meets the loss");
}

Test(class_weights, bad_weights_are_refused) {
    const size_t counts[2] = {3, 3};
    float w[2];
    char err[256];
    cr_expect_eq(class_weights_resolve("1", counts, 2, w, err, sizeof err), -1);
    cr_expect(strstr(err, "1 class weights for 2 classes"), "%s", err);
    cr_expect_eq(class_weights_resolve("0,0", counts, 2, w, err, sizeof err), -1);
    cr_expect_eq(class_weights_resolve("-1,2", counts, 2, w, err, sizeof err), -1);
    cr_expect_eq(class_weights_resolve("1,", counts, 2, w, err, sizeof err), -1);
    ft_model *m = NULL;
    transfer_spec ts = {.arch = "resnet18", .classes = 2};
    cr_assert_eq(transfer_build(&ts, &m, NULL, 0, err, sizeof err), 0, "%s", err);
    const float three[3] = {1, 1, 1}, nan2[2] = {NAN, 1};
    ft_status *s = ft_model_set_class_weights(m, three, 3);
    cr_expect_not_null(s);
    ft_status_free(s);
    s = ft_model_set_class_weights(m, nan2, 2);
    cr_expect_not_null(s);
    ft_status_free(s);
    ft_model_free(m);
}
