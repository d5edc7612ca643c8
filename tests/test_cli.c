// test_cli.c — the frost binary as a user runs it: the seed's printed networks reproduced byte for
// byte, the summary's totals, and bad arguments answered with one line on stderr and a non-zero
// exit, never a crash or a C++ backtrace.
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "frost_torch.h"
#include "testutil.h"
#include "weights.h"

// The n-th block of the seed that starts with a line `first` and ends at the next line ")".
static char *seed_block(const char *seed, const char *first, int nth) {
    size_t flen = strlen(first);
    const char *p = seed;
    for (int k = 0; p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
        if (strncmp(p, first, flen) == 0 && p[flen] == '\n' && k++ == nth) {
            const char *end = strstr(p, "\n)\n");
            if (!end) return NULL;
            return strndup(p, (size_t)(end - p) + 3);
        }
    }
    return NULL;
}

static void expect_seed_print(int nth_vgg_or_resnet, const char *first, const char *const *args) {
    const char *path = tu_shared("seed/000_242abea8521abdbb.txt");
    if (!path) cr_skip_test("../shared is absent: cannot compare with the seed's printed networks");
    char *seed = tu_read_file(path, NULL);
    cr_assert_not_null(seed, "cannot read %s", path);
    char *want = seed_block(seed, first, nth_vgg_or_resnet);
    cr_assert_not_null(want, "no block %d starting '%s' in the seed", nth_vgg_or_resnet, first);
    tu_run_result r;
    tu_run_frost(&r, args);
    cr_assert_eq(r.status, 0, "stderr: %s", r.err);
    cr_expect_str_eq(r.out, want);
    tu_run_free(&r);
    free(want);
    free(seed);
}

Test(cli, print_vgg16_is_the_seeds) { expect_seed_print(0, "VGG(", (const char *[]){"print", "vgg16", NULL}); }

Test(cli, print_vgg16_head_is_the_seeds) {
    expect_seed_print(1, "VGG(", (const char *[]){"print", "vgg16", "--classes", "2", NULL});
}

Test(cli, print_resnet50_is_the_seeds) { expect_seed_print(0, "ResNet(", (const char *[]){"print", "resnet50", NULL}); }

Test(cli, summary_totals_equal_torchvision) {
    tu_run_result r;
    tu_run_frost(&r, (const char *[]){"summary", "resnet50", "--classes", "2", "--size", "64", NULL});
    cr_assert_eq(r.status, 0, "stderr: %s", r.err);
    // torchvision: sum(p.numel()) 23,512,130; trainable (the new fc) 4,098
    cr_expect(strstr(r.out, "Total params: 23,512,130\n") != NULL, "%s", r.out);
    cr_expect(strstr(r.out, "Trainable params: 4,098\n") != NULL);
    cr_expect(strstr(r.out, "Non-trainable params: 23,508,032\n") != NULL);
    cr_expect(strstr(r.out, "(fc) Linear") != NULL);
    cr_expect(strstr(r.out, "[1, 2048, 2, 2]") != NULL, "layer4's output at 64x64");
    tu_run_free(&r);
}

Test(cli, help) {
    tu_run_result r;
    tu_run_frost(&r, (const char *[]){"--help", NULL});
    cr_expect_eq(r.status, 0);
    cr_expect(strstr(r.out, "print ARCH") && strstr(r.out, "resnet152"));
    tu_run_free(&r);
}

// ---------------------------------------------------------------------------------------------
// bad input: one line on stderr, the given exit status, nothing on stdout, no backtrace

static void expect_one_line_error(const char *const *args, int status, const char *word) {
    tu_run_result r;
    tu_run_frost(&r, args);
    cr_expect_eq(r.status, status, "exit %d (want %d) for %s %s: %s", r.status, status, args[0], args[1] ? args[1] : "",
                 r.err);
    cr_expect_eq(tu_count_lines(r.err), 1, "one line on stderr, got: %s", r.err);
    cr_expect(strstr(r.err, word) != NULL, "stderr lacks '%s': %s", word, r.err);
    cr_expect(strstr(r.err, "terminate") == NULL && strstr(r.err, "frame #") == NULL &&
                  strstr(r.err, "Exception raised") == NULL,
              "no C++ backtrace: %s", r.err);
    cr_expect_str_eq(r.out, "");
    tu_run_free(&r);
}

Test(cli, bad_arguments) {
    expect_one_line_error((const char *[]){"print", "vgg17", NULL}, 2, "unknown architecture 'vgg17'");
    expect_one_line_error((const char *[]){"print", "vgg16", "--classes", "0", NULL}, 2, "--classes");
    expect_one_line_error((const char *[]){"print", "vgg16", "--classes", "two", NULL}, 2, "--classes");
    expect_one_line_error((const char *[]){"print", "vgg16", "--classes", NULL}, 2, "--classes");
    expect_one_line_error((const char *[]){"print", NULL}, 2, "which architecture");
    expect_one_line_error((const char *[]){"print", "vgg16", "--colour", NULL}, 2, "unknown option '--colour'");
    expect_one_line_error((const char *[]){"print", "vgg16", "resnet50", NULL}, 2, "unexpected argument");
    expect_one_line_error((const char *[]){"summary", "resnet18", "--size", "7", NULL}, 2, "--size");
    expect_one_line_error((const char *[]){"frobnicate", NULL}, 2, "unknown command");
}

Test(cli, bad_weights_files) {
    char *dir = tu_tmpdir();
    char good[512], trunc[512], text[512], other[512];
    snprintf(good, sizeof good, "%s/resnet18.safetensors", dir);
    snprintf(trunc, sizeof trunc, "%s/truncated.safetensors", dir);
    snprintf(text, sizeof text, "%s/notes.safetensors", dir);
    snprintf(other, sizeof other, "%s/missing.safetensors", dir);
    ft_model *m = NULL;
    cr_assert_null(ft_model_create("resnet18", &m));
    char err[1024];
    cr_assert_eq(weights_save(m, good, err, sizeof err), 0, "%s", err);
    ft_model_free(m);
    size_t len;
    char *bytes = tu_read_file(good, &len);
    cr_assert_eq(tu_write_file(trunc, bytes, len - 100), 0);
    cr_assert_eq(tu_write_file(text, "just some text\n", 15), 0);
    free(bytes);

    tu_run_result r;
    tu_run_frost(&r, (const char *[]){"print", "resnet18", "--weights", good, NULL});
    cr_expect_eq(r.status, 0, "the right weights load: %s", r.err);
    tu_run_free(&r);

    expect_one_line_error((const char *[]){"print", "resnet18", "--weights", trunc, NULL}, 1, "truncated.safetensors");
    expect_one_line_error((const char *[]){"print", "resnet18", "--weights", text, NULL}, 1, "not a safetensors file");
    expect_one_line_error((const char *[]){"print", "resnet50", "--weights", good, NULL}, 1, "does not fit resnet50");
    // with --classes the file's head may differ (it is left out, with a note); the rest must fit
    expect_one_line_error((const char *[]){"print", "resnet34", "--classes", "2", "--weights", good, NULL}, 1,
                          "does not fit resnet34");
    expect_one_line_error((const char *[]){"summary", "resnet18", "--weights", other, NULL}, 1, "missing.safetensors");
    tu_rmtree(dir);
    free(dir);
}

// --profile says where the time went; its parts add up to no more than the run
Test(cli, train_profile_and_bench_forward, .timeout = 300) {
    tu_run_result r;
    tu_run_frost(&r, (const char *[]){"train", "sample_data", "--arch", "resnet18", "--epochs", "2", "--size", "32",
                                      "--profile", NULL});
    cr_assert_eq(r.status, 0, "%s", r.err);
    cr_expect(strstr(r.out, "threads: ") != NULL, "the thread split is in the log:\n%s", r.out);
    const char *p = strstr(r.out, "profile: where the ");
    cr_assert_not_null(p, "%s", r.out);
    double wall = 0, sum = 0, backbone = -1;
    cr_assert_eq(sscanf(p, "profile: where the %lf s", &wall), 1);
    const char *parts[] = {"waiting for batches", "backbone (cache fill)", "forward ", "backward", "optimizer",
                           "copies (feature cache)", "events (UI, log)", "model build, other"};
    for (size_t k = 0; k < sizeof parts / sizeof parts[0]; k++) {
        const char *q = strstr(p, parts[k]);
        cr_assert_not_null(q, "profile line '%s' missing:\n%s", parts[k], p);
        double v = -1;
        cr_assert_eq(sscanf(q + strlen(parts[k]), " %lf", &v), 1, "%s", q);
        cr_expect_geq(v, 0);
        if (k == 1) backbone = v;
        sum += v;
    }
    cr_expect_leq(sum, wall * 1.01 + 0.01, "the parts (%.3f s) fit in the run (%.3f s)", sum, wall);
    cr_expect(strstr(r.out, "feature cache on") != NULL, "%s", r.out);
    cr_expect_gt(backbone, 0, "with the cache on, the backbone's time is counted:\n%s", p);
    tu_run_free(&r);

    tu_run_frost(&r, (const char *[]){"bench-forward", "resnet18", "--images", "8", "--size", "32", "--batch", "4", NULL});
    cr_assert_eq(r.status, 0, "%s", r.err);
    cr_expect(strstr(r.out, "resnet18 backbone forward: 8 images in ") != NULL, "%s", r.out);
    tu_run_free(&r);
    tu_run_frost(&r, (const char *[]){"bench-forward", "resnet18", "--data", "sample_data", "--images", "6", "--size",
                                      "32", "--batch", "4", NULL});
    cr_assert_eq(r.status, 0, "%s", r.err);
    cr_expect(strstr(r.out, ": 6 images in ") && strstr(r.out, "the dataset's images"), "%s", r.out);
    tu_run_free(&r);
    tu_run_frost(&r, (const char *[]){"bench-forward", "resnet18", "--images", "zero", NULL});
    cr_expect_eq(r.status, 2);
    cr_expect(strstr(r.err, "--images") != NULL, "%s", r.err);
    tu_run_free(&r);
}

// ImageNet weights (a 1000-class head) with --classes: the backbone loads, the new head stays, a note says so
Test(cli, print_with_classes_loads_imagenet_weights_into_the_backbone, .timeout = 120) {
    tu_run_result r;
    const char *w = tu_oracle("wf/resnet18.pth");
    tu_run_frost(&r, (const char *[]){"print", "resnet18", "--classes", "3", "--weights", w, NULL});
    cr_assert_eq(r.status, 0, "%s", r.err);
    cr_expect(strstr(r.out, "(fc): Linear(in_features=512, out_features=3, bias=True)") != NULL, "%s", r.out);
    cr_expect(strstr(r.err, "note:") && strstr(r.err, "fc keeps its new 3-class head"), "%s", r.err);
    tu_run_free(&r);
    // without --classes the file must fit whole, and does
    tu_run_frost(&r, (const char *[]){"print", "resnet18", "--weights", w, NULL});
    cr_expect_eq(r.status, 0, "%s", r.err);
    cr_expect_eq(r.err[0], '\0', "%s", r.err);
    tu_run_free(&r);
}
