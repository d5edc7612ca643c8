// test_fidelity.c — frost's models against torchvision itself. The oracle
// (tests/oracle/torchvision_oracle.py, run by `make test` into $FROST_ORACLE) wrote what PyTorch
// prints, the state_dict names and shapes, the parameter counts, the summary's output shapes and
// logits for fixed weights and inputs; every test here compares frost's answer with it.
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fixtures.h"
#include "frost_torch.h"
#include "model_print.h"
#include "safetensors.h"
#include "testutil.h"
#include "weights.h"

static const char *const ARCHS[] = {"vgg11",    "vgg11_bn", "vgg13",    "vgg13_bn", "vgg16",     "vgg16_bn", "vgg19",
                                    "vgg19_bn", "resnet18", "resnet34", "resnet50", "resnet101", "resnet152"};
#define N_ARCHS (sizeof ARCHS / sizeof ARCHS[0])

// ---------------------------------------------------------------------------------------------
// helpers

static ft_model *make_model(const char *arch, long head_classes) {
    ft_model *m = NULL;
    ft_status *s = ft_model_create(arch, &m);
    cr_assert_null(s, "create %s: %s", arch, ft_status_message(s));
    if (head_classes > 0) {
        // the seed: freeze every parameter, then replace the head
        s = ft_model_set_trainable(m, "", 0);
        cr_assert_null(s, "%s", ft_status_message(s));
        s = ft_model_replace_head(m, head_classes);
        cr_assert_null(s, "%s", ft_status_message(s));
    }
    return m;
}

static const ft_node *nodes_of(ft_model *m, size_t *n) {
    const ft_node *nodes;
    ft_status *s = ft_model_nodes(m, &nodes, n);
    cr_assert_null(s, "%s", ft_status_message(s));
    return nodes;
}

static char *repr_of(ft_model *m) {
    size_t n, len;
    const ft_node *nodes = nodes_of(m, &n);
    char *text = NULL;
    FILE *f = open_memstream(&text, &len);
    model_print_repr(f, nodes, n);
    fclose(f);
    return text;
}

static int first_diff_line(const char *a, const char *b) {
    int line = 1;
    for (; *a && *a == *b; a++, b++)
        if (*a == '\n') line++;
    return line;
}

static char *oracle_text(const char *fmt, const char *arch) {
    char rel[256];
    snprintf(rel, sizeof rel, fmt, arch);
    char *text = tu_read_file(tu_oracle(rel), NULL);
    cr_assert_not_null(text, "oracle file %s missing: run make test, which writes it", tu_oracle(rel));
    return text;
}

static void expect_print(ft_model *m, const char *fmt, const char *arch) {
    char *want = oracle_text(fmt, arch);
    char *got = repr_of(m);
    cr_expect(strcmp(got, want) == 0, "print(%s) [%s] differs from torchvision's at line %d", arch, fmt,
              first_diff_line(got, want));
    free(want);
    free(got);
}

// The state_dict as the oracle writes it: "key\tDTYPE\tshape" lines.
static char *state_table(ft_model *m) {
    char *text = NULL;
    size_t len;
    FILE *f = open_memstream(&text, &len);
    for (size_t i = 0; i < ft_model_state_count(m); i++) {
        ft_tensor_info info;
        ft_status *s = ft_model_state_info(m, i, &info);
        cr_assert_null(s, "%s", ft_status_message(s));
        fprintf(f, "%s\t%s\t", info.name, info.dtype == FT_F32 ? "F32" : "I64");
        for (int d = 0; d < info.ndim; d++) fprintf(f, "%s%lld", d ? "," : "", (long long)info.shape[d]);
        fputc('\n', f);
    }
    fclose(f);
    return text;
}

static void expect_state(ft_model *m, const char *fmt, const char *arch) {
    char *want = oracle_text(fmt, arch);
    char *got = state_table(m);
    cr_expect(strcmp(got, want) == 0, "state_dict of %s [%s] differs from torchvision's at entry %d", arch, fmt,
              first_diff_line(got, want));
    free(want);
    free(got);
}

static void expect_counts(ft_model *m, const char *arch, const char *variant) {
    char *counts = tu_read_file(tu_oracle("counts.tsv"), NULL);
    cr_assert_not_null(counts);
    char key[128];
    snprintf(key, sizeof key, "%s\t%s\t", arch, variant);
    char *line = strstr(counts, key);
    cr_assert_not_null(line, "counts.tsv has no line for %s %s", arch, variant);
    long long total = 0, trainable = 0;
    cr_assert_eq(sscanf(line + strlen(key), "%lld\t%lld", &total, &trainable), 2);
    size_t n;
    const ft_node *nodes = nodes_of(m, &n);
    cr_expect_eq(nodes[0].params, total, "%s %s: %lld parameters, torchvision %lld", arch, variant,
                 (long long)nodes[0].params, total);
    cr_expect_eq(nodes[0].trainable, trainable, "%s %s: %lld trainable, torchvision %lld", arch, variant,
                 (long long)nodes[0].trainable, trainable);
    free(counts);
}

// ---------------------------------------------------------------------------------------------
// print, state_dict and parameter totals, before and after the seed's head replacement

ParameterizedTestParameters(fidelity, arch) {
    static size_t idx[N_ARCHS];
    for (size_t i = 0; i < N_ARCHS; i++) idx[i] = i;
    return cr_make_param_array(size_t, idx, N_ARCHS);
}

ParameterizedTest(size_t *i, fidelity, arch, .timeout = 120) {
    const char *arch = ARCHS[*i];
    ft_model *m = make_model(arch, 0);
    expect_print(m, "print/%s.txt", arch);
    expect_state(m, "state/%s.tsv", arch);
    expect_counts(m, arch, "plain");
    ft_status *s = ft_model_set_trainable(m, "", 0);
    cr_assert_null(s);
    s = ft_model_replace_head(m, 2);
    cr_assert_null(s, "%s", ft_status_message(s));
    expect_print(m, "print/%s_head2.txt", arch);
    expect_state(m, "state/%s_head2.tsv", arch);
    expect_counts(m, arch, "head2");
    ft_model_free(m);
}

Test(fidelity, head_with_seven_classes, .timeout = 120) {
    const char *archs[] = {"resnet18", "vgg11_bn"};
    for (int k = 0; k < 2; k++) {
        ft_model *m = make_model(archs[k], 7);
        cr_expect_eq(ft_model_num_classes(m), 7);
        expect_print(m, "print/%s_head7.txt", archs[k]);
        ft_model_free(m);
    }
}

// ---------------------------------------------------------------------------------------------
// summary: each module's output shape for a 1x3xSxS input, as forward hooks see it

static void expect_summary_shapes(const char *arch, long size) {
    char rel[128];
    snprintf(rel, sizeof rel, "summary/%s_%ld.tsv", arch, size);
    char *want = tu_read_file(tu_oracle(rel), NULL);
    cr_assert_not_null(want, "oracle file %s missing", rel);
    ft_model *m = make_model(arch, 0);
    ft_status *s = ft_model_trace(m, size);
    cr_assert_null(s, "%s", ft_status_message(s));
    size_t n;
    const ft_node *nodes = nodes_of(m, &n);
    cr_assert_eq(tu_count_lines(want), n, "%s: %zu modules, torchvision %zu", arch, n, tu_count_lines(want));
    char *line = want;
    for (size_t i = 0; i < n; i++) {
        char got[512];
        int used = snprintf(got, sizeof got, "%s\t%s\t", nodes[i].path, nodes[i].type);
        for (int d = 0; d < nodes[i].out_ndim; d++)
            used += snprintf(got + used, sizeof got - (size_t)used, "%s%lld", d ? "," : "",
                             (long long)nodes[i].out_shape[d]);
        char *end = strchr(line, '\n');
        *end = '\0';
        cr_expect_str_eq(got, line, "%s at %ld: module %zu", arch, size, i);
        line = end + 1;
    }
    ft_model_free(m);
    free(want);
}

Test(fidelity, summary_shapes_resnet18_224) { expect_summary_shapes("resnet18", 224); }
Test(fidelity, summary_shapes_resnet50_224, .timeout = 60) { expect_summary_shapes("resnet50", 224); }
Test(fidelity, summary_shapes_vgg16_224, .timeout = 60) { expect_summary_shapes("vgg16", 224); }
Test(fidelity, summary_shapes_vgg11_bn_64) { expect_summary_shapes("vgg11_bn", 64); }
Test(fidelity, summary_shapes_resnet152_64, .timeout = 60) { expect_summary_shapes("resnet152", 64); }

// ---------------------------------------------------------------------------------------------
// logits: weights and BatchNorm statistics by a formula both sides compute (fixtures.h), torchvision's
// logits for them in eval mode and, after the same seed, in train mode (dropout masks, BatchNorm on
// the batch's statistics), and the running statistics that train-mode pass leaves

// max |a - b| / max |b| over n floats.
static double rel_error(const float *a, const float *b, size_t n) {
    double diff = 0, scale = 0;
    for (size_t i = 0; i < n; i++) {
        diff = fmax(diff, fabs((double)a[i] - (double)b[i]));
        scale = fmax(scale, fabs((double)b[i]));
    }
    return scale > 0 ? diff / scale : (diff > 0 ? INFINITY : 0);
}

static void expect_logits(const char *arch) {
    char rel[128], err[1024];
    ft_model *m = make_model(arch, 0);
    fx_formula_model(m);
    snprintf(rel, sizeof rel, "fwd/%s_io.safetensors", arch);
    safet_file io;
    cr_assert_eq(safet_open(&io, tu_oracle(rel), err, sizeof err), 0, "%s", err);
    const safet_tensor *in = safet_find(&io, "input"), *eval = safet_find(&io, "logits"),
                       *train = safet_find(&io, "logits_train");
    cr_assert(in && eval && train && in->ndim == 4, "%s: input, logits, logits_train", rel);
    // the input: the formula too (a check of the two formulas against each other)
    float *x = malloc(in->nbytes), *y = malloc(eval->nbytes);
    fx_formula_fill(x, in->shape, 4, 100000, FX_INPUT);
    cr_assert_eq(memcmp(x, in->data, in->nbytes), 0, "%s: the formula's input differs from the oracle's", arch);
    size_t n_out = eval->nbytes / sizeof(float);

    ft_model_set_training(m, 0);
    ft_status *s = ft_model_forward(m, x, in->shape[0], in->shape[1], in->shape[2], in->shape[3], y, n_out);
    cr_assert_null(s, "%s", ft_status_message(s));
    double e = rel_error(y, eval->data, n_out);
    cr_expect_lt(e, 1e-5, "%s: eval-mode logits differ from torchvision's (relative %g)", arch, e);

    ft_manual_seed(7);
    ft_model_set_mode(m, 1, 0);   // PyTorch's train(): every BatchNorm on batch statistics
    s = ft_model_forward(m, x, in->shape[0], in->shape[1], in->shape[2], in->shape[3], y, n_out);
    cr_assert_null(s, "%s", ft_status_message(s));
    double et = rel_error(y, train->data, n_out);
    cr_expect_lt(et, 1e-5, "%s: train-mode logits differ from torchvision's (relative %g)", arch, et);

    // the running statistics after it, entry by entry
    size_t stats = 0;
    double es = 0;
    for (size_t k = 0; k < ft_model_state_count(m); k++) {
        ft_tensor_info t;
        cr_assert_null(ft_model_state_info(m, k, &t));
        char key[512];
        snprintf(key, sizeof key, "after.%s", t.name);
        const safet_tensor *want = safet_find(&io, key);
        if (!want) continue;
        cr_assert_eq(want->nbytes, t.nbytes, "%s", key);
        float *v = malloc(t.nbytes);
        cr_assert_null(ft_model_state_get(m, k, v, t.nbytes));
        es = fmax(es, rel_error(v, want->data, t.nbytes / sizeof(float)));
        free(v);
        stats++;
    }
    cr_expect_eq(stats, io.n_tensors - 3, "%s: every running statistic compared", arch);
    cr_expect_lt(es, 1e-5, "%s: running statistics after the train-mode pass differ (relative %g)", arch, es);
    cr_log_info("%s: relative differences from torchvision: eval %.2g, train %.2g, statistics %.2g", arch, e, et, es);
    free(x);
    free(y);
    safet_close(&io);
    ft_model_free(m);
}

Test(fidelity, logits_vgg11, .timeout = 60) { expect_logits("vgg11"); }
Test(fidelity, logits_vgg11_bn, .timeout = 60) { expect_logits("vgg11_bn"); }
Test(fidelity, logits_vgg13, .timeout = 60) { expect_logits("vgg13"); }
Test(fidelity, logits_vgg13_bn, .timeout = 60) { expect_logits("vgg13_bn"); }
Test(fidelity, logits_vgg16, .timeout = 60) { expect_logits("vgg16"); }
Test(fidelity, logits_vgg16_bn, .timeout = 60) { expect_logits("vgg16_bn"); }
Test(fidelity, logits_vgg19, .timeout = 60) { expect_logits("vgg19"); }
Test(fidelity, logits_vgg19_bn, .timeout = 60) { expect_logits("vgg19_bn"); }
Test(fidelity, logits_resnet18) { expect_logits("resnet18"); }
Test(fidelity, logits_resnet34) { expect_logits("resnet34"); }
Test(fidelity, logits_resnet50, .timeout = 60) { expect_logits("resnet50"); }
Test(fidelity, logits_resnet101, .timeout = 60) { expect_logits("resnet101"); }
Test(fidelity, logits_resnet152, .timeout = 60) { expect_logits("resnet152"); }
