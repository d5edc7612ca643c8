// test_print.c — `frost print` as a user runs it: the seed's printed networks reproduced byte for byte,
// weights loaded (into the backbone with --classes), and bad weight files answered in one line.
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

// frost print ARGS equals torchvision's print of the same model (the oracle's print/ORACLE.txt, made by
// python3-torchvision here) and, when ../shared is here, the seed's printed block too.
static void expect_seed_print(int nth_vgg_or_resnet, const char *first, const char *oracle, const char *const *args) {
    tu_run_result r;
    tu_run_frost(&r, args);
    cr_assert_eq(r.status, 0, "stderr: %s", r.err);
    char rel[256];
    snprintf(rel, sizeof rel, "print/%s.txt", oracle);
    char *torchvision = tu_read_file(tu_oracle(rel), NULL);
    cr_assert_not_null(torchvision, "no %s", tu_oracle(rel));
    cr_expect_str_eq(r.out, torchvision, "not what torchvision prints (%s)", rel);
    free(torchvision);
    const char *path = tu_shared("seed/000_242abea8521abdbb.txt");
    if (!path) {
        cr_log_info("../shared is absent: compared with torchvision's print only, not with the seed's");
    } else {
        char *seed = tu_read_file(path, NULL);
        cr_assert_not_null(seed, "cannot read %s", path);
        char *want = seed_block(seed, first, nth_vgg_or_resnet);
        cr_assert_not_null(want, "no block %d starting '%s' in the seed", nth_vgg_or_resnet, first);
        cr_expect_str_eq(r.out, want, "not what the seed printed");
        free(want);
        free(seed);
    }
    tu_run_free(&r);
}

Test(cli_print, print_vgg16_is_the_seeds) {
    expect_seed_print(0, "VGG(", "vgg16", (const char *[]){"print", "vgg16", NULL});
}

Test(cli_print, print_vgg16_head_is_the_seeds) {
    expect_seed_print(1, "VGG(", "vgg16_head2", (const char *[]){"print", "vgg16", "--classes", "2", NULL});
}

Test(cli_print, print_resnet50_is_the_seeds) {
    expect_seed_print(0, "ResNet(", "resnet50", (const char *[]){"print", "resnet50", NULL});
}

Test(cli_print, bad_weights_files) {
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

    tu_expect_one_line_error((const char *[]){"print", "resnet18", "--weights", trunc, NULL}, 1,
                             "truncated.safetensors");
    tu_expect_one_line_error((const char *[]){"print", "resnet18", "--weights", text, NULL}, 1,
                             "not a safetensors file");
    tu_expect_one_line_error((const char *[]){"print", "resnet50", "--weights", good, NULL}, 1,
                             "does not fit resnet50");
    // with --classes the file's head may differ (it is left out, with a note); the rest must fit
    tu_expect_one_line_error((const char *[]){"print", "resnet34", "--classes", "2", "--weights", good, NULL}, 1,
                             "does not fit resnet34");
    tu_expect_one_line_error((const char *[]){"summary", "resnet18", "--weights", other, NULL}, 1,
                             "missing.safetensors");
    tu_rmtree(dir);
    free(dir);
}

// ImageNet weights (a 1000-class head) with --classes: the backbone loads, the new head stays, a note says so
Test(cli_print, print_with_classes_loads_imagenet_weights_into_the_backbone, .timeout = 120) {
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
