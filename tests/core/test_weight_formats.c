// test_weight_formats.c — weight files as torch.save and timm write them, loaded into frost's
// models: torch.save zip, legacy torch.save (without num_batches_tracked, like torchvision's old
// files) and timm-layout safetensors of a resnet18, and a timm-layout vgg11 (its classifier stored as
// convolutions), each giving torchvision's logits for the oracle's input
// (tests/oracle/weight_formats_oracle.py). Then the head rules, refusals, and `frost weights check`.
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fixtures.h"
#include "frost_torch.h"
#include "safetensors.h"
#include "testutil.h"
#include "weights.h"

static ft_model *make(const char *arch) {
    ft_model *m = NULL;
    ft_status *s = ft_model_create(arch, &m);
    cr_assert_null(s, "create %s: %s", arch, ft_status_message(s));
    return m;
}

static void expect_loads_and_matches(const char *arch, const char *file, const char *io_name) {
    char err[1024];
    ft_model *m = make(arch);
    cr_assert_eq(weights_load(m, fx_weight_file(file), err, sizeof err), 0, "%s", err);
    double e = tu_logits_rel_error(m, fx_weight_file(io_name), err, sizeof err);
    cr_assert_geq(e, 0.0, "%s", err);
    cr_expect_lt(e, 1e-4, "%s in %s: logits differ from torchvision's (relative %g)", file, arch, e);
    ft_model_free(m);
}

// ---------------------------------------------------------------------------------------------
// every format gives torchvision's logits

Test(weight_formats, resnet18_torch_save_zip, .timeout = 120) {
    expect_loads_and_matches("resnet18", "resnet18.pth", "resnet18_io.safetensors");
}

Test(weight_formats, resnet18_legacy_torch_save, .timeout = 120) {
    expect_loads_and_matches("resnet18", "resnet18_legacy.pth", "resnet18_io.safetensors");
}

Test(weight_formats, resnet18_timm_safetensors, .timeout = 120) {
    expect_loads_and_matches("resnet18", "resnet18_timm.safetensors", "resnet18_io.safetensors");
}

Test(weight_formats, vgg11_timm_safetensors, .timeout = 300) {
    expect_loads_and_matches("vgg11", "vgg11_timm.safetensors", "vgg11_io.safetensors");
}

Test(weight_formats, files_name_their_format_and_architecture, .timeout = 120) {
    static const struct {
        const char *file, *format, *arch;
        int timm;
    } CASES[] = {
        {"resnet18.pth", "torch.save zip", "resnet18", 0},
        {"resnet18_legacy.pth", "legacy torch.save", "resnet18", 0},
        {"resnet18_timm.safetensors", "safetensors, torchvision layout", "resnet18", 0},
        {"vgg11_timm.safetensors", "safetensors, timm layout", "vgg11", 1},
    };
    for (size_t k = 0; k < sizeof CASES / sizeof CASES[0]; k++) {
        weights_file w;
        char err[512];
        cr_assert_eq(weights_file_open(&w, fx_weight_file(CASES[k].file), err, sizeof err), 0, "%s", err);
        cr_expect_str_eq(weights_format_name(&w), CASES[k].format);
        cr_expect_eq(w.timm_layout, CASES[k].timm, "%s", CASES[k].file);
        const char *guess = weights_guess_arch(&w);
        cr_expect(guess && strcmp(guess, CASES[k].arch) == 0, "%s: guessed %s", CASES[k].file,
                  guess ? guess : "nothing");
        weights_file_close(&w);
    }
}

Test(weight_formats, timm_vgg_classifier_is_reshaped_to_linear, .timeout = 120) {
    weights_file w;
    char err[512];
    cr_assert_eq(weights_file_open(&w, fx_weight_file("vgg11_timm.safetensors"), err, sizeof err), 0, "%s", err);
    int seen = 0;
    for (size_t i = 0; i < w.n_tensors; i++) {
        const safet_tensor *t = &w.tensors[i];
        cr_expect(strncmp(t->name, "pre_logits.", 11) != 0 && strncmp(t->name, "head.", 5) != 0, "%s kept", t->name);
        if (strcmp(t->name, "classifier.0.weight") == 0) {
            cr_expect(t->ndim == 2 && t->shape[0] == 4096 && t->shape[1] == 25088);
            seen++;
        } else if (strcmp(t->name, "classifier.3.weight") == 0) {
            cr_expect(t->ndim == 2 && t->shape[0] == 4096 && t->shape[1] == 4096);
            seen++;
        } else if (strcmp(t->name, "classifier.6.weight") == 0) {
            cr_expect(t->ndim == 2 && t->shape[0] == 1000 && t->shape[1] == 4096);
            seen++;
        }
    }
    cr_expect_eq(seen, 3);
    weights_file_close(&w);
}

// ---------------------------------------------------------------------------------------------
// the head, and refusals

static unsigned char *entry_bytes(ft_model *m, const char *name, size_t *len) {
    for (size_t i = 0; i < ft_model_state_count(m); i++) {
        ft_tensor_info info;
        cr_assert_null(ft_model_state_info(m, i, &info));
        if (strcmp(info.name, name) != 0) continue;
        unsigned char *b = malloc(info.nbytes);
        cr_assert_null(ft_model_state_get(m, i, b, info.nbytes));
        *len = info.nbytes;
        return b;
    }
    cr_assert_fail("no %s in the model", name);
    return NULL;
}

Test(weight_formats, other_head_is_refused_with_the_keys_listed, .timeout = 120) {
    char err[1024] = "";
    ft_model *m = make("resnet18");
    size_t before_len, after_len;
    unsigned char *before = entry_bytes(m, "conv1.weight", &before_len);
    cr_expect_eq(weights_load(m, fx_weight_file("resnet18_head2.pth"), err, sizeof err), -1);
    cr_expect(strstr(err, "2 mismatched") && strstr(err, "fc.weight: file [2, 512], model [1000, 512]") &&
                  strstr(err, "fc.bias"),
              "%s", err);
    unsigned char *after = entry_bytes(m, "conv1.weight", &after_len);
    cr_expect(before_len == after_len && memcmp(before, after, before_len) == 0, "a refused file changed the model");
    free(before);
    free(after);
    ft_model_free(m);
}

Test(weight_formats, backbone_load_keeps_a_replaced_head_and_says_so, .timeout = 120) {
    char err[1024] = "", note[512] = "";
    ft_model *m = make("resnet18");
    cr_assert_null(ft_model_replace_head(m, 2));
    size_t head_len, len2, conv_len;
    unsigned char *head = entry_bytes(m, "fc.weight", &head_len);
    cr_assert_eq(weights_load_backbone(m, fx_weight_file("resnet18.pth"), note, sizeof note, err, sizeof err), 0, "%s",
                 err);
    cr_expect(strstr(note, "fc.weight") && strstr(note, "2-class"), "note: %s", note);
    unsigned char *head2 = entry_bytes(m, "fc.weight", &len2);
    cr_expect(head_len == len2 && memcmp(head, head2, head_len) == 0, "the new head was overwritten");
    // the backbone is the file's: compare one tensor with the reader's
    unsigned char *conv = entry_bytes(m, "layer4.1.conv2.weight", &conv_len);
    weights_file w;
    cr_assert_eq(weights_file_open(&w, fx_weight_file("resnet18.pth"), err, sizeof err), 0, "%s", err);
    int found = 0;
    for (size_t i = 0; i < w.n_tensors; i++)
        if (strcmp(w.tensors[i].name, "layer4.1.conv2.weight") == 0) {
            found = 1;
            cr_expect(w.tensors[i].nbytes == conv_len && memcmp(w.tensors[i].data, conv, conv_len) == 0);
        }
    cr_expect(found);
    weights_file_close(&w);
    // a file that differs outside the head is still refused
    cr_expect_eq(weights_load_backbone(m, fx_weight_file("vgg11_timm.safetensors"), note, sizeof note, err, sizeof err),
                 -1);
    cr_expect(strstr(err, "does not fit resnet18") != NULL, "%s", err);
    free(head);
    free(head2);
    free(conv);
    ft_model_free(m);
}

Test(weight_formats, a_whole_head_file_loads_into_the_same_head, .timeout = 120) {
    char err[1024] = "", note[512] = "x";
    ft_model *m = make("resnet18");
    cr_assert_null(ft_model_replace_head(m, 2));
    cr_expect_eq(weights_load_backbone(m, fx_weight_file("resnet18_head2.pth"), note, sizeof note, err, sizeof err), 0,
                 "%s", err);
    cr_expect_str_eq(note, "", "nothing was dropped");
    ft_model_free(m);
}

Test(weight_formats, hostile_and_foreign_files_are_refused, .timeout = 120) {
    char err[1024] = "";
    ft_model *m = make("resnet18");
    cr_expect_eq(weights_load(m, fx_weight_file("evil.pth"), err, sizeof err), -1);
    cr_expect(strstr(err, "refuses global os.system") != NULL, "%s", err);
    cr_expect_eq(weights_load(m, fx_weight_file("tiny.pth"), err, sizeof err), -1);
    cr_expect(strstr(err, "does not fit resnet18") && strstr(err, "unexpected: a, b, c"), "%s", err);
    ft_model_free(m);
}

// ---------------------------------------------------------------------------------------------
// frost weights check
