// test_weights_check.c — `frost weights check FILE`: the format, the architecture the names suggest,
// and every key that does not fit, on files torchvision and timm wrote.
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checkpoint.h"
#include "fixtures.h"
#include "frost_torch.h"
#include "safetensors.h"
#include "testutil.h"
#include "transfer.h"
#include "weights.h"

static void check_cli(const char *file, const char *arch_opt, int want_status, const char *want_out,
                      const char *want_out2) {
    tu_run_result r;
    const char *args_arch[] = {"weights", "check", fx_weight_file(file), "--arch", arch_opt, NULL};
    const char *args[] = {"weights", "check", fx_weight_file(file), NULL};
    tu_run_frost(&r, arch_opt ? args_arch : args);
    cr_expect_eq(r.status, want_status, "%s: exit %d\n%s%s", file, r.status, r.out, r.err);
    cr_expect(strstr(r.out, want_out) != NULL, "%s: no '%s' in\n%s%s", file, want_out, r.out, r.err);
    if (want_out2) cr_expect(strstr(r.out, want_out2) != NULL, "%s: no '%s' in\n%s", file, want_out2, r.out);
    tu_run_free(&r);
}

Test(cli_weights_check, check_names_format_and_fit, .timeout = 300) {
    check_cli("resnet18.pth", NULL, 0, "format:   torch.save zip", "fits resnet18");
    check_cli("resnet18_legacy.pth", NULL, 0, "format:   legacy torch.save", "fits resnet18");
    check_cli("resnet18_timm.safetensors", NULL, 0, "safetensors, torchvision layout", "fits resnet18");
    check_cli("vgg11_timm.safetensors", NULL, 0, "safetensors, timm layout", "fits vgg11");
}

Test(cli_weights_check, check_lists_what_does_not_fit, .timeout = 120) {
    check_cli("resnet18_head2.pth", NULL, 1, "mismatched  fc.weight: file [2, 512], model [1000, 512]",
              "only the head (fc) differs");
    check_cli("resnet18.pth", "resnet34", 1, "missing     layer1.2.conv1.weight", "does not fit resnet34");
    tu_run_result r;
    const char *args[] = {"weights", "check", fx_weight_file("evil.pth"), NULL};
    tu_run_frost(&r, args);
    cr_expect_eq(r.status, 1);
    cr_expect(strstr(r.err, "refuses global os.system") != NULL, "%s", r.err);
    tu_run_free(&r);
    const char *args2[] = {"weights", "check", fx_weight_file("tiny.pth"), NULL};
    tu_run_frost(&r, args2);
    cr_expect_eq(r.status, 1);
    cr_expect(strstr(r.err, "fits no architecture") != NULL, "%s", r.err);
    tu_run_free(&r);
    const char *args3[] = {"weights", "check", NULL};
    tu_run_frost(&r, args3);
    cr_expect_eq(r.status, 2, "no file is a usage error");
    tu_run_free(&r);
}

// A frost checkpoint is checked against the model it was saved from: its architecture with the
// tutorial's head for its classes (not torchvision's 1000-class model, which it never fits).
Test(cli_weights_check, a_checkpoint_fits_its_own_model, .timeout = 120) {
    char *dir = tu_tmpdir(), path[1024];
    snprintf(path, sizeof path, "%s/three.safetensors", dir);
    ft_model *m = NULL;
    char err[512];
    transfer_spec spec = {.arch = "resnet18", .classes = 3};
    cr_assert_eq(transfer_build(&spec, &m, NULL, 0, err, sizeof err), 0, "%s", err);
    checkpoint_meta meta;
    static char *names[] = {"a", "b", "c"};
    fx_meta_for(&meta, names, 3);
    fx_save_checkpoint(path, m, NULL, &meta);
    ft_model_free(m);

    tu_run_result r;
    tu_run_frost(&r, (const char *[]){"weights", "check", path, NULL});
    cr_expect_eq(r.status, 0, "%s%s", r.out, r.err);
    cr_expect(strstr(r.out, "frost:    a checkpoint of resnet18 for 3 classes\n") &&
                  strstr(r.out, "checked:  resnet18 (3 classes, the tutorial's head)\n") &&
                  strstr(r.out, "fits resnet18\n"),
              "%s", r.out);
    tu_run_free(&r);
    // --arch another: its 1000-class model, which it does not fit
    tu_run_frost(&r, (const char *[]){"weights", "check", path, "--arch", "resnet34", NULL});
    cr_expect_eq(r.status, 1, "%s%s", r.out, r.err);
    cr_expect(strstr(r.out, "checked:  resnet34 (1000 classes)") && strstr(r.out, "does not fit resnet34"), "%s",
              r.out);
    tu_run_free(&r);
    tu_rmtree(dir);
    free(dir);
}
